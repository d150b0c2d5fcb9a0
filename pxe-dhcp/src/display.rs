//! Human-readable `Display` and `Debug` of packets and of the typed option
//! views: the header, then every option by number, name ([`crate::names`])
//! and decoded value, with `core::fmt` only (no allocation).
//!
//! A value is decoded through its typed view when pxe-dhcp has one, and
//! printed as hex otherwise; a value its view rejects is printed as hex
//! followed by the reason, so a malformed packet still reads in full.
//! Option 43 is read as PXE sub-options only when option 60 says
//! `PXEClient` (for other vendors its contents are private). The
//! fragments of an RFC 3396 split option are printed one by one, in hex,
//! because joining them would need a buffer.
//!
//! ```
//! use pxe_dhcp::{Builder, MessageType, Packet, code};
//!
//! let mut buf = [0u8; 600];
//! let mut b = Builder::new(&mut buf)?;
//! b.xid(0x4b90e230).chaddr(1, &[0x52, 0x54, 0, 0xb0, 7, 1])?;
//! b.message_type(MessageType::Discover)?
//!     .option(code::CLIENT_ARCH, &[0, 0])?
//!     .option(code::VENDOR_CLASS, b"PXEClient:Arch:00000:UNDI:002001")?;
//! let n = b.finish()?;
//! let text = Packet::new_checked(&buf[..n])?.to_string();
//! assert!(text.starts_with("BOOTREQUEST xid=0x4b90e230 secs=0 flags=0x0000 hops=0\n"));
//! assert!(text.contains("\n  53 message-type: DISCOVER\n"));
//! assert!(text.contains("\n  93 client-arch: x86 BIOS (0)\n"));
//! assert!(text.ends_with("\n  60 vendor-class: \"PXEClient:Arch:00000:UNDI:002001\""));
//! # Ok::<(), pxe_dhcp::Error>(())
//! ```

use core::fmt::{self, Display, Formatter, Write};
use core::net::Ipv4Addr;

use crate::error::Error;
use crate::ipxe::{self, BusId, IpxeOptions};
use crate::names::{option_name, pxe_sub_name, relay_sub_name};
use crate::options::{RawOption, code};
use crate::packet::{Flags, Op, Packet, c_string};
use crate::pxe::{self, BootItem, BootMenu, BootServers, DiscoveryControl, MenuPrompt, PxeOptions};
use crate::relay::{self, RelayAgentInfo};
use crate::types::{
    ClientArchList, ClientId, ClientNdi, ClientUuid, Ipv4List, ParameterRequestList, UserClass,
    VendorClass,
};

// ---- byte renderings -------------------------------------------------

/// Bytes as a double-quoted string: printable ASCII as is, `"` and `\`
/// escaped, anything else as `\xNN` (so a trailing NUL shows).
struct Text<'a>(&'a [u8]);

impl Display for Text<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("\"")?;
        for &b in self.0 {
            match b {
                b'"' => f.write_str("\\\"")?,
                b'\\' => f.write_str("\\\\")?,
                0x20..=0x7e => f.write_char(char::from(b))?,
                _ => write!(f, "\\x{b:02x}")?,
            }
        }
        f.write_str("\"")
    }
}

/// Bytes as lower-case hex without separators; `(empty)` for none.
struct Hex<'a>(&'a [u8]);

impl Display for Hex<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(empty)");
        }
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

/// An identifier that may be text or binary (relay agent ids, client ids
/// that are not MACs): quoted when all printable, hex otherwise.
struct Opaque<'a>(&'a [u8]);

impl Display for Opaque<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if !self.0.is_empty() && self.0.iter().all(|b| (0x20..=0x7e).contains(b)) {
            Text(self.0).fmt(f)
        } else {
            Hex(self.0).fmt(f)
        }
    }
}

/// A hardware address: colon-separated hex bytes.
struct Mac<'a>(&'a [u8]);

impl Display for Mac<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// Items separated by `sep`.
fn join<I: Display>(
    f: &mut Formatter<'_>,
    items: impl Iterator<Item = I>,
    sep: &str,
) -> fmt::Result {
    for (i, item) in items.enumerate() {
        if i > 0 {
            f.write_str(sep)?;
        }
        item.fmt(f)?;
    }
    Ok(())
}

/// A value its typed view rejected: the bytes, then why.
fn bad(f: &mut Formatter<'_>, data: &[u8], e: Error) -> fmt::Result {
    write!(f, "{} (bad: {e})", Hex(data))
}

/// A value that must be exactly `N` bytes.
fn exact<const N: usize>(
    f: &mut Formatter<'_>,
    code: u8,
    data: &[u8],
    expected: &'static str,
    show: impl FnOnce(&mut Formatter<'_>, [u8; N]) -> fmt::Result,
) -> fmt::Result {
    match <[u8; N]>::try_from(data) {
        Ok(a) => show(f, a),
        Err(_) => bad(f, data, Error::bad_length(code, data.len(), expected)),
    }
}

/// Seconds, with `0xffffffff` shown as infinite (RFC 2131 lease time).
fn seconds(f: &mut Formatter<'_>, v: u32) -> fmt::Result {
    if v == u32::MAX {
        f.write_str("infinite")
    } else {
        write!(f, "{v} s")
    }
}

// ---- the packet ------------------------------------------------------

impl Display for Op {
    /// `BOOTREQUEST`, `BOOTREPLY`, or `op N`.
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Op::Request => f.write_str("BOOTREQUEST"),
            Op::Reply => f.write_str("BOOTREPLY"),
            Op::Unknown(v) => write!(f, "op {v}"),
        }
    }
}

/// `sname` or `file`: the text up to its NUL, or a note when option 52
/// moved options into it.
struct HeaderText<'a> {
    raw: &'a [u8],
    carries_options: bool,
}

impl Display for HeaderText<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if self.carries_options {
            f.write_str("(carries options)")
        } else {
            Text(c_string(self.raw)).fmt(f)
        }
    }
}

impl<T: AsRef<[u8]>> Packet<T> {
    fn sname_text(&self) -> HeaderText<'_> {
        HeaderText {
            raw: self.sname_raw(),
            carries_options: self.overload() & 2 != 0,
        }
    }

    fn file_text(&self) -> HeaderText<'_> {
        HeaderText {
            raw: self.file_raw(),
            carries_options: self.overload() & 1 != 0,
        }
    }

    /// Whether option 43 holds PXE sub-options: option 60 says `PXEClient`.
    fn is_pxe_vendor(&self) -> bool {
        self.option(code::VENDOR_CLASS)
            .is_some_and(|v| VendorClass::new(v).is_pxe_client())
    }

    /// One option, as its line in `Display` (and entry in `Debug`).
    fn option_line<'p>(&'p self, opt: RawOption<'p>) -> OptionLine<'p> {
        let fragment = if self.is_split(opt.code) {
            let mut index = 0;
            let mut count = 0;
            for part in self.fragments(opt.code) {
                count += 1;
                if core::ptr::eq(part, opt.data) {
                    index = count;
                }
            }
            Some((index, count))
        } else {
            None
        };
        OptionLine {
            opt,
            pxe_vendor: self.is_pxe_vendor(),
            fragment,
        }
    }
}

/// The header on three lines, then one line per option:
///
/// ```text
/// BOOTREPLY xid=0x4b90e230 secs=0 flags=0x8000 (broadcast) hops=0
///   chaddr=52:54:00:b0:07:01 ciaddr=0.0.0.0 yiaddr=0.0.0.0 siaddr=0.0.0.0 giaddr=0.0.0.0
///   sname="" file=""
///   53 message-type: OFFER
///   54 server-id: 192.168.2.1
///   43 vendor-encapsulated: [6 discovery-control: 8 (skip-discovery), 10 menu-prompt: timeout 0 "PXE"]
/// ```
///
/// `htype` and `hlen` are shown when they are not Ethernet's 1 and 6. A
/// framing error ends the list with an `options error:` line (see
/// [`Packet::new_lenient`]). There is no trailing newline.
impl<T: AsRef<[u8]>> Display for Packet<T> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let flags = self.flags();
        write!(
            f,
            "{} xid={:#010x} secs={} flags={:#06x}{} hops={}",
            self.op(),
            self.xid(),
            self.secs(),
            flags.bits(),
            if flags.contains(Flags::BROADCAST) {
                " (broadcast)"
            } else {
                ""
            },
            self.hops(),
        )?;
        write!(f, "\n  chaddr={}", Mac(self.chaddr()))?;
        if (self.htype(), self.hlen()) != (1, 6) {
            write!(f, " htype={} hlen={}", self.htype(), self.hlen())?;
        }
        write!(
            f,
            " ciaddr={} yiaddr={} siaddr={} giaddr={}",
            self.ciaddr(),
            self.yiaddr(),
            self.siaddr(),
            self.giaddr()
        )?;
        write!(
            f,
            "\n  sname={} file={}",
            self.sname_text(),
            self.file_text()
        )?;
        if !self.has_cookie() {
            return f.write_str("\n  (no magic cookie: plain BOOTP, no options)");
        }
        for opt in self.options() {
            match opt {
                Ok(o) => write!(f, "\n  {}", self.option_line(o))?,
                Err(e) => write!(f, "\n  options error: {e}")?,
            }
        }
        Ok(())
    }
}

/// The options of a packet as a `Debug` list of [`OptionLine`]s.
struct OptionList<'p, T: AsRef<[u8]>>(&'p Packet<T>);

impl<T: AsRef<[u8]>> fmt::Debug for OptionList<'_, T> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let p = self.0;
        f.debug_list()
            .entries(p.options().map(|o| match o {
                Ok(o) => Entry::Option(p.option_line(o)),
                Err(e) => Entry::Error(e),
            }))
            .finish()
    }
}

/// An entry of [`OptionList`]: an option's line or the framing error that
/// ended the list, both unquoted.
enum Entry<'a> {
    Option(OptionLine<'a>),
    Error(Error),
}

impl fmt::Debug for Entry<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Entry::Option(line) => line.fmt(f),
            Entry::Error(e) => write!(f, "options error: {e}"),
        }
    }
}

/// Like the `Display` form, as a struct: every
/// header field, then `options: [53 message-type: DISCOVER, ...]` (one
/// per line with `{:#?}`), and the tolerated framing error, if any.
impl<T: AsRef<[u8]>> fmt::Debug for Packet<T> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Packet");
        d.field("len", &self.as_bytes().len())
            .field("op", &self.op())
            .field("htype", &self.htype())
            .field("hlen", &self.hlen())
            .field("hops", &self.hops())
            .field("xid", &format_args!("{:#010x}", self.xid()))
            .field("secs", &self.secs())
            .field("flags", &format_args!("{:#06x}", self.flags().bits()))
            .field("ciaddr", &self.ciaddr())
            .field("yiaddr", &self.yiaddr())
            .field("siaddr", &self.siaddr())
            .field("giaddr", &self.giaddr())
            .field("chaddr", &format_args!("{}", Mac(self.chaddr())))
            .field("sname", &format_args!("{}", self.sname_text()))
            .field("file", &format_args!("{}", self.file_text()));
        if self.has_cookie() {
            d.field("options", &OptionList(self));
        } else {
            d.field("cookie", &false);
        }
        if let Some(e) = self.options_error() {
            d.field("options_error", &e);
        }
        d.finish()
    }
}

/// One option: `53 message-type: DISCOVER`, `224: 012c` for a code
/// without a name, `43 vendor-encapsulated (part 1 of 2): ...` for a
/// fragment of a split option.
struct OptionLine<'a> {
    opt: RawOption<'a>,
    pxe_vendor: bool,
    /// `(index, count)`, 1-based, when the option is split (RFC 3396).
    fragment: Option<(usize, usize)>,
}

impl Display for OptionLine<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let RawOption { code, data } = self.opt;
        write!(f, "{code}")?;
        if let Some(name) = option_name(code) {
            write!(f, " {name}")?;
        }
        if let Some((index, count)) = self.fragment {
            return write!(f, " (part {index} of {count}): {}", Hex(data));
        }
        f.write_str(": ")?;
        option_value(f, code, data, self.pxe_vendor)
    }
}

/// The value of option `code`, through its typed view where there is one.
fn option_value(f: &mut Formatter<'_>, code: u8, data: &[u8], pxe_vendor: bool) -> fmt::Result {
    if data.is_empty() {
        return f.write_str("(empty)");
    }
    let ipv4 = |f: &mut Formatter<'_>| {
        exact::<4>(f, code, data, "4 (an IPv4 address)", |f, a| {
            Ipv4Addr::from(a).fmt(f)
        })
    };
    let u32s = |f: &mut Formatter<'_>| {
        exact::<4>(f, code, data, "4 (seconds)", |f, a| {
            seconds(f, u32::from_be_bytes(a))
        })
    };
    let u16s =
        |f: &mut Formatter<'_>| exact::<2>(f, code, data, "2", |f, a| u16::from_be_bytes(a).fmt(f));
    let u8s = |f: &mut Formatter<'_>| exact::<1>(f, code, data, "1", |f, [v]| v.fmt(f));
    match code {
        code::MESSAGE_TYPE => exact::<1>(f, code, data, "1", |f, [v]| {
            crate::MessageType::from(v).fmt(f)
        }),
        1 | 16 | 28 | 32 | 50 | 54 | 118 => ipv4(f),
        3..=11 | 21 | 33 | 41 | 42 | 44 | 45 | 48 | 49 | 65 | 68..=76 | 85 | 89 | 92 | 150 => {
            match Ipv4List::parse(code, data) {
                Ok(l) => l.fmt(f),
                Err(e) => bad(f, data, e),
            }
        }
        2 => exact::<4>(f, code, data, "4 (seconds)", |f, a| {
            write!(f, "{} s", i32::from_be_bytes(a))
        }),
        24 | 35 | 38 | 51 | 58 | 59 | 91 | 211 => u32s(f),
        13 | 22 | 26 | 57 => u16s(f),
        19 | 20 | 23 | 27 | 29 | 30 | 31 | 34 | 36 | 37 | 39 | 46 | 116 => u8s(f),
        code::OVERLOAD => exact::<1>(f, code, data, "1", |f, [v]| {
            let areas = match v {
                1 => " (file)",
                2 => " (sname)",
                3 => " (file and sname)",
                _ => "",
            };
            write!(f, "{v}{areas}")
        }),
        code::PARAMETER_REQUEST_LIST => ParameterRequestList(data).fmt(f),
        code::VENDOR_CLASS => VendorClass::new(data).fmt(f),
        code::CLIENT_ID => view(f, data, ClientId::parse(data)),
        code::USER_CLASS => view(f, data, UserClass::parse(data)),
        code::CLIENT_ARCH => view(f, data, ClientArchList::parse(data)),
        code::CLIENT_NDI => view(f, data, ClientNdi::parse(data)),
        code::CLIENT_UUID => view(f, data, ClientUuid::parse(data)),
        code::VENDOR_SPECIFIC if pxe_vendor => view(f, data, PxeOptions::parse(data)),
        code::IPXE_ENCAP => view(f, data, IpxeOptions::parse(data)),
        code::RELAY_AGENT_INFO => view(f, data, RelayAgentInfo::parse(data)),
        12
        | 14
        | 15
        | 17
        | 18
        | 40
        | 47
        | 56
        | 62
        | 64
        | 66
        | 67
        | 86
        | 87
        | 100
        | 101
        | 114
        | 161
        | 201..=203
        | 209
        | 210
        | 252 => Text(data).fmt(f),
        _ => Hex(data).fmt(f),
    }
}

/// A typed view's `Display`, or the bytes and the reason it was refused.
fn view<V: Display>(f: &mut Formatter<'_>, data: &[u8], v: Result<V, Error>) -> fmt::Result {
    match v {
        Ok(v) => v.fmt(f),
        Err(e) => bad(f, data, e),
    }
}

// ---- typed views -----------------------------------------------------

/// The SMBIOS/GUID text of [`ClientUuid::guid_text`] (first three fields
/// little-endian), which is what iPXE's `${uuid}`, `dmidecode -s
/// system-uuid` and EDK2 print for the machine that sent it; a type byte
/// other than 0 is shown first (`type 5 ...`).
///
/// dnsmasq does not interpret option 97: its `log-dhcp` lines show the
/// raw value, type byte first (`00:1e:00:17:00:00:8c:ad:...`). The
/// big-endian reading of those bytes is [`ClientUuid::wire_text`].
impl Display for ClientUuid {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if self.kind != 0 {
            write!(f, "type {} ", self.kind)?;
        }
        self.guid_text().fmt(f)
    }
}

/// `ClientUuid(0017001e-8c00-00ad-5087-90e6ba2f3423)`: the text of its
/// `Display`.
impl fmt::Debug for ClientUuid {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "ClientUuid({self})")
    }
}

/// The architectures, comma-separated (`x64 UEFI (7)`).
impl Display for ClientArchList<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        join(f, self.iter(), ", ")
    }
}

/// `UNDI 3.0` for interface type 1, `type N major.minor` otherwise.
impl Display for ClientNdi {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self.kind {
            1 => write!(f, "UNDI {}.{}", self.major, self.minor),
            k => write!(f, "type {k} {}.{}", self.major, self.minor),
        }
    }
}

/// `type 1 52:54:00:b0:07:01` (the hardware type, then the identifier:
/// colon-separated for hardware types, text or hex for the others).
impl Display for ClientId<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "type {} ", self.kind())?;
        match self.kind() {
            0 | 255 => Opaque(self.id()).fmt(f),
            _ => Mac(self.id()).fmt(f),
        }
    }
}

/// The identifier as a quoted string (`"PXEClient:Arch:00000:UNDI:002001"`).
impl Display for VendorClass<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        Text(self.as_bytes()).fmt(f)
    }
}

/// The bare class quoted (`"iPXE"`), or the RFC 3004 list in brackets
/// (`["a", "b"]`).
impl Display for UserClass<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if !self.is_rfc3004() {
            return Text(self.as_bytes()).fmt(f);
        }
        f.write_str("[")?;
        join(f, self.classes().map(Text), ", ")?;
        f.write_str("]")
    }
}

/// The requested codes, space-separated (`1 3 6 43 60 66 67`).
impl Display for ParameterRequestList<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        join(f, self.codes().iter(), " ")
    }
}

/// The addresses, comma-separated.
impl Display for Ipv4List<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        join(f, self.iter(), ", ")
    }
}

// ---- option 43 (PXE) -------------------------------------------------

/// The value and the bits by name: `8 (skip-discovery)`,
/// `3 (no-broadcast, no-multicast)`; reserved bits as `0x..`.
impl Display for DiscoveryControl {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        const NAMES: [(DiscoveryControl, &str); 4] = [
            (DiscoveryControl::NO_BROADCAST, "no-broadcast"),
            (DiscoveryControl::NO_MULTICAST, "no-multicast"),
            (DiscoveryControl::ONLY_LISTED, "only-listed"),
            (DiscoveryControl::SKIP_DISCOVERY, "skip-discovery"),
        ];
        let bits = self.bits();
        write!(f, "{bits}")?;
        if bits == 0 {
            return Ok(());
        }
        let reserved = bits & 0xf0;
        let named = NAMES.iter().filter(|(flag, _)| self.contains(*flag));
        f.write_str(" (")?;
        join(f, named.map(|(_, name)| *name), ", ")?;
        if reserved != 0 {
            if bits & 0x0f != 0 {
                f.write_str(", ")?;
            }
            write!(f, "{reserved:#04x}")?;
        }
        f.write_str(")")
    }
}

/// `type 0x8000 layer 0` (the layer without its credentials bit 15,
/// which shows as `, credentials`).
impl Display for BootItem {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "type {:#06x} layer {}", self.kind, self.layer & 0x7fff)?;
        if self.layer & 0x8000 != 0 {
            f.write_str(", credentials")?;
        }
        Ok(())
    }
}

/// `timeout 10 "Press F8"`.
impl Display for MenuPrompt<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "timeout {} {}", self.timeout, Text(self.prompt))
    }
}

/// `[0x8000 "Install Linux", 0x0000 "Local disk"]`.
impl Display for BootMenu<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, item) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{:#06x} {}", item.kind, Text(item.description))?;
        }
        f.write_str("]")
    }
}

/// `[0x8000: 192.168.2.1, 0x8001: 10.0.0.1 10.0.0.2]`.
impl Display for BootServers<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, server) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{:#06x}:", server.kind)?;
            for a in server.addresses() {
                write!(f, " {a}")?;
            }
        }
        f.write_str("]")
    }
}

/// `[6 discovery-control: 8 (skip-discovery), 10 menu-prompt: timeout 0 "PXE"]`.
impl Display for PxeOptions<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        sub_list(f, self.iter(), pxe_sub_name, pxe_sub_value)
    }
}

fn pxe_sub_value(f: &mut Formatter<'_>, code: u8, d: &[u8]) -> fmt::Result {
    use pxe::sub;
    match code {
        sub::MTFTP_IP | sub::DISCOVERY_MCAST_ADDR => {
            exact::<4>(f, code, d, "4 (an IPv4 address)", |f, a| {
                Ipv4Addr::from(a).fmt(f)
            })
        }
        sub::MTFTP_CPORT | sub::MTFTP_SPORT => {
            exact::<2>(f, code, d, "2", |f, a| u16::from_be_bytes(a).fmt(f))
        }
        sub::MTFTP_TMOUT | sub::MTFTP_DELAY => {
            exact::<1>(f, code, d, "1", |f, [v]| write!(f, "{v} s"))
        }
        sub::DISCOVERY_CONTROL => exact::<1>(f, code, d, "1", |f, [v]| {
            DiscoveryControl::from_bits_retain(v).fmt(f)
        }),
        sub::BOOT_SERVERS => view(f, d, BootServers::parse(d)),
        sub::BOOT_MENU => view(f, d, BootMenu::parse(d)),
        sub::MENU_PROMPT => view(f, d, MenuPrompt::parse(d)),
        sub::BOOT_ITEM => view(f, d, BootItem::parse(d)),
        _ => Hex(d).fmt(f),
    }
}

/// Sub-options in brackets, each `code name: value` (no name: `code: hex`).
fn sub_list<'a>(
    f: &mut Formatter<'_>,
    subs: impl Iterator<Item = Result<RawOption<'a>, Error>>,
    name: fn(u8) -> Option<&'static str>,
    value: fn(&mut Formatter<'_>, u8, &[u8]) -> fmt::Result,
) -> fmt::Result {
    f.write_str("[")?;
    for (i, sub) in subs.enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        match sub {
            Ok(RawOption { code, data }) => {
                write!(f, "{code}")?;
                if let Some(n) = name(code) {
                    write!(f, " {n}")?;
                }
                f.write_str(": ")?;
                value(f, code, data)?;
            }
            // Views are validated before they are shown, so this is only
            // reached through a hand-made iterator; say so rather than hide it.
            Err(e) => write!(f, "error: {e}")?,
        }
    }
    f.write_str("]")
}

// ---- option 175 (iPXE) -----------------------------------------------

/// `PCI 8086:100e` (bus types 1–5 by name, others as `bus N`).
impl Display for BusId {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self.bus_type {
            1 => f.write_str("PCI")?,
            2 => f.write_str("ISAPnP")?,
            3 => f.write_str("EISA")?,
            4 => f.write_str("MCA")?,
            5 => f.write_str("ISA")?,
            t => write!(f, "bus {t}")?,
        }
        write!(f, " {:04x}:{:04x}", self.vendor, self.device)
    }
}

/// `[177 bus-id: PCI 8086:100e, 235 version: 1.0.0, 23 dns: 1, ...]`;
/// passwords are not shown, only their length.
impl Display for IpxeOptions<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        sub_list(f, self.iter(), ipxe::sub_name, ipxe_sub_value)
    }
}

fn ipxe_sub_value(f: &mut Formatter<'_>, code: u8, d: &[u8]) -> fmt::Result {
    use ipxe::sub;
    match code {
        sub::VERSION => exact::<3>(f, code, d, "3 (major, minor, patch)", |f, [a, b, c]| {
            write!(f, "{a}.{b}.{c}")
        }),
        sub::BUS_ID => exact::<5>(f, code, d, "5 (bus type, vendor, device)", |f, a| {
            BusId {
                bus_type: a[0],
                vendor: u16::from_be_bytes([a[1], a[2]]),
                device: u16::from_be_bytes([a[3], a[4]]),
            }
            .fmt(f)
        }),
        sub::PRIORITY => exact::<1>(f, code, d, "1", |f, [v]| (v as i8).fmt(f)),
        sub::FEATURE_FIRST..=sub::FEATURE_LAST
        | sub::KEEP_SAN
        | sub::SKIP_SAN_BOOT
        | sub::NO_PXEDHCP
        | sub::USE_CACHED
        | sub::SAN_RETRY
        | sub::SAN_DRIVE => exact::<1>(f, code, d, "1", |f, [v]| v.fmt(f)),
        sub::UID | sub::GID => exact::<4>(f, code, d, "4", |f, a| u32::from_be_bytes(a).fmt(f)),
        sub::PASSWORD | sub::REVERSE_PASSWORD => write!(f, "({} bytes, not shown)", d.len()),
        sub::SCRIPTLET
        | sub::SYSLOGS
        | sub::CERT
        | sub::PRIVKEY
        | sub::CROSSCERT
        | sub::SAN_FILENAME
        | sub::USERNAME
        | sub::REVERSE_USERNAME => Text(d).fmt(f),
        _ => Hex(d).fmt(f),
    }
}

// ---- option 82 (relay agent) -----------------------------------------

/// `[1 circuit-id: "eth0/1", 2 remote-id: 001122334455]`.
impl Display for RelayAgentInfo<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        sub_list(f, self.iter(), relay_sub_name, relay_sub_value)
    }
}

fn relay_sub_value(f: &mut Formatter<'_>, code: u8, d: &[u8]) -> fmt::Result {
    use relay::sub;
    match code {
        sub::LINK_SELECTION | sub::SERVER_ID_OVERRIDE => {
            exact::<4>(f, code, d, "4 (an IPv4 address)", |f, a| {
                Ipv4Addr::from(a).fmt(f)
            })
        }
        _ => Opaque(d).fmt(f),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::ClientArch;

    /// Formats into a fixed buffer (the crate has no `alloc` here).
    struct Buf {
        bytes: [u8; 512],
        len: usize,
    }

    impl fmt::Write for Buf {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            let end = self.len + s.len();
            let dst = self.bytes.get_mut(self.len..end).ok_or(fmt::Error)?;
            dst.copy_from_slice(s.as_bytes());
            self.len = end;
            Ok(())
        }
    }

    fn show(v: impl Display) -> Buf {
        let mut b = Buf {
            bytes: [0; 512],
            len: 0,
        };
        fmt::write(&mut b, format_args!("{v}")).unwrap_or_else(|_| unreachable!());
        b
    }

    fn eq(v: impl Display, want: &str) {
        let b = show(v);
        assert_eq!(core::str::from_utf8(&b.bytes[..b.len]), Ok(want));
    }

    #[test]
    fn text_escapes_quotes_backslashes_and_binary() {
        eq(Text(b"a\"b\\c\x00\xff"), "\"a\\\"b\\\\c\\x00\\xff\"");
        eq(Opaque(b"eth0"), "\"eth0\"");
        eq(Opaque(&[0, 1]), "0001");
        eq(Hex(&[]), "(empty)");
    }

    #[test]
    fn discovery_control_names_bits() {
        eq(DiscoveryControl::SKIP_DISCOVERY, "8 (skip-discovery)");
        eq(
            DiscoveryControl::from_bits_retain(3),
            "3 (no-broadcast, no-multicast)",
        );
        eq(
            DiscoveryControl::from_bits_retain(0x18),
            "24 (skip-discovery, 0x10)",
        );
        eq(DiscoveryControl::from_bits_retain(0x20), "32 (0x20)");
        eq(DiscoveryControl::empty(), "0");
    }

    #[test]
    fn typed_views() {
        eq(ClientArch(7), "x64 UEFI (7)");
        eq(
            ClientNdi {
                kind: 1,
                major: 2,
                minor: 1,
            },
            "UNDI 2.1",
        );
        eq(
            BootItem {
                kind: 0x8000,
                layer: 0x8001,
            },
            "type 0x8000 layer 1, credentials",
        );
        let uuid = ClientUuid::parse(&[
            0, 0x1e, 0, 0x17, 0, 0, 0x8c, 0xad, 0, 0x50, 0x87, 0x90, 0xe6, 0xba, 0x2f, 0x34, 0x23,
        ]);
        let Ok(uuid) = uuid else { unreachable!() };
        eq(uuid, "0017001e-8c00-00ad-5087-90e6ba2f3423");
        eq(
            format_args!("{uuid:?}"),
            "ClientUuid(0017001e-8c00-00ad-5087-90e6ba2f3423)",
        );
        eq(
            ClientUuid {
                kind: 2,
                bytes: [0; 16],
            },
            "type 2 00000000-0000-0000-0000-000000000000",
        );
    }

    #[test]
    fn bad_values_show_bytes_and_reason() {
        struct V<'a>(u8, &'a [u8]);
        impl Display for V<'_> {
            fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
                option_value(f, self.0, self.1, true)
            }
        }
        eq(
            V(53, &[1, 2]),
            "0102 (bad: option 53 is 2 bytes long, expected 1)",
        );
        eq(
            V(43, &[6, 5, 1]),
            "060501 (bad: sub-option 6 of option 43 at offset 0 claims 5 bytes but only 1 remain)",
        );
        eq(V(224, &[1, 44]), "012c");
        eq(V(80, &[]), "(empty)");
        eq(V(51, &[0xff; 4]), "infinite");
    }
}
