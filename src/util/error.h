/* The project's single GError domain and the codes callers tell apart.
 * Mains map codes to exit statuses; nothing below the mains exits or prints. */
#pragma once

#include <glib.h>

#define NETISO_ERROR (netiso_error_quark())

typedef enum {
        NETISO_ERROR_CONFIG,    /* configuration file is wrong (exit 2) */
        NETISO_ERROR_USAGE,     /* command line is wrong (exit 2) */
        NETISO_ERROR_DOMAIN,    /* domain XML is malformed or hostile */
        NETISO_ERROR_POLICY,    /* a valid domain that cannot be isolated */
        NETISO_ERROR_FIREWALL,  /* the firewall refused or failed a transaction */
        NETISO_ERROR_STATE,     /* state directory or lock problems */
        NETISO_ERROR_LIBVIRT,   /* libvirt API failure (CLI only) */
        NETISO_ERROR_CONFLICT,  /* an address or tap already belongs to another guest */
        NETISO_ERROR_PRIVILEGE, /* not root and no CAP_NET_ADMIN */
        NETISO_ERROR_CLUSTER,   /* etcd or the watch daemon could not be asked */
        _NETISO_ERROR_MAX,
} NetisoErrorCode;

GQuark netiso_error_quark(void);

/* Exit statuses of the interface contract. */
enum {
        NETISO_EXIT_OK = 0,
        NETISO_EXIT_FAILURE = 1,
        NETISO_EXIT_USAGE = 2,
};

/* 2 for usage/configuration errors, 1 for everything else. */
int netiso_error_exit_status(const GError *error);
