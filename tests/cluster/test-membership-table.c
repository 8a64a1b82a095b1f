/* Unit tests of src/cluster/membership-table.c: what each watch batch changes
 * (guests and addresses), revisions, local guests masking remote records,
 * conflicts left out, refused records counting as absent, and resync. */
#include "autoconfig.h"

#include <string.h>

#include "cluster/membership.h"

#define P "/blixard/netiso/"
#define U1 "11111111-2222-4333-8444-555555555555"
#define U2 "21111111-2222-4333-8444-555555555555"
#define U3 "31111111-2222-4333-8444-555555555555"

typedef struct {
        NetisoMembership *table;
        GPtrArray *events;
} Fixture;

static void
event_free(NetisoEtcdEvent *event)
{
        netiso_etcd_kv_free(event->kv);
        g_free(event);
}

static void
setup(Fixture *f, gconstpointer data)
{
        g_autoptr(GArray) nets = g_array_new(FALSE, FALSE, sizeof(NetisoCidr));
        NetisoCidr net;

        g_assert_true(netiso_cidr_parse("10.0.0.0/16", &net, NULL));
        g_array_append_val(nets, net);
        g_assert_true(netiso_cidr_parse("fd00:10::/64", &net, NULL));
        g_array_append_val(nets, net);
        f->table = netiso_membership_new(P, "local", nets);
        f->events = g_ptr_array_new_with_free_func((GDestroyNotify)event_free);
}

static void
teardown(Fixture *f, gconstpointer data)
{
        netiso_membership_free(f->table);
        g_ptr_array_unref(f->events);
}

static NetisoEtcdKv *
kv_new(const char *key, const char *value, gint64 revision)
{
        NetisoEtcdKv *kv = g_new0(NetisoEtcdKv, 1);

        kv->key = g_strdup(key);
        kv->key_len = strlen(key);
        kv->value = g_strdup(value ? value : "");
        kv->value_len = value ? strlen(value) : 0;
        kv->mod_revision = revision;
        return kv;
}

static void
add_event(Fixture *f, NetisoEtcdEventType type, const char *key, const char *value, gint64 revision)
{
        NetisoEtcdEvent *event = g_new0(NetisoEtcdEvent, 1);

        event->type = type;
        event->kv = kv_new(key, value, revision);
        g_ptr_array_add(f->events, event);
}

static void
put_guest(Fixture *f, const char *node, const char *uuid, const char *tenant, const char *addrs,
          gint64 revision)
{
        g_autofree char *key = g_strdup_printf(P "guests/%s/%s", node, uuid);
        g_autofree char *value = g_strdup_printf(
                "{\"v\":1,\"uuid\":\"%s\",\"name\":\"vm\",\"tenant\":\"%s\",\"addresses\":[%s],"
                "\"node\":\"%s\"}",
                uuid, tenant, addrs, node);

        add_event(f, NETISO_ETCD_EVENT_PUT, key, value, revision);
}

static void
del_guest(Fixture *f, const char *node, const char *uuid, gint64 revision)
{
        g_autofree char *key = g_strdup_printf(P "guests/%s/%s", node, uuid);

        add_event(f, NETISO_ETCD_EVENT_DELETE, key, NULL, revision);
}

static NetisoMembershipDelta *
apply(Fixture *f)
{
        NetisoMembershipDelta *delta = netiso_membership_apply(f->table, f->events);

        g_ptr_array_set_size(f->events, 0);
        return delta;
}

/* "10.0.0.5 ->t1; fd00:10::5 t1>-" */
static char *
addr_changes(const NetisoMembershipDelta *delta)
{
        GString *s = g_string_new(NULL);

        for (guint i = 0; i < delta->addr_changes->len; i++) {
                const NetisoMembershipAddrChange *c =
                        &g_array_index(delta->addr_changes, NetisoMembershipAddrChange, i);
                g_autofree char *addr = netiso_cidr_to_string(&c->addr, FALSE);
                g_string_append_printf(s, "%s%s %s>%s", i ? "; " : "", addr,
                                       c->old_tenant ? c->old_tenant : "-",
                                       c->new_tenant ? c->new_tenant : "-");
        }
        return g_string_free(s, FALSE);
}

static const char *
lookup(Fixture *f, const char *text)
{
        NetisoCidr addr;

        g_assert_true(netiso_addr_parse(text, &addr, NULL));
        return netiso_membership_lookup(f->table, &addr);
}

static void
test_add_change_remove(Fixture *f, gconstpointer data)
{
        g_autoptr(NetisoMembershipDelta) d1 = NULL, d2 = NULL, d3 = NULL, d4 = NULL;
        g_autofree char *c1 = NULL, *c3 = NULL, *c4 = NULL;

        put_guest(f, "hv-02", U1, "t1", "\"10.0.0.5\",\"fd00:10::5\"", 5);
        d1 = apply(f);
        g_assert_cmpuint(d1->added->len, ==, 1);
        g_assert_cmpint(d1->revision, ==, 5);
        c1 = addr_changes(d1);
        g_assert_cmpstr(c1, ==, "10.0.0.5 ->t1; fd00:10::5 ->t1");
        g_assert_cmpstr(lookup(f, "fd00:10::5"), ==, "t1");
        /* The same record again (a re-publish): nothing to apply. */
        put_guest(f, "hv-02", U1, "t1", "\"fd00:10::5\",\"10.0.0.5\"", 6);
        d2 = apply(f);
        g_assert_true(netiso_membership_delta_is_empty(d2));
        /* A retag and an address change. */
        put_guest(f, "hv-02", U1, "t2", "\"10.0.0.5\",\"10.0.0.6\"", 7);
        d3 = apply(f);
        g_assert_cmpuint(d3->changed->len, ==, 1);
        g_assert_cmpstr(((NetisoClusterGuest *)d3->changed->pdata[0])->tenant, ==, "t2");
        c3 = addr_changes(d3);
        g_assert_cmpstr(c3, ==, "10.0.0.5 t1>t2; 10.0.0.6 ->t2; fd00:10::5 t1>-");
        del_guest(f, "hv-02", U1, 8);
        d4 = apply(f);
        g_assert_cmpuint(d4->removed->len, ==, 1);
        c4 = addr_changes(d4);
        g_assert_cmpstr(c4, ==, "10.0.0.5 t2>-; 10.0.0.6 t2>-");
        g_assert_null(lookup(f, "10.0.0.5"));
        g_assert_cmpuint(netiso_membership_count_remote_guests(f->table), ==, 0);
}

static void
test_batch_nets_out(Fixture *f, gconstpointer data)
{
        g_autoptr(NetisoMembershipDelta) delta = NULL;

        /* A put and a delete of one key in one batch (a txn): no change at all. */
        put_guest(f, "hv-02", U1, "t1", "\"10.0.0.5\"", 5);
        del_guest(f, "hv-02", U1, 6);
        delta = apply(f);
        g_assert_true(netiso_membership_delta_is_empty(delta));
        g_assert_cmpint(netiso_membership_get_revision(f->table), ==, 6);
}

static void
test_old_revisions_skipped(Fixture *f, gconstpointer data)
{
        g_autoptr(NetisoMembershipDelta) d1 = NULL, d2 = NULL;

        put_guest(f, "hv-02", U1, "t1", "\"10.0.0.5\"", 10);
        d1 = apply(f);
        /* Replayed after a reconnect: already applied, must not undo the state. */
        del_guest(f, "hv-02", U1, 9);
        put_guest(f, "hv-02", U1, "t9", "\"10.0.0.5\"", 10);
        d2 = apply(f);
        g_assert_true(netiso_membership_delta_is_empty(d2));
        g_assert_cmpstr(lookup(f, "10.0.0.5"), ==, "t1");
}

static void
test_local_guests_mask_remote(Fixture *f, gconstpointer data)
{
        g_autoptr(NetisoMembershipDelta) d1 = NULL, d2 = NULL, d3 = NULL;
        g_autofree char *c2 = NULL, *c3 = NULL;

        /* This host's own records come back through the watch: never "remote". */
        put_guest(f, "local", U1, "t1", "\"10.0.0.5\"", 5);
        d1 = apply(f);
        g_assert_true(netiso_membership_delta_is_empty(d1));
        g_assert_null(lookup(f, "10.0.0.5"));
        /* Another host claims a local guest's address for another tenant: left out. */
        put_guest(f, "hv-02", U2, "t2", "\"10.0.0.5\",\"10.0.0.7\"", 6);
        d2 = apply(f);
        c2 = addr_changes(d2);
        g_assert_cmpstr(c2, ==, "10.0.0.7 ->t2");
        g_assert_null(lookup(f, "10.0.0.5"));
        /* The local guest goes: the remote claim takes effect. */
        del_guest(f, "local", U1, 7);
        d3 = apply(f);
        c3 = addr_changes(d3);
        g_assert_cmpstr(c3, ==, "10.0.0.5 ->t2");
}

static void
test_conflicting_tenants_left_out(Fixture *f, gconstpointer data)
{
        g_autoptr(NetisoMembershipDelta) d1 = NULL, d2 = NULL, d3 = NULL;
        g_autofree char *c2 = NULL, *c3 = NULL;

        put_guest(f, "hv-02", U1, "t1", "\"10.0.0.5\"", 5);
        d1 = apply(f);
        put_guest(f, "hv-03", U2, "t2", "\"10.0.0.5\"", 6);
        d2 = apply(f);
        c2 = addr_changes(d2);
        g_assert_cmpstr(c2, ==, "10.0.0.5 t1>-");
        g_assert_cmpuint(d2->problems->len, ==, 1);
        g_assert_nonnull(strstr(d2->problems->pdata[0], "10.0.0.5"));
        del_guest(f, "hv-03", U2, 7);
        d3 = apply(f);
        c3 = addr_changes(d3);
        g_assert_cmpstr(c3, ==, "10.0.0.5 ->t1");
}

static void
test_migration_keeps_address(Fixture *f, gconstpointer data)
{
        g_autoptr(NetisoMembershipDelta) d1 = NULL, d2 = NULL, d3 = NULL;
        g_autofree char *c3 = NULL;

        put_guest(f, "hv-02", U1, "t1", "\"10.0.0.5\"", 5);
        d1 = apply(f);
        /* The destination publishes while the source still runs it. */
        put_guest(f, "hv-03", U1, "t1", "\"10.0.0.5\"", 6);
        d2 = apply(f);
        g_assert_cmpuint(d2->added->len, ==, 1);
        g_assert_cmpuint(d2->addr_changes->len, ==, 0);
        g_assert_cmpuint(d2->problems->len, ==, 0);
        /* The source stops: the address stays the tenant's throughout. */
        del_guest(f, "hv-02", U1, 7);
        d3 = apply(f);
        g_assert_cmpuint(d3->removed->len, ==, 1);
        c3 = addr_changes(d3);
        g_assert_cmpstr(c3, ==, "");
        g_assert_cmpstr(lookup(f, "10.0.0.5"), ==, "t1");
}

static void
test_refused_record_counts_as_absent(Fixture *f, gconstpointer data)
{
        g_autoptr(NetisoMembershipDelta) d1 = NULL, d2 = NULL;
        g_autofree char *c2 = NULL;

        put_guest(f, "hv-02", U1, "t1", "\"10.0.0.5\"", 5);
        d1 = apply(f);
        /* The host rewrites its record with an address outside the VM networks. */
        put_guest(f, "hv-02", U1, "t1", "\"10.0.0.5\",\"172.16.0.1\"", 6);
        d2 = apply(f);
        g_assert_cmpuint(d2->removed->len, ==, 1);
        g_assert_cmpuint(d2->problems->len, ==, 1);
        g_assert_nonnull(strstr(d2->problems->pdata[0], "outside the VM networks"));
        c2 = addr_changes(d2);
        g_assert_cmpstr(c2, ==, "10.0.0.5 t1>-");
}

static void
test_hosts_and_owners(Fixture *f, gconstpointer data)
{
        g_autoptr(NetisoMembershipDelta) d1 = NULL, d2 = NULL;
        const NetisoClusterKey *owner;

        add_event(f, NETISO_ETCD_EVENT_PUT, P "hosts/hv-02", "{\"v\":1,\"node\":\"hv-02\"}", 5);
        add_event(f, NETISO_ETCD_EVENT_PUT, P "owners/10.0.0.5",
                  "{\"v\":1,\"uuid\":\"" U1 "\",\"node\":\"hv-02\"}", 5);
        add_event(f, NETISO_ETCD_EVENT_PUT, P "unrelated/key", "x", 5);
        d1 = apply(f);
        g_assert_cmpuint(d1->hosts_up->len, ==, 1);
        g_assert_cmpuint(d1->owner_changes->len, ==, 1);
        owner = d1->owner_changes->pdata[0];
        g_assert_cmpstr(owner->node, ==, "hv-02");
        g_assert_cmpuint(netiso_membership_count_hosts(f->table), ==, 1);
        add_event(f, NETISO_ETCD_EVENT_DELETE, P "hosts/hv-02", NULL, 6);
        add_event(f, NETISO_ETCD_EVENT_DELETE, P "owners/10.0.0.5", NULL, 6);
        d2 = apply(f);
        g_assert_cmpuint(d2->hosts_down->len, ==, 1);
        owner = d2->owner_changes->pdata[0];
        g_assert_null(owner->node);
}

static void
test_reset(Fixture *f, gconstpointer data)
{
        g_autoptr(NetisoMembershipDelta) d1 = NULL, d2 = NULL, d3 = NULL;
        g_autoptr(GPtrArray) kvs =
                g_ptr_array_new_with_free_func((GDestroyNotify)netiso_etcd_kv_free);
        g_autofree char *c2 = NULL;

        put_guest(f, "hv-02", U1, "t1", "\"10.0.0.5\"", 5);
        put_guest(f, "hv-02", U2, "t1", "\"10.0.0.6\"", 6);
        add_event(f, NETISO_ETCD_EVENT_PUT, P "hosts/hv-02", "{\"v\":1,\"node\":\"hv-02\"}", 6);
        d1 = apply(f);
        /* Compacted while away: U1 and the host went, U3 came. */
        g_ptr_array_add(kvs, kv_new(P "guests/hv-02/" U2,
                                    "{\"v\":1,\"uuid\":\"" U2 "\",\"name\":\"vm\",\"tenant\":"
                                    "\"t1\",\"addresses\":[\"10.0.0.6\"],\"node\":\"hv-02\"}",
                                    6));
        g_ptr_array_add(kvs, kv_new(P "guests/hv-03/" U3,
                                    "{\"v\":1,\"uuid\":\"" U3 "\",\"name\":\"vm\",\"tenant\":"
                                    "\"t3\",\"addresses\":[\"fd00:10::9\"],\"node\":\"hv-03\"}",
                                    40));
        d2 = netiso_membership_reset(f->table, kvs, 50);
        g_assert_cmpuint(d2->removed->len, ==, 1);
        g_assert_cmpuint(d2->added->len, ==, 1);
        g_assert_cmpuint(d2->changed->len, ==, 0);
        g_assert_cmpuint(d2->hosts_down->len, ==, 1);
        c2 = addr_changes(d2);
        g_assert_cmpstr(c2, ==, "10.0.0.5 t1>-; fd00:10::9 ->t3");
        g_assert_cmpint(netiso_membership_get_revision(f->table), ==, 50);
        /* The same range again: nothing. */
        d3 = netiso_membership_reset(f->table, kvs, 50);
        g_assert_true(netiso_membership_delta_is_empty(d3));
}

static void
test_cost_is_per_event(Fixture *f, gconstpointer data)
{
        g_autoptr(NetisoMembershipDelta) bulk = NULL, one = NULL;

        /* 10,000 guests present; one more must touch one guest and one address. */
        for (guint i = 0; i < 10000; i++) {
                g_autofree char *uuid = g_strdup_printf("00000000-0000-4000-8000-%012x", i);
                g_autofree char *addr = g_strdup_printf("\"10.0.%u.%u\"", i / 250, 1 + i % 250);
                put_guest(f, "hv-02", uuid, "t1", addr, 10 + i);
        }
        bulk = apply(f);
        g_assert_cmpuint(bulk->added->len, ==, 10000);
        g_assert_cmpuint(bulk->addr_changes->len, ==, 10000);
        put_guest(f, "hv-03", U1, "t2", "\"10.0.200.1\"", 20000);
        one = apply(f);
        g_assert_cmpuint(one->added->len, ==, 1);
        g_assert_cmpuint(one->addr_changes->len, ==, 1);
        g_assert_cmpuint(netiso_membership_count_remote_guests(f->table), ==, 10001);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
#define ADD(name, fn) g_test_add("/cluster/table/" name, Fixture, NULL, setup, fn, teardown)
        ADD("add-change-remove", test_add_change_remove);
        ADD("put-and-delete-in-one-batch-cancel-out", test_batch_nets_out);
        ADD("old-revisions-skipped", test_old_revisions_skipped);
        ADD("local-guests-mask-remote-records", test_local_guests_mask_remote);
        ADD("conflicting-tenants-left-out", test_conflicting_tenants_left_out);
        ADD("migration-keeps-address", test_migration_keeps_address);
        ADD("refused-record-counts-as-absent", test_refused_record_counts_as_absent);
        ADD("hosts-and-owners", test_hosts_and_owners);
        ADD("reset-reports-difference", test_reset);
        ADD("batch-touches-only-its-keys", test_cost_is_per_event);
        return g_test_run();
}
