/* Hand-built configurations for the nwfilter tests: the seed document's
 * example and variations of it, one behaviour each. */
#include "autoconfig.h"

#include <string.h>

#include "nwfilter-cases.h"

static const char *const names[] = {
        "seed",        /* the seed's example block; tenants production and staging */
        "inter-vm",    /* inter_vm_isolation = true; tenant "default" */
        "no-internet", /* allow_internet = false */
        "open",        /* tenant_isolation = false: every guest may talk to every guest */
        "inbound",     /* inbound 22/tcp, 443/tcp, 51820/udp; production and staging */
        "ipv6",        /* IPv6 cluster and guest networks, inbound 22/tcp; two tenants */
        NULL,
};

const char *const *
nwcase_names(void)
{
        return names;
}

static GArray *
cidrs_new(const char *const *texts)
{
        GArray *a = g_array_new(/* zero_terminated */ FALSE, /* clear */ TRUE, sizeof(NetisoCidr));

        for (gsize i = 0; texts[i]; i++) {
                NetisoCidr c;
                if (!netiso_cidr_parse(texts[i], &c, NULL))
                        g_error("test case: bad CIDR '%s'", texts[i]);
                g_array_append_val(a, c);
        }
        return a;
}

static void
port_add(NetisoConfig *c, NetisoProto proto, guint16 port, NetisoDirection direction)
{
        NetisoPort p = { .protocol = proto, .port = port, .direction = direction };

        g_array_append_val(c->allowed_ports, p);
}

/* The seed document's example: cluster_networks as listed there (which
 * replaces the defaults), vm_network 10.0.0.0/16, DNS over UDP and TCP. */
static NetisoConfig *
seed_new(void)
{
        static const char *const cluster[] = { "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
                                               NULL };
        static const char *const vm[] = { "10.0.0.0/16", NULL };
        NetisoConfig *c = g_new0(NetisoConfig, 1);

        c->path = g_strdup("(test)");
        c->enabled = TRUE;
        c->backend = NETISO_BACKEND_NFTABLES;
        c->cluster_networks = cidrs_new(cluster);
        c->vm_networks = cidrs_new(vm);
        c->inter_vm_isolation = FALSE;
        c->tenant_isolation = TRUE;
        c->allow_internet = TRUE;
        c->allowed_ports =
                g_array_new(/* zero_terminated */ FALSE, /* clear */ TRUE, sizeof(NetisoPort));
        port_add(c, NETISO_PROTO_UDP, 53, NETISO_DIRECTION_OUTBOUND);
        port_add(c, NETISO_PROTO_TCP, 53, NETISO_DIRECTION_OUTBOUND);
        c->guest_interface_patterns = g_ptr_array_new_with_free_func(g_free);
        g_ptr_array_add(c->guest_interface_patterns, g_strdup("vnet*"));
        c->log_drops_per_second = 5;
        c->state_dir = g_strdup(NETISO_DEFAULT_STATE_DIR);
        return c;
}

NwcaseConfig *
nwcase_config_new(const char *name)
{
        NetisoConfig *c;

        if (!g_strv_contains((const char *const *)names, name))
                return NULL;
        c = seed_new();
        if (strcmp(name, "inter-vm") == 0) {
                c->inter_vm_isolation = TRUE;
        } else if (strcmp(name, "no-internet") == 0) {
                c->allow_internet = FALSE;
        } else if (strcmp(name, "open") == 0) {
                c->tenant_isolation = FALSE;
        } else if (strcmp(name, "inbound") == 0) {
                port_add(c, NETISO_PROTO_TCP, 22, NETISO_DIRECTION_INBOUND);
                port_add(c, NETISO_PROTO_TCP, 443, NETISO_DIRECTION_INBOUND);
                port_add(c, NETISO_PROTO_UDP, 51820, NETISO_DIRECTION_INBOUND);
        } else if (strcmp(name, "ipv6") == 0) {
                static const char *const cluster[] = {
                        "127.0.0.0/8",   "169.254.0.0/16", "::1/128", "fe80::/10",
                        "172.16.0.0/12", "fd00:c1::/32",   NULL
                };
                static const char *const vm[] = { "10.0.0.0/16", "fd00:10::/64", NULL };
                g_array_unref(c->cluster_networks);
                g_array_unref(c->vm_networks);
                c->cluster_networks = cidrs_new(cluster);
                c->vm_networks = cidrs_new(vm);
                port_add(c, NETISO_PROTO_TCP, 22, NETISO_DIRECTION_INBOUND);
        }
        return c;
}

GPtrArray *
nwcase_tenants_new(const char *name)
{
        GPtrArray *t = g_ptr_array_new_with_free_func(g_free);

        if (strcmp(name, "seed") == 0 || strcmp(name, "inbound") == 0 ||
            strcmp(name, "ipv6") == 0) {
                g_ptr_array_add(t, g_strdup("production"));
                g_ptr_array_add(t, g_strdup("staging"));
        } else if (strcmp(name, "inter-vm") != 0) {
                g_ptr_array_add(t, g_strdup("production"));
        }
        return t;
}

void
nwcase_config_free(NwcaseConfig *c)
{
        if (!c)
                return;
        g_free(c->path);
        g_clear_pointer(&c->cluster_networks, g_array_unref);
        g_clear_pointer(&c->vm_networks, g_array_unref);
        g_clear_pointer(&c->allowed_ports, g_array_unref);
        g_clear_pointer(&c->guest_interface_patterns, g_ptr_array_unref);
        g_free(c->state_dir);
        g_free(c);
}
