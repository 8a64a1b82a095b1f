#!/bin/bash
# The bridged-guest oracle, NOT the product: a qemu hook in shell + nft that loads the
# design's hand-written prototype (tests/netns/bridge-proto.nft, doc/bridged-design.md)
# for the test's configuration and writes, per event, the elements that
# tests/netns/lib-bridge.sh writes for a bridged guest: its port, MAC, tenant, EUI-64
# link-local address and bound addresses (the network's DHCP reservation for its MAC,
# <filterref> IP and IPV6). It proves that e2e-bridged.sh's expectations can be met by
# the design before the product supports bridged guests:
#     NETISO_E2E_HOOK=tests/libvirt/bridge-oracle-hook.sh \
#     NETISO_E2E_WATCH='tests/libvirt/bridge-oracle-hook.sh watch' sh tests/libvirt/e2e-bridged.sh
# "bridge-oracle-hook.sh watch" binds dynamic DHCP leases from libvirt's lease files, as
# `blixard-netiso watch` will. Bridged interfaces only; one nft batch per event.
set -u
here=$(dirname "$(readlink -f "$0")")
proto=$here/../netns/bridge-proto.nft
conf=/etc/blixard/blixard.toml
state=/run/blixard-netiso/oracle
mkdir -p "$state"

fail() {
	echo "bridge oracle: $*" >&2
	exit 1
}

toml_list() { sed -n "s/^$1 = \[\(.*\)\]/\1/p" "$conf" | tr -d '" ' | tr ',' '\n'; }
v4() { grep -v : ; }
v6() { grep : ; }
joined() { paste -sd, - | sed 's/,/, /g'; }

# allowed ports of a direction as "tcp . 8443, ..."
ports() {
	awk -v want="$1" '
		/^\[\[vm.network_isolation.allowed_ports\]\]/ { if (p != "" && d == want) out = out (out == "" ? "" : ", ") p " . " n; p = d = n = ""; next }
		/^protocol = / { gsub(/[" ]/, "", $3); p = $3 }
		/^port = / { n = $3 }
		/^direction = / { gsub(/[" ]/, "", $3); d = $3 }
		END { if (p != "" && d == want) out = out (out == "" ? "" : ", ") p " . " n; print out }' "$conf"
}

set_line() { # NAME TYPE ELEMENTS: a set definition with or without elements
	if [ -n "$3" ]; then echo "set $1 { $2 elements = { $3 } }"; else echo "set $1 { $2 }"; fi
}

# The prototype skeleton for this configuration and this kernel (bridge conntrack or not).
render() {
	local internet drop_tag tenants
	[ "$(sed -n 's/^allow_internet = //p' "$conf")" = true ] && internet=accept || internet='jump drop_guest'
	[ "$(cat "$state/stateful")" = 1 ] && drop_tag=stateless || drop_tag=stateful
	# the tenant dispatch goes when guests may not talk at all
	tenants=$(sed -n 's/^inter_vm_isolation = //p' "$conf")
	sed -e "s/@INTERNET@/$internet/" -e "/#@$drop_tag\$/d" \
		-e "$([ "$tenants" = true ] && echo '/#@tenants$/d' || echo 's/ #@tenants$//')" \
		-e 's/ #@[a-z]*$//' \
		-e "s|^\(\t*\)set cluster_v4 .*|\1$(set_line cluster_v4 'type ipv4_addr; flags interval; auto-merge;' "$(toml_list cluster_networks | v4 | joined)")|" \
		-e "s|^\(\t*\)set cluster_v6 .*|\1$(set_line cluster_v6 'type ipv6_addr; flags interval; auto-merge;' "$(toml_list cluster_networks | v6 | joined)")|" \
		-e "s|^\(\t*\)set vmnet_v4 .*|\1$(set_line vmnet_v4 'type ipv4_addr; flags interval; auto-merge;' "$(toml_list vm_network | v4 | joined)")|" \
		-e "s|^\(\t*\)set vmnet_v6 .*|\1$(set_line vmnet_v6 'type ipv6_addr; flags interval; auto-merge;' "$(toml_list vm_network | v6 | joined)")|" \
		-e "s|^\(\t*\)set ports_out .*|\1$(set_line ports_out 'type inet_proto . inet_service;' "$(ports outbound)")|" \
		-e "s|^\(\t*\)set ports_in .*|\1$(set_line ports_in 'type inet_proto . inet_service;' "$(ports inbound)")|" \
		"$proto"
}

probe_stateful() {
	[ -f "$state/stateful" ] && return
	if nft -f - 2>/dev/null <<<'table bridge bxoracle_probe { chain c { ct state established accept; }; }' ||
		nft -f - 2>/dev/null <<<'table bridge bxoracle_probe { chain c { ct state established accept; }; }'; then
		nft delete table bridge bxoracle_probe
		echo 1 >"$state/stateful"
	else
		echo 0 >"$state/stateful"
	fi
}

eui64() { # MAC -> the link-local address the kernel derives from it
	local IFS=: b
	# shellcheck disable=SC2206 # the six bytes
	b=($1)
	printf 'fe80::%x:%x:%x:%x\n' $(((0x${b[0]} ^ 2) << 8 | 0x${b[1]})) $((0x${b[2]} << 8 | 0xff)) \
		$((0xfe << 8 | 0x${b[3]})) $((0x${b[4]} << 8 | 0x${b[5]}))
}

v6int() { # IPv6 address -> the 128-bit integer the ND target sets hold
	awk -v a="$1" 'BEGIN {
		n = split(a, p, "::"); l = p[1]; r = (n == 2) ? p[2] : ""
		nl = (l == "") ? 0 : split(l, L, ":"); nr = (r == "") ? 0 : split(r, R, ":")
		out = ""
		for (i = 1; i <= nl; i++) out = out sprintf("%4s", L[i])
		for (i = 0; i < 8 - nl - nr; i++) out = out "0000"
		for (i = 1; i <= nr; i++) out = out sprintf("%4s", R[i])
		gsub(/ /, "0", out); print "0x" out }'
}

tenant_objects() {
	local t=$1
	cat <<EOF
add set inet blixard tenant-$t-ifs { type ifname; }
add set inet blixard tenant-$t-v4 { type ifname . ipv4_addr; }
add set inet blixard tenant-$t-v6 { type ifname . ipv6_addr; }
add chain inet blixard tenant-$t
flush chain inet blixard tenant-$t
add rule inet blixard tenant-$t oifname @tenant-$t-ifs accept
add rule inet blixard tenant-$t oifname . ip daddr @tenant-$t-v4 accept
add rule inet blixard tenant-$t oifname . ip6 daddr @tenant-$t-v6 accept
add set bridge blixard tenant-$t-ifs { type ifname; }
add chain bridge blixard tenant-$t
flush chain bridge blixard tenant-$t
add rule bridge blixard tenant-$t oifname @tenant-$t-ifs accept
EOF
}

pair() { # VERB FAMILY SET ELEMENT [KEY]
	echo "add element $2 blixard $3 { $4 }"
	[ "$1" = del ] && echo "delete element $2 blixard $3 { ${5:-$4} }"
	return 0
}

addr_elements() { # VERB TAP BRIDGE TENANT ADDR
	local verb=$1 tap=$2 br=$3 t=$4 a=$5 f=v4
	case $a in *:*) f=v6 ;; esac
	pair "$verb" bridge guest_src_$f "\"$tap\" . $a"
	pair "$verb" bridge owned_$f "$a"
	if [ $f = v6 ]; then
		pair "$verb" bridge nd_target_v6 "\"$tap\" . $(v6int "$a")"
		pair "$verb" bridge owned_nd_v6 "$(v6int "$a")"
	fi
	pair "$verb" inet guest_src_$f "\"$br\" . $a"
	pair "$verb" inet addr_owner_$f "$a : \"$tap\"" "$a"
	pair "$verb" inet guest_tenant_$f "\"$br\" . $a : jump tenant-$t" "\"$br\" . $a"
	pair "$verb" inet tenant-$t-$f "\"$br\" . $a"
	pair "$verb" inet guest_drops_$f "\"$br\" . $a"
}

port_elements() { # VERB TAP MAC TENANT
	local verb=$1 tap=$2 mac=$3 t=$4
	pair "$verb" bridge guest_ifs "\"$tap\""
	pair "$verb" bridge guest_drops "\"$tap\""
	pair "$verb" bridge guest_mac "\"$tap\" . $mac"
	pair "$verb" bridge dhcp_chaddr "\"$tap\" . 0x${mac//:/}"
	pair "$verb" bridge guest_tenant "\"$tap\" : jump tenant-$t" "\"$tap\""
	pair "$verb" bridge tenant-$t-ifs "\"$tap\""
}

# A libvirt network's own services (its dnsmasq), from libvirt's status file.
net_elements() { # NETWORK
	local f=/run/libvirt/network/$1.xml br a
	[ -f "$f" ] || return 0
	br=$(sed -n "s/.*<bridge name='\([^']*\)'.*/\1/p" "$f" | head -n 1)
	for a in $(sed -n "s/.*<ip address='\([0-9.]*\)'.*/\1/p" "$f"); do
		echo "add element inet blixard net_services_v4 { \"$br\" . $a . udp . 53, \"$br\" . $a . tcp . 53, \"$br\" . $a . udp . 67, \"$br\" . 255.255.255.255 . udp . 67 }"
	done
	for a in $(sed -n "s/.*<ip family='ipv6' address='\([0-9a-f:]*\)'.*/\1/p" "$f"); do
		echo "add element inet blixard net_services_v6 { \"$br\" . $a . udp . 53, \"$br\" . $a . tcp . 53, \"$br\" . ff02::1:2 . udp . 547 }"
	done
}

# A record (DOMAIN.rec): "port TAP MAC BRIDGE TENANT NETWORK" and "addr TAP ADDR" lines.
# Its batch: add (install) or del (tolerant removal).
record_batch() { # VERB RECORD
	local verb=$1 kind tap x br t net a
	declare -A mac bridge tenant
	while read -r kind tap x br t net; do
		case $kind in
		port)
			mac[$tap]=$x bridge[$tap]=$br tenant[$tap]=$t
			[ "$verb" = add ] && tenant_objects "$t" && [ "$net" != - ] && net_elements "$net"
			port_elements "$verb" "$tap" "$x" "$t"
			;;
		addr) addr_elements "$verb" "$tap" "${bridge[$tap]}" "${tenant[$tap]}" "$x" ;;
		esac
	done <"$2"
}

# The skeleton, when missing or rendered from another configuration: both tables anew and
# every recorded guest again, one batch.
ensure_skeleton() {
	local r sum
	probe_stateful
	render >"$state/skeleton.nft"
	sum=$(md5sum <"$state/skeleton.nft")
	if nft list table bridge blixard >/dev/null 2>&1 && nft list table inet blixard >/dev/null 2>&1 &&
		[ "$sum" = "$(cat "$state/skeleton.sum" 2>/dev/null)" ]; then
		return 0
	fi
	{
		nft list table inet blixard >/dev/null 2>&1 && echo "delete table inet blixard"
		nft list table bridge blixard >/dev/null 2>&1 && echo "delete table bridge blixard"
		cat "$state/skeleton.nft"
		for r in "$state"/*.rec; do
			[ -f "$r" ] && record_batch add "$r"
		done
	} >"$state/reload.nft"
	nft -f "$state/reload.nft" || fail "the skeleton did not load ($state/reload.nft)"
	echo "$sum" >"$state/skeleton.sum"
}

# The domain's bridged interfaces: "TAP MAC BRIDGE NETWORK IP... ; IPV6..." per line.
interfaces() {
	awk '
		/<interface type=.(network|bridge)./ { inif = 1; tap = mac = br = net = ""; ips = ""; next }
		!inif { next }
		/<mac address=/ { match($0, /address=.[0-9a-f:]*/); mac = substr($0, RSTART + 9, RLENGTH - 9) }
		/<source / {
			if (match($0, /network=.[^'"'"'"]*/)) net = substr($0, RSTART + 9, RLENGTH - 9)
			if (match($0, /bridge=.[^'"'"'"]*/)) br = substr($0, RSTART + 8, RLENGTH - 8)
		}
		/<target dev=/ { match($0, /dev=.[^'"'"'"]*/); tap = substr($0, RSTART + 5, RLENGTH - 5) }
		/<parameter name=.IPV?6?. value=/ { match($0, /value=.[^'"'"'"]*/); ips = ips " " substr($0, RSTART + 7, RLENGTH - 7) }
		/<\/interface>/ { print tap, mac, br, (net == "" ? "-" : net), ips; inif = 0 }'
}

reservation() { # NETWORK MAC -> the reserved IPv4 address
	[ "$1" != - ] || return 0
	sed -n "s/.*<host mac='$2'.* ip='\([0-9.]*\)'.*/\1/p" "/run/libvirt/network/$1.xml" 2>/dev/null | head -n 1
}

install() {
	local dom=$1 xml=$2 tenant line tap mac br net ips a rec
	tenant=default
	line=$(printf '%s\n' "$xml" | grep 'urn:blixard:network-isolation:1' | head -n 1)
	[ -z "$line" ] || tenant=$(printf '%s\n' "$line" | sed -n 's/.*[[:space:]]tenant="\([^"]*\)".*/\1/p')
	printf '%s\n' "$tenant" | grep -Eqx '[A-Za-z0-9][A-Za-z0-9._-]{0,62}' || fail "$dom: invalid tenant '$tenant'"
	rec=$state/$dom.rec.new
	: >"$rec"
	while read -r tap mac br net ips; do
		[ -n "$tap" ] || continue
		printf '%s\n' "$tap" | grep -Eqx '[A-Za-z0-9_.-]{1,15}' || fail "$dom: no usable tap name '$tap'"
		echo "port $tap $mac $br $tenant $net" >>"$rec"
		# shellcheck disable=SC2086 # a list of addresses
		for a in $(eui64 "$mac") $(reservation "$net" "$mac") $ips; do
			echo "addr $tap $a" >>"$rec"
		done
	done < <(printf '%s\n' "$xml" | interfaces)
	if grep -q . "$rec"; then
		ensure_skeleton
		[ -f "$state/$dom.rec" ] && record_batch del "$state/$dom.rec" >"$state/$dom.nft"
		record_batch add "$rec" >>"$state/$dom.nft"
		nft -f "$state/$dom.nft" || { rm -f "$rec"; fail "$dom: nft refused the batch"; }
		mv "$rec" "$state/$dom.rec"
	else
		rm -f "$rec"
	fi
	rm -f "$state/$dom.nft"
}

remove() {
	[ -f "$state/$1.rec" ] || return 0
	record_batch del "$state/$1.rec" | nft -f - || echo "bridge oracle: $1: removal failed" >&2
	rm -f "$state/$1.rec"
}

# Dynamic leases: each lease whose MAC is a recorded port's and whose address is not
# bound yet is bound to that port (one batch), as `watch` will do.
watch() {
	local f lease ip mac dom tap
	while :; do
		for f in /var/lib/libvirt/dnsmasq/*.status; do
			[ -s "$f" ] || continue
			tr -d ' \n' <"$f" | tr '}' '\n' | while read -r lease; do
				ip=$(printf '%s' "$lease" | sed -n 's/.*"ip-address":"\([0-9.]*\)".*/\1/p')
				mac=$(printf '%s' "$lease" | sed -n 's/.*"mac-address":"\([0-9a-f:]*\)".*/\1/p')
				[ -n "$ip" ] && [ -n "$mac" ] || continue
				(
					flock 9
					for dom in "$state"/*.rec; do
						[ -f "$dom" ] || continue
						tap=$(awk -v m="$mac" '$1 == "port" && $3 == m {print $2; exit}' "$dom")
						[ -n "$tap" ] || continue
						grep -qx "addr $tap $ip" "$dom" && continue
						awk -v t="$tap" '$1 == "port" && $2 == t' "$dom" >"$dom.one"
						echo "addr $tap $ip" >>"$dom.one"
						# the port's elements again (idempotent) and the address's, one batch
						record_batch add "$dom.one" | nft -f - && echo "addr $tap $ip" >>"$dom" &&
							echo "bridge oracle: bound lease $ip to $tap" >&2
						rm -f "$dom.one"
					done
				) 9>"$state/.lock"
			done
		done
		sleep 0.5
	done
}

if [ "${1:-}" = watch ]; then
	watch
	exit 0
fi
dom=$1 op=$2
xml=$(cat)
exec 9>"$state/.lock"
flock 9
case $op in
start | reconnect) install "$dom" "$xml" ;;
stopped | release) remove "$dom" ;;
esac
exit 0
