/* The firewall backends behind one interface. A backend renders policies
 * and records into transactions and hands them to a NetisoFirewall, which
 * either applies them (libnftables, iptables-restore) or captures them
 * (golden tests, --dry-run). One event is one transaction per table. */
#pragma once

#include <glib.h>

#include "config.h"
#include "policy.h"
#include "state.h"

typedef enum {
        NETISO_FIREWALL_APPLY,     /* talk to the kernel */
        NETISO_FIREWALL_CAPTURE,   /* record transactions, apply nothing */
} NetisoFirewallMode;

typedef struct NetisoFirewall NetisoFirewall;

NetisoFirewall *netiso_firewall_new(NetisoFirewallMode mode);
void netiso_firewall_free(NetisoFirewall *fw);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NetisoFirewall, netiso_firewall_free)

/* Run one all-or-nothing transaction. target is "nft", "iptables-restore"
 * or "ip6tables-restore". In capture mode the text is appended to the
 * capture buffer under a "# target" line and TRUE is returned, unless a
 * failure was injected with netiso_firewall_fail_after(). */
gboolean netiso_firewall_run(NetisoFirewall *fw, const char *target, const char *text,
                             GError **error);

/* Run a read-only nft command and return its output (JSON when json is TRUE).
 * Capture mode returns an empty string. */
char *netiso_firewall_query(NetisoFirewall *fw, const char *command, gboolean json, GError **error);

/* The filter table as "PROGRAM -t filter -c" prints it (iptables-save,
 * ip6tables-save). Capture mode returns an empty string. */
char *netiso_firewall_save(NetisoFirewall *fw, const char *program, GError **error);

/* The nf_tables netlink socket of the event fast path, opened on first
 * use and closed with fw; NULL in capture mode (error not set). */
typedef struct NetisoNl NetisoNl;
NetisoNl *netiso_firewall_netlink(NetisoFirewall *fw, GError **error);

/* Captured text so far ("" when nothing); owned by fw. */
const char *netiso_firewall_captured(const NetisoFirewall *fw);
/* Testing: the (n+1)-th run from now fails as the kernel would. */
void netiso_firewall_fail_after(NetisoFirewall *fw, int n);

/* Per guest interface, as seen in the firewall (for status). */
typedef struct {
        char *tap;
        gboolean present;        /* dispatch state installed for this tap */
        guint64 drop_packets;
        guint64 drop_bytes;
} NetisoTapStatus;

typedef struct {
        gboolean objects_present;    /* table / chains exist */
        gboolean objects_intact;     /* base rules present as rendered */
        GPtrArray *taps;             /* of NetisoTapStatus* */
        GPtrArray *problems;         /* of char*: what is missing or foreign */
        GPtrArray *warnings;         /* of char*: e.g. other tables that drop guest traffic */
} NetisoInspection;

void netiso_inspection_free(NetisoInspection *inspection);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NetisoInspection, netiso_inspection_free)

typedef struct {
        NetisoBackend kind;
        /* Replace what old installed (NULL: nothing) by policy, atomically. */
        gboolean (*apply)(NetisoFirewall *fw, const NetisoConfig *config, const NetisoPolicy *policy,
                          const NetisoRecord *old, GError **error);
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
} NetisoBackendOps;

const NetisoBackendOps *netiso_backend_ops(NetisoBackend kind);

extern const NetisoBackendOps netiso_backend_nft;
extern const NetisoBackendOps netiso_backend_ipt;
