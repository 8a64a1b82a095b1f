/* Reading the iptables backend's chains back (iptables-save -c): drift
 * for reconcile --check and status with per-tap drop counters. */
#pragma once

#include "core/inspect.h"

gboolean netiso_ipt_check(NetisoFirewall *fw, const NetisoConfig *config, GPtrArray *records,
                          GPtrArray *ret_drift, GError **error);
NetisoInspection *netiso_ipt_inspect(NetisoFirewall *fw, const NetisoConfig *config,
                                     GPtrArray *records, GError **error);

extern const NetisoBackendInspect netiso_inspect_ipt;
