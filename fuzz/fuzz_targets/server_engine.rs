//! pxe-engine's DHCP engine: a sequence of arbitrary datagrams (split on
//! a marker) fed to one engine per configuration, alternating ports 67 and
//! 4011. Invariants: no panic; every reply parses as a BOOTREPLY and fits
//! the buffer; no address is ever held by two leases; a committed change
//! only names addresses of the pool.
#![no_main]

use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use pxe_engine::{Engine, Handled, RxInfo};
use pxe_engine::lease::LeaseChange;

const CONFIGS: &[&str] = &[
    "dhcp-match=ipxe,175\ndhcp-range=192.168.2.100,192.168.2.110\ndhcp-boot=net:#ipxe,undionly.kkpxe.0\ndhcp-boot=pxelinux.0\ndhcp-option-force=209,pxelinux.cfg/default\ndhcp-option-force=210,http://192.168.2.1:81/\ndhcp-host=52:54:00:b0:07:01,192.168.2.105\n",
    "dhcp-match=ipxe,175\ndhcp-range=192.168.2.0,proxy\npxe-service=net:#ipxe,x86PC, \"splashtop by richud.com\", undionly.kkpxe\n",
    "dhcp-match=ipxe,175\ndhcp-boot=net:ipxe,http://192.168.2.1/ipxe.php?mac=${mac}&uuid=${uuid}\ndhcp-range=192.168.2.0,proxy\npxe-service=net:#ipxe,x86PC, \"splashtop by richud.com\", undionly.kkpxe\n",
    "dhcp-range=192.168.2.100,192.168.2.102,2m\ndhcp-authoritative\npxe-service=x86PC,\"linux\",pxelinux\npxe-service=x86-64_EFI,\"EFI\",snponly\n",
];

fuzz_target!(|data: &[u8]| {
    for conf in CONFIGS {
        let c = pxe_rules::Config::parse_str(conf, "fuzz.conf").expect("fuzz config parses");
        let mut e = Engine::new(Arc::new(c));
        let mut out = [0u8; 1500];
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
            if let Handled::Reply { len, .. } =
                e.handle(1_700_000_000 + i as u64 * 100, &rx, dgram, &mut out)
            {
                assert!(len <= out.len());
                let p = pxe_dhcp::Packet::new_checked(&out[..len]).expect("reply parses");
                assert_eq!(p.op(), pxe_dhcp::Op::Reply);
            }
            for ch in e.take_changes() {
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
