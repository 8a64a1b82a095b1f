#!/bin/bash
# Bridged guests through the real hook (issue 18, doc/bridged-design.md): guests
# on veth "taps" enslaved to a bridge like libvirt's virbr0 (dnsmasq, masquerade),
# type='network' on a libvirt network whose status file the hook reads, and
# type='bridge'; routed guests beside them. The traffic matrix in IPv4 and IPv6,
# every layer-2 guard attacked with crafted frames, install and removal in one
# transaction that leaves nothing behind, and failing closed.
set -u
. "$top_srcdir/tests/netns/lib-bridge.sh"
require_root_tier "$HOOK" "$CLI"

# libvirt's own files, under a root of the test's (network.h)
export BLIXARD_NETISO_LIBVIRT_ROOT="$WORK/libvirt"
mkdir -p "$BLIXARD_NETISO_LIBVIRT_ROOT/run/libvirt/network"
STATUS="$BLIXARD_NETISO_LIBVIRT_ROOT/run/libvirt/network/default.xml"
# as libvirtd writes it for the running NAT network: a2's IPv4 address is a
# reservation by MAC; IPv6 is served by DHCPv6
cat >"$STATUS" <<EOX
<networkstatus>
  <class_id bitmap='0-2'/>
  <floor sum='0'/>
  <network>
    <name>default</name>
    <uuid>0e5b3b8c-9a1e-4c6f-8b39-2f1b4c9d0a11</uuid>
    <forward mode='nat'><nat><port start='1024' end='65535'/></nat></forward>
    <bridge name='$BR' stp='on' delay='0'/>
    <mac address='$BR_MAC'/>
    <ip address='$GW4' netmask='255.255.255.0'>
      <dhcp>
        <range start='192.168.122.100' end='192.168.122.199'/>
        <host mac='52:54:00:00:01:02' name='a2' ip='192.168.122.12'/>
      </dhcp>
    </ip>
    <ip family='ipv6' address='$GW6' prefix='64'>
      <dhcp><range start='fd00:122::100' end='fd00:122::1ff'/></dhcp>
    </ip>
  </network>
</networkstatus>
EOX

cat >"$BLIXARD_NETISO_CONFIG" <<EOC
[vm.network_isolation]
enabled = true
backend = "nftables"
cluster_networks = ["127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "::1/128", "fe80::/10", "fd00:172::/64"]
vm_network = ["10.0.0.0/16", "192.168.122.0/24", "fd00:10::/64", "fd00:122::/64"]
inter_vm_isolation = ${INTER_VM:-false}
allow_internet = ${INTERNET:-true}
state_dir = "$STATE_DIR"

[[vm.network_isolation.allowed_ports]]
protocol = "tcp"
port = 8443
direction = "outbound"

[[vm.network_isolation.allowed_ports]]
protocol = "tcp"
port = 2222
direction = "inbound"
EOC

# bdomain_xml NAME TYPE TAP MAC TENANT [IP] [IPV6]: a bridged guest's live XML;
# TYPE network (on libvirt's network default) or bridge (on $BR); TAP "-" before start
bdomain_xml() {
	local name=$1 type=$2 tap=$3 mac=$4 tenant=$5 v4=${6:-} v6=${7:-}
	echo "<domain type='kvm'><name>$name</name>"
	echo "<metadata><netiso:isolation xmlns:netiso='urn:blixard:network-isolation:1' tenant='$tenant'/></metadata>"
	echo "<devices><interface type='$type'><mac address='$mac'/>"
	if [ "$type" = network ]; then
		echo "<source network='default'$([ "$tap" = - ] || echo " bridge='$BR'")/>"
	else
		echo "<source bridge='$BR'/>"
	fi
	[ "$tap" = - ] || echo "<target dev='$tap'/>"
	if [ -n "$v4$v6" ]; then
		echo "<filterref filter='clean-traffic'>"
		[ -z "$v4" ] || echo "<parameter name='IP' value='$v4'/>"
		[ -z "$v6" ] || echo "<parameter name='IPV6' value='$v6'/>"
		echo "</filterref>"
	fi
	echo "</interface></devices></domain>"
}

# bstart NAME TYPE TAP MAC TENANT [IP] [IPV6]: the hook events of a bridged guest's start
bstart() {
	local name=$1
	bdomain_xml "$1" "$2" - "$4" "$5" "${6:-}" "${7:-}" >"$WORK/$name-prepare.xml"
	bdomain_xml "$@" >"$WORK/$name.xml"
	hook "$name" prepare begin "$WORK/$name-prepare.xml" &&
		hook "$name" start begin "$WORK/$name.xml" &&
		hook "$name" started begin "$WORK/$name.xml"
}
bstop() {
	hook "$1" stopped end "$WORK/$1.xml" && hook "$1" release end "$WORK/$1-prepare.xml"
}
# rstart NAME: a routed guest of lib-bridge.sh through the hook
rstart() {
	local n=$1
	domain_xml "$n" "${G_TENANT[$n]}" - "${G_V4[$n]}" "${G_V6[$n]}" >"$WORK/$n-prepare.xml"
	domain_xml "$n" "${G_TENANT[$n]}" "${G_TAP[$n]}" "${G_V4[$n]}" "${G_V6[$n]}" >"$WORK/$n.xml"
	hook "$n" prepare begin "$WORK/$n-prepare.xml" && hook "$n" start begin "$WORK/$n.xml"
}

bridge_topology_up
wait_ports
ok "a1 starts: type='network', addresses from <filterref>" bstart a1 network vnet1 52:54:00:00:01:01 A 192.168.122.11 fd00:122::11
ok "a2 starts: type='network', IPv4 from the network's reservation, IPv6 from <filterref>" bstart a2 network vnet2 52:54:00:00:01:02 A "" fd00:122::12
ok "b1 starts: type='bridge' of another tenant" bstart b1 bridge vnet3 52:54:00:00:01:03 B 192.168.122.13 fd00:122::13
ok "d1 starts without an address" bstart d1 network vnet4 52:54:00:00:01:04 A
ok "the routed guest ra starts" rstart ra
ok "the routed guest rb starts" rstart rb
for fam in 4 6; do
	a2=192.168.122.12 b1=192.168.122.13 ra=10.0.0.21 rb=10.0.0.22 a1=192.168.122.11
	clu=172.16.0.2 inet=198.51.100.2 gw=$GW4 lan=203.0.113.50
	if [ $fam = 6 ]; then
		a2=fd00:122::12 b1=fd00:122::13 ra=fd00:10::21 rb=fd00:10::22 a1=fd00:122::11
		clu=fd00:172::2 inet=2001:db8:100::2 gw=$GW6 lan=fd00:203::50
	fi
	ok "IPv$fam: a1 reaches a2 on the same bridge (same tenant)" reach "$A1" $a2 9000
	ok "IPv$fam: a2 reaches a1" reach "$A2" $a1 9000
	fails "IPv$fam: a1 does not reach b1 (other tenant, same bridge)" tcp "$A1" $b1 9000
	ok "IPv$fam: a1 reaches the routed guest ra (tenant A)" reach "$A1" $ra 9000
	ok "IPv$fam: ra reaches a1" reach "$RA" $a1 9000
	fails "IPv$fam: a1 does not reach the routed guest rb (tenant B)" tcp "$A1" $rb 9000
	fails "IPv$fam: a1 does not reach the cluster" tcp "$A1" $clu 7000
	fails "IPv$fam: a1 does not reach a host service on the bridge address" tcp "$A1" $gw 8080
	ok "IPv$fam: a1 reaches the host's allowed outbound port on the bridge address" reach "$A1" $gw 8443
	ok "IPv$fam: a1 reaches the internet" reach "$A1" $inet 80
	ok "IPv$fam: the internet reaches a1's allowed inbound port" reach "$I" $a1 2222
	fails "IPv$fam: the internet does not reach a1's other ports" tcp "$I" $a1 9000
done

# stop: a1's elements go from both tables in one transaction, nothing names it
ok "a1 stops" bstop a1
fails "a1 reaches nothing after its stop" tcp "$A1" "$GW4" 8443
ok "nothing in either table names vnet1 or a1's addresses" \
	sh -c "! ip netns exec '$H' nft list ruleset | grep -E '\"vnet1\"|192\\.168\\.122\\.11([^0-9]|\$)|fd00:122::11([^0-9a-f]|\$)'"
done_testing
