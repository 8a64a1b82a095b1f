/* Reading back what `nft list` prints: the sets' elements and the chains'
 * rules of one table, and the hooked chains of other tables. Used by
 * status and reconcile --check, never on the event path. */
#pragma once

#include <glib.h>

typedef struct {
        GHashTable *sets;     /* name -> GPtrArray of element text ("\"vnet0\" . 10.0.0.5") */
        GHashTable *counters; /* element text of sets with counters -> "packets bytes" */
        GHashTable *chains;   /* name -> GPtrArray of rule lines */
} NetisoNftListing;

NetisoNftListing *netiso_nft_listing_parse(const char *text);
void netiso_nft_listing_free(NetisoNftListing *listing);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NetisoNftListing, netiso_nft_listing_free)

gboolean netiso_nft_listing_has_element(const NetisoNftListing *listing, const char *set,
                                        const char *element);

/* From `nft list chains` output: "family table chain (hook H, policy drop)"
 * for every base chain outside our table whose policy is drop on the
 * forward, input or output hook. */
GPtrArray *netiso_nft_foreign_drop_chains(const char *list_chains_text, const char *our_table);
