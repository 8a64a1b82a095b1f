#!/bin/bash
# A host boot (issue 15): libvirt's autostart starts its guests one after
# another, each with the hook's prepare, start and started events, and the
# real hook runs for each in the host's namespace; then 100 guests' start
# events at once, as libvirtd's workers may run them. Prints the total, the
# median and p99 of one event and the state lock's wait (the hook's
# BLIXARD_NETISO_LOCK_TRACE). Run as root; standalone or from
# bench/run-all.sh (which sets REPORT). Knobs: BENCH_BOOT_GUESTS (1000),
# BENCH_BOOT_BURST (100).
set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
export top_srcdir top_builddir
. "$top_srcdir/bench/lib-bench.sh"

BOOT_GUESTS=${BENCH_BOOT_GUESTS:-1000}
BURST=${BENCH_BOOT_BURST:-100}

say() { echo "bench/boot: $*" >&2; }

[ "$(id -u)" = 0 ] || { say "must run as root (network namespaces)"; exit 1; }
[ -x "$HOOK" ] || { say "$HOOK is not built: run make first"; exit 1; }

# boot_xml HOST I: guest I's domain XML (tap vnet(1000+I), 10 guests a
# tenant), written once, outside what is measured.
boot_xml() {
	local f="$WORK/boot-$1-$2.xml"
	domain_xml "boot$2" "t$(($2 / 10))" "vnet$((1000 + $2))" \
		"10.0.$((10 + $2 / 250)).$((1 + $2 % 250))" "fd00:10::3:$(printf %x "$2")" >"$f"
	echo "$f"
}

# stats FILE: "| N | median | p99 | max |" of microseconds, one a line, in ms.
stats() {
	sort -n "$1" | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "| 0 | | | |"; exit }
		p99 = int(NR * 0.99 + 0.999); if (p99 > NR) p99 = NR
		printf "| %d | %.2f | %.2f | %.2f |", NR, v[int((NR + 1) / 2)] / 1000, v[p99] / 1000,
			v[NR] / 1000 }'
}

# One event, timed in the host's namespace without a shell per event
# (bash's EPOCHREALTIME): prints microseconds.
RUNNER='
hook=$1 list=$2 out=$3
while read -r name xml; do
	for op in prepare start started; do
		t0=${EPOCHREALTIME/./}
		"$hook" "$name" "$op" begin - <"$xml" >/dev/null || echo "failed: $name $op" >&2
		t1=${EPOCHREALTIME/./}
		echo "$op $((t1 - t0))" >>"$out"
	done
done <"$list"
'
ONE='
t0=${EPOCHREALTIME/./}
"$1" "$2" start begin - <"$3" >/dev/null || echo "failed: $2 start" >&2
t1=${EPOCHREALTIME/./}
echo "$((t1 - t0))" >>"$4"
'

host_up boot
export BLIXARD_NETISO_LOCK_TRACE="$WORK/boot-lock.txt"
: >"$BLIXARD_NETISO_LOCK_TRACE"
list="$WORK/boot-list.txt"
: >"$list"
for ((i = 0; i < BOOT_GUESTS; i++)); do
	echo "boot$i $(boot_xml boot "$i")" >>"$list"
done
events="$WORK/boot-events.txt"
: >"$events"
say "$BOOT_GUESTS guests started one after another (prepare, start, started)"
t0=$(date +%s%N)
in_host boot bash -c "$RUNNER" runner "$HOOK" "$list" "$events"
t1=$(date +%s%N)
seq_total=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
for op in prepare start started; do
	awk -v o="$op" '$1 == o { print $2 }' "$events" >"$WORK/boot-$op.txt"
done
awk '{ print $2 }' "$events" >"$WORK/boot-all.txt"
awk '{ print $2 }' "$BLIXARD_NETISO_LOCK_TRACE" >"$WORK/boot-lockwait.txt"

say "$BURST start events at once"
: >"$BLIXARD_NETISO_LOCK_TRACE"
burst="$WORK/boot-burst.txt"
: >"$burst"
for ((i = BOOT_GUESTS; i < BOOT_GUESTS + BURST; i++)); do
	boot_xml boot "$i" >/dev/null
done
t0=$(date +%s%N)
in_host boot bash -c '
hook=$1 first=$2 n=$3 dir=$4 out=$5 one=$6
for ((i = first; i < first + n; i++)); do
	bash -c "$one" one "$hook" "boot$i" "$dir/boot-boot-$i.xml" "$out" &
done
wait
' burst "$HOOK" "$BOOT_GUESTS" "$BURST" "$WORK" "$burst" "$ONE"
t1=$(date +%s%N)
burst_total=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
awk '{ print $2 }' "$BLIXARD_NETISO_LOCK_TRACE" >"$WORK/burst-lockwait.txt"
installed=$(in_host boot nft list set inet blixard guest_ifs | grep -o vnet | wc -l)
host_down boot

{
	echo
	echo "## A host boot"
	echo
	echo "$BOOT_GUESTS guests started one after another as libvirt's autostart starts them (the hook's prepare, start and started per guest, $((BOOT_GUESTS / 10)) tenants): $seq_total s in all. Then $BURST start events at once: $burst_total s until the last ended. The real hook, in a namespace; $installed guests installed at the end; load average at the end $(cut -d' ' -f1-3 /proc/loadavg). Lock wait: from the hook's first try at the state lock to holding it (BLIXARD_NETISO_LOCK_TRACE), one line per acquisition."
	echo
	echo "| ms | runs | median | p99 | max |"
	echo "|---|---|---|---|---|"
	for op in prepare start started all; do
		echo "| boot: $op $(stats "$WORK/boot-$op.txt")"
	done
	echo "| boot: lock wait $(stats "$WORK/boot-lockwait.txt")"
	echo "| $BURST at once: start $(stats "$burst")"
	echo "| $BURST at once: lock wait $(stats "$WORK/burst-lockwait.txt")"
} | tee -a "${REPORT:-/dev/null}"
