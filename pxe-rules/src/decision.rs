//! The outcome of evaluating one request: a [`Decision`], structure
//! borrowed from the configuration and the request, never encoded bytes.
//!
//! What the rules decide is kept as the configuration lines and request
//! fields it comes from (which `dhcp-boot`, which options, which
//! `pxe-service` entries make the menu); [`crate::options`] views it as
//! typed options and [`crate::reply`] writes it with `pxe_dhcp`'s builder.

use core::net::Ipv4Addr;

use heapless::Vec;
use pxe_dhcp::pxe::{BootItem, DiscoveryControl};

use crate::config::{Boot, Config, Host, LeaseTime, PxeService, Range, Rule};
use crate::options::{OptionValue, PxeMenu, PxeVendor, RuleOption, SubOptionList, VendorOption};
use crate::tags::TagSet;

/// Most options a decision can list (beyond that, [`Decision::dropped`]).
pub const MAX_OPTIONS: usize = 64;
/// Most configuration lines the decision's sub-option groups and PXE menu
/// can name together (beyond that, [`Decision::dropped`]).
pub const MAX_ITEMS: usize = 256;

/// What the server should do with the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// A full DHCP reply (OFFER/ACK/... as the message type requires).
    Full,
    /// A proxyDHCP reply: OFFER for DISCOVER, ACK for REQUEST; `yiaddr`
    /// stays 0; only options 53, 54 and [`Decision::options`].
    Proxy,
    /// A PXE boot-server ACK (43 sub-option 71): `yiaddr = ciaddr`,
    /// `ciaddr = 0`, sent back to the requester's address and port.
    BootServer {
        /// Boot server type asked for.
        ty: u16,
        /// Layer asked for.
        layer: u16,
    },
    /// No reply.
    Ignore(IgnoreReason),
}

/// Why a request gets no reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IgnoreReason {
    /// A `dhcp-ignore` line matched.
    DhcpIgnore,
    /// The matching `dhcp-host` says `ignore`.
    HostIgnore,
    /// No `dhcp-range` for the arrival network holds for this client.
    NoRange,
    /// A proxy range exists but the request is not one proxy mode answers
    /// (not a PXE client, no option 93, not DISCOVER on 67 / DISCOVER or
    /// REQUEST on 4011, or PXE handling is off).
    ProxyNotApplicable,
    /// Port 4011 request without sub-option 71 and no proxy range.
    PxePortWithoutProxy,
    /// Boot-server request with the PXE BIS layer bit.
    PxeBisUnsupported,
    /// Boot-server request for a type no `pxe-service` with a basename has,
    /// or from an address outside every served range.
    NoBootService,
    /// Not a BOOTP request (`op` is not 1).
    NotARequest,
    /// BOOTP request without a reserved address (BOOTP is answered only
    /// for `dhcp-host` addresses or with `bootp-dynamic`; never by proxies).
    BootpNotServed,
}

/// A run of [`Decision`]'s item list: the configuration lines of one
/// sub-option group or of the PXE menu.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Span {
    start: u16,
    len: u16,
}

impl Span {
    /// Number of items.
    pub(crate) fn len(self) -> usize {
        usize::from(self.len)
    }

    /// Whether the span names no item.
    pub(crate) fn is_empty(self) -> bool {
        self.len == 0
    }
}

/// Option 43's PXE part, as stored.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Pxe {
    /// `pxe_opts`: discovery control, dnsmasq's own prompt (its timeout)
    /// when no `pxe-prompt` applies, and the menu's services.
    Menu {
        control: DiscoveryControl,
        prompt: Option<u8>,
        services: Span,
    },
    /// A boot-server reply echoes the request's sub-option 71.
    BootItem(BootItem),
}

/// One option of [`Decision::options`], as stored.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Entry<'a> {
    /// A top-level value; `local_at` lists the `0.0.0.0` placeholders.
    Value {
        code: u8,
        value: &'a [u8],
        local_at: &'a [u16],
    },
    /// `encap:N`: the lines of the group.
    Encap { code: u8, subs: Span },
    /// `vi-encap:E` (option 125): the lines of the block.
    ViEncap { enterprise: u32, subs: Span },
    /// Option 43: the PXE part, then `vendor:` and `pxe-prompt` lines.
    Vendor { pxe: Option<Pxe>, subs: Span },
}

/// A `file` or `sname` header value: borrowed, or composed when the rules
/// build it (a basename with its layer, a dotted server address).
#[derive(Clone, Copy)]
pub(crate) enum HeaderText<'a, const N: usize> {
    Borrowed(&'a [u8]),
    Composed { bytes: [u8; N], len: u8 },
}

impl<'a, const N: usize> HeaderText<'a, N> {
    /// `text` cut to the field, leaving room for its NUL.
    pub(crate) fn borrowed(text: &'a [u8]) -> Self {
        HeaderText::Borrowed(&text[..text.len().min(N - 1)])
    }

    /// `base.layer` (dnsmasq's `"%s.%d"`), the base cut so the suffix fits.
    pub(crate) fn with_layer(base: &[u8], layer: u16) -> Self {
        let mut suffix = Composer::<8>::new();
        let _ = core::fmt::Write::write_fmt(&mut suffix, format_args!(".{layer}"));
        let suffix = suffix.as_bytes();
        let base = &base[..base.len().min((N - 1).saturating_sub(suffix.len()))];
        let mut out = Composer::<N>::new();
        out.push(base);
        out.push(suffix);
        out.into_text()
    }

    /// The dotted form of `addr`.
    pub(crate) fn dotted(addr: Ipv4Addr) -> Self {
        let mut out = Composer::<N>::new();
        let _ = core::fmt::Write::write_fmt(&mut out, format_args!("{addr}"));
        out.into_text()
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        match self {
            HeaderText::Borrowed(b) => b,
            HeaderText::Composed { bytes, len } => &bytes[..usize::from(*len).min(N)],
        }
    }
}

/// Bytes composed on the stack, silently cut at `N - 1` (a header field
/// keeps its NUL).
struct Composer<const N: usize> {
    bytes: [u8; N],
    len: usize,
}

impl<const N: usize> Composer<N> {
    fn new() -> Self {
        Composer {
            bytes: [0; N],
            len: 0,
        }
    }
    fn push(&mut self, b: &[u8]) {
        let room = (N - 1).saturating_sub(self.len);
        let b = &b[..b.len().min(room)];
        self.bytes[self.len..self.len + b.len()].copy_from_slice(b);
        self.len += b.len();
    }
    fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
    fn into_text<'a, const M: usize>(self) -> HeaderText<'a, M> {
        let mut bytes = [0u8; M];
        let n = self.len.min(M - 1).min(255);
        bytes[..n].copy_from_slice(&self.bytes[..n]);
        HeaderText::Composed {
            bytes,
            len: n as u8,
        }
    }
}

impl<const N: usize> core::fmt::Write for Composer<N> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.push(s.as_bytes());
        Ok(())
    }
}

/// [`Decision::rule_indices`]: indices into [`Config::items`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RuleIndices {
    /// The `dhcp-range` used.
    pub range: Option<u32>,
    /// The `dhcp-boot` that supplied the file.
    pub boot: Option<u32>,
    /// The `pxe-service` that supplied the file.
    pub service: Option<u32>,
}

/// The outcome of evaluating one request: everything the server needs to
/// write the reply, as structure borrowed from the configuration and the
/// request (`'a`).
///
/// Read it with the accessors, or let [`Decision::write_reply`] write the
/// whole reply (see [`crate::reply`] for the rules it follows).
// `repr(C)` with the two vectors at either end: their unused capacity is
// never written, so a new decision initialises none of its 3.5 KiB of
// option and item slots — but with their zeroed lengths next to each other
// (as Rust's own field order had them) LLVM wrote one 2.5 KiB memset
// across the slots in between, more than the whole evaluation of a small
// configuration.
#[repr(C)]
pub struct Decision<'a> {
    items: Vec<u32, MAX_ITEMS>,
    pub(crate) config: &'a Config,
    pub(crate) verdict: Verdict,
    pub(crate) tags: TagSet,
    pub(crate) range: Option<u32>,
    pub(crate) host: Option<u32>,
    pub(crate) boot: Option<u32>,
    pub(crate) service: Option<u32>,
    pub(crate) pxe_vendor: Option<&'a str>,
    pub(crate) local: Ipv4Addr,
    pub(crate) siaddr: Ipv4Addr,
    pub(crate) siaddr_host: Option<&'a str>,
    pub(crate) file: Option<HeaderText<'a, 128>>,
    pub(crate) sname: Option<HeaderText<'a, 64>>,
    pub(crate) boot_opts: [Option<(u8, &'a [u8])>; 2],
    pub(crate) suppressed: [u64; 4],
    pub(crate) configured_t: [Option<&'a [u8]>; 2],
    pub(crate) dropped: u16,
    pub(crate) broadcast: bool,
    pub(crate) ignore_names: bool,
    pub(crate) generate_names: bool,
    pub(crate) delay: u32,
    pub(crate) uefi_workaround: bool,
    entries: Vec<Entry<'a>, MAX_OPTIONS>,
}

impl core::fmt::Debug for Decision<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Decision")
            .field("verdict", &self.verdict)
            .field("siaddr", &self.siaddr)
            .field("file", &self.file().map(crate::options::BStr))
            .field("sname", &self.sname().map(crate::options::BStr))
            .field(
                "boot_options",
                &OptsDbg(
                    self.boot_options()
                        .map(|(c, v)| (c, crate::options::BStr(v))),
                ),
            )
            .field("options", &OptsDbg(self.options()))
            .finish_non_exhaustive()
    }
}

/// Prints an iterator as a list (the decision's option lists).
struct OptsDbg<I>(I);

impl<I: Iterator + Clone> core::fmt::Debug for OptsDbg<I>
where
    I::Item: core::fmt::Debug,
{
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list().entries(self.0.clone()).finish()
    }
}

impl<'a> Decision<'a> {
    pub(crate) fn new(config: &'a Config, local: Ipv4Addr) -> Self {
        Self {
            config,
            verdict: Verdict::Ignore(IgnoreReason::NoRange),
            tags: TagSet::new(),
            range: None,
            host: None,
            boot: None,
            service: None,
            pxe_vendor: None,
            local,
            siaddr: Ipv4Addr::UNSPECIFIED,
            siaddr_host: None,
            file: None,
            sname: None,
            boot_opts: [None, None],
            entries: Vec::new(),
            items: Vec::new(),
            suppressed: [0; 4],
            configured_t: [None, None],
            dropped: 0,
            broadcast: false,
            ignore_names: false,
            generate_names: false,
            delay: 0,
            uefi_workaround: false,
        }
    }

    /// Appends an option; counted in [`Decision::dropped`] when full.
    pub(crate) fn push(&mut self, e: Entry<'a>) {
        if self.entries.push(e).is_err() {
            self.dropped += 1;
        }
    }

    /// Appends a plain value (no `0.0.0.0` placeholders).
    pub(crate) fn push_value(&mut self, code: u8, value: &'a [u8]) {
        self.push(Entry::Value {
            code,
            value,
            local_at: &[],
        });
    }

    /// Where the next item goes (the start of a span being filled).
    pub(crate) fn items_mark(&self) -> usize {
        self.items.len()
    }

    /// Appends a configuration line to the span being filled; false (and
    /// counted in [`Decision::dropped`]) when the item list is full.
    pub(crate) fn push_item(&mut self, item: u32) -> bool {
        let pushed = self.items.push(item).is_ok();
        if !pushed {
            self.dropped += 1;
        }
        pushed
    }

    /// Forgets the items pushed since `mark`.
    pub(crate) fn items_reset(&mut self, mark: usize) {
        self.items.truncate(mark);
    }

    /// The span of the items pushed since `mark`.
    pub(crate) fn items_since(&self, mark: usize) -> Span {
        let mark = mark.min(self.items.len());
        Span {
            start: mark as u16,
            len: (self.items.len() - mark) as u16,
        }
    }

    fn span(&self, s: Span) -> &[u32] {
        let start = usize::from(s.start);
        self.items
            .get(start..start + usize::from(s.len))
            .unwrap_or(&[])
    }

    fn sub_options(&self, s: Span) -> SubOptionList<'_> {
        SubOptionList::new(self.config, self.span(s))
    }

    fn view(&self, e: &Entry<'a>) -> RuleOption<'_> {
        match *e {
            Entry::Value {
                code,
                value,
                local_at,
            } => RuleOption::Value {
                code,
                value: OptionValue::new(value, local_at, self.local),
            },
            Entry::Encap { code, subs } => RuleOption::Encap {
                code,
                sub_options: self.sub_options(subs),
            },
            Entry::ViEncap { enterprise, subs } => RuleOption::ViEncap {
                enterprise,
                sub_options: self.sub_options(subs),
            },
            Entry::Vendor { pxe, subs } => RuleOption::Vendor(VendorOption {
                pxe: pxe.map(|p| match p {
                    Pxe::Menu {
                        control,
                        prompt,
                        services,
                    } => PxeVendor::Menu(PxeMenu::new(
                        control,
                        prompt,
                        self.config,
                        self.span(services),
                        self.local,
                    )),
                    Pxe::BootItem(item) => PxeVendor::BootItem(item),
                }),
                sub_options: self.sub_options(subs),
            }),
        }
    }

    /// What to do.
    pub fn verdict(&self) -> Verdict {
        self.verdict
    }

    /// The configuration this decision was made from.
    pub fn config(&self) -> &'a Config {
        self.config
    }

    /// The final tag set.
    pub fn tags(&self) -> &TagSet {
        &self.tags
    }

    /// The final tag names (for `log-dhcp`'s `tags:` line).
    pub fn tag_names(&self) -> impl Iterator<Item = &'a str> + '_ {
        let c = self.config;
        self.tags.iter().map(move |t| c.tag_name(t))
    }

    /// The `dhcp-range` used (full or proxy), if any.
    pub fn range(&self) -> Option<&'a Range> {
        match self.config.rule(self.range?) {
            Some(Rule::Range(r)) => Some(r),
            _ => None,
        }
    }

    /// The `dhcp-host` entry that matched this client, if any.
    pub fn host(&self) -> Option<&'a Host> {
        match self.config.rule(self.host?) {
            Some(Rule::Host(h)) => Some(h),
            _ => None,
        }
    }

    /// The `dhcp-boot` line chosen, if any.
    pub fn boot(&self) -> Option<&'a Boot> {
        match self.config.rule(self.boot?) {
            Some(Rule::Boot(b)) => Some(b),
            _ => None,
        }
    }

    /// The `pxe-service` that supplied the file (boot-server replies and
    /// the UEFI single-service workaround).
    pub fn service(&self) -> Option<&'a PxeService> {
        match self.config.rule(self.service?) {
            Some(Rule::Service(s)) => Some(s),
            _ => None,
        }
    }

    /// Where the lines behind the decision are in [`Config::items`]: the
    /// `dhcp-range` used, the `dhcp-boot` and the `pxe-service` that
    /// supplied the file (what [`range`](Self::range),
    /// [`boot`](Self::boot) and [`service`](Self::service) return), as
    /// indices — for a caller that keeps a reference to the line without
    /// searching the configuration for it.
    pub fn rule_indices(&self) -> RuleIndices {
        RuleIndices {
            range: self.range,
            boot: self.boot,
            service: self.service,
        }
    }

    /// The PXE vendor string the client matched (sent back as option 60).
    pub fn pxe_vendor(&self) -> Option<&'a str> {
        self.pxe_vendor
    }

    /// The server's address the decision was made for (`Context::local`):
    /// what `0.0.0.0` in a configured address option stands for.
    pub fn local(&self) -> Ipv4Addr {
        self.local
    }

    /// `siaddr` (next server) as the rules set it; see
    /// [`Decision::next_server`] for what a reply carries.
    pub fn siaddr(&self) -> Ipv4Addr {
        self.siaddr
    }

    /// A next-server given by name (the server resolves it from its hosts
    /// file; `siaddr` is then `0.0.0.0` until it does).
    pub fn siaddr_host(&self) -> Option<&'a str> {
        self.siaddr_host
    }

    /// The `file` header field (without NUL), if set.
    pub fn file(&self) -> Option<&[u8]> {
        self.file.as_ref().map(HeaderText::as_bytes)
    }

    /// The `sname` header field (without NUL), if set.
    pub fn sname(&self) -> Option<&[u8]> {
        self.sname.as_ref().map(HeaderText::as_bytes)
    }

    /// Options 66 and 67 from `dhcp-boot` (full DHCP only), as their text;
    /// they are written NUL-terminated, right after option 51.
    pub fn boot_options(&self) -> impl Iterator<Item = (u8, &'a [u8])> + Clone + '_ {
        self.boot_opts.iter().flatten().copied()
    }

    /// The rules' other options in dnsmasq's emission order, after the
    /// server's own (53, 54, 51, boot options, 58, 59 and the built-ins 1,
    /// 28, 3, 6, 15, 12): configured options, `encap:` outers, 125, PXE 60
    /// and 97, 43, echoed 60. Option 82 (relay echo) is the server's.
    pub fn options(&self) -> impl Iterator<Item = RuleOption<'_>> + Clone + '_ {
        self.entries.iter().map(|e| self.view(e))
    }

    /// The PXE menu of option 43, when the decision sends one.
    pub fn pxe_menu(&self) -> Option<PxeMenu<'_>> {
        self.options().find_map(|o| match o {
            RuleOption::Vendor(VendorOption {
                pxe: Some(PxeVendor::Menu(m)),
                ..
            }) => Some(m),
            _ => None,
        })
    }

    /// Whether a configured line replaces or suppresses the server's
    /// built-in value for `code` (1, 3, 6, 12, 15, 28).
    pub fn overrides_builtin(&self, code: u8) -> bool {
        self.suppressed[usize::from(code / 64)] & (1 << (code % 64)) != 0
    }

    /// Configured T1 (58) and T2 (59) values (4 bytes), if any line applies.
    pub fn configured_t1_t2(&self) -> (Option<&'a [u8]>, Option<&'a [u8]>) {
        (self.configured_t[0], self.configured_t[1])
    }

    /// Lease time: the host's, else the range's, else `None` (default).
    pub fn lease_time(&self) -> Option<LeaseTime> {
        self.host()
            .and_then(|h| h.lease)
            .or_else(|| self.range().and_then(|r| r.lease))
    }

    /// Whether a `dhcp-broadcast` line forces a broadcast reply.
    pub fn broadcast(&self) -> bool {
        self.broadcast
    }

    /// Whether a `dhcp-ignore-names` line drops the client's own host name
    /// (options 12 and 81) for this client.
    pub fn ignore_names(&self) -> bool {
        self.ignore_names
    }

    /// Whether a `dhcp-generate-names` line names a client that gives no
    /// name after its MAC address.
    pub fn generate_names(&self) -> bool {
        self.generate_names
    }

    /// `dhcp-reply-delay` seconds.
    pub fn reply_delay(&self) -> u32 {
        self.delay
    }

    /// Whether the UEFI single-service workaround applied (no PXE menu).
    pub fn uefi_workaround(&self) -> bool {
        self.uefi_workaround
    }

    /// Options (or lines of a group) that did not fit the decision's fixed
    /// lists ([`MAX_OPTIONS`], [`MAX_ITEMS`]; dnsmasq's "no space left in
    /// packet").
    pub fn dropped(&self) -> u16 {
        self.dropped
    }
}
