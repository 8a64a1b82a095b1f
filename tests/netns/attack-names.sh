#!/bin/bash
# Issue 14, item 5: fail closed only by name. Only taps matching
# guest_interface_patterns (default "vnet*") are dropped while uninstalled,
# yet the hook installed a tap of any name: a guest with <target
# dev='tapx2'/> was isolated while it ran and, once its state was removed,
# its tap reached the cluster and the host. A guest interface whose tap
# matches no pattern must be refused with one line naming it, on every
# path that installs (start, reconnect, apply), and nothing of it, nor of
# the domain's other interfaces, may be installed. Controls: with the name
# among the patterns the same guest installs, and after its stop its tap
# passes nothing.
# NETISO_BACKEND selects the backend (nftables by default).
set -u
. "$top_srcdir/tests/netns/lib-netns.sh"
require_root_tier ip socat python3
require_backend_tools
[ -x "$HOOK" ] || tap_skip_all "hook not built: $HOOK"

TAP_LOG="$WORK/tap.log"
write_config
topology_up
guest_up a1 vnet1 10.0.0.11 fd00:10::11
guest_up x tapx2 10.0.0.22 fd00:10::22
A1=$(guest_ns a1) X=$(guest_ns x)
ok "a1 starts (tenant A)" start_guest a1 A vnet1 10.0.0.11 fd00:10::11

# two_ifs NAME TAP1 V4 V6 TAP2 V4 V6: a domain with two interfaces
two_ifs() {
	domain_xml "$1" A "$2" "$3" "$4" | sed '/<\/devices>/,$d'
	domain_xml "$1" A "$5" "$6" "$7" | sed -n '/<interface/,/<\/interface>/p' |
		sed "s/52:54:00:00:00:01/52:54:00:00:00:02/"
	echo "  </devices>"
	echo "</domain>"
}
# refused_naming FILE NAME: the command's error output is one line naming NAME
refused_naming() {
	[ "$(wc -l <"$1")" = 1 ] && grep -q -- "$2" "$1"
}
# nothing_of NAME TAP ADDR...: no element, rule or record of them
nothing_of() {
	local name=$1 a
	[ "$(mentions "$2")" = 0 ] || return 1
	shift 2
	for a in "$@"; do
		fw_state | grep -Eq -- "(^|[^0-9a-f:.])$a([^0-9a-f:.]|\$)" && return 1
	done
	! grep -qx "name=$name" "$STATE_DIR"/domains/* 2>/dev/null
}
# closed NS: from this namespace nothing reaches the cluster or the host
closed() {
	! tcp "$1" 172.16.0.2 7000 && ! udp "$1" 172.16.0.2 53 "$C" &&
		! tcp "$1" "$HOST4" 8080 && ! udp "$1" "$HOST4" 53 "$H" &&
		! tcp "$1" fd00:172::2 7000 && ! udp "$1" "$HOST6" 53 "$H"
}

domain_xml x1 A tapx2 10.0.0.22 fd00:10::22 >"$WORK/x1.xml"
domain_xml x1 A - 10.0.0.22 fd00:10::22 >"$WORK/x1-release.xml"
for phase in "start begin" "reconnect begin"; do
	# shellcheck disable=SC2086
	in_ns "$H" "$HOOK" x1 $phase - <"$WORK/x1.xml" 2>"$WORK/err"
	rc=$?
	ok "hook $phase: a guest interface on tap tapx2 (matches no pattern) is refused" test $rc != 0
	ok "hook $phase: the refusal is one line naming tapx2" refused_naming "$WORK/err" tapx2
	[ -s "$WORK/err" ] && diag "$(head -n 3 "$WORK/err")"
	ok "hook $phase: nothing of x1 is installed" nothing_of x1 tapx2 10.0.0.22 fd00:10::22
	# libvirt's teardown after the refusal
	in_ns "$H" "$HOOK" x1 stopped end - <"$WORK/x1.xml" 2>/dev/null
	in_ns "$H" "$HOOK" x1 release end - <"$WORK/x1-release.xml" 2>/dev/null
done
in_ns "$H" "$CLI" apply --domain-xml "$WORK/x1.xml" 2>"$WORK/err"
rc=$?
ok "apply: a guest interface on tap tapx2 is refused" test $rc != 0
ok "apply: the refusal is one line naming tapx2" refused_naming "$WORK/err" tapx2
ok "apply: nothing of x1 is installed" nothing_of x1 tapx2 10.0.0.22 fd00:10::22
in_ns "$H" "$CLI" remove --domain x1 >/dev/null 2>&1

# A domain with a proper tap and tapx2: refused whole.
guest_up m vnet7 10.0.0.17 fd00:10::17
two_ifs x2 vnet7 10.0.0.17 fd00:10::17 tapx2 10.0.0.22 fd00:10::22 >"$WORK/x2.xml"
in_ns "$H" "$HOOK" x2 start begin - <"$WORK/x2.xml" 2>"$WORK/err"
rc=$?
ok "hook: a domain with taps vnet7 and tapx2 is refused" test $rc != 0
ok "hook: the refusal is one line naming tapx2" refused_naming "$WORK/err" tapx2
ok "hook: nothing of the refused domain's vnet7 is installed either" nothing_of x2 vnet7 10.0.0.17 fd00:10::17
ok "hook: nor of its tapx2" nothing_of x2 tapx2 10.0.0.22 fd00:10::22
in_ns "$H" "$HOOK" x2 stopped end - <"$WORK/x2.xml" 2>/dev/null
ok "the refused domain's vnet7 passes nothing to the cluster or the host (fail closed)" closed "$(guest_ns m)"

# The attack as found: a guest on tapx2 ran (isolated), stopped, and its tap
# reached the cluster and the host. The hook now refuses its start; the tap
# it never installed is a host interface like any other, which the hook
# cannot tell from one by name (libvirt deletes it after the refused start).
# Whether blixard-netiso should block it anyway (a hot-plugged tap under
# watch) is the libvirt tier's question; here it is recorded, not required.
domain_xml x3 A tapx2 10.0.0.22 fd00:10::22 >"$WORK/x3.xml"
in_ns "$H" "$HOOK" x3 start begin - <"$WORK/x3.xml" 2>/dev/null
in_ns "$H" "$HOOK" x3 stopped end - <"$WORK/x3.xml" 2>/dev/null
TAP_COUNT=$((TAP_COUNT + 1))
if closed "$X"; then
	echo "ok $TAP_COUNT - tapx2, after its guest's start and stop, passes nothing to the cluster or the host # TODO blocking a tap no pattern names is not required by issue 14"
else
	echo "not ok $TAP_COUNT - tapx2, after its guest's start and stop, passes nothing to the cluster or the host # TODO blocking a tap no pattern names is not required by issue 14"
fi

# Controls: with tapx* among the patterns, the same guest installs and is
# isolated, and once stopped its tap passes nothing (fail closed by name).
sed -i '/^\[vm.network_isolation\]/a guest_interface_patterns = ["vnet*", "tapx*"]' "$BLIXARD_NETISO_CONFIG"
ok "control: with tapx* among the patterns, x4 on tapx2 starts" \
	start_guest x4 A tapx2 10.0.0.22 fd00:10::22
ok "control: x4 reaches a1 (same tenant)" tcp "$X" 10.0.0.11 9000
fails "control: x4 cannot reach the cluster" tcp "$X" 172.16.0.2 7000
ok "control: x4 stops" stop_guest x4
ok "control: after x4's stop, tapx2 passes nothing to the cluster or the host" closed "$X"
ok "control: a1 is still isolated and working" tcp "$A1" 198.51.100.2 80

done_testing
