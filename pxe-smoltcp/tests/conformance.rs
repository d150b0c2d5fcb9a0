//! The TFTP conformance suite (`pxe-tftp-conformance`) against the smoltcp
//! driver on the in-memory link of `common`, on a virtual clock: the same
//! behaviours `pxe-server` must show (repeated requests, foreign TIDs,
//! tftp-max, UEFI size probes, refusals, rollover).
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::collections::VecDeque;
use std::time::Duration;

use common::{Bench, SERVER};
use pxe_smoltcp::{MemoryFiles, VolatileLeases};
use pxe_tftp::server::Counters;
use pxe_tftp_conformance::{Client, Harness, Reply, ServerUnderTest, Setup};
use smoltcp::iface::SocketHandle;

struct Smoltcp;

struct Sut {
    bench: Bench<MemoryFiles<'static>, VolatileLeases>,
    clients: Vec<(SocketHandle, VecDeque<Reply>)>,
}

impl Harness for Smoltcp {
    type Server = Sut;
    fn start(&self, setup: &Setup) -> Sut {
        // Memory has no "outside": the secret is simply not in the table.
        let table: Vec<(&'static str, &'static [u8])> = setup
            .files
            .iter()
            .map(|(n, d)| (*n, &*Box::leak(d.clone().into_boxed_slice())))
            .collect();
        let files = MemoryFiles::new(Box::leak(table.into_boxed_slice()));
        let max = setup.max_transfers;
        let bench = Bench::new(
            "enable-tftp\n",
            |s| s.max_transfers = max,
            files,
            VolatileLeases,
        );
        Sut {
            bench,
            clients: Vec::new(),
        }
    }
}

impl Sut {
    /// Moves what the client sockets received into their queues.
    fn collect(&mut self) {
        for (h, q) in &mut self.clients {
            for (bytes, from) in self.bench.recv_all(*h) {
                q.push_back(Reply {
                    bytes,
                    port: from.port,
                });
            }
        }
    }
}

impl ServerUnderTest for Sut {
    fn client(&mut self) -> Client {
        let port = 40_000 + u16::try_from(self.clients.len()).unwrap();
        let h = self.bench.client_socket(port);
        self.clients.push((h, VecDeque::new()));
        Client(self.clients.len() - 1)
    }

    fn send(&mut self, client: Client, port: u16, datagram: &[u8]) {
        let h = self.clients[client.0].0;
        self.bench.send(h, (SERVER, port), datagram);
    }

    fn recv(&mut self, client: Client, wait: Duration) -> Option<Reply> {
        let steps = wait.as_millis().max(1);
        for _ in 0..steps {
            if let Some(r) = self.clients[client.0].1.pop_front() {
                return Some(r);
            }
            self.bench.step();
            self.collect();
        }
        self.clients[client.0].1.pop_front()
    }

    fn pause(&mut self, d: Duration) {
        for _ in 0..d.as_millis().max(1) {
            self.bench.step();
            self.collect();
        }
    }

    fn counters(&mut self) -> Counters {
        self.bench.server.tftp_counters()
    }

    fn single_port(&self) -> bool {
        false
    }
}

pxe_tftp_conformance::suite!(Smoltcp);
