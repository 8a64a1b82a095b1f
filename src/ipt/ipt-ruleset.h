/* A filter table as data: chains and their rules in iptables-save syntax,
 * either rendered (what the records say) or read back from iptables-save,
 * so that the two can be compared line by line. */
#pragma once

#include <glib.h>

typedef struct {
        char *spec;      /* the rule without "-A CHAIN ", as iptables-save prints it */
        guint64 packets; /* counters, when read with iptables-save -c */
        guint64 bytes;
} NetisoIptRule;

typedef struct {
        GPtrArray *chains; /* of char*, in the order they were added */
        GHashTable *rules; /* chain -> GPtrArray of NetisoIptRule* */
} NetisoIptRuleset;

NetisoIptRuleset *netiso_ipt_ruleset_new(void);
void netiso_ipt_ruleset_free(NetisoIptRuleset *rs);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NetisoIptRuleset, netiso_ipt_ruleset_free)

/* Adding an existing chain is a no-op. */
void netiso_ipt_ruleset_add_chain(NetisoIptRuleset *rs, const char *chain);
/* Appends to chain, adding it if needed. */
void netiso_ipt_ruleset_append(NetisoIptRuleset *rs, const char *chain, const char *spec);
/* NULL when the chain does not exist. */
GPtrArray *netiso_ipt_ruleset_rules(const NetisoIptRuleset *rs, const char *chain);
gboolean netiso_ipt_ruleset_has_chain(const NetisoIptRuleset *rs, const char *chain);

/* Read the *filter table of iptables-save [-c] output. */
NetisoIptRuleset *netiso_ipt_ruleset_parse(const char *text, GError **error);

/* Chains this project owns: BLIXARD_VM_* and BLX*. */
gboolean netiso_ipt_chain_is_ours(const char *chain);
/* The chain a rule jumps or goes to, or NULL. Caller frees. */
char *netiso_ipt_rule_target(const char *spec);
