/* The configuration-derived part of table inet blixard and the tenant chain
 * template, rendered as libnftables text; pure, no I/O. */
#pragma once

#include <glib.h>

#include "conf/config.h"

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

/* A tenant's chain and set ("add"), and with rewrite its one rule, flushed
 * and written again so that it is always current. */
void netiso_nft_render_tenant(GString *out, const char *tenant, gboolean rewrite);

/* The cluster's maps of remote addresses (created if missing, never
 * flushed by the skeleton): "add map" for remote_v4 and remote_v6. */
void netiso_nft_render_remote_maps(GString *out);
