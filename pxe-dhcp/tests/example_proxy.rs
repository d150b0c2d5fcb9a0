//! The `proxy_dhcp` example's reply function against dnsmasq 2.90: every
//! captured client request of the proxy-mode captures is fed to it, with
//! the configuration dnsmasq ran, and each reply must be the one dnsmasq
//! sent, byte for byte, to the same address and port; where dnsmasq sent
//! nothing (the client's exchange with the network's own DHCP server), the
//! example must send nothing either.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;
#[path = "../examples/proxy_dhcp/reply.rs"]
mod reply;

use std::net::{Ipv4Addr, SocketAddrV4};

use common::*;
use pxe_dhcp::{Packet, code};
use pxe_rules::{Config, Context, Port};

const SEED_PROXY: &str = include_str!("../../conf/seed-proxy.conf");
const SEED_PROXY_PHP: &str = include_str!("../../conf/seed-proxy-php.conf");

/// The UEFI captures' configuration (see `captures/README.md`).
const UEFI_PROXY: &str = "dhcp-match=set:ipxe,175
dhcp-range=192.168.2.0,proxy
dhcp-boot=tag:ipxe,http://192.168.2.1/boot.ipxe
pxe-service=tag:!ipxe,x86-64_EFI,\"UEFI iPXE\",ipxe.efi
";

/// The same with a two-entry menu and a prompt.
const UEFI_PROXY_MENU: &str = "dhcp-match=set:ipxe,175
dhcp-range=192.168.2.0,proxy
dhcp-boot=tag:ipxe,http://192.168.2.1/boot.ipxe
pxe-prompt=\"uefi-boot menu\",2
pxe-service=tag:!ipxe,x86-64_EFI,\"UEFI iPXE (first entry)\",ipxe.efi
pxe-service=tag:!ipxe,x86-64_EFI,\"UEFI iPXE again (second entry)\",ipxe.efi
";

const NETMASK: Ipv4Addr = Ipv4Addr::new(255, 255, 255, 0);

fn is_reply(u: &Udp) -> bool {
    u.payload.first() == Some(&2)
}

fn xid(u: &Udp) -> &[u8] {
    &u.payload[4..8]
}

/// The proxy's address in a capture: the sender of the replies that carry
/// option 60 `PXEClient` (the network's own DHCP server sends none). The
/// example is told this address, so the server identifier, the boot
/// server and the destination come from the capture, not from the test.
fn proxy_address(packets: &[Udp]) -> Ipv4Addr {
    packets
        .iter()
        .filter(|u| is_reply(u))
        .find(|u| {
            Packet::new_checked(&u.payload[..])
                .unwrap()
                .option(code::VENDOR_CLASS)
                == Some(&b"PXEClient"[..])
        })
        .map(|u| u.src4())
        .expect("the capture has proxy replies")
}

/// Replays `capture` through the example with `conf`; returns how many
/// replies were compared.
fn replay(capture: &str, conf: &str) -> usize {
    let config = Config::parse_str(conf, capture).unwrap();
    let bytes = std::fs::read(captures_dir().join(capture)).unwrap();
    let packets: Vec<Udp> = read_pcap_udp(&bytes).into_iter().filter(is_dhcp).collect();
    let server = proxy_address(&packets);
    let mut compared = 0;
    for (i, req) in packets.iter().enumerate() {
        if is_reply(req) {
            continue;
        }
        let port = if req.dport == 4011 {
            Port::Pxe
        } else {
            Port::Dhcp
        };
        let ctx = Context::new(server, NETMASK).with_port(port);
        let from = SocketAddrV4::new(req.src4(), req.sport);
        let mut out = [0u8; 1500];
        let ours = reply::answer(&config, &ctx, &req.payload, from, &mut out);
        // dnsmasq's answer: its reply with this xid from the port asked,
        // before the client repeats the request.
        let theirs = packets[i + 1..]
            .iter()
            .take_while(|u| is_reply(u) || xid(u) != xid(req) || u.dport != req.dport)
            .find(|u| {
                is_reply(u) && u.src4() == server && xid(u) == xid(req) && u.sport == req.dport
            });
        let request = Packet::new_checked(&req.payload[..]).unwrap();
        let ctx = format!("{capture} packet {i}, request:\n{request}");
        match (ours, theirs) {
            (None, None) => {}
            (Some((len, to)), Some(want)) => {
                let got = Packet::new_checked(&out[..len]).unwrap();
                let dnsmasq = Packet::new_checked(&want.payload[..]).unwrap();
                // pxe-rules' one documented deviation (Decision::next_server):
                // a proxy reply with a boot file but no server names this
                // server as next server, where dnsmasq says 0.0.0.0 and iPXE
                // then ignores the offer. Substituted, not ignored.
                let mut expected = want.payload.clone();
                if dnsmasq.siaddr().is_unspecified()
                    && dnsmasq.yiaddr().is_unspecified()
                    && dnsmasq.file().is_some()
                {
                    expected[20..24].copy_from_slice(&server.octets());
                }
                assert_eq!(
                    &out[..len],
                    &expected[..],
                    "{ctx}\nours:\n{got}\ndnsmasq's:\n{dnsmasq}"
                );
                assert_eq!(to, SocketAddrV4::new(want.dst4(), want.dport), "{ctx}");
                compared += 1;
            }
            (Some((len, _)), None) => panic!(
                "{ctx}\ndnsmasq did not answer, the example did:\n{}",
                Packet::new_checked(&out[..len]).unwrap()
            ),
            (None, Some(want)) => panic!(
                "{ctx}\nthe example did not answer, dnsmasq did:\n{}",
                Packet::new_checked(&want.payload[..]).unwrap()
            ),
        }
    }
    compared
}

#[test]
fn stock_rom_proxy_replies_are_dnsmasqs() {
    // Two OFFERs to DISCOVERs, four ACKs on 4011 (iPXE's ProxyDHCP REQUEST).
    assert_eq!(replay("stock-rom_proxy.dhcp.pcap", SEED_PROXY), 6);
}

#[test]
fn plain_rom_proxy_replies_are_dnsmasqs() {
    // OFFERs with the menu, the boot-server ACK (sub-option 71), then
    // undionly's (iPXE's) proxy exchanges.
    assert_eq!(replay("plain-rom_proxy.dhcp.pcap", SEED_PROXY), 8);
}

#[test]
fn uefi_pxe_proxy_replies_are_dnsmasqs() {
    // EDK2's OFFER (no menu: one UEFI service), its REQUEST on 4011
    // answered with the file, then iPXE's OFFER with the script URL.
    assert_eq!(replay("uefi-pxe-proxy-dnsmasq.pcap", UEFI_PROXY), 3);
    assert_eq!(
        replay("uefi-pxe-proxy-menu-dnsmasq.pcap", UEFI_PROXY_MENU),
        4
    );
}

#[test]
fn proxy_php_replies_are_dnsmasqs() {
    // dnsmasq leaves next-server 0.0.0.0 when dhcp-boot names no server;
    // the example names itself (see the substitution in `replay`).
    for capture in [
        "stock-rom_proxy-php.dhcp.pcap",
        "plain-rom_proxy-php.dhcp.pcap",
    ] {
        assert!(replay(capture, SEED_PROXY_PHP) >= 6, "{capture}");
    }
    let next_server = SEED_PROXY_PHP.replace("${uuid}\n", "${uuid},,192.168.2.1\n");
    assert_ne!(next_server, SEED_PROXY_PHP);
    for capture in [
        "stock-rom_proxy-php-nextserver.dhcp.pcap",
        "plain-rom_proxy-php-nextserver.dhcp.pcap",
    ] {
        assert!(replay(capture, &next_server) >= 2, "{capture}");
    }
}
