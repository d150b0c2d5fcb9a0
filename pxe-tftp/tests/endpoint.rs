//! The server endpoint, one datagram at a time, in its three modes: routing
//! by client and local port, ERROR 5 for strangers, the repeated-request
//! rule, size probes, `tftp-max`, refusals, port choice, windows packed
//! into segmented sends, MTU limits, and the counters' invariants after
//! every step.
#![cfg(feature = "std")]
#![allow(clippy::unwrap_used, clippy::panic)]

use core::fmt;
use core::net::SocketAddr;
use core::time::Duration;

use pxe_tftp::client::ClientRead;
use pxe_tftp::server::{
    Counters, Endpoint, EndpointConfig, EndpointEvent, Event, Failure, FileRequest, Files, Handled,
    Local, NotStarted, Opened, Outcome, PortChoice, Refusal, RequestErrors, Source, Transfer,
    TransferPorts, Transmit,
};
use pxe_tftp::wire::{ErrorCode, Mode, OptionWriter, Packet, RequestKind, write_ack, write_error};
use pxe_tftp::{Instant, ServerLimits, TransferConfig, TransferOptions};

// ---- files -----------------------------------------------------------------

/// A refusal that names the file in the client's message and says more in
/// the log.
#[derive(Debug)]
enum Why {
    Missing,
    Outside,
}

impl fmt::Display for Why {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Why::Missing => f.write_str("no such file in the table"),
            Why::Outside => f.write_str("path escapes the root"),
        }
    }
}

impl Refusal for Why {
    fn code(&self) -> ErrorCode {
        match self {
            Why::Missing => ErrorCode::FILE_NOT_FOUND,
            Why::Outside => ErrorCode::ACCESS_VIOLATION,
        }
    }
    fn write_message(&self, req: &FileRequest<'_>, out: &mut dyn fmt::Write) -> fmt::Result {
        write!(out, "file {} not found", String::from_utf8_lossy(req.name))
    }
}

struct Table {
    files: Vec<(&'static str, &'static [u8])>,
    mtu: Option<u32>,
    opened: Vec<(Vec<u8>, SocketAddr, Local)>,
}

impl Files for Table {
    type Source = &'static [u8];
    type Refusal = Why;
    fn open(&mut self, req: &FileRequest<'_>) -> Result<Opened<&'static [u8]>, Why> {
        self.opened.push((req.name.to_vec(), req.peer, req.local));
        if pxe_tftp::server::climbs_out(req.name) {
            return Err(Why::Outside);
        }
        let data = self
            .files
            .iter()
            .find(|(n, _)| n.as_bytes() == req.name)
            .map(|(_, d)| *d)
            .ok_or(Why::Missing)?;
        Ok(Opened {
            source: data,
            mtu: self.mtu,
        })
    }
}

fn content(len: usize) -> &'static [u8] {
    Box::leak(
        (0..len)
            .map(|i| (i as u8).wrapping_mul(13) ^ (i >> 9) as u8)
            .collect::<Vec<_>>()
            .into_boxed_slice(),
    )
}

fn table(len: usize) -> Table {
    Table {
        files: vec![("boot.bin", content(len)), ("other.bin", content(100))],
        mtu: None,
        opened: Vec::new(),
    }
}

// ---- wire helpers ------------------------------------------------------------

const T0: Instant = Instant::ZERO;

fn peer(port: u16) -> SocketAddr {
    SocketAddr::from(([10, 0, 0, 2], port))
}

fn at(port: u16) -> Local {
    Local {
        addr: [10, 0, 0, 1].into(),
        port,
        interface: 3,
    }
}

fn rrq(name: &str, opts: &[(&str, &str)]) -> Vec<u8> {
    let mut buf = vec![0u8; 512];
    let mut w =
        OptionWriter::request(&mut buf, RequestKind::Read, name.as_bytes(), b"octet").unwrap();
    for (k, v) in opts {
        w.option(k.as_bytes(), v.as_bytes()).unwrap();
    }
    let n = w.finish();
    buf.truncate(n);
    buf
}

fn ack(block: u16) -> Vec<u8> {
    let mut b = [0u8; 4];
    write_ack(&mut b, block).unwrap();
    b.to_vec()
}

fn error(code: u16, msg: &str) -> Vec<u8> {
    let mut b = [0u8; 128];
    let n = write_error(&mut b, ErrorCode(code), msg.as_bytes()).unwrap();
    b[..n].to_vec()
}

/// Opcode and block/code of a datagram.
fn head(d: &[u8]) -> (u16, u16) {
    (
        u16::from_be_bytes([d[0], d[1]]),
        u16::from_be_bytes([d[2], d[3]]),
    )
}

/// Every datagram the endpoint has to send now, with its transmit.
fn drain(e: &mut Endpoint<Table>, now: Instant) -> Vec<(Transmit, Vec<u8>)> {
    let mut buf = vec![0u8; 65536];
    let mut out = Vec::new();
    while let Some(t) = e.poll_transmit(now, &mut buf) {
        for d in t.datagrams(&buf) {
            out.push((t, d.to_vec()));
        }
        assert!(out.len() < 100_000, "runaway");
    }
    out
}

fn events(e: &mut Endpoint<Table>) -> Vec<Event<&'static [u8]>> {
    std::iter::from_fn(|| e.poll_event()).collect()
}

/// The counters' invariants (no admission pending).
fn check(e: &Endpoint<Table>) -> Counters {
    let c = e.counters();
    assert_eq!(
        c.requests,
        c.duplicates + c.refused + c.busy + c.started,
        "every request is counted once: {c:?}"
    );
    assert_eq!(
        c.started,
        c.completed + c.probes + c.failed.total() + e.active() as u64,
        "every transfer is running or ended once: {c:?}"
    );
    assert!(e.active() <= e.config().max_transfers);
    c
}

fn single(max: usize, len: usize) -> Endpoint<Table> {
    let config = EndpointConfig {
        ports: TransferPorts::Single,
        max_transfers: max,
        ..EndpointConfig::default()
    };
    Endpoint::new(config, table(len))
}

fn per_port(max: usize, len: usize) -> Endpoint<Table> {
    let config = EndpointConfig {
        ports: TransferPorts::Range {
            first: 50_000,
            last: 50_009,
        },
        max_transfers: max,
        ..EndpointConfig::default()
    };
    Endpoint::new(config, table(len))
}

/// Feeds a datagram on `local` and expects it delivered.
fn deliver(e: &mut Endpoint<Table>, now: Instant, from: SocketAddr, local: Local, d: &[u8]) {
    let mut reply = [0u8; 512];
    let h = e.handle(now, from, local, d, &mut reply);
    assert!(matches!(h, Handled::Delivered), "{h:?}");
}

/// Sends a request in single-port mode and expects a start.
fn start_single(e: &mut Endpoint<Table>, from: SocketAddr, req: &[u8]) {
    let mut reply = [0u8; 512];
    let h = e.handle(T0, from, at(69), req, &mut reply);
    assert!(matches!(h, Handled::Started { .. }), "{h:?}");
}

/// Sends a request in per-port mode, opens it on the first candidate port
/// and returns that port.
fn start_open(e: &mut Endpoint<Table>, from: SocketAddr, req: &[u8]) -> u16 {
    let mut reply = [0u8; 512];
    match e.handle(T0, from, at(69), req, &mut reply) {
        Handled::Admitted(a) => {
            let Some(PortChoice::Port(p)) = a.ports().next() else {
                panic!("a range gives ports")
            };
            e.open(a, p).unwrap();
            p
        }
        other => panic!("expected an admission, got {other:?}"),
    }
}

// ---- routing -----------------------------------------------------------------

#[test]
fn single_port_routes_by_client_and_answers_strangers_with_error_5() {
    let mut e = single(4, 2000);
    start_single(&mut e, peer(2000), &rrq("boot.bin", &[]));
    start_single(&mut e, peer(2001), &rrq("other.bin", &[]));
    let out = drain(&mut e, T0);
    assert_eq!(out.len(), 2);
    for (t, d) in &out {
        assert_eq!(t.source, Source::Port(at(69)), "single port: from 69");
        assert_eq!(head(d), (3, 1));
    }
    assert_eq!(
        e.files().opened[0].2,
        at(69),
        "the file request knows the local address"
    );
    // ACK 1 from the first client moves only its transfer.
    deliver(&mut e, T0, peer(2000), at(69), &ack(1));
    let out = drain(&mut e, T0);
    assert_eq!(out.len(), 1);
    assert_eq!(
        (out[0].0.destination, head(&out[0].1)),
        (peer(2000), (3, 2))
    );
    // A stranger's ACK on the shared port: ERROR 5, nothing disturbed.
    let mut reply = [0u8; 512];
    let d = ack(1);
    let h = e.handle(T0, peer(3000), at(69), &d, &mut reply);
    let Handled::Foreign { reply: Some(t) } = h else {
        panic!("{h:?}")
    };
    assert_eq!(
        (t.destination, t.source),
        (peer(3000), Source::Port(at(69)))
    );
    assert_eq!(head(&reply[..t.len]), (5, 5));
    // A stranger's ERROR is never answered.
    let d = error(0, "x");
    let h = e.handle(T0, peer(3000), at(69), &d, &mut reply);
    assert!(matches!(h, Handled::Foreign { reply: None }), "{h:?}");
    assert_eq!(check(&e).foreign_tids, 2);
    assert!(drain(&mut e, T0).is_empty());
    // The other client finishes (100 bytes: one block).
    deliver(&mut e, T0, peer(2001), at(69), &ack(1));
    let ev = events(&mut e);
    assert!(
        matches!(&ev[..], [Event::Ended(x)] if x.outcome == Outcome::Completed && x.transfer.peer() == peer(2001)),
        "{ev:?}"
    );
    assert_eq!(check(&e).completed, 1);
    assert_eq!(e.active(), 1);
}

#[test]
fn per_port_routes_by_local_port_and_a_stranger_gets_error_5_from_it() {
    let mut e = per_port(4, 2000);
    let p = start_open(&mut e, peer(2000), &rrq("boot.bin", &[]));
    assert_eq!(p, 50_000);
    let out = drain(&mut e, T0);
    assert_eq!(
        out[0].0.source,
        Source::Port(at(p)),
        "from the transfer's port"
    );
    let mut reply = [0u8; 512];
    let d = ack(1);
    let h = e.handle(T0, peer(4000), at(p), &d, &mut reply);
    let Handled::Foreign { reply: Some(t) } = h else {
        panic!("{h:?}")
    };
    assert_eq!((t.source, t.destination), (Source::Port(at(p)), peer(4000)));
    assert_eq!(head(&reply[..t.len]), (5, 5));
    // A port nobody runs on.
    let d = ack(1);
    let h = e.handle(T0, peer(2000), at(50_005), &d, &mut reply);
    assert!(matches!(h, Handled::Unroutable), "{h:?}");
    // A non-request on the request port is refused (ERROR 4), as dnsmasq.
    let d = ack(1);
    let h = e.handle(T0, peer(2000), at(69), &d, &mut reply);
    let Handled::Rejected { reply: Some(t), .. } = h else {
        panic!("{h:?}")
    };
    assert_eq!(head(&reply[..t.len]), (5, 4));
    // The transfer goes on: 2000 bytes are 4 blocks.
    for b in 1..=4 {
        deliver(&mut e, T0, peer(2000), at(p), &ack(b));
        if b < 4 {
            assert_eq!(head(&drain(&mut e, T0)[0].1), (3, b + 1));
        }
    }
    let ev = events(&mut e);
    let [Event::Ended(x)] = &ev[..] else {
        panic!("{ev:?}")
    };
    assert_eq!(
        (x.outcome, x.transfer.local().port),
        (Outcome::Completed, p)
    );
    let c = check(&e);
    assert_eq!((c.completed, c.foreign_tids, c.bytes), (1, 1, 2000));
}

#[test]
fn ports_are_tried_round_robin_and_a_taken_port_is_refused() {
    let mut e = per_port(10, 10);
    let mut reply = [0u8; 512];
    let first = start_open(&mut e, peer(1), &rrq("boot.bin", &[]));
    let d = rrq("boot.bin", &[]);
    let Handled::Admitted(a) = e.handle(T0, peer(2), at(69), &d, &mut reply) else {
        panic!()
    };
    let tried: Vec<_> = a.ports().collect();
    assert_eq!(tried.len(), 10, "every port of the range once");
    assert_eq!(
        tried[0],
        PortChoice::Port(50_001),
        "starting after the last one"
    );
    assert_eq!(tried[9], PortChoice::Port(50_000));
    assert_eq!(e.open(a, first).unwrap_err(), NotStarted::PortInUse(first));
    let d = rrq("boot.bin", &[]);
    let Handled::Admitted(a) = e.handle(T0, peer(3), at(69), &d, &mut reply) else {
        panic!()
    };
    assert_eq!(e.open(a, 69).unwrap_err(), NotStarted::PortInUse(69));
    let d = rrq("boot.bin", &[]);
    let Handled::Admitted(a) = e.handle(T0, peer(4), at(69), &d, &mut reply) else {
        panic!()
    };
    let why = e.not_started(a);
    assert_eq!(
        why.to_string(),
        "no free port in tftp-port-range 50000-50009"
    );
    let c = check(&e);
    assert_eq!((c.started, c.busy), (1, 3));
    // Ephemeral ports: one "any" choice, the port reported is taken.
    let mut e = Endpoint::new(EndpointConfig::default(), table(10));
    let d = rrq("boot.bin", &[]);
    let Handled::Admitted(a) = e.handle(T0, peer(1), at(69), &d, &mut reply) else {
        panic!()
    };
    assert_eq!(a.ports().collect::<Vec<_>>(), [PortChoice::Any]);
    e.open(a, 41_234).unwrap();
    assert_eq!(drain(&mut e, T0)[0].0.source, Source::Port(at(41_234)));
}

// ---- the repeated-request rule -------------------------------------------

#[test]
fn a_repeated_request_before_any_ack_is_the_same_request_in_every_mode() {
    let req = rrq("boot.bin", &[("blksize", "1024"), ("tsize", "0")]);
    let mut reply = [0u8; 512];
    // Single port.
    let mut e = single(4, 5000);
    start_single(&mut e, peer(2000), &req);
    assert_eq!(head(&drain(&mut e, T0)[0].1).0, 6, "OACK");
    for _ in 0..3 {
        let h = e.handle(T0, peer(2000), at(69), &req, &mut reply);
        assert!(matches!(h, Handled::Duplicate), "{h:?}");
    }
    assert!(drain(&mut e, T0).is_empty(), "no second answer");
    let c = check(&e);
    assert_eq!((c.started, c.duplicates, e.active()), (1, 3, 1));
    // Per port, endpoint-driven.
    let mut e = per_port(4, 5000);
    start_open(&mut e, peer(2000), &req);
    let h = e.handle(T0, peer(2000), at(69), &req, &mut reply);
    assert!(matches!(h, Handled::Duplicate), "{h:?}");
    assert_eq!(check(&e).started, 1);
    // Per port, caller-driven: the endpoint remembers the request.
    let mut e = per_port(4, 5000);
    let Handled::Admitted(a) = e.handle(T0, peer(2000), at(69), &req, &mut reply) else {
        panic!()
    };
    let t = e.detach(a, 50_000).unwrap();
    let h = e.handle(T0, peer(2000), at(69), &req, &mut reply);
    assert!(matches!(h, Handled::Duplicate), "{h:?}");
    assert_eq!(check(&e).duplicates, 1);
    let _ = e.finish(t);
    // Without options: DATA 1 unacknowledged is no progress either.
    let mut e = single(4, 5000);
    let plain = rrq("boot.bin", &[]);
    start_single(&mut e, peer(2000), &plain);
    let h = e.handle(T0, peer(2000), at(69), &plain, &mut reply);
    assert!(matches!(h, Handled::Duplicate), "{h:?}");
}

#[test]
fn a_request_after_progress_is_a_new_request_and_replaces_the_transfer() {
    let req = rrq("boot.bin", &[]);
    let mut reply = [0u8; 512];
    // Single port: the old transfer ends as superseded, with no ERROR.
    let mut e = single(1, 5000);
    start_single(&mut e, peer(2000), &req);
    drain(&mut e, T0);
    deliver(&mut e, T0, peer(2000), at(69), &ack(1));
    drain(&mut e, T0);
    let h = e.handle(T0, peer(2000), at(69), &req, &mut reply);
    assert!(
        matches!(h, Handled::Started { .. }),
        "tftp-max 1 and still served: {h:?}"
    );
    let out = drain(&mut e, T0);
    assert_eq!(out.len(), 1);
    assert_eq!(
        head(&out[0].1),
        (3, 1),
        "the new transfer starts over, no ERROR"
    );
    let ev = events(&mut e);
    assert!(
        matches!(&ev[..], [Event::Ended(x)] if x.outcome == Outcome::Failed(Failure::Superseded)),
        "{ev:?}"
    );
    let c = check(&e);
    assert_eq!((c.started, c.failed.superseded, c.bytes), (2, 1, 1024));
    // Per port, endpoint-driven: the old port closes, a new one opens.
    let mut e = per_port(4, 5000);
    let p1 = start_open(&mut e, peer(2000), &req);
    drain(&mut e, T0);
    deliver(&mut e, T0, peer(2000), at(p1), &ack(1));
    let p2 = start_open(&mut e, peer(2000), &req);
    assert_ne!(p1, p2);
    let ev = events(&mut e);
    assert!(
        matches!(&ev[..], [Event::Ended(x)] if x.transfer.local().port == p1),
        "{ev:?}"
    );
    check(&e);
}

#[test]
fn a_different_request_before_any_ack_is_a_new_request() {
    // A client asking for another file, or with other options, from the
    // same port: not a retransmission.
    let mut reply = [0u8; 512];
    let mut e = single(4, 5000);
    start_single(&mut e, peer(1545), &rrq("boot.bin", &[("tsize", "0")]));
    let d = rrq("boot.bin", &[]);
    let h = e.handle(T0, peer(1545), at(69), &d, &mut reply);
    assert!(matches!(h, Handled::Started { .. }), "{h:?}");
    let c = check(&e);
    assert_eq!((c.started, c.failed.superseded, e.active()), (2, 1, 1));
    // A malformed datagram from the client leaves its transfer alone.
    let h = e.handle(T0, peer(1545), at(69), b"\x00\x01x", &mut reply);
    assert!(matches!(h, Handled::Rejected { .. }), "{h:?}");
    assert_eq!(e.active(), 1);
    check(&e);
}

#[test]
fn a_caller_driven_transfer_reports_progress_and_is_cancelled_when_replaced() {
    let req = rrq("boot.bin", &[]);
    let mut reply = [0u8; 512];
    let mut buf = [0u8; 1500];
    let mut e = per_port(1, 5000);
    let Handled::Admitted(a) = e.handle(T0, peer(2000), at(69), &req, &mut reply) else {
        panic!()
    };
    let mut t: Transfer<&'static [u8]> = e.detach(a, 50_000).unwrap();
    assert_eq!(e.active(), 1);
    let tx = t.poll_transmit(T0, &mut buf).unwrap();
    assert_eq!(head(&buf[..tx.len]), (3, 1));
    assert!(t.handle(T0, peer(2000), &ack(1), &mut buf).is_none());
    assert_eq!(t.poll_endpoint_event(), Some(EndpointEvent::Progressed));
    assert_eq!(t.poll_endpoint_event(), None, "told once");
    // Not yet told: the endpoint still takes it for the same request.
    let h = e.handle(T0, peer(2000), at(69), &req, &mut reply);
    assert!(matches!(h, Handled::Duplicate), "{h:?}");
    e.handle_event(t.id(), EndpointEvent::Progressed);
    // Told: a new request. It takes the slot at once (tftp-max is 1),
    // while the old transfer is told to stop.
    let d = req.clone();
    let h = e.handle(T0, peer(2000), at(69), &d, &mut reply);
    let Handled::Admitted(a) = h else {
        panic!("{h:?}")
    };
    let new = e.detach(a, 50_001).unwrap();
    let ev = events(&mut e);
    assert!(
        matches!(&ev[..], [Event::Cancel(id)] if *id == t.id()),
        "{ev:?}"
    );
    assert!(events(&mut e).is_empty(), "cancel told once");
    let c = check(&e);
    assert_eq!((c.started, c.failed.superseded, e.active()), (2, 1, 1));
    let ended = e.finish(t);
    assert_eq!(ended.outcome, Outcome::Failed(Failure::Superseded));
    let c = check(&e);
    assert_eq!(
        (c.failed.superseded, c.failed.total(), c.bytes),
        (1, 1, 512)
    );
    // A stale id changes nothing.
    e.handle_event(ended.transfer.id(), EndpointEvent::Progressed);
    let ended = e.finish(new);
    assert_eq!(
        ended.outcome,
        Outcome::Failed(Failure::Abandoned),
        "given back unfinished"
    );
    let c = check(&e);
    assert_eq!((c.started, c.failed.abandoned), (2, 1));
}

#[test]
fn a_replaced_transfer_that_had_ended_on_its_own_counts_as_it_ended() {
    // A size probe's ERROR 8 and the next request from the same port
    // arrive together: the request loop replaces the transfer before its
    // thread reports that the probe ended.
    let mut reply = [0u8; 512];
    let mut buf = [0u8; 1500];
    let mut e = per_port(2, 5000);
    let probe = rrq("boot.bin", &[("tsize", "0"), ("blksize", "1024")]);
    let h = e.handle(T0, peer(1057), at(69), &probe, &mut reply);
    let Handled::Admitted(a) = h else {
        panic!("{h:?}")
    };
    let mut t = e.detach(a, 50_000).unwrap();
    let _ = t.poll_transmit(T0, &mut buf).unwrap();
    assert!(
        t.handle(
            T0,
            peer(1057),
            &error(8, "User aborted the transfer"),
            &mut buf
        )
        .is_none()
    );
    assert!(t.is_finished());
    let fetch = rrq("boot.bin", &[("blksize", "1024")]);
    let h = e.handle(T0, peer(1057), at(69), &fetch, &mut reply);
    assert!(matches!(h, Handled::Admitted(_)), "{h:?}");
    // (The admission is pending: the counters' invariants wait for it.)
    assert_eq!(
        e.counters().failed.superseded,
        1,
        "counted as replaced for now"
    );
    let ended = e.finish(t);
    assert_eq!(ended.outcome, Outcome::SizeProbe);
    let c = e.counters();
    assert_eq!((c.probes, c.failed.total()), (1, 0), "{c:?}");
}

// ---- outcomes ------------------------------------------------------------

#[test]
fn a_uefi_size_probe_is_counted_as_a_probe() {
    let mut e = per_port(1, 3000);
    let p = start_open(
        &mut e,
        peer(1057),
        &rrq("boot.bin", &[("tsize", "0"), ("blksize", "1468")]),
    );
    let out = drain(&mut e, T0);
    let text = String::from_utf8_lossy(&out[0].1[2..]).replace('\0', " ");
    assert!(text.contains("tsize 3000"), "{text}");
    deliver(
        &mut e,
        T0,
        peer(1057),
        at(p),
        &error(8, "User aborted the transfer"),
    );
    let ev = events(&mut e);
    assert!(
        matches!(&ev[..], [Event::Ended(x)] if x.outcome == Outcome::SizeProbe),
        "{ev:?}"
    );
    let p = start_open(&mut e, peer(1058), &rrq("boot.bin", &[("blksize", "1468")]));
    drain(&mut e, T0);
    deliver(&mut e, T0, peer(1058), at(p), &ack(0));
    drain(&mut e, T0);
    deliver(&mut e, T0, peer(1058), at(p), &ack(1));
    drain(&mut e, T0);
    deliver(&mut e, T0, peer(1058), at(p), &ack(2));
    drain(&mut e, T0);
    deliver(&mut e, T0, peer(1058), at(p), &ack(3));
    let c = check(&e);
    assert_eq!(
        (c.probes, c.completed, c.failed.total()),
        (1, 1, 0),
        "{c:?}"
    );
    // An ERROR 8 to an OACK without tsize is a failure, not a probe.
    let p = start_open(&mut e, peer(1059), &rrq("boot.bin", &[("blksize", "1468")]));
    drain(&mut e, T0);
    deliver(&mut e, T0, peer(1059), at(p), &error(8, "no"));
    let c = check(&e);
    assert_eq!((c.probes, c.failed.peer_error), (1, 1));
}

#[test]
fn timeouts_retransmit_then_fail_and_free_the_slot() {
    let mut e = single(1, 3000);
    start_single(&mut e, peer(2000), &rrq("boot.bin", &[]));
    drain(&mut e, T0);
    let mut now = T0;
    let mut resent = 0;
    while let Some(d) = e.poll_timeout() {
        assert!(d > now);
        now = d;
        e.handle_timeout(now);
        resent += drain(&mut e, now).len();
        assert!(resent < 20);
    }
    assert_eq!(resent, TransferConfig::default().max_retransmits as usize);
    let c = check(&e);
    assert_eq!((c.failed.timed_out, e.active()), (1, 0));
    start_single(&mut e, peer(2001), &rrq("boot.bin", &[]));
}

#[test]
fn an_ended_transfer_reports_its_options_duration_retransmits_and_where_it_stalled() {
    // 512-byte blocks, windows of 2: blocks 1 and 2 go out, block 2 is lost.
    let mut e = single(1, 3000);
    let mut reply = [0u8; 512];
    let req = rrq("boot.bin", &[("tsize", "0"), ("windowsize", "2")]);
    match e.handle(T0, peer(2000), at(69), &req, &mut reply) {
        Handled::Started { granted, name, .. } => {
            assert_eq!(name, b"boot.bin");
            assert_eq!((granted.tsize, granted.windowsize), (Some(3000), Some(2)));
            assert_eq!(granted.effective_blksize(), 512);
        }
        other => panic!("expected a start, got {other:?}"),
    }
    let t1 = Instant::from_millis(10);
    assert_eq!(drain(&mut e, t1).len(), 1, "the OACK");
    deliver(
        &mut e,
        Instant::from_millis(20),
        peer(2000),
        at(69),
        &ack(0),
    );
    assert_eq!(drain(&mut e, Instant::from_millis(20)).len(), 2);
    deliver(
        &mut e,
        Instant::from_millis(30),
        peer(2000),
        at(69),
        &ack(1),
    );
    drain(&mut e, Instant::from_millis(30));
    let mut now = Instant::from_millis(30);
    while let Some(d) = e.poll_timeout() {
        now = d;
        e.handle_timeout(now);
        drain(&mut e, now);
    }
    let ended = match events(&mut e).pop() {
        Some(Event::Ended(ended)) => ended,
        other => panic!("expected an ended transfer, got {other:?}"),
    };
    assert_eq!(ended.outcome, Outcome::Failed(Failure::TimedOut));
    let t = &ended.transfer;
    assert_eq!(t.first_unacknowledged_block(), 2);
    assert_eq!(t.elapsed(), now.saturating_duration_since(t1));
    // ACK 1 inside the window resends block 2 (with block 3), then each
    // timeout sends that window again.
    let max = u64::from(TransferConfig::default().max_retransmits);
    assert_eq!(t.retransmits(), 1 + 2 * max);
    assert_eq!(t.stats().bytes, 3 * 512);
}

#[test]
fn a_completed_transfer_took_from_its_first_datagram_to_the_last_ack() {
    let mut e = single(1, 700);
    start_single(&mut e, peer(2000), &rrq("boot.bin", &[]));
    assert_eq!(drain(&mut e, Instant::from_millis(5)).len(), 1);
    deliver(&mut e, Instant::from_millis(7), peer(2000), at(69), &ack(1));
    assert_eq!(drain(&mut e, Instant::from_millis(7)).len(), 1);
    deliver(
        &mut e,
        Instant::from_millis(12),
        peer(2000),
        at(69),
        &ack(2),
    );
    drain(&mut e, Instant::from_millis(12));
    let Some(Event::Ended(ended)) = events(&mut e).pop() else {
        panic!("the transfer ended")
    };
    assert_eq!(ended.outcome, Outcome::Completed);
    assert_eq!(ended.transfer.elapsed(), Duration::from_millis(7));
    assert_eq!(ended.transfer.retransmits(), 0);
    assert_eq!(ended.transfer.first_unacknowledged_block(), 3);
}

#[test]
fn abort_all_sends_errors_and_counts_aborted() {
    let mut e = single(4, 3000);
    start_single(&mut e, peer(1), &rrq("boot.bin", &[]));
    start_single(&mut e, peer(2), &rrq("boot.bin", &[]));
    drain(&mut e, T0);
    e.abort_all(ErrorCode::NOT_DEFINED, "server shutting down");
    let out = drain(&mut e, T0);
    assert_eq!(out.len(), 2);
    assert!(out.iter().all(|(_, d)| head(d) == (5, 0)));
    assert_eq!(check(&e).failed.aborted, 2);
}

// ---- admission -----------------------------------------------------------------

#[test]
fn tftp_max_drops_requests_until_a_slot_frees() {
    let mut e = single(1, 600);
    let mut reply = [0u8; 512];
    start_single(&mut e, peer(1), &rrq("boot.bin", &[]));
    let d = rrq("boot.bin", &[]);
    let h = e.handle(T0, peer(2), at(69), &d, &mut reply);
    let Handled::Busy { name, max } = h else {
        panic!("{h:?}")
    };
    assert_eq!((name, max), (&b"boot.bin"[..], 1));
    assert_eq!(e.files().opened.len(), 1, "no file opened while busy");
    drain(&mut e, T0);
    deliver(&mut e, T0, peer(1), at(69), &ack(1));
    drain(&mut e, T0);
    deliver(&mut e, T0, peer(1), at(69), &ack(2));
    assert_eq!(check(&e).completed, 1);
    start_single(&mut e, peer(2), &rrq("boot.bin", &[]));
    assert_eq!(check(&e).busy, 1);
}

#[test]
fn reconfigure_applies_to_the_next_request_and_keeps_the_sockets_mode() {
    // tftp-max 1 with one transfer running: a second client is busy.
    let mut e = single(1, 600);
    let mut reply = [0u8; 512];
    start_single(&mut e, peer(1), &rrq("boot.bin", &[]));
    let request = rrq("boot.bin", &[]);
    let h = e.handle(T0, peer(2), at(69), &request, &mut reply);
    assert!(matches!(h, Handled::Busy { .. }), "{h:?}");
    // A reload raises tftp-max and asks for another request port and a
    // port range: the limit applies at once, the port mode and the request
    // port are the driver's sockets and stay.
    e.reconfigure(EndpointConfig {
        request_port: 1069,
        ports: TransferPorts::Range {
            first: 50_000,
            last: 50_009,
        },
        max_transfers: 2,
        ..EndpointConfig::default()
    });
    assert_eq!(e.config().request_port, 69);
    assert_eq!(e.config().ports, TransferPorts::Single);
    assert_eq!(e.config().max_transfers, 2);
    start_single(&mut e, peer(2), &rrq("boot.bin", &[]));
    assert_eq!(e.active(), 2);
    // The transfer started before the reload runs to its end.
    drain(&mut e, T0);
    deliver(&mut e, T0, peer(1), at(69), &ack(1));
    drain(&mut e, T0);
    deliver(&mut e, T0, peer(1), at(69), &ack(2));
    assert_eq!(check(&e).completed, 1);
    // Lowering tftp-max below the running transfers admits nothing new
    // until they end.
    e.reconfigure(EndpointConfig {
        ports: TransferPorts::Single,
        max_transfers: 1,
        ..EndpointConfig::default()
    });
    let h = e.handle(T0, peer(3), at(69), &request, &mut reply);
    assert!(matches!(h, Handled::Busy { .. }), "{h:?}");
}

#[test]
fn refusals_carry_the_files_code_and_message_from_the_configured_port() {
    let mut reply = [0u8; 512];
    for (mode, errors, source_is_new) in [
        (TransferPorts::Ephemeral, RequestErrors::FromNewPort, true),
        (
            TransferPorts::Ephemeral,
            RequestErrors::FromRequestPort,
            false,
        ),
        (TransferPorts::Single, RequestErrors::FromNewPort, false),
    ] {
        let config = EndpointConfig {
            ports: mode,
            request_errors: errors,
            ..EndpointConfig::default()
        };
        let mut e = Endpoint::new(config, table(10));
        let d = rrq("../secret", &[]);
        let h = e.handle(T0, peer(1), at(69), &d, &mut reply);
        let Handled::Refused {
            name,
            refusal,
            reply: Some(t),
        } = h
        else {
            panic!("{h:?}")
        };
        assert_eq!(name, b"../secret");
        assert_eq!(refusal.to_string(), "path escapes the root");
        assert_eq!(head(&reply[..t.len]), (5, 2));
        assert_eq!(&reply[4..t.len], b"file ../secret not found\0");
        assert_eq!(
            matches!(t.source, Source::NewPort(_)),
            source_is_new,
            "{mode:?} {errors:?}"
        );
        assert_eq!(t.source.local(), &at(69));
        let d = rrq("nope", &[]);
        let h = e.handle(T0, peer(1), at(69), &d, &mut reply);
        let Handled::Refused { reply: Some(t), .. } = h else {
            panic!("{h:?}")
        };
        assert_eq!(head(&reply[..t.len]), (5, 1));
        // Writes are refused with ERROR 4; bad options with ERROR 8.
        let mut wrq = rrq("boot.bin", &[]);
        wrq[1] = 2;
        let h = e.handle(T0, peer(1), at(69), &wrq, &mut reply);
        let Handled::Rejected {
            reply: Some(t),
            rejection,
        } = h
        else {
            panic!("{h:?}")
        };
        assert_eq!(
            (
                head(&reply[..t.len]),
                rejection.to_string().contains("write request refused")
            ),
            ((5, 4), true)
        );
        let d = rrq("boot.bin", &[("blksize", "x")]);
        let h = e.handle(T0, peer(1), at(69), &d, &mut reply);
        let Handled::Rejected { reply: Some(t), .. } = h else {
            panic!("{h:?}")
        };
        assert_eq!(head(&reply[..t.len]), (5, 8));
        check(&e);
    }
    // A message longer than the buffer is cut, still terminated.
    let mut e = single(1, 10);
    let long = "x".repeat(300);
    let mut small = [0u8; 40];
    let d = rrq(&long, &[]);
    let h = e.handle(T0, peer(1), at(69), &d, &mut small);
    let Handled::Refused { reply: Some(t), .. } = h else {
        panic!("{h:?}")
    };
    assert_eq!(t.len, 40);
    assert_eq!(small[39], 0);
    let d = rrq(&long, &[]);
    let h = e.handle(T0, peer(1), at(69), &d, &mut small[..4]);
    assert!(matches!(h, Handled::Refused { reply: None, .. }), "{h:?}");
    assert_eq!(check(&e).refused, 2);
}

#[test]
fn blksize_is_capped_by_the_reported_mtu_and_tftp_mtu() {
    let mut reply = [0u8; 512];
    let req = rrq("boot.bin", &[("blksize", "9000")]);
    for (mtu, cap, want) in [
        (None, None, 1468),
        (Some(1400), None, 1368),
        (Some(9000), None, 1468),
        (Some(9000), Some(1200), 1168),
        (None, Some(1000), 968),
    ] {
        let mut files = table(10);
        files.mtu = mtu;
        let config = EndpointConfig {
            ports: TransferPorts::Single,
            mtu_cap: cap,
            ..EndpointConfig::default()
        };
        let mut e = Endpoint::new(config, files);
        let h = e.handle(T0, peer(1), at(69), &req, &mut reply);
        assert!(matches!(h, Handled::Started { .. }));
        let out = drain(&mut e, T0);
        let Packet::Oack(list) = Packet::parse(&out[0].1).unwrap() else {
            panic!()
        };
        assert_eq!(
            list.get(b"blksize"),
            Some(want.to_string().as_bytes()),
            "{mtu:?} {cap:?}"
        );
    }
}

// ---- windows -------------------------------------------------------------------

#[test]
fn a_window_leaves_as_one_segmented_transmit() {
    let mut reply = [0u8; 512];
    let config = EndpointConfig {
        ports: TransferPorts::Single,
        max_segments: 8,
        limits: ServerLimits {
            max_windowsize: 16,
            ..ServerLimits::default()
        },
        ..EndpointConfig::default()
    };
    // 20 full blocks and a short one.
    let len = 512 * 20 + 100;
    let mut e = Endpoint::new(config, table(len));
    let d = rrq("boot.bin", &[("windowsize", "16")]);
    let h = e.handle(T0, peer(1), at(69), &d, &mut reply);
    assert!(matches!(h, Handled::Started { .. }));
    let mut buf = vec![0u8; 65536];
    let t = e.poll_transmit(T0, &mut buf).unwrap();
    assert_eq!(t.segment_size, None, "the OACK alone");
    assert!(e.poll_transmit(T0, &mut buf).is_none());
    deliver(&mut e, T0, peer(1), at(69), &ack(0));
    let t = e.poll_transmit(T0, &mut buf).unwrap();
    assert_eq!(
        (t.count(), t.segment_size, t.len),
        (8, Some(516), 8 * 516),
        "max_segments"
    );
    let blocks: Vec<u16> = t.datagrams(&buf).map(|d| head(d).1).collect();
    assert_eq!(blocks, (1..=8).collect::<Vec<_>>());
    let t = e.poll_transmit(T0, &mut buf).unwrap();
    assert_eq!(t.count(), 8);
    assert!(e.poll_transmit(T0, &mut buf).is_none(), "window of 16 sent");
    deliver(&mut e, T0, peer(1), at(69), &ack(16));
    let t = e.poll_transmit(T0, &mut buf).unwrap();
    assert_eq!(
        (t.count(), t.len),
        (5, 4 * 516 + 104),
        "the short last block ends the run"
    );
    // A small buffer carries fewer segments.
    let mut e = Endpoint::new(config, table(len));
    let d = rrq("boot.bin", &[("windowsize", "16")]);
    let _ = e.handle(T0, peer(1), at(69), &d, &mut reply);
    let _ = e.poll_transmit(T0, &mut buf);
    deliver(&mut e, T0, peer(1), at(69), &ack(0));
    let t = e.poll_transmit(T0, &mut buf[..3 * 516 + 10]).unwrap();
    assert_eq!(t.count(), 3);
    // One datagram per transmit by default.
    let mut e = single(1, len);
    let d = rrq("boot.bin", &[("windowsize", "16")]);
    let _ = e.handle(T0, peer(1), at(69), &d, &mut reply);
    let _ = e.poll_transmit(T0, &mut buf);
    deliver(&mut e, T0, peer(1), at(69), &ack(0));
    let t = e.poll_transmit(T0, &mut buf).unwrap();
    assert_eq!((t.count(), t.segment_size), (1, None));
}

// ---- whole transfers -------------------------------------------------------------

/// Runs clients against an endpoint in single-port mode until everything
/// ended; returns the virtual time taken.
fn run_clients(
    e: &mut Endpoint<Table>,
    clients: &mut [(SocketAddr, ClientRead<Vec<u8>>)],
) -> Instant {
    let mut now = T0;
    let mut buf = vec![0u8; 65536];
    let mut reply = [0u8; 512];
    loop {
        let mut moved = false;
        for (addr, c) in clients.iter_mut() {
            while let Some(n) = c.poll_transmit(now, &mut buf) {
                moved = true;
                let h = e.handle(now, *addr, at(69), &buf[..n], &mut reply);
                assert!(
                    !matches!(h, Handled::Foreign { .. } | Handled::Rejected { .. }),
                    "{h:?}"
                );
            }
        }
        while let Some(t) = e.poll_transmit(now, &mut buf) {
            moved = true;
            let (_, c) = clients
                .iter_mut()
                .find(|(a, _)| *a == t.destination)
                .unwrap();
            for d in t.datagrams(&buf) {
                c.handle_datagram(now, d);
            }
        }
        while e.poll_event().is_some() {}
        check(e);
        if moved {
            continue;
        }
        let next = clients
            .iter()
            .filter_map(|(_, c)| c.poll_timeout())
            .chain(e.poll_timeout())
            .min();
        let Some(next) = next else { return now };
        now = next;
        for (_, c) in clients.iter_mut() {
            c.handle_timeout(now);
        }
        e.handle_timeout(now);
        assert!(now < Instant::from_millis(600_000), "no end");
    }
}

#[test]
fn block_numbers_roll_over_through_the_endpoint() {
    // blksize 8: 70 000 blocks, past 65 535.
    let len = 8 * 70_000 + 3;
    let mut e = single(2, len);
    let asked = TransferOptions {
        blksize: Some(8),
        windowsize: Some(16),
        ..TransferOptions::default()
    };
    let client = ClientRead::new(
        b"boot.bin",
        Mode::Octet,
        &asked,
        TransferConfig::default(),
        Vec::new(),
    )
    .unwrap();
    let mut clients = [(peer(7), client)];
    run_clients(&mut e, &mut clients);
    assert!(clients[0].1.state().is_complete());
    assert_eq!(clients[0].1.sink(), e.files().files[0].1);
    let c = check(&e);
    assert_eq!((c.completed, c.bytes), (1, len as u64));
}

#[test]
fn many_clients_at_once_share_the_slots() {
    let mut e = single(3, 40_000);
    let mut clients: Vec<_> = (0..6u16)
        .map(|i| {
            let asked = TransferOptions {
                blksize: Some(1024),
                windowsize: Some(u16::from(i % 3 == 0) * 7 + 1),
                ..TransferOptions::default()
            };
            (
                peer(3000 + i),
                ClientRead::new(
                    b"boot.bin",
                    Mode::Octet,
                    &asked,
                    TransferConfig::default(),
                    Vec::new(),
                )
                .unwrap(),
            )
        })
        .collect();
    let took = run_clients(&mut e, &mut clients);
    for (a, c) in &clients {
        assert!(c.state().is_complete(), "{a}: {:?}", c.state());
        assert_eq!(c.sink(), e.files().files[0].1);
    }
    let c = check(&e);
    assert_eq!(c.completed, 6);
    assert!(c.busy >= 3, "three waited for a slot: {c:?}");
    assert!(
        took > Instant::ZERO + Duration::from_millis(500),
        "they asked again after their timeout"
    );
}
