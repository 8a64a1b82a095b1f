/* Hook events mapped to actions, and the locked sequence every change goes
 * through: load the old record, write the new one ahead, commit one
 * transaction, and put the old record back if the commit failed. */
#include "autoconfig.h"

#include <string.h>

#include "core/flow-ids.h"
#include "core/policy.h"
#include "core/stamps.h"
#include "core/state.h"
#include "engine/backends.h"
#include "engine/cluster-ask.h"
#include "engine/conntrack.h"
#include "engine/lifecycle.h"
#include "util/error.h"

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
        /* Bridged guests need table bridge blixard: the iptables backend
         * refuses them before libvirt goes any further. */
        if (config->backend == NETISO_BACKEND_IPTABLES && netiso_policy_is_bridged(policy))
                return netiso_policy_is_routed(policy, error);
        return TRUE;
}

/* Leases learned for a bridged port stay bound while its tap, bridge and
 * MAC stay, unless the caller (watch) said which it learned: a hook run
 * (reconnect, a repeated start) cannot read the leases itself. */
static gboolean
keep_learned(NetisoPolicy *policy, const NetisoRecord *old, GError **error)
{
        for (guint i = 0; old && i < policy->ports->len; i++) {
                const NetisoPolicyPort *p = g_ptr_array_index(policy->ports, i);

                if (p->routed || p->learned_known)
                        continue;
                for (guint k = 0; k < old->ports->len; k++) {
                        const NetisoRecordPort *o = g_ptr_array_index(old->ports, k);

                        if (g_strcmp0(o->tap, p->tap) == 0 &&
                            g_strcmp0(o->bridge, p->bridge) == 0 &&
                            g_strcmp0(o->mac, p->mac) == 0 && o->learned->len > 0 &&
                            !netiso_policy_add_learned(policy, i, o->learned, error))
                                return FALSE;
                }
        }
        return TRUE;
}

/* Every address of a record's ports, or of a policy's. */
static GArray *
record_addresses(const NetisoRecord *record)
{
        GArray *all =
                g_array_new(/* zero_terminated */ FALSE, /* clear */ FALSE, sizeof(NetisoCidr));

        for (guint i = 0; record && i < record->ports->len; i++) {
                const NetisoRecordPort *p = g_ptr_array_index(record->ports, i);
                g_array_append_vals(all, p->addresses->data, p->addresses->len);
        }
        return all;
}

static GArray *
policy_addresses(const NetisoPolicy *policy)
{
        GArray *all =
                g_array_new(/* zero_terminated */ FALSE, /* clear */ FALSE, sizeof(NetisoCidr));

        for (guint i = 0; i < policy->ports->len; i++) {
                const NetisoPolicyPort *p = g_ptr_array_index(policy->ports, i);
                g_array_append_vals(all, p->addresses->data, p->addresses->len);
        }
        return all;
}

/* Addresses of old that policy no longer has: their access ended. */
static GArray *
removed_addresses(const NetisoRecord *old, const NetisoPolicy *policy)
{
        g_autoptr(GArray) now = policy_addresses(policy);
        GArray *gone =
                g_array_new(/* zero_terminated */ FALSE, /* clear */ FALSE, sizeof(NetisoCidr));
        g_autoptr(GArray) before = record_addresses(old);

        for (guint i = 0; i < before->len; i++) {
                const NetisoCidr *c = &g_array_index(before, NetisoCidr, i);
                gboolean kept = FALSE;

                for (guint k = 0; !kept && k < now->len; k++)
                        kept = netiso_cidr_equal(c, &g_array_index(now, NetisoCidr, k));
                if (!kept)
                        g_array_append_val(gone, *c);
        }
        return gone;
}

/* Ends tracked connections (conntrack.h) where the kernel is ours. It does
 * not fail the event: what it could not end stays bound to the install that
 * made it (DEVELOPERS.md), and a warning says so. */
static void
end_flows(NetisoFirewall *fw, const char *domain, const GArray *addresses, guint16 flow_id,
          guint16 keep)
{
        g_autoptr(GError) e = NULL;
        guint ended = 0;

        if (netiso_firewall_mode(fw) == NETISO_FIREWALL_CAPTURE)
                return;
        if (!netiso_conntrack_end(addresses, flow_id, keep, &ended, &e))
                g_warning("domain '%s': %s", domain, e->message);
        else if (ended > 0)
                g_info("domain '%s': ended %u tracked connections", domain, ended);
}

/* A guest's access ended: its installed state is gone, so are its flows. */
static void
end_record_flows(NetisoFirewall *fw, const NetisoRecord *record)
{
        g_autoptr(GArray) addresses = record_addresses(record);

        end_flows(fw, record->domain, addresses, record->flow_id, 0);
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
                end_record_flows(fw, stale);
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

/* Records written before flow ids existed hold none, and a skeleton that
 * binds flows drops every established packet of a tap without one. The
 * first install that finds no STATE_DIR/flow-id gives every other guest of
 * the configured backend an id and installs them in one sync (the guest
 * being installed gets its own below). Their old flows are not bound to
 * the ids and end. */
static gboolean
settle_flow_ids(const NetisoConfig *config, const char *domain, NetisoFirewall *fw, GError **error)
{
        g_autofree char *counter = g_build_filename(config->state_dir, "flow-id", NULL);
        g_autoptr(GPtrArray) records = NULL;
        g_autoptr(GPtrArray) given = g_ptr_array_new();

        if (g_file_test(counter, G_FILE_TEST_EXISTS))
                return TRUE;
        records = netiso_state_list(config->state_dir, NULL, error);
        if (!records)
                return FALSE;
        for (guint i = records->len; i > 0; i--) {
                NetisoRecord *rec = g_ptr_array_index(records, i - 1);

                if (g_str_equal(rec->domain, domain) || rec->backend != config->backend) {
                        g_ptr_array_remove_index(records, i - 1);
                        continue;
                }
                if (rec->flow_id)
                        continue;
                if (!netiso_flow_id_new(config->state_dir, &rec->flow_id, error))
                        return FALSE;
                g_ptr_array_add(given, rec);
        }
        if (given->len == 0)
                return TRUE;
        g_message("binding the flows of %u guest%s installed by an older version", given->len,
                  given->len == 1 ? "" : "s");
        if (!netiso_backend_ops(config->backend)->sync(fw, config, records, error))
                return FALSE;
        for (guint i = 0; i < given->len; i++)
                if (!netiso_state_save(config->state_dir, g_ptr_array_index(given, i), error))
                        return FALSE;
        return TRUE;
}

/* A guest keeps its flow id (and its flows) while it stays installed under
 * one tenant; anything else is a new install with a new id. */
static gboolean
keeps_flow_id(const NetisoRecord *old, const NetisoPolicy *policy)
{
        return old && old->flow_id && g_str_equal(old->tenant, policy->tenant) &&
               !(old->uuid && policy->uuid && g_ascii_strcasecmp(old->uuid, policy->uuid) != 0);
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
        gboolean fresh;

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
        lock = netiso_lock_acquire(config->state_dir, NETISO_LOCK_TIMEOUT_MS, error);
        if (!lock)
                return FALSE;
        if (!netiso_state_load(config->state_dir, domain->name, &old, error) ||
            !keep_learned(policy, old, error))
                return FALSE;
        if (!take_over_stale_taps(config, policy, fw, error))
                return FALSE;
        if (old && old->backend != config->backend) {
                /* Backend switched since this guest was installed. */
                if (!netiso_backend_ops(old->backend)->remove(fw, config, old, error))
                        return FALSE;
                g_clear_pointer(&old, netiso_record_free);
        }
        if (!settle_backends(config, domain->name, old, fw, error) ||
            !settle_flow_ids(config, domain->name, fw, error))
                return FALSE;
        fresh = !keeps_flow_id(old, policy);
        if (!fresh)
                policy->flow_id = old->flow_id;
        else if (!netiso_flow_id_next(config->state_dir, &policy->flow_id, error))
                return FALSE;
        next = netiso_record_new_from_policy(policy, config->backend);
        if (fresh) {
                /* Before the guest's elements exist nothing new can be bound
                 * to its id or sent from or to its addresses: what is there
                 * is left from a guest that held them before. */
                g_autoptr(GArray) addresses = policy_addresses(policy);
                end_flows(fw, policy->domain, addresses, policy->flow_id, 0);
        }
        /* Ahead of the commit: if we are killed after it, teardown still
         * knows what the kernel holds. */
        failpoint("install-before-record");
        if (!netiso_state_save(config->state_dir, next, error))
                return FALSE;
        failpoint("install-before-commit");
        if (netiso_backend_ops(config->backend)->apply(fw, config, policy, old, error)) {
                failpoint("install-after-commit");
                if (fresh &&
                    !netiso_flow_id_hand_out(config->state_dir, policy->flow_id, &restore_error))
                        g_warning("%s", restore_error->message);
                if (old && fresh) {
                        /* Retagged: every flow of the old install ends. */
                        g_autoptr(GArray) addresses = record_addresses(old);
                        end_flows(fw, old->domain, addresses, old->flow_id, next->flow_id);
                } else if (old) {
                        g_autoptr(GArray) gone = removed_addresses(old, policy);
                        end_flows(fw, old->domain, gone, 0, 0);
                }
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
        g_autoptr(NetisoLock) lock =
                netiso_lock_acquire(config->state_dir, NETISO_LOCK_TIMEOUT_MS, error);
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
        end_record_flows(fw, record);
        netiso_stamp_touch(config->state_dir, NETISO_STAMP_EVENT); /* status --prometheus */
        return netiso_state_remove(config->state_dir, domain_name, error);
}
