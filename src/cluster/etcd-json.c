/* The gateway's JSON, read strictly: proto3's mapping (64-bit integers as
 * strings, bytes as base64, zero values left out) for headers and
 * key-value pairs; anything else is a protocol error naming the member. */
#include "autoconfig.h"

#include <errno.h>
#include <string.h>

#include "cluster/etcd-private.h"

static gboolean
protocol_error(GError **error, const char *member, const char *what)
{
        g_set_error(error, NETISO_CLUSTER_ERROR, NETISO_CLUSTER_ERROR_PROTOCOL,
                    "etcd answer: member '%s' %s", member, what);
        return FALSE;
}

gboolean
netiso_etcd_json_depth_ok(const char *data, gsize len, guint max_depth)
{
        gboolean in_string = FALSE;
        guint depth = 0;

        for (gsize i = 0; i < len; i++) {
                char c = data[i];
                if (in_string) {
                        if (c == '\\')
                                i++; /* the escaped character, whatever it is */
                        else if (c == '"')
                                in_string = FALSE;
                } else if (c == '"') {
                        in_string = TRUE;
                } else if (c == '[' || c == '{') {
                        if (++depth > max_depth)
                                return FALSE;
                } else if ((c == ']' || c == '}') && depth > 0) {
                        depth--;
                }
        }
        return TRUE;
}

JsonNode *
netiso_etcd_parse_object(const char *endpoint, const char *data, gsize len, GError **error)
{
        g_autoptr(JsonParser) parser = json_parser_new_immutable();
        g_autoptr(GError) local = NULL;
        JsonNode *root;

        if (len > NETISO_ETCD_RESPONSE_MAX) {
                g_set_error(error, NETISO_CLUSTER_ERROR, NETISO_CLUSTER_ERROR_PROTOCOL,
                            "etcd %s: answer of %" G_GSIZE_FORMAT " bytes is too large", endpoint,
                            len);
                return NULL;
        }
        if (!netiso_etcd_json_depth_ok(data, len, NETISO_ETCD_JSON_DEPTH_MAX)) {
                g_set_error(error, NETISO_CLUSTER_ERROR, NETISO_CLUSTER_ERROR_PROTOCOL,
                            "etcd %s: answer nests deeper than %d", endpoint,
                            NETISO_ETCD_JSON_DEPTH_MAX);
                return NULL;
        }
        if (!json_parser_load_from_data(parser, data, (gssize)len, &local)) {
                g_set_error(error, NETISO_CLUSTER_ERROR, NETISO_CLUSTER_ERROR_PROTOCOL,
                            "etcd %s: answer is not JSON: %s", endpoint, local->message);
                return NULL;
        }
        root = json_parser_get_root(parser);
        if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
                g_set_error(error, NETISO_CLUSTER_ERROR, NETISO_CLUSTER_ERROR_PROTOCOL,
                            "etcd %s: answer is not a JSON object", endpoint);
                return NULL;
        }
        return json_node_ref(root);
}

gboolean
netiso_etcd_json_int64(JsonObject *object, const char *member, gint64 *ret_value, GError **error)
{
        JsonNode *node = object ? json_object_get_member(object, member) : NULL;
        const char *text;
        char *end = NULL;
        gint64 value;

        if (!node || JSON_NODE_HOLDS_NULL(node)) {
                *ret_value = 0;
                return TRUE;
        }
        if (!JSON_NODE_HOLDS_VALUE(node))
                return protocol_error(error, member, "is not a number");
        if (json_node_get_value_type(node) == G_TYPE_INT64) {
                *ret_value = json_node_get_int(node);
                return TRUE;
        }
        if (json_node_get_value_type(node) != G_TYPE_STRING)
                return protocol_error(error, member, "is not a number");
        text = json_node_get_string(node);
        errno = 0;
        value = g_ascii_strtoll(text, &end, 10);
        if (!*text || *end || errno)
                return protocol_error(error, member, "is not a 64-bit integer");
        *ret_value = value;
        return TRUE;
}

gboolean
netiso_etcd_json_bool(JsonObject *object, const char *member, gboolean *ret_value, GError **error)
{
        JsonNode *node = object ? json_object_get_member(object, member) : NULL;

        if (!node || JSON_NODE_HOLDS_NULL(node)) {
                *ret_value = FALSE;
                return TRUE;
        }
        if (!JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_BOOLEAN)
                return protocol_error(error, member, "is not a boolean");
        *ret_value = json_node_get_boolean(node);
        return TRUE;
}

gboolean
netiso_etcd_json_bytes(JsonObject *object, const char *member, char **ret_data, gsize *ret_len,
                       GError **error)
{
        JsonNode *node = object ? json_object_get_member(object, member) : NULL;
        const char *text;
        g_autofree guchar *raw = NULL;
        gsize len = 0;
        char *data;

        if (!node || JSON_NODE_HOLDS_NULL(node)) {
                *ret_data = g_strdup("");
                *ret_len = 0;
                return TRUE;
        }
        if (!JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_STRING)
                return protocol_error(error, member, "is not a base64 string");
        text = json_node_get_string(node);
        /* g_base64_decode() skips what is not base64: check the alphabet first. */
        for (const char *p = text; *p; p++)
                if (!g_ascii_isalnum(*p) && *p != '+' && *p != '/' && *p != '=')
                        return protocol_error(error, member, "is not base64");
        if (strlen(text) % 4 != 0)
                return protocol_error(error, member, "is not base64");
        raw = g_base64_decode(text, &len);
        data = g_malloc(len + 1);
        memcpy(data, raw, len);
        data[len] = '\0';
        *ret_data = data;
        *ret_len = len;
        return TRUE;
}

gboolean
netiso_etcd_header_revision(JsonObject *response, gint64 *ret_revision, GError **error)
{
        JsonNode *header = json_object_get_member(response, "header");

        if (!header || !JSON_NODE_HOLDS_OBJECT(header))
                return protocol_error(error, "header", "is missing");
        return netiso_etcd_json_int64(json_node_get_object(header), "revision", ret_revision,
                                      error);
}

NetisoEtcdKv *
netiso_etcd_kv_from_json(JsonNode *node, GError **error)
{
        g_autoptr(NetisoEtcdKv) kv = g_new0(NetisoEtcdKv, 1);
        JsonObject *object;

        if (!node || !JSON_NODE_HOLDS_OBJECT(node)) {
                protocol_error(error, "kv", "is not an object");
                return NULL;
        }
        object = json_node_get_object(node);
        if (!netiso_etcd_json_bytes(object, "key", &kv->key, &kv->key_len, error) ||
            !netiso_etcd_json_bytes(object, "value", &kv->value, &kv->value_len, error) ||
            !netiso_etcd_json_int64(object, "create_revision", &kv->create_revision, error) ||
            !netiso_etcd_json_int64(object, "mod_revision", &kv->mod_revision, error) ||
            !netiso_etcd_json_int64(object, "version", &kv->version, error) ||
            !netiso_etcd_json_int64(object, "lease", &kv->lease, error))
                return NULL;
        if (kv->key_len == 0) {
                protocol_error(error, "kv", "has no key");
                return NULL;
        }
        return g_steal_pointer(&kv);
}

void
netiso_etcd_kv_free(NetisoEtcdKv *kv)
{
        if (!kv)
                return;
        g_free(kv->key);
        g_free(kv->value);
        g_free(kv);
}

void
netiso_etcd_json_add_bytes(JsonBuilder *builder, const char *member, const char *data, gsize len)
{
        g_autofree char *b64 = g_base64_encode((const guchar *)data, len);

        json_builder_set_member_name(builder, member);
        json_builder_add_string_value(builder, b64);
}

void
netiso_etcd_json_add_int64(JsonBuilder *builder, const char *member, gint64 value)
{
        char text[24];

        g_snprintf(text, sizeof(text), "%" G_GINT64_FORMAT, value);
        json_builder_set_member_name(builder, member);
        json_builder_add_string_value(builder, text);
}

char *
netiso_etcd_prefix_end(const char *prefix)
{
        g_autofree char *end = g_strdup(prefix);

        for (gssize i = (gssize)strlen(end) - 1; i >= 0; i--) {
                if ((guchar)end[i] < 0xff) {
                        end[i]++;
                        end[i + 1] = '\0';
                        return g_steal_pointer(&end);
                }
        }
        /* Every byte 0xff (or empty): etcd's "\0" range end means "to the last key". */
        return g_strdup("");
}
