/* The nftables backend: everything in table inet blixard, one libnftables
 * batch per event. Per-guest state is only set and map elements, so the
 * packet path and an event's batch cost the same at 1 guest or 10,000. */
#pragma once

#include "core/backend.h"
#include "nft/nft-skeleton.h"

/* A cheap integrity probe for watch's polling: lists only the forward chain
 * and compares its rule count with what the skeleton renders. NULL when it
 * looks intact, else one line on what is wrong. It notices a flushed or
 * deleted table (or ruleset), not a single deleted element: that takes
 * the full check of reconcile --check. */
char *netiso_nft_quick_check(NetisoFirewall *fw, const NetisoConfig *config, GError **error);

/* nft-check.c: the backend's check and inspect operations (backend.h). */
gboolean netiso_nft_check(NetisoFirewall *fw, const NetisoConfig *config, GPtrArray *records,
                          GPtrArray *ret_drift, GError **error);
NetisoInspection *netiso_nft_inspect(NetisoFirewall *fw, const NetisoConfig *config,
                                     GPtrArray *records, GError **error);

/* The whole table rewritten in place, one batch (watch's restore): the
 * skeleton, every per-guest set and map flushed and refilled from the
 * records, and the tenant chains among chains (the table's, as listed) that
 * no record names deleted with their sets. Unlike the sync, which deletes
 * and recreates the table, it never creates an interval set: on kernels
 * whose interval sets publish their elements only at the end of a commit
 * (6.18 was seen to), a new cluster_v4 matches nothing for as long as the
 * batch takes to commit, about a millisecond per thousand elements. */
void netiso_nft_render_refill(GString *out, const NetisoConfig *config, GPtrArray *records,
                              const GPtrArray *chains);

extern const NetisoBackendOps netiso_backend_nft;
