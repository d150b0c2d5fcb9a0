//! Shared helpers: the seed's configurations, a pcap reader for the real
//! captures, and a small request builder.
#![allow(dead_code, unreachable_pub)]

use std::net::Ipv4Addr;

/// The real captures: the copy vendored in pxe-dhcp's tests (present in
/// every clone), else the shared spec folder beside the work tree.
pub fn captures_dir() -> String {
    let vendored = concat!(env!("CARGO_MANIFEST_DIR"), "/../pxe-dhcp/tests/captures");
    let shared = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/spec/captures");
    if std::path::Path::new(vendored).is_dir() {
        vendored.to_string()
    } else {
        shared.to_string()
    }
}

/// The seed's four configurations, verbatim, with xxx.xxx.xx.xx replaced.
pub const SEED_REAL: &str = "enable-tftp
dhcp-match=ipxe,175
dhcp-range=192.168.2.100,192.168.2.200
tftp-root=/tmp/memstick/host0_part1/
dhcp-boot=net:#ipxe,undionly.kkpxe.0
dhcp-boot=pxelinux.0
dhcp-option-force=209,pxelinux.cfg/default
dhcp-option-force=210,http://192.168.2.1:81/
";

pub const SEED_PROXY: &str = "dhcp-match=ipxe,175
enable-tftp
dhcp-range=192.168.2.0,proxy
tftp-root=/pxe/
pxe-service=net:#ipxe,x86PC, \"splashtop by richud.com\", undionly.kkpxe
";

pub const SEED_PROXY_PHP: &str = "dhcp-match=ipxe,175
dhcp-boot=net:ipxe,http://192.168.2.1/ipxe.php?mac=${mac}&uuid=${uuid}
enable-tftp
dhcp-range=192.168.2.0,proxy
tftp-root=/pxe/
pxe-service=net:#ipxe,x86PC, \"splashtop by richud.com\", undionly.kkpxe
";

/// The seed's logging snippet ("append this to /etc/dnsmasq.conf").
pub const SEED_LOGGING: &str = "log-queries
log-dhcp
";

/// proxy-php with `,,192.168.2.1` added to its dhcp-boot (the captures'
/// `proxy-php-nextserver`).
pub const SEED_PROXY_PHP_NEXTSERVER: &str = "dhcp-match=ipxe,175
dhcp-boot=net:ipxe,http://192.168.2.1/ipxe.php?mac=${mac}&uuid=${uuid},,192.168.2.1
enable-tftp
dhcp-range=192.168.2.0,proxy
tftp-root=/pxe/
pxe-service=net:#ipxe,x86PC, \"splashtop by richud.com\", undionly.kkpxe
";

pub const LOCAL: Ipv4Addr = Ipv4Addr::new(192, 168, 2, 1);
pub const MASK: Ipv4Addr = Ipv4Addr::new(255, 255, 255, 0);

/// One UDP datagram from a capture.
#[derive(Debug, Clone)]
pub struct Datagram {
    pub src: Ipv4Addr,
    pub sport: u16,
    pub dport: u16,
    pub payload: Vec<u8>,
}

/// Reads every UDP/IPv4 datagram of an Ethernet pcap file.
pub fn read_pcap(name: &str) -> Vec<Datagram> {
    let path = format!("{}/{name}", captures_dir());
    let d = std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read capture {path}: {e}"));
    assert!(
        d.len() >= 24 && d[..4] == [0xd4, 0xc3, 0xb2, 0xa1],
        "{path}: not a little-endian pcap"
    );
    let mut off = 24;
    let mut out = Vec::new();
    while off + 16 <= d.len() {
        let incl = u32::from_le_bytes([d[off + 8], d[off + 9], d[off + 10], d[off + 11]]) as usize;
        let pkt = &d[off + 16..(off + 16 + incl).min(d.len())];
        off += 16 + incl;
        if pkt.len() < 14 + 20 + 8 || pkt[12..14] != [0x08, 0x00] {
            continue;
        }
        let ip = &pkt[14..];
        let ihl = usize::from(ip[0] & 15) * 4;
        if ip[9] != 17 || ip.len() < ihl + 8 {
            continue;
        }
        let src = Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]);
        let udp = &ip[ihl..];
        let sport = u16::from_be_bytes([udp[0], udp[1]]);
        let dport = u16::from_be_bytes([udp[2], udp[3]]);
        out.push(Datagram {
            src,
            sport,
            dport,
            payload: udp[8..].to_vec(),
        });
    }
    out
}

/// DHCP messages only (ports 67/68/4011).
pub fn dhcp(name: &str) -> Vec<Datagram> {
    read_pcap(name)
        .into_iter()
        .filter(|d| [67, 68, 4011].contains(&d.sport) || [67, 68, 4011].contains(&d.dport))
        .filter(|d| d.payload.len() >= 240)
        .collect()
}

/// A request as the codec reads it (framing errors tolerated, as the
/// engine's lenient read does before it drops such packets).
pub fn packet(bytes: &[u8]) -> pxe_dhcp::Packet<&[u8]> {
    pxe_dhcp::Packet::new_lenient(bytes).unwrap_or_else(|e| panic!("not a BOOTP message: {e}"))
}

/// The options the rules decided, as `pxe_dhcp`'s builder writes them:
/// the boot options (66/67), then the others, in wire order.
pub fn rule_options(d: &pxe_rules::Decision<'_>) -> Vec<(u8, Vec<u8>)> {
    let mut buf = vec![0u8; 4096];
    let mut b = pxe_dhcp::Builder::new(&mut buf).unwrap();
    d.write_boot_options(&mut b)
        .and_then(|()| d.write_options(&mut b))
        .unwrap_or_else(|e| panic!("the decision's options do not write: {e}"));
    let n = b.finish().unwrap();
    options(&buf[..n])
}

/// Options of a message in wire order (main area only), as (code, value).
pub fn options(p: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    let mut i = 240;
    while i < p.len() {
        match p[i] {
            0 => i += 1,
            255 => break,
            c => {
                let l = usize::from(p[i + 1]);
                out.push((c, p[i + 2..i + 2 + l].to_vec()));
                i += 2 + l;
            }
        }
    }
    out
}

pub fn xid(p: &[u8]) -> u32 {
    u32::from_be_bytes([p[4], p[5], p[6], p[7]])
}

pub fn cstr(b: &[u8]) -> Vec<u8> {
    b.iter().copied().take_while(|c| *c != 0).collect()
}

/// A request builder for synthetic clients.
pub struct Req {
    pub bytes: Vec<u8>,
}

impl Req {
    pub fn new(mac: [u8; 6], msg: u8) -> Self {
        let mut b = vec![0u8; 240];
        b[0] = 1;
        b[1] = 1;
        b[2] = 6;
        b[4..8].copy_from_slice(&0x1234_5678u32.to_be_bytes());
        b[28..34].copy_from_slice(&mac);
        b[236..240].copy_from_slice(&[99, 130, 83, 99]);
        let mut r = Req { bytes: b };
        r = r.opt(53, &[msg]);
        r
    }
    pub fn opt(mut self, code: u8, v: &[u8]) -> Self {
        self.bytes.push(code);
        self.bytes.push(v.len() as u8);
        self.bytes.extend_from_slice(v);
        self
    }
    pub fn ciaddr(mut self, a: Ipv4Addr) -> Self {
        self.bytes[12..16].copy_from_slice(&a.octets());
        self
    }
    pub fn done(mut self) -> Vec<u8> {
        self.bytes.push(255);
        while self.bytes.len() < 300 {
            self.bytes.push(0);
        }
        self.bytes
    }
}

pub const UUID97: [u8; 17] = [
    0, 0x1e, 0, 0x17, 0, 0, 0x8c, 0xad, 0, 0x50, 0x87, 0x90, 0xe6, 0xba, 0x2f, 0x34, 0x23,
];
pub const PRL_ROM: &[u8] = &[
    1, 3, 6, 7, 12, 15, 17, 26, 43, 60, 66, 67, 119, 128, 129, 130, 131, 132, 133, 134, 135,
];
pub const PRL_IPXE: &[u8] = &[
    1, 3, 6, 7, 12, 15, 17, 26, 43, 60, 66, 67, 119, 128, 129, 130, 131, 132, 133, 134, 135, 175,
    203,
];
pub const PRL_EDK2: &[u8] = &[
    1, 2, 3, 4, 5, 6, 12, 13, 15, 17, 18, 22, 23, 28, 40, 41, 42, 43, 50, 51, 54, 58, 59, 60, 66,
    67, 97, 128, 129, 130, 131, 132, 133, 134, 135,
];
pub const IPXE_175: &[u8] = &[
    0xb1, 5, 1, 0x1a, 0xf4, 0x10, 0, 0xeb, 3, 1, 0, 0, 0x17, 1, 1, 0x24, 1, 1, 0x13, 1, 1,
];

/// The client classes of the test matrix, as request bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Client {
    BiosRom,
    IpxeBios,
    UefiX64,
    IpxeEfiArch9,
    IpxeEfiArch7,
    Arm64Uefi,
    HttpBoot,
    Linux,
}

pub const ALL_CLIENTS: [Client; 8] = [
    Client::BiosRom,
    Client::IpxeBios,
    Client::UefiX64,
    Client::IpxeEfiArch9,
    Client::IpxeEfiArch7,
    Client::Arm64Uefi,
    Client::HttpBoot,
    Client::Linux,
];

pub fn client(c: Client, msg: u8) -> Vec<u8> {
    let mac = [0x52, 0x54, 0, 0xb0, 7, 1];
    let arch = |a: u16| a.to_be_bytes();
    let r = Req::new(mac, msg).opt(57, &[5, 0xc0]);
    match c {
        Client::BiosRom => r
            .opt(93, &arch(0))
            .opt(94, &[1, 2, 1])
            .opt(60, b"PXEClient:Arch:00000:UNDI:002001")
            .opt(55, PRL_ROM)
            .opt(97, &UUID97),
        Client::IpxeBios => r
            .opt(93, &arch(0))
            .opt(94, &[1, 2, 1])
            .opt(60, b"PXEClient:Arch:00000:UNDI:002001")
            .opt(77, b"iPXE")
            .opt(55, PRL_IPXE)
            .opt(175, IPXE_175)
            .opt(61, &[1, 0x52, 0x54, 0, 0xb0, 7, 1])
            .opt(97, &UUID97),
        Client::UefiX64 => r
            .opt(55, PRL_EDK2)
            .opt(97, &UUID97)
            .opt(94, &[1, 3, 0])
            .opt(93, &arch(7))
            .opt(60, b"PXEClient:Arch:00007:UNDI:003000"),
        Client::IpxeEfiArch9 | Client::IpxeEfiArch7 => {
            let a = if c == Client::IpxeEfiArch9 { 9 } else { 7 };
            let vc = if a == 9 {
                &b"PXEClient:Arch:00009:UNDI:003010"[..]
            } else {
                &b"PXEClient:Arch:00007:UNDI:003010"[..]
            };
            r.opt(93, &arch(a))
                .opt(94, &[1, 3, 10])
                .opt(60, vc)
                .opt(77, b"iPXE")
                .opt(55, PRL_IPXE)
                .opt(175, IPXE_175)
                .opt(61, &[1, 0x52, 0x54, 0, 0xb0, 7, 1])
                .opt(97, &UUID97)
        }
        Client::Arm64Uefi => r
            .opt(55, PRL_EDK2)
            .opt(97, &UUID97)
            .opt(94, &[1, 3, 0])
            .opt(93, &arch(11))
            .opt(60, b"PXEClient:Arch:00011:UNDI:003000"),
        Client::HttpBoot => r
            .opt(
                55,
                &[
                    1, 2, 3, 4, 5, 6, 12, 13, 15, 17, 18, 22, 23, 28, 40, 41, 42, 43, 50, 51, 54,
                    58, 59, 60, 235, 67, 97,
                ],
            )
            .opt(97, &UUID97)
            .opt(94, &[1, 3, 0])
            .opt(93, &arch(16))
            .opt(60, b"HTTPClient:Arch:00016:UNDI:003000"),
        Client::Linux => r
            .opt(55, &[1, 28, 2, 3, 15, 6, 119, 12, 44, 47, 26, 121, 42])
            .opt(12, b"debian"),
    }
    .done()
}

/// A configuration that exercises every rule and option path.
pub const EVERYTHING: &str = "dhcp-match=set:ipxe,175
dhcp-match=set:efi,option:client-arch,7
dhcp-match=set:hexm,60,50:58:45:*
dhcp-userclass=set:ipxeuc,iPXE
dhcp-vendorclass=set:pxe,PXEClient
dhcp-mac=set:qemu,52:54:00:*:*:*
tag-if=set:combo,tag:qemu,tag:pxe*
dhcp-host=52:54:00:b0:07:01,set:host1,192.168.2.77,infinite
dhcp-range=set:lan,192.168.2.100,192.168.2.200,12h
dhcp-range=192.168.3.0,proxy
dhcp-boot=tag:!ipxe,undionly.kpxe,bootsrv,192.168.2.5
dhcp-boot=tag:ipxe,http://192.168.2.1/boot.ipxe
dhcp-option=3,0.0.0.0
dhcp-option=tag:lan,6,192.168.2.6,0.0.0.0
dhcp-option=tag:ipxe,42,192.168.2.42
dhcp-option-force=209,pxelinux.cfg/default
dhcp-option=encap:175,176,1b
dhcp-option=tag:ipxe,encap:175,190,user
dhcp-option=vi-encap:3561,1,abc
dhcp-option=vendor:PXEClient,1,0.0.0.0
dhcp-option=option:domain-search,a.example.com,b.example.com
pxe-prompt=\"Press F8 for boot menu\",5
pxe-service=x86PC,\"Boot from local disk\"
pxe-service=x86PC,\"Install Linux\",pxelinux
pxe-service=x86PC,\"Remote\",menu.c32,192.168.2.9
pxe-service=x86PC,\"Type 13 discover\",13
pxe-service=x86-64_EFI,\"EFI\",snponly
pxe-service=x86-64_EFI,\"EFI2\",grubx64.efi
dhcp-reply-delay=tag:efi,1
dhcp-broadcast=tag:ipxe
";
