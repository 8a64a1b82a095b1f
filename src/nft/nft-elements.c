/* The per-guest elements of the full path's batches, as libnftables text:
 * a routed tap's in table inet blixard, a bridged port's in both tables,
 * and the rebuild and sync that write every recorded guest at once. */
#include "autoconfig.h"

#include <stdio.h>

#include "nft/nft-bridged.h"
#include "nft/nft-elements.h"
#include "nft/nft-skeleton.h"
#include "util/names.h"

#define T "inet " NETISO_NFT_TABLE
#define B NETISO_NFT_BRIDGE

static void
element_pair_in(GString *out, const char *table, gboolean tolerant_delete, const char *set,
                const char *element, const char *key)
{
        /* "add; delete" is the tolerant delete of libnftables 1.0.6, which has
         * no "destroy": the add makes the delete succeed when the element is
         * already gone. The delete names the key only. */
        g_string_append_printf(out, "add element %s %s { %s }\n", table, set, element);
        if (tolerant_delete)
                g_string_append_printf(out, "delete element %s %s { %s }\n", table, set, key);
}

static void
element_pair(GString *out, gboolean tolerant_delete, const char *set, const char *element,
             const char *key)
{
        element_pair_in(out, T, tolerant_delete, set, element, key);
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
render_routed(GString *out, gboolean remove, gboolean keep_counter, const char *tap,
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

void
netiso_nft_render_port(GString *out, gboolean remove, const NetisoPolicy *keep,
                       const NetisoRecordPort *p, const char *tenant, guint16 flow_id)
{
        g_autoptr(GPtrArray) elements = NULL;

        if (!p->bridge) {
                render_routed(out, remove, netiso_policy_has_tap(keep, p->tap), p->tap, tenant,
                              flow_id, p->addresses);
                return;
        }
        elements = netiso_nft_bridged_elements(p, tenant, flow_id);
        for (guint i = 0; i < elements->len; i++) {
                const NetisoNftElement *e = g_ptr_array_index(elements, i);

                if (remove && netiso_nft_counter_kept(e, p, keep))
                        continue;
                element_pair_in(out, e->bridge ? B : T, remove, e->set, e->text, e->text_key);
        }
}

void
netiso_nft_render_record_removal(GString *out, const NetisoRecord *old, const NetisoPolicy *keep)
{
        netiso_nft_render_tenant(out, old->tenant, /* rewrite */ FALSE);
        for (guint i = 0; i < old->ports->len; i++) {
                const NetisoRecordPort *p = g_ptr_array_index(old->ports, i);
                netiso_nft_render_port(out, /* remove */ TRUE, keep, p, old->tenant, old->flow_id);
        }
}

void
netiso_nft_render_record_install(GString *out, const NetisoRecord *rec)
{
        netiso_nft_render_tenant(out, rec->tenant, /* rewrite */ TRUE);
        for (guint i = 0; i < rec->ports->len; i++)
                netiso_nft_render_port(out, /* remove */ FALSE, /* keep */ NULL,
                                       g_ptr_array_index(rec->ports, i), rec->tenant, rec->flow_id);
}

void
netiso_nft_render_tenant_gc(GString *out, const char *tenant)
{
        g_string_append_printf(out,
                               "delete chain " T " tenant-%1$s\n"
                               "delete set " T " tenant-%1$s-ifs\n"
                               "delete set " T " tenant-%1$s-v4\n"
                               "delete set " T " tenant-%1$s-v6\n"
                               "delete chain " B " tenant-%1$s\n"
                               "delete set " B " tenant-%1$s-ifs\n",
                               tenant);
}

/* Per-guest sets and maps a rebuild flushes and refills from the records.
 * Not the guest_drops sets: their elements carry the per-guest drop
 * counters, and a stray one only counts. */
static const char *const guest_sets[][3] = {
        { T, "set", "guest_ifs" },       { T, "set", "guest_src_v4" },
        { T, "set", "guest_src_v6" },    { T, "map", "addr_owner_v4" },
        { T, "map", "addr_owner_v6" },   { T, "map", "guest_tenant" },
        { T, "map", "zone_by_tap" },     { T, "map", "mark_by_tap" },
        { T, "set", "flow_zone" },       { T, "set", "flow_mark" },
        { T, "map", "guest_tenant_v4" }, { T, "map", "guest_tenant_v6" },
        { T, "map", "zone_by_addr_v4" }, { T, "map", "zone_by_addr_v6" },
        { T, "map", "mark_by_addr_v4" }, { T, "map", "mark_by_addr_v6" },
        { T, "set", "flow_zone_v4" },    { T, "set", "flow_zone_v6" },
        { T, "set", "flow_mark_v4" },    { T, "set", "flow_mark_v6" },
        { T, "set", "net_services_v4" }, { T, "set", "net_services_v6" },
        { B, "set", "guest_ifs" },       { B, "set", "guest_mac" },
        { B, "set", "dhcp_chaddr" },     { B, "set", "guest_src_v4" },
        { B, "set", "guest_src_v6" },    { B, "set", "nd_target_v6" },
        { B, "set", "owned_v4" },        { B, "set", "owned_v6" },
        { B, "set", "owned_nd_v6" },     { B, "map", "guest_tenant" },
        { B, "map", "zone_by_port" },    { B, "map", "mark_by_port" },
        { B, "set", "flow_zone" },       { B, "set", "flow_mark" },
};

const char *
netiso_nft_guest_set(gsize i, gboolean *ret_bridge)
{
        if (i >= G_N_ELEMENTS(guest_sets))
                return NULL;
        *ret_bridge = g_str_equal(guest_sets[i][0], B);
        return guest_sets[i][2];
}

/* gone's drop counter elements that no record of records keeps. */
static void
render_gone_counters(GString *out, GPtrArray *records, const NetisoRecord *gone)
{
        g_autoptr(GHashTable) kept = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

        for (guint i = 0; gone && i < records->len; i++) {
                const NetisoRecord *rec = g_ptr_array_index(records, i);

                for (guint j = 0; j < rec->ports->len; j++) {
                        const NetisoRecordPort *p = g_ptr_array_index(rec->ports, j);
                        g_autoptr(GPtrArray) elements = NULL;

                        g_hash_table_add(kept, g_strdup_printf("T guest_drops \"%s\"", p->tap));
                        if (!p->bridge)
                                continue;
                        elements = netiso_nft_bridged_elements(p, rec->tenant, rec->flow_id);
                        for (guint k = 0; k < elements->len; k++) {
                                const NetisoNftElement *e = g_ptr_array_index(elements, k);
                                if (e->counter)
                                        g_hash_table_add(kept,
                                                         g_strdup_printf("%c %s %s",
                                                                         e->bridge ? 'B' : 'T',
                                                                         e->set, e->text));
                        }
                }
        }
        for (guint i = 0; gone && i < gone->ports->len; i++) {
                const NetisoRecordPort *p = g_ptr_array_index(gone->ports, i);
                g_autofree char *qtap = g_strdup_printf("\"%s\"", p->tap);
                g_autofree char *routed = g_strdup_printf("T guest_drops %s", qtap);
                g_autoptr(GPtrArray) elements = NULL;

                if (!p->bridge) {
                        if (!g_hash_table_contains(kept, routed))
                                element_pair(out, /* tolerant_delete */ TRUE, "guest_drops", qtap,
                                             qtap);
                        continue;
                }
                elements = netiso_nft_bridged_elements(p, gone->tenant, gone->flow_id);
                for (guint k = 0; k < elements->len; k++) {
                        const NetisoNftElement *e = g_ptr_array_index(elements, k);
                        g_autofree char *id =
                                g_strdup_printf("%c %s %s", e->bridge ? 'B' : 'T', e->set, e->text);

                        if (e->counter && !g_hash_table_contains(kept, id))
                                element_pair_in(out, e->bridge ? B : T, TRUE, e->set, e->text,
                                                e->text_key);
                }
        }
}

void
netiso_nft_render_rebuild(GString *out, const NetisoConfig *config, gboolean stateful,
                          GPtrArray *records, const NetisoRecord *gone)
{
        netiso_nft_render_skeleton(out, config, stateful);
        netiso_nft_render_guests(out, records, gone);
}

void
netiso_nft_render_guests(GString *out, GPtrArray *records, const NetisoRecord *gone)
{
        g_autoptr(GHashTable) tenants = g_hash_table_new(g_str_hash, g_str_equal);

        for (gsize i = 0; i < G_N_ELEMENTS(guest_sets); i++)
                g_string_append_printf(out, "flush %s %s %s\n", guest_sets[i][1], guest_sets[i][0],
                                       guest_sets[i][2]);
        for (guint i = 0; i < records->len; i++) {
                const NetisoRecord *rec = g_ptr_array_index(records, i);

                if (!g_hash_table_add(tenants, rec->tenant))
                        continue;
                netiso_nft_render_tenant(out, rec->tenant, /* rewrite */ TRUE);
                g_string_append_printf(out,
                                       "flush set " T " tenant-%1$s-ifs\n"
                                       "flush set " T " tenant-%1$s-v4\n"
                                       "flush set " T " tenant-%1$s-v6\n"
                                       "flush set " B " tenant-%1$s-ifs\n",
                                       rec->tenant);
        }
        for (guint i = 0; i < records->len; i++) {
                const NetisoRecord *rec = g_ptr_array_index(records, i);

                for (guint j = 0; j < rec->ports->len; j++)
                        netiso_nft_render_port(out, /* remove */ FALSE, /* keep */ NULL,
                                               g_ptr_array_index(rec->ports, j), rec->tenant,
                                               rec->flow_id);
        }
        render_gone_counters(out, records, gone);
}

void
netiso_nft_render_stale_tenants(GString *out, GPtrArray *records, GHashTable *remote_tenants,
                                const GPtrArray *chains)
{
        g_autoptr(GHashTable) wanted = g_hash_table_new(g_str_hash, g_str_equal);

        for (guint i = 0; i < records->len; i++)
                g_hash_table_add(wanted, ((NetisoRecord *)g_ptr_array_index(records, i))->tenant);
        /* A tenant with guests only on other hosts keeps its set: remote-T's
         * rules name it, and deleting it would refuse the whole batch. */
        if (remote_tenants) {
                GHashTableIter it;
                gpointer key;

                g_hash_table_iter_init(&it, remote_tenants);
                while (g_hash_table_iter_next(&it, &key, NULL))
                        g_hash_table_add(wanted, key);
        }
        for (guint i = 0; chains && i < chains->len; i++) {
                const char *chain = g_ptr_array_index(chains, i);
                const char *tenant = g_str_has_prefix(chain, "tenant-") ? chain + 7 : NULL;
                g_autofree char *problem = tenant ? netiso_tenant_name_problem(tenant) : NULL;

                /* Names from the kernel reach the text only if valid. Each
                 * object is added before it is deleted: the delete succeeds
                 * whether or not an older version made it. */
                if (!tenant || problem || g_hash_table_contains(wanted, tenant))
                        continue;
                g_string_append_printf(out,
                                       "flush chain " T " %1$s\ndelete chain " T " %1$s\n"
                                       "add set " T " %1$s-ifs { type ifname; }\n"
                                       "delete set " T " %1$s-ifs\n"
                                       "add set " T " %1$s-v4 { type ifname . ipv4_addr; }\n"
                                       "delete set " T " %1$s-v4\n"
                                       "add set " T " %1$s-v6 { type ifname . ipv6_addr; }\n"
                                       "delete set " T " %1$s-v6\n"
                                       "add chain " B " %1$s\nflush chain " B " %1$s\n"
                                       "delete chain " B " %1$s\n"
                                       "add set " B " %1$s-ifs { type ifname; }\n"
                                       "delete set " B " %1$s-ifs\n",
                                       chain);
        }
}

void
netiso_nft_render_sync(GString *out, const NetisoConfig *config, gboolean stateful,
                       GPtrArray *records)
{
        g_autoptr(GHashTable) tenants = g_hash_table_new(g_str_hash, g_str_equal);

        /* Deleting and recreating the tables in one batch replaces them
         * atomically: no packet ever sees a half-built table. */
        g_string_append(out, NETISO_NFT_PURGE);
        netiso_nft_render_skeleton(out, config, stateful);
        for (guint i = 0; i < records->len; i++) {
                const NetisoRecord *rec = g_ptr_array_index(records, i);

                if (rec->backend != NETISO_BACKEND_NFTABLES)
                        continue;
                if (g_hash_table_add(tenants, rec->tenant))
                        netiso_nft_render_tenant(out, rec->tenant, /* rewrite */ TRUE);
                for (guint j = 0; j < rec->ports->len; j++)
                        netiso_nft_render_port(out, /* remove */ FALSE, /* keep */ NULL,
                                               g_ptr_array_index(rec->ports, j), rec->tenant,
                                               rec->flow_id);
        }
}
