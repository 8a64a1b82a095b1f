#!/bin/bash
# Issue 14, item 1: a tracked connection outlives the guest it was made for.
# A guest of tenant A talks to another A guest over UDP and TCP (IPv4 and
# IPv6) while its access ends: it stops, is retagged to tenant B, loses an
# address, or stops under another backend. Then a guest of tenant B holds
# the address on a new tap (or the retagged guest keeps talking): it must
# receive none of the old flows' packets and inject into none of them, and
# no tracked connection of the addresses may survive the event. The old
# flows keep sending while the event runs, so entries that packets in
# flight recreate count too. Injection uses the exact sequence numbers
# (the attacker's best guess), read from the old guest's side.
# NETISO_BACKEND selects the backend (nftables by default).
set -u
. "$top_srcdir/tests/netns/lib-netns.sh"
require_root_tier ip socat python3 conntrack
require_backend_tools
[ -x "$HOOK" ] || tap_skip_all "hook not built: $HOOK"

TAP_LOG="$WORK/tap.log"
write_config
topology_up
A2V4=10.0.0.12 A2V6=fd00:10::12
guest_up a2 vnet2 $A2V4 $A2V6
A2=$(guest_ns a2)
ok "a2 starts (tenant A): the peer of every old flow" start_guest a2 A vnet2 $A2V4 $A2V6
# a2 answers every UDP peer every 20 ms and logs what it gets; its TCP
# server logs what it gets and sends the trigger file's text when it changes.
probe_bg "$A2" udp-peer :: 6000 "$WORK/a2-udp.log" 20 "$WORK/a2-udp.ready"
probe_bg "$A2" tcp-server 7100 "$WORK/a2-tcp.log" "$WORK/a2-tick" "$WORK/a2-tcp.ready"
wait_file "$WORK/a2-udp.ready" && wait_file "$WORK/a2-tcp.ready" ||
	{ echo "Bail out! a2's probes did not start"; exit 1; }

# old_flows NAME V4 V6: NAME streams UDP to a2 from port 40001 and holds a
# TCP connection to a2 from port 40002, in both families; a sniffer in NAME
# records a2's segments (their numbers let the test forge a segment later).
old_flows() {
	local name=$1 ns x
	ns=$(guest_ns "$1")
	shift
	for x in "$@"; do
		local peer=$A2V4
		case $x in *:*) peer=$A2V6 ;; esac
		probe_bg "$ns" udp-stream "$x" 40001 $peer 6000 "$WORK/$name-$x-udp.log" 20 "$WORK/$name-$x-udp.ready"
		probe_bg "$ns" tcp-sniff eth0 $peer 7100 "$x" 40002 "$WORK/$name-$x-seen"
		wait_file "$WORK/$name-$x-udp.ready" && wait_file "$WORK/$name-$x-seen.ready"
		probe_bg "$ns" tcp-client "$x" 40002 $peer 7100 "$WORK/$name-$x-tcp.log" "$WORK/$name-tick"
	done
	for x in "$@"; do
		local peer=$A2V4
		case $x in *:*) peer=$A2V6 ;; esac
		ok "$name's UDP flow from $x is established both ways" \
			within "$DEADLINE" sh -c "grep -q '^$peer 6000 reply' '$WORK/$name-$x-udp.log' &&
				grep -q '^$x 40001 req' '$WORK/a2-udp.log'"
		ok "$name's TCP connection from $x is established" \
			within "$DEADLINE" has_line "$WORK/$name-$x-tcp.log" "^client got ok"
		ok "$name saw a2's data segment on that connection" \
			within "$DEADLINE" sh -c "awk '\$3 > 0' '$WORK/$name-$x-seen' | grep -q ."
	done
}

TICK=0
# tick: a2's TCP server sends a new line on every connection it holds
tick() {
	TICK=$((TICK + 1))
	echo "tick $TICK" >"$WORK/a2-tick.new"
	mv "$WORK/a2-tick.new" "$WORK/a2-tick"
}

# taker NAME TAP V4 V6: a tenant B guest that gets these addresses on a new
# tap, with a UDP logger on the old flows' port, sniffers for a2's old
# segments, and a firewall of its own so that its stack answers none of
# them with a reset (an attacker keeps the connection alive).
taker() {
	local name=$1 tap=$2 ns x
	guest_up "$name" "$tap" "$3" "$4"
	ns=$(guest_ns "$name")
	in_ns "$ns" nft add table inet attacker
	in_ns "$ns" nft add chain inet attacker pre '{ type filter hook prerouting priority -400; }'
	in_ns "$ns" nft add rule inet attacker pre tcp sport 7100 drop
	probe_bg "$ns" udp-peer :: 40001 "$WORK/$name-udp.log" 0 "$WORK/$name-udp.ready"
	for x in "$3" "$4"; do
		local peer=$A2V4
		case $x in *:*) peer=$A2V6 ;; esac
		probe_bg "$ns" tcp-sniff eth0 $peer 7100 "$x" 40002 "$WORK/$name-$x-sniff"
		wait_file "$WORK/$name-$x-sniff.ready"
	done
	wait_file "$WORK/$name-udp.ready"
}

# forged_numbers OLD X: "SEQ ACK" of the next segment of OLD's connection
# from X, as OLD would have sent it, from the last segment OLD saw from a2
# (the attacker's guess, made exact)
forged_numbers() {
	awk 'END { if (NR) printf "%.0f %.0f\n", $2, ($1 + $3) % 4294967296 }' "$WORK/$1-$2-seen"
}

# no_old_flows OLD NEW V4 V6: the checks after OLD's access ended and NEW
# holds the addresses (NEW may be OLD itself, retagged)
no_old_flows() {
	local old=$1 new=$2 ns x nums sent
	ns=$(guest_ns "$new")
	shift 2
	for x in "$@"; do
		local peer=$A2V4
		case $x in *:*) peer=$A2V6 ;; esac
		# The host reaches NEW's logger: the path works, the window is open.
		probe "$H" udp-send "$(case $x in *:*) echo $HOST6 ;; *) echo $HOST4 ;; esac)" 0 "$x" 40001 "marker-$x" 3
		ok "control: the host reaches $new at $x" \
			within "$DEADLINE" has_line "$WORK/$new-udp.log" "marker-$x"
		ok "$new receives none of a2's UDP replies to $old's old flow from $x (1 s of them)" \
			never_within 1 has_line "$WORK/$new-udp.log" "^$peer 6000 reply"
		probe "$ns" udp-send "$x" 40001 $peer 6000 "inject-$new-$x" 3
		ok "$new cannot send into $old's old UDP flow from $x" \
			never_within 1 has_line "$WORK/a2-udp.log" "inject-$new-$x"
	done
	tick
	for x in "$@"; do
		ok "control: a2 sent a new segment on $old's old connection from $x" \
			within "$DEADLINE" has_line "$WORK/a2-tcp.log" "^$x:40002 sent tick $TICK"
	done
	for x in "$@"; do
		ok "$new sees none of a2's segments of $old's old TCP connection from $x (2 s)" \
			never_within 2 test -s "$WORK/$new-$x-sniff"
		nums=$(forged_numbers "$old" "$x")
		sent=$(in_ns "$H" cat "/sys/class/net/$NEW_TAP/statistics/rx_packets")
		# shellcheck disable=SC2086
		probe "$ns" tcp-inject "$x" 40002 "$(case $x in *:*) echo $A2V6 ;; *) echo $A2V4 ;; esac)" 7100 $nums "INJECTED-$new" 3
		ok "control: $new's forged segments left its tap" \
			within "$DEADLINE" test "$(in_ns "$H" cat "/sys/class/net/$NEW_TAP/statistics/rx_packets")" -ge $((sent + 3))
		ok "$new cannot inject data into $old's old TCP connection from $x" \
			never_within 1 has_line "$WORK/a2-tcp.log" "got INJECTED-$new"
	done
}

# ---- 1. stop: a1 stops, b1 (tenant B) gets its addresses on a new tap ----
diag "a guest stops; another tenant's guest gets its addresses on a new tap"
guest_up a1 vnet1 10.0.0.11 fd00:10::11
ok "a1 starts (tenant A)" start_guest a1 A vnet1 10.0.0.11 fd00:10::11
old_flows a1 10.0.0.11 fd00:10::11
ok "a1 stops while its flows are running (stopped, release)" stop_guest a1
guest_down a1 vnet1
ok "no tracked connection of a1's IPv4 address survives its stop" test "$(tracked 10.0.0.11)" = 0
ok "no tracked connection of a1's IPv6 address survives its stop" test "$(tracked fd00:10::11)" = 0
taker b1 vnet11 10.0.0.11 fd00:10::11
ok "b1 starts (tenant B) with a1's addresses on tap vnet11" start_guest b1 B vnet11 10.0.0.11 fd00:10::11
ok "control: b1 reaches the internet" tcp "$(guest_ns b1)" 198.51.100.2 80
probe "$(guest_ns b1)" udp-send 10.0.0.11 40009 $A2V4 6000 new-flow-b1 3
ok "control: b1 cannot open a new flow to a2 (other tenant)" \
	never_within 1 has_line "$WORK/a2-udp.log" new-flow-b1
NEW_TAP=vnet11 no_old_flows a1 b1 10.0.0.11 fd00:10::11

# ---- 2. retag: a3 moves from tenant A to tenant B and keeps running ----
diag "a running guest is retagged from tenant A to tenant B"
guest_up a3 vnet3 10.0.0.13 fd00:10::13
ok "a3 starts (tenant A)" start_guest a3 A vnet3 10.0.0.13 fd00:10::13
old_flows a3 10.0.0.13 fd00:10::13
domain_xml a3 B vnet3 10.0.0.13 fd00:10::13 >"$WORK/a3-B.xml"
ok "a3 is retagged to tenant B (hook reconnect with its new tenant)" hook a3 reconnect begin "$WORK/a3-B.xml"
ok "no tracked connection of a3's IPv4 address survives the retag" test "$(tracked 10.0.0.13)" = 0
ok "no tracked connection of a3's IPv6 address survives the retag" test "$(tracked fd00:10::13)" = 0
for x in 10.0.0.13 fd00:10::13; do
	n=$(wc -l <"$WORK/a2-udp.log")
	ok "retagged a3's UDP stream from $x no longer reaches a2 (1 s of it)" \
		never_within 1 sh -c "tail -n +$((n + 1)) '$WORK/a2-udp.log' | grep -q '^$x 40001 req'"
	n=$(wc -l <"$WORK/a3-$x-udp.log")
	ok "a2's replies to the old flow no longer reach retagged a3 at $x (1 s of them)" \
		never_within 1 sh -c "tail -n +$((n + 1)) '$WORK/a3-$x-udp.log' | grep -q reply"
done
echo "after-retag 1" >"$WORK/a3-tick"
tick
for x in 10.0.0.13 fd00:10::13; do
	ok "control: a2 sent a new segment on a3's old connection from $x" \
		within "$DEADLINE" has_line "$WORK/a2-tcp.log" "^$x:40002 sent tick $TICK"
	ok "a3's data on its old TCP connection from $x no longer reaches a2" \
		never_within 2 has_line "$WORK/a2-tcp.log" "^$x:40002 got after-retag"
	ok "a2's data on that connection no longer reaches retagged a3 at $x" \
		never_within 1 has_line "$WORK/a3-$x-tcp.log" "client got tick $TICK"
done

# ---- 3. an address removed: a4 loses 10.0.0.24 / fd00:10::24, b4 gets them ----
diag "an address is removed from a guest; another tenant's guest gets it"
guest_up a4 vnet4 10.0.0.14 fd00:10::14
guest_addr a4 vnet4 10.0.0.24
guest_addr a4 vnet4 fd00:10::24
domain_xml_addrs a4 A vnet4 10.0.0.14 10.0.0.24 fd00:10::14 fd00:10::24 >"$WORK/a4.xml"
domain_xml_addrs a4 A vnet4 10.0.0.14 fd00:10::14 >"$WORK/a4-less.xml"
ok "a4 starts (tenant A) with two addresses in each family" \
	sh -c "ip netns exec '$H' '$HOOK' a4 start begin - <'$WORK/a4.xml'"
old_flows a4 10.0.0.24 fd00:10::24
ok "a4 loses 10.0.0.24 and fd00:10::24 (apply)" in_ns "$H" "$CLI" apply --domain-xml "$WORK/a4-less.xml"
in_ns "$H" ip route del 10.0.0.24/32 dev vnet4
in_ns "$H" ip -6 route del fd00:10::24/128 dev vnet4
ok "no tracked connection of the removed IPv4 address survives" test "$(tracked 10.0.0.24)" = 0
ok "no tracked connection of the removed IPv6 address survives" test "$(tracked fd00:10::24)" = 0
taker b4 vnet14 10.0.0.24 fd00:10::24
ok "b4 starts (tenant B) with a4's removed addresses on tap vnet14" start_guest b4 B vnet14 10.0.0.24 fd00:10::24
NEW_TAP=vnet14 no_old_flows a4 b4 10.0.0.24 fd00:10::24

# ---- 4. backend switch: a5's flows began under one backend, it stops under the other ----
diag "a guest's flows began under one backend; it stops after a switch to the other"
guest_up a5 vnet5 10.0.0.15 fd00:10::15
ok "a5 starts (tenant A)" start_guest a5 A vnet5 10.0.0.15 fd00:10::15
old_flows a5 10.0.0.15 fd00:10::15
case $BACKEND in
iptables) NETISO_BACKEND=nftables ;;
*) NETISO_BACKEND=iptables ;;
esac
write_config
diag "the configuration now says backend $NETISO_BACKEND"
ok "a5 stops under the new backend" stop_guest a5
guest_down a5 vnet5
ok "no tracked connection of a5's IPv4 address survives the switch and stop" test "$(tracked 10.0.0.15)" = 0
ok "no tracked connection of a5's IPv6 address survives the switch and stop" test "$(tracked fd00:10::15)" = 0
taker b5 vnet15 10.0.0.15 fd00:10::15
ok "b5 starts (tenant B) with a5's addresses on tap vnet15" start_guest b5 B vnet15 10.0.0.15 fd00:10::15
NEW_TAP=vnet15 no_old_flows a5 b5 10.0.0.15 fd00:10::15

done_testing
