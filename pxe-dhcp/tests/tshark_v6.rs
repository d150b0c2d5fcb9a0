//! Cross-check with a decoder nobody here wrote: DHCPv6 builder output
//! goes into an IPv6/UDP pcap and `tshark -V` must decode it without
//! malformed-packet or expert warnings, showing the fields we wrote.
//! Needs the `tshark` package.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::net::Ipv6Addr;
use std::process::Command;

use pxe_dhcp::v6::{
    Builder, Duid, ENTERPRISE_INTEL, FqdnFlags, Message, MessageType, RelayBuilder, RelayHeader,
    RelayMessage, Status, TransactionId,
};

fn ip(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

const SERVER_DUID: [u8; 14] = [0, 1, 0, 1, 0x32, 0xa2, 0x76, 0x66, 2, 0, 0, 0x77, 0, 1];
const CLIENT_UUID: [u8; 16] = [
    0x1e, 0, 0x17, 0, 0, 0x8c, 0xad, 0, 0x50, 0x87, 0x90, 0xe6, 0xba, 0x2f, 0x34, 0x23,
];

/// The SOLICIT of EDK2 HTTP Boot, to answer.
fn solicit(buf: &mut [u8]) -> usize {
    let mut b = Builder::new(
        buf,
        MessageType::Solicit,
        TransactionId::new(0x8222e1).unwrap(),
    )
    .unwrap();
    b.client_id(&Duid::from_uuid(CLIENT_UUID)).unwrap();
    b.ia_na(0xeab96c74, u32::MAX, u32::MAX, |_| Ok(())).unwrap();
    b.vendor_class(ENTERPRISE_INTEL, &[b"HTTPClient:Arch:00016:UNDI:003000"])
        .unwrap();
    b.finish().unwrap()
}

/// ADVERTISE with IA_NA/IAADDR, 59, 16 HTTPClient and 23, as reply_to starts it.
fn advertise(request: &Message<&[u8]>, buf: &mut [u8]) -> usize {
    let mut b = Builder::reply_to(request, MessageType::Advertise, buf).unwrap();
    b.server_id(&SERVER_DUID).unwrap();
    b.ia_na(0xeab96c74, 1800, 3150, |ia| {
        ia.ia_addr_with(ip("fd00:77::113"), 3600, 7200, |a| {
            a.status_code(Status::Success, "assigned")?;
            Ok(())
        })?;
        Ok(())
    })
    .unwrap();
    b.status_code(Status::Success, "success").unwrap();
    b.preference(255).unwrap();
    b.boot_file_url(b"http://[fd00:77::1]/ipxe.efi").unwrap();
    b.vendor_class(ENTERPRISE_INTEL, &[b"HTTPClient"]).unwrap();
    b.dns_servers(&[ip("fd00:77::1"), ip("fd00:77::53")])
        .unwrap();
    b.domain_list(&["lab.example.com", "example.com"]).unwrap();
    b.finish().unwrap()
}

/// REPLY with vendor options, boot parameters, FQDN and rapid commit.
fn reply(request: &Message<&[u8]>, buf: &mut [u8]) -> usize {
    let mut b = Builder::reply_to(request, MessageType::Reply, buf).unwrap();
    b.server_id(&SERVER_DUID).unwrap();
    b.rapid_commit().unwrap();
    b.ia_na(0xeab96c74, 0, 0, |ia| {
        ia.status_code(Status::NoAddrsAvail, "no addresses")?;
        Ok(())
    })
    .unwrap();
    b.boot_file_url(b"tftp://[fd00:77::1]/ipxe.efi").unwrap();
    b.boot_file_params(&[b"quiet", b"console=ttyS0"]).unwrap();
    b.vendor_opts(ENTERPRISE_INTEL, |v| {
        v.option(1, b"\x01\x02")?;
        Ok(())
    })
    .unwrap();
    b.fqdn(FqdnFlags::SERVER_UPDATES, "host.lab.example.com")
        .unwrap();
    b.finish().unwrap()
}

/// RELAY-REPL around a REPLY, started from a RELAY-FORW with interface-id.
fn relay_reply(client: &[u8], buf: &mut [u8]) -> usize {
    let header = RelayHeader {
        hop_count: 0,
        link_address: ip("fd00:77::1"),
        peer_address: ip("fe80::5054:ff:feef:601"),
    };
    let mut forw = [0u8; 512];
    let mut r = RelayBuilder::new(&mut forw, MessageType::RelayForw, header).unwrap();
    r.interface_id(b"eth1").unwrap();
    r.client_link_layer_address(1, &[0x52, 0x54, 0, 0xef, 6, 1])
        .unwrap();
    let n = r.relay_message(client).unwrap();
    let forw = RelayMessage::new_checked(&forw[..n]).unwrap();
    let mut b = Builder::relay_reply_to(&forw, MessageType::Reply, buf).unwrap();
    b.server_id(&SERVER_DUID).unwrap();
    b.boot_file_url(b"http://[fd00:77::1]/boot.ipxe").unwrap();
    b.finish().unwrap()
}

#[test]
fn tshark_decodes_dhcpv6_builder_output_cleanly() {
    let tshark = ["/usr/bin/tshark", "/usr/local/bin/tshark"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .unwrap_or_else(|| panic!("tshark is required for this test: apt-get install -y tshark"));
    let mut req = [0u8; 512];
    let n = solicit(&mut req);
    let request = Message::new_checked(&req[..n]).unwrap();
    let (mut a, mut b, mut c) = ([0u8; 1232], [0u8; 1232], [0u8; 1232]);
    let na = advertise(&request, &mut a);
    let nb = reply(&request, &mut b);
    let nc = relay_reply(&req[..n], &mut c);
    let pcap = common::write_pcap6(&[
        (546, 547, &req[..n]),
        (547, 546, &a[..na]),
        (547, 546, &b[..nb]),
        (547, 547, &c[..nc]),
    ]);
    let dir = std::env::temp_dir().join(format!("pxe-dhcp-tshark6-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("built6.pcap");
    std::fs::write(&file, pcap).unwrap();
    let out = Command::new(tshark)
        .args(["-n", "-r"])
        .arg(&file)
        .args(["-V", "-o", "udp.check_checksum:TRUE"])
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "tshark failed: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    for bad in [
        "Malformed",
        "malformed",
        "Expert Info (Warning",
        "Expert Info (Error",
        "Bad checksum",
        "[Checksum Status: Bad]",
    ] {
        assert!(!text.contains(bad), "tshark reports {bad:?}:\n{text}");
    }
    // tshark 4.0's DHCPv6 dissector stops silently at an option whose
    // length overruns its parent (no "Malformed"), so the fields of the
    // last options of each message, and the lengths, are checked too.
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let expect = [
        "Message type: Solicit (1)",
        "vendor-class-data: HTTPClient:Arch:00016:UNDI:003000",
        // ADVERTISE
        "Message type: Advertise (2)",
        "Transaction ID: 0x8222e1",
        "DUID: 00041e001700008cad00508790e6ba2f3423",
        "UUID: 1e001700008cad00508790e6ba2f3423",
        "DUID Type: link-layer address plus time (1)",
        "Link-layer address: 02:00:00:77:00:01",
        "Option: Identity Association for Non-temporary Address (3)",
        "IAID: eab96c74",
        "T1: 1800",
        "T2: 3150",
        "Option: IA Address (5)",
        "IPv6 address: fd00:77::113",
        "Preferred lifetime: 3600",
        "Valid lifetime: 7200",
        "Status Message: assigned",
        "Status Code: Success (0)",
        "Status Message: success",
        "Pref-value: 255",
        "Option: Boot File URL (59)",
        "Enterprise ID: Intel Corporation (343)",
        "vendor-class-data: HTTPClient",
        "1 DNS server address: fd00:77::1",
        "2 DNS server address: fd00:77::53",
        "List entry: lab.example.com.",
        "List entry: example.com.",
        // REPLY
        "Message type: Reply (7)",
        "Option: Rapid Commit (14)",
        "Status Code: NoAddrAvail (2)",
        "Status Message: no addresses",
        "Option: Boot File Parameters (60)",
        "Option: Vendor-specific Information (17)",
        "Option data: 0102",
        "Client Domain Name: host.lab.example.com.",
        ".... ...1 = S bit: Server SHOULD perform AAAA RR updates",
        // RELAY-REPL
        "Message type: Relay-reply (13)",
        "Hopcount: 0",
        "Link address: fd00:77::1",
        "Peer address: fe80::5054:ff:feef:601",
        "Interface-ID: 65746831",
        "Option: Relay Message (9)",
    ];
    let missing: Vec<_> = expect.iter().filter(|e| !lines.contains(e)).collect();
    assert!(
        missing.is_empty(),
        "tshark output lacks {missing:?}:\n{text}"
    );
    // Lengths tshark read back from what the builder back-patched.
    for (option, len) in [
        (
            "Option: Identity Association for Non-temporary Address (3)",
            "Length: 54",
        ),
        ("Option: IA Address (5)", "Length: 38"),
        ("Option: Boot File URL (59)", "Length: 28"),
        ("Option: Vendor Class (16)", "Length: 16"),
        ("Option: Relay Message (9)", "Length: 77"),
    ] {
        assert!(
            lines.windows(2).any(|w| w == [option, len]),
            "{option} with {len}:\n{text}"
        );
    }
    assert_eq!(
        lines
            .iter()
            .filter(|l| **l == "[Checksum Status: Good]")
            .count(),
        4,
        "the pcap writer's IPv6 UDP checksums:\n{text}"
    );
    // The relayed REPLY is decoded inside option 9.
    let relay = text.find("Relay-reply (13)").unwrap();
    assert!(text[relay..].contains("Message type: Reply (7)"), "{text}");
}
