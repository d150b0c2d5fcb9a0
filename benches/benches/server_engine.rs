//! pxe-engine's sans-IO DHCP engine, no sockets: a whole full-mode
//! exchange (DISCOVER → OFFER, REQUEST → ACK with the lease committed to
//! the table, RELEASE) per iteration, and a proxyDHCP DISCOVER → OFFER
//! with the seed's PXE menu; each also with the boot journeys on (every
//! event recorded in a `JourneyStore` of the default size, as
//! `pxe-server` does with `status-page=`; the DHCP metrics are the
//! engine's own counters, read only at scrape time).
#![allow(missing_docs, clippy::unwrap_used, clippy::panic)]

use std::hint::black_box;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pxe_dhcp::{Builder, Flags, MessageType, Packet};
use pxe_engine::journey::JourneyStore;
use pxe_engine::{Engine, EventSink, NoEvents, Outcome, Output, RxInfo};

const LOCAL: Ipv4Addr = Ipv4Addr::new(10, 213, 0, 1);

fn msg(t: MessageType, mac: [u8; 6], ciaddr: Ipv4Addr, extra: &[(u8, &[u8])]) -> Vec<u8> {
    let mut buf = [0u8; 1500];
    let mut b = Builder::new(&mut buf).unwrap();
    b.xid(7).ciaddr(ciaddr).flags(Flags::BROADCAST);
    b.chaddr(1, &mac).unwrap();
    b.message_type(t).unwrap();
    b.option(55, &[1, 3, 6, 12, 15, 28, 42, 66, 67]).unwrap();
    for (c, v) in extra {
        b.option(*c, v).unwrap();
    }
    let n = b.finish().unwrap();
    buf[..n].to_vec()
}

fn rx() -> RxInfo<'static> {
    RxInfo {
        port: 67,
        src: SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 68),
        iface: "eth0",
        local: LOCAL,
        netmask: Ipv4Addr::new(255, 255, 0, 0),
        mtu: 1500,
        broadcast: true,
    }
}

fn bench(c: &mut Criterion) {
    let conf = pxe_rules::Config::parse_str(
        "dhcp-range=10.213.1.0,10.213.255.254,255.255.0.0,1h\ndhcp-boot=pxelinux.0\ndhcp-authoritative\n",
        "bench.conf",
    )
    .unwrap();
    let conf = Arc::new(conf);
    let r = rx();
    let mut out = [0u8; 1500];
    let mut g = c.benchmark_group("server_engine");
    g.throughput(Throughput::Elements(1));
    for journeys_on in [false, true] {
        let mut e = Engine::new(conf.clone());
        let mut store = JourneyStore::new(JourneyStore::DEFAULT_CAPACITY, 7);
        let mut i = 0u32;
        let name = if journeys_on {
            "full DORA + RELEASE, journeys on"
        } else {
            "full DORA + RELEASE"
        };
        g.bench_function(name, |b| {
            b.iter(|| {
                i = i.wrapping_add(1);
                let mac = [2, 0, 0, (i >> 16) as u8, (i >> 8) as u8, i as u8];
                // A new machine every iteration: the store is full after
                // the first 1024 and evicts one journey per DISCOVER.
                let mut journey_sink = store.sink(1_700_000_000_000, &conf);
                let mut none = NoEvents;
                let events: &mut dyn EventSink = if journeys_on {
                    &mut journey_sink
                } else {
                    &mut none
                };
                let d = msg(MessageType::Discover, mac, Ipv4Addr::UNSPECIFIED, &[]);
                let Output::Ready(Outcome::Reply(offer)) =
                    e.handle(1_700_000_000, &r, &d, &mut out, events)
                else {
                    panic!("no offer")
                };
                let yi = Packet::new_checked(&out[..offer.len]).unwrap().yiaddr();
                let q = msg(
                    MessageType::Request,
                    mac,
                    Ipv4Addr::UNSPECIFIED,
                    &[(50, &yi.octets()), (54, &LOCAL.octets())],
                );
                // The changes are what a driver would persist; the bench
                // only looks at them.
                let Output::Persist(ack) = e.handle(1_700_000_000, &r, &q, &mut out, events) else {
                    panic!("no lease")
                };
                black_box(ack.changes());
                let _ = black_box(ack.persisted());
                let rel = msg(MessageType::Release, mac, yi, &[(54, &LOCAL.octets())]);
                let Output::Persist(released) = e.handle(1_700_000_000, &r, &rel, &mut out, events)
                else {
                    panic!("nothing released")
                };
                black_box(released.changes());
                let _ = black_box(released.persisted());
            })
        });
    }
    let proxy = pxe_rules::Config::parse_str(
        "dhcp-match=ipxe,175\ndhcp-range=10.213.0.0,proxy\npxe-service=net:#ipxe,x86PC, \"splashtop by richud.com\", undionly.kkpxe\n",
        "seed-proxy.conf",
    )
    .unwrap();
    let proxy = Arc::new(proxy);
    let pd = msg(
        MessageType::Discover,
        [0x52, 0x54, 0, 1, 2, 3],
        Ipv4Addr::UNSPECIFIED,
        &[
            (60, b"PXEClient:Arch:00000:UNDI:002001"),
            (93, &[0, 0]),
            (97, &[0; 17]),
        ],
    );
    for journeys_on in [false, true] {
        let mut pe = Engine::new(proxy.clone());
        let mut store = JourneyStore::new(JourneyStore::DEFAULT_CAPACITY, 7);
        let name = if journeys_on {
            "proxy DISCOVER -> OFFER (seed menu), journeys on"
        } else {
            "proxy DISCOVER -> OFFER (seed menu)"
        };
        g.bench_function(name, |b| {
            b.iter(|| {
                let mut journey_sink = store.sink(1_700_000_000_000, &proxy);
                let mut none = NoEvents;
                let events: &mut dyn EventSink = if journeys_on {
                    &mut journey_sink
                } else {
                    &mut none
                };
                let Output::Ready(offer) =
                    pe.handle(1_700_000_000, &r, black_box(&pd), &mut out, events)
                else {
                    panic!("a proxy offer persists nothing")
                };
                black_box(offer)
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
