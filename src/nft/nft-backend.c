/* The nftables backend's event operations: the skeleton and per-guest
 * elements of table inet blixard and table bridge blixard, one libnftables
 * batch per event unless the fast path (nft-fast.c) takes it. Names arrive
 * validated (domain.c). */
#include "autoconfig.h"

#include <linux/netfilter.h>
#include <net/if.h>
#include <stdio.h>

#include "nft/nft-backend.h"
#include "nft/nft-bulk.h"
#include "nft/nft-elements.h"
#include "nft/nft-fast.h"
#include "nft/nft-generation.h"
#include "nft/nft-lib.h"
#include "nft/nft-netlink.h"
#include "nft/nft-remote.h"
#include "nft/nft-skeleton.h"
#include "util/error.h"
#include "util/names.h"

#define T "inet " NETISO_NFT_TABLE

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

/* STATE_DIR/bridge-conntrack: "on" once table bridge blixard tracks
 * connections, "unavailable" once the kernel refused to (no
 * nf_conntrack_bridge). Bridge conntrack tracks every bridge of the host's
 * namespace, so it is only switched on for a guest on a host bridge (whose
 * uplink needs it), and then stays on until the next boot (the state
 * directory is in /run) or a purge. */
#define BRIDGE_MODE "bridge-conntrack"

/* A batch that needs bridge conntrack and commits nothing: a rule with a
 * ct expression in table bridge is refused (EPROTO) without it. */
#define BRIDGE_CT_PROBE                                                                            \
        "add table " NETISO_NFT_BRIDGE "\nadd chain " NETISO_NFT_BRIDGE " ct_probe\n"              \
        "add rule " NETISO_NFT_BRIDGE " ct_probe ct state established accept\n"                    \
        "flush chain " NETISO_NFT_BRIDGE " ct_probe\ndelete chain " NETISO_NFT_BRIDGE              \
        " ct_probe\n"

static void
bridge_mode_write(const NetisoConfig *config, const char *mode)
{
        g_autofree char *path = g_build_filename(config->state_dir, BRIDGE_MODE, NULL);

        if (!g_file_set_contents(path, mode, -1, NULL))
                g_warning("%s: cannot record the bridge conntrack mode", path);
}

/* Whether table bridge blixard is rendered with connection tracking: once
 * on, or when needed (a host bridge's guest is being installed) and the
 * kernel has it. Capture mode (golden tests, --dry-run) assumes it has. */
static gboolean
bridge_stateful(NetisoFirewall *fw, const NetisoConfig *config, gboolean needed)
{
        g_autofree char *path = g_build_filename(config->state_dir, BRIDGE_MODE, NULL);
        g_autofree char *mode = NULL;
        g_autoptr(GError) refused = NULL;

        if (g_file_get_contents(path, &mode, NULL, NULL))
                return g_str_has_prefix(mode, "on");
        if (!needed)
                return FALSE;
        if (netiso_firewall_mode(fw) == NETISO_FIREWALL_CAPTURE)
                return TRUE;
        if (!netiso_nft_run(fw, BRIDGE_CT_PROBE, &refused)) {
                g_warning(
                        "the kernel has no bridge connection tracking (nf_conntrack_bridge): guests on host bridges reach no port of theirs that is not a guest's (%s)",
                        refused->message);
                bridge_mode_write(config, "unavailable\n");
                return FALSE;
        }
        bridge_mode_write(config, "on\n");
        return TRUE;
}

gboolean
netiso_nft_bridge_conntrack_on(const NetisoConfig *config)
{
        g_autofree char *path = g_build_filename(config->state_dir, BRIDGE_MODE, NULL);
        g_autofree char *mode = NULL;

        return g_file_get_contents(path, &mode, NULL, NULL) && g_str_has_prefix(mode, "on");
}

typedef struct {
        const NetisoConfig *config;
        gboolean stateful;
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
 * the mark for the key). The bridge table's mode is decided here, once
 * per event: policy (may be NULL) says whether this event needs it. */
static Skeleton *
skeleton(NetisoFirewall *fw, const NetisoConfig *config, const NetisoPolicy *policy)
{
        Skeleton *k = netiso_firewall_handle(fw, "nft skeleton");
        g_autofree char *key = NULL;

        if (k && k->config == config && (k->stateful || !netiso_policy_has_host_bridge(policy)))
                return k;
        k = g_new0(Skeleton, 1);
        k->config = config;
        k->stateful = bridge_stateful(fw, config, netiso_policy_has_host_bridge(policy));
        key = netiso_nft_generation_key(config);
        k->key = k->stateful ? g_strconcat(key, "/bridge-conntrack", NULL) : g_steal_pointer(&key);
        netiso_firewall_set_handle(fw, "nft skeleton", k, skeleton_free);
        return k;
}

static const char *
skeleton_mark(NetisoFirewall *fw, const NetisoConfig *config)
{
        Skeleton *k = skeleton(fw, config, NULL);
        g_autoptr(GHashTable) counts = NULL;

        if (!k->mark)
                netiso_nft_skeleton_facts(config, k->stateful, &k->mark, &counts);
        return k->mark;
}

static void
render_skeleton(GString *out, NetisoFirewall *fw, const NetisoConfig *config)
{
        netiso_nft_render_skeleton(out, config, skeleton(fw, config, NULL)->stateful);
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
                                     skeleton(f->fw, f->config, NULL)->key,
                                     skeleton_mark(f->fw, f->config));
}

/* Dropping an unused tenant is a separate, best-effort batch: the kernel
 * refuses it (EBUSY) while any guest_tenant element still jumps to one of
 * its chains, which makes the kernel's reference count the tenant's guest
 * count. */
static void
gc_tenant(Full *f, const char *tenant)
{
        g_autoptr(GString) text = g_string_new(NULL);
        g_autoptr(GError) ignored = NULL;

        netiso_nft_render_tenant_gc(text, tenant);
        full_run(f, text->str, /* skeleton */ FALSE, &ignored);
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

        render_skeleton(out, f->fw, f->config);
        netiso_nft_render_record_removal(out, next, NULL);
        if (old)
                netiso_nft_render_record_install(out, old);
        if (!full_run(f, out->str, /* skeleton */ TRUE, &e))
                g_warning("domain '%s': the kernel may hold this event's elements: %s",
                          policy->domain, e->message);
}

/* ---- the flowtable's devices ---- */

/* The kernel refuses more devices in one message (NFT_NETDEVICE_MAX). */
#define FLOWTABLE_DEVICES_PER_COMMAND 250

static void
add_device(GString *out, GHashTable *seen, guint *n, const char *name)
{
        /* The kernel refuses a device that does not exist (6.1); one that
         * goes later leaves the flowtable by itself. */
        if (if_nametoindex(name) == 0 || !g_hash_table_add(seen, (gpointer)name))
                return;
        if (*n % FLOWTABLE_DEVICES_PER_COMMAND == 0)
                g_string_append_printf(
                        out, "%sadd flowtable inet %s ft { hook ingress priority 0; devices = { ",
                        *n ? " }; }\n" : "", NETISO_NFT_TABLE);
        else
                g_string_append(out, ", ");
        g_string_append_printf(out, "\"%s\"", name);
        (*n)++;
}

/* With the flowtable (nft-skeleton.c), its devices: the routed taps of
 * records (or of rec alone) and the uplinks, those that exist. Adding a
 * device the flowtable has changes nothing; a tap is left to go with its
 * device (a stop's tracked connections, and with them its offloaded flows,
 * are ended by engine/conntrack.c). */
static void
render_devices(GString *out, const NetisoConfig *config, GPtrArray *records,
               const NetisoRecord *rec)
{
        g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
        guint n = 0;

        if (!config->flowtable)
                return;
        for (guint i = 0; i < config->flowtable_uplinks->len; i++)
                add_device(out, seen, &n, g_ptr_array_index(config->flowtable_uplinks, i));
        for (guint i = 0; records ? i < records->len : i < 1; i++) {
                const NetisoRecord *r = records ? g_ptr_array_index(records, i) : rec;

                for (guint j = 0; r && j < r->ports->len; j++) {
                        const NetisoRecordPort *p = g_ptr_array_index(r->ports, j);
                        if (!p->bridge && p->tap)
                                add_device(out, seen, &n, p->tap);
                }
        }
        if (n)
                g_string_append(out, " }; }\n");
}

/* Before a skeleton that rebuilds the table from the records (a foreign
 * commit, a configuration change, watch's restore): with the flowtable, a
 * new one. Its flows were offloaded under the table being replaced; they
 * go with it, and their next packets are judged by the new rules (and
 * offloaded again if these accept them). The rules that use it are
 * flushed first; the skeleton adds both again in the same batch. Nothing
 * without the flowtable (a kernel may have none). */
static void
render_flowtable_reset(GString *out, const NetisoConfig *config)
{
        if (!config->flowtable)
                return;
        g_string_append(out,
                        "add table inet " NETISO_NFT_TABLE "\n"
                        "add flowtable inet " NETISO_NFT_TABLE " ft { hook ingress priority 0; }\n"
                        "add chain inet " NETISO_NFT_TABLE " guest_offload\n"
                        "flush chain inet " NETISO_NFT_TABLE " guest_offload\n"
                        "delete flowtable inet " NETISO_NFT_TABLE " ft\n");
}

/* ---- verifying the whole table ---- */

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

static gboolean run_with_tenants(Full *f, GString *out, GPtrArray *records, gboolean skeleton,
                                 GError **error);
static gboolean bulk_refill(Full *f, GPtrArray *records, NetisoRemote *remote,
                            const GPtrArray *chains, const GPtrArray *before, GError **error);

/* Someone else committed since our own last commit (or nobody can tell):
 * the event is one batch that rebuilds the table from the records, which
 * repairs whatever was edited in place (a set flushed or filled by hand,
 * a rule replaced, another tenant's chain): the bulk sync's batches when
 * every record is in the netlink encoding (the event's change is in the
 * refill), else one text batch. FALSE with error set when that
 * batch is refused: the caller does the event alone, and the table stays
 * unverified (no generation is recorded) until an event's rebuild
 * commits. next is taken. */
static gboolean
rebuild(Full *f, const char *domain, NetisoRecord *next, const NetisoRecord *gone, GError **error)
{
        g_autofree char *tenant = next ? g_strdup(next->tenant) : NULL;
        g_autoptr(GPtrArray) records = records_after(f->config, domain, next, error);
        g_autoptr(GString) out = g_string_new(NULL);
        gboolean stateful = skeleton(f->fw, f->config, NULL)->stateful;

        if (!records)
                return FALSE;
        if (f->nl && netiso_nft_fast_enabled() && netiso_nft_bulk_possible(records)) {
                g_autoptr(GPtrArray) no_chains = g_ptr_array_new();
                g_autoptr(GError) refused = NULL;

                /* The bulk sync's batches (gone's counters and any other
                 * stray element go with the refill), stale tenants aside:
                 * the tenant collection is the event's. */
                render_flowtable_reset(out, f->config);
                netiso_nft_render_skeleton(out, f->config, stateful);
                render_devices(out, f->config, records, NULL);
                if (run_with_tenants(f, out, records, /* skeleton */ TRUE, &refused)) {
                        f->verified = TRUE;
                        if (bulk_refill(f, records, NULL, no_chains, NULL, error))
                                return TRUE;
                        /* The tenants' batches committed the event's
                         * tenant: gone again unless a guest jumps to it,
                         * so that a refused event changed nothing. */
                        if (tenant)
                                gc_tenant(f, tenant);
                        return FALSE;
                }
                g_debug("the bulk rebuild's skeleton or a tenant was refused: %s",
                        refused->message);
                if (tenant)
                        gc_tenant(f, tenant);
                g_string_truncate(out, 0);
        }
        render_flowtable_reset(out, f->config);
        netiso_nft_render_rebuild(out, f->config, stateful, records, gone);
        render_devices(out, f->config, records, NULL);
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
        const char *key = skeleton(fw, config, policy)->key;
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
        g_autoptr(NetisoRecord) next = NULL;
        NetisoNftFast r;
        Full f;

        if (!netiso_policy_has_all_taps(policy, error))
                return FALSE;
        /* Decides the bridge table's mode for this event (a probe at most). */
        skeleton(fw, config, policy);
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
        render_skeleton(out, fw, config);
        if (old)
                netiso_nft_render_record_removal(out, old, policy);
        next = netiso_record_new_from_policy(policy, NETISO_BACKEND_NFTABLES);
        netiso_nft_render_record_install(out, next);
        render_devices(out, config, NULL, next);
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
        render_skeleton(out, fw, config);
        netiso_nft_render_record_removal(out, old, NULL);
        if (!full_run(&f, out->str, /* skeleton */ TRUE, &first)) {
                for (guint i = 0; i < old->ports->len; i++) {
                        const NetisoRecordPort *p = g_ptr_array_index(old->ports, i);
                        g_autoptr(GString) one = g_string_new(NULL);
                        g_autoptr(GError) e = NULL;

                        render_skeleton(one, fw, config);
                        netiso_nft_render_tenant(one, old->tenant, /* rewrite */ FALSE);
                        netiso_nft_render_port(one, /* remove */ TRUE, /* keep */ NULL, p,
                                               old->tenant, old->flow_id);
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

/* The tenant chains (and their sets) that no record and no remote guest
 * names, deleted after the refill that dropped the last jumps to them;
 * best-effort, as a stray tenant chain is never jumped to. */
static void
drop_stale_tenants(Full *f, GPtrArray *records, NetisoRemote *remote, const GPtrArray *listed)
{
        g_autoptr(GPtrArray) chains = NULL;
        g_autoptr(GString) out = g_string_new(NULL);
        g_autoptr(GError) e = NULL;

        if (listed)
                chains = g_ptr_array_ref((GPtrArray *)listed);
        else
                chains = netiso_nl_chain_names(f->nl, NFPROTO_INET, NETISO_NFT_TABLE, &e);
        if (chains)
                netiso_nft_render_stale_tenants(
                        out, records, remote ? netiso_remote_tenants(remote) : NULL, chains);
        if (out->len > 0)
                full_run(f, out->str, /* skeleton */ FALSE, &e);
        if (e)
                g_warning("tenants no guest uses were left in table inet %s: %s", NETISO_NFT_TABLE,
                          e->message);
}

/* Tenants per libnftables batch of the bulk sync and restore: at 1,000
 * tenants in one batch libnftables took 35 MB. Each tenant is rewritten
 * whole in one batch, and a tenant rewritten as it was changes nothing. */
#define TENANTS_PER_BATCH 100

/* Runs out (the skeleton, the remote guests: may be empty) with every
 * recorded tenant's chains and sets rewritten, TENANTS_PER_BATCH to a
 * batch. skeleton says out holds the skeleton. */
static gboolean
run_with_tenants(Full *f, GString *out, GPtrArray *records, gboolean skeleton, GError **error)
{
        g_autoptr(GHashTable) tenants = g_hash_table_new(g_str_hash, g_str_equal);
        guint n = 0;

        for (guint i = 0; i < records->len; i++) {
                const NetisoRecord *rec = g_ptr_array_index(records, i);

                if (rec->backend != NETISO_BACKEND_NFTABLES ||
                    !g_hash_table_add(tenants, rec->tenant))
                        continue;
                netiso_nft_render_tenant(out, rec->tenant, /* rewrite */ TRUE);
                if (++n % TENANTS_PER_BATCH != 0)
                        continue;
                if (!full_run(f, out->str, skeleton, error))
                        return FALSE;
                g_string_truncate(out, 0);
                skeleton = FALSE;
        }
        return out->len == 0 || full_run(f, out->str, skeleton, error);
}

/* The bulk sync: the skeleton and the remote guests as one libnftables
 * batch over the tables as they are (nothing leaks from then on: the
 * guests' sets are kept until the refill), the recorded tenants rewritten
 * in batches of their own, then every per-guest set brought to the
 * records' elements in one netlink batch (nft-bulk.h), which holds no
 * interval set (BENCHMARKS.md: an interval set recreated in a batch matches
 * nothing until its commit ends). A refused refill leaves the guests' sets
 * as they were. FALSE with error unset when the tables refused the
 * skeleton or a tenant (an older or foreign table): the caller replaces
 * them whole. */
static gboolean
bulk_sync(Full *f, const NetisoConfig *config, gboolean stateful, GPtrArray *records,
          GError **error)
{
        g_autoptr(GString) out = g_string_new(NULL);
        g_autoptr(NetisoRemote) remote = NULL;
        g_autoptr(GError) refused = NULL;
        g_autoptr(GPtrArray) before =
                netiso_nl_chain_names(f->nl, NFPROTO_INET, NETISO_NFT_TABLE, NULL);

        /* A new flowtable: flows offloaded under the old rules are judged
         * again (render_flowtable_reset). */
        render_flowtable_reset(out, config);
        netiso_nft_render_skeleton(out, config, stateful);
        render_devices(out, config, records, NULL);
        if (config->cluster) {
                g_autoptr(GError) unread = NULL;

                remote = netiso_remote_load(config->state_dir, NULL, &unread);
                if (remote)
                        netiso_nft_render_remote_all(out, config, remote, /* flush */ TRUE);
                else
                        g_warning("guests of other hosts left out: %s", unread->message);
        }
        if (!run_with_tenants(f, out, records, /* skeleton */ TRUE, &refused)) {
                g_debug("the skeleton or a tenant over the tables was refused: %s",
                        refused->message);
                return FALSE;
        }
        g_string_free(g_steal_pointer(&out), TRUE);
        return bulk_refill(f, records, remote, before, before, error);
}

/* The tenants of records that had no chain in before (table inet's chains
 * as listed before the tenants' batches), deleted again in one batch: after
 * a refused refill no guest jumps to them. */
static void
drop_new_tenants(Full *f, GPtrArray *records, const GPtrArray *before)
{
        g_autoptr(GHashTable) had = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        g_autoptr(GString) out = g_string_new(NULL);
        g_autoptr(GError) e = NULL;

        for (guint i = 0; i < before->len; i++)
                g_hash_table_add(had, g_strdup(g_ptr_array_index(before, i)));
        for (guint i = 0; i < records->len; i++) {
                const NetisoRecord *rec = g_ptr_array_index(records, i);

                if (rec->backend == NETISO_BACKEND_NFTABLES &&
                    g_hash_table_add(had, g_strdup_printf("tenant-%s", rec->tenant)))
                        netiso_nft_render_tenant_gc(out, rec->tenant);
        }
        if (out->len > 0 && !full_run(f, out->str, /* skeleton */ FALSE, &e))
                g_warning("tenants of a refused refill were left in table inet %s: %s",
                          NETISO_NFT_TABLE, e->message);
}

/* The netlink batch of the bulk sync and restore, then the tenants no
 * record names (chains: table inet's, as listed; NULL: listed here). A
 * refused refill takes the tenants that were not in before (when not
 * NULL) away again. */
static gboolean
bulk_refill(Full *f, GPtrArray *records, NetisoRemote *remote, const GPtrArray *chains,
            const GPtrArray *before, GError **error)
{
        gboolean changed = FALSE;
        guint32 after = 0;

        switch (netiso_nft_bulk_refill(f->nl, records, &after, &changed, error)) {
        case NETISO_NL_COMMITTED:
                if (changed)
                        f->commits++;
                if (!after)
                        f->verified = FALSE; /* another commit came in between */
                break;
        case NETISO_NL_UNKNOWN:
        case NETISO_NL_REFUSED:
        default:
                /* The table is no longer known to be the records'. */
                f->verified = FALSE;
                if (before)
                        drop_new_tenants(f, records, before);
                return FALSE;
        }
        drop_stale_tenants(f, records, remote, chains);
        return TRUE;
}

/* A sync (reconcile, a backend switch) renders the bridge table with
 * connection tracking when it is on already or a record needs it. When
 * the kernel is there and every record is in the netlink encoding, the
 * bulk sync above; else (and in capture mode, whose text the golden tests
 * hold) both tables deleted and recreated in one libnftables batch. */
static gboolean
nft_sync(NetisoFirewall *fw, const NetisoConfig *config, GPtrArray *records, GError **error)
{
        g_autoptr(GString) out = g_string_new(NULL);
        g_autoptr(NetisoRemote) remote = NULL;
        gboolean needed = FALSE, stateful, ok;
        Full f;

        for (guint i = 0; i < records->len && !needed; i++) {
                const NetisoRecord *rec = g_ptr_array_index(records, i);
                for (guint j = 0; j < rec->ports->len && !needed; j++)
                        needed = ((const NetisoRecordPort *)g_ptr_array_index(rec->ports, j))
                                         ->host_bridge;
        }
        stateful = bridge_stateful(fw, config, needed);
        full_begin(&f, fw, config, /* verified */ TRUE);
        if (f.nl && netiso_nft_fast_enabled() && netiso_nft_bulk_possible(records)) {
                g_autoptr(GError) local = NULL;

                if (bulk_sync(&f, config, stateful, records, &local)) {
                        full_end(&f);
                        return TRUE;
                }
                if (local) {
                        g_propagate_error(error, g_steal_pointer(&local));
                        full_end(&f);
                        return FALSE;
                }
        }
        netiso_nft_render_sync(out, config, stateful, records);
        render_devices(out, config, records, NULL);
        remote = render_remote(out, config);
        ok = full_run(&f, out->str, /* skeleton */ TRUE, error);
        full_end(&f);
        return ok;
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
        render_flowtable_reset(out, config);
        render_skeleton(out, fw, config);
        ok = full_run(&f, out->str, /* skeleton */ TRUE, error);
        *ret_skeleton_ms = (double)(g_get_monotonic_time() - start) / 1000.0;
        if (ok)
                ok = load(data, &records, &chains, error);
        if (ok && f.nl && netiso_nft_fast_enabled() && netiso_nft_bulk_possible(records)) {
                /* The tenants and the remote guests, then the bulk refill
                 * (each batch leaves the table whole for the records). */
                g_string_truncate(out, 0);
                render_devices(out, config, records, NULL);
                remote = render_remote(out, config);
                ok = run_with_tenants(&f, out, records, /* skeleton */ FALSE, error);
                if (ok)
                        ok = bulk_refill(&f, records, remote, chains, chains, error);
        } else if (ok) {
                g_string_truncate(out, 0);
                netiso_nft_render_guests(out, records, NULL);
                render_devices(out, config, records, NULL);
                remote = render_remote(out, config);
                netiso_nft_render_stale_tenants(
                        out, records, remote ? netiso_remote_tenants(remote) : NULL, chains);
                ok = full_run(&f, out->str, /* skeleton */ FALSE, error);
        }
        full_end(&f);
        return ok;
}

static gboolean
nft_purge(NetisoFirewall *fw, GError **error)
{
        return netiso_nft_run(fw, NETISO_NFT_PURGE, error);
}

const NetisoBackendOps netiso_backend_nft = {
        .kind = NETISO_BACKEND_NFTABLES,
        .apply = nft_apply,
        .remove = nft_remove,
        .sync = nft_sync,
        .purge = nft_purge,
};
