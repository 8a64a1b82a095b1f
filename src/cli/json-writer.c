/* Minimal JSON writer: RFC 8259 string escaping, commas placed for the caller. */
#include "autoconfig.h"

#include "cli/json-writer.h"

void
netiso_json_init(NetisoJson *j)
{
        j->out = g_string_new(NULL);
        j->need_comma = FALSE;
}

char *
netiso_json_finish(NetisoJson *j)
{
        g_string_append_c(j->out, '\n');
        return g_string_free(j->out, FALSE);
}

static void
escape(GString *out, const char *s)
{
        g_string_append_c(out, '"');
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                switch (*p) {
                case '"':
                        g_string_append(out, "\\\"");
                        break;
                case '\\':
                        g_string_append(out, "\\\\");
                        break;
                case '\n':
                        g_string_append(out, "\\n");
                        break;
                case '\t':
                        g_string_append(out, "\\t");
                        break;
                case '\r':
                        g_string_append(out, "\\r");
                        break;
                default:
                        if (*p < 0x20)
                                g_string_append_printf(out, "\\u%04x", *p);
                        else
                                g_string_append_c(out, (char)*p);
                }
        }
        g_string_append_c(out, '"');
}

static void
member(NetisoJson *j, const char *key)
{
        if (j->need_comma)
                g_string_append_c(j->out, ',');
        if (key) {
                escape(j->out, key);
                g_string_append_c(j->out, ':');
        }
        j->need_comma = TRUE;
}

void
netiso_json_begin_object(NetisoJson *j, const char *key)
{
        member(j, key);
        g_string_append_c(j->out, '{');
        j->need_comma = FALSE;
}

void
netiso_json_end_object(NetisoJson *j)
{
        g_string_append_c(j->out, '}');
        j->need_comma = TRUE;
}

void
netiso_json_begin_array(NetisoJson *j, const char *key)
{
        member(j, key);
        g_string_append_c(j->out, '[');
        j->need_comma = FALSE;
}

void
netiso_json_end_array(NetisoJson *j)
{
        g_string_append_c(j->out, ']');
        j->need_comma = TRUE;
}

void
netiso_json_string(NetisoJson *j, const char *key, const char *value)
{
        member(j, key);
        if (value)
                escape(j->out, value);
        else
                g_string_append(j->out, "null");
}

void
netiso_json_bool(NetisoJson *j, const char *key, gboolean value)
{
        member(j, key);
        g_string_append(j->out, value ? "true" : "false");
}

void
netiso_json_uint(NetisoJson *j, const char *key, guint64 value)
{
        member(j, key);
        g_string_append_printf(j->out, "%" G_GUINT64_FORMAT, value);
}
