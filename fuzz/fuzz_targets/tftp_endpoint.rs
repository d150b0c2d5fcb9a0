//! The server endpoint fed arbitrary datagrams from arbitrary peers, on the
//! request port and on transfer ports, with time passing, in every mode
//! (single port, ports driven by the endpoint, ports driven by the
//! caller). Invariants checked after every step:
//! * no panic;
//! * never more than `tftp-max` transfers run;
//! * every datagram the endpoint writes parses as TFTP and fits its buffer;
//! * the counters add up: every request is a duplicate, refused, busy or
//!   started, and every started transfer is running or ended once.
#![no_main]

use core::net::SocketAddr;
use core::time::Duration;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use pxe_tftp::server::{
    Endpoint, EndpointConfig, Event, FileRefusal, FileRequest, Files, Handled, Local, Opened,
    PortChoice, Transfer, TransferPorts, Transmit,
};
use pxe_tftp::wire::Packet;
use pxe_tftp::{Instant, ServerLimits, TransferConfig};

static FILE: [u8; 3000] = {
    let mut f = [0u8; 3000];
    let mut i = 0;
    while i < f.len() {
        f[i] = (i % 251) as u8;
        i += 1;
    }
    f
};

struct Mem;

impl Files for Mem {
    type Source = &'static [u8];
    type Refusal = FileRefusal;
    fn open(&mut self, req: &FileRequest<'_>) -> Result<Opened<&'static [u8]>, FileRefusal> {
        match req.name.first() {
            Some(b'a') => Ok(Opened::new(&FILE[..])),
            Some(b'b') => Ok(Opened {
                source: &FILE[..10],
                mtu: Some(576),
            }),
            Some(b'.') => Err(FileRefusal::AccessDenied),
            _ => Err(FileRefusal::NotFound),
        }
    }
}

#[derive(Arbitrary, Debug)]
enum Op {
    /// A datagram from peer `peer` to local port `port` (mapped: 0 = the
    /// request port, else a transfer port of the range).
    Datagram { peer: u8, port: u8, bytes: Vec<u8> },
    /// An RRQ with these options from peer `peer`.
    Request {
        peer: u8,
        file: u8,
        tsize: bool,
        blksize: Option<u16>,
        window: Option<u8>,
    },
    /// An ACK from peer `peer` to its transfer.
    Ack { peer: u8, block: u16 },
    /// Let this many milliseconds pass.
    Wait(u16),
    /// Give up an admission instead of opening it (next one).
    RefuseNextPort,
}

#[derive(Arbitrary, Debug)]
struct Input {
    mode: u8,
    max: u8,
    max_segments: u8,
    ops: Vec<Op>,
}

fuzz_target!(|input: Input| run(input));

fn check_transmit(t: &Transmit, buf: &[u8]) {
    assert!(t.len <= buf.len(), "transmit longer than its buffer");
    for d in t.datagrams(buf) {
        assert!(Packet::parse(d).is_ok(), "malformed datagram {d:?}");
    }
}

fn rrq(file: u8, tsize: bool, blksize: Option<u16>, window: Option<u8>) -> Vec<u8> {
    let mut v = vec![0, 1, b"ab.x"[usize::from(file % 4)], 0];
    v.extend_from_slice(b"octet\0");
    if tsize {
        v.extend_from_slice(b"tsize\x000\x00");
    }
    if let Some(b) = blksize {
        v.extend_from_slice(format!("blksize\0{b}\0").as_bytes());
    }
    if let Some(w) = window {
        v.extend_from_slice(format!("windowsize\0{w}\0").as_bytes());
    }
    v
}

fn run(input: Input) {
    let max = usize::from(input.max % 5);
    let detach = input.mode % 3 == 2;
    let ports = match input.mode % 3 {
        0 => TransferPorts::Single,
        1 => TransferPorts::Range {
            first: 40_000,
            last: 40_007,
        },
        _ => TransferPorts::Ephemeral,
    };
    let config = EndpointConfig {
        ports,
        max_transfers: max,
        max_segments: usize::from(input.max_segments % 70),
        limits: ServerLimits {
            max_windowsize: 8,
            ..ServerLimits::default()
        },
        transfer: TransferConfig {
            retransmit_timeout: Duration::from_millis(300),
            max_retransmits: 2,
            linger_timeouts: 1,
        },
        ..EndpointConfig::default()
    };
    let mut e = Endpoint::new(config, Mem);
    let server = Local {
        addr: [10, 0, 0, 1].into(),
        port: 69,
        interface: 0,
    };
    let peer = |k: u8| SocketAddr::from(([10, 0, 0, 2 + k % 3], 1000 + u16::from(k % 4)));
    let mut away: Vec<Transfer<&'static [u8]>> = Vec::new();
    let mut ports_of: Vec<(SocketAddr, u16)> = Vec::new();
    let mut next_port = 0u16;
    let mut refuse_next = false;
    let mut now = Instant::ZERO;
    let mut buf = vec![0u8; 16 * 1472];
    let mut reply = [0u8; 512];
    for op in input.ops.into_iter().take(500) {
        let (from, port, datagram) = match op {
            Op::Datagram {
                peer: k,
                port,
                bytes,
            } => {
                let port = if port % 2 == 0 {
                    69
                } else {
                    40_000 + u16::from(port % 8)
                };
                (peer(k), port, bytes)
            }
            Op::Request {
                peer: k,
                file,
                tsize,
                blksize,
                window,
            } => (peer(k), 69, rrq(file, tsize, blksize, window)),
            Op::Ack { peer: k, block } => {
                let to = ports_of
                    .iter()
                    .rev()
                    .find(|(p, _)| *p == peer(k))
                    .map_or(69, |(_, p)| *p);
                let b = block.to_be_bytes();
                (peer(k), to, vec![0, 4, b[0], b[1]])
            }
            Op::Wait(ms) => {
                now = now + Duration::from_millis(u64::from(ms));
                e.handle_timeout(now);
                for t in &mut away {
                    t.handle_timeout(now);
                }
                (peer(0), 0, Vec::new())
            }
            Op::RefuseNextPort => {
                refuse_next = true;
                (peer(0), 0, Vec::new())
            }
        };
        if port != 0 {
            if let Some(t) = away.iter_mut().find(|t| t.local().port == port) {
                if let Some(r) = t.handle(now, from, &datagram, &mut reply) {
                    check_transmit(&r, &reply);
                }
            } else {
                match e.handle(now, from, server.with_port(port), &datagram, &mut reply) {
                    Handled::Admitted(a) => {
                        let p = match a.ports().next() {
                            Some(PortChoice::Port(p)) => p,
                            _ => {
                                next_port = (next_port + 1) % 8;
                                40_000 + next_port
                            }
                        };
                        ports_of.push((a.peer(), p));
                        if std::mem::take(&mut refuse_next) {
                            let _ = e.not_started(a);
                        } else if detach {
                            if let Ok(t) = e.detach(a, p) {
                                away.push(t);
                            }
                        } else {
                            let _ = e.open(a, p);
                        }
                    }
                    Handled::Rejected { reply: Some(t), .. }
                    | Handled::Refused { reply: Some(t), .. }
                    | Handled::Foreign { reply: Some(t) } => check_transmit(&t, &reply),
                    _ => {}
                }
            }
        }
        while let Some(t) = e.poll_transmit(now, &mut buf) {
            check_transmit(&t, &buf);
        }
        for t in &mut away {
            while let Some(tx) = t.poll_transmit(now, &mut buf) {
                check_transmit(&tx, &buf);
            }
            while let Some(ev) = t.poll_endpoint_event() {
                e.handle_event(t.id(), ev);
            }
        }
        while let Some(ev) = e.poll_event() {
            if let Event::Cancel(id) = ev
                && let Some(i) = away.iter().position(|t| t.id() == id)
            {
                let t = away.swap_remove(i);
                let _ = e.finish(t);
            }
        }
        let mut i = 0;
        while i < away.len() {
            if away[i].is_finished() {
                let t = away.swap_remove(i);
                let _ = e.finish(t);
            } else {
                i += 1;
            }
        }
        let c = e.counters();
        assert!(e.active() <= max, "{} running, tftp-max {max}", e.active());
        assert_eq!(
            c.requests,
            c.duplicates + c.refused + c.busy + c.started,
            "{c:?}"
        );
        assert_eq!(
            c.started,
            c.completed + c.probes + c.failed.total() + e.active() as u64,
            "{c:?}"
        );
    }
}
