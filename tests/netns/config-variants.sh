#!/bin/bash
# The configuration switches change the traffic exactly as documented:
# allow_internet = false, inter_vm_isolation = true, tenant_isolation = false.
# Every probed packet is asked of `blixard-netiso why` too (expect in
# lib-netns.sh): its verdict and rule must be what the packets did.
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
expect dropped:8 "allow_internet = false: internet tcp 80 blocked (v4)" tcp "$A1" 198.51.100.2 80
expect dropped:8 "allow_internet = false: internet tcp 80 blocked (v6)" tcp "$A1" 2001:db8:100::2 80
expect dropped:8 "allow_internet = false: internet ping blocked (v6)" ping_ "$A1" 2001:db8:100::2
expect allowed:7 "allow_internet = false: allowed outbound udp 53 still reaches the internet (v4)" udp "$A1" 198.51.100.2 53 "$I"
expect allowed:7 "allow_internet = false: allowed outbound udp 53 still reaches the internet (v6)" udp "$A1" 2001:db8:100::2 53 "$I"
expect dropped:8 "allow_internet = false: other udp ports blocked" udp "$A1" 198.51.100.2 5555 "$I"
expect allowed:5 "allow_internet = false: same tenant still reachable" tcp "$A1" 10.0.0.12 9000
expect allowed:11 "allow_internet = false: inbound port still open" tcp "$I" 10.0.0.11 2222
expect allowed:11 "allow_internet = false: inbound port still open (v6)" tcp "$I" fd00:10::11 2222
expect allowed:4 "allow_internet = false: the host's allowed port still open (v6)" udp "$A1" fd00:10::fffe 53 "$H"
INTERNET=true

INTER_VM=true
ok "inter_vm_isolation = true: guests restart" restart_all
expect dropped:5 "inter_vm_isolation = true: same tenant blocked (v4)" tcp "$A1" 10.0.0.12 9000
expect dropped:5 "inter_vm_isolation = true: same tenant blocked (v6)" tcp "$A1" fd00:10::12 9000
expect dropped:5 "inter_vm_isolation = true: other tenant blocked" tcp "$A1" 10.0.0.13 9000
expect dropped:5 "inter_vm_isolation = true: other tenant blocked (v6 udp)" udp "$B1" fd00:10::11 5555 "$A1"
expect allowed:8 "inter_vm_isolation = true: internet still reachable" tcp "$A1" 198.51.100.2 80
expect allowed:11 "inter_vm_isolation = true: inbound port from the internet still open (v6)" tcp "$I" fd00:10::13 2222
expect dropped:3 "inter_vm_isolation = true: cluster still blocked (v6)" tcp "$A1" fd00:172::2 7000
INTER_VM=false

TENANT_ISO=false
ok "tenant_isolation = false: guests restart" restart_all
expect allowed:5 "tenant_isolation = false: other tenant reachable (v4)" tcp "$A1" 10.0.0.13 9000
expect allowed:5 "tenant_isolation = false: other tenant reachable (v6)" tcp "$B1" fd00:10::11 9000
expect allowed:5 "tenant_isolation = false: other tenant reachable (v4 ping)" ping_ "$B1" 10.0.0.12
expect dropped:3 "tenant_isolation = false: cluster still blocked" tcp "$A1" 172.16.0.2 7000
expect dropped:4 "tenant_isolation = false: host still blocked" tcp "$A1" "$HOST4" 8080
expect allowed:4 "tenant_isolation = false: the host's allowed port open" udp "$B1" "$HOST4" 53 "$H"
expect dropped:11 "tenant_isolation = false: the internet still reaches only the inbound port (v6)" tcp "$I" fd00:10::13 9000
expect dropped:12 "tenant_isolation = false: a guest-like tap nobody installed gets nothing from guests (v4 udp)" udp "$A1" 10.0.0.19 5555 "$U"
expect dropped:12 "tenant_isolation = false: a guest-like tap nobody installed gets nothing from guests (v6 udp)" udp "$A1" fd00:10::19 5555 "$U"
TENANT_ISO=true

ok "defaults again: guests restart" restart_all
expect dropped:5 "defaults: other tenant blocked" tcp "$A1" 10.0.0.13 9000
expect allowed:5 "defaults: same tenant reachable" tcp "$A1" 10.0.0.12 9000

done_testing
