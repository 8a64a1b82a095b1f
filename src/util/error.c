/* The project's GError domain. */
#include "autoconfig.h"

#include "util/error.h"

G_DEFINE_QUARK(blixard - netiso - error - quark, netiso_error)

int
netiso_error_exit_status(const GError *error)
{
        if (!error)
                return NETISO_EXIT_OK;
        if (error->domain == NETISO_ERROR &&
            (error->code == NETISO_ERROR_CONFIG || error->code == NETISO_ERROR_USAGE))
                return NETISO_EXIT_USAGE;
        return NETISO_EXIT_FAILURE;
}
