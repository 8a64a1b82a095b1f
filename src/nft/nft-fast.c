/* The event fast path of table inet blixard: probe the skeleton (the mark
 * on forward's first rule, the rules per chain) and the tenant's chain and
 * set, then send only the guest's elements, encoded as nft encodes them. */
#include "autoconfig.h"

#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "nft/nft-fast.h"
#include "nft/nft-skeleton.h"
#include "util/error.h"

#define TABLE NETISO_NFT_TABLE

gboolean
netiso_nft_fast_enabled(void)
{
        return g_strcmp0(g_getenv("BLIXARD_NETISO_NFT_SLOW"), "1") != 0;
}

void
netiso_nft_trace(const char *format, ...)
{
        const char *path = g_getenv("BLIXARD_NETISO_NFT_TRACE");
        g_autofree char *line = NULL;
        va_list ap;
        FILE *f;

        if (!path || !*path)
                return;
        va_start(ap, format);
        line = g_strdup_vprintf(format, ap);
        va_end(ap);
        f = fopen(path, "ae");
        if (!f)
                return;
        fprintf(f, "%s\n", line);
        fclose(f);
}

/* ---- the probe ---- */

/* Every skeleton chain holds the rules it is rendered with, and forward's
 * first rule carries the mark of this configuration: a flushed table or
 * chain, a deleted table and a configuration change all fail it. */
static gboolean
probe_skeleton(NetisoNl *nl, const NetisoConfig *config, char **ret_reason, GError **error)
{
        g_autofree char *mark = NULL;
        g_autoptr(GHashTable) counts = NULL;
        GHashTableIter it;
        gpointer chain, want;

        netiso_nft_skeleton_facts(config, &mark, &counts);
        g_hash_table_iter_init(&it, counts);
        while (g_hash_table_iter_next(&it, &chain, &want)) {
                g_autofree char *comment = NULL;
                guint n = 0;

                if (!netiso_nl_chain_rules(nl, TABLE, chain, &n, &comment, error))
                        return FALSE;
                if (n != GPOINTER_TO_UINT(want)) {
                        *ret_reason =
                                g_strdup_printf("chain %s has %u rules, expected %u",
                                                (const char *)chain, n, GPOINTER_TO_UINT(want));
                        return TRUE;
                }
                if (g_str_equal(chain, "forward") && g_strcmp0(comment, mark) != 0) {
                        *ret_reason = g_strdup("the skeleton is not this configuration's");
                        return TRUE;
                }
        }
        return TRUE;
}

/* The tenant's chain holds its one rule and its set exists; *ret_use is
 * the chain's use count (its rule and the guest_tenant jumps to it). */
static gboolean
probe_tenant(NetisoNl *nl, const char *tenant, guint32 *ret_use, char **ret_reason, GError **error)
{
        g_autofree char *chain = g_strdup_printf("tenant-%s", tenant);
        g_autofree char *set = g_strdup_printf("tenant-%s-ifs", tenant);
        g_autofree char *comment = NULL;
        gboolean found = FALSE;
        guint n = 0;

        if (ret_use) {
                if (!netiso_nl_chain_use(nl, TABLE, chain, &found, ret_use, error))
                        return FALSE;
                if (!found) {
                        *ret_reason = g_strdup_printf("chain %s is missing", chain);
                        return TRUE;
                }
        }
        if (!netiso_nl_chain_rules(nl, TABLE, chain, &n, &comment, error))
                return FALSE;
        if (n != 1) {
                *ret_reason = g_strdup_printf("chain %s has %u rules, expected 1", chain, n);
                return TRUE;
        }
        if (!netiso_nl_set_exists(nl, TABLE, set, &found, error))
                return FALSE;
        if (!found)
                *ret_reason = g_strdup_printf("set %s is missing", set);
        return TRUE;
}

/* ---- elements, as nft encodes them ---- */

/* ifname is 16 bytes, NUL padded; a concatenation pads each field to 4
 * bytes, which ifname (16), ipv4_addr (4) and ipv6_addr (16) already are. */
static gboolean
addresses_are_hosts(const GArray *addresses)
{
        for (guint i = 0; i < addresses->len; i++) {
                const NetisoCidr *c = &g_array_index(addresses, NetisoCidr, i);
                if (c->prefix != netiso_family_bits(c->family))
                        return FALSE;
        }
        return TRUE;
}

/* "add" alone, or the tolerant delete "add; delete" (see backend-nft.c). */
static void
pair(NetisoNlBatch *b, gboolean remove, const char *set, const void *key, gsize key_len,
     const void *data, gsize data_len, const char *jump)
{
        netiso_nl_batch_element(b, TRUE, set, key, key_len, data, data_len, jump);
        if (remove)
                netiso_nl_batch_element(b, FALSE, set, key, key_len, NULL, 0, NULL);
}

/* nft's encoding of the flow id elements (nft-backend.c render_flow_id):
 * a ct zone is a 2-byte integer in host order, a mark a 4-byte one, and in
 * a concatenation the zone is padded to 4 bytes. */
static void
flow_id_elements(NetisoNlBatch *b, gboolean remove, const guint8 *ifname, guint16 flow_id)
{
        guint32 mark = flow_id;
        guint8 key[IFNAMSIZ + 4] = { 0 };

        if (flow_id == 0)
                return;
        memcpy(key, ifname, IFNAMSIZ);
        pair(b, remove, "zone_by_tap", ifname, IFNAMSIZ, &flow_id, sizeof(flow_id), NULL);
        pair(b, remove, "mark_by_tap", ifname, IFNAMSIZ, &mark, sizeof(mark), NULL);
        memcpy(key + IFNAMSIZ, &flow_id, sizeof(flow_id));
        pair(b, remove, "flow_zone", key, sizeof(key), NULL, 0, NULL);
        memcpy(key + IFNAMSIZ, &mark, sizeof(mark));
        pair(b, remove, "flow_mark", key, sizeof(key), NULL, 0, NULL);
}

/* The same elements, in the same order, as backend-nft.c's render_port. */
static void
port_elements(NetisoNlBatch *b, gboolean remove, gboolean keep_counter, const char *tap,
              const char *tenant, guint16 flow_id, const GArray *addresses)
{
        g_autofree char *tchain = g_strdup_printf("tenant-%s", tenant);
        g_autofree char *tset = g_strdup_printf("tenant-%s-ifs", tenant);
        guint8 ifname[IFNAMSIZ] = { 0 };

        memcpy(ifname, tap, MIN(strlen(tap), IFNAMSIZ - 1));
        pair(b, remove, "guest_ifs", ifname, IFNAMSIZ, NULL, 0, NULL);
        if (!(remove && keep_counter))
                pair(b, remove, "guest_drops", ifname, IFNAMSIZ, NULL, 0, NULL);
        pair(b, remove, "guest_tenant", ifname, IFNAMSIZ, NULL, 0, tchain);
        pair(b, remove, tset, ifname, IFNAMSIZ, NULL, 0, NULL);
        flow_id_elements(b, remove, ifname, flow_id);
        for (guint i = 0; i < addresses->len; i++) {
                const NetisoCidr *c = &g_array_index(addresses, NetisoCidr, i);
                gboolean v4 = c->family == NETISO_FAMILY_IPV4;
                gsize alen = v4 ? 4 : 16;
                guint8 src[IFNAMSIZ + 16];

                memcpy(src, ifname, IFNAMSIZ);
                memcpy(src + IFNAMSIZ, c->bytes, alen);
                pair(b, remove, v4 ? "guest_src_v4" : "guest_src_v6", src, IFNAMSIZ + alen, NULL, 0,
                     NULL);
                pair(b, remove, v4 ? "addr_owner_v4" : "addr_owner_v6", c->bytes, alen, ifname,
                     IFNAMSIZ, NULL);
        }
}

static void
record_removal(NetisoNlBatch *b, const NetisoRecord *old, const NetisoPolicy *keep)
{
        for (guint i = 0; i < old->ports->len; i++) {
                const NetisoRecordPort *p = g_ptr_array_index(old->ports, i);
                port_elements(b, /* remove */ TRUE, netiso_policy_has_tap(keep, p->tap), p->tap,
                              old->tenant, old->flow_id, p->addresses);
        }
}

static gboolean
record_is_plain(const NetisoRecord *old)
{
        for (guint i = 0; i < old->ports->len; i++) {
                const NetisoRecordPort *p = g_ptr_array_index(old->ports, i);
                if (strlen(p->tap) >= IFNAMSIZ || !addresses_are_hosts(p->addresses))
                        return FALSE;
        }
        return TRUE;
}

/* ---- events ---- */

/* A batch the kernel aborted changed nothing; ENOENT (an object the probe
 * saw vanished since) leaves the event to the full path, which recreates. */
static NetisoNftFast
commit(NetisoNl *nl, const NetisoNlBatch *b, int *ret_command, char **ret_reason, GError **error)
{
        g_autoptr(GError) local = NULL;
        int err = 0;

        if (netiso_nl_batch_commit(nl, b, &err, ret_command, &local))
                return NETISO_NFT_FAST_DONE;
        if (err == ENOENT) {
                *ret_reason = g_strdup(local->message);
                return NETISO_NFT_FAST_DECLINED;
        }
        g_propagate_error(error, g_steal_pointer(&local));
        return NETISO_NFT_FAST_FAILED;
}

static NetisoNftFast
probe(NetisoNl *nl, const NetisoConfig *config, const char *tenant, guint32 *ret_use,
      char **ret_reason, GError **error)
{
        if (!probe_skeleton(nl, config, ret_reason, error) ||
            (!*ret_reason && !probe_tenant(nl, tenant, ret_use, ret_reason, error)))
                return NETISO_NFT_FAST_FAILED;
        return *ret_reason ? NETISO_NFT_FAST_DECLINED : NETISO_NFT_FAST_DONE;
}

NetisoNftFast
netiso_nft_fast_apply(NetisoNl *nl, const NetisoConfig *config, const NetisoPolicy *policy,
                      const NetisoRecord *old, char **ret_reason, GError **error)
{
        g_autoptr(NetisoNlBatch) b = netiso_nl_batch_new(TABLE);
        NetisoNftFast r;
        int command = -1;

        /* A retag also collects the old tenant: rare, left to the full path. */
        if (old && !g_str_equal(old->tenant, policy->tenant)) {
                *ret_reason = g_strdup("the tenant changed");
                return NETISO_NFT_FAST_DECLINED;
        }
        if (old && !record_is_plain(old)) {
                *ret_reason = g_strdup("the record holds what the fast path does not encode");
                return NETISO_NFT_FAST_DECLINED;
        }
        for (guint i = 0; i < policy->ports->len; i++) {
                const NetisoPolicyPort *p = g_ptr_array_index(policy->ports, i);
                if (!p->tap || strlen(p->tap) >= IFNAMSIZ || !addresses_are_hosts(p->addresses)) {
                        *ret_reason = g_strdup("a port the fast path does not encode");
                        return NETISO_NFT_FAST_DECLINED;
                }
        }
        r = probe(nl, config, policy->tenant, NULL, ret_reason, error);
        if (r != NETISO_NFT_FAST_DONE)
                return r;
        if (old)
                record_removal(b, old, policy);
        for (guint i = 0; i < policy->ports->len; i++) {
                const NetisoPolicyPort *p = g_ptr_array_index(policy->ports, i);
                port_elements(b, /* remove */ FALSE, /* keep_counter */ FALSE, p->tap,
                              policy->tenant, policy->flow_id, p->addresses);
        }
        return commit(nl, b, &command, ret_reason, error);
}

NetisoNftFast
netiso_nft_fast_remove(NetisoNl *nl, const NetisoConfig *config, const NetisoRecord *old,
                       char **ret_reason, GError **error)
{
        g_autoptr(NetisoNlBatch) b = netiso_nl_batch_new(TABLE);
        g_autofree char *chain = g_strdup_printf("tenant-%s", old->tenant);
        g_autofree char *set = g_strdup_printf("tenant-%s-ifs", old->tenant);
        g_autoptr(GError) local = NULL;
        guint32 use = 0;
        guint elements;
        int command = -1;
        NetisoNftFast r;

        if (!record_is_plain(old)) {
                *ret_reason = g_strdup("the record holds what the fast path does not encode");
                return NETISO_NFT_FAST_DECLINED;
        }
        r = probe(nl, config, old->tenant, &use, ret_reason, error);
        if (r != NETISO_NFT_FAST_DONE)
                return r;
        record_removal(b, old, NULL);
        elements = netiso_nl_batch_length(b);
        /* The chain's use is its rule plus one jump per tap of the tenant's
         * guests: at most this guest's jumps left means it was the last. The
         * kernel's count is the truth (EBUSY otherwise), so a miscount only
         * costs the retry without the collection. */
        if (use <= 1 + old->ports->len) {
                netiso_nl_batch_delete_chain(b, chain);
                netiso_nl_batch_delete_set(b, set);
        }
        r = commit(nl, b, &command, ret_reason, &local);
        if (r == NETISO_NFT_FAST_FAILED && command >= (int)elements) {
                g_autoptr(NetisoNlBatch) again = netiso_nl_batch_new(TABLE);

                g_clear_error(&local);
                record_removal(again, old, NULL);
                r = commit(nl, again, &command, ret_reason, &local);
        }
        if (local)
                g_propagate_error(error, g_steal_pointer(&local));
        return r;
}
