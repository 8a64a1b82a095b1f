/* The nftables backend's event fast path: when the kernel is still at the
 * ruleset generation our own last commit left (nobody else has committed
 * since), an event is only its element changes, sent as one netlink batch
 * bound to that generation. Anything else is left to the full path. */
#pragma once

#include "conf/config.h"
#include "core/policy.h"
#include "core/state.h"
#include "nft/nft-batch.h"
#include "nft/nft-netlink.h"

typedef enum {
        NETISO_NFT_FAST_DONE,      /* committed (netiso_nft_fast_trust(): trusted) */
        NETISO_NFT_FAST_DECLINED,  /* nothing changed: take the full path (reason says why) */
        NETISO_NFT_FAST_UNTRUSTED, /* nothing changed, and someone else has committed since our
                                      own last commit (or nobody can tell): the full path must
                                      verify the whole table (reason says why) */
        NETISO_NFT_FAST_FAILED,    /* the kernel refused the event, nothing changed: error is set */
        NETISO_NFT_FAST_UNKNOWN,   /* the batch may or may not have committed: error is set;
                                      the full path must settle it */
} NetisoNftFast;

/* The fast path may be used at all (BLIXARD_NETISO_NFT_SLOW=1 says no). */
gboolean netiso_nft_fast_enabled(void);

/* Whether the ruleset is still at the generation our own last commit left
 * with the skeleton of key (netiso_nft_generation_key()): DONE with
 * *ret_generation and *ret_mark (the skeleton's mark then written),
 * UNTRUSTED with *ret_reason, or FAILED with error. */
NetisoNftFast netiso_nft_fast_trust(NetisoNl *nl, const NetisoConfig *config, const char *key,
                                    guint32 *ret_generation, char **ret_mark, char **ret_reason,
                                    GError **error);

/* The event as one batch bound to generation, which netiso_nft_fast_trust()
 * found trusted with key and mark. */
NetisoNftFast netiso_nft_fast_apply(NetisoNl *nl, const NetisoConfig *config, const char *key,
                                    const char *mark, guint32 generation,
                                    const NetisoPolicy *policy, const NetisoRecord *old,
                                    char **ret_reason, GError **error);

/* Removes old's elements and, when they were its tenant's last jumps, the
 * tenant's chain and set in the same batch. */
NetisoNftFast netiso_nft_fast_remove(NetisoNl *nl, const NetisoConfig *config, const char *key,
                                     const char *mark, guint32 generation, const NetisoRecord *old,
                                     char **ret_reason, GError **error);

/* Whether the fast path's netlink encoding covers every port of rec (taps
 * and bridges shorter than IFNAMSIZ, host addresses, a bridged port's MAC),
 * and rec's elements added to b in that encoding (the bulk sync). */
gboolean netiso_nft_fast_record_plain(const NetisoRecord *rec);
void netiso_nft_fast_record_install(NetisoNlBatch *b, const NetisoRecord *rec);

/* Tests: BLIXARD_NETISO_NFT_TRACE=FILE appends one line per event, the
 * path it took ("install fast DOMAIN", "remove slow DOMAIN: why"). */
void netiso_nft_trace(const char *format, ...) G_GNUC_PRINTF(1, 2);
