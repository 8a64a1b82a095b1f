/* netprobe's layer-2 half (static, for the busybox guests and the namespaces): crafts
 * the frames a hostile bridged guest sends (forged MACs, ARP and neighbour advertisements
 * for others' addresses, router advertisements, redirects, DHCP server messages, odd
 * ethertypes, forged ICMP errors) on a raw AF_PACKET socket, and an observer that logs
 * one "L2 ..." line per such frame that reaches an interface. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netprobe.h"

#define FRAME_MAX 1514
#define SINK_PORT 5555

typedef struct {
        uint8_t b[FRAME_MAX];
        size_t len;
} Frame;

static uint8_t own_mac[6];
static int own_ifindex;

static int
fail(const char *what)
{
        fprintf(stderr, "netprobe: %s\n", what);
        return 2;
}

static int
parse_mac(const char *s, uint8_t mac[6])
{
        unsigned v[6];

        if (strcmp(s, "-") == 0) {
                memcpy(mac, own_mac, 6);
                return 0;
        }
        if (sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
                return -1;
        for (int i = 0; i < 6; i++)
                mac[i] = (uint8_t)v[i];
        return 0;
}

static void
format_mac(const uint8_t *m, char *buf)
{
        sprintf(buf, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

/* An address of either family; returns its family or -1. */
static int
parse_ip(const char *s, uint8_t out[16])
{
        if (inet_pton(AF_INET, s, out) == 1)
                return AF_INET;
        if (inet_pton(AF_INET6, s, out) == 1)
                return AF_INET6;
        return -1;
}

/* The EUI-64 link-local address of a MAC, as the kernel derives it. */
static void
link_local(const uint8_t mac[6], uint8_t out[16])
{
        memset(out, 0, 16);
        out[0] = 0xfe;
        out[1] = 0x80;
        out[8] = mac[0] ^ 2;
        out[9] = mac[1];
        out[10] = mac[2];
        out[11] = 0xff;
        out[12] = 0xfe;
        out[13] = mac[3];
        out[14] = mac[4];
        out[15] = mac[5];
}

/* The Ethernet destination of an IPv6 multicast address (33:33 + its last 32 bits). */
static void
multicast_mac6(const uint8_t ip6[16], uint8_t mac[6])
{
        mac[0] = mac[1] = 0x33;
        memcpy(mac + 2, ip6 + 12, 4);
}

static uint32_t
sum16(const uint8_t *p, size_t len, uint32_t sum)
{
        for (size_t i = 0; i + 1 < len; i += 2)
                sum += (uint32_t)(p[i] << 8 | p[i + 1]);
        if (len & 1)
                sum += (uint32_t)(p[len - 1] << 8);
        return sum;
}

static uint16_t
fold(uint32_t sum)
{
        while (sum >> 16)
                sum = (sum & 0xffff) + (sum >> 16);
        return (uint16_t)~sum;
}

static void
put16(uint8_t *p, uint16_t v)
{
        p[0] = v >> 8;
        p[1] = v & 0xff;
}

static void
put32(uint8_t *p, uint32_t v)
{
        put16(p, v >> 16);
        put16(p + 2, v & 0xffff);
}

static uint8_t *
ether(Frame *f, const uint8_t dst[6], const uint8_t src[6], uint16_t type)
{
        memcpy(f->b, dst, 6);
        memcpy(f->b + 6, src, 6);
        put16(f->b + 12, type);
        f->len = 14;
        return f->b + 14;
}

/* IPv4 or IPv6 header + an L4 payload already at l3 + header size; fills lengths and
 * checksums (the L4 checksum field at offset csum_off of the payload, or none). */
static void
ip_finish(Frame *f, int family, const uint8_t *src, const uint8_t *dst, uint8_t proto, uint8_t ttl,
          size_t l4len, int csum_off)
{
        uint8_t *l3 = f->b + f->len;
        size_t hl = family == AF_INET ? 20 : 40;
        uint8_t *l4 = l3 + hl;
        uint32_t sum = 0;
        uint8_t pseudo[40];

        if (family == AF_INET) {
                memset(l3, 0, 20);
                l3[0] = 0x45;
                put16(l3 + 2, (uint16_t)(20 + l4len));
                l3[8] = ttl;
                l3[9] = proto;
                memcpy(l3 + 12, src, 4);
                memcpy(l3 + 16, dst, 4);
                put16(l3 + 10, fold(sum16(l3, 20, 0)));
                memset(pseudo, 0, 12);
                memcpy(pseudo, src, 4);
                memcpy(pseudo + 4, dst, 4);
                pseudo[9] = proto;
                put16(pseudo + 10, (uint16_t)l4len);
                if (proto != IPPROTO_ICMP)
                        sum = sum16(pseudo, 12, 0);
        } else {
                memset(l3, 0, 40);
                l3[0] = 0x60;
                put16(l3 + 4, (uint16_t)l4len);
                l3[6] = proto;
                l3[7] = ttl;
                memcpy(l3 + 8, src, 16);
                memcpy(l3 + 24, dst, 16);
                memset(pseudo, 0, 40);
                memcpy(pseudo, src, 16);
                memcpy(pseudo + 16, dst, 16);
                put32(pseudo + 32, (uint32_t)l4len);
                pseudo[39] = proto;
                sum = sum16(pseudo, 40, 0);
        }
        if (csum_off >= 0) {
                put16(l4 + csum_off, 0);
                put16(l4 + csum_off, fold(sum16(l4, l4len, sum)));
        }
        f->len += hl + l4len;
}

static size_t
l3_size(int family)
{
        return family == AF_INET ? 20 : 40;
}

/* UDP from sport to dport with payload (len bytes) after the IP header. */
static void
udp_frame(Frame *f, int family, const uint8_t *src, const uint8_t *dst, uint16_t sport,
          uint16_t dport, const void *payload, size_t len)
{
        uint8_t *u = f->b + f->len + l3_size(family);

        put16(u, sport);
        put16(u + 2, dport);
        put16(u + 4, (uint16_t)(8 + len));
        memcpy(u + 8, payload, len);
        ip_finish(f, family, src, dst, IPPROTO_UDP, 64, 8 + len, 6);
}

/* ---- the frames ------------------------------------------------------- */

/* udp SRCMAC DSTMAC SRC DST DPORT TOKEN: a datagram to the observer's sink port,
 * from any MAC and address. */
static int
build_udp(Frame *f, char **a, int n)
{
        uint8_t smac[6], dmac[6], src[16], dst[16];
        int fam;

        if (n != 6 || parse_mac(a[0], smac) || parse_mac(a[1], dmac) ||
            (fam = parse_ip(a[2], src)) < 0 || parse_ip(a[3], dst) != fam)
                return -1;
        ether(f, dmac, smac, fam == AF_INET ? ETHERTYPE_IP : ETHERTYPE_IPV6);
        udp_frame(f, fam, src, dst, 40000, (uint16_t)atoi(a[4]), a[5], strlen(a[5]));
        return 0;
}

/* arp request|reply SHA SPA THA TPA DSTMAC */
static int
build_arp(Frame *f, char **a, int n)
{
        uint8_t sha[6], tha[6], dmac[6], spa[16], tpa[16];
        uint8_t *p;

        if (n != 6 || parse_mac(a[1], sha) || parse_ip(a[2], spa) != AF_INET ||
            parse_mac(a[3], tha) || parse_ip(a[4], tpa) != AF_INET || parse_mac(a[5], dmac))
                return -1;
        p = ether(f, dmac, own_mac, ETHERTYPE_ARP);
        put16(p, 1);
        put16(p + 2, ETHERTYPE_IP);
        p[4] = 6;
        p[5] = 4;
        put16(p + 6, strcmp(a[0], "reply") == 0 ? 2 : 1);
        memcpy(p + 8, sha, 6);
        memcpy(p + 14, spa, 4);
        memcpy(p + 18, tha, 6);
        memcpy(p + 24, tpa, 4);
        f->len += 28;
        return 0;
}

/* ICMPv6 of the given type with body (after the 4-byte type/code/checksum) to dst. */
static void
icmp6_frame(Frame *f, const uint8_t dmac[6], const uint8_t src[16], const uint8_t dst[16],
            uint8_t type, const uint8_t *body, size_t blen)
{
        uint8_t *p = ether(f, dmac, own_mac, ETHERTYPE_IPV6) + 40;

        p[0] = type;
        p[1] = 0;
        memcpy(p + 4, body, blen);
        ip_finish(f, AF_INET6, src, dst, IPPROTO_ICMPV6, 255, 4 + blen, 2);
}

static void
dst_mac6(const char *arg, const uint8_t dst[16], uint8_t dmac[6])
{
        if (strcmp(arg, "-") == 0 && dst[0] == 0xff)
                multicast_mac6(dst, dmac);
        else
                parse_mac(arg, dmac);
}

/* na SRC DST TARGET DSTMAC: "TARGET is at my MAC", override flag set. */
static int
build_na(Frame *f, char **a, int n)
{
        uint8_t src[16], dst[16], body[28] = { 0 }, dmac[6];

        if (n != 4 || parse_ip(a[0], src) != AF_INET6 || parse_ip(a[1], dst) != AF_INET6 ||
            parse_ip(a[2], body + 4) != AF_INET6)
                return -1;
        dst_mac6(a[3], dst, dmac);
        body[0] = 0x20; /* override */
        body[20] = 2;   /* target link-layer address option */
        body[21] = 1;
        memcpy(body + 22, own_mac, 6);
        icmp6_frame(f, dmac, src, dst, 136, body, sizeof(body));
        return 0;
}

/* ra: a default router with a prefix for autoconfiguration, from our link-local. */
static int
build_ra(Frame *f, char **a, int n)
{
        static const uint8_t prefix[16] = { 0x20, 0x01, 0x0d, 0xb8, 0x0b, 0xad };
        uint8_t src[16], dst[16] = { 0xff, 0x02, [15] = 1 }, dmac[6], body[52] = { 0 };

        (void)a;
        if (n != 0)
                return -1;
        link_local(own_mac, src);
        multicast_mac6(dst, dmac);
        body[0] = 64;          /* hop limit */
        put16(body + 2, 1800); /* router lifetime */
        body[12] = 1;          /* source link-layer address option */
        body[13] = 1;
        memcpy(body + 14, own_mac, 6);
        body[20] = 3; /* prefix information */
        body[21] = 4;
        body[22] = 64;
        body[23] = 0xc0; /* on-link, autonomous */
        put32(body + 24, 86400);
        put32(body + 28, 14400);
        memcpy(body + 36, prefix, 16);
        icmp6_frame(f, dmac, src, dst, 134, body, sizeof(body));
        return 0;
}

/* redirect6 DSTMAC DST DEST: "reach DEST through me", from our link-local. */
static int
build_redirect6(Frame *f, char **a, int n)
{
        uint8_t src[16], dst[16], dmac[6], body[44] = { 0 };

        if (n != 3 || parse_mac(a[0], dmac) || parse_ip(a[1], dst) != AF_INET6 ||
            parse_ip(a[2], body + 20) != AF_INET6)
                return -1;
        link_local(own_mac, src);
        memcpy(body + 4, src, 16); /* target: us */
        body[36] = 2;              /* target link-layer address option */
        body[37] = 1;
        memcpy(body + 38, own_mac, 6);
        icmp6_frame(f, dmac, src, dst, 137, body, sizeof(body));
        return 0;
}

/* An ICMPv4 message (type, code, 4 bytes of rest) quoting an IPv4 UDP header. */
static void
icmp4_quoting(Frame *f, const uint8_t dmac[6], const uint8_t src[4], const uint8_t dst[4],
              uint8_t type, uint8_t code, const uint8_t rest[4], const uint8_t isrc[4],
              const uint8_t idst[4], uint16_t isport, uint16_t idport)
{
        uint8_t *p = ether(f, dmac, own_mac, ETHERTYPE_IP) + 20;
        uint8_t *in = p + 8;

        p[0] = type;
        p[1] = code;
        memcpy(p + 4, rest, 4);
        memset(in, 0, 28);
        in[0] = 0x45;
        put16(in + 2, 28 + 8);
        in[8] = 64;
        in[9] = IPPROTO_UDP;
        memcpy(in + 12, isrc, 4);
        memcpy(in + 16, idst, 4);
        put16(in + 10, fold(sum16(in, 20, 0)));
        put16(in + 20, isport);
        put16(in + 22, idport);
        put16(in + 24, 16);
        ip_finish(f, AF_INET, src, dst, IPPROTO_ICMP, 64, 8 + 28, 2);
}

/* redirect4 DSTMAC SRC DST DEST: "host DEST via SRC", quoting DST's datagram to DEST. */
static int
build_redirect4(Frame *f, char **a, int n)
{
        uint8_t dmac[6], src[16], dst[16], dest[16];

        if (n != 4 || parse_mac(a[0], dmac) || parse_ip(a[1], src) != AF_INET ||
            parse_ip(a[2], dst) != AF_INET || parse_ip(a[3], dest) != AF_INET)
                return -1;
        icmp4_quoting(f, dmac, src, dst, 5, 1, src, dst, dest, 40000, 53);
        return 0;
}

/* icmp-err DSTMAC SRC DST ISRC IDST ISPORT IDPORT: port unreachable about the datagram
 * ISRC:ISPORT -> IDST:IDPORT (IPv4 or IPv6). */
static int
build_icmp_err(Frame *f, char **a, int n)
{
        uint8_t dmac[6], src[16], dst[16], isrc[16], idst[16], zero[4] = { 0 };
        int fam;

        if (n != 7 || parse_mac(a[0], dmac) || (fam = parse_ip(a[1], src)) < 0 ||
            parse_ip(a[2], dst) != fam || parse_ip(a[3], isrc) != fam ||
            parse_ip(a[4], idst) != fam)
                return -1;
        if (fam == AF_INET) {
                icmp4_quoting(f, dmac, src, dst, 3, 3, zero, isrc, idst, (uint16_t)atoi(a[5]),
                              (uint16_t)atoi(a[6]));
        } else {
                uint8_t *p = ether(f, dmac, own_mac, ETHERTYPE_IPV6) + 40;
                uint8_t *in = p + 8;

                memset(p, 0, 8 + 48);
                p[0] = 1; /* destination unreachable */
                p[1] = 4; /* port unreachable */
                in[0] = 0x60;
                put16(in + 4, 8);
                in[6] = IPPROTO_UDP;
                in[7] = 64;
                memcpy(in + 8, isrc, 16);
                memcpy(in + 24, idst, 16);
                put16(in + 40, (uint16_t)atoi(a[5]));
                put16(in + 42, (uint16_t)atoi(a[6]));
                put16(in + 44, 8);
                ip_finish(f, AF_INET6, src, dst, IPPROTO_ICMPV6, 64, 8 + 48, 2);
        }
        return 0;
}

/* dhcp-offer SRC XID: a rogue server's OFFER, broadcast. */
static int
build_dhcp_offer(Frame *f, char **a, int n)
{
        static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
        uint8_t src[16], dst[4] = { 255, 255, 255, 255 }, b[300] = { 0 };

        if (n != 2 || parse_ip(a[0], src) != AF_INET)
                return -1;
        ether(f, bcast, own_mac, ETHERTYPE_IP);
        b[0] = 2; /* BOOTREPLY */
        b[1] = 1;
        b[2] = 6;
        put32(b + 4, (uint32_t)strtoul(a[1], NULL, 0));
        b[16] = 192; /* yiaddr 192.168.122.99 */
        b[17] = 168;
        b[18] = 122;
        b[19] = 99;
        memcpy(b + 20, src, 4);
        memcpy(b + 28, own_mac, 6);
        put32(b + 236, 0x63825363); /* magic cookie */
        b[240] = 53;                /* message type: offer */
        b[241] = 1;
        b[242] = 2;
        b[243] = 54; /* server identifier */
        b[244] = 4;
        memcpy(b + 245, src, 4);
        b[249] = 3; /* router */
        b[250] = 4;
        memcpy(b + 251, src, 4);
        b[255] = 255;
        udp_frame(f, AF_INET, src, dst, 67, 68, b, sizeof(b));
        return 0;
}

/* dhcp6-adv XID: a rogue DHCPv6 server's ADVERTISE to all nodes, from our link-local. */
static int
build_dhcp6_adv(Frame *f, char **a, int n)
{
        uint8_t src[16], dst[16] = { 0xff, 0x02, [15] = 1 }, dmac[6], b[18] = { 0 };
        uint32_t xid;

        if (n != 1)
                return -1;
        xid = (uint32_t)strtoul(a[0], NULL, 0);
        link_local(own_mac, src);
        multicast_mac6(dst, dmac);
        ether(f, dmac, own_mac, ETHERTYPE_IPV6);
        put32(b, 2u << 24 | (xid & 0xffffff)); /* ADVERTISE */
        put16(b + 4, 2);                       /* server identifier: DUID-LL */
        put16(b + 6, 10);
        put16(b + 8, 3);
        put16(b + 10, 1);
        memcpy(b + 12, own_mac, 6);
        udp_frame(f, AF_INET6, src, dst, 547, 546, b, sizeof(b));
        return 0;
}

/* ether TYPE DSTMAC TOKEN: a frame of any ethertype (hex) carrying the token. */
static int
build_ether(Frame *f, char **a, int n)
{
        uint8_t dmac[6], *p;
        size_t len;

        if (n != 3 || parse_mac(a[1], dmac))
                return -1;
        p = ether(f, dmac, own_mac, (uint16_t)strtoul(a[0], NULL, 16));
        memset(p, 0, 46);
        len = strlen(a[2]);
        if (len > 45)
                return -1;
        memcpy(p, a[2], len);
        f->len += 46;
        return 0;
}

static const struct {
        const char *kind;
        int (*build)(Frame *f, char **args, int n);
} builders[] = {
        { "udp", build_udp },
        { "arp", build_arp },
        { "na", build_na },
        { "ra", build_ra },
        { "redirect6", build_redirect6 },
        { "redirect4", build_redirect4 },
        { "icmp-err", build_icmp_err },
        { "dhcp-offer", build_dhcp_offer },
        { "dhcp6-adv", build_dhcp6_adv },
        { "ether", build_ether },
};

static int
open_iface(const char *ifname)
{
        struct ifreq ifr;
        int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));

        if (fd < 0)
                return -1;
        memset(&ifr, 0, sizeof(ifr));
        snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
        if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0) {
                close(fd);
                return -1;
        }
        own_ifindex = ifr.ifr_ifindex;
        if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
                close(fd);
                return -1;
        }
        memcpy(own_mac, ifr.ifr_hwaddr.sa_data, 6);
        return fd;
}

/* netprobe frame IFACE KIND ARGS...: sends the frame three times, 50 ms apart. */
int
netprobe_frame(int argc, char **argv)
{
        struct sockaddr_ll ll = { .sll_family = AF_PACKET };
        Frame f = { .len = 0 };
        int fd, rc = -1;

        if (argc < 2)
                return fail("frame: usage: netprobe frame IFACE KIND ARGS...");
        fd = open_iface(argv[0]);
        if (fd < 0)
                return fail("frame: cannot open a packet socket on the interface");
        for (size_t i = 0; i < sizeof(builders) / sizeof(builders[0]); i++)
                if (strcmp(argv[1], builders[i].kind) == 0)
                        rc = builders[i].build(&f, argv + 2, argc - 2);
        if (rc < 0) {
                close(fd);
                return fail("frame: unknown kind or bad arguments");
        }
        if (f.len < 60) {
                memset(f.b + f.len, 0, 60 - f.len);
                f.len = 60;
        }
        ll.sll_ifindex = own_ifindex;
        ll.sll_halen = 6;
        memcpy(ll.sll_addr, f.b, 6);
        for (int i = 0; i < 3; i++) {
                if (sendto(fd, f.b, f.len, 0, (struct sockaddr *)&ll, sizeof(ll)) < 0) {
                        close(fd);
                        return fail("frame: sendto failed");
                }
                usleep(50000);
        }
        close(fd);
        printf("sent %s %zu\n", argv[1], f.len);
        return 0;
}

/* ---- the observer ----------------------------------------------------- */

static void
ip_text(int family, const uint8_t *p, char *buf)
{
        inet_ntop(family, p, buf, INET6_ADDRSTRLEN);
}

/* The first word of a payload, in the token alphabet. */
static void
token_of(const uint8_t *p, size_t len, char *out, size_t olen)
{
        size_t i;

        for (i = 0; i < len && i + 1 < olen; i++) {
                char c = (char)p[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_'))
                        break;
                out[i] = c;
        }
        out[i] = '\0';
        if (i == 0)
                snprintf(out, olen, "-");
}

static void
log_l4(const char *src, int family, const uint8_t *saddr, uint8_t proto, const uint8_t *l4,
       size_t len)
{
        char from[INET6_ADDRSTRLEN], tok[64], a[INET6_ADDRSTRLEN];

        ip_text(family, saddr, from);
        if (proto == IPPROTO_UDP && len >= 8) {
                unsigned sport = l4[0] << 8 | l4[1], dport = l4[2] << 8 | l4[3];

                if (dport == SINK_PORT) {
                        token_of(l4 + 8, len - 8, tok, sizeof(tok));
                        printf("L2 kind=udp from=%s token=%s src=%s\n", from, tok, src);
                } else if (sport == 67 && dport == 68 && len >= 16) {
                        printf("L2 kind=dhcp-server from=%s xid=0x%02x%02x%02x%02x src=%s\n", from,
                               l4[12], l4[13], l4[14], l4[15], src);
                } else if (sport == 547 && dport == 546 && len >= 12) {
                        printf("L2 kind=dhcp6-server from=%s type=%u xid=0x%02x%02x%02x src=%s\n",
                               from, l4[8], l4[9], l4[10], l4[11], src);
                }
                return;
        }
        if (proto == IPPROTO_ICMP && len >= 8) {
                if (l4[0] == 5)
                        printf("L2 kind=redirect4 from=%s src=%s\n", from, src);
                else if (l4[0] == 3 && len >= 8 + 28)
                        printf("L2 kind=icmp-err from=%s dport=%u src=%s\n", from,
                               l4[8 + 22] << 8 | l4[8 + 23], src);
                return;
        }
        if (proto == IPPROTO_ICMPV6 && len >= 4) {
                if (l4[0] == 134) {
                        /* the first prefix information option tells whose it is */
                        size_t o = 16;
                        snprintf(a, sizeof(a), "-");
                        while (o + 8 <= len && l4[o + 1] != 0) {
                                if (l4[o] == 3 && o + 32 <= len) {
                                        ip_text(AF_INET6, l4 + o + 16, a);
                                        break;
                                }
                                o += l4[o + 1] * 8u;
                        }
                        printf("L2 kind=ra from=%s prefix=%s src=%s\n", from, a, src);
                } else if (l4[0] == 137) {
                        printf("L2 kind=redirect6 from=%s src=%s\n", from, src);
                } else if (l4[0] == 136 && len >= 24) {
                        ip_text(AF_INET6, l4 + 8, a);
                        printf("L2 kind=na from=%s target=%s src=%s\n", from, a, src);
                } else if (l4[0] == 1 && len >= 8 + 44) {
                        printf("L2 kind=icmp-err from=%s dport=%u src=%s\n", from,
                               l4[8 + 42] << 8 | l4[8 + 43], src);
                }
        }
}

static void
log_frame(const uint8_t *b, size_t len)
{
        char src[18], sha[18], spa[INET6_ADDRSTRLEN], tpa[INET6_ADDRSTRLEN], tok[64];
        uint16_t type;

        if (len < 14)
                return;
        format_mac(b + 6, src);
        type = (uint16_t)(b[12] << 8 | b[13]);
        if (type == ETHERTYPE_ARP && len >= 14 + 28) {
                format_mac(b + 14 + 8, sha);
                ip_text(AF_INET, b + 14 + 14, spa);
                ip_text(AF_INET, b + 14 + 24, tpa);
                printf("L2 kind=arp op=%u sha=%s spa=%s tpa=%s src=%s\n", b[14 + 7], sha, spa, tpa,
                       src);
        } else if (type == ETHERTYPE_IP && len >= 14 + 20) {
                size_t hl = (b[14] & 0xf) * 4u;
                if (len >= 14 + hl)
                        log_l4(src, AF_INET, b + 14 + 12, b[14 + 9], b + 14 + hl, len - 14 - hl);
        } else if (type == ETHERTYPE_IPV6 && len >= 14 + 40) {
                log_l4(src, AF_INET6, b + 14 + 8, b[14 + 6], b + 14 + 40, len - 14 - 40);
        } else if (type != ETHERTYPE_IP && type != ETHERTYPE_IPV6 && type >= 0x600) {
                token_of(b + 14, len - 14, tok, sizeof(tok));
                printf("L2 kind=ether type=0x%04x token=%s src=%s\n", type, tok, src);
        }
}

/* netprobe sniff IFACE: one line per frame of interest received (not sent) there, until
 * killed; also binds the sink port so that datagrams to it draw no ICMP error. */
int
netprobe_sniff(int argc, char **argv)
{
        struct sockaddr_ll ll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
        struct sockaddr_in6 sink = { .sin6_family = AF_INET6, .sin6_port = htons(SINK_PORT) };
        struct pollfd p[2];
        uint8_t buf[2048];
        int fd, sfd, zero = 0;

        if (argc != 1)
                return fail("sniff: usage: netprobe sniff IFACE");
        fd = open_iface(argv[0]);
        if (fd < 0)
                return fail("sniff: cannot open a packet socket on the interface");
        ll.sll_ifindex = own_ifindex;
        if (bind(fd, (struct sockaddr *)&ll, sizeof(ll)) < 0)
                return fail("sniff: cannot bind the packet socket");
        sfd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        setsockopt(sfd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
        if (sfd < 0 || bind(sfd, (struct sockaddr *)&sink, sizeof(sink)) < 0)
                return fail("sniff: cannot bind the sink port");
        printf("L2 kind=listening src=-\n");
        p[0] = (struct pollfd){ .fd = fd, .events = POLLIN };
        p[1] = (struct pollfd){ .fd = sfd, .events = POLLIN };
        for (;;) {
                struct sockaddr_ll from;
                socklen_t flen = sizeof(from);
                ssize_t n;

                if (poll(p, 2, -1) < 0 && errno != EINTR)
                        return 1;
                if (p[1].revents & POLLIN && recv(sfd, buf, sizeof(buf), 0) < 0)
                        continue;
                if (!(p[0].revents & POLLIN))
                        continue;
                n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen);
                if (n < 0 || from.sll_pkttype == PACKET_OUTGOING)
                        continue;
                log_frame(buf, (size_t)n);
        }
}
