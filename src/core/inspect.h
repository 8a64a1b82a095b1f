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

/* Why packets were dropped, summed over every guest (status --prometheus).
 * The rules of TRAFFIC SEMANTICS (blixard-netiso(8)) each reason counts. */
typedef enum {
        NETISO_DROP_SPOOFED,     /* rule 1: a source the tap does not own */
        NETISO_DROP_BLOCKED,     /* rules 2 to 8: what a guest may not send */
        NETISO_DROP_INBOUND,     /* rules 9 to 11: what may not reach a guest */
        NETISO_DROP_UNPROTECTED, /* rule 12: guest-like taps without installed state */
        _NETISO_DROP_MAX,
} NetisoDropReason;

const char *netiso_drop_reason_to_string(NetisoDropReason reason);

typedef struct {
        gboolean objects_present; /* table / chains exist */
        gboolean objects_intact;  /* base rules present as rendered */
        GPtrArray *taps;          /* of NetisoTapStatus* */
        GPtrArray *problems;      /* of char*: what is missing or foreign */
        GPtrArray *warnings;      /* of char*: e.g. other tables that drop guest traffic */
        /* Drops per reason; reasons_counted is FALSE when the backend has no such counters. */
        gboolean reasons_counted;
        guint64 reason_packets[_NETISO_DROP_MAX];
        guint64 reason_bytes[_NETISO_DROP_MAX];
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
