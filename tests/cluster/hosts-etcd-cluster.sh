#!/bin/bash
# The cluster side of watch against a three-member etcd with TLS and client
# certificates, as production runs it: guests of one tenant reach each other
# across two hosts; a SIGHUP keeps the session and its lease; a member is
# killed and claims, retags and the status carry on through the others; a
# host cut off while etcd compacts its history reads everything again.
set -u
. "$top_srcdir/tests/cluster/lib-hosts.sh"
require_cluster_tier
command -v openssl >/dev/null || tap_skip_all "needs openssl"
command -v ss >/dev/null || tap_skip_all "needs ss (iproute2)"
trap 'hosts_cleanup_logs; netns_cleanup' EXIT
# LeakSanitizer (GCC 12's) crashes scanning the dynamic TLS of glib-networking's
# GnuTLS module (see etcd-tls.sh): no leak detection with TLS.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"

ETCD_TLS="$WORK/pki"
check "test certificates made with openssl" make_pki "$ETCD_TLS"
hosts_up 2
etcd_up 3
TLS_KEYS="ca_file = \"$ETCD_TLS/ca.pem\"
cert_file = \"$ETCD_TLS/client.pem\"
key_file = \"$ETCD_TLS/client.key\""
for k in 1 2; do
	write_host_config "$k" "$TLS_KEYS"
	watch_start "$k"
done
P="/t$$/"
status_is() { # status_is K PYTHON-EXPRESSION-ON-c
	cluster_status "$1" | python3 -c "import json,sys; c=json.load(sys.stdin); sys.exit(0 if ($2) else 1)"
}
check "both hosts connect to etcd over TLS with client certificates" \
	wait_until 30 eval 'status_is 1 "c[\"connected\"]" && status_is 2 "c[\"connected\"]"'

guest 1 a1 A 1
guest 1 b1 B 2
guest 2 a2 A 1
for g in a1 b1 a2; do
	check "guest $g starts (claimed over TLS)" guest_start "$g"
done
check "h1 installs a2, h2 installs a1 and b1" \
	wait_until 20 eval 'remote_has 1 10.0.2.1 A && remote_has 2 fd00:10::1:1 A && remote_has 2 10.0.1.2 B'
cross allowed "a1 reaches a2 across hosts (IPv4)" tcp a1 a2 4 9000
cross dropped "b1 does not reach a2 (IPv6)" tcp b1 a2 6 9000

# SIGHUP reads the configuration again and keeps the session and its lease.
lease_of() { cluster_status "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["lease"])'; }
key_lease() { ctl get -w json "${P}hosts/h$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["kvs"][0]["lease"])'; }
lease_before=$(lease_of 1)
kill -HUP "${WATCH_PID[1]}"
check "SIGHUP: the configuration is read again" \
	wait_until 10 grep -q "configuration .* read again" "$WORK/h1/watch.log"
check "SIGHUP keeps h1's lease (status)" eval '[ "$(lease_of 1)" = "$lease_before" ]'
check "... and etcd's hosts/h1 is still bound to it" eval '[ "$(key_lease 1)" = "$lease_before" ]'
check "... and h1 still has a2 installed" remote_has 1 10.0.2.1 A

# Kill the member h2 talks to (its watch stream is there; with TLS the end
# of that stream is never reported: watch must notice the silence and move):
# claims, propagation and status go on through the others.
victim=$(cluster_status 2 | python3 -c 'import json,sys; print(json.load(sys.stdin)["endpoint"].split(":")[1].split(".")[-1])')
check "h2 talks to a member ($victim)" eval '[ -n "$victim" ]'
etcd_member_kill $((victim - 10))
start_ms=$(date +%s%3N)
guest 1 a1b A 3
check "with h2's member killed, a new guest still starts on h1" \
	wait_until 20 guest_start a1b
diag "first claim after the member died: $(($(date +%s%3N) - start_ms)) ms"
check "... and h2 installs it" wait_until 20 remote_has 2 10.0.1.3 A
domain_xml a2 B vnet1 10.0.2.1 fd00:10::2:1 >"$WORK/h2/a2-b.xml"
GUEST_TENANT[a2]=B
check "a2 retagged to B on h2" on_host 2 in_ns "$(host_ns 2)" "$CLI" apply --domain-xml "$WORK/h2/a2-b.xml"
check "... reaches h1 through the surviving members" wait_until 20 remote_has 1 fd00:10::2:1 B
cross allowed "b1 now reaches a2 (IPv6)" tcp b1 a2 6 9000
check "status: both hosts connected with one member down" \
	wait_until 20 eval 'status_is 1 "c[\"connected\"]" && status_is 2 "c[\"connected\"]"'

# h2 cut off from the fabric while h1 changes things and etcd compacts its
# history: h2's watch resumes from a compacted revision and reads everything
# again, and its lease (expired meanwhile) is granted anew with its guests
# published again.
in_ns "$F" ip link set h2 down
guest_stop a1b
guest 1 a1c A 4
check "while h2 is cut off, a1c starts on h1" guest_start a1c
rev=$(ctl get -w json "${P}hosts/h1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["header"]["revision"])')
check "etcd compacts its history up to revision $rev" ctl compact "$rev"
sleep $((LEASE_TTL + 2)) # h2's lease expires: the point of this step
# The connections of before die (a cut without a word is noticed only by
# timeouts): h2's watch reconnects once the fabric is back.
in_ns "$(host_ns 2)" ss -K dst "$FAB4.0/24" >/dev/null 2>&1
in_ns "$F" ip link set h2 up
check "h2 reads everything again after the compaction" \
	wait_until 30 grep -q "compacted past revision" "$WORK/h2/watch.log"
check "... drops a1b and installs a1c" \
	wait_until 20 eval '! remote_has 2 10.0.1.3 && remote_has 2 10.0.1.4 A'
check "... registers again and publishes a2 again (its lease had expired)" \
	wait_until 20 remote_has 1 10.0.2.1 B
cross allowed "b1 reaches a2 (both tenant B) once h2 is back" tcp b1 a2 4 9000
cross allowed "a1c reaches a1 on its own host" tcp a1c a1 4 9000
cross dropped "a1c does not reach a2 (tenant B)" tcp a1c a2 6 9000

stop_all_and_check_sanitizers
done_testing
