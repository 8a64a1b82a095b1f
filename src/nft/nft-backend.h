/* The nftables backend: table inet blixard and table bridge blixard, one
 * libnftables batch per event. Per-guest state is only set and map elements, so the
 * packet path and an event's batch cost the same at 1 guest or 10,000. */
#pragma once

#include "core/backend.h"
#include "nft/nft-skeleton.h"

/* What watch's restore needs once the skeleton is back (records: the state
 * directory's; chains: the table's chain names, as listed), read under the
 * lock the caller holds. */
typedef gboolean (*NetisoNftRecordsFunc)(gpointer data, GPtrArray **ret_records,
                                         GPtrArray **ret_chains, GError **error);

/* watch's restore, under the state lock, in two batches. First the
 * skeleton alone, whose cost does not grow with the guests: every shared
 * rule, the configuration's sets and the fail-closed drops are back, so
 * nothing leaks from then on (*ret_skeleton_ms after the start). Then the
 * guests' part in place, from what load gives: every per-guest set and map
 * flushed and refilled, the recorded tenants rewritten, the tenant chains
 * no record names deleted with their sets. The table is never deleted and
 * created, as the sync does: on kernels whose interval sets publish their
 * elements only at the end of a commit (6.18 was seen to), a new cluster_v4
 * matches nothing for as long as a large batch takes to commit, about a
 * millisecond per thousand elements; the second batch holds no interval
 * set. When nobody else committed in between, the generation is recorded
 * as our own (nft-generation.h), so the next event may take the fast path. */
gboolean netiso_nft_restore(NetisoFirewall *fw, const NetisoConfig *config,
                            NetisoNftRecordsFunc load, gpointer data, double *ret_skeleton_ms,
                            GError **error);

extern const NetisoBackendOps netiso_backend_nft;

/* Whether table bridge blixard is rendered with connection tracking now
 * (a guest on a host bridge was installed on a kernel that has
 * nf_conntrack_bridge; nft-backend.c). */
gboolean netiso_nft_bridge_conntrack_on(const NetisoConfig *config);
