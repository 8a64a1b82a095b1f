/* The bulk refill of both tables on libnftnl (nft-bulk.h): per-guest sets
 * flushed and refilled in one batch, the elements encoded as the fast path
 * encodes them and sent many to a message. */
#include "autoconfig.h"

#include <linux/netfilter.h>

#include "nft/nft-bulk.h"
#include "nft/nft-elements.h"
#include "nft/nft-fast.h"
#include "nft/nft-skeleton.h"

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

NetisoNlBatch *
netiso_nft_bulk_guests(GPtrArray *records, gboolean counters)
{
        NetisoNlBatch *b = netiso_nl_batch_new_bulk(NETISO_NFT_TABLE);
        g_autoptr(GHashTable) tenants = g_hash_table_new(g_str_hash, g_str_equal);
        const char *set;
        gboolean bridge = FALSE;

        for (gsize i = 0; (set = netiso_nft_guest_set(i, &bridge)); i++) {
                netiso_nl_batch_family(b, bridge ? NFPROTO_BRIDGE : NFPROTO_INET);
                netiso_nl_batch_flush_set(b, set);
        }
        netiso_nl_batch_family(b, NFPROTO_INET);
        for (gsize i = 0; counters && i < G_N_ELEMENTS(counter_sets); i++)
                netiso_nl_batch_flush_set(b, counter_sets[i]);
        if (counters) {
                netiso_nl_batch_family(b, NFPROTO_BRIDGE);
                netiso_nl_batch_flush_set(b, "guest_drops");
                netiso_nl_batch_family(b, NFPROTO_INET);
        }
        for (guint i = 0; i < records->len; i++) {
                const NetisoRecord *rec = g_ptr_array_index(records, i);

                if (rec->backend == NETISO_BACKEND_NFTABLES &&
                    g_hash_table_add(tenants, rec->tenant))
                        flush_tenant(b, rec->tenant);
        }
        for (guint i = 0; i < records->len; i++) {
                const NetisoRecord *rec = g_ptr_array_index(records, i);

                if (rec->backend == NETISO_BACKEND_NFTABLES)
                        netiso_nft_fast_record_install(b, rec);
        }
        return b;
}
