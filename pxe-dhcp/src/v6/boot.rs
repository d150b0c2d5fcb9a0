//! Network boot options for DHCPv6 (RFC 5970): boot file URL (59), boot
//! file parameters (60), client architecture (61) and network interface
//! identifier (62).

use core::fmt;

use super::class::Items;
use super::error::Error;
use super::options::RawOption;
use crate::{ClientArchList, ClientNdi};

/// Option 59, the boot file URL: `tftp://[fd00:77::1]/ipxe.efi`,
/// `http://...` (RFC 5970 section 3.1; a URL, not NUL-terminated).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BootFileUrl<'a>(&'a [u8]);

impl<'a> BootFileUrl<'a> {
    /// Reads the URL (any non-empty value).
    #[inline]
    pub fn parse(opt: RawOption<'a>) -> Result<Self, Error> {
        if opt.data.is_empty() {
            return Err(Error::bad_length(&opt, "at least 1 (a URL)"));
        }
        Ok(BootFileUrl(opt.data))
    }
    /// The URL bytes.
    #[inline]
    pub fn as_bytes(&self) -> &'a [u8] {
        self.0
    }
    /// The URL as text, when it is valid UTF-8.
    #[inline]
    pub fn as_str(&self) -> Option<&'a str> {
        core::str::from_utf8(self.0).ok()
    }
    /// The scheme before `://` (`tftp`, `http`, `https`, ...).
    #[inline]
    pub fn scheme(&self) -> Option<&'a [u8]> {
        let at = self.0.windows(3).position(|w| w == b"://")?;
        self.0.get(..at)
    }
}

/// `'tftp://[fd00:77::1]/ipxe.efi'`
impl fmt::Display for BootFileUrl<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", super::text::Quoted(self.0))
    }
}

/// Option 60, the boot file parameters: length-prefixed strings, in order
/// (RFC 5970 section 3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BootFileParams<'a>(Items<'a>);

impl<'a> BootFileParams<'a> {
    /// Checks the parameter framing.
    #[inline]
    pub fn parse(opt: RawOption<'a>) -> Result<Self, Error> {
        Ok(BootFileParams(Items::parse(&opt, opt.data)?))
    }
    /// The parameters.
    #[inline]
    pub fn params(&self) -> Items<'a> {
        self.0
    }
}

/// `'root=/dev/nfs', 'quiet'`
impl fmt::Display for BootFileParams<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// Option 61: the client's architecture types, encoded as DHCPv4 option
/// 93 (RFC 5970 section 3.3, the IANA "Processor Architecture Types").
#[inline]
pub(crate) fn parse_client_arch(opt: RawOption<'_>) -> Result<ClientArchList<'_>, Error> {
    ClientArchList::parse(opt.data).map_err(|_| Error::bad_length(&opt, "a non-zero multiple of 2"))
}

/// Option 62: the client's network interface type and version, encoded as
/// DHCPv4 option 94 (RFC 5970 section 3.4).
#[inline]
pub(crate) fn parse_nii(opt: RawOption<'_>) -> Result<ClientNdi, Error> {
    let [kind, major, minor] = super::exchange::fixed(&opt, "3 (type, major, minor)")?;
    Ok(ClientNdi { kind, major, minor })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    extern crate std;
    use super::*;
    use crate::ClientArch;
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
    fn url() {
        let u = BootFileUrl::parse(opt(59, b"http://[fd00:77::1]/m/${mac:hexhyp}.ipxe")).unwrap();
        assert_eq!(u.scheme(), Some(&b"http"[..]));
        assert_eq!(u.as_str(), Some("http://[fd00:77::1]/m/${mac:hexhyp}.ipxe"));
        assert_eq!(format!("{u}"), "'http://[fd00:77::1]/m/${mac:hexhyp}.ipxe'");
        assert_eq!(
            BootFileUrl::parse(opt(59, b"ipxe.efi")).unwrap().scheme(),
            None
        );
        assert!(BootFileUrl::parse(opt(59, b"")).is_err());
    }

    #[test]
    fn params_arch_nii() {
        let p = BootFileParams::parse(opt(60, b"\x00\x05quiet\x00\x01x")).unwrap();
        assert_eq!(
            p.params().into_iter().collect::<Vec<_>>(),
            [&b"quiet"[..], b"x"]
        );
        assert_eq!(format!("{p}"), "'quiet', 'x'");
        let a = parse_client_arch(opt(61, &[0, 16, 0, 7])).unwrap();
        assert_eq!(
            a.iter().collect::<Vec<_>>(),
            [ClientArch::X64_UEFI_HTTP, ClientArch::X64_UEFI]
        );
        assert!(matches!(
            parse_client_arch(opt(61, &[0])),
            Err(Error::BadLength {
                code: 61,
                len: 1,
                ..
            })
        ));
        assert!(parse_client_arch(opt(61, &[])).is_err());
        let n = parse_nii(opt(62, &[1, 3, 10])).unwrap();
        assert_eq!((n.kind, n.major, n.minor), (1, 3, 10));
        assert!(parse_nii(opt(62, &[1, 3])).is_err());
    }
}
