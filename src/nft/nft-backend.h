/* The nftables backend: everything in table inet blixard, one libnftables
 * batch per event. Per-guest state is only set and map elements, so the
 * packet path and an event's batch cost the same at 1 guest or 10,000. */
#pragma once

#include "core/backend.h"
#include "nft/nft-skeleton.h"

extern const NetisoBackendOps netiso_backend_nft;
