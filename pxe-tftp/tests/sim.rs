//! Deterministic simulation: a server and a client engine joined by a
//! channel that drops, duplicates, reorders and delays datagrams, on a
//! virtual clock. Proptest picks files, options and channel quality.
//!
//! Pass condition: the client ends with exactly the file's bytes, or both
//! ends fail with an error — within a bounded amount of virtual time and a
//! bounded number of timeouts. No engine may panic.
#![cfg(feature = "std")]
#![allow(clippy::unwrap_used, clippy::panic)]

use core::time::Duration;
use std::collections::BinaryHeap;

use proptest::prelude::*;
use pxe_tftp::client::{ClientRead, ClientWrite};
use pxe_tftp::server::{ReadTransfer, ServerPolicy, WriteTransfer, accept};
use pxe_tftp::wire::{Mode, Packet};
use pxe_tftp::{Instant, ServerLimits, State, TransferConfig, TransferOptions};

/// xorshift64*: small, deterministic.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn chance(&mut self, per_mille: u32) -> bool {
        (self.next() % 1000) < u64::from(per_mille)
    }
}

#[derive(Debug, Clone, Copy)]
struct Channel {
    drop: u32,
    dup: u32,
    /// Maximum extra delay in ms (variable delay reorders).
    jitter_ms: u64,
}

#[derive(PartialEq, Eq)]
struct InFlight {
    at: u64,
    seq: u64,
    to_server: bool,
    bytes: Vec<u8>,
}
impl Ord for InFlight {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (o.at, o.seq).cmp(&(self.at, self.seq))
    }
}
impl PartialOrd for InFlight {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}

struct Outcome {
    client: State<core::convert::Infallible>,
    server: Option<String>,
    got: Vec<u8>,
    server_timeouts: u64,
    client_timeouts: u64,
    virtual_ms: u64,
}

fn netascii_encode(data: &[u8]) -> usize {
    data.len() + data.iter().filter(|&&b| b == b'\n' || b == b'\r').count()
}

/// The common driver interface of the four engines.
trait Engine {
    fn dgram(&mut self, now: Instant, d: &[u8]);
    fn timeout(&mut self, now: Instant);
    fn transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<usize>;
    fn deadline(&self) -> Option<Instant>;
    fn finished(&self) -> bool;
    fn timeouts(&self) -> u64;
    fn describe(&self) -> String;
}

macro_rules! engine {
    ($t:ty) => {
        impl Engine for $t {
            fn dgram(&mut self, now: Instant, d: &[u8]) {
                self.handle_datagram(now, d)
            }
            fn timeout(&mut self, now: Instant) {
                self.handle_timeout(now)
            }
            fn transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<usize> {
                self.poll_transmit(now, buf)
            }
            fn deadline(&self) -> Option<Instant> {
                self.poll_timeout()
            }
            fn finished(&self) -> bool {
                self.is_finished()
            }
            fn timeouts(&self) -> u64 {
                self.stats().timeouts
            }
            fn describe(&self) -> String {
                format!("{:?}", self.state())
            }
        }
    };
}
engine!(ClientRead<Vec<u8>>);
engine!(ClientWrite<&[u8]>);
engine!(ReadTransfer<&[u8]>);
engine!(WriteTransfer<Vec<u8>>);

/// Runs a client against a server created from the first request that
/// reaches "port 69"; returns the server (if one was created) and the
/// virtual time used.
fn simulate<C: Engine, S: Engine>(
    client: &mut C,
    mut make_server: impl FnMut(&[u8]) -> S,
    ch: Channel,
    seed: u64,
) -> (Option<S>, u64) {
    let mut rng = Rng(seed | 1);
    let mut server: Option<S> = None;
    let mut net = BinaryHeap::new();
    let mut seq = 0u64;
    let mut now_us = 0u64;
    let mut buf = vec![0u8; 65536];
    let mut steps = 0u64;
    let mut send =
        |net: &mut BinaryHeap<InFlight>, rng: &mut Rng, now: u64, to_server, bytes: &[u8]| {
            if rng.chance(ch.drop) {
                return;
            }
            let copies = if rng.chance(ch.dup) { 2 } else { 1 };
            for _ in 0..copies {
                let delay = 1000 + rng.next() % (ch.jitter_ms * 1000 + 1);
                seq += 1;
                net.push(InFlight {
                    at: now + delay,
                    seq,
                    to_server,
                    bytes: bytes.to_vec(),
                });
            }
        };
    loop {
        steps += 1;
        assert!(steps < 20_000_000, "simulation does not terminate");
        let now = Instant::from_micros(now_us);
        while let Some(n) = client.transmit(now, &mut buf) {
            send(&mut net, &mut rng, now_us, true, &buf[..n]);
        }
        if let Some(s) = server.as_mut() {
            while let Some(n) = s.transmit(now, &mut buf) {
                send(&mut net, &mut rng, now_us, false, &buf[..n]);
            }
        }
        let mut next = net.peek().map(|p| p.at);
        for t in [
            client.deadline(),
            server.as_ref().and_then(|s| s.deadline()),
        ]
        .into_iter()
        .flatten()
        {
            next = Some(next.map_or(t.as_micros(), |n| n.min(t.as_micros())));
        }
        let Some(next) = next else { break };
        assert!(next >= now_us, "time went backwards");
        now_us = next;
        let now = Instant::from_micros(now_us);
        while net.peek().is_some_and(|p| p.at <= now_us) {
            let p = net.pop().unwrap();
            if p.to_server {
                let is_request = matches!(Packet::parse(&p.bytes), Ok(Packet::Request(_)));
                match (&mut server, is_request) {
                    (None, true) => server = Some(make_server(&p.bytes)),
                    // A repeated request reaches port 69, not the transfer:
                    // the driver ignores it while the transfer runs.
                    (Some(_), true) | (None, false) => {}
                    (Some(s), false) => s.dgram(now, &p.bytes),
                }
            } else {
                client.dgram(now, &p.bytes);
            }
        }
        client.timeout(now);
        if let Some(s) = server.as_mut() {
            s.timeout(now);
        }
        if client.finished() && server.as_ref().is_none_or(|s| s.finished()) && net.is_empty() {
            break;
        }
    }
    (server, now_us / 1000)
}

fn sim_config() -> TransferConfig {
    TransferConfig {
        retransmit_timeout: Duration::from_millis(400),
        max_retransmits: 5,
        linger_timeouts: 3,
    }
}

fn run(
    file: &[u8],
    mode: Mode,
    asked: TransferOptions,
    limits: ServerLimits,
    ch: Channel,
    seed: u64,
) -> Outcome {
    let cfg = sim_config();
    let policy = ServerPolicy {
        limits,
        allow_writes: false,
    };
    let mut client = ClientRead::new(b"file", mode, &asked, cfg, Vec::new()).unwrap();
    let (server, virtual_ms) = simulate(
        &mut client,
        |req: &[u8]| {
            let acc = accept(req, &policy).unwrap();
            ReadTransfer::new(file, acc.mode, &acc.options, &policy.limits, cfg)
        },
        ch,
        seed,
    );
    Outcome {
        client: client.state().clone(),
        server: server.as_ref().map(|s| s.describe()),
        server_timeouts: server.as_ref().map_or(0, |s| s.timeouts()),
        client_timeouts: client.stats().timeouts,
        got: client.into_sink(),
        virtual_ms,
    }
}

/// Upload: ClientWrite -> WriteTransfer.
fn run_upload(file: &[u8], mode: Mode, asked: TransferOptions, ch: Channel, seed: u64) -> Outcome {
    let cfg = sim_config();
    let policy = ServerPolicy {
        limits: ServerLimits::default(),
        allow_writes: true,
    };
    let mut client = ClientWrite::new(b"up", mode, &asked, cfg, file).unwrap();
    let (server, virtual_ms) = simulate(
        &mut client,
        |req: &[u8]| {
            let acc = accept(req, &policy).unwrap();
            WriteTransfer::new(Vec::new(), acc.mode, &acc.options, &policy.limits, cfg)
        },
        ch,
        seed,
    );
    // The receiving end of an upload is the server: it plays the role of
    // "client" in the outcome, and the uploading client that of "server".
    let (server_state, got) = match server {
        Some(s) => (s.state().clone(), s.into_sink()),
        // The WRQ never got through: nothing was received.
        None => (
            State::Failed(pxe_tftp::TransferError::TimedOut {
                block: 0,
                retransmits: 0,
                timeout: Duration::ZERO,
            }),
            Vec::new(),
        ),
    };
    Outcome {
        client: server_state,
        server: Some(client.describe()),
        server_timeouts: 0,
        client_timeouts: client.stats().timeouts,
        got,
        virtual_ms,
    }
}

fn check(file: &[u8], mode: Mode, o: &Outcome, lossless: bool) -> Result<(), TestCaseError> {
    match &o.client {
        State::Complete => {
            if mode == Mode::Octet {
                prop_assert_eq!(o.got.len(), file.len());
                prop_assert!(o.got == file, "content differs");
            } else {
                prop_assert!(o.got == file, "netascii round trip differs");
            }
        }
        State::Failed(e) => {
            prop_assert!(!lossless, "lossless channel failed: {e}");
            // The server must have ended too (or never started).
            if let Some(s) = &o.server {
                prop_assert!(!s.starts_with("Active"), "server still active: {s}");
            }
        }
        State::Active => prop_assert!(false, "client still active"),
    }
    if let Some(s) = &o.server {
        prop_assert!(!s.starts_with("Active"), "server still active: {s}");
    }
    // Bounded: timeouts never exceed max_retransmits+1 per block of progress.
    let blocks = (file.len() as u64 * 2) / 8 + 2;
    prop_assert!(o.server_timeouts <= 6 * blocks);
    prop_assert!(o.client_timeouts <= 6 * blocks);
    Ok(())
}

fn file_strategy() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(Vec::new()),
        // exact multiples of common small block sizes
        (1usize..6, prop::sample::select(vec![8usize, 16, 512]))
            .prop_map(|(k, b)| (0..k * b).map(|i| (i * 31 % 256) as u8).collect()),
        prop::collection::vec(any::<u8>(), 0..6000),
        // text with many line ends for netascii
        prop::collection::vec(prop::sample::select(&b"ab\r\n\0"[..]), 0..3000),
    ]
}

fn options_strategy() -> impl Strategy<Value = TransferOptions> {
    (
        prop::option::of(prop_oneof![
            8u16..64,
            Just(512u16),
            Just(1468u16),
            Just(65464)
        ]),
        prop::option::of(Just(0u64)),
        prop::option::of(1u8..3),
        prop::option::of(1u16..20),
    )
        .prop_map(|(blksize, tsize, timeout, windowsize)| TransferOptions {
            blksize,
            tsize,
            timeout,
            windowsize,
        })
}

fn limits_strategy() -> impl Strategy<Value = ServerLimits> {
    (8u16..2000, 1u16..16, any::<bool>(), any::<bool>()).prop_map(|(mb, mw, b, w)| ServerLimits {
        max_blksize: mb,
        max_windowsize: mw,
        blksize: b,
        windowsize: w,
        ..ServerLimits::default()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn lossy_channel_delivers_or_fails_cleanly(
        file in file_strategy(),
        netascii in any::<bool>(),
        asked in options_strategy(),
        limits in limits_strategy(),
        drop in 0u32..250,
        dup in 0u32..200,
        jitter_ms in 0u64..300,
        seed in any::<u64>(),
    ) {
        let mode = if netascii { Mode::Netascii } else { Mode::Octet };
        let o = run(&file, mode, asked, limits, Channel { drop, dup, jitter_ms }, seed);
        check(&file, mode, &o, false)?;
        // The timeout option, if granted, is in seconds: bound virtual time.
        prop_assert!(o.virtual_ms < 10_000_000);
    }

    #[test]
    fn lossless_channel_always_delivers(
        file in file_strategy(),
        netascii in any::<bool>(),
        asked in options_strategy(),
        limits in limits_strategy(),
        dup in 0u32..300,
        jitter_ms in 0u64..50,
        seed in any::<u64>(),
    ) {
        let mode = if netascii { Mode::Netascii } else { Mode::Octet };
        let o = run(&file, mode, asked, limits, Channel { drop: 0, dup, jitter_ms }, seed);
        check(&file, mode, &o, true)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Uploads (WRQ, only with writes enabled) under loss: the server ends
    /// with exactly the file, or both ends fail.
    #[test]
    fn upload_under_loss(
        file in file_strategy(),
        netascii in any::<bool>(),
        asked in options_strategy(),
        drop in 0u32..200,
        dup in 0u32..200,
        jitter_ms in 0u64..200,
        seed in any::<u64>(),
    ) {
        let mode = if netascii { Mode::Netascii } else { Mode::Octet };
        let o = run_upload(&file, mode, asked, Channel { drop, dup, jitter_ms }, seed);
        check(&file, mode, &o, false)?;
        if drop == 0 {
            prop_assert!(o.client == State::Complete, "lossless upload failed: {:?} / {:?}", o.client, o.server);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// A very bad channel: most transfers fail, and must fail on both ends.
    #[test]
    fn hostile_channel_fails_cleanly(
        file in prop::collection::vec(any::<u8>(), 0..20000),
        asked in options_strategy(),
        drop in 500u32..950,
        dup in 0u32..500,
        jitter_ms in 0u64..2000,
        seed in any::<u64>(),
    ) {
        let o = run(&file, Mode::Octet, asked, ServerLimits::default(), Channel { drop, dup, jitter_ms }, seed);
        check(&file, Mode::Octet, &o, false)?;
    }
}

#[test]
fn hostile_channel_really_makes_transfers_fail() {
    // Guard against a simulation that silently stopped losing packets.
    let file = vec![5u8; 50_000];
    let asked = TransferOptions::default();
    let fails = (0..20)
        .filter(|&seed| {
            let o = run(
                &file,
                Mode::Octet,
                asked,
                ServerLimits::default(),
                Channel {
                    drop: 700,
                    dup: 0,
                    jitter_ms: 10,
                },
                seed,
            );
            matches!(o.client, State::Failed(_))
        })
        .count();
    assert!(fails >= 15, "only {fails} of 20 failed at 70% loss");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3, ..ProptestConfig::default() })]

    /// More than 65535 blocks: the block number rolls over.
    #[test]
    fn rollover_under_loss(
        blksize in 8u16..17,
        extra in 0usize..40,
        windowsize in 1u16..9,
        seed in any::<u64>(),
    ) {
        let len = 65536 * usize::from(blksize) + extra;
        let file: Vec<u8> = (0..len).map(|i| (i % 253) as u8).collect();
        let asked = TransferOptions { blksize: Some(blksize), windowsize: Some(windowsize), ..Default::default() };
        let ch = Channel { drop: 5, dup: 5, jitter_ms: 2 };
        let o = run(&file, Mode::Octet, asked, ServerLimits::default(), ch, seed);
        prop_assert!(o.client == State::Complete, "rollover transfer failed: {:?}", o.client);
        prop_assert!(o.got == file);
    }
}

#[test]
fn tsize_reaches_the_client_for_netascii() {
    let file = b"line\nline\r\n".repeat(100);
    let asked = TransferOptions {
        tsize: Some(0),
        blksize: Some(100),
        ..Default::default()
    };
    let cfg = TransferConfig::default();
    let mut client = ClientRead::new(b"f", Mode::Netascii, &asked, cfg, Vec::new()).unwrap();
    let mut buf = [0u8; 2048];
    let n = client.poll_transmit(Instant::ZERO, &mut buf).unwrap();
    let policy = ServerPolicy::default();
    let acc = accept(&buf[..n], &policy).unwrap();
    let mut s = ReadTransfer::new(&file[..], acc.mode, &acc.options, &policy.limits, cfg);
    let n = s.poll_transmit(Instant::ZERO, &mut buf).unwrap();
    client.handle_datagram(Instant::ZERO, &buf[..n]);
    assert_eq!(client.transfer_size(), Some(netascii_encode(&file) as u64));
}
