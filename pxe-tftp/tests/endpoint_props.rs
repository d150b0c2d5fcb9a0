//! Property test of the endpoint (the same properties as the
//! `tftp_endpoint` fuzz target): arbitrary datagrams from a few clients and
//! strangers, on the request port and on transfer ports, with time passing,
//! in every mode, with transfers both endpoint-driven and caller-driven.
//! Nothing panics, no more than `tftp-max` transfers run, every reply is a
//! well-formed TFTP packet, and the counters add up after every step.
#![cfg(feature = "std")]
#![allow(clippy::unwrap_used, clippy::panic)]

use core::net::SocketAddr;
use core::time::Duration;

use proptest::prelude::*;
use pxe_tftp::server::{
    Endpoint, EndpointConfig, Event, FileRefusal, FileRequest, Files, Handled, Local, Opened,
    PortChoice, Transfer, TransferPorts, Transmit,
};
use pxe_tftp::wire::{ErrorCode, OptionWriter, Packet, RequestKind, write_ack, write_error};
use pxe_tftp::{Instant, ServerLimits, TransferConfig};

static FILE: [u8; 5000] = {
    let mut f = [0u8; 5000];
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
        match req.name {
            b"a" => Ok(Opened::new(&FILE[..])),
            b"b" => Ok(Opened {
                source: &FILE[..100],
                mtu: Some(576),
            }),
            _ => Err(FileRefusal::NotFound),
        }
    }
}

#[derive(Debug, Clone)]
enum Op {
    /// Request from client `k`: file, tsize, blksize, windowsize.
    Request(u8, bool, bool, Option<u16>, Option<u16>),
    /// ACK from client `k` to its port.
    Ack(u8, u16),
    /// ERROR from client `k` to its port.
    Error(u8, u16),
    /// Raw bytes from client `k` to the request port or (per-port) a
    /// transfer port chosen by `port`.
    Raw(u8, u16, Vec<u8>),
    /// Let this many milliseconds pass.
    Wait(u16),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (
            0u8..6,
            any::<bool>(),
            any::<bool>(),
            proptest::option::of(8u16..2000),
            proptest::option::of(1u16..20)
        )
            .prop_map(|(k, f, t, b, w)| Op::Request(k, f, t, b, w)),
        (0u8..6, 0u16..12).prop_map(|(k, b)| Op::Ack(k, b)),
        (0u8..6, 0u16..10).prop_map(|(k, c)| Op::Error(k, c)),
        (
            0u8..6,
            any::<u16>(),
            proptest::collection::vec(any::<u8>(), 0..40)
        )
            .prop_map(|(k, p, d)| Op::Raw(k, p, d)),
        (0u16..3000).prop_map(Op::Wait),
    ]
}

fn request(file: bool, tsize: bool, blksize: Option<u16>, window: Option<u16>) -> Vec<u8> {
    let mut buf = vec![0u8; 512];
    let name: &[u8] = if file { b"a" } else { b"b" };
    let mut w = OptionWriter::request(&mut buf, RequestKind::Read, name, b"octet").unwrap();
    if tsize {
        w.option(b"tsize", b"0").unwrap();
    }
    if let Some(b) = blksize {
        w.option_u64(b"blksize", u64::from(b)).unwrap();
    }
    if let Some(ws) = window {
        w.option_u64(b"windowsize", u64::from(ws)).unwrap();
    }
    let n = w.finish();
    buf.truncate(n);
    buf
}

fn check_transmit(t: &Transmit, buf: &[u8]) {
    assert!(t.len <= buf.len());
    for d in t.datagrams(buf) {
        assert!(
            Packet::parse(d).is_ok(),
            "endpoint sent a malformed packet: {d:?}"
        );
    }
}

fn run(mode: TransferPorts, max: usize, detach: bool, ops: Vec<Op>) {
    let config = EndpointConfig {
        ports: mode,
        max_transfers: max,
        max_segments: 4,
        limits: ServerLimits {
            max_windowsize: 8,
            ..ServerLimits::default()
        },
        transfer: TransferConfig {
            retransmit_timeout: Duration::from_millis(500),
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
    let client = |k: u8| SocketAddr::from(([10, 0, 0, 2 + k / 3], 1000 + u16::from(k % 3)));
    let mut away: Vec<Transfer<&'static [u8]>> = Vec::new();
    let mut next_port = 40_000u16;
    let mut now = Instant::ZERO;
    let mut buf = vec![0u8; 8 * 2004];
    let mut reply = [0u8; 512];
    let mut opened = 0u32;
    let mut ports_of: Vec<(SocketAddr, u16)> = Vec::new();
    for op in ops {
        let (from, port, datagram) = match &op {
            Op::Request(k, f, t, b, w) => (client(*k), 69, request(*f, *t, *b, *w)),
            Op::Ack(k, b) | Op::Error(k, b) => {
                let mut d = [0u8; 16];
                let n = if matches!(op, Op::Ack(..)) {
                    write_ack(&mut d, *b).unwrap()
                } else {
                    write_error(&mut d, ErrorCode(*b), b"e").unwrap()
                };
                // To the client's transfer port, if it has one.
                let to = if mode == TransferPorts::Single {
                    69
                } else {
                    ports_of
                        .iter()
                        .rev()
                        .find(|(p, _)| *p == client(*k))
                        .map_or(69, |(_, port)| *port)
                };
                (client(*k), to, d[..n].to_vec())
            }
            Op::Raw(k, p, d) => {
                let port = if *p % 2 == 0 { 69 } else { 40_000 + p % 8 };
                (client(*k), port, d.clone())
            }
            Op::Wait(ms) => {
                now = now + Duration::from_millis(u64::from(*ms));
                e.handle_timeout(now);
                for t in &mut away {
                    t.handle_timeout(now);
                }
                (client(0), 0, Vec::new())
            }
        };
        if port != 0 {
            // A datagram for a caller-driven transfer goes to it directly.
            if let Some(t) = away.iter_mut().find(|t| t.local().port == port) {
                if let Some(r) = t.handle(now, from, &datagram, &mut reply) {
                    check_transmit(&r, &reply);
                }
                while let Some(ev) = t.poll_endpoint_event() {
                    e.handle_event(t.id(), ev);
                }
            } else {
                match e.handle(now, from, server.with_port(port), &datagram, &mut reply) {
                    Handled::Admitted(a) => {
                        let choice = a.ports().next();
                        let port = match choice {
                            Some(PortChoice::Port(p)) => p,
                            _ => {
                                next_port = 40_000 + (next_port + 1) % 8;
                                next_port
                            }
                        };
                        opened += 1;
                        ports_of.push((a.peer(), port));
                        if opened.is_multiple_of(5) {
                            let _ = e.not_started(a);
                        } else if detach {
                            if let Ok(t) = e.detach(a, port) {
                                away.push(t);
                            }
                        } else {
                            let _ = e.open(a, port);
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

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn single_port(max in 1usize..4, ops in proptest::collection::vec(op(), 1..120)) {
        run(TransferPorts::Single, max, false, ops);
    }

    #[test]
    fn per_port_endpoint_driven(max in 1usize..4, ops in proptest::collection::vec(op(), 1..120)) {
        run(TransferPorts::Range { first: 40_000, last: 40_007 }, max, false, ops);
    }

    #[test]
    fn per_port_caller_driven(max in 1usize..4, ops in proptest::collection::vec(op(), 1..120)) {
        run(TransferPorts::Ephemeral, max, true, ops);
    }
}
