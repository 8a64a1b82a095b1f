# The topology of the bridged-guest prototype (doc/bridged-design.md): a host namespace
# with a bridge like libvirt's virbr0 (address, dnsmasq, masquerade), guests on veth
# "taps", routed guests beside them, a LAN host on a port that is no guest's, and the
# nft batches the hook will write per event. Source it; call bridge_topology_up.
# shellcheck shell=bash

. "$top_srcdir/tests/netns/lib-netns.sh"
require_root_tier ip nft socat ping dnsmasq busybox conntrack /usr/bin/python3
/usr/bin/python3 -c 'import scapy.all' 2>/dev/null || tap_skip_all "needs python3-scapy"

TAP_LOG="$WORK/tap.log"
SKELETON="${BRIDGE_PROTO_NFT:-$top_srcdir/tests/netns/bridge-proto.nft}" # override: a mutated ruleset
L2PY="$top_srcdir/tests/netns/bridge-proto-l2.py"
BR=virbr0
BR_MAC=52:54:00:ff:00:01
GW4=192.168.122.1
GW6=fd00:122::1
L="${NS_PREFIX}lan" # a LAN host on a port that is no guest's (an uplink)

# ---- the kernel: can the bridge family track connections (nf_conntrack_bridge)? ----
probe_ns="${NS_PREFIX}probe"
ip netns add "$probe_ns"
for _ in 1 2; do # a first try may only load the module
	if ip netns exec "$probe_ns" nft -f - 2>"$WORK/probe.err" <<<'table bridge p { chain c { ct state established accept; }; }'; then
		STATEFUL=1
		break
	fi
	STATEFUL=0
done
[ "$STATEFUL" = 1 ] || diag "bridge conntrack probe: $(grep -m1 Error "$WORK/probe.err")"
ip netns del "$probe_ns"
diag "kernel $(uname -r): bridge conntrack $([ $STATEFUL = 1 ] && echo available || echo not available)"

# bguest_up NAME TAP MAC V4 V6 [static]: a guest namespace on a port of the bridge.
# Without "static" no address is configured (the guest will use DHCP).
bguest_up() {
	local name=$1 tap=$2 mac=$3 v4=$4 v6=$5 ns="${NS_PREFIX}$1"
	new_ns "$ns"
	ip link add "$tap" netns "$H" type veth peer name eth0 netns "$ns"
	in_ns "$H" ip link set "$tap" master "$BR" up
	in_ns "$ns" ip link set eth0 address "$mac"
	in_ns "$ns" sysctl -qw net.ipv6.conf.eth0.accept_ra=0
	in_ns "$ns" ip link set eth0 up
	if [ "${6:-static}" = static ]; then
		in_ns "$ns" ip addr add "$v4/24" dev eth0
		in_ns "$ns" ip -6 addr add "$v6/64" dev eth0 nodad
		in_ns "$ns" ip route add default via "$GW4"
		in_ns "$ns" ip -6 route add default via "$GW6"
	fi
	tcp_listen "$ns" 9000
	tcp_listen "$ns" 2222
	udp_sink "$ns" 5555
	observer "$ns"
}

# observer NS: counters at the guest's eth0 ingress of what the attackers (a1 and the
# LAN host) send, to see what arrives
observer() {
	in_ns "$1" nft -f - <<'EOF'
table netdev obs {
	set attackers { type ether_addr; elements = { 52:54:00:00:01:01, 52:54:00:00:0a:01 } }
	counter ra {}
	counter redirect6 {}
	counter redirect4 {}
	counter dhcp {}
	counter dhcp6 {}
	counter ethertype {}
	counter tagged {}
	counter na {}
	counter arp_reply {}
	counter arp_own {}
	counter dad {}
	chain in {
		type filter hook ingress device "eth0" priority 0;
		ip6 saddr :: icmpv6 type nd-neighbor-solicit counter name dad
		ether saddr != @attackers return
		icmpv6 type nd-router-advert counter name ra
		icmpv6 type nd-redirect counter name redirect6
		icmp type redirect counter name redirect4
		udp sport 67 counter name dhcp
		udp dport 546 counter name dhcp6
		ether type 0x88b5 counter name ethertype
		ether type 8021q counter name tagged
		ip6 daddr ff02::1 icmpv6 type nd-neighbor-advert counter name na
		arp operation reply arp saddr ip 192.168.122.11 arp daddr ip 192.168.122.11 counter name arp_own
		arp operation reply arp saddr ip != 192.168.122.11 counter name arp_reply
	}
}
EOF
}

# seen NS COUNTER: packets counted by the observer
seen() {
	in_ns "$1" nft list counter netdev obs "$2" | sed -n 's/.*packets \([0-9]*\).*/\1/p'
}

declare -A G_TAP G_MAC G_V4 G_V6 G_TENANT G_KIND

# bridge_topology_up: every namespace, link and service of the test
bridge_topology_up() {
	new_ns "$H"
	in_ns "$H" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	# No br_netfilter: bridged frames must never need the IP hooks (set per namespace).
	for f in iptables ip6tables arptables; do
		in_ns "$H" sh -c "[ ! -e /proc/sys/net/bridge/bridge-nf-call-$f ] || echo ${BRNF:-0} >/proc/sys/net/bridge/bridge-nf-call-$f"
	done
	new_ns "$C"
	new_ns "$I"
	link_peer "$C" clu0 172.16.0 fd00:172:
	link_peer "$I" wan0 198.51.100 2001:db8:100:
	in_ns "$H" ip link add "$BR" type bridge
	in_ns "$H" ip link set "$BR" address "$BR_MAC"
	in_ns "$H" ip link set "$BR" up
	in_ns "$H" ip addr add "$GW4/24" dev "$BR"
	in_ns "$H" ip addr add "$GW6/64" dev "$BR" nodad
	# libvirt's NAT network: masquerade IPv4 leaving the network; IPv6 is routed.
	in_ns "$H" nft -f - <<'EOF'
table ip sim_libvirt {
	chain post {
		type nat hook postrouting priority srcnat; policy accept;
		ip saddr 192.168.122.0/24 ip daddr != { 192.168.122.0/24, 224.0.0.0/24, 255.255.255.255 } masquerade
	}
}
EOF
	# the network's dnsmasq: DNS and DHCP on the bridge address, as libvirt runs it
	in_ns "$H" dnsmasq --conf-file=/dev/null --pid-file="$WORK/dnsmasq.pid" -u root \
		--bind-interfaces --interface="$BR" --except-interface=lo \
		--listen-address="$GW4" --listen-address="$GW6" --no-resolv --no-hosts \
		--host-record=gw.bx,"$GW4","$GW6" --dhcp-range=192.168.122.100,192.168.122.199,1h \
		--dhcp-range=fd00:122::100,fd00:122::1ff,64,1h --dhcp-leasefile="$WORK/leases" \
		--dhcp-authoritative --log-facility="$WORK/dnsmasq.log"
	PIDS+=("$(cat "$WORK/dnsmasq.pid")")
	tcp_listen "$H" 8080 # a host service, not allowed
	tcp_listen "$H" 8443 # a host service on the allowed outbound port
	tcp_listen "$C" 7000
	tcp_listen "$I" 80
	tcp_listen "$I" 8443
	udp_sink "$I" 5555
	# guests: bridged a1 a2 (tenant A), b1 (B); d1 (A) without an address (DHCP);
	# routed ra (A), rb (B) on type='ethernet' taps as today
	bguest_up a1 vnet1 52:54:00:00:01:01 192.168.122.11 fd00:122::11
	bguest_up a2 vnet2 52:54:00:00:01:02 192.168.122.12 fd00:122::12
	bguest_up b1 vnet3 52:54:00:00:01:03 192.168.122.13 fd00:122::13
	bguest_up d1 vnet4 52:54:00:00:01:04 - - dhcp
	guest_up ra vnet11 10.0.0.21 fd00:10::21
	guest_up rb vnet12 10.0.0.22 fd00:10::22
	A1=$(guest_ns a1) A2=$(guest_ns a2) B1=$(guest_ns b1) D1=$(guest_ns d1)
	RA=$(guest_ns ra) RB=$(guest_ns rb)
	# the LAN host behind the foreign port lan0 (outside the VM networks, on-link)
	new_ns "$L"
	ip link add lan0 netns "$H" type veth peer name eth0 netns "$L"
	in_ns "$H" ip link set lan0 master "$BR" up
	in_ns "$L" ip link set eth0 address 52:54:00:00:0a:01
	in_ns "$L" ip link set eth0 up
	in_ns "$L" ip addr add 203.0.113.50/24 dev eth0
	in_ns "$L" ip -6 addr add fd00:203::50/64 dev eth0 nodad
	in_ns "$L" ip route add 192.168.122.0/24 dev eth0
	in_ns "$L" ip -6 route add fd00:122::/64 dev eth0
	tcp_listen "$L" 80
	tcp_listen "$L" 8443
	observer "$L"
	for g in "$A1" "$A2" "$B1"; do
		in_ns "$g" ip route add 203.0.113.0/24 dev eth0
		in_ns "$g" ip -6 route add fd00:203::/64 dev eth0
	done
}

# ---- the ruleset ----
# render INTERNET TENANTS: the skeleton for this configuration and kernel
render() {
	local internet=$1 tenants=$2 drop_tag
	[ "$STATEFUL" = 1 ] && drop_tag=stateless || drop_tag=stateful
	sed -e "s/@INTERNET@/$([ "$internet" = true ] && echo accept || echo 'jump drop_guest')/" \
		-e "/#@$drop_tag\$/d" \
		-e "$([ "$tenants" = true ] && echo '/#@tenants$/s/ #@tenants$//' || echo '/#@tenants$/d')" \
		-e 's/ #@[a-z]*$//' "$SKELETON"
}

eui64() { # eui64 MAC: the link-local address the kernel derives from it
	/usr/bin/python3 -c 'import sys,socket
b=bytes.fromhex(sys.argv[1].replace(":",""))
print(socket.inet_ntop(socket.AF_INET6,b"\xfe\x80"+b"\0"*6+bytes([b[0]^2])+b[1:3]+b"\xff\xfe"+b[3:]))' "$1"
}
v6int() { # v6int ADDR: the address as the 128-bit integer the ND target sets hold
	/usr/bin/python3 -c 'import sys,ipaddress; print(hex(int(ipaddress.IPv6Address(sys.argv[1]))))' "$1"
}

# tenant_objects TENANT: the tenant's chains and sets in both tables (idempotent)
tenant_objects() {
	local t=$1
	cat <<EOF
add set inet blixard tenant-$t-ifs { type ifname; }
add set inet blixard tenant-$t-v4 { type ifname . ipv4_addr; }
add set inet blixard tenant-$t-v6 { type ifname . ipv6_addr; }
add chain inet blixard tenant-$t
flush chain inet blixard tenant-$t
add rule inet blixard tenant-$t oifname @tenant-$t-ifs accept
add rule inet blixard tenant-$t oifname . ip daddr @tenant-$t-v4 accept
add rule inet blixard tenant-$t oifname . ip6 daddr @tenant-$t-v6 accept
add set bridge blixard tenant-$t-ifs { type ifname; }
add chain bridge blixard tenant-$t
flush chain bridge blixard tenant-$t
add rule bridge blixard tenant-$t oifname @tenant-$t-ifs accept
EOF
}

# pair VERB TABLE SET ELEMENT [KEY]: "add" writes the element; "del" writes the
# tolerant "add; delete" pair (1.0.6 has no destroy), KEY for maps
pair() {
	local verb=$1 fam=$2 set=$3 elem=$4 key=${5:-$4}
	echo "add element $fam blixard $set { $elem }"
	[ "$verb" = del ] && echo "delete element $fam blixard $set { $key }"
	return 0
}

# bridged_addr VERB TAP TENANT ADDR: the elements of one bound address of a bridged guest
bridged_addr() {
	local verb=$1 tap=$2 t=$3 a=$4 f=v4 owned=owned_v4
	case $a in *:*) f=v6 owned=owned_v6 ;; esac
	pair "$verb" bridge guest_src_$f "\"$tap\" . $a"
	pair "$verb" bridge $owned "$a"
	if [ $f = v6 ]; then
		pair "$verb" bridge nd_target_v6 "\"$tap\" . $(v6int "$a")"
		pair "$verb" bridge owned_nd_v6 "$(v6int "$a")"
	fi
	pair "$verb" inet guest_src_$f "\"$BR\" . $a"
	pair "$verb" inet addr_owner_$f "$a : \"$tap\"" "$a"
	pair "$verb" inet guest_tenant_$f "\"$BR\" . $a : jump tenant-$t" "\"$BR\" . $a"
	pair "$verb" inet tenant-$t-$f "\"$BR\" . $a"
	pair "$verb" inet guest_drops_$f "\"$BR\" . $a"
}

# bridged_event VERB NAME [ADDR...]: what the hook writes when a bridged guest starts
# (add) or stops (del): the port, its MAC, its tenant, its derived link-local address
# and the bound addresses. One transaction, both tables.
bridged_event() {
	local verb=$1 name=$2 tap mac t a
	shift 2
	tap=${G_TAP[$name]} mac=${G_MAC[$name]} t=${G_TENANT[$name]}
	{
		[ "$verb" = add ] && tenant_objects "$t"
		pair "$verb" bridge guest_ifs "\"$tap\""
		pair "$verb" bridge guest_drops "\"$tap\""
		pair "$verb" bridge guest_mac "\"$tap\" . $mac"
		pair "$verb" bridge dhcp_chaddr "\"$tap\" . 0x${mac//:/}"
		pair "$verb" bridge guest_tenant "\"$tap\" : jump tenant-$t" "\"$tap\""
		pair "$verb" bridge tenant-$t-ifs "\"$tap\""
		for a in $(eui64 "$mac") "$@"; do
			bridged_addr "$verb" "$tap" "$t" "$a"
		done
	} >"$WORK/event.nft"
	in_ns "$H" nft -f "$WORK/event.nft"
}

# routed_event VERB NAME: today's elements of a routed guest (golden files), plus the
# tenant objects above
routed_event() {
	local verb=$1 name=$2 tap t v4 v6
	tap=${G_TAP[$name]} t=${G_TENANT[$name]} v4=${G_V4[$name]} v6=${G_V6[$name]}
	{
		[ "$verb" = add ] && tenant_objects "$t"
		pair "$verb" inet guest_ifs "\"$tap\""
		pair "$verb" inet guest_drops "\"$tap\""
		pair "$verb" inet guest_tenant "\"$tap\" : jump tenant-$t" "\"$tap\""
		pair "$verb" inet tenant-$t-ifs "\"$tap\""
		pair "$verb" inet guest_src_v4 "\"$tap\" . $v4"
		pair "$verb" inet addr_owner_v4 "$v4 : \"$tap\"" "$v4"
		pair "$verb" inet guest_src_v6 "\"$tap\" . $v6"
		pair "$verb" inet addr_owner_v6 "$v6 : \"$tap\"" "$v6"
	} >"$WORK/event.nft"
	in_ns "$H" nft -f "$WORK/event.nft"
}

guest() { # guest NAME KIND TAP MAC TENANT V4 V6
	G_KIND[$1]=$2 G_TAP[$1]=$3 G_MAC[$1]=$4 G_TENANT[$1]=$5 G_V4[$1]=$6 G_V6[$1]=$7
}
guest a1 bridged vnet1 52:54:00:00:01:01 A 192.168.122.11 fd00:122::11
guest a2 bridged vnet2 52:54:00:00:01:02 A 192.168.122.12 fd00:122::12
guest b1 bridged vnet3 52:54:00:00:01:03 B 192.168.122.13 fd00:122::13
guest d1 bridged vnet4 52:54:00:00:01:04 A "" ""
guest ra routed vnet11 - A 10.0.0.21 fd00:10::21
guest rb routed vnet12 - B 10.0.0.22 fd00:10::22

# network_event: the libvirt network's own services, written with its first guest
network_event() {
	in_ns "$H" nft -f - <<EOF
add element inet blixard net_services_v4 { "$BR" . $GW4 . udp . 53, "$BR" . $GW4 . tcp . 53, "$BR" . $GW4 . udp . 67, "$BR" . 255.255.255.255 . udp . 67 }
add element inet blixard net_services_v6 { "$BR" . $GW6 . udp . 53, "$BR" . $GW6 . tcp . 53, "$BR" . ff02::1:2 . udp . 547 }
EOF
}

start_all() {
	local g
	network_event || return 1
	for g in a1 a2 b1; do
		bridged_event add $g "${G_V4[$g]}" "${G_V6[$g]}" || return 1
	done
	bridged_event add d1 || return 1
	routed_event add ra && routed_event add rb
}

load() { # load INTERNET TENANTS: a fresh skeleton and every guest again
	in_ns "$H" nft delete table inet blixard 2>/dev/null
	in_ns "$H" nft delete table bridge blixard 2>/dev/null
	render "$1" "$2" >"$WORK/skeleton.nft"
	in_ns "$H" nft -f "$WORK/skeleton.nft" && start_all
}

# drops TAP: the layer-2 drop counter of a guest port
drops() {
	in_ns "$H" nft list set bridge blixard guest_drops | tr ',' '\n' |
		sed -n "s/.*\"$1\" counter packets \([0-9]*\).*/\1/p"
}
more_drops() { [ "$(drops "$1")" -gt "$2" ]; }
l2() { # l2 NS KIND ARG...: a crafted frame from that namespace, then a moment for it to land
	local ns=$1
	shift
	in_ns "$ns" /usr/bin/python3 "$L2PY" "$@"
	sleep 0.3
}
# never_logged PATTERN FILE: PATTERN does not show up in FILE within 3 seconds
never_logged() {
	local i
	for i in $(seq 30); do
		grep -q -- "$1" "$2" 2>/dev/null && return 1
		sleep 0.1
	done
	return 0
}
# arrived_token NS PORT TOKEN: the token reached NS's udp sink on PORT
arrived_token() {
	local i
	for i in 1 2 3 4 5 6 7 8 9 10; do
		grep -q "$3" "$WORK/sink-$1-$2" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
neigh_mac() { # neigh_mac NS ADDR: the MAC the namespace's neighbour table has for ADDR
	in_ns "$1" ip neigh show "$2" | sed -n 's/.*lladdr \([0-9a-f:]*\).*/\1/p' | head -n1
}
# reach NS ADDR PORT: tcp, polled: a slow machine (QEMU TCG, a loaded host) may miss
# one 2-second window; a connection that must fail is tried once (tcp)
reach() {
	local i
	for i in 1 2 3; do
		tcp "$@" && return 0
	done
	return 1
}
zero() { [ "${1:-x}" = 0 ]; }
positive() { [ "${1:-0}" -gt 0 ]; }
grew() { [ "$(seen "$1" "$2")" -gt "$3" ]; }         # grew NS COUNTER BEFORE
same_drops() { [ "$(drops "$1")" -eq "$2" ]; }     # same_drops TAP BEFORE
neigh_is() { [ "$(neigh_mac "$1" "$2")" = "$3" ]; } # neigh_is NS ADDR MAC
hairpins() { in_ns "$H" nft list counter inet obs hairpin | sed -n 's/.*packets \([0-9]*\).*/\1/p'; }

