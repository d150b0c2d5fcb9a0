//! The engine's proxy replies are dnsmasq 2.90's, byte for byte: each
//! request of the seed's proxy captures (the BIOS ROM's DISCOVER, its
//! boot-server REQUEST on 4011, iPXE's DISCOVER and ProxyDHCP REQUESTs)
//! is handled and the reply compared with the one dnsmasq sent.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::Arc;

use pxe_engine::dhcp::{NoEvents, Outcome, Output};
use pxe_engine::{Engine, RxInfo};

const LOCAL: Ipv4Addr = Ipv4Addr::new(192, 168, 2, 1);

/// One UDP datagram of a capture: source, destination, payload.
struct Datagram {
    src: SocketAddrV4,
    dst: SocketAddrV4,
    payload: Vec<u8>,
}

/// The UDP/IPv4 datagrams of an Ethernet pcap in pxe-dhcp's captures.
fn capture(name: &str) -> Vec<Datagram> {
    let path = format!(
        "{}/../pxe-dhcp/tests/captures/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let d = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut out = Vec::new();
    let mut off = 24;
    while off + 16 <= d.len() {
        let incl = u32::from_le_bytes(d[off + 8..off + 12].try_into().unwrap()) as usize;
        let pkt = &d[off + 16..(off + 16 + incl).min(d.len())];
        off += 16 + incl;
        if pkt.len() < 42 || pkt[12..14] != [8, 0] || pkt[23] != 17 {
            continue;
        }
        let ip = &pkt[14..];
        let udp = &ip[usize::from(ip[0] & 15) * 4..];
        let addr = |a: &[u8], p: &[u8]| {
            SocketAddrV4::new(
                Ipv4Addr::new(a[0], a[1], a[2], a[3]),
                u16::from_be_bytes([p[0], p[1]]),
            )
        };
        out.push(Datagram {
            src: addr(&ip[12..16], &udp[0..2]),
            dst: addr(&ip[16..20], &udp[2..4]),
            payload: udp[8..].to_vec(),
        });
    }
    out
}

fn replay(name: &str, conf: &str) -> usize {
    let config = pxe_rules::Config::parse_str(conf, "seed.conf").unwrap();
    let mut engine = Engine::new(Arc::new(config));
    let msgs = capture(name);
    let mut compared = 0;
    for (i, m) in msgs.iter().enumerate() {
        if m.payload.first() != Some(&1) || ![67, 4011].contains(&m.dst.port()) {
            continue;
        }
        // dnsmasq's answer: a datagram from us with this xid before the
        // client's next message with it.
        let answer = msgs[i + 1..]
            .iter()
            .filter(|r| r.payload.len() >= 8 && r.payload[4..8] == m.payload[4..8])
            .take_while(|r| r.payload[0] != 1)
            .find(|r| r.src.ip() == &LOCAL);
        let rx = RxInfo {
            port: m.dst.port(),
            src: m.src,
            iface: "eth0",
            local: LOCAL,
            netmask: Ipv4Addr::new(255, 255, 255, 0),
            mtu: 1500,
            broadcast: m.dst.ip().is_broadcast(),
        };
        let mut out = [0u8; 1500];
        let outcome = match engine.handle(1_700_000_000, &rx, &m.payload, &mut out, &mut NoEvents) {
            Output::Ready(o) => o,
            Output::Persist(p) => p.persisted(),
        };
        match (outcome, answer) {
            (Outcome::Reply(r), Some(want)) => {
                assert_eq!(
                    &out[..r.len],
                    &want.payload[..],
                    "{name}: reply to datagram #{i}"
                );
                compared += 1;
            }
            (Outcome::Reply(_), None) => panic!("{name}: dnsmasq did not answer #{i}, we do"),
            (o, Some(_)) => panic!("{name}: dnsmasq answered #{i}, we: {o:?}"),
            (_, None) => {}
        }
    }
    compared
}

#[test]
fn proxy_replies_are_dnsmasqs_byte_for_byte() {
    let proxy = include_str!("../../conf/seed-proxy.conf");
    assert!(replay("plain-rom_proxy.dhcp.pcap", proxy) >= 8);
    assert!(replay("stock-rom_proxy.dhcp.pcap", proxy) >= 6);
}
