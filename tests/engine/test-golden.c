/* Golden tests of the backends: each case under tests/data/golden/ is
 * rendered by the production code in capture mode and compared with its
 * expected files (NETISO_REGENERATE=1 rewrites them, for review). libvirt's
 * network status files come from tests/data/golden/libvirt/. */
#include "autoconfig.h"

#include <string.h>

#include "conf/config.h"
#include "conf/domain.h"
#include "core/backend.h"
#include "core/policy.h"
#include "core/state.h"
#include "engine/backends.h"
#include "util/error.h"

typedef struct {
        const char *name;
        const char *old_state; /* a record the apply replaces, or NULL */
        gboolean nft_only;     /* a configuration only nftables takes (a cluster) */
} GoldenCase;

static const char *const backend_ext[] = { "nftables", "iptables" };

static char *
data_path(const char *file)
{
        return g_test_build_filename(G_TEST_DIST, "data", "golden", file, NULL);
}

static void
compare_or_regenerate(const char *file, const char *actual)
{
        g_autofree char *path = data_path(file);
        g_autofree char *expected = NULL;
        g_autoptr(GError) error = NULL;

        if (g_getenv("NETISO_REGENERATE")) {
                g_assert_true(g_file_set_contents(path, actual, -1, &error));
                return;
        }
        if (!g_file_get_contents(path, &expected, NULL, &error)) {
                g_test_message("missing %s; run with NETISO_REGENERATE=1 and review it", path);
                g_test_fail();
                return;
        }
        if (!g_str_equal(expected, actual)) {
                g_test_message("%s differs; actual output:\n%s", path, actual);
                g_test_fail();
        }
}

static void
run_case(gconstpointer data)
{
        const GoldenCase *c = data;
        g_autofree char *toml = g_strdup_printf("%s.toml", c->name);
        g_autofree char *xml = g_strdup_printf("%s.xml", c->name);
        g_autofree char *toml_path = data_path(toml);
        g_autofree char *xml_path = data_path(xml);
        g_autoptr(GError) error = NULL;
        g_autoptr(NetisoConfig) config = netiso_config_new_from_file(toml_path, &error);
        g_autoptr(NetisoDomain) domain = NULL;
        g_autoptr(NetisoPolicy) policy = NULL;
        g_autoptr(NetisoRecord) old = NULL;

        g_assert_no_error(error);
        /* The iptables backend reads the other guests' records: none here,
         * whatever the machine running the test has installed. */
        g_free(config->state_dir);
        config->state_dir = data_path("no-such-state-dir");
        domain = netiso_domain_new_from_file(xml_path, &error);
        g_assert_no_error(error);
        g_assert_true(netiso_domain_resolve(domain, &error));
        policy = netiso_policy_new_for_domain(config, domain, &error);
        g_assert_no_error(error);
        /* The first id handed out in an empty state directory (apply --dry-run). */
        policy->flow_id = 1;
        if (c->old_state) {
                g_autofree char *p = data_path(c->old_state);
                g_autofree char *text = NULL;
                gsize len = 0;
                g_assert_true(g_file_get_contents(p, &text, &len, &error));
                old = netiso_record_new_from_data(p, text, len, &error);
                g_assert_no_error(error);
        }

        {
                g_autofree char *explain_file = g_strdup_printf("%s.explain", c->name);
                g_autofree char *text = netiso_policy_describe(policy);
                compare_or_regenerate(explain_file, text);
        }
        for (int b = 0; b < _NETISO_BACKEND_MAX; b++) {
                g_autoptr(NetisoFirewall) fw = netiso_firewall_new(NETISO_FIREWALL_CAPTURE);
                g_autoptr(NetisoFirewall) fw_rm = netiso_firewall_new(NETISO_FIREWALL_CAPTURE);
                g_autoptr(NetisoRecord) installed = NULL;
                g_autofree char *apply_file =
                        g_strdup_printf("%s-apply.%s", c->name, backend_ext[b]);
                g_autofree char *remove_file =
                        g_strdup_printf("%s-remove.%s", c->name, backend_ext[b]);
                const NetisoBackendOps *ops = netiso_backend_ops(b);

                if (c->nft_only && b != NETISO_BACKEND_NFTABLES)
                        continue;
                config->backend = b;
                if (old)
                        old->backend = b;
                if (!ops->apply(fw, config, policy, old, &error) && b == NETISO_BACKEND_IPTABLES &&
                    netiso_policy_is_bridged(policy)) {
                        /* Refused, in one line: what the hook says. */
                        g_autofree char *line = g_strdup_printf("%s\n", error->message);
                        g_clear_error(&error);
                        compare_or_regenerate(apply_file, line);
                        continue;
                }
                if (error) {
                        /* A backend not written yet is reported, not failed. */
                        if (strstr(error->message, "not implemented")) {
                                g_test_message("%s: %s", backend_ext[b], error->message);
                                g_clear_error(&error);
                                continue;
                        }
                        g_assert_no_error(error);
                }
                compare_or_regenerate(apply_file, netiso_firewall_captured(fw));
                installed = netiso_record_new_from_policy(policy, b);
                g_assert_true(ops->remove(fw_rm, config, installed, &error));
                compare_or_regenerate(remove_file, netiso_firewall_captured(fw_rm));
        }
}

/* A sync (reconcile, a rebuilt table) keeps the guests of other hosts the
 * watch daemon installed: they come from STATE_DIR/cluster/remote. */
static void
run_cluster_sync(void)
{
        g_autofree char *toml_path = data_path("cluster.toml");
        g_autofree char *xml_path = data_path("cluster.xml");
        g_autoptr(GError) error = NULL;
        g_autoptr(NetisoConfig) config = netiso_config_new_from_file(toml_path, &error);
        g_autoptr(NetisoDomain) domain = NULL;
        g_autoptr(NetisoPolicy) policy = NULL;
        g_autoptr(GPtrArray) records =
                g_ptr_array_new_with_free_func((GDestroyNotify)netiso_record_free);
        g_autoptr(NetisoFirewall) fw = netiso_firewall_new(NETISO_FIREWALL_CAPTURE);

        g_assert_no_error(error);
        g_free(config->state_dir);
        config->state_dir = data_path("cluster-state");
        domain = netiso_domain_new_from_file(xml_path, &error);
        g_assert_no_error(error);
        policy = netiso_policy_new_for_domain(config, domain, &error);
        g_assert_no_error(error);
        g_ptr_array_add(records, netiso_record_new_from_policy(policy, NETISO_BACKEND_NFTABLES));
        g_assert_true(
                netiso_backend_ops(NETISO_BACKEND_NFTABLES)->sync(fw, config, records, &error));
        compare_or_regenerate("cluster-sync.nftables", netiso_firewall_captured(fw));
}

int
main(int argc, char **argv)
{
        static const GoldenCase cases[] = {
                { "seed", NULL, FALSE },
                { "no-internet-inter-vm", NULL, FALSE },
                { "open-tenants", NULL, FALSE },
                { "logging-patterns", NULL, FALSE },
                { "two-interfaces", NULL, FALSE },
                { "retag", "retag-old.state", FALSE },
                { "bridged-network", NULL, FALSE },
                { "bridged-host", NULL, FALSE },
                { "cluster", NULL, /* nft_only */ TRUE },
                { "flowtable", NULL, /* nft_only */ TRUE },
        };

        g_test_init(&argc, &argv, NULL);
        {
                g_autofree char *root = data_path("libvirt");
                g_setenv("BLIXARD_NETISO_LIBVIRT_ROOT", root, /* overwrite */ TRUE);
        }
        for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree char *path = g_strdup_printf("/golden/%s", cases[i].name);
                g_test_add_data_func(path, &cases[i], run_case);
        }
        g_test_add_func("/golden/cluster-sync", run_cluster_sync);
        return g_test_run();
}
