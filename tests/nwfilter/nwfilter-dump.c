/* Renders one of the test configurations into a directory of nwfilter XML
 * files, for the schema and libvirtd tests (the CLI is the real front end).
 * Usage: nwfilter-dump --list | nwfilter-dump CASE DIR */
#include "autoconfig.h"

#include <stdio.h>
#include <string.h>

#include "nwfilter-cases.h"
#include "nwfilter/nwfilter.h"

int
main(int argc, char **argv)
{
        g_autoptr(NwcaseConfig) config = NULL;
        g_autoptr(GPtrArray) tenants = NULL;
        g_autoptr(GPtrArray) filters = NULL;
        g_autoptr(GError) error = NULL;

        if (argc == 2 && strcmp(argv[1], "--list") == 0) {
                for (const char *const *n = nwcase_names(); *n; n++)
                        printf("%s\n", *n);
                return 0;
        }
        if (argc != 3) {
                fprintf(stderr, "usage: nwfilter-dump --list | nwfilter-dump CASE DIR\n");
                return 2;
        }
        config = nwcase_config_new(argv[1]);
        if (!config) {
                fprintf(stderr, "nwfilter-dump: unknown case '%s'\n", argv[1]);
                return 2;
        }
        tenants = nwcase_tenants_new(argv[1]);
        filters = netiso_nwfilter_render(config, tenants, &error);
        if (!filters || !netiso_nwfilter_write_dir(filters, argv[2], &error)) {
                fprintf(stderr, "nwfilter-dump: %s\n", error->message);
                return 1;
        }
        for (guint i = 0; i < filters->len; i++)
                printf("%s\n", ((NetisoNwfilter *)g_ptr_array_index(filters, i))->name);
        return 0;
}
