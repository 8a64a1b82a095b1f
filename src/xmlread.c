/* The XML reader of xmlread.h: GMarkup does the tokenising (UTF-8 names,
 * the five predefined entities, character references, CDATA); this file adds
 * what GMarkup leaves out for hostile input, and namespaces, and a tree. */
#include "autoconfig.h"

#include <string.h>

#include "error.h"
#include "quote.h"
#include "xmlread.h"

#define NS_XMLNS "http://www.w3.org/2000/xmlns/"
#define MARKUP_MESSAGE_MAX 200 /* bytes of a GMarkup message quoted in ours */
#define CONTROL_CHARS                                                                              \
        "\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f\x10\x11\x12"                             \
        "\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f"

struct NetisoXmlDoc {
        NetisoXmlNode *root;
        GStringChunk *strings; /* names, URIs and values */
        GString *text;         /* all character data, in document order */
        GPtrArray *blocks;     /* nodes and attribute arrays */
};

typedef struct {
        const char *prefix; /* NULL: the default namespace */
        const char *uri;    /* NULL: undeclared (xmlns="") */
} Binding;

typedef struct {
        const char *filename;
        const char *xml; /* the input, for the lines of errors */
        gsize len;
        const NetisoXmlLimits *limits;
        NetisoXmlDoc *doc;
        GMarkupParseContext *context;
        NetisoXmlNode *current; /* innermost open element */
        unsigned depth, elements;
        GArray *bindings;        /* of Binding, innermost last */
        GArray *marks;           /* bindings->len when each open element started */
        gboolean declaration_ok; /* the input starts with <?xml */
        gboolean seen_markup;
        GError *error; /* ours: it wins over GMarkup's consequences */
} Reader;

/* GMarkup counts a newline as the first character of the next line, and
 * calls back with its position on the character after the markup: a start
 * tag ending a line would be put on the next one. */
static int
current_line(const Reader *r)
{
        int line = 0, column = 0;

        g_markup_parse_context_get_position(r->context, &line, &column);
        return column == 1 && line > 1 ? line - 1 : line;
}

/* Records our error (the first one) and tells GMarkup to stop. */
static gboolean G_GNUC_PRINTF(4, 5) stop(Reader *r, int line, GError **error, const char *fmt, ...)
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
intern(Reader *r, const char *s, gssize len)
{
        g_autofree char *copy = len < 0 ? NULL : g_strndup(s, (gsize)len);

        return g_string_chunk_insert_const(r->doc->strings, copy ? copy : s);
}

/* Splits a QName into prefix (NULL if none) and local part; FALSE when it
 * is not one (an empty part, or more than one colon). */
static gboolean
split_qname(Reader *r, const char *qname, const char **ret_prefix, const char **ret_local)
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
lookup(const Reader *r, const char *prefix, const char **ret_uri)
{
        if (g_strcmp0(prefix, "xml") == 0) {
                *ret_uri = NETISO_XML_NS_XML;
                return TRUE;
        }
        for (guint i = r->bindings->len; i > 0; i--) {
                const Binding *b = &g_array_index(r->bindings, Binding, i - 1);
                if (g_strcmp0(b->prefix, prefix) == 0) {
                        *ret_uri = b->uri;
                        return TRUE;
                }
        }
        *ret_uri = NULL;
        return prefix == NULL;
}

static gboolean
declare(Reader *r, const char *name, const char *value, GError **error)
{
        Binding b = { 0 };
        g_autofree char *v = netiso_quote(value);
        g_autofree char *n = netiso_quote(name);

        if (name[5] == ':') {
                const char *prefix = name + 6;
                if (!*prefix || strchr(prefix, ':'))
                        return stop(r, current_line(r), error,
                                    "namespace declaration %s is not valid", n);
                if (strcmp(prefix, "xmlns") == 0 ||
                    (strcmp(prefix, "xml") == 0) != (strcmp(value, NETISO_XML_NS_XML) == 0) ||
                    strcmp(value, NS_XMLNS) == 0)
                        return stop(r, current_line(r), error,
                                    "namespace declaration %s='%s' is reserved", n, v);
                if (!*value)
                        return stop(r, current_line(r), error,
                                    "namespace prefix %s is bound to an empty URI", n + 6);
                b.prefix = intern(r, prefix, -1);
        } else if (strcmp(value, NETISO_XML_NS_XML) == 0 || strcmp(value, NS_XMLNS) == 0) {
                return stop(r, current_line(r), error,
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
check_chars(Reader *r, const char *text, gsize len, const char *where, GError **error)
{
        for (gsize i = 0; i < len; i++) {
                unsigned char c = (unsigned char)text[i];
                if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
                        return stop(r, current_line(r), error, "control character U+%04X in %s", c,
                                    where);
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
check_unique_names(Reader *r, const char **names, guint n, GError **error)
{
        g_autofree const char **sorted = g_new(const char *, n + 1);

        memcpy(sorted, names, sizeof(*names) * n);

        qsort(sorted, n, sizeof(*sorted), compare_names);
        for (guint i = 1; i < n; i++)
                if (strcmp(sorted[i - 1], sorted[i]) == 0) {
                        g_autofree char *name = netiso_quote(sorted[i]);
                        return stop(r, current_line(r), error, "attribute %s redefined", name);
                }
        return TRUE;
}

static gboolean
check_unique_attrs(Reader *r, const NetisoXmlAttr *attrs, guint n, GError **error)
{
        g_autofree const NetisoXmlAttr **sorted = g_new(const NetisoXmlAttr *, n + 1);

        for (guint i = 0; i < n; i++)
                sorted[i] = &attrs[i];
        qsort(sorted, n, sizeof(*sorted), compare_attrs);
        for (guint i = 1; i < n; i++)
                if (compare_attrs(&sorted[i - 1], &sorted[i]) == 0) {
                        g_autofree char *name = netiso_quote(sorted[i]->name);
                        g_autofree char *ns = netiso_quote(sorted[i]->ns);
                        return stop(r, current_line(r), error,
                                    "namespaced attribute %s in '%s' redefined", name, ns);
                }
        return TRUE;
}

static gboolean
read_attrs(Reader *r, const char *element, const char **names, const char **values,
           NetisoXmlNode *node, GError **error)
{
        guint n = 0, count = g_strv_length((char **)names);
        NetisoXmlAttr *attrs;

        if (count > r->limits->max_attrs) {
                g_autofree char *name = netiso_quote(element);
                return stop(r, current_line(r), error, "element %s has more than %u attributes",
                            name, r->limits->max_attrs);
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
                        return stop(r, current_line(r), error,
                                    "attribute name '%s' is not a valid qualified name", name);
                }
                if (a->prefix && !lookup(r, a->prefix, &a->ns)) {
                        g_autofree char *prefix = netiso_quote(a->prefix);
                        g_autofree char *name = netiso_quote(a->name);
                        g_autofree char *el = netiso_quote(element);
                        return stop(r, current_line(r), error,
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
        Reader *r = data;
        NetisoXmlNode *node;
        guint mark = r->bindings->len;

        r->seen_markup = TRUE;
        if (r->doc->root && !r->current) {
                stop(r, current_line(r), error, "extra content at the end of the document");
                return;
        }
        if (++r->depth > r->limits->max_depth) {
                stop(r, current_line(r), error, "elements nested deeper than %u levels",
                     r->limits->max_depth);
                return;
        }
        if (++r->elements > r->limits->max_elements) {
                stop(r, current_line(r), error, "more than %u elements", r->limits->max_elements);
                return;
        }
        g_array_append_val(r->marks, mark);

        node = g_new0(NetisoXmlNode, 1);
        g_ptr_array_add(r->doc->blocks, node);
        node->doc = r->doc;
        node->line = current_line(r);
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
        Reader *r = data;
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
        Reader *r = data;

        if (!check_chars(r, text, len, "text", error))
                return;
        /* GMarkup refuses text outside the root element unless it is whitespace. */
        if (r->current)
                g_string_append_len(r->doc->text, text, (gssize)len);
}

static int
line_at(const char *xml, const char *p)
{
        int line = 1;

        for (const char *q = xml; q < p; q++)
                line += *q == '\n';
        return line;
}

/* The line on which passthrough text starts: GMarkup calls back only once it
 * has read past the markup and the whitespace after it. Error paths only. */
static int
markup_line(const Reader *r, const char *text, gsize len)
{
        const char *at = NULL;

        if (text >= r->xml && text < r->xml + r->len)
                at = text;
        else if (len > 0)
                at = memmem(r->xml, r->len, text, len);
        return at ? line_at(r->xml, at) : current_line(r);
}

/* The encoding pseudo-attribute of <?xml ...?>, if any, must say UTF-8:
 * GMarkup reads UTF-8 only, and a document claiming otherwise is not what
 * libvirt writes. */
static gboolean
check_declaration(Reader *r, const char *text, gsize len, GError **error)
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
        Reader *r = data;

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

static const GMarkupParser callbacks = {
        .start_element = on_start,
        .end_element = on_end,
        .text = on_text,
        .passthrough = on_passthrough,
};

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
                    line_at(xml, bad), what);
        return FALSE;
}

/* GMarkup's English message ("Error on line 2 char 17: Element <U+201C>nam<U+201D>
 * was closed, ...") in house style: its line in front, ASCII quotes, lowercase. */
static GError *
markup_error(const Reader *r, const GError *markup)
{
        /* GMarkup may cut a character in two when it quotes the input. */
        g_autofree char *valid = g_utf8_make_valid(markup->message, -1);
        const char *m = valid;
        int line = current_line(r);
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
parse_error(Reader *r, const GError *markup, gboolean at_end)
{
        if (r->error)
                return g_steal_pointer(&r->error);
        /* libxml2's words, which the tests and users already know. */
        if (at_end && r->current) {
                g_autofree char *name = netiso_quote(r->current->name);
                return g_error_new(NETISO_ERROR, NETISO_ERROR_DOMAIN,
                                   "%s:%d: premature end of data in tag %s line %d", r->filename,
                                   current_line(r), name, r->current->line);
        }
        if (r->doc->root && !r->current)
                return g_error_new(NETISO_ERROR, NETISO_ERROR_DOMAIN,
                                   "%s:%d: extra content at the end of the document", r->filename,
                                   current_line(r));
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
        g_autoptr(GArray) bindings = g_array_new(FALSE, FALSE, sizeof(Binding));
        g_autoptr(GArray) marks = g_array_new(FALSE, FALSE, sizeof(guint));
        Reader r = { .filename = filename, .limits = limits, .bindings = bindings, .marks = marks };
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

        doc = g_new0(NetisoXmlDoc, 1);
        doc->strings = g_string_chunk_new(MIN(len, 65536) + 64);
        doc->text = g_string_new(NULL);
        doc->blocks = g_ptr_array_new_with_free_func(g_free);
        r.doc = doc;
        context = g_markup_parse_context_new(&callbacks, G_MARKUP_TREAT_CDATA_AS_TEXT, &r, NULL);
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

void
netiso_xml_doc_free(NetisoXmlDoc *doc)
{
        if (!doc)
                return;
        if (doc->strings)
                g_string_chunk_free(doc->strings);
        if (doc->text)
                g_string_free(doc->text, TRUE);
        if (doc->blocks)
                g_ptr_array_unref(doc->blocks);
        g_free(doc);
}

const NetisoXmlNode *
netiso_xml_doc_root(const NetisoXmlDoc *doc)
{
        return doc->root;
}

gboolean
netiso_xml_node_is(const NetisoXmlNode *node, const char *ns, const char *name)
{
        return g_strcmp0(node->ns, ns) == 0 && strcmp(node->name, name) == 0;
}

const char *
netiso_xml_node_attr(const NetisoXmlNode *node, const char *name)
{
        for (guint i = 0; i < node->n_attrs; i++)
                if (!node->attrs[i].ns && strcmp(node->attrs[i].name, name) == 0)
                        return node->attrs[i].value;
        return NULL;
}

char *
netiso_xml_node_text(const NetisoXmlNode *node)
{
        return g_strndup(node->doc->text->str + node->text_begin,
                         node->text_end - node->text_begin);
}

gboolean
netiso_xml_node_is_empty(const NetisoXmlNode *node)
{
        if (node->children)
                return FALSE;
        for (gsize i = node->text_begin; i < node->text_end; i++)
                if (!strchr(" \t\r\n", node->doc->text->str[i]))
                        return FALSE;
        return TRUE;
}
