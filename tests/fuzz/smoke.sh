#!/bin/bash
# Fuzz smoke run: every input that once crashed a harness
# (tests/data/fuzz-regressions/HARNESS/) is replayed, then each harness runs
# briefly from the test-data seeds. Long runs are `make fuzz-run`.
set -u
. "$top_srcdir/tests/lib.sh"
[ "${NETISO_DISTCHECK:-}" = 1 ] && tap_skip_all "fuzzing is not run under distcheck"
harnesses="config domain record xmlread"
for h in $harnesses; do
	[ -x "$top_builddir/fuzz/fuzz-$h" ] ||
		tap_skip_all "fuzz/fuzz-$h not built: configure found no clang with libFuzzer" \
			"(install clang and libclang-rt-14-dev)"
done
# 4 x 20 s by default: 80 s in all.
seconds=${NETISO_FUZZ_SMOKE_SECONDS:-20}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/blixard-netiso-fuzz.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
TAP_LOG="$WORK/tap.log"
cd "$top_builddir" || exit 1

for h in $harnesses; do
	bin="$top_builddir/fuzz/fuzz-$h"
	regressions=$(find "$top_srcdir/tests/data/fuzz-regressions/$h" -type f 2>/dev/null | sort)
	if [ -n "$regressions" ]; then
		# Given files, libFuzzer runs each once and fails on the first crash.
		# shellcheck disable=SC2086
		ok "fuzz-$h: replays its $(echo "$regressions" | wc -l) regression inputs" \
			"$bin" -timeout=10 $regressions
	fi
	ok "fuzz-$h: ${seconds} s from the seeds, no crash, leak, hang or oracle failure" \
		sh "$top_srcdir/fuzz/run.sh" "$top_srcdir" "$bin" "$seconds" "$WORK/corpus"
	diag "fuzz-$h: $(sed -n 's/^stat::number_of_executed_units: *//p' "$TAP_LOG") executions"
done
done_testing
