/* libFuzzer harness for the XML reader under the domain reader (conf/xml-reader.c):
 * a refused input gives a one-line error; an accepted one gives a tree within
 * the limits, with resolved names, no control characters, consistent links. */
#include "autoconfig.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/xml-reader.h"
#include "fuzz-common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Small limits, so that inputs of libFuzzer's sizes reach them. */
static const NetisoXmlLimits limits = {
        .max_bytes = 16384,
        .max_depth = 16,
        .max_elements = 256,
        .max_attrs = 8,
};

static void G_GNUC_NORETURN
die(const char *what, const char *text)
{
        fprintf(stderr, "fuzz oracle: %s: [%s]\n", what, text ? text : "(null)");
        abort();
}

static void
check_name(const char *what, const char *name, gboolean may_be_null)
{
        if (!name && may_be_null)
                return;
        if (!name || !*name || strchr(name, ':') || !g_utf8_validate(name, -1, NULL))
                die(what, name);
}

static void
check_chars(const char *what, const char *text)
{
        if (!g_utf8_validate(text, -1, NULL))
                die(what, "not UTF-8");
        for (const char *p = text; *p; p++)
                if ((unsigned char)*p < 0x20 && !strchr("\t\n\r", *p))
                        die(what, text);
}

static void
check_node(const NetisoXmlNode *node, unsigned depth)
{
        g_autofree char *text = netiso_xml_node_text(node);

        if (depth > limits.max_depth)
                die("nesting beyond the limit", node->name);
        check_name("element local name", node->name, /* may_be_null */ FALSE);
        check_name("element prefix", node->prefix, /* may_be_null */ TRUE);
        if (node->ns && !*node->ns)
                die("empty namespace URI", node->name);
        if (node->n_attrs > limits.max_attrs)
                die("attributes beyond the limit", node->name);
        for (guint i = 0; i < node->n_attrs; i++) {
                const NetisoXmlAttr *a = &node->attrs[i];
                check_name("attribute local name", a->name, /* may_be_null */ FALSE);
                check_name("attribute prefix", a->prefix, /* may_be_null */ TRUE);
                if (!a->prefix != !a->ns)
                        die("attribute namespace without a prefix or the reverse", a->name);
                check_chars("attribute value", a->value);
                for (guint j = 0; j < i; j++)
                        if (g_strcmp0(a->ns, node->attrs[j].ns) == 0 &&
                            strcmp(a->name, node->attrs[j].name) == 0)
                                die("duplicate attribute", a->name);
        }
        if (strlen(text) != node->text_end - node->text_begin)
                die("text holds a NUL", node->name);
        check_chars("text", text);
        for (const NetisoXmlNode *c = node->children; c; c = c->next) {
                if (c->parent != node)
                        die("child whose parent is another element", c->name);
                if (c->text_begin < node->text_begin || c->text_end > node->text_end ||
                    (c->next && c->next->text_begin < c->text_end))
                        die("text ranges out of order", c->name);
        }
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
        fuzz_init();
        return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(NetisoXmlDoc) doc =
                netiso_xml_doc_new_from_data("fuzz.xml", (const char *)data, size, &limits, &error);
        const NetisoXmlNode *node;
        unsigned depth = 1, count = 0;

        if (!doc) {
                fuzz_check_error(error);
                return 0;
        }
        node = netiso_xml_doc_root(doc);
        if (!node || node->parent)
                die("root element missing or with a parent", NULL);
        /* Preorder walk without recursion: the links are what is checked. */
        while (node) {
                check_node(node, depth);
                if (++count > limits.max_elements)
                        die("elements beyond the limit", node->name);
                if (node->children) {
                        node = node->children;
                        depth++;
                        continue;
                }
                while (node && !node->next) {
                        node = node->parent;
                        depth--;
                }
                if (node)
                        node = node->next;
        }
        if (depth != 0)
                die("walk did not come back to the top", NULL);
        return 0;
}
