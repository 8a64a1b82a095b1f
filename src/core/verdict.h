/* `why`: whether one packet passes, as a pure function of the configuration,
 * where the packet's two ends are (places, found by locator.h) and the packet
 * itself. The answer names the rule of TRAFFIC SEMANTICS in blixard-netiso(8)
 * that decides it and lists every check made on the way. */
#pragma once

#include <glib.h>

#include "conf/config.h"
#include "util/addr.h"

/* The rules of TRAFFIC SEMANTICS, numbered as in blixard-netiso(8); the unit
 * tests hold the man page to these numbers. */
typedef enum {
        NETISO_RULE_SPOOF = 1,        /* a guest sends only from its own addresses */
        NETISO_RULE_STATE = 2,        /* established pass, invalid dropped (not new packets) */
        NETISO_RULE_CLUSTER = 3,      /* nothing to a cluster network */
        NETISO_RULE_HOST = 4,         /* to the host: allowed outbound ports only */
        NETISO_RULE_PEER = 5,         /* to another guest: inter_vm_ and tenant_isolation */
        NETISO_RULE_VM_NETWORK = 6,   /* to the rest of a VM network */
        NETISO_RULE_PORT_OUT = 7,     /* allowed outbound ports */
        NETISO_RULE_INTERNET = 8,     /* anything else: allow_internet */
        NETISO_RULE_REPLY = 9,        /* replies reach a guest (not new packets) */
        NETISO_RULE_FROM_HOST = 10,   /* the host reaches a guest */
        NETISO_RULE_INBOUND = 11,     /* from outside: allowed inbound ports only */
        NETISO_RULE_FAIL_CLOSED = 12, /* guest-like taps nothing is installed for */
        _NETISO_RULE_MAX,
} NetisoRule;

/* A short text of the rule, as in the man page; "" for 0. */
const char *netiso_rule_summary(NetisoRule rule);

/* Where one end of a packet is: this host's routed guests (their records),
 * guests of other hosts of the cluster (the remote addresses installed
 * here), the host and the kernel's routes. Guests on a bridge of this host
 * are meant to come as one more kind, found by one more locator source. */
typedef enum {
        NETISO_PLACE_OUTSIDE,     /* neither a guest nor the host: internet, cluster, ... */
        NETISO_PLACE_HOST,        /* one of this host's own addresses */
        NETISO_PLACE_GUEST,       /* behind the routed tap of a guest installed here */
        NETISO_PLACE_UNPROTECTED, /* behind a guest-like tap nothing is installed for */
        NETISO_PLACE_REMOTE,      /* a guest of another host of the cluster, as installed here */
        _NETISO_PLACE_MAX,
} NetisoPlaceKind;

typedef struct {
        NetisoPlaceKind kind;
        NetisoCidr address;      /* the address the place was found for */
        char *domain;            /* GUEST, REMOTE */
        char *tenant;            /* GUEST, REMOTE */
        char *node;              /* REMOTE: the host it runs on */
        char *iface;             /* GUEST, UNPROTECTED: the tap; else the route's device or NULL */
        char *bridge;            /* GUEST on a bridge: the bridge the host routes it by */
        GArray *iface_addresses; /* GUEST: the tap's own addresses (of NetisoCidr) */
        const char *found_by;    /* which lookup said so: "records", "kernel routes" */
        GPtrArray *notes;        /* of char*: anything odd the lookup saw */
} NetisoPlace;

NetisoPlace *netiso_place_new(NetisoPlaceKind kind, const NetisoCidr *address,
                              const char *found_by);
void netiso_place_free(NetisoPlace *place);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NetisoPlace, netiso_place_free)

const char *netiso_place_kind_to_string(NetisoPlaceKind kind);
/* "guest a1 (tenant A, tap vnet1)", "the host", "outside (via wan0)". Caller frees. */
char *netiso_place_describe(const NetisoPlace *place);

typedef enum {
        NETISO_PACKET_TCP,
        NETISO_PACKET_UDP,
        NETISO_PACKET_ICMP, /* an echo request: ICMP or ICMPv6 */
        _NETISO_PACKET_MAX,
} NetisoPacketProto;

const char *netiso_packet_proto_to_string(NetisoPacketProto proto);
gboolean netiso_packet_proto_parse(const char *text, NetisoPacketProto *ret_proto);

/* The first packet of a new connection (or a datagram). */
typedef struct {
        NetisoCidr source; /* host addresses of one family */
        NetisoCidr destination;
        NetisoPacketProto proto;
        guint16 port; /* destination port of tcp and udp; 0 for icmp */
} NetisoPacket;

/* One check made on the way, in the order the rules are checked. */
typedef struct {
        NetisoRule rule;
        char *text;
} NetisoVerdictStep;

typedef struct {
        gboolean allowed;
        NetisoRule rule;                   /* the deciding rule */
        char *because;                     /* one sentence on this packet */
        const NetisoCidr *cluster_network; /* the destination's cluster network, if any */
        const NetisoCidr *vm_network;      /* the destination's VM network, if consulted */
        const NetisoPort *port;            /* the allowed port that matched, if any */
        GPtrArray *options;                /* of const char*: configuration keys consulted */
        GArray *steps;                     /* of NetisoVerdictStep */
} NetisoVerdict;

void netiso_verdict_free(NetisoVerdict *verdict);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NetisoVerdict, netiso_verdict_free)

/* Decide. Pure. Fails with NETISO_ERROR_USAGE when neither end is a guest
 * or a guest-like tap (nothing of blixard-netiso applies), or when the
 * packet's addresses are not of one family. */
NetisoVerdict *netiso_verdict_decide(const NetisoConfig *config, const NetisoPacket *packet,
                                     const NetisoPlace *from, const NetisoPlace *to,
                                     GError **error);

/* The configuration option's value as text, for the keys in options. */
char *netiso_verdict_option_value(const NetisoConfig *config, const char *key);
