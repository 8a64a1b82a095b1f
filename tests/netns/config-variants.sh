#!/bin/bash
# The configuration switches change the traffic exactly as documented:
# allow_internet = false, inter_vm_isolation = true, tenant_isolation = false.
set -u
. "$top_srcdir/tests/netns/lib-netns.sh"
require_root_tier ip socat ping
require_backend_tools
[ -x "$HOOK" ] || tap_skip_all "hook not built: $HOOK"

TAP_LOG="$WORK/tap.log"
topology_up
guest_up a1 vnet1 10.0.0.11 fd00:10::11
guest_up a2 vnet2 10.0.0.12 fd00:10::12
guest_up b1 vnet3 10.0.0.13 fd00:10::13
guest_up u vnet9 10.0.0.19 fd00:10::19     # a guest-like tap the hook never saw
A1=$(guest_ns a1) B1=$(guest_ns b1) U=$(guest_ns u)
wait_ports

# restart_all: what an operator does after editing the configuration
restart_all() {
	write_config
	for g in a1:A:vnet1:11 a2:A:vnet2:12 b1:B:vnet3:13; do
		IFS=: read -r name tenant tap n <<<"$g"
		stop_guest "$name" >/dev/null 2>&1
		start_guest "$name" "$tenant" "$tap" "10.0.0.$n" "fd00:10::$n" || return 1
	done
}

INTERNET=false
ok "allow_internet = false: guests restart" restart_all
fails "allow_internet = false: internet tcp 80 blocked (v4)" tcp "$A1" 198.51.100.2 80
fails "allow_internet = false: internet tcp 80 blocked (v6)" tcp "$A1" 2001:db8:100::2 80
ok "allow_internet = false: allowed outbound udp 53 still reaches the internet (v4)" udp "$A1" 198.51.100.2 53 "$I"
ok "allow_internet = false: allowed outbound udp 53 still reaches the internet (v6)" udp "$A1" 2001:db8:100::2 53 "$I"
fails "allow_internet = false: other udp ports blocked" udp "$A1" 198.51.100.2 5555 "$I"
ok "allow_internet = false: same tenant still reachable" tcp "$A1" 10.0.0.12 9000
ok "allow_internet = false: inbound port still open" tcp "$I" 10.0.0.11 2222
INTERNET=true

INTER_VM=true
ok "inter_vm_isolation = true: guests restart" restart_all
fails "inter_vm_isolation = true: same tenant blocked (v4)" tcp "$A1" 10.0.0.12 9000
fails "inter_vm_isolation = true: same tenant blocked (v6)" tcp "$A1" fd00:10::12 9000
fails "inter_vm_isolation = true: other tenant blocked" tcp "$A1" 10.0.0.13 9000
ok "inter_vm_isolation = true: internet still reachable" tcp "$A1" 198.51.100.2 80
INTER_VM=false

TENANT_ISO=false
ok "tenant_isolation = false: guests restart" restart_all
ok "tenant_isolation = false: other tenant reachable (v4)" tcp "$A1" 10.0.0.13 9000
ok "tenant_isolation = false: other tenant reachable (v6)" tcp "$B1" fd00:10::11 9000
fails "tenant_isolation = false: cluster still blocked" tcp "$A1" 172.16.0.2 7000
fails "tenant_isolation = false: host still blocked" tcp "$A1" "$HOST4" 8080
fails "tenant_isolation = false: a guest-like tap nobody installed gets nothing from guests (v4 udp)" udp "$A1" 10.0.0.19 5555 "$U"
fails "tenant_isolation = false: a guest-like tap nobody installed gets nothing from guests (v6 udp)" udp "$A1" fd00:10::19 5555 "$U"
TENANT_ISO=true

ok "defaults again: guests restart" restart_all
fails "defaults: other tenant blocked" tcp "$A1" 10.0.0.13 9000
ok "defaults: same tenant reachable" tcp "$A1" 10.0.0.12 9000

done_testing
