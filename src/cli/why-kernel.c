/* Route lookups for `why` over rtnetlink with libmnl: one RTM_GETROUTE
 * request per address, answered by the kernel's own route lookup (a local
 * route means the host, an output device a tap or an uplink). */
#include "autoconfig.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <string.h>
#include <time.h>

#include "cli/why-kernel.h"
#include "util/error.h"

void
netiso_route_clear(NetisoRoute *route)
{
        g_clear_pointer(&route->ifname, g_free);
}

typedef struct {
        gboolean answered;
        gboolean local;
        guint32 oif;
} Reply;

static int
route_attr(const struct nlattr *attr, void *data)
{
        Reply *reply = data;

        if (mnl_attr_get_type(attr) == RTA_OIF && mnl_attr_validate(attr, MNL_TYPE_U32) >= 0)
                reply->oif = mnl_attr_get_u32(attr);
        return MNL_CB_OK;
}

static int
route_reply(const struct nlmsghdr *nlh, void *data)
{
        Reply *reply = data;
        const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);

        if (nlh->nlmsg_type != RTM_NEWROUTE)
                return MNL_CB_OK;
        reply->answered = TRUE;
        reply->local = rtm->rtm_type == RTN_LOCAL;
        return mnl_attr_parse(nlh, sizeof(*rtm), route_attr, reply) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

static gboolean
fail(GError **error, const char *what, int e)
{
        g_set_error(error, NETISO_ERROR, NETISO_ERROR_FIREWALL,
                    "rtnetlink: cannot look up a route: %s: %s", what, g_strerror(e));
        return FALSE;
}

gboolean
netiso_route_get(const NetisoCidr *address, NetisoRoute *ret_route, GError **error)
{
        g_autofree char *buf = g_malloc(MNL_SOCKET_BUFFER_SIZE);
        struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
        gboolean v4 = address->family == NETISO_FAMILY_IPV4;
        guint32 seq = (guint32)time(NULL);
        Reply reply = { 0 };
        struct nlmsghdr *nlh;
        struct rtmsg *rtm;
        ssize_t n;
        int ret = MNL_CB_OK, e;
        char name[IF_NAMESIZE];

        if (!nl)
                return fail(error, "socket", errno);
        if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
                e = errno;
                mnl_socket_close(nl);
                return fail(error, "bind", e);
        }
        nlh = mnl_nlmsg_put_header(buf);
        nlh->nlmsg_type = RTM_GETROUTE;
        nlh->nlmsg_flags = NLM_F_REQUEST;
        nlh->nlmsg_seq = seq;
        rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
        rtm->rtm_family = v4 ? AF_INET : AF_INET6;
        rtm->rtm_dst_len = v4 ? 32 : 128;
        mnl_attr_put(nlh, RTA_DST, v4 ? 4 : 16, address->bytes);
        if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
                e = errno;
                mnl_socket_close(nl);
                return fail(error, "send", e);
        }
        /* One answer: the route, or an error such as "network unreachable". */
        while (ret > MNL_CB_STOP && !reply.answered) {
                n = mnl_socket_recvfrom(nl, buf, MNL_SOCKET_BUFFER_SIZE);
                if (n < 0)
                        break;
                ret = mnl_cb_run(buf, n, seq, mnl_socket_get_portid(nl), route_reply, &reply);
        }
        e = errno;
        mnl_socket_close(nl);
        if (!reply.answered) {
                if (e == ENETUNREACH || e == EHOSTUNREACH || e == EACCES || e == EINVAL)
                        return TRUE; /* no route: nothing to tell */
                return fail(error, "receive", e);
        }
        ret_route->local = reply.local;
        if (reply.oif && if_indextoname(reply.oif, name))
                ret_route->ifname = g_strdup(name);
        return TRUE;
}

/* ---- the locator source ---- */

typedef struct {
        const NetisoConfig *config;
        GPtrArray *records;
} Routes;

static gboolean
routes_address(gpointer data, const NetisoCidr *address, NetisoPlace **ret_place, GError **error)
{
        const Routes *routes = data;
        g_auto(NetisoRoute) route = { 0 };
        const NetisoRecord *record;
        const NetisoRecordPort *port;
        g_autofree char *text = netiso_cidr_to_string(address, FALSE);
        NetisoPlace *place;

        if (!netiso_route_get(address, &route, error))
                return FALSE;
        if (route.local) {
                place = netiso_place_new(NETISO_PLACE_HOST, address, "kernel routes");
        } else if (route.ifname &&
                   netiso_records_find_tap(routes->records, route.ifname, &record, &port)) {
                place = netiso_place_new_for_record(record, port, address, "kernel routes");
                g_ptr_array_add(place->notes,
                                g_strdup_printf("%s is not an address of %s, but the host routes "
                                                "it to %s's tap %s",
                                                text, record->domain, record->domain,
                                                route.ifname));
        } else if (route.ifname &&
                   netiso_config_is_guest_like_ifname(routes->config, route.ifname)) {
                place = netiso_place_new(NETISO_PLACE_UNPROTECTED, address, "kernel routes");
        } else {
                place = netiso_place_new(NETISO_PLACE_OUTSIDE, address, "kernel routes");
                if (!route.ifname)
                        g_ptr_array_add(place->notes,
                                        g_strdup_printf("the host has no route to %s", text));
        }
        if (!place->iface) /* a guest's place names its tap already */
                place->iface = g_steal_pointer(&route.ifname);
        *ret_place = place;
        return TRUE;
}

static void
routes_free(gpointer data)
{
        g_free(data);
}

void
netiso_locator_add_kernel_routes(NetisoLocator *locator, const NetisoConfig *config,
                                 GPtrArray *records)
{
        static const NetisoLocatorSource source = {
                .name = "kernel routes",
                .address = routes_address,
        };
        Routes *routes = g_new0(Routes, 1);

        routes->config = config;
        routes->records = records;
        netiso_locator_add(locator, &source, routes, routes_free);
}

gboolean
netiso_route_check_guest(NetisoPlace *place, GError **error)
{
        g_auto(NetisoRoute) route = { 0 };
        g_autofree char *text = NULL;

        if (place->kind != NETISO_PLACE_GUEST)
                return TRUE;
        if (!netiso_route_get(&place->address, &route, error))
                return FALSE;
        /* A bridged guest is reached through its bridge, then its port. */
        if (!route.local && (g_strcmp0(route.ifname, place->iface) == 0 ||
                             (place->bridge && g_strcmp0(route.ifname, place->bridge) == 0)))
                return TRUE;
        text = netiso_cidr_to_string(&place->address, FALSE);
        g_ptr_array_add(place->notes,
                        route.local ? g_strdup_printf("the host holds %s itself: packets to it "
                                                      "never reach %s",
                                                      text, place->domain)
                        : route.ifname
                                ? g_strdup_printf("the host routes %s via %s, not via %s's tap %s",
                                                  text, route.ifname, place->domain, place->iface)
                                : g_strdup_printf("the host has no route to %s", text));
        return TRUE;
}
