#!/bin/bash
# Issue 14, item 4: the event fast path with guests of many addresses. A
# guest of 60, 200 and 256 addresses (IPv4 and IPv6 mixed, 256 is the most
# an interface may have) is installed through the fast path: on main the
# acknowledgements of a large batch overflow the receive buffer (ENOBUFS),
# the hook reports a failure although the kernel committed, the record is
# rolled back and the elements stay: a later guest on that tap sends from
# addresses it was never given and their new owner is refused. Also: purge
# while a hook holds the lock waits for the lock.
# NETISO_BACKEND selects the backend (nftables by default).
set -u
. "$top_srcdir/tests/netns/lib-netns.sh"
require_root_tier ip socat python3 flock
require_backend_tools
[ -x "$HOOK" ] || tap_skip_all "hook not built: $HOOK"

TAP_LOG="$WORK/tap.log"
write_config
topology_up
export BLIXARD_NETISO_NFT_TRACE="$WORK/trace"
guest_up g0 vnet100 10.0.1.1 fd00:10::1:1
ok "g0 starts (tenant A): the first event writes the skeleton" start_guest g0 A vnet100 10.0.1.1 fd00:10::1:1

# addrs N: N addresses, half IPv4 (10.0.N.1...) and half IPv6 (fd00:10::N:1...)
addrs() {
	local i
	for i in $(seq 1 $(($1 / 2))); do
		echo "10.0.$(($1 % 250)).$i fd00:10::$1:$i"
	done
}
# in_table ADDR: the backend holds an element or rule naming ADDR
in_table() {
	fw_state | grep -Eq -- "(^|[^0-9a-f:.])$1([^0-9a-f:.]|\$)"
}
# count_in_table ADDR...: how many of these addresses the backend names
count_in_table() {
	local a state n=0
	state=$(fw_state)
	for a in "$@"; do
		grep -Eq -- "(^|[^0-9a-f:.])$a([^0-9a-f:.]|\$)" <<<"$state" && n=$((n + 1))
	done
	echo $n
}
# has_record NAME: the state directory holds a record of domain NAME
has_record() {
	test -e "$STATE_DIR/domains/$1.state" || grep -qx "name=$1" "$STATE_DIR"/domains/* 2>/dev/null
}
# whole_or_nothing RC PRESENT N TAP: exit 0 with all N addresses, or a
# failure with none of them and nothing naming the tap
whole_or_nothing() {
	if [ "$1" = 0 ]; then
		[ "$2" = "$3" ]
	else
		[ "$2" = 0 ] && [ "$(mentions "$4")" = 0 ]
	fi
}
# record_agrees NAME PRESENT: a record exactly when addresses are installed
record_agrees() {
	if [ "$2" = 0 ]; then ! has_record "$1"; else has_record "$1"; fi
}

for n in 60 200 256; do
	tap=vnet$n
	# shellcheck disable=SC2207
	all=($(addrs $n))
	first4=${all[0]} first6=${all[1]} last4=${all[$((n - 2))]} last6=${all[$((n - 1))]}
	diag "a guest of $n addresses on $tap"
	domain_xml_addrs big$n A $tap "${all[@]}" >"$WORK/big$n.xml"
	domain_xml_addrs big$n A - "${all[@]}" >"$WORK/big$n-release.xml"
	in_ns "$H" "$HOOK" big$n start begin - <"$WORK/big$n.xml" 2>"$WORK/big$n.err"
	rc=$?
	[ -s "$WORK/big$n.err" ] && diag "hook: $(head -c 300 "$WORK/big$n.err")"
	[ -e "$WORK/trace" ] && diag "trace: $(tail -n 1 "$WORK/trace")"
	present=$(count_in_table "${all[@]}")
	diag "hook exit $rc, $present of $n addresses in the firewall"
	ok "big$n: the hook installs all $n addresses, or fails and leaves none" \
		whole_or_nothing $rc "$present" $n $tap
	ok "big$n: the hook succeeds ($n addresses are within the 256 an interface may have)" test $rc = 0
	ok "big$n: its record exists exactly when its state does" record_agrees big$n "$present"
	# libvirt's teardown: stopped, then release, whatever the start said
	in_ns "$H" "$HOOK" big$n stopped end - <"$WORK/big$n.xml"
	ok "big$n: stopped succeeds" test $? = 0
	in_ns "$H" "$HOOK" big$n release end - <"$WORK/big$n-release.xml"
	ok "big$n: after its stop no element names its tap" test "$(mentions $tap)" = 0
	ok "big$n: after its stop none of its $n addresses is left in the firewall" \
		test "$(count_in_table "${all[@]}")" = 0
	fails "big$n: after its stop no record is left" has_record big$n

	# A later guest on the same tap, of another tenant, with one address.
	guest_up later$n $tap 10.0.9.$((n % 250)) fd00:10::9:$n
	ns=$(guest_ns later$n)
	ok "later$n starts (tenant B) on $tap" start_guest later$n B $tap 10.0.9.$((n % 250)) fd00:10::9:$n
	ok "later$n sends from its own address" udp "$ns" 198.51.100.2 5555 "$I" 10.0.9.$((n % 250))
	for a in "$first4" "$last4" "$first6" "$last6"; do
		dst=198.51.100.2
		case $a in *:*) dst=2001:db8:100::2 ;; esac
		spoof_add "$ns" "$a"
		fails "later$n cannot send from big$n's address $a" udp "$ns" $dst 5555 "$I" "$a"
		spoof_del "$ns" "$a"
	done
	# The addresses' new owner is not refused.
	domain_xml owner$n C vnet$((n + 1000)) "$first4" "$last6" >"$WORK/owner$n.xml"
	ok "owner$n, given big$n's addresses $first4 and $last6, starts" \
		sh -c "ip netns exec '$H' '$HOOK' owner$n start begin - <'$WORK/owner$n.xml'"
done

# ---- purge takes the lock ----
diag "purge while a hook holds the lock"
LOCK="$STATE_DIR/lock"
rm -f "$WORK/held" "$WORK/release"
flock "$LOCK" sh -c "touch '$WORK/held'; while [ ! -e '$WORK/release' ]; do sleep 0.05; done" &
holder=$!
PIDS+=("$holder")
ok "control: the lock is held" wait_file "$WORK/held"
before=$(fw_state | wc -l)
in_ns "$H" "$CLI" purge >"$WORK/purge.out" 2>&1 &
purge=$!
ok "purge does not finish while the lock is held (1.5 s)" never_within 1.5 sh -c "! kill -0 $purge 2>/dev/null"
ok "purge changed nothing while the lock is held" test "$(fw_state | wc -l)" = "$before"
touch "$WORK/release"
wait "$holder"
ok "purge finishes once the lock is released" within "$DEADLINE" sh -c "! kill -0 $purge 2>/dev/null"
wait "$purge"
ok "purge succeeds" test $? = 0
ok "after purge nothing names g0's tap" test "$(mentions vnet100)" = 0

done_testing
