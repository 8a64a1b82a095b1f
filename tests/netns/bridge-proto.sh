#!/bin/bash
# Prototype proof for bridged guests (doc/bridged-design.md), on the topology of
# tests/netns/lib-bridge.sh: loads the hand-written ruleset tests/netns/bridge-proto.nft,
# applies each guest event as one nft transaction (what the hook will write) and checks
# the traffic matrix and every layer-2 guard with crafted frames, IPv4 and IPv6. Not
# wired into Makefile.am yet; tests/netns/bridge-proto-vm.sh runs it under Debian's kernel.
set -u
. "$top_srcdir/tests/netns/lib-bridge.sh"
bridge_topology_up

wait_ports
ok "the skeleton of both tables loads (one transaction)" load true true
ok "br_netfilter is off in the host namespace" \
	sh -c "ip netns exec '$H' cat /proc/sys/net/bridge/bridge-nf-call-iptables 2>/dev/null | grep -qx '${BRNF:-0}' || [ ! -e /proc/sys/net/bridge ]"

# An observer of the IP forward path: frames between two guests must never reach it.
in_ns "$H" nft -f - <<EOF
table inet obs {
	counter hairpin {}
	chain fw { type filter hook forward priority -500; iifname "$BR" oifname "$BR" counter name hairpin; }
}
EOF

# ================= traffic matrix, allow_internet = true =================
diag "traffic matrix, tenant_isolation = true, allow_internet = true"
for fam in 4 6; do
	a2=192.168.122.12 b1=192.168.122.13 ra=10.0.0.21 rb=10.0.0.22 a1=192.168.122.11
	clu=172.16.0.2 inet=198.51.100.2 gw=$GW4 lan=203.0.113.50
	if [ $fam = 6 ]; then
		a2=fd00:122::12 b1=fd00:122::13 ra=fd00:10::21 rb=fd00:10::22 a1=fd00:122::11
		clu=fd00:172::2 inet=2001:db8:100::2 gw=$GW6 lan=fd00:203::50
	fi
	ok "IPv$fam: a1 reaches a2 on the same bridge (same tenant)" reach "$A1" $a2 9000
	ok "IPv$fam: a2 reaches a1" reach "$A2" $a1 9000
	fails "IPv$fam: a1 does not reach b1 (other tenant, same bridge)" tcp "$A1" $b1 9000
	fails "IPv$fam: a1 does not reach b1's allowed inbound port" tcp "$A1" $b1 2222
	fails "IPv$fam: b1 does not reach a1" tcp "$B1" $a1 9000
	ok "IPv$fam: a1 reaches the routed guest ra (tenant A)" reach "$A1" $ra 9000
	ok "IPv$fam: ra reaches a1" reach "$RA" $a1 9000
	fails "IPv$fam: a1 does not reach the routed guest rb (tenant B)" tcp "$A1" $rb 9000
	fails "IPv$fam: rb does not reach a1, not even its allowed inbound port" tcp "$RB" $a1 2222
	fails "IPv$fam: a1 does not reach the cluster" tcp "$A1" $clu 7000
	fails "IPv$fam: a1 does not reach a host service on the bridge address" tcp "$A1" $gw 8080
	ok "IPv$fam: a1 reaches the host's allowed outbound port on the bridge address" reach "$A1" $gw 8443
	ok "IPv$fam: a1 reaches the internet (IPv4 masqueraded, IPv6 routed)" reach "$A1" $inet 80
	ok "IPv$fam: the internet reaches a1's allowed inbound port" reach "$I" $a1 2222
	fails "IPv$fam: the internet does not reach a1's other ports" tcp "$I" $a1 9000
	ok "IPv$fam: the cluster reaches a1's allowed inbound port" reach "$C" $a1 2222
	fails "IPv$fam: the cluster does not reach a1's other ports" tcp "$C" $a1 9000
	ok "IPv$fam: the host reaches a1 (host processes are trusted)" reach "$H" $a1 9000
	if [ "$STATEFUL" = 1 ]; then
		ok "IPv$fam: a1 reaches a LAN host behind the uplink port (outside)" reach "$A1" $lan 80
		ok "IPv$fam: the LAN host reaches a1's allowed inbound port" reach "$L" $a1 2222
		fails "IPv$fam: the LAN host does not reach a1's other ports" tcp "$L" $a1 9000
	else
		fails "IPv$fam: no bridge conntrack: a1 has no layer-2 path to a LAN host (fails closed)" tcp "$A1" $lan 80
		fails "IPv$fam: no bridge conntrack: the LAN host does not reach a1" tcp "$L" $a1 2222
	fi
done
ok "IPv4: a1's flow to the internet is masqueraded to the host's address" \
	sh -c "ip netns exec '$H' conntrack -L -p tcp --dport 80 2>/dev/null | grep 'src=192.168.122.11 ' | grep -q 'dst=198.51.100.1 '"
if [ "${BRNF:-0}" = 1 ]; then
	ok "br_netfilter on: guest-to-guest frames also took the IP forward hook (judged alike)" positive "$(hairpins)"
else
	ok "guest-to-guest frames never reached the IP forward hook" zero "$(hairpins)"
fi

# Through the host's IP layer instead of the bridge (a route via the gateway):
# the inet table identifies both ends by (bridge . address) and decides the same.
# Both directions through the host (conntrack must see the whole connection), and no
# redirects taken, so that the path stays there.
for g in "$A1" "$A2" "$B1"; do in_ns "$g" sysctl -qw net.ipv4.conf.all.accept_redirects=0 net.ipv4.conf.eth0.accept_redirects=0; done
in_ns "$A1" ip route add 192.168.122.12/32 via "$GW4"
in_ns "$A1" ip route add 192.168.122.13/32 via "$GW4"
in_ns "$A2" ip route add 192.168.122.11/32 via "$GW4"
in_ns "$B1" ip route add 192.168.122.11/32 via "$GW4"
ok "hairpin through the host: a1 still reaches a2" reach "$A1" 192.168.122.12 9000
fails "hairpin through the host: a1 still does not reach b1" tcp "$A1" 192.168.122.13 9000
ok "hairpin packets did take the IP forward path" positive "$(hairpins)"
in_ns "$A1" ip route del 192.168.122.12/32
in_ns "$A1" ip route del 192.168.122.13/32
in_ns "$A2" ip route del 192.168.122.11/32
in_ns "$B1" ip route del 192.168.122.11/32

# DHCP and DNS of the network's own dnsmasq, without an allowed_ports entry
dns() { # dns NS SERVER [tcp]: an A query for gw.bx answered
	in_ns "$1" /usr/bin/python3 - "$2" "${3:-udp}" <<'EOP'
import socket, struct, sys
server, proto = sys.argv[1], sys.argv[2]
q = struct.pack("!HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0) + b"\x02gw\x02bx\x00" + struct.pack("!HH", 1, 1)
fam = socket.AF_INET6 if ":" in server else socket.AF_INET
if proto == "tcp":
    s = socket.socket(fam, socket.SOCK_STREAM); s.settimeout(2); s.connect((server, 53))
    s.sendall(struct.pack("!H", len(q)) + q); r = s.recv(2048)[2:]
else:
    s = socket.socket(fam, socket.SOCK_DGRAM); s.settimeout(2); s.sendto(q, (server, 53)); r = s.recv(2048)
sys.exit(0 if r[:2] == q[:2] and struct.unpack("!H", r[6:8])[0] >= 1 else 1)
EOP
}
ok "a1 resolves through dnsmasq on the bridge address (UDP, IPv4)" dns "$A1" "$GW4"
ok "a1 resolves through dnsmasq on the bridge address (TCP, IPv4)" dns "$A1" "$GW4" tcp
ok "a1 resolves through dnsmasq on the bridge address (UDP, IPv6)" dns "$A1" "$GW6"
in_ns "$H" nft delete element inet blixard net_services_v4 "{ \"$BR\" . $GW4 . udp . 53 }"
fails "without the network's service element, DNS to the bridge address is dropped" dns "$A1" "$GW4"
network_event

# ================= a guest without an address: DHCP and DAD only =================
diag "d1: no bound address yet"
in_ns "$D1" ip addr add 192.168.122.14/24 dev eth0
in_ns "$D1" ip -6 addr add fd00:122::14/64 dev eth0 nodad
fails "d1 with an unbound static IPv4 address reaches nothing (host)" tcp "$D1" "$GW4" 8443
fails "d1 with an unbound static IPv4 address does not reach a2" tcp "$D1" 192.168.122.12 9000
fails "d1 with an unbound static IPv6 address does not reach a2" tcp "$D1" fd00:122::12 9000
in_ns "$D1" ip addr del 192.168.122.14/24 dev eth0
in_ns "$D1" ip -6 addr del fd00:122::14/64 dev eth0
before=$(seen "$A2" dad)
l2 "$D1" ns :: fd00:122::77
ok "d1's duplicate address detection (NS from ::) passes" grew "$A2" dad "$before"
cat >"$WORK/udhcpc.sh" <<'EOF'
#!/bin/sh
[ "$1" = bound ] || [ "$1" = renew ] || exit 0
ip addr add "$ip/${mask:-24}" dev "$interface"
echo "$ip" >"$LEASE_OUT"
EOF
chmod +x "$WORK/udhcpc.sh"
ok "d1 gets a DHCPv4 lease from the network's dnsmasq" \
	in_ns "$D1" env LEASE_OUT="$WORK/d1.lease" busybox udhcpc -i eth0 -n -q -t 5 -T 1 -s "$WORK/udhcpc.sh"
ok "d1 gets a DHCPv6 advertise from the network's dnsmasq" l2 "$D1" dhcp6-solicit
lease=$(cat "$WORK/d1.lease" 2>/dev/null)
diag "d1 leased ${lease:-nothing}"
in_ns "$D1" ip route add default via "$GW4" 2>/dev/null
fails "d1 with its lease but before the binding does not reach the host" tcp "$D1" "$GW4" 8443
G_V4[d1]=$lease
# watch learns the lease: one transaction adds the binding (bridge and inet)
bridged_addr add vnet4 A "${lease:-192.168.122.199}" >"$WORK/bind.nft"
ok "binding the learned lease is one transaction" in_ns "$H" nft -f "$WORK/bind.nft"
ok "d1 reaches the host's allowed port once its lease is bound" reach "$D1" "$GW4" 8443
ok "d1 reaches a2 once its lease is bound" reach "$D1" 192.168.122.12 9000
fails "d1 still does not reach b1" tcp "$D1" 192.168.122.13 9000

# ================= layer-2 guards, attacked from a1 =================
diag "layer-2 guards"
# prime neighbour tables: a2 knows the gateway, the host knows a2
ping_ "$A2" "$GW4"
ping_ "$A2" "$GW6"
ping_ "$H" 192.168.122.12
ping_ "$H" fd00:122::12
A1MAC=52:54:00:00:01:01 A2MAC=52:54:00:00:01:02
# well-behaved guests pass the guards untouched: frames counted before (priority -400)
# and after (-250) table bridge blixard's prerouting chain, while they talk and idle
in_ns "$H" nft -f - <<'EOF'
table bridge obsguard {
	counter in1 {}
	counter out1 {}
	counter in2 {}
	counter out2 {}
	chain before { type filter hook prerouting priority -400; iifname "vnet1" counter name in1; iifname "vnet2" counter name in2; }
	chain after { type filter hook prerouting priority -250; iifname "vnet1" counter name out1; iifname "vnet2" counter name out2; }
}
EOF
tcp "$A1" 192.168.122.12 9000 && tcp "$A2" "$GW6" 8443 && ping_ "$A1" 198.51.100.2 &&
	ping_ "$A2" fd00:10::21 && sleep 2
quiet() {
	local v # one listing, so that a frame arriving meanwhile is in all counters or none
	v=$(in_ns "$H" nft list counters table bridge obsguard | sed -n 's/.*packets \([0-9]*\).*/\1/p' | tr '\n' ' ')
	echo "frames before/after the guards: vnet1 and vnet2:$v"
	set -- $v
	[ "$1" -gt 0 ] && [ "$1" = "$2" ] && [ "$3" -gt 0 ] && [ "$3" = "$4" ]
}
ok "legitimate traffic and idle guests pass the guards without a drop" quiet
in_ns "$H" nft delete table bridge obsguard

# forged source MAC
before=$(drops vnet1)
l2 "$A1" udp-mac 52:54:00:66:66:66 "$A2MAC" 192.168.122.11 192.168.122.12 5555 forgedmac1
fails "a frame from a1 with a made-up source MAC does not reach a2" arrived_token "$A2" 5555 forgedmac1
ok "and is counted as a drop on vnet1" more_drops vnet1 "$before"
fails "the bridge did not learn the made-up MAC" sh -c "ip netns exec '$H' bridge fdb show br $BR | grep -q 52:54:00:66:66:66"
l2 "$A1" udp-mac "$A2MAC" ff:ff:ff:ff:ff:ff 192.168.122.11 192.168.122.255 5555 stolenmac
ok "a frame from a1 with a2's MAC as source leaves a2's MAC on vnet2 in the bridge" \
	sh -c "ip netns exec '$H' bridge fdb show br $BR | grep '$A2MAC' | grep -q 'dev vnet2'"
ok "the host still reaches a2" reach "$H" 192.168.122.12 9000
in_ns "$A1" ip link set eth0 address 52:54:00:77:77:77
fails "a1 with a changed MAC reaches nothing" tcp "$A1" "$GW4" 8443
in_ns "$A1" ip link set eth0 address "$A1MAC"
# the kernel gave eth0 a link-local address from the other MAC: not a1's any more
in_ns "$A1" ip -6 addr del fe80::5054:ff:fe77:7777/64 dev eth0 2>/dev/null
in_ns "$A1" ip neigh flush dev eth0
ok "a1 with its own MAC again reaches the host" reach "$A1" "$GW4" 8443

# ARP
before=$(drops vnet1) seen_before=$(seen "$A2" arp_reply)
l2 "$A1" arp-reply "$GW4"
l2 "$A1" arp-reply 192.168.122.12
l2 "$A1" arp-request 192.168.122.12 "$GW4"
ok "a1's ARP replies and requests for others' addresses are dropped and counted" more_drops vnet1 "$before"
ok "no ARP reply from a1 reached a2" zero "$(($(seen "$A2" arp_reply) - seen_before))"
ok "a2 still has the gateway's MAC for $GW4" neigh_is "$A2" "$GW4" "$BR_MAC"
ok "the host still has a2's MAC for 192.168.122.12" neigh_is "$H" 192.168.122.12 "$A2MAC"
before=$(drops vnet1)
l2 "$A1" arp-reply 192.168.122.11 52:54:00:66:66:66
ok "a1's ARP whose sender MAC is not its own is dropped" more_drops vnet1 "$before"
seen_before=$(seen "$A2" arp_own)
l2 "$A1" arp-reply 192.168.122.11
ok "a1's gratuitous ARP for its own address reaches a2" positive "$(($(seen "$A2" arp_own) - seen_before))"
# control: the same forged reply from the LAN port reaches a2 when the address is nobody's
seen_before=$(seen "$A2" arp_reply)
l2 "$L" arp-reply 192.168.122.99
ok "control: an ARP reply for an unowned address from the LAN port reaches a2" positive "$(($(seen "$A2" arp_reply) - seen_before))"
seen_before=$(seen "$A2" arp_reply)
l2 "$L" arp-reply 192.168.122.12
ok "the LAN port's ARP reply for a2's address is dropped" zero "$(($(seen "$A2" arp_reply) - seen_before))"

# IPv6 neighbour discovery
before=$(drops vnet1) seen_before=$(seen "$A2" na)
l2 "$A1" na "$GW6"
l2 "$A1" na fd00:122::12
l2 "$A1" na fd00:122::12 fd00:122::11
ok "a1's neighbour advertisements for others' addresses are dropped and counted" more_drops vnet1 "$before"
ok "none reached a2" zero "$(($(seen "$A2" na) - seen_before))"
ok "a2 still has the gateway's MAC for $GW6" neigh_is "$A2" "$GW6" "$BR_MAC"
ok "the host still has a2's MAC for fd00:122::12" neigh_is "$H" fd00:122::12 "$A2MAC"
seen_before=$(seen "$A2" na)
l2 "$A1" na fd00:122::11 fd00:122::11
ok "a1's advertisement for its own address reaches a2 (the target sets hold the right bytes)" positive "$(($(seen "$A2" na) - seen_before))"
seen_before=$(seen "$A2" na)
l2 "$A1" na "$(eui64 $A1MAC)"
ok "a1's advertisement for its own link-local address reaches a2" positive "$(($(seen "$A2" na) - seen_before))"
seen_before=$(seen "$A2" na)
l2 "$L" na fd00:122::99 fd00:203::50
ok "control: the LAN port's advertisement for an unowned address reaches a2" positive "$(($(seen "$A2" na) - seen_before))"
seen_before=$(seen "$A2" na)
l2 "$L" na fd00:122::12 fd00:203::50
ok "the LAN port's advertisement for a2's address is dropped" zero "$(($(seen "$A2" na) - seen_before))"
before=$(drops vnet1)
l2 "$A1" ns fd00:122::12 "$GW6"
ok "a1's neighbour solicitation from a2's address (poisoning) is dropped" more_drops vnet1 "$before"

# router advertisements and redirects
in_ns "$A2" sysctl -qw net.ipv6.conf.eth0.accept_ra=1
before=$(drops vnet1) seen_before=$(seen "$A2" ra)
l2 "$A1" ra
ok "a1's router advertisement is dropped and counted" more_drops vnet1 "$before"
ok "it did not reach a2" zero "$(($(seen "$A2" ra) - seen_before))"
fails "a2 learned no prefix from it" sh -c "ip netns exec '$A2' ip -6 addr show dev eth0 | grep -q 2001:db8:bad"
seen_before=$(seen "$A2" ra)
l2 "$L" ra
ok "control: a router advertisement from the LAN port reaches a2" positive "$(($(seen "$A2" ra) - seen_before))"
in_ns "$A2" sysctl -qw net.ipv6.conf.eth0.accept_ra=0
in_ns "$A2" ip -6 route flush proto ra 2>/dev/null
before=$(drops vnet1) seen_before=$(seen "$A2" redirect6)
l2 "$A1" redirect6 "$A2MAC" fd00:122::12 2001:db8:100::2
ok "a1's IPv6 redirect to a2 is dropped and counted" more_drops vnet1 "$before"
ok "it did not reach a2" zero "$(($(seen "$A2" redirect6) - seen_before))"
before=$(drops vnet1) seen_before=$(seen "$A2" redirect4)
l2 "$A1" redirect4 "$A2MAC" 192.168.122.12 192.168.122.11 198.51.100.2
ok "a1's ICMP redirect to a2 is dropped and counted" more_drops vnet1 "$before"
ok "it did not reach a2" zero "$(($(seen "$A2" redirect4) - seen_before))"

# DHCP servers
before=$(drops vnet1) seen_before=$(seen "$A2" dhcp)
l2 "$A1" dhcp-offer 192.168.122.11
ok "a1's DHCP offer is dropped and counted" more_drops vnet1 "$before"
ok "it did not reach a2" zero "$(($(seen "$A2" dhcp) - seen_before))"
seen_before=$(seen "$A2" dhcp)
l2 "$L" dhcp-offer 203.0.113.50
ok "control: a DHCP offer from the LAN port reaches a2" positive "$(($(seen "$A2" dhcp) - seen_before))"
before=$(drops vnet1) seen_before=$(seen "$A2" dhcp6)
l2 "$A1" dhcp6-advertise "$A2MAC"
ok "a1's DHCPv6 advertise to a2's link-local address is dropped and counted" more_drops vnet1 "$before"
ok "it did not reach a2" zero "$(($(seen "$A2" dhcp6) - seen_before))"
# to all nodes: link-local destinations are a cluster network by default, this one is not
before=$(drops vnet1) seen_before=$(seen "$A2" dhcp6)
l2 "$A1" dhcp6-advertise "$A2MAC" all
ok "a1's DHCPv6 advertise to all nodes is dropped and counted" more_drops vnet1 "$before"
ok "it did not reach a2" zero "$(($(seen "$A2" dhcp6) - seen_before))"
seen_before=$(seen "$A2" dhcp6)
l2 "$L" dhcp6-advertise "$A2MAC"
if [ "${BRNF:-0}" = 1 ]; then
	# br_netfilter hands the bridged frame to inet too, whose to_guest drops new UDP from outside
	ok "br_netfilter on: the LAN port's DHCPv6 advertise to a2 is judged by inet too (dropped)" zero "$(($(seen "$A2" dhcp6) - seen_before))"
else
	ok "control: a DHCPv6 advertise from the LAN port reaches a2" positive "$(($(seen "$A2" dhcp6) - seen_before))"
fi

# a DHCP client asking for another guest's MAC (the leases watch learns from)
before=$(drops vnet1)
l2 "$A1" dhcp-discover "$A2MAC"
ok "a1's DHCP discover for a2's MAC is dropped and counted" more_drops vnet1 "$before"
ok "dnsmasq never saw a request for a2's MAC" never_logged "DHCPDISCOVER($BR) $A2MAC" "$WORK/dnsmasq.log"
ok "control: dnsmasq did see d1's own requests" grep -q "DHCPDISCOVER($BR) 52:54:00:00:01:04" "$WORK/dnsmasq.log"

# other ethertypes
before=$(drops vnet1) seen_before=$(seen "$A2" ethertype)
l2 "$A1" ethertype 88b5
ok "a1's frame of ethertype 0x88b5 is dropped and counted" more_drops vnet1 "$before"
ok "it did not reach a2" zero "$(($(seen "$A2" ethertype) - seen_before))"
before=$(drops vnet1) seen_before=$(seen "$A2" tagged)
l2 "$A1" vlan 192.168.122.11
ok "a1's 802.1Q-tagged frame is dropped and counted" more_drops vnet1 "$before"
ok "it did not reach a2" zero "$(($(seen "$A2" tagged) - seen_before))"
in_ns "$H" nft add element bridge blixard ethertypes '{ 0x88b5 }'
seen_before=$(seen "$A2" ethertype) seen_b1=$(seen "$B1" ethertype)
l2 "$A1" ethertype 88b5
ok "with 0x88b5 in the ethertypes set, a1's frame reaches a2 (same tenant)" positive "$(($(seen "$A2" ethertype) - seen_before))"
ok "but not b1 (other tenant)" zero "$(($(seen "$B1" ethertype) - seen_b1))"
in_ns "$H" nft delete element bridge blixard ethertypes '{ 0x88b5 }'

# forged IP sources (MAC right, address wrong)
l2 "$A1" udp-mac "$A1MAC" "$BR_MAC" 192.168.122.13 198.51.100.2 5555 spoof4
fails "a1 sending from b1's IPv4 address does not reach the internet" arrived_token "$I" 5555 spoof4
l2 "$A1" udp-mac "$A1MAC" "$BR_MAC" fd00:122::13 2001:db8:100::2 5555 spoof6
fails "a1 sending from b1's IPv6 address does not reach the internet" arrived_token "$I" 5555 spoof6
l2 "$A1" udp-mac "$A1MAC" "$BR_MAC" 192.168.122.11 198.51.100.2 5555 own4
ok "control: the same datagram from a1's own address arrives" arrived_token "$I" 5555 own4
l2 "$A1" udp-mac "$A1MAC" "$BR_MAC" 192.168.122.13 10.0.0.22 5555 spoofrb
fails "a1 posing as b1 does not reach b1's tenant's routed guest rb" arrived_token "$RB" 5555 spoofrb
# a LAN host posing as a2 must not inherit a2's identity at the IP layer
l2 "$L" udp-mac 52:54:00:00:0a:01 "$BR_MAC" 192.168.122.12 10.0.0.21 5555 lanspoof
fails "the LAN host posing as a2 does not reach a2's tenant's routed guest ra" arrived_token "$RA" 5555 lanspoof
h=$(in_ns "$H" nft -a list chain bridge blixard prerouting | sed -n 's/.*ip saddr @owned_v4 .*# handle \([0-9]*\)/\1/p')
in_ns "$H" nft delete rule bridge blixard prerouting handle "$h"
l2 "$L" udp-mac 52:54:00:00:0a:01 "$BR_MAC" 192.168.122.12 10.0.0.21 5555 lanspoof2
ok "control: without the owned-address rule it would (the rule is what holds)" arrived_token "$RA" 5555 lanspoof2
in_ns "$H" nft add rule bridge blixard prerouting ip saddr @owned_v4 counter drop

# fail closed: a vnet port with no installed state
bguest_up x1 vnet9 52:54:00:00:01:09 192.168.122.19 fd00:122::19
X1=$(guest_ns x1)
fails "a vnet port nobody installed reaches nothing (host)" tcp "$X1" "$GW4" 8443
fails "a vnet port nobody installed does not reach a2" tcp "$X1" 192.168.122.12 9000
fails "nothing reaches a vnet port nobody installed" tcp "$H" 192.168.122.19 9000

# one transaction: a refused event changes nothing
state() { in_ns "$H" nft list ruleset | sed 's/ counter packets [0-9]* bytes [0-9]*//; /^\s*packets [0-9]/d'; }
state >"$WORK/before"
guest c1 bridged vnet5 52:54:00:00:01:05 A 10.0.0.21 ""
fails "a bridged guest claiming the routed guest ra's address is refused" bridged_event add c1 10.0.0.21
state >"$WORK/after"
ok "and the refused event changed nothing" cmp "$WORK/before" "$WORK/after"

# stop: a1's elements go, nothing names vnet1 or its addresses any more
ok "a1 stops (one transaction)" bridged_event del a1 192.168.122.11 fd00:122::11
fails "a1 reaches nothing after its stop" tcp "$A1" "$GW4" 8443
ok "nothing in either table names vnet1 or a1's addresses" \
	sh -c "! ip netns exec '$H' nft list ruleset | grep -E '\"vnet1\"|192\\.168\\.122\\.11([^0-9]|\$)|fd00:122::11([^0-9a-f]|\$)'"
ok "a1 starts again" bridged_event add a1 192.168.122.11 fd00:122::11
ok "and reaches a2 again" reach "$A1" 192.168.122.12 9000

# ================= allow_internet = false =================
diag "allow_internet = false"
ok "the skeleton reloads with allow_internet = false" load false true
ok "the lease binding again" in_ns "$H" nft -f "$WORK/bind.nft"
for fam in 4 6; do
	inet=198.51.100.2 a1=192.168.122.11 a2=192.168.122.12 lan=203.0.113.50
	[ $fam = 6 ] && inet=2001:db8:100::2 a1=fd00:122::11 a2=fd00:122::12 lan=fd00:203::50
	fails "IPv$fam: a1 no longer reaches the internet's port 80" tcp "$A1" $inet 80
	ok "IPv$fam: a1 still reaches the internet's allowed port 8443" reach "$A1" $inet 8443
	ok "IPv$fam: the internet still reaches a1's allowed inbound port" reach "$I" $a1 2222
	ok "IPv$fam: a1 still reaches a2" reach "$A1" $a2 9000
	if [ "$STATEFUL" = 1 ]; then
		fails "IPv$fam: a1 no longer reaches the LAN host's port 80" tcp "$A1" $lan 80
		ok "IPv$fam: a1 still reaches the LAN host's allowed port 8443" reach "$A1" $lan 8443
		ok "IPv$fam: the LAN host still reaches a1's allowed inbound port" reach "$L" $a1 2222
	fi
done

# ================= inter_vm_isolation = true =================
diag "inter_vm_isolation = true"
ok "the skeleton reloads with inter_vm_isolation = true" load true false
fails "a1 no longer reaches a2 (bridge)" tcp "$A1" 192.168.122.12 9000
fails "a1 no longer reaches a2 over IPv6" tcp "$A1" fd00:122::12 9000
fails "a1 no longer reaches ra (IP layer)" tcp "$A1" 10.0.0.21 9000
ok "a1 still reaches the internet" reach "$A1" 198.51.100.2 80
ok "the skeleton reloads with the defaults" load true true

# ================= bridge conntrack and the IP layer =================
if [ "$STATEFUL" = 1 ]; then
	diag "bridge conntrack: one entry per flow, shared with the IP layer"
	in_ns "$H" nft -f - <<'EOF'
table bridge obsct {
	chain pre { type filter hook prerouting priority -100; iifname "vnet1" ct state new ct mark set 0x42; }
	chain fw { type filter hook forward priority 0; iifname "vnet1" oifname "vnet2" ct state established counter; }
}
table inet obsct {
	counter marked {}
	chain fw { type filter hook forward priority -400; iifname "virbr0" ct mark 0x42 counter name marked; }
}
EOF
	in_ns "$H" conntrack -F >/dev/null 2>&1
	ok "a1 reaches a2 with bridge conntrack" reach "$A1" 192.168.122.12 9000
	ok "the bridge tracked the a1-a2 flow (established in the bridge forward hook)" \
		sh -c "ip netns exec '$H' nft list chain bridge obsct fw | grep -Eq 'packets [1-9]'"
	ok "a1 reaches the internet" reach "$A1" 198.51.100.2 80
	ok "the mark set by the bridge on a1's new flow is seen by the inet forward hook (same entry)" \
		positive "$(in_ns "$H" nft list counter inet obsct marked | sed -n 's/.*packets \([0-9]*\).*/\1/p')"
	ok "conntrack holds one masqueraded entry for a1's flow to the internet, marked by the bridge" \
		sh -c "ip netns exec '$H' conntrack -L -p tcp --dport 80 2>/dev/null | grep 'src=192.168.122.11' | grep -c 'mark=66' | grep -qx 1"
	in_ns "$H" conntrack -L 2>/dev/null | sed 's/^/# ct: /' | head -n 8
	in_ns "$H" nft delete table bridge obsct
	in_ns "$H" nft delete table inet obsct
fi

done_testing
