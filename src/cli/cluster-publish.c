/* Publishing this host's guests from the hook's records: a GFileMonitor
 * (inotify) on STATE_DIR/domains sees a record written or removed at once,
 * libvirtd or not; a record claims its guest's addresses and publishes it
 * under the host's lease, a removed one releases what this host still owns
 * (after a migration the new host's claims stay). Claims asked by hooks
 * are made here too, before their record exists. */
#include "autoconfig.h"

#include <string.h>

#include "cli/cluster-private.h"
#include "core/state.h"
#include "util/error.h"

static char *
domains_dir(const NetisoClusterDaemon *d)
{
        return g_build_filename(d->config->state_dir, "domains", NULL);
}

NetisoClusterGuest *
netiso_cluster_guest_for(const NetisoClusterDaemon *d, const char *uuid, const char *name,
                         const char *tenant, const GArray *addresses)
{
        NetisoClusterGuest *guest = netiso_cluster_guest_new(d->cc->node, uuid, name, tenant);

        /* Only the VM networks are the cluster's: other hosts refuse records
         * with any other address, and claims are about guest addresses. */
        for (guint i = 0; addresses && i < addresses->len; i++) {
                const NetisoCidr *a = &g_array_index(addresses, NetisoCidr, i);
                for (guint n = 0; n < d->config->vm_networks->len; n++) {
                        if (netiso_cidr_contains(
                                    &g_array_index(d->config->vm_networks, NetisoCidr, n), a)) {
                                g_array_append_val(guest->addresses, *a);
                                break;
                        }
                }
        }
        netiso_cluster_guest_normalize(guest);
        return guest;
}

static NetisoClusterGuest *
guest_of_record(const NetisoClusterDaemon *d, const NetisoRecord *record)
{
        g_autoptr(GArray) addresses = g_array_new(FALSE, FALSE, sizeof(NetisoCidr));

        for (guint i = 0; i < record->ports->len; i++) {
                const NetisoRecordPort *p = g_ptr_array_index(record->ports, i);
                g_array_append_vals(addresses, p->addresses->data, p->addresses->len);
        }
        return netiso_cluster_guest_for(d, record->uuid, record->domain, record->tenant, addresses);
}

/* ---- claims and releases ---- */

static gboolean
claim(NetisoClusterDaemon *d, const NetisoClusterGuest *guest, NetisoClaimReport *report,
      GError **error)
{
        if (!netiso_cluster_session_up(d)) {
                g_set_error(error, NETISO_CLUSTER_ERROR, NETISO_CLUSTER_ERROR_UNAVAILABLE,
                            "not registered with etcd (%s)",
                            d->last_error ? d->last_error : "connecting");
                return FALSE;
        }
        if (netiso_cluster_claim(d->etcd, d->cc->prefix, guest, d->lease, report, error)) {
                netiso_cluster_note_ok(d);
                return TRUE;
        }
        if (g_error_matches(*error, NETISO_CLUSTER_ERROR, NETISO_CLUSTER_ERROR_UNAVAILABLE))
                netiso_cluster_note_error(d, *error);
        return FALSE;
}

static gboolean
release(NetisoClusterDaemon *d, const NetisoClusterGuest *guest, GError **error)
{
        if (!netiso_cluster_release(d->etcd, d->cc->prefix, guest, NULL, error)) {
                netiso_cluster_note_error(d, *error);
                return FALSE;
        }
        netiso_cluster_log(LOG_INFO, "unpublish", "released", "guest %s (%s) withdrawn",
                           guest->name, guest->uuid);
        return TRUE;
}

static NetisoClusterGuest *
local_by_uuid(NetisoClusterDaemon *d, const char *uuid, const char **ret_file)
{
        GHashTableIter it;
        gpointer file, guest;

        g_hash_table_iter_init(&it, d->local);
        while (g_hash_table_iter_next(&it, &file, &guest))
                if (g_str_equal(((NetisoClusterGuest *)guest)->uuid, uuid)) {
                        if (ret_file)
                                *ret_file = file;
                        return guest;
                }
        return NULL;
}

char *
netiso_cluster_claim_for_hook(NetisoClusterDaemon *d, const NetisoClusterGuest *guest)
{
        NetisoClaimReport report = { 0 };
        g_autoptr(GError) error = NULL;
        NetisoPendingClaim *pending;

        if (!claim(d, guest, &report, &error)) {
                gboolean conflict =
                        g_error_matches(error, NETISO_CLUSTER_ERROR, NETISO_CLUSTER_ERROR_CONFLICT);
                netiso_cluster_log(conflict ? LOG_ERR : LOG_WARNING, "claim",
                                   conflict ? "refused" : "failed", "guest %s (%s): %s",
                                   guest->name, guest->uuid, error->message);
                return g_strdup_printf("%s %s", conflict ? "conflict" : "unavailable",
                                       error->message);
        }
        /* Until its record shows up, the claim is this one: a record
         * removed meanwhile (the same guest's previous run) must not
         * release it. */
        pending = g_new0(NetisoPendingClaim, 1);
        pending->guest = netiso_cluster_guest_copy(guest);
        pending->expires_usec = g_get_monotonic_time() + NETISO_CLUSTER_PENDING_S * G_USEC_PER_SEC;
        pending->lease = report.lease;
        g_hash_table_replace(d->pending, g_strdup(guest->uuid), pending);
        if (!d->pending_source)
                netiso_cluster_schedule_publish(d, FALSE);
        netiso_cluster_log(LOG_INFO, "claim", "claimed",
                           "guest %s (%s, tenant %s): %u addresses new, %u moved here, %u kept",
                           guest->name, guest->uuid, guest->tenant, report.created, report.moved,
                           report.kept);
        return g_strdup_printf("ok created=%u moved=%u kept=%u", report.created, report.moved,
                               report.kept);
}

gboolean
netiso_cluster_claim_in_process(const NetisoConfig *config, const NetisoPolicy *policy,
                                gpointer data, GError **error)
{
        NetisoClusterDaemon *d = data;
        g_autoptr(GArray) addresses = g_array_new(FALSE, FALSE, sizeof(NetisoCidr));
        g_autoptr(NetisoClusterGuest) guest = NULL;
        g_autofree char *answer = NULL;

        if (!policy->uuid) {
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_POLICY,
                            "domain '%s' has no uuid: a cluster claims addresses by domain uuid",
                            policy->domain);
                return FALSE;
        }
        for (guint i = 0; i < policy->ports->len; i++) {
                const NetisoPolicyPort *p = g_ptr_array_index(policy->ports, i);
                g_array_append_vals(addresses, p->addresses->data, p->addresses->len);
        }
        guest = netiso_cluster_guest_for(d, policy->uuid, policy->domain, policy->tenant,
                                         addresses);
        answer = netiso_cluster_claim_for_hook(d, guest);
        if (g_str_has_prefix(answer, "ok"))
                return TRUE;
        /* watch installs retags and hot-plugs of running guests: a guest
         * already published here keeps its addresses while etcd is away. */
        if (!g_str_has_prefix(answer, "conflict")) {
                const NetisoClusterGuest *known = local_by_uuid(d, policy->uuid, NULL);
                gboolean all = known != NULL;
                for (guint i = 0; all && i < guest->addresses->len; i++) {
                        const NetisoCidr *a = &g_array_index(guest->addresses, NetisoCidr, i);
                        all = g_hash_table_contains(d->local_addrs, a);
                }
                if (all)
                        return TRUE;
        }
        g_set_error(error, NETISO_ERROR,
                    g_str_has_prefix(answer, "conflict") ? NETISO_ERROR_CONFLICT
                                                         : NETISO_ERROR_CLUSTER,
                    "cannot claim the addresses of domain '%s': %s", policy->domain,
                    strchr(answer, ' ') ? strchr(answer, ' ') + 1 : answer);
        return FALSE;
}

/* ---- the records ---- */

static void
local_set(NetisoClusterDaemon *d, const char *file, NetisoClusterGuest *guest)
{
        const NetisoClusterGuest *old = g_hash_table_lookup(d->local, file);

        for (guint i = 0; old && i < old->addresses->len; i++) {
                const NetisoCidr *a = &g_array_index(old->addresses, NetisoCidr, i);
                g_hash_table_remove(d->local_addrs, a);
                netiso_cluster_mark_dirty(d, a);
        }
        if (!guest) {
                g_hash_table_remove(d->local, file);
                return;
        }
        for (guint i = 0; i < guest->addresses->len; i++) {
                const NetisoCidr *a = &g_array_index(guest->addresses, NetisoCidr, i);
                g_hash_table_replace(d->local_addrs, g_memdup2(a, sizeof(*a)), g_strdup(file));
                netiso_cluster_mark_dirty(d, a);
        }
        g_hash_table_replace(d->local, g_strdup(file), guest);
}

/* The record as it is on disk now: NULL when gone (or unusable). */
static NetisoClusterGuest *
read_record(NetisoClusterDaemon *d, const char *file)
{
        g_autofree char *dir = domains_dir(d);
        g_autofree char *path = g_build_filename(dir, file, NULL);
        g_autofree char *data = NULL;
        g_autoptr(NetisoRecord) record = NULL;
        g_autoptr(GError) error = NULL;
        gsize len = 0;

        if (!g_file_get_contents(path, &data, &len, NULL))
                return NULL;
        record = netiso_record_new_from_data(path, data, len, &error);
        if (!record) {
                netiso_cluster_log(LOG_WARNING, "publish", "refused", "%s", error->message);
                return NULL;
        }
        if (!record->uuid) {
                netiso_cluster_log(LOG_WARNING, "publish", "refused",
                                   "domain '%s' has no uuid: not published", record->domain);
                return NULL;
        }
        return guest_of_record(d, record);
}

/* Bring etcd in step with one record file, now (as read, NULL when gone).
 * FALSE when etcd cannot be reached (the pass stops; the file is looked at
 * again once it answers). */
static gboolean
publish_one(NetisoClusterDaemon *d, const char *file, const NetisoClusterGuest *now)
{
        const NetisoClusterGuest *was = g_hash_table_lookup(d->published, file);
        NetisoPendingClaim *p = now ? g_hash_table_lookup(d->pending, now->uuid) : NULL;
        g_autoptr(GError) error = NULL;
        NetisoClaimReport report = { 0 };

        if (was && (!now || !g_str_equal(was->uuid, now->uuid))) {
                /* A hook claimed it again for the next run: keep it. */
                if (!g_hash_table_contains(d->pending, was->uuid) && !release(d, was, &error))
                        return FALSE;
                g_hash_table_remove(d->published, file);
                was = NULL;
        }
        if (!now)
                return TRUE;
        if (was && netiso_cluster_guest_equal(was, now))
                return TRUE;
        /* The hook's claim published exactly this under the current lease. */
        if (!(p && p->lease == d->lease && netiso_cluster_guest_equal(p->guest, now))) {
                if (!claim(d, now, &report, &error)) {
                        gboolean unavailable = g_error_matches(error, NETISO_CLUSTER_ERROR,
                                                               NETISO_CLUSTER_ERROR_UNAVAILABLE);
                        netiso_cluster_log(LOG_ERR, "publish", unavailable ? "failed" : "conflict",
                                           "guest %s (%s) runs here but %s", now->name, now->uuid,
                                           error->message);
                        return !unavailable;
                }
        }
        g_hash_table_remove(d->pending, now->uuid);
        netiso_cluster_log(LOG_INFO, "publish", "published",
                           "guest %s (%s, tenant %s, %u addresses)", now->name, now->uuid,
                           now->tenant, now->addresses->len);
        g_hash_table_replace(d->published, g_strdup(file), netiso_cluster_guest_copy(now));
        return TRUE;
}

/* Guests etcd lists for this host that no record or fresh claim backs: a
 * release the hook could not make, or a run before this one. */
static gboolean
withdraw_stale(NetisoClusterDaemon *d)
{
        g_autoptr(GPtrArray) mine = NULL;

        /* What etcd lists for this host is known after the first full read. */
        if (!d->table || !d->followed)
                return FALSE;
        mine = netiso_membership_list_node(d->table, d->cc->node);
        for (guint i = 0; i < mine->len; i++) {
                const NetisoClusterGuest *g = g_ptr_array_index(mine, i);
                g_autoptr(GError) error = NULL;

                if (local_by_uuid(d, g->uuid, NULL) || g_hash_table_contains(d->pending, g->uuid))
                        continue;
                if (!release(d, g, &error))
                        return FALSE;
        }
        return TRUE;
}

static void
add_every_record(NetisoClusterDaemon *d)
{
        g_autofree char *dir = domains_dir(d);
        g_autoptr(GDir) dh = g_dir_open(dir, 0, NULL);
        GHashTableIter it;
        gpointer file;
        const char *name;

        while (dh && (name = g_dir_read_name(dh)))
                if (g_str_has_suffix(name, ".state"))
                        g_hash_table_add(d->changed, g_strdup(name));
        /* Records known but gone from the directory. */
        g_hash_table_iter_init(&it, d->local);
        while (g_hash_table_iter_next(&it, &file, NULL))
                g_hash_table_add(d->changed, g_strdup(file));
}

/* Claims made for hooks whose record never came (a refused install). */
static void
expire_pending(NetisoClusterDaemon *d)
{
        gint64 now = g_get_monotonic_time();
        g_autoptr(GPtrArray) expired = g_ptr_array_new_with_free_func(g_free);
        GHashTableIter it;
        gpointer key, value;

        g_hash_table_iter_init(&it, d->pending);
        while (g_hash_table_iter_next(&it, &key, &value))
                if (((NetisoPendingClaim *)value)->expires_usec <= now)
                        g_ptr_array_add(expired, g_strdup(key));
        for (guint i = 0; i < expired->len; i++) {
                const char *uuid = g_ptr_array_index(expired, i);
                NetisoPendingClaim *p = g_hash_table_lookup(d->pending, uuid);
                g_autoptr(GError) error = NULL;

                if (!local_by_uuid(d, uuid, NULL) && netiso_cluster_session_up(d) &&
                    !release(d, p->guest, &error))
                        continue; /* tried again later */
                g_hash_table_remove(d->pending, uuid);
        }
}

static gboolean
publish_run(gpointer data)
{
        NetisoClusterDaemon *d = data;
        g_autoptr(GList) files = NULL;
        gboolean up;

        d->publish_source = 0;
        if (d->full_pass)
                add_every_record(d);
        files = g_list_sort(g_hash_table_get_keys(d->changed), (GCompareFunc)g_strcmp0);
        /* The records' addresses first, etcd or not: they are never remote here. */
        for (GList *l = files; l; l = l->next)
                local_set(d, l->data, read_record(d, l->data));
        up = netiso_cluster_session_up(d);
        for (GList *l = files; l && up; l = l->next) {
                const NetisoClusterGuest *now = g_hash_table_lookup(d->local, l->data);
                up = publish_one(d, l->data, now);
                if (up)
                        g_hash_table_remove(d->changed, l->data);
        }
        if (up && d->full_pass && withdraw_stale(d))
                d->full_pass = FALSE;
        expire_pending(d);
        return G_SOURCE_REMOVE;
}

static gboolean
on_pending_tick(gpointer data)
{
        NetisoClusterDaemon *d = data;

        expire_pending(d);
        if (g_hash_table_size(d->pending) == 0) {
                d->pending_source = 0;
                return G_SOURCE_REMOVE;
        }
        return G_SOURCE_CONTINUE;
}

void
netiso_cluster_schedule_publish(NetisoClusterDaemon *d, gboolean full_pass)
{
        d->full_pass |= full_pass;
        if (!d->publish_source)
                d->publish_source = g_idle_add(publish_run, d);
        if (!d->pending_source && g_hash_table_size(d->pending))
                d->pending_source = g_timeout_add_seconds(5, on_pending_tick, d);
}

static void
note_file(NetisoClusterDaemon *d, GFile *file)
{
        g_autofree char *name = file ? g_file_get_basename(file) : NULL;

        if (name && g_str_has_suffix(name, ".state"))
                g_hash_table_add(d->changed, g_steal_pointer(&name));
}

static void
on_records_changed(GFileMonitor *monitor, GFile *file, GFile *other, GFileMonitorEvent event,
                   gpointer data)
{
        NetisoClusterDaemon *d = data;

        if (event == G_FILE_MONITOR_EVENT_CHANGES_DONE_HINT ||
            event == G_FILE_MONITOR_EVENT_ATTRIBUTE_CHANGED)
                return;
        note_file(d, file);
        note_file(d, other);
        if (g_hash_table_size(d->changed))
                netiso_cluster_schedule_publish(d, FALSE);
}

void
netiso_cluster_owners_changed(NetisoClusterDaemon *d, const GPtrArray *owner_changes)
{
        for (guint i = 0; i < owner_changes->len; i++) {
                const NetisoClusterKey *owner = g_ptr_array_index(owner_changes, i);
                const char *file = g_hash_table_lookup(d->local_addrs, &owner->addr);
                const NetisoClusterGuest *mine = file ? g_hash_table_lookup(d->local, file) : NULL;
                g_autofree char *addr = NULL;

                if (!mine)
                        continue;
                if (!owner->node) {
                        /* Released by someone else (a failed migration's
                         * destination): a guest running here claims it back. */
                        g_hash_table_remove(d->published, file);
                        g_hash_table_add(d->changed, g_strdup(file));
                        netiso_cluster_schedule_publish(d, FALSE);
                } else if (!g_str_equal(owner->uuid, mine->uuid)) {
                        addr = netiso_cidr_to_string(&owner->addr, FALSE);
                        netiso_cluster_log(LOG_ERR, "publish", "conflict",
                                           "address %s of guest %s running here is now owned by "
                                           "guest %s on host %s",
                                           addr, mine->name, owner->uuid, owner->node);
                }
        }
}

gboolean
netiso_cluster_publish_start(NetisoClusterDaemon *d, GError **error)
{
        g_autofree char *dir = domains_dir(d);
        g_autoptr(GFile) gdir = g_file_new_for_path(dir);
        g_autoptr(GError) local = NULL;

        if (!netiso_state_ensure_dir(d->config->state_dir, error))
                return FALSE;
        d->monitor = g_file_monitor_directory(gdir, G_FILE_MONITOR_WATCH_MOVES, NULL, &local);
        if (!d->monitor) {
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_STATE, "%s: cannot watch: %s", dir,
                            local->message);
                return FALSE;
        }
        g_signal_connect(d->monitor, "changed", G_CALLBACK(on_records_changed), d);
        /* The records now, so that their addresses are never remote here. */
        add_every_record(d);
        netiso_cluster_schedule_publish(d, /* full_pass */ TRUE);
        return TRUE;
}

void
netiso_cluster_publish_stop(NetisoClusterDaemon *d)
{
        if (d->monitor) {
                g_signal_handlers_disconnect_by_data(d->monitor, d);
                g_file_monitor_cancel(d->monitor);
        }
        g_clear_object(&d->monitor);
        if (d->publish_source)
                g_source_remove(d->publish_source);
        if (d->pending_source)
                g_source_remove(d->pending_source);
        d->publish_source = d->pending_source = 0;
}
