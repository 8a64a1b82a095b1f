#!/bin/bash
# Cost per packet of the bridged-guest prototype (doc/bridged-design.md): ping floods
# between two guests of one bridge and from a guest to the internet (masqueraded), with
# no tables, with the prototype's 8 guests, and with 10,000 more guests' elements in 100
# more tenants. Prints the figures as TAP diagnostics.
set -u
. "$top_srcdir/tests/netns/lib-bridge.sh"
bridge_topology_up
wait_ports
ok "the skeleton of both tables loads" load true true
# ================= cost per packet with 10,000 more guests =================
diag "cost per packet: ping floods before and after 10,000 more guests' elements"
flood() { # flood NS ADDR: "avg-rtt-us, packets/s" of a 100,000-ping flood
	in_ns "$1" ping -q -f -c 100000 "$2" | awk -F'[ /=,]+' '
		/packets transmitted/ { for (i = 1; i <= NF; i++) if ($i ~ /ms$/) t = $i + 0 }
		/^rtt/ { avg = $7 } END { printf "%.1f us avg rtt, %d pings/s", avg * 1000, t ? 100000000 / t : 0 }'
}
floods() { # floods LABEL: both floods, three rounds
	local i
	for i in 1 2 3; do
		diag "$1, round $i: a1->a2 (bridge) $(flood "$A1" 192.168.122.12); a1->internet (NAT) $(flood "$A1" 198.51.100.2)"
	done
}
in_ns "$H" nft delete table bridge blixard
in_ns "$H" nft delete table inet blixard
floods "no blixard tables"
load true true
floods "8 guests"
/usr/bin/python3 - "$WORK/many.nft" <<'EOP'
import ipaddress, sys
out = open(sys.argv[1], "w")
w = out.write
for t in range(100):
    w(f"add set inet blixard tenant-p{t}-ifs {{ type ifname; }}\n")
    w(f"add set inet blixard tenant-p{t}-v4 {{ type ifname . ipv4_addr; }}\n")
    w(f"add set inet blixard tenant-p{t}-v6 {{ type ifname . ipv6_addr; }}\n")
    w(f"add chain inet blixard tenant-p{t}\n")
    w(f"add rule inet blixard tenant-p{t} oifname @tenant-p{t}-ifs accept\n")
    w(f"add rule inet blixard tenant-p{t} oifname . ip daddr @tenant-p{t}-v4 accept\n")
    w(f"add rule inet blixard tenant-p{t} oifname . ip6 daddr @tenant-p{t}-v6 accept\n")
    w(f"add set bridge blixard tenant-p{t}-ifs {{ type ifname; }}\n")
    w(f"add chain bridge blixard tenant-p{t}\n")
    w(f"add rule bridge blixard tenant-p{t} oifname @tenant-p{t}-ifs accept\n")
for g in range(10000):
    tap, t = f"vnet{1000 + g}", f"p{g % 100}"
    mac = "52:54:01:%02x:%02x:%02x" % (g >> 16, (g >> 8) & 255, g & 255)
    v4 = ipaddress.IPv4Address("10.100.0.0") + g
    v6 = ipaddress.IPv6Address("fd00:999::") + g
    n6 = hex(int(v6))
    w(f'add element bridge blixard guest_ifs {{ "{tap}" }}\n')
    w(f'add element bridge blixard guest_drops {{ "{tap}" }}\n')
    w(f'add element bridge blixard guest_mac {{ "{tap}" . {mac} }}\n')
    w(f'add element bridge blixard guest_tenant {{ "{tap}" : jump tenant-{t} }}\n')
    w(f'add element bridge blixard tenant-{t}-ifs {{ "{tap}" }}\n')
    w(f'add element bridge blixard guest_src_v4 {{ "{tap}" . {v4} }}\n')
    w(f'add element bridge blixard guest_src_v6 {{ "{tap}" . {v6} }}\n')
    w(f'add element bridge blixard owned_v4 {{ {v4} }}\n')
    w(f'add element bridge blixard owned_v6 {{ {v6} }}\n')
    w(f'add element bridge blixard nd_target_v6 {{ "{tap}" . {n6} }}\n')
    w(f'add element bridge blixard owned_nd_v6 {{ {n6} }}\n')
    for f, a in (("v4", v4), ("v6", v6)):
        w(f'add element inet blixard guest_src_{f} {{ "virbr0" . {a} }}\n')
        w(f'add element inet blixard addr_owner_{f} {{ {a} : "{tap}" }}\n')
        w(f'add element inet blixard guest_tenant_{f} {{ "virbr0" . {a} : jump tenant-{t} }}\n')
        w(f'add element inet blixard tenant-{t}-{f} {{ "virbr0" . {a} }}\n')
        w(f'add element inet blixard guest_drops_{f} {{ "virbr0" . {a} }}\n')
EOP
t0=$(date +%s.%N)
ok "10,000 more bridged guests' elements load" in_ns "$H" nft -f "$WORK/many.nft"
t1=$(date +%s.%N)
diag "loading 10,000 guests (one nft -f): $(awk "BEGIN { printf \"%.1f\", $t1 - $t0 }") s"
floods "10,008 guests in 102 tenants"
t0=$(date +%s.%N)
ok "one more guest's event at 10,008 guests" bridged_event add b1 192.168.122.13 fd00:122::13
t1=$(date +%s.%N)
diag "one event with the nft CLI at 10,008 guests: $(awk "BEGIN { printf \"%.2f\", $t1 - $t0 }") s"
ok "a1 still reaches a2" tcp "$A1" 192.168.122.12 9000
fails "a1 still does not reach b1" tcp "$A1" 192.168.122.13 9000

done_testing
