/* [vm.network_isolation.cluster]: the etcd endpoints, this host's node name,
 * the key prefix, TLS files and the lease, read as strictly as the rest of
 * the configuration (one line naming file, line, column and key). */
#include "autoconfig.h"

#include <string.h>

#include "conf/config-cluster.h"
#include "conf/config-read.h"
#include "util/endpoint.h"
#include "util/names.h"
#include "util/quote.h"

#define TABLE "vm.network_isolation.cluster"
#define ENDPOINTS_MAX 16

void
netiso_cluster_config_free(NetisoClusterConfig *cluster)
{
        if (!cluster)
                return;
        g_clear_pointer(&cluster->endpoints, g_ptr_array_unref);
        g_free(cluster->node);
        g_free(cluster->prefix);
        g_free(cluster->ca_file);
        g_free(cluster->cert_file);
        g_free(cluster->key_file);
        g_free(cluster);
}

static gboolean
read_string(const char *filename, const char *key, const NetisoTomlValue *value, char **ret,
            GError **error)
{
        if (!netiso_config_check_type(filename, key, value, NETISO_TOML_STRING, "a string", error))
                return FALSE;
        g_free(*ret);
        *ret = g_strdup(value->string);
        return TRUE;
}

static gboolean
read_endpoints(const char *filename, const char *key, const NetisoTomlValue *value,
               NetisoClusterConfig *c, GError **error)
{
        g_autoptr(GPtrArray) endpoints = g_ptr_array_new_with_free_func(g_free);

        if (!netiso_config_check_type(filename, key, value, NETISO_TOML_ARRAY,
                                      "an array of URL strings", error))
                return FALSE;
        if (value->array->len == 0)
                return netiso_config_key_error(filename, key, value, error,
                                               "must name at least one etcd endpoint");
        if (value->array->len > ENDPOINTS_MAX)
                return netiso_config_key_error(filename, key, value, error,
                                               "names %u endpoints, at most %d are allowed",
                                               value->array->len, ENDPOINTS_MAX);
        for (guint i = 0; i < value->array->len; i++) {
                const NetisoTomlValue *item = g_ptr_array_index(value->array, i);
                g_autofree char *name = g_strdup_printf("%s[%u]", key, i + 1);
                g_autofree char *quoted = NULL;
                const char *problem;
                gsize len;

                if (!netiso_config_check_type(filename, name, item, NETISO_TOML_STRING,
                                              "a URL string", error))
                        return FALSE;
                problem = netiso_endpoint_problem(item->string);
                if (problem) {
                        quoted = netiso_quote(item->string);
                        return netiso_config_key_error(filename, name, item, error,
                                                       "etcd endpoint '%s' %s", quoted, problem);
                }
                len = strlen(item->string);
                g_ptr_array_add(endpoints,
                                g_strndup(item->string, len - (item->string[len - 1] == '/')));
        }
        g_clear_pointer(&c->endpoints, g_ptr_array_unref);
        c->endpoints = g_steal_pointer(&endpoints);
        return TRUE;
}

static gboolean
read_node(const char *filename, const char *key, const NetisoTomlValue *value,
          NetisoClusterConfig *c, GError **error)
{
        g_autofree char *problem = NULL;
        g_autofree char *quoted = NULL;

        if (!read_string(filename, key, value, &c->node, error))
                return FALSE;
        problem = netiso_tenant_name_problem(c->node);
        if (!problem)
                return TRUE;
        quoted = netiso_quote(c->node);
        return netiso_config_key_error(filename, key, value, error, "node '%s' is invalid: %s",
                                       quoted, problem);
}

static gboolean
read_prefix(const char *filename, const char *key, const NetisoTomlValue *value,
            NetisoClusterConfig *c, GError **error)
{
        const char *problem;
        g_autofree char *quoted = NULL;

        if (!read_string(filename, key, value, &c->prefix, error))
                return FALSE;
        problem = netiso_key_prefix_problem(c->prefix);
        if (!problem)
                return TRUE;
        quoted = netiso_quote(c->prefix);
        return netiso_config_key_error(filename, key, value, error, "prefix '%s' %s", quoted,
                                       problem);
}

static gboolean
read_path(const char *filename, const char *key, const NetisoTomlValue *value, char **ret,
          GError **error)
{
        g_autofree char *quoted = NULL;

        if (!read_string(filename, key, value, ret, error))
                return FALSE;
        /* The hook and the daemon run from other working directories. */
        if (g_path_is_absolute(*ret))
                return TRUE;
        quoted = netiso_quote(*ret);
        return netiso_config_key_error(filename, key, value, error,
                                       "\"%s\" is not an absolute path", quoted);
}

static gboolean
read_entry(const char *filename, const NetisoTomlEntry *entry, NetisoClusterConfig *c,
           GError **error)
{
        const char *key = entry->key;
        const NetisoTomlValue *value = entry->value;
        gint64 number = 0;

        if (g_str_equal(key, "etcd_endpoints"))
                return read_endpoints(filename, key, value, c, error);
        if (g_str_equal(key, "node"))
                return read_node(filename, key, value, c, error);
        if (g_str_equal(key, "prefix"))
                return read_prefix(filename, key, value, c, error);
        if (g_str_equal(key, "ca_file"))
                return read_path(filename, key, value, &c->ca_file, error);
        if (g_str_equal(key, "cert_file"))
                return read_path(filename, key, value, &c->cert_file, error);
        if (g_str_equal(key, "key_file"))
                return read_path(filename, key, value, &c->key_file, error);
        if (g_str_equal(key, "lease_ttl")) {
                if (!netiso_config_read_integer(filename, key, value, 2, 3600, &number, error))
                        return FALSE;
                c->lease_ttl = (guint)number;
                return TRUE;
        }
        if (g_str_equal(key, "claim_timeout_ms")) {
                if (!netiso_config_read_integer(filename, key, value, 200, 20000, &number, error))
                        return FALSE;
                c->claim_timeout_ms = (guint)number;
                return TRUE;
        }
        netiso_toml_set_error(error, filename, entry->line, entry->column,
                              "unknown key '%s' in [" TABLE "]", key);
        return FALSE;
}

/* The host name up to its first dot, when it passes the node rule. */
static gboolean
default_node(const char *filename, const NetisoTomlValue *table, NetisoClusterConfig *c,
             GError **error)
{
        const char *host = g_get_host_name();
        g_autofree char *node = g_strndup(host, strcspn(host, "."));
        g_autofree char *problem = netiso_tenant_name_problem(node);
        g_autofree char *quoted = NULL;

        if (!problem) {
                c->node = g_steal_pointer(&node);
                return TRUE;
        }
        quoted = netiso_quote(node);
        return netiso_config_key_error(
                filename, "node", table, error,
                "the host name '%s' is not a valid node name (%s): set node in [" TABLE "]", quoted,
                problem);
}

gboolean
netiso_config_read_cluster(const char *filename, const NetisoTomlValue *value,
                           NetisoClusterConfig **ret_cluster, GError **error)
{
        g_autoptr(NetisoClusterConfig) c = g_new0(NetisoClusterConfig, 1);

        if (!netiso_config_check_type(filename, TABLE, value, NETISO_TOML_TABLE, "a table", error))
                return FALSE;
        c->prefix = g_strdup(NETISO_CLUSTER_DEFAULT_PREFIX);
        c->lease_ttl = NETISO_CLUSTER_DEFAULT_LEASE_TTL;
        c->claim_timeout_ms = NETISO_CLUSTER_DEFAULT_CLAIM_TIMEOUT_MS;
        c->line = value->line;
        c->column = value->column;
        for (guint i = 0; i < netiso_toml_table_size(value); i++)
                if (!read_entry(filename, netiso_toml_table_nth(value, i), c, error))
                        return FALSE;
        if (!c->endpoints)
                return netiso_config_key_error(filename, "etcd_endpoints", value, error,
                                               "missing; [" TABLE
                                               "] needs at least one etcd endpoint");
        if (!c->cert_file != !c->key_file)
                return netiso_config_key_error(filename, c->cert_file ? "key_file" : "cert_file",
                                               value, error,
                                               "missing; a client certificate needs both "
                                               "cert_file and key_file");
        if (!c->node && !default_node(filename, value, c, error))
                return FALSE;
        *ret_cluster = g_steal_pointer(&c);
        return TRUE;
}

void
netiso_config_digest_cluster(GString *out, const NetisoClusterConfig *cluster)
{
        /* Only whether there is a cluster shapes the rules: endpoints, node
         * and files change nothing in the kernel. Absent, the digest stays
         * what it was before clusters existed. */
        if (cluster)
                g_string_append(out, "cluster=1\n");
}
