//! Evaluation never panics, on arbitrary packets and arbitrary facts, and
//! every decision writes as a well-formed message.

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
                // The rules' options always write, and what they write is
                // a message the codec reads back.
                let mut buf = [0u8; 4096];
                let mut b = pxe_dhcp::Builder::new(&mut buf).unwrap();
                d.write_boot_options(&mut b)
                    .and_then(|()| d.write_options(&mut b))
                    .unwrap_or_else(|e| panic!("options do not write: {e}\n{d:?}"));
                let n = b.finish().unwrap();
                let written = pxe_dhcp::Packet::new_checked(&buf[..n])
                    .unwrap_or_else(|e| panic!("written options do not parse: {e}\n{d:?}"));
                // Every option the decision lists is on the wire, in order
                // (an option split per RFC 3396 is several in a row).
                let mut want: Vec<u8> = d
                    .boot_options()
                    .map(|(c, _)| c)
                    .chain(d.options().map(|o| o.code()))
                    .collect();
                want.dedup();
                let mut got: Vec<u8> = written.options().map(|o| o.unwrap().code).collect();
                got.dedup();
                assert_eq!(got, want, "{d:?}");
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
        if let Ok(p) = pxe_dhcp::Packet::new_lenient(&bytes[..])
            && let Ok(f) = Facts::new(&p)
        {
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
        let p = packet(&wire);
        if let Ok(f) = Facts::new(&p) {
            exercise(&f);
        }
    }
}
