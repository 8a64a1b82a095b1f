/* Simulated hosts of a cluster for bench/cluster.sh: registers HOSTS hosts
 * under leases it keeps alive and claims GUESTS guests on each (as their
 * watch daemons would), prints "ready", then on a line "go" on standard
 * input starts STARTS more guests one by one, INTERVAL_MS apart, printing
 * "start ADDRESS USEC" for each (the wall clock before its claim), then
 * "done"; it keeps the leases until standard input closes. */
#include "autoconfig.h"

#include <glib-unix.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cluster/claim.h"
#include "cluster/etcd.h"
#include "cluster/membership.h"

static char *opt_endpoints = NULL;
static char *opt_prefix = NULL;
static int opt_hosts = 100;
static int opt_guests = 100;
static int opt_starts = 100;
static int opt_interval_ms = 500;
static int opt_tenants = 50;
static int opt_lease_ttl = 120;

static GOptionEntry entries[] = {
        { "endpoints", 0, 0, G_OPTION_ARG_STRING, &opt_endpoints, "comma-separated", "E" },
        { "prefix", 0, 0, G_OPTION_ARG_STRING, &opt_prefix, "key prefix", "P" },
        { "hosts", 0, 0, G_OPTION_ARG_INT, &opt_hosts, "simulated hosts", "N" },
        { "guests", 0, 0, G_OPTION_ARG_INT, &opt_guests, "guests per host", "N" },
        { "starts", 0, 0, G_OPTION_ARG_INT, &opt_starts, "measured starts", "N" },
        { "interval-ms", 0, 0, G_OPTION_ARG_INT, &opt_interval_ms, "between starts", "MS" },
        { "tenants", 0, 0, G_OPTION_ARG_INT, &opt_tenants, "tenants", "N" },
        { "lease-ttl", 0, 0, G_OPTION_ARG_INT, &opt_lease_ttl, "seconds", "S" },
        { NULL },
};

typedef struct {
        NetisoEtcd *etcd;
        GMainLoop *loop;
        gint64 *leases;
        GPtrArray *keepers;
        guint next_guest; /* guest index: addresses and UUID derive from it */
        int started;
} Bench;

/* Guest i of the whole cluster: 10.A.B.C (C never 0 or 255) and
 * fd00:10::HI:LO, its UUID and tenant derived from i too. */
static NetisoClusterGuest *
guest_new(guint host, guint i)
{
        g_autofree char *node = g_strdup_printf("s%u", host);
        g_autofree char *uuid = g_strdup_printf("%08x-0000-4000-8000-%012x", i, host);
        g_autofree char *name = g_strdup_printf("g%u", i);
        g_autofree char *tenant = g_strdup_printf("t%u", i % (guint)opt_tenants);
        g_autofree char *v4 =
                g_strdup_printf("10.%u.%u.%u", 1 + i / (254 * 256), i / 254 % 256, 1 + i % 254);
        g_autofree char *v6 = g_strdup_printf("fd00:10::%x:%x", i >> 16, i & 0xffff);
        NetisoClusterGuest *g = netiso_cluster_guest_new(node, uuid, name, tenant);
        NetisoCidr a;

        g_assert_true(netiso_addr_parse(v4, &a, NULL));
        g_array_append_val(g->addresses, a);
        g_assert_true(netiso_addr_parse(v6, &a, NULL));
        g_array_append_val(g->addresses, a);
        netiso_cluster_guest_normalize(g);
        return g;
}

static void
on_lease(NetisoEtcdLeaseKeeper *keeper, NetisoEtcdLeaseState state, const GError *error,
         gpointer data)
{
        if (state != NETISO_ETCD_LEASE_ALIVE)
                fprintf(stderr, "bench: a lease is %s: %s\n",
                        state == NETISO_ETCD_LEASE_LOST ? "lost" : "unreachable",
                        error ? error->message : "");
}

/* Let the keepers run between synchronous claims. */
static void
spin(void)
{
        while (g_main_context_iteration(NULL, FALSE))
                ;
}

static gboolean
claim(Bench *b, guint host, guint i, GError **error)
{
        g_autoptr(NetisoClusterGuest) g = guest_new(host, i);

        return netiso_cluster_claim(b->etcd, opt_prefix, g, b->leases[host], NULL, error);
}

static gboolean
populate(Bench *b, GError **error)
{
        gint64 t0 = g_get_monotonic_time();

        b->leases = g_new0(gint64, opt_hosts + 1);
        for (int h = 1; h <= opt_hosts; h++) {
                g_autofree char *node = g_strdup_printf("s%d", h);
                gint64 ttl = 0;

                if (!netiso_etcd_lease_grant(b->etcd, opt_lease_ttl, &b->leases[h], &ttl, error) ||
                    !netiso_cluster_register_host(b->etcd, opt_prefix, node, b->leases[h], error))
                        return FALSE;
                g_ptr_array_add(b->keepers, netiso_etcd_lease_keeper_new(b->etcd, b->leases[h], ttl,
                                                                         on_lease, b));
                for (int g = 0; g < opt_guests; g++) {
                        if (!claim(b, h, b->next_guest++, error))
                                return FALSE;
                        spin();
                }
        }
        printf("populated %d hosts, %u guests in %.1f s\nready\n", opt_hosts, b->next_guest,
               (g_get_monotonic_time() - t0) / 1e6);
        fflush(stdout);
        return TRUE;
}

static gboolean
start_one(gpointer data)
{
        Bench *b = data;
        g_autoptr(GError) error = NULL;
        guint host = 1 + b->started % opt_hosts;
        guint i = b->next_guest++;
        g_autoptr(NetisoClusterGuest) g = guest_new(host, i);
        g_autofree char *addr =
                netiso_cidr_to_string(&g_array_index(g->addresses, NetisoCidr, 0), FALSE);
        gint64 t0 = g_get_real_time();

        if (!claim(b, host, i, &error)) {
                fprintf(stderr, "bench: start %d: %s\n", b->started, error->message);
                g_main_loop_quit(b->loop);
                return G_SOURCE_REMOVE;
        }
        printf("start %s %" G_GINT64_FORMAT "\n", addr, t0);
        fflush(stdout);
        if (++b->started < opt_starts)
                return G_SOURCE_CONTINUE;
        printf("done\n");
        fflush(stdout);
        return G_SOURCE_REMOVE;
}

static gboolean
on_stdin(gint fd, GIOCondition condition, gpointer data)
{
        Bench *b = data;
        char buf[64];
        ssize_t n = read(fd, buf, sizeof(buf) - 1);

        if (n <= 0) {
                g_main_loop_quit(b->loop);
                return G_SOURCE_REMOVE;
        }
        buf[n] = '\0';
        if (strstr(buf, "go"))
                g_timeout_add(opt_interval_ms, start_one, b);
        return G_SOURCE_CONTINUE;
}

int
main(int argc, char **argv)
{
        g_autoptr(GOptionContext) context = g_option_context_new("- simulated cluster hosts");
        g_autoptr(GError) error = NULL;
        g_auto(GStrv) endpoints = NULL;
        NetisoEtcdOptions options = { 0 };
        Bench b = { 0 };

        g_option_context_add_main_entries(context, entries, NULL);
        if (!g_option_context_parse(context, &argc, &argv, &error) || !opt_endpoints ||
            !opt_prefix) {
                fprintf(stderr, "usage: %s --endpoints E --prefix P [options]\n", argv[0]);
                return 2;
        }
        endpoints = g_strsplit(opt_endpoints, ",", -1);
        options.endpoints = (const char *const *)endpoints;
        options.timeout_ms = 10000;
        b.etcd = netiso_etcd_new(&options, &error);
        b.keepers = g_ptr_array_new_with_free_func((GDestroyNotify)netiso_etcd_lease_keeper_free);
        b.loop = g_main_loop_new(NULL, FALSE);
        if (!b.etcd || !populate(&b, &error)) {
                fprintf(stderr, "bench: %s\n", error->message);
                return 1;
        }
        g_unix_fd_add(STDIN_FILENO, G_IO_IN | G_IO_HUP, on_stdin, &b);
        g_main_loop_run(b.loop);
        for (int h = 1; h <= opt_hosts; h++)
                netiso_etcd_lease_revoke(b.etcd, b.leases[h], NULL);
        g_ptr_array_unref(b.keepers);
        g_main_loop_unref(b.loop);
        g_free(b.leases);
        netiso_etcd_free(b.etcd);
        return 0;
}
