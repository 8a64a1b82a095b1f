#!/usr/bin/env python3
# The two ends of bench/flush-leak.sh. "send RATE SECONDS ADDR:PORT...": one
# UDP datagram to every destination RATE times a second, each carrying its
# sequence number and CLOCK_MONOTONIC send time (one clock for every namespace
# of the machine). "recv PORT FILE": appends "SEQ SEND_NS RECV_NS" per datagram
# received, IPv4 and IPv6, until killed.
import socket
import struct
import sys
import time

FMT = "!QQ"


def send(rate, seconds, dests):
    socks = []
    for d in dests:
        addr, port = d.rsplit(":", 1)
        addr = addr.strip("[]")
        fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.setblocking(False)
        socks.append((s, (addr, int(port))))
    step = 1_000_000_000 // rate
    t0 = time.monotonic_ns()
    end = t0 + int(seconds * 1e9)
    i = 0
    while True:
        due = t0 + i * step
        now = time.monotonic_ns()
        if due > now:
            time.sleep((due - now) / 1e9)
        if due >= end:
            break
        payload = struct.pack(FMT, i, time.monotonic_ns())
        for s, dest in socks:
            try:
                s.sendto(payload, dest)
            except OSError:
                pass  # no route or a full queue: that datagram is lost
        i += 1
    print(i)


def recv(port, path):
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("::", port))
    with open(path, "a", buffering=1) as out:
        while True:
            data = s.recv(64)
            if len(data) >= struct.calcsize(FMT):
                seq, sent = struct.unpack_from(FMT, data)
                out.write(f"{seq} {sent} {time.monotonic_ns()}\n")


if sys.argv[1] == "send":
    send(int(sys.argv[2]), float(sys.argv[3]), sys.argv[4:])
else:
    recv(int(sys.argv[2]), sys.argv[3])
