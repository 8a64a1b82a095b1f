/* The nftables backend's event fast path: when a constant-cost probe finds
 * the skeleton current and intact, an event is only its element changes,
 * sent as one netlink batch. Anything else is left to the full path. */
#pragma once

#include "conf/config.h"
#include "core/policy.h"
#include "core/state.h"
#include "nft/nft-netlink.h"

typedef enum {
        NETISO_NFT_FAST_DONE,     /* committed */
        NETISO_NFT_FAST_DECLINED, /* nothing changed: take the full path (reason says why) */
        NETISO_NFT_FAST_FAILED,   /* the kernel refused the event: error is set */
} NetisoNftFast;

/* The fast path may be used at all (BLIXARD_NETISO_NFT_SLOW=1 says no). */
gboolean netiso_nft_fast_enabled(void);

NetisoNftFast netiso_nft_fast_apply(NetisoNl *nl, const NetisoConfig *config,
                                    const NetisoPolicy *policy, const NetisoRecord *old,
                                    char **ret_reason, GError **error);

/* Removes old's elements and, when they were its tenant's last jumps, the
 * tenant's chain and set in the same batch. */
NetisoNftFast netiso_nft_fast_remove(NetisoNl *nl, const NetisoConfig *config,
                                     const NetisoRecord *old, char **ret_reason, GError **error);

/* Tests: BLIXARD_NETISO_NFT_TRACE=FILE appends one line per event, the
 * path it took ("install fast DOMAIN", "remove slow DOMAIN: why"). */
void netiso_nft_trace(const char *format, ...) G_GNUC_PRINTF(1, 2);
