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
