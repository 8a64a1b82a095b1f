/* [vm.network_isolation] reader (to be written). */
#include "autoconfig.h"

#include "config.h"
#include "error.h"

NetisoConfig *
netiso_config_new_default(void)
{
        return NULL;
}

NetisoConfig *
netiso_config_new_from_data(const char *filename, const char *data, gsize len, GError **error)
{
        g_set_error(error, NETISO_ERROR, NETISO_ERROR_CONFIG, "%s: not implemented", filename);
        return NULL;
}

NetisoConfig *
netiso_config_new_from_file(const char *path, GError **error)
{
        return netiso_config_new_from_data(path, "", 0, error);
}

void
netiso_config_free(NetisoConfig *config)
{
}

const char *
netiso_backend_to_string(NetisoBackend backend)
{
        return backend == NETISO_BACKEND_IPTABLES ? "iptables" : "nftables";
}

const char *
netiso_proto_to_string(NetisoProto proto)
{
        return proto == NETISO_PROTO_UDP ? "udp" : "tcp";
}

const char *
netiso_direction_to_string(NetisoDirection direction)
{
        return direction == NETISO_DIRECTION_INBOUND ? "inbound" : "outbound";
}

gboolean
netiso_config_is_guest_like_ifname(const NetisoConfig *config, const char *ifname)
{
        return FALSE;
}

char *
netiso_config_digest(const NetisoConfig *config)
{
        return g_strdup("");
}
