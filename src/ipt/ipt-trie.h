/* The iptables backend's model: the installed taps and the chains of the
 * interface-name radix tries that dispatch to them. Pure (DEVELOPERS.md). */
#pragma once

#include <glib.h>

#include "core/state.h"
#include "ipt/ipt-ruleset.h"
#include "util/addr.h"

/* Shared chains: rewritten from the configuration on every event. */
#define NETISO_IPT_SPOOF "BLX-SPOOF"     /* log (if asked) and drop: forged source */
#define NETISO_IPT_BLOCK "BLX-BLOCK"     /* log and drop: policy refused the guest's packet */
#define NETISO_IPT_INBOUND "BLX-INBOUND" /* log and drop: refused towards a guest */
#define NETISO_IPT_ND "BLX-ND"           /* IPv6 neighbour discovery a guest may send the host */
#define NETISO_IPT_HOST "BLX-HOST"       /* guest to host: what may pass */
#define NETISO_IPT_TO "BLX-TO"           /* outside to guest: what may pass */
#define NETISO_IPT_PEER "BLX-PEER"       /* same-tenant peer found: may it pass */
#define NETISO_IPT_REST "BLX-REST"       /* guest to anything that is not a peer */
#define NETISO_IPT_EST "BLX-EST"         /* a guest's bound flow: towards whom it may pass */
/* In the raw table, NETISO_IPT_SPOOF is the drop chain of BLIXARD_VM_PRE's dispatch. */

#define NETISO_IPT_TENANT_ID_LEN 8 /* hex digits of SHA-256 in tenant chain names */

/* One installed tap, as the firewall sees it. */
typedef struct {
        char *tap;
        char *tenant;
        char tenant_id[NETISO_IPT_TENANT_ID_LEN + 1];
        guint16 flow_id;   /* its guest's (flow-ids.h): the halves of its flows' marks */
        GArray *addresses; /* of NetisoCidr */
} NetisoIptPort;

/* Taps sorted by name, each once. Build with _add, then _finish. */
typedef struct {
        GPtrArray *ports; /* of NetisoIptPort* */
        gboolean finished;
} NetisoIptSet;

NetisoIptSet *netiso_ipt_set_new(void);
void netiso_ipt_set_free(NetisoIptSet *set);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NetisoIptSet, netiso_ipt_set_free)
NetisoIptSet *netiso_ipt_set_copy(const NetisoIptSet *set);

/* Tap and tenant names are checked again here: records are files, and
 * whatever reaches a rule must match the strict name patterns. A tap the
 * set already holds is replaced. */
gboolean netiso_ipt_set_add(NetisoIptSet *set, const char *tap, const char *tenant, guint16 flow_id,
                            const GArray *addresses, GError **error);
gboolean netiso_ipt_set_add_record(NetisoIptSet *set, const NetisoRecord *record, GError **error);
/* Sort, and refuse two tenants whose chain names would collide. */
gboolean netiso_ipt_set_finish(NetisoIptSet *set, GError **error);

const NetisoIptPort *netiso_ipt_set_lookup(const NetisoIptSet *set, const char *tap);
/* The taps of one tenant (a finished set). */
NetisoIptSet *netiso_ipt_set_tenant(const NetisoIptSet *set, const char *tenant_id);
/* Same tenant, flow id and addresses: its rules would be identical. */
gboolean netiso_ipt_port_equal(const NetisoIptPort *a, const NetisoIptPort *b);

void netiso_ipt_tenant_id(const char *tenant, char ret_id[NETISO_IPT_TENANT_ID_LEN + 1]);

/* The tries. Nodes are chains named PREFIX + the interface-name prefix
 * they stand for; the root's name ends in '-'. */
typedef enum {
        NETISO_IPT_TRIE_FWD_FROM,  /* BLXFI-: forwarded, from a guest (by -i) */
        NETISO_IPT_TRIE_HOST_FROM, /* BLXII-: to the host, from a guest (by -i) */
        NETISO_IPT_TRIE_FWD_TO,    /* BLXFO-: forwarded, to a guest (by -o) */
        NETISO_IPT_TRIE_ACCEPT_TO, /* BLXOO-: accept towards any guest (OUTPUT, open peers,
                                    * bound flows) */
        NETISO_IPT_TRIE_BLOCK_TO,  /* BLXDM-: a guest's packet towards another guest whose
                                    * tap matches no guest_interface_patterns: drop */
        NETISO_IPT_TRIE_BIND_TO,   /* BLXBO-: forwarded to a guest (by -o): addressed to it,
                                    * and its flows bound to it */
        NETISO_IPT_TRIE_PRE_FROM,  /* BLXPI-: the raw table's, from a guest (by -i), before
                                    * routing: anti-spoofing */
        NETISO_IPT_TRIE_TENANT,    /* BLXK<id>-: a tenant's own taps (by -o) */
        _NETISO_IPT_TRIE_MAX,
} NetisoIptTrie;

/* The table a trie's chains live in. */
NetisoIptTable netiso_ipt_trie_table(NetisoIptTrie trie);

char *netiso_ipt_node_chain(NetisoIptTrie trie, const char *tenant_id, const char *prefix);
char *netiso_ipt_tenant_head(const char *tenant_id);

/* What a node holds: one or more rule specs that stay together and in
 * order: a tap's leaf, or the link to a child node. */
typedef struct {
        char *rules; /* specs joined by '\n' */
        char *name;  /* the leaf's tap, or the child's prefix */
        gboolean link;
} NetisoIptItem;

/* Is the item on the way to tap (its leaf, or a link to a prefix of it)? */
gboolean netiso_ipt_item_leads_to(const NetisoIptItem *item, const char *tap);

/* The node of prefix in set's trie: NULL when it does not exist, else its
 * items (of NetisoIptItem*). For NETISO_IPT_TRIE_TENANT, set holds one
 * tenant's taps. */
GPtrArray *netiso_ipt_node_items(const NetisoIptSet *set, NetisoIptTrie trie, const char *prefix,
                                 NetisoFamily family);

/* The prefixes where set's trie may have nodes, root ("") first;
 * netiso_ipt_node_items() says which of them exist. */
GPtrArray *netiso_ipt_node_prefixes(const NetisoIptSet *set);

/* The rules of a tenant's head chain (config-independent). */
GPtrArray *netiso_ipt_tenant_head_rules(const NetisoIptPort *port);
