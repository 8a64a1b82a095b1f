/* status: the seed's `blixard security status`. Exit 0 when isolation is
 * enabled and every firewall object is intact, 1 otherwise, 2 when the
 * configuration itself is wrong. */
#include "autoconfig.h"

#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/metrics.h"
#include "core/remote.h"
#include "core/stamps.h"
#include "core/state.h"
#include "engine/cluster-ask.h"
#include "engine/inspectors.h"
#include "util/error.h"

#define CAP_NET_ADMIN_BIT 12

gboolean
netiso_cli_has_net_admin(void)
{
        g_autofree char *status = NULL;
        const char *line;

        if (geteuid() == 0)
                return TRUE;
        if (!g_file_get_contents("/proc/self/status", &status, NULL, NULL))
                return FALSE;
        line = strstr(status, "\nCapEff:\t");
        if (!line)
                return FALSE;
        return (g_ascii_strtoull(line + strlen("\nCapEff:\t"), NULL, 16) >> CAP_NET_ADMIN_BIT) & 1;
}

typedef struct {
        const NetisoConfig *config;
        const char *config_path;
        gboolean privileged;
        GPtrArray *records;
        NetisoInspection *inspection; /* NULL when it could not be read */
        const char *inspection_error;
        JsonNode *cluster; /* the watch daemon's status, or what is known without it */
} StatusReport;

static const NetisoTapStatus *
tap_status(const StatusReport *r, const char *tap)
{
        for (guint i = 0; r->inspection && i < r->inspection->taps->len; i++) {
                const NetisoTapStatus *t = g_ptr_array_index(r->inspection->taps, i);
                if (g_str_equal(t->tap, tap))
                        return t;
        }
        return NULL;
}

static gboolean
is_active(const StatusReport *r)
{
        return r->config->enabled && r->inspection && r->inspection->objects_present &&
               r->inspection->objects_intact;
}

static GHashTable *
count_tenants(const StatusReport *r)
{
        GHashTable *tenants = g_hash_table_new(g_str_hash, g_str_equal);

        for (guint i = 0; i < r->records->len; i++) {
                const NetisoRecord *rec = g_ptr_array_index(r->records, i);
                gpointer n = g_hash_table_lookup(tenants, rec->tenant);
                g_hash_table_replace(tenants, rec->tenant,
                                     GUINT_TO_POINTER(GPOINTER_TO_UINT(n) + 1));
        }
        return tenants;
}

/* json-glib takes strings as UTF-8: what came from outside (records) is
 * made valid first, so the document always parses. */
static void
add_string(JsonBuilder *b, const char *key, const char *value)
{
        g_autofree char *valid = value ? g_utf8_make_valid(value, -1) : NULL;

        if (key)
                json_builder_set_member_name(b, key);
        if (valid)
                json_builder_add_string_value(b, valid);
        else
                json_builder_add_null_value(b);
}

static void
add_bool(JsonBuilder *b, const char *key, gboolean value)
{
        json_builder_set_member_name(b, key);
        json_builder_add_boolean_value(b, value);
}

static void
add_uint(JsonBuilder *b, const char *key, guint64 value)
{
        json_builder_set_member_name(b, key);
        json_builder_add_int_value(b, (gint64)MIN(value, (guint64)G_MAXINT64));
}

static void
add_strings(JsonBuilder *b, const char *key, GPtrArray *items)
{
        json_builder_set_member_name(b, key);
        json_builder_begin_array(b);
        for (guint i = 0; items && i < items->len; i++)
                add_string(b, NULL, g_ptr_array_index(items, i));
        json_builder_end_array(b);
}

static void
add_guest(JsonBuilder *b, const StatusReport *r, const NetisoRecord *rec)
{
        json_builder_begin_object(b);
        add_string(b, "domain", rec->domain);
        add_string(b, "uuid", rec->uuid);
        add_string(b, "tenant", rec->tenant);
        add_string(b, "backend", netiso_backend_to_string(rec->backend));
        json_builder_set_member_name(b, "interfaces");
        json_builder_begin_array(b);
        for (guint i = 0; i < rec->ports->len; i++) {
                const NetisoRecordPort *p = g_ptr_array_index(rec->ports, i);
                const NetisoTapStatus *t = tap_status(r, p->tap);

                json_builder_begin_object(b);
                add_string(b, "tap", p->tap);
                add_string(b, "mac", p->mac);
                json_builder_set_member_name(b, "addresses");
                json_builder_begin_array(b);
                for (guint a = 0; a < p->addresses->len; a++) {
                        g_autofree char *s =
                                netiso_cidr_to_string(&g_array_index(p->addresses, NetisoCidr, a),
                                                      /* with_host_prefix */ FALSE);
                        add_string(b, NULL, s);
                }
                json_builder_end_array(b);
                add_bool(b, "installed", t && t->present);
                add_uint(b, "drop_packets", t ? t->drop_packets : 0);
                add_uint(b, "drop_bytes", t ? t->drop_bytes : 0);
                json_builder_end_object(b);
        }
        json_builder_end_array(b);
        json_builder_end_object(b);
}

static void
add_firewall(JsonBuilder *b, const StatusReport *r)
{
        json_builder_set_member_name(b, "firewall");
        json_builder_begin_object(b);
        add_bool(b, "present", r->inspection && r->inspection->objects_present);
        add_bool(b, "intact", r->inspection && r->inspection->objects_intact);
        add_string(b, "error", r->inspection_error);
        add_strings(b, "problems", r->inspection ? r->inspection->problems : NULL);
        add_strings(b, "warnings", r->inspection ? r->inspection->warnings : NULL);
        json_builder_end_object(b);
}

/* The cluster as the watch daemon sees it ("status" on its socket); without
 * an answer, what this host installed as last known (its journal). */
static JsonNode *
cluster_status(const NetisoConfig *config)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *answer = NULL;
        g_autoptr(JsonParser) parser = json_parser_new();
        g_autoptr(JsonBuilder) b = NULL;
        g_autoptr(NetisoRemote) remote = NULL;
        JsonNode *node;

        if (!config->cluster)
                return json_node_new(JSON_NODE_NULL);
        if (netiso_cluster_ask(config->state_dir, "status\n", 2000, &answer, &error) &&
            g_str_has_prefix(answer, "ok ") &&
            json_parser_load_from_data(parser, answer + 3, -1, NULL) &&
            JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser))) {
                node = json_node_copy(json_parser_get_root(parser));
                json_object_set_boolean_member(json_node_get_object(node), "running", TRUE);
                return node;
        }
        remote = netiso_remote_load(config->state_dir, NULL, NULL);
        b = json_builder_new();
        json_builder_begin_object(b);
        add_bool(b, "running", FALSE);
        add_string(b, "node", config->cluster->node);
        add_string(b, "prefix", config->cluster->prefix);
        add_bool(b, "connected", FALSE);
        add_uint(b, "remote_addresses", remote ? netiso_remote_size(remote) : 0);
        add_string(b, "last_error", error ? error->message : answer);
        json_builder_end_object(b);
        return json_builder_get_root(b);
}

static gint64
member_int(JsonObject *o, const char *key)
{
        return json_object_has_member(o, key) ? json_object_get_int_member(o, key) : 0;
}

static void
print_cluster(const StatusReport *r)
{
        JsonObject *o;

        if (!r->cluster || JSON_NODE_HOLDS_NULL(r->cluster))
                return;
        o = json_node_get_object(r->cluster);
        if (!json_object_get_boolean_member(o, "running")) {
                printf("  cluster:    node %s: watch NOT RUNNING (%s); %" G_GINT64_FORMAT
                       " addresses of other hosts' guests installed as last known\n",
                       json_object_get_string_member(o, "node"),
                       json_object_get_string_member(o, "last_error"),
                       member_int(o, "remote_addresses"));
                return;
        }
        printf("  cluster:    node %s, etcd %s (%s), revision %" G_GINT64_FORMAT
               ", lag %" G_GINT64_FORMAT " revisions, last heard %" G_GINT64_FORMAT " s ago\n",
               json_object_get_string_member(o, "node"),
               json_object_get_boolean_member(o, "connected") ? "connected" : "NOT CONNECTED",
               json_object_get_string_member(o, "endpoint"), member_int(o, "revision"),
               member_int(o, "lag_revisions"), member_int(o, "lag_seconds"));
        printf("              %" G_GINT64_FORMAT " hosts, %" G_GINT64_FORMAT
               " guests of other hosts (%" G_GINT64_FORMAT
               " addresses installed), %" G_GINT64_FORMAT " of %" G_GINT64_FORMAT
               " local guests published\n",
               member_int(o, "hosts"), member_int(o, "remote_guests"),
               member_int(o, "remote_addresses"), member_int(o, "published"),
               member_int(o, "local_guests"));
        if (!JSON_NODE_HOLDS_NULL(json_object_get_member(o, "last_error")))
                printf("              last error: %s\n",
                       json_object_get_string_member(o, "last_error"));
}

/* One line of compact JSON (the shape is documented in blixard-netiso(8)). */
static void
print_json(const StatusReport *r)
{
        g_autoptr(GHashTable) tenants = count_tenants(r);
        g_autoptr(GList) names = g_list_sort(g_hash_table_get_keys(tenants), (GCompareFunc)strcmp);
        g_autoptr(JsonBuilder) b = json_builder_new();
        g_autoptr(JsonGenerator) gen = json_generator_new();
        g_autoptr(JsonNode) root = NULL;
        g_autofree char *text = NULL;

        json_builder_begin_object(b);
        add_uint(b, "schema", 1);
        add_string(b, "version", PACKAGE_VERSION);
        add_bool(b, "active", is_active(r));
        add_string(b, "config", r->config_path);
        add_bool(b, "enabled", r->config->enabled);
        add_string(b, "backend", netiso_backend_to_string(r->config->backend));
        add_bool(b, "privileged", r->privileged);
        add_firewall(b, r);
        json_builder_set_member_name(b, "cluster");
        json_builder_add_value(b, json_node_copy(r->cluster));
        json_builder_set_member_name(b, "guests");
        json_builder_begin_array(b);
        for (guint i = 0; i < r->records->len; i++)
                add_guest(b, r, g_ptr_array_index(r->records, i));
        json_builder_end_array(b);
        json_builder_set_member_name(b, "tenants");
        json_builder_begin_object(b);
        for (GList *l = names; l; l = l->next)
                add_uint(b, l->data, GPOINTER_TO_UINT(g_hash_table_lookup(tenants, l->data)));
        json_builder_end_object(b);
        json_builder_end_object(b);
        root = json_builder_get_root(b);
        json_generator_set_root(gen, root);
        text = json_generator_to_data(gen, NULL);
        printf("%s\n", text);
}

static void
print_text(const StatusReport *r)
{
        g_autoptr(GHashTable) tenants = count_tenants(r);

        printf("network isolation: %s\n", is_active(r) ? "ACTIVE" : "NOT ACTIVE");
        printf("  config:     %s (%s)\n", r->config_path,
               r->config->enabled ? "enabled" : "disabled");
        printf("  backend:    %s\n", netiso_backend_to_string(r->config->backend));
        printf("  privileges: %s\n",
               r->privileged ? "yes (root or CAP_NET_ADMIN)" : "NO: need root or CAP_NET_ADMIN");
        if (!r->inspection)
                printf("  firewall:   cannot read: %s\n", r->inspection_error);
        else
                printf("  firewall:   %s\n", !r->inspection->objects_present ? "objects MISSING"
                                             : r->inspection->objects_intact
                                                     ? "objects present and intact"
                                                     : "objects ALTERED");
        for (guint i = 0; r->inspection && i < r->inspection->problems->len; i++)
                printf("    problem: %s\n",
                       (const char *)g_ptr_array_index(r->inspection->problems, i));
        for (guint i = 0; r->inspection && i < r->inspection->warnings->len; i++)
                printf("    warning: %s\n",
                       (const char *)g_ptr_array_index(r->inspection->warnings, i));
        print_cluster(r);
        printf("  guests:     %u protected in %u tenants\n", r->records->len,
               g_hash_table_size(tenants));
        for (guint i = 0; i < r->records->len; i++) {
                const NetisoRecord *rec = g_ptr_array_index(r->records, i);
                printf("    %s (tenant %s)\n", rec->domain, rec->tenant);
                for (guint k = 0; k < rec->ports->len; k++) {
                        const NetisoRecordPort *p = g_ptr_array_index(rec->ports, k);
                        const NetisoTapStatus *t = tap_status(r, p->tap);
                        g_autoptr(GString) addrs = g_string_new(NULL);
                        for (guint a = 0; a < p->addresses->len; a++) {
                                g_autofree char *s = netiso_cidr_to_string(
                                        &g_array_index(p->addresses, NetisoCidr, a),
                                        /* with_host_prefix */ FALSE);
                                g_string_append_printf(addrs, "%s%s", a ? " " : "", s);
                        }
                        printf("      %s %s [%s] dropped %" G_GUINT64_FORMAT " packets\n", p->tap,
                               t && t->present ? "installed" : "MISSING", addrs->str,
                               t ? t->drop_packets : 0);
                }
        }
}

/* --prometheus (core/metrics.h): exit 0 whenever the metrics were written,
 * so that a textfile collector's "status > file && mv" keeps reporting a
 * broken firewall instead of going stale. */
static int
print_prometheus(const StatusReport *r)
{
        NetisoMetricsInput in = {
                .config = r->config,
                .records = r->records,
                .inspection = r->inspection,
                .last_event_usec = netiso_stamp_read(r->config->state_dir, NETISO_STAMP_EVENT),
                .last_repair_usec = netiso_stamp_read(r->config->state_dir, NETISO_STAMP_REPAIR),
        };
        g_autofree char *text = netiso_metrics_render(&in);

        fputs(text, stdout);
        return fflush(stdout) == 0 ? 0 : 1;
}

int
netiso_cli_status(NetisoCliOptions *options, int argc, char **argv)
{
        gboolean json = FALSE, prometheus = FALSE;
        GOptionEntry entries[] = {
                { "json", 0, 0, G_OPTION_ARG_NONE, &json, "machine-readable output", NULL },
                { "prometheus", 0, 0, G_OPTION_ARG_NONE, &prometheus,
                  "Prometheus text format (node_exporter's textfile collector)", NULL },
                { NULL },
        };
        g_autoptr(NetisoConfig) config = NULL;
        g_autoptr(NetisoFirewall) fw = netiso_firewall_new(NETISO_FIREWALL_APPLY);
        g_autoptr(GPtrArray) records = NULL;
        g_autoptr(NetisoInspection) inspection = NULL;
        g_autoptr(JsonNode) cluster = NULL;
        g_autoptr(GError) error = NULL;
        StatusReport r = { 0 };
        int status = 0;

        if (!netiso_cli_parse(options, "[--json|--prometheus]", entries, &argc, &argv, &status))
                return status;
        config = netiso_cli_load_config(options, &status);
        if (!config)
                return status;
        records = netiso_state_list(config->state_dir, NULL, &error);
        if (!records)
                return netiso_cli_fail(error);
        r.config = config;
        r.config_path = options->config_path;
        r.privileged = netiso_cli_has_net_admin();
        r.records = records;
        if (r.privileged) {
                inspection = netiso_backend_inspect(config->backend)
                                     ->inspect(fw, config, records, &error);
                if (!inspection)
                        r.inspection_error = error->message;
        } else {
                r.inspection_error = "not privileged";
        }
        r.inspection = inspection;
        if (!prometheus)
                cluster = r.cluster = cluster_status(config);
        if (prometheus)
                return print_prometheus(&r);
        if (json)
                print_json(&r);
        else
                print_text(&r);
        return is_active(&r) ? 0 : 1;
}
