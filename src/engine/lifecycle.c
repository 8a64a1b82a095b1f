/* Hook events mapped to actions, and the locked sequence every change goes
 * through: load the old record, write the new one ahead, commit one
 * transaction, and put the old record back if the commit failed. */
#include "autoconfig.h"

#include <string.h>

#include "core/policy.h"
#include "core/stamps.h"
#include "core/state.h"
#include "engine/backends.h"
#include "engine/cluster-ask.h"
#include "engine/lifecycle.h"
#include "util/error.h"

/* libvirt gives other calls on a domain 30 s; stay well inside that. */
#define LOCK_TIMEOUT_MS 20000

/* Process-wide: the watch daemon claims in process, everyone else asks it. */
static NetisoClaimFunc claimer;
static gpointer claimer_data;

void
netiso_lifecycle_set_claimer(NetisoClaimFunc func, gpointer data)
{
        claimer = func;
        claimer_data = data;
}

static gboolean
claim(const NetisoConfig *config, const NetisoPolicy *policy, GError **error)
{
        if (!config->cluster)
                return TRUE;
        if (claimer)
                return claimer(config, policy, claimer_data, error);
        return netiso_cluster_claim_for_install(config, policy, error);
}

/* Fault tests kill the process at named points of an event to prove that
 * a crash leaves the old or the new state, never a mix. */
static void
failpoint(const char *name)
{
        const char *want = g_getenv("BLIXARD_NETISO_FAILPOINT");

        if (want && g_str_equal(want, name))
                abort();
}

NetisoAction
netiso_action_for_hook(const char *operation, const char *sub_operation)
{
        static const struct {
                const char *op, *sub;
                NetisoAction action;
        } table[] = {
                { "prepare", "begin", NETISO_ACTION_VALIDATE },
                { "restore", "begin", NETISO_ACTION_VALIDATE },
                { "migrate", "begin", NETISO_ACTION_VALIDATE },
                { "start", "begin", NETISO_ACTION_INSTALL },
                { "started", "begin", NETISO_ACTION_INSTALL },
                { "reconnect", "begin", NETISO_ACTION_INSTALL },
                { "stopped", "end", NETISO_ACTION_REMOVE },
                { "release", "end", NETISO_ACTION_REMOVE },
        };

        for (gsize i = 0; i < G_N_ELEMENTS(table); i++)
                if (g_strcmp0(operation, table[i].op) == 0 &&
                    g_strcmp0(sub_operation, table[i].sub) == 0)
                        return table[i].action;
        return NETISO_ACTION_IGNORE;
}

const char *
netiso_action_to_string(NetisoAction action)
{
        static const char *const names[_NETISO_ACTION_MAX] = {
                [NETISO_ACTION_IGNORE] = "ignore",
                [NETISO_ACTION_VALIDATE] = "validate",
                [NETISO_ACTION_INSTALL] = "install",
                [NETISO_ACTION_REMOVE] = "remove",
        };
        g_assert(action < _NETISO_ACTION_MAX);
        return names[action];
}

gboolean
netiso_action_fails_closed(NetisoAction action)
{
        return action == NETISO_ACTION_VALIDATE || action == NETISO_ACTION_INSTALL;
}

gboolean
netiso_lifecycle_validate(const NetisoConfig *config, const NetisoDomain *domain, GError **error)
{
        g_autoptr(NetisoPolicy) policy = netiso_policy_new_for_domain(config, domain, error);

        if (!policy)
                return FALSE;
        if (!config->enabled)
                return TRUE;
        for (guint i = 0; i < policy->ports->len; i++) {
                const NetisoPolicyPort *p = g_ptr_array_index(policy->ports, i);
                if (!p->routed) {
                        g_set_error(
                                error, NETISO_ERROR, NETISO_ERROR_POLICY,
                                "domain '%s': interface %u of type '%s' is bridged: the hook isolates routed type='ethernet' interfaces only; use nwfilter for bridged guests",
                                policy->domain, p->iface_index,
                                netiso_iface_type_to_string(p->type));
                        return FALSE;
                }
        }
        return TRUE;
}

/* A tap in the new policy that a record of another domain still lists is
 * stale: the kernel gave the tap to this guest, so the other guest is gone
 * (its teardown never ran). Remove that port's state before taking over. */
static gboolean
take_over_stale_taps(const NetisoConfig *config, const NetisoPolicy *policy, NetisoFirewall *fw,
                     GError **error)
{
        for (guint i = 0; i < policy->ports->len; i++) {
                const NetisoPolicyPort *p = g_ptr_array_index(policy->ports, i);
                g_autofree char *owner = NULL;
                g_autoptr(NetisoRecord) stale = NULL;

                if (!netiso_state_tap_owner(config->state_dir, p->tap, &owner, error))
                        return FALSE;
                if (!owner || g_str_equal(owner, policy->domain))
                        continue;
                if (!netiso_state_load(config->state_dir, owner, &stale, error))
                        return FALSE;
                if (!stale)
                        continue;
                g_message("tap %s still recorded for domain '%s': removing that stale state",
                          p->tap, owner);
                if (!netiso_backend_ops(stale->backend)->remove(fw, config, stale, error))
                        return FALSE;
                if (!netiso_state_remove(config->state_dir, owner, error))
                        return FALSE;
        }
        return TRUE;
}

/* STATE_DIR/backend names the backend the last install used. It is read on
 * every install, so that the work below is done once per switch. */
static char *
backend_marker(const NetisoConfig *config)
{
        return g_build_filename(config->state_dir, "backend", NULL);
}

/* The other backends' objects must not outlive a backend switch: each
 * drops guest-like taps it has not installed, so leftovers of one backend
 * cut off every guest of the other. On the first install after a switch
 * (or after boot), move the other guests' records to the configured
 * backend in one sync and purge the other backends, also when no guest
 * is left to move (guests that stopped before the switch leave their
 * backend's skeleton behind). The domain being installed is not moved:
 * the caller handles its own record. */
static gboolean
settle_backends(const NetisoConfig *config, const char *domain, const NetisoRecord *own,
                NetisoFirewall *fw, GError **error)
{
        g_autofree char *marker = backend_marker(config);
        g_autofree char *last = NULL;
        const char *want = netiso_backend_to_string(config->backend);
        g_autoptr(GPtrArray) records = NULL;
        g_autoptr(GPtrArray) moved = g_ptr_array_new();

        if (g_file_get_contents(marker, &last, NULL, NULL) && g_str_equal(g_strstrip(last), want))
                return TRUE;
        records = netiso_state_list(config->state_dir, NULL, error);
        if (!records)
                return FALSE;
        for (guint i = records->len; i > 0; i--) {
                NetisoRecord *rec = g_ptr_array_index(records, i - 1);

                if (g_str_equal(rec->domain, domain)) {
                        g_ptr_array_remove_index(records, i - 1);
                } else if (rec->backend != config->backend) {
                        rec->backend = config->backend;
                        g_ptr_array_add(moved, rec);
                }
        }
        if (moved->len > 0) {
                g_message("backend switched to %s: moving %u guests to it", want, moved->len);
                /* The guest being installed keeps what it has on this backend. */
                if (own && own->backend == config->backend)
                        g_ptr_array_add(records, (gpointer)own);
                if (!netiso_backend_ops(config->backend)->sync(fw, config, records, error))
                        return FALSE;
                if (own && own->backend == config->backend)
                        g_ptr_array_steal_index(records, records->len - 1);
                for (guint i = 0; i < moved->len; i++)
                        if (!netiso_state_save(config->state_dir, g_ptr_array_index(moved, i),
                                               error))
                                return FALSE;
        }
        /* Every guest is on the configured backend now, so what the others
         * still hold can only drop more, never let more through: a failed
         * purge is reported and retried at the next install, and does not
         * refuse this guest. */
        for (int b = 0; b < _NETISO_BACKEND_MAX; b++) {
                g_autoptr(GError) e = NULL;

                if (b == (int)config->backend || netiso_backend_ops(b)->purge(fw, &e))
                        continue;
                g_warning("cannot remove what backend %s left: %s", netiso_backend_to_string(b),
                          e->message);
                return TRUE;
        }
        if (!g_file_set_contents(marker, want, -1, NULL))
                g_warning("%s: cannot record the backend in use", marker);
        return TRUE;
}

gboolean
netiso_lifecycle_install(const NetisoConfig *config, const NetisoDomain *domain, NetisoFirewall *fw,
                         GError **error)
{
        g_autoptr(NetisoPolicy) policy = NULL;
        g_autoptr(NetisoLock) lock = NULL;
        g_autoptr(NetisoRecord) old = NULL;
        g_autoptr(NetisoRecord) next = NULL;
        g_autoptr(GError) restore_error = NULL;

        if (!config->enabled)
                return TRUE;
        if (!netiso_lifecycle_validate(config, domain, error))
                return FALSE;
        policy = netiso_policy_new_for_domain(config, domain, error);
        if (!policy || !netiso_policy_has_all_taps(policy, error))
                return FALSE;
        /* Before the lock: the watch daemon answering it may be waiting for it. */
        if (!claim(config, policy, error))
                return FALSE;
        lock = netiso_lock_acquire(config->state_dir, LOCK_TIMEOUT_MS, error);
        if (!lock)
                return FALSE;
        if (!netiso_state_load(config->state_dir, domain->name, &old, error))
                return FALSE;
        if (!take_over_stale_taps(config, policy, fw, error))
                return FALSE;
        if (old && old->backend != config->backend) {
                /* Backend switched since this guest was installed. */
                if (!netiso_backend_ops(old->backend)->remove(fw, config, old, error))
                        return FALSE;
                g_clear_pointer(&old, netiso_record_free);
        }
        if (!settle_backends(config, domain->name, old, fw, error))
                return FALSE;
        next = netiso_record_new_from_policy(policy, config->backend);
        /* Ahead of the commit: if we are killed after it, teardown still
         * knows what the kernel holds. */
        failpoint("install-before-record");
        if (!netiso_state_save(config->state_dir, next, error))
                return FALSE;
        failpoint("install-before-commit");
        if (netiso_backend_ops(config->backend)->apply(fw, config, policy, old, error)) {
                failpoint("install-after-commit");
                netiso_stamp_touch(config->state_dir, NETISO_STAMP_EVENT); /* status --prometheus */
                return TRUE;
        }
        /* The transaction changed nothing: put the record back as it was. */
        if (old)
                netiso_state_save(config->state_dir, old, &restore_error);
        else
                netiso_state_remove(config->state_dir, domain->name, &restore_error);
        if (restore_error)
                g_warning("%s", restore_error->message);
        return FALSE;
}

gboolean
netiso_lifecycle_remove(const NetisoConfig *config, const char *domain_name, NetisoFirewall *fw,
                        GError **error)
{
        return netiso_lifecycle_remove_older(config, domain_name, G_MAXINT64, fw, error);
}

gboolean
netiso_lifecycle_remove_older(const NetisoConfig *config, const char *domain_name,
                              gint64 before_usec, NetisoFirewall *fw, GError **error)
{
        g_autoptr(NetisoLock) lock = netiso_lock_acquire(config->state_dir, LOCK_TIMEOUT_MS, error);
        g_autoptr(NetisoRecord) record = NULL;

        if (!lock)
                return FALSE;
        if (!netiso_state_load(config->state_dir, domain_name, &record, error))
                return FALSE;
        if (!record || record->installed_usec >= before_usec)
                return TRUE;
        /* On failure the record stays, so that reconcile can finish the job. */
        failpoint("remove-before-commit");
        if (!netiso_backend_ops(record->backend)->remove(fw, config, record, error))
                return FALSE;
        failpoint("remove-after-commit");
        netiso_stamp_touch(config->state_dir, NETISO_STAMP_EVENT); /* status --prometheus */
        return netiso_state_remove(config->state_dir, domain_name, error);
}
