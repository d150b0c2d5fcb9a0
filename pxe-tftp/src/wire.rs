//! TFTP packets on the wire: zero-copy views and builders into caller buffers.
//!
//! [`Packet::parse`] borrows every field (file name, mode, option names and
//! values, data, error text) from the datagram; nothing is copied or
//! allocated. The `write_*` functions and [`OptionWriter`] emit packets into a
//! caller-supplied buffer and return the number of bytes written.
//!
//! File names, modes and option strings are raw bytes: TFTP does not say
//! what character set a file name is in, and this crate never interprets it.
//!
//! ```
//! use pxe_tftp::wire::{Packet, OptionWriter, RequestKind, write_ack};
//!
//! let mut buf = [0u8; 64];
//! let mut w = OptionWriter::request(&mut buf, RequestKind::Read, b"pxelinux.0", b"octet")?;
//! w.option_u64(b"blksize", 1468)?;
//! let len = w.finish();
//! match Packet::parse(&buf[..len])? {
//!     Packet::Request(req) => {
//!         assert_eq!(req.filename, b"pxelinux.0");
//!         assert_eq!(req.options.iter().next(), Some((&b"blksize"[..], &b"1468"[..])));
//!     }
//!     other => panic!("unexpected {other:?}"),
//! }
//! let len = write_ack(&mut buf, 7)?;
//! assert_eq!(Packet::parse(&buf[..len])?, Packet::Ack { block: 7 });
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use core::fmt;

/// The header length of DATA and ACK packets (opcode + block number).
pub const HEADER_LEN: usize = 4;

/// TFTP opcodes (RFC 1350, RFC 2347 for OACK).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u16)]
pub enum Opcode {
    /// Read request.
    Rrq = 1,
    /// Write request.
    Wrq = 2,
    /// Data block.
    Data = 3,
    /// Acknowledgement.
    Ack = 4,
    /// Error.
    Error = 5,
    /// Option acknowledgement (RFC 2347).
    Oack = 6,
}

impl Opcode {
    /// The opcode for a wire value, if it is one of the six defined ones.
    pub const fn from_u16(v: u16) -> Option<Opcode> {
        Some(match v {
            1 => Opcode::Rrq,
            2 => Opcode::Wrq,
            3 => Opcode::Data,
            4 => Opcode::Ack,
            5 => Opcode::Error,
            6 => Opcode::Oack,
            _ => return None,
        })
    }
}

/// A TFTP error code (RFC 1350 and RFC 2347). Unknown codes are kept as is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ErrorCode(pub u16);

impl ErrorCode {
    /// 0: not defined, see the message.
    pub const NOT_DEFINED: ErrorCode = ErrorCode(0);
    /// 1: file not found.
    pub const FILE_NOT_FOUND: ErrorCode = ErrorCode(1);
    /// 2: access violation.
    pub const ACCESS_VIOLATION: ErrorCode = ErrorCode(2);
    /// 3: disk full or allocation exceeded.
    pub const DISK_FULL: ErrorCode = ErrorCode(3);
    /// 4: illegal TFTP operation.
    pub const ILLEGAL_OPERATION: ErrorCode = ErrorCode(4);
    /// 5: unknown transfer ID.
    pub const UNKNOWN_TID: ErrorCode = ErrorCode(5);
    /// 6: file already exists.
    pub const FILE_EXISTS: ErrorCode = ErrorCode(6);
    /// 7: no such user.
    pub const NO_SUCH_USER: ErrorCode = ErrorCode(7);
    /// 8: option negotiation refused (RFC 2347).
    pub const OPTION_REFUSED: ErrorCode = ErrorCode(8);
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self.0 {
            0 => "not defined",
            1 => "file not found",
            2 => "access violation",
            3 => "disk full",
            4 => "illegal operation",
            5 => "unknown transfer ID",
            6 => "file exists",
            7 => "no such user",
            8 => "option refused",
            _ => "unknown code",
        };
        write!(f, "{} ({name})", self.0)
    }
}

/// Whether a request reads from or writes to the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestKind {
    /// RRQ: the client downloads a file.
    Read,
    /// WRQ: the client uploads a file.
    Write,
}

/// Transfer mode named in a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// `octet`: bytes as they are.
    Octet,
    /// `netascii`: LF is sent as CR LF and CR as CR NUL.
    Netascii,
    /// `mail`: obsolete (RFC 1350), never served.
    Mail,
}

impl Mode {
    /// Parses a mode string case-insensitively; `None` for anything else.
    pub fn from_bytes(mode: &[u8]) -> Option<Mode> {
        if mode.eq_ignore_ascii_case(b"octet") {
            Some(Mode::Octet)
        } else if mode.eq_ignore_ascii_case(b"netascii") {
            Some(Mode::Netascii)
        } else if mode.eq_ignore_ascii_case(b"mail") {
            Some(Mode::Mail)
        } else {
            None
        }
    }

    /// The canonical lower-case wire spelling.
    pub const fn as_bytes(self) -> &'static [u8] {
        match self {
            Mode::Octet => b"octet",
            Mode::Netascii => b"netascii",
            Mode::Mail => b"mail",
        }
    }
}

/// What was wrong with a datagram that is not a valid TFTP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Fewer bytes than the opcode (or the fixed header) needs.
    #[error("packet is {len} bytes, too short for {what}")]
    TooShort {
        /// The datagram length.
        len: usize,
        /// What did not fit.
        what: &'static str,
    },
    /// The opcode is not 1..=6.
    #[error("unknown opcode {0}")]
    UnknownOpcode(u16),
    /// A request's file name runs to the end of the datagram.
    #[error("missing NUL after the file name")]
    FilenameNotTerminated,
    /// A request has no mode string after the file name.
    #[error("missing mode after the file name")]
    MissingMode,
    /// A request's mode runs to the end of the datagram.
    #[error("missing NUL after the mode")]
    ModeNotTerminated,
    /// An option name is followed by no value.
    #[error("option at byte {offset} has no value")]
    OptionWithoutValue {
        /// Offset of the option name in the datagram.
        offset: usize,
    },
    /// An option name or value runs to the end of the datagram.
    #[error("option string at byte {offset} is missing its NUL")]
    OptionNotTerminated {
        /// Offset of the unterminated string in the datagram.
        offset: usize,
    },
    /// An option has an empty name.
    #[error("empty option name at byte {offset}")]
    EmptyOptionName {
        /// Offset of the empty name in the datagram.
        offset: usize,
    },
}

/// What went wrong while writing a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    /// The caller's buffer cannot hold the packet.
    #[error("buffer of {available} bytes is too small, {needed} needed")]
    BufferTooSmall {
        /// Bytes the packet needs (at least).
        needed: usize,
        /// Bytes the buffer has.
        available: usize,
    },
    /// A string field contains a NUL byte, which would end it early.
    #[error("{0} contains a NUL byte")]
    NulInString(&'static str),
}

/// The options of a request or OACK: a validated run of NUL-terminated
/// name/value pairs, borrowed from the datagram.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct OptionList<'a> {
    bytes: &'a [u8],
}

impl<'a> OptionList<'a> {
    /// An empty list.
    pub const EMPTY: OptionList<'static> = OptionList { bytes: &[] };

    /// Validates `bytes` as a run of `name NUL value NUL` pairs. `base` is the
    /// offset of `bytes` in the datagram, used in error positions.
    ///
    /// Trailing NUL padding after the last pair is tolerated (some firmware
    /// pads requests), and so is nothing at all.
    pub fn parse(bytes: &'a [u8], base: usize) -> Result<Self, ParseError> {
        let mut pos = 0;
        while pos < bytes.len() {
            if bytes[pos..].iter().all(|&b| b == 0) {
                return Ok(OptionList {
                    bytes: &bytes[..pos],
                });
            }
            let name_len = match bytes[pos..].iter().position(|&b| b == 0) {
                Some(n) => n,
                None => return Err(ParseError::OptionNotTerminated { offset: base + pos }),
            };
            if name_len == 0 {
                return Err(ParseError::EmptyOptionName { offset: base + pos });
            }
            let value_start = pos + name_len + 1;
            if value_start >= bytes.len() {
                return Err(ParseError::OptionWithoutValue { offset: base + pos });
            }
            let value_len = match bytes[value_start..].iter().position(|&b| b == 0) {
                Some(n) => n,
                None => {
                    return Err(ParseError::OptionNotTerminated {
                        offset: base + value_start,
                    });
                }
            };
            pos = value_start + value_len + 1;
        }
        Ok(OptionList { bytes })
    }

    /// Iterates over `(name, value)` pairs in wire order.
    pub fn iter(&self) -> OptionIter<'a> {
        OptionIter { rest: self.bytes }
    }

    /// True when there are no options.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The first value of the option called `name` (ASCII case-insensitive).
    pub fn get(&self, name: &[u8]) -> Option<&'a [u8]> {
        self.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }
}

impl fmt::Debug for OptionList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut m = f.debug_map();
        for (n, v) in self.iter() {
            m.entry(&Text(n), &Text(v));
        }
        m.finish()
    }
}

/// Iterator over the pairs of an [`OptionList`].
#[derive(Debug, Clone)]
pub struct OptionIter<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for OptionIter<'a> {
    type Item = (&'a [u8], &'a [u8]);
    fn next(&mut self) -> Option<Self::Item> {
        // The list was validated, so each string is NUL-terminated; stay
        // defensive anyway and stop on anything unexpected.
        let n = self.rest.iter().position(|&b| b == 0)?;
        let name = &self.rest[..n];
        let after = &self.rest[n + 1..];
        let v = after.iter().position(|&b| b == 0)?;
        let value = &after[..v];
        self.rest = &after[v + 1..];
        Some((name, value))
    }
}

/// A read or write request, borrowed from the datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request<'a> {
    /// RRQ or WRQ.
    pub kind: RequestKind,
    /// The requested file name, raw bytes (no character set is implied).
    pub filename: &'a [u8],
    /// The mode string as sent; see [`Mode::from_bytes`].
    pub mode: &'a [u8],
    /// The options (RFC 2347), possibly empty.
    pub options: OptionList<'a>,
}

/// A parsed TFTP packet, every field borrowed from the datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Packet<'a> {
    /// RRQ or WRQ.
    Request(Request<'a>),
    /// A data block.
    Data {
        /// Block number on the wire (wraps at 65535).
        block: u16,
        /// The payload, 0 to blksize bytes.
        data: &'a [u8],
    },
    /// An acknowledgement.
    Ack {
        /// Block number on the wire.
        block: u16,
    },
    /// An error.
    Error {
        /// The error code.
        code: ErrorCode,
        /// The message without its NUL (a missing NUL is tolerated).
        message: &'a [u8],
    },
    /// An option acknowledgement.
    Oack(OptionList<'a>),
}

impl<'a> Packet<'a> {
    /// Parses one datagram.
    ///
    /// Tolerated for interoperability: trailing bytes after an ACK, an ERROR
    /// message without its final NUL, NUL padding after a request's options.
    pub fn parse(datagram: &'a [u8]) -> Result<Packet<'a>, ParseError> {
        if datagram.len() < 2 {
            return Err(ParseError::TooShort {
                len: datagram.len(),
                what: "an opcode",
            });
        }
        let raw = u16::from_be_bytes([datagram[0], datagram[1]]);
        let op = Opcode::from_u16(raw).ok_or(ParseError::UnknownOpcode(raw))?;
        let body = &datagram[2..];
        match op {
            Opcode::Rrq | Opcode::Wrq => {
                let kind = if op == Opcode::Rrq {
                    RequestKind::Read
                } else {
                    RequestKind::Write
                };
                let f = body
                    .iter()
                    .position(|&b| b == 0)
                    .ok_or(ParseError::FilenameNotTerminated)?;
                let filename = &body[..f];
                let rest = &body[f + 1..];
                if rest.is_empty() {
                    return Err(ParseError::MissingMode);
                }
                let m = rest
                    .iter()
                    .position(|&b| b == 0)
                    .ok_or(ParseError::ModeNotTerminated)?;
                let mode = &rest[..m];
                let opts_at = 2 + f + 1 + m + 1;
                let options = OptionList::parse(&rest[m + 1..], opts_at)?;
                Ok(Packet::Request(Request {
                    kind,
                    filename,
                    mode,
                    options,
                }))
            }
            Opcode::Data => {
                if datagram.len() < HEADER_LEN {
                    return Err(ParseError::TooShort {
                        len: datagram.len(),
                        what: "a DATA header",
                    });
                }
                Ok(Packet::Data {
                    block: u16::from_be_bytes([datagram[2], datagram[3]]),
                    data: &datagram[HEADER_LEN..],
                })
            }
            Opcode::Ack => {
                if datagram.len() < HEADER_LEN {
                    return Err(ParseError::TooShort {
                        len: datagram.len(),
                        what: "an ACK",
                    });
                }
                Ok(Packet::Ack {
                    block: u16::from_be_bytes([datagram[2], datagram[3]]),
                })
            }
            Opcode::Error => {
                if datagram.len() < HEADER_LEN {
                    return Err(ParseError::TooShort {
                        len: datagram.len(),
                        what: "an ERROR header",
                    });
                }
                let rest = &datagram[HEADER_LEN..];
                let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
                Ok(Packet::Error {
                    code: ErrorCode(u16::from_be_bytes([datagram[2], datagram[3]])),
                    message: &rest[..end],
                })
            }
            Opcode::Oack => Ok(Packet::Oack(OptionList::parse(body, 2)?)),
        }
    }

    /// The packet's opcode.
    pub fn opcode(&self) -> Opcode {
        match self {
            Packet::Request(r) => match r.kind {
                RequestKind::Read => Opcode::Rrq,
                RequestKind::Write => Opcode::Wrq,
            },
            Packet::Data { .. } => Opcode::Data,
            Packet::Ack { .. } => Opcode::Ack,
            Packet::Error { .. } => Opcode::Error,
            Packet::Oack(_) => Opcode::Oack,
        }
    }
}

fn need(buf: &[u8], needed: usize) -> Result<(), BuildError> {
    if buf.len() < needed {
        Err(BuildError::BufferTooSmall {
            needed,
            available: buf.len(),
        })
    } else {
        Ok(())
    }
}

/// Writes a DATA header for `block`; the payload goes at `buf[4..]`.
/// Returns [`HEADER_LEN`].
pub fn write_data_header(buf: &mut [u8], block: u16) -> Result<usize, BuildError> {
    need(buf, HEADER_LEN)?;
    buf[..2].copy_from_slice(&(Opcode::Data as u16).to_be_bytes());
    buf[2..4].copy_from_slice(&block.to_be_bytes());
    Ok(HEADER_LEN)
}

/// Writes a complete DATA packet. Returns its length.
pub fn write_data(buf: &mut [u8], block: u16, payload: &[u8]) -> Result<usize, BuildError> {
    let len = HEADER_LEN + payload.len();
    need(buf, len)?;
    write_data_header(buf, block)?;
    buf[HEADER_LEN..len].copy_from_slice(payload);
    Ok(len)
}

/// Writes an ACK. Returns 4.
pub fn write_ack(buf: &mut [u8], block: u16) -> Result<usize, BuildError> {
    need(buf, HEADER_LEN)?;
    buf[..2].copy_from_slice(&(Opcode::Ack as u16).to_be_bytes());
    buf[2..4].copy_from_slice(&block.to_be_bytes());
    Ok(HEADER_LEN)
}

/// Writes an ERROR packet. If the buffer is too short for the whole message,
/// the message is truncated (the packet is still valid) — an error report
/// should never fail for lack of room; only a buffer under 5 bytes fails.
pub fn write_error(buf: &mut [u8], code: ErrorCode, message: &[u8]) -> Result<usize, BuildError> {
    need(buf, HEADER_LEN + 1)?;
    buf[..2].copy_from_slice(&(Opcode::Error as u16).to_be_bytes());
    buf[2..4].copy_from_slice(&code.0.to_be_bytes());
    let room = buf.len() - HEADER_LEN - 1;
    let msg_len = message
        .iter()
        .take(room)
        .position(|&b| b == 0)
        .unwrap_or(message.len().min(room));
    buf[HEADER_LEN..HEADER_LEN + msg_len].copy_from_slice(&message[..msg_len]);
    buf[HEADER_LEN + msg_len] = 0;
    Ok(HEADER_LEN + msg_len + 1)
}

/// The ERROR 5 ("Unknown transfer ID") reply a driver sends to a datagram that
/// arrived on a transfer's port from an address or port other than the
/// transfer's peer (RFC 1350 §4). The transfer itself is not touched: drivers
/// check the source before calling `handle_datagram`, and answer strangers
/// with this instead.
pub fn foreign_tid_reply(buf: &mut [u8]) -> Result<usize, BuildError> {
    write_error(buf, ErrorCode::UNKNOWN_TID, b"Unknown transfer ID")
}

/// Incremental writer for RRQ, WRQ and OACK packets with options.
#[derive(Debug)]
pub struct OptionWriter<'b> {
    buf: &'b mut [u8],
    len: usize,
}

impl<'b> OptionWriter<'b> {
    /// Starts an RRQ or WRQ for `filename` in `mode` (e.g. `b"octet"`).
    pub fn request(
        buf: &'b mut [u8],
        kind: RequestKind,
        filename: &[u8],
        mode: &[u8],
    ) -> Result<Self, BuildError> {
        if filename.contains(&0) {
            return Err(BuildError::NulInString("file name"));
        }
        if mode.contains(&0) {
            return Err(BuildError::NulInString("mode"));
        }
        let op = match kind {
            RequestKind::Read => Opcode::Rrq,
            RequestKind::Write => Opcode::Wrq,
        };
        need(buf, 2 + filename.len() + 1 + mode.len() + 1)?;
        let mut w = OptionWriter { buf, len: 0 };
        w.put(&(op as u16).to_be_bytes());
        w.put(filename);
        w.put(&[0]);
        w.put(mode);
        w.put(&[0]);
        Ok(w)
    }

    /// Starts an OACK.
    pub fn oack(buf: &'b mut [u8]) -> Result<Self, BuildError> {
        need(buf, 2)?;
        let mut w = OptionWriter { buf, len: 0 };
        w.put(&(Opcode::Oack as u16).to_be_bytes());
        Ok(w)
    }

    fn put(&mut self, bytes: &[u8]) {
        self.buf[self.len..self.len + bytes.len()].copy_from_slice(bytes);
        self.len += bytes.len();
    }

    /// Appends an option with a raw value.
    pub fn option(&mut self, name: &[u8], value: &[u8]) -> Result<&mut Self, BuildError> {
        if name.contains(&0) {
            return Err(BuildError::NulInString("option name"));
        }
        if value.contains(&0) {
            return Err(BuildError::NulInString("option value"));
        }
        need(self.buf, self.len + name.len() + value.len() + 2)?;
        self.put(name);
        self.put(&[0]);
        self.put(value);
        self.put(&[0]);
        Ok(self)
    }

    /// Appends an option with a decimal value.
    pub fn option_u64(&mut self, name: &[u8], value: u64) -> Result<&mut Self, BuildError> {
        let mut digits = [0u8; 20];
        let s = format_u64(value, &mut digits);
        self.option(name, s)
    }

    /// Finishes the packet and returns its length.
    pub fn finish(self) -> usize {
        self.len
    }
}

/// Formats `v` in decimal into `buf`, returning the used tail.
pub(crate) fn format_u64(mut v: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    &buf[i..]
}

/// Displays raw protocol bytes as text, escaping anything non-printable.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Text<'a>(pub &'a [u8]);

impl fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for &b in self.0 {
            if (0x20..0x7f).contains(&b) && b != b'\\' {
                write!(f, "{}", b as char)?;
            } else {
                write!(f, "\\x{b:02x}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{self}\"")
    }
}

#[cfg(test)]
#[allow(clippy::panic, clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn parse_rrq_with_options() {
        let d = b"\x00\x01boot.ipxe\x00OCTET\x00blksize\x001432\x00tsize\x000\x00";
        let Ok(Packet::Request(r)) = Packet::parse(d) else {
            panic!("not a request")
        };
        assert_eq!(r.kind, RequestKind::Read);
        assert_eq!(r.filename, b"boot.ipxe");
        assert_eq!(Mode::from_bytes(r.mode), Some(Mode::Octet));
        assert_eq!(r.options.get(b"BLKSIZE"), Some(&b"1432"[..]));
        assert_eq!(r.options.get(b"tsize"), Some(&b"0"[..]));
        assert_eq!(r.options.iter().count(), 2);
    }

    #[test]
    fn parse_errors_name_the_defect() {
        assert_eq!(
            Packet::parse(b"\x00"),
            Err(ParseError::TooShort {
                len: 1,
                what: "an opcode"
            })
        );
        assert_eq!(
            Packet::parse(b"\x00\x09"),
            Err(ParseError::UnknownOpcode(9))
        );
        assert_eq!(
            Packet::parse(b"\x00\x01file"),
            Err(ParseError::FilenameNotTerminated)
        );
        assert_eq!(
            Packet::parse(b"\x00\x01file\x00"),
            Err(ParseError::MissingMode)
        );
        assert_eq!(
            Packet::parse(b"\x00\x01file\x00octet"),
            Err(ParseError::ModeNotTerminated)
        );
        assert_eq!(
            Packet::parse(b"\x00\x01f\x00octet\x00blksize\x00"),
            Err(ParseError::OptionWithoutValue { offset: 10 })
        );
        assert_eq!(
            Packet::parse(b"\x00\x01f\x00octet\x00blksize\x00512"),
            Err(ParseError::OptionNotTerminated { offset: 18 })
        );
        assert_eq!(
            Packet::parse(b"\x00\x06\x00\x00"),
            Ok(Packet::Oack(OptionList::EMPTY))
        );
        assert_eq!(
            Packet::parse(b"\x00\x03\x00"),
            Err(ParseError::TooShort {
                len: 3,
                what: "a DATA header"
            })
        );
    }

    #[test]
    fn padding_and_lenient_error() {
        let d = b"\x00\x01f\x00octet\x00\x00\x00\x00";
        let Ok(Packet::Request(r)) = Packet::parse(d) else {
            panic!()
        };
        assert!(r.options.is_empty());
        assert_eq!(
            Packet::parse(b"\x00\x05\x00\x01nope"),
            Ok(Packet::Error {
                code: ErrorCode::FILE_NOT_FOUND,
                message: b"nope"
            })
        );
    }

    #[test]
    fn builders_round_trip_and_check_room() {
        let mut buf = [0u8; 16];
        let n = write_data(&mut buf, 65535, b"abc").unwrap_or(0);
        assert_eq!(
            Packet::parse(&buf[..n]),
            Ok(Packet::Data {
                block: 65535,
                data: b"abc"
            })
        );
        assert_eq!(
            write_data(&mut buf, 1, &[0u8; 13]),
            Err(BuildError::BufferTooSmall {
                needed: 17,
                available: 16
            })
        );
        let n = write_error(&mut buf, ErrorCode::UNKNOWN_TID, b"a very long message").unwrap_or(0);
        assert_eq!(n, 16);
        assert_eq!(
            Packet::parse(&buf[..n]),
            Ok(Packet::Error {
                code: ErrorCode(5),
                message: b"a very long"
            })
        );
        let mut big = [0u8; 64];
        let mut w = OptionWriter::oack(&mut big).unwrap_or_else(|_| panic!());
        w.option_u64(b"tsize", 0)
            .and_then(|w| w.option_u64(b"blksize", 65464))
            .unwrap_or_else(|_| panic!());
        let n = w.finish();
        assert_eq!(&big[..n], b"\x00\x06tsize\x000\x00blksize\x0065464\x00");
        assert_eq!(
            OptionWriter::request(&mut big, RequestKind::Read, b"a\0b", b"octet").err(),
            Some(BuildError::NulInString("file name"))
        );
    }
}
