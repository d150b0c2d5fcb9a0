//! How a transfer ended, when it did not end well.

use core::fmt;
use core::time::Duration;

use crate::options::OackError;
use crate::wire::{ErrorCode, Opcode, Text};

/// Up to 64 bytes of an ERROR message a peer sent, kept without allocating.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ErrorText {
    buf: [u8; 64],
    len: u8,
}

impl ErrorText {
    /// Copies (and truncates to 64 bytes) a message.
    pub fn new(msg: &[u8]) -> Self {
        let len = msg.len().min(64);
        let mut buf = [0u8; 64];
        buf[..len].copy_from_slice(&msg[..len]);
        ErrorText {
            buf,
            len: len as u8,
        }
    }
    /// The raw message bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..usize::from(self.len)]
    }
}

impl fmt::Display for ErrorText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&Text(self.as_bytes()), f)
    }
}

impl fmt::Debug for ErrorText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&Text(self.as_bytes()), f)
    }
}

/// Why a transfer failed. `E` is the data source's or sink's error type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransferError<E> {
    /// The peer stayed silent through every retransmission.
    #[error(
        "no answer from the peer after {retransmits} retransmissions {timeout:?} apart, waiting for block {block}"
    )]
    TimedOut {
        /// The block (counted from 1, not wrapped; 0 = the OACK or request)
        /// whose acknowledgement or arrival was awaited.
        block: u64,
        /// Retransmissions made.
        retransmits: u32,
        /// The retransmission timeout in force.
        timeout: Duration,
    },
    /// The peer sent an ERROR packet.
    #[error("peer sent ERROR {code}: {message}")]
    Peer {
        /// Its code.
        code: ErrorCode,
        /// Its message (truncated to 64 bytes).
        message: ErrorText,
    },
    /// Reading the source or writing the sink failed.
    #[error("storage failed: {0}")]
    Storage(E),
    /// The source ended before the size it declared (the file shrank).
    #[error("data source ended at byte {got}, before its declared size of {expected} bytes")]
    SourceShrank {
        /// Declared size.
        expected: u64,
        /// Where it ended.
        got: u64,
    },
    /// The peer sent a packet that has no place in this transfer.
    #[error("peer sent an unexpected {0:?} packet")]
    UnexpectedPacket(Opcode),
    /// A DATA packet exceeded the negotiated block size.
    #[error("DATA block {block} carries {len} bytes, more than the blksize of {blksize}")]
    BlockTooLarge {
        /// Wire block number.
        block: u16,
        /// Payload length.
        len: usize,
        /// Negotiated block size.
        blksize: u16,
    },
    /// The server's OACK was not acceptable (client side).
    #[error("refused the server's OACK: {0}")]
    BadOack(OackError),
    /// The caller's transmit buffer cannot hold one datagram.
    #[error("transmit buffer of {available} bytes is too small, {needed} needed")]
    BufferTooSmall {
        /// Bytes needed.
        needed: usize,
        /// Bytes given.
        available: usize,
    },
    /// The caller aborted the transfer.
    #[error("aborted locally, ERROR {0} sent")]
    Aborted(ErrorCode),
}

/// Where a transfer stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State<E> {
    /// Still going.
    Active,
    /// Every byte was delivered and acknowledged.
    Complete,
    /// It ended with an error.
    Failed(TransferError<E>),
}

impl<E> State<E> {
    /// True while the transfer is still going.
    pub fn is_active(&self) -> bool {
        matches!(self, State::Active)
    }
    /// True when it completed.
    pub fn is_complete(&self) -> bool {
        matches!(self, State::Complete)
    }
    /// The error, if it failed.
    pub fn error(&self) -> Option<&TransferError<E>> {
        match self {
            State::Failed(e) => Some(e),
            _ => None,
        }
    }
}

/// Counters for logs and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// Datagrams produced by `poll_transmit`.
    pub datagrams_sent: u64,
    /// Data blocks sent again (after a timeout or a partial window ACK).
    pub blocks_resent: u64,
    /// Timeouts that led to a retransmission.
    pub timeouts: u64,
    /// Datagrams ignored: malformed, duplicate or stale.
    pub ignored: u64,
    /// Payload bytes written to the sink (receivers) or sent for the first
    /// time (senders).
    pub bytes: u64,
}
