/* watch's view of the DHCP leases of libvirt's networks: a change of a
 * lease helper's file (BRIDGE.status) queues every installed guest with a
 * port on that bridge, whose live XML and leases then decide as for any
 * libvirt event (one transaction per guest that changed). */
#include "autoconfig.h"

#include <gio/gio.h>
#include <string.h>

#include "cli/watch-leases.h"
#include "conf/network.h"
#include "core/state.h"

struct NetisoWatchLeases {
        const NetisoConfig *config;
        GFileMonitor *monitor;
        NetisoWatchLeasesFunc queue;
        gpointer data;
};

/* Every recorded domain with a port on bridge. */
static void
queue_bridge(NetisoWatchLeases *l, const char *bridge)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) records = netiso_state_list(l->config->state_dir, NULL, &error);

        if (!records) {
                g_warning("leases of %s changed, but the records cannot be read: %s", bridge,
                          error->message);
                return;
        }
        for (guint i = 0; i < records->len; i++) {
                const NetisoRecord *rec = g_ptr_array_index(records, i);

                for (guint k = 0; k < rec->ports->len; k++) {
                        const NetisoRecordPort *p = g_ptr_array_index(rec->ports, k);

                        if (g_strcmp0(p->bridge, bridge) == 0) {
                                l->queue(rec->domain, l->data);
                                break;
                        }
                }
        }
}

static void
on_changed(GFileMonitor *monitor, GFile *file, GFile *other, GFileMonitorEvent event, gpointer data)
{
        NetisoWatchLeases *l = data;
        g_autofree char *name = NULL;

        switch (event) {
        case G_FILE_MONITOR_EVENT_RENAMED: /* the helper writes a temporary file, renamed */
                file = other;
                break;
        case G_FILE_MONITOR_EVENT_CHANGES_DONE_HINT:
        case G_FILE_MONITOR_EVENT_CREATED:
        case G_FILE_MONITOR_EVENT_DELETED:
        case G_FILE_MONITOR_EVENT_MOVED_IN:
        case G_FILE_MONITOR_EVENT_MOVED_OUT:
                break;
        default:
                return;
        }
        name = file ? g_file_get_basename(file) : NULL;
        if (!name || !g_str_has_suffix(name, ".status") || strlen(name) <= strlen(".status"))
                return;
        name[strlen(name) - strlen(".status")] = '\0';
        queue_bridge(l, name);
}

NetisoWatchLeases *
netiso_watch_leases_new(const NetisoConfig *config, NetisoWatchLeasesFunc queue, gpointer data,
                        GError **error)
{
        g_autofree char *any = netiso_network_leases_path("x");
        g_autofree char *dir = g_path_get_dirname(any);
        g_autoptr(GFile) file = g_file_new_for_path(dir);
        NetisoWatchLeases *l;
        GFileMonitor *monitor;

        /* A directory that does not exist yet (no network has run) is
         * watched until it does. */
        monitor = g_file_monitor_directory(file, G_FILE_MONITOR_WATCH_MOVES, NULL, error);
        if (!monitor)
                return NULL;
        l = g_new0(NetisoWatchLeases, 1);
        l->config = config;
        l->monitor = monitor;
        l->queue = queue;
        l->data = data;
        g_signal_connect(monitor, "changed", G_CALLBACK(on_changed), l);
        return l;
}

void
netiso_watch_leases_free(NetisoWatchLeases *l)
{
        if (!l)
                return;
        g_file_monitor_cancel(l->monitor);
        g_object_unref(l->monitor);
        g_free(l);
}
