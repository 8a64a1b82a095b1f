#!/bin/bash
# Fail closed whatever a tap is called. The drop for taps without installed
# state used to be keyed on guest_interface_patterns alone, so a NIC given a
# chosen name (<target dev='tapx2'/>, hot-plugged: no hook runs) reached the
# cluster, the host and other tenants. Now the hook refuses a guest whose tap
# matches no pattern, with one line naming the interface and the patterns, and
# table inet blixard drops every tap device (the tun driver in tap mode, as
# QEMU's) that is not installed, whatever its name. Real tap devices here, fed
# by a relay that plays QEMU's part between the host's tap and a tap in the
# guest's namespace. tap-names-iptables.sh runs it on the iptables backend,
# which matches interface names only: there the refusal holds, and a tap
# outside the patterns that no hook installed is not dropped (blixard-netiso(8),
# THREAT MODEL).
set -u
. "$top_srcdir/tests/netns/lib-netns.sh"
require_root_tier ip socat python3
require_backend_tools
[ -x "$HOOK" ] || tap_skip_all "hook not built: $HOOK"
[ -c /dev/net/tun ] || tap_skip_all "needs /dev/net/tun"

TAP_LOG="$WORK/tap.log"
write_config
topology_up
guest_up b1 vnet3 10.0.0.13 fd00:10::13
B1=$(guest_ns b1)
wait_ports
ok "b1 starts (tenant B, a veth)" start_guest b1 B vnet3 10.0.0.13 fd00:10::13

# tap_guest_up NAME TAP V4 V6: a guest behind a real tap device TAP of the host
# namespace, wired as libvirt wires type='ethernet'. A relay process holds
# both tap devices open (they live as long as it does) and copies frames.
tap_guest_up() {
	local name=$1 tap=$2 v4=$3 v6=$4 ns="${NS_PREFIX}$1"
	new_ns "$ns"
	cat >"$WORK/relay.py" <<'EOP'
import ctypes, fcntl, os, select, struct, sys
TUNSETIFF, IFF_TAP, IFF_NO_PI, CLONE_NEWNET = 0x400454CA, 0x0002, 0x1000, 0x40000000
def tap(name):
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TAP | IFF_NO_PI))
    return fd
host = tap(sys.argv[1])
ns = os.open("/run/netns/" + sys.argv[2], os.O_RDONLY)
if ctypes.CDLL(None, use_errno=True).setns(ns, CLONE_NEWNET) != 0:
    sys.exit("setns: " + os.strerror(ctypes.get_errno()))
guest = tap("eth0")
open(sys.argv[3], "w").close()
while True:
    for fd in select.select([host, guest], [], [])[0]:
        try:
            os.write(guest if fd == host else host, os.read(fd, 65536))
        except OSError:
            pass
EOP
	serve "$H" python3 "$WORK/relay.py" "$tap" "$ns" "$WORK/relay-$name"
	for _ in $(seq 100); do [ -e "$WORK/relay-$name" ] && break; sleep 0.05; done
	in_ns "$H" ip link set "$tap" up
	in_ns "$H" ip addr add "$HOST4/32" peer "$v4/32" dev "$tap"
	in_ns "$H" ip -6 addr add "$HOST6/128" peer "$v6/128" dev "$tap" nodad
	in_ns "$ns" ip link set eth0 up
	in_ns "$ns" ip addr add "$v4/32" dev eth0
	in_ns "$ns" ip -6 addr add "$v6/128" dev eth0 nodad
	in_ns "$ns" ip route add "$HOST4" dev eth0
	in_ns "$ns" ip route add default via "$HOST4" dev eth0
	in_ns "$ns" ip -6 route add "$HOST6" dev eth0
	in_ns "$ns" ip -6 route add default via "$HOST6" dev eth0
	tcp_listen "$ns" 9000
	tcp_listen "$ns" 2222
	udp_sink "$ns" 5555
}

# ---- the hook refuses a tap outside the patterns ----
domain_xml x1 A - 10.0.0.21 fd00:10::21 >"$WORK/x1-prepare.xml"
domain_xml x1 A tapx2 10.0.0.21 fd00:10::21 >"$WORK/x1.xml"
ok "prepare (no tap yet) passes" hook x1 prepare begin "$WORK/x1-prepare.xml"
in_ns "$H" "$HOOK" x1 start begin - <"$WORK/x1.xml" 2>"$WORK/x1.err"
ok "start with tap 'tapx2' is refused (exit 1)" test $? = 1
ok "... in one line" test "$(wc -l <"$WORK/x1.err")" = 1
ok "... that names the interface, the tap and the patterns" \
	grep -q "interface 0: tap 'tapx2' matches none of guest_interface_patterns (\"vnet\*\")" "$WORK/x1.err"
ok "nothing names tapx2" test "$(mentions tapx2)" = 0
ok "no record for x1" test ! -e "$STATE_DIR/domains/x1.state"
if [ -x "$CLI" ]; then
	in_ns "$H" "$CLI" explain --domain-xml "$WORK/x1.xml" >/dev/null 2>"$WORK/x1-explain.err"
	ok "explain says the same (exit 1)" test $? = 1
	ok "... naming the tap" grep -q "tap 'tapx2' matches none" "$WORK/x1-explain.err"
fi

# ---- a tap outside the patterns that nobody installed (a hot-plugged NIC) ----
tap_guest_up h1 tapx3 10.0.0.22 fd00:10::22
H1=$(guest_ns h1)
wait_ports
if [ "$BACKEND" = iptables ]; then
	for d in "to the cluster" "to the cluster (IPv6)" "to the host" "to tenant B" \
		"to the internet" "from tenant B"; do
		TAP_COUNT=$((TAP_COUNT + 1))
		echo "ok $TAP_COUNT - uninstalled tapx3 $d # SKIP iptables matches interface names only"
	done
else
	fails "uninstalled tapx3 -> the cluster" tcp "$H1" 172.16.0.2 7000
	fails "uninstalled tapx3 -> the cluster (IPv6)" tcp "$H1" fd00:172::2 7000
	fails "uninstalled tapx3 -> the host's service" tcp "$H1" "$HOST4" 8080
	fails "uninstalled tapx3 -> tenant B's guest" udp "$H1" 10.0.0.13 5555 "$B1"
	fails "uninstalled tapx3 -> the internet" tcp "$H1" 198.51.100.2 80
	fails "tenant B's guest -> uninstalled tapx3" udp "$B1" fd00:10::22 5555 "$H1"
fi
ok "forwarding that involves no tap is untouched (cluster -> internet)" tcp "$C" 198.51.100.2 80

# ---- an installed tap device passes what its policy allows ----
tap_guest_up a2 vnet7 10.0.0.17 fd00:10::17
A2=$(guest_ns a2)
wait_ports
ok "a2 starts on a real tap device vnet7 (tenant A)" start_guest a2 A vnet7 10.0.0.17 fd00:10::17
ok "installed tap -> the internet" tcp "$A2" 198.51.100.2 80
ok "installed tap -> the internet (IPv6)" tcp "$A2" 2001:db8:100::2 80
fails "installed tap -> the cluster" tcp "$A2" 172.16.0.2 7000
fails "installed tap -> tenant B" udp "$A2" 10.0.0.13 5555 "$B1"
ok "the internet -> installed tap's inbound port" tcp "$I" 10.0.0.17 2222

# ---- a pattern for the name makes it a guest tap like any other ----
tap_guest_up x1 tapx2 10.0.0.21 fd00:10::21
X1=$(guest_ns x1)
wait_ports
sed -i 's|^state_dir = .*|&\nguest_interface_patterns = ["vnet*", "tapx*"]|' "$BLIXARD_NETISO_CONFIG"
ok "with tapx* among the patterns, x1 starts" hook x1 start begin "$WORK/x1.xml"
ok "x1 -> the internet" tcp "$X1" 198.51.100.2 80
fails "x1 -> the cluster" tcp "$X1" 172.16.0.2 7000
fails "x1 -> tenant B" udp "$X1" 10.0.0.13 5555 "$B1"
ok "x1 stops" stop_guest x1
fails "stopped x1 (tapx*, uninstalled) -> the internet" tcp "$X1" 198.51.100.2 80
done_testing
