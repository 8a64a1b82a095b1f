/* Domain XML reader (to be written). */
#include "autoconfig.h"

#include "domain.h"
#include "error.h"

NetisoDomain *
netiso_domain_new_from_xml(const char *filename, const char *xml, gsize len, GError **error)
{
        g_set_error(error, NETISO_ERROR, NETISO_ERROR_DOMAIN, "%s: not implemented", filename);
        return NULL;
}

NetisoDomain *
netiso_domain_new_from_file(const char *path, GError **error)
{
        return netiso_domain_new_from_xml(path, "", 0, error);
}

void
netiso_domain_free(NetisoDomain *domain)
{
}

gboolean
netiso_tenant_name_validate(const char *tenant, GError **error)
{
        return TRUE;
}

gboolean
netiso_ifname_validate(const char *ifname, GError **error)
{
        return TRUE;
}

gboolean
netiso_iface_type_is_filterable(NetisoIfaceType type)
{
        return type == NETISO_IFACE_ETHERNET || type == NETISO_IFACE_BRIDGE ||
               type == NETISO_IFACE_NETWORK;
}

const char *
netiso_iface_type_to_string(NetisoIfaceType type)
{
        return "ethernet";
}
