/* The cluster side of `watch`, shared by its parts: the session with etcd
 * (cluster-daemon.c), following the other hosts into the firewall
 * (cluster-follow.c), publishing this host's guests from the hook's records
 * (cluster-publish.c) and the hook's socket (cluster-server.c). Everything
 * runs on watch's GLib main loop. */
#pragma once

#include <gio/gio.h>
#include <glib.h>

#include "cluster/claim.h"
#include "cluster/etcd.h"
#include "cluster/membership.h"
#include "conf/config.h"
#include "core/policy.h"
#include "core/remote.h"
#include "util/log.h"

/* How long a claim made for a hook waits for the guest's record before the
 * daemon takes it back (the hook claims, then installs and records in one
 * run; a refused install leaves a claim nobody records). */
#define NETISO_CLUSTER_PENDING_S 30

typedef struct NetisoClusterDaemon NetisoClusterDaemon; /* as cluster-daemon.h */
typedef struct NetisoClusterRead NetisoClusterRead;     /* a full read (cluster-follow.c) */

typedef struct {
        NetisoClusterGuest *guest;
        gint64 expires_usec;
        gint64 lease; /* the one it was claimed under */
} NetisoPendingClaim;

void netiso_pending_claim_free(NetisoPendingClaim *pending);

struct NetisoClusterDaemon {
        const NetisoConfig *config; /* watch's; replaced by netiso_cluster_daemon_reload() */
        const NetisoClusterConfig *cc;
        NetisoEtcd *etcd;

        /* The session: the host's lease and registration. */
        gint64 lease; /* 0: none yet, or lost */
        NetisoEtcdLeaseKeeper *keeper;
        gboolean reachable; /* the last call or stream reached etcd */
        char *last_error;
        guint connect_source;
        guint backoff_ms;

        /* Following the prefix. */
        NetisoMembership *table;
        NetisoClusterRead *reading; /* a full read under way */
        NetisoEtcdWatch *watch;
        gboolean followed;  /* the first full read is applied */
        gboolean connected; /* the watch stream is up */
        gint64 etcd_revision;
        gint64 heard_usec; /* the last event or progress notification */
        gint64 applied_usec;

        /* The firewall's remote addresses (as installed, and their journal). */
        NetisoRemote *installed;
        GHashTable *dirty; /* NetisoCidr* set: addresses to bring in step */
        gboolean resync;   /* the next flush rewrites every remote address */
        guint flush_source;
        guint64 batches, batch_failures;

        /* This host's guests, from the hook's records. */
        GFileMonitor *monitor;
        GHashTable *local;       /* record file name -> NetisoClusterGuest* as recorded */
        GHashTable *local_addrs; /* NetisoCidr* -> record file name (borrowed key) */
        GHashTable *published;   /* record file name -> NetisoClusterGuest* as published */
        GHashTable *pending;     /* uuid -> NetisoPendingClaim* (claims made for hooks) */
        GHashTable *changed;     /* record file names to look at again */
        gboolean full_pass;      /* publish every record and withdraw what has none */
        guint publish_source;
        guint pending_source;

        /* The hook's socket. */
        GSocketService *service;
        char *socket_path;
        GHashTable *clients; /* connections being answered (cancelled at stop) */
};

/* cluster-daemon.c */
void netiso_cluster_log(int priority, const char *event, const char *outcome, const char *format,
                        ...) G_GNUC_PRINTF(4, 5);
/* A call to etcd failed (unreachable, or refused): remember it for status. */
void netiso_cluster_note_error(NetisoClusterDaemon *d, const GError *error);
void netiso_cluster_note_ok(NetisoClusterDaemon *d);
/* The session is usable for claims: a lease is held. */
gboolean netiso_cluster_session_up(const NetisoClusterDaemon *d);
/* Try to (re)establish what is missing soon (lease, follower). */
void netiso_cluster_schedule_connect(NetisoClusterDaemon *d, guint delay_ms);
/* One line of JSON for `status` (the socket's "status" request). */
char *netiso_cluster_status_json(NetisoClusterDaemon *d);

/* cluster-follow.c: start reading everything (asynchronously; the watch
 * follows from the revision read). */
gboolean netiso_cluster_follow_start(NetisoClusterDaemon *d, GError **error);
void netiso_cluster_follow_stop(NetisoClusterDaemon *d);
/* The address's installed state may have to change: flush soon. */
void netiso_cluster_mark_dirty(NetisoClusterDaemon *d, const NetisoCidr *addr);
void netiso_cluster_schedule_flush(NetisoClusterDaemon *d, gboolean resync);

/* cluster-publish.c */
gboolean netiso_cluster_publish_start(NetisoClusterDaemon *d, GError **error);
void netiso_cluster_publish_stop(NetisoClusterDaemon *d);
void netiso_cluster_schedule_publish(NetisoClusterDaemon *d, gboolean full_pass);
/* What the watch saw of owner keys: re-claim local addresses that lost
 * their owner, report those owned by other guests. */
void netiso_cluster_owners_changed(NetisoClusterDaemon *d, const GPtrArray *owner_changes);
/* A claim asked by a hook (or by watch's own install): answer line. */
char *netiso_cluster_claim_for_hook(NetisoClusterDaemon *d, const NetisoClusterGuest *guest);
/* lifecycle's claimer in this process (engine/lifecycle.h). */
gboolean netiso_cluster_claim_in_process(const NetisoConfig *config, const NetisoPolicy *policy,
                                         gpointer data, GError **error);
/* The guest a policy publishes: its VM-network addresses, this node. */
NetisoClusterGuest *netiso_cluster_guest_for(const NetisoClusterDaemon *d, const char *uuid,
                                             const char *name, const char *tenant,
                                             const GArray *addresses);

/* cluster-server.c */
gboolean netiso_cluster_server_start(NetisoClusterDaemon *d, GError **error);
void netiso_cluster_server_stop(NetisoClusterDaemon *d);
