#!/bin/bash
# Builds src/cluster/ with tests/cluster/cluster.mk and runs its tests: the
# unit tests (GLib, TAP) and the namespace tests against real etcd. Until the
# cluster code joins Makefile.am, this is how to run them:
#   tests/cluster/run.sh [BUILDDIR]     (a configured tree; default _build)
# NETISO_SANITIZE=1 builds and runs everything under ASan/UBSan.
set -u
top_srcdir=$(cd "$(dirname "$0")/../.." && pwd)
top_builddir=$(cd "${1:-$top_srcdir/_build}" && pwd)
export top_srcdir top_builddir
B="$top_builddir/cluster"
if [ "${NETISO_SANITIZE:-}" = 1 ]; then
	B="$top_builddir/cluster-asan"
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1
fi
export NETISO_ETCD_PROBE="$B/etcd-probe"
make -s -f "$top_srcdir/tests/cluster/cluster.mk" top_srcdir="$top_srcdir" \
	top_builddir="$top_builddir" B="$B" SANITIZE="${NETISO_SANITIZE:-0}" || exit 1

passed=0 failed=0 skipped=0
run() { # NAME COMMAND...
	local name=$1 log t0 t1
	shift
	log=$(mktemp)
	t0=$(date +%s)
	"$@" >"$log" 2>&1
	local rc=$?
	t1=$(date +%s)
	local p f
	p=$(grep -c '^ok ' "$log")
	f=$(grep -c '^not ok ' "$log")
	if grep -q '^1\.\.0 # SKIP' "$log"; then
		skipped=$((skipped + 1))
		echo "SKIP: $name: $(sed -n 's/^1\.\.0 # SKIP //p' "$log")"
	elif [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	echo "$([ "$f" = 0 ] && echo PASS || echo FAIL): $name ($p passed, $f failed, $((t1 - t0)) s)"
	case $name in
	*.sh) grep -E '^(not ok|# )' "$log" | sed 's/^/    /' ;;
	*) grep -E -A3 '^not ok' "$log" | sed 's/^/    /' ;;
	esac
	rm -f "$log"
}
run test-membership "$B/test-membership" --tap
run test-membership-table "$B/test-membership-table" --tap
for t in etcd-kv etcd-watch etcd-tls etcd-cluster; do
	run "$t.sh" bash "$top_srcdir/tests/cluster/$t.sh"
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
