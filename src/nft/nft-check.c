/* Reading table inet blixard back: the drift of reconcile --check, the
 * status of each tap with its drop counters, and watch's quick probe, all
 * from nft's JSON listing compared with the rendering and the records. */
#include "autoconfig.h"

#include <string.h>

#include "core/policy.h"
#include "core/remote.h"
#include "nft/nft-check.h"
#include "nft/nft-lib.h"
#include "nft/nft-listing.h"
#include "nft/nft-skeleton.h"
#include "util/error.h"

#define T "inet " NETISO_NFT_TABLE

/* Rules per chain as the skeleton renders them for this configuration. */
static GHashTable *
expected_rule_counts(const NetisoConfig *config)
{
        g_autofree char *mark = NULL;
        GHashTable *counts = NULL;

        netiso_nft_skeleton_facts(config, &mark, &counts);
        return counts;
}

char *
netiso_nft_quick_check(NetisoFirewall *fw, const NetisoConfig *config, GError **error)
{
        g_autoptr(GHashTable) counts = expected_rule_counts(config);
        g_autoptr(GError) local = NULL;
        g_autofree char *text =
                netiso_nft_query(fw, "list chain " T " forward", /* json */ TRUE, &local);
        g_autoptr(NetisoNftListing) listing = NULL;
        guint want = GPOINTER_TO_UINT(g_hash_table_lookup(counts, "forward"));
        guint rules = 0;

        if (!text) {
                if (!strstr(local->message, "No such file or directory")) {
                        g_propagate_error(error, g_steal_pointer(&local));
                        return NULL;
                }
                return g_strdup("table inet " NETISO_NFT_TABLE " or its chain forward is missing");
        }
        listing = netiso_nft_listing_parse(text, error);
        if (!listing)
                return NULL;
        netiso_nft_listing_chain_rules(listing, "forward", &rules);
        if (rules != want)
                return g_strdup_printf("chain forward has %u rules, expected %u", rules, want);
        return NULL;
}

static void
check_chains(const NetisoNftListing *listing, const NetisoConfig *config, GPtrArray *drift)
{
        g_autoptr(GHashTable) counts = expected_rule_counts(config);
        g_autoptr(GList) names = g_list_sort(g_hash_table_get_keys(counts), (GCompareFunc)strcmp);

        for (GList *l = names; l; l = l->next) {
                guint want = GPOINTER_TO_UINT(g_hash_table_lookup(counts, l->data));
                guint rules = 0;

                if (!netiso_nft_listing_chain_rules(listing, l->data, &rules))
                        g_ptr_array_add(drift, g_strdup_printf("chain %s is missing",
                                                               (const char *)l->data));
                else if (rules != want)
                        g_ptr_array_add(drift, g_strdup_printf("chain %s has %u rules, expected %u",
                                                               (const char *)l->data, rules, want));
        }
}

static void
expect_element(const NetisoNftListing *listing, GPtrArray *drift, const char *domain,
               const char *set, const char *element)
{
        if (!netiso_nft_listing_has_element(listing, set, element))
                g_ptr_array_add(drift,
                                g_strdup_printf("domain '%s': %s lacks %s", domain, set, element));
}

static void
check_record(const NetisoNftListing *listing, const NetisoRecord *rec, GPtrArray *drift,
             GHashTable *claimed)
{
        g_autofree char *tchain = g_strdup_printf("tenant-%s", rec->tenant);
        g_autofree char *tset = g_strdup_printf("tenant-%s-ifs", rec->tenant);
        guint trules = 0;

        if (!netiso_nft_listing_chain_rules(listing, tchain, &trules) || trules != 1)
                g_ptr_array_add(drift,
                                g_strdup_printf("domain '%s': chain %s is missing or altered",
                                                rec->domain, tchain));
        for (guint i = 0; i < rec->ports->len; i++) {
                const NetisoRecordPort *p = g_ptr_array_index(rec->ports, i);
                g_autofree char *q = g_strdup_printf("\"%s\"", p->tap);
                g_autofree char *vmap = g_strdup_printf("%s : jump %s", q, tchain);

                g_hash_table_add(claimed, g_strdup(q));
                expect_element(listing, drift, rec->domain, "guest_ifs", q);
                expect_element(listing, drift, rec->domain, "guest_drops", q);
                expect_element(listing, drift, rec->domain, "guest_tenant", vmap);
                expect_element(listing, drift, rec->domain, tset, q);
                if (rec->flow_id) {
                        /* A zone and a mark alike: the listing's integers. */
                        g_autofree char *map = g_strdup_printf("%s : %u", q, rec->flow_id);
                        g_autofree char *pair = g_strdup_printf("%s . %u", q, rec->flow_id);

                        expect_element(listing, drift, rec->domain, "zone_by_tap", map);
                        expect_element(listing, drift, rec->domain, "mark_by_tap", map);
                        expect_element(listing, drift, rec->domain, "flow_zone", pair);
                        expect_element(listing, drift, rec->domain, "flow_mark", pair);
                }
                for (guint a = 0; a < p->addresses->len; a++) {
                        const NetisoCidr *c = &g_array_index(p->addresses, NetisoCidr, a);
                        g_autofree char *s = netiso_cidr_to_string(c, /* with_host_prefix */ FALSE);
                        g_autofree char *src = g_strdup_printf("%s . %s", q, s);
                        g_autofree char *own = g_strdup_printf("%s : %s", s, q);
                        gboolean v4 = c->family == NETISO_FAMILY_IPV4;

                        expect_element(listing, drift, rec->domain,
                                       v4 ? "guest_src_v4" : "guest_src_v6", src);
                        expect_element(listing, drift, rec->domain,
                                       v4 ? "addr_owner_v4" : "addr_owner_v6", own);
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

static NetisoNftListing *
list_table(NetisoFirewall *fw, gboolean *ret_present, GError **error)
{
        g_autoptr(GError) local = NULL;
        g_autofree char *text = netiso_nft_query(fw, "list table " T, /* json */ TRUE, &local);

        if (!text) {
                if (!strstr(local->message, "No such file or directory")) {
                        g_propagate_error(error, g_steal_pointer(&local));
                        return NULL;
                }
                *ret_present = FALSE;
                return netiso_nft_listing_parse("", error);
        }
        *ret_present = TRUE;
        return netiso_nft_listing_parse(text, error);
}

gboolean
netiso_nft_check(NetisoFirewall *fw, const NetisoConfig *config, GPtrArray *records,
                 GPtrArray *drift, GError **error)
{
        g_autoptr(GHashTable) claimed =
                g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        gboolean present = FALSE;
        g_autoptr(NetisoNftListing) listing = list_table(fw, &present, error);
        GPtrArray *installed;

        if (!listing)
                return FALSE;
        if (!present) {
                g_ptr_array_add(drift, g_strdup("table inet " NETISO_NFT_TABLE " is missing"));
                return TRUE;
        }
        check_chains(listing, config, drift);
        for (guint i = 0; i < records->len; i++) {
                const NetisoRecord *rec = g_ptr_array_index(records, i);
                if (rec->backend == NETISO_BACKEND_NFTABLES)
                        check_record(listing, rec, drift, claimed);
        }
        if (config->cluster)
                check_remote(listing, config, drift);
        installed = g_hash_table_lookup(listing->sets, "guest_ifs");
        for (guint i = 0; installed && i < installed->len; i++) {
                const char *tap = g_ptr_array_index(installed, i);
                if (!g_hash_table_contains(claimed, tap))
                        g_ptr_array_add(
                                drift,
                                g_strdup_printf(
                                        "tap %s is installed but no domain record claims it", tap));
        }
        return TRUE;
}

/* The named counters of the drop chains (nft-skeleton.c), per reason. */
static void
count_reasons(NetisoInspection *in, const NetisoNftListing *listing)
{
        in->reasons_counted = TRUE;
        for (int r = 0; r < _NETISO_DROP_MAX; r++) {
                g_autofree char *name =
                        g_strdup_printf("drops_%s", netiso_drop_reason_to_string(r));
                const NetisoNftCounter *c = g_hash_table_lookup(listing->named_counters, name);

                if (!c) {
                        in->reasons_counted = FALSE;
                        continue;
                }
                in->reason_packets[r] = c->packets;
                in->reason_bytes[r] = c->bytes;
        }
}

NetisoInspection *
netiso_nft_inspect(NetisoFirewall *fw, const NetisoConfig *config, GPtrArray *records,
                   GError **error)
{
        g_autoptr(NetisoInspection) in = netiso_inspection_new();
        g_autofree char *chains = NULL;
        g_autoptr(NetisoNftListing) listing = NULL;
        g_autoptr(GPtrArray) foreign = NULL;

        listing = list_table(fw, &in->objects_present, error);
        if (!listing)
                return NULL;
        if (!netiso_nft_check(fw, config, records, in->problems, error))
                return NULL;
        in->objects_intact = in->objects_present && in->problems->len == 0;
        count_reasons(in, listing);
        for (guint i = 0; i < records->len; i++) {
                const NetisoRecord *rec = g_ptr_array_index(records, i);
                for (guint j = 0; j < rec->ports->len; j++) {
                        const NetisoRecordPort *p = g_ptr_array_index(rec->ports, j);
                        g_autofree char *q = g_strdup_printf("\"%s\"", p->tap);
                        const NetisoNftCounter *counter = g_hash_table_lookup(listing->counters, q);
                        NetisoTapStatus *ts = g_new0(NetisoTapStatus, 1);

                        ts->tap = g_strdup(p->tap);
                        ts->present = netiso_nft_listing_has_element(listing, "guest_ifs", q);
                        ts->drop_packets = counter ? counter->packets : 0;
                        ts->drop_bytes = counter ? counter->bytes : 0;
                        g_ptr_array_add(in->taps, ts);
                }
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
