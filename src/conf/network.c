/* libvirt's network status file read into a NetisoNetwork: only what
 * bridged guests need (the bridge, its addresses, DNS and DHCP, the IPv4
 * reservations). Everything else libvirt writes there is ignored. */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "conf/network.h"
#include "conf/xml-reader.h"
#include "util/error.h"
#include "util/input.h"
#include "util/names.h"
#include "util/quote.h"

static const NetisoXmlLimits network_xml_limits = {
        .max_bytes = NETISO_NETWORK_XML_MAX,
        .max_depth = 64,
        .max_elements = 4 * NETISO_NETWORK_HOSTS_MAX,
        .max_attrs = 64,
};

static gboolean G_GNUC_PRINTF(3, 4) fail(GError **error, const char *where, const char *fmt, ...)
{
        g_autofree char *what = NULL;
        va_list ap;

        va_start(ap, fmt);
        what = g_strdup_vprintf(fmt, ap);
        va_end(ap);
        g_set_error(error, NETISO_ERROR, NETISO_ERROR_DOMAIN, "%s: %s", where, what);
        return FALSE;
}

static const char *
libvirt_root(void)
{
        const char *root = g_getenv("BLIXARD_NETISO_LIBVIRT_ROOT");

        return root && *root ? root : "/";
}

char *
netiso_network_status_path(const char *name)
{
        g_autofree char *file = g_strconcat(name, ".xml", NULL);

        return g_build_filename(libvirt_root(), "run", "libvirt", "network", file, NULL);
}

char *
netiso_network_leases_path(const char *bridge)
{
        g_autofree char *file = g_strconcat(bridge, ".status", NULL);

        return g_build_filename(libvirt_root(), "var", "lib", "libvirt", "dnsmasq", file, NULL);
}

void
netiso_network_free(NetisoNetwork *net)
{
        if (!net)
                return;
        g_free(net->name);
        g_free(net->forward);
        g_free(net->bridge);
        g_clear_pointer(&net->addresses, g_array_unref);
        g_clear_pointer(&net->prefixes, g_array_unref);
        g_clear_pointer(&net->ra_only_v6, g_array_unref);
        if (net->hosts) {
                for (guint i = 0; i < net->hosts->len; i++)
                        g_free(g_array_index(net->hosts, NetisoNetworkHost, i).mac);
                g_array_unref(net->hosts);
        }
        g_free(net);
}

static const NetisoXmlNode *
child(const NetisoXmlNode *parent, const char *name)
{
        for (const NetisoXmlNode *n = parent->children; n; n = n->next)
                if (netiso_xml_node_is(n, NULL, name))
                        return n;
        return NULL;
}

/* A netmask "255.255.255.0" as a prefix length; FALSE unless contiguous. */
static gboolean
netmask_prefix(const char *text, unsigned *ret_prefix)
{
        NetisoCidr mask;
        unsigned bits = 0;
        gboolean ended = FALSE;

        if (!netiso_addr_parse(text, &mask, NULL) || mask.family != NETISO_FAMILY_IPV4)
                return FALSE;
        for (unsigned i = 0; i < 32; i++) {
                gboolean set = (mask.bytes[i / 8] >> (7 - i % 8)) & 1;
                if (set && ended)
                        return FALSE;
                if (set)
                        bits++;
                else
                        ended = TRUE;
        }
        *ret_prefix = bits;
        return TRUE;
}

static gboolean
read_host(const char *where, NetisoNetwork *net, const NetisoXmlNode *host, GError **error)
{
        const char *mac = netiso_xml_node_attr(host, "mac");
        const char *ip = netiso_xml_node_attr(host, "ip");
        NetisoNetworkHost h = { 0 };

        /* IPv6 reservations name a DUID (id=) or a host name, never a MAC. */
        if (!mac || !ip)
                return TRUE;
        if (netiso_mac_problem(mac)) {
                g_autofree char *value = netiso_quote(mac);
                return fail(error, where, "dhcp host mac '%s' is invalid", value);
        }
        if (!netiso_addr_parse(ip, &h.addr, NULL) || h.addr.family != NETISO_FAMILY_IPV4) {
                g_autofree char *value = netiso_quote(ip);
                return fail(error, where, "dhcp host ip '%s' is not an IPv4 address", value);
        }
        if (net->hosts->len >= NETISO_NETWORK_HOSTS_MAX)
                return fail(error, where, "more than %d dhcp hosts", NETISO_NETWORK_HOSTS_MAX);
        h.mac = g_ascii_strdown(mac, -1);
        g_array_append_val(net->hosts, h);
        return TRUE;
}

/* <ip address= (netmask=|prefix=) family=><dhcp><range/><host/></dhcp></ip> */
static gboolean
read_ip(const char *where, NetisoNetwork *net, const NetisoXmlNode *ip, GError **error)
{
        const char *address = netiso_xml_node_attr(ip, "address");
        const char *netmask = netiso_xml_node_attr(ip, "netmask");
        const char *prefix = netiso_xml_node_attr(ip, "prefix");
        const NetisoXmlNode *dhcp = child(ip, "dhcp");
        g_autofree char *value = netiso_quote(address ? address : "");
        NetisoCidr addr;
        unsigned bits;
        guint64 n = 0;
        gboolean v4;

        if (!address || !netiso_addr_parse(address, &addr, NULL))
                return fail(error, where, "ip address '%s' is not an IPv4 or IPv6 address", value);
        v4 = addr.family == NETISO_FAMILY_IPV4;
        bits = v4 ? 24 : 64;
        if (netmask && (!v4 || !netmask_prefix(netmask, &bits)))
                return fail(error, where, "ip address '%s' has an invalid netmask", value);
        if (prefix &&
            (!g_ascii_string_to_unsigned(prefix, 10, 0, netiso_family_bits(addr.family), &n, NULL)))
                return fail(error, where, "ip address '%s' has an invalid prefix", value);
        if (prefix)
                bits = (unsigned)n;
        g_array_append_val(net->addresses, addr);
        {
                NetisoCidr pfx = addr;

                for (unsigned b = bits; b < netiso_family_bits(addr.family); b++)
                        pfx.bytes[b / 8] &= (guint8) ~(0x80u >> (b % 8));
                pfx.prefix = bits;
                g_array_append_val(net->prefixes, pfx);
        }
        if (v4 && dhcp)
                net->dhcp4 = TRUE;
        if (!v4 && dhcp)
                net->dhcp6 = TRUE;
        if (!v4 && !dhcp) {
                NetisoCidr pfx = addr;
                /* Clear the host bits: the prefix SLAAC addresses are formed in. */
                for (unsigned b = bits; b < 128; b++)
                        pfx.bytes[b / 8] &= (guint8) ~(0x80u >> (b % 8));
                pfx.prefix = bits;
                g_array_append_val(net->ra_only_v6, pfx);
        }
        for (const NetisoXmlNode *h = dhcp ? dhcp->children : NULL; v4 && h; h = h->next)
                if (netiso_xml_node_is(h, NULL, "host") && !read_host(where, net, h, error))
                        return FALSE;
        return TRUE;
}

static gboolean
read_network(const char *filename, NetisoNetwork *net, const NetisoXmlNode *node, GError **error)
{
        const NetisoXmlNode *name = child(node, "name");
        const NetisoXmlNode *forward = child(node, "forward");
        const NetisoXmlNode *bridge = child(node, "bridge");
        const NetisoXmlNode *dns = child(node, "dns");
        g_autofree char *where = NULL;

        if (!name)
                return fail(error, filename, "network has no <name>");
        net->name = netiso_xml_node_text(name);
        where = g_strdup_printf("%s: network '%s'", filename, net->name);
        net->forward = g_strdup(forward && netiso_xml_node_attr(forward, "mode")
                                        ? netiso_xml_node_attr(forward, "mode")
                                : forward ? "nat"
                                          : "none");
        if (bridge && netiso_xml_node_attr(bridge, "name")) {
                const char *b = netiso_xml_node_attr(bridge, "name");
                const char *why = netiso_ifname_problem(b);
                if (why) {
                        g_autofree char *value = netiso_quote(b);
                        return fail(error, where, "bridge name '%s' is invalid: %s", value, why);
                }
                net->bridge = g_strdup(b);
        }
        net->dns = !(dns && g_strcmp0(netiso_xml_node_attr(dns, "enable"), "no") == 0);
        for (const NetisoXmlNode *n = node->children; n; n = n->next)
                if (netiso_xml_node_is(n, NULL, "ip") && !read_ip(where, net, n, error))
                        return FALSE;
        return TRUE;
}

NetisoNetwork *
netiso_network_new_from_xml(const char *filename, const char *xml, gsize len, GError **error)
{
        g_autoptr(NetisoXmlDoc) doc = NULL;
        g_autoptr(NetisoNetwork) net = g_new0(NetisoNetwork, 1);
        const NetisoXmlNode *root;

        net->addresses = g_array_new(FALSE, FALSE, sizeof(NetisoCidr));
        net->prefixes = g_array_new(FALSE, FALSE, sizeof(NetisoCidr));
        net->ra_only_v6 = g_array_new(FALSE, FALSE, sizeof(NetisoCidr));
        net->hosts = g_array_new(FALSE, FALSE, sizeof(NetisoNetworkHost));
        doc = netiso_xml_doc_new_from_data(filename, xml, len, &network_xml_limits, error);
        if (!doc)
                return NULL;
        root = netiso_xml_doc_root(doc);
        /* libvirt's status file wraps the live definition. */
        if (netiso_xml_node_is(root, NULL, "networkstatus"))
                root = child(root, "network");
        if (!root || !netiso_xml_node_is(root, NULL, "network")) {
                fail(error, filename, "no <network> element");
                return NULL;
        }
        if (!read_network(filename, net, root, error))
                return NULL;
        return g_steal_pointer(&net);
}

NetisoNetwork *
netiso_network_new_for_name(const char *name, GError **error)
{
        g_autofree char *path = netiso_network_status_path(name);
        g_autoptr(GString) buf = g_string_new(NULL);
        int fd, err;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                err = errno;
                fail(error, path,
                     "cannot read the status of libvirt network '%s' (is it running?): %s", name,
                     g_strerror(err));
                return NULL;
        }
        err = netiso_read_bounded(fd, NETISO_NETWORK_XML_MAX, /* drain */ FALSE, buf);
        close(fd);
        if (err) {
                fail(error, path, "cannot read: %s", g_strerror(err));
                return NULL;
        }
        return netiso_network_new_from_xml(path, buf->str, buf->len, error);
}

gboolean
netiso_network_has_services(const NetisoNetwork *net)
{
        return net->addresses->len > 0 && (net->dns || net->dhcp4 || net->dhcp6);
}

gboolean
netiso_network_is_private(const NetisoNetwork *net)
{
        static const char *const modes[] = { "none", "nat", "route", "open" };

        for (gsize i = 0; i < G_N_ELEMENTS(modes); i++)
                if (g_str_equal(net->forward, modes[i]))
                        return TRUE;
        return FALSE;
}

const NetisoCidr *
netiso_network_reservation(const NetisoNetwork *net, const char *mac)
{
        for (guint i = 0; mac && i < net->hosts->len; i++) {
                const NetisoNetworkHost *h = &g_array_index(net->hosts, NetisoNetworkHost, i);
                if (g_ascii_strcasecmp(h->mac, mac) == 0)
                        return &h->addr;
        }
        return NULL;
}
