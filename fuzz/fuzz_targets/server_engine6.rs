//! pxe-engine's DHCPv6 server: a sequence of arbitrary datagrams (split on
//! a marker) fed to one engine per configuration, as if from a client's
//! link-local address and from a relay, with every event formatted as its
//! log line. Invariants: no panic; every reply parses as a DHCPv6 message
//! (or relay message), fits the buffer and goes back to the sender; lease
//! changes to persist are never empty; a granted address is in the range.
#![no_main]

use std::fmt::Write as _;
use std::net::{Ipv6Addr, SocketAddrV6};
use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use pxe_engine::Engine;
use pxe_engine::dhcp::Output;
use pxe_engine::dhcp::v6::{Event6, Outcome6, RxInfo6};
use pxe_engine::lease::LeaseChange;

const CONFIGS: &[&str] = &[
    "dhcp-authoritative\nenable-ra\ndhcp-range=fd00:77::100,fd00:77::10f,64,2m\ndhcp-match=set:efi64,option6:61,7\ndhcp-userclass=set:ipxe,iPXE\ndhcp-option=tag:efi64,tag:!ipxe,option6:bootfile-url,tftp://[fd00:77::1]/ipxe.efi\ndhcp-option=tag:ipxe,option6:bootfile-url,http://[fd00:77::1]/boot.ipxe\ndhcp-option=option6:dns-server,[::]\ndhcp-host=id:00:01:02,[fd00:77::105]\n",
    "dhcp-range=::100,::10f,constructor:eth0,static\ndhcp-host=52:54:00:00:00:01,[::101]\ndhcp-option-force=option6:16,00:00:01:57:00:0a:48:54:54:50:43:6c:69:65:6e:74\n",
];

fuzz_target!(|data: &[u8]| {
    for conf in CONFIGS {
        let c = pxe_rules::Config::parse_str(conf, "fuzz.conf").expect("fuzz config parses");
        let mut e = Engine::new(Arc::new(c));
        e.set_server_duid(&[0, 3, 0, 1, 2, 0, 0, 0, 0, 1]);
        let mut out = [0u8; 1500];
        let mut line = String::new();
        let mut sink = |ev: &Event6<'_>| {
            line.clear();
            let _ = write!(line, "{ev}");
        };
        for (i, dgram) in data.split(|b| *b == 0xA7).take(16).enumerate() {
            let src = if i % 3 == 2 {
                SocketAddrV6::new("fd00:99::2".parse().unwrap(), 547, 0, 0)
            } else {
                SocketAddrV6::new("fe80::5054:ff:fe00:1".parse().unwrap(), 546, 0, 2)
            };
            let rx = RxInfo6 {
                src,
                iface: "eth0",
                local: "fd00:77::1".parse().unwrap(),
            };
            let now = 1_700_000_000 + i as u64 * 100;
            let (changes, outcome) = match e.handle6(now, &rx, dgram, &mut out, &mut sink) {
                Output::Ready(o) => (Vec::new(), o),
                Output::Persist(p) => {
                    assert!(!p.changes().is_empty(), "Persist without changes");
                    (p.changes().to_vec(), p.persisted())
                }
            };
            if let Outcome6::Reply(r) = outcome {
                assert!(r.len <= out.len());
                assert_eq!(r.dest, src);
                pxe_dhcp::v6::Packet::new_checked(&out[..r.len]).expect("reply parses");
            }
            for ch in changes {
                if let LeaseChange::Grant6(l) = ch {
                    let a = u128::from(l.addr);
                    let (s, t) = (
                        u128::from("fd00:77::100".parse::<Ipv6Addr>().unwrap()),
                        u128::from("fd00:77::10f".parse::<Ipv6Addr>().unwrap()),
                    );
                    assert!((s..=t).contains(&a) || l.duid.is_empty(), "{l:?}");
                }
            }
        }
    }
});
