#!/bin/bash
# Runs tests/netns/bridge-proto.sh (or BRIDGE_PROTO_VM_TEST, another script there) under
# Debian 12's own kernel (linux-image-amd64) in a QEMU machine whose root is this
# machine's file system (9p, read-only, with a tmpfs overlay), so that what the running
# kernel lacks (nf_conntrack_bridge) is proven on the kernel users run. TCG by default,
# like the libvirt tier (BRIDGE_PROTO_ACCEL=kvm to try KVM). Prints the inner TAP output.
set -u
. "$top_srcdir/tests/lib.sh"
require_root_tier qemu-system-x86_64 busybox
accel=${BRIDGE_PROTO_ACCEL:-tcg}

kver=${BRIDGE_PROTO_KVER:-}
if [ -z "$kver" ]; then
	for k in $(ls /boot/vmlinuz-* 2>/dev/null | sed 's|^/boot/vmlinuz-||' | sort -rV); do
		if [ -f "/lib/modules/$k/modules.dep" ]; then kver=$k; break; fi
	done
fi
[ -n "$kver" ] || tap_skip_all "no /boot/vmlinuz-* with its modules (install linux-image-amd64)"
moddir=/lib/modules/$kver
busybox=$(command -v busybox)
file -L "$busybox" 2>/dev/null | grep -q 'statically linked' || tap_skip_all "needs a static busybox (busybox-static)"

work=$(mktemp -d /tmp/bridge-proto-vm.XXXXXX)
trap 'rm -rf "$work"' EXIT
root=$work/initramfs
mkdir -p "$root/bin" "$root/lib/modules" "$work/out"

# modules for a 9p root with an overlay, each after what modules.dep says it needs
: >"$work/order"
resolve() {
	local m=$1 line dep
	line=$(grep -E "(^|/)$m\.ko(\.xz|\.zst)?:" "$moddir/modules.dep") || return 0
	for dep in ${line#*:}; do
		dep=$(basename "$dep")
		resolve "${dep%%.ko*}"
	done
	grep -qxF "${line%%:*}" "$work/order" || echo "${line%%:*}" >>"$work/order"
}
for m in virtio_pci 9pnet_virtio 9p overlay; do resolve "$m"; done
while read -r path; do
	base=$(basename "$path")
	case $base in
	*.ko.xz) xz -dc "$moddir/$path" >"$root/lib/modules/${base%.xz}" ;;
	*.ko.zst) zstd -qdc "$moddir/$path" >"$root/lib/modules/${base%.zst}" ;;
	*) cp "$moddir/$path" "$root/lib/modules/$base" ;;
	esac
	echo "${base%.ko*}.ko" >>"$root/lib/modules/order"
done <"$work/order"
cp "$busybox" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"

cat >"$root/init" <<'EOF'
#!/bin/sh
/bin/busybox --install -s /bin
mkdir -p /proc /sys /dev /ro /rw /newroot
mount -t proc proc /proc
mount -t devtmpfs dev /dev
for m in $(cat /lib/modules/order); do insmod "/lib/modules/$m"; done
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=loose root /ro
mount -t tmpfs tmpfs /rw
mkdir -p /rw/upper /rw/work
mount -t overlay overlay -o lowerdir=/ro,upperdir=/rw/upper,workdir=/rw/work /newroot
mkdir -p /newroot/out
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 out /newroot/out
umount /proc
exec switch_root /newroot /bin/bash /out/run.sh
EOF
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$work/initrd.gz"

cat >"$work/out/run.sh" <<EOF
#!/bin/bash
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mkdir -p /run/netns
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
ip link set lo up
# a private copy: the tree may change while this slow machine runs
mkdir -p /tmp/src && cp -a '$top_srcdir/tests' /tmp/src/ && cd /tmp/src
top_srcdir=/tmp/src top_builddir=/tmp/src BRNF='${BRNF:-0}' \
	timeout 5000 ${BRIDGE_PROTO_VM_RUN:-bash tests/netns/${BRIDGE_PROTO_VM_TEST:-bridge-proto.sh}} >/out/tap 2>&1
echo \$? >/out/rc
sync
echo b >/proc/sysrq-trigger
EOF

diag "booting $kver ($accel)"
timeout 5400 qemu-system-x86_64 -accel "$accel" -cpu max -smp 2 -m 2048 -nographic -no-reboot \
	-kernel "/boot/vmlinuz-$kver" -initrd "$work/initrd.gz" \
	-append "console=ttyS0 ${BRIDGE_PROTO_VM_CMDLINE:-quiet loglevel=1} panic=-1 no_timer_check rdinit=/init" \
	-virtfs local,path=/,mount_tag=root,security_model=none,readonly=on,multidevs=remap \
	-virtfs local,path="$work/out",mount_tag=out,security_model=none \
	-nic none >"$work/console" 2>&1
if [ ! -f "$work/out/rc" ]; then
	echo "not ok 1 - the inner run finished"
	sed 's/^/# /' "$work/console" | tail -n 30
	echo "1..1"
	exit 1
fi
cat "$work/out/tap"
exit "$(cat "$work/out/rc")"
