#!/bin/bash
# perf stat of single hook events in a namespace, for one or more build
# trees (before/after comparisons): a re-install ("start begin" of an
# installed guest) and a stop+start cycle, at 0 other guests and at 1,000
# guests in 1,000 tenants. Root; only namespaces it creates.
#   bench/event-perf.sh BUILDDIR [BUILDDIR...]   (PERF_RUNS=30, PERF_SIZES)
# BLIXARD_NETISO_NFT_SLOW=1 in the environment forces the full path.
# PERF_BUSY_MS=10: another tool adds and deletes an element in a table of
# its own every 10 ms in each host (two commits), as on a host where
# something else manages nftables: the fast path then finds the ruleset
# generation moved on and events take the full path.
set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
top_builddir=${1:?usage: $0 BUILDDIR...}
export top_srcdir top_builddir
. "$top_srcdir/bench/lib-bench.sh"

RUNS=${PERF_RUNS:-30}
SIZES=${PERF_SIZES:-0:1 1000:1000}   # GUESTS:TENANTS
BUSY_MS=${PERF_BUSY_MS:-}

# busy_up HOST: the other tool, one nft process fed a pair of commands every
# BUSY_MS ms; it stops when busy_down removes its flag file.
busy_up() {
	local flag="$WORK/busy-$1"
	[ -n "$BUSY_MS" ] || return 0
	in_host "$1" nft add table inet other
	in_host "$1" nft add set inet other s '{ type ipv4_addr; }'
	: >"$flag"
	bash -c 'exec 3<> <(:)
		while [ -e "$1" ]; do
			echo "add element inet other s { 192.0.2.1 }"
			echo "delete element inet other s { 192.0.2.1 }"
			read -r -t "$2" -u 3
		done' _ "$flag" "$(awk "BEGIN { print $BUSY_MS / 1000 }")" |
		in_host "$1" nft -i >/dev/null 2>&1 &
}
busy_down() {
	rm -f "$WORK/busy-$1"
	wait
}

# perf_event HOST LABEL COMMAND: one summary line from perf stat -r RUNS
perf_event() {
	local out
	out=$(in_host "$1" perf stat -r "$RUNS" -e task-clock sh -c "$3" 2>&1 >/dev/null)
	printf '%-44s %8s ms task-clock  %10s s elapsed (± %s)\n' "$2" \
		"$(echo "$out" | awk '/task-clock/ { print $1 }')" \
		"$(echo "$out" | awk '/time elapsed/ { print $1 }')" \
		"$(echo "$out" | awk '/time elapsed/ { print $3 }')"
}

n=0
for build in "$@"; do
	for size in $SIZES; do
		guests=${size%:*} tenants=${size#*:} h="p$n"
		n=$((n + 1))
		host_up "$h"
		if [ "$guests" -gt 0 ]; then
			in_host "$h" "$build/bench/netiso-bench-populate" "$(host_config "$h")" \
				"$guests" "$tenants" >/dev/null || exit 1
		fi
		xml=$(guest_xml_file "$h" 3 t0)
		hook="BLIXARD_NETISO_CONFIG=$(host_config "$h") $build/qemu-hook $h-g3"
		eval "in_ns $(host_ns "$h") env $hook start begin - <$xml" || exit 1
		busy_up "$h"
		label="$(basename "$build") ${guests}g/${tenants}t${BUSY_MS:+ busy}"
		perf_event "$h" "$label re-install" "$hook start begin - <$xml"
		perf_event "$h" "$label stop+start" \
			"$hook stopped end - <$xml && $hook start begin - <$xml"
		perf_event "$h" "$label spawn floor (sh -c true)" "true"
		busy_down "$h"
		host_down "$h"
	done
done
