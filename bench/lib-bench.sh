# Shared by the benchmark scripts: simulated hypervisors ("hosts") in network
# namespaces, each with its own configuration and state directory, and pairs
# of guests behind veth "taps". Builds on the namespace test library, whose
# cleanup removes every namespace under our prefix and stops our processes.
# shellcheck shell=bash

. "$top_srcdir/tests/netns/lib-netns.sh"

POPULATE="$top_builddir/bench/netiso-bench-populate"
EVENTS="$top_builddir/bench/netiso-bench-events"
BLAST="$top_builddir/bench/netiso-bench-blast"
PAIR_HOOK="$top_srcdir/bench/alternatives/per-pair-hook"
PAIR_POPULATE="$top_srcdir/bench/alternatives/per-pair-populate"

# State records live under /run in production, a tmpfs; keep ours on one
# too, or an fsync to disk per event would be what we measure.
if [ -d /dev/shm ] && [ "$(stat -f -c %T /dev/shm)" = tmpfs ]; then
	SHM=$(mktemp -d /dev/shm/blixard-netiso-bench.XXXXXX)
else
	SHM=$(mktemp -d "$WORK/shm.XXXXXX")
fi

bench_cleanup() {
	netns_cleanup
	rm -rf "$SHM"
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

bench_require() {
	if [ "$(id -u)" != 0 ]; then
		echo "bench: must run as root (it creates network namespaces)" >&2
		exit 1
	fi
	"$top_srcdir/bench/install-deps.sh" || exit 1
	for f in "$HOOK" "$POPULATE" "$EVENTS" "$BLAST"; do
		[ -x "$f" ] || { echo "bench: $f is not built: run make first" >&2; exit 1; }
	done
	# Everything runs in fresh namespaces: they and nf_tables must work.
	ip netns add "${NS_PREFIX}probe" 2>/dev/null &&
		in_ns "${NS_PREFIX}probe" nft list ruleset >/dev/null 2>&1 ||
		{ echo "bench: needs network namespaces and nf_tables" >&2; exit 1; }
	ip netns del "${NS_PREFIX}probe"
}

host_ns() { echo "${NS_PREFIX}$1"; }
host_config() { echo "$WORK/$1.toml"; }
host_state() { echo "$SHM/$1-state"; }

# host_up NAME [BACKEND]: a hypervisor namespace with its own configuration.
host_up() {
	local name=$1 backend=${2:-nftables}
	new_ns "$(host_ns "$name")"
	in_ns "$(host_ns "$name")" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	mkdir -p "$(host_state "$name")"
	BLIXARD_NETISO_CONFIG=$(host_config "$name") STATE_DIR=$(host_state "$name") \
		NETISO_BACKEND=$backend write_config
}

host_down() {
	local ns g
	ns=$(host_ns "$1")
	for g in 1 2; do
		ip netns del "$ns-g$g" 2>/dev/null
	done
	ip netns del "$ns" 2>/dev/null
	rm -rf "$(host_state "$1")"
}

# in_host NAME CMD...: run a command in that host with its configuration.
in_host() {
	local name=$1
	shift
	BLIXARD_NETISO_CONFIG=$(host_config "$name") in_ns "$(host_ns "$name")" "$@"
}

# Guests of a pair: tap vnetN, addresses 10.0.0.1N and fd00:10::1N.
guest_addr4() { echo "10.0.0.1$1"; }
guest_addr6() { echo "fd00:10::1$1"; }

# guests_up HOST: two guests behind routed taps vnet1 and vnet2 of HOST,
# wired as libvirt wires type='ethernet' (see guest_up in lib-netns.sh).
guests_up() {
	local h g ns
	h=$(host_ns "$1")
	for g in 1 2; do
		ns="$h-g$g"
		new_ns "$ns"
		ip link add "vnet$g" netns "$h" type veth peer name eth0 netns "$ns"
		in_ns "$h" ip link set "vnet$g" up
		in_ns "$h" ip addr add "$HOST4/32" peer "$(guest_addr4 $g)/32" dev "vnet$g"
		in_ns "$h" ip -6 addr add "$HOST6/128" peer "$(guest_addr6 $g)/128" dev "vnet$g" nodad
		in_ns "$ns" ip link set eth0 up
		in_ns "$ns" ip addr add "$(guest_addr4 $g)/32" dev eth0
		in_ns "$ns" ip -6 addr add "$(guest_addr6 $g)/128" dev eth0 nodad
		in_ns "$ns" ip route add "$HOST4" dev eth0
		in_ns "$ns" ip route add default via "$HOST4" dev eth0
	done
	# Guest 2 drops the small-packet flood on arrival (its interface has
	# counted it by then), so that its own stack costs next to nothing.
	in_ns "$h-g2" nft -f - <<-'EOF'
		table ip sink {
			chain pre {
				type filter hook prerouting priority raw; policy accept;
				udp dport 9 drop
			}
		}
	EOF
}

# guest_xml_file HOST G TENANT: the domain XML of guest G of HOST, as the
# hook sees it from "start" on.
guest_xml_file() {
	local f="$WORK/$1-g$2.xml"
	domain_xml "$1-g$2" "$3" "vnet$2" "$(guest_addr4 "$2")" "$(guest_addr6 "$2")" >"$f"
	echo "$f"
}

# start_pair HOST HOOK: the hook's start event for both guests (tenant t0).
start_pair() {
	local g xml
	for g in 1 2; do
		xml=$(guest_xml_file "$1" "$g" t0)
		in_host "$1" "$2" "$1-g$g" start begin - <"$xml" || return 1
	done
}

# median of numbers on standard input
median() {
	sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "nan"; exit }
		if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# meminfo_kb FIELD: a /proc/meminfo line's value (kB)
meminfo_kb() {
	awk -v f="$1:" '$1 == f { print $2 }' /proc/meminfo
}
