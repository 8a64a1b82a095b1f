/* A minimal JSON writer for the CLI's --json output (no dependency beyond
 * GLib): the caller emits members in order, the writer handles commas and
 * string escaping. */
#pragma once

#include <glib.h>

typedef struct {
        GString *out;
        gboolean need_comma;
} NetisoJson;

void netiso_json_init(NetisoJson *j);
char *netiso_json_finish(NetisoJson *j);                       /* returns the text, caller frees */
void netiso_json_begin_object(NetisoJson *j, const char *key); /* key NULL inside arrays/top */
void netiso_json_end_object(NetisoJson *j);
void netiso_json_begin_array(NetisoJson *j, const char *key);
void netiso_json_end_array(NetisoJson *j);
void netiso_json_string(NetisoJson *j, const char *key, const char *value); /* NULL -> null */
void netiso_json_bool(NetisoJson *j, const char *key, gboolean value);
void netiso_json_uint(NetisoJson *j, const char *key, guint64 value);
