/* The [vm.network_isolation] configuration, parsed once into a plain struct.
 * Everything downstream reads this struct, never the file. */
#pragma once

#include <glib.h>

#include "conf/config-cluster.h"
#include "util/addr.h"

#define NETISO_DEFAULT_CONFIG_PATH SYSCONFDIR "/blixard/blixard.toml"
#define NETISO_DEFAULT_STATE_DIR "/run/blixard-netiso"

typedef enum {
        NETISO_BACKEND_NFTABLES,
        NETISO_BACKEND_IPTABLES,
        _NETISO_BACKEND_MAX,
} NetisoBackend;

typedef enum {
        NETISO_PROTO_TCP,
        NETISO_PROTO_UDP,
        _NETISO_PROTO_MAX,
} NetisoProto;

typedef enum {
        NETISO_DIRECTION_OUTBOUND, /* guest opens connections to this port */
        NETISO_DIRECTION_INBOUND,  /* guest accepts connections on this port */
        _NETISO_DIRECTION_MAX,
} NetisoDirection;

typedef struct {
        NetisoProto protocol;
        guint16 port; /* 1..65535 */
        NetisoDirection direction;
} NetisoPort;

typedef struct {
        char *path; /* file it came from, for messages; "(defaults)" if none */
        gboolean enabled;
        NetisoBackend backend;
        GArray *cluster_networks; /* of NetisoCidr, IPv4 and IPv6 */
        GArray *vm_networks;      /* of NetisoCidr ("vm_network", string or array) */
        gboolean inter_vm_isolation;
        gboolean tenant_isolation;
        gboolean allow_internet;
        GArray *allowed_ports; /* of NetisoPort, duplicates removed */

        /* Extensions beyond the seed, documented in blixard-netiso.toml(5). */
        GPtrArray *guest_interface_patterns; /* of char*: "vnet*" style; default {"vnet*"} */
        gboolean log_drops;                  /* log dropped packets (rate limited); default FALSE */
        guint log_drops_per_second;          /* 1..10000; default 5 */
        char *state_dir;                     /* default NETISO_DEFAULT_STATE_DIR */
        GArray *allowed_ethertypes;          /* of guint16: what bridged guests may send
                                              * besides IPv4, IPv6 and ARP; default none */
        NetisoClusterConfig *cluster;        /* NULL without the cluster table: a host alone */
        gboolean flowtable;                  /* established routed flows through the kernel's
                                              * flowtable (nftables); default FALSE */
        GPtrArray *flowtable_uplinks;        /* of char*: interfaces towards the internet whose
                                              * flows with guests are offloaded; default none */
} NetisoConfig;

NetisoConfig *netiso_config_new_default(void);

/* Parse a whole configuration file's text. Only [vm.network_isolation] and
 * [[vm.network_isolation.allowed_ports]] are interpreted; other tables are
 * parsed for syntax and ignored. filename is used in messages only.
 * Errors are NETISO_ERROR_CONFIG: "FILE:LINE:COL: key 'K': what is wrong". */
NetisoConfig *netiso_config_new_from_data(const char *filename, const char *data, gsize len,
                                          GError **error);

/* Read and parse a file; a missing file is an error naming the path. */
NetisoConfig *netiso_config_new_from_file(const char *path, GError **error);

void netiso_config_free(NetisoConfig *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NetisoConfig, netiso_config_free)

const char *netiso_backend_to_string(NetisoBackend backend);
const char *netiso_proto_to_string(NetisoProto proto);
const char *netiso_direction_to_string(NetisoDirection direction);

/* TRUE when a tap name matches one of the guest interface patterns
 * ("vnet*" matches "vnet12"; no '*' means an exact name). */
gboolean netiso_config_is_guest_like_ifname(const NetisoConfig *config, const char *ifname);

/* A stable digest of everything that shapes the ruleset (not paths). */
char *netiso_config_digest(const NetisoConfig *config);
