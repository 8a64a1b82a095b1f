/* watch-firewall: restore the records' state when someone else changes our
 * objects. nf_tables tells who committed each batch (nft-monitor.c); our own
 * tools (the hook, this CLI, watch itself and the iptables-restore they run)
 * are left alone, anything else that touched our objects is undone from the
 * records: a small batch that ends the leak, then the guests' state. A
 * restore repairs every batch committed before it, so batches up to the
 * generation seen just before it are not acted on again: a storm of changes
 * costs one restore, and the notifications of the restore itself never start
 * another. A restore that fails is tried again, after 1 s, then up to 30 s. */
#include "autoconfig.h"

#include <linux/netfilter.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/nft-monitor.h"
#include "cli/watch-firewall.h"
#include "core/state.h"
#include "engine/inspectors.h"
#include "engine/reconcile.h"
#include "ipt/ipt-backend.h"
#include "ipt/ipt-render.h"
#include "ipt/ipt-restore.h"
#include "nft/nft-backend.h"
#include "util/error.h"
#include "util/log.h"

/* Hooks wait at most 20 s for the lock; so does watch. */
#define LOCK_TIMEOUT_MS 20000

struct NetisoWatchFirewall {
        const NetisoConfig *config;
        NetisoNftMonitor *monitor;
        guint timer;
        gboolean legacy;     /* iptables backend on x_tables: no notifications */
        gboolean have_gen;   /* covered_gen and self_gen are known */
        guint32 covered_gen; /* batches up to this one were repaired by a restore */
        guint32 self_gen;    /* the last generation our own restore committed */
        guint pending;       /* idle source of a scheduled restore or verify */
        gboolean pending_restore;
        guint pending_deleted; /* NetisoNftDeleted flags of the batches it covers */
        gint64 pending_since;  /* when the first of them was read; 0: none */
        char *last_failure;    /* a failure that repeats is logged once */
        guint retry_s;         /* the wait before the next try of a failed restore */
};

/* Process names of our own tools, as the kernel records them (15 characters
 * at most): the hook as installed in qemu.d and as built, and the CLI. */
static const char *const our_names[] = { "qemu-hook", "50-blixard-neti", "blixard-netiso" };

static gboolean
is_our_name(const char *comm)
{
        for (gsize i = 0; comm && i < G_N_ELEMENTS(our_names); i++)
                if (g_str_equal(comm, our_names[i]))
                        return TRUE;
        return FALSE;
}

static gboolean
is_our_thread(guint32 pid)
{
        g_autofree char *path = g_strdup_printf("/proc/self/task/%u", pid);

        return pid == (guint32)getpid() || g_file_test(path, G_FILE_TEST_EXISTS);
}

typedef enum { COMMITTER_OURS, COMMITTER_FOREIGN, COMMITTER_UNKNOWN } Committer;

/* The iptables backend commits through iptables-restore children, whose
 * parent tells. A child that is gone before it could be asked is unknown. */
static Committer
committer(const NetisoNftCommit *c)
{
        if (c->pid && is_our_thread(c->pid))
                return COMMITTER_OURS;
        if (is_our_name(c->comm))
                return COMMITTER_OURS;
        if (c->ppid && (c->ppid == (guint32)getpid() || is_our_name(c->parent_comm)))
                return COMMITTER_OURS;
        if (!c->ppid && c->comm &&
            (g_str_has_prefix(c->comm, "iptables") || g_str_has_prefix(c->comm, "ip6tables") ||
             g_str_has_prefix(c->comm, "xtables")))
                return COMMITTER_UNKNOWN;
        return COMMITTER_FOREIGN;
}

/* Generations wrap around; a difference tells the order. */
static gboolean
gen_at_most(guint32 gen, guint32 limit)
{
        return (gint32)(gen - limit) <= 0;
}

static void
log_failure(NetisoWatchFirewall *wf, const NetisoLogFields *f, const char *message)
{
        if (g_strcmp0(wf->last_failure, message) == 0)
                return;
        g_free(wf->last_failure);
        wf->last_failure = g_strdup(message);
        netiso_log(LOG_ERR, f, "%s", message);
}

static guint
watched(const NetisoWatchFirewall *wf)
{
        return wf->config->backend == NETISO_BACKEND_NFTABLES ? NETISO_NFT_TOUCHED_BLIXARD
                                                              : NETISO_NFT_TOUCHED_IPT;
}

static const char *
watched_name(const NetisoWatchFirewall *wf)
{
        return wf->config->backend == NETISO_BACKEND_NFTABLES ? "table inet blixard"
                                                              : "the iptables chains";
}

/* ---- restore and verify ---- */

static gboolean
load_nft(gpointer data, GPtrArray **ret_records, GPtrArray **ret_chains, GError **error)
{
        NetisoWatchFirewall *wf = data;

        *ret_records = netiso_state_list(wf->config->state_dir, NULL, error);
        if (!*ret_records)
                return FALSE;
        *ret_chains = netiso_nft_list_chains(NFPROTO_INET, NETISO_NFT_TABLE, error);
        return *ret_chains != NULL;
}

/* nftables: the skeleton first, then the guests' part in place, under the
 * lock (netiso_nft_restore()). */
static gboolean
restore_nft(NetisoWatchFirewall *wf, NetisoFirewall *fw, double *ret_skeleton_ms, GError **error)
{
        gint64 start = g_get_monotonic_time();
        g_autoptr(NetisoLock) lock =
                netiso_lock_acquire(wf->config->state_dir, LOCK_TIMEOUT_MS, error);
        double locked_ms = (double)(g_get_monotonic_time() - start) / 1000.0;
        gboolean ok;

        if (!lock)
                return FALSE;
        ok = netiso_nft_restore(fw, wf->config, load_nft, wf, ret_skeleton_ms, error);
        *ret_skeleton_ms += locked_ms;
        return ok;
}

/* iptables, for each family whose filter table was deleted whole (nft flush
 * ruleset): first our chains as they are with no guest, under the lock, one
 * small batch per family (from then on guest taps pass nothing), then the
 * rebuild from the records, whose time grows with the guests. A table that
 * was not deleted goes to the rebuild at once: the first batch assumes that
 * none of our chains exists, and is refused (harmlessly) when one does. */
static gboolean
restore_ipt(NetisoWatchFirewall *wf, NetisoFirewall *fw, guint deleted, double *ret_first_ms,
            GError **error)
{
        gint64 start = g_get_monotonic_time();
        static const guint flags[NETISO_IPT_FAMILIES] = { NETISO_NFT_DELETED_IP_FILTER,
                                                          NETISO_NFT_DELETED_IP6_FILTER };
        g_autoptr(NetisoLock) lock = NULL;
        g_autoptr(NetisoIptSet) none = netiso_ipt_set_new();

        if (deleted & (NETISO_NFT_DELETED_IP_FILTER | NETISO_NFT_DELETED_IP6_FILTER)) {
                lock = netiso_lock_acquire(wf->config->state_dir, LOCK_TIMEOUT_MS, error);
                if (!lock || !netiso_ipt_set_finish(none, error))
                        return FALSE;
        }
        for (gsize f = 0; lock && f < NETISO_IPT_FAMILIES; f++) {
                g_autoptr(GString) text = g_string_new(NULL);
                g_autoptr(GError) refused = NULL;

                if (!(deleted & flags[f]))
                        continue;
                netiso_ipt_batch_rebuild(text, wf->config, none, netiso_ipt_families[f].family,
                                         NULL);
                if (!netiso_ipt_restore(fw, netiso_ipt_families[f].restore, text->str, &refused)) {
                        NetisoLogFields lf = { .event = "nft-notify", .outcome = "incomplete" };
                        netiso_log(LOG_WARNING, &lf, "%s (the rebuild follows)", refused->message);
                }
                *ret_first_ms = (double)(g_get_monotonic_time() - start) / 1000.0;
        }
        g_clear_pointer(&lock, netiso_lock_release);
        return netiso_reconcile_from_records(wf->config, fw, error);
}

static double
ms_since(gint64 start)
{
        return (double)(g_get_monotonic_time() - start) / 1000.0;
}

static void retry(NetisoWatchFirewall *wf, guint deleted);

/* since: when the change was read (0: not from a notification). */
static void
restore(NetisoWatchFirewall *wf, const char *event, guint deleted, gint64 since)
{
        NetisoLogFields f = { .event = event, .outcome = "failed" };
        g_autoptr(NetisoFirewall) fw = netiso_firewall_new(NETISO_FIREWALL_APPLY);
        g_autoptr(GError) error = NULL;
        gint64 start = g_get_monotonic_time();
        guint32 before = 0;
        gboolean have_before = netiso_nft_current_generation(&before, NULL);
        gboolean nft = wf->config->backend == NETISO_BACKEND_NFTABLES;
        double skeleton_ms = 0;
        gboolean ok;

        ok = nft ? restore_nft(wf, fw, &skeleton_ms, &error)
                 : restore_ipt(wf, fw, deleted, &skeleton_ms, &error);
        if (!ok) {
                log_failure(wf, &f, error->message);
                retry(wf, deleted);
                return;
        }
        wf->retry_s = 0;
        wf->have_gen = have_before && netiso_nft_current_generation(&wf->self_gen, NULL);
        wf->covered_gen = before;
        g_clear_pointer(&wf->last_failure, g_free);
        f.outcome = "repaired";
        if (skeleton_ms > 0 && since)
                netiso_log(LOG_NOTICE, &f,
                           "restored %s from the records in %.1f ms (its shared rules and "
                           "fail-closed drops in the first %.1f ms, %.1f ms after the change "
                           "was read)",
                           watched_name(wf), ms_since(start), skeleton_ms,
                           (double)(start - since) / 1000.0 + skeleton_ms);
        else if (skeleton_ms > 0)
                netiso_log(LOG_NOTICE, &f,
                           "restored %s from the records in %.1f ms (its shared rules and "
                           "fail-closed drops in the first %.1f ms)",
                           watched_name(wf), ms_since(start), skeleton_ms);
        else
                netiso_log(LOG_NOTICE, &f, "restored %s from the records in %.1f ms",
                           watched_name(wf), ms_since(start));
}

void
netiso_watch_firewall_restore(NetisoWatchFirewall *wf, const char *event)
{
        restore(wf, event, 0, 0);
}

void
netiso_watch_firewall_verify(NetisoWatchFirewall *wf, const char *event)
{
        NetisoLogFields f = { .event = event };
        const NetisoBackendInspect *ops = netiso_backend_inspect(wf->config->backend);
        g_autoptr(NetisoFirewall) fw = netiso_firewall_new(NETISO_FIREWALL_APPLY);
        g_autoptr(GPtrArray) drift = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GPtrArray) records = NULL;
        g_autoptr(NetisoLock) lock = NULL;
        g_autoptr(GError) error = NULL;

        lock = netiso_lock_acquire(wf->config->state_dir, LOCK_TIMEOUT_MS, &error);
        if (lock)
                records = netiso_state_list(wf->config->state_dir, NULL, &error);
        if (!records || !ops->check(fw, wf->config, records, drift, &error)) {
                f.outcome = "failed";
                log_failure(wf, &f, error->message);
                return;
        }
        if (drift->len == 0)
                return;
        f.outcome = "drift";
        netiso_log(LOG_WARNING, &f, "%s: %s%s: restoring from the records", watched_name(wf),
                   (const char *)g_ptr_array_index(drift, 0), drift->len > 1 ? ", ..." : "");
        g_clear_pointer(&lock, netiso_lock_release);
        netiso_watch_firewall_restore(wf, event);
}

static gboolean
run_pending(gpointer data)
{
        NetisoWatchFirewall *wf = data;
        gboolean repair = wf->pending_restore;
        guint deleted = wf->pending_deleted;
        gint64 since = wf->pending_since;

        wf->pending = 0;
        wf->pending_restore = FALSE;
        wf->pending_deleted = 0;
        wf->pending_since = 0;
        if (repair)
                restore(wf, "nft-notify", deleted, since);
        else
                netiso_watch_firewall_verify(wf, "nft-notify");
        return G_SOURCE_REMOVE;
}

/* After every notice already queued (they come at a higher priority), so
 * that one restore covers them all; a restore wins over a verify. */
static void
schedule(NetisoWatchFirewall *wf, gboolean repair, guint deleted, gint64 since)
{
        if (!wf->pending_since || since < wf->pending_since)
                wf->pending_since = since;
        wf->pending_restore |= repair;
        wf->pending_deleted |= deleted;
        if (!wf->pending)
                wf->pending = g_idle_add_full(G_PRIORITY_DEFAULT, run_pending, wf, NULL);
}

/* A failed restore (the lock held too long, a refused batch) is tried
 * again after 1 s, then at most every 30 s. */
static void
retry(NetisoWatchFirewall *wf, guint deleted)
{
        wf->retry_s = wf->retry_s ? MIN(wf->retry_s * 2, 30) : 1;
        wf->pending_restore = TRUE;
        wf->pending_deleted |= deleted;
        if (!wf->pending)
                wf->pending = g_timeout_add_seconds(wf->retry_s, run_pending, wf);
}

/* ---- notifications ---- */

static void
on_commit(const NetisoNftCommit *c, gpointer data)
{
        NetisoWatchFirewall *wf = data;
        NetisoLogFields f = { .event = "nft-notify", .outcome = "drift" };
        Committer who = committer(c);
        g_autofree char *more = NULL;

        if (!(c->touched & watched(wf)) || wf->legacy)
                return;
        if (c->lost) {
                /* Unknown changes: compare, since the flood may be our own. */
                netiso_log(LOG_WARNING, &f, "%s: checking %s against the records", c->what,
                           watched_name(wf));
                schedule(wf, /* repair */ FALSE, 0, c->received);
                return;
        }
        if (wf->have_gen && gen_at_most(c->gen, wf->covered_gen))
                return; /* committed before the last restore, which repaired it */
        if (who == COMMITTER_OURS)
                return;
        if (who == COMMITTER_UNKNOWN && wf->have_gen && gen_at_most(c->gen, wf->self_gen))
                return; /* the last restore's own iptables-restore */
        if (c->changes > 1)
                more = g_strdup_printf(" and %u more changes", c->changes - 1);
        netiso_log(LOG_WARNING, &f, "%s by %s (pid %u)%s: restoring %s from the records", c->what,
                   c->comm ? c->comm : "an unknown process", c->pid, more ? more : "",
                   watched_name(wf));
        schedule(wf, /* repair */ TRUE, c->deleted, c->received);
}

/* ---- the timer, and iptables-legacy ---- */

static gboolean
on_timer(gpointer data)
{
        NetisoWatchFirewall *wf = data;
        NetisoLogFields f = { .event = "table-check" };
        const NetisoBackendInspect *ops = netiso_backend_inspect(wf->config->backend);
        g_autoptr(NetisoFirewall) fw = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *problem = NULL;

        /* iptables-legacy sends no notifications: the timer is all it has. */
        if (wf->legacy) {
                netiso_watch_firewall_verify(wf, "table-check");
                return G_SOURCE_CONTINUE;
        }
        /* A safety net behind the notifications, where a cheap probe exists. */
        if (!ops->probe)
                return G_SOURCE_CONTINUE;
        fw = netiso_firewall_new(NETISO_FIREWALL_APPLY);
        problem = ops->probe(fw, wf->config, &error);
        if (error) {
                f.outcome = "failed";
                log_failure(wf, &f, error->message);
                return G_SOURCE_CONTINUE;
        }
        if (!problem)
                return G_SOURCE_CONTINUE;
        f.outcome = "drift";
        netiso_log(LOG_WARNING, &f, "%s: someone flushed or changed it, restoring", problem);
        netiso_watch_firewall_restore(wf, "table-check");
        return G_SOURCE_CONTINUE;
}

/* iptables-restore names its flavour: "iptables-restore v1.8.9 (legacy)". */
static gboolean
iptables_is_legacy(void)
{
        const char *argv[] = { "iptables-restore", "--version", NULL };
        g_autofree char *out = NULL;

        if (!g_spawn_sync(NULL, (char **)argv, NULL,
                          G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out, NULL,
                          NULL, NULL))
                return FALSE;
        return strstr(out, "(nf_tables)") == NULL;
}

void
netiso_watch_firewall_set_config(NetisoWatchFirewall *wf, const NetisoConfig *config)
{
        NetisoLogFields f = { .event = "start", .outcome = "watching" };

        wf->config = config;
        wf->legacy = config->backend == NETISO_BACKEND_IPTABLES && iptables_is_legacy();
        if (wf->legacy)
                netiso_log(LOG_INFO, &f,
                           "iptables-legacy sends no notifications: its chains are checked every "
                           "timer tick only");
}

NetisoWatchFirewall *
netiso_watch_firewall_new(const NetisoConfig *config, guint interval_seconds, GError **error)
{
        g_autoptr(NetisoWatchFirewall) wf = g_new0(NetisoWatchFirewall, 1);

        netiso_watch_firewall_set_config(wf, config);
        wf->monitor = netiso_nft_monitor_new(on_commit, wf, error);
        if (!wf->monitor)
                return NULL;
        if (interval_seconds)
                wf->timer = g_timeout_add_seconds(interval_seconds, on_timer, wf);
        return g_steal_pointer(&wf);
}

void
netiso_watch_firewall_free(NetisoWatchFirewall *wf)
{
        if (!wf)
                return;
        /* The thread first: it posts to the main context. */
        netiso_nft_monitor_free(wf->monitor);
        if (wf->timer)
                g_source_remove(wf->timer);
        if (wf->pending)
                g_source_remove(wf->pending);
        g_free(wf->last_failure);
        g_free(wf);
}
