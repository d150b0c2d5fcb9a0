//! A received DHCPv6 datagram of either format.

use super::error::Error;
use super::message::{Message, MessageType};
use super::relay::RelayMessage;

/// What arrives on UDP port 547 (or 546): a client/server message or a
/// relay message, told apart by the message type (RFC 8415 sections 8 and 9).
#[derive(Clone)]
pub enum Packet<T: AsRef<[u8]>> {
    /// Any type but RELAY-FORW and RELAY-REPL.
    Message(Message<T>),
    /// RELAY-FORW or RELAY-REPL.
    Relay(RelayMessage<T>),
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps `buffer` in the view its message type calls for, checking the
    /// header and the framing of every top-level option.
    #[inline]
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        if first_is_relay(buffer.as_ref()) {
            RelayMessage::new_checked(buffer).map(Packet::Relay)
        } else {
            Message::new_checked(buffer).map(Packet::Message)
        }
    }

    /// Like [`Packet::new_checked`] but keeps badly framed options (see
    /// [`Message::new_lenient`]).
    #[inline]
    pub fn new_lenient(buffer: T) -> Result<Self, Error> {
        if first_is_relay(buffer.as_ref()) {
            RelayMessage::new_lenient(buffer).map(Packet::Relay)
        } else {
            Message::new_lenient(buffer).map(Packet::Message)
        }
    }

    /// The checked view of `buffer` at offset `base` of its datagram.
    #[inline]
    pub(crate) fn at(buffer: T, base: usize) -> Result<Self, Error> {
        let p = if first_is_relay(buffer.as_ref()) {
            Packet::Relay(RelayMessage::at(buffer, base)?)
        } else {
            Packet::Message(Message::at(buffer, base)?)
        };
        match p.options_error() {
            Some(e) => Err(e),
            None => Ok(p),
        }
    }

    /// The message type.
    #[inline]
    pub fn msg_type(&self) -> MessageType {
        match self {
            Packet::Message(m) => m.msg_type(),
            Packet::Relay(r) => r.msg_type(),
        }
    }

    /// The whole datagram.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Packet::Message(m) => m.as_bytes(),
            Packet::Relay(r) => r.as_bytes(),
        }
    }

    /// The framing error a lenient constructor tolerated, if any.
    #[inline]
    pub fn options_error(&self) -> Option<Error> {
        match self {
            Packet::Message(m) => m.options_error(),
            Packet::Relay(r) => r.options_error(),
        }
    }
}

#[inline]
fn first_is_relay(b: &[u8]) -> bool {
    b.first().is_some_and(|&t| MessageType::from(t).is_relay())
}

/// The message's own `Display`.
impl<T: AsRef<[u8]>> core::fmt::Display for Packet<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Packet::Message(m) => core::fmt::Display::fmt(m, f),
            Packet::Relay(r) => core::fmt::Display::fmt(r, f),
        }
    }
}

impl<T: AsRef<[u8]>> core::fmt::Debug for Packet<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Packet::Message(m) => f.debug_tuple("Message").field(m).finish(),
            Packet::Relay(r) => f.debug_tuple("Relay").field(r).finish(),
        }
    }
}
