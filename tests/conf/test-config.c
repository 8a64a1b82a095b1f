/* The configuration reader on valid input: the seed's example and the shipped
 * file, defaults, every key, and what the digest covers. Wrong types and other
 * mistakes are in test-config-errors.c. */
#include "autoconfig.h"

#include <string.h>

#include "conf/config.h"
#include "conf/toml.h"
#include "util/error.h"
#include "util/names.h"

#define SECTION "[vm.network_isolation]\n"
#define PORT "[[vm.network_isolation.allowed_ports]]\n"

static NetisoConfig *
parse(const char *text, GError **error)
{
        return netiso_config_new_from_data("blixard.toml", text, strlen(text), error);
}

static NetisoConfig *
parse_ok(const char *text)
{
        g_autoptr(GError) error = NULL;
        NetisoConfig *config = parse(text, &error);

        g_assert_no_error(error);
        g_assert_nonnull(config);
        return config;
}

static char *
cidr_list(const GArray *cidrs)
{
        g_autoptr(GPtrArray) texts = g_ptr_array_new_with_free_func(g_free);

        for (guint i = 0; i < cidrs->len; i++)
                g_ptr_array_add(texts, netiso_cidr_to_string(&g_array_index(cidrs, NetisoCidr, i),
                                                             /* with_host_prefix */ TRUE));
        g_ptr_array_add(texts, NULL);
        return g_strjoinv(" ", (char **)texts->pdata);
}

static char *
port_list(const GArray *ports)
{
        g_autoptr(GString) out = g_string_new(NULL);

        for (guint i = 0; i < ports->len; i++) {
                const NetisoPort *p = &g_array_index(ports, NetisoPort, i);
                g_string_append_printf(out, "%s%s/%u/%s", i ? " " : "",
                                       netiso_proto_to_string(p->protocol), p->port,
                                       netiso_direction_to_string(p->direction));
        }
        return g_string_free(g_steal_pointer(&out), /* free_segment */ FALSE);
}

static void
assert_cidrs(const GArray *cidrs, const char *expected)
{
        g_autofree char *text = cidr_list(cidrs);
        g_assert_cmpstr(text, ==, expected);
}

static void
assert_ports(const GArray *ports, const char *expected)
{
        g_autofree char *text = port_list(ports);
        g_assert_cmpstr(text, ==, expected);
}

static void
assert_defaults(const NetisoConfig *config)
{
        g_assert_false(config->enabled);
        g_assert_cmpint(config->backend, ==, NETISO_BACKEND_NFTABLES);
        assert_cidrs(config->cluster_networks, "127.0.0.0/8 169.254.0.0/16 ::1/128 fe80::/10");
        assert_cidrs(config->vm_networks, "10.0.0.0/16");
        g_assert_false(config->inter_vm_isolation);
        g_assert_true(config->tenant_isolation);
        g_assert_true(config->allow_internet);
        assert_ports(config->allowed_ports, "udp/53/outbound tcp/53/outbound");
        g_assert_cmpuint(config->guest_interface_patterns->len, ==, 1);
        g_assert_cmpstr(config->guest_interface_patterns->pdata[0], ==, "vnet*");
        g_assert_false(config->log_drops);
        g_assert_cmpuint(config->log_drops_per_second, ==, 5);
        g_assert_cmpstr(config->state_dir, ==, NETISO_DEFAULT_STATE_DIR);
}

/* The seed's TOML block, verbatim, inside a Blixard file full of other tables. */
static void
test_seed_block(void)
{
        g_autofree char *path =
                g_test_build_filename(G_TEST_DIST, "data", "config", "seed.toml", NULL);
        g_autoptr(GError) error = NULL;
        g_autoptr(NetisoConfig) config = netiso_config_new_from_file(path, &error);

        g_assert_no_error(error);
        g_assert_cmpstr(config->path, ==, path);
        g_assert_true(config->enabled);
        g_assert_cmpint(config->backend, ==, NETISO_BACKEND_NFTABLES);
        /* Written lists replace the defaults, IPv6 ones included. */
        assert_cidrs(config->cluster_networks, "127.0.0.0/8 169.254.0.0/16 172.16.0.0/12");
        assert_cidrs(config->vm_networks, "10.0.0.0/16");
        g_assert_false(config->inter_vm_isolation);
        g_assert_true(config->tenant_isolation);
        g_assert_true(config->allow_internet);
        assert_ports(config->allowed_ports, "udp/53/outbound tcp/53/outbound");
        g_assert_cmpstr(config->guest_interface_patterns->pdata[0], ==, "vnet*");
        g_assert_cmpstr(config->state_dir, ==, NETISO_DEFAULT_STATE_DIR);
}

static char *
read_shipped_example(void)
{
        g_autofree char *path =
                g_test_build_filename(G_TEST_DIST, "..", "xml", "blixard.toml", NULL);
        g_autoptr(GError) error = NULL;
        char *text = NULL;

        g_assert_true(g_file_get_contents(path, &text, NULL, &error));
        g_assert_no_error(error);
        return text;
}

/* The shipped example is the seed's policy, and its commented-out extensions
 * are the real defaults and sit where uncommenting them works. */
static void
test_shipped_example(void)
{
        g_autofree char *seed_path =
                g_test_build_filename(G_TEST_DIST, "data", "config", "seed.toml", NULL);
        g_autofree char *text = read_shipped_example();
        g_autoptr(GRegex) commented = g_regex_new("^#([a-z_]+ = )", G_REGEX_MULTILINE, 0, NULL);
        g_autofree char *uncommented = g_regex_replace(commented, text, -1, 0, "\\1", 0, NULL);
        g_autoptr(NetisoConfig) seed = netiso_config_new_from_file(seed_path, NULL);
        g_autoptr(NetisoConfig) shipped = parse_ok(text);
        g_autoptr(NetisoConfig) extended = parse_ok(uncommented);
        g_autofree char *seed_digest = netiso_config_digest(seed);
        g_autofree char *shipped_digest = netiso_config_digest(shipped);
        g_autofree char *extended_digest = netiso_config_digest(extended);

        g_assert_cmpstr(shipped_digest, ==, seed_digest);
        g_assert_cmpstr(extended_digest, ==, seed_digest);
        g_assert_nonnull(strstr(uncommented, "\nstate_dir = "));
        g_assert_nonnull(strstr(uncommented, "\nguest_interface_patterns = "));
        g_assert_nonnull(strstr(uncommented, "\nlog_drops = "));
        g_assert_nonnull(strstr(uncommented, "\nlog_drops_per_second = "));
        g_assert_cmpstr(extended->state_dir, ==, NETISO_DEFAULT_STATE_DIR);
}

static void
test_defaults(void)
{
        static const char *const inputs[] = {
                "",
                "# nothing but a comment\n",
                "[vm]\n",
                "[vm.defaults]\nvcpus = 2\n[node]\nid = 7\n",
                "vm = \"not a table: Blixard's business, not ours\"\n",
        };
        g_autoptr(NetisoConfig) defaults = netiso_config_new_default();
        g_autofree char *digest = netiso_config_digest(defaults);

        g_assert_cmpstr(defaults->path, ==, "(defaults)");
        assert_defaults(defaults);
        for (gsize i = 0; i < G_N_ELEMENTS(inputs); i++) {
                g_autoptr(NetisoConfig) config = parse_ok(inputs[i]);
                g_autofree char *other = netiso_config_digest(config);

                g_assert_cmpstr(config->path, ==, "blixard.toml");
                assert_defaults(config);
                g_assert_cmpstr(other, ==, digest);
        }
}

static void
test_empty_section_keeps_defaults(void)
{
        g_autoptr(NetisoConfig) config = parse_ok(SECTION);

        assert_defaults(config);
}

static void
test_vm_network_string_or_array(void)
{
        g_autoptr(NetisoConfig) one = parse_ok(SECTION "vm_network = \"192.168.0.0/24\"\n");
        g_autoptr(NetisoConfig) many = parse_ok(SECTION "vm_network = [\n"
                                                        "  \"192.168.0.0/24\", # v4\n"
                                                        "  \"fd00:10::/64\",   # v6\n"
                                                        "]\n");
        g_autoptr(NetisoConfig) single = parse_ok(SECTION "vm_network = ['10.9.0.0/16']\n");

        assert_cidrs(one->vm_networks, "192.168.0.0/24");
        assert_cidrs(many->vm_networks, "192.168.0.0/24 fd00:10::/64");
        assert_cidrs(single->vm_networks, "10.9.0.0/16");
}

static void
test_ipv6_everywhere(void)
{
        g_autoptr(NetisoConfig) config =
                parse_ok(SECTION "cluster_networks = [\"FD00:0::/8\", \"::1\", \"2001:db8::/32\","
                                 " \"10.0.0.0/8\"]\n"
                                 "vm_network = \"2001:db8:1::/48\"\n");

        assert_cidrs(config->cluster_networks, "fd00::/8 ::1/128 2001:db8::/32 10.0.0.0/8");
        assert_cidrs(config->vm_networks, "2001:db8:1::/48");
}

static void
test_every_key_read(void)
{
        g_autoptr(NetisoConfig) config =
                parse_ok(SECTION "enabled = true\n"
                                 "backend = \"iptables\"\n"
                                 "cluster_networks = []\n"
                                 "inter_vm_isolation = true\n"
                                 "tenant_isolation = false\n"
                                 "allow_internet = false\n"
                                 "guest_interface_patterns = [\"tap-*\", \"guest0\"]\n"
                                 "log_drops = true\n"
                                 "log_drops_per_second = 10_000\n"
                                 "state_dir = \"/var/lib/netiso\"\n"
                                 "allowed_ports = []\n"
                                 "flowtable = true\n"
                                 "flowtable_uplinks = [\"eth0\", \"bond0.100\"]\n");

        g_assert_true(config->enabled);
        g_assert_cmpint(config->backend, ==, NETISO_BACKEND_IPTABLES);
        g_assert_cmpuint(config->cluster_networks->len, ==, 0);
        g_assert_true(config->inter_vm_isolation);
        g_assert_false(config->tenant_isolation);
        g_assert_false(config->allow_internet);
        g_assert_cmpuint(config->allowed_ports->len, ==, 0);
        g_assert_cmpuint(config->guest_interface_patterns->len, ==, 2);
        g_assert_true(config->log_drops);
        g_assert_cmpuint(config->log_drops_per_second, ==, 10000);
        g_assert_cmpstr(config->state_dir, ==, "/var/lib/netiso");
        g_assert_true(config->flowtable);
        g_assert_cmpuint(config->flowtable_uplinks->len, ==, 2);
        g_assert_cmpstr(g_ptr_array_index(config->flowtable_uplinks, 1), ==, "bond0.100");
}

static void
test_allowed_ports(void)
{
        static const struct {
                const char *input, *ports;
        } cases[] = {
                { SECTION, "udp/53/outbound tcp/53/outbound" },
                { SECTION "allowed_ports = []\n", "" },
                { PORT "protocol = \"tcp\"\nport = 22\ndirection = \"inbound\"\n",
                  "tcp/22/inbound" },
                { PORT "port = 123\nprotocol = \"udp\"\n", "udp/123/outbound" },
                { PORT "protocol = \"tcp\"\nport = 443\n" PORT "protocol = \"tcp\"\nport = 443\n"
                       "direction = \"outbound\"\n" PORT "protocol = \"udp\"\nport = 443\n",
                  "tcp/443/outbound udp/443/outbound" },
                { SECTION "enabled = true\n" PORT "protocol = \"tcp\"\nport = 65535\n",
                  "tcp/65535/outbound" },
        };
        for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autoptr(NetisoConfig) config = parse_ok(cases[i].input);
                assert_ports(config->allowed_ports, cases[i].ports);
        }
}

static void
test_guest_like_ifname(void)
{
        g_autoptr(NetisoConfig) defaults = netiso_config_new_default();
        g_autoptr(NetisoConfig) custom =
                parse_ok(SECTION "guest_interface_patterns = [\"tap-*\", \"guest0\", "
                                 "\"abcdefghijklmno*\"]\n");

        g_assert_true(netiso_config_is_guest_like_ifname(defaults, "vnet0"));
        g_assert_true(netiso_config_is_guest_like_ifname(defaults, "vnet123"));
        g_assert_false(netiso_config_is_guest_like_ifname(defaults, "eth0"));
        g_assert_false(netiso_config_is_guest_like_ifname(defaults, "vne"));
        g_assert_false(netiso_config_is_guest_like_ifname(defaults, "xvnet0"));
        g_assert_false(netiso_config_is_guest_like_ifname(defaults, ""));
        g_assert_false(netiso_config_is_guest_like_ifname(defaults, NULL));
        g_assert_true(netiso_config_is_guest_like_ifname(custom, "tap-web1"));
        g_assert_true(netiso_config_is_guest_like_ifname(custom, "guest0"));
        g_assert_true(netiso_config_is_guest_like_ifname(custom, "abcdefghijklmno"));
        g_assert_false(netiso_config_is_guest_like_ifname(custom, "guest01"));
        g_assert_false(netiso_config_is_guest_like_ifname(custom, "guest"));
        g_assert_false(netiso_config_is_guest_like_ifname(custom, "vnet0"));
}

/* The interface's example block, and the defaults of what it leaves out. */
static void
test_cluster(void)
{
        static const char text[] =
                SECTION "enabled = true\n"
                        "[vm.network_isolation.cluster]\n"
                        "etcd_endpoints = [\"https://10.1.0.1:2379\", \"https://10.1.0.2:2379/\"]\n"
                        "node = \"hv-01\"\n"
                        "prefix = \"/blixard/netiso/\"\n"
                        "ca_file = \"/etc/blixard/etcd-ca.pem\"\n"
                        "cert_file = \"/etc/blixard/etcd-client.pem\"\n"
                        "key_file = \"/etc/blixard/etcd-client.key\"\n"
                        "lease_ttl = 10\n";
        static const char minimal[] = "[vm.network_isolation.cluster]\n"
                                      "etcd_endpoints = [\"http://[fd00::1]:2379\"]\n"
                                      "prefix = \"/other/\"\n";
        g_autoptr(GError) error = NULL;
        g_autoptr(NetisoConfig) config =
                netiso_config_new_from_data("c.toml", text, strlen(text), &error);
        g_autoptr(NetisoConfig) small = NULL;
        g_autoptr(NetisoConfig) alone = netiso_config_new_default();
        const NetisoClusterConfig *c;
        g_autofree char *host = g_strndup(g_get_host_name(), strcspn(g_get_host_name(), "."));

        g_assert_no_error(error);
        g_assert_null(alone->cluster);
        c = config->cluster;
        g_assert_nonnull(c);
        g_assert_cmpuint(c->endpoints->len, ==, 2);
        g_assert_cmpstr(g_ptr_array_index(c->endpoints, 0), ==, "https://10.1.0.1:2379");
        g_assert_cmpstr(g_ptr_array_index(c->endpoints, 1), ==, "https://10.1.0.2:2379");
        g_assert_cmpstr(c->node, ==, "hv-01");
        g_assert_cmpstr(c->prefix, ==, "/blixard/netiso/");
        g_assert_cmpstr(c->ca_file, ==, "/etc/blixard/etcd-ca.pem");
        g_assert_cmpstr(c->cert_file, ==, "/etc/blixard/etcd-client.pem");
        g_assert_cmpstr(c->key_file, ==, "/etc/blixard/etcd-client.key");
        g_assert_cmpuint(c->lease_ttl, ==, 10);
        g_assert_cmpuint(c->claim_timeout_ms, ==, NETISO_CLUSTER_DEFAULT_CLAIM_TIMEOUT_MS);

        small = netiso_config_new_from_data("m.toml", minimal, strlen(minimal), &error);
        g_assert_no_error(error);
        c = small->cluster;
        g_assert_cmpstr(c->prefix, ==, "/other/");
        g_assert_cmpuint(c->lease_ttl, ==, NETISO_CLUSTER_DEFAULT_LEASE_TTL);
        g_assert_null(c->ca_file);
        g_assert_null(c->cert_file);
        /* The host name, when it is a valid node name (this machine's is). */
        if (!netiso_tenant_name_problem(host))
                g_assert_cmpstr(c->node, ==, host);
}

static char *
digest_of(const char *filename, const char *text)
{
        g_autoptr(NetisoConfig) config =
                netiso_config_new_from_data(filename, text, strlen(text), NULL);

        g_assert_nonnull(config);
        return netiso_config_digest(config);
}

static void
test_digest(void)
{
        /* Each differs from the defaults in one thing that shapes the ruleset. */
        static const char *const changes[] = {
                "enabled = true\n",
                "backend = \"iptables\"\n",
                "cluster_networks = []\n",
                "cluster_networks = [\"169.254.0.0/16\", \"127.0.0.0/8\", \"::1\", "
                "\"fe80::/10\"]\n",
                "vm_network = \"10.1.0.0/16\"\n",
                "vm_network = [\"10.0.0.0/16\", \"fd00::/64\"]\n",
                "inter_vm_isolation = true\n",
                "tenant_isolation = false\n",
                "allow_internet = false\n",
                "allowed_ports = []\n",
                "guest_interface_patterns = [\"tap*\"]\n",
                "log_drops = true\n",
                "log_drops_per_second = 6\n",
                PORT "protocol = \"udp\"\nport = 53\n",
                PORT "protocol = \"udp\"\nport = 53\ndirection = \"inbound\"\n",
                "[vm.network_isolation.cluster]\netcd_endpoints = [\"http://e:2379\"]\n",
        };
        g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        g_autofree char *base = digest_of("a.toml", SECTION);
        g_autofree char *same_dir = digest_of("a.toml", SECTION "state_dir = \"/tmp/x\"\n");
        g_autofree char *same_path = digest_of("elsewhere/b.toml", SECTION);
        g_autoptr(NetisoConfig) defaults = netiso_config_new_default();
        g_autofree char *same_defaults = netiso_config_digest(defaults);
        g_autofree char *cluster_a =
                digest_of("a.toml", SECTION
                          "[vm.network_isolation.cluster]\netcd_endpoints = [\"http://e:1\"]\n");
        g_autofree char *cluster_b =
                digest_of("a.toml", SECTION "[vm.network_isolation.cluster]\netcd_endpoints = "
                                            "[\"https://f:2\"]\nnode = \"n2\"\nlease_ttl = 3\n");

        g_assert_cmpuint(strlen(base), ==, 64);
        g_assert_cmpstr(same_dir, ==, base);
        g_assert_cmpstr(same_path, ==, base);
        g_assert_cmpstr(same_defaults, ==, base);
        /* Endpoints, node and files change nothing in the kernel. */
        g_assert_cmpstr(cluster_a, ==, cluster_b);
        g_hash_table_add(seen, g_strdup(base));
        for (gsize i = 0; i < G_N_ELEMENTS(changes); i++) {
                g_autofree char *text = g_strconcat(SECTION, changes[i], NULL);
                char *digest = digest_of("a.toml", text);

                if (g_hash_table_contains(seen, digest))
                        g_error("digest did not change for: %s", changes[i]);
                g_hash_table_add(seen, digest);
        }
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/config/cluster-table-and-its-defaults", test_cluster);
        g_test_add_func("/config/seed-block-parses-verbatim", test_seed_block);
        g_test_add_func("/config/shipped-example-is-seed-policy", test_shipped_example);
        g_test_add_func("/config/defaults-when-table-absent", test_defaults);
        g_test_add_func("/config/empty-table-keeps-defaults", test_empty_section_keeps_defaults);
        g_test_add_func("/config/vm-network-string-or-array", test_vm_network_string_or_array);
        g_test_add_func("/config/ipv6-everywhere", test_ipv6_everywhere);
        g_test_add_func("/config/every-key-is-read", test_every_key_read);
        g_test_add_func("/config/allowed-ports-replace-default-and-merge", test_allowed_ports);
        g_test_add_func("/config/guest-like-ifname-matches-patterns", test_guest_like_ifname);
        g_test_add_func("/config/digest-follows-policy-not-paths", test_digest);
        return g_test_run();
}
