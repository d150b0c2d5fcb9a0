//! The sending half shared by the two engines that send a file: the
//! client's upload ([`ClientWrite`](crate::client::ClientWrite)) and the
//! server's download ([`ReadTransfer`](crate::server::ReadTransfer)). It owns
//! the source, the window [`Sender`], the timer, the ERROR owed to the peer
//! and the outcome; each engine keeps only its start (the WRQ, or the OACK)
//! and how an answer to that start is checked. Not public.

use crate::Instant;
use crate::engine::{AckEffect, SendError, Sender, Timer};
use crate::error::{ErrorText, State, Stats, TransferError};
use crate::io::DataSource;
use crate::wire::{ErrorCode, HEADER_LEN, Opcode, write_error};

/// A transfer that sends windows of DATA and waits for ACKs, after a start
/// datagram (request or OACK) that the peer must answer first.
#[derive(Debug)]
pub(crate) struct Sending<S: DataSource> {
    pub(crate) source: S,
    pub(crate) sender: Sender,
    pub(crate) timer: Timer,
    /// The start is sent and not yet answered; no DATA goes out.
    pub(crate) starting: bool,
    /// The start must be (re)sent.
    pub(crate) start_due: bool,
    /// An ERROR owed to the peer.
    error_out: Option<(ErrorCode, &'static str)>,
    pub(crate) state: State<S::Error>,
    pub(crate) stats: Stats,
}

impl<S: DataSource> Sending<S> {
    /// A transfer that first sends a start datagram when `starting`, else
    /// DATA right away.
    pub(crate) fn new(source: S, sender: Sender, timer: Timer, starting: bool) -> Self {
        Sending {
            source,
            sender,
            timer,
            starting,
            start_due: starting,
            error_out: None,
            state: State::Active,
            stats: Stats::default(),
        }
    }

    /// True once nothing more will be sent or awaited.
    pub(crate) fn is_finished(&self) -> bool {
        !self.state.is_active() && self.error_out.is_none()
    }

    /// Ends the transfer (first failure wins), owing `reply` to the peer.
    pub(crate) fn fail(
        &mut self,
        err: TransferError<S::Error>,
        reply: Option<(ErrorCode, &'static str)>,
    ) {
        if self.state.is_active() {
            self.state = State::Failed(err);
            self.error_out = reply;
            self.timer.deadline = None;
            self.start_due = false;
        }
    }

    /// Fails on a source error, telling the peer the file cannot be read.
    pub(crate) fn fail_send(&mut self, e: SendError<S::Error>) {
        let err = match e {
            SendError::Storage(e) => TransferError::Storage(e),
            SendError::Shrank { expected, got } => TransferError::SourceShrank { expected, got },
        };
        self.fail(err, Some((ErrorCode::NOT_DEFINED, "cannot read file")));
    }

    /// The peer answered the start: DATA may go out now.
    pub(crate) fn started(&mut self, now: Instant) {
        self.starting = false;
        self.start_due = false;
        self.timer.retries = 0;
        self.timer.arm(now);
    }

    /// Handles an ACK once the start is answered.
    pub(crate) fn on_ack(&mut self, now: Instant, block: u16) {
        match self.sender.on_ack(&mut self.source, block) {
            Ok(AckEffect::Duplicate | AckEffect::Bogus) => self.stats.ignored += 1,
            Ok(AckEffect::Advanced) => {
                self.timer.retries = 0;
                self.timer.arm(now);
            }
            Ok(AckEffect::Complete) => {
                self.state = State::Complete;
                self.timer.deadline = None;
            }
            Err(e) => self.fail_send(e),
        }
    }

    /// Handles an ERROR from the peer: the transfer fails, nothing is sent.
    pub(crate) fn on_peer_error(&mut self, code: ErrorCode, message: &[u8]) {
        let err = TransferError::Peer {
            code,
            message: ErrorText::new(message),
        };
        self.fail(err, None);
    }

    /// Handles any packet the peer must not send: ERROR 4.
    pub(crate) fn on_unexpected(&mut self, opcode: Opcode) {
        self.fail(
            TransferError::UnexpectedPacket(opcode),
            Some((ErrorCode::ILLEGAL_OPERATION, "illegal TFTP operation")),
        );
    }

    /// Handles the passage of time: resends the start or rewinds the
    /// window, or gives up when the retry budget is spent.
    pub(crate) fn handle_timeout(&mut self, now: Instant) {
        if !self.state.is_active() || !self.timer.expired(now) {
            return;
        }
        if !self.timer.retry() {
            let block = if self.starting {
                0
            } else {
                self.sender.acked + 1
            };
            let err = TransferError::TimedOut {
                block,
                retransmits: self.timer.retries,
                timeout: self.timer.timeout,
            };
            self.fail(err, None);
            return;
        }
        self.stats.timeouts += 1;
        if self.starting {
            self.start_due = true;
        } else {
            self.sender.rewind();
        }
        self.timer.arm(now);
    }

    /// True when an ERROR is owed to the peer.
    pub(crate) fn error_due(&self) -> bool {
        self.error_out.is_some()
    }

    /// The length of the ERROR owed to the peer, if one is.
    #[cfg(feature = "alloc")]
    pub(crate) fn pending_error_len(&self) -> Option<usize> {
        self.error_out.map(|(_, msg)| HEADER_LEN + msg.len() + 1)
    }

    /// Writes the ERROR owed to the peer, if any.
    pub(crate) fn poll_error(&mut self, buf: &mut [u8]) -> Option<usize> {
        let (code, msg) = self.error_out.take()?;
        let n = write_error(buf, code, msg.as_bytes()).ok()?;
        self.stats.datagrams_sent += 1;
        Some(n)
    }

    /// Counts the start datagram just written into the send buffer and
    /// waits for its answer.
    pub(crate) fn start_sent(&mut self, now: Instant) {
        self.start_due = false;
        self.timer.arm(now);
        self.stats.datagrams_sent += 1;
    }

    /// Fails because `buf` is smaller than `needed` and writes the ERROR
    /// for the peer, if it fits.
    pub(crate) fn too_small(&mut self, buf: &mut [u8], needed: usize) -> Option<usize> {
        self.fail(
            TransferError::BufferTooSmall {
                needed,
                available: buf.len(),
            },
            None,
        );
        let n = write_error(buf, ErrorCode::NOT_DEFINED, b"internal error").ok()?;
        self.stats.datagrams_sent += 1;
        Some(n)
    }

    /// Writes the next DATA of the window, if one is due. A `buf` smaller
    /// than a DATA datagram fails the transfer, reporting `needed`.
    pub(crate) fn poll_data(
        &mut self,
        now: Instant,
        buf: &mut [u8],
        needed: usize,
    ) -> Option<usize> {
        if self.starting || !self.sender.has_pending() {
            return None;
        }
        if buf.len() < self.sender.datagram_len() {
            return self.too_small(buf, needed);
        }
        match self.sender.poll(&mut self.source, buf) {
            Ok(Some((n, resent))) => {
                self.timer.arm(now);
                self.stats.datagrams_sent += 1;
                if resent {
                    self.stats.blocks_resent += 1;
                } else {
                    self.stats.bytes += (n - HEADER_LEN) as u64;
                }
                Some(n)
            }
            Ok(None) => None,
            Err(e) => {
                self.fail_send(e);
                self.poll_error(buf)
            }
        }
    }

    /// The next deadline.
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        if self.state.is_active() {
            self.timer.deadline
        } else {
            None
        }
    }
}
