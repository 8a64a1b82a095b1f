/* nwfilter XML generator (to be written). */
#include "autoconfig.h"

#include "error.h"
#include "nwfilter.h"

void
netiso_nwfilter_free(NetisoNwfilter *filter)
{
        if (!filter)
                return;
        g_free(filter->name);
        g_free(filter->xml);
        g_free(filter);
}

GPtrArray *
netiso_nwfilter_render(const NetisoConfig *config, const GPtrArray *tenants, GError **error)
{
        g_set_error(error, NETISO_ERROR, NETISO_ERROR_USAGE, "nwfilter generator not implemented");
        return NULL;
}
