/* The TOML value tree: tables that keep document order and positions, and
 * TOML's rules for headers, arrays of tables, dotted keys and redefinitions.
 * Also the one place that formats the reader's "FILE:LINE:COL: what" errors. */
#include "autoconfig.h"

#include <string.h>

#include "conf/toml-tree.h"
#include "util/error.h"

typedef enum {
        TABLE_IMPLICIT, /* parent of a header ([a] for [a.b]); may get its own header once */
        TABLE_HEADER,   /* defined by a [header], or the root */
        TABLE_DOTTED,   /* made by a dotted key (a.b = 1); no header may define it */
        TABLE_ELEMENT,  /* one element of a [[header]] array */
} TableKind;

struct NetisoTomlTable {
        TableKind kind;
        GPtrArray *entries; /* of NetisoTomlEntry*, document order, owned */
        GHashTable *index;  /* key -> NetisoTomlEntry*, borrowed from entries */
};

gboolean
netiso_toml_is_control(guchar c)
{
        return (c < 0x20 && c != '\t') || c == 0x7f;
}

void
netiso_toml_set_error_va(GError **error, const char *filename, guint line, guint column,
                         const char *format, va_list args)
{
        g_autofree char *what = g_strdup_vprintf(format, args);
        g_autoptr(GString) safe = g_string_new(NULL);

        /* Messages quote user text, and escapes can put a newline in it. */
        for (const char *c = what; *c; c++) {
                if (*c == '\n')
                        g_string_append(safe, "\\n");
                else if (*c == '\t')
                        g_string_append(safe, "\\t");
                else if (netiso_toml_is_control((guchar)*c))
                        g_string_append_printf(safe, "\\u%04X", (guchar)*c);
                else
                        g_string_append_c(safe, *c);
        }
        g_set_error(error, NETISO_ERROR, NETISO_ERROR_CONFIG, "%s:%u:%u: %s", filename, line,
                    column, safe->str);
}

void
netiso_toml_set_error(GError **error, const char *filename, guint line, guint column,
                      const char *format, ...)
{
        va_list args;

        va_start(args, format);
        netiso_toml_set_error_va(error, filename, line, column, format, args);
        va_end(args);
}

const char *
netiso_toml_type_describe(NetisoTomlType type)
{
        static const char *const names[_NETISO_TOML_TYPE_MAX] = {
                [NETISO_TOML_STRING] = "a string", [NETISO_TOML_INTEGER] = "an integer",
                [NETISO_TOML_FLOAT] = "a float",   [NETISO_TOML_BOOLEAN] = "a boolean",
                [NETISO_TOML_ARRAY] = "an array",  [NETISO_TOML_TABLE] = "a table",
        };

        g_assert(type < _NETISO_TOML_TYPE_MAX);
        return names[type];
}

static void
entry_free(NetisoTomlEntry *entry)
{
        g_free(entry->key);
        netiso_toml_value_free(entry->value);
        g_free(entry);
}

void
netiso_toml_value_free(NetisoTomlValue *value)
{
        if (!value)
                return;
        if (value->type == NETISO_TOML_STRING)
                g_free(value->string);
        else if (value->type == NETISO_TOML_ARRAY && value->array)
                g_ptr_array_unref(value->array);
        else if (value->type == NETISO_TOML_TABLE && value->table) {
                g_hash_table_unref(value->table->index);
                g_ptr_array_unref(value->table->entries);
                g_free(value->table);
        }
        g_free(value);
}

static NetisoTomlValue *
table_new(TableKind kind, guint line, guint column)
{
        NetisoTomlValue *value = g_new0(NetisoTomlValue, 1);

        value->type = NETISO_TOML_TABLE;
        value->line = line;
        value->column = column;
        value->table = g_new0(NetisoTomlTable, 1);
        value->table->kind = kind;
        value->table->entries = g_ptr_array_new_with_free_func((GDestroyNotify)entry_free);
        value->table->index = g_hash_table_new(g_str_hash, g_str_equal);
        return value;
}

NetisoTomlValue *
netiso_toml_root_new(void)
{
        return table_new(TABLE_HEADER, 1, 1);
}

guint
netiso_toml_table_size(const NetisoTomlValue *table)
{
        g_assert(table->type == NETISO_TOML_TABLE);
        return table->table->entries->len;
}

const NetisoTomlEntry *
netiso_toml_table_nth(const NetisoTomlValue *table, guint index)
{
        g_assert(table->type == NETISO_TOML_TABLE);
        return g_ptr_array_index(table->table->entries, index);
}

const NetisoTomlEntry *
netiso_toml_table_lookup(const NetisoTomlValue *table, const char *key)
{
        g_assert(table->type == NETISO_TOML_TABLE);
        return g_hash_table_lookup(table->table->index, key);
}

/* Takes ownership of value; the caller has checked that the key is new. */
static NetisoTomlValue *
table_add(NetisoTomlValue *table, const NetisoTomlKey *key, NetisoTomlValue *value)
{
        NetisoTomlEntry *entry = g_new0(NetisoTomlEntry, 1);

        entry->key = g_strdup(key->key);
        entry->line = key->line;
        entry->column = key->column;
        entry->value = value;
        g_ptr_array_add(table->table->entries, entry);
        g_hash_table_insert(table->table->index, entry->key, entry);
        return value;
}

static NetisoTomlValue *
array_append_table(NetisoTomlValue *array, guint line, guint column)
{
        NetisoTomlValue *element = table_new(TABLE_ELEMENT, line, column);

        g_ptr_array_add(array->array, element);
        return element;
}

static void
key_clear(NetisoTomlKey *key)
{
        g_free(key->key);
}

GArray *
netiso_toml_keys_new(void)
{
        GArray *keys =
                g_array_new(/* zero_terminated */ FALSE, /* clear */ TRUE, sizeof(NetisoTomlKey));

        g_array_set_clear_func(keys, (GDestroyNotify)key_clear);
        return keys;
}

static gboolean
is_bare_key(const char *key)
{
        if (*key == '\0')
                return FALSE;
        for (const char *c = key; *c; c++)
                if (!g_ascii_isalnum(*c) && *c != '_' && *c != '-')
                        return FALSE;
        return TRUE;
}

char *
netiso_toml_keys_to_string(const GArray *keys, guint first, guint n)
{
        g_autoptr(GString) out = g_string_new(NULL);

        for (guint i = first; i < n; i++) {
                const char *key = g_array_index(keys, NetisoTomlKey, i).key;

                if (i > first)
                        g_string_append_c(out, '.');
                if (is_bare_key(key))
                        g_string_append(out, key);
                else {
                        g_autofree char *escaped = g_strescape(key, "");
                        g_string_append_printf(out, "\"%s\"", escaped);
                }
        }
        return g_string_free(g_steal_pointer(&out), /* free_segment */ FALSE);
}

/* The last table of an array of tables: where [[a]] then [a.b] puts b. */
static NetisoTomlValue *
descend(NetisoTomlValue *value)
{
        if (value->type == NETISO_TOML_TABLE)
                return value;
        if (value->type == NETISO_TOML_ARRAY && value->array_of_tables)
                return g_ptr_array_index(value->array, value->array->len - 1);
        return NULL;
}

gboolean
netiso_toml_tree_open(NetisoTomlValue *root, const char *filename, const GArray *keys,
                      gboolean array, guint line, guint column, NetisoTomlValue **ret_table,
                      GError **error)
{
        g_autofree char *name = netiso_toml_keys_to_string(keys, 0, keys->len);
        g_autofree char *header = g_strdup_printf(array ? "[[%s]]" : "[%s]", name);
        NetisoTomlValue *table = root;

        for (guint i = 0; i < keys->len; i++) {
                const NetisoTomlKey *key = &g_array_index(keys, NetisoTomlKey, i);
                const NetisoTomlEntry *entry = netiso_toml_table_lookup(table, key->key);
                NetisoTomlValue *value = entry ? entry->value : NULL;
                gboolean last = i + 1 == keys->len;
                g_autofree char *path = NULL;

                if (!value && last && array) {
                        value = table_add(table, key, g_new0(NetisoTomlValue, 1));
                        value->type = NETISO_TOML_ARRAY;
                        value->line = line;
                        value->column = column;
                        value->array = g_ptr_array_new_with_free_func(
                                (GDestroyNotify)netiso_toml_value_free);
                        value->array_of_tables = TRUE;
                        table = array_append_table(value, line, column);
                } else if (!value) {
                        table = table_add(
                                table, key,
                                table_new(last ? TABLE_HEADER : TABLE_IMPLICIT, line, column));
                } else if (!last && descend(value)) {
                        table = descend(value);
                } else if (last && array && value->array_of_tables) {
                        table = array_append_table(value, line, column);
                } else if (last && !array && value->type == NETISO_TOML_TABLE &&
                           value->table->kind == TABLE_IMPLICIT) {
                        /* [a.b] made [a] implicitly; [a] may still be written once. */
                        value->table->kind = TABLE_HEADER;
                        value->line = line;
                        value->column = column;
                        table = value;
                } else if (last && !array && value->type == NETISO_TOML_TABLE) {
                        netiso_toml_set_error(error, filename, line, column,
                                              "table %s is already defined at line %u", header,
                                              value->line);
                        return FALSE;
                } else {
                        const char *what = value->array_of_tables
                                                   ? "an array of tables"
                                                   : netiso_toml_type_describe(value->type);
                        path = netiso_toml_keys_to_string(keys, 0, i + 1);
                        netiso_toml_set_error(error, filename, line, column,
                                              "cannot define %s: '%s' is already %s at line %u",
                                              header, path, what, value->line);
                        return FALSE;
                }
        }
        *ret_table = table;
        return TRUE;
}

gboolean
netiso_toml_tree_add(NetisoTomlValue *table, const char *filename, const char *table_name,
                     const GArray *keys, NetisoTomlValue *value, GError **error)
{
        g_autoptr(NetisoTomlValue) owned = value;
        const NetisoTomlKey *last = &g_array_index(keys, NetisoTomlKey, keys->len - 1);
        const NetisoTomlEntry *entry;

        for (guint i = 0; i + 1 < keys->len; i++) {
                const NetisoTomlKey *key = &g_array_index(keys, NetisoTomlKey, i);
                g_autofree char *full = NULL, *path = NULL;

                entry = netiso_toml_table_lookup(table, key->key);
                if (!entry) {
                        table = table_add(table, key,
                                          table_new(TABLE_DOTTED, key->line, key->column));
                        continue;
                }
                /* Dotted keys may only extend tables other dotted keys made (TOML 1.0). */
                if (entry->value->type == NETISO_TOML_TABLE &&
                    entry->value->table->kind == TABLE_DOTTED) {
                        table = entry->value;
                        continue;
                }
                full = netiso_toml_keys_to_string(keys, 0, keys->len);
                path = netiso_toml_keys_to_string(keys, 0, i + 1);
                netiso_toml_set_error(error, filename, key->line, key->column,
                                      "cannot set '%s': '%s' is already %s at line %u", full, path,
                                      netiso_toml_type_describe(entry->value->type),
                                      entry->value->line);
                return FALSE;
        }
        entry = netiso_toml_table_lookup(table, last->key);
        if (entry) {
                g_autofree char *full = netiso_toml_keys_to_string(keys, 0, keys->len);
                netiso_toml_set_error(error, filename, last->line, last->column,
                                      "duplicate key '%s'%s%s (first defined at line %u)", full,
                                      table_name ? " in " : "", table_name ? table_name : "",
                                      entry->line);
                return FALSE;
        }
        table_add(table, last, g_steal_pointer(&owned));
        return TRUE;
}
