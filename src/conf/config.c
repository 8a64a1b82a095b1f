/* The [vm.network_isolation] reader: a parsed TOML tree becomes a NetisoConfig
 * with the contract's defaults, and every mistake becomes one line naming the
 * file, line, column and key. */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "conf/config-read.h"
#include "conf/config.h"
#include "conf/toml.h"
#include "util/error.h"
#include "util/input.h"

#define SECTION "vm.network_isolation"
#define IFNAME_MAX 15 /* IFNAMSIZ without the terminating NUL */

static const char *const backend_names[_NETISO_BACKEND_MAX] = {
        [NETISO_BACKEND_NFTABLES] = "nftables",
        [NETISO_BACKEND_IPTABLES] = "iptables",
};
static const char *const proto_names[_NETISO_PROTO_MAX] = {
        [NETISO_PROTO_TCP] = "tcp",
        [NETISO_PROTO_UDP] = "udp",
};
static const char *const direction_names[_NETISO_DIRECTION_MAX] = {
        [NETISO_DIRECTION_OUTBOUND] = "outbound",
        [NETISO_DIRECTION_INBOUND] = "inbound",
};

const char *
netiso_backend_to_string(NetisoBackend backend)
{
        g_assert(backend < _NETISO_BACKEND_MAX);
        return backend_names[backend];
}

const char *
netiso_proto_to_string(NetisoProto proto)
{
        g_assert(proto < _NETISO_PROTO_MAX);
        return proto_names[proto];
}

const char *
netiso_direction_to_string(NetisoDirection direction)
{
        g_assert(direction < _NETISO_DIRECTION_MAX);
        return direction_names[direction];
}

void
netiso_config_free(NetisoConfig *config)
{
        if (!config)
                return;
        g_free(config->path);
        g_clear_pointer(&config->cluster_networks, g_array_unref);
        g_clear_pointer(&config->vm_networks, g_array_unref);
        g_clear_pointer(&config->allowed_ports, g_array_unref);
        g_clear_pointer(&config->guest_interface_patterns, g_ptr_array_unref);
        g_clear_pointer(&config->allowed_ethertypes, g_array_unref);
        g_clear_pointer(&config->flowtable_uplinks, g_ptr_array_unref);
        g_free(config->state_dir);
        netiso_cluster_config_free(config->cluster);
        g_free(config);
}

static GArray *
cidrs_new_from_strings(const char *const *texts, gsize n)
{
        GArray *cidrs = g_array_sized_new(/* zero_terminated */ FALSE, /* clear */ FALSE,
                                          sizeof(NetisoCidr), (guint)n);

        for (gsize i = 0; i < n; i++) {
                NetisoCidr cidr;
                gboolean ok = netiso_cidr_parse(texts[i], &cidr, NULL);

                g_assert(ok); /* the defaults below are valid */
                g_array_append_val(cidrs, cidr);
        }
        return cidrs;
}

static NetisoConfig *
config_new(const char *path)
{
        static const char *const cluster_networks[] = {
                "127.0.0.0/8",
                "169.254.0.0/16",
                "::1/128",
                "fe80::/10",
        };
        static const char *const vm_networks[] = { "10.0.0.0/16" };
        static const NetisoPort dns[] = {
                { NETISO_PROTO_UDP, 53, NETISO_DIRECTION_OUTBOUND },
                { NETISO_PROTO_TCP, 53, NETISO_DIRECTION_OUTBOUND },
        };
        NetisoConfig *config = g_new0(NetisoConfig, 1);

        config->path = g_strdup(path);
        config->enabled = FALSE;
        config->backend = NETISO_BACKEND_NFTABLES;
        config->cluster_networks =
                cidrs_new_from_strings(cluster_networks, G_N_ELEMENTS(cluster_networks));
        config->vm_networks = cidrs_new_from_strings(vm_networks, G_N_ELEMENTS(vm_networks));
        config->inter_vm_isolation = FALSE;
        config->tenant_isolation = TRUE;
        config->allow_internet = TRUE;
        config->allowed_ports =
                g_array_new(/* zero_terminated */ FALSE, /* clear */ FALSE, sizeof(NetisoPort));
        g_array_append_vals(config->allowed_ports, dns, G_N_ELEMENTS(dns));
        config->guest_interface_patterns = g_ptr_array_new_with_free_func(g_free);
        g_ptr_array_add(config->guest_interface_patterns, g_strdup("vnet*"));
        config->log_drops = FALSE;
        config->log_drops_per_second = 5;
        config->state_dir = g_strdup(NETISO_DEFAULT_STATE_DIR);
        config->allowed_ethertypes = g_array_new(FALSE, FALSE, sizeof(guint16));
        config->flowtable = FALSE;
        config->flowtable_uplinks = g_ptr_array_new_with_free_func(g_free);
        return config;
}

NetisoConfig *
netiso_config_new_default(void)
{
        return config_new("(defaults)");
}

/* One of two words, as the enums' name tables spell them. */
static gboolean
read_choice(const char *filename, const char *key, const NetisoTomlValue *value,
            const char *const names[2], guint *ret_index, GError **error)
{
        if (!netiso_config_check_type(filename, key, value, NETISO_TOML_STRING, "a string", error))
                return FALSE;
        for (guint i = 0; i < 2; i++)
                if (g_str_equal(value->string, names[i])) {
                        *ret_index = i;
                        return TRUE;
                }
        return netiso_config_key_error(filename, key, value, error,
                                       "expected \"%s\" or \"%s\", got \"%s\"", names[0], names[1],
                                       value->string);
}

static gboolean
read_cidr(const char *filename, const char *key, const NetisoTomlValue *value, NetisoCidr *ret_cidr,
          GError **error)
{
        g_autoptr(GError) local = NULL;

        if (!netiso_config_check_type(filename, key, value, NETISO_TOML_STRING, "a CIDR string",
                                      error))
                return FALSE;
        if (!netiso_cidr_parse(value->string, ret_cidr, &local))
                return netiso_config_key_error(filename, key, value, error, "%s", local->message);
        return TRUE;
}

static gboolean
read_cidr_array(const char *filename, const char *key, const NetisoTomlValue *value,
                gboolean allow_empty, GArray **ret_cidrs, GError **error)
{
        g_autoptr(GArray) cidrs =
                g_array_new(/* zero_terminated */ FALSE, /* clear */ FALSE, sizeof(NetisoCidr));

        if (!netiso_config_check_type(filename, key, value, NETISO_TOML_ARRAY,
                                      "an array of CIDR strings", error))
                return FALSE;
        if (!allow_empty && value->array->len == 0)
                return netiso_config_key_error(filename, key, value, error,
                                               "must name at least one network");
        for (guint i = 0; i < value->array->len; i++) {
                g_autofree char *name = g_strdup_printf("%s[%u]", key, i + 1);
                NetisoCidr cidr;

                if (!read_cidr(filename, name, g_ptr_array_index(value->array, i), &cidr, error))
                        return FALSE;
                g_array_append_val(cidrs, cidr);
        }
        *ret_cidrs = g_steal_pointer(&cidrs);
        return TRUE;
}

/* What one key of [vm.network_isolation] does to the configuration. */
typedef gboolean (*KeyReader)(const char *filename, const char *key, const NetisoTomlValue *value,
                              NetisoConfig *config, GError **error);

typedef struct {
        const char *key;
        KeyReader read; /* NULL: a boolean stored at offset */
        gsize offset;
} SectionKey;

static const SectionKey *find_section_key(const char *key);

static gboolean
read_backend(const char *filename, const char *key, const NetisoTomlValue *value,
             NetisoConfig *config, GError **error)
{
        guint index = 0;

        if (!read_choice(filename, key, value, backend_names, &index, error))
                return FALSE;
        config->backend = (NetisoBackend)index;
        return TRUE;
}

static gboolean
read_cluster_networks(const char *filename, const char *key, const NetisoTomlValue *value,
                      NetisoConfig *config, GError **error)
{
        GArray *cidrs = NULL;

        /* Allowed empty: a host may have no cluster network to hide from guests. */
        if (!read_cidr_array(filename, key, value, /* allow_empty */ TRUE, &cidrs, error))
                return FALSE;
        g_array_unref(config->cluster_networks);
        config->cluster_networks = cidrs;
        return TRUE;
}

static gboolean
read_vm_network(const char *filename, const char *key, const NetisoTomlValue *value,
                NetisoConfig *config, GError **error)
{
        GArray *cidrs = NULL;
        NetisoCidr cidr;

        /* The seed writes one network as a string; an array allows IPv4 and IPv6. */
        if (value->type == NETISO_TOML_ARRAY) {
                if (!read_cidr_array(filename, key, value, /* allow_empty */ FALSE, &cidrs, error))
                        return FALSE;
        } else if (value->type == NETISO_TOML_STRING) {
                if (!read_cidr(filename, key, value, &cidr, error))
                        return FALSE;
                cidrs = g_array_new(/* zero_terminated */ FALSE, /* clear */ FALSE,
                                    sizeof(NetisoCidr));
                g_array_append_val(cidrs, cidr);
        } else {
                return netiso_config_key_error(
                        filename, key, value, error,
                        "expected a CIDR string or an array of CIDR strings, got %s",
                        netiso_toml_type_describe(value->type));
        }
        g_array_unref(config->vm_networks);
        config->vm_networks = cidrs;
        return TRUE;
}

static gboolean
read_port_field(const char *filename, const char *entry_name, const NetisoTomlEntry *field,
                NetisoPort *port, GError **error)
{
        g_autofree char *key = g_strdup_printf("%s.%s", entry_name, field->key);
        guint index = 0;
        gint64 number = 0;

        if (g_str_equal(field->key, "protocol")) {
                if (!read_choice(filename, key, field->value, proto_names, &index, error))
                        return FALSE;
                port->protocol = (NetisoProto)index;
        } else if (g_str_equal(field->key, "port")) {
                if (!netiso_config_read_integer(filename, key, field->value, 1, 65535, &number,
                                                error))
                        return FALSE;
                port->port = (guint16)number;
        } else if (g_str_equal(field->key, "direction")) {
                if (!read_choice(filename, key, field->value, direction_names, &index, error))
                        return FALSE;
                port->direction = (NetisoDirection)index;
        } else {
                /* Keys written below a [[...]] header belong to that entry: a common slip. */
                static const char misplaced[] =
                        " (keys of [" SECTION "] go above its first [[allowed_ports]])";
                const char *hint = find_section_key(field->key) ? misplaced : "";

                netiso_toml_set_error(error, filename, field->line, field->column,
                                      "unknown key '%s' in [[" SECTION ".allowed_ports]]%s",
                                      field->key, hint);
                return FALSE;
        }
        return TRUE;
}

static gboolean
read_port(const char *filename, const char *name, const NetisoTomlValue *table,
          NetisoPort *ret_port, GError **error)
{
        NetisoPort port = { .direction = NETISO_DIRECTION_OUTBOUND };
        static const char *const required[] = { "protocol", "port" };

        if (!netiso_config_check_type(filename, name, table, NETISO_TOML_TABLE, "a table", error))
                return FALSE;
        for (guint i = 0; i < netiso_toml_table_size(table); i++)
                if (!read_port_field(filename, name, netiso_toml_table_nth(table, i), &port, error))
                        return FALSE;
        for (gsize i = 0; i < G_N_ELEMENTS(required); i++) {
                g_autofree char *key = g_strdup_printf("%s.%s", name, required[i]);

                if (!netiso_toml_table_lookup(table, required[i]))
                        return netiso_config_key_error(
                                filename, key, table, error,
                                "missing; every allowed port needs a protocol and a port");
        }
        *ret_port = port;
        return TRUE;
}

static gboolean
port_equal(const NetisoPort *a, const NetisoPort *b)
{
        return a->protocol == b->protocol && a->port == b->port && a->direction == b->direction;
}

static gboolean
read_allowed_ports(const char *filename, const char *key, const NetisoTomlValue *value,
                   NetisoConfig *config, GError **error)
{
        g_autoptr(GArray) ports =
                g_array_new(/* zero_terminated */ FALSE, /* clear */ FALSE, sizeof(NetisoPort));

        /* Written as [[...]] tables, or as [] for "no ports at all". */
        if (!netiso_config_check_type(filename, key, value, NETISO_TOML_ARRAY, "an array of tables",
                                      error))
                return FALSE;
        for (guint i = 0; i < value->array->len; i++) {
                g_autofree char *name = g_strdup_printf("%s[%u]", key, i + 1);
                gboolean seen = FALSE;
                NetisoPort port;

                if (!read_port(filename, name, g_ptr_array_index(value->array, i), &port, error))
                        return FALSE;
                for (guint j = 0; j < ports->len && !seen; j++)
                        seen = port_equal(&g_array_index(ports, NetisoPort, j), &port);
                if (!seen)
                        g_array_append_val(ports, port);
        }
        g_array_unref(config->allowed_ports);
        config->allowed_ports = g_steal_pointer(&ports);
        return TRUE;
}

/* "vnet*": 1..15 name characters, optionally a '*' at the end; a lone '*'
 * would match the host's own interfaces. */
static gboolean
is_ifname_pattern(const char *pattern)
{
        gsize n = strlen(pattern);

        if (n > 0 && pattern[n - 1] == '*')
                n--;
        if (n < 1 || n > IFNAME_MAX)
                return FALSE;
        for (gsize i = 0; i < n; i++)
                if (!g_ascii_isalnum(pattern[i]) && pattern[i] != '_' && pattern[i] != '.' &&
                    pattern[i] != '-')
                        return FALSE;
        return TRUE;
}

/* An array of interface names into *ret (replaced), each a pattern with
 * an optional trailing '*' when patterns is TRUE, else a plain name. */
static gboolean
read_ifnames(const char *filename, const char *key, const NetisoTomlValue *value, gboolean patterns,
             GPtrArray **ret, GError **error)
{
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);

        if (!netiso_config_check_type(filename, key, value, NETISO_TOML_ARRAY,
                                      "an array of strings", error))
                return FALSE;
        for (guint i = 0; i < value->array->len; i++) {
                const NetisoTomlValue *item = g_ptr_array_index(value->array, i);
                g_autofree char *name = g_strdup_printf("%s[%u]", key, i + 1);

                if (!netiso_config_check_type(filename, name, item, NETISO_TOML_STRING, "a string",
                                              error))
                        return FALSE;
                if (patterns && !is_ifname_pattern(item->string))
                        return netiso_config_key_error(
                                filename, name, item, error,
                                "\"%s\" is not an interface name pattern (1 to %d of A-Za-z0-9_.- and an optional trailing '*')",
                                item->string, IFNAME_MAX);
                if (!patterns && (!is_ifname_pattern(item->string) || strchr(item->string, '*')))
                        return netiso_config_key_error(
                                filename, name, item, error,
                                "\"%s\" is not an interface name (1 to %d of A-Za-z0-9_.-)",
                                item->string, IFNAME_MAX);
                g_ptr_array_add(names, g_strdup(item->string));
        }
        g_ptr_array_unref(*ret);
        *ret = g_steal_pointer(&names);
        return TRUE;
}

static gboolean
read_guest_interface_patterns(const char *filename, const char *key, const NetisoTomlValue *value,
                              NetisoConfig *config, GError **error)
{
        if (value->type == NETISO_TOML_ARRAY && value->array->len == 0)
                return netiso_config_key_error(
                        filename, key, value, error,
                        "must name at least one pattern, or no guest could start");
        return read_ifnames(filename, key, value, /* patterns */ TRUE,
                            &config->guest_interface_patterns, error);
}

/* Interface names (no pattern): the devices of the flowtable besides the
 * guests' taps. */
static gboolean
read_flowtable_uplinks(const char *filename, const char *key, const NetisoTomlValue *value,
                       NetisoConfig *config, GError **error)
{
        return read_ifnames(filename, key, value, /* patterns */ FALSE, &config->flowtable_uplinks,
                            error);
}

static gboolean
read_log_drops_per_second(const char *filename, const char *key, const NetisoTomlValue *value,
                          NetisoConfig *config, GError **error)
{
        gint64 rate = 0;

        if (!netiso_config_read_integer(filename, key, value, 1, 10000, &rate, error))
                return FALSE;
        config->log_drops_per_second = (guint)rate;
        return TRUE;
}

static gboolean
read_state_dir(const char *filename, const char *key, const NetisoTomlValue *value,
               NetisoConfig *config, GError **error)
{
        if (!netiso_config_check_type(filename, key, value, NETISO_TOML_STRING, "a string", error))
                return FALSE;
        /* The hook runs with libvirtd's working directory: relative means nothing there. */
        if (!g_path_is_absolute(value->string))
                return netiso_config_key_error(filename, key, value, error,
                                               "\"%s\" is not an absolute path", value->string);
        g_free(config->state_dir);
        config->state_dir = g_strdup(value->string);
        return TRUE;
}

/* "0x88cc": an ethertype (not an 802.3 length) that carries no frame past
 * the guards of table bridge blixard. */
static const char *
ethertype_problem(const char *text, guint16 *ret)
{
        guint64 v = 0;

        if (!g_str_has_prefix(text, "0x") || strlen(text) < 3 || strlen(text) > 6 ||
            !g_ascii_string_to_unsigned(text + 2, 16, 0, 0xffff, &v, NULL))
                return "is not an ethertype written as 0x0600 to 0xffff";
        if (v < 0x0600)
                return "is an 802.3 frame length, not an ethertype";
        if (v == 0x0800 || v == 0x86dd || v == 0x0806)
                return "is IPv4, IPv6 or ARP, which always pass, through guards of their own";
        if (v == 0x8100 || v == 0x88a8 || v == 0x9100)
                return "is a VLAN tag, whose frames would pass no guard";
        *ret = (guint16)v;
        return NULL;
}

static gboolean
read_allowed_ethertypes(const char *filename, const char *key, const NetisoTomlValue *value,
                        NetisoConfig *config, GError **error)
{
        g_autoptr(GArray) types = g_array_new(FALSE, FALSE, sizeof(guint16));

        if (!netiso_config_check_type(filename, key, value, NETISO_TOML_ARRAY,
                                      "an array of strings", error))
                return FALSE;
        for (guint i = 0; i < value->array->len; i++) {
                const NetisoTomlValue *item = g_ptr_array_index(value->array, i);
                g_autofree char *name = g_strdup_printf("%s[%u]", key, i + 1);
                const char *why;
                gboolean seen = FALSE;
                guint16 t = 0;

                if (!netiso_config_check_type(filename, name, item, NETISO_TOML_STRING, "a string",
                                              error))
                        return FALSE;
                why = ethertype_problem(item->string, &t);
                if (why)
                        return netiso_config_key_error(filename, name, item, error, "\"%s\" %s",
                                                       item->string, why);
                for (guint j = 0; j < types->len && !seen; j++)
                        seen = g_array_index(types, guint16, j) == t;
                if (!seen)
                        g_array_append_val(types, t);
        }
        g_array_unref(config->allowed_ethertypes);
        config->allowed_ethertypes = g_steal_pointer(&types);
        return TRUE;
}

static gboolean
read_cluster(const char *filename, const char *key, const NetisoTomlValue *value,
             NetisoConfig *config, GError **error)
{
        NetisoClusterConfig *cluster = NULL;

        if (!netiso_config_read_cluster(filename, value, &cluster, error))
                return FALSE;
        netiso_cluster_config_free(config->cluster);
        config->cluster = cluster;
        return TRUE;
}

static const SectionKey section_keys[] = {
        { "enabled", NULL, G_STRUCT_OFFSET(NetisoConfig, enabled) },
        { "backend", read_backend, 0 },
        { "cluster_networks", read_cluster_networks, 0 },
        { "vm_network", read_vm_network, 0 },
        { "inter_vm_isolation", NULL, G_STRUCT_OFFSET(NetisoConfig, inter_vm_isolation) },
        { "tenant_isolation", NULL, G_STRUCT_OFFSET(NetisoConfig, tenant_isolation) },
        { "allow_internet", NULL, G_STRUCT_OFFSET(NetisoConfig, allow_internet) },
        { "allowed_ports", read_allowed_ports, 0 },
        { "guest_interface_patterns", read_guest_interface_patterns, 0 },
        { "log_drops", NULL, G_STRUCT_OFFSET(NetisoConfig, log_drops) },
        { "log_drops_per_second", read_log_drops_per_second, 0 },
        { "state_dir", read_state_dir, 0 },
        { "allowed_ethertypes", read_allowed_ethertypes, 0 },
        { "flowtable", NULL, G_STRUCT_OFFSET(NetisoConfig, flowtable) },
        { "flowtable_uplinks", read_flowtable_uplinks, 0 },
        { "cluster", read_cluster, 0 },
};

static const SectionKey *
find_section_key(const char *key)
{
        for (gsize i = 0; i < G_N_ELEMENTS(section_keys); i++)
                if (g_str_equal(key, section_keys[i].key))
                        return &section_keys[i];
        return NULL;
}

static gboolean
read_section_entry(const char *filename, const NetisoTomlEntry *entry, NetisoConfig *config,
                   GError **error)
{
        const SectionKey *known = find_section_key(entry->key);

        if (!known) {
                netiso_toml_set_error(error, filename, entry->line, entry->column,
                                      "unknown key '%s' in [" SECTION "]", entry->key);
                return FALSE;
        }
        if (known->read)
                return known->read(filename, entry->key, entry->value, config, error);
        if (!netiso_config_check_type(filename, entry->key, entry->value, NETISO_TOML_BOOLEAN,
                                      "a boolean", error))
                return FALSE;
        G_STRUCT_MEMBER(gboolean, config, known->offset) = entry->value->boolean;
        return TRUE;
}

NetisoConfig *
netiso_config_new_from_data(const char *filename, const char *data, gsize len, GError **error)
{
        g_autoptr(NetisoTomlValue) root = netiso_toml_parse(filename, data, len, error);
        g_autoptr(NetisoConfig) config = NULL;
        const NetisoTomlEntry *vm, *section;

        if (!root)
                return NULL;
        config = config_new(filename);
        /* The rest of the file belongs to Blixard: [vm] may hold other tables. */
        vm = netiso_toml_table_lookup(root, "vm");
        if (!vm || vm->value->type != NETISO_TOML_TABLE)
                return g_steal_pointer(&config);
        section = netiso_toml_table_lookup(vm->value, "network_isolation");
        if (!section)
                return g_steal_pointer(&config);
        if (!netiso_config_check_type(filename, SECTION, section->value, NETISO_TOML_TABLE,
                                      "a table", error))
                return NULL;
        for (guint i = 0; i < netiso_toml_table_size(section->value); i++)
                if (!read_section_entry(filename, netiso_toml_table_nth(section->value, i), config,
                                        error))
                        return NULL;
        if (config->cluster && config->backend != NETISO_BACKEND_NFTABLES) {
                netiso_toml_set_error(
                        error, filename, config->cluster->line, config->cluster->column,
                        "[" SECTION
                        ".cluster] needs backend = \"nftables\": the iptables backend has no sets to hold other hosts' guests");
                return NULL;
        }
        return g_steal_pointer(&config);
}

NetisoConfig *
netiso_config_new_from_file(const char *path, GError **error)
{
        g_autoptr(GString) data = g_string_new(NULL);
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        int err = fd < 0 ? errno
                         : netiso_read_bounded(fd, NETISO_TOML_MAX_SIZE, /* drain */ FALSE, data);

        if (fd >= 0)
                close(fd);
        if (err != 0) {
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_CONFIG, "%s: cannot read: %s", path,
                            g_strerror(err));
                return NULL;
        }
        return netiso_config_new_from_data(path, data->str, data->len, error);
}

gboolean
netiso_config_is_guest_like_ifname(const NetisoConfig *config, const char *ifname)
{
        g_assert(config);
        if (!ifname)
                return FALSE;
        for (guint i = 0; i < config->guest_interface_patterns->len; i++) {
                const char *pattern = g_ptr_array_index(config->guest_interface_patterns, i);
                gsize n = strlen(pattern);

                if (n > 0 && pattern[n - 1] == '*' ? strncmp(ifname, pattern, n - 1) == 0
                                                   : g_str_equal(ifname, pattern))
                        return TRUE;
        }
        return FALSE;
}

static void
append_cidrs(GString *out, const char *name, const GArray *cidrs)
{
        g_string_append_printf(out, "%s=", name);
        for (guint i = 0; i < cidrs->len; i++) {
                g_autofree char *text = netiso_cidr_to_string(&g_array_index(cidrs, NetisoCidr, i),
                                                              /* with_host_prefix */ TRUE);
                g_string_append_printf(out, "%s%s", i ? "," : "", text);
        }
        g_string_append_c(out, '\n');
}

char *
netiso_config_digest(const NetisoConfig *config)
{
        /* Order is kept as written: renderers emit rules in that order. The
         * path and state_dir are left out, they change nothing in the kernel. */
        g_autoptr(GString) out = g_string_new("blixard-netiso-config 1\n");

        g_string_append_printf(out, "enabled=%d\nbackend=%s\n", !!config->enabled,
                               netiso_backend_to_string(config->backend));
        append_cidrs(out, "cluster_networks", config->cluster_networks);
        append_cidrs(out, "vm_networks", config->vm_networks);
        g_string_append_printf(out, "inter_vm_isolation=%d\ntenant_isolation=%d\n",
                               !!config->inter_vm_isolation, !!config->tenant_isolation);
        g_string_append_printf(out, "allow_internet=%d\nallowed_ports=", !!config->allow_internet);
        for (guint i = 0; i < config->allowed_ports->len; i++) {
                const NetisoPort *port = &g_array_index(config->allowed_ports, NetisoPort, i);
                g_string_append_printf(out, "%s%s/%u/%s", i ? "," : "",
                                       netiso_proto_to_string(port->protocol), port->port,
                                       netiso_direction_to_string(port->direction));
        }
        g_string_append(out, "\nguest_interface_patterns=");
        for (guint i = 0; i < config->guest_interface_patterns->len; i++)
                g_string_append_printf(out, "%s%s", i ? "," : "",
                                       (const char *)config->guest_interface_patterns->pdata[i]);
        g_string_append_printf(out, "\nlog_drops=%d\nlog_drops_per_second=%u\n",
                               !!config->log_drops, config->log_drops_per_second);
        /* Only when set: the digest of every older configuration stays. */
        for (guint i = 0; i < config->allowed_ethertypes->len; i++)
                g_string_append_printf(out, "%s0x%04x", i ? "," : "allowed_ethertypes=",
                                       g_array_index(config->allowed_ethertypes, guint16, i));
        if (config->flowtable) {
                g_string_append(out, "\nflowtable=1\nflowtable_uplinks=");
                for (guint i = 0; i < config->flowtable_uplinks->len; i++)
                        g_string_append_printf(out, "%s%s", i ? "," : "",
                                               (const char *)config->flowtable_uplinks->pdata[i]);
        }
        netiso_config_digest_cluster(out, config->cluster);
        return g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)out->str, out->len);
}
