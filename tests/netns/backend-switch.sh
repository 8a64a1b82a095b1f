#!/bin/bash
# Switching the backend in the configuration, both ways: the first event
# after the switch moves every guest to the configured backend and removes
# the other backend's objects, so no stale rule of it is left (each backend
# drops guest-like taps it did not install, so leftovers would cut guests
# off). purge removes both backends' objects, and succeeds with nothing.
set -u
. "$top_srcdir/tests/netns/lib-netns.sh"
require_root_tier ip socat ping nft iptables-restore ip6tables-restore iptables-save ip6tables-save
[ -x "$HOOK" ] || tap_skip_all "hook not built: $HOOK"

TAP_LOG="$WORK/tap.log"
topology_up
guest_up a1 vnet1 10.0.0.11 fd00:10::11
guest_up a2 vnet2 10.0.0.12 fd00:10::12
guest_up b1 vnet3 10.0.0.13 fd00:10::13
A1=$(guest_ns a1) B1=$(guest_ns b1)
wait_ports

GUESTS="a1:A:vnet1:11 a2:A:vnet2:12 b1:B:vnet3:13"

start_all() {
	for g in $GUESTS; do
		IFS=: read -r name tenant tap n <<<"$g"
		start_guest "$name" "$tenant" "$tap" "10.0.0.$n" "fd00:10::$n" || return 1
	done
}
stop_all() {
	for g in $GUESTS; do
		stop_guest "${g%%:*}" || return 1
	done
}
restart_all() {
	stop_all && start_all
}
restart_one() {
	stop_guest a1 && start_guest a1 A vnet1 10.0.0.11 fd00:10::11
}

nft_table_left() {
	nft_h list table inet blixard >/dev/null 2>&1
}
ipt_chains_left() {
	ipt_h_save | grep -Eq '^:(BLIXARD_VM_|BLX)|-j BLIXARD_VM_'
}
# nothing_of BACKEND: that backend names none of the guests' taps
nothing_of() {
	local tap
	for tap in vnet1 vnet2 vnet3; do
		[ "$(BACKEND=$1 mentions $tap)" -eq 0 ] || return 1
	done
}
all_installed_by() {
	local tap
	for tap in vnet1 vnet2 vnet3; do
		BACKEND=$1 is_installed $tap || return 1
	done
}
records_say() {
	[ "$(grep -l "^backend=$1\$" "$STATE_DIR"/domains/*.state | wc -l)" -eq 3 ]
}
isolation_holds() {
	tcp "$A1" 10.0.0.12 9000 || { echo "a1 -> a2 blocked"; return 1; }
	! tcp "$A1" 10.0.0.13 9000 || { echo "a1 -> b1 passed"; return 1; }
	tcp "$A1" 198.51.100.2 80 || { echo "a1 -> internet blocked"; return 1; }
	! tcp "$A1" 172.16.0.2 7000 || { echo "a1 -> cluster passed"; return 1; }
	! tcp "$I" 10.0.0.13 9000 || { echo "internet -> b1:9000 passed"; return 1; }
	tcp "$I" 10.0.0.13 2222 || { echo "internet -> b1:2222 blocked"; return 1; }
	tcp "$B1" 2001:db8:100::2 80 || { echo "b1 -> internet (v6) blocked"; return 1; }
}
status_clean() {
	in_ns "$H" "$CLI" status
}

for step in nftables:iptables iptables:nftables; do
	from=${step%:*} to=${step#*:}
	diag "from $from to $to"
	NETISO_BACKEND=$from write_config
	stop_all >/dev/null 2>&1
	ok "$from: three guests start" start_all
	ok "$from: isolation holds" isolation_holds
	ok "$from: every guest is installed by $from" all_installed_by "$from"

	NETISO_BACKEND=$to write_config
	ok "$to configured: one guest restarts" restart_one
	ok "$to: the first event moved every guest, restarted or not" all_installed_by "$to"
	ok "$to: every record says $to" records_say "$to"
	ok "$to: no $from state names any guest" nothing_of "$from"
	if [ "$from" = nftables ]; then
		fails "$to: table inet blixard is gone" nft_table_left
	else
		fails "$to: no iptables chain or jump of ours is left" ipt_chains_left
	fi
	ok "$to: isolation holds" isolation_holds
	ok "$to: status is clean" status_clean
	ok "$to: every guest restarts" restart_all
	ok "$to: still no $from state after the restarts" nothing_of "$from"
	ok "$to: isolation holds after the restarts" isolation_holds
done

# Guests that stopped before the switch leave their backend's skeleton; the
# first guest of the other backend must not be cut off by it.
NETISO_BACKEND=nftables write_config
stop_all >/dev/null 2>&1
start_all >/dev/null 2>&1
ok "nftables guests stop" stop_all
ok "their skeleton stays (the backend is still configured)" nft_table_left
NETISO_BACKEND=iptables write_config
ok "iptables configured on an empty host: a1 starts" start_guest a1 A vnet1 10.0.0.11 fd00:10::11
fails "the nftables skeleton is gone" nft_table_left
ok "a1 reaches the internet (nothing of nftables drops it)" tcp "$A1" 198.51.100.2 80
NETISO_BACKEND=nftables write_config
ok "nftables again: a2 starts next to a1" start_guest a2 A vnet2 10.0.0.12 fd00:10::12
fails "the iptables chains are gone" ipt_chains_left
ok "a1 -> a2 works on nftables" tcp "$A1" 10.0.0.12 9000

# purge: both backends, then nothing at all.
NETISO_BACKEND=iptables write_config
ok "b1 starts on iptables (a1, a2 move with it)" start_guest b1 B vnet3 10.0.0.13 fd00:10::13
ok "purge removes everything of both backends" in_ns "$H" "$CLI" purge
fails "no iptables chain or jump is left" ipt_chains_left
fails "no table inet blixard is left" nft_table_left
ok "no record is left" test -z "$(ls "$STATE_DIR/domains")"
ok "purge with nothing installed succeeds" in_ns "$H" "$CLI" purge

done_testing
