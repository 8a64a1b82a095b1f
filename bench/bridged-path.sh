#!/bin/bash
# Cost per packet for bridged guests (issue 18): ping floods between two
# guests of one bridge (layer 2 only) and from a guest to the internet
# (masqueraded), with no tables, with the 2 guests the hook installed, and
# with 10,000 more bridged guests in 100 more tenants installed by the
# product's own sync (bench/netiso-bench-populate); then one more guest's
# hook event at that size. Prints the figures as TAP diagnostics.
#   top_srcdir=$PWD top_builddir=$PWD/_build bash bench/bridged-path.sh
set -u
. "$top_srcdir/tests/netns/lib-bridged.sh"
POPULATE="$top_builddir/bench/netiso-bench-populate"
ROUNDS=${ROUNDS:-3}
PINGS=${PINGS:-100000}

flood() { # flood NS ADDR: "avg rtt, pings/s" of a ping flood
	in_ns "$1" ping -q -f -c "$PINGS" "$2" | awk -v n="$PINGS" -F'[ /=,]+' '
		/packets transmitted/ { for (i = 1; i <= NF; i++) if ($i ~ /ms$/) t = $i + 0 }
		/^rtt/ { avg = $7 } END { printf "%.1f us avg rtt, %d pings/s", avg * 1000, t ? n * 1000 / t : 0 }'
}
floods() { # floods LABEL
	local i
	for i in $(seq "$ROUNDS"); do
		diag "$1, round $i: a1->a2 (bridge) $(flood "$A1" 192.168.122.12); a1->internet (NAT) $(flood "$A1" 198.51.100.2)"
	done
}
ms_since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", (b - a) * 1000 }'; }

bridge_topology_up
wait_ports
floods "no blixard tables"
ok "a1 starts" bstart a1 network vnet1 52:54:00:00:01:01 A 192.168.122.11 fd00:122::11
ok "a2 starts" bstart a2 network vnet2 52:54:00:00:01:02 A "" fd00:122::12
ok "a1 reaches a2" reach "$A1" 192.168.122.12 9000
floods "2 bridged guests"
t0=$(date +%s.%N)
ok "10,000 more bridged guests in 100 tenants (records and one sync)" \
	in_ns "$H" "$POPULATE" "$BLIXARD_NETISO_CONFIG" 10000 100 "$BR"
diag "populate: $(ms_since "$t0") ms"
diag "elements: bridge guest_src_v4 $(in_ns "$H" nft -j list set bridge blixard guest_src_v4 | grep -o '"concat"' | wc -l), inet guest_src_v6 $(in_ns "$H" nft -j list set inet blixard guest_src_v6 | grep -o '"concat"' | wc -l)"
ok "a1 still reaches a2" reach "$A1" 192.168.122.12 9000
floods "10,002 bridged guests in 101 tenants"
t0=$(date +%s.%N)
ok "one more guest's start event at 10,002 guests (joining tenant t1)" bstart b1 network vnet3 52:54:00:00:01:03 t1 192.168.122.13 fd00:122::13
diag "b1's prepare, start and started hooks: $(ms_since "$t0") ms ($(tail -n 2 "$WORK/trace" | tr '\n' ';'))"
t0=$(date +%s.%N)
ok "and its stop" bstop b1
diag "b1's stopped and release hooks: $(ms_since "$t0") ms ($(tail -n 1 "$WORK/trace"))"
fails "a1 does not reach b1's address" tcp "$A1" 192.168.122.13 9000
done_testing
