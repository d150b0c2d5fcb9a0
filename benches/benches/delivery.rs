//! What the unicast delivery to a client without an address costs the
//! tokio driver per reply: writing its neighbour entry (one netlink
//! `RTM_NEWNEIGH` round trip, `pxe_server::driver::neigh`) and then the
//! `sendto` of a 300-byte reply to `yiaddr`, beside the broadcast `sendto`
//! the driver did before (and still does with the broadcast flag). Runs in
//! a network namespace of its own (needs root) on a veth pair, so no
//! frame leaves the machine and the host's neighbour table is untouched.
#![allow(missing_docs, clippy::unwrap_used, clippy::panic, clippy::expect_used)]

use std::hint::black_box;
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::process::Command;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pxe_server::driver::neigh::Neighbours;

const LOCAL: Ipv4Addr = Ipv4Addr::new(10, 214, 0, 1);

/// A namespace of our own with a veth pair, `bench0` at 10.214.0.1/16;
/// its index.
fn lab() -> u32 {
    nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET)
        .expect("the delivery bench needs root (it unshares a network namespace)");
    for args in [
        &["link", "set", "lo", "up"][..],
        &[
            "link", "add", "bench0", "type", "veth", "peer", "name", "bench1",
        ],
        &["addr", "add", "10.214.0.1/16", "dev", "bench0"],
        &["link", "set", "bench0", "up"],
        &["link", "set", "bench1", "up"],
    ] {
        let st = Command::new("ip").args(args).status().unwrap();
        assert!(st.success(), "ip {args:?}");
    }
    // Not /sys/class/net: sysfs still shows the namespace it was mounted in.
    nix::net::if_::if_nametoindex("bench0").unwrap()
}

fn bench(c: &mut Criterion) {
    let ifindex = lab();
    let sock = UdpSocket::bind(SocketAddrV4::new(LOCAL, 67)).unwrap();
    sock.set_broadcast(true).unwrap();
    let reply = [0u8; 300];
    let mut n = Neighbours::open().unwrap();
    let mut g = c.benchmark_group("delivery");
    g.throughput(Throughput::Elements(1));
    // The address and MAC change every iteration, as in a boot storm, over
    // 512 clients: the kernel refuses new entries (ENOBUFS) past
    // `gc_thresh3` (1024 by default), where the driver broadcasts.
    let mut k: u32 = 0;
    let mut next = || {
        k = k.wrapping_add(1) % 512;
        let ip = Ipv4Addr::from(u32::from(Ipv4Addr::new(10, 214, 1, 0)) + k);
        let b = k.to_be_bytes();
        (ip, [0x02, 0x99, b[0], b[1], b[2], b[3]])
    };
    g.bench_function("broadcast sendto", |b| {
        b.iter(|| {
            sock.send_to(
                black_box(&reply),
                SocketAddrV4::new(Ipv4Addr::new(10, 214, 255, 255), 68),
            )
            .unwrap()
        })
    });
    g.bench_function("neighbour entry", |b| {
        b.iter(|| {
            let (ip, mac) = next();
            n.set(ifindex, ip, 1, &mac).unwrap();
        })
    });
    g.bench_function("neighbour entry + unicast sendto", |b| {
        b.iter(|| {
            let (ip, mac) = next();
            n.set(ifindex, ip, 1, &mac).unwrap();
            sock.send_to(black_box(&reply), SocketAddrV4::new(ip, 68))
                .unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
