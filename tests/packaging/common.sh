# tests/packaging/common.sh: sourced by deb.sh and rpm.sh. TAP helpers, the rules
# for skipping, make dist's tarball, and the list of files the interface promises.

set -u

tap_n=0
tap_failed=0

ok() { tap_n=$((tap_n + 1)); echo "ok $tap_n - $*"; }
not_ok() { tap_n=$((tap_n + 1)); tap_failed=$((tap_failed + 1)); echo "not ok $tap_n - $*"; }
# check DESCRIPTION COMMAND [ARG...]: one TAP result from the command's exit status.
check() {
	desc=$1
	shift
	if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}
# logged LOG COMMAND [ARG...]: run the command with its output going to LOG.
logged() {
	log=$1
	shift
	"$@" > "$log" 2>&1
}
# diag < FILE: show text as TAP comments.
diag() { sed 's/^/# /'; }
skip_all() {
	echo "1..0 # SKIP $*"
	exit 77
}
bail_out() {
	echo "Bail out! $*"
	exit 1
}
finish() {
	echo "1..$tap_n"
	[ "$tap_failed" -eq 0 ]
}

# preflight TOOL...: skip unless this is a full check run as root with the tools.
preflight() {
	[ "${NETISO_DISTCHECK:-}" != 1 ] ||
		skip_all "NETISO_DISTCHECK=1: package builds stay out of make distcheck"
	[ "$(id -u)" = 0 ] ||
		skip_all "needs root (dpkg installs into a throwaway root, builds run as root in CI)"
	for tool in "$@"; do
		command -v "$tool" > /dev/null 2>&1 ||
			skip_all "$tool not found: run tests/packaging/install-deps.sh"
	done
	if [ -z "${top_builddir:-}" ] || [ -z "${top_srcdir:-}" ]; then
		skip_all "top_builddir and top_srcdir unset: run through make check"
	fi
	version=$(cat "$top_srcdir/VERSION")
	tarball="blixard-netiso-$version.tar.gz"
}

# make_workdir NAME: a temporary directory, removed on exit unless NETISO_KEEP_TMP=1.
make_workdir() {
	work=$(mktemp -d "${TMPDIR:-/tmp}/blixard-netiso-$1.XXXXXX")
	if [ "${NETISO_KEEP_TMP:-}" = 1 ]; then
		echo "# keeping $work"
	else
		trap 'rm -rf "$work"' EXIT
	fi
}

# make_dist DIR: run make dist in the build tree and copy the tarball to DIR, as
# one TAP result; bail out without a tarball. deb.sh and rpm.sh may run at once
# (make -j check): the lock keeps one make dist from removing the other's distdir.
# The parent make's flags and jobserver stay out.
make_dist() {
	start=$(date +%s)
	if (cd "$top_builddir" &&
		env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
			flock .packaging-dist.lock sh -c "make dist && cp '$tarball' '$1/'") \
		> "$1/make-dist.log" 2>&1; then
		ok "make dist makes $tarball ($(elapsed "$start") s)"
	else
		not_ok "make dist makes $tarball"
		tail -n 30 "$1/make-dist.log" | diag
		bail_out "no tarball"
	fi
}

# expected_files LIST: the LIST file's entries without comments, as "TYPE PATH [TARGET]".
expected_files() { grep -v -e '^#' -e '^[[:space:]]*$' "$1"; }

# elapsed START: seconds since START (from date +%s).
elapsed() { echo $(($(date +%s) - $1)); }
