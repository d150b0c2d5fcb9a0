//! A sans-IO TFTP engine: RFC 1350, 2347 (options), 2348 (blksize), 2349
//! (timeout, tsize) and 7440 (windowsize), server and client.
//!
//! Nothing here touches a socket, a clock or a thread. The caller feeds
//! datagrams and the current [`Instant`] in, and polls datagrams to send and
//! the next deadline out — the same engine runs under tokio, on smoltcp
//! without an OS, and inside deterministic simulations. The crate is
//! `no_std`; `alloc` and `std` only add [`DataSink`] for `Vec<u8>` and the
//! [`DataSource`]/[`DataSink`] impls for `std::fs::File`.
//!
//! A client engine fetching a file from a server [`server::Endpoint`], in
//! memory, running every timer to the end:
//!
//! ```
//! use core::net::SocketAddr;
//! use pxe_tftp::client::ClientRead;
//! use pxe_tftp::server::{
//!     Endpoint, EndpointConfig, FileRefusal, FileRequest, Files, Handled, Local, Opened,
//!     TransferPorts,
//! };
//! use pxe_tftp::wire::Mode;
//! use pxe_tftp::{Instant, TransferConfig, TransferOptions};
//!
//! /// The files the server has: one.
//! struct OneFile<'a>(&'a [u8]);
//!
//! impl<'a> Files for OneFile<'a> {
//!     type Source = &'a [u8];
//!     type Refusal = FileRefusal;
//!     fn open(&mut self, req: &FileRequest<'_>) -> Result<Opened<&'a [u8]>, FileRefusal> {
//!         match req.name {
//!             b"ipxe.efi" => Ok(Opened::new(self.0)),
//!             _ => Err(FileRefusal::NotFound),
//!         }
//!     }
//! }
//!
//! let file: Vec<u8> = (0..100_000u32).map(|i| i as u8).collect();
//! // Every transfer over the request port, as `tftp-single-port` does.
//! let config = EndpointConfig { ports: TransferPorts::Single, ..EndpointConfig::default() };
//! let mut server = Endpoint::new(config, OneFile(&file));
//! let local = Local { addr: [10, 0, 0, 1].into(), port: 69, interface: 0 };
//! let peer = SocketAddr::from(([10, 0, 0, 2], 2000));
//!
//! let asked = TransferOptions { blksize: Some(1468), windowsize: Some(8), tsize: Some(0), ..Default::default() };
//! let mut client = ClientRead::new(b"ipxe.efi", Mode::Octet, &asked, TransferConfig::default(), Vec::new())?;
//!
//! let (mut buf, mut reply) = ([0u8; 1472], [0u8; 512]);
//! let mut now = Instant::ZERO;
//! loop {
//!     // Client to server: the request, then ACKs.
//!     while let Some(n) = client.poll_transmit(now, &mut buf) {
//!         match server.handle(now, peer, local, &buf[..n], &mut reply) {
//!             Handled::Started { .. } | Handled::Delivered => {}
//!             other => panic!("unexpected {other:?}"),
//!         }
//!     }
//!     // Server to client: the OACK, then windows of DATA.
//!     while let Some(t) = server.poll_transmit(now, &mut buf) {
//!         assert_eq!(t.destination, peer);
//!         for datagram in t.datagrams(&buf) {
//!             client.handle_datagram(now, datagram);
//!         }
//!     }
//!     while let Some(event) = server.poll_event() {
//!         println!("{event:?}");
//!     }
//!     // Nothing moves: sleep until the next timer (the client lingers
//!     // after the last block, to re-ACK it if the server asks again).
//!     let Some(next) = [client.poll_timeout(), server.poll_timeout()].into_iter().flatten().min() else {
//!         break;
//!     };
//!     now = next;
//!     client.handle_timeout(now);
//!     server.handle_timeout(now);
//! }
//! assert!(client.is_finished() && client.state().is_complete());
//! assert_eq!(client.sink(), &file);
//! let counters = server.counters();
//! assert_eq!((counters.started, counters.completed, counters.bytes), (1, 1, 100_000));
//! assert_eq!(server.active(), 0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! `examples/in_memory.rs` runs two clients at once over a lossy link
//! against an endpoint that gives each transfer a port of its own.
//!
//! Modules: [`wire`] (packet views and builders), [`options`] (negotiation),
//! [`server`] (the [`server::Endpoint`] that owns a server's policy, request
//! acceptance, [`server::ReadTransfer`], [`server::WriteTransfer`]),
//! [`client`] ([`client::ClientRead`], [`client::ClientWrite`]),
//! [`netascii`], [`io`] (the storage traits).
//!
//! Every engine has the same interface: `handle_datagram(now, bytes)`,
//! `handle_timeout(now)`, `poll_transmit(now, &mut buf) -> Option<len>`,
//! `poll_timeout() -> Option<Instant>`, `state()`, `is_finished()`,
//! `stats()`, `abort(code, msg)`. Engines do not know addresses; the
//! server [`server::Endpoint`] does: it routes datagrams by client and
//! local port (the TIDs), answers strangers with ERROR 5, applies
//! `tftp-max` and the repeated-request rule, and asks a [`server::Files`]
//! implementation for files (names are raw bytes; resolving them against a
//! root is that implementation's job).
//!
//! Choices worth knowing (details on each item):
//! * block numbers roll over from 65535 to 0, so any file size works;
//! * options: unknown ones ignored, malformed values refused with ERROR 8,
//!   oversized blksize/windowsize granted at the server's limit, no OACK
//!   when nothing was granted ([`options`]);
//! * duplicate ACKs are ignored (no Sorcerer's Apprentice); an ACK inside
//!   the window restarts the window after it (RFC 7440);
//! * netascii `tsize` is the encoded size, computed by reading the source
//!   once ([`netascii`]);
//! * writes exist only behind [`server::ServerPolicy::allow_writes`].
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod client;
mod engine;
pub mod error;
pub mod io;
pub mod netascii;
pub mod options;
mod receiving;
mod sending;
pub mod server;
mod time;
pub mod wire;

use core::time::Duration;

pub use error::{State, Stats, TransferError};
pub use io::{DataSink, DataSource};
pub use options::{RequestedOptions, ServerLimits, TransferOptions};
pub use time::Instant;

/// Retransmission settings shared by every engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransferConfig {
    /// Time to wait for the peer before retransmitting, unless the `timeout`
    /// option negotiated another.
    pub retransmit_timeout: Duration,
    /// Retransmissions in a row (without progress) before giving up.
    pub max_retransmits: u32,
    /// Receivers: how many timeouts to stay after the final block, to
    /// re-ACK it if the sender did not hear the first ACK.
    pub linger_timeouts: u32,
}

impl Default for TransferConfig {
    /// 1 s timeout, 5 retransmissions, linger 2 timeouts.
    fn default() -> Self {
        TransferConfig {
            retransmit_timeout: Duration::from_secs(1),
            max_retransmits: 5,
            linger_timeouts: 2,
        }
    }
}
