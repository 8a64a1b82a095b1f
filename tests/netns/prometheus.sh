#!/bin/bash
# status --prometheus with real counters: the text parses with the Prometheus
# client library's own parser, the per-guest and per-reason drop counters
# rise by at least the packets the firewall dropped (spoofed, blocked,
# inbound, unprotected), and the times of the last event and the last repair
# follow the hook and reconcile. NETISO_BACKEND selects the backend.
set -u
. "$top_srcdir/tests/netns/lib-netns.sh"
require_root_tier ip socat python3
require_backend_tools
[ -x "$HOOK" ] || tap_skip_all "hook not built: $HOOK"
# Debian's python3-prometheus-client serves /usr/bin/python3, which may not
# be the first python3 on PATH.
PY=""
for p in python3 /usr/bin/python3; do
	"$p" -c 'import prometheus_client.parser' 2>/dev/null && PY=$p && break
done
[ -n "$PY" ] || tap_skip_all "needs python3-prometheus-client (scripts/install-deps)"

TAP_LOG="$WORK/tap.log"
write_config
topology_up
guest_up a1 vnet1 10.0.0.11 fd00:10::11
guest_up b1 vnet3 10.0.0.13 fd00:10::13
guest_up u vnet9 10.0.0.19 fd00:10::19 # a guest-like tap the hook never saw
A1=$(guest_ns a1) U=$(guest_ns u)
wait_ports
t0=$(date +%s)
ok "hook installs a1 (tenant A)" start_guest a1 A vnet1 10.0.0.11 fd00:10::11
ok "hook installs b1 (tenant B)" start_guest b1 B vnet3 10.0.0.13 fd00:10::13

# scrape: status --prometheus into $WORK/prom, parsed by prometheus_client
scrape() {
	in_ns "$H" "$CLI" status --prometheus >"$WORK/prom" || return 1
	"$PY" -c 'import sys
from prometheus_client.parser import text_string_to_metric_families as parse
list(parse(open(sys.argv[1]).read()))' "$WORK/prom"
}
# value NAME [LABEL=VALUE...]: the sample's value, "absent" when there is none
value() {
	"$PY" - "$WORK/prom" "$@" <<'EOP'
import sys
from prometheus_client.parser import text_string_to_metric_families as parse
want = dict(a.split("=", 1) for a in sys.argv[3:])
for family in parse(open(sys.argv[1]).read()):
    for s in family.samples:
        if s.name == sys.argv[2] and all(s.labels.get(k) == v for k, v in want.items()):
            print(int(s.value) if s.value == int(s.value) else s.value)
            sys.exit(0)
print("absent")
EOP
}
is() { # is NAME [LABELS...] VALUE
	local want=${*: -1}
	[ "$(value "${@:1:$#-1}")" = "$want" ]
}
rose() { # rose BEFORE NAME [LABELS...] MIN: the value grew by at least MIN
	local before=$1 min=${*: -1} now
	now=$(value "${@:2:$#-2}")
	[ "$now" != absent ] && [ "$((now - before))" -ge "$min" ]
}
# after NAME SECONDS: the time sample is at or after SECONDS (Unix time)
after() {
	local t
	t=$(value "$1")
	[ "$t" != absent ] && awk -v t="$t" -v s="$2" 'BEGIN { exit !(t >= s) }'
}
# send NS SRC DST PORT N: N UDP datagrams from SRC (an address NS holds)
send() {
	in_ns "$1" python3 -c 'import socket, sys
src, dst, port, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
s = socket.socket(socket.AF_INET6 if ":" in dst else socket.AF_INET, socket.SOCK_DGRAM)
s.bind((src, 0))
for _ in range(n):
    s.sendto(b"x", (dst, port))' "$2" "$3" "$4" "$5"
}

ok "status --prometheus exits 0 and the client library parses it" scrape
ok "HELP and TYPE for every family, names prefixed blixard_netiso_" sh -c "! grep -v '^# \(HELP\|TYPE\) blixard_netiso_' '$WORK/prom' | grep -v '^blixard_netiso_[a-z_]*[{ ]'"
ok "per-reason drops are counters" grep -qx "# TYPE blixard_netiso_dropped_packets_total counter" "$WORK/prom"
ok "2 guests" is blixard_netiso_guests 2
ok "2 tenants" is blixard_netiso_tenants 2
ok "1 guest in tenant A" is blixard_netiso_tenant_guests tenant=A 1
ok "a1's interface is installed" is blixard_netiso_interface_installed domain=a1 tenant=A tap=vnet1 1
ok "isolation is active" is blixard_netiso_active 1
ok "the firewall is intact" is blixard_netiso_firewall_intact 1
ok "the last event is the hook's (since the test began)" after blixard_netiso_last_event_timestamp_seconds "$t0"
ok "no repair yet: no last repair sample" is blixard_netiso_last_repair_timestamp_seconds absent

spoofed=$(value blixard_netiso_dropped_packets_total reason=spoofed)
blocked=$(value blixard_netiso_dropped_packets_total reason=blocked)
inbound=$(value blixard_netiso_dropped_packets_total reason=inbound)
unprotected=$(value blixard_netiso_dropped_packets_total reason=unprotected)
a1=$(value blixard_netiso_guest_dropped_packets_total domain=a1 tenant=A tap=vnet1)
diag "before: spoofed $spoofed blocked $blocked inbound $inbound unprotected $unprotected a1 $a1"
ok "the per-reason counters are read from the firewall" test "$spoofed" != absent

spoof_add "$A1" 10.0.0.13
ok "a1 sends 20 datagrams from b1's address" send "$A1" 10.0.0.13 198.51.100.2 5555 20
spoof_del "$A1" 10.0.0.13
ok "a1 sends 20 datagrams to the cluster" send "$A1" 10.0.0.11 172.16.0.2 53 20
ok "a1 sends 20 over IPv6 to the cluster" send "$A1" fd00:10::11 fd00:172::2 53 20
ok "the internet sends 20 to a port of a1 that is not open" send "$I" 198.51.100.2 10.0.0.11 5555 20
ok "the guest-like tap nothing is installed for sends 20" send "$U" 10.0.0.19 198.51.100.2 5555 20
ok "scrape again" scrape
ok "spoofed rose by at least 20" rose "$spoofed" blixard_netiso_dropped_packets_total reason=spoofed 20
ok "blocked rose by at least 40" rose "$blocked" blixard_netiso_dropped_packets_total reason=blocked 40
ok "inbound rose by at least 20" rose "$inbound" blixard_netiso_dropped_packets_total reason=inbound 20
ok "unprotected rose by at least 20" rose "$unprotected" blixard_netiso_dropped_packets_total reason=unprotected 20
ok "a1's own counter rose by at least 80 (its spoofed, blocked and inbound drops)" rose "$a1" blixard_netiso_guest_dropped_packets_total domain=a1 tenant=A tap=vnet1 80
ok "bytes are counted too" rose 0 blixard_netiso_guest_dropped_bytes_total domain=a1 tenant=A tap=vnet1 80

# Events and repairs move the times.
t1=$(date +%s.%N)
ok "b1 stops" stop_guest b1
ok "scrape after the stop" scrape
ok "the last event moved to the stop" after blixard_netiso_last_event_timestamp_seconds "$t1"
ok "1 guest left" is blixard_netiso_guests 1
ok "in 1 tenant" is blixard_netiso_tenants 1
ok "someone flushes the firewall" fw_flush
ok "scrape after the flush" scrape
ok "the firewall is not intact" is blixard_netiso_firewall_intact 0
ok "isolation is not active" is blixard_netiso_active 0
ok "the problems are counted" rose 0 blixard_netiso_firewall_problems 1
t2=$(date +%s.%N)
# libvirt's test driver runs in the tool itself: its one domain has no
# routed tap, so a1's record goes and the table is rebuilt, a real repair.
in_ns "$H" "$CLI" reconcile --connect test:///default >"$WORK/reconcile" 2>&1
ok "reconcile repaired (committed a transaction)" grep -q "repaired\|removed\|rebuilt" "$WORK/reconcile"
ok "scrape after the repair" scrape
ok "the last repair is reconcile's" after blixard_netiso_last_repair_timestamp_seconds "$t2"
ok "the firewall is intact again" is blixard_netiso_firewall_intact 1

done_testing
