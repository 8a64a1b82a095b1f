/* Packets through the iptables backend's rules in ipt-sim.c: the verdicts of
 * blixard-netiso(8)'s TRAFFIC SEMANTICS, flows bound to their guests, and
 * dispatch among many taps. */
#include "autoconfig.h"

#include "ipt-fixtures.h"

#define HOST4 IPT_TEST_HOST4

/* ---- packets: the TRAFFIC SEMANTICS of blixard-netiso(8) ---- */

typedef struct {
        const char *hook, *iif, *oif, *src, *dst, *proto;
        guint dport;
        const char *ct;
        const char *want;
        const char *ctdir;
        guint32 mark;
} Case;

/* Flow ids of the taps below (ipt_test_flow_id: vnetN is N + 1), and the
 * mark of a connection between two of them: originator's id in the upper
 * half, responder's in the lower (0: not a guest). */
#define A1 2
#define A2 3
#define B1 4
#define C1 5
#define MARK(orig, resp) ((guint32)(orig) << 16 | (guint32)(resp))

/* a1, a2: tenant A; b1: tenant B; c1: tenant C with an address outside the
 * VM networks. vnet9 looks like a guest but nobody installed it. */
static IptSim *
hypervisor(const NetisoConfig *config, NetisoFamily family)
{
        IptSim *sim = ipt_sim_new();
        g_autoptr(NetisoIptSet) set = netiso_ipt_set_new();

        ipt_test_add_port(set, "vnet1", "A", "10.0.0.11", "fd00:10::11");
        ipt_test_add_port(set, "vnet2", "A", "10.0.0.12", "fd00:10::12");
        ipt_test_add_port(set, "vnet3", "B", "10.0.0.13", "fd00:10::13");
        ipt_test_add_port(set, "vnet4", "C", "192.0.2.4", "2001:db8:4::4");
        ipt_test_finish(set);
        ipt_test_rebuild(sim, config, set, family);
        return sim;
}

static void
run_cases(const char *extra, const Case *cases, gsize n)
{
        g_autoptr(NetisoConfig) config = ipt_test_config_new(extra);

        for (int v6 = 0; v6 <= 1; v6++) {
                g_autoptr(IptSim) sim =
                        hypervisor(config, v6 ? NETISO_FAMILY_IPV6 : NETISO_FAMILY_IPV4);

                for (gsize i = 0; i < n; i++) {
                        const Case *c = &cases[i];
                        IptPacket p = { c->hook, c->iif,   c->oif,   c->src,
                                        c->dst,  c->proto, c->dport, c->ct ? c->ct : "NEW",
                                        0,       64,       c->ctdir, c->mark };
                        g_autofree char *src = NULL;
                        g_autofree char *dst = NULL;
                        const char *got;

                        /* One table of IPv4 cases; IPv6 maps 10.0.0.N to fd00:10::N etc. */
                        if (v6) {
                                g_auto(GStrv) s = g_strsplit(c->src, ".", -1);
                                g_auto(GStrv) d = g_strsplit(c->dst, ".", -1);
                                src = g_strdup_printf(
                                        "%s::%s",
                                        g_str_has_prefix(c->src, "10.")    ? "fd00:10"
                                        : g_str_has_prefix(c->src, "172.") ? "fd00:172"
                                        : g_str_has_prefix(c->src, "192.") ? "2001:db8:4"
                                                                           : "2001:db8:100",
                                        s[3]);
                                dst = g_strdup_printf(
                                        "%s::%s",
                                        g_str_has_prefix(c->dst, "10.")    ? "fd00:10"
                                        : g_str_has_prefix(c->dst, "172.") ? "fd00:172"
                                        : g_str_has_prefix(c->dst, "192.") ? "2001:db8:4"
                                                                           : "2001:db8:100",
                                        d[3]);
                                p.src = src;
                                p.dst = dst;
                                if (g_str_equal(p.proto, "icmp"))
                                        p.proto = "ipv6-icmp";
                        }
                        got = ipt_sim_walk(sim, &p, NULL);
                        if (!g_str_equal(got, c->want))
                                g_error("IPv%d case %zu (%s %s %s -> %s %s %s %u %s %s 0x%x): %s, expected %s",
                                        v6 ? 6 : 4, i + 1, c->hook, c->iif, c->src, c->oif, c->dst,
                                        c->proto, c->dport, p.ct, p.ctdir ? p.ctdir : "", p.mark,
                                        got, c->want);
                }
        }
}

#define FWD(iif, oif, src, dst, proto, port, ct, want)                                             \
        {                                                                                          \
                "FORWARD", iif, oif, src, dst, proto, port, ct, want, NULL, 0                      \
        }
#define IN(iif, src, dst, proto, port, ct, want)                                                   \
        {                                                                                          \
                "INPUT", iif, "", src, dst, proto, port, ct, want, NULL, 0                         \
        }
#define OUT(oif, src, dst, proto, port, want)                                                      \
        {                                                                                          \
                "OUTPUT", "", oif, src, dst, proto, port, NULL, want, NULL, 0                      \
        }
/* A packet of a tracked connection: its direction and mark. */
#define FWD_CT(iif, oif, src, dst, proto, port, ct, dir, mark, want)                               \
        {                                                                                          \
                "FORWARD", iif, oif, src, dst, proto, port, ct, want, dir, mark                    \
        }
#define IN_CT(iif, src, dst, proto, port, ct, dir, mark, want)                                     \
        {                                                                                          \
                "INPUT", iif, "", src, dst, proto, port, ct, want, dir, mark                       \
        }
#define OUT_CT(oif, src, dst, proto, port, ct, dir, mark, want)                                    \
        {                                                                                          \
                "OUTPUT", "", oif, src, dst, proto, port, ct, want, dir, mark                      \
        }

static void
test_semantics_default(void)
{
        static const Case cases[] = {
                FWD("vnet1", "vnet2", "10.0.0.11", "10.0.0.12", "tcp", 9000, NULL, "ACCEPT"),
                FWD("vnet1", "vnet2", "10.0.0.11", "10.0.0.12", "icmp", 0, NULL, "ACCEPT"),
                FWD("vnet1", "vnet3", "10.0.0.11", "10.0.0.13", "tcp", 9000, NULL, "DROP"),
                FWD("vnet3", "vnet1", "10.0.0.13", "10.0.0.11", "tcp", 2222, NULL, "DROP"),
                FWD("vnet1", "vnet4", "10.0.0.11", "192.0.2.4", "tcp", 9000, NULL, "DROP"),
                FWD("vnet1", "vnet9", "10.0.0.11", "10.0.0.19", "tcp", 9000, NULL, "DROP"),
                FWD("vnet1", "clu0", "10.0.0.11", "172.16.0.2", "tcp", 7000, NULL, "DROP"),
                FWD("vnet1", "clu0", "10.0.0.11", "172.16.0.2", "udp", 53, NULL, "DROP"),
                FWD("vnet1", "wan0", "10.0.0.11", "10.0.5.5", "tcp", 80, NULL, "DROP"),
                FWD("vnet1", "wan0", "10.0.0.11", "198.51.100.2", "tcp", 80, NULL, "ACCEPT"),
                FWD("vnet1", "wan0", "10.0.0.11", "198.51.100.2", "tcp", 80, "INVALID", "DROP"),
                FWD("vnet1", "wan0", "10.0.0.12", "198.51.100.2", "udp", 53, NULL, "DROP"),
                FWD("vnet1", "wan0", "10.0.0.99", "198.51.100.2", "udp", 53, NULL, "DROP"),
                FWD_CT("vnet1", "wan0", "10.0.0.12", "198.51.100.2", "tcp", 80, "ESTABLISHED",
                       "ORIGINAL", MARK(A1, 0), "DROP"),
                /* A flow between them, whatever let it start, is theirs. */
                FWD_CT("vnet1", "vnet3", "10.0.0.11", "10.0.0.13", "tcp", 9000, "ESTABLISHED",
                       "ORIGINAL", MARK(A1, B1), "ACCEPT"),
                FWD_CT("vnet1", "vnet3", "10.0.0.11", "10.0.0.13", "tcp", 9000, "ESTABLISHED",
                       "REPLY", MARK(B1, A1), "ACCEPT"),
                /* ICMP errors are related to the connection they quote: from a
                 * guest, only about its own. */
                FWD_CT("vnet1", "vnet3", "10.0.0.11", "10.0.0.13", "icmp", 0, "RELATED", "REPLY",
                       MARK(B1, 0), "DROP"),
                FWD_CT("vnet1", "wan0", "10.0.0.11", "198.51.100.2", "icmp", 0, "RELATED", "REPLY",
                       MARK(0, A1), "ACCEPT"),
                FWD_CT("vnet1", "wan0", "10.0.0.11", "198.51.100.2", "icmp", 0, "RELATED", "REPLY",
                       MARK(0, B1), "DROP"),
                FWD_CT("wan0", "vnet3", "198.51.100.2", "10.0.0.13", "icmp", 0, "RELATED", "REPLY",
                       MARK(B1, 0), "ACCEPT"),
                FWD("wan0", "vnet1", "198.51.100.2", "10.0.0.11", "tcp", 2222, NULL, "ACCEPT"),
                FWD("wan0", "vnet1", "198.51.100.2", "10.0.0.11", "tcp", 9000, NULL, "DROP"),
                FWD_CT("wan0", "vnet1", "198.51.100.2", "10.0.0.11", "tcp", 9000, "ESTABLISHED",
                       "REPLY", MARK(A1, 0), "ACCEPT"),
                FWD_CT("wan0", "vnet1", "198.51.100.2", "10.0.0.11", "tcp", 2222, "ESTABLISHED",
                       "ORIGINAL", MARK(0, A1), "ACCEPT"),
                FWD("clu0", "vnet1", "172.16.0.2", "10.0.0.11", "tcp", 9000, NULL, "DROP"),
                FWD("vnet9", "wan0", "10.0.0.19", "198.51.100.2", "tcp", 80, NULL, "DROP"),
                FWD("wan0", "vnet9", "198.51.100.2", "10.0.0.19", "tcp", 9000, NULL, "DROP"),
                FWD("vnet9", "vnet1", "10.0.0.19", "10.0.0.11", "tcp", 2222, NULL, "DROP"),
                FWD("wan0", "clu0", "198.51.100.2", "172.16.0.2", "tcp", 7000, NULL, "ACCEPT"),
                IN("vnet1", "10.0.0.11", HOST4, "tcp", 8080, NULL, "DROP"),
                IN("vnet1", "10.0.0.11", HOST4, "icmp", 0, NULL, "DROP"),
                IN("vnet1", "10.0.0.11", HOST4, "udp", 5353, NULL, "DROP"),
                IN("vnet1", "10.0.0.11", HOST4, "udp", 53, NULL, "ACCEPT"),
                IN("vnet1", "10.0.0.12", HOST4, "udp", 53, NULL, "DROP"),
                IN("vnet1", "10.0.0.11", "172.16.0.1", "udp", 53, NULL, "DROP"),
                IN_CT("vnet1", "10.0.0.11", HOST4, "tcp", 8080, "ESTABLISHED", "ORIGINAL",
                      MARK(A1, 0), "ACCEPT"),
                IN_CT("vnet1", "10.0.0.11", HOST4, "tcp", 8080, "ESTABLISHED", "REPLY", MARK(0, A1),
                      "ACCEPT"),
                IN("vnet9", "10.0.0.19", HOST4, "udp", 53, NULL, "DROP"),
                IN("eth0", "198.51.100.2", HOST4, "tcp", 22, NULL, "ACCEPT"),
                OUT("vnet1", HOST4, "10.0.0.11", "tcp", 9000, "ACCEPT"),
                OUT_CT("vnet1", HOST4, "10.0.0.11", "tcp", 9000, "ESTABLISHED", "ORIGINAL",
                       MARK(0, A1), "ACCEPT"),
                OUT("vnet9", HOST4, "10.0.0.19", "tcp", 9000, "DROP"),
                OUT("wan0", "198.51.100.1", "198.51.100.2", "tcp", 80, "ACCEPT"),
        };

        run_cases("", cases, G_N_ELEMENTS(cases));
}

/* Flows belong to the guests that made them: a tracked packet from or to a
 * guest's tap must carry that guest's flow id in its half of the mark, so
 * a guest that holds another's address (or the same guest under a new id)
 * neither sends nor receives in the old connections; a forged ICMP error
 * about the host's own connection (no guest's) is dropped; a guest gets
 * only what is addressed to it; and a spoofed source is dropped before
 * routing, in the raw table. */
static void
test_flows_bound(void)
{
        static const Case cases[] = {
                /* a1 holds an address a stopped guest (id 9) had: its flows. */
                FWD_CT("vnet1", "wan0", "10.0.0.11", "198.51.100.2", "udp", 53, "ESTABLISHED",
                       "ORIGINAL", MARK(9, 0), "DROP"),
                FWD_CT("wan0", "vnet1", "198.51.100.2", "10.0.0.11", "udp", 53, "ESTABLISHED",
                       "REPLY", MARK(9, 0), "DROP"),
                FWD_CT("wan0", "vnet1", "198.51.100.2", "10.0.0.11", "tcp", 2222, "ESTABLISHED",
                       "ORIGINAL", MARK(0, 9), "DROP"),
                FWD_CT("vnet1", "wan0", "10.0.0.11", "198.51.100.2", "tcp", 2222, "ESTABLISHED",
                       "REPLY", MARK(0, 9), "DROP"),
                FWD_CT("vnet2", "vnet1", "10.0.0.12", "10.0.0.11", "udp", 6000, "ESTABLISHED",
                       "REPLY", MARK(9, A2), "DROP"),
                FWD_CT("vnet2", "vnet1", "10.0.0.12", "10.0.0.11", "udp", 6000, "ESTABLISHED",
                       "ORIGINAL", MARK(A2, 9), "DROP"),
                FWD_CT("vnet1", "vnet2", "10.0.0.11", "10.0.0.12", "udp", 6000, "ESTABLISHED",
                       "ORIGINAL", MARK(9, A2), "DROP"),
                /* The same flows, a1's own, pass. */
                FWD_CT("vnet2", "vnet1", "10.0.0.12", "10.0.0.11", "udp", 6000, "ESTABLISHED",
                       "REPLY", MARK(A1, A2), "ACCEPT"),
                FWD_CT("vnet1", "vnet2", "10.0.0.11", "10.0.0.12", "udp", 6000, "ESTABLISHED",
                       "ORIGINAL", MARK(A1, A2), "ACCEPT"),
                /* Bound to a1 but towards a tap nobody installed. */
                FWD_CT("vnet1", "vnet9", "10.0.0.11", "10.0.0.19", "udp", 6000, "ESTABLISHED",
                       "ORIGINAL", MARK(A1, 10), "DROP"),
                /* A forged error about the host's own connection to the cluster. */
                IN_CT("vnet1", "10.0.0.11", "172.16.0.1", "icmp", 0, "RELATED", "REPLY", MARK(0, 0),
                      "DROP"),
                IN_CT("vnet1", "10.0.0.11", HOST4, "icmp", 0, "RELATED", "REPLY", MARK(0, A1),
                      "ACCEPT"),
                OUT_CT("vnet1", HOST4, "10.0.0.11", "tcp", 9000, "ESTABLISHED", "ORIGINAL",
                       MARK(0, 9), "DROP"),
                OUT_CT("vnet1", HOST4, "10.0.0.11", "udp", 53, "ESTABLISHED", "REPLY", MARK(A1, 0),
                       "ACCEPT"),
                /* Addressed to an address a1 does not have (still routed to it). */
                FWD("wan0", "vnet1", "198.51.100.2", "10.0.0.24", "tcp", 2222, NULL, "DROP"),
                FWD("vnet2", "vnet1", "10.0.0.12", "10.0.0.24", "tcp", 9000, NULL, "DROP"),
                /* Spoofed: dropped in raw, whatever filter would say. */
                FWD("vnet1", "wan0", "10.0.0.13", "198.51.100.2", "tcp", 80, NULL, "DROP"),
                IN("vnet1", "172.16.0.2", HOST4, "udp", 53, NULL, "DROP"),
        };

        run_cases("", cases, G_N_ELEMENTS(cases));
}

/* The first packet of a connection sets its mark from its taps. */
static void
test_new_flows_marked(void)
{
        g_autoptr(NetisoConfig) config = ipt_test_config_new("");
        g_autoptr(IptSim) sim = hypervisor(config, NETISO_FAMILY_IPV4);
        IptPacket peer = { "FORWARD", "vnet1", "vnet2", "10.0.0.11", "10.0.0.12", "tcp",
                           9000,      "NEW",   0,       64,          NULL,        0x12345678 };
        IptPacket out = { "FORWARD", "vnet1", "wan0", "10.0.0.11", "198.51.100.2", "tcp",
                          80,        "NEW",   0,      64,          NULL,           0 };
        IptPacket in = { "FORWARD",   "wan0", "vnet1", "198.51.100.2",
                         "10.0.0.11", "tcp",  2222,    "NEW",
                         0,           64,     NULL,    0 };
        IptPacket host = { "OUTPUT", "",    "vnet1", HOST4, "10.0.0.11", "tcp",
                           22,       "NEW", 0,       64,    NULL,        0 };
        guint32 mark = 0;

        g_assert_cmpstr(ipt_sim_walk_mark(sim, &peer, NULL, &mark), ==, "ACCEPT");
        g_assert_cmphex(mark, ==, MARK(A1, A2));
        g_assert_cmpstr(ipt_sim_walk_mark(sim, &out, NULL, &mark), ==, "ACCEPT");
        g_assert_cmphex(mark, ==, MARK(A1, 0));
        g_assert_cmpstr(ipt_sim_walk_mark(sim, &in, NULL, &mark), ==, "ACCEPT");
        g_assert_cmphex(mark, ==, MARK(0, A1));
        g_assert_cmpstr(ipt_sim_walk_mark(sim, &host, NULL, &mark), ==, "ACCEPT");
        g_assert_cmphex(mark, ==, MARK(0, A1));
}

static void
test_semantics_variants(void)
{
        static const Case open[] = {
                FWD("vnet1", "vnet3", "10.0.0.11", "10.0.0.13", "tcp", 9000, NULL, "ACCEPT"),
                FWD("vnet1", "vnet4", "10.0.0.11", "192.0.2.4", "tcp", 9000, NULL, "ACCEPT"),
                FWD("vnet1", "wan0", "10.0.0.11", "10.0.5.5", "tcp", 80, NULL, "ACCEPT"),
                FWD("vnet1", "clu0", "10.0.0.11", "172.16.0.2", "tcp", 7000, NULL, "DROP"),
                FWD("vnet1", "vnet9", "10.0.0.11", "10.0.0.19", "tcp", 9000, NULL, "DROP"),
                IN("vnet1", "10.0.0.11", HOST4, "tcp", 8080, NULL, "DROP"),
        };
        static const Case closed[] = {
                FWD("vnet1", "vnet2", "10.0.0.11", "10.0.0.12", "tcp", 9000, NULL, "DROP"),
                FWD("vnet1", "vnet3", "10.0.0.11", "10.0.0.13", "tcp", 9000, NULL, "DROP"),
                FWD("vnet1", "wan0", "10.0.0.11", "198.51.100.2", "tcp", 80, NULL, "ACCEPT"),
        };
        static const Case offline[] = {
                FWD("vnet1", "wan0", "10.0.0.11", "198.51.100.2", "tcp", 80, NULL, "DROP"),
                FWD("vnet1", "wan0", "10.0.0.11", "198.51.100.2", "udp", 53, NULL, "ACCEPT"),
                FWD("vnet1", "wan0", "10.0.0.11", "198.51.100.2", "udp", 5555, NULL, "DROP"),
                FWD("vnet1", "vnet2", "10.0.0.11", "10.0.0.12", "tcp", 9000, NULL, "ACCEPT"),
                FWD("wan0", "vnet1", "198.51.100.2", "10.0.0.11", "tcp", 2222, NULL, "ACCEPT"),
        };

        run_cases("tenant_isolation = false", open, G_N_ELEMENTS(open));
        run_cases("inter_vm_isolation = true", closed, G_N_ELEMENTS(closed));
        run_cases("allow_internet = false", offline, G_N_ELEMENTS(offline));
}

static void
test_neighbour_discovery(void)
{
        g_autoptr(NetisoConfig) config = ipt_test_config_new("");
        g_autoptr(IptSim) sim = hypervisor(config, NETISO_FAMILY_IPV6);
        IptPacket p = { "INPUT",     "vnet1", "",    "fe80::1", "ff02::1:ff00:fffe",
                        "ipv6-icmp", 0,       "NEW", 135,       255,
                        NULL,        0 };

        g_assert_cmpstr(ipt_sim_walk(sim, &p, NULL), ==, "ACCEPT");
        p.icmp6_type = 133;
        g_assert_cmpstr(ipt_sim_walk(sim, &p, NULL), ==, "ACCEPT");
        p.icmp6_type = 134; /* router advertisement from a guest */
        g_assert_cmpstr(ipt_sim_walk(sim, &p, NULL), ==, "DROP");
        p.icmp6_type = 137; /* redirect */
        g_assert_cmpstr(ipt_sim_walk(sim, &p, NULL), ==, "DROP");
        p.icmp6_type = 135;
        p.hoplimit = 64; /* not on-link */
        g_assert_cmpstr(ipt_sim_walk(sim, &p, NULL), ==, "DROP");
        p.iif = "vnet9";
        p.hoplimit = 255;
        g_assert_cmpstr(ipt_sim_walk(sim, &p, NULL), ==, "DROP");
}

/* Every installed tap is found by its own dispatch, whatever the names;
 * a name nobody installed falls through to the fail-closed drop. */
static void
test_dispatch_finds_every_tap(void)
{
        g_autoptr(NetisoConfig) config = ipt_test_config_new("");
        g_autoptr(IptSim) sim = ipt_sim_new();
        guint serial = 0, worst = 0;
        g_autoptr(NetisoIptSet) set = ipt_test_random_set(300, &serial);

        /* Later entries win: these replace random names that collide. */
        for (guint i = 0; i < 700; i++) {
                g_autofree char *tap = g_strdup_printf("vnet%u", i * 7);
                ipt_test_random_port(set, tap, serial++);
        }
        ipt_test_finish(set);
        ipt_test_rebuild(sim, config, set, NETISO_FAMILY_IPV6);
        for (guint i = 0; i < set->ports->len; i++) {
                const NetisoIptPort *p = g_ptr_array_index(set->ports, i);
                g_autofree char *own = NULL;
                IptPacket out = { "FORWARD", p->tap, "wan0", NULL, "2001:db8:100::2",
                                  "tcp",     80,     "NEW",  0,    64,
                                  NULL,      0 };
                IptPacket in = { "FORWARD", "wan0", p->tap, "2001:db8:100::2",
                                 NULL,      "tcp",  9000,   "NEW",
                                 0,         64,     NULL,   0 };
                guint evaluated = 0;

                for (guint a = 0; a < p->addresses->len; a++)
                        if (g_array_index(p->addresses, NetisoCidr, a).family == NETISO_FAMILY_IPV6)
                                own = netiso_cidr_to_string(
                                        &g_array_index(p->addresses, NetisoCidr, a),
                                        /* with_host_prefix */ FALSE);
                out.src = own ? own : "fd00:10::ffff";
                g_assert_cmpstr(ipt_sim_walk(sim, &out, &evaluated), ==, own ? "ACCEPT" : "DROP");
                worst = MAX(worst, evaluated);
                in.dst = out.src;
                g_assert_cmpstr(ipt_sim_walk(sim, &in, &evaluated), ==, "DROP");
                in.dport = 2222;
                /* Not addressed to the guest: dropped on any port. */
                g_assert_cmpstr(ipt_sim_walk(sim, &in, &evaluated), ==, own ? "ACCEPT" : "DROP");
                worst = MAX(worst, evaluated);
        }
        g_test_message("%u taps: at most %u rules evaluated per packet", set->ports->len, worst);
        /* Three tries on the way (raw's, the binding towards guests, the one
         * from guests): bounded by the names' shape, not their number. */
        g_assert_cmpuint(worst, <, 320);
        {
                IptPacket stranger = { "FORWARD",
                                       "vnet7000000",
                                       "wan0",
                                       "fd00:10::5",
                                       "2001:db8:100::2",
                                       "tcp",
                                       80,
                                       "NEW",
                                       0,
                                       64,
                                       NULL,
                                       0 };
                g_assert_cmpstr(ipt_sim_walk(sim, &stranger, NULL), ==, "DROP");
                stranger.iif = "eth1";
                g_assert_cmpstr(ipt_sim_walk(sim, &stranger, NULL), ==, "ACCEPT");
        }
}

/* Names that are prefixes of each other make the deepest tries there are
 * (a node per character). nf_tables nests at most 16 chains; the tries'
 * depth budgets must keep every path within it, and dispatch must still
 * find every tap, with and without guest patterns (BLXDM- is for taps that
 * match none), with same-tenant and open peers. */
static void
test_deepest_names(void)
{
        const char *const extras[] = { "", "tenant_isolation = false" };
        const char *const stems[] = { "abcdefghijklmno", "vnet12345678901" };

        for (gsize e = 0; e < G_N_ELEMENTS(extras); e++) {
                g_autoptr(NetisoConfig) config = ipt_test_config_new(extras[e]);
                g_autoptr(NetisoIptSet) set = netiso_ipt_set_new();
                g_autoptr(IptSim) sim = ipt_sim_new();
                guint serial = 0, worst = 0;

                for (gsize s = 0; s < G_N_ELEMENTS(stems); s++)
                        for (gsize n = s ? 5 : 1; n <= 15; n++) {
                                g_autofree char *tap = g_strndup(stems[s], n);
                                g_autofree char *v4 = g_strdup_printf("10.0.1.%u", ++serial);
                                ipt_test_add_port(set, tap, "A", v4, NULL);
                        }
                ipt_test_finish(set);
                ipt_test_rebuild(sim, config, set, NETISO_FAMILY_IPV4);
                for (guint i = 0; i < set->ports->len; i++) {
                        const NetisoIptPort *p = g_ptr_array_index(set->ports, i);
                        const NetisoIptPort *q =
                                g_ptr_array_index(set->ports, (i + 1) % set->ports->len);
                        g_autofree char *src =
                                netiso_cidr_to_string(&g_array_index(p->addresses, NetisoCidr, 0),
                                                      /* with_host_prefix */ FALSE);
                        g_autofree char *dst =
                                netiso_cidr_to_string(&g_array_index(q->addresses, NetisoCidr, 0),
                                                      /* with_host_prefix */ FALSE);
                        IptPacket out = { "FORWARD", p->tap, "wan0", src, "198.51.100.2", "tcp",
                                          80,        "NEW",  0,      64,  NULL,           0 };
                        IptPacket peer = { "FORWARD", p->tap, q->tap, src, dst,  "tcp",
                                           9000,      "NEW",  0,      64,  NULL, 0 };
                        IptPacket host = { "OUTPUT", "", p->tap, IPT_TEST_HOST4, src, "tcp", 22,
                                           "NEW",    0,  64,     NULL,           0 };
                        guint evaluated = 0;

                        g_assert_cmpstr(ipt_sim_walk(sim, &out, &evaluated), ==, "ACCEPT");
                        worst = MAX(worst, evaluated);
                        g_assert_cmpstr(ipt_sim_walk(sim, &peer, &evaluated), ==, "ACCEPT");
                        worst = MAX(worst, evaluated);
                        g_assert_cmpstr(ipt_sim_walk(sim, &host, NULL), ==, "ACCEPT");
                }
                g_test_message("%s: %u nested names, at most %u rules per packet",
                               *extras[e] ? extras[e] : "defaults", set->ports->len, worst);
        }
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/ipt/packets/default", test_semantics_default);
        g_test_add_func("/ipt/packets/variants", test_semantics_variants);
        g_test_add_func("/ipt/packets/flows-bound-to-their-guests", test_flows_bound);
        g_test_add_func("/ipt/packets/new-flows-marked", test_new_flows_marked);
        g_test_add_func("/ipt/packets/neighbour-discovery", test_neighbour_discovery);
        g_test_add_func("/ipt/packets/dispatch-finds-every-tap", test_dispatch_finds_every_tap);
        g_test_add_func("/ipt/packets/deepest-names", test_deepest_names);
        return g_test_run();
}
