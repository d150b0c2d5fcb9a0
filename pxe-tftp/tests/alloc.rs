//! Steady-state datagram handling allocates nothing: a counting global
//! allocator watches a whole in-memory transfer (OACK, windows, a lost
//! window and its retransmission, netascii too).
#![cfg(feature = "std")]
#![allow(clippy::panic, clippy::unwrap_used)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use pxe_tftp::client::ClientRead;
use pxe_tftp::io::SliceSink;
use pxe_tftp::server::{ReadTransfer, ServerPolicy, accept};
use pxe_tftp::wire::Mode;
use pxe_tftp::{Instant, State, TransferConfig, TransferOptions};

thread_local! {
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

struct Counting;

// Counting allocator: GlobalAlloc is an unsafe trait; we only count and
// forward to the system allocator.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocs() -> u64 {
    ALLOCS.with(|c| c.get())
}

fn transfer(file: &[u8], mode: Mode, out: &mut [u8], asked: TransferOptions) -> (u64, usize) {
    let cfg = TransferConfig::default();
    let policy = ServerPolicy::default();
    let mut buf = [0u8; 1500];
    let mut client = match ClientRead::new(b"f", mode, &asked, cfg, SliceSink::new(out)) {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    };
    let before = allocs();
    let mut now = Instant::ZERO;
    let Some(n) = client.poll_transmit(now, &mut buf) else {
        panic!("no request")
    };
    let Ok(acc) = accept(&buf[..n], &policy) else {
        panic!("refused")
    };
    let mut server = ReadTransfer::new(file, acc.mode, &acc.options, &policy.limits, cfg);
    let mut sent = 0u32;
    while !(server.is_finished() && client.is_finished()) {
        let mut moved = false;
        while let Some(n) = server.poll_transmit(now, &mut buf) {
            sent += 1;
            // Lose a packet now and then to exercise retransmission.
            if sent % 50 != 7 {
                client.handle_datagram(now, &buf[..n]);
            }
            moved = true;
        }
        while let Some(n) = client.poll_transmit(now, &mut buf) {
            server.handle_datagram(now, &buf[..n]);
            moved = true;
        }
        if !moved {
            let next = [server.poll_timeout(), client.poll_timeout()]
                .into_iter()
                .flatten()
                .min();
            let Some(next) = next else { break };
            now = next;
            server.handle_timeout(now);
            client.handle_timeout(now);
        }
    }
    assert_eq!(*server.state(), State::Complete);
    assert_eq!(*client.state(), State::Complete);
    assert!(server.stats().blocks_resent > 0, "loss path not exercised");
    let len = usize::try_from(client.bytes_received()).unwrap_or(0);
    (allocs() - before, len)
}

#[test]
fn steady_state_allocates_nothing() {
    // The counter itself works.
    let b = allocs();
    let v = std::hint::black_box(vec![1u8; 10]);
    assert!(allocs() > b);
    drop(v);
    let file: Vec<u8> = (0..300_000u32)
        .map(|i| (i % 200) as u8 + b'\n' * u8::from(i % 50 == 0))
        .collect();
    let mut out = vec![0u8; 400_000];
    for (mode, asked) in [
        (
            Mode::Octet,
            TransferOptions {
                blksize: Some(1468),
                windowsize: Some(16),
                tsize: Some(0),
                ..Default::default()
            },
        ),
        (Mode::Octet, TransferOptions::default()),
        (
            Mode::Netascii,
            TransferOptions {
                blksize: Some(1024),
                windowsize: Some(4),
                tsize: Some(0),
                ..Default::default()
            },
        ),
    ] {
        let (n, len) = transfer(&file, mode, &mut out, asked);
        assert_eq!(n, 0, "{mode:?}: {n} allocations during the transfer");
        assert_eq!(&out[..len], &file[..], "{mode:?}");
    }
}

/// The endpoint's files: one file in memory (opening it allocates nothing).
struct One<'a>(&'a [u8]);

impl<'a> pxe_tftp::server::Files for One<'a> {
    type Source = &'a [u8];
    type Refusal = pxe_tftp::server::FileRefusal;
    fn open(
        &mut self,
        _req: &pxe_tftp::server::FileRequest<'_>,
    ) -> Result<pxe_tftp::server::Opened<&'a [u8]>, pxe_tftp::server::FileRefusal> {
        Ok(pxe_tftp::server::Opened::new(self.0))
    }
}

/// A whole transfer through an endpoint (admission, routing, windows in
/// segmented transmits, the end): counts allocations after `Endpoint::new`.
fn endpoint_transfer(
    file: &[u8],
    out: &mut [u8],
    ports: pxe_tftp::server::TransferPorts,
) -> (u64, usize) {
    use pxe_tftp::server::{Endpoint, EndpointConfig, Handled, Local, PortChoice};
    let config = EndpointConfig {
        ports,
        max_segments: 16,
        ..EndpointConfig::default()
    };
    let mut endpoint = Endpoint::new(config, One(file));
    let asked = TransferOptions {
        blksize: Some(1468),
        windowsize: Some(16),
        tsize: Some(0),
        ..Default::default()
    };
    let Ok(mut client) = ClientRead::new(
        b"f",
        Mode::Octet,
        &asked,
        TransferConfig::default(),
        SliceSink::new(out),
    ) else {
        panic!("request")
    };
    let peer = core::net::SocketAddr::from(([10, 0, 0, 2], 2000));
    let local = Local {
        addr: [10, 0, 0, 1].into(),
        port: 69,
        interface: 0,
    };
    let mut server_port = 69;
    let mut buf = [0u8; 16 * 1472];
    let mut reply = [0u8; 512];
    let before = allocs();
    let mut now = Instant::ZERO;
    loop {
        let mut moved = false;
        while let Some(n) = client.poll_transmit(now, &mut buf) {
            moved = true;
            match endpoint.handle(
                now,
                peer,
                local.with_port(server_port),
                &buf[..n],
                &mut reply,
            ) {
                Handled::Admitted(a) => {
                    let Some(PortChoice::Port(p)) = a.ports().next() else {
                        panic!("range")
                    };
                    server_port = p;
                    if endpoint.open(a, p).is_err() {
                        panic!("open")
                    }
                }
                Handled::Started { .. } | Handled::Delivered => {}
                other => panic!("{other:?}"),
            }
        }
        while let Some(t) = endpoint.poll_transmit(now, &mut buf) {
            moved = true;
            for d in t.datagrams(&buf) {
                client.handle_datagram(now, d);
            }
        }
        while endpoint.poll_event().is_some() {}
        if moved {
            continue;
        }
        let next = [client.poll_timeout(), endpoint.poll_timeout()]
            .into_iter()
            .flatten()
            .min();
        let Some(next) = next else { break };
        now = next;
        client.handle_timeout(now);
        endpoint.handle_timeout(now);
    }
    assert_eq!(*client.state(), State::Complete);
    assert_eq!(endpoint.counters().completed, 1);
    let len = usize::try_from(client.bytes_received()).unwrap_or(0);
    (allocs() - before, len)
}

#[test]
fn an_endpoint_transfer_allocates_nothing() {
    use pxe_tftp::server::TransferPorts;
    let file: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
    let mut out = vec![0u8; 400_000];
    for ports in [
        TransferPorts::Single,
        TransferPorts::Range {
            first: 50_000,
            last: 50_010,
        },
    ] {
        let (n, len) = endpoint_transfer(&file, &mut out, ports);
        assert_eq!(n, 0, "{ports:?}: {n} allocations during the transfer");
        assert_eq!(&out[..len], &file[..], "{ports:?}");
    }
}
