/* status: the seed's `blixard security status`. Exit 0 when isolation is
 * enabled and every firewall object is intact, 1 otherwise, 2 when the
 * configuration itself is wrong. */
#include "autoconfig.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/json-writer.h"
#include "core/backend.h"
#include "core/state.h"
#include "engine/backends.h"
#include "util/error.h"

#define CAP_NET_ADMIN_BIT 12

static gboolean
has_net_admin(void)
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

static void
json_strings(NetisoJson *j, const char *key, GPtrArray *items)
{
        netiso_json_begin_array(j, key);
        for (guint i = 0; items && i < items->len; i++)
                netiso_json_string(j, NULL, g_ptr_array_index(items, i));
        netiso_json_end_array(j);
}

static void
json_guest(NetisoJson *j, const StatusReport *r, const NetisoRecord *rec)
{
        netiso_json_begin_object(j, NULL);
        netiso_json_string(j, "domain", rec->domain);
        netiso_json_string(j, "uuid", rec->uuid);
        netiso_json_string(j, "tenant", rec->tenant);
        netiso_json_string(j, "backend", netiso_backend_to_string(rec->backend));
        netiso_json_begin_array(j, "interfaces");
        for (guint i = 0; i < rec->ports->len; i++) {
                const NetisoRecordPort *p = g_ptr_array_index(rec->ports, i);
                const NetisoTapStatus *t = tap_status(r, p->tap);

                netiso_json_begin_object(j, NULL);
                netiso_json_string(j, "tap", p->tap);
                netiso_json_string(j, "mac", p->mac);
                netiso_json_begin_array(j, "addresses");
                for (guint a = 0; a < p->addresses->len; a++) {
                        g_autofree char *s = netiso_cidr_to_string(
                                &g_array_index(p->addresses, NetisoCidr, a), FALSE);
                        netiso_json_string(j, NULL, s);
                }
                netiso_json_end_array(j);
                netiso_json_bool(j, "installed", t && t->present);
                netiso_json_uint(j, "drop_packets", t ? t->drop_packets : 0);
                netiso_json_uint(j, "drop_bytes", t ? t->drop_bytes : 0);
                netiso_json_end_object(j);
        }
        netiso_json_end_array(j);
        netiso_json_end_object(j);
}

static void
print_json(const StatusReport *r)
{
        g_autoptr(GHashTable) tenants = count_tenants(r);
        g_autoptr(GList) names = g_list_sort(g_hash_table_get_keys(tenants), (GCompareFunc)strcmp);
        g_autofree char *text = NULL;
        NetisoJson j;

        netiso_json_init(&j);
        netiso_json_begin_object(&j, NULL);
        netiso_json_uint(&j, "schema", 1);
        netiso_json_string(&j, "version", PACKAGE_VERSION);
        netiso_json_bool(&j, "active", is_active(r));
        netiso_json_string(&j, "config", r->config_path);
        netiso_json_bool(&j, "enabled", r->config->enabled);
        netiso_json_string(&j, "backend", netiso_backend_to_string(r->config->backend));
        netiso_json_bool(&j, "privileged", r->privileged);
        netiso_json_begin_object(&j, "firewall");
        netiso_json_bool(&j, "present", r->inspection && r->inspection->objects_present);
        netiso_json_bool(&j, "intact", r->inspection && r->inspection->objects_intact);
        netiso_json_string(&j, "error", r->inspection_error);
        json_strings(&j, "problems", r->inspection ? r->inspection->problems : NULL);
        json_strings(&j, "warnings", r->inspection ? r->inspection->warnings : NULL);
        netiso_json_end_object(&j);
        netiso_json_begin_array(&j, "guests");
        for (guint i = 0; i < r->records->len; i++)
                json_guest(&j, r, g_ptr_array_index(r->records, i));
        netiso_json_end_array(&j);
        netiso_json_begin_object(&j, "tenants");
        for (GList *l = names; l; l = l->next)
                netiso_json_uint(&j, l->data,
                                 GPOINTER_TO_UINT(g_hash_table_lookup(tenants, l->data)));
        netiso_json_end_object(&j);
        netiso_json_end_object(&j);
        text = netiso_json_finish(&j);
        fputs(text, stdout);
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
                                        &g_array_index(p->addresses, NetisoCidr, a), FALSE);
                                g_string_append_printf(addrs, "%s%s", a ? " " : "", s);
                        }
                        printf("      %s %s [%s] dropped %" G_GUINT64_FORMAT " packets\n", p->tap,
                               t && t->present ? "installed" : "MISSING", addrs->str,
                               t ? t->drop_packets : 0);
                }
        }
}

int
netiso_cli_status(NetisoCliOptions *options, int argc, char **argv)
{
        gboolean json = FALSE;
        GOptionEntry entries[] = {
                { "json", 0, 0, G_OPTION_ARG_NONE, &json, "machine-readable output", NULL },
                { NULL },
        };
        g_autoptr(NetisoConfig) config = NULL;
        g_autoptr(NetisoFirewall) fw = netiso_firewall_new(NETISO_FIREWALL_APPLY);
        g_autoptr(GPtrArray) records = NULL;
        g_autoptr(NetisoInspection) inspection = NULL;
        g_autoptr(GError) error = NULL;
        StatusReport r = { 0 };
        int status = 0;

        if (!netiso_cli_parse(options, "[--json]", entries, &argc, &argv, &status))
                return status;
        config = netiso_cli_load_config(options, &status);
        if (!config)
                return status;
        records = netiso_state_list(config->state_dir, NULL, &error);
        if (!records)
                return netiso_cli_fail(error);
        r.config = config;
        r.config_path = options->config_path;
        r.privileged = has_net_admin();
        r.records = records;
        if (r.privileged) {
                inspection =
                        netiso_backend_ops(config->backend)->inspect(fw, config, records, &error);
                if (!inspection)
                        r.inspection_error = error->message;
        } else {
                r.inspection_error = "not privileged";
        }
        r.inspection = inspection;
        if (json)
                print_json(&r);
        else
                print_text(&r);
        return is_active(&r) ? 0 : 1;
}
