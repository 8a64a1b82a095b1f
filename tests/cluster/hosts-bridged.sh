#!/bin/bash
# Bridged guests in a cluster (issues 17 and 18): interface.md gives bridged
# guests the same traffic semantics as routed ones, across hosts too. Host h1
# bridges two guests of tenants A and B on a bridge of its own (the inet hooks
# see the bridge, not the port), host h2 routes one guest of each tenant; the
# real hook, `blixard-netiso watch` on both and one real etcd member. The
# cross-host matrix in IPv4 and IPv6, with `why` asked on both hosts, and a
# bridged guest's stop leaving the other host.
set -u
. "$top_srcdir/tests/cluster/lib-hosts.sh"
require_cluster_tier
trap 'hosts_cleanup_logs; netns_cleanup' EXIT

BRVM=brvm
BR4=10.0.1.129 # the bridge's addresses: guests behind h1 above .128
BR6=fd00:10::1:81

hosts_up 2
etcd_up 1
for k in 1 2; do
	write_host_config "$k"
	watch_start "$k"
done
H1=$(host_ns 1)
in_ns "$H1" ip link add "$BRVM" type bridge
in_ns "$H1" ip link set "$BRVM" address 52:54:00:ff:01:01 up
in_ns "$H1" ip addr add "$BR4/25" dev "$BRVM"
in_ns "$H1" ip -6 addr add "$BR6/121" dev "$BRVM" nodad

# bguest NAME TENANT N: a guest on a port vnetN of h1's bridge, at 10.0.1.N and fd00:10::1:N (hex)
bguest() {
	local name=$1 tenant=$2 n=$3 ns tap v6
	ns=$(guest_ns "$name")
	tap="vnet$n"
	v6=$(printf 'fd00:10::1:%x' "$n")
	GUEST_HOST[$name]=1 GUEST_V4[$name]="10.0.1.$n" GUEST_V6[$name]=$v6
	GUEST_TAP[$name]=$tap GUEST_TENANT[$name]=$tenant
	GUEST_MAC[$name]=$(printf '52:54:00:00:01:%02x' "$n")
	new_ns "$ns"
	ip link add "$tap" netns "$H1" type veth peer name eth0 netns "$ns"
	in_ns "$H1" ip link set "$tap" master "$BRVM" up
	in_ns "$ns" ip link set eth0 address "${GUEST_MAC[$name]}"
	in_ns "$ns" sysctl -qw net.ipv6.conf.eth0.accept_ra=0
	in_ns "$ns" ip link set eth0 up
	in_ns "$ns" ip addr add "10.0.1.$n/25" dev eth0
	in_ns "$ns" ip -6 addr add "$v6/121" dev eth0 nodad
	in_ns "$ns" ip route add default via "$BR4"
	in_ns "$ns" ip -6 route add default via "$BR6"
	tcp_listen "$ns" 9000
	tcp_listen "$ns" 2222
	udp_sink "$ns" 5555
}
declare -A GUEST_MAC=()

# bxml NAME TAP: the bridged guest's live XML (TAP "-" before start)
bxml() {
	local name=$1 tap=$2
	echo "<domain type='qemu'><name>$name</name>"
	echo "<uuid>$(printf '%08x-0000-4000-8000-%012x' "$(cksum <<<"$name" | cut -d' ' -f1)" 2)</uuid>"
	echo "<metadata><netiso:isolation xmlns:netiso='urn:blixard:network-isolation:1' tenant='${GUEST_TENANT[$name]}'/></metadata>"
	echo "<devices><interface type='bridge'><mac address='${GUEST_MAC[$name]}'/>"
	echo "<source bridge='$BRVM'/>"
	[ "$tap" = - ] || echo "<target dev='$tap'/>"
	echo "<filterref filter='clean-traffic'><parameter name='IP' value='${GUEST_V4[$name]}'/>"
	echo "<parameter name='IPV6' value='${GUEST_V6[$name]}'/></filterref>"
	echo "</interface></devices></domain>"
}

bguest_start() {
	local name=$1 dir
	dir=$(host_dir 1)
	bxml "$name" - >"$dir/$name-prepare.xml"
	bxml "$name" "${GUEST_TAP[$name]}" >"$dir/$name.xml"
	WHY_DOMAIN_OF[${GUEST_V4[$name]}]=$name
	WHY_DOMAIN_OF[${GUEST_V6[$name]}]=$name
	on_host 1 host_hook "$name" prepare begin "$dir/$name-prepare.xml" &&
		on_host 1 host_hook "$name" start begin "$dir/$name.xml" &&
		on_host 1 host_hook "$name" started begin "$dir/$name.xml"
}

bguest b1 A 150
bguest c1 B 151
guest 2 a2 A 1
guest 2 x2 B 2
for g in b1 c1; do
	check "bridged guest $g starts on host h1 (its addresses claimed cluster-wide)" bguest_start "$g"
done
for g in a2 x2; do
	check "routed guest $g starts on host h2" guest_start "$g"
done

published() {
	local g
	for g in b1 c1; do
		remote_has 2 "${GUEST_V4[$g]}" "${GUEST_TENANT[$g]}" &&
			remote_has 2 "${GUEST_V6[$g]}" "${GUEST_TENANT[$g]}" || return 1
	done
	for g in a2 x2; do
		remote_has 1 "${GUEST_V4[$g]}" "${GUEST_TENANT[$g]}" &&
			remote_has 1 "${GUEST_V6[$g]}" "${GUEST_TENANT[$g]}" || return 1
	done
}
check "each host installs the other's guests, the bridged ones included" wait_until 30 published

for fam in 4 6; do
	cross allowed "bridged b1 reaches a2 of its tenant on another host (tcp, IPv$fam)" tcp b1 a2 "$fam" 9000
	cross allowed "a2 reaches bridged b1 of its tenant on another host (tcp, IPv$fam)" tcp a2 b1 "$fam" 9000
	cross allowed "a2 pings bridged b1 (IPv$fam)" ping_ a2 b1 "$fam"
	cross allowed "bridged c1 reaches x2 of its tenant on another host (udp, IPv$fam)" udp c1 x2 "$fam" 5555
	cross dropped "bridged b1 does not reach x2 of tenant B on another host (IPv$fam)" tcp b1 x2 "$fam" 9000
	cross dropped "x2 does not reach bridged b1, not even on an allowed inbound port (IPv$fam)" tcp x2 b1 "$fam" 2222
	cross dropped "bridged c1 does not reach a2 of another tenant (udp, IPv$fam)" udp c1 a2 "$fam" 5555
	cross dropped "b1 does not reach c1 on its own bridge (IPv$fam)" tcp b1 c1 "$fam" 9000
done

# Spoofing stays stopped at the guest's own host: c1 cannot pose as b1's
# tenant by taking an address of tenant A's range on the bridge.
in_ns "$(guest_ns c1)" ip addr add 10.0.1.152/25 dev eth0
fails "c1 sending from an address it was not given reaches nothing of tenant A" \
	udp "$(guest_ns c1)" "${GUEST_V4[a2]}" 5555 "$(guest_ns a2)" 10.0.1.152
in_ns "$(guest_ns c1)" ip addr del 10.0.1.152/25 dev eth0

# A bridged guest's stop leaves the other host.
bstop_b1() {
	local dir
	dir=$(host_dir 1)
	on_host 1 host_hook b1 stopped end "$dir/b1.xml" &&
		on_host 1 host_hook b1 release end "$dir/b1-prepare.xml"
}
check "bridged b1 stops" bstop_b1
gone() { ! remote_has 2 "${GUEST_V4[b1]}" && ! remote_has 2 "${GUEST_V6[b1]}"; }
check "h2 removes b1's addresses once h1 stops publishing them" wait_until 30 gone
fails "a2 no longer reaches b1's address" tcp "$(guest_ns a2)" "${GUEST_V4[b1]}" 9000

stop_all_and_check_sanitizers
done_testing
