#!/bin/bash
# Bridged guests through the real hook (issue 18, doc/bridged-design.md): guests
# on veth "taps" enslaved to a bridge like libvirt's virbr0 (dnsmasq, masquerade),
# type='network' on a libvirt network whose status file the hook reads, and
# type='bridge'; routed guests beside them. The traffic matrix in IPv4 and IPv6,
# every layer-2 guard attacked with crafted frames, install and removal in one
# transaction that leaves nothing behind, and failing closed.
set -u
. "$top_srcdir/tests/netns/lib-bridged.sh"

# ---- negative probes run side by side: a dropped SYN costs its whole timeout ----
Q_DESC=() Q_PID=()
# later DESCRIPTION COMMAND...: the command must fail; reported by settle, in order
later() {
	local d=$1
	shift
	"$@" >/dev/null 2>&1 &
	Q_PID+=($!) Q_DESC+=("$d")
}
settle() {
	local i
	for i in "${!Q_PID[@]}"; do
		if wait "${Q_PID[$i]}"; then
			tap_result 1 "${Q_DESC[$i]} (unexpectedly succeeded)"
		else
			tap_result 0 "${Q_DESC[$i]}"
		fi
	done
	Q_DESC=() Q_PID=()
}
# l2s NS KIND ARG... [-- KIND ARG...]: crafted frames from one process, then a moment
l2s() {
	local ns=$1
	shift
	in_ns "$ns" /usr/bin/python3 "$L2PY" "$@"
	sleep 0.3
}
status_clean() { in_ns "$H" "$CLI" status >"$WORK/status" 2>&1; }
# status_reports TEXT: status exits 1 and says TEXT
status_reports() {
	! status_clean && grep -qF -- "$1" "$WORK/status" || { cat "$WORK/status"; return 1; }
}
# elements: the per-guest elements of both tables (not the configuration's sets),
# sorted, flow ids left out (a new install gets a new one)
elements() {
	in_ns "$H" nft -j list ruleset | /usr/bin/python3 -c '
import json, sys
out, conf = [], ("cluster_", "vmnet_", "ports_", "ethertypes")
for o in json.load(sys.stdin)["nftables"]:
    s = o.get("set") or o.get("map")
    if s and s["table"] == "blixard" and not s["name"].startswith(conf):
        for e in s.get("elem", []):
            if isinstance(e, dict) and "elem" in e:
                e = dict(e["elem"]); e.pop("counter", None); e = e.get("val", e)
            if s["name"].startswith(("zone_", "mark_")) and isinstance(e, list):
                e = e[0]
            if s["name"].startswith("flow_") and isinstance(e, dict) and "concat" in e:
                e = e["concat"][:-1]
            out.append(s["family"] + " " + s["name"] + " " + json.dumps(e, sort_keys=True))
print("\n".join(sorted(out)))'
}
ruleset() { in_ns "$H" nft list ruleset | sed -E 's/ (counter )?packets [0-9]+ bytes [0-9]+//; /^\s*packets [0-9]+ bytes [0-9]+$/d'; }

bridge_topology_up
# An observer of the IP forward path: frames between two guests must never reach it.
in_ns "$H" nft -f - <<EOX
table inet obs {
	counter hairpin {}
	chain fw { type filter hook forward priority -500; iifname "$BR" oifname "$BR" counter name hairpin; }
}
EOX
wait_ports

# ================= install =================
ok "a1 starts: type='network', addresses from <filterref>" \
	bstart a1 network vnet1 52:54:00:00:01:01 A 192.168.122.11 fd00:122::11
ok "a2 starts: type='network', IPv4 from the network's DHCP reservation, IPv6 from <filterref>" \
	bstart a2 network vnet2 52:54:00:00:01:02 A "" fd00:122::12
ok "b1 starts: type='bridge', another tenant" \
	bstart b1 bridge vnet3 52:54:00:00:01:03 B 192.168.122.13 fd00:122::13
ok "d1 starts without an address" bstart d1 network vnet4 52:54:00:00:01:04 A
ok "the routed guest ra starts" rstart ra
ok "the routed guest rb starts" rstart rb
ok "a2's reservation is bound at both layers" \
	sh -c "ip netns exec '$H' nft list set bridge blixard guest_src_v4 | grep -q '\"vnet2\" . 192.168.122.12' &&
		ip netns exec '$H' nft list map inet blixard addr_owner_v4 | grep -q '192.168.122.12 : \"vnet2\"'"
ok "status is clean with bridged guests installed" status_clean
diag "events: $(grep -c ' fast ' "$WORK/trace") fast, $(grep -c ' slow ' "$WORK/trace") slow: $(grep ' slow ' "$WORK/trace" | tr '\n' ';')"
ok "a bridged guest joining its tenant took the fast path" grep -q '^install fast a2' "$WORK/trace"

# ================= traffic matrix =================
for fam in 4 6; do
	a2=192.168.122.12 b1=192.168.122.13 ra=10.0.0.21 rb=10.0.0.22 a1=192.168.122.11
	clu=172.16.0.2 inet=198.51.100.2 gw=$GW4 lan=203.0.113.50
	if [ $fam = 6 ]; then
		a2=fd00:122::12 b1=fd00:122::13 ra=fd00:10::21 rb=fd00:10::22 a1=fd00:122::11
		clu=fd00:172::2 inet=2001:db8:100::2 gw=$GW6 lan=fd00:203::50
	fi
	later "IPv$fam: a1 does not reach b1 (other tenant, same bridge)" tcp "$A1" $b1 9000
	later "IPv$fam: a1 does not reach b1's allowed inbound port" tcp "$A1" $b1 2222
	later "IPv$fam: b1 does not reach a1" tcp "$B1" $a1 9000
	later "IPv$fam: a1 does not reach the routed guest rb (tenant B)" tcp "$A1" $rb 9000
	later "IPv$fam: rb does not reach a1, not even its allowed inbound port" tcp "$RB" $a1 2222
	later "IPv$fam: a1 does not reach the cluster" tcp "$A1" $clu 7000
	later "IPv$fam: a1 does not reach a host service on the bridge address" tcp "$A1" $gw 8080
	later "IPv$fam: the internet does not reach a1's other ports" tcp "$I" $a1 9000
	later "IPv$fam: the cluster does not reach a1's other ports" tcp "$C" $a1 9000
	later "IPv$fam: no bridge conntrack here: a1 has no layer-2 path to the LAN host behind an uplink" tcp "$A1" $lan 80
	later "IPv$fam: the LAN host does not reach a1" tcp "$L" $a1 2222
	ok "IPv$fam: a1 reaches a2 on the same bridge (same tenant)" reach "$A1" $a2 9000
	ok "IPv$fam: a2 reaches a1" reach "$A2" $a1 9000
	ok "IPv$fam: a1 reaches the routed guest ra (tenant A)" reach "$A1" $ra 9000
	ok "IPv$fam: ra reaches a1" reach "$RA" $a1 9000
	ok "IPv$fam: a1 reaches the host's allowed outbound port on the bridge address" reach "$A1" $gw 8443
	ok "IPv$fam: a1 reaches the internet (IPv4 masqueraded, IPv6 routed)" reach "$A1" $inet 80
	ok "IPv$fam: the internet reaches a1's allowed inbound port" reach "$I" $a1 2222
	ok "IPv$fam: the cluster reaches a1's allowed inbound port" reach "$C" $a1 2222
	ok "IPv$fam: the host reaches a1 (host processes are trusted)" reach "$H" $a1 9000
	settle
done
# why answers for bridged guests as the packets above did, confirmed by the kernel
why_says() { # why_says VERDICT RULE ARGS...
	local want="$1 $2" got
	shift 2
	got=$(why_verdict "$@")
	[ "$got" = "$want" ] || { echo "why $*: $got"; return 1; }
}
ok "why: a1 to a2 (same bridge, same tenant) allowed by rule 5" why_says allowed 5 --from a1 --to a2:9000 --proto tcp
ok "why: a1 to b1 (same bridge, other tenant) dropped by rule 5" why_says dropped 5 --from a1 --to b1:9000 --proto tcp
ok "why: by addresses, a1 to b1 dropped by rule 5" why_says dropped 5 --from 192.168.122.11 --to 192.168.122.13:9000 --proto tcp
ok "why: a1 to the routed guest ra allowed by rule 5" why_says allowed 5 --from a1 --to ra:9000 --proto tcp -4
ok "why: a1 to the internet allowed by rule 8" why_says allowed 8 --from a1 --to 198.51.100.2:80 --proto tcp
ok "why: a1 to the cluster over IPv6 dropped by rule 3" why_says dropped 3 --from fd00:122::11 --to [fd00:172::2]:7000 --proto tcp
ok "guest-to-guest frames never reached the IP forward hook (no br_netfilter)" zero "$(hairpins)"

# DNS of the network's own dnsmasq without an allowed_ports entry (only tcp 8443 is)
dns() { # dns NS SERVER [tcp]: an A query for gw.bx answered
	in_ns "$1" /usr/bin/python3 - "$2" "${3:-udp}" <<'EOP'
import socket, struct, sys
server, proto = sys.argv[1], sys.argv[2]
q = struct.pack("!HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0) + b"\x02gw\x02bx\x00" + struct.pack("!HH", 1, 1)
fam = socket.AF_INET6 if ":" in server else socket.AF_INET
if proto == "tcp":
    s = socket.socket(fam, socket.SOCK_STREAM); s.settimeout(2); s.connect((server, 53))
    s.sendall(struct.pack("!H", len(q)) + q); r = s.recv(2048)[2:]
else:
    s = socket.socket(fam, socket.SOCK_DGRAM); s.settimeout(2); s.sendto(q, (server, 53)); r = s.recv(2048)
sys.exit(0 if r[:2] == q[:2] and struct.unpack("!H", r[6:8])[0] >= 1 else 1)
EOP
}
ok "a1 resolves through the network's dnsmasq (UDP, IPv4)" dns "$A1" "$GW4"
ok "a1 resolves through the network's dnsmasq (TCP, IPv4)" dns "$A1" "$GW4" tcp
ok "a1 resolves through the network's dnsmasq (UDP, IPv6)" dns "$A1" "$GW6"
later "the routed guest ra does not reach that dnsmasq (the network's services are its guests')" dns "$RA" "$GW4"

# ================= a guest without an address: DHCP and DAD only =================
in_ns "$D1" ip addr add 192.168.122.14/24 dev eth0
in_ns "$D1" ip -6 addr add fd00:122::14/64 dev eth0 nodad
later "d1 with an unbound static IPv4 address does not reach the host" tcp "$D1" "$GW4" 8443
later "d1 with an unbound static IPv4 address does not reach a2" tcp "$D1" 192.168.122.12 9000
later "d1 with an unbound static IPv6 address does not reach a2" tcp "$D1" fd00:122::12 9000
settle
in_ns "$D1" ip addr del 192.168.122.14/24 dev eth0
in_ns "$D1" ip -6 addr del fd00:122::14/64 dev eth0
before=$(seen "$A2" dad)
l2s "$D1" ns :: fd00:122::77
ok "d1's duplicate address detection (NS from ::) passes" grew "$A2" dad "$before"
cat >"$WORK/udhcpc.sh" <<'EOS'
#!/bin/sh
[ "$1" = bound ] || [ "$1" = renew ] || exit 0
ip addr add "$ip/${mask:-24}" dev "$interface"
echo "$ip" >"$LEASE_OUT"
EOS
chmod +x "$WORK/udhcpc.sh"
ok "d1 gets a DHCPv4 lease from the network's dnsmasq" \
	in_ns "$D1" env LEASE_OUT="$WORK/d1.lease" busybox udhcpc -i eth0 -n -q -t 5 -T 1 -s "$WORK/udhcpc.sh"
ok "d1 gets a DHCPv6 advertise from the network's dnsmasq" in_ns "$D1" /usr/bin/python3 "$L2PY" dhcp6-solicit
in_ns "$D1" ip route add default via "$GW4" 2>/dev/null
fails "d1 with its lease but no binding yet does not reach the host" tcp "$D1" "$GW4" 8443

# ================= leases: bound from the file libvirt's lease helper keeps =================
LEASES="$BLIXARD_NETISO_LIBVIRT_ROOT/var/lib/libvirt/dnsmasq"
mkdir -p "$LEASES"
lease=$(cat "$WORK/d1.lease" 2>/dev/null)
diag "d1 leased ${lease:-nothing}"
# leases MAC IP EXPIRY...: the bridge's status file as the helper writes it (renamed into place)
leases() {
	local sep=""
	{
		printf '['
		while [ $# -ge 3 ]; do
			printf '%s{"ip-address": "%s", "mac-address": "%s", "hostname": "g", "expiry-time": %s}' \
				"$sep" "$2" "$1" "$3"
			sep=", "
			shift 3
		done
		printf ']\n'
	} >"$LEASES/.virbr0.new" && mv "$LEASES/.virbr0.new" "$LEASES/$BR.status"
}
bound4() { in_ns "$H" nft list set bridge blixard guest_src_v4 | grep -q "\"$1\" . $2\b"; }
now=$(date +%s)
leases 52:54:00:00:01:04 "${lease:-192.168.122.199}" $((now + 3600)) \
	52:54:00:00:01:04 192.168.122.170 $((now - 10)) \
	52:54:00:00:01:04 10.9.9.9 $((now + 3600)) \
	52:54:00:00:01:09 192.168.122.160 $((now + 3600))
ok "apply learns d1's lease and binds it (one transaction)" in_ns "$H" "$CLI" apply --domain-xml "$WORK/d1.xml"
ok "d1 reaches the host's allowed port once its lease is bound" reach "$D1" "$GW4" 8443
ok "d1 reaches a2 once its lease is bound" reach "$D1" 192.168.122.12 9000
later "d1 still does not reach b1" tcp "$D1" 192.168.122.13 9000
fails "an expired lease of d1's MAC is not bound" bound4 vnet4 192.168.122.170
fails "a lease outside the network's prefixes is not bound" bound4 vnet4 10.9.9.9
fails "another MAC's lease is not bound to d1" bound4 vnet4 192.168.122.160
ok "d1's reconnect (the hook reads no leases) keeps the learned binding" \
	sh -c "ip netns exec '$H' '$HOOK' d1 reconnect begin - <'$WORK/d1.xml' && ip netns exec '$H' nft list set bridge blixard guest_src_v4 | grep -q '\"vnet4\" . ${lease:-x}'"
leases 52:54:00:00:01:04 192.168.122.180 $((now + 3600))
ok "a moved lease: apply moves the binding" in_ns "$H" "$CLI" apply --domain-xml "$WORK/d1.xml"
ok "the new address is bound" bound4 vnet4 192.168.122.180
later "d1 from its old address reaches nothing any more" tcp "$D1" "$GW4" 8443
settle

# ================= layer-2 guards, attacked from a1 =================
ping_ "$A2" "$GW4"
ping_ "$A2" "$GW6"
ping_ "$H" 192.168.122.12
ping_ "$H" fd00:122::12
A1MAC=52:54:00:00:01:01 A2MAC=52:54:00:00:01:02
declare -A S0
snap() { local c; for c in ra redirect6 redirect4 dhcp dhcp6 ethertype tagged na arp_reply arp_own; do S0[$c]=$(seen "$A2" $c); done; }
none() { [ "$(seen "$A2" "$1")" -eq "${S0[$1]}" ]; } # none COUNTER: nothing more reached a2
some() { [ "$(seen "$A2" "$1")" -gt "${S0[$1]}" ]; }
in_ns "$A2" sysctl -qw net.ipv6.conf.eth0.accept_ra=1
snap
before=$(drops vnet1)
l2s "$A1" udp-mac 52:54:00:66:66:66 "$A2MAC" 192.168.122.11 192.168.122.12 5555 forgedmac1 \
	-- udp-mac "$A2MAC" ff:ff:ff:ff:ff:ff 192.168.122.11 192.168.122.255 5555 stolenmac \
	-- arp-reply "$GW4" -- arp-reply 192.168.122.12 -- arp-request 192.168.122.12 "$GW4" \
	-- arp-reply 192.168.122.11 52:54:00:66:66:66 \
	-- na "$GW6" -- na fd00:122::12 -- na fd00:122::12 fd00:122::11 -- ns fd00:122::12 "$GW6" \
	-- ra -- redirect6 "$A2MAC" fd00:122::12 2001:db8:100::2 \
	-- redirect4 "$A2MAC" 192.168.122.12 192.168.122.11 198.51.100.2 \
	-- dhcp-offer 192.168.122.11 -- dhcp6-advertise "$A2MAC" -- dhcp6-advertise "$A2MAC" all \
	-- dhcp-discover "$A2MAC" -- ethertype 88b5 -- vlan 192.168.122.11 \
	-- udp-mac "$A1MAC" "$BR_MAC" 192.168.122.13 198.51.100.2 5555 spoof4 \
	-- udp-mac "$A1MAC" "$BR_MAC" fd00:122::13 2001:db8:100::2 5555 spoof6 \
	-- udp-mac "$A1MAC" "$BR_MAC" 192.168.122.13 10.0.0.22 5555 spoofrb
ok "a1's forged frames are counted as drops on vnet1" more_drops vnet1 "$before"
ok "status --json shows a1's drops on its port" \
	sh -c "ip netns exec '$H' '$CLI' status --json | grep -q '\"tap\":\"vnet1\"[^}]*\"drop_packets\":[1-9]'"
fails "a frame with a made-up source MAC does not reach a2" arrived_token "$A2" 5555 forgedmac1
fails "a frame with a2's MAC as source does not reach a2" arrived_token "$A2" 5555 stolenmac
fails "the bridge did not learn the made-up MAC" sh -c "ip netns exec '$H' bridge fdb show br $BR | grep -q 52:54:00:66:66:66"
ok "a2's MAC stays on vnet2 in the bridge" sh -c "ip netns exec '$H' bridge fdb show br $BR | grep '$A2MAC' | grep -q 'dev vnet2'"
ok "no ARP reply from a1 for another's address (or with a forged sender MAC) reached a2" none arp_reply
ok "a2 still has the gateway's MAC for $GW4" neigh_is "$A2" "$GW4" "$BR_MAC"
ok "the host still has a2's MAC for 192.168.122.12" neigh_is "$H" 192.168.122.12 "$A2MAC"
ok "no neighbour advertisement of a1 for another's address reached a2" none na
ok "a2 still has the gateway's MAC for $GW6" neigh_is "$A2" "$GW6" "$BR_MAC"
ok "the host still has a2's MAC for fd00:122::12" neigh_is "$H" fd00:122::12 "$A2MAC"
ok "a1's router advertisement did not reach a2" none ra
fails "a2 learned no prefix from it" sh -c "ip netns exec '$A2' ip -6 addr show dev eth0 | grep -q 2001:db8:bad"
ok "a1's IPv6 redirect did not reach a2" none redirect6
ok "a1's ICMP redirect did not reach a2" none redirect4
ok "a1's DHCP offer did not reach a2" none dhcp
ok "a1's DHCPv6 advertises (to a2's link-local address, to all nodes) did not reach a2" none dhcp6
ok "dnsmasq never saw a DHCP request in a2's name" never_logged "DHCPDISCOVER($BR) $A2MAC" "$WORK/dnsmasq.log"
ok "control: dnsmasq did see d1's own requests" grep -q "DHCPDISCOVER($BR) 52:54:00:00:01:04" "$WORK/dnsmasq.log"
ok "a1's frame of ethertype 0x88b5 did not reach a2" none ethertype
ok "a1's 802.1Q-tagged frame did not reach a2" none tagged
fails "a1 sending from b1's IPv4 address does not reach the internet" arrived_token "$I" 5555 spoof4
fails "a1 sending from b1's IPv6 address does not reach the internet" arrived_token "$I" 5555 spoof6
fails "a1 posing as b1 does not reach b1's tenant's routed guest rb" arrived_token "$RB" 5555 spoofrb
# what a guest may send of its own
snap
l2s "$A1" arp-reply 192.168.122.11 -- na fd00:122::11 fd00:122::11 -- na "$(eui64 $A1MAC)" \
	-- udp-mac "$A1MAC" "$BR_MAC" 192.168.122.11 198.51.100.2 5555 own4
ok "a1's gratuitous ARP for its own address reaches a2" some arp_own
ok "a1's advertisements for its own global and link-local addresses reach a2" some na
ok "a1's datagram from its own address reaches the internet" arrived_token "$I" 5555 own4
# controls: the same frames from the LAN port (an uplink: routers and DHCP servers are
# legitimate there) reach a2, so that the observer and the frames are shown to work;
# guest addresses stay the guests' there too
snap
l2s "$L" arp-reply 192.168.122.99 -- na fd00:122::99 fd00:203::50 -- ra -- dhcp-offer 203.0.113.50 \
	-- dhcp6-advertise "$A2MAC"
ok "control: an ARP reply for an unowned address from the LAN port reaches a2" some arp_reply
ok "control: an advertisement for an unowned address from the LAN port reaches a2" some na
ok "control: a router advertisement from the LAN port reaches a2" some ra
ok "control: a DHCP offer from the LAN port reaches a2" some dhcp
ok "control: a DHCPv6 advertise from the LAN port reaches a2" some dhcp6
in_ns "$A2" sysctl -qw net.ipv6.conf.eth0.accept_ra=0
in_ns "$A2" ip -6 route flush proto ra 2>/dev/null
snap
l2s "$L" arp-reply 192.168.122.12 -- na fd00:122::12 fd00:203::50 \
	-- udp-mac 52:54:00:00:0a:01 "$BR_MAC" 192.168.122.12 10.0.0.21 5555 lanspoof
ok "the LAN port's ARP reply for a2's address is dropped" none arp_reply
ok "the LAN port's advertisement for a2's address is dropped" none na
fails "the LAN host posing as a2 does not reach a2's tenant's routed guest ra" arrived_token "$RA" 5555 lanspoof

# ================= fail closed =================
bguest_up x1 vnet9 52:54:00:00:01:09 192.168.122.19 fd00:122::19
X1=$(guest_ns x1)
later "a vnet port nobody installed reaches nothing (host)" tcp "$X1" "$GW4" 8443
later "a vnet port nobody installed does not reach a2" tcp "$X1" 192.168.122.12 9000
later "nothing reaches a vnet port nobody installed" tcp "$H" 192.168.122.19 9000
settle
ruleset >"$WORK/before"
fails "a bridged guest claiming the routed guest ra's address is refused" \
	bstart c1 network vnet9 52:54:00:00:01:09 A 10.0.0.21
fails "a bridged guest on a libvirt network that is not running is refused" \
	sh -c "sed 's/network=.default./network=\"stopped\"/' '$WORK/a1.xml' | sed 's/a1/c2/; s/vnet1/vnet9/' | ip netns exec '$H' '$HOOK' c2 start begin -"
ruleset >"$WORK/after"
ok "and the refused events changed nothing" diff "$WORK/before" "$WORK/after"
ipt_refusal() {
	sed "s/\"nftables\"/\"iptables\"/" "$BLIXARD_NETISO_CONFIG" >"$WORK/ipt.toml"
	! BLIXARD_NETISO_CONFIG="$WORK/ipt.toml" "$HOOK" a1 prepare begin - <"$WORK/a1-prepare.xml" 2>"$WORK/ipt.err" &&
		[ "$(wc -l <"$WORK/ipt.err")" = 1 ] && grep -q 'nftables.*nwfilter' "$WORK/ipt.err"
}
ok "the iptables backend refuses a bridged guest in one line pointing to nftables or nwfilter" ipt_refusal

# ================= drift =================
in_ns "$H" nft delete element bridge blixard guest_mac '{ "vnet2" . 52:54:00:00:01:02 }'
ok "a bridged element deleted underneath: status reports it and exits 1" status_reports "guest_mac"
ok "a2's next event (reconnect) puts it back" hook a2 reconnect begin "$WORK/a2.xml"
ok "status is clean again" status_clean

# ================= retag: one transaction moves a2 to tenant B and back =================
bdomain_xml a2 network vnet2 52:54:00:00:01:02 B "" fd00:122::12 >"$WORK/a2-b.xml"
ok "a2 is retagged to tenant B (its tenant metadata changed, a reconnect)" hook a2 reconnect begin "$WORK/a2-b.xml"
later "IPv4: a1 no longer reaches a2" tcp "$A1" 192.168.122.12 9000
later "IPv6: a1 no longer reaches a2" tcp "$A1" fd00:122::12 9000
ok "IPv4: b1 reaches a2 in its tenant now" reach "$B1" 192.168.122.12 9000
ok "IPv6: b1 reaches a2 in its tenant now" reach "$B1" fd00:122::12 9000
settle
ok "a2 is retagged back to tenant A" hook a2 reconnect begin "$WORK/a2.xml"
ok "a1 reaches a2 again" reach "$A1" 192.168.122.12 9000
fails "b1 no longer reaches a2" tcp "$B1" 192.168.122.12 9000

# ================= stop =================
elements >"$WORK/with-a1"
ok "a1 stops" bstop a1
fails "a1 reaches nothing after its stop" tcp "$A1" "$GW4" 8443
ok "nothing in either table names vnet1 or a1's addresses" \
	sh -c "! ip netns exec '$H' nft list ruleset | grep -E '\"vnet1\"|192\\.168\\.122\\.11([^0-9]|\$)|fd00:122::11([^0-9a-f]|\$)'"
ok "a1 starts again" bstart a1 network vnet1 52:54:00:00:01:01 A 192.168.122.11 fd00:122::11
ok "and holds the same elements as before" sh -c "$(declare -f elements in_ns); H=$H; elements | diff - '$WORK/with-a1'"
ok "and reaches a2 again" reach "$A1" 192.168.122.12 9000
for g in a1 a2 b1 d1; do bstop $g; done
hook ra stopped end "$WORK/ra.xml"
hook rb stopped end "$WORK/rb.xml"
ok "every guest stopped: no element and no tenant is left in either table" \
	sh -c "$(declare -f elements in_ns); H=$H; elements; [ -z \"\$(elements)\" ] && ! ip netns exec '$H' nft list ruleset | grep 'chain tenant-'"
settle
done_testing
