/* The etcd calls the cluster code makes, each a JSON request built with
 * json-glib and an answer read strictly: range, put, delete, txn, compaction
 * and the lease calls, synchronous and (range, keep-alive) asynchronous. */
#include "autoconfig.h"

#include <string.h>

#include "cluster/etcd-private.h"

static void
add_key(JsonBuilder *b, const char *member, const char *key)
{
        netiso_etcd_json_add_bytes(b, member, key, strlen(key));
}

/* range_end "" is etcd's "\0": every key from key on. */
static void
add_range_end(JsonBuilder *b, const char *range_end)
{
        if (!range_end)
                return;
        netiso_etcd_json_add_bytes(b, "range_end", *range_end ? range_end : "\0",
                                   *range_end ? strlen(range_end) : 1);
}

static void
build_range(JsonBuilder *b, const char *key, const char *range_end, gint64 revision, gint64 limit)
{
        json_builder_begin_object(b);
        add_key(b, "key", key);
        add_range_end(b, range_end);
        if (revision)
                netiso_etcd_json_add_int64(b, "revision", revision);
        if (limit)
                netiso_etcd_json_add_int64(b, "limit", limit);
        json_builder_end_object(b);
}

static void
build_put(JsonBuilder *b, const char *key, const char *value, gsize value_len, gint64 lease)
{
        json_builder_begin_object(b);
        add_key(b, "key", key);
        netiso_etcd_json_add_bytes(b, "value", value, value_len);
        if (lease)
                netiso_etcd_json_add_int64(b, "lease", lease);
        json_builder_end_object(b);
}

static void
build_delete(JsonBuilder *b, const char *key, const char *range_end)
{
        json_builder_begin_object(b);
        add_key(b, "key", key);
        add_range_end(b, range_end);
        json_builder_end_object(b);
}

static JsonNode *
call(NetisoEtcd *etcd, const char *path, JsonBuilder *b, GError **error)
{
        g_autoptr(JsonNode) request = json_builder_get_root(b);

        return netiso_etcd_call_sync(etcd, path, request, error);
}

/* A RangeResponse object (top level, or inside a txn's response_range). */
static NetisoEtcdRange *
range_from_json(JsonObject *object, GError **error)
{
        g_autoptr(NetisoEtcdRange) range = g_new0(NetisoEtcdRange, 1);
        JsonNode *kvs = json_object_get_member(object, "kvs");

        range->kvs = g_ptr_array_new_with_free_func((GDestroyNotify)netiso_etcd_kv_free);
        if (!netiso_etcd_header_revision(object, &range->revision, error) ||
            !netiso_etcd_json_int64(object, "count", &range->count, error) ||
            !netiso_etcd_json_bool(object, "more", &range->more, error))
                return NULL;
        if (kvs && !JSON_NODE_HOLDS_NULL(kvs)) {
                JsonArray *array;
                if (!JSON_NODE_HOLDS_ARRAY(kvs)) {
                        g_set_error(error, NETISO_CLUSTER_ERROR, NETISO_CLUSTER_ERROR_PROTOCOL,
                                    "etcd answer: member 'kvs' is not an array");
                        return NULL;
                }
                array = json_node_get_array(kvs);
                for (guint i = 0; i < json_array_get_length(array); i++) {
                        NetisoEtcdKv *kv =
                                netiso_etcd_kv_from_json(json_array_get_element(array, i), error);
                        if (!kv)
                                return NULL;
                        g_ptr_array_add(range->kvs, kv);
                }
        }
        return g_steal_pointer(&range);
}

void
netiso_etcd_range_free(NetisoEtcdRange *range)
{
        if (!range)
                return;
        g_clear_pointer(&range->kvs, g_ptr_array_unref);
        g_free(range);
}

gboolean
netiso_etcd_range(NetisoEtcd *etcd, const char *key, const char *range_end, gint64 revision,
                  gint64 limit, NetisoEtcdRange **ret_range, GError **error)
{
        g_autoptr(JsonBuilder) b = json_builder_new();
        g_autoptr(JsonNode) answer = NULL;
        NetisoEtcdRange *range;

        build_range(b, key, range_end, revision, limit);
        answer = call(etcd, "/v3/kv/range", b, error);
        if (!answer || !(range = range_from_json(json_node_get_object(answer), error)))
                return FALSE;
        *ret_range = range;
        return TRUE;
}

gboolean
netiso_etcd_range_prefix(NetisoEtcd *etcd, const char *prefix, NetisoEtcdRange **ret_range,
                         GError **error)
{
        g_autofree char *end = netiso_etcd_prefix_end(prefix);

        return netiso_etcd_range(etcd, prefix, end, 0, 0, ret_range, error);
}

gboolean
netiso_etcd_put(NetisoEtcd *etcd, const char *key, const char *value, gsize value_len, gint64 lease,
                gint64 *ret_revision, GError **error)
{
        g_autoptr(JsonBuilder) b = json_builder_new();
        g_autoptr(JsonNode) answer = NULL;
        gint64 revision;

        build_put(b, key, value, value_len, lease);
        answer = call(etcd, "/v3/kv/put", b, error);
        if (!answer || !netiso_etcd_header_revision(json_node_get_object(answer), &revision, error))
                return FALSE;
        if (ret_revision)
                *ret_revision = revision;
        return TRUE;
}

gboolean
netiso_etcd_delete(NetisoEtcd *etcd, const char *key, const char *range_end, gint64 *ret_deleted,
                   GError **error)
{
        g_autoptr(JsonBuilder) b = json_builder_new();
        g_autoptr(JsonNode) answer = NULL;
        gint64 deleted;

        build_delete(b, key, range_end);
        answer = call(etcd, "/v3/kv/deleterange", b, error);
        if (!answer ||
            !netiso_etcd_json_int64(json_node_get_object(answer), "deleted", &deleted, error))
                return FALSE;
        if (ret_deleted)
                *ret_deleted = deleted;
        return TRUE;
}

gboolean
netiso_etcd_compact(NetisoEtcd *etcd, gint64 revision, GError **error)
{
        g_autoptr(JsonBuilder) b = json_builder_new();
        g_autoptr(JsonNode) answer = NULL;

        json_builder_begin_object(b);
        netiso_etcd_json_add_int64(b, "revision", revision);
        json_builder_set_member_name(b, "physical");
        json_builder_add_boolean_value(b, TRUE);
        json_builder_end_object(b);
        answer = call(etcd, "/v3/kv/compaction", b, error);
        return answer != NULL;
}

static const char *const cmp_targets[_NETISO_ETCD_CMP_MAX] = {
        [NETISO_ETCD_CMP_VERSION] = "VERSION", [NETISO_ETCD_CMP_CREATE] = "CREATE",
        [NETISO_ETCD_CMP_MOD] = "MOD",         [NETISO_ETCD_CMP_VALUE] = "VALUE",
        [NETISO_ETCD_CMP_LEASE] = "LEASE",
};
static const char *const cmp_members[_NETISO_ETCD_CMP_MAX] = {
        [NETISO_ETCD_CMP_VERSION] = "version",  [NETISO_ETCD_CMP_CREATE] = "create_revision",
        [NETISO_ETCD_CMP_MOD] = "mod_revision", [NETISO_ETCD_CMP_VALUE] = "value",
        [NETISO_ETCD_CMP_LEASE] = "lease",
};
static const char *const cmp_results[_NETISO_ETCD_CMP_RESULT_MAX] = {
        [NETISO_ETCD_CMP_EQUAL] = "EQUAL",
        [NETISO_ETCD_CMP_GREATER] = "GREATER",
        [NETISO_ETCD_CMP_LESS] = "LESS",
        [NETISO_ETCD_CMP_NOT_EQUAL] = "NOT_EQUAL",
};

static void
build_ops(JsonBuilder *b, const char *member, const NetisoEtcdOp *ops, guint n)
{
        static const char *const names[_NETISO_ETCD_OP_MAX] = {
                [NETISO_ETCD_OP_RANGE] = "request_range",
                [NETISO_ETCD_OP_PUT] = "request_put",
                [NETISO_ETCD_OP_DELETE] = "request_delete_range",
        };

        json_builder_set_member_name(b, member);
        json_builder_begin_array(b);
        for (guint i = 0; i < n; i++) {
                json_builder_begin_object(b);
                json_builder_set_member_name(b, names[ops[i].type]);
                switch (ops[i].type) {
                case NETISO_ETCD_OP_RANGE:
                        build_range(b, ops[i].key, ops[i].range_end, 0, 0);
                        break;
                case NETISO_ETCD_OP_PUT:
                        build_put(b, ops[i].key, ops[i].value, ops[i].value_len, ops[i].lease);
                        break;
                case NETISO_ETCD_OP_DELETE:
                default:
                        build_delete(b, ops[i].key, ops[i].range_end);
                        break;
                }
                json_builder_end_object(b);
        }
        json_builder_end_array(b);
}

static void
build_compares(JsonBuilder *b, const NetisoEtcdCompare *compares, guint n)
{
        json_builder_set_member_name(b, "compare");
        json_builder_begin_array(b);
        for (guint i = 0; i < n; i++) {
                const NetisoEtcdCompare *c = &compares[i];
                json_builder_begin_object(b);
                json_builder_set_member_name(b, "target");
                json_builder_add_string_value(b, cmp_targets[c->target]);
                json_builder_set_member_name(b, "result");
                json_builder_add_string_value(b, cmp_results[c->result]);
                add_key(b, "key", c->key);
                if (c->target == NETISO_ETCD_CMP_VALUE)
                        netiso_etcd_json_add_bytes(b, "value", c->value, c->value_len);
                else
                        netiso_etcd_json_add_int64(b, cmp_members[c->target], c->number);
                json_builder_end_object(b);
        }
        json_builder_end_array(b);
}

void
netiso_etcd_txn_result_free(NetisoEtcdTxnResult *result)
{
        if (!result)
                return;
        g_clear_pointer(&result->ranges, g_ptr_array_unref);
        g_free(result);
}

static NetisoEtcdTxnResult *
txn_from_json(JsonObject *object, GError **error)
{
        g_autoptr(NetisoEtcdTxnResult) result = g_new0(NetisoEtcdTxnResult, 1);
        JsonNode *responses = json_object_get_member(object, "responses");
        JsonArray *array;

        result->ranges = g_ptr_array_new_with_free_func((GDestroyNotify)netiso_etcd_range_free);
        if (!netiso_etcd_header_revision(object, &result->revision, error) ||
            !netiso_etcd_json_bool(object, "succeeded", &result->succeeded, error))
                return NULL;
        if (!responses || JSON_NODE_HOLDS_NULL(responses))
                return g_steal_pointer(&result);
        if (!JSON_NODE_HOLDS_ARRAY(responses)) {
                g_set_error(error, NETISO_CLUSTER_ERROR, NETISO_CLUSTER_ERROR_PROTOCOL,
                            "etcd answer: member 'responses' is not an array");
                return NULL;
        }
        array = json_node_get_array(responses);
        for (guint i = 0; i < json_array_get_length(array); i++) {
                JsonNode *op = json_array_get_element(array, i);
                JsonNode *range;
                NetisoEtcdRange *decoded = NULL;
                if (!JSON_NODE_HOLDS_OBJECT(op)) {
                        g_set_error(error, NETISO_CLUSTER_ERROR, NETISO_CLUSTER_ERROR_PROTOCOL,
                                    "etcd answer: txn response %u is not an object", i);
                        return NULL;
                }
                range = json_object_get_member(json_node_get_object(op), "response_range");
                if (range) {
                        if (!JSON_NODE_HOLDS_OBJECT(range) ||
                            !(decoded = range_from_json(json_node_get_object(range), error)))
                                return NULL;
                }
                g_ptr_array_add(result->ranges, decoded);
        }
        return g_steal_pointer(&result);
}

gboolean
netiso_etcd_txn(NetisoEtcd *etcd, const NetisoEtcdCompare *compares, guint n_compares,
                const NetisoEtcdOp *success, guint n_success, const NetisoEtcdOp *failure,
                guint n_failure, NetisoEtcdTxnResult **ret_result, GError **error)
{
        g_autoptr(JsonBuilder) b = json_builder_new();
        g_autoptr(JsonNode) answer = NULL;
        NetisoEtcdTxnResult *result;

        json_builder_begin_object(b);
        build_compares(b, compares, n_compares);
        build_ops(b, "success", success, n_success);
        build_ops(b, "failure", failure, n_failure);
        json_builder_end_object(b);
        answer = call(etcd, "/v3/kv/txn", b, error);
        if (!answer || !(result = txn_from_json(json_node_get_object(answer), error)))
                return FALSE;
        if (ret_result)
                *ret_result = result;
        else
                netiso_etcd_txn_result_free(result);
        return TRUE;
}

gboolean
netiso_etcd_lease_grant(NetisoEtcd *etcd, gint64 ttl_seconds, gint64 *ret_id, gint64 *ret_ttl,
                        GError **error)
{
        g_autoptr(JsonBuilder) b = json_builder_new();
        g_autoptr(JsonNode) answer = NULL;
        JsonObject *object;
        gint64 id, ttl;

        json_builder_begin_object(b);
        netiso_etcd_json_add_int64(b, "TTL", ttl_seconds);
        json_builder_end_object(b);
        answer = call(etcd, "/v3/lease/grant", b, error);
        if (!answer)
                return FALSE;
        object = json_node_get_object(answer);
        if (!netiso_etcd_json_int64(object, "ID", &id, error) ||
            !netiso_etcd_json_int64(object, "TTL", &ttl, error))
                return FALSE;
        if (id == 0 || ttl <= 0) {
                g_set_error(error, NETISO_CLUSTER_ERROR, NETISO_CLUSTER_ERROR_PROTOCOL,
                            "etcd %s: lease grant answered without a lease",
                            netiso_etcd_get_endpoint(etcd));
                return FALSE;
        }
        *ret_id = id;
        if (ret_ttl)
                *ret_ttl = ttl;
        return TRUE;
}

static JsonNode *
keepalive_request(gint64 id)
{
        g_autoptr(JsonBuilder) b = json_builder_new();

        json_builder_begin_object(b);
        netiso_etcd_json_add_int64(b, "ID", id);
        json_builder_end_object(b);
        return json_builder_get_root(b);
}

/* The keep-alive is a stream of one answer here: {"result": {..., "TTL": N}};
 * no TTL means etcd no longer knows the lease. */
static gboolean
keepalive_answer(JsonNode *answer, gint64 id, gint64 *ret_ttl, GError **error)
{
        JsonNode *result = json_object_get_member(json_node_get_object(answer), "result");
        GError *streamed =
                netiso_etcd_error_from_json("(keep-alive)", json_node_get_object(answer), 0);
        gint64 ttl;

        if (streamed) {
                g_propagate_error(error, streamed);
                return FALSE;
        }
        if (!result || !JSON_NODE_HOLDS_OBJECT(result)) {
                g_set_error(error, NETISO_CLUSTER_ERROR, NETISO_CLUSTER_ERROR_PROTOCOL,
                            "etcd answer: keep-alive without a result");
                return FALSE;
        }
        if (!netiso_etcd_json_int64(json_node_get_object(result), "TTL", &ttl, error))
                return FALSE;
        if (ttl <= 0) {
                g_set_error(error, NETISO_CLUSTER_ERROR, NETISO_CLUSTER_ERROR_LEASE_LOST,
                            "etcd lease %" G_GINT64_FORMAT " expired or was revoked", id);
                return FALSE;
        }
        if (ret_ttl)
                *ret_ttl = ttl;
        return TRUE;
}

gboolean
netiso_etcd_lease_keepalive(NetisoEtcd *etcd, gint64 id, gint64 *ret_ttl, GError **error)
{
        g_autoptr(JsonNode) request = keepalive_request(id);
        g_autoptr(JsonNode) answer =
                netiso_etcd_call_sync(etcd, "/v3/lease/keepalive", request, error);

        return answer && keepalive_answer(answer, id, ret_ttl, error);
}

void
netiso_etcd_lease_keepalive_async(NetisoEtcd *etcd, gint64 id, guint timeout_ms,
                                  GCancellable *cancellable, GAsyncReadyCallback callback,
                                  gpointer user_data)
{
        g_autoptr(JsonNode) request = keepalive_request(id);

        netiso_etcd_call_async(etcd, "/v3/lease/keepalive", request, timeout_ms, cancellable,
                               callback, user_data);
}

gboolean
netiso_etcd_lease_keepalive_finish(NetisoEtcd *etcd, GAsyncResult *result, gint64 *ret_ttl,
                                   GError **error)
{
        g_autoptr(JsonNode) answer = netiso_etcd_call_finish(result, error);
        JsonNode *inner;
        gint64 id = 0;

        if (!answer)
                return FALSE;
        /* The lease id, for the message only: the answer echoes it. */
        inner = json_object_get_member(json_node_get_object(answer), "result");
        if (inner && JSON_NODE_HOLDS_OBJECT(inner))
                netiso_etcd_json_int64(json_node_get_object(inner), "ID", &id, NULL);
        return keepalive_answer(answer, id, ret_ttl, error);
}

gboolean
netiso_etcd_lease_revoke(NetisoEtcd *etcd, gint64 id, GError **error)
{
        g_autoptr(JsonNode) request = keepalive_request(id);
        g_autoptr(JsonNode) answer =
                netiso_etcd_call_sync(etcd, "/v3/lease/revoke", request, error);

        return answer != NULL;
}

void
netiso_etcd_range_async(NetisoEtcd *etcd, const char *key, const char *range_end, gint64 revision,
                        GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
        g_autoptr(JsonBuilder) b = json_builder_new();
        g_autoptr(JsonNode) request = NULL;

        build_range(b, key, range_end, revision, 0);
        request = json_builder_get_root(b);
        netiso_etcd_call_async(etcd, "/v3/kv/range", request, 0, cancellable, callback, user_data);
}

void
netiso_etcd_range_page_async(NetisoEtcd *etcd, const char *key, const char *range_end,
                             gint64 revision, gint64 limit, guint timeout_ms,
                             GCancellable *cancellable, GAsyncReadyCallback callback,
                             gpointer user_data)
{
        g_autoptr(JsonBuilder) b = json_builder_new();
        g_autoptr(JsonNode) request = NULL;

        build_range(b, key, range_end, revision, limit);
        request = json_builder_get_root(b);
        netiso_etcd_call_async(etcd, "/v3/kv/range", request, timeout_ms, cancellable, callback,
                               user_data);
}

NetisoEtcdRange *
netiso_etcd_range_finish(NetisoEtcd *etcd, GAsyncResult *result, GError **error)
{
        g_autoptr(JsonNode) answer = netiso_etcd_call_finish(result, error);

        return answer ? range_from_json(json_node_get_object(answer), error) : NULL;
}
