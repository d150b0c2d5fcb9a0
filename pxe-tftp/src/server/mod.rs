//! Server side: the [`Endpoint`] that owns a server's policy (admission,
//! `tftp-max`, routing, the repeated-request rule, ERROR 5 for strangers,
//! counters), and the engines it drives: [`accept`] checks a request,
//! [`ReadTransfer`] serves a read (RRQ) and, only when explicitly enabled,
//! [`WriteTransfer`] receives a write (WRQ).
//!
//! # Serving files
//!
//! A driver builds an [`Endpoint`] with an [`EndpointConfig`] and its
//! [`Files`], feeds it every datagram with [`Endpoint::handle`] and sends
//! what [`Endpoint::poll_transmit`] writes (see [`Endpoint`] for the three
//! ways to run transfers: over the request port, on ports of their own
//! driven by the endpoint, or on ports of their own driven next to their
//! sockets). The endpoint serves reads only; writes are refused with
//! ERROR 4, as dnsmasq does.
//!
//! # Using the engines directly
//!
//! [`ReadTransfer`] and [`WriteTransfer`] know nothing of addresses. A
//! caller that drives one itself checks the request with [`accept`]
//! (answering a refusal with [`Rejection::write_reply`]), resolves
//! [`Accepted::filename`] (raw bytes, no character set implied, path
//! policy is the caller's), feeds only datagrams from the client's address
//! and port (strangers get [`foreign_tid_reply`](crate::wire::foreign_tid_reply))
//! and loops `poll_transmit` / `handle_datagram` / `handle_timeout` until
//! `is_finished`. [`ReadTransfer::is_size_probe`] tells a UEFI firmware's
//! deliberate `tsize` probe (OACK answered with ERROR 8) from a failure.

use crate::engine::{Receiver, Sender, Timer};
use crate::error::{State, Stats, TransferError};
use crate::io::{DataSink, DataSource};
use crate::netascii;
use crate::options::{
    OptionError, RequestedOptions, ServerLimits, TransferOptions, effective_timeout,
};
use crate::receiving::Receiving;
use crate::sending::Sending;
use crate::wire::{
    ErrorCode, Mode, Opcode, OptionList, Packet, ParseError, RequestKind, write_error,
};
use crate::{Instant, TransferConfig};

#[cfg(feature = "alloc")]
mod counters;
#[cfg(feature = "alloc")]
mod endpoint;
mod files;
#[cfg(feature = "alloc")]
mod transfer;
mod transmit;

#[cfg(feature = "alloc")]
pub use counters::{Counters, Failure, Failures, Outcome};
#[cfg(feature = "alloc")]
pub use endpoint::{
    Admission, Ended, Endpoint, EndpointConfig, Event, Handled, NotStarted, PortCandidates,
    PortChoice, RequestErrors, TransferPorts,
};
pub use files::{FileRefusal, FileRequest, Files, Name, Opened, Refusal, climbs_out};
#[cfg(feature = "alloc")]
pub use transfer::{EndpointEvent, Transfer, TransferId};
pub use transmit::{Local, MAX_SEGMENTED_BYTES, MAX_SEGMENTS, Source, Transmit};

/// Server policy applied by [`accept`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ServerPolicy {
    /// Option limits and switches.
    pub limits: ServerLimits,
    /// Accept WRQ at all. Off by default: a server writes nothing unless
    /// configured to.
    pub allow_writes: bool,
}

/// A request that passed [`accept`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Accepted<'a> {
    /// RRQ or WRQ (WRQ only when the policy allows writes).
    pub kind: RequestKind,
    /// Requested file name: raw bytes from the wire, not validated in any
    /// way (may contain `..`, `\`, non-UTF-8). Path resolution is the
    /// server's job.
    pub filename: &'a [u8],
    /// `octet` or `netascii`.
    pub mode: Mode,
    /// Known options, decoded.
    pub options: RequestedOptions,
    /// All options as sent, for logs.
    pub raw_options: OptionList<'a>,
}

/// Why a datagram sent to the request port was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RejectReason {
    /// Not a TFTP packet at all.
    #[error("malformed request: {0}")]
    Malformed(#[from] ParseError),
    /// A valid packet, but not a request (DATA, ACK, ERROR, OACK on port 69).
    #[error("{0:?} packet where a request was expected")]
    NotARequest(Opcode),
    /// WRQ while writes are disabled.
    #[error("write request refused: writes are not enabled")]
    WritesDisabled,
    /// Mode other than octet or netascii.
    #[error("unsupported transfer mode")]
    UnsupportedMode,
    /// Empty file name.
    #[error("empty file name")]
    EmptyFilename,
    /// A malformed option value.
    #[error("option refused: {0}")]
    BadOption(#[from] OptionError),
}

/// A refused request and the ERROR to answer it with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{reason} (ERROR {code})")]
pub struct Rejection {
    /// The TFTP error code of the reply.
    pub code: ErrorCode,
    /// What was wrong.
    pub reason: RejectReason,
}

impl Rejection {
    fn new(reason: RejectReason) -> Self {
        let code = match reason {
            RejectReason::BadOption(_) => ErrorCode::OPTION_REFUSED,
            // dnsmasq answers WRQ, bad modes and non-requests with ERROR 4
            // "unsupported request".
            _ => ErrorCode::ILLEGAL_OPERATION,
        };
        Rejection { code, reason }
    }

    /// The ERROR message text sent to the client.
    pub fn message(&self) -> &'static str {
        match self.reason {
            RejectReason::Malformed(_) => "malformed request",
            RejectReason::NotARequest(_) => "unsupported request",
            RejectReason::WritesDisabled => "unsupported request: writes are disabled",
            RejectReason::UnsupportedMode => "unsupported request: bad mode",
            RejectReason::EmptyFilename => "unsupported request: empty file name",
            RejectReason::BadOption(OptionError::NotANumber { .. }) => {
                "option refused: value is not a number"
            }
            RejectReason::BadOption(OptionError::BlksizeTooSmall(_)) => {
                "option refused: blksize below 8"
            }
            RejectReason::BadOption(OptionError::WindowsizeZero) => "option refused: windowsize 0",
        }
    }

    /// Writes the ERROR reply; `None` when none must be sent (the offending
    /// datagram was itself an ERROR — errors are never answered).
    pub fn write_reply(&self, buf: &mut [u8]) -> Option<usize> {
        if self.reason == RejectReason::NotARequest(Opcode::Error) {
            return None;
        }
        write_error(buf, self.code, self.message().as_bytes()).ok()
    }
}

/// Parses a datagram received on the request port and applies `policy`.
///
/// ```
/// use pxe_tftp::server::{accept, ServerPolicy, RejectReason};
/// let acc = accept(b"\x00\x01pxelinux.0\x00octet\x00tsize\x000\x00", &ServerPolicy::default())?;
/// assert_eq!(acc.filename, b"pxelinux.0");
/// assert_eq!(acc.options.tsize, Some(0));
/// let rej = accept(b"\x00\x02upload\x00octet\x00", &ServerPolicy::default()).unwrap_err();
/// assert_eq!(rej.reason, RejectReason::WritesDisabled);
/// let mut buf = [0u8; 128];
/// assert!(rej.write_reply(&mut buf).is_some());
/// # Ok::<(), pxe_tftp::server::Rejection>(())
/// ```
pub fn accept<'a>(datagram: &'a [u8], policy: &ServerPolicy) -> Result<Accepted<'a>, Rejection> {
    let pkt = Packet::parse(datagram).map_err(|e| Rejection::new(e.into()))?;
    let Packet::Request(req) = pkt else {
        return Err(Rejection::new(RejectReason::NotARequest(pkt.opcode())));
    };
    if req.kind == RequestKind::Write && !policy.allow_writes {
        return Err(Rejection::new(RejectReason::WritesDisabled));
    }
    let mode = match Mode::from_bytes(req.mode) {
        Some(m @ (Mode::Octet | Mode::Netascii)) => m,
        _ => return Err(Rejection::new(RejectReason::UnsupportedMode)),
    };
    if req.filename.is_empty() {
        return Err(Rejection::new(RejectReason::EmptyFilename));
    }
    let options = RequestedOptions::from_request(&req.options, req.kind)
        .map_err(|e| Rejection::new(e.into()))?;
    Ok(Accepted {
        kind: req.kind,
        filename: req.filename,
        mode,
        options,
        raw_options: req.options,
    })
}

/// Serves one RRQ: sends the source's bytes to the client.
///
/// Behaviour, in the words of the RFCs:
/// * Options granted → OACK first, DATA 1 only after the client's ACK 0
///   (RFC 2347). An ERROR (e.g. 8) in answer to the OACK ends the transfer.
///   Nothing granted → DATA 1 right away.
/// * Windows of `windowsize` blocks (RFC 7440). An ACK for block n inside the
///   window acknowledges up to n and the next window starts at n + 1 — so an
///   ACK for an older block of the window resends from there. An ACK for the
///   block already acknowledged is ignored (no Sorcerer's Apprentice).
/// * No ACK within the timeout (the negotiated `timeout`, else
///   [`TransferConfig::retransmit_timeout`]) → the whole window is sent
///   again, up to [`TransferConfig::max_retransmits`] times in a row, then
///   the transfer fails with [`TransferError::TimedOut`] (no ERROR is sent:
///   the peer is gone).
/// * Block numbers roll over from 65535 to 0 (what tftp-hpa, dnsmasq and
///   most clients do), so files of any size go through.
/// * The last block is shorter than blksize, possibly empty.
/// * netascii: LF → CR LF, CR → CR NUL; `tsize` then announces the encoded
///   size, which costs one full read of the source at construction.
/// * An ERROR from the peer stops the transfer; a DATA, OACK or request
///   from the peer is answered with ERROR 4 and stops it; malformed
///   datagrams are ignored and counted.
#[derive(Debug)]
pub struct ReadTransfer<S: DataSource> {
    /// `starting` while the OACK is sent and not yet acknowledged with ACK 0.
    send: Sending<S>,
    granted: TransferOptions,
    /// The peer answered the OACK with an ERROR.
    refused_oack: bool,
}

impl<S: DataSource> ReadTransfer<S> {
    /// Builds the engine for an accepted RRQ. `mode` and `requested` come
    /// from [`Accepted`]; `limits` bound what is granted.
    ///
    /// `Mode::Mail` is served as octet ([`accept`] never lets it through).
    ///
    /// Cost: for a netascii request with `tsize`, this reads the whole
    /// source once to count line ends (an async driver may want to build
    /// such an engine on a blocking thread). Otherwise it only asks the
    /// source for its size.
    pub fn new(
        mut source: S,
        mode: Mode,
        requested: &RequestedOptions,
        limits: &ServerLimits,
        config: TransferConfig,
    ) -> Self {
        let netascii = mode == Mode::Netascii;
        let size = source.size();
        let mut failure = None;
        let tsize = if requested.tsize.is_some() && limits.tsize {
            if netascii {
                match size.map(|_| netascii::encoded_len(&mut source)) {
                    Some(Ok(n)) => Some(n),
                    Some(Err(e)) => {
                        failure = Some(TransferError::Storage(e));
                        None
                    }
                    None => None,
                }
            } else {
                size
            }
        } else {
            None
        };
        let granted = limits.negotiate(requested, tsize);
        let sender = Sender::new(
            granted.effective_blksize(),
            granted.effective_windowsize(),
            netascii,
            size,
        );
        let timer = Timer::new(
            effective_timeout(&granted, config.retransmit_timeout),
            config.max_retransmits,
        );
        let oack = !granted.is_empty();
        let mut send = Sending::new(source, sender, timer, oack);
        if let Some(e) = failure {
            send.fail(e, Some((ErrorCode::NOT_DEFINED, "cannot read file")));
        }
        ReadTransfer {
            send,
            granted,
            refused_oack: false,
        }
    }

    /// The options granted (what the OACK says; empty when none is sent).
    pub fn granted(&self) -> &TransferOptions {
        &self.granted
    }

    /// Where the transfer stands.
    pub fn state(&self) -> &State<S::Error> {
        &self.send.state
    }

    /// True once the transfer has ended and nothing is left to transmit;
    /// the driver can then drop the engine and close its socket.
    pub fn is_finished(&self) -> bool {
        self.send.is_finished()
    }

    /// Counters.
    pub fn stats(&self) -> Stats {
        self.send.stats
    }

    /// The smallest buffer `poll_transmit` accepts: 4 + blksize (and enough
    /// for the OACK).
    pub fn max_datagram_len(&self) -> usize {
        self.send.sender.datagram_len().max(128)
    }

    /// Gives the data source back (e.g. to return a file to a cache).
    pub fn into_source(self) -> S {
        self.send.source
    }

    /// The data source (what a driver's log line names).
    pub fn source(&self) -> &S {
        &self.send.source
    }

    /// Ends the transfer, telling the peer with ERROR `code` and `message`.
    pub fn abort(&mut self, code: ErrorCode, message: &'static str) {
        self.send
            .fail(TransferError::Aborted(code), Some((code, message)));
    }

    /// Feeds one datagram that came from the transfer's peer (the driver has
    /// already checked the source address and port).
    pub fn handle_datagram(&mut self, now: Instant, datagram: &[u8]) {
        if !self.send.state.is_active() {
            self.send.stats.ignored += 1;
            return;
        }
        let Ok(pkt) = Packet::parse(datagram) else {
            self.send.stats.ignored += 1;
            return;
        };
        let oack_phase = self.send.starting;
        match pkt {
            Packet::Ack { block: 0 } if oack_phase => self.send.started(now),
            Packet::Ack { .. } if oack_phase => self.send.stats.ignored += 1,
            Packet::Ack { block } => self.send.on_ack(now, block),
            Packet::Error { code, message } => {
                self.refused_oack = oack_phase;
                self.send.on_peer_error(code, message);
            }
            other => self.send.on_unexpected(other.opcode()),
        }
    }

    /// True when the client answered the OACK with an ERROR instead of
    /// ACK 0. UEFI (EDK2) firmware does this on purpose: it asks with
    /// `tsize` to learn the file's size, then ends the transfer with ERROR 8
    /// "User aborted the transfer" and asks again without `tsize`. A driver
    /// should log such a transfer as a size probe, not as a failure.
    pub fn is_size_probe(&self) -> bool {
        self.refused_oack && self.granted.tsize.is_some()
    }

    /// The block number (as on the wire, rolling over after 65535) of the
    /// first DATA block the client has not acknowledged: where a stalled
    /// transfer is stuck (a block that never gets through, as when a
    /// `blksize` larger than the path's MTU is fragmented and the fragments
    /// are dropped).
    pub fn first_unacknowledged_block(&self) -> u16 {
        // Truncation is the wire's roll-over.
        (self.send.sender.acked.wrapping_add(1) & 0xffff) as u16
    }

    /// True once the client has acknowledged anything: the OACK (with
    /// ACK 0) or, without options, a DATA block. Before that the transfer
    /// has made no progress, and a repeated request from its client is the
    /// same request (see [`Endpoint`]).
    pub fn is_acknowledged(&self) -> bool {
        if self.granted.is_empty() {
            self.send.sender.acked > 0
        } else {
            !self.send.starting
        }
    }

    /// An upper bound on the length of the datagram the next
    /// [`poll_transmit`](Self::poll_transmit) writes, or `None` when it
    /// would write nothing. Lets a caller packing a window of DATA blocks
    /// into one segmented send stop before a datagram that could be longer
    /// than the window's blocks.
    #[cfg(feature = "alloc")]
    pub(crate) fn next_datagram_bound(&self) -> Option<usize> {
        if let Some(len) = self.send.pending_error_len() {
            return Some(len);
        }
        if !self.send.state.is_active() {
            return None;
        }
        if self.send.start_due {
            return Some(self.max_datagram_len());
        }
        (!self.send.starting && self.send.sender.has_pending())
            .then(|| self.send.sender.datagram_len())
    }

    /// Tells the engine that `now` has been reached; retransmits or gives
    /// up if the deadline from [`poll_timeout`](Self::poll_timeout) passed.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.send.handle_timeout(now);
    }

    /// Writes the next datagram to send into `buf` and returns its length,
    /// or `None` when there is nothing to send now. Call until `None` after
    /// every `handle_*` call. `buf` should hold
    /// [`max_datagram_len`](Self::max_datagram_len) bytes; a smaller one
    /// fails the transfer (with an ERROR sent if `buf` has room for one).
    pub fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<usize> {
        if self.send.error_due() {
            return self.send.poll_error(buf);
        }
        if !self.send.state.is_active() {
            return None;
        }
        let needed = self.max_datagram_len();
        if self.send.start_due {
            return match self.granted.write_oack(buf) {
                Ok(n) => {
                    self.send.start_sent(now);
                    Some(n)
                }
                Err(_) => self.send.too_small(buf, needed),
            };
        }
        self.send.poll_data(now, buf, needed)
    }

    /// When [`handle_timeout`](Self::handle_timeout) should next be called;
    /// `None` when no timer runs (finished, or nothing sent yet).
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.send.poll_timeout()
    }
}

/// Receives one WRQ into a sink. Only reachable when
/// [`ServerPolicy::allow_writes`] is set, so a server writes nothing unless
/// configured to.
///
/// Answers the WRQ with an OACK if options were granted, else ACK 0; ACKs
/// every `windowsize` blocks, on a gap, on a resent block and on the final
/// block; after the final block it lingers
/// ([`TransferConfig::linger_timeouts`] timeouts) to re-ACK a resent final
/// block, then [`is_finished`](Self::is_finished) turns true. A sink error
/// is reported to the client as ERROR 3 (disk full).
#[derive(Debug)]
pub struct WriteTransfer<K: DataSink> {
    granted: TransferOptions,
    recv: Receiving<K>,
}

impl<K: DataSink> WriteTransfer<K> {
    /// Builds the engine for an accepted WRQ. The client's `tsize` is echoed
    /// when `limits.tsize` is on (a caller that wants to refuse oversized
    /// uploads checks `requested.tsize` before building this).
    pub fn new(
        sink: K,
        mode: Mode,
        requested: &RequestedOptions,
        limits: &ServerLimits,
        config: TransferConfig,
    ) -> Self {
        let granted = limits.negotiate(requested, requested.tsize);
        let mut rx = Receiver::new(
            granted.effective_blksize(),
            granted.effective_windowsize(),
            mode == Mode::Netascii,
        );
        rx.ack_pending = true; // ACK 0 or the OACK
        let timer = Timer::new(
            effective_timeout(&granted, config.retransmit_timeout),
            config.max_retransmits,
        );
        WriteTransfer {
            granted,
            recv: Receiving::new(sink, rx, timer, config.linger_timeouts),
        }
    }

    /// The options granted.
    pub fn granted(&self) -> &TransferOptions {
        &self.granted
    }

    /// Where the transfer stands (`Complete` as soon as the final block is in).
    pub fn state(&self) -> &State<K::Error> {
        &self.recv.state
    }

    /// True once nothing more will be sent or awaited.
    pub fn is_finished(&self) -> bool {
        self.recv.is_finished()
    }

    /// Counters.
    pub fn stats(&self) -> Stats {
        self.recv.stats
    }

    /// Gives the sink back.
    pub fn into_sink(self) -> K {
        self.recv.sink
    }

    /// The smallest buffer `poll_transmit` needs.
    pub fn max_datagram_len(&self) -> usize {
        128
    }

    /// Ends the transfer with ERROR `code`.
    pub fn abort(&mut self, code: ErrorCode, message: &'static str) {
        self.recv
            .fail(TransferError::Aborted(code), Some((code, message)));
    }

    /// Feeds one datagram from the peer.
    pub fn handle_datagram(&mut self, now: Instant, datagram: &[u8]) {
        let Ok(pkt) = Packet::parse(datagram) else {
            self.recv.stats.ignored += 1;
            return;
        };
        if self.recv.is_failed() {
            self.recv.stats.ignored += 1;
            return;
        }
        match pkt {
            Packet::Data { block, data } => self.recv.on_data(now, block, data),
            Packet::Error { code, message } => self.recv.on_peer_error(code, message),
            other => self.recv.on_unexpected(other.opcode()),
        }
    }

    /// Handles the passage of time.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.recv.handle_timeout(now, false);
    }

    /// Writes the next datagram (OACK, ACK or ERROR) into `buf`.
    pub fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<usize> {
        if self.recv.error_due() {
            return self.recv.poll_error(buf);
        }
        self.recv.poll_ack(now, buf, &self.granted)
    }

    /// The next deadline (receive timeout, or the end of lingering).
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.recv.poll_timeout()
    }
}
