/* iptables-restore input for the iptables backend: the shared chains that
 * carry the configuration, the full tables (rebuild) and the purge (an
 * event's delta: ipt-delta.c). Rules are written exactly as iptables-save
 * prints them. */
#include "autoconfig.h"

#include <string.h>

#include "core/policy.h"
#include "ipt/ipt-render.h"

char *
netiso_ipt_ifname_pattern(const char *pattern)
{
        gsize n = strlen(pattern);

        if (n == 0 || pattern[n - 1] != '*')
                return g_strdup(pattern);
        /* Fifteen characters and '*' can only match the name itself. */
        if (n - 1 >= 15)
                return g_strndup(pattern, n - 1);
        return g_strdup_printf("%.*s+", (int)(n - 1), pattern);
}

static void add(NetisoIptRuleset *rs, const char *chain, const char *format, ...)
        G_GNUC_PRINTF(3, 4);

static void
add(NetisoIptRuleset *rs, const char *chain, const char *format, ...)
{
        g_autofree char *spec = NULL;
        va_list ap;

        va_start(ap, format);
        spec = g_strdup_vprintf(format, ap);
        va_end(ap);
        netiso_ipt_ruleset_append(rs, chain, spec);
}

static void
add_cidrs(NetisoIptRuleset *rs, const char *chain, const GArray *cidrs, NetisoFamily family,
          const char *verdict)
{
        for (guint i = 0; cidrs && i < cidrs->len; i++) {
                const NetisoCidr *c = &g_array_index(cidrs, NetisoCidr, i);
                g_autofree char *s = NULL;

                if (c->family != family)
                        continue;
                s = netiso_cidr_to_string(c, /* with_host_prefix */ TRUE);
                add(rs, chain, "-d %s -j %s", s, verdict);
        }
}

static void
add_ports(NetisoIptRuleset *rs, const char *chain, const GArray *ports)
{
        for (guint i = 0; i < ports->len; i++) {
                const NetisoPort *p = &g_array_index(ports, NetisoPort, i);
                const char *proto = netiso_proto_to_string(p->protocol);

                add(rs, chain, "-p %s -m %s --dport %u -j ACCEPT", proto, proto, p->port);
        }
}

static void
add_patterns(NetisoIptRuleset *rs, const NetisoConfig *config, const char *chain, const char *dir,
             const char *verdict)
{
        for (guint i = 0; i < config->guest_interface_patterns->len; i++) {
                g_autofree char *m = netiso_ipt_ifname_pattern(
                        g_ptr_array_index(config->guest_interface_patterns, i));
                add(rs, chain, "%s %s -j %s", dir, m, verdict);
        }
}

static void
drop_chain(NetisoIptRuleset *rs, const NetisoConfig *config, const char *chain, const char *what)
{
        netiso_ipt_ruleset_add_chain(rs, chain);
        if (config->log_drops)
                add(rs, chain,
                    "-m limit --limit %u/sec -j LOG --log-prefix \"blixard-netiso %s: \"",
                    config->log_drops_per_second, what);
        add(rs, chain, "-j DROP");
}

/* After an installed guest's dispatch comes the fail-closed drop for
 * guest-like names nobody installed, as in table inet blixard. Forwarded
 * packets towards a guest first pass BLXBO-: addressed to the guest, and
 * a tracked one bound to it (its flow's other end is checked by the
 * "from" trie's leaf). */
static void
top_chains(NetisoIptRuleset *rs, const NetisoConfig *config)
{
        add(rs, NETISO_IPT_FWD, "-j BLXBO-");
        add(rs, NETISO_IPT_FWD, "-j BLXFI-");
        add_patterns(rs, config, NETISO_IPT_FWD, "-i", "DROP");
        add(rs, NETISO_IPT_FWD, "-j BLXFO-");
        add_patterns(rs, config, NETISO_IPT_FWD, "-o", "DROP");
        add(rs, NETISO_IPT_IN, "-j BLXII-");
        add_patterns(rs, config, NETISO_IPT_IN, "-i", "DROP");
        add(rs, NETISO_IPT_OUT, "-j BLXOO-");
        add_patterns(rs, config, NETISO_IPT_OUT, "-o", "DROP");
}

/* The policy chains. RETURN means "refused": control goes back to the
 * tap's leaf in the trie, whose next rule drops and counts per tap. */
static void
policy_chains(NetisoIptRuleset *rs, const NetisoConfig *config, const NetisoRules *r,
              NetisoFamily family)
{
        const char *est = "-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT";
        const char *invalid = "-m conntrack --ctstate INVALID -j RETURN";
        const char *const chains[] = { NETISO_IPT_ND,   NETISO_IPT_HOST, NETISO_IPT_TO,
                                       NETISO_IPT_PEER, NETISO_IPT_EST,  NETISO_IPT_REST };

        for (gsize i = family == NETISO_FAMILY_IPV6 ? 0 : 1; i < G_N_ELEMENTS(chains); i++)
                netiso_ipt_ruleset_add_chain(rs, chains[i]);
        if (family == NETISO_FAMILY_IPV6) {
                /* Neighbour discovery comes from link-local or unspecified
                 * sources; hop limit 255 proves it is on-link. Router
                 * advertisements and redirects stay refused. */
                for (guint type = 133; type <= 136; type++)
                        if (type != 134)
                                add(rs, NETISO_IPT_ND,
                                    "-p ipv6-icmp -m icmp6 --icmpv6-type %u -m hl --hl-eq 255 -j ACCEPT",
                                    type);
        }
        add(rs, NETISO_IPT_HOST, "%s", est);
        add(rs, NETISO_IPT_HOST, "%s", invalid);
        add_cidrs(rs, NETISO_IPT_HOST, config->cluster_networks, family, "RETURN");
        add_ports(rs, NETISO_IPT_HOST, r->ports_out);

        add(rs, NETISO_IPT_TO, "%s", est);
        add(rs, NETISO_IPT_TO, "%s", invalid);
        add_ports(rs, NETISO_IPT_TO, r->ports_in);

        /* Reached from a tenant's trie when the output tap is the tenant's
         * own. The cluster check of the nftables order (cluster before
         * peers) is repeated here because the tenant chains carry no
         * configuration. */
        if (r->peers == NETISO_PEERS_SAME_TENANT) {
                add_cidrs(rs, NETISO_IPT_PEER, config->cluster_networks, family, "RETURN");
                add(rs, NETISO_IPT_PEER, "-j ACCEPT");
        }

        /* A bound flow of a guest (its leaf checked): towards an installed
         * tap, BLXOO- checks that end and accepts; towards a guest-like tap
         * nobody installed it is refused; anywhere else it passes. */
        add(rs, NETISO_IPT_EST, "-j BLXOO-");
        add_patterns(rs, config, NETISO_IPT_EST, "-o", "RETURN");
        add(rs, NETISO_IPT_EST, "-j ACCEPT");

        add_cidrs(rs, NETISO_IPT_REST, config->cluster_networks, family, "RETURN");
        if (r->peers == NETISO_PEERS_ALL)
                add(rs, NETISO_IPT_REST, "-j BLXOO-");
        /* Towards a guest-like tap: refused, whether installed (another
         * guest that was not a peer) or not (fail closed). Installed taps
         * that match no pattern are BLXDM-'s. */
        add_patterns(rs, config, NETISO_IPT_REST, "-o", "RETURN");
        if (r->peers != NETISO_PEERS_ALL) {
                add(rs, NETISO_IPT_REST, "-j BLXDM-");
                add_cidrs(rs, NETISO_IPT_REST, config->vm_networks, family, "RETURN");
        }
        add_ports(rs, NETISO_IPT_REST, r->ports_out);
        if (r->internet)
                add(rs, NETISO_IPT_REST, "-j ACCEPT");
}

/* The raw table's: anti-spoofing before routing (BLXPI-), and the
 * fail-closed drop for guest-like taps nobody installed. */
static NetisoIptRuleset *
render_raw_shared(const NetisoConfig *config)
{
        NetisoIptRuleset *rs = netiso_ipt_ruleset_new();

        netiso_ipt_ruleset_add_chain(rs, NETISO_IPT_PRE);
        add(rs, NETISO_IPT_PRE, "-j BLXPI-");
        add_patterns(rs, config, NETISO_IPT_PRE, "-i", "DROP");
        drop_chain(rs, config, NETISO_IPT_SPOOF, "spoofed");
        return rs;
}

/* The chains every event rewrites: they carry the configuration. */
NetisoIptRuleset *
netiso_ipt_render_shared(const NetisoConfig *config, NetisoFamily family, NetisoIptTable table)
{
        NetisoIptRuleset *rs;
        g_autoptr(NetisoRules) r = NULL;

        if (table == NETISO_IPT_TABLE_RAW)
                return render_raw_shared(config);
        rs = netiso_ipt_ruleset_new();
        r = netiso_rules_new(config);

        netiso_ipt_ruleset_add_chain(rs, NETISO_IPT_FWD);
        netiso_ipt_ruleset_add_chain(rs, NETISO_IPT_IN);
        netiso_ipt_ruleset_add_chain(rs, NETISO_IPT_OUT);
        top_chains(rs, config);
        drop_chain(rs, config, NETISO_IPT_SPOOF, "spoofed");
        drop_chain(rs, config, NETISO_IPT_BLOCK, "blocked");
        drop_chain(rs, config, NETISO_IPT_INBOUND, "inbound");
        policy_chains(rs, config, r, family);
        return rs;
}

/* BLXDM- holds only the installed taps that no guest pattern covers: BLX-REST
 * refuses the others by pattern, which keeps that nested trie shallow. */
NetisoIptSet *
netiso_ipt_unpatterned(const NetisoConfig *config, const NetisoIptSet *set)
{
        NetisoIptSet *sub = netiso_ipt_set_new();

        /* Names and tenants were checked when set was built: nothing can fail. */
        for (guint i = 0; i < set->ports->len; i++) {
                const NetisoIptPort *p = g_ptr_array_index(set->ports, i);
                if (!netiso_config_is_guest_like_ifname(config, p->tap))
                        (void)netiso_ipt_set_add(sub, p->tap, p->tenant, p->flow_id, p->addresses,
                                                 NULL);
        }
        (void)netiso_ipt_set_finish(sub, NULL);
        return sub;
}

static void
render_trie(NetisoIptRuleset *rs, const NetisoIptSet *set, NetisoIptTrie trie, const char *id,
            NetisoFamily family)
{
        g_autoptr(GPtrArray) prefixes = netiso_ipt_node_prefixes(set);

        for (guint i = 0; i < prefixes->len; i++) {
                const char *prefix = g_ptr_array_index(prefixes, i);
                g_autoptr(GPtrArray) items = netiso_ipt_node_items(set, trie, prefix, family);
                g_autofree char *chain = netiso_ipt_node_chain(trie, id, prefix);

                if (!items)
                        continue;
                netiso_ipt_ruleset_add_chain(rs, chain);
                for (guint k = 0; k < items->len; k++) {
                        const NetisoIptItem *item = g_ptr_array_index(items, k);
                        g_auto(GStrv) lines = g_strsplit(item->rules, "\n", -1);
                        for (guint l = 0; lines[l]; l++)
                                netiso_ipt_ruleset_append(rs, chain, lines[l]);
                }
        }
}

NetisoIptRuleset *
netiso_ipt_render_full(const NetisoConfig *config, const NetisoIptSet *set, NetisoFamily family,
                       NetisoIptTable table)
{
        NetisoIptRuleset *rs = netiso_ipt_render_shared(config, family, table);
        g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
        g_autoptr(NetisoIptSet) dm = netiso_ipt_unpatterned(config, set);

        for (int t = 0; t < NETISO_IPT_TRIE_TENANT; t++)
                if (netiso_ipt_trie_table(t) == table)
                        render_trie(rs, t == NETISO_IPT_TRIE_BLOCK_TO ? dm : set, t, NULL, family);
        if (table != NETISO_IPT_TABLE_FILTER)
                return rs;
        for (guint i = 0; i < set->ports->len; i++) {
                const NetisoIptPort *p = g_ptr_array_index(set->ports, i);
                g_autoptr(NetisoIptSet) own = NULL;
                g_autoptr(GPtrArray) rules = NULL;
                g_autofree char *head = NULL;

                if (!g_hash_table_add(seen, (gpointer)p->tenant_id))
                        continue;
                own = netiso_ipt_set_tenant(set, p->tenant_id);
                head = netiso_ipt_tenant_head(p->tenant_id);
                rules = netiso_ipt_tenant_head_rules(p);
                for (guint k = 0; k < rules->len; k++)
                        netiso_ipt_ruleset_append(rs, head, g_ptr_array_index(rules, k));
                render_trie(rs, own, NETISO_IPT_TRIE_TENANT, p->tenant_id, family);
        }
        return rs;
}

/* ---- whole table ---- */

static gboolean
is_hook(NetisoIptTable table, const char *chain, const char *spec)
{
        for (gsize i = 0; i < NETISO_IPT_HOOKS; i++)
                if (netiso_ipt_hooks[i].table == table &&
                    g_str_equal(chain, netiso_ipt_hooks[i].builtin) &&
                    g_str_has_prefix(spec, "-j ") &&
                    g_str_equal(spec + 3, netiso_ipt_hooks[i].ours))
                        return TRUE;
        return FALSE;
}

/* Delete the rules of chains that are not ours which jump to a chain that
 * is going away, and every hook (the rebuild inserts them again). */
static void
unhook(GString *out, const NetisoIptRuleset *current, GHashTable *going, NetisoIptTable table)
{
        for (guint i = 0; i < current->chains->len; i++) {
                const char *chain = g_ptr_array_index(current->chains, i);
                GPtrArray *rules = netiso_ipt_ruleset_rules(current, chain);

                if (netiso_ipt_chain_is_ours(chain))
                        continue;
                for (guint k = 0; k < rules->len; k++) {
                        const char *spec = ((NetisoIptRule *)g_ptr_array_index(rules, k))->spec;
                        g_autofree char *target = netiso_ipt_rule_target(spec);

                        if (is_hook(table, chain, spec) ||
                            (target && g_hash_table_contains(going, target)))
                                g_string_append_printf(out, "-D %s %s\n", chain, spec);
                }
        }
}

static void
batch_replace(GString *out, const NetisoIptRuleset *desired, const NetisoIptRuleset *current,
              gboolean hook, NetisoIptTable table)
{
        g_autoptr(GHashTable) going = g_hash_table_new(g_str_hash, g_str_equal);
        g_autoptr(GString) destroy = g_string_new(NULL);

        for (guint i = 0; current && i < current->chains->len; i++) {
                const char *chain = g_ptr_array_index(current->chains, i);
                if (netiso_ipt_chain_is_ours(chain) &&
                    !netiso_ipt_ruleset_has_chain(desired, chain)) {
                        g_hash_table_add(going, (gpointer)chain);
                        g_string_append_printf(destroy, "-X %s\n", chain);
                }
        }
        if (!hook && desired->chains->len == 0 && g_hash_table_size(going) == 0)
                return;
        g_string_append_printf(out, "*%s\n", netiso_ipt_table_name(table));
        netiso_ipt_ruleset_write_chains(out, desired);
        for (guint i = 0; current && i < current->chains->len; i++) {
                const char *chain = g_ptr_array_index(current->chains, i);
                if (g_hash_table_contains(going, chain))
                        g_string_append_printf(out, ":%s - [0:0]\n", chain);
        }
        if (current)
                unhook(out, current, going, table);
        netiso_ipt_ruleset_write_rules(out, desired);
        g_string_append(out, destroy->str);
        for (gsize i = 0; hook && i < NETISO_IPT_HOOKS; i++)
                if (netiso_ipt_hooks[i].table == table)
                        g_string_append_printf(out, "-I %s 1 -j %s\n", netiso_ipt_hooks[i].builtin,
                                               netiso_ipt_hooks[i].ours);
        g_string_append(out, "COMMIT\n");
}

void
netiso_ipt_batch_rebuild(GString *out, const NetisoConfig *config, const NetisoIptSet *set,
                         NetisoFamily family, NetisoIptRuleset *const *current)
{
        for (int t = 0; t < _NETISO_IPT_TABLE_MAX; t++) {
                g_autoptr(NetisoIptRuleset) desired =
                        netiso_ipt_render_full(config, set, family, t);

                batch_replace(out, desired, current ? current[t] : NULL, /* hook */ TRUE, t);
        }
}

void
netiso_ipt_batch_purge(GString *out, NetisoIptRuleset *const *current)
{
        for (int t = 0; t < _NETISO_IPT_TABLE_MAX; t++) {
                g_autoptr(NetisoIptRuleset) none = netiso_ipt_ruleset_new();

                batch_replace(out, none, current[t], /* hook */ FALSE, t);
        }
}
