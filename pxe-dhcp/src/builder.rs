//! Writing DHCP messages into a caller's buffer.

use core::net::Ipv4Addr;

use crate::error::Error;
use crate::options::code;
use crate::packet::{IP_UDP_HEADER_LEN, MAGIC_COOKIE, MIN_MAX_MESSAGE_SIZE, Op, Packet, field};
use crate::pxe::{BootItem, DiscoveryControl, sub as pxe_sub};
use crate::types::{ClientUuid, MessageType};

/// The BOOTP minimum message length; shorter replies are padded with zeros
/// (RFC 1542 section 3.1.1: some relays and clients drop shorter ones).
pub const BOOTP_MIN_LEN: usize = 300;

/// Writes a BOOTP/DHCP message into a borrowed `&mut [u8]`, without
/// allocating and without panicking on any buffer size.
///
/// Options are appended in call order. Values longer than 255 bytes are
/// split into several options of the same code (RFC 3396). At
/// [`Builder::finish`], if the options do not fit the client's maximum
/// message size (option 57, never below 576; the 28 bytes of IP and UDP
/// headers are deducted as dnsmasq does), the trailing options are moved
/// into `file` and then `sname` (when the caller left them empty) and
/// option 52 is added; if even that is not enough, [`Error::TooBig`].
///
/// Give it a buffer at least as large as the largest reply you allow (1500
/// bytes for Ethernet): options are first written linearly and only laid
/// out for the client's limit when finishing.
///
/// ```
/// use core::net::Ipv4Addr;
/// use pxe_dhcp::{Builder, MessageType, Packet, code};
///
/// let mut buf = [0u8; 1500];
/// let mut b = Builder::new(&mut buf)?;
/// b.xid(0x1234_5678).message_type(MessageType::Discover)?;
/// b.option(code::VENDOR_CLASS, b"PXEClient:Arch:00007:UNDI:003016")?;
/// let len = b.finish()?;
/// let p = Packet::new_checked(&buf[..len])?;
/// assert_eq!(p.xid(), 0x1234_5678);
/// assert_eq!(p.vendor_class()?.unwrap().parse().arch, Some(7));
/// # Ok::<(), pxe_dhcp::Error>(())
/// ```
#[derive(Debug)]
pub struct Builder<'b> {
    buf: &'b mut [u8],
    pos: usize,
    limit: usize,
    min_len: usize,
    file_used: bool,
    sname_used: bool,
}

#[inline]
fn too_small(needed: usize, available: usize) -> Error {
    Error::BufferTooSmall { needed, available }
}

impl<'b> Builder<'b> {
    /// Starts a message in `buf`: zeroed header, op BOOTREQUEST, htype 1,
    /// hlen 6, the magic cookie, no options, and no size limit other than
    /// the buffer (see [`Builder::max_message_size`]).
    #[inline]
    pub fn new(buf: &'b mut [u8]) -> Result<Self, Error> {
        let needed = field::OPTIONS + 1;
        if buf.len() < needed {
            return Err(too_small(needed, buf.len()));
        }
        buf[..field::OPTIONS].fill(0);
        buf[field::OP] = 1;
        buf[field::HTYPE] = 1;
        buf[field::HLEN] = 6;
        buf[field::COOKIE].copy_from_slice(&MAGIC_COOKIE);
        let limit = buf.len();
        Ok(Builder {
            buf,
            pos: field::OPTIONS,
            limit,
            min_len: BOOTP_MIN_LEN,
            file_used: false,
            sname_used: false,
        })
    }

    /// Starts a reply (op BOOTREPLY) to `request`: copies xid, htype,
    /// hlen, chaddr, flags and giaddr, and takes the size limit from the
    /// request's option 57 (never below 576).
    ///
    /// Everything else starts at zero, as RFC 2131 table 3 has it: `secs`
    /// and `hops` (dnsmasq keeps the request's `secs` in every reply; call
    /// [`Builder::secs`] with [`Packet::secs`] to match it byte for byte),
    /// the addresses, `sname` and `file`. Policy is the caller's: a reply
    /// to a client without an address (`ciaddr` 0) usually sets
    /// [`Flags::BROADCAST`](crate::Flags::BROADCAST), and a relayed
    /// request's option 82 goes back with [`Builder::copy_option`].
    #[inline]
    pub fn reply_to<T: AsRef<[u8]>>(request: &Packet<T>, buf: &'b mut [u8]) -> Result<Self, Error> {
        let mut b = Builder::new(buf)?;
        let src = request.as_bytes();
        b.buf[field::OP] = 2;
        b.buf[field::HTYPE] = src[field::HTYPE];
        b.buf[field::HLEN] = src[field::HLEN].min(16);
        b.buf[field::XID].copy_from_slice(&src[field::XID]);
        b.buf[field::FLAGS].copy_from_slice(&src[field::FLAGS]);
        b.buf[field::GIADDR].copy_from_slice(&src[field::GIADDR]);
        b.buf[field::CHADDR].copy_from_slice(&src[field::CHADDR]);
        b.max_message_size(request.max_message_size_effective());
        Ok(b)
    }

    /// Limits the message to what a client with option 57 = `size` accepts:
    /// `max(size, 576) - 28` bytes of DHCP payload (and the buffer length).
    #[inline]
    pub fn max_message_size(&mut self, size: u16) -> &mut Self {
        let size = usize::from(size.max(MIN_MAX_MESSAGE_SIZE)) - IP_UDP_HEADER_LEN;
        self.limit = size.min(self.buf.len());
        self
    }

    /// Pads the finished message with zeros to at least `len` bytes (default
    /// 300, the BOOTP minimum; capped by the size limit). 0 disables padding.
    #[inline]
    pub fn min_len(&mut self, len: usize) -> &mut Self {
        self.min_len = len;
        self
    }

    /// Sets the op code.
    #[inline]
    pub fn op(&mut self, op: Op) -> &mut Self {
        self.buf[field::OP] = op.into();
        self
    }
    /// Sets the transaction id.
    #[inline]
    pub fn xid(&mut self, xid: u32) -> &mut Self {
        self.buf[field::XID].copy_from_slice(&xid.to_be_bytes());
        self
    }
    /// Sets the seconds field.
    #[inline]
    pub fn secs(&mut self, secs: u16) -> &mut Self {
        self.buf[field::SECS].copy_from_slice(&secs.to_be_bytes());
        self
    }
    /// Sets the flags.
    #[inline]
    pub fn flags(&mut self, flags: crate::Flags) -> &mut Self {
        self.buf[field::FLAGS].copy_from_slice(&flags.bits().to_be_bytes());
        self
    }
    /// Sets the relay hops.
    #[inline]
    pub fn hops(&mut self, hops: u8) -> &mut Self {
        self.buf[field::HOPS] = hops;
        self
    }
    /// Sets ciaddr.
    #[inline]
    pub fn ciaddr(&mut self, a: Ipv4Addr) -> &mut Self {
        self.buf[field::CIADDR].copy_from_slice(&a.octets());
        self
    }
    /// Sets yiaddr.
    #[inline]
    pub fn yiaddr(&mut self, a: Ipv4Addr) -> &mut Self {
        self.buf[field::YIADDR].copy_from_slice(&a.octets());
        self
    }
    /// Sets siaddr (the next server, where the boot file is fetched).
    #[inline]
    pub fn siaddr(&mut self, a: Ipv4Addr) -> &mut Self {
        self.buf[field::SIADDR].copy_from_slice(&a.octets());
        self
    }
    /// Sets giaddr.
    #[inline]
    pub fn giaddr(&mut self, a: Ipv4Addr) -> &mut Self {
        self.buf[field::GIADDR].copy_from_slice(&a.octets());
        self
    }
    /// Sets htype, hlen and chaddr (at most 16 bytes).
    #[inline]
    pub fn chaddr(&mut self, htype: u8, addr: &[u8]) -> Result<&mut Self, Error> {
        let Some(dst) = self
            .buf
            .get_mut(field::CHADDR.start..field::CHADDR.start + addr.len())
            .filter(|_| addr.len() <= 16)
        else {
            return Err(Error::ValueTooLong {
                field: "chaddr",
                len: addr.len(),
                max: 16,
            });
        };
        dst.copy_from_slice(addr);
        self.buf[field::CHADDR.start + addr.len()..field::CHADDR.end].fill(0);
        self.buf[field::HTYPE] = htype;
        self.buf[field::HLEN] = addr.len() as u8;
        Ok(self)
    }
    /// Sets the `sname` field (at most 64 bytes; shorter values are NUL
    /// terminated). A non-empty sname is not used for option overload.
    #[inline]
    pub fn sname(&mut self, name: &[u8]) -> Result<&mut Self, Error> {
        text_field(self.buf, field::SNAME, name, "sname")?;
        self.sname_used = !name.is_empty();
        Ok(self)
    }
    /// Sets the `file` field (at most 128 bytes; shorter values are NUL
    /// terminated). A non-empty file is not used for option overload.
    #[inline]
    pub fn file(&mut self, name: &[u8]) -> Result<&mut Self, Error> {
        text_field(self.buf, field::FILE, name, "file")?;
        self.file_used = !name.is_empty();
        Ok(self)
    }

    /// Bytes of options written so far (headers included, before layout).
    #[inline]
    pub fn options_len(&self) -> usize {
        self.pos - field::OPTIONS
    }

    /// Appends option `code` with `value`, split into several options of
    /// the same code when longer than 255 bytes (RFC 3396).
    #[inline]
    pub fn option(&mut self, code: u8, value: &[u8]) -> Result<&mut Self, Error> {
        check_code(code)?;
        if let Ok(len) = u8::try_from(value.len()) {
            let p = self.pos;
            let end = p + 2 + value.len();
            // One byte stays free for the end option.
            let cap = self.buf.len();
            let Some(dst) = self.buf.get_mut(p..end).filter(|_| end < cap) else {
                return Err(too_small(end + 1, cap));
            };
            dst[0] = code;
            dst[1] = len;
            dst[2..].copy_from_slice(value);
            self.pos = end;
            return Ok(self);
        }
        // Longer than 255 bytes (an empty value took the branch above).
        let needed = value.len() + 2 * value.len().div_ceil(255);
        self.reserve(needed)?;
        for chunk in value.chunks(255) {
            let p = self.pos;
            self.buf[p] = code;
            self.buf[p + 1] = chunk.len() as u8;
            self.buf[p + 2..p + 2 + chunk.len()].copy_from_slice(chunk);
            self.pos = p + 2 + chunk.len();
        }
        Ok(self)
    }

    /// Appends option 53.
    #[inline]
    pub fn message_type(&mut self, t: MessageType) -> Result<&mut Self, Error> {
        self.option(code::MESSAGE_TYPE, &[t.into()])
    }
    /// Appends an option holding one IPv4 address (1, 3, 28, 50, 54, ...).
    #[inline]
    pub fn ipv4_option(&mut self, code: u8, addr: Ipv4Addr) -> Result<&mut Self, Error> {
        self.option(code, &addr.octets())
    }
    /// Appends an option holding a list of IPv4 addresses (3, 6, 42, ...).
    #[inline]
    pub fn ipv4_list_option(&mut self, code: u8, addrs: &[Ipv4Addr]) -> Result<&mut Self, Error> {
        let mut enc = self.encapsulated_raw(code)?;
        for a in addrs {
            enc.raw(&a.octets())?;
        }
        enc.close()
    }
    /// Appends an option holding a big-endian u32 (51, 58, 59, 211, ...).
    #[inline]
    pub fn u32_option(&mut self, code: u8, v: u32) -> Result<&mut Self, Error> {
        self.option(code, &v.to_be_bytes())
    }
    /// Appends an option holding a big-endian u16 (57, ...).
    #[inline]
    pub fn u16_option(&mut self, code: u8, v: u16) -> Result<&mut Self, Error> {
        self.option(code, &v.to_be_bytes())
    }
    /// Appends an option holding one byte.
    #[inline]
    pub fn u8_option(&mut self, code: u8, v: u8) -> Result<&mut Self, Error> {
        self.option(code, &[v])
    }
    /// Appends option 54, the server identifier.
    #[inline]
    pub fn server_id(&mut self, addr: Ipv4Addr) -> Result<&mut Self, Error> {
        self.ipv4_option(code::SERVER_ID, addr)
    }
    /// Appends option 51, the lease time.
    #[inline]
    pub fn lease_time(&mut self, secs: u32) -> Result<&mut Self, Error> {
        self.u32_option(code::LEASE_TIME, secs)
    }
    /// Appends option 97 as received (echoed by PXE servers).
    #[inline]
    pub fn client_uuid(&mut self, uuid: &ClientUuid) -> Result<&mut Self, Error> {
        self.option(code::CLIENT_UUID, &uuid.to_bytes())
    }
    /// Copies every occurrence of option `code` from `packet` (e.g. 82 or
    /// 97 echoed back). Does nothing when absent.
    #[inline]
    pub fn copy_option<T: AsRef<[u8]>>(
        &mut self,
        packet: &Packet<T>,
        code: u8,
    ) -> Result<&mut Self, Error> {
        for frag in packet.fragments(code) {
            self.option(code, frag)?;
        }
        Ok(self)
    }

    /// Appends option `code` whose value is `parts` joined: a text and the
    /// NUL a client expects after it, or a value with an address spliced
    /// in. Longer than 255 bytes, it is split per RFC 3396. On error
    /// nothing of the option remains.
    #[inline]
    pub fn option_parts<'v, I>(&mut self, code: u8, parts: I) -> Result<&mut Self, Error>
    where
        I: IntoIterator<Item = &'v [u8]>,
    {
        let mut enc = self.encapsulated_raw(code)?;
        let start = enc.start;
        for part in parts {
            if let Err(e) = enc.raw(part) {
                enc.b.pos = start;
                return Err(e);
            }
        }
        enc.close()
    }

    /// Appends an encapsulated option (43, 175, 82, ...): `f` writes the
    /// sub-options, then the length is back-patched. Content over 255 bytes
    /// is split per RFC 3396. On error nothing of the option remains.
    #[inline]
    pub fn encapsulated<F>(&mut self, code: u8, f: F) -> Result<&mut Self, Error>
    where
        F: FnOnce(&mut SubBuilder<'_, 'b>) -> Result<(), Error>,
    {
        let mut enc = self.encapsulated_raw(code)?;
        let start = enc.start;
        match f(&mut enc) {
            Ok(()) => enc.close(),
            Err(e) => {
                enc.b.pos = start;
                Err(e)
            }
        }
    }

    /// Appends option `code` holding a DHCP-style sub-option list that `f`
    /// writes (pad 0 and end 255 are single bytes, every other code has a
    /// length byte): 43, 175 and dnsmasq's other `encap:` options.
    ///
    /// Content over 255 bytes is split into several options of the same
    /// code (RFC 3396) *between* sub-options, never inside one, as
    /// dnsmasq's `do_encap_opts` lays them out: each fragment is then a
    /// whole list that a client without RFC 3396 support still reads, and
    /// a trailing end sub-option stays with the sub-option before it. Only
    /// a sub-option too long for any fragment (a value over 253 bytes) is
    /// cut. On error nothing of the option remains.
    #[inline]
    pub fn encap_options<F>(&mut self, code: u8, f: F) -> Result<&mut Self, Error>
    where
        F: FnOnce(&mut SubBuilder<'_, 'b>) -> Result<(), Error>,
    {
        let mut enc = self.encapsulated_raw(code)?;
        let start = enc.start;
        match f(&mut enc) {
            Ok(()) => enc.close_between_sub_options(),
            Err(e) => {
                enc.b.pos = start;
                Err(e)
            }
        }
    }

    /// Appends option 43 with PXE sub-options written by `f`, followed by
    /// the end sub-option (255) as PXE clients expect; laid out as
    /// [`Builder::encap_options`] does.
    #[inline]
    pub fn pxe_options<F>(&mut self, f: F) -> Result<&mut Self, Error>
    where
        F: FnOnce(&mut SubBuilder<'_, 'b>) -> Result<(), Error>,
    {
        self.encap_options(code::VENDOR_SPECIFIC, |sub| {
            f(sub)?;
            sub.end()?;
            Ok(())
        })
    }

    /// Appends option 125 (RFC 3925, vendor-identifying vendor-specific
    /// information): `f` adds one enterprise block after another with
    /// [`ViBuilder::enterprise`]. Over 255 bytes the option is split per
    /// RFC 3396. On error nothing of the option remains.
    #[inline]
    pub fn vendor_identifying<F>(&mut self, f: F) -> Result<&mut Self, Error>
    where
        F: FnOnce(&mut ViBuilder<'_, '_, 'b>) -> Result<(), Error>,
    {
        self.encapsulated(code::VI_VENDOR_INFO, |sub| f(&mut ViBuilder { sub }))
    }

    #[inline]
    fn encapsulated_raw(&mut self, code: u8) -> Result<SubBuilder<'_, 'b>, Error> {
        check_code(code)?;
        self.reserve(2)?;
        let start = self.pos;
        self.buf[start] = code;
        self.buf[start + 1] = 0;
        self.pos += 2;
        Ok(SubBuilder { b: self, start })
    }

    /// Space check against the buffer (one byte kept for the end option).
    #[inline]
    fn reserve(&self, n: usize) -> Result<(), Error> {
        let needed = self.pos + n + 1;
        if needed > self.buf.len() {
            return Err(too_small(needed, self.buf.len()));
        }
        Ok(())
    }

    /// Lays the options out for the size limit, writes the end option and
    /// padding, and returns the message length.
    #[inline]
    pub fn finish(self) -> Result<usize, Error> {
        self.finish_bytes().map(<[u8]>::len)
    }

    /// Like [`Builder::finish`] but returns the finished message.
    #[inline]
    pub fn finish_bytes(self) -> Result<&'b [u8], Error> {
        let Builder {
            buf,
            pos,
            limit,
            min_len,
            file_used,
            sname_used,
        } = self;
        let limit = limit.min(buf.len());
        let end = if pos < limit {
            buf[pos] = code::END;
            pos + 1
        } else {
            overload(buf, pos, limit, file_used, sname_used)?
        };
        let len = end.max(min_len.min(limit));
        buf[end..len].fill(0);
        Ok(&buf[..len])
    }

    /// Finishes and appends the message to `dst` (e.g. a `BytesMut`).
    #[cfg(feature = "bytes")]
    #[inline]
    pub fn finish_into<B: bytes::BufMut>(self, dst: &mut B) -> Result<usize, Error> {
        let msg = self.finish_bytes()?;
        if dst.remaining_mut() < msg.len() {
            return Err(too_small(msg.len(), dst.remaining_mut()));
        }
        dst.put_slice(msg);
        Ok(msg.len())
    }
}

#[inline]
fn check_code(code: u8) -> Result<(), Error> {
    if matches!(code, code::PAD | code::END | code::OVERLOAD) {
        return Err(Error::ReservedCode { code });
    }
    Ok(())
}

#[inline]
fn text_field(
    buf: &mut [u8],
    range: core::ops::Range<usize>,
    v: &[u8],
    name: &'static str,
) -> Result<(), Error> {
    let max = range.len();
    if v.len() > max {
        return Err(Error::ValueTooLong {
            field: name,
            len: v.len(),
            max,
        });
    }
    let dst = &mut buf[range];
    dst.fill(0);
    dst[..v.len()].copy_from_slice(v);
    Ok(())
}

/// Moves trailing options into `file` then `sname` so the message fits
/// `limit`; returns the end of the main options area.
///
/// Options keep their order (main, then file, then sname), so the
/// fragments of a split option keep RFC 3396 order. An option that fits
/// one of the remaining areas whole is never cut; one too long for any
/// remaining area is split across them (RFC 3396), which is the only way
/// to deliver it at all.
#[cold]
fn overload(
    buf: &mut [u8],
    pos: usize,
    limit: usize,
    file_used: bool,
    sname_used: bool,
) -> Result<usize, Error> {
    let total = pos - field::OPTIONS;
    // Main area keeps room for option 52 (3 bytes) and the end option;
    // file and sname keep one byte for their end option.
    let caps = [
        limit.saturating_sub(field::OPTIONS + 4),
        if file_used { 0 } else { field::FILE.len() - 1 },
        if sname_used {
            0
        } else {
            field::SNAME.len() - 1
        },
    ];
    let starts = [field::OPTIONS, field::FILE.start, field::SNAME.start];
    let too_big = Error::TooBig {
        needed: total + 1,
        limit: caps.iter().sum::<usize>() + 1,
    };
    if limit < field::OPTIONS + 4 || (file_used && sname_used) {
        return Err(too_big);
    }
    let mut fill = [0usize; 3];
    let mut area = 0;
    let mut p = field::OPTIONS;
    while p < pos {
        let code = buf[p];
        let mut src = p + 2;
        let mut rem = usize::from(buf[p + 1]);
        p = src + rem;
        loop {
            let Some(&cap) = caps.get(area) else {
                return Err(too_big);
            };
            let room = cap - fill[area];
            let unit = 2 + rem;
            let fits_later = (area + 1..3).any(|a| caps[a] - fill[a] >= unit);
            let take = if unit <= room {
                rem
            } else if fits_later || room < 3 {
                area += 1;
                continue;
            } else {
                room - 2
            };
            let dst = starts[area] + fill[area];
            if area == 0 {
                // The main area is a prefix: the option is already in place.
                buf[dst + 1] = take as u8;
            } else {
                buf[dst] = code;
                buf[dst + 1] = take as u8;
                buf.copy_within(src..src + take, dst + 2);
            }
            fill[area] += 2 + take;
            src += take;
            rem -= take;
            if rem == 0 {
                break;
            }
            area += 1;
        }
    }
    let mut value = 0;
    for a in 1..3 {
        if fill[a] > 0 {
            let end = starts[a] + fill[a];
            buf[end..starts[a] + caps[a] + 1].fill(0);
            buf[end] = code::END;
            value |= 1 << (a - 1);
        }
    }
    let main_end = field::OPTIONS + fill[0];
    buf[main_end..main_end + 4].copy_from_slice(&[code::OVERLOAD, 1, value, code::END]);
    Ok(main_end + 4)
}

/// Writes sub-options inside an encapsulated option; see
/// [`Builder::encapsulated`].
#[derive(Debug)]
pub struct SubBuilder<'s, 'b> {
    b: &'s mut Builder<'b>,
    start: usize,
}

impl SubBuilder<'_, '_> {
    /// Appends sub-option `code` with `value` (at most 255 bytes).
    #[inline]
    pub fn option(&mut self, code: u8, value: &[u8]) -> Result<&mut Self, Error> {
        if value.len() > 255 {
            return Err(Error::ValueTooLong {
                field: "sub-option",
                len: value.len(),
                max: 255,
            });
        }
        self.b.reserve(2 + value.len())?;
        let p = self.b.pos;
        self.b.buf[p] = code;
        self.b.buf[p + 1] = value.len() as u8;
        self.b.buf[p + 2..p + 2 + value.len()].copy_from_slice(value);
        self.b.pos = p + 2 + value.len();
        Ok(self)
    }
    /// Appends raw bytes (no code or length).
    #[inline]
    pub fn raw(&mut self, bytes: &[u8]) -> Result<&mut Self, Error> {
        self.b.reserve(bytes.len())?;
        let p = self.b.pos;
        self.b.buf[p..p + bytes.len()].copy_from_slice(bytes);
        self.b.pos = p + bytes.len();
        Ok(self)
    }
    /// Appends the end sub-option (255), as option 43 uses.
    #[inline]
    pub fn end(&mut self) -> Result<&mut Self, Error> {
        self.raw(&[255])
    }
    /// Appends a one-byte sub-option.
    #[inline]
    pub fn u8(&mut self, code: u8, v: u8) -> Result<&mut Self, Error> {
        self.option(code, &[v])
    }
    /// Appends a big-endian u16 sub-option.
    #[inline]
    pub fn u16(&mut self, code: u8, v: u16) -> Result<&mut Self, Error> {
        self.option(code, &v.to_be_bytes())
    }
    /// Appends a big-endian u32 sub-option.
    #[inline]
    pub fn u32(&mut self, code: u8, v: u32) -> Result<&mut Self, Error> {
        self.option(code, &v.to_be_bytes())
    }
    /// Appends an IPv4 sub-option.
    #[inline]
    pub fn ipv4(&mut self, code: u8, a: Ipv4Addr) -> Result<&mut Self, Error> {
        self.option(code, &a.octets())
    }
    /// PXE 43.6, discovery control.
    #[inline]
    pub fn discovery_control(&mut self, v: DiscoveryControl) -> Result<&mut Self, Error> {
        self.u8(pxe_sub::DISCOVERY_CONTROL, v.bits())
    }
    /// PXE 43.10, menu prompt (timeout seconds and text).
    #[inline]
    pub fn menu_prompt(&mut self, timeout: u8, prompt: &[u8]) -> Result<&mut Self, Error> {
        self.sub_with(pxe_sub::MENU_PROMPT, |s| {
            s.raw(&[timeout])?;
            s.raw(prompt)?;
            Ok(())
        })
    }
    /// PXE 43.9, boot menu: `(type, description)` entries.
    #[inline]
    pub fn boot_menu(&mut self, items: &[(u16, &[u8])]) -> Result<&mut Self, Error> {
        self.boot_menu_entries(items.iter().copied())
    }
    /// PXE 43.9, boot menu, from any sequence of `(type, description)`
    /// entries (borrowed from wherever the menu is kept).
    #[inline]
    pub fn boot_menu_entries<D, I>(&mut self, items: I) -> Result<&mut Self, Error>
    where
        D: AsRef<[u8]>,
        I: IntoIterator<Item = (u16, D)>,
    {
        self.sub_with(pxe_sub::BOOT_MENU, |s| {
            for (kind, desc) in items {
                let desc = desc.as_ref();
                let len = u8::try_from(desc.len()).map_err(|_| Error::ValueTooLong {
                    field: "boot menu description",
                    len: desc.len(),
                    max: 255,
                })?;
                s.raw(&kind.to_be_bytes())?;
                s.raw(&[len])?;
                s.raw(desc)?;
            }
            Ok(())
        })
    }
    /// PXE 43.8, boot servers: `(type, addresses)` entries.
    #[inline]
    pub fn boot_servers(&mut self, servers: &[(u16, &[Ipv4Addr])]) -> Result<&mut Self, Error> {
        self.boot_server_entries(servers.iter().copied())
    }
    /// PXE 43.8, boot servers, from any sequence of `(type, addresses)`
    /// entries (`[Ipv4Addr; 1]` for the usual one server per type).
    #[inline]
    pub fn boot_server_entries<A, I>(&mut self, servers: I) -> Result<&mut Self, Error>
    where
        A: AsRef<[Ipv4Addr]>,
        I: IntoIterator<Item = (u16, A)>,
    {
        self.sub_with(pxe_sub::BOOT_SERVERS, |s| {
            for (kind, addrs) in servers {
                let addrs = addrs.as_ref();
                let n = u8::try_from(addrs.len()).map_err(|_| Error::ValueTooLong {
                    field: "boot server list",
                    len: addrs.len(),
                    max: 255,
                })?;
                s.raw(&kind.to_be_bytes())?;
                s.raw(&[n])?;
                for a in addrs {
                    s.raw(&a.octets())?;
                }
            }
            Ok(())
        })
    }
    /// PXE 43.71, boot item.
    #[inline]
    pub fn boot_item(&mut self, item: BootItem) -> Result<&mut Self, Error> {
        self.option(pxe_sub::BOOT_ITEM, &item.to_bytes())
    }

    /// Writes one sub-option whose value `f` appends piecewise (at most
    /// 255 bytes), back-patching its length.
    #[inline]
    pub fn sub_with<F>(&mut self, code: u8, f: F) -> Result<&mut Self, Error>
    where
        F: FnOnce(&mut Self) -> Result<(), Error>,
    {
        self.b.reserve(2)?;
        let start = self.b.pos;
        self.b.buf[start] = code;
        self.b.pos += 2;
        let res = f(self);
        let len = self.b.pos - start - 2;
        match res {
            Ok(()) if len <= 255 => {
                self.b.buf[start + 1] = len as u8;
                Ok(self)
            }
            Ok(()) => {
                self.b.pos = start;
                Err(Error::ValueTooLong {
                    field: "sub-option",
                    len,
                    max: 255,
                })
            }
            Err(e) => {
                self.b.pos = start;
                Err(e)
            }
        }
    }
}

impl<'s, 'b> SubBuilder<'s, 'b> {
    /// Back-patches the length; splits content over 255 bytes between
    /// sub-options (see [`Builder::encap_options`]).
    #[inline(always)]
    fn close_between_sub_options(self) -> Result<&'s mut Builder<'b>, Error> {
        if self.b.pos - self.start - 2 <= 255 {
            return self.close();
        }
        let b = self.b;
        let start = self.start;
        let content = start + 2..b.pos;
        let mut parts = 0;
        let mut p = content.start;
        while p < content.end {
            p = fragment_end(&b.buf[..content.end], p);
            parts += 1;
        }
        let extra = 2 * (parts - 1);
        if let Err(e) = b.reserve(extra) {
            b.pos = start;
            return Err(e);
        }
        let code = b.buf[start];
        // Fragment i moves right by 2 * i to make room for the headers;
        // moving the last one first never overwrites an unmoved one, and
        // each header lands just after where the previous fragment goes.
        for i in (0..parts).rev() {
            let (from, to) = nth_fragment(&b.buf[..content.end], content.start, i);
            let len = to - from;
            b.buf.copy_within(from..to, from + 2 * i);
            b.buf[from + 2 * i - 2] = code;
            b.buf[from + 2 * i - 1] = len as u8;
        }
        b.pos += extra;
        Ok(b)
    }

    /// Back-patches the length; splits content over 255 bytes (RFC 3396).
    #[inline(always)]
    fn close(self) -> Result<&'s mut Builder<'b>, Error> {
        let n = self.b.pos - self.start - 2;
        match (u8::try_from(n), self.b.buf.get_mut(self.start + 1)) {
            (Ok(len), Some(slot)) => {
                *slot = len;
                Ok(self.b)
            }
            _ => self.split(),
        }
    }

    /// RFC 3396 split of an encapsulated option longer than 255 bytes.
    #[cold]
    fn split(self) -> Result<&'s mut Builder<'b>, Error> {
        let b = self.b;
        let start = self.start;
        let c0 = start + 2;
        let n = b.pos - c0;
        let parts = n.div_ceil(255);
        let extra = 2 * (parts - 1);
        if let Err(e) = b.reserve(extra) {
            b.pos = start;
            return Err(e);
        }
        let code = b.buf[start];
        for i in (0..parts).rev() {
            let len = (n - i * 255).min(255);
            let src = c0 + i * 255;
            b.buf.copy_within(src..src + len, c0 + i * 257);
        }
        for i in 0..parts {
            let len = (n - i * 255).min(255);
            b.buf[start + i * 257] = code;
            b.buf[start + i * 257 + 1] = len as u8;
        }
        b.pos += extra;
        Ok(b)
    }
}

/// The end of the RFC 3396 fragment that starts at `from` in `list` (a
/// sub-option list): as many whole sub-options as fit 255 bytes, a
/// trailing end sub-option kept with the one before it; 255 bytes of a
/// single sub-option too long for any fragment.
fn fragment_end(list: &[u8], from: usize) -> usize {
    let mut p = from;
    while p < list.len() {
        let next = sub_option_end(list, p);
        if next - from > 255 {
            break;
        }
        p = next;
    }
    if p == from {
        (from + 255).min(list.len())
    } else {
        p
    }
}

/// The end of the sub-option at `at` (pad and end are one byte), with an
/// end sub-option right after it included; never past `list`.
fn sub_option_end(list: &[u8], at: usize) -> usize {
    let end = match list.get(at) {
        Some(&(0 | 255)) | None => at + 1,
        Some(_) => at + 2 + list.get(at + 1).map_or(0, |&l| usize::from(l)),
    }
    .min(list.len());
    let glue_end = list.get(at).is_some_and(|&c| c != 255) && list.get(end) == Some(&255);
    if glue_end { end + 1 } else { end }
}

/// The bounds of fragment `n` of the sub-option list `list[from..]`.
fn nth_fragment(list: &[u8], from: usize, n: usize) -> (usize, usize) {
    let mut start = from;
    for _ in 0..n {
        start = fragment_end(list, start);
    }
    (start, fragment_end(list, start))
}

/// Writes the enterprise blocks of option 125; see
/// [`Builder::vendor_identifying`].
#[derive(Debug)]
pub struct ViBuilder<'v, 's, 'b> {
    sub: &'v mut SubBuilder<'s, 'b>,
}

impl<'s, 'b> ViBuilder<'_, 's, 'b> {
    /// Appends the block of IANA enterprise `number`: its 4-byte number,
    /// a length byte, then the sub-options `f` writes (at most 255 bytes).
    /// On error nothing of the block remains.
    #[inline]
    pub fn enterprise<F>(&mut self, number: u32, f: F) -> Result<&mut Self, Error>
    where
        F: FnOnce(&mut SubBuilder<'s, 'b>) -> Result<(), Error>,
    {
        let start = self.sub.b.pos;
        let res = self
            .sub
            .raw(&number.to_be_bytes())
            .and_then(|s| s.raw(&[0]))
            .and_then(f);
        // The five header bytes were written when `res` is Ok.
        let len = self.sub.b.pos.saturating_sub(start + 5);
        match res {
            Ok(()) if len <= 255 => {
                self.sub.b.buf[start + 4] = len as u8;
                Ok(self)
            }
            Ok(()) => {
                self.sub.b.pos = start;
                Err(Error::ValueTooLong {
                    field: "vendor-identifying block",
                    len,
                    max: 255,
                })
            }
            Err(e) => {
                self.sub.b.pos = start;
                Err(e)
            }
        }
    }
}
