#!/usr/bin/env python3
"""A tiny authoritative DNS server over UDP for the resolver tests.

Usage: dns_server.py LISTEN_IP RECORD...
where each RECORD is NAME,TYPE,ADDRESS,DELAY_MS (TYPE is A or AAAA). A
question for a name with records of another type only is answered with no
records (NODATA); a name not listed gets NXDOMAIN. Each question is answered
on its own thread after the delay of its records, so a slow AAAA answer does
not hold back the A answer. Prints "ready PORT" once listening, then
"query NAME TYPE" for each question, to stdout.
"""

import socket
import struct
import sys
import threading
import time

TYPES = {"A": 1, "AAAA": 28}
NAMES = {v: k for k, v in TYPES.items()}
out_lock = threading.Lock()


def say(line):
    with out_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def parse_question(packet):
    labels, pos = [], 12
    while True:
        length = packet[pos]
        pos += 1
        if length == 0:
            break
        labels.append(packet[pos:pos + length].decode("ascii").lower())
        pos += length
    qtype, qclass = struct.unpack("!HH", packet[pos:pos + 4])
    return ".".join(labels), qtype, qclass, pos + 4


def answer(sock, packet, peer, records):
    try:
        name, qtype, qclass, end = parse_question(packet)
    except (IndexError, UnicodeDecodeError, struct.error):
        return
    say("query %s %s" % (name, NAMES.get(qtype, qtype)))
    (ident, flags) = struct.unpack("!HH", packet[:4])
    entries = records.get(name)
    matching = [r for r in (entries or []) if r[0] == qtype]
    delay = max([r[2] for r in matching], default=0)
    if delay:
        time.sleep(delay / 1000.0)
    rcode = 3 if entries is None else 0
    reply_flags = 0x8000 | 0x0400 | (flags & 0x0100) | 0x0080 | rcode
    header = struct.pack("!HHHHHH", ident, reply_flags, 1, len(matching), 0, 0)
    body = packet[12:end]
    for rtype, data, _ in matching:
        body += struct.pack("!HHHIH", 0xC00C, rtype, 1, 1, len(data)) + data
    sock.sendto(header + body, peer)


def main():
    listen = sys.argv[1]
    records = {}
    for spec in sys.argv[2:]:
        name, rtype, addr, delay = spec.split(",")
        family = socket.AF_INET if rtype == "A" else socket.AF_INET6
        data = socket.inet_pton(family, addr)
        records.setdefault(name.lower(), []).append((TYPES[rtype], data, int(delay)))
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((listen, 53))
    say("ready %d" % sock.getsockname()[1])
    while True:
        packet, peer = sock.recvfrom(4096)
        threading.Thread(target=answer, args=(sock, packet, peer, records), daemon=True).start()


if __name__ == "__main__":
    main()
