/* The event fast path's nf_tables netlink client, on libmnl and libnftnl:
 * a socket and constant-cost queries (the ruleset generation, one chain,
 * one chain's rules, one map element). Batches: nft-batch.h. */
#pragma once

#include <glib.h>

typedef struct NetisoNl NetisoNl;

NetisoNl *netiso_nl_open(GError **error);
void netiso_nl_close(NetisoNl *nl);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NetisoNl, netiso_nl_close)

/* The network namespace the socket lives in: its cookie, unique until
 * reboot (0 when the kernel cannot tell, before 5.14). */
guint64 netiso_nl_netns(NetisoNl *nl);

/* The ruleset generation (NFT_MSG_GETGEN): every commit in this network
 * namespace, by anyone, moves it on by one. */
gboolean netiso_nl_generation(NetisoNl *nl, guint32 *ret_generation, GError **error);

/* How many rules one chain holds (a dump filtered by table and chain,
 * retried when a commit interrupts it). A missing table or chain has none.
 * family: NFPROTO_INET or NFPROTO_BRIDGE (<linux/netfilter.h>). */
gboolean netiso_nl_chain_rules(NetisoNl *nl, guint8 family, const char *table, const char *chain,
                               guint *ret_count, GError **error);

/* The kernel's use count of a chain (its rules plus the jumps to it);
 * *ret_found is FALSE when the chain or table does not exist. */
gboolean netiso_nl_chain_use(NetisoNl *nl, guint8 family, const char *table, const char *chain,
                             gboolean *ret_found, guint32 *ret_use, GError **error);

/* The names of a table's chains (a dump of the family's chains); a
 * missing table has none. */
GPtrArray *netiso_nl_chain_names(NetisoNl *nl, guint8 family, const char *table, GError **error);

/* A set's element as dumped: its key, a map's data (NULL in a set) or a
 * verdict map's jump (NULL otherwise). */
typedef void (*NetisoNlElementFunc)(const void *key, gsize key_len, const void *data,
                                    gsize data_len, const char *jump, gpointer user_data);

/* Every element of a set (a dump): func is called for each as it is read,
 * possibly for some twice or more if a commit interrupts the dump (the
 * dump then fails). A missing set fails. */
gboolean netiso_nl_set_elements(NetisoNl *nl, guint8 family, const char *table, const char *set,
                                NetisoNlElementFunc func, gpointer data, GError **error);

/* One element of a map, asked by its key (NFT_MSG_GETSETELEM): *ret_data
 * is its value, NULL when the set holds no such key. */
gboolean netiso_nl_map_lookup(NetisoNl *nl, const char *table, const char *set, const void *key,
                              gsize key_len, GBytes **ret_data, GError **error);
