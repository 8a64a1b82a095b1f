/* The cluster's part of this host's state directory: the guests of other
 * hosts whose addresses the firewall lets in (written by the watch daemon,
 * read by every sync so that a rebuilt table keeps them, and by `why`), and
 * where the watch daemon listens for the hook. Every per-host file of the
 * cluster lives under STATE_DIR/cluster/, so hosts can share one machine. */
#pragma once

#include <glib.h>

#include "util/addr.h"

/* STATE_DIR/cluster, its unix socket (the hook asks the watch daemon for
 * claims there), the journal of remote addresses and the daemon's status. */
char *netiso_cluster_dir(const char *state_dir);
char *netiso_cluster_socket_path(const char *state_dir);
char *netiso_cluster_status_path(const char *state_dir);
gboolean netiso_cluster_ensure_dir(const char *state_dir, GError **error);

/* One address of a guest of another host, as installed here. */
typedef struct {
        NetisoCidr addr;
        char *tenant;
        char *node;
        char *uuid;
        char *name; /* the domain's name on its host */
} NetisoRemoteAddr;

/* The remote addresses installed on this host, by address. */
typedef struct NetisoRemote NetisoRemote;

NetisoRemote *netiso_remote_new(void);
void netiso_remote_free(NetisoRemote *remote);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NetisoRemote, netiso_remote_free)

/* STATE_DIR/cluster/remote, a journal: "+ ADDR TENANT NODE UUID NAME" adds
 * or replaces, "- ADDR" removes. A missing file is an empty table; a line
 * that fails the rules (names, canonical addresses) is left out and
 * reported in ret_problems (may be NULL), and so is a torn last line. */
NetisoRemote *netiso_remote_load(const char *state_dir, GPtrArray **ret_problems, GError **error);

const NetisoRemoteAddr *netiso_remote_lookup(const NetisoRemote *remote, const NetisoCidr *addr);
guint netiso_remote_size(const NetisoRemote *remote);
/* Every entry, sorted by address (renderers, status); borrowed. */
GPtrArray *netiso_remote_list(const NetisoRemote *remote);
/* How many addresses each tenant has (tenant -> GUINT_TO_POINTER(n)); borrowed. */
GHashTable *netiso_remote_tenants(const NetisoRemote *remote);
/* Every entry of that domain (node and uuid), in address order; the caller frees the array. */
GPtrArray *netiso_remote_find_guest(const NetisoRemote *remote, const char *node, const char *uuid);
/* The first entry whose domain has this name, preferring family (0: any). */
const NetisoRemoteAddr *netiso_remote_find_name(const NetisoRemote *remote, const char *name,
                                                int family);

/* Changes in memory: entry NULL removes the address. The strings are copied. */
void netiso_remote_set(NetisoRemote *remote, const NetisoCidr *addr, const NetisoRemoteAddr *entry);

/* The writer's side (the watch daemon, under the state lock). Append the
 * lines for these addresses' current state in remote (one write); the file
 * is rewritten whole when most of it is history. */
gboolean netiso_remote_journal(NetisoRemote *remote, const char *state_dir, const GArray *addrs,
                               GError **error);
/* Write the whole table (temporary file and rename). */
gboolean netiso_remote_rewrite(NetisoRemote *remote, const char *state_dir, GError **error);
