//! Client side: download (RRQ) into a sink, upload (WRQ) from a source.
//!
//! The driver sends the first datagram (the request) to the server's port
//! 69 and takes the source address and port of the first reply as the
//! server's transfer ID; later datagrams from anywhere else are answered
//! with [`foreign_tid_reply`](crate::wire::foreign_tid_reply) and not fed
//! to the engine.

use crate::engine::{AckEffect, Receiver, SendError, Sender, Timer};
use crate::error::{ErrorText, State, Stats, TransferError};
use crate::io::{DataSink, DataSource};
use crate::options::{TransferOptions, check_oack, effective_timeout};
use crate::receiving::Receiving;
use crate::wire::{BuildError, ErrorCode, Mode, OptionWriter, Packet, RequestKind, write_error};
use crate::{Instant, TransferConfig};

/// Requests longer than this are refused by the constructors (RFC 1350
/// requests fit one 512-byte datagram; servers often reject more).
pub const MAX_REQUEST_LEN: usize = 512;

#[derive(Debug, Clone)]
struct RequestBytes {
    buf: [u8; MAX_REQUEST_LEN],
    len: usize,
}

impl RequestBytes {
    fn new(
        kind: RequestKind,
        filename: &[u8],
        mode: Mode,
        options: &TransferOptions,
    ) -> Result<Self, BuildError> {
        let mut buf = [0u8; MAX_REQUEST_LEN];
        let mut w = OptionWriter::request(&mut buf, kind, filename, mode.as_bytes())?;
        options.write_into(&mut w)?;
        let len = w.finish();
        Ok(RequestBytes { buf, len })
    }
}

fn peer_error<E>(code: ErrorCode, message: &[u8]) -> TransferError<E> {
    TransferError::Peer {
        code,
        message: ErrorText::new(message),
    }
}

/// Downloads a file (RRQ) into a [`DataSink`].
///
/// Sends the RRQ (again on each timeout), accepts an OACK only if it grants
/// no more than was asked (else ERROR 8 and stop), ACKs block 0 after an
/// OACK, then receives with windows (RFC 7440): an ACK every `windowsize`
/// blocks, on the first block past a gap, on resent blocks, and on the
/// final block. A server that answers with DATA 1 directly gets plain RFC
/// 1350 (blksize 512, window 1). After the final block the engine lingers
/// [`TransferConfig::linger_timeouts`] timeouts to re-ACK a resent final
/// block.
///
/// ```
/// use pxe_tftp::{client::ClientRead, wire::Mode, TransferOptions, TransferConfig, Instant};
/// let mut got = Vec::new();
/// let asked = TransferOptions { blksize: Some(1468), tsize: Some(0), ..Default::default() };
/// let mut c = ClientRead::new(b"boot.ipxe", Mode::Octet, &asked, TransferConfig::default(), &mut got)?;
/// let mut buf = [0u8; 1500];
/// let n = c.poll_transmit(Instant::ZERO, &mut buf).unwrap();
/// assert_eq!(&buf[..n], b"\x00\x01boot.ipxe\x00octet\x00blksize\x001468\x00tsize\x000\x00");
/// # Ok::<(), pxe_tftp::wire::BuildError>(())
/// ```
#[derive(Debug)]
pub struct ClientRead<K: DataSink> {
    request: RequestBytes,
    asked: TransferOptions,
    granted: TransferOptions,
    /// No reply yet: (re)send the request.
    requesting: bool,
    request_due: bool,
    netascii: bool,
    default_timeout: core::time::Duration,
    recv: Receiving<K>,
}

impl<K: DataSink> ClientRead<K> {
    /// A download of `filename` asking for `options` (all `None`: plain
    /// RFC 1350 request). Fails only if the request does not fit
    /// [`MAX_REQUEST_LEN`] or the file name contains a NUL.
    pub fn new(
        filename: &[u8],
        mode: Mode,
        options: &TransferOptions,
        config: TransferConfig,
        sink: K,
    ) -> Result<Self, BuildError> {
        let request = RequestBytes::new(RequestKind::Read, filename, mode, options)?;
        // Until the server answers, our own timeout option (if any) applies.
        let timeout = effective_timeout(options, config.retransmit_timeout);
        Ok(ClientRead {
            request,
            asked: *options,
            granted: TransferOptions::default(),
            requesting: true,
            request_due: true,
            netascii: mode == Mode::Netascii,
            default_timeout: config.retransmit_timeout,
            recv: Receiving::new(
                sink,
                Receiver::new(512, 1, mode == Mode::Netascii),
                Timer::new(timeout, config.max_retransmits),
                config.linger_timeouts,
            ),
        })
    }

    /// What the server granted (empty before its OACK, or without one).
    pub fn granted(&self) -> &TransferOptions {
        &self.granted
    }

    /// The size the server announced with `tsize`, if any.
    pub fn transfer_size(&self) -> Option<u64> {
        self.granted.tsize
    }

    /// Bytes written to the sink so far.
    pub fn bytes_received(&self) -> u64 {
        self.recv.rx.offset
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

    /// The sink.
    pub fn sink(&self) -> &K {
        &self.recv.sink
    }

    /// Gives the sink back.
    pub fn into_sink(self) -> K {
        self.recv.sink
    }

    /// Ends the transfer with ERROR `code`.
    pub fn abort(&mut self, code: ErrorCode, message: &'static str) {
        self.recv
            .fail(TransferError::Aborted(code), Some((code, message)));
    }

    /// Feeds one datagram from the server.
    pub fn handle_datagram(&mut self, now: Instant, datagram: &[u8]) {
        if self.recv.is_failed() {
            self.recv.stats.ignored += 1;
            return;
        }
        let Ok(pkt) = Packet::parse(datagram) else {
            self.recv.stats.ignored += 1;
            return;
        };
        match pkt {
            Packet::Oack(list) => {
                if !self.requesting {
                    // Our ACK 0 was lost and the server repeats its OACK.
                    if self.recv.rx.expected == 1 {
                        self.recv.rx.ack_pending = true;
                    } else {
                        self.recv.stats.ignored += 1;
                    }
                    return;
                }
                match check_oack(&self.asked, &list) {
                    Ok(g) => {
                        self.granted = g;
                        let rx = &mut self.recv.rx;
                        *rx = Receiver::new(
                            g.effective_blksize(),
                            g.effective_windowsize(),
                            self.netascii,
                        );
                        rx.ack_pending = true; // ACK 0
                        let timer = &mut self.recv.timer;
                        timer.timeout = effective_timeout(&g, self.default_timeout);
                        self.requesting = false;
                        self.request_due = false;
                        timer.retries = 0;
                        timer.arm(now);
                    }
                    Err(e) => self.recv.fail(
                        TransferError::BadOack(e),
                        Some((ErrorCode::OPTION_REFUSED, "OACK refused")),
                    ),
                }
            }
            Packet::Data { block, data } => {
                if self.requesting {
                    // No OACK: the server ignored every option (RFC 2347).
                    self.requesting = false;
                    self.request_due = false;
                    self.recv.timer.timeout = self.default_timeout;
                }
                self.recv.on_data(now, block, data);
            }
            Packet::Error { code, message } => self.recv.on_peer_error(code, message),
            other => self.recv.on_unexpected(other.opcode()),
        }
    }

    /// Handles the passage of time: resends the request or the last ACK,
    /// or gives up after [`TransferConfig::max_retransmits`].
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.recv.handle_timeout(now, self.requesting) && self.requesting {
            self.request_due = true;
        }
    }

    /// Writes the next datagram (request, ACK or ERROR) into `buf` (at
    /// least [`MAX_REQUEST_LEN`] bytes is always enough).
    pub fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<usize> {
        if self.recv.error_due() {
            return self.recv.poll_error(buf);
        }
        // A failure (also a timeout) cancels a request still due.
        if self.request_due && !self.recv.is_failed() {
            let len = self.request.len;
            if buf.len() < len {
                self.recv.fail(
                    TransferError::BufferTooSmall {
                        needed: len,
                        available: buf.len(),
                    },
                    None,
                );
                return None;
            }
            buf[..len].copy_from_slice(&self.request.buf[..len]);
            self.request_due = false;
            self.recv.timer.arm(now);
            self.recv.stats.datagrams_sent += 1;
            return Some(len);
        }
        // The acknowledgement of block 0 here is ACK 0, never an OACK.
        self.recv.poll_ack(now, buf, &TransferOptions::default())
    }

    /// The next deadline.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.recv.poll_timeout()
    }
}

/// Uploads a file (WRQ) from a [`DataSource`].
///
/// Sends the WRQ until the server answers with ACK 0 or an OACK (checked as
/// for reads; `tsize` is sent with the source's size when asked for), then
/// sends windows exactly like the server's
/// [`ReadTransfer`](crate::server::ReadTransfer) does (netascii is encoded
/// if asked for; `tsize` is then not sent, as its encoded size would need a
/// full read).
#[derive(Debug)]
pub struct ClientWrite<S: DataSource> {
    source: S,
    request: RequestBytes,
    asked: TransferOptions,
    granted: TransferOptions,
    requesting: bool,
    request_due: bool,
    netascii: bool,
    size: Option<u64>,
    sender: Sender,
    timer: Timer,
    default_timeout: core::time::Duration,
    error_out: Option<(ErrorCode, &'static str)>,
    state: State<S::Error>,
    stats: Stats,
}

impl<S: DataSource> ClientWrite<S> {
    /// An upload of `source` as `filename`. If `options.tsize` is set, the
    /// source's size replaces its value (octet mode; netascii sends none).
    pub fn new(
        filename: &[u8],
        mode: Mode,
        options: &TransferOptions,
        config: TransferConfig,
        mut source: S,
    ) -> Result<Self, BuildError> {
        let netascii = mode == Mode::Netascii;
        let size = source.size();
        let mut asked = *options;
        if asked.tsize.is_some() {
            asked.tsize = if netascii { None } else { size };
        }
        let request = RequestBytes::new(RequestKind::Write, filename, mode, &asked)?;
        Ok(ClientWrite {
            source,
            request,
            asked,
            granted: TransferOptions::default(),
            requesting: true,
            request_due: true,
            netascii,
            size,
            sender: Sender::new(512, 1, netascii, size),
            timer: Timer::new(
                effective_timeout(&asked, config.retransmit_timeout),
                config.max_retransmits,
            ),
            default_timeout: config.retransmit_timeout,
            error_out: None,
            state: State::Active,
            stats: Stats::default(),
        })
    }

    /// What the server granted.
    pub fn granted(&self) -> &TransferOptions {
        &self.granted
    }

    /// Where the transfer stands.
    pub fn state(&self) -> &State<S::Error> {
        &self.state
    }

    /// True once nothing more will be sent or awaited.
    pub fn is_finished(&self) -> bool {
        !self.state.is_active() && self.error_out.is_none()
    }

    /// Counters.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    fn fail(&mut self, err: TransferError<S::Error>, reply: Option<(ErrorCode, &'static str)>) {
        if self.state.is_active() {
            self.state = State::Failed(err);
            self.error_out = reply;
            self.timer.deadline = None;
            self.request_due = false;
        }
    }

    /// Ends the transfer with ERROR `code`.
    pub fn abort(&mut self, code: ErrorCode, message: &'static str) {
        self.fail(TransferError::Aborted(code), Some((code, message)));
    }

    fn start(&mut self, now: Instant, g: TransferOptions) {
        self.granted = g;
        self.sender = Sender::new(
            g.effective_blksize(),
            g.effective_windowsize(),
            self.netascii,
            self.size,
        );
        self.timer.timeout = effective_timeout(&g, self.default_timeout);
        self.requesting = false;
        self.request_due = false;
        self.timer.retries = 0;
        self.timer.arm(now);
    }

    /// Feeds one datagram from the server.
    pub fn handle_datagram(&mut self, now: Instant, datagram: &[u8]) {
        if !self.state.is_active() {
            self.stats.ignored += 1;
            return;
        }
        let Ok(pkt) = Packet::parse(datagram) else {
            self.stats.ignored += 1;
            return;
        };
        match pkt {
            Packet::Oack(list) if self.requesting => match check_oack(&self.asked, &list) {
                Ok(g) => self.start(now, g),
                Err(e) => self.fail(
                    TransferError::BadOack(e),
                    Some((ErrorCode::OPTION_REFUSED, "OACK refused")),
                ),
            },
            Packet::Oack(_) => self.stats.ignored += 1,
            Packet::Ack { block: 0 } if self.requesting => {
                self.start(now, TransferOptions::default())
            }
            Packet::Ack { block } => {
                if self.requesting {
                    self.stats.ignored += 1;
                    return;
                }
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
            Packet::Error { code, message } => self.fail(peer_error(code, message), None),
            other => self.fail(
                TransferError::UnexpectedPacket(other.opcode()),
                Some((ErrorCode::ILLEGAL_OPERATION, "illegal TFTP operation")),
            ),
        }
    }

    fn fail_send(&mut self, e: SendError<S::Error>) {
        let err = match e {
            SendError::Storage(e) => TransferError::Storage(e),
            SendError::Shrank { expected, got } => TransferError::SourceShrank { expected, got },
        };
        self.fail(err, Some((ErrorCode::NOT_DEFINED, "cannot read file")));
    }

    /// Handles the passage of time.
    pub fn handle_timeout(&mut self, now: Instant) {
        if !self.state.is_active() || !self.timer.expired(now) {
            return;
        }
        if !self.timer.retry() {
            let block = if self.requesting {
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
        if self.requesting {
            self.request_due = true;
        } else {
            self.sender.rewind();
        }
        self.timer.arm(now);
    }

    /// Writes the next datagram (request, DATA or ERROR) into `buf`, which
    /// must hold 4 + blksize bytes.
    pub fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<usize> {
        if let Some((code, msg)) = self.error_out.take() {
            let n = write_error(buf, code, msg.as_bytes()).ok()?;
            self.stats.datagrams_sent += 1;
            return Some(n);
        }
        if !self.state.is_active() {
            return None;
        }
        if self.request_due {
            let len = self.request.len;
            if buf.len() < len {
                return None;
            }
            buf[..len].copy_from_slice(&self.request.buf[..len]);
            self.request_due = false;
            self.timer.arm(now);
            self.stats.datagrams_sent += 1;
            return Some(len);
        }
        if self.requesting || !self.sender.has_pending() {
            return None;
        }
        if buf.len() < self.sender.datagram_len() {
            let needed = self.sender.datagram_len();
            self.fail(
                TransferError::BufferTooSmall {
                    needed,
                    available: buf.len(),
                },
                Some((ErrorCode::NOT_DEFINED, "internal error")),
            );
            return self.poll_transmit(now, buf);
        }
        match self.sender.poll(&mut self.source, buf) {
            Ok(Some((n, resent))) => {
                self.timer.arm(now);
                self.stats.datagrams_sent += 1;
                if resent {
                    self.stats.blocks_resent += 1;
                } else {
                    self.stats.bytes += (n - crate::wire::HEADER_LEN) as u64;
                }
                Some(n)
            }
            Ok(None) => None,
            Err(e) => {
                self.fail_send(e);
                self.poll_transmit(now, buf)
            }
        }
    }

    /// The next deadline.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.state.is_active() {
            self.timer.deadline
        } else {
            None
        }
    }
}
