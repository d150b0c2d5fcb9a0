//! The TFTP conformance suite: behaviour every driver of
//! `pxe_tftp::server::Endpoint` must show on the wire, run by a scripted
//! client against a [`ServerUnderTest`].
//!
//! A driver's test crate implements [`Harness`] (start its server with a
//! [`Setup`]: `tftp-max` and the suite's files) and expands
//! [`suite!`], which makes one `#[test]` per behaviour:
//!
//! * a repeated request before any ACK is the same request (one transfer);
//! * a repeated request after the client acknowledged blocks is a new
//!   request (the transfer starts over);
//! * a stranger on a transfer's TID gets ERROR 5 and the transfer goes on;
//! * beyond `tftp-max` requests are dropped, and served once a slot frees;
//! * a UEFI size probe (OACK with tsize answered by ERROR 8) is counted as
//!   a probe, not a failure, and the real transfer that follows works —
//!   from a new port as EDK2 does, and from the same port;
//! * names outside the root are refused with ERROR 2, missing files with
//!   ERROR 1, writes with ERROR 4;
//! * block numbers roll over past 65 535.
//!
//! Time is the server's business: [`ServerUnderTest::recv`] and
//! [`ServerUnderTest::pause`] wait in real time on sockets, or step a
//! simulated link's virtual clock.
#![allow(clippy::panic, clippy::unwrap_used)]

use std::time::Duration;

use pxe_tftp::server::Counters;
use pxe_tftp::wire::{ErrorCode, OptionWriter, Packet, RequestKind, write_ack, write_error};

/// A client socket of the server under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Client(pub usize);

/// A datagram from the server: its bytes and the server port it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The datagram.
    pub bytes: Vec<u8>,
    /// The server's port (its TID for this client).
    pub port: u16,
}

/// A server to test, with clients on the same link.
pub trait ServerUnderTest {
    /// Opens a client socket (a port of its own).
    fn client(&mut self) -> Client;
    /// Sends `datagram` from `client` to the server's port `port`.
    fn send(&mut self, client: Client, port: u16, datagram: &[u8]);
    /// The next datagram `client` receives within `wait`.
    fn recv(&mut self, client: Client, wait: Duration) -> Option<Reply>;
    /// Lets `d` pass, the server running.
    fn pause(&mut self, d: Duration);
    /// The server endpoint's counters.
    fn counters(&mut self) -> Counters;
    /// Whether transfers run over the request port (`tftp-single-port`).
    fn single_port(&self) -> bool;
}

/// What the server under test is started with.
#[derive(Debug, Clone)]
pub struct Setup {
    /// `tftp-max`.
    pub max_transfers: usize,
    /// Files in the root: `(name, contents)`.
    pub files: Vec<(&'static str, Vec<u8>)>,
    /// A file next to the root, not inside: named `secret`, reachable by
    /// `../secret` only if the server lets a name escape.
    pub secret: Vec<u8>,
}

/// Starts servers for the suite.
pub trait Harness {
    /// The server it starts.
    type Server: ServerUnderTest;
    /// A fresh server with `setup`.
    fn start(&self, setup: &Setup) -> Self::Server;
}

/// The request port.
pub const PORT: u16 = 69;
/// `boot.bin`: three blocks and a bit at blksize 1024.
pub const BOOT_LEN: usize = 3000;
/// `big.bin`: 65 541 blocks of 8 bytes, the last one 5 bytes.
pub const BIG_LEN: usize = 8 * 65_540 + 5;

/// Deterministic file contents.
pub fn content(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (x >> 24) as u8
        })
        .collect()
}

/// The setup of most tests, with `tftp-max` `max`.
pub fn setup(max: usize) -> Setup {
    Setup {
        max_transfers: max,
        files: vec![
            ("boot.bin", content(BOOT_LEN, 7)),
            ("big.bin", content(BIG_LEN, 11)),
        ],
        secret: b"outside the root\n".to_vec(),
    }
}

/// An RRQ for `name` in octet mode with `options`.
pub fn rrq(name: &str, options: &[(&str, &str)]) -> Vec<u8> {
    let mut buf = vec![0u8; 512];
    let mut w =
        OptionWriter::request(&mut buf, RequestKind::Read, name.as_bytes(), b"octet").unwrap();
    for (k, v) in options {
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

fn error(code: u16, message: &str) -> Vec<u8> {
    let mut b = [0u8; 128];
    let n = write_error(&mut b, ErrorCode(code), message.as_bytes()).unwrap();
    b[..n].to_vec()
}

/// Opcode and second field (block or error code).
fn head(d: &[u8]) -> (u16, u16) {
    match d {
        [a, b, c, e, ..] => (u16::from_be_bytes([*a, *b]), u16::from_be_bytes([*c, *e])),
        _ => panic!("runt datagram {d:?}"),
    }
}

/// Waits for the first reply to a request.
fn answer(sut: &mut impl ServerUnderTest, c: Client, what: &str) -> Reply {
    sut.recv(c, Duration::from_secs(3))
        .unwrap_or_else(|| panic!("no answer to {what}"))
}

/// Asserts the first reply came from where the mode says: port 69 in
/// single-port mode, any other port otherwise.
fn check_tid(sut: &impl ServerUnderTest, r: &Reply) {
    if sut.single_port() {
        assert_eq!(
            r.port, PORT,
            "single-port mode answers from the request port"
        );
    } else {
        assert_ne!(r.port, PORT, "a transfer answers from a port of its own");
    }
}

/// The option values of an OACK.
fn oack_option(d: &[u8], name: &str) -> Option<String> {
    match Packet::parse(d) {
        Ok(Packet::Oack(list)) => list
            .get(name.as_bytes())
            .map(|v| String::from_utf8_lossy(v).into_owned()),
        _ => None,
    }
}

/// Downloads the rest of a transfer whose first reply (OACK or DATA 1) is
/// `first`, ACKing every `window` blocks as an RFC 7440 client does;
/// datagrams from other ports are ignored, as a client ignores strangers.
/// Returns the file.
pub fn download(
    sut: &mut impl ServerUnderTest,
    c: Client,
    first: Reply,
    blksize: usize,
    window: u16,
) -> Vec<u8> {
    let tid = first.port;
    let mut file = Vec::new();
    let mut expect: u16 = 1;
    let mut since_ack: u16 = 0;
    let mut pending = Some(first.bytes);
    let mut silent = 0;
    loop {
        let d = match pending.take() {
            Some(d) => d,
            None => match sut.recv(c, Duration::from_secs(2)) {
                Some(r) if r.port == tid => r.bytes,
                Some(_) => continue,
                None => {
                    silent += 1;
                    assert!(silent < 5, "the transfer stalled at block {expect}");
                    sut.send(c, tid, &ack(expect.wrapping_sub(1)));
                    continue;
                }
            },
        };
        match head(&d) {
            (6, _) if expect == 1 => sut.send(c, tid, &ack(0)),
            (3, block) if block == expect => {
                file.extend_from_slice(&d[4..]);
                expect = expect.wrapping_add(1);
                since_ack += 1;
                let last = d.len() < 4 + blksize;
                if last || since_ack >= window {
                    sut.send(c, tid, &ack(block));
                    since_ack = 0;
                }
                if last {
                    return file;
                }
            }
            (5, code) => panic!(
                "ERROR {code} during the transfer: {}",
                String::from_utf8_lossy(&d[4..])
            ),
            // Retransmissions of what we have.
            _ => {}
        }
    }
}

/// Polls the counters until `ok` holds (the server may count a moment
/// after the wire shows it).
pub fn eventually(
    sut: &mut impl ServerUnderTest,
    what: &str,
    ok: impl Fn(&Counters) -> bool,
) -> Counters {
    for _ in 0..300 {
        let c = sut.counters();
        if ok(&c) {
            return c;
        }
        sut.pause(Duration::from_millis(10));
    }
    panic!("{what}: counters {:?}", sut.counters());
}

// ---- the behaviours ------------------------------------------------------------

/// A client re-sending its request before it got (or acknowledged) an
/// answer gets one transfer, not two.
pub fn repeated_request_before_any_ack<H: Harness>(h: &H) {
    let s = setup(4);
    let mut sut = h.start(&s);
    let a = sut.client();
    let req = rrq("boot.bin", &[("blksize", "1024"), ("tsize", "0")]);
    sut.send(a, PORT, &req);
    let first = answer(&mut sut, a, "the request");
    check_tid(&sut, &first);
    assert_eq!(head(&first.bytes).0, 6, "an OACK first");
    // PXELINUX asks again after ~60 ms: the same request.
    sut.send(a, PORT, &req);
    sut.send(a, PORT, &req);
    assert_eq!(
        sut.recv(a, Duration::from_millis(300)),
        None,
        "a repeated request was answered as a new transfer"
    );
    let file = download(&mut sut, a, first, 1024, 1);
    assert!(file == s.files[0].1, "boot.bin differs");
    let c = eventually(&mut sut, "one transfer, two duplicates", |c| {
        c.completed == 1
    });
    assert_eq!(
        (c.started, c.duplicates, c.failed.total()),
        (1, 2, 0),
        "{c:?}"
    );
}

/// A client asking again after acknowledging blocks (it rebooted) gets a
/// new transfer from the start.
pub fn repeated_request_after_progress<H: Harness>(h: &H) {
    let s = setup(1);
    let mut sut = h.start(&s);
    let a = sut.client();
    let req = rrq("boot.bin", &[]);
    sut.send(a, PORT, &req);
    let first = answer(&mut sut, a, "the request");
    assert_eq!(head(&first.bytes), (3, 1));
    sut.send(a, first.port, &ack(1));
    let second = answer(&mut sut, a, "ACK 1");
    assert_eq!((head(&second.bytes), second.port), ((3, 2), first.port));
    sut.pause(Duration::from_millis(100));
    sut.send(a, PORT, &req);
    // The new transfer's DATA 1 (a stray retransmission of the old one
    // may come first).
    let again = loop {
        let r = answer(&mut sut, a, "the request after progress");
        if head(&r.bytes) == (3, 1) {
            break r;
        }
    };
    check_tid(&sut, &again);
    if !sut.single_port() {
        assert_ne!(again.port, first.port, "a new transfer, a new TID");
    }
    let file = download(&mut sut, a, again, 512, 1);
    assert!(file == s.files[0].1, "boot.bin differs");
    let c = eventually(&mut sut, "the second transfer completes", |c| {
        c.completed == 1
    });
    assert_eq!(
        (c.started, c.failed.superseded, c.duplicates),
        (2, 1, 0),
        "{c:?}"
    );
}

/// A stranger writing to a transfer's TID gets ERROR 5; the transfer goes
/// on undisturbed.
pub fn foreign_tid<H: Harness>(h: &H) {
    let s = setup(4);
    let mut sut = h.start(&s);
    let (a, stranger) = (sut.client(), sut.client());
    sut.send(a, PORT, &rrq("boot.bin", &[]));
    let first = answer(&mut sut, a, "the request");
    sut.send(stranger, first.port, &ack(1));
    let e = answer(&mut sut, stranger, "the stranger's ACK");
    assert_eq!(
        (head(&e.bytes), e.port),
        ((5, 5), first.port),
        "ERROR 5 from the TID"
    );
    // A stranger's ERROR is not answered.
    sut.send(stranger, first.port, &error(0, "who are you"));
    assert_eq!(sut.recv(stranger, Duration::from_millis(200)), None);
    let file = download(&mut sut, a, first, 512, 1);
    assert!(file == s.files[0].1, "boot.bin differs");
    let c = eventually(&mut sut, "completed, strangers counted", |c| {
        c.completed == 1 && c.foreign_tids >= 2
    });
    assert_eq!(c.failed.total(), 0, "{c:?}");
}

/// With `tftp-max` transfers running, a request is dropped (the client
/// asks again), and served once a slot is free.
pub fn busy_at_tftp_max<H: Harness>(h: &H) {
    let s = setup(1);
    let mut sut = h.start(&s);
    let (a, b) = (sut.client(), sut.client());
    sut.send(a, PORT, &rrq("boot.bin", &[]));
    let first = answer(&mut sut, a, "the first request");
    sut.send(b, PORT, &rrq("boot.bin", &[]));
    assert_eq!(
        sut.recv(b, Duration::from_millis(500)),
        None,
        "a second transfer beyond tftp-max 1"
    );
    eventually(&mut sut, "the dropped request is counted busy", |c| {
        c.busy == 1
    });
    // The first client gives up; its slot frees.
    sut.send(a, first.port, &error(0, "giving up"));
    eventually(&mut sut, "the first transfer ends", |c| {
        c.failed.peer_error == 1
    });
    sut.send(b, PORT, &rrq("boot.bin", &[]));
    let second = answer(&mut sut, b, "the request again");
    let file = download(&mut sut, b, second, 512, 1);
    assert!(file == s.files[0].1, "boot.bin differs");
    let c = eventually(&mut sut, "the second transfer completes", |c| {
        c.completed == 1
    });
    assert_eq!((c.started, c.busy), (2, 1), "{c:?}");
}

/// EDK2's size probe: RRQ with tsize, OACK, ERROR 8, then the real
/// request — from a new port, and from the same one.
pub fn uefi_size_probe<H: Harness>(h: &H) {
    let s = setup(1);
    let mut sut = h.start(&s);
    let (a, b) = (sut.client(), sut.client());
    sut.send(
        a,
        PORT,
        &rrq("boot.bin", &[("tsize", "0"), ("blksize", "1468")]),
    );
    let oack = answer(&mut sut, a, "the probe");
    assert_eq!(
        oack_option(&oack.bytes, "tsize"),
        Some(BOOT_LEN.to_string())
    );
    sut.send(a, oack.port, &error(8, "User aborted the transfer"));
    eventually(&mut sut, "the probe is counted", |c| c.probes == 1);
    // EDK2 asks again from the next port.
    sut.send(b, PORT, &rrq("boot.bin", &[("blksize", "1468")]));
    let first = answer(&mut sut, b, "the real request");
    assert_eq!(
        oack_option(&first.bytes, "blksize").as_deref(),
        Some("1468")
    );
    let file = download(&mut sut, b, first, 1468, 1);
    assert!(file == s.files[0].1, "boot.bin differs");
    eventually(&mut sut, "the transfer completes", |c| c.completed == 1);
    // The same sequence from one port.
    sut.send(
        a,
        PORT,
        &rrq("boot.bin", &[("tsize", "0"), ("blksize", "1468")]),
    );
    let oack = answer(&mut sut, a, "the second probe");
    sut.send(a, oack.port, &error(8, "User aborted the transfer"));
    sut.send(a, PORT, &rrq("boot.bin", &[("blksize", "1468")]));
    let first = loop {
        let r = answer(&mut sut, a, "the real request from the same port");
        if oack_option(&r.bytes, "tsize").is_none() {
            break r;
        }
    };
    let file = download(&mut sut, a, first, 1468, 1);
    assert!(file == s.files[0].1, "boot.bin differs");
    let c = eventually(&mut sut, "both transfers complete", |c| c.completed == 2);
    assert_eq!(
        (c.probes, c.failed.total()),
        (2, 0),
        "a probe is not a failure: {c:?}"
    );
}

/// Names outside the root and missing files are refused with the right
/// ERROR; so are writes.
pub fn path_refusals<H: Harness>(h: &H) {
    let s = setup(4);
    let mut sut = h.start(&s);
    let a = sut.client();
    for (name, code) in [
        ("../secret", 2),
        ("sub/../../secret", 2),
        ("..\\secret", 2),
        ("nosuchfile", 1),
    ] {
        sut.send(a, PORT, &rrq(name, &[]));
        let r = answer(&mut sut, a, name);
        assert_eq!(
            head(&r.bytes),
            (5, code),
            "{name}: {:?}",
            String::from_utf8_lossy(&r.bytes)
        );
        assert!(
            !r.bytes.windows(7).any(|w| w == b"outside"),
            "{name}: the secret leaked"
        );
    }
    let mut wrq = rrq("upload.bin", &[]);
    wrq[1] = 2;
    sut.send(a, PORT, &wrq);
    assert_eq!(head(&answer(&mut sut, a, "a write").bytes), (5, 4));
    let c = eventually(&mut sut, "five refusals", |c| c.refused == 5);
    assert_eq!(c.started, 0, "{c:?}");
}

/// A file of more than 65 535 blocks: block numbers roll over to 0.
pub fn rollover<H: Harness>(h: &H) {
    let s = setup(1);
    let mut sut = h.start(&s);
    let a = sut.client();
    sut.send(
        a,
        PORT,
        &rrq("big.bin", &[("blksize", "8"), ("windowsize", "4")]),
    );
    let first = answer(&mut sut, a, "the request");
    assert_eq!(oack_option(&first.bytes, "blksize").as_deref(), Some("8"));
    assert_eq!(
        oack_option(&first.bytes, "windowsize").as_deref(),
        Some("4")
    );
    let file = download(&mut sut, a, first, 8, 4);
    assert_eq!(file.len(), BIG_LEN);
    assert!(file == s.files[1].1, "big.bin differs");
    let c = eventually(&mut sut, "the transfer completes", |c| c.completed == 1);
    assert_eq!(c.bytes, BIG_LEN as u64, "{c:?}");
}

/// One `#[test]` per behaviour of the suite, against the [`Harness`]
/// `$harness`.
#[macro_export]
macro_rules! suite {
    ($harness:expr) => {
        #[test]
        fn repeated_request_before_any_ack_is_one_transfer() {
            $crate::repeated_request_before_any_ack(&$harness);
        }
        #[test]
        fn repeated_request_after_progress_is_a_new_transfer() {
            $crate::repeated_request_after_progress(&$harness);
        }
        #[test]
        fn a_stranger_on_a_tid_gets_error_5() {
            $crate::foreign_tid(&$harness);
        }
        #[test]
        fn requests_beyond_tftp_max_are_dropped_until_a_slot_frees() {
            $crate::busy_at_tftp_max(&$harness);
        }
        #[test]
        fn a_uefi_size_probe_is_a_probe_not_a_failure() {
            $crate::uefi_size_probe(&$harness);
        }
        #[test]
        fn names_outside_the_root_and_missing_files_are_refused() {
            $crate::path_refusals(&$harness);
        }
        #[test]
        fn block_numbers_roll_over_past_65535() {
            $crate::rollover(&$harness);
        }
    };
}
