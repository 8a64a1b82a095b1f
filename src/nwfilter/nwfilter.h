/* Render the configured policy as libvirt nwfilter XML, for deployments that
 * let libvirt's nwfilter driver enforce isolation on bridged guests. */
#pragma once

#include <glib.h>

#include "conf/config.h"

/* Filter names. Interfaces reference the tenant filter; the others are
 * building blocks it pulls in. */
#define NETISO_NWFILTER_BASE "blixard-netiso-base"
#define NETISO_NWFILTER_IPV6 "blixard-netiso-ipv6"
#define NETISO_NWFILTER_TENANT_PREFIX "blixard-netiso-tenant-"

/* Variables an interface's <filterref> supplies (besides libvirt's own
 * MAC, IP, IPV6 and CTRL_IP_LEARNING): the addresses of the guest's tenant. */
#define NETISO_NWFILTER_VAR_TENANT_IPS "TENANT_IPS"
#define NETISO_NWFILTER_VAR_TENANT_IPV6S "TENANT_IPV6S"

typedef struct {
        char *name; /* filter name, e.g. "blixard-netiso-tenant-production" */
        char *xml;  /* a complete <filter> document */
} NetisoNwfilter;

void netiso_nwfilter_free(NetisoNwfilter *filter);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NetisoNwfilter, netiso_nwfilter_free)

/* Filters for the configured policy: shared building blocks and one filter
 * per tenant in tenants (array of char*; NULL or empty means the tenant
 * "default" only). Returns a GPtrArray of NetisoNwfilter*, dependencies
 * first (the order in which they must be defined). */
GPtrArray *netiso_nwfilter_render(const NetisoConfig *config, const GPtrArray *tenants,
                                  GError **error);

/* Write each filter to DIR/NAME.xml (atomically, creating DIR if needed).
 * Existing files of other names are left alone. */
gboolean netiso_nwfilter_write_dir(const GPtrArray *filters, const char *dir, GError **error);
