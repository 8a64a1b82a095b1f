/* The parts of a libvirt domain XML that isolation needs, read with our own
 * reader on GMarkup (xml-reader.h): no network, no DTD, no entities but XML's
 * five, bounded size, depth, element and attribute counts. */
#pragma once

#include <glib.h>

#include "conf/network.h"
#include "util/addr.h"

#define NETISO_METADATA_NS "urn:blixard:network-isolation:1"
#define NETISO_DEFAULT_TENANT "default"
#define NETISO_DOMAIN_XML_MAX (4 * 1024 * 1024) /* bytes accepted on stdin/file */
#define NETISO_DOMAIN_XML_DEPTH_MAX 256         /* element nesting accepted */
#define NETISO_DOMAIN_XML_ELEMENTS_MAX 200000   /* elements in one document */
#define NETISO_DOMAIN_XML_ATTRS_MAX 256         /* attributes of one element */
#define NETISO_IFACE_ADDR_MAX 256               /* guest addresses per interface */

typedef enum {
        NETISO_IFACE_ETHERNET, /* routed tap: what the hook isolates */
        NETISO_IFACE_BRIDGE,
        NETISO_IFACE_NETWORK,
        NETISO_IFACE_DIRECT,    /* macvtap: bypasses host netfilter */
        NETISO_IFACE_HOSTDEV,   /* PCI passthrough: bypasses the host */
        NETISO_IFACE_VHOSTUSER, /* userspace switch: bypasses the host */
        NETISO_IFACE_USER,      /* slirp/passt: host process, not a tap */
        NETISO_IFACE_OTHER,     /* mcast, server, client, udp, vdpa, null, vds... */
        _NETISO_IFACE_MAX,
} NetisoIfaceType;

typedef struct {
        NetisoIfaceType type;
        char *type_name;   /* as written in the XML, for messages */
        unsigned index;    /* 0-based position among <interface> elements */
        char *tap;         /* <target dev>, NULL before the start phase */
        char *mac;         /* lower-case "52:54:00:..", NULL if absent */
        GArray *addresses; /* of NetisoCidr (full-length), guest addresses, no duplicates */
        char *host_v4;     /* first host side <source><ip address> if any, else NULL */
        char *host_v6;
        char *filterref; /* <filterref filter=...> name ([A-Za-z0-9._-]), NULL if none */
        /* Bridged interfaces (type='bridge' and type='network'): */
        char *bridge;       /* <source bridge=...>, or the network's once resolved */
        char *network;      /* type='network': <source network=...> */
        NetisoNetwork *net; /* type='network': its status, set by netiso_domain_resolve() */
        GArray *learned;    /* of NetisoCidr: addresses of the network's DHCP leases for this
                             * MAC, set by the caller (watch); NULL: not known here */
} NetisoIface;

typedef struct {
        char *name;               /* non-empty, no '/' or control characters, not "." or ".." */
        char *uuid;               /* canonical lower-case, NULL if absent */
        char *tenant;             /* validated; NETISO_DEFAULT_TENANT when no metadata */
        gboolean tenant_explicit; /* metadata element present */
        GPtrArray *ifaces;        /* of NetisoIface* */
} NetisoDomain;

/* Parse domain XML. filename is used in messages.
 * Errors (NETISO_ERROR_DOMAIN) are one line naming the place:
 * "domain 'web1': interface 2: ..." once the name is known, "FILE:LINE: ..."
 * for XML syntax, "FILE: ..." before the name is known. A DOCTYPE, a NUL
 * byte, more than NETISO_DOMAIN_XML_MAX bytes, nesting deeper than
 * NETISO_DOMAIN_XML_DEPTH_MAX and the other limits above are refused outright. */
NetisoDomain *netiso_domain_new_from_xml(const char *filename, const char *xml, gsize len,
                                         GError **error);

/* Read at most NETISO_DOMAIN_XML_MAX bytes from a file or "-" (stdin,
 * named "<stdin>" in messages). */
NetisoDomain *netiso_domain_new_from_file(const char *path, GError **error);

/* Frees ifaces with the array's own free function: code that builds a
 * NetisoDomain by hand creates it with g_ptr_array_new_with_free_func(
 * (GDestroyNotify)netiso_iface_free). Both accept NULL. */
void netiso_domain_free(NetisoDomain *domain);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NetisoDomain, netiso_domain_free)
void netiso_iface_free(NetisoIface *iface);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NetisoIface, netiso_iface_free)

/* Read the status of the libvirt network of every type='network'
 * interface (network.h): its bridge when the XML does not name it yet, its
 * services and reservations. A network that is not running, or whose
 * guests bypass the host (macvtap, hostdev), is an error naming the
 * interface. Not for the prepare phase: libvirt picks the bridge later. */
gboolean netiso_domain_resolve(NetisoDomain *domain, GError **error);

/* Is the interface on a bridge (type='bridge' or type='network')? */
gboolean netiso_iface_type_is_bridged(NetisoIfaceType type);

/* Can host netfilter see this interface's traffic at all? */
gboolean netiso_iface_type_is_filterable(NetisoIfaceType type);
const char *netiso_iface_type_to_string(NetisoIfaceType type);

/* The running domains as libvirtd reported them. */
typedef struct {
        GPtrArray *domains;     /* of NetisoDomain*: parsed live XML */
        GHashTable *unreadable; /* domain name -> why its XML cannot be used, naming it */
        gint64 listed_usec;     /* g_get_real_time() just before libvirtd was asked */
} NetisoRunning;

NetisoRunning *netiso_running_new(gint64 listed_usec);
void netiso_running_free(NetisoRunning *running);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NetisoRunning, netiso_running_free)
