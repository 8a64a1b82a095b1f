/* The cluster's part of table inet blixard (nft/nft-remote.h): remote
 * addresses as map elements, a chain per tenant, rendered as libnftables
 * text for the watch daemon's batches and for every sync. */
#include "autoconfig.h"

#include "core/policy.h"
#include "nft/nft-elements.h"
#include "nft/nft-lib.h"
#include "nft/nft-remote.h"
#include "nft/nft-skeleton.h"

#define T "inet " NETISO_NFT_TABLE

void
netiso_nft_render_remote_tenant(GString *out, const NetisoConfig *config, const char *tenant)
{
        g_autoptr(NetisoRules) r = netiso_rules_new(config);
        const char *c = tenant;

        g_string_append_printf(out,
                               "add set " T " tenant-%1$s-ifs { type ifname; }\n"
                               "add set " T " tenant-%1$s-v4 { type ifname . ipv4_addr; }\n"
                               "add set " T " tenant-%1$s-v6 { type ifname . ipv6_addr; }\n"
                               "add chain " T " remote-%1$s\nflush chain " T " remote-%1$s\n",
                               c);
        switch (r->peers) {
        case NETISO_PEERS_SAME_TENANT:
                /* From a local guest to the address (from_guest), or from the
                 * address to a local guest (to_guest): the local end must be
                 * a routed tap of the tenant, or a bridged guest of it, which
                 * the inet hooks see as its bridge and its address (bound to
                 * its port by table bridge blixard). The other end is never a
                 * local guest here: those packets were decided before the
                 * lookup. */
                g_string_append_printf(
                        out,
                        "add rule " T " remote-%1$s iifname @tenant-%1$s-ifs accept\n"
                        "add rule " T " remote-%1$s oifname @tenant-%1$s-ifs accept\n"
                        "add rule " T " remote-%1$s iifname . ip saddr @tenant-%1$s-v4 accept\n"
                        "add rule " T " remote-%1$s iifname . ip6 saddr @tenant-%1$s-v6 accept\n"
                        "add rule " T " remote-%1$s oifname . ip daddr @tenant-%1$s-v4 accept\n"
                        "add rule " T " remote-%1$s oifname . ip6 daddr @tenant-%1$s-v6 accept\n",
                        c);
                break;
        case NETISO_PEERS_ALL:
                g_string_append_printf(out, "add rule " T " remote-%s accept\n", c);
                break;
        case NETISO_PEERS_NONE:
        default:
                /* inter_vm_isolation: no rule looks the maps up. */
                break;
        }
}

static const char *
map_of(const NetisoCidr *addr)
{
        return addr->family == NETISO_FAMILY_IPV4 ? "remote_v4" : "remote_v6";
}

void
netiso_nft_render_remote_change(GString *out, const NetisoCidr *addr, const char *old_tenant,
                                const char *new_tenant)
{
        g_autofree char *a = netiso_cidr_to_string(addr, /* with_host_prefix */ FALSE);

        if (g_strcmp0(old_tenant, new_tenant) == 0)
                return;
        /* "add; delete" is the tolerant delete of libnftables 1.0.6; the add
         * names the data the element had, so an element that says something
         * else refuses the batch (and the daemon resyncs). */
        if (old_tenant)
                g_string_append_printf(out,
                                       "add element " T " %s { %s : jump remote-%s }\n"
                                       "delete element " T " %s { %s }\n",
                                       map_of(addr), a, old_tenant, map_of(addr), a);
        if (new_tenant)
                g_string_append_printf(out, "add element " T " %s { %s : jump remote-%s }\n",
                                       map_of(addr), a, new_tenant);
}

void
netiso_nft_render_remote_all(GString *out, const NetisoConfig *config, const NetisoRemote *remote,
                             gboolean flush)
{
        GHashTable *tenants = netiso_remote_tenants(remote);
        g_autoptr(GList) names =
                g_list_sort(g_hash_table_get_keys(tenants), (GCompareFunc)g_strcmp0);
        GPtrArray *all = netiso_remote_list(remote);

        netiso_nft_render_remote_maps(out);
        if (flush)
                g_string_append(out, "flush map " T " remote_v4\nflush map " T " remote_v6\n");
        for (GList *l = names; l; l = l->next)
                netiso_nft_render_remote_tenant(out, config, l->data);
        for (guint i = 0; i < all->len; i++) {
                const NetisoRemoteAddr *e = g_ptr_array_index(all, i);
                netiso_nft_render_remote_change(out, &e->addr, NULL, e->tenant);
        }
}

void
netiso_nft_remote_gc(NetisoFirewall *fw, const char *tenant)
{
        g_autofree char *remote = g_strdup_printf("delete chain " T " remote-%s\n", tenant);
        g_autoptr(GString) local = g_string_new(NULL);
        g_autoptr(GError) ignored = NULL;
        g_autoptr(GError) busy = NULL;

        if (!netiso_nft_run(fw, remote, &ignored))
                return;
        /* The tenant's local objects too, unless a local guest still jumps
         * to its chains (then the kernel refuses the whole batch). Added
         * first: whichever of them a stop left behind, or never existed,
         * the deletes then find. */
        netiso_nft_render_tenant(local, tenant, /* rewrite */ FALSE);
        netiso_nft_render_tenant_gc(local, tenant);
        netiso_nft_run(fw, local->str, &busy);
}
