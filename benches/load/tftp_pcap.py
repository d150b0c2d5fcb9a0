#!/usr/bin/env python3
"""Per-transfer figures of the TFTP read transfers in a capture.

    python3 benches/load/tftp_pcap.py [--tsv] FILE.pcapng [MIN_BYTES]

Reads the capture with tshark (package tshark), follows every read request
to its transfer (the server answers from its own port: RFC 1350's TID) and
prints, for each transfer whose DATA carried at least MIN_BYTES (default
1 MB): the options asked and granted, DATA and ACK counts, blocks sent more
than once, duplicate ACKs (the same block acknowledged again) and what the
server sent within 50 ms after each (a block sent again there is the Sorcerer's
Apprentice bug of RFC 1123 4.2.3.1), ACKs of older blocks, the client's
DATA -> ACK and the server's ACK -> DATA turnaround (p50 / p90 / p99 /
max, in microseconds, as seen where the capture was taken), how many of
them took over 0.5 ms (a side waiting for a core), the gaps
longer than 100 ms (who was waiting for whom), and the transfer's
duration. A window the server sent in one segmented send (UDP_SEGMENT)
is one frame where the capture is taken; it is counted as its blocks.
The figures other than times do not depend on the machine's
load; the times do. With --tsv, one tab-separated line per transfer:
name, bytes, seconds, DATA, resent, ACK, duplicate ACKs, blocks resent
after one, older ACKs, client DATA->ACK p50 p99, server ACK->DATA p50
p99 (us), gaps > 100 ms, their seconds, and the sums of the client's and
the server's turnarounds (s).

Used for issue 17 (benches/README.md, "Debian installer over the network,
beside dnsmasq").
"""

import subprocess
import sys

RRQ, WRQ, DATA, ACK, ERROR, OACK = 1, 2, 3, 4, 5, 6


def packets(path):
    out = subprocess.run(
        [
            "tshark", "-r", path, "-T", "fields", "-E", "separator=\t",
            "-e", "frame.time_epoch", "-e", "ip.src", "-e", "udp.srcport",
            "-e", "ip.dst", "-e", "udp.dstport", "-e", "udp.length",
            "-e", "udp.payload", "udp",
        ],
        check=True, capture_output=True, text=True,
    ).stdout
    for line in out.splitlines():
        f = line.split("\t")
        if len(f) < 7 or not f[6]:
            continue
        payload = bytes.fromhex(f[6].replace(":", ""))
        # the UDP length tells the datagram's real size when the capture
        # kept only its first bytes
        size = int(f[5]) - 8 if f[5] else len(payload)
        yield float(f[0]), (f[1], int(f[2])), (f[3], int(f[4])), payload, size


def options(b):
    parts = b.split(b"\0")
    name = parts[0].decode(errors="replace")
    rest = parts[2:] if len(parts) > 2 else []
    opts = {}
    for k, v in zip(rest[0::2], rest[1::2]):
        if k:
            opts[k.decode(errors="replace").lower()] = v.decode(errors="replace")
    return name, parts[1].decode(errors="replace") if len(parts) > 1 else "", opts


def oack_options(b):
    parts = b.split(b"\0")
    return {
        k.decode(errors="replace").lower(): v.decode(errors="replace")
        for k, v in zip(parts[0::2], parts[1::2]) if k
    }


class Transfer:
    def __init__(self, t, client, server, name, opts):
        self.t0 = t
        self.client = client
        self.server = server  # (ip, 69) until the first answer
        self.tid = None
        self.name = name
        self.asked = opts
        self.granted = {}
        self.rrqs = 1
        self.events = []  # (t, dir, opcode, block, size)

    def belongs(self, src, dst):
        if src == self.client and dst[0] == self.server[0]:
            return "c2s" if self.tid is None or dst[1] == self.tid else None
        if dst == self.client and src[0] == self.server[0]:
            if self.tid is None and src[1] != 69:
                self.tid = src[1]
            return "s2c" if src[1] == self.tid else None
        return None


def pct(v, p):
    if not v:
        return float("nan")
    v = sorted(v)
    return v[min(len(v) - 1, int(p / 100 * len(v)))]


def report(tr, min_bytes, tsv=False):
    data_bytes = sum(e[4] - 4 for e in tr.events if e[1] == "s2c" and e[2] == DATA)
    if data_bytes < min_bytes:
        return
    sent = {}
    data_n = ack_n = dup_acks = old_acks = data_after_dup = 0
    prev_ack = None
    high_ack = -1
    d2a, a2d = [], []
    last_data = {}  # block -> time of its last DATA
    last_ack_t = None
    dup_times = []
    gaps = []
    prev = None
    first_t = tr.events[0][0] if tr.events else tr.t0
    end_t = first_t
    wrap = 0
    last_blk_raw = 0
    for ev in tr.events:
        t, d, op, blk, size = ev
        if prev is not None and t - prev[0] > 0.1:
            gaps.append((prev, ev))
        prev = ev
        end_t = t
        if d == "s2c" and op == DATA:
            data_n += 1
            sent[blk] = sent.get(blk, 0) + 1
            if last_ack_t is not None and prev_ack is not None and (blk - prev_ack) % 65536 == 1:
                a2d.append((t - last_ack_t) * 1e6)
                last_ack_t = None
            last_data[blk] = t
            for dt in dup_times:
                if sent[blk] > 1 and 0 <= t - dt <= 0.05:
                    data_after_dup += 1
                    break
        elif d == "c2s" and op == ACK:
            ack_n += 1
            if blk in last_data:
                d2a.append((t - last_data.pop(blk)) * 1e6)
            # unwrap the 16-bit block number against the highest so far
            if prev_ack is not None and blk == prev_ack:
                dup_acks += 1
                dup_times.append(t)
                dup_times = dup_times[-4:]
            else:
                ext = blk + wrap
                if high_ack >= 0 and ext < high_ack - 32768:
                    wrap += 65536
                    ext += 65536
                if ext < high_ack:
                    old_acks += 1
                high_ack = max(high_ack, ext)
            prev_ack = blk
            last_ack_t = t
    resent = sum(n - 1 for n in sent.values() if n > 1)
    # blocks are counted per wire number; a file of more than 65535 blocks
    # sends each wire number more than once by design
    rollovers = max(0, (data_n - 1) // 65536)
    resent -= rollovers * min(65536, len(sent))
    resent = max(resent, 0)
    total_gap = sum(b[0] - a[0] for a, b in gaps)
    if tsv:
        print("\t".join(str(x) for x in [
            tr.name, data_bytes, f"{end_t - first_t:.3f}", data_n, resent, ack_n,
            dup_acks, data_after_dup, old_acks,
            f"{pct(d2a, 50):.0f}", f"{pct(d2a, 99):.0f}",
            f"{pct(a2d, 50):.0f}", f"{pct(a2d, 99):.0f}", len(gaps), f"{total_gap:.2f}",
            f"{sum(d2a) / 1e6:.2f}", f"{sum(a2d) / 1e6:.2f}",
        ]))
        return
    print(f"== {tr.name} client {tr.client[0]}:{tr.client[1]} server port {tr.tid}")
    print(f"   RRQs {tr.rrqs}, asked {tr.asked or '{}'}, granted {tr.granted or '{} (no OACK)'}")
    print(
        f"   {data_bytes} B in {end_t - first_t:.3f} s ({data_bytes / max(end_t - first_t, 1e-9) / 1e6:.2f} MB/s); "
        f"DATA {data_n}, resent {resent}; ACK {ack_n}, duplicate {dup_acks} "
        f"(a block resent within 50 ms after one: {data_after_dup}), older {old_acks}"
    )
    if d2a:
        print(
            "   client DATA->ACK us  p50 %.0f  p90 %.0f  p99 %.0f  max %.0f  sum %.2f s"
            % (pct(d2a, 50), pct(d2a, 90), pct(d2a, 99), max(d2a), sum(d2a) / 1e6)
        )
    if a2d:
        print(
            "   server ACK->DATA us  p50 %.0f  p90 %.0f  p99 %.0f  max %.0f  sum %.2f s"
            % (pct(a2d, 50), pct(a2d, 90), pct(a2d, 99), max(a2d), sum(a2d) / 1e6)
        )
    slow = sum(1 for v in d2a + a2d if v > 500)
    span = max(end_t - first_t, 1e-9)
    print(
        f"   turnarounds over 0.5 ms (either side): {slow}, "
        f"{slow / span / 10:.1f} per 100 ms of transfer"
    )
    names = {DATA: "DATA", ACK: "ACK", ERROR: "ERROR", OACK: "OACK", RRQ: "RRQ"}
    print(f"   gaps > 100 ms: {len(gaps)}, {total_gap:.2f} s in all")
    for a, b in gaps[:12]:
        print(
            f"     {b[0] - a[0]:.3f} s after {a[1]} {names.get(a[2], a[2])} {a[3]} "
            f"until {b[1]} {names.get(b[2], b[2])} {b[3]}"
        )


def main():
    args = sys.argv[1:]
    tsv = "--tsv" in args
    args = [a for a in args if a != "--tsv"]
    path = args[0]
    min_bytes = int(args[1]) if len(args) > 1 else 1_000_000
    transfers = []
    for t, src, dst, p, size in packets(path):
        if len(p) < 2:
            continue
        op = int.from_bytes(p[:2], "big")
        if op in (RRQ, WRQ) and dst[1] == 69:
            name, _mode, opts = options(p[2:])
            same = [
                x for x in transfers
                if x.client == src and x.name == name and x.tid is None
            ]
            if same:
                same[-1].rrqs += 1
                continue
            transfers.append(Transfer(t, src, dst, name, opts))
            continue
        for tr in reversed(transfers):
            d = tr.belongs(src, dst)
            if d is None:
                continue
            blk = int.from_bytes(p[2:4], "big") if op in (DATA, ACK) and len(p) >= 4 else None
            if op == OACK:
                tr.granted = oack_options(p[2:])
            seg = 4 + int(tr.granted.get("blksize", "512"))
            if op == DATA and size > seg:
                # a window sent at once with UDP_SEGMENT: the capture on
                # the server's side sees one frame of back-to-back blocks
                for i in range((size + seg - 1) // seg):
                    n = min(seg, size - i * seg)
                    tr.events.append((t, d, op, (blk + i) % 65536, n))
            else:
                tr.events.append((t, d, op, blk, size))
            break
    for tr in transfers:
        report(tr, min_bytes, tsv)


if __name__ == "__main__":
    main()
