//! pxe-engine's DHCP engine: a sequence of arbitrary datagrams (split on
//! a marker) fed to one engine per configuration, alternating ports 67 and
//! 4011, with every event formatted as its log line. Invariants: no panic;
//! every reply parses as a BOOTREPLY, fits the buffer and is not due before
//! the request arrived; lease changes to persist are never empty; no
//! address is ever held by two leases; a committed change only names
//! addresses of the pool.
#![no_main]

use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::Arc;

use std::fmt::Write as _;

use libfuzzer_sys::fuzz_target;
use pxe_engine::lease::LeaseChange;
use pxe_engine::{Engine, Event, EventSink, Outcome, Output, RxInfo};

/// Formats every event (its `Display` must hold up on any input) and asks
/// for the rule trace.
struct Lines(String);

impl EventSink for Lines {
    fn event(&mut self, e: &Event<'_>) {
        self.0.clear();
        let _ = write!(self.0, "{e}");
    }
    fn wants_trace(&self) -> bool {
        true
    }
}

const CONFIGS: &[&str] = &[
    "dhcp-match=ipxe,175\ndhcp-range=192.168.2.100,192.168.2.110\ndhcp-boot=net:#ipxe,undionly.kkpxe.0\ndhcp-boot=pxelinux.0\ndhcp-option-force=209,pxelinux.cfg/default\ndhcp-option-force=210,http://192.168.2.1:81/\ndhcp-host=52:54:00:b0:07:01,192.168.2.105\n",
    "dhcp-match=ipxe,175\ndhcp-range=192.168.2.0,proxy\npxe-service=net:#ipxe,x86PC, \"splashtop by richud.com\", undionly.kkpxe\n",
    "dhcp-match=ipxe,175\ndhcp-boot=net:ipxe,http://192.168.2.1/ipxe.php?mac=${mac}&uuid=${uuid}\ndhcp-range=192.168.2.0,proxy\npxe-service=net:#ipxe,x86PC, \"splashtop by richud.com\", undionly.kkpxe\n",
    "dhcp-range=192.168.2.100,192.168.2.102,2m\ndhcp-authoritative\npxe-service=x86PC,\"linux\",pxelinux\npxe-service=x86-64_EFI,\"EFI\",snponly\nlog-dhcp\ndhcp-reply-delay=1\n",
];

fuzz_target!(|data: &[u8]| {
    for conf in CONFIGS {
        let c = pxe_rules::Config::parse_str(conf, "fuzz.conf").expect("fuzz config parses");
        let mut e = Engine::new(Arc::new(c));
        let mut out = [0u8; 1500];
        let mut lines = Lines(String::new());
        for (i, dgram) in data.split(|b| *b == 0xA7).take(16).enumerate() {
            let port = if i % 3 == 2 { 4011 } else { 67 };
            let rx = RxInfo {
                port,
                src: SocketAddrV4::new(
                    Ipv4Addr::new(192, 168, 2, 50),
                    if port == 67 { 68 } else { 4011 },
                ),
                iface: "eth0",
                local: Ipv4Addr::new(192, 168, 2, 1),
                netmask: Ipv4Addr::new(255, 255, 255, 0),
                mtu: 1500,
                broadcast: i % 2 == 0,
            };
            let now = 1_700_000_000 + i as u64 * 100;
            let (changes, outcome) = match e.handle(now, &rx, dgram, &mut out, &mut lines) {
                Output::Ready(o) => (Vec::new(), o),
                Output::Persist(p) => {
                    assert!(!p.changes().is_empty(), "Persist without changes");
                    (p.changes().to_vec(), p.persisted())
                }
            };
            if let Outcome::Reply(r) = outcome {
                assert!(r.len <= out.len());
                assert!(r.not_before >= now);
                let p = pxe_dhcp::Packet::new_checked(&out[..r.len]).expect("reply parses");
                assert_eq!(p.op(), pxe_dhcp::Op::Reply);
            }
            for ch in changes {
                if let LeaseChange::Grant(l) = ch {
                    let o = l.addr.octets();
                    assert!(
                        o[..3] == [192, 168, 2] && (100..=110).contains(&o[3]),
                        "{l:?}"
                    );
                }
            }
            let mut seen = std::collections::BTreeSet::new();
            for l in e.leases().leases() {
                assert!(seen.insert(l.addr), "address {} leased twice", l.addr);
            }
        }
    }
});
