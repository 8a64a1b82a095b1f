/* Internals of the TOML reader: the table tree and TOML's rules on where a
 * [header], [[header]] or dotted key lands and what counts as a redefinition.
 * toml.c reads the syntax and calls these; nothing else should. */
#pragma once

#include <stdarg.h>

#include "toml.h"

/* One part of a possibly dotted key (a."b c".d), with where it is written. */
typedef struct {
        char *key;
        guint line;
        guint column;
} NetisoTomlKey;

/* A GArray of NetisoTomlKey that frees the keys with it. */
GArray *netiso_toml_keys_new(void);

/* The parts first..n-1 as a user would write them: a."b c".d */
char *netiso_toml_keys_to_string(const GArray *keys, guint first, guint n);

NetisoTomlValue *netiso_toml_root_new(void);

/* [keys] (or [[keys]] when array) written at line:column: returns the table
 * the following key/value lines fill, owned by root. */
gboolean netiso_toml_tree_open(NetisoTomlValue *root, const char *filename, const GArray *keys,
                               gboolean array, guint line, guint column,
                               NetisoTomlValue **ret_table, GError **error);

/* keys = value in table (named table_name in messages, NULL for the root).
 * Takes ownership of value, also on failure. */
gboolean netiso_toml_tree_add(NetisoTomlValue *table, const char *filename, const char *table_name,
                              const GArray *keys, NetisoTomlValue *value, GError **error);

void netiso_toml_set_error_va(GError **error, const char *filename, guint line, guint column,
                              const char *format, va_list args) G_GNUC_PRINTF(5, 0);

/* TRUE for bytes TOML refuses unescaped (all C0 controls but tab, and DEL). */
gboolean netiso_toml_is_control(guchar c);
