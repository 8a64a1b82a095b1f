#!/bin/bash
# Flows belong to the guest install that made them, also when ending them
# raced with a packet in flight (issue 14, item 1). a1 and a2 (tenant A)
# have UDP flows both ways; a1 stops (its tracked connections end) and b1
# (tenant B) gets a1's addresses on a new tap. Connection-tracking entries
# of a1's flows are then put back by hand, as a packet accepted under the
# old ruleset would have confirmed them after the flush: neither a2's
# packets on them reach b1 nor b1's reach a2, in either direction and
# family. Control: the same entries bound to b1 do carry the same packets.
# NETISO_BACKEND selects the backend (nftables by default).
set -u
. "$top_srcdir/tests/netns/lib-netns.sh"
require_root_tier ip socat conntrack
require_backend_tools
[ -x "$HOOK" ] || tap_skip_all "hook not built: $HOOK"

TAP_LOG="$WORK/tap.log"
write_config
topology_up
guest_up a1 vnet1 10.0.0.11 fd00:10::11
guest_up a2 vnet2 10.0.0.12 fd00:10::12
A2=$(guest_ns a2)
ok "a1 starts (tenant A)" start_guest a1 A vnet1 10.0.0.11 fd00:10::11
ok "a2 starts (tenant A)" start_guest a2 A vnet2 10.0.0.12 fd00:10::12

# flow_id DOMAIN: the flow id its record holds
flow_id() {
	sed -n 's/^flow-id=//p' "$STATE_DIR/domains/$1.state"
}
ID_A1=$(flow_id a1) ID_A2=$(flow_id a2)
ok "a1 and a2 have flow ids of their own" test -n "$ID_A1" -a -n "$ID_A2" -a "$ID_A1" != "$ID_A2"

ok "a1 stops" stop_guest a1
in_ns "$H" ip link del vnet1
ip netns del "$(guest_ns a1)"
guest_up b1 vnet11 10.0.0.11 fd00:10::11
B1=$(guest_ns b1)
ok "b1 starts (tenant B) with a1's addresses on tap vnet11" start_guest b1 B vnet11 10.0.0.11 fd00:10::11
ID_B1=$(flow_id b1)
ok "b1's flow id is not a1's" test -n "$ID_B1" -a "$ID_B1" != "$ID_A1"
for p in 6000 6001; do udp_sink "$A2" $p; done
for p in 40001 7000; do udp_sink "$B1" $p; done
wait_ports

# binding ORIG RESP: conntrack options that bind an entry to the flow ids of
# its originator and responder (0: not a guest), as the backend does
binding() {
	case $BACKEND in
	iptables) echo "--mark $(($1 << 16 | $2))" ;;
	*) echo "--orig-zone $1 --mark $2" ;;
	esac
}

# entry SRC SPORT DST DPORT ORIG RESP: a UDP entry that has seen replies
entry() {
	# shellcheck disable=SC2046
	in_ns "$H" conntrack -I -p udp -s "$1" --sport "$2" -d "$3" --dport "$4" \
		--timeout 120 --status SEEN_REPLY,ASSURED $(binding "$5" "$6")
}

clear_entries() {
	in_ns "$H" conntrack -D -p udp >/dev/null 2>&1
	return 0
}

# send NS SRC SPORT DST DPORT TOKEN
send() {
	local dst=$4 src=$2
	case $dst in *:*) dst="[$dst]" src="[$src]" ;; esac
	echo "$6" | in_ns "$1" socat -u - "UDP:$dst:$5,bind=$src:$3,reuseaddr" 2>/dev/null
}

# arrives NS PORT TOKEN: the token reached the sink within 2 s
arrives() {
	local i
	for i in $(seq 20); do
		grep -q "$3" "$WORK/sink-$1-$2" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

for x in 4 6; do
	if [ $x = 4 ]; then X=10.0.0.11 Y=10.0.0.12; else X=fd00:10::11 Y=fd00:10::12; fi
	diag "IPv$x: entries of a1's flows, left after a1's stop"
	clear_entries
	ok "IPv$x: an entry of a1's flow to a2 is in the table" entry $X 40001 $Y 6000 "$ID_A1" "$ID_A2"
	ok "IPv$x: an entry of a2's flow to a1 is in the table" entry $Y 6001 $X 7000 "$ID_A2" "$ID_A1"
	send "$A2" $Y 6000 $X 40001 "r1-$x"
	fails "IPv$x: a2's reply in a1's flow does not reach b1" arrives "$B1" 40001 "r1-$x"
	send "$A2" $Y 6001 $X 7000 "o2-$x"
	fails "IPv$x: a2's datagram in its flow to a1 does not reach b1" arrives "$B1" 7000 "o2-$x"
	send "$B1" $X 40001 $Y 6000 "o1-$x"
	fails "IPv$x: b1 cannot send in a1's flow to a2" arrives "$A2" 6000 "o1-$x"
	send "$B1" $X 7000 $Y 6001 "r2-$x"
	fails "IPv$x: b1 cannot reply in a2's flow to a1" arrives "$A2" 6001 "r2-$x"

	diag "IPv$x: control: the same entries bound to b1"
	clear_entries
	ok "IPv$x: b1's flow to a2" entry $X 40001 $Y 6000 "$ID_B1" "$ID_A2"
	ok "IPv$x: a2's flow to b1" entry $Y 6001 $X 7000 "$ID_A2" "$ID_B1"
	send "$A2" $Y 6000 $X 40001 "cr1-$x"
	ok "IPv$x: control: a2's reply in b1's flow reaches b1" arrives "$B1" 40001 "cr1-$x"
	send "$A2" $Y 6001 $X 7000 "co2-$x"
	ok "IPv$x: control: a2's datagram in its flow to b1 reaches b1" arrives "$B1" 7000 "co2-$x"
	send "$B1" $X 40001 $Y 6000 "co1-$x"
	ok "IPv$x: control: b1 sends in its flow to a2" arrives "$A2" 6000 "co1-$x"
	send "$B1" $X 7000 $Y 6001 "cr2-$x"
	ok "IPv$x: control: b1 replies in a2's flow to it" arrives "$A2" 6001 "cr2-$x"
done

clear_entries
# The host masquerades towards the internet (as libvirt's NAT does): a
# guest's connection keeps working, its reply tuple being the host's.
in_ns "$H" nft -f - <<'EON'
table ip flowbinding_nat {
	chain post { type nat hook postrouting priority srcnat; oifname "wan0" masquerade; }
}
EON
ok "with masquerading, a2 reaches the internet (TCP)" tcp "$A2" 198.51.100.2 80
ok "... and its connection is tracked as the host's address" \
	sh -c "ip netns exec '$H' conntrack -L -p tcp -s 10.0.0.12 2>/dev/null | grep -q 'dst=198.51.100.1 '"
ok "the host's own connection to a guest works" tcp "$H" 10.0.0.12 9000
ok "a guest reaches the host's allowed port" udp "$A2" "$HOST4" 53 "$H"
ok "b1 stops" stop_guest b1
ok "no tracked connection of b1's addresses survives its stop" \
	sh -c "! ip netns exec '$H' conntrack -L 2>/dev/null | grep -Eq '=(10.0.0.11|fd00:10::11) '"

done_testing
