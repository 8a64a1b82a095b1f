/* The TOML reader's tree of values, each with where it was written, and
 * TOML's rules on where headers and dotted keys land (toml.c builds it). */
#pragma once

#include <glib.h>
#include <stdarg.h>

/* Bigger inputs are refused before parsing: a configuration file is a few KiB. */
#define NETISO_TOML_MAX_SIZE (1024 * 1024)

typedef enum {
        NETISO_TOML_STRING,
        NETISO_TOML_INTEGER,
        NETISO_TOML_FLOAT, /* parsed so other Blixard tables can hold one */
        NETISO_TOML_BOOLEAN,
        NETISO_TOML_ARRAY,
        NETISO_TOML_TABLE,
        _NETISO_TOML_TYPE_MAX,
} NetisoTomlType;

typedef struct NetisoTomlTable NetisoTomlTable;

typedef struct {
        NetisoTomlType type;
        guint line;   /* 1-based; for a table, where its header is */
        guint column; /* 1-based, in characters */
        union {
                char *string; /* valid UTF-8, never contains NUL */
                gint64 integer;
                double floating;
                gboolean boolean;
                GPtrArray *array; /* of NetisoTomlValue*; types may be mixed */
                NetisoTomlTable *table;
        };
        gboolean array_of_tables; /* an array made by [[...]] headers */
} NetisoTomlValue;

/* One key of a table, in document order. */
typedef struct {
        char *key;
        guint line; /* where the key is written */
        guint column;
        NetisoTomlValue *value;
} NetisoTomlEntry;

void netiso_toml_value_free(NetisoTomlValue *value);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NetisoTomlValue, netiso_toml_value_free)

/* Entries of a table value, in the order they were first written. */
guint netiso_toml_table_size(const NetisoTomlValue *table);
const NetisoTomlEntry *netiso_toml_table_nth(const NetisoTomlValue *table, guint index);
const NetisoTomlEntry *netiso_toml_table_lookup(const NetisoTomlValue *table, const char *key);

/* "a string", "an integer", ...: for "expected X, got Y" messages. */
const char *netiso_toml_type_describe(NetisoTomlType type);

/* Set a NETISO_ERROR_CONFIG error "FILE:LINE:COL: message". Control characters
 * in the message are escaped so that it always stays on one line. */
void netiso_toml_set_error(GError **error, const char *filename, guint line, guint column,
                           const char *format, ...) G_GNUC_PRINTF(5, 6);

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
