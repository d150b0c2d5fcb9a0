//! Scenario tests of the server and client engines, one packet at a time.
#![cfg(feature = "std")]
#![allow(clippy::unwrap_used, clippy::panic)]

use core::time::Duration;

use pxe_tftp::client::{ClientRead, ClientWrite};
use pxe_tftp::server::{RejectReason, ServerPolicy, WriteTransfer, accept};
use pxe_tftp::wire::{
    ErrorCode, Mode, OptionWriter, Packet, RequestKind, foreign_tid_reply, write_ack, write_data,
    write_error,
};
use pxe_tftp::{
    Instant, ServerLimits, State, TransferConfig, TransferError, TransferOptions,
    server::ReadTransfer,
};

fn rrq(name: &[u8], mode: &[u8], opts: &[(&[u8], &[u8])]) -> Vec<u8> {
    let mut buf = vec![0u8; 512];
    let mut w = OptionWriter::request(&mut buf, RequestKind::Read, name, mode).unwrap();
    for (n, v) in opts {
        w.option(n, v).unwrap();
    }
    let n = w.finish();
    buf.truncate(n);
    buf
}

fn server<'a>(
    req: &[u8],
    file: &'a [u8],
    policy: &ServerPolicy,
    config: TransferConfig,
) -> ReadTransfer<&'a [u8]> {
    let acc = accept(req, policy).unwrap();
    ReadTransfer::new(file, acc.mode, &acc.options, &policy.limits, config)
}

fn drain<F: FnMut(Instant, &mut [u8]) -> Option<usize>>(mut f: F, now: Instant) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 70000];
    while let Some(n) = f(now, &mut buf) {
        out.push(buf[..n].to_vec());
        assert!(out.len() < 100_000, "runaway transmitter");
    }
    out
}

fn ack(block: u16) -> Vec<u8> {
    let mut b = [0u8; 4];
    write_ack(&mut b, block).unwrap();
    b.to_vec()
}

fn data_block(p: &[u8]) -> (u16, Vec<u8>) {
    match Packet::parse(p).unwrap() {
        Packet::Data { block, data } => (block, data.to_vec()),
        other => panic!("expected DATA, got {other:?}"),
    }
}

const T0: Instant = Instant::ZERO;

#[test]
fn plain_rrq_sends_data_1_immediately_and_ends_with_empty_block() {
    let file = vec![7u8; 1024];
    let mut s = server(
        &rrq(b"f", b"octet", &[]),
        &file,
        &ServerPolicy::default(),
        TransferConfig::default(),
    );
    assert!(s.granted().is_empty());
    let out = drain(|n, b| s.poll_transmit(n, b), T0);
    assert_eq!(out.len(), 1);
    assert_eq!(data_block(&out[0]), (1, vec![7u8; 512]));
    s.handle_datagram(T0, &ack(1));
    let out = drain(|n, b| s.poll_transmit(n, b), T0);
    assert_eq!(data_block(&out[0]).0, 2);
    s.handle_datagram(T0, &ack(2));
    let out = drain(|n, b| s.poll_transmit(n, b), T0);
    assert_eq!(data_block(&out[0]), (3, vec![]));
    assert!(s.state().is_active());
    s.handle_datagram(T0, &ack(3));
    assert_eq!(*s.state(), State::Complete);
    assert!(s.is_finished());
    assert_eq!(s.poll_timeout(), None);
}

#[test]
fn oack_then_ack_0_then_data() {
    let file = vec![1u8; 3000];
    let policy = ServerPolicy::default();
    let req = rrq(
        b"f",
        b"octet",
        &[(b"blksize", b"9000"), (b"tsize", b"0"), (b"foo", b"bar")],
    );
    let mut s = server(&req, &file, &policy, TransferConfig::default());
    let out = drain(|n, b| s.poll_transmit(n, b), T0);
    assert_eq!(
        out,
        vec![b"\x00\x06blksize\x001468\x00tsize\x003000\x00".to_vec()]
    );
    // Nothing until ACK 0; a stray ACK 1 does not start the data.
    s.handle_datagram(T0, &ack(1));
    assert!(drain(|n, b| s.poll_transmit(n, b), T0).is_empty());
    s.handle_datagram(T0, &ack(0));
    let out = drain(|n, b| s.poll_transmit(n, b), T0);
    assert_eq!(data_block(&out[0]), (1, vec![1u8; 1468]));
}

#[test]
fn error_8_in_answer_to_oack_ends_the_transfer() {
    let file = vec![1u8; 10];
    let mut s = server(
        &rrq(b"f", b"octet", &[(b"tsize", b"0")]),
        &file,
        &ServerPolicy::default(),
        TransferConfig::default(),
    );
    assert_eq!(drain(|n, b| s.poll_transmit(n, b), T0).len(), 1);
    let mut e = [0u8; 64];
    let n = write_error(&mut e, ErrorCode::OPTION_REFUSED, b"no thanks").unwrap();
    s.handle_datagram(T0, &e[..n]);
    match s.state() {
        State::Failed(TransferError::Peer { code, message }) => {
            assert_eq!(*code, ErrorCode::OPTION_REFUSED);
            assert_eq!(message.as_bytes(), b"no thanks");
        }
        other => panic!("{other:?}"),
    }
    assert!(drain(|n, b| s.poll_transmit(n, b), T0).is_empty());
    assert!(s.is_finished());
}

#[test]
fn duplicate_ack_is_ignored_and_older_ack_in_window_resends_from_there() {
    let file: Vec<u8> = (0..100u8).collect();
    let req = rrq(b"f", b"octet", &[(b"blksize", b"8"), (b"windowsize", b"4")]);
    let mut s = server(
        &req,
        &file,
        &ServerPolicy::default(),
        TransferConfig::default(),
    );
    drain(|n, b| s.poll_transmit(n, b), T0);
    s.handle_datagram(T0, &ack(0));
    let w: Vec<u16> = drain(|n, b| s.poll_transmit(n, b), T0)
        .iter()
        .map(|p| data_block(p).0)
        .collect();
    assert_eq!(w, [1, 2, 3, 4]);
    // ACK 2: blocks 3 and 4 were lost; the next window starts at 3.
    s.handle_datagram(T0, &ack(2));
    let w: Vec<(u16, Vec<u8>)> = drain(|n, b| s.poll_transmit(n, b), T0)
        .iter()
        .map(|p| data_block(p))
        .collect();
    assert_eq!(w.iter().map(|x| x.0).collect::<Vec<_>>(), [3, 4, 5, 6]);
    assert_eq!(w[0].1, (16..24).collect::<Vec<u8>>());
    assert_eq!(s.stats().blocks_resent, 2);
    // Duplicate ACK 2: nothing (no Sorcerer's Apprentice).
    s.handle_datagram(T0, &ack(2));
    assert!(drain(|n, b| s.poll_transmit(n, b), T0).is_empty());
    // ACK for a block never sent: ignored.
    s.handle_datagram(T0, &ack(40));
    assert!(drain(|n, b| s.poll_transmit(n, b), T0).is_empty());
    assert_eq!(s.stats().ignored, 2);
}

#[test]
fn retransmits_then_times_out_with_a_clear_error() {
    let file = vec![0u8; 600];
    let cfg = TransferConfig {
        retransmit_timeout: Duration::from_millis(500),
        max_retransmits: 3,
        linger_timeouts: 1,
    };
    let mut s = server(
        &rrq(b"f", b"octet", &[]),
        &file,
        &ServerPolicy::default(),
        cfg,
    );
    drain(|n, b| s.poll_transmit(n, b), T0);
    let mut now = T0;
    for i in 1..=3u64 {
        let d = s.poll_timeout().unwrap();
        assert_eq!(d, Instant::from_millis(500 * i));
        // Early calls do nothing.
        s.handle_timeout(now);
        assert!(drain(|n, b| s.poll_transmit(n, b), now).is_empty());
        now = d;
        s.handle_timeout(now);
        let out = drain(|n, b| s.poll_transmit(n, b), now);
        assert_eq!(data_block(&out[0]).0, 1);
    }
    now = s.poll_timeout().unwrap();
    s.handle_timeout(now);
    assert_eq!(
        *s.state(),
        State::Failed(TransferError::TimedOut {
            block: 1,
            retransmits: 3,
            timeout: Duration::from_millis(500)
        })
    );
    let msg = s.state().error().unwrap().to_string();
    assert!(
        msg.contains("no answer from the peer after 3 retransmissions"),
        "{msg}"
    );
    assert!(s.is_finished());
    assert_eq!(s.poll_timeout(), None);
}

#[test]
fn negotiated_timeout_overrides_the_default() {
    let file = vec![0u8; 10];
    let mut s = server(
        &rrq(b"f", b"octet", &[(b"timeout", b"3")]),
        &file,
        &ServerPolicy::default(),
        TransferConfig::default(),
    );
    drain(|n, b| s.poll_transmit(n, b), T0);
    assert_eq!(s.poll_timeout(), Some(Instant::from_millis(3000)));
}

#[test]
fn block_numbers_roll_over_from_65535_to_0() {
    let blk = 8usize;
    let file: Vec<u8> = (0..(65536 + 3) * blk + 5)
        .map(|i| (i % 251) as u8)
        .collect();
    let mut s = server(
        &rrq(
            b"f",
            b"octet",
            &[(b"blksize", b"8"), (b"windowsize", b"64")],
        ),
        &file,
        &ServerPolicy::default(),
        TransferConfig::default(),
    );
    drain(|n, b| s.poll_transmit(n, b), T0);
    s.handle_datagram(T0, &ack(0));
    let mut got = Vec::new();
    let mut seen = Vec::new();
    loop {
        let out = drain(|n, b| s.poll_transmit(n, b), T0);
        if out.is_empty() {
            break;
        }
        let mut last = 0;
        for p in &out {
            let (b, d) = data_block(p);
            seen.push(b);
            got.extend_from_slice(&d);
            last = b;
        }
        s.handle_datagram(T0, &ack(last));
    }
    assert_eq!(got, file);
    assert_eq!(seen[65533..65538], [65534, 65535, 0, 1, 2]);
    assert_eq!(*s.state(), State::Complete);
}

#[test]
fn netascii_tsize_counts_the_encoding() {
    let file = b"a\nb\n\rc";
    let mut s = server(
        &rrq(b"f", b"NetAscii", &[(b"tsize", b"0")]),
        file,
        &ServerPolicy::default(),
        TransferConfig::default(),
    );
    let out = drain(|n, b| s.poll_transmit(n, b), T0);
    assert_eq!(out[0], b"\x00\x06tsize\x009\x00");
    s.handle_datagram(T0, &ack(0));
    let out = drain(|n, b| s.poll_transmit(n, b), T0);
    assert_eq!(data_block(&out[0]).1, b"a\r\nb\r\n\r\0c");
}

#[test]
fn unexpected_packets_get_error_4_and_malformed_ones_are_ignored() {
    let file = vec![0u8; 10];
    let mut s = server(
        &rrq(b"f", b"octet", &[]),
        &file,
        &ServerPolicy::default(),
        TransferConfig::default(),
    );
    drain(|n, b| s.poll_transmit(n, b), T0);
    s.handle_datagram(T0, b"\x00");
    s.handle_datagram(T0, b"\x00\x09zz");
    assert_eq!(s.stats().ignored, 2);
    assert!(s.state().is_active());
    let mut d = [0u8; 16];
    let n = write_data(&mut d, 1, b"x").unwrap();
    s.handle_datagram(T0, &d[..n]);
    let out = drain(|n, b| s.poll_transmit(n, b), T0);
    assert_eq!(
        Packet::parse(&out[0]).unwrap(),
        Packet::Error {
            code: ErrorCode::ILLEGAL_OPERATION,
            message: b"illegal TFTP operation"
        }
    );
    assert!(matches!(
        s.state(),
        State::Failed(TransferError::UnexpectedPacket(_))
    ));
}

#[test]
fn accept_policy() {
    let p = ServerPolicy::default();
    let r = accept(&rrq(b"f", b"mail", &[]), &p).unwrap_err();
    assert_eq!(
        (r.code, r.reason),
        (ErrorCode(4), RejectReason::UnsupportedMode)
    );
    let r = accept(&rrq(b"f", b"octet", &[(b"blksize", b"x")]), &p).unwrap_err();
    assert_eq!(r.code, ErrorCode::OPTION_REFUSED);
    let r = accept(&rrq(b"", b"octet", &[]), &p).unwrap_err();
    assert_eq!(r.reason, RejectReason::EmptyFilename);
    let mut buf = [0u8; 64];
    let r = accept(b"\x00\x05\x00\x01x\x00", &p).unwrap_err();
    assert_eq!(r.write_reply(&mut buf), None, "never answer an ERROR");
    let r = accept(b"\x00\x04\x00\x01", &p).unwrap_err();
    let n = r.write_reply(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"\x00\x05\x00\x04unsupported request\x00");
    // Filenames are raw bytes.
    let raw = rrq(b"..\\x\xff", b"octet", &[]);
    let a = accept(&raw, &p).unwrap();
    assert_eq!(a.filename, b"..\\x\xff");
    let n = foreign_tid_reply(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"\x00\x05\x00\x05Unknown transfer ID\x00");
}

#[test]
fn writes_only_when_enabled() {
    let mut buf = vec![0u8; 600];
    let mut w = OptionWriter::request(&mut buf, RequestKind::Write, b"up", b"octet").unwrap();
    w.option(b"blksize", b"16").unwrap();
    let n = w.finish();
    let req = buf[..n].to_vec();
    assert_eq!(
        accept(&req, &ServerPolicy::default()).unwrap_err().reason,
        RejectReason::WritesDisabled
    );
    let policy = ServerPolicy {
        allow_writes: true,
        limits: ServerLimits::default(),
    };
    let acc = accept(&req, &policy).unwrap();
    assert_eq!(acc.kind, RequestKind::Write);
    let mut sink = Vec::new();
    let mut s = WriteTransfer::new(
        &mut sink,
        acc.mode,
        &acc.options,
        &policy.limits,
        TransferConfig::default(),
    );
    let out = drain(|n, b| s.poll_transmit(n, b), T0);
    assert_eq!(out, vec![b"\x00\x06blksize\x0016\x00".to_vec()]);
    let payload: Vec<u8> = (0..40).collect();
    let mut d = [0u8; 64];
    for (i, chunk) in payload.chunks(16).enumerate() {
        let n = write_data(&mut d, i as u16 + 1, chunk).unwrap();
        s.handle_datagram(T0, &d[..n]);
        let out = drain(|n, b| s.poll_transmit(n, b), T0);
        assert_eq!(out, vec![ack(i as u16 + 1)]);
    }
    assert_eq!(*s.state(), State::Complete);
    let _ = s;
    assert_eq!(sink, payload);
}

#[test]
fn client_refuses_an_oack_that_grants_more() {
    let asked = TransferOptions {
        blksize: Some(512),
        ..Default::default()
    };
    let mut c = ClientRead::new(
        b"f",
        Mode::Octet,
        &asked,
        TransferConfig::default(),
        Vec::new(),
    )
    .unwrap();
    drain(|n, b| c.poll_transmit(n, b), T0);
    c.handle_datagram(T0, b"\x00\x06blksize\x001024\x00");
    let out = drain(|n, b| c.poll_transmit(n, b), T0);
    assert!(matches!(
        Packet::parse(&out[0]).unwrap(),
        Packet::Error {
            code: ErrorCode::OPTION_REFUSED,
            ..
        }
    ));
    assert!(matches!(
        c.state(),
        State::Failed(TransferError::BadOack(_))
    ));
}

#[test]
fn client_write_uploads_through_a_write_transfer() {
    let policy = ServerPolicy {
        allow_writes: true,
        limits: ServerLimits::default(),
    };
    let payload: Vec<u8> = (0..5000u32).map(|i| (i * 7) as u8).collect();
    let asked = TransferOptions {
        blksize: Some(1000),
        windowsize: Some(3),
        tsize: Some(0),
        ..Default::default()
    };
    let mut c = ClientWrite::new(
        b"up",
        Mode::Octet,
        &asked,
        TransferConfig::default(),
        &payload[..],
    )
    .unwrap();
    let req = drain(|n, b| c.poll_transmit(n, b), T0).remove(0);
    let acc = accept(&req, &policy).unwrap();
    assert_eq!(acc.options.tsize, Some(5000));
    let mut sink = Vec::new();
    let mut s = WriteTransfer::new(
        &mut sink,
        acc.mode,
        &acc.options,
        &policy.limits,
        TransferConfig::default(),
    );
    for _ in 0..100 {
        for p in drain(|n, b| s.poll_transmit(n, b), T0) {
            c.handle_datagram(T0, &p);
        }
        for p in drain(|n, b| c.poll_transmit(n, b), T0) {
            s.handle_datagram(T0, &p);
        }
    }
    assert_eq!(*c.state(), State::Complete);
    assert_eq!(*s.state(), State::Complete);
    let _ = s;
    assert_eq!(sink, payload);
}

#[test]
fn rrq_tsize_value_is_not_checked_but_wrq_tsize_is() {
    // atftp 0.8 sends "tsize enable".
    let req = rrq(b"f", b"octet", &[(b"tsize", b"enable")]);
    let acc = accept(&req, &ServerPolicy::default()).unwrap();
    assert_eq!(acc.options.tsize, Some(0));
    let mut buf = vec![0u8; 64];
    let mut w = OptionWriter::request(&mut buf, RequestKind::Write, b"f", b"octet").unwrap();
    w.option(b"tsize", b"enable").unwrap();
    let n = w.finish();
    let policy = ServerPolicy {
        allow_writes: true,
        ..ServerPolicy::default()
    };
    assert_eq!(
        accept(&buf[..n], &policy).unwrap_err().code,
        ErrorCode::OPTION_REFUSED
    );
}

#[test]
fn client_write_fails_when_the_request_does_not_fit_the_buffer() {
    // Before, poll_transmit returned None and left the request due with no
    // timer running: the transfer waited forever.
    let mut c = ClientWrite::new(
        b"a-rather-long-file-name",
        Mode::Octet,
        &TransferOptions::default(),
        TransferConfig::default(),
        &b"data"[..],
    )
    .unwrap();
    let mut small = [0u8; 8];
    assert_eq!(c.poll_transmit(T0, &mut small), None);
    assert!(matches!(
        c.state(),
        State::Failed(TransferError::BufferTooSmall { available: 8, .. })
    ));
    assert!(c.is_finished());
}
