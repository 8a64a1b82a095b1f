/* Quoting of untrusted text for one-line messages (quote.h). Used by the
 * readers of domain XML, configuration and records, so it depends on GLib
 * alone: the hook links it. */
#include "autoconfig.h"

#include <string.h>

#include "util/quote.h"

char *
netiso_quote_n(const char *text, gsize max)
{
        GString *s = g_string_new(NULL);
        const char *p = text;
        const char *end = text + strlen(text);

        /* Control characters and bytes that are not UTF-8 become \xNN, so the
         * result is one line of valid UTF-8 whatever the input was. */
        while (*p && s->len < max) {
                unsigned char c = (unsigned char)*p;

                if (c < 0x20 || c == 0x7f) {
                        g_string_append_printf(s, "\\x%02x", c);
                        p++;
                } else if (c < 0x80) {
                        g_string_append_c(s, *p++);
                } else if (g_utf8_get_char_validated(p, end - p) < (gunichar)-2) {
                        const char *next = g_utf8_next_char(p);
                        g_string_append_len(s, p, next - p);
                        p = next;
                } else {
                        g_string_append_printf(s, "\\x%02x", c);
                        p++;
                }
        }
        if (*p)
                g_string_append(s, "...");
        return g_string_free(s, /* free_segment */ FALSE);
}

char *
netiso_quote(const char *text)
{
        return netiso_quote_n(text, NETISO_QUOTE_MAX);
}
