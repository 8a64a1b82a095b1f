#!/bin/sh
# Builds the .deb from make dist's tarball as a Debian builder would, lints it, checks
# its files against interface.md, then installs, upgrades and purges it in a throwaway
# root with its maintainer scripts running (dpkg --root, chrootless: they honour DPKG_ROOT).

. "${top_srcdir:-$(dirname "$0")/../..}/tests/packaging/common.sh"

preflight dpkg-buildpackage dh dh_autoreconf lintian dpkg-deb flock
list="$top_srcdir/tests/data/packaging/deb-files.txt"
# The qemu.d link and the hook it points to, as the list names them.
link=$(expected_files "$list" | awk '$1 == "l" { print $2 }')
hook=$(expected_files "$list" | awk '$1 == "l" { print $3 }')
make_workdir deb

# --- build -----------------------------------------------------------------------------
make_dist "$work"

tree="$work/blixard-netiso-$version"
tar -xzf "$work/$tarball" -C "$work" && cp -R "$tree/packaging/debian" "$tree/debian"
check "the tarball carries packaging/debian, copied to debian/" test -x "$tree/debian/rules"

arch=$(dpkg --print-architecture)
deb="$work/blixard-netiso_${version}-1_${arch}.deb"
changes="$work/blixard-netiso_${version}-1_${arch}.changes"
start=$(date +%s)
if (cd "$tree" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
	DEB_BUILD_OPTIONS="parallel=$(nproc)" dpkg-buildpackage -us -uc -b) \
	> "$work/build.log" 2>&1 && [ -f "$deb" ]; then
	ok "dpkg-buildpackage -b builds $(basename "$deb") ($(elapsed "$start") s)"
else
	not_ok "dpkg-buildpackage -b builds $(basename "$deb")"
	tail -n 40 "$work/build.log" | diag
	bail_out "no .deb"
fi

check "the package version is VERSION ($version) plus the Debian revision" \
	test "$(dpkg-deb -f "$deb" Version)" = "$version-1"

# --- lint ------------------------------------------------------------------------------
start=$(date +%s)
lintian --fail-on none --display-info "$changes" > "$work/lintian.log" 2>&1
diag < "$work/lintian.log"
if grep -q '^E: ' "$work/lintian.log"; then
	not_ok "lintian reports no errors ($(elapsed "$start") s)"
else
	ok "lintian reports no errors ($(grep -c '^W: ' "$work/lintian.log") warnings, $(elapsed "$start") s)"
fi

# --- contents --------------------------------------------------------------------------
# dpkg-deb -c prints "MODE OWNER SIZE DATE TIME ./PATH[ -> TARGET]"; keep
# "TYPE PATH[ TARGET]" for files and links, TYPE being - or l.
dpkg-deb -c "$deb" |
	awk '$1 !~ /^d/ { sub(/^\./, "", $6); print substr($1, 1, 1) " " $6 ($8 != "" ? " " $8 : "") }' |
	sort > "$work/contents"
missing=""
while read -r type path target; do
	case $type in
	l) want="l $path $target" ;;
	*) want="- $path" ;;
	esac
	grep -qxF -e "$want" "$work/contents" || missing="$missing $path"
done << LIST
$(expected_files "$list")
LIST
check "the .deb has every file of the interface${missing:+; missing:$missing}" test -z "$missing"

expected_files "$list" | awk '{ print $2 }' > "$work/paths"
unexpected=$(awk '{ print $2 }' "$work/contents" | grep -v '^/usr/share/doc/blixard-netiso/' |
	grep -vxF -f "$work/paths" | tr '\n' ' ')
check "the .deb has no file the interface does not list${unexpected:+: $unexpected}" \
	test -z "$unexpected"

expected_files "$list" | awk '$1 == "c" { print $2 }' | sort > "$work/conffiles.want"
dpkg-deb --info "$deb" conffiles 2> /dev/null | sort > "$work/conffiles"
check "the conffiles are the configuration and the AppArmor snippet" \
	cmp -s "$work/conffiles.want" "$work/conffiles"

declares_dependencies() {
	dpkg-deb -f "$deb" Depends | grep -q 'libvirt-daemon' &&
		dpkg-deb -f "$deb" Depends | grep -q 'nftables' &&
		[ "$(dpkg-deb -f "$deb" Suggests)" = iptables ]
}
check "it depends on the libvirt daemon and nftables, suggests iptables" declares_dependencies

# --- a throwaway root ------------------------------------------------------------------
root="$work/root"
admin="$root/var/lib/dpkg"
mkdir -p "$admin/info" "$admin/updates" "$admin/triggers"
touch "$admin/status" "$admin/available"

# The host's libvirtd profile and the empty local file libvirt's postinst leaves, so
# that postinst's AppArmor step has something to act on.
aa=""
if [ -f /etc/apparmor.d/usr.sbin.libvirtd ]; then
	aa="$root/etc/apparmor.d"
	mkdir -p "$aa/local"
	cp /etc/apparmor.d/usr.sbin.libvirtd "$aa/"
	: > "$aa/local/usr.sbin.libvirtd"
fi
aa_tools=""
if [ -n "$aa" ] && command -v apparmor_parser > /dev/null &&
	/usr/bin/python3 -c 'import apparmor.rule.file' 2> /dev/null; then
	aa_tools=yes
fi
# aa_allows_exec PATH: does the root's libvirtd profile, includes expanded, let
# libvirtd execute PATH? Prints the rule that decides.
aa_allows_exec() {
	apparmor_parser -p -I "$aa" -I /etc/apparmor.d "$aa/usr.sbin.libvirtd" 2> /dev/null |
		/usr/bin/python3 "$top_srcdir/tests/packaging/aa-allows-exec.py" "$1"
}
# The stock profile allows executing what is under /etc/libvirt/hooks/, but AppArmor
# checks the resolved path of the qemu.d link: the hook under /usr/libexec.
[ -z "$aa_tools" ] || echo "libvirtd's stock profile, for $hook: $(aa_allows_exec "$hook")" | diag

# Every command that could restart or signal libvirtd, recording its arguments.
mkdir -p "$work/spy"
for cmd in systemctl service invoke-rc.d deb-systemd-invoke kill pkill killall; do
	printf '#!/bin/sh\necho "%s $*" >> "%s"\n' "$cmd" "$work/spy.log" > "$work/spy/$cmd"
	chmod +x "$work/spy/$cmd"
done
: > "$work/spy.log"

dpkg_root() {
	PATH="$work/spy:$PATH" dpkg --root="$root" --log="$work/dpkg.log" \
		--force-script-chrootless --force-depends "$@"
}

# --- install ---------------------------------------------------------------------------
check "dpkg installs it into the throwaway root, running postinst" \
	logged "$work/install.log" dpkg_root -i "$deb"
diag < "$work/install.log"

is_installed() { dpkg --root="$root" -s blixard-netiso | grep -qx 'Status: install ok installed'; }
check "dpkg records it as installed" is_installed

tells_to_restart() {
	grep -q "never restarts libvirtd" "$1" && grep -q "systemctl restart libvirtd" "$1"
}
check "postinst tells the operator to restart libvirtd" tells_to_restart "$work/install.log"

bad=""
while read -r type path target; do
	f="$root$path"
	case $type in
	x) [ -f "$f" ] && [ -x "$f" ] ;;
	f | c) [ -f "$f" ] ;;
	l) [ -L "$f" ] && [ "$(readlink "$f")" = "$target" ] ;;
	esac || bad="$bad $path"
done << LIST
$(expected_files "$list")
LIST
check "every file of the interface is installed where it belongs${bad:+; wrong:$bad}" test -z "$bad"

resolves_in_root() {
	target=$(readlink "$root$link")
	case $target in
	/*) [ -f "$root$target" ] && [ -x "$root$target" ] ;;
	*) false ;;
	esac
}
check "the qemu.d link is absolute and resolves to the executable hook in the root" \
	resolves_in_root

not_enabled() { ! ls "$root"/etc/systemd/system/*.wants/blixard-netiso-watch.service 2> /dev/null; }
check "the watcher is installed but not enabled" not_enabled

# At boot the watcher must be ready (Type=notify) before libvirtd starts guests, and
# start after the firewall services that flush the ruleset.
unit="$root/lib/systemd/system/blixard-netiso-watch.service"
orders_boot() {
	grep -qx 'Type=notify' "$unit" &&
		grep -Eq '^Before=.*libvirtd\.service' "$unit" &&
		grep -Eq '^Before=.*libvirt-guests\.service' "$unit" &&
		grep -Eq '^After=.*nftables\.service' "$unit"
}
check "the watcher is ready before libvirtd and libvirt-guests, after nftables.service" orders_boot
# The host's own units (libvirtd's, the targets) resolve the references; the command
# is the one in the throwaway root.
verify_unit() {
	mkdir -p "$work/unit" &&
		sed "s|^ExecStart=/usr/sbin/|ExecStart=$root/usr/sbin/|" "$unit" \
			> "$work/unit/blixard-netiso-watch.service" &&
		systemd-analyze verify --man=no "$work/unit/blixard-netiso-watch.service"
}
if command -v systemd-analyze > /dev/null; then
	check "systemd-analyze verify accepts the unit" logged "$work/unit-verify.log" verify_unit
	diag < "$work/unit-verify.log"
else
	ok "systemd-analyze verify accepts the unit # SKIP needs systemd-analyze"
fi

# Installing over itself runs postinst with the old version, as an upgrade does.
check "dpkg installs it over itself, as an upgrade does" \
	logged "$work/upgrade.log" dpkg_root -i "$deb"
check "an upgrade prints no restart notice: libvirtd already knows the hook" \
	test "$(grep -c "never restarts libvirtd" "$work/upgrade.log")" = 0

# --- AppArmor --------------------------------------------------------------------------
aa_include='include if exists <abstractions/blixard-netiso-hook>'
if [ -n "$aa_tools" ]; then
	check "postinst adds the AppArmor include to libvirtd's local profile file, once" \
		test "$(grep -cxF "$aa_include" "$aa/local/usr.sbin.libvirtd")" = 1
	# Without AppArmor in the kernel (containers) the parser warns that it cannot cache.
	check "libvirtd's profile with the snippet compiles" logged "$work/aa-compile.log" \
		apparmor_parser -Q -K -T -I "$aa" -I /etc/apparmor.d "$aa/usr.sbin.libvirtd"
	diag < "$work/aa-compile.log"
	check "libvirtd's profile lets it execute $hook" \
		logged "$work/aa.log" aa_allows_exec "$hook"
	diag < "$work/aa.log"
else
	for d in "postinst adds the AppArmor include" "the profile compiles" "libvirtd may execute the hook"; do
		ok "$d # SKIP needs libvirtd's profile, apparmor_parser and python3-apparmor"
	done
fi

# --- purge -----------------------------------------------------------------------------
check "dpkg purges it from the throwaway root" \
	logged "$work/purge.log" dpkg_root --purge blixard-netiso
diag < "$work/purge.log"
# What remains are dpkg's database and the two libvirt profile files this test put there.
left=$(cd "$root" && find . ! -type d ! -path './var/lib/dpkg/*' \
	! -path ./etc/apparmor.d/usr.sbin.libvirtd ! -path ./etc/apparmor.d/local/usr.sbin.libvirtd |
	sed 's/^\.//' | tr '\n' ' ')
check "purge leaves no file of the package behind${left:+: $left}" test -z "$left"
if [ -n "$aa" ]; then
	check "purge takes the AppArmor include back out, leaving the local file as it was" \
		test ! -s "$aa/local/usr.sbin.libvirtd"
else
	ok "purge takes the AppArmor include back out # SKIP no libvirtd profile on this host"
fi

diag < "$work/spy.log"
check "no maintainer script restarted, reloaded or signalled libvirtd" \
	test "$(grep -c libvirt "$work/spy.log")" = 0

finish
