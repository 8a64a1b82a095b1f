#!/bin/sh
# Installs what tests/packaging/deb.sh and rpm.sh need on Debian 12, as root.
# Idempotent: asks apt only for what is missing. The project's own build
# dependencies (libvirt-dev, ...) are the build's business; debian/control lists
# them too, and dpkg-buildpackage names any that are missing.
set -eu

packages="
	dpkg-dev debhelper dh-autoreconf lintian
	rpm
	systemd
	apparmor python3-apparmor
	util-linux
"
missing=""
for p in $packages; do
	status=$(dpkg-query -W -f '${Status}' "$p" 2> /dev/null || true)
	[ "$status" = "install ok installed" ] || missing="$missing $p"
done
if [ -z "$missing" ]; then
	echo "install-deps: everything is installed"
	exit 0
fi
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086 # one word per package
apt-get install -y -q --no-install-recommends $missing
