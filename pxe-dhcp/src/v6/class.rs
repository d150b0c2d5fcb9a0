//! How a client describes itself: user class (option 15), vendor class
//! (16) and vendor-specific options (17) (RFC 8415 sections 21.15-21.17).

use core::fmt;

use super::error::Error;
use super::options::{Options, RawOption};
use super::text::Quoted;

/// IANA Private Enterprise Number 343 (Intel), under which PXE and UEFI
/// clients send `PXEClient:...` and `HTTPClient:...` vendor classes.
pub const ENTERPRISE_INTEL: u32 = 343;

/// A list of opaque items, each with a 16-bit length: user class data,
/// vendor class data (RFC 8415 sections 21.15 and 21.16), boot file
/// parameters (RFC 5970 section 3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Items<'a>(&'a [u8]);

impl<'a> Items<'a> {
    /// Checks that the items exactly cover `data` (the part of `opt`'s
    /// value after its fixed fields).
    #[inline]
    pub(crate) fn parse(opt: &RawOption<'a>, data: &'a [u8]) -> Result<Self, Error> {
        let mut rest = data;
        while !rest.is_empty() {
            let Some(([l0, l1], tail)) = rest.split_first_chunk::<2>() else {
                return Err(Error::malformed(opt, "an item's 2-byte length is cut off"));
            };
            let Some(after) = tail.get(usize::from(u16::from_be_bytes([*l0, *l1]))..) else {
                return Err(Error::malformed(
                    opt,
                    "an item runs past the end of the option",
                ));
            };
            rest = after;
        }
        Ok(Items(data))
    }
    /// The raw bytes, lengths included.
    #[inline]
    pub fn as_bytes(&self) -> &'a [u8] {
        self.0
    }
    /// The first item.
    #[inline]
    pub fn first(&self) -> Option<&'a [u8]> {
        self.clone_iter().next()
    }
    /// Whether one item equals `item`.
    #[inline]
    pub fn contains(&self, item: &[u8]) -> bool {
        self.clone_iter().any(|i| i == item)
    }
    #[inline]
    fn clone_iter(&self) -> ItemIter<'a> {
        ItemIter(self.0)
    }
}

impl<'a> IntoIterator for Items<'a> {
    type Item = &'a [u8];
    type IntoIter = ItemIter<'a>;
    #[inline]
    fn into_iter(self) -> ItemIter<'a> {
        ItemIter(self.0)
    }
}

/// `'iPXE', 'x'`
impl fmt::Display for Items<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, item) in self.clone_iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{}", Quoted(item))?;
        }
        Ok(())
    }
}

/// Iterator over the items of [`Items`].
#[derive(Debug, Clone)]
pub struct ItemIter<'a>(&'a [u8]);

impl<'a> Iterator for ItemIter<'a> {
    type Item = &'a [u8];
    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        let ([l0, l1], tail) = self.0.split_first_chunk::<2>()?;
        let len = usize::from(u16::from_be_bytes([*l0, *l1])).min(tail.len());
        let (item, rest) = tail.split_at(len);
        self.0 = rest;
        Some(item)
    }
}

impl core::iter::FusedIterator for ItemIter<'_> {}

/// Option 15, the user class: iPXE sends one item `iPXE` (RFC 8415
/// section 21.15; unlike DHCPv4 option 77 there is no bare-string form).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UserClass<'a>(Items<'a>);

impl<'a> UserClass<'a> {
    /// Checks the item framing.
    #[inline]
    pub fn parse(opt: RawOption<'a>) -> Result<Self, Error> {
        Ok(UserClass(Items::parse(&opt, opt.data)?))
    }
    /// The class items.
    #[inline]
    pub fn items(&self) -> Items<'a> {
        self.0
    }
    /// Whether one class equals `class` (e.g. `b"iPXE"`).
    #[inline]
    pub fn contains(&self, class: &[u8]) -> bool {
        self.0.contains(class)
    }
}

/// `'iPXE'`
impl fmt::Display for UserClass<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// Option 16, the vendor class: an enterprise number and class items
/// (RFC 8415 section 21.16). PXE and UEFI firmware send enterprise 343
/// with one item `PXEClient:Arch:xxxxx:UNDI:yyyzzz` or `HTTPClient:...`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VendorClass<'a> {
    enterprise: u32,
    items: Items<'a>,
}

impl<'a> VendorClass<'a> {
    /// Reads the enterprise number and checks the item framing.
    #[inline]
    pub fn parse(opt: RawOption<'a>) -> Result<Self, Error> {
        let Some((e, rest)) = opt.data.split_first_chunk::<4>() else {
            return Err(Error::bad_length(
                &opt,
                "at least 4 (the enterprise number)",
            ));
        };
        Ok(VendorClass {
            enterprise: u32::from_be_bytes(*e),
            items: Items::parse(&opt, rest)?,
        })
    }
    /// The IANA Private Enterprise Number.
    #[inline]
    pub fn enterprise(&self) -> u32 {
        self.enterprise
    }
    /// The class items.
    #[inline]
    pub fn items(&self) -> Items<'a> {
        self.items
    }
    /// Whether the first item starts with `PXEClient`.
    #[inline]
    pub fn is_pxe_client(&self) -> bool {
        self.items
            .first()
            .is_some_and(|i| i.starts_with(b"PXEClient"))
    }
    /// Whether the first item starts with `HTTPClient`. This is what EDK2's
    /// HTTP Boot checks in an answer (bytes 6 to 15 of the value), whatever
    /// the enterprise number.
    #[inline]
    pub fn is_http_client(&self) -> bool {
        self.items
            .first()
            .is_some_and(|i| i.starts_with(b"HTTPClient"))
    }
    /// The first item read as `Vendor:Arch:xxxxx:UNDI:yyyzzz`, with the
    /// same tolerance as DHCPv4 option 60 ([`crate::VendorClass::parse`]).
    #[inline]
    pub fn info(&self) -> Option<crate::VendorInfo<'a>> {
        self.items
            .first()
            .map(|i| crate::VendorClass::new(i).parse())
    }
}

/// `enterprise 343: 'PXEClient:Arch:00007:UNDI:003000'`
impl fmt::Display for VendorClass<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "enterprise {}: {}", self.enterprise, self.items)
    }
}

/// Option 17, vendor-specific information: an enterprise number and
/// sub-options in the DHCPv6 option format (RFC 8415 section 21.17).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VendorOpts<'a> {
    opt: RawOption<'a>,
}

impl<'a> VendorOpts<'a> {
    /// Reads the enterprise number and checks the sub-option framing.
    #[inline]
    pub fn parse(opt: RawOption<'a>) -> Result<Self, Error> {
        if opt.data.len() < 4 {
            return Err(Error::bad_length(
                &opt,
                "at least 4 (the enterprise number)",
            ));
        }
        opt.encapsulated(4).validate()?;
        Ok(VendorOpts { opt })
    }
    /// The IANA Private Enterprise Number.
    #[inline]
    pub fn enterprise(&self) -> u32 {
        self.opt
            .data
            .first_chunk::<4>()
            .map_or(0, |e| u32::from_be_bytes(*e))
    }
    /// The sub-options.
    #[inline]
    pub fn options(&self) -> Options<'a> {
        self.opt.encapsulated(4)
    }
    /// The value of the first sub-option `code`.
    #[inline]
    pub fn get(&self, code: u16) -> Option<&'a [u8]> {
        self.options().first(code).map(|o| o.data)
    }
    /// The raw option.
    #[inline]
    pub fn raw(&self) -> RawOption<'a> {
        self.opt
    }
}

/// `enterprise 343: 1=abcd 7=` (sub-option codes and values in hex)
impl fmt::Display for VendorOpts<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "enterprise {}:", self.enterprise())?;
        for o in self.options().map_while(Result::ok) {
            write!(f, " {}={}", o.code, super::text::Hex(o.data))?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    extern crate std;
    use super::*;
    use crate::VendorKind;
    use std::format;
    use std::vec::Vec;

    fn opt(code: u16, data: &[u8]) -> RawOption<'_> {
        RawOption {
            code,
            data,
            offset: 8,
        }
    }

    #[test]
    fn user_class_items() {
        let u = UserClass::parse(opt(15, b"\x00\x04iPXE\x00\x00\x00\x01x")).unwrap();
        assert_eq!(
            u.items().into_iter().collect::<Vec<_>>(),
            [&b"iPXE"[..], b"", b"x"]
        );
        assert!(u.contains(b"iPXE") && !u.contains(b"iPX"));
        assert_eq!(format!("{u}"), "'iPXE', '', 'x'");
        for bad in [&b"\x00\x05iPXE"[..], b"\x00\x04iPXE\x00"] {
            assert!(
                matches!(
                    UserClass::parse(opt(15, bad)),
                    Err(Error::Malformed {
                        code: 15,
                        offset: 8,
                        ..
                    })
                ),
                "{bad:?}"
            );
        }
        assert!(
            UserClass::parse(opt(15, b""))
                .unwrap()
                .items()
                .first()
                .is_none()
        );
    }

    #[test]
    fn vendor_class_for_pxe_and_http() {
        let mut v = Vec::from(343u32.to_be_bytes());
        v.extend_from_slice(b"\x00\x20PXEClient:Arch:00007:UNDI:003000");
        let vc = VendorClass::parse(opt(16, &v)).unwrap();
        assert_eq!(vc.enterprise(), ENTERPRISE_INTEL);
        assert!(vc.is_pxe_client() && !vc.is_http_client());
        let info = vc.info().unwrap();
        assert_eq!(
            (info.kind, info.arch, info.undi),
            (VendorKind::Pxe, Some(7), Some((3, 0)))
        );
        assert_eq!(
            format!("{vc}"),
            "enterprise 343: 'PXEClient:Arch:00007:UNDI:003000'"
        );
        let http = b"\x00\x02\x45\x4e\x00\x0aHTTPClient";
        let vc = VendorClass::parse(opt(16, http)).unwrap();
        assert!(vc.is_http_client());
        assert_eq!(vc.enterprise(), 148_814);
        assert!(VendorClass::parse(opt(16, &[0, 0, 1])).is_err());
        assert!(VendorClass::parse(opt(16, b"\x00\x00\x01\x57\x00\x02a")).is_err());
    }

    #[test]
    fn vendor_opts() {
        let v = [0, 0, 1, 0x57, 0, 1, 0, 2, 0xab, 0xcd, 0, 7, 0, 0];
        let vo = VendorOpts::parse(opt(17, &v)).unwrap();
        assert_eq!(vo.enterprise(), 343);
        assert_eq!(vo.get(1), Some(&[0xab, 0xcd][..]));
        assert_eq!(vo.get(7), Some(&[][..]));
        assert_eq!(format!("{vo}"), "enterprise 343: 1=abcd 7=");
        assert!(matches!(
            VendorOpts::parse(opt(17, &v[..9])),
            Err(Error::Overrun {
                code: 1,
                offset: 16,
                ..
            })
        ));
    }
}
