#!/bin/bash
# Per-packet cost of the iptables backend's dispatch with 1, 100, 1000 and 10000 taps
# installed. For each size: the rules a packet evaluates (computed by bench/ipt-walk on
# the rendered table), the time to load the table and to commit one more guest, and a
# ping flood from a guest namespace to an "internet" namespace through a host namespace
# holding (a) no rules, (b) the backend's table, (c) a linear per-tap dispatch for
# comparison. Prints numbers, asserts nothing. Needs root; everything happens in network
# namespaces it creates and removes (never in the caller's).
#
#   bench/ipt-dispatch.sh                 # sizes 1 100 1000 10000
#   IPT_BENCH_SIZES="1 100" IPT_BENCH_PINGS=5000 bench/ipt-dispatch.sh
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir/_build}
SIZES=${IPT_BENCH_SIZES:-"1 100 1000 10000"}
TENANTS=${IPT_BENCH_TENANTS:-10}
PINGS=${IPT_BENCH_PINGS:-20000}
WALK=$top_builddir/bench/ipt-walk

[ "$(id -u)" = 0 ] || { echo "ipt-dispatch: needs root (network namespaces)" >&2; exit 77; }
for tool in ip ping iptables-restore iptables-save; do
	command -v $tool >/dev/null || { echo "ipt-dispatch: needs $tool" >&2; exit 77; }
done
make -s -C "$top_builddir" bench/ipt-walk || exit 1

P=bxbench$$
H=${P}h G=${P}g I=${P}i
WORK=$(mktemp -d /tmp/ipt-dispatch.XXXXXX)
GUEST=10.255.0.2 HOSTSIDE=10.255.255.254
cleanup() {
	local ns
	for ns in "$H" "$G" "$I"; do
		ip netns del "$ns" 2>/dev/null
	done
}
trap 'cleanup; rm -rf "$WORK"' EXIT
trap "exit 143" TERM INT HUP

# topology TAP: guest G behind a routed veth named TAP in H, the internet I behind wan0.
topology() {
	cleanup
	ip netns add "$H" && ip netns add "$G" && ip netns add "$I"
	ip -n "$H" link set lo up
	ip netns exec "$H" sysctl -qw net.ipv4.ip_forward=1
	ip link add "$1" netns "$H" type veth peer name eth0 netns "$G"
	ip -n "$H" link set "$1" up
	ip -n "$H" addr add "$HOSTSIDE/32" peer "$GUEST/32" dev "$1"
	ip -n "$G" link set eth0 up
	ip -n "$G" addr add "$GUEST/32" dev eth0
	ip -n "$G" route add "$HOSTSIDE" dev eth0
	ip -n "$G" route add default via "$HOSTSIDE" dev eth0
	ip link add wan0 netns "$H" type veth peer name eth0 netns "$I"
	ip -n "$H" link set wan0 up
	ip -n "$H" addr add 198.51.100.1/24 dev wan0
	ip -n "$I" link set eth0 up
	ip -n "$I" addr add 198.51.100.2/24 dev eth0
	ip -n "$I" route add default via 198.51.100.1
}

empty_table() {
	printf '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n' |
		ip netns exec "$H" iptables-restore
}

# linear N TAP: what a per-NIC dispatch does (libvirt nwfilter, Incus): one rule per tap.
linear() {
	local n=$1 tap=$2 k
	{
		echo '*filter'
		echo ':LINEAR - [0:0]'
		for ((k = 0; k < n; k++)); do
			if [ "vnet$k" = "$tap" ]; then
				echo "-A LINEAR -s $GUEST/32 -i vnet$k -j ACCEPT"
				echo "-A LINEAR -d $GUEST/32 -o vnet$k -j ACCEPT"
			else
				echo "-A LINEAR -s 10.$((1 + k / 65536)).$((k / 256 % 256)).$((k % 256))/32 -i vnet$k -j ACCEPT"
				echo "-A LINEAR -d 10.$((1 + k / 65536)).$((k / 256 % 256)).$((k % 256))/32 -o vnet$k -j ACCEPT"
			fi
		done
		echo '-A LINEAR -j DROP'
		echo '-A FORWARD -j LINEAR'
		echo 'COMMIT'
	} | ip netns exec "$H" iptables-restore --noflush
}

# flood: "avg-rtt-ms total-ms" of PINGS echo requests, as fast as replies come back.
flood() {
	ip netns exec "$G" ping -f -q -c "$PINGS" 198.51.100.2 2>&1 |
		awk '/packets transmitted/ { for (i = 1; i <= NF; i++) if ($i ~ /^time/) t = $(i + 1)
		                             sub(/ms/, "", t); loss = $6 }
		     /^rtt/ { split($4, a, "/"); avg = a[2] }
		     END { printf "%s %s %s\n", avg, t, loss }'
}

seconds() {
	local start end
	start=$(date +%s.%N)
	"$@" >/dev/null || return 1
	end=$(date +%s.%N)
	awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }'
}

echo "# iptables backend dispatch: $(iptables --version), $PINGS pings per run, $TENANTS tenants"
for n in $SIZES; do
	tap="vnet$((n / 2))"
	echo "## $n taps (the measured guest is on $tap)"
	"$WALK" count "$n" "$TENANTS" | sed 's/^/rules: /'

	topology "$tap"
	read -r avg total loss <<<"$(flood)"
	echo "flood: no rules:              avg rtt ${avg} ms, ${total} ms for $PINGS, loss $loss"

	"$WALK" rebuild "$n" "$TENANTS" "$tap" "$GUEST" >"$WORK/rebuild"
	"$WALK" event "$n" "$TENANTS" "$tap" "$GUEST" vnet999999 10.255.0.3 >"$WORK/event"
	load=$(seconds sh -c "ip netns exec $H iptables-restore --noflush <'$WORK/rebuild'")
	event=$(seconds sh -c "ip netns exec $H iptables-restore --noflush <'$WORK/event'")
	chains=$(ip netns exec "$H" iptables-save -t filter | grep -c '^:BL')
	rules=$(ip netns exec "$H" iptables-save -t filter | grep -c '^-A BL')
	echo "table: $chains chains, $rules rules; iptables-restore of it ${load} s, of one more guest ${event} s"
	read -r avg total loss <<<"$(flood)"
	echo "flood: blixard-netiso trie:   avg rtt ${avg} ms, ${total} ms for $PINGS, loss $loss"

	empty_table
	linear "$n" "$tap"
	read -r avg total loss <<<"$(flood)"
	echo "flood: linear, $((2 * n + 1)) rules:     avg rtt ${avg} ms, ${total} ms for $PINGS, loss $loss"
done
