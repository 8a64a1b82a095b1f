/* etcd endpoint URLs and key prefixes as the cluster table may give them,
 * checked with GLib's GUri (util/endpoint.h). */
#include "autoconfig.h"

#include <string.h>

#include "util/endpoint.h"

const char *
netiso_endpoint_problem(const char *text)
{
        g_autoptr(GUri) uri = g_uri_parse(text, G_URI_FLAGS_NONE, NULL);
        const char *scheme, *path, *host;

        if (!uri)
                return "is not a URL like http://HOST:PORT or https://HOST:PORT";
        scheme = g_uri_get_scheme(uri);
        if (g_ascii_strcasecmp(scheme, "http") != 0 && g_ascii_strcasecmp(scheme, "https") != 0)
                return "must start with http:// or https://";
        path = g_uri_get_path(uri);
        host = g_uri_get_host(uri);
        if (!host || !*host || g_uri_get_userinfo(uri) || g_uri_get_query(uri) ||
            g_uri_get_fragment(uri) || (*path && strcmp(path, "/") != 0))
                return "must be scheme://host:port and nothing more";
        return NULL;
}

const char *
netiso_key_prefix_problem(const char *prefix)
{
        gsize len = strlen(prefix);

        if (len < 2 || prefix[0] != '/' || prefix[len - 1] != '/')
                return "must start and end with '/' and hold a name between";
        if (len > NETISO_KEY_PREFIX_MAX)
                return "is longer than 256 characters";
        for (const char *p = prefix; *p; p++)
                if (*p <= ' ' || *p >= 0x7f)
                        return "may hold only printable ASCII characters without spaces";
        if (strstr(prefix, "//"))
                return "must not contain '//'";
        return NULL;
}
