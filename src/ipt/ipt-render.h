/* iptables-restore batches for the iptables backend: the whole table we own
 * (rebuild, purge) and the delta of one event. Pure: text in, text out. */
#pragma once

#include <glib.h>

#include "conf/config.h"
#include "ipt/ipt-ruleset.h"
#include "ipt/ipt-trie.h"

/* Our three chains and the built-in chains that jump to them. */
#define NETISO_IPT_HOOKS 3
typedef struct {
        const char *builtin; /* FORWARD, INPUT, OUTPUT */
        const char *ours;    /* NETISO_IPT_FWD, _IN, _OUT */
} NetisoIptHook;
extern const NetisoIptHook netiso_ipt_hooks[NETISO_IPT_HOOKS];

/* Everything we own in one family's filter table for this set of taps. */
NetisoIptRuleset *netiso_ipt_render_full(const NetisoConfig *config, const NetisoIptSet *set,
                                         NetisoFamily family);

/* One event: rewrite the shared chains from the configuration and change
 * the trie nodes and tenant chains that differ between before and after.
 * Strict: a node believed missing is created with -N, a rule believed
 * present is deleted with -D, so a kernel that disagrees with the records
 * refuses the batch instead of ending up half right. The rules on the way
 * to the taps in verify (may be NULL) are deleted and added again, which
 * checks that they are all there. With hooks, the jumps from FORWARD,
 * INPUT and OUTPUT are moved to the top, which also fails when they are
 * missing. */
void netiso_ipt_batch_event(GString *out, const NetisoConfig *config, const NetisoIptSet *before,
                            const NetisoIptSet *after, const GPtrArray *verify, NetisoFamily family,
                            gboolean hooks);

/* Replace everything we own by the full rendering of set, given what is
 * there now (NULL: nothing). One atomic batch. */
void netiso_ipt_batch_rebuild(GString *out, const NetisoConfig *config, const NetisoIptSet *set,
                              NetisoFamily family, const NetisoIptRuleset *current);

/* Remove every chain we own and every rule that jumps to one. Appends
 * nothing when nothing of ours is there. */
void netiso_ipt_batch_purge(GString *out, const NetisoIptRuleset *current);

/* "vnet*" -> "vnet+": the configuration's patterns as interface matches. */
char *netiso_ipt_ifname_pattern(const char *pattern);
