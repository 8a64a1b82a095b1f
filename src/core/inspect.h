/* The inspection operations of a firewall backend: reading what is
 * installed back for status, reconcile --check and watch. Only the
 * command-line tool and the tests link them (libnetiso-inspect.la). */
#pragma once

#include <glib.h>

#include "conf/config.h"
#include "core/firewall.h"
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

/* Empty lists, nothing present. */
NetisoInspection *netiso_inspection_new(void);
void netiso_inspection_free(NetisoInspection *inspection);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NetisoInspection, netiso_inspection_free)

typedef struct {
        NetisoBackend kind;
        /* Compare what is installed with the records; one line of drift each. */
        gboolean (*check)(NetisoFirewall *fw, const NetisoConfig *config, GPtrArray *records,
                          GPtrArray *ret_drift, GError **error);
        /* Presence, integrity and per-tap drop counters. */
        NetisoInspection *(*inspect)(NetisoFirewall *fw, const NetisoConfig *config,
                                     GPtrArray *records, GError **error);
        /* A cheap integrity probe for watch; NULL when the backend has none.
         * Returns NULL when the objects look intact, else one line on what is
         * wrong (a flushed or deleted table, not a single deleted element). */
        char *(*probe)(NetisoFirewall *fw, const NetisoConfig *config, GError **error);
} NetisoBackendInspect;
