/* Address and prefix parsing: what is accepted, how it prints, what is refused. */
#include "autoconfig.h"

#include "util/addr.h"
#include "util/error.h"

static void
test_cidr_roundtrip(void)
{
        static const struct {
                const char *in, *out;
        } cases[] = {
                { "10.0.0.0/16", "10.0.0.0/16" }, { "10.0.0.5", "10.0.0.5" },
                { "0.0.0.0/0", "0.0.0.0/0" },     { "fd00::/8", "fd00::/8" },
                { "FD00:0:0::1", "fd00::1" },     { "::1/128", "::1" },
        };
        for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autoptr(GError) error = NULL;
                g_autofree char *s = NULL;
                NetisoCidr c;
                g_assert_true(netiso_cidr_parse(cases[i].in, &c, &error));
                g_assert_no_error(error);
                s = netiso_cidr_to_string(&c, /* with_host_prefix */ FALSE);
                g_assert_cmpstr(s, ==, cases[i].out);
        }
}

static void
test_cidr_rejects(void)
{
        static const struct {
                const char *in, *message;
        } cases[] = {
                { "10.0.0.1/16",
                  "'10.0.0.1/16' has host bits set beyond /16 (did you mean '10.0.0.0/16'?)" },
                { "10.0.0.0/33", "'10.0.0.0/33' is not a CIDR: prefix length must be 0..32" },
                { "10.0.0.0/", "'10.0.0.0/' is not a CIDR: prefix length must be 0..32" },
                { "10.0.0.0/-1", "'10.0.0.0/-1' is not a CIDR: prefix length must be 0..32" },
                { "10.0.0.0/+8", "'10.0.0.0/+8' is not a CIDR: prefix length must be 0..32" },
                { "fd00::/129", "'fd00::/129' is not a CIDR: prefix length must be 0..128" },
                { "10.0.0/8", "'10.0.0/8' is not a CIDR: '10.0.0' is not an IPv4 or IPv6 address" },
                { "010.0.0.0/8",
                  "'010.0.0.0/8' is not a CIDR: '010.0.0.0' is not an IPv4 or IPv6 address" },
                { "", "'' is not an IPv4 or IPv6 address" },
                { "example.com", "'example.com' is not an IPv4 or IPv6 address" },
        };
        for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autoptr(GError) error = NULL;
                NetisoCidr c;
                g_assert_false(netiso_cidr_parse(cases[i].in, &c, &error));
                g_assert_error(error, NETISO_ERROR, NETISO_ERROR_CONFIG);
                g_assert_cmpstr(error->message, ==, cases[i].message);
        }
}

static void
test_contains(void)
{
        NetisoCidr net, in, out, v6;
        g_assert_true(netiso_cidr_parse("172.16.0.0/12", &net, NULL));
        g_assert_true(netiso_cidr_parse("172.31.255.255", &in, NULL));
        g_assert_true(netiso_cidr_parse("172.32.0.0", &out, NULL));
        g_assert_true(netiso_cidr_parse("::ffff:172.16.0.1", &v6, NULL));
        g_assert_true(netiso_cidr_contains(&net, &in));
        g_assert_false(netiso_cidr_contains(&net, &out));
        g_assert_false(netiso_cidr_contains(&net, &v6));
        g_assert_false(netiso_cidr_contains(&in, &net));
}

static void
test_guest_refusal(void)
{
        static const struct {
                const char *addr;
                const char *why; /* NULL: acceptable guest address */
        } cases[] = {
                { "10.0.0.5", NULL },
                { "2001:db8::5", NULL },
                { "0.0.0.0", "is the unspecified address" },
                { "::", "is the unspecified address" },
                { "255.255.255.255", "is the broadcast address" },
                { "224.0.0.1", "is a multicast address" },
                { "ff02::1", "is a multicast address" },
                { "fe80::1", "is a link-local address" },
                { "169.254.1.1", "is a link-local address" },
                { "127.0.0.1", "is a loopback address" },
                { "::1", "is the loopback address" },
                { "10.0.0.0/8", "is a network, not a single address" },
                { "::ffff:10.0.0.1", "is an IPv4-mapped address" },
        };
        for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
                NetisoCidr c;
                g_assert_true(netiso_cidr_parse(cases[i].addr, &c, NULL));
                g_assert_cmpstr(netiso_addr_guest_refusal(&c), ==, cases[i].why);
        }
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/addr/cidr-roundtrips-canonically", test_cidr_roundtrip);
        g_test_add_func("/addr/cidr-rejects-with-exact-message", test_cidr_rejects);
        g_test_add_func("/addr/contains-respects-family-and-prefix", test_contains);
        g_test_add_func("/addr/guest-refuses-non-host-addresses", test_guest_refusal);
        return g_test_run();
}
