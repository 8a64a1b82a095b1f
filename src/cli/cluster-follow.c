/* Following the other hosts: one full read of the prefix, then an etcd watch
 * from the next revision (resumed by the client after a disconnect, read
 * again whole after a compaction); each batch's address changes become one
 * nftables transaction on the remote maps (nft/nft-remote.h), recorded in
 * the journal every sync reads (core/remote.h). While etcd is away nothing
 * is removed: the last known state stays. */
#include "autoconfig.h"

#include <malloc.h>
#include <string.h>

#include "cli/cluster-private.h"
#include "cli/watch.h"
#include "core/state.h"
#include "nft/nft-lib.h"
#include "nft/nft-remote.h"
#include "nft/nft-skeleton.h"

#define LOCK_TIMEOUT_MS 5000

static void on_watch(NetisoEtcdWatch *watch, const NetisoEtcdWatchUpdate *update, gpointer data);

static void
log_problems(const NetisoMembershipDelta *delta)
{
        for (guint i = 0; i < delta->problems->len; i++)
                netiso_cluster_log(LOG_WARNING, "follow", "refused", "%s",
                                   (const char *)g_ptr_array_index(delta->problems, i));
        for (guint i = 0; i < delta->hosts_up->len; i++)
                netiso_cluster_log(LOG_INFO, "follow", "host-up", "host %s joined",
                                   (const char *)g_ptr_array_index(delta->hosts_up, i));
        for (guint i = 0; i < delta->hosts_down->len; i++)
                netiso_cluster_log(LOG_NOTICE, "follow", "host-down",
                                   "host %s left (its lease ended): its guests are removed",
                                   (const char *)g_ptr_array_index(delta->hosts_down, i));
}

static void
on_delta(NetisoClusterDaemon *d, const NetisoMembershipDelta *delta)
{
        log_problems(delta);
        for (guint i = 0; i < delta->addr_changes->len; i++)
                netiso_cluster_mark_dirty(
                        d, &g_array_index(delta->addr_changes, NetisoMembershipAddrChange, i).addr);
        if (delta->owner_changes->len)
                netiso_cluster_owners_changed(d, delta->owner_changes);
        d->applied_usec = g_get_real_time();
}

/* The full read: every host and guest key under the prefix, page by page
 * at the revision of the first page (no answer is huge, none waits on a
 * short deadline, the main loop never blocks), then the table reset to it
 * and the watch (re)started from the next revision. Owner keys are not
 * read: only their changes matter, and the watch brings those. */
#define PAGE_KEYS 1000
#define READ_TIMEOUT_MS 15000

struct NetisoClusterRead {
        NetisoClusterDaemon *d; /* NULL once the daemon stopped it */
        GCancellable *cancel;
        GPtrArray *kvs;
        gint64 revision; /* 0 until the first page pins it */
        guint part;      /* 0: hosts/, 1: guests/ */
        char *next;      /* where the next page starts */
        char *last;      /* the last key read: a page starting with it repeats it */
        gint64 started_usec;
};

static const char *const parts[] = { "hosts/", "guests/" };

static void read_page(NetisoClusterRead *r);

static void
read_free(NetisoClusterRead *r)
{
        g_object_unref(r->cancel);
        g_ptr_array_unref(r->kvs);
        g_free(r->next);
        g_free(r->last);
        g_free(r);
}

static void
read_done(NetisoClusterRead *r)
{
        NetisoClusterDaemon *d = r->d;
        g_autoptr(NetisoMembershipDelta) delta =
                netiso_membership_reset(d->table, r->kvs, r->revision);
        g_autofree char *end = netiso_etcd_prefix_end(d->cc->prefix);
        gint64 next = r->revision + 1;

        d->reading = NULL;
        d->etcd_revision = MAX(d->etcd_revision, r->revision);
        d->heard_usec = g_get_real_time();
        on_delta(d, delta);
        netiso_cluster_log(LOG_INFO, "follow", "following",
                           "read %s at revision %" G_GINT64_FORMAT " in %" G_GINT64_FORMAT
                           " ms: %u hosts, %u guests of other hosts",
                           d->cc->prefix, r->revision,
                           (g_get_monotonic_time() - r->started_usec) / 1000,
                           netiso_membership_count_hosts(d->table),
                           netiso_membership_count_remote_guests(d->table));
        read_free(r);
        if (d->watch) {
                netiso_etcd_watch_restart(d->watch, next);
        } else {
                d->watch = netiso_etcd_watch_new(d->etcd, d->cc->prefix, end, next, on_watch, d);
                /* A stream nothing arrives on is taken anew (on the next member):
                 * with TLS, libsoup never reports the end of a stream whose
                 * member was killed (tests/cluster/hosts-etcd-cluster.sh). etcd's
                 * progress notifications, when configured below this, keep a
                 * quiet stream from being taken for a dead one. */
                netiso_etcd_watch_set_idle_timeout(d->watch, CLAMP(3 * d->cc->lease_ttl, 10, 60));
        }
        if (!d->followed) {
                /* The first full read replaces whatever an earlier run installed. */
                d->followed = TRUE;
                netiso_cluster_schedule_flush(d, /* resync */ TRUE);
                netiso_cluster_schedule_publish(d, /* full_pass */ TRUE);
        }
}

static void
on_page(GObject *source, GAsyncResult *result, gpointer data)
{
        NetisoClusterRead *r = data;
        NetisoClusterDaemon *d = r->d;
        g_autoptr(GError) error = NULL;
        g_autoptr(NetisoEtcdRange) range =
                d ? netiso_etcd_range_finish(d->etcd, result, &error) : NULL;
        guint skip = 0;

        if (!d) {
                read_free(r);
                return;
        }
        if (!range) {
                d->reading = NULL;
                read_free(r);
                netiso_cluster_note_error(d, error);
                /* A revision compacted under us, or etcd away: all again soon. */
                netiso_cluster_schedule_connect(d, 1000);
                return;
        }
        if (!r->revision)
                r->revision = range->revision;
        if (r->last && range->kvs->len &&
            g_str_equal(((NetisoEtcdKv *)g_ptr_array_index(range->kvs, 0))->key, r->last))
                skip = 1;
        if (range->kvs->len > skip) {
                g_free(r->last);
                r->last = g_strdup(
                        ((NetisoEtcdKv *)g_ptr_array_index(range->kvs, range->kvs->len - 1))->key);
        }
        for (guint i = skip; i < range->kvs->len; i++)
                g_ptr_array_add(r->kvs, g_steal_pointer(&range->kvs->pdata[i]));
        if (range->more && range->kvs->len > skip) {
                g_free(r->next);
                r->next = g_strdup(r->last);
        } else if (++r->part < G_N_ELEMENTS(parts)) {
                g_free(r->next);
                r->next = g_strconcat(d->cc->prefix, parts[r->part], NULL);
                g_clear_pointer(&r->last, g_free);
        } else {
                read_done(r);
                return;
        }
        read_page(r);
}

static void
read_page(NetisoClusterRead *r)
{
        g_autofree char *part = g_strconcat(r->d->cc->prefix, parts[r->part], NULL);
        g_autofree char *end = netiso_etcd_prefix_end(part);

        netiso_etcd_range_page_async(r->d->etcd, r->next, end, r->revision, PAGE_KEYS + 1,
                                     READ_TIMEOUT_MS, r->cancel, on_page, r);
}

static void
read_start(NetisoClusterDaemon *d)
{
        NetisoClusterRead *r = g_new0(NetisoClusterRead, 1);

        r->d = d;
        r->cancel = g_cancellable_new();
        r->kvs = g_ptr_array_new_with_free_func((GDestroyNotify)netiso_etcd_kv_free);
        r->next = g_strconcat(d->cc->prefix, parts[0], NULL);
        r->started_usec = g_get_monotonic_time();
        d->reading = r;
        read_page(r);
}

gboolean
netiso_cluster_follow_start(NetisoClusterDaemon *d, GError **error)
{
        if (!d->table)
                d->table =
                        netiso_membership_new(d->cc->prefix, d->cc->node, d->config->vm_networks);
        if (!d->reading)
                read_start(d);
        return TRUE;
}

void
netiso_cluster_follow_stop(NetisoClusterDaemon *d)
{
        if (d->reading) {
                d->reading->d = NULL;
                g_cancellable_cancel(d->reading->cancel);
                d->reading = NULL;
        }
        g_clear_pointer(&d->watch, netiso_etcd_watch_free);
        if (d->flush_source)
                g_source_remove(d->flush_source);
        d->flush_source = 0;
        g_clear_pointer(&d->table, netiso_membership_free);
        d->connected = FALSE;
        d->followed = FALSE;
}

static void
on_watch(NetisoEtcdWatch *watch, const NetisoEtcdWatchUpdate *update, gpointer data)
{
        NetisoClusterDaemon *d = data;
        g_autoptr(NetisoMembershipDelta) delta = NULL;
        g_autoptr(GError) error = NULL;

        d->etcd_revision = MAX(d->etcd_revision, update->revision);
        switch (update->status) {
        case NETISO_ETCD_WATCH_CONNECTED:
                d->connected = TRUE;
                d->heard_usec = g_get_real_time();
                netiso_cluster_note_ok(d);
                break;
        case NETISO_ETCD_WATCH_EVENTS:
                d->heard_usec = g_get_real_time();
                delta = netiso_membership_apply(d->table, update->events);
                on_delta(d, delta);
                break;
        case NETISO_ETCD_WATCH_PROGRESS:
                d->heard_usec = g_get_real_time();
                break;
        case NETISO_ETCD_WATCH_DISCONNECTED:
                /* The client resumes from its next revision by itself. A quiet
                 * stream renewed (no progress notifications) is no failure. */
                d->connected = FALSE;
                if (strstr(update->error->message, "watch silent for"))
                        g_debug("cluster: %s: renewing the watch", update->error->message);
                else
                        netiso_cluster_note_error(d, update->error);
                break;
        case NETISO_ETCD_WATCH_COMPACTED:
        default:
                /* The watch waits for netiso_etcd_watch_restart() after the read. */
                netiso_cluster_log(LOG_NOTICE, "follow", "resync",
                                   "etcd compacted past revision %" G_GINT64_FORMAT
                                   ": reading everything again",
                                   netiso_membership_get_revision(d->table));
                if (!d->reading)
                        read_start(d);
                break;
        }
}

/* ---- the firewall ---- */

void
netiso_cluster_mark_dirty(NetisoClusterDaemon *d, const NetisoCidr *addr)
{
        g_hash_table_add(d->dirty, g_memdup2(addr, sizeof(*addr)));
        netiso_cluster_schedule_flush(d, /* resync */ FALSE);
}

/* What should be installed for addr: a remote guest's, unless a local
 * record holds the address (a guest of this host is never remote here). */
static gboolean
desired(const NetisoClusterDaemon *d, const NetisoCidr *addr, NetisoRemoteAddr *ret)
{
        const NetisoClusterGuest *guest;
        const char *tenant;

        if (!d->table || g_hash_table_contains(d->local_addrs, addr))
                return FALSE;
        tenant = netiso_membership_lookup(d->table, addr);
        guest = netiso_membership_lookup_guest(d->table, addr);
        if (!tenant || !guest)
                return FALSE;
        *ret = (NetisoRemoteAddr){ .addr = *addr,
                                   .tenant = (char *)tenant,
                                   .node = guest->node,
                                   .uuid = guest->uuid,
                                   .name = guest->name };
        return TRUE;
}

static gboolean
same_entry(const NetisoRemoteAddr *a, const NetisoRemoteAddr *b)
{
        return g_str_equal(a->tenant, b->tenant) && g_str_equal(a->node, b->node) &&
               g_str_equal(a->uuid, b->uuid) && g_str_equal(a->name, b->name);
}

/* Every remote address of the table, as it should be installed. */
static NetisoRemote *
desired_all(const NetisoClusterDaemon *d)
{
        NetisoRemote *want = netiso_remote_new();
        g_autoptr(GPtrArray) guests = NULL;

        if (!d->table)
                return want;
        guests = netiso_membership_list_remote(d->table);
        for (guint i = 0; i < guests->len; i++) {
                const NetisoClusterGuest *g = g_ptr_array_index(guests, i);
                for (guint a = 0; a < g->addresses->len; a++) {
                        const NetisoCidr *addr = &g_array_index(g->addresses, NetisoCidr, a);
                        NetisoRemoteAddr e;
                        if (desired(d, addr, &e))
                                netiso_remote_set(want, addr, &e);
                }
        }
        return want;
}

static void
collect_tenants(const NetisoRemote *remote, GHashTable *into)
{
        GHashTableIter it;
        gpointer tenant;

        g_hash_table_iter_init(&it, netiso_remote_tenants(remote));
        while (g_hash_table_iter_next(&it, &tenant, NULL))
                g_hash_table_add(into, g_strdup(tenant));
}

/* Tenants that had remote addresses and have none now lose their chains. */
static void
gc_tenants(NetisoClusterDaemon *d, NetisoFirewall *fw, GHashTable *before)
{
        GHashTableIter it;
        gpointer tenant;

        g_hash_table_iter_init(&it, before);
        while (g_hash_table_iter_next(&it, &tenant, NULL))
                if (!g_hash_table_contains(netiso_remote_tenants(d->installed), tenant))
                        netiso_nft_remote_gc(fw, tenant);
}

/* Everything replaced in one transaction: at start, after a failed batch,
 * after a reload. */
static gboolean
flush_all(NetisoClusterDaemon *d, NetisoFirewall *fw, GArray *revoked, GError **error)
{
        g_autoptr(NetisoRemote) want = desired_all(d);
        g_autoptr(GString) batch = g_string_new("add table inet " NETISO_NFT_TABLE "\n");
        g_autoptr(GHashTable) before = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        GPtrArray *old = netiso_remote_list(d->installed);

        collect_tenants(d->installed, before);
        netiso_nft_render_remote_all(batch, d->config, want, /* flush */ TRUE);
        if (!netiso_nft_run(fw, batch->str, error))
                return FALSE;
        for (guint i = 0; i < old->len; i++) {
                const NetisoRemoteAddr *e = g_ptr_array_index(old, i);
                const NetisoRemoteAddr *now = netiso_remote_lookup(want, &e->addr);
                if (!now || !g_str_equal(now->tenant, e->tenant))
                        g_array_append_val(revoked, e->addr);
        }
        netiso_remote_free(d->installed);
        d->installed = g_steal_pointer(&want);
        if (!netiso_remote_rewrite(d->installed, d->config->state_dir, error))
                return FALSE;
        gc_tenants(d, fw, before);
        /* A full batch (its text, libnftables' parse) is the daemon's peak:
         * give it back rather than keep it for the next one. */
        malloc_trim(0);
        return TRUE;
}

/* The dirty addresses in one transaction. The journal forgets an address
 * before the commit and learns its new state after it, so that a sync by
 * someone else never installs more than the kernel holds. */
static gboolean
flush_dirty(NetisoClusterDaemon *d, NetisoFirewall *fw, GArray *revoked, GError **error)
{
        g_autoptr(GString) batch = g_string_new("add table inet " NETISO_NFT_TABLE "\n");
        g_autoptr(GHashTable) tenants = g_hash_table_new(g_str_hash, g_str_equal);
        g_autoptr(GHashTable) before = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        g_autoptr(GArray) changed = g_array_new(FALSE, FALSE, sizeof(NetisoCidr));
        g_autoptr(GArray) forgotten = g_array_new(FALSE, FALSE, sizeof(NetisoCidr));
        g_autoptr(NetisoRemote) after = netiso_remote_new();
        GHashTableIter it;
        gpointer key;

        netiso_nft_render_remote_maps(batch);
        g_hash_table_iter_init(&it, d->dirty);
        while (g_hash_table_iter_next(&it, &key, NULL)) {
                const NetisoCidr *addr = key;
                const NetisoRemoteAddr *old = netiso_remote_lookup(d->installed, addr);
                NetisoRemoteAddr want;
                gboolean has = desired(d, addr, &want);

                if (has && old && same_entry(old, &want))
                        continue;
                if (has)
                        netiso_remote_set(after, addr, &want);
                g_array_append_val(changed, *addr);
                if (old) {
                        g_hash_table_add(before, g_strdup(old->tenant));
                        g_array_append_val(forgotten, *addr);
                }
                if (has && !g_hash_table_contains(tenants, want.tenant)) {
                        g_hash_table_add(tenants, (gpointer)want.tenant);
                        netiso_nft_render_remote_tenant(batch, d->config, want.tenant);
                }
                netiso_nft_render_remote_change(batch, addr, old ? old->tenant : NULL,
                                                has ? want.tenant : NULL);
                if (old && (!has || !g_str_equal(old->tenant, want.tenant)))
                        g_array_append_val(revoked, *addr);
        }
        if (changed->len == 0)
                return TRUE;
        for (guint i = 0; i < forgotten->len; i++)
                netiso_remote_set(d->installed, &g_array_index(forgotten, NetisoCidr, i), NULL);
        if (forgotten->len &&
            !netiso_remote_journal(d->installed, d->config->state_dir, forgotten, error))
                return FALSE;
        if (!netiso_nft_run(fw, batch->str, error))
                return FALSE;
        for (guint i = 0; i < changed->len; i++) {
                const NetisoCidr *addr = &g_array_index(changed, NetisoCidr, i);
                netiso_remote_set(d->installed, addr, netiso_remote_lookup(after, addr));
        }
        if (!netiso_remote_journal(d->installed, d->config->state_dir, changed, error))
                return FALSE;
        gc_tenants(d, fw, before);
        return TRUE;
}

/* Benchmarks (bench/cluster.sh): BLIXARD_NETISO_CLUSTER_TRACE=FILE gets a
 * line "USEC ADDRESS" per remote address a committed batch installed, and
 * "USEC resync N" after a full one: the wall clock, to compare with the
 * moment another host started the guest. */
static void
trace(NetisoClusterDaemon *d, gboolean committed)
{
        const char *path = g_getenv("BLIXARD_NETISO_CLUSTER_TRACE");
        g_autoptr(GString) out = NULL;
        gint64 now = g_get_real_time();
        GHashTableIter it;
        gpointer key;
        FILE *f;

        if (!path || !*path || !committed)
                return;
        out = g_string_new(NULL);
        if (d->resync)
                g_string_append_printf(out, "%" G_GINT64_FORMAT " resync %u\n", now,
                                       netiso_remote_size(d->installed));
        g_hash_table_iter_init(&it, d->dirty);
        while (!d->resync && g_hash_table_iter_next(&it, &key, NULL)) {
                g_autofree char *a = NULL;
                if (!netiso_remote_lookup(d->installed, key))
                        continue;
                a = netiso_cidr_to_string(key, FALSE);
                g_string_append_printf(out, "%" G_GINT64_FORMAT " %s\n", now, a);
        }
        f = fopen(path, "ae");
        if (!f)
                return;
        fputs(out->str, f);
        fclose(f);
}

static gboolean
flush(gpointer data)
{
        NetisoClusterDaemon *d = data;
        NetisoLogFields f = { .event = "cluster-apply" };
        g_autoptr(NetisoFirewall) fw = netiso_firewall_new(NETISO_FIREWALL_APPLY);
        g_autoptr(GArray) revoked = g_array_new(FALSE, FALSE, sizeof(NetisoCidr));
        g_autoptr(NetisoLock) lock = NULL;
        g_autoptr(GError) error = NULL;
        gboolean ok;

        d->flush_source = 0;
        /* Nothing is known yet: the previous state stays until the first read. */
        if (!d->followed)
                return G_SOURCE_REMOVE;
        lock = netiso_lock_acquire(d->config->state_dir, LOCK_TIMEOUT_MS, &error);
        if (!lock) {
                netiso_cluster_log(LOG_WARNING, "cluster-apply", "failed", "%s (retrying)",
                                   error->message);
                d->flush_source = g_timeout_add(200, flush, d);
                return G_SOURCE_REMOVE;
        }
        ok = d->resync ? FALSE : flush_dirty(d, fw, revoked, &error);
        if (!ok) {
                if (error)
                        netiso_cluster_log(LOG_WARNING, "cluster-apply", "resync",
                                           "%s: installing every remote address again",
                                           error->message);
                g_clear_error(&error);
                ok = flush_all(d, fw, revoked, &error);
        }
        d->batches++;
        if (!ok) {
                d->batch_failures++;
                netiso_cluster_log(LOG_ERR, "cluster-apply", "failed", "%s (retrying)",
                                   error->message);
                d->resync = TRUE;
                d->flush_source = g_timeout_add(1000, flush, d);
                return G_SOURCE_REMOVE;
        }
        trace(d, ok);
        d->resync = FALSE;
        g_hash_table_remove_all(d->dirty);
        g_clear_pointer(&lock, netiso_lock_release);
        f.outcome = "flows-ended";
        netiso_watch_end_flows(revoked, &f);
        return G_SOURCE_REMOVE;
}

void
netiso_cluster_schedule_flush(NetisoClusterDaemon *d, gboolean resync)
{
        d->resync |= resync;
        if (!d->flush_source)
                d->flush_source = g_idle_add(flush, d);
}
