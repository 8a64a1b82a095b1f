/* watch follows the lease helper's files of libvirt's networks
 * (/var/lib/libvirt/dnsmasq/BRIDGE.status) and queues the guests on that
 * bridge, so that a new, moved or expired lease binds or unbinds. */
#pragma once

#include <glib.h>

#include "conf/config.h"

typedef struct NetisoWatchLeases NetisoWatchLeases;
/* Called on the main loop with the name of a domain to look at again. */
typedef void (*NetisoWatchLeasesFunc)(const char *domain, gpointer data);

NetisoWatchLeases *netiso_watch_leases_new(const NetisoConfig *config, NetisoWatchLeasesFunc queue,
                                           gpointer data, GError **error);
void netiso_watch_leases_free(NetisoWatchLeases *l);
