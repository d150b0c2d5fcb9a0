//! The options a [`Decision`](crate::Decision) puts in a reply, as typed
//! structure borrowed from the configuration and the request, and how
//! `pxe_dhcp`'s builder writes each of them.
//!
//! Nothing here encodes DHCP by hand: a [`RuleOption`] is written with
//! [`Builder::option_parts`], [`Builder::encap_options`] (dnsmasq's
//! `encap:`/`vendor:` layout, RFC 3396 splitting between sub-options) or
//! [`Builder::vendor_identifying`] (option 125), and the PXE menu with the
//! [`SubBuilder`] methods for sub-options 6, 8, 9, 10 and 71.

use core::net::Ipv4Addr;

use pxe_dhcp::pxe::{BootItem, DiscoveryControl, MenuItem, MenuPrompt};
use pxe_dhcp::{Builder, RawOption, SubBuilder, code};

use crate::config::{Config, PxeService, Rule, ServerRef};

/// Bytes printed as text with escapes (debug output of option values).
pub(crate) struct BStr<'a>(pub(crate) &'a [u8]);

impl core::fmt::Debug for BStr<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("\"")?;
        for b in self.0 {
            if b.is_ascii_graphic() || *b == b' ' {
                write!(f, "{}", *b as char)?;
            } else {
                write!(f, "\\x{b:02x}")?;
            }
        }
        f.write_str("\"")
    }
}

/// One option the rules decided, in dnsmasq's emission order.
#[derive(Debug, Clone, Copy)]
pub enum RuleOption<'d> {
    /// A top-level option: a configured value (NUL-terminated where
    /// dnsmasq terminates it), the PXE vendor string (60), or a value
    /// echoed from the request (97, 60).
    Value {
        /// Option code.
        code: u8,
        /// The value.
        value: OptionValue<'d>,
    },
    /// An `encap:N` option: the sub-options of the lines that qualify, in
    /// list order, followed by an end sub-option.
    Encap {
        /// The outer option code `N`.
        code: u8,
        /// The sub-options.
        sub_options: SubOptionList<'d>,
    },
    /// One option 125 (`vi-encap:E`): the block of enterprise `E` with the
    /// sub-options of its qualifying lines (dnsmasq sends one option 125
    /// per enterprise).
    ViEncap {
        /// IANA enterprise number.
        enterprise: u32,
        /// The block's sub-options.
        sub_options: SubOptionList<'d>,
    },
    /// Option 43.
    Vendor(VendorOption<'d>),
}

impl RuleOption<'_> {
    /// The option code on the wire.
    pub fn code(&self) -> u8 {
        match self {
            RuleOption::Value { code, .. } | RuleOption::Encap { code, .. } => *code,
            RuleOption::ViEncap { .. } => code::VI_VENDOR_INFO,
            RuleOption::Vendor(_) => code::VENDOR_SPECIFIC,
        }
    }

    /// Appends the option to `b` (an end sub-option closes `encap:` and
    /// 43 lists; RFC 3396 splitting is the builder's).
    pub fn write(&self, b: &mut Builder<'_>) -> Result<(), pxe_dhcp::Error> {
        match self {
            RuleOption::Value { code, value } => {
                b.option_parts(*code, value.parts())?;
            }
            RuleOption::Encap { code, sub_options } => {
                b.encap_options(*code, |s| {
                    sub_options.write(s)?;
                    s.end()?;
                    Ok(())
                })?;
            }
            RuleOption::ViEncap {
                enterprise,
                sub_options,
            } => {
                b.vendor_identifying(|vi| {
                    vi.enterprise(*enterprise, |s| sub_options.write(s))?;
                    Ok(())
                })?;
            }
            RuleOption::Vendor(v) => {
                b.encap_options(code::VENDOR_SPECIFIC, |s| v.write(s))?;
            }
        }
        Ok(())
    }
}

/// A top-level option value, with the server's own address spliced in
/// where a configured address list says `0.0.0.0` (dnsmasq sends `local`
/// there in top-level options).
#[derive(Clone, Copy)]
pub struct OptionValue<'d> {
    bytes: &'d [u8],
    local_at: &'d [u16],
    local: [u8; 4],
}

impl core::fmt::Debug for OptionValue<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list().entries(self.parts().map(BStr)).finish()
    }
}

impl<'d> OptionValue<'d> {
    pub(crate) fn new(bytes: &'d [u8], local_at: &'d [u16], local: Ipv4Addr) -> Self {
        OptionValue {
            bytes,
            local_at,
            local: local.octets(),
        }
    }

    /// The value as configured (or echoed), before any address is spliced in.
    pub fn configured(&self) -> &'d [u8] {
        self.bytes
    }

    /// Byte offsets of the `0.0.0.0` placeholders that become the server's
    /// address on the wire.
    pub fn local_at(&self) -> &'d [u16] {
        self.local_at
    }

    /// Length on the wire.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether the value is empty (an option with no value).
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The value on the wire, in pieces: configured bytes, and the
    /// server's address at each placeholder.
    pub fn parts(&self) -> impl Iterator<Item = &[u8]> + Clone + '_ {
        Parts {
            bytes: self.bytes,
            local: &self.local,
            at: self.local_at.iter(),
            pos: 0,
            local_next: false,
        }
    }
}

/// The pieces of an [`OptionValue`] on the wire.
#[derive(Clone)]
struct Parts<'v> {
    bytes: &'v [u8],
    local: &'v [u8; 4],
    at: core::slice::Iter<'v, u16>,
    /// Start of the configured bytes not yet yielded (past the end: done).
    pos: usize,
    local_next: bool,
}

impl<'v> Iterator for Parts<'v> {
    type Item = &'v [u8];

    fn next(&mut self) -> Option<&'v [u8]> {
        if self.local_next {
            self.local_next = false;
            return Some(self.local);
        }
        // Placeholders are 4-byte elements in ascending order; one that
        // does not fit the value is ignored rather than trusted.
        for &a in self.at.by_ref() {
            let a = usize::from(a);
            if let Some(before) = self
                .bytes
                .get(self.pos..a)
                .filter(|_| a + 4 <= self.bytes.len())
            {
                self.pos = a + 4;
                self.local_next = true;
                return Some(before);
            }
        }
        let rest = self.bytes.get(self.pos..)?;
        self.pos = self.bytes.len() + 1;
        Some(rest)
    }
}

/// The sub-options of an `encap:`, `vi-encap:` or `vendor:` group: the
/// qualifying configuration lines in list order (reverse config order).
#[derive(Clone, Copy)]
pub struct SubOptionList<'d> {
    config: &'d Config,
    items: &'d [u32],
}

impl core::fmt::Debug for SubOptionList<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list()
            .entries(self.iter().map(|o| (o.code, BStr(o.data))))
            .finish()
    }
}

impl<'d> SubOptionList<'d> {
    pub(crate) fn new(config: &'d Config, items: &'d [u32]) -> Self {
        SubOptionList { config, items }
    }

    /// The configuration lines, as indexes into [`Config::items`].
    pub fn rules(&self) -> &'d [u32] {
        self.items
    }

    /// Whether the group is empty.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The sub-options: code and value of each line.
    pub fn iter(&self) -> impl Iterator<Item = RawOption<'d>> + Clone + 'd {
        let config = self.config;
        self.items
            .iter()
            .filter_map(move |&i| match config.rule(i) {
                Some(Rule::Option(o)) => Some(RawOption {
                    code: o.code,
                    data: &o.value.bytes,
                }),
                _ => None,
            })
    }

    /// Appends every sub-option to `s`.
    pub fn write(&self, s: &mut SubBuilder<'_, '_>) -> Result<(), pxe_dhcp::Error> {
        for o in self.iter() {
            s.option(o.code, o.data)?;
        }
        Ok(())
    }
}

/// Option 43: the PXE part (menu, or the boot item of a boot-server
/// reply), then the `vendor:` and `pxe-prompt` sub-options, then an end
/// sub-option.
#[derive(Debug, Clone, Copy)]
pub struct VendorOption<'d> {
    /// The PXE sub-options, for a PXE client.
    pub pxe: Option<PxeVendor<'d>>,
    /// Matching `vendor:` lines and `pxe-prompt`s (sub-option 10), in list
    /// order.
    pub sub_options: SubOptionList<'d>,
}

impl VendorOption<'_> {
    /// Writes the sub-options of option 43, end included.
    pub fn write(&self, s: &mut SubBuilder<'_, '_>) -> Result<(), pxe_dhcp::Error> {
        match &self.pxe {
            Some(PxeVendor::Menu(m)) => m.write(s)?,
            Some(PxeVendor::BootItem(item)) => {
                s.boot_item(*item)?;
            }
            None => {}
        }
        self.sub_options.write(s)?;
        s.end()?;
        Ok(())
    }
}

/// The PXE part of option 43.
#[derive(Debug, Clone, Copy)]
pub enum PxeVendor<'d> {
    /// A menu (`rfc2131.c: pxe_opts`).
    Menu(PxeMenu<'d>),
    /// A boot-server reply's sub-option 71: the request's type and layer.
    BootItem(BootItem),
}

/// The PXE menu dnsmasq builds from the `pxe-service` lines for the
/// client's architecture (`rfc2131.c: pxe_opts`).
#[derive(Clone, Copy)]
pub struct PxeMenu<'d> {
    /// Sub-option 6: 3 (unicast to the listed servers), 2 when a typed
    /// service has no server, 8 (use the reply's boot file) with no
    /// service at all.
    pub discovery_control: DiscoveryControl,
    /// Sub-option 10 as dnsmasq makes it up when no `pxe-prompt` applies:
    /// `PXE`, timeout 255 for a menu of several items, else 0.
    pub prompt: Option<MenuPrompt<'static>>,
    config: &'d Config,
    services: &'d [u32],
    local: Ipv4Addr,
}

impl core::fmt::Debug for PxeMenu<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PxeMenu")
            .field("discovery_control", &self.discovery_control)
            .field("prompt", &self.prompt)
            .field("servers", &OptsDbg(self.boot_servers()))
            .field("items", &OptsDbg(self.items()))
            .finish()
    }
}

/// Prints an iterator as a list.
struct OptsDbg<I>(I);

impl<I: Iterator + Clone> core::fmt::Debug for OptsDbg<I>
where
    I::Item: core::fmt::Debug,
{
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list().entries(self.0.clone()).finish()
    }
}

impl<'d> PxeMenu<'d> {
    pub(crate) fn new(
        discovery_control: DiscoveryControl,
        prompt_timeout: Option<u8>,
        config: &'d Config,
        services: &'d [u32],
        local: Ipv4Addr,
    ) -> Self {
        PxeMenu {
            discovery_control,
            prompt: prompt_timeout.map(|timeout| MenuPrompt {
                timeout,
                prompt: b"PXE",
            }),
            config,
            services,
            local,
        }
    }

    /// The `pxe-service` lines of the menu, in config order.
    pub fn services(&self) -> impl Iterator<Item = &'d PxeService> + Clone + 'd {
        let config = self.config;
        self.services
            .iter()
            .filter_map(move |&i| match config.rule(i) {
                Some(Rule::Service(s)) => Some(s),
                _ => None,
            })
    }

    /// Sub-option 9: one item per service (its type and menu text).
    pub fn items(&self) -> impl Iterator<Item = MenuItem<'d>> + Clone + 'd {
        self.services().map(|s| MenuItem {
            kind: s.ty,
            description: s.menu.as_bytes(),
        })
    }

    /// Sub-option 8: each service with a known boot server, and that
    /// server (the server itself for a service with a basename).
    pub fn boot_servers(&self) -> impl Iterator<Item = (u16, Ipv4Addr)> + Clone + 'd {
        let local = self.local;
        self.services()
            .filter_map(move |s| service_server(s, local).map(|a| (s.ty, a)))
    }

    /// Writes sub-options 6, 10 (dnsmasq's own prompt), 8 and 9, in
    /// dnsmasq's order; 8 and 9 only when they have entries.
    pub fn write(&self, s: &mut SubBuilder<'_, '_>) -> Result<(), pxe_dhcp::Error> {
        s.discovery_control(self.discovery_control)?;
        if let Some(p) = self.prompt {
            s.menu_prompt(p.timeout, p.prompt)?;
        }
        if self.boot_servers().next().is_some() {
            s.boot_server_entries(self.boot_servers().map(|(kind, a)| (kind, [a])))?;
        }
        if self.items().next().is_some() {
            s.boot_menu_entries(self.items().map(|m| (m.kind, m.description)))?;
        }
        Ok(())
    }
}

/// The boot server a menu entry names (`pxe_opts`): the server itself for
/// a service with a basename, else its address; a name is left out (the
/// rules do not resolve names), as is `0.0.0.0`.
pub(crate) fn service_server(s: &PxeService, local: Ipv4Addr) -> Option<Ipv4Addr> {
    if s.basename().is_some() {
        return Some(local);
    }
    match &s.server {
        Some(ServerRef::Addr(a)) if !a.is_unspecified() => Some(*a),
        _ => None,
    }
}
