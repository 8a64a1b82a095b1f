#!/bin/bash
# The traffic matrix: every behaviour of the seed, in IPv4 and IPv6, checked
# with real packets between namespaces after the real hook installed state,
# and every probed packet asked of `blixard-netiso why` too (expect in
# lib-netns.sh): its verdict and rule must be what the packets did.
# NETISO_BACKEND selects the backend (nftables by default).
set -u
. "$top_srcdir/tests/netns/lib-netns.sh"
require_root_tier ip socat ping python3
require_backend_tools
[ -x "$HOOK" ] || tap_skip_all "hook not built: $HOOK"

TAP_LOG="$WORK/tap.log"
write_config
topology_up
guest_up a1 vnet1 10.0.0.11 fd00:10::11
guest_up a2 vnet2 10.0.0.12 fd00:10::12
guest_up b1 vnet3 10.0.0.13 fd00:10::13
guest_up u vnet9 10.0.0.19 fd00:10::19     # a guest-like tap the hook never saw
A1=$(guest_ns a1) A2=$(guest_ns a2) B1=$(guest_ns b1) U=$(guest_ns u)
wait_ports

ok "hook installs tenant A guest a1" start_guest a1 A vnet1 10.0.0.11 fd00:10::11
ok "hook installs tenant A guest a2" start_guest a2 A vnet2 10.0.0.12 fd00:10::12
ok "hook installs tenant B guest b1" start_guest b1 B vnet3 10.0.0.13 fd00:10::13


# icmp_err NS send SRC DST INNER_SRC INNER_DST PROTO SPORT DPORT: three
# port-unreachable errors from NS, quoting a packet INNER_SRC -> INNER_DST.
# icmp_err NS count FAMILY PORT SECONDS: how many port-unreachable errors
# quoting port PORT (either side) NS received in SECONDS (raw socket).
icmp_err() {
	local ns=$1
	shift
	in_ns "$ns" python3 - "$@" <<'EOP'
import select, socket, struct, sys, time

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF

if sys.argv[1] == "send":
    src, dst, isrc, idst, proto, sport, dport = sys.argv[2:]
    p = {"udp": 17, "tcp": 6}[proto]
    l4 = struct.pack("!HHHH", int(sport), int(dport), 8, 0)
    if ":" in dst:
        inner = struct.pack("!IHBB16s16s", 0x60000000, 8, p, 64,
                            socket.inet_pton(socket.AF_INET6, isrc),
                            socket.inet_pton(socket.AF_INET6, idst)) + l4
        # The kernel fills in the ICMPv6 checksum of a raw ICMPv6 socket.
        msg = struct.pack("!BBHI", 1, 4, 0, 0) + inner
        s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    else:
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28, 1, 0, 64, p, 0,
                         socket.inet_aton(isrc), socket.inet_aton(idst))
        inner = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:] + l4
        head = struct.pack("!BBHI", 3, 3, 0, 0)
        msg = head[:2] + struct.pack("!H", csum(head + inner)) + head[4:] + inner
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    s.bind((src, 0))
    for _ in range(3):
        s.sendto(msg, (dst, 0))
else:
    fam, port, seconds = sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    if fam == "6":
        s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    print("ready", flush=True)
    n, end = 0, time.time() + seconds
    while time.time() < end:
        if not select.select([s], [], [], max(0, end - time.time()))[0]:
            continue
        b = s.recv(2048)
        if fam == "6":
            if b[0] != 1 or len(b) < 52:
                continue
            ports = b[48:52]
        else:
            b = b[(b[0] & 15) * 4:]
            if b[0] != 3 or len(b) < 12:
                continue
            ihl = (b[8] & 15) * 4
            ports = b[8 + ihl:12 + ihl]
        if len(ports) == 4 and port in struct.unpack("!HH", ports):
            n += 1
    print(n)
EOP
}

# icmp_seen RECVNS FAMILY PORT SENDNS SEND-ARGS...: how many crafted errors arrived
icmp_seen() {
	local rns=$1 fam=$2 port=$3 sns=$4 out
	shift 4
	out="$WORK/icmp-$RANDOM"
	icmp_err "$rns" count "$fam" "$port" 2 >"$out" &
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		grep -q ready "$out" 2>/dev/null && break
		sleep 0.1
	done
	icmp_err "$sns" send "$@"
	wait $!
	tail -n1 "$out"
}

for fam in 4 6; do
	if [ $fam = 4 ]; then
		a2=10.0.0.12 b1=10.0.0.13 a1=10.0.0.11 u=10.0.0.19
		clu=172.16.0.2 net=198.51.100.2 host=$HOST4 hostwan=198.51.100.1
	else
		a2=fd00:10::12 b1=fd00:10::13 a1=fd00:10::11 u=fd00:10::19
		clu=fd00:172::2 net=2001:db8:100::2 host=$HOST6 hostwan=2001:db8:100::1
	fi
	diag "IPv$fam"
	expect allowed:5 "v$fam: same tenant: a1 -> a2 tcp" tcp "$A1" $a2 9000
	expect allowed:5 "v$fam: same tenant: a1 -> a2 ping" ping_ "$A1" $a2
	expect allowed:5 "v$fam: same tenant: a2 -> a1 udp" udp "$A2" $a1 5555 "$A1"
	expect dropped:5 "v$fam: other tenant: a1 -> b1 tcp" tcp "$A1" $b1 9000
	expect dropped:5 "v$fam: other tenant: b1 -> a1 tcp" tcp "$B1" $a1 9000
	expect dropped:5 "v$fam: other tenant: a1 -> b1 ping" ping_ "$A1" $b1
	expect dropped:5 "v$fam: other tenant: b1 -> a2 udp" udp "$B1" $a2 5555 "$A2"
	expect dropped:5 "v$fam: other tenant even on the inbound port: b1 -> a1 tcp 2222" tcp "$B1" $a1 2222
	expect dropped:3 "v$fam: cluster: a1 -> cluster tcp" tcp "$A1" $clu 7000
	expect dropped:3 "v$fam: cluster: even the allowed port udp 53" udp "$A1" $clu 53 "$C"
	expect dropped:3 "v$fam: cluster: ping" ping_ "$A1" $clu
	expect dropped:4 "v$fam: host service on the tap address" tcp "$A1" $host 8080
	expect dropped:4 "v$fam: host service on the uplink address" tcp "$A1" $hostwan 8080
	expect dropped:4 "v$fam: host ping" ping_ "$A1" $host
	expect dropped:4 "v$fam: host port that is not allowed (udp 5353)" udp "$A1" $host 5353 "$H"
	expect allowed:4 "v$fam: host allowed outbound port (udp 53)" udp "$A1" $host 53 "$H"
	expect allowed:8 "v$fam: internet tcp (allow_internet)" tcp "$A1" $net 80
	expect allowed:8 "v$fam: internet udp" udp "$B1" $net 5555 "$I"
	expect allowed:11 "v$fam: internet -> guest on inbound port tcp 2222" tcp "$I" $a1 2222
	expect dropped:11 "v$fam: internet -> guest on another port" tcp "$I" $a1 9000
	expect dropped:11 "v$fam: cluster -> guest on another port" tcp "$C" $a1 9000
	expect allowed:10 "v$fam: host -> guest" tcp "$H" $a1 9000
	expect dropped:12 "v$fam: unprotected guest-like tap: u -> internet" tcp "$U" $net 80
	expect dropped:12 "v$fam: unprotected guest-like tap: internet -> u" tcp "$I" $u 9000
	expect dropped:12 "v$fam: unprotected guest-like tap: u -> host" udp "$U" $host 53 "$H"
	expect dropped:12 "v$fam: unprotected guest-like tap: u -> a1's open inbound port" tcp "$U" $a1 2222
	# Spoofing: a1 borrows a2's address (same tenant) and b1's (other tenant).
	spoof_add "$A1" $a2
	spoof_add "$A1" $b1
	expect dropped:1 "v$fam: spoofed source (same tenant's address) to the internet" udp "$A1" $net 5555 "$I" $a2
	expect dropped:1 "v$fam: spoofed source (other tenant's address) to b1's tenant" udp "$A1" $b1 5555 "$B1" $b1
	expect dropped:1 "v$fam: spoofed source to the host's allowed port" udp "$A1" $host 53 "$H" $a2
	spoof_del "$A1" $a2
	spoof_del "$A1" $b1
	expect allowed:8 "v$fam: own source still passes after the spoof attempts" udp "$A1" $net 5555 "$I" $a1
	# Forged ICMP errors: conntrack calls an error related when the header
	# it quotes matches a live connection, here b1's UDP flow to the
	# internet; a1 (tenant A) must not deliver one to b1 (tenant B).
	case $net in *:*) dst="[$net]" ;; *) dst=$net ;; esac
	sport=$((40550 + fam))
	echo flow | in_ns "$B1" socat -u - "UDP:$dst:5555,sourceport=$sport" 2>/dev/null
	ok "v$fam: a1's forged ICMP error about b1's flow does not reach b1" \
		test "$(icmp_seen "$B1" $fam $sport "$A1" $a1 $b1 $b1 $net udp $sport 5555)" = 0
	ok "v$fam: the same ICMP error from the internet peer reaches b1" \
		test "$(icmp_seen "$B1" $fam $sport "$I" $net $b1 $b1 $net udp $sport 5555)" = 3
	# A guest's own ICMP error about a flow from the internet still leaves.
	case $a1 in *:*) dst="[$a1]" ;; *) dst=$a1 ;; esac
	sport=$((40220 + fam))
	ok "v$fam: the internet opens a flow to a1 from port $sport" \
		sh -c "ip netns exec '$I' timeout 4 socat -T2 - 'TCP:$dst:2222,sourceport=$sport,connect-timeout=2' </dev/null | grep -q ok"
	ok "v$fam: a1's ICMP error about an inbound flow reaches the internet peer" \
		test "$(icmp_seen "$I" $fam $sport "$A1" $a1 $net $net $a1 tcp $sport 2222)" = 3
done

ok "status reports the guests and exits 0" in_ns "$H" "$CLI" status
ok "status --json lists 3 guests in 2 tenants" sh -c "ip netns exec '$H' '$CLI' status --json | grep -q '\"tenants\":{\"A\":2,\"B\":1}'"
ok "per-guest drop counters counted the spoof attempts" sh -c "ip netns exec '$H' '$CLI' status --json | grep -q '\"tap\":\"vnet1\".*\"drop_packets\":[1-9]'"

# Teardown: stop removes everything that mentions the guest.
ok "stopped/release remove a1" stop_guest a1
expect dropped:12 "a1's tap is closed again once removed (fail closed)" tcp "$A1" 198.51.100.2 80
ok "no rule or element mentions a1's tap" test "$(mentions vnet1)" -eq 0
ok "while a2's tap is still installed" is_installed vnet2
fails "no rule or element mentions a1's addresses" fw_has '10\.0\.0\.11([^0-9]|$)|fd00:10::11([^0-9a-f:]|$)'
expect allowed:8 "a2 unaffected by a1's removal" tcp "$A2" 198.51.100.2 80
ok "a release after stopped is harmless" hook a1 release end "$WORK/a1-prepare.xml"
ok "a1 starts again" start_guest a1 A vnet1 10.0.0.11 fd00:10::11
expect allowed:5 "a1 reaches a2 again" tcp "$A1" 10.0.0.12 9000
ok "remove via the CLI" in_ns "$H" "$CLI" remove --domain a1
expect dropped:12 "a1 blocked after CLI remove" tcp "$A1" 198.51.100.2 80
ok "apply via the CLI" in_ns "$H" "$CLI" apply --domain-xml "$WORK/a1.xml"
expect allowed:8 "a1 reaches the internet after CLI apply" tcp "$A1" 198.51.100.2 80
ok "tenant B's chain goes away with its last guest" stop_guest b1
fails "no tenant-B objects remain" has_tenant_chain B

done_testing
