/* The iptables dispatch at scale for bench/ipt-dispatch.sh: renders N taps
 * and prints a restore batch (rebuild, event) or counts the rules packets
 * walk in tests/ipt/ipt-sim.c (count): ipt-walk count|rebuild|event N TENANTS ... */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipt-sim.h"
#include "ipt/ipt-render.h"

static const char config_text[] =
        "[vm.network_isolation]\nenabled = true\nbackend = \"iptables\"\n"
        "cluster_networks = [\"127.0.0.0/8\", \"169.254.0.0/16\", \"172.16.0.0/12\"]\n"
        "vm_network = [\"10.0.0.0/8\"]\n"
        "[[vm.network_isolation.allowed_ports]]\nprotocol = \"udp\"\nport = 53\n"
        "direction = \"outbound\"\n";

static char *
guest_address(guint i)
{
        return g_strdup_printf("10.%u.%u.%u", 1 + i / 65536, (i / 256) % 256, i % 256);
}

static NetisoIptSet *
taps(guint n, guint tenants, const char *tap, const char *addr)
{
        NetisoIptSet *set = netiso_ipt_set_new();

        for (guint i = 0; i < n; i++) {
                g_autofree char *name = g_strdup_printf("vnet%u", i);
                g_autofree char *tenant = g_strdup_printf("t%u", i % tenants);
                g_autofree char *a = g_strcmp0(name, tap) == 0 ? g_strdup(addr) : guest_address(i);
                g_autoptr(GArray) addrs = g_array_new(/* zero_terminated */ FALSE,
                                                      /* clear */ FALSE, sizeof(NetisoCidr));
                NetisoCidr c;

                g_assert(netiso_addr_parse(a, &c, NULL));
                g_array_append_val(addrs, c);
                g_assert(netiso_ipt_set_add(set, name, tenant, (guint16)(i + 1), addrs, NULL));
        }
        g_assert(netiso_ipt_set_finish(set, NULL));
        return set;
}

typedef struct {
        guint min, max;
        guint64 sum;
} Stat;

static void
stat_add(Stat *s, guint v)
{
        s->min = s->sum || s->max ? MIN(s->min, v) : v;
        s->max = MAX(s->max, v);
        s->sum += v;
}

static int
count(const NetisoConfig *config, guint n, guint tenants)
{
        g_autoptr(NetisoIptSet) set = taps(n, tenants, NULL, NULL);
        g_autoptr(IptSim) sim = ipt_sim_new();
        g_autoptr(GString) out = g_string_new(NULL);
        g_autofree char *why = NULL;
        Stat s[4] = { { 0 } };
        static const char *const what[] = {
                "guest -> internet, new",
                "guest -> internet, established",
                "internet -> guest, established",
                "guest -> same-tenant guest, new",
        };
        guint step = n > 2000 ? n / 2000 : 1, samples = 0;

        netiso_ipt_batch_rebuild(out, config, set, NETISO_FAMILY_IPV4, NULL);
        if (!ipt_sim_restore(sim, out->str, &why)) {
                fprintf(stderr, "ipt-walk: %s\n", why);
                return 1;
        }
        for (guint i = 0; i < n; i += step, samples++) {
                g_autofree char *tap = g_strdup_printf("vnet%u", i);
                g_autofree char *peer = g_strdup_printf("vnet%u", (i + tenants) % n);
                g_autofree char *src = guest_address(i);
                g_autofree char *dst = guest_address((i + tenants) % n);
                /* The guest's flow to the internet, bound to its flow id i + 1. */
                guint32 mark = (i + 1) << 16;
                IptPacket p[4] = {
                        { "FORWARD", tap, "wan0", src, "198.51.100.2", "tcp", 80, "NEW", 0, 64,
                          NULL, 0 },
                        { "FORWARD", tap, "wan0", src, "198.51.100.2", "tcp", 80, "ESTABLISHED", 0,
                          64, "ORIGINAL", mark },
                        { "FORWARD", "wan0", tap, "198.51.100.2", src, "tcp", 80, "ESTABLISHED", 0,
                          64, "REPLY", mark },
                        { "FORWARD", tap, peer, src, dst, "tcp", 9000, "NEW", 0, 64, NULL, 0 },
                };

                for (int k = 0; k < 4; k++) {
                        guint evaluated = 0;
                        const char *verdict = ipt_sim_walk(sim, &p[k], &evaluated);

                        if (k == 3 && n <= tenants)
                                continue; /* no other guest of the same tenant */
                        if (g_str_equal(verdict, "DROP")) {
                                fprintf(stderr, "ipt-walk: %s from %s dropped\n", what[k], tap);
                                return 1;
                        }
                        stat_add(&s[k], evaluated);
                }
        }
        for (int k = 0; k < (n > tenants ? 4 : 3); k++)
                printf("%u taps, %u tenants: %-32s rules evaluated min %u avg %.1f max %u "
                       "(%u taps sampled)\n",
                       n, tenants, what[k], s[k].min, (double)s[k].sum / samples, s[k].max,
                       samples);
        return 0;
}

int
main(int argc, char **argv)
{
        g_autoptr(NetisoConfig) config =
                netiso_config_new_from_data("bench.toml", config_text, strlen(config_text), NULL);
        g_autoptr(GString) out = g_string_new(NULL);
        guint n, tenants;

        if (argc < 4) {
                fprintf(stderr,
                        "usage: ipt-walk count|rebuild|event N TENANTS [TAP ADDR [NEW NEWADDR]]\n");
                return 2;
        }
        n = (guint)atoi(argv[2]);
        tenants = MAX(1, (guint)atoi(argv[3]));
        if (g_str_equal(argv[1], "count"))
                return count(config, n, tenants);
        if (argc < 6)
                return 2;
        if (g_str_equal(argv[1], "rebuild")) {
                g_autoptr(NetisoIptSet) set = taps(n, tenants, argv[4], argv[5]);
                netiso_ipt_batch_rebuild(out, config, set, NETISO_FAMILY_IPV4, NULL);
        } else if (g_str_equal(argv[1], "event") && argc >= 8) {
                g_autoptr(NetisoIptSet) before = taps(n, tenants, argv[4], argv[5]);
                g_autoptr(NetisoIptSet) after = netiso_ipt_set_copy(before);
                g_autoptr(GArray) addrs = g_array_new(/* zero_terminated */ FALSE,
                                                      /* clear */ FALSE, sizeof(NetisoCidr));
                g_autoptr(GPtrArray) verify = g_ptr_array_new();
                NetisoCidr c;

                g_assert(netiso_addr_parse(argv[7], &c, NULL));
                g_array_append_val(addrs, c);
                g_assert(netiso_ipt_set_add(after, argv[6], "t0", (guint16)(n + 1), addrs, NULL));
                g_assert(netiso_ipt_set_finish(after, NULL));
                g_ptr_array_add(verify, argv[6]);
                netiso_ipt_batch_event(out, config, before, after, verify, NETISO_FAMILY_IPV4,
                                       /* hooks */ TRUE);
        } else {
                return 2;
        }
        fputs(out->str, stdout);
        return 0;
}
