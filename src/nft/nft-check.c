/* Reading table inet blixard and table bridge blixard back: the drift of
 * reconcile --check, the status of each tap with its drop counters, and
 * watch's quick probe, all from nft's JSON listing compared with the
 * rendering and the records. */
#include "autoconfig.h"

#include <string.h>

#include "core/policy.h"
#include "core/remote.h"
#include "nft/nft-backend.h"
#include "nft/nft-bridged.h"
#include "nft/nft-check.h"
#include "nft/nft-lib.h"
#include "nft/nft-listing.h"
#include "nft/nft-skeleton.h"
#include "util/error.h"

#define T "inet " NETISO_NFT_TABLE
#define B NETISO_NFT_BRIDGE

/* Both tables' listings: [0] inet, [1] bridge. */
typedef struct {
        NetisoNftListing *table[2];
        gboolean present[2];
} Listings;

static void
listings_clear(Listings *l)
{
        g_clear_pointer(&l->table[0], netiso_nft_listing_free);
        g_clear_pointer(&l->table[1], netiso_nft_listing_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Listings, listings_clear)

/* Rules per chain as the skeleton renders them for this configuration and
 * the bridge table's mode. */
static GHashTable *
expected_rule_counts(const NetisoConfig *config)
{
        g_autofree char *mark = NULL;
        GHashTable *counts = NULL;

        netiso_nft_skeleton_facts(config, netiso_nft_bridge_conntrack_on(config), &mark, &counts);
        return counts;
}

static gboolean
missing(const GError *e)
{
        return strstr(e->message, "No such file or directory") != NULL;
}

char *
netiso_nft_quick_check(NetisoFirewall *fw, const NetisoConfig *config, GError **error)
{
        static const struct {
                const char *table, *chain, *key, *name;
        } probes[] = {
                { T, "forward", "forward", "table inet " NETISO_NFT_TABLE },
                { B, "prerouting", "bridge prerouting", "table " NETISO_NFT_BRIDGE },
        };
        g_autoptr(GHashTable) counts = expected_rule_counts(config);

        for (gsize i = 0; i < G_N_ELEMENTS(probes); i++) {
                g_autoptr(GError) local = NULL;
                g_autofree char *cmd =
                        g_strdup_printf("list chain %s %s", probes[i].table, probes[i].chain);
                g_autofree char *text = netiso_nft_query(fw, cmd, /* json */ TRUE, &local);
                g_autoptr(NetisoNftListing) listing = NULL;
                guint want = GPOINTER_TO_UINT(g_hash_table_lookup(counts, probes[i].key));
                guint rules = 0;

                if (!text) {
                        if (!missing(local)) {
                                g_propagate_error(error, g_steal_pointer(&local));
                                return NULL;
                        }
                        return g_strdup_printf("%s or its chain %s is missing", probes[i].name,
                                               probes[i].chain);
                }
                listing = netiso_nft_listing_parse(text, error);
                if (!listing)
                        return NULL;
                netiso_nft_listing_chain_rules(listing, probes[i].chain, &rules);
                if (rules != want)
                        return g_strdup_printf("%s: chain %s has %u rules, expected %u",
                                               probes[i].name, probes[i].chain, rules, want);
        }
        return NULL;
}

static void
check_chains(const Listings *l, const NetisoConfig *config, GPtrArray *drift)
{
        g_autoptr(GHashTable) counts = expected_rule_counts(config);
        g_autoptr(GList) names = g_list_sort(g_hash_table_get_keys(counts), (GCompareFunc)strcmp);

        for (GList *n = names; n; n = n->next) {
                const char *key = n->data;
                gboolean bridge = g_str_has_prefix(key, "bridge ");
                const char *chain = bridge ? key + strlen("bridge ") : key;
                guint want = GPOINTER_TO_UINT(g_hash_table_lookup(counts, key));
                guint rules = 0;

                if (!l->present[bridge])
                        continue;
                if (!netiso_nft_listing_chain_rules(l->table[bridge], chain, &rules))
                        g_ptr_array_add(drift, g_strdup_printf("chain %s is missing", key));
                else if (rules != want)
                        g_ptr_array_add(drift, g_strdup_printf("chain %s has %u rules, expected %u",
                                                               key, rules, want));
        }
}

static void
expect_element(const NetisoNftListing *listing, GPtrArray *drift, const char *domain,
               const char *table, const char *set, const char *element)
{
        if (!netiso_nft_listing_has_element(listing, set, element))
                g_ptr_array_add(drift, g_strdup_printf("domain '%s': %s%s lacks %s", domain, table,
                                                       set, element));
}

static void
check_routed(const Listings *l, const NetisoRecord *rec, const NetisoRecordPort *p,
             GPtrArray *drift)
{
        const NetisoNftListing *listing = l->table[0];
        g_autofree char *q = g_strdup_printf("\"%s\"", p->tap);
        g_autofree char *vmap = g_strdup_printf("%s : jump tenant-%s", q, rec->tenant);
        g_autofree char *tset = g_strdup_printf("tenant-%s-ifs", rec->tenant);

        expect_element(listing, drift, rec->domain, "", "guest_ifs", q);
        expect_element(listing, drift, rec->domain, "", "guest_drops", q);
        expect_element(listing, drift, rec->domain, "", "guest_tenant", vmap);
        expect_element(listing, drift, rec->domain, "", tset, q);
        if (rec->flow_id) {
                /* A zone and a mark alike: the listing's integers. */
                g_autofree char *map = g_strdup_printf("%s : %u", q, rec->flow_id);
                g_autofree char *pair = g_strdup_printf("%s . %u", q, rec->flow_id);

                expect_element(listing, drift, rec->domain, "", "zone_by_tap", map);
                expect_element(listing, drift, rec->domain, "", "mark_by_tap", map);
                expect_element(listing, drift, rec->domain, "", "flow_zone", pair);
                expect_element(listing, drift, rec->domain, "", "flow_mark", pair);
        }
        for (guint a = 0; a < p->addresses->len; a++) {
                const NetisoCidr *c = &g_array_index(p->addresses, NetisoCidr, a);
                g_autofree char *s = netiso_cidr_to_string(c, /* with_host_prefix */ FALSE);
                g_autofree char *src = g_strdup_printf("%s . %s", q, s);
                g_autofree char *own = g_strdup_printf("%s : %s", s, q);
                gboolean v4 = c->family == NETISO_FAMILY_IPV4;

                expect_element(listing, drift, rec->domain, "",
                               v4 ? "guest_src_v4" : "guest_src_v6", src);
                expect_element(listing, drift, rec->domain, "",
                               v4 ? "addr_owner_v4" : "addr_owner_v6", own);
        }
}

static void
check_record(const Listings *l, const NetisoRecord *rec, GPtrArray *drift, GHashTable *claimed)
{
        static const guint tenant_rules[2] = { 3, 1 };
        g_autofree char *tchain = g_strdup_printf("tenant-%s", rec->tenant);

        for (int t = 0; t < 2; t++) {
                guint rules = 0;

                if (l->present[t] &&
                    (!netiso_nft_listing_chain_rules(l->table[t], tchain, &rules) ||
                     rules != tenant_rules[t]))
                        g_ptr_array_add(
                                drift,
                                g_strdup_printf("domain '%s': chain %s%s is missing or altered",
                                                rec->domain, t ? "bridge " : "", tchain));
        }
        for (guint i = 0; i < rec->ports->len; i++) {
                const NetisoRecordPort *p = g_ptr_array_index(rec->ports, i);
                g_autoptr(GPtrArray) elements = NULL;

                g_hash_table_add(claimed,
                                 g_strdup_printf("%s\"%s\"", p->bridge ? "B" : "T", p->tap));
                if (!p->bridge) {
                        check_routed(l, rec, p, drift);
                        continue;
                }
                elements = netiso_nft_bridged_elements(p, rec->tenant, rec->flow_id);
                for (guint k = 0; k < elements->len; k++) {
                        const NetisoNftElement *e = g_ptr_array_index(elements, k);

                        if (l->present[e->bridge])
                                expect_element(l->table[e->bridge], drift, rec->domain,
                                               e->bridge ? "bridge " : "", e->set, e->listed);
                }
        }
}

/* Guests of other hosts (cluster): the maps hold exactly the journal's
 * addresses, and each tenant's chain its rules. Lines start "remote " so
 * that `why` can keep those about its own two ends. */
static void
check_remote(const NetisoNftListing *listing, const NetisoConfig *config, GPtrArray *drift)
{
        g_autoptr(NetisoRules) r = netiso_rules_new(config);
        g_autoptr(GError) error = NULL;
        g_autoptr(NetisoRemote) remote = netiso_remote_load(config->state_dir, NULL, &error);
        g_autoptr(GHashTable) want = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        guint rules_per_chain = r->peers == NETISO_PEERS_SAME_TENANT ? 2
                                : r->peers == NETISO_PEERS_ALL       ? 1
                                                                     : 0;
        GHashTableIter it;
        gpointer tenant;
        GPtrArray *all;

        if (!remote) {
                g_ptr_array_add(drift, g_strdup_printf("remote guests: %s", error->message));
                return;
        }
        all = netiso_remote_list(remote);
        for (guint i = 0; i < all->len; i++) {
                const NetisoRemoteAddr *e = g_ptr_array_index(all, i);
                g_autofree char *a = netiso_cidr_to_string(&e->addr, FALSE);
                const char *map = e->addr.family == NETISO_FAMILY_IPV4 ? "remote_v4" : "remote_v6";
                char *element = g_strdup_printf("%s : jump remote-%s", a, e->tenant);

                if (!netiso_nft_listing_has_element(listing, map, element))
                        g_ptr_array_add(drift,
                                        g_strdup_printf("remote address %s (guest %s of host %s, "
                                                        "tenant %s) is not installed",
                                                        a, e->name, e->node, e->tenant));
                g_hash_table_add(want, element);
        }
        for (guint f = 0; f < 2; f++) {
                GPtrArray *have = g_hash_table_lookup(listing->sets, f ? "remote_v6" : "remote_v4");
                for (guint i = 0; have && i < have->len; i++)
                        if (!g_hash_table_contains(want, g_ptr_array_index(have, i)))
                                g_ptr_array_add(
                                        drift,
                                        g_strdup_printf("remote address %s is installed "
                                                        "but no guest of another host has it",
                                                        (const char *)g_ptr_array_index(have, i)));
        }
        g_hash_table_iter_init(&it, netiso_remote_tenants(remote));
        while (g_hash_table_iter_next(&it, &tenant, NULL)) {
                g_autofree char *chain = g_strdup_printf("remote-%s", (const char *)tenant);
                guint rules = 0;

                if (!netiso_nft_listing_chain_rules(listing, chain, &rules) ||
                    rules != rules_per_chain)
                        g_ptr_array_add(drift, g_strdup_printf("remote tenant %s: chain %s is "
                                                               "missing or altered",
                                                               (const char *)tenant, chain));
        }
}

static gboolean
list_table(NetisoFirewall *fw, Listings *l, int t, GError **error)
{
        g_autoptr(GError) local = NULL;
        g_autofree char *text = netiso_nft_query(fw, t ? "list table " B : "list table " T,
                                                 /* json */ TRUE, &local);

        if (!text && !missing(local)) {
                g_propagate_error(error, g_steal_pointer(&local));
                return FALSE;
        }
        l->present[t] = text != NULL;
        l->table[t] = netiso_nft_listing_parse(text ? text : "", error);
        return l->table[t] != NULL;
}

static gboolean
list_tables(NetisoFirewall *fw, Listings *l, GError **error)
{
        return list_table(fw, l, 0, error) && list_table(fw, l, 1, error);
}

/* Taps in a table's guest_ifs that no record claims. */
static void
check_unclaimed(const Listings *l, GHashTable *claimed, GPtrArray *drift)
{
        for (int t = 0; t < 2; t++) {
                GPtrArray *installed = g_hash_table_lookup(l->table[t]->sets, "guest_ifs");

                for (guint i = 0; installed && i < installed->len; i++) {
                        const char *tap = g_ptr_array_index(installed, i);
                        g_autofree char *key = g_strdup_printf("%s%s", t ? "B" : "T", tap);

                        if (!g_hash_table_contains(claimed, key))
                                g_ptr_array_add(
                                        drift,
                                        g_strdup_printf(
                                                "%stap %s is installed but no domain record claims it",
                                                t ? "bridge port: " : "", tap));
                }
        }
}

static gboolean
check_listed(const Listings *l, const NetisoConfig *config, GPtrArray *records, GPtrArray *drift)
{
        g_autoptr(GHashTable) claimed =
                g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

        if (!l->present[0])
                g_ptr_array_add(drift, g_strdup("table inet " NETISO_NFT_TABLE " is missing"));
        if (!l->present[1])
                g_ptr_array_add(drift, g_strdup("table " NETISO_NFT_BRIDGE " is missing"));
        if (!l->present[0] && !l->present[1])
                return TRUE;
        check_chains(l, config, drift);
        for (guint i = 0; i < records->len; i++) {
                const NetisoRecord *rec = g_ptr_array_index(records, i);
                if (rec->backend == NETISO_BACKEND_NFTABLES)
                        check_record(l, rec, drift, claimed);
        }
        if (config->cluster && l->present[0])
                check_remote(l->table[0], config, drift);
        check_unclaimed(l, claimed, drift);
        return TRUE;
}

gboolean
netiso_nft_check(NetisoFirewall *fw, const NetisoConfig *config, GPtrArray *records,
                 GPtrArray *drift, GError **error)
{
        g_auto(Listings) l = { 0 };

        return list_tables(fw, &l, error) && check_listed(&l, config, records, drift);
}

/* The named counters of the drop chains (nft-skeleton.c), per reason, of
 * both tables. */
static void
count_reasons(NetisoInspection *in, const Listings *l)
{
        in->reasons_counted = TRUE;
        for (int r = 0; r < _NETISO_DROP_MAX; r++) {
                g_autofree char *name =
                        g_strdup_printf("drops_%s", netiso_drop_reason_to_string(r));

                for (int t = 0; t < 2; t++) {
                        const NetisoNftCounter *c =
                                g_hash_table_lookup(l->table[t]->named_counters, name);

                        if (!c) {
                                in->reasons_counted = in->reasons_counted && !l->present[t] && t;
                                continue;
                        }
                        in->reason_packets[r] += c->packets;
                        in->reason_bytes[r] += c->bytes;
                }
        }
}

static void
add_counter(NetisoTapStatus *ts, const NetisoNftListing *listing, const char *element)
{
        const NetisoNftCounter *c = g_hash_table_lookup(listing->counters, element);

        if (!c)
                return;
        ts->drop_packets += c->packets;
        ts->drop_bytes += c->bytes;
}

/* A tap's drops: a routed tap's counter, or a bridged port's counter in
 * table bridge and its addresses' counters in table inet. */
static NetisoTapStatus *
tap_status(const Listings *l, const NetisoRecord *rec, const NetisoRecordPort *p)
{
        NetisoTapStatus *ts = g_new0(NetisoTapStatus, 1);
        g_autofree char *q = g_strdup_printf("\"%s\"", p->tap);
        g_autoptr(GPtrArray) elements = NULL;

        ts->tap = g_strdup(p->tap);
        if (!p->bridge) {
                ts->present = netiso_nft_listing_has_element(l->table[0], "guest_ifs", q);
                add_counter(ts, l->table[0], q);
                return ts;
        }
        ts->present = netiso_nft_listing_has_element(l->table[1], "guest_ifs", q);
        elements = netiso_nft_bridged_elements(p, rec->tenant, rec->flow_id);
        for (guint k = 0; k < elements->len; k++) {
                const NetisoNftElement *e = g_ptr_array_index(elements, k);
                if (e->counter)
                        add_counter(ts, l->table[e->bridge], e->listed);
        }
        return ts;
}

NetisoInspection *
netiso_nft_inspect(NetisoFirewall *fw, const NetisoConfig *config, GPtrArray *records,
                   GError **error)
{
        g_autoptr(NetisoInspection) in = netiso_inspection_new();
        g_autofree char *chains = NULL;
        g_auto(Listings) l = { 0 };
        g_autoptr(GPtrArray) foreign = NULL;

        if (!list_tables(fw, &l, error) || !check_listed(&l, config, records, in->problems))
                return NULL;
        in->objects_present = l.present[0] && l.present[1];
        in->objects_intact = in->objects_present && in->problems->len == 0;
        count_reasons(in, &l);
        for (guint i = 0; i < records->len; i++) {
                const NetisoRecord *rec = g_ptr_array_index(records, i);
                for (guint j = 0; j < rec->ports->len; j++)
                        g_ptr_array_add(in->taps,
                                        tap_status(&l, rec, g_ptr_array_index(rec->ports, j)));
        }
        /* Warnings only: a listing that cannot be read leaves them out. */
        chains = netiso_nft_query(fw, "list chains", /* json */ TRUE, NULL);
        foreign = netiso_nft_foreign_drop_chains(chains, NETISO_NFT_TABLE, NULL);
        for (guint i = 0; foreign && i < foreign->len; i++)
                g_ptr_array_add(
                        in->warnings,
                        g_strdup_printf(
                                "%s: its drops apply to guest traffic too, and our accepts cannot override them",
                                (const char *)g_ptr_array_index(foreign, i)));
        return g_steal_pointer(&in);
}

const NetisoBackendInspect netiso_inspect_nft = {
        .kind = NETISO_BACKEND_NFTABLES,
        .check = netiso_nft_check,
        .inspect = netiso_nft_inspect,
        .probe = netiso_nft_quick_check,
};
