#!/bin/bash
# Issue 14, item 2: spoofed packets escape as the host's own ICMP errors.
# A guest sends datagrams with a source it does not own and TTL (hop
# limit) 1, or to a destination the host has no route for, or larger than
# the next link's MTU with DF: the host answers before its forward chain
# sees the packet, so the Time Exceeded / Destination Unreachable / Packet
# Too Big goes to the spoofed address: another tenant's guest, a cluster
# address, an internet host. None may arrive, with rp_filter 0, 1 and 2
# in the host namespace, IPv4 and IPv6. The guest's own address still
# gets its errors (traceroute and path MTU discovery work).
# NETISO_BACKEND selects the backend (nftables by default).
set -u
. "$top_srcdir/tests/netns/lib-netns.sh"
require_root_tier ip socat python3
require_backend_tools
[ -x "$HOOK" ] || tap_skip_all "hook not built: $HOOK"

TAP_LOG="$WORK/tap.log"
write_config
topology_up
guest_up a1 vnet1 10.0.0.11 fd00:10::11
guest_up b1 vnet3 10.0.0.13 fd00:10::13
A1=$(guest_ns a1) B1=$(guest_ns b1)
# The internet link is narrower than the guests' (1280 bytes): a larger
# datagram with DF makes the host send Fragmentation Needed / Packet Too Big.
in_ns "$H" ip link set wan0 mtu 1280
in_ns "$I" ip link set eth0 mtu 1280
# a1's neighbour entries for the host are fixed: otherwise a1 resolves them
# with solicitations from whichever address it is spoofing at the moment,
# which a fix may rightly drop, and the control datagrams would wait.
mac=$(in_ns "$H" cat /sys/class/net/vnet1/address)
in_ns "$A1" ip neigh replace "$HOST4" lladdr "$mac" dev eth0 nud permanent
in_ns "$A1" ip -6 neigh replace "$HOST6" lladdr "$mac" dev eth0 nud permanent
# The host's ICMP rate limits would hide repeated errors: off in the host namespace.
in_ns "$H" sysctl -qw net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0
ok "a1 starts (tenant A)" start_guest a1 A vnet1 10.0.0.11 fd00:10::11
ok "b1 starts (tenant B)" start_guest b1 B vnet3 10.0.0.13 fd00:10::13

# rp_filter MODE: the host namespace's reverse path filter on every interface
rp_filter() {
	local dev
	in_ns "$H" sysctl -qw net.ipv4.conf.all.rp_filter="$1" net.ipv4.conf.default.rp_filter="$1"
	for dev in $(in_ns "$H" ls /sys/class/net); do
		in_ns "$H" sysctl -qw "net.ipv4.conf.$dev.rp_filter=$1"
	done
}

# A second internet address to spoof (the first is the datagrams' destination).
in_ns "$I" ip addr add 198.51.100.3/24 dev eth0
in_ns "$I" ip -6 addr add 2001:db8:100::3/64 dev eth0 nodad

PORT=33000
# round FAMILY KIND LABEL: a1 sends three datagrams of KIND from each of
# four addresses it does not own (b1's, a cluster host's, an internet
# host's, the host's own cluster-side address), each to its own port, then
# one from its own address as a marker. KIND: ttl (TTL / hop limit 1 to
# the internet), noroute (to an address the host has no route for), big
# (1400 bytes with DF through the 1280-byte internet link). Once the
# marker's error is back at a1 (the host has handled everything sent
# before it), no error about the spoofed datagrams may have reached
# b1, the cluster, the internet or the host.
round() {
	local fam=$1 kind=$2 label=$3 own dst ttl=64 size=200 i src n stop targets
	local -a nss names
	if [ "$fam" = 4 ]; then
		own=10.0.0.11 targets="10.0.0.13 172.16.0.2 198.51.100.3 172.16.0.1" dst=198.51.100.2
		[ "$kind" = noroute ] && dst=203.0.113.7
	else
		own=fd00:10::11 targets="fd00:10::13 fd00:172::2 2001:db8:100::3 fd00:172::1" dst=2001:db8:100::2
		[ "$kind" = noroute ] && dst=2001:db8:999::7
	fi
	case $kind in
	ttl) ttl=1 ;;
	big) size=1400 ;;
	esac
	nss=("$B1" "$C" "$I" "$H")
	names=("another tenant's guest (b1)" "a cluster address" "an internet address" "the host's own address")
	PORT=$((PORT + 10))
	stop="$WORK/stop-$PORT"
	for i in 0 1 2 3; do
		probe_bg "${nss[$i]}" icmp-count $fam $((PORT + i)) "$stop" "$WORK/count-$PORT-$i"
		wait_file "$WORK/count-$PORT-$i.ready"
	done
	probe_bg "$A1" icmp-count $fam $((PORT + 9)) "$stop" "$WORK/mark-$PORT"
	wait_file "$WORK/mark-$PORT.ready"
	i=0
	for src in $targets; do
		spoof_add "$A1" "$src"
		probe "$A1" send-limited "$src" "$dst" $((PORT + i)) $ttl $size 3
		spoof_del "$A1" "$src"
		i=$((i + 1))
	done
	probe "$A1" send-limited "$own" "$dst" $((PORT + 9)) $ttl $size 1
	ok "$label: control: the error about a1's own datagram reaches a1" \
		within "$DEADLINE" test "$(cat "$WORK/mark-$PORT")" -ge 1
	touch "$stop"
	for i in 0 1 2 3; do
		within "$DEADLINE" test -e "$WORK/count-$PORT-$i.done"
		n=$(cat "$WORK/count-$PORT-$i")
		ok "$label: no ICMP error about a1's spoofed datagrams reaches ${names[$i]}" test "$n" = 0
		[ "$n" = 0 ] || diag "$n errors arrived"
	done
}

for mode in 0 1 2; do
	rp_filter $mode
	for kind in ttl noroute big; do
		round 4 $kind "IPv4, rp_filter $mode, $kind"
	done
done
for kind in ttl noroute big; do
	round 6 $kind "IPv6, $kind"
done

done_testing
