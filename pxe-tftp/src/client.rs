//! Client side: download (RRQ) into a sink, upload (WRQ) from a source.
//!
//! The driver sends the first datagram (the request) to the server's port
//! 69 and takes the source address and port of the first reply as the
//! server's transfer ID; later datagrams from anywhere else are answered
//! with [`foreign_tid_reply`](crate::wire::foreign_tid_reply) and not fed
//! to the engine.

use crate::engine::{Receiver, Sender, Timer};
use crate::error::{State, Stats, TransferError};
use crate::io::{DataSink, DataSource};
use crate::options::{TransferOptions, check_oack, effective_timeout};
use crate::receiving::Receiving;
use crate::sending::Sending;
use crate::wire::{BuildError, ErrorCode, Mode, OptionWriter, Packet, RequestKind};
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
    send: Sending<S>,
    request: RequestBytes,
    asked: TransferOptions,
    granted: TransferOptions,
    netascii: bool,
    size: Option<u64>,
    default_timeout: core::time::Duration,
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
        let timer = Timer::new(
            effective_timeout(&asked, config.retransmit_timeout),
            config.max_retransmits,
        );
        Ok(ClientWrite {
            send: Sending::new(source, Sender::new(512, 1, netascii, size), timer, true),
            request,
            asked,
            granted: TransferOptions::default(),
            netascii,
            size,
            default_timeout: config.retransmit_timeout,
        })
    }

    /// What the server granted.
    pub fn granted(&self) -> &TransferOptions {
        &self.granted
    }

    /// Where the transfer stands.
    pub fn state(&self) -> &State<S::Error> {
        &self.send.state
    }

    /// True once nothing more will be sent or awaited.
    pub fn is_finished(&self) -> bool {
        self.send.is_finished()
    }

    /// Counters.
    pub fn stats(&self) -> Stats {
        self.send.stats
    }

    /// Ends the transfer with ERROR `code`.
    pub fn abort(&mut self, code: ErrorCode, message: &'static str) {
        self.send
            .fail(TransferError::Aborted(code), Some((code, message)));
    }

    fn start(&mut self, now: Instant, g: TransferOptions) {
        self.granted = g;
        self.send.sender = Sender::new(
            g.effective_blksize(),
            g.effective_windowsize(),
            self.netascii,
            self.size,
        );
        self.send.timer.timeout = effective_timeout(&g, self.default_timeout);
        self.send.started(now);
    }

    /// Feeds one datagram from the server.
    pub fn handle_datagram(&mut self, now: Instant, datagram: &[u8]) {
        if !self.send.state.is_active() {
            self.send.stats.ignored += 1;
            return;
        }
        let Ok(pkt) = Packet::parse(datagram) else {
            self.send.stats.ignored += 1;
            return;
        };
        let requesting = self.send.starting;
        match pkt {
            Packet::Oack(list) if requesting => match check_oack(&self.asked, &list) {
                Ok(g) => self.start(now, g),
                Err(e) => self.send.fail(
                    TransferError::BadOack(e),
                    Some((ErrorCode::OPTION_REFUSED, "OACK refused")),
                ),
            },
            Packet::Oack(_) => self.send.stats.ignored += 1,
            Packet::Ack { block: 0 } if requesting => self.start(now, TransferOptions::default()),
            Packet::Ack { .. } if requesting => self.send.stats.ignored += 1,
            Packet::Ack { block } => self.send.on_ack(now, block),
            Packet::Error { code, message } => self.send.on_peer_error(code, message),
            other => self.send.on_unexpected(other.opcode()),
        }
    }

    /// Handles the passage of time.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.send.handle_timeout(now);
    }

    /// Writes the next datagram (request, DATA or ERROR) into `buf`, which
    /// must hold 4 + blksize bytes.
    pub fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<usize> {
        if self.send.error_due() {
            return self.send.poll_error(buf);
        }
        if !self.send.state.is_active() {
            return None;
        }
        if self.send.start_due {
            let len = self.request.len;
            if buf.len() < len {
                // Nothing was sent, so nothing to tell the server; without
                // failing here the transfer would wait forever (no timer runs).
                self.send.fail(
                    TransferError::BufferTooSmall {
                        needed: len,
                        available: buf.len(),
                    },
                    None,
                );
                return None;
            }
            buf[..len].copy_from_slice(&self.request.buf[..len]);
            self.send.start_sent(now);
            return Some(len);
        }
        let needed = self.send.sender.datagram_len();
        self.send.poll_data(now, buf, needed)
    }

    /// The next deadline.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.send.poll_timeout()
    }
}
