/* The cluster side of `watch` ([vm.network_isolation.cluster]): publishes
 * this host's guests from the hook's records under a lease it keeps alive,
 * follows the other hosts' guests into table inet blixard, and answers the
 * hook's claims on a unix socket under the state directory. */
#pragma once

#include <glib.h>

#include "conf/config.h"

typedef struct NetisoClusterDaemon NetisoClusterDaemon;

/* Starts on the thread-default main context: the socket and the record
 * monitor at once, etcd as soon as it answers (retrying meanwhile; local
 * isolation does not wait for it). config must stay valid until the next
 * netiso_cluster_daemon_update() or the free. Errors: the socket or the
 * state directory cannot be set up, the TLS files cannot be loaded. */
NetisoClusterDaemon *netiso_cluster_daemon_new(const NetisoConfig *config, GError **error);

/* Stops: this host's guests, claims and registration leave etcd (the lease
 * is revoked), the remote addresses stay installed as last known. */
void netiso_cluster_daemon_free(NetisoClusterDaemon *daemon);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NetisoClusterDaemon, netiso_cluster_daemon_free)

/* A configuration read again (SIGHUP): the session and its lease stay
 * unless the endpoints, node, prefix, TLS files or lease_ttl changed; the
 * remote addresses are rendered again for the new rules. *daemon is created
 * or freed when the cluster table appeared or went. */
void netiso_cluster_daemon_update(NetisoClusterDaemon **daemon, const NetisoConfig *config);
