/* The libvirt API, for the command-line tool only (the hook never calls
 * libvirtd: that would deadlock). Every failure is one NETISO_ERROR_LIBVIRT
 * line; libvirt itself is kept from printing anything. */
#pragma once

#include <glib.h>
#include <libvirt/libvirt.h>

#include "conf/domain.h"

#define NETISO_VIRT_DEFAULT_URI "qemu:///system"

/* The URI to use: the --connect option, else LIBVIRT_DEFAULT_URI, else
 * qemu:///system (where the hook's guests live). */
const char *netiso_virt_uri(const char *option);

/* Register libvirt's default event loop implementation (for watch), before
 * any connection is opened; someone must then run virEventRunDefaultImpl(). */
gboolean netiso_virt_start_events(GError **error);

/* Open a read-write connection. */
virConnectPtr netiso_virt_connect(const char *uri, GError **error);
void netiso_virt_close(virConnectPtr conn);

/* Set *error from libvirt's last error: "WHAT: libvirt's message". */
void netiso_virt_error(GError **error, const char *format, ...) G_GNUC_PRINTF(2, 3);

/* Every running domain with its live XML, parsed (reconcile's input). A
 * domain that stops while it is being asked is left out. */
NetisoRunning *netiso_virt_list_running(virConnectPtr conn, GError **error);

/* One domain's live XML, parsed; *ret_domain is NULL when the domain is not
 * running or no longer exists. */
gboolean netiso_virt_running_domain(virConnectPtr conn, const char *name, NetisoDomain **ret_domain,
                                    GError **error);

typedef enum {
        NETISO_TAG_LIVE = 1 << 0,       /* the running guest's XML */
        NETISO_TAG_PERSISTENT = 1 << 1, /* the defined configuration */
} NetisoTagScope;

/* Set the tenant metadata of a domain (name or UUID), live when it runs and
 * persistent when it is defined. The tenant must be valid already. */
gboolean netiso_virt_set_tenant(virConnectPtr conn, const char *domain, const char *tenant,
                                NetisoTagScope *ret_scope, GError **error);
