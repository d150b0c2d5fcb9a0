//! Options that steer the exchange itself: the Option Request Option (6),
//! preference (7), elapsed time (8) and rapid commit (14) (RFC 8415
//! sections 21.7, 21.8, 21.9 and 21.14).

use core::fmt;
use core::time::Duration;

use super::error::Error;
use super::options::RawOption;

/// Option 6, the option codes a client asks for, in its order (RFC 8415
/// section 21.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Oro<'a>(&'a [u8]);

impl<'a> Oro<'a> {
    /// Checks that the value is a whole number of 16-bit codes.
    #[inline]
    pub fn parse(opt: RawOption<'a>) -> Result<Self, Error> {
        if !opt.data.len().is_multiple_of(2) {
            return Err(Error::bad_length(&opt, "a multiple of 2 (16-bit codes)"));
        }
        Ok(Oro(opt.data))
    }
    /// The requested codes.
    #[inline]
    pub fn iter(&self) -> impl ExactSizeIterator<Item = u16> + use<'a> {
        self.0
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
    }
    /// Whether the client asked for `code`.
    #[inline]
    pub fn contains(&self, code: u16) -> bool {
        self.iter().any(|c| c == code)
    }
    /// Number of codes.
    #[inline]
    pub fn len(&self) -> usize {
        self.0.len() / 2
    }
    /// Whether the list is empty.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// The raw value.
    #[inline]
    pub fn as_bytes(&self) -> &'a [u8] {
        self.0
    }
}

/// `59 60 23 16`
impl fmt::Display for Oro<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, c) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{c}")?;
        }
        Ok(())
    }
}

/// Option 8: how long the client has been trying, in hundredths of a
/// second; 0xffff means 655.35 s or more (RFC 8415 section 21.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ElapsedTime(pub u16);

impl ElapsedTime {
    /// Reads the 2-byte value.
    #[inline]
    pub fn parse(opt: RawOption<'_>) -> Result<Self, Error> {
        Ok(ElapsedTime(u16::from_be_bytes(fixed(&opt, "2")?)))
    }
    /// Hundredths of a second.
    #[inline]
    pub fn hundredths(self) -> u16 {
        self.0
    }
    /// As a duration.
    #[inline]
    pub fn as_duration(self) -> Duration {
        Duration::from_millis(u64::from(self.0) * 10)
    }
}

/// `0.10 s`
impl fmt::Display for ElapsedTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02} s", self.0 / 100, self.0 % 100)
    }
}

/// Option 7, the server's preference (RFC 8415 section 21.8; 255 makes
/// clients stop collecting ADVERTISEs and REQUEST at once).
#[inline]
pub(crate) fn parse_preference(opt: RawOption<'_>) -> Result<u8, Error> {
    let [v] = fixed(&opt, "1")?;
    Ok(v)
}

/// Option 14, rapid commit: must be empty (RFC 8415 section 21.14).
#[inline]
pub(crate) fn parse_rapid_commit(opt: RawOption<'_>) -> Result<(), Error> {
    let [] = fixed(&opt, "0")?;
    Ok(())
}

/// A value of exactly `N` bytes.
#[inline]
pub(crate) fn fixed<const N: usize>(
    opt: &RawOption<'_>,
    expected: &'static str,
) -> Result<[u8; N], Error> {
    <[u8; N]>::try_from(opt.data).map_err(|_| Error::bad_length(opt, expected))
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
    fn oro() {
        let o = Oro::parse(opt(6, &[0, 59, 0, 60, 0, 23, 0, 16])).unwrap();
        assert_eq!(o.iter().collect::<Vec<_>>(), [59, 60, 23, 16]);
        assert!(o.contains(23) && !o.contains(24));
        assert_eq!(format!("{o}"), "59 60 23 16");
        assert!(Oro::parse(opt(6, &[0, 59, 0])).is_err());
        assert!(Oro::parse(opt(6, &[])).unwrap().is_empty());
    }

    #[test]
    fn scalars() {
        let t = ElapsedTime::parse(opt(8, &[0, 10])).unwrap();
        assert_eq!(format!("{t}"), "0.10 s");
        assert_eq!(t.as_duration(), Duration::from_millis(100));
        assert_eq!(format!("{}", ElapsedTime(65535)), "655.35 s");
        assert!(ElapsedTime::parse(opt(8, &[0])).is_err());
        assert_eq!(parse_preference(opt(7, &[255])), Ok(255));
        assert!(parse_preference(opt(7, &[1, 2])).is_err());
        assert_eq!(parse_rapid_commit(opt(14, &[])), Ok(()));
        assert!(matches!(
            parse_rapid_commit(opt(14, &[0])),
            Err(Error::BadLength {
                code: 14,
                len: 1,
                ..
            })
        ));
    }
}
