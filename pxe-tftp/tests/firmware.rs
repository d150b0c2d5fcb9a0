//! Requests captured from real firmware (OVMF/EDK2 on x86-64 and arm64,
//! against dnsmasq 2.90: shared/spec/captures/uefi-pxe-full-dnsmasq.pcap and
//! arm64-uefi-pxe-dnsmasq.pcap), replayed against the server engine.
#![cfg(feature = "std")]
#![allow(clippy::unwrap_used, clippy::panic)]

use pxe_tftp::server::{ReadTransfer, ServerPolicy, accept};
use pxe_tftp::wire::{ErrorCode, Packet};
use pxe_tftp::{Instant, ServerLimits, State, TransferConfig, TransferError};

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// EDK2's first RRQ: `ipxe.efi` octet tsize=0 blksize=1468 windowsize=4.
const RRQ_PROBE: &str = "0001697078652e656669006f63746574007473697a65003000626c6b73697a6500313436380077696e646f7773697a65003400";
/// dnsmasq 2.90's answer (it knows no windowsize).
const DNSMASQ_OACK: &str = "0006626c6b73697a650031343638007473697a650038353035323800";
/// EDK2 then aborts: ERROR 8 'User aborted the transfer'.
const EDK2_ABORT: &str = "00050008557365722061626f7274656420746865207472616e7366657200";
/// EDK2's second RRQ: blksize=1468 windowsize=4.
const RRQ_FETCH: &str =
    "0001697078652e656669006f6374657400626c6b73697a6500313436380077696e646f7773697a65003400";
/// arm64 EDK2's first RRQ for `ub-aa64.efi`.
const RRQ_ARM64: &str = "000175622d616136342e656669006f63746574007473697a65003000626c6b73697a6500313436380077696e646f7773697a65003400";

const T0: Instant = Instant::ZERO;

fn start<'a>(
    rrq: &[u8],
    file: &'a [u8],
    limits: ServerLimits,
) -> (ReadTransfer<&'a [u8]>, Vec<u8>) {
    let policy = ServerPolicy {
        limits,
        allow_writes: false,
    };
    let acc = accept(rrq, &policy).unwrap();
    let mut t = ReadTransfer::new(
        file,
        acc.mode,
        &acc.options,
        &policy.limits,
        TransferConfig::default(),
    );
    let mut buf = vec![0u8; t.max_datagram_len()];
    let n = t.poll_transmit(T0, &mut buf).unwrap();
    buf.truncate(n);
    (t, buf)
}

#[test]
fn dnsmasq_compatible_limits_give_dnsmasqs_oack_byte_for_byte() {
    let file = vec![0u8; 850_528];
    let limits = ServerLimits {
        windowsize: false,
        timeout: false,
        ..ServerLimits::default()
    };
    let (mut t, oack) = start(&hex(RRQ_PROBE), &file, limits);
    assert_eq!(oack, hex(DNSMASQ_OACK));
    t.handle_datagram(T0, &hex(EDK2_ABORT));
    assert!(t.is_size_probe());
    assert!(t.is_finished());
    match t.state() {
        State::Failed(TransferError::Peer { code, message }) => {
            assert_eq!(*code, ErrorCode::OPTION_REFUSED);
            assert_eq!(message.as_bytes(), b"User aborted the transfer");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn uefi_gets_its_windowsize() {
    let file: Vec<u8> = (0..850_528u32).map(|i| (i % 255) as u8).collect();
    let (mut t, oack) = start(&hex(RRQ_PROBE), &file, ServerLimits::default());
    assert_eq!(
        oack,
        b"\x00\x06blksize\x001468\x00tsize\x00850528\x00windowsize\x004\x00"
    );
    t.handle_datagram(T0, &hex(EDK2_ABORT));
    assert!(t.is_size_probe());

    // The real fetch: OACK, ACK 0, then windows of four 1468-byte blocks.
    let (mut t, oack) = start(&hex(RRQ_FETCH), &file, ServerLimits::default());
    assert_eq!(oack, b"\x00\x06blksize\x001468\x00windowsize\x004\x00");
    t.handle_datagram(T0, b"\x00\x04\x00\x00");
    let mut buf = vec![0u8; t.max_datagram_len()];
    let mut blocks = Vec::new();
    while let Some(n) = t.poll_transmit(T0, &mut buf) {
        match Packet::parse(&buf[..n]).unwrap() {
            Packet::Data { block, data } => {
                assert_eq!(data.len(), 1468);
                blocks.push(block);
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(blocks, [1, 2, 3, 4]);
    assert!(!t.is_size_probe());
}

#[test]
fn arm64_probe_for_a_small_file() {
    let file = vec![1u8; 1024];
    let (mut t, oack) = start(&hex(RRQ_ARM64), &file, ServerLimits::default());
    assert_eq!(
        oack,
        b"\x00\x06blksize\x001468\x00tsize\x001024\x00windowsize\x004\x00"
    );
    t.handle_datagram(T0, &hex(EDK2_ABORT));
    assert!(t.is_size_probe());
}
