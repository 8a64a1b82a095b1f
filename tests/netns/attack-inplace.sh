#!/bin/bash
# Issue 14, item 7: the event fast path trusts a table edited in place. Its
# probe compares rule counts and the skeleton's mark, so a set flushed by
# hand, a rule replaced by an accept with the count unchanged, or a foreign
# element added to a set stays open through every fast-path event. After
# such an edit, ONE event of another guest must detect that someone else
# committed, verify fully and repair: isolation holds again. (Other
# tenants' chains included: the edit is the same foreign commit.) Last,
# issue 14's item 4 on the same table: a commit between the probe and the
# batch. nftables only: the fast path is the nftables backend's.
set -u
. "$top_srcdir/tests/netns/lib-netns.sh"
require_root_tier ip nft socat python3
[ -x "$HOOK" ] || tap_skip_all "hook not built: $HOOK"
[ "${NETISO_BACKEND:-nftables}" = nftables ] || tap_skip_all "the fast path is the nftables backend's"

TAP_LOG="$WORK/tap.log"
write_config
topology_up
guest_up a1 vnet1 10.0.0.11 fd00:10::11
guest_up b1 vnet3 10.0.0.13 fd00:10::13
guest_up u vnet9 10.0.0.19 fd00:10::19 # a guest-like tap the hook never saw
A1=$(guest_ns a1) B1=$(guest_ns b1) U=$(guest_ns u)
export BLIXARD_NETISO_NFT_TRACE="$WORK/trace"
ok "a1 starts (tenant A)" start_guest a1 A vnet1 10.0.0.11 fd00:10::11
ok "b1 starts (tenant B)" start_guest b1 B vnet3 10.0.0.13 fd00:10::13

handle_of() { # handle_of CHAIN TEXT: the handle of the first rule of CHAIN containing TEXT
	nft_h -a list chain inet blixard "$1" | grep -F -- "$2" | sed -n 's/.*# handle \([0-9]*\)$/\1/p' | head -n 1
}
# replace CHAIN TEXT: that rule becomes "accept" (the chain's rule count unchanged)
replace() {
	local h
	h=$(handle_of "$1" "$2")
	[ -n "$h" ] && nft_h replace rule inet blixard "$1" handle "$h" accept
}
in_chain() { # in_chain CHAIN TEXT
	nft_h list chain inet blixard "$1" | grep -qF -- "$2"
}
in_set() { # in_set SET TEXT
	nft_h list set inet blixard "$1" | grep -qF -- "$2"
}
spoofed_udp() { # spoofed_udp NS SRC DST TARGET: a datagram from SRC arrives
	local r
	spoof_add "$1" "$2"
	udp "$1" "$3" 5555 "$4" "$2"
	r=$?
	spoof_del "$1" "$2"
	return $r
}
leaks_cluster() { udp "$A1" 172.16.0.2 53 "$C" || udp "$A1" fd00:172::2 53 "$C"; }
b1_reaches_a1() { tcp "$B1" 10.0.0.11 9000 || tcp "$B1" fd00:10::11 9000; }
u_reaches_internet() { tcp "$U" 198.51.100.2 80; }
a1_spoofs_b1() { spoofed_udp "$A1" 10.0.0.13 198.51.100.2 "$I"; }

fails "control: a1 does not reach the cluster" leaks_cluster
fails "control: b1 does not reach a1" b1_reaches_a1
fails "control: the tap nobody installed passes nothing" u_reaches_internet

N=0
# event: ONE hook event of another guest (tenant A): eN starts on vnet(100+N)
event() {
	N=$((N + 1))
	domain_xml e$N A vnet$((100 + N)) 10.0.1.$N fd00:10::1:$N >"$WORK/e$N.xml"
	in_ns "$H" "$HOOK" e$N start begin - <"$WORK/e$N.xml"
}

# reset: the table as the hooks render it, whatever the previous case left
# (a deleted table and every guest's event again)
reset() {
	local i
	nft_h delete table inet blixard
	hook a1 start begin "$WORK/a1.xml" && hook b1 start begin "$WORK/b1.xml" || return 1
	for i in $(seq 1 $N); do
		in_ns "$H" "$HOOK" e$i start begin - <"$WORK/e$i.xml" || return 1
	done
}

# case_ DESCRIPTION EDIT LEAK RESTORED...: EDIT changes the table in place
# and LEAK then succeeds (the control that the edit opened something);
# after one event of another guest LEAK must fail and RESTORED hold.
case_() {
	local desc=$1 edit=$2 leak=$3
	shift 3
	reset || echo "Bail out! the table could not be rebuilt before: $desc"
	ok "$desc: the edit is made" "$edit"
	ok "$desc: control: the edit opened the firewall" "$leak"
	local seen
	seen=$(wc -l <"$WORK/trace" 2>/dev/null || echo 0)
	ok "$desc: another guest's event succeeds" event
	diag "trace: $(tail -n +$((seen + 1)) "$WORK/trace" 2>/dev/null | tr '\n' ' ')"
	fails "$desc: after one event, the firewall is closed again" "$leak"
	ok "$desc: after one event, the edited object is as rendered" "$@"
}

# The edits, each a commit of someone else's.
flush_cluster_v4() { nft_h flush set inet blixard cluster_v4; }
flush_cluster_v6() { nft_h flush set inet blixard cluster_v6; }
replace_cluster_rule() { replace from_guest "ip daddr @cluster_v4 jump drop_guest"; }
replace_tenant_rule() { replace tenant-B "oifname @tenant-B-ifs accept"; }
replace_fail_closed() { replace forward 'iifname "vnet*" counter'; }
a1_into_tenant_b() { nft_h add element inet blixard tenant-B-ifs '{ "vnet1" }'; }
b1_address_to_a1() { nft_h add element inet blixard guest_src_v4 '{ "vnet1" . 10.0.0.13 }'; }
# The leaks they open.
a1_reaches_cluster_v4() { udp "$A1" 172.16.0.2 53 "$C"; }
a1_reaches_cluster_v6() { udp "$A1" fd00:172::2 53 "$C"; }
# What must be back.
no_element() { ! nft_h list set inet blixard "$1" | grep -qF -- "$2"; }

case_ "set cluster_v4 flushed by hand" flush_cluster_v4 a1_reaches_cluster_v4 \
	in_set cluster_v4 172.16.0.0/12
case_ "set cluster_v6 flushed by hand" flush_cluster_v6 a1_reaches_cluster_v6 \
	in_set cluster_v6 fd00:172::/64
case_ "from_guest's cluster rule replaced by accept (same rule count)" \
	replace_cluster_rule a1_reaches_cluster_v4 \
	in_chain from_guest "ip daddr @cluster_v4 jump drop_guest"
case_ "tenant B's chain rule replaced by accept (same rule count)" \
	replace_tenant_rule b1_reaches_a1 \
	in_chain tenant-B "oifname @tenant-B-ifs accept"
case_ "a1's tap added to tenant B's set by hand" a1_into_tenant_b b1_reaches_a1 \
	no_element tenant-B-ifs '"vnet1"'
case_ "b1's address added to a1's anti-spoofing pairs by hand" b1_address_to_a1 a1_spoofs_b1 \
	no_element guest_src_v4 '"vnet1" . 10.0.0.13'
case_ "forward's fail-closed drop for vnet* replaced by accept (same rule count)" \
	replace_fail_closed u_reaches_internet \
	in_chain forward 'iifname "vnet*" counter'

# Item 4 of the issue, on the same table: someone commits between the fast
# path's probe and its batch. The hook is held at its batch's sendmsg()
# (queries go out with sendto(), a batch with sendmsg(), as libnftables
# does) while from_guest's cluster rule is replaced by accept; the batch,
# bound to the ruleset generation the probe saw, must not commit as if
# nothing happened: after the event the firewall is closed again.
# stopped_long PID: the process sits in a ptrace stop (strace's injected
# delay) for half a second, not merely passing a traced system call
stopped_long() {
	local i
	for i in 1 2 3 4 5 6; do
		[ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = t ] || return 1
		sleep 0.1
	done
}
held_event() {
	local st child
	N=$((N + 1))
	domain_xml e$N A vnet$((100 + N)) 10.0.1.$N fd00:10::1:$N >"$WORK/e$N.xml"
	# LeakSanitizer cannot run under ptrace: no leak check in an ASan build here.
	ip netns exec "$H" env "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		strace -f -o /dev/null -e trace=sendmsg \
		-e inject=sendmsg:delay_enter=5000000:when=1 \
		"$HOOK" e$N start begin - <"$WORK/e$N.xml" >/dev/null 2>"$WORK/held.err" &
	st=$!
	within "$DEADLINE" sh -c "pgrep -P $st >/dev/null" && child=$(pgrep -P $st | head -n 1)
	HELD=no
	if [ -n "${child:-}" ] && within 4 stopped_long "$child"; then
		HELD=yes
		replace_cluster_rule
	fi
	wait "$st"
}
if command -v strace >/dev/null 2>&1; then
	reset || echo "Bail out! the table could not be rebuilt before the held event"
	seen=$(wc -l <"$WORK/trace" 2>/dev/null || echo 0)
	ok "a commit between probe and batch: the held event succeeds" held_event
	diag "trace: $(tail -n +$((seen + 1)) "$WORK/trace" 2>/dev/null | tr '\n' ' ')"
	ok "a commit between probe and batch: control: the hook was held at its batch while the rule was replaced" \
		test "$HELD" = yes
	fails "a commit between probe and batch: after the event, the firewall is closed again" a1_reaches_cluster_v4
	ok "a commit between probe and batch: after the event, from_guest's rule is as rendered" \
		in_chain from_guest "ip daddr @cluster_v4 jump drop_guest"
else
	TAP_COUNT=$((TAP_COUNT + 1))
	echo "ok $TAP_COUNT - a commit between probe and batch # SKIP needs strace"
fi

done_testing
