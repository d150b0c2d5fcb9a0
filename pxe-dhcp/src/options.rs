//! Option codes, the allocation-free option iterator and sub-option lists.

use crate::error::{Area, Error};
use crate::packet::field;

/// Option codes (RFC 2132 and later) that matter to network booting.
pub mod code {
    /// Pad (no length byte).
    pub const PAD: u8 = 0;
    /// Subnet mask.
    pub const SUBNET_MASK: u8 = 1;
    /// Routers (list of IPv4).
    pub const ROUTER: u8 = 3;
    /// Domain name servers (list of IPv4).
    pub const DNS_SERVERS: u8 = 6;
    /// Log servers (list of IPv4).
    pub const LOG_SERVERS: u8 = 7;
    /// Host name (text).
    pub const HOST_NAME: u8 = 12;
    /// Domain name (text).
    pub const DOMAIN_NAME: u8 = 15;
    /// Root path (text).
    pub const ROOT_PATH: u8 = 17;
    /// Interface MTU.
    pub const INTERFACE_MTU: u8 = 26;
    /// Broadcast address.
    pub const BROADCAST: u8 = 28;
    /// NTP servers (list of IPv4).
    pub const NTP_SERVERS: u8 = 42;
    /// Vendor-specific information; for `PXEClient` the PXE sub-options.
    pub const VENDOR_SPECIFIC: u8 = 43;
    /// Requested IP address.
    pub const REQUESTED_IP: u8 = 50;
    /// IP address lease time (seconds).
    pub const LEASE_TIME: u8 = 51;
    /// Option overload: options continue in `file` (1), `sname` (2) or both (3).
    pub const OVERLOAD: u8 = 52;
    /// DHCP message type.
    pub const MESSAGE_TYPE: u8 = 53;
    /// Server identifier.
    pub const SERVER_ID: u8 = 54;
    /// Parameter request list.
    pub const PARAMETER_REQUEST_LIST: u8 = 55;
    /// Message (text, e.g. in a DHCPNAK).
    pub const MESSAGE: u8 = 56;
    /// Maximum DHCP message size the client accepts.
    pub const MAX_MESSAGE_SIZE: u8 = 57;
    /// Renewal (T1) time.
    pub const RENEWAL_TIME: u8 = 58;
    /// Rebinding (T2) time.
    pub const REBINDING_TIME: u8 = 59;
    /// Vendor class identifier (`PXEClient:Arch:...`).
    pub const VENDOR_CLASS: u8 = 60;
    /// Client identifier.
    pub const CLIENT_ID: u8 = 61;
    /// TFTP server name (text).
    pub const TFTP_SERVER_NAME: u8 = 66;
    /// Boot file name (text).
    pub const BOOTFILE_NAME: u8 = 67;
    /// User class (RFC 3004, or iPXE's bare string).
    pub const USER_CLASS: u8 = 77;
    /// Relay agent information (RFC 3046).
    pub const RELAY_AGENT_INFO: u8 = 82;
    /// Client system architecture (RFC 4578).
    pub const CLIENT_ARCH: u8 = 93;
    /// Client network device interface (RFC 4578).
    pub const CLIENT_NDI: u8 = 94;
    /// Client machine identifier / UUID (RFC 4578).
    pub const CLIENT_UUID: u8 = 97;
    /// Domain search list (RFC 3397).
    pub const DOMAIN_SEARCH: u8 = 119;
    /// Classless static routes (RFC 3442).
    pub const CLASSLESS_ROUTES: u8 = 121;
    /// Vendor-identifying vendor class (RFC 3925): enterprise blocks of
    /// counted strings.
    pub const VI_VENDOR_CLASS: u8 = 124;
    /// Vendor-identifying vendor-specific information (RFC 3925):
    /// enterprise blocks of sub-options.
    pub const VI_VENDOR_INFO: u8 = 125;
    /// iPXE (Etherboot) encapsulated options.
    pub const IPXE_ENCAP: u8 = 175;
    /// iSCSI primary target IQN (iPXE).
    pub const ISCSI_PRIMARY_TARGET: u8 = 201;
    /// iSCSI secondary target IQN (iPXE).
    pub const ISCSI_SECONDARY_TARGET: u8 = 202;
    /// iSCSI initiator IQN (iPXE).
    pub const ISCSI_INITIATOR_IQN: u8 = 203;
    /// PXELINUX magic `F1:00:74:7E` (RFC 5071, deprecated).
    pub const PXELINUX_MAGIC: u8 = 208;
    /// PXELINUX configuration file (RFC 5071).
    pub const PXELINUX_CONFIGFILE: u8 = 209;
    /// PXELINUX path prefix (RFC 5071).
    pub const PXELINUX_PATHPREFIX: u8 = 210;
    /// PXELINUX reboot time (RFC 5071).
    pub const PXELINUX_REBOOTTIME: u8 = 211;
    /// End of options (no length byte).
    pub const END: u8 = 255;
}

/// One option as it appears on the wire: its code and borrowed value.
///
/// For an option split per RFC 3396 this is one fragment; see
/// [`crate::Packet::fragments`] and [`crate::Packet::option_concat`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RawOption<'a> {
    /// Option code (never 0 or 255).
    pub code: u8,
    /// Option value, without the code and length bytes.
    pub data: &'a [u8],
}

/// Iterator over the options of a packet, following option 52 into `file`
/// then `sname`.
///
/// Pad options are skipped; an end option ends the current area. A
/// truncated or overrunning option, or a malformed option 52, yields one
/// `Err` naming the code and offset, after which the iterator is finished.
/// It never allocates.
#[derive(Debug, Clone)]
pub struct Options<'a> {
    buf: &'a [u8],
    pos: usize,
    end: usize,
    area: Area,
    overload: u8,
    done: bool,
}

impl<'a> Options<'a> {
    /// Iterates over the options of `packet` (a whole BOOTP message).
    /// `options_start` is where the options area begins (after the cookie),
    /// or `None` for a plain BOOTP packet without options.
    #[inline]
    pub(crate) fn new(packet: &'a [u8], options_start: Option<usize>) -> Self {
        match options_start {
            Some(start) => Options {
                buf: packet,
                pos: start,
                end: packet.len(),
                area: Area::Options,
                overload: 0,
                done: false,
            },
            None => Options {
                buf: packet,
                pos: 0,
                end: 0,
                area: Area::Options,
                overload: 0,
                done: true,
            },
        }
    }

    /// The area the iterator is currently reading.
    #[inline]
    pub fn area(&self) -> Area {
        self.area
    }

    /// The overload value seen so far (0 if option 52 has not been met).
    #[inline]
    pub fn overload(&self) -> u8 {
        self.overload
    }

    /// Moves to the next area per the overload value; false when done.
    #[inline]
    fn next_area(&mut self) -> bool {
        let next = match self.area {
            Area::Options if self.overload & 1 != 0 => Some((Area::File, field::FILE)),
            Area::Options | Area::File if self.overload & 2 != 0 => {
                Some((Area::Sname, field::SNAME))
            }
            _ => None,
        };
        match next {
            Some((area, range)) if range.end <= self.buf.len() => {
                self.area = area;
                self.pos = range.start;
                self.end = range.end;
                true
            }
            _ => {
                self.done = true;
                false
            }
        }
    }

    #[inline]
    fn fail(&mut self, e: Error) -> Option<Result<RawOption<'a>, Error>> {
        self.done = true;
        Some(Err(e))
    }
}

impl<'a> Iterator for Options<'a> {
    type Item = Result<RawOption<'a>, Error>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        loop {
            let Some(&code) = self.buf.get(self.pos).filter(|_| self.pos < self.end) else {
                if self.next_area() {
                    continue;
                }
                return None;
            };
            if code == code::PAD {
                self.pos += 1;
                continue;
            }
            if code == code::END {
                if self.next_area() {
                    continue;
                }
                return None;
            }
            let offset = self.pos;
            let Some(&len) = self.buf.get(offset + 1).filter(|_| offset + 1 < self.end) else {
                let area = self.area;
                return self.fail(Error::MissingLength { code, offset, area });
            };
            let start = offset + 2;
            let stop = start + len as usize;
            if stop > self.end {
                let (area, available) = (self.area, self.end - start);
                return self.fail(Error::Overrun {
                    code,
                    offset,
                    area,
                    len,
                    available,
                });
            }
            let data = &self.buf[start..stop];
            if code == code::OVERLOAD && self.area == Area::Options {
                match data {
                    // Every option 52 must be valid; the first one decides.
                    [v @ 1..=3] if self.overload == 0 => self.overload = *v,
                    [1..=3] => {}
                    _ => {
                        let value = data.first().copied().unwrap_or(0);
                        return self.fail(Error::BadOverload { offset, len, value });
                    }
                }
            }
            self.pos = stop;
            return Some(Ok(RawOption { code, data }));
        }
    }
}

impl core::iter::FusedIterator for Options<'_> {}

/// Iterator over the values of every occurrence of one option code, in wire
/// order (options, then `file`, then `sname`): the fragments of an RFC 3396
/// split option. Stops silently at a framing error (the packet's
/// constructor reports those).
#[derive(Debug, Clone)]
pub struct Fragments<'a> {
    pub(crate) inner: Options<'a>,
    pub(crate) code: u8,
}

impl<'a> Iterator for Fragments<'a> {
    type Item = &'a [u8];

    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        for opt in self.inner.by_ref() {
            match opt {
                Ok(o) if o.code == self.code => return Some(o.data),
                Ok(_) => {}
                Err(_) => return None,
            }
        }
        None
    }
}

impl core::iter::FusedIterator for Fragments<'_> {}

/// Iterator over a list of sub-options inside an encapsulated option
/// (43 PXE, 175 iPXE, 82 relay agent, ...).
///
/// With `pad_end` (the DHCP convention used by 43 and 175), code 0 is
/// skipped and code 255 ends the list; without it (RFC 3046 for option
/// 82) every code is a TLV. Errors carry the parent code and the offset
/// inside the parent's value; the iterator stops after one.
#[derive(Debug, Clone)]
pub struct SubOptions<'a> {
    data: &'a [u8],
    pos: usize,
    parent: u8,
    pad_end: bool,
}

impl<'a> SubOptions<'a> {
    /// Iterates the sub-options in `data`, the value of option `parent`.
    #[inline]
    pub fn new(parent: u8, data: &'a [u8], pad_end: bool) -> Self {
        SubOptions {
            data,
            pos: 0,
            parent,
            pad_end,
        }
    }

    /// First sub-option with `code`, ignoring anything after a framing error.
    #[inline]
    pub fn find(&self, code: u8) -> Option<&'a [u8]> {
        self.find_at_least(code, 0)
    }

    /// Checks the framing of the whole list.
    #[inline]
    pub fn validate(&self) -> Result<(), Error> {
        self.clone().try_for_each(|o| o.map(|_| ()))
    }
}

impl<'a> Iterator for SubOptions<'a> {
    type Item = Result<RawOption<'a>, Error>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let &code = self.data.get(self.pos)?;
            if self.pad_end && code == 0 {
                self.pos += 1;
                continue;
            }
            if self.pad_end && code == 255 {
                self.pos = self.data.len();
                return None;
            }
            let offset = self.pos;
            let parent = self.parent;
            let Some(&len) = self.data.get(offset + 1) else {
                self.pos = self.data.len();
                return Some(Err(Error::SubOverrun {
                    parent,
                    code,
                    offset,
                    len: 0,
                    available: 0,
                }));
            };
            let start = offset + 2;
            let stop = start + len as usize;
            if stop > self.data.len() {
                let available = self.data.len() - start;
                self.pos = self.data.len();
                return Some(Err(Error::SubOverrun {
                    parent,
                    code,
                    offset,
                    len,
                    available,
                }));
            }
            self.pos = stop;
            return Some(Ok(RawOption {
                code,
                data: &self.data[start..stop],
            }));
        }
    }
}

impl core::iter::FusedIterator for SubOptions<'_> {}
