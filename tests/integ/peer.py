#!/usr/bin/env python3
"""Traffic and listeners for the integration tests (run inside namespaces).

  peer.py udp-echo ADDR PORT                 echo every datagram back
  peer.py udp-query SRC SPORT DST DPORT N    N queries from SRC:SPORT, one
                                             at a time; prints answers got
  peer.py ping DST N IDENT                   N ICMP echo requests (raw
                                             socket, id IDENT, 0.2 s apart);
                                             prints replies got
  peer.py notify-listen PATH OUT SECS        AF_UNIX datagram listener (an
                                             sd_notify socket): each datagram
                                             as one line "SECS.NS<TAB>text"
                                             (newlines as |) to OUT; ends on
                                             STOPPING=1 or after SECS

Every wait is bounded; nothing here talks to anything but the addresses it
is given.
"""
import os
import socket
import struct
import sys
import time


def udp_echo(addr, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, int(port)))
    while True:
        data, peer = s.recvfrom(65535)
        s.sendto(data, peer)


def udp_query(src, sport, dst, dport, n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, int(sport)))
    s.settimeout(1.0)
    got = 0
    for i in range(int(n)):
        q = struct.pack("!HH", 0x1000 + i, 0x0100) + b"\x00" * 8 + \
            b"\x07example\x03com\x00\x00\x01\x00\x01"
        s.sendto(q, (dst, int(dport)))
        try:
            data, _ = s.recvfrom(65535)
            got += data == q
        except socket.timeout:
            pass
    print(got)


def csum(b):
    if len(b) % 2:
        b += b"\x00"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def ping(dst, n, ident):
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    ident = int(ident) & 0xffff
    got = 0
    for seq in range(int(n)):
        payload = b"sensord-test-%04d" % seq
        hdr = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
        pkt = struct.pack("!BBHHH", 8, 0, csum(hdr + payload), ident, seq) \
            + payload
        s.sendto(pkt, (dst, 0))
        end = time.monotonic() + 1.0
        while time.monotonic() < end:
            s.settimeout(max(0.01, end - time.monotonic()))
            try:
                data, _ = s.recvfrom(65535)
            except socket.timeout:
                break
            ihl = (data[0] & 0x0f) * 4
            t, _c, _s, i, q = struct.unpack("!BBHHH", data[ihl:ihl + 8])
            if t == 0 and i == ident and q == seq:
                got += 1
                break
        time.sleep(0.2)
    print(got)


def notify_listen(path, out, secs):
    if path.startswith("@"):
        path = "\0" + path[1:]          # abstract, as sd_notify(3) says
    else:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    end = time.monotonic() + float(secs)
    with open(out, "a", buffering=1) as f:
        while time.monotonic() < end:
            s.settimeout(max(0.01, end - time.monotonic()))
            try:
                data = s.recv(4096)
            except socket.timeout:
                break
            text = data.decode("utf-8", "replace")
            f.write("%.6f\t%s\n" % (time.time(), text.replace("\n", "|")))
            if "STOPPING=1" in text.split("\n"):
                break


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    {"udp-echo": udp_echo, "udp-query": udp_query, "ping": ping,
     "notify-listen": notify_listen}[cmd](*args)


if __name__ == "__main__":
    main()
