/* iptables backend (to be written). */
#include "autoconfig.h"

#include "backend-ipt.h"
#include "error.h"

static gboolean
ipt_unsupported(GError **error)
{
        g_set_error(error, NETISO_ERROR, NETISO_ERROR_CONFIG,
                    "backend 'iptables' is not implemented yet");
        return FALSE;
}

static gboolean
ipt_apply(NetisoFirewall *fw, const NetisoConfig *config, const NetisoPolicy *policy,
          const NetisoRecord *old, GError **error)
{
        return ipt_unsupported(error);
}

static gboolean
ipt_remove(NetisoFirewall *fw, const NetisoConfig *config, const NetisoRecord *old, GError **error)
{
        return ipt_unsupported(error);
}

static gboolean
ipt_sync(NetisoFirewall *fw, const NetisoConfig *config, GPtrArray *records, GError **error)
{
        return ipt_unsupported(error);
}

static gboolean
ipt_check(NetisoFirewall *fw, const NetisoConfig *config, GPtrArray *records, GPtrArray *ret_drift,
          GError **error)
{
        return ipt_unsupported(error);
}

static NetisoInspection *
ipt_inspect(NetisoFirewall *fw, const NetisoConfig *config, GPtrArray *records, GError **error)
{
        ipt_unsupported(error);
        return NULL;
}

static gboolean
ipt_purge(NetisoFirewall *fw, GError **error)
{
        return ipt_unsupported(error);
}

const NetisoBackendOps netiso_backend_ipt = {
        .kind = NETISO_BACKEND_IPTABLES,
        .apply = ipt_apply,
        .remove = ipt_remove,
        .sync = ipt_sync,
        .check = ipt_check,
        .inspect = ipt_inspect,
        .purge = ipt_purge,
};
