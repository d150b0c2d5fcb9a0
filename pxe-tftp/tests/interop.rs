//! Interoperability with TFTP clients nobody here wrote: curl, atftp and
//! tftp-hpa fetch files over loopback from the `udp_server` example (which
//! this test includes and runs in a thread), and the bytes are compared.
//!
//! Needs the Debian packages `curl atftp tftp-hpa` (and coreutils'
//! `timeout`); a missing tool fails the test with a message saying so.
#![cfg(feature = "std")]
#![allow(clippy::unwrap_used, clippy::panic)]

#[path = "../examples/udp_server.rs"]
mod udp_server;

use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

struct Fixture {
    addr: SocketAddr,
    root: tempfile::TempDir,
    out: tempfile::TempDir,
}

const SMALL: &str = "small.bin";
const BIG: &str = "big.bin";
const TEXT: &str = "text.txt";
const EXACT: &str = "exact.bin";

fn content(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let root = tempfile::tempdir().unwrap();
        std::fs::write(root.path().join(SMALL), content(1_000_003, 1)).unwrap();
        // 33 MiB + 5 at blksize 512: 67 585 blocks, past the 65 535 rollover.
        std::fs::write(root.path().join(BIG), content(33 * 1024 * 1024 + 5, 2)).unwrap();
        // exact multiple of every blksize in the matrix but 65464 and 1468
        std::fs::write(root.path().join(EXACT), content(8192 * 12, 3)).unwrap();
        let text: Vec<u8> = (0..20_000)
            .flat_map(|i| format!("line {i} of some text\n").into_bytes())
            .collect();
        std::fs::write(root.path().join(TEXT), text).unwrap();
        let listener = UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let path = root.path().to_path_buf();
        std::thread::spawn(move || udp_server::serve(listener, path));
        Fixture {
            addr,
            root,
            out: tempfile::tempdir().unwrap(),
        }
    })
}

fn require(tool: &str) {
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
        .unwrap_or(false);
    assert!(
        found,
        "`{tool}` is not installed: install the Debian packages curl, atftp and tftp-hpa"
    );
}

fn out_path(tag: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    fixture().out.path().join(format!("{tag}-{n}"))
}

/// Runs `cmd` under `timeout`, in `dir`, and insists on success.
fn run(dir: &Path, tool: &str, args: &[String], stdin: Option<&str>) {
    require(tool);
    let mut c = Command::new("timeout");
    c.arg("120").arg(tool).args(args).current_dir(dir);
    let out = if let Some(input) = stdin {
        use std::io::Write;
        use std::process::Stdio;
        let mut child = c
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    } else {
        c.output().unwrap()
    };
    assert!(
        out.status.success(),
        "{tool} {args:?} failed ({}): {}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn fnv(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

fn assert_same(name: &str, got: &Path, what: &str) {
    let want = std::fs::read(fixture().root.path().join(name)).unwrap();
    let got = std::fs::read(got).unwrap_or_default();
    assert!(
        got == want,
        "{what}: {name} differs: got {} bytes (fnv {:016x}), want {} bytes (fnv {:016x})",
        got.len(),
        fnv(&got),
        want.len(),
        fnv(&want)
    );
}

fn curl(name: &str, blksize: u32) -> PathBuf {
    let f = fixture();
    let out = out_path("curl");
    let args = vec![
        "-sS".into(),
        "--tftp-blksize".into(),
        blksize.to_string(),
        "-o".into(),
        out.display().to_string(),
        format!("tftp://{}/{name}", f.addr),
    ];
    run(f.out.path(), "curl", &args, None);
    out
}

fn atftp(name: &str, blksize: u32, windowsize: u32) -> PathBuf {
    let f = fixture();
    let out = out_path("atftp");
    let args = vec![
        "--get".into(),
        "-r".into(),
        name.into(),
        "-l".into(),
        out.display().to_string(),
        "--option".into(),
        format!("blksize {blksize}"),
        "--option".into(),
        format!("windowsize {windowsize}"),
        "--option".into(),
        "tsize enable".into(),
        f.addr.ip().to_string(),
        f.addr.port().to_string(),
    ];
    run(f.out.path(), "atftp", &args, None);
    out
}

fn tftp_hpa(name: &str, mode: &str) -> PathBuf {
    let f = fixture();
    let out = out_path("tftp");
    let args = vec![
        "-m".into(),
        mode.into(),
        f.addr.ip().to_string(),
        f.addr.port().to_string(),
        "-c".into(),
        "get".into(),
        name.into(),
        out.display().to_string(),
    ];
    run(f.out.path(), "tftp", &args, None);
    out
}

#[test]
fn curl_blksize_matrix() {
    for blksize in [512, 1468, 8192, 65464] {
        for name in [SMALL, EXACT] {
            let out = curl(name, blksize);
            assert_same(name, &out, &format!("curl blksize {blksize}"));
        }
    }
}

#[test]
fn atftp_blksize_windowsize_matrix() {
    for blksize in [512, 1468, 8192, 65464] {
        for windowsize in [1, 8, 64] {
            let out = atftp(SMALL, blksize, windowsize);
            assert_same(
                SMALL,
                &out,
                &format!("atftp blksize {blksize} windowsize {windowsize}"),
            );
        }
    }
    let out = atftp(EXACT, 512, 8);
    assert_same(EXACT, &out, "atftp exact multiple");
}

#[test]
fn tftp_hpa_octet_and_netascii() {
    let out = tftp_hpa(SMALL, "octet");
    assert_same(SMALL, &out, "tftp-hpa octet");
    let out = tftp_hpa(EXACT, "octet");
    assert_same(EXACT, &out, "tftp-hpa octet exact multiple");
    // netascii: the client turns CR LF back into LF, so the text arrives as is.
    let out = tftp_hpa(TEXT, "netascii");
    assert_same(TEXT, &out, "tftp-hpa netascii");
}

#[test]
fn over_32_mib_at_blksize_512_rolls_over() {
    let out = curl(BIG, 512);
    assert_same(BIG, &out, "curl 33 MiB blksize 512");
    let out = tftp_hpa(BIG, "octet");
    assert_same(BIG, &out, "tftp-hpa 33 MiB plain RFC 1350");
}

#[test]
fn missing_file_and_bad_paths_are_refused() {
    let f = fixture();
    require("curl");
    for name in ["nope.bin", "../etc/passwd"] {
        let out = Command::new("timeout")
            .args(["30", "curl", "-sS", "-o", "/dev/null"])
            .arg(format!("tftp://{}/{name}", f.addr))
            .output()
            .unwrap();
        // curl exit 68: "File not found on TFTP server".
        assert_eq!(out.status.code(), Some(68), "{name}: {out:?}");
    }
}

#[test]
fn foreign_tid_gets_error_5_and_the_transfer_continues() {
    use pxe_tftp::wire::{OptionWriter, Packet, RequestKind, write_ack};
    let f = fixture();
    let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    client
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    let mut buf = vec![0u8; 2048];
    let n = {
        let w =
            OptionWriter::request(&mut buf, RequestKind::Read, SMALL.as_bytes(), b"octet").unwrap();
        w.finish()
    };
    client.send_to(&buf[..n], f.addr).unwrap();
    let (n, tid) = client.recv_from(&mut buf).unwrap();
    assert!(matches!(
        Packet::parse(&buf[..n]),
        Ok(Packet::Data { block: 1, .. })
    ));
    // A stranger writes to the transfer port.
    let stranger = UdpSocket::bind("127.0.0.1:0").unwrap();
    stranger
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    let mut a = [0u8; 4];
    write_ack(&mut a, 1).unwrap();
    stranger.send_to(&a, tid).unwrap();
    let (n, _) = stranger.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"\x00\x05\x00\x05Unknown transfer ID\x00");
    // The real client goes on: ACK 1 brings DATA 2.
    client.send_to(&a, tid).unwrap();
    let (n, from) = client.recv_from(&mut buf).unwrap();
    assert_eq!(from, tid);
    assert!(matches!(
        Packet::parse(&buf[..n]),
        Ok(Packet::Data { block: 2, .. })
    ));
}
