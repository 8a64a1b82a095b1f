#!/bin/bash
# Tenants that span hosts, at scale (BENCHMARKS.md, "A cluster of 100
# hosts"): one real etcd, HOSTS simulated hosts with GUESTS guests each
# (bench/netiso-bench-cluster claims and publishes them as their watch
# daemons would), and FOLLOWERS real `blixard-netiso watch` daemons, each in
# its own namespace with its own table inet blixard, installing every
# simulated guest. Then STARTS guests start one by one on the simulated
# hosts, and each follower's trace says when it applied each: the time from
# a start until every follower has applied it, p50 and p99; the elements
# per host; etcd's and watch's memory. Run as root; standalone or from
# bench/run-all.sh (which sets REPORT). Knobs: BENCH_CLUSTER_HOSTS (100),
# BENCH_CLUSTER_GUESTS (100), BENCH_CLUSTER_FOLLOWERS (99),
# BENCH_CLUSTER_STARTS (100), BENCH_CLUSTER_INTERVAL_MS (500).
set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
export top_srcdir top_builddir
. "$top_srcdir/tests/netns/lib-netns.sh"

HOSTS=${BENCH_CLUSTER_HOSTS:-100}
GUESTS=${BENCH_CLUSTER_GUESTS:-100}
FOLLOWERS=${BENCH_CLUSTER_FOLLOWERS:-99}
STARTS=${BENCH_CLUSTER_STARTS:-100}
INTERVAL_MS=${BENCH_CLUSTER_INTERVAL_MS:-500}
SIM="$top_builddir/bench/netiso-bench-cluster"
NET=172.30.0
F="${NS_PREFIX}cf"
E="${NS_PREFIX}ce"
S="${NS_PREFIX}cs"
declare -A FPID=()

say() { echo "bench/cluster: $*" >&2; }

[ "$(id -u)" = 0 ] || { say "must run as root (network namespaces)"; exit 1; }
for t in etcd nft python3; do
	command -v "$t" >/dev/null || { say "needs $t"; exit 1; }
done
[ -x "$SIM" ] || { say "$SIM is not built: run make first"; exit 1; }
if [ -d /dev/shm ] && [ "$(stat -f -c %T /dev/shm)" = tmpfs ]; then
	SHM=$(mktemp -d /dev/shm/blixard-netiso-cluster.XXXXXX)
else
	SHM=$(mktemp -d "$WORK/shm.XXXXXX")
fi
trap 'netns_cleanup; rm -rf "$SHM"' EXIT

# plug NS ADDR PORT: a namespace on the bridge, its end there named PORT
plug() {
	new_ns "$1"
	ip link add eth0 netns "$1" type veth peer name "$3" netns "$F"
	in_ns "$F" ip link set "$3" master br0 up
	in_ns "$1" ip link set eth0 up
	in_ns "$1" ip addr add "$2/24" dev eth0
}

new_ns "$F"
in_ns "$F" ip link add br0 type bridge
in_ns "$F" ip link set br0 up
plug "$E" "$NET.1" pe
plug "$S" "$NET.2" ps
env -u ETCDCTL_API ip netns exec "$E" etcd --name bench --data-dir "$SHM/etcd" \
	--listen-client-urls "http://$NET.1:2379" --advertise-client-urls "http://$NET.1:2379" \
	--listen-peer-urls "http://$NET.1:2380" --initial-advertise-peer-urls "http://$NET.1:2380" \
	--initial-cluster "bench=http://$NET.1:2380" --quota-backend-bytes $((4 * 1024 * 1024 * 1024)) \
	>"$WORK/etcd.log" 2>&1 &
ETCD_PID=$!
PIDS+=("$ETCD_PID")
for _ in $(seq 1 300); do
	ETCDCTL_API=3 in_ns "$E" etcdctl --endpoints "http://$NET.1:2379" endpoint health \
		>/dev/null 2>&1 && break
	sleep 0.1
done

say "publishing $HOSTS simulated hosts with $GUESTS guests each"
coproc SIMP { ip netns exec "$S" "$SIM" --endpoints "http://$NET.1:2379" --prefix /bench/ \
	--hosts "$HOSTS" --guests "$GUESTS" --starts "$STARTS" --interval-ms "$INTERVAL_MS" \
	2>"$WORK/sim.err"; }
PIDS+=("$SIMP_PID")
while read -r line <&"${SIMP[0]}"; do
	case $line in
	ready) break ;;
	populated*) say "$line" ;;
	esac
done
[ "$line" = ready ] || { say "the simulator failed: $(cat "$WORK/sim.err")"; exit 1; }

EXPECTED=$((HOSTS * GUESTS * 2))
say "starting $FOLLOWERS watch daemons, each installing $EXPECTED remote addresses"
t0=$(date +%s%N)
for k in $(seq 1 "$FOLLOWERS"); do
	ns="${NS_PREFIX}f$k"
	plug "$ns" "$NET.$((10 + k))" "pf$k"
	mkdir -p "$SHM/f$k"
	cat >"$WORK/f$k.toml" <<EOC
[vm.network_isolation]
enabled = true
cluster_networks = ["127.0.0.0/8", "172.16.0.0/12"]
vm_network = ["10.0.0.0/8", "fd00:10::/64"]
state_dir = "$SHM/f$k"

[vm.network_isolation.cluster]
etcd_endpoints = ["http://$NET.1:2379"]
node = "f$k"
prefix = "/bench/"
lease_ttl = 30
EOC
	BLIXARD_NETISO_CLUSTER_TRACE="$WORK/f$k.trace" ip netns exec "$ns" "$CLI" \
		--config "$WORK/f$k.toml" watch --interval 0 \
		--connect "qemu:///system?socket=$WORK/no-libvirtd" >"$WORK/f$k.log" 2>&1 &
	FPID[$k]=$!
	PIDS+=($!)
done
loaded() { grep -q " resync $EXPECTED\$" "$WORK/f$1.trace" 2>/dev/null; }
deadline=$(($(date +%s) + 1800))
for k in $(seq 1 "$FOLLOWERS"); do
	until loaded "$k"; do
		[ "$(date +%s)" -lt "$deadline" ] || { say "f$k never loaded: $(tail -n2 "$WORK/f$k.log")"; exit 1; }
		sleep 0.2
	done
done
LOAD_S=$(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
say "every follower installed everything after $LOAD_S s"

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
ELEMENTS=$(in_ns "${NS_PREFIX}f1" nft list table inet blixard | grep -o ' : jump remote-' | wc -l)
CHAINS=$(in_ns "${NS_PREFIX}f1" nft list table inet blixard | grep -c '^\s*chain remote-')
for k in $(seq 1 "$FOLLOWERS"); do rss_kb "${FPID[$k]}"; done | sort -n >"$WORK/watch-rss"
ETCD_RSS_KB=$(rss_kb "$ETCD_PID")
DB_SIZE=$(ETCDCTL_API=3 in_ns "$E" etcdctl --endpoints "http://$NET.1:2379" endpoint status \
	-w json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Status"]["dbSize"])')

say "$STARTS starts, $INTERVAL_MS ms apart"
echo go >&"${SIMP[1]}"
: >"$WORK/starts"
while read -r line <&"${SIMP[0]}"; do
	case $line in
	start*) echo "$line" >>"$WORK/starts" ;;
	done) break ;;
	esac
done
all_applied() {
	local last k
	last=$(tail -n1 "$WORK/starts" | cut -d' ' -f2)
	for k in $(seq 1 "$FOLLOWERS"); do
		grep -q " $last\$" "$WORK/f$k.trace" || return 1
	done
}
deadline=$(($(date +%s) + 120))
until all_applied; do
	[ "$(date +%s)" -lt "$deadline" ] || { say "not every follower applied the last start"; break; }
	sleep 0.2
done
exec {SIMP[1]}>&-

python3 - "$WORK" "$FOLLOWERS" >"$WORK/latency" <<'EOF'
import sys
work, n = sys.argv[1], int(sys.argv[2])
starts = {}
for line in open(f"{work}/starts"):
    _, addr, t0 = line.split()
    starts[addr] = int(t0)
applied = {a: [] for a in starts}
for k in range(1, n + 1):
    seen = {}
    for line in open(f"{work}/f{k}.trace"):
        t, what = line.split()[:2]
        if what in starts and what not in seen:
            seen[what] = int(t)
    for a, t in seen.items():
        applied[a].append((t - starts[a]) / 1000.0)
def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))] if xs else float("nan")
pairs = [x for v in applied.values() for x in v]
every = [max(v) for v in applied.values() if len(v) == n]
missing = sum(n - len(v) for v in applied.values())
print(f"{len(starts)} {len(every)} {missing} {pct(every, 50):.0f} {pct(every, 99):.0f} "
      f"{max(every) if every else float('nan'):.0f} {pct(pairs, 50):.0f} {pct(pairs, 99):.0f}")
EOF
read -r N_STARTS N_EVERY MISSING P50 P99 MAX PAIR50 PAIR99 <"$WORK/latency"
W50=$(awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }' "$WORK/watch-rss")
WMAX=$(tail -n1 "$WORK/watch-rss")

{
	echo
	echo "## A cluster of $HOSTS hosts (bench/cluster.sh)"
	echo
	echo "$HOSTS simulated hosts with $GUESTS guests each (IPv4 and IPv6: $EXPECTED addresses,"
	echo "$((HOSTS * GUESTS)) guests in 50 tenants), one etcd $(etcd --version | awk 'NR == 1 { print $3 }'),"
	echo "$FOLLOWERS real \`blixard-netiso watch\` daemons on one $(nproc)-core machine, each in its own"
	echo "namespace and table. $N_STARTS guests started one by one, $INTERVAL_MS ms apart, on the simulated hosts."
	echo
	echo "| measure | value |"
	echo "|---|---|"
	echo "| start until every follower applied it, p50 | $P50 ms |"
	echo "| start until every follower applied it, p99 | $P99 ms |"
	echo "| start until every follower applied it, max | $MAX ms |"
	echo "| one follower applied it, p50 / p99 | $PAIR50 ms / $PAIR99 ms |"
	echo "| starts every follower applied | $N_EVERY of $N_STARTS ($MISSING follower-starts missing) |"
	echo "| map elements per host | $ELEMENTS (remote_v4 and remote_v6), $CHAINS tenant chains |"
	echo "| all followers loaded from nothing | $LOAD_S s |"
	echo "| watch's memory (RSS), median / max | $((W50 / 1024)) MiB / $((WMAX / 1024)) MiB |"
	echo "| etcd's memory (RSS) | $((ETCD_RSS_KB / 1024)) MiB, database $((DB_SIZE / 1024 / 1024)) MiB |"
} | tee -a "${REPORT:-/dev/null}"
