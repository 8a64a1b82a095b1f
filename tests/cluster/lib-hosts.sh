# Several simulated hypervisors on one machine, for the cluster tests: host
# namespaces h1..hN on one fabric (a bridge in its own namespace, the
# 172.20.0.0/24 and fd00:172:20::/64 cluster network), each routing for its
# guests (10.0.K.0/24 and fd00:10::K:0/112 behind host K) and running the
# real hook and `blixard-netiso watch` with its own configuration and state
# directory; real etcd members on the same fabric in a namespace of their
# own. Built on lib-netns.sh (guests, probes, `expect`'s pieces), whose H,
# STATE_DIR and BLIXARD_NETISO_CONFIG are switched per host by on_host.
# shellcheck shell=bash

. "$top_srcdir/tests/netns/lib-netns.sh"

F="${NS_PREFIX}f"  # the fabric: a bridge joining the hosts and etcd
E="${NS_PREFIX}e"  # etcd's members
FAB4=172.20.0
FAB6=fd00:172:20:
LEASE_TTL=${LEASE_TTL:-2}
declare -A WATCH_PID=() ETCD_PID=() GUEST_HOST=() GUEST_V4=() GUEST_V6=()
ETCD_ENDPOINTS=""

require_cluster_tier() {
	require_root_tier nft etcd etcdctl socat python3
}

host_ns() { echo "${NS_PREFIX}h$1"; }
host_dir() { echo "$WORK/h$1"; }

# on_host K COMMAND...: run a lib-netns.sh function (or anything) as host K
on_host() {
	local k=$1
	shift
	local H STATE_DIR BLIXARD_NETISO_CONFIG
	H=$(host_ns "$k")
	STATE_DIR="$(host_dir "$k")/state"
	BLIXARD_NETISO_CONFIG="$(host_dir "$k")/blixard.toml"
	export BLIXARD_NETISO_CONFIG
	"$@"
}

fabric_up() {
	new_ns "$F"
	in_ns "$F" ip link add br0 type bridge
	in_ns "$F" ip link set br0 up
	new_ns "$E"
	ip link add eth0 netns "$E" type veth peer name e0 netns "$F"
	in_ns "$F" ip link set e0 master br0 up
	in_ns "$E" ip link set eth0 up
}

# hosts_up N: N hypervisors on the fabric, each with routes to the others' guests
hosts_up() {
	local n=$1 k j ns
	fabric_up
	for k in $(seq 1 "$n"); do
		ns=$(host_ns "$k")
		new_ns "$ns"
		in_ns "$ns" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
		ip link add fab0 netns "$ns" type veth peer name "h$k" netns "$F"
		in_ns "$F" ip link set "h$k" master br0 up
		in_ns "$ns" ip link set fab0 up
		in_ns "$ns" ip addr add "$FAB4.$k/24" dev fab0
		in_ns "$ns" ip -6 addr add "$FAB6:$k/64" dev fab0 nodad
		mkdir -p "$(host_dir "$k")/state"
	done
	for k in $(seq 1 "$n"); do
		for j in $(seq 1 "$n"); do
			[ "$j" = "$k" ] && continue
			in_ns "$(host_ns "$k")" ip route add "10.0.$j.0/24" via "$FAB4.$j"
			in_ns "$(host_ns "$k")" ip -6 route add "fd00:10::$j:0/112" via "$FAB6:$j"
		done
	done
}

# etcd_up N: N etcd members on the fabric (172.20.0.11 ...); sets ETCD_ENDPOINTS.
# With ETCD_TLS (a directory with ca.pem, server.pem/key, client.pem/key):
# HTTPS with client certificates required, as production etcd runs.
etcd_up() {
	local n=$1 m cluster="" eps="" scheme=http
	[ -n "${ETCD_TLS:-}" ] && scheme=https
	for m in $(seq 1 "$n"); do
		cluster="${cluster:+$cluster,}m$m=http://$FAB4.$((10 + m)):2380"
		eps="${eps:+$eps,}\"$scheme://$FAB4.$((10 + m)):2379\""
		in_ns "$E" ip addr add "$FAB4.$((10 + m))/24" dev eth0
	done
	for m in $(seq 1 "$n"); do
		etcd_member_start "$m" "$cluster" new
	done
	ETCD_ENDPOINTS=$eps
	ETCD_CLUSTER=$cluster
	wait_until 30 etcd_healthy || {
		echo "Bail out! etcd did not become healthy"
		tail -n 5 "$WORK/etcd-m1/log" | sed 's/^/# /'
		exit 1
	}
}

# etcd_member_start M CLUSTER STATE: member M (its data survives a restart)
etcd_member_start() {
	local m=$1 a="$FAB4.$((10 + $1))" dir="$WORK/etcd-m$1" scheme=http tls=()
	if [ -n "${ETCD_TLS:-}" ]; then
		scheme=https
		tls=(--cert-file "$ETCD_TLS/server.pem" --key-file "$ETCD_TLS/server.key"
			--client-cert-auth --trusted-ca-file "$ETCD_TLS/ca.pem")
	fi
	mkdir -p "$dir"
	env -u ETCDCTL_API ip netns exec "$E" etcd --name "m$m" --data-dir "$dir/data" \
		--listen-client-urls "$scheme://$a:2379" --advertise-client-urls "$scheme://$a:2379" \
		--listen-peer-urls "http://$a:2380" --initial-advertise-peer-urls "http://$a:2380" \
		--initial-cluster "$2" --initial-cluster-state "$3" --initial-cluster-token "tok$$" \
		--heartbeat-interval 50 --election-timeout 500 \
		--experimental-watch-progress-notify-interval 1s "${tls[@]}" >>"$dir/log" 2>&1 &
	ETCD_PID[$m]=$!
	PIDS+=($!)
}

etcd_member_kill() {
	{
		kill -9 "${ETCD_PID[$1]}"
		wait "${ETCD_PID[$1]}"
	} 2>/dev/null
	unset "ETCD_PID[$1]"
}

ctl() {
	local tls=()
	[ -n "${ETCD_TLS:-}" ] && tls=(--cacert "$ETCD_TLS/ca.pem" --cert "$ETCD_TLS/client.pem"
		--key "$ETCD_TLS/client.key")
	ETCDCTL_API=3 in_ns "$E" etcdctl --endpoints "$(tr -d '"' <<<"$ETCD_ENDPOINTS")" \
		--command-timeout=5s "${tls[@]}" "$@"
}

# make_pki DIR: a CA, a server certificate for every member's address (the
# JSON gateway of etcd 3.4 dials its own gRPC server with it, so it allows
# clientAuth too) and a client certificate, made with openssl
make_pki() {
	local dir=$1 name
	mkdir -p "$dir"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$dir/ca.key" -out "$dir/ca.pem" -days 2 -subj "/CN=ca" 2>/dev/null
	printf 'extendedKeyUsage = serverAuth, clientAuth\nsubjectAltName = IP:%s.11, IP:%s.12, IP:%s.13\n' \
		"$FAB4" "$FAB4" "$FAB4" >"$dir/server.ext"
	printf 'extendedKeyUsage = clientAuth\n' >"$dir/client.ext"
	for name in server client; do
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
			-keyout "$dir/$name.key" -out "$dir/$name.csr" -subj "/CN=$name" 2>/dev/null
		openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
			-CAcreateserial -out "$dir/$name.pem" -days 2 -extfile "$dir/$name.ext" 2>/dev/null
	done
	[ -s "$dir/server.pem" ] && [ -s "$dir/client.pem" ]
}

etcd_healthy() {
	ctl endpoint health
}

# wait_until SECONDS COMMAND...: poll (generous deadlines: ASan, 2 loaded cores)
wait_until() {
	local deadline=$(($(date +%s) + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

# write_host_config K [EXTRA]: lib-netns.sh's configuration plus the cluster table
write_host_config() {
	local k=$1 extra=${2:-}
	on_host "$k" write_config
	cat >>"$(host_dir "$k")/blixard.toml" <<EOC

[vm.network_isolation.cluster]
etcd_endpoints = [$ETCD_ENDPOINTS]
node = "h$k"
prefix = "/t$$/"
lease_ttl = $LEASE_TTL
$extra
EOC
	# The fabric is a cluster network: guests never reach etcd or the hosts.
	sed -i 's|^cluster_networks = .*|cluster_networks = ["127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "fd00:172::/32"]|' \
		"$(host_dir "$k")/blixard.toml"
}

# watch_start K: blixard-netiso watch as host K (no libvirtd: it waits for one)
watch_start() {
	local k=$1 dir
	dir=$(host_dir "$k")
	ip netns exec "$(host_ns "$k")" "$CLI" --config "$dir/blixard.toml" watch \
		--connect "qemu:///system?socket=$dir/no-libvirtd" >>"$dir/watch.log" 2>&1 &
	WATCH_PID[$k]=$!
	PIDS+=($!)
	wait_until 30 test -S "$dir/state/cluster/watch.sock"
}

watch_stop() { # watch_stop K [SIGNAL]
	{
		kill "-${2:-TERM}" "${WATCH_PID[$1]}"
		wait "${WATCH_PID[$1]}"
	} 2>/dev/null
	unset "WATCH_PID[$1]"
}

# watch_status K: the cluster part of `status --json` as host K
cluster_status() {
	on_host "$1" in_ns "$(host_ns "$1")" "$CLI" status --json 2>/dev/null |
		python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin).get("cluster")))'
}

# remote_has K ADDR [TENANT]: host K installed ADDR as a remote guest (of TENANT)
remote_has() {
	local map=remote_v4
	case $2 in *:*) map=remote_v6 ;; esac
	in_ns "$(host_ns "$1")" nft list map inet blixard "$map" 2>/dev/null |
		grep -qE "(^|[ {,])$2 : jump remote-${3:-[^ ,}]*}?"
}

# guest K NAME TENANT N [UUID]: guest NAME behind host K at 10.0.K.N and fd00:10::K:N
guest() {
	local k=$1 name=$2 tenant=$3 n=$4 uuid=${5:-} tap
	tap="vnet$n"
	GUEST_HOST[$name]=$k
	GUEST_V4[$name]="10.0.$k.$n"
	GUEST_V6[$name]="fd00:10::$k:$n"
	on_host "$k" guest_up "$name" "$tap" "10.0.$k.$n" "fd00:10::$k:$n"
	GUEST_TAP[$name]=$tap
	GUEST_TENANT[$name]=$tenant
	GUEST_UUID[$name]=$uuid
}
declare -A GUEST_TAP=() GUEST_TENANT=() GUEST_UUID=()

# guest_start NAME: the hook's start events for it on its host; status of the hook
guest_start() {
	local name=$1 k=${GUEST_HOST[$1]} dir
	dir=$(host_dir "$k")
	domain_xml "$name" "${GUEST_TENANT[$name]}" - "${GUEST_V4[$name]}" "${GUEST_V6[$name]}" \
		"${GUEST_UUID[$name]}" >"$dir/$name-prepare.xml"
	domain_xml "$name" "${GUEST_TENANT[$name]}" "${GUEST_TAP[$name]}" "${GUEST_V4[$name]}" \
		"${GUEST_V6[$name]}" "${GUEST_UUID[$name]}" >"$dir/$name.xml"
	WHY_DOMAIN_OF[${GUEST_V4[$name]}]=$name
	WHY_DOMAIN_OF[${GUEST_V6[$name]}]=$name
	on_host "$k" host_hook "$name" prepare begin "$dir/$name-prepare.xml" &&
		on_host "$k" host_hook "$name" start begin "$dir/$name.xml" &&
		on_host "$k" host_hook "$name" started begin "$dir/$name.xml"
}

guest_stop() {
	local name=$1 k=${GUEST_HOST[$1]} dir
	dir=$(host_dir "$k")
	on_host "$k" host_hook "$name" stopped end "$dir/$name.xml"
	on_host "$k" host_hook "$name" release end "$dir/$name-prepare.xml"
}

# host_hook NAME OP SUB XML: the hook as libvirtd runs it, its stderr kept in the host's log
host_hook() {
	in_ns "$H" "$HOOK" "$1" "$2" "$3" - <"$4" 2>>"${STATE_DIR%/state}/hook.log"
}

# ---- traffic across hosts, with `why` asked on both hosts ----

addr_of() { # addr_of NAME 4|6
	if [ "$2" = 6 ]; then echo "${GUEST_V6[$1]}"; else echo "${GUEST_V4[$1]}"; fi
}

# why_on K ARGS...: `why --strict` as host K ("allowed N", "dropped N" or what went wrong)
why_on() {
	local k=$1
	shift
	on_host "$k" why_verdict "$@"
}

# cross allowed|dropped DESC PROBE FROM TO FAMILY [PORT]: PROBE (tcp, udp or ping_)
# from guest FROM to guest TO's address; one TAP line for the packets, one for
# `why`, asked on FROM's host (--from FROM --to ADDR) and on TO's host
# (--from ADDR --to TO): allowed needs both to say allowed; dropped needs one
# to say dropped; neither may find drift (exit 3).
cross() {
	local want=$1 desc=$2 probe=$3 from=$4 to=$5 fam=$6 port=${7:-} observed proto
	local src dst a b dport="" bad=""
	src=$(addr_of "$from" "$fam")
	dst=$(addr_of "$to" "$fam")
	case $probe in
	tcp) proto=tcp ;;
	udp) proto=udp ;;
	*) proto=icmp port="" ;;
	esac
	if [ -n "$port" ]; then
		if [ "$fam" = 6 ]; then dport="[$dst]:$port"; else dport="$dst:$port"; fi
	else
		dport=$dst
	fi
	case $probe in
	udp) observed=$(udp "$(guest_ns "$from")" "$dst" "$port" "$(guest_ns "$to")" && echo allowed || echo dropped) ;;
	tcp) observed=$(tcp "$(guest_ns "$from")" "$dst" "$port" && echo allowed || echo dropped) ;;
	*) observed=$(ping_ "$(guest_ns "$from")" "$dst" && echo allowed || echo dropped) ;;
	esac
	if [ "$observed" = "$want" ]; then
		tap_result 0 "$desc"
	else
		tap_result 1 "$desc (the packets were $observed)"
	fi
	a=$(why_on "${GUEST_HOST[$from]}" --from "$from" --to "$dport" --proto "$proto")
	if [ "${GUEST_HOST[$from]}" = "${GUEST_HOST[$to]}" ]; then
		b=$a
	else
		if [ -n "$port" ]; then dport="$to:$port"; else dport=$to; fi
		b=$(why_on "${GUEST_HOST[$to]}" --from "$src" --to "$dport" --proto "$proto")
	fi
	case "$a|$b" in
	*exit*) bad="no clean answer" ;;
	esac
	if [ -z "$bad" ]; then
		if [ "$observed" = allowed ]; then
			[ "${a%% *}" = allowed ] && [ "${b%% *}" = allowed ] || bad="not allowed by both"
		else
			[ "${a%% *}" = dropped ] || [ "${b%% *}" = dropped ] || bad="neither says dropped"
		fi
	fi
	if [ -z "$bad" ]; then
		tap_result 0 "why agrees: $desc (source host: $a, destination host: $b)"
	else
		tap_result 1 "why disagrees ($bad): $desc"
		echo "# source host h${GUEST_HOST[$from]}: $a"
		echo "# destination host h${GUEST_HOST[$to]}: $b"
	fi
}

# ok/fails for plain checks
check() { # check DESC COMMAND...
	local desc=$1
	shift
	if "$@" >/dev/null 2>&1; then tap_result 0 "$desc"; else tap_result 1 "$desc"; fi
}

hosts_cleanup_logs() {
	local f
	# On failure, the daemons' last words help.
	[ "${TAP_FAILED:-0}" = 0 ] && return
	for f in "$WORK"/h*/watch.log "$WORK"/h*/hook.log; do
		[ -s "$f" ] || continue
		echo "# --- $f"
		tail -n 15 "$f" | sed 's/^/# /'
	done
}

# stop_all_and_check_sanitizers: stop every watch (SIGTERM: it revokes its
# lease and exits) and check that no daemon or hook left a sanitizer report
# (ASan builds; they run until stopped, so no exit status tells)
stop_all_and_check_sanitizers() {
	local k
	for k in "${!WATCH_PID[@]}"; do
		watch_stop "$k"
	done
	check "no sanitizer report from watch or the hook" \
		eval '! grep -lE "Sanitizer|runtime error:" "$WORK"/h*/watch.log "$WORK"/h*/hook.log'
}
