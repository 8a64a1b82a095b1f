/* reconcile without libvirt or a kernel: the desired records of running
 * domains, and commits against a capturing firewall and a temporary state
 * directory (exact records, one transaction, nothing moved on failure). */
#include "autoconfig.h"

#include <glib/gstdio.h>
#include <string.h>

#include "core/drift.h"
#include "core/state.h"
#include "engine/reconcile.h"
#include "util/error.h"

typedef struct {
        char *dir;
        NetisoConfig *config;
        NetisoRunning *running;
} Fixture;

static void
fixture_set_up(Fixture *f, gconstpointer unused)
{
        g_autofree char *toml = NULL;
        g_autoptr(GError) error = NULL;

        f->dir = g_dir_make_tmp("netiso-reconcile-XXXXXX", NULL);
        toml = g_strdup_printf("[vm.network_isolation]\nenabled = true\nstate_dir = \"%s\"\n",
                               f->dir);
        f->config = netiso_config_new_from_data("test.toml", toml, strlen(toml), &error);
        g_assert_no_error(error);
        f->running = netiso_running_new(g_get_real_time());
}

static void
fixture_tear_down(Fixture *f, gconstpointer unused)
{
        g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", f->dir);

        g_assert_true(g_spawn_command_line_sync(cmd, NULL, NULL, NULL, NULL));
        netiso_running_free(f->running);
        netiso_config_free(f->config);
        g_free(f->dir);
}

/* A running routed guest: TAP "" leaves out <target dev> (still starting). */
static void
run_domain(Fixture *f, const char *name, const char *tenant, const char *tap, const char *peer)
{
        g_autofree char *target = *tap ? g_strdup_printf("<target dev='%s'/>", tap) : g_strdup("");
        g_autofree char *xml = g_strdup_printf(
                "<domain type='qemu'><name>%s</name><metadata><i:isolation "
                "xmlns:i='urn:blixard:network-isolation:1' tenant='%s'/></metadata><devices>"
                "<interface type='ethernet'><source><ip address='10.0.0.1' prefix='32' "
                "peer='%s'/></source>%s</interface></devices></domain>",
                name, tenant, peer, target);
        g_autoptr(GError) error = NULL;
        NetisoDomain *d = netiso_domain_new_from_xml(name, xml, strlen(xml), &error);

        g_assert_no_error(error);
        g_ptr_array_add(f->running->domains, d);
}

static void
run_bypassing(Fixture *f, const char *name)
{
        g_autofree char *xml = g_strdup_printf(
                "<domain type='qemu'><name>%s</name><devices><interface type='direct'><source "
                "dev='eth0' mode='vepa'/><target dev='macvtap40'/></interface></devices></domain>",
                name);
        NetisoDomain *d = netiso_domain_new_from_xml(name, xml, strlen(xml), NULL);

        g_assert_nonnull(d);
        g_ptr_array_add(f->running->domains, d);
}

/* An installed record, as a hook would have saved it. */
static void
install(Fixture *f, const char *name, const char *tenant, const char *tap, const char *addr,
        gint64 usec)
{
        static guint flow_id = 100;
        g_autofree char *digest = netiso_config_digest(f->config);
        g_autofree char *text = g_strdup_printf(
                "[domain]\nname=%s\ntenant=%s\nbackend=nftables\nconfig-digest=%s\n"
                "installed-usec=%" G_GINT64_FORMAT "\nflow-id=%u\ntaps=%s;\n[port %s]\n"
                "addresses=%s;\n",
                name, tenant, digest, usec, ++flow_id, tap, tap, addr);
        g_autoptr(NetisoRecord) r = netiso_record_new_from_data("t", text, strlen(text), NULL);
        g_autoptr(GError) error = NULL;

        g_assert_nonnull(r);
        g_assert_true(netiso_state_save(f->dir, r, &error));
}

static GPtrArray *
installed(Fixture *f)
{
        g_autoptr(GError) error = NULL;
        GPtrArray *records = netiso_state_list(f->dir, NULL, &error);

        g_assert_no_error(error);
        return records;
}

static char *
joined(GPtrArray *lines)
{
        g_autoptr(GPtrArray) copy = g_ptr_array_new();

        for (guint i = 0; i < lines->len; i++)
                g_ptr_array_add(copy, g_ptr_array_index(lines, i));
        g_ptr_array_add(copy, NULL);
        return g_strjoinv("\n", (char **)copy->pdata);
}

static char *
names(GPtrArray *records)
{
        g_autoptr(GString) s = g_string_new(NULL);

        for (guint i = 0; i < records->len; i++) {
                const NetisoRecord *r = g_ptr_array_index(records, i);
                g_string_append_printf(s, "%s%s:%s", i ? " " : "", r->domain, r->tenant);
        }
        return g_string_free(g_steal_pointer(&s), /* free_segment */ FALSE);
}

static void
test_desired_running_domains(Fixture *f, gconstpointer unused)
{
        g_autoptr(GPtrArray) have = NULL;
        g_autoptr(NetisoDesired) d = NULL;
        g_autofree char *got = NULL;

        run_domain(f, "web", "prod", "vnet1", "10.0.1.1");
        run_domain(f, "db", "dev", "vnet2", "10.0.1.2");
        have = installed(f);
        d = netiso_desired_new(f->config, f->running, have);
        got = names(d->records);
        g_assert_cmpstr(got, ==, "db:dev web:prod");
        g_assert_cmpuint(d->refused->len, ==, 0);
}

static void
test_refused_keeps_old_or_blocks(Fixture *f, gconstpointer unused)
{
        g_autoptr(GPtrArray) have = NULL;
        g_autoptr(NetisoDesired) d = NULL;
        g_autofree char *got = NULL;
        g_autofree char *refused = NULL;

        run_bypassing(f, "bridged");
        run_bypassing(f, "was-routed");
        install(f, "was-routed", "prod", "vnet3", "10.0.1.3", 1);
        have = installed(f);
        d = netiso_desired_new(f->config, f->running, have);
        got = names(d->records);
        refused = joined(d->refused);
        /* Never less isolation: the refused guest that had a record keeps it. */
        g_assert_cmpstr(got, ==, "was-routed:prod");
        g_assert_nonnull(strstr(refused, "domain 'bridged': interface 0 of type 'direct' bypasses "
                                         "the host firewall"));
        g_assert_nonnull(strstr(refused, "(its taps stay blocked)"));
        g_assert_nonnull(strstr(refused, "(its previous isolation stays)"));
}

static void
test_starting_and_unreadable(Fixture *f, gconstpointer unused)
{
        g_autoptr(GPtrArray) have = NULL;
        g_autoptr(NetisoDesired) d = NULL;
        g_autofree char *got = NULL;
        g_autofree char *notes = NULL;
        g_autofree char *refused = NULL;

        run_domain(f, "booting", "prod", "", "10.0.1.4");
        g_hash_table_insert(f->running->unreadable, g_strdup("odd"),
                            g_strdup("domain 'odd': tenant 'a b' is invalid"));
        install(f, "odd", "prod", "vnet5", "10.0.1.5", 1);
        have = installed(f);
        d = netiso_desired_new(f->config, f->running, have);
        got = names(d->records);
        notes = joined(d->notes);
        refused = joined(d->refused);
        g_assert_cmpstr(got, ==, "odd:prod");
        g_assert_cmpstr(notes, ==, "domain 'booting' has no tap yet (starting): left to its hook");
        g_assert_cmpstr(refused, ==,
                        "domain 'odd': tenant 'a b' is invalid (its previous "
                        "isolation stays)");
}

static void
test_conflict_installed_wins(Fixture *f, gconstpointer unused)
{
        g_autoptr(GPtrArray) have = NULL;
        g_autoptr(NetisoDesired) d = NULL;
        g_autofree char *got = NULL;
        g_autofree char *refused = NULL;

        /* "aaa" sorts first, but "zzz" already holds the address. */
        run_domain(f, "aaa", "prod", "vnet7", "10.0.1.7");
        run_domain(f, "zzz", "prod", "vnet8", "10.0.1.7");
        install(f, "zzz", "prod", "vnet8", "10.0.1.7", 1);
        have = installed(f);
        d = netiso_desired_new(f->config, f->running, have);
        got = names(d->records);
        refused = joined(d->refused);
        g_assert_cmpstr(got, ==, "zzz:prod");
        g_assert_cmpstr(refused, ==,
                        "domain 'aaa' cannot be isolated: address 10.0.1.7 is "
                        "already claimed by domain 'zzz' (its taps stay blocked)");
}

static void
test_live_taps_beat_kept_records(Fixture *f, gconstpointer unused)
{
        g_autoptr(GPtrArray) have = NULL;
        g_autoptr(NetisoDesired) d = NULL;
        g_autofree char *got = NULL;
        const NetisoRecord *kept;

        /* aaa is refused now and its record still names vnet7, which the
         * kernel has since given to bbb: bbb's live XML wins, aaa keeps no tap. */
        run_bypassing(f, "aaa");
        install(f, "aaa", "prod", "vnet7", "10.0.1.7", 1);
        run_domain(f, "bbb", "dev", "vnet7", "10.0.1.7");
        have = installed(f);
        d = netiso_desired_new(f->config, f->running, have);
        got = names(d->records);
        g_assert_cmpstr(got, ==, "aaa:prod bbb:dev");
        kept = g_ptr_array_index(d->records, 0);
        g_assert_cmpuint(kept->ports->len, ==, 0);
        g_assert_cmpuint(d->refused->len, ==, 1);
}

static void
test_stopped_removed_unless_newer(Fixture *f, gconstpointer unused)
{
        g_autoptr(GPtrArray) have = NULL;
        g_autoptr(NetisoDesired) d = NULL;
        g_autofree char *got = NULL;

        install(f, "stopped", "prod", "vnet1", "10.0.1.1", 1);
        /* Installed by a hook after libvirtd was asked: a guest that just started. */
        install(f, "just-started", "prod", "vnet2", "10.0.1.2", f->running->listed_usec + 1);
        have = installed(f);
        d = netiso_desired_new(f->config, f->running, have);
        got = names(d->records);
        g_assert_cmpstr(got, ==, "just-started:prod");
        g_assert_cmpuint(d->notes->len, ==, 1);
}

static void
test_unchanged_record_kept_as_is(Fixture *f, gconstpointer unused)
{
        g_autoptr(GPtrArray) have = NULL;
        g_autoptr(NetisoDesired) d = NULL;

        run_domain(f, "web", "prod", "vnet1", "10.0.1.1");
        install(f, "web", "prod", "vnet1", "10.0.1.1", 42);
        have = installed(f);
        d = netiso_desired_new(f->config, f->running, have);
        g_assert_cmpuint(d->records->len, ==, 1);
        g_assert_cmpint(((NetisoRecord *)g_ptr_array_index(d->records, 0))->installed_usec, ==, 42);
}

static void
test_commit_rewrites_records(Fixture *f, gconstpointer unused)
{
        g_autoptr(NetisoFirewall) fw = netiso_firewall_new(NETISO_FIREWALL_CAPTURE);
        g_autoptr(NetisoReconcileReport) report = NULL;
        g_autoptr(GPtrArray) after = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *got = NULL;
        g_autofree char *drift = NULL;
        g_autofree char *owner = NULL;
        const char *captured;
        guint16 web_id;

        run_domain(f, "web", "dev", "vnet1", "10.0.1.1");
        run_domain(f, "db", "prod", "vnet2", "10.0.1.2");
        install(f, "web", "prod", "vnet1", "10.0.1.1", 1);
        install(f, "gone", "prod", "vnet9", "10.0.1.9", 1);
        {
                g_autoptr(GPtrArray) before = installed(f);
                web_id = ((NetisoRecord *)g_ptr_array_index(before, 1))->flow_id;
        }
        g_assert_true(
                netiso_reconcile(f->config, f->running, fw, /* commit */ TRUE, &report, &error));
        g_assert_no_error(error);
        drift = joined(report->drift);
        g_assert_nonnull(strstr(drift, "domain 'db' is running but not installed\n"
                                       "domain 'gone' is installed but not running\n"
                                       "domain 'web': tenant changed from prod to dev\n"));
        g_assert_true(report->committed);
        g_assert_cmpuint(report->changes->len, ==, 3);
        g_assert_cmpuint(report->revoked->len, ==, 3);

        /* One transaction that replaces the whole table. */
        captured = netiso_firewall_captured(fw);
        g_assert_true(g_str_has_prefix(captured, "# nft\nadd table inet blixard\n"
                                                 "delete table inet blixard\n"));
        g_assert_null(strstr(captured + 1, "# nft"));
        g_assert_nonnull(strstr(captured, "\"vnet1\" : jump tenant-dev"));
        g_assert_null(strstr(captured, "vnet9"));

        after = installed(f);
        got = names(after);
        g_assert_cmpstr(got, ==, "db:prod web:dev");
        g_assert_true(netiso_state_tap_owner(f->dir, "vnet9", &owner, &error));
        g_assert_null(owner);
        /* New installs get new flow ids: db's first, and web's under its new tenant. */
        {
                const NetisoRecord *db = g_ptr_array_index(after, 0);
                const NetisoRecord *web = g_ptr_array_index(after, 1);
                g_autofree char *element = g_strdup_printf("\"vnet1\" : %u", web->flow_id);

                g_assert_cmpuint(db->flow_id, !=, 0);
                g_assert_cmpuint(web->flow_id, !=, 0);
                g_assert_cmpuint(db->flow_id, !=, web->flow_id);
                g_assert_cmpuint(web->flow_id, !=, web_id);
                g_assert_nonnull(strstr(captured, element));
        }
}

/* A record of an older version holds no flow id: reconcile gives it one. */
static void
test_legacy_record_gets_flow_id(Fixture *f, gconstpointer unused)
{
        g_autoptr(NetisoFirewall) fw = netiso_firewall_new(NETISO_FIREWALL_CAPTURE);
        g_autoptr(NetisoReconcileReport) report = NULL;
        g_autoptr(GPtrArray) after = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *digest = netiso_config_digest(f->config);
        g_autofree char *text = g_strdup_printf(
                "[domain]\nname=web\ntenant=prod\nbackend=nftables\nconfig-digest=%s\n"
                "installed-usec=1\ntaps=vnet1;\n[port vnet1]\naddresses=10.0.1.1;\n",
                digest);
        g_autoptr(NetisoRecord) legacy = netiso_record_new_from_data("t", text, strlen(text), NULL);

        g_assert_true(netiso_state_save(f->dir, legacy, &error));
        run_domain(f, "web", "prod", "vnet1", "10.0.1.1");
        g_assert_true(
                netiso_reconcile(f->config, f->running, fw, /* commit */ TRUE, &report, &error));
        g_assert_no_error(error);
        g_assert_true(report->committed);
        after = installed(f);
        g_assert_cmpuint(after->len, ==, 1);
        g_assert_cmpuint(((NetisoRecord *)g_ptr_array_index(after, 0))->flow_id, !=, 0);
}

static void
test_failed_commit_moves_nothing(Fixture *f, gconstpointer unused)
{
        g_autoptr(NetisoFirewall) fw = netiso_firewall_new(NETISO_FIREWALL_CAPTURE);
        g_autoptr(NetisoReconcileReport) report = NULL;
        g_autoptr(GPtrArray) after = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *got = NULL;

        run_domain(f, "web", "dev", "vnet1", "10.0.1.1");
        run_domain(f, "db", "prod", "vnet2", "10.0.1.2");
        install(f, "web", "prod", "vnet1", "10.0.1.1", 1);
        install(f, "gone", "prod", "vnet9", "10.0.1.9", 1);
        netiso_firewall_fail_after(fw, 0);
        g_assert_false(
                netiso_reconcile(f->config, f->running, fw, /* commit */ TRUE, &report, &error));
        g_assert_error(error, NETISO_ERROR, NETISO_ERROR_FIREWALL);
        g_assert_null(report);
        after = installed(f);
        got = names(after);
        g_assert_cmpstr(got, ==, "gone:prod web:prod");
}

static void
test_check_changes_nothing(Fixture *f, gconstpointer unused)
{
        g_autoptr(NetisoFirewall) fw = netiso_firewall_new(NETISO_FIREWALL_CAPTURE);
        g_autoptr(NetisoReconcileReport) report = NULL;
        g_autoptr(GPtrArray) after = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *got = NULL;

        run_domain(f, "web", "dev", "vnet1", "10.0.1.1");
        install(f, "gone", "prod", "vnet9", "10.0.1.9", 1);
        g_assert_true(
                netiso_reconcile(f->config, f->running, fw, /* commit */ FALSE, &report, &error));
        g_assert_false(report->committed);
        g_assert_cmpstr(netiso_firewall_captured(fw), ==, "");
        g_assert_nonnull(report->transaction);
        g_assert_nonnull(strstr(report->transaction, "\"vnet1\" : jump tenant-dev"));
        after = installed(f);
        got = names(after);
        g_assert_cmpstr(got, ==, "gone:prod");
}

static void
test_from_records(Fixture *f, gconstpointer unused)
{
        g_autoptr(NetisoFirewall) fw = netiso_firewall_new(NETISO_FIREWALL_CAPTURE);
        g_autoptr(GError) error = NULL;

        install(f, "web", "prod", "vnet1", "10.0.1.1", 1);
        g_assert_true(netiso_reconcile_from_records(f->config, fw, &error));
        g_assert_nonnull(strstr(netiso_firewall_captured(fw), "\"vnet1\" : jump tenant-prod"));
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add(path, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)
        ADD("/reconcile/desired/running-domains-get-records", test_desired_running_domains);
        ADD("/reconcile/desired/refused-keeps-old-record-or-stays-blocked",
            test_refused_keeps_old_or_blocks);
        ADD("/reconcile/desired/starting-left-to-hook-unreadable-keeps-record",
            test_starting_and_unreadable);
        ADD("/reconcile/desired/address-conflict-installed-domain-wins",
            test_conflict_installed_wins);
        ADD("/reconcile/desired/live-taps-beat-kept-records", test_live_taps_beat_kept_records);
        ADD("/reconcile/desired/stopped-removed-unless-newer-than-listing",
            test_stopped_removed_unless_newer);
        ADD("/reconcile/desired/unchanged-record-kept-as-is", test_unchanged_record_kept_as_is);
        ADD("/reconcile/commit/one-transaction-then-exact-records", test_commit_rewrites_records);
        ADD("/reconcile/commit/failed-transaction-moves-no-record",
            test_failed_commit_moves_nothing);
        ADD("/reconcile/check/changes-nothing-renders-transaction", test_check_changes_nothing);
        ADD("/reconcile/from-records/rebuilds-from-disk", test_from_records);
        ADD("/reconcile/commit/legacy-record-gets-a-flow-id", test_legacy_record_gets_flow_id);
        return g_test_run();
}
