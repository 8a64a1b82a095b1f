/* Domain XML reader: the XML libvirt gives the hook becomes a NetisoDomain.
 * Tenant and tap names are validated here, before any renderer sees them;
 * the XML itself is parsed by xml-reader.c with hostile-input limits. */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "conf/domain.h"
#include "conf/xml-reader.h"
#include "util/error.h"
#include "util/input.h"
#include "util/names.h"
#include "util/quote.h"

#define TYPE_NAME_MAX 32
#define FILTER_NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"

static const NetisoXmlLimits domain_xml_limits = {
        .max_bytes = NETISO_DOMAIN_XML_MAX,
        .max_depth = NETISO_DOMAIN_XML_DEPTH_MAX,
        .max_elements = NETISO_DOMAIN_XML_ELEMENTS_MAX,
        .max_attrs = NETISO_DOMAIN_XML_ATTRS_MAX,
};

static const char *const iface_type_names[_NETISO_IFACE_MAX] = {
        [NETISO_IFACE_ETHERNET] = "ethernet", [NETISO_IFACE_BRIDGE] = "bridge",
        [NETISO_IFACE_NETWORK] = "network",   [NETISO_IFACE_DIRECT] = "direct",
        [NETISO_IFACE_HOSTDEV] = "hostdev",   [NETISO_IFACE_VHOSTUSER] = "vhostuser",
        [NETISO_IFACE_USER] = "user",         [NETISO_IFACE_OTHER] = "other",
};

/* Every semantic error is "WHERE: WHAT", WHERE naming the domain and the part. */
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

gboolean
netiso_iface_type_is_bridged(NetisoIfaceType type)
{
        return type == NETISO_IFACE_BRIDGE || type == NETISO_IFACE_NETWORK;
}

gboolean
netiso_iface_type_is_filterable(NetisoIfaceType type)
{
        return type == NETISO_IFACE_ETHERNET || type == NETISO_IFACE_BRIDGE ||
               type == NETISO_IFACE_NETWORK;
}

const char *
netiso_iface_type_to_string(NetisoIfaceType type)
{
        if ((unsigned)type >= _NETISO_IFACE_MAX)
                return "invalid";
        return iface_type_names[type];
}

/* type_name goes into messages and logs: keep it to the shape libvirt writes. */
static gboolean
type_name_ok(const char *name)
{
        if (!*name || strlen(name) > TYPE_NAME_MAX)
                return FALSE;
        for (const char *p = name; *p; p++)
                if (!g_ascii_islower(*p) && !g_ascii_isdigit(*p) && *p != '-' && *p != '_')
                        return FALSE;
        return TRUE;
}

static NetisoIfaceType
iface_type_from_string(const char *name)
{
        for (int t = 0; t < NETISO_IFACE_OTHER; t++)
                if (strcmp(name, iface_type_names[t]) == 0)
                        return t;
        return NETISO_IFACE_OTHER;
}

/* ---- small readers ---- */

/* libvirt's own elements and attributes are in no namespace. */
static gboolean
is_element(const NetisoXmlNode *node, const char *name)
{
        return netiso_xml_node_is(node, NULL, name);
}

static char *
attr(const NetisoXmlNode *node, const char *name)
{
        return g_strdup(netiso_xml_node_attr(node, name));
}

/* The child element called name, NULL if none. libvirt writes at most one;
 * two would leave us guessing which one libvirt used. */
static gboolean
only_child(const char *where, const NetisoXmlNode *parent, const char *name,
           const NetisoXmlNode **ret, GError **error)
{
        const NetisoXmlNode *found = NULL;

        for (const NetisoXmlNode *n = parent->children; n; n = n->next) {
                if (!is_element(n, name))
                        continue;
                if (found)
                        return fail(error, where, "more than one <%s>", name);
                found = n;
        }
        *ret = found;
        return TRUE;
}

/* ---- interfaces ---- */

typedef struct {
        const char *where; /* "domain 'web1': interface 0" */
        NetisoIface *iface;
} IfaceReader;

/* Why text is not one address a guest may own, NULL when it is. A peer may
 * be written with a full-length prefix ("10.0.0.5/32"); a shorter one is a network. */
static const char *
guest_addr_problem(const char *text, gboolean allow_host_prefix, gboolean link_local,
                   NetisoCidr *ret)
{
        g_autofree char *host = g_strdup(text);
        char *slash = strchr(host, '/');
        NetisoCidr addr;

        if (slash && allow_host_prefix)
                *slash = '\0';
        if (!netiso_addr_parse(host, &addr, NULL))
                return slash ? "is a network, not a single address"
                             : "is not an IPv4 or IPv6 address";
        if (slash && allow_host_prefix) {
                g_autofree char *full = g_strdup_printf("%u", netiso_family_bits(addr.family));
                if (strcmp(slash + 1, full) != 0)
                        return "is a network, not a single address";
        }
        *ret = addr;
        /* On a bridge a guest's IPv6 link-local address is its own too: a
         * guest with stable-privacy addresses declares it (man page). */
        if (link_local && netiso_addr_is_link_local_v6(&addr))
                return NULL;
        return netiso_addr_guest_refusal(&addr);
}

static gboolean
add_guest_addr(const IfaceReader *r, const char *what, const char *text, gboolean allow_host_prefix,
               NetisoFamily family, GError **error)
{
        GArray *list = r->iface->addresses;
        g_autofree char *value = netiso_quote(text);
        const char *why;
        NetisoCidr addr;

        why = guest_addr_problem(text, allow_host_prefix,
                                 netiso_iface_type_is_bridged(r->iface->type), &addr);
        if (why)
                return fail(error, r->where, "%s '%s' %s", what, value, why);
        if (addr.family != family)
                return fail(error, r->where, "%s '%s' is not an IPv%d address", what, value,
                            (int)family);
        for (guint i = 0; i < list->len; i++)
                if (netiso_cidr_equal(&g_array_index(list, NetisoCidr, i), &addr))
                        return TRUE;
        if (list->len >= NETISO_IFACE_ADDR_MAX)
                return fail(error, r->where, "more than %d guest addresses", NETISO_IFACE_ADDR_MAX);
        g_array_append_val(list, addr);
        return TRUE;
}

/* <source><ip address=HOST family=.. prefix=.. peer=GUEST/>: the host end of a
 * routed tap and, in peer, the guest's end. */
static gboolean
read_source_ip(const IfaceReader *r, const NetisoXmlNode *ip, GError **error)
{
        g_autofree char *address = attr(ip, "address");
        g_autofree char *family = attr(ip, "family");
        g_autofree char *peer = attr(ip, "peer");
        g_autofree char *value = NULL;
        char **host_slot;
        NetisoCidr host;

        if (!address)
                return fail(error, r->where, "source ip has no address");
        value = netiso_quote(address);
        if (!netiso_addr_parse(address, &host, NULL))
                return fail(error, r->where,
                            "source ip address '%s' is not an IPv4 or IPv6 address", value);
        if (family) {
                g_autofree char *fam = netiso_quote(family);
                if (strcmp(family, "ipv4") != 0 && strcmp(family, "ipv6") != 0)
                        return fail(error, r->where, "source ip family '%s' is not ipv4 or ipv6",
                                    fam);
                if ((family[3] == '4') != (host.family == NETISO_FAMILY_IPV4))
                        return fail(error, r->where, "source ip address '%s' is not family %s",
                                    value, fam);
        }
        host_slot = host.family == NETISO_FAMILY_IPV4 ? &r->iface->host_v4 : &r->iface->host_v6;
        if (!*host_slot)
                *host_slot = netiso_cidr_to_string(&host, /* with_host_prefix */ FALSE);
        /* libvirt parses the peer in the address's family; so do we. */
        if (peer)
                return add_guest_addr(r, "source ip peer", peer, /* allow_host_prefix */ TRUE,
                                      host.family, error);
        return TRUE;
}

/* <filterref filter=NAME><parameter name='IP' value=ADDR/>...: nwfilter's
 * variables are case-sensitive, and other parameters are not addresses. */
static gboolean
read_filterref(const IfaceReader *r, const NetisoXmlNode *filterref, GError **error)
{
        g_autofree char *filter = attr(filterref, "filter");

        /* Only recorded, but renderers may print it: keep it to nwfilter's usual names. */
        if (filter && (!*filter || strspn(filter, FILTER_NAME_CHARS) != strlen(filter))) {
                g_autofree char *value = netiso_quote(filter);
                return fail(error, r->where,
                            "filterref filter '%s' is invalid: only A-Za-z0-9._- allowed", value);
        }
        if (!r->iface->filterref)
                r->iface->filterref = g_steal_pointer(&filter);
        for (const NetisoXmlNode *p = filterref->children; p; p = p->next) {
                g_autofree char *name = NULL;
                g_autofree char *value = NULL;
                g_autofree char *what = NULL;
                NetisoFamily family;

                if (!is_element(p, "parameter"))
                        continue;
                name = attr(p, "name");
                if (g_strcmp0(name, "IP") == 0)
                        family = NETISO_FAMILY_IPV4;
                else if (g_strcmp0(name, "IPV6") == 0)
                        family = NETISO_FAMILY_IPV6;
                else
                        continue;
                what = g_strdup_printf("filterref parameter %s", name);
                value = attr(p, "value");
                if (!value)
                        return fail(error, r->where, "%s has no value", what);
                if (!add_guest_addr(r, what, value, /* allow_host_prefix */ FALSE, family, error))
                        return FALSE;
        }
        return TRUE;
}

/* <source bridge=...> of type='bridge', <source network=... bridge=...> of
 * type='network' (libvirt adds the bridge it picked to the live XML). The
 * bridge name reaches firewall rules; the network name only a file name. */
static gboolean
read_bridge_source(const IfaceReader *r, const NetisoXmlNode *source, GError **error)
{
        const char *bridge = netiso_xml_node_attr(source, "bridge");
        const char *network = netiso_xml_node_attr(source, "network");
        const char *why;

        if (bridge && !r->iface->bridge) {
                g_autofree char *value = netiso_quote(bridge);
                why = netiso_ifname_problem(bridge);
                if (why)
                        return fail(error, r->where, "source bridge '%s' is invalid: %s", value,
                                    why);
                r->iface->bridge = g_strdup(bridge);
        }
        if (network && r->iface->type == NETISO_IFACE_NETWORK && !r->iface->network) {
                g_autofree char *value = netiso_quote(network);
                why = netiso_domain_name_problem(network);
                if (why)
                        return fail(error, r->where, "source network '%s' %s", value, why);
                r->iface->network = g_strdup(network);
        }
        return TRUE;
}

static gboolean
read_iface_child(const IfaceReader *r, const NetisoXmlNode *child, GError **error)
{
        NetisoIface *iface = r->iface;
        g_autofree char *text = NULL;
        g_autofree char *value = NULL;
        const char *why;

        if (is_element(child, "target") && !iface->tap) {
                text = attr(child, "dev");
                if (!text)
                        return TRUE;
                why = netiso_ifname_problem(text);
                value = netiso_quote(text);
                if (why)
                        return fail(error, r->where, "target dev '%s' is invalid: %s", value, why);
                iface->tap = g_steal_pointer(&text);
        } else if (is_element(child, "mac") && !iface->mac) {
                text = attr(child, "address");
                if (!text)
                        return TRUE;
                why = netiso_mac_problem(text);
                value = netiso_quote(text);
                if (why)
                        return fail(error, r->where, "mac address '%s' %s", value, why);
                iface->mac = g_ascii_strdown(text, -1);
        } else if (is_element(child, "source")) {
                if (netiso_iface_type_is_bridged(iface->type) &&
                    !read_bridge_source(r, child, error))
                        return FALSE;
                for (const NetisoXmlNode *ip = child->children; ip; ip = ip->next)
                        if (is_element(ip, "ip") && !read_source_ip(r, ip, error))
                                return FALSE;
        } else if (is_element(child, "filterref")) {
                return read_filterref(r, child, error);
        }
        return TRUE;
}

static gboolean
read_iface(const char *who, const NetisoXmlNode *node, unsigned index, NetisoIface **ret_iface,
           GError **error)
{
        g_autoptr(NetisoIface) iface = g_new0(NetisoIface, 1);
        g_autofree char *where = g_strdup_printf("%s: interface %u", who, index);
        IfaceReader r = { .where = where, .iface = iface };

        iface->index = index;
        iface->addresses =
                g_array_new(/* zero_terminated */ FALSE, /* clear */ FALSE, sizeof(NetisoCidr));
        iface->type_name = attr(node, "type");
        if (!iface->type_name)
                return fail(error, where, "no type attribute");
        if (!type_name_ok(iface->type_name)) {
                g_autofree char *value = netiso_quote(iface->type_name);
                return fail(error, where, "type '%s' is invalid", value);
        }
        iface->type = iface_type_from_string(iface->type_name);

        for (const NetisoXmlNode *child = node->children; child; child = child->next)
                if (!read_iface_child(&r, child, error))
                        return FALSE;
        *ret_iface = g_steal_pointer(&iface);
        return TRUE;
}

static gboolean
read_ifaces(const char *who, const NetisoXmlNode *root, GPtrArray *ifaces, GError **error)
{
        unsigned index = 0;

        for (const NetisoXmlNode *devices = root->children; devices; devices = devices->next) {
                if (!is_element(devices, "devices"))
                        continue;
                for (const NetisoXmlNode *n = devices->children; n; n = n->next) {
                        NetisoIface *iface = NULL;
                        if (!is_element(n, "interface"))
                                continue;
                        if (!read_iface(who, n, index++, &iface, error))
                                return FALSE;
                        g_ptr_array_add(ifaces, iface);
                }
        }
        return TRUE;
}

void
netiso_iface_free(NetisoIface *iface)
{
        if (!iface)
                return;
        g_free(iface->type_name);
        g_free(iface->tap);
        g_free(iface->mac);
        if (iface->addresses)
                g_array_unref(iface->addresses);
        g_free(iface->host_v4);
        g_free(iface->host_v6);
        g_free(iface->filterref);
        g_free(iface->bridge);
        g_free(iface->network);
        netiso_network_free(iface->net);
        if (iface->learned)
                g_array_unref(iface->learned);
        g_free(iface);
}

/* ---- libvirt networks ---- */

static gboolean
resolve_iface(const char *who, NetisoIface *iface, GError **error)
{
        g_autoptr(NetisoNetwork) net = NULL;

        if (iface->type != NETISO_IFACE_NETWORK || iface->net)
                return TRUE;
        if (!iface->network)
                return fail(error, who, "interface %u of type 'network' has no source network",
                            iface->index);
        net = netiso_network_new_for_name(iface->network, error);
        if (!net)
                return FALSE;
        if (!net->bridge)
                return fail(
                        error, who,
                        "interface %u: libvirt network '%s' (forward mode %s) has no bridge: its guests bypass the host firewall",
                        iface->index, iface->network, net->forward);
        if (iface->bridge && !g_str_equal(iface->bridge, net->bridge))
                return fail(
                        error, who,
                        "interface %u: source bridge '%s' is not the bridge '%s' of libvirt network '%s'",
                        iface->index, iface->bridge, net->bridge, iface->network);
        if (!iface->bridge)
                iface->bridge = g_strdup(net->bridge);
        iface->net = g_steal_pointer(&net);
        return TRUE;
}

gboolean
netiso_domain_resolve(NetisoDomain *domain, GError **error)
{
        g_autofree char *name = netiso_quote(domain->name);
        g_autofree char *who = g_strdup_printf("domain '%s'", name);

        for (guint i = 0; i < domain->ifaces->len; i++)
                if (!resolve_iface(who, g_ptr_array_index(domain->ifaces, i), error))
                        return FALSE;
        return TRUE;
}

/* ---- metadata ---- */

/* Ours is found by namespace URI whatever the prefix (virsh makes --key the
 * prefix). An element of any other namespace, or none, is someone else's.
 * Only the first <metadata> counts: libvirt keeps that one and drops the
 * others (./metadata[1] in virDomainDefParseXML). */
static gboolean
find_isolation(const char *where, const NetisoXmlNode *root, const NetisoXmlNode **ret,
               GError **error)
{
        const NetisoXmlNode *found = NULL;

        for (const NetisoXmlNode *meta = root->children; meta; meta = meta->next) {
                if (!is_element(meta, "metadata"))
                        continue;
                for (const NetisoXmlNode *n = meta->children; n; n = n->next) {
                        if (g_strcmp0(n->ns, NETISO_METADATA_NS) != 0)
                                continue;
                        if (strcmp(n->name, "isolation") != 0) {
                                g_autofree char *name = netiso_quote(n->name);
                                return fail(error, where, "unknown element '%s'", name);
                        }
                        if (found)
                                return fail(error, where, "more than one isolation element");
                        found = n;
                }
                break;
        }
        *ret = found;
        return TRUE;
}

/* Strict on purpose: a typo such as tenent="prod" must not quietly mean "default". */
static gboolean
read_tenant(const char *where, const NetisoXmlNode *isolation, char **ret_tenant, GError **error)
{
        g_autofree char *tenant = NULL;
        g_autofree char *why = NULL;
        g_autofree char *name = NULL;

        for (guint i = 0; i < isolation->n_attrs; i++) {
                const NetisoXmlAttr *a = &isolation->attrs[i];
                g_autofree char *qname = NULL;
                if (!a->ns && strcmp(a->name, "tenant") == 0)
                        continue;
                /* netiso:tenant is a different attribute from tenant: say which. */
                if (a->prefix)
                        qname = g_strdup_printf("%s:%s", a->prefix, a->name);
                name = netiso_quote(qname ? qname : a->name);
                return fail(error, where, "unknown attribute '%s' on isolation", name);
        }
        if (!netiso_xml_node_is_empty(isolation))
                return fail(error, where, "isolation element must be empty");
        tenant = attr(isolation, "tenant");
        if (!tenant)
                return fail(error, where, "isolation element has no tenant attribute");
        why = netiso_tenant_name_problem(tenant);
        name = netiso_quote(tenant);
        if (why)
                return fail(error, where, "tenant '%s' is invalid: %s", name, why);
        *ret_tenant = g_steal_pointer(&tenant);
        return TRUE;
}

/* ---- the domain ---- */

static gboolean
read_name(const char *filename, const NetisoXmlNode *root, char **ret_name, GError **error)
{
        const NetisoXmlNode *node = NULL;
        g_autofree char *name = NULL;
        g_autofree char *value = NULL;
        const char *why;

        if (!only_child(filename, root, "name", &node, error))
                return FALSE;
        if (!node)
                return fail(error, filename, "domain has no <name>");
        name = netiso_xml_node_text(node);
        why = netiso_domain_name_problem(name);
        value = netiso_quote(name);
        if (why)
                return fail(error, filename, "domain name '%s' %s", value, why);
        *ret_name = g_steal_pointer(&name);
        return TRUE;
}

static gboolean
read_uuid(const char *who, const NetisoXmlNode *root, char **ret_uuid, GError **error)
{
        const NetisoXmlNode *node = NULL;
        g_autofree char *text = NULL;
        g_autofree char *value = NULL;
        char *uuid;

        if (!only_child(who, root, "uuid", &node, error))
                return FALSE;
        if (!node)
                return TRUE;
        text = netiso_xml_node_text(node);
        uuid = netiso_uuid_canonical(text);
        value = netiso_quote(text);
        if (!uuid)
                return fail(error, who, "uuid '%s' is invalid", value);
        *ret_uuid = uuid;
        return TRUE;
}

NetisoDomain *
netiso_domain_new_from_xml(const char *filename, const char *xml, gsize len, GError **error)
{
        g_autoptr(NetisoXmlDoc) doc = NULL;
        g_autoptr(NetisoDomain) domain = NULL;
        g_autofree char *name = NULL;
        g_autofree char *who = NULL;
        g_autofree char *meta_where = NULL;
        const NetisoXmlNode *root, *isolation = NULL;

        doc = netiso_xml_doc_new_from_data(filename, xml, len, &domain_xml_limits, error);
        if (!doc)
                return NULL;
        root = netiso_xml_doc_root(doc);
        if (!is_element(root, "domain")) {
                g_autofree char *ns = NULL;
                name = netiso_quote(root->name);
                if (root->ns)
                        ns = netiso_quote(root->ns);
                fail(error, filename, "root element is <%s>%s%s%s, expected <domain>", name,
                     ns ? " in namespace '" : "", ns ? ns : "", ns ? "'" : "");
                return NULL;
        }

        domain = g_new0(NetisoDomain, 1);
        domain->ifaces = g_ptr_array_new_with_free_func((GDestroyNotify)netiso_iface_free);
        if (!read_name(filename, root, &domain->name, error))
                return NULL;
        name = netiso_quote(domain->name);
        who = g_strdup_printf("domain '%s'", name);
        if (!read_uuid(who, root, &domain->uuid, error))
                return NULL;

        meta_where = g_strdup_printf("%s: metadata %s", who, NETISO_METADATA_NS);
        if (!find_isolation(meta_where, root, &isolation, error))
                return NULL;
        if (isolation && !read_tenant(meta_where, isolation, &domain->tenant, error))
                return NULL;
        domain->tenant_explicit = isolation != NULL;
        if (!isolation)
                domain->tenant = g_strdup(NETISO_DEFAULT_TENANT);

        if (!read_ifaces(who, root, domain->ifaces, error))
                return NULL;
        return g_steal_pointer(&domain);
}

NetisoDomain *
netiso_domain_new_from_file(const char *path, GError **error)
{
        gboolean is_stdin = strcmp(path, "-") == 0;
        const char *name = is_stdin ? "<stdin>" : path;
        g_autoptr(GString) buf = g_string_new(NULL);
        int fd, saved_errno = 0;

        fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                saved_errno = errno;
                fail(error, name, "cannot open: %s", g_strerror(saved_errno));
                return NULL;
        }
        saved_errno = netiso_read_bounded(fd, NETISO_DOMAIN_XML_MAX, /* drain */ FALSE, buf);
        if (!is_stdin)
                close(fd);
        if (saved_errno) {
                fail(error, name, "cannot read: %s", g_strerror(saved_errno));
                return NULL;
        }
        return netiso_domain_new_from_xml(name, buf->str, buf->len, error);
}

void
netiso_domain_free(NetisoDomain *domain)
{
        if (!domain)
                return;
        g_free(domain->name);
        g_free(domain->uuid);
        g_free(domain->tenant);
        if (domain->ifaces)
                g_ptr_array_unref(domain->ifaces);
        g_free(domain);
}

NetisoRunning *
netiso_running_new(gint64 listed_usec)
{
        NetisoRunning *running = g_new0(NetisoRunning, 1);

        running->domains = g_ptr_array_new_with_free_func((GDestroyNotify)netiso_domain_free);
        running->unreadable = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        running->listed_usec = listed_usec;
        return running;
}

void
netiso_running_free(NetisoRunning *running)
{
        if (!running)
                return;
        g_ptr_array_unref(running->domains);
        g_hash_table_unref(running->unreadable);
        g_free(running);
}
