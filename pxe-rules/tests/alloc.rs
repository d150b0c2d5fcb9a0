//! Evaluating a request and writing its reply allocate nothing, with tracing off,
//! across the seed configurations, every client class, and a configuration
//! that exercises every option path (encap, vi-encap, vendor, addresses
//! with the local placeholder, prompts, menus).

#![allow(clippy::panic, clippy::unwrap_used)]

mod common;
use common::*;

use pxe_dhcp::MessageType;
use pxe_rules::{Config, Context, Facts, Port, ServerPart};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    static COUNT: Cell<usize> = const { Cell::new(0) };
}

// Counting wrapper around the system allocator: `GlobalAlloc` is an unsafe
// trait; this impl only forwards to `System` and counts calls per thread.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let _ = COUNT.try_with(|c| c.set(c.get() + 1));
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        let _ = COUNT.try_with(|c| c.set(c.get() + 1));
        unsafe { System.realloc(p, l, n) }
    }
}

#[global_allocator]
static A: Counting = Counting;

fn allocations<R>(f: impl FnOnce() -> R) -> (R, usize) {
    let before = COUNT.with(|c| c.get());
    let r = f();
    (r, COUNT.with(|c| c.get()) - before)
}

#[test]
fn evaluation_does_not_allocate() {
    let configs: Vec<Config> = [
        SEED_REAL,
        SEED_PROXY,
        SEED_PROXY_PHP,
        SEED_PROXY_PHP_NEXTSERVER,
        EVERYTHING,
    ]
    .iter()
    .map(|t| Config::parse_str(t, "t.conf").unwrap())
    .collect();
    let mut requests: Vec<Vec<u8>> = Vec::new();
    for c in ALL_CLIENTS {
        requests.push(client(c, 1));
        requests.push(client(c, 3));
    }
    requests.push(
        Req::new([0x52, 0x54, 0, 0xb0, 7, 1], 3)
            .ciaddr(std::net::Ipv4Addr::new(192, 168, 2, 50))
            .opt(60, b"PXEClient:Arch:00000:UNDI:002001")
            .opt(93, &[0, 0])
            .opt(43, &[71, 4, 0x80, 1, 0, 1, 255])
            .done(),
    );
    // The counter works: an allocation is seen.
    let (v, n) = allocations(|| Vec::<u8>::with_capacity(8));
    assert!(n >= 1 && v.capacity() >= 8);
    let mut checked = 0;
    for config in &configs {
        for req in &requests {
            for port in [Port::Dhcp, Port::Pxe] {
                for local in [LOCAL, std::net::Ipv4Addr::new(192, 168, 3, 1)] {
                    let ctx = Context::new(local, MASK)
                        .with_interface("eth0")
                        .with_port(port);
                    let ((), n) = allocations(|| {
                        let pkt = pxe_dhcp::Packet::new_lenient(&req[..]).unwrap();
                        let facts = Facts::new(&pkt).unwrap();
                        let d = config.evaluate(&facts, &ctx);
                        // Touch everything the server reads, and write the
                        // reply as a server does.
                        let mut sum = 0usize;
                        for o in d.options() {
                            sum += usize::from(o.code());
                        }
                        for (c, v) in d.boot_options() {
                            sum += usize::from(c) + v.len();
                        }
                        sum += d.file().map_or(0, <[u8]>::len) + d.sname().map_or(0, <[u8]>::len);
                        sum += d.tag_names().count();
                        let mut out = [0u8; 1500];
                        let server = ServerPart::new(local, Some(MessageType::Offer));
                        if let Ok(b) = d.write_reply(&pkt, &server, &mut out) {
                            sum += b.finish().unwrap_or(0);
                        }
                        std::hint::black_box((sum, d.verdict(), d.siaddr()));
                    });
                    assert_eq!(n, 0, "evaluation allocated {n} times");
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 100);
}
