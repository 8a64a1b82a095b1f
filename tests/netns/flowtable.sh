#!/bin/bash
# Established flows through table inet blixard's flowtable (issue 15, config
# flowtable = true): a flow between two guests of a tenant, and one between a
# guest and the internet (uplink wan0), are offloaded (conntrack shows
# [OFFLOAD]: their packets skip the forward hook), and every revocation stops
# the offloaded flow within one packet: a stop, a retag, an address removed, a
# table repair (nft flush ruleset, then watch's restore), a configuration
# change (allow_internet = false, applied by reconcile's sync). Needs a kernel
# with the nftables flowtable (CONFIG_NF_FLOW_TABLE, nf_flow_table_inet); it
# skips without one.
set -u
. "$top_srcdir/tests/netns/lib-netns.sh"
require_root_tier nft conntrack python3
[ -x "$HOOK" ] || tap_skip_all "hook not built: $HOOK"

TAP_LOG="$WORK/tap.log"
K="${NS_PREFIX}k"
new_ns "$K"
in_ns "$K" nft add table inet probe &&
	in_ns "$K" nft add flowtable inet probe ft '{ hook ingress priority 0; devices = { lo }; }' 2>/dev/null ||
	tap_skip_all "this kernel has no nftables flowtable (CONFIG_NF_FLOW_TABLE)"
ip netns del "$K"

conf() {
	write_config
	sed -i '/^state_dir/a flowtable = true\nflowtable_uplinks = ["wan0"]' "$BLIXARD_NETISO_CONFIG"
}
conf
topology_up
A2V4=10.0.0.12 A2V6=fd00:10::12
guest_up a2 vnet2 $A2V4 $A2V6
A2=$(guest_ns a2)
ok "a2 starts (tenant A): the peer of every flow" start_guest a2 A vnet2 $A2V4 $A2V6
# a2 and the internet answer every UDP peer every 20 ms and log what they get.
probe_bg "$A2" udp-peer :: 6000 "$WORK/a2-udp.log" 20 "$WORK/a2-udp.ready"
probe_bg "$I" udp-peer :: 6000 "$WORK/i-udp.log" 20 "$WORK/i-udp.ready"
wait_file "$WORK/a2-udp.ready" && wait_file "$WORK/i-udp.ready" ||
	{ echo "Bail out! the peers did not start"; exit 1; }

# offloaded SRC DST: the host's conntrack entry of SRC -> DST is offloaded
offloaded() {
	in_ns "$H" conntrack -L -s "$1" -d "$2" 2>/dev/null | grep -q OFFLOAD
}

# flows NAME V4 SPORT: NAME streams UDP (one datagram every 20 ms) from V4
# and its IPv6 address to a2 and to the internet; all four get offloaded.
flows() {
	local name=$1 v4=$2 sport=$3 ns x peer
	ns=$(guest_ns "$name")
	for x in $v4 ${v4/10.0.0./fd00:10::}; do
		for peer in $A2V4 198.51.100.2; do
			case $x in *:*) peer=${peer/10.0.0./fd00:10::}; peer=${peer/198.51.100./2001:db8:100::} ;; esac
			probe_bg "$ns" udp-stream "$x" "$sport" "$peer" 6000 "$WORK/$name-$x-$peer.log" 20 "$WORK/$name-$x-$peer.ready"
			wait_file "$WORK/$name-$x-$peer.ready"
			ok "$name's UDP flow from $x to $peer is offloaded" within "$DEADLINE" offloaded "$x" "$peer"
		done
	done
}

# stopped WHAT NAME V4 SPORT [PEERS]: after the revocation that just
# returned, at most one more datagram of each of NAME's flows (to PEERS:
# a2 and the internet by default) arrives, over 1 s
stopped() {
	local what=$1 name=$2 v4=$3 sport=$4 peers=${5:-"$A2V4 198.51.100.2"} x peer log n m
	for x in $v4 ${v4/10.0.0./fd00:10::}; do
		for peer in $peers; do
			log=$WORK/a2-udp.log
			case $peer in 198.*) log=$WORK/i-udp.log ;; esac
			case $x in *:*) peer=${peer/10.0.0./fd00:10::}; peer=${peer/198.51.100./2001:db8:100::} ;; esac
			n=$(wc -l <"$log")
			sleep 1
			m=$(tail -n +$((n + 1)) "$log" | grep -c "^$x $sport req")
			ok "$what: $name's flow from $x to $peer stopped within one packet ($m in the next second)" test "$m" -le 1
			fails "$what: $name's flow from $x to $peer is not offloaded" offloaded "$x" "$peer"
		done
	done
}

# ---- 1. stop ----
guest_up a1 vnet1 10.0.0.11 fd00:10::11
ok "a1 starts (tenant A)" start_guest a1 A vnet1 10.0.0.11 fd00:10::11
flows a1 10.0.0.11 40001
ok "a1 stops while its flows are offloaded" stop_guest a1
stopped "stop" a1 10.0.0.11 40001

# ---- 2. retag ----
guest_up a3 vnet3 10.0.0.13 fd00:10::13
ok "a3 starts (tenant A)" start_guest a3 A vnet3 10.0.0.13 fd00:10::13
flows a3 10.0.0.13 40003
domain_xml a3 B vnet3 10.0.0.13 fd00:10::13 >"$WORK/a3-B.xml"
ok "a3 is retagged to tenant B (hook reconnect)" hook a3 reconnect begin "$WORK/a3-B.xml"
# Tenant B may still reach the internet: only the flows to a2 must stop
# for good; the internet ones stop too (their connections were ended).
stopped "retag" a3 10.0.0.13 40003 "$A2V4"

# ---- 3. an address removed ----
guest_up a4 vnet4 10.0.0.14 fd00:10::14
guest_addr a4 vnet4 10.0.0.24
guest_addr a4 vnet4 fd00:10::24
domain_xml_addrs a4 A vnet4 10.0.0.14 10.0.0.24 fd00:10::14 fd00:10::24 >"$WORK/a4.xml"
domain_xml_addrs a4 A vnet4 10.0.0.14 fd00:10::14 >"$WORK/a4-less.xml"
ok "a4 starts (tenant A) with two addresses in each family" \
	sh -c "ip netns exec '$H' '$HOOK' a4 start begin - <'$WORK/a4.xml'"
flows a4 10.0.0.24 40004
ok "a4 loses 10.0.0.24 and fd00:10::24 (apply)" in_ns "$H" "$CLI" apply --domain-xml "$WORK/a4-less.xml"
stopped "address removed" a4 10.0.0.24 40004

# ---- 4. a table repair: nft flush ruleset, watch restores ----
# Offloaded flows were accepted by the policy; the flush deletes the
# flowtable and its flows with it. What must not happen: a flow that the
# damaged ruleset let through (another tenant's) gets offloaded after the
# restore. watch is held (SIGSTOP) while the ruleset is gone, so that such a
# flow has time to be established; on SIGCONT it restores.
guest_up a5 vnet5 10.0.0.15 fd00:10::15
guest_up b5 vnet15 10.0.0.25 fd00:10::25
ok "a5 starts (tenant A)" start_guest a5 A vnet5 10.0.0.15 fd00:10::15
ok "b5 starts (tenant B)" start_guest b5 B vnet15 10.0.0.25 fd00:10::25
ip netns exec "$H" "$CLI" watch --connect "qemu+unix:///system?socket=$WORK/no-libvirtd" \
	--interval 3600 >"$WORK/watch.log" 2>&1 &
WATCH_PID=$!
PIDS+=("$WATCH_PID")
ok "watch starts" within 60 grep -q watching "$WORK/watch.log"
flows a5 10.0.0.15 40005
kill -STOP "$WATCH_PID"
ok "someone flushes the ruleset (watch held)" in_ns "$H" nft flush ruleset
ok "the flush took the flowtable and its flows with it" \
	within "$DEADLINE" sh -c "! ip netns exec '$H' conntrack -L 2>/dev/null | grep -q OFFLOAD"
B5=$(guest_ns b5)
for x in 10.0.0.25 fd00:10::25; do
	peer=$A2V4
	case $x in *:*) peer=$A2V6 ;; esac
	probe_bg "$B5" udp-stream "$x" 40015 "$peer" 6000 "$WORK/b5-$x.log" 20 "$WORK/b5-$x.ready"
	wait_file "$WORK/b5-$x.ready"
	ok "control: with the ruleset gone, b5 (tenant B) has a flow with a2 from $x" \
		within "$DEADLINE" sh -c "grep -q '^$peer 6000 reply' '$WORK/b5-$x.log' && grep -q '^$x 40015 req' '$WORK/a2-udp.log'"
done
kill -CONT "$WATCH_PID"
ok "watch restores the table" within 60 grep -q 'restored .* from the records' "$WORK/watch.log"
stopped "table repair" b5 10.0.0.25 40015 "$A2V4"
ok "a5's flow to a2 is offloaded again after the restore" within "$DEADLINE" offloaded 10.0.0.15 $A2V4
kill "$WATCH_PID" 2>/dev/null

# ---- 5. a configuration change: no internet ----
# The hook's next event rebuilds the table for the new configuration, and
# the flowtable with it: the flows offloaded under the old configuration
# are gone (their next packets are judged by the new rules, as they would
# be without the flowtable, where an established connection outlives a
# configuration change and only new ones follow it).
guest_up a6 vnet6 10.0.0.16 fd00:10::16
ok "a6 starts (tenant A)" start_guest a6 A vnet6 10.0.0.16 fd00:10::16
flows a6 10.0.0.16 40006
ft_handle() {
	in_ns "$H" nft -a list flowtables 2>/dev/null | sed -n 's/.*flowtable ft { # handle \([0-9]*\).*/\1/p'
}
old_ft=$(ft_handle)
INTERNET=false conf
ok "the configuration changes (allow_internet = false): a6's apply" in_ns "$H" "$CLI" apply --domain-xml "$WORK/a6.xml"
ok "the flowtable of the old configuration is gone (handle $old_ft, now $(ft_handle))" \
	test -n "$old_ft" -a -n "$(ft_handle)" -a "$(ft_handle)" != "$old_ft"
probe_bg "$(guest_ns a6)" udp-stream 10.0.0.16 40016 198.51.100.2 6000 "$WORK/a6-new.log" 20 "$WORK/a6-new.ready"
wait_file "$WORK/a6-new.ready"
ok "a6 cannot open a new flow to the internet" never_within 2 has_line "$WORK/i-udp.log" "^10.0.0.16 40016 req"
ok "a6's flow to a2 is offloaded again under the new configuration" within "$DEADLINE" offloaded 10.0.0.16 $A2V4

done_testing
