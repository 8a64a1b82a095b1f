/* The table of backends behind netiso_backend_ops() (backends.h). */
#include "autoconfig.h"

#include "engine/backends.h"
#include "ipt/ipt-backend.h"
#include "nft/nft-backend.h"

const NetisoBackendOps *
netiso_backend_ops(NetisoBackend kind)
{
        switch (kind) {
        case NETISO_BACKEND_NFTABLES:
                return &netiso_backend_nft;
        case NETISO_BACKEND_IPTABLES:
                return &netiso_backend_ipt;
        default:
                g_assert_not_reached();
        }
}
