/* The read-only XML tree the reader builds (xml-reader.h): elements with
 * resolved namespaces, attributes and the document's character data. */
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

struct NetisoXmlDoc {
        NetisoXmlNode *root;
        GStringChunk *strings; /* names, URIs and values */
        GString *text;         /* all character data, in document order */
        GPtrArray *blocks;     /* nodes and attribute arrays */
};

/* An empty document able to hold about len bytes of input. */
NetisoXmlDoc *netiso_xml_doc_new(gsize len);
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
