#!/bin/bash
# The etcd client and the address claims against one real etcd member in a
# namespace: KV calls (IPv4 and IPv6 endpoints), claim semantics (one owner
# per address, migration moves it, a dead host's claims expire), racing
# claims, leases, deadlines that hold against silent endpoints, and the
# time a hook-style claim takes.
set -u
. "$top_srcdir/tests/cluster/lib-etcd.sh"
require_root_tier ip etcd etcdctl socat
[ -x "$PROBE" ] || tap_skip_all "needs $PROBE (make check builds it)"
TAP_LOG="$WORK/tap.log"

single_member_up
PFX=/blixard/netiso/
U1=11111111-2222-4333-8444-555555555555
U2=21111111-2222-4333-8444-555555555555
U3=31111111-2222-4333-8444-555555555555

value_is() { # KEY EXPECTED: etcdctl (not our client) reads KEY
	[ "$(ctl "$EP" get --print-value-only "$1")" = "$2" ]
}
absent() {
	[ -z "$(ctl "$EP" get --keys-only "$1")" ]
}
out_has() { # PATTERN COMMAND...: the command succeeds and prints PATTERN
	local pattern=$1
	shift
	"$@" >"$WORK/out" 2>&1 && grep -qE -- "$pattern" "$WORK/out" || {
		cat "$WORK/out"
		return 1
	}
}
fails_with() { # CODE PATTERN COMMAND...: exit status CODE, stderr matches
	local code=$1 pattern=$2
	shift 2
	"$@" >"$WORK/out" 2>&1
	local rc=$?
	[ "$rc" = "$code" ] && grep -qE -- "$pattern" "$WORK/out" && [ "$(wc -l <"$WORK/out")" = 1 ] || {
		echo "exit $rc: $(cat "$WORK/out")"
		return 1
	}
}

### KV
ok "put is read back by etcdctl" probe "$EP" put /t/a hello
ok "the value etcdctl sees is ours" value_is /t/a hello
ok "get over an IPv6 endpoint" out_has '^hello$' probe "$EP6" get /t/a
ok "range lists the prefix" out_has '^/t/a hello lease=0$' probe "$EP" range /t/
ok "delete" out_has '^deleted 1$' probe "$EP" del /t/a
ok "etcdctl sees it deleted" absent /t/a
fails "get of a missing key fails (exit 3)" probe "$EP" get /t/a
ok "binary-safe values survive base64" probe "$EP" put /t/b 'a"b\c{}é'
ok "etcdctl reads the same bytes" value_is /t/b 'a"b\c{}é'

### Leases
L=$(probe "$EP" grant 2)
ok "grant returns a lease id" test -n "$L"
ok "put bound to the lease" probe "$EP" put /t/leased x "$L"
ok "the key goes when the lease expires (2 s TTL)" wait_for 15 absent /t/leased
fails "keep-alive of an expired lease fails" probe "$EP" keepalive "$L"
L=$(probe "$EP" grant 2)
probe "$EP" put /t/kept x "$L" >/dev/null
probe_bg "$WORK/keep" "$EP" keep "$L" 2
KEEPER=$LAST_PID
sleep 6
ok "a lease keeper holds a 2 s lease for 6 s" value_is /t/kept x
ok "the keeper reported no failure" bash -c "! grep -q unreachable '$WORK/keep'"
probe "$EP" revoke "$L" >/dev/null
ok "the keeper sees the revoked lease as lost" wait_for 10 file_has "$WORK/keep" '^lease lost'
ok "and the key went with it" absent /t/kept
stop_bg "$KEEPER"

### Claims: one owner per address, migration by UUID
LA=$(probe "$EP" grant 60)
LB=$(probe "$EP" grant 60)
probe "$EP" --node hv-a register "$LA" >/dev/null
probe "$EP" --node hv-b register "$LB" >/dev/null
ok "a new guest's addresses are claimed" \
	out_has 'created=2 moved=0 kept=0' probe "$EP" --node hv-a claim "$U1" web1 t1 10.0.0.5 fd00:10::5
ok "the owner record names the guest and host" \
	value_is ${PFX}owners/10.0.0.5 "{\"v\":1,\"uuid\":\"$U1\",\"node\":\"hv-a\"}"
ok "the guest record is published with the addresses" \
	bash -c "ETCDCTL_API=3 ip netns exec $C etcdctl --endpoints $EP get --print-value-only ${PFX}guests/hv-a/$U1 | grep -q '\"addresses\":\[\"10.0.0.5\",\"fd00:10::5\"\]'"
ok "claim records are bound to the host's lease" \
	out_has "owners/fd00:10::5 .* lease=$LA" probe "$EP" range ${PFX}owners/
ok "a re-install keeps the claim" \
	out_has 'created=0 moved=0 kept=2' probe "$EP" --node hv-a claim "$U1" web1 t1 10.0.0.5 fd00:10::5
fails_with_conflict() {
	fails_with 4 "address 10.0.0.5 is owned by guest $U1 on host hv-a" "$@"
}
ok "another guest cannot take an owned address (one line, names owner and host)" \
	fails_with_conflict probe "$EP" --node hv-b claim "$U2" web2 t2 10.0.0.5
ok "not even on the same host" \
	fails_with_conflict probe "$EP" --node hv-a claim "$U2" web2 t2 10.0.0.5
ok "nothing of the refused claim was written" absent ${PFX}guests/hv-b/$U2
ok "the same UUID on another host moves the claim (migration)" \
	out_has 'created=0 moved=2 kept=0' probe "$EP" --node hv-b claim "$U1" web1 t1 10.0.0.5 fd00:10::5
ok "the owner is now the destination" \
	value_is ${PFX}owners/10.0.0.5 "{\"v\":1,\"uuid\":\"$U1\",\"node\":\"hv-b\"}"
ok "the source's release after migration" probe "$EP" --node hv-a release "$U1" web1 t1 10.0.0.5 fd00:10::5
ok "... removes the source's guest record" absent ${PFX}guests/hv-a/$U1
ok "... and leaves the destination's claim" \
	value_is ${PFX}owners/fd00:10::5 "{\"v\":1,\"uuid\":\"$U1\",\"node\":\"hv-b\"}"
ok "the destination's release frees the addresses" \
	out_has 'released rounds=1' probe "$EP" --node hv-b release "$U1" web1 t1 10.0.0.5 fd00:10::5
ok "... owner records gone" absent ${PFX}owners/10.0.0.5
ok "a host without a live registration cannot claim (fails closed)" \
	fails_with 1 'host hv-c has no live registration' probe "$EP" --node hv-c claim "$U3" web3 t3 10.0.0.7
ok "a claim with the host's lease known costs one transaction" \
	out_has 'created=1 .*rounds=1' probe "$EP" --node hv-a --lease-hint "$LA" claim "$U3" web3 t3 10.0.0.7
ok "a stale lease hint costs a second one, not a failure" \
	out_has 'kept=1 .*rounds=2' probe "$EP" --node hv-a --lease-hint 12345 claim "$U3" web3 t3 10.0.0.7
ctl "$EP" put ${PFX}owners/10.0.0.9 'not json' >/dev/null
ok "an unreadable owner record blocks the address (fails closed)" \
	fails_with 1 'owner of 10.0.0.9: record is not JSON' probe "$EP" --node hv-a claim "$U2" web2 t2 10.0.0.9

### A dead host's claims expire with its lease
LD=$(probe "$EP" grant 2)
probe "$EP" --node hv-d register "$LD" >/dev/null
ok "a host claims an address" probe "$EP" --node hv-d --lease-hint "$LD" claim "$U2" web2 t2 10.0.1.1
ok "others cannot take it meanwhile" fails_with 4 'owned by' probe "$EP" --node hv-a claim "$U3" web3 t3 10.0.1.1
ok "the host dies: its registration, records and claims expire" wait_for 15 absent ${PFX}owners/10.0.1.1
ok "... all of them" bash -c "[ -z \"\$(ETCDCTL_API=3 ip netns exec $C etcdctl --endpoints $EP get --keys-only --prefix ${PFX} | grep hv-d)\" ]"
ok "then another guest may claim the address" probe "$EP" --node hv-a claim "$U3" web3 t3 10.0.0.7 10.0.1.1

### Racing claims: two hosts, 20 addresses, one owner each
race() { # NODE UUID-DIGIT: try to claim 10.0.2.1..20 for one guest each
	local node=$1 d=$2 i
	for i in $(seq 1 20); do
		if probe "$EP" --node "$node" claim "$(printf '%08d-0000-4000-8000-%012d' "$d" "$i")" r t"$d" 10.0.2."$i" >/dev/null 2>&1; then
			echo "10.0.2.$i"
		fi
	done
}
race hv-a 1 >"$WORK/race-a" &
RA=$!
race hv-b 2 >"$WORK/race-b" &
RB=$!
wait "$RA" "$RB"
ok "racing claims: each address won exactly once" \
	test "$(sort "$WORK/race-a" "$WORK/race-b" | uniq | wc -l)" = 20 -a \
	"$(cat "$WORK/race-a" "$WORK/race-b" | wc -l)" = 20
ok "racing claims: the owners in etcd are the winners" bash -c "
	for a in \$(cat $WORK/race-a); do
		ETCDCTL_API=3 ip netns exec $C etcdctl --endpoints $EP get --print-value-only ${PFX}owners/\$a | grep -q '\"node\":\"hv-a\"' || exit 1
	done"
diag "race split: hv-a won $(wc -l <"$WORK/race-a"), hv-b won $(wc -l <"$WORK/race-b")"

### Deadlines: a silent endpoint never holds a caller longer than asked
# A listener that accepts and never answers, and an address nobody has.
in_ns "$E" ip addr add "$NET4.50/24" dev eth0
serve_silent() {
	ip netns exec "$E" socat TCP-LISTEN:2379,bind="$NET4.50",reuseaddr,fork SYSTEM:'sleep 30' >/dev/null 2>&1 &
	PIDS+=($!)
}
serve_silent
wait_for 10 in_ns "$C" bash -c "exec 3<>/dev/tcp/$NET4.50/2379"
within_ms() { # MS COMMAND...: the command ends (either way) within MS
	local limit=$1 t0 t1
	shift
	t0=$(now_ms)
	"$@" >"$WORK/out" 2>&1
	t1=$(now_ms)
	echo "$((t1 - t0)) ms: $(head -c 300 "$WORK/out")" >"$WORK/within"
	cat "$WORK/within"
	[ $((t1 - t0)) -le "$limit" ]
}
ok "a server that accepts and never answers: 500 ms deadline holds" \
	within_ms 1500 probe "http://$NET4.50:2379" --timeout-ms 500 get /t/b
diag "$(cat "$WORK/within")"
ok "... and the error names the endpoint" grep -q "http://$NET4.50:2379: no answer within" "$WORK/out"
ok "an address nobody answers (no ARP): 500 ms deadline holds" \
	within_ms 1500 probe "http://$NET4.99:2379" --timeout-ms 500 get /t/b
diag "$(cat "$WORK/within")"
ok "a claim against unreachable etcd fails within its deadline" \
	within_ms 1500 probe "http://$NET4.99:2379" --node hv-a --timeout-ms 500 claim "$U2" w t 10.0.3.1
ok "failover: a silent endpoint first, then a good one, within the deadline" \
	out_has "^a\"b" probe "http://$NET4.50:2379,$EP" --timeout-ms 2000 get /t/b
ok "a refused endpoint fails over at once" \
	within_ms 1000 probe "http://$NET4.11:1,$EP" --timeout-ms 5000 get /t/b
diag "$(cat "$WORK/within")"

### Timing of a hook-style claim (one process per claim, as the hook would)
LT=$(probe "$EP" grant 120)
probe "$EP" --node hv-t register "$LT" >/dev/null
ok "200 claims and releases in one process" \
	out_has '^claim n=200' probe "$EP" --node hv-t bench-claim 200 "$LT"
diag "$(tr '\n' ' ' <"$WORK/out")"
for i in $(seq 1 20); do
	probe "$EP" --node hv-t --lease-hint "$LT" claim "$(printf '00000000-0000-4000-9000-%012d' "$i")" w t 10.0.4."$i" || break
done >"$WORK/claims"
ok "20 claims, one process each, as the hook would" test "$(grep -c '^claimed created=1' "$WORK/claims")" = 20
diag "claim in a fresh process (connect + one txn, what the hook pays): $(sed 's/.*ms=//' "$WORK/claims" | sort -n | awk '{a[NR]=$1} END {printf "median %.2f ms, max %.2f ms", a[int((NR+1)/2)], a[NR]}')"

ok "no sanitizer report from a background probe" no_sanitizer_reports
done_testing
