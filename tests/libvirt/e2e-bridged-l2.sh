# shellcheck shell=bash
# The layer-2 guards of bridged guests, attacked from inside real guests (sourced by
# e2e-bridged.sh, after its traffic matrix): a1 (tenant A) forges frames on virbr0 against
# a2 (tenant A, same bridge: the observer, whose netprobe sniff logs what reaches it), the
# host's neighbour table and the bridge's forwarding table; b1 (tenant B) forges an ICMP
# error about a flow of a1's. After the attacks one barrier per observer (e2e_barrier):
# a frame let through would have been logged before it, so "dropped" needs no sleep.
# Every kind of frame has a control: the same tool's frame from a legitimate sender (the
# guest for its own addresses, the host for router and server messages) is seen.

L2_CHECKS=() # OBSERVER|PATTERN|DESCRIPTION|TODO
L2_CONTROLS=()

e2e_eui64() { # MAC -> the EUI-64 link-local address
	local IFS=: b
	# shellcheck disable=SC2206 # the six bytes
	b=($1)
	printf 'fe80::%x:%x:%x:%x\n' $(((0x${b[0]} ^ 2) << 8 | 0x${b[1]})) $((0x${b[2]} << 8 | 0xff)) \
		$((0xfe << 8 | 0x${b[3]})) $((0x${b[4]} << 8 | 0x${b[5]}))
}

E2E_BKNOWN_NA="nwfilter cannot match the neighbour advertisement's target (doc/nwfilter.md)"

# l2_attack SENDER OBSERVER PATTERN DESCRIPTION TODO FRAME-ARGS...: SENDER crafts the
# frame; OBSERVER must never log PATTERN (checked after the barrier).
l2_attack() {
	local s=$1 o=$2 pat=$3 desc=$4 todo=$5 r
	shift 5
	r=$(e2e_gcmd "$s" frame "$@")
	case $r in
	sent*) L2_CHECKS+=("$o|$pat|$desc|$todo") ;;
	*) E2E_TAPDETAIL="netprobe frame $*: ${r:-no answer}" e2e_tap "$desc: the frame was sent" yes no ;;
	esac
}

# l2_control SENDER OBSERVER PATTERN DESCRIPTION EXPECT FRAME-ARGS...: SENDER (a guest, or
# host:BRIDGE) sends the frame; OBSERVER logs PATTERN within a generous deadline.
l2_control() {
	local s=$1 o=$2 pat=$3 desc=$4 expect=$5 r=sent
	shift 5
	case $s in
	host:*) e2e_host_frame "${s#host:}" "$@" || r=failed ;;
	*) r=$(e2e_gcmd "$s" frame "$@") ;;
	esac
	case $r in
	sent*) L2_CONTROLS+=("$o|$pat|$desc|$expect") ;;
	*) E2E_TAPDETAIL="netprobe frame $*: ${r:-no answer}" e2e_tap "control: $desc: the frame was sent" yes no ;;
	esac
}

# l2_intact DESCRIPTION TODO WANT GOT: an effect check (a table entry still WANT).
l2_intact() {
	local got=blocked
	[ "$3" = "$4" ] || got=ok
	E2E_TAPDETAIL="the entry is ${4:-missing}, should be $3" e2e_tap "$1$2" "$(e2e_want blocked)" "$got"
}

e2e_l2_checks() {
	local a1=${E2E_B4[a1]} a2=${E2E_B4[a2]} b1=${E2E_B4[b1]} a16=${E2E_B6[a1]} a26=${E2E_B6[a2]}
	local b16=${E2E_B6[b1]} m1=${E2E_BMAC[a1]} m2=${E2E_BMAC[a2]} mb=${E2E_BMAC[b1]} ll1 brmac
	local bcast=ff:ff:ff:ff:ff:ff fake=52:54:00:66:66:66 c o pat desc todo exp got seen obs
	local na=${E2E_BKNOWN_NA} n4 n6 g4 g6
	ll1=$(e2e_eui64 "$m1")
	brmac=$(ip -n "$E2E_NS_HOST" link show "$E2E_NAT_BR" | awk '/link\/ether/ {print $2}')

	# Preconditions: the victims' entries are in place, so that poisoning would show.
	ip netns exec "$E2E_NS_HOST" ping -c 1 -W 5 "$a2" >/dev/null 2>&1
	ip netns exec "$E2E_NS_HOST" ping -c 1 -W 5 "$a26" >/dev/null 2>&1
	n4=$(e2e_host_neigh "$E2E_NAT_BR" "$a2") n6=$(e2e_host_neigh "$E2E_NAT_BR" "$a26")
	g4=$(e2e_gcmd a2 neigh "$E2E_NAT4") g6=$(e2e_gcmd a2 neigh "$E2E_NAT6")
	e2e_tap "before the attacks: the host's neighbour entries for a2 are a2's MAC" "$m2 $m2" "${n4:-none} ${n6:-none}"
	e2e_tap "before the attacks: a2's neighbour entries for its gateway are virbr0's MAC" "$brmac $brmac" "${g4:-none} ${g6:-none}"

	e2e_log "layer-2 attacks: a1 ($m1) against a2 ($m2), the host and the bridge"
	l2_attack a1 a2 "kind=udp .* token=fmac4 " "a1 sends IPv4 from a made-up MAC $fake" "" udp "$fake" "$m2" "$a1" "$a2" 5555 fmac4
	l2_attack a1 a2 "kind=udp .* token=fmac6 " "a1 sends IPv6 from a made-up MAC $fake" "" udp "$fake" "$m2" "$a16" "$a26" 5555 fmac6
	l2_attack a1 a2 "kind=udp .* token=fdb4 " "a1 sends from b1's MAC $mb (bridge FDB poisoning)" "" udp "$mb" "$m2" "$a1" "$a2" 5555 fdb4
	l2_attack a1 a2 "kind=arp op=2 sha=$m1 spa=$E2E_NAT4 " "a1's gratuitous ARP reply claiming the gateway $E2E_NAT4" "" arp reply - "$E2E_NAT4" "$bcast" "$E2E_NAT4" "$bcast"
	l2_attack a1 a2 "kind=arp op=2 sha=$m1 spa=$a2 " "a1's gratuitous ARP reply claiming a2's $a2" "" arp reply - "$a2" "$bcast" "$a2" "$bcast"
	l2_attack a1 a2 "kind=arp op=1 sha=$m1 spa=$a2 " "a1's ARP request in a2's name ($a2 is at a1's MAC)" "" arp request - "$a2" 00:00:00:00:00:00 "$E2E_NAT4" "$bcast"
	l2_attack a1 a2 "kind=arp .* sha=$fake " "a1's ARP with a sender MAC not its own" "" arp reply "$fake" "$a1" "$bcast" "$a1" "$bcast"
	l2_attack a1 a2 "kind=na from=$ll1 target=$a26 " "a1's neighbour advertisement for a2's $a26 (from its link-local)" "$(e2e_bknown "$na")" na "$ll1" ff02::1 "$a26" -
	l2_attack a1 a2 "kind=na from=$a16 target=$a26 " "a1's neighbour advertisement for a2's $a26 (from its own address)" "$(e2e_bknown "$na")" na "$a16" ff02::1 "$a26" -
	l2_attack a1 a2 "kind=na from=$ll1 target=$E2E_NAT6 " "a1's neighbour advertisement for the gateway $E2E_NAT6" "$(e2e_bknown "$na")" na "$ll1" ff02::1 "$E2E_NAT6" -
	l2_attack a1 a2 "kind=ra .* src=$m1" "a1's router advertisement" "" ra
	l2_attack a1 a2 "kind=redirect6 .* src=$m1" "a1's ICMPv6 redirect to a2" "" redirect6 "$m2" "$a26" "$E2E_INET6"
	l2_attack a1 a2 "kind=redirect4 from=$a1 " "a1's ICMP redirect to a2" "" redirect4 "$m2" "$a1" "$a2" "$E2E_INET4"
	l2_attack a1 a2 "kind=dhcp-server .* xid=0xbad0ff01 " "a1's DHCP server OFFER (broadcast)" "" dhcp-offer "$a1" 0xbad0ff01
	l2_attack a1 a2 "kind=dhcp6-server .* xid=0xbad006 " "a1's DHCPv6 server ADVERTISE (to all nodes)" "" dhcp6-adv 0xbad006
	l2_attack a1 a2 "kind=ether type=0x88b5 token=ethatk " "a1's frame of ethertype 0x88b5 (broadcast)" "" ether 88b5 "$bcast" ethatk
	# b1 (tenant B) forges an ICMP error about a1's live flow to a2: conntrack calls it
	# related to that flow; it must still not cross tenants.
	got=$(e2e_gcmd a1 flow "$a2" 2222 40123)
	[ "${got%%_*}" = ok ] || e2e_log "a1's flow to a2 (IPv4) did not get a reply: $got"
	l2_attack b1 a1 "kind=icmp-err from=$b1 dport=2222 " "b1's forged ICMP error about a1's flow to a2 (related to it)" "" icmp-err "$m1" "$b1" "$a1" "$a1" "$a2" 40123 2222
	got=$(e2e_gcmd a1 flow "$a26" 2222 40124)
	[ "${got%%_*}" = ok ] || e2e_log "a1's flow to a2 (IPv6) did not get a reply: $got"
	l2_attack b1 a1 "kind=icmp-err from=$b16 dport=2222 " "b1's forged ICMPv6 error about a1's flow to a2 (related to it)" "" icmp-err "$m1" "$b16" "$a16" "$a16" "$a26" 40124 2222

	for obs in a2 a1; do e2e_barrier "$obs"; done
	for c in "${L2_CHECKS[@]}"; do
		IFS='|' read -r o pat desc todo <<<"$c"
		seen=blocked
		e2e_seen "$o" "$pat" && seen=ok
		E2E_TAPDETAIL="$o $([ $seen = ok ] && echo saw || echo did not see) it" e2e_tap "$desc: dropped before $o$todo" "$(e2e_want blocked)" "$seen"
	done
	l2_intact "the bridge still forwards b1's MAC to b1's port after a1 used it" "" \
		"$(e2e_bguest_tap b1)" "$(e2e_fdb_port "$E2E_NAT_BR" "$mb")"
	l2_intact "the host's neighbour entry for a2's $a2 is still a2's MAC" "" "$m2" "$(e2e_host_neigh "$E2E_NAT_BR" "$a2")"
	l2_intact "the host's neighbour entry for a2's $a26 is still a2's MAC" "$(e2e_bknown "$na")" "$m2" "$(e2e_host_neigh "$E2E_NAT_BR" "$a26")"
	l2_intact "a2's neighbour entry for the gateway $E2E_NAT4 is still virbr0's MAC" "" "$brmac" "$(e2e_gcmd a2 neigh "$E2E_NAT4")"
	l2_intact "a2's neighbour entry for the gateway $E2E_NAT6 is still virbr0's MAC" "$(e2e_bknown "$na")" "$brmac" "$(e2e_gcmd a2 neigh "$E2E_NAT6")"
	# Interception: whatever the neighbour tables now say (nwfilter cannot stop the
	# advertisements above), the host's traffic for a2 and a2's for the gateway never
	# reach a1's port. Tokens go to a port nobody serves: only a1's observer could log them.
	e2e_log "after the attacks: the host's entries for a2: $(e2e_host_neigh "$E2E_NAT_BR" "$a2") $(e2e_host_neigh "$E2E_NAT_BR" "$a26"); a2's for the gateway: $(e2e_gcmd a2 neigh "$E2E_NAT4") $(e2e_gcmd a2 neigh "$E2E_NAT6")"
	e2e_ns "$E2E_NS_HOST" "$E2E_NETPROBE" send udp "$a2" 5555 icpthost4 - 300 1 >/dev/null 2>&1
	e2e_ns "$E2E_NS_HOST" "$E2E_NETPROBE" send udp "$a26" 5555 icpthost6 - 300 1 >/dev/null 2>&1
	e2e_gcmd a2 flow "$E2E_INET4" 5555 40126 >/dev/null
	e2e_gcmd a2 flow "$E2E_INET6" 5555 40127 >/dev/null
	e2e_barrier a1
	for c in "host's IPv4 packet for a2|token=icpthost4 " "host's IPv6 packet for a2|token=icpthost6 " \
		"IPv4 packet a2 sends to the internet|from=$a2 token=flow" \
		"IPv6 packet a2 sends to the internet|from=$a26 token=flow"; do
		IFS='|' read -r desc pat <<<"$c"
		seen=blocked
		e2e_seen a1 "kind=udp .*$pat" && seen=ok
		E2E_TAPDETAIL="a1 $([ $seen = ok ] && echo saw || echo did not see) it" \
			e2e_tap "the $desc never reaches a1 after the poisoning attempts (no interception)" "$(e2e_want blocked)" "$seen"
	done

	# Controls: the same frames from a legitimate sender reach the observer.
	exp=ok
	l2_control a1 a2 "kind=udp .* token=ownmac4 " "a1's IPv4 from its own MAC reaches a2" ok udp - "$m2" "$a1" "$a2" 5555 ownmac4
	l2_control a1 a2 "kind=udp .* token=ownmac6 " "a1's IPv6 from its own MAC reaches a2" ok udp - "$m2" "$a16" "$a26" 5555 ownmac6
	l2_control a1 a2 "kind=arp op=2 sha=$m1 spa=$a1 " "a1's gratuitous ARP for its own $a1 reaches a2" ok arp reply - "$a1" "$bcast" "$a1" "$bcast"
	l2_control a1 a2 "kind=na from=$a16 target=$a16 " "a1's neighbour advertisement for its own $a16 reaches a2" ok na "$a16" ff02::1 "$a16" -
	l2_control "host:$E2E_NAT_BR" a2 "kind=ra .* prefix=2001:db8:bad:: src=$brmac" "the host's router advertisement (same tool) reaches a2" ok ra
	l2_control "host:$E2E_NAT_BR" a2 "kind=redirect6 .* src=$brmac" "the host's ICMPv6 redirect reaches a2" ok redirect6 "$m2" "$a26" "$E2E_INET6"
	l2_control "host:$E2E_NAT_BR" a2 "kind=redirect4 from=$E2E_NAT4 " "the host's ICMP redirect reaches a2" ok redirect4 "$m2" "$E2E_NAT4" "$a2" "$E2E_INET4"
	l2_control "host:$E2E_NAT_BR" a2 "kind=dhcp-server .* xid=0xc0de0001 " "the host's DHCP OFFER reaches a2" ok dhcp-offer "$E2E_NAT4" 0xc0de0001
	l2_control "host:$E2E_NAT_BR" a2 "kind=dhcp6-server .* xid=0xc0de06 " "the host's DHCPv6 ADVERTISE reaches a2" ok dhcp6-adv 0xc0de06
	# nwfilter drops other ethertypes both ways (no-other-l2-traffic): no control there.
	[ "$E2E_BMODE" = nwfilter ] && exp=blocked
	l2_control "host:$E2E_NAT_BR" a2 "kind=ether type=0x88b5 token=ethctl " "the host's frame of ethertype 0x88b5 reaches a2" $exp ether 88b5 "$bcast" ethctl
	got=$(e2e_gcmd a1 flow "$a2" 2222 40125)
	[ "${got%%_*}" = ok ] || e2e_log "a1's flow to a2 (IPv4) did not get a reply: $got"
	l2_control a2 a1 "kind=icmp-err from=$a2 dport=2222 " "a2's ICMP error about a1's flow to it reaches a1" ok icmp-err "$m1" "$a2" "$a1" "$a1" "$a2" 40125 2222
	for c in "${L2_CONTROLS[@]}"; do
		IFS='|' read -r o pat desc exp <<<"$c"
		seen=blocked
		if [ "$exp" = ok ]; then
			e2e_wait_for 30 e2e_seen "$o" "$pat" && seen=ok
		else
			e2e_barrier "$o"
			e2e_seen "$o" "$pat" && seen=ok
		fi
		e2e_tap "control: $desc" "$exp" "$seen"
	done
}
