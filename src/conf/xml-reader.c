/* The XML reader of xml-reader.h: GMarkup does the tokenising (UTF-8 names, the
 * five predefined entities, character references, CDATA); xml-markup.c
 * builds the tree; this file checks the input, runs GMarkup, words errors. */
#include "autoconfig.h"

#include <string.h>

#include "conf/xml-markup.h"
#include "conf/xml-reader.h"
#include "util/error.h"
#include "util/quote.h"

#define MARKUP_MESSAGE_MAX 200 /* bytes of a GMarkup message quoted in ours */

/* ---- input checks and errors ---- */

/* What GMarkup does not refuse, or refuses with a message naming the bytes. */
static gboolean
check_bytes(const char *filename, const char *xml, gsize len, GError **error)
{
        const char *bad = memchr(xml, '\0', len);
        const char *what = "NUL byte in input";
        const char *end = NULL;

        /* g_utf8_validate_len() sets end on success too. */
        if (!bad && !g_utf8_validate_len(xml, len, &end)) {
                what = "input is not valid UTF-8";
                bad = end;
        }
        for (const char *p = xml; !bad && p < xml + len; p++) {
                unsigned char c = (unsigned char)*p;

                if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
                        what = "control character in input";
                        bad = p;
                } else if (c == 0xef && p + 2 < xml + len && (unsigned char)p[1] == 0xbf &&
                           ((unsigned char)p[2] & 0xfe) == 0xbe) {
                        /* U+FFFE and U+FFFF are not XML characters either. */
                        what = "character U+FFFE or U+FFFF in input";
                        bad = p;
                }
        }
        if (!bad)
                return TRUE;
        g_set_error(error, NETISO_ERROR, NETISO_ERROR_DOMAIN, "%s:%d: %s", filename,
                    netiso_xml_line_at(xml, bad), what);
        return FALSE;
}

/* GMarkup's English message ("Error on line 2 char 17: Element <U+201C>nam<U+201D>
 * was closed, ...") in house style: its line in front, ASCII quotes, lowercase. */
static GError *
markup_error(const NetisoXmlReader *r, const GError *markup)
{
        /* GMarkup may cut a character in two when it quotes the input. */
        g_autofree char *valid = g_utf8_make_valid(markup->message, -1);
        const char *m = valid;
        int line = netiso_xml_reader_line(r);
        g_autoptr(GString) s = g_string_new(NULL);
        g_autofree char *message = NULL;

        if (g_str_has_prefix(m, "Error on line ") && g_ascii_isdigit(m[14])) {
                line = (int)g_ascii_strtoll(m + 14, NULL, 10);
                m = strstr(m, ": ") ? strstr(m, ": ") + 2 : m;
        }
        for (; *m; m++) {
                if (g_str_has_prefix(m, "\xe2\x80\x9c") || g_str_has_prefix(m, "\xe2\x80\x9d")) {
                        g_string_append_c(s, '\'');
                        m += 2;
                } else if (g_str_has_prefix(m, " \xe2\x80\x94 ")) {
                        g_string_append(s, ": ");
                        m += 4;
                } else {
                        g_string_append_c(s, *m);
                }
        }
        message = netiso_quote_n(s->str, MARKUP_MESSAGE_MAX);
        if (g_ascii_isupper(message[0]) && g_ascii_islower(message[1]))
                message[0] = g_ascii_tolower(message[0]);
        return g_error_new(NETISO_ERROR, NETISO_ERROR_DOMAIN, "%s:%d: %s", r->filename, line,
                           message);
}

static GError *
parse_error(NetisoXmlReader *r, const GError *markup, gboolean at_end)
{
        if (r->error)
                return g_steal_pointer(&r->error);
        /* libxml2's words, which the tests and users already know. */
        if (at_end && r->current) {
                g_autofree char *name = netiso_quote(r->current->name);
                return g_error_new(NETISO_ERROR, NETISO_ERROR_DOMAIN,
                                   "%s:%d: premature end of data in tag %s line %d", r->filename,
                                   netiso_xml_reader_line(r), name, r->current->line);
        }
        if (r->doc->root && !r->current)
                return g_error_new(NETISO_ERROR, NETISO_ERROR_DOMAIN,
                                   "%s:%d: extra content at the end of the document", r->filename,
                                   netiso_xml_reader_line(r));
        return markup_error(r, markup);
}

/* ---- the document ---- */

NetisoXmlDoc *
netiso_xml_doc_new_from_data(const char *filename, const char *xml, gsize len,
                             const NetisoXmlLimits *limits, GError **error)
{
        g_autoptr(NetisoXmlDoc) doc = NULL;
        g_autoptr(GMarkupParseContext) context = NULL;
        g_autoptr(GError) markup = NULL;
        g_autoptr(GArray) bindings = g_array_new(/* zero_terminated */ FALSE, /* clear */ FALSE,
                                                 sizeof(NetisoXmlBinding));
        g_autoptr(GArray) marks =
                g_array_new(/* zero_terminated */ FALSE, /* clear */ FALSE, sizeof(guint));
        NetisoXmlReader r = {
                .filename = filename, .limits = limits, .bindings = bindings, .marks = marks
        };
        gboolean at_end = FALSE;

        if (len == 0) {
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_DOMAIN, "%s: input is empty",
                            filename);
                return NULL;
        }
        if (len > limits->max_bytes || len > G_MAXSSIZE) {
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_DOMAIN,
                            "%s: input is larger than %" G_GSIZE_FORMAT " bytes", filename,
                            limits->max_bytes);
                return NULL;
        }
        if (!check_bytes(filename, xml, len, error))
                return NULL;
        /* A byte order mark says UTF-8, which is all we read; GMarkup refuses it. */
        if (len >= 3 && memcmp(xml, "\xef\xbb\xbf", 3) == 0) {
                xml += 3;
                len -= 3;
        }
        r.xml = xml;
        r.len = len;
        r.declaration_ok = len >= 6 && memcmp(xml, "<?xml", 5) == 0;

        doc = netiso_xml_doc_new(len);
        r.doc = doc;
        context = g_markup_parse_context_new(&netiso_xml_reader_callbacks,
                                             G_MARKUP_TREAT_CDATA_AS_TEXT, &r, NULL);
        r.context = context;
        if (g_markup_parse_context_parse(context, xml, (gssize)len, &markup)) {
                at_end = TRUE;
                g_markup_parse_context_end_parse(context, &markup);
        }
        if (markup || r.error) {
                g_propagate_error(error, parse_error(&r, markup, at_end));
                return NULL;
        }
        if (!doc->root) {
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_DOMAIN, "%s: no root element",
                            filename);
                return NULL;
        }
        return g_steal_pointer(&doc);
}
