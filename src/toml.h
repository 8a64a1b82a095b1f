/* A small strict reader for the subset of TOML the Blixard configuration
 * file uses, into a tree of values that remember where they were written.
 * Owned by the configuration reader; nothing here knows about its keys. */
#pragma once

#include <glib.h>

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

/* Parse a whole document; returns its root table. filename is used in messages
 * only. Errors are NETISO_ERROR_CONFIG, one line: "FILE:LINE:COL: what". */
NetisoTomlValue *netiso_toml_parse(const char *filename, const char *data, gsize len,
                                   GError **error);

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
