/* The iptables backend: chains BLIXARD_VM_FWD/IN/OUT for iptables and
 * ip6tables, applied per event with iptables-restore --noflush. The rest
 * of this header is shared by ipt-backend.c and ipt-check.c. */
#pragma once

#include "core/backend.h"
#include "ipt/ipt-ruleset.h"
#include "ipt/ipt-trie.h"

#define NETISO_IPT_FAMILIES 2

typedef struct {
        NetisoFamily family;
        const char *restore; /* iptables-restore, ip6tables-restore */
        const char *save;    /* iptables-save, ip6tables-save */
        const char *label;   /* for messages */
} NetisoIptFamily;

/* IPv4 first: the order in which events commit. */
extern const NetisoIptFamily netiso_ipt_families[NETISO_IPT_FAMILIES];

/* The iptables taps of records (NULL: the state directory's), but not
 * those of domain (NULL: none left out). Not finished. */
NetisoIptSet *netiso_ipt_load_set(const NetisoConfig *config, GPtrArray *records,
                                  const char *domain, GError **error);

/* One family's tables (ret[NetisoIptTable]) as iptables-save -c prints
 * them; on failure none is left set. */
gboolean netiso_ipt_read_tables(NetisoFirewall *fw, gsize family_index,
                                NetisoIptRuleset *ret[_NETISO_IPT_TABLE_MAX], GError **error);
void netiso_ipt_tables_clear(NetisoIptRuleset *tables[_NETISO_IPT_TABLE_MAX]);

extern const NetisoBackendOps netiso_backend_ipt;
