//! The server read engine fed an arbitrary request, limits, file and an
//! arbitrary sequence of datagrams and timeouts. Invariants checked:
//! * the OACK grants only options that were asked for, never more than asked
//!   nor more than the limits allow, and announces the right tsize; no OACK
//!   when nothing was granted;
//! * every DATA block is within the file and carries exactly the file's
//!   bytes for that block (never a block past the end of the file);
//! * once the peer falls silent, the engine finishes within
//!   max_retransmits + 1 timeouts;
//! * no panic.
#![no_main]

use core::time::Duration;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use pxe_tftp::netascii;
use pxe_tftp::server::{ReadTransfer, ServerPolicy, accept};
use pxe_tftp::wire::{ErrorCode, OptionWriter, Packet, RequestKind, write_ack, write_error};
use pxe_tftp::{Instant, RequestedOptions, ServerLimits, TransferConfig};

#[derive(Arbitrary, Debug)]
enum Value {
    Num(u32),
    Raw(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
enum OptName {
    Blksize,
    Tsize,
    Timeout,
    Windowsize,
    Other(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
enum Event {
    /// ACK this wire block.
    Ack(u16),
    /// ACK the last DATA block seen (progress).
    AckLast,
    /// ACK the block before the last one seen (older block in the window).
    AckOlder(u8),
    Error(u16),
    Raw(Vec<u8>),
    /// Let this many milliseconds pass.
    Wait(u16),
}

#[derive(Arbitrary, Debug)]
struct Input {
    file_len: u16,
    seed: u8,
    netascii: bool,
    options: Vec<(OptName, Value)>,
    max_blksize: u16,
    max_windowsize: u8,
    flags: u8,
    timeout_ms: u16,
    max_retransmits: u8,
    events: Vec<Event>,
}

fuzz_target!(|input: Input| run(input));

fn run(input: Input) {
    let file: Vec<u8> = (0..usize::from(input.file_len))
        .map(|i| {
            let x = (i as u8).wrapping_mul(input.seed | 1);
            if x % 7 == 0 {
                b'\n'
            } else if x % 11 == 0 {
                b'\r'
            } else {
                x
            }
        })
        .collect();
    let mut req = vec![0u8; 4096];
    let mode: &[u8] = if input.netascii {
        b"netascii"
    } else {
        b"octet"
    };
    let Ok(mut w) = OptionWriter::request(&mut req, RequestKind::Read, b"f", mode) else {
        return;
    };
    for (name, value) in &input.options {
        let name: &[u8] = match name {
            OptName::Blksize => b"blksize",
            OptName::Tsize => b"tsize",
            OptName::Timeout => b"timeout",
            OptName::Windowsize => b"windowsize",
            OptName::Other(v) => v,
        };
        let r = match value {
            Value::Num(n) => w.option_u64(name, u64::from(*n)).map(|_| ()),
            Value::Raw(v) => w.option(name, v).map(|_| ()),
        };
        if r.is_err() {
            return;
        }
    }
    let n = w.finish();
    let limits = ServerLimits {
        max_blksize: input.max_blksize,
        max_windowsize: u16::from(input.max_windowsize),
        blksize: input.flags & 1 == 0,
        tsize: input.flags & 2 == 0,
        timeout: input.flags & 4 == 0,
        windowsize: input.flags & 8 == 0,
    };
    let policy = ServerPolicy {
        limits,
        allow_writes: false,
    };
    let acc = match accept(&req[..n], &policy) {
        Ok(a) => a,
        Err(_) => return,
    };
    let asked: RequestedOptions = acc.options;
    let config = TransferConfig {
        retransmit_timeout: Duration::from_millis(u64::from(input.timeout_ms.max(1))),
        max_retransmits: u32::from(input.max_retransmits % 8),
        linger_timeouts: 1,
    };
    let mut s = ReadTransfer::new(&file[..], acc.mode, &asked, &limits, config);

    // What the wire should carry.
    let wire_file: Vec<u8> = if input.netascii {
        let mut st = netascii::EncodeState::default();
        let mut src: &[u8] = &file;
        let mut out = vec![0u8; file.len() * 2];
        let n = netascii::encode(&mut src, &mut st, &mut out).expect("infallible");
        out.truncate(n);
        out
    } else {
        file.clone()
    };

    // OACK invariants.
    let g = *s.granted();
    let max_blk = limits.max_blksize.clamp(8, 65464);
    if let Some(b) = g.blksize {
        assert!(limits.blksize && b <= max_blk && Some(b) <= asked.blksize && b >= 8);
    }
    if let Some(w) = g.windowsize {
        assert!(
            limits.windowsize && w <= limits.max_windowsize.max(1) && Some(w) <= asked.windowsize
        );
    }
    if let Some(t) = g.timeout {
        assert!(limits.timeout && Some(t) == asked.timeout);
    }
    if let Some(t) = g.tsize {
        assert!(limits.tsize && asked.tsize.is_some());
        assert_eq!(t, wire_file.len() as u64);
    }
    let blksize = usize::from(g.blksize.unwrap_or(512));
    let last_block = wire_file.len() / blksize + 1;

    let mut now = Instant::ZERO;
    let mut buf = vec![0u8; s.max_datagram_len()];
    let mut last_seen: u16 = 0;
    let mut first = true;
    let mut check =
        |s: &mut ReadTransfer<&[u8]>, now: Instant, last_seen: &mut u16, first: &mut bool| {
            while let Some(n) = s.poll_transmit(now, &mut buf) {
                let pkt = Packet::parse(&buf[..n]).expect("engine output parses");
                match pkt {
                    Packet::Oack(list) => {
                        assert!(!g.is_empty(), "OACK although nothing was granted");
                        let o =
                            RequestedOptions::from_list(&list).expect("own OACK is well formed");
                        assert_eq!(o.blksize, g.blksize);
                        assert_eq!(o.windowsize, g.windowsize);
                        assert_eq!(o.tsize, g.tsize);
                    }
                    Packet::Data { block, data } => {
                        if *first {
                            assert!(g.is_empty(), "DATA before the OACK");
                        }
                        let b = usize::from(block);
                        assert!(
                            b >= 1 && b <= last_block,
                            "block {b} past the end ({last_block})"
                        );
                        let start = (b - 1) * blksize;
                        let end = (start + blksize).min(wire_file.len());
                        assert_eq!(data, &wire_file[start..end], "block {b} content");
                        *last_seen = block;
                    }
                    Packet::Error { .. } => {}
                    other => panic!("server sent {other:?}"),
                }
                *first = false;
            }
        };
    check(&mut s, now, &mut last_seen, &mut first);
    let mut dgram = [0u8; 64];
    for ev in input.events.iter().take(2000) {
        match ev {
            Event::Ack(b) => {
                let n = write_ack(&mut dgram, *b).expect("fits");
                s.handle_datagram(now, &dgram[..n]);
            }
            Event::AckLast => {
                let n = write_ack(&mut dgram, last_seen).expect("fits");
                s.handle_datagram(now, &dgram[..n]);
            }
            Event::AckOlder(k) => {
                let n = write_ack(&mut dgram, last_seen.wrapping_sub(u16::from(*k))).expect("fits");
                s.handle_datagram(now, &dgram[..n]);
            }
            Event::Error(c) => {
                let n = write_error(&mut dgram, ErrorCode(*c), b"x").expect("fits");
                s.handle_datagram(now, &dgram[..n]);
            }
            Event::Raw(d) => s.handle_datagram(now, d),
            Event::Wait(ms) => {
                now = now + Duration::from_millis(u64::from(*ms));
                s.handle_timeout(now);
            }
        }
        check(&mut s, now, &mut last_seen, &mut first);
    }
    // Silence from now on: the engine must finish within its retry budget.
    let mut rounds = 0;
    while !s.is_finished() {
        rounds += 1;
        assert!(rounds <= 8 + 2, "engine does not give up");
        let Some(d) = s.poll_timeout() else {
            panic!("active engine without a timer: {:?}", s.state());
        };
        assert!(d >= now);
        now = d;
        s.handle_timeout(now);
        check(&mut s, now, &mut last_seen, &mut first);
    }
}
