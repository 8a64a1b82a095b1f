/* A writer for libvirt nwfilter documents, on top of libxml2's xmlTextWriter:
 * fixed formatting and name-based UUIDs, so the same filter always gives the
 * same bytes. Used by nwfilter.c only. */
#pragma once

#include <glib.h>

typedef struct {
        const char *name;
        const char *value;
} NetisoNwfilterAttr;

/* One <rule> holding at most one protocol element. */
typedef struct {
        const char *action;          /* accept, drop */
        const char *direction;       /* out: from the guest; in: to the guest; inout */
        int priority;                /* -1000..1000 */
        gboolean no_statematch;      /* statematch='false' */
        const char *protocol;        /* element name; NULL: the rule matches the whole chain */
        const char *state;           /* state attribute, written after attrs; NULL: none */
        NetisoNwfilterAttr attrs[6]; /* ends at the first NULL name */
} NetisoNwfilterRule;

typedef struct NetisoNwfilterWriter NetisoNwfilterWriter;

/* Starts <filter name chain [priority]> with its <uuid>. */
NetisoNwfilterWriter *netiso_nwfilter_writer_new(const char *name, const char *chain,
                                                 const char *priority);
void netiso_nwfilter_writer_free(NetisoNwfilterWriter *writer);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NetisoNwfilterWriter, netiso_nwfilter_writer_free)

/* text must not contain "--" (XML comments cannot hold it). */
void netiso_nwfilter_writer_comment(NetisoNwfilterWriter *writer, const char *text);
void netiso_nwfilter_writer_filterref(NetisoNwfilterWriter *writer, const char *filter);
void netiso_nwfilter_writer_rule(NetisoNwfilterWriter *writer, const NetisoNwfilterRule *rule);

const char *netiso_nwfilter_writer_name(const NetisoNwfilterWriter *writer);

/* Closes the document and returns it. Fails only when libxml2 ran out of
 * memory. */
char *netiso_nwfilter_writer_finish(NetisoNwfilterWriter *writer, GError **error);

/* RFC 9562 version 8 UUID: SHA-256 over a fixed namespace and the name. */
char *netiso_nwfilter_uuid(const char *name);
