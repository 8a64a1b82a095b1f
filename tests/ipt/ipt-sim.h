/* A strict in-memory model of one family's filter table for the tests and
 * the dispatch benchmark: applies iptables-restore batches all or nothing,
 * as the kernel does, and walks packets counting the rules evaluated. */
#pragma once

#include <glib.h>

#include "ipt/ipt-ruleset.h"
#include "util/addr.h"

/* Levels below a built-in chain that nf_tables accepts (16 chains deep). */
#define IPT_SIM_DEPTH_MAX 15

typedef struct IptSim IptSim;

IptSim *ipt_sim_new(void);
void ipt_sim_free(IptSim *sim);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(IptSim, ipt_sim_free)

/* One batch ("*filter ... COMMIT"). On failure nothing changes and
 * *ret_error says which line failed and why. */
gboolean ipt_sim_restore(IptSim *sim, const char *batch, char **ret_error);

/* The table as iptables-save would print it (builtin chains included). */
NetisoIptRuleset *ipt_sim_ruleset(const IptSim *sim);

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
} IptPacket;

/* "ACCEPT" or "DROP" (the builtin chains' policy is ACCEPT); the number of
 * rules evaluated, matching or not, in *ret_evaluated (may be NULL). */
const char *ipt_sim_walk(const IptSim *sim, const IptPacket *packet, guint *ret_evaluated);
