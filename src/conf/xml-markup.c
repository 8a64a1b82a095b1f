/* The GMarkup side of the XML reader (xml-reader.h): callbacks that resolve
 * namespaces, check attributes and the limits, refuse DOCTYPEs and foreign
 * declarations, and build the tree. */
#include "autoconfig.h"

#include <string.h>

#include "conf/xml-markup.h"
#include "util/error.h"
#include "util/quote.h"

#define NS_XMLNS "http://www.w3.org/2000/xmlns/"
#define CONTROL_CHARS                                                                              \
        "\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f\x10\x11\x12"                             \
        "\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f"

int
netiso_xml_line_at(const char *xml, const char *p)
{
        int line = 1;

        for (const char *q = xml; q < p; q++)
                line += *q == '\n';
        return line;
}

/* GMarkup counts a newline as the first character of the next line, and
 * calls back with its position on the character after the markup: a start
 * tag ending a line would be put on the next one. */
int
netiso_xml_reader_line(const NetisoXmlReader *r)
{
        int line = 0, column = 0;

        g_markup_parse_context_get_position(r->context, &line, &column);
        return column == 1 && line > 1 ? line - 1 : line;
}

static gboolean stop(NetisoXmlReader *r, int line, GError **error, const char *fmt, ...)
        G_GNUC_PRINTF(4, 5);

/* Records our error (the first one) and tells GMarkup to stop. */
static gboolean
stop(NetisoXmlReader *r, int line, GError **error, const char *fmt, ...)
{
        g_autofree char *what = NULL;
        va_list ap;

        if (!r->error) {
                va_start(ap, fmt);
                what = g_strdup_vprintf(fmt, ap);
                va_end(ap);
                r->error = g_error_new(NETISO_ERROR, NETISO_ERROR_DOMAIN, "%s:%d: %s", r->filename,
                                       line, what);
        }
        g_set_error_literal(error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT, "stopped");
        return FALSE;
}

/* ---- namespaces ---- */

static const char *
intern(NetisoXmlReader *r, const char *s, gssize len)
{
        g_autofree char *copy = len < 0 ? NULL : g_strndup(s, (gsize)len);

        return g_string_chunk_insert_const(r->doc->strings, copy ? copy : s);
}

/* Splits a QName into prefix (NULL if none) and local part; FALSE when it
 * is not one (an empty part, or more than one colon). */
static gboolean
split_qname(NetisoXmlReader *r, const char *qname, const char **ret_prefix, const char **ret_local)
{
        const char *colon = strchr(qname, ':');

        if (!colon) {
                *ret_prefix = NULL;
                *ret_local = intern(r, qname, -1);
                return TRUE;
        }
        if (colon == qname || !colon[1] || strchr(colon + 1, ':'))
                return FALSE;
        *ret_prefix = intern(r, qname, colon - qname);
        *ret_local = intern(r, colon + 1, -1);
        return TRUE;
}

/* The URI bound to prefix (NULL: the default namespace); FALSE if unbound. */
static gboolean
lookup(const NetisoXmlReader *r, const char *prefix, const char **ret_uri)
{
        if (g_strcmp0(prefix, "xml") == 0) {
                *ret_uri = NETISO_XML_NS_XML;
                return TRUE;
        }
        for (guint i = r->bindings->len; i > 0; i--) {
                const NetisoXmlBinding *b = &g_array_index(r->bindings, NetisoXmlBinding, i - 1);
                if (g_strcmp0(b->prefix, prefix) == 0) {
                        *ret_uri = b->uri;
                        return TRUE;
                }
        }
        *ret_uri = NULL;
        return prefix == NULL;
}

static gboolean
declare(NetisoXmlReader *r, const char *name, const char *value, GError **error)
{
        NetisoXmlBinding b = { 0 };
        g_autofree char *v = netiso_quote(value);
        g_autofree char *n = netiso_quote(name);

        if (name[5] == ':') {
                const char *prefix = name + 6;
                if (!*prefix || strchr(prefix, ':'))
                        return stop(r, netiso_xml_reader_line(r), error,
                                    "namespace declaration %s is not valid", n);
                if (strcmp(prefix, "xmlns") == 0 ||
                    (strcmp(prefix, "xml") == 0) != (strcmp(value, NETISO_XML_NS_XML) == 0) ||
                    strcmp(value, NS_XMLNS) == 0)
                        return stop(r, netiso_xml_reader_line(r), error,
                                    "namespace declaration %s='%s' is reserved", n, v);
                if (!*value)
                        return stop(r, netiso_xml_reader_line(r), error,
                                    "namespace prefix %s is bound to an empty URI", n + 6);
                b.prefix = intern(r, prefix, -1);
        } else if (strcmp(value, NETISO_XML_NS_XML) == 0 || strcmp(value, NS_XMLNS) == 0) {
                return stop(r, netiso_xml_reader_line(r), error,
                            "namespace '%s' cannot be the default namespace", v);
        }
        b.uri = *value ? intern(r, value, -1) : NULL;
        g_array_append_val(r->bindings, b);
        return TRUE;
}

static gboolean
is_declaration(const char *name)
{
        return g_str_has_prefix(name, "xmlns") && (name[5] == '\0' || name[5] == ':');
}

/* ---- attributes ---- */

/* GMarkup accepts XML 1.1's references to control characters (&#1;); XML 1.0
 * does not, and they have no business in anything we read. */
static gboolean
check_chars(NetisoXmlReader *r, const char *text, gsize len, const char *where, GError **error)
{
        for (gsize i = 0; i < len; i++) {
                unsigned char c = (unsigned char)text[i];
                if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
                        return stop(r, netiso_xml_reader_line(r), error,
                                    "control character U+%04X in %s", c, where);
        }
        return TRUE;
}

static int
compare_names(gconstpointer a, gconstpointer b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Expanded names: a prefixed attribute may name the same one as another. */
static int
compare_attrs(gconstpointer a, gconstpointer b)
{
        const NetisoXmlAttr *x = *(const NetisoXmlAttr *const *)a;
        const NetisoXmlAttr *y = *(const NetisoXmlAttr *const *)b;
        int c = g_strcmp0(x->ns, y->ns);

        return c ? c : strcmp(x->name, y->name);
}

/* Sorting keeps an element with many attributes from costing n^2. */
static gboolean
check_unique_names(NetisoXmlReader *r, const char **names, guint n, GError **error)
{
        g_autofree const char **sorted = g_new(const char *, n + 1);

        memcpy(sorted, names, sizeof(*names) * n);
        qsort(sorted, n, sizeof(*sorted), compare_names);
        for (guint i = 1; i < n; i++)
                if (strcmp(sorted[i - 1], sorted[i]) == 0) {
                        g_autofree char *name = netiso_quote(sorted[i]);
                        return stop(r, netiso_xml_reader_line(r), error, "attribute %s redefined",
                                    name);
                }
        return TRUE;
}

static gboolean
check_unique_attrs(NetisoXmlReader *r, const NetisoXmlAttr *attrs, guint n, GError **error)
{
        g_autofree const NetisoXmlAttr **sorted = g_new(const NetisoXmlAttr *, n + 1);

        for (guint i = 0; i < n; i++)
                sorted[i] = &attrs[i];
        qsort(sorted, n, sizeof(*sorted), compare_attrs);
        for (guint i = 1; i < n; i++)
                if (compare_attrs(&sorted[i - 1], &sorted[i]) == 0) {
                        g_autofree char *name = netiso_quote(sorted[i]->name);
                        g_autofree char *ns = netiso_quote(sorted[i]->ns ? sorted[i]->ns : "");
                        return stop(r, netiso_xml_reader_line(r), error,
                                    "namespaced attribute %s in '%s' redefined", name, ns);
                }
        return TRUE;
}

static gboolean
read_attrs(NetisoXmlReader *r, const char *element, const char **names, const char **values,
           NetisoXmlNode *node, GError **error)
{
        guint n = 0, count = g_strv_length((char **)names);
        NetisoXmlAttr *attrs;

        if (count > r->limits->max_attrs) {
                g_autofree char *name = netiso_quote(element);
                return stop(r, netiso_xml_reader_line(r), error,
                            "element %s has more than %u attributes", name, r->limits->max_attrs);
        }
        if (!check_unique_names(r, names, count, error))
                return FALSE;
        for (guint i = 0; i < count; i++)
                if (is_declaration(names[i]) && !declare(r, names[i], values[i], error))
                        return FALSE;

        attrs = g_new0(NetisoXmlAttr, count + 1);
        g_ptr_array_add(r->doc->blocks, attrs);
        for (guint i = 0; i < count; i++) {
                NetisoXmlAttr *a = &attrs[n];
                if (is_declaration(names[i]))
                        continue;
                if (!split_qname(r, names[i], &a->prefix, &a->name)) {
                        g_autofree char *name = netiso_quote(names[i]);
                        return stop(r, netiso_xml_reader_line(r), error,
                                    "attribute name '%s' is not a valid qualified name", name);
                }
                if (a->prefix && !lookup(r, a->prefix, &a->ns)) {
                        g_autofree char *prefix = netiso_quote(a->prefix);
                        g_autofree char *name = netiso_quote(a->name);
                        g_autofree char *el = netiso_quote(element);
                        return stop(r, netiso_xml_reader_line(r), error,
                                    "namespace prefix %s for %s on %s is not defined", prefix, name,
                                    el);
                }
                if (strpbrk(values[i], CONTROL_CHARS)) {
                        g_autofree char *where = g_strdup_printf("attribute %s", names[i]);
                        g_autofree char *quoted = netiso_quote(where);
                        if (!check_chars(r, values[i], strlen(values[i]), quoted, error))
                                return FALSE;
                }
                a->value = g_string_chunk_insert(r->doc->strings, values[i]);
                n++;
        }
        if (!check_unique_attrs(r, attrs, n, error))
                return FALSE;
        node->attrs = attrs;
        node->n_attrs = n;
        return TRUE;
}

/* ---- GMarkup callbacks ---- */

static void
on_start(GMarkupParseContext *context, const char *qname, const char **names, const char **values,
         gpointer data, GError **error)
{
        NetisoXmlReader *r = data;
        NetisoXmlNode *node;
        guint mark = r->bindings->len;

        r->seen_markup = TRUE;
        if (r->doc->root && !r->current) {
                stop(r, netiso_xml_reader_line(r), error,
                     "extra content at the end of the document");
                return;
        }
        if (++r->depth > r->limits->max_depth) {
                stop(r, netiso_xml_reader_line(r), error, "elements nested deeper than %u levels",
                     r->limits->max_depth);
                return;
        }
        if (++r->elements > r->limits->max_elements) {
                stop(r, netiso_xml_reader_line(r), error, "more than %u elements",
                     r->limits->max_elements);
                return;
        }
        g_array_append_val(r->marks, mark);

        node = g_new0(NetisoXmlNode, 1);
        g_ptr_array_add(r->doc->blocks, node);
        node->doc = r->doc;
        node->line = netiso_xml_reader_line(r);
        if (!read_attrs(r, qname, names, values, node, error))
                return;
        if (!split_qname(r, qname, &node->prefix, &node->name) ||
            g_strcmp0(node->prefix, "xmlns") == 0) {
                g_autofree char *name = netiso_quote(qname);
                stop(r, node->line, error, "element name '%s' is not a valid qualified name", name);
                return;
        }
        if (!lookup(r, node->prefix, &node->ns)) {
                g_autofree char *prefix = netiso_quote(node->prefix);
                g_autofree char *name = netiso_quote(node->name);
                stop(r, node->line, error, "namespace prefix %s on %s is not defined", prefix,
                     name);
                return;
        }
        node->text_begin = node->text_end = r->doc->text->len;
        node->parent = r->current;
        if (!r->current)
                r->doc->root = node;
        else if (r->current->last_child)
                r->current->last_child->next = node;
        else
                r->current->children = node;
        if (r->current)
                r->current->last_child = node;
        r->current = node;
}

static void
on_end(GMarkupParseContext *context, const char *qname, gpointer data, GError **error)
{
        NetisoXmlReader *r = data;
        NetisoXmlNode *node = r->current;

        node->text_end = r->doc->text->len;
        r->current = (NetisoXmlNode *)node->parent;
        r->depth--;
        g_array_set_size(r->bindings, g_array_index(r->marks, guint, r->marks->len - 1));
        g_array_set_size(r->marks, r->marks->len - 1);
}

static void
on_text(GMarkupParseContext *context, const char *text, gsize len, gpointer data, GError **error)
{
        NetisoXmlReader *r = data;

        if (!check_chars(r, text, len, "text", error))
                return;
        /* GMarkup refuses text outside the root element unless it is whitespace. */
        if (r->current)
                g_string_append_len(r->doc->text, text, (gssize)len);
}

/* The line on which passthrough text starts: GMarkup calls back only once it
 * has read past the markup and the whitespace after it. Error paths only. */
static int
markup_line(const NetisoXmlReader *r, const char *text, gsize len)
{
        const char *at = NULL;

        if (text >= r->xml && text < r->xml + r->len)
                at = text;
        else if (len > 0)
                at = memmem(r->xml, r->len, text, len);
        return at ? netiso_xml_line_at(r->xml, at) : netiso_xml_reader_line(r);
}

/* The encoding pseudo-attribute of <?xml ...?>, if any, must say UTF-8:
 * GMarkup reads UTF-8 only, and a document claiming otherwise is not what
 * libvirt writes. */
static gboolean
check_declaration(NetisoXmlReader *r, const char *text, gsize len, GError **error)
{
        int line = markup_line(r, text, len);
        g_autofree char *decl = g_strndup(text, len);
        const char *p = strstr(decl, "encoding");
        g_autofree char *encoding = NULL;
        g_autofree char *quoted = NULL;
        char quote;
        const char *end;

        if (!r->declaration_ok || r->seen_markup)
                return stop(r, line, error,
                            "XML declaration allowed only at the start of the document");
        r->declaration_ok = FALSE;
        if (!p)
                return TRUE;
        for (p += strlen("encoding"); g_ascii_isspace(*p); p++)
                ;
        if (*p++ != '=')
                return stop(r, line, error, "XML declaration is not valid");
        while (g_ascii_isspace(*p))
                p++;
        quote = *p++;
        end = quote == '"' || quote == '\'' ? strchr(p, quote) : NULL;
        if (!end)
                return stop(r, line, error, "XML declaration is not valid");
        encoding = g_strndup(p, end - p);
        if (g_ascii_strcasecmp(encoding, "UTF-8") == 0)
                return TRUE;
        quoted = netiso_quote(encoding);
        return stop(r, line, error, "encoding '%s' is not supported (UTF-8 only)", quoted);
}

/* Comments, processing instructions and, outside the root element, any
 * other <!...>: GMarkup hands a DOCTYPE over unread, so it ends here. */
static void
on_passthrough(GMarkupParseContext *context, const char *text, gsize len, gpointer data,
               GError **error)
{
        NetisoXmlReader *r = data;

        if (len >= 4 && memcmp(text, "<!--", 4) == 0) {
                ;
        } else if (len >= 9 && memcmp(text, "<!DOCTYPE", 9) == 0) {
                stop(r, markup_line(r, text, len), error,
                     "DOCTYPE is not allowed (no DTDs, no entities)");
                return;
        } else if (len >= 2 && memcmp(text, "<!", 2) == 0) {
                stop(r, markup_line(r, text, len), error, "markup declarations are not allowed");
                return;
        } else if (len >= 6 && g_ascii_strncasecmp(text, "<?xml", 5) == 0 &&
                   (g_ascii_isspace(text[5]) || text[5] == '?')) {
                if (!check_declaration(r, text, len, error))
                        return;
        }
        r->seen_markup = TRUE;
}

const GMarkupParser netiso_xml_reader_callbacks = {
        .start_element = on_start,
        .end_element = on_end,
        .text = on_text,
        .passthrough = on_passthrough,
};
