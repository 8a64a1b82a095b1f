/* Writes libvirt nwfilter documents with libxml2's xmlTextWriter: two-space
 * indentation, single quotes like libvirt's own filters, name-based UUIDs. */
#include "autoconfig.h"

#include <libxml/xmlwriter.h>
#include <string.h>

#include "nwfilter/nwfilter-xml.h"
#include "util/error.h"

struct NetisoNwfilterWriter {
        char *name;
        xmlBufferPtr buf;
        xmlTextWriterPtr w;
        gboolean failed; /* a libxml2 call failed: checked once, at the end */
};

/* Name-based UUIDs, so a regenerated filter keeps its UUID and redefining it
 * updates the filter libvirt has instead of clashing with it. */
static const guint8 uuid_namespace[16] = {
        0xf5, 0xfc, 0x5b, 0x93, 0xbc, 0x83, 0x46, 0x28,
        0x80, 0xb8, 0x8e, 0x14, 0xf0, 0x06, 0x84, 0x1c,
};

char *
netiso_nwfilter_uuid(const char *name)
{
        g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
        guint8 d[32];
        gsize len = sizeof(d);

        g_checksum_update(sum, uuid_namespace, sizeof(uuid_namespace));
        g_checksum_update(sum, (const guchar *)name, strlen(name));
        g_checksum_get_digest(sum, d, &len);
        d[6] = (d[6] & 0x0f) | 0x80; /* version 8 */
        d[8] = (d[8] & 0x3f) | 0x80; /* RFC 9562 variant */
        return g_strdup_printf(
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", d[0], d[1],
                d[2], d[3], d[4], d[5], d[6], d[7], d[8], d[9], d[10], d[11], d[12], d[13], d[14],
                d[15]);
}

static void
check(NetisoNwfilterWriter *wr, int rc)
{
        if (rc < 0)
                wr->failed = TRUE;
}

static void
start(NetisoNwfilterWriter *wr, const char *element)
{
        check(wr, xmlTextWriterStartElement(wr->w, BAD_CAST element));
}

static void
attr(NetisoNwfilterWriter *wr, const char *name, const char *value)
{
        check(wr, xmlTextWriterWriteAttribute(wr->w, BAD_CAST name, BAD_CAST value));
}

static void
end(NetisoNwfilterWriter *wr)
{
        check(wr, xmlTextWriterEndElement(wr->w));
}

NetisoNwfilterWriter *
netiso_nwfilter_writer_new(const char *name, const char *chain, const char *priority)
{
        NetisoNwfilterWriter *wr = g_new0(NetisoNwfilterWriter, 1);
        g_autofree char *uuid = netiso_nwfilter_uuid(name);

        wr->name = g_strdup(name);
        wr->buf = xmlBufferCreate();
        wr->w = wr->buf ? xmlNewTextWriterMemory(wr->buf, 0) : NULL;
        if (!wr->w) {
                wr->failed = TRUE;
                return wr;
        }
        check(wr, xmlTextWriterSetIndent(wr->w, 1));
        check(wr, xmlTextWriterSetIndentString(wr->w, BAD_CAST "  "));
        check(wr, xmlTextWriterSetQuoteChar(wr->w, '\''));
        start(wr, "filter");
        attr(wr, "name", name);
        attr(wr, "chain", chain);
        if (priority)
                attr(wr, "priority", priority);
        check(wr, xmlTextWriterWriteElement(wr->w, BAD_CAST "uuid", BAD_CAST uuid));
        return wr;
}

void
netiso_nwfilter_writer_free(NetisoNwfilterWriter *wr)
{
        if (!wr)
                return;
        /* the writer flushes into the buffer: free it first */
        if (wr->w)
                xmlFreeTextWriter(wr->w);
        if (wr->buf)
                xmlBufferFree(wr->buf);
        g_free(wr->name);
        g_free(wr);
}

void
netiso_nwfilter_writer_comment(NetisoNwfilterWriter *wr, const char *text)
{
        g_assert(!strstr(text, "--"));
        if (!wr->failed)
                check(wr, xmlTextWriterWriteComment(wr->w, BAD_CAST text));
}

void
netiso_nwfilter_writer_filterref(NetisoNwfilterWriter *wr, const char *filter)
{
        if (wr->failed)
                return;
        start(wr, "filterref");
        attr(wr, "filter", filter);
        end(wr);
}

void
netiso_nwfilter_writer_rule(NetisoNwfilterWriter *wr, const NetisoNwfilterRule *r)
{
        g_autofree char *priority = g_strdup_printf("%d", r->priority);

        if (wr->failed)
                return;
        start(wr, "rule");
        attr(wr, "action", r->action);
        attr(wr, "direction", r->direction);
        attr(wr, "priority", priority);
        if (r->no_statematch)
                attr(wr, "statematch", "false");
        if (r->protocol) {
                start(wr, r->protocol);
                for (gsize i = 0; i < G_N_ELEMENTS(r->attrs) && r->attrs[i].name; i++)
                        attr(wr, r->attrs[i].name, r->attrs[i].value);
                if (r->state)
                        attr(wr, "state", r->state);
                end(wr);
        }
        end(wr);
}

const char *
netiso_nwfilter_writer_name(const NetisoNwfilterWriter *wr)
{
        return wr->name;
}

char *
netiso_nwfilter_writer_finish(NetisoNwfilterWriter *wr, GError **error)
{
        if (!wr->failed) {
                check(wr, xmlTextWriterEndDocument(wr->w));
                check(wr, xmlTextWriterFlush(wr->w));
        }
        if (wr->failed) {
                /* No closer code exists: libxml2 fails here only without memory. */
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_POLICY,
                            "nwfilter '%s': cannot write XML (out of memory)", wr->name);
                return NULL;
        }
        return g_strdup((const char *)xmlBufferContent(wr->buf));
}
