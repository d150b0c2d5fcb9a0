//! Boot-storm driver: N simulated machines network-boot at once against one
//! server (or one set of servers), each doing in order what its firmware and
//! iPXE do, with their retransmission timers:
//!
//! 1. firmware DHCP: DISCOVER / OFFER / REQUEST / ACK, broadcast flag set,
//!    client architecture 7 (EFI x64) or 0 (BIOS), PXEClient vendor class;
//! 2. the first stage over TFTP from the offer's next server and file:
//!    EFI machines as EDK2 does it (RRQ with `tsize` 0 + `blksize` 1468,
//!    OACK, abort with ERROR 8, then a new RRQ with `blksize` 1468 +
//!    `windowsize` 4), BIOS machines as a PXE ROM (RRQ `tsize` 0 +
//!    `blksize` 1432, lock-step);
//! 3. iPXE's DHCP: DISCOVER / REQUEST again, with option 175 and user class
//!    `iPXE`; its boot file is the script URL (`${mac}` and `${uuid}`
//!    expanded as iPXE does);
//! 4. the script over HTTP/1.1 (one kept-alive connection per machine, as
//!    iPXE pools it), then every `kernel` / `initrd` it names, in order.
//!
//! Timers: DHCP 1, 2, 4, 8, 16, 32 s (iPXE); TFTP 1, 2, 4, 4, 4, 4 s then the
//! transfer fails (EDK2 and PXE ROMs give up after a handful); TCP is the
//! kernel's. A machine not done when the global timeout expires is failed.
//!
//! Each machine sends from its own address once it has one: the storm
//! script puts the whole DHCP pool on the client's interface, so TFTP and
//! HTTP from a leased address work; the DHCP exchanges share one socket on
//! port 68 (bound to the interface), replies are dispatched by `chaddr`.
//! HTTP bodies of boot files are discarded in the kernel (`recv` with
//! `MSG_TRUNC`): the client's CPU competes with the servers' on the same
//! machine, so it copies nothing it does not need.
//!
//! ```text
//! storm --server 10.213.0.1 --iface pxlc1 --machines 200 --out machines.csv
//! ```
//!
//! Prints `key=value` lines (counts, seconds, retransmissions, stage
//! medians) on stdout; one CSV line per machine goes to `--out`.

use std::collections::BTreeMap;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt, Interest};
use tokio::net::{TcpSocket, TcpStream, UdpSocket};
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep, sleep_until, timeout_at};

const DHCP_TIMERS: [u64; 6] = [1, 2, 4, 8, 16, 32];
const TFTP_TIMERS: [u64; 6] = [1, 2, 4, 4, 4, 4];
const EDK2_BLKSIZE: u16 = 1468;
const EDK2_WINDOW: u16 = 4;
const BIOS_BLKSIZE: u16 = 1432;
const DHCP_MAX: usize = 1500;

/// Everything the command line sets.
#[derive(Debug, Clone)]
struct Config {
    server: Ipv4Addr,
    iface: String,
    machines: usize,
    bios_every: usize,
    timeout: Duration,
    spread: Duration,
    out: Option<String>,
    threads: usize,
    until: Until,
}

/// The last stage each machine runs (a storm of one part of the chain).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Until {
    Dhcp,
    Tftp,
    IpxeDhcp,
    Script,
    All,
}

fn usage() -> String {
    "usage: storm --server IP --iface IFACE [--machines N] [--bios-every K] \
     [--timeout SECONDS] [--spread-ms MS] [--threads T] [--out FILE]\n\
     [--until dhcp|tftp|ipxe-dhcp|script|all]\n\
     every K-th machine is a BIOS PXE ROM (default 4), the others EDK2 (EFI x64)"
        .to_string()
}

fn parse_args() -> Result<Config, String> {
    let mut c = Config {
        server: Ipv4Addr::UNSPECIFIED,
        iface: String::new(),
        machines: 50,
        bios_every: 4,
        timeout: Duration::from_secs(300),
        spread: Duration::from_millis(1000),
        out: None,
        threads: 1,
        until: Until::All,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || {
            args.next()
                .ok_or_else(|| format!("{a} needs a value\n{}", usage()))
        };
        let num = |v: String| v.parse::<u64>().map_err(|e| format!("{a}: {e}"));
        match a.as_str() {
            "--server" => c.server = val()?.parse().map_err(|e| format!("--server: {e}"))?,
            "--iface" => c.iface = val()?,
            "--machines" => c.machines = num(val()?)? as usize,
            "--bios-every" => c.bios_every = num(val()?)? as usize,
            "--timeout" => c.timeout = Duration::from_secs(num(val()?)?),
            "--spread-ms" => c.spread = Duration::from_millis(num(val()?)?),
            "--threads" => c.threads = num(val()?)?.max(1) as usize,
            "--out" => c.out = Some(val()?),
            "--until" => {
                c.until = match val()?.as_str() {
                    "dhcp" => Until::Dhcp,
                    "tftp" => Until::Tftp,
                    "ipxe-dhcp" => Until::IpxeDhcp,
                    "script" => Until::Script,
                    "all" => Until::All,
                    other => return Err(format!("--until {other}?\n{}", usage())),
                }
            }
            "-h" | "--help" => return Err(usage()),
            _ => return Err(format!("unknown argument {a}\n{}", usage())),
        }
    }
    if c.server.is_unspecified() || c.iface.is_empty() {
        return Err(usage());
    }
    if c.machines == 0 || c.machines > 65535 {
        return Err("--machines must be 1..65535".to_string());
    }
    Ok(c)
}

/// Client-side counters shared by all machines.
#[derive(Default)]
struct Counters {
    dhcp_retx: AtomicU64,
    tftp_retx: AtomicU64,
    tftp_gap_acks: AtomicU64,
    tftp_bytes: AtomicU64,
    http_bytes: AtomicU64,
    http_requests: AtomicU64,
    http_connects: AtomicU64,
}

struct Shared {
    until: Until,
    dhcp: UdpSocket,
    counters: Counters,
}

/// Which firmware a machine runs before iPXE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Firmware {
    Edk2,
    Bios,
}

impl Firmware {
    fn arch(self) -> u16 {
        match self {
            Firmware::Edk2 => 7,
            Firmware::Bios => 0,
        }
    }
    fn name(self) -> &'static str {
        match self {
            Firmware::Edk2 => "efi",
            Firmware::Bios => "bios",
        }
    }
}

/// One simulated machine's identity.
#[derive(Debug, Clone, Copy)]
struct Machine {
    index: usize,
    mac: [u8; 6],
    uuid: [u8; 16],
    fw: Firmware,
}

impl Machine {
    fn new(index: usize, bios_every: usize) -> Self {
        let hi = (index >> 8) as u8;
        let lo = index as u8;
        let mac = [0x02, 0x50, 0x58, 0x45, hi, lo];
        let mut uuid = [0u8; 16];
        uuid[..4].copy_from_slice(&[0x5e, 0xed, 0x00, 0x17]);
        uuid[14] = hi;
        uuid[15] = lo;
        let fw = if bios_every > 0 && index % bios_every == bios_every - 1 {
            Firmware::Bios
        } else {
            Firmware::Edk2
        };
        Machine {
            index,
            mac,
            uuid,
            fw,
        }
    }

    fn mac_text(&self, sep: &str) -> String {
        let parts: Vec<String> = self.mac.iter().map(|b| format!("{b:02x}")).collect();
        parts.join(sep)
    }

    fn uuid_text(&self) -> String {
        let h: Vec<String> = self.uuid.iter().map(|b| format!("{b:02x}")).collect();
        let h = h.concat();
        format!(
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        )
    }
}

/// Where a machine got to and why it stopped, if it did.
#[derive(Debug)]
struct Failure {
    stage: &'static str,
    why: String,
}

fn fail(stage: &'static str, why: impl Into<String>) -> Failure {
    Failure {
        stage,
        why: why.into(),
    }
}

/// Seconds from the machine's power-on to the end of each stage.
#[derive(Debug, Default, Clone)]
struct Stages {
    dhcp: f64,
    tftp: f64,
    ipxe_dhcp: f64,
    script: f64,
    kernel: f64,
    initrd: f64,
}

// ---------------------------------------------------------------- DHCP

/// What an OFFER or ACK told the machine.
#[derive(Debug, Clone)]
struct Lease {
    yiaddr: Ipv4Addr,
    server_id: Ipv4Addr,
    next_server: Ipv4Addr,
    file: String,
}

const DISCOVER: u8 = 1;
const OFFER: u8 = 2;
const REQUEST: u8 = 3;
const ACK: u8 = 5;
const NAK: u8 = 6;

fn dhcp_packet(
    m: &Machine,
    xid: u32,
    secs: u16,
    kind: u8,
    ipxe: bool,
    req: Option<&Lease>,
) -> Vec<u8> {
    let mut p = vec![0u8; 240];
    p[0] = 1;
    p[1] = 1;
    p[2] = 6;
    p[4..8].copy_from_slice(&xid.to_be_bytes());
    p[8..10].copy_from_slice(&secs.to_be_bytes());
    p[10..12].copy_from_slice(&0x8000u16.to_be_bytes());
    p[28..34].copy_from_slice(&m.mac);
    p[236..240].copy_from_slice(&[99, 130, 83, 99]);
    let mut opt = |code: u8, val: &[u8]| {
        p.push(code);
        p.push(val.len() as u8);
        p.extend_from_slice(val);
    };
    opt(53, &[kind]);
    if let Some(l) = req {
        opt(50, &l.yiaddr.octets());
        opt(54, &l.server_id.octets());
    }
    opt(57, &1472u16.to_be_bytes());
    opt(93, &m.fw.arch().to_be_bytes());
    opt(94, &[1, 3, if m.fw == Firmware::Edk2 { 16 } else { 1 }]);
    let mut uuid = vec![0u8];
    uuid.extend_from_slice(&m.uuid);
    opt(97, &uuid);
    let vc = format!(
        "PXEClient:Arch:{:05}:UNDI:{}",
        m.fw.arch(),
        if m.fw == Firmware::Edk2 {
            "003016"
        } else {
            "002001"
        }
    );
    opt(60, vc.as_bytes());
    if ipxe {
        let mut cid = vec![1u8];
        cid.extend_from_slice(&m.mac);
        opt(61, &cid);
        opt(77, b"iPXE");
        // iPXE's encapsulated options: version 1.21.1, feature flags
        // (HTTP, DNS, TFTP, PXE extensions), bus id.
        opt(
            175,
            &[
                235, 3, 1, 21, 1, 19, 1, 1, 20, 1, 1, 16, 1, 2, 33, 1, 1, 17, 1, 1, 24, 1, 1, 177,
                5, 1, 0x80, 0x86, 0x10, 0x0e,
            ],
        );
        opt(
            55,
            &[
                1, 3, 6, 7, 12, 15, 17, 26, 43, 60, 66, 67, 119, 128, 129, 130, 131, 132, 133, 134,
                135, 175, 203,
            ],
        );
    } else {
        opt(
            55,
            &[
                1, 2, 3, 4, 5, 6, 12, 13, 15, 17, 18, 22, 23, 28, 40, 41, 42, 43, 50, 51, 54, 58,
                59, 60, 66, 67, 97, 128, 129, 130, 131, 132, 133, 134, 135,
            ],
        );
    }
    p.push(255);
    p
}

/// Parses a server's reply for this machine: (message type, lease). The
/// workspace's own packet view reads it (options, overload, the `file`
/// field when option 67 is absent); anything it refuses is no reply.
fn dhcp_reply(b: &[u8], m: &Machine, xid: u32) -> Option<(u8, Lease)> {
    let p = pxe_dhcp::Packet::new_checked(b).ok()?;
    if p.op() != pxe_dhcp::Op::Reply || !p.has_cookie() || p.xid() != xid || p.mac()? != m.mac {
        return None;
    }
    let kind = p.option(53).and_then(|v| v.first().copied()).unwrap_or(0);
    let file = p.boot_file_name().unwrap_or(&[]);
    Some((
        kind,
        Lease {
            yiaddr: p.yiaddr(),
            server_id: p
                .server_id()
                .ok()
                .flatten()
                .unwrap_or(Ipv4Addr::UNSPECIFIED),
            next_server: p.siaddr(),
            file: String::from_utf8_lossy(file).into_owned(),
        },
    ))
}

/// Sends `pkt` until a reply of type `want` (or a NAK) arrives, on the
/// DHCP timers. `None` if the global deadline passes first.
async fn dhcp_exchange(
    sh: &Shared,
    rx: &mut mpsc::Receiver<Vec<u8>>,
    m: &Machine,
    xid: u32,
    mut pkt: Vec<u8>,
    want: u8,
    (deadline, powered): (Instant, Instant),
) -> Result<(u8, Lease), Failure> {
    let dst = SocketAddr::from((Ipv4Addr::BROADCAST, 67));
    for (n, secs) in DHCP_TIMERS.iter().cycle().enumerate() {
        if n > 0 {
            sh.counters.dhcp_retx.fetch_add(1, Ordering::Relaxed);
        }
        let elapsed = powered.elapsed().as_secs().min(u16::MAX as u64) as u16;
        pkt[8..10].copy_from_slice(&elapsed.to_be_bytes());
        sh.dhcp
            .send_to(&pkt, dst)
            .await
            .map_err(|e| fail("dhcp", format!("send: {e}")))?;
        let until = (Instant::now() + Duration::from_secs(*secs)).min(deadline);
        loop {
            match timeout_at(until, rx.recv()).await {
                Ok(Some(b)) => {
                    if let Some((kind, lease)) = dhcp_reply(&b, m, xid)
                        && (kind == want || kind == NAK)
                    {
                        return Ok((kind, lease));
                    }
                }
                Ok(None) => return Err(fail("dhcp", "dispatcher gone")),
                Err(_) => break,
            }
        }
        if Instant::now() >= deadline {
            return Err(fail("dhcp", "global timeout"));
        }
    }
    Err(fail("dhcp", "unreachable"))
}

/// DORA (repeated from DISCOVER after a NAK).
async fn dhcp(
    sh: &Shared,
    rx: &mut mpsc::Receiver<Vec<u8>>,
    m: &Machine,
    ipxe: bool,
    deadline: Instant,
    powered: Instant,
) -> Result<Lease, Failure> {
    let mut round = 0u32;
    loop {
        round += 1;
        let xid = (m.index as u32) << 12 | u32::from(ipxe) << 11 | (round & 0x7ff);
        let d = dhcp_packet(m, xid, 0, DISCOVER, ipxe, None);
        let (_, offer) = dhcp_exchange(sh, rx, m, xid, d, OFFER, (deadline, powered)).await?;
        if offer.yiaddr.is_unspecified() || offer.server_id.is_unspecified() {
            return Err(fail("dhcp", "offer without address or server id"));
        }
        let r = dhcp_packet(m, xid, 0, REQUEST, ipxe, Some(&offer));
        let (kind, ack) = dhcp_exchange(sh, rx, m, xid, r, ACK, (deadline, powered)).await?;
        if kind == ACK {
            // the ACK may leave the file out if it was in the OFFER
            let mut lease = ack;
            if lease.file.is_empty() {
                lease.file = offer.file;
            }
            if lease.next_server.is_unspecified() {
                lease.next_server = offer.next_server;
            }
            return Ok(lease);
        }
        if Instant::now() >= deadline {
            return Err(fail("dhcp", "global timeout after NAK"));
        }
    }
}

/// Reads every DHCP datagram on port 68 and hands it to its machine by
/// `chaddr`.
async fn dhcp_dispatch(sh: Arc<Shared>, txs: Vec<mpsc::Sender<Vec<u8>>>) {
    let mut buf = vec![0u8; DHCP_MAX];
    loop {
        let Ok((n, _)) = sh.dhcp.recv_from(&mut buf).await else {
            continue;
        };
        if n < 240 || buf[0] != 2 || buf[28..32] != [0x02, 0x50, 0x58, 0x45] {
            continue;
        }
        let idx = usize::from(buf[32]) << 8 | usize::from(buf[33]);
        if let Some(tx) = txs.get(idx) {
            // a full queue drops, as a NIC ring would
            let _ = tx.try_send(buf[..n].to_vec());
        }
    }
}

// ---------------------------------------------------------------- TFTP

fn rrq(file: &str, opts: &[(&str, String)]) -> Vec<u8> {
    let mut p = vec![0, 1];
    p.extend_from_slice(file.as_bytes());
    p.push(0);
    p.extend_from_slice(b"octet\0");
    for (k, v) in opts {
        p.extend_from_slice(k.as_bytes());
        p.push(0);
        p.extend_from_slice(v.as_bytes());
        p.push(0);
    }
    p
}

fn ack(block: u16) -> [u8; 4] {
    let b = block.to_be_bytes();
    [0, 4, b[0], b[1]]
}

fn oack_options(b: &[u8]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut parts = b[2..].split(|&c| c == 0);
    while let (Some(k), Some(v)) = (parts.next(), parts.next()) {
        if k.is_empty() {
            break;
        }
        out.insert(
            String::from_utf8_lossy(k).to_ascii_lowercase(),
            String::from_utf8_lossy(v).to_string(),
        );
    }
    out
}

fn tftp_error_text(b: &[u8]) -> String {
    let code = if b.len() >= 4 {
        u16::from_be_bytes([b[2], b[3]])
    } else {
        0
    };
    let msg = b.get(4..).unwrap_or_default();
    let end = msg.iter().position(|&c| c == 0).unwrap_or(msg.len());
    format!("ERROR {code} {}", String::from_utf8_lossy(&msg[..end]))
}

/// EDK2's size probe: RRQ with tsize 0 + blksize, read the OACK, abort
/// with ERROR 8. Returns the announced size, if any.
async fn tftp_probe(
    sh: &Shared,
    local: Ipv4Addr,
    server: SocketAddrV4,
    file: &str,
    deadline: Instant,
) -> Result<Option<u64>, Failure> {
    let sock = UdpSocket::bind(SocketAddrV4::new(local, 0))
        .await
        .map_err(|e| fail("tftp", format!("bind {local}: {e}")))?;
    let req = rrq(
        file,
        &[
            ("tsize", "0".to_string()),
            ("blksize", EDK2_BLKSIZE.to_string()),
        ],
    );
    let mut buf = vec![0u8; 2048];
    for (n, secs) in TFTP_TIMERS.iter().enumerate() {
        if n > 0 {
            sh.counters.tftp_retx.fetch_add(1, Ordering::Relaxed);
        }
        sock.send_to(&req, server)
            .await
            .map_err(|e| fail("tftp", format!("send: {e}")))?;
        let until = (Instant::now() + Duration::from_secs(*secs)).min(deadline);
        while let Ok(r) = timeout_at(until, sock.recv_from(&mut buf)).await {
            let (len, from) = r.map_err(|e| fail("tftp", format!("recv: {e}")))?;
            let b = &buf[..len];
            if len < 4 {
                continue;
            }
            match u16::from_be_bytes([b[0], b[1]]) {
                6 => {
                    let size = oack_options(b).get("tsize").and_then(|v| v.parse().ok());
                    let mut e = vec![0, 5, 0, 8];
                    e.extend_from_slice(b"User aborted the transfer\0");
                    let _ = sock.send_to(&e, from).await;
                    return Ok(size);
                }
                3 => {
                    // no option support: the server started sending; abort
                    let mut e = vec![0, 5, 0, 8];
                    e.extend_from_slice(b"User aborted the transfer\0");
                    let _ = sock.send_to(&e, from).await;
                    return Ok(None);
                }
                5 => return Err(fail("tftp", format!("probe: {}", tftp_error_text(b)))),
                _ => {}
            }
        }
        if Instant::now() >= deadline {
            return Err(fail("tftp", "global timeout"));
        }
    }
    Err(fail("tftp", "probe: no answer after 6 tries"))
}

/// One download; lock-step when `window` is 1 (or the server does not
/// take the option). Returns the bytes received.
async fn tftp_get(
    sh: &Shared,
    local: Ipv4Addr,
    server: SocketAddrV4,
    file: &str,
    (blksize, window, tsize): (u16, u16, bool),
    deadline: Instant,
) -> Result<u64, Failure> {
    let sock = UdpSocket::bind(SocketAddrV4::new(local, 0))
        .await
        .map_err(|e| fail("tftp", format!("bind {local}: {e}")))?;
    let mut opts = Vec::new();
    if tsize {
        opts.push(("tsize", "0".to_string()));
    }
    opts.push(("blksize", blksize.to_string()));
    if window > 1 {
        opts.push(("windowsize", window.to_string()));
    }
    let req = rrq(file, &opts);
    let mut buf = vec![0u8; usize::from(blksize) + 64];
    let mut last_sent: Vec<u8> = req.clone();
    let mut dest = SocketAddr::V4(server);
    let mut peer: Option<SocketAddr> = None;
    let mut blk = 512usize;
    let mut win = 1u16;
    let mut expected: u16 = 1;
    let mut since_ack = 0u16;
    let mut gap_acked = false;
    let mut bytes = 0u64;
    let mut tries = 0usize;
    sock.send_to(&req, dest)
        .await
        .map_err(|e| fail("tftp", format!("send: {e}")))?;
    loop {
        let secs = TFTP_TIMERS[tries.min(TFTP_TIMERS.len() - 1)];
        let until = (Instant::now() + Duration::from_secs(secs)).min(deadline);
        let got = timeout_at(until, sock.recv_from(&mut buf)).await;
        let (len, from) = match got {
            Ok(r) => r.map_err(|e| fail("tftp", format!("recv: {e}")))?,
            Err(_) => {
                if Instant::now() >= deadline {
                    return Err(fail("tftp", "global timeout"));
                }
                tries += 1;
                if tries >= TFTP_TIMERS.len() {
                    return Err(fail(
                        "tftp",
                        format!("no answer after {tries} tries at block {expected}"),
                    ));
                }
                sh.counters.tftp_retx.fetch_add(1, Ordering::Relaxed);
                sock.send_to(&last_sent, dest)
                    .await
                    .map_err(|e| fail("tftp", format!("send: {e}")))?;
                continue;
            }
        };
        if len < 4 {
            continue;
        }
        if let Some(p) = peer {
            if p != from {
                // another transfer's TID: RFC 1350 says answer ERROR 5
                let mut e = vec![0, 5, 0, 5];
                e.extend_from_slice(b"Unknown transfer ID\0");
                let _ = sock.send_to(&e, from).await;
                continue;
            }
        } else {
            peer = Some(from);
            dest = from;
        }
        let b = &buf[..len];
        match u16::from_be_bytes([b[0], b[1]]) {
            6 if expected == 1 && bytes == 0 => {
                let o = oack_options(b);
                blk = o.get("blksize").and_then(|v| v.parse().ok()).unwrap_or(512);
                win = o
                    .get("windowsize")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(1)
                    .max(1);
                last_sent = ack(0).to_vec();
                tries = 0;
                sock.send_to(&last_sent, dest)
                    .await
                    .map_err(|e| fail("tftp", format!("send: {e}")))?;
            }
            3 => {
                let n = u16::from_be_bytes([b[2], b[3]]);
                let data = len - 4;
                if n == expected {
                    tries = 0;
                    gap_acked = false;
                    bytes += data as u64;
                    since_ack += 1;
                    let last = data < blk;
                    if last || since_ack >= win {
                        since_ack = 0;
                        last_sent = ack(n).to_vec();
                        sock.send_to(&last_sent, dest)
                            .await
                            .map_err(|e| fail("tftp", format!("send: {e}")))?;
                    }
                    expected = expected.wrapping_add(1);
                    if last {
                        sh.counters.tftp_bytes.fetch_add(bytes, Ordering::Relaxed);
                        return Ok(bytes);
                    }
                } else if n == expected.wrapping_sub(1) {
                    // our ACK was lost (the server re-sent its last block)
                    since_ack = 0;
                    let a = ack(n);
                    let _ = sock.send_to(&a, dest).await;
                } else if n.wrapping_sub(expected) < 0x8000 && !gap_acked {
                    // a block ahead of the one we wait for: ACK the last in
                    // order, once per gap (RFC 7440)
                    gap_acked = true;
                    since_ack = 0;
                    sh.counters.tftp_gap_acks.fetch_add(1, Ordering::Relaxed);
                    last_sent = ack(expected.wrapping_sub(1)).to_vec();
                    let _ = sock.send_to(&last_sent, dest).await;
                }
            }
            5 => return Err(fail("tftp", tftp_error_text(b))),
            _ => {}
        }
    }
}

// ---------------------------------------------------------------- HTTP

struct Url {
    host: Ipv4Addr,
    port: u16,
    path: String,
}

fn parse_url(u: &str) -> Option<Url> {
    let rest = u.strip_prefix("http://")?;
    let (hostport, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (host, port) = match hostport.split_once(':') {
        Some((h, p)) => (h, p.parse().ok()?),
        None => (hostport, 80),
    };
    Some(Url {
        host: host.parse().ok()?,
        port,
        path: path.to_string(),
    })
}

/// iPXE's expansion of `${mac}` and `${uuid}` in a boot file name (URI
/// escaped, as iPXE formats a setting into a URI).
fn expand(file: &str, m: &Machine) -> String {
    file.replace("${mac}", &m.mac_text("%3A"))
        .replace("${net0/mac}", &m.mac_text("%3A"))
        .replace("${uuid}", &m.uuid_text())
}

/// One machine's HTTP connection, kept alive between requests as iPXE's
/// connection pool does.
struct Http {
    local: Ipv4Addr,
    conn: Option<(SocketAddrV4, TcpStream)>,
    head: Vec<u8>,
    sink: Vec<u8>,
}

struct Response {
    status: u16,
    body: Vec<u8>,
    len: u64,
}

impl Http {
    fn new(local: Ipv4Addr) -> Self {
        Http {
            local,
            conn: None,
            head: Vec::with_capacity(4096),
            sink: vec![0u8; 1 << 20],
        }
    }

    async fn connect(&mut self, sh: &Shared, to: SocketAddrV4) -> io::Result<()> {
        if let Some((a, _)) = &self.conn
            && *a == to
        {
            return Ok(());
        }
        let s = TcpSocket::new_v4()?;
        s.bind(SocketAddr::from((self.local, 0)))?;
        let stream = s.connect(SocketAddr::V4(to)).await?;
        stream.set_nodelay(true)?;
        sh.counters.http_connects.fetch_add(1, Ordering::Relaxed);
        self.conn = Some((to, stream));
        Ok(())
    }

    /// GET `url`; keeps the body only when `keep` (scripts), otherwise
    /// lets the kernel discard it.
    async fn get(&mut self, sh: &Shared, url: &Url, keep: bool) -> Result<Response, String> {
        let to = SocketAddrV4::new(url.host, url.port);
        // one retry on a fresh connection if a kept-alive one was closed
        for attempt in 0..2 {
            self.connect(sh, to)
                .await
                .map_err(|e| format!("connect {to}: {e}"))?;
            match self.request(sh, url, keep).await {
                Ok(r) => return Ok(r),
                Err((e, fresh)) => {
                    self.conn = None;
                    if attempt == 1 || !fresh {
                        return Err(e);
                    }
                }
            }
        }
        Err("unreachable".to_string())
    }

    /// `Err((why, may_retry))`: may retry when nothing of a response came.
    async fn request(
        &mut self,
        sh: &Shared,
        url: &Url,
        keep: bool,
    ) -> Result<Response, (String, bool)> {
        let Some((_, stream)) = self.conn.as_mut() else {
            return Err(("no connection".to_string(), true));
        };
        let req = format!(
            "GET {} HTTP/1.1\r\nConnection: keep-alive\r\nUser-Agent: iPXE/1.21.1+ (g4bd0)\r\nHost: {}\r\n\r\n",
            url.path, url.host
        );
        stream
            .write_all(req.as_bytes())
            .await
            .map_err(|e| (format!("write: {e}"), true))?;
        sh.counters.http_requests.fetch_add(1, Ordering::Relaxed);
        self.head.clear();
        let mut chunk = [0u8; 4096];
        let end = loop {
            let n = stream
                .read(&mut chunk)
                .await
                .map_err(|e| (format!("read head: {e}"), self.head.is_empty()))?;
            if n == 0 {
                return Err(("closed before a response".to_string(), self.head.is_empty()));
            }
            self.head.extend_from_slice(&chunk[..n]);
            if let Some(i) = self.head.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            if self.head.len() > 64 * 1024 {
                return Err(("response head over 64 KiB".to_string(), false));
            }
        };
        let text = String::from_utf8_lossy(&self.head[..end]).to_string();
        let mut lines = text.split("\r\n");
        let status: u16 = lines
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| ("bad status line".to_string(), false))?;
        let mut length: Option<u64> = None;
        let mut chunked = false;
        let mut close = false;
        for l in lines {
            let Some((k, v)) = l.split_once(':') else {
                continue;
            };
            let v = v.trim();
            match k.trim().to_ascii_lowercase().as_str() {
                "content-length" => length = v.parse().ok(),
                "transfer-encoding" => chunked = v.eq_ignore_ascii_case("chunked"),
                "connection" => close = v.eq_ignore_ascii_case("close"),
                _ => {}
            }
        }
        let already = self.head[end..].to_vec();
        let mut body = Vec::new();
        let total = if chunked {
            let mut data = already;
            self.read_chunked(&mut data, &mut body, keep)
                .await
                .map_err(|e| (e, false))?
        } else if let Some(len) = length {
            let have = (already.len() as u64).min(len);
            if keep {
                body.extend_from_slice(&already[..have as usize]);
            }
            let rest = len - have;
            self.read_exact_body(rest, keep, &mut body)
                .await
                .map_err(|e| (e, false))?;
            len
        } else {
            close = true;
            let mut n = already.len() as u64;
            if keep {
                body.extend_from_slice(&already);
            }
            while let Some((_, s)) = self.conn.as_mut() {
                let r = s
                    .read(&mut chunk)
                    .await
                    .map_err(|e| (format!("read body: {e}"), false))?;
                if r == 0 {
                    break;
                }
                n += r as u64;
                if keep {
                    body.extend_from_slice(&chunk[..r]);
                }
            }
            n
        };
        if close {
            self.conn = None;
        }
        sh.counters.http_bytes.fetch_add(total, Ordering::Relaxed);
        Ok(Response {
            status,
            body,
            len: total,
        })
    }

    async fn read_exact_body(
        &mut self,
        mut rest: u64,
        keep: bool,
        body: &mut Vec<u8>,
    ) -> Result<(), String> {
        let Some((_, s)) = self.conn.as_mut() else {
            return Err("no connection".to_string());
        };
        while rest > 0 {
            let want = rest.min(self.sink.len() as u64) as usize;
            let n = if keep {
                let n = s
                    .read(&mut self.sink[..want])
                    .await
                    .map_err(|e| format!("read body: {e}"))?;
                body.extend_from_slice(&self.sink[..n]);
                n
            } else {
                discard(s, &mut self.sink[..want])
                    .await
                    .map_err(|e| format!("read body: {e}"))?
            };
            if n == 0 {
                return Err(format!("closed with {rest} bytes of the body missing"));
            }
            rest -= n as u64;
        }
        Ok(())
    }

    async fn read_chunked(
        &mut self,
        data: &mut Vec<u8>,
        body: &mut Vec<u8>,
        keep: bool,
    ) -> Result<u64, String> {
        let mut total = 0u64;
        loop {
            let line_end = loop {
                if let Some(i) = data.windows(2).position(|w| w == b"\r\n") {
                    break i;
                }
                self.fill(data).await?;
            };
            let size_text = String::from_utf8_lossy(&data[..line_end]).to_string();
            let size = u64::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| format!("bad chunk size {size_text:?}"))?;
            data.drain(..line_end + 2);
            if size == 0 {
                // trailers end with an empty line
                loop {
                    if let Some(i) = data.windows(2).position(|w| w == b"\r\n") {
                        data.drain(..i + 2);
                        if i == 0 {
                            return Ok(total);
                        }
                        continue;
                    }
                    self.fill(data).await?;
                }
            }
            while (data.len() as u64) < size + 2 {
                self.fill(data).await?;
            }
            if keep {
                body.extend_from_slice(&data[..size as usize]);
            }
            data.drain(..size as usize + 2);
            total += size;
        }
    }

    async fn fill(&mut self, data: &mut Vec<u8>) -> Result<(), String> {
        let Some((_, s)) = self.conn.as_mut() else {
            return Err("no connection".to_string());
        };
        let n = s
            .read(&mut self.sink[..64 * 1024])
            .await
            .map_err(|e| format!("read: {e}"))?;
        if n == 0 {
            return Err("closed inside a chunked body".to_string());
        }
        data.extend_from_slice(&self.sink[..n]);
        Ok(())
    }
}

/// Receives up to `buf.len()` bytes and lets the kernel drop them
/// (`MSG_TRUNC` on a TCP socket discards without copying).
async fn discard(s: &TcpStream, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        s.readable().await?;
        match s.try_io(Interest::READABLE, || {
            nix::sys::socket::recv(
                s.as_raw_fd(),
                buf,
                nix::sys::socket::MsgFlags::MSG_TRUNC | nix::sys::socket::MsgFlags::MSG_DONTWAIT,
            )
            .map_err(io::Error::from)
        }) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        }
    }
}

/// The `kernel`, `initrd`, `imgfetch` and `chain` URLs of a script, in
/// order.
fn script_urls(script: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for line in script.lines() {
        let mut words = line.split_whitespace();
        let Some(cmd) = words.next() else { continue };
        let cmd = cmd.to_string();
        if !matches!(
            cmd.as_str(),
            "kernel" | "initrd" | "imgfetch" | "module" | "chain" | "imgexec"
        ) {
            continue;
        }
        // options (`--name x`, `-n x`, `--timeout=5`) come before the URI
        if let Some(url) = words.find(|w| w.contains("://")) {
            out.push((cmd, url.to_string()));
        }
    }
    out
}

// ---------------------------------------------------------------- a machine

async fn boot(
    sh: &Shared,
    m: Machine,
    mut rx: mpsc::Receiver<Vec<u8>>,
    powered: Instant,
    deadline: Instant,
) -> Result<Stages, Failure> {
    let mut st = Stages::default();
    let since = |t: Instant| t.duration_since(powered).as_secs_f64();

    let lease = dhcp(sh, &mut rx, &m, false, deadline, powered).await?;
    st.dhcp = since(Instant::now());
    if sh.until == Until::Dhcp {
        return Ok(st);
    }
    if lease.file.is_empty() {
        return Err(fail("dhcp", "no boot file in the offer"));
    }
    let next = if lease.next_server.is_unspecified() {
        lease.server_id
    } else {
        lease.next_server
    };
    let server = SocketAddrV4::new(next, 69);
    let got = match m.fw {
        Firmware::Edk2 => {
            tftp_probe(sh, lease.yiaddr, server, &lease.file, deadline).await?;
            tftp_get(
                sh,
                lease.yiaddr,
                server,
                &lease.file,
                (EDK2_BLKSIZE, EDK2_WINDOW, false),
                deadline,
            )
            .await?
        }
        Firmware::Bios => {
            tftp_get(
                sh,
                lease.yiaddr,
                server,
                &lease.file,
                (BIOS_BLKSIZE, 1, true),
                deadline,
            )
            .await?
        }
    };
    if got == 0 {
        return Err(fail("tftp", "empty first stage"));
    }
    st.tftp = since(Instant::now());
    if sh.until == Until::Tftp {
        return Ok(st);
    }

    let lease2 = dhcp(sh, &mut rx, &m, true, deadline, powered).await?;
    st.ipxe_dhcp = since(Instant::now());
    if sh.until == Until::IpxeDhcp {
        return Ok(st);
    }
    let script_url = expand(&lease2.file, &m);
    let url = parse_url(&script_url).ok_or_else(|| {
        fail(
            "ipxe-dhcp",
            format!("boot file is no http URL: {script_url:?}"),
        )
    })?;
    let mut http = Http::new(lease2.yiaddr);
    let r = timeout_at(deadline, http.get(sh, &url, true))
        .await
        .map_err(|_| fail("script", "global timeout"))?
        .map_err(|e| fail("script", e))?;
    if r.status != 200 {
        return Err(fail("script", format!("HTTP {}", r.status)));
    }
    let script = String::from_utf8_lossy(&r.body).to_string();
    if !script.starts_with("#!ipxe") {
        return Err(fail("script", "not an iPXE script"));
    }
    st.script = since(Instant::now());
    if sh.until == Until::Script {
        return Ok(st);
    }
    let urls = script_urls(&script);
    if urls.is_empty() {
        return Err(fail("script", "script names no image"));
    }
    for (cmd, u) in urls {
        let stage = if cmd == "initrd" { "initrd" } else { "kernel" };
        let url = parse_url(&u).ok_or_else(|| fail(stage, format!("not an http URL: {u}")))?;
        let r = timeout_at(deadline, http.get(sh, &url, false))
            .await
            .map_err(|_| fail(stage, "global timeout"))?
            .map_err(|e| fail(stage, e))?;
        if r.status != 200 || r.len == 0 {
            return Err(fail(
                stage,
                format!("HTTP {} ({} bytes) for {u}", r.status, r.len),
            ));
        }
        let t = since(Instant::now());
        if stage == "initrd" {
            st.initrd = t;
        } else {
            st.kernel = t;
        }
    }
    Ok(st)
}

/// This process's user + system time so far, in clock ticks (0 if
/// `/proc` cannot tell).
fn own_cpu_ticks() -> u64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0;
    };
    let Some((_, rest)) = stat.rsplit_once(") ") else {
        return 0;
    };
    let f: Vec<&str> = rest.split(' ').collect();
    let tick = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    // after the command: state is field 3, utime 14, stime 15
    tick(11) + tick(12)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn median_of(v: impl Iterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = v.collect();
    v.sort_by(f64::total_cmp);
    percentile(&v, 50.0)
}

async fn run(cfg: Config) -> Result<(), String> {
    let dhcp = UdpSocket::bind(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 68))
        .await
        .map_err(|e| format!("bind UDP 68: {e}"))?;
    dhcp.set_broadcast(true)
        .map_err(|e| format!("SO_BROADCAST: {e}"))?;
    nix::sys::socket::setsockopt(
        &dhcp,
        nix::sys::socket::sockopt::BindToDevice,
        &std::ffi::OsString::from(&cfg.iface),
    )
    .map_err(|e| format!("SO_BINDTODEVICE {}: {e}", cfg.iface))?;
    // the client's one socket stands for N NICs: room for all their replies
    nix::sys::socket::setsockopt(&dhcp, nix::sys::socket::sockopt::RcvBufForce, &(16 << 20))
        .map_err(|e| format!("SO_RCVBUFFORCE: {e}"))?;
    let sh = Arc::new(Shared {
        until: cfg.until,
        dhcp,
        counters: Counters::default(),
    });
    let mut txs = Vec::with_capacity(cfg.machines);
    let mut rxs = Vec::with_capacity(cfg.machines);
    for _ in 0..cfg.machines {
        let (tx, rx) = mpsc::channel(16);
        txs.push(tx);
        rxs.push(rx);
    }
    let dispatcher = tokio::spawn(dhcp_dispatch(sh.clone(), txs));
    let start = Instant::now();
    let deadline = start + cfg.timeout;
    let mut tasks = Vec::with_capacity(cfg.machines);
    for (i, rx) in rxs.into_iter().enumerate() {
        let m = Machine::new(i, cfg.bios_every);
        // power-on times spread evenly over --spread-ms
        let offset = if cfg.machines > 1 {
            cfg.spread.mul_f64(i as f64 / (cfg.machines - 1) as f64)
        } else {
            Duration::ZERO
        };
        let sh = sh.clone();
        tasks.push(tokio::spawn(async move {
            sleep_until(start + offset).await;
            let powered = Instant::now();
            let r = boot(&sh, m, rx, powered, deadline).await;
            let done = Instant::now();
            (
                m,
                powered.duration_since(start).as_secs_f64(),
                done.duration_since(start).as_secs_f64(),
                r,
            )
        }));
    }
    let mut rows = Vec::with_capacity(cfg.machines);
    for t in tasks {
        match t.await {
            Ok(r) => rows.push(r),
            Err(e) => return Err(format!("a machine's task died: {e}")),
        }
    }
    dispatcher.abort();
    let wall = start.elapsed().as_secs_f64();

    let mut csv = String::from(
        "machine,mac,firmware,powered_s,done_s,ok,stage,dhcp_s,tftp_s,ipxe_dhcp_s,script_s,kernel_s,initrd_s,error\n",
    );
    let mut ok_secs = Vec::new();
    let mut last_done: f64 = 0.0;
    let mut failures: BTreeMap<String, usize> = BTreeMap::new();
    let mut stages: Vec<Stages> = Vec::new();
    for (m, powered, done, r) in &rows {
        match r {
            Ok(st) => {
                ok_secs.push(done - powered);
                last_done = last_done.max(*done);
                csv.push_str(&format!(
                    "{},{},{},{powered:.3},{done:.3},1,done,{:.3},{:.3},{:.3},{:.3},{:.3},{:.3},\n",
                    m.index,
                    m.mac_text(":"),
                    m.fw.name(),
                    st.dhcp,
                    st.tftp,
                    st.ipxe_dhcp,
                    st.script,
                    st.kernel,
                    st.initrd
                ));
                stages.push(st.clone());
            }
            Err(f) => {
                let key = format!(
                    "{}: {}",
                    f.stage,
                    f.why.split(" at block").next().unwrap_or("")
                );
                *failures.entry(key).or_default() += 1;
                csv.push_str(&format!(
                    "{},{},{},{powered:.3},{done:.3},0,{},,,,,,,{}\n",
                    m.index,
                    m.mac_text(":"),
                    m.fw.name(),
                    f.stage,
                    f.why.replace(',', ";")
                ));
            }
        }
    }
    if let Some(path) = &cfg.out {
        std::fs::write(path, csv).map_err(|e| format!("write {path}: {e}"))?;
    }
    ok_secs.sort_by(f64::total_cmp);
    let c = &sh.counters;
    let failed = rows.len() - ok_secs.len();
    println!("machines={}", rows.len());
    println!("ok={}", ok_secs.len());
    println!("failed={failed}");
    println!(
        "last_done_s={:.2}",
        if failed > 0 { wall } else { last_done }
    );
    println!("wall_s={wall:.2}");
    println!("p50_s={:.2}", percentile(&ok_secs, 50.0));
    println!("p95_s={:.2}", percentile(&ok_secs, 95.0));
    println!("max_s={:.2}", percentile(&ok_secs, 100.0));
    let dr = c.dhcp_retx.load(Ordering::Relaxed);
    let tr = c.tftp_retx.load(Ordering::Relaxed);
    println!("dhcp_retx={dr}");
    println!("tftp_retx={tr}");
    println!("retries={}", dr + tr);
    println!("tftp_gap_acks={}", c.tftp_gap_acks.load(Ordering::Relaxed));
    println!("tftp_bytes={}", c.tftp_bytes.load(Ordering::Relaxed));
    println!("http_bytes={}", c.http_bytes.load(Ordering::Relaxed));
    println!("http_requests={}", c.http_requests.load(Ordering::Relaxed));
    println!("http_connects={}", c.http_connects.load(Ordering::Relaxed));
    // medians of each stage's duration (from the previous stage's end)
    let d = |f: fn(&Stages) -> f64| median_of(stages.iter().map(f));
    println!("stage_dhcp_p50_s={:.3}", d(|s| s.dhcp));
    println!("stage_tftp_p50_s={:.3}", d(|s| s.tftp - s.dhcp));
    println!("stage_ipxe_dhcp_p50_s={:.3}", d(|s| s.ipxe_dhcp - s.tftp));
    println!("stage_script_p50_s={:.3}", d(|s| s.script - s.ipxe_dhcp));
    println!("stage_kernel_p50_s={:.3}", d(|s| s.kernel - s.script));
    println!("stage_initrd_p50_s={:.3}", d(|s| s.initrd - s.kernel));
    println!("client_cpu_ticks={}", own_cpu_ticks());
    for (why, n) in &failures {
        println!("failure={n} x {why}");
    }
    Ok(())
}

fn main() {
    let cfg = match parse_args() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let rt = if cfg.threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(cfg.threads)
            .enable_all()
            .build()
    };
    let rt = match rt {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tokio runtime: {e}");
            std::process::exit(1);
        }
    };
    // give the runtime a moment to settle the timers' base before t0
    if let Err(e) = rt.block_on(async {
        sleep(Duration::from_millis(1)).await;
        run(cfg).await
    }) {
        eprintln!("storm: {e}");
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_is_read_for_its_machine_only() {
        let m = Machine::new(5, 4);
        let other = Machine::new(6, 4);
        let mut r = dhcp_packet(&m, 0x1234, 0, DISCOVER, false, None);
        r[0] = 2;
        r[16..20].copy_from_slice(&[10, 213, 16, 9]);
        r[20..24].copy_from_slice(&[10, 213, 0, 1]);
        r[108..119].copy_from_slice(b"snponly.efi");
        // replace the options with 53 OFFER and 54
        r.truncate(240);
        r.extend_from_slice(&[53, 1, OFFER, 54, 4, 10, 213, 0, 1, 255]);
        let (kind, lease) = dhcp_reply(&r, &m, 0x1234).expect("a reply for m");
        assert_eq!(kind, OFFER);
        assert_eq!(lease.yiaddr, Ipv4Addr::new(10, 213, 16, 9));
        assert_eq!(lease.server_id, Ipv4Addr::new(10, 213, 0, 1));
        assert_eq!(lease.file, "snponly.efi");
        assert!(dhcp_reply(&r, &other, 0x1234).is_none());
        assert!(dhcp_reply(&r, &m, 0x1235).is_none());
        // a truncated option is no reply, not a panic
        r.truncate(r.len() - 4);
        assert!(dhcp_reply(&r, &m, 0x1234).is_none());
    }

    #[test]
    fn fleet_mix_and_ipxe_expansion() {
        assert_eq!(Machine::new(3, 4).fw, Firmware::Bios);
        assert_eq!(Machine::new(4, 4).fw, Firmware::Edk2);
        let m = Machine::new(0x0102, 4);
        assert_eq!(
            expand("http://10.213.0.1/ipxe.php?mac=${mac}&uuid=${uuid}", &m),
            "http://10.213.0.1/ipxe.php?mac=02%3A50%3A58%3A45%3A01%3A02&uuid=5eed0017-0000-0000-0000-000000000102"
        );
        let u = parse_url("http://10.213.0.1:8080/a/b?c").expect("url");
        assert_eq!(
            (u.host, u.port, u.path.as_str()),
            (Ipv4Addr::new(10, 213, 0, 1), 8080, "/a/b?c")
        );
        assert!(parse_url("tftp://10.213.0.1/x").is_none());
    }

    #[test]
    fn script_images_in_order() {
        let s = "#!ipxe\nkernel http://s/linux initrd=initrd.gz\ninitrd --name x http://s/initrd.gz\nboot\n";
        assert_eq!(
            script_urls(s),
            vec![
                ("kernel".to_string(), "http://s/linux".to_string()),
                ("initrd".to_string(), "http://s/initrd.gz".to_string())
            ]
        );
    }

    #[test]
    fn oack_options_are_read() {
        let o = oack_options(b"\x00\x06blksize\x001468\x00windowsize\x004\x00");
        assert_eq!(o.get("blksize").map(String::as_str), Some("1468"));
        assert_eq!(o.get("windowsize").map(String::as_str), Some("4"));
        assert_eq!(tftp_error_text(b"\x00\x05\x00\x01nope\x00"), "ERROR 1 nope");
    }
}
