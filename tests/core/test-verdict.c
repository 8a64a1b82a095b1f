/* The verdicts of `why` rule by rule and for each configuration switch, the
 * record lookup behind them, and the man page's numbering of TRAFFIC
 * SEMANTICS, which the verdicts quote. */
#include "autoconfig.h"

#include <string.h>

#include "core/locator.h"
#include "core/verdict.h"
#include "util/error.h"

#define BASE                                                                                       \
        "[vm.network_isolation]\nenabled = true\n"                                                 \
        "cluster_networks = [\"127.0.0.0/8\", \"172.16.0.0/12\", \"fd00:172::/64\"]\n"             \
        "vm_network = [\"10.0.0.0/16\", \"fd00:10::/64\"]\n"

#define PORTS                                                                                      \
        "[[vm.network_isolation.allowed_ports]]\nprotocol = \"udp\"\nport = 53\n"                  \
        "direction = \"outbound\"\n"                                                               \
        "[[vm.network_isolation.allowed_ports]]\nprotocol = \"tcp\"\nport = 2222\n"                \
        "direction = \"inbound\"\n"

static NetisoConfig *
config(const char *switches)
{
        g_autofree char *text = g_strconcat(BASE, switches, "\n", PORTS, NULL);
        g_autoptr(GError) error = NULL;
        NetisoConfig *c = netiso_config_new_from_data("test.toml", text, strlen(text), &error);

        g_assert_no_error(error);
        return c;
}

static NetisoCidr
addr(const char *text)
{
        NetisoCidr c;

        g_assert_true(netiso_addr_parse(text, &c, NULL));
        return c;
}

static NetisoPlace *
guest(const char *domain, const char *tenant, const char *tap, const char *address)
{
        NetisoCidr a = addr(address);
        NetisoPlace *p = netiso_place_new(NETISO_PLACE_GUEST, &a, "test");

        p->domain = g_strdup(domain);
        p->tenant = g_strdup(tenant);
        p->iface = g_strdup(tap);
        g_array_append_val(p->iface_addresses, a);
        return p;
}

static NetisoPlace *
place(NetisoPlaceKind kind, const char *address, const char *iface)
{
        NetisoCidr a = addr(address);
        NetisoPlace *p = netiso_place_new(kind, &a, "test");

        p->iface = g_strdup(iface);
        return p;
}

/* Decide; "allowed 5" or "dropped 3". */
static char *
judge(const NetisoConfig *c, const NetisoPlace *from, const NetisoPlace *to, const char *source,
      const char *proto, guint port)
{
        NetisoPacket packet = { from->address, to->address, NETISO_PACKET_TCP, port };
        g_autoptr(GError) error = NULL;
        g_autoptr(NetisoVerdict) v = NULL;

        if (source)
                packet.source = addr(source);
        g_assert_true(netiso_packet_proto_parse(proto, &packet.proto));
        v = netiso_verdict_decide(c, &packet, from, to, &error);
        g_assert_no_error(error);
        /* Checks come in rule order and the last one is the deciding rule. */
        for (guint i = 1; i < v->steps->len; i++)
                g_assert_cmpint(g_array_index(v->steps, NetisoVerdictStep, i - 1).rule, <=,
                                g_array_index(v->steps, NetisoVerdictStep, i).rule);
        g_assert_cmpuint(v->steps->len, >, 0);
        g_assert_cmpint(g_array_index(v->steps, NetisoVerdictStep, v->steps->len - 1).rule, ==,
                        v->rule);
        g_assert_cmpstr(v->because, !=, "");
        return g_strdup_printf("%s %d", v->allowed ? "allowed" : "dropped", v->rule);
}

#define VERDICT(expected, ...)                                                                     \
        do {                                                                                       \
                g_autofree char *got = judge(__VA_ARGS__);                                         \
                g_assert_cmpstr(got, ==, expected);                                                \
        } while (0)

typedef struct {
        NetisoPlace *a1, *a2, *b1, *a1v6, *b1v6, *host, *hostclu, *net, *net6, *clu, *vmnet, *u;
} World;

static void
world_init(World *w)
{
        w->a1 = guest("a1", "A", "vnet1", "10.0.0.11");
        w->a2 = guest("a2", "A", "vnet2", "10.0.0.12");
        w->b1 = guest("b1", "B", "vnet3", "10.0.0.13");
        w->a1v6 = guest("a1", "A", "vnet1", "fd00:10::11");
        w->b1v6 = guest("b1", "B", "vnet3", "fd00:10::13");
        w->host = place(NETISO_PLACE_HOST, "10.0.255.254", "vnet1");
        w->hostclu = place(NETISO_PLACE_HOST, "172.16.0.1", "lo");
        w->net = place(NETISO_PLACE_OUTSIDE, "198.51.100.2", "wan0");
        w->net6 = place(NETISO_PLACE_OUTSIDE, "2001:db8:100::2", "wan0");
        w->clu = place(NETISO_PLACE_OUTSIDE, "172.16.0.2", "clu0");
        w->vmnet = place(NETISO_PLACE_OUTSIDE, "10.0.7.7", "wan0");
        w->u = place(NETISO_PLACE_UNPROTECTED, "10.0.0.19", "vnet9");
}

static void
world_clear(World *w)
{
        NetisoPlace **all = (NetisoPlace **)w;

        for (gsize i = 0; i < sizeof(*w) / sizeof(NetisoPlace *); i++)
                netiso_place_free(all[i]);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(World, world_clear)

static void
test_defaults(void)
{
        g_autoptr(NetisoConfig) c = config("");
        g_auto(World) w;

        world_init(&w);
        VERDICT("allowed 5", c, w.a1, w.a2, NULL, "tcp", 9000);
        VERDICT("allowed 5", c, w.a1, w.a2, NULL, "icmp", 0);
        VERDICT("dropped 5", c, w.a1, w.b1, NULL, "tcp", 9000);
        VERDICT("dropped 5", c, w.a1v6, w.b1v6, NULL, "udp", 5555);
        /* The inbound port of another tenant's guest opens nothing. */
        VERDICT("dropped 5", c, w.b1, w.a1, NULL, "tcp", 2222);
        VERDICT("dropped 3", c, w.a1, w.clu, NULL, "udp", 53);
        VERDICT("dropped 3", c, w.a1, w.clu, NULL, "icmp", 0);
        /* The host's address inside a cluster network: the cluster rule first. */
        VERDICT("dropped 3", c, w.a1, w.hostclu, NULL, "udp", 53);
        VERDICT("allowed 4", c, w.a1, w.host, NULL, "udp", 53);
        VERDICT("dropped 4", c, w.a1, w.host, NULL, "tcp", 8080);
        VERDICT("dropped 4", c, w.a1, w.host, NULL, "icmp", 0);
        VERDICT("dropped 4", c, w.a1, w.host, NULL, "tcp", 53);
        VERDICT("dropped 6", c, w.a1, w.vmnet, NULL, "tcp", 80);
        VERDICT("allowed 7", c, w.a1, w.net, NULL, "udp", 53);
        VERDICT("allowed 8", c, w.a1, w.net, NULL, "tcp", 80);
        VERDICT("allowed 8", c, w.a1v6, w.net6, NULL, "icmp", 0);
        VERDICT("allowed 11", c, w.net, w.a1, NULL, "tcp", 2222);
        VERDICT("dropped 11", c, w.net, w.a1, NULL, "tcp", 9000);
        VERDICT("dropped 11", c, w.net, w.a1, NULL, "udp", 2222);
        VERDICT("dropped 11", c, w.net, w.a1, NULL, "icmp", 0);
        VERDICT("dropped 11", c, w.clu, w.a1, NULL, "tcp", 9000);
        VERDICT("allowed 10", c, w.host, w.a1, NULL, "tcp", 9000);
}

static void
test_spoofing(void)
{
        g_autoptr(NetisoConfig) c = config("");
        g_auto(World) w;

        world_init(&w);
        VERDICT("dropped 1", c, w.a1, w.net, "10.0.0.12", "udp", 5555);
        VERDICT("dropped 1", c, w.a1, w.b1, "10.0.0.13", "udp", 5555);
        VERDICT("dropped 1", c, w.a1, w.host, "10.0.0.12", "udp", 53);
        VERDICT("allowed 8", c, w.a1, w.net, "10.0.0.11", "udp", 5555);
}

static void
test_fail_closed(void)
{
        g_autoptr(NetisoConfig) open = config("tenant_isolation = false");
        g_autoptr(NetisoConfig) c = config("");
        g_auto(World) w;

        world_init(&w);
        VERDICT("dropped 12", c, w.u, w.net, NULL, "tcp", 80);
        VERDICT("dropped 12", c, w.u, w.host, NULL, "udp", 53);
        VERDICT("dropped 12", c, w.u, w.a1, NULL, "tcp", 2222);
        VERDICT("dropped 12", c, w.net, w.u, NULL, "tcp", 9000);
        VERDICT("dropped 12", c, w.host, w.u, NULL, "tcp", 9000);
        VERDICT("dropped 12", open, w.a1, w.u, NULL, "udp", 5555);
        /* Anti-spoofing comes first on the way out. */
        VERDICT("dropped 1", c, w.a1, w.u, "10.0.0.12", "udp", 5555);
}

static void
test_switches(void)
{
        g_autoptr(NetisoConfig) closed = config("allow_internet = false");
        g_autoptr(NetisoConfig) inter = config("inter_vm_isolation = true");
        g_autoptr(NetisoConfig) open = config("tenant_isolation = false");
        g_autoptr(NetisoConfig) both =
                config("tenant_isolation = false\ninter_vm_isolation = true");
        g_auto(World) w;

        world_init(&w);
        VERDICT("dropped 8", closed, w.a1, w.net, NULL, "tcp", 80);
        VERDICT("allowed 7", closed, w.a1, w.net, NULL, "udp", 53);
        VERDICT("allowed 5", closed, w.a1, w.a2, NULL, "tcp", 9000);
        VERDICT("allowed 11", closed, w.net, w.a1, NULL, "tcp", 2222);
        VERDICT("dropped 5", inter, w.a1, w.a2, NULL, "tcp", 9000);
        VERDICT("dropped 5", inter, w.a1, w.b1, NULL, "tcp", 9000);
        VERDICT("allowed 8", inter, w.a1, w.net, NULL, "tcp", 80);
        VERDICT("allowed 5", open, w.a1, w.b1, NULL, "tcp", 9000);
        VERDICT("allowed 5", open, w.b1v6, w.a1v6, NULL, "tcp", 9000);
        VERDICT("allowed 8", open, w.a1, w.vmnet, NULL, "tcp", 80);
        VERDICT("dropped 3", open, w.a1, w.clu, NULL, "tcp", 7000);
        VERDICT("dropped 4", open, w.a1, w.host, NULL, "tcp", 8080);
        VERDICT("dropped 5", both, w.a1, w.b1, NULL, "tcp", 9000);
        VERDICT("dropped 6", both, w.a1, w.vmnet, NULL, "tcp", 80);
}

static void
test_facts(void)
{
        g_autoptr(NetisoConfig) c = config("");
        g_auto(World) w;
        NetisoPacket packet = { addr("10.0.0.11"), addr("172.16.0.2"), NETISO_PACKET_UDP, 53 };
        g_autoptr(NetisoVerdict) v = NULL;
        g_autoptr(NetisoVerdict) p = NULL;
        g_autofree char *net = NULL;

        world_init(&w);
        v = netiso_verdict_decide(c, &packet, w.a1, w.clu, NULL);
        net = netiso_cidr_to_string(v->cluster_network, TRUE);
        g_assert_cmpstr(net, ==, "172.16.0.0/12");
        g_assert_cmpuint(v->options->len, ==, 1);
        g_assert_cmpstr(g_ptr_array_index(v->options, 0), ==, "cluster_networks");
        g_assert_nonnull(strstr(v->because, "172.16.0.0/12"));
        packet.destination = w.net->address;
        p = netiso_verdict_decide(c, &packet, w.a1, w.net, NULL);
        g_assert_nonnull(p->port);
        g_assert_cmpuint(p->port->port, ==, 53);
        g_assert_null(p->cluster_network);
}

static void
test_refusals(void)
{
        g_autoptr(NetisoConfig) c = config("");
        g_auto(World) w;
        g_autoptr(GError) error = NULL;
        NetisoPacket packet;

        world_init(&w);
        packet = (NetisoPacket){ w.net->address, w.clu->address, NETISO_PACKET_TCP, 80 };
        g_assert_null(netiso_verdict_decide(c, &packet, w.net, w.clu, &error));
        g_assert_error(error, NETISO_ERROR, NETISO_ERROR_USAGE);
        g_assert_nonnull(strstr(error->message, "neither 198.51.100.2 nor 172.16.0.2"));
        g_clear_error(&error);
        packet = (NetisoPacket){ w.a1->address, w.net6->address, NETISO_PACKET_TCP, 80 };
        g_assert_null(netiso_verdict_decide(c, &packet, w.a1, w.net6, &error));
        g_assert_error(error, NETISO_ERROR, NETISO_ERROR_USAGE);
}

/* ---- guests of other hosts (cluster) ---- */

#define CLUSTER "\n[vm.network_isolation.cluster]\netcd_endpoints = [\"http://172.16.0.9:2379\"]\n"

static NetisoPlace *
remote(const char *domain, const char *tenant, const char *node, const char *address)
{
        NetisoCidr a = addr(address);
        NetisoPlace *p = netiso_place_new(NETISO_PLACE_REMOTE, &a, "test");

        p->domain = g_strdup(domain);
        p->tenant = g_strdup(tenant);
        p->node = g_strdup(node);
        g_array_append_val(p->iface_addresses, a);
        return p;
}

static void
test_cluster(void)
{
        g_autoptr(NetisoConfig) c = config(CLUSTER);
        g_autoptr(NetisoConfig) open = config("tenant_isolation = false" CLUSTER);
        g_autoptr(NetisoConfig) inter = config("inter_vm_isolation = true" CLUSTER);
        g_autoptr(NetisoConfig) alone = config("");
        g_autoptr(NetisoPlace) ra = remote("a9", "A", "hv-2", "10.0.2.9");
        g_autoptr(NetisoPlace) rb = remote("b9", "B", "hv-2", "fd00:10::2:9");
        g_autoptr(NetisoPlace) rb4 = remote("b8", "B", "hv-3", "10.0.3.8");
        g_auto(World) w;

        world_init(&w);
        /* From a guest: rule 6 lets the tenant through, nothing else. */
        VERDICT("allowed 6", c, w.a1, ra, NULL, "tcp", 9000);
        VERDICT("allowed 6", c, w.a1, ra, NULL, "icmp", 0);
        VERDICT("dropped 6", c, w.a1, rb4, NULL, "tcp", 9000);
        VERDICT("dropped 6", c, w.a1v6, rb, NULL, "tcp", 2222);
        VERDICT("allowed 6", c, w.b1v6, rb, NULL, "udp", 5555);
        VERDICT("allowed 6", open, w.a1, rb4, NULL, "tcp", 9000);
        VERDICT("dropped 6", inter, w.a1, ra, NULL, "tcp", 9000);
        /* Anti-spoofing first: a guest cannot pose as another host's guest. */
        VERDICT("dropped 1", c, w.a1, ra, "10.0.3.8", "tcp", 9000);
        /* Towards a guest: a VM-network source must be a remote guest of its
         * tenant, whatever the port; other sources get the inbound ports. */
        VERDICT("allowed 11", c, ra, w.a1, NULL, "tcp", 9000);
        VERDICT("allowed 11", c, rb, w.b1v6, NULL, "udp", 5555);
        VERDICT("dropped 11", c, rb4, w.a1, NULL, "tcp", 2222);
        VERDICT("dropped 11", c, rb, w.a1v6, NULL, "icmp", 0);
        VERDICT("dropped 11", c, w.vmnet, w.a1, NULL, "tcp", 2222);
        VERDICT("allowed 11", c, w.net, w.a1, NULL, "tcp", 2222);
        VERDICT("dropped 11", c, w.net, w.a1, NULL, "tcp", 9000);
        VERDICT("allowed 11", open, rb4, w.a1, NULL, "tcp", 9000);
        VERDICT("dropped 11", inter, ra, w.a1, NULL, "tcp", 9000);
        /* Without the cluster table, as before. */
        VERDICT("allowed 11", alone, w.vmnet, w.a1, NULL, "tcp", 2222);
        /* Two remote guests: nothing of this host's rules applies. */
        {
                NetisoPacket packet = { ra->address, rb4->address, NETISO_PACKET_TCP, 80 };
                g_autoptr(GError) error = NULL;
                g_assert_null(netiso_verdict_decide(c, &packet, ra, rb4, &error));
                g_assert_error(error, NETISO_ERROR, NETISO_ERROR_USAGE);
        }
}

/* ---- the record lookup ---- */

static NetisoRecord *
record(const char *domain, const char *tenant, const char *tap, const char *addrs)
{
        g_autofree char *text =
                g_strdup_printf("[domain]\nname=%s\ntenant=%s\nbackend=nftables\nconfig-digest=d\n"
                                "installed-usec=1\ntaps=%s;\n[port %s]\naddresses=%s\n",
                                domain, tenant, tap, tap, addrs);
        g_autoptr(GError) error = NULL;
        NetisoRecord *r = netiso_record_new_from_data("test", text, strlen(text), &error);

        g_assert_no_error(error);
        return r;
}

static void
test_locator_records(void)
{
        g_autoptr(GPtrArray) records =
                g_ptr_array_new_with_free_func((GDestroyNotify)netiso_record_free);
        g_autoptr(NetisoLocator) loc = netiso_locator_new();
        g_autoptr(NetisoPlace) p = NULL;
        g_autoptr(NetisoPlace) q = NULL;
        g_autoptr(NetisoPlace) r = NULL;
        g_autoptr(NetisoPlace) none = NULL;
        g_autoptr(GError) error = NULL;
        NetisoCidr a = addr("fd00:10::12");
        NetisoCidr other = addr("10.0.9.9");

        g_ptr_array_add(records, record("a1", "A", "vnet1", "10.0.0.11;fd00:10::11;"));
        g_ptr_array_add(records, record("a2", "A", "vnet2", "fd00:10::12;"));
        netiso_locator_add_records(loc, records);
        g_assert_true(netiso_locator_address(loc, &a, &p, &error));
        g_assert_cmpint(p->kind, ==, NETISO_PLACE_GUEST);
        g_assert_cmpstr(p->domain, ==, "a2");
        g_assert_cmpstr(p->iface, ==, "vnet2");
        g_assert_true(netiso_locator_domain(loc, "a1", 6, &q, &error));
        g_assert_cmpint(q->address.family, ==, NETISO_FAMILY_IPV6);
        g_assert_cmpuint(q->iface_addresses->len, ==, 2);
        g_assert_true(netiso_locator_address(loc, &other, &r, &error));
        g_assert_cmpint(r->kind, ==, NETISO_PLACE_OUTSIDE);
        g_assert_true(netiso_locator_domain(loc, "nobody", 0, &none, &error));
        g_assert_null(none);
        g_assert_false(netiso_locator_domain(loc, "a2", 4, &none, &error));
        g_assert_error(error, NETISO_ERROR, NETISO_ERROR_USAGE);
        g_assert_cmpstr(error->message, ==, "domain 'a2' has no IPv4 address");
}

static void
test_locator_remote(void)
{
        g_autoptr(GPtrArray) records =
                g_ptr_array_new_with_free_func((GDestroyNotify)netiso_record_free);
        g_autoptr(NetisoRemote) r = netiso_remote_new();
        g_autoptr(NetisoLocator) loc = netiso_locator_new();
        g_autoptr(NetisoPlace) p = NULL;
        g_autoptr(NetisoPlace) q = NULL;
        g_autoptr(NetisoPlace) local = NULL;
        g_autoptr(NetisoPlace) none = NULL;
        g_autoptr(GError) error = NULL;
        NetisoCidr a4 = addr("10.0.2.9"), a6 = addr("fd00:10::2:9"), mine = addr("10.0.0.11");
        char tenant[] = "A", node[] = "hv-2", name[] = "web 9";
        char uuid[] = "11111111-2222-4333-8444-555555555555";
        NetisoRemoteAddr e = { .tenant = tenant, .node = node, .uuid = uuid, .name = name };

        netiso_remote_set(r, &a4, &e);
        netiso_remote_set(r, &a6, &e);
        /* A stale remote entry for a local guest's address: records win. */
        e.name = tenant;
        netiso_remote_set(r, &mine, &e);
        g_ptr_array_add(records, record("a1", "A", "vnet1", "10.0.0.11;"));
        netiso_locator_add_records(loc, records);
        netiso_locator_add_remote(loc, r);
        g_assert_true(netiso_locator_address(loc, &a6, &p, &error));
        g_assert_cmpint(p->kind, ==, NETISO_PLACE_REMOTE);
        g_assert_cmpstr(p->domain, ==, "web 9");
        g_assert_cmpstr(p->node, ==, "hv-2");
        g_assert_cmpstr(p->found_by, ==, "cluster");
        g_assert_cmpuint(p->iface_addresses->len, ==, 3);
        g_assert_true(netiso_locator_domain(loc, "web 9", 4, &q, &error));
        g_assert_true(netiso_cidr_equal(&q->address, &a4));
        g_assert_true(netiso_locator_address(loc, &mine, &local, &error));
        g_assert_cmpint(local->kind, ==, NETISO_PLACE_GUEST);
        g_assert_true(netiso_locator_domain(loc, "nobody", 0, &none, &error));
        g_assert_null(none);
        netiso_remote_set(r, &a4, NULL);
        g_assert_false(netiso_locator_domain(loc, "web 9", 4, &none, &error));
        g_assert_error(error, NETISO_ERROR, NETISO_ERROR_USAGE);
}

/* ---- the man page ---- */

/* A phrase of each numbered item of TRAFFIC SEMANTICS, so that renumbering
 * the man page without renumbering verdict.h fails here. */
static const char *const keywords[_NETISO_RULE_MAX] = {
        [NETISO_RULE_SPOOF] = "own addresses",
        [NETISO_RULE_STATE] = "established connections",
        [NETISO_RULE_CLUSTER] = "cluster network",
        [NETISO_RULE_HOST] = "To the host itself",
        [NETISO_RULE_PEER] = "To another guest",
        [NETISO_RULE_VM_NETWORK] = "VM network",
        [NETISO_RULE_PORT_OUT] = "allowed outbound ports",
        [NETISO_RULE_INTERNET] = "allow_internet",
        [NETISO_RULE_REPLY] = "Replies",
        [NETISO_RULE_FROM_HOST] = "From the host itself",
        [NETISO_RULE_INBOUND] = "allowed inbound ports",
        [NETISO_RULE_FAIL_CLOSED] = "guest_interface_patterns",
};

static void
test_man_page_numbers(void)
{
        g_autofree char *path =
                g_test_build_filename(G_TEST_DIST, "..", "man", "blixard-netiso.8", NULL);
        g_autofree char *text = NULL;
        g_auto(GStrv) items = NULL;
        const char *start, *end;
        g_autofree char *section = NULL;

        g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
        start = strstr(text, "\n.SH TRAFFIC SEMANTICS\n");
        g_assert_nonnull(start);
        end = strstr(start + 1, "\n.SH ");
        section = g_strndup(start, end - start);
        items = g_strsplit(section, "\n.IP ", -1);
        /* items[0] is the text before the first item. */
        g_assert_cmpuint(g_strv_length(items), ==, _NETISO_RULE_MAX);
        for (int rule = 1; rule < _NETISO_RULE_MAX; rule++) {
                g_autofree char *head = g_strdup_printf("%d. 4\n", rule);
                g_autofree char *item = g_strdup(items[rule]);
                const char *const ends[] = { "\n.SS ", "\n.PP", "\n.SH " };

                /* An item runs to the next item, paragraph or section. */
                for (gsize e = 0; e < G_N_ELEMENTS(ends); e++) {
                        char *cut = strstr(item, ends[e]);
                        if (cut)
                                *cut = '\0';
                }
                g_assert_true(g_str_has_prefix(items[rule], head));
                if (!strstr(item, keywords[rule]))
                        g_error("man page rule %d lacks '%s': %s", rule, keywords[rule], item);
                g_assert_cmpstr(netiso_rule_summary(rule), !=, "");
        }
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/verdict/defaults-rule-by-rule", test_defaults);
        g_test_add_func("/verdict/spoofed-sources-are-rule-1", test_spoofing);
        g_test_add_func("/verdict/guest-like-taps-fail-closed-both-ways", test_fail_closed);
        g_test_add_func("/verdict/configuration-switches", test_switches);
        g_test_add_func("/verdict/facts-name-the-matching-network-and-port", test_facts);
        g_test_add_func("/verdict/no-guest-or-mixed-families-refused", test_refusals);
        g_test_add_func("/verdict/cluster-rules-6-and-11", test_cluster);
        g_test_add_func("/locator/records-by-address-and-domain", test_locator_records);
        g_test_add_func("/locator/guests-of-other-hosts", test_locator_remote);
        g_test_add_func("/verdict/man-page-numbers-the-rules", test_man_page_numbers);
        return g_test_run();
}
