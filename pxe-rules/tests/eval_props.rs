//! Evaluation never panics, on arbitrary packets and arbitrary facts, and
//! the codec's view (`Facts::from_packet`) agrees with the raw walk.

#![allow(clippy::panic, clippy::unwrap_used)]

mod common;
use common::*;

use proptest::prelude::*;
use pxe_rules::{Config, Context, Facts, Port};
use std::net::Ipv4Addr;
use std::sync::OnceLock;

fn configs() -> &'static Vec<Config> {
    static C: OnceLock<Vec<Config>> = OnceLock::new();
    C.get_or_init(|| {
        [
            SEED_REAL,
            SEED_PROXY,
            SEED_PROXY_PHP,
            SEED_PROXY_PHP_NEXTSERVER,
            EVERYTHING,
        ]
        .iter()
        .map(|t| Config::parse_str(t, "p.conf").unwrap())
        .collect()
    })
}

fn exercise(f: &Facts<'_>) {
    for c in configs() {
        for port in [Port::Dhcp, Port::Pxe] {
            for local in [LOCAL, Ipv4Addr::new(192, 168, 3, 1)] {
                let d = c.evaluate(
                    f,
                    &Context::new(local, MASK)
                        .with_interface("eth0")
                        .with_port(port),
                );
                let n: usize = d
                    .boot_options()
                    .chain(d.options())
                    .map(|(_, v)| v.len())
                    .sum();
                assert!(
                    d.options().all(|(_, v)| v.len() <= 255),
                    "an option longer than 255 bytes"
                );
                std::hint::black_box((n, d.file(), d.sname(), d.verdict()));
            }
        }
    }
}

fn option() -> impl Strategy<Value = (u8, Vec<u8>)> {
    (
        prop_oneof![
            Just(53u8),
            Just(55),
            Just(60),
            Just(61),
            Just(77),
            Just(93),
            Just(97),
            Just(43),
            Just(175),
            Just(82),
            Just(12),
            Just(124),
            Just(50),
            any::<u8>()
        ],
        prop_oneof![
            prop::collection::vec(any::<u8>(), 0..40),
            Just(b"PXEClient:Arch:00007:UNDI:003016".to_vec()),
            Just(vec![1]),
            Just(vec![3]),
            Just(vec![0, 7]),
            Just(vec![71, 4, 0x80, 0, 0, 0, 255]),
            Just(b"iPXE".to_vec()),
        ],
    )
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(mut bytes in prop::collection::vec(any::<u8>(), 0..700), cookie in any::<bool>()) {
        if cookie && bytes.len() >= 240 {
            bytes[236..240].copy_from_slice(&[99, 130, 83, 99]);
            bytes[0] = 1;
        }
        if let Ok(f) = Facts::parse(&bytes) {
            exercise(&f);
        }
    }

    #[test]
    fn arbitrary_options_never_panic(opts in prop::collection::vec(option(), 0..20), mac in prop::collection::vec(any::<u8>(), 0..17), ci in any::<[u8; 4]>()) {
        let list: Vec<(u8, &[u8])> = opts.iter().map(|(c, v)| (*c, v.as_slice())).collect();
        let f = Facts::from_options(1, &mac, Ipv4Addr::from(ci), &list);
        exercise(&f);
        // The same options on the wire give the same decisions' verdicts.
        let mut r = Req::new([0x52, 0x54, 0, 1, 2, 3], 1);
        r.bytes.truncate(240);
        for (c, v) in &opts {
            if *c != 0 && *c != 255 {
                r = r.opt(*c, v);
            }
        }
        let wire = r.done();
        if let Ok(f) = Facts::parse(&wire) {
            exercise(&f);
        }
    }
}

#[test]
fn from_packet_agrees_with_the_raw_walk() {
    let mut n = 0;
    for cap in [
        "plain-rom_real.dhcp.pcap",
        "plain-rom_proxy.dhcp.pcap",
        "stock-rom_proxy-php.dhcp.pcap",
        "uefi-pxe-proxy-dnsmasq.pcap",
        "uefi-http-boot-dnsmasq.pcap",
        "arm64-uefi-pxe-dnsmasq.pcap",
    ] {
        for m in dhcp(cap) {
            let raw = Facts::parse(&m.payload).unwrap();
            let p = pxe_dhcp::Packet::new_checked(&m.payload[..]).unwrap();
            let via = Facts::from_packet(&p).unwrap();
            for code in 1..=254u8 {
                assert_eq!(raw.option(code), via.option(code), "{cap}: option {code}");
            }
            assert_eq!(
                (raw.chaddr, raw.ciaddr, raw.file),
                (via.chaddr, via.ciaddr, via.file)
            );
            let c = &configs()[1];
            let ctx = Context::new(LOCAL, MASK);
            assert_eq!(
                c.evaluate(&raw, &ctx).verdict(),
                c.evaluate(&via, &ctx).verdict()
            );
            n += 1;
        }
    }
    assert!(n > 20);
}
