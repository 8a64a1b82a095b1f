/* The kernel's side of `why`: where the host routes an address (one of its
 * own, a guest's tap, an uplink), asked as `ip route get` asks, and a
 * locator source built on it. */
#pragma once

#include <glib.h>

#include "conf/config.h"
#include "core/locator.h"

typedef struct {
        gboolean local; /* one of the host's own addresses */
        char *ifname;   /* the device the host sends it to; NULL without a route */
} NetisoRoute;

void netiso_route_clear(NetisoRoute *route);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(NetisoRoute, netiso_route_clear)

/* One RTM_GETROUTE in the caller's network namespace. No route is not an
 * error: ret_route->ifname stays NULL. */
gboolean netiso_route_get(const NetisoCidr *address, NetisoRoute *ret_route, GError **error);

/* The host's addresses, the taps of guests (installed ones from records,
 * borrowed, and guest-like ones nothing is installed for) and outside,
 * from the kernel's routes. config is borrowed too. */
void netiso_locator_add_kernel_routes(NetisoLocator *locator, const NetisoConfig *config,
                                      GPtrArray *records);

/* A note on place when the host does not route a guest's address to the
 * guest's tap (replies and peers would not reach it there). */
gboolean netiso_route_check_guest(NetisoPlace *place, GError **error);
