//! pxe-dhcp against dhcproto (owned decode and borrowed view) and a
//! hand-written TLV walk / emitter, on the same bytes.
//!
//! Inputs: a BIOS PXE ROM DISCOVER and an iPXE DISCOVER (first packets of
//! two real captures), and a proxyDHCP OFFER with 43/175/209/210.
//! "lookup" = parse and read options 53, 60, 93, 97 and 175.
//!
//! Run: cargo bench -p pxe-benches --bench dhcp -- --warm-up-time 1 --measurement-time 3
#![allow(missing_docs, clippy::unwrap_used, clippy::panic)]

use std::hint::black_box;
use std::net::Ipv4Addr;

use criterion::{Criterion, criterion_group, criterion_main};
use dhcproto::v4::{self as dp, DhcpOption, OptionCode, UnknownOption};
use dhcproto::{Decodable, Encodable};
use pxe_dhcp::pxe::DiscoveryControl;
use pxe_dhcp::{Builder, Flags, MessageType, Op, Packet, code};

const BIOS_PCAP: &[u8] = include_bytes!("../../pxe-dhcp/tests/captures/plain-rom_proxy.dhcp.pcap");
const IPXE_PCAP: &[u8] = include_bytes!("../../pxe-dhcp/tests/captures/stock-rom_proxy.dhcp.pcap");

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

// ---------------------------------------------------------------- lookups

/// pxe-dhcp with its typed views (validated framing, typed values).
fn pxe_dhcp_typed(bytes: &[u8]) -> u64 {
    let p = Packet::new_checked(bytes).unwrap();
    let mut acc = u64::from(p.message_type().unwrap().map_or(0, u8::from));
    acc += p
        .vendor_class()
        .unwrap()
        .map_or(0, |v| v.as_bytes().len() as u64);
    acc += p
        .client_arch()
        .unwrap()
        .map_or(0, |a| u64::from(a.first().0));
    acc += p
        .client_uuid()
        .unwrap()
        .map_or(0, |u| u64::from(u.bytes[0]));
    acc += p
        .ipxe_options()
        .unwrap()
        .map_or(0, |x| x.as_bytes().len() as u64);
    acc
}

/// pxe-dhcp raw lookups (`Packet::option`).
fn pxe_dhcp_raw(bytes: &[u8]) -> u64 {
    let p = Packet::new_checked(bytes).unwrap();
    let mut acc = p.option(53).map_or(0, |v| u64::from(v[0]));
    acc += p.option(60).map_or(0, |v| v.len() as u64);
    acc += p
        .option(93)
        .map_or(0, |v| u64::from(u16::from_be_bytes([v[0], v[1]])));
    acc += p.option(97).map_or(0, |v| u64::from(v[1]));
    acc += p.option(175).map_or(0, |v| v.len() as u64);
    acc
}

fn dhcproto_owned(bytes: &[u8]) -> u64 {
    let m = dp::Message::from_bytes(bytes).unwrap();
    let o = m.opts();
    let mut acc = 0u64;
    if let Some(DhcpOption::MessageType(t)) = o.get(OptionCode::MessageType) {
        acc += u64::from(u8::from(*t));
    }
    if let Some(DhcpOption::ClassIdentifier(v)) = o.get(OptionCode::ClassIdentifier) {
        acc += v.len() as u64;
    }
    if let Some(DhcpOption::ClientSystemArchitecture(a)) =
        o.get(OptionCode::ClientSystemArchitecture)
    {
        acc += u64::from(u16::from(*a));
    }
    if let Some(DhcpOption::ClientMachineIdentifier(v)) = o.get(OptionCode::ClientMachineIdentifier)
    {
        acc += u64::from(v[1]);
    }
    if let Some(DhcpOption::Unknown(u)) = o.get(OptionCode::from(175)) {
        acc += u.data().len() as u64;
    }
    acc
}

fn dhcproto_borrowed(bytes: &[u8]) -> u64 {
    let m = dp::borrowed::Message::new(bytes).unwrap();
    let mut acc = 0u64;
    for o in m.opts() {
        let d = o.data();
        match u8::from(o.code()) {
            53 => acc += u64::from(d[0]),
            60 => acc += d.len() as u64,
            93 => acc += u64::from(u16::from_be_bytes([d[0], d[1]])),
            97 => acc += u64::from(d[1]),
            175 => acc += d.len() as u64,
            _ => {}
        }
    }
    acc
}

/// The floor: one bounds-checked walk, no validation beyond that.
fn hand_tlv_walk(bytes: &[u8]) -> u64 {
    let mut acc = 0u64;
    if bytes.len() < 240 || bytes[236..240] != [99, 130, 83, 99] {
        return 0;
    }
    let mut i = 240;
    while i < bytes.len() {
        let c = bytes[i];
        if c == 0 {
            i += 1;
            continue;
        }
        if c == 255 || i + 1 >= bytes.len() {
            break;
        }
        let len = usize::from(bytes[i + 1]);
        let Some(d) = bytes.get(i + 2..i + 2 + len) else {
            break;
        };
        match c {
            53 => acc += u64::from(d[0]),
            60 => acc += d.len() as u64,
            93 => acc += u64::from(u16::from_be_bytes([d[0], d[1]])),
            97 => acc += u64::from(d[1]),
            175 => acc += d.len() as u64,
            _ => {}
        }
        i += 2 + len;
    }
    acc
}

// ---------------------------------------------------------------- OFFER build

const MAC: [u8; 6] = [0x52, 0x54, 0x00, 0xb0, 0x07, 0x01];
const XID: u32 = 0x6aa0_e84b;
const SERVER: Ipv4Addr = Ipv4Addr::new(192, 168, 2, 1);
const UUID: [u8; 17] = [
    0, 0x1e, 0, 0x17, 0, 0, 0x8c, 0xad, 0, 0x50, 0x87, 0x90, 0xe6, 0xba, 0x2f, 0x34, 0x23,
];
const MENU: &[u8] = b"splashtop by richud.com";
const CONFIG: &[u8] = b"pxelinux.cfg/default";
const PREFIX: &[u8] = b"http://192.168.2.1:81/";
/// Option 43 value as pxe-dhcp writes it (dhcproto has no typed 43).
const OPT43: &[u8] = &[
    6, 1, 3, 10, 4, 0, b'P', b'X', b'E', 8, 7, 0x80, 0, 1, 192, 168, 2, 1, 9, 26, 0x80, 0, 23,
    b's', b'p', b'l', b'a', b's', b'h', b't', b'o', b'p', b' ', b'b', b'y', b' ', b'r', b'i', b'c',
    b'h', b'u', b'd', b'.', b'c', b'o', b'm', 255,
];
const OPT175: &[u8] = &[0xb0, 1, 1];

fn pxe_dhcp_offer(buf: &mut [u8]) -> usize {
    let mut b = Builder::new(buf).unwrap();
    b.op(Op::Reply)
        .xid(XID)
        .flags(Flags::BROADCAST)
        .chaddr(1, &MAC)
        .unwrap();
    b.message_type(MessageType::Offer).unwrap();
    b.server_id(SERVER).unwrap();
    b.option(code::VENDOR_CLASS, b"PXEClient").unwrap();
    b.option(code::CLIENT_UUID, &UUID).unwrap();
    b.pxe_options(|s| {
        s.discovery_control(DiscoveryControl::NO_BROADCAST | DiscoveryControl::NO_MULTICAST)?
            .menu_prompt(0, b"PXE")?
            .boot_servers(&[(0x8000, &[SERVER])])?
            .boot_menu(&[(0x8000, MENU)])?;
        Ok(())
    })
    .unwrap();
    b.encapsulated(code::IPXE_ENCAP, |s| {
        s.u8(pxe_dhcp::ipxe::sub::NO_PXEDHCP, 1)?;
        Ok(())
    })
    .unwrap();
    b.option(code::PXELINUX_CONFIGFILE, CONFIG).unwrap();
    b.option(code::PXELINUX_PATHPREFIX, PREFIX).unwrap();
    b.finish().unwrap()
}

fn dhcproto_offer() -> Vec<u8> {
    let mut m = dp::Message::new_with_id(
        XID,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        &MAC,
    );
    m.set_opcode(dp::Opcode::BootReply)
        .set_flags(dp::Flags::default().set_broadcast());
    let o = m.opts_mut();
    o.insert(DhcpOption::MessageType(dp::MessageType::Offer));
    o.insert(DhcpOption::ServerIdentifier(SERVER));
    o.insert(DhcpOption::ClassIdentifier(b"PXEClient".to_vec()));
    o.insert(DhcpOption::ClientMachineIdentifier(UUID.to_vec()));
    o.insert(DhcpOption::VendorExtensions(OPT43.to_vec()));
    o.insert(DhcpOption::Unknown(UnknownOption::new(
        OptionCode::from(175),
        OPT175.to_vec(),
    )));
    o.insert(DhcpOption::Unknown(UnknownOption::new(
        OptionCode::from(209),
        CONFIG.to_vec(),
    )));
    o.insert(DhcpOption::Unknown(UnknownOption::new(
        OptionCode::from(210),
        PREFIX.to_vec(),
    )));
    m.to_vec().unwrap()
}

fn hand_offer(buf: &mut [u8; 1500]) -> usize {
    buf[..240].fill(0);
    buf[0] = 2;
    buf[1] = 1;
    buf[2] = 6;
    buf[4..8].copy_from_slice(&XID.to_be_bytes());
    buf[10] = 0x80;
    buf[28..34].copy_from_slice(&MAC);
    buf[236..240].copy_from_slice(&[99, 130, 83, 99]);
    let mut p = 240;
    let mut put = |c: u8, v: &[u8]| {
        buf[p] = c;
        buf[p + 1] = v.len() as u8;
        buf[p + 2..p + 2 + v.len()].copy_from_slice(v);
        p += 2 + v.len();
    };
    put(53, &[2]);
    put(54, &SERVER.octets());
    put(60, b"PXEClient");
    put(97, &UUID);
    put(43, OPT43);
    put(175, OPT175);
    put(209, CONFIG);
    put(210, PREFIX);
    buf[p] = 255;
    let end = (p + 1).max(300);
    buf[p + 1..end].fill(0);
    end
}

/// All three emitters produce the same options (dhcproto orders them by code).
fn check_offers_agree() {
    let mut a = [0u8; 1500];
    let na = pxe_dhcp_offer(&mut a);
    let b = dhcproto_offer();
    let mut c = [0u8; 1500];
    let nc = hand_offer(&mut c);
    assert_eq!(
        &a[..na],
        &c[..nc],
        "pxe-dhcp and the hand emitter write identical bytes"
    );
    let sorted = |bytes: &[u8]| {
        let p = Packet::new_checked(bytes).unwrap();
        let mut v: Vec<(u8, Vec<u8>)> = p
            .options()
            .map(|o| o.unwrap())
            .map(|o| (o.code, o.data.to_vec()))
            .collect();
        v.sort();
        (p.xid(), p.chaddr().to_vec(), p.flags(), v)
    };
    assert_eq!(
        sorted(&a[..na]),
        sorted(&b),
        "dhcproto writes the same options"
    );
}

fn benches(c: &mut Criterion) {
    let bios = first_udp_payload(BIOS_PCAP);
    let ipxe = first_udp_payload(IPXE_PCAP);
    let mut offer = [0u8; 1500];
    let n = pxe_dhcp_offer(&mut offer);
    let offer = offer[..n].to_vec();
    // Sanity: the inputs are what the names say, and all contestants agree.
    assert!(
        Packet::new_checked(&bios[..])
            .unwrap()
            .vendor_class()
            .unwrap()
            .unwrap()
            .is_pxe_client()
    );
    assert!(Packet::new_checked(&ipxe[..]).unwrap().has_option(175));
    assert!(!Packet::new_checked(&bios[..]).unwrap().has_option(175));
    for input in [&bios, &ipxe, &offer] {
        let want = hand_tlv_walk(input);
        assert_eq!(pxe_dhcp_typed(input), want);
        assert_eq!(pxe_dhcp_raw(input), want);
        assert_eq!(dhcproto_owned(input), want);
        assert_eq!(dhcproto_borrowed(input), want);
    }
    check_offers_agree();

    for (name, input) in [
        ("bios_discover", &bios),
        ("ipxe_discover", &ipxe),
        ("offer", &offer),
    ] {
        let mut g = c.benchmark_group(format!("dhcp_lookup/{name}"));
        g.bench_function("pxe-dhcp typed", |b| {
            b.iter(|| pxe_dhcp_typed(black_box(input)))
        });
        g.bench_function("pxe-dhcp raw", |b| {
            b.iter(|| pxe_dhcp_raw(black_box(input)))
        });
        g.bench_function("dhcproto owned", |b| {
            b.iter(|| dhcproto_owned(black_box(input)))
        });
        g.bench_function("dhcproto borrowed", |b| {
            b.iter(|| dhcproto_borrowed(black_box(input)))
        });
        g.bench_function("hand TLV walk", |b| {
            b.iter(|| hand_tlv_walk(black_box(input)))
        });
        g.finish();
    }

    let mut g = c.benchmark_group("dhcp_build/offer");
    let mut buf = [0u8; 1500];
    g.bench_function("pxe-dhcp", |b| {
        b.iter(|| pxe_dhcp_offer(black_box(&mut buf)))
    });
    g.bench_function("dhcproto", |b| b.iter(|| black_box(dhcproto_offer())));
    g.bench_function("hand emitter", |b| {
        b.iter(|| hand_offer(black_box(&mut buf)))
    });
    g.finish();
}

criterion_group!(dhcp, benches);
criterion_main!(dhcp);
