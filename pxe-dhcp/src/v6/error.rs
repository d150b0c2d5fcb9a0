//! The error type shared by the DHCPv6 views and builders.

use core::fmt;

use super::code::Named;
use super::message::MessageType;

/// Where an option was read from: the top level of a message, or the value
/// of an enclosing option (IA_NA, IAADDR, vendor options, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// The options of a message (client/server or relay, RFC 8415 section 8 and 9).
    Message,
    /// The options encapsulated in the value of this option.
    Option(u16),
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Message => f.write_str("the message"),
            Scope::Option(code) => write!(f, "option {}", Named(*code)),
        }
    }
}

/// Everything that can be wrong with a DHCPv6 message being read or written.
///
/// Offsets are byte offsets from the start of the datagram given to the
/// view's constructor (for a message carried in a relay message's option 9,
/// from the start of the outermost relay message), so a log line can point
/// at the exact byte whatever the nesting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The buffer cannot hold the fixed header of its message kind.
    #[error("message is {len} bytes, shorter than the {needed}-byte {kind} header")]
    TooShort {
        /// Length of the buffer.
        len: usize,
        /// Length of the fixed header.
        needed: usize,
        /// Which header: "client/server" (4 bytes) or "relay" (34 bytes).
        kind: &'static str,
    },
    /// The message type is not one the view or builder takes: a relay type
    /// given to a client/server view or builder, or the reverse, or a relay
    /// message other than RELAY-FORW to answer.
    #[error("message type {msg_type} is not a {expected} message")]
    UnexpectedType {
        /// The type found or asked for.
        msg_type: MessageType,
        /// What was expected: "client/server", "relay" or "RELAY-FORW".
        expected: &'static str,
    },
    /// Fewer than the 4 bytes of an option header (code and length) remain.
    #[error(
        "option header at offset {offset} in {scope} is cut off: {available} of its 4 bytes remain"
    )]
    TruncatedHeader {
        /// Offset of the first byte of the partial header.
        offset: usize,
        /// Where the option is.
        scope: Scope,
        /// Bytes left (1 to 3).
        available: usize,
    },
    /// An option's length runs past the end of its message or enclosing option.
    #[error(
        "option {} at offset {offset} in {scope} claims {len} bytes but only {available} remain",
        Named(*.code)
    )]
    Overrun {
        /// Option code.
        code: u16,
        /// Offset of the option's code.
        offset: usize,
        /// Where the option is.
        scope: Scope,
        /// The declared length.
        len: u16,
        /// Bytes actually left after the option header.
        available: usize,
    },
    /// A typed option has a length its type does not allow.
    #[error("option {} at offset {offset} is {len} bytes long, expected {expected}", Named(*.code))]
    BadLength {
        /// Option code.
        code: u16,
        /// Offset of the option's code.
        offset: usize,
        /// Actual length of the value.
        len: usize,
        /// What the type requires, in words.
        expected: &'static str,
    },
    /// A typed option has an acceptable length but impossible contents.
    #[error("option {} at offset {offset} is malformed: {reason}", Named(*.code))]
    Malformed {
        /// Option code.
        code: u16,
        /// Offset of the option's code.
        offset: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// An option the message format requires is absent (option 9 in a
    /// relay message).
    #[error("required option {} is missing", Named(*.code))]
    Missing {
        /// Option code.
        code: u16,
    },
    /// Relay messages are nested deeper than any relay chain may be
    /// ([`MAX_RELAY_DEPTH`](super::MAX_RELAY_DEPTH)).
    #[error("relay messages are nested more than {limit} deep")]
    RelayTooDeep {
        /// The nesting limit.
        limit: usize,
    },
    /// The caller's output buffer is too small.
    #[error("buffer too small: {needed} bytes needed, {available} available")]
    BufferTooSmall {
        /// Bytes needed (at least).
        needed: usize,
        /// Bytes available.
        available: usize,
    },
    /// A value does not fit its length field (an option's 16-bit length, a
    /// DNS label's 63 bytes, ...).
    #[error("{field} is {len} bytes, at most {max} fit")]
    ValueTooLong {
        /// Which field or option.
        field: &'static str,
        /// Given length.
        len: usize,
        /// Maximum length.
        max: usize,
    },
}

impl Error {
    /// [`Error::BadLength`] for `opt`.
    #[inline]
    pub(crate) fn bad_length(opt: &super::RawOption<'_>, expected: &'static str) -> Error {
        Error::BadLength {
            code: opt.code,
            offset: opt.offset,
            len: opt.data.len(),
            expected,
        }
    }

    /// [`Error::Malformed`] for `opt`.
    #[inline]
    pub(crate) fn malformed(opt: &super::RawOption<'_>, reason: &'static str) -> Error {
        Error::Malformed {
            code: opt.code,
            offset: opt.offset,
            reason,
        }
    }
}
