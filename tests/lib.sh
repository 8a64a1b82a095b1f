# TAP helpers shared by the shell test tiers. Source it; call plan, ok/fail, done_testing.
# shellcheck shell=bash

TAP_COUNT=0
TAP_FAILED=0

tap_skip_all() {
	echo "1..0 # SKIP $*"
	exit 0
}

# ok DESCRIPTION COMMAND...: runs the command, passes when it exits 0.
ok() {
	local desc=$1
	shift
	TAP_COUNT=$((TAP_COUNT + 1))
	if "$@" >"${TAP_LOG:-/dev/null}" 2>&1; then
		echo "ok $TAP_COUNT - $desc"
	else
		echo "not ok $TAP_COUNT - $desc"
		TAP_FAILED=$((TAP_FAILED + 1))
		if [ -n "${TAP_LOG:-}" ] && [ -s "$TAP_LOG" ]; then
			sed 's/^/# /' "$TAP_LOG" | tail -n 20
		fi
	fi
}

# not_ok DESCRIPTION COMMAND...: passes when the command fails.
fails() {
	local desc=$1
	shift
	TAP_COUNT=$((TAP_COUNT + 1))
	if "$@" >"${TAP_LOG:-/dev/null}" 2>&1; then
		echo "not ok $TAP_COUNT - $desc (unexpectedly succeeded)"
		TAP_FAILED=$((TAP_FAILED + 1))
	else
		echo "ok $TAP_COUNT - $desc"
	fi
}

diag() {
	echo "# $*"
}

done_testing() {
	echo "1..$TAP_COUNT"
	[ "$TAP_FAILED" -eq 0 ]
}

# Tiers that need the kernel or libvirtd: skip cleanly when they cannot run.
require_root_tier() {
	[ "${NETISO_DISTCHECK:-}" = 1 ] && tap_skip_all "kernel tier not run under distcheck"
	[ "$(id -u)" = 0 ] || tap_skip_all "needs root (network namespaces and nf_tables)"
	for tool in "$@"; do
		command -v "$tool" >/dev/null 2>&1 || tap_skip_all "needs $tool"
	done
}
