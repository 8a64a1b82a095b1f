/* [vm.network_isolation.cluster] read into a plain struct (config-cluster.c):
 * the etcd endpoints, this host's node name, the key prefix, TLS files and
 * the lease. config.h holds it as NetisoConfig.cluster. */
#pragma once

#include <glib.h>

#include "conf/toml-tree.h"

/* [vm.network_isolation.cluster]: this host in a cluster of hosts whose
 * guests share tenants (interface.md, "Cluster (several hosts)"). */
#define NETISO_CLUSTER_DEFAULT_PREFIX "/blixard/netiso/"
#define NETISO_CLUSTER_DEFAULT_LEASE_TTL 10
#define NETISO_CLUSTER_DEFAULT_CLAIM_TIMEOUT_MS 3000

typedef struct {
        GPtrArray *endpoints; /* of char*: "http(s)://host:port", at least one */
        char *node;           /* this host's name in the cluster; default: the host name */
        char *prefix;         /* every key lives under it; default NETISO_CLUSTER_DEFAULT_PREFIX */
        char *ca_file;        /* absolute paths, NULL when absent */
        char *cert_file;      /* with key_file, or neither */
        char *key_file;
        guint lease_ttl;        /* seconds, 2..3600 */
        guint claim_timeout_ms; /* extension: how long a start waits for its claim, 200..20000 */
        guint line, column;     /* where the table is written, for messages */
} NetisoClusterConfig;

void netiso_cluster_config_free(NetisoClusterConfig *cluster);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NetisoClusterConfig, netiso_cluster_config_free)

/* The table value of the section's "cluster" key. */
gboolean netiso_config_read_cluster(const char *filename, const NetisoTomlValue *value,
                                    NetisoClusterConfig **ret_cluster, GError **error);

/* What the cluster table adds to netiso_config_digest() (rules it changes). */
void netiso_config_digest_cluster(GString *out, const NetisoClusterConfig *cluster);
