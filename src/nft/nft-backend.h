/* The nftables backend: everything in table inet blixard, one libnftables
 * batch per event. Per-guest state is only set and map elements, so the
 * packet path and an event's batch cost the same at 1 guest or 10,000. */
#pragma once

#include "core/backend.h"
#include "nft/nft-skeleton.h"

/* The per-guest part of the table rewritten in place, one batch, after the
 * skeleton (watch's restore): every per-guest set and map flushed and
 * refilled from the records, and the tenant chains among chains (the
 * table's, as listed) that no record names deleted with their sets. Unlike
 * the sync, which deletes and recreates the table, it never creates a set,
 * and it touches no interval set: on kernels whose interval sets publish
 * their elements only at the end of a commit (6.18 was seen to), a new
 * cluster_v4 matches nothing for as long as the batch takes to commit,
 * about a millisecond per thousand elements. */
void netiso_nft_render_refill(GString *out, GPtrArray *records, const GPtrArray *chains);

extern const NetisoBackendOps netiso_backend_nft;
