/* The iptables backend's operations: each event as one iptables-restore
 * --noflush delta per family, IPv4 first, rebuilt from the records when the
 * kernel disagrees (design: DEVELOPERS.md, the iptables backend). */
#include "autoconfig.h"

#include <string.h>

#include "ipt/ipt-backend.h"
#include "ipt/ipt-render.h"
#include "ipt/ipt-restore.h"
#include "util/error.h"

const NetisoIptFamily netiso_ipt_families[NETISO_IPT_FAMILIES] = {
        { NETISO_FAMILY_IPV4, "iptables-restore", "iptables-save", "iptables" },
        { NETISO_FAMILY_IPV6, "ip6tables-restore", "ip6tables-save", "ip6tables" },
};

NetisoIptSet *
netiso_ipt_load_set(const NetisoConfig *config, GPtrArray *records, const char *domain,
                    GError **error)
{
        g_autoptr(NetisoIptSet) set = netiso_ipt_set_new();
        g_autoptr(GPtrArray) loaded = NULL;

        if (!records) {
                loaded = netiso_state_list(config->state_dir, NULL, error);
                if (!loaded)
                        return NULL;
                records = loaded;
        }
        for (guint i = 0; i < records->len; i++) {
                const NetisoRecord *rec = g_ptr_array_index(records, i);
                g_autoptr(GError) e = NULL;

                if (rec->backend != NETISO_BACKEND_IPTABLES ||
                    (domain && g_str_equal(rec->domain, domain)))
                        continue;
                /* A record with a name we would never have rendered cannot
                 * describe rules in the kernel: leave it to check. */
                if (!netiso_ipt_set_add_record(set, rec, &e))
                        g_warning("domain '%s': %s", rec->domain, e->message);
        }
        return g_steal_pointer(&set);
}

void
netiso_ipt_tables_clear(NetisoIptRuleset *tables[_NETISO_IPT_TABLE_MAX])
{
        for (int t = 0; t < _NETISO_IPT_TABLE_MAX; t++)
                g_clear_pointer(&tables[t], netiso_ipt_ruleset_free);
}

gboolean
netiso_ipt_read_tables(NetisoFirewall *fw, gsize f, NetisoIptRuleset *ret[_NETISO_IPT_TABLE_MAX],
                       GError **error)
{
        for (int t = 0; t < _NETISO_IPT_TABLE_MAX; t++) {
                const char *name = netiso_ipt_table_name(t);
                g_autofree char *text =
                        netiso_ipt_save(fw, netiso_ipt_families[f].save, name, error);

                ret[t] = text ? netiso_ipt_ruleset_parse(text, name, error) : NULL;
                if (!ret[t]) {
                        netiso_ipt_tables_clear(ret);
                        return FALSE;
                }
        }
        return TRUE;
}

static gboolean
rebuild(NetisoFirewall *fw, const NetisoConfig *config, const NetisoIptSet *set, gsize f,
        GError **error)
{
        NetisoIptRuleset *current[_NETISO_IPT_TABLE_MAX] = { NULL };
        g_autoptr(GString) out = g_string_new(NULL);
        gboolean ok;

        if (!netiso_ipt_read_tables(fw, f, current, error))
                return FALSE;
        netiso_ipt_batch_rebuild(out, config, set, netiso_ipt_families[f].family, current);
        netiso_ipt_tables_clear(current);
        ok = netiso_ipt_restore(fw, netiso_ipt_families[f].restore, out->str, error);
        return ok;
}

/* install: verify holds the guest's taps (its own path is re-asserted),
 * the jumps are moved to the top, and a failure takes IPv4 back. */
static gboolean
commit_event(NetisoFirewall *fw, const NetisoConfig *config, const NetisoIptSet *before,
             const NetisoIptSet *after, const GPtrArray *verify, gboolean install, GError **error)
{
        for (gsize f = 0; f < NETISO_IPT_FAMILIES; f++) {
                g_autoptr(GString) out = g_string_new(NULL);
                g_autoptr(GError) refused = NULL;
                g_autoptr(GError) failed = NULL;

                netiso_ipt_batch_event(out, config, before, after, verify,
                                       netiso_ipt_families[f].family, install);
                if (netiso_ipt_restore(fw, netiso_ipt_families[f].restore, out->str, &refused))
                        continue;
                /* Expected on the first event after boot, so not a warning. */
                g_info("%s: the kernel does not hold what the records say (%s): rebuilding from the records",
                       netiso_ipt_families[f].label, refused->message);
                if (rebuild(fw, config, after, f, &failed))
                        continue;
                if (install && f > 0) {
                        /* IPv4 holds the new state: take it back so that the
                         * refused guest leaves nothing behind. */
                        g_autoptr(GString) undo = g_string_new(NULL);
                        g_autoptr(GError) ignored = NULL;

                        netiso_ipt_batch_event(undo, config, after, before, NULL,
                                               netiso_ipt_families[0].family, /* hooks */ FALSE);
                        if (!netiso_ipt_restore(fw, netiso_ipt_families[0].restore, undo->str,
                                                &ignored))
                                rebuild(fw, config, before, 0, NULL);
                }
                g_propagate_error(error, g_steal_pointer(&failed));
                return FALSE;
        }
        return TRUE;
}

/* table inet blixard refuses an address owned by another tap (its
 * addr_owner maps); iptables has no such map, so refuse it here. */
static gboolean
check_conflicts(const NetisoPolicy *policy, const NetisoIptSet *others, GError **error)
{
        g_autoptr(GHashTable) owners = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

        for (guint i = 0; i < others->ports->len; i++) {
                const NetisoIptPort *p = g_ptr_array_index(others->ports, i);
                for (guint a = 0; a < p->addresses->len; a++)
                        g_hash_table_insert(
                                owners,
                                netiso_cidr_to_string(&g_array_index(p->addresses, NetisoCidr, a),
                                                      /* with_host_prefix */ FALSE),
                                p->tap);
        }
        for (guint i = 0; i < policy->ports->len; i++) {
                const NetisoPolicyPort *p = g_ptr_array_index(policy->ports, i);

                for (guint a = 0; a < p->addresses->len; a++) {
                        g_autofree char *s =
                                netiso_cidr_to_string(&g_array_index(p->addresses, NetisoCidr, a),
                                                      /* with_host_prefix */ FALSE);
                        const char *owner = g_hash_table_lookup(owners, s);

                        if (!owner || g_str_equal(owner, p->tap))
                                continue;
                        g_set_error(
                                error, NETISO_ERROR, NETISO_ERROR_CONFLICT,
                                "domain '%s': address %s of interface %u is already installed for another guest's tap",
                                policy->domain, s, p->iface_index);
                        return FALSE;
                }
        }
        return TRUE;
}

static gboolean
ipt_apply(NetisoFirewall *fw, const NetisoConfig *config, const NetisoPolicy *policy,
          const NetisoRecord *old, GError **error)
{
        g_autoptr(NetisoIptSet) others = NULL;
        g_autoptr(NetisoIptSet) before = NULL;
        g_autoptr(NetisoIptSet) after = NULL;
        g_autoptr(GPtrArray) verify = g_ptr_array_new();

        if (!netiso_policy_is_routed(policy, error))
                return FALSE;
        others = netiso_ipt_load_set(config, NULL, policy->domain, error);
        if (!others || !netiso_ipt_set_finish(others, error))
                return FALSE;
        if (!check_conflicts(policy, others, error))
                return FALSE;
        before = netiso_ipt_set_copy(others);
        after = netiso_ipt_set_copy(others);
        if (old && old->backend == NETISO_BACKEND_IPTABLES &&
            !netiso_ipt_set_add_record(before, old, error))
                return FALSE;
        for (guint i = 0; i < policy->ports->len; i++) {
                const NetisoPolicyPort *p = g_ptr_array_index(policy->ports, i);
                if (!netiso_ipt_set_add(after, p->tap, policy->tenant, policy->flow_id,
                                        p->addresses, error))
                        return FALSE;
                g_ptr_array_add(verify, p->tap);
        }
        if (!netiso_ipt_set_finish(before, error) || !netiso_ipt_set_finish(after, error))
                return FALSE;
        return commit_event(fw, config, before, after, verify, /* install */ TRUE, error);
}

static gboolean
ipt_remove(NetisoFirewall *fw, const NetisoConfig *config, const NetisoRecord *old, GError **error)
{
        g_autoptr(NetisoIptSet) after = netiso_ipt_load_set(config, NULL, old->domain, error);
        g_autoptr(NetisoIptSet) before = NULL;
        g_autoptr(GError) local = NULL;

        if (!after)
                return FALSE;
        before = netiso_ipt_set_copy(after);
        /* A record we could not have rendered installed nothing. */
        if (!netiso_ipt_set_add_record(before, old, &local))
                return TRUE;
        if (!netiso_ipt_set_finish(before, &local) || !netiso_ipt_set_finish(after, &local) ||
            !commit_event(fw, config, before, after, NULL, /* install */ FALSE, &local)) {
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_FIREWALL,
                            "domain '%s': its iptables rules may remain: %s", old->domain,
                            local->message);
                return FALSE;
        }
        return TRUE;
}

static gboolean
ipt_sync(NetisoFirewall *fw, const NetisoConfig *config, GPtrArray *records, GError **error)
{
        g_autoptr(NetisoIptSet) set = netiso_ipt_load_set(config, records, NULL, error);

        if (!set || !netiso_ipt_set_finish(set, error))
                return FALSE;
        for (gsize f = 0; f < NETISO_IPT_FAMILIES; f++)
                if (!rebuild(fw, config, set, f, error))
                        return FALSE;
        return TRUE;
}

static gboolean
ipt_purge(NetisoFirewall *fw, GError **error)
{
        for (gsize f = 0; f < NETISO_IPT_FAMILIES; f++) {
                g_autofree char *save = g_find_program_in_path(netiso_ipt_families[f].save);
                NetisoIptRuleset *current[_NETISO_IPT_TABLE_MAX] = { NULL };
                g_autoptr(GString) out = g_string_new(NULL);

                /* Without the tools nothing of ours can be there. */
                if (!save)
                        continue;
                if (!netiso_ipt_read_tables(fw, f, current, error))
                        return FALSE;
                netiso_ipt_batch_purge(out, current);
                netiso_ipt_tables_clear(current);
                if (out->len &&
                    !netiso_ipt_restore(fw, netiso_ipt_families[f].restore, out->str, error))
                        return FALSE;
        }
        return TRUE;
}

const NetisoBackendOps netiso_backend_ipt = {
        .kind = NETISO_BACKEND_IPTABLES,
        .apply = ipt_apply,
        .remove = ipt_remove,
        .sync = ipt_sync,
        .purge = ipt_purge,
};
