/* What the backends share beyond their operations (backend.h). */
#include "autoconfig.h"

#include "core/backend.h"

void
netiso_inspection_free(NetisoInspection *inspection)
{
        if (!inspection)
                return;
        g_ptr_array_unref(inspection->taps);
        g_ptr_array_unref(inspection->problems);
        g_ptr_array_unref(inspection->warnings);
        g_free(inspection);
}

const char *
netiso_drop_reason_to_string(NetisoDropReason reason)
{
        static const char *const names[_NETISO_DROP_MAX] = {
                [NETISO_DROP_SPOOFED] = "spoofed",
                [NETISO_DROP_BLOCKED] = "blocked",
                [NETISO_DROP_INBOUND] = "inbound",
                [NETISO_DROP_UNPROTECTED] = "unprotected",
        };
        g_assert(reason < _NETISO_DROP_MAX);
        return names[reason];
}
