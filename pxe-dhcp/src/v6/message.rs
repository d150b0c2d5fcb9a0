//! The client/server message view (RFC 8415 section 8): message type,
//! transaction id and options, with typed getters for what netboot reads.

use core::fmt;

use super::boot::{BootFileParams, BootFileUrl, parse_client_arch, parse_nii};
use super::class::{UserClass, VendorClass, VendorOpts};
use super::code::{self, Named};
use super::dns::{DomainList, Fqdn, Ipv6List};
use super::duid::Duid;
use super::error::{Error, Scope};
use super::exchange::{ElapsedTime, Oro, parse_preference, parse_rapid_commit};
use super::ia::{IaNa, StatusCode};
use super::options::{Matching, Options, RawOption, Typed};
use crate::{ClientArchList, ClientNdi};

/// Length of the client/server header: message type and transaction id.
pub const MESSAGE_HEADER_LEN: usize = 4;

/// The DHCPv6 message type (RFC 8415 section 7.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageType {
    /// 1: a client looks for servers.
    Solicit,
    /// 2: a server offers itself.
    Advertise,
    /// 3: a client asks a chosen server for configuration.
    Request,
    /// 4: a client checks its addresses still fit the link.
    Confirm,
    /// 5: a client extends its leases with the server that gave them.
    Renew,
    /// 6: a client extends its leases with any server.
    Rebind,
    /// 7: a server answers.
    Reply,
    /// 8: a client gives up leases.
    Release,
    /// 9: a client found an assigned address in use.
    Decline,
    /// 10: a server tells a client to renew or ask again.
    Reconfigure,
    /// 11: a client asks for configuration without addresses.
    InformationRequest,
    /// 12: a relay agent forwards a message towards servers.
    RelayForw,
    /// 13: a server sends a message back through a relay agent.
    RelayRepl,
    /// Any other value (leasequery, DHCPv4-over-DHCPv6, ...).
    Other(u8),
}

impl From<u8> for MessageType {
    #[inline]
    fn from(v: u8) -> Self {
        match v {
            1 => Self::Solicit,
            2 => Self::Advertise,
            3 => Self::Request,
            4 => Self::Confirm,
            5 => Self::Renew,
            6 => Self::Rebind,
            7 => Self::Reply,
            8 => Self::Release,
            9 => Self::Decline,
            10 => Self::Reconfigure,
            11 => Self::InformationRequest,
            12 => Self::RelayForw,
            13 => Self::RelayRepl,
            v => Self::Other(v),
        }
    }
}

impl From<MessageType> for u8 {
    #[inline]
    fn from(t: MessageType) -> u8 {
        match t {
            MessageType::Solicit => 1,
            MessageType::Advertise => 2,
            MessageType::Request => 3,
            MessageType::Confirm => 4,
            MessageType::Renew => 5,
            MessageType::Rebind => 6,
            MessageType::Reply => 7,
            MessageType::Release => 8,
            MessageType::Decline => 9,
            MessageType::Reconfigure => 10,
            MessageType::InformationRequest => 11,
            MessageType::RelayForw => 12,
            MessageType::RelayRepl => 13,
            MessageType::Other(v) => v,
        }
    }
}

impl MessageType {
    /// Whether the message uses the relay format (RELAY-FORW, RELAY-REPL).
    #[inline]
    pub fn is_relay(self) -> bool {
        matches!(self, MessageType::RelayForw | MessageType::RelayRepl)
    }

    /// The RFC's name (`SOLICIT`, `INFORMATION-REQUEST`, `RELAY-FORW`, ...).
    #[inline]
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            MessageType::Solicit => "SOLICIT",
            MessageType::Advertise => "ADVERTISE",
            MessageType::Request => "REQUEST",
            MessageType::Confirm => "CONFIRM",
            MessageType::Renew => "RENEW",
            MessageType::Rebind => "REBIND",
            MessageType::Reply => "REPLY",
            MessageType::Release => "RELEASE",
            MessageType::Decline => "DECLINE",
            MessageType::Reconfigure => "RECONFIGURE",
            MessageType::InformationRequest => "INFORMATION-REQUEST",
            MessageType::RelayForw => "RELAY-FORW",
            MessageType::RelayRepl => "RELAY-REPL",
            MessageType::Other(_) => return None,
        })
    }
}

/// `SOLICIT`, or `TYPE20` for unnamed types.
impl fmt::Display for MessageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "TYPE{}", u8::from(*self)),
        }
    }
}

/// A 24-bit transaction id (RFC 8415 section 8).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TransactionId(u32);

impl TransactionId {
    /// The id `v`, if it fits 24 bits.
    #[inline]
    pub const fn new(v: u32) -> Option<Self> {
        if v <= 0xff_ffff {
            Some(TransactionId(v))
        } else {
            None
        }
    }
    /// The id from its three wire bytes.
    #[inline]
    pub const fn from_bytes(b: [u8; 3]) -> Self {
        TransactionId(u32::from_be_bytes([0, b[0], b[1], b[2]]))
    }
    /// The three wire bytes.
    #[inline]
    pub const fn to_bytes(self) -> [u8; 3] {
        let [_, a, b, c] = self.0.to_be_bytes();
        [a, b, c]
    }
    /// The id as a number below 2^24.
    #[inline]
    pub const fn get(self) -> u32 {
        self.0
    }
}

/// Six hex digits: `779fd4`.
impl fmt::Display for TransactionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:06x}", self.0)
    }
}

impl fmt::Debug for TransactionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TransactionId({:06x})", self.0)
    }
}

/// A presence bit per option code, so lookups of absent codes do not
/// walk: bit `code` for codes below 63, bit 63 for all others.
#[inline]
fn presence_bit(code: u16) -> u64 {
    1 << code.min(63)
}

/// Walks `options` once: which codes occur, and the first framing error.
#[inline]
pub(crate) fn scan(options: Options<'_>) -> (u64, Option<Error>) {
    let mut present = 0;
    for o in options {
        match o {
            Ok(o) => present |= presence_bit(o.code),
            Err(e) => return (present, Some(e)),
        }
    }
    (present, None)
}

/// The options of a message (client/server or relay) with their presence
/// bits; the lookups both views share.
#[derive(Debug, Clone)]
pub(crate) struct OptionArea<'a> {
    pub(crate) options: Options<'a>,
    pub(crate) present: u64,
}

impl<'a> OptionArea<'a> {
    #[inline]
    pub(crate) fn first(&self, code: u16) -> Option<RawOption<'a>> {
        if self.present & presence_bit(code) == 0 {
            return None;
        }
        self.options.first(code)
    }
    #[inline]
    pub(crate) fn typed<V>(
        &self,
        code: u16,
        parse: impl FnOnce(RawOption<'a>) -> Result<V, Error>,
    ) -> Result<Option<V>, Error> {
        self.first(code).map(parse).transpose()
    }
}

/// A read-only view of a client/server DHCPv6 message (every type but
/// RELAY-FORW and RELAY-REPL, which [`RelayMessage`](super::RelayMessage)
/// reads) in a borrowed or owned buffer.
///
/// [`Message::new_checked`] validates the header and the framing of every
/// top-level option in one pass; typed getters check their option's
/// contents when called. An option the RFC allows once is read from its
/// first occurrence. Nothing is copied.
#[derive(Clone)]
pub struct Message<T: AsRef<[u8]>> {
    buffer: T,
    base: usize,
    present: u64,
    error: Option<Error>,
}

impl<T: AsRef<[u8]>> Message<T> {
    /// Wraps `buffer`, checking the 4-byte header, that the type is not a
    /// relay type, and the framing of every option.
    #[inline]
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        let m = Message::at(buffer, 0)?;
        match m.error {
            Some(e) => Err(e),
            None => Ok(m),
        }
    }

    /// Like [`Message::new_checked`] but keeps a message whose options are
    /// badly framed: the options before the first framing error stay
    /// readable and the error is kept in [`Message::options_error`].
    #[inline]
    pub fn new_lenient(buffer: T) -> Result<Self, Error> {
        Message::at(buffer, 0)
    }

    /// The view of `buffer`, which starts at offset `base` of its datagram.
    #[inline]
    pub(crate) fn at(buffer: T, base: usize) -> Result<Self, Error> {
        let b = buffer.as_ref();
        let Some(&t) = b.first().filter(|_| b.len() >= MESSAGE_HEADER_LEN) else {
            return Err(Error::TooShort {
                len: b.len(),
                needed: MESSAGE_HEADER_LEN,
                kind: "client/server",
            });
        };
        let msg_type = MessageType::from(t);
        if msg_type.is_relay() {
            return Err(Error::UnexpectedType {
                msg_type,
                expected: "client/server",
            });
        }
        let (present, error) = scan(options_of(b, base));
        Ok(Message {
            buffer,
            base,
            present,
            error,
        })
    }

    /// The framing error [`Message::new_lenient`] tolerated, if any.
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
    pub fn borrowed(&self) -> Message<&[u8]> {
        Message {
            buffer: self.as_bytes(),
            base: self.base,
            present: self.present,
            error: self.error,
        }
    }
    /// Offset of this message in its datagram (non-zero inside a relay message).
    #[inline]
    pub fn offset(&self) -> usize {
        self.base
    }

    /// The message type (never a relay type).
    #[inline]
    pub fn msg_type(&self) -> MessageType {
        MessageType::from(self.as_bytes().first().copied().unwrap_or(0))
    }
    /// The transaction id.
    #[inline]
    pub fn transaction_id(&self) -> TransactionId {
        match self.as_bytes() {
            [_, a, b, c, ..] => TransactionId::from_bytes([*a, *b, *c]),
            _ => TransactionId(0),
        }
    }

    /// Every top-level option in wire order.
    #[inline]
    pub fn options(&self) -> Options<'_> {
        options_of(self.as_bytes(), self.base)
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
    /// Whether option `code` occurs.
    #[inline]
    pub fn has_option(&self, code: u16) -> bool {
        self.option(code).is_some()
    }

    #[inline]
    fn area(&self) -> OptionArea<'_> {
        OptionArea {
            options: self.options(),
            present: self.present,
        }
    }

    /// Option 1, the client's DUID.
    #[inline]
    pub fn client_id(&self) -> Result<Option<Duid<'_>>, Error> {
        self.area().typed(code::CLIENT_ID, Duid::parse)
    }
    /// Option 2, the server's DUID.
    #[inline]
    pub fn server_id(&self) -> Result<Option<Duid<'_>>, Error> {
        self.area().typed(code::SERVER_ID, Duid::parse)
    }
    /// The first option 3, IA_NA.
    #[inline]
    pub fn ia_na(&self) -> Result<Option<IaNa<'_>>, Error> {
        self.area().typed(code::IA_NA, IaNa::parse)
    }
    /// Every option 3, IA_NA (a client may ask for several).
    #[inline]
    pub fn ia_nas(&self) -> Typed<'_, IaNa<'_>> {
        Typed::new(&self.options(), code::IA_NA, IaNa::parse)
    }
    /// Option 6, the options the client asks for.
    #[inline]
    pub fn oro(&self) -> Result<Option<Oro<'_>>, Error> {
        self.area().typed(code::ORO, Oro::parse)
    }
    /// Option 7, the server preference.
    #[inline]
    pub fn preference(&self) -> Result<Option<u8>, Error> {
        self.area().typed(code::PREFERENCE, parse_preference)
    }
    /// Option 8, the elapsed time.
    #[inline]
    pub fn elapsed_time(&self) -> Result<Option<ElapsedTime>, Error> {
        self.area().typed(code::ELAPSED_TIME, ElapsedTime::parse)
    }
    /// Option 14: whether the client asks for (or the server grants) rapid commit.
    #[inline]
    pub fn rapid_commit(&self) -> Result<bool, Error> {
        Ok(self
            .area()
            .typed(code::RAPID_COMMIT, parse_rapid_commit)?
            .is_some())
    }
    /// Option 13 at the top level, the status of the whole message.
    #[inline]
    pub fn status_code(&self) -> Result<Option<StatusCode<'_>>, Error> {
        self.area().typed(code::STATUS_CODE, StatusCode::parse)
    }
    /// Option 15, the user class.
    #[inline]
    pub fn user_class(&self) -> Result<Option<UserClass<'_>>, Error> {
        self.area().typed(code::USER_CLASS, UserClass::parse)
    }
    /// The first option 16, vendor class.
    #[inline]
    pub fn vendor_class(&self) -> Result<Option<VendorClass<'_>>, Error> {
        self.area().typed(code::VENDOR_CLASS, VendorClass::parse)
    }
    /// Every option 16 (one per enterprise).
    #[inline]
    pub fn vendor_classes(&self) -> Typed<'_, VendorClass<'_>> {
        Typed::new(&self.options(), code::VENDOR_CLASS, VendorClass::parse)
    }
    /// Every option 17, vendor-specific information (one per enterprise).
    #[inline]
    pub fn vendor_opts(&self) -> Typed<'_, VendorOpts<'_>> {
        Typed::new(&self.options(), code::VENDOR_OPTS, VendorOpts::parse)
    }
    /// Option 23, the DNS servers.
    #[inline]
    pub fn dns_servers(&self) -> Result<Option<Ipv6List<'_>>, Error> {
        self.area().typed(code::DNS_SERVERS, Ipv6List::parse)
    }
    /// Option 24, the domain search list.
    #[inline]
    pub fn domain_list(&self) -> Result<Option<DomainList<'_>>, Error> {
        self.area().typed(code::DOMAIN_LIST, DomainList::parse)
    }
    /// Option 39, the client FQDN.
    #[inline]
    pub fn fqdn(&self) -> Result<Option<Fqdn<'_>>, Error> {
        self.area().typed(code::CLIENT_FQDN, Fqdn::parse)
    }
    /// Option 59, the boot file URL.
    #[inline]
    pub fn boot_file_url(&self) -> Result<Option<BootFileUrl<'_>>, Error> {
        self.area().typed(code::BOOTFILE_URL, BootFileUrl::parse)
    }
    /// Option 60, the boot file parameters.
    #[inline]
    pub fn boot_file_params(&self) -> Result<Option<BootFileParams<'_>>, Error> {
        self.area()
            .typed(code::BOOTFILE_PARAM, BootFileParams::parse)
    }
    /// Option 61, the client's architecture types.
    #[inline]
    pub fn client_arch(&self) -> Result<Option<ClientArchList<'_>>, Error> {
        self.area().typed(code::CLIENT_ARCH_TYPE, parse_client_arch)
    }
    /// Option 62, the client's network interface identifier.
    #[inline]
    pub fn nii(&self) -> Result<Option<ClientNdi>, Error> {
        self.area().typed(code::NII, parse_nii)
    }
}

/// The options of the message `b` (at offset `base` of its datagram).
#[inline]
fn options_of(b: &[u8], base: usize) -> Options<'_> {
    Options::within(
        b.get(MESSAGE_HEADER_LEN..).unwrap_or_default(),
        base.saturating_add(MESSAGE_HEADER_LEN),
        Scope::Message,
    )
}

/// The codes of an option list, for `Debug` and `Display`.
pub(crate) struct CodeList<'a>(pub(crate) Options<'a>);

impl fmt::Display for CodeList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, o) in self.0.clone().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            match o {
                Ok(o) => match code::name(o.code) {
                    Some(n) => f.write_str(n)?,
                    None => write!(f, "{}", o.code)?,
                },
                Err(_) => f.write_str("(bad framing)")?,
            }
        }
        f.write_str("]")
    }
}

impl fmt::Debug for CodeList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut list = f.debug_list();
        for o in self.0.clone() {
            match o {
                Ok(o) => list.entry(&Named(o.code)),
                Err(e) => list.entry(&e),
            };
        }
        list.finish()
    }
}

/// `SOLICIT xid 779fd4 [client-id, elapsed-time, ia-na, oro]`
impl<T: AsRef<[u8]>> fmt::Display for Message<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} xid {} {}",
            self.msg_type(),
            self.transaction_id(),
            CodeList(self.options())
        )
    }
}

impl<T: AsRef<[u8]>> fmt::Debug for Message<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Message")
            .field("len", &self.as_bytes().len())
            .field("msg_type", &self.msg_type())
            .field("xid", &self.transaction_id())
            .field("options", &CodeList(self.options()))
            .field("options_error", &self.error)
            .finish()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    extern crate std;
    use super::*;
    use std::format;
    use std::vec::Vec;

    // iPXE's SOLICIT from tests/captures/ipv6 (ipxe6-script-dnsmasq), first 4 options.
    const SOLICIT: &[u8] = &[
        1, 0x0a, 0x3b, 0x37, 0, 1, 0, 18, 0, 4, 0, 0x17, 0, 0x1e, 0x8c, 0, 0, 0xad, 0x50, 0x87,
        0x90, 0xe6, 0xba, 0x2f, 0x34, 0x23, 0, 3, 0, 12, 0x96, 0x3f, 0x91, 0xc0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 6, 0, 8, 0, 23, 0, 24, 0, 59, 0, 60, 0, 8, 0, 2, 0, 0,
    ];

    #[test]
    fn header_and_lookups() {
        let m = Message::new_checked(SOLICIT).unwrap();
        assert_eq!(m.msg_type(), MessageType::Solicit);
        assert_eq!(m.transaction_id(), TransactionId::new(0x0a3b37).unwrap());
        assert_eq!(format!("{}", m.transaction_id()), "0a3b37");
        let codes: Vec<u16> = m.options().map(|o| o.unwrap().code).collect();
        assert_eq!(codes, [1, 3, 6, 8]);
        assert_eq!(m.option(3).unwrap().offset, 26);
        assert!(!m.has_option(2) && !m.has_option(79) && !m.has_option(700));
        assert_eq!(
            m.client_id()
                .unwrap()
                .unwrap()
                .uuid()
                .unwrap()
                .wire_text()
                .as_str(),
            "0017001e-8c00-00ad-5087-90e6ba2f3423"
        );
        assert_eq!(m.ia_na().unwrap().unwrap().iaid(), 0x963f91c0);
        assert!(m.oro().unwrap().unwrap().contains(59));
        assert_eq!(m.elapsed_time().unwrap(), Some(ElapsedTime(0)));
        assert!(!m.rapid_commit().unwrap());
        assert_eq!(m.preference().unwrap(), None);
        assert_eq!(
            format!("{m}"),
            "SOLICIT xid 0a3b37 [client-id, ia-na, oro, elapsed-time]"
        );
        assert!(format!("{m:?}").contains("3 (ia-na)"));
    }

    #[test]
    fn framing_errors() {
        assert_eq!(
            Message::new_checked(&SOLICIT[..3]).unwrap_err(),
            Error::TooShort {
                len: 3,
                needed: 4,
                kind: "client/server"
            }
        );
        let mut relay = Vec::from(SOLICIT);
        relay[0] = 12;
        assert!(matches!(
            Message::new_checked(&relay[..]),
            Err(Error::UnexpectedType {
                msg_type: MessageType::RelayForw,
                ..
            })
        ));
        let cut = &SOLICIT[..SOLICIT.len() - 1];
        let err = Error::Overrun {
            code: 8,
            offset: 54,
            scope: Scope::Message,
            len: 2,
            available: 1,
        };
        assert_eq!(Message::new_checked(cut).unwrap_err(), err);
        let m = Message::new_lenient(cut).unwrap();
        assert_eq!(m.options_error(), Some(err));
        assert!(
            m.oro().unwrap().is_some(),
            "options before the error stay readable"
        );
        assert!(!m.has_option(8));
        assert_eq!(
            format!("{err}"),
            "option 8 (elapsed-time) at offset 54 in the message claims 2 bytes but only 1 remain"
        );
    }

    #[test]
    fn message_types() {
        for v in 0..=255u8 {
            let t = MessageType::from(v);
            assert_eq!(u8::from(t), v);
            assert_eq!(t.is_relay(), v == 12 || v == 13);
        }
        assert_eq!(
            format!("{}", MessageType::InformationRequest),
            "INFORMATION-REQUEST"
        );
        assert_eq!(format!("{}", MessageType::from(20)), "TYPE20");
        assert_eq!(TransactionId::new(1 << 24), None);
        assert_eq!(TransactionId::from_bytes([1, 2, 3]).to_bytes(), [1, 2, 3]);
    }
}
