/* The address and domain lookup of `why`: a list of sources asked in turn,
 * and the first of them, this host's records. Pure apart from what the
 * caller's sources do. */
#include "autoconfig.h"

#include "core/drift.h"
#include "core/locator.h"
#include "util/error.h"

typedef struct {
        const NetisoLocatorSource *source;
        gpointer data;
        GDestroyNotify destroy;
} Entry;

struct NetisoLocator {
        GArray *entries; /* of Entry */
};

NetisoLocator *
netiso_locator_new(void)
{
        NetisoLocator *locator = g_new0(NetisoLocator, 1);

        locator->entries = g_array_new(FALSE, FALSE, sizeof(Entry));
        return locator;
}

void
netiso_locator_free(NetisoLocator *locator)
{
        if (!locator)
                return;
        for (guint i = 0; i < locator->entries->len; i++) {
                Entry *e = &g_array_index(locator->entries, Entry, i);
                if (e->destroy)
                        e->destroy(e->data);
        }
        g_array_unref(locator->entries);
        g_free(locator);
}

void
netiso_locator_add(NetisoLocator *locator, const NetisoLocatorSource *source, gpointer data,
                   GDestroyNotify destroy)
{
        Entry e = { source, data, destroy };

        g_array_append_val(locator->entries, e);
}

gboolean
netiso_locator_address(const NetisoLocator *locator, const NetisoCidr *address,
                       NetisoPlace **ret_place, GError **error)
{
        for (guint i = 0; i < locator->entries->len; i++) {
                const Entry *e = &g_array_index(locator->entries, Entry, i);
                NetisoPlace *place = NULL;

                if (!e->source->address)
                        continue;
                if (!e->source->address(e->data, address, &place, error))
                        return FALSE;
                if (place) {
                        *ret_place = place;
                        return TRUE;
                }
        }
        *ret_place = netiso_place_new(NETISO_PLACE_OUTSIDE, address, "no source knows it");
        return TRUE;
}

gboolean
netiso_locator_domain(const NetisoLocator *locator, const char *domain, int family,
                      NetisoPlace **ret_place, GError **error)
{
        for (guint i = 0; i < locator->entries->len; i++) {
                const Entry *e = &g_array_index(locator->entries, Entry, i);
                NetisoPlace *place = NULL;

                if (!e->source->domain)
                        continue;
                if (!e->source->domain(e->data, domain, family, &place, error))
                        return FALSE;
                if (place) {
                        *ret_place = place;
                        return TRUE;
                }
        }
        *ret_place = NULL;
        return TRUE;
}

NetisoPlace *
netiso_place_new_for_record(const NetisoRecord *record, const NetisoRecordPort *port,
                            const NetisoCidr *address, const char *found_by)
{
        NetisoPlace *place = netiso_place_new(NETISO_PLACE_GUEST, address, found_by);

        place->domain = g_strdup(record->domain);
        place->tenant = g_strdup(record->tenant);
        place->iface = g_strdup(port->tap);
        place->bridge = g_strdup(port->bridge);
        g_array_append_vals(place->iface_addresses, port->addresses->data, port->addresses->len);
        return place;
}

gboolean
netiso_records_find_tap(GPtrArray *records, const char *tap, const NetisoRecord **ret_record,
                        const NetisoRecordPort **ret_port)
{
        for (guint i = 0; records && i < records->len; i++) {
                const NetisoRecord *r = g_ptr_array_index(records, i);
                for (guint k = 0; k < r->ports->len; k++) {
                        const NetisoRecordPort *p = g_ptr_array_index(r->ports, k);
                        if (g_str_equal(p->tap, tap)) {
                                *ret_record = r;
                                *ret_port = p;
                                return TRUE;
                        }
                }
        }
        return FALSE;
}

/* ---- this host's records ---- */

static gboolean
records_address(gpointer data, const NetisoCidr *address, NetisoPlace **ret_place, GError **error)
{
        GPtrArray *records = data;

        for (guint i = 0; i < records->len; i++) {
                const NetisoRecord *r = g_ptr_array_index(records, i);
                for (guint k = 0; k < r->ports->len; k++) {
                        const NetisoRecordPort *p = g_ptr_array_index(r->ports, k);
                        for (guint a = 0; a < p->addresses->len; a++) {
                                if (!netiso_cidr_equal(&g_array_index(p->addresses, NetisoCidr, a),
                                                       address))
                                        continue;
                                *ret_place = netiso_place_new_for_record(r, p, address, "records");
                                return TRUE;
                        }
                }
        }
        return TRUE;
}

static gboolean
records_domain(gpointer data, const char *domain, int family, NetisoPlace **ret_place,
               GError **error)
{
        const NetisoRecord *r = netiso_records_find(data, domain);

        if (!r)
                return TRUE;
        for (guint k = 0; k < r->ports->len; k++) {
                const NetisoRecordPort *p = g_ptr_array_index(r->ports, k);
                for (guint a = 0; a < p->addresses->len; a++) {
                        const NetisoCidr *c = &g_array_index(p->addresses, NetisoCidr, a);
                        if (family == 0 || (int)c->family == family) {
                                *ret_place = netiso_place_new_for_record(r, p, c, "records");
                                return TRUE;
                        }
                }
        }
        if (family == 0)
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_USAGE,
                            "domain '%s' has no installed interface with an address", domain);
        else
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_USAGE,
                            "domain '%s' has no IPv%d address", domain, family);
        return FALSE;
}

void
netiso_locator_add_records(NetisoLocator *locator, GPtrArray *records)
{
        static const NetisoLocatorSource source = {
                .name = "records",
                .address = records_address,
                .domain = records_domain,
        };

        netiso_locator_add(locator, &source, records, NULL);
}

/* ---- guests of other hosts (the cluster) ---- */

static NetisoPlace *
place_for_remote(const NetisoRemote *remote, const NetisoRemoteAddr *e)
{
        NetisoPlace *place = netiso_place_new(NETISO_PLACE_REMOTE, &e->addr, "cluster");
        g_autoptr(GPtrArray) all = netiso_remote_find_guest(remote, e->node, e->uuid);

        place->domain = g_strdup(e->name);
        place->tenant = g_strdup(e->tenant);
        place->node = g_strdup(e->node);
        for (guint i = 0; i < all->len; i++)
                g_array_append_val(place->iface_addresses,
                                   ((const NetisoRemoteAddr *)g_ptr_array_index(all, i))->addr);
        return place;
}

static gboolean
remote_address(gpointer data, const NetisoCidr *address, NetisoPlace **ret_place, GError **error)
{
        const NetisoRemoteAddr *e = netiso_remote_lookup(data, address);

        if (e)
                *ret_place = place_for_remote(data, e);
        return TRUE;
}

static gboolean
remote_domain(gpointer data, const char *domain, int family, NetisoPlace **ret_place,
              GError **error)
{
        const NetisoRemoteAddr *e = netiso_remote_find_name(data, domain, family);

        if (e) {
                *ret_place = place_for_remote(data, e);
                return TRUE;
        }
        if (family && netiso_remote_find_name(data, domain, 0)) {
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_USAGE,
                            "domain '%s' has no IPv%d address", domain, family);
                return FALSE;
        }
        return TRUE;
}

void
netiso_locator_add_remote(NetisoLocator *locator, const NetisoRemote *remote)
{
        static const NetisoLocatorSource source = {
                .name = "cluster",
                .address = remote_address,
                .domain = remote_domain,
        };

        netiso_locator_add(locator, &source, (gpointer)remote, NULL);
}
