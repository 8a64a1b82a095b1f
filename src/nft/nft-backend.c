/* The nftables backend's event operations: the skeleton and per-guest
 * elements of table inet blixard, one libnftables batch per event unless
 * the fast path (nft-fast.c) takes it. Names arrive validated (domain.c). */
#include "autoconfig.h"

#include <net/if.h>
#include <stdio.h>

#include "nft/nft-backend.h"
#include "nft/nft-fast.h"
#include "nft/nft-generation.h"
#include "nft/nft-lib.h"
#include "nft/nft-netlink.h"
#include "nft/nft-remote.h"
#include "nft/nft-skeleton.h"
#include "util/error.h"
#include "util/names.h"

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

typedef struct {
        const NetisoConfig *config;
        char *key, *mark;
} Skeleton;

static void
skeleton_free(gpointer data)
{
        Skeleton *k = data;

        g_free(k->key);
        g_free(k->mark);
        g_free(k);
}

/* The skeleton's key and mark for config, kept by fw and computed when
 * first asked: rendering the skeleton for its mark is a large part of an
 * event's own instructions, which the fast path spares (the record holds
 * the mark for the key). */
static Skeleton *
skeleton(NetisoFirewall *fw, const NetisoConfig *config)
{
        Skeleton *k = netiso_firewall_handle(fw, "nft skeleton");

        if (k && k->config == config)
                return k;
        k = g_new0(Skeleton, 1);
        k->config = config;
        k->key = netiso_nft_generation_key(config);
        netiso_firewall_set_handle(fw, "nft skeleton", k, skeleton_free);
        return k;
}

static const char *
skeleton_mark(NetisoFirewall *fw, const NetisoConfig *config)
{
        Skeleton *k = skeleton(fw, config);
        g_autoptr(GHashTable) counts = NULL;

        if (!k->mark)
                netiso_nft_skeleton_facts(config, &k->mark, &counts);
        return k->mark;
}

/* Turn the kernel's terse refusal of an address element into the conflict
 * it almost always is: another guest's tap owns that address. The kernel
 * is asked for that one element of addr_owner_v4/6, never for a listing. */
static void
explain_conflict(NetisoFirewall *fw, const NetisoPolicy *policy, GError **error)
{
        NetisoNl *nl = netlink(fw, NULL);

        for (guint i = 0; nl && i < policy->ports->len; i++) {
                const NetisoPolicyPort *p = g_ptr_array_index(policy->ports, i);

                for (guint a = 0; a < p->addresses->len; a++) {
                        const NetisoCidr *c = &g_array_index(p->addresses, NetisoCidr, a);
                        gboolean v4 = c->family == NETISO_FAMILY_IPV4;
                        g_autoptr(GBytes) owner = NULL;
                        g_autofree char *owner_tap = NULL;
                        g_autofree char *s = NULL;
                        gsize len = 0;
                        const char *data;

                        if (!netiso_nl_map_lookup(nl, NETISO_NFT_TABLE,
                                                  v4 ? "addr_owner_v4" : "addr_owner_v6", c->bytes,
                                                  v4 ? 4 : 16, &owner, NULL) ||
                            !owner)
                                continue;
                        data = g_bytes_get_data(owner, &len);
                        owner_tap = g_strndup(data, MIN(len, IFNAMSIZ));
                        if (g_strcmp0(owner_tap, p->tap) == 0)
                                continue;
                        s = netiso_cidr_to_string(c, /* with_host_prefix */ FALSE);
                        g_clear_error(error);
                        g_set_error(
                                error, NETISO_ERROR, NETISO_ERROR_CONFLICT,
                                "domain '%s': address %s of interface %u is already installed for another guest's tap",
                                policy->domain, s, p->iface_index);
                        return;
                }
        }
}

/* ---- the full path, and the generation it leaves ---- */

/* Our own libnftables commits for one event: the generation before the
 * first, and how many committed since. When the kernel is then exactly
 * that many generations on, nobody else committed in between; if the table
 * was verified (trusted before the event, or rebuilt from the records by
 * it) and one of the batches rewrote the skeleton, it is as we left it and
 * the next event may take the fast path (nft-generation.h). */
typedef struct {
        NetisoFirewall *fw;
        const NetisoConfig *config;
        NetisoNl *nl; /* NULL: capture mode, or the generation is unknown */
        guint32 before;
        guint commits;
        gboolean skeleton, verified;
} Full;

static void
full_begin(Full *f, NetisoFirewall *fw, const NetisoConfig *config, gboolean verified)
{
        *f = (Full){ .fw = fw, .config = config, .nl = netlink(fw, NULL), .verified = verified };
        if (f->nl && !netiso_nl_generation(f->nl, &f->before, NULL))
                f->nl = NULL;
}

/* One libnftables batch; skeleton says it renders the whole skeleton. */
static gboolean
full_run(Full *f, const char *text, gboolean skeleton, GError **error)
{
        if (!netiso_nft_run(f->fw, text, error))
                return FALSE;
        f->commits++;
        f->skeleton = f->skeleton || skeleton;
        return TRUE;
}

static void
full_end(Full *f)
{
        guint32 after = 0;

        if (!f->nl || f->commits == 0)
                return;
        if (!f->verified || !f->skeleton || !netiso_nl_generation(f->nl, &after, NULL) ||
            after != f->before + f->commits) {
                netiso_nft_generation_forget(f->config->state_dir);
                return;
        }
        netiso_nft_generation_record(f->config->state_dir, f->nl, after,
                                     skeleton(f->fw, f->config)->key,
                                     skeleton_mark(f->fw, f->config));
}

/* Dropping an unused tenant is a separate, best-effort batch: the kernel
 * refuses it (EBUSY) while any guest_tenant element still jumps to the
 * chain, which makes the kernel's reference count the tenant's guest count. */
static void
gc_tenant(Full *f, const char *tenant)
{
        g_autofree char *text = g_strdup_printf("delete chain " T " tenant-%s\n"
                                                "delete set " T " tenant-%s-ifs\n",
                                                tenant, tenant);
        g_autoptr(GError) ignored = NULL;

        full_run(f, text, /* skeleton */ FALSE, &ignored);
}

static void
render_record_install(GString *out, const NetisoRecord *rec)
{
        netiso_nft_render_tenant(out, rec->tenant, /* rewrite */ TRUE);
        for (guint i = 0; i < rec->ports->len; i++) {
                const NetisoRecordPort *p = g_ptr_array_index(rec->ports, i);
                render_port(out, /* remove */ FALSE, /* keep_counter */ FALSE, p->tap, rec->tenant,
                            rec->flow_id, p->addresses);
        }
}

/* The fast batch's outcome is unknown and the full path then refused the
 * event: the kernel holds old's state or policy's. One batch puts old's
 * back (nothing when old is NULL), so that the failure reported still
 * means nothing changed and the record put back is the truth. */
static void
undo_unknown(Full *f, const NetisoPolicy *policy, const NetisoRecord *old)
{
        g_autoptr(NetisoRecord) next =
                netiso_record_new_from_policy(policy, NETISO_BACKEND_NFTABLES);
        g_autoptr(GString) out = g_string_new(NULL);
        g_autoptr(GError) e = NULL;

        netiso_nft_render_skeleton(out, f->config);
        render_record_removal(out, next, NULL);
        if (old)
                render_record_install(out, old);
        if (!full_run(f, out->str, /* skeleton */ TRUE, &e))
                g_warning("domain '%s': the kernel may hold this event's elements: %s",
                          policy->domain, e->message);
}

/* ---- verifying the whole table ---- */

/* Per-guest sets and maps a rebuild flushes and refills from the records.
 * Not guest_drops: its elements carry the per-guest drop counters, and a
 * stray one only counts. */
static const char *const guest_sets[][2] = {
        { "set", "guest_ifs" },     { "set", "guest_src_v4" },  { "set", "guest_src_v6" },
        { "map", "addr_owner_v4" }, { "map", "addr_owner_v6" }, { "map", "guest_tenant" },
        { "map", "zone_by_tap" },   { "map", "mark_by_tap" },   { "set", "flow_zone" },
        { "set", "flow_mark" },
};
/* The guests' part of the table as the records say, over what someone else
 * may have edited in place: every recorded tenant's chain rewritten and its
 * set refilled, every per-guest set refilled; the drop counters survive.
 * gone's taps that no record keeps lose their guest_drops element too.
 * render_rebuild() puts the skeleton in front: one batch, so no packet sees
 * it half done. */
static void
render_guests(GString *out, GPtrArray *records, const NetisoRecord *gone)
{
        g_autoptr(GHashTable) tenants = g_hash_table_new(g_str_hash, g_str_equal);
        g_autoptr(GHashTable) taps = g_hash_table_new(g_str_hash, g_str_equal);

        for (gsize i = 0; i < G_N_ELEMENTS(guest_sets); i++)
                g_string_append_printf(out, "flush %s " T " %s\n", guest_sets[i][0],
                                       guest_sets[i][1]);
        for (guint i = 0; i < records->len; i++) {
                const NetisoRecord *rec = g_ptr_array_index(records, i);

                if (!g_hash_table_add(tenants, rec->tenant))
                        continue;
                netiso_nft_render_tenant(out, rec->tenant, /* rewrite */ TRUE);
                g_string_append_printf(out, "flush set " T " tenant-%s-ifs\n", rec->tenant);
        }
        for (guint i = 0; i < records->len; i++) {
                const NetisoRecord *rec = g_ptr_array_index(records, i);

                for (guint j = 0; j < rec->ports->len; j++) {
                        const NetisoRecordPort *p = g_ptr_array_index(rec->ports, j);
                        render_port(out, /* remove */ FALSE, /* keep_counter */ FALSE, p->tap,
                                    rec->tenant, rec->flow_id, p->addresses);
                        g_hash_table_add(taps, p->tap);
                }
        }
        for (guint i = 0; gone && i < gone->ports->len; i++) {
                const NetisoRecordPort *p = g_ptr_array_index(gone->ports, i);
                g_autofree char *qtap = g_strdup_printf("\"%s\"", p->tap);

                if (!g_hash_table_contains(taps, p->tap))
                        element_pair(out, /* tolerant_delete */ TRUE, "guest_drops", qtap, qtap);
        }
}

static void
render_rebuild(GString *out, const NetisoConfig *config, GPtrArray *records,
               const NetisoRecord *gone)
{
        netiso_nft_render_skeleton(out, config);
        render_guests(out, records, gone);
}

/* The nftables records of the state directory as they are after this
 * event: without domain's, with next's (NULL: none; taken either way). */
static GPtrArray *
records_after(const NetisoConfig *config, const char *domain, NetisoRecord *next, GError **error)
{
        g_autoptr(NetisoRecord) owned = next;
        g_autoptr(GPtrArray) all = netiso_state_list(config->state_dir, NULL, error);
        GPtrArray *after;

        if (!all)
                return NULL;
        after = g_ptr_array_new_with_free_func((GDestroyNotify)netiso_record_free);
        for (guint i = 0; i < all->len; i++) {
                NetisoRecord *rec = g_ptr_array_index(all, i);

                if (rec->backend == NETISO_BACKEND_NFTABLES && !g_str_equal(rec->domain, domain))
                        g_ptr_array_add(after, g_ptr_array_steal_index_fast(all, i--));
        }
        if (owned)
                g_ptr_array_add(after, g_steal_pointer(&owned));
        return after;
}

/* Someone else committed since our own last commit (or nobody can tell):
 * the event is one batch that rebuilds the table from the records, which
 * repairs whatever was edited in place (a set flushed or filled by hand,
 * a rule replaced, another tenant's chain). FALSE with error set when that
 * batch is refused: the caller does the event alone, and the table stays
 * unverified (no generation is recorded) until an event's rebuild
 * commits. next is taken. */
static gboolean
rebuild(Full *f, const char *domain, NetisoRecord *next, const NetisoRecord *gone, GError **error)
{
        g_autoptr(GPtrArray) records = records_after(f->config, domain, next, error);
        g_autoptr(GString) out = g_string_new(NULL);

        if (!records)
                return FALSE;
        render_rebuild(out, f->config, records, gone);
        if (!full_run(f, out->str, /* skeleton */ TRUE, error))
                return FALSE;
        f->verified = TRUE;
        return TRUE;
}

/* After a refused rebuild the event alone committed: the refusal was not
 * the event's own, so some record holds what the kernel refuses. */
static void
warn_unverified(const char *domain, const GError *refusal)
{
        g_warning(
                "domain '%s': the table could not be rebuilt from the records (reconcile repairs it): %s",
                domain, refusal->message);
}

/* ---- events ---- */

/* Trust first (netiso_nft_fast_trust()), then the fast path (nft-fast.c)
 * when it may be used. DECLINED (nothing changed) sends the event down the
 * full path, UNTRUSTED down the full path rebuilding the table, UNKNOWN
 * (error set) too: the full path settles it, its batch being right whether
 * the fast one committed or not. old == NULL with policy == NULL is never
 * asked. */
static NetisoNftFast
try_fast(NetisoFirewall *fw, const NetisoConfig *config, const NetisoPolicy *policy,
         const NetisoRecord *old, GError **error)
{
        const char *what = policy ? "install" : "remove";
        const char *domain = policy ? policy->domain : old->domain;
        const char *key = skeleton(fw, config)->key;
        g_autofree char *mark = NULL;
        g_autofree char *reason = NULL;
        g_autoptr(GError) local = NULL;
        guint32 generation = 0;
        NetisoNl *nl;
        NetisoNftFast r;

        nl = netlink(fw, &local);
        if (local) {
                g_propagate_error(error, g_steal_pointer(&local));
                return NETISO_NFT_FAST_FAILED;
        }
        if (!nl)
                return NETISO_NFT_FAST_DECLINED;
        r = netiso_nft_fast_trust(nl, config, key, &generation, &mark, &reason, error);
        if (r == NETISO_NFT_FAST_DONE && !netiso_nft_fast_enabled())
                return NETISO_NFT_FAST_DECLINED;
        if (r == NETISO_NFT_FAST_DONE && policy)
                r = netiso_nft_fast_apply(nl, config, key, mark, generation, policy, old, &reason,
                                          error);
        else if (r == NETISO_NFT_FAST_DONE)
                r = netiso_nft_fast_remove(nl, config, key, mark, generation, old, &reason, error);
        if (r == NETISO_NFT_FAST_DECLINED || r == NETISO_NFT_FAST_UNTRUSTED)
                netiso_nft_trace("%s slow %s: %s", what, domain, reason);
        else
                netiso_nft_trace("%s fast %s%s", what, domain,
                                 r == NETISO_NFT_FAST_FAILED    ? " (refused)"
                                 : r == NETISO_NFT_FAST_UNKNOWN ? " (outcome unknown)"
                                                                : "");
        return r;
}

static gboolean
nft_apply(NetisoFirewall *fw, const NetisoConfig *config, const NetisoPolicy *policy,
          const NetisoRecord *old, GError **error)
{
        g_autoptr(GString) out = g_string_new(NULL);
        g_autoptr(GError) fast_error = NULL;
        g_autoptr(GError) refused = NULL;
        NetisoNftFast r;
        Full f;

        if (!netiso_policy_is_routed(policy, "table inet " NETISO_NFT_TABLE, error))
                return FALSE;
        r = try_fast(fw, config, policy, old, &fast_error);
        switch (r) {
        case NETISO_NFT_FAST_DONE:
                return TRUE;
        case NETISO_NFT_FAST_FAILED:
                explain_conflict(fw, policy, &fast_error);
                g_propagate_error(error, g_steal_pointer(&fast_error));
                return FALSE;
        case NETISO_NFT_FAST_UNKNOWN:
                g_warning("domain '%s': %s: settling it on the full path", policy->domain,
                          fast_error->message);
                break;
        case NETISO_NFT_FAST_DECLINED:
        case NETISO_NFT_FAST_UNTRUSTED:
        default:
                break;
        }
        full_begin(&f, fw, config, /* verified */ r != NETISO_NFT_FAST_UNTRUSTED);
        if (r == NETISO_NFT_FAST_UNTRUSTED &&
            rebuild(&f, policy->domain,
                    netiso_record_new_from_policy(policy, NETISO_BACKEND_NFTABLES), old,
                    &refused)) {
                if (old && !g_str_equal(old->tenant, policy->tenant))
                        gc_tenant(&f, old->tenant);
                full_end(&f);
                return TRUE;
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
        if (!full_run(&f, out->str, /* skeleton */ TRUE, error)) {
                explain_conflict(fw, policy, error);
                if (fast_error)
                        undo_unknown(&f, policy, old);
                full_end(&f);
                return FALSE;
        }
        if (refused)
                warn_unverified(policy->domain, refused);
        if (old && !g_str_equal(old->tenant, policy->tenant))
                gc_tenant(&f, old->tenant);
        full_end(&f);
        return TRUE;
}

/* Teardown must not be stopped by one missing piece: if the whole batch is
 * refused, remove each port on its own, then report what still failed. */
static gboolean
nft_remove(NetisoFirewall *fw, const NetisoConfig *config, const NetisoRecord *old, GError **error)
{
        g_autoptr(GString) out = g_string_new(NULL);
        g_autoptr(GError) first = NULL;
        g_autoptr(GError) refused = NULL;
        gboolean ok = TRUE;
        NetisoNftFast r;
        Full f;

        /* A refused fast batch changed nothing, and one of unknown outcome
         * is settled by the same tolerant removal: the full path below
         * removes what is there, port by port if need be. */
        r = try_fast(fw, config, NULL, old, &first);
        if (r == NETISO_NFT_FAST_DONE)
                return TRUE;
        g_clear_error(&first);
        full_begin(&f, fw, config, /* verified */ r != NETISO_NFT_FAST_UNTRUSTED);
        if (r == NETISO_NFT_FAST_UNTRUSTED && rebuild(&f, old->domain, NULL, old, &refused)) {
                gc_tenant(&f, old->tenant);
                full_end(&f);
                return TRUE;
        }
        if (refused)
                warn_unverified(old->domain, refused);
        netiso_nft_render_skeleton(out, config);
        render_record_removal(out, old, NULL);
        if (!full_run(&f, out->str, /* skeleton */ TRUE, &first)) {
                for (guint i = 0; i < old->ports->len; i++) {
                        const NetisoRecordPort *p = g_ptr_array_index(old->ports, i);
                        g_autoptr(GString) one = g_string_new(NULL);
                        g_autoptr(GError) e = NULL;

                        netiso_nft_render_skeleton(one, config);
                        netiso_nft_render_tenant(one, old->tenant, /* rewrite */ FALSE);
                        render_port(one, /* remove */ TRUE, /* keep_counter */ FALSE, p->tap,
                                    old->tenant, old->flow_id, p->addresses);
                        if (!full_run(&f, one->str, /* skeleton */ TRUE, &e) && ok) {
                                ok = FALSE;
                                g_set_error(error, NETISO_ERROR, NETISO_ERROR_FIREWALL,
                                            "domain '%s': tap %s: %s", old->domain, p->tap,
                                            e->message);
                        }
                }
        }
        gc_tenant(&f, old->tenant);
        full_end(&f);
        return ok;
}

/* The guests of other hosts the watch daemon installed (its journal), so
 * that a rebuilt table keeps them. Unreadable, they are left out: the
 * daemon's next resync puts them back, and until then less passes. */
static NetisoRemote *
render_remote(GString *out, const NetisoConfig *config)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(NetisoRemote) remote = NULL;

        if (!config->cluster)
                return NULL;
        remote = netiso_remote_load(config->state_dir, NULL, &error);
        if (!remote) {
                g_warning("guests of other hosts left out: %s", error->message);
                return NULL;
        }
        netiso_nft_render_remote_all(out, config, remote, /* flush */ FALSE);
        return g_steal_pointer(&remote);
}

static gboolean
nft_sync(NetisoFirewall *fw, const NetisoConfig *config, GPtrArray *records, GError **error)
{
        g_autoptr(GString) out = g_string_new(NULL);
        g_autoptr(GHashTable) tenants = g_hash_table_new(g_str_hash, g_str_equal);
        g_autoptr(NetisoRemote) remote = NULL;
        gboolean ok;
        Full f;

        /* Deleting and recreating the table in one batch replaces it in one
         * commit, tenants nobody names included (but see netiso_nft_restore()
         * on interval sets). */
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
        remote = render_remote(out, config);
        full_begin(&f, fw, config, /* verified */ TRUE);
        ok = full_run(&f, out->str, /* skeleton */ TRUE, error);
        full_end(&f);
        return ok;
}

/* Tenant chains among chains (the table's, as listed) that no record names,
 * deleted with their sets: nothing jumps to them once guest_tenant is
 * refilled, and a stray set would be picked up when that tenant returns. */
static void
render_stale_tenants(GString *out, GPtrArray *records, GHashTable *remote_tenants,
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

                /* Names from the kernel reach the text only if valid. */
                if (!tenant || problem || g_hash_table_contains(wanted, tenant))
                        continue;
                g_string_append_printf(out,
                                       "flush chain " T " %s\ndelete chain " T " %s\n"
                                       "add set " T " %s-ifs { type ifname; }\n"
                                       "delete set " T " %s-ifs\n",
                                       chain, chain, chain, chain);
        }
}

gboolean
netiso_nft_restore(NetisoFirewall *fw, const NetisoConfig *config, NetisoNftRecordsFunc load,
                   gpointer data, double *ret_skeleton_ms, GError **error)
{
        g_autoptr(GString) out = g_string_new(NULL);
        g_autoptr(GPtrArray) records = NULL;
        g_autoptr(GPtrArray) chains = NULL;
        g_autoptr(NetisoRemote) remote = NULL;
        gint64 start = g_get_monotonic_time();
        gboolean ok;
        Full f;

        full_begin(&f, fw, config, /* verified */ TRUE);
        netiso_nft_render_skeleton(out, config);
        ok = full_run(&f, out->str, /* skeleton */ TRUE, error);
        *ret_skeleton_ms = (double)(g_get_monotonic_time() - start) / 1000.0;
        if (ok)
                ok = load(data, &records, &chains, error);
        if (ok) {
                g_string_truncate(out, 0);
                render_guests(out, records, NULL);
                remote = render_remote(out, config);
                render_stale_tenants(out, records, remote ? netiso_remote_tenants(remote) : NULL,
                                     chains);
                ok = full_run(&f, out->str, /* skeleton */ FALSE, error);
        }
        full_end(&f);
        return ok;
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
