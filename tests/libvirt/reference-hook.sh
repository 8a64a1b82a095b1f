#!/bin/sh
# The harness's oracle, NOT the product: a minimal isolating qemu hook in shell + nft,
# written only to prove that every expectation of this tier can be met by a hook on
# libvirt's events (NETISO_E2E_HOOK=tests/libvirt/reference-hook.sh). It knows just the
# tier's configuration: cluster_networks, vm_network and allow_internet are read from
# /etc/blixard/blixard.toml as e2e_write_config writes them; ports are fixed (UDP/TCP 53
# outbound, TCP 8080 inbound). Per guest: a chain for what it sends (forward), one for
# what it receives from outside the VM network (forward) and one for what it sends to the
# host (input), dispatched by tap name through verdict maps; same-tenant addresses in a set
# per tenant. One nft batch per event; a record per domain for teardown.
set -u
conf=/etc/blixard/blixard.toml
state=/run/blixard-netiso/reference
dom=$1 op=$2
xml=$(cat)
mkdir -p "$state"
exec 9>"$state/.lock"
flock 9

fail() {
	echo "reference hook: $dom: $*" >&2
	exit 1
}

tenant=default
line=$(printf '%s\n' "$xml" | grep 'urn:blixard:network-isolation:1' | head -n 1)
[ -z "$line" ] || tenant=$(printf '%s\n' "$line" | sed -n 's/.*[[:space:]]tenant="\([^"]*\)".*/\1/p')
printf '%s\n' "$tenant" | grep -Eqx '[A-Za-z0-9][A-Za-z0-9._-]{0,62}' || fail "invalid tenant '$tenant'"
tset=$(printf 't_%s' "$tenant" | tr '.-' '__')

toml_list() { sed -n "s/^$1 = \[\(.*\)\]/\1/p" "$conf" | tr -d '" ' | tr ',' '\n'; }
v4() { grep -v : ; }
v6() { grep : ; }
joined() { paste -sd, -; }

skeleton() {
	allow=$(sed -n 's/^allow_internet = //p' "$conf")
	cat <<EOF
add table inet blixard
add set inet blixard cluster4 { type ipv4_addr; flags interval; }
add set inet blixard cluster6 { type ipv6_addr; flags interval; }
add set inet blixard vmnet4 { type ipv4_addr; flags interval; }
add set inet blixard vmnet6 { type ipv6_addr; flags interval; }
add element inet blixard cluster4 { $(toml_list cluster_networks | v4 | joined) }
add element inet blixard cluster6 { $(toml_list cluster_networks | v6 | joined) }
add element inet blixard vmnet4 { $(toml_list vm_network | v4 | joined) }
add element inet blixard vmnet6 { $(toml_list vm_network | v6 | joined) }
add map inet blixard from_vm { type ifname : verdict; }
add map inet blixard to_vm { type ifname : verdict; }
add map inet blixard host_in { type ifname : verdict; }
add chain inet blixard internet
flush chain inet blixard internet
add rule inet blixard internet $([ "$allow" = true ] && echo accept || echo drop)
EOF
	if ! nft list chain inet blixard forward >/dev/null 2>&1; then
		cat <<'EOF'
add chain inet blixard forward { type filter hook forward priority 0; policy accept; }
add rule inet blixard forward iifname vmap @from_vm
add rule inet blixard forward oifname vmap @to_vm
add chain inet blixard input { type filter hook input priority 0; policy accept; }
add rule inet blixard input iifname vmap @host_in
EOF
	fi
}

# Everything of one guest, from its record: TAP TENANTSET ADDR4 ADDR6.
removal() {
	cat <<EOF
add chain inet blixard ${1}_out
add chain inet blixard ${1}_in
add chain inet blixard ${1}_host
add element inet blixard from_vm { "$1" : jump ${1}_out }
add element inet blixard to_vm { "$1" : jump ${1}_in }
add element inet blixard host_in { "$1" : jump ${1}_host }
delete element inet blixard from_vm { "$1" }
delete element inet blixard to_vm { "$1" }
delete element inet blixard host_in { "$1" }
delete chain inet blixard ${1}_out
delete chain inet blixard ${1}_in
delete chain inet blixard ${1}_host
add set inet blixard ${2}_4 { type ipv4_addr; }
add set inet blixard ${2}_6 { type ipv6_addr; }
add element inet blixard ${2}_4 { $3 }
add element inet blixard ${2}_6 { $4 }
delete element inet blixard ${2}_4 { $3 }
delete element inet blixard ${2}_6 { $4 }
EOF
}

install() {
	tap=$(printf '%s\n' "$xml" | sed -n "s/.*<target dev='\([^']*\)'.*/\1/p" | head -n 1)
	a4=$(printf '%s\n' "$xml" | sed -n "s/.*<ip address='[^']*' family='ipv4'.* peer='\([^']*\)'.*/\1/p" | head -n 1)
	a6=$(printf '%s\n' "$xml" | sed -n "s/.*<ip address='[^']*' family='ipv6'.* peer='\([^']*\)'.*/\1/p" | head -n 1)
	printf '%s\n' "$tap" | grep -Eqx '[A-Za-z0-9_]{1,15}' || fail "no usable tap name '$tap'"
	[ -n "$a4" ] && [ -n "$a6" ] || fail "no peer addresses in <source><ip>"
	{
		skeleton
		cat <<EOF
add set inet blixard ${tset}_4 { type ipv4_addr; }
add set inet blixard ${tset}_6 { type ipv6_addr; }
add element inet blixard ${tset}_4 { $a4 }
add element inet blixard ${tset}_6 { $a6 }
add chain inet blixard ${tap}_out
flush chain inet blixard ${tap}_out
add rule inet blixard ${tap}_out ip saddr != $a4 drop
add rule inet blixard ${tap}_out ip6 saddr != { $a6, fe80::/10 } drop
add rule inet blixard ${tap}_out ct state established,related accept
add rule inet blixard ${tap}_out ip daddr @cluster4 drop
add rule inet blixard ${tap}_out ip6 daddr @cluster6 drop
add rule inet blixard ${tap}_out ip daddr @${tset}_4 accept
add rule inet blixard ${tap}_out ip6 daddr @${tset}_6 accept
add rule inet blixard ${tap}_out ip daddr @vmnet4 drop
add rule inet blixard ${tap}_out ip6 daddr @vmnet6 drop
add rule inet blixard ${tap}_out meta l4proto { tcp, udp } th dport 53 accept
add rule inet blixard ${tap}_out jump internet
add chain inet blixard ${tap}_in
flush chain inet blixard ${tap}_in
add rule inet blixard ${tap}_in ct state established,related accept
add rule inet blixard ${tap}_in ip saddr @vmnet4 drop
add rule inet blixard ${tap}_in ip6 saddr @vmnet6 drop
add rule inet blixard ${tap}_in tcp dport 8080 accept
add rule inet blixard ${tap}_in drop
add chain inet blixard ${tap}_host
flush chain inet blixard ${tap}_host
add rule inet blixard ${tap}_host ip saddr != $a4 drop
add rule inet blixard ${tap}_host ip6 saddr != { $a6, fe80::/10 } drop
add rule inet blixard ${tap}_host icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit } accept
add rule inet blixard ${tap}_host drop
add element inet blixard from_vm { "$tap" : jump ${tap}_out }
add element inet blixard to_vm { "$tap" : jump ${tap}_in }
add element inet blixard host_in { "$tap" : jump ${tap}_host }
EOF
	} >"$state/$dom.nft"
	nft -f "$state/$dom.nft" || fail "nft refused the batch"
	echo "$tap $tset $a4 $a6" >"$state/$dom"
}

case $op in
prepare | restore | migrate) ;;
start | started | reconnect) install ;;
stopped | release)
	if [ -f "$state/$dom" ]; then
		# shellcheck disable=SC2046 # the record's four words
		removal $(cat "$state/$dom") | nft -f - || echo "reference hook: $dom: removal failed" >&2
		rm -f "$state/$dom" "$state/$dom.nft"
	fi
	;;
esac
exit 0
