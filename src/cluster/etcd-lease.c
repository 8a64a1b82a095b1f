/* The lease keeper, on the caller's GLib main loop: a keep-alive every third
 * of the lease's TTL (sooner after a failure), and the owner told when the
 * lease becomes unreachable, alive again, or lost. */
#include "autoconfig.h"

#include "cluster/etcd-private.h"

static void
source_clear(GSource **source)
{
        if (*source)
                g_source_destroy(*source);
        g_clear_pointer(source, g_source_unref);
}

struct NetisoEtcdLeaseKeeper {
        NetisoEtcd *etcd;
        gint64 id;
        gint64 ttl;
        NetisoEtcdLeaseFunc func;
        gpointer user_data;
        NetisoEtcdLeaseState state;
        GMainContext *context;
        GSource *timer;
        GCancellable *cancellable; /* of the keep-alive in flight */
};

static void keeper_schedule(NetisoEtcdLeaseKeeper *keeper, guint delay_ms);

static void
keeper_set_state(NetisoEtcdLeaseKeeper *keeper, NetisoEtcdLeaseState state, const GError *error)
{
        if (keeper->state == state)
                return;
        keeper->state = state;
        keeper->func(keeper, state, error, keeper->user_data);
}

static guint
keeper_interval_ms(const NetisoEtcdLeaseKeeper *keeper)
{
        return (guint)MAX(1000, keeper->ttl * 1000 / 3);
}

static void
on_keepalive(GObject *source, GAsyncResult *result, gpointer data)
{
        g_autoptr(GError) error = NULL;
        gint64 ttl = 0;
        gboolean ok = netiso_etcd_lease_keepalive_finish(NULL, result, &ttl, &error);
        NetisoEtcdLeaseKeeper *keeper = data;

        /* Cancelled: the keeper is freed; do not touch it. */
        if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
                return;
        g_clear_object(&keeper->cancellable);
        if (ok) {
                keeper_schedule(keeper, keeper_interval_ms(keeper));
                keeper_set_state(keeper, NETISO_ETCD_LEASE_ALIVE, NULL);
        } else if (error->domain == NETISO_CLUSTER_ERROR &&
                   error->code == NETISO_CLUSTER_ERROR_LEASE_LOST) {
                keeper_set_state(keeper, NETISO_ETCD_LEASE_LOST, error);
        } else {
                /* Sooner than usual: the lease runs out meanwhile. */
                keeper_schedule(keeper, MIN(1000, keeper_interval_ms(keeper)));
                keeper_set_state(keeper, NETISO_ETCD_LEASE_UNREACHABLE, error);
        }
}

static gboolean
on_keeper_tick(gpointer data)
{
        NetisoEtcdLeaseKeeper *keeper = data;

        g_clear_pointer(&keeper->timer, g_source_unref);
        keeper->cancellable = g_cancellable_new();
        netiso_etcd_lease_keepalive_async(keeper->etcd, keeper->id, keeper_interval_ms(keeper),
                                          keeper->cancellable, on_keepalive, keeper);
        return G_SOURCE_REMOVE;
}

static void
keeper_schedule(NetisoEtcdLeaseKeeper *keeper, guint delay_ms)
{
        source_clear(&keeper->timer);
        keeper->timer = g_timeout_source_new(delay_ms);
        g_source_set_callback(keeper->timer, on_keeper_tick, keeper, NULL);
        g_source_attach(keeper->timer, keeper->context);
}

NetisoEtcdLeaseKeeper *
netiso_etcd_lease_keeper_new(NetisoEtcd *etcd, gint64 id, gint64 ttl_seconds,
                             NetisoEtcdLeaseFunc func, gpointer user_data)
{
        NetisoEtcdLeaseKeeper *keeper = g_new0(NetisoEtcdLeaseKeeper, 1);

        keeper->etcd = etcd;
        keeper->id = id;
        keeper->ttl = MAX(ttl_seconds, 1);
        keeper->func = func;
        keeper->user_data = user_data;
        keeper->state = NETISO_ETCD_LEASE_ALIVE;
        keeper->context = g_main_context_ref_thread_default();
        keeper_schedule(keeper, keeper_interval_ms(keeper));
        return keeper;
}

NetisoEtcdLeaseState
netiso_etcd_lease_keeper_get_state(const NetisoEtcdLeaseKeeper *keeper)
{
        return keeper->state;
}

gint64
netiso_etcd_lease_keeper_get_id(const NetisoEtcdLeaseKeeper *keeper)
{
        return keeper->id;
}

void
netiso_etcd_lease_keeper_free(NetisoEtcdLeaseKeeper *keeper)
{
        if (!keeper)
                return;
        source_clear(&keeper->timer);
        if (keeper->cancellable)
                g_cancellable_cancel(keeper->cancellable);
        g_clear_object(&keeper->cancellable);
        g_main_context_unref(keeper->context);
        g_free(keeper);
}
