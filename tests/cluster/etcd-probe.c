/* A test driver for src/cluster/: each subcommand makes the calls the hook or
 * the watch daemon will make against a real etcd and prints what came back,
 * one line per fact, for tests/cluster/etcd.sh to assert on. */
#include "autoconfig.h"

#include <glib-unix.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/claim.h"
#include "cluster/etcd.h"
#include "cluster/membership.h"

static char *opt_endpoints = NULL;
static char *opt_ca = NULL;
static char *opt_cert = NULL;
static char *opt_key = NULL;
static int opt_timeout_ms = 2000;
static char *opt_prefix = NULL;
static char *opt_node = NULL;
static char **opt_vm_networks = NULL;
static gint64 opt_from = 0;
static int opt_idle = 0;
static int opt_count = 0;
static gint64 opt_lease_hint = 0;

static GOptionEntry entries[] = {
        { "endpoints", 0, 0, G_OPTION_ARG_STRING, &opt_endpoints, "comma-separated", "E" },
        { "ca", 0, 0, G_OPTION_ARG_FILENAME, &opt_ca, "CA file", "F" },
        { "cert", 0, 0, G_OPTION_ARG_FILENAME, &opt_cert, "client certificate", "F" },
        { "key", 0, 0, G_OPTION_ARG_FILENAME, &opt_key, "client key", "F" },
        { "timeout-ms", 0, 0, G_OPTION_ARG_INT, &opt_timeout_ms, "deadline per call", "MS" },
        { "prefix", 0, 0, G_OPTION_ARG_STRING, &opt_prefix, "key prefix", "P" },
        { "node", 0, 0, G_OPTION_ARG_STRING, &opt_node, "this host's name", "N" },
        { "vm-network", 0, 0, G_OPTION_ARG_STRING_ARRAY, &opt_vm_networks, "VM network", "C" },
        { "from", 0, 0, G_OPTION_ARG_INT64, &opt_from, "watch from revision", "REV" },
        { "idle", 0, 0, G_OPTION_ARG_INT, &opt_idle, "watch idle timeout", "S" },
        { "count", 0, 0, G_OPTION_ARG_INT, &opt_count, "stop after N event lines", "N" },
        { "lease-hint", 0, 0, G_OPTION_ARG_INT64, &opt_lease_hint, "host lease", "ID" },
        { NULL },
};

static GMainLoop *loop;
static int event_lines;
static NetisoEtcd *etcd;

static gboolean
fail(GError *error)
{
        fprintf(stderr, "etcd-probe: %s\n", error->message);
        return FALSE;
}

static gint64
parse_int(const char *text)
{
        return g_ascii_strtoll(text, NULL, 10);
}

static NetisoClusterGuest *
guest_from_args(char **argv, int argc)
{
        NetisoClusterGuest *guest;

        if (argc < 3)
                return NULL;
        guest = netiso_cluster_guest_new(opt_node, argv[0], argv[1], argv[2]);
        for (int i = 3; i < argc; i++) {
                NetisoCidr addr;
                if (!netiso_addr_parse(argv[i], &addr, NULL)) {
                        netiso_cluster_guest_free(guest);
                        return NULL;
                }
                g_array_append_val(guest->addresses, addr);
        }
        netiso_cluster_guest_normalize(guest);
        return guest;
}

static void
count_event_line(void)
{
        if (opt_count && ++event_lines >= opt_count)
                g_main_loop_quit(loop);
}

static void
on_watch(NetisoEtcdWatch *watch, const NetisoEtcdWatchUpdate *update, gpointer data)
{
        switch (update->status) {
        case NETISO_ETCD_WATCH_CONNECTED:
                printf("connected %s %" G_GINT64_FORMAT "\n", update->endpoint, update->revision);
                break;
        case NETISO_ETCD_WATCH_EVENTS:
                for (guint i = 0; i < update->events->len; i++) {
                        NetisoEtcdEvent *event = g_ptr_array_index(update->events, i);
                        if (event->type == NETISO_ETCD_EVENT_PUT)
                                printf("put %s %s %" G_GINT64_FORMAT "\n", event->kv->key,
                                       event->kv->value, event->kv->mod_revision);
                        else
                                printf("delete %s %" G_GINT64_FORMAT "\n", event->kv->key,
                                       event->kv->mod_revision);
                        count_event_line();
                }
                break;
        case NETISO_ETCD_WATCH_PROGRESS:
                printf("progress %" G_GINT64_FORMAT "\n", update->revision);
                break;
        case NETISO_ETCD_WATCH_DISCONNECTED:
                printf("disconnected %s\n", update->error->message);
                break;
        case NETISO_ETCD_WATCH_COMPACTED:
                printf("compacted %" G_GINT64_FORMAT "\n", update->revision);
                count_event_line();
                break;
        }
}

static gboolean
on_signal(gpointer data)
{
        g_main_loop_quit(loop);
        return G_SOURCE_CONTINUE;
}

static int
run_loop(void)
{
        g_unix_signal_add(SIGTERM, on_signal, NULL);
        g_unix_signal_add(SIGINT, on_signal, NULL);
        g_main_loop_run(loop);
        return 0;
}

static gboolean
cmd_watch(int argc, char **argv)
{
        g_autofree char *end = NULL;
        g_autoptr(NetisoEtcdWatch) watch = NULL;

        if (argc < 1)
                return FALSE;
        end = netiso_etcd_prefix_end(argv[0]);
        watch = netiso_etcd_watch_new(etcd, argv[0], end, opt_from, on_watch, NULL);
        netiso_etcd_watch_set_idle_timeout(watch, (guint)opt_idle);
        run_loop();
        return TRUE;
}

/* follow: what the watch daemon will do with the membership table. */
typedef struct {
        NetisoMembership *table;
        NetisoEtcdWatch *watch;
} Follow;

static void
print_delta(const char *what, const NetisoMembership *table, const NetisoMembershipDelta *delta)
{
        for (guint i = 0; i < delta->hosts_up->len; i++)
                printf("host+ %s\n", (char *)delta->hosts_up->pdata[i]);
        for (guint i = 0; i < delta->hosts_down->len; i++)
                printf("host- %s\n", (char *)delta->hosts_down->pdata[i]);
        for (guint i = 0; i < delta->added->len; i++) {
                NetisoClusterGuest *g = delta->added->pdata[i];
                printf("guest+ %s/%s %s\n", g->node, g->uuid, g->tenant);
        }
        for (guint i = 0; i < delta->removed->len; i++) {
                NetisoClusterGuest *g = delta->removed->pdata[i];
                printf("guest- %s/%s %s\n", g->node, g->uuid, g->tenant);
        }
        for (guint i = 0; i < delta->changed->len; i++) {
                NetisoClusterGuest *g = delta->changed->pdata[i];
                printf("guest~ %s/%s %s\n", g->node, g->uuid, g->tenant);
        }
        for (guint i = 0; i < delta->addr_changes->len; i++) {
                NetisoMembershipAddrChange *c =
                        &g_array_index(delta->addr_changes, NetisoMembershipAddrChange, i);
                g_autofree char *addr = netiso_cidr_to_string(&c->addr, FALSE);
                printf("addr %s %s>%s\n", addr, c->old_tenant ? c->old_tenant : "-",
                       c->new_tenant ? c->new_tenant : "-");
        }
        for (guint i = 0; i < delta->problems->len; i++)
                printf("problem %s\n", (char *)delta->problems->pdata[i]);
        printf("%s %" G_GINT64_FORMAT " hosts=%u remote=%u\n", what, delta->revision,
               netiso_membership_count_hosts(table), netiso_membership_count_remote_guests(table));
}

static gboolean
follow_resync(Follow *follow, const char *what, GError **error)
{
        g_autoptr(NetisoEtcdRange) range = NULL;
        g_autoptr(NetisoMembershipDelta) delta = NULL;

        if (!netiso_etcd_range_prefix(etcd, opt_prefix, &range, error))
                return FALSE;
        delta = netiso_membership_reset(follow->table, range->kvs, range->revision);
        print_delta(what, follow->table, delta);
        return TRUE;
}

static void
on_follow(NetisoEtcdWatch *watch, const NetisoEtcdWatchUpdate *update, gpointer data)
{
        Follow *follow = data;
        g_autoptr(GError) error = NULL;
        g_autoptr(NetisoMembershipDelta) delta = NULL;

        switch (update->status) {
        case NETISO_ETCD_WATCH_EVENTS:
                delta = netiso_membership_apply(follow->table, update->events);
                print_delta("batch", follow->table, delta);
                count_event_line();
                break;
        case NETISO_ETCD_WATCH_COMPACTED:
                printf("compacted %" G_GINT64_FORMAT "\n", update->revision);
                if (!follow_resync(follow, "resync", &error)) {
                        printf("resync-failed %s\n", error->message);
                        /* Try again later: a watch from a compacted revision says so again. */
                        netiso_etcd_watch_restart(
                                watch, netiso_membership_get_revision(follow->table) + 1);
                        break;
                }
                netiso_etcd_watch_restart(watch, netiso_membership_get_revision(follow->table) + 1);
                count_event_line();
                break;
        default:
                on_watch(watch, update, NULL);
                break;
        }
}

static gboolean
cmd_follow(void)
{
        g_autoptr(GArray) nets = g_array_new(FALSE, FALSE, sizeof(NetisoCidr));
        g_autoptr(GError) error = NULL;
        g_autofree char *end = netiso_etcd_prefix_end(opt_prefix);
        Follow follow = { 0 };

        for (guint i = 0; opt_vm_networks && opt_vm_networks[i]; i++) {
                NetisoCidr net;
                if (!netiso_cidr_parse(opt_vm_networks[i], &net, &error))
                        return fail(error);
                g_array_append_val(nets, net);
        }
        follow.table = netiso_membership_new(opt_prefix, opt_node, nets);
        if (opt_from) {
                /* Pretend we saw everything up to opt_from - 1 (to force a compaction). */
                g_autoptr(GPtrArray) none = g_ptr_array_new();
                g_autoptr(NetisoMembershipDelta) delta =
                        netiso_membership_reset(follow.table, none, opt_from - 1);
        } else if (!follow_resync(&follow, "reset", &error)) {
                return fail(error);
        }
        follow.watch = netiso_etcd_watch_new(etcd, opt_prefix, end,
                                             netiso_membership_get_revision(follow.table) + 1,
                                             on_follow, &follow);
        netiso_etcd_watch_set_idle_timeout(follow.watch, (guint)opt_idle);
        run_loop();
        netiso_etcd_watch_free(follow.watch);
        netiso_membership_free(follow.table);
        return TRUE;
}

static const char *const lease_states[] = { "alive", "unreachable", "lost" };

static void
on_lease(NetisoEtcdLeaseKeeper *keeper, NetisoEtcdLeaseState state, const GError *error,
         gpointer data)
{
        printf("lease %s%s%s\n", lease_states[state], error ? " " : "",
               error ? error->message : "");
        if (state == NETISO_ETCD_LEASE_LOST)
                g_main_loop_quit(loop);
}

static gboolean
cmd_keep(int argc, char **argv)
{
        g_autoptr(NetisoEtcdLeaseKeeper) keeper = NULL;

        if (argc < 2)
                return FALSE;
        keeper = netiso_etcd_lease_keeper_new(etcd, parse_int(argv[0]), parse_int(argv[1]),
                                              on_lease, NULL);
        printf("keeping %s\n", argv[0]);
        run_loop();
        return TRUE;
}

static int
compare_double(gconstpointer a, gconstpointer b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return x < y ? -1 : x > y;
}

/* bench-claim N LEASE: N guests of one address each, claimed then released. */
static gboolean
cmd_bench(int argc, char **argv, GError **error)
{
        int n;
        gint64 lease;
        g_autoptr(GArray) claims = g_array_new(FALSE, FALSE, sizeof(double));
        g_autoptr(GArray) releases = g_array_new(FALSE, FALSE, sizeof(double));

        if (argc < 2)
                return FALSE;
        n = (int)parse_int(argv[0]);
        lease = parse_int(argv[1]);
        for (int i = 0; i < n; i++) {
                g_autofree char *uuid = g_strdup_printf("00000000-0000-4000-8000-%012x", i);
                g_autofree char *addr = g_strdup_printf("10.0.%d.%d", 100 + i / 250, 1 + i % 250);
                char *args[] = { uuid, (char *)"bench", (char *)"t1", addr };
                g_autoptr(NetisoClusterGuest) guest = guest_from_args(args, 4);
                NetisoClaimReport report;
                gint64 t0 = g_get_monotonic_time();
                double ms;

                if (!netiso_cluster_claim(etcd, opt_prefix, guest, lease, &report, error))
                        return FALSE;
                ms = (double)(g_get_monotonic_time() - t0) / 1000.0;
                g_array_append_val(claims, ms);
                t0 = g_get_monotonic_time();
                if (!netiso_cluster_release(etcd, opt_prefix, guest, NULL, error))
                        return FALSE;
                ms = (double)(g_get_monotonic_time() - t0) / 1000.0;
                g_array_append_val(releases, ms);
        }
        g_array_sort(claims, compare_double);
        g_array_sort(releases, compare_double);
        printf("claim n=%d p50=%.2fms p99=%.2fms max=%.2fms\n", n,
               g_array_index(claims, double, n / 2), g_array_index(claims, double, n * 99 / 100),
               g_array_index(claims, double, n - 1));
        printf("release n=%d p50=%.2fms p99=%.2fms max=%.2fms\n", n,
               g_array_index(releases, double, n / 2),
               g_array_index(releases, double, n * 99 / 100),
               g_array_index(releases, double, n - 1));
        return TRUE;
}

static gboolean
cmd_kv(const char *cmd, int argc, char **argv, GError **error)
{
        if (strcmp(cmd, "put") == 0 && argc >= 2) {
                gint64 rev;
                if (!netiso_etcd_put(etcd, argv[0], argv[1], strlen(argv[1]),
                                     argc > 2 ? parse_int(argv[2]) : 0, &rev, error))
                        return FALSE;
                printf("revision %" G_GINT64_FORMAT "\n", rev);
        } else if (strcmp(cmd, "get") == 0 && argc >= 1) {
                g_autoptr(NetisoEtcdRange) range = NULL;
                if (!netiso_etcd_range(etcd, argv[0], NULL, 0, 0, &range, error))
                        return FALSE;
                if (range->kvs->len == 0)
                        exit(3);
                printf("%s\n", ((NetisoEtcdKv *)range->kvs->pdata[0])->value);
        } else if (strcmp(cmd, "range") == 0 && argc >= 1) {
                g_autoptr(NetisoEtcdRange) range = NULL;
                if (!netiso_etcd_range_prefix(etcd, argv[0], &range, error))
                        return FALSE;
                for (guint i = 0; i < range->kvs->len; i++) {
                        NetisoEtcdKv *kv = range->kvs->pdata[i];
                        printf("%s %s lease=%" G_GINT64_FORMAT "\n", kv->key, kv->value, kv->lease);
                }
                printf("revision %" G_GINT64_FORMAT " count %" G_GINT64_FORMAT "\n",
                       range->revision, range->count);
        } else if (strcmp(cmd, "del") == 0 && argc >= 1) {
                gint64 deleted;
                if (!netiso_etcd_delete(etcd, argv[0], NULL, &deleted, error))
                        return FALSE;
                printf("deleted %" G_GINT64_FORMAT "\n", deleted);
        } else if (strcmp(cmd, "grant") == 0 && argc >= 1) {
                gint64 id, ttl;
                if (!netiso_etcd_lease_grant(etcd, parse_int(argv[0]), &id, &ttl, error))
                        return FALSE;
                printf("%" G_GINT64_FORMAT "\n", id);
        } else if (strcmp(cmd, "keepalive") == 0 && argc >= 1) {
                gint64 ttl;
                if (!netiso_etcd_lease_keepalive(etcd, parse_int(argv[0]), &ttl, error))
                        return FALSE;
                printf("ttl %" G_GINT64_FORMAT "\n", ttl);
        } else if (strcmp(cmd, "revoke") == 0 && argc >= 1) {
                if (!netiso_etcd_lease_revoke(etcd, parse_int(argv[0]), error))
                        return FALSE;
        } else if (strcmp(cmd, "compact") == 0 && argc >= 1) {
                if (!netiso_etcd_compact(etcd, parse_int(argv[0]), error))
                        return FALSE;
        } else if (strcmp(cmd, "register") == 0 && argc >= 1) {
                if (!netiso_cluster_register_host(etcd, opt_prefix, opt_node, parse_int(argv[0]),
                                                  error))
                        return FALSE;
        } else if (strcmp(cmd, "claim") == 0 || strcmp(cmd, "release") == 0) {
                g_autoptr(NetisoClusterGuest) guest = guest_from_args(argv, argc);
                NetisoClaimReport report;
                gint64 t0 = g_get_monotonic_time();
                guint rounds = 0;
                if (!guest)
                        return FALSE;
                if (strcmp(cmd, "claim") == 0) {
                        if (!netiso_cluster_claim(etcd, opt_prefix, guest, opt_lease_hint, &report,
                                                  error))
                                return FALSE;
                        printf("claimed created=%u moved=%u kept=%u rounds=%u "
                               "lease=%" G_GINT64_FORMAT " ms=%.2f\n",
                               report.created, report.moved, report.kept, report.round_trips,
                               report.lease, (double)(g_get_monotonic_time() - t0) / 1000.0);
                } else {
                        if (!netiso_cluster_release(etcd, opt_prefix, guest, &rounds, error))
                                return FALSE;
                        printf("released rounds=%u\n", rounds);
                }
        } else if (strcmp(cmd, "bench-claim") == 0) {
                return cmd_bench(argc, argv, error);
        } else {
                g_set_error(error, NETISO_CLUSTER_ERROR, NETISO_CLUSTER_ERROR_OPTIONS,
                            "unknown command or missing arguments: %s", cmd);
                return FALSE;
        }
        return TRUE;
}

int
main(int argc, char **argv)
{
        g_autoptr(GOptionContext) context = g_option_context_new("COMMAND [ARGS]");
        g_autoptr(GError) error = NULL;
        g_auto(GStrv) endpoints = NULL;
        NetisoEtcdOptions options = { 0 };
        const char *cmd;
        gboolean ok;

        setvbuf(stdout, NULL, _IOLBF, 0);
        g_option_context_add_main_entries(context, entries, NULL);
        if (!g_option_context_parse(context, &argc, &argv, &error) || argc < 2) {
                fprintf(stderr, "etcd-probe: %s\n", error ? error->message : "no command");
                return 2;
        }
        if (!opt_prefix)
                opt_prefix = g_strdup("/blixard/netiso/");
        if (!opt_node)
                opt_node = g_strdup("node-a");
        endpoints = g_strsplit(opt_endpoints ? opt_endpoints : "http://127.0.0.1:2379", ",", -1);
        options.endpoints = (const char *const *)endpoints;
        options.ca_file = opt_ca;
        options.cert_file = opt_cert;
        options.key_file = opt_key;
        options.timeout_ms = (guint)opt_timeout_ms;
        etcd = netiso_etcd_new(&options, &error);
        if (!etcd)
                return fail(error), 2;
        loop = g_main_loop_new(NULL, FALSE);
        cmd = argv[1];
        if (strcmp(cmd, "watch") == 0)
                ok = cmd_watch(argc - 2, argv + 2);
        else if (strcmp(cmd, "follow") == 0)
                ok = cmd_follow();
        else if (strcmp(cmd, "keep") == 0)
                ok = cmd_keep(argc - 2, argv + 2);
        else
                ok = cmd_kv(cmd, argc - 2, argv + 2, &error);
        if (!ok && error)
                fail(error);
        g_main_loop_unref(loop);
        netiso_etcd_free(etcd);
        if (!ok && error && error->domain == NETISO_CLUSTER_ERROR &&
            error->code == NETISO_CLUSTER_ERROR_CONFLICT)
                return 4;
        return ok ? 0 : 1;
}
