/* nwfilter: the configured policy as libvirt nwfilter XML, printed, written
 * to a directory, or defined in libvirtd through the API (dependencies
 * first, so that every <filterref> resolves). */
#include "autoconfig.h"

#include <libvirt/libvirt.h>
#include <stdio.h>

#include "cli/cli.h"
#include "cli/virt.h"
#include "core/state.h"
#include "nwfilter/nwfilter.h"
#include "util/error.h"

static gboolean
define_filters(const char *uri, GPtrArray *filters, GError **error)
{
        virConnectPtr conn = netiso_virt_connect(netiso_virt_uri(uri), error);

        if (!conn)
                return FALSE;
        for (guint i = 0; i < filters->len; i++) {
                const NetisoNwfilter *f = g_ptr_array_index(filters, i);
                virNWFilterPtr nwf = virNWFilterDefineXML(conn, f->xml);

                if (!nwf) {
                        netiso_virt_error(error, "nwfilter '%s': libvirtd refused it", f->name);
                        netiso_virt_close(conn);
                        return FALSE;
                }
                printf("defined nwfilter %s\n", f->name);
                virNWFilterFree(nwf);
        }
        netiso_virt_close(conn);
        return TRUE;
}

/* Without --tenant: the tenants of the guests installed now, and "default". */
static GPtrArray *
known_tenants(const NetisoConfig *config)
{
        g_autoptr(GPtrArray) records = netiso_state_list(config->state_dir, NULL, NULL);
        GPtrArray *tenants = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);

        g_ptr_array_add(tenants, g_strdup("default"));
        g_hash_table_add(seen, (gpointer) "default");
        for (guint i = 0; records && i < records->len; i++) {
                const NetisoRecord *rec = g_ptr_array_index(records, i);
                if (g_hash_table_add(seen, rec->tenant))
                        g_ptr_array_add(tenants, g_strdup(rec->tenant));
        }
        return tenants;
}

int
netiso_cli_nwfilter(NetisoCliOptions *options, int argc, char **argv)
{
        g_auto(GStrv) tenant_args = NULL;
        g_autofree char *output_dir = NULL; /* GOption hands over its strings */
        g_autofree char *uri = NULL;
        gboolean define = FALSE;
        GOptionEntry entries[] = {
                { "tenant", 0, 0, G_OPTION_ARG_STRING_ARRAY, &tenant_args,
                  "a tenant to generate a filter for (repeatable)", "NAME" },
                { "output-dir", 0, 0, G_OPTION_ARG_FILENAME, &output_dir,
                  "write one FILTER.xml per filter into DIR", "DIR" },
                { "define", 0, 0, G_OPTION_ARG_NONE, &define, "define the filters in libvirtd",
                  NULL },
                { "connect", 0, 0, G_OPTION_ARG_STRING, &uri, "libvirt URI", "URI" },
                { NULL },
        };
        g_autoptr(NetisoConfig) config = NULL;
        g_autoptr(GPtrArray) tenants = NULL;
        g_autoptr(GPtrArray) filters = NULL;
        g_autoptr(GError) error = NULL;
        int status = 0;

        if (!netiso_cli_parse(options, "[--tenant NAME]... [--output-dir DIR] [--define]", entries,
                              &argc, &argv, &status))
                return status;
        if (argc > 1) {
                fprintf(stderr, "blixard-netiso nwfilter: unexpected argument '%s'\n", argv[1]);
                return 2;
        }
        config = netiso_cli_load_config(options, &status);
        if (!config)
                return status;
        if (tenant_args) {
                tenants = g_ptr_array_new_with_free_func(g_free);
                for (guint i = 0; tenant_args[i]; i++)
                        g_ptr_array_add(tenants, g_strdup(tenant_args[i]));
        } else {
                tenants = known_tenants(config);
        }
        filters = netiso_nwfilter_render(config, tenants, &error);
        if (!filters)
                return netiso_cli_fail(error);
        if (output_dir && !netiso_nwfilter_write_dir(filters, output_dir, &error))
                return netiso_cli_fail(error);
        if (define && !define_filters(uri, filters, &error))
                return netiso_cli_fail(error);
        if (!output_dir && !define)
                for (guint i = 0; i < filters->len; i++)
                        fputs(((NetisoNwfilter *)g_ptr_array_index(filters, i))->xml, stdout);
        return 0;
}
