# Bridged guests through the real hook, on the topology of lib-bridge.sh: the
# libvirt network default's status file under a root of the test's, a
# configuration, and the hook events of bridged and routed guests. Sourced by
# tests/netns/bridged.sh and bench/bridged-path.sh.
# shellcheck shell=bash

. "$top_srcdir/tests/netns/lib-bridge.sh"
require_root_tier "$HOOK" "$CLI"

# libvirt's own files, under a root of the test's (network.h)
export BLIXARD_NETISO_LIBVIRT_ROOT="$WORK/libvirt"
export BLIXARD_NETISO_NFT_TRACE="$WORK/trace" # which path each event took (nft-fast.c)
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

