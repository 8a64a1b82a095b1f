/* status --prometheus: the text exposition format itself (HELP and TYPE
 * before every family's samples, names prefixed blixard_netiso_, counters
 * ending in _total, label values escaped) and the values it carries. */
#include "autoconfig.h"

#include <string.h>

#include "core/metrics.h"
#include "core/state.h"

static NetisoRecord *
record(const char *domain, const char *tenant, const char *tap)
{
        g_autofree char *text =
                g_strdup_printf("[domain]\nname=%s\ntenant=%s\nbackend=nftables\nconfig-digest=d\n"
                                "installed-usec=1\ntaps=%s;\n[port %s]\naddresses=10.0.0.5;\n",
                                domain, tenant, tap, tap);
        g_autoptr(GError) error = NULL;
        NetisoRecord *r = netiso_record_new_from_data("test", text, strlen(text), &error);

        g_assert_no_error(error);
        return r;
}

static void
add_tap(NetisoInspection *in, const char *tap, gboolean present, guint64 packets)
{
        NetisoTapStatus *t = g_new0(NetisoTapStatus, 1);

        t->tap = g_strdup(tap);
        t->present = present;
        t->drop_packets = packets;
        t->drop_bytes = packets * 100;
        g_ptr_array_add(in->taps, t);
}

static void
tap_free(gpointer data)
{
        NetisoTapStatus *t = data;

        g_free(t->tap);
        g_free(t);
}

static char *
render(gboolean readable)
{
        g_autoptr(NetisoConfig) config = netiso_config_new_default();
        g_autoptr(GPtrArray) records =
                g_ptr_array_new_with_free_func((GDestroyNotify)netiso_record_free);
        g_autoptr(NetisoInspection) in = g_new0(NetisoInspection, 1);
        NetisoMetricsInput input = { 0 };

        config->enabled = TRUE;
        /* A domain name may hold what the format must escape (libvirt allows it). */
        g_ptr_array_add(records, record("web", "prod", "vnet1"));
        g_free(((NetisoRecord *)g_ptr_array_index(records, 0))->domain);
        ((NetisoRecord *)g_ptr_array_index(records, 0))->domain = g_strdup("web \"1\" \\ x");
        g_ptr_array_add(records, record("db", "prod", "vnet2"));
        g_ptr_array_add(records, record("ci", "staging", "vnet3"));
        in->taps = g_ptr_array_new_with_free_func(tap_free);
        in->problems = g_ptr_array_new_with_free_func(g_free);
        in->warnings = g_ptr_array_new_with_free_func(g_free);
        in->objects_present = TRUE;
        in->objects_intact = TRUE;
        add_tap(in, "vnet1", TRUE, 7);
        add_tap(in, "vnet2", TRUE, 0);
        add_tap(in, "vnet3", FALSE, 0);
        in->reasons_counted = TRUE;
        in->reason_packets[NETISO_DROP_SPOOFED] = 3;
        in->reason_packets[NETISO_DROP_BLOCKED] = 4;
        in->reason_bytes[NETISO_DROP_BLOCKED] = 400;
        input.config = config;
        input.records = records;
        input.inspection = readable ? in : NULL;
        input.last_event_usec = 1700000000123456;
        return netiso_metrics_render(&input);
}

static void
test_escaping(void)
{
        g_autofree char *a = netiso_metrics_escape_label("a\"b\\c\nd");
        g_autofree char *b = netiso_metrics_escape_label("plain-name_1.x");

        g_assert_cmpstr(a, ==, "a\\\"b\\\\c\\nd");
        g_assert_cmpstr(b, ==, "plain-name_1.x");
}

/* Every sample line's family was introduced by HELP then TYPE, once. */
static void
test_format(void)
{
        g_autofree char *text = render(TRUE);
        g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
        g_autoptr(GHashTable) typed =
                g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        g_autoptr(GHashTable) helped = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        g_autoptr(GRegex) name_re = g_regex_new("^blixard_netiso_[a-z_]+$", 0, 0, NULL);
        g_autoptr(GRegex) sample_re = g_regex_new(
                "^(blixard_netiso_[a-z_]+)(\\{([a-z_]+=\"([^\"\\\\\\n]|\\\\[\"\\\\n])*\",?)+\\})? "
                "[0-9]+(\\.[0-9]+)?$",
                0, 0, NULL);

        g_assert_true(g_str_has_suffix(text, "\n"));
        for (guint i = 0; lines[i] && *lines[i]; i++) {
                char **f = NULL;
                g_autoptr(GMatchInfo) m = NULL;

                if (g_str_has_prefix(lines[i], "# HELP ")) {
                        f = g_strsplit(lines[i] + 7, " ", 2);
                        g_assert_true(g_regex_match(name_re, f[0], 0, NULL));
                        g_assert_false(g_hash_table_contains(helped, f[0]));
                        g_hash_table_add(helped, g_strdup(f[0]));
                } else if (g_str_has_prefix(lines[i], "# TYPE ")) {
                        f = g_strsplit(lines[i] + 7, " ", 2);
                        g_assert_true(g_hash_table_contains(helped, f[0]));
                        g_assert_false(g_hash_table_contains(typed, f[0]));
                        g_assert_true(g_str_equal(f[1], "gauge") || g_str_equal(f[1], "counter"));
                        if (g_str_equal(f[1], "counter"))
                                g_assert_true(g_str_has_suffix(f[0], "_total"));
                        g_hash_table_insert(typed, g_strdup(f[0]), g_strdup(f[1]));
                } else {
                        g_autofree char *name = NULL;
                        if (!g_regex_match(sample_re, lines[i], 0, &m))
                                g_error("not a sample line: %s", lines[i]);
                        name = g_match_info_fetch(m, 1);
                        g_assert_true(g_hash_table_contains(typed, name));
                }
                g_strfreev(f);
        }
        g_assert_cmpuint(g_hash_table_size(typed), ==, g_hash_table_size(helped));
}

static void
test_values(void)
{
        g_autofree char *text = render(TRUE);
        const char *const want[] = {
                "blixard_netiso_guests 3\n",
                "blixard_netiso_tenants 2\n",
                "blixard_netiso_tenant_guests{tenant=\"prod\"} 2\n",
                "blixard_netiso_tenant_guests{tenant=\"staging\"} 1\n",
                "blixard_netiso_active 1\n",
                "blixard_netiso_guest_dropped_packets_total{domain=\"web \\\"1\\\" \\\\ "
                "x\",tenant=\"prod\",tap=\"vnet1\"} 7\n",
                "blixard_netiso_guest_dropped_bytes_total{domain=\"db\",tenant=\"prod\",tap="
                "\"vnet2\"} 0\n",
                "blixard_netiso_interface_installed{domain=\"ci\",tenant=\"staging\",tap="
                "\"vnet3\"} 0\n",
                "blixard_netiso_dropped_packets_total{reason=\"spoofed\"} 3\n",
                "blixard_netiso_dropped_packets_total{reason=\"unprotected\"} 0\n",
                "blixard_netiso_dropped_bytes_total{reason=\"blocked\"} 400\n",
                "blixard_netiso_last_event_timestamp_seconds 1700000000.123456\n",
                "# TYPE blixard_netiso_guest_dropped_packets_total counter\n",
                "# TYPE blixard_netiso_last_event_timestamp_seconds gauge\n",
        };

        for (gsize i = 0; i < G_N_ELEMENTS(want); i++)
                if (!strstr(text, want[i]))
                        g_error("missing: %s", want[i]);
        /* Never repaired: no sample rather than a made-up 0. */
        g_assert_null(strstr(text, "last_repair"));
        /* Guests in name order, so that two scrapes compare line by line. */
        g_assert_true(strstr(text, "domain=\"ci\"") < strstr(text, "domain=\"db\""));
}

static void
test_unreadable_firewall(void)
{
        g_autofree char *text = render(FALSE);

        g_assert_nonnull(strstr(text, "blixard_netiso_firewall_readable 0\n"));
        g_assert_nonnull(strstr(text, "blixard_netiso_active 0\n"));
        g_assert_nonnull(strstr(text, "blixard_netiso_guests 3\n"));
        g_assert_null(strstr(text, "dropped"));
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/metrics/label-values-escaped", test_escaping);
        g_test_add_func("/metrics/help-and-type-before-every-family", test_format);
        g_test_add_func("/metrics/guests-tenants-drops-and-times", test_values);
        g_test_add_func("/metrics/unreadable-firewall-leaves-counters-out",
                        test_unreadable_firewall);
        return g_test_run();
}
