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
        g_free(port->bridge);
        g_array_unref(port->learned);
        g_array_unref(port->services.addresses);
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

        /* A bridged guest's link-local address is on-link only: the cluster's
         * fe80::/10 is about where guests send, not what they are. */
        if (netiso_iface_type_is_bridged(iface->type) && netiso_addr_is_link_local_v6(addr))
                return TRUE;

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

/* An address besides the link-local one. */
static gboolean
has_bindable(const NetisoPolicyPort *port)
{
        for (guint i = 0; i < port->addresses->len; i++)
                if (!netiso_addr_is_link_local_v6(&g_array_index(port->addresses, NetisoCidr, i)))
                        return TRUE;
        return FALSE;
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

static void
add_unique(GArray *list, const NetisoCidr *addr)
{
        for (guint i = 0; i < list->len; i++)
                if (netiso_cidr_equal(&g_array_index(list, NetisoCidr, i), addr))
                        return;
        g_array_append_val(list, *addr);
}

/* A bridged port's addresses besides the declared ones: the network's DHCP
 * reservation for the MAC, learned leases, the SLAAC address in every
 * prefix of the network that has no DHCPv6, and the link-local address,
 * all derived from what libvirt wrote, never from what the guest sends. */
static gboolean
add_bridged(NetisoPolicy *policy, const NetisoIface *iface, NetisoPolicyPort *port, GError **error)
{
        const NetisoNetwork *net = iface->net;
        const NetisoCidr *reserved = net ? netiso_network_reservation(net, iface->mac) : NULL;
        NetisoCidr derived;

        if (!iface->mac) {
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_POLICY,
                            "domain '%s': interface %u is bridged and has no <mac address>",
                            policy->domain, iface->index);
                return FALSE;
        }
        port->bridge = g_strdup(iface->bridge);
        port->host_bridge =
                iface->type == NETISO_IFACE_BRIDGE || (net && !netiso_network_is_private(net));
        if (reserved) {
                if (!check_address(policy, iface, reserved, error))
                        return FALSE;
                add_unique(port->addresses, reserved);
        }
        port->learned_known = iface->learned != NULL;
        for (guint i = 0; iface->learned && i < iface->learned->len; i++) {
                const NetisoCidr *c = &g_array_index(iface->learned, NetisoCidr, i);
                if (!check_address(policy, iface, c, error))
                        return FALSE;
                add_unique(port->learned, c);
                add_unique(port->addresses, c);
        }
        for (guint i = 0; net && i < net->ra_only_v6->len; i++)
                if (netiso_addr_eui64(iface->mac, &g_array_index(net->ra_only_v6, NetisoCidr, i),
                                      &derived)) {
                        if (!check_address(policy, iface, &derived, error))
                                return FALSE;
                        add_unique(port->addresses, &derived);
                }
        if (netiso_addr_eui64(iface->mac, NULL, &derived))
                add_unique(port->addresses, &derived);
        if (net && netiso_network_has_services(net)) {
                g_array_append_vals(port->services.addresses, net->addresses->data,
                                    net->addresses->len);
                port->services.dns = net->dns;
                port->services.dhcp4 = net->dhcp4;
                port->services.dhcp6 = net->dhcp6;
        }
        return TRUE;
}

static NetisoPolicyPort *
port_new(const NetisoIface *iface)
{
        NetisoPolicyPort *port = g_new0(NetisoPolicyPort, 1);

        port->iface_index = iface->index;
        port->type = iface->type;
        port->routed = iface->type == NETISO_IFACE_ETHERNET;
        port->tap = g_strdup(iface->tap);
        port->mac = g_strdup(iface->mac);
        port->addresses = g_array_new(FALSE, FALSE, sizeof(NetisoCidr));
        port->learned = g_array_new(FALSE, FALSE, sizeof(NetisoCidr));
        port->services.addresses = g_array_new(FALSE, FALSE, sizeof(NetisoCidr));
        if (iface->addresses)
                g_array_append_vals(port->addresses, iface->addresses->data, iface->addresses->len);
        return port;
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

        port = port_new(iface);
        if ((!port->routed && !add_bridged(policy, iface, port, error)) ||
            !check_unique(policy, port, claims, error)) {
                policy_port_free(port);
                return FALSE;
        }
        if (port->routed && port->addresses->len == 0)
                g_ptr_array_add(
                        policy->warnings,
                        g_strdup_printf(
                                "interface %u has no guest address: all its IP traffic is dropped as spoofed",
                                iface->index));
        if (!port->routed && !has_bindable(port))
                g_ptr_array_add(
                        policy->warnings,
                        g_strdup_printf(
                                "interface %u has no address yet but its link-local one: until a DHCP lease is learned (blixard-netiso watch) it may only use DHCP and duplicate address detection",
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
netiso_policy_is_routed(const NetisoPolicy *policy, GError **error)
{
        for (guint i = 0; i < policy->ports->len; i++) {
                const NetisoPolicyPort *p = g_ptr_array_index(policy->ports, i);

                if (p->routed)
                        continue;
                /* ebtables-nft has no ND target match, no per-port IPv6
                 * pairs and no concatenated sets: not sound for these
                 * semantics (doc/bridged-design.md). */
                g_set_error(
                        error, NETISO_ERROR, NETISO_ERROR_POLICY,
                        "domain '%s': bridged interface %s on %s needs backend = \"nftables\", or libvirt nwfilter (blixard-netiso nwfilter)",
                        policy->domain, p->tap ? p->tap : netiso_iface_type_to_string(p->type),
                        p->bridge ? p->bridge : "a bridge");
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
                if (!port->routed && !port->bridge) {
                        g_set_error(error, NETISO_ERROR, NETISO_ERROR_POLICY,
                                    "domain '%s': interface %u has no bridge: no <source bridge>",
                                    policy->domain, port->iface_index);
                        return FALSE;
                }
        }
        return TRUE;
}

gboolean
netiso_policy_add_learned(NetisoPolicy *policy, guint port_index, const GArray *addresses,
                          GError **error)
{
        NetisoPolicyPort *port = g_ptr_array_index(policy->ports, port_index);

        g_return_val_if_fail(!port->routed, FALSE);
        for (guint i = 0; i < addresses->len; i++) {
                const NetisoCidr *c = &g_array_index(addresses, NetisoCidr, i);
                g_autofree char *text = netiso_cidr_to_string(c, /* with_host_prefix */ FALSE);
                const char *why = netiso_addr_guest_refusal(c);

                if (!why && address_in_networks(c, policy->config->cluster_networks))
                        why = "is inside a cluster network";
                if (why) {
                        g_set_error(error, NETISO_ERROR, NETISO_ERROR_POLICY,
                                    "domain '%s': interface %u: learned address %s %s",
                                    policy->domain, port->iface_index, text, why);
                        return FALSE;
                }
                add_unique(port->learned, c);
                add_unique(port->addresses, c);
        }
        return TRUE;
}

gboolean
netiso_policy_is_bridged(const NetisoPolicy *policy)
{
        for (guint i = 0; policy && i < policy->ports->len; i++)
                if (!((const NetisoPolicyPort *)g_ptr_array_index(policy->ports, i))->routed)
                        return TRUE;
        return FALSE;
}

gboolean
netiso_policy_has_host_bridge(const NetisoPolicy *policy)
{
        for (guint i = 0; policy && i < policy->ports->len; i++)
                if (((const NetisoPolicyPort *)g_ptr_array_index(policy->ports, i))->host_bridge)
                        return TRUE;
        return FALSE;
}
