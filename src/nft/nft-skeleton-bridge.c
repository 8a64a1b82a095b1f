/* table bridge blixard: every frame a bridged guest's port sends passes the
 * layer-2 guards (its MAC, ARP, neighbour discovery, DHCP, ethertypes, its
 * bound source addresses), and frames between two ports of a bridge get
 * the traffic semantics there, since they never reach an IP hook. What
 * reaches the IP layer is table inet blixard's (doc/bridged-design.md). */
#include "autoconfig.h"

#include <stdio.h>

#include "core/policy.h"
#include "nft/nft-skeleton.h"

#define B NETISO_NFT_BRIDGE

static const char *const shared_chains[] = {
        "drop_l2",  "drop_guest",    "drop_inbound", "from_port", "port_arp",
        "port_ip4", "port_ip6",      "port_na",      "peer",      "from_guest",
        "to_guest", "host_to_guest", "guest_flow",
};
/* prerouting runs before the bridge learns the source MAC (a dropped frame
 * poisons no forwarding table) and before bridge conntrack (-200), so a
 * dropped frame creates no entry and the zone set here is the entry's. */
static const struct {
        const char *name, *hook, *priority;
} base_chains[] = {
        { "prerouting", "prerouting", "-300" },
        { "forward", "forward", "filter" },
        { "output", "output", "filter" },
};

/* One rule of table bridge blixard (nft-skeleton.c writes it). */
#define rule(out, chain, ...) netiso_nft_append_rule(out, B, chain, __VA_ARGS__)

/* Per port, as in inet: the port's drop counter, the log if asked, the
 * reason's counter. */
static void
drop_chain(GString *out, const NetisoConfig *config, const char *chain, const char *dir,
           const char *what)
{
        rule(out, chain, "%sname @guest_drops", dir);
        if (config->log_drops)
                rule(out, chain,
                     "limit rate %u/second log prefix \"blixard-netiso %s: \" level warn",
                     config->log_drops_per_second, what);
        rule(out, chain, "counter name \"drops_%s\" drop", what);
}

/* A guest-like port nobody installed: a name of guest_interface_patterns,
 * or any tap device whatever its name, as in table inet (nft-skeleton.c). */
static void
fail_closed(GString *out, const NetisoConfig *config, const char *chain, const char *dir,
            const char *verdict)
{
        for (guint i = 0; i < config->guest_interface_patterns->len; i++)
                rule(out, chain, "%sname \"%s\" %s", dir,
                     (const char *)g_ptr_array_index(config->guest_interface_patterns, i), verdict);
        rule(out, chain, "meta %skind \"tun\" meta %stype ether %s", dir, dir, verdict);
}

/* Every frame a port sends, forwarded or for the host. Another port (an
 * uplink, a foreign tap) never speaks for an address bound to a guest:
 * without that, the IP layer, which knows guests by bridge and address,
 * would take it for that guest. */
static void
render_prerouting(GString *out, const NetisoConfig *config)
{
        const char *c = "prerouting";

        rule(out, c, "iifname @guest_ifs jump from_port");
        fail_closed(out, config, c, "iif", "counter name \"drops_unprotected\" drop");
        rule(out, c, "ip saddr @owned_v4 counter name \"drops_spoofed\" drop");
        rule(out, c, "ip6 saddr @owned_v6 counter name \"drops_spoofed\" drop");
        rule(out, c, "arp saddr ip @owned_v4 counter name \"drops_spoofed\" drop");
        rule(out, c,
             "icmpv6 type nd-neighbor-advert @th,64,128 @owned_nd_v6 counter name \"drops_spoofed\" drop");
}

/* The guards: every path ends in accept or drop. nft 1.0.6 has no
 * "icmpv6 taddr" nor a DHCP header: the neighbour discovery target and the
 * BOOTP client hardware address are raw payload, matched against sets of
 * the same bytes. */
static void
render_guards(GString *out, gboolean stateful)
{
        rule(out, "from_port", "iifname . ether saddr != @guest_mac jump drop_l2");
        rule(out, "from_port",
             "ether type vmap { ip : jump port_ip4, ip6 : jump port_ip6, arp : jump port_arp }");
        rule(out, "from_port", "ether type @ethertypes accept");
        rule(out, "from_port", "jump drop_l2");

        rule(out, "port_arp", "arp htype != 1 jump drop_l2");
        rule(out, "port_arp", "arp ptype != ip jump drop_l2");
        rule(out, "port_arp", "arp hlen != 6 jump drop_l2");
        rule(out, "port_arp", "arp plen != 4 jump drop_l2");
        rule(out, "port_arp", "iifname . arp saddr ether != @guest_mac jump drop_l2");
        rule(out, "port_arp", "iifname . arp saddr ip @guest_src_v4 accept");
        /* An RFC 5227 probe: a DHCP client checking its new address. */
        rule(out, "port_arp", "arp operation request arp saddr ip 0.0.0.0 accept");
        rule(out, "port_arp", "jump drop_l2");

        /* With bridge conntrack the entry is made at -200: its zone is set
         * here, the port's flow id, as inet's guest_pre does for taps. */
        if (stateful)
                rule(out, "port_ip4", "ct original zone set iifname map @zone_by_port");
        rule(out, "port_ip4", "icmp type redirect jump drop_l2");
        rule(out, "port_ip4", "udp sport 67 jump drop_l2");
        rule(out, "port_ip4", "udp dport 68 jump drop_l2");
        rule(out, "port_ip4", "udp dport 67 iifname . @th,288,48 != @dhcp_chaddr jump drop_l2");
        rule(out, "port_ip4", "iifname . ip saddr @guest_src_v4 accept");
        /* A DHCP client before it has an address. */
        rule(out, "port_ip4",
             "ip saddr 0.0.0.0 ip daddr 255.255.255.255 udp sport 68 udp dport 67 accept");
        rule(out, "port_ip4", "jump drop_l2");

        if (stateful)
                rule(out, "port_ip6", "ct original zone set iifname map @zone_by_port");
        rule(out, "port_ip6", "icmpv6 type { nd-router-advert, nd-redirect } jump drop_l2");
        rule(out, "port_ip6", "udp sport 547 jump drop_l2");
        rule(out, "port_ip6", "udp dport 546 jump drop_l2");
        rule(out, "port_ip6", "icmpv6 type nd-neighbor-advert jump port_na");
        /* Duplicate address detection, and what a host sends before it has an address. */
        rule(out, "port_ip6",
             "ip6 saddr :: icmpv6 type { nd-neighbor-solicit, nd-router-solicit, mld2-listener-report } accept");
        rule(out, "port_ip6", "iifname . ip6 saddr @guest_src_v6 accept");
        rule(out, "port_ip6", "jump drop_l2");

        rule(out, "port_na", "iifname . @th,64,128 != @nd_target_v6 jump drop_l2");
        rule(out, "port_na", "iifname . ip6 saddr @guest_src_v6 accept");
        rule(out, "port_na", "jump drop_l2");
}

static void
render_peers(GString *out, const char *chain, NetisoPeers peers)
{
        if (peers == NETISO_PEERS_SAME_TENANT)
                rule(out, chain, "iifname vmap @guest_tenant");
        else if (peers == NETISO_PEERS_ALL)
                rule(out, chain, "oifname @guest_ifs accept");
}

/* Frames between two ports (the host's own take input and output). In the
 * stateless mode no path leads from a guest to a port that is no guest's:
 * everything that leaves the bridge is routed, and tracked, by the IP
 * layer. */
static void
render_from_guest(GString *out, const NetisoConfig *config, const NetisoRules *r, gboolean stateful)
{
        const char *c = "from_guest";

        /* ARP, neighbour discovery, MLD and allowed ethertypes: the tenant only. */
        render_peers(out, "peer", r->peers);
        rule(out, "peer", "oifname @guest_ifs jump drop_guest");
        fail_closed(out, config, "peer", "oif", "jump drop_guest");
        rule(out, "peer", "accept");

        rule(out, c, "ether type != { ip, ip6 } jump peer");
        rule(out, c,
             "icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit, mld-listener-query, mld-listener-report, mld-listener-reduction, mld2-listener-report } jump peer");
        if (stateful)
                rule(out, c, "ct state invalid jump drop_guest");
        rule(out, c, "ip daddr @cluster_v4 jump drop_guest");
        rule(out, c, "ip6 daddr @cluster_v6 jump drop_guest");
        render_peers(out, c, r->peers);
        rule(out, c, "oifname @guest_ifs jump drop_guest");
        fail_closed(out, config, c, "oif", "jump drop_guest");
        if (!stateful) {
                /* To a port that is no guest's (an uplink): outside. */
                rule(out, c, "jump drop_guest");
                return;
        }
        if (r->peers != NETISO_PEERS_ALL) {
                rule(out, c, "ip daddr @vmnet_v4 jump drop_guest");
                rule(out, c, "ip6 daddr @vmnet_v6 jump drop_guest");
        }
        rule(out, c, "meta l4proto . th dport @ports_out accept");
        rule(out, c, r->internet ? "accept" : "jump drop_guest");
}

/* From a port that is no guest's (an uplink) to a guest: the LAN's router
 * and DHCP server are outside, like the internet. */
static void
render_to_guest(GString *out, gboolean stateful)
{
        const char *c = "to_guest";

        rule(out, c, "ether type arp accept");
        rule(out, c,
             "icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-advert, mld-listener-query } accept");
        rule(out, c, "ether type != { ip, ip6 } ether type != @ethertypes jump drop_inbound");
        rule(out, c, "udp sport 67 udp dport 68 accept");
        rule(out, c, "udp sport 547 udp dport 546 accept");
        rule(out, c,
             "ether daddr & 01:00:00:00:00:00 == 00:00:00:00:00:00 oifname . ip daddr != @guest_src_v4 jump drop_inbound");
        rule(out, c,
             "ether daddr & 01:00:00:00:00:00 == 00:00:00:00:00:00 oifname . ip6 daddr != @guest_src_v6 jump drop_inbound");
        if (stateful) {
                /* Established and related ones were judged by guest_flow. */
                rule(out, c, "ct state invalid jump drop_inbound");
                rule(out, c, "meta l4proto . th dport @ports_in accept");
        }
        rule(out, c, "jump drop_inbound");
}

/* From the host, whose IP layer already decided (host processes are
 * trusted): a unicast IP frame goes only to the port that owns its
 * destination, so a poisoned neighbour table or a guest without a bound
 * address receives nobody else's traffic. */
static void
render_host_to_guest(GString *out)
{
        const char *c = "host_to_guest";

        rule(out, c, "ether daddr & 01:00:00:00:00:00 != 00:00:00:00:00:00 accept");
        rule(out, c, "ether type != { ip, ip6 } accept");
        rule(out, c, "oifname . ip daddr @guest_src_v4 accept");
        rule(out, c, "oifname . ip6 daddr @guest_src_v6 accept");
        rule(out, c, "udp sport 67 udp dport 68 accept");
        rule(out, c, "udp sport 547 udp dport 546 accept");
        rule(out, c,
             "ip6 daddr fe80::/10 icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept");
        rule(out, c, "jump drop_inbound");
}

/* With bridge conntrack, connections between ports are bound to their
 * guests' installs as inet's guest_flow binds routed ones: the originator
 * in the zone (port_ip4/6), the responder in the mark (forward). */
static void
render_flow(GString *out, const NetisoConfig *config)
{
        const char *c = "guest_flow";
        g_autoptr(GString) not_guest_like = g_string_new(NULL);

        rule(out, c,
             "ct direction original iifname @guest_ifs iifname . ct original zone != @flow_zone jump drop_guest");
        rule(out, c,
             "ct direction reply iifname @guest_ifs iifname . ct mark != @flow_mark jump drop_guest");
        rule(out, c,
             "ct direction original oifname @guest_ifs oifname . ct mark != @flow_mark jump drop_inbound");
        rule(out, c,
             "ct direction reply oifname @guest_ifs oifname . ct original zone != @flow_zone jump drop_inbound");
        rule(out, c, "oifname @guest_ifs accept");
        rule(out, c, "iifname @guest_ifs meta oifkind \"tun\" meta oiftype ether return");
        for (guint i = 0; i < config->guest_interface_patterns->len; i++)
                g_string_append_printf(
                        not_guest_like, " oifname != \"%s\"",
                        (const char *)g_ptr_array_index(config->guest_interface_patterns, i));
        rule(out, c, "iifname @guest_ifs%s accept", not_guest_like->str);
}

static void
render_base_chains(GString *out, const NetisoConfig *config, gboolean stateful)
{
        render_prerouting(out, config);
        if (stateful) {
                rule(out, "forward", "ct state new ct mark set oifname map @mark_by_port");
                rule(out, "forward", "ct state established,related jump guest_flow");
        }
        rule(out, "forward", "iifname @guest_ifs jump from_guest");
        rule(out, "forward", "oifname @guest_ifs jump to_guest");
        fail_closed(out, config, "forward", "oif", "counter name \"drops_unprotected\" drop");
        rule(out, "output", "oifname @guest_ifs jump host_to_guest");
        fail_closed(out, config, "output", "oif", "counter name \"drops_unprotected\" drop");
}

static void
render_sets(GString *out, const NetisoConfig *config, const NetisoRules *r)
{
        g_string_append(out, "add table " B "\n");
        netiso_nft_render_config_sets(out, B, config, r);
        /* What a guest may send besides IPv4, IPv6 and ARP (allowed_ethertypes). */
        g_string_append(out, "add set " B " ethertypes { type ether_type; }\n"
                             "flush set " B " ethertypes\n");
        for (guint i = 0; i < config->allowed_ethertypes->len; i++)
                g_string_append_printf(out, "%s0x%04x%s",
                                       i ? ", " : "add element " B " ethertypes { ",
                                       g_array_index(config->allowed_ethertypes, guint16, i),
                                       i + 1 == config->allowed_ethertypes->len ? " }\n" : "");
        /* Per guest port: created if missing, never flushed here. */
        g_string_append(out, "add set " B " guest_ifs { type ifname; }\n"
                             "add set " B " guest_drops { type ifname; counter; }\n"
                             "add set " B " guest_mac { type ifname . ether_addr; }\n"
                             "add set " B " dhcp_chaddr { typeof iifname . @th,288,48; }\n"
                             "add set " B " guest_src_v4 { type ifname . ipv4_addr; }\n"
                             "add set " B " guest_src_v6 { type ifname . ipv6_addr; }\n"
                             "add set " B " nd_target_v6 { typeof iifname . @th,64,128; }\n"
                             "add set " B " owned_v4 { type ipv4_addr; }\n"
                             "add set " B " owned_v6 { type ipv6_addr; }\n"
                             "add set " B " owned_nd_v6 { typeof @th,64,128; }\n"
                             "add map " B " guest_tenant { type ifname : verdict; }\n"
                             "add map " B " zone_by_port { typeof iifname : ct zone; }\n"
                             "add map " B " mark_by_port { type ifname : mark; }\n"
                             "add set " B " flow_zone { typeof iifname . ct original zone; }\n"
                             "add set " B " flow_mark { type ifname . mark; }\n");
}

void
netiso_nft_render_bridge_skeleton(GString *out, const NetisoConfig *config, gboolean stateful)
{
        g_autoptr(NetisoRules) r = netiso_rules_new(config);

        render_sets(out, config, r);
        for (gsize i = 0; i < G_N_ELEMENTS(shared_chains); i++)
                g_string_append_printf(out, "add chain " B " %s\nflush chain " B " %s\n",
                                       shared_chains[i], shared_chains[i]);
        for (gsize i = 0; i < G_N_ELEMENTS(base_chains); i++)
                g_string_append_printf(
                        out,
                        "add chain " B
                        " %s { type filter hook %s priority %s; policy accept; }\nflush chain " B
                        " %s\n",
                        base_chains[i].name, base_chains[i].hook, base_chains[i].priority,
                        base_chains[i].name);
        drop_chain(out, config, "drop_l2", "iif", "spoofed");
        drop_chain(out, config, "drop_guest", "iif", "blocked");
        drop_chain(out, config, "drop_inbound", "oif", "inbound");
        render_guards(out, stateful);
        render_from_guest(out, config, r, stateful);
        render_to_guest(out, stateful);
        render_host_to_guest(out);
        if (stateful)
                render_flow(out, config);
        render_base_chains(out, config, stateful);
}
