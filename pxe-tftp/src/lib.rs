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
//! A complete transfer between a server and a client engine, no sockets:
//!
//! ```
//! use pxe_tftp::{Instant, TransferConfig, TransferOptions, State};
//! use pxe_tftp::client::ClientRead;
//! use pxe_tftp::server::{accept, ReadTransfer, ServerPolicy};
//! use pxe_tftp::wire::Mode;
//!
//! let file: Vec<u8> = (0..100_000u32).map(|i| i as u8).collect();
//! let policy = ServerPolicy::default();
//! let asked = TransferOptions { blksize: Some(1468), windowsize: Some(8), tsize: Some(0), ..Default::default() };
//! let mut client = ClientRead::new(b"ipxe.efi", Mode::Octet, &asked, TransferConfig::default(), Vec::new())?;
//!
//! let mut buf = [0u8; 1472];
//! let now = Instant::ZERO;
//! // The request goes to port 69, where `accept` checks it.
//! let n = client.poll_transmit(now, &mut buf).unwrap();
//! let req = accept(&buf[..n], &policy).map_err(|r| r.to_string())?;
//! let mut server = ReadTransfer::new(&file[..], req.mode, &req.options, &policy.limits, TransferConfig::default());
//!
//! // Shuttle datagrams until both sides are done.
//! while !(server.is_finished() && client.is_finished()) {
//!     let mut moved = false;
//!     while let Some(n) = server.poll_transmit(now, &mut buf) {
//!         client.handle_datagram(now, &buf[..n]);
//!         moved = true;
//!     }
//!     while let Some(n) = client.poll_transmit(now, &mut buf) {
//!         server.handle_datagram(now, &buf[..n]);
//!         moved = true;
//!     }
//!     if !moved {
//!         break; // only the client's linger timer is left
//!     }
//! }
//! assert_eq!(*server.state(), State::Complete);
//! assert_eq!(client.transfer_size(), Some(100_000));
//! assert_eq!(client.sink(), &file);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Modules: [`wire`] (packet views and builders), [`options`] (negotiation),
//! [`server`] (request acceptance, [`server::ReadTransfer`],
//! [`server::WriteTransfer`]), [`client`] ([`client::ClientRead`],
//! [`client::ClientWrite`]), [`netascii`], [`io`] (the storage traits).
//!
//! Every engine has the same interface: `handle_datagram(now, bytes)`,
//! `handle_timeout(now)`, `poll_transmit(now, &mut buf) -> Option<len>`,
//! `poll_timeout() -> Option<Instant>`, `state()`, `is_finished()`,
//! `stats()`, `abort(code, msg)`. Engines do not know addresses: the driver
//! matches the peer's address and port (the TID) and answers strangers with
//! [`wire::foreign_tid_reply`] (ERROR 5) without touching the engine.
//! File names are raw bytes; resolving them against a root is the caller's
//! job.
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
