# shellcheck shell=bash
# Bridged guests for the end-to-end tier, sourced after lib-e2e.sh (bash): libvirt's NAT
# network `default` (virbr0 with libvirt's own dnsmasq for DHCP and DNS and libvirt's own
# NAT rules) defined and started by the private libvirtd inside the host namespace, a
# host bridge br0 made here with an uplink to a LAN namespace, guests with
# <interface type='network'> and <interface type='bridge'>, and the frames that the
# layer-2 checks craft inside them (netprobe frame) and observe (netprobe sniff).
#
# Two ways to isolate the same guests (E2E_BMODE, from NETISO_E2E_BRIDGED):
#   hook      the qemu hook under test; addresses from the reservation, a <filterref>
#             carrying parameters only (an empty filter), or leases learned by watch
#   nwfilter  no hook: `blixard-netiso nwfilter --define` and the tenant filter in each
#             <filterref>, with br_netfilter on (nwfilter needs it)

E2E_NS_LAN=$E2E_ID-lan
E2E_EXTRA_NS+=("$E2E_NS_LAN")
E2E_BMODE=${NETISO_E2E_BRIDGED:-hook}
E2E_NET=default E2E_NAT_BR=virbr0 E2E_NAT_MAC=52:54:00:0a:00:01
E2E_NAT4=192.168.122.1 E2E_NAT6=fd00:122::1
E2E_HB=br0 E2E_HB_MAC=52:54:00:0a:00:02 E2E_HB4=192.168.200.1 E2E_HB6=fd00:200::1
E2E_LAN4=203.0.113.50 E2E_LAN6=fd00:203::50 E2E_LAN_MAC=52:54:00:0a:00:50
E2E_DNS_NAME=gw.bx
E2E_PARAMS_FILTER=bxe2e-addresses
# Can the bridge family track connections (nf_conntrack_bridge)? Decides what the hook's
# design lets through between a guest and a non-guest port (doc/bridged-design.md).
E2E_L2_STATEFUL=0
# Guests: network (default or br0), how IPv4 is given (reserved: the network's DHCP
# reservation; dynamic: the DHCP range; static: <filterref> IP), MAC, addresses.
declare -A E2E_BNET E2E_BHOW E2E_BMAC E2E_B4 E2E_B6

e2e_bmac() { printf '52:54:00:b0:00:%02x\n' "$1"; }

# The bridged test's configuration: the bridges' prefixes are guest networks, no port 53
# is allowed (DNS and DHCP to the network's own dnsmasq must work without it), TCP 8443
# outbound (a host service and an internet service on it), TCP 8080 inbound.
e2e_bridged_config() {
	local allow_internet=${1:-true}
	mkdir -p "$E2E_HD/blixard"
	cat >"$E2E_HD/blixard/blixard.toml.new" <<EOF
# blixard-netiso end-to-end test configuration for bridged guests (lib-e2e-bridged.sh)
[vm.network_isolation]
enabled = true
backend = "$E2E_BACKEND"
cluster_networks = ["127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "::1/128", "fe80::/10", "fd00:172:16::/48"]
vm_network = ["10.0.0.0/16", "fd00:10::/64", "192.168.122.0/24", "fd00:122::/64", "192.168.200.0/24", "fd00:200::/64"]
inter_vm_isolation = false
tenant_isolation = true
allow_internet = $allow_internet
state_dir = "/run/blixard-netiso"

[[vm.network_isolation.allowed_ports]]
protocol = "tcp"
port = 8443
direction = "outbound"

[[vm.network_isolation.allowed_ports]]
protocol = "tcp"
port = 8080
direction = "inbound"
EOF
	mv "$E2E_HD/blixard/blixard.toml.new" "$E2E_HD/blixard/blixard.toml"
	E2E_ALLOW_INTERNET=$allow_internet
}

# ---------------------------------------------------------------- setup

# After e2e_setup: the host bridge and its LAN, listeners, the filters, the kernel probe.
e2e_bridged_setup() {
	local h=$E2E_NS_HOST brnf=0 f
	[ "$E2E_BMODE" = nwfilter ] && brnf=1
	# br_netfilter: off for the hook (most hosts do not load it; the design must not need
	# it), on for nwfilter (its iptables rules see bridged frames only through it).
	for f in iptables ip6tables arptables; do
		if [ -e /proc/sys/net/bridge ]; then
			e2e_ns "$h" sh -c "echo $brnf >/proc/sys/net/bridge/bridge-nf-call-$f" ||
				e2e_bail "cannot set bridge-nf-call-$f in $h"
		elif [ $brnf = 1 ]; then
			e2e_skip "nwfilter needs br_netfilter (net.bridge.bridge-nf-call-iptables)"
		fi
	done
	# The host bridge: the host's address on it (the guests' gateway) and an uplink port
	# to a LAN host outside the guest networks, on-link for both sides.
	ip -n "$h" link add "$E2E_HB" type bridge || e2e_bail "cannot create $E2E_HB"
	ip -n "$h" link set "$E2E_HB" address "$E2E_HB_MAC"
	ip -n "$h" addr add "$E2E_HB4/24" dev "$E2E_HB"
	ip -n "$h" addr add "$E2E_HB6/64" dev "$E2E_HB" nodad
	ip -n "$h" link set "$E2E_HB" up
	ip netns add "$E2E_NS_LAN" || e2e_bail "cannot create network namespace $E2E_NS_LAN"
	ip -n "$E2E_NS_LAN" link set lo up
	ip -n "$h" link add lan0 type veth peer name eth0 netns "$E2E_NS_LAN"
	ip -n "$h" link set lan0 master "$E2E_HB" up
	ip -n "$E2E_NS_LAN" link set eth0 address "$E2E_LAN_MAC"
	ip -n "$E2E_NS_LAN" addr add "$E2E_LAN4/24" dev eth0
	ip -n "$E2E_NS_LAN" addr add "$E2E_LAN6/64" dev eth0 nodad
	ip -n "$E2E_NS_LAN" link set eth0 up
	ip -n "$E2E_NS_LAN" route add 192.168.200.0/24 dev eth0
	ip -n "$E2E_NS_LAN" -6 route add fd00:200::/64 dev eth0
	e2e_ns "$E2E_NS_LAN" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.eth0.accept_ra=0
	e2e_ns_listener "$E2E_NS_LAN" lan tcp 2222 udp 2222
	# Services on the allowed outbound port: the host's and the internet's.
	e2e_ns_listener "$h" host8443 tcp 8443
	e2e_ns_listener "$E2E_NS_INET" inet8443 tcp 8443
	e2e_bridged_config true
	e2e_bridged_probe_kernel
	if [ "$E2E_BMODE" = nwfilter ]; then
		[ -n "$E2E_CLI" ] || e2e_bail "make install put no sbin/blixard-netiso in $E2E_T/inst"
		e2e_cli nwfilter --tenant A --tenant B --define >"$E2E_T/nwfilter-define.out" 2>&1 ||
			{ cat "$E2E_T/nwfilter-define.out" >&2; e2e_bail "blixard-netiso nwfilter --define failed"; }
	else
		# Hook mode: a filter without rules, so that <filterref> carries addresses only.
		cat >"$E2E_T/params-filter.xml" <<EOF
<filter name='$E2E_PARAMS_FILTER' chain='root'>
  <!-- no rules: the interface's <filterref> only carries its addresses (IP, IPV6) -->
</filter>
EOF
		e2e_virsh nwfilter-define "$E2E_T/params-filter.xml" >/dev/null ||
			e2e_bail "libvirtd refused the parameters-only filter"
	fi
}

e2e_bridged_probe_kernel() {
	local i
	for i in 1 2; do # a first try may only load the module
		if e2e_ns "$E2E_NS_HOST" nft -f - 2>/dev/null <<<'table bridge bxe2e_probe { chain c { ct state established accept; }; }'; then
			E2E_L2_STATEFUL=1
			e2e_ns "$E2E_NS_HOST" nft delete table bridge bxe2e_probe
			break
		fi
	done
	e2e_log "kernel $(uname -r): bridge conntrack $([ $E2E_L2_STATEFUL = 1 ] && echo available || echo not available)"
}

# libvirt's NAT network `default`, as libvirt ships it but with IPv6, a DNS name for the
# gateway and a DHCP reservation for every registered guest whose IPv4 is "reserved".
# Defined and started by the private libvirtd: virbr0, dnsmasq and libvirt's NAT rules
# all land in the host namespace.
e2e_network_start() {
	local g hosts=''
	for g in "${!E2E_BHOW[@]}"; do
		[ "${E2E_BHOW[$g]}" = reserved ] || continue
		hosts="$hosts      <host mac='${E2E_BMAC[$g]}' name='$g' ip='${E2E_B4[$g]}'/>
"
	done
	cat >"$E2E_T/net-default.xml" <<EOF
<network>
  <name>$E2E_NET</name>
  <forward mode='nat'/>
  <bridge name='$E2E_NAT_BR' stp='on' delay='0'/>
  <mac address='$E2E_NAT_MAC'/>
  <dns>
    <host ip='$E2E_NAT4'><hostname>$E2E_DNS_NAME</hostname></host>
  </dns>
  <ip address='$E2E_NAT4' netmask='255.255.255.0'>
    <dhcp>
      <range start='192.168.122.100' end='192.168.122.199'/>
$hosts    </dhcp>
  </ip>
  <ip family='ipv6' address='$E2E_NAT6' prefix='64'/>
</network>
EOF
	e2e_virsh net-define "$E2E_T/net-default.xml" >/dev/null &&
		e2e_virsh net-start "$E2E_NET" >"$E2E_T/net-start.out" 2>&1 ||
		{ cat "$E2E_T/net-start.out" >&2; e2e_bail "libvirt's network $E2E_NET did not start"; }
}

# Is dnsmasq of the network running, in the host namespace (and nowhere else)?
e2e_network_dnsmasq_pid() {
	local pid
	pid=$(cat "$E2E_T/run/libvirt/network/$E2E_NET.pid" 2>/dev/null) || return 1
	[ "$(readlink "/proc/$pid/ns/net" 2>/dev/null)" = "$(readlink "/proc/$E2E_HOLDER/ns/net")" ] &&
		echo "$pid"
}

# ---------------------------------------------------------------- guests

# e2e_bguest_add NAME TENANT NUMBER NET HOW: registers a bridged guest. NET is default
# (libvirt's network) or br0 (the host bridge); HOW how its IPv4 address is given:
# reserved (the network's DHCP reservation for its MAC: 192.168.122.NUMBER), dynamic
# (DHCP from the range, learned later), static (br0: <filterref> IP 192.168.200.NUMBER).
# IPv6 always comes from <filterref> IPV6 (libvirt 9.0 has no IPv6 reservation by MAC).
e2e_bguest_add() {
	local name=$1 tenant=$2 idx=$3 net=$4 how=$5 h d
	E2E_TENANT[$name]=$tenant
	E2E_IDX[$name]=$idx
	E2E_BNET[$name]=$net
	E2E_BHOW[$name]=$how
	E2E_BMAC[$name]=$(e2e_bmac "$idx")
	case $net in
	default)
		E2E_B6[$name]=fd00:122::$idx
		E2E_B4[$name]=
		[ "$how" = reserved ] && E2E_B4[$name]=192.168.122.$idx
		;;
	br0)
		E2E_B4[$name]=192.168.200.$idx
		E2E_B6[$name]=fd00:200::$idx
		;;
	esac
	for h in $(seq 1 "$E2E_NHOSTS"); do
		d=$(e2e_host_dir "$h")/run/bxe2e
		rm -f "$d/$name".*
		mkfifo "$d/$name.cmd.in" "$d/$name.cmd.out"
	done
}

e2e_bgw4() { if [ "${E2E_BNET[$1]}" = default ]; then echo "$E2E_NAT4"; else echo "$E2E_HB4"; fi; }
e2e_bgw6() { if [ "${E2E_BNET[$1]}" = default ]; then echo "$E2E_NAT6"; else echo "$E2E_HB6"; fi; }
e2e_bbridge() { if [ "${E2E_BNET[$1]}" = default ]; then echo "$E2E_NAT_BR"; else echo "$E2E_HB"; fi; }

# The <filterref> of a guest: in hook mode the parameters-only filter with the addresses
# the hook takes from it; in nwfilter mode the tenant's generated filter with everything
# it needs, the tenant's address lists included (every registered guest of the tenant).
e2e_bguest_filterref() {
	local g=$1 o
	if [ "$E2E_BMODE" = nwfilter ]; then
		echo "      <filterref filter='blixard-netiso-tenant-${E2E_TENANT[$g]}'>"
		echo "        <parameter name='CTRL_IP_LEARNING' value='none'/>"
		echo "        <parameter name='IP' value='${E2E_B4[$g]}'/>"
		echo "        <parameter name='IPV6' value='${E2E_B6[$g]}'/>"
		for o in "${!E2E_BNET[@]}"; do
			[ "${E2E_TENANT[$o]}" = "${E2E_TENANT[$g]}" ] || continue
			echo "        <parameter name='TENANT_IPS' value='${E2E_B4[$o]}'/>"
			echo "        <parameter name='TENANT_IPV6S' value='${E2E_B6[$o]}'/>"
		done
	else
		echo "      <filterref filter='$E2E_PARAMS_FILTER'>"
		[ "${E2E_BHOW[$g]}" = static ] && echo "        <parameter name='IP' value='${E2E_B4[$g]}'/>"
		echo "        <parameter name='IPV6' value='${E2E_B6[$g]}'/>"
	fi
	echo "      </filterref>"
}

e2e_bguest_xml() {
	local name=$1 iface ip4 lan='' meta
	meta="<netiso:isolation xmlns:netiso=\"urn:blixard:network-isolation:1\" tenant=\"${E2E_TENANT[$name]}\"/>"
	if [ "${E2E_BNET[$name]}" = default ]; then
		iface="<interface type='network'>
      <source network='$E2E_NET'/>"
		ip4=dhcp
	else
		iface="<interface type='bridge'>
      <source bridge='$E2E_HB'/>"
		ip4=${E2E_B4[$name]}
		lan=" netiso.lan4=203.0.113.0-24 netiso.lan6=fd00:203::-64"
	fi
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
    <cmdline>console=ttyS0 quiet loglevel=1 panic=-1 netiso.name=$name netiso.l2=1 netiso.ip4=$ip4 netiso.p4=24 netiso.gw4=$(e2e_bgw4 "$name") netiso.ip6=${E2E_B6[$name]} netiso.p6=64 netiso.gw6=$(e2e_bgw6 "$name")$lan</cmdline>
  </os>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    $iface
      <mac address='${E2E_BMAC[$name]}'/>
      <model type='virtio'/>
      <driver name='qemu'/>
      <rom enabled='no'/>
$(e2e_bguest_filterref "$name")
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

e2e_bguest_start() {
	e2e_bguest_xml "$1"
	e2e_guest_start "$1"
}

# e2e_bguest_refilter NAME: nwfilter's way to tell a running guest that its tenant
# changed (doc/nwfilter.md, "Connecting an interface"): its interface again, with the
# tenant lists of now, by virsh update-device (libvirt re-applies the filter).
e2e_bguest_refilter() {
	e2e_bguest_xml "$1"
	sed -n "/<interface type=/,/<\/interface>/p" "$E2E_T/$1.xml" >"$E2E_T/$1.iface.xml"
	e2e_virsh update-device "$1" "$E2E_T/$1.iface.xml" --live >"$E2E_T/$1.update" 2>&1
}

# The tap of a bridged guest (vnetN), and the port's bridge.
e2e_bguest_tap() {
	e2e_virsh domiflist "$1" 2>/dev/null | awk '$2 == "network" || $2 == "bridge" {print $1; exit}'
}

# The address the guest's DHCP client was given last, from its console.
e2e_bguest_leased() {
	e2e_console "$1" | sed -n 's/^NETISO DHCP-BOUND ip=\([0-9.]*\).*/\1/p' | tail -n 1
}

# Waits for READY and, on the NAT network, for a DHCP lease; records a dynamic guest's
# address. Fails when a reserved guest got another address than its reservation.
e2e_bguest_wait() {
	local g deadline=$(($(date +%s) + ${E2E_BOOT_TIMEOUT:-180})) got
	e2e_wait_ready "$@" || return 1
	for g in "$@"; do
		[ "${E2E_BNET[$g]}" = default ] || continue
		until [ -n "$(e2e_bguest_leased "$g")" ]; do
			if [ "$(date +%s)" -ge "$deadline" ]; then
				e2e_log "guest $g got no DHCP lease from libvirt's dnsmasq; console tail:"
				e2e_console "$g" | tail -n 10 | sed 's/^/#   /' >&2
				return 1
			fi
			sleep 0.5
		done
		got=$(e2e_bguest_leased "$g")
		if [ "${E2E_BHOW[$g]}" = dynamic ]; then
			E2E_B4[$g]=$got
		elif [ "$got" != "${E2E_B4[$g]}" ]; then
			e2e_log "guest $g leased $got, not its reservation ${E2E_B4[$g]}"
			return 1
		fi
	done
}

# ---------------------------------------------------------------- commands and frames

E2E_CMDN=0
# e2e_gcmd GUEST COMMAND ARGS...: runs a frame/neigh/flow command in the guest and prints
# its result word once the guest reports it done (empty after a generous deadline).
e2e_gcmd() {
	local g=$1 cmd=$2 id deadline
	shift 2
	# a counter in a file: callers run this in $(...), where a variable would not count
	E2E_CMDN=$(($(cat "$E2E_T/gcmd.n" 2>/dev/null || echo 0) + 1))
	echo "$E2E_CMDN" >"$E2E_T/gcmd.n"
	id=c$E2E_CMDN
	echo "$cmd $id $*" >"$E2E_T/$g.cmdbuf"
	e2e_guest_send "$g" "$E2E_T/$g.cmdbuf" || return 1
	deadline=$(($(date +%s) + 60))
	until e2e_console "$g" | grep -q "^NETISO DONE id=$id "; do
		[ "$(date +%s)" -lt "$deadline" ] || { e2e_log "guest $g did not run '$cmd $*'"; return 1; }
		sleep 0.2
	done
	e2e_console "$g" | sed -n "s/^NETISO DONE id=$id cmd=[a-z]* result=//p" | tail -n 1
}

# e2e_seen GUEST PATTERN: the guest's observer logged a frame matching PATTERN (an
# extended regular expression on the "L2 kind=..." line).
e2e_seen() { e2e_console "$1" | grep -Eq "^L2 $2"; }

# e2e_host_frame BRIDGE KIND ARGS...: the host sends a crafted frame on a bridge (a
# trusted sender: the controls of the attacks).
e2e_host_frame() {
	local br=$1
	shift
	e2e_ns "$E2E_NS_HOST" "$E2E_NETPROBE" frame "$br" "$@" >/dev/null
}

# e2e_barrier GUEST: the host sends a token to the guest's observer and waits until the
# guest logged it. A frame that an attacker sent before (its command reported done) and
# that the bridge let through is in the guest's queue ahead of the token, so once the
# token is seen, such a frame would have been seen too: negative checks need no sleep.
E2E_BARN=0
e2e_barrier() {
	local g=$1 tok
	E2E_BARN=$((E2E_BARN + 1))
	tok=barrier$E2E_BARN
	# a crafted frame to the guest's MAC: no neighbour lookup that an attack could divert
	e2e_host_frame "$(e2e_bbridge "$g")" udp - "${E2E_BMAC[$g]}" "$(e2e_bgw4 "$g")" "${E2E_B4[$g]}" 5555 "$tok" ||
		e2e_log "the host could not send barrier $tok"
	e2e_wait_for 60 e2e_seen "$g" "kind=udp .* token=$tok " ||
		{ e2e_log "barrier $tok never reached $g"; return 1; }
}

# The host's neighbour entry (MAC) for an address on a bridge.
e2e_host_neigh() {
	ip -n "$E2E_NS_HOST" neigh show "$2" dev "$1" | sed -n 's/.*lladdr \([0-9a-f:]*\).*/\1/p' | head -n 1
}

# The bridge's forwarding entry: which port has learned a MAC.
e2e_fdb_port() {
	ip -n "$E2E_NS_HOST" link show master "$1" >/dev/null 2>&1 || return 0
	bridge -n "$E2E_NS_HOST" fdb show br "$1" | awk -v m="$2" '$1 == m && $0 !~ /self/ {print $3; exit}'
}

# ---------------------------------------------------------------- expectations and plans

e2e_baddr() { if [ "$1" = 4 ]; then echo "${E2E_B4[$2]}"; else echo "${E2E_B6[$2]}"; fi; }

# Where nwfilter cannot do what the hook does (doc/nwfilter.md, "What it cannot enforce"):
# prints a TAP TODO directive for that check, nothing in hook mode or elsewhere.
E2E_BKNOWN_HOSTADDR="nwfilter knows addresses, not the host: the host's other addresses are internet"
E2E_BKNOWN_DNS="nwfilter cannot single out the network's own dnsmasq: DNS needs port 53 in allowed_ports"
E2E_BKNOWN_ROUTEDIN="nwfilter rules towards a guest see bridged frames only, not what the host routes into the bridge"
e2e_bknown() {
	[ "$E2E_BMODE" = nwfilter ] || return 0
	echo " # TODO $1"
}

# e2e_bexpect_guest SOURCE DEST FAMILY: same tenant ok, other tenant blocked; IPv4 from
# outside libvirt's NAT network into it is rejected by libvirt's own rules (LIBVIRT_FWI)
# whatever the hook does. Not with nwfilter: libvirt's nwfilter chains accept in FORWARD
# (libvirt-in-post, for a packet from a guest port) before its network rules see it.
e2e_bexpect_guest() {
	local exp=blocked
	[ "${E2E_TENANT[$1]}" = "${E2E_TENANT[$2]}" ] && exp=ok
	if [ "$3" = 4 ] && [ "${E2E_BNET[$2]}" = default ] && [ "${E2E_BNET[$1]}" != default ] &&
		[ "$E2E_BMODE" != nwfilter ]; then
		exp=always-blocked
	fi
	echo "$exp"
}

# Between a guest on the host bridge and the LAN host behind its uplink: "outside", like
# the internet; for the hook only where the bridge family tracks connections (otherwise
# its design fails closed: no layer-2 path between a guest and a non-guest port).
e2e_bexpect_lan() {
	if [ "$E2E_BMODE" = hook ] && [ "$E2E_L2_STATEFUL" = 0 ]; then echo blocked; else echo "$1"; fi
}

# The traffic matrix of bridged guests: every guest to every other, the cluster, the
# host's services and allowed port, the network's dnsmasq, the internet (and its allowed
# port), the LAN behind the host bridge; the internet and the LAN to every guest. TCP,
# UDP and ICMP where they apply; IPv4 and IPv6.
e2e_bplan_standard() {
	local g h f a k c gw net lab inet v kinds=${E2E_PLAN_KINDS:-tcp udp ping}
	for g in "$@"; do
		lab=$(e2e_label "$g")
		for f in 4 6; do
			for h in "$@"; do
				[ "$h" = "$g" ] && continue
				a=$(e2e_baddr $f "$h")
				for k in $kinds; do
					e2e_plan_add "$g" "$k$f-$h" $k "$a" 2222 - reply "$(e2e_bexpect_guest "$g" "$h" $f)" "$lab" "$(e2e_label "$h")" \
						"$lab -> $(e2e_label "$h") $k/ipv$f ($(e2e_bbridge "$g") -> $(e2e_bbridge "$h"))"
				done
			done
			[ $f = 4 ] && c=$E2E_CLUSTER4 || c=$E2E_CLUSTER6
			for k in $kinds; do
				e2e_plan_add "$g" "$k$f-cluster" $k "$c" 2222 - reply blocked "$lab" cluster "$lab -> cluster $c $k/ipv$f"
			done
			[ $f = 4 ] && gw=$(e2e_bgw4 "$g") || gw=$(e2e_bgw6 "$g")
			for k in ${kinds/ping/}; do
				e2e_plan_add "$g" "$k$f-host" $k "$gw" 2222 - reply blocked "$lab" host \
					"$lab -> host service on its gateway $gw $k/ipv$f"
			done
			e2e_plan_add "$g" "ssh$f-host" tcp "$gw" 22 - reply blocked "$lab" host "$lab -> host ssh on its gateway tcp/ipv$f"
			[ $f = 4 ] && a=$E2E_HOSTIN4 || a=$E2E_HOSTIN6
			e2e_plan_add "$g" "tcp$f-hostin" tcp "$a" 2222 - reply blocked "$lab" host \
				"$lab -> host service on its internet-facing $a tcp/ipv$f$(e2e_bknown "$E2E_BKNOWN_HOSTADDR")"
			[ $f = 4 ] && a=$E2E_HOSTCL4 || a=$E2E_HOSTCL6
			e2e_plan_add "$g" "tcp$f-hostcl" tcp "$a" 2222 - reply blocked "$lab" host "$lab -> host service on its cluster-facing $a tcp/ipv$f"
			e2e_plan_add "$g" "tcp$f-host8443" tcp "$gw" 8443 - reply ok "$lab" host8443 \
				"$lab -> host on its gateway tcp/ipv$f port 8443 (allowed outbound)"
			if [ "${E2E_BNET[$g]}" = default ]; then
				for k in dns dnstcp; do
					e2e_plan_add "$g" "$k$f-dnsmasq" $k "$gw" "$E2E_DNS_NAME" - reply ok "$lab" dnsmasq \
						"$lab -> libvirt's dnsmasq $gw $k/ipv$f (no allowed port 53)$(e2e_bknown "$E2E_BKNOWN_DNS")"
				done
			fi
			[ $f = 4 ] && inet=$E2E_INET4 || inet=$E2E_INET6
			v=blocked
			[ "$E2E_ALLOW_INTERNET" = true ] && v=ok
			for k in $kinds; do
				e2e_plan_add "$g" "$k$f-internet" $k "$inet" 2222 - reply $v "$lab" internet \
					"$lab -> internet $inet $k/ipv$f (allow_internet=$E2E_ALLOW_INTERNET$([ "${E2E_BNET[$g]}" = default ] && [ $f = 4 ] && echo ", libvirt's NAT"))"
			done
			e2e_plan_add "$g" "tcp$f-inet8443" tcp "$inet" 8443 - reply ok "$lab" internet \
				"$lab -> internet $inet tcp/ipv$f port 8443 (allowed outbound)"
			# Inbound from the internet: the allowed port only.
			a=$(e2e_baddr $f "$g")
			v=ok
			[ $f = 4 ] && [ "${E2E_BNET[$g]}" = default ] && v=always-blocked
			e2e_plan_add ns:internet "in$f-$g-8080" tcp "$a" 8080 - reply $v from-internet "$lab" \
				"internet -> $lab tcp/ipv$f port 8080 (allowed inbound$([ $v = always-blocked ] && echo "; libvirt rejects new connections into its NAT network"))"
			v=blocked
			[ $f = 4 ] && [ "${E2E_BNET[$g]}" = default ] && v=always-blocked
			e2e_plan_add ns:internet "in$f-$g-9000" tcp "$a" 9000 - reply $v from-internet "$lab" \
				"internet -> $lab tcp/ipv$f port 9000 (not allowed inbound)$([ $v = blocked ] && e2e_bknown "$E2E_BKNOWN_ROUTEDIN")"
			[ "${E2E_BNET[$g]}" = br0 ] || continue
			[ $f = 4 ] && a=$E2E_LAN4 || a=$E2E_LAN6
			e2e_plan_add "$g" "tcp$f-lan" tcp "$a" 2222 - reply "$(e2e_bexpect_lan ok)" "$lab" lan \
				"$lab -> LAN host $a behind br0's uplink tcp/ipv$f"
			a=$(e2e_baddr $f "$g")
			e2e_plan_add ns:lan "lan$f-$g-8080" tcp "$a" 8080 - reply "$(e2e_bexpect_lan ok)" from-lan "$lab" \
				"LAN host -> $lab tcp/ipv$f port 8080 (allowed inbound)"
			e2e_plan_add ns:lan "lan$f-$g-9000" tcp "$a" 9000 - reply blocked from-lan "$lab" \
				"LAN host -> $lab tcp/ipv$f port 9000 (not allowed inbound)"
		done
	done
}

# SPOOFER sends from VICTIM's addresses to TARGET (a guest of the victim's tenant) and to
# the internet, and from an address of no guest; one-way UDP, seen or not by the receiver.
e2e_bplan_spoof() {
	local s=$1 victim=$2 target=$3 f src net lab
	lab=$(e2e_label "$s")
	for f in 4 6; do
		src=$(e2e_baddr $f "$victim")
		[ $f = 4 ] && net=$E2E_INET4 || net=$E2E_INET6
		e2e_plan_add "$s" "spoof$f-$target" udp "$(e2e_baddr $f "$target")" 2222 "$src" "recv:$target" blocked \
			"$lab" spoofed "$lab spoofing $(e2e_label "$victim")'s $src -> $(e2e_label "$target") udp/ipv$f"
		e2e_plan_add "$s" "spoof$f-internet" udp "$net" 2222 "$src" recv:internet blocked \
			"$lab" spoofed "$lab spoofing $(e2e_label "$victim")'s $src -> internet udp/ipv$f"
	done
	e2e_plan_add "$s" "spoof4-foreign" udp "$E2E_INET4" 2222 198.51.100.77 recv:internet blocked \
		"$lab" spoofed "$lab spoofing a non-guest 198.51.100.77 -> internet udp/ipv4"
	e2e_plan_add "$s" "spoof6-foreign" udp "$E2E_INET6" 2222 2001:db8:100::77 recv:internet blocked \
		"$lab" spoofed "$lab spoofing a non-guest 2001:db8:100::77 -> internet udp/ipv6"
}
