//! Every DHCPv6 packet of the real captures (EDK2 PXEv6 and HTTPv6 Boot,
//! iPXE) parses, and its decoded fields match the dump field by field.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::net::{IpAddr, Ipv6Addr};

use common::*;
use pxe_dhcp::ClientArch;
use pxe_dhcp::v6::{self, DuidFields, Message, MessageType, Packet, Status, code};

/// One DHCPv6 packet of a dump.
#[derive(Debug)]
struct Entry {
    line: usize,
    mtype: String,
    src: (Ipv6Addr, u16),
    dst: (Ipv6Addr, u16),
    xid: String,
    opts: Vec<Opt>,
}

/// `  16 vendor-class           len  38  enterprise 343: '...'`
#[derive(Debug)]
struct Opt {
    code: u16,
    name: String,
    len: usize,
    desc: String,
}

/// `[fe80::5054:ff:feef:601]:546`
fn endpoint(s: &str) -> (Ipv6Addr, u16) {
    let (a, p) = s.trim_start_matches('[').split_once("]:").unwrap();
    (a.parse().unwrap(), p.parse().unwrap())
}

fn parse_dump(text: &str) -> Vec<Entry> {
    let mut out: Vec<Entry> = Vec::new();
    let mut in_dhcp = false;
    for (i, line) in text.lines().enumerate() {
        let toks: Vec<&str> = line.split_whitespace().collect();
        let Some(first) = toks.first() else { continue };
        if first.contains('.') && toks.len() > 2 {
            // A packet header: time, MAC, protocol ...
            in_dhcp = toks[2] == "DHCPv6";
            if in_dhcp {
                assert_eq!((toks[5], toks[7]), ("->", "xid"), "line {}", i + 1);
                out.push(Entry {
                    line: i + 1,
                    mtype: toks[3].to_string(),
                    src: endpoint(toks[4]),
                    dst: endpoint(toks[6]),
                    xid: toks[8].to_string(),
                    opts: Vec::new(),
                });
            }
        } else if in_dhcp {
            // An option: code, name, "len", length, description.
            assert_eq!(toks[2], "len", "line {}: {line}", i + 1);
            let after_len = &line[line.find(" len ").unwrap() + 5..];
            let (len, desc) = after_len.trim_start().split_once(' ').unwrap();
            out.last_mut().unwrap().opts.push(Opt {
                code: toks[0].parse().unwrap(),
                name: toks[1].to_string(),
                len: len.parse().unwrap(),
                desc: desc.trim().to_string(),
            });
        }
    }
    out
}

fn numbers(s: &str) -> Vec<u64> {
    s.split(|c: char| !c.is_ascii_digit())
        .filter(|x| !x.is_empty())
        .map(|x| x.parse().unwrap())
        .collect()
}

/// The text between the first pair of single quotes.
fn quoted(s: &str) -> &str {
    s.split('\'').nth(1).unwrap()
}

/// `ed0ef 1800 3150 [iaaddr fd00:77::19e preferred 3600 valid 3600]`
fn check_ia_na(m: &Message<&[u8]>, d: &str, ctx: &str) {
    let ia = m.ia_na().unwrap().unwrap();
    let toks: Vec<&str> = d.split_whitespace().collect();
    assert_eq!(toks[0], "IAID", "{ctx}");
    let iaid = u32::from_str_radix(toks[1].trim_start_matches("0x"), 16).unwrap();
    assert_eq!(ia.iaid(), iaid, "{ctx}");
    assert_eq!((toks[2], toks[4]), ("T1", "T2"), "{ctx}");
    assert_eq!(
        (ia.t1(), ia.t2()),
        (toks[3].parse().unwrap(), toks[5].parse().unwrap()),
        "{ctx}"
    );
    // Each "[iaaddr A preferred P valid V]" in order.
    let want: Vec<(Ipv6Addr, u32, u32)> = d
        .split("[iaaddr ")
        .skip(1)
        .map(|a| {
            let t: Vec<&str> = a.trim_end_matches(']').split_whitespace().collect();
            assert_eq!((t[1], t[3]), ("preferred", "valid"), "{ctx}");
            (
                t[0].parse().unwrap(),
                t[2].parse().unwrap(),
                t[4].parse().unwrap(),
            )
        })
        .collect();
    let got: Vec<(Ipv6Addr, u32, u32)> = ia
        .addresses()
        .map(|a| a.unwrap())
        .map(|a| (a.address(), a.preferred(), a.valid()))
        .collect();
    assert_eq!(got, want, "{ctx}");
    assert_eq!(
        ia.status().unwrap(),
        None,
        "{ctx}: dnsmasq puts the status outside"
    );
    assert_eq!(ia.to_string(), d, "{ctx}: Display");
}

/// Checks the typed view of one option against the dump's description.
fn check_option(m: &Message<&[u8]>, o: &Opt, ctx: &str) {
    let d = o.desc.as_str();
    match o.code {
        code::CLIENT_ID | code::SERVER_ID => {
            let duid = if o.code == code::CLIENT_ID {
                m.client_id()
            } else {
                m.server_id()
            }
            .unwrap()
            .unwrap();
            let toks: Vec<&str> = d.split_whitespace().collect();
            match (toks[0], duid.fields()) {
                ("DUID-UUID", DuidFields::Uuid(u)) => {
                    assert_eq!(u.wire_text().as_str(), toks[1], "{ctx}")
                }
                (
                    "DUID-LLT",
                    DuidFields::Llt {
                        hardware_type,
                        time,
                        link_layer_address,
                    },
                ) => {
                    assert_eq!((toks[1], toks[3]), ("hw", "time"), "{ctx}");
                    assert_eq!(hardware_type.to_string(), toks[2], "{ctx}");
                    assert_eq!(time.to_string(), toks[4], "{ctx}");
                    let mac: Vec<String> = link_layer_address
                        .iter()
                        .map(|b| format!("{b:02x}"))
                        .collect();
                    assert_eq!(mac.join(":"), toks[5], "{ctx}");
                    assert_eq!(
                        duid.mac().map(|m| m.to_vec()),
                        Some(link_layer_address.to_vec())
                    );
                }
                (kind, fields) => panic!("{ctx}: dump says {kind}, parsed {fields:?}"),
            }
            assert_eq!(duid.to_string(), d, "{ctx}: Display");
        }
        code::IA_NA => check_ia_na(m, d, ctx),
        code::ELAPSED_TIME => {
            let t = m.elapsed_time().unwrap().unwrap();
            let (s, h) = d.trim_end_matches(" s").split_once('.').unwrap();
            assert_eq!(
                u64::from(t.hundredths()),
                s.parse::<u64>().unwrap() * 100 + h.parse::<u64>().unwrap(),
                "{ctx}"
            );
            assert_eq!(t.to_string(), d, "{ctx}: Display");
        }
        code::ORO => {
            let got: Vec<u64> = m.oro().unwrap().unwrap().iter().map(u64::from).collect();
            assert_eq!(got, numbers(d), "{ctx}");
        }
        code::PREFERENCE => {
            assert_eq!(m.preference().unwrap(), Some(d.parse().unwrap()), "{ctx}")
        }
        code::STATUS_CODE => {
            let s = m.status_code().unwrap().unwrap();
            assert_eq!(u64::from(u16::from(s.status)), numbers(d)[0], "{ctx}");
            let name = d.split(['(', ')']).nth(1).unwrap();
            assert_eq!(s.status.name(), Some(name), "{ctx}");
            assert_eq!(s.status, Status::Success, "{ctx}");
            assert_eq!(s.message_str(), Some(quoted(d)), "{ctx}");
            assert_eq!(s.to_string(), d, "{ctx}: Display");
        }
        code::USER_CLASS => {
            let u = m.user_class().unwrap().unwrap();
            let items: Vec<&[u8]> = u.items().into_iter().collect();
            assert_eq!(items, [quoted(d).as_bytes()], "{ctx}");
            assert!(u.contains(b"iPXE"), "{ctx}");
        }
        code::VENDOR_CLASS => {
            let v = m.vendor_class().unwrap().unwrap();
            let enterprise = numbers(d.split(':').next().unwrap())[0];
            assert_eq!(u64::from(v.enterprise()), enterprise, "{ctx}");
            let item = quoted(d);
            assert_eq!(v.items().first(), Some(item.as_bytes()), "{ctx}");
            assert_eq!(v.is_http_client(), item.starts_with("HTTPClient"), "{ctx}");
            assert_eq!(v.is_pxe_client(), item.starts_with("PXEClient"), "{ctx}");
            let info = v.info().unwrap();
            assert!(info.quirks.is_empty(), "{ctx}: {info:?}");
            if let Some(rest) = item.split("Arch:").nth(1) {
                assert_eq!(info.arch.map(u64::from), Some(numbers(rest)[0]), "{ctx}");
                if let Some(archs) = m.client_arch().unwrap() {
                    assert_eq!(info.arch, Some(archs.first().0), "{ctx}: 16 and 61 agree");
                }
                let undi = numbers(item.rsplit("UNDI:").next().unwrap())[0];
                assert_eq!(
                    info.undi,
                    Some(((undi / 1000) as u16, (undi % 1000) as u16)),
                    "{ctx}"
                );
            }
            assert_eq!(v.to_string(), d, "{ctx}: Display");
        }
        code::BOOTFILE_URL => {
            let u = m.boot_file_url().unwrap().unwrap();
            assert_eq!(u.as_str(), Some(quoted(d)), "{ctx}");
            let scheme = quoted(d).split("://").next().unwrap();
            assert_eq!(u.scheme(), Some(scheme.as_bytes()), "{ctx}");
        }
        code::CLIENT_ARCH_TYPE => {
            let a = m.client_arch().unwrap().unwrap();
            assert_eq!(a.len(), 1, "{ctx}");
            assert_eq!(u64::from(a.first().0), numbers(d)[0], "{ctx}");
            assert_eq!(a.first().is_x64_uefi(), d.contains("EFI x86-64"), "{ctx}");
            assert_eq!(a.first().is_http_boot(), d.contains("HTTP"), "{ctx}");
            assert_eq!(
                a.first() == ClientArch::X86_BIOS,
                d.contains("BIOS"),
                "{ctx}"
            );
        }
        code::NII => {
            // "type 1 (UNDI), version 3.10"
            let n = m.nii().unwrap().unwrap();
            let want = numbers(d);
            assert_eq!(
                [u64::from(n.kind), u64::from(n.major), u64::from(n.minor)],
                [want[0], want[1], want[2]],
                "{ctx}"
            );
        }
        other => panic!("{ctx}: no typed check for option {other}: {d}"),
    }
}

fn check_entry(u: &Udp, e: &Entry, ctx: &str) {
    assert_eq!((u.src, u.sport), (IpAddr::V6(e.src.0), e.src.1), "{ctx}");
    assert_eq!((u.dst, u.dport), (IpAddr::V6(e.dst.0), e.dst.1), "{ctx}");
    let p = Packet::new_checked(&u.payload[..]).unwrap_or_else(|err| panic!("{ctx}: {err}"));
    let Packet::Message(m) = p else {
        panic!("{ctx}: no relay in these captures")
    };
    assert_eq!(m.msg_type().to_string(), e.mtype, "{ctx}");
    let from_server = matches!(m.msg_type(), MessageType::Advertise | MessageType::Reply);
    assert_eq!(from_server, e.src.1 == v6::SERVER_PORT, "{ctx}");
    if !from_server {
        assert_eq!(e.dst.0, v6::ALL_DHCP_RELAY_AGENTS_AND_SERVERS, "{ctx}");
    }
    assert_eq!(m.transaction_id().to_string(), e.xid, "{ctx}");
    assert_eq!(
        m.transaction_id().get(),
        u32::from_str_radix(&e.xid, 16).unwrap(),
        "{ctx}"
    );
    let got: Vec<_> = m.options().map(|o| o.unwrap()).collect();
    let codes: Vec<u16> = got.iter().map(|o| o.code).collect();
    let want: Vec<u16> = e.opts.iter().map(|o| o.code).collect();
    assert_eq!(codes, want, "{ctx}");
    for (raw, o) in got.iter().zip(&e.opts) {
        let ctx = format!("{ctx}: option {}", o.code);
        assert_eq!(raw.data.len(), o.len, "{ctx}: length");
        assert_eq!(code::name(o.code), Some(o.name.as_str()), "{ctx}: name");
        assert_eq!(m.option(o.code), Some(*raw), "{ctx}: lookup");
        assert_eq!(
            &u.payload[raw.offset + 4..raw.offset + 4 + o.len],
            raw.data,
            "{ctx}: offset"
        );
        check_option(&m, o, &ctx);
    }
    for absent in [
        code::RAPID_COMMIT,
        code::DNS_SERVERS,
        code::CLIENT_LINKLAYER_ADDR,
    ] {
        assert!(!m.has_option(absent), "{ctx}");
    }
}

#[test]
fn every_captured_dhcpv6_packet_matches_its_dump() {
    let dir = ipv6_captures_dir();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("captures at {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "pcap"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 3, "the three DHCPv6 captures");
    let mut total = 0;
    for pcap in files {
        let bytes = std::fs::read(&pcap).unwrap();
        let dump = std::fs::read_to_string(pcap.with_extension("txt")).unwrap();
        let entries = parse_dump(&dump);
        let packets: Vec<Udp> = read_pcap_udp(&bytes).into_iter().filter(is_dhcp6).collect();
        let name = pcap.file_name().unwrap().to_string_lossy().to_string();
        assert_eq!(
            packets.len(),
            entries.len(),
            "{name}: DHCPv6 packets vs dump entries"
        );
        for (u, e) in packets.iter().zip(&entries) {
            check_entry(u, e, &format!("{name} line {}", e.line));
            total += 1;
        }
    }
    assert_eq!(
        total, 38,
        "every DHCPv6 packet of the 3 captures is checked"
    );
}

/// What the captures show the firmware needs, read through the typed views.
#[test]
fn the_answers_edk2_acted_on() {
    let bytes = std::fs::read(ipv6_captures_dir().join("uefi6-http-dnsmasq.pcap")).unwrap();
    let packets: Vec<Udp> = read_pcap_udp(&bytes).into_iter().filter(is_dhcp6).collect();
    let messages: Vec<Message<&[u8]>> = packets
        .iter()
        .map(|u| Message::new_checked(&u.payload[..]).unwrap())
        .collect();
    // The HTTP Boot ADVERTISE: an address, option 59 and "HTTPClient" together.
    let adv = messages
        .iter()
        .find(|m| {
            m.msg_type() == MessageType::Advertise
                && m.vendor_class()
                    .unwrap()
                    .is_some_and(|v| v.is_http_client())
        })
        .unwrap();
    assert_eq!(adv.preference().unwrap(), Some(255));
    assert!(adv.ia_na().unwrap().unwrap().address().unwrap().is_some());
    assert_eq!(
        adv.boot_file_url().unwrap().unwrap().as_str(),
        Some("http://[fd00:77::1]/ipxe.efi")
    );
    // The HTTP Boot SOLICIT says x64 HTTP in option 61 and again in 16.
    let solicit = messages
        .iter()
        .find(|m| {
            m.msg_type() == MessageType::Solicit
                && m.vendor_class()
                    .unwrap()
                    .is_some_and(|v| v.is_http_client())
        })
        .unwrap();
    assert_eq!(
        solicit.client_arch().unwrap().unwrap().first(),
        ClientArch::X64_UEFI_HTTP
    );
    assert_eq!(
        solicit
            .vendor_class()
            .unwrap()
            .unwrap()
            .info()
            .unwrap()
            .arch,
        Some(16)
    );
    // One machine, two DUIDs: EDK2's GUID order, iPXE's SMBIOS order.
    let duids: Vec<_> = messages
        .iter()
        .filter(|m| m.msg_type() == MessageType::Solicit)
        .map(|m| m.client_id().unwrap().unwrap().uuid().unwrap())
        .collect();
    let (edk2, ipxe) = (duids.first().unwrap(), duids.last().unwrap());
    assert_ne!(edk2.bytes, ipxe.bytes);
    assert_eq!(edk2.swapped(), ipxe.bytes);
}
