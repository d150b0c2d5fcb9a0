//! pxe-dhcp's DHCPv6 codec against dhcproto's v6 decoder/encoder, on the
//! same bytes.
//!
//! Inputs: EDK2's PXEv6 SOLICIT (options 1, 8, 3, 6, 62, 61, 16) and the
//! REPLY dnsmasq sent it (1, 2, 3 with IAADDR, 13, 59), from the
//! `uefi6-pxe-dnsmasq` capture. "lookup" = parse and read the client id,
//! the IA_NA (IAID, first address), the vendor class, the architecture and
//! the boot file URL. "build" = the ADVERTISE EDK2 HTTP Boot accepts.
//!
//! Run: cargo bench -p pxe-benches --bench dhcp6 -- --warm-up-time 1 --measurement-time 3
#![allow(missing_docs, clippy::unwrap_used, clippy::panic)]

use std::hint::black_box;
use std::net::Ipv6Addr;

use criterion::{Criterion, criterion_group, criterion_main};
use dhcproto::v6::{self as dp, DhcpOption, OptionCode};
use dhcproto::{Decodable, Encodable};
use pxe_dhcp::v6::{Builder, ENTERPRISE_INTEL, Message, MessageType, Status, TransactionId};

const PXE6_PCAP: &[u8] =
    include_bytes!("../../pxe-dhcp/tests/captures/ipv6/uefi6-pxe-dnsmasq.pcap");

/// Every DHCPv6 payload (UDP 546/547) of a little-endian Ethernet/IPv6 pcap.
fn dhcpv6_payloads(pcap: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut p = 24;
    while p + 16 <= pcap.len() {
        let incl = u32::from_le_bytes(pcap[p + 8..p + 12].try_into().unwrap()) as usize;
        let frame = &pcap[p + 16..p + 16 + incl];
        p += 16 + incl;
        if frame[12..14] != [0x86, 0xdd] || frame[14 + 6] != 17 {
            continue;
        }
        let udp = &frame[14 + 40..];
        let ports = [[udp[0], udp[1]], [udp[2], udp[3]]].map(u16::from_be_bytes);
        if ports.iter().all(|p| *p == 546 || *p == 547) {
            let len = usize::from(u16::from_be_bytes([udp[4], udp[5]]));
            out.push(udp[8..len].to_vec());
        }
    }
    out
}

/// The captured message of type `t` with transaction id `xid`.
fn captured(t: u8, xid: u32) -> Vec<u8> {
    dhcpv6_payloads(PXE6_PCAP)
        .into_iter()
        .find(|m| m[0] == t && u32::from_be_bytes([0, m[1], m[2], m[3]]) == xid)
        .unwrap()
}

// ---------------------------------------------------------------- lookups

/// pxe-dhcp with its typed views (validated framing, typed values).
fn pxe_dhcp_typed(bytes: &[u8]) -> u64 {
    let m = Message::new_checked(bytes).unwrap();
    let mut acc = m
        .client_id()
        .unwrap()
        .map_or(0, |d| d.as_bytes().len() as u64);
    if let Some(ia) = m.ia_na().unwrap() {
        acc += u64::from(ia.iaid());
        acc += ia.address().unwrap().map_or(0, |a| u64::from(a.valid()));
    }
    acc += m
        .vendor_class()
        .unwrap()
        .map_or(0, |v| u64::from(v.enterprise()));
    acc += m
        .client_arch()
        .unwrap()
        .map_or(0, |a| u64::from(a.first().0));
    acc += m
        .boot_file_url()
        .unwrap()
        .map_or(0, |u| u.as_bytes().len() as u64);
    acc
}

/// dhcproto: decode into owned options, then look them up.
fn dhcproto_owned(bytes: &[u8]) -> u64 {
    let m = dp::Message::from_bytes(bytes).unwrap();
    let o = m.opts();
    let mut acc = 0u64;
    if let Some(DhcpOption::ClientId(d)) = o.get(OptionCode::ClientId) {
        acc += d.len() as u64;
    }
    if let Some(DhcpOption::IANA(ia)) = o.get(OptionCode::IANA) {
        acc += u64::from(ia.id);
        if let Some(DhcpOption::IAAddr(a)) = ia.opts.get(OptionCode::IAAddr) {
            acc += u64::from(a.valid_life);
        }
    }
    if let Some(DhcpOption::VendorClass(v)) = o.get(OptionCode::VendorClass) {
        acc += u64::from(v.num);
    }
    if let Some(DhcpOption::ClientArchType(a)) = o.get(OptionCode::ClientArchType) {
        acc += a.first().map_or(0, |x| u64::from(u16::from(*x)));
    }
    if let Some(DhcpOption::Unknown(u)) = o.get(OptionCode::OptBootfileUrl) {
        acc += u.data().len() as u64;
    }
    acc
}

// ---------------------------------------------------------------- building

const SERVER_DUID: [u8; 14] = [0, 1, 0, 1, 0x32, 0xa2, 0x76, 0x66, 2, 0, 0, 0x77, 0, 1];
const CLIENT_DUID: [u8; 18] = [
    0, 4, 0x1e, 0, 0x17, 0, 0, 0x8c, 0xad, 0, 0x50, 0x87, 0x90, 0xe6, 0xba, 0x2f, 0x34, 0x23,
];
const URL: &[u8] = b"http://[fd00:77::1]/ipxe.efi";

fn addr() -> Ipv6Addr {
    Ipv6Addr::new(0xfd00, 0x77, 0, 0, 0, 0, 0, 0x113)
}

fn pxe_dhcp_advertise(buf: &mut [u8]) -> usize {
    let mut b = Builder::new(
        buf,
        MessageType::Advertise,
        TransactionId::new(0x8222e1).unwrap(),
    )
    .unwrap();
    b.client_id(&CLIENT_DUID).unwrap();
    b.server_id(&SERVER_DUID).unwrap();
    b.ia_na(0xeab96c74, 1800, 3150, |ia| {
        ia.ia_addr(addr(), 3600, 3600)?;
        Ok(())
    })
    .unwrap();
    b.status_code(Status::Success, "success").unwrap();
    b.preference(255).unwrap();
    b.vendor_class(ENTERPRISE_INTEL, &[b"HTTPClient"]).unwrap();
    b.boot_file_url(URL).unwrap();
    b.finish().unwrap()
}

fn dhcproto_advertise() -> Vec<u8> {
    let mut m = dp::Message::new_with_id(dp::MessageType::Advertise, [0x82, 0x22, 0xe1]);
    let o = m.opts_mut();
    o.insert(DhcpOption::ClientId(CLIENT_DUID.to_vec()));
    o.insert(DhcpOption::ServerId(SERVER_DUID.to_vec()));
    let mut ia_opts = dp::DhcpOptions::new();
    ia_opts.insert(DhcpOption::IAAddr(dp::IAAddr {
        addr: addr(),
        preferred_life: 3600,
        valid_life: 3600,
        opts: dp::DhcpOptions::new(),
    }));
    o.insert(DhcpOption::IANA(dp::IANA {
        id: 0xeab96c74,
        t1: 1800,
        t2: 3150,
        opts: ia_opts,
    }));
    o.insert(DhcpOption::StatusCode(dp::StatusCode {
        status: dp::Status::Success,
        msg: "success".into(),
    }));
    o.insert(DhcpOption::Preference(255));
    // dhcproto 0.15 writes the length of options 15 and 16 as 4 + the
    // number of items instead of their bytes, so the vendor class goes in
    // as raw bytes (enterprise, item length, item).
    let mut vendor = ENTERPRISE_INTEL.to_be_bytes().to_vec();
    vendor.extend_from_slice(&10u16.to_be_bytes());
    vendor.extend_from_slice(b"HTTPClient");
    o.insert(DhcpOption::Unknown(dp::UnknownOption::new(
        OptionCode::VendorClass,
        vendor,
    )));
    o.insert(DhcpOption::Unknown(dp::UnknownOption::new(
        OptionCode::OptBootfileUrl,
        URL.to_vec(),
    )));
    m.to_vec().unwrap()
}

/// Both advertisements carry the same options (dhcproto sorts them by code).
fn check_advertisements_agree() {
    let mut a = [0u8; 1232];
    let n = pxe_dhcp_advertise(&mut a);
    let b = dhcproto_advertise();
    let sorted = |bytes: &[u8]| {
        let m = Message::new_checked(bytes).unwrap();
        let mut v: Vec<(u16, Vec<u8>)> = m
            .options()
            .map(|o| o.unwrap())
            .map(|o| (o.code, o.data.to_vec()))
            .collect();
        v.sort();
        (m.transaction_id(), v)
    };
    assert_eq!(
        sorted(&a[..n]),
        sorted(&b),
        "dhcproto writes the same options"
    );
}

fn benches(c: &mut Criterion) {
    let solicit = captured(1, 0x799fd4);
    let reply = captured(7, 0x7a9fd4);
    // Sanity: the inputs are what the names say, and both contestants agree.
    let s = Message::new_checked(&solicit[..]).unwrap();
    assert!(s.vendor_class().unwrap().unwrap().is_pxe_client());
    assert!(s.client_arch().unwrap().unwrap().first().is_x64_uefi());
    let r = Message::new_checked(&reply[..]).unwrap();
    assert!(r.boot_file_url().unwrap().is_some());
    for input in [&solicit, &reply] {
        assert_eq!(pxe_dhcp_typed(input), dhcproto_owned(input));
    }
    check_advertisements_agree();

    for (name, input) in [("edk2_solicit", &solicit), ("reply", &reply)] {
        let mut g = c.benchmark_group(format!("dhcp6_lookup/{name}"));
        g.bench_function("pxe-dhcp typed", |b| {
            b.iter(|| pxe_dhcp_typed(black_box(input)))
        });
        g.bench_function("dhcproto owned", |b| {
            b.iter(|| dhcproto_owned(black_box(input)))
        });
        g.finish();
    }

    let mut g = c.benchmark_group("dhcp6_build/advertise");
    let mut buf = [0u8; 1232];
    g.bench_function("pxe-dhcp", |b| {
        b.iter(|| pxe_dhcp_advertise(black_box(&mut buf)))
    });
    g.bench_function("dhcproto", |b| b.iter(|| black_box(dhcproto_advertise())));
    g.finish();
}

criterion_group!(dhcp6, benches);
criterion_main!(dhcp6);
