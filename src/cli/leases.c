/* The DHCP leases of a libvirt network, as libvirt's lease helper keeps
 * them for dnsmasq (BRIDGE.status, a JSON array), bound to the bridged
 * guest whose MAC holds them. Read by watch, reconcile and apply; the hook
 * never reads them (a guest has no lease of its own before it runs). */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <unistd.h>

#include "cli/leases.h"
#include "util/error.h"
#include "util/input.h"

/* A network's leases file holds one small object per lease: this bounds a
 * /16 of leases with room to spare. */
#define LEASES_MAX (16 * 1024 * 1024)

static gboolean
read_file(const char *path, GString *buf, gboolean *ret_missing, GError **error)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        int err;

        *ret_missing = FALSE;
        if (fd < 0) {
                err = errno;
                if (err == ENOENT) {
                        *ret_missing = TRUE;
                        return TRUE;
                }
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_DOMAIN, "%s: cannot read: %s", path,
                            g_strerror(err));
                return FALSE;
        }
        err = netiso_read_bounded(fd, LEASES_MAX, /* drain */ FALSE, buf);
        close(fd);
        if (err) {
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_DOMAIN, "%s: cannot read: %s", path,
                            g_strerror(err));
                return FALSE;
        }
        return TRUE;
}

/* One lease's address when it is mac's, current at now_s and inside one of
 * the network's own prefixes; else FALSE (a lease of another guest, an
 * expired one, or one the network could not have handed out). */
static gboolean
lease_address(JsonObject *lease, const char *mac, const NetisoNetwork *net, gint64 now_s,
              NetisoCidr *ret)
{
        const char *lmac = json_object_get_string_member_with_default(lease, "mac-address", NULL);
        const char *ip = json_object_get_string_member_with_default(lease, "ip-address", NULL);
        gint64 expiry = json_object_get_int_member_with_default(lease, "expiry-time", -1);

        if (!lmac || !ip || g_ascii_strcasecmp(lmac, mac) != 0)
                return FALSE;
        /* 0: an infinite lease (dnsmasq's convention). */
        if (expiry < 0 || (expiry > 0 && expiry <= now_s))
                return FALSE;
        if (!netiso_addr_parse(ip, ret, NULL))
                return FALSE;
        for (guint i = 0; i < net->prefixes->len; i++)
                if (netiso_cidr_contains(&g_array_index(net->prefixes, NetisoCidr, i), ret))
                        return TRUE;
        return FALSE;
}

static gboolean
learn_iface(NetisoIface *iface, gint64 now_s, GError **error)
{
        g_autofree char *path = netiso_network_leases_path(iface->bridge);
        g_autoptr(GString) buf = g_string_new(NULL);
        g_autoptr(JsonParser) parser = json_parser_new();
        g_autoptr(GError) local = NULL;
        gboolean missing;
        JsonNode *root;
        JsonArray *leases;

        if (iface->learned)
                g_array_unref(iface->learned);
        iface->learned =
                g_array_new(/* zero_terminated */ FALSE, /* clear */ FALSE, sizeof(NetisoCidr));
        if (!read_file(path, buf, &missing, error))
                return FALSE;
        if (missing) /* no lease handed out yet */
                return TRUE;
        if (!json_parser_load_from_data(parser, buf->str, (gssize)buf->len, &local)) {
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_DOMAIN, "%s: not JSON: %s", path,
                            local->message);
                return FALSE;
        }
        root = json_parser_get_root(parser);
        if (!root || JSON_NODE_HOLDS_NULL(root))
                return TRUE; /* an empty file: no lease */
        if (!JSON_NODE_HOLDS_ARRAY(root)) {
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_DOMAIN, "%s: not an array of leases",
                            path);
                return FALSE;
        }
        leases = json_node_get_array(root);
        for (guint i = 0; i < json_array_get_length(leases); i++) {
                JsonNode *n = json_array_get_element(leases, i);
                NetisoCidr addr;
                gboolean seen = FALSE;

                if (!JSON_NODE_HOLDS_OBJECT(n) ||
                    !lease_address(json_node_get_object(n), iface->mac, iface->net, now_s, &addr))
                        continue;
                for (guint k = 0; k < iface->learned->len && !seen; k++)
                        seen = netiso_cidr_equal(&g_array_index(iface->learned, NetisoCidr, k),
                                                 &addr);
                if (!seen && iface->learned->len < NETISO_IFACE_ADDR_MAX)
                        g_array_append_val(iface->learned, addr);
        }
        return TRUE;
}

gboolean
netiso_leases_learn(NetisoDomain *domain, gint64 now_s, GError **error)
{
        for (guint i = 0; i < domain->ifaces->len; i++) {
                NetisoIface *iface = g_ptr_array_index(domain->ifaces, i);

                /* Only a libvirt network's dnsmasq leases (resolved: its
                 * status read), and only to the MAC that asked for them. */
                if (iface->type != NETISO_IFACE_NETWORK || !iface->net || !iface->bridge ||
                    !iface->mac || !(iface->net->dhcp4 || iface->net->dhcp6))
                        continue;
                if (!learn_iface(iface, now_s, error))
                        return FALSE;
        }
        return TRUE;
}
