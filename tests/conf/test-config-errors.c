/* The configuration reader on bad input: for each kind of mistake, the exact
 * one-line error an operator reads, and the limits on size and bytes. */
#include "autoconfig.h"

#include <glib/gstdio.h>
#include <string.h>

#include "conf/config.h"
#include "conf/toml.h"
#include "util/error.h"

#define SECTION "[vm.network_isolation]\n"
#define PORT "[[vm.network_isolation.allowed_ports]]\n"
#define CLUSTER "[vm.network_isolation.cluster]\n"
#define EP "etcd_endpoints = [\"http://10.1.0.1:2379\"]\n"

static NetisoConfig *
parse(const char *text, gsize len, GError **error)
{
        return netiso_config_new_from_data("blixard.toml", text, len ? len : strlen(text), error);
}

/* Valid TOML, wrong type: each value is written as "KEY = VALUE" on line 2. */
static void
test_wrong_types(void)
{
        static const struct {
                const char *key, *value, *expected;
        } cases[] = {
                { "enabled", "\"yes\"", "expected a boolean, got a string" },
                { "enabled", "1", "expected a boolean, got an integer" },
                { "backend", "true", "expected a string, got a boolean" },
                { "backend", "[\"nftables\"]", "expected a string, got an array" },
                { "cluster_networks", "\"10.0.0.0/8\"",
                  "expected an array of CIDR strings, got a string" },
                { "vm_network", "10",
                  "expected a CIDR string or an array of CIDR strings, got an integer" },
                { "inter_vm_isolation", "\"false\"", "expected a boolean, got a string" },
                { "tenant_isolation", "0", "expected a boolean, got an integer" },
                { "allow_internet", "[]", "expected a boolean, got an array" },
                { "allowed_ports", "53", "expected an array of tables, got an integer" },
                { "guest_interface_patterns", "\"vnet*\"",
                  "expected an array of strings, got a string" },
                { "log_drops", "1.0", "expected a boolean, got a float" },
                { "log_drops_per_second", "\"5\"", "expected an integer, got a string" },
                { "log_drops_per_second", "5.0", "expected an integer, got a float" },
                { "state_dir", "false", "expected a string, got a boolean" },
                { "allowed_ethertypes", "\"0x88cc\"",
                  "expected an array of strings, got a string" },
        };
        for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree char *input =
                        g_strdup_printf(SECTION "%s = %s\n", cases[i].key, cases[i].value);
                g_autofree char *message =
                        g_strdup_printf("blixard.toml:2:%zu: key '%s': %s",
                                        strlen(cases[i].key) + 4, cases[i].key, cases[i].expected);
                g_autoptr(GError) error = NULL;
                g_autoptr(NetisoConfig) config = parse(input, 0, &error);

                g_assert_null(config);
                g_assert_error(error, NETISO_ERROR, NETISO_ERROR_CONFIG);
                g_assert_cmpstr(error->message, ==, message);
        }
}

/* Every kind of mistake, with the exact line an operator reads. */
static const struct {
        const char *input;
        gsize len; /* 0: strlen(input); else input holds NUL bytes */
        const char *message;
} bad_inputs[] = {
        /* Ethertypes bridged guests may send (blixard-netiso.toml(5)) */
        { SECTION "allowed_ethertypes = [\"88cc\"]\n", 0,
          "blixard.toml:2:23: key 'allowed_ethertypes[1]': \"88cc\" is not an ethertype written as 0x0600 to 0xffff" },
        { SECTION "allowed_ethertypes = [\"0x05dc\"]\n", 0,
          "blixard.toml:2:23: key 'allowed_ethertypes[1]': \"0x05dc\" is an 802.3 frame length, not an ethertype" },
        { SECTION "allowed_ethertypes = [\"0x0806\"]\n", 0,
          "blixard.toml:2:23: key 'allowed_ethertypes[1]': \"0x0806\" is IPv4, IPv6 or ARP, which always pass, through guards of their own" },
        { SECTION "allowed_ethertypes = [\"0x8100\"]\n", 0,
          "blixard.toml:2:23: key 'allowed_ethertypes[1]': \"0x8100\" is a VLAN tag, whose frames would pass no guard" },
        /* Addresses */
        { SECTION "cluster_networks = [\"10.0.0.1/8\"]\n", 0,
          "blixard.toml:2:21: key 'cluster_networks[1]': '10.0.0.1/8' has host bits set beyond /8 "
          "(did you mean '10.0.0.0/8'?)" },
        { SECTION "cluster_networks = [\"fd00::1/8\"]\n", 0,
          "blixard.toml:2:21: key 'cluster_networks[1]': 'fd00::1/8' has host bits set beyond /8 "
          "(did you mean 'fd00::/8'?)" },
        { SECTION "vm_network = \"10.0.0.0/33\"\n", 0,
          "blixard.toml:2:14: key 'vm_network': '10.0.0.0/33' is not a CIDR: prefix length must "
          "be 0..32" },
        { SECTION "vm_network = [\"10.0.0.0/16\", \"fd00::/129\"]\n", 0,
          "blixard.toml:2:30: key 'vm_network[2]': 'fd00::/129' is not a CIDR: prefix length must "
          "be 0..128" },
        { SECTION "cluster_networks = [\"example.com\"]\n", 0,
          "blixard.toml:2:21: key 'cluster_networks[1]': 'example.com' is not an IPv4 or IPv6 "
          "address" },
        { SECTION "vm_network = []\n", 0,
          "blixard.toml:2:14: key 'vm_network': must name at least one network" },
        { SECTION "cluster_networks = [\"10.0.0.0/8\", 5]\n", 0,
          "blixard.toml:2:35: key 'cluster_networks[2]': expected a CIDR string, got an integer" },
        /* Allowed ports */
        { PORT "protocol = \"tcp\"\nport = 0\n", 0,
          "blixard.toml:3:8: key 'allowed_ports[1].port': 0 is out of range 1..65535" },
        { PORT "protocol = \"tcp\"\nport = 65536\n", 0,
          "blixard.toml:3:8: key 'allowed_ports[1].port': 65536 is out of range 1..65535" },
        { PORT "protocol = \"tcp\"\nport = -1\n", 0,
          "blixard.toml:3:8: key 'allowed_ports[1].port': -1 is out of range 1..65535" },
        { PORT "protocol = \"tcp\"\nport = \"53\"\n", 0,
          "blixard.toml:3:8: key 'allowed_ports[1].port': expected an integer, got a string" },
        { PORT "protocol = \"tcp\"\nport = 53.0\n", 0,
          "blixard.toml:3:8: key 'allowed_ports[1].port': expected an integer, got a float" },
        { PORT "protocol = \"tcp\"\nport = inf\n", 0,
          "blixard.toml:3:8: key 'allowed_ports[1].port': expected an integer, got a float" },
        { PORT "protocol = \"icmp\"\nport = 1\n", 0,
          "blixard.toml:2:12: key 'allowed_ports[1].protocol': expected \"tcp\" or \"udp\", got "
          "\"icmp\"" },
        { PORT "protocol = \"TCP\"\nport = 1\n", 0,
          "blixard.toml:2:12: key 'allowed_ports[1].protocol': expected \"tcp\" or \"udp\", got "
          "\"TCP\"" },
        { PORT "protocol = \"tcp\"\nport = 22\ndirection = \"in\"\n", 0,
          "blixard.toml:4:13: key 'allowed_ports[1].direction': expected \"outbound\" or "
          "\"inbound\", got \"in\"" },
        { PORT "protocol = \"tcp\"\n", 0,
          "blixard.toml:1:1: key 'allowed_ports[1].port': missing; every allowed port needs a "
          "protocol and a port" },
        { PORT "protocol = \"tcp\"\nport = 22\n\n" PORT "port = 23\n", 0,
          "blixard.toml:5:1: key 'allowed_ports[2].protocol': missing; every allowed port needs a "
          "protocol and a port" },
        { PORT "protocol = \"tcp\"\nport = 22\nprot = \"udp\"\n", 0,
          "blixard.toml:4:1: unknown key 'prot' in [[vm.network_isolation.allowed_ports]]" },
        { PORT "protocol = \"tcp\"\nport = 22\n\nallow_internet = false\n", 0,
          "blixard.toml:5:1: unknown key 'allow_internet' in "
          "[[vm.network_isolation.allowed_ports]] "
          "(keys of [vm.network_isolation] go above its first [[allowed_ports]])" },
        { SECTION "allowed_ports = [1]\n", 0,
          "blixard.toml:2:18: key 'allowed_ports[1]': expected a table, got an integer" },
        { "[vm.network_isolation.allowed_ports]\nprotocol = \"tcp\"\n", 0,
          "blixard.toml:1:1: key 'allowed_ports': expected an array of tables, got a table" },
        /* Keys and tables */
        { SECTION "enabled = true\nallow_internett = true\n", 0,
          "blixard.toml:3:1: unknown key 'allow_internett' in [vm.network_isolation]" },
        { "[vm.network_isolation.extra]\nx = 1\n", 0,
          "blixard.toml:1:23: unknown key 'extra' in [vm.network_isolation]" },
        { SECTION "enabled = true\nenabled = false\n", 0,
          "blixard.toml:3:1: duplicate key 'enabled' in [vm.network_isolation] (first defined at "
          "line 2)" },
        { SECTION "enabled = true\n" SECTION, 0,
          "blixard.toml:3:1: table [vm.network_isolation] is already defined at line 1" },
        { "[vm]\nnetwork_isolation.enabled = true\n" SECTION, 0,
          "blixard.toml:3:1: table [vm.network_isolation] is already defined at line 2" },
        { "[vm.network_isolation.allowed_ports]\n" PORT, 0,
          "blixard.toml:2:1: cannot define [[vm.network_isolation.allowed_ports]]: "
          "'vm.network_isolation.allowed_ports' is already a table at line 1" },
        { "[[vm.network_isolation]]\n", 0,
          "blixard.toml:1:1: key 'vm.network_isolation': expected a table, got an array" },
        { "[vm]\nnetwork_isolation = 5\n", 0,
          "blixard.toml:2:21: key 'vm.network_isolation': expected a table, got an integer" },
        { "[node]\nid = 1\nid.x = 2\n", 0,
          "blixard.toml:3:1: cannot set 'id.x': 'id' is already an integer at line 2" },
        { "[vm.network_isolation\nenabled = true\n", 0,
          "blixard.toml:1:22: expected ']' to close the table header, got end of line" },
        { SECTION "enabled true\n", 0,
          "blixard.toml:2:9: expected '=' after key 'enabled', got 't'" },
        { SECTION "enabled = \n", 0, "blixard.toml:2:11: expected a value, got end of line" },
        { SECTION "enabled = true false\n", 0,
          "blixard.toml:2:16: expected end of line after the value, got 'f'" },
        /* Strings */
        { SECTION "enabled = true\nbackend = \"ipfw\"\n", 0,
          "blixard.toml:3:11: key 'backend': expected \"nftables\" or \"iptables\", got \"ipfw\"" },
        { SECTION "backend = \"nft\\nables\"\n", 0,
          "blixard.toml:2:11: key 'backend': expected \"nftables\" or \"iptables\", got "
          "\"nft\\nables\"" },
        { SECTION "backend = nftables\n", 0,
          "blixard.toml:2:11: invalid value 'nftables' (strings must be quoted)" },
        { SECTION "backend = \"nftables\n", 0, "blixard.toml:2:11: unterminated string" },
        { SECTION "backend = 'nftables\n", 0, "blixard.toml:2:11: unterminated string" },
        { SECTION "backend = \"nft\\qables\"\n", 0, "blixard.toml:2:15: invalid escape '\\q'" },
        { SECTION "backend = \"\\u0000\"\n", 0,
          "blixard.toml:2:12: invalid escape '\\u0000': strings cannot contain NUL" },
        { SECTION "backend = \"\\uD800\"\n", 0,
          "blixard.toml:2:12: invalid escape '\\uD800': not a Unicode scalar value" },
        { SECTION "backend = \"\\U00110000\"\n", 0,
          "blixard.toml:2:12: invalid escape '\\U00110000': not a Unicode scalar value" },
        { SECTION "backend = \"\\u12\"\n", 0,
          "blixard.toml:2:12: invalid escape: '\\u' needs 4 hexadecimal digits" },
        { SECTION "backend = \"nft\x01\"\n", 0,
          "blixard.toml:2:15: control character U+0001 in a string must be escaped" },
        { "[node]\nmotd = \"\"\"\nhello\n\"\"\"\n", 0,
          "blixard.toml:2:8: multi-line strings are not supported" },
        { "[node]\nmotd = '''hello'''\n", 0,
          "blixard.toml:2:8: multi-line strings are not supported" },
        /* Arrays */
        { SECTION "cluster_networks = [\n  \"10.0.0.0/8\",\n", 0,
          "blixard.toml:2:20: unterminated array" },
        { SECTION "cluster_networks = [\"10.0.0.0/8\" \"fd00::/8\"]\n", 0,
          "blixard.toml:2:34: expected ',' or ']' in the array, got '\"'" },
        { SECTION "allowed_ports = [{ protocol = \"tcp\", port = 22 }]\n", 0,
          "blixard.toml:2:18: inline tables are not supported" },
        /* Numbers, dates */
        { PORT "protocol = \"tcp\"\nport = 053\n", 0,
          "blixard.toml:3:8: leading zeros are not allowed in '053'" },
        { PORT "protocol = \"tcp\"\nport = 0x35\n", 0,
          "blixard.toml:3:8: hexadecimal, octal and binary integers are not supported" },
        { "[node]\nid = 9223372036854775808\n", 0,
          "blixard.toml:2:6: integer 9223372036854775808 does not fit in 64 bits" },
        { "[node]\nid = -9223372036854775809\n", 0,
          "blixard.toml:2:6: integer -9223372036854775809 does not fit in 64 bits" },
        { "[node]\nid = 1__000\n", 0, "blixard.toml:2:6: invalid integer '1__000'" },
        { "[node]\nratio = 1.\n", 0, "blixard.toml:2:9: invalid float '1.'" },
        { "[node]\nstarted = 1979-05-27T07:32:00Z\n", 0,
          "blixard.toml:2:11: dates and times are not supported" },
        { "[node]\nborn = 1979-05-27\n", 0, "blixard.toml:2:8: dates and times are not supported" },
        { "[node]\nat = 07:32:00\n", 0, "blixard.toml:2:6: dates and times are not supported" },
        /* Bytes */
        { SECTION "enabled = tr\0ue\n", sizeof(SECTION "enabled = tr\0ue\n") - 1,
          "blixard.toml:2:13: NUL byte in the file" },
        { "# caf\xc3\n", 0, "blixard.toml:1:6: invalid UTF-8" },
        { "# caf\xc3\xa9\n[node]\nname = \"caf\xc3\xa9\xff\"\n", 0,
          "blixard.toml:3:13: invalid UTF-8" },
        { "# a\001b\n", 0, "blixard.toml:1:4: control character U+0001 in a comment" },
        { SECTION "enabled = true\r# x\n", 0,
          "blixard.toml:2:15: expected end of line after the value, got control character "
          "U+000D" },
        { SECTION "enabled = maybe\r\n", 0,
          "blixard.toml:2:11: invalid value 'maybe' (strings must be quoted)" },
        /* Extensions */
        { SECTION "guest_interface_patterns = [\"eth*0\"]\n", 0,
          "blixard.toml:2:29: key 'guest_interface_patterns[1]': \"eth*0\" is not an interface "
          "name pattern (1 to 15 of A-Za-z0-9_.- and an optional trailing '*')" },
        { SECTION "guest_interface_patterns = [\"vnet*\", \"*\"]\n", 0,
          "blixard.toml:2:38: key 'guest_interface_patterns[2]': \"*\" is not an interface name "
          "pattern (1 to 15 of A-Za-z0-9_.- and an optional trailing '*')" },
        { SECTION "guest_interface_patterns = [\"abcdefghijklmnop\"]\n", 0,
          "blixard.toml:2:29: key 'guest_interface_patterns[1]': \"abcdefghijklmnop\" is not an "
          "interface name pattern (1 to 15 of A-Za-z0-9_.- and an optional trailing '*')" },
        { SECTION "flowtable_uplinks = [\"eth*\"]\n", 0,
          "blixard.toml:2:22: key 'flowtable_uplinks[1]': \"eth*\" is not an interface name (1 to "
          "15 of A-Za-z0-9_.-)" },
        { SECTION "guest_interface_patterns = [5]\n", 0,
          "blixard.toml:2:29: key 'guest_interface_patterns[1]': expected a string, got an "
          "integer" },
        { SECTION "guest_interface_patterns = []\n", 0,
          "blixard.toml:2:28: key 'guest_interface_patterns': must name at least one pattern, or "
          "no guest could start" },
        { SECTION "state_dir = \"run/netiso\"\n", 0,
          "blixard.toml:2:13: key 'state_dir': \"run/netiso\" is not an absolute path" },
        { SECTION "log_drops_per_second = 0\n", 0,
          "blixard.toml:2:24: key 'log_drops_per_second': 0 is out of range 1..10000" },
        { SECTION "log_drops_per_second = 10001\n", 0,
          "blixard.toml:2:24: key 'log_drops_per_second': 10001 is out of range 1..10000" },
        /* The cluster table */
        { CLUSTER "node = \"hv-01\"\n", 0,
          "blixard.toml:1:1: key 'etcd_endpoints': missing; [vm.network_isolation.cluster] needs "
          "at least one etcd endpoint" },
        { CLUSTER EP "nodes = \"hv-01\"\n", 0,
          "blixard.toml:3:1: unknown key 'nodes' in [vm.network_isolation.cluster]" },
        { CLUSTER "etcd_endpoints = []\n", 0,
          "blixard.toml:2:18: key 'etcd_endpoints': must name at least one etcd endpoint" },
        { CLUSTER "etcd_endpoints = \"http://10.1.0.1:2379\"\n", 0,
          "blixard.toml:2:18: key 'etcd_endpoints': expected an array of URL strings, got a "
          "string" },
        { CLUSTER "etcd_endpoints = [2379]\n", 0,
          "blixard.toml:2:19: key 'etcd_endpoints[1]': expected a URL string, got an integer" },
        { CLUSTER "etcd_endpoints = [\"10.1.0.1:2379\"]\n", 0,
          "blixard.toml:2:19: key 'etcd_endpoints[1]': etcd endpoint '10.1.0.1:2379' is not a "
          "URL like http://HOST:PORT or https://HOST:PORT" },
        { CLUSTER "etcd_endpoints = [\"unix:///run/etcd.sock\"]\n", 0,
          "blixard.toml:2:19: key 'etcd_endpoints[1]': etcd endpoint 'unix:///run/etcd.sock' must "
          "start with http:// or https://" },
        { CLUSTER "etcd_endpoints = [\"http://10.1.0.1:2379\", \"http://e:2379/v3\"]\n", 0,
          "blixard.toml:2:43: key 'etcd_endpoints[2]': etcd endpoint 'http://e:2379/v3' must be "
          "scheme://host:port and nothing more" },
        { CLUSTER "etcd_endpoints = [\"http://user:pw@e:2379\"]\n", 0,
          "blixard.toml:2:19: key 'etcd_endpoints[1]': etcd endpoint 'http://user:pw@e:2379' must "
          "be scheme://host:port and nothing more" },
        { CLUSTER "etcd_endpoints = [\"http://[fd00::1:2379\"]\n", 0,
          "blixard.toml:2:19: key 'etcd_endpoints[1]': etcd endpoint 'http://[fd00::1:2379' is "
          "not a URL like http://HOST:PORT or https://HOST:PORT" },
        { CLUSTER EP "node = \"hv 01\"\n", 0,
          "blixard.toml:3:8: key 'node': node 'hv 01' is invalid: only A-Za-z0-9._- allowed" },
        { CLUSTER EP "node = 1\n", 0,
          "blixard.toml:3:8: key 'node': expected a string, got an integer" },
        { CLUSTER EP "prefix = \"blixard/netiso\"\n", 0,
          "blixard.toml:3:10: key 'prefix': prefix 'blixard/netiso' must start and end with '/' "
          "and hold a name between" },
        { CLUSTER EP "prefix = \"/a//b/\"\n", 0,
          "blixard.toml:3:10: key 'prefix': prefix '/a//b/' must not contain '//'" },
        { CLUSTER EP "ca_file = \"etcd-ca.pem\"\n", 0,
          "blixard.toml:3:11: key 'ca_file': \"etcd-ca.pem\" is not an absolute path" },
        { CLUSTER EP "cert_file = \"/etc/c.pem\"\n", 0,
          "blixard.toml:1:1: key 'key_file': missing; a client certificate needs both cert_file "
          "and key_file" },
        { CLUSTER EP "key_file = \"/etc/c.key\"\n", 0,
          "blixard.toml:1:1: key 'cert_file': missing; a client certificate needs both cert_file "
          "and key_file" },
        { CLUSTER EP "lease_ttl = 1\n", 0,
          "blixard.toml:3:13: key 'lease_ttl': 1 is out of range 2..3600" },
        { CLUSTER EP "lease_ttl = \"10\"\n", 0,
          "blixard.toml:3:13: key 'lease_ttl': expected an integer, got a string" },
        { CLUSTER EP "claim_timeout_ms = 100\n", 0,
          "blixard.toml:3:20: key 'claim_timeout_ms': 100 is out of range 200..20000" },
        { SECTION "cluster = 5\n", 0,
          "blixard.toml:2:11: key 'vm.network_isolation.cluster': expected a table, got an "
          "integer" },
        { SECTION "backend = \"iptables\"\n" CLUSTER EP, 0,
          "blixard.toml:3:1: [vm.network_isolation.cluster] needs backend = \"nftables\": the "
          "iptables backend has no sets to hold other hosts' guests" },
};

static void
test_bad_input(gconstpointer data)
{
        guint i = GPOINTER_TO_UINT(data);
        g_autoptr(GError) error = NULL;
        g_autoptr(NetisoConfig) config = parse(bad_inputs[i].input, bad_inputs[i].len, &error);

        g_assert_null(config);
        g_assert_error(error, NETISO_ERROR, NETISO_ERROR_CONFIG);
        g_assert_cmpstr(error->message, ==, bad_inputs[i].message);
        g_assert_null(strchr(error->message, '\n'));
}

/* A valid section, then comment lines up to exactly size bytes. */
static char *
padded_input(gsize size)
{
        g_autoptr(GString) out = g_string_new(SECTION "enabled = true\n");

        while (out->len + 1 < size) {
                gsize width = MIN(size - out->len - 1, 80);
                g_string_append_c(out, '#');
                for (gsize i = 1; i < width; i++)
                        g_string_append_c(out, 'x');
                g_string_append_c(out, '\n');
        }
        while (out->len < size)
                g_string_append_c(out, '\n');
        return g_string_free(g_steal_pointer(&out), /* free_segment */ FALSE);
}

static void
test_size_limit(void)
{
        g_autofree char *fits = padded_input(NETISO_TOML_MAX_SIZE);
        g_autofree char *too_big = padded_input(NETISO_TOML_MAX_SIZE + 1);
        g_autoptr(GError) error = NULL;
        g_autoptr(NetisoConfig) ok = parse(fits, 0, &error);
        g_autoptr(NetisoConfig) refused = NULL;

        g_assert_no_error(error);
        refused = parse(too_big, 0, &error);

        g_assert_cmpuint(strlen(fits), ==, NETISO_TOML_MAX_SIZE);
        g_assert_cmpuint(strlen(too_big), ==, NETISO_TOML_MAX_SIZE + 1);
        g_assert_true(ok->enabled);
        g_assert_null(refused);
        g_assert_error(error, NETISO_ERROR, NETISO_ERROR_CONFIG);
        g_assert_cmpstr(error->message, ==,
                        "blixard.toml: larger than 1 MiB, the limit for a configuration file");
}

static void
test_file_errors(void)
{
        g_autofree char *dir = g_test_build_filename(G_TEST_DIST, "data", "config", NULL);
        g_autofree char *dir_message = g_strdup_printf("%s: cannot read: Is a directory", dir);
        g_autofree char *big = padded_input(NETISO_TOML_MAX_SIZE + 40000);
        g_autofree char *big_path = NULL;
        g_autofree char *big_message = NULL;
        g_autoptr(GError) error = NULL;
        int fd;

        g_assert_null(netiso_config_new_from_file("/nonexistent/blixard.toml", &error));
        g_assert_error(error, NETISO_ERROR, NETISO_ERROR_CONFIG);
        g_assert_cmpstr(error->message, ==,
                        "/nonexistent/blixard.toml: cannot read: No such file or directory");
        g_clear_error(&error);

        g_assert_null(netiso_config_new_from_file(dir, &error));
        g_assert_error(error, NETISO_ERROR, NETISO_ERROR_CONFIG);
        g_assert_cmpstr(error->message, ==, dir_message);
        g_clear_error(&error);

        fd = g_file_open_tmp("test-config-XXXXXX.toml", &big_path, &error);
        g_assert_no_error(error);
        g_close(fd, NULL);
        g_assert_true(g_file_set_contents(big_path, big, -1, &error));
        big_message = g_strdup_printf("%s: larger than 1 MiB, the limit for a configuration file",
                                      big_path);
        g_assert_null(netiso_config_new_from_file(big_path, &error));
        g_assert_error(error, NETISO_ERROR, NETISO_ERROR_CONFIG);
        g_assert_cmpstr(error->message, ==, big_message);
        g_unlink(big_path);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/config/wrong-type-names-key-and-types", test_wrong_types);
        for (guint i = 0; i < G_N_ELEMENTS(bad_inputs); i++) {
                g_autofree char *name =
                        g_strdup_printf("/config/bad-input-gives-exact-error/%02u", i + 1);
                g_test_add_data_func(name, GUINT_TO_POINTER(i), test_bad_input);
        }
        g_test_add_func("/config/size-limit-is-1-MiB", test_size_limit);
        g_test_add_func("/config/file-errors-name-the-path", test_file_errors);
        return g_test_run();
}
