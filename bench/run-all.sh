#!/bin/bash
# make bench: event latency, data path and memory of blixard-netiso at up to
# 10,000 guests, beside the alternatives, printed as the tables of
# BENCHMARKS.md. Run as root; everything happens in network namespaces this
# script creates and removes, never in the caller's.
#
# Knobs (environment): BENCH_GUESTS, BENCH_PAIR_GUESTS (sizes measured),
# BENCH_RUNS and BENCH_ROUNDS (hook runs per round, rounds), BENCH_TCP_ROUNDS,
# BENCH_TCP_SECONDS, BENCH_UDP_ROUNDS, BENCH_UDP_SLICE_MS (data path),
# BENCH_FLUSH_ROUNDS (ruleset flushes per backend, leak window),
# BENCH_QUICK=1 (a small smoke run of a couple of minutes), BENCH_CLUSTER=0
# (no cluster benchmark; BENCH_CLUSTER_* are bench/cluster.sh's knobs),
# BENCH_BOOT=0 (no host boot; BENCH_BOOT_* are bench/boot.sh's knobs).
set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
export top_srcdir top_builddir

. "$top_srcdir/bench/lib-bench.sh"
. "$top_srcdir/bench/event-latency.sh"
. "$top_srcdir/bench/data-path.sh"
. "$top_srcdir/bench/flush-leak.sh"

if [ "${BENCH_QUICK:-0}" = 1 ]; then
	: "${BENCH_GUESTS:=0 100 1000}" "${BENCH_PAIR_GUESTS:=100}" "${BENCH_RUNS:=2}"
	: "${BENCH_ROUNDS:=4}" "${BENCH_PAIR_ROUNDS:=1}" "${BENCH_TCP_ROUNDS:=2}"
	: "${BENCH_TCP_SECONDS:=1}" "${BENCH_UDP_ROUNDS:=4}" "${BENCH_FLUSH_ROUNDS:=5}"
fi
GUESTS=${BENCH_GUESTS:-0 100 1000 10000}          # in guests / 10 tenants
PAIR_GUESTS=${BENCH_PAIR_GUESTS:-100 1000}
RUNS=${BENCH_RUNS:-2}
ROUNDS=${BENCH_ROUNDS:-16}
PAIR_RUNS=${BENCH_PAIR_RUNS:-2}
PAIR_ROUNDS=${BENCH_PAIR_ROUNDS:-5}
TCP_ROUNDS=${BENCH_TCP_ROUNDS:-10}
TCP_SECONDS=${BENCH_TCP_SECONDS:-1}
UDP_ROUNDS=${BENCH_UDP_ROUNDS:-20}
UDP_SLICE_MS=${BENCH_UDP_SLICE_MS:-300}
BIG=${GUESTS##* }                                  # the largest blixard host
# Guests and tenants apart: is an event's cost in the guests or the tenants?
ANALYSIS=${BENCH_ANALYSIS:-$BIG:10 $((BIG / 10)):$((BIG / 10))}

T0=$(date +%s)
bench_require

RESULTS="$top_builddir/bench/results"
mkdir -p "$RESULTS"
REPORT="$RESULTS/run-$(date -u +%Y%m%dT%H%M%SZ).md"
EVOUT="$WORK/events.txt"
DPOUT="$WORK/datapath.txt"  # ROUND CONFIG tcp|small-est|small-new VALUE
MEMOUT="$WORK/memory.txt"   # LABEL KEY VALUE
: >"$EVOUT"
: >"$DPOUT"
: >"$MEMOUT"
say() { echo "bench: [$(($(date +%s) - T0)) s] $*" >&2; }
PHASES=""
phase() { PHASES="$PHASES $1 $(($(date +%s) - T0))"; }
# 10000 -> 10,000 (printf's ' flag depends on the locale)
num() { echo "$1" | sed -e ':a' -e 's/\([0-9]\)\([0-9]\{3\}\)\($\|,\)/\1,\2\3/' -e 'ta'; }
# kB -> MiB; a shrinking machine-wide figure says only that noise won.
mib() { awk -v k="$1" 'BEGIN { if (k == "") print "–"; else if (k < 0) print "≈0"; else printf "%.1f", k / 1024 }'; }
mem() { echo "$1 $2 $3" >>"$MEMOUT"; }
memget() { awk -v l="$1" -v k="$2" '$1 == l && $2 == k { print $3 }' "$MEMOUT"; }
kernel_kb() { echo $(($(meminfo_kb Slab) + $(meminfo_kb Percpu))); }
mix_label() { echo "mix${1/:/x}"; }

# populate_host LABEL HOST COMMAND...: install in bulk, recording the time,
# the kernel memory it took and what netiso-bench-populate reports.
populate_host() {
	local label=$1 host=$2 k0 k1 t0 t1 out
	shift 2
	k0=$(kernel_kb)
	t0=$(date +%s%N)
	out=$(in_host "$host" "$@") || { say "$label: bulk install failed: $out"; return 1; }
	t1=$(date +%s%N)
	k1=$(kernel_kb)
	mem "$label" install_s "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')"
	mem "$label" kernel_kb $((k1 - k0))
	# netiso-bench-populate says "records N written_s S synced N sync_s S maxrss_kb K"
	set -- $out
	while [ $# -ge 2 ]; do
		case $1 in sync_s | maxrss_kb) mem "$label" "installer_$1" "$2" ;; esac
		shift
	done
}

{
	echo "## Machine"
	echo
	echo "- CPU: $(nproc) × $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
	echo "- memory: $(($(meminfo_kb MemTotal) / 1024)) MiB"
	echo "- kernel $(uname -r); $(nft --version); $(iperf3 --version | head -n1)"
	echo "- tree: $(git -C "$top_srcdir" describe --always --dirty 2>/dev/null || echo unknown)"
	echo "- load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
} >"$REPORT"

# ---- hosts, installed in bulk ----
say "installing guests in bulk (blixard-netiso: $GUESTS; per-pair: $PAIR_GUESTS)"
targets=()
for n in $GUESTS; do
	host_up "bx$n"
	if [ "$n" -gt 0 ]; then
		populate_host "bx$n" "bx$n" "$POPULATE" "$(host_config "bx$n")" "$n" $((n / 10)) || exit 1
	fi
	targets+=("$(event_target "bx$n" "bx$n" "$HOOK")")
done
# The first guest of a tenant (its start creates the tenant) beside many:
# guest 4 of the biggest host, alone in a tenant of its own.
case " $GUESTS " in *" $BIG "*) targets+=("$(event_target "first$BIG" "bx$BIG" "$HOOK" 4 tfirst)") ;; esac
for spec in $ANALYSIS; do
	h=$(mix_label "$spec")
	host_up "$h"
	populate_host "$h" "$h" "$POPULATE" "$(host_config "$h")" "${spec%:*}" "${spec#*:}" || exit 1
	targets+=("$(event_target "$h" "$h" "$HOOK")")
done
# Floors: the hook with isolation disabled (it reads its configuration and
# state and never touches nftables), and spawning a trivial program.
host_up floor
sed -i 's/^enabled = true/enabled = false/' "$(host_config floor)"
targets+=("$(event_target hook-disabled floor "$HOOK")")
targets+=("$(event_target spawn floor /bin/true)")

pair_targets=()
for n in $PAIR_GUESTS; do
	host_up "pp$n"
	populate_host "pp$n" "pp$n" "$PAIR_POPULATE" "$(host_config "pp$n")" "$n" $((n / 10)) || exit 1
	pair_targets+=("$(event_target "pp$n" "pp$n" "$PAIR_HOOK")")
done

# The iptables backend, when this tree has one that works.
IPT=""
host_up iptprobe iptables
if in_host iptprobe "$HOOK" iptprobe-g3 start begin - <"$(guest_xml_file iptprobe 3 t0)" \
	>/dev/null 2>"$WORK/ipt-probe.err"; then
	IPT=yes
	for n in 0 "$BIG"; do
		host_up "ipt$n" iptables
		if [ "$n" -gt 0 ]; then
			populate_host "ipt$n" "ipt$n" "$POPULATE" "$(host_config "ipt$n")" "$n" $((n / 10)) ||
				IPT=""
		fi
		targets+=("$(event_target "ipt$n" "ipt$n" "$HOOK")")
	done
else
	say "iptables backend not available: $(head -n1 "$WORK/ipt-probe.err")"
fi
host_down iptprobe

phase "bulk-install"
# ---- event latency ----
say "event latency: $((RUNS * ROUNDS)) runs per event and host, in $ROUNDS interleaved rounds"
events_run "$EVOUT" "$RUNS" "$ROUNDS" "${targets[@]}"
say "event latency of the per-pair hook: $((PAIR_RUNS * PAIR_ROUNDS)) runs per event and host"
events_run "$EVOUT" "$PAIR_RUNS" "$PAIR_ROUNDS" "${pair_targets[@]}"

# What one event reads back from the kernel: libnftables fetches its cache.
netlink_bytes() {
	in_host "$1" strace -f -qq -e trace=recvmsg,recvfrom -o "$WORK/strace.txt" \
		"$HOOK" "$1-g3" "$2" "$3" - <"$(guest_xml_file "$1" 3 t0)" >/dev/null 2>&1
	grep -o '= [0-9]*$' "$WORK/strace.txt" | awk '{ s += $2 } END { print s + 0 }'
}
readback_hosts=$(for n in $GUESTS; do echo "bx$n"; done; for s in $ANALYSIS; do mix_label "$s"; done)
for h in $readback_hosts; do
	mem "$h" netlink_start "$(netlink_bytes "$h" start begin)"
	mem "$h" netlink_stop "$(netlink_bytes "$h" stopped end)"
	mem "$h" objects "$(in_host "$h" nft list table inet blixard | grep -c '^\s*\(chain\|set\|map\) ')"
done

phase "event-latency"
# ---- memory ----
for n in $GUESTS; do
	mem "bx$n" ruleset_bytes "$(in_host "bx$n" nft list table inet blixard | wc -c)"
	mem "bx$n" elements "$(in_host "bx$n" nft list set inet blixard guest_ifs | grep -o '"[^"]*"' | wc -l)"
done
if [ -n "$IPT" ]; then
	mem "ipt$BIG" ruleset_bytes "$( (in_host "ipt$BIG" iptables-save; in_host "ipt$BIG" ip6tables-save) | wc -c)"
fi

phase "readback-and-memory"
# ---- data path ----
host_up nofw
host_up ct
in_host ct nft -f - < <(ct_only_ruleset)
dp_configs="nofw ct"
for c in bx0 "bx$BIG"; do
	case " $GUESTS " in *" ${c#bx} "*) dp_configs="$dp_configs $c" ;; esac
done
# blixard-netiso with the flowtable (issue 15), where the kernel has one:
# the same table plus flowtable = true, at 0 and BIG guests.
FT=""
host_up ftprobe
if in_host ftprobe nft add table inet ftprobe 2>/dev/null &&
	in_host ftprobe nft add flowtable inet ftprobe ft '{ hook ingress priority 0; }' 2>/dev/null; then
	FT=yes
	for n in 0 "$BIG"; do
		host_up "ft$n"
		sed -i 's/^enabled = true/&\nflowtable = true/' "$(host_config "ft$n")"
		if [ "$n" -gt 0 ]; then
			populate_host "ft$n" "ft$n" "$POPULATE" "$(host_config "ft$n")" "$n" $((n / 10)) || FT=""
		fi
	done
	[ -n "$FT" ] && dp_configs="$dp_configs ft0 ft$BIG"
else
	say "no nftables flowtable in this kernel (CONFIG_NF_FLOW_TABLE): the flowtable rows are n/a"
fi
host_down ftprobe
for n in $PAIR_GUESTS; do
	dp_configs="$dp_configs pp$n"
done
[ -n "$IPT" ] && dp_configs="$dp_configs ipt$BIG"
for c in $dp_configs; do
	guests_up "$c"
	case $c in
	bx* | ipt* | ft*) start_pair "$c" "$HOOK" || { say "$c: the hook refused the measured guests"; exit 1; } ;;
	pp*) start_pair "$c" "$PAIR_HOOK" || { say "$c: the per-pair hook failed"; exit 1; } ;;
	esac
	dp_server_up "$c"
done
sleep 1
for c in $dp_configs; do
	dp_reachable "$c" || say "$c: guest 1 cannot reach guest 2 (its measurements will fail)"
done
say "data path, TCP: $TCP_ROUNDS rounds of ${TCP_SECONDS}s per configuration: $dp_configs"
for r in $(seq 1 "$TCP_ROUNDS"); do
	for c in $dp_configs; do
		echo "$r $c tcp $(dp_tcp "$c" "$TCP_SECONDS")" >>"$DPOUT"
	done
done
blast_targets=()
for c in $dp_configs; do
	blast_targets+=("$c,$(host_ns "$c")-g1,$(host_ns "$c")-g2,$(guest_addr4 2)")
done
for mode in established new; do
	say "data path, small packets ($mode flow): $UDP_ROUNDS rounds of ${UDP_SLICE_MS}ms slices"
	"$BLAST" "$mode" "$UDP_SLICE_MS" "$UDP_ROUNDS" "${blast_targets[@]}" >>"$DPOUT" ||
		say "the small-packet sender failed"
done

phase "data-path"
# ---- leak window after a ruleset flush (its own hosts; appends its table) ----
say "leak window: $FLUSH_ROUNDS ruleset flushes per backend under watch"
flush_leak_section >"$WORK/flush-leak.md" || say "the leak window measurement failed"
phase "flush-leak"
# ---- tables ----
name_of() {
	case $1 in
	nofw) echo "no firewall" ;;
	ct) echo "conntrack rule only" ;;
	bx0) echo "blixard-netiso, 0 guests" ;;
	bx*) echo "blixard-netiso, $(num "${1#bx}") guests" ;;
	mix*) set -- "${1#mix}"
		echo "blixard-netiso, $(num "${1%x*}") guests in $(num "${1#*x}") tenants" ;;
	pp*) echo "per-pair rules, $(num "${1#pp}") guests" ;;
	ipt*) echo "iptables backend, $(num "${1#ipt}") guests" ;;
	first*) echo "blixard-netiso, $(num "${1#first}") guests, a new tenant's first guest" ;;
	hook-disabled) echo "floor: the hook, isolation disabled" ;;
	spawn) echo "floor: spawning /bin/true" ;;
	*) echo "$1" ;;
	esac
}
# The data path's blixard hosts also hold the two measured guests.
dp_name_of() {
	case $1 in
	bx*) echo "blixard-netiso, $(num $((${1#bx} + 2))) guests" ;;
	ft*) echo "blixard-netiso with the flowtable, $(num $((${1#ft} + 2))) guests" ;;
	pp*) echo "per-pair rules, $(num $((${1#pp} + 2))) guests" ;;
	ipt*) echo "iptables backend, $(num $((${1#ipt} + 2))) guests" ;;
	*) name_of "$1" ;;
	esac
}
{
	echo
	echo "## Event latency"
	echo
	echo "The hook's whole process, spawn to exit, for the start and the stop of one guest; $((RUNS * ROUNDS)) runs per event, hosts interleaved in $ROUNDS rounds. Median and p10–p90 of wall time; CPU is the median of user + system time; ratios are against 0 guests (wall / CPU)."
	echo
	event_table_header "blixard-netiso (tenants = guests / 10)"
	for n in $GUESTS; do
		event_row "$EVOUT" "bx$n" "$(name_of "bx$n")" bx0
	done
	for spec in $ANALYSIS; do
		event_row "$EVOUT" "$(mix_label "$spec")" "$(name_of "$(mix_label "$spec")")" bx0
	done
	case " $GUESTS " in *" $BIG "*) event_row "$EVOUT" "first$BIG" "$(name_of "first$BIG")" bx0 ;; esac
	event_row "$EVOUT" hook-disabled "$(name_of hook-disabled)" ""
	event_row "$EVOUT" spawn "$(name_of spawn)" ""
	if [ -n "$IPT" ]; then
		event_row "$EVOUT" ipt0 "$(name_of ipt0)" bx0
		event_row "$EVOUT" "ipt$BIG" "$(name_of "ipt$BIG")" bx0
	else
		echo "| iptables backend | n/a (iptables backend not available) | | | | | | |"
	fi
	echo
	echo "The per-pair hook ($((PAIR_RUNS * PAIR_ROUNDS)) runs per event; ratios against blixard-netiso at 0 guests):"
	echo
	event_table_header "per-pair rules"
	for n in $PAIR_GUESTS; do
		event_row "$EVOUT" "pp$n" "$(name_of "pp$n")" bx0
	done
	echo
	echo "What one event reads back from the kernel: netlink bytes the hook receives (strace), against the chains, sets and maps of the table."
	echo
	echo "| configuration | chains + sets + maps | bytes received, start | bytes received, stop |"
	echo "|---|---|---|---|"
	for h in $readback_hosts; do
		echo "| $(name_of "$h") | $(memget "$h" objects) | $(num "$(memget "$h" netlink_start)") | $(num "$(memget "$h" netlink_stop)") |"
	done

	echo
	echo "## Data path"
	echo
	echo "Guest 1 to guest 2 (one tenant) routed through the host namespace, each configuration its own host. TCP: one iperf3 stream, ${TCP_SECONDS} s, $TCP_ROUNDS rounds alternating over the configurations. Small packets: 64-byte UDP datagrams sent with sendmmsg as fast as one core can (\`netiso-bench-blast\`), counted at guest 2's interface, $UDP_ROUNDS rounds of ${UDP_SLICE_MS} ms slices alternating over the configurations; *established*: guest 2 answered once, so every packet takes the firewall's established path; *new*: the flow is one-way, conntrack never sees a reply and every packet runs the whole ruleset, as the first packet of each connection does. Ratios are per round against the conntrack-only firewall of the same round: median (min–max)."
	echo
	echo "| configuration | TCP Gbit/s | TCP vs conntrack only | established kpps | established vs conntrack only | new kpps | new vs conntrack only | new vs no firewall |"
	echo "|---|---|---|---|---|---|---|---|"
	for c in $dp_configs; do
		printf "| %s | %.2f | %s | %.0f | %s | %.0f | %s | %s |\n" "$(dp_name_of "$c")" \
			"$(dp_median "$DPOUT" "$c" tcp)" "$(dp_ratio "$DPOUT" "$c" tcp ct)" \
			"$(dp_median "$DPOUT" "$c" small-est)" "$(dp_ratio "$DPOUT" "$c" small-est ct)" \
			"$(dp_median "$DPOUT" "$c" small-new)" "$(dp_ratio "$DPOUT" "$c" small-new ct)" \
			"$(dp_ratio "$DPOUT" "$c" small-new nofw)"
	done
	[ -n "$IPT" ] || echo "| iptables backend | n/a (iptables backend not available) | | | | | | |"
	[ -n "$FT" ] || echo "| blixard-netiso with the flowtable | n/a (no nftables flowtable in this kernel) | | | | | | |"

	echo
	echo "## Growth with the number of guests"
	echo
	echo "Guests installed in bulk; the event columns are the start and stop of one more guest, the data path columns have the two measured guests on top."
	echo
	echo "| approach, guests | rules or elements | bulk install s | kernel memory MiB | start ms | stop ms | new small packets vs conntrack only | established vs conntrack only | TCP vs conntrack only |"
	echo "|---|---|---|---|---|---|---|---|---|"
	for n in $PAIR_GUESTS; do
		echo "| per-pair rules, $(num "$n") | $(num $((n * n + 10 * n + 4))) rules | $(memget "pp$n" install_s) | $(mib "$(memget "pp$n" kernel_kb)") | $(event_field "$EVOUT" "pp$n" start median_ms) | $(event_field "$EVOUT" "pp$n" stopped median_ms) | $(dp_ratio "$DPOUT" "pp$n" small-new ct) | $(dp_ratio "$DPOUT" "pp$n" small-est ct) | $(dp_ratio "$DPOUT" "pp$n" tcp ct) |"
	done
	for n in $GUESTS; do
		case " $dp_configs " in *" bx$n "*) ;; *) continue ;; esac
		echo "| blixard-netiso, $(num "$n") | $(num $(($(memget "bx$n" elements) * 8))) elements | $(memget "bx$n" install_s) | $(mib "$(memget "bx$n" kernel_kb)") | $(event_field "$EVOUT" "bx$n" start median_ms) | $(event_field "$EVOUT" "bx$n" stopped median_ms) | $(dp_ratio "$DPOUT" "bx$n" small-new ct) | $(dp_ratio "$DPOUT" "bx$n" small-est ct) | $(dp_ratio "$DPOUT" "bx$n" tcp ct) |"
	done

	echo
	cat "$WORK/flush-leak.md"

	echo
	echo "## Memory"
	echo
	echo "Kernel memory: growth of Slab + Percpu in /proc/meminfo across the bulk install (machine-wide, so other activity adds noise). Bulk install: records written and one backend sync of all of them, as \`reconcile\` does; its peak RSS is the installer's."
	echo
	echo "| configuration | \`nft list table\` bytes | kernel memory MiB | hook peak RSS kB, start / stop | bulk install s (sync s) | bulk install peak RSS kB |"
	echo "|---|---|---|---|---|---|"
	for n in $GUESTS; do
		echo "| $(name_of "bx$n") | $(num "$(memget "bx$n" ruleset_bytes)") | $(mib "$(memget "bx$n" kernel_kb)") | $(event_field "$EVOUT" "bx$n" start maxrss_kb) / $(event_field "$EVOUT" "bx$n" stopped maxrss_kb) | $(memget "bx$n" install_s) ($(memget "bx$n" installer_sync_s)) | $(memget "bx$n" installer_maxrss_kb) |"
	done
	if [ -n "$IPT" ]; then
		echo "| $(name_of "ipt$BIG") | $(num "$(memget "ipt$BIG" ruleset_bytes)") (iptables-save) | $(mib "$(memget "ipt$BIG" kernel_kb)") | $(event_field "$EVOUT" "ipt$BIG" start maxrss_kb) / $(event_field "$EVOUT" "ipt$BIG" stopped maxrss_kb) | $(memget "ipt$BIG" install_s) | $(memget "ipt$BIG" installer_maxrss_kb) |"
	fi
	echo
	set -- $PHASES
	printf "Finished in %s s (" "$(($(date +%s) - T0))"
	prev=0
	while [ $# -ge 2 ]; do
		printf "%s %s s%s" "$1" $(($2 - prev)) "$([ $# -gt 2 ] && echo ", ")"
		prev=$2
		shift 2
	done
	echo "); load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
} >>"$REPORT"

# ---- a cluster of hosts: bench/cluster.sh appends its own section ----
if [ "${BENCH_CLUSTER:-1}" = 1 ]; then
	if [ "${BENCH_QUICK:-0}" = 1 ]; then
		: "${BENCH_CLUSTER_HOSTS:=20}" "${BENCH_CLUSTER_GUESTS:=20}"
		: "${BENCH_CLUSTER_FOLLOWERS:=10}" "${BENCH_CLUSTER_STARTS:=20}"
		export BENCH_CLUSTER_HOSTS BENCH_CLUSTER_GUESTS BENCH_CLUSTER_FOLLOWERS BENCH_CLUSTER_STARTS
	fi
	say "a cluster of hosts (bench/cluster.sh; BENCH_CLUSTER=0 skips it)"
	REPORT="$REPORT" bash "$top_srcdir/bench/cluster.sh" >/dev/null ||
		say "bench/cluster.sh failed"
fi

# ---- a host boot: bench/boot.sh appends its own section ----
if [ "${BENCH_BOOT:-1}" = 1 ]; then
	if [ "${BENCH_QUICK:-0}" = 1 ]; then
		: "${BENCH_BOOT_GUESTS:=100}" "${BENCH_BOOT_BURST:=20}"
		export BENCH_BOOT_GUESTS BENCH_BOOT_BURST
	fi
	say "a host boot (bench/boot.sh; BENCH_BOOT=0 skips it)"
	REPORT="$REPORT" bash "$top_srcdir/bench/boot.sh" >/dev/null || say "bench/boot.sh failed"
fi

cat "$REPORT"
for f in events datapath memory; do
	cp "$WORK/$f.txt" "${REPORT%.md}-$f.txt"
done
cp "$WORK/event-samples.txt" "${REPORT%.md}-samples.txt" 2>/dev/null
say "report: $REPORT"
