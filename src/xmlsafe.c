/* libxml2 (2.9.14 on Debian 12) hardened for hostile input: the parser is
 * driven through its SAX2 callbacks so that a DOCTYPE or deep nesting stops
 * it at once, and its errors are captured instead of printed. */
#include "autoconfig.h"

#include <string.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/SAX2.h>
#include <libxml/xmlerror.h>

#include "error.h"
#include "xmlsafe.h"

#define XML_MESSAGE_MAX 200 /* bytes of a libxml2 message quoted in ours */

G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlDoc, xmlFreeDoc)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlParserCtxt, xmlFreeParserCtxt)

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
                gunichar u;

                if (c < 0x20 || c == 0x7f) {
                        g_string_append_printf(s, "\\x%02x", c);
                        p++;
                } else if (c < 0x80) {
                        g_string_append_c(s, *p++);
                } else if ((u = g_utf8_get_char_validated(p, end - p)) < (gunichar)-2) {
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
        return g_string_free(s, FALSE);
}

char *
netiso_quote(const char *text)
{
        return netiso_quote_n(text, NETISO_QUOTE_MAX);
}

typedef struct {
        const char *filename;
        unsigned depth, max_depth;
        GError *error; /* the first error wins: later ones are consequences */
} ParseState;

static void G_GNUC_PRINTF(2, 3) stop(xmlParserCtxtPtr ctxt, const char *fmt, ...)
{
        ParseState *state = ctxt->_private;
        g_autofree char *what = NULL;
        va_list ap;

        if (!state->error) {
                va_start(ap, fmt);
                what = g_strdup_vprintf(fmt, ap);
                va_end(ap);
                state->error =
                        g_error_new(NETISO_ERROR, NETISO_ERROR_DOMAIN, "%s:%d: %s", state->filename,
                                    ctxt->input ? ctxt->input->line : 0, what);
        }
        xmlStopParser(ctxt);
}

/* Called for every DOCTYPE before its internal subset is read, so entity
 * declarations (billion laughs, XXE) never reach libxml2's entity code. */
static void
on_doctype(void *ctx, const xmlChar *name, const xmlChar *external_id, const xmlChar *system_id)
{
        stop(ctx, "DOCTYPE is not allowed (no DTDs, no entities)");
}

/* Fires before libxml2's own limit (256, whose message asks for XML_PARSE_HUGE). */
static void
on_start_element(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri,
                 int nb_namespaces, const xmlChar **namespaces, int nb_attributes, int nb_defaulted,
                 const xmlChar **attributes)
{
        xmlParserCtxtPtr ctxt = ctx;
        ParseState *state = ctxt->_private;

        if (++state->depth > state->max_depth) {
                stop(ctxt, "elements nested deeper than %u levels", state->max_depth);
                return;
        }
        xmlSAX2StartElementNs(ctx, localname, prefix, uri, nb_namespaces, namespaces, nb_attributes,
                              nb_defaulted, attributes);
}

static void
on_end_element(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri)
{
        xmlParserCtxtPtr ctxt = ctx;
        ParseState *state = ctxt->_private;

        state->depth--;
        xmlSAX2EndElementNs(ctx, localname, prefix, uri);
}

/* Replaces libxml2's default of printing to stderr: the hook never prints. */
static void
on_xml_error(void *data, xmlErrorPtr err)
{
        xmlParserCtxtPtr ctxt = data;
        ParseState *state = ctxt->_private;
        g_autofree char *raw = NULL;
        g_autofree char *message = NULL;

        /* Warnings (a relative namespace URI, ...) do not make a document unusable. */
        if (err->level < XML_ERR_ERROR || state->error)
                return;
        raw = g_strstrip(g_strdup(err->message ? err->message : "unknown error"));
        message = netiso_quote_n(raw, XML_MESSAGE_MAX);
        /* House style starts messages lowercase; leave acronyms like "XML" alone. */
        if (g_ascii_isupper(message[0]) && g_ascii_islower(message[1]))
                message[0] = g_ascii_tolower(message[0]);
        if (err->line > 0)
                state->error = g_error_new(NETISO_ERROR, NETISO_ERROR_DOMAIN, "%s:%d: %s",
                                           state->filename, err->line, message);
        else
                state->error = g_error_new(NETISO_ERROR, NETISO_ERROR_DOMAIN, "%s: %s",
                                           state->filename, message);
}

static gboolean
check_bytes(const char *filename, const char *xml, gsize len, gsize max_len, GError **error)
{
        const char *nul;
        int line = 1;

        if (len == 0) {
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_DOMAIN, "%s: input is empty",
                            filename);
                return FALSE;
        }
        if (len > max_len) {
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_DOMAIN,
                            "%s: input is larger than %" G_GSIZE_FORMAT " bytes", filename,
                            max_len);
                return FALSE;
        }
        /* libxml2 would stop at a NUL and quietly parse only what precedes it. */
        nul = memchr(xml, '\0', len);
        if (nul) {
                for (const char *p = xml; p < nul; p++)
                        line += *p == '\n';
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_DOMAIN, "%s:%d: NUL byte in input",
                            filename, line);
                return FALSE;
        }
        return TRUE;
}

xmlDoc *
netiso_xml_parse(const char *filename, const char *xml, gsize len, gsize max_len,
                 unsigned max_depth, GError **error)
{
        ParseState state = { .filename = filename, .max_depth = max_depth };
        g_autoptr(xmlParserCtxt) ctxt = NULL;
        g_autoptr(xmlDoc) doc = NULL;
        xmlStructuredErrorFunc saved_handler = xmlStructuredError;
        void *saved_context = xmlStructuredErrorContext;
        gboolean well_formed;

        if (!check_bytes(filename, xml, len, MIN(max_len, (gsize)G_MAXINT), error))
                return NULL;
        ctxt = xmlCreateMemoryParserCtxt(xml, (int)len);
        if (!ctxt) {
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_DOMAIN,
                            "%s: cannot create an XML parser", filename);
                return NULL;
        }
        /* Not XML_PARSE_NOENT, DTDLOAD, DTDATTR, DTDVALID, XINCLUDE or HUGE:
         * nothing is substituted, loaded or unbounded. */
        xmlCtxtUseOptions(ctxt, XML_PARSE_NONET | XML_PARSE_NOCDATA);
        ctxt->_private = &state;
        ctxt->sax->serror = on_xml_error;
        ctxt->sax->internalSubset = on_doctype;
        ctxt->sax->startElementNs = on_start_element;
        ctxt->sax->endElementNs = on_end_element;

        /* Errors raised outside the context's reach would go to the thread's
         * handler (stderr by default): route them here for this parse only. */
        xmlSetStructuredErrorFunc(ctxt, on_xml_error);
        xmlParseDocument(ctxt);
        xmlSetStructuredErrorFunc(saved_context, saved_handler);

        doc = g_steal_pointer(&ctxt->myDoc);
        well_formed = ctxt->wellFormed && ctxt->nsWellFormed;
        if (state.error) {
                g_propagate_error(error, state.error);
                return NULL;
        }
        /* Belt and braces: the callbacks above should have caught all of these. */
        if (!well_formed || !doc || doc->intSubset || doc->extSubset) {
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_DOMAIN,
                            "%s: input is not well-formed XML", filename);
                return NULL;
        }
        return g_steal_pointer(&doc);
}
