/* The XML tree of xml-tree.h: its storage and the accessors callers use. */
#include "autoconfig.h"

#include <string.h>

#include "conf/xml-tree.h"

NetisoXmlDoc *
netiso_xml_doc_new(gsize len)
{
        NetisoXmlDoc *doc = g_new0(NetisoXmlDoc, 1);

        doc->strings = g_string_chunk_new(MIN(len, 65536) + 64);
        doc->text = g_string_new(NULL);
        doc->blocks = g_ptr_array_new_with_free_func(g_free);
        return doc;
}

void
netiso_xml_doc_free(NetisoXmlDoc *doc)
{
        if (!doc)
                return;
        if (doc->strings)
                g_string_chunk_free(doc->strings);
        if (doc->text)
                g_string_free(doc->text, /* free_segment */ TRUE);
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
        for (gsize i = node->text_begin; i < node->text_end; i++) {
                char c = node->doc->text->str[i];
                if (c != ' ' && c != '\t' && c != '\r' && c != '\n')
                        return FALSE;
        }
        return TRUE;
}
