/* Quoting of untrusted text for one-line messages (quote.h). Used by the
 * readers of domain XML, configuration and records, so it depends on GLib
 * alone: the hook links it. */
#include "autoconfig.h"

#include "quote.h"

char *
netiso_quote_n(const char *text, gsize max)
{
        GString *s = g_string_new(NULL);
        const char *p;

        for (p = text; *p && s->len < max; p++) {
                unsigned char c = (unsigned char)*p;

                if (c < 0x20 || c == 0x7f)
                        g_string_append_printf(s, "\\x%02x", c);
                else
                        g_string_append_c(s, *p);
        }
        if (*p) {
                /* Cut in the middle of a character: drop its first bytes too. */
                if (((unsigned char)*p & 0xc0) == 0x80) {
                        gsize n = s->len;
                        while (n > 0 && ((unsigned char)s->str[n - 1] & 0xc0) == 0x80)
                                n--;
                        g_string_truncate(s, n > 0 ? n - 1 : 0);
                }
                g_string_append(s, "...");
        }
        return g_string_free(s, FALSE);
}

char *
netiso_quote(const char *text)
{
        return netiso_quote_n(text, NETISO_QUOTE_MAX);
}
