/* The nftables backend's event operations: the skeleton and per-guest
 * elements of table inet blixard, one libnftables batch per event unless
 * the fast path (nft-fast.c) takes it. Names arrive validated (domain.c). */
#include "autoconfig.h"

#include <stdio.h>

#include "nft/nft-backend.h"
#include "nft/nft-fast.h"
#include "nft/nft-lib.h"
#include "nft/nft-remote.h"
#include "nft/nft-skeleton.h"
#include "util/error.h"

#define T "inet " NETISO_NFT_TABLE

/* ---- per-guest elements ---- */

static void
element_pair(GString *out, gboolean tolerant_delete, const char *set, const char *element,
             const char *key)
{
        /* "add; delete" is the tolerant delete of libnftables 1.0.6, which has
         * no "destroy": the add makes the delete succeed when the element is
         * already gone. The delete names the key only. */
        g_string_append_printf(out, "add element " T " %s { %s }\n", set, element);
        if (tolerant_delete)
                g_string_append_printf(out, "delete element " T " %s { %s }\n", set, key);
}

/* The tap's flow id (nft-skeleton.c, guest_flow): what zone and mark its
 * connections get, and the pairs that bind them. A record without an id
 * (written by an older version) gets none: its tap has no flows. */
static void
render_flow_id(GString *out, gboolean remove, const char *qtap, guint16 flow_id)
{
        g_autofree char *map = g_strdup_printf("%s : %u", qtap, flow_id);
        g_autofree char *pair = g_strdup_printf("%s . %u", qtap, flow_id);

        if (flow_id == 0)
                return;
        element_pair(out, remove, "zone_by_tap", map, qtap);
        element_pair(out, remove, "mark_by_tap", map, qtap);
        element_pair(out, remove, "flow_zone", pair, pair);
        element_pair(out, remove, "flow_mark", pair, pair);
}

static void
render_port(GString *out, gboolean remove, gboolean keep_counter, const char *tap,
            const char *tenant, guint16 flow_id, const GArray *addresses)
{
        g_autofree char *qtap = g_strdup_printf("\"%s\"", tap);
        g_autofree char *vmap = g_strdup_printf("%s : jump tenant-%s", qtap, tenant);
        g_autofree char *tset = g_strdup_printf("tenant-%s-ifs", tenant);

        element_pair(out, remove, "guest_ifs", qtap, qtap);
        if (!(remove && keep_counter))
                element_pair(out, remove, "guest_drops", qtap, qtap);
        element_pair(out, remove, "guest_tenant", vmap, qtap);
        element_pair(out, remove, tset, qtap, qtap);
        render_flow_id(out, remove, qtap, flow_id);
        for (guint i = 0; i < addresses->len; i++) {
                const NetisoCidr *c = &g_array_index(addresses, NetisoCidr, i);
                g_autofree char *a = netiso_cidr_to_string(c, /* with_host_prefix */ FALSE);
                g_autofree char *src = g_strdup_printf("%s . %s", qtap, a);
                g_autofree char *owner = g_strdup_printf("%s : %s", a, qtap);
                gboolean v4 = c->family == NETISO_FAMILY_IPV4;

                element_pair(out, remove, v4 ? "guest_src_v4" : "guest_src_v6", src, src);
                element_pair(out, remove, v4 ? "addr_owner_v4" : "addr_owner_v6", owner, a);
        }
}

/* Dropping an unused tenant is a separate, best-effort batch: the kernel
 * refuses it (EBUSY) while any guest_tenant element still jumps to the
 * chain, which makes the kernel's reference count the tenant's guest count. */
static void
gc_tenant(NetisoFirewall *fw, const char *tenant)
{
        g_autofree char *text = g_strdup_printf("delete chain " T " tenant-%s\n"
                                                "delete set " T " tenant-%s-ifs\n",
                                                tenant, tenant);
        g_autoptr(GError) ignored = NULL;

        netiso_nft_run(fw, text, &ignored);
}

static void
render_record_removal(GString *out, const NetisoRecord *old, const NetisoPolicy *keep)
{
        netiso_nft_render_tenant(out, old->tenant, /* rewrite */ FALSE);
        for (guint i = 0; i < old->ports->len; i++) {
                const NetisoRecordPort *p = g_ptr_array_index(old->ports, i);
                render_port(out, /* remove */ TRUE, netiso_policy_has_tap(keep, p->tap), p->tap,
                            old->tenant, old->flow_id, p->addresses);
        }
}

/* Whether the kernel holds this element: the return code of a "get
 * element" says it, nothing is parsed. Capture mode says yes. */
static gboolean
kernel_has(NetisoFirewall *fw, const char *set, const char *element)
{
        g_autofree char *cmd = g_strdup_printf("get element " T " %s { %s }", set, element);
        g_autofree char *out = netiso_nft_query(fw, cmd, /* json */ FALSE, NULL);

        return out != NULL;
}

/* Turn the kernel's terse refusal of an address element into the conflict
 * it almost always is: another guest's tap already owns that address, that
 * is, addr_owner holds it while guest_src does not bind it to this tap (one
 * event writes both).
 * TODO(sec-netlink): ask for the one addr_owner element (NFT_MSG_GETSETELEM
 * on the fast path's socket) and compare its data with the tap, once
 * nft-netlink.c, being rebuilt on libmnl/libnftnl, can get an element; that
 * also spares loading libnftables after a refused fast event. */
static void
explain_conflict(NetisoFirewall *fw, const NetisoPolicy *policy, GError **error)
{
        for (guint i = 0; i < policy->ports->len; i++) {
                const NetisoPolicyPort *p = g_ptr_array_index(policy->ports, i);

                for (guint a = 0; a < p->addresses->len; a++) {
                        const NetisoCidr *c = &g_array_index(p->addresses, NetisoCidr, a);
                        gboolean v4 = c->family == NETISO_FAMILY_IPV4;
                        g_autofree char *s = netiso_cidr_to_string(c, /* with_host_prefix */ FALSE);
                        g_autofree char *bound = g_strdup_printf("\"%s\" . %s", p->tap, s);

                        if (!kernel_has(fw, v4 ? "addr_owner_v4" : "addr_owner_v6", s) ||
                            kernel_has(fw, v4 ? "guest_src_v4" : "guest_src_v6", bound))
                                continue;
                        g_clear_error(error);
                        g_set_error(
                                error, NETISO_ERROR, NETISO_ERROR_CONFLICT,
                                "domain '%s': address %s of interface %u is already installed for another guest's tap",
                                policy->domain, s, p->iface_index);
                        return;
                }
        }
}

/* The fast path's socket, opened on first use and kept by fw; NULL in
 * capture mode (error not set). */
static NetisoNl *
netlink(NetisoFirewall *fw, GError **error)
{
        NetisoNl *nl;

        if (netiso_firewall_mode(fw) == NETISO_FIREWALL_CAPTURE)
                return NULL;
        nl = netiso_firewall_handle(fw, "nf_tables netlink");
        if (nl)
                return nl;
        nl = netiso_nl_open(error);
        if (nl)
                netiso_firewall_set_handle(fw, "nf_tables netlink", nl,
                                           (GDestroyNotify)netiso_nl_close);
        return nl;
}

/* The fast path (nft-fast.c) when the kernel holds this configuration's
 * skeleton; DECLINED (nothing changed) sends the event down the full path.
 * old == NULL with policy == NULL is never asked. */
static NetisoNftFast
try_fast(NetisoFirewall *fw, const NetisoConfig *config, const NetisoPolicy *policy,
         const NetisoRecord *old, GError **error)
{
        const char *what = policy ? "install" : "remove";
        const char *domain = policy ? policy->domain : old->domain;
        g_autofree char *reason = NULL;
        g_autoptr(GError) local = NULL;
        NetisoNl *nl;
        NetisoNftFast r;

        if (!netiso_nft_fast_enabled())
                return NETISO_NFT_FAST_DECLINED;
        nl = netlink(fw, &local);
        if (local) {
                g_propagate_error(error, g_steal_pointer(&local));
                return NETISO_NFT_FAST_FAILED;
        }
        if (!nl)
                return NETISO_NFT_FAST_DECLINED;
        if (policy)
                r = netiso_nft_fast_apply(nl, config, policy, old, &reason, error);
        else
                r = netiso_nft_fast_remove(nl, config, old, &reason, error);
        if (r == NETISO_NFT_FAST_DECLINED)
                netiso_nft_trace("%s slow %s: %s", what, domain, reason);
        else
                netiso_nft_trace("%s fast %s%s", what, domain,
                                 r == NETISO_NFT_FAST_FAILED ? " (refused)" : "");
        return r;
}

static gboolean
nft_apply(NetisoFirewall *fw, const NetisoConfig *config, const NetisoPolicy *policy,
          const NetisoRecord *old, GError **error)
{
        g_autoptr(GString) out = g_string_new(NULL);

        if (!netiso_policy_is_routed(policy, "table inet " NETISO_NFT_TABLE, error))
                return FALSE;
        switch (try_fast(fw, config, policy, old, error)) {
        case NETISO_NFT_FAST_DONE:
                return TRUE;
        case NETISO_NFT_FAST_FAILED:
                explain_conflict(fw, policy, error);
                return FALSE;
        case NETISO_NFT_FAST_DECLINED:
        default:
                break;
        }
        netiso_nft_render_skeleton(out, config);
        if (old)
                render_record_removal(out, old, policy);
        netiso_nft_render_tenant(out, policy->tenant, /* rewrite */ TRUE);
        for (guint i = 0; i < policy->ports->len; i++) {
                const NetisoPolicyPort *p = g_ptr_array_index(policy->ports, i);
                render_port(out, /* remove */ FALSE, /* keep_counter */ FALSE, p->tap,
                            policy->tenant, policy->flow_id, p->addresses);
        }
        if (!netiso_nft_run(fw, out->str, error)) {
                explain_conflict(fw, policy, error);
                return FALSE;
        }
        if (old && !g_str_equal(old->tenant, policy->tenant))
                gc_tenant(fw, old->tenant);
        return TRUE;
}

/* Teardown must not be stopped by one missing piece: if the whole batch is
 * refused, remove each port on its own, then report what still failed. */
static gboolean
nft_remove(NetisoFirewall *fw, const NetisoConfig *config, const NetisoRecord *old, GError **error)
{
        g_autoptr(GString) out = g_string_new(NULL);
        g_autoptr(GError) first = NULL;
        gboolean ok = TRUE;

        /* A refused fast batch changed nothing: the full path below still
         * removes what it can, port by port. */
        if (try_fast(fw, config, NULL, old, &first) == NETISO_NFT_FAST_DONE)
                return TRUE;
        g_clear_error(&first);
        netiso_nft_render_skeleton(out, config);
        render_record_removal(out, old, NULL);
        if (!netiso_nft_run(fw, out->str, &first)) {
                for (guint i = 0; i < old->ports->len; i++) {
                        const NetisoRecordPort *p = g_ptr_array_index(old->ports, i);
                        g_autoptr(GString) one = g_string_new(NULL);
                        g_autoptr(GError) e = NULL;

                        netiso_nft_render_skeleton(one, config);
                        netiso_nft_render_tenant(one, old->tenant, /* rewrite */ FALSE);
                        render_port(one, /* remove */ TRUE, /* keep_counter */ FALSE, p->tap,
                                    old->tenant, old->flow_id, p->addresses);
                        if (!netiso_nft_run(fw, one->str, &e) && ok) {
                                ok = FALSE;
                                g_set_error(error, NETISO_ERROR, NETISO_ERROR_FIREWALL,
                                            "domain '%s': tap %s: %s", old->domain, p->tap,
                                            e->message);
                        }
                }
        }
        gc_tenant(fw, old->tenant);
        return ok;
}

/* The guests of other hosts the watch daemon installed (its journal), so
 * that a rebuilt table keeps them. Unreadable, they are left out: the
 * daemon's next resync puts them back, and until then less passes. */
static void
render_remote(GString *out, const NetisoConfig *config)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(NetisoRemote) remote = NULL;

        if (!config->cluster)
                return;
        remote = netiso_remote_load(config->state_dir, NULL, &error);
        if (!remote) {
                g_warning("guests of other hosts left out: %s", error->message);
                return;
        }
        netiso_nft_render_remote_all(out, config, remote, /* flush */ FALSE);
}

static gboolean
nft_sync(NetisoFirewall *fw, const NetisoConfig *config, GPtrArray *records, GError **error)
{
        g_autoptr(GString) out = g_string_new(NULL);
        g_autoptr(GHashTable) tenants = g_hash_table_new(g_str_hash, g_str_equal);

        /* Deleting and recreating the table in one batch replaces it
         * atomically: no packet ever sees a half-built table. */
        g_string_append(out, "add table " T "\ndelete table " T "\n");
        netiso_nft_render_skeleton(out, config);
        for (guint i = 0; i < records->len; i++) {
                const NetisoRecord *rec = g_ptr_array_index(records, i);

                if (rec->backend != NETISO_BACKEND_NFTABLES)
                        continue;
                if (g_hash_table_add(tenants, rec->tenant))
                        netiso_nft_render_tenant(out, rec->tenant, /* rewrite */ TRUE);
                for (guint j = 0; j < rec->ports->len; j++) {
                        const NetisoRecordPort *p = g_ptr_array_index(rec->ports, j);
                        render_port(out, /* remove */ FALSE, /* keep_counter */ FALSE, p->tap,
                                    rec->tenant, rec->flow_id, p->addresses);
                }
        }
        render_remote(out, config);
        return netiso_nft_run(fw, out->str, error);
}

static gboolean
nft_purge(NetisoFirewall *fw, GError **error)
{
        return netiso_nft_run(fw, "add table " T "\ndelete table " T "\n", error);
}

const NetisoBackendOps netiso_backend_nft = {
        .kind = NETISO_BACKEND_NFTABLES,
        .apply = nft_apply,
        .remove = nft_remove,
        .sync = nft_sync,
        .purge = nft_purge,
};
