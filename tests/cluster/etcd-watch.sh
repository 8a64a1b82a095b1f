#!/bin/bash
# Watches against one real etcd member: events from a revision, resuming after
# etcd restarts and after a silent network cut (idle timeout), each event seen
# exactly once; a revision compacted away while cut off leads to a resync whose
# changes are right; and the membership table followed live.
set -u
. "$top_srcdir/tests/cluster/lib-etcd.sh"
require_root_tier ip etcd etcdctl
[ -x "$PROBE" ] || tap_skip_all "needs $PROBE (make check builds it)"
TAP_LOG="$WORK/tap.log"

single_member_up
PFX=/blixard/netiso/
U1=11111111-2222-4333-8444-555555555555
U2=21111111-2222-4333-8444-555555555555
U3=31111111-2222-4333-8444-555555555555
U4=41111111-2222-4333-8444-555555555555
NETS=(--vm-network 10.0.0.0/16 --vm-network fd00:10::/64)

rev_of() { # COMMAND...: the revision our put printed
	"$@" | awk '/^revision/ {print $2}'
}
# etcdctl from the members' side: works while the client side is cut off
ctl_e() {
	ETCDCTL_API=3 in_ns "$E" etcdctl --endpoints "$EP" --command-timeout=5s "$@"
}
lines_are() { # FILE PATTERN EXPECTED: the lines matching PATTERN, joined by '|'
	local got
	got=$(grep -E -- "$2" "$1" | tr '\n' '|')
	[ "$got" = "$3" ] || {
		echo "got:      $got"
		echo "expected: $3"
		return 1
	}
}
guest_value() { # NODE UUID TENANT ADDR
	echo "{\"v\":1,\"uuid\":\"$2\",\"name\":\"vm\",\"tenant\":\"$3\",\"addresses\":[\"$4\"],\"node\":\"$1\"}"
}

### From a revision
R=$(rev_of probe "$EP" put /w/x 1)
probe "$EP" put /w/y 2 >/dev/null
probe "$EP" del /w/x >/dev/null
in_ns "$C" timeout 20 "$PROBE" --endpoints "$EP" --from "$R" --count 3 watch /w/ >"$WORK/w0" 2>&1
ok "a watch from a revision replays what happened since, in order" \
	lines_are "$WORK/w0" '^(put|delete) ' "put /w/x 1 $R|put /w/y 2 $((R + 1))|delete /w/x $((R + 2))|"

### etcd restarts: the watch resumes from its revision
probe_bg "$WORK/w1" "$EP" watch /r/
W1=$LAST_PID
wait_for 10 file_has "$WORK/w1" '^connected'
probe "$EP" put /r/1 a >/dev/null
ok "the watch sees a put" wait_for 10 file_has "$WORK/w1" '^put /r/1 a'
etcd_kill one
etcd_start one 1 "one=http://$(member_addr 1):2380" new
wait_for 30 ctl "$EP" endpoint health
ctl "$EP" put /r/2 b >/dev/null
ctl "$EP" put /r/3 c >/dev/null
ok "after etcd restarted, the watch resumes" wait_for 20 file_has "$WORK/w1" '^put /r/3 c'
ok "it noticed the disconnect" file_has "$WORK/w1" '^disconnected'
ok "every event exactly once, in order" lines_are "$WORK/w1" '^put ' "put /r/1 a $(ctl "$EP" get /r/1 -w fields | awk '/ModRevision/ {print $3}')|put /r/2 b $(ctl "$EP" get /r/2 -w fields | awk '/ModRevision/ {print $3}')|put /r/3 c $(ctl "$EP" get /r/3 -w fields | awk '/ModRevision/ {print $3}')|"
stop_bg "$W1"

### A silent cut (no FIN, no RST): the idle timeout notices, the watch resumes
probe_bg "$WORK/w2" "$EP" --idle 3 watch /s/
W2=$LAST_PID
wait_for 10 file_has "$WORK/w2" '^connected'
probe "$EP" put /s/1 a >/dev/null
wait_for 10 file_has "$WORK/w2" '^put /s/1'
in_ns "$C" ip link set eth0 down
ctl_e put /s/2 b >/dev/null
ctl_e put /s/3 c >/dev/null
ok "a silent stream is dropped after the idle timeout" wait_for 15 file_has "$WORK/w2" 'watch silent for 3 s'
in_ns "$C" ip link set eth0 up
ok "after the cut, the watch resumes" wait_for 20 file_has "$WORK/w2" '^put /s/3 c'
ok "every event exactly once, in order" lines_are "$WORK/w2" '^put ' \
	"$(grep '^put /s/1' "$WORK/w2")|$(ctl "$EP" get /s/2 -w fields | awk '/ModRevision/ {print "put /s/2 b " $3}')|$(ctl "$EP" get /s/3 -w fields | awk '/ModRevision/ {print "put /s/3 c " $3}')|"
stop_bg "$W2"

### The membership table, followed live
LB=$(probe "$EP" grant 60)
probe "$EP" --node hv-b register "$LB" >/dev/null
probe_bg "$WORK/f1" "$EP" --node hv-a "${NETS[@]}" --idle 3 follow
F1=$LAST_PID
wait_for 10 file_has "$WORK/f1" '^connected'
ok "the first read is a reset of the table" file_has "$WORK/f1" '^reset [0-9]+ hosts=1 remote=0'
probe "$EP" --node hv-b --lease-hint "$LB" claim "$U1" web1 t1 10.0.0.5 fd00:10::5 >/dev/null
probe "$EP" --node hv-b --lease-hint "$LB" claim "$U2" web2 t2 10.0.0.6 >/dev/null
ok "a remote guest appears with its addresses" wait_for 10 file_has "$WORK/f1" '^addr 10.0.0.6 ->t2'
ok "... each address, IPv4 and IPv6" lines_are "$WORK/f1" '^addr ' "addr 10.0.0.5 ->t1|addr fd00:10::5 ->t1|addr 10.0.0.6 ->t2|"
ok "... and the guests" lines_are "$WORK/f1" '^guest' "guest+ hv-b/$U1 t1|guest+ hv-b/$U2 t2|"
LA=$(probe "$EP" grant 60)
probe "$EP" --node hv-a register "$LA" >/dev/null
probe "$EP" --node hv-a --lease-hint "$LA" claim "$U4" web4 t1 10.0.0.9 >/dev/null
ctl "$EP" put "${PFX}guests/hv-c/$U3" "$(guest_value hv-c "$U3" 'bad;tenant' 10.0.0.7)" >/dev/null
ok "a refused remote record is reported, one line" wait_for 10 file_has "$WORK/f1" "^problem guest $U3 on hv-c: tenant 'bad;tenant' is invalid"
ok "this host's own guest is not a remote guest" bash -c "! grep -q 'hv-a/$U4' '$WORK/f1'"
ok "nor was the refused one installed" bash -c "! grep -q '10.0.0.7' '$WORK/f1'"
probe "$EP" --node hv-b release "$U1" web1 t1 10.0.0.5 fd00:10::5 >/dev/null
ok "a released guest leaves" wait_for 10 file_has "$WORK/f1" "^guest- hv-b/$U1 t1"
ok "... with its addresses" wait_for 10 file_has "$WORK/f1" '^addr fd00:10::5 t1>-'

### Compacted while cut off: resync, with the right changes
in_ns "$C" ip link set eth0 down
ctl_e del "${PFX}guests/hv-b/$U2" >/dev/null
ctl_e put "${PFX}guests/hv-b/$U3" "$(guest_value hv-b "$U3" t3 10.0.0.8)" >/dev/null
REV=$(ctl_e get / -w json | sed 's/.*"revision":\([0-9]*\).*/\1/')
ctl_e compaction --physical "$REV" >/dev/null
wait_for 15 file_has "$WORK/f1" 'watch silent'
in_ns "$C" ip link set eth0 up
ok "a watch resuming below the compaction is told so" wait_for 20 file_has "$WORK/f1" "^compacted $REV"
ok "the follower reads everything again" wait_for 10 file_has "$WORK/f1" "^resync $REV hosts=2 remote=1"
sed -n "/^compacted $REV/,/^resync/p" "$WORK/f1" >"$WORK/f1-resync"
ok "the resync's changes: the guest deleted meanwhile leaves" file_has "$WORK/f1-resync" "^guest- hv-b/$U2 t2"
ok "... the guest added meanwhile comes" file_has "$WORK/f1-resync" "^guest\+ hv-b/$U3 t3"
ok "... and exactly their addresses change" lines_are "$WORK/f1-resync" '^addr ' "addr 10.0.0.6 t2>-|addr 10.0.0.8 ->t3|"
probe "$EP" --node hv-b --lease-hint "$LB" claim "$U1" web1 t1 10.0.0.5 >/dev/null
ok "after the resync the watch goes on from the new revision" \
	wait_for 10 file_has "$WORK/f1" "^guest\+ hv-b/$U1 t1"
stop_bg "$F1"

### A follower started from a compacted revision
probe_bg "$WORK/f2" "$EP" --node hv-a "${NETS[@]}" --from 2 follow
F2=$LAST_PID
ok "a follower from a compacted revision resyncs" wait_for 10 file_has "$WORK/f2" '^resync [0-9]+ hosts=2 remote=2'
stop_bg "$F2"

ok "no sanitizer report from a background probe" no_sanitizer_reports
done_testing
