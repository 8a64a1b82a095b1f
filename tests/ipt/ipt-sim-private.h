/* What ipt-sim.c and ipt-sim-walk.c share: the tables' chains and rules,
 * parsed once from the exact syntax the iptables backend writes. */
#pragma once

#include "ipt-sim.h"

typedef struct {
        char *spec;
        char *src, *dst; /* CIDR text or NULL */
        char *iif, *oif; /* names, '+' at the end for a prefix */
        char *proto;
        int dport;             /* -1: any */
        char *ctstate;         /* comma-separated, or NULL */
        char *ctdir;           /* ORIGINAL, REPLY, or NULL */
        int icmp6_type, hl_eq; /* -1: any */
        gboolean has_mark, not_mark;
        guint32 mark, mark_mask; /* -m connmark [!] --mark V/M */
        gboolean set_mark;
        guint32 xmark, xmark_mask; /* -j CONNMARK --set-xmark V/M */
        char *target;
        gboolean go; /* -g rather than -j */
} SimRule;

typedef struct {
        char *name;
        gboolean builtin;
        GPtrArray *rules; /* of SimRule* */
} SimChain;

struct IptSim {
        GHashTable *tables[_NETISO_IPT_TABLE_MAX]; /* of name -> SimChain* */
};

/* The built-in chains of each table, NULL-terminated. */
extern const char *const ipt_sim_builtins[_NETISO_IPT_TABLE_MAX][4];
