/* The policy model: every configuration switch and every refusal, computed
 * from real configuration text and real domain XML, without a kernel. */
#include "autoconfig.h"

#include <string.h>

#include "conf/config.h"
#include "conf/domain.h"
#include "core/policy.h"
#include "util/error.h"

#define CONFIG_HEAD                                                                                \
        "[vm.network_isolation]\nenabled = true\n"                                                 \
        "cluster_networks = [\"127.0.0.0/8\", \"172.16.0.0/12\", \"fd00:172::/64\"]\n"             \
        "vm_network = [\"10.0.0.0/16\", \"fd00:10::/64\"]\n"

static NetisoConfig *
config_from(const char *extra)
{
        g_autofree char *text = g_strconcat(CONFIG_HEAD, extra, NULL);
        g_autoptr(GError) error = NULL;
        NetisoConfig *config = netiso_config_new_from_data("test.toml", text, strlen(text), &error);

        g_assert_no_error(error);
        return config;
}

static char *
iface_xml(const char *type, const char *tap, const char *peer4, const char *peer6)
{
        g_autoptr(GString) s = g_string_new(NULL);

        g_string_append_printf(s, "<interface type='%s'>", type);
        if (g_str_equal(type, "bridge"))
                g_string_append(s, "<source bridge='br0'/><mac address='52:54:00:00:00:01'/>");
        if (tap)
                g_string_append_printf(s, "<target dev='%s'/>", tap);
        if (peer4 || peer6) {
                g_string_append(s, "<source>");
                if (peer4)
                        g_string_append_printf(
                                s, "<ip address='10.0.255.254' prefix='32' peer='%s'/>", peer4);
                if (peer6)
                        g_string_append_printf(s,
                                               "<ip family='ipv6' address='fd00:10::fffe' "
                                               "prefix='128' peer='%s'/>",
                                               peer6);
                g_string_append(s, "</source>");
        }
        g_string_append(s, "</interface>");
        return g_string_free(g_steal_pointer(&s), /* free_segment */ FALSE);
}

static NetisoDomain *
domain_from(const char *tenant, const char *ifaces)
{
        g_autofree char *meta =
                tenant ? g_strdup_printf("<metadata><n:isolation xmlns:n='urn:blixard:network-"
                                         "isolation:1' tenant='%s'/></metadata>",
                                         tenant)
                       : g_strdup("");
        g_autofree char *xml = g_strdup_printf("<domain type='qemu'><name>vm1</name>%s<devices>%s"
                                               "</devices></domain>",
                                               meta, ifaces);
        g_autoptr(GError) error = NULL;
        NetisoDomain *d = netiso_domain_new_from_xml("vm1.xml", xml, strlen(xml), &error);

        g_assert_no_error(error);
        return d;
}

static void
test_peers(void)
{
        static const struct {
                const char *extra;
                NetisoPeers peers;
        } cases[] = {
                { "", NETISO_PEERS_SAME_TENANT },
                { "tenant_isolation = false\n", NETISO_PEERS_ALL },
                { "inter_vm_isolation = true\n", NETISO_PEERS_NONE },
                { "inter_vm_isolation = true\ntenant_isolation = false\n", NETISO_PEERS_NONE },
        };
        for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autoptr(NetisoConfig) config = config_from(cases[i].extra);
                g_autoptr(NetisoRules) rules = netiso_rules_new(config);
                g_assert_cmpint(rules->peers, ==, cases[i].peers);
        }
}

static void
test_ports_split(void)
{
        g_autoptr(NetisoConfig) config =
                config_from("allow_internet = false\n"
                            "[[vm.network_isolation.allowed_ports]]\nprotocol = \"tcp\"\nport = "
                            "22\ndirection = \"inbound\"\n"
                            "[[vm.network_isolation.allowed_ports]]\nprotocol = \"udp\"\nport = "
                            "123\ndirection = \"outbound\"\n");
        g_autoptr(NetisoRules) rules = netiso_rules_new(config);

        g_assert_false(rules->internet);
        g_assert_cmpuint(rules->ports_in->len, ==, 1);
        g_assert_cmpuint(g_array_index(rules->ports_in, NetisoPort, 0).port, ==, 22);
        g_assert_cmpuint(rules->ports_out->len, ==, 1);
        g_assert_cmpint(g_array_index(rules->ports_out, NetisoPort, 0).protocol, ==,
                        NETISO_PROTO_UDP);
}

static void
test_default_ports_and_tenant(void)
{
        g_autoptr(NetisoConfig) config = config_from("");
        g_autofree char *i = iface_xml("ethernet", "vnet0", "10.0.0.5", "fd00:10::5");
        g_autoptr(NetisoDomain) domain = domain_from(NULL, i);
        g_autoptr(GError) error = NULL;
        g_autoptr(NetisoPolicy) policy = netiso_policy_new_for_domain(config, domain, &error);

        g_assert_no_error(error);
        g_assert_cmpstr(policy->tenant, ==, "default");
        g_assert_false(policy->tenant_explicit);
        g_assert_cmpuint(policy->rules->ports_out->len, ==, 2); /* udp and tcp 53 */
        g_assert_cmpuint(policy->rules->ports_in->len, ==, 0);
        g_assert_true(policy->rules->internet);
        g_assert_cmpuint(policy->ports->len, ==, 1);
        NetisoPolicyPort *p = g_ptr_array_index(policy->ports, 0);
        g_assert_true(p->routed);
        g_assert_cmpstr(p->tap, ==, "vnet0");
        g_assert_cmpuint(p->addresses->len, ==, 2);
        g_assert_cmpuint(policy->warnings->len, ==, 1);
        g_assert_true(netiso_policy_has_all_taps(policy, &error));
}

static void
test_refusals(void)
{
        g_autoptr(NetisoConfig) config = config_from("");
        g_autofree char *eth = iface_xml("ethernet", "vnet0", "10.0.0.5", NULL);
        g_autofree char *eth_same_tap = iface_xml("ethernet", "vnet0", "10.0.0.6", NULL);
        g_autofree char *eth_same_addr = iface_xml("ethernet", "vnet1", "10.0.0.5", NULL);
        g_autofree char *cluster = iface_xml("ethernet", "vnet0", "172.16.1.1", NULL);
        g_autofree char *dual_tap = g_strconcat(eth, eth_same_tap, NULL);
        g_autofree char *dual_addr = g_strconcat(eth, eth_same_addr, NULL);
        const struct {
                const char *ifaces, *message;
        } cases[] = {
                { "<interface type='direct'><source dev='eth0' mode='vepa'/></interface>",
                  "domain 'vm1': interface 0 of type 'direct' bypasses the host firewall and "
                  "cannot be isolated" },
                { "<interface type='hostdev'><source><address type='pci' domain='0' bus='1' "
                  "slot='0' function='0'/></source></interface>",
                  "domain 'vm1': interface 0 of type 'hostdev' bypasses the host firewall and "
                  "cannot be isolated" },
                { "<interface type='vhostuser'><source type='unix' path='/tmp/s' "
                  "mode='client'/></interface>",
                  "domain 'vm1': interface 0 of type 'vhostuser' bypasses the host firewall and "
                  "cannot be isolated" },
                { "<interface type='user'/>", "domain 'vm1': interface 0 of type 'user' bypasses "
                                              "the host firewall and cannot be isolated" },
                { dual_tap, "domain 'vm1': interfaces 0 and 1 both use tap 'vnet0'" },
                { dual_addr, "domain 'vm1': interfaces 0 and 1 both claim address 10.0.0.5" },
                { cluster, "domain 'vm1': interface 0: guest address 172.16.1.1 is inside a "
                           "cluster network" },
        };
        for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autoptr(NetisoDomain) domain = domain_from("t", cases[i].ifaces);
                g_autoptr(GError) error = NULL;
                g_autoptr(NetisoPolicy) policy =
                        netiso_policy_new_for_domain(config, domain, &error);
                g_assert_null(policy);
                g_assert_error(error, NETISO_ERROR, NETISO_ERROR_POLICY);
                g_assert_cmpstr(error->message, ==, cases[i].message);
        }
}

/* A domain as large as the hook accepts (4 MB: 360 interfaces of 256
 * addresses) took a minute of pairwise comparisons before the uniqueness
 * checks were hashed; the bound is loose enough for sanitizer builds. */
static void
test_uniqueness_is_linear(void)
{
        g_autoptr(NetisoConfig) config = config_from("");
        g_autoptr(NetisoDomain) domain = g_new0(NetisoDomain, 1);
        g_autoptr(NetisoPolicy) policy = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(GTimer) timer = g_timer_new();
        const NetisoIface *first;
        NetisoIface *last;
        guint32 n = 0;

        domain->name = g_strdup("big");
        domain->tenant = g_strdup("t");
        domain->ifaces = g_ptr_array_new_with_free_func((GDestroyNotify)netiso_iface_free);
        for (guint i = 0; i <= 360; i++) {
                NetisoIface *iface = g_new0(NetisoIface, 1);

                iface->index = i;
                iface->type = NETISO_IFACE_ETHERNET;
                iface->tap = g_strdup_printf("vnet%u", i);
                iface->addresses = g_array_new(/* zero_terminated */ FALSE, /* clear */ FALSE,
                                               sizeof(NetisoCidr));
                for (guint a = 0; a < 256 && i < 360; a++) {
                        NetisoCidr c = { .family = NETISO_FAMILY_IPV4, .prefix = 32 };
                        n++;
                        c.bytes[0] = 10;
                        c.bytes[1] = (guint8)(n >> 16);
                        c.bytes[2] = (guint8)(n >> 8);
                        c.bytes[3] = (guint8)n;
                        g_array_append_val(iface->addresses, c);
                }
                g_ptr_array_add(domain->ifaces, iface);
        }
        /* The last interface claims the first interface's first address. */
        first = g_ptr_array_index(domain->ifaces, 0);
        last = g_ptr_array_index(domain->ifaces, 360);
        g_array_append_val(last->addresses, g_array_index(first->addresses, NetisoCidr, 0));
        policy = netiso_policy_new_for_domain(config, domain, &error);
        g_assert_null(policy);
        g_assert_cmpstr(error->message, ==,
                        "domain 'big': interfaces 0 and 360 both claim address 10.0.0.1");
        g_assert_cmpfloat(g_timer_elapsed(timer, NULL), <, 10.0);
}

static void
test_warnings_and_taps(void)
{
        g_autoptr(NetisoConfig) config = config_from("");
        g_autofree char *outside = iface_xml("ethernet", "vnet0", "192.0.2.10", NULL);
        g_autofree char *bare = iface_xml("ethernet", NULL, NULL, NULL);
        g_autofree char *both = g_strconcat(outside, bare, NULL);
        g_autoptr(NetisoDomain) domain = domain_from("t", both);
        g_autoptr(GError) error = NULL;
        g_autoptr(NetisoPolicy) policy = netiso_policy_new_for_domain(config, domain, &error);

        g_assert_no_error(error);
        g_assert_cmpuint(policy->warnings->len, ==, 2);
        g_assert_cmpstr(g_ptr_array_index(policy->warnings, 0), ==,
                        "interface 0: guest address 192.0.2.10 is outside vm_network");
        g_assert_cmpstr(
                g_ptr_array_index(policy->warnings, 1), ==,
                "interface 1 has no guest address: all its IP traffic is dropped as spoofed");
        g_assert_false(netiso_policy_has_all_taps(policy, &error));
        g_assert_cmpstr(error->message, ==,
                        "domain 'vm1': interface 1 has no <target dev>: the tap is not known yet");
}

static void
test_bridged_kept_not_routed(void)
{
        g_autoptr(NetisoConfig) config = config_from("");
        g_autofree char *br = iface_xml("bridge", "vnet0", NULL, NULL);
        g_autoptr(NetisoDomain) domain = domain_from("t", br);
        g_autoptr(GError) error = NULL;
        g_autoptr(NetisoPolicy) policy = netiso_policy_new_for_domain(config, domain, &error);

        g_assert_no_error(error);
        g_assert_false(((NetisoPolicyPort *)g_ptr_array_index(policy->ports, 0))->routed);
}

static void
test_describe_mentions_each_switch(void)
{
        static const struct {
                const char *extra, *needle;
        } cases[] = {
                { "", "guests of tenant 't', any protocol" },
                { "tenant_isolation = false\n", "every other guest, any tenant, any protocol" },
                { "inter_vm_isolation = true\n", "no other guest (inter_vm_isolation)" },
                { "allow_internet = false\n",
                  "the internet only on allowed outbound ports: udp/53, tcp/53" },
                { "enabled = false\n", NULL },
        };
        for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autoptr(NetisoConfig) config = NULL;
                g_autofree char *eth = iface_xml("ethernet", "vnet0", "10.0.0.5", NULL);
                g_autoptr(NetisoDomain) domain = domain_from("t", eth);
                g_autoptr(NetisoPolicy) policy = NULL;
                g_autofree char *text = NULL;

                if (!cases[i].needle) {
                        /* "enabled" is set twice in this case: a duplicate key is an error. */
                        g_autoptr(GError) error = NULL;
                        g_autofree char *t = g_strconcat(CONFIG_HEAD, cases[i].extra, NULL);
                        g_assert_null(netiso_config_new_from_data("x", t, strlen(t), &error));
                        continue;
                }
                config = config_from(cases[i].extra);
                policy = netiso_policy_new_for_domain(config, domain, NULL);
                text = netiso_policy_describe(policy);
                g_assert_nonnull(strstr(text, cases[i].needle));
                g_assert_nonnull(strstr(
                        text, "cluster networks: 127.0.0.0/8, 172.16.0.0/12, fd00:172::/64"));
        }
}

/* The fail-closed drop's names must cover every guest tap the hook knows. */
static void
test_tap_outside_patterns(void)
{
        static const struct {
                const char *extra, *tap, *message;
        } cases[] = {
                { "", "tapx2",
                  "domain 'vm1': interface 0: tap 'tapx2' matches none of "
                  "guest_interface_patterns (\"vnet*\"), so it would not be dropped while its "
                  "isolation is not installed; name it to match one, or add a pattern" },
                { "guest_interface_patterns = [\"tap-*\", \"guest0\"]\n", "vnet0",
                  "domain 'vm1': interface 0: tap 'vnet0' matches none of "
                  "guest_interface_patterns (\"tap-*\", \"guest0\"), so it would not be dropped "
                  "while its isolation is not installed; name it to match one, or add a pattern" },
                { "guest_interface_patterns = [\"tap-*\", \"guest0\"]\n", "guest01", "" },
                { "guest_interface_patterns = [\"tap-*\", \"guest0\"]\n", "tap-web1", NULL },
                { "guest_interface_patterns = [\"tap-*\", \"guest0\"]\n", "guest0", NULL },
                { "", NULL, NULL }, /* prepare: no tap yet, nothing to judge */
        };
        for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autoptr(NetisoConfig) config = config_from(cases[i].extra);
                g_autofree char *eth = iface_xml("ethernet", cases[i].tap, "10.0.0.5", NULL);
                g_autoptr(NetisoDomain) domain = domain_from("t", eth);
                g_autoptr(GError) error = NULL;
                g_autoptr(NetisoPolicy) policy =
                        netiso_policy_new_for_domain(config, domain, &error);

                if (!cases[i].message) {
                        g_assert_no_error(error);
                        g_assert_nonnull(policy);
                        continue;
                }
                g_assert_null(policy);
                g_assert_error(error, NETISO_ERROR, NETISO_ERROR_POLICY);
                if (*cases[i].message)
                        g_assert_cmpstr(error->message, ==, cases[i].message);
                g_assert_null(strchr(error->message, '\n'));
        }
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/policy/peers-follow-the-two-switches", test_peers);
        g_test_add_func("/policy/ports-split-by-direction", test_ports_split);
        g_test_add_func("/policy/defaults-dns-ports-and-default-tenant",
                        test_default_ports_and_tenant);
        g_test_add_func("/policy/refuses-unisolatable-guests-with-exact-message", test_refusals);
        g_test_add_func("/policy/uniqueness-check-is-linear", test_uniqueness_is_linear);
        g_test_add_func("/policy/warns-about-outside-and-addressless", test_warnings_and_taps);
        g_test_add_func("/policy/bridged-is-kept-but-not-routed", test_bridged_kept_not_routed);
        g_test_add_func("/policy/describe-says-each-switch", test_describe_mentions_each_switch);
        g_test_add_func("/policy/refuses-a-tap-outside-the-patterns", test_tap_outside_patterns);
        return g_test_run();
}
