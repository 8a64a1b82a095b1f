/* Addresses a bridged guest leased from its libvirt network's dnsmasq,
 * read from the file libvirt's lease helper writes
 * (/var/lib/libvirt/dnsmasq/BRIDGE.status: mac-address, ip-address,
 * expiry-time), never from libvirtd. */
#pragma once

#include <glib.h>

#include "conf/domain.h"

/* Sets iface->learned of every type='network' interface of a resolved
 * domain (netiso_domain_resolve) whose network runs DHCP: the current
 * leases of its MAC inside the network's prefixes (none when the file does
 * not exist yet). A file that cannot be read or parsed is an error naming
 * it (NETISO_ERROR_DOMAIN). now_s: seconds since the epoch. */
gboolean netiso_leases_learn(NetisoDomain *domain, gint64 now_s, GError **error);
