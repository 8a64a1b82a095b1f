/* The configuration-derived part of table inet blixard (its sets, shared
 * chains and base chains) and the tenant chain template, rendered as
 * libnftables text, with the facts the fast path compares with the kernel. */
#include "autoconfig.h"

#include <linux/netfilter.h>
#include <stdio.h>
#include <string.h>

#include "core/policy.h"
#include "nft/nft-skeleton.h"

#define T "inet " NETISO_NFT_TABLE

/* Chains the skeleton owns and rewrites on every event. */
static const char *const shared_chains[] = {
        "drop_spoof", "drop_guest", "drop_inbound", "guest_pre",
        "guest_flow", "from_guest", "to_guest",     "guest_to_host",
};
/* The same, with the flowtable only. */
static const char *const offload_chains[] = { "forward_flow", "guest_offload" };
/* prerouting runs before defragmentation (-400): a spoofed fragment left
 * in the reassembly queue would have its source answered with an ICMP
 * error when the queue times out. */
static const struct {
        const char *name, *hook, *priority;
} base_chains[] = {
        { "prerouting", "prerouting", "-450" },
        { "forward", "forward", "filter" },
        { "input", "input", "filter" },
        { "output", "output", "filter" },
};

static void
add_elements(GString *out, const char *table, const char *set, GPtrArray *elements)
{
        if (elements->len == 0)
                return;
        g_string_append_printf(out, "add element %s %s { ", table, set);
        for (guint i = 0; i < elements->len; i++)
                g_string_append_printf(out, "%s%s", i ? ", " : "",
                                       (const char *)g_ptr_array_index(elements, i));
        g_string_append(out, " }\n");
}

static void
render_cidr_set(GString *out, const char *table, const char *name, const GArray *cidrs,
                NetisoFamily family)
{
        g_autoptr(GPtrArray) elements = g_ptr_array_new_with_free_func(g_free);

        g_string_append_printf(out, "add set %s %s { type %s; flags interval; auto-merge; }\n",
                               table, name,
                               family == NETISO_FAMILY_IPV4 ? "ipv4_addr" : "ipv6_addr");
        g_string_append_printf(out, "flush set %s %s\n", table, name);
        for (guint i = 0; cidrs && i < cidrs->len; i++) {
                const NetisoCidr *c = &g_array_index(cidrs, NetisoCidr, i);
                if (c->family == family)
                        g_ptr_array_add(elements,
                                        netiso_cidr_to_string(c, /* with_host_prefix */ FALSE));
        }
        add_elements(out, table, name, elements);
}

static void
render_port_set(GString *out, const char *table, const char *name, const GArray *ports)
{
        g_autoptr(GPtrArray) elements = g_ptr_array_new_with_free_func(g_free);

        g_string_append_printf(out, "add set %s %s { type inet_proto . inet_service; }\n", table,
                               name);
        g_string_append_printf(out, "flush set %s %s\n", table, name);
        for (guint i = 0; i < ports->len; i++) {
                const NetisoPort *p = &g_array_index(ports, NetisoPort, i);
                g_ptr_array_add(
                        elements,
                        g_strdup_printf("%s . %u", netiso_proto_to_string(p->protocol), p->port));
        }
        add_elements(out, table, name, elements);
}

void
netiso_nft_render_config_sets(GString *out, const char *table, const NetisoConfig *config,
                              const NetisoRules *r)
{
        render_cidr_set(out, table, "cluster_v4", config->cluster_networks, NETISO_FAMILY_IPV4);
        render_cidr_set(out, table, "cluster_v6", config->cluster_networks, NETISO_FAMILY_IPV6);
        render_cidr_set(out, table, "vmnet_v4", config->vm_networks, NETISO_FAMILY_IPV4);
        render_cidr_set(out, table, "vmnet_v6", config->vm_networks, NETISO_FAMILY_IPV6);
        render_port_set(out, table, "ports_out", r->ports_out);
        render_port_set(out, table, "ports_in", r->ports_in);
        /* Drops per reason (the drop chains, the fail-closed drops). */
        g_string_append_printf(out,
                               "add counter %1$s drops_spoofed\n"
                               "add counter %1$s drops_blocked\n"
                               "add counter %1$s drops_inbound\n"
                               "add counter %1$s drops_unprotected\n",
                               table);
}

void
netiso_nft_append_rule(GString *out, const char *table, const char *chain, const char *format, ...)
{
        va_list ap;

        g_string_append_printf(out, "add rule %s %s ", table, chain);
        va_start(ap, format);
        g_string_append_vprintf(out, format, ap);
        va_end(ap);
        g_string_append_c(out, '\n');
}

#define rule(out, chain, ...) netiso_nft_append_rule(out, T, chain, __VA_ARGS__)

/* The drop chains count per guest through the per-element counters of
 * guest_drops, then log (rate limited) if asked, then drop, counted per
 * reason too (status --prometheus) by a named counter "drops_WHAT": a
 * table object, so the full path's flush of the chains keeps its count. */
static void
render_drop_chain(GString *out, const NetisoConfig *config, const char *chain, const char *dir,
                  const char *what)
{
        const char *addr = dir[0] == 'i' ? "saddr" : "daddr";

        rule(out, chain, "%sname @guest_drops", dir);
        /* Bridged guests, by the address their bridge guards bind. */
        rule(out, chain, "%sname . ip %s @guest_drops_v4", dir, addr);
        rule(out, chain, "%sname . ip6 %s @guest_drops_v6", dir, addr);
        if (config->log_drops)
                rule(out, chain,
                     "limit rate %u/second log prefix \"blixard-netiso %s: \" level warn",
                     config->log_drops_per_second, what);
        rule(out, chain, "counter name \"drops_%s\" drop", what);
}

static void
render_antispoof(GString *out, const char *chain)
{
        rule(out, chain, "iifname . ip saddr != @guest_src_v4 jump drop_spoof");
        rule(out, chain, "iifname . ip6 saddr != @guest_src_v6 jump drop_spoof");
}

static void
render_from_guest(GString *out, const NetisoConfig *config, const NetisoRules *r)
{
        const char *c = "from_guest";

        /* Established and related packets were judged by guest_flow; the
         * ones it left to this chain go towards a guest-like tap nobody
         * installed and are judged like new ones (and dropped). */
        render_antispoof(out, c);
        /* Only neighbour discovery between two guests of one bridge, which
         * br_netfilter hands to this hook, arrives with hop limit 255 (a
         * routed packet's was decremented); conntrack calls it invalid. */
        rule(out, c,
             "icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } ip6 hoplimit 255 accept");
        rule(out, c, "ct state invalid jump drop_guest");
        rule(out, c, "ip daddr @cluster_v4 jump drop_guest");
        rule(out, c, "ip6 daddr @cluster_v6 jump drop_guest");
        switch (r->peers) {
        case NETISO_PEERS_SAME_TENANT:
                /* tenant-NAME chains accept when the output tap (or, for a
                 * bridged guest, its bridge and address) is the tenant's. */
                rule(out, c, "iifname vmap @guest_tenant");
                rule(out, c, "iifname . ip saddr vmap @guest_tenant_v4");
                rule(out, c, "iifname . ip6 saddr vmap @guest_tenant_v6");
                break;
        case NETISO_PEERS_ALL:
                rule(out, c, "oifname @guest_ifs accept");
                rule(out, c, "oifname . ip daddr @guest_src_v4 accept");
                rule(out, c, "oifname . ip6 daddr @guest_src_v6 accept");
                break;
        case NETISO_PEERS_NONE:
        default:
                break;
        }
        rule(out, c, "oifname @guest_ifs jump drop_guest");
        /* Fail closed towards guest-like taps nobody installed too: their
         * own replies are dropped, but datagrams would still reach them. */
        for (guint i = 0; i < config->guest_interface_patterns->len; i++)
                rule(out, c, "oifname \"%s\" jump drop_guest",
                     (const char *)g_ptr_array_index(config->guest_interface_patterns, i));
        rule(out, c, "meta oifkind \"tun\" meta oiftype ether jump drop_guest");
        /* A bridged guest no tenant chain accepted, reached through its bridge. */
        rule(out, c, "oifname . ip daddr @guest_src_v4 jump drop_guest");
        rule(out, c, "oifname . ip6 daddr @guest_src_v6 jump drop_guest");
        /* Guests of other hosts (cluster): one lookup of the destination
         * jumps to its tenant's remote-T chain, which accepts when the
         * sending tap is one of T's. Local taps were decided above. */
        if (config->cluster && r->peers != NETISO_PEERS_NONE) {
                rule(out, c, "ip daddr vmap @remote_v4");
                rule(out, c, "ip6 daddr vmap @remote_v6");
        }
        if (r->peers != NETISO_PEERS_ALL) {
                rule(out, c, "ip daddr @vmnet_v4 jump drop_guest");
                rule(out, c, "ip6 daddr @vmnet_v6 jump drop_guest");
        }
        rule(out, c, "meta l4proto . th dport @ports_out accept");
        rule(out, c, r->internet ? "accept" : "jump drop_guest");
}

static void
render_guest_to_host(GString *out)
{
        const char *c = "guest_to_host";

        /* Neighbour discovery comes from link-local or unspecified sources,
         * which anti-spoofing would drop; hop limit 255 proves it is on-link.
         * Router advertisements and redirects from guests stay dropped. */
        rule(out, c,
             "icmpv6 type { nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert } ip6 hoplimit 255 accept");
        render_antispoof(out, c);
        /* Related packets too: guest_flow accepts an ICMP error only when
         * the connection it quotes is the guest's own. */
        rule(out, c, "ct state established,related jump guest_flow");
        rule(out, c, "ct state invalid jump drop_guest");
        rule(out, c, "ip daddr @cluster_v4 jump drop_guest");
        rule(out, c, "ip6 daddr @cluster_v6 jump drop_guest");
        /* The DNS and DHCP of a bridged guest's libvirt network, on the
         * bridge's own addresses: per guest address, so a stop removes
         * exactly its own (nft-bridged.c). */
        rule(out, c,
             "iifname . ip saddr . ip daddr . meta l4proto . th dport @net_services_v4 accept");
        rule(out, c,
             "iifname . ip6 saddr . ip6 daddr . meta l4proto . th dport @net_services_v6 accept");
        rule(out, c, "meta l4proto . th dport @ports_out accept");
        rule(out, c, "jump drop_guest");
}

static void
render_to_guest(GString *out, const NetisoConfig *config, const NetisoRules *r)
{
        const char *c = "to_guest";

        rule(out, c, "ct state invalid jump drop_inbound");
        /* Cluster: a source in a VM network is a guest of another host of
         * the destination's tenant (remote-T accepts when the output tap is
         * one of T's), or nobody to let in, whatever the port. */
        if (config->cluster) {
                if (r->peers != NETISO_PEERS_NONE) {
                        rule(out, c, "ip saddr vmap @remote_v4");
                        rule(out, c, "ip6 saddr vmap @remote_v6");
                }
                rule(out, c, "ip saddr @vmnet_v4 jump drop_inbound");
                rule(out, c, "ip6 saddr @vmnet_v6 jump drop_inbound");
        }
        rule(out, c, "meta l4proto . th dport @ports_in accept");
        rule(out, c, "jump drop_inbound");
}

/* Fail closed: a guest-like tap without installed state passes nothing.
 * Its drop comes right after the dispatch for installed taps in the same
 * direction, before any rule that accepts traffic towards installed guests,
 * so an unprotected guest cannot use another guest's open inbound port.
 * Guest-like: a name of guest_interface_patterns, or any tap device (the
 * tun driver in tap mode, as QEMU's are), whatever its name: a NIC hot-
 * plugged with a chosen <target dev> runs no hook and may match no pattern,
 * and it passes nothing until watch installs it or refuses it for good. */
static void
render_fail_closed(GString *out, const NetisoConfig *config, const char *chain, const char *dir)
{
        const GPtrArray *patterns = config->guest_interface_patterns;

        for (guint i = 0; patterns && i < patterns->len; i++)
                rule(out, chain, "%sname \"%s\" counter name \"drops_unprotected\" drop", dir,
                     (const char *)g_ptr_array_index(patterns, i));
        rule(out, chain,
             "meta %skind \"tun\" meta %stype ether counter name \"drops_unprotected\" drop", dir,
             dir);
}

/* Before routing and defragmentation, every packet from an installed tap
 * gets its guest's conntrack zone (the original direction only: replies
 * are looked up in the default zone, so only the guest's own tap can send
 * in its connections' original direction), and a packet whose source the
 * tap does not own is dropped, so that the host answers no forged source
 * with an ICMP error (TTL 1, no route, too big, fragment timeout).
 * Neighbour discovery comes from link-local or unspecified sources, which
 * anti-spoofing would drop; hop limit 255 proves it is on-link. */
static void
render_guest_pre(GString *out)
{
        const char *c = "guest_pre";

        rule(out, c, "ct original zone set iifname map @zone_by_tap");
        rule(out, c,
             "icmpv6 type { nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert } ip6 hoplimit 255 accept");
        render_antispoof(out, c);
}

/* The same checks for bridged guests, keyed by bridge and address: the
 * inet hooks see the bridge, not the port (nft-skeleton-bridge.c binds the
 * address to the port). A routed tap's pairs are in guest_src too, and
 * are left to the rules above by "not a routed tap". */
static void
render_bridged_flow(GString *out, const char *c)
{
        static const char *const fam[][2] = { { "ip", "v4" }, { "ip6", "v6" } };

        for (gsize f = 0; f < G_N_ELEMENTS(fam); f++) {
                const char *ip = fam[f][0], *v = fam[f][1];

                rule(out, c,
                     "ct direction original iifname != @guest_ifs iifname . %s saddr @guest_src_%s iifname . %s saddr . ct original zone != @flow_zone_%s jump drop_guest",
                     ip, v, ip, v);
                rule(out, c,
                     "ct direction reply iifname != @guest_ifs iifname . %s saddr @guest_src_%s iifname . %s saddr . ct mark != @flow_mark_%s jump drop_guest",
                     ip, v, ip, v);
                rule(out, c,
                     "ct direction original oifname != @guest_ifs oifname . %s daddr @guest_src_%s oifname . %s daddr . ct mark != @flow_mark_%s jump drop_inbound",
                     ip, v, ip, v);
                rule(out, c,
                     "ct direction reply oifname != @guest_ifs oifname . %s daddr @guest_src_%s oifname . %s daddr . ct original zone != @flow_zone_%s jump drop_inbound",
                     ip, v, ip, v);
        }
}

/* Flows belong to the guest that made them (DEVELOPERS.md): a connection's
 * original zone is its originator's flow id, its mark the flow id of the
 * guest its first packet went to. An established or related packet that
 * comes from or goes to an installed tap must carry that tap's id on its
 * side of the connection: a guest that later holds an address of another
 * guest (or of itself under another tenant) neither receives nor sends in
 * that guest's connections, and an ICMP error a guest sends is related
 * only to its own. Bound packets are accepted; packets that touch no
 * installed tap go back to the base chain. */
static void
render_guest_flow(GString *out, const NetisoConfig *config, const char *c, const char *accept)
{
        const GPtrArray *patterns = config->guest_interface_patterns;
        g_autoptr(GString) not_guest_like = g_string_new(NULL);

        rule(out, c,
             "ct direction original iifname @guest_ifs iifname . ct original zone != @flow_zone jump drop_guest");
        rule(out, c,
             "ct direction reply iifname @guest_ifs iifname . ct mark != @flow_mark jump drop_guest");
        rule(out, c,
             "ct direction original oifname @guest_ifs oifname . ct mark != @flow_mark jump drop_inbound");
        rule(out, c,
             "ct direction reply oifname @guest_ifs oifname . ct original zone != @flow_zone jump drop_inbound");
        /* Between two routed taps the binding is all there is to check:
         * the bridged guests' checks below are keyed by bridge and never
         * apply, and walking past them cost established packets 0.07 of
         * the conntrack-only firewall (bench/data-path-parts.sh). */
        rule(out, c, "iifname @guest_ifs oifname @guest_ifs %s", accept);
        render_bridged_flow(out, c);
        rule(out, c, "oifname @guest_ifs %s", accept);
        rule(out, c, "oifname . ip daddr @guest_src_v4 %s", accept);
        rule(out, c, "oifname . ip6 daddr @guest_src_v6 %s", accept);
        /* Towards a guest-like tap nobody installed: from_guest drops it. */
        rule(out, c, "iifname @guest_ifs meta oifkind \"tun\" meta oiftype ether return");
        for (guint i = 0; patterns && i < patterns->len; i++)
                g_string_append_printf(not_guest_like, " oifname != \"%s\"",
                                       (const char *)g_ptr_array_index(patterns, i));
        rule(out, c, "iifname @guest_ifs%s %s", not_guest_like->str, accept);
        rule(out, c, "iifname . ip saddr @guest_src_v4%s %s", not_guest_like->str, accept);
        rule(out, c, "iifname . ip6 saddr @guest_src_v6%s %s", not_guest_like->str, accept);
}

/* With the flowtable (config flowtable): forward's established packets are
 * judged by forward_flow, guest_flow's rules whose accepts go to guest_offload
 * instead, so that a flow is offloaded only by a packet the policy has just
 * accepted (flow add is refused in chains that input and output reach).
 * Only flows whose both devices are the flowtable's: guests' taps (added by
 * the guests' elements, nft-elements.c) and the configured uplinks; a
 * bridged guest's flows stay on the slow path. Its offloaded packets skip
 * every hook: whatever ends a guest's access deletes its tracked
 * connections (engine/conntrack.c), and that ends their offloaded flows at
 * once. */
static void
render_offload(GString *out, const NetisoConfig *config)
{
        g_autoptr(GString) uplinks = g_string_new(NULL);
        const char *c = "guest_offload";

        for (guint i = 0; i < config->flowtable_uplinks->len; i++)
                g_string_append_printf(
                        uplinks, "%s\"%s\"", i ? ", " : "",
                        (const char *)g_ptr_array_index(config->flowtable_uplinks, i));
        rule(out, c,
             "ct state established iifname @guest_ifs oifname @guest_ifs flow add @ft accept");
        if (uplinks->len) {
                rule(out, c,
                     "ct state established iifname @guest_ifs oifname { %s } flow add @ft accept",
                     uplinks->str);
                rule(out, c,
                     "ct state established iifname { %s } oifname @guest_ifs flow add @ft accept",
                     uplinks->str);
        }
        rule(out, c, "accept");
}

/* The first rule of forward carries the skeleton's mark (the fast path's
 * proof that the skeleton is current): flushed and written with it. It
 * marks a new connection whose first packet goes to a guest with that
 * guest's flow id (output does the same for the host's connections).
 * Established and related packets are judged by guest_flow first: one
 * chain of hash lookups, whatever the number of guests. The rest are
 * dispatched to the guest's policy; a packet from a guest is judged by
 * from_guest alone, so a guest cannot spoof its way into another guest's
 * connections. */
static void
render_base_chains(GString *out, const NetisoConfig *config, const char *mark)
{
        rule(out, "prerouting", "iifname @guest_ifs goto guest_pre");
        render_fail_closed(out, config, "prerouting", "iif");
        /* A bridged guest's packets: its zone by bridge and source address,
         * which table bridge blixard bound to its port before they came up. */
        rule(out, "prerouting", "ct original zone set iifname . ip saddr map @zone_by_addr_v4");
        rule(out, "prerouting", "ct original zone set iifname . ip6 saddr map @zone_by_addr_v6");
        rule(out, "forward", "ct state new ct mark set oifname map @mark_by_tap%s%s%s",
             mark ? " comment \"" : "", mark ? mark : "", mark ? "\"" : "");
        rule(out, "forward", "ct state new ct mark set oifname . ip daddr map @mark_by_addr_v4");
        rule(out, "forward", "ct state new ct mark set oifname . ip6 daddr map @mark_by_addr_v6");
        /* A guest receives only what is addressed to it, whatever the
         * routes say: an address it lost may still be routed to its tap. */
        rule(out, "forward",
             "oifname . ip daddr != @guest_src_v4 oifname @guest_ifs jump drop_inbound");
        rule(out, "forward",
             "oifname . ip6 daddr != @guest_src_v6 oifname @guest_ifs jump drop_inbound");
        if (config->flowtable) {
                rule(out, "forward", "ct state established jump forward_flow");
                rule(out, "forward", "ct state related jump guest_flow");
        } else {
                rule(out, "forward", "ct state established,related jump guest_flow");
        }
        rule(out, "forward", "iifname @guest_ifs jump from_guest");
        render_fail_closed(out, config, "forward", "iif");
        /* Bridged guests: the bridge and a source address that table
         * bridge blixard bound to a port of it. */
        rule(out, "forward", "iifname . ip saddr @guest_src_v4 jump from_guest");
        rule(out, "forward", "iifname . ip6 saddr @guest_src_v6 jump from_guest");
        rule(out, "forward", "oifname @guest_ifs jump to_guest");
        render_fail_closed(out, config, "forward", "oif");
        rule(out, "forward", "oifname . ip daddr @guest_src_v4 jump to_guest");
        rule(out, "forward", "oifname . ip6 daddr @guest_src_v6 jump to_guest");
        rule(out, "input", "iifname @guest_ifs jump guest_to_host");
        render_fail_closed(out, config, "input", "iif");
        rule(out, "input", "iifname . ip saddr @guest_src_v4 jump guest_to_host");
        rule(out, "input", "iifname . ip6 saddr @guest_src_v6 jump guest_to_host");
        rule(out, "output", "ct state new ct mark set oifname map @mark_by_tap");
        rule(out, "output", "ct state new ct mark set oifname . ip daddr map @mark_by_addr_v4");
        rule(out, "output", "ct state new ct mark set oifname . ip6 daddr map @mark_by_addr_v6");
        rule(out, "output", "oifname @guest_ifs ct state established,related jump guest_flow");
        rule(out, "output",
             "oifname . ip daddr @guest_src_v4 ct state established,related jump guest_flow");
        rule(out, "output",
             "oifname . ip6 daddr @guest_src_v6 ct state established,related jump guest_flow");
        rule(out, "output", "oifname @guest_ifs accept");
        render_fail_closed(out, config, "output", "oif");
}

static void
render_inet(GString *out, const NetisoConfig *config, const char *mark)
{
        g_autoptr(NetisoRules) r = netiso_rules_new(config);

        g_string_append(out, "add table " T "\n");
        netiso_nft_render_config_sets(out, T, config, r);
        /* Per-guest sets and maps: created if missing, never flushed here. */
        g_string_append(out, "add set " T " guest_ifs { type ifname; }\n"
                             "add set " T " guest_drops { type ifname; counter; }\n"
                             "add set " T " guest_src_v4 { type ifname . ipv4_addr; }\n"
                             "add set " T " guest_src_v6 { type ifname . ipv6_addr; }\n"
                             "add map " T " addr_owner_v4 { type ipv4_addr : ifname; }\n"
                             "add map " T " addr_owner_v6 { type ipv6_addr : ifname; }\n"
                             "add map " T " guest_tenant { type ifname : verdict; }\n"
                             "add map " T " zone_by_tap { typeof iifname : ct zone; }\n"
                             "add map " T " mark_by_tap { type ifname : mark; }\n"
                             "add set " T " flow_zone { typeof iifname . ct original zone; }\n"
                             "add set " T " flow_mark { type ifname . mark; }\n");
        /* Per bridged guest address, keyed by bridge and address. */
        g_string_append(
                out,
                "add map " T " guest_tenant_v4 { type ifname . ipv4_addr : verdict; }\n"
                "add map " T " guest_tenant_v6 { type ifname . ipv6_addr : verdict; }\n"
                "add set " T " guest_drops_v4 { type ifname . ipv4_addr; counter; }\n"
                "add set " T " guest_drops_v6 { type ifname . ipv6_addr; counter; }\n"
                "add map " T " zone_by_addr_v4 { typeof iifname . ip saddr : ct zone; }\n"
                "add map " T " zone_by_addr_v6 { typeof iifname . ip6 saddr : ct zone; }\n"
                "add map " T " mark_by_addr_v4 { type ifname . ipv4_addr : mark; }\n"
                "add map " T " mark_by_addr_v6 { type ifname . ipv6_addr : mark; }\n"
                "add set " T " flow_zone_v4 { typeof iifname . ip saddr . ct original zone; }\n"
                "add set " T " flow_zone_v6 { typeof iifname . ip6 saddr . ct original zone; }\n"
                "add set " T " flow_mark_v4 { type ifname . ipv4_addr . mark; }\n"
                "add set " T " flow_mark_v6 { type ifname . ipv6_addr . mark; }\n"
                "add set " T
                " net_services_v4 { type ifname . ipv4_addr . ipv4_addr . inet_proto . inet_service; }\n"
                "add set " T
                " net_services_v6 { type ifname . ipv6_addr . ipv6_addr . inet_proto . inet_service; }\n");
        if (config->cluster)
                netiso_nft_render_remote_maps(out);
        /* The flowtable's devices are the guests' (their elements add them). */
        if (config->flowtable)
                g_string_append(out, "add flowtable " T " ft { hook ingress priority 0; }\n");
        for (gsize i = 0; i < G_N_ELEMENTS(shared_chains); i++)
                g_string_append_printf(out, "add chain " T " %s\nflush chain " T " %s\n",
                                       shared_chains[i], shared_chains[i]);
        for (gsize i = 0; config->flowtable && i < G_N_ELEMENTS(offload_chains); i++)
                g_string_append_printf(out, "add chain " T " %s\nflush chain " T " %s\n",
                                       offload_chains[i], offload_chains[i]);
        for (gsize i = 0; i < G_N_ELEMENTS(base_chains); i++)
                g_string_append_printf(
                        out,
                        "add chain " T
                        " %s { type filter hook %s priority %s; policy accept; }\nflush chain " T
                        " %s\n",
                        base_chains[i].name, base_chains[i].hook, base_chains[i].priority,
                        base_chains[i].name);
        render_drop_chain(out, config, "drop_spoof", "iif", "spoofed");
        render_drop_chain(out, config, "drop_guest", "iif", "blocked");
        render_drop_chain(out, config, "drop_inbound", "oif", "inbound");
        render_guest_pre(out);
        render_guest_flow(out, config, "guest_flow", "accept");
        if (config->flowtable) {
                render_guest_flow(out, config, "forward_flow", "goto guest_offload");
                render_offload(out, config);
        }
        render_from_guest(out, config, r);
        render_guest_to_host(out);
        render_to_guest(out, config, r);
        render_base_chains(out, config, mark);
}

void
netiso_nft_render_remote_maps(GString *out)
{
        /* Guests of other hosts: address -> jump remote-TENANT (nft-remote.c). */
        g_string_append(out, "add map " T " remote_v4 { type ipv4_addr : verdict; }\n"
                             "add map " T " remote_v6 { type ipv6_addr : verdict; }\n");
}

/* Both tables: the inet one carries the mark on forward's first rule. */
static void
render_skeleton(GString *out, const NetisoConfig *config, gboolean stateful, const char *mark)
{
        render_inet(out, config, mark);
        netiso_nft_render_bridge_skeleton(out, config, stateful);
}

/* A tenant's sets and its chains' rules, the other thing the fast path takes
 * as given: accept towards the tenant's routed taps and bridged guest
 * addresses (inet), and towards its bridged guests' ports (bridge). Both the
 * text below and the fast path's netlink objects (nft-fast-tenant.c) come
 * from these tables, so the mark covers both. */
const NetisoNftTenantObject netiso_nft_tenant_sets[NETISO_NFT_TENANT_SETS] = {
        { NFPROTO_INET, "ifs", 0 },
        { NFPROTO_INET, "v4", NFPROTO_IPV4 },
        { NFPROTO_INET, "v6", NFPROTO_IPV6 },
        { NFPROTO_BRIDGE, "ifs", 0 },
};
const NetisoNftTenantObject netiso_nft_tenant_rules[NETISO_NFT_TENANT_RULES] = {
        { NFPROTO_INET, "ifs", 0 },
        { NFPROTO_INET, "v4", NFPROTO_IPV4 },
        { NFPROTO_INET, "v6", NFPROTO_IPV6 },
        { NFPROTO_BRIDGE, "ifs", 0 },
};

static const char *
tenant_table(const NetisoNftTenantObject *o)
{
        return o->family == NFPROTO_BRIDGE ? NETISO_NFT_BRIDGE : T;
}

static const char *
tenant_key(const NetisoNftTenantObject *o)
{
        return o->nfproto == NFPROTO_IPV4   ? " . ipv4_addr"
               : o->nfproto == NFPROTO_IPV6 ? " . ipv6_addr"
                                            : "";
}

static const char *
tenant_match(const NetisoNftTenantObject *o)
{
        return o->nfproto == NFPROTO_IPV4   ? " . ip daddr"
               : o->nfproto == NFPROTO_IPV6 ? " . ip6 daddr"
                                            : "";
}

/* "add rule TABLE tenant-T oifname[ . ip daddr] @tenant-T-SET accept", one
 * line per rule of netiso_nft_tenant_rules. */
static void
render_tenant_rules(GString *out, const char *tenant)
{
        for (gsize i = 0; i < NETISO_NFT_TENANT_RULES; i++) {
                const NetisoNftTenantObject *r = &netiso_nft_tenant_rules[i];

                g_string_append_printf(out,
                                       "add rule %s tenant-%s oifname%s @tenant-%s-%s accept\n",
                                       tenant_table(r), tenant, tenant_match(r), tenant, r->set);
        }
}

/* The mark covers the rendered skeleton and the tenant chain's template:
 * any change of either (configuration, a new version) changes it. It is a
 * fingerprint against accidents, not a seal (whoever can rewrite the mark
 * can rewrite the rules), so MD5 will do, at a third of SHA-256's cost on
 * every event. */
static char *
skeleton_mark(const char *rendered)
{
        g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_MD5);

        g_autoptr(GString) tenant = g_string_new(NULL);

        /* The tenant's template, as it was a printf format before. */
        render_tenant_rules(tenant, "%1$s");
        g_checksum_update(sum, (const guchar *)rendered, -1);
        g_checksum_update(sum, (const guchar *)tenant->str, -1);
        return g_strdup_printf("netiso skeleton %s", g_checksum_get_string(sum));
}

void
netiso_nft_render_skeleton(GString *out, const NetisoConfig *config, gboolean stateful)
{
        g_autoptr(GString) plain = g_string_new(NULL);
        g_autofree char *mark = NULL;

        render_skeleton(plain, config, stateful, NULL);
        mark = skeleton_mark(plain->str);
        render_skeleton(out, config, stateful, mark);
}

/* Rules per chain of a rendered skeleton ("add chain" lines name chains
 * with none), the bridge table's chains as "bridge NAME". Scans in place:
 * the fast path runs it on every event. */
static GHashTable *
rule_counts(const char *rendered)
{
        static const char *const tables[] = { T " ", NETISO_NFT_BRIDGE " " };
        static const char *const prefixes[] = { "", "bridge " };
        GHashTable *counts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

        for (const char *line = rendered; *line;) {
                const char *end = line + strcspn(line, "\n");
                gboolean is_rule = g_str_has_prefix(line, "add rule ");

                for (gsize t = 0; t < G_N_ELEMENTS(tables); t++) {
                        const char *rest = line + (is_rule ? 9 : 10);

                        if ((!is_rule && !g_str_has_prefix(line, "add chain ")) ||
                            strncmp(rest, tables[t], strlen(tables[t])) != 0)
                                continue;
                        rest += strlen(tables[t]);
                        g_autofree char *chain = g_strdup_printf("%s%.*s", prefixes[t],
                                                                 (int)strcspn(rest, " \n"), rest);
                        guint n = GPOINTER_TO_UINT(g_hash_table_lookup(counts, chain));

                        g_hash_table_replace(counts, g_steal_pointer(&chain),
                                             GUINT_TO_POINTER(n + is_rule));
                }
                line = *end ? end + 1 : end;
        }
        return counts;
}

void
netiso_nft_skeleton_facts(const NetisoConfig *config, gboolean stateful, char **ret_mark,
                          GHashTable **ret_counts)
{
        g_autoptr(GString) plain = g_string_new(NULL);

        render_skeleton(plain, config, stateful, NULL);
        *ret_mark = skeleton_mark(plain->str);
        *ret_counts = rule_counts(plain->str);
}

/* A tenant is a chain in each table that accepts traffic to the tenant's
 * own guests, and the sets of those guests. Rewritten whole each time, so
 * it is always current. */
void
netiso_nft_render_tenant(GString *out, const char *tenant, gboolean rewrite)
{
        for (gsize i = 0; i < NETISO_NFT_TENANT_SETS; i++) {
                const NetisoNftTenantObject *s = &netiso_nft_tenant_sets[i];

                g_string_append_printf(out, "add set %s tenant-%s-%s { type ifname%s; }\n",
                                       tenant_table(s), tenant, s->set, tenant_key(s));
                /* Each table's chain after its sets. */
                if (i + 1 == NETISO_NFT_TENANT_SETS ||
                    netiso_nft_tenant_sets[i + 1].family != s->family)
                        g_string_append_printf(out, "add chain %s tenant-%s\n", tenant_table(s),
                                               tenant);
        }
        if (!rewrite)
                return;
        g_string_append_printf(out,
                               "flush chain " T " tenant-%1$s\n"
                               "flush chain " NETISO_NFT_BRIDGE " tenant-%1$s\n",
                               tenant);
        render_tenant_rules(out, tenant);
}
