//! The error type shared by the views and the builder.

use core::fmt;

/// Which part of a packet an option was read from.
///
/// Options live in the `options` field; with option 52 (overload) they may
/// continue in `file` and then `sname` (RFC 2131 section 4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Area {
    /// The variable `options` field after the magic cookie.
    Options,
    /// The 128-byte `file` field, used for options because of option 52.
    File,
    /// The 64-byte `sname` field, used for options because of option 52.
    Sname,
}

impl fmt::Display for Area {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Area::Options => "options",
            Area::File => "file (overloaded)",
            Area::Sname => "sname (overloaded)",
        })
    }
}

/// Everything that can be wrong with a packet being read or written.
///
/// Offsets are byte offsets from the start of the BOOTP header (or, for
/// sub-options, from the start of the enclosing option's value), so a log
/// line can point at the exact byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The buffer cannot even hold the fixed 236-byte BOOTP header.
    #[error("packet is {len} bytes, shorter than the 236-byte BOOTP header")]
    TooShort {
        /// Length of the buffer.
        len: usize,
    },
    /// An option's code is the last byte of its area: the length byte is missing.
    #[error("option {code} at offset {offset} in the {area} area has no length byte")]
    MissingLength {
        /// Option code.
        code: u8,
        /// Offset of the code byte.
        offset: usize,
        /// Area the option is in.
        area: Area,
    },
    /// An option's length runs past the end of its area.
    #[error(
        "option {code} at offset {offset} in the {area} area claims {len} bytes but only {available} remain"
    )]
    Overrun {
        /// Option code.
        code: u8,
        /// Offset of the code byte.
        offset: usize,
        /// Area the option is in.
        area: Area,
        /// The declared length.
        len: u8,
        /// Bytes actually left in the area after the length byte.
        available: usize,
    },
    /// Option 52 (overload) is not a single byte 1, 2 or 3.
    #[error("option 52 (overload) at offset {offset} is invalid: length {len}, value {value}")]
    BadOverload {
        /// Offset of the code byte.
        offset: usize,
        /// Declared length (must be 1).
        len: u8,
        /// First value byte (must be 1, 2 or 3), 0 when absent.
        value: u8,
    },
    /// A sub-option inside an encapsulated option runs past its parent's end.
    #[error(
        "sub-option {code} of option {parent} at offset {offset} claims {len} bytes but only {available} remain"
    )]
    SubOverrun {
        /// The enclosing option (43, 175, 82, ...).
        parent: u8,
        /// Sub-option code.
        code: u8,
        /// Offset of the sub-option code byte within the parent's value.
        offset: usize,
        /// Declared length (0 when the length byte itself is missing).
        len: u8,
        /// Bytes left in the parent after the sub-option's length byte.
        available: usize,
    },
    /// A typed option has a length its type does not allow.
    #[error("option {code} is {len} bytes long, expected {expected}")]
    BadLength {
        /// Option (or sub-option) code.
        code: u8,
        /// Actual length.
        len: usize,
        /// What the type requires, in words.
        expected: &'static str,
    },
    /// A typed option has the right length but impossible contents.
    #[error("option {code} is malformed: {reason}")]
    Malformed {
        /// Option (or sub-option) code.
        code: u8,
        /// What is wrong.
        reason: &'static str,
    },
    /// The option occurs several times (RFC 3396 split option) and a borrowed
    /// view needs one contiguous value.
    #[error(
        "option {code} is split into {parts} parts (RFC 3396); join them with Packet::option_concat"
    )]
    Split {
        /// Option code.
        code: u8,
        /// Number of occurrences.
        parts: usize,
    },
    /// The caller's scratch or output buffer is too small.
    #[error("buffer too small: {needed} bytes needed, {available} available")]
    BufferTooSmall {
        /// Bytes needed (at least).
        needed: usize,
        /// Bytes available.
        available: usize,
    },
    /// The options do not fit the size the client accepts, even after moving
    /// what can be moved into `file` and `sname` with option 52. (Packing
    /// keeps option order and cuts only options too long for any area, so
    /// it can give up a few bytes short of `limit`.)
    #[error(
        "reply needs {needed} bytes of options but only {limit} fit the client's maximum message size, even using file/sname overload"
    )]
    TooBig {
        /// Bytes of options (with headers and end option) to place.
        needed: usize,
        /// Bytes available for options in all usable areas (with one end option).
        limit: usize,
    },
    /// Codes 0 (pad) and 255 (end) carry no value, and 52 (overload) is
    /// managed by the builder.
    #[error(
        "option code {code} cannot be set directly (0 pad and 255 end carry no value, 52 overload is managed by the builder)"
    )]
    ReservedCode {
        /// The code.
        code: u8,
    },
    /// A value or text does not fit its fixed-size field or length byte.
    #[error("{field} value is {len} bytes, at most {max} fit")]
    ValueTooLong {
        /// Which field or option.
        field: &'static str,
        /// Given length.
        len: usize,
        /// Maximum length.
        max: usize,
    },
}

impl Error {
    /// [`Error::BadLength`] for option (or sub-option) `code`.
    #[inline]
    pub(crate) fn bad_length(code: u8, len: usize, expected: &'static str) -> Error {
        Error::BadLength {
            code,
            len,
            expected,
        }
    }
}
