/* The XML reader on GMarkup (conf/xml-reader.c): namespaces and prefixes, references,
 * CDATA, comments and processing instructions, attribute quoting, the
 * hostile-input limits, and the position and wording of its errors. */
#include "autoconfig.h"

#include <string.h>

#include "conf/xml-reader.h"
#include "util/error.h"

static const NetisoXmlLimits limits = {
        .max_bytes = 4096,
        .max_depth = 8,
        .max_elements = 32,
        .max_attrs = 4,
};

static NetisoXmlDoc *
parse_len(const char *xml, gsize len, GError **error)
{
        return netiso_xml_doc_new_from_data("t.xml", xml, len, &limits, error);
}

static NetisoXmlDoc *
parse_ok(const char *xml)
{
        g_autoptr(GError) error = NULL;
        NetisoXmlDoc *doc = parse_len(xml, strlen(xml), &error);

        g_assert_no_error(error);
        g_assert_nonnull(doc);
        return doc;
}

static const NetisoXmlNode *
child(const NetisoXmlNode *node, guint n)
{
        const NetisoXmlNode *c = node->children;

        while (c && n--)
                c = c->next;
        if (!c)
                g_error("element %s has too few children", node->name);
        return c;
}

static const NetisoXmlAttr *
attr_at(const NetisoXmlNode *node, guint n)
{
        g_assert_cmpuint(n, <, node->n_attrs);
        return &node->attrs[n];
}

static void
assert_text(const NetisoXmlNode *node, const char *want)
{
        g_autofree char *text = netiso_xml_node_text(node);

        g_assert_cmpstr(text, ==, want);
}

static void
test_namespaces(void)
{
        g_autoptr(NetisoXmlDoc) doc =
                parse_ok("<domain xmlns:a='urn:a'>"
                         "<a:x a:k='1' k='2'/>"
                         "<y xmlns='urn:d' xml:lang='en'><z/><w xmlns=''/></y>"
                         "<a:x xmlns:a='urn:b'><a:v/></a:x>"
                         "<b:x xmlns:b='urn:a'/>"
                         "</domain>");
        const NetisoXmlNode *root = netiso_xml_doc_root(doc);
        const NetisoXmlNode *x = child(root, 0), *y = child(root, 1);

        g_assert_true(netiso_xml_node_is(root, NULL, "domain"));
        g_assert_cmpuint(root->n_attrs, ==, 0); /* a declaration is not an attribute */
        g_assert_true(netiso_xml_node_is(x, "urn:a", "x"));
        g_assert_cmpstr(x->prefix, ==, "a");
        g_assert_false(netiso_xml_node_is(x, NULL, "x"));
        /* A prefixed attribute is in its prefix's namespace, an unprefixed one in none. */
        g_assert_cmpstr(attr_at(x, 0)->ns, ==, "urn:a");
        g_assert_cmpstr(attr_at(x, 0)->prefix, ==, "a");
        g_assert_cmpstr(attr_at(x, 0)->name, ==, "k");
        g_assert_null(attr_at(x, 1)->ns);
        g_assert_cmpstr(netiso_xml_node_attr(x, "k"), ==, "2");
        g_assert_null(netiso_xml_node_attr(x, "a:k"));
        /* The default namespace applies to elements only, and xmlns='' undeclares it. */
        g_assert_true(netiso_xml_node_is(y, "urn:d", "y"));
        g_assert_cmpstr(attr_at(y, 0)->ns, ==, NETISO_XML_NS_XML);
        g_assert_true(netiso_xml_node_is(child(y, 0), "urn:d", "z"));
        g_assert_true(netiso_xml_node_is(child(y, 1), NULL, "w"));
        /* An inner declaration shadows the outer one, for its element only. */
        g_assert_true(netiso_xml_node_is(child(root, 2), "urn:b", "x"));
        g_assert_true(netiso_xml_node_is(child(child(root, 2), 0), "urn:b", "v"));
        g_assert_true(netiso_xml_node_is(child(root, 3), "urn:a", "x"));
        g_assert_null(child(root, 3)->next);
}

static void
test_references_cdata_comments(void)
{
        g_autoptr(NetisoXmlDoc) doc =
                parse_ok("<?xml version='1.0' encoding='UTF-8'?>\n"
                         "<!-- before -->\n"
                         "<r a='&lt;&gt;&amp;&quot;&apos;&#65;&#x42;'>"
                         "x<!-- c -->y<?pi data?>&amp;<![CDATA[<b>&amp;</b>]]>&#x20AC;"
                         "<e>1</e>2</r>\n<!-- after -->\n");
        const NetisoXmlNode *r = netiso_xml_doc_root(doc);

        g_assert_cmpstr(netiso_xml_node_attr(r, "a"), ==, "<>&\"'AB");
        /* Comments and PIs vanish; CDATA is text, read literally; descendants' text counts. */
        assert_text(r, "xy&<b>&amp;</b>\xe2\x82\xac"
                       "12");
        assert_text(child(r, 0), "1");
        g_assert_cmpuint(r->n_attrs, ==, 1);
        g_assert_null(r->children->children);
}

static void
test_attribute_quoting(void)
{
        g_autoptr(NetisoXmlDoc) doc = parse_ok("<r a=\"it's\" b='say \"hi\"' c = 'x\ny\tz' d=''/>");
        const NetisoXmlNode *r = netiso_xml_doc_root(doc);

        g_assert_cmpstr(netiso_xml_node_attr(r, "a"), ==, "it's");
        g_assert_cmpstr(netiso_xml_node_attr(r, "b"), ==, "say \"hi\"");
        /* Attribute-value normalisation: each whitespace character becomes a space. */
        g_assert_cmpstr(netiso_xml_node_attr(r, "c"), ==, "x y z");
        g_assert_cmpstr(netiso_xml_node_attr(r, "d"), ==, "");
        g_assert_null(netiso_xml_node_attr(r, "e"));
}

static void
test_text_and_lines(void)
{
        g_autoptr(NetisoXmlDoc) doc =
                parse_ok("\xef\xbb\xbf<r>\n  <a>x<b>y</b>z</a>\n  <c> \t\n</c><d\n k='v'/>\n</r>");
        const NetisoXmlNode *r = netiso_xml_doc_root(doc);
        const NetisoXmlNode *a = child(r, 0), *c = child(r, 1), *d = child(r, 2);

        g_assert_cmpint(r->line, ==, 1);
        g_assert_cmpint(a->line, ==, 2);
        g_assert_cmpint(c->line, ==, 3);
        g_assert_cmpint(d->line, ==, 5); /* where the start tag ends */
        assert_text(a, "xyz");
        g_assert_true(a->children->parent == a);
        g_assert_false(netiso_xml_node_is_empty(a));
        g_assert_true(netiso_xml_node_is_empty(c));
        g_assert_true(netiso_xml_node_is_empty(d));
        g_assert_false(netiso_xml_node_is_empty(r));
}

typedef struct {
        const char *name, *xml, *message;
} Bad;

static const Bad bad_inputs[] = {
        /* syntax, where GMarkup finds it */
        { "mismatch", "<r>\n<a>\n</b></r>",
          "t.xml:3: element 'b' was closed, but the currently open element is 'a'" },
        { "unclosed", "<r>\n<a></a>\n", "t.xml:3: premature end of data in tag r line 1" },
        { "unknown-entity", "<r>\n&lol;</r>", "t.xml:2: entity name 'lol' is not known" },
        { "nul-reference", "<r>&#0;</r>",
          "t.xml:1: character reference '0' does not encode a permitted character" },
        { "unquoted-attribute", "<r a=1/>",
          "t.xml:1: odd character '1', expected an open quote mark after the equals sign when "
          "giving value for attribute 'a' of element 'r'" },
        /* GMarkup quoted the first byte of a character alone (fuzz-xmlread, fuzz-domain) */
        { "message-cut-in-a-character",
          "<r>\n<a\xef\xbb\xbf"
          "f</a></r>",
          "t.xml:2: 'a\xef\xbb\xbf"
          "f<' is not a valid name: '\xef\xbf\xbd'" },
        { "two-roots", "<r/>\n<s/>", "t.xml:2: extra content at the end of the document" },
        { "trailing-text", "<r/>\njunk", "t.xml:2: extra content at the end of the document" },
        { "only-a-comment", "<!-- c -->", "t.xml: no root element" },
        /* what GMarkup would let through */
        { "doctype", "<?xml version='1.0'?>\n\n<!DOCTYPE r>\n<r/>",
          "t.xml:3: DOCTYPE is not allowed (no DTDs, no entities)" },
        { "doctype-subset", "<!DOCTYPE r [\n<!ENTITY a 'b'>\n]>\n<r>&a;</r>",
          "t.xml:1: DOCTYPE is not allowed (no DTDs, no entities)" },
        { "element-declaration", "<!ELEMENT r ANY>\n<r/>",
          "t.xml:2: document ended unexpectedly inside a comment or processing instruction" },
        { "control-reference", "<r>\n&#1;</r>", "t.xml:2: control character U+0001 in text" },
        { "control-reference-attribute", "<r a='&#x1f;'/>",
          "t.xml:1: control character U+001F in attribute a" },
        { "late-declaration", "<r/>\n<?xml version='1.0'?>",
          "t.xml:2: XML declaration allowed only at the start of the document" },
        { "declaration-after-space", " <?xml version='1.0'?><r/>",
          "t.xml:1: XML declaration allowed only at the start of the document" },
        { "latin1", "<?xml version='1.0' encoding='ISO-8859-1'?><r/>",
          "t.xml:1: encoding 'ISO-8859-1' is not supported (UTF-8 only)" },
        { "bad-utf8", "<r>\n\n\xc3(</r>", "t.xml:3: input is not valid UTF-8" },
        { "overlong-utf8", "<r>\xc0\xaf</r>", "t.xml:1: input is not valid UTF-8" },
        { "control-character", "<r>\n\x01</r>", "t.xml:2: control character in input" },
        { "noncharacter", "<r>\xef\xbf\xbf</r>", "t.xml:1: character U+FFFE or U+FFFF in input" },
        { "duplicate-attribute", "<r a='1' a='2'/>", "t.xml:1: attribute a redefined" },
        { "duplicate-declaration", "<r xmlns:p='urn:a' xmlns:p='urn:b'/>",
          "t.xml:1: attribute xmlns:p redefined" },
        { "duplicate-expanded", "<r xmlns:p='urn:a' xmlns:q='urn:a' p:k='1' q:k='2'/>",
          "t.xml:1: namespaced attribute k in 'urn:a' redefined" },
        /* namespaces */
        { "undefined-prefix", "<r>\n<p:a/></r>",
          "t.xml:2: namespace prefix p on a is not defined" },
        { "undefined-attribute-prefix", "<r p:k='v'/>",
          "t.xml:1: namespace prefix p for k on r is not defined" },
        { "prefix-out-of-scope", "<r><a xmlns:p='urn:a'/><p:b/></r>",
          "t.xml:1: namespace prefix p on b is not defined" },
        { "two-colons", "<a:b:c xmlns:a='urn:a'/>",
          "t.xml:1: element name 'a:b:c' is not a valid qualified name" },
        { "empty-local-name", "<a: xmlns:a='urn:a'/>",
          "t.xml:1: element name 'a:' is not a valid qualified name" },
        { "xmlns-element", "<xmlns:r/>",
          "t.xml:1: element name 'xmlns:r' is not a valid "
          "qualified name" },
        { "empty-prefix-binding", "<r xmlns:p=''/>",
          "t.xml:1: namespace prefix p is bound to an empty URI" },
        { "rebind-xml", "<r xmlns:xml='urn:a'/>",
          "t.xml:1: namespace declaration xmlns:xml='urn:a' is reserved" },
        { "declare-xmlns", "<r xmlns:xmlns='urn:a'/>",
          "t.xml:1: namespace declaration xmlns:xmlns='urn:a' is reserved" },
        /* limits */
        { "depth", "<a><a><a><a><a><a><a><a>\n<a></a></a></a></a></a></a></a></a></a>",
          "t.xml:2: elements nested deeper than 8 levels" },
        { "attributes", "<r a='' b='' c='' d='' e=''/>",
          "t.xml:1: element r has more than 4 attributes" },
        { "attributes-with-declarations", "<r xmlns='urn:a' xmlns:b='urn:b' a='' c='' d=''/>",
          "t.xml:1: element r has more than 4 attributes" },
        { "empty", "", "t.xml: input is empty" },
};

static void
check_refused(const char *xml, gsize len, const char *message)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(NetisoXmlDoc) doc = parse_len(xml, len, &error);

        g_assert_null(doc);
        g_assert_error(error, NETISO_ERROR, NETISO_ERROR_DOMAIN);
        g_assert_cmpstr(error->message, ==, message);
}

static void
test_refuses(gconstpointer data)
{
        const Bad *bad = data;

        check_refused(bad->xml, strlen(bad->xml), bad->message);
}

static void
test_refuses_nul_and_size(void)
{
        static const char nul[] = "<r>\n\n<a>\0</a></r>";
        g_autoptr(GString) big = g_string_new("<r>");
        g_autoptr(GString) many = g_string_new("<r>");

        check_refused(nul, sizeof(nul) - 1, "t.xml:3: NUL byte in input");
        while (big->len < limits.max_bytes)
                g_string_append(big, "<a>xxxxxxxx</a>");
        g_string_append(big, "</r>");
        check_refused(big->str, big->len, "t.xml: input is larger than 4096 bytes");
        /* The root and 31 more elements are the limit; one more is refused. */
        for (guint i = 1; i < limits.max_elements; i++)
                g_string_append(many, "<a/>");
        g_string_append(many, "</r>");
        g_autoptr(GError) error = NULL;
        g_autoptr(NetisoXmlDoc) doc = parse_len(many->str, many->len, &error);
        g_assert_no_error(error);
        g_string_insert(many, 3, "<a/>");
        check_refused(many->str, many->len, "t.xml:1: more than 32 elements");
}

static void
test_depth_limit_is_exact(void)
{
        g_autoptr(NetisoXmlDoc) doc =
                parse_ok("<a><a><a><a><a><a><a><a></a></a></a></a></a></a></a></a>");
        const NetisoXmlNode *n = netiso_xml_doc_root(doc);
        guint depth = 1;

        while (n->children) {
                n = n->children;
                depth++;
        }
        g_assert_cmpuint(depth, ==, limits.max_depth);
}

/* Errors are for callers to report: the reader itself prints nothing. */
static void
test_prints_nothing(void)
{
        if (g_test_subprocess()) {
                for (gsize i = 0; i < G_N_ELEMENTS(bad_inputs); i++) {
                        g_autoptr(GError) error = NULL;
                        g_assert_null(
                                parse_len(bad_inputs[i].xml, strlen(bad_inputs[i].xml), &error));
                }
                return;
        }
        g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
        g_test_trap_assert_passed();
        g_test_trap_assert_stdout("");
        g_test_trap_assert_stderr("");
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/xml-reader/namespaces-and-prefixes", test_namespaces);
        g_test_add_func("/xml-reader/references-cdata-comments-pis",
                        test_references_cdata_comments);
        g_test_add_func("/xml-reader/attribute-quoting", test_attribute_quoting);
        g_test_add_func("/xml-reader/text-in-document-order-and-lines", test_text_and_lines);
        for (gsize i = 0; i < G_N_ELEMENTS(bad_inputs); i++) {
                g_autofree char *name =
                        g_strdup_printf("/xml-reader/refuses/%s", bad_inputs[i].name);
                g_test_add_data_func(name, &bad_inputs[i], test_refuses);
        }
        g_test_add_func("/xml-reader/refuses/nul-size-and-element-count",
                        test_refuses_nul_and_size);
        g_test_add_func("/xml-reader/depth-limit-is-exact", test_depth_limit_is_exact);
        g_test_add_func("/xml-reader/prints-nothing", test_prints_nothing);
        return g_test_run();
}
