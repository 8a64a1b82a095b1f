/* The session with etcd for `watch`: the client, the host's lease (granted,
 * registered, kept alive, granted again when lost), bringing up the
 * follower and the publisher, the status the hook's socket reports, and a
 * configuration read again without losing the session. */
#include "autoconfig.h"

#include <json-glib/json-glib.h>
#include <stdio.h>

#include "cli/cluster-daemon.h"
#include "cli/cluster-private.h"
#include "engine/lifecycle.h"
#include "util/error.h"

#define BACKOFF_MIN_MS 200
#define BACKOFF_MAX_MS 5000

void
netiso_cluster_log(int priority, const char *event, const char *outcome, const char *format, ...)
{
        NetisoLogFields f = { .event = event, .outcome = outcome };
        g_autofree char *text = NULL;
        va_list ap;

        va_start(ap, format);
        text = g_strdup_vprintf(format, ap);
        va_end(ap);
        netiso_log(priority, &f, "cluster: %s", text);
}

void
netiso_cluster_note_error(NetisoClusterDaemon *d, const GError *error)
{
        if (error->domain == NETISO_CLUSTER_ERROR &&
            error->code == NETISO_CLUSTER_ERROR_UNAVAILABLE)
                d->reachable = FALSE;
        if (g_strcmp0(d->last_error, error->message) == 0)
                return;
        g_free(d->last_error);
        d->last_error = g_strdup(error->message);
        netiso_cluster_log(LOG_WARNING, "etcd", "failed", "%s", error->message);
}

void
netiso_cluster_note_ok(NetisoClusterDaemon *d)
{
        if (!d->reachable && d->last_error)
                netiso_cluster_log(LOG_NOTICE, "etcd", "connected", "etcd answers again (%s)",
                                   netiso_etcd_get_endpoint(d->etcd));
        d->reachable = TRUE;
        g_clear_pointer(&d->last_error, g_free);
}

gboolean
netiso_cluster_session_up(const NetisoClusterDaemon *d)
{
        return d->lease != 0;
}

/* ---- the lease ---- */

static void on_lease(NetisoEtcdLeaseKeeper *keeper, NetisoEtcdLeaseState state, const GError *error,
                     gpointer data);

static gboolean
session_open(NetisoClusterDaemon *d, GError **error)
{
        gint64 lease = 0, ttl = 0;

        if (!netiso_etcd_lease_grant(d->etcd, d->cc->lease_ttl, &lease, &ttl, error))
                return FALSE;
        if (!netiso_cluster_register_host(d->etcd, d->cc->prefix, d->cc->node, lease, error)) {
                g_autoptr(GError) ignored = NULL;
                netiso_etcd_lease_revoke(d->etcd, lease, &ignored);
                return FALSE;
        }
        d->lease = lease;
        d->keeper = netiso_etcd_lease_keeper_new(d->etcd, lease, ttl, on_lease, d);
        netiso_cluster_log(LOG_INFO, "lease", "registered",
                           "host %s registered under %s with lease %" G_GINT64_FORMAT
                           " (ttl %" G_GINT64_FORMAT " s)",
                           d->cc->node, d->cc->prefix, lease, ttl);
        return TRUE;
}

static void
session_close(NetisoClusterDaemon *d, gboolean revoke)
{
        g_clear_pointer(&d->keeper, netiso_etcd_lease_keeper_free);
        if (revoke && d->lease) {
                g_autoptr(GError) error = NULL;
                guint timeout = netiso_etcd_get_timeout(d->etcd);

                /* Everything of this host leaves etcd at once, not after the TTL. */
                netiso_etcd_set_timeout(d->etcd, 1000);
                if (!netiso_etcd_lease_revoke(d->etcd, d->lease, &error))
                        netiso_cluster_log(LOG_WARNING, "lease", "failed",
                                           "cannot revoke the lease (its keys expire with it): %s",
                                           error->message);
                netiso_etcd_set_timeout(d->etcd, timeout);
        }
        d->lease = 0;
}

static void
on_lease(NetisoEtcdLeaseKeeper *keeper, NetisoEtcdLeaseState state, const GError *error,
         gpointer data)
{
        NetisoClusterDaemon *d = data;

        switch (state) {
        case NETISO_ETCD_LEASE_ALIVE:
                netiso_cluster_note_ok(d);
                /* A stream cut without a word is not noticed otherwise. */
                if (d->watch)
                        netiso_etcd_watch_reconnect(d->watch);
                break;
        case NETISO_ETCD_LEASE_UNREACHABLE:
                netiso_cluster_note_error(d, error);
                break;
        case NETISO_ETCD_LEASE_LOST:
        default:
                /* etcd dropped this host's keys: a new lease, then every
                 * guest again (claims made anew, the "kept" path). */
                netiso_cluster_log(LOG_WARNING, "lease", "lost",
                                   "the lease expired: registering again and publishing every "
                                   "guest again");
                session_close(d, /* revoke */ FALSE);
                g_hash_table_remove_all(d->published);
                if (d->watch)
                        netiso_etcd_watch_reconnect(d->watch);
                netiso_cluster_schedule_connect(d, 0);
                break;
        }
}

/* ---- bringing up what is missing ---- */

static gboolean
connect_step(gpointer data)
{
        NetisoClusterDaemon *d = data;
        g_autoptr(GError) error = NULL;

        d->connect_source = 0;
        if (!d->lease && !session_open(d, &error))
                goto retry;
        if (!d->watch && !d->reading && !netiso_cluster_follow_start(d, &error))
                goto retry;
        netiso_cluster_note_ok(d);
        d->backoff_ms = 0;
        netiso_cluster_schedule_publish(d, /* full_pass */ TRUE);
        return G_SOURCE_REMOVE;
retry:
        netiso_cluster_note_error(d, error);
        d->backoff_ms = d->backoff_ms ? MIN(d->backoff_ms * 2, BACKOFF_MAX_MS) : BACKOFF_MIN_MS;
        netiso_cluster_schedule_connect(d, d->backoff_ms);
        return G_SOURCE_REMOVE;
}

void
netiso_cluster_schedule_connect(NetisoClusterDaemon *d, guint delay_ms)
{
        if (d->connect_source)
                return;
        d->connect_source =
                delay_ms ? g_timeout_add(delay_ms, connect_step, d) : g_idle_add(connect_step, d);
}

/* ---- status ---- */

static void
add_int(JsonBuilder *b, const char *key, gint64 value)
{
        json_builder_set_member_name(b, key);
        json_builder_add_int_value(b, value);
}

char *
netiso_cluster_status_json(NetisoClusterDaemon *d)
{
        g_autoptr(JsonBuilder) b = json_builder_new();
        g_autoptr(JsonGenerator) gen = json_generator_new();
        g_autoptr(JsonNode) root = NULL;
        gint64 now = g_get_real_time();
        gint64 applied = d->table ? netiso_membership_get_revision(d->table) : 0;

        json_builder_begin_object(b);
        json_builder_set_member_name(b, "node");
        json_builder_add_string_value(b, d->cc->node);
        json_builder_set_member_name(b, "prefix");
        json_builder_add_string_value(b, d->cc->prefix);
        json_builder_set_member_name(b, "connected");
        json_builder_add_boolean_value(b, d->reachable && d->connected && d->lease);
        json_builder_set_member_name(b, "endpoint");
        json_builder_add_string_value(b, netiso_etcd_get_endpoint(d->etcd));
        add_int(b, "lease", d->lease);
        add_int(b, "revision", applied);
        add_int(b, "etcd_revision", MAX(d->etcd_revision, applied));
        add_int(b, "lag_revisions", MAX(d->etcd_revision - applied, 0));
        add_int(b, "lag_seconds", d->heard_usec ? (now - d->heard_usec) / G_USEC_PER_SEC : -1);
        add_int(b, "hosts", d->table ? netiso_membership_count_hosts(d->table) : 0);
        add_int(b, "remote_guests", d->table ? netiso_membership_count_remote_guests(d->table) : 0);
        add_int(b, "remote_addresses", netiso_remote_size(d->installed));
        add_int(b, "local_guests", g_hash_table_size(d->local));
        add_int(b, "published", g_hash_table_size(d->published));
        add_int(b, "batches", (gint64)d->batches);
        add_int(b, "batch_failures", (gint64)d->batch_failures);
        json_builder_set_member_name(b, "last_error");
        if (d->last_error)
                json_builder_add_string_value(b, d->last_error);
        else
                json_builder_add_null_value(b);
        json_builder_end_object(b);
        root = json_builder_get_root(b);
        json_generator_set_root(gen, root);
        return json_generator_to_data(gen, NULL);
}

/* ---- start, stop, reload ---- */

static NetisoEtcd *
client_new(const NetisoClusterConfig *cc, GError **error)
{
        g_autoptr(GPtrArray) endpoints = g_ptr_array_new(); /* borrowed strings */
        NetisoEtcdOptions options = {
                .ca_file = cc->ca_file,
                .cert_file = cc->cert_file,
                .key_file = cc->key_file,
                /* A claim must be answered before the hook gives up. */
                .timeout_ms = MIN(NETISO_ETCD_DEFAULT_TIMEOUT_MS, cc->claim_timeout_ms * 2 / 3),
        };
        g_autoptr(GError) local = NULL;
        NetisoEtcd *etcd;

        for (guint i = 0; i < cc->endpoints->len; i++)
                g_ptr_array_add(endpoints, g_ptr_array_index(cc->endpoints, i));
        g_ptr_array_add(endpoints, NULL);
        options.endpoints = (const char *const *)endpoints->pdata;
        etcd = netiso_etcd_new(&options, &local);
        if (!etcd)
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_CONFIG, "%s", local->message);
        return etcd;
}

void
netiso_pending_claim_free(NetisoPendingClaim *pending)
{
        netiso_cluster_guest_free(pending->guest);
        g_free(pending);
}

NetisoClusterDaemon *
netiso_cluster_daemon_new(const NetisoConfig *config, GError **error)
{
        g_autoptr(NetisoClusterDaemon) d = g_new0(NetisoClusterDaemon, 1);
        g_autoptr(GPtrArray) problems = NULL;

        d->config = config;
        d->cc = config->cluster;
        d->etcd = client_new(d->cc, error);
        if (!d->etcd)
                return NULL;
        d->dirty = g_hash_table_new_full(netiso_cidr_hash, netiso_cidr_equal_func, g_free, NULL);
        d->local = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                         (GDestroyNotify)netiso_cluster_guest_free);
        d->local_addrs =
                g_hash_table_new_full(netiso_cidr_hash, netiso_cidr_equal_func, g_free, g_free);
        d->published = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                             (GDestroyNotify)netiso_cluster_guest_free);
        d->pending = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                           (GDestroyNotify)netiso_pending_claim_free);
        d->changed = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        if (!netiso_cluster_ensure_dir(config->state_dir, error))
                return NULL;
        /* What a previous run installed: the first flush replaces it whole. */
        d->installed = netiso_remote_load(config->state_dir, &problems, NULL);
        if (!d->installed)
                d->installed = netiso_remote_new();
        d->resync = TRUE;
        if (!netiso_cluster_publish_start(d, error) || !netiso_cluster_server_start(d, error))
                return NULL;
        netiso_lifecycle_set_claimer(netiso_cluster_claim_in_process, d);
        netiso_cluster_log(LOG_INFO, "start", "watching",
                           "node %s, prefix %s, etcd %s (lease ttl %u s)", d->cc->node,
                           d->cc->prefix, (const char *)g_ptr_array_index(d->cc->endpoints, 0),
                           d->cc->lease_ttl);
        netiso_cluster_schedule_connect(d, 0);
        return g_steal_pointer(&d);
}

void
netiso_cluster_daemon_free(NetisoClusterDaemon *d)
{
        if (!d)
                return;
        netiso_lifecycle_set_claimer(NULL, NULL);
        netiso_cluster_server_stop(d);
        netiso_cluster_publish_stop(d);
        netiso_cluster_follow_stop(d);
        if (d->connect_source)
                g_source_remove(d->connect_source);
        if (d->etcd)
                session_close(d, /* revoke */ TRUE);
        g_clear_pointer(&d->etcd, netiso_etcd_free);
        g_clear_pointer(&d->pending, g_hash_table_unref);
        g_clear_pointer(&d->installed, netiso_remote_free);
        g_clear_pointer(&d->dirty, g_hash_table_unref);
        g_clear_pointer(&d->local, g_hash_table_unref);
        g_clear_pointer(&d->local_addrs, g_hash_table_unref);
        g_clear_pointer(&d->published, g_hash_table_unref);
        g_clear_pointer(&d->changed, g_hash_table_unref);
        g_free(d->last_error);
        g_free(d);
}

static gboolean
same_strings(const GPtrArray *a, const GPtrArray *b)
{
        if (a->len != b->len)
                return FALSE;
        for (guint i = 0; i < a->len; i++)
                if (g_strcmp0(a->pdata[i], b->pdata[i]) != 0)
                        return FALSE;
        return TRUE;
}

/* What the session, its lease and the keys depend on. */
static gboolean
same_identity(const NetisoClusterConfig *a, const NetisoClusterConfig *b)
{
        return same_strings(a->endpoints, b->endpoints) && g_str_equal(a->node, b->node) &&
               g_str_equal(a->prefix, b->prefix) && g_strcmp0(a->ca_file, b->ca_file) == 0 &&
               g_strcmp0(a->cert_file, b->cert_file) == 0 &&
               g_strcmp0(a->key_file, b->key_file) == 0 && a->lease_ttl == b->lease_ttl &&
               a->claim_timeout_ms == b->claim_timeout_ms;
}

static gboolean
same_networks(const GArray *a, const GArray *b)
{
        if (a->len != b->len)
                return FALSE;
        for (guint i = 0; i < a->len; i++)
                if (!netiso_cidr_equal(&g_array_index(a, NetisoCidr, i),
                                       &g_array_index(b, NetisoCidr, i)))
                        return FALSE;
        return TRUE;
}

void
netiso_cluster_daemon_update(NetisoClusterDaemon **daemon, const NetisoConfig *config)
{
        NetisoClusterDaemon *d = *daemon;
        g_autoptr(GError) error = NULL;
        gboolean networks;

        if (d && (!config->cluster || !same_identity(d->cc, config->cluster) ||
                  g_strcmp0(d->config->state_dir, config->state_dir) != 0)) {
                netiso_cluster_log(LOG_NOTICE, "reload", "restarting",
                                   "the cluster table changed: leaving etcd and joining again");
                g_clear_pointer(daemon, netiso_cluster_daemon_free);
                d = NULL;
        }
        if (!d) {
                if (config->cluster && !(*daemon = netiso_cluster_daemon_new(config, &error)))
                        netiso_cluster_log(LOG_ERR, "reload", "failed", "%s", error->message);
                return;
        }
        /* The same session: keep the lease, render the remote addresses for
         * the new rules, and read everything again if what a valid record
         * is (the VM networks) changed. */
        networks = same_networks(d->config->vm_networks, config->vm_networks);
        d->config = config;
        d->cc = config->cluster;
        if (!networks) {
                netiso_cluster_follow_stop(d);
                netiso_cluster_schedule_connect(d, 0);
        }
        netiso_cluster_schedule_flush(d, /* resync */ TRUE);
        netiso_cluster_schedule_publish(d, /* full_pass */ TRUE);
}
