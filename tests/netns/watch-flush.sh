#!/bin/bash
# Someone else flushes or edits the firewall under running guests: `nft flush
# ruleset` (what Debian's `systemctl restart nftables` does), a deleted table,
# a flushed chain or set, a deleted element, a rule replaced by an accept, and
# for iptables a flushed built-in chain or a rule inserted above our jump.
# `blixard-netiso watch` must put the records' state back from nf_tables'
# notifications alone: its safety timer is set to an hour and libvirtd is
# unreachable. Each damage is followed by exactly one restore (the restore's
# own notifications start no other), our own hook's events and other tables'
# changes by none, and the guests are isolated again afterwards.
# watch-flush-iptables.sh runs it on iptables-nft, watch-flush-iptables-legacy.sh
# on iptables-legacy (no notifications: a one-second timer instead).
set -u
. "$top_srcdir/tests/netns/lib-netns.sh"
require_root_tier ip socat python3
require_backend_tools
[ -x "$HOOK" ] || tap_skip_all "hook not built: $HOOK"
[ -x "$CLI" ] || tap_skip_all "command-line tool not built: $CLI"
LEGACY=${NETISO_WATCH_LEGACY:-0}

TAP_LOG="$WORK/tap.log"
write_config
topology_up
guest_up a1 vnet1 10.0.0.11 fd00:10::11
guest_up b1 vnet3 10.0.0.13 fd00:10::13
A1=$(guest_ns a1) B1=$(guest_ns b1)
B1NS=$(guest_ns b1)
wait_ports
ok "a1 starts (tenant A)" start_guest a1 A vnet1 10.0.0.11 fd00:10::11
ok "b1 starts (tenant B)" start_guest b1 B vnet3 10.0.0.13 fd00:10::13

# The firewall's state, counters aside and set elements sorted.
state() {
	fw_state | sed -E 's/ packets [0-9]+ bytes [0-9]+//g' | python3 -c '
import re, sys
text = sys.stdin.read()
def ordered(m):
    items = sorted(i.strip() for i in m.group(2).split(","))
    return m.group(1) + ", ".join(items) + " }"
sys.stdout.write(re.sub(r"(elements = \{ )(.*?)\s*\}", ordered, text, flags=re.S))
'
}

WATCH_LOG="$WORK/watch.log"
interval=3600
[ "$LEGACY" = 1 ] && interval=1
# No libvirtd answers this socket: watch must work from the records alone.
ip netns exec "$H" "$CLI" watch --connect "qemu+unix:///system?socket=$WORK/no-libvirtd" \
	--interval "$interval" >"$WATCH_LOG" 2>&1 &
WATCH_PID=$!
PIDS+=("$WATCH_PID")
watching() { grep -q 'watching' "$WATCH_LOG"; }
wait_for() { # SECONDS COMMAND...: polls every 20 ms
	local deadline=$(($(date +%s%N) + $1 * 1000000000))
	shift
	until "$@"; do
		[ "$(date +%s%N)" -lt "$deadline" ] || return 1
		sleep 0.02
	done
}
ok "watch starts without libvirtd" wait_for 20 watching
want=$(state)
restores() { grep -c 'restored .* from the records' "$WATCH_LOG"; }
# Rules of others (IGNORE, a regex) are left where they are.
IGNORE='^$'
intact() { [ "$(state | grep -Ev -- "$IGNORE")" = "$(grep -Ev -- "$IGNORE" <<<"$want")" ]; }

isolated() {
	fails "a1 -> the cluster is dropped" tcp "$A1" 172.16.0.2 7000
	fails "a1 -> b1 (another tenant) is dropped" udp "$A1" 10.0.0.13 5555 "$B1NS"
	fails "b1 -> a1 over IPv6 is dropped" udp "$B1" fd00:10::11 5555 "$A1"
	ok "a1 -> the internet still works" tcp "$A1" 198.51.100.2 80
}

# damage DESCRIPTION COMMAND...: run COMMAND in the host namespace, then the
# state must come back, by one restore (RESTORES), and isolate again.
RESTORES=1
damage() {
	local desc=$1 before t0 t1
	shift
	before=$(restores)
	t0=$(date +%s%N)
	in_ns "$H" "$@" >"$WORK/damage.out" 2>&1 || { diag "$* failed: $(cat "$WORK/damage.out")"; }
	if wait_for 20 intact; then
		t1=$(date +%s%N)
		ok "$desc: restored" true
		diag "$desc: back after $(((t1 - t0) / 1000000)) ms (including the command itself)"
	else
		ok "$desc: restored" diff <(echo "$want") <(state)
	fi
	sleep 1 # time for a second, looping restore to show itself
	ok "$desc: $RESTORES restore(s)" test "$(restores)" -eq $((before + RESTORES))
	isolated
}

case $BACKEND in
iptables)
	[ "$LEGACY" = 1 ] || damage "nft flush ruleset" nft flush ruleset
	damage "iptables -F FORWARD" iptables -w -F FORWARD
	damage "ip6tables -F BLIXARD_VM_FWD" ip6tables -w -F BLIXARD_VM_FWD
	damage "ip6tables -D INPUT 1 (our jump)" ip6tables -w -D INPUT 1
	damage "iptables -F on a dispatch chain" iptables -w -F BLXFI-
	# Our jump goes back above someone's accept, which stays.
	IGNORE='^-A FORWARD -j ACCEPT$'
	damage "iptables -I FORWARD -j ACCEPT" iptables -w -I FORWARD -j ACCEPT
	ok "our jump is FORWARD's first rule again" \
		test "$(in_ns "$H" iptables -S FORWARD | sed -n 2p)" = "-A FORWARD -j BLIXARD_VM_FWD"
	IGNORE='^$'
	# Notifications do not tell harmless changes of FORWARD from others; a
	# check on a timer (legacy) sees that nothing of ours changed.
	[ "$LEGACY" = 1 ] && RESTORES=0
	damage "iptables -D FORWARD -j ACCEPT (someone's rule)" iptables -w -D FORWARD -j ACCEPT
	RESTORES=1
	;;
*)
	damage "nft flush ruleset" nft flush ruleset
	damage "delete table inet blixard" nft delete table inet blixard
	damage "flush chain forward" nft flush chain inet blixard forward
	damage "flush table inet blixard" nft flush table inet blixard
	damage "flush set cluster_v4" nft flush set inet blixard cluster_v4
	damage "delete a1's IPv4 source element" \
		nft delete element inet blixard guest_src_v4 '{ "vnet1" . 10.0.0.11 }'
	damage "insert an accept at the top of forward" nft insert rule inet blixard forward accept
	damage "add b1's tap to tenant A's set (A would reach b1)" \
		nft add element inet blixard tenant-A-ifs '{ "vnet3" }'
	damage "add a tenant chain and set that no guest has" \
		nft -f - <<<'add chain inet blixard tenant-Z
add set inet blixard tenant-Z-ifs { type ifname; elements = { "vnet3" } }
add rule inet blixard tenant-Z oifname @tenant-Z-ifs accept'
	ok "the stray tenant is gone" sh -c "! ip netns exec '$H' nft list chain inet blixard tenant-Z"
	handle=$(nft_h -a list chain inet blixard from_guest | sed -n 's/.*ip daddr @cluster_v4 .*# handle \([0-9]*\)$/\1/p')
	damage "replace the cluster drop by an accept (same rule count)" \
		nft replace rule inet blixard from_guest handle "${handle:-0}" ip daddr @cluster_v4 accept
	;;
esac

# A TCP connection that a guest opened to the cluster while the firewall was
# open is tracked as established; it is bound to no guest install (no zone,
# no mark), so once the table is back its packets are dropped.
serve "$C" socat TCP-LISTEN:7001,reuseaddr,fork EXEC:cat
cat >"$WORK/connect.py" <<'EOP'
import socket, sys, time
deadline, s = time.time() + 4, None
while time.time() < deadline and s is None:
    try:
        s = socket.create_connection(("172.16.0.2", 7001), timeout=0.005)
    except OSError:
        pass
if s is None:
    sys.exit(print("never"))
time.sleep(2.5)  # well after the repair
s.settimeout(2)
try:
    s.sendall(b"ping\n")
    print("alive" if s.recv(16) == b"ping\n" else "dead")
except OSError:
    print("dead")
EOP
sleep 0.3
in_ns "$A1" python3 "$WORK/connect.py" >"$WORK/connect.out" 2>&1 &
connector=$!
sleep 0.5
if [ "$BACKEND" = iptables ]; then
	in_ns "$H" iptables -w -F FORWARD
else
	in_ns "$H" nft flush ruleset
fi
wait "$connector"
wait_for 20 intact
case $(cat "$WORK/connect.out") in
never)
	TAP_COUNT=$((TAP_COUNT + 1))
	echo "ok $TAP_COUNT - a connection opened to the cluster during the window # SKIP none got through"
	;;
dead) ok "a connection opened to the cluster during the window is cut by the repair" true ;;
*) ok "a connection opened to the cluster during the window is cut by the repair" false ;;
esac

# The lock held past its 20 s timeout (a stuck hook): the restore fails, says
# so, and is tried again until it succeeds once the lock is free.
in_ns "$H" flock "$STATE_DIR/lock" sleep 24 &
holder=$!
sleep 0.5
if [ "$BACKEND" = iptables ]; then
	in_ns "$H" iptables -w -F FORWARD
else
	in_ns "$H" nft flush ruleset
fi
ok "with the lock held, the restore fails and says so" \
	wait_for 60 grep -q "lock: still locked" "$WATCH_LOG"
wait "$holder"
ok "... and is tried again until it succeeds once the lock is free" wait_for 60 intact
isolated

# What must not start a restore: our own hook, and tables that are not ours.
before=$(restores)
ok "b1 stops under watch" stop_guest b1
ok "b1 starts again under watch" start_guest b1 B vnet3 10.0.0.13 fd00:10::13
in_ns "$H" nft add table inet someone-else
in_ns "$H" nft add chain inet someone-else c
in_ns "$H" nft delete table inet someone-else
sleep 1
ok "our hook's events and another table's changes start no restore" \
	test "$(restores)" -eq "$before"
# (b1's new start has a new flow id: the table is not as before, but whole.)
ok "status finds the table whole" in_ns "$H" "$CLI" status

kill "$WATCH_PID" 2>/dev/null
wait "$WATCH_PID" 2>/dev/null
ok "watch stops on SIGTERM" test $? = 0
diag "watch's log:"
sed 's/^/#   /' "$WATCH_LOG" | tail -n 40
done_testing
