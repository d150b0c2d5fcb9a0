//! A small read-only TFTP server on std UDP sockets, built on the engine:
//! one thread and one socket (a fresh transfer ID) per transfer.
//!
//! `cargo run -p pxe-tftp --example udp_server -- 127.0.0.1:6969 /srv/tftp`
//!
//! The interop tests (`tests/interop.rs`) include this file and call
//! [`serve`] directly.
#![allow(dead_code)]

use std::net::{SocketAddr, UdpSocket};
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, Instant as StdInstant};

use pxe_tftp::server::{ReadTransfer, ServerPolicy, accept};
use pxe_tftp::wire::{ErrorCode, foreign_tid_reply, write_error};
use pxe_tftp::{Instant, ServerLimits, TransferConfig};

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:6969".into());
    let root = PathBuf::from(args.next().unwrap_or_else(|| ".".into()));
    serve(UdpSocket::bind(addr)?, root)
}

/// Serves read requests arriving on `listener` from files under `root`.
pub(crate) fn serve(listener: UdpSocket, root: PathBuf) -> std::io::Result<()> {
    let policy = ServerPolicy {
        limits: ServerLimits {
            max_blksize: 65464,
            max_windowsize: 64,
            ..ServerLimits::default()
        },
        allow_writes: false,
    };
    let mut buf = [0u8; 1500];
    loop {
        let (n, peer) = listener.recv_from(&mut buf)?;
        // Each transfer gets its own socket on the listener's address.
        let sock = UdpSocket::bind(SocketAddr::new(listener.local_addr()?.ip(), 0))?;
        let acc = match accept(&buf[..n], &policy) {
            Ok(acc) => acc,
            Err(rej) => {
                let mut out = [0u8; 128];
                if let Some(len) = rej.write_reply(&mut out) {
                    sock.send_to(&out[..len], peer)?;
                }
                continue;
            }
        };
        let file = resolve(&root, acc.filename).and_then(|p| std::fs::File::open(p).ok());
        let Some(file) = file else {
            let mut out = [0u8; 64];
            let len =
                write_error(&mut out, ErrorCode::FILE_NOT_FOUND, b"file not found").unwrap_or(0);
            sock.send_to(&out[..len], peer)?;
            continue;
        };
        let engine = ReadTransfer::new(
            file,
            acc.mode,
            &acc.options,
            &policy.limits,
            TransferConfig::default(),
        );
        std::thread::spawn(move || run_transfer(sock, peer, engine));
    }
}

/// Joins `name` (raw bytes from the wire) to `root`; refuses `..`.
fn resolve(root: &Path, name: &[u8]) -> Option<PathBuf> {
    let name = std::str::from_utf8(name).ok()?.trim_start_matches('/');
    let rel = Path::new(name);
    rel.components()
        .all(|c| matches!(c, Component::Normal(_)))
        .then(|| root.join(rel))
}

/// Moves datagrams between one socket and one engine until it finishes.
fn run_transfer(
    sock: UdpSocket,
    peer: SocketAddr,
    mut engine: ReadTransfer<std::fs::File>,
) -> std::io::Result<()> {
    let start = StdInstant::now();
    let now = || Instant::from_micros(start.elapsed().as_micros() as u64);
    let mut out = vec![0u8; engine.max_datagram_len()];
    let mut inb = vec![0u8; 65536];
    loop {
        while let Some(n) = engine.poll_transmit(now(), &mut out) {
            sock.send_to(&out[..n], peer)?;
        }
        if engine.is_finished() {
            return Ok(());
        }
        let wait = engine.poll_timeout().map_or(Duration::from_secs(1), |d| {
            d.saturating_duration_since(now())
        });
        sock.set_read_timeout(Some(wait.max(Duration::from_millis(1))))?;
        match sock.recv_from(&mut inb) {
            Ok((n, from)) if from == peer => engine.handle_datagram(now(), &inb[..n]),
            Ok((_, stranger)) => {
                let len = foreign_tid_reply(&mut out).unwrap_or(0);
                sock.send_to(&out[..len], stranger)?;
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(e) => return Err(e),
        }
        engine.handle_timeout(now());
    }
}
