/* Drift and status of the iptables backend: the filter and raw tables of
 * both families are read back with iptables-save -c and compared, chain by
 * chain, with the full rendering of the records; the per-tap drop counters
 * are summed from the leaf rules that drop. */
#include "autoconfig.h"

#include <string.h>

#include "ipt/ipt-backend.h"
#include "ipt/ipt-check.h"
#include "ipt/ipt-render.h"

/* Chains that differ are reported one per line up to this many per family,
 * then counted: a flushed table should not print thousands of lines. */
#define DRIFT_CHAINS_MAX 20

/* have[family][table] */
typedef NetisoIptRuleset *Tables[NETISO_IPT_FAMILIES][_NETISO_IPT_TABLE_MAX];

static void
clear_tables(Tables have)
{
        for (gsize f = 0; f < NETISO_IPT_FAMILIES; f++)
                netiso_ipt_tables_clear(have[f]);
}

static gboolean
read_tables(NetisoFirewall *fw, Tables ret, GError **error)
{
        for (gsize f = 0; f < NETISO_IPT_FAMILIES; f++) {
                if (!netiso_ipt_read_tables(fw, f, ret[f], error)) {
                        clear_tables(ret);
                        return FALSE;
                }
        }
        return TRUE;
}

/* The interface after "-i " or "-o " (opt), or NULL. Caller frees. */
static char *
rule_iface(const char *spec, const char *opt)
{
        gsize n = strlen(opt);

        for (const char *p = spec; (p = strstr(p, opt)); p += n) {
                if ((p == spec || p[-1] == ' ') && p[n] == ' ')
                        return g_strndup(p + n + 1, strcspn(p + n + 1, " "));
        }
        return NULL;
}

/* A chain name for people: tenant chains say whose they are. */
static char *
chain_label(const char *chain, GHashTable *tenants)
{
        if (g_str_has_prefix(chain, "BLXG") || g_str_has_prefix(chain, "BLXK")) {
                g_autofree char *id = g_strndup(chain + 4, NETISO_IPT_TENANT_ID_LEN);
                const char *tenant = g_hash_table_lookup(tenants, id);
                if (tenant)
                        return g_strdup_printf("%s (tenant %s)", chain, tenant);
        }
        return g_strdup(chain);
}

static char *
compare_chain(const char *label, const char *chain, GPtrArray *want, GPtrArray *have)
{
        g_autoptr(GHashTable) count = g_hash_table_new(g_str_hash, g_str_equal);
        const char *first_missing = NULL;
        guint missing = 0, extra = 0;

        for (guint i = 0; i < have->len; i++) {
                const char *spec = ((NetisoIptRule *)g_ptr_array_index(have, i))->spec;
                guint n = GPOINTER_TO_UINT(g_hash_table_lookup(count, spec));
                g_hash_table_insert(count, (gpointer)spec, GUINT_TO_POINTER(n + 1));
        }
        for (guint i = 0; i < want->len; i++) {
                const char *spec = ((NetisoIptRule *)g_ptr_array_index(want, i))->spec;
                guint n = GPOINTER_TO_UINT(g_hash_table_lookup(count, spec));

                if (n > 0) {
                        g_hash_table_insert(count, (gpointer)spec, GUINT_TO_POINTER(n - 1));
                } else {
                        missing++;
                        first_missing = first_missing ? first_missing : spec;
                }
        }
        extra = have->len - (want->len - missing);
        if (!missing && !extra)
                return NULL;
        return g_strdup_printf("%s: chain %s is altered: %u rules missing%s%s%s, %u unexpected",
                               label, chain, missing, first_missing ? " (first: '" : "",
                               first_missing ? first_missing : "", first_missing ? "')" : "",
                               extra);
}

static void
check_chains(GPtrArray *drift, const char *label, const NetisoIptRuleset *want,
             const NetisoIptRuleset *have, GHashTable *tenants)
{
        guint reported = 0, more = 0;

        for (guint i = 0; i < want->chains->len; i++) {
                const char *chain = g_ptr_array_index(want->chains, i);
                GPtrArray *rules = netiso_ipt_ruleset_rules(have, chain);
                g_autofree char *name = chain_label(chain, tenants);
                char *line = rules ? compare_chain(label, name,
                                                   netiso_ipt_ruleset_rules(want, chain), rules)
                                   : g_strdup_printf("%s: chain %s is missing", label, name);

                if (!line)
                        continue;
                if (reported++ < DRIFT_CHAINS_MAX)
                        g_ptr_array_add(drift, line);
                else
                        more++, g_free(line);
        }
        for (guint i = 0; i < have->chains->len; i++) {
                const char *chain = g_ptr_array_index(have->chains, i);
                if (!netiso_ipt_chain_is_ours(chain) || netiso_ipt_ruleset_has_chain(want, chain))
                        continue;
                if (reported++ < DRIFT_CHAINS_MAX)
                        g_ptr_array_add(
                                drift,
                                g_strdup_printf("%s: chain %s is not explained by any record",
                                                label, chain));
                else
                        more++;
        }
        if (more)
                g_ptr_array_add(drift, g_strdup_printf("%s: %u more chains differ", label, more));
}

static void
check_hooks(GPtrArray *drift, const char *label, NetisoIptRuleset *const *have)
{
        for (gsize h = 0; h < NETISO_IPT_HOOKS; h++) {
                g_autofree char *spec = g_strconcat("-j ", netiso_ipt_hooks[h].ours, NULL);
                GPtrArray *rules = netiso_ipt_ruleset_rules(have[netiso_ipt_hooks[h].table],
                                                            netiso_ipt_hooks[h].builtin);
                guint n = 0;

                for (guint i = 0; rules && i < rules->len; i++)
                        n += g_str_equal(((NetisoIptRule *)g_ptr_array_index(rules, i))->spec,
                                         spec);
                if (n == 0)
                        g_ptr_array_add(drift, g_strdup_printf("%s: %s does not jump to %s", label,
                                                               netiso_ipt_hooks[h].builtin,
                                                               netiso_ipt_hooks[h].ours));
                else if (n > 1)
                        g_ptr_array_add(drift, g_strdup_printf("%s: %s jumps to %s %u times", label,
                                                               netiso_ipt_hooks[h].builtin,
                                                               netiso_ipt_hooks[h].ours, n));
        }
}

/* Taps with a leaf in the forwarding trie: those the kernel dispatches. */
static GHashTable *
installed_taps(const NetisoIptRuleset *have)
{
        GHashTable *taps = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

        for (guint i = 0; i < have->chains->len; i++) {
                const char *chain = g_ptr_array_index(have->chains, i);
                GPtrArray *rules = netiso_ipt_ruleset_rules(have, chain);

                if (!g_str_has_prefix(chain, "BLXFI-"))
                        continue;
                for (guint k = 0; k < rules->len; k++) {
                        const char *spec = ((NetisoIptRule *)g_ptr_array_index(rules, k))->spec;
                        g_autofree char *target = netiso_ipt_rule_target(spec);
                        if (g_strcmp0(target, NETISO_IPT_SPOOF) == 0)
                                g_hash_table_add(taps, rule_iface(spec, "-i"));
                }
        }
        return taps;
}

static void
check_taps(GPtrArray *drift, const char *label, const NetisoIptRuleset *have,
           const NetisoIptSet *set, GPtrArray *records)
{
        g_autoptr(GHashTable) installed = installed_taps(have);
        g_autoptr(GList) names =
                g_list_sort(g_hash_table_get_keys(installed), (GCompareFunc)strcmp);

        for (guint i = 0; i < records->len; i++) {
                const NetisoRecord *rec = g_ptr_array_index(records, i);
                for (guint k = 0; rec->backend == NETISO_BACKEND_IPTABLES && k < rec->ports->len;
                     k++) {
                        const NetisoRecordPort *p = g_ptr_array_index(rec->ports, k);
                        if (!g_hash_table_contains(installed, p->tap))
                                g_ptr_array_add(
                                        drift,
                                        g_strdup_printf("domain '%s': %s: tap %s is not installed",
                                                        rec->domain, label, p->tap));
                }
        }
        for (GList *l = names; l; l = l->next)
                if (!netiso_ipt_set_lookup(set, l->data))
                        g_ptr_array_add(
                                drift,
                                g_strdup_printf(
                                        "%s: tap %s is installed but no domain record claims it",
                                        label, (const char *)l->data));
}

static void
check_family(GPtrArray *drift, const NetisoConfig *config, const NetisoIptSet *set, gsize f,
             NetisoIptRuleset *const *have, GPtrArray *records)
{
        g_autoptr(GHashTable) tenants = g_hash_table_new(g_str_hash, g_str_equal);

        for (guint i = 0; i < set->ports->len; i++) {
                const NetisoIptPort *p = g_ptr_array_index(set->ports, i);
                g_hash_table_insert(tenants, (gpointer)p->tenant_id, p->tenant);
        }
        check_hooks(drift, netiso_ipt_families[f].label, have);
        for (int t = 0; t < _NETISO_IPT_TABLE_MAX; t++) {
                g_autoptr(NetisoIptRuleset) want =
                        netiso_ipt_render_full(config, set, netiso_ipt_families[f].family, t);
                /* "iptables", "iptables raw", ... */
                g_autofree char *label =
                        t == NETISO_IPT_TABLE_FILTER
                                ? g_strdup(netiso_ipt_families[f].label)
                                : g_strdup_printf("%s %s", netiso_ipt_families[f].label,
                                                  netiso_ipt_table_name(t));

                check_chains(drift, label, want, have[t], tenants);
        }
        check_taps(drift, netiso_ipt_families[f].label, have[NETISO_IPT_TABLE_FILTER], set,
                   records);
}

static gboolean
check_tables(const NetisoConfig *config, GPtrArray *records, Tables have, GPtrArray *drift,
             GError **error)
{
        g_autoptr(NetisoIptSet) set = netiso_ipt_load_set(config, records, NULL, error);

        if (!set || !netiso_ipt_set_finish(set, error))
                return FALSE;
        for (gsize f = 0; f < NETISO_IPT_FAMILIES; f++)
                check_family(drift, config, set, f, have[f], records);
        return TRUE;
}

gboolean
netiso_ipt_check(NetisoFirewall *fw, const NetisoConfig *config, GPtrArray *records,
                 GPtrArray *ret_drift, GError **error)
{
        Tables have = { { NULL } };
        gboolean ok;

        if (!read_tables(fw, have, error))
                return FALSE;
        ok = check_tables(config, records, have, ret_drift, error);
        clear_tables(have);
        return ok;
}

/* ---- status ---- */

typedef struct {
        guint64 packets;
        guint64 bytes;
        guint families; /* in how many families the tap has its leaf */
} TapCount;

static gboolean
is_drop_target(const char *target)
{
        return g_strcmp0(target, NETISO_IPT_SPOOF) == 0 ||
               g_strcmp0(target, NETISO_IPT_BLOCK) == 0 ||
               g_strcmp0(target, NETISO_IPT_INBOUND) == 0;
}

static int
drop_reason(const char *target)
{
        if (g_strcmp0(target, NETISO_IPT_SPOOF) == 0)
                return NETISO_DROP_SPOOFED;
        if (g_strcmp0(target, NETISO_IPT_INBOUND) == 0)
                return NETISO_DROP_INBOUND;
        return NETISO_DROP_BLOCKED;
}

/* Trie nodes whose leaves drop: by the source tap (*ret_from) or by the
 * destination tap. */
static gboolean
is_leaf_chain(const char *chain, gboolean *ret_from)
{
        static const char *const from[] = { "BLXFI-", "BLXII-", "BLXPI-" };
        static const char *const to[] = { "BLXFO-", "BLXDM-", "BLXBO-", "BLXOO-" };

        *ret_from = FALSE;
        for (gsize i = 0; i < G_N_ELEMENTS(from); i++)
                if (g_str_has_prefix(chain, from[i])) {
                        *ret_from = TRUE;
                        return TRUE;
                }
        for (gsize i = 0; i < G_N_ELEMENTS(to); i++)
                if (g_str_has_prefix(chain, to[i]))
                        return TRUE;
        return FALSE;
}

/* Drops per reason: the leaves' drops by their target (those counters
 * survive events that do not touch the tap), and the fail-closed drops of
 * the top chains (rewritten, so counted afresh, on every event). */
static void
count_reasons(NetisoInspection *in, const NetisoIptRuleset *have)
{
        const char *const tops[] = { NETISO_IPT_FWD, NETISO_IPT_IN, NETISO_IPT_OUT,
                                     NETISO_IPT_PRE };
        gboolean from;

        in->reasons_counted = TRUE;
        for (guint i = 0; i < have->chains->len; i++) {
                const char *chain = g_ptr_array_index(have->chains, i);
                GPtrArray *rules = netiso_ipt_ruleset_rules(have, chain);

                if (!is_leaf_chain(chain, &from))
                        continue;
                for (guint k = 0; k < rules->len; k++) {
                        const NetisoIptRule *r = g_ptr_array_index(rules, k);
                        g_autofree char *target = netiso_ipt_rule_target(r->spec);

                        if (!is_drop_target(target))
                                continue;
                        in->reason_packets[drop_reason(target)] += r->packets;
                        in->reason_bytes[drop_reason(target)] += r->bytes;
                }
        }
        for (gsize t = 0; t < G_N_ELEMENTS(tops); t++) {
                GPtrArray *rules = netiso_ipt_ruleset_rules(have, tops[t]);

                for (guint k = 0; rules && k < rules->len; k++) {
                        const NetisoIptRule *r = g_ptr_array_index(rules, k);
                        g_autofree char *target = netiso_ipt_rule_target(r->spec);

                        if (g_strcmp0(target, "DROP") != 0)
                                continue;
                        in->reason_packets[NETISO_DROP_UNPROTECTED] += r->packets;
                        in->reason_bytes[NETISO_DROP_UNPROTECTED] += r->bytes;
                }
        }
}

/* Drops are counted on the leaf rule that sent the packet to a drop chain:
 * per source tap for its own packets, per destination tap for packets
 * refused on their way to it (inbound, and from another tenant's guest). */
static void
count_drops(GHashTable *counts, const NetisoIptRuleset *have)
{
        for (guint i = 0; i < have->chains->len; i++) {
                const char *chain = g_ptr_array_index(have->chains, i);
                GPtrArray *rules = netiso_ipt_ruleset_rules(have, chain);
                gboolean from;

                if (!is_leaf_chain(chain, &from))
                        continue;
                for (guint k = 0; k < rules->len; k++) {
                        const NetisoIptRule *r = g_ptr_array_index(rules, k);
                        g_autofree char *target = netiso_ipt_rule_target(r->spec);
                        g_autofree char *tap = NULL;
                        TapCount *c;

                        if (!is_drop_target(target))
                                continue;
                        tap = rule_iface(r->spec, from ? "-i" : "-o");
                        if (!tap || strchr(tap, '+'))
                                continue;
                        c = g_hash_table_lookup(counts, tap);
                        if (!c) {
                                c = g_new0(TapCount, 1);
                                g_hash_table_insert(counts, g_strdup(tap), c);
                        }
                        c->packets += r->packets;
                        c->bytes += r->bytes;
                        if (g_str_has_prefix(chain, "BLXFI-") &&
                            g_str_equal(target, NETISO_IPT_SPOOF))
                                c->families++;
                }
        }
}

static void
hook_warnings(GPtrArray *warnings, const char *label, NetisoIptRuleset *const *have)
{
        for (gsize h = 0; h < NETISO_IPT_HOOKS; h++) {
                g_autofree char *spec = g_strconcat("-j ", netiso_ipt_hooks[h].ours, NULL);
                GPtrArray *rules = netiso_ipt_ruleset_rules(have[netiso_ipt_hooks[h].table],
                                                            netiso_ipt_hooks[h].builtin);

                for (guint i = 0; rules && i < rules->len; i++) {
                        if (!g_str_equal(((NetisoIptRule *)g_ptr_array_index(rules, i))->spec,
                                         spec))
                                continue;
                        if (i > 0)
                                g_ptr_array_add(
                                        warnings,
                                        g_strdup_printf(
                                                "%s: %u rules in %s come before the jump to %s: what they accept bypasses isolation until the next event moves it back",
                                                label, i, netiso_ipt_hooks[h].builtin,
                                                netiso_ipt_hooks[h].ours));
                        break;
                }
        }
}

static void
fill_inspection(NetisoInspection *in, GPtrArray *records, Tables have)
{
        g_autoptr(GHashTable) counts =
                g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);

        for (gsize f = 0; f < NETISO_IPT_FAMILIES; f++) {
                /* Present: anything of ours, in either family or table
                 * (reconcile purges leftovers by it); missing parts are drift. */
                for (int t = 0; t < _NETISO_IPT_TABLE_MAX; t++) {
                        for (guint i = 0; i < have[f][t]->chains->len; i++)
                                in->objects_present |= netiso_ipt_chain_is_ours(
                                        g_ptr_array_index(have[f][t]->chains, i));
                        count_drops(counts, have[f][t]);
                        count_reasons(in, have[f][t]);
                }
                hook_warnings(in->warnings, netiso_ipt_families[f].label, have[f]);
        }
        in->objects_intact = in->objects_present && in->problems->len == 0;
        for (guint i = 0; i < records->len; i++) {
                const NetisoRecord *rec = g_ptr_array_index(records, i);
                for (guint k = 0; k < rec->ports->len; k++) {
                        const NetisoRecordPort *p = g_ptr_array_index(rec->ports, k);
                        const TapCount *c = g_hash_table_lookup(counts, p->tap);
                        NetisoTapStatus *ts = g_new0(NetisoTapStatus, 1);

                        ts->tap = g_strdup(p->tap);
                        ts->present = c && c->families == NETISO_IPT_FAMILIES;
                        ts->drop_packets = c ? c->packets : 0;
                        ts->drop_bytes = c ? c->bytes : 0;
                        g_ptr_array_add(in->taps, ts);
                }
        }
}

NetisoInspection *
netiso_ipt_inspect(NetisoFirewall *fw, const NetisoConfig *config, GPtrArray *records,
                   GError **error)
{
        g_autoptr(NetisoInspection) in = netiso_inspection_new();
        Tables have = { { NULL } };
        gboolean ok;

        if (!read_tables(fw, have, error))
                return NULL;
        ok = check_tables(config, records, have, in->problems, error);
        if (ok)
                fill_inspection(in, records, have);
        clear_tables(have);
        return ok ? g_steal_pointer(&in) : NULL;
}

const NetisoBackendInspect netiso_inspect_ipt = {
        .kind = NETISO_BACKEND_IPTABLES,
        .check = netiso_ipt_check,
        .inspect = netiso_ipt_inspect,
};
