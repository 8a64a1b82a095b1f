/* Drift between records: each kind of difference gets its own line, lines
 * come in domain order, equal state means no line, and the addresses whose
 * flows must end are exactly those whose tap or tenant changed. */
#include "autoconfig.h"

#include <string.h>

#include "core/drift.h"

/* A record in its own key-file form: PORTS is "tap=addr,addr;tap=addr". */
static NetisoRecord *
record_with_id(const char *domain, const char *tenant, const char *ports, guint flow_id)
{
        g_autoptr(GString) groups = g_string_new(NULL);
        g_autoptr(GString) taps = g_string_new(NULL);
        g_auto(GStrv) list = g_strsplit(ports, ";", -1);
        g_autoptr(GError) error = NULL;
        g_autofree char *text = NULL;
        NetisoRecord *r;

        for (guint i = 0; list[i] && *list[i]; i++) {
                g_auto(GStrv) kv = g_strsplit(list[i], "=", 2);
                g_autofree char *addrs = g_strdelimit(g_strdup(kv[1] ? kv[1] : ""), ",", ';');
                g_string_append_printf(taps, "%s;", kv[0]);
                g_string_append_printf(groups, "[port %s]\naddresses=%s;\n", kv[0], addrs);
        }
        text = g_strdup_printf("[domain]\nname=%s\ntenant=%s\nbackend=nftables\n"
                               "config-digest=d1\ninstalled-usec=1\nflow-id=%u\ntaps=%s\n%s",
                               domain, tenant, flow_id, taps->str, groups->str);
        r = netiso_record_new_from_data("test", text, strlen(text), &error);
        g_assert_no_error(error);
        return r;
}

static NetisoRecord *
record(const char *domain, const char *tenant, const char *ports)
{
        return record_with_id(domain, tenant, ports, 7);
}

static GPtrArray *
records(NetisoRecord *first, ...)
{
        GPtrArray *a = g_ptr_array_new_with_free_func((GDestroyNotify)netiso_record_free);
        va_list ap;

        va_start(ap, first);
        for (NetisoRecord *r = first; r; r = va_arg(ap, NetisoRecord *))
                g_ptr_array_add(a, r);
        va_end(ap);
        return a;
}

static char *
drift_text(GPtrArray *installed, GPtrArray *wanted)
{
        g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(g_free);
        guint n = netiso_drift_records(installed, wanted, lines);

        g_assert_cmpuint(n, ==, lines->len);
        g_ptr_array_add(lines, NULL);
        return g_strjoinv("\n", (char **)lines->pdata);
}

static void
test_same_state_no_lines(void)
{
        g_autoptr(GPtrArray) have = records(record("web", "prod", "vnet0=10.0.1.5,fd00::5"), NULL);
        g_autoptr(GPtrArray) want = records(record("web", "prod", "vnet0=fd00::5,10.0.1.5"), NULL);
        g_autofree char *text = drift_text(have, want);

        g_assert_cmpstr(text, ==, "");
        g_assert_true(
                netiso_record_same_state(g_ptr_array_index(have, 0), g_ptr_array_index(want, 0)));
}

/* A record without a flow id (an older version's) or with another id is
 * drift: the flows of that guest are not bound as the kernel would bind them. */
static void
test_flow_ids(void)
{
        g_autoptr(GPtrArray) have =
                records(record_with_id("old", "prod", "vnet0=10.0.1.5", 0),
                        record_with_id("web", "prod", "vnet1=10.0.1.6", 3), NULL);
        g_autoptr(GPtrArray) want =
                records(record_with_id("old", "prod", "vnet0=10.0.1.5", 0),
                        record_with_id("web", "prod", "vnet1=10.0.1.6", 4), NULL);
        g_autofree char *text = drift_text(have, want);

        g_assert_cmpstr(text, ==,
                        "domain 'old': installed by an older version that did not bind its flows\n"
                        "domain 'web': its flows are bound to another id");
}

static void
test_domains_missing_and_extra_in_order(void)
{
        g_autoptr(GPtrArray) have = records(record("zeta", "a", "vnet9=10.0.1.9"),
                                            record("beta", "a", "vnet2=10.0.1.2"), NULL);
        g_autoptr(GPtrArray) want = records(record("alpha", "a", "vnet1=10.0.1.1"),
                                            record("beta", "a", "vnet2=10.0.1.2"), NULL);
        g_autofree char *text = drift_text(have, want);

        g_assert_cmpstr(text, ==,
                        "domain 'alpha' is running but not installed\n"
                        "domain 'zeta' is installed but not running");
}

static void
test_tenant_taps_and_addresses(void)
{
        g_autoptr(GPtrArray) have =
                records(record("web", "prod", "vnet0=10.0.1.5,10.0.1.6;vnet1=10.0.1.7"), NULL);
        g_autoptr(GPtrArray) want =
                records(record("web", "dev", "vnet0=10.0.1.5,10.0.1.8;vnet3=10.0.1.9"), NULL);
        g_autofree char *text = drift_text(have, want);

        g_assert_cmpstr(text, ==,
                        "domain 'web': tenant changed from prod to dev\n"
                        "domain 'web': tap vnet0: address 10.0.1.8 is not installed\n"
                        "domain 'web': tap vnet0: address 10.0.1.6 is installed but no longer "
                        "configured\n"
                        "domain 'web': tap vnet3 is not installed\n"
                        "domain 'web': tap vnet1 is installed but no longer the domain's");
}

static void
test_backend_uuid_and_digest(void)
{
        g_autoptr(NetisoRecord) a = record("web", "prod", "vnet0=10.0.1.5");
        g_autoptr(NetisoRecord) b = record("web", "prod", "vnet0=10.0.1.5");
        g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GPtrArray) have = g_ptr_array_new();
        g_autoptr(GPtrArray) want = g_ptr_array_new();

        g_ptr_array_add(have, a);
        g_ptr_array_add(want, b);
        /* A digest alone is worth a line: the skeleton was rendered from another configuration. */
        g_free(b->config_digest);
        b->config_digest = g_strdup("d2");
        netiso_drift_records(have, want, lines);
        g_assert_cmpuint(lines->len, ==, 1);
        g_assert_cmpstr(g_ptr_array_index(lines, 0), ==,
                        "domain 'web': installed under a different configuration");
        g_assert_false(netiso_record_same_state(a, b));

        g_ptr_array_set_size(lines, 0);
        b->backend = NETISO_BACKEND_IPTABLES;
        a->uuid = g_strdup("00000000-0000-4000-8000-000000000001");
        b->uuid = g_strdup("00000000-0000-4000-8000-000000000002");
        netiso_drift_records(have, want, lines);
        g_assert_cmpuint(lines->len, ==, 2);
        g_assert_cmpstr(g_ptr_array_index(lines, 0), ==,
                        "domain 'web': installed for another domain of that name (uuid "
                        "00000000-0000-4000-8000-000000000001, running "
                        "00000000-0000-4000-8000-000000000002)");
        g_assert_cmpstr(g_ptr_array_index(lines, 1), ==,
                        "domain 'web': installed with the nftables backend, configured iptables");
}

static char *
revoked_text(const NetisoRecord *from, const NetisoRecord *to)
{
        g_autoptr(GArray) revoked =
                g_array_new(/* zero_terminated */ FALSE, /* clear */ FALSE, sizeof(NetisoCidr));
        g_autoptr(GPtrArray) text = g_ptr_array_new_with_free_func(g_free);

        netiso_drift_revoked(from, to, revoked);
        netiso_drift_revoked(to, from, revoked);
        for (guint i = 0; i < revoked->len; i++)
                g_ptr_array_add(text, netiso_cidr_to_string(&g_array_index(revoked, NetisoCidr, i),
                                                            /* with_host_prefix */ FALSE));
        g_ptr_array_add(text, NULL);
        return g_strjoinv(" ", (char **)text->pdata);
}

static void
test_revoked_addresses(void)
{
        g_autoptr(NetisoRecord) prod = record("web", "prod", "vnet0=10.0.1.5,10.0.1.6");
        g_autoptr(NetisoRecord) dev = record("web", "dev", "vnet0=10.0.1.5,10.0.1.6");
        g_autoptr(NetisoRecord) fewer = record("web", "prod", "vnet0=10.0.1.5");
        g_autoptr(NetisoRecord) moved = record("web", "prod", "vnet4=10.0.1.5,10.0.1.6");
        g_autofree char *same = revoked_text(prod, prod);
        g_autofree char *tenant = revoked_text(prod, dev);
        g_autofree char *removed = revoked_text(prod, fewer);
        g_autofree char *tap = revoked_text(prod, moved);
        g_autofree char *gone = revoked_text(prod, NULL);

        g_assert_cmpstr(same, ==, "");
        /* A tenant change ends every flow, once per address. */
        g_assert_cmpstr(tenant, ==, "10.0.1.5 10.0.1.6");
        g_assert_cmpstr(removed, ==, "10.0.1.6");
        g_assert_cmpstr(tap, ==, "10.0.1.5 10.0.1.6");
        g_assert_cmpstr(gone, ==, "10.0.1.5 10.0.1.6");
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/drift/flow-ids", test_flow_ids);
        g_test_add_func("/drift/same-state-gives-no-line", test_same_state_no_lines);
        g_test_add_func("/drift/missing-and-extra-domains-in-name-order",
                        test_domains_missing_and_extra_in_order);
        g_test_add_func("/drift/tenant-taps-and-addresses-each-a-line",
                        test_tenant_taps_and_addresses);
        g_test_add_func("/drift/backend-uuid-and-configuration", test_backend_uuid_and_digest);
        g_test_add_func("/drift/revoked-addresses-are-the-changed-ones", test_revoked_addresses);
        return g_test_run();
}
