#!/bin/bash
# What only the iptables backend has to prove, with the real hook and kernel:
# ordinary events are deltas (no rebuild), taps whose names prefix each other
# are dispatched right as they come and go, a refused IPv6 batch leaves IPv4
# as it was, and the jumps from FORWARD/INPUT/OUTPUT come back to the top
# after someone inserted rules above them or flushed the built-in chains.
set -u
. "$top_srcdir/tests/netns/lib-netns.sh"
require_root_tier ip socat ping iptables ip6tables iptables-restore ip6tables-restore \
	iptables-save ip6tables-save
[ -x "$HOOK" ] || tap_skip_all "hook not built: $HOOK"

TAP_LOG="$WORK/tap.log"
BACKEND=iptables
NETISO_BACKEND=iptables write_config
topology_up
guest_up a1 vnet1 10.0.0.11 fd00:10::11
guest_up a2 vnet12 10.0.0.12 fd00:10::12   # vnet1 is a prefix of vnet12
guest_up b1 vnet3 10.0.0.13 fd00:10::13
A1=$(guest_ns a1) A2=$(guest_ns a2) B1=$(guest_ns b1)
wait_ports

# hook_logged NAME OP SUB XML: the hook with GLib's info messages on.
hook_logged() {
	in_ns "$H" env G_MESSAGES_DEBUG=all "$HOOK" "$1" "$2" "$3" - <"$4" 2>&1
}
rebuilds() {
	grep -c 'rebuilding from the records' || true
}
v4_sorted() {
	in_ns "$H" iptables-save -t filter | grep -v '^#' | sed 's/ \[[0-9]*:[0-9]*\]$//' | sort
}

domain_xml a1 A vnet1 10.0.0.11 fd00:10::11 >"$WORK/a1.xml"
domain_xml a1 A - 10.0.0.11 fd00:10::11 >"$WORK/a1-prepare.xml"
out=$(hook_logged a1 start begin "$WORK/a1.xml")
ok "a1 starts: the first event finds nothing and builds everything" test "$(rebuilds <<<"$out")" -ge 1
domain_xml a2 A vnet12 10.0.0.12 fd00:10::12 >"$WORK/a2.xml"
domain_xml a2 A - 10.0.0.12 fd00:10::12 >"$WORK/a2-prepare.xml"
out=$(hook_logged a2 start begin "$WORK/a2.xml")
ok "a2 starts as a delta, no rebuild" test "$(rebuilds <<<"$out")" -eq 0
out=$(hook_logged a2 started begin "$WORK/a2.xml")
ok "started (a re-apply) checks a2's rules without a rebuild" test "$(rebuilds <<<"$out")" -eq 0
ok "status is clean" in_ns "$H" "$CLI" status

# vnet1 and vnet12 share the trie node vnet1.
ok "a1 (vnet1) -> a2 (vnet12)" tcp "$A1" 10.0.0.12 9000
ok "a2 (vnet12) -> a1 (vnet1)" tcp "$A2" fd00:10::11 9000
out=$(hook_logged a1 stopped end "$WORK/a1.xml")
ok "a1 stops as a delta, no rebuild" test "$(rebuilds <<<"$out")" -eq 0
ok "nothing names vnet1 once a1 is gone" test "$(mentions vnet1)" -eq 0
ok "a2 still reaches the internet" tcp "$A2" 198.51.100.2 80
fails "a1's tap is closed" tcp "$A1" 198.51.100.2 80
ok "a1 starts again next to vnet12" start_guest a1 A vnet1 10.0.0.11 fd00:10::11
ok "a1 -> a2 again" tcp "$A1" 10.0.0.12 9000
ok "status is clean after the trie changed shape twice" in_ns "$H" "$CLI" status

# The IPv6 batch is refused: the guest is refused and IPv4 is as it was.
mkdir -p "$WORK/fakebin"
printf '#!/bin/sh\necho "ip6tables-restore: refused (test)" >&2\nexit 1\n' >"$WORK/fakebin/ip6tables-restore"
chmod +x "$WORK/fakebin/ip6tables-restore"
domain_xml b1 B vnet3 10.0.0.13 fd00:10::13 >"$WORK/b1.xml"
before=$(v4_sorted)
fails "b1 is refused when ip6tables-restore refuses" \
	in_ns "$H" env PATH="$WORK/fakebin:$PATH" "$HOOK" b1 start begin - <"$WORK/b1.xml"
ok "the IPv4 table is exactly as before" test "$before" = "$(v4_sorted)"
ok "nothing names vnet3 in either family" test "$(mentions vnet3)" -eq 0
ok "b1 has no record" test ! -e "$STATE_DIR/domains/b1.state"
fails "b1's tap passes nothing" tcp "$B1" 198.51.100.2 80
ok "b1 starts once ip6tables-restore works" hook b1 start begin "$WORK/b1.xml"
ok "b1 reaches the internet" tcp "$B1" 2001:db8:100::2 80
ok "status is clean" in_ns "$H" "$CLI" status

# Someone inserts an accept above our jump: status warns, the next event
# moves the jump back to the top, their rule stays.
in_ns "$H" iptables -w -I FORWARD 1 -i vnet1 -j ACCEPT
# (a datagram: a connection's replies would still be dropped, its flow was
# never bound to a1 by our chains)
ok "an accept above our jump lets a1 reach the cluster (bypass)" udp "$A1" 172.16.0.2 53 "$C"
ok "status warns about rules before the jump" sh -c "ip netns exec '$H' '$CLI' status | grep -q 'come before the jump to BLIXARD_VM_FWD'"
ok "the next event succeeds" hook a2 reconnect begin "$WORK/a2.xml"
fails "a1 is isolated again: the jump is first" udp "$A1" 172.16.0.2 53 "$C"
ok "their rule is still there, second" sh -c "ip netns exec '$H' iptables -w -S FORWARD | sed -n 3p | grep -q -- '-i vnet1 -j ACCEPT'"
in_ns "$H" iptables -w -D FORWARD -i vnet1 -j ACCEPT

# Someone flushes the built-in chains: our jumps are gone (fail open until
# an event, as when table inet blixard is deleted); status says so, the
# next event puts them back.
in_ns "$H" iptables -w -F FORWARD
in_ns "$H" ip6tables -w -F FORWARD
ok "after 'iptables -F FORWARD' status names the missing jump" sh -c "ip netns exec '$H' '$CLI' status | grep -q 'FORWARD does not jump to BLIXARD_VM_FWD'"
ok "the next event succeeds" hook b1 reconnect begin "$WORK/b1.xml"
fails "a1 is isolated again (cluster unreachable, v6)" tcp "$A1" fd00:172::2 7000
ok "a1 -> a2 still works" tcp "$A1" 10.0.0.12 9000
ok "status is clean again" in_ns "$H" "$CLI" status

ok "purge removes our chains" in_ns "$H" "$CLI" purge
fails "no chain or jump of ours is left" sh -c "ip netns exec '$H' iptables-save -t filter | grep -q BL || ip netns exec '$H' ip6tables-save -t filter | grep -q BL"

done_testing
