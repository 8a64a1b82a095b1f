/* The policy model: what one guest may send and receive, computed from the
 * configuration and the domain alone. No I/O, so every branch is testable. */
#include "autoconfig.h"

#include "core/policy.h"
#include "util/error.h"

const char *
netiso_peers_to_string(NetisoPeers peers)
{
        static const char *const names[_NETISO_PEERS_MAX] = {
                [NETISO_PEERS_ALL] = "all guests",
                [NETISO_PEERS_SAME_TENANT] = "same tenant",
                [NETISO_PEERS_NONE] = "none",
        };
        g_assert(peers < _NETISO_PEERS_MAX);
        return names[peers];
}

static NetisoPeers
peers_from_config(const NetisoConfig *config)
{
        /* inter_vm_isolation is the stronger switch: it forbids guest-to-guest
         * traffic whatever the tenants, as the seed's comment says. */
        if (config->inter_vm_isolation)
                return NETISO_PEERS_NONE;
        if (config->tenant_isolation)
                return NETISO_PEERS_SAME_TENANT;
        return NETISO_PEERS_ALL;
}

NetisoRules *
netiso_rules_new(const NetisoConfig *config)
{
        NetisoRules *rules = g_new0(NetisoRules, 1);

        rules->peers = peers_from_config(config);
        rules->internet = config->allow_internet;
        rules->cluster_networks = config->cluster_networks;
        rules->vm_networks = config->vm_networks;
        rules->ports_out =
                g_array_new(/* zero_terminated */ FALSE, /* clear */ FALSE, sizeof(NetisoPort));
        rules->ports_in =
                g_array_new(/* zero_terminated */ FALSE, /* clear */ FALSE, sizeof(NetisoPort));
        for (guint i = 0; config->allowed_ports && i < config->allowed_ports->len; i++) {
                const NetisoPort *p = &g_array_index(config->allowed_ports, NetisoPort, i);
                g_array_append_val(p->direction == NETISO_DIRECTION_INBOUND ? rules->ports_in
                                                                            : rules->ports_out,
                                   *p);
        }
        return rules;
}

void
netiso_rules_free(NetisoRules *rules)
{
        if (!rules)
                return;
        g_array_unref(rules->ports_out);
        g_array_unref(rules->ports_in);
        g_free(rules);
}

static void
policy_port_free(gpointer data)
{
        NetisoPolicyPort *port = data;

        g_free(port->tap);
        g_free(port->mac);
        g_array_unref(port->addresses);
        g_free(port);
}

void
netiso_policy_free(NetisoPolicy *policy)
{
        if (!policy)
                return;
        netiso_rules_free(policy->rules);
        g_free(policy->domain);
        g_free(policy->uuid);
        g_free(policy->tenant);
        g_ptr_array_unref(policy->ports);
        g_ptr_array_unref(policy->warnings);
        g_free(policy);
}

static gboolean
address_in_networks(const NetisoCidr *addr, const GArray *networks)
{
        for (guint i = 0; networks && i < networks->len; i++)
                if (netiso_cidr_contains(&g_array_index(networks, NetisoCidr, i), addr))
                        return TRUE;
        return FALSE;
}

/* A guest address inside a cluster network would let anti-spoofing accept
 * sources the cluster trusts, and its replies would be dropped anyway. */
static gboolean
check_address(const NetisoPolicy *policy, const NetisoIface *iface, const NetisoCidr *addr,
              GError **error)
{
        g_autofree char *text = netiso_cidr_to_string(addr, /* with_host_prefix */ FALSE);
        const char *why = netiso_addr_guest_refusal(addr);

        if (why) {
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_POLICY,
                            "domain '%s': interface %u: guest address %s %s", policy->domain,
                            iface->index, text, why);
                return FALSE;
        }
        if (address_in_networks(addr, policy->config->cluster_networks)) {
                g_set_error(
                        error, NETISO_ERROR, NETISO_ERROR_POLICY,
                        "domain '%s': interface %u: guest address %s is inside a cluster network",
                        policy->domain, iface->index, text);
                return FALSE;
        }
        if (!address_in_networks(addr, policy->config->vm_networks))
                g_ptr_array_add(
                        policy->warnings,
                        g_strdup_printf("interface %u: guest address %s is outside vm_network",
                                        iface->index, text));
        return TRUE;
}

/* The fail-closed drop for taps without installed state is keyed on
 * guest_interface_patterns (and, in table inet blixard, on the device being
 * a tap): a guest tap outside the patterns would not be covered by it on
 * the iptables backend, which matches names only. Refuse it, whatever the
 * backend, so that the patterns name every guest the hook knows. */
static gboolean
check_tap_name(const NetisoPolicy *policy, const NetisoIface *iface, GError **error)
{
        const GPtrArray *patterns = policy->config->guest_interface_patterns;
        g_autoptr(GString) list = NULL;

        if (!iface->tap || netiso_config_is_guest_like_ifname(policy->config, iface->tap))
                return TRUE;
        list = g_string_new(NULL);
        for (guint i = 0; i < patterns->len; i++)
                g_string_append_printf(list, "%s\"%s\"", i ? ", " : "",
                                       (const char *)g_ptr_array_index(patterns, i));
        g_set_error(error, NETISO_ERROR, NETISO_ERROR_POLICY,
                    "domain '%s': interface %u: tap '%s' matches none of guest_interface_patterns "
                    "(%s), so it would not be dropped while its isolation is not installed; "
                    "name it to match one, or add a pattern",
                    policy->domain, iface->index, iface->tap, list->str);
        return FALSE;
}

/* Taps and addresses claimed by the domain's earlier interfaces, each mapped
 * to that interface's index + 1. Hashing keeps the check linear: pairwise
 * comparison took a minute for a 4 MB domain of 90,000 addresses. */
typedef struct {
        GHashTable *taps;
        GHashTable *addresses; /* canonical text */
} Claims;

static void
claims_clear(Claims *claims)
{
        g_clear_pointer(&claims->taps, g_hash_table_unref);
        g_clear_pointer(&claims->addresses, g_hash_table_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Claims, claims_clear)

static gboolean
check_unique(const NetisoPolicy *policy, const NetisoPolicyPort *port, Claims *claims,
             GError **error)
{
        g_autoptr(GPtrArray) texts = g_ptr_array_new_with_free_func(g_free);
        guint other =
                port->tap ? GPOINTER_TO_UINT(g_hash_table_lookup(claims->taps, port->tap)) : 0;

        if (other) {
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_POLICY,
                            "domain '%s': interfaces %u and %u both use tap '%s'", policy->domain,
                            other - 1, port->iface_index, port->tap);
                return FALSE;
        }
        for (guint a = 0; a < port->addresses->len; a++) {
                char *text = netiso_cidr_to_string(&g_array_index(port->addresses, NetisoCidr, a),
                                                   /* with_host_prefix */ FALSE);

                g_ptr_array_add(texts, text);
                other = GPOINTER_TO_UINT(g_hash_table_lookup(claims->addresses, text));
                if (other) {
                        g_set_error(error, NETISO_ERROR, NETISO_ERROR_POLICY,
                                    "domain '%s': interfaces %u and %u both claim address %s",
                                    policy->domain, other - 1, port->iface_index, text);
                        return FALSE;
                }
        }
        if (port->tap)
                g_hash_table_insert(claims->taps, g_strdup(port->tap),
                                    GUINT_TO_POINTER(port->iface_index + 1));
        for (guint a = 0; a < texts->len; a++)
                g_hash_table_insert(claims->addresses, g_strdup(g_ptr_array_index(texts, a)),
                                    GUINT_TO_POINTER(port->iface_index + 1));
        return TRUE;
}

static gboolean
add_port(NetisoPolicy *policy, const NetisoIface *iface, Claims *claims, GError **error)
{
        NetisoPolicyPort *port;

        if (!netiso_iface_type_is_filterable(iface->type)) {
                g_set_error(
                        error, NETISO_ERROR, NETISO_ERROR_POLICY,
                        "domain '%s': interface %u of type '%s' bypasses the host firewall and cannot be isolated",
                        policy->domain, iface->index,
                        iface->type_name ? iface->type_name
                                         : netiso_iface_type_to_string(iface->type));
                return FALSE;
        }
        if (!check_tap_name(policy, iface, error))
                return FALSE;
        for (guint i = 0; iface->addresses && i < iface->addresses->len; i++)
                if (!check_address(policy, iface, &g_array_index(iface->addresses, NetisoCidr, i),
                                   error))
                        return FALSE;

        port = g_new0(NetisoPolicyPort, 1);
        port->iface_index = iface->index;
        port->type = iface->type;
        port->routed = iface->type == NETISO_IFACE_ETHERNET;
        port->tap = g_strdup(iface->tap);
        port->mac = g_strdup(iface->mac);
        port->addresses =
                g_array_new(/* zero_terminated */ FALSE, /* clear */ FALSE, sizeof(NetisoCidr));
        if (iface->addresses)
                g_array_append_vals(port->addresses, iface->addresses->data, iface->addresses->len);

        if (!check_unique(policy, port, claims, error)) {
                policy_port_free(port);
                return FALSE;
        }
        if (port->addresses->len == 0)
                g_ptr_array_add(
                        policy->warnings,
                        g_strdup_printf(
                                "interface %u has no guest address: all its IP traffic is dropped as spoofed",
                                iface->index));
        g_ptr_array_add(policy->ports, port);
        return TRUE;
}

NetisoPolicy *
netiso_policy_new_for_domain(const NetisoConfig *config, const NetisoDomain *domain, GError **error)
{
        g_autoptr(NetisoPolicy) policy = g_new0(NetisoPolicy, 1);
        g_auto(Claims) claims = {
                .taps = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL),
                .addresses = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL),
        };

        policy->config = config;
        policy->rules = netiso_rules_new(config);
        policy->domain = g_strdup(domain->name);
        policy->uuid = g_strdup(domain->uuid);
        policy->tenant = g_strdup(domain->tenant);
        policy->tenant_explicit = domain->tenant_explicit;
        policy->ports = g_ptr_array_new_with_free_func(policy_port_free);
        policy->warnings = g_ptr_array_new_with_free_func(g_free);

        for (guint i = 0; domain->ifaces && i < domain->ifaces->len; i++)
                if (!add_port(policy, g_ptr_array_index(domain->ifaces, i), &claims, error))
                        return NULL;
        if (!domain->tenant_explicit)
                g_ptr_array_add(
                        policy->warnings,
                        g_strdup_printf("no isolation metadata: the guest belongs to tenant '%s'",
                                        domain->tenant));
        return g_steal_pointer(&policy);
}

gboolean
netiso_policy_has_tap(const NetisoPolicy *policy, const char *tap)
{
        for (guint i = 0; policy && i < policy->ports->len; i++) {
                const NetisoPolicyPort *p = g_ptr_array_index(policy->ports, i);
                if (g_strcmp0(p->tap, tap) == 0)
                        return TRUE;
        }
        return FALSE;
}

gboolean
netiso_policy_is_routed(const NetisoPolicy *policy, const char *seen_by, GError **error)
{
        for (guint i = 0; i < policy->ports->len; i++) {
                const NetisoPolicyPort *p = g_ptr_array_index(policy->ports, i);

                if (p->routed)
                        continue;
                g_set_error(
                        error, NETISO_ERROR, NETISO_ERROR_POLICY,
                        "domain '%s': interface %u of type '%s' is bridged: %s cannot see traffic between bridge ports; use a routed type='ethernet' interface, or nwfilter for bridged guests",
                        policy->domain, p->iface_index, netiso_iface_type_to_string(p->type),
                        seen_by);
                return FALSE;
        }
        return netiso_policy_has_all_taps(policy, error);
}

gboolean
netiso_policy_has_all_taps(const NetisoPolicy *policy, GError **error)
{
        for (guint i = 0; i < policy->ports->len; i++) {
                const NetisoPolicyPort *port = g_ptr_array_index(policy->ports, i);

                if (!port->tap) {
                        g_set_error(
                                error, NETISO_ERROR, NETISO_ERROR_POLICY,
                                "domain '%s': interface %u has no <target dev>: the tap is not known yet",
                                policy->domain, port->iface_index);
                        return FALSE;
                }
        }
        return TRUE;
}
