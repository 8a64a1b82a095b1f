/* The configured policy as libvirt nwfilter rules: a shared base filter, an
 * IPv6 anti-spoofing block when guests have IPv6, and one filter per tenant.
 * nwfilter-xml.c writes the documents; the same input gives the same bytes. */
#include "autoconfig.h"

#include <errno.h>
#include <string.h>

#include "conf/domain.h"
#include "core/policy.h"
#include "nwfilter/nwfilter-xml.h"
#include "nwfilter/nwfilter.h"
#include "util/error.h"
#include "util/names.h"

/* Rules of every filter in an interface's tree that libvirt turns into
 * iptables/ip6tables rules land in the same per-interface chains (FI-, FO-,
 * HI-vnetN), ordered by priority, lower first. These values are spaced so
 * the tenant filter's peer rules fall between the base filter's rules. */
enum {
        PRIO_GUARDS = 40,         /* what a guest never sends: ICMP redirects */
        PRIO_NEIGHBOUR = 50,      /* IPv6 neighbour discovery, before link-local is dropped */
        PRIO_DHCP6 = 60,          /* DHCPv6 clients (link-local), whatever allow_internet says */
        PRIO_CLUSTER = 100,       /* cluster networks: dropped both ways, whatever the state */
        PRIO_DHCP4 = 120,         /* DHCP clients, whatever allow_internet says */
        PRIO_PEERS_RELATED = 150, /* tenant filter: ICMP errors from other guests */
        PRIO_ESTABLISHED = 200,   /* replies, and ICMP errors about accepted connections */
        PRIO_PORTS_OUT = 300,
        PRIO_PEERS_ACCEPT = 400, /* tenant filter */
        PRIO_PEERS_DROP = 410,   /* tenant filter */
        PRIO_PORTS_IN = 500,
        PRIO_INTERNET = 600,
        PRIO_DEFAULT_DROP = 1000,
};

static gboolean
config_check(const NetisoConfig *config, GError **error)
{
        for (guint i = 0; config->allowed_ports && i < config->allowed_ports->len; i++) {
                const NetisoPort *p = &g_array_index(config->allowed_ports, NetisoPort, i);

                if (p->port == 0 || p->protocol >= _NETISO_PROTO_MAX ||
                    p->direction >= _NETISO_DIRECTION_MAX) {
                        g_set_error(
                                error, NETISO_ERROR, NETISO_ERROR_CONFIG,
                                "%s: allowed port %u (entry %u) is not a valid tcp/udp port 1..65535",
                                config->path ? config->path : "(config)", p->port, i + 1);
                        return FALSE;
                }
        }
        return TRUE;
}

static gboolean
has_family(const GArray *cidrs, NetisoFamily family)
{
        for (guint i = 0; cidrs && i < cidrs->len; i++)
                if (g_array_index(cidrs, NetisoCidr, i).family == family)
                        return TRUE;
        return FALSE;
}

/* A tenant named on the command line: the domain reader's rule, reported as
 * a usage error (exit 2) because it came from the operator, not a domain. */
static gboolean
tenant_argument_check(const char *tenant, GError **error)
{
        g_autoptr(GError) local = NULL;

        if (netiso_tenant_name_validate(tenant, &local))
                return TRUE;
        g_set_error_literal(error, NETISO_ERROR, NETISO_ERROR_USAGE, local->message);
        return FALSE;
}

/* The same peer rule as every other renderer: one definition, in policy.c. */
static NetisoPeers
peers_of(const NetisoConfig *config)
{
        g_autoptr(NetisoRules) rules = netiso_rules_new(config);

        return rules->peers;
}

/* ---- rules ------------------------------------------------------------ */

typedef NetisoNwfilterRule Rule;
typedef NetisoNwfilterWriter Writer;

static void
rule(Writer *wr, const Rule *r)
{
        netiso_nwfilter_writer_rule(wr, r);
}

static void
comment(Writer *wr, const char *text)
{
        netiso_nwfilter_writer_comment(wr, text);
}

static const char *
proto_all(NetisoFamily family)
{
        return family == NETISO_FAMILY_IPV4 ? "all" : "all-ipv6";
}

static const char *
proto_port(NetisoProto proto, NetisoFamily family)
{
        if (proto == NETISO_PROTO_TCP)
                return family == NETISO_FAMILY_IPV4 ? "tcp" : "tcp-ipv6";
        return family == NETISO_FAMILY_IPV4 ? "udp" : "udp-ipv6";
}

/* IPv4 accepts carry state='NEW': libvirt then writes them for the given
 * direction only, and the ESTABLISHED,RELATED rules carry everything after
 * the first packet, as the hook's "ct state established,related accept"
 * does. libvirt 9.0's schema has no state attribute for IPv6 protocols, so
 * IPv6 accepts keep libvirt's implicit matching (NEW,ESTABLISHED in their
 * direction, ESTABLISHED for the replies). */
static const char *
state_new(NetisoFamily family)
{
        return family == NETISO_FAMILY_IPV4 ? "NEW" : NULL;
}

/* Split a prefix into what dstipaddr/dstipmask take: an address and a
 * prefix length (a CIDR in dstipaddr fails the schema). */
static void
cidr_split(const NetisoCidr *cidr, char **ret_addr, char **ret_mask)
{
        NetisoCidr host = *cidr;

        host.prefix = netiso_family_bits(cidr->family);
        *ret_addr = netiso_cidr_to_string(&host, /* with_host_prefix */ FALSE);
        *ret_mask = g_strdup_printf("%u", cidr->prefix);
}

/* A drop without a state attribute is written by libvirt for both
 * directions (mirrored for traffic to the guest) and for the host chain:
 * nothing to and nothing from these networks, replies included. */
static void
drop_networks(Writer *wr, const GArray *cidrs, int priority)
{
        for (guint i = 0; cidrs && i < cidrs->len; i++) {
                const NetisoCidr *c = &g_array_index(cidrs, NetisoCidr, i);
                g_autofree char *addr = NULL;
                g_autofree char *mask = NULL;

                cidr_split(c, &addr, &mask);
                rule(wr, &(Rule){ .action = "drop",
                                  .direction = "out",
                                  .priority = priority,
                                  .protocol = proto_all(c->family),
                                  .attrs = { { "dstipaddr", addr }, { "dstipmask", mask } } });
        }
}

static void
accept_networks(Writer *wr, const GArray *cidrs, int priority)
{
        for (guint i = 0; cidrs && i < cidrs->len; i++) {
                const NetisoCidr *c = &g_array_index(cidrs, NetisoCidr, i);
                g_autofree char *addr = NULL;
                g_autofree char *mask = NULL;

                cidr_split(c, &addr, &mask);
                rule(wr, &(Rule){ .action = "accept",
                                  .direction = "out",
                                  .priority = priority,
                                  .protocol = proto_all(c->family),
                                  .state = state_new(c->family),
                                  .attrs = { { "dstipaddr", addr }, { "dstipmask", mask } } });
                rule(wr, &(Rule){ .action = "accept",
                                  .direction = "in",
                                  .priority = priority,
                                  .protocol = proto_all(c->family),
                                  .state = state_new(c->family),
                                  .attrs = { { "srcipaddr", addr }, { "srcipmask", mask } } });
        }
}

/* Neighbour discovery is what IPv6 needs to work at all. It is untracked by
 * conntrack (hence statematch='false') and uses link-local addresses, which
 * the default cluster networks drop, so it comes first. */
static void
neighbour_discovery(Writer *wr)
{
        static const struct {
                const char *direction, *type;
        } nd[] = {
                { "out", "133" }, /* router solicitation */
                { "out", "135" }, /* neighbour solicitation */
                { "out", "136" }, /* neighbour advertisement */
                { "out", "143" }, /* multicast listener report v2 */
                { "in", "130" },  /* multicast listener query */
                { "in", "134" },  /* router advertisement */
                { "in", "135" },  { "in", "136" },
        };

        comment(wr, " IPv6 neighbour discovery (untracked by conntrack, link-local) ");
        for (gsize i = 0; i < G_N_ELEMENTS(nd); i++)
                rule(wr, &(Rule){ .action = "accept",
                                  .direction = nd[i].direction,
                                  .priority = PRIO_NEIGHBOUR,
                                  .no_statematch = TRUE,
                                  .protocol = "icmpv6",
                                  .attrs = { { "type", nd[i].type } } });
}

/* Packets of established connections pass, whichever side opened them
 * (the host, a peer, a routed client), before the tenant rules drop the
 * guest networks. For IPv6, where the schema has no state attribute, the
 * same comes from libvirt's implicit matching: an accept rule also accepts
 * "ESTABLISHED, conntrack direction REPLY" the other way, and libvirt
 * leaves a source MAC out of that reversed rule. A source MAC no frame can
 * carry (multicast; the bridge drops such frames) therefore gives rules
 * whose forward half never matches and whose reversed half accepts every
 * reply. ICMPv6 errors, which conntrack calls RELATED, are accepted by type. */
static void
established(Writer *wr, gboolean ipv6)
{
        static const char *const directions[] = { "out", "in" };

        comment(wr, " packets of established connections, and ICMP errors about them ");
        for (gsize i = 0; i < G_N_ELEMENTS(directions); i++)
                rule(wr, &(Rule){ .action = "accept",
                                  .direction = directions[i],
                                  .priority = PRIO_ESTABLISHED,
                                  .protocol = "all",
                                  .state = "ESTABLISHED,RELATED" });
        if (!ipv6)
                return;
        comment(wr, " IPv6 replies: only the reversed half of these rules can match ");
        for (gsize i = 0; i < G_N_ELEMENTS(directions); i++)
                rule(wr, &(Rule){ .action = "accept",
                                  .direction = directions[i],
                                  .priority = PRIO_ESTABLISHED,
                                  .protocol = "all-ipv6",
                                  .attrs = { { "srcmacaddr", "01:00:00:00:00:00" },
                                             { "srcipaddr", "::" },
                                             { "srcipmask", "0" } } });
        for (int type = 1; type <= 4; type++) {
                g_autofree char *t = g_strdup_printf("%d", type);
                rule(wr, &(Rule){ .action = "accept",
                                  .direction = "in",
                                  .priority = PRIO_ESTABLISHED,
                                  .no_statematch = TRUE,
                                  .protocol = "icmpv6",
                                  .attrs = { { "type", t } } });
        }
}

/* A guest's DHCP client talks to whatever server answers on its link (libvirt's
 * dnsmasq, a LAN's server), without an allowed port and with allow_internet =
 * false, as with the hook. Server messages from guests never get here: the
 * ebtables guards drop them first. DHCPv6 runs between link-local addresses,
 * which the default cluster networks drop, so it comes first, and only to the
 * servers' multicast group. */
static void
dhcp_clients(Writer *wr, gboolean ipv6)
{
        comment(wr, " DHCP clients and the answers they get ");
        rule(wr, &(Rule){ .action = "accept",
                          .direction = "out",
                          .priority = PRIO_DHCP4,
                          .protocol = "udp",
                          .state = "NEW",
                          .attrs = { { "srcportstart", "68" }, { "dstportstart", "67" } } });
        rule(wr, &(Rule){ .action = "accept",
                          .direction = "in",
                          .priority = PRIO_DHCP4,
                          .protocol = "udp",
                          .state = "NEW",
                          .attrs = { { "srcportstart", "67" }, { "dstportstart", "68" } } });
        if (!ipv6)
                return;
        rule(wr, &(Rule){ .action = "accept",
                          .direction = "out",
                          .priority = PRIO_DHCP6,
                          .protocol = "udp-ipv6",
                          .attrs = { { "srcipaddr", "fe80::" },
                                     { "srcipmask", "10" },
                                     { "dstipaddr", "ff02::1:2" },
                                     { "srcportstart", "546" },
                                     { "dstportstart", "547" } } });
        rule(wr, &(Rule){ .action = "accept",
                          .direction = "in",
                          .priority = PRIO_DHCP6,
                          .protocol = "udp-ipv6",
                          .attrs = { { "srcipaddr", "fe80::" },
                                     { "srcipmask", "10" },
                                     { "srcportstart", "547" },
                                     { "dstportstart", "546" } } });
}

static gboolean
has_ports(const NetisoConfig *config, NetisoDirection direction)
{
        for (guint i = 0; config->allowed_ports && i < config->allowed_ports->len; i++)
                if (g_array_index(config->allowed_ports, NetisoPort, i).direction == direction)
                        return TRUE;
        return FALSE;
}

static void
ports(Writer *wr, const NetisoConfig *config, NetisoDirection direction, gboolean ipv6)
{
        static const NetisoFamily families[] = { NETISO_FAMILY_IPV4, NETISO_FAMILY_IPV6 };
        gboolean out = direction == NETISO_DIRECTION_OUTBOUND;

        for (guint i = 0; config->allowed_ports && i < config->allowed_ports->len; i++) {
                const NetisoPort *p = &g_array_index(config->allowed_ports, NetisoPort, i);
                g_autofree char *port = g_strdup_printf("%u", p->port);

                if (p->direction != direction)
                        continue;
                for (gsize f = 0; f < (ipv6 ? 2 : 1); f++)
                        rule(wr, &(Rule){ .action = "accept",
                                          .direction = out ? "out" : "in",
                                          .priority = out ? PRIO_PORTS_OUT : PRIO_PORTS_IN,
                                          .protocol = proto_port(p->protocol, families[f]),
                                          .state = state_new(families[f]),
                                          .attrs = { { "dstportstart", port } } });
        }
}

/* ---- filters ---------------------------------------------------------- */

/* libvirt's no-ipv6-spoofing lets guests send router advertisements and
 * drops link-local neighbour discovery; this block replaces it. Like
 * clean-traffic for IPv4 it works on ebtables (chain ipv6-netiso), before
 * any ip6tables rule sees the packet. */
#define ND(src, mask, ...)                                                                         \
        {                                                                                          \
                .action = "accept", .direction = "out", .priority = 300, .protocol = "ipv6",       \
                .attrs = {                                                                         \
                        { "srcipaddr", src },                                                      \
                        { "srcipmask", mask },                                                     \
                        __VA_ARGS__                                                                \
                }                                                                                  \
        }
static const Rule ipv6_rules[] = {
        /* no router advertisements, redirects or DHCPv6 server replies */
        { .action = "drop",
          .direction = "out",
          .priority = 100,
          .protocol = "ipv6",
          .attrs = { { "protocol", "icmpv6" }, { "type", "134" } } },
        { .action = "drop",
          .direction = "out",
          .priority = 100,
          .protocol = "ipv6",
          .attrs = { { "protocol", "icmpv6" }, { "type", "137" } } },
        { .action = "drop",
          .direction = "out",
          .priority = 100,
          .protocol = "ipv6",
          .attrs = { { "protocol", "udp" }, { "srcportstart", "547" } } },
        { .action = "drop",
          .direction = "out",
          .priority = 100,
          .protocol = "ipv6",
          .attrs = { { "protocol", "udp" }, { "dstportstart", "546" } } },
        { .action = "accept",
          .direction = "out",
          .priority = 200,
          .protocol = "ipv6",
          .attrs = { { "srcipaddr", "$IPV6" } } },
        /* solicitations, advertisements, listener reports, DHCPv6 requests */
        ND("fe80::", "10", { "protocol", "icmpv6" }, { "type", "133" }, { "typeend", "136" }),
        ND("fe80::", "10", { "protocol", "icmpv6" }, { "type", "143" }),
        ND("fe80::", "10", { "protocol", "udp" }, { "srcportstart", "546" },
           { "dstportstart", "547" }),
        /* duplicate address detection, before the guest owns an address */
        ND("::", "128", { "protocol", "icmpv6" }, { "type", "135" }),
        ND("::", "128", { "protocol", "icmpv6" }, { "type", "143" }),
        { .action = "drop", .direction = "out", .priority = 1000 },
        /* IPv6 to the guest: its own addresses, link-local and multicast only. The
         * neighbour advertisement's target cannot be matched (ebtables and
         * ip6tables know no such field), so a guest can still claim another's
         * address in a neighbour table; what is sent there then stops at its port
         * (a denial of service, not an interception). Replaces allow-incoming-ipv6. */
        { .action = "accept",
          .direction = "in",
          .priority = 200,
          .protocol = "ipv6",
          .attrs = { { "dstipaddr", "$IPV6" } } },
        { .action = "accept",
          .direction = "in",
          .priority = 300,
          .protocol = "ipv6",
          .attrs = { { "dstipaddr", "fe80::" }, { "dstipmask", "10" } } },
        { .action = "accept",
          .direction = "in",
          .priority = 300,
          .protocol = "ipv6",
          .attrs = { { "dstipaddr", "ff00::" }, { "dstipmask", "8" } } },
        { .action = "drop", .direction = "in", .priority = 1000 },
};
#undef ND

/* IPv4 sent by the guest, before clean-traffic's anti-spoofing accepts its own
 * source (rules of the base filter's root chain, on ebtables): no DHCP server
 * or relay messages. */
static const Rule ipv4_guards[] = {
        { .action = "drop",
          .direction = "out",
          .priority = -720,
          .protocol = "ip",
          .attrs = { { "protocol", "udp" }, { "srcportstart", "67" } } },
        { .action = "drop",
          .direction = "out",
          .priority = -720,
          .protocol = "ip",
          .attrs = { { "protocol", "udp" }, { "dstportstart", "68" } } },
};

/* The finished document as a filter named like its writer. */
static NetisoNwfilter *
finish(NetisoNwfilterWriter *wr, GError **error)
{
        char *xml = netiso_nwfilter_writer_finish(wr, error);
        NetisoNwfilter *filter;

        if (!xml)
                return NULL;
        filter = g_new0(NetisoNwfilter, 1);
        filter->name = g_strdup(netiso_nwfilter_writer_name(wr));
        filter->xml = xml;
        return filter;
}

static NetisoNwfilter *
render_ipv6(GError **error)
{
        g_autoptr(NetisoNwfilterWriter) wr = NULL;

        wr = netiso_nwfilter_writer_new(NETISO_NWFILTER_IPV6, "ipv6-netiso", "-610");
        comment(wr,
                " IPv6 sent by the guest: from its own addresses (variable IPV6), or the link-local and unspecified sources that neighbour discovery, duplicate address detection and DHCPv6 need; never router advertisements, redirects or DHCPv6 server and relay messages. IPv6 to the guest: to its own, link-local and multicast addresses only ");
        for (gsize i = 0; i < G_N_ELEMENTS(ipv6_rules); i++)
                rule(wr, &ipv6_rules[i]);
        return finish(wr, error);
}

static NetisoNwfilter *
render_base(const NetisoConfig *config, gboolean ipv6, GError **error)
{
        g_autoptr(NetisoNwfilterWriter) wr = NULL;

        wr = netiso_nwfilter_writer_new(NETISO_NWFILTER_BASE, "root", NULL);
        comment(wr,
                " anti-spoofing: MAC, IPv4 (variable IP) and ARP; other layer-2 protocols are dropped ");
        netiso_nwfilter_writer_filterref(wr, "clean-traffic");
        comment(wr, " no DHCP server or relay messages from the guest ");
        for (gsize i = 0; i < G_N_ELEMENTS(ipv4_guards); i++)
                rule(wr, &ipv4_guards[i]);
        comment(wr,
                " no ICMP redirects from the guest (conntrack calls one about a known flow related) ");
        rule(wr, &(Rule){ .action = "drop",
                          .direction = "out",
                          .priority = PRIO_GUARDS,
                          .no_statematch = TRUE,
                          .protocol = "icmp",
                          .attrs = { { "type", "5" } } });
        if (ipv6) {
                netiso_nwfilter_writer_filterref(wr, NETISO_NWFILTER_IPV6);
                neighbour_discovery(wr);
        }
        dhcp_clients(wr, ipv6);
        comment(wr, " cluster networks: never reached by guests, never reaching them ");
        drop_networks(wr, config->cluster_networks, PRIO_CLUSTER);
        established(wr, ipv6);
        if (has_ports(config, NETISO_DIRECTION_OUTBOUND)) {
                comment(wr,
                        " allowed outbound ports, to any destination left (a receiving guest's own filter still applies its tenant rules) ");
                ports(wr, config, NETISO_DIRECTION_OUTBOUND, ipv6);
        }
        comment(wr, " priorities 400-499: the tenant filter's rules on other guests ");
        if (has_ports(config, NETISO_DIRECTION_INBOUND)) {
                comment(wr, " allowed inbound ports, from outside the guest networks ");
                ports(wr, config, NETISO_DIRECTION_INBOUND, ipv6);
        }
        if (config->allow_internet) {
                comment(wr, " internet: every other destination ");
                rule(wr, &(Rule){ .action = "accept",
                                  .direction = "out",
                                  .priority = PRIO_INTERNET,
                                  .protocol = "all",
                                  .state = "NEW" });
                if (ipv6)
                        rule(wr, &(Rule){ .action = "accept",
                                          .direction = "out",
                                          .priority = PRIO_INTERNET,
                                          .protocol = "all-ipv6" });
        }
        comment(wr, " everything else, both ways ");
        rule(wr, &(Rule){ .action = "drop",
                          .direction = "inout",
                          .priority = PRIO_DEFAULT_DROP,
                          .protocol = "all" });
        rule(wr, &(Rule){ .action = "drop",
                          .direction = "inout",
                          .priority = PRIO_DEFAULT_DROP,
                          .protocol = "all-ipv6" });
        return finish(wr, error);
}

/* An ICMP error that conntrack calls related to a guest's connection is accepted
 * before the tenant rules (PRIO_ESTABLISHED); another guest can forge one about a
 * flow it guesses. IPv4 errors from the guest networks therefore pass only from the
 * tenant's own guests (TENANT_IPS), or from none with inter_vm_isolation. libvirt
 * 9.0 has no state attribute for IPv6 rules: IPv6 errors are not restricted. */
static void
related_from_peers(Writer *wr, const NetisoConfig *config, gboolean tenant)
{
        comment(wr,
                " ICMP errors related to a connection: from the guest networks only from the tenant's guests ");
        if (tenant)
                rule(wr,
                     &(Rule){ .action = "accept",
                              .direction = "in",
                              .priority = PRIO_PEERS_RELATED,
                              .protocol = "all",
                              .state = "RELATED",
                              .attrs = { { "srcipaddr", "$" NETISO_NWFILTER_VAR_TENANT_IPS } } });
        for (guint i = 0; config->vm_networks && i < config->vm_networks->len; i++) {
                const NetisoCidr *c = &g_array_index(config->vm_networks, NetisoCidr, i);
                g_autofree char *addr = NULL;
                g_autofree char *mask = NULL;

                if (c->family != NETISO_FAMILY_IPV4)
                        continue;
                cidr_split(c, &addr, &mask);
                rule(wr, &(Rule){ .action = "drop",
                                  .direction = "in",
                                  .priority = PRIO_PEERS_RELATED + 5,
                                  .protocol = "all",
                                  .state = "RELATED",
                                  .attrs = { { "srcipaddr", addr }, { "srcipmask", mask } } });
        }
}

static void
tenant_peers(Writer *wr, const NetisoConfig *config, gboolean ipv6)
{
        static const char ips[] = "$" NETISO_NWFILTER_VAR_TENANT_IPS;
        static const char ipv6s[] = "$" NETISO_NWFILTER_VAR_TENANT_IPV6S;

        switch (peers_of(config)) {
        case NETISO_PEERS_SAME_TENANT:
                comment(wr,
                        " tenant_isolation: new connections to and from the tenant's guests, listed by the interface in TENANT_IPS (TENANT_IPV6S) ");
                rule(wr, &(Rule){ .action = "accept",
                                  .direction = "out",
                                  .priority = PRIO_PEERS_ACCEPT,
                                  .protocol = "all",
                                  .state = "NEW",
                                  .attrs = { { "dstipaddr", ips } } });
                rule(wr, &(Rule){ .action = "accept",
                                  .direction = "in",
                                  .priority = PRIO_PEERS_ACCEPT,
                                  .protocol = "all",
                                  .state = "NEW",
                                  .attrs = { { "srcipaddr", ips } } });
                if (ipv6) {
                        rule(wr, &(Rule){ .action = "accept",
                                          .direction = "out",
                                          .priority = PRIO_PEERS_ACCEPT,
                                          .protocol = "all-ipv6",
                                          .attrs = { { "dstipaddr", ipv6s } } });
                        rule(wr, &(Rule){ .action = "accept",
                                          .direction = "in",
                                          .priority = PRIO_PEERS_ACCEPT,
                                          .protocol = "all-ipv6",
                                          .attrs = { { "srcipaddr", ipv6s } } });
                }
                comment(wr,
                        " other tenants' guests (and anything else on the guest networks), both ways ");
                drop_networks(wr, config->vm_networks, PRIO_PEERS_DROP);
                related_from_peers(wr, config, /* tenant */ TRUE);
                return;
        case NETISO_PEERS_ALL:
                comment(wr,
                        " no tenant isolation: new connections to and from every guest network ");
                accept_networks(wr, config->vm_networks, PRIO_PEERS_ACCEPT);
                return;
        case NETISO_PEERS_NONE:
        case _NETISO_PEERS_MAX:
                comment(wr, " inter_vm_isolation: no traffic with other guests, both ways ");
                drop_networks(wr, config->vm_networks, PRIO_PEERS_DROP);
                related_from_peers(wr, config, /* tenant */ FALSE);
                return;
        }
}

static NetisoNwfilter *
render_tenant(const NetisoConfig *config, const char *tenant, gboolean ipv6, GError **error)
{
        g_autofree char *name = g_strconcat(NETISO_NWFILTER_TENANT_PREFIX, tenant, NULL);
        gboolean lists = peers_of(config) == NETISO_PEERS_SAME_TENANT;
        g_autoptr(NetisoNwfilterWriter) wr = NULL;
        g_autofree char *about = NULL;

        /* The tenant name stays out of the comment: "--" is a valid part of
         * a tenant name and not allowed inside an XML comment. */
        about = g_strdup_printf(
                " reference this filter from every bridged interface of the tenant, with the parameters IP%s%s%s ",
                ipv6 ? ", IPV6" : "", lists ? ", " NETISO_NWFILTER_VAR_TENANT_IPS : "",
                lists && ipv6 ? ", " NETISO_NWFILTER_VAR_TENANT_IPV6S : "");
        wr = netiso_nwfilter_writer_new(name, "root", NULL);
        comment(wr, about);
        netiso_nwfilter_writer_filterref(wr, NETISO_NWFILTER_BASE);
        tenant_peers(wr, config, ipv6);
        return finish(wr, error);
}

/* ---- public ----------------------------------------------------------- */

void
netiso_nwfilter_free(NetisoNwfilter *filter)
{
        if (!filter)
                return;
        g_free(filter->name);
        g_free(filter->xml);
        g_free(filter);
}

static gboolean
add(GPtrArray *filters, NetisoNwfilter *filter)
{
        if (!filter)
                return FALSE;
        g_ptr_array_add(filters, filter);
        return TRUE;
}

GPtrArray *
netiso_nwfilter_render(const NetisoConfig *config, const GPtrArray *tenants, GError **error)
{
        g_autoptr(GPtrArray) filters = NULL;
        g_autoptr(GPtrArray) names = g_ptr_array_new();
        gboolean ipv6;

        g_return_val_if_fail(config != NULL, NULL);

        if (tenants && tenants->len > 0) {
                for (guint i = 0; i < tenants->len; i++) {
                        const char *t = g_ptr_array_index(tenants, i);
                        if (!tenant_argument_check(t, error))
                                return NULL;
                        if (!g_ptr_array_find_with_equal_func(names, t, g_str_equal, NULL))
                                g_ptr_array_add(names, (gpointer)t);
                }
        } else {
                g_ptr_array_add(names, (gpointer)NETISO_DEFAULT_TENANT);
        }
        if (!config_check(config, error))
                return NULL;

        /* Guests get IPv6 when a guest network is IPv6; otherwise
         * clean-traffic drops every IPv6 frame they send or receive. */
        ipv6 = has_family(config->vm_networks, NETISO_FAMILY_IPV6);

        filters = g_ptr_array_new_with_free_func((GDestroyNotify)netiso_nwfilter_free);
        if (ipv6 && !add(filters, render_ipv6(error)))
                return NULL;
        if (!add(filters, render_base(config, ipv6, error)))
                return NULL;
        for (guint i = 0; i < names->len; i++)
                if (!add(filters, render_tenant(config, g_ptr_array_index(names, i), ipv6, error)))
                        return NULL;
        return g_steal_pointer(&filters);
}

gboolean
netiso_nwfilter_write_dir(const GPtrArray *filters, const char *dir, GError **error)
{
        if (g_mkdir_with_parents(dir, 0755) < 0) {
                int e = errno;
                g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e),
                            "cannot create directory '%s': %s", dir, g_strerror(e));
                return FALSE;
        }
        for (guint i = 0; i < filters->len; i++) {
                const NetisoNwfilter *f = g_ptr_array_index(filters, i);
                g_autofree char *file = g_strconcat(f->name, ".xml", NULL);
                g_autofree char *path = g_build_filename(dir, file, NULL);
                g_autoptr(GError) local = NULL;

                /* Names come from render (validated); refuse anything that
                 * would leave dir. */
                if (strchr(f->name, '/') || f->name[0] == '.' || f->name[0] == '\0') {
                        g_set_error(error, NETISO_ERROR, NETISO_ERROR_USAGE,
                                    "nwfilter name '%s' is not usable as a file name", f->name);
                        return FALSE;
                }
                if (!g_file_set_contents(path, f->xml, -1, &local)) {
                        g_propagate_prefixed_error(error, g_steal_pointer(&local),
                                                   "nwfilter '%s': ", f->name);
                        return FALSE;
                }
        }
        return TRUE;
}
