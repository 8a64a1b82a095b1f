#!/bin/sh
# Builds the .rpm from make dist's tarball with rpmbuild -ta (Debian's rpm package),
# then checks its version, file list, %config(noreplace), dependencies and scriptlets.

. "${top_srcdir:-$(dirname "$0")/../..}/tests/packaging/common.sh"

preflight rpmbuild rpm flock
list="$top_srcdir/tests/data/packaging/rpm-files.txt"
make_workdir rpm

# --- build -----------------------------------------------------------------------------
make_dist "$work"

# --nodeps: the BuildRequires name Fedora packages that Debian's rpm database does not
# know; the Debian packages providing them are installed. The directories are explicit
# because Debian's rpm macros are not a distribution's; these are Fedora's.
start=$(date +%s)
if env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL rpmbuild -ta --nodeps \
	--define "_topdir $work/rpmbuild" \
	--define "_prefix /usr" \
	--define "_exec_prefix /usr" \
	--define "_sbindir /usr/sbin" \
	--define "_libexecdir /usr/libexec" \
	--define "_sysconfdir /etc" \
	--define "_datadir /usr/share" \
	--define "_mandir /usr/share/man" \
	--define "_unitdir /usr/lib/systemd/system" \
	--define "_build_id_links none" \
	"$work/$tarball" > "$work/build.log" 2>&1; then
	ok "rpmbuild -ta builds the packages from the tarball ($(elapsed "$start") s)"
else
	not_ok "rpmbuild -ta builds the packages from the tarball"
	tail -n 40 "$work/build.log" | diag
	bail_out "no .rpm"
fi
rpm=$(find "$work/rpmbuild/RPMS" -name "blixard-netiso-$version-*.rpm" ! -name '*debug*' | head -n 1)
[ -n "$rpm" ] || bail_out "rpmbuild made no blixard-netiso-$version-*.rpm"
q() { rpm -qp --nosignature "$@" "$rpm" 2> /dev/null; }

check "the package version is VERSION ($version)" test "$(q --qf '%{VERSION}')" = "$version"

# --- contents --------------------------------------------------------------------------
# One line per file: "MODE flags=FLAGS PATH -> LINKTARGET"; FLAGS has c for %config,
# n for noreplace, d for %doc.
q --qf '[%{FILEMODES:perms} flags=%{FILEFLAGS:fflags} %{FILENAMES} -> %{FILELINKTOS}\n]' \
	> "$work/files"
diag < "$work/files"
bad=""
while read -r type path target; do
	line=$(grep -F " $path -> " "$work/files")
	case $type in
	x) expr "$line" : '-..x.* flags= ' ;;
	f) expr "$line" : '-.* flags= ' ;;
	d) expr "$line" : 'd.* flags= ' ;;
	m) expr "$line" : '-.* flags=d ' ;;
	c) expr "$line" : '-.* flags=cn ' ;;
	l) expr "$line" : "l.* -> $target\$" ;;
	esac > /dev/null || bad="$bad $path"
done << LIST
$(expected_files "$list")
LIST
check "the .rpm has every file of the interface with its type${bad:+; wrong:$bad}" test -z "$bad"

expected_files "$list" | awk '{ print $2 }' > "$work/paths"
unexpected=$(awk '{ print $3 }' "$work/files" | grep -v '^/usr/share/doc/blixard-netiso' |
	grep -vxF -f "$work/paths" | tr '\n' ' ')
check "the .rpm has no file the interface does not list${unexpected:+: $unexpected}" \
	test -z "$unexpected"

check "the configuration, and only it, is %config(noreplace)" \
	test "$(awk '$2 ~ /c/ { print $2, $3 }' "$work/files")" = "flags=cn /etc/blixard/blixard.toml"

declares_dependencies() {
	q --requires | grep -q '^libvirt-daemon' && q --requires | grep -qx 'nftables' &&
		[ "$(q --suggests)" = iptables ]
}
check "it requires the libvirt daemon and nftables, suggests iptables" declares_dependencies

# --- scriptlets ------------------------------------------------------------------------
q --scripts > "$work/scripts"
check "%post tells the operator to restart libvirtd" \
	grep -q 'systemctl restart libvirtd' "$work/scripts"
# The notices name the commands for the operator; no other line may run them.
restarts_libvirtd() {
	grep -v '^blixard-netiso:' "$work/scripts" |
		grep -E '(systemctl|service|kill|invoke-rc\.d).*(libvirtd|virtqemud)'
}
check "no scriptlet restarts, reloads or signals libvirtd" test -z "$(restarts_libvirtd)"

finish
