//! One running read transfer as the endpoint admitted it: the engine, its
//! client and local port (the TID), the stranger check (ERROR 5) and the
//! packing of a window into one segmented send. The endpoint drives it
//! (single-port mode, or a driver that routes every datagram through the
//! endpoint), or hands it to the driver to run next to its own socket
//! ([`Endpoint::detach`](super::Endpoint::detach)).

use core::fmt;
use core::net::SocketAddr;
use core::time::Duration;

use crate::Instant;
use crate::error::{State, Stats};
use crate::io::DataSource;
use crate::wire::{ErrorCode, HEADER_LEN, Opcode, foreign_tid_reply};

use super::ReadTransfer;
use super::counters::Outcome;
use super::transmit::{Local, MAX_SEGMENTED_BYTES, Source, Transmit};

/// Names a transfer for as long as it runs: its slot in the endpoint and a
/// generation, so a stale id never names the slot's next transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TransferId {
    pub(crate) slot: u32,
    pub(crate) generation: u32,
}

impl fmt::Display for TransferId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}.{}", self.slot, self.generation)
    }
}

/// What a transfer driven by the caller tells its endpoint
/// ([`Endpoint::handle_event`](super::Endpoint::handle_event)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EndpointEvent {
    /// The client acknowledged something (ACK 0 of the OACK, or a DATA
    /// block): from now on a repeated request from it is a new request.
    Progressed,
}

/// A read transfer admitted by an [`Endpoint`](super::Endpoint).
///
/// Feed it every datagram that arrives on its local port with
/// [`handle`](Self::handle) (from anyone: strangers are answered with
/// ERROR 5 and the transfer goes on), call [`handle_timeout`](Self::handle_timeout)
/// when [`poll_timeout`](Self::poll_timeout) is reached, and send what
/// [`poll_transmit`](Self::poll_transmit) writes until it returns `None`.
/// A transfer the caller drives also forwards
/// [`poll_endpoint_event`](Self::poll_endpoint_event) to the endpoint and,
/// once [`is_finished`](Self::is_finished), gives itself back with
/// [`Endpoint::finish`](super::Endpoint::finish).
#[derive(Debug)]
#[must_use = "a transfer holds a slot of its endpoint until it is given back"]
pub struct Transfer<S: DataSource> {
    pub(crate) id: TransferId,
    pub(crate) peer: SocketAddr,
    pub(crate) local: Local,
    pub(crate) engine: ReadTransfer<S>,
    pub(crate) max_segments: usize,
    /// Fingerprint of the request that started it (repeated-request rule).
    pub(crate) digest: u64,
    progress_told: bool,
    foreign: u64,
    /// When its first datagram (OACK or DATA 1) was written, and the last
    /// time it was handled: its duration, for the driver's report.
    first_sent: Option<Instant>,
    last_seen: Instant,
}

impl<S: DataSource> Transfer<S> {
    pub(crate) fn new(
        id: TransferId,
        peer: SocketAddr,
        local: Local,
        engine: ReadTransfer<S>,
        max_segments: usize,
        digest: u64,
    ) -> Self {
        Transfer {
            id,
            peer,
            local,
            engine,
            max_segments: max_segments.clamp(1, super::transmit::MAX_SEGMENTS),
            digest,
            progress_told: false,
            foreign: 0,
            first_sent: None,
            last_seen: Instant::ZERO,
        }
    }

    /// Its id.
    pub fn id(&self) -> TransferId {
        self.id
    }

    /// The client (address and port: its TID).
    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// The local address and port it sends from (its TID; the request port
    /// in single-port mode).
    pub fn local(&self) -> Local {
        self.local
    }

    /// The engine (granted options, state, counters).
    pub fn engine(&self) -> &ReadTransfer<S> {
        &self.engine
    }

    /// Where it stands.
    pub fn state(&self) -> &State<S::Error> {
        self.engine.state()
    }

    /// The engine's counters.
    pub fn stats(&self) -> Stats {
        self.engine.stats()
    }

    /// Datagrams from strangers it answered (or, for their ERRORs, dropped).
    pub fn foreign_datagrams(&self) -> u64 {
        self.foreign
    }

    /// Time from its first datagram to the last call that handled it
    /// (for an ended transfer: how long it took; zero before anything was
    /// sent).
    pub fn elapsed(&self) -> Duration {
        self.first_sent.map_or(Duration::ZERO, |t| {
            self.last_seen.saturating_duration_since(t)
        })
    }

    /// Blocks sent again (after a timeout, or an ACK for an older block of
    /// the window).
    pub fn retransmits(&self) -> u64 {
        self.engine.stats().blocks_resent
    }

    /// The first block the client has not acknowledged (see
    /// [`ReadTransfer::first_unacknowledged_block`]).
    pub fn first_unacknowledged_block(&self) -> u16 {
        self.engine.first_unacknowledged_block()
    }

    /// How it ended so far (an unfinished transfer counts as abandoned).
    pub fn outcome(&self) -> Outcome {
        Outcome::of(&self.engine)
    }

    /// True once it has ended and nothing is left to send.
    pub fn is_finished(&self) -> bool {
        self.engine.is_finished()
    }

    /// The smallest buffer [`poll_transmit`](Self::poll_transmit) accepts.
    pub fn max_datagram_len(&self) -> usize {
        self.engine.max_datagram_len()
    }

    /// The next deadline, if a timer runs.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.engine.poll_timeout()
    }

    /// Ends it, telling the client with ERROR `code` (shutdown).
    pub fn abort(&mut self, code: ErrorCode, message: &'static str) {
        self.engine.abort(code, message);
    }

    /// The data source.
    pub fn source(&self) -> &S {
        self.engine.source()
    }

    /// Gives the data source back.
    pub fn into_source(self) -> S {
        self.engine.into_source()
    }

    /// Handles one datagram that arrived on the transfer's local port from
    /// `from`. From the client, the engine takes it. From anyone else it is
    /// a stranger's (RFC 1350 §4): the transfer is not disturbed, and the
    /// ERROR 5 reply is written into `buf` and returned — except to an
    /// ERROR, which is never answered.
    #[must_use = "an ERROR 5 for a stranger may have been written into `buf`"]
    pub fn handle(
        &mut self,
        now: Instant,
        from: SocketAddr,
        datagram: &[u8],
        buf: &mut [u8],
    ) -> Option<Transmit> {
        if from == self.peer {
            self.last_seen = self.last_seen.max(now);
            self.engine.handle_datagram(now, datagram);
            return None;
        }
        self.foreign = self.foreign.saturating_add(1);
        if is_error(datagram) {
            return None;
        }
        let len = foreign_tid_reply(buf).ok()?;
        Some(Transmit {
            source: Source::Port(self.local),
            destination: from,
            len,
            segment_size: None,
        })
    }

    /// Tells it that `now` has been reached (retransmits, or gives up).
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.engine.poll_timeout().is_some_and(|d| d <= now) {
            self.last_seen = self.last_seen.max(now);
        }
        self.engine.handle_timeout(now);
    }

    /// Writes what is to be sent now into `buf`: one datagram, or a run of
    /// full DATA blocks (a window) for one segmented send — at most the
    /// endpoint's `max_segments` of them, [`MAX_SEGMENTED_BYTES`] and what
    /// `buf` holds. `buf` must hold at least
    /// [`max_datagram_len`](Self::max_datagram_len) bytes (a smaller one
    /// fails the transfer). Call until `None`.
    #[must_use]
    pub fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<Transmit> {
        let first = self.engine.poll_transmit(now, buf)?;
        self.first_sent.get_or_insert(now);
        self.last_seen = self.last_seen.max(now);
        let mut transmit = Transmit {
            source: Source::Port(self.local),
            destination: self.peer,
            len: first,
            segment_size: None,
        };
        let full_block = HEADER_LEN + usize::from(self.engine.granted().effective_blksize());
        let is_data = buf.get(..2) == Some(&(Opcode::Data as u16).to_be_bytes()[..]);
        if first != full_block || !is_data || self.max_segments < 2 {
            return Some(transmit);
        }
        // More blocks of the window join the run while each fits and none
        // can be longer than the first (a shorter one ends the run).
        let cap = buf.len().min(MAX_SEGMENTED_BYTES);
        let (mut len, mut count) = (first, 1);
        while count < self.max_segments
            && cap.saturating_sub(len) >= first
            && self
                .engine
                .next_datagram_bound()
                .is_some_and(|b| b <= first)
        {
            let Some(n) = self.engine.poll_transmit(now, &mut buf[len..len + first]) else {
                break;
            };
            len += n;
            count += 1;
            if n < first {
                break;
            }
        }
        if count > 1 {
            transmit.len = len;
            transmit.segment_size = Some(first);
        }
        Some(transmit)
    }

    /// What the endpoint must be told (a transfer the caller drives
    /// forwards it with [`Endpoint::handle_event`](super::Endpoint::handle_event)).
    /// Call after every `handle*`.
    #[must_use]
    pub fn poll_endpoint_event(&mut self) -> Option<EndpointEvent> {
        if !self.progress_told && self.engine.is_acknowledged() {
            self.progress_told = true;
            return Some(EndpointEvent::Progressed);
        }
        None
    }

    /// True when the client acknowledged something (see
    /// [`ReadTransfer::is_acknowledged`]).
    pub fn is_acknowledged(&self) -> bool {
        self.engine.is_acknowledged()
    }
}

/// Whether `datagram` is a TFTP ERROR (never answered).
pub(crate) fn is_error(datagram: &[u8]) -> bool {
    datagram.get(..2) == Some(&(Opcode::Error as u16).to_be_bytes()[..])
}
