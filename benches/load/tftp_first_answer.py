#!/usr/bin/env python3
"""Time from a TFTP read request to the server's first answer (OACK).

    tftp_first_answer.py SERVER_IP FILE [FILE...]

For each file: one request while it is cold in the server (the first since
the server started, as a boot's first), then REPEAT warm ones; each asks
blksize 1468 and tsize as pxelinux and EDK2 do, and is aborted with ERROR 0
once the OACK is in. Prints one line per file: name, cold ms, median warm
ms (from the client's clock, around sendto .. recvfrom)."""

import os
import socket
import statistics
import sys
import time

REPEAT = int(os.environ.get("FIRST_ANSWER_REPEAT", "5"))


def first_answer_ms(server, name):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2.0)
    req = b"\x00\x01" + name.encode() + b"\x00octet\x00blksize\x001468\x00tsize\x000\x00"
    t0 = time.perf_counter()
    s.sendto(req, (server, 69))
    try:
        data, peer = s.recvfrom(2048)
    except socket.timeout:
        s.close()
        return None
    ms = (time.perf_counter() - t0) * 1e3
    s.sendto(b"\x00\x05\x00\x00done\x00", peer)
    s.close()
    if data[:2] != b"\x00\x06":
        return None
    return ms


def main():
    server, files = sys.argv[1], sys.argv[2:]
    for name in files:
        cold = first_answer_ms(server, name)
        time.sleep(0.3)  # a cache fill, if any, finishes
        warm = []
        for _ in range(REPEAT):
            ms = first_answer_ms(server, name)
            if ms is not None:
                warm.append(ms)
            time.sleep(0.05)
        fmt = lambda v: "FAIL" if v is None else f"{v:.2f}"
        print(name, fmt(cold), fmt(statistics.median(warm) if warm else None))


if __name__ == "__main__":
    main()
