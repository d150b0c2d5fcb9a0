//! The two halves every transfer is made of: a window sender and an ACKing
//! receiver, plus the retransmission timer. Shared by the server and client
//! engines; not public.

use core::time::Duration;

use crate::Instant;
use crate::io::{DataSink, DataSource};
use crate::netascii::{self, Decoder, EncodeState};
use crate::wire::{HEADER_LEN, write_data_header};

/// Retransmission timer with a retry budget.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timer {
    pub(crate) timeout: Duration,
    pub(crate) max_retransmits: u32,
    pub(crate) retries: u32,
    pub(crate) deadline: Option<Instant>,
}

impl Timer {
    pub(crate) fn new(timeout: Duration, max_retransmits: u32) -> Self {
        Timer {
            timeout,
            max_retransmits,
            retries: 0,
            deadline: None,
        }
    }
    pub(crate) fn arm(&mut self, now: Instant) {
        self.deadline = Some(now + self.timeout);
    }
    pub(crate) fn expired(&self, now: Instant) -> bool {
        self.deadline.is_some_and(|d| now >= d)
    }
    /// Counts one retransmission; false when the budget is spent.
    pub(crate) fn retry(&mut self) -> bool {
        if self.retries >= self.max_retransmits {
            false
        } else {
            self.retries += 1;
            true
        }
    }
}

/// Failure inside the sender.
#[derive(Debug)]
pub(crate) enum SendError<E> {
    Storage(E),
    Shrank { expected: u64, got: u64 },
}

/// What an ACK did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AckEffect {
    /// Acknowledged the same block as before (ignored: no Sorcerer's Apprentice).
    Duplicate,
    /// Acknowledged a block never sent (ignored).
    Bogus,
    /// Moved the window.
    Advanced,
    /// Acknowledged the final block.
    Complete,
}

/// Sends blocks in windows (RFC 7440; window 1 is RFC 1350 lock-step).
///
/// Blocks are counted from 1 in a u64; the wire number is the low 16 bits,
/// so after 65535 comes 0 (the common rollover).
#[derive(Debug, Clone)]
pub(crate) struct Sender {
    pub(crate) blksize: u16,
    window: u16,
    netascii: bool,
    /// Octet mode: declared size bounding reads.
    size: Option<u64>,
    /// Highest block acknowledged.
    pub(crate) acked: u64,
    /// Next block to transmit.
    next: u64,
    /// Last block of the current window (inclusive).
    win_end: u64,
    /// Index of the final (short) block, once known.
    pub(crate) last: Option<u64>,
    /// Highest block ever transmitted.
    pub(crate) high: u64,
    base_ck: EncodeState,
    next_ck: EncodeState,
}

impl Sender {
    pub(crate) fn new(blksize: u16, window: u16, netascii: bool, size: Option<u64>) -> Self {
        let blksize = blksize.max(1);
        let size = if netascii { None } else { size };
        let mut s = Sender {
            blksize,
            window: window.max(1),
            netascii,
            size,
            acked: 0,
            next: 1,
            win_end: 0,
            last: size.map(|sz| sz / u64::from(blksize) + 1),
            high: 0,
            base_ck: EncodeState::default(),
            next_ck: EncodeState::default(),
        };
        s.win_end = s.window_end();
        s
    }

    fn window_end(&self) -> u64 {
        let e = self.acked + u64::from(self.window);
        self.last.map_or(e, |l| e.min(l))
    }

    /// Datagram size the sender needs.
    pub(crate) fn datagram_len(&self) -> usize {
        HEADER_LEN + usize::from(self.blksize)
    }

    pub(crate) fn has_pending(&self) -> bool {
        self.next <= self.win_end
    }

    /// Writes the next block of the window into `buf` (which holds at least
    /// [`Self::datagram_len`] bytes). Returns `(datagram length, resent)`.
    pub(crate) fn poll<S: DataSource>(
        &mut self,
        src: &mut S,
        buf: &mut [u8],
    ) -> Result<Option<(usize, bool)>, SendError<S::Error>> {
        if !self.has_pending() || buf.len() < self.datagram_len() {
            return Ok(None);
        }
        let k = self.next;
        let _ = write_data_header(buf, k as u16);
        let bs = usize::from(self.blksize);
        let payload = &mut buf[HEADER_LEN..HEADER_LEN + bs];
        let n = if self.netascii {
            netascii::encode(src, &mut self.next_ck, payload).map_err(SendError::Storage)?
        } else {
            let off = (k - 1) * u64::from(self.blksize);
            let want = match self.size {
                Some(sz) => usize::try_from(sz.saturating_sub(off).min(bs as u64)).unwrap_or(bs),
                None => bs,
            };
            let mut got = 0;
            while got < want {
                let r = src
                    .read_at(off + got as u64, &mut payload[got..want])
                    .map_err(SendError::Storage)?;
                if r == 0 {
                    break;
                }
                got += r.min(want - got);
            }
            if let Some(sz) = self.size
                && got < want
            {
                return Err(SendError::Shrank {
                    expected: sz,
                    got: off + got as u64,
                });
            }
            got
        };
        if n < bs {
            self.last = Some(k);
            self.win_end = k;
        }
        let resent = k <= self.high;
        self.high = self.high.max(k);
        self.next += 1;
        Ok(Some((HEADER_LEN + n, resent)))
    }

    /// Handles an ACK's wire block number.
    pub(crate) fn on_ack<S: DataSource>(
        &mut self,
        src: &mut S,
        block: u16,
    ) -> Result<AckEffect, SendError<S::Error>> {
        let delta = u64::from(block.wrapping_sub(self.acked as u16));
        if delta == 0 {
            return Ok(AckEffect::Duplicate);
        }
        let cand = self.acked + delta;
        if cand > self.high {
            return Ok(AckEffect::Bogus);
        }
        if self.netascii {
            if cand + 1 == self.next {
                self.base_ck = self.next_ck;
            } else {
                netascii::skip(src, &mut self.base_ck, delta * u64::from(self.blksize))
                    .map_err(SendError::Storage)?;
            }
            self.next_ck = self.base_ck;
        }
        self.acked = cand;
        self.next = cand + 1;
        self.win_end = self.window_end();
        if self.last == Some(cand) {
            Ok(AckEffect::Complete)
        } else {
            Ok(AckEffect::Advanced)
        }
    }

    /// After a timeout: send the window again from the first unacknowledged block.
    pub(crate) fn rewind(&mut self) {
        self.next = self.acked + 1;
        self.next_ck = self.base_ck;
        self.win_end = self.window_end();
    }
}

/// Failure inside the receiver.
#[derive(Debug)]
pub(crate) enum RecvError<E> {
    Storage(E),
    TooLarge { block: u16, len: usize },
}

/// What a DATA packet did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DataEffect {
    /// The expected block: written.
    Progress,
    /// The final (short) block: written, transfer complete.
    Finished,
    /// A block already received (retransmission).
    Old,
    /// A block beyond the expected one (a gap).
    Future,
}

/// Receives blocks in order, ACKing every `window` blocks, on a gap, on a
/// retransmitted old block, and on the final block.
#[derive(Debug, Clone)]
pub(crate) struct Receiver {
    pub(crate) blksize: u16,
    window: u16,
    /// Next block expected (from 1).
    pub(crate) expected: u64,
    /// Block number the next ACK carries.
    pub(crate) ack_value: u64,
    pub(crate) ack_pending: bool,
    gap_acked: bool,
    dup_acked: bool,
    pub(crate) finished: bool,
    /// Bytes written to the sink.
    pub(crate) offset: u64,
    decoder: Option<Decoder>,
}

impl Receiver {
    pub(crate) fn new(blksize: u16, window: u16, netascii: bool) -> Self {
        Receiver {
            blksize: blksize.max(1),
            window: window.max(1),
            expected: 1,
            ack_value: 0,
            ack_pending: false,
            gap_acked: false,
            dup_acked: false,
            finished: false,
            offset: 0,
            decoder: netascii.then(Decoder::default),
        }
    }

    fn schedule_ack(&mut self) {
        self.ack_value = self.expected - 1;
        self.ack_pending = true;
    }

    pub(crate) fn on_data<K: DataSink>(
        &mut self,
        sink: &mut K,
        block: u16,
        data: &[u8],
    ) -> Result<DataEffect, RecvError<K::Error>> {
        let delta = block.wrapping_sub(self.expected as u16);
        if self.finished {
            // Retransmitted final block: our last ACK was lost; say it again.
            if block == (self.expected - 1) as u16 {
                self.schedule_ack();
            }
            return Ok(DataEffect::Old);
        }
        if delta == 0 {
            if data.len() > usize::from(self.blksize) {
                return Err(RecvError::TooLarge {
                    block,
                    len: data.len(),
                });
            }
            match &mut self.decoder {
                Some(d) => {
                    d.decode(data, sink, &mut self.offset)
                        .map_err(RecvError::Storage)?;
                }
                None => {
                    if !data.is_empty() {
                        sink.write_at(self.offset, data)
                            .map_err(RecvError::Storage)?;
                    }
                    self.offset += data.len() as u64;
                }
            }
            self.expected += 1;
            self.gap_acked = false;
            self.dup_acked = false;
            if data.len() < usize::from(self.blksize) {
                if let Some(d) = &mut self.decoder {
                    d.finish(sink, &mut self.offset)
                        .map_err(RecvError::Storage)?;
                }
                self.finished = true;
                self.schedule_ack();
                return Ok(DataEffect::Finished);
            }
            if self.expected - 1 - self.ack_value >= u64::from(self.window) {
                self.schedule_ack();
            }
            Ok(DataEffect::Progress)
        } else if delta >= 0x8000 {
            // A retransmission of something we have: our ACK was lost. ACK the
            // first such block of a burst and the block we last acknowledged
            // (so lock-step transfers re-ACK every resend, and a resent window
            // draws at most two ACKs).
            if !self.dup_acked || block == (self.expected - 1) as u16 {
                self.dup_acked = true;
                self.schedule_ack();
            }
            Ok(DataEffect::Old)
        } else {
            if !self.gap_acked {
                self.gap_acked = true;
                self.schedule_ack();
            }
            Ok(DataEffect::Future)
        }
    }

    /// After a receive timeout: repeat the ACK of everything received so far.
    pub(crate) fn on_timeout(&mut self) {
        self.dup_acked = false;
        self.gap_acked = false;
        self.schedule_ack();
    }
}
