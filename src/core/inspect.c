/* The inspection result every backend fills in (inspect.h). */
#include "autoconfig.h"

#include "core/inspect.h"

static void
tap_status_free(gpointer data)
{
        NetisoTapStatus *ts = data;

        g_free(ts->tap);
        g_free(ts);
}

NetisoInspection *
netiso_inspection_new(void)
{
        NetisoInspection *in = g_new0(NetisoInspection, 1);

        in->taps = g_ptr_array_new_with_free_func(tap_status_free);
        in->problems = g_ptr_array_new_with_free_func(g_free);
        in->warnings = g_ptr_array_new_with_free_func(g_free);
        return in;
}

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
