/* The verdict on one packet, rule by rule in the order of TRAFFIC SEMANTICS
 * (blixard-netiso(8)), which is the order table inet blixard and the
 * iptables chains check them in. Pure: places come from the caller. */
#include "autoconfig.h"

#include <string.h>

#include "core/verdict.h"
#include "util/error.h"

static const char *const summaries[_NETISO_RULE_MAX] = {
        [NETISO_RULE_SPOOF] = "a guest may send only from its own addresses on that tap "
                              "(anti-spoofing)",
        [NETISO_RULE_STATE] =
                "packets of the guest's own established connections pass; invalid ones are dropped",
        [NETISO_RULE_CLUSTER] = "anything to a cluster network is dropped, whatever the port",
        [NETISO_RULE_HOST] = "to the host itself only the allowed outbound ports pass",
        [NETISO_RULE_PEER] = "to another guest on this host: inter_vm_isolation, then "
                             "tenant_isolation decide",
        [NETISO_RULE_VM_NETWORK] = "to any other address of a VM network: a guest of the same "
                                   "tenant on another host of the cluster passes; the rest is "
                                   "dropped unless tenant_isolation and inter_vm_isolation are "
                                   "both false",
        [NETISO_RULE_PORT_OUT] = "to the allowed outbound ports: passed",
        [NETISO_RULE_INTERNET] = "anything else: passed when allow_internet = true",
        [NETISO_RULE_REPLY] = "replies to a guest's own connections reach it, if addressed to it",
        [NETISO_RULE_FROM_HOST] = "the host itself reaches a guest",
        [NETISO_RULE_INBOUND] = "from outside only new connections to the allowed inbound ports "
                                "reach a guest; with a cluster, from a VM network only guests of "
                                "its tenant on other hosts, whatever the port",
        [NETISO_RULE_FAIL_CLOSED] = "a guest-like tap without installed state passes nothing "
                                    "(fail closed)",
};

const char *
netiso_rule_summary(NetisoRule rule)
{
        if (rule <= 0 || rule >= _NETISO_RULE_MAX)
                return "";
        return summaries[rule];
}

const char *
netiso_place_kind_to_string(NetisoPlaceKind kind)
{
        static const char *const names[_NETISO_PLACE_MAX] = {
                [NETISO_PLACE_OUTSIDE] = "outside", [NETISO_PLACE_HOST] = "host",
                [NETISO_PLACE_GUEST] = "guest",     [NETISO_PLACE_UNPROTECTED] = "unprotected",
                [NETISO_PLACE_REMOTE] = "remote",
        };
        g_assert(kind < _NETISO_PLACE_MAX);
        return names[kind];
}

NetisoPlace *
netiso_place_new(NetisoPlaceKind kind, const NetisoCidr *address, const char *found_by)
{
        NetisoPlace *place = g_new0(NetisoPlace, 1);

        place->kind = kind;
        place->address = *address;
        place->found_by = found_by;
        place->iface_addresses = g_array_new(FALSE, FALSE, sizeof(NetisoCidr));
        place->notes = g_ptr_array_new_with_free_func(g_free);
        return place;
}

void
netiso_place_free(NetisoPlace *place)
{
        if (!place)
                return;
        g_free(place->domain);
        g_free(place->tenant);
        g_free(place->node);
        g_free(place->iface);
        g_free(place->bridge);
        g_array_unref(place->iface_addresses);
        g_ptr_array_unref(place->notes);
        g_free(place);
}

char *
netiso_place_describe(const NetisoPlace *place)
{
        switch (place->kind) {
        case NETISO_PLACE_GUEST:
                return g_strdup_printf("guest %s (tenant %s, tap %s)", place->domain, place->tenant,
                                       place->iface);
        case NETISO_PLACE_UNPROTECTED:
                return g_strdup_printf("guest-like tap %s with nothing installed", place->iface);
        case NETISO_PLACE_REMOTE:
                return g_strdup_printf("guest %s of host %s (tenant %s)", place->domain,
                                       place->node, place->tenant);
        case NETISO_PLACE_HOST:
                return g_strdup("the host");
        case NETISO_PLACE_OUTSIDE:
        default:
                return place->iface ? g_strdup_printf("outside (via %s)", place->iface)
                                    : g_strdup("outside");
        }
}

const char *
netiso_packet_proto_to_string(NetisoPacketProto proto)
{
        static const char *const names[_NETISO_PACKET_MAX] = {
                [NETISO_PACKET_TCP] = "tcp",
                [NETISO_PACKET_UDP] = "udp",
                [NETISO_PACKET_ICMP] = "icmp",
        };
        g_assert(proto < _NETISO_PACKET_MAX);
        return names[proto];
}

gboolean
netiso_packet_proto_parse(const char *text, NetisoPacketProto *ret_proto)
{
        for (int p = 0; p < _NETISO_PACKET_MAX; p++)
                if (g_strcmp0(text, netiso_packet_proto_to_string(p)) == 0) {
                        *ret_proto = p;
                        return TRUE;
                }
        return FALSE;
}

void
netiso_verdict_free(NetisoVerdict *verdict)
{
        if (!verdict)
                return;
        for (guint i = 0; i < verdict->steps->len; i++)
                g_free(g_array_index(verdict->steps, NetisoVerdictStep, i).text);
        g_array_unref(verdict->steps);
        g_ptr_array_unref(verdict->options);
        g_free(verdict->because);
        g_free(verdict);
}

char *
netiso_verdict_option_value(const NetisoConfig *config, const char *key)
{
        if (g_str_equal(key, "inter_vm_isolation"))
                return g_strdup(config->inter_vm_isolation ? "true" : "false");
        if (g_str_equal(key, "tenant_isolation"))
                return g_strdup(config->tenant_isolation ? "true" : "false");
        if (g_str_equal(key, "allow_internet"))
                return g_strdup(config->allow_internet ? "true" : "false");
        if (g_str_equal(key, "guest_interface_patterns")) {
                GString *out = g_string_new(NULL);
                for (guint i = 0; i < config->guest_interface_patterns->len; i++)
                        g_string_append_printf(out, "%s%s", i ? ", " : "",
                                               (const char *)g_ptr_array_index(
                                                       config->guest_interface_patterns, i));
                return g_string_free(out, FALSE);
        }
        return NULL;
}

/* ---- the checks ---- */

typedef struct {
        const NetisoConfig *config;
        const NetisoPacket *packet;
        const NetisoPlace *from, *to;
        NetisoVerdict *v;
        char *dst; /* the destination address as text */
} Judge;

static void step(Judge *j, NetisoRule rule, const char *format, ...) G_GNUC_PRINTF(3, 4);

static void
step(Judge *j, NetisoRule rule, const char *format, ...)
{
        NetisoVerdictStep s = { rule, NULL };
        va_list ap;

        va_start(ap, format);
        s.text = g_strdup_vprintf(format, ap);
        va_end(ap);
        g_array_append_val(j->v->steps, s);
}

static void
consult(Judge *j, const char *key)
{
        for (guint i = 0; i < j->v->options->len; i++)
                if (g_str_equal(g_ptr_array_index(j->v->options, i), key))
                        return;
        g_ptr_array_add(j->v->options, (gpointer)key);
}

/* The last step decides: its text is the verdict's reason too. */
static NetisoVerdict *
decide(Judge *j, gboolean allowed, NetisoRule rule)
{
        NetisoVerdict *v = g_steal_pointer(&j->v);
        const NetisoVerdictStep *last =
                v->steps->len ? &g_array_index(v->steps, NetisoVerdictStep, v->steps->len - 1)
                              : NULL;

        v->allowed = allowed;
        v->rule = rule;
        v->because = g_strdup(last && last->rule == rule ? last->text : summaries[rule]);
        return v;
}

static const NetisoCidr *
in_networks(const NetisoCidr *addr, const GArray *networks)
{
        for (guint i = 0; networks && i < networks->len; i++)
                if (netiso_cidr_contains(&g_array_index(networks, NetisoCidr, i), addr))
                        return &g_array_index(networks, NetisoCidr, i);
        return NULL;
}

/* The allowed port of that direction the packet matches (protocol and
 * destination port, as `meta l4proto . th dport` does), or NULL. */
static const NetisoPort *
allowed_port(const Judge *j, NetisoDirection direction)
{
        const GArray *ports = j->config->allowed_ports;
        NetisoProto proto;

        if (j->packet->proto == NETISO_PACKET_ICMP)
                return NULL;
        proto = j->packet->proto == NETISO_PACKET_TCP ? NETISO_PROTO_TCP : NETISO_PROTO_UDP;
        for (guint i = 0; ports && i < ports->len; i++) {
                const NetisoPort *p = &g_array_index(ports, NetisoPort, i);
                if (p->direction == direction && p->protocol == proto && p->port == j->packet->port)
                        return p;
        }
        return NULL;
}

static char *
packet_service(const Judge *j)
{
        if (j->packet->proto == NETISO_PACKET_ICMP)
                return g_strdup("icmp");
        return g_strdup_printf("%s %u", netiso_packet_proto_to_string(j->packet->proto),
                               j->packet->port);
}

static gboolean
owns_source(const NetisoPlace *guest, const NetisoCidr *source)
{
        for (guint i = 0; i < guest->iface_addresses->len; i++)
                if (netiso_cidr_equal(&g_array_index(guest->iface_addresses, NetisoCidr, i),
                                      source))
                        return TRUE;
        return FALSE;
}

static NetisoVerdict *
fail_closed(Judge *j, const NetisoPlace *side)
{
        consult(j, "guest_interface_patterns");
        step(j, NETISO_RULE_FAIL_CLOSED,
             "tap %s matches guest_interface_patterns but no guest is installed on it",
             side->iface);
        return decide(j, FALSE, NETISO_RULE_FAIL_CLOSED);
}

/* Rule 5: the destination is another guest of this host. */
static NetisoVerdict *
to_peer(Judge *j)
{
        const NetisoPlace *from = j->from, *to = j->to;

        consult(j, "inter_vm_isolation");
        if (j->config->inter_vm_isolation) {
                step(j, NETISO_RULE_PEER,
                     "%s is guest %s on this host and inter_vm_isolation = true forbids all "
                     "guest-to-guest traffic",
                     j->dst, to->domain);
                return decide(j, FALSE, NETISO_RULE_PEER);
        }
        consult(j, "tenant_isolation");
        if (!j->config->tenant_isolation) {
                step(j, NETISO_RULE_PEER,
                     "%s is guest %s (tenant %s) and tenant_isolation = false lets guests of every "
                     "tenant reach each other",
                     j->dst, to->domain, to->tenant);
                return decide(j, TRUE, NETISO_RULE_PEER);
        }
        if (g_str_equal(from->tenant, to->tenant)) {
                step(j, NETISO_RULE_PEER, "%s is guest %s of the same tenant %s", j->dst,
                     to->domain, to->tenant);
                return decide(j, TRUE, NETISO_RULE_PEER);
        }
        step(j, NETISO_RULE_PEER,
             "%s is guest %s of tenant %s, not %s, and tenant_isolation = true (allowed ports "
             "never open a way to another tenant)",
             j->dst, to->domain, to->tenant, from->tenant);
        return decide(j, FALSE, NETISO_RULE_PEER);
}

/* Rule 6 towards a guest of another host (the cluster lists it). */
static NetisoVerdict *
to_remote(Judge *j)
{
        const NetisoPlace *from = j->from, *to = j->to;
        gboolean allowed;

        consult(j, "inter_vm_isolation");
        consult(j, "tenant_isolation");
        j->v->vm_network = in_networks(&j->packet->destination, j->config->vm_networks);
        if (j->config->inter_vm_isolation) {
                step(j, NETISO_RULE_VM_NETWORK,
                     "%s is guest %s of host %s and inter_vm_isolation = true forbids all "
                     "guest-to-guest traffic",
                     j->dst, to->domain, to->node);
                return decide(j, FALSE, NETISO_RULE_VM_NETWORK);
        }
        if (!j->config->tenant_isolation) {
                step(j, NETISO_RULE_VM_NETWORK,
                     "%s is guest %s of host %s (tenant %s) and tenant_isolation = false lets "
                     "guests of every tenant reach each other",
                     j->dst, to->domain, to->node, to->tenant);
                return decide(j, TRUE, NETISO_RULE_VM_NETWORK);
        }
        allowed = g_str_equal(from->tenant, to->tenant);
        if (allowed)
                step(j, NETISO_RULE_VM_NETWORK,
                     "%s is guest %s of the same tenant %s on host %s (cluster)", j->dst,
                     to->domain, to->tenant, to->node);
        else
                step(j, NETISO_RULE_VM_NETWORK,
                     "%s is guest %s of tenant %s on host %s, not %s, and tenant_isolation = "
                     "true",
                     j->dst, to->domain, to->tenant, to->node, from->tenant);
        return decide(j, allowed, NETISO_RULE_VM_NETWORK);
}

/* Rules 1 to 8, and 12 towards a guest-like tap: what a guest may send. */
static NetisoVerdict *
from_guest(Judge *j)
{
        const NetisoPlace *from = j->from, *to = j->to;
        g_autofree char *src = netiso_cidr_to_string(&j->packet->source, FALSE);
        g_autofree char *service = packet_service(j);
        g_autofree char *net = NULL;
        const NetisoPort *port;

        if (!owns_source(from, &j->packet->source)) {
                step(j, NETISO_RULE_SPOOF, "%s is not an address of %s on tap %s", src,
                     from->domain, from->iface);
                return decide(j, FALSE, NETISO_RULE_SPOOF);
        }
        step(j, NETISO_RULE_SPOOF, "%s is %s's own address on tap %s", src, from->domain,
             from->iface);
        consult(j, "cluster_networks");
        j->v->cluster_network = in_networks(&j->packet->destination, j->config->cluster_networks);
        if (j->v->cluster_network) {
                net = netiso_cidr_to_string(j->v->cluster_network, TRUE);
                step(j, NETISO_RULE_CLUSTER, "%s is in the cluster network %s", j->dst, net);
                return decide(j, FALSE, NETISO_RULE_CLUSTER);
        }
        step(j, NETISO_RULE_CLUSTER, "%s is in no cluster network", j->dst);
        if (to->kind == NETISO_PLACE_HOST) {
                consult(j, "allowed_ports");
                j->v->port = allowed_port(j, NETISO_DIRECTION_OUTBOUND);
                step(j, NETISO_RULE_HOST, "%s is the host's own address and %s %s", j->dst, service,
                     j->v->port ? "is an allowed outbound port"
                                : "is not an allowed outbound port");
                return decide(j, j->v->port != NULL, NETISO_RULE_HOST);
        }
        step(j, NETISO_RULE_HOST, "%s is not an address of the host", j->dst);
        if (to->kind == NETISO_PLACE_UNPROTECTED)
                return fail_closed(j, to);
        if (to->kind == NETISO_PLACE_GUEST)
                return to_peer(j);
        step(j, NETISO_RULE_PEER, "%s is not a guest of this host", j->dst);
        if (to->kind == NETISO_PLACE_REMOTE)
                return to_remote(j);
        consult(j, "vm_network");
        j->v->vm_network = in_networks(&j->packet->destination, j->config->vm_networks);
        if (j->v->vm_network) {
                net = netiso_cidr_to_string(j->v->vm_network, TRUE);
                consult(j, "tenant_isolation");
                consult(j, "inter_vm_isolation");
                if (j->config->tenant_isolation || j->config->inter_vm_isolation) {
                        step(j, NETISO_RULE_VM_NETWORK,
                             "%s is in the VM network %s and guests may not reach every guest "
                             "(tenant_isolation or inter_vm_isolation)",
                             j->dst, net);
                        return decide(j, FALSE, NETISO_RULE_VM_NETWORK);
                }
                step(j, NETISO_RULE_VM_NETWORK,
                     "%s is in the VM network %s, open with tenant_isolation = false and "
                     "inter_vm_isolation = false",
                     j->dst, net);
        } else {
                step(j, NETISO_RULE_VM_NETWORK, "%s is in no VM network", j->dst);
        }
        consult(j, "allowed_ports");
        port = allowed_port(j, NETISO_DIRECTION_OUTBOUND);
        if (port) {
                j->v->port = port;
                step(j, NETISO_RULE_PORT_OUT, "%s is an allowed outbound port", service);
                return decide(j, TRUE, NETISO_RULE_PORT_OUT);
        }
        step(j, NETISO_RULE_PORT_OUT, "%s is not an allowed outbound port", service);
        consult(j, "allow_internet");
        step(j, NETISO_RULE_INTERNET, "allow_internet = %s",
             j->config->allow_internet ? "true" : "false");
        return decide(j, j->config->allow_internet, NETISO_RULE_INTERNET);
}

static gboolean
from_vm_network(Judge *j, const char *src)
{
        const NetisoCidr *net = in_networks(&j->packet->source, j->config->vm_networks);
        g_autofree char *text = NULL;

        consult(j, "vm_network");
        if (!net) {
                step(j, NETISO_RULE_INBOUND, "%s is in no VM network", src);
                return FALSE;
        }
        text = netiso_cidr_to_string(net, TRUE);
        step(j, NETISO_RULE_INBOUND, "%s is in the VM network %s", src, text);
        return TRUE;
}

/* Rule 11 with a cluster: a source in a VM network must be a guest of the
 * destination's tenant on another host, whatever the port. */
static NetisoVerdict *
from_cluster(Judge *j, const char *src)
{
        const NetisoPlace *from = j->from, *to = j->to;
        gboolean allowed;

        consult(j, "inter_vm_isolation");
        consult(j, "tenant_isolation");
        if (from->kind != NETISO_PLACE_REMOTE) {
                step(j, NETISO_RULE_INBOUND,
                     "the cluster lists no guest at %s: only guests of other hosts may come "
                     "from a VM network",
                     src);
                return decide(j, FALSE, NETISO_RULE_INBOUND);
        }
        if (j->config->inter_vm_isolation) {
                step(j, NETISO_RULE_INBOUND,
                     "%s is guest %s of host %s and inter_vm_isolation = true forbids all "
                     "guest-to-guest traffic",
                     src, from->domain, from->node);
                return decide(j, FALSE, NETISO_RULE_INBOUND);
        }
        if (!j->config->tenant_isolation) {
                step(j, NETISO_RULE_INBOUND,
                     "%s is guest %s of host %s (tenant %s) and tenant_isolation = false lets "
                     "guests of every tenant reach each other",
                     src, from->domain, from->node, from->tenant);
                return decide(j, TRUE, NETISO_RULE_INBOUND);
        }
        allowed = g_str_equal(from->tenant, to->tenant);
        if (allowed)
                step(j, NETISO_RULE_INBOUND,
                     "%s is guest %s of the same tenant %s on host %s (cluster)", src, from->domain,
                     from->tenant, from->node);
        else
                step(j, NETISO_RULE_INBOUND,
                     "%s is guest %s of tenant %s on host %s, not %s, and tenant_isolation = "
                     "true (allowed ports never open a way to another tenant)",
                     src, from->domain, from->tenant, from->node, to->tenant);
        return decide(j, allowed, NETISO_RULE_INBOUND);
}

/* Rules 10 to 12: what reaches a guest from the host or from outside. */
static NetisoVerdict *
to_guest(Judge *j)
{
        g_autofree char *service = packet_service(j);
        g_autofree char *src = netiso_cidr_to_string(&j->packet->source, FALSE);

        if (j->to->kind == NETISO_PLACE_UNPROTECTED)
                return fail_closed(j, j->to);
        if (j->from->kind == NETISO_PLACE_HOST) {
                step(j, NETISO_RULE_FROM_HOST, "%s is the host's own address", src);
                return decide(j, TRUE, NETISO_RULE_FROM_HOST);
        }
        if (j->config->cluster && from_vm_network(j, src))
                return from_cluster(j, src);
        consult(j, "allowed_ports");
        j->v->port = allowed_port(j, NETISO_DIRECTION_INBOUND);
        step(j, NETISO_RULE_INBOUND, "%s is outside and %s %s", src, service,
             j->v->port ? "is an allowed inbound port" : "is not an allowed inbound port");
        return decide(j, j->v->port != NULL, NETISO_RULE_INBOUND);
}

static gboolean
is_ours(const NetisoPlace *place)
{
        return place->kind == NETISO_PLACE_GUEST || place->kind == NETISO_PLACE_UNPROTECTED;
}

NetisoVerdict *
netiso_verdict_decide(const NetisoConfig *config, const NetisoPacket *packet,
                      const NetisoPlace *from, const NetisoPlace *to, GError **error)
{
        g_autofree char *dst = netiso_cidr_to_string(&packet->destination, FALSE);
        Judge j = { config, packet, from, to, NULL, dst };

        if (packet->source.family != packet->destination.family) {
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_USAGE,
                            "the source and the destination are not of one address family");
                return NULL;
        }
        if (!is_ours(from) && !is_ours(to)) {
                g_autofree char *src = netiso_cidr_to_string(&packet->source, FALSE);
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_USAGE,
                            "neither %s nor %s is a guest of this host: blixard-netiso filters "
                            "no traffic between them",
                            src, dst);
                return NULL;
        }
        j.v = g_new0(NetisoVerdict, 1);
        j.v->options = g_ptr_array_new();
        j.v->steps = g_array_new(FALSE, FALSE, sizeof(NetisoVerdictStep));
        /* A packet from a guest-like tap nobody installed is dropped before
         * anything else; from an installed guest the guest's rules decide,
         * also towards another guest (its own rules never run then). */
        if (from->kind == NETISO_PLACE_UNPROTECTED)
                return fail_closed(&j, from);
        if (from->kind == NETISO_PLACE_GUEST)
                return from_guest(&j);
        return to_guest(&j);
}
