/* Reading table inet blixard back (nft's JSON listing): drift for
 * reconcile --check, status with per-tap drop counters, watch's probe. */
#pragma once

#include "core/inspect.h"

/* A cheap integrity probe for watch's polling: lists only the forward chain
 * and compares its rule count with what the skeleton renders. NULL when it
 * looks intact, else one line on what is wrong. It notices a flushed or
 * deleted table (or ruleset), not a single deleted element: that takes
 * the full check of reconcile --check. */
char *netiso_nft_quick_check(NetisoFirewall *fw, const NetisoConfig *config, GError **error);

gboolean netiso_nft_check(NetisoFirewall *fw, const NetisoConfig *config, GPtrArray *records,
                          GPtrArray *ret_drift, GError **error);
NetisoInspection *netiso_nft_inspect(NetisoFirewall *fw, const NetisoConfig *config,
                                     GPtrArray *records, GError **error);

extern const NetisoBackendInspect netiso_inspect_nft;
