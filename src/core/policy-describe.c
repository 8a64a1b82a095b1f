/* `explain`: a policy in plain sentences that an operator can check against
 * what they meant, one statement a line. */
#include "autoconfig.h"

#include "core/policy.h"

static char *
join_networks(const GArray *networks)
{
        g_autoptr(GString) out = g_string_new(NULL);

        for (guint i = 0; networks && i < networks->len; i++) {
                g_autofree char *s = netiso_cidr_to_string(&g_array_index(networks, NetisoCidr, i),
                                                           /* with_host_prefix */ TRUE);
                g_string_append_printf(out, "%s%s", i ? ", " : "", s);
        }
        return out->len ? g_string_free(g_steal_pointer(&out), /* free_segment */ FALSE)
                        : g_strdup("(none)");
}

static char *
join_ports(const GArray *ports)
{
        g_autoptr(GString) out = g_string_new(NULL);

        for (guint i = 0; i < ports->len; i++) {
                const NetisoPort *p = &g_array_index(ports, NetisoPort, i);
                g_string_append_printf(out, "%s%s/%u", i ? ", " : "",
                                       netiso_proto_to_string(p->protocol), p->port);
        }
        return out->len ? g_string_free(g_steal_pointer(&out), /* free_segment */ FALSE)
                        : g_strdup("(none)");
}

/* What a bridged port gets besides the semantics: the guards, and the
 * network's own services. */
static void
describe_bridged(GString *out, const NetisoPolicy *policy, const NetisoPolicyPort *port)
{
        const NetisoNetServices *s = &port->services;

        g_string_append_printf(
                out,
                "    bridged on %s%s: frames only from its MAC, ARP and neighbour discovery only for its addresses, no router advertisements, redirects or DHCP servers, %s\n",
                port->bridge ? port->bridge : "(bridge not known yet)",
                port->host_bridge ? " (a host bridge)" : "",
                policy->config->allowed_ethertypes->len
                        ? "IPv4, IPv6, ARP and allowed_ethertypes only"
                        : "IPv4, IPv6 and ARP only");
        if (s->addresses->len > 0 && (s->dns || s->dhcp4 || s->dhcp6))
                g_string_append_printf(out, "    the network's dnsmasq:%s%s%s\n",
                                       s->dns ? " DNS" : "", s->dhcp4 ? " DHCP" : "",
                                       s->dhcp6 ? " DHCPv6" : "");
}

static void
describe_ports(GString *out, const NetisoPolicy *policy)
{
        if (policy->ports->len == 0)
                g_string_append(out, "  (none: the guest has no network interface)\n");
        for (guint i = 0; i < policy->ports->len; i++) {
                const NetisoPolicyPort *port = g_ptr_array_index(policy->ports, i);
                g_autoptr(GString) addrs = g_string_new(NULL);

                for (guint a = 0; a < port->addresses->len; a++) {
                        g_autofree char *s = netiso_cidr_to_string(
                                &g_array_index(port->addresses, NetisoCidr, a),
                                /* with_host_prefix */ FALSE);
                        g_string_append_printf(addrs, "%s%s", a ? ", " : "", s);
                }
                g_string_append_printf(out, "  interface %u: %s, tap %s, mac %s\n",
                                       port->iface_index, netiso_iface_type_to_string(port->type),
                                       port->tap ? port->tap : "(not created yet)",
                                       port->mac ? port->mac : "(none)");
                g_string_append_printf(out, "    may send only from: %s\n",
                                       addrs->len ? addrs->str
                                                  : "(no address: IP traffic dropped)");
                if (!port->routed)
                        describe_bridged(out, policy, port);
        }
}

/* Where the guests of a tenant are: on this host, or on every host. */
static const char *
cluster_text(const NetisoPolicy *policy)
{
        return policy->config->cluster ? " on every host of the cluster" : "";
}

static void
describe_outbound(GString *out, const NetisoPolicy *policy, const char *ports_out)
{
        const NetisoRules *r = policy->rules;

        g_string_append(out, "may reach:\n");
        switch (r->peers) {
        case NETISO_PEERS_ALL:
                g_string_append(out, "  every other guest, any tenant, any protocol\n");
                break;
        case NETISO_PEERS_SAME_TENANT:
                g_string_append_printf(out, "  guests of tenant '%s'%s, any protocol\n",
                                       policy->tenant, cluster_text(policy));
                break;
        case NETISO_PEERS_NONE:
                g_string_append(out, "  no other guest (inter_vm_isolation)\n");
                break;
        default:
                g_assert_not_reached();
        }
        if (r->peers == NETISO_PEERS_ALL && policy->config->cluster)
                g_string_append(out, "  the guests of the other hosts of the cluster\n");
        if (r->internet)
                g_string_append(
                        out, "  the internet: any address outside the cluster and VM networks\n");
        else
                g_string_append_printf(out, "  the internet only on allowed outbound ports: %s\n",
                                       ports_out);
        g_string_append_printf(
                out,
                "  the host only on allowed outbound ports: %s, and IPv6 neighbour discovery\n",
                ports_out);
        g_string_append(
                out,
                "  replies to its own connections (established; ICMP errors judged like new packets)\n");
}

static void
describe_blocked(GString *out, const NetisoPolicy *policy, const char *cluster, const char *vmnet)
{
        const NetisoRules *r = policy->rules;

        g_string_append(out, "never reaches:\n");
        g_string_append_printf(out, "  cluster networks: %s\n", cluster);
        g_string_append(out, "  any other host service\n");
        if (r->peers == NETISO_PEERS_SAME_TENANT)
                g_string_append(out, "  guests of other tenants\n");
        if (r->peers != NETISO_PEERS_ALL)
                g_string_append_printf(out, "  other addresses of the VM networks: %s\n", vmnet);
        g_string_append(out, "  anything, from a source address that is not its own (spoofing)\n");
        g_string_append(out, "  anything, in invalid connection-tracking state\n");
}

static void
describe_inbound(GString *out, const NetisoPolicy *policy, const char *ports_in)
{
        const NetisoRules *r = policy->rules;

        g_string_append(out, "reachable from:\n");
        if (r->peers == NETISO_PEERS_ALL)
                g_string_append(out, "  every other guest\n");
        else if (r->peers == NETISO_PEERS_SAME_TENANT)
                g_string_append_printf(out, "  guests of tenant '%s'%s\n", policy->tenant,
                                       cluster_text(policy));
        g_string_append(out, "  the host itself\n");
        g_string_append_printf(out, "  outside the VM networks, on inbound ports: %s\n", ports_in);
        if (policy->config->cluster)
                g_string_append(
                        out, "  from the VM networks nothing else, whatever the port (cluster)\n");
        g_string_append(out, "  replies to its own connections (established, related)\n");
}

char *
netiso_policy_describe(const NetisoPolicy *policy)
{
        g_autoptr(GString) out = g_string_new(NULL);
        g_autofree char *cluster = join_networks(policy->rules->cluster_networks);
        g_autofree char *vmnet = join_networks(policy->rules->vm_networks);
        g_autofree char *ports_out = join_ports(policy->rules->ports_out);
        g_autofree char *ports_in = join_ports(policy->rules->ports_in);

        g_string_append_printf(out, "domain '%s'%s%s%s\n", policy->domain,
                               policy->uuid ? " (uuid " : "", policy->uuid ? policy->uuid : "",
                               policy->uuid ? ")" : "");
        g_string_append_printf(out, "tenant: %s%s\n", policy->tenant,
                               policy->tenant_explicit ? "" : " (no metadata: default tenant)");
        g_string_append_printf(out, "isolation: %s, backend %s\n",
                               policy->config->enabled ? "enabled"
                                                       : "DISABLED in the configuration",
                               netiso_backend_to_string(policy->config->backend));
        g_string_append(out, "interfaces:\n");
        describe_ports(out, policy);
        describe_outbound(out, policy, ports_out);
        describe_blocked(out, policy, cluster, vmnet);
        describe_inbound(out, policy, ports_in);
        if (policy->warnings->len) {
                g_string_append(out, "warnings:\n");
                for (guint i = 0; i < policy->warnings->len; i++)
                        g_string_append_printf(
                                out, "  %s\n",
                                (const char *)g_ptr_array_index(policy->warnings, i));
        }
        return g_string_free(g_steal_pointer(&out), /* free_segment */ FALSE);
}
