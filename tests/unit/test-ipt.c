/* The iptables backend without a kernel: the radix trie's shape, batches
 * applied to a strict in-memory filter table (ipt-sim.c), every event's
 * delta landing exactly on the full rendering of the records, damage
 * refused, and packets walked through the rules with the verdicts of the
 * TRAFFIC SEMANTICS. */
#include "autoconfig.h"

#include <string.h>

#include "backend-ipt.h"
#include "config.h"
#include "error.h"
#include "ipt-render.h"
#include "ipt-sim.h"

#define HOST4 "10.0.255.254"

static NetisoConfig *
config_new(const char *extra)
{
        g_autofree char *text = g_strdup_printf(
                "[vm.network_isolation]\nenabled = true\nbackend = \"iptables\"\n"
                "cluster_networks = [\"127.0.0.0/8\", \"172.16.0.0/12\", \"fd00:172::/64\"]\n"
                "vm_network = [\"10.0.0.0/16\", \"fd00:10::/64\"]\n%s\n"
                "[[vm.network_isolation.allowed_ports]]\nprotocol = \"udp\"\nport = 53\n"
                "direction = \"outbound\"\n"
                "[[vm.network_isolation.allowed_ports]]\nprotocol = \"tcp\"\nport = 2222\n"
                "direction = \"inbound\"\n",
                extra);
        g_autoptr(GError) error = NULL;
        NetisoConfig *config = netiso_config_new_from_data("test.toml", text, strlen(text), &error);

        g_assert_no_error(error);
        return config;
}

static void
add_port(NetisoIptSet *set, const char *tap, const char *tenant, const char *v4, const char *v6)
{
        g_autoptr(GArray) addrs = g_array_new(FALSE, FALSE, sizeof(NetisoCidr));
        g_autoptr(GError) error = NULL;
        NetisoCidr c;

        if (v4) {
                g_assert_true(netiso_addr_parse(v4, &c, NULL));
                g_array_append_val(addrs, c);
        }
        if (v6) {
                g_assert_true(netiso_addr_parse(v6, &c, NULL));
                g_array_append_val(addrs, c);
        }
        g_assert_true(netiso_ipt_set_add(set, tap, tenant, addrs, &error));
}

static void
finish(NetisoIptSet *set)
{
        g_autoptr(GError) error = NULL;

        g_assert_true(netiso_ipt_set_finish(set, &error));
}

static char *
items_text(GPtrArray *items)
{
        GString *out = g_string_new(NULL);

        for (guint i = 0; items && i < items->len; i++)
                g_string_append_printf(out, "%s|",
                                       ((NetisoIptItem *)g_ptr_array_index(items, i))->rules);
        return g_string_free(out, FALSE);
}

static char *
node_text(const NetisoIptSet *set, const char *prefix)
{
        g_autoptr(GPtrArray) items =
                netiso_ipt_node_items(set, NETISO_IPT_TRIE_ACCEPT_TO, prefix, NETISO_FAMILY_IPV4);

        return items ? items_text(items) : g_strdup("(none)");
}

static void
test_trie_shape(void)
{
        g_autoptr(NetisoIptSet) set = netiso_ipt_set_new();
        g_autoptr(GPtrArray) prefixes = NULL;
        g_autofree char *joined = NULL;
        const char *const taps[] = { "vnet1", "vnet2", "vnet12", "vnet123", "tap0" };
        struct {
                const char *prefix, *items;
        } nodes[] = {
                { "", "-o tap0 -j ACCEPT|-o vnet+ -g BLXOO-vnet|" },
                { "vnet", "-o vnet1+ -g BLXOO-vnet1|-o vnet2 -j ACCEPT|" },
                { "vnet1", "-o vnet1 -j ACCEPT|-o vnet12+ -g BLXOO-vnet12|" },
                { "vnet12", "-o vnet12 -j ACCEPT|-o vnet123 -j ACCEPT|" },
                { "vnet123", "(none)" },
                { "vne", "(none)" },
                { "t", "(none)" },
        };

        for (gsize i = 0; i < G_N_ELEMENTS(taps); i++)
                add_port(set, taps[i], "A", NULL, NULL);
        finish(set);
        prefixes = netiso_ipt_node_prefixes(set);
        g_ptr_array_add(prefixes, NULL);
        joined = g_strjoinv(",", (char **)prefixes->pdata);
        g_assert_cmpstr(joined, ==, ",vnet1,vnet12,vnet");
        for (gsize i = 0; i < G_N_ELEMENTS(nodes); i++) {
                g_autofree char *text = node_text(set, nodes[i].prefix);
                g_assert_cmpstr(text, ==, nodes[i].items);
        }
}

static void
test_tenant_id(void)
{
        char id[NETISO_IPT_TENANT_ID_LEN + 1];
        g_autofree char *head = NULL;
        g_autofree char *node = NULL;
        g_autoptr(NetisoIptSet) set = netiso_ipt_set_new();
        g_autoptr(GError) error = NULL;
        g_autoptr(GArray) none = g_array_new(FALSE, FALSE, sizeof(NetisoCidr));

        /* sha256("production") starts ab8e18ef */
        netiso_ipt_tenant_id("production", id);
        g_assert_cmpstr(id, ==, "ab8e18ef");
        head = netiso_ipt_tenant_head(id);
        g_assert_cmpstr(head, ==, "BLXGab8e18ef");
        /* The longest node name (a 14-character prefix) fits in 28 characters. */
        node = netiso_ipt_node_chain(NETISO_IPT_TRIE_TENANT, id, "abcdefghijklmn");
        g_assert_cmpuint(strlen(node), <=, 28);
        g_assert_true(netiso_ipt_chain_is_ours(head));
        g_assert_true(netiso_ipt_chain_is_ours(node));
        g_assert_false(netiso_ipt_chain_is_ours("BLXGxyz"));
        g_assert_false(netiso_ipt_chain_is_ours("DOCKER-USER"));
        /* Hostile names in a record never reach a rule. */
        g_assert_false(netiso_ipt_set_add(set, "vnet1 -j ACCEPT", "A", none, &error));
        g_assert_error(error, NETISO_ERROR, NETISO_ERROR_STATE);
        g_clear_error(&error);
        g_assert_false(netiso_ipt_set_add(set, "vnet1", "a\"b", none, &error));
        g_assert_error(error, NETISO_ERROR, NETISO_ERROR_STATE);
}

/* ---- batches against the in-memory table ---- */

static void
restore_ok(IptSim *sim, const char *batch)
{
        g_autofree char *why = NULL;

        if (!ipt_sim_restore(sim, batch, &why))
                g_error("batch refused: %s\n%s", why, batch);
}

static void
rebuild(IptSim *sim, const NetisoConfig *config, const NetisoIptSet *set, NetisoFamily family)
{
        g_autoptr(GString) out = g_string_new(NULL);
        g_autoptr(NetisoIptRuleset) current = ipt_sim_ruleset(sim);

        netiso_ipt_batch_rebuild(out, config, set, family, current);
        restore_ok(sim, out->str);
}

static gint
compare_strings(gconstpointer a, gconstpointer b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static GPtrArray *
sorted_specs(GPtrArray *rules)
{
        GPtrArray *specs = g_ptr_array_new();

        for (guint i = 0; rules && i < rules->len; i++)
                g_ptr_array_add(specs, ((NetisoIptRule *)g_ptr_array_index(rules, i))->spec);
        g_ptr_array_sort(specs, compare_strings);
        return specs;
}

/* The table holds exactly the rendering: our chains, their rules (order
 * within trie nodes aside), and one jump at the top of each hook. */
static void
assert_table_is(const IptSim *sim, const NetisoConfig *config, const NetisoIptSet *set,
                NetisoFamily family)
{
        g_autoptr(NetisoIptRuleset) want = netiso_ipt_render_full(config, set, family);
        g_autoptr(NetisoIptRuleset) have = ipt_sim_ruleset(sim);
        guint ours = 0;

        for (guint i = 0; i < have->chains->len; i++) {
                const char *chain = g_ptr_array_index(have->chains, i);
                g_autoptr(GPtrArray) a = NULL;
                g_autoptr(GPtrArray) b = NULL;

                if (!netiso_ipt_chain_is_ours(chain)) {
                        GPtrArray *rules = netiso_ipt_ruleset_rules(have, chain);
                        g_assert_cmpuint(rules->len, ==, 1);
                        continue;
                }
                ours++;
                if (!netiso_ipt_ruleset_has_chain(want, chain))
                        g_error("unexpected chain %s", chain);
                a = sorted_specs(netiso_ipt_ruleset_rules(have, chain));
                b = sorted_specs(netiso_ipt_ruleset_rules(want, chain));
                g_assert_cmpuint(a->len, ==, b->len);
                for (guint k = 0; k < a->len; k++)
                        g_assert_cmpstr(g_ptr_array_index(a, k), ==, g_ptr_array_index(b, k));
        }
        g_assert_cmpuint(ours, ==, want->chains->len);
}

/* Names from a small alphabet, so that they share prefixes in every way. */
static char *
random_tap(void)
{
        static const char letters[] = "vnet01";
        int len = g_test_rand_int_range(1, 7);
        char *tap = g_malloc0((gsize)len + 1);

        for (int i = 0; i < len; i++)
                tap[i] = letters[g_test_rand_int_range(0, sizeof(letters) - 1)];
        tap[0] = tap[0] == '0' || tap[0] == '1' ? 'v' : tap[0];
        return tap;
}

static void
random_port(NetisoIptSet *set, const char *tap, guint serial)
{
        static const char *const tenants[] = { "A", "B", "production" };
        g_autofree char *v4 = g_strdup_printf("10.0.%u.%u", serial / 200, serial % 200 + 1);
        g_autofree char *v6 = g_strdup_printf("fd00:10::%x", serial + 1);

        add_port(set, tap, tenants[g_test_rand_int_range(0, 3)], g_test_rand_bit() ? v4 : NULL,
                 g_test_rand_bit() ? v6 : NULL);
}

static NetisoIptSet *
random_set(guint n, guint *serial)
{
        NetisoIptSet *set = netiso_ipt_set_new();

        for (guint i = 0; i < n; i++) {
                g_autofree char *tap = random_tap();
                random_port(set, tap, (*serial)++);
        }
        finish(set);
        return set;
}

/* after: some of before's taps gone, some changed, some new. */
static NetisoIptSet *
random_change(const NetisoIptSet *before, guint *serial, GPtrArray *verify)
{
        NetisoIptSet *after = netiso_ipt_set_new();

        for (guint i = 0; i < before->ports->len; i++) {
                const NetisoIptPort *p = g_ptr_array_index(before->ports, i);
                int what = g_test_rand_int_range(0, 6);

                if (what == 0)
                        continue;
                if (what == 1) {
                        random_port(after, p->tap, (*serial)++);
                        g_ptr_array_add(verify, g_strdup(p->tap));
                } else {
                        g_assert_true(
                                netiso_ipt_set_add(after, p->tap, p->tenant, p->addresses, NULL));
                }
        }
        for (int i = g_test_rand_int_range(0, 4); i > 0; i--) {
                g_autofree char *tap = random_tap();
                random_port(after, tap, (*serial)++);
                g_ptr_array_add(verify, g_strdup(tap));
        }
        finish(after);
        return after;
}

static void
test_rebuild_and_deltas(void)
{
        g_autoptr(NetisoConfig) config = config_new("");
        guint serial = 0;

        for (int round = 0; round < 60; round++) {
                NetisoFamily family = round % 2 ? NETISO_FAMILY_IPV6 : NETISO_FAMILY_IPV4;
                g_autoptr(IptSim) sim = ipt_sim_new();
                g_autoptr(NetisoIptSet) set =
                        random_set((guint)g_test_rand_int_range(0, 25), &serial);

                rebuild(sim, config, set, family);
                assert_table_is(sim, config, set, family);
                for (int step = 0; step < 8; step++) {
                        g_autoptr(GPtrArray) verify = g_ptr_array_new_with_free_func(g_free);
                        g_autoptr(NetisoIptSet) next = random_change(set, &serial, verify);
                        g_autoptr(GString) out = g_string_new(NULL);

                        netiso_ipt_batch_event(out, config, set, next, verify, family, TRUE);
                        restore_ok(sim, out->str);
                        assert_table_is(sim, config, next, family);
                        g_clear_pointer(&set, netiso_ipt_set_free);
                        set = g_steal_pointer(&next);
                }
                /* Rebuilding over a populated table lands on the same table. */
                rebuild(sim, config, set, family);
                assert_table_is(sim, config, set, family);
        }
}

/* A rule removed behind our back makes the next event for that guest fail
 * (and the backend rebuild), instead of leaving it unprotected. */
static void
test_damage_refused(void)
{
        g_autoptr(NetisoConfig) config = config_new("");
        g_autoptr(NetisoIptSet) set = netiso_ipt_set_new();
        g_autoptr(IptSim) sim = ipt_sim_new();
        g_autoptr(GPtrArray) verify = g_ptr_array_new();
        g_autoptr(GString) out = g_string_new(NULL);
        g_autofree char *why = NULL;
        const char *const damages[] = {
                "*filter\n-F BLXFI-vnet\nCOMMIT\n",
                "*filter\n-D BLXKab8e18ef- -o vnet+ -g BLXKab8e18ef-vnet\nCOMMIT\n",
                "*filter\n-F BLXGab8e18ef\nCOMMIT\n",
                "*filter\n-D FORWARD -j BLIXARD_VM_FWD\nCOMMIT\n",
                "*filter\n-F BLXII-\nCOMMIT\n",
        };

        add_port(set, "vnet1", "production", "10.0.0.11", NULL);
        add_port(set, "vnet2", "production", "10.0.0.12", NULL);
        finish(set);
        g_ptr_array_add(verify, (gpointer) "vnet1");
        for (gsize i = 0; i < G_N_ELEMENTS(damages); i++) {
                g_autoptr(IptSim) damaged = ipt_sim_new();

                rebuild(damaged, config, set, NETISO_FAMILY_IPV4);
                restore_ok(damaged, damages[i]);
                g_string_truncate(out, 0);
                netiso_ipt_batch_event(out, config, set, set, verify, NETISO_FAMILY_IPV4, TRUE);
                g_assert_false(ipt_sim_restore(damaged, out->str, &why));
                g_clear_pointer(&why, g_free);
                rebuild(damaged, config, set, NETISO_FAMILY_IPV4);
                assert_table_is(damaged, config, set, NETISO_FAMILY_IPV4);
        }
        /* An undamaged table takes the same batch. */
        rebuild(sim, config, set, NETISO_FAMILY_IPV4);
        restore_ok(sim, out->str);
}

static void
test_purge(void)
{
        g_autoptr(NetisoConfig) config = config_new("");
        g_autoptr(NetisoIptSet) set = netiso_ipt_set_new();
        g_autoptr(IptSim) sim = ipt_sim_new();
        g_autoptr(GString) out = g_string_new(NULL);
        g_autoptr(NetisoIptRuleset) current = NULL;
        g_autoptr(NetisoIptRuleset) left = NULL;

        add_port(set, "vnet1", "A", "10.0.0.11", "fd00:10::11");
        finish(set);
        rebuild(sim, config, set, NETISO_FAMILY_IPV6);
        /* Someone else's rule that jumps into our chains goes too. */
        restore_ok(sim, "*filter\n-A INPUT -j BLX-HOST\nCOMMIT\n");
        current = ipt_sim_ruleset(sim);
        netiso_ipt_batch_purge(out, current);
        restore_ok(sim, out->str);
        left = ipt_sim_ruleset(sim);
        g_assert_cmpuint(left->chains->len, ==, 3);
        for (guint i = 0; i < left->chains->len; i++)
                g_assert_cmpuint(
                        netiso_ipt_ruleset_rules(left, g_ptr_array_index(left->chains, i))->len, ==,
                        0);
        /* Nothing of ours: nothing to run. */
        g_string_truncate(out, 0);
        netiso_ipt_batch_purge(out, left);
        g_assert_cmpuint(out->len, ==, 0);
}

/* ---- packets: the TRAFFIC SEMANTICS of blixard-netiso(8) ---- */

typedef struct {
        const char *hook, *iif, *oif, *src, *dst, *proto;
        guint dport;
        const char *ct;
        const char *want;
} Case;

/* a1, a2: tenant A; b1: tenant B; c1: tenant C with an address outside the
 * VM networks. vnet9 looks like a guest but nobody installed it. */
static IptSim *
hypervisor(const NetisoConfig *config, NetisoFamily family)
{
        IptSim *sim = ipt_sim_new();
        g_autoptr(NetisoIptSet) set = netiso_ipt_set_new();

        add_port(set, "vnet1", "A", "10.0.0.11", "fd00:10::11");
        add_port(set, "vnet2", "A", "10.0.0.12", "fd00:10::12");
        add_port(set, "vnet3", "B", "10.0.0.13", "fd00:10::13");
        add_port(set, "vnet4", "C", "192.0.2.4", "2001:db8:4::4");
        finish(set);
        rebuild(sim, config, set, family);
        return sim;
}

static void
run_cases(const char *extra, const Case *cases, gsize n)
{
        g_autoptr(NetisoConfig) config = config_new(extra);

        for (int v6 = 0; v6 <= 1; v6++) {
                g_autoptr(IptSim) sim =
                        hypervisor(config, v6 ? NETISO_FAMILY_IPV6 : NETISO_FAMILY_IPV4);

                for (gsize i = 0; i < n; i++) {
                        const Case *c = &cases[i];
                        IptPacket p = { c->hook, c->iif,   c->oif,   c->src,
                                        c->dst,  c->proto, c->dport, c->ct ? c->ct : "NEW",
                                        0,       64 };
                        g_autofree char *src = NULL;
                        g_autofree char *dst = NULL;
                        const char *got;

                        /* One table of IPv4 cases; IPv6 maps 10.0.0.N to fd00:10::N etc. */
                        if (v6) {
                                g_auto(GStrv) s = g_strsplit(c->src, ".", -1);
                                g_auto(GStrv) d = g_strsplit(c->dst, ".", -1);
                                src = g_strdup_printf(
                                        "%s::%s",
                                        g_str_has_prefix(c->src, "10.")    ? "fd00:10"
                                        : g_str_has_prefix(c->src, "172.") ? "fd00:172"
                                        : g_str_has_prefix(c->src, "192.") ? "2001:db8:4"
                                                                           : "2001:db8:100",
                                        s[3]);
                                dst = g_strdup_printf(
                                        "%s::%s",
                                        g_str_has_prefix(c->dst, "10.")    ? "fd00:10"
                                        : g_str_has_prefix(c->dst, "172.") ? "fd00:172"
                                        : g_str_has_prefix(c->dst, "192.") ? "2001:db8:4"
                                                                           : "2001:db8:100",
                                        d[3]);
                                p.src = src;
                                p.dst = dst;
                                if (g_str_equal(p.proto, "icmp"))
                                        p.proto = "ipv6-icmp";
                        }
                        got = ipt_sim_walk(sim, &p, NULL);
                        if (!g_str_equal(got, c->want))
                                g_error("IPv%d case %zu (%s %s %s -> %s %s %s %u %s): %s, expected "
                                        "%s",
                                        v6 ? 6 : 4, i + 1, c->hook, c->iif, c->src, c->oif, c->dst,
                                        c->proto, c->dport, p.ct, got, c->want);
                }
        }
}

#define FWD(iif, oif, src, dst, proto, port, ct, want)                                             \
        {                                                                                          \
                "FORWARD", iif, oif, src, dst, proto, port, ct, want                               \
        }
#define IN(iif, src, dst, proto, port, ct, want)                                                   \
        {                                                                                          \
                "INPUT", iif, "", src, dst, proto, port, ct, want                                  \
        }
#define OUT(oif, src, dst, proto, port, want)                                                      \
        {                                                                                          \
                "OUTPUT", "", oif, src, dst, proto, port, NULL, want                               \
        }

static void
test_semantics_default(void)
{
        static const Case cases[] = {
                FWD("vnet1", "vnet2", "10.0.0.11", "10.0.0.12", "tcp", 9000, NULL, "ACCEPT"),
                FWD("vnet1", "vnet2", "10.0.0.11", "10.0.0.12", "icmp", 0, NULL, "ACCEPT"),
                FWD("vnet1", "vnet3", "10.0.0.11", "10.0.0.13", "tcp", 9000, NULL, "DROP"),
                FWD("vnet3", "vnet1", "10.0.0.13", "10.0.0.11", "tcp", 2222, NULL, "DROP"),
                FWD("vnet1", "vnet4", "10.0.0.11", "192.0.2.4", "tcp", 9000, NULL, "DROP"),
                FWD("vnet1", "vnet9", "10.0.0.11", "10.0.0.19", "tcp", 9000, NULL, "DROP"),
                FWD("vnet1", "clu0", "10.0.0.11", "172.16.0.2", "tcp", 7000, NULL, "DROP"),
                FWD("vnet1", "clu0", "10.0.0.11", "172.16.0.2", "udp", 53, NULL, "DROP"),
                FWD("vnet1", "wan0", "10.0.0.11", "10.0.5.5", "tcp", 80, NULL, "DROP"),
                FWD("vnet1", "wan0", "10.0.0.11", "198.51.100.2", "tcp", 80, NULL, "ACCEPT"),
                FWD("vnet1", "wan0", "10.0.0.11", "198.51.100.2", "tcp", 80, "INVALID", "DROP"),
                FWD("vnet1", "wan0", "10.0.0.12", "198.51.100.2", "udp", 53, NULL, "DROP"),
                FWD("vnet1", "wan0", "10.0.0.99", "198.51.100.2", "udp", 53, NULL, "DROP"),
                FWD("vnet1", "wan0", "10.0.0.12", "198.51.100.2", "tcp", 80, "ESTABLISHED", "DROP"),
                FWD("vnet1", "vnet3", "10.0.0.11", "10.0.0.13", "tcp", 9000, "ESTABLISHED",
                    "ACCEPT"),
                FWD("wan0", "vnet1", "198.51.100.2", "10.0.0.11", "tcp", 2222, NULL, "ACCEPT"),
                FWD("wan0", "vnet1", "198.51.100.2", "10.0.0.11", "tcp", 9000, NULL, "DROP"),
                FWD("wan0", "vnet1", "198.51.100.2", "10.0.0.11", "tcp", 9000, "ESTABLISHED",
                    "ACCEPT"),
                FWD("clu0", "vnet1", "172.16.0.2", "10.0.0.11", "tcp", 9000, NULL, "DROP"),
                FWD("vnet9", "wan0", "10.0.0.19", "198.51.100.2", "tcp", 80, NULL, "DROP"),
                FWD("wan0", "vnet9", "198.51.100.2", "10.0.0.19", "tcp", 9000, NULL, "DROP"),
                FWD("vnet9", "vnet1", "10.0.0.19", "10.0.0.11", "tcp", 2222, NULL, "DROP"),
                FWD("wan0", "clu0", "198.51.100.2", "172.16.0.2", "tcp", 7000, NULL, "ACCEPT"),
                IN("vnet1", "10.0.0.11", HOST4, "tcp", 8080, NULL, "DROP"),
                IN("vnet1", "10.0.0.11", HOST4, "icmp", 0, NULL, "DROP"),
                IN("vnet1", "10.0.0.11", HOST4, "udp", 5353, NULL, "DROP"),
                IN("vnet1", "10.0.0.11", HOST4, "udp", 53, NULL, "ACCEPT"),
                IN("vnet1", "10.0.0.12", HOST4, "udp", 53, NULL, "DROP"),
                IN("vnet1", "10.0.0.11", "172.16.0.1", "udp", 53, NULL, "DROP"),
                IN("vnet1", "10.0.0.11", HOST4, "tcp", 8080, "ESTABLISHED", "ACCEPT"),
                IN("vnet9", "10.0.0.19", HOST4, "udp", 53, NULL, "DROP"),
                IN("eth0", "198.51.100.2", HOST4, "tcp", 22, NULL, "ACCEPT"),
                OUT("vnet1", HOST4, "10.0.0.11", "tcp", 9000, "ACCEPT"),
                OUT("vnet9", HOST4, "10.0.0.19", "tcp", 9000, "DROP"),
                OUT("wan0", "198.51.100.1", "198.51.100.2", "tcp", 80, "ACCEPT"),
        };

        run_cases("", cases, G_N_ELEMENTS(cases));
}

static void
test_semantics_variants(void)
{
        static const Case open[] = {
                FWD("vnet1", "vnet3", "10.0.0.11", "10.0.0.13", "tcp", 9000, NULL, "ACCEPT"),
                FWD("vnet1", "vnet4", "10.0.0.11", "192.0.2.4", "tcp", 9000, NULL, "ACCEPT"),
                FWD("vnet1", "wan0", "10.0.0.11", "10.0.5.5", "tcp", 80, NULL, "ACCEPT"),
                FWD("vnet1", "clu0", "10.0.0.11", "172.16.0.2", "tcp", 7000, NULL, "DROP"),
                FWD("vnet1", "vnet9", "10.0.0.11", "10.0.0.19", "tcp", 9000, NULL, "DROP"),
                IN("vnet1", "10.0.0.11", HOST4, "tcp", 8080, NULL, "DROP"),
        };
        static const Case closed[] = {
                FWD("vnet1", "vnet2", "10.0.0.11", "10.0.0.12", "tcp", 9000, NULL, "DROP"),
                FWD("vnet1", "vnet3", "10.0.0.11", "10.0.0.13", "tcp", 9000, NULL, "DROP"),
                FWD("vnet1", "wan0", "10.0.0.11", "198.51.100.2", "tcp", 80, NULL, "ACCEPT"),
        };
        static const Case offline[] = {
                FWD("vnet1", "wan0", "10.0.0.11", "198.51.100.2", "tcp", 80, NULL, "DROP"),
                FWD("vnet1", "wan0", "10.0.0.11", "198.51.100.2", "udp", 53, NULL, "ACCEPT"),
                FWD("vnet1", "wan0", "10.0.0.11", "198.51.100.2", "udp", 5555, NULL, "DROP"),
                FWD("vnet1", "vnet2", "10.0.0.11", "10.0.0.12", "tcp", 9000, NULL, "ACCEPT"),
                FWD("wan0", "vnet1", "198.51.100.2", "10.0.0.11", "tcp", 2222, NULL, "ACCEPT"),
        };

        run_cases("tenant_isolation = false", open, G_N_ELEMENTS(open));
        run_cases("inter_vm_isolation = true", closed, G_N_ELEMENTS(closed));
        run_cases("allow_internet = false", offline, G_N_ELEMENTS(offline));
}

static void
test_neighbour_discovery(void)
{
        g_autoptr(NetisoConfig) config = config_new("");
        g_autoptr(IptSim) sim = hypervisor(config, NETISO_FAMILY_IPV6);
        IptPacket p = { "INPUT",     "vnet1", "",    "fe80::1", "ff02::1:ff00:fffe",
                        "ipv6-icmp", 0,       "NEW", 135,       255 };

        g_assert_cmpstr(ipt_sim_walk(sim, &p, NULL), ==, "ACCEPT");
        p.icmp6_type = 133;
        g_assert_cmpstr(ipt_sim_walk(sim, &p, NULL), ==, "ACCEPT");
        p.icmp6_type = 134; /* router advertisement from a guest */
        g_assert_cmpstr(ipt_sim_walk(sim, &p, NULL), ==, "DROP");
        p.icmp6_type = 137; /* redirect */
        g_assert_cmpstr(ipt_sim_walk(sim, &p, NULL), ==, "DROP");
        p.icmp6_type = 135;
        p.hoplimit = 64; /* not on-link */
        g_assert_cmpstr(ipt_sim_walk(sim, &p, NULL), ==, "DROP");
        p.iif = "vnet9";
        p.hoplimit = 255;
        g_assert_cmpstr(ipt_sim_walk(sim, &p, NULL), ==, "DROP");
}

/* Every installed tap is found by its own dispatch, whatever the names;
 * a name nobody installed falls through to the fail-closed drop. */
static void
test_dispatch_finds_every_tap(void)
{
        g_autoptr(NetisoConfig) config = config_new("");
        g_autoptr(IptSim) sim = ipt_sim_new();
        guint serial = 0, worst = 0;
        g_autoptr(NetisoIptSet) set = random_set(300, &serial);

        /* Later entries win: these replace random names that collide. */
        for (guint i = 0; i < 700; i++) {
                g_autofree char *tap = g_strdup_printf("vnet%u", i * 7);
                random_port(set, tap, serial++);
        }
        finish(set);
        rebuild(sim, config, set, NETISO_FAMILY_IPV6);
        for (guint i = 0; i < set->ports->len; i++) {
                const NetisoIptPort *p = g_ptr_array_index(set->ports, i);
                g_autofree char *own = NULL;
                IptPacket out = { "FORWARD", p->tap, "wan0", NULL, "2001:db8:100::2",
                                  "tcp",     80,     "NEW",  0,    64 };
                IptPacket in = { "FORWARD", "wan0", p->tap, "2001:db8:100::2", NULL, "tcp", 9000,
                                 "NEW",     0,      64 };
                guint evaluated = 0;

                for (guint a = 0; a < p->addresses->len; a++)
                        if (g_array_index(p->addresses, NetisoCidr, a).family == NETISO_FAMILY_IPV6)
                                own = netiso_cidr_to_string(
                                        &g_array_index(p->addresses, NetisoCidr, a), FALSE);
                out.src = own ? own : "fd00:10::ffff";
                g_assert_cmpstr(ipt_sim_walk(sim, &out, &evaluated), ==, own ? "ACCEPT" : "DROP");
                worst = MAX(worst, evaluated);
                in.dst = out.src;
                g_assert_cmpstr(ipt_sim_walk(sim, &in, &evaluated), ==, "DROP");
                in.dport = 2222;
                g_assert_cmpstr(ipt_sim_walk(sim, &in, &evaluated), ==, "ACCEPT");
                worst = MAX(worst, evaluated);
        }
        g_test_message("%u taps: at most %u rules evaluated per packet", set->ports->len, worst);
        g_assert_cmpuint(worst, <, 150);
        {
                IptPacket stranger = { "FORWARD",
                                       "vnet7000000",
                                       "wan0",
                                       "fd00:10::5",
                                       "2001:db8:100::2",
                                       "tcp",
                                       80,
                                       "NEW",
                                       0,
                                       64 };
                g_assert_cmpstr(ipt_sim_walk(sim, &stranger, NULL), ==, "DROP");
                stranger.iif = "eth1";
                g_assert_cmpstr(ipt_sim_walk(sim, &stranger, NULL), ==, "ACCEPT");
        }
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/ipt/trie/shape", test_trie_shape);
        g_test_add_func("/ipt/trie/tenant-id-and-names", test_tenant_id);
        g_test_add_func("/ipt/batch/rebuild-and-random-deltas", test_rebuild_and_deltas);
        g_test_add_func("/ipt/batch/damage-refused", test_damage_refused);
        g_test_add_func("/ipt/batch/purge", test_purge);
        g_test_add_func("/ipt/packets/default", test_semantics_default);
        g_test_add_func("/ipt/packets/variants", test_semantics_variants);
        g_test_add_func("/ipt/packets/neighbour-discovery", test_neighbour_discovery);
        g_test_add_func("/ipt/packets/dispatch-finds-every-tap", test_dispatch_finds_every_tap);
        return g_test_run();
}
