/* The configuration-derived part of table inet blixard and table bridge
 * blixard, and the tenant chain template, rendered as libnftables text;
 * pure, no I/O. */
#pragma once

#include <glib.h>

#include "conf/config.h"
#include "core/policy.h"

#define NETISO_NFT_TABLE "blixard"
#define NETISO_NFT_BRIDGE                                                                          \
        "bridge " NETISO_NFT_TABLE /* the bridge family's table, as nft names it */

/* The text of the batch that (re)creates the configuration-derived part of
 * both tables: sets from the configuration, the shared chains and their
 * rules. stateful renders table bridge blixard with connection tracking
 * (nf_conntrack_bridge; nft-skeleton-bridge.c). Idempotent; every event's
 * batch starts with it, so an event also repairs a table someone flushed. */
void netiso_nft_render_skeleton(GString *out, const NetisoConfig *config, gboolean stateful);

/* What the fast path compares with the kernel: the comment of forward's
 * first rule, which marks the skeleton written for this configuration
 * (and tenant chain template), and the rules per skeleton chain (table
 * inet's by name, table bridge's as "bridge NAME"). */
void netiso_nft_skeleton_facts(const NetisoConfig *config, gboolean stateful, char **ret_mark,
                               GHashTable **ret_counts);

/* One of a tenant's sets (tenant-T-SET, keyed by ifname, then the address
 * of nfproto when not 0) or one rule of its chain in table family's
 * (oifname[ . ip daddr | . ip6 daddr] @tenant-T-SET accept). The full
 * path's text and the fast path's netlink objects both come from these. */
typedef struct {
        guint8 family;   /* NFPROTO_INET or NFPROTO_BRIDGE */
        const char *set; /* "ifs", "v4", "v6" */
        guint8 nfproto;  /* 0, NFPROTO_IPV4 or NFPROTO_IPV6 */
} NetisoNftTenantObject;

#define NETISO_NFT_TENANT_SETS 4
#define NETISO_NFT_TENANT_RULES 4
extern const NetisoNftTenantObject netiso_nft_tenant_sets[NETISO_NFT_TENANT_SETS];
extern const NetisoNftTenantObject netiso_nft_tenant_rules[NETISO_NFT_TENANT_RULES];

/* A tenant's chains and sets in both tables ("add"), and with rewrite
 * their rules, flushed and written again so that they are always current. */
void netiso_nft_render_tenant(GString *out, const char *tenant, gboolean rewrite);

/* table bridge blixard's part of the skeleton (nft-skeleton-bridge.c). */
void netiso_nft_render_bridge_skeleton(GString *out, const NetisoConfig *config, gboolean stateful);

/* The configuration's sets (cluster and VM networks, allowed ports) and
 * the drop counters per reason, in table ("inet blixard", NETISO_NFT_BRIDGE):
 * a table cannot use another table's sets, so each has its copy. */
void netiso_nft_render_config_sets(GString *out, const char *table, const NetisoConfig *config,
                                   const NetisoRules *r);

/* The cluster's maps of remote addresses (created if missing, never
 * flushed by the skeleton): "add map" for remote_v4 and remote_v6. */
void netiso_nft_render_remote_maps(GString *out);
/* "add rule TABLE CHAIN ...\n": one rule's line of libnftables text, for
 * the skeletons of both our tables (TABLE: "inet blixard", "bridge blixard"). */
void netiso_nft_append_rule(GString *out, const char *table, const char *chain, const char *format,
                            ...) G_GNUC_PRINTF(4, 5);
