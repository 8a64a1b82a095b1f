/* A strict in-memory model of one family's filter and raw tables for the
 * tests and the dispatch benchmark: applies iptables-restore batches, each
 * table all or nothing, as the kernel does, and walks packets counting the
 * rules evaluated. */
#pragma once

#include <glib.h>

#include "ipt/ipt-ruleset.h"
#include "ipt/ipt-trie.h"
#include "util/addr.h"

/* Levels below a built-in chain that nf_tables accepts (16 chains deep). */
#define IPT_SIM_DEPTH_MAX 15

typedef struct IptSim IptSim;

IptSim *ipt_sim_new(void);
void ipt_sim_free(IptSim *sim);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(IptSim, ipt_sim_free)

/* One batch ("*filter ... COMMIT", "*raw ... COMMIT"). A table whose
 * section fails is left as it was, and so are the sections after it;
 * *ret_error says which line failed and why. */
gboolean ipt_sim_restore(IptSim *sim, const char *batch, char **ret_error);

/* A table as iptables-save would print it (builtin chains included). */
NetisoIptRuleset *ipt_sim_ruleset(const IptSim *sim, NetisoIptTable table);

typedef struct {
        const char *hook; /* "FORWARD", "INPUT" or "OUTPUT" */
        const char *iif;  /* "" when none (OUTPUT) */
        const char *oif;  /* "" when none (INPUT) */
        const char *src;
        const char *dst;
        const char *proto; /* "tcp", "udp", "icmp", "ipv6-icmp" */
        guint dport;
        const char *ct; /* "NEW", "ESTABLISHED", "RELATED", "INVALID" */
        guint icmp6_type;
        guint hoplimit;
        const char *ctdir; /* "ORIGINAL" (NULL) or "REPLY" */
        guint32 mark;      /* the connection's mark before the packet */
} IptPacket;

/* "ACCEPT" or "DROP" (the builtin chains' policy is ACCEPT); the number of
 * rules evaluated, matching or not, in *ret_evaluated (may be NULL). */
const char *ipt_sim_walk(const IptSim *sim, const IptPacket *packet, guint *ret_evaluated);
/* The same, with the connection's mark after the packet in *ret_mark. */
const char *ipt_sim_walk_mark(const IptSim *sim, const IptPacket *packet, guint *ret_evaluated,
                              guint32 *ret_mark);
