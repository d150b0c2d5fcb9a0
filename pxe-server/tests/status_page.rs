//! The status page, its JSON API, `/metrics` and `/done` of a running
//! `pxe-server`, fed by a scripted PXE ROM and iPXE in network namespaces:
//! the seed's proxy line *without* `net:#ipxe` (the loop the seed warns
//! about) is diagnosed live, naming its line, and the metrics pass
//! `promtool check metrics`. The clients' TFTP transfers (real ones, over
//! the server's TFTP service) are in their journeys: the loop's second
//! download, a missing file, an EDK2-style `tsize` probe before the real
//! transfer, and a transfer that stalls at one block.
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
/// A second machine (UEFI-like TFTP: a size probe, then a stall).
const CLIENT2_IP: Ipv4Addr = Ipv4Addr::new(10, 78, 0, 51);
const MAC2: [u8; 6] = [0x52, 0x54, 0, 0x78, 0, 0x02];

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
    proxy_exchange_of(MAC, CLIENT_IP, ipxe, xid)
}

/// [`proxy_exchange`] of machine `mac` at `ip`.
fn proxy_exchange_of(mac: [u8; 6], ip: Ipv4Addr, ipxe: bool, xid: u32) -> Vec<u8> {
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
        mac,
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
    let s4 = std::net::UdpSocket::bind(SocketAddrV4::new(ip, 0)).unwrap();
    s4.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    opts.push((43, &[71, 4, 0x80, 0, 0, 0, 255][..]));
    let r = Msg {
        ty: MessageType::Request,
        xid: xid + 1,
        mac,
        ciaddr: ip,
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

/// How a scripted TFTP client behaves.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Tftp {
    /// Reads the whole file.
    Read,
    /// Reads the size from the OACK, then ends with ERROR 8 (EDK2).
    Probe,
    /// Acknowledges blocks up to this one, then goes silent.
    StopAfter(u16),
}

/// Reads `name` from the server's TFTP service from `ip` with options
/// `opts`, as `how` says; returns the bytes received, or the ERROR code
/// the server answered with.
fn tftp_read(ip: Ipv4Addr, name: &str, opts: &[(&str, &str)], how: Tftp) -> Result<usize, u16> {
    use pxe_tftp::wire::{OptionWriter, Packet as TftpPacket, RequestKind, write_ack, write_error};
    let s = std::net::UdpSocket::bind(SocketAddrV4::new(ip, 0)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let mut req = [0u8; 512];
    let mut w =
        OptionWriter::request(&mut req, RequestKind::Read, name.as_bytes(), b"octet").unwrap();
    for (k, v) in opts {
        w.option(k.as_bytes(), v.as_bytes()).unwrap();
    }
    let n = w.finish();
    s.send_to(&req[..n], SocketAddrV4::new(SRV_IP, 69)).unwrap();
    let blksize: usize = opts
        .iter()
        .find(|(k, _)| *k == "blksize")
        .map_or(512, |(_, v)| v.parse().unwrap());
    let (mut got, mut buf, mut out) = (0usize, vec![0u8; 65536], [0u8; 64]);
    loop {
        let (len, from) = s.recv_from(&mut buf).expect("the server answers");
        let reply = match TftpPacket::parse(&buf[..len]).unwrap() {
            TftpPacket::Error { code, .. } => return Err(code.0),
            TftpPacket::Oack { .. } if how == Tftp::Probe => {
                let n =
                    write_error(&mut out, pxe_tftp::wire::ErrorCode(8), b"User aborted").unwrap();
                s.send_to(&out[..n], from).unwrap();
                return Ok(0);
            }
            TftpPacket::Oack { .. } => write_ack(&mut out, 0).unwrap(),
            TftpPacket::Data { block, data } => {
                got += data.len();
                if let Tftp::StopAfter(last) = how
                    && block > last
                {
                    return Ok(got);
                }
                let n = write_ack(&mut out, block).unwrap();
                if data.len() < blksize {
                    s.send_to(&out[..n], from).unwrap();
                    return Ok(got);
                }
                n
            }
            other => panic!("unexpected {other:?}"),
        };
        s.send_to(&out[..reply], from).unwrap();
    }
}

/// The journey of `mac` from the API, once `ready` holds for it (at most
/// `t`).
fn journey_when(
    mac: &str,
    t: Duration,
    ready: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let end = std::time::Instant::now() + t;
    loop {
        let (status, body) = get(8080, &format!("/api/machines/{mac}"));
        assert_eq!(status, 200, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        if ready(&v) {
            return v;
        }
        assert!(
            std::time::Instant::now() < end,
            "not reached in {t:?}: {v:#}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The kinds of a journey's diagnoses.
fn kinds(v: &serde_json::Value) -> Vec<String> {
    let mut k: Vec<String> = v["diagnoses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["kind"].as_str().unwrap().to_string())
        .collect();
    k.sort();
    k
}

/// The summaries of a journey's TFTP steps.
fn tftp_steps(v: &serde_json::Value) -> Vec<String> {
    v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["proto"] == "tftp")
        .map(|s| s["summary"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_looping_proxy_is_diagnosed_live_on_the_page_the_api_and_the_metrics() {
    let promtool = need_tool("promtool");
    let dir = tempfile::tempdir().unwrap();
    let lab = Lab::new(&[SRV, "10.78.0.50/24", "10.78.0.51/24"]);
    let tftp = dir.path().join("tftp");
    std::fs::create_dir_all(&tftp).unwrap();
    std::fs::write(tftp.join("undionly.kkpxe"), vec![0u8; 4096]).unwrap();
    std::fs::write(tftp.join("big.efi"), vec![7u8; 64 * 1024]).unwrap();
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
            // The PXE ROM gets the first stage and downloads it (and looks
            // for an optional file that is not there); iPXE, loaded from
            // it, asks again, is handed the same file and downloads it
            // again.
            let first = proxy_exchange(false, 0x100);
            let opts = [("tsize", "0"), ("blksize", "1408")];
            assert_eq!(
                tftp_read(CLIENT_IP, "undionly.kkpxe", &opts, Tftp::Read),
                Ok(4096)
            );
            assert_eq!(tftp_read(CLIENT_IP, "missing.cfg", &[], Tftp::Read), Err(1));
            let second = proxy_exchange(true, 0x200);
            assert_eq!(
                tftp_read(CLIENT_IP, "undionly.kkpxe", &opts, Tftp::Read),
                Ok(4096)
            );
            let mac = "52:54:00:78:00:01";
            // The client has its last block before the server's transfer
            // thread reports the end: wait (bounded) until both TFTP
            // transfers' ends have reached the journey.
            let started = std::time::Instant::now();
            let loop_json = loop {
                let r = get(8080, &format!("/api/machines/{mac}"));
                let ended = serde_json::from_str::<serde_json::Value>(&r.1)
                    .map(|v| {
                        tftp_steps(&v)
                            .iter()
                            .filter(|s| s.contains(" done: "))
                            .count()
                    })
                    .unwrap_or(0);
                if ended >= 2 || started.elapsed() > std::time::Duration::from_secs(5) {
                    break r;
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            };
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
    assert_eq!(v["stage"], "loading");
    assert_eq!(v["state"], "failed");
    assert_eq!(v["diagnosis"]["kind"], "chainload_loop", "{v:#}");
    // Diagnosed twice: when iPXE was handed the file, and when it fetched
    // it again over TFTP.
    assert_eq!(v["diagnosis"]["count"], 2, "{v:#}");
    assert_eq!(kinds(&v), ["chainload_loop", "file_not_found"], "{v:#}");
    let tftp_seen = tftp_steps(&v);
    assert_eq!(tftp_seen.len(), 5, "{tftp_seen:#?}");
    // A transfer's end is reported by its thread, so it may come after a
    // later request's refusal: counted, not ordered.
    let started = "TFTP undionly.kkpxe started (blksize 1408, windowsize 1, tsize)";
    let is_done = |s: &String| {
        s.starts_with("TFTP undionly.kkpxe done: 4096 bytes in ")
            && s.ends_with("(blksize 1408, windowsize 1, 0 retransmits)")
    };
    assert_eq!(tftp_seen[0], started, "{tftp_seen:#?}");
    assert_eq!(tftp_seen.iter().filter(|s| *s == started).count(), 2);
    assert_eq!(tftp_seen.iter().filter(|s| is_done(s)).count(), 2);
    assert!(
        tftp_seen.contains(&"TFTP missing.cfg refused: not found".to_string()),
        "{tftp_seen:#?}"
    );
    assert_eq!(v["counts"]["tftp"], 3, "{v:#}");
    assert_eq!(v["counts"]["bytes"], 2 * 4096, "{v:#}");
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
    assert_eq!(steps.len(), 9, "{v:#}");
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
    assert_eq!(
        stages,
        ["discover", "offer", "ack", "boot_file", "ipxe", "loading"]
    );
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
        "pxe_journeys{stage=\"loading\"} 1",
        "pxe_tftp_transfers_total{outcome=\"completed\"} 2",
        "pxe_tftp_transfers_total{outcome=\"not_found\"} 1",
        "pxe_tftp_sent_bytes_total 8192",
        "pxe_journeys_diagnosed{diagnosis=\"chainload_loop\"} 1",
        "pxe_journeys_by_state{state=\"failed\"} 1",
        // The embedded lease log never refuses a claim.
        "pxe_dhcp_lease_store_total{outcome=\"refused_conflict\"} 0",
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

    // A UEFI-like machine: the size probe (OACK answered with ERROR 8),
    // the real transfer, then a transfer whose ACKs stop after block 2 (as
    // when a large block is fragmented and its fragments are lost): the
    // server retransmits block 3 and gives up.
    let (probe, real, stalled, v, metrics) = lab.members[2].enter(|| {
        let file = proxy_exchange_of(MAC2, CLIENT2_IP, false, 0x300);
        assert_eq!(file, b"undionly.kkpxe");
        let probe_opts = [("tsize", "0"), ("blksize", "1408")];
        let probe = tftp_read(CLIENT2_IP, "undionly.kkpxe", &probe_opts, Tftp::Probe);
        let real = tftp_read(
            CLIENT2_IP,
            "undionly.kkpxe",
            &[("blksize", "1408")],
            Tftp::Read,
        );
        let stall_opts = [("blksize", "1408"), ("timeout", "1")];
        let stalled = tftp_read(CLIENT2_IP, "big.efi", &stall_opts, Tftp::StopAfter(2));
        // 1 s timeout, 5 retransmissions: it fails about 6 s later.
        let v = journey_when("52:54:00:78:00:02", Duration::from_secs(20), |v| {
            kinds(v).iter().any(|k| k == "transfer_stalled")
        });
        (probe, real, stalled, v, get(8080, "/metrics").1)
    });
    assert_eq!((probe, real, stalled), (Ok(0), Ok(4096), Ok(3 * 1408)));
    assert_eq!(kinds(&v), ["size_probe", "transfer_stalled"], "{v:#}");
    assert_eq!(v["diagnosis"]["kind"], "transfer_stalled", "{v:#}");
    assert_eq!(v["state"], "failed", "{v:#}");
    let explanation = v["diagnosis"]["explanation"].as_str().unwrap();
    assert!(explanation.contains("block 3"), "{explanation}");
    let probe_seen = v["diagnoses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["kind"] == "size_probe")
        .unwrap();
    assert_eq!(probe_seen["severity"], "info", "{v:#}");
    let tftp_seen = tftp_steps(&v);
    assert_eq!(tftp_seen.len(), 6, "{tftp_seen:#?}");
    assert!(
        tftp_seen
            .iter()
            .any(|s| s == "TFTP undionly.kkpxe: size probe, ended by the client"),
        "{tftp_seen:#?}"
    );
    assert!(
        tftp_seen[5].starts_with(
            "TFTP big.efi failed at block 3 after 4224 bytes (timed out, 5 retransmits)"
        ),
        "{tftp_seen:#?}"
    );
    for line in [
        "pxe_tftp_transfers_total{outcome=\"size_probe\"} 1",
        "pxe_tftp_transfers_total{outcome=\"completed\"} 3",
        "pxe_tftp_transfers_total{outcome=\"failed\"} 1",
        "pxe_journeys_diagnosed{diagnosis=\"transfer_stalled\"} 1",
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "no `{line}` in\n{metrics}"
        );
    }
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
