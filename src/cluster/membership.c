/* The cluster's key schema and records: keys built and parsed, records
 * written as canonical JSON and read back with every field checked, since
 * whatever another host wrote ends up in this host's firewall. */
#include "autoconfig.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "cluster/etcd-private.h"
#include "cluster/membership.h"
#include "util/endpoint.h"
#include "util/names.h"
#include "util/quote.h"

#define NAME_MAX_BYTES 1024 /* a domain name in a record */
#define RECORD_DEPTH_MAX 4  /* records nest 2 deep (an object holding an array) */

static gboolean invalid(GError **error, const char *format, ...) G_GNUC_PRINTF(2, 3);

static gboolean
invalid(GError **error, const char *format, ...)
{
        va_list args;
        g_autofree char *message = NULL;

        va_start(args, format);
        message = g_strdup_vprintf(format, args);
        va_end(args);
        g_set_error_literal(error, NETISO_CLUSTER_ERROR, NETISO_CLUSTER_ERROR_INVALID, message);
        return FALSE;
}

const char *
netiso_cluster_prefix_problem(const char *prefix)
{
        return netiso_key_prefix_problem(prefix);
}

char *
netiso_cluster_node_problem(const char *node)
{
        /* The tenant rule: nodes end up in keys and messages like tenants do. */
        return netiso_tenant_name_problem(node);
}

char *
netiso_cluster_key_host(const char *prefix, const char *node)
{
        return g_strconcat(prefix, "hosts/", node, NULL);
}

char *
netiso_cluster_key_hosts(const char *prefix)
{
        return g_strconcat(prefix, "hosts/", NULL);
}

char *
netiso_cluster_key_guest(const char *prefix, const char *node, const char *uuid)
{
        return g_strconcat(prefix, "guests/", node, "/", uuid, NULL);
}

char *
netiso_cluster_key_guests_of(const char *prefix, const char *node)
{
        return g_strconcat(prefix, "guests/", node, "/", NULL);
}

char *
netiso_cluster_key_owner(const char *prefix, const NetisoCidr *addr)
{
        g_autofree char *text = netiso_cidr_to_string(addr, FALSE);

        return g_strconcat(prefix, "owners/", text, NULL);
}

void
netiso_cluster_key_clear(NetisoClusterKey *key)
{
        g_clear_pointer(&key->node, g_free);
        g_clear_pointer(&key->uuid, g_free);
        key->type = NETISO_CLUSTER_KEY_OTHER;
}

static gboolean
check_node(const char *node, const char *what, GError **error)
{
        g_autofree char *why = netiso_cluster_node_problem(node);
        g_autofree char *quoted = NULL;

        if (!why)
                return TRUE;
        quoted = netiso_quote(node);
        return invalid(error, "%s: node '%s' is invalid: %s", what, quoted, why);
}

static gboolean
check_uuid(const char *uuid, const char *what, GError **error)
{
        g_autofree char *canonical = netiso_uuid_canonical(uuid);
        g_autofree char *quoted = NULL;

        if (canonical && strcmp(canonical, uuid) == 0)
                return TRUE;
        quoted = netiso_quote(uuid);
        return invalid(error, "%s: uuid '%s' is not in canonical lower-case form", what, quoted);
}

static gboolean
parse_owner_addr(const char *text, const char *what, NetisoCidr *ret_addr, GError **error)
{
        g_autofree char *quoted = netiso_quote(text);
        g_autofree char *canonical = NULL;
        const char *why;

        if (!netiso_addr_parse(text, ret_addr, NULL))
                return invalid(error, "%s: '%s' is not an address", what, quoted);
        canonical = netiso_cidr_to_string(ret_addr, FALSE);
        if (strcmp(canonical, text) != 0)
                return invalid(error, "%s: address '%s' is not in canonical form", what, quoted);
        if ((why = netiso_addr_guest_refusal(ret_addr)))
                return invalid(error, "%s: address '%s' %s", what, quoted, why);
        return TRUE;
}

gboolean
netiso_cluster_key_parse(const char *prefix, const char *key, gsize key_len,
                         NetisoClusterKey *ret_key, GError **error)
{
        gsize plen = strlen(prefix);
        g_autofree char *quoted = NULL;
        g_auto(GStrv) parts = NULL;
        const char *rest;

        memset(ret_key, 0, sizeof(*ret_key));
        ret_key->type = NETISO_CLUSTER_KEY_OTHER;
        if (key_len < plen || memcmp(key, prefix, plen) != 0)
                return TRUE;
        quoted = netiso_quote_n(key, 200);
        if (memchr(key, '\0', key_len) || !g_utf8_validate(key, (gssize)key_len, NULL))
                return invalid(error, "key '%s' holds a NUL or is not UTF-8", quoted);
        rest = key + plen;
        parts = g_strsplit(rest, "/", 4); /* key is NUL-terminated (NetisoEtcdKv) */
        if (strcmp(parts[0], "hosts") == 0) {
                if (!parts[1] || parts[2])
                        return invalid(error, "key '%s' is not hosts/NODE", quoted);
                if (!check_node(parts[1], "key", error))
                        return FALSE;
                ret_key->type = NETISO_CLUSTER_KEY_HOST;
                ret_key->node = g_strdup(parts[1]);
                return TRUE;
        }
        if (strcmp(parts[0], "guests") == 0) {
                if (!parts[1] || !parts[2] || parts[3])
                        return invalid(error, "key '%s' is not guests/NODE/UUID", quoted);
                if (!check_node(parts[1], "key", error) || !check_uuid(parts[2], "key", error))
                        return FALSE;
                ret_key->type = NETISO_CLUSTER_KEY_GUEST;
                ret_key->node = g_strdup(parts[1]);
                ret_key->uuid = g_strdup(parts[2]);
                return TRUE;
        }
        if (strcmp(parts[0], "owners") == 0) {
                if (!parts[1] || parts[2])
                        return invalid(error, "key '%s' is not owners/ADDRESS", quoted);
                if (!parse_owner_addr(parts[1], "key", &ret_key->addr, error))
                        return FALSE;
                ret_key->type = NETISO_CLUSTER_KEY_OWNER;
                return TRUE;
        }
        return TRUE;
}

NetisoClusterGuest *
netiso_cluster_guest_new(const char *node, const char *uuid, const char *name, const char *tenant)
{
        NetisoClusterGuest *guest = g_new0(NetisoClusterGuest, 1);

        guest->node = g_strdup(node);
        guest->uuid = g_strdup(uuid);
        guest->name = g_strdup(name);
        guest->tenant = g_strdup(tenant);
        guest->addresses = g_array_new(FALSE, FALSE, sizeof(NetisoCidr));
        return guest;
}

NetisoClusterGuest *
netiso_cluster_guest_copy(const NetisoClusterGuest *guest)
{
        NetisoClusterGuest *copy =
                netiso_cluster_guest_new(guest->node, guest->uuid, guest->name, guest->tenant);

        g_array_append_vals(copy->addresses, guest->addresses->data, guest->addresses->len);
        return copy;
}

void
netiso_cluster_guest_free(NetisoClusterGuest *guest)
{
        if (!guest)
                return;
        g_free(guest->node);
        g_free(guest->uuid);
        g_free(guest->name);
        g_free(guest->tenant);
        g_array_unref(guest->addresses);
        g_free(guest);
}

static int
cidr_compare(gconstpointer a, gconstpointer b)
{
        const NetisoCidr *x = a, *y = b;

        if (x->family != y->family)
                return x->family < y->family ? -1 : 1;
        return memcmp(x->bytes, y->bytes, sizeof(x->bytes));
}

void
netiso_cluster_guest_normalize(NetisoClusterGuest *guest)
{
        GArray *a = guest->addresses;
        guint kept = 0;

        g_array_sort(a, cidr_compare);
        for (guint i = 0; i < a->len; i++) {
                if (kept > 0 && cidr_compare(&g_array_index(a, NetisoCidr, kept - 1),
                                             &g_array_index(a, NetisoCidr, i)) == 0)
                        continue;
                g_array_index(a, NetisoCidr, kept++) = g_array_index(a, NetisoCidr, i);
        }
        g_array_set_size(a, kept);
}

gboolean
netiso_cluster_guest_equal(const NetisoClusterGuest *a, const NetisoClusterGuest *b)
{
        if (g_strcmp0(a->node, b->node) || g_strcmp0(a->uuid, b->uuid) ||
            g_strcmp0(a->name, b->name) || g_strcmp0(a->tenant, b->tenant) ||
            a->addresses->len != b->addresses->len)
                return FALSE;
        for (guint i = 0; i < a->addresses->len; i++)
                if (!netiso_cidr_equal(&g_array_index(a->addresses, NetisoCidr, i),
                                       &g_array_index(b->addresses, NetisoCidr, i)))
                        return FALSE;
        return TRUE;
}

static char *
generate(JsonBuilder *b, gsize *ret_len)
{
        g_autoptr(JsonGenerator) generator = json_generator_new();
        g_autoptr(JsonNode) root = json_builder_get_root(b);
        gsize len = 0;
        char *text;

        json_generator_set_root(generator, root);
        text = json_generator_to_data(generator, &len);
        if (ret_len)
                *ret_len = len;
        return text;
}

static void
add_string(JsonBuilder *b, const char *member, const char *value)
{
        json_builder_set_member_name(b, member);
        json_builder_add_string_value(b, value);
}

static void
add_version(JsonBuilder *b)
{
        json_builder_set_member_name(b, "v");
        json_builder_add_int_value(b, NETISO_CLUSTER_SCHEMA);
}

char *
netiso_cluster_guest_to_json(const NetisoClusterGuest *guest, gsize *ret_len)
{
        g_autoptr(JsonBuilder) b = json_builder_new();
        g_autoptr(NetisoClusterGuest) sorted = netiso_cluster_guest_copy(guest);

        netiso_cluster_guest_normalize(sorted);
        json_builder_begin_object(b);
        add_version(b);
        add_string(b, "uuid", guest->uuid);
        add_string(b, "name", guest->name);
        add_string(b, "tenant", guest->tenant);
        json_builder_set_member_name(b, "addresses");
        json_builder_begin_array(b);
        for (guint i = 0; i < sorted->addresses->len; i++) {
                g_autofree char *text = netiso_cidr_to_string(
                        &g_array_index(sorted->addresses, NetisoCidr, i), FALSE);
                json_builder_add_string_value(b, text);
        }
        json_builder_end_array(b);
        add_string(b, "node", guest->node);
        json_builder_end_object(b);
        return generate(b, ret_len);
}

char *
netiso_cluster_owner_to_json(const char *uuid, const char *node, gsize *ret_len)
{
        g_autoptr(JsonBuilder) b = json_builder_new();

        json_builder_begin_object(b);
        add_version(b);
        add_string(b, "uuid", uuid);
        add_string(b, "node", node);
        json_builder_end_object(b);
        return generate(b, ret_len);
}

char *
netiso_cluster_host_to_json(const char *node, gsize *ret_len)
{
        g_autoptr(JsonBuilder) b = json_builder_new();

        json_builder_begin_object(b);
        add_version(b);
        add_string(b, "node", node);
        json_builder_end_object(b);
        return generate(b, ret_len);
}

/* Parse a record: a JSON object with exactly the members allowed (NULL-ended),
 * all present, "v" the schema version. */
static JsonObject *
record_parse(JsonParser *parser, const char *what, const char *data, gsize len,
             const char *const *members, GError **error)
{
        g_autoptr(GError) local = NULL;
        JsonNode *root, *version;
        JsonObject *object;
        g_autoptr(GList) names = NULL;
        guint n = 0;

        if (len > NETISO_CLUSTER_RECORD_MAX) {
                invalid(error, "%s: record of %" G_GSIZE_FORMAT " bytes is too large", what, len);
                return NULL;
        }
        if (memchr(data, '\0', len) || !g_utf8_validate(data, (gssize)len, NULL)) {
                invalid(error, "%s: record holds a NUL or is not UTF-8", what);
                return NULL;
        }
        if (!netiso_etcd_json_depth_ok(data, len, RECORD_DEPTH_MAX)) {
                invalid(error, "%s: record nests deeper than %d", what, RECORD_DEPTH_MAX);
                return NULL;
        }
        if (!json_parser_load_from_data(parser, data, (gssize)len, &local)) {
                g_autofree char *why = netiso_quote(local->message);
                invalid(error, "%s: record is not JSON: %s", what, why);
                return NULL;
        }
        root = json_parser_get_root(parser);
        if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
                invalid(error, "%s: record is not a JSON object", what);
                return NULL;
        }
        object = json_node_get_object(root);
        names = json_object_get_members(object);
        for (GList *l = names; l; l = l->next) {
                if (!g_strv_contains(members, l->data)) {
                        g_autofree char *quoted = netiso_quote(l->data);
                        invalid(error, "%s: record has unknown member '%s'", what, quoted);
                        return NULL;
                }
                n++;
        }
        if (n != g_strv_length((char **)members)) {
                invalid(error, "%s: record lacks members (has %u of %u)", what, n,
                        g_strv_length((char **)members));
                return NULL;
        }
        version = json_object_get_member(object, "v");
        if (!JSON_NODE_HOLDS_VALUE(version) || json_node_get_value_type(version) != G_TYPE_INT64 ||
            json_node_get_int(version) != NETISO_CLUSTER_SCHEMA) {
                invalid(error, "%s: record is not of schema version %d", what,
                        NETISO_CLUSTER_SCHEMA);
                return NULL;
        }
        return object;
}

static const char *
get_string(JsonObject *object, const char *member, const char *what, GError **error)
{
        JsonNode *node = json_object_get_member(object, member);

        if (!JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_STRING) {
                invalid(error, "%s: member '%s' is not a string", what, member);
                return NULL;
        }
        return json_node_get_string(node);
}

/* The record's node (and UUID) must be the key's: a host writes only its own. */
static gboolean
check_same(const char *member, const char *value, const char *expected, const char *what,
           GError **error)
{
        g_autofree char *quoted = NULL;
        g_autofree char *quoted_expected = NULL;

        if (strcmp(value, expected) == 0)
                return TRUE;
        quoted = netiso_quote(value);
        quoted_expected = netiso_quote(expected);
        return invalid(error, "%s: %s '%s' differs from the key's '%s'", what, member, quoted,
                       quoted_expected);
}

static gboolean
parse_addresses(const NetisoClusterRules *rules, JsonObject *object, const char *what, GArray *out,
                GError **error)
{
        JsonNode *node = json_object_get_member(object, "addresses");
        JsonArray *array;
        guint n;

        if (!JSON_NODE_HOLDS_ARRAY(node))
                return invalid(error, "%s: member 'addresses' is not an array", what);
        array = json_node_get_array(node);
        n = json_array_get_length(array);
        if (n > NETISO_CLUSTER_GUEST_ADDR_MAX)
                return invalid(error, "%s: more than %d addresses", what,
                               NETISO_CLUSTER_GUEST_ADDR_MAX);
        for (guint i = 0; i < n; i++) {
                JsonNode *element = json_array_get_element(array, i);
                const char *text;
                NetisoCidr addr;
                gboolean inside = FALSE;
                g_autofree char *quoted = NULL;

                if (!JSON_NODE_HOLDS_VALUE(element) ||
                    json_node_get_value_type(element) != G_TYPE_STRING)
                        return invalid(error, "%s: address %u is not a string", what, i);
                text = json_node_get_string(element);
                if (!parse_owner_addr(text, what, &addr, error))
                        return FALSE;
                for (guint j = 0; rules->vm_networks && j < rules->vm_networks->len; j++)
                        inside = inside ||
                                 netiso_cidr_contains(
                                         &g_array_index(rules->vm_networks, NetisoCidr, j), &addr);
                if (!inside) {
                        quoted = netiso_quote(text);
                        return invalid(error, "%s: address '%s' is outside the VM networks", what,
                                       quoted);
                }
                g_array_append_val(out, addr);
        }
        return TRUE;
}

NetisoClusterGuest *
netiso_cluster_guest_from_json(const NetisoClusterRules *rules, const NetisoClusterKey *key,
                               const char *data, gsize len, GError **error)
{
        static const char *const members[] = { "v",         "uuid", "name", "tenant",
                                               "addresses", "node", NULL };
        g_autoptr(JsonParser) parser = json_parser_new_immutable();
        g_autofree char *what = g_strdup_printf("guest %s on %s", key->uuid, key->node);
        g_autoptr(NetisoClusterGuest) guest = NULL;
        g_autofree char *why = NULL;
        JsonObject *object;
        const char *uuid, *name, *tenant, *node;

        g_return_val_if_fail(key->type == NETISO_CLUSTER_KEY_GUEST, NULL);
        object = record_parse(parser, what, data, len, members, error);
        if (!object || !(uuid = get_string(object, "uuid", what, error)) ||
            !(name = get_string(object, "name", what, error)) ||
            !(tenant = get_string(object, "tenant", what, error)) ||
            !(node = get_string(object, "node", what, error)) ||
            !check_same("uuid", uuid, key->uuid, what, error) ||
            !check_same("node", node, key->node, what, error))
                return NULL;
        if ((why = netiso_tenant_name_problem(tenant))) {
                g_autofree char *quoted = netiso_quote(tenant);
                invalid(error, "%s: tenant '%s' is invalid: %s", what, quoted, why);
                return NULL;
        }
        if (strlen(name) > NAME_MAX_BYTES || netiso_domain_name_problem(name)) {
                g_autofree char *quoted = netiso_quote(name);
                invalid(error, "%s: name '%s' %s", what, quoted,
                        strlen(name) > NAME_MAX_BYTES ? "is too long"
                                                      : netiso_domain_name_problem(name));
                return NULL;
        }
        guest = netiso_cluster_guest_new(node, uuid, name, tenant);
        if (!parse_addresses(rules, object, what, guest->addresses, error))
                return NULL;
        netiso_cluster_guest_normalize(guest);
        return g_steal_pointer(&guest);
}

gboolean
netiso_cluster_owner_from_json(const NetisoClusterKey *key, const char *data, gsize len,
                               char **ret_uuid, char **ret_node, GError **error)
{
        static const char *const members[] = { "v", "uuid", "node", NULL };
        g_autoptr(JsonParser) parser = json_parser_new_immutable();
        g_autofree char *addr = netiso_cidr_to_string(&key->addr, FALSE);
        g_autofree char *what = g_strdup_printf("owner of %s", addr);
        JsonObject *object;
        const char *uuid, *node;

        object = record_parse(parser, what, data, len, members, error);
        if (!object || !(uuid = get_string(object, "uuid", what, error)) ||
            !(node = get_string(object, "node", what, error)) || !check_uuid(uuid, what, error) ||
            !check_node(node, what, error))
                return FALSE;
        *ret_uuid = g_strdup(uuid);
        *ret_node = g_strdup(node);
        return TRUE;
}

gboolean
netiso_cluster_host_from_json(const NetisoClusterKey *key, const char *data, gsize len,
                              GError **error)
{
        static const char *const members[] = { "v", "node", NULL };
        g_autoptr(JsonParser) parser = json_parser_new_immutable();
        g_autofree char *what = g_strdup_printf("host %s", key->node);
        JsonObject *object;
        const char *node;

        object = record_parse(parser, what, data, len, members, error);
        return object && (node = get_string(object, "node", what, error)) &&
               check_same("node", node, key->node, what, error);
}
