/* watch: libvirt's events on a thread that only queues domain names, the
 * work (libvirt queries, locked installs, conntrack) on the GLib main loop;
 * each domain's current live XML decides (DEVELOPERS.md). */
#include "autoconfig.h"

#include <glib-unix.h>
#include <libvirt/libvirt.h>
#include <signal.h>
#include <systemd/sd-daemon.h>

#include "cli/cluster-daemon.h"
#include "cli/virt.h"
#include "cli/watch-firewall.h"
#include "cli/watch-leases.h"
#include "cli/watch.h"
#include "core/drift.h"
#include "core/state.h"
#include "engine/backends.h"
#include "engine/conntrack.h"
#include "engine/inspectors.h"
#include "engine/lifecycle.h"
#include "util/error.h"

#define BACKOFF_MAX_S 30

enum { EV_LIFECYCLE, EV_METADATA, EV_DEVICE_ADDED, EV_DEVICE_REMOVED, _EV_MAX };

typedef struct {
        NetisoWatchOptions options;
        NetisoConfig *config;
        NetisoWatchFirewall *firewall;
        GMainLoop *loop;
        virConnectPtr conn; /* NULL while libvirtd is away */
        guint generation;   /* of conn: a late close notice of an older one is ignored */
        int callbacks[_EV_MAX];
        guint backoff_s;
        guint retry_source;
        GThread *event_thread;
        gint event_thread_run; /* atomic */
        NetisoWatchLeases *leases;
        GMutex mutex;        /* guards pending and dispatch_scheduled */
        GHashTable *pending; /* domain name -> events seen */
        gboolean dispatch_scheduled;
        char *last_failure;           /* a failure that repeats is logged once */
        NetisoClusterDaemon *cluster; /* [vm.network_isolation.cluster] (cluster-daemon.h) */
} Watch;

typedef struct {
        Watch *w;
        guint generation;
} CloseNotice;

void
netiso_watch_end_flows(const GArray *revoked, const NetisoLogFields *fields)
{
        NetisoLogFields f = *fields;
        g_autoptr(GError) error = NULL;
        guint deleted = 0;

        if (!revoked || revoked->len == 0)
                return;
        if (!netiso_conntrack_flush(revoked, &deleted, &error)) {
                f.outcome = "incomplete";
                netiso_log(LOG_WARNING, &f, "%s", error->message);
                return;
        }
        f.outcome = "flows-ended";
        netiso_log(LOG_INFO, &f, "ended %u tracked connections of %u changed addresses", deleted,
                   revoked->len);
}

void
netiso_watch_log_reconcile(const NetisoReconcileReport *report, const char *event)
{
        NetisoLogFields f = { .event = event };

        for (guint i = 0; i < report->changes->len; i++) {
                const NetisoReconcileChange *c = g_ptr_array_index(report->changes, i);
                NetisoLogFields cf = { c->domain, c->tenant, event, c->outcome };
                netiso_log(LOG_INFO, &cf, "reconcile: %s", c->outcome);
        }
        for (guint i = 0; i < report->refused->len; i++) {
                f.outcome = "refused";
                netiso_log(LOG_ERR, &f, "%s", (const char *)g_ptr_array_index(report->refused, i));
        }
        for (guint i = 0; i < report->warnings->len; i++) {
                f.outcome = "incomplete";
                netiso_log(LOG_WARNING, &f, "%s",
                           (const char *)g_ptr_array_index(report->warnings, i));
        }
        if (report->committed) {
                f.outcome = "repaired";
                netiso_log(LOG_NOTICE, &f, "reconcile repaired %u differences in one transaction",
                           report->repairable);
        }
}

/* ---- the main loop's work ---- */

static void
log_failure(Watch *w, const NetisoLogFields *fields, const char *message)
{
        if (g_strcmp0(w->last_failure, message) == 0)
                return;
        g_free(w->last_failure);
        w->last_failure = g_strdup(message);
        netiso_log(LOG_ERR, fields, "%s", message);
}

static void
run_reconcile(Watch *w, const char *event)
{
        NetisoLogFields f = { .event = event };
        g_autoptr(NetisoFirewall) fw = netiso_firewall_new(NETISO_FIREWALL_APPLY);
        g_autoptr(NetisoRunning) running = NULL;
        g_autoptr(NetisoReconcileReport) report = NULL;
        g_autoptr(GError) error = NULL;

        if (w->conn)
                running = netiso_virt_list_running(w->conn, &error);
        if (!running) {
                /* Without libvirtd, the records are the best knowledge there is. */
                f.outcome = "failed";
                if (!netiso_reconcile_from_records(w->config, fw, &error)) {
                        log_failure(w, &f, error->message);
                        return;
                }
                f.outcome = "repaired";
                netiso_log(LOG_NOTICE, &f,
                           "restored the firewall from the records (libvirtd unavailable)");
                return;
        }
        if (!netiso_reconcile(w->config, running, fw, /* commit */ TRUE, &report, &error)) {
                f.outcome = "failed";
                log_failure(w, &f, error->message);
                return;
        }
        g_clear_pointer(&w->last_failure, g_free);
        netiso_watch_log_reconcile(report, event);
        netiso_watch_end_flows(report->revoked, &f);
}

static char *
describe_change(const NetisoRecord *old, const NetisoRecord *want)
{
        g_autoptr(GPtrArray) installed = g_ptr_array_new();
        g_autoptr(GPtrArray) wanted = g_ptr_array_new();
        g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(g_free);

        if (old)
                g_ptr_array_add(installed, (gpointer)old);
        g_ptr_array_add(wanted, (gpointer)want);
        netiso_drift_records(installed, wanted, lines);
        g_ptr_array_add(lines, NULL);
        return g_strjoinv("; ", (char **)lines->pdata);
}

/* The hook normally removed it already; this covers a hook that failed or
 * was missing. A record written after libvirtd was asked is a new start's. */
static void
remove_stopped(Watch *w, NetisoLogFields *f, const NetisoRecord *old, gint64 asked_usec)
{
        g_autoptr(NetisoFirewall) fw = netiso_firewall_new(NETISO_FIREWALL_APPLY);
        g_autoptr(GError) error = NULL;
        g_autoptr(GArray) revoked =
                g_array_new(/* zero_terminated */ FALSE, /* clear */ FALSE, sizeof(NetisoCidr));

        f->tenant = old->tenant;
        if (!netiso_lifecycle_remove_older(w->config, old->domain, asked_usec, fw, &error)) {
                f->outcome = "failed";
                netiso_log(LOG_ERR, f, "%s", error->message);
                return;
        }
        f->outcome = "removed";
        netiso_log(LOG_INFO, f, "removed the state of a domain that no longer runs");
        netiso_drift_revoked(old, NULL, revoked);
        netiso_watch_end_flows(revoked, f);
}

static void
log_failed(NetisoLogFields *f, const GError *error)
{
        f->outcome = "failed";
        netiso_log(LOG_ERR, f, "%s", error->message);
}

static void
handle_domain(Watch *w, const char *name, const char *event)
{
        NetisoLogFields f = { .domain = name, .event = event };
        g_autoptr(NetisoFirewall) fw = netiso_firewall_new(NETISO_FIREWALL_APPLY);
        g_autoptr(NetisoDomain) domain = NULL;
        g_autoptr(NetisoRecord) old = NULL;
        g_autoptr(NetisoRecord) want = NULL;
        g_autoptr(GArray) revoked =
                g_array_new(/* zero_terminated */ FALSE, /* clear */ FALSE, sizeof(NetisoCidr));
        g_autoptr(GError) error = NULL;
        g_autofree char *refusal = NULL;
        g_autofree char *note = NULL;
        g_autofree char *change = NULL;
        gint64 asked_usec = g_get_real_time();

        if (!netiso_state_load(w->config->state_dir, name, &old, &error)) {
                log_failed(&f, error);
                return;
        }
        if (!netiso_virt_running_domain(w->conn, name, &domain, &error)) {
                /* Hostile or broken XML (a bad tenant set with virsh) is a refusal. */
                if (!g_error_matches(error, NETISO_ERROR, NETISO_ERROR_DOMAIN)) {
                        log_failed(&f, error);
                        return;
                }
                f.outcome = "refused";
                netiso_log(LOG_ERR, &f, "%s (%s)", error->message,
                           old ? "its previous isolation stays" : "its taps stay blocked");
                return;
        }
        if (!domain) {
                if (old)
                        remove_stopped(w, &f, old, asked_usec);
                return;
        }
        f.tenant = domain->tenant;
        want = netiso_desired_record(w->config, domain, &refusal, &note);
        if (!want) {
                /* Never less isolation: a refused change keeps the old state. */
                f.outcome = "refused";
                if (refusal)
                        netiso_log(LOG_ERR, &f, "%s (%s)", refusal,
                                   old ? "its previous isolation stays" : "its taps stay blocked");
                return;
        }
        /* The flow id is the install's, not the domain's: a guest the hook
         * just installed is not drift (re-installing it would cut its flows). */
        if (old)
                want->flow_id = old->flow_id;
        if (old && netiso_record_same_state(old, want)) {
                f.outcome = "unchanged";
                netiso_log(LOG_INFO, &f, "already in step");
                return;
        }
        change = describe_change(old, want);
        if (!netiso_lifecycle_install(w->config, domain, fw, &error)) {
                f.outcome = "failed";
                netiso_log(LOG_ERR, &f, "%s (its previous isolation stays)", error->message);
                return;
        }
        f.outcome = old ? "updated" : "installed";
        netiso_log(LOG_INFO, &f, "applied: %s", change);
        netiso_drift_revoked(old, want, revoked);
        netiso_drift_revoked(want, old, revoked);
        netiso_watch_end_flows(revoked, &f);
}

static gboolean
dispatch(gpointer data)
{
        Watch *w = data;
        g_autoptr(GHashTable) batch = NULL;
        g_autoptr(GList) names = NULL;

        g_mutex_lock(&w->mutex);
        batch = g_steal_pointer(&w->pending);
        w->pending = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        w->dispatch_scheduled = FALSE;
        g_mutex_unlock(&w->mutex);
        /* Without a connection the events are moot: connecting reconciles. */
        if (!w->conn)
                return G_SOURCE_REMOVE;
        names = g_list_sort(g_hash_table_get_keys(batch), (GCompareFunc)g_strcmp0);
        for (GList *l = names; l; l = l->next)
                handle_domain(w, l->data, g_hash_table_lookup(batch, l->data));
        return G_SOURCE_REMOVE;
}

/* ---- libvirt's side: runs on the event thread, only queues ---- */

static void
queue_name(Watch *w, const char *name, const char *event)
{
        const char *seen;

        g_mutex_lock(&w->mutex);
        seen = g_hash_table_lookup(w->pending, name);
        g_hash_table_replace(w->pending, g_strdup(name),
                             seen ? g_strconcat(seen, ", ", event, NULL) : g_strdup(event));
        if (!w->dispatch_scheduled) {
                w->dispatch_scheduled = TRUE;
                g_idle_add(dispatch, w);
        }
        g_mutex_unlock(&w->mutex);
}

static void
queue_domain(Watch *w, virDomainPtr dom, const char *event)
{
        queue_name(w, virDomainGetName(dom), event);
}

/* A lease of the guest's network changed (watch-leases.c, main loop). */
static void
queue_lease(const char *domain, gpointer data)
{
        queue_name(data, domain, "lease");
}

static void
on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail, void *opaque)
{
        /* A safety net: the hook does the real work at start and stop. */
        if (event == VIR_DOMAIN_EVENT_STARTED)
                queue_domain(opaque, dom, "started");
        else if (event == VIR_DOMAIN_EVENT_STOPPED)
                queue_domain(opaque, dom, "stopped");
}

static void
on_metadata(virConnectPtr conn, virDomainPtr dom, int type, const char *nsuri, void *opaque)
{
        if (type == VIR_DOMAIN_METADATA_ELEMENT && g_strcmp0(nsuri, NETISO_METADATA_NS) == 0)
                queue_domain(opaque, dom, "metadata-change");
}

static void
on_device_added(virConnectPtr conn, virDomainPtr dom, const char *alias, void *opaque)
{
        g_autofree char *event = g_strdup_printf("device-added %s", alias);

        queue_domain(opaque, dom, event);
}

static void
on_device_removed(virConnectPtr conn, virDomainPtr dom, const char *alias, void *opaque)
{
        g_autofree char *event = g_strdup_printf("device-removed %s", alias);

        queue_domain(opaque, dom, event);
}

static gpointer
event_thread(gpointer data)
{
        Watch *w = data;

        while (g_atomic_int_get(&w->event_thread_run))
                if (virEventRunDefaultImpl() < 0)
                        g_usleep(100000);
        return NULL;
}

static void
wake_event_thread(int timer, void *opaque)
{
        virEventRemoveTimeout(timer);
}

/* ---- the connection ---- */

static void schedule_connect(Watch *w);
static void on_close(virConnectPtr conn, int reason, void *opaque);

static void
drop_connection(Watch *w)
{
        for (int i = 0; i < _EV_MAX; i++)
                if (w->callbacks[i] >= 0)
                        virConnectDomainEventDeregisterAny(w->conn, w->callbacks[i]);
        for (int i = 0; i < _EV_MAX; i++)
                w->callbacks[i] = -1;
        virConnectUnregisterCloseCallback(w->conn, on_close);
        g_clear_pointer(&w->conn, netiso_virt_close);
}

static gboolean
on_disconnected(gpointer data)
{
        g_autofree CloseNotice *notice = data;
        Watch *w = notice->w;
        NetisoLogFields f = { .event = "disconnect", .outcome = "reconnecting" };

        if (!w->conn || notice->generation != w->generation)
                return G_SOURCE_REMOVE;
        netiso_log(LOG_WARNING, &f, "lost the connection to %s", w->options.uri);
        drop_connection(w);
        schedule_connect(w);
        return G_SOURCE_REMOVE;
}

static void
on_close(virConnectPtr conn, int reason, void *opaque)
{
        CloseNotice *copy = g_new(CloseNotice, 1);

        *copy = *(const CloseNotice *)opaque;
        g_idle_add(on_disconnected, copy);
}

static gboolean
register_events(Watch *w, GError **error)
{
        const struct {
                int id;
                virConnectDomainEventGenericCallback cb;
        } events[_EV_MAX] = {
                [EV_LIFECYCLE] = { VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                   VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle) },
                [EV_METADATA] = { VIR_DOMAIN_EVENT_ID_METADATA_CHANGE,
                                  VIR_DOMAIN_EVENT_CALLBACK(on_metadata) },
                [EV_DEVICE_ADDED] = { VIR_DOMAIN_EVENT_ID_DEVICE_ADDED,
                                      VIR_DOMAIN_EVENT_CALLBACK(on_device_added) },
                [EV_DEVICE_REMOVED] = { VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED,
                                        VIR_DOMAIN_EVENT_CALLBACK(on_device_removed) },
        };
        CloseNotice *notice = g_new(CloseNotice, 1);

        notice->w = w;
        notice->generation = ++w->generation;
        if (virConnectRegisterCloseCallback(w->conn, on_close, notice, g_free) < 0) {
                g_free(notice);
                netiso_virt_error(error, "%s: cannot watch the connection", w->options.uri);
                return FALSE;
        }
        /* Notices a daemon that hangs, not only one that exits. */
        virConnectSetKeepAlive(w->conn, 5, 3);
        for (int i = 0; i < _EV_MAX; i++) {
                w->callbacks[i] = virConnectDomainEventRegisterAny(w->conn, NULL, events[i].id,
                                                                   events[i].cb, w, NULL);
                if (w->callbacks[i] < 0) {
                        netiso_virt_error(error, "%s: cannot register for domain events",
                                          w->options.uri);
                        return FALSE;
                }
        }
        return TRUE;
}

static gboolean
connect_now(gpointer data)
{
        Watch *w = data;
        NetisoLogFields f = { .event = "connect" };
        g_autoptr(GError) error = NULL;

        w->retry_source = 0;
        w->conn = netiso_virt_connect(w->options.uri, &error);
        if (!w->conn || !register_events(w, &error)) {
                g_autofree char *message = NULL;
                if (w->conn)
                        drop_connection(w);
                schedule_connect(w);
                message = g_strdup_printf("%s (retrying, at most every %u s)", error->message,
                                          BACKOFF_MAX_S);
                f.outcome = "failed";
                log_failure(w, &f, message);
                return G_SOURCE_REMOVE;
        }
        w->backoff_s = 0;
        g_clear_pointer(&w->last_failure, g_free);
        f.outcome = "connected";
        netiso_log(LOG_INFO, &f, "connected to %s: reconciling", w->options.uri);
        run_reconcile(w, "connect");
        return G_SOURCE_REMOVE;
}

static void
schedule_connect(Watch *w)
{
        w->backoff_s = w->backoff_s ? MIN(w->backoff_s * 2, BACKOFF_MAX_S) : 1;
        w->retry_source = g_timeout_add_seconds(w->backoff_s, connect_now, w);
}

/* ---- signals and the run ---- */

static gboolean
on_stop(gpointer data)
{
        Watch *w = data;
        NetisoLogFields f = { .event = "signal", .outcome = "stopped" };

        netiso_log(LOG_INFO, &f, "stopping");
        g_main_loop_quit(w->loop);
        return G_SOURCE_CONTINUE;
}

static gboolean
on_reload(gpointer data)
{
        Watch *w = data;
        NetisoLogFields f = { .event = "reload" };
        g_autoptr(GError) error = NULL;
        NetisoConfig *config = netiso_config_new_from_file(w->options.config_path, &error);

        if (!config || !config->enabled) {
                f.outcome = "refused";
                netiso_log(LOG_ERR, &f, "%s: keeping the previous configuration",
                           config ? "isolation is disabled in the new configuration"
                                  : error->message);
                netiso_config_free(config);
                return G_SOURCE_CONTINUE;
        }
        /* The cluster side compares with the old configuration: first. */
        netiso_cluster_daemon_update(&w->cluster, config);
        netiso_watch_firewall_set_config(w->firewall, config);
        netiso_config_free(w->config);
        w->config = config;
        f.outcome = "reloaded";
        netiso_log(LOG_INFO, &f, "configuration %s read again: reconciling",
                   w->options.config_path);
        run_reconcile(w, "reload");
        return G_SOURCE_CONTINUE;
}

gboolean
netiso_watch_run(const NetisoWatchOptions *options, NetisoConfig *config, GError **error)
{
        Watch w = { .options = *options, .config = config };
        NetisoLogFields f = { .event = "start", .outcome = "watching" };
        guint sources[3] = { 0 };
        gboolean ok = TRUE;

        if (!netiso_virt_start_events(error)) {
                netiso_config_free(config);
                return FALSE;
        }
        if (config->cluster && !(w.cluster = netiso_cluster_daemon_new(config, error))) {
                netiso_config_free(config);
                return FALSE;
        }
        for (int i = 0; i < _EV_MAX; i++)
                w.callbacks[i] = -1;
        w.loop = g_main_loop_new(NULL, /* is_running */ FALSE);
        w.pending = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        g_mutex_init(&w.mutex);
        w.event_thread_run = 1;
        w.event_thread = g_thread_new("libvirt-events", event_thread, &w);
        sources[0] = g_unix_signal_add(SIGTERM, on_stop, &w);
        sources[1] = g_unix_signal_add(SIGINT, on_stop, &w);
        sources[2] = g_unix_signal_add(SIGHUP, on_reload, &w);
        /* The firewall first, libvirtd last: at boot this runs before libvirtd
         * (whose socket activation would wait for us), and guests must find
         * the fail-closed drops and a watcher of the ruleset in place. */
        w.firewall = netiso_watch_firewall_new(w.config, options->interval_seconds, error);
        if (!w.firewall) {
                ok = FALSE;
                goto out;
        }
        netiso_watch_firewall_verify(w.firewall, "start");
        w.leases = netiso_watch_leases_new(w.config, queue_lease, &w, error);
        if (!w.leases) {
                ok = FALSE;
                goto out;
        }
        netiso_log(LOG_INFO, &f, "watching %s and the ruleset (safety check every %u s)",
                   options->uri, options->interval_seconds);
        sd_notify(0, "READY=1");
        connect_now(&w);
        g_main_loop_run(w.loop);
        sd_notify(0, "STOPPING=1");
out:
        netiso_watch_leases_free(w.leases);
        g_clear_pointer(&w.cluster, netiso_cluster_daemon_free);
        netiso_watch_firewall_free(w.firewall);
        if (w.conn)
                drop_connection(&w);
        if (w.retry_source)
                g_source_remove(w.retry_source);
        for (gsize i = 0; i < G_N_ELEMENTS(sources); i++)
                if (sources[i])
                        g_source_remove(sources[i]);
        g_atomic_int_set(&w.event_thread_run, 0);
        virEventAddTimeout(0, wake_event_thread, NULL, NULL);
        g_thread_join(w.event_thread);
        g_mutex_clear(&w.mutex);
        g_hash_table_unref(w.pending);
        g_main_loop_unref(w.loop);
        g_free(w.last_failure);
        netiso_config_free(w.config);
        return ok;
}
