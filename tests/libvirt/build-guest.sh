#!/bin/sh
# Builds the end-to-end test guest from Debian packages: the distribution kernel
# (linux-image-amd64) and an initramfs of busybox-static, the virtio-net modules of that
# same kernel, netprobe (built static here) and guest-init.sh as /init.
# Usage: build-guest.sh OUTDIR   -> OUTDIR/vmlinuz, OUTDIR/initrd.gz, OUTDIR/kernel-version
# The result is reused while its inputs are unchanged (a stamp of their checksums).
set -eu

out=${1:?usage: build-guest.sh OUTDIR}
here=$(cd "$(dirname "$0")" && pwd)
busybox=${NETISO_E2E_BUSYBOX:-/bin/busybox}

die() { echo "build-guest: $*" >&2; exit 1; }

# The newest Debian kernel that has both its image and its modules installed; the running
# kernel is irrelevant (the guest boots this one).
kver=${NETISO_E2E_KVER:-}
if [ -z "$kver" ]; then
	for k in $(ls /boot/vmlinuz-* 2>/dev/null | sed 's|^/boot/vmlinuz-||' | sort -rV); do
		if [ -f "/lib/modules/$k/modules.dep" ]; then kver=$k; break; fi
	done
fi
[ -n "$kver" ] || die "no /boot/vmlinuz-* with /lib/modules/*/modules.dep (install linux-image-amd64)"
moddir=/lib/modules/$kver
kernel=/boot/vmlinuz-$kver
[ -r "$kernel" ] || die "$kernel is not readable"
"$busybox" --help >/dev/null 2>&1 || die "$busybox is not a working busybox (install busybox-static)"
! command -v file >/dev/null || ! file -L "$busybox" | grep -q 'dynamically linked' || die "$busybox is dynamically linked (install busybox-static)"

# Tests may run in parallel (make -j): one builder at a time.
mkdir -p "$out"
exec 9>"$out/.lock"
flock 9

stamp=$(cat "$kernel" "$busybox" "$here/guest-init.sh" "$here"/netprobe*.[ch] "$0" | md5sum | cut -d' ' -f1)
if [ -f "$out/stamp" ] && [ "$(cat "$out/stamp")" = "$stamp" ] && [ -f "$out/initrd.gz" ]; then
	exit 0
fi

# Modules in load order: each one after what modules.dep says it needs.
resolve() {
	# shellcheck disable=SC3043 # dash, Debian's /bin/sh, has local; the recursion needs it
	local m line path dep d
	m=$1
	line=$(grep -E "(^|/)$m\.ko(\.xz|\.zst|\.gz)?:" "$moddir/modules.dep" || true)
	[ -n "$line" ] || return 0 # built into this kernel
	path=${line%%:*}
	for dep in ${line#*:}; do
		d=$(basename "$dep"); d=${d%%.ko*}
		resolve "$d"
	done
	grep -qxF "$path" "$work/order" 2>/dev/null || echo "$path" >>"$work/order"
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$root/bin" "$root/dev" "$root/proc" "$root/sys" "$root/tmp" "$root/lib/modules"
: >"$work/order"
for m in virtio_pci virtio_net; do resolve "$m"; done
: >"$root/lib/modules/load-order"
while read -r path; do
	base=$(basename "$path")
	case $base in
	*.ko) cp "$moddir/$path" "$root/lib/modules/$base" ;;
	*.ko.xz) xz -dc "$moddir/$path" >"$root/lib/modules/${base%.xz}"; base=${base%.xz} ;;
	*.ko.zst) zstd -qdc "$moddir/$path" >"$root/lib/modules/${base%.zst}"; base=${base%.zst} ;;
	*.ko.gz) gzip -dc "$moddir/$path" >"$root/lib/modules/${base%.gz}"; base=${base%.gz} ;;
	esac
	echo "$base" >>"$root/lib/modules/load-order"
done <"$work/order"

cp "$busybox" "$root/bin/busybox"
${CC:-cc} -static -O2 -o "$root/bin/netprobe" "$here/netprobe.c" "$here/netprobe-l2.c" ||
	die "cannot build netprobe statically (install gcc and libc6-dev)"
install -m 0755 "$here/guest-init.sh" "$root/init"
# The kernel opens /dev/console for /init before devtmpfs is mounted.
mknod -m 600 "$root/dev/console" c 5 1 2>/dev/null || true

mkdir -p "$out"
(cd "$root" && find . | sort | cpio -o -H newc --quiet) | gzip -1 >"$out/initrd.gz.tmp"
mv "$out/initrd.gz.tmp" "$out/initrd.gz"
cp "$kernel" "$out/vmlinuz"
cp "$root/bin/netprobe" "$out/netprobe"
echo "$kver" >"$out/kernel-version"
tr '\n' ' ' <"$root/lib/modules/load-order" >"$out/modules"
echo "$stamp" >"$out/stamp"
echo "build-guest: kernel $kver, modules: $(cat "$out/modules")" >&2
