//! DNS configuration: recursive name servers (option 23), the domain
//! search list (24) and the client FQDN (39) (RFC 3646, RFC 4704), with
//! names in uncompressed DNS wire format (RFC 8415 section 10).

use core::fmt;
use core::net::Ipv6Addr;

use super::error::Error;
use super::options::RawOption;

/// The longest domain name in wire format (RFC 1035 section 2.3.4).
pub const MAX_NAME_LEN: usize = 255;
/// The longest label (RFC 1035 section 2.3.4).
pub const MAX_LABEL_LEN: usize = 63;

/// A list of IPv6 addresses: option 23's recursive DNS servers (RFC 3646
/// section 3), and options 22, 31, ... of the same form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv6List<'a>(&'a [u8]);

impl<'a> Ipv6List<'a> {
    /// Checks that the value is a non-empty multiple of 16 bytes.
    #[inline]
    pub fn parse(opt: RawOption<'a>) -> Result<Self, Error> {
        if opt.data.is_empty() || !opt.data.len().is_multiple_of(16) {
            return Err(Error::bad_length(&opt, "a non-zero multiple of 16"));
        }
        Ok(Ipv6List(opt.data))
    }
    /// The addresses.
    #[inline]
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Ipv6Addr> + use<'a> {
        self.0.chunks_exact(16).map(|c| {
            let mut a = [0u8; 16];
            a.copy_from_slice(c);
            Ipv6Addr::from(a)
        })
    }
    /// Number of addresses.
    #[inline]
    pub fn len(&self) -> usize {
        self.0.len() / 16
    }
    /// Always false: an empty list does not parse.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// `fd00:77::1 fd00:77::2`
impl fmt::Display for Ipv6List<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, a) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{a}")?;
        }
        Ok(())
    }
}

/// One domain name in wire format (length-prefixed labels, RFC 1035
/// section 3.1), checked: labels of at most 63 bytes, no compression (RFC
/// 8415 section 10), at most 255 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DomainName<'a>(&'a [u8]);

impl<'a> DomainName<'a> {
    /// The wire bytes (ending with the zero label when fully qualified).
    #[inline]
    pub fn as_bytes(&self) -> &'a [u8] {
        self.0
    }
    /// The labels, without the final empty label.
    #[inline]
    pub fn labels(&self) -> Labels<'a> {
        Labels(self.0)
    }
    /// Whether the name ends with the zero-length root label (an FQDN
    /// option may carry a partial name without it, RFC 4704 section 4.2).
    #[inline]
    pub fn is_fully_qualified(&self) -> bool {
        self.0.last() == Some(&0)
    }
}

/// `boot.example.com` (bytes outside printable ASCII, `.` inside a label
/// and `\` escaped as `\xNN`).
impl fmt::Display for DomainName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, label) in self.labels().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            for &b in label {
                if b.is_ascii_graphic() && b != b'.' && b != b'\\' {
                    fmt::Write::write_char(f, char::from(b))?;
                } else {
                    write!(f, "\\x{b:02x}")?;
                }
            }
        }
        Ok(())
    }
}

/// Iterator over the labels of a [`DomainName`].
#[derive(Debug, Clone)]
pub struct Labels<'a>(&'a [u8]);

impl<'a> Iterator for Labels<'a> {
    type Item = &'a [u8];
    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        let (&len, tail) = self.0.split_first()?;
        if len == 0 {
            self.0 = &[];
            return None;
        }
        let len = usize::from(len).min(tail.len());
        let (label, rest) = tail.split_at(len);
        self.0 = rest;
        Some(label)
    }
}

impl core::iter::FusedIterator for Labels<'_> {}

/// Length of the name at the start of `data`: up to and including its
/// zero label, or (when `partial` is allowed) to the end of `data`.
fn name_len(data: &[u8], partial: bool) -> Result<usize, &'static str> {
    let mut i = 0;
    loop {
        let Some(&len) = data.get(i) else {
            return if partial {
                Ok(i)
            } else {
                Err("a domain name is not terminated by a zero-length label")
            };
        };
        if len & 0xc0 != 0 {
            return Err("a label is compressed or over 63 bytes (DHCPv6 names are not compressed)");
        }
        i += 1 + usize::from(len);
        if i > data.len() {
            return Err("a label runs past the end of the option");
        }
        if i > MAX_NAME_LEN || (len != 0 && i == MAX_NAME_LEN) {
            return Err("a domain name is longer than 255 bytes");
        }
        if len == 0 {
            return Ok(i);
        }
    }
}

/// Option 24, the domain search list: complete names, one after another
/// (RFC 3646 section 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DomainList<'a>(&'a [u8]);

impl<'a> DomainList<'a> {
    /// Checks every name.
    #[inline]
    pub fn parse(opt: RawOption<'a>) -> Result<Self, Error> {
        let mut rest = opt.data;
        while !rest.is_empty() {
            let n = name_len(rest, false).map_err(|r| Error::malformed(&opt, r))?;
            rest = rest.get(n..).unwrap_or_default();
        }
        Ok(DomainList(opt.data))
    }
    /// The names.
    #[inline]
    pub fn iter(&self) -> DomainNames<'a> {
        DomainNames(self.0)
    }
}

/// `example.com lab.example.com`
impl fmt::Display for DomainList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, n) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{n}")?;
        }
        Ok(())
    }
}

/// Iterator over the names of a [`DomainList`].
#[derive(Debug, Clone)]
pub struct DomainNames<'a>(&'a [u8]);

impl<'a> Iterator for DomainNames<'a> {
    type Item = DomainName<'a>;
    #[inline]
    fn next(&mut self) -> Option<DomainName<'a>> {
        if self.0.is_empty() {
            return None;
        }
        let n = name_len(self.0, true).unwrap_or(self.0.len());
        let (name, rest) = self.0.split_at(n.min(self.0.len()));
        self.0 = rest;
        Some(DomainName(name))
    }
}

impl core::iter::FusedIterator for DomainNames<'_> {}

bitflags::bitflags! {
    /// The flags of option 39 (RFC 4704 section 4.1).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct FqdnFlags: u8 {
        /// S: the server should perform the AAAA record update.
        const SERVER_UPDATES = 1;
        /// O: the server overrode the client's S bit (replies only).
        const OVERRIDE = 2;
        /// N: the server should perform no DNS update.
        const NO_UPDATE = 4;
        // Other bits must be zero but are kept as sent.
        const _ = !0;
    }
}

/// Option 39, the client FQDN: flags and a name that may be partial
/// (RFC 4704 section 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fqdn<'a> {
    /// The flags.
    pub flags: FqdnFlags,
    /// The name (possibly empty or partial).
    pub name: DomainName<'a>,
}

impl<'a> Fqdn<'a> {
    /// Reads the flags and checks the name.
    #[inline]
    pub fn parse(opt: RawOption<'a>) -> Result<Self, Error> {
        let Some((&flags, name)) = opt.data.split_first() else {
            return Err(Error::bad_length(&opt, "at least 1 (the flags)"));
        };
        let n = name_len(name, true).map_err(|r| Error::malformed(&opt, r))?;
        if n != name.len() {
            return Err(Error::malformed(&opt, "bytes follow the domain name"));
        }
        Ok(Fqdn {
            flags: FqdnFlags::from_bits_retain(flags),
            name: DomainName(name),
        })
    }
}

/// `flags 0x01 host.example.com`
impl fmt::Display for Fqdn<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "flags 0x{:02x} {}", self.flags.bits(), self.name)
    }
}

/// Writes `name` (dotted text, an optional final `.`) in wire format into
/// `out`, ending with the zero label unless `partial`; returns the length.
pub(crate) fn encode_name(name: &str, partial: bool, out: &mut [u8]) -> Result<usize, Error> {
    let name = name.strip_suffix('.').unwrap_or(name);
    let mut n = 0;
    let mut put = |bytes: &[u8], n: &mut usize| -> Result<(), Error> {
        let end = *n + bytes.len();
        let Some(dst) = out.get_mut(*n..end).filter(|_| end <= MAX_NAME_LEN) else {
            return Err(Error::ValueTooLong {
                field: "domain name",
                len: name.len() + 1 + usize::from(!partial),
                max: MAX_NAME_LEN,
            });
        };
        dst.copy_from_slice(bytes);
        *n = end;
        Ok(())
    };
    if !name.is_empty() {
        for label in name.split('.') {
            if label.is_empty() || label.len() > MAX_LABEL_LEN {
                return Err(Error::ValueTooLong {
                    field: "domain name label (1 to 63 bytes)",
                    len: label.len(),
                    max: MAX_LABEL_LEN,
                });
            }
            put(&[label.len() as u8], &mut n)?;
            put(label.as_bytes(), &mut n)?;
        }
    }
    if !partial {
        put(&[0], &mut n)?;
    }
    Ok(n)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    extern crate std;
    use super::*;
    use std::format;
    use std::vec::Vec;

    fn opt(code: u16, data: &[u8]) -> RawOption<'_> {
        RawOption {
            code,
            data,
            offset: 0,
        }
    }

    #[test]
    fn servers() {
        let mut v = Vec::new();
        v.extend_from_slice(&"fd00:77::1".parse::<Ipv6Addr>().unwrap().octets());
        v.extend_from_slice(&"fd00:77::2".parse::<Ipv6Addr>().unwrap().octets());
        let l = Ipv6List::parse(opt(23, &v)).unwrap();
        assert_eq!(l.len(), 2);
        assert_eq!(format!("{l}"), "fd00:77::1 fd00:77::2");
        assert!(Ipv6List::parse(opt(23, &v[..17])).is_err());
        assert!(Ipv6List::parse(opt(23, &[])).is_err());
    }

    #[test]
    fn names_encode_and_parse() {
        let mut buf = [0u8; 300];
        let n = encode_name("boot.example.com.", false, &mut buf).unwrap();
        assert_eq!(&buf[..n], b"\x04boot\x07example\x03com\x00");
        let m = encode_name("lab", false, &mut buf[n..]).unwrap();
        let list = DomainList::parse(opt(24, &buf[..n + m])).unwrap();
        assert_eq!(format!("{list}"), "boot.example.com lab");
        let names: Vec<_> = list.iter().map(|d| d.labels().count()).collect();
        assert_eq!(names, [3, 1]);
        assert!(list.iter().all(|d| d.is_fully_qualified()));
        assert!(encode_name("a..b", false, &mut buf).is_err());
        assert!(encode_name(&"x".repeat(64), false, &mut buf).is_err());
        let long = ["a".repeat(63).as_str(); 4].join(".");
        assert_eq!(long.len(), 255);
        assert!(
            encode_name(&long, false, &mut buf).is_err(),
            "257 bytes on the wire"
        );
        assert_eq!(encode_name("", false, &mut buf), Ok(1));
        assert_eq!(encode_name("", true, &mut buf), Ok(0));
    }

    #[test]
    fn bad_names() {
        for (bad, why) in [
            (&b"\x04boot"[..], "not terminated"),
            (b"\x05boot", "runs past"),
            (b"\xc0\x0c", "compressed"),
            (b"\x04boot\x00\x01", "past"),
        ] {
            match DomainList::parse(opt(24, bad)) {
                Err(Error::Malformed {
                    code: 24, reason, ..
                }) => {
                    assert!(reason.contains(why), "{bad:?}: {reason}")
                }
                other => panic!("{bad:?}: {other:?}"),
            }
        }
        let mut long = Vec::new();
        for _ in 0..5 {
            long.push(63);
            long.extend_from_slice(&[b'a'; 63]);
        }
        long.push(0);
        assert!(DomainList::parse(opt(24, &long)).is_err());
    }

    #[test]
    fn fqdn() {
        let f = Fqdn::parse(opt(39, b"\x01\x04host")).unwrap();
        assert_eq!(f.flags, FqdnFlags::SERVER_UPDATES);
        assert!(!f.name.is_fully_qualified());
        assert_eq!(format!("{f}"), "flags 0x01 host");
        let f = Fqdn::parse(opt(39, b"\x00\x04host\x03lab\x00")).unwrap();
        assert!(f.name.is_fully_qualified());
        assert_eq!(format!("{}", f.name), "host.lab");
        assert!(Fqdn::parse(opt(39, b"")).is_err());
        assert!(Fqdn::parse(opt(39, b"\x00\x01a\x00\x01b")).is_err());
        assert!(
            Fqdn::parse(opt(39, b"\x00"))
                .unwrap()
                .name
                .labels()
                .next()
                .is_none()
        );
    }
}
