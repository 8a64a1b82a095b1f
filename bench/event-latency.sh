# Event latency: the hook's whole-process time for one guest's start and stop
# while many guests are installed. Sourced by run-all.sh after lib-bench.sh.
# Every host of one table is measured in interleaved rounds by
# netiso-bench-events, so that load from elsewhere hits all of them alike.
# shellcheck shell=bash

# event_target LABEL HOST HOOK [GUEST TENANT]: a target spec for
# netiso-bench-events; the measured guest is guest 3 of HOST (tap vnet3, no
# interface needed: the firewall state is only names and addresses), in
# tenant t0 like the pairs, unless GUEST and TENANT say otherwise.
event_target() {
	local xml g=${4:-3}
	xml=$(guest_xml_file "$2" "$g" "${5:-t0}")
	echo "$1,$(host_ns "$2"),$3,$(host_config "$2"),$2-g$g,$xml"
}

# events_run OUTFILE RUNS ROUNDS TARGET...: appends one summary line per
# target and event to OUTFILE (see netiso-bench-events).
events_run() {
	local out=$1 runs=$2 rounds=$3
	shift 3
	"$EVENTS" "$runs" "$rounds" "$WORK/event-samples.txt" "$@" >>"$out" 2>>"$WORK/events.err" ||
		echo "bench: some hook runs failed, see below" >&2
	[ -s "$WORK/events.err" ] && sort "$WORK/events.err" | uniq -c | head -n 5 >&2
	: >"$WORK/events.err"
}

# event_field OUTFILE LABEL EVENT FIELD: one value of a summary line.
event_field() {
	awk -v l="$2" -v e="$3" -v f="$4" '$1 == l && $2 == e {
		for (i = 3; i < NF; i++) if ($i == f) print $(i + 1) }' "$1"
}

# event_row OUTFILE LABEL NAME BASE-LABEL: a markdown table row; the ratio
# columns compare median wall and CPU time with BASE-LABEL's (empty: none).
event_row() {
	local out=$1 label=$2 name=$3 base=$4 e med cpu row ratios="" rss
	row="| $name"
	for e in start stopped; do
		med=$(event_field "$out" "$label" "$e" median_ms)
		cpu=$(event_field "$out" "$label" "$e" cpu_median_ms)
		if [ -z "$med" ]; then
			row="$row | n/a | "
			ratios="$ratios | "
			continue
		fi
		row="$row | $med ($(event_field "$out" "$label" "$e" p10_ms)–$(event_field "$out" "$label" "$e" p90_ms)) | $cpu"
		if [ -n "$base" ]; then
			ratios="$ratios | $(awk -v a="$med" -v b="$(event_field "$out" "$base" "$e" median_ms)" \
				-v c="$cpu" -v d="$(event_field "$out" "$base" "$e" cpu_median_ms)" \
				'BEGIN { if (b > 0 && d > 0) printf "%.2f / %.2f", a / b, c / d }')"
		else
			ratios="$ratios | "
		fi
	done
	rss=$(event_field "$out" "$label" start maxrss_kb)
	echo "$row$ratios | ${rss:-} |"
}

event_table_header() {
	echo "| $1 | start ms, median (p10–p90) | CPU ms | stop ms, median (p10–p90) | CPU ms | start vs 0 guests | stop vs 0 guests | peak RSS kB |"
	echo "|---|---|---|---|---|---|---|---|"
}
