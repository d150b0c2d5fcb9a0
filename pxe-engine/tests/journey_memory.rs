//! The journey store's memory under a flood of fake MAC addresses: all of
//! it is reserved when the store is made, and 100 000 distinct clients
//! going through the engine and the store's sink allocate nothing more
//! and free nothing (a counting global allocator tracks every byte).
//! `cargo test -p pxe-engine --test journey_memory -- --nocapture` prints
//! the figures.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::Arc;
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};

use pxe_dhcp::{Builder, Flags, MessageType};
use pxe_engine::journey::{JourneyStore, Stage};
use pxe_engine::lease::HwAddr;
use pxe_engine::{Engine, Output, RxInfo};

struct Counting;

static ALLOCS: AtomicUsize = AtomicUsize::new(0);
static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY argument: every call is forwarded unchanged to the system
// allocator; the only addition is atomic counter updates.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        LIVE.fetch_add(l.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        LIVE.fetch_add(n as isize - l.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(p, l, n) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn discover(buf: &mut [u8], mac: [u8; 6]) -> usize {
    let mut b = Builder::new(buf).unwrap();
    b.xid(u32::from_be_bytes([mac[2], mac[3], mac[4], mac[5]]))
        .flags(Flags::BROADCAST);
    b.chaddr(1, &mac).unwrap();
    b.message_type(MessageType::Discover).unwrap();
    b.option(60, b"PXEClient:Arch:00000:UNDI:002001").unwrap();
    b.option(93, &[0, 0]).unwrap();
    b.option(97, &[0; 17]).unwrap();
    b.finish().unwrap()
}

#[test]
fn a_flood_of_100_000_fake_macs_allocates_nothing_and_keeps_the_newest() {
    // The seed's proxy: every PXE DISCOVER gets a proxy offer (a lease-free
    // path, so the engine itself allocates nothing per packet either).
    let conf = Arc::new(
        pxe_rules::Config::parse_str(
            "dhcp-match=ipxe,175\ndhcp-range=192.168.2.0,proxy\n\
             pxe-service=net:#ipxe,x86PC,\"splashtop\",undionly.kkpxe\n",
            "seed-proxy.conf",
        )
        .unwrap(),
    );
    let mut engine = Engine::new(conf.clone());
    let rx = RxInfo {
        port: 67,
        src: SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 68),
        iface: "eth0",
        local: Ipv4Addr::new(192, 168, 2, 1),
        netmask: Ipv4Addr::new(255, 255, 255, 0),
        mtu: 1500,
        broadcast: true,
    };
    let mut req = [0u8; 600];
    let mut out = [0u8; 1500];
    let live_before = LIVE.load(Ordering::Relaxed);
    let mut store = JourneyStore::new(JourneyStore::DEFAULT_CAPACITY, 0x1234_5678);
    let reserved = LIVE.load(Ordering::Relaxed) - live_before;
    assert_eq!(reserved as usize, store.heap_bytes());

    const FLOOD: u32 = 100_000;
    let mut run = |store: &mut JourneyStore, range: std::ops::Range<u32>| {
        for n in range {
            let b = n.to_be_bytes();
            let mac = [2, 0xfa, b[0], b[1], b[2], b[3]];
            let len = discover(&mut req, mac);
            let now_ms = 1_700_000_000_000 + u64::from(n);
            let mut sink = store.sink(now_ms, &conf);
            let Output::Ready(o) =
                engine.handle(now_ms / 1000, &rx, &req[..len], &mut out, &mut sink)
            else {
                panic!("a proxy offer persists nothing");
            };
            assert!(o.reply().is_some());
        }
    };
    // Warm-up: fill the store once (its vectors are reserved already, so
    // this allocates nothing either, but the engine's first packet may).
    run(&mut store, 0..JourneyStore::DEFAULT_CAPACITY as u32);
    let allocs = ALLOCS.load(Ordering::Relaxed);
    let live = LIVE.load(Ordering::Relaxed);
    run(&mut store, JourneyStore::DEFAULT_CAPACITY as u32..FLOOD);
    assert_eq!(
        ALLOCS.load(Ordering::Relaxed) - allocs,
        0,
        "the flood allocated"
    );
    assert_eq!(LIVE.load(Ordering::Relaxed), live, "live bytes changed");
    assert_eq!(store.len(), JourneyStore::DEFAULT_CAPACITY);
    assert_eq!(
        store.evicted(),
        u64::from(FLOOD) - JourneyStore::DEFAULT_CAPACITY as u64
    );
    // The newest machines are the ones kept, each findable by its MAC.
    for n in FLOOD - JourneyStore::DEFAULT_CAPACITY as u32..FLOOD {
        let b = n.to_be_bytes();
        let j = store
            .get(&HwAddr::ethernet([2, 0xfa, b[0], b[1], b[2], b[3]]))
            .unwrap_or_else(|| panic!("journey {n} kept"));
        assert_eq!(j.stage(), Stage::Offer);
    }
    println!(
        "journey store: {} journeys of {} bytes, {} bytes reserved in all ({:.2} MiB); \
         {FLOOD} distinct MACs: 0 allocations, live heap unchanged",
        store.capacity(),
        std::mem::size_of::<pxe_engine::journey::Journey>(),
        store.heap_bytes(),
        store.heap_bytes() as f64 / (1024.0 * 1024.0)
    );
}
