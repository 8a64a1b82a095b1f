/* The elements of a bridged guest's port (doc/bridged-design.md, "What the
 * hook writes per event"): in table bridge the port, its MAC (also as the
 * DHCP client hardware address), its tenant and flow id, and per bound
 * address the port's claim; in table inet, per bound address, the guest
 * keyed by bridge and address, and the network's DNS and DHCP for it. */
#include "autoconfig.h"

#include <net/if.h>
#include <string.h>

#include "nft/nft-bridged.h"

static void
element_free(gpointer data)
{
        NetisoNftElement *e = data;

        g_free(e->set);
        g_free(e->text);
        g_free(e->text_key);
        g_free(e->listed);
        g_free(e->jump);
        g_free(e);
}

/* The key of one element, built field by field: the text nft writes, the
 * text its JSON listing gives back, and the bytes, each field padded to 4
 * bytes as nf_tables concatenations are. */
typedef struct {
        GString *text, *listed;
        guint8 bytes[NETISO_NFT_KEY_MAX];
        gsize len;
} Key;

static void
key_init(Key *k)
{
        k->text = g_string_new(NULL);
        k->listed = g_string_new(NULL);
        k->len = 0;
}

static void
key_clear(Key *k)
{
        g_string_free(k->text, TRUE);
        g_string_free(k->listed, TRUE);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Key, key_clear)

static void
field(Key *k, const char *text, const char *listed, const void *bytes, gsize len)
{
        if (k->text->len) {
                g_string_append(k->text, " . ");
                g_string_append(k->listed, " . ");
        }
        g_string_append(k->text, text);
        g_string_append(k->listed, listed ? listed : text);
        g_assert(k->len + ((len + 3) & ~(gsize)3) <= NETISO_NFT_KEY_MAX);
        memset(k->bytes + k->len, 0, (len + 3) & ~(gsize)3);
        memcpy(k->bytes + k->len, bytes, len);
        k->len += (len + 3) & ~(gsize)3;
}

static void
field_ifname(Key *k, const char *name)
{
        guint8 b[IFNAMSIZ] = { 0 };
        g_autofree char *q = g_strdup_printf("\"%s\"", name);

        memcpy(b, name, MIN(strlen(name), IFNAMSIZ - 1));
        field(k, q, NULL, b, IFNAMSIZ);
}

static void
field_addr(Key *k, const NetisoCidr *c)
{
        g_autofree char *s = netiso_cidr_to_string(c, /* with_host_prefix */ FALSE);

        field(k, s, NULL, c->bytes, c->family == NETISO_FAMILY_IPV4 ? 4 : 16);
}

/* A raw payload field (big-endian bytes): nft's syntax takes it as one
 * integer; its JSON listing prints one that fits 64 bits in decimal and a
 * larger one in hex without leading zeros. */
static void
field_raw(Key *k, const guint8 *bytes, gsize len)
{
        g_autoptr(GString) hex = g_string_new("0x");
        g_autoptr(GString) listed = g_string_new(NULL);
        guint64 v = 0;
        gsize first = 0;

        for (gsize i = 0; i < len; i++)
                g_string_append_printf(hex, "%02x", bytes[i]);
        while (first < len && bytes[first] == 0)
                first++;
        if (len - first <= 8) {
                for (gsize i = first; i < len; i++)
                        v = v << 8 | bytes[i];
                g_string_append_printf(listed, "%" G_GUINT64_FORMAT, v);
        } else {
                g_string_append_printf(listed, "0x%x", bytes[first]);
                for (gsize i = first + 1; i < len; i++)
                        g_string_append_printf(listed, "%02x", bytes[i]);
        }
        field(k, hex->str, listed->str, bytes, len);
}

static gboolean
parse_mac(const char *mac, guint8 ret[6])
{
        for (int i = 0; i < 6; i++) {
                int hi = g_ascii_xdigit_value(mac[3 * i]),
                    lo = g_ascii_xdigit_value(mac[3 * i + 1]);
                if (hi < 0 || lo < 0)
                        return FALSE;
                ret[i] = (guint8)(hi << 4 | lo);
        }
        return TRUE;
}

/* Adds one element; value (the map's data as text) NULL for a set. */
static NetisoNftElement *
add(GPtrArray *out, gboolean bridge, const char *set, Key *k, const char *value)
{
        NetisoNftElement *e = g_new0(NetisoNftElement, 1);

        e->bridge = bridge;
        e->set = g_strdup(set);
        e->text_key = g_strdup(k->text->str);
        e->text = value ? g_strdup_printf("%s : %s", k->text->str, value) : g_strdup(k->text->str);
        e->listed = value ? g_strdup_printf("%s : %s", k->listed->str, value)
                          : g_strdup(k->listed->str);
        memcpy(e->key, k->bytes, k->len);
        e->key_len = k->len;
        g_ptr_array_add(out, e);
        return e;
}

static void
add_jump(GPtrArray *out, gboolean bridge, const char *set, Key *k, const char *chain)
{
        g_autofree char *value = g_strdup_printf("jump %s", chain);

        add(out, bridge, set, k, value)->jump = g_strdup(chain);
}

/* A zone is 2 bytes and a mark 4, in host byte order, as nft encodes them. */
static void
add_id(GPtrArray *out, gboolean bridge, const char *set, Key *k, guint16 id, gboolean zone)
{
        g_autofree char *value = g_strdup_printf("%u", id);
        NetisoNftElement *e = add(out, bridge, set, k, value);
        guint32 mark = id;

        e->data_len = zone ? sizeof(id) : sizeof(mark);
        memcpy(e->data, zone ? (const void *)&id : (const void *)&mark, e->data_len);
}

/* ifname (. more) . id: the flow id as the last field of a key. */
static void
add_id_key(GPtrArray *out, gboolean bridge, const char *set, Key *k, guint16 id, gboolean zone)
{
        g_auto(Key) full;
        g_autofree char *text = g_strdup_printf("%u", id);
        guint32 mark = id;

        key_init(&full);
        g_string_append(full.text, k->text->str);
        g_string_append(full.listed, k->listed->str);
        memcpy(full.bytes, k->bytes, k->len);
        full.len = k->len;
        field(&full, text, NULL, zone ? (const void *)&id : (const void *)&mark,
              zone ? sizeof(id) : sizeof(mark));
        add(out, bridge, set, &full, NULL);
}

static void
port_elements(GPtrArray *out, const NetisoRecordPort *p, const char *tenant, guint16 flow_id)
{
        g_autofree char *tchain = g_strdup_printf("tenant-%s", tenant);
        g_autofree char *tset = g_strdup_printf("tenant-%s-ifs", tenant);
        g_autofree char *mac_text = g_ascii_strdown(p->mac, -1);
        g_auto(Key) port;
        g_auto(Key) mac;
        g_auto(Key) chaddr;
        guint8 m[6] = { 0 };

        key_init(&port);
        key_init(&mac);
        key_init(&chaddr);
        field_ifname(&port, p->tap);
        parse_mac(p->mac, m);
        field_ifname(&mac, p->tap);
        field(&mac, mac_text, NULL, m, 6);
        field_ifname(&chaddr, p->tap);
        field_raw(&chaddr, m, 6);
        add(out, TRUE, "guest_ifs", &port, NULL);
        add(out, TRUE, "guest_drops", &port, NULL)->counter = TRUE;
        add(out, TRUE, "guest_mac", &mac, NULL);
        add(out, TRUE, "dhcp_chaddr", &chaddr, NULL);
        add_jump(out, TRUE, "guest_tenant", &port, tchain);
        add(out, TRUE, tset, &port, NULL);
        if (flow_id) {
                add_id(out, TRUE, "zone_by_port", &port, flow_id, /* zone */ TRUE);
                add_id(out, TRUE, "mark_by_port", &port, flow_id, /* zone */ FALSE);
                add_id_key(out, TRUE, "flow_zone", &port, flow_id, /* zone */ TRUE);
                add_id_key(out, TRUE, "flow_mark", &port, flow_id, /* zone */ FALSE);
        }
}

#define NETISO_NFT_SERVICE_ADDRS 16 /* a network's own addresses served, per family */

typedef struct {
        const NetisoCidr *dst;
        const char *proto;
        guint16 port;
} Service;

/* The network's DNS and DHCP for one bound address (the inet table's
 * guest_to_host accepts them without an allowed port). */
static void
service_elements(GPtrArray *out, const NetisoRecordPort *p, const NetisoCidr *a, const char *set)
{
        static const guint8 bcast4[4] = { 255, 255, 255, 255 };
        static const guint8 dhcp6[16] = { 0xff, 0x02, [13] = 1, [15] = 2 };
        const NetisoNetServices *s = &p->services;
        gboolean v4 = a->family == NETISO_FAMILY_IPV4;
        Service list[3 * NETISO_NFT_SERVICE_ADDRS + 1];
        NetisoCidr any = { .family = a->family, .prefix = v4 ? 32 : 128 };
        guint n = 0;

        memcpy(any.bytes, v4 ? bcast4 : dhcp6, v4 ? 4 : 16);
        for (guint i = 0; i < s->addresses->len && n + 4 <= G_N_ELEMENTS(list); i++) {
                const NetisoCidr *d = &g_array_index(s->addresses, NetisoCidr, i);

                if (d->family != a->family)
                        continue;
                if (s->dns) {
                        list[n++] = (Service){ d, "udp", 53 };
                        list[n++] = (Service){ d, "tcp", 53 };
                }
                if (v4 && s->dhcp4)
                        list[n++] = (Service){ d, "udp", 67 };
        }
        if (v4 && s->dhcp4)
                list[n++] = (Service){ &any, "udp", 67 };
        if (!v4 && s->dhcp6)
                list[n++] = (Service){ &any, "udp", 547 };
        for (guint i = 0; i < n; i++) {
                g_auto(Key) k;
                guint8 proto = g_str_equal(list[i].proto, "udp") ? 17 : 6;
                guint16 port = g_htons(list[i].port);
                g_autofree char *port_text = g_strdup_printf("%u", list[i].port);

                key_init(&k);
                field_ifname(&k, p->bridge);
                field_addr(&k, a);
                field_addr(&k, list[i].dst);
                field(&k, list[i].proto, NULL, &proto, 1);
                field(&k, port_text, NULL, &port, 2);
                add(out, FALSE, set, &k, NULL);
        }
}

static void
address_elements(GPtrArray *out, const NetisoRecordPort *p, const char *tenant, guint16 flow_id,
                 const NetisoCidr *a)
{
        const char *v = a->family == NETISO_FAMILY_IPV4 ? "v4" : "v6";
        g_autofree char *tchain = g_strdup_printf("tenant-%s", tenant);
        g_autofree char *tset = g_strdup_printf("tenant-%s-%s", tenant, v);
        g_autofree char *src = g_strdup_printf("guest_src_%s", v);
        g_autofree char *owned = g_strdup_printf("owned_%s", v);
        g_autofree char *owner = g_strdup_printf("addr_owner_%s", v);
        g_autofree char *gtenant = g_strdup_printf("guest_tenant_%s", v);
        g_autofree char *drops = g_strdup_printf("guest_drops_%s", v);
        g_autofree char *zone = g_strdup_printf("zone_by_addr_%s", v);
        g_autofree char *mark = g_strdup_printf("mark_by_addr_%s", v);
        g_autofree char *fzone = g_strdup_printf("flow_zone_%s", v);
        g_autofree char *fmark = g_strdup_printf("flow_mark_%s", v);
        g_autofree char *services = g_strdup_printf("net_services_%s", v);
        g_autofree char *qtap = g_strdup_printf("\"%s\"", p->tap);
        g_auto(Key) port_addr;
        g_auto(Key) addr;
        g_auto(Key) br_addr;

        key_init(&port_addr);
        key_init(&addr);
        key_init(&br_addr);
        field_ifname(&port_addr, p->tap);
        field_addr(&port_addr, a);
        field_addr(&addr, a);
        field_ifname(&br_addr, p->bridge);
        field_addr(&br_addr, a);
        /* table bridge: the port may send from it, nobody else may */
        add(out, TRUE, src, &port_addr, NULL);
        add(out, TRUE, owned, &addr, NULL);
        if (a->family == NETISO_FAMILY_IPV6) {
                g_auto(Key) target;
                g_auto(Key) owned_nd;

                key_init(&target);
                key_init(&owned_nd);
                field_ifname(&target, p->tap);
                field_raw(&target, a->bytes, 16);
                field_raw(&owned_nd, a->bytes, 16);
                add(out, TRUE, "nd_target_v6", &target, NULL);
                add(out, TRUE, "owned_nd_v6", &owned_nd, NULL);
        }
        /* table inet: the guest, by bridge and address */
        add(out, FALSE, src, &br_addr, NULL);
        {
                NetisoNftElement *e = add(out, FALSE, owner, &addr, qtap);
                guint8 b[IFNAMSIZ] = { 0 };

                memcpy(b, p->tap, MIN(strlen(p->tap), IFNAMSIZ - 1));
                memcpy(e->data, b, IFNAMSIZ);
                e->data_len = IFNAMSIZ;
        }
        add_jump(out, FALSE, gtenant, &br_addr, tchain);
        add(out, FALSE, tset, &br_addr, NULL);
        {
                NetisoNftElement *e = add(out, FALSE, drops, &br_addr, NULL);

                e->counter = TRUE;
                e->has_addr = TRUE;
                e->addr = *a;
        }
        if (flow_id) {
                add_id(out, FALSE, zone, &br_addr, flow_id, /* zone */ TRUE);
                add_id(out, FALSE, mark, &br_addr, flow_id, /* zone */ FALSE);
                add_id_key(out, FALSE, fzone, &br_addr, flow_id, /* zone */ TRUE);
                add_id_key(out, FALSE, fmark, &br_addr, flow_id, /* zone */ FALSE);
        }
        service_elements(out, p, a, services);
}

GPtrArray *
netiso_nft_bridged_elements(const NetisoRecordPort *p, const char *tenant, guint16 flow_id)
{
        GPtrArray *out = g_ptr_array_new_with_free_func(element_free);

        g_return_val_if_fail(p->bridge && p->mac, out);
        port_elements(out, p, tenant, flow_id);
        for (guint i = 0; i < p->addresses->len; i++)
                address_elements(out, p, tenant, flow_id,
                                 &g_array_index(p->addresses, NetisoCidr, i));
        return out;
}

gboolean
netiso_nft_counter_kept(const NetisoNftElement *e, const NetisoRecordPort *p,
                        const NetisoPolicy *keep)
{
        for (guint i = 0; e->counter && keep && i < keep->ports->len; i++) {
                const NetisoPolicyPort *k = g_ptr_array_index(keep->ports, i);

                if (g_strcmp0(k->tap, p->tap) != 0)
                        continue;
                if (!e->has_addr)
                        return TRUE;
                for (guint a = 0; a < k->addresses->len; a++)
                        if (netiso_cidr_equal(&g_array_index(k->addresses, NetisoCidr, a),
                                              &e->addr))
                                return TRUE;
                return FALSE;
        }
        return FALSE;
}
