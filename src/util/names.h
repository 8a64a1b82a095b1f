/* Syntax of the identifiers a domain XML carries: tenant, interface and
 * domain names, MAC addresses and UUIDs. Tenant and tap names end up in
 * firewall rules, so the rules here are strict allow-lists. */
#pragma once

#include <glib.h>

#define NETISO_TENANT_MAX 63

/* Each returns why the text is unacceptable, or NULL when it is fine.
 * Tenant and interface name reasons follow "is invalid: " ("tenant 'a;b' is
 * invalid: only A-Za-z0-9._- allowed"); netiso_tenant_name_validate() and
 * netiso_ifname_validate() of domain.h are built on them. */
char *netiso_tenant_name_problem(const char *tenant); /* caller frees */
const char *netiso_ifname_problem(const char *ifname);

/* These reasons follow the quoted value: "mac address 'x' is a multicast address". */
const char *netiso_domain_name_problem(const char *name);
const char *netiso_mac_problem(const char *mac);

/* "8-4-4-4-12" lower case from that form (any case) or 32 bare hex digits,
 * NULL when text is neither. Caller frees. */
char *netiso_uuid_canonical(const char *text);

/* Tenant name rule of the interface contract: 1..63 of [A-Za-z0-9._-],
 * first a letter or digit. Error says what is wrong with which name. */
gboolean netiso_tenant_name_validate(const char *tenant, GError **error);

/* Interface names we accept for taps: 1..15 (IFNAMSIZ-1) of [A-Za-z0-9_.-],
 * first a letter or digit. The kernel refuses ':' and '/' anyway. */
gboolean netiso_ifname_validate(const char *ifname, GError **error);
