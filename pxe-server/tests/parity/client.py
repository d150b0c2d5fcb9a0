# The client side of tests/dnsmasq_parity.rs, run inside the client's
# network namespace: each request is sent as a raw Ethernet frame (so a
# client with no address really sends from 0.0.0.0, and one with an address
# from it), and every DHCP reply that comes back for its xid is captured
# from the wire with its Ethernet and IP destination -- including frames
# unicast to a MAC or an address this namespace does not own.
#
# argv: interface, server MAC (aa:bb:..), window in seconds.
# stdin: one request per line: "SRC_IP DST_IP SRC_PORT DST_PORT HEX".
# stdout: one line per request: "-" (no reply) or the replies joined by
# " ", each "ETH_DST,IP_DST,UDP_DST_PORT,HEX".
import select
import socket
import struct
import sys
import time

iface, server_mac, window = sys.argv[1], sys.argv[2], float(sys.argv[3])
BROADCAST = b"\xff" * 6
server_mac = bytes.fromhex(server_mac.replace(":", ""))

s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
s.bind((iface, 0))
own_mac = s.getsockname()[4]


def checksum(b):
    if len(b) % 2:
        b += b"\0"
    total = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def frame(src, dst, sport, dport, payload):
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    eth_dst = BROADCAST if dst == "255.255.255.255" else server_mac
    return eth_dst + own_mac + b"\x08\x00" + ip + udp


def replies_to(xid, deadline):
    got = []
    while True:
        left = deadline - time.time()
        if left <= 0:
            return got
        r, _, _ = select.select([s], [], [], left)
        if not r:
            return got
        data, addr = s.recvfrom(4096)
        if addr[2] == socket.PACKET_OUTGOING or len(data) < 14 + 20 + 8 + 240:
            continue
        if data[12:14] != b"\x08\x00" or data[23] != 17:
            continue
        ihl = (data[14] & 0x0F) * 4
        udp = 14 + ihl
        sport, dport = struct.unpack("!HH", data[udp:udp + 4])
        dhcp = data[udp + 8:]
        if sport not in (67, 4011) or dhcp[0] != 2 or dhcp[4:8] != xid:
            continue
        got.append("%s,%s,%d,%s" % (
            ":".join("%02x" % b for b in data[0:6]),
            socket.inet_ntoa(data[30:34]), dport, dhcp.hex()))
        # Replies come alone; a short grace catches a duplicate.
        deadline = min(deadline, time.time() + 0.05)


out = []
for line in sys.stdin.read().splitlines():
    if not line.strip():
        continue
    src, dst, sport, dport, hexreq = line.split()
    req = bytes.fromhex(hexreq)
    s.send(frame(src, dst, int(sport), int(dport), req))
    got = replies_to(req[4:8], time.time() + window)
    out.append(" ".join(got) if got else "-")
print("\n".join(out))
