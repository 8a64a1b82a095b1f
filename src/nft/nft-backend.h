/* The nftables backend: table inet blixard and table bridge blixard, one
 * libnftables batch per event. Per-guest state is only set and map elements, so the
 * packet path and an event's batch cost the same at 1 guest or 10,000. */
#pragma once

#include "core/backend.h"
#include "nft/nft-skeleton.h"

extern const NetisoBackendOps netiso_backend_nft;

/* Whether table bridge blixard is rendered with connection tracking now
 * (a guest on a host bridge was installed on a kernel that has
 * nf_conntrack_bridge; nft-backend.c). */
gboolean netiso_nft_bridge_conntrack_on(const NetisoConfig *config);
