/* The per-guest part of the full path's libnftables batches: a record's
 * elements in both tables (added, or removed with "add; delete" pairs),
 * the tenant objects, and the rebuild and sync of whole tables from the
 * records. Pure text; names arrive validated (domain.c, state.c). */
#pragma once

#include <glib.h>

#include "conf/config.h"
#include "core/policy.h"
#include "core/state.h"
#include "nft/nft-skeleton.h"

/* One port's elements: a routed tap's in table inet, a bridged port's in
 * both tables (nft-bridged.h). remove writes the tolerant delete pairs and
 * leaves the drop counters keep still has (the tap, and an address's
 * counter's address, stay: netiso_nft_counter_kept); keep may be NULL. */
void netiso_nft_render_port(GString *out, gboolean remove, const NetisoPolicy *keep,
                            const NetisoRecordPort *p, const char *tenant, guint16 flow_id);

/* old's elements removed, but the counters of taps keep still has. */
void netiso_nft_render_record_removal(GString *out, const NetisoRecord *old,
                                      const NetisoPolicy *keep);
/* rec's tenant (rewritten) and elements. */
void netiso_nft_render_record_install(GString *out, const NetisoRecord *rec);

/* The best-effort batch that deletes an unused tenant's chains and sets. */
void netiso_nft_render_tenant_gc(GString *out, const char *tenant);

/* Both tables as the records say, over what someone else may have edited
 * in place: the skeleton, every recorded tenant rewritten and refilled,
 * every per-guest set refilled; the drop counters survive. gone's taps and
 * bridged addresses that no record keeps lose their counters too. */
void netiso_nft_render_rebuild(GString *out, const NetisoConfig *config, gboolean stateful,
                               GPtrArray *records, const NetisoRecord *gone);

/* The guests' part of the rebuild alone (watch's restore, after the
 * skeleton): every per-guest set and map flushed and refilled, every
 * recorded tenant rewritten and refilled, gone's counters as above. */
void netiso_nft_render_guests(GString *out, GPtrArray *records, const NetisoRecord *gone);

/* The i-th per-guest set or map that a rebuild flushes and refills (not
 * the drop counters), and whether it is in table bridge blixard; NULL
 * past the last. */
const char *netiso_nft_guest_set(gsize i, gboolean *ret_bridge);

/* The tenant chains among chains (table inet's chain names, as listed)
 * that no record names and no guest of another host needs (remote_tenants,
 * a set of names, may be NULL), deleted with their sets in both tables. */
void netiso_nft_render_stale_tenants(GString *out, GPtrArray *records, GHashTable *remote_tenants,
                                     const GPtrArray *chains);

/* Both tables replaced whole by the records' (nftables records only). */
void netiso_nft_render_sync(GString *out, const NetisoConfig *config, gboolean stateful,
                            GPtrArray *records);

/* Deleting both tables, tolerantly. */
#define NETISO_NFT_PURGE                                                                           \
        "add table inet " NETISO_NFT_TABLE "\ndelete table inet " NETISO_NFT_TABLE                 \
        "\nadd table " NETISO_NFT_BRIDGE "\ndelete table " NETISO_NFT_BRIDGE "\n"
