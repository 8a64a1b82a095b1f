/* Fixtures of the iptables backend's unit tests (see ipt-fixtures.h). */
#include "autoconfig.h"

#include <string.h>

#include "ipt-fixtures.h"
#include "ipt/ipt-backend.h"

NetisoConfig *
ipt_test_config_new(const char *extra)
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

guint16
ipt_test_flow_id(const char *tap)
{
        guint64 n = 0;

        if (g_str_has_prefix(tap, "vnet") &&
            g_ascii_string_to_unsigned(tap + 4, 10, 0, 65533, &n, NULL))
                return (guint16)(n + 1);
        return (guint16)(g_str_hash(tap) % 60000 + 1);
}

void
ipt_test_add_port(NetisoIptSet *set, const char *tap, const char *tenant, const char *v4,
                  const char *v6)
{
        g_autoptr(GArray) addrs =
                g_array_new(/* zero_terminated */ FALSE, /* clear */ FALSE, sizeof(NetisoCidr));
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
        g_assert_true(netiso_ipt_set_add(set, tap, tenant, ipt_test_flow_id(tap), addrs, &error));
}

void
ipt_test_finish(NetisoIptSet *set)
{
        g_autoptr(GError) error = NULL;

        g_assert_true(netiso_ipt_set_finish(set, &error));
}

void
ipt_test_restore_ok(IptSim *sim, const char *batch)
{
        g_autofree char *why = NULL;

        if (!ipt_sim_restore(sim, batch, &why))
                g_error("batch refused: %s\n%s", why, batch);
}

void
ipt_test_rebuild(IptSim *sim, const NetisoConfig *config, const NetisoIptSet *set,
                 NetisoFamily family)
{
        g_autoptr(GString) out = g_string_new(NULL);
        NetisoIptRuleset *current[_NETISO_IPT_TABLE_MAX];

        for (int t = 0; t < _NETISO_IPT_TABLE_MAX; t++)
                current[t] = ipt_sim_ruleset(sim, t);
        netiso_ipt_batch_rebuild(out, config, set, family, current);
        netiso_ipt_tables_clear(current);
        ipt_test_restore_ok(sim, out->str);
}

/* Names from a small alphabet, so that they share prefixes in every way. */
char *
ipt_test_random_tap(void)
{
        const char letters[] = "vnet01";
        int len = g_test_rand_int_range(1, 7);
        char *tap = g_malloc0((gsize)len + 1);

        for (int i = 0; i < len; i++)
                tap[i] = letters[g_test_rand_int_range(0, sizeof(letters) - 1)];
        tap[0] = tap[0] == '0' || tap[0] == '1' ? 'v' : tap[0];
        return tap;
}

void
ipt_test_random_port(NetisoIptSet *set, const char *tap, guint serial)
{
        const char *const tenants[] = { "A", "B", "production" };
        g_autofree char *v4 = g_strdup_printf("10.0.%u.%u", serial / 200, serial % 200 + 1);
        g_autofree char *v6 = g_strdup_printf("fd00:10::%x", serial + 1);

        ipt_test_add_port(set, tap, tenants[g_test_rand_int_range(0, 3)],
                          g_test_rand_bit() ? v4 : NULL, g_test_rand_bit() ? v6 : NULL);
}

NetisoIptSet *
ipt_test_random_set(guint n, guint *serial)
{
        NetisoIptSet *set = netiso_ipt_set_new();

        for (guint i = 0; i < n; i++) {
                g_autofree char *tap = ipt_test_random_tap();
                ipt_test_random_port(set, tap, (*serial)++);
        }
        ipt_test_finish(set);
        return set;
}
