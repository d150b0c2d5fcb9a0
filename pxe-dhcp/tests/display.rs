//! `Display` and `Debug` of packets: every captured packet reads with every
//! option by name, two golden renderings (a BIOS PXE ROM's DISCOVER and
//! dnsmasq's proxy OFFER with a boot menu), the shapes of broken packets,
//! and no panic on any input.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::*;
use proptest::prelude::*;
use pxe_dhcp::{Builder, MessageType, Packet, code, names};

/// Every DHCP packet of one capture, in order.
fn capture(name: &str) -> Vec<Vec<u8>> {
    let bytes = std::fs::read(captures_dir().join(name)).unwrap();
    read_pcap_udp(&bytes)
        .into_iter()
        .filter(is_dhcp)
        .map(|u| u.payload)
        .collect()
}

#[test]
fn every_captured_packet_shows_every_option_by_name() {
    let mut files: Vec<_> = std::fs::read_dir(captures_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "pcap"))
        .collect();
    files.sort();
    let mut packets = 0;
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        for (i, bytes) in capture(&name).iter().enumerate() {
            let p = Packet::new_checked(&bytes[..]).unwrap();
            let text = p.to_string();
            let debug = format!("{p:?}");
            let ctx = format!("{name} packet {i}:\n{text}");
            let mt = p.message_type().unwrap().unwrap();
            assert!(
                text.contains(&format!("\n  53 message-type: {mt}\n")),
                "{ctx}"
            );
            for o in p.options() {
                let c = o.unwrap().code;
                let n = names::option_name(c)
                    .unwrap_or_else(|| panic!("{ctx}\noption {c} has no name"));
                assert!(
                    text.contains(&format!("\n  {c} {n}: ")),
                    "{ctx}\noption {c}"
                );
                assert!(debug.contains(&format!("{c} {n}: ")), "{debug}\noption {c}");
            }
            // Every captured value is well formed, so nothing falls back to hex.
            assert!(!text.contains("(bad: "), "{ctx}");
            assert!(!text.contains("options error"), "{ctx}");
            assert!(!text.ends_with('\n'), "{ctx}");
            packets += 1;
        }
    }
    assert_eq!(packets, 169, "every DHCP packet of the 13 captures");
}

/// The first DISCOVER of qemu's iPXE ROM (BIOS, option 175 present).
const BIOS_DISCOVER: &str = "\
BOOTREQUEST xid=0x4b90e230 secs=4 flags=0x0000 hops=0
  chaddr=52:54:00:b0:07:01 ciaddr=0.0.0.0 yiaddr=0.0.0.0 siaddr=0.0.0.0 giaddr=0.0.0.0
  sname=\"\" file=\"\"
  53 message-type: DISCOVER
  57 max-message-size: 1472
  93 client-arch: x86 BIOS (0)
  94 client-ndi: UNDI 2.1
  60 vendor-class: \"PXEClient:Arch:00000:UNDI:002001\"
  77 user-class: \"iPXE\"
  55 parameter-request-list: 1 3 6 7 12 15 17 26 43 60 66 67 119 128 129 130 131 132 133 134 135 175 203
  175 ipxe: [177 bus-id: PCI 8086:100e, 235 version: 1.0.0, 23 dns: 1, 34 elf: 1, 19 http: 1, 17 iscsi: 1, 39 menu: 1, 25 multiboot: 1, 41 nfs: 1, 16 pxe-ext: 2, 33 pxe: 1, 21 tftp: 1, 24 bzimage: 1, 18 aoe: 1]
  61 client-id: type 1 52:54:00:b0:07:01
  97 client-uuid: 0017001e-8c00-00ad-5087-90e6ba2f3423";

/// dnsmasq's proxy OFFER to the plain ROM under the seed's proxy
/// configuration: the PXE menu with one boot server.
const PROXY_OFFER: &str = "\
BOOTREPLY xid=0x6aa0e84b secs=4 flags=0x8000 (broadcast) hops=0
  chaddr=52:54:00:b0:07:01 ciaddr=0.0.0.0 yiaddr=0.0.0.0 siaddr=0.0.0.0 giaddr=0.0.0.0
  sname=\"\" file=\"\"
  53 message-type: OFFER
  54 server-id: 192.168.2.1
  60 vendor-class: \"PXEClient\"
  97 client-uuid: 0017001e-8c00-00ad-5087-90e6ba2f3423
  43 vendor-encapsulated: [6 discovery-control: 3 (no-broadcast, no-multicast), 10 menu-prompt: timeout 0 \"PXE\", 8 boot-servers: [0x8000: 192.168.2.1], 9 boot-menu: [0x8000 \"splashtop by richud.com\"]]";

#[test]
fn golden_bios_discover_and_proxy_offer() {
    let stock = capture("stock-rom_proxy.dhcp.pcap");
    let discover = Packet::new_checked(&stock[0][..]).unwrap();
    assert_eq!(discover.to_string(), BIOS_DISCOVER);

    let plain = capture("plain-rom_proxy.dhcp.pcap");
    let offer = Packet::new_checked(&plain[1][..]).unwrap();
    assert_eq!(offer.to_string(), PROXY_OFFER);
    assert_eq!(
        format!("{offer:?}"),
        "Packet { len: 329, op: Reply, htype: 1, hlen: 6, hops: 0, xid: 0x6aa0e84b, secs: 4, \
         flags: 0x8000, ciaddr: 0.0.0.0, yiaddr: 0.0.0.0, siaddr: 0.0.0.0, giaddr: 0.0.0.0, \
         chaddr: 52:54:00:b0:07:01, sname: \"\", file: \"\", options: [53 message-type: OFFER, \
         54 server-id: 192.168.2.1, 60 vendor-class: \"PXEClient\", 97 client-uuid: \
         0017001e-8c00-00ad-5087-90e6ba2f3423, 43 vendor-encapsulated: [6 discovery-control: 3 \
         (no-broadcast, no-multicast), 10 menu-prompt: timeout 0 \"PXE\", 8 boot-servers: \
         [0x8000: 192.168.2.1], 9 boot-menu: [0x8000 \"splashtop by richud.com\"]]] }"
    );
    // `{:#?}` puts one option per line.
    assert!(format!("{offer:#?}").contains("\n        53 message-type: OFFER,\n"));
}

/// A message built with `f`, as bytes.
fn built(f: impl FnOnce(&mut Builder<'_>) -> Result<(), pxe_dhcp::Error>) -> Vec<u8> {
    let mut buf = [0u8; 1500];
    let mut b = Builder::new(&mut buf).unwrap();
    b.xid(1).chaddr(1, &[2, 0, 0, 0, 0, 1]).unwrap();
    f(&mut b).unwrap();
    let n = b.finish().unwrap();
    buf[..n].to_vec()
}

#[test]
fn split_option_parts_are_numbered() {
    let long = vec![b'x'; 300];
    let bytes = built(|b| {
        b.message_type(MessageType::Ack)?
            .option(code::BOOTFILE_NAME, &long)?;
        Ok(())
    });
    let text = Packet::new_checked(&bytes[..]).unwrap().to_string();
    let first = format!("\n  67 bootfile-name (part 1 of 2): {}\n", "78".repeat(255));
    let second = format!("\n  67 bootfile-name (part 2 of 2): {}", "78".repeat(45));
    assert!(text.contains(&first), "{text}");
    assert!(text.ends_with(&second), "{text}");
}

#[test]
fn broken_values_and_framing_still_read() {
    let mut bytes = built(|b| {
        b.message_type(MessageType::Discover)?
            .option(code::CLIENT_ARCH, &[0])?
            .option(code::VENDOR_CLASS, b"PXEClient")?
            .option(code::VENDOR_SPECIFIC, &[6, 5, 8])?
            .option(224, &[1, 44])?;
        Ok(())
    });
    // A last option that claims more bytes than remain.
    let end = bytes.iter().rposition(|&b| b == 255).unwrap();
    bytes.truncate(end);
    bytes.extend_from_slice(&[12, 9, b'h']);
    let p = Packet::new_lenient(&bytes[..]).unwrap();
    let text = p.to_string();
    assert!(
        text.contains("\n  93 client-arch: 00 (bad: option 93 is 1 bytes long, expected a non-zero multiple of 2)\n"),
        "{text}"
    );
    assert!(
        text.contains("\n  43 vendor-encapsulated: 060508 (bad: sub-option 6 of option 43 at offset 0 claims 5 bytes but only 1 remain)\n"),
        "{text}"
    );
    assert!(text.contains("\n  224: 012c\n"), "{text}");
    assert!(
        text.contains("\n  options error: option 12 at offset"),
        "{text}"
    );
    assert!(format!("{p:?}").contains(", options error: option 12 at offset"));
    assert!(format!("{p:?}").contains("options_error: Overrun"));
}

#[test]
fn plain_bootp_and_overloaded_fields() {
    let mut bytes = built(|b| {
        b.message_type(MessageType::Offer)?;
        Ok(())
    });
    bytes[236..240].fill(0);
    let text = Packet::new_checked(&bytes[..]).unwrap().to_string();
    assert!(
        text.ends_with("\n  (no magic cookie: plain BOOTP, no options)"),
        "{text}"
    );
    assert!(format!("{:?}", Packet::new_checked(&bytes[..]).unwrap()).contains("cookie: false"));

    // Options moved into `file` by option 52 (a small limit forces it).
    let mut buf = [0u8; 1500];
    let mut b = Builder::new(&mut buf).unwrap();
    b.max_message_size(576);
    b.message_type(MessageType::Offer).unwrap();
    b.option(code::ROOT_PATH, &[b'r'; 250]).unwrap();
    b.option(code::HOST_NAME, &[b'h'; 100]).unwrap();
    let n = b.finish().unwrap();
    let p = Packet::new_checked(&buf[..n]).unwrap();
    assert_ne!(p.overload(), 0);
    let text = p.to_string();
    assert!(text.contains("\n  52 overload: "), "{text}");
    assert!(text.contains("(carries options)"), "{text}");
    assert!(
        text.contains(&format!("\n  12 host-name: \"{}\"", "h".repeat(100))),
        "{text}"
    );
}

#[test]
fn hardware_other_than_ethernet_is_shown() {
    let mut bytes = built(|b| {
        b.message_type(MessageType::Discover)?;
        Ok(())
    });
    bytes[1] = 32; // InfiniBand
    bytes[2] = 20; // more than the 16-byte field: shown as sent, chaddr cut
    let text = Packet::new_checked(&bytes[..]).unwrap().to_string();
    assert!(
        text.contains("chaddr=02:00:00:00:00:01:00:00:00:00:00:00:00:00:00:00 htype=32 hlen=20 "),
        "{text}"
    );
}

proptest! {
    /// Any bytes that are long enough for a header render without
    /// panicking, both ways, checked or lenient.
    #[test]
    fn any_packet_renders(body in proptest::collection::vec(any::<u8>(), 0..600), cookie: bool) {
        let mut bytes = vec![0u8; 236];
        if cookie {
            bytes.extend_from_slice(&[99, 130, 83, 99]);
        }
        bytes.extend_from_slice(&body);
        let p = Packet::new_lenient(&bytes[..]).unwrap();
        let text = p.to_string();
        let debug = format!("{p:?}");
        prop_assert!(text.starts_with("op 0 xid=0x00000000"));
        prop_assert!(debug.starts_with("Packet { len: "), "{}", debug);
        if let Ok(p) = Packet::new_checked(&bytes[..]) {
            prop_assert_eq!(p.to_string(), text);
        }
    }

    /// Random option values under every code (but 52, which changes the
    /// layout, and 60, which is already there): whatever the typed view
    /// thinks of them, the line names the option and never panics.
    #[test]
    fn any_option_value_renders(
        c in (1u8..255).prop_filter("52 and 60", |c| *c != 52 && *c != 60),
        value in proptest::collection::vec(any::<u8>(), 0..80),
    ) {
        let bytes = built(|b| {
            b.option(code::VENDOR_CLASS, b"PXEClient")?.option(c, &value)?;
            Ok(())
        });
        let text = Packet::new_checked(&bytes[..]).unwrap().to_string();
        let head = match names::option_name(c) {
            Some(n) => format!("\n  {c} {n}: "),
            None => format!("\n  {c}: "),
        };
        prop_assert!(text.contains(&head), "{}", text);
    }
}
