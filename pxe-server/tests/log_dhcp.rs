//! `log-dhcp` reads like dnsmasq's: the real dnsmasq 2.90 and pxe-server
//! run the same configuration in turn on one namespace lab, get the same
//! request bytes (captured from real firmware), and the lines each logs
//! for that request's xid are compared.
//!
//! Needs root, `ip`, `dnsmasq`; fails with a clear message when missing.

#![allow(clippy::unwrap_used, clippy::panic)]

mod support;
use support::*;

use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

const SERVER: &str = "192.168.77.1/24";

/// The UDP payloads of a capture of the pxe-dhcp test corpus.
fn capture(name: &str) -> Vec<Vec<u8>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../pxe-dhcp/tests/captures")
        .join(name);
    let d = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = Vec::new();
    let mut off = 24;
    while off + 16 <= d.len() {
        let incl = u32::from_le_bytes(d[off + 8..off + 12].try_into().unwrap()) as usize;
        let frame = &d[off + 16..off + 16 + incl];
        off += 16 + incl;
        let ihl = usize::from(frame[14] & 15) * 4;
        out.push(frame[14 + ihl + 8..].to_vec());
    }
    out
}

/// Sends `request` from the client namespace as a booting client does
/// (from 0.0.0.0:68 to the broadcast address, port 67).
fn send(client: &Netns, request: &[u8]) {
    let request = request.to_vec();
    client.enter(move || {
        let s = client_socket(68);
        s.send_to(&request, SocketAddrV4::new(Ipv4Addr::BROADCAST, 67))
            .unwrap();
        // Let the server answer before the socket closes.
        let mut buf = [0u8; 1500];
        let _ = s.recv_from(&mut buf);
    });
}

/// The text of every log line that starts with `xid` (after whatever
/// prefix the logger puts first).
fn lines_of(log: &str, xid: u32) -> Vec<String> {
    let key = format!(" {xid} ");
    log.lines()
        .filter_map(|l| {
            let at = l.find(&key)?;
            Some(l[at + 1..].to_string())
        })
        .collect()
}

/// Waits until `log` has a line for `xid` containing `last`, then a
/// little more for the rest of the block.
fn wait_for(log: &Path, xid: u32, last: &str) -> String {
    let start = Instant::now();
    loop {
        let s = std::fs::read_to_string(log).unwrap_or_default();
        if lines_of(&s, xid).iter().any(|l| l.contains(last)) {
            std::thread::sleep(Duration::from_millis(300));
            return std::fs::read_to_string(log).unwrap_or_default();
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "no `{xid} … {last}` line in {}:\n{s}",
            log.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

struct Case {
    name: &'static str,
    conf: &'static str,
    request: Vec<u8>,
    /// The line that ends the block in dnsmasq's log.
    last: &'static str,
}

fn run(case: &Case) -> (Vec<String>, Vec<String>) {
    let dnsmasq = need_tool("dnsmasq");
    let lab = Lab::new(&[SERVER, ""]);
    let (srv, cli) = (&lab.members[0], &lab.members[1]);
    cli.run(&["ip", "route", "add", "default", "dev", "eth0"]);
    let dir = tempdir(case.name);
    let conf = dir.join("dnsmasq.conf");
    let leases = dir.join("leases");
    std::fs::write(
        &conf,
        format!(
            "interface=eth0\nbind-interfaces\nlog-dhcp\ndhcp-leasefile={}\n{}",
            leases.display(),
            case.conf
        ),
    )
    .unwrap();
    let request = case.request.clone();
    let xid = u32::from_be_bytes(request[4..8].try_into().unwrap());

    // dnsmasq first (DNS off, no ping check: it would delay the offer).
    let dlog = dir.join("dnsmasq.log");
    let mut d = ChildGuard(Some(
        srv.cmd(&[
            dnsmasq.to_str().unwrap(),
            "-d",
            "--port=0",
            "--no-ping",
            "-C",
            conf.to_str().unwrap(),
            "--log-facility=-",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::from(std::fs::File::create(&dlog).unwrap()))
        .spawn()
        .unwrap(),
    ));
    wait_log(&dlog, "sockets bound", Duration::from_secs(10));
    send(cli, &request);
    let theirs = lines_of(&wait_for(&dlog, xid, case.last), xid);
    d.terminate(Duration::from_secs(5));
    let _ = std::fs::remove_file(&leases);

    let plog = dir.join("pxe-server.log");
    let mut p = start_server(srv, &conf, &["--log-dhcp"], &plog);
    wait_log(&plog, "DHCP listening", Duration::from_secs(20));
    send(cli, &request);
    let ours = lines_of(&wait_for(&plog, xid, case.last), xid);
    p.terminate(Duration::from_secs(5));
    (theirs, ours)
}

fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(unique(&format!("logdhcp-{name}")));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn check(case: Case) {
    let (theirs, ours) = run(&case);
    assert!(
        !theirs.is_empty(),
        "dnsmasq logged nothing for {}",
        case.name
    );
    assert_eq!(
        ours,
        theirs,
        "{}: pxe-server's log-dhcp lines differ from dnsmasq's\nours:\n{}\ndnsmasq:\n{}",
        case.name,
        ours.join("\n"),
        theirs.join("\n")
    );
}

/// Full DHCP that chain-loads iPXE: the ROM gets undionly, iPXE a script.
const CHAIN: &str = "dhcp-range=192.168.77.100,192.168.77.200,255.255.255.0,1h\n\
                     dhcp-match=set:ipxe,175\n\
                     dhcp-boot=tag:!ipxe,undionly.kpxe,,192.168.77.1\n\
                     dhcp-boot=tag:ipxe,http://192.168.77.1/boot.ipxe\n";

#[test]
fn full_dhcp_offer_to_a_pxe_rom_logs_as_dnsmasq() {
    check(Case {
        name: "full-rom",
        conf: CHAIN,
        request: capture("plain-rom_proxy.dhcp.pcap").remove(0),
        last: "option:  3 router",
    });
}

#[test]
fn full_dhcp_offer_to_ipxe_logs_as_dnsmasq() {
    check(Case {
        name: "full-ipxe",
        conf: CHAIN,
        request: capture("stock-rom_proxy.dhcp.pcap").remove(0),
        last: "option:  3 router",
    });
}

#[test]
fn proxy_offer_with_a_menu_logs_as_dnsmasq() {
    check(Case {
        name: "proxy",
        conf: "dhcp-range=192.168.77.0,proxy,255.255.255.0\n\
               dhcp-match=set:ipxe,175\n\
               pxe-service=tag:!ipxe,x86PC,\"Boot iPXE\",undionly.kpxe\n\
               pxe-prompt=\"Booting\",1\n",
        request: capture("plain-rom_proxy.dhcp.pcap").remove(0),
        last: "option: 43 vendor-encap",
    });
}

#[test]
fn request_for_a_free_address_acked_logs_as_dnsmasq() {
    // SELECTING straight away (no OFFER first): both servers ACK a free
    // address in the range.
    let prl = [1u8, 3, 6, 15, 28, 51, 58, 59];
    let request = Msg {
        ty: pxe_dhcp::MessageType::Request,
        xid: 0x5eed_0001,
        mac: [0x52, 0x54, 0x00, 0x12, 0x34, 0x56],
        ciaddr: Ipv4Addr::UNSPECIFIED,
        broadcast: true,
        options: vec![
            (50, &[192, 168, 77, 150][..]),
            (54, &[192, 168, 77, 1][..]),
            (55, &prl[..]),
        ],
    }
    .encode();
    check(Case {
        name: "request",
        conf: "dhcp-range=192.168.77.100,192.168.77.200,255.255.255.0,10m\n",
        request,
        last: "option: 28 broadcast",
    });
}
