#!/bin/bash
# why beyond the traffic matrix: when the firewall differs from the records
# it says so (with --strict, exit 3, with the differences that concern the two ends and not
# other guests'), its JSON, the domain forms, and one-line errors for what it
# cannot answer. NETISO_BACKEND selects the backend (nftables by default).
set -u
. "$top_srcdir/tests/netns/lib-netns.sh"
require_root_tier ip socat python3 setpriv
require_backend_tools
[ -x "$HOOK" ] || tap_skip_all "hook not built: $HOOK"

TAP_LOG="$WORK/tap.log"
write_config
topology_up
guest_up a1 vnet1 10.0.0.11 fd00:10::11
guest_up a2 vnet2 10.0.0.12 fd00:10::12
guest_up b1 vnet3 10.0.0.13 fd00:10::13
wait_ports
start_all() {
	start_guest a1 A vnet1 10.0.0.11 fd00:10::11 &&
		start_guest a2 A vnet2 10.0.0.12 fd00:10::12 &&
		start_guest b1 B vnet3 10.0.0.13 fd00:10::13
}
ok "hook installs a1 and a2 (tenant A) and b1 (tenant B)" start_all

why_() { # why_ STATUS ARGS...: why exits STATUS, its output in $WORK/out and $WORK/err
	local want=$1
	shift
	in_ns "$H" "$CLI" why "$@" >"$WORK/out" 2>"$WORK/err"
	[ $? = "$want" ]
}
json() { # json EXPR: a Python expression on the JSON answer (j) in $WORK/out is true
	python3 -c "import json, sys; j = json.load(open(sys.argv[1])); sys.exit(0 if ($1) else 1)" "$WORK/out"
}
one_line_error() { # stderr is one line naming TEXT
	[ "$(wc -l <"$WORK/err")" = 1 ] && grep -qF -- "$1" "$WORK/err"
}

ok "a1 -> b1 tcp 9000: dropped (exit 1)" why_ 1 --from a1 --to b1:9000
ok "... the first line names rule 5 and both tenants" grep -q '^dropped by rule 5 of TRAFFIC SEMANTICS: 10.0.0.13 is guest b1 of tenant B, not A' "$WORK/out"
ok "... and the facts: a1's tap, b1's tenant, the options consulted" sh -c "grep -q 'from:    guest a1 (tenant A, tap vnet1)' '$WORK/out' && grep -q 'to:      guest b1 (tenant B, tap vnet3)' '$WORK/out' && grep -q 'tenant_isolation = true' '$WORK/out'"
ok "... and that the firewall agrees" grep -q "firewall agrees with the records" "$WORK/out"
ok "--json: dropped by rule 5, the ends and the kernel's agreement" why_ 1 --json --from a1 --to b1:9000
ok "... as data" json 'j["verdict"] == "dropped" and j["rule"] == 5 and j["from"]["tenant"] == "A" and j["to"]["tenant"] == "B" and j["to"]["interface"] == "vnet3" and j["kernel"]["checked"] and j["kernel"]["agrees"] and j["config"]["tenant_isolation"] is True and [c["rule"] for c in j["checks"]] == [1, 3, 4, 5]'
ok "-6 between two domains asks about their IPv6 addresses (icmp)" why_ 1 -6 --json --from a1 --to b1
ok "... fd00:10::11 -> fd00:10::13" json 'j["packet"] == {"family": 6, "protocol": "icmp", "source": "fd00:10::11", "destination": "fd00:10::13", "port": None}'
ok "the reverse direction: the internet -> a1 tcp 2222 is allowed by rule 11" why_ 0 --json --from 198.51.100.2 --to a1:2222
ok "... with the allowed inbound port as the fact" json 'j["rule"] == 11 and j["from"]["kind"] == "outside" and j["from"]["interface"] == "wan0" and j["facts"]["allowed_port"] == {"protocol": "tcp", "port": 2222, "direction": "inbound"}'
ok "a1 -> the cluster over IPv6: rule 3 names the cluster network" why_ 1 --json --from a1 --to '[fd00:172::2]:53' --proto udp
ok "... fd00:172::/64" json 'j["rule"] == 3 and j["facts"]["cluster_network"] == "fd00:172::/64"'
ok "an address the host routes to a guest's tap but is not its own: spoofing (rule 1)" sh -c "ip netns exec '$H' ip route add 10.0.0.50/32 dev vnet1 && ip netns exec '$H' '$CLI' why --from 10.0.0.50 --to 198.51.100.2:80 >'$WORK/out'; test \$? = 1 && grep -q '^dropped by rule 1' '$WORK/out' && grep -q 'host routes it to a1.s tap vnet1' '$WORK/out'"

# What why cannot answer: one line, exit 2.
ok "an unknown domain: exit 2" why_ 2 --from nobody --to 198.51.100.2:80
ok "... in one line naming it" one_line_error "--from: 'nobody' is neither an address nor a domain installed on this host"
ok "neither end a guest of this host: exit 2" why_ 2 --from 198.51.100.2 --to 172.16.0.2:7000
ok "... in one line" one_line_error "neither 198.51.100.2 nor 172.16.0.2 is a guest of this host"
ok "tcp without a port: exit 2" why_ 2 --from a1 --to 198.51.100.2 --proto tcp
ok "a port on --from: exit 2" why_ 2 --from a1:80 --to 198.51.100.2:80
ok "--source with an address --from: exit 2" why_ 2 --from 10.0.0.11 --source 10.0.0.12 --to 198.51.100.2:80
ok "an IPv4 and an IPv6 end: exit 2" why_ 2 --from 10.0.0.11 --to '[2001:db8:100::2]:80'
ok "a bad protocol: exit 2" why_ 2 --from a1 --to 198.51.100.2:80 --proto sctp
ok "without --to: exit 2" why_ 2 --from a1
unprivileged_why() { # an operator without root: the configuration is readable, the records are not
	local rc
	chmod 711 "$WORK"
	in_ns "$H" setpriv --reuid=65534 --regid=65534 --clear-groups "$CLI" why --strict --from a1 --to b1:9000 2>"$WORK/err"
	rc=$?
	chmod 700 "$WORK"
	[ $rc = 3 ] && [ "$(wc -l <"$WORK/err")" = 1 ]
}
ok "without privileges: no answer (--strict: exit 3), one line" unprivileged_why

# Drift: the kernel no longer holds what the records say.
ok "someone flushes the firewall's chains" fw_flush
ok "a1 -> a2: the records' verdict (allowed), but exit 3" why_ 3 --strict --from a1 --to a2:9000
ok "... the first line is still the verdict" grep -q "^allowed by rule 5" "$WORK/out"
ok "without --strict the exit is the verdict's (0), the drift still said" sh -c "'$CLI' --version >/dev/null; ip netns exec '$H' '$CLI' why --from a1 --to a2:9000 >'$WORK/out2'; test \$? = 0 && grep -q DRIFT '$WORK/out2'"
ok "... and the output says DRIFT with the differences" sh -c "grep -q 'DRIFT' '$WORK/out' && test \$(grep -c '^    ' '$WORK/out') -gt 4"
ok "--json: kernel.agrees is false and the drift is listed" why_ 3 --strict --json --from a1 --to a2:9000
ok "... as data" json 'j["verdict"] == "allowed" and j["kernel"]["checked"] and not j["kernel"]["agrees"] and len(j["kernel"]["drift"]) > 0'
ok "... and indeed a1 reaches the cluster now, which the exit 3 warned of" tcp "$(guest_ns a1)" 172.16.0.2 7000
ok "the guests' next events repair it" start_all
ok "why agrees with the kernel again (--strict: exit 0)" why_ 0 --strict --from a1 --to a2:9000

# Drift that concerns other guests only is not this packet's.
flush_tenant_b() {
	local t chain
	case $BACKEND in
	iptables)
		for t in iptables ip6tables; do
			chain=$(in_ns "$H" "$t-save" -t filter | sed -n 's/^-A \(BLXG[^ ]*\) .*--comment "tenant B".*/\1/p' | head -n1)
			[ -n "$chain" ] && in_ns "$H" "$t" -w -F "$chain" || return 1
		done
		;;
	*) nft_h flush chain inet blixard tenant-B ;;
	esac
}
ok "tenant B's chain is flushed" flush_tenant_b
ok "a1 -> a2 (tenant A) is unaffected: exit 0" why_ 0 --from a1 --to a2:9000
ok "b1 -> the internet reports it: exit 3 with --strict" why_ 3 --strict --from b1 --to 198.51.100.2:80
ok "... naming tenant B or b1" grep -Eq "tenant.B|'b1'" "$WORK/out"

done_testing
