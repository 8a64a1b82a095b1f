/* What is installed, per domain: the exact record needed to remove it again
 * without listing the ruleset, kept under the state directory, plus the lock
 * that serialises concurrent hooks. */
#pragma once

#include <glib.h>

#include "conf/config.h"
#include "core/policy.h"

typedef struct {
        char *tap;
        char *mac;         /* may be NULL */
        GArray *addresses; /* of NetisoCidr */
        /* A bridged port (bridge != NULL): what the tables hold for it
         * besides the tap and the addresses (policy.h). */
        char *bridge;
        gboolean host_bridge;
        GArray *learned; /* of NetisoCidr, those of addresses from leases; never NULL */
        NetisoNetServices services;
} NetisoRecordPort;

typedef struct {
        char *domain;
        char *uuid; /* may be NULL */
        char *tenant;
        NetisoBackend backend;
        char *config_digest;   /* netiso_config_digest() when installed */
        gint64 installed_usec; /* g_get_real_time() */
        guint16 flow_id;       /* binds tracked connections to this install (flow-ids.h);
                                * 0 in records written before flow ids */
        GPtrArray *ports;      /* of NetisoRecordPort*; only ports with a tap */
} NetisoRecord;

NetisoRecord *netiso_record_new_from_policy(const NetisoPolicy *policy, NetisoBackend backend);
void netiso_record_free(NetisoRecord *record);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NetisoRecord, netiso_record_free)

/* Serialise to/from a GKeyFile text; parse errors name the file. */
char *netiso_record_to_data(const NetisoRecord *record, gsize *ret_len);
NetisoRecord *netiso_record_new_from_data(const char *filename, const char *data, gsize len,
                                          GError **error);

/* State directory layout: STATE_DIR/domains/<escaped name>.state, STATE_DIR/lock. */
gboolean netiso_state_ensure_dir(const char *state_dir, GError **error);
/* STATE_DIR/flows/ID: a link to the escaped name of the domain whose record
 * holds that flow id, kept with the records by save and remove. */
char *netiso_state_flow_path(const char *state_dir, guint16 flow_id);

/* Load a domain's record; *ret_record is NULL (and TRUE returned) if none. */
gboolean netiso_state_load(const char *state_dir, const char *domain, NetisoRecord **ret_record,
                           GError **error);
/* Atomic replace (temporary file, fsync, rename). */
gboolean netiso_state_save(const char *state_dir, const NetisoRecord *record, GError **error);
/* Which domain's record holds this tap (STATE_DIR/taps/<tap> links it);
 * *ret_domain is NULL when none does. */
gboolean netiso_state_tap_owner(const char *state_dir, const char *tap, char **ret_domain,
                                GError **error);

/* Missing is not an error. Also drops the record's tap links. */
gboolean netiso_state_remove(const char *state_dir, const char *domain, GError **error);
/* All records, sorted by domain name; unreadable files are reported in ret_problems. */
GPtrArray *netiso_state_list(const char *state_dir, GPtrArray **ret_problems, GError **error);

/* An exclusive flock() on STATE_DIR/lock. A killed holder releases it with
 * its file descriptor, so a stale lock file never blocks. Waits at most
 * timeout_ms (libvirt gives other calls on a domain 30 s); everything that
 * changes the firewall or the records waits NETISO_LOCK_TIMEOUT_MS. */
#define NETISO_LOCK_TIMEOUT_MS 20000
typedef struct NetisoLock NetisoLock;
NetisoLock *netiso_lock_acquire(const char *state_dir, guint timeout_ms, GError **error);
void netiso_lock_release(NetisoLock *lock);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NetisoLock, netiso_lock_release)
