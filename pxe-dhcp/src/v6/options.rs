//! The allocation-free DHCPv6 option iterator (RFC 8415 section 21.1).
//!
//! Every option, at the top of a message or encapsulated in another
//! option, is a 2-byte code, a 2-byte length and that many bytes of value.
//! There is no pad, no end option and no RFC 3396-style splitting: an
//! option that occurs several times is several values (several IA_NAs,
//! one vendor class per enterprise, ...).

use core::fmt;

use super::code::Named;
use super::error::{Error, Scope};

/// Length of an option header: code and length, 16 bits each.
pub const OPTION_HEADER_LEN: usize = 4;

/// One option as it appears on the wire: its code, borrowed value, and
/// where it starts.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct RawOption<'a> {
    /// Option code.
    pub code: u16,
    /// Option value, without the code and length.
    pub data: &'a [u8],
    /// Offset of the option's code from the start of the datagram (see
    /// [`Error`]); typed views use it to say where a bad value is.
    pub offset: usize,
}

impl<'a> RawOption<'a> {
    /// Offset of the value's first byte in the datagram.
    #[inline]
    pub fn value_offset(&self) -> usize {
        self.offset.saturating_add(OPTION_HEADER_LEN)
    }

    /// The options encapsulated in this option's value from byte `skip`
    /// on (after the value's fixed fields). Typed views check their
    /// framing once, when parsed.
    #[inline]
    pub(crate) fn encapsulated(&self, skip: usize) -> Options<'a> {
        let data = self.data.get(skip..).unwrap_or_default();
        let base = self.value_offset().saturating_add(skip);
        Options::within(data, base, Scope::Option(self.code))
    }
}

impl fmt::Debug for RawOption<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at {}, {} bytes: {}",
            Named(self.code),
            self.offset,
            self.data.len(),
            super::text::Hex(self.data)
        )
    }
}

/// Iterator over a list of options: the top level of a message, or the
/// options encapsulated in an IA_NA, IAADDR, vendor options, ...
///
/// A truncated header or an option running past the end of the list
/// yields one `Err` naming the code, offset and scope, after which the
/// iterator is finished. It never allocates.
#[derive(Debug, Clone)]
pub struct Options<'a> {
    data: &'a [u8],
    pos: usize,
    base: usize,
    scope: Scope,
}

impl<'a> Options<'a> {
    /// Iterates the options in `data`, a bare option list at offset 0 of
    /// its datagram (for the options of a received message, use the
    /// message view's `options()`).
    #[inline]
    pub fn new(data: &'a [u8]) -> Self {
        Options::within(data, 0, Scope::Message)
    }

    /// Iterates `data`, which starts at offset `base` of the datagram and
    /// belongs to `scope`.
    #[inline]
    pub(crate) fn within(data: &'a [u8], base: usize, scope: Scope) -> Self {
        Options {
            data,
            pos: 0,
            base,
            scope,
        }
    }

    /// Where these options are.
    #[inline]
    pub fn scope(&self) -> Scope {
        self.scope
    }

    /// The first option with `code`, ignoring anything after a framing
    /// error. (Named apart from `Iterator::find`, which takes a closure.)
    #[inline]
    pub fn first(&self, code: u16) -> Option<RawOption<'a>> {
        self.clone().map_while(Result::ok).find(|o| o.code == code)
    }

    /// Every option with `code`, in wire order. (Named apart from
    /// `Iterator::all`, which takes a closure.)
    #[inline]
    pub fn matching(&self, code: u16) -> Matching<'a> {
        Matching {
            inner: self.clone(),
            code,
        }
    }

    /// Checks the framing of the whole list.
    #[inline]
    pub fn validate(&self) -> Result<(), Error> {
        self.clone().try_for_each(|o| o.map(|_| ()))
    }

    #[inline]
    fn fail(&mut self, e: Error) -> Option<Result<RawOption<'a>, Error>> {
        self.pos = self.data.len();
        Some(Err(e))
    }
}

impl<'a> Iterator for Options<'a> {
    type Item = Result<RawOption<'a>, Error>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.data.get(self.pos..)?;
        if rest.is_empty() {
            return None;
        }
        let offset = self.base.saturating_add(self.pos);
        let [c0, c1, l0, l1, value @ ..] = rest else {
            let (scope, available) = (self.scope, rest.len());
            return self.fail(Error::TruncatedHeader {
                offset,
                scope,
                available,
            });
        };
        let code = u16::from_be_bytes([*c0, *c1]);
        let len = u16::from_be_bytes([*l0, *l1]);
        let Some(data) = value.get(..usize::from(len)) else {
            let (scope, available) = (self.scope, value.len());
            return self.fail(Error::Overrun {
                code,
                offset,
                scope,
                len,
                available,
            });
        };
        self.pos += OPTION_HEADER_LEN + data.len();
        Some(Ok(RawOption { code, data, offset }))
    }
}

impl core::iter::FusedIterator for Options<'_> {}

/// Iterator over every occurrence of one option code, in wire order; see
/// [`Options::matching`]. Stops silently at a framing error (the view's
/// constructor reports those).
#[derive(Debug, Clone)]
pub struct Matching<'a> {
    inner: Options<'a>,
    code: u16,
}

impl<'a> Iterator for Matching<'a> {
    type Item = RawOption<'a>;

    #[inline]
    fn next(&mut self) -> Option<RawOption<'a>> {
        for opt in self.inner.by_ref() {
            match opt {
                Ok(o) if o.code == self.code => return Some(o),
                Ok(_) => {}
                Err(_) => return None,
            }
        }
        None
    }
}

impl core::iter::FusedIterator for Matching<'_> {}

/// Iterator over every occurrence of one option code, each read as a
/// typed view `V` (several IA_NAs, one vendor class per enterprise, the
/// IAADDRs of an IA_NA, ...).
#[derive(Debug, Clone)]
pub struct Typed<'a, V> {
    inner: Matching<'a>,
    parse: fn(RawOption<'a>) -> Result<V, Error>,
}

impl<'a, V> Typed<'a, V> {
    /// Reads every `code` in `options` with `parse`.
    #[inline]
    pub(crate) fn new(
        options: &Options<'a>,
        code: u16,
        parse: fn(RawOption<'a>) -> Result<V, Error>,
    ) -> Self {
        Typed {
            inner: options.matching(code),
            parse,
        }
    }
}

impl<V> Iterator for Typed<'_, V> {
    type Item = Result<V, Error>;
    #[inline]
    fn next(&mut self) -> Option<Result<V, Error>> {
        self.inner.next().map(self.parse)
    }
}

impl<V> core::iter::FusedIterator for Typed<'_, V> {}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    #[test]
    fn walks_and_reports_precisely() {
        let bytes = [0, 1, 0, 2, 0xaa, 0xbb, 0, 8, 0, 0, 0, 3, 0, 9, 1];
        let got: Vec<_> = Options::within(&bytes, 100, Scope::Option(3)).collect();
        assert_eq!(
            got[0],
            Ok(RawOption {
                code: 1,
                data: &[0xaa, 0xbb],
                offset: 100
            })
        );
        assert_eq!(
            got[1].map(|o| (o.code, o.data.len(), o.offset)),
            Ok((8, 0, 106))
        );
        assert_eq!(
            got[2],
            Err(Error::Overrun {
                code: 3,
                offset: 110,
                scope: Scope::Option(3),
                len: 9,
                available: 1
            })
        );
        assert_eq!(got.len(), 3, "nothing after an error");
    }

    #[test]
    fn truncated_header() {
        let got: Vec<_> = Options::new(&[0, 1, 0, 0, 0, 7, 0]).collect();
        assert_eq!(got.len(), 2);
        assert_eq!(
            got[1],
            Err(Error::TruncatedHeader {
                offset: 4,
                scope: Scope::Message,
                available: 3
            })
        );
        assert!(Options::new(&[]).next().is_none());
    }

    #[test]
    fn first_and_matching() {
        let bytes = [0, 3, 0, 1, 7, 0, 5, 0, 0, 0, 3, 0, 1, 8];
        let o = Options::new(&bytes);
        assert_eq!(o.first(3).map(|o| o.data), Some(&[7][..]));
        assert_eq!(o.first(4), None);
        let all: Vec<_> = o.matching(3).map(|o| o.data[0]).collect();
        assert_eq!(all, [7, 8]);
        assert!(o.validate().is_ok());
    }
}
