/* reconcile: the desired records of the running domains, the drift against
 * the records on disk and the kernel, and the repair as one transaction
 * that rebuilds the backend's state followed by a rewrite of the records. */
#include "autoconfig.h"

#include <string.h>

#include "core/drift.h"
#include "core/flow-ids.h"
#include "core/policy.h"
#include "core/stamps.h"
#include "core/state.h"
#include "engine/backends.h"
#include "engine/inspectors.h"
#include "engine/lifecycle.h"
#include "engine/reconcile.h"
#include "util/error.h"

/* Hooks wait at most 20 s for the lock; reconcile does the same. */
#define LOCK_TIMEOUT_MS 20000

void
netiso_desired_free(NetisoDesired *desired)
{
        if (!desired)
                return;
        g_ptr_array_unref(desired->records);
        g_ptr_array_unref(desired->refused);
        g_ptr_array_unref(desired->notes);
        g_free(desired);
}

static void
change_free(NetisoReconcileChange *change)
{
        g_free(change->domain);
        g_free(change->tenant);
        g_free(change);
}

void
netiso_reconcile_report_free(NetisoReconcileReport *report)
{
        if (!report)
                return;
        g_ptr_array_unref(report->drift);
        g_ptr_array_unref(report->refused);
        g_ptr_array_unref(report->notes);
        g_ptr_array_unref(report->warnings);
        g_ptr_array_unref(report->changes);
        g_array_unref(report->revoked);
        g_free(report->transaction);
        g_free(report);
}

/* Records have no copy function; their own text form is exact. */
static NetisoRecord *
record_copy(const NetisoRecord *record, NetisoBackend backend)
{
        gsize len = 0;
        g_autofree char *data = netiso_record_to_data(record, &len);
        NetisoRecord *copy = netiso_record_new_from_data("(copy)", data, len, NULL);

        g_assert(copy);
        copy->backend = backend;
        return copy;
}

/* ---- desired records ---- */

typedef struct {
        const char *name;
        const NetisoDomain *domain; /* NULL: unreadable, or not running */
        const char *problem;        /* why the XML could not be used */
        const NetisoRecord *have;   /* installed record, may be NULL */
} Entry;

static gboolean
is_listed(const NetisoRunning *running, const char *name)
{
        if (g_hash_table_contains(running->unreadable, name))
                return TRUE;
        for (guint i = 0; i < running->domains->len; i++) {
                const NetisoDomain *d = g_ptr_array_index(running->domains, i);
                if (g_str_equal(d->name, name))
                        return TRUE;
        }
        return FALSE;
}

static GArray *
entries_new(const NetisoRunning *running, GPtrArray *installed)
{
        GArray *entries = g_array_new(/* zero_terminated */ FALSE, /* clear */ TRUE, sizeof(Entry));
        GHashTableIter it;
        gpointer key, value;

        for (guint i = 0; i < running->domains->len; i++) {
                const NetisoDomain *d = g_ptr_array_index(running->domains, i);
                Entry e = { d->name, d, NULL, netiso_records_find(installed, d->name) };
                g_array_append_val(entries, e);
        }
        g_hash_table_iter_init(&it, running->unreadable);
        while (g_hash_table_iter_next(&it, &key, &value)) {
                Entry e = { key, NULL, value, netiso_records_find(installed, key) };
                g_array_append_val(entries, e);
        }
        /* Installed but not in the listing: only records newer than the
         * listing survive (their guest started while libvirtd was asked). */
        for (guint i = 0; installed && i < installed->len; i++) {
                const NetisoRecord *r = g_ptr_array_index(installed, i);

                if (!is_listed(running, r->domain) && r->installed_usec >= running->listed_usec) {
                        Entry e = { r->domain, NULL, NULL, r };
                        g_array_append_val(entries, e);
                }
        }
        return entries;
}

static char *
claim_key(const char *kind, const char *what)
{
        return g_strconcat(kind, ":", what, NULL);
}

/* Claims every tap and address of record for its domain, or names the
 * first one another domain already holds (and claims nothing). */
static char *
claim(GHashTable *claims, const NetisoRecord *record)
{
        for (guint i = 0; i < record->ports->len; i++) {
                const NetisoRecordPort *p = g_ptr_array_index(record->ports, i);
                g_autofree char *key = claim_key("tap", p->tap);
                const char *owner = g_hash_table_lookup(claims, key);

                if (owner)
                        return g_strdup_printf("tap %s is already claimed by domain '%s'", p->tap,
                                               owner);
                for (guint a = 0; a < p->addresses->len; a++) {
                        g_autofree char *s =
                                netiso_cidr_to_string(&g_array_index(p->addresses, NetisoCidr, a),
                                                      /* with_host_prefix */ FALSE);
                        g_autofree char *akey = claim_key("addr", s);

                        owner = g_hash_table_lookup(claims, akey);
                        if (owner)
                                return g_strdup_printf(
                                        "address %s is already claimed by domain '%s'", s, owner);
                }
        }
        for (guint i = 0; i < record->ports->len; i++) {
                const NetisoRecordPort *p = g_ptr_array_index(record->ports, i);

                g_hash_table_insert(claims, claim_key("tap", p->tap), record->domain);
                for (guint a = 0; a < p->addresses->len; a++) {
                        g_autofree char *s =
                                netiso_cidr_to_string(&g_array_index(p->addresses, NetisoCidr, a),
                                                      /* with_host_prefix */ FALSE);
                        g_hash_table_insert(claims, claim_key("addr", s), record->domain);
                }
        }
        return NULL;
}

NetisoRecord *
netiso_desired_record(const NetisoConfig *config, const NetisoDomain *domain, char **ret_refusal,
                      char **ret_note)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(NetisoPolicy) policy = NULL;

        if (!netiso_lifecycle_validate(config, domain, &error) ||
            !(policy = netiso_policy_new_for_domain(config, domain, &error))) {
                *ret_refusal = g_strdup(error->message);
                return NULL;
        }
        if (!netiso_policy_has_all_taps(policy, NULL)) {
                *ret_note = g_strdup_printf(
                        "domain '%s' has no tap yet (starting): left to its hook", domain->name);
                return NULL;
        }
        return netiso_record_new_from_policy(policy, config->backend);
}

/* A kept record may name taps the domain no longer has (unplugged, or
 * given to another guest since): only its current taps stay. */
static void
keep_current_taps(NetisoRecord *record, const NetisoDomain *domain)
{
        for (guint i = record->ports->len; domain && i-- > 0;) {
                const NetisoRecordPort *p = g_ptr_array_index(record->ports, i);
                gboolean current = FALSE;

                for (guint j = 0; !current && j < domain->ifaces->len; j++) {
                        const NetisoIface *iface = g_ptr_array_index(domain->ifaces, j);
                        current = g_strcmp0(iface->tap, p->tap) == 0;
                }
                if (!current)
                        g_ptr_array_remove_index(record->ports, i);
        }
}

/* What one entry should have installed; *ret_kept tells a record carried
 * over from before (a refused or starting guest) from one computed now. */
static NetisoRecord *
entry_record(const NetisoConfig *config, const NetisoRunning *running, const Entry *e,
             NetisoDesired *desired, gboolean *ret_kept)
{
        g_autofree char *refusal = NULL;
        g_autofree char *note = NULL;
        g_autoptr(NetisoRecord) want = NULL;
        NetisoRecord *kept;

        *ret_kept = FALSE;
        if (e->have && e->have->installed_usec >= running->listed_usec) {
                g_ptr_array_add(
                        desired->notes,
                        g_strdup_printf(
                                "domain '%s' was installed while libvirtd was asked: its record is kept",
                                e->name));
                return record_copy(e->have, config->backend);
        }
        if (e->domain)
                want = netiso_desired_record(config, e->domain, &refusal, &note);
        else
                refusal = g_strdup(e->problem); /* names the domain already */
        if (want) {
                /* A guest keeps its flow id under one tenant (lifecycle.c). */
                if (e->have && g_str_equal(e->have->tenant, want->tenant) &&
                    !(e->have->uuid && want->uuid &&
                      g_ascii_strcasecmp(e->have->uuid, want->uuid) != 0))
                        want->flow_id = e->have->flow_id;
                /* An unchanged record keeps its installation time. */
                if (e->have && netiso_record_same_state(e->have, want))
                        return record_copy(e->have, config->backend);
                return g_steal_pointer(&want);
        }
        if (note)
                g_ptr_array_add(desired->notes, g_steal_pointer(&note));
        if (refusal)
                g_ptr_array_add(desired->refused,
                                g_strdup_printf("%s (%s)", refusal,
                                                e->have ? "its previous isolation stays"
                                                        : "its taps stay blocked"));
        if (!e->have)
                return NULL;
        /* Keep what a refused or starting guest had: never less isolation. */
        kept = record_copy(e->have, config->backend);
        keep_current_taps(kept, e->domain);
        *ret_kept = TRUE;
        return kept;
}

typedef struct {
        const Entry *entry;
        NetisoRecord *record;
        gboolean kept;
} Candidate;

/* Who claims a tap or an address first: records computed from the live XML
 * before records carried over, and among them domains already installed. */
static gint
compare_candidates(gconstpointer a, gconstpointer b)
{
        const Candidate *x = a, *y = b;

        if (x->kept != y->kept)
                return x->kept ? 1 : -1;
        if ((x->entry->have == NULL) != (y->entry->have == NULL))
                return x->entry->have ? -1 : 1;
        return strcmp(x->entry->name, y->entry->name);
}

static gint
compare_records(gconstpointer a, gconstpointer b)
{
        return strcmp((*(NetisoRecord *const *)a)->domain, (*(NetisoRecord *const *)b)->domain);
}

NetisoDesired *
netiso_desired_new(const NetisoConfig *config, const NetisoRunning *running, GPtrArray *installed)
{
        NetisoDesired *desired = g_new0(NetisoDesired, 1);
        g_autoptr(GArray) entries = entries_new(running, installed);
        g_autoptr(GArray) candidates =
                g_array_new(/* zero_terminated */ FALSE, /* clear */ TRUE, sizeof(Candidate));
        g_autoptr(GHashTable) claims = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

        desired->records = g_ptr_array_new_with_free_func((GDestroyNotify)netiso_record_free);
        desired->refused = g_ptr_array_new_with_free_func(g_free);
        desired->notes = g_ptr_array_new_with_free_func(g_free);
        for (guint i = 0; i < entries->len; i++) {
                Candidate c = { &g_array_index(entries, Entry, i), NULL, FALSE };

                c.record = entry_record(config, running, c.entry, desired, &c.kept);
                if (c.record)
                        g_array_append_val(candidates, c);
        }
        g_array_sort(candidates, compare_candidates);
        for (guint i = 0; i < candidates->len; i++) {
                Candidate *c = &g_array_index(candidates, Candidate, i);
                g_autoptr(NetisoRecord) record = g_steal_pointer(&c->record);
                g_autofree char *conflict = claim(claims, record);

                if (conflict) {
                        g_ptr_array_add(
                                desired->refused,
                                g_strdup_printf(
                                        "domain '%s' cannot be isolated: %s (its taps stay blocked)",
                                        c->entry->name, conflict));
                        continue;
                }
                g_ptr_array_add(desired->records, g_steal_pointer(&record));
        }
        g_ptr_array_sort(desired->records, compare_records);
        return desired;
}

/* ---- drift and repair ---- */

static NetisoReconcileReport *
report_new(void)
{
        NetisoReconcileReport *report = g_new0(NetisoReconcileReport, 1);

        report->drift = g_ptr_array_new_with_free_func(g_free);
        report->refused = g_ptr_array_new_with_free_func(g_free);
        report->notes = g_ptr_array_new_with_free_func(g_free);
        report->warnings = g_ptr_array_new_with_free_func(g_free);
        report->changes = g_ptr_array_new_with_free_func((GDestroyNotify)change_free);
        report->revoked =
                g_array_new(/* zero_terminated */ FALSE, /* clear */ FALSE, sizeof(NetisoCidr));
        return report;
}

static void
add_change(NetisoReconcileReport *report, const NetisoRecord *record, const char *outcome)
{
        NetisoReconcileChange *c = g_new0(NetisoReconcileChange, 1);

        c->domain = g_strdup(record->domain);
        c->tenant = g_strdup(record->tenant);
        c->outcome = outcome;
        g_ptr_array_add(report->changes, c);
}

static gboolean
backend_has_state(NetisoFirewall *fw, const NetisoConfig *config, NetisoBackend backend,
                  GPtrArray *installed)
{
        g_autoptr(NetisoInspection) in = NULL;

        for (guint i = 0; i < installed->len; i++)
                if (((const NetisoRecord *)g_ptr_array_index(installed, i))->backend == backend)
                        return TRUE;
        /* A backend that cannot even be inspected holds nothing we could remove. */
        in = netiso_backend_inspect(backend)->inspect(fw, config, installed, NULL);
        return in && in->objects_present;
}

static void
rollback(const NetisoConfig *config, GPtrArray *installed, GPtrArray *written)
{
        for (guint i = 0; i < written->len; i++) {
                const NetisoRecord *want = g_ptr_array_index(written, i);
                const NetisoRecord *have = netiso_records_find(installed, want->domain);
                g_autoptr(GError) e = NULL;

                if (have)
                        netiso_state_save(config->state_dir, have, &e);
                else
                        netiso_state_remove(config->state_dir, want->domain, &e);
                if (e)
                        g_warning("%s", e->message);
        }
}

/* Records ahead of the commit (so that a crash after it leaves records that
 * describe the kernel), one transaction, then the records of domains that
 * are gone, exactly as a hook event orders it. */
static gboolean
commit(const NetisoConfig *config, GPtrArray *installed, const NetisoDesired *desired,
       const gboolean *leftovers, NetisoFirewall *fw, NetisoReconcileReport *report, GError **error)
{
        g_autoptr(GPtrArray) written = g_ptr_array_new();

        for (guint i = 0; i < desired->records->len; i++) {
                NetisoRecord *want = g_ptr_array_index(desired->records, i);
                const NetisoRecord *have = netiso_records_find(installed, want->domain);

                if (have && netiso_record_same_state(have, want))
                        continue;
                if (want->flow_id == 0 &&
                    !netiso_flow_id_new(config->state_dir, &want->flow_id, error)) {
                        rollback(config, installed, written);
                        return FALSE;
                }
                if (!netiso_state_save(config->state_dir, want, error)) {
                        rollback(config, installed, written);
                        return FALSE;
                }
                g_ptr_array_add(written, (gpointer)want);
        }
        if (!netiso_backend_ops(config->backend)->sync(fw, config, desired->records, error)) {
                rollback(config, installed, written);
                return FALSE;
        }
        report->committed = TRUE;
        netiso_stamp_touch(config->state_dir, NETISO_STAMP_REPAIR); /* status --prometheus */
        for (guint i = 0; i < written->len; i++) {
                const NetisoRecord *want = g_ptr_array_index(written, i);
                const NetisoRecord *have = netiso_records_find(installed, want->domain);

                netiso_drift_revoked(have, want, report->revoked);
                netiso_drift_revoked(want, have, report->revoked);
                add_change(report, want, have ? "updated" : "installed");
        }
        for (int b = 0; b < _NETISO_BACKEND_MAX; b++) {
                g_autoptr(GError) e = NULL;
                if (leftovers[b] && !netiso_backend_ops(b)->purge(fw, &e))
                        g_ptr_array_add(report->warnings, g_strdup(e->message));
        }
        for (guint i = 0; i < installed->len; i++) {
                const NetisoRecord *have = g_ptr_array_index(installed, i);
                g_autoptr(GError) e = NULL;

                if (netiso_records_find(desired->records, have->domain))
                        continue;
                netiso_drift_revoked(have, NULL, report->revoked);
                if (!netiso_state_remove(config->state_dir, have->domain, &e))
                        g_ptr_array_add(report->warnings, g_strdup(e->message));
                add_change(report, have, "removed");
        }
        return TRUE;
}

static gboolean
render(const NetisoConfig *config, const NetisoDesired *desired, const gboolean *leftovers,
       NetisoReconcileReport *report, GError **error)
{
        g_autoptr(NetisoFirewall) capture = netiso_firewall_new(NETISO_FIREWALL_CAPTURE);

        if (!netiso_backend_ops(config->backend)->sync(capture, config, desired->records, error))
                return FALSE;
        for (int b = 0; b < _NETISO_BACKEND_MAX; b++)
                if (leftovers[b])
                        netiso_backend_ops(b)->purge(capture, NULL);
        report->transaction = g_strdup(netiso_firewall_captured(capture));
        return TRUE;
}

gboolean
netiso_reconcile(const NetisoConfig *config, const NetisoRunning *running, NetisoFirewall *fw,
                 gboolean do_commit, NetisoReconcileReport **ret_report, GError **error)
{
        g_autoptr(NetisoReconcileReport) report = report_new();
        g_autoptr(NetisoLock) lock = netiso_lock_acquire(config->state_dir, LOCK_TIMEOUT_MS, error);
        g_autoptr(GPtrArray) problems = NULL;
        g_autoptr(GPtrArray) installed = NULL;
        g_autoptr(NetisoDesired) desired = NULL;
        gboolean leftovers[_NETISO_BACKEND_MAX] = { FALSE };

        if (!lock)
                return FALSE;
        installed = netiso_state_list(config->state_dir, &problems, error);
        if (!installed)
                return FALSE;
        desired = netiso_desired_new(config, running, installed);
        netiso_drift_records(installed, desired->records, report->drift);
        if (!netiso_backend_inspect(config->backend)
                     ->check(fw, config, installed, report->drift, error))
                return FALSE;
        for (int b = 0; b < _NETISO_BACKEND_MAX; b++) {
                if (b == (int)config->backend || !backend_has_state(fw, config, b, installed))
                        continue;
                leftovers[b] = TRUE;
                g_ptr_array_add(report->drift,
                                g_strdup_printf("the %s backend still holds state (configured: %s)",
                                                netiso_backend_to_string(b),
                                                netiso_backend_to_string(config->backend)));
        }
        report->repairable = report->drift->len;
        /* Reported, but no transaction can fix them. */
        for (guint i = 0; i < problems->len; i++)
                g_ptr_array_add(report->drift, g_strdup(g_ptr_array_index(problems, i)));
        for (guint i = 0; i < desired->refused->len; i++) {
                const char *line = g_ptr_array_index(desired->refused, i);
                g_ptr_array_add(report->drift, g_strdup(line));
                g_ptr_array_add(report->refused, g_strdup(line));
        }
        for (guint i = 0; i < desired->notes->len; i++)
                g_ptr_array_add(report->notes, g_strdup(g_ptr_array_index(desired->notes, i)));
        if (report->repairable > 0) {
                if (do_commit ? !commit(config, installed, desired, leftovers, fw, report, error)
                              : !render(config, desired, leftovers, report, error))
                        return FALSE;
        }
        *ret_report = g_steal_pointer(&report);
        return TRUE;
}

gboolean
netiso_reconcile_from_records(const NetisoConfig *config, NetisoFirewall *fw, GError **error)
{
        g_autoptr(NetisoLock) lock = netiso_lock_acquire(config->state_dir, LOCK_TIMEOUT_MS, error);
        g_autoptr(GPtrArray) records = NULL;

        if (!lock)
                return FALSE;
        records = netiso_state_list(config->state_dir, NULL, error);
        if (!records || !netiso_backend_ops(config->backend)->sync(fw, config, records, error))
                return FALSE;
        netiso_stamp_touch(config->state_dir, NETISO_STAMP_REPAIR); /* status --prometheus */
        return TRUE;
}
