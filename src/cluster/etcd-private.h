/* What etcd-client.c (transport, failover), etcd-kv.c (the KV and lease calls) and
 * etcd-watch.c (watch stream, lease keeper) share; not for users of etcd.h. */
#pragma once

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "cluster/etcd.h"

/* The gateway's answers nest about 6 deep (txn: responses, range, kvs). */
#define NETISO_ETCD_JSON_DEPTH_MAX 32

/* A watch response line or a unary answer larger than this is refused. */
#define NETISO_ETCD_RESPONSE_MAX (64 * 1024 * 1024)

struct NetisoEtcd {
        GPtrArray *endpoints; /* of char*: "http://h:2379", no trailing slash */
        guint preferred;      /* index of the endpoint that answered last */
        guint timeout_ms;
        GTlsDatabase *tls_database;   /* NULL: the system's */
        GTlsCertificate *client_cert; /* NULL: none */
        GMainContext *sync_context;   /* private: synchronous calls iterate it */
        SoupSession *sync_session;    /* created in and used only with sync_context */
        GMainContext *async_context;  /* the first asynchronous caller's context */
        SoupSession *async_session;
};

/* A POST of body to endpoint + path, with the client certificate and the
 * header that makes a member without a leader answer at once. */
SoupMessage *netiso_etcd_message_new(const NetisoEtcd *etcd, guint endpoint, const char *path,
                                     GBytes *body);
/* The session for the caller's thread-default context (created on first use). */
SoupSession *netiso_etcd_async_session(NetisoEtcd *etcd);

/* POST request (a JSON object) to path, trying the endpoints in turn from
 * the preferred one within timeout_ms in all; the answer is the response's
 * JSON object. Transport failures and 5xx answers move on to the next
 * endpoint; any other error answer is final. */
void netiso_etcd_call_async(NetisoEtcd *etcd, const char *path, JsonNode *request, guint timeout_ms,
                            GCancellable *cancellable, GAsyncReadyCallback callback,
                            gpointer user_data);
JsonNode *netiso_etcd_call_finish(GAsyncResult *result, GError **error);
/* The same, blocking, on the private context: nothing of the caller's runs meanwhile. */
JsonNode *netiso_etcd_call_sync(NetisoEtcd *etcd, const char *path, JsonNode *request,
                                GError **error);

/* An error answer (HTTP status, body) as a GError naming the endpoint:
 * COMPACTED, LEASE_LOST, REFUSED, or UNAVAILABLE for 5xx. */
GError *netiso_etcd_error_from_answer(const char *endpoint, guint status, const char *body,
                                      gsize len);
/* A gateway error object ({"error": ..., "message": ..., "code": N} or
 * {"error": {"grpc_code": N, "message": ...}}) as a GError; NULL if none. */
GError *netiso_etcd_error_from_json(const char *endpoint, JsonObject *object, guint status);

/* TRUE when JSON text nests arrays and objects at most max_depth deep
 * (brackets inside strings do not count). json-glib 1.6 parses by recursion
 * with no limit: deep enough input overflows the stack, so whatever we did
 * not write ourselves is measured first. */
gboolean netiso_etcd_json_depth_ok(const char *data, gsize len, guint max_depth);

/* Parse one JSON object (at most 32 deep); errors name the endpoint. */
JsonNode *netiso_etcd_parse_object(const char *endpoint, const char *data, gsize len,
                                   GError **error);

/* JSON helpers for the gateway's proto3 mapping: 64-bit integers are strings,
 * bytes are base64, zero values are left out. */
gboolean netiso_etcd_json_int64(JsonObject *object, const char *member, gint64 *ret_value,
                                GError **error);
gboolean netiso_etcd_json_bool(JsonObject *object, const char *member, gboolean *ret_value,
                               GError **error);
gboolean netiso_etcd_json_bytes(JsonObject *object, const char *member, char **ret_data,
                                gsize *ret_len, GError **error);
gboolean netiso_etcd_header_revision(JsonObject *response, gint64 *ret_revision, GError **error);
NetisoEtcdKv *netiso_etcd_kv_from_json(JsonNode *node, GError **error);
void netiso_etcd_json_add_bytes(JsonBuilder *builder, const char *member, const char *data,
                                gsize len);
void netiso_etcd_json_add_int64(JsonBuilder *builder, const char *member, gint64 value);
