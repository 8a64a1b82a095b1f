#!/bin/bash
# Lifecycle robustness with the real hook and kernel: repeated start/stop,
# teardown without a tap name, crashes at every point of an event,
# 50 concurrent events, refused guests leaving the table untouched, a
# flushed table repaired, address conflicts and stale taps.
set -u
. "$top_srcdir/tests/netns/lib-netns.sh"
require_root_tier ip socat ping
require_backend_tools
[ -x "$HOOK" ] || tap_skip_all "hook not built: $HOOK"

TAP_LOG="$WORK/tap.log"
write_config
topology_up
guest_up a1 vnet1 10.0.0.11 fd00:10::11
guest_up a2 vnet2 10.0.0.12 fd00:10::12
A1=$(guest_ns a1) A2=$(guest_ns a2)
wait_ports

full_mentions=0
has_tenant_t() {
	tenant_chains | grep -q '^t[0-9]$'
}

ok "a1 starts" start_guest a1 A vnet1 10.0.0.11 fd00:10::11
ok "a2 starts" start_guest a2 A vnet2 10.0.0.12 fd00:10::12
full_mentions=$(mentions vnet1)
diag "a guest with one IPv4 and one IPv6 address appears $full_mentions times in the $BACKEND state"
ok "installed guest is named in every place its backend keeps it ($(full_mentions_expected))" \
	test "$full_mentions" -eq "$(full_mentions_expected)"

# Repeated start/stop leaves exactly nothing and exactly everything.
repeat_ok=true
for n in $(seq 1 20); do
	stop_guest a1 || repeat_ok=false
	[ "$(mentions vnet1)" -eq 0 ] || repeat_ok=false
	start_guest a1 A vnet1 10.0.0.11 fd00:10::11 || repeat_ok=false
	[ "$(mentions vnet1)" -eq "$full_mentions" ] || repeat_ok=false
done
ok "20 stop/start cycles: nothing left after each stop, everything after each start" $repeat_ok
ok "a1 still reaches a2 after the cycles" tcp "$A1" 10.0.0.12 9000

# release alone (the tap name is gone from the XML) removes by record.
ok "release without a tap name in the XML removes the guest" hook a1 release end "$WORK/a1-prepare.xml"
ok "nothing mentions vnet1 after release" test "$(mentions vnet1)" -eq 0
ok "stopped for a guest that was never installed exits 0" hook a1 stopped end "$WORK/a1.xml"

# Crashes at each point of an event: the kernel holds all of the guest or none.
for point in install-before-record install-before-commit install-after-commit; do
	BLIXARD_NETISO_FAILPOINT=$point in_ns "$H" "$HOOK" a1 start begin - <"$WORK/a1.xml" >/dev/null 2>&1
	m=$(mentions vnet1)
	ok "crash at $point: guest state is all ($full_mentions) or nothing, got $m" \
		sh -c "[ $m -eq 0 ] || [ $m -eq $full_mentions ]"
	stop_guest a1 >/dev/null 2>&1
	ok "crash at $point: libvirt's teardown afterwards leaves nothing" test "$(mentions vnet1)" -eq 0
done
ok "a1 starts after the crashes" start_guest a1 A vnet1 10.0.0.11 fd00:10::11
for point in remove-before-commit remove-after-commit; do
	BLIXARD_NETISO_FAILPOINT=$point in_ns "$H" "$HOOK" a1 stopped end - <"$WORK/a1.xml" >/dev/null 2>&1
	m=$(mentions vnet1)
	ok "crash at $point: guest state is all or nothing, got $m" \
		sh -c "[ $m -eq 0 ] || [ $m -eq $full_mentions ]"
	hook a1 release end "$WORK/a1-prepare.xml"
	ok "crash at $point: the following release leaves nothing" test "$(mentions vnet1)" -eq 0
	start_guest a1 A vnet1 10.0.0.11 fd00:10::11 >/dev/null 2>&1
done

# Refused guests change nothing.
before=$(fw_state)
domain_xml bad "a;b" vnet5 10.0.0.15 fd00:10::15 >"$WORK/bad.xml"
fails "a hostile tenant name is refused at prepare" hook bad prepare begin "$WORK/bad.xml"
fails "a hostile tenant name is refused at start" hook bad start begin "$WORK/bad.xml"
domain_xml thief A vnet6 10.0.0.12 fd00:10::16 >"$WORK/thief.xml"
fails "a guest claiming another guest's address is refused" hook thief start begin "$WORK/thief.xml"
ok "the refusal names the conflicting address" sh -c "ip netns exec '$H' '$HOOK' thief start begin - <'$WORK/thief.xml' 2>&1 | grep -q '10.0.0.12'"
cat >"$WORK/bridged.xml" <<'EOX'
<domain type='qemu'>
  <name>bridged</name>
  <devices>
    <interface type='bridge'>
      <source bridge='br0'/>
      <target dev='vnet4'/>
    </interface>
  </devices>
</domain>
EOX
fails "a bridged interface is refused" hook bridged prepare begin "$WORK/bridged.xml"
after=$(fw_state)
ok "refused guests left the firewall exactly as it was" test "$before" = "$after"
ok "a2 was not disturbed by the thief" tcp "$A2" 198.51.100.2 80

# Someone flushes our rules: the next event puts them back.
ok "a2 is re-applied (reconnect)" hook a2 reconnect begin "$WORK/a2.xml"
fw_flush
ok "after flushing every $BACKEND rule of ours the status reports drift" sh -c "! ip netns exec '$H' '$CLI' status >/dev/null"
domain_xml c3 C vnet7 10.0.0.17 fd00:10::17 >"$WORK/c3.xml"
ok "the next event succeeds" hook c3 start begin "$WORK/c3.xml"
fails "and a1 is isolated again (cluster unreachable)" tcp "$A1" 172.16.0.2 7000
# The event finds the damage and rebuilds every guest from the records at
# once (iptables: its strict batch is refused; nftables: someone else has
# committed since our last commit, the ruleset generation says).
ok "status is clean right after that event (everything rebuilt)" in_ns "$H" "$CLI" status
ok "a1 -> a2 works at once" tcp "$A1" 10.0.0.12 9000
ok "reconnect of a1 (what a libvirtd restart does) repairs tenant A" hook a1 reconnect begin "$WORK/a1.xml"
ok "a1 -> a2 works again" tcp "$A1" 10.0.0.12 9000
ok "status is clean again" in_ns "$H" "$CLI" status

# A tap still recorded for a domain whose teardown never ran is taken over.
domain_xml d4 D vnet7 10.0.0.18 fd00:10::18 >"$WORK/d4.xml"
ok "a new guest gets a tap still recorded for another guest" hook d4 start begin "$WORK/d4.xml"
fails "the stale guest's addresses are gone" fw_has '10\.0\.0\.17([^0-9]|$)'
ok "status is consistent after the takeover" in_ns "$H" "$CLI" status
hook d4 stopped end "$WORK/d4.xml"

# 50 concurrent events for distinct guests in 10 tenants, then 50 concurrent stops.
for n in $(seq 1 50); do
	domain_xml "p$n" "t$((n % 10))" "vnet$((100 + n))" "10.0.1.$n" "fd00:10::1:$n" >"$WORK/p$n.xml"
done
hooks=()
for n in $(seq 1 50); do
	hook "p$n" start begin "$WORK/p$n.xml" &
	hooks+=($!)
done
wait "${hooks[@]}"
count=$(installed_taps | grep -c '^vnet1[0-9][0-9]$')
ok "50 concurrent starts: all 50 taps installed (got $count)" test "$count" -eq 50
ok "50 concurrent starts: 50 records" test "$(ls "$STATE_DIR/domains" | grep -c '^p[0-9]*\.state$')" -eq 50
ok "status is consistent after concurrent starts" in_ns "$H" "$CLI" status
hooks=()
for n in $(seq 1 50); do
	if [ $((n % 2)) = 0 ]; then hook "p$n" stopped end "$WORK/p$n.xml" & else hook "p$n" release end "$WORK/p$n.xml" & fi
	hooks+=($!)
done
wait "${hooks[@]}"
fails "50 concurrent stops: no tap left" fw_has 'vnet1[0-9][0-9]'
fails "50 concurrent stops: no tenant chain left" has_tenant_t
ok "status is consistent after concurrent stops" in_ns "$H" "$CLI" status

# Disabled configuration: the hook does nothing and refuses nothing.
sed -i 's/^enabled = true/enabled = false/' "$BLIXARD_NETISO_CONFIG"
domain_xml e5 E vnet8 10.0.0.20 fd00:10::20 >"$WORK/e5.xml"
ok "with enabled = false the hook accepts the guest" hook e5 start begin "$WORK/e5.xml"
ok "with enabled = false nothing is installed" test "$(mentions vnet8)" -eq 0

done_testing
