/* Render the configured policy as libvirt nwfilter XML, for deployments that
 * let libvirt's nwfilter driver enforce isolation on bridged guests. */
#pragma once

#include <glib.h>

#include "config.h"

typedef struct {
        char *name;   /* filter name, e.g. "blixard-netiso-tenant-production" */
        char *xml;    /* a complete <filter> document */
} NetisoNwfilter;

void netiso_nwfilter_free(NetisoNwfilter *filter);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NetisoNwfilter, netiso_nwfilter_free)

/* Filters for the configured policy: shared building blocks and one filter
 * per tenant in tenants (array of char*; NULL or empty means the tenant
 * "default" only). Returns a GPtrArray of NetisoNwfilter*, dependencies
 * first (the order in which they must be defined). */
GPtrArray *netiso_nwfilter_render(const NetisoConfig *config, const GPtrArray *tenants,
                                  GError **error);
