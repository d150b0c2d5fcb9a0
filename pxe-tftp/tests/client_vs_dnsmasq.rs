//! The client engine against a TFTP server nobody here wrote: dnsmasq 2.90,
//! on port 69 inside a network namespace this test creates (and deletes on
//! drop). Our `ClientRead`, on a real UDP socket in that namespace, must
//! fetch the exact bytes: plain RFC 1350, blksize + tsize (OACK), a
//! windowsize dnsmasq does not grant, netascii, and block-number rollover.
//!
//! Needs `dnsmasq` and `ip` (iproute2) and root; a missing tool fails the
//! test with a message saying so.
#![cfg(feature = "std")]
#![allow(clippy::unwrap_used, clippy::panic)]

use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsFd;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant as StdInstant};

use pxe_tftp::client::ClientRead;
use pxe_tftp::wire::{Mode, foreign_tid_reply};
use pxe_tftp::{Instant, State, TransferConfig, TransferOptions};

fn require(tool: &str) {
    let found = ["/usr/sbin", "/usr/bin", "/sbin", "/bin"]
        .iter()
        .any(|d| Path::new(d).join(tool).exists());
    assert!(
        found,
        "`{tool}` is not installed: install the Debian package providing it (dnsmasq, iproute2)"
    );
}

/// A network namespace with dnsmasq serving TFTP from `root`; both go away
/// on drop.
struct Lab {
    ns: String,
    dnsmasq: Child,
}

impl Lab {
    fn new(root: &Path) -> Lab {
        require("ip");
        require("dnsmasq");
        static N: AtomicU32 = AtomicU32::new(0);
        let ns = format!(
            "tftpc{}x{}",
            std::process::id() % 100_000,
            N.fetch_add(1, Ordering::SeqCst)
        );
        let ok = |c: &mut Command| {
            let out = c.output().unwrap();
            assert!(
                out.status.success(),
                "{c:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        ok(Command::new("ip").args(["netns", "add", &ns]));
        let mut lab = Lab {
            ns,
            dnsmasq: Command::new("true").spawn().unwrap(),
        };
        ok(Command::new("ip").args(["-n", &lab.ns, "link", "set", "lo", "up"]));
        lab.dnsmasq = Command::new("ip")
            .args([
                "netns",
                "exec",
                &lab.ns,
                "dnsmasq",
                "--no-daemon",
                "--port=0",
            ])
            .args(["--conf-file=/dev/null", "--user=root", "--enable-tftp"])
            .arg(format!("--tftp-root={}", root.display()))
            .args([
                "--listen-address=127.0.0.1",
                "--bind-interfaces",
                "--pid-file=",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        lab
    }

    /// A UDP socket bound inside the namespace.
    fn socket(&self) -> UdpSocket {
        let path = format!("/var/run/netns/{}", self.ns);
        std::thread::spawn(move || {
            let f = std::fs::File::open(&path).unwrap();
            nix::sched::setns(f.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
            UdpSocket::bind("127.0.0.1:0").unwrap()
        })
        .join()
        .unwrap()
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = self.dnsmasq.kill();
        let _ = self.dnsmasq.wait();
        let _ = Command::new("ip").args(["netns", "del", &self.ns]).output();
    }
}

/// Drives a `ClientRead` over a real socket; returns the final state and bytes.
fn fetch(
    sock: &UdpSocket,
    name: &str,
    mode: Mode,
    asked: TransferOptions,
) -> (State<core::convert::Infallible>, Vec<u8>, TransferOptions) {
    let cfg = TransferConfig {
        retransmit_timeout: Duration::from_millis(300),
        max_retransmits: 10,
        linger_timeouts: 1,
    };
    let mut c = ClientRead::new(name.as_bytes(), mode, &asked, cfg, Vec::new()).unwrap();
    let server: SocketAddr = "127.0.0.1:69".parse().unwrap();
    let mut peer: Option<SocketAddr> = None;
    let start = StdInstant::now();
    let now = || Instant::from_micros(start.elapsed().as_micros() as u64);
    let mut out = [0u8; 600];
    let mut inb = vec![0u8; 65536];
    while !c.state().is_complete() && !c.is_finished() {
        assert!(start.elapsed() < Duration::from_secs(60), "transfer hangs");
        while let Some(n) = c.poll_transmit(now(), &mut out) {
            sock.send_to(&out[..n], peer.unwrap_or(server)).unwrap();
        }
        if c.state().is_complete() || c.is_finished() {
            break;
        }
        let wait = c.poll_timeout().map_or(Duration::from_millis(100), |d| {
            d.saturating_duration_since(now())
        });
        sock.set_read_timeout(Some(wait.max(Duration::from_millis(1))))
            .unwrap();
        match sock.recv_from(&mut inb) {
            Ok((n, from)) => {
                // The first reply fixes the server's transfer ID.
                let tid = *peer.get_or_insert(from);
                if from == tid {
                    c.handle_datagram(now(), &inb[..n]);
                } else {
                    let len = foreign_tid_reply(&mut out).unwrap();
                    sock.send_to(&out[..len], from).unwrap();
                }
            }
            Err(e) => assert!(
                matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ),
                "{e}"
            ),
        }
        c.handle_timeout(now());
    }
    // Send the final ACK.
    while let Some(n) = c.poll_transmit(now(), &mut out) {
        sock.send_to(&out[..n], peer.unwrap_or(server)).unwrap();
    }
    let granted = *c.granted();
    (c.state().clone(), c.into_sink(), granted)
}

#[test]
fn client_fetches_from_dnsmasq() {
    let root = tempfile::tempdir().unwrap();
    let mut x = 7u32;
    let bin: Vec<u8> = (0..300_001)
        .map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (x >> 16) as u8
        })
        .collect();
    std::fs::write(root.path().join("bin"), &bin).unwrap();
    let exact = vec![0x5au8; 512 * 40];
    std::fs::write(root.path().join("exact"), &exact).unwrap();
    let text = b"first line\nsecond\r\nthird\n".repeat(400);
    std::fs::write(root.path().join("text"), &text).unwrap();
    // 70 000 blocks of 16 bytes: past the 65 535 rollover.
    let roll: Vec<u8> = (0..16 * 70_000 + 3).map(|i| (i % 239) as u8).collect();
    std::fs::write(root.path().join("roll"), &roll).unwrap();

    let lab = Lab::new(root.path());
    let sock = lab.socket();

    // Plain RFC 1350: no options, DATA 1 straight away.
    let (st, got, g) = fetch(&sock, "bin", Mode::Octet, TransferOptions::default());
    assert_eq!(st, State::Complete);
    assert!(g.is_empty());
    assert!(got == bin, "plain octet differs");

    // blksize + tsize: OACK, and dnsmasq's tsize is the file size.
    let asked = TransferOptions {
        blksize: Some(1468),
        tsize: Some(0),
        ..Default::default()
    };
    let (st, got, g) = fetch(&sock, "bin", Mode::Octet, asked);
    assert_eq!(st, State::Complete);
    assert_eq!(g.blksize, Some(1468));
    assert_eq!(g.tsize, Some(bin.len() as u64));
    assert!(got == bin, "blksize 1468 differs");

    // windowsize: dnsmasq 2.90 does not grant it, so lock-step follows.
    let asked = TransferOptions {
        blksize: Some(1024),
        windowsize: Some(8),
        ..Default::default()
    };
    let (st, got, g) = fetch(&sock, "exact", Mode::Octet, asked);
    assert_eq!(st, State::Complete);
    assert_eq!(g.windowsize, None);
    assert!(got == exact, "exact multiple differs");

    // netascii: dnsmasq encodes LF as CR LF; the client decodes it back.
    let (st, got, _) = fetch(&sock, "text", Mode::Netascii, TransferOptions::default());
    assert_eq!(st, State::Complete);
    assert!(got == text, "netascii differs");

    // Rollover with blksize 16.
    let asked = TransferOptions {
        blksize: Some(16),
        ..Default::default()
    };
    let (st, got, _) = fetch(&sock, "roll", Mode::Octet, asked);
    assert_eq!(st, State::Complete);
    assert!(got == roll, "rollover differs");

    // A missing file ends with dnsmasq's ERROR 1.
    let (st, _, _) = fetch(&sock, "missing", Mode::Octet, TransferOptions::default());
    let msg = format!("{st:?}");
    assert!(
        msg.contains("Peer") && msg.contains("ErrorCode(1)"),
        "{msg}"
    );
}
