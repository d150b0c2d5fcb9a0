//! Cross-check with a decoder nobody here wrote: builder output goes into a
//! pcap and `tshark -V` must decode it without malformed-packet or expert
//! warnings, showing the fields we wrote. Needs the `tshark` package.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::net::Ipv4Addr;
use std::process::Command;

use pxe_dhcp::pxe::{BootItem, DiscoveryControl};
use pxe_dhcp::{Builder, Flags, MessageType, Op, code, ipxe};

fn offer(buf: &mut [u8]) -> usize {
    let mut b = Builder::new(buf).unwrap();
    b.op(Op::Reply)
        .xid(0x6aa0_e84b)
        .flags(Flags::BROADCAST)
        .siaddr(Ipv4Addr::new(192, 168, 2, 1))
        .yiaddr(Ipv4Addr::new(192, 168, 2, 131))
        .chaddr(1, &[0x52, 0x54, 0x00, 0xb0, 0x07, 0x01])
        .unwrap();
    b.file(b"undionly.kpxe").unwrap();
    b.message_type(MessageType::Offer).unwrap();
    b.server_id(Ipv4Addr::new(192, 168, 2, 1)).unwrap();
    b.lease_time(3600).unwrap();
    b.option(code::VENDOR_CLASS, b"PXEClient").unwrap();
    b.pxe_options(|s| {
        s.discovery_control(DiscoveryControl::NO_BROADCAST | DiscoveryControl::NO_MULTICAST)?
            .boot_servers(&[(0x8000, &[Ipv4Addr::new(192, 168, 2, 1)])])?
            .boot_menu(&[(0x8000, b"splashtop by richud.com")])?
            .menu_prompt(0, b"PXE")?;
        Ok(())
    })
    .unwrap();
    b.encapsulated(code::IPXE_ENCAP, |s| {
        s.u8(ipxe::sub::NO_PXEDHCP, 1)?;
        Ok(())
    })
    .unwrap();
    b.option(code::PXELINUX_CONFIGFILE, b"pxelinux.cfg/default")
        .unwrap();
    b.option(code::PXELINUX_PATHPREFIX, b"http://192.168.2.1:81/")
        .unwrap();
    b.finish().unwrap()
}

fn boot_ack(buf: &mut [u8]) -> usize {
    let mut b = Builder::new(buf).unwrap();
    b.op(Op::Reply).xid(0x0102_0304);
    b.message_type(MessageType::Ack).unwrap();
    b.server_id(Ipv4Addr::new(192, 168, 2, 1)).unwrap();
    b.option(code::VENDOR_CLASS, b"PXEClient").unwrap();
    b.pxe_options(|s| {
        s.boot_item(BootItem {
            kind: 0x8000,
            layer: 0,
        })?;
        Ok(())
    })
    .unwrap();
    b.finish().unwrap()
}

/// A reply to a client without option 57: options overflow into file and sname.
fn overloaded(buf: &mut [u8]) -> usize {
    let mut b = Builder::new(buf).unwrap();
    b.op(Op::Reply).xid(0x0a0b_0c0d).max_message_size(576);
    b.message_type(MessageType::Ack).unwrap();
    b.server_id(Ipv4Addr::new(192, 168, 2, 1)).unwrap();
    for i in 0..7u8 {
        b.option(224 + i, &[b'a' + i; 60]).unwrap();
    }
    let n = b.finish().unwrap();
    let p = pxe_dhcp::Packet::new_checked(&buf[..n]).unwrap();
    assert_eq!(p.overload(), 3);
    n
}

#[test]
fn tshark_decodes_builder_output_cleanly() {
    let tshark = ["/usr/bin/tshark", "/usr/local/bin/tshark"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .unwrap_or_else(|| panic!("tshark is required for this test: apt-get install -y tshark"));
    let (mut a, mut b, mut c) = ([0u8; 1500], [0u8; 1500], [0u8; 1500]);
    let na = offer(&mut a);
    let nb = boot_ack(&mut b);
    let nc = overloaded(&mut c);
    let pcap = common::write_pcap(&[(67, 68, &a[..na]), (4011, 68, &b[..nb]), (67, 68, &c[..nc])]);
    let dir = std::env::temp_dir().join(format!("pxe-dhcp-tshark-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("built.pcap");
    std::fs::write(&file, pcap).unwrap();
    let out = Command::new(tshark)
        .args(["-n", "-r"])
        .arg(&file)
        .args(["-V", "-d", "udp.port==4011,dhcp"])
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "tshark failed: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Notes are informational (tshark notes the overload); warnings and
    // errors are what a malformed packet produces.
    for bad in [
        "Malformed",
        "malformed",
        "Expert Info (Warning",
        "Expert Info (Error",
        "Bad checksum",
    ] {
        assert!(!text.contains(bad), "tshark reports {bad:?}:\n{text}");
    }
    let expect = [
        "Transaction ID: 0x6aa0e84b",
        "Bootp flags: 0x8000, Broadcast flag (Broadcast)",
        "Your (client) IP address: 192.168.2.131",
        "Next server IP address: 192.168.2.1",
        "Client MAC address: 52:54:00:b0:07:01",
        "Boot file name: undionly.kpxe",
        "DHCP: Offer (2)",
        "DHCP Server Identifier: 192.168.2.1",
        "IP Address Lease Time: (3600s) 1 hour",
        "Vendor class identifier: PXEClient",
        "discovery control: 0x03, Disable Broadcast, Disable Multicast",
        "PXE menu prompt",
        "splashtop by richud.com",
        "Option: (175) Etherboot",
        "PXELINUX configuration file: pxelinux.cfg/default",
        "Option: (210) PXE Path Prefix",
        "PXELINUX path prefix: http://192.168.2.1:81/",
        "boot servers: 800001c0a80201",
        "IP count: 1",
        "menu prompt: 00505845",
        "Value: b00101",
        "Transaction ID: 0x01020304",
        "DHCP: ACK (5)",
        "boot item: 80000000",
        "Transaction ID: 0x0a0b0c0d",
        "Option Overload: Boot file and server host names hold options (3)",
        "Boot file name option overloaded by DHCP",
        "Server name option overloaded by DHCP",
    ];
    let missing: Vec<_> = expect.iter().filter(|e| !text.contains(*e)).collect();
    assert!(
        missing.is_empty(),
        "tshark output lacks {missing:?}:\n{text}"
    );
    // The overloaded options are found by tshark in file and sname too.
    for i in 0..7 {
        assert!(
            text.contains(&format!("Option: ({})", 224 + i)),
            "option {} missing:\n{text}",
            224 + i
        );
    }
}
