//! Every DHCP packet of the real captures parses to the values in its dump.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::net::Ipv4Addr;

use common::*;
use pxe_dhcp::{
    ClientArch, Flags, MessageType, Op, Packet, code, ipxe, names, pxe::DiscoveryControl,
};

#[derive(Debug, Default)]
struct Entry {
    line: usize,
    op: Option<u8>,
    mtype: String,
    xid: u32,
    secs: Option<u16>,
    flags: u16,
    chaddr: String,
    ciaddr: String,
    yiaddr: Option<String>,
    siaddr: Option<String>,
    giaddr: Option<String>,
    /// `None` = not printed, `Some(None)` = printed as `-`.
    file: Option<Option<String>>,
    sname: Option<String>,
    opts: Vec<Opt>,
}

#[derive(Debug)]
struct Opt {
    code: u8,
    len: Option<usize>,
    desc: String,
    raw: Option<Vec<u8>>,
}

fn quoted(s: &str) -> String {
    s.trim()
        .trim_start_matches('\'')
        .trim_end_matches('\'')
        .to_string()
}

fn parse_dump(text: &str) -> Vec<Entry> {
    let mut out: Vec<Entry> = Vec::new();
    let mut in_dhcp = false;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if let Some(rest) = t.strip_prefix('[') {
            // Format A header: [  0.000s] client DISCOVER xid=... key=value...
            let rest = rest.split_once(']').unwrap().1;
            let mut toks = rest.split_whitespace();
            let _who = toks.next().unwrap();
            let mut e = Entry {
                line: i + 1,
                mtype: toks.next().unwrap().to_string(),
                ..Entry::default()
            };
            for tok in toks {
                let Some((k, v)) = tok.split_once('=') else {
                    continue;
                };
                match k {
                    "xid" => e.xid = u32::from_str_radix(v, 16).unwrap(),
                    "chaddr" => e.chaddr = v.to_string(),
                    "ciaddr" => e.ciaddr = v.to_string(),
                    "yiaddr" => e.yiaddr = Some(v.to_string()),
                    "siaddr" => e.siaddr = Some(v.to_string()),
                    "flags" => e.flags = u16::from_str_radix(v, 16).unwrap(),
                    "file" => e.file = Some((v != "-").then(|| quoted(v))),
                    _ => {}
                }
            }
            out.push(e);
            in_dhcp = true;
        } else if t.starts_with(|c: char| c.is_ascii_digit()) && t.contains(" -> ") {
            // Format B header.
            in_dhcp = t.contains(" DHCP ");
            if !in_dhcp {
                continue;
            }
            let toks: Vec<&str> = t.split_whitespace().collect();
            let at = toks.iter().position(|&x| x == "DHCP").unwrap();
            let get = |k: &str| toks[toks.iter().position(|&x| x == k).unwrap() + 1];
            let hex16 = |s: &str| u16::from_str_radix(s.trim_start_matches("0x"), 16).unwrap();
            out.push(Entry {
                line: i + 1,
                mtype: toks[at + 1].to_string(),
                op: Some(get("op").parse().unwrap()),
                xid: u32::from_str_radix(get("xid").trim_start_matches("0x"), 16).unwrap(),
                secs: Some(get("secs").parse().unwrap()),
                flags: hex16(get("flags")),
                ..Entry::default()
            });
        } else if !in_dhcp {
            continue;
        } else if t.starts_with("ciaddr ") {
            let toks: Vec<&str> = t.split_whitespace().collect();
            let e = out.last_mut().unwrap();
            for kv in toks.chunks(2) {
                let v = kv[1].to_string();
                match kv[0] {
                    "ciaddr" => e.ciaddr = v,
                    "yiaddr" => e.yiaddr = Some(v),
                    "siaddr" => e.siaddr = Some(v),
                    "giaddr" => e.giaddr = Some(v),
                    "chaddr" => e.chaddr = v,
                    _ => panic!("line {}: unknown field {}", i + 1, kv[0]),
                }
            }
        } else if let Some(rest) = t.strip_prefix("sname ") {
            let (sname, file) = rest.split_once(" file ").unwrap();
            let e = out.last_mut().unwrap();
            e.sname = Some(quoted(sname));
            e.file = Some(Some(quoted(file)));
        } else if t.starts_with(|c: char| c.is_ascii_digit()) {
            let (code, rest) = t.split_once(' ').unwrap();
            let code: u8 = code.parse().unwrap();
            let rest = rest.trim_start();
            let (_name, rest) = rest.split_once(' ').unwrap();
            let rest = rest.trim_start();
            let opt = if let Some(r) = rest.strip_prefix("len") {
                let r = r.trim_start();
                let (len, desc) = r.split_once(' ').unwrap();
                Opt {
                    code,
                    len: Some(len.parse().unwrap()),
                    desc: desc.trim().to_string(),
                    raw: None,
                }
            } else {
                let at = rest.rfind('[').unwrap();
                Opt {
                    code,
                    len: None,
                    desc: rest[..at].trim().to_string(),
                    raw: Some(unhex(rest[at + 1..].trim_end_matches(']'))),
                }
            };
            out.last_mut().unwrap().opts.push(opt);
        }
    }
    out
}

fn mac_text(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap_or_else(|_| panic!("bad ip {s}"))
}

fn numbers(s: &str) -> Vec<u32> {
    s.split(|c: char| !c.is_ascii_digit())
        .filter(|x| !x.is_empty())
        .map(|x| x.parse().unwrap())
        .collect()
}

fn str_bytes(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

/// Checks the typed view of one option against the dump's description.
fn check_option(p: &Packet<&[u8]>, o: &Opt, ctx: &str) {
    let d = o.desc.as_str();
    match o.code {
        code::MESSAGE_TYPE => {
            assert_eq!(p.message_type().unwrap().unwrap().to_string(), d, "{ctx}")
        }
        code::MAX_MESSAGE_SIZE => assert_eq!(
            p.max_message_size().unwrap().unwrap(),
            d.parse::<u16>().unwrap(),
            "{ctx}"
        ),
        code::CLIENT_ARCH => {
            let list = p.client_arch().unwrap().unwrap();
            let first = numbers(d)[0];
            assert_eq!(list.first(), ClientArch(first as u16), "{ctx}");
            if d.contains("HTTP") {
                assert!(list.first().is_http_boot(), "{ctx}");
            }
        }
        code::CLIENT_NDI => {
            let ndi = p.client_ndi().unwrap().unwrap();
            let n = numbers(d);
            assert_eq!(
                (
                    u32::from(ndi.kind),
                    u32::from(ndi.major),
                    u32::from(ndi.minor)
                ),
                (n[0], n[1], n[2]),
                "{ctx}"
            );
        }
        code::VENDOR_CLASS => {
            let v = p.vendor_class().unwrap().unwrap();
            assert_eq!(v.as_bytes(), quoted(d).as_bytes(), "{ctx}");
            let info = v.parse();
            assert!(info.quirks.is_empty(), "{ctx}: {info:?}");
            if let Some(archs) = p.client_arch().unwrap()
                && info.arch.is_some()
            {
                assert_eq!(info.arch, Some(archs.first().0), "{ctx}: 60 and 93 agree");
            }
            if d.contains("UNDI:") {
                let n = numbers(d.rsplit("UNDI:").next().unwrap())[0];
                assert_eq!(
                    info.undi,
                    Some(((n / 1000) as u16, (n % 1000) as u16)),
                    "{ctx}"
                );
            }
        }
        code::PARAMETER_REQUEST_LIST => {
            let prl = p.parameter_request_list().unwrap().unwrap();
            let want: Vec<u8> = numbers(d).into_iter().map(|x| x as u8).collect();
            assert_eq!(prl.codes(), &want[..], "{ctx}");
        }
        code::CLIENT_ID => {
            let id = p.client_id().unwrap().unwrap();
            let toks: Vec<&str> = d.split_whitespace().collect();
            assert_eq!(id.kind().to_string(), toks[1], "{ctx}");
            assert_eq!(mac_text(&id.mac().unwrap()), toks[2], "{ctx}");
            assert_eq!(mac_text(&id.mac().unwrap()), mac_text(p.chaddr()), "{ctx}");
        }
        code::CLIENT_UUID => {
            let u = p.client_uuid().unwrap().unwrap();
            assert_eq!(u.kind, 0, "{ctx}");
            if let Some(rest) = d.strip_prefix("type 0 uuid ") {
                assert_eq!(hex(&u.bytes), rest, "{ctx}");
            } else {
                let toks: Vec<&str> = d.split_whitespace().collect();
                let wire = toks[toks.iter().position(|&x| x == "wire").unwrap() + 1];
                assert_eq!(u.wire_text().as_str(), wire, "{ctx}");
                assert_eq!(u.guid_text().as_str(), *toks.last().unwrap(), "{ctx}");
            }
        }
        code::SERVER_ID => assert_eq!(p.server_id().unwrap(), Some(ip(d)), "{ctx}"),
        code::REQUESTED_IP => assert_eq!(p.requested_ip().unwrap(), Some(ip(d)), "{ctx}"),
        code::SUBNET_MASK => assert_eq!(p.subnet_mask().unwrap(), Some(ip(d)), "{ctx}"),
        code::BROADCAST => assert_eq!(p.broadcast_address().unwrap(), Some(ip(d)), "{ctx}"),
        code::ROUTER => {
            let want: Vec<Ipv4Addr> = d.split_whitespace().map(ip).collect();
            let got: Vec<Ipv4Addr> = p.routers().unwrap().unwrap().iter().collect();
            assert_eq!(got, want, "{ctx}");
        }
        code::LEASE_TIME | code::RENEWAL_TIME | code::REBINDING_TIME => {
            let got = match o.code {
                code::LEASE_TIME => p.lease_time(),
                code::RENEWAL_TIME => p.renewal_time(),
                _ => p.rebinding_time(),
            };
            assert_eq!(got.unwrap(), Some(numbers(d)[0]), "{ctx}");
        }
        code::BOOTFILE_NAME => {
            assert_eq!(
                p.bootfile_name().unwrap().unwrap(),
                quoted(d).as_bytes(),
                "{ctx}"
            );
            assert_eq!(p.boot_file_name().unwrap(), quoted(d).as_bytes(), "{ctx}");
        }
        code::USER_CLASS => {
            let uc = p.user_class().unwrap().unwrap();
            assert!(!uc.is_rfc3004(), "{ctx}: iPXE sends a bare string");
            assert_eq!(
                uc.classes().collect::<Vec<_>>(),
                vec![quoted(d).as_bytes()],
                "{ctx}"
            );
            assert!(uc.contains(b"iPXE"), "{ctx}");
        }
        code::PXELINUX_CONFIGFILE => {
            assert_eq!(
                p.pxelinux().unwrap().config_file.unwrap(),
                quoted(d).as_bytes(),
                "{ctx}"
            )
        }
        code::PXELINUX_PATHPREFIX => {
            assert_eq!(
                p.pxelinux().unwrap().path_prefix.unwrap(),
                quoted(d).as_bytes(),
                "{ctx}"
            )
        }
        code::VENDOR_SPECIFIC => check_pxe(p, d, ctx),
        code::IPXE_ENCAP => check_ipxe(p, d, ctx),
        other => panic!("{ctx}: no typed check for option {other}: {d}"),
    }
}

/// `[6(discovery-control)=03 10(menu-prompt)=00505845]` -> [(6, bytes), ...];
/// each name in parentheses must be the library's name for that code.
fn bracket_subopts(d: &str, library_name: fn(u8) -> Option<&'static str>) -> Vec<(u8, Vec<u8>)> {
    d.trim_start_matches('[')
        .trim_end_matches(']')
        .split_whitespace()
        .map(|t| {
            let (c, v) = t.split_once('(').unwrap();
            let (name, hex) = v.split_once(")=").unwrap();
            let c: u8 = c.parse().unwrap();
            assert_eq!(library_name(c), Some(name), "sub-option {c} in {d}");
            (c, unhex(hex))
        })
        .collect()
}

fn check_pxe(p: &Packet<&[u8]>, d: &str, ctx: &str) {
    let pxe = p.pxe_options().unwrap().unwrap();
    let subs: Vec<(u8, Vec<u8>)> = pxe
        .iter()
        .map(|o| o.unwrap())
        .map(|o| (o.code, o.data.to_vec()))
        .collect();
    if d.starts_with('[') {
        assert_eq!(subs, bracket_subopts(d, names::pxe_sub_name), "{ctx}");
    }
    // Typed views (both dump formats print enough to check them).
    if let Some(i) = d.find("boot-item=type 0x") {
        let n: Vec<&str> = d[i..].split_whitespace().collect();
        let item = pxe.boot_item().unwrap().unwrap();
        assert_eq!(
            item.kind,
            u16::from_str_radix(&n[1][2..], 16).unwrap(),
            "{ctx}"
        );
        assert_eq!(
            item.layer,
            u16::from_str_radix(&n[3][2..], 16).unwrap(),
            "{ctx}"
        );
    }
    if let Some(i) = d.find("71(boot-item)=") {
        let v = unhex(d[i + 14..].split([' ', ']']).next().unwrap());
        assert_eq!(
            pxe.boot_item().unwrap().unwrap().to_bytes().to_vec(),
            v,
            "{ctx}"
        );
    }
    if let Some(i) = d.find("menu-prompt=timeout ") {
        let rest = &d[i + 20..];
        let secs: u8 = numbers(rest)[0] as u8;
        let text = rest.split('\'').nth(1).unwrap();
        let mp = pxe.menu_prompt().unwrap().unwrap();
        assert_eq!((mp.timeout, mp.prompt), (secs, text.as_bytes()), "{ctx}");
    }
    if let Some(i) = d.find("discovery-control=") {
        let rest = &d[i + 18..];
        let v = if rest.starts_with(|c: char| c.is_ascii_digit()) && !d.starts_with('[') {
            numbers(rest)[0] as u8
        } else {
            unhex(&rest[..2])[0]
        };
        assert_eq!(
            pxe.discovery_control().unwrap(),
            Some(DiscoveryControl::from_bits_retain(v)),
            "{ctx}"
        );
    }
    if let Some(i) = d.find("boot-servers=[") {
        let inner = d[i + 14..].split(']').next().unwrap();
        let want: Vec<(u16, Ipv4Addr)> = inner
            .split_whitespace()
            .map(|t| {
                let (k, a) = t.split_once('@').unwrap();
                (u16::from_str_radix(&k[2..], 16).unwrap(), ip(a))
            })
            .collect();
        let got: Vec<(u16, Ipv4Addr)> = pxe
            .boot_servers()
            .unwrap()
            .unwrap()
            .iter()
            .flat_map(|s| {
                let k = s.kind;
                s.addresses().map(move |a| (k, a))
            })
            .collect();
        assert_eq!(got, want, "{ctx}");
    }
    if let Some(i) = d.find("boot-menu=[") {
        let inner = &d[i + 11..];
        let items: Vec<(u16, String)> = inner
            .split("0x")
            .skip(1)
            .map(|t| {
                let (k, rest) = t.split_once(':').unwrap();
                (
                    u16::from_str_radix(k, 16).unwrap(),
                    rest.split('\'').nth(1).unwrap().to_string(),
                )
            })
            .collect();
        let got: Vec<(u16, String)> = pxe
            .boot_menu()
            .unwrap()
            .unwrap()
            .iter()
            .map(|m| (m.kind, String::from_utf8(m.description.to_vec()).unwrap()))
            .collect();
        assert_eq!(got, items, "{ctx}");
    }
    if let Some(i) = d.find("9(boot-menu)=") {
        let v = unhex(d[i + 13..].split([' ', ']']).next().unwrap());
        let m = pxe.boot_menu().unwrap().unwrap();
        let item = m.iter().next().unwrap();
        assert_eq!(item.kind.to_be_bytes(), [v[0], v[1]], "{ctx}");
        assert_eq!(item.description, &v[3..], "{ctx}");
    }
}

fn check_ipxe(p: &Packet<&[u8]>, d: &str, ctx: &str) {
    let ip = p.ipxe_options().unwrap().unwrap();
    let subs: Vec<(u8, Vec<u8>)> = ip
        .iter()
        .map(|o| o.unwrap())
        .map(|o| (o.code, o.data.to_vec()))
        .collect();
    if d.starts_with('[') {
        assert_eq!(subs, bracket_subopts(d, names::ipxe_sub_name), "{ctx}");
    } else {
        // bus-id=011af41000 version=010000 dns=01 ...
        let want: Vec<(String, Vec<u8>)> = d
            .split_whitespace()
            .map(|t| {
                let (k, v) = t.split_once('=').unwrap();
                (k.to_string(), unhex(v))
            })
            .collect();
        let got: Vec<(String, Vec<u8>)> = subs
            .iter()
            .map(|(c, v)| (ipxe::sub_name(*c).unwrap().to_string(), v.clone()))
            .collect();
        assert_eq!(got, want, "{ctx}");
    }
    let bus = ip.bus_id().unwrap().unwrap();
    let raw = ip.get(ipxe::sub::BUS_ID).unwrap();
    assert_eq!(bus.bus_type, raw[0], "{ctx}");
    assert_eq!(bus.vendor.to_be_bytes(), [raw[1], raw[2]], "{ctx}");
    assert_eq!(ip.version().unwrap(), Some((1, 0, 0)), "{ctx}");
    assert!(ip.has_feature(ipxe::sub::FEATURE_DNS), "{ctx}");
    assert!(
        ip.features()
            .all(|(c, v)| (0x10..=0x4f).contains(&c) && v >= 1),
        "{ctx}"
    );
}

fn check_entry(p: &Packet<&[u8]>, e: &Entry, ctx: &str) {
    assert_eq!(p.xid(), e.xid, "{ctx}");
    assert_eq!(p.flags().bits(), e.flags, "{ctx}");
    assert_eq!(
        p.flags().contains(Flags::BROADCAST),
        e.flags & 0x8000 != 0,
        "{ctx}"
    );
    assert_eq!(mac_text(p.chaddr()), e.chaddr, "{ctx}");
    assert_eq!(p.ciaddr(), ip(&e.ciaddr), "{ctx}");
    if let Some(y) = &e.yiaddr {
        assert_eq!(p.yiaddr(), ip(y), "{ctx}");
    }
    if let Some(s) = &e.siaddr {
        assert_eq!(p.siaddr(), ip(s), "{ctx}");
    }
    if let Some(g) = &e.giaddr {
        assert_eq!(p.giaddr(), ip(g), "{ctx}");
    }
    if let Some(op) = e.op {
        assert_eq!(u8::from(p.op()), op, "{ctx}");
    }
    if let Some(secs) = e.secs {
        assert_eq!(p.secs(), secs, "{ctx}");
    }
    let mt = p.message_type().unwrap().unwrap();
    assert_eq!(mt.to_string(), e.mtype, "{ctx}");
    let expected_op = match mt {
        MessageType::Offer | MessageType::Ack | MessageType::Nak => Op::Reply,
        _ => Op::Request,
    };
    assert_eq!(p.op(), expected_op, "{ctx}");
    if let Some(file) = &e.file {
        // Format A prints the boot file as the client resolves it (option 67,
        // else `file`); format B prints the `file` field itself.
        let got = if e.op.is_none() {
            p.boot_file_name()
        } else {
            p.file()
        };
        let got = got.map(|f| String::from_utf8(f.to_vec()).unwrap());
        assert_eq!(got, file.clone().filter(|f| !f.is_empty()), "{ctx}");
    }
    if let Some(sname) = &e.sname {
        assert_eq!(p.sname().unwrap_or_default(), sname.as_bytes(), "{ctx}");
    }
    // The option list, in order, with raw bytes or lengths.
    let got: Vec<(u8, &[u8])> = p
        .options()
        .map(|o| o.unwrap())
        .map(|o| (o.code, o.data))
        .collect();
    let codes: Vec<u8> = got.iter().map(|g| g.0).collect();
    let want: Vec<u8> = e.opts.iter().map(|o| o.code).collect();
    assert_eq!(codes, want, "{ctx}");
    for ((c, data), o) in got.iter().zip(&e.opts) {
        if let Some(raw) = &o.raw {
            assert_eq!(*data, &raw[..], "{ctx}: option {c} bytes");
        }
        if let Some(len) = o.len {
            assert_eq!(data.len(), len, "{ctx}: option {c} length");
        }
        assert_eq!(p.option(*c), Some(*data), "{ctx}: find({c})");
        check_option(p, o, &format!("{ctx}: option {c}"));
    }
    assert_eq!(p.overload(), 0, "{ctx}");
    let _ = str_bytes;
}

#[test]
fn every_captured_packet_matches_its_dump() {
    let dir = captures_dir();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("captures at {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "pcap"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 13,
        "expected the 13 captures, found {}",
        files.len()
    );
    let mut total = 0;
    for pcap in files {
        let bytes = std::fs::read(&pcap).unwrap();
        let dump = std::fs::read_to_string(pcap.with_extension("txt")).unwrap();
        let entries = parse_dump(&dump);
        let packets: Vec<Udp> = read_pcap_udp(&bytes).into_iter().filter(is_dhcp).collect();
        let name = pcap.file_name().unwrap().to_string_lossy().to_string();
        assert_eq!(
            packets.len(),
            entries.len(),
            "{name}: DHCP packets vs dump entries"
        );
        for (u, e) in packets.iter().zip(&entries) {
            let ctx = format!("{name} line {}", e.line);
            let p =
                Packet::new_checked(&u.payload[..]).unwrap_or_else(|err| panic!("{ctx}: {err}"));
            check_entry(&p, e, &ctx);
            total += 1;
        }
    }
    assert_eq!(
        total, 169,
        "every DHCP packet of the 13 captures is checked"
    );
}
