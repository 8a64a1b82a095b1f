/* conntrack flushing through the conntrack tool: one `conntrack -D` per
 * address and direction, the tool's own count read from its report. */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "engine/conntrack.h"
#include "util/addr.h"
#include "util/error.h"

/* libvirtd-like environments may run with a PATH without the sbin directories. */
static char *
find_conntrack(void)
{
        static const char *const fallbacks[] = { "/usr/sbin/conntrack", "/sbin/conntrack" };
        char *path = g_find_program_in_path("conntrack");

        for (gsize i = 0; !path && i < G_N_ELEMENTS(fallbacks); i++)
                if (g_file_test(fallbacks[i], G_FILE_TEST_IS_EXECUTABLE))
                        path = g_strdup(fallbacks[i]);
        return path;
}

/* "conntrack v1.4.7 (conntrack-tools): 3 flow entries have been deleted."
 * The tool exits 1 when that count is 0, which is not a failure here. */
static gboolean
read_count(const char *report, guint *ret_count)
{
        const char *p = strstr(report ? report : "", "): ");

        if (!p || !strstr(p, "flow entries have been deleted"))
                return FALSE;
        *ret_count = (guint)strtoul(p + 3, NULL, 10);
        return TRUE;
}

static gboolean
delete_entries(const char *tool, const char *option, const char *address, guint *ret_count,
               GError **error)
{
        const char *argv[] = { tool, "-D", option, address, NULL };
        g_autofree char *err = NULL;
        g_autoptr(GError) local = NULL;
        guint count = 0;
        int status = 0;

        if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL,
                          &err, &status, &local)) {
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_FIREWALL, "%s: %s", tool,
                            local->message);
                return FALSE;
        }
        if (!read_count(err, &count)) {
                g_strstrip(err);
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_FIREWALL, "%s -D %s %s: %s", tool,
                            option, address, *err ? err : "failed");
                return FALSE;
        }
        *ret_count += count;
        return TRUE;
}

gboolean
netiso_conntrack_flush(const GArray *addresses, guint *ret_deleted, GError **error)
{
        g_autofree char *tool = NULL;
        guint deleted = 0;

        *ret_deleted = 0;
        if (!addresses || addresses->len == 0)
                return TRUE;
        tool = find_conntrack();
        if (!tool) {
                g_set_error(
                        error, NETISO_ERROR, NETISO_ERROR_FIREWALL,
                        "conntrack not found (install conntrack): established flows of changed guests were not ended");
                return FALSE;
        }
        for (guint i = 0; i < addresses->len; i++) {
                g_autofree char *a = netiso_cidr_to_string(&g_array_index(addresses, NetisoCidr, i),
                                                           /* with_host_prefix */ FALSE);

                if (!delete_entries(tool, "-s", a, &deleted, error) ||
                    !delete_entries(tool, "-d", a, &deleted, error))
                        return FALSE;
        }
        *ret_deleted = deleted;
        return TRUE;
}
