/* The event operations every firewall backend implements: what the hook
 * runs. A backend renders policies and records into transactions and runs
 * them through a NetisoFirewall (firewall.h), one per table per event.
 * Reading the firewall back is apart, in core/inspect.h. */
#pragma once

#include <glib.h>

#include "conf/config.h"
#include "core/firewall.h"
#include "core/policy.h"
#include "core/state.h"

typedef struct {
        NetisoBackend kind;
        /* Replace what old installed (NULL: nothing) by policy, atomically. */
        gboolean (*apply)(NetisoFirewall *fw, const NetisoConfig *config,
                          const NetisoPolicy *policy, const NetisoRecord *old, GError **error);
        /* Remove what old installed, tolerating parts that are already gone. */
        gboolean (*remove)(NetisoFirewall *fw, const NetisoConfig *config, const NetisoRecord *old,
                           GError **error);
        /* Make the firewall hold exactly the state of these records (reconcile). */
        gboolean (*sync)(NetisoFirewall *fw, const NetisoConfig *config, GPtrArray *records,
                         GError **error);
        /* Remove every object this backend owns (backend switch, uninstall). */
        gboolean (*purge)(NetisoFirewall *fw, GError **error);
} NetisoBackendOps;
