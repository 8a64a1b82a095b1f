/* The interface every firewall backend implements. A backend renders
 * policies and records into transactions and runs them through a
 * NetisoFirewall (firewall.h). One event is one transaction per table. */
#pragma once

#include <glib.h>

#include "conf/config.h"
#include "core/firewall.h"
#include "core/policy.h"
#include "core/state.h"

/* Per guest interface, as seen in the firewall (for status). */
typedef struct {
        char *tap;
        gboolean present; /* dispatch state installed for this tap */
        guint64 drop_packets;
        guint64 drop_bytes;
} NetisoTapStatus;

typedef struct {
        gboolean objects_present; /* table / chains exist */
        gboolean objects_intact;  /* base rules present as rendered */
        GPtrArray *taps;          /* of NetisoTapStatus* */
        GPtrArray *problems;      /* of char*: what is missing or foreign */
        GPtrArray *warnings;      /* of char*: e.g. other tables that drop guest traffic */
} NetisoInspection;

void netiso_inspection_free(NetisoInspection *inspection);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NetisoInspection, netiso_inspection_free)

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
        /* Compare what is installed with the records; one line of drift each. */
        gboolean (*check)(NetisoFirewall *fw, const NetisoConfig *config, GPtrArray *records,
                          GPtrArray *ret_drift, GError **error);
        /* Presence, integrity and per-tap drop counters. */
        NetisoInspection *(*inspect)(NetisoFirewall *fw, const NetisoConfig *config,
                                     GPtrArray *records, GError **error);
        /* Remove every object this backend owns (backend switch, uninstall). */
        gboolean (*purge)(NetisoFirewall *fw, GError **error);
        /* A cheap integrity probe for watch; NULL when the backend has none.
         * Returns NULL when the objects look intact, else one line on what is
         * wrong (a flushed or deleted table, not a single deleted element). */
        char *(*probe)(NetisoFirewall *fw, const NetisoConfig *config, GError **error);
} NetisoBackendOps;
