//! TFTP through the server with real clients (curl, atftp, tftp-hpa) and a
//! scripted client, in network namespaces the test creates: downloads are
//! byte-exact, path escapes are refused with a TFTP ERROR and logged,
//! write requests are refused, blksize is capped by the interface MTU.
//!
//! Needs root and: ip, curl, atftp, tftp (tftp-hpa).
#![allow(clippy::unwrap_used, clippy::panic, clippy::expect_used)]

mod support;

use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::path::{Path, PathBuf};
use std::time::Duration;

use support::*;

const SRV: &str = "10.78.0.1/24";
const SRV_IP: &str = "10.78.0.1";

struct Setup {
    dir: tempfile::TempDir,
    lab: Lab,
    server: ChildGuard,
    log: PathBuf,
    big: Vec<u8>,
}

fn setup(extra_conf: &str) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir_all(root.join("sub")).unwrap();
    let big: Vec<u8> = (0..300_001u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(root.join("big.bin"), &big).unwrap();
    std::fs::write(root.join("sub/small.txt"), b"hello from the root\n").unwrap();
    std::fs::write(dir.path().join("secret"), b"outside the root\n").unwrap();
    std::os::unix::fs::symlink(dir.path().join("secret"), root.join("link-out")).unwrap();
    let conf = dir.path().join("pxe.conf");
    std::fs::write(
        &conf,
        format!("enable-tftp\ntftp-root={}\n{extra_conf}\n", root.display()),
    )
    .unwrap();
    let lab = Lab::new(&[SRV, "10.78.0.2/24"]);
    let log = dir.path().join("server.log");
    let server = start_server(&lab.members[0], &conf, &[], &log);
    wait_log(&log, "TFTP on port 69", Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(200));
    Setup {
        dir,
        lab,
        server,
        log,
        big,
    }
}

fn client(s: &Setup, args: &[&str]) -> std::process::Output {
    s.lab.members[1]
        .cmd(&["timeout", "30"])
        .args(args)
        .current_dir(s.dir.path())
        .output()
        .unwrap()
}

fn out_path(s: &Setup, name: &str) -> PathBuf {
    s.dir.path().join(name)
}

fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_default()
}

#[test]
fn curl_atftp_tftp_hpa_fetch_files() {
    need_tool("curl");
    need_tool("atftp");
    need_tool("tftp");
    let s = setup("");
    let cap = Capture::start(&s.lab.members[0], s.dir.path(), "udp");
    // curl, default and with a large block size.
    for (i, blk) in [None, Some("1468")].iter().enumerate() {
        let o = out_path(&s, &format!("curl{i}.bin"));
        let mut a = vec!["curl", "-sS", "-o", o.to_str().unwrap()];
        if let Some(b) = blk {
            a.extend(["--tftp-blksize", b]);
        }
        let url = format!("tftp://{SRV_IP}/big.bin");
        a.push(&url);
        let r = client(&s, &a);
        assert!(
            r.status.success(),
            "curl: {}",
            String::from_utf8_lossy(&r.stderr)
        );
        assert!(read(&o) == s.big, "curl download differs");
    }
    // atftp with blksize and tsize.
    let o = out_path(&s, "atftp.bin");
    let r = client(
        &s,
        &[
            "atftp",
            "--option",
            "blksize 1428",
            "--option",
            "tsize 0",
            "-g",
            "-r",
            "big.bin",
            "-l",
            o.to_str().unwrap(),
            SRV_IP,
        ],
    );
    assert!(
        r.status.success(),
        "atftp: {}",
        String::from_utf8_lossy(&r.stderr)
    );
    assert!(read(&o) == s.big, "atftp download differs");
    // tftp-hpa, plain RFC 1350 (512-byte blocks), and a subdirectory.
    let o = out_path(&s, "hpa.bin");
    let r = client(
        &s,
        &[
            "tftp",
            "-m",
            "binary",
            SRV_IP,
            "-c",
            "get",
            "big.bin",
            o.to_str().unwrap(),
        ],
    );
    assert!(
        r.status.success(),
        "tftp-hpa: {}",
        String::from_utf8_lossy(&r.stderr)
    );
    assert!(read(&o) == s.big, "tftp-hpa download differs");
    let o = out_path(&s, "small.txt");
    let r = client(
        &s,
        &[
            "tftp",
            "-m",
            "binary",
            SRV_IP,
            "-c",
            "get",
            "sub\\small.txt",
            o.to_str().unwrap(),
        ],
    );
    assert!(r.status.success());
    assert_eq!(
        read(&o),
        b"hello from the root\n",
        "backslashes are slashes"
    );
    // The server logs a transfer when the client's last ACK reaches it,
    // which can be a moment after the client has written its file.
    let mut log = String::new();
    for _ in 0..50 {
        log = std::fs::read_to_string(&s.log).unwrap();
        if log.matches("TFTP sent").count() >= 5 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(log.matches("TFTP sent").count() >= 5, "{log}");
    let n = cap.check_server_replies(Ipv4Addr::new(10, 78, 0, 1));
    assert!(n > 1000, "only {n} server packets captured");
}

/// Send a raw request from the client namespace; return the first reply.
fn raw_request(s: &Setup, req: Vec<u8>) -> Vec<u8> {
    raw_exchange(s, req).map(|(r, _)| r).unwrap_or_default()
}

/// Send a raw request from the client namespace; return the first reply
/// and the port it came from.
fn raw_exchange(s: &Setup, req: Vec<u8>) -> Option<(Vec<u8>, u16)> {
    s.lab.members[1].enter(move || {
        let sock = UdpSocket::bind("10.78.0.2:0").unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let to = SocketAddrV4::new(Ipv4Addr::new(10, 78, 0, 1), 69);
        let mut buf = [0u8; 2048];
        for _ in 0..3 {
            sock.send_to(&req, to).unwrap();
            if let Ok((n, from)) = sock.recv_from(&mut buf) {
                return Some((buf[..n].to_vec(), from.port()));
            }
        }
        None
    })
}

fn rrq(name: &[u8], opts: &[(&str, &str)]) -> Vec<u8> {
    let mut v = vec![0, 1];
    v.extend_from_slice(name);
    v.push(0);
    v.extend_from_slice(b"octet\0");
    for (k, val) in opts {
        v.extend_from_slice(k.as_bytes());
        v.push(0);
        v.extend_from_slice(val.as_bytes());
        v.push(0);
    }
    v
}

fn error_code(reply: &[u8]) -> Option<u16> {
    (reply.len() >= 4 && reply[..2] == [0, 5]).then(|| u16::from_be_bytes([reply[2], reply[3]]))
}

#[test]
fn escapes_and_writes_are_refused_with_errors() {
    need_tool("atftp");
    need_tool("tftp");
    let s = setup("");
    let cases: &[(&[u8], u16)] = &[
        (b"../secret", 2),
        (b"sub/../../secret", 2),
        (b"..\\secret", 2),
        (b"sub/..", 2),
        (b"link-out", 2),
        (b"/etc/passwd", 1),
        (b"%2e%2e/secret", 1),
        (b"big.bin\x01", 2),
        (b"nosuchfile", 1),
    ];
    for (name, code) in cases {
        let r = raw_request(&s, rrq(name, &[]));
        assert_eq!(
            error_code(&r),
            Some(*code),
            "request for {:?}: reply {r:?}",
            String::from_utf8_lossy(name)
        );
        let text = String::from_utf8_lossy(&r[4..]);
        assert!(!text.contains("outside the root"));
    }
    // A write request: ERROR 4.
    let mut wrq = rrq(b"upload.bin", &[]);
    wrq[1] = 2;
    assert_eq!(error_code(&raw_request(&s, wrq)), Some(4));
    assert!(!s.dir.path().join("root/upload.bin").exists());
    // Real clients see the errors too.
    let o = out_path(&s, "x");
    let r = client(
        &s,
        &[
            "atftp",
            "-g",
            "-r",
            "../secret",
            "-l",
            o.to_str().unwrap(),
            SRV_IP,
        ],
    );
    assert!(!r.status.success());
    assert!(
        String::from_utf8_lossy(&r.stderr).contains("Permission denied"),
        "{r:?}"
    );
    let r = client(
        &s,
        &[
            "tftp",
            "-m",
            "binary",
            SRV_IP,
            "-c",
            "get",
            "link-out",
            o.to_str().unwrap(),
        ],
    );
    let t = format!(
        "{}{}",
        String::from_utf8_lossy(&r.stdout),
        String::from_utf8_lossy(&r.stderr)
    );
    assert!(t.contains("Error code 2"), "{t}");
    assert!(!read(&o).starts_with(b"outside"), "escaped file delivered");
    let log = std::fs::read_to_string(&s.log).unwrap();
    assert!(
        log.matches("path escapes the TFTP root").count() >= 5,
        "{log}"
    );
    assert!(log.contains("write request refused"), "{log}");
    let mut server = s.server;
    assert!(
        server
            .terminate(Duration::from_secs(10))
            .is_some_and(|st| st.success())
    );
    let log = std::fs::read_to_string(&s.log).unwrap();
    assert!(log.contains("completed=0"), "{log}");
    let refused: u32 = log
        .split("refused=")
        .nth(1)
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    assert!(refused >= 12, "{log}");
}

#[test]
fn blksize_capped_by_interface_mtu_and_tsize_answered() {
    let s = setup("");
    sh(&[
        "ip",
        "-n",
        &s.lab.members[0].name,
        "link",
        "set",
        "eth0",
        "mtu",
        "1400",
    ]);
    let r = raw_request(&s, rrq(b"big.bin", &[("blksize", "9000"), ("tsize", "0")]));
    assert_eq!(&r[..2], &[0, 6], "expected an OACK, got {r:?}");
    let text = String::from_utf8_lossy(&r[2..]).into_owned();
    let fields: Vec<&str> = text.split('\0').collect();
    let get = |k: &str| {
        fields
            .iter()
            .position(|f| f.eq_ignore_ascii_case(k))
            .map(|i| fields[i + 1])
    };
    assert_eq!(get("blksize"), Some("1368"), "1400 - 32: {fields:?}");
    assert_eq!(get("tsize"), Some("300001"));
}

#[test]
fn tftp_max_limits_concurrent_transfers() {
    let s = setup("tftp-max=1");
    // First request starts a transfer (OACK), which is never acknowledged
    // so it stays open; a second request from another port is dropped.
    let first = raw_request(&s, rrq(b"big.bin", &[("blksize", "1024")]));
    assert_eq!(&first[..2], &[0, 6]);
    let second = s.lab.members[1].enter(|| {
        let sock = UdpSocket::bind("10.78.0.2:0").unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(700)))
            .unwrap();
        sock.send_to(&rrq(b"big.bin", &[]), "10.78.0.1:69").unwrap();
        let mut buf = [0u8; 2048];
        sock.recv_from(&mut buf)
            .ok()
            .map(|(n, _)| buf[..n].to_vec())
    });
    assert!(
        second.is_none(),
        "second transfer started despite tftp-max=1: {second:?}"
    );
    let log = wait_log(&s.log, "(tftp-max)", Duration::from_secs(5));
    assert!(log.contains("dropping request"), "{log}");
    drop(s.server);
}

/// The first DATA block's payload of a plain (option-less) request.
fn first_block(s: &Setup, name: &[u8]) -> Vec<u8> {
    let r = raw_request(s, rrq(name, &[]));
    assert_eq!(
        &r[..4],
        &[0, 3, 0, 1],
        "expected DATA 1 for {name:?}, got {r:?}"
    );
    r[4..].to_vec()
}

#[test]
fn unique_root_by_ip_and_by_mac_from_arp() {
    let s = setup("tftp-unique-root");
    let root = s.dir.path().join("root");
    std::fs::write(root.join("which.txt"), b"shared\n").unwrap();
    assert_eq!(
        first_block(&s, b"which.txt"),
        b"shared\n",
        "no client directory yet"
    );
    std::fs::create_dir(root.join("10.78.0.2")).unwrap();
    std::fs::write(root.join("10.78.0.2/which.txt"), b"by ip\n").unwrap();
    assert_eq!(first_block(&s, b"which.txt"), b"by ip\n");
    // The client directory replaces the root: no fallback per file.
    assert_eq!(error_code(&raw_request(&s, rrq(b"big.bin", &[]))), Some(1));
    drop(s);

    let s = setup("tftp-unique-root=mac");
    let root = s.dir.path().join("root");
    std::fs::write(root.join("which.txt"), b"shared\n").unwrap();
    let link = s.lab.members[1].run(&["cat", "/sys/class/net/eth0/address"]);
    let mac = String::from_utf8_lossy(&link.stdout)
        .trim()
        .replace(':', "-");
    assert_eq!(mac.len(), 17, "{mac:?}");
    std::fs::create_dir(root.join(&mac)).unwrap();
    std::fs::write(root.join(&mac).join("which.txt"), b"by mac\n").unwrap();
    assert_eq!(first_block(&s, b"which.txt"), b"by mac\n");
}

#[test]
fn only_world_readable_files_when_running_as_root() {
    use std::os::unix::fs::PermissionsExt;
    let s = setup("");
    let root = s.dir.path().join("root");
    std::fs::write(root.join("private.bin"), b"root only").unwrap();
    std::fs::set_permissions(
        root.join("private.bin"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    let r = raw_request(&s, rrq(b"private.bin", &[]));
    assert_eq!(error_code(&r), Some(2), "{r:?}");
    let log = wait_log(&s.log, "not world-readable", Duration::from_secs(5));
    assert!(log.contains("private.bin"), "{log}");
    std::fs::set_permissions(
        root.join("private.bin"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    assert_eq!(first_block(&s, b"private.bin"), b"root only");
}

#[test]
fn port_range_bounds_the_transfer_ports() {
    let s = setup("tftp-port-range=40100,40101");
    for _ in 0..2 {
        let (r, port) = raw_exchange(&s, rrq(b"big.bin", &[])).unwrap();
        assert_eq!(&r[..4], &[0, 3, 0, 1]);
        assert!((40100..=40101).contains(&port), "DATA from port {port}");
    }
    // The unanswered transfers above hold both ports (until they time
    // out): the next request finds none free and is dropped and logged.
    assert!(raw_exchange(&s, rrq(b"big.bin", &[])).is_none());
    let log = wait_log(
        &s.log,
        "no free port in tftp-port-range",
        Duration::from_secs(5),
    );
    assert!(log.contains("40100-40101"), "{log}");
}

#[test]
fn single_port_serves_concurrent_real_clients_from_port_69() {
    need_tool("curl");
    need_tool("atftp");
    let s = setup("tftp-single-port");
    let (r, port) = raw_exchange(&s, rrq(b"big.bin", &[("blksize", "1024")])).unwrap();
    assert_eq!((&r[..2], port), (&[0u8, 6][..], 69), "OACK from port 69");
    // Two real clients at once, both through port 69.
    let cmd = |args: &[&str]| {
        s.lab.members[1]
            .cmd(&["timeout", "30"])
            .args(args)
            .current_dir(s.dir.path())
            .spawn()
            .unwrap()
    };
    let a = out_path(&s, "single-curl.bin");
    let b = out_path(&s, "single-atftp.bin");
    let url = format!("tftp://{SRV_IP}/big.bin");
    let mut curl = cmd(&[
        "curl",
        "-sS",
        "--tftp-blksize",
        "512",
        "-o",
        a.to_str().unwrap(),
        &url,
    ]);
    let mut atftp = cmd(&[
        "atftp",
        "--option",
        "blksize 1024",
        "-g",
        "-r",
        "big.bin",
        "-l",
        b.to_str().unwrap(),
        SRV_IP,
    ]);
    assert!(curl.wait().unwrap().success(), "curl in single-port mode");
    assert!(atftp.wait().unwrap().success(), "atftp in single-port mode");
    assert!(read(&a) == s.big, "curl download differs");
    assert!(read(&b) == s.big, "atftp download differs");
}

#[test]
fn windowed_transfers_arrive_intact() {
    // Windows go out as one segmented send (UDP_SEGMENT) where the kernel
    // can: every block must still arrive, in order, as its own datagram,
    // including a short or empty last block.
    need_tool("atftp");
    let s = setup("");
    let exact: Vec<u8> = (0..1468u32 * 40).map(|i| (i % 251) as u8).collect();
    std::fs::write(s.dir.path().join("root/exact.bin"), &exact).unwrap();
    for (file, want, blksize, window) in [
        ("big.bin", &s.big, "1468", "16"),
        ("big.bin", &s.big, "512", "64"),
        ("exact.bin", &exact, "1468", "8"),
        ("exact.bin", &exact, "1468", "64"),
    ] {
        let o = out_path(&s, &format!("w-{file}-{blksize}-{window}"));
        let r = client(
            &s,
            &[
                "atftp",
                "--option",
                &format!("blksize {blksize}"),
                "--option",
                &format!("windowsize {window}"),
                "-g",
                "-r",
                file,
                "-l",
                o.to_str().unwrap(),
                SRV_IP,
            ],
        );
        assert!(
            r.status.success(),
            "atftp {file} blksize {blksize} windowsize {window}: {}",
            String::from_utf8_lossy(&r.stderr)
        );
        assert!(read(&o) == *want, "{file} at {blksize} × {window} differs");
    }
}

/// Reads `want.len()` bytes lock-step from the transfer on `port` that has
/// just sent its OACK (blocks of `blksize`), ACKing each block; the bytes.
fn lock_step_read(sock: &UdpSocket, port: u16, blksize: usize, len: usize) -> Vec<u8> {
    let to = SocketAddrV4::new(Ipv4Addr::new(10, 78, 0, 1), port);
    let mut got = Vec::new();
    let mut buf = vec![0u8; blksize + 4];
    let mut next: u16 = 1;
    sock.send_to(&[0, 4, 0, 0], to).unwrap();
    loop {
        let (n, from) = sock.recv_from(&mut buf).expect("DATA in time");
        assert_eq!(from.port(), port, "datagram from another transfer port");
        if buf[..2] != [0, 3] || u16::from_be_bytes([buf[2], buf[3]]) != next {
            continue; // a retransmitted OACK or block
        }
        got.extend_from_slice(&buf[4..n]);
        sock.send_to(&[0, 4, buf[2], buf[3]], to).unwrap();
        next = next.wrapping_add(1);
        if n - 4 < blksize {
            assert_eq!(got.len(), len);
            return got;
        }
    }
}

#[test]
fn a_repeated_request_is_one_transfer_and_a_size_probe_no_failure() {
    let s = setup("");
    let len = s.big.len();
    let (ports, data) = s.lab.members[1].enter(move || {
        // PXELINUX re-sends an unanswered request after about 60 ms, from
        // the same port, byte for byte: one transfer must answer, from one
        // port, however fast or slow the first answer was.
        let sock = UdpSocket::bind("10.78.0.2:0").unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(400)))
            .unwrap();
        let req = rrq(b"big.bin", &[("tsize", "0"), ("blksize", "1024")]);
        let srv = "10.78.0.1:69";
        sock.send_to(&req, srv).unwrap();
        sock.send_to(&req, srv).unwrap();
        std::thread::sleep(Duration::from_millis(60));
        sock.send_to(&req, srv).unwrap();
        let mut ports = Vec::new();
        let mut buf = [0u8; 2048];
        while let Ok((_, from)) = sock.recv_from(&mut buf) {
            if !ports.contains(&from.port()) {
                ports.push(from.port());
            }
        }
        sock.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        let data = ports.first().map(|&p| lock_step_read(&sock, p, 1024, len));
        (ports, data)
    });
    assert_eq!(ports.len(), 1, "answered from ports {ports:?}");
    assert!(data.as_ref() == Some(&s.big), "the transfer's bytes differ");
    wait_log(&s.log, "TFTP sent", Duration::from_secs(5));

    let data = s.lab.members[1].enter(move || {
        // EDK2: ask with tsize, refuse the OACK with ERROR 8, ask again
        // without tsize (from the same port) and read the file.
        let sock = UdpSocket::bind("10.78.0.2:0").unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        let srv = "10.78.0.1:69";
        sock.send_to(
            &rrq(b"big.bin", &[("tsize", "0"), ("blksize", "1468")]),
            srv,
        )
        .unwrap();
        let mut buf = [0u8; 2048];
        let (n, from) = sock.recv_from(&mut buf).expect("OACK");
        assert_eq!(&buf[..2], &[0, 6], "expected an OACK: {:?}", &buf[..n]);
        let mut abort = vec![0, 5, 0, 8];
        abort.extend_from_slice(b"User aborted the transfer\0");
        sock.send_to(&abort, from).unwrap();
        sock.send_to(&rrq(b"big.bin", &[("blksize", "1468")]), srv)
            .unwrap();
        let (_, from) = sock.recv_from(&mut buf).expect("second OACK");
        lock_step_read(&sock, from.port(), 1468, len)
    });
    assert!(data == s.big, "the transfer after the probe differs");
    wait_log(&s.log, "size probe for", Duration::from_secs(5));
    let t0 = std::time::Instant::now();
    let log = loop {
        let log = std::fs::read_to_string(&s.log).unwrap_or_default();
        if log.matches("TFTP sent").count() >= 2 || t0.elapsed() > Duration::from_secs(5) {
            break log;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(log.matches("TFTP sent").count(), 2, "{log}");
    assert!(!log.contains("TFTP failed"), "{log}");
    assert!(log.contains("repeated request"), "{log}");
    drop(s.server);
}
