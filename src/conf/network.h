/* A libvirt network as libvirtd wrote its status for the running network
 * (/run/libvirt/network/NAME.xml): the bridge, its own addresses, whether
 * its dnsmasq serves DNS and DHCP, and the DHCP reservations. Read from the
 * file, never asked of libvirtd: the hook must not call it. */
#pragma once

#include <glib.h>

#include "util/addr.h"

#define NETISO_NETWORK_XML_MAX (4 * 1024 * 1024)
#define NETISO_NETWORK_HOSTS_MAX 65536 /* DHCP reservations read */

/* One <dhcp><host mac=... ip=.../> of an IPv4 <ip>. */
typedef struct {
        char *mac;       /* lower case */
        NetisoCidr addr; /* full length */
} NetisoNetworkHost;

typedef struct {
        char *name;
        char *forward; /* <forward mode>: "nat", "route", "open", "bridge", ...; "none" without */
        char *bridge;  /* <bridge name>, NULL when the network has none (macvtap, hostdev) */
        GArray *addresses;  /* of NetisoCidr, the bridge's own (full length) */
        GArray *prefixes;   /* of NetisoCidr, the network's: each <ip>'s prefix, host bits clear */
        gboolean dns;       /* dnsmasq answers DNS on them (no <dns enable='no'/>) */
        gboolean dhcp4;     /* an IPv4 <ip> has <dhcp> */
        gboolean dhcp6;     /* an IPv6 <ip> has <dhcp> */
        GArray *ra_only_v6; /* of NetisoCidr: IPv6 prefixes without <dhcp> (SLAAC only) */
        GArray *hosts;      /* of NetisoNetworkHost: IPv4 reservations by MAC */
} NetisoNetwork;

/* Parse a network status file (<networkstatus><network>...) or a plain
 * <network> definition. filename is for messages. Errors are one line,
 * NETISO_ERROR_DOMAIN. */
NetisoNetwork *netiso_network_new_from_xml(const char *filename, const char *xml, gsize len,
                                           GError **error);
/* The status file of the running network name, read with the same limits. */
NetisoNetwork *netiso_network_new_for_name(const char *name, GError **error);
void netiso_network_free(NetisoNetwork *net);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NetisoNetwork, netiso_network_free)

/* Does libvirt run a dnsmasq on the bridge whose DNS or DHCP guests use? */
gboolean netiso_network_has_services(const NetisoNetwork *net);
/* A bridge libvirt owns (forward mode none, nat, route, open): every port
 * is a guest's. FALSE for forward mode bridge (a host bridge with its
 * uplink). */
gboolean netiso_network_is_private(const NetisoNetwork *net);
/* The reservation's address for mac, NULL when none. */
const NetisoCidr *netiso_network_reservation(const NetisoNetwork *net, const char *mac);

/* Where libvirt keeps what we read: the status of network name, and the
 * DHCP leases libvirt's lease helper writes for bridge. Tests move both
 * below BLIXARD_NETISO_LIBVIRT_ROOT; libvirtd runs hooks with a cleared
 * environment, so in production these are always libvirt's own paths.
 * Caller frees. */
char *netiso_network_status_path(const char *name);
char *netiso_network_leases_path(const char *bridge);
