#!/bin/bash
# What a malicious guest can send on its routed tap, beyond forged source
# addresses (traffic.sh): router advertisements, neighbour advertisements
# and gratuitous ARP for another guest's address, a DHCP server, and a
# changed MAC address. Each claim of blixard-netiso(8)'s THREAT MODEL is
# checked with real packets, crafted with raw sockets in the guest.
set -u
. "$top_srcdir/tests/netns/lib-netns.sh"
require_root_tier ip nft socat ping python3
[ -x "$HOOK" ] || tap_skip_all "hook not built: $HOOK"

TAP_LOG="$WORK/tap.log"
write_config
topology_up
guest_up a1 vnet1 10.0.0.11 fd00:10::11
guest_up a2 vnet2 10.0.0.12 fd00:10::12
guest_up b1 vnet3 10.0.0.13 fd00:10::13
A1=$(guest_ns a1) A2=$(guest_ns a2)
wait_ports
ok "a1 starts (tenant A)" start_guest a1 A vnet1 10.0.0.11 fd00:10::11
ok "a2 starts (tenant A)" start_guest a2 A vnet2 10.0.0.12 fd00:10::12
ok "b1 starts (tenant B)" start_guest b1 B vnet3 10.0.0.13 fd00:10::13

# send_from NS KIND ARG...: a crafted packet from the guest's eth0.
send_from() {
	local ns=$1
	shift
	in_ns "$ns" python3 - "$@" <<'EOP'
import socket, struct, sys

kind, args = sys.argv[1], sys.argv[2:]

def mac_of(ifname):
    with open(f"/sys/class/net/{ifname}/address") as f:
        return bytes.fromhex(f.read().strip().replace(":", ""))

def icmp6(message, dest):
    # The kernel fills in the ICMPv6 checksum of a raw ICMPv6 socket.
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"eth0")
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, 255)
    for _ in range(3):
        s.sendto(message, (dest, 0, 0, socket.if_nametoindex("eth0")))

if kind == "ra":
    # A default router with a prefix for autoconfiguration.
    ra = struct.pack("!BBHBBHII", 134, 0, 0, 64, 0, 1800, 0, 0)
    prefix = struct.pack("!BBBBIII16s", 3, 4, 64, 0xC0, 86400, 14400, 0,
                         socket.inet_pton(socket.AF_INET6, "2001:db8:bad::"))
    icmp6(ra + prefix, "ff02::1")
elif kind == "na":
    # Unsolicited, overriding: "ARG is at my MAC address".
    na = struct.pack("!BBHI16s", 136, 0, 0, 0x20000000, socket.inet_pton(socket.AF_INET6, args[0]))
    option = struct.pack("!BB6s", 2, 1, mac_of("eth0"))
    icmp6(na + option, "ff02::1")
elif kind == "arp":
    # Gratuitous ARP reply: "ARG is at my MAC address", to everyone.
    mac = mac_of("eth0")
    ip = socket.inet_aton(args[0])
    arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 2, mac, ip, b"\xff" * 6, ip)
    frame = b"\xff" * 6 + mac + struct.pack("!H", 0x0806) + arp
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind(("eth0", 0))
    for _ in range(3):
        s.send(frame)
elif kind == "dhcp-offer":
    # A DHCP server answering nobody in particular: an OFFER to the broadcast address.
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"eth0")
    s.bind((args[0], 67))
    offer = (struct.pack("!BBBBIHH4s4s4s4s16s", 2, 1, 6, 0, 0x1234, 0, 0x8000, b"\0" * 4,
                         socket.inet_aton("10.0.0.99"), socket.inet_aton(args[0]), b"\0" * 4,
                         b"\0" * 16)
             + b"\0" * 192 + b"\x63\x82\x53\x63" + b"\x35\x01\x02" + b"\x03\x04" +
             socket.inet_aton(args[0]) + b"\xff")
    for _ in range(3):
        s.sendto(offer, ("255.255.255.255", 68))
EOP
}

# drops TAP: packets counted against this tap by the drop chains
drops() {
	nft_h list set inet blixard guest_drops | tr ',' '\n' |
		sed -n "s/.*\"$1\" counter packets \([0-9]*\).*/\1/p"
}
more_drops() { # more_drops TAP BEFORE: the counter grew
	[ "$(drops "$1")" -gt "$2" ]
}
# received TAP: packets the host has received on the tap
received() {
	in_ns "$H" cat "/sys/class/net/$1/statistics/rx_packets"
}
arrived() { # arrived TAP BEFORE: at least the three crafted packets reached the host
	[ "$(received "$1")" -ge $(($2 + 3)) ]
}

# Router advertisements: dropped, and the host learns no router from them.
before=$(drops vnet1)
send_from "$A1" ra
ok "a router advertisement from a1 is dropped and counted" more_drops vnet1 "$before"
fails "the host learned no route from it" sh -c "ip netns exec '$H' ip -6 route | grep -q 2001:db8:bad"
fails "the host learned no default router from it" sh -c "ip netns exec '$H' ip -6 route | grep -q '^default.*vnet1'"

# Neighbour advertisement for a2's address: the host takes it (neighbour
# discovery is allowed on-link), but routes a2's /128 to a2's tap anyway.
rx=$(received vnet1)
send_from "$A1" na fd00:10::12
sleep 0.5
ok "a1's neighbour advertisements for a2's address reach the host" arrived vnet1 "$rx"
ok "after a1 claims a2's IPv6 address, the host still reaches a2" tcp "$H" fd00:10::12 9000
ok "and the internet still reaches a2's inbound port" tcp "$I" fd00:10::12 2222
ok "the host's route to a2's IPv6 address still leaves by a2's tap" \
	sh -c "ip netns exec '$H' ip -6 route get fd00:10::12 | grep -q vnet2"

# Gratuitous ARP for a2's address: only the host hears it, and it routes
# a2's /32 to a2's tap; ARP is not IP, table inet does not see it.
rx=$(received vnet1)
send_from "$A1" arp 10.0.0.12
sleep 0.5
ok "a1's gratuitous ARP replies for a2's address reach the host" arrived vnet1 "$rx"
ok "after a1 claims a2's IPv4 address by ARP, the host still reaches a2" tcp "$H" 10.0.0.12 9000
ok "and the internet still reaches a2's inbound port" tcp "$I" 10.0.0.12 2222
ok "the host's route to a2 still leaves by a2's tap" \
	sh -c "ip netns exec '$H' ip route get 10.0.0.12 | grep -q vnet2"

# A DHCP server in a1: nobody else is on its link, broadcasts are not
# routed, and the host's DHCP client port is not an allowed port.
: >"$WORK/dhcp-a2"
serve "$A2" socat -u UDP4-RECV:68,reuseaddr OPEN:"$WORK/dhcp-a2",append
: >"$WORK/dhcp-h"
serve "$H" socat -u UDP4-RECV:68,reuseaddr OPEN:"$WORK/dhcp-h",append
sleep 0.5
before=$(drops vnet1)
send_from "$A1" dhcp-offer 10.0.0.11
sleep 0.5
fails "a1's DHCP offer does not reach a2" test -s "$WORK/dhcp-a2"
fails "a1's DHCP offer does not reach the host" test -s "$WORK/dhcp-h"
ok "a1's DHCP offer is dropped and counted" more_drops vnet1 "$before"

# A changed MAC address gains nothing: the policy is bound to the tap.
in_ns "$A1" ip link set eth0 address 52:54:00:66:66:66
ok "a1 with a new MAC address still reaches the internet (nothing keyed on MACs)" \
	tcp "$A1" 198.51.100.2 80
fails "a1 with a new MAC address still cannot reach tenant B" tcp "$A1" 10.0.0.13 9000
fails "a1 with a new MAC address still cannot reach the cluster" tcp "$A1" 172.16.0.2 7000

done_testing
