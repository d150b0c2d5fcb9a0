//! The `proxy_dhcp` example on a real link, beside busybox udhcpd, in
//! network namespaces this test creates: a scripted PXE ROM gets its
//! address from udhcpd and the PXE menu from the example's proxy OFFER,
//! then asks the boot server the menu names (the example, on UDP 4011)
//! and gets the boot file; a scripted iPXE gets the proxy OFFER and the
//! example's ProxyDHCP ACK on 4011. The example runs its own `serve` loop
//! on a thread inside the server's namespace.
//!
//! Needs root, ip and busybox.
#![allow(clippy::unwrap_used, clippy::panic)]

#[path = "../../pxe-server/tests/support/client.rs"]
mod client;
#[path = "../examples/proxy_dhcp/main.rs"]
#[allow(dead_code)]
mod example;
#[path = "../../pxe-server/tests/support/netns.rs"]
mod netns;

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use client::{Msg, client_socket, recv_xid};
use netns::{ChildGuard, Lab, need_tool, sh};
use pxe_dhcp::{MessageType, Packet, code, pxe::DiscoveryControl};
use pxe_rules::{Config, Context};

const SERVER: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 1);
const NETMASK: Ipv4Addr = Ipv4Addr::new(255, 255, 255, 0);

/// Every reply to one DISCOVER (sent up to three times) within 1.5 s each.
fn discover(mac: [u8; 6], xid: u32, options: &[(u8, &[u8])]) -> Vec<(Vec<u8>, SocketAddr)> {
    let s = client_socket(68);
    let d = Msg {
        ty: MessageType::Discover,
        xid,
        mac,
        ciaddr: Ipv4Addr::UNSPECIFIED,
        broadcast: false,
        options: options.to_vec(),
    };
    let mut replies = Vec::new();
    for _ in 0..3 {
        s.send_to(&d.encode(), SocketAddrV4::new(Ipv4Addr::BROADCAST, 67))
            .unwrap();
        let start = std::time::Instant::now();
        while start.elapsed() < Duration::from_millis(1500) {
            if let Some(r) = recv_xid(&s, xid, Duration::from_millis(200)) {
                replies.push(r);
            }
        }
        if replies.len() >= 2 {
            break;
        }
    }
    replies
}

/// A REQUEST from `ip` to the boot server on 4011, and its answer.
fn ask_4011(
    mac: [u8; 6],
    ip: Ipv4Addr,
    xid: u32,
    options: &[(u8, &[u8])],
) -> Option<(Vec<u8>, SocketAddr)> {
    let s = UdpSocket::bind(SocketAddrV4::new(ip, 0)).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let r = Msg {
        ty: MessageType::Request,
        xid,
        mac,
        ciaddr: ip,
        broadcast: false,
        options: options.to_vec(),
    };
    (0..5).find_map(|_| {
        s.send_to(&r.encode(), SocketAddrV4::new(SERVER, 4011))
            .unwrap();
        recv_xid(&s, xid, Duration::from_millis(600))
    })
}

fn show(replies: &[(Vec<u8>, SocketAddr)]) -> String {
    replies
        .iter()
        .map(|(r, from)| format!("from {from}:\n{}\n", Packet::new_checked(&r[..]).unwrap()))
        .collect()
}

#[test]
fn pxe_rom_and_ipxe_boot_from_the_example_beside_udhcpd() {
    need_tool("busybox");
    let dir = std::env::temp_dir().join(netns::unique("pxe-dhcp-example-"));
    std::fs::create_dir_all(&dir).unwrap();
    // The example's namespace, udhcpd's, and the PXE client's.
    let lab = Lab::new(&["10.77.0.1/24", "10.77.0.2/24", ""]);
    // The route the example's usage asks for (std cannot pick the
    // interface of a broadcast).
    sh(&[
        "ip",
        "-n",
        &lab.members[0].name,
        "route",
        "add",
        "255.255.255.255/32",
        "dev",
        "eth0",
    ]);

    let conf = include_str!("../../conf/seed-proxy.conf").replace("192.168.2.0", "10.77.0.0");
    let config = Config::parse_str(&conf, "seed-proxy.conf").unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let stop_example = stop.clone();
    let example = lab.members[0]
        .spawn(move || example::serve(&config, Context::new(SERVER, NETMASK), true, &stop_example));

    let uconf = dir.join("udhcpd.conf");
    std::fs::write(dir.join("udhcpd.leases"), b"").unwrap();
    std::fs::write(
        &uconf,
        format!(
            "start 10.77.0.100\nend 10.77.0.120\ninterface eth0\nlease_file {}\npidfile {}\noption subnet 255.255.255.0\n",
            dir.join("udhcpd.leases").display(),
            dir.join("udhcpd.pid").display()
        ),
    )
    .unwrap();
    let _udhcpd = ChildGuard(Some(
        lab.members[1]
            .cmd(&["busybox", "udhcpd", "-f", uconf.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    ));
    std::thread::sleep(Duration::from_millis(500));

    let mac = [0x52, 0x54, 0, 0xaa, 0xbb, 0x01];
    let (rom_replies, rom_ack, ipxe_replies, ipxe_ack) = lab.members[2].enter(move || {
        let rom: Vec<(u8, &[u8])> = vec![
            (55, &[1, 3, 43, 60, 66, 67, 97]),
            (60, b"PXEClient:Arch:00000:UNDI:002001"),
            (93, &[0, 0]),
            (94, &[1, 2, 1]),
            (97, &[0; 17]),
        ];
        let mut ipxe = rom.clone();
        ipxe.push((175, &[0x13, 1, 1]));
        ipxe.push((77, b"iPXE"));
        let ipxe_mac = [0x52, 0x54, 0, 0xaa, 0xbb, 0x02];
        // iPXE (option 175) gets no menu from this configuration...
        let ipxe_replies = discover(ipxe_mac, 0xbcd, &ipxe);
        // A PXE ROM: DISCOVER, take udhcpd's address, ask the boot server
        // the menu lists.
        let replies = discover(mac, 0xabc, &rom);
        let packets: Vec<Packet<&[u8]>> = replies
            .iter()
            .map(|(r, _)| Packet::new_checked(&r[..]).unwrap())
            .collect();
        let Some(ip) = packets
            .iter()
            .map(|p| p.yiaddr())
            .find(|a| !a.is_unspecified())
        else {
            return (replies, None, ipxe_replies, None);
        };
        sh(&["ip", "addr", "add", &format!("{ip}/24"), "dev", "eth0"]);
        std::thread::sleep(Duration::from_millis(300));
        let listed = packets.iter().find_map(|p| {
            let servers = p.pxe_options().ok()??.boot_servers().ok()??;
            servers.iter().next()?.addresses().next()
        });
        let mut ack = None;
        if listed == Some(SERVER) {
            let mut asked = rom.clone();
            asked.push((43, &[71, 4, 0x80, 0, 0, 0, 255]));
            ack = ask_4011(mac, ip, 0xabd, &asked);
        }
        drop(packets);
        // ...so, once it has an address, it asks the proxy on 4011.
        ipxe.push((code::SERVER_ID, &[10, 77, 0, 1]));
        let ipxe_ack = ask_4011(ipxe_mac, ip, 0xbce, &ipxe);
        (replies, ack, ipxe_replies, ipxe_ack)
    });
    stop.store(true, Ordering::SeqCst);
    example.join().unwrap().unwrap();
    let _ = std::fs::remove_dir_all(&dir);

    // The ROM heard both servers: udhcpd's address and the example's menu.
    let seen = show(&rom_replies);
    let offer = rom_replies
        .iter()
        .find(|(r, _)| {
            Packet::new_checked(&r[..])
                .unwrap()
                .option(code::VENDOR_CLASS)
                .is_some()
        })
        .unwrap_or_else(|| panic!("no proxy OFFER from the example; replies:\n{seen}"));
    assert_eq!(offer.1, SocketAddr::from((SERVER, 67)), "{seen}");
    let p = Packet::new_checked(&offer.0[..]).unwrap();
    assert_eq!(
        p.message_type().unwrap(),
        Some(MessageType::Offer),
        "{seen}"
    );
    assert_eq!(
        p.yiaddr(),
        Ipv4Addr::UNSPECIFIED,
        "a proxy never offers an address: {seen}"
    );
    assert_eq!(p.server_id().unwrap(), Some(SERVER), "{seen}");
    let menu = p.pxe_options().unwrap().expect("the PXE menu (43)");
    assert_eq!(
        menu.discovery_control().unwrap(),
        Some(DiscoveryControl::from_bits_retain(3)),
        "{seen}"
    );
    assert!(
        rom_replies.iter().any(|(r, _)| !Packet::new_checked(&r[..])
            .unwrap()
            .yiaddr()
            .is_unspecified()),
        "udhcpd offered no address: {seen}"
    );

    // The boot server's ACK: the file, from 4011, yiaddr = the client's address.
    let (ack, from) =
        rom_ack.unwrap_or_else(|| panic!("no boot-server ACK on 4011; DISCOVER replies:\n{seen}"));
    let ack = Packet::new_checked(&ack[..]).unwrap();
    assert_eq!(from, SocketAddr::from((SERVER, 4011)), "{ack}");
    assert_eq!(ack.message_type().unwrap(), Some(MessageType::Ack), "{ack}");
    assert_eq!(ack.file(), Some(&b"undionly.kkpxe"[..]), "{ack}");
    assert_eq!(ack.siaddr(), SERVER, "{ack}");
    assert!(!ack.yiaddr().is_unspecified(), "{ack}");
    let item = ack
        .pxe_options()
        .unwrap()
        .unwrap()
        .boot_item()
        .unwrap()
        .unwrap();
    assert_eq!((item.kind, item.layer), (0x8000, 0), "{ack}");

    // iPXE: the proxy OFFER says "no discovery", then the ProxyDHCP ACK on 4011.
    let seen = show(&ipxe_replies);
    let offer = ipxe_replies
        .iter()
        .map(|(r, _)| Packet::new_checked(&r[..]).unwrap())
        .find(|p| p.option(code::VENDOR_CLASS).is_some())
        .unwrap_or_else(|| panic!("no proxy OFFER for iPXE; replies:\n{seen}"));
    let control = offer
        .pxe_options()
        .unwrap()
        .unwrap()
        .discovery_control()
        .unwrap();
    assert_eq!(control, Some(DiscoveryControl::SKIP_DISCOVERY), "{offer}");
    let (ack, from) = ipxe_ack.expect("no ProxyDHCP ACK on 4011 for iPXE");
    let ack = Packet::new_checked(&ack[..]).unwrap();
    assert_eq!(from, SocketAddr::from((SERVER, 4011)), "{ack}");
    assert_eq!(ack.message_type().unwrap(), Some(MessageType::Ack), "{ack}");
    assert_eq!(ack.yiaddr(), Ipv4Addr::UNSPECIFIED, "{ack}");
    assert!(
        !ack.ciaddr().is_unspecified(),
        "proxy ACK keeps ciaddr: {ack}"
    );
}
