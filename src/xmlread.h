/* A small read-only XML tree on GLib's GMarkup parser, for documents from
 * outside (libvirt's domain XML): namespaces resolved, no DTD, no external
 * anything, and bounded size, depth, element and attribute counts. */
#pragma once

#include <glib.h>

#define NETISO_XML_NS_XML "http://www.w3.org/XML/1998/namespace"

typedef struct {
        gsize max_bytes;       /* input larger than this is refused before parsing */
        unsigned max_depth;    /* element nesting */
        unsigned max_elements; /* in the whole document */
        unsigned max_attrs;    /* per element, namespace declarations included */
} NetisoXmlLimits;

typedef struct {
        const char *name;   /* local name */
        const char *prefix; /* as written, NULL when unprefixed */
        const char *ns;     /* namespace URI; NULL for unprefixed attributes */
        const char *value;  /* references replaced, whitespace normalised */
} NetisoXmlAttr;

typedef struct NetisoXmlDoc NetisoXmlDoc;
typedef struct NetisoXmlNode NetisoXmlNode;

/* An element. Text, CDATA and references are kept as the text of the
 * elements around them; comments and processing instructions are dropped.
 * Everything belongs to the document. */
struct NetisoXmlNode {
        const char *name;   /* local name */
        const char *prefix; /* as written, NULL when unprefixed */
        const char *ns;     /* namespace URI in scope, NULL for none */
        int line;           /* line on which the start tag ends */
        guint n_attrs;      /* xmlns declarations are not attributes */
        const NetisoXmlAttr *attrs;
        const NetisoXmlNode *parent;
        const NetisoXmlNode *children; /* first child element, then ->next */
        const NetisoXmlNode *next;
        /* private */
        const NetisoXmlDoc *doc;
        NetisoXmlNode *last_child;
        gsize text_begin, text_end; /* in the document's text, descendants' included */
};

/* Parse a document from memory (UTF-8, an optional BOM). Refused: input
 * that is empty, larger than limits->max_bytes, not UTF-8, holds a NUL or a
 * control character other than tab and newlines, any DOCTYPE or other
 * markup declaration, an encoding other than UTF-8, entities other than the
 * five predefined ones (character references are fine), undeclared
 * prefixes, duplicate attributes, and the limits. Nothing is printed; the
 * error (NETISO_ERROR_DOMAIN) is one line, "FILE:LINE: what" or "FILE: what".
 * Unlike libxml2, a literal '<' in an attribute value and "]]>" in text pass:
 * GMarkup hands them over decoded, like "&lt;" and "]]&gt;". */
NetisoXmlDoc *netiso_xml_doc_new_from_data(const char *filename, const char *xml, gsize len,
                                           const NetisoXmlLimits *limits, GError **error);
void netiso_xml_doc_free(NetisoXmlDoc *doc);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NetisoXmlDoc, netiso_xml_doc_free)

const NetisoXmlNode *netiso_xml_doc_root(const NetisoXmlDoc *doc);

/* Is node the element ns:name? ns NULL means no namespace. */
gboolean netiso_xml_node_is(const NetisoXmlNode *node, const char *ns, const char *name);

/* The value of the attribute name in no namespace, NULL when absent. */
const char *netiso_xml_node_attr(const NetisoXmlNode *node, const char *name);

/* All character data inside node, descendants' included, in document order
 * (XPath's string value). */
char *netiso_xml_node_text(const NetisoXmlNode *node);

/* No child element and no text but XML whitespace. */
gboolean netiso_xml_node_is_empty(const NetisoXmlNode *node);
