/* Address ownership in etcd transactions: "create if absent, or keep/move if
 * the same UUID owns it", checked against the revisions just read so that two
 * hosts racing for one address cannot both win; the host's lease is compared
 * in the same transaction, so nothing is ever bound to a dead host's lease. */
#include "autoconfig.h"

#include <string.h>

#include "cluster/claim.h"
#include "util/quote.h"

typedef struct {
        char *key;
        NetisoCidr addr;
        gint64 mod_revision; /* 0: no owner */
        char *uuid;
        char *node;
} Owner;

static void
owner_clear(Owner *owner)
{
        g_free(owner->key);
        g_free(owner->uuid);
        g_free(owner->node);
}

gboolean
netiso_cluster_register_host(NetisoEtcd *etcd, const char *prefix, const char *node, gint64 lease,
                             GError **error)
{
        g_autofree char *key = netiso_cluster_key_host(prefix, node);
        gsize len = 0;
        g_autofree char *value = netiso_cluster_host_to_json(node, &len);

        return netiso_etcd_put(etcd, key, value, len, lease, NULL, error);
}

static GArray *
owners_new(const char *prefix, const NetisoClusterGuest *guest)
{
        GArray *owners = g_array_new(FALSE, TRUE, sizeof(Owner));

        g_array_set_clear_func(owners, (GDestroyNotify)owner_clear);
        for (guint i = 0; i < guest->addresses->len; i++) {
                Owner owner = { .addr = g_array_index(guest->addresses, NetisoCidr, i) };
                owner.key = netiso_cluster_key_owner(prefix, &owner.addr);
                g_array_append_val(owners, owner);
        }
        return owners;
}

/* The ranges read back: hosts/NODE first, then each owner key. strict: an
 * owner record that cannot be read is an error (claims fail closed); else it
 * counts as someone else's (a release leaves it alone). */
static gboolean
read_state(const NetisoEtcdTxnResult *result, GArray *owners, gboolean strict, gint64 *ret_lease,
           GError **error)
{
        NetisoEtcdRange *host;

        if (result->ranges->len != owners->len + 1) {
                g_set_error(error, NETISO_CLUSTER_ERROR, NETISO_CLUSTER_ERROR_PROTOCOL,
                            "etcd answer: txn returned %u ranges, not %u", result->ranges->len,
                            owners->len + 1);
                return FALSE;
        }
        host = g_ptr_array_index(result->ranges, 0);
        *ret_lease = host && host->kvs->len ? ((NetisoEtcdKv *)host->kvs->pdata[0])->lease : 0;
        for (guint i = 0; i < owners->len; i++) {
                Owner *owner = &g_array_index(owners, Owner, i);
                NetisoEtcdRange *range = g_ptr_array_index(result->ranges, i + 1);
                NetisoEtcdKv *kv = range && range->kvs->len ? range->kvs->pdata[0] : NULL;
                NetisoClusterKey key = { .type = NETISO_CLUSTER_KEY_OWNER, .addr = owner->addr };

                g_clear_pointer(&owner->uuid, g_free);
                g_clear_pointer(&owner->node, g_free);
                owner->mod_revision = kv ? kv->mod_revision : 0;
                if (kv &&
                    !netiso_cluster_owner_from_json(&key, kv->value, kv->value_len, &owner->uuid,
                                                    &owner->node, strict ? error : NULL) &&
                    strict)
                        return FALSE;
        }
        return TRUE;
}

/* Owned by uuid (on node, unless NULL) as last read. */
static gboolean
owner_is(const Owner *owner, const char *uuid, const char *node)
{
        return owner->mod_revision && owner->uuid && strcmp(owner->uuid, uuid) == 0 &&
               (!node || strcmp(owner->node, node) == 0);
}

static gboolean
check_conflicts(const NetisoClusterGuest *guest, GArray *owners, GError **error)
{
        for (guint i = 0; i < owners->len; i++) {
                Owner *owner = &g_array_index(owners, Owner, i);
                g_autofree char *addr = NULL;
                if (!owner->mod_revision || owner_is(owner, guest->uuid, NULL))
                        continue;
                addr = netiso_cidr_to_string(&owner->addr, FALSE);
                g_set_error(error, NETISO_CLUSTER_ERROR, NETISO_CLUSTER_ERROR_CONFLICT,
                            "address %s is owned by guest %s on host %s", addr, owner->uuid,
                            owner->node);
                return FALSE;
        }
        return TRUE;
}

/* One round. With a lease: compare the host's lease and each owner as last
 * read (absent at first), put everything on success, read everything back
 * on failure. Without one: only read (nothing may be bound to no lease). */
static gboolean
claim_round(NetisoEtcd *etcd, const char *prefix, const NetisoClusterGuest *guest, GArray *owners,
            gint64 lease, NetisoEtcdTxnResult **ret_result, GError **error)
{
        guint n = owners->len;
        g_autofree char *host_key = netiso_cluster_key_host(prefix, guest->node);
        g_autofree char *guest_key = netiso_cluster_key_guest(prefix, guest->node, guest->uuid);
        gsize owner_len = 0, guest_len = 0;
        g_autofree char *owner_value =
                netiso_cluster_owner_to_json(guest->uuid, guest->node, &owner_len);
        g_autofree char *guest_value = netiso_cluster_guest_to_json(guest, &guest_len);
        g_autofree NetisoEtcdCompare *cmp = g_new0(NetisoEtcdCompare, n + 1);
        g_autofree NetisoEtcdOp *puts = g_new0(NetisoEtcdOp, n + 1);
        g_autofree NetisoEtcdOp *reads = g_new0(NetisoEtcdOp, n + 1);

        cmp[0] = (NetisoEtcdCompare){ .key = host_key,
                                      .target = NETISO_ETCD_CMP_LEASE,
                                      .result = NETISO_ETCD_CMP_EQUAL,
                                      .number = lease };
        reads[0] = (NetisoEtcdOp){ .type = NETISO_ETCD_OP_RANGE, .key = host_key };
        for (guint i = 0; i < n; i++) {
                Owner *owner = &g_array_index(owners, Owner, i);
                cmp[i + 1] = (NetisoEtcdCompare){
                        .key = owner->key,
                        .target =
                                owner->mod_revision ? NETISO_ETCD_CMP_MOD : NETISO_ETCD_CMP_CREATE,
                        .result = NETISO_ETCD_CMP_EQUAL,
                        .number = owner->mod_revision,
                };
                /* Rewritten even when already ours: the host's lease may be new. */
                puts[i] = (NetisoEtcdOp){ .type = NETISO_ETCD_OP_PUT,
                                          .key = owner->key,
                                          .value = owner_value,
                                          .value_len = owner_len,
                                          .lease = lease };
                reads[i + 1] = (NetisoEtcdOp){ .type = NETISO_ETCD_OP_RANGE, .key = owner->key };
        }
        puts[n] = (NetisoEtcdOp){ .type = NETISO_ETCD_OP_PUT,
                                  .key = guest_key,
                                  .value = guest_value,
                                  .value_len = guest_len,
                                  .lease = lease };
        if (!lease)
                return netiso_etcd_txn(etcd, NULL, 0, reads, n + 1, NULL, 0, ret_result, error);
        return netiso_etcd_txn(etcd, cmp, n + 1, puts, n + 1, reads, n + 1, ret_result, error);
}

static void
count(const NetisoClusterGuest *guest, GArray *owners, NetisoClaimReport *report)
{
        for (guint i = 0; i < owners->len; i++) {
                Owner *owner = &g_array_index(owners, Owner, i);
                if (!owner->mod_revision)
                        report->created++;
                else if (strcmp(owner->node, guest->node) == 0)
                        report->kept++;
                else
                        report->moved++;
        }
}

gboolean
netiso_cluster_claim(NetisoEtcd *etcd, const char *prefix, const NetisoClusterGuest *guest,
                     gint64 lease_hint, NetisoClaimReport *ret_report, GError **error)
{
        g_autoptr(GArray) owners = owners_new(prefix, guest);
        NetisoClaimReport report = { 0 };
        gint64 lease = lease_hint;

        for (guint round = 0; round < NETISO_CLAIM_ROUNDS_MAX; round++) {
                g_autoptr(NetisoEtcdTxnResult) result = NULL;
                if (!claim_round(etcd, prefix, guest, owners, lease, &result, error))
                        return FALSE;
                report.round_trips++;
                if (lease && result->succeeded) {
                        count(guest, owners, &report);
                        report.lease = lease;
                        report.revision = result->revision;
                        if (ret_report)
                                *ret_report = report;
                        return TRUE;
                }
                if (!read_state(result, owners, /* strict */ TRUE, &lease, error))
                        return FALSE;
                if (!lease) {
                        g_set_error(error, NETISO_CLUSTER_ERROR, NETISO_CLUSTER_ERROR_UNAVAILABLE,
                                    "host %s has no live registration at %shosts/%s (is the "
                                    "watch daemon running?)",
                                    guest->node, prefix, guest->node);
                        return FALSE;
                }
                if (!check_conflicts(guest, owners, error))
                        return FALSE;
        }
        g_set_error(error, NETISO_CLUSTER_ERROR, NETISO_CLUSTER_ERROR_UNAVAILABLE,
                    "guest %s: addresses still contended after %d transactions", guest->uuid,
                    NETISO_CLAIM_ROUNDS_MAX);
        return FALSE;
}

/* One release round: compare each owner that is ours as read (or, in the
 * first round, expect every owner to be ours byte for byte), delete those
 * and the guest record on success, read everything on failure. */
static gboolean
release_round(NetisoEtcd *etcd, const char *prefix, const NetisoClusterGuest *guest, GArray *owners,
              gboolean first, NetisoEtcdTxnResult **ret_result, GError **error)
{
        guint n = owners->len, n_cmp = 0, n_del = 0;
        g_autofree char *host_key = netiso_cluster_key_host(prefix, guest->node);
        g_autofree char *guest_key = netiso_cluster_key_guest(prefix, guest->node, guest->uuid);
        gsize owner_len = 0;
        g_autofree char *owner_value =
                netiso_cluster_owner_to_json(guest->uuid, guest->node, &owner_len);
        g_autofree NetisoEtcdCompare *cmp = g_new0(NetisoEtcdCompare, n);
        g_autofree NetisoEtcdOp *dels = g_new0(NetisoEtcdOp, n + 1);
        g_autofree NetisoEtcdOp *reads = g_new0(NetisoEtcdOp, n + 1);

        reads[0] = (NetisoEtcdOp){ .type = NETISO_ETCD_OP_RANGE, .key = host_key };
        for (guint i = 0; i < n; i++) {
                Owner *owner = &g_array_index(owners, Owner, i);
                reads[i + 1] = (NetisoEtcdOp){ .type = NETISO_ETCD_OP_RANGE, .key = owner->key };
                if (first)
                        cmp[n_cmp++] = (NetisoEtcdCompare){ .key = owner->key,
                                                            .target = NETISO_ETCD_CMP_VALUE,
                                                            .result = NETISO_ETCD_CMP_EQUAL,
                                                            .value = owner_value,
                                                            .value_len = owner_len };
                else if (owner_is(owner, guest->uuid, guest->node))
                        cmp[n_cmp++] = (NetisoEtcdCompare){ .key = owner->key,
                                                            .target = NETISO_ETCD_CMP_MOD,
                                                            .result = NETISO_ETCD_CMP_EQUAL,
                                                            .number = owner->mod_revision };
                else
                        continue;
                dels[n_del++] = (NetisoEtcdOp){ .type = NETISO_ETCD_OP_DELETE, .key = owner->key };
        }
        dels[n_del++] = (NetisoEtcdOp){ .type = NETISO_ETCD_OP_DELETE, .key = guest_key };
        return netiso_etcd_txn(etcd, cmp, n_cmp, dels, n_del, reads, n + 1, ret_result, error);
}

gboolean
netiso_cluster_release(NetisoEtcd *etcd, const char *prefix, const NetisoClusterGuest *guest,
                       guint *ret_round_trips, GError **error)
{
        g_autoptr(GArray) owners = owners_new(prefix, guest);
        guint rounds = 0;
        gint64 lease = 0;

        for (guint round = 0; round < NETISO_CLAIM_ROUNDS_MAX; round++) {
                g_autoptr(NetisoEtcdTxnResult) result = NULL;
                if (!release_round(etcd, prefix, guest, owners, round == 0, &result, error))
                        return FALSE;
                rounds++;
                if (result->succeeded) {
                        if (ret_round_trips)
                                *ret_round_trips = rounds;
                        return TRUE;
                }
                if (!read_state(result, owners, /* strict */ FALSE, &lease, error))
                        return FALSE;
        }
        g_set_error(error, NETISO_CLUSTER_ERROR, NETISO_CLUSTER_ERROR_UNAVAILABLE,
                    "guest %s: addresses still contended after %d transactions", guest->uuid,
                    NETISO_CLAIM_ROUNDS_MAX);
        return FALSE;
}
