/* Strict IPv4/IPv6 address and prefix parsing with canonical output. */
#include "autoconfig.h"

#include <arpa/inet.h>
#include <string.h>

#include "util/addr.h"
#include "util/error.h"

unsigned
netiso_family_bits(NetisoFamily family)
{
        return family == NETISO_FAMILY_IPV4 ? 32 : 128;
}

static gboolean
parse_host(const char *text, NetisoCidr *ret, GError **error)
{
        NetisoCidr c = { 0 };

        if (strchr(text, ':')) {
                if (inet_pton(AF_INET6, text, c.bytes) != 1)
                        goto bad;
                c.family = NETISO_FAMILY_IPV6;
                c.prefix = 128;
        } else {
                /* inet_pton(AF_INET) already refuses "010.1.1.1" style octal and short forms. */
                if (inet_pton(AF_INET, text, c.bytes) != 1)
                        goto bad;
                c.family = NETISO_FAMILY_IPV4;
                c.prefix = 32;
        }
        *ret = c;
        return TRUE;
bad:
        g_set_error(error, NETISO_ERROR, NETISO_ERROR_CONFIG, "'%s' is not an IPv4 or IPv6 address",
                    text);
        return FALSE;
}

gboolean
netiso_addr_parse(const char *text, NetisoCidr *ret_addr, GError **error)
{
        if (strchr(text, '/')) {
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_CONFIG,
                            "'%s' is a network, expected a single address", text);
                return FALSE;
        }
        return parse_host(text, ret_addr, error);
}

static gboolean
host_bits_zero(const NetisoCidr *c)
{
        unsigned bits = netiso_family_bits(c->family);

        for (unsigned i = c->prefix; i < bits; i++)
                if (c->bytes[i / 8] & (0x80u >> (i % 8)))
                        return FALSE;
        return TRUE;
}

gboolean
netiso_cidr_parse(const char *text, NetisoCidr *ret_cidr, GError **error)
{
        g_autofree char *host = NULL;
        const char *slash = strchr(text, '/');
        NetisoCidr c;

        if (!slash)
                return parse_host(text, ret_cidr, error);

        host = g_strndup(text, slash - text);
        if (!parse_host(host, &c, NULL)) {
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_CONFIG,
                            "'%s' is not a CIDR: '%s' is not an IPv4 or IPv6 address", text, host);
                return FALSE;
        }

        const char *p = slash + 1;
        guint64 prefix = 0;
        if (!g_ascii_isdigit(*p) || strlen(p) > 3 ||
            !g_ascii_string_to_unsigned(p, 10, 0, netiso_family_bits(c.family), &prefix, NULL)) {
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_CONFIG,
                            "'%s' is not a CIDR: prefix length must be 0..%u", text,
                            netiso_family_bits(c.family));
                return FALSE;
        }
        c.prefix = (unsigned)prefix;
        if (!host_bits_zero(&c)) {
                g_autofree char *fixed = NULL;
                NetisoCidr n = c;
                for (unsigned i = n.prefix; i < netiso_family_bits(n.family); i++)
                        n.bytes[i / 8] &= (uint8_t) ~(0x80u >> (i % 8));
                fixed = netiso_cidr_to_string(&n, /* with_host_prefix */ TRUE);
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_CONFIG,
                            "'%s' has host bits set beyond /%u (did you mean '%s'?)", text,
                            c.prefix, fixed);
                return FALSE;
        }
        *ret_cidr = c;
        return TRUE;
}

char *
netiso_cidr_to_string(const NetisoCidr *cidr, gboolean with_host_prefix)
{
        char buf[INET6_ADDRSTRLEN];
        int af = cidr->family == NETISO_FAMILY_IPV4 ? AF_INET : AF_INET6;

        if (!inet_ntop(af, cidr->bytes, buf, sizeof(buf)))
                g_assert_not_reached();
        if (!with_host_prefix && cidr->prefix == netiso_family_bits(cidr->family))
                return g_strdup(buf);
        return g_strdup_printf("%s/%u", buf, cidr->prefix);
}

gboolean
netiso_cidr_contains(const NetisoCidr *outer, const NetisoCidr *inner)
{
        if (outer->family != inner->family || outer->prefix > inner->prefix)
                return FALSE;
        for (unsigned i = 0; i < outer->prefix; i++) {
                uint8_t m = 0x80u >> (i % 8);
                if ((outer->bytes[i / 8] & m) != (inner->bytes[i / 8] & m))
                        return FALSE;
        }
        return TRUE;
}

gboolean
netiso_cidr_equal(const NetisoCidr *a, const NetisoCidr *b)
{
        return a->family == b->family && a->prefix == b->prefix &&
               memcmp(a->bytes, b->bytes, a->family == NETISO_FAMILY_IPV4 ? 4 : 16) == 0;
}

guint
netiso_cidr_hash(gconstpointer key)
{
        const NetisoCidr *c = key;
        guint h = (guint)c->family * 131 + c->prefix;

        for (unsigned i = 0; i < netiso_family_bits(c->family) / 8; i++)
                h = h * 31 + c->bytes[i];
        return h;
}

gboolean
netiso_cidr_equal_func(gconstpointer a, gconstpointer b)
{
        return netiso_cidr_equal(a, b);
}

const char *
netiso_addr_guest_refusal(const NetisoCidr *a)
{
        static const uint8_t zero[16];

        if (a->prefix != netiso_family_bits(a->family))
                return "is a network, not a single address";
        if (a->family == NETISO_FAMILY_IPV4) {
                if (memcmp(a->bytes, zero, 4) == 0)
                        return "is the unspecified address";
                if (a->bytes[0] == 0)
                        return "is in 0.0.0.0/8 (this network)";
                if (a->bytes[0] == 127)
                        return "is a loopback address";
                if (a->bytes[0] >= 224 && a->bytes[0] <= 239)
                        return "is a multicast address";
                if (a->bytes[0] >= 240)
                        return a->bytes[0] == 255 && a->bytes[1] == 255 && a->bytes[2] == 255 &&
                                               a->bytes[3] == 255
                                       ? "is the broadcast address"
                                       : "is in the reserved range 240.0.0.0/4";
                if (a->bytes[0] == 169 && a->bytes[1] == 254)
                        return "is a link-local address";
                return NULL;
        }
        if (memcmp(a->bytes, zero, 16) == 0)
                return "is the unspecified address";
        if (memcmp(a->bytes, zero, 15) == 0 && a->bytes[15] == 1)
                return "is the loopback address";
        if (a->bytes[0] == 0xff)
                return "is a multicast address";
        if (a->bytes[0] == 0xfe && (a->bytes[1] & 0xc0) == 0x80)
                return "is a link-local address";
        if (memcmp(a->bytes, zero, 10) == 0 && a->bytes[10] == 0xff && a->bytes[11] == 0xff)
                return "is an IPv4-mapped address";
        return NULL;
}

gboolean
netiso_addr_is_link_local_v6(const NetisoCidr *a)
{
        return a->family == NETISO_FAMILY_IPV6 && a->bytes[0] == 0xfe &&
               (a->bytes[1] & 0xc0) == 0x80;
}

gboolean
netiso_addr_eui64(const char *mac, const NetisoCidr *prefix, NetisoCidr *ret_addr)
{
        NetisoCidr a = { .family = NETISO_FAMILY_IPV6, .prefix = 128 };
        guint8 m[6];

        if (!mac || strlen(mac) != 17)
                return FALSE;
        for (int i = 0; i < 6; i++) {
                int hi = g_ascii_xdigit_value(mac[3 * i]),
                    lo = g_ascii_xdigit_value(mac[3 * i + 1]);
                if (hi < 0 || lo < 0 || (i < 5 && mac[3 * i + 2] != ':'))
                        return FALSE;
                m[i] = (guint8)(hi << 4 | lo);
        }
        if (prefix) {
                if (prefix->family != NETISO_FAMILY_IPV6 || prefix->prefix != 64)
                        return FALSE;
                memcpy(a.bytes, prefix->bytes, 8);
        } else {
                a.bytes[0] = 0xfe;
                a.bytes[1] = 0x80;
        }
        /* The universal/local bit flipped, ff:fe in the middle. */
        a.bytes[8] = m[0] ^ 0x02;
        a.bytes[9] = m[1];
        a.bytes[10] = m[2];
        a.bytes[11] = 0xff;
        a.bytes[12] = 0xfe;
        a.bytes[13] = m[3];
        a.bytes[14] = m[4];
        a.bytes[15] = m[5];
        *ret_addr = a;
        return TRUE;
}
