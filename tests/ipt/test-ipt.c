/* The iptables backend without a kernel: the trie's shape, and deltas that
 * land exactly on the full rendering in ipt-sim.c; damage is refused. */
#include "autoconfig.h"

#include <string.h>

#include "conf/config.h"
#include "ipt-fixtures.h"
#include "ipt/ipt-backend.h"
#include "util/error.h"

static char *
items_text(GPtrArray *items)
{
        GString *out = g_string_new(NULL);

        for (guint i = 0; items && i < items->len; i++)
                g_string_append_printf(out, "%s|",
                                       ((NetisoIptItem *)g_ptr_array_index(items, i))->rules);
        return g_string_free(out, /* free_segment */ FALSE);
}

static char *
node_text(const NetisoIptSet *set, const char *prefix)
{
        g_autoptr(GPtrArray) items =
                netiso_ipt_node_items(set, NETISO_IPT_TRIE_BLOCK_TO, prefix, NETISO_FAMILY_IPV4);

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
                { "", "-o tap0 -j BLX-BLOCK|-o vnet+ -g BLXDM-vnet|" },
                { "vnet", "-o vnet1+ -g BLXDM-vnet1|-o vnet2 -j BLX-BLOCK|" },
                { "vnet1", "-o vnet1 -j BLX-BLOCK|-o vnet12+ -g BLXDM-vnet12|" },
                { "vnet12", "-o vnet12 -j BLX-BLOCK|-o vnet123 -j BLX-BLOCK|" },
                { "vnet123", "(none)" },
                { "vne", "(none)" },
                { "t", "(none)" },
        };

        for (gsize i = 0; i < G_N_ELEMENTS(taps); i++)
                ipt_test_add_port(set, taps[i], "A", NULL, NULL);
        ipt_test_finish(set);
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
        g_autoptr(GArray) none =
                g_array_new(/* zero_terminated */ FALSE, /* clear */ FALSE, sizeof(NetisoCidr));

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
        g_assert_false(netiso_ipt_set_add(set, "vnet1 -j ACCEPT", "A", 1, none, &error));
        g_assert_error(error, NETISO_ERROR, NETISO_ERROR_STATE);
        g_clear_error(&error);
        g_assert_false(netiso_ipt_set_add(set, "vnet1", "a\"b", 1, none, &error));
        g_assert_error(error, NETISO_ERROR, NETISO_ERROR_STATE);
}

/* ---- batches against the in-memory table ---- */

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
assert_one_table_is(const IptSim *sim, const NetisoConfig *config, const NetisoIptSet *set,
                    NetisoFamily family, NetisoIptTable table)
{
        g_autoptr(NetisoIptRuleset) want = netiso_ipt_render_full(config, set, family, table);
        g_autoptr(NetisoIptRuleset) have = ipt_sim_ruleset(sim, table);
        guint ours = 0;

        for (guint i = 0; i < have->chains->len; i++) {
                const char *chain = g_ptr_array_index(have->chains, i);
                g_autoptr(GPtrArray) a = NULL;
                g_autoptr(GPtrArray) b = NULL;

                if (!netiso_ipt_chain_is_ours(chain)) {
                        GPtrArray *rules = netiso_ipt_ruleset_rules(have, chain);
                        /* raw's OUTPUT is not hooked */
                        g_assert_cmpuint(
                                rules->len, ==,
                                table == NETISO_IPT_TABLE_RAW && g_str_equal(chain, "OUTPUT") ? 0
                                                                                              : 1);
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

static void
assert_table_is(const IptSim *sim, const NetisoConfig *config, const NetisoIptSet *set,
                NetisoFamily family)
{
        for (int t = 0; t < _NETISO_IPT_TABLE_MAX; t++)
                assert_one_table_is(sim, config, set, family, t);
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
                        ipt_test_random_port(after, p->tap, (*serial)++);
                        g_ptr_array_add(verify, g_strdup(p->tap));
                } else {
                        g_assert_true(netiso_ipt_set_add(after, p->tap, p->tenant, p->flow_id,
                                                         p->addresses, NULL));
                }
        }
        for (int i = g_test_rand_int_range(0, 4); i > 0; i--) {
                g_autofree char *tap = ipt_test_random_tap();
                ipt_test_random_port(after, tap, (*serial)++);
                g_ptr_array_add(verify, g_strdup(tap));
        }
        ipt_test_finish(after);
        return after;
}

static void
test_rebuild_and_deltas(void)
{
        g_autoptr(NetisoConfig) config = ipt_test_config_new("");
        guint serial = 0;

        for (int round = 0; round < 60; round++) {
                NetisoFamily family = round % 2 ? NETISO_FAMILY_IPV6 : NETISO_FAMILY_IPV4;
                g_autoptr(IptSim) sim = ipt_sim_new();
                g_autoptr(NetisoIptSet) set =
                        ipt_test_random_set((guint)g_test_rand_int_range(0, 25), &serial);

                ipt_test_rebuild(sim, config, set, family);
                assert_table_is(sim, config, set, family);
                for (int step = 0; step < 8; step++) {
                        g_autoptr(GPtrArray) verify = g_ptr_array_new_with_free_func(g_free);
                        g_autoptr(NetisoIptSet) next = random_change(set, &serial, verify);
                        g_autoptr(GString) out = g_string_new(NULL);

                        netiso_ipt_batch_event(out, config, set, next, verify, family,
                                               /* hooks */ TRUE);
                        ipt_test_restore_ok(sim, out->str);
                        assert_table_is(sim, config, next, family);
                        g_clear_pointer(&set, netiso_ipt_set_free);
                        set = g_steal_pointer(&next);
                }
                /* Rebuilding over a populated table lands on the same table. */
                ipt_test_rebuild(sim, config, set, family);
                assert_table_is(sim, config, set, family);
        }
}

/* A rule removed behind our back makes the next event for that guest fail
 * (and the backend rebuild), instead of leaving it unprotected. */
static void
test_damage_refused(void)
{
        g_autoptr(NetisoConfig) config = ipt_test_config_new("");
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
                "*filter\n-F BLXBO-vnet\nCOMMIT\n",
                "*raw\n-F BLXPI-vnet\nCOMMIT\n",
                "*raw\n-D PREROUTING -j BLIXARD_VM_PRE\nCOMMIT\n",
        };

        ipt_test_add_port(set, "vnet1", "production", "10.0.0.11", NULL);
        ipt_test_add_port(set, "vnet2", "production", "10.0.0.12", NULL);
        ipt_test_finish(set);
        g_ptr_array_add(verify, (gpointer) "vnet1");
        for (gsize i = 0; i < G_N_ELEMENTS(damages); i++) {
                g_autoptr(IptSim) damaged = ipt_sim_new();

                ipt_test_rebuild(damaged, config, set, NETISO_FAMILY_IPV4);
                ipt_test_restore_ok(damaged, damages[i]);
                g_string_truncate(out, 0);
                netiso_ipt_batch_event(out, config, set, set, verify, NETISO_FAMILY_IPV4,
                                       /* hooks */ TRUE);
                g_assert_false(ipt_sim_restore(damaged, out->str, &why));
                g_clear_pointer(&why, g_free);
                ipt_test_rebuild(damaged, config, set, NETISO_FAMILY_IPV4);
                assert_table_is(damaged, config, set, NETISO_FAMILY_IPV4);
        }
        /* An undamaged table takes the same batch. */
        ipt_test_rebuild(sim, config, set, NETISO_FAMILY_IPV4);
        ipt_test_restore_ok(sim, out->str);
}

static void
test_purge(void)
{
        g_autoptr(NetisoConfig) config = ipt_test_config_new("");
        g_autoptr(NetisoIptSet) set = netiso_ipt_set_new();
        g_autoptr(IptSim) sim = ipt_sim_new();
        g_autoptr(GString) out = g_string_new(NULL);
        NetisoIptRuleset *current[_NETISO_IPT_TABLE_MAX];
        NetisoIptRuleset *left[_NETISO_IPT_TABLE_MAX];

        ipt_test_add_port(set, "vnet1", "A", "10.0.0.11", "fd00:10::11");
        ipt_test_finish(set);
        ipt_test_rebuild(sim, config, set, NETISO_FAMILY_IPV6);
        /* Someone else's rule that jumps into our chains goes too. */
        ipt_test_restore_ok(sim, "*filter\n-A INPUT -j BLX-HOST\nCOMMIT\n");
        for (int t = 0; t < _NETISO_IPT_TABLE_MAX; t++)
                current[t] = ipt_sim_ruleset(sim, t);
        netiso_ipt_batch_purge(out, current);
        netiso_ipt_tables_clear(current);
        ipt_test_restore_ok(sim, out->str);
        for (int t = 0; t < _NETISO_IPT_TABLE_MAX; t++) {
                left[t] = ipt_sim_ruleset(sim, t);
                /* filter: INPUT, FORWARD, OUTPUT; raw: PREROUTING, OUTPUT */
                g_assert_cmpuint(left[t]->chains->len, ==, t == NETISO_IPT_TABLE_RAW ? 2 : 3);
                for (guint i = 0; i < left[t]->chains->len; i++)
                        g_assert_cmpuint(netiso_ipt_ruleset_rules(
                                                 left[t], g_ptr_array_index(left[t]->chains, i))
                                                 ->len,
                                         ==, 0);
        }
        /* Nothing of ours: nothing to run. */
        g_string_truncate(out, 0);
        netiso_ipt_batch_purge(out, left);
        netiso_ipt_tables_clear(left);
        g_assert_cmpuint(out->len, ==, 0);
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
        return g_test_run();
}
