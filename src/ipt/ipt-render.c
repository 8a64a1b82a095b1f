/* iptables-restore input for the iptables backend: the shared chains that
 * carry the configuration, the full table (rebuild), an event's delta, and
 * the purge. Rules are written exactly as iptables-save prints them. */
#include "autoconfig.h"

#include <string.h>

#include "core/policy.h"
#include "ipt/ipt-render.h"

const NetisoIptHook netiso_ipt_hooks[NETISO_IPT_HOOKS] = {
        { "FORWARD", NETISO_IPT_FWD },
        { "INPUT", NETISO_IPT_IN },
        { "OUTPUT", NETISO_IPT_OUT },
};

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
 * guest-like names nobody installed, as in table inet blixard. */
static void
top_chains(NetisoIptRuleset *rs, const NetisoConfig *config)
{
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
        const char *const chains[] = { NETISO_IPT_ND, NETISO_IPT_HOST, NETISO_IPT_TO,
                                       NETISO_IPT_PEER, NETISO_IPT_REST };

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

/* The chains every event rewrites: they carry the configuration. */
static NetisoIptRuleset *
render_shared(const NetisoConfig *config, NetisoFamily family)
{
        NetisoIptRuleset *rs = netiso_ipt_ruleset_new();
        g_autoptr(NetisoRules) r = netiso_rules_new(config);

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
static NetisoIptSet *
unpatterned(const NetisoConfig *config, const NetisoIptSet *set)
{
        NetisoIptSet *sub = netiso_ipt_set_new();

        /* Names and tenants were checked when set was built: nothing can fail. */
        for (guint i = 0; i < set->ports->len; i++) {
                const NetisoIptPort *p = g_ptr_array_index(set->ports, i);
                if (!netiso_config_is_guest_like_ifname(config, p->tap))
                        (void)netiso_ipt_set_add(sub, p->tap, p->tenant, p->addresses, NULL);
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
netiso_ipt_render_full(const NetisoConfig *config, const NetisoIptSet *set, NetisoFamily family)
{
        NetisoIptRuleset *rs = render_shared(config, family);
        g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
        g_autoptr(NetisoIptSet) dm = unpatterned(config, set);

        for (int t = 0; t < NETISO_IPT_TRIE_TENANT; t++)
                render_trie(rs, t == NETISO_IPT_TRIE_BLOCK_TO ? dm : set, t, NULL, family);
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

/* ---- one event ---- */

/* Sections of a delta batch, in the order they must run: create chains
 * before rules jump to them, delete chains after nothing refers to them. */
typedef struct {
        GString *create;
        GString *remove;
        GString *add;
        GString *flush;
        GString *destroy;
} Delta;

static void
lines_to(GString *out, const char *verb, const char *chain, const char *item)
{
        g_auto(GStrv) lines = g_strsplit(item, "\n", -1);

        for (guint i = 0; lines[i]; i++)
                g_string_append_printf(out, "%s %s %s\n", verb, chain, lines[i]);
}

static gboolean
has_item(const GPtrArray *items, const NetisoIptItem *item)
{
        for (guint i = 0; items && i < items->len; i++)
                if (g_str_equal(((NetisoIptItem *)g_ptr_array_index(items, i))->rules, item->rules))
                        return TRUE;
        return FALSE;
}

static gboolean
leads_to_any(const NetisoIptItem *item, const GPtrArray *taps)
{
        for (guint i = 0; taps && i < taps->len; i++)
                if (netiso_ipt_item_leads_to(item, g_ptr_array_index(taps, i)))
                        return TRUE;
        return FALSE;
}

/* A changed item is removed whole and appended whole, so a leaf's rules
 * stay together and in order. Items of other taps are left alone, and so
 * are their counters. Items on the way to a verified tap are deleted and
 * appended again even when unchanged: the strict delete fails if someone
 * removed them, and the rebuild that follows repairs everything. */
static void
diff_node(Delta *d, const char *chain, const GPtrArray *before, const GPtrArray *after,
          const GPtrArray *verify)
{
        if (!before && !after)
                return;
        if (!after) {
                g_string_append_printf(d->flush, "-F %s\n", chain);
                g_string_append_printf(d->destroy, "-X %s\n", chain);
                return;
        }
        if (!before)
                g_string_append_printf(d->create, "-N %s\n", chain);
        for (guint i = 0; before && i < before->len; i++) {
                const NetisoIptItem *item = g_ptr_array_index(before, i);
                if (!has_item(after, item) || leads_to_any(item, verify))
                        lines_to(d->remove, "-D", chain, item->rules);
        }
        for (guint i = 0; i < after->len; i++) {
                const NetisoIptItem *item = g_ptr_array_index(after, i);
                if (!has_item(before, item) || leads_to_any(item, verify))
                        lines_to(d->add, "-A", chain, item->rules);
        }
}

/* Every prefix of a changed tap, the empty one included: only those nodes
 * can change when the tap comes or goes. */
static void
add_prefixes(GPtrArray *prefixes, GHashTable *seen, const char *tap)
{
        for (gsize n = 0; n <= strlen(tap); n++) {
                char *p = g_strndup(tap, n);

                if (g_hash_table_contains(seen, p)) {
                        g_free(p);
                        continue;
                }
                g_hash_table_add(seen, p);
                g_ptr_array_add(prefixes, p);
        }
}

/* A link that comes or goes means its child node is created or destroyed,
 * even when no changed tap is under it (a node's shape depends on all of its
 * taps): follow such links, so the child is diffed too. */
static void
follow_new_links(GPtrArray *work, GHashTable *seen, const GPtrArray *items, const GPtrArray *other)
{
        for (guint i = 0; items && i < items->len; i++) {
                const NetisoIptItem *item = g_ptr_array_index(items, i);

                if (!item->link || has_item(other, item) || g_hash_table_contains(seen, item->name))
                        continue;
                g_hash_table_add(seen, g_strdup(item->name));
                g_ptr_array_add(work, g_strdup(item->name));
        }
}

static void
diff_trie(Delta *d, const NetisoIptSet *before, const NetisoIptSet *after, NetisoIptTrie trie,
          const char *id, const GPtrArray *prefixes, const GPtrArray *verify, NetisoFamily family)
{
        g_autoptr(GPtrArray) work = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

        for (guint i = 0; i < prefixes->len; i++) {
                const char *prefix = g_ptr_array_index(prefixes, i);

                if (g_hash_table_contains(seen, prefix))
                        continue;
                g_hash_table_add(seen, g_strdup(prefix));
                g_ptr_array_add(work, g_strdup(prefix));
        }
        for (guint i = 0; i < work->len; i++) {
                const char *prefix = g_ptr_array_index(work, i);
                g_autoptr(GPtrArray) b = netiso_ipt_node_items(before, trie, prefix, family);
                g_autoptr(GPtrArray) a = netiso_ipt_node_items(after, trie, prefix, family);
                g_autofree char *chain = netiso_ipt_node_chain(trie, id, prefix);

                diff_node(d, chain, b, a, verify);
                follow_new_links(work, seen, a, b);
                follow_new_links(work, seen, b, a);
        }
}

static void
diff_tenant(Delta *d, const NetisoIptSet *before, const NetisoIptSet *after, const char *id,
            const GPtrArray *changed, const GPtrArray *verify, NetisoFamily family)
{
        g_autoptr(NetisoIptSet) b = netiso_ipt_set_tenant(before, id);
        g_autoptr(NetisoIptSet) a = netiso_ipt_set_tenant(after, id);
        g_autoptr(GPtrArray) prefixes = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
        g_autofree char *head = netiso_ipt_tenant_head(id);
        g_autoptr(GPtrArray) rules = NULL;
        gboolean verified = FALSE;

        for (guint i = 0; i < changed->len; i++) {
                const char *tap = g_ptr_array_index(changed, i);
                if (netiso_ipt_set_lookup(b, tap) || netiso_ipt_set_lookup(a, tap))
                        add_prefixes(prefixes, seen, tap);
        }
        for (guint i = 0; verify && i < verify->len; i++) {
                const char *tap = g_ptr_array_index(verify, i);
                if (netiso_ipt_set_lookup(a, tap)) {
                        add_prefixes(prefixes, seen, tap);
                        verified = TRUE;
                }
        }
        if (a->ports->len > 0)
                rules = netiso_ipt_tenant_head_rules(g_ptr_array_index(a->ports, 0));
        if (b->ports->len == 0 && a->ports->len > 0) {
                g_string_append_printf(d->create, "-N %s\n", head);
        } else if (b->ports->len > 0 && a->ports->len == 0) {
                g_string_append_printf(d->flush, "-F %s\n", head);
                g_string_append_printf(d->destroy, "-X %s\n", head);
        } else if (verified) {
                for (guint k = 0; k < rules->len; k++)
                        lines_to(d->remove, "-D", head, g_ptr_array_index(rules, k));
        }
        for (guint k = 0; a->ports->len > 0 && (b->ports->len == 0 || verified) && k < rules->len;
             k++)
                lines_to(d->add, "-A", head, g_ptr_array_index(rules, k));
        diff_trie(d, b, a, NETISO_IPT_TRIE_TENANT, id, prefixes, verify, family);
}

static gint
compare_strings(gconstpointer a, gconstpointer b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Taps whose rules differ between before and after, sorted; their tenants
 * in ret_ids. */
static GPtrArray *
changed_taps(const NetisoIptSet *before, const NetisoIptSet *after, GPtrArray *ret_ids)
{
        GPtrArray *changed = g_ptr_array_new_with_free_func(g_free);
        const NetisoIptSet *sets[] = { before, after };

        for (gsize s = 0; s < G_N_ELEMENTS(sets); s++) {
                for (guint i = 0; i < sets[s]->ports->len; i++) {
                        const NetisoIptPort *p = g_ptr_array_index(sets[s]->ports, i);
                        const NetisoIptPort *q = netiso_ipt_set_lookup(sets[1 - s], p->tap);

                        if (q && netiso_ipt_port_equal(p, q))
                                continue;
                        if (!g_ptr_array_find_with_equal_func(changed, p->tap, g_str_equal, NULL))
                                g_ptr_array_add(changed, g_strdup(p->tap));
                        if (!g_ptr_array_find_with_equal_func(ret_ids, p->tenant_id, g_str_equal,
                                                              NULL))
                                g_ptr_array_add(ret_ids, g_strdup(p->tenant_id));
                }
        }
        g_ptr_array_sort(changed, compare_strings);
        g_ptr_array_sort(ret_ids, compare_strings);
        return changed;
}

static void
declare_chains(GString *out, const NetisoIptRuleset *rs)
{
        for (guint i = 0; i < rs->chains->len; i++)
                g_string_append_printf(out, ":%s - [0:0]\n",
                                       (const char *)g_ptr_array_index(rs->chains, i));
}

static void
append_rules(GString *out, const NetisoIptRuleset *rs)
{
        for (guint i = 0; i < rs->chains->len; i++) {
                const char *chain = g_ptr_array_index(rs->chains, i);
                GPtrArray *rules = netiso_ipt_ruleset_rules(rs, chain);

                for (guint k = 0; k < rules->len; k++)
                        g_string_append_printf(
                                out, "-A %s %s\n", chain,
                                ((NetisoIptRule *)g_ptr_array_index(rules, k))->spec);
        }
}

void
netiso_ipt_batch_event(GString *out, const NetisoConfig *config, const NetisoIptSet *before,
                       const NetisoIptSet *after, const GPtrArray *verify, NetisoFamily family,
                       gboolean move_hooks)
{
        g_autoptr(NetisoIptRuleset) shared = render_shared(config, family);
        g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GPtrArray) changed = changed_taps(before, after, ids);
        g_autoptr(GPtrArray) prefixes = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
        g_autoptr(NetisoIptSet) before_dm = unpatterned(config, before);
        g_autoptr(NetisoIptSet) after_dm = unpatterned(config, after);
        Delta d = { g_string_new(NULL), g_string_new(NULL), g_string_new(NULL), g_string_new(NULL),
                    g_string_new(NULL) };

        for (guint i = 0; i < changed->len; i++)
                add_prefixes(prefixes, seen, g_ptr_array_index(changed, i));
        for (guint i = 0; verify && i < verify->len; i++) {
                const NetisoIptPort *p = netiso_ipt_set_lookup(after, g_ptr_array_index(verify, i));
                add_prefixes(prefixes, seen, g_ptr_array_index(verify, i));
                if (p && !g_ptr_array_find_with_equal_func(ids, p->tenant_id, g_str_equal, NULL))
                        g_ptr_array_add(ids, g_strdup(p->tenant_id));
        }
        g_ptr_array_sort(prefixes, compare_strings);
        g_ptr_array_sort(ids, compare_strings);
        for (int t = 0; t < NETISO_IPT_TRIE_TENANT; t++) {
                if (t == NETISO_IPT_TRIE_BLOCK_TO)
                        diff_trie(&d, before_dm, after_dm, t, NULL, prefixes, verify, family);
                else
                        diff_trie(&d, before, after, t, NULL, prefixes, verify, family);
        }
        for (guint i = 0; i < ids->len; i++)
                diff_tenant(&d, before, after, g_ptr_array_index(ids, i), changed, verify, family);

        g_string_append(out, "*filter\n");
        /* Declaring a chain with --noflush empties it (or creates it): the
         * shared chains are rewritten whole, within the same transaction. */
        declare_chains(out, shared);
        g_string_append(out, d.create->str);
        g_string_append(out, d.remove->str);
        append_rules(out, shared);
        g_string_append(out, d.add->str);
        g_string_append(out, d.flush->str);
        g_string_append(out, d.destroy->str);
        for (gsize i = 0; move_hooks && i < NETISO_IPT_HOOKS; i++)
                g_string_append_printf(out, "-D %s -j %s\n-I %s 1 -j %s\n",
                                       netiso_ipt_hooks[i].builtin, netiso_ipt_hooks[i].ours,
                                       netiso_ipt_hooks[i].builtin, netiso_ipt_hooks[i].ours);
        g_string_append(out, "COMMIT\n");
        g_string_free(d.create, /* free_segment */ TRUE);
        g_string_free(d.remove, /* free_segment */ TRUE);
        g_string_free(d.add, /* free_segment */ TRUE);
        g_string_free(d.flush, /* free_segment */ TRUE);
        g_string_free(d.destroy, /* free_segment */ TRUE);
}

/* ---- whole table ---- */

static gboolean
is_hook(const char *chain, const char *spec)
{
        for (gsize i = 0; i < NETISO_IPT_HOOKS; i++)
                if (g_str_equal(chain, netiso_ipt_hooks[i].builtin) &&
                    g_str_has_prefix(spec, "-j ") &&
                    g_str_equal(spec + 3, netiso_ipt_hooks[i].ours))
                        return TRUE;
        return FALSE;
}

/* Delete the rules of chains that are not ours which jump to a chain that
 * is going away, and every hook (the rebuild inserts them again). */
static void
unhook(GString *out, const NetisoIptRuleset *current, GHashTable *going)
{
        for (guint i = 0; i < current->chains->len; i++) {
                const char *chain = g_ptr_array_index(current->chains, i);
                GPtrArray *rules = netiso_ipt_ruleset_rules(current, chain);

                if (netiso_ipt_chain_is_ours(chain))
                        continue;
                for (guint k = 0; k < rules->len; k++) {
                        const char *spec = ((NetisoIptRule *)g_ptr_array_index(rules, k))->spec;
                        g_autofree char *target = netiso_ipt_rule_target(spec);

                        if (is_hook(chain, spec) ||
                            (target && g_hash_table_contains(going, target)))
                                g_string_append_printf(out, "-D %s %s\n", chain, spec);
                }
        }
}

static void
batch_replace(GString *out, const NetisoIptRuleset *desired, const NetisoIptRuleset *current,
              gboolean hook)
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
        g_string_append(out, "*filter\n");
        declare_chains(out, desired);
        for (guint i = 0; current && i < current->chains->len; i++) {
                const char *chain = g_ptr_array_index(current->chains, i);
                if (g_hash_table_contains(going, chain))
                        g_string_append_printf(out, ":%s - [0:0]\n", chain);
        }
        if (current)
                unhook(out, current, going);
        append_rules(out, desired);
        g_string_append(out, destroy->str);
        for (gsize i = 0; hook && i < NETISO_IPT_HOOKS; i++)
                g_string_append_printf(out, "-I %s 1 -j %s\n", netiso_ipt_hooks[i].builtin,
                                       netiso_ipt_hooks[i].ours);
        g_string_append(out, "COMMIT\n");
}

void
netiso_ipt_batch_rebuild(GString *out, const NetisoConfig *config, const NetisoIptSet *set,
                         NetisoFamily family, const NetisoIptRuleset *current)
{
        g_autoptr(NetisoIptRuleset) desired = netiso_ipt_render_full(config, set, family);

        batch_replace(out, desired, current, /* hook */ TRUE);
}

void
netiso_ipt_batch_purge(GString *out, const NetisoIptRuleset *current)
{
        g_autoptr(NetisoIptRuleset) none = netiso_ipt_ruleset_new();

        batch_replace(out, none, current, /* hook */ FALSE);
}
