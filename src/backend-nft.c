/* nftables backend (being written). */
#include "autoconfig.h"

#include "backend-nft.h"
