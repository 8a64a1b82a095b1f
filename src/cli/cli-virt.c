/* Commands that talk to libvirtd: reconcile, tag, nwfilter --define, watch.
 * Each opens its own connection (--connect URI, LIBVIRT_DEFAULT_URI, or
 * qemu:///system) and turns what it did into output and an exit status. */
#include "autoconfig.h"

#include <stdio.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/virt.h"
#include "cli/watch.h"
#include "engine/conntrack.h"
#include "engine/reconcile.h"
#include "util/error.h"
#include "util/log.h"
#include "util/names.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(virConnect, netiso_virt_close)

static gboolean
no_extra_args(int argc, char **argv, int allowed, int *ret_status)
{
        if (argc <= allowed + 1)
                return TRUE;
        fprintf(stderr, "blixard-netiso %s: unexpected argument '%s'\n", argv[0],
                argv[allowed + 1]);
        *ret_status = 2;
        return FALSE;
}

/* reconcile and watch act on the firewall only when isolation is enabled:
 * a disabled configuration must not start blocking guests. */
static NetisoConfig *
load_enabled_config(const NetisoCliOptions *options, const char *command, int *ret_status)
{
        NetisoConfig *config = netiso_cli_load_config(options, ret_status);

        if (config && !config->enabled) {
                fprintf(stderr,
                        "blixard-netiso: %s: isolation is disabled (enabled = false): nothing to %s\n",
                        options->config_path, command);
                netiso_config_free(config);
                *ret_status = 2;
                return NULL;
        }
        return config;
}

static void
print_lines(FILE *f, const char *prefix, GPtrArray *lines)
{
        for (guint i = 0; i < lines->len; i++)
                fprintf(f, "%s%s\n", prefix, (const char *)g_ptr_array_index(lines, i));
}

/* --check: drift lines, exit 1 on any. --dry-run: the same lines as nft
 * comments followed by the transaction, so the output is itself a script. */
static int
report_check(const NetisoReconcileReport *report, const NetisoRunning *running, gboolean check,
             gboolean dry_run)
{
        print_lines(stdout, check ? "" : "# drift: ", report->drift);
        if (dry_run && report->transaction)
                fputs(report->transaction, stdout);
        if (report->drift->len == 0)
                printf("%sno drift: %u running domains, every one installed as it should be\n",
                       check ? "" : "# ", running->domains->len);
        return check && report->drift->len ? 1 : 0;
}

static int
report_commit(const NetisoReconcileReport *report)
{
        g_autoptr(GError) error = NULL;
        guint flows = 0;
        int status = 0;

        print_lines(stdout, "found: ", report->drift);
        for (guint i = 0; i < report->changes->len; i++) {
                const NetisoReconcileChange *c = g_ptr_array_index(report->changes, i);
                printf("%s domain '%s' (tenant %s)\n", c->outcome, c->domain, c->tenant);
        }
        if (report->committed)
                printf("repaired %u differences in one transaction\n", report->repairable);
        else
                printf("nothing to repair\n");
        netiso_watch_log_reconcile(report, "reconcile");
        if (!netiso_conntrack_flush(report->revoked, &flows, &error)) {
                fprintf(stderr, "blixard-netiso: warning: %s\n", error->message);
                status = 1;
        } else if (report->revoked->len) {
                printf("ended %u tracked connections of %u changed addresses\n", flows,
                       report->revoked->len);
        }
        for (guint i = 0; i < report->warnings->len; i++)
                fprintf(stderr, "blixard-netiso: warning: %s\n",
                        (const char *)g_ptr_array_index(report->warnings, i));
        /* Refused guests stay blocked or keep their old isolation: a failure to report. */
        print_lines(stderr, "blixard-netiso: ", report->refused);
        return status || report->warnings->len || report->refused->len ? 1 : 0;
}

int
netiso_cli_reconcile(NetisoCliOptions *options, int argc, char **argv)
{
        gboolean check = FALSE, dry_run = FALSE;
        g_autofree char *uri = NULL; /* GOption hands over its strings */
        GOptionEntry entries[] = {
                { "check", 0, 0, G_OPTION_ARG_NONE, &check,
                  "only report drift, one line each; exit 1 on any", NULL },
                { "dry-run", 0, 0, G_OPTION_ARG_NONE, &dry_run,
                  "print the transaction that would repair the drift, commit nothing", NULL },
                { "connect", 'c', 0, G_OPTION_ARG_STRING, &uri,
                  "libvirt URI (default: LIBVIRT_DEFAULT_URI, else qemu:///system)", "URI" },
                { NULL },
        };
        g_autoptr(NetisoConfig) config = NULL;
        g_autoptr(virConnect) conn = NULL;
        g_autoptr(NetisoRunning) running = NULL;
        g_autoptr(NetisoFirewall) fw = NULL;
        g_autoptr(NetisoReconcileReport) report = NULL;
        g_autoptr(GError) error = NULL;
        int status = 0;

        if (!netiso_cli_parse(options, "[--check] [--dry-run]", entries, &argc, &argv, &status) ||
            !no_extra_args(argc, argv, 0, &status))
                return status;
        config = load_enabled_config(options, "reconcile", &status);
        if (!config)
                return status;
        conn = netiso_virt_connect(netiso_virt_uri(uri), &error);
        if (!conn)
                return netiso_cli_fail(error);
        running = netiso_virt_list_running(conn, &error);
        if (!running)
                return netiso_cli_fail(error);
        fw = netiso_firewall_new(NETISO_FIREWALL_APPLY);
        if (!netiso_reconcile(config, running, fw, !check && !dry_run, &report, &error))
                return netiso_cli_fail(error);
        print_lines(stderr, "blixard-netiso: note: ", report->notes);
        if (check || dry_run)
                return report_check(report, running, check, dry_run);
        return report_commit(report);
}

static const char *
scope_text(NetisoTagScope scope)
{
        switch ((int)scope) {
        case NETISO_TAG_LIVE | NETISO_TAG_PERSISTENT:
                return "live and persistent";
        case NETISO_TAG_LIVE:
                return "live only: the domain is transient";
        default:
                return "persistent: the domain is not running";
        }
}

int
netiso_cli_tag(NetisoCliOptions *options, int argc, char **argv)
{
        g_autofree char *tenant = NULL;
        g_autofree char *uri = NULL; /* GOption hands over its strings */
        GOptionEntry entries[] = {
                { "tenant", 0, 0, G_OPTION_ARG_STRING, &tenant, "tenant name", "NAME" },
                { "connect", 'c', 0, G_OPTION_ARG_STRING, &uri,
                  "libvirt URI (default: LIBVIRT_DEFAULT_URI, else qemu:///system)", "URI" },
                { NULL },
        };
        g_autoptr(virConnect) conn = NULL;
        g_autoptr(GError) error = NULL;
        NetisoTagScope scope = 0;
        NetisoLogFields fields = { .event = "tag", .outcome = "tagged" };
        int status = 0;

        if (!netiso_cli_parse(options, "DOMAIN --tenant NAME", entries, &argc, &argv, &status) ||
            !no_extra_args(argc, argv, 1, &status))
                return status;
        if (argc < 2 || !tenant) {
                fprintf(stderr, "blixard-netiso tag: DOMAIN and --tenant NAME are required\n");
                return 2;
        }
        /* Checked here first: libvirt would store any text, and the hook
         * would then refuse the guest at its next start. */
        if (!netiso_tenant_name_validate(tenant, &error)) {
                fprintf(stderr, "blixard-netiso tag: %s\n", error->message);
                return 2;
        }
        conn = netiso_virt_connect(netiso_virt_uri(uri), &error);
        if (!conn)
                return netiso_cli_fail(error);
        if (!netiso_virt_set_tenant(conn, argv[1], tenant, &scope, &error))
                return netiso_cli_fail(error);
        fields.domain = argv[1];
        fields.tenant = tenant;
        netiso_log(LOG_INFO, &fields, "tenant set (%s)", scope_text(scope));
        printf("domain '%s': tenant set to %s (%s)\n", argv[1], tenant, scope_text(scope));
        if (scope & NETISO_TAG_LIVE)
                printf("its isolation follows at once where 'blixard-netiso watch' runs; otherwise at the next 'blixard-netiso reconcile' or guest restart\n");
        return 0;
}

/* systemd connects stderr to the journal and says so in JOURNAL_STREAM
 * ("device:inode"); copying log lines there would log everything twice. */
static gboolean
stderr_is_journal(void)
{
        const char *stream = g_getenv("JOURNAL_STREAM");
        struct stat st;
        guint64 dev = 0, ino = 0;

        if (!stream || sscanf(stream, "%" G_GUINT64_FORMAT ":%" G_GUINT64_FORMAT, &dev, &ino) != 2)
                return FALSE;
        return fstat(2, &st) == 0 && (guint64)st.st_dev == dev && (guint64)st.st_ino == ino;
}

int
netiso_cli_watch(NetisoCliOptions *options, int argc, char **argv)
{
        g_autofree char *uri = NULL; /* GOption hands over its strings */
        int interval = 5;
        GOptionEntry entries[] = {
                { "connect", 'c', 0, G_OPTION_ARG_STRING, &uri,
                  "libvirt URI (default: LIBVIRT_DEFAULT_URI, else qemu:///system)", "URI" },
                { "interval", 0, 0, G_OPTION_ARG_INT, &interval,
                  "seconds between checks that the table is intact (default 5, 0: never)",
                  "SECONDS" },
                { NULL },
        };
        NetisoConfig *config = NULL;
        NetisoWatchOptions watch = { 0 };
        g_autoptr(GError) error = NULL;
        int status = 0;

        if (!netiso_cli_parse(options, "", entries, &argc, &argv, &status) ||
            !no_extra_args(argc, argv, 0, &status))
                return status;
        if (interval < 0 || interval > 3600) {
                fprintf(stderr, "blixard-netiso watch: --interval %d is out of range 0..3600\n",
                        interval);
                return 2;
        }
        config = load_enabled_config(options, "watch", &status);
        if (!config)
                return status;
        netiso_log_set_stderr(!stderr_is_journal());
        watch.uri = netiso_virt_uri(uri);
        watch.config_path = options->config_path;
        watch.interval_seconds = (guint)interval;
        if (!netiso_watch_run(&watch, config, &error))
                return netiso_cli_fail(error);
        return 0;
}
