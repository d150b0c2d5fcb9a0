//! Helpers shared by the integration tests: a tiny pcap reader and writer
//! (Ethernet, IPv4 or IPv6, UDP).
#![allow(dead_code, unreachable_pub)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;

/// The captures (copied from the shared spec so a fresh clone has them).
pub fn captures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/captures")
}

/// The DHCPv6 captures.
pub fn ipv6_captures_dir() -> PathBuf {
    captures_dir().join("ipv6")
}

/// One UDP datagram from a pcap.
#[derive(Debug, Clone)]
pub struct Udp {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub sport: u16,
    pub dport: u16,
    pub payload: Vec<u8>,
}

#[allow(dead_code)] // not every test binary reads IPv4 addresses
impl Udp {
    /// The IPv4 source address (panics on an IPv6 datagram: test code).
    pub fn src4(&self) -> std::net::Ipv4Addr {
        match self.src {
            IpAddr::V4(a) => a,
            IpAddr::V6(a) => panic!("{a} is not an IPv4 source"),
        }
    }

    /// The IPv4 destination address (panics on an IPv6 datagram).
    pub fn dst4(&self) -> std::net::Ipv4Addr {
        match self.dst {
            IpAddr::V4(a) => a,
            IpAddr::V6(a) => panic!("{a} is not an IPv4 destination"),
        }
    }
}

fn u16be(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

/// Reads every IPv4/UDP and IPv6/UDP datagram of a classic little-endian
/// Ethernet pcap. Panics (this is test code) on anything else.
pub fn read_pcap_udp(bytes: &[u8]) -> Vec<Udp> {
    assert!(bytes.len() >= 24, "pcap too short");
    let magic = u32::from_le_bytes(bytes[0..4].try_into().unwrap());
    assert_eq!(magic, 0xa1b2c3d4, "only little-endian microsecond pcaps");
    let linktype = u32::from_le_bytes(bytes[20..24].try_into().unwrap());
    assert_eq!(linktype, 1, "only Ethernet pcaps");
    let mut out = Vec::new();
    let mut p = 24;
    while p + 16 <= bytes.len() {
        let incl = u32::from_le_bytes(bytes[p + 8..p + 12].try_into().unwrap()) as usize;
        let frame = &bytes[p + 16..p + 16 + incl];
        p += 16 + incl;
        let mut eth = 12;
        let mut ethertype = u16be(frame, eth);
        while ethertype == 0x8100 {
            eth += 4;
            ethertype = u16be(frame, eth);
        }
        let ip = &frame[eth + 2..];
        let found = match ethertype {
            0x0800 => ipv4_udp(ip),
            0x86dd => ipv6_udp(ip),
            _ => None,
        };
        let Some((src, dst, udp)) = found else {
            continue;
        };
        let ulen = usize::from(u16be(udp, 4));
        if ulen > udp.len() || ulen < 8 {
            continue;
        }
        out.push(Udp {
            src,
            dst,
            sport: u16be(udp, 0),
            dport: u16be(udp, 2),
            payload: udp[8..ulen].to_vec(),
        });
    }
    out
}

/// Addresses and UDP segment of an IPv4 packet, if it is a whole UDP one.
fn ipv4_udp(ip: &[u8]) -> Option<(IpAddr, IpAddr, &[u8])> {
    let ihl = usize::from(ip[0] & 15) * 4;
    let total = usize::from(u16be(ip, 2));
    if ip[9] != 17 || total > ip.len() || ihl + 8 > total {
        // Not UDP, or truncated by the capture's snap length (bulk data).
        return None;
    }
    let src = Ipv4Addr::from(<[u8; 4]>::try_from(&ip[12..16]).unwrap());
    let dst = Ipv4Addr::from(<[u8; 4]>::try_from(&ip[16..20]).unwrap());
    Some((src.into(), dst.into(), &ip[ihl..total]))
}

/// Addresses and UDP segment of an IPv6 packet, if it is a whole UDP one
/// (hop-by-hop, routing and destination options headers skipped).
fn ipv6_udp(ip: &[u8]) -> Option<(IpAddr, IpAddr, &[u8])> {
    let total = 40 + usize::from(u16be(ip, 4));
    if total > ip.len() {
        return None;
    }
    let mut next = ip[6];
    let mut at = 40;
    while matches!(next, 0 | 43 | 60) {
        next = ip[at];
        at += (usize::from(ip[at + 1]) + 1) * 8;
    }
    if next != 17 || at + 8 > total {
        return None;
    }
    let src = Ipv6Addr::from(<[u8; 16]>::try_from(&ip[8..24]).unwrap());
    let dst = Ipv6Addr::from(<[u8; 16]>::try_from(&ip[24..40]).unwrap());
    Some((src.into(), dst.into(), &ip[at..total]))
}

/// Whether a datagram is DHCP/BOOTP (ports 67, 68 or the PXE 4011).
pub fn is_dhcp(u: &Udp) -> bool {
    let dhcp = |p| p == 67 || p == 68 || p == 4011;
    dhcp(u.sport) && dhcp(u.dport)
}

/// Whether a datagram is DHCPv6 (ports 546 and 547).
pub fn is_dhcp6(u: &Udp) -> bool {
    let dhcp6 = |p| p == 546 || p == 547;
    dhcp6(u.sport) && dhcp6(u.dport)
}

fn checksum(data: &[u8], mut sum: u32) -> u16 {
    for c in data.chunks(2) {
        let w = if c.len() == 2 {
            u16::from_be_bytes([c[0], c[1]])
        } else {
            u16::from(c[0]) << 8
        };
        sum += u32::from(w);
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// The pcap file header (little-endian, microseconds, Ethernet).
fn pcap_header() -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&0xa1b2c3d4u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&0i32.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&65535u32.to_le_bytes());
    out.extend_from_slice(&1u32.to_le_bytes());
    out
}

/// Appends frame number `i` to a pcap.
fn pcap_record(out: &mut Vec<u8>, i: usize, frame: &[u8]) {
    out.extend_from_slice(&(i as u32).to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&(frame.len() as u32).to_le_bytes());
    out.extend_from_slice(&(frame.len() as u32).to_le_bytes());
    out.extend_from_slice(frame);
}

/// A UDP header and payload, checksummed over `pseudo` (the IP
/// pseudo-header, which counts the UDP length `8 + payload.len()`).
fn udp_segment(pseudo: &[u8], sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let udp_len = 8 + payload.len();
    let mut udp = Vec::with_capacity(udp_len);
    udp.extend_from_slice(&sport.to_be_bytes());
    udp.extend_from_slice(&dport.to_be_bytes());
    udp.extend_from_slice(&(udp_len as u16).to_be_bytes());
    udp.extend_from_slice(&[0, 0]);
    udp.extend_from_slice(payload);
    let mut sum = pseudo.to_vec();
    sum.extend_from_slice(&udp);
    let c = checksum(&sum, 0);
    udp[6..8].copy_from_slice(&(if c == 0 { 0xffff } else { c }).to_be_bytes());
    udp
}

/// Wraps DHCP payloads into an Ethernet/IPv4/UDP pcap (correct checksums).
pub fn write_pcap(datagrams: &[(u16, u16, &[u8])]) -> Vec<u8> {
    let mut out = pcap_header();
    for (i, (sport, dport, payload)) in datagrams.iter().enumerate() {
        let src = [192, 168, 2, 1];
        let dst = [255, 255, 255, 255];
        let udp_len = 8 + payload.len();
        // RFC 768: addresses, zero, protocol, UDP length.
        let mut pseudo = Vec::new();
        pseudo.extend_from_slice(&src);
        pseudo.extend_from_slice(&dst);
        pseudo.extend_from_slice(&[0, 17]);
        pseudo.extend_from_slice(&(udp_len as u16).to_be_bytes());
        let udp = udp_segment(&pseudo, *sport, *dport, payload);
        let mut ip = vec![0x45, 0, 0, 0, 0, i as u8, 0, 0, 64, 17, 0, 0];
        ip[2..4].copy_from_slice(&((20 + udp_len) as u16).to_be_bytes());
        ip.extend_from_slice(&src);
        ip.extend_from_slice(&dst);
        let c = checksum(&ip, 0);
        ip[10..12].copy_from_slice(&c.to_be_bytes());
        let mut frame = vec![0xff; 6];
        frame.extend_from_slice(&[0x02, 0, 0, 0, 0, 1, 0x08, 0x00]);
        frame.extend_from_slice(&ip);
        frame.extend_from_slice(&udp);
        pcap_record(&mut out, i, &frame);
    }
    out
}

/// Wraps DHCPv6 payloads into an Ethernet/IPv6/UDP pcap from the server's
/// link-local address to the client's (correct checksums).
pub fn write_pcap6(datagrams: &[(u16, u16, &[u8])]) -> Vec<u8> {
    let src: Ipv6Addr = "fe80::ff:fe77:1".parse().unwrap();
    let dst: Ipv6Addr = "fe80::5054:ff:feef:601".parse().unwrap();
    let mut out = pcap_header();
    for (i, (sport, dport, payload)) in datagrams.iter().enumerate() {
        let udp_len = 8 + payload.len();
        // RFC 8200 section 8.1: addresses, 32-bit length, zeros, next header.
        let mut pseudo = Vec::new();
        pseudo.extend_from_slice(&src.octets());
        pseudo.extend_from_slice(&dst.octets());
        pseudo.extend_from_slice(&(udp_len as u32).to_be_bytes());
        pseudo.extend_from_slice(&[0, 0, 0, 17]);
        let udp = udp_segment(&pseudo, *sport, *dport, payload);
        let mut ip = vec![0x60, 0, 0, 0];
        ip.extend_from_slice(&(udp_len as u16).to_be_bytes());
        ip.extend_from_slice(&[17, 64]);
        ip.extend_from_slice(&src.octets());
        ip.extend_from_slice(&dst.octets());
        let mut frame = vec![0x52, 0x54, 0x00, 0xef, 0x06, 0x01];
        frame.extend_from_slice(&[0x02, 0, 0, 0x77, 0, 1, 0x86, 0xdd]);
        frame.extend_from_slice(&ip);
        frame.extend_from_slice(&udp);
        pcap_record(&mut out, i, &frame);
    }
    out
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub fn unhex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2), "odd hex {s}");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}
