#!/bin/bash
# Issue 14, item 3: forged ICMP errors from a guest reach the host's own
# connections. conntrack calls an ICMP error related when the packet it
# quotes matches any tracked connection, and related packets from guests to
# the host were accepted before the cluster rule: a guest forging "port
# unreachable" or "fragmentation needed" / "packet too big" about the
# host's connected UDP socket towards a cluster address fails that socket
# (ECONNREFUSED, EMSGSIZE) and lowers the host's path MTU to the cluster.
# The same for the host's flows to the internet and to another tenant's
# guest. Controls: the same errors from the real peer arrive, and a
# guest's genuine error about the host's flow to that guest arrives.
# NETISO_BACKEND selects the backend (nftables by default).
set -u
. "$top_srcdir/tests/netns/lib-netns.sh"
require_root_tier ip socat python3 conntrack
require_backend_tools
[ -x "$HOOK" ] || tap_skip_all "hook not built: $HOOK"

TAP_LOG="$WORK/tap.log"
write_config
topology_up
guest_up a1 vnet1 10.0.0.11 fd00:10::11
guest_up b1 vnet3 10.0.0.13 fd00:10::13
A1=$(guest_ns a1) B1=$(guest_ns b1)
ok "a1 starts (tenant A)" start_guest a1 A vnet1 10.0.0.11 fd00:10::11
ok "b1 starts (tenant B)" start_guest b1 B vnet3 10.0.0.13 fd00:10::13

# host_flow NAME SRC SPORT DST DPORT: a connected UDP socket of the host
# that sends a byte every 500 ms and logs its socket errors to $WORK/NAME
host_flow() {
	probe_bg "$H" udp-connected "$2" "$3" "$4" "$5" "$WORK/$1" 500
	wait_file "$WORK/$1.ready"
}
# errors NAME TEXT: how many times the socket reported TEXT
errors() {
	local n
	n=$(grep -c -- "$2" "$WORK/$1" 2>/dev/null)
	echo "${n:-0}"
}
more_errors() { # more_errors NAME TEXT BEFORE
	[ "$(errors "$1" "$2")" -gt "$3" ]
}
# lowered DST: the host has a lowered path MTU cached towards DST
lowered() {
	in_ns "$H" ip route get "$1" | grep -Eq '(^| )mtu [0-9]+'
}
flush_pmtu() {
	in_ns "$H" ip route flush cache
	in_ns "$H" ip -6 route flush cache
}
rx() {
	in_ns "$H" cat "/sys/class/net/$1/statistics/rx_packets"
}

# attack FAMILY VICTIM: the host's flow VICTIM ("cluster", "internet", "b1")
# is forged at by a1, then by the real peer (control)
attack() {
	local fam=$1 victim=$2 a1 hsrc dst dport peer_ns name refused big before
	if [ "$fam" = 4 ]; then
		a1=10.0.0.11
		case $victim in
		cluster) hsrc=172.16.0.1 dst=172.16.0.2 dport=53 peer_ns=$C ;;
		internet) hsrc=198.51.100.1 dst=198.51.100.2 dport=53 peer_ns=$I ;;
		b1) hsrc=$HOST4 dst=10.0.0.13 dport=5555 peer_ns=$B1 ;;
		esac
	else
		a1=fd00:10::11
		case $victim in
		cluster) hsrc=fd00:172::1 dst=fd00:172::2 dport=53 peer_ns=$C ;;
		internet) hsrc=2001:db8:100::1 dst=2001:db8:100::2 dport=53 peer_ns=$I ;;
		b1) hsrc=$HOST6 dst=fd00:10::13 dport=5555 peer_ns=$B1 ;;
		esac
	fi
	name="flow-$fam-$victim"
	SPORT=$((SPORT + 1))
	host_flow "$name" "$hsrc" $SPORT "$dst" $dport
	ok "IPv$fam: control: the host's UDP flow to $victim ($dst) is tracked" \
		within "$DEADLINE" sh -c "ip netns exec '$H' conntrack -L -p udp --orig-port-src $SPORT 2>/dev/null | grep -q ."
	flush_pmtu
	refused=$(errors "$name" "Connection refused")
	big=$(errors "$name" "Message too long")

	before=$(rx vnet1)
	probe "$A1" icmp-forge "$a1" "$hsrc" port-unreach "$hsrc" "$dst" $SPORT $dport 3
	probe "$A1" icmp-forge "$a1" "$hsrc" too-big "$hsrc" "$dst" $SPORT $dport 3
	ok "IPv$fam: control: a1's six forged errors reached the host's tap" \
		within "$DEADLINE" test "$(rx vnet1)" -ge $((before + 6))
	ok "IPv$fam: a1's forged port unreachable does not fail the host's socket to $victim (ECONNREFUSED)" \
		never_within 1 more_errors "$name" "Connection refused" "$refused"
	ok "IPv$fam: a1's forged too-big does not fail the host's socket to $victim (EMSGSIZE)" \
		test "$(errors "$name" "Message too long")" -le "$big"
	ok "IPv$fam: a1's forged too-big does not lower the host's path MTU to $victim" \
		sh -c "! ip netns exec '$H' ip route get '$dst' | grep -Eq '(^| )mtu [0-9]+'"

	# The same errors from the real peer are genuine and arrive.
	refused=$(errors "$name" "Connection refused")
	big=$(errors "$name" "Message too long")
	probe "$peer_ns" icmp-forge "$dst" "$hsrc" port-unreach "$hsrc" "$dst" $SPORT $dport 1
	ok "IPv$fam: control: the same port unreachable from $victim itself fails the socket" \
		within "$DEADLINE" more_errors "$name" "Connection refused" "$refused"
	probe "$peer_ns" icmp-forge "$dst" "$hsrc" too-big "$hsrc" "$dst" $SPORT $dport 1
	ok "IPv$fam: control: the same too-big from $victim itself lowers the path MTU" \
		within "$DEADLINE" lowered "$dst"
	flush_pmtu
}

SPORT=41000
for fam in 4 6; do
	for victim in cluster internet b1; do
		attack $fam $victim
	done
	# A guest's genuine error about the host's own flow to that guest
	# (here: to a closed port of a1) still arrives.
	if [ $fam = 4 ]; then src=$HOST4 dst=10.0.0.11; else src=$HOST6 dst=fd00:10::11; fi
	SPORT=$((SPORT + 1))
	host_flow "flow-$fam-a1" "$src" $SPORT "$dst" 5999
	ok "IPv$fam: control: a1's genuine port unreachable about the host's flow to a1 arrives" \
		within "$DEADLINE" more_errors "flow-$fam-a1" "Connection refused" 0
done

done_testing
