# shellcheck shell=bash
# Several simulated hypervisors for the end-to-end tier (sourced by lib-e2e.sh, for tests
# that set E2E_NHOSTS): hosts 2..N beside host 1, each with its own private libvirtd, a
# "fabric" namespace that routes between them, live migration from libvirtd to libvirtd,
# and continuous streams of probes from guests, for what happens while a guest moves.

E2E_NS_FABRIC=$E2E_ID-fabric
declare -A E2E_MIGRATE_PID E2E_MIGRATE_DEST

# The fabric: host N is 172.16.1.N and fd00:172:16:1::N on its link "fabric" (a bridge in
# the fabric namespace). The fabric namespace itself is a cluster service at
# 172.16.1.10 and fd00:172:16:1::10 (TCP/UDP 2222): inside the test's cluster_networks,
# so no guest may reach it. Hosts 2..N reach the cluster and internet namespaces of host 1
# through host 1 (their default route).
E2E_FABRIC_SVC4=172.16.1.10 E2E_FABRIC_SVC6=fd00:172:16:1::10
e2e_fabric4() { echo "172.16.1.$1"; }
e2e_fabric6() { echo "fd00:172:16:1::$1"; }
# Routes to guests of other hosts have this metric: above the kernel's route to the peer
# of a local tap (metric 0 in IPv4, 256 in IPv6), so that an incoming guest's tap wins as
# soon as libvirt puts the host addresses on it, and moving a route is the test's job.
E2E_FABRIC_METRIC=1024

# Namespaces of hosts 2..N (host 1's are made by e2e_netns_setup) and the fabric.
e2e_hosts_netns_setup() {
	local h ns
	ip netns add "$E2E_NS_FABRIC" || e2e_bail "cannot create network namespace $E2E_NS_FABRIC"
	ip -n "$E2E_NS_FABRIC" link set lo up
	ip -n "$E2E_NS_FABRIC" link add br0 type bridge
	ip -n "$E2E_NS_FABRIC" addr add "$E2E_FABRIC_SVC4/24" dev br0
	ip -n "$E2E_NS_FABRIC" addr add "$E2E_FABRIC_SVC6/64" dev br0 nodad
	ip -n "$E2E_NS_FABRIC" link set br0 up
	for h in $(seq 1 "$E2E_NHOSTS"); do
		ns=$(e2e_host_ns "$h")
		if [ "$h" != 1 ]; then
			ip netns add "$ns" || e2e_bail "cannot create network namespace $ns"
			ip -n "$ns" link set lo up
			e2e_host_forwarding "$ns"
		fi
		ip -n "$ns" link add fabric type veth peer name "h$h" netns "$E2E_NS_FABRIC" ||
			e2e_bail "cannot create the fabric link of host $h"
		ip -n "$ns" addr add "$(e2e_fabric4 "$h")/24" dev fabric
		ip -n "$ns" addr add "$(e2e_fabric6 "$h")/64" dev fabric nodad
		ip -n "$ns" link set fabric up
		ip -n "$E2E_NS_FABRIC" link set "h$h" master br0 up
		if [ "$h" != 1 ]; then
			ip -n "$ns" route add default via "$(e2e_fabric4 1)"
			ip -n "$ns" -6 route add default via "$(e2e_fabric6 1)"
			e2e_ns_listener "$ns" "host$h" tcp 2222 udp 2222 tcp 22
		fi
	done
	# Answers from the service go back through host 1, which routes to every guest.
	ip -n "$E2E_NS_FABRIC" route add default via "$(e2e_fabric4 1)"
	ip -n "$E2E_NS_FABRIC" -6 route add default via "$(e2e_fabric6 1)"
	e2e_ns_listener "$E2E_NS_FABRIC" fabric tcp 2222 udp 2222
}

# The private libvirtds of hosts 2..N, each with its own configuration and host UUID.
e2e_hosts_libvirt_setup() {
	local h
	for h in $(seq 2 "$E2E_NHOSTS"); do
		e2e_host "$h"
		e2e_libvirt_prepare
		e2e_libvirt_start
	done
	e2e_host 1
}

# e2e_route_guest GUEST HOST: the fabric routes GUEST's addresses to HOST: every other
# host sends them there; HOST uses its own tap. "Routing is the fabric's job": tests
# call this after a migration, when they want the routes to follow.
e2e_route_guest() {
	local g=$1 to=$2 h ns a4 a6
	a4=$(e2e_guest4 "$g")/32 a6=$(e2e_guest6 "$g")/128
	for h in $(seq 1 "$E2E_NHOSTS"); do
		ns=$(e2e_host_ns "$h")
		if [ "$h" = "$to" ]; then
			ip -n "$ns" route del "$a4" metric $E2E_FABRIC_METRIC 2>/dev/null
			ip -n "$ns" -6 route del "$a6" metric $E2E_FABRIC_METRIC 2>/dev/null
		else
			ip -n "$ns" route replace "$a4" via "$(e2e_fabric4 "$to")" metric $E2E_FABRIC_METRIC ||
				e2e_bail "cannot route $a4 to host $to on host $h"
			ip -n "$ns" -6 route replace "$a6" via "$(e2e_fabric6 "$to")" metric $E2E_FABRIC_METRIC ||
				e2e_bail "cannot route $a6 to host $to on host $h"
		fi
	done
	return 0
}

# ---------------------------------------------------------------- migration

# How one libvirtd reaches host N's: N's socket in its private /run, which every host's
# mount namespace sees through the shared /tmp (no TCP listener, no authentication).
e2e_libvirt_uri() { echo "qemu+unix:///system?socket=$(e2e_host_dir "$1")/run/libvirt/libvirt-sock"; }

# e2e_migrate_start GUEST DEST [VIRSH-OPTIONS...]: a live peer-to-peer migration of GUEST
# from its host to host DEST, in the background: the source libvirtd drives it, the
# memory goes from QEMU to QEMU over the fabric. virsh's output is in $E2E_T/GUEST.migrate.
e2e_migrate_start() {
	local g=$1 dest=$2 src
	shift 2
	src=$(e2e_ghost "$g")
	E2E_MIGRATE_DEST[$g]=$dest
	(
		e2e_host "$src"
		exec timeout 600 nsenter -t "$E2E_HOLDER" -m -n -- virsh -q -c qemu:///system \
			migrate --live --p2p "$@" "$g" "$(e2e_libvirt_uri "$dest")" "tcp://$(e2e_fabric4 "$dest")"
	) >"$E2E_T/$g.migrate" 2>&1 8>&- &
	E2E_MIGRATE_PID[$g]=$!
}

# e2e_migrate_wait GUEST: waits for the migration; 0 when virsh reported success, and
# then GUEST is recorded as running on the destination.
e2e_migrate_wait() {
	local g=$1 rc=0
	wait "${E2E_MIGRATE_PID[$g]}" || rc=$?
	unset "E2E_MIGRATE_PID[$g]"
	[ "$rc" = 0 ] && E2E_GHOST[$g]=${E2E_MIGRATE_DEST[$g]}
	return "$rc"
}

# Has GUEST's migration ended (virsh returned)?
e2e_migrate_ended() {
	local pid=${E2E_MIGRATE_PID[$1]:-}
	[ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null ||
		[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ]
}

# Is GUEST's outgoing migration copying memory (the source's job has sent some)?
e2e_migrate_copying() {
	e2e_on "$(e2e_ghost "$1")" e2e_virsh domjobinfo "$1" 2>/dev/null |
		awk '$1 == "Memory" && $2 == "processed:" && $3 + 0 > 0 {found = 1} END {exit !found}'
}

# e2e_migrate_hurry GUEST: lifts the bandwidth limit of GUEST's migration (started with
# --bandwidth) and waits for it, as e2e_migrate_wait. The limit is lifted once memory is
# being copied: until then the migration's own --bandwidth would override it.
e2e_migrate_hurry() {
	local g=$1 src
	src=$(e2e_ghost "$g")
	e2e_wait_for 120 e2e_migrate_copying "$g" || e2e_log "the migration of $g copies no memory"
	for _ in 1 2 3 4 5 6; do
		e2e_on "$src" e2e_virsh migrate-setspeed "$g" 100000 >/dev/null 2>&1
		e2e_wait_for 20 e2e_migrate_ended "$g" && break
	done
	e2e_migrate_wait "$g"
}

# e2e_migrate GUEST DEST [VIRSH-OPTIONS...]: both at once.
e2e_migrate() {
	e2e_migrate_start "$@"
	e2e_migrate_wait "$1"
}

# A guest's state on host N as virsh says it with the reason ("paused (migrating)"), or
# "none" when that libvirtd does not have it.
e2e_dom_state() {
	local s
	s=$(e2e_on "$1" e2e_virsh domstate --reason "$2" 2>/dev/null) || s=
	echo "${s:-none}"
}

# ---------------------------------------------------------------- streams of probes

# e2e_stream_start GUEST TAG ADDR [INTERVAL_MS]: GUEST sends a UDP probe to ADDR port
# 2222 every INTERVAL_MS (200), each from a new socket (a new flow), until
# e2e_stream_stop; each probe's result is a "STREAM tag=TAG seq=N result=ok|fail" line on
# its console, and the target logs what reached it with the token TAG.N. TAG: [a-z0-9].
e2e_stream_start() {
	echo "stream $2 udp $3 2222 ${4:-200}" >"$E2E_T/$1.cmdbuf"
	e2e_guest_send "$1" "$E2E_T/$1.cmdbuf" || return 1
	e2e_wait_for 30 e2e_console_has "$1" "^NETISO STREAMING tag=$2\$"
}

e2e_stream_stop() {
	echo "stop $2" >"$E2E_T/$1.cmdbuf"
	e2e_guest_send "$1" "$E2E_T/$1.cmdbuf" || return 1
	e2e_wait_for 30 e2e_console_has "$1" "^NETISO STOPPED tag=$2\$"
}

e2e_console_has() { e2e_console "$1" | grep -q -- "$2"; }

# "SEQ RESULT" of every probe of stream TAG resolved so far, by sequence number.
e2e_stream_results() {
	e2e_console "$1" | awk -v t="$2" '
		$1 == "STREAM" && $2 == "tag=" t { sub("seq=", "", $3); sub("result=", "", $4); print $3, $4 }' |
		sort -n
}

# The highest sequence number resolved so far (0 before the first).
e2e_stream_last() { e2e_stream_results "$1" "$2" | awk 'END {print $1 + 0}'; }

# e2e_stream_count GUEST TAG RESULT [FROM [TO]]: how many probes with FROM <= SEQ <= TO
# had RESULT (ok or fail).
e2e_stream_count() {
	e2e_stream_results "$1" "$2" |
		awk -v r="$3" -v lo="${4:-0}" -v hi="${5:-999999999}" '$2 == r && $1 >= lo && $1 <= hi {n++} END {print n + 0}'
}

# e2e_stream_wait GUEST TAG SEQ [SECONDS]: waits until probe SEQ of the stream resolved.
e2e_stream_wait() {
	e2e_wait_for "${4:-120}" e2e_stream_reached "$1" "$2" "$3"
}
e2e_stream_reached() { [ "$(e2e_stream_last "$1" "$2")" -ge "$3" ]; }

# How many probes of stream TAG reached WHO (a guest, on any host it ran on).
e2e_stream_received() {
	e2e_console "$1" | grep -c -- "^RECV .* token=$2\.[0-9]*\$"
}

# Probes still under way when a boundary was taken resolve up to the timeout (1 s) later:
# a probe after boundary B is one with SEQ > B + this margin.
e2e_stream_margin() { echo $((1000 / ${1:-200} + 3)); }

# ---------------------------------------------------------------- the hook calls traced

# With E2E_TRACE=1, trace-hook.sh runs before (00-trace) and after (99-trace) the
# product's hook and logs every call libvirt makes on each host. e2e_trace HOST [GUEST]
# prints host HOST's calls in order: "TIME WHICH DOMAIN OPERATION SUB-OPERATION EXTRA
# tap=... tenant=... uuid=... bytes=..." (the XML of each call beside the log).
e2e_trace() {
	awk -v g="${2:-}" 'g == "" || $3 == g' "$(e2e_host_dir "$1")/run/bxe2e-trace/log" 2>/dev/null
}

# e2e_trace_phases HOST GUEST [SINCE]: the "OPERATION SUB-OPERATION" of the calls for
# GUEST on HOST at or after SINCE (a `date +%s.%N` time), as one line.
e2e_trace_phases() {
	e2e_trace "$1" "$2" | awk -v s="${3:-0}" '$2 == "00-trace" && $1 >= s {printf "%s%s %s", sep, $4, $5; sep = ", "} END {print ""}'
}

# ---------------------------------------------------------------- the cluster (issue 17)

# With E2E_CLUSTER=1 (nftables), every host's configuration has the cluster table
# (e2e_write_config): one etcd in the fabric namespace, at the fabric's service address
# (inside the cluster networks: no guest reaches it), node "hostN". e2e_cluster_start
# runs etcd and `blixard-netiso watch` (the installed one) on every host, in the host's
# private namespaces, where the hook finds its socket. lease_ttl is the default 10 s: no
# test here waits for a lease to expire, and a keepalive late on a machine busy with TCG
# guests must not drop a host's guests.
E2E_CLUSTER_PREFIX=/e2e/
e2e_cluster_config() {
	cat <<EOF

[vm.network_isolation.cluster]
etcd_endpoints = ["http://$E2E_FABRIC_SVC4:2379"]
node = "host$E2E_H"
prefix = "$E2E_CLUSTER_PREFIX"
lease_ttl = 10
EOF
}

e2e_etcdctl() {
	ETCDCTL_API=3 ip netns exec "$E2E_NS_FABRIC" etcdctl --endpoints "http://$E2E_FABRIC_SVC4:2379" \
		--command-timeout=5s "$@"
}

e2e_cluster_start() {
	local h
	env -u ETCDCTL_API ip netns exec "$E2E_NS_FABRIC" etcd --name e2e --data-dir "$E2E_T/etcd" \
		--listen-client-urls "http://$E2E_FABRIC_SVC4:2379" \
		--advertise-client-urls "http://$E2E_FABRIC_SVC4:2379" \
		--listen-peer-urls "http://$E2E_FABRIC_SVC4:2380" \
		--initial-advertise-peer-urls "http://$E2E_FABRIC_SVC4:2380" \
		--initial-cluster "e2e=http://$E2E_FABRIC_SVC4:2380" \
		--experimental-watch-progress-notify-interval 1s >"$E2E_T/etcd.log" 2>&1 8>&- &
	E2E_PIDS+=("$!")
	e2e_wait_for 30 e2e_etcdctl endpoint health || e2e_bail "etcd did not start: $(tail -n 3 "$E2E_T/etcd.log")"
	for h in $(seq 1 "$E2E_NHOSTS"); do e2e_watch_start "$h"; done
}

# e2e_watch_start N: `blixard-netiso watch` on host N (its output in $E2E_T/watch-N.log,
# then watch-N.2.log... when started again), until it listens for the hook and has
# registered host N in etcd. E2E_WATCH_PID[N] is its PID.
declare -A E2E_WATCH_PID E2E_WATCH_RUNS
e2e_watch_start() {
	local h=$1 log n
	n=$((${E2E_WATCH_RUNS[$h]:-0} + 1))
	E2E_WATCH_RUNS[$h]=$n
	log=$E2E_T/watch-$h.log
	[ "$n" = 1 ] || log=$E2E_T/watch-$h.$n.log
	e2e_on "$h" e2e_cli_start "$log" watch
	E2E_WATCH_PID[$h]=$E2E_CLI_PID
	e2e_wait_for 60 test -S "$(e2e_host_dir "$h")/run/blixard-netiso/cluster/watch.sock" ||
		e2e_bail "watch did not start on host $h: $(tail -n 3 "$log")"
	e2e_wait_for 60 e2e_registered "$h" || e2e_bail "host $h did not register in etcd: $(tail -n 3 "$log")"
}

# e2e_watch_stop N: ends host N's watch (SIGTERM: it revokes its lease, the other hosts
# drop its guests at once).
e2e_watch_stop() { e2e_stop_pid "${E2E_WATCH_PID[$1]:-}"; }

# Does host N's watch still run (the one e2e_watch_start started last)?
e2e_watch_alive() {
	local pid=${E2E_WATCH_PID[$1]:-}
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ]
}

e2e_registered() { [ -n "$(e2e_etcdctl get --keys-only "${E2E_CLUSTER_PREFIX}hosts/host$1")" ]; }

# The host that owns ADDR in etcd ("hostN"), or none.
e2e_owner() {
	local v
	v=$(e2e_etcdctl get --print-value-only "${E2E_CLUSTER_PREFIX}owners/$1" 2>/dev/null |
		sed -n 's/.*"node":"\([^"]*\)".*/\1/p')
	echo "${v:-none}"
}

# Does host N publish the guest of that UUID (present or absent)?
e2e_publishes() {
	if [ -n "$(e2e_etcdctl get --keys-only "${E2E_CLUSTER_PREFIX}guests/host$1/$2" 2>/dev/null)" ]; then
		echo present
	else
		echo absent
	fi
}

# The tenant host N installed ADDR with as a guest of another host, or none.
e2e_remote_tenant() {
	local t
	t=$(e2e_on "$1" e2e_nft_table | grep -oE "(^|[ {,])$2 : jump remote-[A-Za-z0-9._-]+" |
		sed 's/.*remote-//' | head -n 1)
	echo "${t:-none}"
}

# Does host N's table hold ADDR for a guest of its own (anti-spoofing, owner)?
e2e_local_has() {
	if e2e_on "$1" e2e_nft_table | grep -qE "\" \. $2([ ,}]|$)|(^|[ {,])$2 : \""; then
		echo present
	else
		echo absent
	fi
}
