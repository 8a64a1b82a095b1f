/* The membership table: every host's valid guest records, indexed by address,
 * updated by watch batches (or a full resync) and reporting what each batch
 * changed, guest by guest and address by address, so that the caller can
 * apply one firewall transaction per batch. Work per event is a few hash
 * lookups, whatever the number of guests. */
#include "autoconfig.h"

#include <string.h>

#include "cluster/membership.h"
#include "util/quote.h"

struct NetisoMembership {
        char *prefix;
        char *local_node;
        GArray *vm_networks;
        NetisoClusterRules rules;
        gint64 revision;
        GHashTable *guests;  /* "node/uuid" -> NetisoClusterGuest* */
        GHashTable *by_addr; /* NetisoCidr* -> GPtrArray of "node/uuid" (char*) */
        GHashTable *hosts;   /* node -> node */
};

/* What a batch touched, as it was before the batch. */
typedef struct {
        NetisoMembership *table;
        GHashTable *old_guests; /* "node/uuid" -> NetisoClusterGuest* copy, or ABSENT */
        GHashTable *old_addrs;  /* NetisoCidr* -> old effective tenant (char*, or ABSENT) */
        GHashTable *old_hosts;  /* node -> PRESENT or ABSENT */
        NetisoMembershipDelta *delta;
} Batch;

static char absent_marker;
#define ABSENT ((gpointer)&absent_marker)
#define PRESENT ((gpointer)1)

static guint
cidr_hash(gconstpointer key)
{
        const NetisoCidr *addr = key;
        guint h = addr->family;

        for (guint i = 0; i < 16; i++)
                h = h * 31 + addr->bytes[i];
        return h;
}

static gboolean
cidr_equal(gconstpointer a, gconstpointer b)
{
        return netiso_cidr_equal(a, b);
}

static NetisoCidr *
cidr_dup(const NetisoCidr *addr)
{
        return g_memdup2(addr, sizeof(*addr));
}

NetisoMembership *
netiso_membership_new(const char *prefix, const char *local_node, const GArray *vm_networks)
{
        NetisoMembership *table = g_new0(NetisoMembership, 1);

        table->prefix = g_strdup(prefix);
        table->local_node = g_strdup(local_node);
        table->vm_networks = g_array_new(FALSE, FALSE, sizeof(NetisoCidr));
        if (vm_networks)
                g_array_append_vals(table->vm_networks, vm_networks->data, vm_networks->len);
        table->rules.vm_networks = table->vm_networks;
        table->guests = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                              (GDestroyNotify)netiso_cluster_guest_free);
        table->by_addr = g_hash_table_new_full(cidr_hash, cidr_equal, g_free,
                                               (GDestroyNotify)g_ptr_array_unref);
        table->hosts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        return table;
}

void
netiso_membership_free(NetisoMembership *table)
{
        if (!table)
                return;
        g_free(table->prefix);
        g_free(table->local_node);
        g_array_unref(table->vm_networks);
        g_hash_table_unref(table->guests);
        g_hash_table_unref(table->by_addr);
        g_hash_table_unref(table->hosts);
        g_free(table);
}

static void
addr_change_clear(NetisoMembershipAddrChange *change)
{
        g_free(change->old_tenant);
        g_free(change->new_tenant);
}

static void
owner_key_free(NetisoClusterKey *key)
{
        netiso_cluster_key_clear(key);
        g_free(key);
}

static NetisoMembershipDelta *
delta_new(void)
{
        NetisoMembershipDelta *delta = g_new0(NetisoMembershipDelta, 1);
        GDestroyNotify guest_free = (GDestroyNotify)netiso_cluster_guest_free;

        delta->added = g_ptr_array_new_with_free_func(guest_free);
        delta->removed = g_ptr_array_new_with_free_func(guest_free);
        delta->changed = g_ptr_array_new_with_free_func(guest_free);
        delta->addr_changes = g_array_new(FALSE, FALSE, sizeof(NetisoMembershipAddrChange));
        g_array_set_clear_func(delta->addr_changes, (GDestroyNotify)addr_change_clear);
        delta->hosts_up = g_ptr_array_new_with_free_func(g_free);
        delta->hosts_down = g_ptr_array_new_with_free_func(g_free);
        delta->owner_changes = g_ptr_array_new_with_free_func((GDestroyNotify)owner_key_free);
        delta->problems = g_ptr_array_new_with_free_func(g_free);
        return delta;
}

void
netiso_membership_delta_free(NetisoMembershipDelta *delta)
{
        if (!delta)
                return;
        g_ptr_array_unref(delta->added);
        g_ptr_array_unref(delta->removed);
        g_ptr_array_unref(delta->changed);
        g_array_unref(delta->addr_changes);
        g_ptr_array_unref(delta->hosts_up);
        g_ptr_array_unref(delta->hosts_down);
        g_ptr_array_unref(delta->owner_changes);
        g_ptr_array_unref(delta->problems);
        g_free(delta);
}

gboolean
netiso_membership_delta_is_empty(const NetisoMembershipDelta *delta)
{
        return delta->added->len == 0 && delta->removed->len == 0 && delta->changed->len == 0 &&
               delta->addr_changes->len == 0 && delta->hosts_up->len == 0 &&
               delta->hosts_down->len == 0;
}

/* The tenant every record of addr agrees on, when none is on this host;
 * NULL otherwise. conflict (may be NULL) is set when records disagree. */
static const char *
effective(const NetisoMembership *table, const NetisoCidr *addr, gboolean *conflict)
{
        GPtrArray *claimants = g_hash_table_lookup(table->by_addr, addr);
        const char *tenant = NULL;

        if (conflict)
                *conflict = FALSE;
        if (!claimants)
                return NULL;
        for (guint i = 0; i < claimants->len; i++) {
                const NetisoClusterGuest *guest =
                        g_hash_table_lookup(table->guests, g_ptr_array_index(claimants, i));
                if (strcmp(guest->node, table->local_node) == 0)
                        return NULL;
                if (tenant && strcmp(tenant, guest->tenant) != 0) {
                        if (conflict)
                                *conflict = TRUE;
                        return NULL;
                }
                tenant = guest->tenant;
        }
        return tenant;
}

const char *
netiso_membership_lookup(const NetisoMembership *table, const NetisoCidr *addr)
{
        return effective(table, addr, NULL);
}

static void
touch_addr(Batch *batch, const NetisoCidr *addr)
{
        const char *tenant;

        if (g_hash_table_contains(batch->old_addrs, addr))
                return;
        tenant = effective(batch->table, addr, NULL);
        g_hash_table_insert(batch->old_addrs, cidr_dup(addr), tenant ? g_strdup(tenant) : ABSENT);
}

static void
touch_guest(Batch *batch, const char *gkey, const NetisoClusterGuest *current)
{
        if (g_hash_table_contains(batch->old_guests, gkey))
                return;
        g_hash_table_insert(batch->old_guests, g_strdup(gkey),
                            current ? netiso_cluster_guest_copy(current) : ABSENT);
}

static void
index_remove(NetisoMembership *table, const char *gkey, const NetisoClusterGuest *guest)
{
        for (guint i = 0; i < guest->addresses->len; i++) {
                const NetisoCidr *addr = &g_array_index(guest->addresses, NetisoCidr, i);
                GPtrArray *claimants = g_hash_table_lookup(table->by_addr, addr);
                for (guint j = 0; claimants && j < claimants->len; j++) {
                        if (strcmp(g_ptr_array_index(claimants, j), gkey) == 0) {
                                g_ptr_array_remove_index_fast(claimants, j);
                                break;
                        }
                }
                if (claimants && claimants->len == 0)
                        g_hash_table_remove(table->by_addr, addr);
        }
}

static void
index_add(NetisoMembership *table, const char *gkey, const NetisoClusterGuest *guest)
{
        for (guint i = 0; i < guest->addresses->len; i++) {
                const NetisoCidr *addr = &g_array_index(guest->addresses, NetisoCidr, i);
                GPtrArray *claimants = g_hash_table_lookup(table->by_addr, addr);
                if (!claimants) {
                        claimants = g_ptr_array_new_with_free_func(g_free);
                        g_hash_table_insert(table->by_addr, cidr_dup(addr), claimants);
                }
                g_ptr_array_add(claimants, g_strdup(gkey));
        }
}

/* Replace (guest non-NULL) or remove the record at gkey. */
static void
set_guest(Batch *batch, const char *gkey, NetisoClusterGuest *guest)
{
        NetisoMembership *table = batch->table;
        NetisoClusterGuest *old = g_hash_table_lookup(table->guests, gkey);

        touch_guest(batch, gkey, old);
        for (guint i = 0; old && i < old->addresses->len; i++)
                touch_addr(batch, &g_array_index(old->addresses, NetisoCidr, i));
        for (guint i = 0; guest && i < guest->addresses->len; i++)
                touch_addr(batch, &g_array_index(guest->addresses, NetisoCidr, i));
        if (old) {
                index_remove(table, gkey, old);
                g_hash_table_remove(table->guests, gkey);
        }
        if (guest) {
                index_add(table, gkey, guest);
                g_hash_table_insert(table->guests, g_strdup(gkey), guest);
        }
}

static void
set_host(Batch *batch, const char *node, gboolean present)
{
        NetisoMembership *table = batch->table;
        gboolean was = g_hash_table_contains(table->hosts, node);

        if (!g_hash_table_contains(batch->old_hosts, node))
                g_hash_table_insert(batch->old_hosts, g_strdup(node), was ? PRESENT : ABSENT);
        if (present)
                g_hash_table_add(table->hosts, g_strdup(node));
        else
                g_hash_table_remove(table->hosts, node);
}

static void
problem(Batch *batch, const GError *error)
{
        g_ptr_array_add(batch->delta->problems, g_strdup(error->message));
}

/* One key's new state: value NULL for a deletion. */
static void
apply_one(Batch *batch, const NetisoEtcdKv *kv, gboolean deleted)
{
        NetisoMembership *table = batch->table;
        g_autoptr(GError) error = NULL;
        NetisoClusterKey key;
        g_autofree char *gkey = NULL;

        if (!netiso_cluster_key_parse(table->prefix, kv->key, kv->key_len, &key, &error)) {
                problem(batch, error);
                return;
        }
        switch (key.type) {
        case NETISO_CLUSTER_KEY_GUEST: {
                NetisoClusterGuest *guest = NULL;
                gkey = g_strconcat(key.node, "/", key.uuid, NULL);
                if (!deleted) {
                        guest = netiso_cluster_guest_from_json(&table->rules, &key, kv->value,
                                                               kv->value_len, &error);
                        /* A refused record counts as absent: it replaces what was there. */
                        if (!guest)
                                problem(batch, error);
                }
                set_guest(batch, gkey, guest);
                break;
        }
        case NETISO_CLUSTER_KEY_HOST:
                if (!deleted &&
                    !netiso_cluster_host_from_json(&key, kv->value, kv->value_len, &error)) {
                        problem(batch, error);
                        deleted = TRUE;
                }
                set_host(batch, key.node, !deleted);
                break;
        case NETISO_CLUSTER_KEY_OWNER: {
                NetisoClusterKey *owner = g_new0(NetisoClusterKey, 1);
                owner->type = NETISO_CLUSTER_KEY_OWNER;
                owner->addr = key.addr;
                if (!deleted && !netiso_cluster_owner_from_json(&key, kv->value, kv->value_len,
                                                                &owner->uuid, &owner->node, &error))
                        problem(batch, error);
                g_ptr_array_add(batch->delta->owner_changes, owner);
                break;
        }
        default:
                break;
        }
        netiso_cluster_key_clear(&key);
}

static Batch *
batch_new(NetisoMembership *table)
{
        Batch *batch = g_new0(Batch, 1);

        batch->table = table;
        batch->old_guests = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        batch->old_addrs = g_hash_table_new_full(cidr_hash, cidr_equal, g_free, NULL);
        batch->old_hosts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        batch->delta = delta_new();
        return batch;
}

static void
collect_guests(Batch *batch)
{
        NetisoMembership *table = batch->table;
        GHashTableIter iter;
        gpointer gkey, value;

        g_hash_table_iter_init(&iter, batch->old_guests);
        while (g_hash_table_iter_next(&iter, &gkey, &value)) {
                NetisoClusterGuest *before = value == ABSENT ? NULL : value;
                NetisoClusterGuest *after = g_hash_table_lookup(table->guests, gkey);
                const NetisoClusterGuest *any = before ? before : after;

                if (any && strcmp(any->node, table->local_node) != 0) {
                        if (!before && after)
                                g_ptr_array_add(batch->delta->added,
                                                netiso_cluster_guest_copy(after));
                        else if (before && !after)
                                g_ptr_array_add(batch->delta->removed,
                                                netiso_cluster_guest_copy(before));
                        else if (before && after && !netiso_cluster_guest_equal(before, after))
                                g_ptr_array_add(batch->delta->changed,
                                                netiso_cluster_guest_copy(after));
                }
                if (before)
                        netiso_cluster_guest_free(before);
        }
}

static void
collect_addrs(Batch *batch)
{
        GHashTableIter iter;
        gpointer key, value;

        g_hash_table_iter_init(&iter, batch->old_addrs);
        while (g_hash_table_iter_next(&iter, &key, &value)) {
                char *before = value == ABSENT ? NULL : value;
                gboolean conflict;
                const char *after = effective(batch->table, key, &conflict);

                if (conflict) {
                        g_autofree char *text = netiso_cidr_to_string(key, FALSE);
                        g_ptr_array_add(batch->delta->problems,
                                        g_strdup_printf("address %s is published by guests of "
                                                        "different tenants: left out",
                                                        text));
                }
                if (g_strcmp0(before, after) != 0) {
                        NetisoMembershipAddrChange change = {
                                .addr = *(NetisoCidr *)key,
                                .old_tenant = g_steal_pointer(&before),
                                .new_tenant = g_strdup(after),
                        };
                        g_array_append_val(batch->delta->addr_changes, change);
                }
                g_free(before);
        }
}

static void
collect_hosts(Batch *batch)
{
        GHashTableIter iter;
        gpointer node, value;

        g_hash_table_iter_init(&iter, batch->old_hosts);
        while (g_hash_table_iter_next(&iter, &node, &value)) {
                gboolean now = g_hash_table_contains(batch->table->hosts, node);
                if (value == ABSENT && now)
                        g_ptr_array_add(batch->delta->hosts_up, g_strdup(node));
                else if (value == PRESENT && !now)
                        g_ptr_array_add(batch->delta->hosts_down, g_strdup(node));
        }
}

static int
addr_change_compare(gconstpointer a, gconstpointer b)
{
        const NetisoMembershipAddrChange *x = a, *y = b;

        if (x->addr.family != y->addr.family)
                return x->addr.family < y->addr.family ? -1 : 1;
        return memcmp(x->addr.bytes, y->addr.bytes, sizeof(x->addr.bytes));
}

static NetisoMembershipDelta *
batch_finish(Batch *batch)
{
        NetisoMembershipDelta *delta;

        collect_guests(batch);
        collect_addrs(batch);
        collect_hosts(batch);
        /* Stable output for callers and tests: hash order is not. */
        g_array_sort(batch->delta->addr_changes, addr_change_compare);
        delta = batch->delta;
        delta->revision = batch->table->revision;
        g_hash_table_unref(batch->old_guests);
        g_hash_table_unref(batch->old_addrs);
        g_hash_table_unref(batch->old_hosts);
        g_free(batch);
        return delta;
}

NetisoMembershipDelta *
netiso_membership_apply(NetisoMembership *table, const GPtrArray *events)
{
        Batch *batch = batch_new(table);
        gint64 floor = table->revision;

        for (guint i = 0; i < events->len; i++) {
                const NetisoEtcdEvent *event = g_ptr_array_index(events, i);
                if (event->kv->mod_revision <= floor)
                        continue;
                apply_one(batch, event->kv, event->type == NETISO_ETCD_EVENT_DELETE);
                table->revision = MAX(table->revision, event->kv->mod_revision);
        }
        return batch_finish(batch);
}

NetisoMembershipDelta *
netiso_membership_reset(NetisoMembership *table, const GPtrArray *kvs, gint64 revision)
{
        Batch *batch = batch_new(table);
        g_autoptr(GHashTable) seen_guests =
                g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        g_autoptr(GHashTable) seen_hosts =
                g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        g_autoptr(GPtrArray) gone = g_ptr_array_new_with_free_func(g_free);
        GHashTableIter iter;
        gpointer key;

        for (guint i = 0; i < kvs->len; i++) {
                const NetisoEtcdKv *kv = g_ptr_array_index(kvs, i);
                NetisoClusterKey parsed;
                if (!netiso_cluster_key_parse(table->prefix, kv->key, kv->key_len, &parsed, NULL))
                        continue;
                if (parsed.type == NETISO_CLUSTER_KEY_GUEST)
                        g_hash_table_add(seen_guests,
                                         g_strconcat(parsed.node, "/", parsed.uuid, NULL));
                else if (parsed.type == NETISO_CLUSTER_KEY_HOST)
                        g_hash_table_add(seen_hosts, g_strdup(parsed.node));
                netiso_cluster_key_clear(&parsed);
        }
        g_hash_table_iter_init(&iter, table->guests);
        while (g_hash_table_iter_next(&iter, &key, NULL))
                if (!g_hash_table_contains(seen_guests, key))
                        g_ptr_array_add(gone, g_strdup(key));
        for (guint i = 0; i < gone->len; i++)
                set_guest(batch, g_ptr_array_index(gone, i), NULL);
        g_ptr_array_set_size(gone, 0);
        g_hash_table_iter_init(&iter, table->hosts);
        while (g_hash_table_iter_next(&iter, &key, NULL))
                if (!g_hash_table_contains(seen_hosts, key))
                        g_ptr_array_add(gone, g_strdup(key));
        for (guint i = 0; i < gone->len; i++)
                set_host(batch, g_ptr_array_index(gone, i), FALSE);
        for (guint i = 0; i < kvs->len; i++)
                apply_one(batch, g_ptr_array_index(kvs, i), FALSE);
        table->revision = revision;
        return batch_finish(batch);
}

gint64
netiso_membership_get_revision(const NetisoMembership *table)
{
        return table->revision;
}

guint
netiso_membership_count_remote_guests(const NetisoMembership *table)
{
        GHashTableIter iter;
        gpointer value;
        guint n = 0;

        g_hash_table_iter_init(&iter, table->guests);
        while (g_hash_table_iter_next(&iter, NULL, &value))
                n += strcmp(((NetisoClusterGuest *)value)->node, table->local_node) != 0;
        return n;
}

guint
netiso_membership_count_hosts(const NetisoMembership *table)
{
        return g_hash_table_size(table->hosts);
}

static int
guest_compare(gconstpointer a, gconstpointer b)
{
        const NetisoClusterGuest *x = *(NetisoClusterGuest *const *)a;
        const NetisoClusterGuest *y = *(NetisoClusterGuest *const *)b;
        int c = strcmp(x->node, y->node);

        return c ? c : strcmp(x->uuid, y->uuid);
}

GPtrArray *
netiso_membership_list_remote(const NetisoMembership *table)
{
        GPtrArray *list = g_ptr_array_new_with_free_func((GDestroyNotify)netiso_cluster_guest_free);
        GHashTableIter iter;
        gpointer value;

        g_hash_table_iter_init(&iter, table->guests);
        while (g_hash_table_iter_next(&iter, NULL, &value))
                if (strcmp(((NetisoClusterGuest *)value)->node, table->local_node) != 0)
                        g_ptr_array_add(list, netiso_cluster_guest_copy(value));
        g_ptr_array_sort(list, guest_compare);
        return list;
}

const NetisoClusterGuest *
netiso_membership_lookup_guest(const NetisoMembership *table, const NetisoCidr *addr)
{
        GPtrArray *claimants;

        if (!effective(table, addr, NULL))
                return NULL;
        claimants = g_hash_table_lookup(table->by_addr, addr);
        return g_hash_table_lookup(table->guests, g_ptr_array_index(claimants, 0));
}

GPtrArray *
netiso_membership_list_node(const NetisoMembership *table, const char *node)
{
        GPtrArray *list = g_ptr_array_new_with_free_func((GDestroyNotify)netiso_cluster_guest_free);
        GHashTableIter iter;
        gpointer value;

        g_hash_table_iter_init(&iter, table->guests);
        while (g_hash_table_iter_next(&iter, NULL, &value))
                if (strcmp(((NetisoClusterGuest *)value)->node, node) == 0)
                        g_ptr_array_add(list, netiso_cluster_guest_copy(value));
        g_ptr_array_sort(list, guest_compare);
        return list;
}
