/* nft's JSON listing (libnftables' JSON output, what `nft -j list` prints)
 * read with json-glib: the elements and rule counts of one table, and the
 * hooked chains of other tables. For status, reconcile --check and watch. */
#pragma once

#include <glib.h>

typedef struct {
        guint64 packets;
        guint64 bytes;
} NetisoNftCounter;

typedef struct {
        GHashTable *sets;           /* name -> GPtrArray of element text, as the renderer writes it:
                                     * "\"vnet0\"", "\"vnet0\" . 10.0.0.5", "10.0.0.5 : \"vnet0\"",
                                     * "\"vnet0\" : jump tenant-a" */
        GHashTable *counters;       /* element text -> NetisoNftCounter (sets with counters) */
        GHashTable *chains;         /* name -> its rule count (GUINT_TO_POINTER) */
        GHashTable *named_counters; /* counter objects: name -> NetisoNftCounter */
} NetisoNftListing;

/* text is one JSON document; "" (capture mode) is an empty listing. */
NetisoNftListing *netiso_nft_listing_parse(const char *text, GError **error);
void netiso_nft_listing_free(NetisoNftListing *listing);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NetisoNftListing, netiso_nft_listing_free)

gboolean netiso_nft_listing_has_element(const NetisoNftListing *listing, const char *set,
                                        const char *element);
/* FALSE when the listing has no such chain. */
gboolean netiso_nft_listing_chain_rules(const NetisoNftListing *listing, const char *chain,
                                        guint *ret_count);

/* From the JSON of `list chains`: "family table chain (hook H, policy drop)"
 * for every base chain outside our table whose policy is drop on the
 * forward, input or output hook. */
GPtrArray *netiso_nft_foreign_drop_chains(const char *text, const char *our_table, GError **error);
