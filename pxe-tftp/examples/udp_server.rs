//! A small read-only TFTP server on std UDP sockets, built on the server
//! [`Endpoint`]: the endpoint admits requests on the listener (tftp-max,
//! the repeated-request rule, the files), and each transfer runs on a
//! thread next to a socket of its own (a fresh transfer ID), handed out by
//! [`Endpoint::detach`] and given back with [`Endpoint::finish`].
//!
//! `cargo run -p pxe-tftp --example udp_server -- 127.0.0.1:6969 /srv/tftp`
//!
//! The interop tests (`tests/interop.rs`) include this file and call
//! [`serve`] directly.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::{Duration, Instant as StdInstant};

use pxe_tftp::server::{
    Endpoint, EndpointConfig, EndpointEvent, Event, FileRefusal, FileRequest, Files, Handled,
    Local, Opened, Source, Transfer, TransferId, TransferPorts, Transmit,
};
use pxe_tftp::{Instant, ServerLimits};

fn main() -> io::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:6969".into());
    let root = PathBuf::from(args.next().unwrap_or_else(|| ".".into()));
    serve(UdpSocket::bind(addr)?, root)
}

/// Files under a directory.
struct Dir(PathBuf);

impl Files for Dir {
    type Source = std::fs::File;
    type Refusal = FileRefusal;
    fn open(&mut self, req: &FileRequest<'_>) -> Result<Opened<std::fs::File>, FileRefusal> {
        let path = resolve(&self.0, req.name).ok_or(FileRefusal::NotFound)?;
        let file = std::fs::File::open(path).map_err(|_| FileRefusal::NotFound)?;
        Ok(Opened::new(file))
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

/// What a transfer thread tells the request loop.
enum Report {
    Event(TransferId, EndpointEvent),
    Finished(Box<Transfer<std::fs::File>>),
}

/// Serves read requests arriving on `listener` from files under `root`.
pub(crate) fn serve(listener: UdpSocket, root: PathBuf) -> io::Result<()> {
    let here = listener.local_addr()?;
    let config = EndpointConfig {
        request_port: here.port(),
        ports: TransferPorts::Ephemeral,
        limits: ServerLimits {
            max_blksize: 65464,
            max_windowsize: 64,
            ..ServerLimits::default()
        },
        ..EndpointConfig::default()
    };
    let mut endpoint = Endpoint::new(config, Dir(root));
    let local = Local {
        addr: here.ip(),
        port: here.port(),
        interface: 0,
    };
    let (reports, from_transfers) = channel();
    let mut cancels: HashMap<TransferId, Arc<AtomicBool>> = HashMap::new();
    let start = StdInstant::now();
    // Wake now and then to take the transfers' reports.
    listener.set_read_timeout(Some(Duration::from_millis(20)))?;
    let mut buf = [0u8; 1500];
    let mut reply = [0u8; 512];
    loop {
        take_reports(&mut endpoint, &from_transfers, &mut cancels);
        let (n, peer) = match listener.recv_from(&mut buf) {
            Ok(r) => r,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                continue;
            }
            Err(e) => return Err(e),
        };
        let now = clock(start);
        match endpoint.handle(now, peer, local, &buf[..n], &mut reply) {
            Handled::Admitted(admission) => {
                // A fresh socket: the transfer's TID.
                let sock = UdpSocket::bind(SocketAddr::new(here.ip(), 0))?;
                let port = sock.local_addr()?.port();
                if let Ok(transfer) = endpoint.detach(admission, port) {
                    let cancel = Arc::new(AtomicBool::new(false));
                    cancels.insert(transfer.id(), cancel.clone());
                    let reports: Sender<Report> = reports.clone();
                    std::thread::spawn(move || {
                        run_transfer(sock, transfer, reports, cancel, start)
                    });
                }
            }
            Handled::Rejected { reply: Some(t), .. } | Handled::Refused { reply: Some(t), .. } => {
                send(&listener, &t, &reply)?;
            }
            _ => {}
        }
        while let Some(event) = endpoint.poll_event() {
            if let Event::Cancel(id) = event
                && let Some(c) = cancels.get(&id)
            {
                c.store(true, Ordering::Relaxed);
            }
        }
    }
}

fn clock(start: StdInstant) -> Instant {
    Instant::from_micros(u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX))
}

fn take_reports(
    endpoint: &mut Endpoint<Dir>,
    from_transfers: &Receiver<Report>,
    cancels: &mut HashMap<TransferId, Arc<AtomicBool>>,
) {
    while let Ok(report) = from_transfers.try_recv() {
        match report {
            Report::Event(id, event) => endpoint.handle_event(id, event),
            Report::Finished(transfer) => {
                cancels.remove(&transfer.id());
                let _ = endpoint.finish(*transfer);
            }
        }
    }
}

/// Sends what the endpoint wrote; a refusal leaves from a one-off socket.
fn send(listener: &UdpSocket, t: &Transmit, buf: &[u8]) -> io::Result<()> {
    match t.source {
        Source::Port(_) => {
            listener.send_to(&buf[..t.len], t.destination)?;
        }
        Source::NewPort(l) => {
            let s = UdpSocket::bind(SocketAddr::new(l.addr, 0))?;
            s.send_to(&buf[..t.len], t.destination)?;
        }
    }
    Ok(())
}

/// Moves datagrams between one socket and one transfer until it finishes,
/// then gives it back.
fn run_transfer(
    sock: UdpSocket,
    mut transfer: Transfer<std::fs::File>,
    reports: Sender<Report>,
    cancel: Arc<AtomicBool>,
    start: StdInstant,
) {
    let now = || clock(start);
    let mut out = vec![0u8; transfer.max_datagram_len()];
    let mut inb = vec![0u8; 65536];
    let result: io::Result<()> = (|| loop {
        while let Some(t) = transfer.poll_transmit(now(), &mut out) {
            sock.send_to(&out[..t.len], t.destination)?;
        }
        if transfer.is_finished() || cancel.load(Ordering::Relaxed) {
            return Ok(());
        }
        let wait = transfer.poll_timeout().map_or(Duration::from_secs(1), |d| {
            d.saturating_duration_since(now())
        });
        sock.set_read_timeout(Some(
            wait.clamp(Duration::from_millis(1), Duration::from_secs(1)),
        ))?;
        match sock.recv_from(&mut inb) {
            Ok((n, from)) => {
                if let Some(t) = transfer.handle(now(), from, &inb[..n], &mut out) {
                    sock.send_to(&out[..t.len], t.destination)?;
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(e) => return Err(e),
        }
        transfer.handle_timeout(now());
        if let Some(event) = transfer.poll_endpoint_event() {
            let _ = reports.send(Report::Event(transfer.id(), event));
        }
    })();
    if let Err(e) = result {
        eprintln!("transfer to {}: {e}", transfer.peer());
    }
    let _ = reports.send(Report::Finished(Box::new(transfer)));
}
