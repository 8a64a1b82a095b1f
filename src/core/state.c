/* Per-domain records of what was installed, so that teardown can remove
 * exactly that without listing the ruleset, and the links that say which
 * record holds a tap or a flow id (the lock: state-lock.c). */
#include "autoconfig.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "core/state.h"
#include "util/error.h"
#include "util/names.h"
#include "util/quote.h"

#define RECORD_GROUP "domain"
#define PORT_GROUP_PREFIX "port "

static void
record_port_free(gpointer data)
{
        NetisoRecordPort *port = data;

        g_free(port->tap);
        g_free(port->mac);
        g_array_unref(port->addresses);
        g_free(port->bridge);
        g_array_unref(port->learned);
        g_array_unref(port->services.addresses);
        g_free(port);
}

static NetisoRecordPort *
record_port_new(const char *tap)
{
        NetisoRecordPort *port = g_new0(NetisoRecordPort, 1);

        port->tap = g_strdup(tap);
        port->addresses = g_array_new(FALSE, FALSE, sizeof(NetisoCidr));
        port->learned = g_array_new(FALSE, FALSE, sizeof(NetisoCidr));
        port->services.addresses = g_array_new(FALSE, FALSE, sizeof(NetisoCidr));
        return port;
}

static NetisoRecord *
record_new(void)
{
        NetisoRecord *record = g_new0(NetisoRecord, 1);

        record->ports = g_ptr_array_new_with_free_func(record_port_free);
        return record;
}

void
netiso_record_free(NetisoRecord *record)
{
        if (!record)
                return;
        g_free(record->domain);
        g_free(record->uuid);
        g_free(record->tenant);
        g_free(record->config_digest);
        g_ptr_array_unref(record->ports);
        g_free(record);
}

NetisoRecord *
netiso_record_new_from_policy(const NetisoPolicy *policy, NetisoBackend backend)
{
        NetisoRecord *record = record_new();

        record->domain = g_strdup(policy->domain);
        record->uuid = g_strdup(policy->uuid);
        record->tenant = g_strdup(policy->tenant);
        record->backend = backend;
        record->config_digest = netiso_config_digest(policy->config);
        record->installed_usec = g_get_real_time();
        record->flow_id = policy->flow_id;
        for (guint i = 0; i < policy->ports->len; i++) {
                const NetisoPolicyPort *pp = g_ptr_array_index(policy->ports, i);
                NetisoRecordPort *port;

                if (!pp->tap)
                        continue;
                port = record_port_new(pp->tap);
                port->mac = g_strdup(pp->mac);
                g_array_append_vals(port->addresses, pp->addresses->data, pp->addresses->len);
                if (!pp->routed) {
                        port->bridge = g_strdup(pp->bridge);
                        port->host_bridge = pp->host_bridge;
                        g_array_append_vals(port->learned, pp->learned->data, pp->learned->len);
                        g_array_append_vals(port->services.addresses, pp->services.addresses->data,
                                            pp->services.addresses->len);
                        port->services.dns = pp->services.dns;
                        port->services.dhcp4 = pp->services.dhcp4;
                        port->services.dhcp6 = pp->services.dhcp6;
                }
                g_ptr_array_add(record->ports, port);
        }
        return record;
}

static void
set_cidrs(GKeyFile *kf, const char *group, const char *key, const GArray *cidrs)
{
        g_autoptr(GPtrArray) texts = g_ptr_array_new_with_free_func(g_free);

        for (guint a = 0; a < cidrs->len; a++)
                g_ptr_array_add(texts, netiso_cidr_to_string(&g_array_index(cidrs, NetisoCidr, a),
                                                             /* with_host_prefix */ FALSE));
        g_key_file_set_string_list(kf, group, key, (const char *const *)texts->pdata, texts->len);
}

/* A bridged port's keys; a record without "bridge" is a routed port's. */
static void
set_bridged(GKeyFile *kf, const char *group, const NetisoRecordPort *port)
{
        const char *services[3];
        gsize n = 0;

        if (!port->bridge)
                return;
        g_key_file_set_string(kf, group, "bridge", port->bridge);
        g_key_file_set_boolean(kf, group, "host-bridge", port->host_bridge);
        set_cidrs(kf, group, "learned", port->learned);
        set_cidrs(kf, group, "service-addresses", port->services.addresses);
        if (port->services.dns)
                services[n++] = "dns";
        if (port->services.dhcp4)
                services[n++] = "dhcp4";
        if (port->services.dhcp6)
                services[n++] = "dhcp6";
        g_key_file_set_string_list(kf, group, "services", services, n);
}

char *
netiso_record_to_data(const NetisoRecord *record, gsize *ret_len)
{
        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_autoptr(GPtrArray) taps = g_ptr_array_new();

        g_key_file_set_string(kf, RECORD_GROUP, "name", record->domain);
        if (record->uuid)
                g_key_file_set_string(kf, RECORD_GROUP, "uuid", record->uuid);
        g_key_file_set_string(kf, RECORD_GROUP, "tenant", record->tenant);
        g_key_file_set_string(kf, RECORD_GROUP, "backend",
                              netiso_backend_to_string(record->backend));
        g_key_file_set_string(kf, RECORD_GROUP, "config-digest",
                              record->config_digest ? record->config_digest : "");
        g_key_file_set_int64(kf, RECORD_GROUP, "installed-usec", record->installed_usec);
        if (record->flow_id)
                g_key_file_set_integer(kf, RECORD_GROUP, "flow-id", record->flow_id);
        for (guint i = 0; i < record->ports->len; i++) {
                const NetisoRecordPort *port = g_ptr_array_index(record->ports, i);
                g_autofree char *group = g_strconcat(PORT_GROUP_PREFIX, port->tap, NULL);

                g_ptr_array_add(taps, port->tap);
                if (port->mac)
                        g_key_file_set_string(kf, group, "mac", port->mac);
                set_cidrs(kf, group, "addresses", port->addresses);
                set_bridged(kf, group, port);
        }
        g_key_file_set_string_list(kf, RECORD_GROUP, "taps", (const char *const *)taps->pdata,
                                   taps->len);
        return g_key_file_to_data(kf, ret_len, NULL);
}

static gboolean
bad_record(const char *filename, const char *what, GError **error)
{
        g_set_error(error, NETISO_ERROR, NETISO_ERROR_STATE, "%s: damaged state record: %s",
                    filename, what);
        return FALSE;
}

/* Teardown pastes a record's tenant and taps into firewall syntax, so they
 * pass the same allow-lists as names read from domain XML. */
static gboolean
check_name(const char *filename, const char *kind, const char *name, const char *why,
           GError **error)
{
        g_autofree char *quoted = NULL;
        g_autofree char *what = NULL;

        if (!why)
                return TRUE;
        quoted = netiso_quote(name);
        what = g_strdup_printf("%s '%s' is invalid: %s", kind, quoted, why);
        return bad_record(filename, what, error);
}

static gboolean
load_cidrs(GKeyFile *kf, const char *filename, const char *group, const char *key, GArray *into,
           GError **error)
{
        g_auto(GStrv) addrs = g_key_file_get_string_list(kf, group, key, NULL, NULL);

        for (gsize i = 0; addrs && addrs[i]; i++) {
                NetisoCidr c;
                if (!netiso_addr_parse(addrs[i], &c, NULL))
                        return bad_record(filename, "an address does not parse", error);
                g_array_append_val(into, c);
        }
        return TRUE;
}

static gboolean
load_bridged(GKeyFile *kf, const char *filename, const char *group, NetisoRecordPort *port,
             GError **error)
{
        g_auto(GStrv) services = NULL;

        port->bridge = g_key_file_get_string(kf, group, "bridge", NULL);
        if (!port->bridge)
                return TRUE;
        if (!check_name(filename, "bridge", port->bridge, netiso_ifname_problem(port->bridge),
                        error))
                return FALSE;
        /* The MAC is pasted into firewall syntax for bridged ports. */
        if (!port->mac || netiso_mac_problem(port->mac))
                return bad_record(filename, "a bridged port has no valid mac", error);
        port->host_bridge = g_key_file_get_boolean(kf, group, "host-bridge", NULL);
        if (!load_cidrs(kf, filename, group, "learned", port->learned, error) ||
            !load_cidrs(kf, filename, group, "service-addresses", port->services.addresses, error))
                return FALSE;
        services = g_key_file_get_string_list(kf, group, "services", NULL, NULL);
        for (gsize i = 0; services && services[i]; i++) {
                port->services.dns |= g_str_equal(services[i], "dns");
                port->services.dhcp4 |= g_str_equal(services[i], "dhcp4");
                port->services.dhcp6 |= g_str_equal(services[i], "dhcp6");
        }
        return TRUE;
}

static gboolean
load_port(GKeyFile *kf, const char *filename, const char *tap, NetisoRecord *record, GError **error)
{
        g_autofree char *group = g_strconcat(PORT_GROUP_PREFIX, tap, NULL);
        NetisoRecordPort *port;

        if (!check_name(filename, "tap", tap, netiso_ifname_problem(tap), error))
                return FALSE;
        if (!g_key_file_has_group(kf, group))
                return bad_record(filename, "a listed tap has no [port] group", error);
        port = record_port_new(tap);
        g_ptr_array_add(record->ports, port);
        port->mac = g_key_file_get_string(kf, group, "mac", NULL);
        return load_cidrs(kf, filename, group, "addresses", port->addresses, error) &&
               load_bridged(kf, filename, group, port, error);
}

/* Records hold only the escapes g_key_file_to_data() writes. Anything else is
 * damage, refused before GLib sees it: GLib 2.74 reports a value with an invalid
 * escape and a trailing backslash by setting one GError twice (a warning on
 * stderr, which libvirt logs, and a leak). */
static gboolean
has_foreign_escape(const char *data, gsize len)
{
        for (gsize i = 0; i < len; i++) {
                if (data[i] != '\\')
                        continue;
                if (i + 1 == len || data[i + 1] == '\0' || !strchr("sntr\\;", data[i + 1]))
                        return TRUE;
                i++;
        }
        return FALSE;
}

NetisoRecord *
netiso_record_new_from_data(const char *filename, const char *data, gsize len, GError **error)
{
        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_autoptr(NetisoRecord) record = record_new();
        g_autoptr(GError) local = NULL;
        g_autofree char *backend = NULL;
        g_autofree char *tenant_problem = NULL;
        g_auto(GStrv) taps = NULL;
        gint64 flow_id;

        if (has_foreign_escape(data, len)) {
                bad_record(filename, "invalid escape sequence", error);
                return NULL;
        }
        /* GLib's own message depends on the locale; ours is stable. */
        if (!g_key_file_load_from_data(kf, data, len, G_KEY_FILE_NONE, &local)) {
                bad_record(filename, "not in key-file syntax", error);
                return NULL;
        }
        record->domain = g_key_file_get_string(kf, RECORD_GROUP, "name", NULL);
        record->tenant = g_key_file_get_string(kf, RECORD_GROUP, "tenant", NULL);
        backend = g_key_file_get_string(kf, RECORD_GROUP, "backend", NULL);
        if (!record->domain || !record->tenant || !backend) {
                bad_record(filename, "name, tenant or backend missing", error);
                return NULL;
        }
        tenant_problem = netiso_tenant_name_problem(record->tenant);
        if (!check_name(filename, "tenant", record->tenant, tenant_problem, error))
                return NULL;
        if (g_str_equal(backend, "nftables"))
                record->backend = NETISO_BACKEND_NFTABLES;
        else if (g_str_equal(backend, "iptables"))
                record->backend = NETISO_BACKEND_IPTABLES;
        else {
                bad_record(filename, "unknown backend", error);
                return NULL;
        }
        record->uuid = g_key_file_get_string(kf, RECORD_GROUP, "uuid", NULL);
        record->config_digest = g_key_file_get_string(kf, RECORD_GROUP, "config-digest", NULL);
        record->installed_usec = g_key_file_get_int64(kf, RECORD_GROUP, "installed-usec", NULL);
        /* Missing (a record of an older version) reads as 0: none yet. */
        flow_id = g_key_file_get_int64(kf, RECORD_GROUP, "flow-id", &local);
        if (local && !g_error_matches(local, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND))
                flow_id = -1;
        if (flow_id < 0 || flow_id > G_MAXUINT16) {
                bad_record(filename, "flow-id is not an integer from 0 to 65535", error);
                return NULL;
        }
        record->flow_id = (guint16)flow_id;
        taps = g_key_file_get_string_list(kf, RECORD_GROUP, "taps", NULL, NULL);
        for (guint i = 0; taps && taps[i]; i++)
                if (!load_port(kf, filename, taps[i], record, error))
                        return NULL;
        return g_steal_pointer(&record);
}

static char *
domains_dir(const char *state_dir)
{
        return g_build_filename(state_dir, "domains", NULL);
}

/* Domain names are libvirt's business and may hold any character but '/';
 * escaping keeps every name a single safe file name. A file name has at most
 * NAME_MAX bytes, which escaping (three per non-ASCII byte) or a name near
 * libvirt's own limit exceeds: such a name is stored under its digest, as
 * "%-DIGEST", which escaping never writes. Records name their domain inside. */
static char *
record_path(const char *state_dir, const char *domain)
{
        g_autofree char *dir = domains_dir(state_dir);
        g_autofree char *escaped = g_uri_escape_string(domain, NULL, /* allow_utf8 */ FALSE);
        g_autofree char *file = g_strconcat(escaped, ".state", NULL);

        if (strlen(file) > NAME_MAX) {
                g_autofree char *digest =
                        g_compute_checksum_for_string(G_CHECKSUM_SHA256, domain, -1);
                g_free(file);
                file = g_strconcat("%-", digest, ".state", NULL);
        }
        return g_build_filename(dir, file, NULL);
}

static char *
tap_path(const char *state_dir, const char *tap)
{
        /* Tap names are validated ([A-Za-z0-9_.-], no leading dot) before they get here. */
        return g_build_filename(state_dir, "taps", tap, NULL);
}

char *
netiso_state_flow_path(const char *state_dir, guint16 flow_id)
{
        char name[8];

        g_snprintf(name, sizeof(name), "%u", flow_id);
        return g_build_filename(state_dir, "flows", name, NULL);
}

gboolean
netiso_state_ensure_dir(const char *state_dir, GError **error)
{
        g_autofree char *dir = domains_dir(state_dir);
        g_autofree char *taps = g_build_filename(state_dir, "taps", NULL);
        g_autofree char *flows = g_build_filename(state_dir, "flows", NULL);

        if (g_mkdir_with_parents(dir, 0700) < 0 || g_mkdir_with_parents(taps, 0700) < 0 ||
            g_mkdir_with_parents(flows, 0700) < 0) {
                int e = errno;
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_STATE, "%s: cannot create: %s",
                            state_dir, g_strerror(e));
                return FALSE;
        }
        return TRUE;
}

gboolean
netiso_state_tap_owner(const char *state_dir, const char *tap, char **ret_domain, GError **error)
{
        g_autofree char *path = tap_path(state_dir, tap);
        g_autoptr(GError) local = NULL;
        char *target = g_file_read_link(path, &local);

        if (!target && !g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_STATE, "%s", local->message);
                return FALSE;
        }
        if (target) {
                /* The link holds the escaped domain name. */
                char *name = g_uri_unescape_string(target, NULL);
                g_free(target);
                target = name;
        }
        *ret_domain = target;
        return TRUE;
}

/* path -> the escaped domain name, replaced atomically. */
static gboolean
link_domain(const char *path, const char *domain, GError **error)
{
        g_autofree char *escaped = g_uri_escape_string(domain, NULL, /* allow_utf8 */ FALSE);
        g_autofree char *tmp = g_strconcat(path, ".new", NULL);

        g_unlink(tmp);
        if (symlink(escaped, tmp) < 0 || g_rename(tmp, path) < 0) {
                int e = errno;
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_STATE, "%s: cannot link: %s", path,
                            g_strerror(e));
                return FALSE;
        }
        return TRUE;
}

static gboolean
link_taps(const char *state_dir, const NetisoRecord *record, GError **error)
{
        for (guint i = 0; i < record->ports->len; i++) {
                const NetisoRecordPort *port = g_ptr_array_index(record->ports, i);
                g_autofree char *path = tap_path(state_dir, port->tap);

                if (!link_domain(path, record->domain, error))
                        return FALSE;
        }
        return TRUE;
}

/* The link of a record's flow id is written before the record names the
 * id and removed after it no longer does: a crash leaves at worst a link
 * nobody holds (flow-ids.c checks the record), never a held id unlinked. */
static gboolean
link_flow(const char *state_dir, const NetisoRecord *record, GError **error)
{
        g_autofree char *path = netiso_state_flow_path(state_dir, record->flow_id);

        return link_domain(path, record->domain, error);
}

static void
unlink_flow(const char *state_dir, guint16 flow_id, const char *domain)
{
        g_autofree char *path = netiso_state_flow_path(state_dir, flow_id);
        g_autofree char *escaped = g_uri_escape_string(domain, NULL, /* allow_utf8 */ FALSE);
        g_autofree char *target = g_file_read_link(path, NULL);

        /* Only our own link: the id may have gone to another guest since. */
        if (g_strcmp0(target, escaped) == 0)
                g_unlink(path);
}

static gboolean
record_has_tap(const NetisoRecord *record, const char *tap)
{
        for (guint i = 0; record && i < record->ports->len; i++) {
                const NetisoRecordPort *port = g_ptr_array_index(record->ports, i);
                if (g_str_equal(port->tap, tap))
                        return TRUE;
        }
        return FALSE;
}

/* Drops record's tap links, except those that keep (may be NULL) still lists. */
static void
unlink_taps(const char *state_dir, const NetisoRecord *record, const NetisoRecord *keep)
{
        for (guint i = 0; i < record->ports->len; i++) {
                const NetisoRecordPort *port = g_ptr_array_index(record->ports, i);
                g_autofree char *path = tap_path(state_dir, port->tap);
                g_autofree char *owner = NULL;

                if (record_has_tap(keep, port->tap))
                        continue;
                /* Only our own links: the tap may already belong to a newer guest. */
                if (netiso_state_tap_owner(state_dir, port->tap, &owner, NULL) &&
                    g_strcmp0(owner, record->domain) == 0)
                        g_unlink(path);
        }
}

gboolean
netiso_state_load(const char *state_dir, const char *domain, NetisoRecord **ret_record,
                  GError **error)
{
        g_autofree char *path = record_path(state_dir, domain);
        g_autofree char *data = NULL;
        g_autoptr(GError) local = NULL;
        gsize len = 0;

        if (!g_file_get_contents(path, &data, &len, &local)) {
                if (g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
                        *ret_record = NULL;
                        return TRUE;
                }
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_STATE, "%s", local->message);
                return FALSE;
        }
        NetisoRecord *record = netiso_record_new_from_data(path, data, len, error);
        if (!record)
                return FALSE;
        *ret_record = record;
        return TRUE;
}

gboolean
netiso_state_save(const char *state_dir, const NetisoRecord *record, GError **error)
{
        g_autofree char *path = record_path(state_dir, record->domain);
        g_autofree char *data = NULL;
        g_autoptr(GError) local = NULL;
        g_autoptr(NetisoRecord) previous = NULL;
        gsize len = 0;

        if (!netiso_state_ensure_dir(state_dir, error))
                return FALSE;
        /* A tap the domain no longer has (hot-unplugged) must not stay linked
         * to it: a guest that gets that tap next would take it over and
         * remove this domain's whole state as stale. */
        if (netiso_state_load(state_dir, record->domain, &previous, NULL) && previous)
                unlink_taps(state_dir, previous, record);
        if (record->flow_id && !link_flow(state_dir, record, error))
                return FALSE;
        data = netiso_record_to_data(record, &len);
        /* g_file_set_contents_full writes a temporary file, fsyncs and renames. */
        if (!g_file_set_contents_full(path, data, (gssize)len, G_FILE_SET_CONTENTS_CONSISTENT, 0600,
                                      &local)) {
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_STATE, "%s", local->message);
                return FALSE;
        }
        if (previous && previous->flow_id && previous->flow_id != record->flow_id)
                unlink_flow(state_dir, previous->flow_id, record->domain);
        return link_taps(state_dir, record, error);
}

gboolean
netiso_state_remove(const char *state_dir, const char *domain, GError **error)
{
        g_autofree char *path = record_path(state_dir, domain);
        g_autoptr(NetisoRecord) record = NULL;

        if (netiso_state_load(state_dir, domain, &record, NULL) && record)
                unlink_taps(state_dir, record, NULL);
        if (g_unlink(path) < 0 && errno != ENOENT) {
                int e = errno;
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_STATE, "%s: cannot remove: %s", path,
                            g_strerror(e));
                return FALSE;
        }
        if (record && record->flow_id)
                unlink_flow(state_dir, record->flow_id, domain);
        return TRUE;
}

static gint
compare_records(gconstpointer a, gconstpointer b)
{
        const NetisoRecord *x = *(NetisoRecord *const *)a;
        const NetisoRecord *y = *(NetisoRecord *const *)b;

        return g_strcmp0(x->domain, y->domain);
}

GPtrArray *
netiso_state_list(const char *state_dir, GPtrArray **ret_problems, GError **error)
{
        g_autofree char *dir = domains_dir(state_dir);
        g_autoptr(GPtrArray) records =
                g_ptr_array_new_with_free_func((GDestroyNotify)netiso_record_free);
        g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GError) local = NULL;
        g_autoptr(GDir) d = g_dir_open(dir, 0, &local);
        const char *name;

        if (!d) {
                if (!g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
                        g_set_error(error, NETISO_ERROR, NETISO_ERROR_STATE, "%s", local->message);
                        return NULL;
                }
        }
        while (d && (name = g_dir_read_name(d))) {
                g_autofree char *path = NULL;
                g_autofree char *data = NULL;
                g_autoptr(GError) e = NULL;
                gsize len = 0;
                NetisoRecord *record;

                if (!g_str_has_suffix(name, ".state"))
                        continue;
                path = g_build_filename(dir, name, NULL);
                if (!g_file_get_contents(path, &data, &len, &e) ||
                    !(record = netiso_record_new_from_data(path, data, len, &e))) {
                        g_ptr_array_add(problems, g_strdup(e->message));
                        continue;
                }
                g_ptr_array_add(records, record);
        }
        g_ptr_array_sort(records, compare_records);
        if (ret_problems)
                *ret_problems = g_steal_pointer(&problems);
        return g_steal_pointer(&records);
}
