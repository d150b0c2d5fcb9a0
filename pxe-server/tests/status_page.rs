//! The status page, its JSON API, `/metrics` and `/done` of a running
//! `pxe-server`, fed by a scripted PXE ROM and iPXE in network namespaces:
//! the seed's proxy line *without* `net:#ipxe` (the loop the seed warns
//! about) is diagnosed live, naming its line, and the metrics pass
//! `promtool check metrics`.
//!
//! Needs root and: ip, promtool (Debian `prometheus`).
#![allow(clippy::unwrap_used, clippy::panic, clippy::expect_used)]

mod support;

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddrV4, TcpStream};
use std::time::Duration;

use pxe_dhcp::{MessageType, Packet};
use support::*;

const SRV: &str = "10.78.0.1/24";
const SRV_IP: Ipv4Addr = Ipv4Addr::new(10, 78, 0, 1);
const CLIENT_IP: Ipv4Addr = Ipv4Addr::new(10, 78, 0, 50);
const MAC: [u8; 6] = [0x52, 0x54, 0, 0x78, 0, 0x01];

/// `GET path` on `port` of the server; returns (status, body).
fn get(port: u16, path: &str) -> (u16, String) {
    get_with(port, path, "")
}

/// `GET path` with extra header lines.
fn get_with(port: u16, path: &str, headers: &str) -> (u16, String) {
    let mut s = TcpStream::connect(SocketAddrV4::new(SRV_IP, port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\nHost: x\r\n{headers}\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = out
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_string();
    (status, body)
}

/// A PXE client's proxy exchange: DISCOVER on 67 (the proxy OFFER), then
/// REQUEST on 4011 from its address (the boot-server ACK's file).
fn proxy_exchange(ipxe: bool, xid: u32) -> Vec<u8> {
    let mut opts: Vec<(u8, &[u8])> = vec![
        (60, &b"PXEClient:Arch:00000:UNDI:002001"[..]),
        (93, &[0, 0][..]),
        (97, &[0; 17][..]),
    ];
    if ipxe {
        opts.push((175, &[1, 1, 1][..]));
    }
    let s = client_socket(68);
    let d = Msg {
        ty: MessageType::Discover,
        xid,
        mac: MAC,
        ciaddr: Ipv4Addr::UNSPECIFIED,
        broadcast: true,
        options: opts.clone(),
    };
    let mut offer = None;
    for _ in 0..5 {
        s.send_to(&d.encode(), SocketAddrV4::new(Ipv4Addr::BROADCAST, 67))
            .unwrap();
        if let Some(r) = recv_xid(&s, xid, Duration::from_millis(600)) {
            offer = Some(r);
            break;
        }
    }
    let (offer, _) = offer.expect("no proxy offer");
    assert!(
        Packet::new_checked(&offer[..])
            .unwrap()
            .option(43)
            .is_some()
    );
    let s4 = std::net::UdpSocket::bind(SocketAddrV4::new(CLIENT_IP, 0)).unwrap();
    s4.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    opts.push((43, &[71, 4, 0x80, 0, 0, 0, 255][..]));
    let r = Msg {
        ty: MessageType::Request,
        xid: xid + 1,
        mac: MAC,
        ciaddr: CLIENT_IP,
        broadcast: false,
        options: opts,
    };
    for _ in 0..5 {
        s4.send_to(&r.encode(), SocketAddrV4::new(SRV_IP, 4011))
            .unwrap();
        if let Some((ack, _)) = recv_xid(&s4, xid + 1, Duration::from_millis(600)) {
            return Packet::new_checked(&ack[..])
                .unwrap()
                .file()
                .unwrap()
                .to_vec();
        }
    }
    panic!("no boot-server ACK");
}

#[test]
fn a_looping_proxy_is_diagnosed_live_on_the_page_the_api_and_the_metrics() {
    let promtool = need_tool("promtool");
    let dir = tempfile::tempdir().unwrap();
    let lab = Lab::new(&[SRV, "10.78.0.50/24"]);
    let tftp = dir.path().join("tftp");
    std::fs::create_dir_all(&tftp).unwrap();
    std::fs::write(tftp.join("undionly.kkpxe"), vec![0u8; 4096]).unwrap();
    // The seed's proxy configuration with the loop: no net:#ipxe.
    let conf = dir.path().join("loop.conf");
    std::fs::write(
        &conf,
        format!(
            "dhcp-match=ipxe,175\nenable-tftp\ndhcp-range=10.78.0.0,proxy\ntftp-root={}\n\
             pxe-service=x86PC, \"splashtop by richud.com\", undionly.kkpxe\n\
             http-port=80\nstatus-page=8080\ndhcp-leasefile={}\n",
            tftp.display(),
            dir.path().join("leases").display()
        ),
    )
    .unwrap();
    let log = dir.path().join("server.log");
    let _server = start_server(&lab.members[0], &conf, &[], &log);
    wait_log(
        &log,
        "status page on http://0.0.0.0:8080/",
        Duration::from_secs(10),
    );
    wait_log(&log, "DHCP listening on UDP 4011", Duration::from_secs(10));

    let (first, second, loop_json, list_json, page, detail, metrics, open_metrics, done, after) =
        lab.members[1].enter(|| {
            // The PXE ROM gets the first stage; iPXE, loaded from it, asks
            // again and is handed the same file.
            let first = proxy_exchange(false, 0x100);
            let second = proxy_exchange(true, 0x200);
            let mac = "52:54:00:78:00:01";
            let loop_json = get(8080, &format!("/api/machines/{mac}"));
            let list_json = get(8080, "/api/machines");
            let page = get(8080, "/");
            let detail = get(8080, "/machines/52-54-00-78-00-01");
            let metrics = get(8080, "/metrics");
            let open_metrics = get_with(
                8080,
                "/metrics",
                "Accept: application/openmetrics-text; version=1.0.0\r\n",
            );
            let done = get(80, &format!("/done?mac={}", mac.replace(':', "%3A")));
            let after = get(8080, &format!("/api/machines/{mac}"));
            (
                first,
                second,
                loop_json,
                list_json,
                page,
                detail,
                metrics,
                open_metrics,
                done,
                after,
            )
        });
    assert_eq!(first, b"undionly.kkpxe");
    assert_eq!(second, b"undionly.kkpxe", "the configuration does loop");

    // The API names the loop and the line.
    assert_eq!(loop_json.0, 200, "{}", loop_json.1);
    let v: serde_json::Value = serde_json::from_str(&loop_json.1).unwrap();
    assert_eq!(v["mac"], "52:54:00:78:00:01");
    assert_eq!(v["ip"], "10.78.0.50");
    assert_eq!(v["class"], "ipxe");
    assert_eq!(v["stage"], "ipxe");
    assert_eq!(v["state"], "failed");
    assert_eq!(v["diagnosis"]["kind"], "chainload_loop", "{v:#}");
    assert_eq!(v["diagnosis"]["severity"], "error");
    let line = v["diagnosis"]["line"].as_str().unwrap();
    assert!(
        line.ends_with("loop.conf:5: pxe-service=x86PC,\"splashtop by richud.com\",undionly.kkpxe"),
        "{line}"
    );
    assert!(
        v["diagnosis"]["explanation"]
            .as_str()
            .unwrap()
            .contains("tag:!ipxe"),
        "{v:#}"
    );
    let steps = v["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 4, "{v:#}");
    assert!(
        steps[1]["summary"]
            .as_str()
            .unwrap()
            .contains("PXE boot-server ACK 10.78.0.50 file undionly.kkpxe"),
        "{v:#}"
    );
    let stages: Vec<&str> = v["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["stage"].as_str().unwrap())
        .collect();
    assert_eq!(stages, ["discover", "offer", "ack", "ipxe"]);
    let list: serde_json::Value = serde_json::from_str(&list_json.1).unwrap();
    assert_eq!(list["machines"].as_array().unwrap().len(), 1);
    assert_eq!(list["capacity"], 1024);

    // The page shows it too.
    assert_eq!(page.0, 200);
    assert!(
        page.1.contains("data-mac=\"52:54:00:78:00:01\""),
        "{}",
        page.1
    );
    assert!(page.1.contains("chainload_loop"), "{}", page.1);
    assert!(page.1.contains("http-equiv=refresh"));
    assert_eq!(detail.0, 200);
    assert!(detail.1.contains("<svg"), "{}", detail.1);
    assert!(
        detail.1.contains("loop.conf:5: pxe-service="),
        "{}",
        detail.1
    );
    assert!(!detail.1.contains("<script"), "the page runs no script");

    // The metrics are valid and say the same.
    assert_eq!(metrics.0, 200);
    let m = &metrics.1;
    for line in [
        "pxe_dhcp_requests_total{message_type=\"discover\"} 2",
        "pxe_dhcp_requests_total{message_type=\"request\"} 2",
        "pxe_dhcp_replies_total{message_type=\"proxy_offer\"} 2",
        "pxe_dhcp_replies_total{message_type=\"boot_server_ack\"} 2",
        "pxe_journeys{stage=\"ipxe\"} 1",
        "pxe_journeys_diagnosed{diagnosis=\"chainload_loop\"} 1",
        "pxe_journeys_by_state{state=\"failed\"} 1",
    ] {
        assert!(m.lines().any(|l| l == line), "no `{line}` in\n{m}");
    }
    // OpenMetrics for a scraper that asks for it.
    assert!(open_metrics.1.ends_with("# EOF\n"), "{}", open_metrics.1);
    assert!(
        open_metrics
            .1
            .contains("pxe_journeys_diagnosed{diagnosis=\"chainload_loop\"} 1"),
        "{}",
        open_metrics.1
    );
    assert!(!m.contains("52:54:00"), "a MAC in a label");
    let mut check = std::process::Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .output_with_stdin(m);
    assert!(
        check.0.success(),
        "promtool check metrics:\n{}\n{m}",
        check.1
    );
    check.1.clear();

    // The OS's callback ends the journey.
    assert_eq!(done.0, 200, "{}", done.1);
    let v: serde_json::Value = serde_json::from_str(&after.1).unwrap();
    assert_eq!(
        (&v["stage"], &v["state"]),
        (&"done".into(), &"done".into()),
        "{v:#}"
    );
}

/// Runs a command with `input` on its standard input; (status, stdout+stderr).
trait OutputWithStdin {
    fn output_with_stdin(&mut self, input: &str) -> (std::process::ExitStatus, String);
}

impl OutputWithStdin for std::process::Command {
    fn output_with_stdin(&mut self, input: &str) -> (std::process::ExitStatus, String) {
        let mut child = self
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&out.stderr));
        (out.status, text)
    }
}
