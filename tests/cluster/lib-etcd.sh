# Real etcd members for the cluster tests, in network namespaces of their own:
# "E" holds the members (each on its own address of one veth end), "C" is the
# client's side. Everything lives under a unique prefix and a temporary
# directory and is removed on exit; processes are killed by the PIDs we started.
# shellcheck shell=bash

. "$top_srcdir/tests/lib.sh"

NS_PREFIX="bxe$$"
E="${NS_PREFIX}e"
C="${NS_PREFIX}c"
NET4=10.99.0          # members at .11, .12, ...; the client at .100
NET6=fd00:99:         # members at ::11, ...
WORK=$(mktemp -d /tmp/blixard-netiso-etcd.XXXXXX)
PROBE="${NETISO_ETCD_PROBE:-$top_builddir/tests/cluster/etcd-probe}"
declare -A MEMBER_PID=()
PIDS=()

etcd_cleanup() {
	local pid ns
	{
		for pid in "${MEMBER_PID[@]}" "${PIDS[@]}"; do
			kill -9 "$pid"
		done
		wait
	} 2>/dev/null
	for ns in $(ip netns list | awk '{print $1}' | grep "^${NS_PREFIX}"); do
		ip netns del "$ns"
	done
	rm -rf "$WORK"
}
trap etcd_cleanup EXIT
trap "exit 143" TERM INT HUP

in_ns() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

# The two namespaces, joined by a veth pair: E's end carries the members'
# addresses, C's end the client's.
etcd_net_up() {
	local ns
	for ns in "$E" "$C"; do
		ip netns add "$ns"
		in_ns "$ns" ip link set lo up
		in_ns "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
	done
	ip link add eth0 netns "$E" type veth peer name eth0 netns "$C"
	in_ns "$E" ip link set eth0 up
	in_ns "$C" ip link set eth0 up
	in_ns "$C" ip addr add "$NET4.100/24" dev eth0
	in_ns "$C" ip -6 addr add "${NET6}:100/64" dev eth0 nodad
}

# member_addr N: the IPv4 address of member N (1-based)
member_addr() {
	echo "$NET4.$((10 + $1))"
}

# etcd_start NAME N CLUSTER STATE [EXTRA...]: member N of a cluster whose
# --initial-cluster is CLUSTER; clients on IPv4 and IPv6, plain HTTP unless
# ETCD_TLS names a directory with ca.pem, server.pem and server.key (then
# HTTPS with client certificates required). Waits for nothing.
etcd_start() {
	local name=$1 n=$2 cluster=$3 state=$4
	shift 4
	local a4 a6 dir="$WORK/$name" scheme=http tls=()
	a4=$(member_addr "$n")
	a6="${NET6}:$((10 + n))"
	if [ -n "${ETCD_TLS:-}" ]; then
		scheme=https
		tls=(--cert-file "$ETCD_TLS/server.pem" --key-file "$ETCD_TLS/server.key"
			--client-cert-auth --trusted-ca-file "$ETCD_TLS/ca.pem")
	fi
	in_ns "$E" ip addr add "$a4/24" dev eth0 2>/dev/null
	in_ns "$E" ip -6 addr add "$a6/64" dev eth0 nodad 2>/dev/null
	mkdir -p "$dir"
	env -u ETCDCTL_API ip netns exec "$E" etcd --name "$name" --data-dir "$dir/data" \
		--listen-client-urls "$scheme://$a4:2379,$scheme://[$a6]:2379" \
		--advertise-client-urls "$scheme://$a4:2379" \
		--listen-peer-urls "http://$a4:2380" \
		--initial-advertise-peer-urls "http://$a4:2380" \
		--initial-cluster "$cluster" --initial-cluster-state "$state" \
		--initial-cluster-token "tok$$" \
		--experimental-watch-progress-notify-interval 1s \
		"${tls[@]}" "$@" >>"$dir/log" 2>&1 &
	MEMBER_PID[$name]=$!
}

# etcd_kill NAME: SIGKILL one member (by the PID we started it with)
etcd_kill() {
	{
		kill -9 "${MEMBER_PID[$1]}"
		wait "${MEMBER_PID[$1]}"
	} 2>/dev/null
	unset "MEMBER_PID[$1]"
}

# wait_for DEADLINE_SECONDS COMMAND...: polls until the command succeeds
wait_for() {
	local deadline=$(($(date +%s) + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

# etcdctl in the client namespace, independent of our client
ctl() {
	local endpoints=$1
	shift
	ETCDCTL_API=3 in_ns "$C" etcdctl --endpoints "$endpoints" --command-timeout=5s "$@"
}

# probe ENDPOINTS ARGS...: our client, in the client namespace
probe() {
	local endpoints=$1
	shift
	in_ns "$C" "$PROBE" --endpoints "$endpoints" "$@"
}

# probe_bg OUTFILE ENDPOINTS ARGS...: a long-running probe (watch, follow, keep)
probe_bg() {
	local out=$1
	shift
	local endpoints=$1
	shift
	# ip netns exec execs the probe: $! is the probe's PID.
	ip netns exec "$C" "$PROBE" --endpoints "$endpoints" "$@" >"$out" 2>&1 &
	PIDS+=($!)
	LAST_PID=$!
}

# stop_bg PID: end a background probe we started
stop_bg() {
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

# file_has FILE PATTERN: grep -E in a file (for wait_for)
file_has() {
	grep -qE -- "$2" "$1"
}

# single_member_up: the namespaces and one member; EP is its IPv4 endpoint,
# EP6 its IPv6 one.
single_member_up() {
	etcd_net_up
	etcd_start one 1 "one=http://$(member_addr 1):2380" new
	EP="http://$(member_addr 1):2379"
	EP6="http://[${NET6}:11]:2379"
	wait_for 30 ctl "$EP" endpoint health || {
		echo "Bail out! etcd did not become healthy"
		tail -n 5 "$WORK/one/log" | sed 's/^/# /'
		exit 1
	}
}

# now_ms: a monotonic-enough clock for elapsed times
now_ms() {
	date +%s%3N
}

# no_sanitizer_reports: none of the background probes' outputs holds an
# ASan/UBSan/LSan report (they run until killed, so no exit status tells).
no_sanitizer_reports() {
	! grep -rIlE 'Sanitizer|runtime error:' "$WORK" --exclude-dir=data
}
