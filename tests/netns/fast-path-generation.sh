#!/bin/bash
# The fast path trusts table inet blixard only while nobody else has
# committed since our own last commit (the kernel's ruleset generation):
# a shared set flushed by hand or a skeleton rule replaced in place (the
# rule count unchanged) is repaired by the next event instead of staying
# open; a commit between the fast path's probe and its batch aborts the
# batch, and the event is done on the full path; a record of another
# network namespace is not trusted.
set -u
. "$top_srcdir/tests/netns/lib-netns.sh"
BACKEND=nftables
require_root_tier nft socat strace
[ -x "$HOOK" ] || tap_skip_all "hook not built: $HOOK"

TAP_LOG="$WORK/tap.log"
TRACE="$WORK/trace"
export BLIXARD_NETISO_NFT_TRACE="$TRACE"
write_config
topology_up
guest_up a1 vnet1 10.0.0.11 fd00:10::11
A1=$(guest_ns a1)
wait_ports

last_path() {
	tail -n 1 "$TRACE"
}
path_is() {
	last_path | grep -Eq -- "$1" || {
		echo "last event: $(last_path)"
		return 1
	}
}
# cluster_closed: a1 reaches no cluster service, IPv4 or IPv6
cluster_closed() {
	! tcp "$A1" 172.16.0.2 7000 && ! tcp "$A1" fd00:172::2 7000
}
# cluster_open: a1 reaches the cluster (the attack works)
cluster_open() {
	tcp "$A1" 172.16.0.2 7000 && tcp "$A1" fd00:172::2 7000
}
# two_events: a guest of a1's tenant starts and stops (no traffic needed)
two_events() {
	start_guest g3 A vnet3 10.0.0.13 fd00:10::13 && stop_guest g3
}
# two_events_fast: the three nftables events of two_events were all fast
two_events_fast() {
	[ "$(tail -n 3 "$TRACE" | grep -c ' fast g3$')" -eq 3 ]
}
skeleton() {
	local c
	for c in forward input output from_guest to_guest guest_to_host drop_spoof drop_guest \
		drop_inbound; do
		nft_h list chain inet blixard "$c"
	done | sed -E 's/packets [0-9]+ bytes [0-9]+/packets N bytes N/'
	nft_h list set inet blixard cluster_v4
	nft_h list set inet blixard cluster_v6
}

ok "a1 starts" start_guest a1 A vnet1 10.0.0.11 fd00:10::11
ok "g3 starts and stops (tenant A is set up)" two_events
ok "events of an untouched table take the fast path" two_events_fast
skeleton >"$WORK/skeleton"
ok "a1 cannot reach the cluster" cluster_closed

# ---- a shared set flushed by hand ----
nft_h flush set inet blixard cluster_v4
nft_h flush set inet blixard cluster_v6
ok "with cluster_v4/v6 flushed by hand, a1 reaches the cluster (the attack)" cluster_open
ok "two events after the flush succeed" two_events
ok "the first took the full path: someone else committed" \
	grep -q '^install slow g3: the ruleset changed since our last commit' "$TRACE"
ok "cluster_v4 and cluster_v6 hold the configuration again" diff -u "$WORK/skeleton" <(skeleton)
ok "a1 cannot reach the cluster after the events" cluster_closed
ok "and the events after the repair are fast again" two_events
ok "(both of them)" two_events_fast

# ---- a skeleton rule replaced in place, the rule count unchanged ----
replace_rule() { # replace_rule CHAIN PATTERN RULE
	local handle
	handle=$(nft_h -a list chain inet blixard "$1" | grep -F -- "$2" | sed -n 's/.*# handle \([0-9]*\)$/\1/p')
	[ -n "$handle" ] && nft_h replace rule inet blixard "$1" handle "$handle" $3
}
replace_cluster_drops() {
	replace_rule from_guest 'ip daddr @cluster_v4' accept &&
		replace_rule from_guest 'ip6 daddr @cluster_v6' accept
}
ok "from_guest's cluster drops are replaced by accept" replace_cluster_drops
ok "the replaced rules let a1 reach the cluster (the attack)" cluster_open
ok "two events after the replacement succeed" two_events
ok "the first took the full path" grep -q '^install slow g3: the ruleset changed since our last commit' "$TRACE"
ok "the skeleton is as rendered again" diff -u "$WORK/skeleton" <(skeleton)
ok "a1 cannot reach the cluster after the events" cluster_closed

# ---- someone else commits elsewhere: one full-path event, then fast again ----
nft_h add table inet other
nft_h add set inet other s '{ type ipv4_addr; }'
nft_h add element inet other s '{ 192.0.2.1 }'
ok "an event after a commit to another table succeeds" two_events
ok "it took the full path" grep -q '^install slow g3: the ruleset changed since our last commit' "$TRACE"
ok "the stop after it took the fast path" path_is '^remove fast g3$'

# ---- a commit between the fast path's probe and its batch ----
# The hook is held at its batch's sendmsg() (after the probe); meanwhile
# someone flushes cluster_v4. The batch must be refused (it was bound to
# the generation the probe saw) and the event done on the full path.
domain_xml g4 A vnet4 10.0.0.14 fd00:10::14 >"$WORK/g4.xml"
# LeakSanitizer cannot run under ptrace: no leak check in an ASan build here.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" ip netns exec "$H" strace -f --seccomp-bpf -o /dev/null -e trace=sendmsg \
	-e inject=sendmsg:delay_enter=4000000:when=1 \
	"$HOOK" g4 start begin - <"$WORK/g4.xml" >"$WORK/g4.out" 2>&1 &
held=$!
# held_at_sendmsg: the hook sits in strace's delay before its first sendmsg
held_at_sendmsg() {
	local child
	for _ in $(seq 1 100); do
		child=$(pgrep -P "$held" | head -n 1)
		[ -n "$child" ] && [ "$(awk '{print $3}' "/proc/$child/stat" 2>/dev/null)" = t ] && return 0
		sleep 0.05
	done
	return 1
}
ok "the hook is held before its batch" held_at_sendmsg
nft_h flush set inet blixard cluster_v4
wait "$held"
status=$?
ok "the held event succeeds (exit $status)" test "$status" = 0
ok "its fast batch was refused for the generation and it took the full path" \
	grep -q '^install slow g4: the ruleset changed between the probe and the commit' "$TRACE"
ok "cluster_v4 holds the configuration again" diff -u "$WORK/skeleton" <(skeleton)
ok "a1 cannot reach the cluster" cluster_closed
ok "g4 is installed" sh -c "ip netns exec '$H' nft list set inet blixard guest_ifs | grep -q '\"vnet4\"'"
hook g4 stopped end "$WORK/g4.xml"

# ---- a record of another network namespace is not trusted ----
two_events
sed -i -E 's/^([^ ]+) c([0-9]+) /\1 c1\2 /' "$STATE_DIR/nft-generation"
ok "an event with the record of another namespace succeeds" two_events
ok "it took the full path" grep -q '^install slow g3: our last commit is recorded for another' "$TRACE"

done_testing
