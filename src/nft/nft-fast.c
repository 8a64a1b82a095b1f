/* The event fast path of table inet blixard and table bridge blixard: probe
 * the ruleset generation against our own last commit's and the tenant's
 * chains, then send only the guest's elements, encoded as nft encodes them,
 * in one batch that may change both tables. */
#include "autoconfig.h"

#include <errno.h>
#include <linux/netfilter.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "nft/nft-batch.h"
#include "nft/nft-bridged.h"
#include "nft/nft-fast-tenant.h"
#include "nft/nft-fast.h"
#include "nft/nft-generation.h"
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

/* What the probe saw: the generation to bind the batch to, the skeleton's
 * key and mark to record again after it, the tenant chain's use count if
 * asked. */
typedef struct {
        guint32 generation;
        const char *key, *mark;
        guint32 use[2]; /* the tenant chain's, in table inet and table bridge */
        gboolean fresh; /* the batch creates the tenant (its first guest) */
} Probe;

/* The rules of a tenant's chain in table inet (nft-skeleton.c) and in
 * table bridge. */
#define TENANT_RULES_INET netiso_nft_fast_tenant_rules(NFPROTO_INET)
#define TENANT_RULES_BRIDGE netiso_nft_fast_tenant_rules(NFPROTO_BRIDGE)

NetisoNftFast
netiso_nft_fast_trust(NetisoNl *nl, const NetisoConfig *config, const char *key,
                      guint32 *ret_generation, char **ret_mark, char **ret_reason, GError **error)
{
        if (!netiso_nl_generation(nl, ret_generation, error))
                return NETISO_NFT_FAST_FAILED;
        if (!netiso_nft_generation_trusted(config->state_dir, nl, *ret_generation, key, ret_mark,
                                           ret_reason))
                return NETISO_NFT_FAST_UNTRUSTED;
        return NETISO_NFT_FAST_DONE;
}

/* The tenant's chain in table inet holds its rules (a tenant's first guest
 * finds no chain): they match on the tenant's sets, which the kernel will
 * not delete while a rule uses them, and nobody else has committed since
 * our own commit that wrote them and the bridge table's chain and set.
 * With ret_use, each table's use count of the tenant's chain (its rules
 * and the jumps of guest_tenant elements to it), [0] inet, [1] bridge. */
static gboolean
probe_tenant(NetisoNl *nl, const char *tenant, guint32 *ret_use, char **ret_reason, GError **error)
{
        static const guint8 families[] = { NFPROTO_INET, NFPROTO_BRIDGE };
        g_autofree char *chain = g_strdup_printf("tenant-%s", tenant);
        gboolean found = FALSE;
        guint n = 0;

        for (gsize f = 0; ret_use && f < G_N_ELEMENTS(families); f++) {
                if (!netiso_nl_chain_use(nl, families[f], TABLE, chain, &found, &ret_use[f], error))
                        return FALSE;
                if (!found) {
                        *ret_reason = g_strdup_printf("chain %s is missing", chain);
                        return TRUE;
                }
        }
        if (!netiso_nl_chain_rules(nl, NFPROTO_INET, TABLE, chain, &n, error))
                return FALSE;
        if (n != TENANT_RULES_INET)
                *ret_reason = g_strdup_printf("chain %s has %u rules, expected %u", chain, n,
                                              TENANT_RULES_INET);
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

/* A bridged port's elements (nft-bridged.c), each in its table. */
static void
bridged_elements(NetisoNlBatch *b, gboolean remove, const NetisoPolicy *keep,
                 const NetisoRecordPort *p, const char *tenant, guint16 flow_id)
{
        g_autoptr(GPtrArray) elements = netiso_nft_bridged_elements(p, tenant, flow_id);

        for (guint i = 0; i < elements->len; i++) {
                const NetisoNftElement *e = g_ptr_array_index(elements, i);

                if (remove && netiso_nft_counter_kept(e, p, keep))
                        continue;
                netiso_nl_batch_family(b, e->bridge ? NFPROTO_BRIDGE : NFPROTO_INET);
                pair(b, remove, e->set, e->key, e->key_len, e->data_len ? e->data : NULL,
                     e->data_len, e->jump);
        }
        netiso_nl_batch_family(b, NFPROTO_INET);
}

/* The same elements, in the same order, as nft-elements.c's render_routed. */
static void
routed_elements(NetisoNlBatch *b, gboolean remove, gboolean keep_counter, const char *tap,
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
port_elements(NetisoNlBatch *b, gboolean remove, const NetisoPolicy *keep,
              const NetisoRecordPort *p, const char *tenant, guint16 flow_id)
{
        if (p->bridge)
                bridged_elements(b, remove, keep, p, tenant, flow_id);
        else
                routed_elements(b, remove, remove && netiso_policy_has_tap(keep, p->tap), p->tap,
                                tenant, flow_id, p->addresses);
}

/* With the flowtable, the guest's routed taps and the uplinks that exist
 * join its devices in the same batch (nft-backend.c does the same on the
 * full path); one the flowtable has already changes nothing. */
static void
flowtable_devices(NetisoNlBatch *b, const NetisoConfig *config, const NetisoRecord *rec)
{
        for (guint i = 0; config->flowtable && i < config->flowtable_uplinks->len; i++) {
                const char *uplink = g_ptr_array_index(config->flowtable_uplinks, i);
                if (if_nametoindex(uplink) != 0)
                        netiso_nl_batch_flowtable_device(b, "ft", uplink);
        }
        for (guint i = 0; config->flowtable && i < rec->ports->len; i++) {
                const NetisoRecordPort *p = g_ptr_array_index(rec->ports, i);
                if (!p->bridge && if_nametoindex(p->tap) != 0)
                        netiso_nl_batch_flowtable_device(b, "ft", p->tap);
        }
}

static void
record_elements(NetisoNlBatch *b, gboolean remove, const NetisoRecord *rec,
                const NetisoPolicy *keep)
{
        for (guint i = 0; i < rec->ports->len; i++) {
                const NetisoRecordPort *p = g_ptr_array_index(rec->ports, i);
                port_elements(b, remove, remove ? keep : NULL, p, rec->tenant, rec->flow_id);
        }
}

void
netiso_nft_fast_record_install(NetisoNlBatch *b, const NetisoRecord *rec)
{
        record_elements(b, /* remove */ FALSE, rec, NULL);
}

static void
record_removal(NetisoNlBatch *b, const NetisoRecord *old, const NetisoPolicy *keep)
{
        record_elements(b, /* remove */ TRUE, old, keep);
}

/* What this guest's jumps add to its tenant chains' use counts: one per
 * routed tap (inet), one per bridged port (bridge) and one per bridged
 * address (inet, by bridge and address). */
static void
record_jumps(const NetisoRecord *rec, guint32 ret_jumps[2])
{
        ret_jumps[0] = ret_jumps[1] = 0;
        for (guint i = 0; i < rec->ports->len; i++) {
                const NetisoRecordPort *p = g_ptr_array_index(rec->ports, i);

                if (!p->bridge) {
                        ret_jumps[0]++;
                        continue;
                }
                ret_jumps[0] += p->addresses->len;
                ret_jumps[1]++;
        }
}

gboolean
netiso_nft_fast_record_plain(const NetisoRecord *old)
{
        for (guint i = 0; i < old->ports->len; i++) {
                const NetisoRecordPort *p = g_ptr_array_index(old->ports, i);
                if (strlen(p->tap) >= IFNAMSIZ || !addresses_are_hosts(p->addresses) ||
                    (p->bridge && (strlen(p->bridge) >= IFNAMSIZ || !p->mac)))
                        return FALSE;
        }
        return TRUE;
}

/* ---- events ---- */

/* The batch, bound to the generation the probe saw. A refused batch
 * changed nothing: ENOENT (an object the probe saw vanished) leaves the
 * event to the full path, ERESTART (someone committed since the probe) to
 * the full path verifying the whole table. A committed one is recorded as
 * our own last commit; one whose outcome nobody can tell is not, and the
 * full path settles it. */
static NetisoNftFast
commit(NetisoNl *nl, const NetisoConfig *config, const NetisoNlBatch *b, const Probe *p,
       int *ret_command, char **ret_reason, GError **error)
{
        g_autoptr(GError) local = NULL;
        guint32 after = 0;
        int err = 0;

        switch (netiso_nl_batch_commit(nl, b, p->generation, &after, &err, ret_command, &local)) {
        case NETISO_NL_COMMITTED:
                if (after)
                        netiso_nft_generation_record(config->state_dir, nl, after, p->key, p->mark);
                else
                        netiso_nft_generation_forget(config->state_dir);
                return NETISO_NFT_FAST_DONE;
        case NETISO_NL_UNKNOWN:
                netiso_nft_generation_forget(config->state_dir);
                g_propagate_error(error, g_steal_pointer(&local));
                return NETISO_NFT_FAST_UNKNOWN;
        case NETISO_NL_REFUSED:
        default:
                break;
        }
        if (err == ERESTART) {
                *ret_reason = g_strdup("the ruleset changed between the probe and the commit");
                return NETISO_NFT_FAST_UNTRUSTED;
        }
        /* EEXIST: a tenant we were creating had a set or chain already. */
        if (err == ENOENT || (err == EEXIST && p->fresh)) {
                *ret_reason = g_strdup(local->message);
                return NETISO_NFT_FAST_DECLINED;
        }
        g_propagate_error(error, g_steal_pointer(&local));
        return NETISO_NFT_FAST_FAILED;
}

static NetisoNftFast
probe(NetisoNl *nl, const char *tenant, Probe *p, gboolean use, char **ret_reason, GError **error)
{
        if (!probe_tenant(nl, tenant, use ? p->use : NULL, ret_reason, error))
                return NETISO_NFT_FAST_FAILED;
        return *ret_reason ? NETISO_NFT_FAST_DECLINED : NETISO_NFT_FAST_DONE;
}

/* A first guest (no record) whose tenant has no chain in table inet: the
 * batch creates the tenant's sets, chains and rules before its elements.
 * Any of them already there (a chain in table bridge, a set left behind)
 * refuses the batch with EEXIST, and the full path takes the event. */
static NetisoNftFast
probe_fresh(NetisoNl *nl, const char *tenant, NetisoNlBatch *b, Probe *p, char **ret_reason,
            GError **error)
{
        g_autofree char *chain = g_strdup_printf("tenant-%s", tenant);
        gboolean found = TRUE;
        guint32 use = 0;

        if (!netiso_nl_chain_use(nl, NFPROTO_INET, TABLE, chain, &found, &use, error))
                return NETISO_NFT_FAST_FAILED;
        if (found)
                return NETISO_NFT_FAST_DECLINED; /* with the probe's reason */
        g_clear_pointer(ret_reason, g_free);
        netiso_nft_fast_tenant_create(b, TABLE, tenant);
        p->fresh = TRUE;
        return NETISO_NFT_FAST_DONE;
}

NetisoNftFast
netiso_nft_fast_apply(NetisoNl *nl, const NetisoConfig *config, const char *key, const char *mark,
                      guint32 generation, const NetisoPolicy *policy, const NetisoRecord *old,
                      char **ret_reason, GError **error)
{
        g_autoptr(NetisoNlBatch) b = netiso_nl_batch_new(TABLE);
        g_autoptr(NetisoRecord) next = NULL;
        Probe p = { .generation = generation, .key = key, .mark = mark };
        NetisoNftFast r;
        int command = -1;

        /* A retag also collects the old tenant: rare, left to the full path. */
        if (old && !g_str_equal(old->tenant, policy->tenant)) {
                *ret_reason = g_strdup("the tenant changed");
                return NETISO_NFT_FAST_DECLINED;
        }
        if (old && !netiso_nft_fast_record_plain(old)) {
                *ret_reason = g_strdup("the record holds what the fast path does not encode");
                return NETISO_NFT_FAST_DECLINED;
        }
        next = netiso_record_new_from_policy(policy, NETISO_BACKEND_NFTABLES);
        if (next->ports->len != policy->ports->len || !netiso_nft_fast_record_plain(next)) {
                *ret_reason = g_strdup("a port the fast path does not encode");
                return NETISO_NFT_FAST_DECLINED;
        }
        r = probe(nl, policy->tenant, &p, /* use */ FALSE, ret_reason, error);
        if (r == NETISO_NFT_FAST_DECLINED && !old)
                r = probe_fresh(nl, policy->tenant, b, &p, ret_reason, error);
        if (r != NETISO_NFT_FAST_DONE)
                return r;
        if (old)
                record_removal(b, old, policy);
        record_elements(b, /* remove */ FALSE, next, NULL);
        flowtable_devices(b, config, next);
        return commit(nl, config, b, &p, &command, ret_reason, error);
}

NetisoNftFast
netiso_nft_fast_remove(NetisoNl *nl, const NetisoConfig *config, const char *key, const char *mark,
                       guint32 generation, const NetisoRecord *old, char **ret_reason,
                       GError **error)
{
        g_autoptr(NetisoNlBatch) b = netiso_nl_batch_new(TABLE);
        g_autofree char *chain = g_strdup_printf("tenant-%s", old->tenant);
        g_autoptr(GError) local = NULL;
        Probe p = { .generation = generation, .key = key, .mark = mark };
        guint32 jumps[2];
        guint elements;
        int command = -1;
        NetisoNftFast r;

        if (!netiso_nft_fast_record_plain(old)) {
                *ret_reason = g_strdup("the record holds what the fast path does not encode");
                return NETISO_NFT_FAST_DECLINED;
        }
        r = probe(nl, old->tenant, &p, /* use */ TRUE, ret_reason, error);
        if (r != NETISO_NFT_FAST_DONE)
                return r;
        record_removal(b, old, NULL);
        elements = netiso_nl_batch_length(b);
        /* A chain's use is its rules plus the jumps of the tenant's guests:
         * at most this guest's jumps left in both tables means it was the
         * last. The kernel's count is the truth (EBUSY otherwise), so a
         * miscount only costs the retry without the collection, bound to the
         * same generation (a refused batch commits nothing). */
        record_jumps(old, jumps);
        if (p.use[0] <= TENANT_RULES_INET + jumps[0] &&
            p.use[1] <= TENANT_RULES_BRIDGE + jumps[1]) {
                static const char *const sets[] = { "ifs", "v4", "v6" };

                netiso_nl_batch_delete_chain(b, chain);
                for (gsize i = 0; i < G_N_ELEMENTS(sets); i++) {
                        g_autofree char *set = g_strdup_printf("%s-%s", chain, sets[i]);
                        netiso_nl_batch_delete_set(b, set);
                }
                netiso_nl_batch_family(b, NFPROTO_BRIDGE);
                netiso_nl_batch_delete_chain(b, chain);
                {
                        g_autofree char *set = g_strdup_printf("%s-ifs", chain);
                        netiso_nl_batch_delete_set(b, set);
                }
        }
        r = commit(nl, config, b, &p, &command, ret_reason, &local);
        if (r == NETISO_NFT_FAST_FAILED && command >= (int)elements) {
                g_autoptr(NetisoNlBatch) again = netiso_nl_batch_new(TABLE);

                g_clear_error(&local);
                record_removal(again, old, NULL);
                r = commit(nl, config, again, &p, &command, ret_reason, &local);
        }
        if (local)
                g_propagate_error(error, g_steal_pointer(&local));
        return r;
}
