#!/bin/sh
# tag and watch under a real libvirtd: tag sets the tenant live and persistent and refuses
# a bad name; a hot-plugged interface passes nothing without watch; under watch a tagged
# guest's reachability flips without a restart (its old flows ended), a hot-plugged
# interface is isolated and a removed one forgotten, a flushed or deleted table is
# restored, and a libvirtd restart is survived. TAP output.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
. "$(dirname "$0")/lib-e2e.sh"

[ -z "${NETISO_E2E_HOOK:-}" ] || e2e_skip "NETISO_E2E_HOOK is set: watch needs blixard-netiso's own hook and tool"
e2e_setup
[ -n "$E2E_CLI" ] || e2e_bail "make install put no sbin/blixard-netiso in $E2E_T/inst"
e2e_log "hook: $E2E_HOOK_DESC; tool: $E2E_CLI"
nft_host() { ip netns exec "$E2E_NS_HOST" nft "$@"; }
WATCH_LOG=$E2E_T/watch.log

n=0
run_cli() { # ARGS...: output in $out (echoed as TAP comments), status in $rc
	n=$((n + 1))
	out=$E2E_T/out.$n
	e2e_cli "$@" >"$out" 2>&1
	rc=$?
	e2e_log "blixard-netiso $* (exit $rc):"
	sed 's/^/#   /' "$out" >&2
}
says() { if grep -qF -- "$2" "$1"; then echo says; else echo "does not say"; fi; }
in_sync() { e2e_cli reconcile --check >/dev/null 2>&1; }
tenant_of() { # GUEST [--inactive]
	e2e_virsh dumpxml "$@" 2>/dev/null | sed -n 's/.*isolation .*tenant="\([^"]*\)".*/\1/p'
}
# Does the table send TAP's traffic to TENANT's chain?
tap_jumps_to() { nft_host list map inet blixard guest_tenant 2>/dev/null | grep -q "\"$1\" : jump tenant-$2"; }
# Is TAP allowed to send from ADDR?
may_send_from() {
	if nft_host get element inet blixard guest_src_v4 "{ \"$1\" . $2 }" >/dev/null 2>&1; then
		echo allowed
	else
		echo refused
	fi
}
timed() { # SECONDS DESCRIPTION COMMAND...: TAP line on whether COMMAND came true in time
	local s=$1 d=$2 t0=$(date +%s)
	shift 2
	if e2e_wait_for "$s" "$@"; then
		e2e_tap "$d (after $(($(date +%s) - t0)) s)" yes yes
	else
		e2e_tap "$d" "yes within $s s" no
	fi
}

# Probes: "probe SOURCE NAME KIND ADDR PORT FROM EXPECT DESCRIPTION"; FROM is a source
# address of SOURCE's own (a hot-plugged interface's) or -.
round=0
plan() { round=$((round + 1)) && e2e_new_plan "$round"; }
probe() {
	local src=$1 name=$2 kind=$3 addr=$4 port=$5 from=$6 expect=$7
	shift 7
	e2e_plan_add "$src" "$name" "$kind" "$addr" "$port" "$from" reply "$expect" - - "$*"
}
run_plan() { e2e_run_round "$E2E_PLAN" "$round" && e2e_evaluate "$E2E_PLAN" "$round"; }
peers() { # GUEST EXPECT-TO-A EXPECT-TO-B EXPECT-TO-C (tcp, IPv4 and IPv6; "-" skips)
	local g=$1 h e
	shift
	for h in w-a w-b w-c; do
		e=$1
		shift
		[ "$h" = "$g" ] || [ "$e" = - ] && continue
		probe "$g" "tcp4-$h" tcp "$(e2e_guest4 "$h")" 2222 - "$e" "$g -> $h tcp/ipv4"
		probe "$g" "tcp6-$h" tcp "$(e2e_guest6 "$h")" 2222 - "$e" "$g -> $h tcp/ipv6"
	done
}
# Probes of a hot-plugged interface (number I of guest G): from its own addresses.
hotplug_probes() { # G I WHAT EXPECT-TO-A EXPECT-TO-B EXPECT-TO-C EXPECT-INTERNET EXPECT-INBOUND
	local g=$1 i=$2 what=$3 h e
	local a4=10.0.1.$i a6=fd00:10::1:$i
	shift 3
	for h in w-a w-b w-c; do
		e=$1
		shift
		[ "$h" = "$g" ] && continue
		probe "$g" "hp4-$h" tcp "$(e2e_guest4 "$h")" 2222 "$a4" "$e" "$what: $g's $a4 -> $h tcp/ipv4"
		probe "$g" "hp6-$h" tcp "$(e2e_guest6 "$h")" 2222 "$a6" "$e" "$what: $g's $a6 -> $h tcp/ipv6"
	done
	probe "$g" hp4-internet tcp "$E2E_INET4" 2222 "$a4" "$1" "$what: $g's $a4 -> internet tcp/ipv4"
	probe "$g" hp6-internet tcp "$E2E_INET6" 2222 "$a6" "$1" "$what: $g's $a6 -> internet tcp/ipv6"
	probe ns:internet "hp4-in-$g" tcp "$a4" 8080 - "$2" "$what: internet -> $g's $a4 tcp/ipv4 port 8080"
	probe ns:internet "hp6-in-$g" tcp "$a6" 8080 - "$2" "$what: internet -> $g's $a6 tcp/ipv6 port 8080"
}

# w-a is defined (persistent), the others transient; w-b and w-c take hot-plugged NICs.
e2e_guest_add w-a production 51
e2e_guest_add w-b development 52
e2e_guest_add w-c production 53
e2e_guest_enable_hotplug w-b
e2e_guest_enable_hotplug w-c
e2e_guest_define_start w-a || e2e_bail "guest w-a did not start: $(cat "$E2E_T/w-a.start")"
for g in w-b w-c; do
	e2e_guest_start "$g" || e2e_bail "guest $g did not start: $(cat "$E2E_T/$g.start")"
done
e2e_wait_ready w-a w-b w-c || e2e_bail "guests did not boot"
tap_a=$(e2e_guest_tap w-a)

# ---- tag, without watch
run_cli tag w-a --tenant 'bad tenant!'
e2e_tap "tag with an invalid tenant name" "exit 2" "exit $rc"
e2e_tap "the refused tag changed nothing live" production "$(tenant_of w-a)"
e2e_tap "the refused tag changed nothing persistent" production "$(tenant_of w-a --inactive)"
run_cli tag no-such-domain --tenant development
e2e_tap "tag of a domain that does not exist" "exit 1" "exit $rc"
run_cli tag w-a --tenant development
e2e_tap "tag w-a --tenant development" "exit 0" "exit $rc"
e2e_tap "tag says it set the tenant live and persistent" says "$(says "$out" "(live and persistent)")"
e2e_tap "after tag: w-a's live XML has tenant" development "$(tenant_of w-a)"
e2e_tap "after tag: w-a's persistent XML has tenant" development "$(tenant_of w-a --inactive)"
# Without watch nothing applies it yet: reconcile --check sees the difference.
run_cli reconcile --check
e2e_tap "without watch the tag is drift until reconcile" says \
	"$(says "$out" "domain 'w-a': tenant changed from production to development")"
e2e_tap "without watch w-a's tap still jumps to tenant production" yes \
	"$(tap_jumps_to "$tap_a" production && echo yes || echo no)"
run_cli tag w-a --tenant production
e2e_tap "tag w-a back to production: in step again" "exit 0" \
	"exit $(in_sync && echo 0 || echo 1)"
e2e_guest_add w-x production 59
e2e_virsh define "$E2E_T/w-x.xml" >/dev/null || e2e_bail "cannot define w-x"
run_cli tag w-x --tenant staging
e2e_tap "tag of a defined domain that is not running" "exit 0" "exit $rc"
e2e_tap "tag of a stopped domain says it is persistent only" says "$(says "$out" "(persistent: ")"
e2e_tap "the stopped domain's persistent XML has tenant" staging "$(tenant_of w-x --inactive)"

# ---- a hot-plugged interface without watch passes nothing (fail closed)
e2e_guest_attach w-c 54 || e2e_bail "cannot hot-plug an interface into w-c"
tap_c1=$(e2e_guest_tap_of w-c "$(e2e_iface_mac 54)")
e2e_log "w-c's hot-plugged tap: $tap_c1"
e2e_guest_ifup w-c eth1 54 || e2e_bail "w-c did not configure its hot-plugged eth1"
run_cli reconcile --check
e2e_tap "without watch: --check names the hot-plugged tap $tap_c1 as not installed" says \
	"$(says "$out" "domain 'w-c': tap $tap_c1 is not installed")"
plan
hotplug_probes w-c 54 "hot-plugged, no watch" blocked blocked blocked blocked blocked
peers w-c ok - -
run_plan

# ---- watch: its first reconcile installs what it finds
e2e_cli_start "$WATCH_LOG" watch --interval 1
watch_pid=$E2E_CLI_PID
timed 15 "watch started: its first reconcile installs w-c's hot-plugged tap" in_sync
e2e_tap "the hot-plugged tap may send from its own address" allowed "$(may_send_from "$tap_c1" 10.0.1.54)"
e2e_tap "the hot-plugged tap may not send from w-c's other address" refused \
	"$(may_send_from "$tap_c1" "$(e2e_guest4 w-c)")"
plan
hotplug_probes w-c 54 "hot-plugged, installed by watch" ok blocked - ok ok
run_plan

# ---- tag under watch: w-a moves from production to development, no restart. UDP flows
# of w-a to w-c are in conntrack right before; the change must end them.
plan
probe w-a udp4-w-c udp "$(e2e_guest4 w-c)" 2222 - ok "before the tag: w-a -> w-c udp/ipv4"
run_plan
flows() { ip netns exec "$E2E_NS_HOST" conntrack -L -s "$(e2e_guest4 w-a)" -p udp 2>/dev/null | grep -c .; }
e2e_tap "before the tag: w-a has tracked UDP flows" yes "$([ "$(flows)" -gt 0 ] && echo yes || echo no)"
run_cli tag w-a --tenant development
timed 10 "under watch: w-a's tap jumps to tenant development" tap_jumps_to "$tap_a" development
e2e_tap "under watch: w-a's tracked flows were ended" 0 "$(flows)"
e2e_tap "under watch: w-a was not restarted" yes \
	"$(e2e_console w-a | grep -c '^NETISO READY' | grep -qx 1 && echo yes || echo no)"
e2e_tap "under watch: reconcile --check agrees" "exit 0" "exit $(in_sync && echo 0 || echo 1)"
plan
peers w-a - ok blocked
peers w-b ok - blocked
peers w-c blocked blocked -
run_plan

# ---- hot-plug under watch: w-b's new interface is isolated within seconds
e2e_guest_attach w-b 55 || e2e_bail "cannot hot-plug an interface into w-b"
tap_b1=$(e2e_guest_tap_of w-b "$(e2e_iface_mac 55)")
e2e_log "w-b's hot-plugged tap: $tap_b1"
timed 10 "under watch: w-b's hot-plugged tap $tap_b1 is installed" tap_jumps_to "$tap_b1" development
e2e_tap "under watch: the new tap may send from its own address only" "allowed refused" \
	"$(may_send_from "$tap_b1" 10.0.1.55) $(may_send_from "$tap_b1" "$(e2e_guest4 w-b)")"
e2e_guest_ifup w-b eth1 55 || e2e_bail "w-b did not configure its hot-plugged eth1"
plan
hotplug_probes w-b 55 "hot-plugged under watch" ok - blocked ok ok
run_plan

# ---- removal under watch
e2e_guest_detach w-b 55 || e2e_bail "cannot detach w-b's hot-plugged interface"
gone() { [ "$(e2e_table_mentions "$1")" = absent ]; }
timed 20 "under watch: the removed tap $tap_b1 leaves the table" gone "$tap_b1"
e2e_tap "under watch: w-b's record lost the removed tap" absent \
	"$(grep -qF "$tap_b1" "$E2E_T/run/blixard-netiso/domains/w-b.state" && echo present || echo absent)"

# ---- hot-plug under watch of a NIC named outside guest_interface_patterns: refused,
# and it passes nothing (table inet blixard drops every tap device nobody installed)
sed "s|^  <mac |  <target dev='tapx2'/>\n  <mac |" "$(e2e_iface_xml 56)" >"$E2E_T/iface-56-named.xml"
e2e_virsh attach-device w-b "$E2E_T/iface-56-named.xml" --live >/dev/null ||
	e2e_bail "cannot hot-plug an interface named tapx2 into w-b"
refused_logged() { grep -q "tap 'tapx2' matches none of guest_interface_patterns" "$WATCH_LOG"; }
timed 10 "under watch: the hot-plugged tapx2 is refused, logged with the patterns" refused_logged
e2e_tap "the refused tapx2 is not installed" absent "$(e2e_table_mentions tapx2)"
e2e_guest_ifup w-b eth1 56 || e2e_bail "w-b did not configure its hot-plugged eth1"
plan
hotplug_probes w-b 56 "hot-plugged tapx2, refused" blocked - blocked blocked blocked
run_plan
e2e_virsh detach-device w-b "$E2E_T/iface-56-named.xml" --live >/dev/null ||
	e2e_bail "cannot detach w-b's tapx2"

# ---- someone flushes or deletes the table, or the whole ruleset: watch restores it
nft_host flush table inet blixard
timed 10 "under watch: a flushed table is restored" in_sync
nft_host delete table inet blixard
timed 10 "under watch: a deleted table is restored" in_sync
nft_host flush ruleset
timed 10 "under watch: a flushed ruleset (systemctl restart nftables) is restored" in_sync
plan
peers w-a - ok blocked
run_plan

# ---- libvirtd restarts: watch reconnects and still follows events
e2e_libvirt_restart
reconnected() { [ "$(grep -c 'outcome=connected' "$WATCH_LOG")" -ge 2 ]; }
timed 40 "watch reconnects after a libvirtd restart" reconnected
run_cli tag w-a --tenant production
timed 10 "after the reconnect a tag still applies" tap_jumps_to "$tap_a" production

# ---- stop
kill -TERM "$watch_pid"
wait "$watch_pid"
e2e_tap "watch stops on SIGTERM" "exit 0" "exit $?"
e2e_log "watch's log:"
sed 's/^/#   /' "$WATCH_LOG" >&2

e2e_finish
