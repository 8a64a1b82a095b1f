/* The bulk refill of both tables on libnftnl (nft-bulk.h): the per-guest
 * sets brought to the records' elements in one batch, the elements encoded
 * as the fast path encodes them and sent many to a message. */
#include "autoconfig.h"

#include <errno.h>
#include <linux/netfilter.h>

#include "nft/nft-bulk.h"
#include "nft/nft-elements.h"
#include "nft/nft-fast.h"
#include "nft/nft-skeleton.h"

/* Tries when other commits keep coming between the reads and the commit. */
#define TRIES 3

static const char *const counter_sets[] = { "guest_drops", "guest_drops_v4", "guest_drops_v6" };

gboolean
netiso_nft_bulk_possible(GPtrArray *records)
{
        for (guint i = 0; i < records->len; i++) {
                const NetisoRecord *rec = g_ptr_array_index(records, i);

                if (rec->backend == NETISO_BACKEND_NFTABLES && !netiso_nft_fast_record_plain(rec))
                        return FALSE;
        }
        return TRUE;
}

static void
flush_tenant(NetisoNlBatch *b, const char *tenant)
{
        static const char *const inet[] = { "ifs", "v4", "v6" };
        g_autofree char *ifs = g_strdup_printf("tenant-%s-ifs", tenant);

        for (gsize i = 0; i < G_N_ELEMENTS(inet); i++) {
                g_autofree char *set = g_strdup_printf("tenant-%s-%s", tenant, inet[i]);
                netiso_nl_batch_flush_set(b, set);
        }
        netiso_nl_batch_family(b, NFPROTO_BRIDGE);
        netiso_nl_batch_flush_set(b, ifs);
        netiso_nl_batch_family(b, NFPROTO_INET);
}

/* Every shared per-guest set against the kernel's. */
static gboolean
diff_shared(NetisoNlBatch *b, NetisoNl *nl, GError **error)
{
        const char *set;
        gboolean bridge = FALSE;

        for (gsize i = 0; (set = netiso_nft_guest_set(i, &bridge)); i++) {
                netiso_nl_batch_family(b, bridge ? NFPROTO_BRIDGE : NFPROTO_INET);
                if (!netiso_nl_batch_bulk_diff(b, nl, set, error))
                        return FALSE;
        }
        netiso_nl_batch_family(b, NFPROTO_INET);
        for (gsize i = 0; i < G_N_ELEMENTS(counter_sets); i++)
                if (!netiso_nl_batch_bulk_diff(b, nl, counter_sets[i], error))
                        return FALSE;
        netiso_nl_batch_family(b, NFPROTO_BRIDGE);
        if (!netiso_nl_batch_bulk_diff(b, nl, "guest_drops", error))
                return FALSE;
        netiso_nl_batch_family(b, NFPROTO_INET);
        return TRUE;
}

static NetisoNlBatch *
build(GPtrArray *records)
{
        NetisoNlBatch *b = netiso_nl_batch_new_bulk(NETISO_NFT_TABLE);
        g_autoptr(GHashTable) tenants = g_hash_table_new(g_str_hash, g_str_equal);

        for (guint i = 0; i < records->len; i++) {
                const NetisoRecord *rec = g_ptr_array_index(records, i);

                if (rec->backend != NETISO_BACKEND_NFTABLES)
                        continue;
                if (g_hash_table_add(tenants, rec->tenant))
                        flush_tenant(b, rec->tenant);
                netiso_nft_fast_record_install(b, rec);
        }
        return b;
}

NetisoNlOutcome
netiso_nft_bulk_refill(NetisoNl *nl, GPtrArray *records, guint32 *ret_generation,
                       gboolean *ret_changed, GError **error)
{
        g_autoptr(GError) last = NULL;
        NetisoNlOutcome r = NETISO_NL_REFUSED;

        *ret_changed = FALSE;
        for (int try = 0; try < TRIES; try++) {
                g_autoptr(NetisoNlBatch) b = build(records);
                guint32 generation = 0;
                int err = 0, command = -1;

                g_clear_error(&last);
                if (!netiso_nl_generation(nl, &generation, &last))
                        break;
                /* A dump a commit interrupted, or a commit between the
                 * dumps and ours: read again. */
                if (!diff_shared(b, nl, &last))
                        continue;
                r = netiso_nl_batch_commit(nl, b, generation, ret_generation, &err, &command,
                                           &last);
                if (r == NETISO_NL_REFUSED && err == ERESTART && try + 1 < TRIES)
                        continue;
                if (r == NETISO_NL_REFUSED && command >= 0 &&
                    netiso_nl_batch_message_set(b, (guint)command))
                        g_prefix_error(&last, "the guests' elements of %s: ",
                                       netiso_nl_batch_message_set(b, (guint)command));
                *ret_changed = r == NETISO_NL_COMMITTED && *ret_generation != generation;
                break;
        }
        if (last)
                g_propagate_error(error, g_steal_pointer(&last));
        return r;
}
