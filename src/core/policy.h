/* The policy model: configuration + domain -> what one guest may send and
 * receive. Pure: no kernel, no libvirt, no files. Every renderer (nftables,
 * iptables, nwfilter) and `explain` consume this struct. */
#pragma once

#include <glib.h>

#include "conf/config.h"
#include "conf/domain.h"

/* Which other guests a guest may open connections to. */
typedef enum {
        NETISO_PEERS_ALL,         /* tenant_isolation = false, inter_vm_isolation = false */
        NETISO_PEERS_SAME_TENANT, /* tenant_isolation = true,  inter_vm_isolation = false */
        NETISO_PEERS_NONE,        /* inter_vm_isolation = true (wins over tenants) */
        _NETISO_PEERS_MAX,
} NetisoPeers;

/* What the dnsmasq of a libvirt network offers its bridged guests without
 * an allowed_ports entry: DNS and DHCP on the bridge's own addresses. */
typedef struct {
        GArray *addresses; /* of NetisoCidr: the network's own (full length); never NULL */
        gboolean dns;      /* udp and tcp 53 */
        gboolean dhcp4;    /* udp 67, also to 255.255.255.255 */
        gboolean dhcp6;    /* udp 547 to ff02::1:2 */
} NetisoNetServices;

/* One isolatable guest interface. */
typedef struct {
        unsigned iface_index; /* position among the domain's <interface>s */
        NetisoIfaceType type;
        gboolean routed;   /* type='ethernet': the hook's table sees its traffic */
        char *tap;         /* NULL before the start phase */
        char *mac;         /* may be NULL; bridged ports always have one */
        GArray *addresses; /* of NetisoCidr: the only sources this port may use; bridged
                            * ports: declared, reserved, learned, SLAAC and link-local */
        /* Bridged ports (routed == FALSE): */
        char *bridge;           /* NULL until known (the start phase for type='network') */
        gboolean host_bridge;   /* the bridge has ports that are no guest's (an uplink) */
        GArray *learned;        /* of NetisoCidr: those of addresses from DHCP leases */
        gboolean learned_known; /* the caller said which (watch); else the record's stay */
        NetisoNetServices services;
} NetisoPolicyPort;

/* What the configuration says for every guest; shared by all policies. */
typedef struct {
        NetisoPeers peers;
        gboolean internet;              /* allow_internet */
        const GArray *cluster_networks; /* borrowed from the config */
        const GArray *vm_networks;      /* borrowed from the config */
        GArray *ports_out;              /* of NetisoPort, direction outbound */
        GArray *ports_in;               /* of NetisoPort, direction inbound */
} NetisoRules;

typedef struct {
        const NetisoConfig *config; /* borrowed; must outlive the policy */
        NetisoRules *rules;
        char *domain;
        char *uuid; /* may be NULL */
        char *tenant;
        gboolean tenant_explicit;
        GPtrArray *ports;    /* of NetisoPolicyPort*, in interface order */
        GPtrArray *warnings; /* of char*: things a person should know */
        guint16 flow_id;     /* set by the engine when it installs the policy (flow-ids.h);
                              * 0 otherwise */
} NetisoPolicy;

/* Config-wide rules, for renderers that need them without a domain
 * (the table skeleton, nwfilter). Borrows from config. */
NetisoRules *netiso_rules_new(const NetisoConfig *config);
void netiso_rules_free(NetisoRules *rules);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NetisoRules, netiso_rules_free)

/* Compute one guest's policy. Refuses (NETISO_ERROR_POLICY) interfaces whose
 * traffic bypasses host netfilter (direct, hostdev, vhostuser, user, ...),
 * guest addresses that are not host addresses (networks, multicast,
 * unspecified, broadcast, link-local, loopback), the same address claimed by
 * two interfaces, two interfaces with one tap, and a tap that matches none
 * of guest_interface_patterns (the fail-closed drop's names). A domain without
 * interfaces gets an empty, valid policy. */
NetisoPolicy *netiso_policy_new_for_domain(const NetisoConfig *config, const NetisoDomain *domain,
                                           GError **error);
void netiso_policy_free(NetisoPolicy *policy);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NetisoPolicy, netiso_policy_free)

/* Every port has a tap name (the start phase and later), and every
 * bridged port its bridge. */
gboolean netiso_policy_has_all_taps(const NetisoPolicy *policy, GError **error);

/* Adds addresses learned from DHCP leases to a bridged port (port_index
 * into policy->ports), checked like declared ones; duplicates are skipped. */
gboolean netiso_policy_add_learned(NetisoPolicy *policy, guint port_index, const GArray *addresses,
                                   GError **error);

/* Does a port of the policy sit on a bridge? On a host bridge? */
gboolean netiso_policy_is_bridged(const NetisoPolicy *policy);
gboolean netiso_policy_has_host_bridge(const NetisoPolicy *policy);

/* What the iptables backend can install: every port routed (bridged
 * traffic between ports never reaches the host's forward path: the error,
 * one line, points to nftables or nwfilter) and every port with its tap. */
gboolean netiso_policy_is_routed(const NetisoPolicy *policy, GError **error);

/* Does one of policy's ports use tap? FALSE for a NULL policy. */
gboolean netiso_policy_has_tap(const NetisoPolicy *policy, const char *tap);

/* Human-readable description for `explain`: what the guest may reach and
 * what reaches it, one statement a line. Caller frees. */
char *netiso_policy_describe(const NetisoPolicy *policy);

const char *netiso_peers_to_string(NetisoPeers peers);
