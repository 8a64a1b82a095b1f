# shellcheck shell=bash
# The end-to-end tier's machinery, sourced by e2e-*.sh and the demo (bash): a private
# libvirtd + virtlogd in a network namespace ("host") and a mount namespace of their own,
# "cluster" and "internet" namespaces with listeners, tiny busybox guests driven through
# their serial ports, and TAP reporting of what their probes found. Several such hosts,
# routed to each other, and live migration between them: lib-e2e-hosts.sh.
#
# Nothing here touches the root network namespace: every address, route, sysctl and
# firewall change is made inside namespaces this file creates, and removed on exit.

E2E_LIBDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${top_srcdir:=$(cd "$E2E_LIBDIR/../.." && pwd)}"
if [ -z "${top_builddir:-}" ]; then
	if [ -f "$top_srcdir/Makefile" ]; then
		top_builddir=$top_srcdir
	else
		top_builddir=$top_srcdir/_build
	fi
fi
E2E_CACHE=${NETISO_E2E_CACHE:-$top_builddir/tests/libvirt/cache}
E2E_EXPECT=${NETISO_E2E_EXPECT:-isolated}
# NETISO_BACKEND picks the hook's backend; one test definition checks both.
E2E_BACKEND=${NETISO_BACKEND:-nftables}
if [ "$E2E_BACKEND" = iptables ]; then
	E2E_FW_NAME="the iptables chains"
else
	E2E_FW_NAME="table inet blixard"
fi
E2E_ID=bxe2e$$
E2E_NS_HOST=$E2E_ID-host
E2E_NS_CLUSTER=$E2E_ID-cluster
E2E_NS_INET=$E2E_ID-internet
E2E_T=
E2E_HOLDER=
E2E_LIBVIRTD=
E2E_VIRTLOGD=
E2E_PIDS=()
E2E_EXTRA_NS=() # namespaces of a test's own (lib-e2e-bridged.sh: the LAN behind br0)
declare -A E2E_TENANT E2E_IDX E2E_GHOST
# Hosts: a test sets E2E_NHOSTS before e2e_setup to run several simulated hypervisors.
# Host N has its own network namespace, private mounts, libvirtd (its own host_uuid), hook
# configuration and state, all under E2E_HD (host 1: $E2E_T itself, the layout the
# single-host tests know; host N: $E2E_T/hN). Functions act on the current host E2E_H
# (e2e_host N switches, e2e_on N CMD... runs one command there); the guest functions act
# on the host the guest runs on (E2E_GHOST).
E2E_NHOSTS=${E2E_NHOSTS:-1}
E2E_H=1
E2E_HD=
E2E_HOST_HOLDER=() E2E_HOST_LIBVIRTD=() E2E_HOST_VIRTLOGD=()
# The guests' domain type: qemu (TCG, the default: KVM is never assumed) or kvm.
E2E_DOMAIN_TYPE=${NETISO_E2E_DOMAIN_TYPE:-qemu}
E2E_TAPN=0
E2E_TAPFAIL=0
E2E_CLI=
E2E_CLI_PID=

# Addresses. Guest number i (11..99): the guest is 10.0.1.i and fd00:10::1:i, the host end
# of its tap 10.0.0.i and fd00:10::i (libvirt puts them on the tap with a peer route).
E2E_CLUSTER4=172.16.0.10 E2E_CLUSTER6=fd00:172:16::10
E2E_HOSTCL4=172.16.0.1 E2E_HOSTCL6=fd00:172:16::1
E2E_INET4=198.51.100.10 E2E_INET6=2001:db8:100::10
E2E_HOSTIN4=198.51.100.1 E2E_HOSTIN6=2001:db8:100::1
e2e_guest4() { echo "10.0.1.${E2E_IDX[$1]}"; }
# Guest numbers are unique across hosts: a migrated guest keeps its addresses.
e2e_guest6() { echo "fd00:10::1:${E2E_IDX[$1]}"; }
e2e_gw4() { echo "10.0.0.${E2E_IDX[$1]}"; }
e2e_gw6() { echo "fd00:10::${E2E_IDX[$1]}"; }

E2E_DEMO=${E2E_DEMO:-}
e2e_log() { echo "# $*" >&2; }
e2e_bail() {
	if [ -n "$E2E_DEMO" ]; then echo "demo: error: $*" >&2; else echo "Bail out! $*"; fi
	exit 1
}

# TAP skip of the whole script. Under automake's tap-driver (which exports AM_TAP_AWK to
# the test) a non-zero exit is an error, so the skip plan carries the reason and the
# status is 0; run by hand, the script exits 77 like every skipping test.
e2e_skip() {
	[ -z "$E2E_DEMO" ] || e2e_bail "cannot run here: $*"
	echo "1..0 # SKIP $*"
	echo "e2e: skipped: $*" >&2
	[ -n "${AM_TAP_AWK:-}" ] && exit 0
	exit 77
}

# Why this tier cannot run here, or nothing.
e2e_skip_reason() {
	local p
	if [ "${NETISO_DISTCHECK:-}" = 1 ]; then
		echo "NETISO_DISTCHECK=1: the libvirt tier stays out of distcheck"
	elif [ "$(id -u)" != 0 ]; then
		echo "needs root (network namespaces, libvirtd); run as root to include this tier"
	elif ! command -v qemu-system-x86_64 >/dev/null; then
		echo "no qemu-system-x86_64 (tests/libvirt/install-deps.sh installs qemu-system-x86)"
	else
		local tools="libvirtd virtlogd virsh ip nft unshare nsenter cpio gzip"
		[ "$E2E_BACKEND" = iptables ] &&
			tools="$tools iptables-restore ip6tables-restore iptables-save ip6tables-save"
		[ "${E2E_CLUSTER:-0}" = 1 ] && tools="$tools etcd etcdctl"
		for p in $tools; do
			if ! PATH=$PATH:/usr/sbin:/sbin command -v $p >/dev/null; then
				echo "no $p (run tests/libvirt/install-deps.sh)"
				return
			fi
		done
		[ -d /etc/libvirt ] || { echo "no /etc/libvirt (install libvirt-daemon-system)"; return; }
		ls /boot/vmlinuz-* >/dev/null 2>&1 ||
			{ echo "no Debian kernel in /boot (install linux-image-amd64)"; return; }
		[ -x /bin/busybox ] || { echo "no /bin/busybox (install busybox-static)"; return; }
		case $E2E_DOMAIN_TYPE in
		qemu) ;;
		kvm) [ -w /dev/kvm ] || { echo "NETISO_E2E_DOMAIN_TYPE=kvm but no usable /dev/kvm"; return; } ;;
		*) echo "NETISO_E2E_DOMAIN_TYPE must be qemu or kvm, not '$E2E_DOMAIN_TYPE'"; return ;;
		esac
		ip netns add "$E2E_ID-probe" 2>/dev/null ||
			{ echo "cannot create network namespaces here"; return; }
		if ! ip netns exec "$E2E_ID-probe" nft add table inet probe 2>/dev/null; then
			ip netns del "$E2E_ID-probe"
			echo "nf_tables does not work in a network namespace here"
			return
		fi
		ip netns del "$E2E_ID-probe"
		if [ -z "${NETISO_E2E_HOOK:-}" ] && [ ! -f "$top_builddir/Makefile" ]; then
			echo "no configured build tree at $top_builddir (set top_builddir)"
		fi
	fi
}

# ---------------------------------------------------------------- setup and cleanup

e2e_cleanup() {
	local pid ns d h i
	set +e
	trap - EXIT INT TERM
	for h in $(seq 1 "$E2E_NHOSTS"); do
		e2e_host "$h"
		if [ -n "$E2E_LIBVIRTD" ] && kill -0 "$E2E_LIBVIRTD" 2>/dev/null; then
			for d in $(e2e_virsh list --name 2>/dev/null); do
				timeout 30 nsenter -t "$E2E_HOLDER" -m -n -- virsh -q -c qemu:///system destroy "$d" >/dev/null 2>&1
			done
		fi
		e2e_stop_pid "$E2E_LIBVIRTD"
		E2E_LIBVIRTD=
	done
	e2e_host 1
	# Last started, first stopped: a watch daemon revokes its lease in etcd, started before it.
	for ((i = ${#E2E_PIDS[@]} - 1; i >= 0; i--)); do
		pid=${E2E_PIDS[i]}
		case " ${E2E_HOST_HOLDER[*]} " in *" $pid "*) ;; *) e2e_stop_pid "$pid" ;; esac
	done
	for h in $(seq 1 "$E2E_NHOSTS"); do
		e2e_host "$h"
		e2e_sweep_private_ns
		e2e_stop_pid "$E2E_HOLDER"
		E2E_HOLDER=
	done
	e2e_host 1
	E2E_PIDS=()
	for ns in $(for h in $(seq 1 "$E2E_NHOSTS"); do e2e_host_ns "$h"; done) \
		"$E2E_NS_FABRIC" "$E2E_NS_CLUSTER" "$E2E_NS_INET" "$E2E_ID-probe" "${E2E_EXTRA_NS[@]}"; do
		[ -e "/run/netns/$ns" ] && ip netns del "$ns"
	done
	if [ -n "$E2E_T" ] && [ -d "$E2E_T" ]; then
		if [ "${NETISO_E2E_KEEP:-}" = 1 ]; then
			e2e_log "kept $E2E_T"
		else
			rm -rf "$E2E_T"
		fi
	fi
}

# Whatever still runs in our private mount namespace (QEMU daemonises away from libvirtd
# and shares that namespace, as namespaces = [] in qemu.conf; or a hook that outlived
# libvirtd) was started by this harness: end it by PID, before the holder goes.
e2e_sweep_private_ns() {
	local mnt pid
	[ -n "$E2E_HOLDER" ] || return 0
	mnt=$(readlink "/proc/$E2E_HOLDER/ns/mnt" 2>/dev/null) || return 0
	for pid in /proc/[0-9]*; do
		pid=${pid#/proc/}
		[ "$pid" = "$E2E_HOLDER" ] && continue
		[ "$(readlink "/proc/$pid/ns/mnt" 2>/dev/null)" = "$mnt" ] || continue
		e2e_log "ending leftover process $pid ($(cat "/proc/$pid/comm" 2>/dev/null))"
		kill -KILL "$pid" 2>/dev/null
	done
}

# Ends one of our processes: TERM, a few seconds, then KILL; reaps it when it is our child.
e2e_stop_pid() {
	local pid=$1 i
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for i in $(seq 1 50); do
		kill -0 "$pid" 2>/dev/null || break
		[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ] && break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

e2e_setup() {
	local reason
	reason=$(e2e_skip_reason)
	[ -z "$reason" ] || e2e_skip "$reason"
	case $E2E_EXPECT in
	isolated | open) ;;
	*) e2e_bail "NETISO_E2E_EXPECT must be isolated or open, not '$E2E_EXPECT'" ;;
	esac
	export PATH=$PATH:/usr/sbin:/sbin
	# One end-to-end run at a time (make -j runs tests in parallel; two sets of TCG
	# guests on two cores would only make each other time out).
	mkdir -p "$E2E_CACHE"
	exec 8>"$E2E_CACHE/run.lock"
	if ! flock -n 8; then
		e2e_log "waiting for another end-to-end run to finish ($E2E_CACHE/run.lock)"
		flock 8
	fi
	E2E_T=$(mktemp -d /tmp/bxe2e.XXXXXX)
	E2E_HD=$E2E_T
	trap e2e_cleanup EXIT
	trap 'exit 130' INT TERM
	E2E_T0=$(date +%s)
	e2e_build_guest
	e2e_install_hook
	e2e_netns_setup
	[ "$E2E_NHOSTS" = 1 ] || e2e_hosts_netns_setup
	e2e_libvirt_prepare
	e2e_libvirt_start
	[ "$E2E_NHOSTS" = 1 ] || e2e_hosts_libvirt_setup
	e2e_log "setup done after $(($(date +%s) - E2E_T0)) s (guest image, hook install, namespaces, $E2E_NHOSTS libvirtd)"
}

e2e_build_guest() {
	"$E2E_LIBDIR/build-guest.sh" "$E2E_CACHE/guest" || e2e_bail "building the guest failed"
	E2E_NETPROBE=$E2E_CACHE/guest/netprobe
}

# The hook: `make install DESTDIR=...` of the build tree (as a package would install it:
# the program under libexecdir, the symlink in hooks/qemu.d), or NETISO_E2E_HOOK (a file,
# for the harness's own checks). E2E_CONFDIR is where the hook reads blixard.toml.
e2e_install_hook() {
	local inst=$E2E_T/inst f target qemud
	mkdir -p "$E2E_T/hooks.d"
	# The harness's trace of libvirt's hook calls, before and after the hook under test.
	if [ "${E2E_TRACE:-}" = 1 ]; then
		ln -s "$E2E_LIBDIR/trace-hook.sh" "$E2E_T/hooks.d/00-trace"
		ln -s "$E2E_LIBDIR/trace-hook.sh" "$E2E_T/hooks.d/99-trace"
	fi
	# E2E_HOOKLESS=1: the tool of the same install, but no hook in libvirt's hooks
	# directory (guests isolated by libvirt's nwfilter instead).
	if [ -n "${NETISO_E2E_HOOK:-}" ] && [ "${E2E_HOOKLESS:-}" != 1 ]; then
		[ -x "$NETISO_E2E_HOOK" ] || e2e_bail "NETISO_E2E_HOOK=$NETISO_E2E_HOOK is not executable"
		ln -s "$(readlink -f "$NETISO_E2E_HOOK")" "$E2E_T/hooks.d/50-blixard-netiso"
		E2E_CONFDIR=/etc/blixard
		E2E_HOOK_DESC="$NETISO_E2E_HOOK (NETISO_E2E_HOOK)"
		return
	fi
	(unset MAKEFLAGS MFLAGS MAKELEVEL; make -s -C "$top_builddir" install DESTDIR="$inst") \
		>"$E2E_T/install.log" 2>&1 ||
		{ cat "$E2E_T/install.log" >&2; e2e_bail "make install DESTDIR=... failed in $top_builddir"; }
	qemud=$(find "$inst" -path '*/libvirt/hooks/qemu.d' -type d | head -n 1)
	[ -n "$qemud" ] || e2e_bail "make install put nothing in libvirt/hooks/qemu.d"
	for f in "$qemud"/*; do
		[ -e "$f" ] || [ -L "$f" ] || continue
		target=$f
		# An absolute symlink points at the installed path: follow it into DESTDIR.
		if [ -L "$f" ]; then
			target=$(readlink "$f")
			case $target in /*) target=$inst$target ;; *) target=$qemud/$target ;; esac
		fi
		[ -x "$target" ] || e2e_bail "installed hook $f -> $target is not executable"
		ln -s "$target" "$E2E_T/hooks.d/$(basename "$f")"
	done
	f=$(find "$inst" -path '*/blixard/blixard.toml' | head -n 1)
	if [ -n "$f" ]; then
		E2E_CONFDIR=$(dirname "${f#"$inst"}")
	else
		E2E_CONFDIR=/etc/blixard
	fi
	E2E_HOOK_DESC="make install of $top_builddir: hooks/qemu.d/$(cd "$E2E_T/hooks.d" && echo *)"
	if [ "${E2E_HOOKLESS:-}" = 1 ]; then
		rm -f "$E2E_T"/hooks.d/50-*
		E2E_HOOK_DESC="none (E2E_HOOKLESS: nwfilter), tool from make install of $top_builddir"
	fi
	# The command-line tool of the same install, for the operations tests (e2e_cli).
	E2E_CLI=$(find "$inst" -type f -path '*/sbin/blixard-netiso' | head -n 1)
}

# The test configuration of the current host; the argument is allow_internet (true or
# false). Rewritten between phases (atomically): the hook reads it on every event.
e2e_write_config() {
	local allow_internet=${1:-true}
	mkdir -p "$E2E_HD/blixard"
	cat >"$E2E_HD/blixard/blixard.toml.new" <<EOF
# blixard-netiso end-to-end test configuration (tests/libvirt/lib-e2e.sh)
[vm.network_isolation]
enabled = true
backend = "$E2E_BACKEND"
cluster_networks = ["127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "::1/128", "fe80::/10", "fd00:172:16::/48"]
vm_network = ["10.0.0.0/16", "fd00:10::/64"]
inter_vm_isolation = false
tenant_isolation = true
allow_internet = $allow_internet
state_dir = "/run/blixard-netiso"

[[vm.network_isolation.allowed_ports]]
protocol = "udp"
port = 53
direction = "outbound"

[[vm.network_isolation.allowed_ports]]
protocol = "tcp"
port = 53
direction = "outbound"

[[vm.network_isolation.allowed_ports]]
protocol = "tcp"
port = 8080
direction = "inbound"
EOF
	[ "${E2E_CLUSTER:-0}" = 1 ] && e2e_cluster_config >>"$E2E_HD/blixard/blixard.toml.new"
	mv "$E2E_HD/blixard/blixard.toml.new" "$E2E_HD/blixard/blixard.toml"
	E2E_ALLOW_INTERNET=$allow_internet
}

# ---------------------------------------------------------------- namespaces

e2e_ns() { ip netns exec "$@"; }

# Starts a netprobe server in a namespace; its RECV lines go to $E2E_T/NAME.recv.
e2e_ns_listener() {
	local ns=$1 name=$2
	shift 2
	ip netns exec "$ns" "$E2E_NETPROBE" serve "$name" "$@" >"$E2E_T/$name.recv" 2>&1 8>&- &
	E2E_PIDS+=("$!")
}

e2e_netns_setup() {
	local ns
	for ns in "$E2E_NS_HOST" "$E2E_NS_CLUSTER" "$E2E_NS_INET"; do
		ip netns add "$ns" || e2e_bail "cannot create network namespace $ns"
		ip -n "$ns" link set lo up
	done
	e2e_host_forwarding "$E2E_NS_HOST"
	e2e_link "$E2E_NS_CLUSTER" to-cluster "$E2E_HOSTCL4/24" "$E2E_HOSTCL6/64" \
		"$E2E_CLUSTER4/24" "$E2E_CLUSTER6/64"
	e2e_link "$E2E_NS_INET" to-internet "$E2E_HOSTIN4/24" "$E2E_HOSTIN6/64" \
		"$E2E_INET4/24" "$E2E_INET6/64"
	e2e_ns_listener "$E2E_NS_HOST" host tcp 2222 udp 2222 tcp 22
	e2e_ns_listener "$E2E_NS_CLUSTER" cluster tcp 2222 udp 2222 tcp 53 udp 53
	e2e_ns_listener "$E2E_NS_INET" internet tcp 2222 udp 2222 tcp 53 udp 53
}

# A host routes between guests, cluster and internet; no reverse-path filter, so that
# only the hook can stop a spoofed source.
e2e_host_forwarding() {
	e2e_ns "$1" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
		net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
		net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.accept_dad=0 >/dev/null
}

# A veth from the host namespace to NS: host end HOSTDEV with two addresses, NS end eth0
# with two addresses and default routes back through the host.
e2e_link() {
	local ns=$1 hostdev=$2 h4=$3 h6=$4 p4=$5 p6=$6
	ip -n "$E2E_NS_HOST" link add "$hostdev" type veth peer name eth0 netns "$ns" ||
		e2e_bail "cannot create veth to $ns"
	ip -n "$E2E_NS_HOST" addr add "$h4" dev "$hostdev"
	ip -n "$E2E_NS_HOST" addr add "$h6" dev "$hostdev" nodad
	ip -n "$E2E_NS_HOST" link set "$hostdev" up
	ip -n "$ns" addr add "$p4" dev eth0
	ip -n "$ns" addr add "$p6" dev eth0 nodad
	ip -n "$ns" link set eth0 up
	ip -n "$ns" route add default via "${h4%/*}"
	ip -n "$ns" -6 route add default via "${h6%/*}"
}

# ---------------------------------------------------------------- private libvirtd

# The private state of the current host: copies and empty directories bind-mounted over
# libvirt's own paths inside a mount namespace that only our libvirtd, virtlogd and virsh
# enter.
e2e_libvirt_prepare() {
	local t=$E2E_HD
	mkdir -p "$t/run/bxe2e" "$t/run/blixard-netiso" "$t/var-lib-libvirt" "$t/var-log-libvirt" \
		"$E2E_CACHE/libvirt-cache" "$t/ovl-up" "$t/ovl-work"
	cp -a /etc/libvirt "$t/etc-libvirt"
	# No guests, networks or pools of the real host, and only our hook.
	rm -rf "$t/etc-libvirt/qemu" "$t/etc-libvirt/storage" "$t/etc-libvirt/hooks"
	mkdir -p "$t/etc-libvirt/qemu/networks" "$t/etc-libvirt/hooks"
	cp -a "$E2E_T/hooks.d" "$t/etc-libvirt/hooks/qemu.d"
	# Each host its own host UUID: libvirt refuses a migration between equal ones.
	cat >>"$t/etc-libvirt/libvirtd.conf" <<EOF

# blixard-netiso e2e: private daemon, root-only socket in a private /run
auth_unix_ro = "none"
auth_unix_rw = "none"
log_outputs = "3:file:/var/log/libvirt/libvirtd.log"
host_uuid = "$(cat /proc/sys/kernel/random/uuid)"
EOF
	cat >>"$t/etc-libvirt/qemu.conf" <<'EOF'

# blixard-netiso e2e: guests run as root, unconfined, without cgroups or a /dev namespace
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
namespaces = [ ]
cgroup_controllers = [ ]
stdio_handler = "logd"
EOF
	e2e_write_config true
	cat >"$t/holder.sh" <<EOF
#!/bin/sh
# Runs in the host network namespace and a new private mount namespace: puts the private
# directories in place, then holds both namespaces for libvirtd, virtlogd and virsh.
set -e
conf=$E2E_CONFDIR
if [ ! -d "\$conf" ]; then
	anc=\$conf
	while [ ! -d "\$anc" ]; do anc=\$(dirname "\$anc"); done
	# The configuration directory does not exist on this host: an overlay makes room for
	# it in this namespace only (writes land in $t/ovl-up).
	mount -t overlay overlay -o "lowerdir=\$anc,upperdir=$t/ovl-up,workdir=$t/ovl-work" "\$anc"
	mkdir -p "\$conf"
fi
mount --bind "$t/blixard" "\$conf"
mount --bind "$t/etc-libvirt" /etc/libvirt
mount --bind "$t/run" /run
[ -L /var/run ] || mount --bind "$t/run" /var/run
mount --bind "$t/var-lib-libvirt" /var/lib/libvirt
mount --bind "$t/var-log-libvirt" /var/log/libvirt
mount --bind "$E2E_CACHE/libvirt-cache" /var/cache/libvirt
touch "$t/holder.ready"
exec sleep 2147483647
EOF
}

E2E_DAEMON_ENV=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C)

e2e_host_ns() { if [ "$1" = 1 ]; then echo "$E2E_ID-host"; else echo "$E2E_ID-host$1"; fi; }
e2e_host_dir() { if [ "$1" = 1 ]; then echo "$E2E_T"; else echo "$E2E_T/h$1"; fi; }

# e2e_host N: host N becomes the current host (its namespaces, daemons, directory).
e2e_host() {
	E2E_HOST_HOLDER[E2E_H]=$E2E_HOLDER
	E2E_HOST_LIBVIRTD[E2E_H]=$E2E_LIBVIRTD
	E2E_HOST_VIRTLOGD[E2E_H]=$E2E_VIRTLOGD
	E2E_H=$1
	E2E_NS_HOST=$(e2e_host_ns "$1")
	E2E_HD=$(e2e_host_dir "$1")
	E2E_HOLDER=${E2E_HOST_HOLDER[$1]:-}
	E2E_LIBVIRTD=${E2E_HOST_LIBVIRTD[$1]:-}
	E2E_VIRTLOGD=${E2E_HOST_VIRTLOGD[$1]:-}
}

# e2e_on N COMMAND...: runs COMMAND (a function or program) with host N current.
e2e_on() {
	local prev=$E2E_H rc=0
	e2e_host "$1"
	shift
	"$@" || rc=$?
	e2e_host "$prev"
	return $rc
}

# Runs a command in the current host's private namespaces (host network, private mounts).
e2e_in_host() { nsenter -t "$E2E_HOLDER" -m -n -- "$@"; }
e2e_virsh() { e2e_in_host virsh -q -c qemu:///system "$@"; }
# The host namespace's view of our table (empty output when there is none).
e2e_nft_table() { ip netns exec "$E2E_NS_HOST" nft list table inet blixard 2>/dev/null; }
# The configured backend's state in the host namespace. For iptables, both filter
# tables without chain names (trie nodes are named for shared name prefixes).
e2e_fw_table() {
	local t
	if [ "$E2E_BACKEND" != iptables ]; then
		e2e_nft_table
		return
	fi
	for t in iptables-save ip6tables-save; do
		ip netns exec "$E2E_NS_HOST" "$t" -t filter 2>/dev/null
	done | grep -v '^#' | sed -E 's/(BLIXARD_VM_|BLX)[^ ]*//g; s/[^ ]+\+( |$)/ /g'
}
# Someone deletes every object of the configured backend in the host namespace.
e2e_fw_delete() {
	local t s
	if [ "$E2E_BACKEND" != iptables ]; then
		ip netns exec "$E2E_NS_HOST" nft delete table inet blixard 2>/dev/null
		return 0
	fi
	for t in iptables ip6tables; do
		s=$(ip netns exec "$E2E_NS_HOST" "$t-save" -t filter)
		{
			echo '*filter'
			printf '%s\n' "$s" | sed -n 's/^:\(BL[^ ]*\) .*/:\1 - [0:0]/p'
			printf '%s\n' "$s" | grep -E '^-A (FORWARD|INPUT|OUTPUT) -j BLIXARD_VM_' | sed 's/^-A/-D/'
			printf '%s\n' "$s" | sed -n 's/^:\(BL[^ ]*\) .*/-X \1/p'
			echo COMMIT
		} | ip netns exec "$E2E_NS_HOST" "$t-restore" --noflush
	done
}

e2e_libvirt_start() {
	local i t=$E2E_HD
	if [ -z "$E2E_HOLDER" ]; then
		ip netns exec "$E2E_NS_HOST" unshare --mount --propagation private \
			/bin/sh "$t/holder.sh" >"$t/holder.log" 2>&1 8>&- &
		E2E_HOLDER=$!
		E2E_PIDS+=("$E2E_HOLDER")
		for i in $(seq 1 100); do
			[ -e "$t/holder.ready" ] && break
			kill -0 "$E2E_HOLDER" 2>/dev/null || break
			sleep 0.1
		done
		[ -e "$t/holder.ready" ] ||
			{ cat "$t/holder.log" >&2; e2e_bail "private mount namespace setup failed"; }
		# nsenter execs the daemon: $! is the daemon's own PID. The environment is a
		# service manager's, not this shell's.
		env -i "${E2E_DAEMON_ENV[@]}" nsenter -t "$E2E_HOLDER" -m -n --wd=/ -- /usr/sbin/virtlogd >>"$t/virtlogd.out" 2>&1 8>&- &
		E2E_VIRTLOGD=$!
		E2E_PIDS+=("$E2E_VIRTLOGD")
	fi
	env -i "${E2E_DAEMON_ENV[@]}" nsenter -t "$E2E_HOLDER" -m -n --wd=/ -- /usr/sbin/libvirtd >>"$t/libvirtd.out" 2>&1 8>&- &
	E2E_LIBVIRTD=$!
	# Generous: several libvirtds may start at once on a loaded machine.
	for i in $(seq 1 600); do
		e2e_virsh uri >/dev/null 2>&1 && return 0
		kill -0 "$E2E_LIBVIRTD" 2>/dev/null || break
		sleep 0.1
	done
	tail -n 20 "$t/libvirtd.out" "$t/var-log-libvirt/libvirtd.log" >&2
	e2e_bail "private libvirtd of host $E2E_H did not come up"
}

e2e_libvirt_stop() {
	e2e_stop_pid "$E2E_LIBVIRTD"
	E2E_LIBVIRTD=
}

# libvirtd restart with guests running: the new daemon reconnects to them and runs the
# hook's "reconnect" event for each.
e2e_libvirt_restart() {
	e2e_libvirt_stop
	e2e_libvirt_start
}

# ---------------------------------------------------------------- guests

# e2e_guest_add NAME TENANT NUMBER [METADATA-XML]: registers a guest and writes its XML.
# Its serial pipes exist on every host, so that it can run or migrate anywhere.
e2e_guest_add() {
	local name=$1 tenant=$2 idx=$3 meta=${4:-} h d
	E2E_TENANT[$name]=$tenant
	E2E_IDX[$name]=$idx
	[ -n "$meta" ] ||
		meta="<netiso:isolation xmlns:netiso=\"urn:blixard:network-isolation:1\" tenant=\"$tenant\"/>"
	for h in $(seq 1 "$E2E_NHOSTS"); do
		d=$(e2e_host_dir "$h")/run/bxe2e
		rm -f "$d/$name".*
		mkfifo "$d/$name.cmd.in" "$d/$name.cmd.out"
	done
	cat >"$E2E_T/$name.xml" <<EOF
<domain type='$E2E_DOMAIN_TYPE'>
  <name>$name</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <metadata>
    $meta
  </metadata>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$E2E_CACHE/guest/vmlinuz</kernel>
    <initrd>$E2E_CACHE/guest/initrd.gz</initrd>
    <cmdline>console=ttyS0 quiet loglevel=1 panic=-1 netiso.name=$name netiso.ip4=$(e2e_guest4 "$name") netiso.gw4=$(e2e_gw4 "$name") netiso.ip6=$(e2e_guest6 "$name") netiso.gw6=$(e2e_gw6 "$name")</cmdline>
  </os>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <interface type='ethernet'>
      <source>
        <ip address='$(e2e_gw4 "$name")' prefix='32' peer='$(e2e_guest4 "$name")'/>
        <ip family='ipv6' address='$(e2e_gw6 "$name")' prefix='128' peer='$(e2e_guest6 "$name")'/>
      </source>
      <model type='virtio'/>
      <driver name='qemu'/>
      <rom enabled='no'/>
    </interface>
    <serial type='file'>
      <source path='/run/bxe2e/$name.console'/>
      <target port='0'/>
    </serial>
    <serial type='pipe'>
      <source path='/run/bxe2e/$name.cmd'/>
      <target port='1'/>
    </serial>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
  </devices>
</domain>
EOF
}

# The host a guest runs on (where it was started or migrated to), and its console: what
# it printed on every host it ran on (a migrated guest goes on in the destination's file).
e2e_ghost() { echo "${E2E_GHOST[$1]:-$E2E_H}"; }
e2e_console() {
	local h
	for h in $(seq 1 "$E2E_NHOSTS"); do
		tr -d '\r' 2>/dev/null <"$(e2e_host_dir "$h")/run/bxe2e/$1.console"
	done
}

# e2e_guest_send GUEST FILE: writes FILE to the guest's command port (ttyS1) on its host.
e2e_guest_send() {
	timeout 10 sh -c 'cat "$1" >"$2"' - "$2" "$(e2e_host_dir "$(e2e_ghost "$1")")/run/bxe2e/$1.cmd.in"
}

# Starts a registered guest (a transient domain) on the current host; the error text is
# in $E2E_T/NAME.start. With several hosts, the fabric routes its addresses to this host.
e2e_guest_start() {
	e2e_virsh create "$E2E_T/$1.xml" >"$E2E_T/$1.start" 2>&1 || return 1
	E2E_GHOST[$1]=$E2E_H
	[ "$E2E_NHOSTS" = 1 ] || e2e_route_guest "$1" "$E2E_H"
}

e2e_guest_running() { [ "$(e2e_on "$(e2e_ghost "$1")" e2e_virsh domstate "$1" 2>/dev/null)" = running ]; }

e2e_guest_destroy() { e2e_on "$(e2e_ghost "$1")" e2e_virsh destroy "$1" >/dev/null 2>&1; }

# The tap libvirt made for a running guest (vnetN).
e2e_guest_tap() {
	e2e_on "$(e2e_ghost "$1")" e2e_virsh domiflist "$1" 2>/dev/null |
		awk '$2 == "ethernet" {print $1; exit}'
}

# Waits until every named guest has printed READY (boot under TCG: ~10 s each).
e2e_wait_ready() {
	local deadline=$(($(date +%s) + ${E2E_BOOT_TIMEOUT:-180})) g pending
	while :; do
		pending=
		for g in "$@"; do
			e2e_console "$g" | grep -q '^NETISO READY' || pending="$pending $g"
		done
		[ -z "$pending" ] && return 0
		if [ "$(date +%s)" -ge "$deadline" ]; then
			for g in $pending; do
				e2e_log "guest $g did not become ready; console tail:"
				e2e_console "$g" | tail -n 15 | sed 's/^/#   /' >&2
			done
			return 1
		fi
		sleep 0.5
	done
}

# ---------------------------------------------------------------- the command-line tool

# The installed blixard-netiso (the same `make install` as the hook), run where the hook
# runs: in the private namespaces (its state directory, the test configuration at its
# compiled-in path, the private libvirtd's socket) with a service manager's environment.
e2e_cli() { env -i "${E2E_DAEMON_ENV[@]}" nsenter -t "$E2E_HOLDER" -m -n -- "$E2E_CLI" "$@"; }

# e2e_cli_start OUTPUT ARGS...: a long-running command (watch) in the background, its
# output in OUTPUT. nsenter execs it, so E2E_CLI_PID is the command's own PID; cleanup
# ends it with the harness's other processes.
e2e_cli_start() {
	local out=$1
	shift
	env -i "${E2E_DAEMON_ENV[@]}" nsenter -t "$E2E_HOLDER" -m -n -- "$E2E_CLI" "$@" >"$out" 2>&1 8>&- &
	E2E_CLI_PID=$!
	E2E_PIDS+=("$E2E_CLI_PID")
}

# PCI hot-plug on the 'pc' machine goes through ACPI, which the guests of e2e_guest_add
# run without: this turns it on for one registered guest. With ACPI the kernel checks
# the IO-APIC timer at boot, which TCG on a busy host can fail ("IO-APIC + timer doesn't
# work!", a panic): no_timer_check skips that check, as cloud images do.
e2e_guest_enable_hotplug() {
	sed -i -e 's|^  </os>$|  </os>\n  <features><acpi/></features>|' \
		-e 's|<cmdline>console=ttyS0 |<cmdline>console=ttyS0 no_timer_check |' "$E2E_T/$1.xml"
}

# Defines a registered guest (persistent, unlike e2e_guest_start) and starts it.
e2e_guest_define_start() {
	{ e2e_virsh define "$E2E_T/$1.xml" && e2e_virsh start "$1"; } >"$E2E_T/$1.start" 2>&1 || return 1
	E2E_GHOST[$1]=$E2E_H
}

# A routed interface to hot-plug, numbered like a guest: number i gives the guest end
# 10.0.1.i and fd00:10::1:i, the host end 10.0.0.i and fd00:10::i. Prints the file.
e2e_iface_mac() { printf '52:54:00:e2:e0:%02x\n' "$1"; }
e2e_iface_xml() {
	local i=$1 f=$E2E_T/iface-$1.xml
	cat >"$f" <<EOF
<interface type='ethernet'>
  <mac address='$(e2e_iface_mac "$i")'/>
  <source>
    <ip address='10.0.0.$i' prefix='32' peer='10.0.1.$i'/>
    <ip family='ipv6' address='fd00:10::$i' prefix='128' peer='fd00:10::1:$i'/>
  </source>
  <model type='virtio'/>
  <driver name='qemu'/>
  <rom enabled='no'/>
</interface>
EOF
	echo "$f"
}

# e2e_guest_attach GUEST NUMBER / e2e_guest_detach GUEST NUMBER: hot-plug (live only).
e2e_guest_attach() { e2e_on "$(e2e_ghost "$1")" e2e_virsh attach-device "$1" "$(e2e_iface_xml "$2")" --live >/dev/null; }
e2e_guest_detach() { e2e_on "$(e2e_ghost "$1")" e2e_virsh detach-device "$1" "$E2E_T/iface-$2.xml" --live >/dev/null; }

# The tap of a guest's interface with this MAC address.
e2e_guest_tap_of() {
	e2e_on "$(e2e_ghost "$1")" e2e_virsh domiflist "$1" 2>/dev/null | awk -v m="$2" '$5 == m {print $1; exit}'
}

# e2e_guest_ifup GUEST DEV NUMBER: the guest configures its hot-plugged DEV with the
# addresses of NUMBER (source-routed through DEV); fails unless the guest says ok.
e2e_guest_ifup() {
	local g=$1 dev=$2 i=$3 deadline
	echo "ifup $dev 10.0.1.$i 10.0.0.$i fd00:10::1:$i fd00:10::$i" >"$E2E_T/$g.cmdbuf"
	e2e_guest_send "$g" "$E2E_T/$g.cmdbuf" || return 1
	deadline=$(($(date +%s) + 60))
	until e2e_console "$g" | grep -q "^NETISO IFUP dev=$dev result="; do
		[ "$(date +%s)" -lt "$deadline" ] || return 1
		sleep 0.3
	done
	e2e_console "$g" | grep -q "^NETISO IFUP dev=$dev result=ok"
}

# e2e_wait_for SECONDS COMMAND...: polls until COMMAND succeeds; fails after SECONDS.
e2e_wait_for() {
	local deadline=$(($(date +%s) + $1))
	shift
	until "$@"; do
		[ "$(date +%s)" -lt "$deadline" ] || return 1
		sleep 0.3
	done
}

# ---------------------------------------------------------------- probe plans

# A plan is a file of lines, one per expectation:
#   SOURCE NAME KIND ADDR PORT SPOOF CHECK EXPECT ROW COL DESCRIPTION...
# SOURCE is a guest or ns:NAMESPACE-ROLE (cluster, internet); KIND tcp, udp or ping;
# SPOOF a source address or -; CHECK "reply" (the source got an answer) or "recv:WHO"
# (WHO, a guest or a namespace role, logged the probe's token: for one-way spoofed
# probes). EXPECT is the isolation expectation: ok or blocked. ROW and COL place the
# result in the demo's matrix.
e2e_plan_add() { echo "$*" >>"$E2E_PLAN"; }

e2e_fam_addr() { # FAMILY WHAT GUEST -> address
	case $2 in
	guest) [ "$1" = 4 ] && e2e_guest4 "$3" || e2e_guest6 "$3" ;;
	gw) [ "$1" = 4 ] && e2e_gw4 "$3" || e2e_gw6 "$3" ;;
	esac
}

e2e_label() { echo "$1(${E2E_TENANT[$1]})"; }

# The standard expectations for running guests: every guest to every other guest, the
# cluster, the host's services and the internet, and the internet to every guest, in
# IPv4 and IPv6.
e2e_plan_standard() {
	local g h f a same k v c i net hostaddrs kinds=${E2E_PLAN_KINDS:-tcp udp ping}
	for g in "$@"; do
		for f in 4 6; do
			for h in "$@"; do
				[ "$h" = "$g" ] && continue
				same=blocked
				[ "${E2E_TENANT[$g]}" = "${E2E_TENANT[$h]}" ] && same=ok
				a=$(e2e_fam_addr $f guest "$h")
				for k in $kinds; do
					e2e_plan_add "$g" "$k$f-$h" $k "$a" 2222 - reply $same "$(e2e_label "$g")" "$(e2e_label "$h")" \
						"$(e2e_label "$g") -> $(e2e_label "$h") $k/ipv$f"
				done
			done
			[ $f = 4 ] && c=$E2E_CLUSTER4 || c=$E2E_CLUSTER6
			for k in $kinds; do
				e2e_plan_add "$g" "$k$f-cluster" $k "$c" 2222 - reply blocked "$(e2e_label "$g")" cluster \
					"$(e2e_label "$g") -> cluster $c $k/ipv$f"
			done
			[ $f = 4 ] && hostaddrs="$(e2e_gw4 "$g") $E2E_HOSTIN4 $E2E_HOSTCL4" ||
				hostaddrs="$(e2e_gw6 "$g") $E2E_HOSTIN6 $E2E_HOSTCL6"
			i=0
			for a in $hostaddrs; do
				i=$((i + 1))
				for k in ${kinds/ping/}; do
					e2e_plan_add "$g" "$k$f-host$i" $k "$a" 2222 - reply blocked "$(e2e_label "$g")" host \
						"$(e2e_label "$g") -> host service $a $k/ipv$f"
				done
			done
			e2e_plan_add "$g" "ssh$f-host" tcp "$(e2e_fam_addr $f gw "$g")" 22 - reply blocked "$(e2e_label "$g")" host \
				"$(e2e_label "$g") -> host ssh on its gateway tcp/ipv$f"
			[ $f = 4 ] && net=$E2E_INET4 || net=$E2E_INET6
			v=blocked
			[ "$E2E_ALLOW_INTERNET" = true ] && v=ok
			for k in $kinds; do
				e2e_plan_add "$g" "$k$f-internet" $k "$net" 2222 - reply $v "$(e2e_label "$g")" internet \
					"$(e2e_label "$g") -> internet $net $k/ipv$f (allow_internet=$E2E_ALLOW_INTERNET)"
			done
			for k in ${kinds/ping/}; do
				e2e_plan_add "$g" "$k$f-dns" $k "$net" 53 - reply ok "$(e2e_label "$g")" internet \
					"$(e2e_label "$g") -> internet $net $k/ipv$f port 53 (allowed outbound)"
			done
			# Inbound from the internet: the allowed inbound port only.
			a=$(e2e_fam_addr $f guest "$g")
			e2e_plan_add ns:internet "in$f-$g-8080" tcp "$a" 8080 - reply ok from-internet "$(e2e_label "$g")" \
				"internet -> $(e2e_label "$g") tcp/ipv$f port 8080 (allowed inbound)"
			e2e_plan_add ns:internet "in$f-$g-9000" tcp "$a" 9000 - reply blocked from-internet "$(e2e_label "$g")" \
				"internet -> $(e2e_label "$g") tcp/ipv$f port 9000 (not allowed inbound)"
			e2e_plan_add ns:internet "in$f-$g-udp" udp "$a" 2222 - reply blocked from-internet "$(e2e_label "$g")" \
				"internet -> $(e2e_label "$g") udp/ipv$f port 2222 (not allowed inbound)"
		done
	done
}

# SPOOFER sends from VICTIM's addresses (one-way UDP) to TARGET (a guest of the
# victim's tenant) and to the internet, and from an address of no guest at all.
e2e_plan_spoof() {
	local s=$1 victim=$2 target=$3 f src net
	for f in 4 6; do
		src=$(e2e_fam_addr $f guest "$victim")
		[ $f = 4 ] && net=$E2E_INET4 || net=$E2E_INET6
		e2e_plan_add "$s" "spoof$f-$target" udp "$(e2e_fam_addr $f guest "$target")" 2222 "$src" "recv:$target" blocked \
			"$(e2e_label "$s")" spoofed "$(e2e_label "$s") spoofing $(e2e_label "$victim")'s $src -> $(e2e_label "$target") udp/ipv$f"
		e2e_plan_add "$s" "spoof$f-internet" udp "$net" 2222 "$src" recv:internet blocked \
			"$(e2e_label "$s")" spoofed "$(e2e_label "$s") spoofing $(e2e_label "$victim")'s $src -> internet udp/ipv$f"
	done
	e2e_plan_add "$s" "spoof4-foreign" udp "$E2E_INET4" 2222 198.51.100.77 recv:internet blocked \
		"$(e2e_label "$s")" spoofed "$(e2e_label "$s") spoofing a non-guest 198.51.100.77 -> internet udp/ipv4"
	e2e_plan_add "$s" "spoof6-foreign" udp "$E2E_INET6" 2222 2001:db8:100::77 recv:internet blocked \
		"$(e2e_label "$s")" spoofed "$(e2e_label "$s") spoofing a non-guest 2001:db8:100::77 -> internet udp/ipv6"
}

# ---------------------------------------------------------------- running a plan

# Runs plan file PLAN as round ROUND: writes each guest its probes on ttyS1, runs the
# namespace probes meanwhile, waits for every guest's ROUND-DONE and writes
# $PLAN.results: "SOURCE NAME ok|fail DETAIL".
e2e_run_round() {
	local plan=$1 round=$2 g src name kind addr port spoof rest deadline ns pids=()
	local res=$plan.results
	: >"$res"
	for g in $(awk '$1 !~ /^ns:/ {print $1}' "$plan" | sort -u); do
		{
			echo "round $round"
			awk -v g="$g" '$1 == g {print "probe", $2, $3, $4, $5, $6}' "$plan"
			echo run
		} >"$E2E_T/$g.cmdbuf"
		e2e_guest_send "$g" "$E2E_T/$g.cmdbuf" || e2e_log "could not write probes to $g"
	done
	while read -r src name kind addr port spoof rest; do
		case $src in ns:*) ;; *) continue ;; esac
		case ${src#ns:} in
		internet) ns=$E2E_NS_INET ;;
		cluster) ns=$E2E_NS_CLUSTER ;;
		*) ns=$E2E_ID-${src#ns:} ;; # a test's own namespace (lib-e2e-bridged.sh: lan)
		esac
		(
			if [ "$kind" = ping ]; then
				ip netns exec "$ns" ping -c 1 -W 2 "$addr" >/dev/null 2>&1 && out="ok icmp" || out="fail timeout"
			else
				out=$(ip netns exec "$ns" "$E2E_NETPROBE" send "$kind" "$addr" "$port" "$round.$name" - 2000 3)
			fi
			echo "$src $name $out" >"$E2E_T/nsprobe.$round.$name"
		) &
		pids+=($!)
	done <"$plan"
	[ ${#pids[@]} -eq 0 ] || wait "${pids[@]}"
	cat "$E2E_T"/nsprobe.$round.* >>"$res" 2>/dev/null
	rm -f "$E2E_T"/nsprobe.$round.*
	deadline=$(($(date +%s) + 90))
	for g in $(awk '$1 !~ /^ns:/ {print $1}' "$plan" | sort -u); do
		until e2e_console "$g" | grep -q "^ROUND-DONE round=$round\$"; do
			if [ "$(date +%s)" -ge "$deadline" ]; then
				e2e_log "guest $g did not finish round $round"
				break
			fi
			sleep 0.3
		done
		e2e_console "$g" | awk -v g="$g" -v r="$round" '
			$1 == "PROBE" && $2 == "round=" r {
				sub("name=", "", $3); sub("result=", "", $4); sub("detail=", "", $5)
				print g, $3, $4, $5
			}' >>"$res"
	done
}

# Did WHO (a guest or a namespace role) log a probe with TOKEN?
e2e_received() {
	local who=$1 token=$2
	if [ -f "$E2E_T/$who.recv" ]; then
		grep -q " token=$token\$" "$E2E_T/$who.recv"
	else
		e2e_console "$who" | grep -q "^RECV .* token=$token\$"
	fi
}

# TAP line. e2e_tap DESCRIPTION EXPECTED ACTUAL (values: ok, blocked, ...)
e2e_tap() {
	E2E_TAPN=$((E2E_TAPN + 1))
	if [ "$2" = "$3" ]; then
		echo "ok $E2E_TAPN - $1: $3"
	else
		E2E_TAPFAIL=$((E2E_TAPFAIL + 1))
		echo "not ok $E2E_TAPN - $1: expected $2, got $3${E2E_TAPDETAIL:+ ($E2E_TAPDETAIL)}"
	fi
}

# Does our table (or chains) in the host namespace mention any of these words (tap names,
# addresses, domain names)? Prints present or absent.
e2e_table_mentions() {
	local table w
	table=$(e2e_fw_table)
	for w in "$@"; do
		if printf '%s\n' "$table" | grep -qwF -- "$w"; then
			echo present
			return
		fi
	done
	echo absent
}

# Does the current host's hook state directory (private /run/blixard-netiso) still name a
# domain, in a file's name or content? Prints present or absent.
e2e_state_mentions() {
	local dir=$E2E_HD/run/blixard-netiso w
	for w in "$@"; do
		if find "$dir" -name "*$w*" 2>/dev/null | grep -q . ||
			grep -rqwF -- "$w" "$dir" 2>/dev/null; then
			echo present
			return
		fi
	done
	echo absent
}

# In open mode (NETISO_E2E_EXPECT=open, for the harness's own checks with a hook that
# isolates nothing), every traffic expectation is "ok", except "always-X": X whatever the
# hook does (decided by something else, such as libvirt's own rules for its networks).
e2e_want() {
	case $1 in
	always-*) echo "${1#always-}" ;;
	*) if [ "$E2E_EXPECT" = open ]; then echo ok; else echo "$1"; fi ;;
	esac
}

# Likewise for installed state: a hook that isolates nothing installs nothing.
e2e_want_state() {
	if [ "$E2E_EXPECT" = open ]; then echo absent; else echo "$1"; fi
}

# Evaluates a plan after e2e_run_round: one TAP line per expectation; also writes
# $PLAN.outcome lines "ROW COL ok|blocked" for the matrix.
e2e_evaluate() {
	local plan=$1 round=$2 src name kind addr port spoof check expect row col desc r got detail
	: >"$plan.outcome"
	while read -r src name kind addr port spoof check expect row col desc; do
		r='' detail=''
		case $check in
		reply)
			read -r r detail < <(awk -v s="$src" -v n="$name" '$1 == s && $2 == n {print $3, $4; exit}' "$plan.results")
			;;
		recv:*)
			detail="${check#recv:} saw it"
			if e2e_received "${check#recv:}" "$round.$name"; then r=ok; else r=fail detail="${check#recv:} did not see it"; fi
			;;
		esac
		[ "$check" = reply ] && [ "$r" = ok ] && detail="answered by $detail"
		case $r in
		ok) got=ok ;;
		fail) got=blocked ;;
		*) got=no-result ;;
		esac
		echo "$row $col $got $(e2e_want "$expect") $kind $port $src $name" >>"$plan.outcome"
		E2E_TAPDETAIL=${detail:-} e2e_tap "$desc" "$(e2e_want "$expect")" "$got"
	done <"$plan"
}

e2e_new_plan() {
	E2E_PLAN=$E2E_T/plan.$1
	: >"$E2E_PLAN"
}

# The demo's matrix from the outcome of a plan: rows are sources (guests, then the
# internet's inbound probes), columns destinations. A cell is "ok" when every probe of it
# (TCP, UDP, ICMP; IPv4 and IPv6) got through, BLOCKED when none did, "only PORTS" when
# just those ports did; "!" marks a cell that differs from the isolation policy.
e2e_print_matrix() {
	local outcome=$1
	shift
	awk -v guests="$*" -v w=14 '
	function pad(s) { return sprintf("%-" w "s ", s) }
	{
		key = $1 SUBSEP $2; total[key]++
		if ($3 == "ok") { okn[key]++; if (index("," ports[key] ",", "," $6 ",") == 0) ports[key] = ports[key] (ports[key] == "" ? "" : ",") $6 }
		if ($3 != $4) bad[key] = 1
	}
	END {
		n = split(guests, g, " ")
		ncol = 0
		for (i = 1; i <= n; i++) col[++ncol] = g[i]
		col[++ncol] = "cluster"; col[++ncol] = "host"; col[++ncol] = "internet"
		nrow = 0
		for (i = 1; i <= n; i++) row[++nrow] = g[i]
		row[++nrow] = "from-internet"
		line = pad("from \\ to")
		for (c = 1; c <= ncol; c++) line = line pad(col[c])
		sub(/ +$/, "", line)
		print line
		for (r = 1; r <= nrow; r++) {
			line = pad(row[r] == "from-internet" ? "internet (in)" : row[r])
			for (c = 1; c <= ncol; c++) {
				key = row[r] SUBSEP col[c]
				if (row[r] == col[c]) cell = "-"
				else if (!(key in total)) cell = ""
				else if (okn[key] == total[key]) cell = "ok"
				else if (okn[key] == 0) cell = "BLOCKED"
				else cell = "only " ports[key]
				if (key in bad) cell = cell "!"
				line = line pad(cell)
			}
			sub(/ +$/, "", line)
			print line
		}
	}' "$outcome"
}

# Several hosts, the fabric between them, live migration, streams of probes.
. "$E2E_LIBDIR/lib-e2e-hosts.sh"

# Ends the TAP stream: the plan goes last. Under automake's TAP driver the "not ok" lines
# are the verdict (a non-zero exit would add an ERROR); by hand, the exit status says it.
e2e_finish() {
	echo "1..$E2E_TAPN"
	e2e_log "$E2E_TAPN checks, $E2E_TAPFAIL failed, $(($(date +%s) - E2E_T0)) s, hook: $E2E_HOOK_DESC, expect: $E2E_EXPECT"
	[ -n "${AM_TAP_AWK:-}" ] || [ "$E2E_TAPFAIL" = 0 ]
}
