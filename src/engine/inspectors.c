/* The table behind netiso_backend_inspect() (inspectors.h). */
#include "autoconfig.h"

#include "engine/inspectors.h"
#include "ipt/ipt-check.h"
#include "nft/nft-check.h"

const NetisoBackendInspect *
netiso_backend_inspect(NetisoBackend kind)
{
        switch (kind) {
        case NETISO_BACKEND_NFTABLES:
                return &netiso_inspect_nft;
        case NETISO_BACKEND_IPTABLES:
                return &netiso_inspect_ipt;
        default:
                g_assert_not_reached();
        }
}
