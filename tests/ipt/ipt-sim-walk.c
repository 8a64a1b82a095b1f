/* Packets through the in-memory tables of ipt-sim.c: raw's PREROUTING for
 * what came in on an interface, then the filter table's hook, with jumps,
 * gotos, returns and connection marks as iptables evaluates them. */
#include "autoconfig.h"

#include <string.h>

#include "ipt-sim-private.h"

static gboolean
iface_match(const char *pattern, const char *name)
{
        gsize n = strlen(pattern);

        if (n && pattern[n - 1] == '+')
                return strncmp(name, pattern, n - 1) == 0;
        return g_str_equal(name, pattern);
}

static gboolean
addr_match(const char *cidr, const char *addr)
{
        NetisoCidr outer, inner;

        if (!netiso_cidr_parse(cidr, &outer, NULL) || !netiso_addr_parse(addr, &inner, NULL))
                return FALSE;
        return netiso_cidr_contains(&outer, &inner);
}

static gboolean
matches(const SimRule *r, const IptPacket *p, guint32 mark)
{
        if (r->src && !addr_match(r->src, p->src))
                return FALSE;
        if (r->dst && !addr_match(r->dst, p->dst))
                return FALSE;
        if (r->iif && !iface_match(r->iif, p->iif))
                return FALSE;
        if (r->oif && !iface_match(r->oif, p->oif))
                return FALSE;
        if (r->proto && !g_str_equal(r->proto, p->proto))
                return FALSE;
        if (r->dport >= 0 && (guint)r->dport != p->dport)
                return FALSE;
        if (r->icmp6_type >= 0 && (guint)r->icmp6_type != p->icmp6_type)
                return FALSE;
        if (r->hl_eq >= 0 && (guint)r->hl_eq != p->hoplimit)
                return FALSE;
        if (r->ctstate) {
                g_auto(GStrv) states = g_strsplit(r->ctstate, ",", -1);
                if (!g_strv_contains((const char *const *)states, p->ct))
                        return FALSE;
        }
        /* Without a connection (INVALID) there is no direction nor mark. */
        if ((r->ctdir || r->has_mark) && g_str_equal(p->ct, "INVALID"))
                return FALSE;
        if (r->ctdir && !g_str_equal(r->ctdir, p->ctdir ? p->ctdir : "ORIGINAL"))
                return FALSE;
        if (r->has_mark && ((mark & r->mark_mask) == r->mark) == r->not_mark)
                return FALSE;
        return TRUE;
}

typedef struct {
        const SimChain *chain;
        guint next;
} Frame;

/* One built-in chain of one table: "ACCEPT" or "DROP". */
static const char *
walk_chain(GHashTable *chains, const char *hook, const IptPacket *packet, guint *evaluated,
           guint32 *mark)
{
        g_autoptr(GArray) stack =
                g_array_new(/* zero_terminated */ FALSE, /* clear */ FALSE, sizeof(Frame));
        const SimChain *chain = g_hash_table_lookup(chains, hook);
        guint i = 0;

        for (;;) {
                const SimRule *r;

                if (i >= chain->rules->len) {
                        Frame f;
                        if (stack->len == 0)
                                return "ACCEPT"; /* end of the built-in chain: its policy */
                        f = g_array_index(stack, Frame, stack->len - 1);
                        g_array_set_size(stack, stack->len - 1);
                        chain = f.chain;
                        i = f.next;
                        continue;
                }
                r = g_ptr_array_index(chain->rules, i);
                (*evaluated)++;
                if (!matches(r, packet, *mark)) {
                        i++;
                } else if (g_str_equal(r->target, "ACCEPT") || g_str_equal(r->target, "DROP")) {
                        return g_str_equal(r->target, "ACCEPT") ? "ACCEPT" : "DROP";
                } else if (g_str_equal(r->target, "LOG")) {
                        i++;
                } else if (g_str_equal(r->target, "CONNMARK")) {
                        *mark = (*mark & ~r->xmark_mask) ^ r->xmark;
                        i++;
                } else if (g_str_equal(r->target, "RETURN")) {
                        i = chain->rules->len;
                } else {
                        if (!r->go) {
                                Frame f = { chain, i + 1 };
                                g_array_append_val(stack, f);
                        }
                        chain = g_hash_table_lookup(chains, r->target);
                        i = 0;
                }
        }
}

const char *
ipt_sim_walk_mark(const IptSim *sim, const IptPacket *packet, guint *ret_evaluated,
                  guint32 *ret_mark)
{
        guint evaluated = 0;
        guint32 mark = packet->mark;
        const char *verdict = "ACCEPT";

        /* A packet that came in on an interface passed raw's PREROUTING. */
        if (*packet->iif)
                verdict = walk_chain(sim->tables[NETISO_IPT_TABLE_RAW], "PREROUTING", packet,
                                     &evaluated, &mark);
        if (g_str_equal(verdict, "ACCEPT"))
                verdict = walk_chain(sim->tables[NETISO_IPT_TABLE_FILTER], packet->hook, packet,
                                     &evaluated, &mark);
        if (ret_evaluated)
                *ret_evaluated = evaluated;
        if (ret_mark)
                *ret_mark = mark;
        return verdict;
}

const char *
ipt_sim_walk(const IptSim *sim, const IptPacket *packet, guint *ret_evaluated)
{
        return ipt_sim_walk_mark(sim, packet, ret_evaluated, NULL);
}
