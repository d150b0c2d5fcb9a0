//! Identity associations for addresses: IA_NA (option 3), IAADDR (5) and
//! the status code (13) that either may carry (RFC 8415 sections 21.4,
//! 21.6 and 21.13).

use core::fmt;
use core::net::Ipv6Addr;

use super::code;
use super::error::Error;
use super::options::{Options, RawOption, Typed};
use super::text::Quoted;

/// Fixed fields of IA_NA: IAID, T1, T2.
pub const IA_NA_FIXED_LEN: usize = 12;
/// Fixed fields of IAADDR: address, preferred and valid lifetimes.
pub const IA_ADDR_FIXED_LEN: usize = 24;
/// A lifetime or T1/T2 of all ones: infinity (RFC 8415 section 7.7).
pub const INFINITY: u32 = u32::MAX;

#[inline]
fn be32(d: &[u8], at: usize) -> u32 {
    d.get(at..at + 4)
        .map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// Option 3, an Identity Association for Non-temporary Addresses (RFC 8415
/// section 21.4): IAID, T1, T2 and encapsulated options (IAADDRs, a status
/// code).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IaNa<'a> {
    opt: RawOption<'a>,
}

impl<'a> IaNa<'a> {
    /// Checks the 12 fixed bytes and the framing of the encapsulated options.
    #[inline]
    pub fn parse(opt: RawOption<'a>) -> Result<Self, Error> {
        if opt.data.len() < IA_NA_FIXED_LEN {
            return Err(Error::bad_length(&opt, "at least 12 (IAID, T1, T2)"));
        }
        opt.encapsulated(IA_NA_FIXED_LEN).validate()?;
        Ok(IaNa { opt })
    }
    /// The raw option.
    #[inline]
    pub fn raw(&self) -> RawOption<'a> {
        self.opt
    }
    /// The identity association identifier the client chose.
    #[inline]
    pub fn iaid(&self) -> u32 {
        be32(self.opt.data, 0)
    }
    /// T1: seconds until the client renews with this server (0 = server's choice).
    #[inline]
    pub fn t1(&self) -> u32 {
        be32(self.opt.data, 4)
    }
    /// T2: seconds until the client rebinds with any server.
    #[inline]
    pub fn t2(&self) -> u32 {
        be32(self.opt.data, 8)
    }
    /// The encapsulated options.
    #[inline]
    pub fn options(&self) -> Options<'a> {
        self.opt.encapsulated(IA_NA_FIXED_LEN)
    }
    /// The IAADDR options, in wire order.
    #[inline]
    pub fn addresses(&self) -> Typed<'a, IaAddr<'a>> {
        Typed::new(&self.options(), code::IA_ADDR, IaAddr::parse)
    }
    /// The first IAADDR.
    #[inline]
    pub fn address(&self) -> Result<Option<IaAddr<'a>>, Error> {
        self.addresses().next().transpose()
    }
    /// The status code for the whole IA, if any.
    #[inline]
    pub fn status(&self) -> Result<Option<StatusCode<'a>>, Error> {
        self.options()
            .first(code::STATUS_CODE)
            .map(StatusCode::parse)
            .transpose()
    }
}

/// `IAID 0xef81f57f T1 1800 T2 3150 [iaaddr fd00:77::19e preferred 3600 valid 3600]`
impl fmt::Display for IaNa<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "IAID 0x{:08x} T1 {} T2 {}",
            self.iaid(),
            self.t1(),
            self.t2()
        )?;
        nested_fmt(f, self.options())
    }
}

/// ` [iaaddr ..., status ...]` for the typed options an IA carries.
fn nested_fmt(f: &mut fmt::Formatter<'_>, opts: Options<'_>) -> fmt::Result {
    let mut first = true;
    for o in opts.map_while(Result::ok) {
        f.write_str(if first { " [" } else { ", " })?;
        first = false;
        match o.code {
            code::IA_ADDR => match IaAddr::parse(o) {
                Ok(a) => write!(f, "iaaddr {a}")?,
                Err(_) => write!(f, "bad iaaddr")?,
            },
            code::STATUS_CODE => match StatusCode::parse(o) {
                Ok(s) => write!(f, "status {s}")?,
                Err(_) => write!(f, "bad status")?,
            },
            _ => write!(f, "{}", super::code::Named(o.code))?,
        }
    }
    if !first {
        f.write_str("]")?;
    }
    Ok(())
}

/// Option 5, an address with its lifetimes (RFC 8415 section 21.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IaAddr<'a> {
    opt: RawOption<'a>,
}

impl<'a> IaAddr<'a> {
    /// Checks the 24 fixed bytes and the framing of the encapsulated options.
    #[inline]
    pub fn parse(opt: RawOption<'a>) -> Result<Self, Error> {
        if opt.data.len() < IA_ADDR_FIXED_LEN {
            return Err(Error::bad_length(
                &opt,
                "at least 24 (address, preferred, valid)",
            ));
        }
        opt.encapsulated(IA_ADDR_FIXED_LEN).validate()?;
        Ok(IaAddr { opt })
    }
    /// The raw option.
    #[inline]
    pub fn raw(&self) -> RawOption<'a> {
        self.opt
    }
    /// The address.
    #[inline]
    pub fn address(&self) -> Ipv6Addr {
        let mut a = [0u8; 16];
        if let Some(b) = self.opt.data.get(..16) {
            a.copy_from_slice(b);
        }
        Ipv6Addr::from(a)
    }
    /// Preferred lifetime in seconds ([`INFINITY`] = forever).
    #[inline]
    pub fn preferred(&self) -> u32 {
        be32(self.opt.data, 16)
    }
    /// Valid lifetime in seconds ([`INFINITY`] = forever).
    #[inline]
    pub fn valid(&self) -> u32 {
        be32(self.opt.data, 20)
    }
    /// The encapsulated options (a status code, if any).
    #[inline]
    pub fn options(&self) -> Options<'a> {
        self.opt.encapsulated(IA_ADDR_FIXED_LEN)
    }
    /// The status code for this address, if any.
    #[inline]
    pub fn status(&self) -> Result<Option<StatusCode<'a>>, Error> {
        self.options()
            .first(code::STATUS_CODE)
            .map(StatusCode::parse)
            .transpose()
    }
}

/// `fd00:77::19e preferred 3600 valid 3600`
impl fmt::Display for IaAddr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} preferred {} valid {}",
            self.address(),
            self.preferred(),
            self.valid()
        )?;
        nested_fmt(f, self.options())
    }
}

/// A status code's number (RFC 8415 section 21.13 and the IANA registry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// 0: success.
    Success,
    /// 1: failure, reason unspecified.
    UnspecFail,
    /// 2: the server has no addresses available to assign to the IA.
    NoAddrsAvail,
    /// 3: the client record (binding) is unavailable.
    NoBinding,
    /// 4: the prefix of the address is not appropriate for the link.
    NotOnLink,
    /// 5: the client must use the multicast address.
    UseMulticast,
    /// 6: no prefixes available for the IA_PD.
    NoPrefixAvail,
    /// Any other value.
    Other(u16),
}

impl From<u16> for Status {
    #[inline]
    fn from(v: u16) -> Self {
        match v {
            0 => Status::Success,
            1 => Status::UnspecFail,
            2 => Status::NoAddrsAvail,
            3 => Status::NoBinding,
            4 => Status::NotOnLink,
            5 => Status::UseMulticast,
            6 => Status::NoPrefixAvail,
            v => Status::Other(v),
        }
    }
}

impl From<Status> for u16 {
    #[inline]
    fn from(s: Status) -> u16 {
        match s {
            Status::Success => 0,
            Status::UnspecFail => 1,
            Status::NoAddrsAvail => 2,
            Status::NoBinding => 3,
            Status::NotOnLink => 4,
            Status::UseMulticast => 5,
            Status::NoPrefixAvail => 6,
            Status::Other(v) => v,
        }
    }
}

impl Status {
    /// The RFC's name (`Success`, `NoAddrsAvail`, ...), `None` for others.
    #[inline]
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            Status::Success => "Success",
            Status::UnspecFail => "UnspecFail",
            Status::NoAddrsAvail => "NoAddrsAvail",
            Status::NoBinding => "NoBinding",
            Status::NotOnLink => "NotOnLink",
            Status::UseMulticast => "UseMulticast",
            Status::NoPrefixAvail => "NoPrefixAvail",
            Status::Other(_) => return None,
        })
    }
}

/// `0 (Success)`, or the bare number for unnamed codes.
impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => write!(f, "{} ({n})", u16::from(*self)),
            None => write!(f, "{}", u16::from(*self)),
        }
    }
}

/// Option 13, a status code and a message for people (RFC 8415 section
/// 21.13). The message is UTF-8 by the RFC and runs to the end of the
/// option (no NUL, no length of its own).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StatusCode<'a> {
    /// The status.
    pub status: Status,
    /// The message bytes as sent.
    pub message: &'a [u8],
}

impl<'a> StatusCode<'a> {
    /// Reads the 2-byte code and the message.
    #[inline]
    pub fn parse(opt: RawOption<'a>) -> Result<Self, Error> {
        match opt.data {
            [a, b, message @ ..] => Ok(StatusCode {
                status: Status::from(u16::from_be_bytes([*a, *b])),
                message,
            }),
            _ => Err(Error::bad_length(&opt, "at least 2 (the status code)")),
        }
    }
    /// The message as text, when it is valid UTF-8.
    #[inline]
    pub fn message_str(&self) -> Option<&'a str> {
        core::str::from_utf8(self.message).ok()
    }
}

/// `0 (Success) 'success'`
impl fmt::Display for StatusCode<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status, Quoted(self.message))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    extern crate std;
    use super::*;
    use std::format;
    use std::vec::Vec;

    // IA_NA from the EDK2 ADVERTISE in tests/captures/ipv6 (uefi6-pxe).
    const IA: [u8; 40] = [
        0xef, 0x81, 0xf5, 0x7f, 0, 0, 7, 8, 0, 0, 0x0c, 0x4e, 0, 5, 0, 24, 0xfd, 0, 0, 0x77, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 1, 0x9e, 0, 0, 0x0e, 0x10, 0, 0, 0x0e, 0x10,
    ];

    fn opt(code: u16, data: &[u8]) -> RawOption<'_> {
        RawOption {
            code,
            data,
            offset: 40,
        }
    }

    #[test]
    fn captured_ia_na() {
        let ia = IaNa::parse(opt(code::IA_NA, &IA)).unwrap();
        assert_eq!((ia.iaid(), ia.t1(), ia.t2()), (0xef81f57f, 1800, 3150));
        let a = ia.address().unwrap().unwrap();
        assert_eq!(a.address(), "fd00:77::19e".parse::<Ipv6Addr>().unwrap());
        assert_eq!((a.preferred(), a.valid()), (3600, 3600));
        assert_eq!(a.raw().offset, 56, "nested offsets count from the datagram");
        assert_eq!(ia.status().unwrap(), None);
        assert_eq!(
            format!("{ia}"),
            "IAID 0xef81f57f T1 1800 T2 3150 [iaaddr fd00:77::19e preferred 3600 valid 3600]"
        );
    }

    #[test]
    fn nested_errors_name_the_enclosing_option() {
        let mut bad = IA;
        bad[15] = 25; // IAADDR claims one byte more than the IA_NA holds
        assert_eq!(
            IaNa::parse(opt(code::IA_NA, &bad)),
            Err(Error::Overrun {
                code: code::IA_ADDR,
                offset: 56,
                scope: super::super::Scope::Option(code::IA_NA),
                len: 25,
                available: 24
            })
        );
        assert!(matches!(
            IaNa::parse(opt(code::IA_NA, &IA[..11])),
            Err(Error::BadLength {
                code: 3,
                len: 11,
                ..
            })
        ));
        // A short IAADDR is reported when read.
        let mut short = Vec::from(&IA[..12]);
        short.extend_from_slice(&[0, 5, 0, 2, 1, 2]);
        let ia = IaNa::parse(opt(code::IA_NA, &short)).unwrap();
        assert!(matches!(
            ia.address(),
            Err(Error::BadLength {
                code: 5,
                offset: 56,
                len: 2,
                ..
            })
        ));
    }

    #[test]
    fn status_codes() {
        let s = StatusCode::parse(opt(13, b"\x00\x00success")).unwrap();
        assert_eq!(s.status, Status::Success);
        assert_eq!(s.message_str(), Some("success"));
        assert_eq!(format!("{s}"), "0 (Success) 'success'");
        let s = StatusCode::parse(opt(13, b"\x00\x02")).unwrap();
        assert_eq!((s.status, s.message), (Status::NoAddrsAvail, &b""[..]));
        assert_eq!(format!("{}", Status::from(99)), "99");
        assert!(StatusCode::parse(opt(13, b"\x00")).is_err());
        for v in 0..10u16 {
            assert_eq!(u16::from(Status::from(v)), v);
        }
    }
}
