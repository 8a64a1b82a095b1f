#!/bin/bash
# A real three-member etcd cluster: the client fails over when the member it
# talks to is killed (calls, a running watch, a lease keeper), fails closed
# within its deadline when quorum is lost, and the watch resumes once the
# cluster is back.
set -u
. "$top_srcdir/tests/cluster/lib-etcd.sh"
require_root_tier ip etcd etcdctl
[ -x "$PROBE" ] || tap_skip_all "needs $PROBE (make check builds it)"
TAP_LOG="$WORK/tap.log"

etcd_net_up
CLUSTER="m1=http://$(member_addr 1):2380,m2=http://$(member_addr 2):2380,m3=http://$(member_addr 3):2380"
for n in 1 2 3; do
	etcd_start "m$n" "$n" "$CLUSTER" new
done
EP1="http://$(member_addr 1):2379"
EP2="http://$(member_addr 2):2379"
EP3="http://$(member_addr 3):2379"
ALL="$EP1,$EP2,$EP3"
wait_for 60 ctl "$ALL" endpoint health --cluster || {
	echo "Bail out! the three-member cluster did not become healthy"
	tail -n 5 "$WORK/m1/log" | sed 's/^/# /'
	exit 1
}
out_has() {
	local pattern=$1
	shift
	"$@" >"$WORK/out" 2>&1 && grep -qE -- "$pattern" "$WORK/out" || {
		cat "$WORK/out"
		return 1
	}
}
within_ms() { # MS COMMAND...: the command ends within MS; its output in $WORK/out
	local limit=$1 t0 t1
	shift
	t0=$(now_ms)
	"$@" >"$WORK/out" 2>&1
	echo "rc=$? $(cat "$WORK/out")" >"$WORK/within"
	t1=$(now_ms)
	echo "$((t1 - t0)) ms: $(cat "$WORK/within")" >"$WORK/within"
	cat "$WORK/within"
	[ $((t1 - t0)) -le "$limit" ]
}

# leader: the member number (1..3) that leads now
leader() {
	local n
	for n in 1 2 3; do
		[ -n "${MEMBER_PID[m$n]:-}" ] || continue
		ctl "http://$(member_addr "$n"):2379" endpoint status -w fields 2>/dev/null |
			awk '/"MemberID"/ {m = $3} /"Leader"/ {l = $3} END {exit !(m != "" && m == l)}' &&
			{ echo "$n"; return 0; }
	done
	return 1
}
wait_for 20 leader
LEAD=$(leader)
FOLLOW=$((LEAD % 3 + 1))
OTHER=$((FOLLOW % 3 + 1))
EPL="http://$(member_addr "$LEAD"):2379"
EPF="http://$(member_addr "$FOLLOW"):2379"
EPO="http://$(member_addr "$OTHER"):2379"
# The leader first: the client and the watch start there.
ALL="$EPL,$EPF,$EPO"
diag "leader m$LEAD, followers m$FOLLOW and m$OTHER"

ok "a put through the member list" probe "$ALL" put /c/1 one
ok "every member serves it" bash -c "for e in $EP1 $EP2 $EP3; do ETCDCTL_API=3 ip netns exec $C etcdctl --endpoints \$e get --print-value-only /c/1 | grep -qx one || exit 1; done"
probe_bg "$WORK/w" "$ALL" watch /c/
W=$LAST_PID
ok "the watch streams from the leader" wait_for 10 file_has "$WORK/w" "^connected $EPL"
L=$(probe "$ALL" grant 3)
probe "$ALL" put /c/leased x "$L" >/dev/null
probe_bg "$WORK/keep" "$ALL" keep "$L" 3
K=$LAST_PID
LH=$(probe "$ALL" grant 60)
probe "$ALL" --node hv-a register "$LH" >/dev/null

etcd_kill "m$LEAD"
ok "the leader killed: a call fails over once a new leader is elected (5 s deadline)" \
	within_ms 5000 probe "$ALL" --timeout-ms 5000 put /c/2 two
diag "$(cat "$WORK/within")"
ok "the watch noticed" wait_for 10 file_has "$WORK/w" '^disconnected'
ok "the watch moved to another member" wait_for 20 file_has "$WORK/w" "^connected ($EPF|$EPO)"
ok "and received the put made meanwhile, once" wait_for 10 bash -c "[ \"\$(grep -c '^put /c/2 two' '$WORK/w')\" = 1 ]"
ok "a claim with one member of three down" \
	out_has 'created=1' probe "$ALL" --node hv-a claim 11111111-2222-4333-8444-555555555555 w t 10.0.0.5
sleep 7
ok "the lease keeper kept a 3 s lease alive through the failover" \
	test "$(ctl "$EPF" get --print-value-only /c/leased)" = x
ok "the keeper never reported the lease lost" bash -c "! grep -q 'lease lost' '$WORK/keep'"

etcd_start "m$LEAD" "$LEAD" "$CLUSTER" new
wait_for 60 ctl "$ALL" endpoint health --cluster
wait_for 20 leader
# Now kill a follower, listed first: no election, the next member answers.
LEAD=$(leader)
FOLLOW=$((LEAD % 3 + 1))
OTHER=$((FOLLOW % 3 + 1))
EPL="http://$(member_addr "$LEAD"):2379"
EPF="http://$(member_addr "$FOLLOW"):2379"
EPO="http://$(member_addr "$OTHER"):2379"
diag "leader m$LEAD, followers m$FOLLOW and m$OTHER"
etcd_kill "m$OTHER"
ok "a follower killed: the next member answers at once" \
	within_ms 1000 probe "$EPO,$EPF,$EPL" put /c/3 three
diag "$(cat "$WORK/within")"

etcd_kill "m$FOLLOW"
ok "quorum lost: a claim fails closed within its 2 s deadline" \
	within_ms 3000 probe "$ALL" --node hv-a claim 21111111-2222-4333-8444-555555555555 w t 10.0.0.6
ok "... with an error, not a success" bash -c "grep -q 'rc=1' '$WORK/within'"
diag "$(cat "$WORK/within")"
ok "nothing was claimed" bash -c "! ETCDCTL_API=3 ip netns exec $E etcdctl --endpoints $EPL get --consistency=s --keys-only --prefix /blixard/netiso/owners/ | grep -q 10.0.0.6"
# Once the survivor has noticed it has no leader, the "hasleader" metadata
# our client sends makes it answer at once instead of waiting for a quorum.
sleep 3
ok "a member without a leader answers at once (hasleader), again and again until the deadline" \
	within_ms 2000 probe "$EPL" --timeout-ms 1000 get /c/1
ok "... that it has no leader" grep -qE 'no leader .*; ([2-9]|[1-9][0-9]+) rounds' "$WORK/within"
diag "$(cat "$WORK/within")"

etcd_start "m$FOLLOW" "$FOLLOW" "$CLUSTER" new
etcd_start "m$OTHER" "$OTHER" "$CLUSTER" new
wait_for 60 ctl "$ALL" endpoint health --cluster
ok "the cluster is back: calls succeed" wait_for 20 probe "$ALL" put /c/4 four
ok "the watch resumed and received it" wait_for 30 file_has "$WORK/w" '^put /c/4 four'
ok "every put exactly once" test "$(grep -c '^put /c/[234] ' "$WORK/w")" = 3
stop_bg "$W"
stop_bg "$K"

ok "no sanitizer report from a background probe" no_sanitizer_reports
done_testing
