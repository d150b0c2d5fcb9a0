//! pxe-rules: evaluating one request against generated dnsmasq
//! configurations of 10, 100 and 1000 rules, and against the seed's
//! configurations.
//!
//! Each generated configuration mixes the directives a netboot setup uses
//! (dhcp-match on 175/93/60, dhcp-vendorclass, dhcp-userclass, dhcp-mac
//! wildcards, tag-if, dhcp-host, tagged dhcp-boot, dhcp-option(-force) with
//! addresses/text/encap, pxe-service); the request is a real iPXE DISCOVER
//! and a real BIOS PXE ROM DISCOVER from the captures. "eval" is
//! `Config::evaluate` on prepared facts; "parse+eval" includes reading the
//! packet bytes (`pxe_dhcp::Packet::new_checked`, then `Facts::new`). No
//! allocation happens in either (see pxe-rules/tests/alloc.rs).
//!
//! Run: cargo bench -p pxe-benches --bench rules -- --warm-up-time 1 --measurement-time 3
#![allow(missing_docs, clippy::unwrap_used, clippy::panic)]

use std::fmt::Write;
use std::hint::black_box;
use std::net::Ipv4Addr;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use pxe_dhcp::Packet;
use pxe_rules::{Config, Context, Facts, RuleOption};

const BIOS_PCAP: &[u8] = include_bytes!("../../pxe-dhcp/tests/captures/plain-rom_proxy.dhcp.pcap");
const IPXE_PCAP: &[u8] = include_bytes!("../../pxe-dhcp/tests/captures/stock-rom_real.dhcp.pcap");

/// First UDP payload of a little-endian Ethernet/IPv4 pcap.
fn first_udp_payload(pcap: &[u8]) -> Vec<u8> {
    let incl = u32::from_le_bytes(pcap[32..36].try_into().unwrap()) as usize;
    let frame = &pcap[40..40 + incl];
    let ip = &frame[14..];
    let ihl = usize::from(ip[0] & 15) * 4;
    let udp = &ip[ihl..];
    let len = usize::from(u16::from_be_bytes([udp[4], udp[5]]));
    udp[8..len].to_vec()
}

/// A configuration of `n` rules (plus one range), cycling through the
/// directive kinds; tags come from a pool of n/4 names so conditions both
/// hit and miss.
fn generated(n: usize) -> String {
    let mut s = String::from("dhcp-range=set:lan,192.168.2.100,192.168.2.200\n");
    let pool = (n / 4).max(4);
    let t = |i: usize| format!("t{}", i % pool);
    for i in 0..n {
        match i % 10 {
            0 => writeln!(s, "dhcp-match=set:{},175", t(i)),
            1 => writeln!(s, "dhcp-match=set:{},option:client-arch,{}", t(i), i % 12),
            2 => writeln!(s, "dhcp-vendorclass=set:{},Arch:{:05}", t(i), i % 12),
            3 => writeln!(s, "dhcp-userclass=set:{},iPXE", t(i)),
            4 => writeln!(s, "dhcp-mac=set:{},52:54:00:*:*:{:02x}", t(i), i % 256),
            5 => writeln!(s, "tag-if=set:{},tag:{},tag:!{}", t(i), t(i + 1), t(i + 2)),
            6 => writeln!(
                s,
                "dhcp-boot=tag:{},tag:!{},file{i}.efi,srv,192.168.2.{}",
                t(i),
                t(i + 3),
                i % 250 + 1
            ),
            7 => writeln!(
                s,
                "dhcp-option=tag:{},{},192.168.2.{}",
                t(i),
                [3, 6, 42, 44][i % 4],
                i % 250 + 1
            ),
            8 => writeln!(s, "dhcp-option-force=tag:{},{},text{i}", t(i), 200 + i % 50),
            _ => writeln!(s, "pxe-service=tag:{},x86PC,\"menu {i}\",boot{i}", t(i)),
        }
        .unwrap();
    }
    s.push_str("dhcp-boot=pxelinux.0\n");
    s
}

const SEED_REAL: &str = "enable-tftp
dhcp-match=ipxe,175
dhcp-range=192.168.2.100,192.168.2.200
tftp-root=/tmp/memstick/host0_part1/
dhcp-boot=net:#ipxe,undionly.kkpxe.0
dhcp-boot=pxelinux.0
dhcp-option-force=209,pxelinux.cfg/default
dhcp-option-force=210,http://192.168.2.1:81/
";

const SEED_PROXY: &str = "dhcp-match=ipxe,175
enable-tftp
dhcp-range=192.168.2.0,proxy
tftp-root=/pxe/
pxe-service=net:#ipxe,x86PC, \"splashtop by richud.com\", undionly.kkpxe
";

/// Reads what a server reads of the decision (the same walk the old
/// byte-list decision needed).
fn drain(d: &pxe_rules::Decision<'_>) -> usize {
    let mut n = d.file().map_or(0, <[u8]>::len);
    for (c, v) in d.boot_options() {
        n += usize::from(c) + v.len();
    }
    for o in d.options() {
        n += usize::from(o.code());
        if let RuleOption::Value { value, .. } = o {
            n += value.len();
        }
    }
    n
}

fn bench(c: &mut Criterion) {
    let bios = first_udp_payload(BIOS_PCAP);
    let ipxe = first_udp_payload(IPXE_PCAP);
    assert!(
        Facts::new(&Packet::new_checked(&ipxe[..]).unwrap())
            .unwrap()
            .is_ipxe()
    );
    let ctx = Context::new(
        Ipv4Addr::new(192, 168, 2, 1),
        Ipv4Addr::new(255, 255, 255, 0),
    )
    .with_interface("eth0");

    let mut g = c.benchmark_group("rules/eval");
    for n in [10usize, 100, 1000] {
        let config = Config::parse_str(&generated(n), "gen.conf").unwrap();
        for (name, req) in [("ipxe", &ipxe), ("bios", &bios)] {
            let pkt = Packet::new_checked(&req[..]).unwrap();
            let facts = Facts::new(&pkt).unwrap();
            g.bench_with_input(BenchmarkId::new(name, n), &n, |b, _| {
                b.iter(|| drain(&config.evaluate(black_box(&facts), &ctx)))
            });
        }
    }
    for (name, text) in [("seed-real", SEED_REAL), ("seed-proxy", SEED_PROXY)] {
        let config = Config::parse_str(text, "seed.conf").unwrap();
        for (client, req) in [("ipxe", &ipxe), ("bios", &bios)] {
            let pkt = Packet::new_checked(&req[..]).unwrap();
            let facts = Facts::new(&pkt).unwrap();
            g.bench_function(BenchmarkId::new(format!("{name}/{client}"), 0), |b| {
                b.iter(|| drain(&config.evaluate(black_box(&facts), &ctx)))
            });
        }
    }
    g.finish();

    let mut g = c.benchmark_group("rules/parse+eval");
    for n in [10usize, 100, 1000] {
        let config = Config::parse_str(&generated(n), "gen.conf").unwrap();
        g.bench_with_input(BenchmarkId::new("ipxe", n), &n, |b, _| {
            b.iter(|| {
                let pkt = Packet::new_checked(black_box(&ipxe[..])).unwrap();
                let facts = Facts::new(&pkt).unwrap();
                drain(&config.evaluate(&facts, &ctx))
            })
        });
    }
    g.finish();

    let mut g = c.benchmark_group("rules/parse-config");
    for n in [10usize, 100, 1000] {
        let text = generated(n);
        g.bench_with_input(BenchmarkId::new("text", n), &n, |b, _| {
            b.iter(|| {
                Config::parse_str(black_box(&text), "gen.conf")
                    .unwrap()
                    .items
                    .len()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
