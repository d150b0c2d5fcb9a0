//! The engine's per-packet paths that create no lease (proxy offers, PXE
//! boot-server answers, drops of malformed input) allocate nothing once
//! warmed up, with the no-op event sink and with a sink that formats every
//! event as its log line (events borrow; their `Display` does not
//! allocate): proven with a counting global allocator.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use pxe_dhcp::{Builder, Flags, MessageType};
use std::fmt::Write as _;

use pxe_engine::{Engine, Event, EventSink, NoEvents, Outcome, Output, RxInfo};

struct Counting;

static ALLOCS: AtomicUsize = AtomicUsize::new(0);

std::thread_local! {
    /// Only the test's own thread is counted: the harness's main thread
    /// allocates on its own schedule (its "running for over 60 seconds"
    /// notice on a slow machine), which said nothing about the engine.
    static COUNTED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn count() {
    if COUNTED.with(|c| c.get()) {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
    }
}

// SAFETY argument: every call is forwarded unchanged to the system
// allocator; the only addition is an atomic counter increment.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        count();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        count();
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(p, l, n) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn msg(t: MessageType, ciaddr: Ipv4Addr, extra: &[(u8, &[u8])]) -> Vec<u8> {
    let mut buf = [0u8; 1500];
    let mut b = Builder::new(&mut buf).unwrap();
    b.xid(42).ciaddr(ciaddr).flags(Flags::BROADCAST);
    b.chaddr(1, &[0x52, 0x54, 0, 1, 2, 3]).unwrap();
    b.message_type(t).unwrap();
    b.option(60, b"PXEClient:Arch:00000:UNDI:002001").unwrap();
    b.option(93, &[0, 0]).unwrap();
    b.option(97, &[0; 17]).unwrap();
    for (c, v) in extra {
        b.option(*c, v).unwrap();
    }
    let n = b.finish().unwrap();
    buf[..n].to_vec()
}

#[test]
fn proxy_boot_server_and_drops_allocate_nothing() {
    let conf = pxe_rules::Config::parse_str(
        include_str!("../../conf/seed-proxy.conf"),
        "seed-proxy.conf",
    )
    .unwrap();
    let mut e = Engine::new(Arc::new(conf));
    let rx67 = RxInfo {
        port: 67,
        src: SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 68),
        iface: "eth0",
        local: Ipv4Addr::new(192, 168, 2, 1),
        netmask: Ipv4Addr::new(255, 255, 255, 0),
        mtu: 1500,
        broadcast: true,
    };
    let ci = Ipv4Addr::new(192, 168, 2, 50);
    let rx4011 = RxInfo {
        port: 4011,
        src: SocketAddrV4::new(ci, 4011),
        broadcast: false,
        ..rx67
    };
    let discover = msg(MessageType::Discover, Ipv4Addr::UNSPECIFIED, &[]);
    let boot = msg(
        MessageType::Request,
        ci,
        &[(43, &[71, 4, 0x80, 0, 0, 0, 255])],
    );
    let mut bad = discover.clone();
    bad[241] = 0xff;
    let mut out = [0u8; 1500];
    let mut run = |e: &mut Engine, sink: &mut dyn EventSink| {
        assert!(matches!(
            e.handle(1, &rx67, &discover, &mut out, sink),
            Output::Ready(Outcome::Reply(_))
        ));
        assert!(matches!(
            e.handle(1, &rx4011, &boot, &mut out, sink),
            Output::Ready(Outcome::Reply(_))
        ));
        assert!(matches!(
            e.handle(1, &rx67, &bad, &mut out, sink),
            Output::Ready(Outcome::Dropped(_))
        ));
        assert!(matches!(
            e.handle(1, &rx67, &[0u8; 10], &mut out, sink),
            Output::Ready(Outcome::Dropped(_))
        ));
    };
    // The log lines of every event, into one reused buffer.
    let mut text = String::new();
    let mut lines = 0usize;
    let mut formatting = |ev: &Event<'_>| {
        text.clear();
        let _ = write!(text, "{ev}");
        lines += 1;
    };
    // Warm up: the line buffer reaches its size.
    for _ in 0..3 {
        run(&mut e, &mut NoEvents);
        run(&mut e, &mut formatting);
    }
    COUNTED.with(|c| c.set(true));
    let before = ALLOCS.load(Ordering::Relaxed);
    for _ in 0..100 {
        run(&mut e, &mut NoEvents);
    }
    let n = ALLOCS.load(Ordering::Relaxed) - before;
    assert_eq!(n, 0, "{n} allocations in 400 handled packets (no-op sink)");
    let before = ALLOCS.load(Ordering::Relaxed);
    for _ in 0..100 {
        run(&mut e, &mut formatting);
    }
    let n = ALLOCS.load(Ordering::Relaxed) - before;
    assert_eq!(
        n, 0,
        "{n} allocations in 400 handled packets (formatting sink)"
    );
    assert!(lines >= 103 * 2, "the replies were reported: {lines} lines");
    // The last line formatted: the boot-server ACK (the drops are past
    // their rate limit by then).
    assert!(
        text.contains("-> PXE boot-server ACK 192.168.2.50 file=undionly.kkpxe"),
        "{text}"
    );
    assert_eq!(e.metrics().proxy_replies, 206);
}
