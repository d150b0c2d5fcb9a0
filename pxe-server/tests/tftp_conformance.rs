//! The TFTP conformance suite (`pxe-tftp-conformance`) against the tokio
//! driver — `pxe_server::driver::tftp::service::serve` in this process, on
//! the loopback of a network namespace of its own — in per-port mode (a
//! thread and a socket per transfer) and in `tftp-single-port` mode (every
//! transfer over port 69): the same behaviours `pxe-smoltcp` must show.
//!
//! Needs root (it creates network namespaces).
#![allow(clippy::unwrap_used, clippy::panic, clippy::expect_used)]

#[path = "support/netns.rs"]
mod netns;

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use netns::Netns;
use pxe_server::driver::tftp::client_dir::MacSources;
use pxe_server::driver::tftp::path::{Access, TftpRoot};
use pxe_server::driver::tftp::service::{DEFAULT_MAX, TftpMetrics, TftpSettings, serve};
use pxe_tftp::server::Counters;
use pxe_tftp::wire::{ErrorCode, write_ack, write_error};
use pxe_tftp_conformance::{Client, Harness, Reply, ServerUnderTest, Setup};
use tokio::sync::watch;

/// The tokio service, in per-port or single-port mode.
struct Tokio {
    single_port: bool,
}

struct Sut {
    ns: Netns,
    _dir: tempfile::TempDir,
    metrics: Arc<TftpMetrics>,
    stop: watch::Sender<bool>,
    server: Option<JoinHandle<std::io::Result<()>>>,
    clients: Vec<UdpSocket>,
    single_port: bool,
}

impl Harness for Tokio {
    type Server = Sut;
    fn start(&self, setup: &Setup) -> Sut {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        for (name, data) in &setup.files {
            std::fs::write(root.join(name), data).unwrap();
        }
        std::fs::write(dir.path().join("secret"), &setup.secret).unwrap();
        let access = Access::for_process(nix::unistd::geteuid().as_raw(), false);
        let settings = TftpSettings {
            roots: vec![(
                None,
                TftpRoot::new(&root, false).unwrap().with_access(access),
            )],
            max_transfers: if setup.max_transfers == 0 {
                DEFAULT_MAX
            } else {
                setup.max_transfers
            },
            mtu_cap: None,
            no_blocksize: false,
            port: 69,
            interfaces: Vec::new(),
            unique_root: None,
            macs: Arc::new(MacSources::default()),
            port_range: None,
            single_port: self.single_port,
            journeys: None,
        };
        let ns = Netns::new("tc");
        let metrics = Arc::new(TftpMetrics::default());
        let (stop, stopped) = watch::channel(false);
        let m = metrics.clone();
        let server = ns.spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(serve(Arc::new(settings), m, stopped))
        });
        let listening = ns.wait_udp_bound(&[69], Duration::from_secs(5));
        assert!(listening, "the TFTP service did not bind port 69");
        Sut {
            ns,
            _dir: dir,
            metrics,
            stop,
            server: Some(server),
            clients: Vec::new(),
            single_port: self.single_port,
        }
    }
}

impl Drop for Sut {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(s) = self.server.take() {
            let _ = s.join();
        }
    }
}

impl ServerUnderTest for Sut {
    fn client(&mut self) -> Client {
        let sock = self.ns.enter(|| UdpSocket::bind("127.0.0.1:0").unwrap());
        self.clients.push(sock);
        Client(self.clients.len() - 1)
    }

    fn send(&mut self, client: Client, port: u16, datagram: &[u8]) {
        let to = SocketAddr::from(([127, 0, 0, 1], port));
        self.clients[client.0].send_to(datagram, to).unwrap();
    }

    fn recv(&mut self, client: Client, wait: Duration) -> Option<Reply> {
        let s = &self.clients[client.0];
        s.set_read_timeout(Some(wait.max(Duration::from_millis(1))))
            .unwrap();
        let mut buf = vec![0u8; 65536];
        let (n, from) = s.recv_from(&mut buf).ok()?;
        buf.truncate(n);
        Some(Reply {
            bytes: buf,
            port: from.port(),
        })
    }

    fn pause(&mut self, d: Duration) {
        std::thread::sleep(d);
    }

    fn counters(&mut self) -> Counters {
        self.metrics.counters()
    }

    fn single_port(&self) -> bool {
        self.single_port
    }
}

mod per_port {
    use super::Tokio;
    pxe_tftp_conformance::suite!(Tokio { single_port: false });
}

mod single_port {
    use super::Tokio;
    pxe_tftp_conformance::suite!(Tokio { single_port: true });
}

/// Datagrams longer than a transfer thread's receive buffer (per-port
/// mode; on the loopback nothing limits them to the MTU) arrive cut short
/// and lose nothing: a stranger's still gets ERROR 5, the client's long
/// ERROR still ends the transfer, and an ACK with trailing bytes still
/// moves it on.
#[test]
fn oversized_datagrams_on_a_transfer_port() {
    let s = pxe_tftp_conformance::setup(4);
    let mut sut = Tokio { single_port: false }.start(&s);
    let (a, stranger) = (sut.client(), sut.client());
    sut.send(a, 69, &pxe_tftp_conformance::rrq("boot.bin", &[]));
    let first = sut.recv(a, Duration::from_secs(3)).expect("DATA 1");
    assert_eq!(&first.bytes[..4], &[0, 3, 0, 1]);
    let tid = first.port;

    // ACK 1 with 20 000 bytes after it (trailing bytes are tolerated).
    let mut junk = vec![0u8; 20_004];
    write_ack(&mut junk, 1).unwrap();
    sut.send(stranger, tid, &junk);
    let e = sut.recv(stranger, Duration::from_secs(3)).expect("ERROR 5");
    assert_eq!((&e.bytes[..4], e.port), (&[0, 5, 0, 5][..], tid));

    sut.send(a, tid, &junk);
    let second = sut.recv(a, Duration::from_secs(3)).expect("DATA 2");
    assert_eq!((&second.bytes[..4], second.port), (&[0, 3, 0, 2][..], tid));

    let mut long_error = vec![0u8; 10_005];
    let n = write_error(&mut long_error, ErrorCode::NOT_DEFINED, &[b'x'; 10_000]).unwrap();
    sut.send(a, tid, &long_error[..n]);
    let c = pxe_tftp_conformance::eventually(&mut sut, "the client's ERROR ends it", |c| {
        c.failed.peer_error == 1
    });
    assert_eq!((c.started, c.completed, c.foreign_tids), (1, 0, 1), "{c:?}");
}
