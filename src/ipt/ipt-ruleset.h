/* An iptables table as data: chains and their rules in iptables-save syntax,
 * either rendered (what the records say) or read back from iptables-save,
 * so that the two can be compared line by line. */
#pragma once

#include <glib.h>

/* The tables we own chains in. */
typedef enum {
        NETISO_IPT_TABLE_FILTER,
        NETISO_IPT_TABLE_RAW,
        _NETISO_IPT_TABLE_MAX,
} NetisoIptTable;

const char *netiso_ipt_table_name(NetisoIptTable table);

/* Chains of the interface contract, hooked from FORWARD, INPUT, OUTPUT of
 * the filter table, and PREROUTING of the raw table. */
#define NETISO_IPT_FWD "BLIXARD_VM_FWD"
#define NETISO_IPT_IN "BLIXARD_VM_IN"
#define NETISO_IPT_OUT "BLIXARD_VM_OUT"
#define NETISO_IPT_PRE "BLIXARD_VM_PRE"

/* Where they are hooked: a jump at the top of a built-in chain. */
typedef struct {
        NetisoIptTable table;
        const char *builtin;
        const char *ours;
} NetisoIptHook;

#define NETISO_IPT_HOOKS 4
extern const NetisoIptHook netiso_ipt_hooks[NETISO_IPT_HOOKS];

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

/* Read one table ("filter", "raw") of iptables-save [-c] output. */
NetisoIptRuleset *netiso_ipt_ruleset_parse(const char *text, const char *table, GError **error);

/* iptables-restore lines: ":CHAIN - [0:0]" for every chain of rs (which
 * empties it with --noflush), and "-A CHAIN SPEC" for every rule. */
void netiso_ipt_ruleset_write_chains(GString *out, const NetisoIptRuleset *rs);
void netiso_ipt_ruleset_write_rules(GString *out, const NetisoIptRuleset *rs);

/* Chains this project owns: BLIXARD_VM_* and BLX*. */
gboolean netiso_ipt_chain_is_ours(const char *chain);
/* The chain a rule jumps or goes to, or NULL. Caller frees. */
char *netiso_ipt_rule_target(const char *spec);
