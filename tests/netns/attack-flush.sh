#!/bin/bash
# Issue 14, item 6: a flushed ruleset opens every guest. With `blixard-netiso
# watch` running, someone else flushes the ruleset (as `systemctl restart
# nftables` does), deletes our table, a chain, a set or an element, flushes
# a chain or set, or replaces a rule (for iptables: flushes BLIXARD_VM_FWD,
# deletes the jump to it, replaces a rule). Every guest's state must be back
# within a deadline WITHOUT any hook event, and traffic to the cluster and
# to another tenant blocked again. watch runs with --interval 3600, so its
# timer cannot be what repairs: it must follow nf_tables' notifications.
# watch runs without libvirtd (an unreachable URI): it then restores from
# the records, as it does today when its timer finds the table damaged.
# NETISO_BACKEND selects the backend (nftables by default).
set -u
. "$top_srcdir/tests/netns/lib-netns.sh"
require_root_tier ip socat python3
require_backend_tools
[ -x "$HOOK" ] || tap_skip_all "hook not built: $HOOK"
[ -x "$CLI" ] || tap_skip_all "command not built: $CLI"

TAP_LOG="$WORK/tap.log"
write_config
topology_up
guest_up a1 vnet1 10.0.0.11 fd00:10::11
guest_up a2 vnet2 10.0.0.12 fd00:10::12
guest_up b1 vnet3 10.0.0.13 fd00:10::13
A1=$(guest_ns a1) B1=$(guest_ns b1)
ok "a1 starts (tenant A)" start_guest a1 A vnet1 10.0.0.11 fd00:10::11
ok "a2 starts (tenant A)" start_guest a2 A vnet2 10.0.0.12 fd00:10::12
ok "b1 starts (tenant B)" start_guest b1 B vnet3 10.0.0.13 fd00:10::13

# state: everything the backend holds, comparable across a rebuild
state() {
	case $BACKEND in
	iptables) ipt_h_save | sort ;;
	*) table_text ;;
	esac
}
state >"$WORK/reference"
restored() {
	state >"$WORK/now"
	cmp -s "$WORK/reference" "$WORK/now"
}
# isolated: a1 reaches neither the cluster nor tenant B, but still a2
isolated() {
	! udp "$A1" 172.16.0.2 53 "$C" && ! udp "$A1" fd00:172::2 53 "$C" &&
		! udp "$A1" 10.0.0.13 5555 "$B1" && ! udp "$A1" fd00:10::13 5555 "$B1" &&
		tcp "$A1" 10.0.0.12 9000 && tcp "$A1" fd00:10::12 9000
}
ok "control: a1 is isolated before anything is broken" isolated

# The watcher: no libvirtd (nothing listens on that socket), and a table
# check only every hour.
NO_LIBVIRTD="qemu:///system?socket=$WORK/no-libvirtd.sock"
ip netns exec "$H" "$CLI" watch --interval 3600 --connect "$NO_LIBVIRTD" >"$WORK/watch.log" 2>&1 &
WATCH=$!
PIDS+=("$WATCH")
ok "control: watch is running (without libvirtd)" within "$DEADLINE" has_line "$WORK/watch.log" "watching"
# Its first attempt to connect has failed (nothing to reconcile against yet).
within "$DEADLINE" has_line "$WORK/watch.log" "cannot connect"

# reset: what the hooks would do if watch did not repair (so that the next
# case starts from the reference state); not counted as watch's work
reset() {
	restored && return 0
	case $BACKEND in
	iptables) ;;
	*) nft_h delete table inet blixard 2>/dev/null ;;
	esac
	hook a1 start begin "$WORK/a1.xml"
	hook a2 start begin "$WORK/a2.xml"
	hook b1 start begin "$WORK/b1.xml"
	within "$DEADLINE" restored || diag "reset did not restore the reference state"
}

# case DESCRIPTION COMMAND...: COMMAND breaks something in the host
# namespace; watch must restore the reference state by itself
case_() {
	local desc=$1 events
	shift
	reset
	events=$(wc -l <"$WORK/watch.log")
	if ! "$@" >"$WORK/break.out" 2>&1; then
		echo "Bail out! could not break the firewall: $desc: $(head -n 2 "$WORK/break.out")"
		exit 1
	fi
	ok "$desc: watch restores every guest's state within ${DEADLINE} s, without a hook event" \
		within "$DEADLINE" restored
	restored || diff "$WORK/reference" "$WORK/now" | head -n 6 | sed 's/^/# /'
	ok "$desc: a1 reaches neither the cluster nor tenant B again, and still reaches a2" isolated
	diag "watch: $(tail -n +$((events + 1)) "$WORK/watch.log" | head -n 3 | tr '\n' ' ')"
}

nft_in() {
	nft_h "$@"
}
handle_of() { # handle_of CHAIN PATTERN: the handle of the rule of CHAIN matching PATTERN
	nft_h -a list chain inet blixard "$1" | grep -F -- "$2" | sed -n 's/.*# handle \([0-9]*\)$/\1/p' | head -n 1
}
replace_cluster_rule() {
	local h
	h=$(handle_of from_guest "ip daddr @cluster_v4 jump drop_guest")
	[ -n "$h" ] && nft_h replace rule inet blixard from_guest handle "$h" accept
}

# replace_ipt_cluster_rule: the rule of BLX-REST that returns (refuses)
# packets to 172.16.0.0/12 becomes an accept, the rule count unchanged
replace_ipt_cluster_rule() {
	local n
	n=$(in_ns "$H" iptables -w -S BLX-REST | grep -v '^-N' |
		grep -n -- '-d 172.16.0.0/12 .*-j RETURN' | head -n 1 | cut -d: -f1)
	[ -n "$n" ] && in_ns "$H" iptables -w -R BLX-REST "$n" -d 172.16.0.0/12 -j ACCEPT
}

case $BACKEND in
iptables)
	case_ "nft flush ruleset" nft_in flush ruleset
	case_ "iptables -F BLIXARD_VM_FWD" in_ns "$H" iptables -w -F BLIXARD_VM_FWD
	case_ "ip6tables -F BLIXARD_VM_FWD" in_ns "$H" ip6tables -w -F BLIXARD_VM_FWD
	case_ "iptables -D FORWARD -j BLIXARD_VM_FWD" in_ns "$H" iptables -w -D FORWARD -j BLIXARD_VM_FWD
	case_ "a rule of BLX-REST replaced by an accept (iptables -R)" replace_ipt_cluster_rule
	;;
*)
	case_ "nft flush ruleset" nft_in flush ruleset
	case_ "table inet blixard deleted" nft_in delete table inet blixard
	case_ "chain forward deleted" nft_in delete chain inet blixard forward
	case_ "chain from_guest flushed" nft_in flush chain inet blixard from_guest
	case_ "set cluster_v4 flushed" nft_in flush set inet blixard cluster_v4
	case_ "one element of cluster_v6 deleted" nft_in delete element inet blixard cluster_v6 '{ fd00:172::/64 }'
	case_ "map addr_owner_v4 deleted" nft_in delete map inet blixard addr_owner_v4
	case_ "a rule of from_guest replaced by an accept" replace_cluster_rule
	;;
esac
ok "watch is still running" kill -0 "$WATCH"

done_testing
