//! Two clients fetch files at once from a server [`Endpoint`] that gives
//! each transfer a port of its own, over an in-memory link that loses the
//! first answer to one of them; a virtual clock runs every timer to the
//! end. No sockets, no threads, no sleeping.
//!
//! `cargo run -p pxe-tftp --example in_memory`
//!
//! What it shows:
//! * the driver's side of per-port mode: bind a port from
//!   [`Admission::ports`](pxe_tftp::server::Admission::ports), hand it to
//!   [`Endpoint::open`], feed every datagram of that port to
//!   [`Endpoint::handle`], close it on [`Event::Ended`];
//! * the repeated-request rule: the client whose OACK was lost asks again
//!   and the endpoint answers from the running transfer instead of starting
//!   a second one (counted as a duplicate);
//! * windows of DATA blocks leaving as one [`Transmit`] of segments.

use std::collections::{BTreeSet, VecDeque};
use std::net::SocketAddr;

use pxe_tftp::client::ClientRead;
use pxe_tftp::server::{
    Endpoint, EndpointConfig, Event, FileRefusal, FileRequest, Files, Handled, Local, Opened,
    PortChoice, Source, TransferPorts, Transmit,
};
use pxe_tftp::wire::Mode;
use pxe_tftp::{Instant, ServerLimits, TransferConfig, TransferOptions};

/// The server's files: a table in memory.
struct Table(Vec<(&'static str, Vec<u8>)>);

impl<'t> Files for &'t Table {
    type Source = &'t [u8];
    type Refusal = FileRefusal;
    fn open(&mut self, req: &FileRequest<'_>) -> Result<Opened<&'t [u8]>, FileRefusal> {
        self.0
            .iter()
            .find(|(name, _)| name.as_bytes() == req.name)
            .map(|(_, data)| Opened::new(&data[..]))
            .ok_or(FileRefusal::NotFound)
    }
}

/// A datagram on the wire: from, to, bytes.
type Datagram = (SocketAddr, SocketAddr, Vec<u8>);

const SERVER_IP: [u8; 4] = [10, 0, 0, 1];

fn content(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31) ^ seed)
        .collect()
}

fn main() {
    let table = Table(vec![
        ("pxelinux.0", content(42_000, 1)),
        ("ipxe.efi", content(300_001, 2)),
    ]);
    let config = EndpointConfig {
        ports: TransferPorts::Range {
            first: 50_000,
            last: 50_003,
        },
        max_transfers: 4,
        // Up to 8 blocks of a window in one Transmit.
        max_segments: 8,
        limits: ServerLimits {
            max_windowsize: 8,
            ..ServerLimits::default()
        },
        ..EndpointConfig::default()
    };
    let mut server = Endpoint::new(config, &table);
    let mut bound: BTreeSet<u16> = BTreeSet::new();

    let plain = TransferOptions::default();
    let windowed = TransferOptions {
        blksize: Some(1468),
        windowsize: Some(8),
        tsize: Some(0),
        ..TransferOptions::default()
    };
    let mut clients = [
        (
            SocketAddr::from(([10, 0, 0, 2], 2001)),
            ClientRead::new(
                b"pxelinux.0",
                Mode::Octet,
                &plain,
                TransferConfig::default(),
                Vec::new(),
            )
            .expect("request fits"),
            // The server's port, once it answered (the client's TID check).
            None::<u16>,
        ),
        (
            SocketAddr::from(([10, 0, 0, 3], 2002)),
            ClientRead::new(
                b"ipxe.efi",
                Mode::Octet,
                &windowed,
                TransferConfig::default(),
                Vec::new(),
            )
            .expect("request fits"),
            None::<u16>,
        ),
    ];

    let mut wire: VecDeque<Datagram> = VecDeque::new();
    let mut lose_next_answer_to = Some(clients[1].0);
    let (mut buf, mut reply) = (vec![0u8; 8 * 1472], [0u8; 512]);
    let mut now = Instant::ZERO;
    let mut segmented_sends = 0;
    loop {
        let mut moved = false;
        // Clients send: requests to port 69 until answered, then ACKs to the
        // server's port for their transfer.
        for (addr, client, server_port) in &mut clients {
            while let Some(n) = client.poll_transmit(now, &mut buf) {
                let to = SocketAddr::from((SERVER_IP, server_port.unwrap_or(69)));
                wire.push_back((*addr, to, buf[..n].to_vec()));
                moved = true;
            }
        }
        // The server handles what arrived.
        while let Some((from, to, bytes)) = wire.pop_front() {
            let local = Local {
                addr: to.ip(),
                port: to.port(),
                interface: 0,
            };
            match server.handle(now, from, local, &bytes, &mut reply) {
                Handled::Admitted(admission) => {
                    // The driver binds the first free port of the candidates.
                    let port = admission.ports().find_map(|c| match c {
                        PortChoice::Port(p) if !bound.contains(&p) => Some(p),
                        _ => None,
                    });
                    match port {
                        Some(p) => {
                            let id = server.open(admission, p).expect("a free port");
                            bound.insert(p);
                            println!("{from} gets transfer {id} on port {p}");
                        }
                        None => println!("no port: {}", server.not_started(admission)),
                    }
                }
                Handled::Duplicate => println!("{from} asked again: the same request"),
                Handled::Rejected { reply: Some(t), .. }
                | Handled::Refused { reply: Some(t), .. }
                | Handled::Foreign { reply: Some(t) } => queue(&mut wire, &t, &reply),
                _ => {}
            }
        }
        // The server sends; the clients take it.
        while let Some(t) = server.poll_transmit(now, &mut buf) {
            moved = true;
            if t.segment_size.is_some() {
                segmented_sends += 1;
            }
            if lose_next_answer_to == Some(t.destination) {
                println!("lost the first answer to {}", t.destination);
                lose_next_answer_to = None;
                continue;
            }
            queue(&mut wire, &t, &buf);
        }
        while let Some(event) = server.poll_event() {
            if let Event::Ended(ended) = event {
                let t = &ended.transfer;
                println!(
                    "transfer {} to {} {} ({} bytes)",
                    t.id(),
                    t.peer(),
                    ended.outcome,
                    t.stats().bytes
                );
                bound.remove(&t.local().port);
            }
        }
        while let Some((from, to, bytes)) = wire.pop_front() {
            deliver_to_client(&mut clients, now, from, to, &bytes);
        }
        if moved {
            continue;
        }
        // Nothing moves: jump to the next timer (retransmissions, and the
        // clients lingering after their last block).
        let next = clients
            .iter()
            .filter_map(|(_, c, _)| c.poll_timeout())
            .chain(server.poll_timeout())
            .min();
        let Some(next) = next else { break };
        now = next;
        for (_, c, _) in &mut clients {
            c.handle_timeout(now);
        }
        server.handle_timeout(now);
    }

    for ((name, data), (addr, client, _)) in table.0.iter().zip(&clients) {
        assert!(client.state().is_complete(), "{addr}: {:?}", client.state());
        assert_eq!(client.sink(), data, "{name} arrived intact");
        println!("{addr} has {name} ({} bytes)", data.len());
    }
    let c = server.counters();
    println!("{c:?}");
    assert_eq!((c.started, c.completed, c.failed.total()), (2, 2, 0));
    assert!(
        c.duplicates >= 1,
        "the repeated request was not a new transfer"
    );
    assert!(segmented_sends > 0, "windows left as segmented sends");
    assert!(bound.is_empty() && server.active() == 0);
    println!("virtual time: {} ms", now.as_micros() / 1000);
}

/// Puts what the endpoint wrote on the wire, one datagram per segment.
fn queue(wire: &mut VecDeque<Datagram>, t: &Transmit, buf: &[u8]) {
    let from = match t.source {
        Source::Port(l) => SocketAddr::new(l.addr, l.port),
        // A one-off socket for a refusal.
        Source::NewPort(l) => SocketAddr::new(l.addr, 60_000),
    };
    for d in t.datagrams(buf) {
        wire.push_back((from, t.destination, d.to_vec()));
    }
}

type Client = (SocketAddr, ClientRead<Vec<u8>>, Option<u16>);

fn deliver_to_client(
    clients: &mut [Client],
    now: Instant,
    from: SocketAddr,
    to: SocketAddr,
    bytes: &[u8],
) {
    let Some((_, client, server_port)) = clients.iter_mut().find(|(a, _, _)| *a == to) else {
        return;
    };
    // The first answer fixes the server's TID; anything else is a stranger.
    match server_port {
        None => *server_port = Some(from.port()),
        Some(p) if *p != from.port() => return,
        Some(_) => {}
    }
    client.handle_datagram(now, bytes);
}
