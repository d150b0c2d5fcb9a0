//! Reply delivery on the wire (RFC 2131 §4.1, as dnsmasq does it): a
//! client with no address that did not set the broadcast flag gets its
//! OFFER and ACK unicast to `yiaddr` in a frame addressed to its own MAC
//! (the server writes the neighbour entry first); with the flag, or with a
//! hardware type the neighbour table cannot hold, the reply is broadcast
//! to ff:ff:ff:ff:ff:ff; a NAK is broadcast with the flag set. Seen by
//! dumpcap in the client's namespace, read back with tshark.
//!
//! Needs root and: ip, dumpcap, tshark.
#![allow(clippy::unwrap_used, clippy::panic, clippy::expect_used)]

mod support;

use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use pxe_dhcp::{MessageType, Packet, code};
use support::*;

const SRV: &str = "10.78.0.1/24";
const SRV_IP: Ipv4Addr = Ipv4Addr::new(10, 78, 0, 1);

/// One frame from the server as tshark decodes it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Frame {
    eth_dst: String,
    ip_dst: String,
    broadcast_flag: bool,
    message: String,
    chaddr: String,
}

/// The server's DHCP frames in the capture at `file`.
fn frames(file: &Path) -> Vec<Frame> {
    need_tool("tshark");
    let out = Command::new("tshark")
        .args(["-r", file.to_str().unwrap(), "-Y"])
        .arg(format!("ip.src == {SRV_IP} && dhcp"))
        .args(["-T", "fields", "-E", "separator=|"])
        .args(["-e", "eth.dst", "-e", "ip.dst", "-e", "dhcp.flags.bc"])
        .args(["-e", "dhcp.option.dhcp", "-e", "dhcp.hw.mac_addr"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('|').collect();
            Frame {
                eth_dst: f[0].to_string(),
                ip_dst: f[1].to_string(),
                broadcast_flag: matches!(f[2], "1" | "True" | "true"),
                message: f[3].to_string(),
                chaddr: f.get(4).unwrap_or(&"").to_string(),
            }
        })
        .collect()
}

/// From a client with no address, flag as given: a DISCOVER, then a
/// REQUEST (SELECTING) for `addr`. Neither reply can reach the client's
/// socket when it is unicast to an address the client does not have yet
/// (only the capture sees it), so nothing is awaited but a short pause.
fn exchange(htype: u8, mac: [u8; 6], xid: u32, broadcast: bool, addr: Ipv4Addr) {
    let s = client_socket(68);
    let bcast = SocketAddrV4::new(Ipv4Addr::BROADCAST, 67);
    let (a, sid) = (addr.octets(), SRV_IP.octets());
    for (ty, options) in [
        (MessageType::Discover, vec![]),
        (
            MessageType::Request,
            vec![(code::REQUESTED_IP, &a[..]), (code::SERVER_ID, &sid[..])],
        ),
    ] {
        let m = Msg {
            ty,
            xid,
            mac,
            ciaddr: Ipv4Addr::UNSPECIFIED,
            broadcast,
            options,
        };
        let mut bytes = m.encode();
        bytes[1] = htype;
        s.send_to(&bytes, bcast).unwrap();
        let _ = recv_xid(&s, xid, Duration::from_millis(500));
    }
}

#[test]
fn unicast_offer_reaches_the_clients_mac_and_broadcast_falls_back() {
    need_tool("dumpcap");
    let dir = tempfile::tempdir().unwrap();
    let lab = Lab::new(&[SRV, ""]);
    let conf = dir.path().join("pxe.conf");
    std::fs::write(
        &conf,
        format!(
            "dhcp-range=10.78.0.100,10.78.0.150,10m\ndhcp-authoritative\ndhcp-leasefile={}\n",
            dir.path().join("leases").display()
        ),
    )
    .unwrap();
    let log = dir.path().join("server.log");
    let _server = start_server(&lab.members[0], &conf, &[], &log);
    wait_log(&log, "DHCP listening on UDP 67", Duration::from_secs(10));
    let cap_dir = dir.path().join("cap");
    std::fs::create_dir_all(&cap_dir).unwrap();
    let cap = Capture::start(&lab.members[1], &cap_dir, "udp port 67 or udp port 68");
    let mac = String::from_utf8(
        lab.members[1]
            .run(&["cat", "/sys/class/net/eth0/address"])
            .stdout,
    )
    .unwrap()
    .trim()
    .to_string();
    let own: [u8; 6] = {
        let v: Vec<u8> = mac
            .split(':')
            .map(|h| u8::from_str_radix(h, 16).unwrap())
            .collect();
        v.try_into().unwrap()
    };
    let other = [0x02, 0x78, 0, 0, 0, 0x42];
    let ns = lab.members[1].name.clone();
    enter_ns(&ns, move || {
        // No broadcast flag, Ethernet: unicast to the client's MAC.
        exchange(1, own, 0x7801, false, Ipv4Addr::new(10, 78, 0, 121));
        // Broadcast flag: broadcast.
        exchange(1, other, 0x7802, true, Ipv4Addr::new(10, 78, 0, 122));
        // No flag, but a hardware type the neighbour table cannot hold
        // (IEEE 802, 6): the broadcast fallback.
        let ieee802 = [0x02, 0x78, 0, 0, 0, 0x43];
        exchange(6, ieee802, 0x7803, false, Ipv4Addr::new(10, 78, 0, 123));
        // A new client's INIT-REBOOT for a foreign network: NAK, broadcast
        // with the flag although the request had none.
        let s = client_socket(68);
        let m = Msg {
            ty: MessageType::Request,
            xid: 0x7804,
            mac: [0x02, 0x78, 0, 0, 0, 0x44],
            ciaddr: Ipv4Addr::UNSPECIFIED,
            broadcast: false,
            options: vec![(code::REQUESTED_IP, &[192, 0, 2, 9][..])],
        };
        s.send_to(&m.encode(), SocketAddrV4::new(Ipv4Addr::BROADCAST, 67))
            .unwrap();
        let (nak, _) = recv_xid(&s, 0x7804, Duration::from_secs(3)).expect("no NAK");
        let p = Packet::new_checked(&nak[..]).unwrap();
        assert_eq!(p.message_type().unwrap(), Some(MessageType::Nak));
        assert_eq!(p.option(56), Some(&b"wrong network"[..]));
    });
    let n = cap.check_server_replies(SRV_IP);
    assert!(n >= 7, "server frames seen: {n}");
    let seen = frames(&cap_dir.join("cap.pcapng"));
    let of = |xid_mac: &str, msg: &str| {
        seen.iter()
            .find(|f| f.chaddr == xid_mac && f.message == msg)
            .unwrap_or_else(|| panic!("no {msg} for {xid_mac} in {seen:#?}"))
            .clone()
    };
    for msg in ["2", "5"] {
        let f = of(&mac, msg);
        assert_eq!(
            f.eth_dst, mac,
            "OFFER/ACK framed to the client's MAC: {f:?}"
        );
        assert!(f.ip_dst.starts_with("10.78.0."), "to yiaddr: {f:?}");
        assert!(!f.broadcast_flag, "{f:?}");
        let f = of("02:78:00:00:00:42", msg);
        assert_eq!(f.eth_dst, "ff:ff:ff:ff:ff:ff", "{f:?}");
        assert_eq!(f.ip_dst, "255.255.255.255", "{f:?}");
        let f = of("02:78:00:00:00:43", msg);
        assert_eq!(f.eth_dst, "ff:ff:ff:ff:ff:ff", "fallback: {f:?}");
    }
    let nak = of("02:78:00:00:00:44", "6");
    assert_eq!(nak.eth_dst, "ff:ff:ff:ff:ff:ff", "{nak:?}");
    assert!(nak.broadcast_flag, "RFC 2131 §4.3.2: {nak:?}");
}
