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

extern const NetisoBackendOps netiso_backend_nft;
