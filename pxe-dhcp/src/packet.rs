//! The zero-copy BOOTP/DHCP packet view.

use core::net::Ipv4Addr;

use crate::error::Error;
use crate::options::{Fragments, Options, RawOption, code};
use crate::types::*;

/// Byte ranges of the fixed BOOTP header (RFC 951, RFC 2131 figure 1).
pub mod field {
    use core::ops::Range;
    /// Message op code.
    pub const OP: usize = 0;
    /// Hardware address type.
    pub const HTYPE: usize = 1;
    /// Hardware address length.
    pub const HLEN: usize = 2;
    /// Relay hops.
    pub const HOPS: usize = 3;
    /// Transaction id.
    pub const XID: Range<usize> = 4..8;
    /// Seconds since the client began.
    pub const SECS: Range<usize> = 8..10;
    /// Flags.
    pub const FLAGS: Range<usize> = 10..12;
    /// Client IP address.
    pub const CIADDR: Range<usize> = 12..16;
    /// "Your" (client) IP address.
    pub const YIADDR: Range<usize> = 16..20;
    /// Next server IP address.
    pub const SIADDR: Range<usize> = 20..24;
    /// Relay agent IP address.
    pub const GIADDR: Range<usize> = 24..28;
    /// Client hardware address (16 bytes, `hlen` used).
    pub const CHADDR: Range<usize> = 28..44;
    /// Server host name (64 bytes).
    pub const SNAME: Range<usize> = 44..108;
    /// Boot file name (128 bytes).
    pub const FILE: Range<usize> = 108..236;
    /// Magic cookie `99.130.83.99`.
    pub const COOKIE: Range<usize> = 236..240;
    /// Start of the options.
    pub const OPTIONS: usize = 240;
}

/// Length of the fixed BOOTP header, without cookie and options.
pub const HEADER_LEN: usize = 236;
/// The DHCP magic cookie (RFC 2131 section 3).
pub const MAGIC_COOKIE: [u8; 4] = [99, 130, 83, 99];
/// The smallest message every client must accept (RFC 2131: 576-byte IP datagram).
pub const MIN_MAX_MESSAGE_SIZE: u16 = 576;
/// Bytes of IPv4 and UDP headers counted in option 57 (20 + 8).
pub const IP_UDP_HEADER_LEN: usize = 28;

/// BOOTP message op code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    /// 1: BOOTREQUEST, sent by clients.
    Request,
    /// 2: BOOTREPLY, sent by servers.
    Reply,
    /// Any other value.
    Unknown(u8),
}

impl From<u8> for Op {
    fn from(v: u8) -> Self {
        match v {
            1 => Op::Request,
            2 => Op::Reply,
            v => Op::Unknown(v),
        }
    }
}

impl From<Op> for u8 {
    fn from(op: Op) -> u8 {
        match op {
            Op::Request => 1,
            Op::Reply => 2,
            Op::Unknown(v) => v,
        }
    }
}

bitflags::bitflags! {
    /// The BOOTP `flags` field (RFC 1542).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct Flags: u16 {
        /// The client cannot receive unicast before it is configured: reply by broadcast.
        const BROADCAST = 0x8000;
        // The other 15 bits are reserved but must be kept when relayed.
        const _ = !0;
    }
}

/// A read-only view of a BOOTP/DHCP message in a borrowed (or owned) buffer.
///
/// [`Packet::new_checked`] validates the header length and the framing of
/// every option (including option 52 overload areas) in one pass, and
/// records where each code first occurs (and whether it repeats), so a
/// lookup is one table read and lookups are infallible at the framing
/// level. Nothing is copied: all accessors return borrowed slices or small
/// `Copy` values.
#[derive(Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
    index: Index,
    error: Option<Error>,
}

/// An entry of the index, one per option code: `0` = the code does not
/// occur; otherwise the offset of its first value (bits 0..15) and whether
/// it repeats (bit 15, an RFC 3396 split). An offset that does not fit
/// (a datagram above 32 KiB) is stored as [`Entry::WALK`]: the lookup then
/// walks the options, so the index is exact for any length.
///
/// A direct table rather than a hash: the rules engine asks for dozens of
/// codes per request (every `dhcp-match` line names one), and one load
/// answers each, present or not.
struct Entry;

impl Entry {
    const MULTI: u16 = 1 << 15;
    const WALK: u16 = Entry::MULTI - 1;
    /// The entry of a first occurrence whose value starts at `start`.
    #[inline(always)]
    fn at(start: usize) -> u16 {
        match u16::try_from(start) {
            Ok(at) if at < Entry::WALK => at,
            _ => Entry::WALK,
        }
    }
    /// The first value read straight from entry `e` of `b`'s index;
    /// `None` when the offset did not fit and the options must be walked.
    #[inline(always)]
    fn first(b: &[u8], e: u16) -> Option<Option<&[u8]>> {
        let at = usize::from(e & Entry::WALK);
        if at == usize::from(Entry::WALK) {
            return None;
        }
        Some(
            b.get(at.wrapping_sub(1))
                .and_then(|&len| b.get(at..at + usize::from(len))),
        )
    }
}

/// What one validating pass over the options learns.
#[derive(Clone)]
struct Index {
    options_start: Option<usize>,
    overload: u8,
    /// Where each code first occurs; see [`Entry`].
    first: [u16; 256],
}

impl Index {
    const EMPTY: Index = Index {
        options_start: None,
        overload: 0,
        first: [0; 256],
    };

    /// Validates every option area of `b` (at least a header long).
    #[inline(always)]
    fn scan(&mut self, b: &[u8]) -> Result<(), Error> {
        use crate::error::Area;
        if b.get(field::COOKIE) != Some(&MAGIC_COOKIE[..]) {
            return Ok(());
        }
        self.options_start = Some(field::OPTIONS);
        self.area(b, field::OPTIONS..b.len(), Area::Options)?;
        if self.overload & 1 != 0 {
            self.area(b, field::FILE, Area::File)?;
        }
        if self.overload & 2 != 0 {
            self.area(b, field::SNAME, Area::Sname)?;
        }
        Ok(())
    }

    /// Walks one option area, noting where codes first occur (and which
    /// repeat) and reading the overload value (main area only).
    #[inline(always)]
    fn area(
        &mut self,
        b: &[u8],
        range: core::ops::Range<usize>,
        area: crate::error::Area,
    ) -> Result<(), Error> {
        let end = range.end.min(b.len());
        let mut i = range.start;
        while i < end {
            let c = b[i];
            if c == code::PAD {
                i += 1;
                continue;
            }
            if c == code::END {
                return Ok(());
            }
            if i + 1 >= end {
                return Err(Error::MissingLength {
                    code: c,
                    offset: i,
                    area,
                });
            }
            let len = b[i + 1];
            let start = i + 2;
            let stop = start + usize::from(len);
            if stop > end {
                return Err(Error::Overrun {
                    code: c,
                    offset: i,
                    area,
                    len,
                    available: end - start,
                });
            }
            // Every option 52 in the options field must be valid; the first
            // one decides. (Checked before indexing, so the index only holds
            // options the iterator yields.)
            if c == code::OVERLOAD && area == crate::error::Area::Options {
                match &b[start..stop] {
                    [v @ 1..=3] if self.overload == 0 => self.overload = *v,
                    [1..=3] => {}
                    d => {
                        return Err(Error::BadOverload {
                            offset: i,
                            len,
                            value: d.first().copied().unwrap_or(0),
                        });
                    }
                }
            }
            let e = &mut self.first[usize::from(c)];
            if *e == 0 {
                *e = Entry::at(start);
            } else {
                *e |= Entry::MULTI;
            }
            i = stop;
        }
        Ok(())
    }
}

/// First value of `code` through the index, walking only for an offset
/// the index could not hold.
#[inline(always)]
fn lookup<'b>(b: &'b [u8], first: &[u16; 256], start: Option<usize>, code: u8) -> Option<&'b [u8]> {
    let e = first[usize::from(code)];
    if e == 0 {
        return None;
    }
    match Entry::first(b, e) {
        Some(v) => v,
        None => walk_to_first(b, start, code),
    }
}

/// The first value of `code` found by walking exactly as the option
/// iterator does (same stopping rules for framing errors and option 52):
/// only for offsets the index cannot hold.
#[cold]
#[inline(never)]
fn walk_to_first(b: &[u8], start: Option<usize>, code: u8) -> Option<&[u8]> {
    Fragments {
        inner: Options::new(b, start),
        code,
    }
    .next()
}

/// Copies `N` bytes at `at` (the header is known to be long enough).
#[inline]
fn arr<const N: usize>(b: &[u8], at: usize) -> [u8; N] {
    let mut out = [0u8; N];
    if let Some(s) = b.get(at..at + N) {
        out.copy_from_slice(s);
    }
    out
}

/// The bytes of `b` up to (not including) the first NUL.
#[inline]
pub fn c_string(b: &[u8]) -> &[u8] {
    match b.iter().position(|&c| c == 0) {
        Some(n) => &b[..n],
        None => b,
    }
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps `buffer`, checking that it holds a BOOTP header and that every
    /// option is well framed (lengths inside their area, option 52 valid).
    ///
    /// A packet without the magic cookie is accepted as plain BOOTP and has
    /// no options.
    #[inline(always)]
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        let len = buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(Error::TooShort { len });
        }
        // The view is mostly its 512-byte index. The scan is inlined here
        // so that no pointer to the view leaves the caller before it is
        // returned: LLVM can then build it where the caller keeps it. Once
        // its address went to an out-of-line scan, the moves into the
        // `Result` and out of it (`?`, `unwrap`) each stayed a 568-byte
        // copy, a fifth of parse + five typed lookups. (`new_lenient`,
        // whose callers keep the view in place, scans out of line.)
        let mut p = Packet {
            buffer,
            index: Index::EMPTY,
            error: None,
        };
        p.index.scan(p.buffer.as_ref()).map(|()| p)
    }

    /// Scans the options into the index, keeping the first framing error.
    #[inline(never)]
    fn index_in_place(&mut self) {
        self.error = self.index.scan(self.buffer.as_ref()).err();
    }

    /// Like [`Packet::new_checked`] but accepts a packet whose options are
    /// badly framed: the options before the first framing error stay
    /// readable and the error is kept in [`Packet::options_error`]. Only a
    /// buffer shorter than the header is refused.
    #[inline(always)]
    pub fn new_lenient(buffer: T) -> Result<Self, Error> {
        let len = buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(Error::TooShort { len });
        }
        // Built in place and scanned out of line: its callers keep the
        // view where it was built (see `new_checked`).
        let mut p = Packet {
            buffer,
            index: Index::EMPTY,
            error: None,
        };
        p.index_in_place();
        Ok(p)
    }

    /// The framing error [`Packet::new_lenient`] tolerated, if any.
    pub fn options_error(&self) -> Option<Error> {
        self.error
    }

    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The whole message as bytes.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    #[inline]
    fn b(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    /// Op code (request or reply).
    pub fn op(&self) -> Op {
        Op::from(self.b()[field::OP])
    }
    /// Hardware address type (1 = Ethernet).
    pub fn htype(&self) -> u8 {
        self.b()[field::HTYPE]
    }
    /// Hardware address length as sent (may exceed 16 in hostile packets).
    pub fn hlen(&self) -> u8 {
        self.b()[field::HLEN]
    }
    /// Relay hops.
    pub fn hops(&self) -> u8 {
        self.b()[field::HOPS]
    }
    /// Transaction id.
    pub fn xid(&self) -> u32 {
        u32::from_be_bytes(arr(self.b(), field::XID.start))
    }
    /// Seconds elapsed since the client began.
    pub fn secs(&self) -> u16 {
        u16::from_be_bytes(arr(self.b(), field::SECS.start))
    }
    /// Flags (broadcast bit).
    pub fn flags(&self) -> Flags {
        Flags::from_bits_retain(u16::from_be_bytes(arr(self.b(), field::FLAGS.start)))
    }
    /// Client IP address (set when the client is renewing or at 4011).
    pub fn ciaddr(&self) -> Ipv4Addr {
        Ipv4Addr::from(arr::<4>(self.b(), field::CIADDR.start))
    }
    /// "Your" address, assigned by the server.
    pub fn yiaddr(&self) -> Ipv4Addr {
        Ipv4Addr::from(arr::<4>(self.b(), field::YIADDR.start))
    }
    /// Next-server address (where to fetch the boot file).
    pub fn siaddr(&self) -> Ipv4Addr {
        Ipv4Addr::from(arr::<4>(self.b(), field::SIADDR.start))
    }
    /// Relay agent address (0.0.0.0 when not relayed).
    pub fn giaddr(&self) -> Ipv4Addr {
        Ipv4Addr::from(arr::<4>(self.b(), field::GIADDR.start))
    }
    /// Client hardware address, `hlen` bytes (at most the 16 of the field).
    pub fn chaddr(&self) -> &[u8] {
        let n = usize::from(self.hlen()).min(16);
        &self.b()[field::CHADDR.start..field::CHADDR.start + n]
    }
    /// The Ethernet MAC address when `htype` is 1 and `hlen` is 6.
    pub fn mac(&self) -> Option<[u8; 6]> {
        (self.htype() == 1 && self.hlen() == 6).then(|| arr(self.b(), field::CHADDR.start))
    }
    /// The raw 64-byte `sname` field.
    pub fn sname_raw(&self) -> &[u8] {
        &self.b()[field::SNAME]
    }
    /// The raw 128-byte `file` field.
    pub fn file_raw(&self) -> &[u8] {
        &self.b()[field::FILE]
    }
    /// Server host name up to its NUL; `None` when empty or when the field
    /// carries options (option 52 = 2 or 3).
    pub fn sname(&self) -> Option<&[u8]> {
        let s = c_string(self.sname_raw());
        (self.index.overload & 2 == 0 && !s.is_empty()).then_some(s)
    }
    /// Boot file name up to its NUL; `None` when empty or when the field
    /// carries options (option 52 = 1 or 3).
    pub fn file(&self) -> Option<&[u8]> {
        let s = c_string(self.file_raw());
        (self.index.overload & 1 == 0 && !s.is_empty()).then_some(s)
    }
    /// Boot file name as a client resolves it: option 67 (up to a NUL) if
    /// present, else the `file` field.
    pub fn boot_file_name(&self) -> Option<&[u8]> {
        match self.option(code::BOOTFILE_NAME) {
            Some(v) => Some(c_string(v)),
            None => self.file(),
        }
    }
    /// Whether the magic cookie is present (a DHCP rather than a plain BOOTP message).
    pub fn has_cookie(&self) -> bool {
        self.index.options_start.is_some()
    }
    /// Value of option 52: 0 none, 1 `file`, 2 `sname`, 3 both carry options.
    pub fn overload(&self) -> u8 {
        self.index.overload
    }

    /// Iterates every option in wire order (options, then `file` and
    /// `sname` when overloaded), yielding borrowed `(code, value)` pairs.
    pub fn options(&self) -> Options<'_> {
        Options::new(self.b(), self.index.options_start)
    }

    /// Whether option `code` occurs at least once.
    #[inline]
    pub fn has_option(&self, code: u8) -> bool {
        self.option(code).is_some()
    }

    /// Number of occurrences of `code` is more than one (an RFC 3396 split option).
    #[inline]
    pub fn is_split(&self, code: u8) -> bool {
        self.index.first[usize::from(code)] & Entry::MULTI != 0
    }

    /// The value of the first occurrence of option `code`.
    ///
    /// Absent codes are answered without walking the options.
    #[inline]
    pub fn option(&self, code: u8) -> Option<&[u8]> {
        lookup(self.b(), &self.index.first, self.index.options_start, code)
    }

    /// The values of every occurrence of `code`, in the order RFC 3396
    /// concatenates them.
    pub fn fragments(&self, code: u8) -> Fragments<'_> {
        // An absent code yields nothing without a walk (copying option 82
        // into every reply asks for it).
        let start = if self.index.first[usize::from(code)] != 0 {
            self.index.options_start
        } else {
            None
        };
        Fragments {
            inner: Options::new(self.b(), start),
            code,
        }
    }

    /// Option `code` as one contiguous value without allocating: borrowed
    /// from the packet when it occurs once, otherwise its fragments are
    /// joined into `scratch` (RFC 3396).
    pub fn option_concat<'s>(
        &'s self,
        code: u8,
        scratch: &'s mut [u8],
    ) -> Result<Option<&'s [u8]>, Error> {
        if !self.is_split(code) {
            return Ok(self.option(code));
        }
        let mut n = 0;
        for frag in self.fragments(code) {
            let end = n + frag.len();
            let Some(dst) = scratch.get_mut(n..end) else {
                let needed = self.fragments(code).map(<[u8]>::len).sum();
                return Err(Error::BufferTooSmall {
                    needed,
                    available: scratch.len(),
                });
            };
            dst.copy_from_slice(frag);
            n = end;
        }
        Ok(Some(&scratch[..n]))
    }

    /// Option `code` with all its RFC 3396 fragments joined into a vector.
    #[cfg(feature = "alloc")]
    pub fn option_vec(&self, code: u8) -> Option<alloc::vec::Vec<u8>> {
        self.option(code)?;
        let mut v = alloc::vec::Vec::new();
        for f in self.fragments(code) {
            v.extend_from_slice(f);
        }
        Some(v)
    }

    /// The single contiguous value of `code`, or [`Error::Split`].
    #[inline]
    fn single(&self, code: u8) -> Result<Option<&[u8]>, Error> {
        match self.first_and_split(code) {
            (v, false) => Ok(v),
            (_, true) => Err(self.split_error(code)),
        }
    }

    #[cold]
    fn split_error(&self, code: u8) -> Error {
        Error::Split {
            code,
            parts: self.fragments(code).count(),
        }
    }

    /// The first value of `code` and whether it repeats, from one index read.
    #[inline(always)]
    fn first_and_split(&self, code: u8) -> (Option<&[u8]>, bool) {
        let b = self.b();
        let e = self.index.first[usize::from(code)];
        if e == 0 {
            return (None, false);
        }
        if let Some(v) = Entry::first(b, e) {
            return (v, e & Entry::MULTI != 0);
        }
        let mut f = self.fragments(code);
        (f.next(), f.next().is_some())
    }

    /// A fixed-size value: fragments are joined on the stack (RFC 3396).
    #[inline]
    fn fixed<const N: usize>(
        &self,
        code: u8,
        expected: &'static str,
    ) -> Result<Option<[u8; N]>, Error> {
        if let (first, false) = self.first_and_split(code) {
            return match first {
                None => Ok(None),
                Some(v) => match <[u8; N]>::try_from(v) {
                    Ok(a) => Ok(Some(a)),
                    Err(_) => Err(Error::BadLength {
                        code,
                        len: v.len(),
                        expected,
                    }),
                },
            };
        }
        let mut out = [0u8; N];
        let mut n = 0;
        for f in self.fragments(code) {
            let end = n + f.len();
            match out.get_mut(n..end) {
                Some(dst) => dst.copy_from_slice(f),
                None => {
                    let len = self.fragments(code).map(<[u8]>::len).sum();
                    return Err(Error::BadLength {
                        code,
                        len,
                        expected,
                    });
                }
            }
            n = end;
        }
        if n != N {
            return Err(Error::BadLength {
                code,
                len: n,
                expected,
            });
        }
        Ok(Some(out))
    }

    // The typed accessors below are all `#[inline]`: where none of them is
    // an out-of-line call taking the view's address, the view can stay
    // where `new_checked` built it (see there); out of line, they brought
    // back both copies (parse + five lookups: 715 instructions, not 580).
    #[inline]
    fn ipv4(&self, code: u8) -> Result<Option<Ipv4Addr>, Error> {
        Ok(self
            .fixed::<4>(code, "4 (an IPv4 address)")?
            .map(Ipv4Addr::from))
    }

    #[inline]
    fn u32_opt(&self, code: u8) -> Result<Option<u32>, Error> {
        Ok(self
            .fixed::<4>(code, "4 (a 32-bit number)")?
            .map(u32::from_be_bytes))
    }

    #[inline]
    fn view<'s, V: 's>(
        &'s self,
        code: u8,
        parse: impl FnOnce(&'s [u8]) -> Result<V, Error>,
    ) -> Result<Option<V>, Error> {
        self.single(code)?.map(parse).transpose()
    }

    /// Option 53, the DHCP message type (`None` for plain BOOTP).
    #[inline]
    pub fn message_type(&self) -> Result<Option<MessageType>, Error> {
        Ok(self
            .fixed::<1>(code::MESSAGE_TYPE, "1")?
            .map(|[v]| MessageType::from(v)))
    }
    /// Option 55, the parameter request list.
    #[inline]
    pub fn parameter_request_list(&self) -> Result<Option<ParameterRequestList<'_>>, Error> {
        self.view(code::PARAMETER_REQUEST_LIST, |d| {
            Ok(ParameterRequestList(d))
        })
    }
    /// Option 57 as sent (see [`Packet::max_message_size_effective`]).
    #[inline]
    pub fn max_message_size(&self) -> Result<Option<u16>, Error> {
        Ok(self
            .fixed::<2>(code::MAX_MESSAGE_SIZE, "2")?
            .map(u16::from_be_bytes))
    }
    /// The largest message (IP datagram, as option 57 counts) a reply may
    /// use: option 57 if valid, never below 576.
    #[inline]
    pub fn max_message_size_effective(&self) -> u16 {
        self.max_message_size()
            .ok()
            .flatten()
            .unwrap_or(MIN_MAX_MESSAGE_SIZE)
            .max(MIN_MAX_MESSAGE_SIZE)
    }
    /// Option 61, the client identifier.
    #[inline]
    pub fn client_id(&self) -> Result<Option<ClientId<'_>>, Error> {
        self.view(code::CLIENT_ID, ClientId::parse)
    }
    /// Option 54, the server identifier.
    #[inline]
    pub fn server_id(&self) -> Result<Option<Ipv4Addr>, Error> {
        self.ipv4(code::SERVER_ID)
    }
    /// Option 50, the requested IP address.
    #[inline]
    pub fn requested_ip(&self) -> Result<Option<Ipv4Addr>, Error> {
        self.ipv4(code::REQUESTED_IP)
    }
    /// Option 51, the lease time in seconds (`u32::MAX` = infinite).
    #[inline]
    pub fn lease_time(&self) -> Result<Option<u32>, Error> {
        self.u32_opt(code::LEASE_TIME)
    }
    /// Option 58, the renewal (T1) time in seconds.
    #[inline]
    pub fn renewal_time(&self) -> Result<Option<u32>, Error> {
        self.u32_opt(code::RENEWAL_TIME)
    }
    /// Option 59, the rebinding (T2) time in seconds.
    #[inline]
    pub fn rebinding_time(&self) -> Result<Option<u32>, Error> {
        self.u32_opt(code::REBINDING_TIME)
    }
    /// Option 1, the subnet mask.
    #[inline]
    pub fn subnet_mask(&self) -> Result<Option<Ipv4Addr>, Error> {
        self.ipv4(code::SUBNET_MASK)
    }
    /// Option 28, the broadcast address.
    #[inline]
    pub fn broadcast_address(&self) -> Result<Option<Ipv4Addr>, Error> {
        self.ipv4(code::BROADCAST)
    }
    /// Option 3, the routers.
    #[inline]
    pub fn routers(&self) -> Result<Option<Ipv4List<'_>>, Error> {
        self.view(code::ROUTER, |d| Ipv4List::parse(code::ROUTER, d))
    }
    /// Option 6, the DNS servers.
    #[inline]
    pub fn dns_servers(&self) -> Result<Option<Ipv4List<'_>>, Error> {
        self.view(code::DNS_SERVERS, |d| Ipv4List::parse(code::DNS_SERVERS, d))
    }
    /// Option 12, the host name (bytes up to a NUL).
    #[inline]
    pub fn host_name(&self) -> Result<Option<&[u8]>, Error> {
        self.view(code::HOST_NAME, |d| Ok(c_string(d)))
    }
    /// Option 15, the domain name (bytes up to a NUL).
    #[inline]
    pub fn domain_name(&self) -> Result<Option<&[u8]>, Error> {
        self.view(code::DOMAIN_NAME, |d| Ok(c_string(d)))
    }
    /// Option 66, the TFTP server name (bytes up to a NUL).
    #[inline]
    pub fn tftp_server_name(&self) -> Result<Option<&[u8]>, Error> {
        self.view(code::TFTP_SERVER_NAME, |d| Ok(c_string(d)))
    }
    /// Option 67, the boot file name (bytes up to a NUL; dnsmasq sends one).
    #[inline]
    pub fn bootfile_name(&self) -> Result<Option<&[u8]>, Error> {
        self.view(code::BOOTFILE_NAME, |d| Ok(c_string(d)))
    }
    /// Option 60, the vendor class identifier.
    #[inline]
    pub fn vendor_class(&self) -> Result<Option<VendorClass<'_>>, Error> {
        self.view(code::VENDOR_CLASS, |d| Ok(VendorClass::new(d)))
    }
    /// Option 77, the user class (RFC 3004 or iPXE's bare string).
    #[inline]
    pub fn user_class(&self) -> Result<Option<UserClass<'_>>, Error> {
        self.view(code::USER_CLASS, UserClass::parse)
    }
    /// Option 93, the client architectures.
    #[inline]
    pub fn client_arch(&self) -> Result<Option<ClientArchList<'_>>, Error> {
        self.view(code::CLIENT_ARCH, ClientArchList::parse)
    }
    /// Option 94, the client network device interface.
    #[inline]
    pub fn client_ndi(&self) -> Result<Option<ClientNdi>, Error> {
        Ok(self
            .fixed::<3>(code::CLIENT_NDI, "3 (type, major, minor)")?
            .map(|[kind, major, minor]| ClientNdi { kind, major, minor }))
    }
    /// Option 97, the client machine identifier (UUID).
    #[inline]
    pub fn client_uuid(&self) -> Result<Option<ClientUuid>, Error> {
        self.fixed::<17>(code::CLIENT_UUID, "17 (type 0 + 16-byte UUID)")?
            .map(|v| ClientUuid::parse(&v))
            .transpose()
    }
    /// Option 43 read as PXE vendor sub-options (meaningful when option 60
    /// starts with `PXEClient`).
    #[inline]
    pub fn pxe_options(&self) -> Result<Option<crate::pxe::PxeOptions<'_>>, Error> {
        self.view(code::VENDOR_SPECIFIC, crate::pxe::PxeOptions::parse)
    }
    /// Option 175, iPXE's encapsulated options.
    #[inline]
    pub fn ipxe_options(&self) -> Result<Option<crate::ipxe::IpxeOptions<'_>>, Error> {
        self.view(code::IPXE_ENCAP, crate::ipxe::IpxeOptions::parse)
    }
    /// Options 208–211, the PXELINUX options (RFC 5071).
    #[inline]
    pub fn pxelinux(&self) -> Result<crate::pxelinux::Pxelinux<'_>, Error> {
        crate::pxelinux::Pxelinux::from_packet(self)
    }
    /// Option 82, the relay agent information sub-options.
    #[inline]
    pub fn relay_agent_info(&self) -> Result<Option<crate::relay::RelayAgentInfo<'_>>, Error> {
        self.view(code::RELAY_AGENT_INFO, crate::relay::RelayAgentInfo::parse)
    }

    /// Crate-internal: single contiguous value (for views in other modules).
    pub(crate) fn single_value(&self, code: u8) -> Result<Option<&[u8]>, Error> {
        self.single(code)
    }
    /// Crate-internal: fixed-size value.
    pub(crate) fn fixed_value<const N: usize>(
        &self,
        code: u8,
        expected: &'static str,
    ) -> Result<Option<[u8; N]>, Error> {
        self.fixed(code, expected)
    }
}

impl<'a> Packet<&'a [u8]> {
    /// Like [`Packet::option`] but borrowing from the underlying buffer, so
    /// the value outlives this view.
    pub fn option_ref(&self, code: u8) -> Option<&'a [u8]> {
        lookup(
            self.buffer,
            &self.index.first,
            self.index.options_start,
            code,
        )
    }
}

/// The options of a packet, for code that only has the option area.
impl<'a> IntoIterator for &'a Packet<&'a [u8]> {
    type Item = Result<RawOption<'a>, Error>;
    type IntoIter = Options<'a>;
    fn into_iter(self) -> Options<'a> {
        self.options()
    }
}
