/* The nftables backend: everything in table inet blixard, one libnftables
 * batch per event. Per-guest state is only set and map elements, so the
 * packet path and an event's batch cost the same at 1 guest or 10,000. */
#pragma once

#include "backend.h"

#define NETISO_NFT_TABLE "blixard"

/* The text of the batch that (re)creates the configuration-derived part of
 * the table: sets from the configuration, the shared chains and their rules.
 * Idempotent; every event's batch starts with it, so an event also repairs
 * a table someone flushed. */
void netiso_nft_render_skeleton(GString *out, const NetisoConfig *config);

/* What the fast path compares with the kernel: the comment of forward's
 * first rule, which marks the skeleton written for this configuration
 * (and tenant chain template), and the rules per skeleton chain. */
void netiso_nft_skeleton_facts(const NetisoConfig *config, char **ret_mark,
                               GHashTable **ret_counts);

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
