/* Cluster membership as data: the key schema under the configured prefix, the
 * records stored there (JSON, validated strictly: a remote host is trusted less
 * than the local configuration), and the table of every host's guests that a
 * watch keeps current, reporting each batch's changes. Pure: no I/O. */
#pragma once

#include <glib.h>

#include "cluster/etcd.h"
#include "util/addr.h"

#define NETISO_CLUSTER_SCHEMA 1                /* "v" of every record */
#define NETISO_CLUSTER_RECORD_MAX (256 * 1024) /* bytes of one value read from etcd */
#define NETISO_CLUSTER_GUEST_ADDR_MAX 1024     /* addresses of one guest record */
#define NETISO_CLUSTER_PREFIX_MAX 256
#define NETISO_CLUSTER_NODE_MAX 63

/* Key schema, under PREFIX (which starts and ends with '/'):
 *   PREFIX hosts/NODE               {"v":1,"node":NODE}           host's lease
 *   PREFIX guests/NODE/UUID         {"v":1,"uuid","name","tenant","addresses":[..],"node"}
 *                                                                 host's lease
 *   PREFIX owners/ADDR              {"v":1,"uuid","node"}         owning host's lease
 * ADDR is the canonical text of one address ("10.0.0.5", "fd00:10::5"). */
typedef enum {
        NETISO_CLUSTER_KEY_HOST,
        NETISO_CLUSTER_KEY_GUEST,
        NETISO_CLUSTER_KEY_OWNER,
        NETISO_CLUSTER_KEY_OTHER, /* under the prefix, not ours to read: ignored */
        _NETISO_CLUSTER_KEY_MAX,
} NetisoClusterKeyType;

typedef struct {
        NetisoClusterKeyType type;
        char *node;      /* HOST, GUEST */
        char *uuid;      /* GUEST: canonical lower case */
        NetisoCidr addr; /* OWNER */
} NetisoClusterKey;

void netiso_cluster_key_clear(NetisoClusterKey *key);

/* Why a configured prefix or node name is unacceptable, NULL when fine.
 * Prefix: 2..256 printable ASCII characters without spaces, '/' first and
 * last. Node: the tenant rule (1..63 of A-Za-z0-9._-, first a letter or digit). */
const char *netiso_cluster_prefix_problem(const char *prefix);
char *netiso_cluster_node_problem(const char *node); /* caller frees */

char *netiso_cluster_key_host(const char *prefix, const char *node);
char *netiso_cluster_key_hosts(const char *prefix); /* every host: a range prefix */
char *netiso_cluster_key_guest(const char *prefix, const char *node, const char *uuid);
char *netiso_cluster_key_guests_of(const char *prefix, const char *node); /* range prefix */
char *netiso_cluster_key_owner(const char *prefix, const NetisoCidr *addr);

/* Classify a key read from etcd. Keys of ours that are malformed (a node or
 * UUID that breaks the rules, an address that is not canonical) are errors
 * (NETISO_CLUSTER_ERROR_INVALID); keys outside the schema are OTHER. */
gboolean netiso_cluster_key_parse(const char *prefix, const char *key, gsize key_len,
                                  NetisoClusterKey *ret_key, GError **error);

typedef struct {
        char *node;
        char *uuid;
        char *name;
        char *tenant;
        GArray *addresses; /* of NetisoCidr, full-length, sorted, no duplicates */
} NetisoClusterGuest;

NetisoClusterGuest *netiso_cluster_guest_new(const char *node, const char *uuid, const char *name,
                                             const char *tenant);
NetisoClusterGuest *netiso_cluster_guest_copy(const NetisoClusterGuest *guest);
void netiso_cluster_guest_free(NetisoClusterGuest *guest);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NetisoClusterGuest, netiso_cluster_guest_free)
gboolean netiso_cluster_guest_equal(const NetisoClusterGuest *a, const NetisoClusterGuest *b);
/* Sorts and deduplicates the addresses (the encoding is canonical). */
void netiso_cluster_guest_normalize(NetisoClusterGuest *guest);

/* What a record is checked against: addresses must be unicast host addresses
 * (netiso_addr_guest_refusal()) inside one of vm_networks. */
typedef struct {
        const GArray *vm_networks; /* of NetisoCidr */
} NetisoClusterRules;

/* Canonical JSON (members in a fixed order): equal records, equal bytes. */
char *netiso_cluster_guest_to_json(const NetisoClusterGuest *guest, gsize *ret_len);
char *netiso_cluster_owner_to_json(const char *uuid, const char *node, gsize *ret_len);
char *netiso_cluster_host_to_json(const char *node, gsize *ret_len);

/* Decode and validate a value read at a key already parsed: the record must
 * name the same node (and UUID) as its key. Unknown members, a wrong "v",
 * bad names, tenants or addresses are NETISO_CLUSTER_ERROR_INVALID, one line
 * quoting the offending text. */
NetisoClusterGuest *netiso_cluster_guest_from_json(const NetisoClusterRules *rules,
                                                   const NetisoClusterKey *key, const char *data,
                                                   gsize len, GError **error);
gboolean netiso_cluster_owner_from_json(const NetisoClusterKey *key, const char *data, gsize len,
                                        char **ret_uuid, char **ret_node, GError **error);
gboolean netiso_cluster_host_from_json(const NetisoClusterKey *key, const char *data, gsize len,
                                       GError **error);

/* The table: every valid guest record of every host, and from it each
 * address's effective remote tenant. An address is REMOTE for a tenant when
 * every record naming it is on another host and of that tenant; one on this
 * host, or records that disagree, leave it out (fail closed). */
typedef struct NetisoMembership NetisoMembership;

typedef struct {
        NetisoCidr addr;
        char *old_tenant; /* NULL: was not a remote address of any tenant */
        char *new_tenant; /* NULL: no longer is */
} NetisoMembershipAddrChange;

typedef struct {
        gint64 revision;          /* of the table after the batch */
        GPtrArray *added;         /* of NetisoClusterGuest*: remote guests that appeared */
        GPtrArray *removed;       /* ... that went */
        GPtrArray *changed;       /* ... whose record changed (the new record) */
        GArray *addr_changes;     /* of NetisoMembershipAddrChange: what a firewall applies */
        GPtrArray *hosts_up;      /* of char*: host keys that appeared */
        GPtrArray *hosts_down;    /* ... that went (lease expired or revoked) */
        GPtrArray *owner_changes; /* of NetisoClusterKey* with node/uuid of the new owner, or
                                     NULL node for a released address */
        GPtrArray *problems;      /* of char*: one line per record refused or conflict found */
} NetisoMembershipDelta;

void netiso_membership_delta_free(NetisoMembershipDelta *delta);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NetisoMembershipDelta, netiso_membership_delta_free)
/* Nothing a firewall needs to apply (problems and owner changes aside). */
gboolean netiso_membership_delta_is_empty(const NetisoMembershipDelta *delta);

/* prefix and local_node must be valid (checked with the functions above);
 * vm_networks is copied. */
NetisoMembership *netiso_membership_new(const char *prefix, const char *local_node,
                                        const GArray *vm_networks);
void netiso_membership_free(NetisoMembership *table);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NetisoMembership, netiso_membership_free)

/* Apply one watch response's events, in order. Events at or below the table's
 * revision were applied already and are skipped. The delta compares the
 * state before and after the whole batch, so a put and a delete of one key
 * in one batch cancel out. Never fails: invalid records count as absent. */
NetisoMembershipDelta *netiso_membership_apply(NetisoMembership *table, const GPtrArray *events);

/* Replace everything with a full range read at revision (the first read, and
 * the resync after a compaction); the delta is against the previous state. */
NetisoMembershipDelta *netiso_membership_reset(NetisoMembership *table, const GPtrArray *kvs,
                                               gint64 revision);

gint64 netiso_membership_get_revision(const NetisoMembership *table);
/* The effective remote tenant of an address, or NULL. */
const char *netiso_membership_lookup(const NetisoMembership *table, const NetisoCidr *addr);
guint netiso_membership_count_remote_guests(const NetisoMembership *table);
guint netiso_membership_count_hosts(const NetisoMembership *table);
/* Every remote guest, sorted by node and UUID (status, tests). */
GPtrArray *netiso_membership_list_remote(const NetisoMembership *table);
/* A remote guest whose record names addr when the address is remote (its
 * effective tenant is not NULL), else NULL; borrowed. */
const NetisoClusterGuest *netiso_membership_lookup_guest(const NetisoMembership *table,
                                                         const NetisoCidr *addr);
/* The guests one host publishes (this host's own, to find what it must
 * withdraw), sorted by UUID; copies. */
GPtrArray *netiso_membership_list_node(const NetisoMembership *table, const char *node);
