#!/usr/bin/env python3
# Traffic for the attack tests (tests/netns/attack-*.sh): long-running UDP and
# TCP peers that log what they receive, raw-socket senders for forged TCP
# segments, TTL-limited and oversized datagrams and ICMP errors, and counters
# of ICMP errors. Standard library only; every command runs in one namespace.
import os
import select
import socket
import struct
import sys
import threading
import time


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def log_line(path, text):
    with open(path, "a") as f:
        f.write(text + "\n")


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def pseudo_header(src, dst, proto, length):
    if ":" in src:
        return (socket.inet_pton(socket.AF_INET6, src) + socket.inet_pton(socket.AF_INET6, dst)
                + struct.pack("!IxxxB", length, proto))
    return socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!xBH", proto, length)


def plain(addr):
    # A dual-stack socket names IPv4 peers ::ffff:a.b.c.d
    return addr[7:] if addr.startswith("::ffff:") else addr


def ready(path):
    # Tells the shell that sockets are bound (it polls for the file).
    open(path, "w").close()


# ---- UDP ----

def udp_peer(bind, port, logfile, every_ms, readyfile):
    """Logs every datagram ("SRC SPORT PAYLOAD"); every EVERY_MS sends
    "reply N" to every peer it ever heard from (0: never)."""
    s = socket.socket(family(bind), socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((bind, int(port)))
    ready(readyfile)
    peers, n, every = set(), 0, int(every_ms) / 1000.0
    nxt = time.monotonic()
    while True:
        timeout = max(0.0, nxt - time.monotonic()) if every else None
        if select.select([s], [], [], timeout)[0]:
            data, addr = s.recvfrom(65535)
            log_line(logfile, f"{plain(addr[0])} {addr[1]} {data.decode(errors='replace').strip()}")
            peers.add(addr[:2])
        if every and time.monotonic() >= nxt:
            n += 1
            for p in peers:
                try:
                    s.sendto(f"reply {n}".encode(), p)
                except OSError:
                    pass
            nxt = time.monotonic() + every


def udp_stream(src, sport, dst, dport, logfile, every_ms, readyfile):
    """Sends "req N" from SRC:SPORT to DST:DPORT every EVERY_MS and logs
    what comes back, until killed. Send errors (no route) are ignored."""
    s = socket.socket(family(src), socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((src, int(sport)))
    ready(readyfile)
    n, every = 0, int(every_ms) / 1000.0
    nxt = time.monotonic()
    while True:
        if select.select([s], [], [], max(0.0, nxt - time.monotonic()))[0]:
            try:
                data, addr = s.recvfrom(65535)
                log_line(logfile, f"{addr[0]} {addr[1]} {data.decode(errors='replace').strip()}")
            except OSError:
                pass
        if time.monotonic() >= nxt:
            n += 1
            try:
                s.sendto(f"req {n}".encode(), (dst, int(dport)))
            except OSError:
                pass
            nxt = time.monotonic() + every


def udp_send(src, sport, dst, dport, payload, count):
    s = socket.socket(family(src), socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((src, int(sport)))
    for _ in range(int(count)):
        try:
            s.sendto(payload.encode(), (dst, int(dport)))
        except OSError:
            pass
        time.sleep(0.01)


# ---- TCP ----

def _tcp_conn(conn, logfile, trigger, name, answered):
    """Logs what the peer sends; answers "ok" once unless ANSWERED; sends
    the contents of TRIGGER each time the file changes (its text carries a
    counter)."""
    sent = None
    conn.setblocking(False)
    while True:
        r = select.select([conn], [], [], 0.05)[0]
        if r:
            try:
                data = conn.recv(65535)
            except OSError as e:
                log_line(logfile, f"{name} error {e.errno}")
                return
            if not data:
                log_line(logfile, f"{name} closed")
                return
            for line in data.decode(errors="replace").splitlines():
                log_line(logfile, f"{name} got {line}")
            if not answered:
                answered = True
                try:
                    conn.send(b"ok\n")
                except OSError:
                    pass
        try:
            with open(trigger) as f:
                text = f.read()
        except OSError:
            text = None
        if text and text != sent:
            sent = text
            try:
                conn.send(text.encode())
                log_line(logfile, f"{name} sent {text.strip()}")
            except OSError as e:
                log_line(logfile, f"{name} send-error {e.errno}")


def tcp_server(port, logfile, trigger, readyfile):
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", int(port)))
    s.listen(16)
    ready(readyfile)
    while True:
        conn, addr = s.accept()
        name = f"{plain(addr[0])}:{addr[1]}"
        log_line(logfile, f"{name} accepted")
        threading.Thread(target=_tcp_conn, args=(conn, logfile, trigger, name, False), daemon=True).start()


def tcp_client(src, sport, dst, dport, logfile, trigger):
    """Connects from SRC:SPORT, sends "hello", then like the server's side."""
    s = socket.socket(family(src), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((src, int(sport)))
    s.settimeout(4)
    try:
        s.connect((dst, int(dport)))
    except OSError as e:
        log_line(logfile, f"connect error {e.errno}")
        return
    log_line(logfile, "connected")
    s.send(b"hello\n")
    _tcp_conn(s, logfile, trigger, "client", True)


def tcp_sniff(ifname, src, sport, dst, dport, out):
    """Writes "seq ack len flags" for every TCP segment SRC:SPORT -> DST:DPORT
    that reaches IFNAME (AF_PACKET: sees it before the namespace's own
    firewall and stack)."""
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    s.bind((ifname, 0))
    v6 = ":" in src
    want_src = socket.inet_pton(family(src), src)
    want_dst = socket.inet_pton(family(dst), dst)
    ready(out + ".ready")
    while True:
        frame = s.recv(65535)
        etype = struct.unpack("!H", frame[12:14])[0]
        p = frame[14:]
        if v6:
            if etype != 0x86DD or len(p) < 60 or p[6] != 6:
                continue
            if p[8:24] != want_src or p[24:40] != want_dst:
                continue
            tcp, length = p[40:], struct.unpack("!H", p[4:6])[0]
        else:
            if etype != 0x0800 or len(p) < 40 or p[9] != 6:
                continue
            if p[12:16] != want_src or p[16:20] != want_dst:
                continue
            ihl = (p[0] & 15) * 4
            tcp, length = p[ihl:], struct.unpack("!H", p[2:4])[0] - ihl
        sp, dp, seq, ack, off = struct.unpack("!HHIIB", tcp[:13])
        if sp != int(sport) or dp != int(dport):
            continue
        datalen = length - (off >> 4) * 4
        log_line(out, f"{seq} {ack} {datalen} {tcp[13]}")


def tcp_inject(src, sport, dst, dport, seq, ack, payload, count):
    """A segment with PSH|ACK from SRC:SPORT, as if the connection's own."""
    data = payload.encode()
    head = struct.pack("!HHIIBBHHH", int(sport), int(dport), int(seq), int(ack), 5 << 4, 0x18,
                       65535, 0, 0)
    c = csum(pseudo_header(src, dst, 6, len(head) + len(data)) + head + data)
    seg = head[:16] + struct.pack("!H", c) + head[18:] + data
    s = socket.socket(family(src), socket.SOCK_RAW, socket.IPPROTO_TCP)
    s.bind((src, 0))
    for _ in range(int(count)):
        s.sendto(seg, (dst, 0))
        time.sleep(0.02)


# ---- ICMP ----

def send_limited(src, dst, dport, ttl, size, count):
    """UDP datagrams of SIZE bytes (IP header included) from SRC (which the
    namespace must hold) with TTL / hop limit TTL, never fragmented."""
    v6 = ":" in src
    s = socket.socket(family(src), socket.SOCK_DGRAM)
    s.bind((src, 0))
    if v6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, int(ttl))
        s.setsockopt(socket.IPPROTO_IPV6, 23, 3)  # IPV6_MTU_DISCOVER: IPV6_PMTUDISC_PROBE
        payload = max(0, int(size) - 48)
    else:
        s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, int(ttl))
        s.setsockopt(socket.IPPROTO_IP, 10, 3)  # IP_MTU_DISCOVER: IP_PMTUDISC_PROBE (DF set)
        payload = max(0, int(size) - 28)
    for _ in range(int(count)):
        try:
            s.sendto(b"x" * payload, (dst, int(dport)))
        except OSError:
            pass
        time.sleep(0.01)


ICMP4_ERRORS = {3, 4, 5, 11, 12}


def icmp_count(fam, ports, stopfile, out):
    """Counts ICMP errors whose quoted packet has a UDP/TCP source or
    destination port in PORTS ("LOW-HIGH" or one port); OUT always holds
    the count so far. Ends 0.3 s after STOPFILE exists."""
    lo, _, hi = ports.partition("-")
    lo, hi = int(lo), int(hi or lo)
    if fam == "6":
        s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)

    def write(n):
        with open(out + ".tmp", "w") as f:
            f.write(f"{n}\n")
        os.rename(out + ".tmp", out)

    n, end = 0, None
    write(n)
    ready(out + ".ready")
    while end is None or time.monotonic() < end:
        if end is None and os.path.exists(stopfile):
            end = time.monotonic() + 0.3
        if not select.select([s], [], [], 0.05)[0]:
            continue
        b = s.recv(65535)
        if fam == "6":
            if len(b) < 52 or b[0] >= 128:
                continue
            ports_seen = b[48:52]
        else:
            b = b[(b[0] & 15) * 4:]
            if len(b) < 12 or b[0] not in ICMP4_ERRORS:
                continue
            ihl = (b[8] & 15) * 4
            ports_seen = b[8 + ihl:12 + ihl]
        if len(ports_seen) == 4 and any(lo <= p <= hi for p in struct.unpack("!HH", ports_seen)):
            n += 1
            write(n)
    write(n)
    open(out + ".done", "w").close()


def icmp_forge(src, dst, kind, isrc, idst, sport, dport, count):
    """KIND port-unreach or too-big (frag-needed, MTU 1000 / 1280) from SRC
    to DST, quoting a UDP packet ISRC:SPORT -> IDST:DPORT."""
    l4 = struct.pack("!HHHH", int(sport), int(dport), 8, 0)
    if ":" in dst:
        inner = struct.pack("!IHBB16s16s", 0x60000000, 8, 17, 64,
                            socket.inet_pton(socket.AF_INET6, isrc),
                            socket.inet_pton(socket.AF_INET6, idst)) + l4
        if kind == "too-big":
            msg = struct.pack("!BBHI", 2, 0, 0, 1280) + inner
        else:
            msg = struct.pack("!BBHI", 1, 4, 0, 0) + inner
        # The kernel fills in the ICMPv6 checksum of a raw ICMPv6 socket.
        s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    else:
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28, 1, 0x4000, 64, 17, 0,
                         socket.inet_aton(isrc), socket.inet_aton(idst))
        inner = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:] + l4
        if kind == "too-big":
            head = struct.pack("!BBHHH", 3, 4, 0, 0, 1000)
        else:
            head = struct.pack("!BBHI", 3, 3, 0, 0)
        msg = head[:2] + struct.pack("!H", csum(head + inner)) + head[4:] + inner
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    s.bind((src, 0))
    for _ in range(int(count)):
        s.sendto(msg, (dst, 0))
        time.sleep(0.01)


def udp_connected(src, sport, dst, dport, out, every_ms):
    """A connected UDP socket that sends "x" every EVERY_MS (keeping its
    conntrack entry alive) and appends every pending socket error to OUT."""
    s = socket.socket(family(src), socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((src, int(sport)))
    s.connect((dst, int(dport)))
    every = int(every_ms) / 1000.0
    ready(out + ".ready")
    nxt = time.monotonic()
    while True:
        if time.monotonic() >= nxt:
            try:
                s.send(b"x")
            except OSError as e:
                log_line(out, os.strerror(e.errno))
            nxt = time.monotonic() + every
        time.sleep(0.02)
        err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err:
            log_line(out, os.strerror(err))


COMMANDS = {
    "udp-peer": udp_peer,
    "udp-stream": udp_stream,
    "udp-send": udp_send,
    "tcp-server": tcp_server,
    "tcp-client": tcp_client,
    "tcp-sniff": tcp_sniff,
    "tcp-inject": tcp_inject,
    "send-limited": send_limited,
    "icmp-count": icmp_count,
    "icmp-forge": icmp_forge,
    "udp-connected": udp_connected,
}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit("usage: attack-probe.py " + "|".join(sorted(COMMANDS)) + " ARGS...")
    COMMANDS[sys.argv[1]](*sys.argv[2:])
