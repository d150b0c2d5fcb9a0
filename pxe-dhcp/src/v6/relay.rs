//! Relay messages, RELAY-FORW and RELAY-REPL (RFC 8415 section 9), and
//! the options relay agents add: interface-id (18, RFC 8415 section
//! 21.18), remote-id (37, RFC 4649), subscriber-id (38, RFC 4580) and the
//! client link-layer address (79, RFC 6939).

use core::fmt;
use core::net::Ipv6Addr;

use super::code;
use super::error::{Error, Scope};
use super::message::{CodeList, Message, MessageType, OptionArea, scan};
use super::options::{Matching, Options, RawOption};
use super::packet::Packet;
use super::text::{Colons, Hex};

/// Length of the relay header: type, hop count, link and peer addresses.
pub const RELAY_HEADER_LEN: usize = 34;
/// The deepest nesting of relay messages this crate reads or writes: RFC
/// 3315's HOP_COUNT_LIMIT (RFC 8415 lowered it to 8).
pub const MAX_RELAY_DEPTH: usize = 32;

/// The fixed fields of a relay message (RFC 8415 section 9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RelayHeader {
    /// Relay agents the message has passed (0 for the first relay).
    pub hop_count: u8,
    /// An address on the client's link (unspecified when the relay has
    /// none of global scope; then interface-id tells the link).
    pub link_address: Ipv6Addr,
    /// The address of the client or relay the message came from.
    pub peer_address: Ipv6Addr,
}

/// `hop 0 link fd00:77::1 peer fe80::5054:ff:feef:601`
impl fmt::Display for RelayHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "hop {} link {} peer {}",
            self.hop_count, self.link_address, self.peer_address
        )
    }
}

/// The end of a relay chain; see [`RelayMessage::innermost`].
#[derive(Debug, Clone)]
pub struct Innermost<'a> {
    /// The relay message that carries `message`: the first relay agent's,
    /// whose interface-id, link and peer addresses describe the client's link.
    pub relay: RelayMessage<&'a [u8]>,
    /// The client's (or server's) message.
    pub message: Message<&'a [u8]>,
}

/// A read-only view of a RELAY-FORW or RELAY-REPL message (RFC 8415
/// section 9): the relay header and options, among them option 9, the
/// relayed message (a client/server message or another relay message).
#[derive(Clone)]
pub struct RelayMessage<T: AsRef<[u8]>> {
    buffer: T,
    base: usize,
    present: u64,
    error: Option<Error>,
}

#[inline]
fn addr(b: &[u8], at: usize) -> Ipv6Addr {
    let mut a = [0u8; 16];
    if let Some(s) = b.get(at..at + 16) {
        a.copy_from_slice(s);
    }
    Ipv6Addr::from(a)
}

impl<'a> RelayMessage<&'a [u8]> {
    /// Like [`RelayMessage::relay_message`] but borrowing from the
    /// underlying buffer, so the relayed message outlives this view.
    #[inline]
    pub fn relay_message_ref(&self) -> Result<Packet<&'a [u8]>, Error> {
        relayed(self.buffer, self.base, self.present)
    }
}

impl<T: AsRef<[u8]>> RelayMessage<T> {
    /// Wraps `buffer`, checking the 34-byte header, that the type is
    /// RELAY-FORW or RELAY-REPL, and the framing of every option (the
    /// relayed message is checked when read).
    #[inline]
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        let m = RelayMessage::at(buffer, 0)?;
        match m.error {
            Some(e) => Err(e),
            None => Ok(m),
        }
    }

    /// Like [`RelayMessage::new_checked`] but keeps a message whose
    /// options are badly framed, with the error in
    /// [`RelayMessage::options_error`].
    #[inline]
    pub fn new_lenient(buffer: T) -> Result<Self, Error> {
        RelayMessage::at(buffer, 0)
    }

    /// The view of `buffer`, which starts at offset `base` of its datagram.
    #[inline]
    pub(crate) fn at(buffer: T, base: usize) -> Result<Self, Error> {
        let b = buffer.as_ref();
        let Some(&t) = b.first().filter(|_| b.len() >= RELAY_HEADER_LEN) else {
            return Err(Error::TooShort {
                len: b.len(),
                needed: RELAY_HEADER_LEN,
                kind: "relay",
            });
        };
        let msg_type = MessageType::from(t);
        if !msg_type.is_relay() {
            return Err(Error::UnexpectedType {
                msg_type,
                expected: "relay",
            });
        }
        let (present, error) = scan(relay_options_of(b, base));
        Ok(RelayMessage {
            buffer,
            base,
            present,
            error,
        })
    }

    /// The framing error [`RelayMessage::new_lenient`] tolerated, if any.
    #[inline]
    pub fn options_error(&self) -> Option<Error> {
        self.error
    }
    /// The underlying buffer.
    #[inline]
    pub fn into_inner(self) -> T {
        self.buffer
    }
    /// The whole message as bytes.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }
    /// A view of the same message borrowing the buffer.
    #[inline]
    pub fn borrowed(&self) -> RelayMessage<&[u8]> {
        RelayMessage {
            buffer: self.as_bytes(),
            base: self.base,
            present: self.present,
            error: self.error,
        }
    }
    /// Offset of this message in its datagram (non-zero when nested).
    #[inline]
    pub fn offset(&self) -> usize {
        self.base
    }

    /// RELAY-FORW or RELAY-REPL.
    #[inline]
    pub fn msg_type(&self) -> MessageType {
        MessageType::from(self.as_bytes().first().copied().unwrap_or(0))
    }
    /// The number of relays the message has passed.
    #[inline]
    pub fn hop_count(&self) -> u8 {
        self.as_bytes().get(1).copied().unwrap_or(0)
    }
    /// The link address.
    #[inline]
    pub fn link_address(&self) -> Ipv6Addr {
        addr(self.as_bytes(), 2)
    }
    /// The peer address.
    #[inline]
    pub fn peer_address(&self) -> Ipv6Addr {
        addr(self.as_bytes(), 18)
    }
    /// Hop count and addresses together.
    #[inline]
    pub fn header(&self) -> RelayHeader {
        RelayHeader {
            hop_count: self.hop_count(),
            link_address: self.link_address(),
            peer_address: self.peer_address(),
        }
    }

    /// Every option in wire order.
    #[inline]
    pub fn options(&self) -> Options<'_> {
        relay_options_of(self.as_bytes(), self.base)
    }
    /// The first option `code`; absent codes are answered without walking.
    #[inline]
    pub fn option(&self, code: u16) -> Option<RawOption<'_>> {
        self.area().first(code)
    }
    /// Every option `code`, in wire order.
    #[inline]
    pub fn options_with(&self, code: u16) -> Matching<'_> {
        self.options().matching(code)
    }
    #[inline]
    fn area(&self) -> OptionArea<'_> {
        OptionArea {
            options: self.options(),
            present: self.present,
        }
    }

    /// Option 9, the relayed message, checked; [`Error::Missing`] when absent.
    #[inline]
    pub fn relay_message(&self) -> Result<Packet<&[u8]>, Error> {
        relayed(self.as_bytes(), self.base, self.present)
    }
    /// The client/server message at the bottom of the relay chain and the
    /// relay message directly around it. Walks at most
    /// [`MAX_RELAY_DEPTH`] relay messages, without recursion.
    #[inline]
    pub fn innermost(&self) -> Result<Innermost<'_>, Error> {
        let mut relay = self.borrowed();
        for _ in 0..MAX_RELAY_DEPTH {
            match relayed(relay.buffer, relay.base, relay.present)? {
                Packet::Message(message) => return Ok(Innermost { relay, message }),
                Packet::Relay(r) => relay = r,
            }
        }
        Err(Error::RelayTooDeep {
            limit: MAX_RELAY_DEPTH,
        })
    }
    /// Option 18, the interface-id the relay agent set (opaque; a server
    /// copies it into its RELAY-REPL).
    #[inline]
    pub fn interface_id(&self) -> Option<&[u8]> {
        self.option(code::INTERFACE_ID).map(|o| o.data)
    }
    /// Option 37, the relay agent's remote-id.
    #[inline]
    pub fn remote_id(&self) -> Result<Option<RemoteId<'_>>, Error> {
        self.area().typed(code::REMOTE_ID, RemoteId::parse)
    }
    /// Option 38, the relay agent's subscriber-id (opaque).
    #[inline]
    pub fn subscriber_id(&self) -> Option<&[u8]> {
        self.option(code::SUBSCRIBER_ID).map(|o| o.data)
    }
    /// Option 79, the client's link-layer address as the relay saw it.
    #[inline]
    pub fn client_link_layer_address(&self) -> Result<Option<LinkLayerAddress<'_>>, Error> {
        self.area()
            .typed(code::CLIENT_LINKLAYER_ADDR, LinkLayerAddress::parse)
    }
}

/// Option 9 of the relay message `b` (at offset `base`, with presence
/// bits `present`), viewed and checked, borrowing from `b`.
#[inline]
fn relayed(b: &[u8], base: usize, present: u64) -> Result<Packet<&[u8]>, Error> {
    let area = OptionArea {
        options: relay_options_of(b, base),
        present,
    };
    let opt = area.first(code::RELAY_MESSAGE).ok_or(Error::Missing {
        code: code::RELAY_MESSAGE,
    })?;
    Packet::at(opt.data, opt.value_offset())
}

/// The options of the relay message `b` (at offset `base` of its datagram).
#[inline]
fn relay_options_of(b: &[u8], base: usize) -> Options<'_> {
    Options::within(
        b.get(RELAY_HEADER_LEN..).unwrap_or_default(),
        base.saturating_add(RELAY_HEADER_LEN),
        Scope::Message,
    )
}

/// `RELAY-FORW hop 0 link fd00:77::1 peer fe80::1 [interface-id, relay-msg]`
impl<T: AsRef<[u8]>> fmt::Display for RelayMessage<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {}",
            self.msg_type(),
            self.header(),
            CodeList(self.options())
        )
    }
}

impl<T: AsRef<[u8]>> fmt::Debug for RelayMessage<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RelayMessage")
            .field("len", &self.as_bytes().len())
            .field("msg_type", &self.msg_type())
            .field("header", &self.header())
            .field("options", &CodeList(self.options()))
            .field("options_error", &self.error)
            .finish()
    }
}

/// Option 37, the remote-id: an enterprise number and an identifier the
/// relay agent's vendor defines (RFC 4649 section 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RemoteId<'a> {
    /// IANA Private Enterprise Number of the relay agent's vendor.
    pub enterprise: u32,
    /// The identifier.
    pub id: &'a [u8],
}

impl<'a> RemoteId<'a> {
    /// Reads the enterprise number and a non-empty identifier.
    #[inline]
    pub fn parse(opt: RawOption<'a>) -> Result<Self, Error> {
        match opt.data.split_first_chunk::<4>() {
            Some((e, id)) if !id.is_empty() => Ok(RemoteId {
                enterprise: u32::from_be_bytes(*e),
                id,
            }),
            _ => Err(Error::bad_length(
                &opt,
                "at least 5 (enterprise, remote-id)",
            )),
        }
    }
}

/// `enterprise 9 id 0102`
impl fmt::Display for RemoteId<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "enterprise {} id {}", self.enterprise, Hex(self.id))
    }
}

/// Option 79, the client's link-layer address: hardware type and address
/// (RFC 6939 section 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LinkLayerAddress<'a> {
    /// Hardware type (1 = Ethernet).
    pub hardware_type: u16,
    /// The address.
    pub address: &'a [u8],
}

impl<'a> LinkLayerAddress<'a> {
    /// Reads the hardware type and a non-empty address.
    #[inline]
    pub fn parse(opt: RawOption<'a>) -> Result<Self, Error> {
        match opt.data.split_first_chunk::<2>() {
            Some((t, address)) if !address.is_empty() => Ok(LinkLayerAddress {
                hardware_type: u16::from_be_bytes(*t),
                address,
            }),
            _ => Err(Error::bad_length(&opt, "at least 3 (type, address)")),
        }
    }
    /// The Ethernet MAC when the type is 1 and the address 6 bytes.
    #[inline]
    pub fn mac(&self) -> Option<[u8; 6]> {
        if self.hardware_type != super::duid::HARDWARE_ETHERNET {
            return None;
        }
        self.address.try_into().ok()
    }
}

/// `hw 1 52:54:00:ef:06:01`
impl fmt::Display for LinkLayerAddress<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "hw {} {}", self.hardware_type, Colons(self.address))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    extern crate std;
    use super::*;
    use std::format;
    use std::vec::Vec;

    /// A RELAY-FORW around `inner` with `extra` options before option 9.
    fn forw(extra: &[u8], inner: &[u8]) -> Vec<u8> {
        let mut v = Vec::from([12u8, 3]);
        v.extend_from_slice(&"fd00:77::1".parse::<Ipv6Addr>().unwrap().octets());
        v.extend_from_slice(&"fe80::1".parse::<Ipv6Addr>().unwrap().octets());
        v.extend_from_slice(extra);
        v.extend_from_slice(&[0, 9]);
        v.extend_from_slice(&(inner.len() as u16).to_be_bytes());
        v.extend_from_slice(inner);
        v
    }

    #[test]
    fn header_and_agent_options() {
        let extra = [
            0, 18, 0, 2, b'e', b'0', // interface-id
            0, 37, 0, 6, 0, 0, 0, 9, 0xab, 0xcd, // remote-id
            0, 79, 0, 8, 0, 1, 0x52, 0x54, 0, 0xef, 6, 1, // client link-layer address
        ];
        let bytes = forw(&extra, &[1, 0, 0, 7, 0, 8, 0, 2, 0, 10]);
        let r = RelayMessage::new_checked(&bytes[..]).unwrap();
        assert_eq!(r.msg_type(), MessageType::RelayForw);
        assert_eq!(r.hop_count(), 3);
        assert_eq!(
            format!("{r}"),
            "RELAY-FORW hop 3 link fd00:77::1 peer fe80::1 [interface-id, remote-id, client-linklayer-addr, relay-msg]"
        );
        assert_eq!(r.interface_id(), Some(&b"e0"[..]));
        let rid = r.remote_id().unwrap().unwrap();
        assert_eq!((rid.enterprise, rid.id), (9, &[0xab, 0xcd][..]));
        let lla = r.client_link_layer_address().unwrap().unwrap();
        assert_eq!(lla.mac(), Some([0x52, 0x54, 0, 0xef, 6, 1]));
        assert_eq!(format!("{lla}"), "hw 1 52:54:00:ef:06:01");
        assert_eq!(r.subscriber_id(), None);
        let Packet::Message(m) = r.relay_message().unwrap() else {
            panic!("a SOLICIT inside")
        };
        assert_eq!(m.offset(), 34 + extra.len() + 4);
        let e = m.elapsed_time().unwrap().unwrap();
        assert_eq!(e.hundredths(), 10);
        assert_eq!(m.option(8).unwrap().offset, 34 + extra.len() + 8);
    }

    #[test]
    fn errors() {
        assert!(matches!(
            RelayMessage::new_checked(&[12u8; 33][..]),
            Err(Error::TooShort {
                len: 33,
                needed: 34,
                kind: "relay"
            })
        ));
        let mut not_relay = forw(&[], &[1, 0, 0, 0]);
        not_relay[0] = 1;
        assert!(matches!(
            RelayMessage::new_checked(&not_relay[..]),
            Err(Error::UnexpectedType {
                expected: "relay",
                ..
            })
        ));
        let bare = &forw(&[], &[])[..34];
        let r = RelayMessage::new_checked(bare).unwrap();
        assert_eq!(r.relay_message().unwrap_err(), Error::Missing { code: 9 });
        // A bad inner message is reported at its offset in the datagram.
        let bytes = forw(&[], &[1, 0, 0, 7, 0, 8, 0, 3, 0]);
        let r = RelayMessage::new_checked(&bytes[..]).unwrap();
        assert_eq!(
            r.relay_message().unwrap_err(),
            Error::Overrun {
                code: 8,
                offset: 42,
                scope: Scope::Message,
                len: 3,
                available: 1
            }
        );
        let short = forw(&[0, 37, 0, 4, 0, 0, 0, 9], &[1, 0, 0, 0]);
        let r = RelayMessage::new_checked(&short[..]).unwrap();
        assert!(matches!(
            r.remote_id(),
            Err(Error::BadLength {
                code: 37,
                offset: 34,
                ..
            })
        ));
    }
}
