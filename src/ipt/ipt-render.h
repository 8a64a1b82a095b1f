/* iptables-restore batches for the iptables backend: the whole tables we
 * own (rebuild, purge) and the delta of one event. Pure: text in, text out. */
#pragma once

#include <glib.h>

#include "conf/config.h"
#include "ipt/ipt-ruleset.h"
#include "ipt/ipt-trie.h"

/* Everything we own in one family's table for this set of taps. */
NetisoIptRuleset *netiso_ipt_render_full(const NetisoConfig *config, const NetisoIptSet *set,
                                         NetisoFamily family, NetisoIptTable table);

/* One event, a section per table (filter, then raw): rewrite the shared
 * chains from the configuration and change the trie nodes and tenant
 * chains that differ between before and after.
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

/* Replace everything we own by the full rendering of set, given what each
 * table holds now (current[NetisoIptTable]; NULL: nothing). One atomic
 * section per table, filter first (so that raw lets a guest's sources in
 * only once filter holds its rules). */
void netiso_ipt_batch_rebuild(GString *out, const NetisoConfig *config, const NetisoIptSet *set,
                              NetisoFamily family, NetisoIptRuleset *const *current);

/* Remove every chain we own and every rule that jumps to one, from each
 * table (current[NetisoIptTable]). Appends nothing for a table where
 * nothing of ours is. */
void netiso_ipt_batch_purge(GString *out, NetisoIptRuleset *const *current);

/* The chains of a table that carry the configuration, which every event
 * rewrites; and the taps of set that no guest pattern covers (BLXDM-'s).
 * For ipt-delta.c. */
NetisoIptRuleset *netiso_ipt_render_shared(const NetisoConfig *config, NetisoFamily family,
                                           NetisoIptTable table);
NetisoIptSet *netiso_ipt_unpatterned(const NetisoConfig *config, const NetisoIptSet *set);

/* "vnet*" -> "vnet+": the configuration's patterns as interface matches. */
char *netiso_ipt_ifname_pattern(const char *pattern);
