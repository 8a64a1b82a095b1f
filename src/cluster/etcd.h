/* A small etcd v3 client over etcd's JSON gateway (POST /v3/...), on libsoup 3 and
 * json-glib: several endpoints with failover, TLS with client certificates, a hard
 * deadline on every call. Synchronous calls for the hook; watch and lease keep-alive
 * (etcd-watch.c) are driven by the caller's GLib main loop for the watch daemon. */
#pragma once

#include <gio/gio.h>
#include <glib.h>

#define NETISO_CLUSTER_ERROR (netiso_cluster_error_quark())

typedef enum {
        NETISO_CLUSTER_ERROR_UNAVAILABLE, /* no endpoint answered (refused, reset, deadline) */
        NETISO_CLUSTER_ERROR_REFUSED,     /* etcd answered with an error (bad request, ...) */
        NETISO_CLUSTER_ERROR_PROTOCOL,    /* the answer is not what the gateway sends */
        NETISO_CLUSTER_ERROR_COMPACTED,   /* the revision asked for was compacted away */
        NETISO_CLUSTER_ERROR_LEASE_LOST,  /* the lease expired or was revoked */
        NETISO_CLUSTER_ERROR_INVALID,     /* a record read from etcd fails validation */
        NETISO_CLUSTER_ERROR_CONFLICT,    /* an address is owned by another guest */
        NETISO_CLUSTER_ERROR_OPTIONS,     /* endpoints or TLS files are wrong */
        _NETISO_CLUSTER_ERROR_MAX,
} NetisoClusterErrorCode;

GQuark netiso_cluster_error_quark(void);

#define NETISO_ETCD_DEFAULT_TIMEOUT_MS 2000
#define NETISO_ETCD_ENDPOINTS_MAX 16

typedef struct {
        const char *const *endpoints; /* "http://HOST:PORT" or "https://HOST:PORT", no path */
        const char *ca_file;          /* PEM; NULL: the system's trust store for https */
        const char *cert_file;        /* client certificate (PEM), with key_file, or NULL */
        const char *key_file;
        guint timeout_ms; /* deadline of a call over all endpoints; 0: default */
} NetisoEtcdOptions;

typedef struct NetisoEtcd NetisoEtcd;

/* An endpoint as the configuration may give it: http(s)://host[:port], no
 * path, query or user; ret_endpoint (may be NULL) gets it without a trailing
 * '/'. Errors are NETISO_CLUSTER_ERROR_OPTIONS quoting the text. */
gboolean netiso_etcd_endpoint_check(const char *text, char **ret_endpoint, GError **error);

/* Checks the endpoints and loads the TLS files; connects to nothing yet.
 * Errors are NETISO_CLUSTER_ERROR_OPTIONS naming the endpoint or file. */
NetisoEtcd *netiso_etcd_new(const NetisoEtcdOptions *options, GError **error);
void netiso_etcd_free(NetisoEtcd *etcd);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NetisoEtcd, netiso_etcd_free)

/* The deadline of each later call (all endpoints tried included). */
void netiso_etcd_set_timeout(NetisoEtcd *etcd, guint timeout_ms);
guint netiso_etcd_get_timeout(const NetisoEtcd *etcd);
/* The endpoint that answered last (calls start there), never NULL. */
const char *netiso_etcd_get_endpoint(const NetisoEtcd *etcd);

/* One key-value pair. key and value are NUL-terminated copies of the bytes
 * (which may hold NULs themselves: use the lengths). */
typedef struct {
        char *key;
        gsize key_len;
        char *value;
        gsize value_len;
        gint64 create_revision;
        gint64 mod_revision;
        gint64 version;
        gint64 lease;
} NetisoEtcdKv;

void netiso_etcd_kv_free(NetisoEtcdKv *kv);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NetisoEtcdKv, netiso_etcd_kv_free)

typedef struct {
        gint64 revision; /* the store's revision the range was read at */
        GPtrArray *kvs;  /* of NetisoEtcdKv*, in key order */
        gint64 count;    /* keys in the range (more than kvs when limited) */
        gboolean more;
} NetisoEtcdRange;

void netiso_etcd_range_free(NetisoEtcdRange *range);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NetisoEtcdRange, netiso_etcd_range_free)

/* The range_end that selects every key starting with prefix (etcd's
 * "prefix + 1" rule). "" for an empty prefix or one of 0xff bytes: as a
 * range_end below, "" stands for etcd's "\0", every key from key on. */
char *netiso_etcd_prefix_end(const char *prefix);

/* Keys in [key, range_end), or key alone when range_end is NULL; at revision
 * (0: now); at most limit keys (0: all). */
gboolean netiso_etcd_range(NetisoEtcd *etcd, const char *key, const char *range_end,
                           gint64 revision, gint64 limit, NetisoEtcdRange **ret_range,
                           GError **error);
/* Every key under prefix, now. */
gboolean netiso_etcd_range_prefix(NetisoEtcd *etcd, const char *prefix, NetisoEtcdRange **ret_range,
                                  GError **error);
/* lease 0: none. ret_revision may be NULL. */
gboolean netiso_etcd_put(NetisoEtcd *etcd, const char *key, const char *value, gsize value_len,
                         gint64 lease, gint64 *ret_revision, GError **error);
/* Deletes key, or [key, range_end). ret_deleted may be NULL. */
gboolean netiso_etcd_delete(NetisoEtcd *etcd, const char *key, const char *range_end,
                            gint64 *ret_deleted, GError **error);
/* Compacts the history up to revision (tests, and operators' tools). */
gboolean netiso_etcd_compact(NetisoEtcd *etcd, gint64 revision, GError **error);

/* Transactions: if every compare holds, the success ops run, else the failure ops. */
typedef enum {
        NETISO_ETCD_CMP_VERSION,
        NETISO_ETCD_CMP_CREATE, /* create_revision; 0 means "the key does not exist" */
        NETISO_ETCD_CMP_MOD,
        NETISO_ETCD_CMP_VALUE,
        NETISO_ETCD_CMP_LEASE,
        _NETISO_ETCD_CMP_MAX,
} NetisoEtcdCmpTarget;

typedef enum {
        NETISO_ETCD_CMP_EQUAL,
        NETISO_ETCD_CMP_GREATER,
        NETISO_ETCD_CMP_LESS,
        NETISO_ETCD_CMP_NOT_EQUAL,
        _NETISO_ETCD_CMP_RESULT_MAX,
} NetisoEtcdCmpResult;

typedef struct {
        const char *key;
        NetisoEtcdCmpTarget target;
        NetisoEtcdCmpResult result;
        gint64 number;     /* VERSION, CREATE, MOD, LEASE */
        const char *value; /* VALUE */
        gsize value_len;
} NetisoEtcdCompare;

typedef enum {
        NETISO_ETCD_OP_RANGE,
        NETISO_ETCD_OP_PUT,
        NETISO_ETCD_OP_DELETE,
        _NETISO_ETCD_OP_MAX,
} NetisoEtcdOpType;

typedef struct {
        NetisoEtcdOpType type;
        const char *key;
        const char *range_end; /* RANGE and DELETE; NULL: key alone */
        const char *value;     /* PUT */
        gsize value_len;
        gint64 lease; /* PUT; 0: none */
} NetisoEtcdOp;

typedef struct {
        gboolean succeeded;
        gint64 revision;
        GPtrArray *ranges; /* one per op that ran: NetisoEtcdRange* for RANGE, else NULL */
} NetisoEtcdTxnResult;

void netiso_etcd_txn_result_free(NetisoEtcdTxnResult *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NetisoEtcdTxnResult, netiso_etcd_txn_result_free)

gboolean netiso_etcd_txn(NetisoEtcd *etcd, const NetisoEtcdCompare *compares, guint n_compares,
                         const NetisoEtcdOp *success, guint n_success, const NetisoEtcdOp *failure,
                         guint n_failure, NetisoEtcdTxnResult **ret_result, GError **error);

/* Leases. keepalive fails with NETISO_CLUSTER_ERROR_LEASE_LOST when etcd no
 * longer knows the lease. */
gboolean netiso_etcd_lease_grant(NetisoEtcd *etcd, gint64 ttl_seconds, gint64 *ret_id,
                                 gint64 *ret_ttl, GError **error);
gboolean netiso_etcd_lease_keepalive(NetisoEtcd *etcd, gint64 id, gint64 *ret_ttl, GError **error);
gboolean netiso_etcd_lease_revoke(NetisoEtcd *etcd, gint64 id, GError **error);

/* The same calls for a GLib main loop: run on the thread-default main context
 * of the first asynchronous call (the daemon's), with the same deadline. */
void netiso_etcd_range_async(NetisoEtcd *etcd, const char *key, const char *range_end,
                             gint64 revision, GCancellable *cancellable,
                             GAsyncReadyCallback callback, gpointer user_data);
NetisoEtcdRange *netiso_etcd_range_finish(NetisoEtcd *etcd, GAsyncResult *result, GError **error);
/* One page of a range: at most limit keys from key on, at revision (0:
 * now), under its own deadline (0: the client's); finished with
 * netiso_etcd_range_finish(). A big prefix is read page by page at one
 * revision, so that no answer is huge and no deadline too short. */
void netiso_etcd_range_page_async(NetisoEtcd *etcd, const char *key, const char *range_end,
                                  gint64 revision, gint64 limit, guint timeout_ms,
                                  GCancellable *cancellable, GAsyncReadyCallback callback,
                                  gpointer user_data);
void netiso_etcd_lease_keepalive_async(NetisoEtcd *etcd, gint64 id, guint timeout_ms,
                                       GCancellable *cancellable, GAsyncReadyCallback callback,
                                       gpointer user_data);
gboolean netiso_etcd_lease_keepalive_finish(NetisoEtcd *etcd, GAsyncResult *result, gint64 *ret_ttl,
                                            GError **error);

/* Watch: a stream of the changes to [key, range_end) from start_revision on,
 * reconnecting (to the next endpoint, from the next revision it has not seen)
 * after a disconnect. Runs on the thread-default main context of its creation. */
typedef enum {
        NETISO_ETCD_EVENT_PUT,
        NETISO_ETCD_EVENT_DELETE,
} NetisoEtcdEventType;

typedef struct {
        NetisoEtcdEventType type;
        NetisoEtcdKv *kv; /* for DELETE: key and mod_revision (the deletion's) only */
} NetisoEtcdEvent;

typedef enum {
        NETISO_ETCD_WATCH_CONNECTED,    /* the stream is up (revision: etcd's now) */
        NETISO_ETCD_WATCH_EVENTS,       /* events: one response's events, in order */
        NETISO_ETCD_WATCH_PROGRESS,     /* nothing changed up to revision */
        NETISO_ETCD_WATCH_DISCONNECTED, /* error says why; reconnects by itself */
        NETISO_ETCD_WATCH_COMPACTED,    /* revision: the compaction; stopped until restart */
} NetisoEtcdWatchStatus;

typedef struct {
        NetisoEtcdWatchStatus status;
        gint64 revision;
        const GPtrArray *events; /* of NetisoEtcdEvent*; EVENTS only */
        const GError *error;     /* DISCONNECTED only */
        const char *endpoint;
} NetisoEtcdWatchUpdate;

typedef struct NetisoEtcdWatch NetisoEtcdWatch;
typedef void (*NetisoEtcdWatchFunc)(NetisoEtcdWatch *watch, const NetisoEtcdWatchUpdate *update,
                                    gpointer user_data);

/* start_revision 0: from now. The watch holds a reference to nothing: free it
 * before etcd. */
NetisoEtcdWatch *netiso_etcd_watch_new(NetisoEtcd *etcd, const char *key, const char *range_end,
                                       gint64 start_revision, NetisoEtcdWatchFunc func,
                                       gpointer user_data);
/* The revision a reconnect resumes from: one past the last event or progress seen. */
gint64 netiso_etcd_watch_get_next_revision(const NetisoEtcdWatch *watch);
/* Start again from revision (after a resync following COMPACTED). */
void netiso_etcd_watch_restart(NetisoEtcdWatch *watch, gint64 start_revision);
/* Drop the stream and reconnect to the next endpoint (the caller suspects it is dead). */
void netiso_etcd_watch_reconnect(NetisoEtcdWatch *watch);
/* Reconnect when nothing arrived for this long (0: never). etcd sends progress
 * notifications only every --experimental-watch-progress-notify-interval. */
void netiso_etcd_watch_set_idle_timeout(NetisoEtcdWatch *watch, guint seconds);
void netiso_etcd_watch_free(NetisoEtcdWatch *watch);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NetisoEtcdWatch, netiso_etcd_watch_free)

/* Lease keeper: keeps a granted lease alive every ttl/3 seconds from the
 * thread-default main context, telling its owner when the state changes. */
typedef enum {
        NETISO_ETCD_LEASE_ALIVE,
        NETISO_ETCD_LEASE_UNREACHABLE, /* keep-alives fail; keeps trying */
        NETISO_ETCD_LEASE_LOST,        /* expired or revoked; stopped: grant a new one */
} NetisoEtcdLeaseState;

typedef struct NetisoEtcdLeaseKeeper NetisoEtcdLeaseKeeper;
typedef void (*NetisoEtcdLeaseFunc)(NetisoEtcdLeaseKeeper *keeper, NetisoEtcdLeaseState state,
                                    const GError *error, gpointer user_data);

NetisoEtcdLeaseKeeper *netiso_etcd_lease_keeper_new(NetisoEtcd *etcd, gint64 id, gint64 ttl_seconds,
                                                    NetisoEtcdLeaseFunc func, gpointer user_data);
NetisoEtcdLeaseState netiso_etcd_lease_keeper_get_state(const NetisoEtcdLeaseKeeper *keeper);
gint64 netiso_etcd_lease_keeper_get_id(const NetisoEtcdLeaseKeeper *keeper);
void netiso_etcd_lease_keeper_free(NetisoEtcdLeaseKeeper *keeper);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NetisoEtcdLeaseKeeper, netiso_etcd_lease_keeper_free)
