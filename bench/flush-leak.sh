#!/bin/bash
# The leak window after `nft flush ruleset`: a guest of tenant A sends 1,000
# UDP datagrams a second to a cluster address and to a guest of tenant B,
# IPv4 and IPv6 (4,000 a second in all), while the host's ruleset is flushed,
# with `blixard-netiso watch` running (its timer at an hour: only nf_tables'
# notifications repair). Every datagram that arrives leaked; at 1,000 a
# second per destination, one datagram is one millisecond of leak. Each
# backend gets BENCH_FLUSH_ROUNDS flushes (default 20), on a host with no
# other guest and with BENCH_FLUSH_GUESTS others (default 1000, in a tenant
# per ten; iptables up to BENCH_FLUSH_IPT_MAX): a restore rewrites every
# guest's state, so its time grows with them. Rounds are also appended to
# bench/results/flush-leak-rounds.txt as they end.
#
# Sourced by run-all.sh (flush_leak_section appends to its report), or run
# alone as root: bash bench/flush-leak.sh (top_srcdir, top_builddir set or
# guessed). Everything happens in namespaces it creates.
# shellcheck shell=bash

FLUSH_ROUNDS=${BENCH_FLUSH_ROUNDS:-20}
FLUSH_GUESTS="0 ${BENCH_FLUSH_GUESTS:-1000}"
# The iptables backend's rebuild takes seconds at 10,000 guests (BENCHMARKS.md,
# the iptables dispatch): it is measured up to this many other guests.
FLUSH_IPT_MAX=${BENCH_FLUSH_IPT_MAX:-1000}
FLUSH_RATE=1000
FLUSH_HELPER="$top_srcdir/bench/flush-leak.py"
# port -> where it goes: cluster v4, cluster v6, tenant B's guest v4, v6
FLUSH_STREAMS="6001:172.16.0.2 6002:[fd00:172::2] 6003:10.0.0.13 6004:[fd00:10::13]"

# flush_leak_backend BACKEND GUESTS OUT: one backend's rounds with GUESTS other
# guests installed, one line per round in OUT:
# "BACKEND:GUESTS ROUND RESTORE_MS P6001 SPAN6001 P6002 SPAN6002 ...".
flush_leak_backend() {
	local backend=$1 guests=$2 out=$3 log="$WORK/flush-watch-$1-$2.log" r s port dests="" before
	local a1 b1 lines restore
	a1=$(guest_ns a1)
	b1=$(guest_ns b1)
	NETISO_BACKEND=$backend write_config
	: >"$log"
	if [ "$guests" -gt 0 ]; then
		in_ns "$H" "$POPULATE" "$BLIXARD_NETISO_CONFIG" "$guests" $((guests / 10)) >/dev/null ||
			{ echo "flush-leak: cannot install $guests guests" >&2; return 1; }
	fi
	start_guest a1 A vnet1 10.0.0.11 fd00:10::11 || { echo "flush-leak: a1 refused ($backend, $guests guests)" >&2; return 1; }
	start_guest b1 B vnet3 10.0.0.13 fd00:10::13 || { echo "flush-leak: b1 refused" >&2; return 1; }
	ip netns exec "$H" "$CLI" watch --connect "qemu+unix:///system?socket=$WORK/no-libvirtd" \
		--interval 3600 >"$log" 2>&1 &
	local watch_pid=$!
	PIDS+=("$watch_pid")
	for _ in $(seq 200); do grep -q watching "$log" && break; sleep 0.05; done
	for s in $FLUSH_STREAMS; do
		dests="$dests ${s#*:}:${s%%:*}"
	done
	for r in $(seq "$FLUSH_ROUNDS"); do
		declare -A seen=()
		for s in $FLUSH_STREAMS; do
			port=${s%%:*}
			seen[$port]=$(wc -l <"$WORK/leak-$port")
		done
		before=$(grep -c 'restored .* from the records' "$log")
		in_ns "$a1" python3 "$FLUSH_HELPER" send "$FLUSH_RATE" 1.2 $dests >/dev/null &
		local sender=$!
		sleep 0.4
		in_ns "$H" nft flush ruleset
		wait "$sender"
		for _ in $(seq 200); do
			[ "$(grep -c 'restored .* from the records' "$log")" -gt "$before" ] && break
			sleep 0.05
		done
		sleep 0.3 # stragglers
		restore=$(grep 'restored .* from the records' "$log" | tail -n1 |
			sed -n 's/.* in \([0-9.]*\) ms.*/\1/p')
		lines="$backend:$guests $r ${restore:-0}"
		for s in $FLUSH_STREAMS; do
			port=${s%%:*}
			# leaked datagrams and the span of their send times, in ms
			lines="$lines $(tail -n +$((seen[$port] + 1)) "$WORK/leak-$port" | awk '
				{ n++; if (min == "" || $2 < min) min = $2; if ($2 > max) max = $2 }
				END { if (n) printf "%d %.1f", n, (max - min) / 1e6 + 1; else printf "0 0" }')"
		done
		echo "$lines" >>"$out"
		[ -n "${RESULTS:-}" ] && echo "$lines" >>"$RESULTS/flush-leak-rounds.txt"
		sleep 0.5
	done
	kill "$watch_pid" 2>/dev/null
	wait "$watch_pid" 2>/dev/null
	stop_guest a1
	stop_guest b1
	in_ns "$H" "$CLI" purge >/dev/null 2>&1
	rm -rf "${STATE_DIR:?}"/*
}

flush_leak_run() {
	local out=$1 s port ns n
	topology_up
	guest_up a1 vnet1 10.0.0.11 fd00:10::11
	guest_up b1 vnet3 10.0.0.13 fd00:10::13
	for s in $FLUSH_STREAMS; do
		port=${s%%:*}
		case $port in 6001 | 6002) ns=$C ;; *) ns=$(guest_ns b1) ;; esac
		: >"$WORK/leak-$port"
		serve "$ns" python3 "$FLUSH_HELPER" recv "$port" "$WORK/leak-$port"
	done
	sleep 0.5
	: >"$out"
	for n in $FLUSH_GUESTS; do
		flush_leak_backend nftables "$n" "$out" || return 1
		if [ "$n" -le "$FLUSH_IPT_MAX" ] &&
			iptables-restore --version 2>/dev/null | grep -q nf_tables; then
			flush_leak_backend iptables "$n" "$out" || return 1
		fi
	done
}

# median and max of column COL of OUT's lines for BACKEND
flush_stat() {
	awk -v b="$2" -v c="$3" '$1 == b { print $c }' "$1" | sort -n | awk '
		{ v[NR] = $1 } END { if (!NR) { print "–"; exit }
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%g / %g", m, v[NR] }'
}

# The per-round worst over the four streams, as a column of its own.
flush_worst() {
	awk -v b="$2" '$1 == b { w = 0; for (i = 5; i <= NF; i += 2) if ($i > w) w = $i; print w }' "$1" |
		sort -n | awk '{ v[NR] = $1 } END { if (!NR) { print "–"; exit }
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%g / %g", m, v[NR] }'
}

flush_leak_section() {
	local out="$WORK/flush-leak.txt" b n
	flush_leak_run "$out" || { echo "flush-leak: the run failed" >&2; return 1; }
	echo
	echo "## Leak window after a ruleset flush"
	echo
	echo "A guest of tenant A sends $(num "$FLUSH_RATE") UDP datagrams a second to each of a cluster address and a guest of tenant B, IPv4 and IPv6, while \`nft flush ruleset\` runs on the host ($FLUSH_ROUNDS flushes per backend); \`blixard-netiso watch\` restores from nf_tables' notifications (its timer at an hour, libvirtd unreachable). Datagrams that arrived leaked: at $(num "$FLUSH_RATE") a second one datagram is one millisecond. Median / max over the flushes; the window is the span of the leaked datagrams' send times plus 1 ms (more datagrams than milliseconds: the sender, delayed, caught up in a burst); the restore is watch's whole restore as it logs it, of which the first, small batch ends the leak."
	echo
	echo "| backend, other guests | to the cluster, IPv4 | to the cluster, IPv6 | to tenant B, IPv4 | to tenant B, IPv6 | window ms, worst stream | restore ms |"
	echo "|---|---|---|---|---|---|---|"
	for n in $FLUSH_GUESTS; do
		for b in nftables iptables; do
			grep -q "^$b:$n " "$out" || continue
			echo "| $b, $(num "$n") | $(flush_stat "$out" "$b:$n" 4) | $(flush_stat "$out" "$b:$n" 6) | $(flush_stat "$out" "$b:$n" 8) | $(flush_stat "$out" "$b:$n" 10) | $(flush_worst "$out" "$b:$n") | $(flush_stat "$out" "$b:$n" 3) |"
		done
	done
	cp "$out" "$RESULTS/flush-leak-$(date -u +%Y%m%dT%H%M%SZ).txt" 2>/dev/null
	return 0
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -u
	: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
	: "${top_builddir:=$top_srcdir}"
	export top_srcdir top_builddir
	. "$top_srcdir/bench/lib-bench.sh"
	[ "$(id -u)" = 0 ] || { echo "flush-leak: must run as root" >&2; exit 1; }
	[ -x "$CLI" ] && [ -x "$HOOK" ] || { echo "flush-leak: build first ($CLI, $HOOK)" >&2; exit 1; }
	RESULTS="$top_builddir/bench/results"
	mkdir -p "$RESULTS"
	num() { echo "$1" | sed -e ':a' -e 's/\([0-9]\)\([0-9]\{3\}\)\($\|,\)/\1,\2\3/' -e 'ta'; }
	flush_leak_section
fi
