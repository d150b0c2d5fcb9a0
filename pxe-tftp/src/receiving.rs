//! The receiving half shared by the two engines that take in a file: the
//! client's download ([`ClientRead`](crate::client::ClientRead)) and the
//! server's upload ([`WriteTransfer`](crate::server::WriteTransfer)). It owns
//! the sink, the [`Receiver`], the timer, lingering after the final block and
//! the outcome; each engine keeps only how the transfer starts. Not public.

use crate::Instant;
use crate::engine::{DataEffect, Receiver, RecvError, Timer};
use crate::error::{ErrorText, State, Stats, TransferError};
use crate::io::DataSink;
use crate::options::TransferOptions;
use crate::wire::{ErrorCode, Opcode, write_ack, write_error};

/// A transfer that receives DATA and answers with ACKs.
#[derive(Debug)]
pub(crate) struct Receiving<K: DataSink> {
    pub(crate) sink: K,
    pub(crate) rx: Receiver,
    pub(crate) timer: Timer,
    /// After the final block: until when to re-ACK a resent final block.
    linger: Option<Instant>,
    linger_timeouts: u32,
    /// An ERROR owed to the peer.
    error_out: Option<(ErrorCode, &'static str)>,
    pub(crate) state: State<K::Error>,
    pub(crate) stats: Stats,
}

impl<K: DataSink> Receiving<K> {
    pub(crate) fn new(sink: K, rx: Receiver, timer: Timer, linger_timeouts: u32) -> Self {
        Receiving {
            sink,
            rx,
            timer,
            linger: None,
            linger_timeouts,
            error_out: None,
            state: State::Active,
            stats: Stats::default(),
        }
    }

    /// True once nothing more will be sent or awaited.
    pub(crate) fn is_finished(&self) -> bool {
        !self.state.is_active() && self.error_out.is_none() && self.linger.is_none()
    }

    pub(crate) fn is_failed(&self) -> bool {
        matches!(self.state, State::Failed(_))
    }

    /// Ends the transfer (first failure wins), owing `reply` to the peer.
    pub(crate) fn fail(
        &mut self,
        err: TransferError<K::Error>,
        reply: Option<(ErrorCode, &'static str)>,
    ) {
        if self.state.is_active() {
            self.state = State::Failed(err);
            self.error_out = reply;
            self.timer.deadline = None;
            self.rx.ack_pending = false;
        }
    }

    /// Handles a DATA packet.
    pub(crate) fn on_data(&mut self, now: Instant, block: u16, data: &[u8]) {
        match self.rx.on_data(&mut self.sink, block, data) {
            Ok(DataEffect::Progress) => {
                self.stats.bytes = self.rx.offset;
                self.timer.retries = 0;
                self.timer.arm(now);
            }
            Ok(DataEffect::Finished) => {
                self.stats.bytes = self.rx.offset;
                if self.state.is_active() {
                    self.state = State::Complete;
                    self.timer.deadline = None;
                    self.linger =
                        Some(now + self.timer.timeout.saturating_mul(self.linger_timeouts));
                }
            }
            Ok(DataEffect::Old | DataEffect::Future) => self.stats.ignored += 1,
            Err(RecvError::Storage(e)) => self.fail(
                TransferError::Storage(e),
                Some((ErrorCode::DISK_FULL, "disk full")),
            ),
            Err(RecvError::TooLarge { block, len }) => {
                let blksize = self.rx.blksize;
                self.fail(
                    TransferError::BlockTooLarge {
                        block,
                        len,
                        blksize,
                    },
                    Some((ErrorCode::ILLEGAL_OPERATION, "block larger than blksize")),
                )
            }
        }
    }

    /// Handles an ERROR from the peer: fails an active transfer, or ends
    /// lingering after a complete one.
    pub(crate) fn on_peer_error(&mut self, code: ErrorCode, message: &[u8]) {
        if self.state.is_active() {
            let err = TransferError::Peer {
                code,
                message: ErrorText::new(message),
            };
            self.fail(err, None);
        } else {
            self.linger = None;
        }
    }

    /// Handles any other packet: ERROR 4 while active, else ignored.
    pub(crate) fn on_unexpected(&mut self, opcode: Opcode) {
        if self.state.is_active() {
            self.fail(
                TransferError::UnexpectedPacket(opcode),
                Some((ErrorCode::ILLEGAL_OPERATION, "illegal TFTP operation")),
            );
        } else {
            self.stats.ignored += 1;
        }
    }

    /// Handles the passage of time. While `requesting` (nothing received
    /// yet) a timeout reports block 0 and schedules no ACK. Returns true
    /// when a retransmission is due.
    pub(crate) fn handle_timeout(&mut self, now: Instant, requesting: bool) -> bool {
        if let Some(l) = self.linger {
            if now >= l {
                self.linger = None;
            }
            return false;
        }
        if !self.state.is_active() || !self.timer.expired(now) {
            return false;
        }
        if !self.timer.retry() {
            let block = if requesting { 0 } else { self.rx.expected };
            let err = TransferError::TimedOut {
                block,
                retransmits: self.timer.retries,
                timeout: self.timer.timeout,
            };
            self.fail(err, None);
            return false;
        }
        self.stats.timeouts += 1;
        if !requesting {
            self.rx.on_timeout();
        }
        self.timer.arm(now);
        true
    }

    /// Writes the ERROR owed to the peer, if any.
    pub(crate) fn poll_error(&mut self, buf: &mut [u8]) -> Option<usize> {
        let (code, msg) = self.error_out.take()?;
        let n = write_error(buf, code, msg.as_bytes()).ok()?;
        self.stats.datagrams_sent += 1;
        Some(n)
    }

    pub(crate) fn error_due(&self) -> bool {
        self.error_out.is_some()
    }

    /// Writes the pending ACK; the acknowledgement of block 0 is an OACK
    /// carrying `oack` when that is not empty.
    pub(crate) fn poll_ack(
        &mut self,
        now: Instant,
        buf: &mut [u8],
        oack: &TransferOptions,
    ) -> Option<usize> {
        if !self.rx.ack_pending || self.is_failed() {
            return None;
        }
        let n = if self.rx.ack_value == 0 && !oack.is_empty() {
            oack.write_oack(buf).ok()?
        } else {
            write_ack(buf, self.rx.ack_value as u16).ok()?
        };
        self.rx.ack_pending = false;
        if self.state.is_active() {
            self.timer.arm(now);
        }
        self.stats.datagrams_sent += 1;
        Some(n)
    }

    /// The next deadline (receive timeout, or the end of lingering).
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        if self.linger.is_some() {
            return self.linger;
        }
        if self.state.is_active() {
            self.timer.deadline
        } else {
            None
        }
    }
}
