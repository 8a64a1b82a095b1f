# Crafted frames for tests/netns/bridge-proto.sh: what a hostile guest (or a LAN
# host on an uplink port) sends on its eth0. Run inside a namespace with Debian's
# python3 and python3-scapy: bridge-proto-l2.py KIND ARG... [-- KIND ARG...]
import sys
import time

from scapy.all import (ARP, BOOTP, DHCP, ICMP, IP, UDP, Dot1Q, Ether, ICMPv6ND_NA, ICMPv6ND_NS,
                       ICMPv6ND_RA, ICMPv6ND_Redirect, ICMPv6NDOptDstLLAddr,
                       ICMPv6NDOptPrefixInfo, ICMPv6NDOptSrcLLAddr, IPv6, Raw, conf,
                       get_if_hwaddr, in6_getnsma, in6_getnsmac, inet_pton, sendp)
from scapy.layers.dhcp6 import DHCP6_Advertise, DHCP6OptClientId, DHCP6OptServerId, DUID_LL
import socket

conf.verb = 0
IFACE = "eth0"
BCAST = "ff:ff:ff:ff:ff:ff"
mac = get_if_hwaddr(IFACE)


def lladdr(m):
    b = bytes.fromhex(m.replace(":", ""))
    eui = bytes([b[0] ^ 2]) + b[1:3] + b"\xff\xfe" + b[3:]
    return socket.inet_ntop(socket.AF_INET6, b"\xfe\x80" + b"\0" * 6 + eui)


def send(frame, count=3):
    sendp(frame, iface=IFACE, count=count, inter=0.05)


def one(kind, args):
    if kind == "udp-mac":
        # udp-mac SRCMAC DSTMAC SRCIP DSTIP PORT TOKEN: a datagram from any MAC/IP we like
        src_mac, dst_mac, src, dst, port, token = args
        l3 = IPv6(src=src, dst=dst) if ":" in dst else IP(src=src, dst=dst)
        send(Ether(src=src_mac, dst=dst_mac) / l3 / UDP(sport=40000, dport=int(port)) / Raw(token.encode()))
    elif kind == "arp-reply":
        # arp-reply CLAIMED-IP [SENDER-MAC]: gratuitous reply "CLAIMED-IP is at SENDER-MAC", broadcast
        claimed = args[0]
        sha = args[1] if len(args) > 1 else mac
        send(Ether(src=mac, dst=BCAST) / ARP(op=2, hwsrc=sha, psrc=claimed, hwdst=BCAST, pdst=claimed))
    elif kind == "arp-request":
        # arp-request CLAIMED-IP TARGET-IP: a request whose sender is someone else's address
        claimed, target = args
        send(Ether(src=mac, dst=BCAST) / ARP(op=1, hwsrc=mac, psrc=claimed, pdst=target))
    elif kind == "arp-probe":
        # arp-probe TARGET-IP: RFC 5227 probe (sender 0.0.0.0), as DHCP clients do
        send(Ether(src=mac, dst=BCAST) / ARP(op=1, hwsrc=mac, psrc="0.0.0.0", pdst=args[0]))
    elif kind == "na":
        # na TARGET [SOURCE]: unsolicited override "TARGET is at my MAC" to all nodes
        target = args[0]
        src = args[1] if len(args) > 1 else lladdr(mac)
        send(Ether(src=mac, dst="33:33:00:00:00:01") / IPv6(src=src, dst="ff02::1", hlim=255) /
             ICMPv6ND_NA(tgt=target, R=0, S=0, O=1) / ICMPv6NDOptDstLLAddr(lladdr=mac))
    elif kind == "ns":
        # ns SOURCE TARGET: a neighbour solicitation (SOURCE :: is duplicate address detection)
        src, target = args
        nsma = in6_getnsma(inet_pton(socket.AF_INET6, target))
        dst = socket.inet_ntop(socket.AF_INET6, nsma)
        pkt = IPv6(src=src, dst=dst, hlim=255) / ICMPv6ND_NS(tgt=target)
        if src != "::":
            pkt = pkt / ICMPv6NDOptSrcLLAddr(lladdr=mac)
        send(Ether(src=mac, dst=in6_getnsmac(nsma)) / pkt)
    elif kind == "ra":
        # ra: a default router with a prefix for autoconfiguration
        send(Ether(src=mac, dst="33:33:00:00:00:01") / IPv6(src=lladdr(mac), dst="ff02::1", hlim=255) /
             ICMPv6ND_RA(routerlifetime=1800) / ICMPv6NDOptSrcLLAddr(lladdr=mac) /
             ICMPv6NDOptPrefixInfo(prefix="2001:db8:bad::", prefixlen=64, L=1, A=1,
                                   validlifetime=86400, preferredlifetime=14400))
    elif kind == "redirect6":
        # redirect6 VICTIM-MAC VICTIM-ADDR DEST: "reach DEST through me"
        vmac, victim, dest = args
        inner = IPv6(src=victim, dst=dest) / UDP(sport=1, dport=2)
        send(Ether(src=mac, dst=vmac) / IPv6(src=lladdr(mac), dst=victim, hlim=255) /
             ICMPv6ND_Redirect(tgt=lladdr(mac), dst=dest) / ICMPv6NDOptDstLLAddr(lladdr=mac))
    elif kind == "redirect4":
        # redirect4 VICTIM-MAC VICTIM-IP MY-IP DEST: ICMP redirect "host DEST via MY-IP"
        vmac, victim, me, dest = args
        send(Ether(src=mac, dst=vmac) / IP(src=me, dst=victim) / ICMP(type=5, code=1, gw=me) /
             IP(src=victim, dst=dest) / UDP(sport=1, dport=2))
    elif kind == "dhcp-offer":
        # dhcp-offer SERVER-IP: a rogue server's OFFER, broadcast
        server = args[0]
        send(Ether(src=mac, dst=BCAST) / IP(src=server, dst="255.255.255.255") / UDP(sport=67, dport=68) /
             BOOTP(op=2, xid=0x1234, yiaddr="192.168.122.99", siaddr=server, chaddr=b"\x52\x54\0\0\x01\x02") /
             DHCP(options=[("message-type", "offer"), ("server_id", server), ("router", server), "end"]))
    elif kind == "dhcp-discover":
        # dhcp-discover CHADDR: a client's DISCOVER from 0.0.0.0 on behalf of any hardware address
        chaddr = bytes.fromhex(args[0].replace(":", ""))
        send(Ether(src=mac, dst=BCAST) / IP(src="0.0.0.0", dst="255.255.255.255") / UDP(sport=68, dport=67) /
             BOOTP(op=1, xid=0x5678, flags=0x8000, chaddr=chaddr) /
             DHCP(options=[("message-type", "discover"), "end"]))
    elif kind == "dhcp6-advertise":
        # dhcp6-advertise VICTIM-MAC [all]: a rogue DHCPv6 server's ADVERTISE to the victim's
        # link-local address, or to all nodes (every client's socket on [::]:546 gets it)
        vmac = args[0]
        l2dst, l3dst = (vmac, lladdr(vmac)) if len(args) < 2 else ("33:33:00:00:00:01", "ff02::1")
        send(Ether(src=mac, dst=l2dst) / IPv6(src=lladdr(mac), dst=l3dst) / UDP(sport=547, dport=546) /
             DHCP6_Advertise(trid=0x1234) / DHCP6OptServerId(duid=DUID_LL(lladdr=mac)) /
             DHCP6OptClientId(duid=DUID_LL(lladdr=vmac)))
    elif kind == "ethertype":
        # ethertype TYPE: a broadcast frame of any ethertype (hex)
        send(Ether(src=mac, dst=BCAST, type=int(args[0], 16)) / Raw(b"x" * 46))
    elif kind == "vlan":
        # vlan MY-IP: an IPv4 broadcast inside an 802.1Q tag
        send(Ether(src=mac, dst=BCAST) / Dot1Q(vlan=5) / IP(src=args[0], dst="192.168.122.255") /
             UDP(sport=40000, dport=5555) / Raw(b"vlan"))
    elif kind == "dhcp6-solicit":
        # dhcp6-solicit: a DHCPv6 client's SOLICIT from the link-local address; exit 0 on an ADVERTISE
        from scapy.layers.dhcp6 import DHCP6_Solicit, DHCP6OptIA_NA, DHCP6OptElapsedTime
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((lladdr(mac), 546, 0, socket.if_nametoindex(IFACE)))
        s.settimeout(1.0)
        msg = bytes(DHCP6_Solicit(trid=0x4242) / DHCP6OptClientId(duid=DUID_LL(lladdr=mac)) /
                    DHCP6OptIA_NA(iaid=1) / DHCP6OptElapsedTime())
        for _ in range(5):
            s.sendto(msg, ("ff02::1:2", 547, 0, socket.if_nametoindex(IFACE)))
            try:
                data, _ = s.recvfrom(2048)
                if data and data[0] == 2:  # ADVERTISE
                    sys.exit(0)
            except socket.timeout:
                pass
        sys.exit(1)
    else:
        sys.exit(f"unknown kind {kind}")


# KIND ARG... [-- KIND ARG...]: several frames from one process (scapy loads once)
commands, cur = [], []
for a in sys.argv[1:] + ["--"]:
    if a == "--":
        if cur:
            commands.append(cur)
        cur = []
    else:
        cur.append(a)
for c in commands:
    one(c[0], c[1:])
