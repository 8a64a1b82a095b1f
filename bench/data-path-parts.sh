#!/bin/bash
# Where blixard-netiso's cost per packet goes (not part of make bench): the
# small-packet data path of bench/run-all.sh against the conntrack-only
# firewall, for the installed table and for the same table with parts of it
# taken out by hand in its namespace (never a configuration the product
# makes: only to weigh the parts). Prints one table. Root; namespaces only.
#   top_srcdir=$PWD top_builddir=$PWD/_build bash bench/data-path-parts.sh
# Knobs: BENCH_UDP_ROUNDS (10), BENCH_UDP_SLICE_MS (300).
set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
export top_srcdir top_builddir

. "$top_srcdir/bench/lib-bench.sh"
. "$top_srcdir/bench/data-path.sh"

ROUNDS=${BENCH_UDP_ROUNDS:-10}
SLICE=${BENCH_UDP_SLICE_MS:-300}
OUT="$WORK/parts.txt"
: >"$OUT"
bench_require

# drop_rules HOST CHAIN REGEX: delete the rules of CHAIN whose text matches
drop_rules() {
	local h
	for h in $(in_host "$1" nft -a list chain inet blixard "$2" |
		grep -E -- "$3" | sed -n 's/.*# handle \([0-9]*\)$/\1/p'); do
		in_host "$1" nft delete rule inet blixard "$2" handle "$h"
	done
}

host_up ct
in_host ct nft -f - < <(ct_only_ruleset)
CONFIGS="ct bx nobridged nobinding"
for c in $CONFIGS; do
	[ "$c" = ct ] || host_up "$c"
	guests_up "$c"
	[ "$c" = ct ] && continue
	start_pair "$c" "$HOOK" || { echo "bench: $c: the hook refused the guests" >&2; exit 1; }
done
# Without the bridged guests' checks that routed packets walk past
# (issue 18: guest_flow's rules keyed by bridge and address, prerouting's
# zones by bridge and address).
for c in nobridged nobinding; do
	drop_rules "$c" guest_flow '!= @guest_ifs'
	drop_rules "$c" prerouting 'zone_by_addr'
done
# ... and without binding flows to guests (issue 14: zones and marks
# checked per packet, set per new connection; forward's check that a guest
# receives only what is addressed to it).
drop_rules nobinding guest_flow 'flow_zone|flow_mark'
drop_rules nobinding forward 'ct mark set|daddr != @guest_src'
drop_rules nobinding guest_pre 'zone set'
for c in $CONFIGS; do
	dp_reachable "$c" || echo "bench: $c: guest 1 cannot reach guest 2" >&2
done
targets=()
for c in $CONFIGS; do
	targets+=("$c,$(host_ns "$c")-g1,$(host_ns "$c")-g2,$(guest_addr4 2)")
done
for mode in established new; do
	"$BLAST" "$mode" "$SLICE" "$ROUNDS" "${targets[@]}" >>"$OUT" || exit 1
done

echo "| table | established kpps | established vs conntrack only | new kpps | new vs conntrack only |"
echo "|---|---|---|---|---|"
for c in $CONFIGS; do
	case $c in
	ct) name="conntrack rule only" ;;
	bx) name="blixard-netiso, 2 guests" ;;
	nobridged) name="the same without the bridged guests' checks" ;;
	nobinding) name="the same without the bridged checks and the flow binding" ;;
	esac
	echo "| $name | $(dp_median "$OUT" "$c" small-est | awk '{ printf "%.0f", $1 }') | $(dp_ratio "$OUT" "$c" small-est ct) | $(dp_median "$OUT" "$c" small-new | awk '{ printf "%.0f", $1 }') | $(dp_ratio "$OUT" "$c" small-new ct) |"
done
echo
echo "$ROUNDS rounds of $SLICE ms per configuration and kind of flow; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
