/* Record-level drift for reconcile --check and watch: which domains, taps
 * and addresses differ between what is installed and what should be, in
 * lines a person can act on. */
#include "autoconfig.h"

#include <string.h>

#include "conf/config.h"
#include "core/drift.h"

NetisoRecord *
netiso_records_find(GPtrArray *records, const char *domain)
{
        for (guint i = 0; records && i < records->len; i++) {
                NetisoRecord *r = g_ptr_array_index(records, i);
                if (g_strcmp0(r->domain, domain) == 0)
                        return r;
        }
        return NULL;
}

static const NetisoRecordPort *
find_port(const NetisoRecord *record, const char *tap)
{
        for (guint i = 0; i < record->ports->len; i++) {
                const NetisoRecordPort *p = g_ptr_array_index(record->ports, i);
                if (g_strcmp0(p->tap, tap) == 0)
                        return p;
        }
        return NULL;
}

static gboolean
has_address(const GArray *addresses, const NetisoCidr *c)
{
        for (guint i = 0; i < addresses->len; i++)
                if (netiso_cidr_equal(&g_array_index(addresses, NetisoCidr, i), c))
                        return TRUE;
        return FALSE;
}

/* Addresses of `from` that `in` lacks, as text. */
static GPtrArray *
missing_addresses(const GArray *from, const GArray *in)
{
        GPtrArray *out = g_ptr_array_new_with_free_func(g_free);

        for (guint i = 0; i < from->len; i++) {
                const NetisoCidr *c = &g_array_index(from, NetisoCidr, i);
                if (!has_address(in, c))
                        g_ptr_array_add(out,
                                        netiso_cidr_to_string(c, /* with_host_prefix */ FALSE));
        }
        return out;
}

/* Only a uuid on both sides can tell two domains of one name apart. */
static gboolean
uuid_differs(const NetisoRecord *a, const NetisoRecord *b)
{
        return a->uuid && b->uuid && g_ascii_strcasecmp(a->uuid, b->uuid) != 0;
}

static gboolean
services_equal(const NetisoNetServices *a, const NetisoNetServices *b)
{
        g_autoptr(GPtrArray) absent = missing_addresses(a->addresses, b->addresses);
        g_autoptr(GPtrArray) extra = missing_addresses(b->addresses, a->addresses);

        return a->dns == b->dns && a->dhcp4 == b->dhcp4 && a->dhcp6 == b->dhcp6 &&
               absent->len == 0 && extra->len == 0;
}

/* What else a bridged port's elements are made of (nft-bridged.c). */
static guint
bridged_drift(const char *domain, const NetisoRecordPort *have, const NetisoRecordPort *want,
              GPtrArray *lines)
{
        guint before = lines->len;

        if (g_strcmp0(have->bridge, want->bridge) != 0)
                g_ptr_array_add(lines,
                                g_strdup_printf("domain '%s': tap %s: installed %s%s, now %s%s",
                                                domain, want->tap,
                                                have->bridge ? "on bridge " : "routed",
                                                have->bridge ? have->bridge : "",
                                                want->bridge ? "on bridge " : "routed",
                                                want->bridge ? want->bridge : ""));
        else if (want->bridge && g_strcmp0(have->mac, want->mac) != 0)
                g_ptr_array_add(lines,
                                g_strdup_printf("domain '%s': tap %s: installed for mac %s, now %s",
                                                domain, want->tap, have->mac, want->mac));
        else if (want->bridge && (have->host_bridge != want->host_bridge ||
                                  !services_equal(&have->services, &want->services)))
                g_ptr_array_add(
                        lines,
                        g_strdup_printf(
                                "domain '%s': tap %s: the libvirt network of bridge %s changed",
                                domain, want->tap, want->bridge));
        return lines->len - before;
}

static guint
port_drift(const char *domain, const NetisoRecordPort *have, const NetisoRecordPort *want,
           GPtrArray *lines)
{
        g_autoptr(GPtrArray) absent = missing_addresses(want->addresses, have->addresses);
        g_autoptr(GPtrArray) extra = missing_addresses(have->addresses, want->addresses);

        for (guint i = 0; i < absent->len; i++)
                g_ptr_array_add(lines,
                                g_strdup_printf("domain '%s': tap %s: address %s is not installed",
                                                domain, want->tap,
                                                (const char *)g_ptr_array_index(absent, i)));
        for (guint i = 0; i < extra->len; i++)
                g_ptr_array_add(
                        lines,
                        g_strdup_printf(
                                "domain '%s': tap %s: address %s is installed but no longer configured",
                                domain, have->tap, (const char *)g_ptr_array_index(extra, i)));
        return absent->len + extra->len + bridged_drift(domain, have, want, lines);
}

static guint
domain_drift(const NetisoRecord *have, const NetisoRecord *want, GPtrArray *lines)
{
        const char *d = want->domain;
        guint before = lines->len;

        if (uuid_differs(have, want))
                g_ptr_array_add(
                        lines,
                        g_strdup_printf(
                                "domain '%s': installed for another domain of that name (uuid %s, running %s)",
                                d, have->uuid, want->uuid));
        if (have->backend != want->backend)
                g_ptr_array_add(
                        lines,
                        g_strdup_printf("domain '%s': installed with the %s backend, configured %s",
                                        d, netiso_backend_to_string(have->backend),
                                        netiso_backend_to_string(want->backend)));
        if (g_strcmp0(have->tenant, want->tenant) != 0)
                g_ptr_array_add(lines, g_strdup_printf("domain '%s': tenant changed from %s to %s",
                                                       d, have->tenant, want->tenant));
        for (guint i = 0; i < want->ports->len; i++) {
                const NetisoRecordPort *w = g_ptr_array_index(want->ports, i);
                const NetisoRecordPort *h = find_port(have, w->tap);

                if (!h)
                        g_ptr_array_add(
                                lines,
                                g_strdup_printf("domain '%s': tap %s is not installed", d, w->tap));
                else
                        port_drift(d, h, w, lines);
        }
        for (guint i = 0; i < have->ports->len; i++) {
                const NetisoRecordPort *h = g_ptr_array_index(have->ports, i);
                if (!find_port(want, h->tap))
                        g_ptr_array_add(
                                lines,
                                g_strdup_printf(
                                        "domain '%s': tap %s is installed but no longer the domain's",
                                        d, h->tap));
        }
        /* Only worth a line of its own when nothing above explains it. */
        if (lines->len == before && (have->flow_id == 0 || have->flow_id != want->flow_id))
                g_ptr_array_add(
                        lines,
                        g_strdup_printf(
                                "domain '%s': %s", d,
                                have->flow_id
                                        ? "its flows are bound to another id"
                                        : "installed by an older version that did not bind its flows"));
        if (lines->len == before && g_strcmp0(have->config_digest, want->config_digest) != 0)
                g_ptr_array_add(
                        lines,
                        g_strdup_printf("domain '%s': installed under a different configuration",
                                        d));
        return lines->len - before;
}

gboolean
netiso_record_same_state(const NetisoRecord *installed, const NetisoRecord *wanted)
{
        g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(g_free);

        if (g_strcmp0(installed->domain, wanted->domain) != 0)
                return FALSE;
        return domain_drift(installed, wanted, lines) == 0;
}

static gint
compare_names(gconstpointer a, gconstpointer b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

guint
netiso_drift_records(GPtrArray *installed, GPtrArray *wanted, GPtrArray *ret_lines)
{
        g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
        g_autoptr(GPtrArray) names = g_ptr_array_new();
        guint before = ret_lines->len;

        for (guint i = 0; installed && i < installed->len; i++) {
                const NetisoRecord *r = g_ptr_array_index(installed, i);
                if (g_hash_table_add(seen, r->domain))
                        g_ptr_array_add(names, r->domain);
        }
        for (guint i = 0; wanted && i < wanted->len; i++) {
                const NetisoRecord *r = g_ptr_array_index(wanted, i);
                if (g_hash_table_add(seen, r->domain))
                        g_ptr_array_add(names, r->domain);
        }
        g_ptr_array_sort(names, compare_names);
        for (guint i = 0; i < names->len; i++) {
                const char *name = g_ptr_array_index(names, i);
                const NetisoRecord *have = netiso_records_find(installed, name);
                const NetisoRecord *want = netiso_records_find(wanted, name);

                if (!want)
                        g_ptr_array_add(
                                ret_lines,
                                g_strdup_printf("domain '%s' is installed but not running", name));
                else if (!have)
                        g_ptr_array_add(
                                ret_lines,
                                g_strdup_printf("domain '%s' is running but not installed", name));
                else
                        domain_drift(have, want, ret_lines);
        }
        return ret_lines->len - before;
}

static void
add_unique(GArray *addresses, const NetisoCidr *c)
{
        if (!has_address(addresses, c))
                g_array_append_val(addresses, *c);
}

void
netiso_drift_revoked(const NetisoRecord *from, const NetisoRecord *to, GArray *ret_addresses)
{
        gboolean same_tenant = from && to && g_strcmp0(from->tenant, to->tenant) == 0;

        for (guint i = 0; from && i < from->ports->len; i++) {
                const NetisoRecordPort *p = g_ptr_array_index(from->ports, i);
                const NetisoRecordPort *q = same_tenant ? find_port(to, p->tap) : NULL;

                for (guint a = 0; a < p->addresses->len; a++) {
                        const NetisoCidr *c = &g_array_index(p->addresses, NetisoCidr, a);
                        if (!q || !has_address(q->addresses, c))
                                add_unique(ret_addresses, c);
                }
        }
}
