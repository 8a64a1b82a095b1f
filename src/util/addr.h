/* IPv4/IPv6 addresses and prefixes: strict parsing and canonical formatting.
 * Shared by the configuration reader, the domain reader and every renderer. */
#pragma once

#include <glib.h>
#include <stdint.h>

typedef enum {
        NETISO_FAMILY_IPV4 = 4,
        NETISO_FAMILY_IPV6 = 6,
} NetisoFamily;

/* An address with a prefix length; a plain address has prefix 32 or 128.
 * Host bits beyond the prefix are always zero in a parsed CIDR. */
typedef struct {
        NetisoFamily family;
        uint8_t bytes[16]; /* network byte order; IPv4 uses the first 4 */
        unsigned prefix;
} NetisoCidr;

/* Parse "10.0.0.0/16", "fd00::/8" or a bare address (full-length prefix).
 * Rejects host bits set beyond the prefix ("10.0.0.1/16"), prefixes out of
 * range, and anything inet_pton() does not accept. */
gboolean netiso_cidr_parse(const char *text, NetisoCidr *ret_cidr, GError **error);

/* Parse a single host address (no prefix). */
gboolean netiso_addr_parse(const char *text, NetisoCidr *ret_addr, GError **error);

/* Canonical text: "10.0.0.0/16" for networks, "10.0.0.5" for full-length
 * prefixes when with_host_prefix is FALSE. Caller frees. */
char *netiso_cidr_to_string(const NetisoCidr *cidr, gboolean with_host_prefix);

/* TRUE when a is inside b (same family, b's prefix <= a's prefix and bits match). */
gboolean netiso_cidr_contains(const NetisoCidr *outer, const NetisoCidr *inner);

gboolean netiso_cidr_equal(const NetisoCidr *a, const NetisoCidr *b);

/* For GHashTables keyed by NetisoCidr*. */
guint netiso_cidr_hash(gconstpointer cidr);
gboolean netiso_cidr_equal_func(gconstpointer a, gconstpointer b);

/* Why a guest may not claim this host address, or NULL when it may:
 * unspecified, multicast, limited broadcast, IPv6 link-local, loopback and
 * networks (non-full prefixes) are refused, the lesson of Neutron's
 * 0.0.0.0/0 allowed address pair. Returns a static string. */
const char *netiso_addr_guest_refusal(const NetisoCidr *addr);

unsigned netiso_family_bits(NetisoFamily family);

/* An IPv6 address in fe80::/10. */
gboolean netiso_addr_is_link_local_v6(const NetisoCidr *addr);

/* The address SLAAC forms from mac ("52:54:00:12:34:56") with its EUI-64
 * interface identifier (RFC 4291, appendix A) in prefix, a /64; with
 * prefix NULL the link-local one (fe80::/64). FALSE for a malformed MAC. */
gboolean netiso_addr_eui64(const char *mac, const NetisoCidr *prefix, NetisoCidr *ret_addr);
