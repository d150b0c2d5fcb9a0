//! Typed values that may appear in a rendered iPXE script.
//!
//! Every type here accepts only a closed alphabet (hex digits, `:`, `-`,
//! `.`, ASCII letters and digits, `_`), so a rendered value can never
//! contain a newline, a `$`, a space or a brace: nothing that reaches a
//! script through one of these types can add a line to it or start an iPXE
//! variable expansion.

use alloc::string::String;
use core::fmt;
use core::net::Ipv4Addr;
use core::str::FromStr;

/// Why a value was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    /// Not a MAC address (six hex octets separated by `:` or `-`).
    #[error("not a MAC address (expected six hex octets such as 52:54:00:12:34:56)")]
    Mac,
    /// Not a UUID in the 8-4-4-4-12 hex form.
    #[error("not a UUID (expected 8-4-4-4-12 hex digits)")]
    Uuid,
    /// Not a dotted IPv4 address.
    #[error("not an IPv4 address")]
    Ip,
    /// Not a host name (RFC 1123 labels of letters, digits and `-`).
    #[error("not a host name (letters, digits, '-' and '.', at most 253 characters)")]
    Hostname,
    /// Not an architecture (a number up to 65535 or a short lowercase name).
    #[error("not an architecture (a number 0-65535 or up to 32 of a-z, 0-9, '_', '-')")]
    Arch,
    /// Not a tag name that can be rendered.
    #[error("not a renderable tag (1-64 of A-Z, a-z, 0-9, '_', '-', '.', ':')")]
    Tag,
}

/// A link-layer (Ethernet) address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    /// Writes the address as twelve lowercase hex digits separated by `sep`
    /// (`None` for no separator).
    fn write_sep(&self, f: &mut impl fmt::Write, sep: Option<char>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if i > 0
                && let Some(s) = sep
            {
                f.write_char(s)?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }

    /// The address with `-` separators (`52-54-00-12-34-56`), as used for
    /// per-MAC override file names.
    pub fn hyphenated(&self) -> String {
        let mut s = String::with_capacity(17);
        let _ = self.write_sep(&mut s, Some('-'));
        s
    }

    /// The address as twelve hex digits without separators.
    pub fn hex(&self) -> String {
        let mut s = String::with_capacity(12);
        let _ = self.write_sep(&mut s, None);
        s
    }
}

impl fmt::Display for MacAddr {
    /// Lowercase, colon separated: `52:54:00:12:34:56` (what iPXE's `${mac}`
    /// expands to).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_sep(f, Some(':'))
    }
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

impl FromStr for MacAddr {
    type Err = ValueError;

    /// Accepts `aa:bb:cc:dd:ee:ff` or `aa-bb-cc-dd-ee-ff` (one separator kind
    /// throughout, two hex digits per octet, any case).
    fn from_str(s: &str) -> Result<Self, ValueError> {
        let b = s.as_bytes();
        if b.len() != 17 {
            return Err(ValueError::Mac);
        }
        let sep = b[2];
        if sep != b':' && sep != b'-' {
            return Err(ValueError::Mac);
        }
        let mut out = [0u8; 6];
        for (i, o) in out.iter_mut().enumerate() {
            let p = i * 3;
            if i > 0 && b[p - 1] != sep {
                return Err(ValueError::Mac);
            }
            let hi = hex_val(b[p]).ok_or(ValueError::Mac)?;
            let lo = hex_val(b[p + 1]).ok_or(ValueError::Mac)?;
            *o = hi << 4 | lo;
        }
        Ok(MacAddr(out))
    }
}

/// A UUID (as iPXE's `${uuid}` prints it: SMBIOS byte order, 8-4-4-4-12).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Uuid(pub [u8; 16]);

impl fmt::Display for Uuid {
    /// Lowercase 8-4-4-4-12 form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                f.write_str("-")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl FromStr for Uuid {
    type Err = ValueError;

    /// Accepts exactly the 36-character 8-4-4-4-12 hex form, any case.
    fn from_str(s: &str) -> Result<Self, ValueError> {
        let b = s.as_bytes();
        if b.len() != 36 {
            return Err(ValueError::Uuid);
        }
        let mut out = [0u8; 16];
        let mut n = 0;
        let mut i = 0;
        while i < 36 {
            if matches!(i, 8 | 13 | 18 | 23) {
                if b[i] != b'-' {
                    return Err(ValueError::Uuid);
                }
                i += 1;
                continue;
            }
            let hi = hex_val(b[i]).ok_or(ValueError::Uuid)?;
            let lo = hex_val(*b.get(i + 1).ok_or(ValueError::Uuid)?).ok_or(ValueError::Uuid)?;
            *out.get_mut(n).ok_or(ValueError::Uuid)? = hi << 4 | lo;
            n += 1;
            i += 2;
        }
        Ok(Uuid(out))
    }
}

/// Parses a dotted-quad IPv4 address (no leading `+`, no other forms).
pub fn parse_ipv4(s: &str) -> Result<Ipv4Addr, ValueError> {
    s.parse::<Ipv4Addr>().map_err(|_| ValueError::Ip)
}

/// A host name: dot-separated labels of ASCII letters, digits and `-`,
/// each 1–63 characters not starting or ending with `-`, 253 in total.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Hostname(String);

impl Hostname {
    /// The name as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Hostname {
    type Err = ValueError;

    fn from_str(s: &str) -> Result<Self, ValueError> {
        if s.is_empty() || s.len() > 253 {
            return Err(ValueError::Hostname);
        }
        for label in s.split('.') {
            let l = label.as_bytes();
            if l.is_empty()
                || l.len() > 63
                || l[0] == b'-'
                || l[l.len() - 1] == b'-'
                || !l.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
            {
                return Err(ValueError::Hostname);
            }
        }
        Ok(Hostname(String::from(s)))
    }
}

impl fmt::Display for Hostname {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A client architecture: either the DHCP option 93 number or a name such
/// as iPXE's `${buildarch}` (`i386`, `x86_64`, `arm64`) or `${platform}`
/// (`pcbios`, `efi`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Arch {
    /// Option 93 value (RFC 4578 / IANA processor architecture type).
    Number(u16),
    /// A lowercase name of 1–32 characters from `a-z 0-9 _ -`.
    Name(String),
}

impl FromStr for Arch {
    type Err = ValueError;

    fn from_str(s: &str) -> Result<Self, ValueError> {
        if s.is_empty() || s.len() > 32 {
            return Err(ValueError::Arch);
        }
        if s.bytes().all(|c| c.is_ascii_digit()) {
            return s
                .parse::<u16>()
                .map(Arch::Number)
                .map_err(|_| ValueError::Arch);
        }
        if s.bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_' || c == b'-')
        {
            Ok(Arch::Name(String::from(s)))
        } else {
            Err(ValueError::Arch)
        }
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Arch::Number(n) => write!(f, "{n}"),
            Arch::Name(s) => f.write_str(s),
        }
    }
}

/// A tag name that is safe to render (1–64 of `A-Z a-z 0-9 _ - . :`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Tag(String);

impl Tag {
    /// The tag name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Tag {
    type Err = ValueError;

    fn from_str(s: &str) -> Result<Self, ValueError> {
        if s.is_empty()
            || s.len() > 64
            || !s
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.' | b':'))
        {
            return Err(ValueError::Tag);
        }
        Ok(Tag(String::from(s)))
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn mac_forms() {
        let m: MacAddr = "52:54:00:AB:cd:0f".parse().unwrap_or(MacAddr([0; 6]));
        assert_eq!(m.0, [0x52, 0x54, 0, 0xab, 0xcd, 0x0f]);
        assert_eq!(m.to_string(), "52:54:00:ab:cd:0f");
        assert_eq!(m.hyphenated(), "52-54-00-ab-cd-0f");
        assert_eq!(m.hex(), "525400abcd0f");
        assert_eq!("52-54-00-ab-cd-0f".parse::<MacAddr>(), Ok(m));
        for bad in [
            "",
            "52:54:00:ab:cd",
            "52:54:00:ab:cd:0f:",
            "52:54-00:ab:cd:0f",
            "52:54:00:ab:cd:0g",
            "5254.00ab.cd0f.00",
            "52:54:00:ab:cd:0\n",
            "+2:54:00:ab:cd:0f",
        ] {
            assert_eq!(bad.parse::<MacAddr>(), Err(ValueError::Mac), "{bad:?}");
        }
    }

    #[test]
    fn uuid_forms() {
        let s = "0017001E-8C00-00AD-5087-90E6BA2F3423";
        let u: Result<Uuid, _> = s.parse();
        assert_eq!(
            u.map(|u| u.to_string()),
            Ok("0017001e-8c00-00ad-5087-90e6ba2f3423".to_string())
        );
        for bad in [
            "",
            "0017001E8C0000AD508790E6BA2F3423",
            "0017001E-8C00-00AD-5087-90E6BA2F342",
            "0017001E-8C00-00AD-5087-90E6BA2F34233",
            "0017001E-8C00-00AD-5087_90E6BA2F3423",
            "0017001E-8C00-00AD-5087-90E6BA2F342Z",
            "{017001E-8C00-00AD-5087-90E6BA2F342}",
        ] {
            assert_eq!(bad.parse::<Uuid>(), Err(ValueError::Uuid), "{bad:?}");
        }
    }

    #[test]
    fn hostname_arch_tag() {
        assert!("node-1.example".parse::<Hostname>().is_ok());
        for bad in ["", "-a", "a-", "a..b", "a b", "a\nb", "a$b", "ä"] {
            assert_eq!(
                bad.parse::<Hostname>(),
                Err(ValueError::Hostname),
                "{bad:?}"
            );
        }
        assert_eq!("7".parse::<Arch>(), Ok(Arch::Number(7)));
        assert_eq!(
            "x86_64".parse::<Arch>(),
            Ok(Arch::Name("x86_64".to_string()))
        );
        for bad in ["", "65536", "X86", "a b", "${x}"] {
            assert_eq!(bad.parse::<Arch>(), Err(ValueError::Arch), "{bad:?}");
        }
        assert!("efi-x64".parse::<Tag>().is_ok());
        for bad in ["", "a b", "a,b", "a\n", "${t}"] {
            assert_eq!(bad.parse::<Tag>(), Err(ValueError::Tag), "{bad:?}");
        }
        assert_eq!(parse_ipv4("10.0.0.1"), Ok(Ipv4Addr::new(10, 0, 0, 1)));
        assert_eq!(parse_ipv4("10.0.0.1\n"), Err(ValueError::Ip));
    }
}
