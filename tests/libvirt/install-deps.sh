#!/bin/sh
# Installs what the libvirt end-to-end tier and the demo need, from Debian 12 packages;
# with --build also what building blixard-netiso from git needs (the demo builds it).
# Idempotent: does nothing when every package is installed; otherwise one apt-get update,
# then one install. Services are not started by the install (policy-rc.d), so no libvirtd
# ever runs in the root network namespace because of this script.
set -eu

packages="
libvirt-daemon-system
libvirt-clients
qemu-system-x86
busybox-static
linux-image-amd64
cpio
gzip
iproute2
nftables
util-linux
gcc
libc6-dev
make
etcd-server
etcd-client
"
if [ "${1:-}" = --build ]; then
	packages="$packages autoconf automake libtool pkg-config libglib2.0-dev libxml2-dev
libnftables-dev libvirt-dev"
fi

missing=
for p in $packages; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$status" = "install ok installed" ] || missing="$missing $p"
done
if [ -z "$missing" ]; then
	echo "install-deps: all packages present"
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing packages:$missing (run as root to install them)" >&2
	exit 1
fi

policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\n# temporary, from blixard-netiso tests/libvirt/install-deps.sh\nexit 101\n' >"$policy"
	chmod 0755 "$policy"
	trap 'rm -f "$policy"' EXIT INT TERM
fi
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086 # a list of package names
apt-get install -y -qq --no-install-recommends $missing
# Nor at the next boot: etcd-server enables its unit, and the tests run their own etcd.
case " $missing " in
*" etcd-server "*) systemctl disable etcd.service >/dev/null 2>&1 || true ;;
esac
