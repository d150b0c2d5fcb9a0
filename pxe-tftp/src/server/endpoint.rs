//! The TFTP server endpoint: the one owner of server policy. It admits
//! requests (`tftp-max`, the repeated-request rule, files through
//! [`Files`]), chooses transfer ports, routes datagrams by client and local
//! port, answers strangers with ERROR 5 and counts everything. Drivers only
//! move bytes between it and their sockets.

use alloc::vec::Vec;
use core::fmt;
use core::net::SocketAddr;

use crate::io::DataSource;
use crate::options::{MAX_BLKSIZE, RequestedOptions, ServerLimits, TransferOptions};
use crate::wire::{HEADER_LEN, Opcode, foreign_tid_reply};
use crate::{Instant, TransferConfig};

use super::counters::{Counters, Failure, Outcome};
use super::files::{FileRequest, Files, Refusal};
use super::transfer::{EndpointEvent, Transfer, TransferId, is_error};
use super::transmit::{Local, Source, Transmit};
use super::{ReadTransfer, Rejection, ServerPolicy, accept};

/// How transfers get their local port (their TID).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransferPorts {
    /// Every transfer runs over the request port, told apart by the
    /// client's address and port (`tftp-single-port`: not RFC 1350, but
    /// some firewalls let nothing else through).
    Single,
    /// Each transfer on a port of its own that the driver's stack picks
    /// (it binds port 0 and reports the port it got).
    Ephemeral,
    /// Each transfer on a port of its own from `first..=last`
    /// (`tftp-port-range`), tried round robin so a port just closed is not
    /// the first one tried again.
    Range {
        /// First port of the range.
        first: u16,
        /// Last port of the range (inclusive).
        last: u16,
    },
}

/// Where the ERROR answering a refused request leaves from, in the modes
/// where each transfer has a port of its own (in single-port mode it is
/// always the request port).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestErrors {
    /// From a new port, as dnsmasq and tftp-hpa answer (RFC 1350: the
    /// answer to a request comes from a new TID).
    FromNewPort,
    /// From the request port: for a driver that has no one-off sockets (a
    /// board with a fixed socket pool). Clients accept both.
    FromRequestPort,
}

/// What an [`Endpoint`] is configured with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EndpointConfig {
    /// The request port (69).
    pub request_port: u16,
    /// `tftp-max`: transfers running at once. Requests beyond it are
    /// dropped (the client asks again).
    pub max_transfers: usize,
    /// How transfers get their port.
    pub ports: TransferPorts,
    /// Option limits and switches (`tftp-no-blocksize`, the largest
    /// blksize and windowsize granted).
    pub limits: ServerLimits,
    /// `tftp-mtu`: cap on the link MTU a [`Files`] implementation reports.
    pub mtu_cap: Option<u32>,
    /// Retransmission settings of every transfer.
    pub transfer: TransferConfig,
    /// Where refusals of requests leave from.
    pub request_errors: RequestErrors,
    /// Most datagrams one [`Transmit`] carries: 1 for a driver that sends
    /// one datagram per call, up to [`MAX_SEGMENTS`](super::MAX_SEGMENTS) for one that sends a
    /// window with `UDP_SEGMENT`.
    pub max_segments: usize,
}

impl Default for EndpointConfig {
    /// Port 69, `tftp-max` 50, a port of its own per transfer from the
    /// driver's stack, the default limits, no MTU cap, refusals from a new
    /// port, one datagram per [`Transmit`].
    fn default() -> Self {
        EndpointConfig {
            request_port: 69,
            max_transfers: 50,
            ports: TransferPorts::Ephemeral,
            limits: ServerLimits::default(),
            mtu_cap: None,
            transfer: TransferConfig::default(),
            request_errors: RequestErrors::FromNewPort,
            max_segments: 1,
        }
    }
}

/// One port to try binding for a new transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PortChoice {
    /// Any port the stack picks (bind port 0, report the port it got).
    Any,
    /// This port.
    Port(u16),
}

/// The ports to try for a new transfer, in order: one [`PortChoice::Any`],
/// or every port of the range once, starting after the last one handed
/// out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortCandidates {
    first: u16,
    count: u32,
    next: u32,
    left: u32,
    any: bool,
}

impl Iterator for PortCandidates {
    type Item = PortChoice;
    fn next(&mut self) -> Option<PortChoice> {
        if self.any {
            self.any = false;
            return Some(PortChoice::Any);
        }
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let offset = self.next % self.count.max(1);
        self.next = self.next.wrapping_add(1);
        let port = u32::from(self.first) + offset;
        Some(PortChoice::Port(u16::try_from(port).unwrap_or(u16::MAX)))
    }
}

/// A request admitted in a mode where the transfer needs a port of its
/// own: bind a socket to one of [`ports`](Self::ports), then hand it to
/// [`Endpoint::open`] (the endpoint drives the transfer) or
/// [`Endpoint::detach`] (the caller drives it next to its socket), or give
/// up with [`Endpoint::not_started`].
#[must_use = "bind a port and open or detach it, or call Endpoint::not_started"]
pub struct Admission<'a, S: DataSource> {
    name: &'a [u8],
    peer: SocketAddr,
    local: Local,
    digest: u64,
    engine: ReadTransfer<S>,
    ports: PortCandidates,
}

impl<'a, S: DataSource> Admission<'a, S> {
    /// The requested file name (raw bytes).
    pub fn name(&self) -> &'a [u8] {
        self.name
    }
    /// The client.
    pub fn peer(&self) -> SocketAddr {
        self.peer
    }
    /// The local address the request came in on; the transfer's socket is
    /// bound on its address.
    pub fn local(&self) -> Local {
        self.local
    }
    /// The ports to try, in order.
    pub fn ports(&self) -> PortCandidates {
        self.ports
    }
    /// What the transfer will grant.
    pub fn granted(&self) -> &TransferOptions {
        self.engine.granted()
    }
}

impl<S: DataSource> fmt::Debug for Admission<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Admission")
            .field("name", &super::Name(self.name))
            .field("peer", &self.peer)
            .field("local", &self.local)
            .field("granted", self.engine.granted())
            .field("ports", &self.ports)
            .finish_non_exhaustive()
    }
}

/// Why an admitted request did not become a transfer (counted as busy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NotStarted {
    /// No port of the range could be bound.
    #[error("no free port in tftp-port-range {first}-{last}")]
    NoFreePort {
        /// First port of the range.
        first: u16,
        /// Last port.
        last: u16,
    },
    /// The stack gave no port.
    #[error("no port could be bound for the transfer")]
    NoPort,
    /// The port reported is not one a transfer may use: 0, the request
    /// port, outside the range, or another transfer's.
    #[error(
        "port {0} cannot carry a new transfer (0, the request port, outside the range, or in use)"
    )]
    PortInUse(u16),
    /// Every slot was taken meanwhile (admissions were interleaved).
    #[error("{max} transfers running (tftp-max)")]
    Busy {
        /// `tftp-max`.
        max: usize,
    },
}

/// What [`Endpoint::handle`] did with a datagram.
#[must_use = "a reply may have been written into the buffer, or a transfer may need a port"]
#[derive(Debug)]
// An admission carries its engine by value: boxing it would allocate per
// request, and a board's driver must not.
#[allow(clippy::large_enum_variant)]
pub enum Handled<'a, S: DataSource, R> {
    /// Given to the running transfer it belongs to; its answer comes from
    /// [`Endpoint::poll_transmit`].
    Delivered,
    /// A repeated request, dropped as the same request (see the
    /// repeated-request rule on [`Endpoint`]).
    Duplicate,
    /// Not an acceptable request (malformed, a write, a bad mode or option,
    /// not a request at all); `reply` is the ERROR written into the buffer
    /// (none for an ERROR).
    Rejected {
        /// Why.
        rejection: Rejection,
        /// The ERROR to send.
        reply: Option<Transmit>,
    },
    /// The file was refused by [`Files::open`]; `reply` is the ERROR
    /// written into the buffer (none only when the buffer cannot hold 5
    /// bytes).
    Refused {
        /// The requested name.
        name: &'a [u8],
        /// Why.
        refusal: R,
        /// The ERROR to send.
        reply: Option<Transmit>,
    },
    /// Dropped: `tftp-max` transfers are running (the client asks again).
    Busy {
        /// The requested name.
        name: &'a [u8],
        /// `tftp-max`.
        max: usize,
    },
    /// From a stranger: on a transfer's port from someone else, or in
    /// single-port mode a non-request from a client with no transfer.
    /// `reply` is the ERROR 5 written into the buffer (none for an ERROR).
    Foreign {
        /// The ERROR 5 to send.
        reply: Option<Transmit>,
    },
    /// For a local port no transfer of this endpoint runs on (a late
    /// datagram for an ended transfer); dropped.
    Unroutable,
    /// A transfer started over the request port (single-port mode); its
    /// datagrams come from [`Endpoint::poll_transmit`].
    Started {
        /// Its id.
        id: TransferId,
        /// The requested name.
        name: &'a [u8],
        /// What it grants (what its OACK says; empty when none is sent).
        granted: TransferOptions,
    },
    /// A transfer was admitted and needs a port of its own.
    Admitted(Admission<'a, S>),
}

/// A transfer that ended, with how it was counted.
#[derive(Debug)]
pub struct Ended<S: DataSource> {
    /// The transfer (its state, counters, and source for logs).
    pub transfer: Transfer<S>,
    /// How it was counted.
    pub outcome: Outcome,
}

/// What the driver must act on, from [`Endpoint::poll_event`].
#[derive(Debug)]
// The ended transfer is moved out of its slot, not boxed: no allocation.
#[allow(clippy::large_enum_variant)]
pub enum Event<S: DataSource> {
    /// A transfer the endpoint drove has ended: log it; in per-port mode
    /// close its socket (once its last datagrams have left).
    Ended(Ended<S>),
    /// A transfer the caller drives was replaced by a new request from the
    /// same client: stop driving it and give it back with
    /// [`Endpoint::finish`] (no ERROR is owed to the client, who has moved
    /// on).
    Cancel(TransferId),
}

/// A file refusal and the ERROR written for it.
type Refused<R> = (R, Option<Transmit>);

/// A transfer the caller drives, as the endpoint remembers it.
#[derive(Debug, Clone, Copy)]
struct Away {
    id: TransferId,
    peer: SocketAddr,
    port: u16,
    digest: u64,
    progressed: bool,
}

#[derive(Debug)]
enum Slot<S: DataSource> {
    Free,
    /// Driven by the endpoint.
    Running(Transfer<S>),
    /// Driven by the endpoint and ended; waiting for `poll_event`.
    Ended(Transfer<S>, Outcome),
    /// Driven by the caller.
    Detached(Away),
    /// Driven by the caller and replaced; waiting for it to come back.
    /// `told`: the `Cancel` event went out.
    Cancelled {
        away: Away,
        told: bool,
    },
}

#[derive(Debug)]
struct Entry<S: DataSource> {
    generation: u32,
    slot: Slot<S>,
}

/// The TFTP server endpoint: transfer slots, `tftp-max`, routing, the
/// repeated-request rule, ERROR 5 for strangers and the counters, with no
/// I/O, no clock and no allocation per datagram (the slot table is
/// allocated once, and grows only up to `tftp-max`).
///
/// # Modes
///
/// * **Single port** ([`TransferPorts::Single`]): every datagram arrives on
///   the request port and goes through [`handle`](Self::handle), which
///   routes it by the client's address and port; the endpoint drives
///   every transfer, and [`poll_transmit`](Self::poll_transmit) yields
///   their datagrams, all from the request port.
/// * **Port per transfer**, endpoint-driven: a request is
///   [`Handled::Admitted`]; the driver binds a socket to a port of
///   [`Admission::ports`] and calls [`open`](Self::open); every datagram
///   arriving on that socket goes through [`handle`](Self::handle) with
///   the socket's port as `local.port` (routing by local port: a
///   stranger gets ERROR 5). [`poll_transmit`](Self::poll_transmit) or
///   [`poll_transmit_on`](Self::poll_transmit_on) (one socket at a time,
///   for a driver that must check a socket's room first) yield the
///   datagrams; [`Event::Ended`] says when a port closes.
/// * **Port per transfer**, caller-driven (quinn's model): as above, but
///   [`detach`](Self::detach) hands the [`Transfer`] to the driver, which
///   runs it next to its socket (a thread per transfer, no lock per
///   datagram), forwards [`Transfer::poll_endpoint_event`] to
///   [`handle_event`](Self::handle_event), and gives it back with
///   [`finish`](Self::finish) when it is finished (or when told
///   [`Event::Cancel`]). The endpoint still admits, routes requests,
///   counts and decides.
///
/// After every call, send what [`poll_transmit`](Self::poll_transmit)
/// writes until `None`, act on [`poll_event`](Self::poll_event) until
/// `None`, and wake at [`poll_timeout`](Self::poll_timeout) to call
/// [`handle_timeout`](Self::handle_timeout).
///
/// # The repeated-request rule
///
/// A request from a client (address and port) that has a running transfer
/// is, in every mode:
///
/// * **the same request** — dropped, counted as a duplicate, the transfer
///   goes on and retransmits on its own timer — when it is byte for byte
///   the request that started the transfer *and* the client has not yet
///   acknowledged anything (neither ACK 0 of the OACK nor a DATA block).
///   Clients re-send an unanswered request (PXELINUX after about 60 ms),
///   and starting a second transfer for it would answer twice from two
///   TIDs and hold a second slot until it times out;
/// * **a new request** otherwise — the transfer has progressed (a client
///   that asks again after acknowledging blocks has rebooted or given
///   up), or it asks for something else (another file or other options,
///   as UEFI does after its `tsize` probe). If it is an acceptable read
///   request, the running transfer ends at once, counted as
///   [`Failure::Superseded`], without an ERROR (the client has moved on,
///   and in single-port mode an ERROR would reach its new transfer), and
///   the request is handled like any other (its slot is free for it). A
///   transfer the caller drives is told to stop ([`Event::Cancel`]); if it
///   comes back having ended on its own meanwhile, it is counted as it
///   ended instead.
///
/// # Size probes
///
/// UEFI firmware asks with `tsize`, reads the size from the OACK and
/// answers it with ERROR 8; such a transfer ends as
/// [`Outcome::SizeProbe`] and is counted in [`Counters::probes`], not as a
/// failure.
#[derive(Debug)]
pub struct Endpoint<F: Files> {
    config: EndpointConfig,
    files: F,
    entries: Vec<Entry<F::Source>>,
    /// Round-robin position in the port range.
    next_port: u32,
    /// Round-robin position of `poll_transmit`.
    cursor: usize,
    counters: Counters,
}

/// FNV-1a: a request's fingerprint for the repeated-request rule (two
/// different requests of one client colliding only makes one of them a
/// duplicate, which the client re-sends).
fn fingerprint(datagram: &[u8]) -> u64 {
    datagram.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn is_request(datagram: &[u8]) -> bool {
    matches!(
        datagram.get(..2).map(|o| u16::from_be_bytes([o[0], o[1]])),
        Some(op) if op == Opcode::Rrq as u16 || op == Opcode::Wrq as u16
    )
}

/// A `fmt::Write` into a byte buffer that stops at its end or at a NUL
/// (an ERROR message is NUL-terminated).
struct MessageWriter<'b> {
    buf: &'b mut [u8],
    len: usize,
    full: bool,
}

impl fmt::Write for MessageWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for &b in s.as_bytes() {
            if self.full || b == 0 || self.len >= self.buf.len() {
                self.full = true;
                return Ok(());
            }
            self.buf[self.len] = b;
            self.len += 1;
        }
        Ok(())
    }
}

impl<F: Files> Endpoint<F> {
    /// An endpoint serving `files`.
    pub fn new(config: EndpointConfig, files: F) -> Self {
        // One entry beyond tftp-max holds a replaced transfer until its
        // event is polled; reserved now so steady state never allocates.
        let reserve = config.max_transfers.saturating_add(1).min(1024);
        Endpoint {
            config,
            files,
            entries: Vec::with_capacity(reserve),
            next_port: 0,
            cursor: 0,
            counters: Counters::default(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &EndpointConfig {
        &self.config
    }

    /// Replaces the configuration for the requests that follow (a
    /// configuration reload): limits, option switches, `tftp-max`, the port
    /// range and error policy apply to the next request; running transfers
    /// keep what they negotiated, and a lower `tftp-max` admits nothing new
    /// until enough of them end. The request port and the choice between
    /// single-port and port-per-transfer mode belong to the driver's
    /// sockets and are kept: changing them takes a new endpoint.
    pub fn reconfigure(&mut self, config: EndpointConfig) {
        let mut config = config;
        config.request_port = self.config.request_port;
        let single = |p: &TransferPorts| *p == TransferPorts::Single;
        if single(&config.ports) != single(&self.config.ports) {
            config.ports = self.config.ports;
            config.max_segments = self.config.max_segments;
        }
        let reserve = config.max_transfers.saturating_add(1).min(1024);
        self.entries
            .reserve(reserve.saturating_sub(self.entries.len()));
        self.config = config;
    }

    /// The files.
    pub fn files(&self) -> &F {
        &self.files
    }

    /// The files, mutably.
    pub fn files_mut(&mut self) -> &mut F {
        &mut self.files
    }

    /// The counters.
    pub fn counters(&self) -> Counters {
        self.counters
    }

    /// Transfers running now, driven by the endpoint or by the caller
    /// (not counting replaced ones the caller has yet to give back).
    pub fn active(&self) -> usize {
        self.occupied()
    }

    /// The largest datagram a transfer of this endpoint sends: the buffer
    /// [`poll_transmit`](Self::poll_transmit) needs at least.
    pub fn max_datagram_len(&self) -> usize {
        let blksize = self.config.limits.max_blksize.min(MAX_BLKSIZE);
        (HEADER_LEN + usize::from(blksize)).max(516)
    }

    /// Handles one datagram that arrived from `peer` on `local` (the
    /// request port, or in per-port mode the port of a transfer this
    /// endpoint drives). An immediate reply (an ERROR) is written into
    /// `buf` (512 bytes are plenty) and described in the result.
    pub fn handle<'a>(
        &mut self,
        now: Instant,
        peer: SocketAddr,
        local: Local,
        datagram: &'a [u8],
        buf: &mut [u8],
    ) -> Handled<'a, F::Source, F::Refusal> {
        if local.port != self.config.request_port {
            return self.on_transfer_port(now, peer, local.port, datagram, buf);
        }
        if self.config.ports == TransferPorts::Single && !is_request(datagram) {
            return match self.running_for(peer) {
                Some(i) => self.deliver(i, now, peer, datagram, buf),
                None => self.stranger(local, peer, datagram, buf),
            };
        }
        self.request(peer, local, datagram, buf)
    }

    /// Opens an admitted transfer on `port` (a socket the driver bound);
    /// the endpoint drives it from now on. Errors are counted as busy.
    pub fn open(
        &mut self,
        admission: Admission<'_, F::Source>,
        port: u16,
    ) -> Result<TransferId, NotStarted> {
        let transfer = self.start(admission, port)?;
        let id = transfer.id;
        if let Some(e) = self.entry_mut(id) {
            e.slot = Slot::Running(transfer);
        }
        Ok(id)
    }

    /// Starts an admitted transfer on `port` (a socket the driver bound)
    /// and hands it to the caller to drive. Errors are counted as busy.
    pub fn detach(
        &mut self,
        admission: Admission<'_, F::Source>,
        port: u16,
    ) -> Result<Transfer<F::Source>, NotStarted> {
        let transfer = self.start(admission, port)?;
        if let Some(e) = self.entry_mut(transfer.id) {
            e.slot = Slot::Detached(Away {
                id: transfer.id,
                peer: transfer.peer,
                port,
                digest: transfer.digest,
                progressed: false,
            });
        }
        Ok(transfer)
    }

    /// Gives up an admitted transfer for which no port could be bound
    /// (counted as busy); the result says why, for the log.
    #[must_use]
    pub fn not_started(&mut self, admission: Admission<'_, F::Source>) -> NotStarted {
        drop(admission);
        self.counters.busy += 1;
        match self.config.ports {
            TransferPorts::Range { first, last } => NotStarted::NoFreePort {
                first: first.min(last),
                last: first.max(last),
            },
            TransferPorts::Single | TransferPorts::Ephemeral => NotStarted::NoPort,
        }
    }

    /// Takes an event from a transfer the caller drives.
    pub fn handle_event(&mut self, id: TransferId, event: EndpointEvent) {
        if let Some(Entry {
            slot: Slot::Detached(away),
            ..
        }) = self.entry_mut(id)
        {
            match event {
                EndpointEvent::Progressed => away.progressed = true,
            }
        }
    }

    /// Takes back a transfer the caller drove, when it is finished (or
    /// after [`Event::Cancel`], or when its socket failed), counts how it
    /// ended and frees its slot.
    #[must_use]
    pub fn finish(&mut self, transfer: Transfer<F::Source>) -> Ended<F::Source> {
        let id = transfer.id;
        let mut outcome = transfer.outcome();
        let bytes = transfer.stats().bytes;
        let foreign = transfer.foreign_datagrams();
        if let Some(e) = entry_of(&mut self.entries, id) {
            match e.slot {
                Slot::Detached(a) if a.id == id => {
                    self.counters.count_outcome(outcome);
                    self.counters.count_traffic(bytes, foreign);
                    e.slot = Slot::Free;
                }
                Slot::Cancelled { away, .. } if away.id == id => {
                    // Counted as superseded when it was replaced; but it may
                    // have ended on its own before it heard of that (a size
                    // probe's ERROR 8 and the next request arrive
                    // together): then that is how it ended.
                    if transfer.is_finished() {
                        self.counters.uncount_superseded();
                        self.counters.count_outcome(outcome);
                    } else {
                        outcome = Outcome::Failed(Failure::Superseded);
                    }
                    self.counters.count_traffic(bytes, foreign);
                    e.slot = Slot::Free;
                }
                _ => {}
            }
        }
        Ended { transfer, outcome }
    }

    /// Tells the transfers the endpoint drives that `now` has been reached.
    pub fn handle_timeout(&mut self, now: Instant) {
        for i in 0..self.entries.len() {
            if let Slot::Running(t) = &mut self.entries[i].slot
                && t.poll_timeout().is_some_and(|d| d <= now)
            {
                t.handle_timeout(now);
                self.settle(i);
            }
        }
    }

    /// The earliest deadline of the transfers the endpoint drives.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.entries
            .iter()
            .filter_map(|e| match &e.slot {
                Slot::Running(t) => t.poll_timeout(),
                _ => None,
            })
            .min()
    }

    /// Writes the next datagram (or window, see [`Transfer::poll_transmit`])
    /// of the transfers the endpoint drives into `buf`, taking them in turn.
    /// `buf` must hold [`max_datagram_len`](Self::max_datagram_len) bytes.
    #[must_use]
    pub fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<Transmit> {
        let n = self.entries.len();
        for k in 0..n {
            let i = (self.cursor + k) % n;
            if let Slot::Running(t) = &mut self.entries[i].slot
                && let Some(tx) = t.poll_transmit(now, buf)
            {
                self.settle(i);
                self.cursor = (i + 1) % n;
                return Some(tx);
            }
        }
        None
    }

    /// Like [`poll_transmit`](Self::poll_transmit), for the transfer on
    /// local port `port` only (per-port mode, a driver checking each
    /// socket's room first).
    #[must_use]
    pub fn poll_transmit_on(
        &mut self,
        now: Instant,
        port: u16,
        buf: &mut [u8],
    ) -> Option<Transmit> {
        let i = self.running_on(port)?;
        let Slot::Running(t) = &mut self.entries[i].slot else {
            return None;
        };
        let tx = t.poll_transmit(now, buf);
        self.settle(i);
        tx
    }

    /// The next thing the driver must act on.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event<F::Source>> {
        for e in &mut self.entries {
            match &mut e.slot {
                Slot::Ended(..) => {
                    if let Slot::Ended(transfer, outcome) =
                        core::mem::replace(&mut e.slot, Slot::Free)
                    {
                        return Some(Event::Ended(Ended { transfer, outcome }));
                    }
                }
                Slot::Cancelled { away, told } if !*told => {
                    *told = true;
                    return Some(Event::Cancel(away.id));
                }
                _ => {}
            }
        }
        None
    }

    /// Ends every transfer the endpoint drives with ERROR `code` (shutdown);
    /// the ERRORs come from [`poll_transmit`](Self::poll_transmit).
    pub fn abort_all(&mut self, code: crate::wire::ErrorCode, message: &'static str) {
        for e in &mut self.entries {
            if let Slot::Running(t) = &mut e.slot {
                t.abort(code, message);
            }
        }
    }

    // ---- routing -------------------------------------------------------

    fn entry_mut(&mut self, id: TransferId) -> Option<&mut Entry<F::Source>> {
        entry_of(&mut self.entries, id)
    }

    /// The transfer the endpoint drives for `peer` (single-port routing).
    fn running_for(&self, peer: SocketAddr) -> Option<usize> {
        self.entries
            .iter()
            .position(|e| matches!(&e.slot, Slot::Running(t) if t.peer == peer))
    }

    /// The transfer the endpoint drives on local port `port`.
    fn running_on(&self, port: u16) -> Option<usize> {
        self.entries
            .iter()
            .position(|e| matches!(&e.slot, Slot::Running(t) if t.local.port == port))
    }

    /// The running transfer (driven by anyone) of client `peer`.
    fn transfer_of(&self, peer: SocketAddr) -> Option<usize> {
        self.entries.iter().position(|e| match &e.slot {
            Slot::Running(t) => t.peer == peer,
            Slot::Detached(a) => a.peer == peer,
            _ => false,
        })
    }

    fn port_taken(&self, port: u16) -> bool {
        self.entries.iter().any(|e| match &e.slot {
            Slot::Running(t) | Slot::Ended(t, _) => t.local.port == port,
            Slot::Detached(a) | Slot::Cancelled { away: a, .. } => a.port == port,
            Slot::Free => false,
        })
    }

    fn on_transfer_port(
        &mut self,
        now: Instant,
        peer: SocketAddr,
        port: u16,
        datagram: &[u8],
        buf: &mut [u8],
    ) -> Handled<'static, F::Source, F::Refusal> {
        match self.running_on(port) {
            Some(i) => self.deliver(i, now, peer, datagram, buf),
            None => Handled::Unroutable,
        }
    }

    fn deliver(
        &mut self,
        i: usize,
        now: Instant,
        peer: SocketAddr,
        datagram: &[u8],
        buf: &mut [u8],
    ) -> Handled<'static, F::Source, F::Refusal> {
        let Slot::Running(t) = &mut self.entries[i].slot else {
            return Handled::Unroutable;
        };
        let foreign = peer != t.peer;
        let reply = t.handle(now, peer, datagram, buf);
        self.settle(i);
        if foreign {
            Handled::Foreign { reply }
        } else {
            Handled::Delivered
        }
    }

    /// A non-request on the shared port from a client with no transfer.
    fn stranger(
        &mut self,
        local: Local,
        peer: SocketAddr,
        datagram: &[u8],
        buf: &mut [u8],
    ) -> Handled<'static, F::Source, F::Refusal> {
        self.counters.foreign_tids += 1;
        if is_error(datagram) {
            return Handled::Foreign { reply: None };
        }
        let reply = foreign_tid_reply(buf).ok().map(|len| Transmit {
            source: Source::Port(local),
            destination: peer,
            len,
            segment_size: None,
        });
        Handled::Foreign { reply }
    }

    // ---- requests ------------------------------------------------------

    /// A datagram on the request port that is not for a running transfer:
    /// the repeated-request rule, acceptance, `tftp-max`, the file, and
    /// the start (or admission) of the transfer.
    fn request<'a>(
        &mut self,
        peer: SocketAddr,
        local: Local,
        datagram: &'a [u8],
        buf: &mut [u8],
    ) -> Handled<'a, F::Source, F::Refusal> {
        self.counters.requests += 1;
        let digest = fingerprint(datagram);
        let existing = self.transfer_of(peer);
        if existing.is_some_and(|i| self.is_same_request(i, digest)) {
            self.counters.duplicates += 1;
            return Handled::Duplicate;
        }
        let policy = ServerPolicy {
            limits: self.config.limits,
            allow_writes: false,
        };
        // Writes are never allowed, so what `accept` lets through is a read.
        let accepted = match accept(datagram, &policy) {
            Ok(a) => a,
            Err(rejection) => {
                self.counters.refused += 1;
                let reply = rejection
                    .write_reply(buf)
                    .map(|len| self.request_reply(local, peer, len));
                return Handled::Rejected { rejection, reply };
            }
        };
        if let Some(i) = existing {
            self.supersede(i);
        }
        let name = accepted.filename;
        if self.occupied() >= self.config.max_transfers {
            self.counters.busy += 1;
            return Handled::Busy {
                name,
                max: self.config.max_transfers,
            };
        }
        let request = FileRequest {
            name,
            mode: accepted.mode,
            peer,
            local,
        };
        let engine = match self.open_file(&request, &accepted.options, buf) {
            Ok(engine) => engine,
            Err((refusal, reply)) => {
                return Handled::Refused {
                    name,
                    refusal,
                    reply,
                };
            }
        };
        if self.config.ports == TransferPorts::Single {
            return self.start_on_request_port(request, engine, digest);
        }
        Handled::Admitted(Admission {
            name,
            peer,
            local,
            digest,
            engine,
            ports: self.candidates(),
        })
    }

    /// Opens the file of an accepted request and builds its engine, or
    /// writes the refusal into `buf` and gives it back with its reply.
    fn open_file(
        &mut self,
        request: &FileRequest<'_>,
        options: &RequestedOptions,
        buf: &mut [u8],
    ) -> Result<ReadTransfer<F::Source>, Refused<F::Refusal>> {
        let opened = match self.files.open(request) {
            Ok(o) => o,
            Err(refusal) => {
                self.counters.refused += 1;
                let reply = write_refusal(buf, &refusal, request)
                    .map(|len| self.request_reply(request.local, request.peer, len));
                return Err((refusal, reply));
            }
        };
        let limits = self.limits_for(opened.mtu, request.peer);
        Ok(ReadTransfer::new(
            opened.source,
            request.mode,
            options,
            &limits,
            self.config.transfer,
        ))
    }

    /// Starts a transfer over the request port (single-port mode).
    fn start_on_request_port<'a>(
        &mut self,
        request: FileRequest<'a>,
        engine: ReadTransfer<F::Source>,
        digest: u64,
    ) -> Handled<'a, F::Source, F::Refusal> {
        let Some(i) = self.place() else {
            // Only when ended transfers pile up unpolled.
            self.counters.busy += 1;
            return Handled::Busy {
                name: request.name,
                max: self.config.max_transfers,
            };
        };
        let id = self.claim(i);
        let granted = *engine.granted();
        let transfer = Transfer::new(
            id,
            request.peer,
            request.local,
            engine,
            self.config.max_segments,
            digest,
        );
        self.entries[i].slot = Slot::Running(transfer);
        self.counters.started += 1;
        Handled::Started {
            id,
            name: request.name,
            granted,
        }
    }

    fn is_same_request(&self, i: usize, digest: u64) -> bool {
        match &self.entries[i].slot {
            Slot::Running(t) => t.digest == digest && !t.is_acknowledged(),
            Slot::Detached(a) => a.digest == digest && !a.progressed,
            _ => false,
        }
    }

    /// Ends the transfer in entry `i`: a new request of its client replaces it.
    fn supersede(&mut self, i: usize) {
        let e = &mut self.entries[i];
        match core::mem::replace(&mut e.slot, Slot::Free) {
            Slot::Running(t) => {
                let outcome = Outcome::Failed(Failure::Superseded);
                self.counters.count_outcome(outcome);
                self.counters
                    .count_traffic(t.stats().bytes, t.foreign_datagrams());
                e.slot = Slot::Ended(t, outcome);
            }
            Slot::Detached(away) => {
                self.counters
                    .count_outcome(Outcome::Failed(Failure::Superseded));
                e.slot = Slot::Cancelled { away, told: false };
            }
            other => e.slot = other,
        }
    }

    fn request_reply(&self, local: Local, peer: SocketAddr, len: usize) -> Transmit {
        let source = match (self.config.ports, self.config.request_errors) {
            (TransferPorts::Single, _) | (_, RequestErrors::FromRequestPort) => Source::Port(local),
            (_, RequestErrors::FromNewPort) => Source::NewPort(local),
        };
        Transmit {
            source,
            destination: peer,
            len,
            segment_size: None,
        }
    }

    fn limits_for(&self, mtu: Option<u32>, peer: SocketAddr) -> ServerLimits {
        let mut limits = self.config.limits;
        let link = match (mtu, self.config.mtu_cap) {
            (Some(m), Some(c)) => Some(m.min(c)),
            (m, c) => m.or(c),
        };
        if let Some(m) = link {
            limits.max_blksize = limits
                .max_blksize
                .min(ServerLimits::blksize_for_mtu(m, peer.is_ipv6()));
        }
        limits
    }

    // ---- slots and ports -------------------------------------------------

    /// Slots holding a running transfer: what `tftp-max` bounds. A replaced
    /// transfer its caller has yet to give back is not one (the new
    /// request of its client may take a slot at once); the entry limit of
    /// [`place`](Self::place) bounds those.
    fn occupied(&self) -> usize {
        self.entries
            .iter()
            .filter(|e| matches!(e.slot, Slot::Running(_) | Slot::Detached(_)))
            .count()
    }

    /// A free entry: a free one, a new one, or (when the driver lets ended
    /// transfers pile up unpolled) the oldest ended one.
    fn place(&mut self) -> Option<usize> {
        if let Some(i) = self
            .entries
            .iter()
            .position(|e| matches!(e.slot, Slot::Free))
        {
            return Some(i);
        }
        let limit = self
            .config
            .max_transfers
            .saturating_mul(2)
            .saturating_add(1);
        if self.entries.len() < limit {
            self.entries.push(Entry {
                generation: 0,
                slot: Slot::Free,
            });
            return Some(self.entries.len() - 1);
        }
        let i = self
            .entries
            .iter()
            .position(|e| matches!(e.slot, Slot::Ended(..)))?;
        self.entries[i].slot = Slot::Free;
        Some(i)
    }

    /// Gives entry `i` its next generation and returns the id.
    fn claim(&mut self, i: usize) -> TransferId {
        let e = &mut self.entries[i];
        e.generation = e.generation.wrapping_add(1);
        TransferId {
            slot: u32::try_from(i).unwrap_or(u32::MAX),
            generation: e.generation,
        }
    }

    fn candidates(&mut self) -> PortCandidates {
        match self.config.ports {
            TransferPorts::Range { first, last } => {
                let (lo, hi) = (first.min(last), first.max(last));
                let count = u32::from(hi) - u32::from(lo) + 1;
                let start = self.next_port % count;
                self.next_port = (start + 1) % count;
                PortCandidates {
                    first: lo,
                    count,
                    next: start,
                    left: count,
                    any: false,
                }
            }
            TransferPorts::Single | TransferPorts::Ephemeral => PortCandidates {
                first: 0,
                count: 0,
                next: 0,
                left: 0,
                any: true,
            },
        }
    }

    fn port_allowed(&self, port: u16) -> bool {
        if port == 0 || port == self.config.request_port || self.port_taken(port) {
            return false;
        }
        match self.config.ports {
            TransferPorts::Range { first, last } => {
                (first.min(last)..=first.max(last)).contains(&port)
            }
            TransferPorts::Ephemeral => true,
            TransferPorts::Single => false,
        }
    }

    /// Checks `port`, places the admission in an entry and builds its
    /// transfer (the entry is left free for the caller to fill).
    fn start(
        &mut self,
        admission: Admission<'_, F::Source>,
        port: u16,
    ) -> Result<Transfer<F::Source>, NotStarted> {
        if !self.port_allowed(port) {
            self.counters.busy += 1;
            return Err(NotStarted::PortInUse(port));
        }
        let slot = if self.occupied() < self.config.max_transfers {
            self.place()
        } else {
            None
        };
        let Some(i) = slot else {
            self.counters.busy += 1;
            return Err(NotStarted::Busy {
                max: self.config.max_transfers,
            });
        };
        let id = self.claim(i);
        self.counters.started += 1;
        Ok(Transfer::new(
            id,
            admission.peer,
            admission.local.with_port(port),
            admission.engine,
            self.config.max_segments,
            admission.digest,
        ))
    }

    /// Counts the transfer in entry `i` once it has finished.
    fn settle(&mut self, i: usize) {
        let e = &mut self.entries[i];
        let Slot::Running(t) = &e.slot else {
            return;
        };
        if !t.is_finished() {
            return;
        }
        let outcome = t.outcome();
        self.counters.count_outcome(outcome);
        self.counters
            .count_traffic(t.stats().bytes, t.foreign_datagrams());
        if let Slot::Running(t) = core::mem::replace(&mut e.slot, Slot::Free) {
            e.slot = Slot::Ended(t, outcome);
        }
    }
}

/// The entry `id` names, if it still is that transfer's.
fn entry_of<S: DataSource>(entries: &mut [Entry<S>], id: TransferId) -> Option<&mut Entry<S>> {
    let e = entries.get_mut(usize::try_from(id.slot).ok()?)?;
    (e.generation == id.generation).then_some(e)
}

/// Writes the ERROR answering a refused file into `buf`.
fn write_refusal<R: Refusal>(
    buf: &mut [u8],
    refusal: &R,
    request: &FileRequest<'_>,
) -> Option<usize> {
    if buf.len() < HEADER_LEN + 1 {
        return None;
    }
    buf[..2].copy_from_slice(&(Opcode::Error as u16).to_be_bytes());
    buf[2..4].copy_from_slice(&refusal.code().0.to_be_bytes());
    let end = buf.len() - 1;
    let mut w = MessageWriter {
        buf: &mut buf[HEADER_LEN..end],
        len: 0,
        full: false,
    };
    let _ = refusal.write_message(request, &mut w);
    let len = HEADER_LEN + w.len;
    buf[len] = 0;
    Some(len + 1)
}
