/* libvirt API access for reconcile, tag and watch: connecting, listing the
 * running domains with their live XML, and setting the tenant metadata. */
#include "autoconfig.h"

#include <libvirt/virterror.h>
#include <stdlib.h>
#include <string.h>

#include "cli/leases.h"
#include "cli/virt.h"
#include "util/error.h"
#include "util/names.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(virDomain, virDomainFree)

/* libvirt prints every error to stderr unless told otherwise; ours are
 * reported once, as GErrors, by the caller. */
static void
quiet_error(void *opaque, virErrorPtr err)
{
}

static gpointer
init_once(gpointer unused)
{
        virInitialize();
        virSetErrorFunc(NULL, quiet_error);
        return NULL;
}

static void
virt_init(void)
{
        static GOnce once = G_ONCE_INIT;

        g_once(&once, init_once, NULL);
}

void
netiso_virt_error(GError **error, const char *format, ...)
{
        g_autofree char *what = NULL;
        g_autofree char *message = g_strdup(virGetLastErrorMessage());
        va_list ap;

        va_start(ap, format);
        what = g_strdup_vprintf(format, ap);
        va_end(ap);
        g_strdelimit(message, "\r\n", ' ');
        g_set_error(error, NETISO_ERROR, NETISO_ERROR_LIBVIRT, "%s: %s", what, message);
}

gboolean
netiso_virt_start_events(GError **error)
{
        virt_init();
        if (virEventRegisterDefaultImpl() < 0) {
                netiso_virt_error(error, "cannot set up libvirt's event loop");
                return FALSE;
        }
        return TRUE;
}

const char *
netiso_virt_uri(const char *option)
{
        const char *env = g_getenv("LIBVIRT_DEFAULT_URI");

        if (option && *option)
                return option;
        return env && *env ? env : NETISO_VIRT_DEFAULT_URI;
}

virConnectPtr
netiso_virt_connect(const char *uri, GError **error)
{
        virConnectPtr conn;

        virt_init();
        conn = virConnectOpen(uri);
        if (!conn)
                netiso_virt_error(error, "cannot connect to %s", uri);
        return conn;
}

void
netiso_virt_close(virConnectPtr conn)
{
        if (conn)
                virConnectClose(conn);
}

static gboolean
domain_gone(void)
{
        virErrorPtr err = virGetLastError();

        return err && (err->code == VIR_ERR_NO_DOMAIN || err->code == VIR_ERR_OPERATION_INVALID);
}

/* *ret_xml is NULL (and TRUE returned) when the domain stopped meanwhile. */
static gboolean
live_xml(virDomainPtr dom, char **ret_xml, GError **error)
{
        int active = virDomainIsActive(dom);
        char *xml;

        *ret_xml = NULL;
        if (active == 0 || (active < 0 && domain_gone()))
                return TRUE;
        xml = active > 0 ? virDomainGetXMLDesc(dom, 0) : NULL;
        if (!xml) {
                if (domain_gone())
                        return TRUE;
                netiso_virt_error(error, "domain '%s': cannot read its XML", virDomainGetName(dom));
                return FALSE;
        }
        /* A domain that stopped between the two calls returns its inactive XML. */
        if (virDomainIsActive(dom) != 1) {
                free(xml);
                return TRUE;
        }
        *ret_xml = g_strdup(xml);
        free(xml);
        return TRUE;
}

static NetisoDomain *
parse_live(const char *name, const char *xml, GError **error)
{
        g_autofree char *source = g_strdup_printf("libvirt domain '%s'", name);
        g_autoptr(NetisoDomain) domain =
                netiso_domain_new_from_xml(source, xml, strlen(xml), error);

        /* A running domain's libvirt networks are running too: their status
         * files say which bridge, services and reservations it has, and the
         * lease helper's files which addresses its MACs leased. */
        if (!domain || !netiso_domain_resolve(domain, error) ||
            !netiso_leases_learn(domain, g_get_real_time() / G_USEC_PER_SEC, error))
                return NULL;
        return g_steal_pointer(&domain);
}

NetisoRunning *
netiso_virt_list_running(virConnectPtr conn, GError **error)
{
        g_autoptr(NetisoRunning) running = netiso_running_new(g_get_real_time());
        virDomainPtr *doms = NULL;
        int n = virConnectListAllDomains(conn, &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE);

        if (n < 0) {
                netiso_virt_error(error, "cannot list the running domains");
                return NULL;
        }
        for (int i = 0; i < n; i++) {
                g_autoptr(virDomain) dom = doms[i];
                g_autofree char *xml = NULL;
                g_autoptr(GError) e = NULL;
                NetisoDomain *domain;
                const char *name = virDomainGetName(dom);

                if (!live_xml(dom, &xml, &e)) {
                        g_hash_table_insert(running->unreadable, g_strdup(name),
                                            g_strdup(e->message));
                        continue;
                }
                if (!xml)
                        continue;
                domain = parse_live(name, xml, &e);
                if (domain)
                        g_ptr_array_add(running->domains, domain);
                else
                        g_hash_table_insert(running->unreadable, g_strdup(name),
                                            g_strdup(e->message));
        }
        free(doms);
        return g_steal_pointer(&running);
}

/* By name, else by UUID, as virsh accepts either. */
static virDomainPtr
lookup(virConnectPtr conn, const char *name, gboolean quiet_if_missing, GError **error)
{
        virDomainPtr dom = virDomainLookupByName(conn, name);
        g_autofree char *uuid = dom ? NULL : netiso_uuid_canonical(name);

        if (!dom && domain_gone() && uuid)
                dom = virDomainLookupByUUIDString(conn, uuid);
        if (!dom && !(quiet_if_missing && domain_gone()))
                netiso_virt_error(error, "domain '%s'", name);
        return dom;
}

gboolean
netiso_virt_running_domain(virConnectPtr conn, const char *name, NetisoDomain **ret_domain,
                           GError **error)
{
        g_autoptr(GError) local = NULL;
        g_autoptr(virDomain) dom = lookup(conn, name, /* quiet_if_missing */ TRUE, &local);
        g_autofree char *xml = NULL;

        *ret_domain = NULL;
        if (local) {
                g_propagate_error(error, g_steal_pointer(&local));
                return FALSE;
        }
        if (!dom)
                return TRUE;
        if (!live_xml(dom, &xml, error))
                return FALSE;
        if (!xml)
                return TRUE;
        *ret_domain = parse_live(name, xml, error);
        return *ret_domain != NULL;
}

gboolean
netiso_virt_set_tenant(virConnectPtr conn, const char *domain, const char *tenant,
                       NetisoTagScope *ret_scope, GError **error)
{
        g_autoptr(virDomain) dom = lookup(conn, domain, /* quiet_if_missing */ FALSE, error);
        g_autofree char *element = NULL;
        unsigned int flags = 0;
        NetisoTagScope scope = 0;
        int active, persistent;

        if (!dom)
                return FALSE;
        active = virDomainIsActive(dom);
        persistent = virDomainIsPersistent(dom);
        if (active < 0 || persistent < 0) {
                netiso_virt_error(error, "domain '%s'", domain);
                return FALSE;
        }
        /* A transient domain has no persistent side; an inactive one no live side. */
        if (active) {
                flags |= VIR_DOMAIN_AFFECT_LIVE;
                scope |= NETISO_TAG_LIVE;
        }
        if (persistent) {
                flags |= VIR_DOMAIN_AFFECT_CONFIG;
                scope |= NETISO_TAG_PERSISTENT;
        }
        /* Replaces every element of our namespace, as `virsh metadata --set` does. */
        element = g_markup_printf_escaped("<isolation tenant='%s'/>", tenant);
        if (virDomainSetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, element, "netiso",
                                 NETISO_METADATA_NS, flags) < 0) {
                netiso_virt_error(error, "domain '%s': cannot set its tenant", domain);
                return FALSE;
        }
        *ret_scope = scope;
        return TRUE;
}
