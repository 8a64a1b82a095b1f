#!/bin/bash
# The nftables event fast path (src/nft/nft-fast.c) against the full path: the
# same events in two hypervisor namespaces, one forced onto the full path,
# must leave the same table; someone else's commit (a flushed table or
# chain) makes the next event rebuild the table from the records, and a
# configuration change sends it down the full path; address
# conflicts are still refused; a tenant's last stop collects it in one batch.
set -u
. "$top_srcdir/tests/netns/lib-netns.sh"
BACKEND=nftables
require_root_tier nft python3 socat conntrack
[ -x "$HOOK" ] || tap_skip_all "hook not built: $HOOK"

TAP_LOG="$WORK/tap.log"
F="${NS_PREFIX}f"   # events take the fast path when they can
S="${NS_PREFIX}s"   # BLIXARD_NETISO_NFT_SLOW=1: always the full path
TRACE="$WORK/trace"
new_ns "$F"
new_ns "$S"
for side in f s; do
	mkdir -p "$WORK/state-$side"
	BLIXARD_NETISO_CONFIG="$WORK/$side.toml" STATE_DIR="$WORK/state-$side" write_config
done

# ev SIDE NAME OP SUB XML: one hook event on one side
ev() {
	local side=$1 ns=$F slow=0
	[ "$side" = s ] && ns=$S slow=1
	ip netns exec "$ns" env BLIXARD_NETISO_CONFIG="$WORK/$side.toml" \
		BLIXARD_NETISO_NFT_SLOW=$slow BLIXARD_NETISO_NFT_TRACE="$TRACE-$side" \
		"$HOOK" "$2" "$3" "$4" - <"$5"
}

# start NAME TENANT TAP V4 V6 / stop NAME: libvirt's events, on both sides
start() {
	local side
	domain_xml "$1" "$2" - "$4" "$5" >"$WORK/$1-prepare.xml"
	domain_xml "$1" "$2" "$3" "$4" "$5" >"$WORK/$1.xml"
	for side in f s; do
		ev $side "$1" prepare begin "$WORK/$1-prepare.xml" &&
			ev $side "$1" start begin "$WORK/$1.xml" &&
			ev $side "$1" started begin "$WORK/$1.xml" || return 1
	done
}
stop() {
	local side
	for side in f s; do
		ev $side "$1" stopped end "$WORK/$1.xml" &&
			ev $side "$1" release end "$WORK/$1-prepare.xml" || return 1
	done
}

# table NS: the table with counter values and element order left out
table() {
	ip netns exec "$1" nft list table inet blixard | python3 -c '
import re, sys
t = re.sub(r"counter packets \d+ bytes \d+", "counter", sys.stdin.read())
def elements(m):
    items = sorted(x.strip() for x in m.group(1).replace("\n", " ").split(","))
    return "elements = { " + ", ".join(items) + " }"
print(re.sub(r"elements = \{ (.*?) \}", elements, t, flags=re.S), end="")'
}

same_tables() {
	diff -u <(table "$S") <(table "$F")
}

# ruleset NS: 'nft -j list ruleset' (both tables) without handles, counter
# values or element order; objects of one kind in name order, rules in
# their chain's order
ruleset() {
	ip netns exec "$1" nft -j list ruleset | python3 -c '
import json, sys
def clean(x):
    if isinstance(x, dict):
        return {k: clean(v) for k, v in x.items() if k != "handle"}
    if isinstance(x, list):
        return [clean(v) for v in x]
    return x
objs = clean(json.load(sys.stdin)["nftables"])
for o in objs:
    for v in o.values():
        if isinstance(v, dict) and isinstance(v.get("elem"), list):
            v["elem"] = sorted(v["elem"], key=json.dumps)
        if isinstance(v, dict) and "counter" in v and isinstance(v["counter"], dict):
            v["counter"] = {}
def key(o):
    kind, v = next(iter(o.items()))
    return (kind, v.get("family", ""), v.get("chain", ""), v.get("name", "") if kind != "rule" else "")
text = json.dumps(sorted(objs, key=key), indent=1, sort_keys=True)
import re
print(re.sub(r"\"(packets|bytes)\": \d+", "\"\\1\": 0", text))'
}

same_rulesets() {
	ruleset "$S" >"$WORK/ruleset-s" && ruleset "$F" >"$WORK/ruleset-f" &&
		grep -q '@tenant-' "$WORK/ruleset-f" && diff -u "$WORK/ruleset-s" "$WORK/ruleset-f"
}

# last_path: what the fast side's last event did
last_path() {
	tail -n 1 "$TRACE-f"
}

# path_is REGEX: the fast side's last event's trace line matches
path_is() {
	last_path | grep -Eq -- "$1" || {
		echo "last event: $(last_path)"
		return 1
	}
}

chain_exists() {
	ip netns exec "$1" nft list chain inet blixard "$2" >/dev/null 2>&1
}

# ---- the same sequence of events on both paths ----
steps=(
	"start g1 A vnet1 10.0.0.11 fd00:10::11"
	"start g2 A vnet2 10.0.0.12 fd00:10::12"
	"start g3 B vnet3 10.0.0.13 fd00:10::13"
	"start g4 B vnet4 10.0.0.14 fd00:10::14"
	"stop g2"
	"start g5 C vnet5 10.0.0.15 fd00:10::15"
	"stop g3"
	"stop g4"
	"start g2 A vnet2 10.0.0.12 fd00:10::12"
	"start g3 B vnet3 10.0.0.13 fd00:10::13"
)
for step in "${steps[@]}"; do
	# shellcheck disable=SC2086
	ok "$step: the events succeed on both paths" $step
	ok "$step: both paths leave the same table" same_tables
	ok "$step: both paths leave the same ruleset (nft -j, both tables)" same_rulesets
done
diag "fast side: $(grep -c ' fast ' "$TRACE-f") events fast, $(grep -c ' slow ' "$TRACE-f") slow"
ok "the first event of all took the full path (no table yet)" \
	sh -c "head -n 1 '$TRACE-f' | grep -q '^install slow g1: '"
ok "a guest joining an existing tenant took the fast path" grep -qx 'install fast g2' "$TRACE-f"
ok "a new tenant's first guest took the fast path (its tenant created in the same batch)" \
	sh -c "grep ' g3' '$TRACE-f' | head -n 1 | grep -qx 'install fast g3'"
ok "so did the next new tenant's (and tenant B's again after its collection)" \
	sh -c "grep ' g5' '$TRACE-f' | head -n 1 | grep -qx 'install fast g5' && ! grep -q '^install slow g[2-5]' '$TRACE-f'"
ok "the tenant's chains hold its rules in both tables" \
	sh -c "ip netns exec '$F' nft list chain inet blixard tenant-B | grep -c 'tenant-B-.* accept' | grep -qx 3 && ip netns exec '$F' nft list chain bridge blixard tenant-B | grep -q 'oifname @tenant-B-ifs accept'"
ok "the second install of a start (started, with a record) took the fast path" \
	sh -c "[ \$(grep -cx 'install fast g3' '$TRACE-f') -ge 2 ]"
ok "every stop took the fast path" sh -c "! grep -q '^remove slow' '$TRACE-f'"
ok "the stop of a tenant's last guest collected its chain in the same event" \
	sh -c "[ \$(grep -cx 'remove fast g4' '$TRACE-f') -eq 1 ]"
ok "tenant B's chain came back with its next guest" chain_exists "$F" tenant-B
ok "guest_drops elements carry counters on the fast path too" \
	sh -c "ip netns exec '$F' nft list set inet blixard guest_drops | grep -q '\"vnet2\" counter packets 0 bytes 0'"

# ---- somebody else flushes: the next event repairs on the full path ----
# Both sides are flushed alike: an event repairs the skeleton and its own
# tenant's chain, as the full path always did (reconcile repairs the rest).
flush_both() {
	local ns
	for ns in "$F" "$S"; do
		ip netns exec "$ns" nft "$@"
	done
}

# skeleton_intact: forward holds its rules again on the fast side
skeleton_intact() {
	[ "$(ip netns exec "$F" nft list chain inet blixard forward | grep -c 'jump\|accept\|drop')" -ge 5 ]
}

flush_both flush table inet blixard
ok "after 'nft flush table': stop g1 succeeds" stop g1
ok "after 'nft flush table': that event took the full path" \
	path_is '^remove slow g1: the ruleset changed since our last commit'
ok "after 'nft flush table': the skeleton is repaired" skeleton_intact
ok "after 'nft flush table': both paths leave the same table" same_tables
ok "after 'nft flush table': start g1 succeeds" start g1 A vnet1 10.0.0.11 fd00:10::11
# The stop found someone else's commit and rebuilt the table from the
# records: every tenant's chain, tenant-A's (g2's) included.
ok "its start took the fast path (the stop's rebuild repaired tenant-A's chain)" \
	path_is '^install fast g1$'
ok "tenant-A's chain is repaired" \
	sh -c "ip netns exec '$F' nft list chain inet blixard tenant-A | grep -q 'oifname @tenant-A-ifs accept'"
ok "both paths leave the same table" same_tables

flush_both flush chain inet blixard forward
ok "after 'nft flush chain forward': start g6 succeeds" start g6 A vnet6 10.0.0.16 fd00:10::16
ok "after 'nft flush chain forward': the first event took the full path" \
	grep -q '^install slow g6: the ruleset changed since our last commit' "$TRACE-f"
ok "after 'nft flush chain forward': the skeleton is repaired" skeleton_intact
ok "after 'nft flush chain forward': both paths leave the same table" same_tables

flush_both flush chain inet blixard tenant-A
ok "after 'nft flush chain tenant-A': stop g6 succeeds" stop g6
ok "after 'nft flush chain tenant-A': that event took the full path" \
	path_is '^remove slow g6: the ruleset changed since our last commit'
ok "after 'nft flush chain tenant-A': both paths leave the same table" same_tables
ok "after 'nft flush chain tenant-A': start g6 succeeds" start g6 A vnet6 10.0.0.16 fd00:10::16
ok "tenant-A's chain is repaired" \
	sh -c "ip netns exec '$F' nft list chain inet blixard tenant-A | grep -q 'oifname @tenant-A-ifs accept'"
ok "stop g6 succeeds" stop g6
ok "both paths leave the same table" same_tables

# ---- a configuration change is applied by the next event ----
for side in f s; do
	sed -i 's|^cluster_networks = \[|cluster_networks = ["192.0.2.0/24", |' "$WORK/$side.toml"
done
ok "after a new cluster network: start g6 succeeds" start g6 C vnet6 10.0.0.16 fd00:10::16
ok "after a new cluster network: the first event took the full path" \
	grep -q "^install slow g6: the skeleton is not this configuration's" "$TRACE-f"
ok "the new cluster network is in the table" \
	sh -c "ip netns exec '$F' nft list set inet blixard cluster_v4 | grep -q 192.0.2.0/24"
ok "after a new cluster network: both paths leave the same table" same_tables
ok "the next event is fast again" stop g6
ok "the event after the configuration change took the fast path" path_is '^remove fast g6$'

# ---- address conflicts are refused, the table unchanged ----
table "$F" >"$WORK/before-conflict"
fails "a guest claiming g1's address is refused" start g7 A vnet7 10.0.0.11 fd00:10::17
ok "the refusal came from the fast path's batch" path_is '^install fast g7 \(refused\)$'
ok "the refusal names the conflict" \
	sh -c "BLIXARD_NETISO_CONFIG='$WORK/f.toml' ip netns exec '$F' '$HOOK' g7 start begin - <'$WORK/g7.xml' 2>&1 | grep -q 'already installed for another guest'"
ok "the table is unchanged after the refusal" diff -u "$WORK/before-conflict" <(table "$F")
for side in f s; do
	ev $side g7 stopped end "$WORK/g7.xml" && ev $side g7 release end "$WORK/g7-prepare.xml"
done
ok "teardown of the refused guest leaves both tables alike" same_tables
ok "g1 still owns its address" \
	sh -c "ip netns exec '$F' nft get element inet blixard addr_owner_v4 '{ 10.0.0.11 }' | grep -q '\"vnet1\"'"

# ---- the kernel refuses the tenant's collection: the stop still succeeds ----
for ns in "$F" "$S"; do
	ip netns exec "$ns" nft add chain inet blixard extra
	ip netns exec "$ns" nft add rule inet blixard extra oifname @tenant-C-ifs accept
done
# Someone else committed: the next event takes the full path and records
# the generation it leaves, so the stop after it is fast again.
for side in f s; do
	ev $side g1 started begin "$WORK/g1.xml"
done
ok "the event after someone else's commit took the full path" \
	path_is '^install slow g1: the ruleset changed since our last commit'
ok "the last guest of a tenant whose set is still referenced stops" stop g5
ok "that stop took the fast path (the collection retried without)" path_is '^remove fast g5$'
ok "tenant C's chain stays while its set is referenced" chain_exists "$F" tenant-C
ok "g5's elements are gone" sh -c "! ip netns exec '$F' nft list table inet blixard | grep -q vnet5"
ok "both paths leave the same table" same_tables

# ---- what the fast path must not trust, even at our own generation ----
# foreign_trusted NFT-ARGS...: someone else's change on the fast side, with
# our record rewritten to the generation it left (read from 'nft monitor'),
# so that only the tenant probe stands between it and the fast path
foreign_trusted() {
	local mon=$WORK/monitor gen
	: >"$mon"
	ip netns exec "$F" nft monitor >"$mon" 2>/dev/null &
	local pid=$!
	within 5000 sh -c "ip netns exec '$F' nft list ruleset >/dev/null; sleep 0.1; ip netns exec '$F' nft $* && sleep 0.2 && grep -q 'new generation' '$mon'" || {
		kill "$pid"
		return 1
	}
	kill "$pid"
	wait "$pid" 2>/dev/null
	gen=$(sed -n 's/^# new generation \([0-9]*\) .*/\1/p' "$mon" | tail -n 1)
	[ -n "$gen" ] &&
		sed -i -E "s/^([^ ]+ [^ ]+) [0-9]+ /\1 $gen /" "$WORK/state-f/nft-generation"
}
# evf NAME TENANT TAP V4 V6: a guest's start on the fast side alone
evf() {
	domain_xml "$1" "$2" - "$4" "$5" >"$WORK/$1-prepare.xml"
	domain_xml "$1" "$2" "$3" "$4" "$5" >"$WORK/$1.xml"
	ev f "$1" prepare begin "$WORK/$1-prepare.xml" && ev f "$1" start begin "$WORK/$1.xml"
}

ok "a set of a tenant without a chain appears (trusted)" \
	foreign_trusted "add set inet blixard tenant-Z-ifs '{ type ifname; }'"
ok "the first guest of that tenant starts" evf gz Z vnet9 10.0.0.19 fd00:10::19
ok "its fast batch was refused (the set exists) and it took the full path" \
	path_is '^install slow gz: .*File exists'
ok "tenant Z's chain holds its rules" \
	sh -c "ip netns exec '$F' nft list chain inet blixard tenant-Z | grep -c 'tenant-Z-.* accept' | grep -qx 3"
ok "tenant Z's guest is installed" \
	sh -c "ip netns exec '$F' nft list set inet blixard tenant-Z-ifs | grep -q vnet9"
ok "a rule of someone else's in tenant A's chain appears (trusted)" \
	foreign_trusted "add rule inet blixard tenant-A accept"
ok "a guest of tenant A starts" evf ga A vnet8 10.0.0.18 fd00:10::18
ok "it took the full path (tenant A's chain has an unexpected rule)" \
	path_is '^install slow ga: chain tenant-A has 4 rules, expected 3'
ok "the full path rewrote tenant A's chain" \
	sh -c "ip netns exec '$F' nft list chain inet blixard tenant-A | grep -c accept | grep -qx 3"

# ---- the established shortcut towards guests cannot carry a spoofed packet ----
# g3 (tenant B) has a UDP flow to an outside address; g1 (tenant A) forges a
# reply from that address. The packet is "established" for conntrack, but
# it comes from a guest: from_guest's anti-spoofing must judge it before
# forward's shortcut towards g3 (see render_base_chains).
H=$F
in_ns "$F" sysctl -qw net.ipv4.ip_forward=1
guest_up a1 vnet1 10.0.0.11 fd00:10::11
guest_up b3 vnet3 10.0.0.13 fd00:10::13
# The outside: a link whose far end never answers (a static neighbour, so
# that forwarded packets leave and their flow is confirmed).
ip link add out0 netns "$F" type veth peer name out1 netns "$F"
in_ns "$F" ip link set out0 up
in_ns "$F" ip link set out1 up
in_ns "$F" ip route add 198.51.100.0/24 dev out0
in_ns "$F" ip neigh add 198.51.100.2 lladdr 02:00:00:00:00:02 dev out0
drops_vnet1() {
	in_ns "$F" nft list set inet blixard guest_drops | sed -n 's/.*"vnet1" counter packets \([0-9]*\).*/\1/p'
}
before=$(drops_vnet1)
spoof_add "$(guest_ns a1)" 198.51.100.2
((echo flow; sleep 3) | in_ns "$(guest_ns b3)" timeout 4 socat - UDP:198.51.100.2:5556,sourceport=40000 \
	>"$WORK/b3-got" 2>/dev/null) &
flow=$!
sleep 1
ok "g3's flow outwards is tracked" \
	sh -c "ip netns exec '$F' conntrack -L -p udp --dport 5556 2>/dev/null | grep -q 10.0.0.13"
echo forged | in_ns "$(guest_ns a1)" socat -u - UDP:10.0.0.13:40000,bind=198.51.100.2:5556 2>/dev/null
wait "$flow"
spoof_del "$(guest_ns a1)" 198.51.100.2
ok "a reply forged by another guest never reaches g3" sh -c "! grep -q forged '$WORK/b3-got'"
ok "it was dropped as spoofed on g1's tap (drop counter $before -> $(drops_vnet1))" \
	test "$(drops_vnet1)" -gt "$before"

done_testing
