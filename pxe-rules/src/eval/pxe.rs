//! PXE: the menu of option 43 (`rfc2131.c: pxe_opts`), `vendor:`
//! sub-options (`match_vendor_opts`, `prune_vendor_opts`), the PXE extras
//! 60 and 97 (`pxe_misc`), the UEFI single-service workaround
//! (`pxe_uefi_workaround`), and the two PXE verdicts: the boot-server ACK
//! (43 sub-option 71) and the proxyDHCP reply.

use core::net::Ipv4Addr;

use pxe_dhcp::pxe::{BootItem, DiscoveryControl};

use super::matching::contains;
use super::select::apply_boot_server;
use super::{Run, holds, truncate};
use crate::config::{OptSpace, OptionRule, Rule, ServerRef};
use crate::decision::{Entry, HeaderText, Pxe, Span, Verdict};
use crate::options::service_server;
use crate::tags::TagSet;
use crate::trace::{Event, Outcome, Tracer};

/// dnsmasq's limit for sub-options 8 and 9 ("PXE menu too large").
const MENU_LIMIT: usize = 253;

/// The `vendor:` and `pxe-prompt` lines that go into option 43.
pub(super) struct VendorLines {
    pub(super) subs: Span,
    /// Some `dhcp-option-force` line is among them.
    pub(super) forced: bool,
}

impl<'a, T: Tracer> Run<'a, '_, T> {
    /// Whether a vendor-space line participates (`match_vendor_opts` +
    /// `prune_vendor_opts`): the client's option 60 contains its class (the
    /// PXE vendors for `pxe-prompt`) and its condition holds.
    fn vendor_participates(&self, o: &OptionRule, tags: &TagSet) -> bool {
        let Some(v) = self.facts.vendor_class() else {
            return false;
        };
        let vmatch = match &o.space {
            OptSpace::Vendor(cls) => contains(v, cls.as_bytes()),
            OptSpace::VendorPxe => self
                .config
                .pxe_vendors()
                .any(|pv| contains(v, pv.as_bytes())),
            _ => false,
        };
        vmatch && holds(&o.cond, tags, true).is_ok()
    }

    /// `pxe_opts`: the services for `arch` whose condition holds, in
    /// config order, with discovery control and dnsmasq's own prompt;
    /// `None` when the menu is too large (then no PXE sub-options at all).
    pub(super) fn pxe_menu(&mut self, arch: u16) -> Option<Pxe> {
        let config = self.config;
        let tags = self.d.tags.clone();
        let (mut control, mut menu_len, mut servers_len) = (3u8, 0usize, 0usize);
        let mark = self.d.items_mark();
        for &i in &config.index.services {
            let Some(Rule::Service(s)) = config.rule(i) else {
                continue;
            };
            if s.csa != arch {
                self.tr.event(Event::Rule {
                    item: i,
                    outcome: Outcome::Skipped("other architecture"),
                });
                continue;
            }
            if let Err(e) = holds(&s.cond, &tags, true) {
                self.tr.event(Event::Rule {
                    item: i,
                    outcome: Outcome::CondFailed(e),
                });
                continue;
            }
            self.tr.event(Event::Rule {
                item: i,
                outcome: Outcome::Matched,
            });
            menu_len += 3 + s.menu.len();
            let has_server = service_server(s, self.ctx.local).is_some();
            if has_server {
                servers_len += 7;
            } else if s.ty != 0 {
                control = 2;
            }
            if menu_len >= MENU_LIMIT || (has_server && servers_len >= MENU_LIMIT) {
                self.tr
                    .event(Event::Note("PXE menu too large: no PXE sub-options sent"));
                self.d.items_reset(mark);
                return None;
            }
            if !self.d.push_item(i) {
                self.d.items_reset(mark);
                return None;
            }
        }
        let services = self.d.items_since(mark);
        let items = services.len();
        if items == 0 {
            control = 8;
        }
        let have_prompt = config.index.options.iter().any(|&i| {
            matches!(config.rule(i), Some(Rule::Option(o)) if matches!(o.space, OptSpace::Vendor(_) | OptSpace::VendorPxe)
                && o.code == pxe_dhcp::pxe::sub::MENU_PROMPT && self.vendor_participates(o, &tags))
        });
        Some(Pxe::Menu {
            control: DiscoveryControl::from_bits_retain(control),
            prompt: (!have_prompt).then_some(if items > 1 { 255 } else { 0 }),
            services,
        })
    }

    /// The matching `vendor:` and `pxe-prompt` lines, in list order.
    pub(super) fn vendor_lines(&mut self) -> VendorLines {
        let config = self.config;
        let tags = self.d.tags.clone();
        let mark = self.d.items_mark();
        let mut forced = false;
        for &i in &config.index.options {
            let Some(Rule::Option(o)) = config.rule(i) else {
                continue;
            };
            if !matches!(o.space, OptSpace::Vendor(_) | OptSpace::VendorPxe) {
                continue;
            }
            if !self.vendor_participates(o, &tags) {
                self.tr.event(Event::Rule {
                    item: i,
                    outcome: Outcome::Skipped("vendor class or tags do not match"),
                });
                continue;
            }
            if !self.d.push_item(i) {
                continue;
            }
            self.tr.event(Event::Rule {
                item: i,
                outcome: Outcome::Matched,
            });
            forced |= o.force;
        }
        VendorLines {
            subs: self.d.items_since(mark),
            forced,
        }
    }

    /// `pxe_misc`: option 60 (the PXE vendor string) and the client's 97.
    pub(super) fn pxe_misc(&mut self) {
        if let Some(v) = self.d.pxe_vendor {
            self.d
                .push_value(pxe_dhcp::code::VENDOR_CLASS, v.as_bytes());
        }
        if let Some(u) = self.facts.uuid() {
            self.d.push_value(pxe_dhcp::code::CLIENT_UUID, u);
        }
    }

    /// `pxe_uefi_workaround`: the one UEFI service with a basename, if
    /// exactly one holds for this arch.
    pub(super) fn uefi_single_service(&self, arch: u16) -> Option<u32> {
        if arch < 6 {
            return None;
        }
        let config = self.config;
        let mut found = None;
        for &i in &config.index.services {
            if let Some(Rule::Service(s)) = config.rule(i)
                && s.csa == arch
                && s.basename().is_some()
                && holds(&s.cond, &self.d.tags, true).is_ok()
            {
                if found.is_some() {
                    return None;
                }
                found = Some(i);
            }
        }
        found
    }

    /// The boot-server ACK to a request carrying 43 sub-option 71
    /// (spec §5.8), in any mode.
    pub(super) fn boot_server(&mut self, item: BootItem) {
        let config = self.config;
        if item.layer & 0x8000 != 0 {
            self.tr.event(Event::Note("PXE BIS not supported"));
            self.d.verdict = Verdict::Ignore(crate::IgnoreReason::PxeBisUnsupported);
            return;
        }
        // The first service of that type (any architecture) must have a
        // basename, and the client's address must be in a served range.
        let service = config
            .index
            .services
            .iter()
            .find_map(|&i| match config.rule(i) {
                Some(Rule::Service(s)) if s.ty == item.kind => Some((i, s)),
                _ => None,
            });
        let Some((si, svc, base)) = service.and_then(|(i, s)| Some((i, s, s.basename()?))) else {
            return self.no_boot_service("no pxe-service with a basename has the requested type");
        };
        let ciaddr = self.facts.effective_ciaddr();
        let range = config.index.ranges.iter().copied().find(|&i| {
            matches!(config.rule(i), Some(Rule::Range(r)) if holds(&r.cond, &self.d.tags, true).is_ok() && r.same_net(ciaddr, self.ctx.netmask))
        });
        let Some(ri) = range else {
            return self.no_boot_service("ciaddr is not inside a served range");
        };
        self.tr.event(Event::Rule {
            item: si,
            outcome: Outcome::Chosen,
        });
        self.d.range = Some(ri);
        self.d.service = Some(si);
        self.d.verdict = Verdict::BootServer {
            ty: item.kind,
            layer: item.layer,
        };
        match &svc.server {
            Some(ServerRef::Name(n)) => self.d.siaddr_host = Some(n.as_str()),
            Some(ServerRef::Addr(a)) => self.d.siaddr = *a,
            None => self.d.siaddr = self.ctx.local,
        }
        self.d.file = Some(service_file(base, item.layer));
        self.pxe_misc();
        let vendor = self.vendor_lines();
        self.d.push(Entry::Vendor {
            pxe: Some(Pxe::BootItem(item)),
            subs: vendor.subs,
        });
    }

    fn no_boot_service(&mut self, why: &'static str) {
        self.tr.event(Event::Note(why));
        self.d.verdict = Verdict::Ignore(crate::IgnoreReason::NoBootService);
    }

    /// The proxyDHCP reply (spec §6): the `dhcp-boot` file (or the UEFI
    /// workaround's), 60, 97 and the menu; UEFI clients on port 67 are
    /// sent on to port 4011 without option 43.
    pub(super) fn proxy(&mut self, on4011: bool) {
        self.d.verdict = Verdict::Proxy;
        // dnsmasq delays proxy replies too (`rfc2131.c`: `apply_delay` in
        // its PXE branch).
        self.d.delay = self.config.find_delay(&self.d.tags);
        let arch = self.facts.arch().unwrap_or(0);
        let redirect4011 = arch >= 6;
        self.d.siaddr = if redirect4011 {
            self.ctx.local
        } else {
            Ipv4Addr::UNSPECIFIED
        };
        let single = self.uefi_single_service(arch);
        self.d.uefi_workaround = single.is_some();
        if let Some(si) = single {
            self.tr.event(Event::Note(
                "UEFI client with exactly one matching pxe-service: no PXE menu",
            ));
            if on4011 {
                self.workaround_fields(si);
            }
        } else {
            let tags = self.d.tags.clone();
            if let Some(b) = self.select_boot(&tags) {
                apply_boot_server(self.d, b.server.as_ref());
                if let Some(f) = &b.file {
                    self.d.file = Some(HeaderText::borrowed(f.as_bytes()));
                }
            }
        }
        self.pxe_misc();
        if (on4011 && single.is_none()) || !redirect4011 {
            let menu = self.pxe_menu(arch);
            let vendor = self.vendor_lines();
            if menu.is_some() || !vendor.subs.is_empty() {
                self.d.push(Entry::Vendor {
                    pxe: menu,
                    subs: vendor.subs,
                });
            }
        } else {
            self.tr.event(Event::Note(
                "no option 43: UEFI client is redirected to port 4011",
            ));
        }
    }

    /// The UEFI workaround on port 4011: the one service's file, server
    /// and server name.
    fn workaround_fields(&mut self, si: u32) {
        let Some(Rule::Service(s)) = self.config.rule(si) else {
            return;
        };
        self.tr.event(Event::Rule {
            item: si,
            outcome: Outcome::Chosen,
        });
        self.d.service = Some(si);
        match &s.server {
            Some(ServerRef::Name(n)) => {
                self.d.siaddr = Ipv4Addr::UNSPECIFIED;
                self.d.siaddr_host = Some(n.as_str());
                self.d.sname = Some(HeaderText::borrowed(n.as_bytes()));
            }
            other => {
                self.d.siaddr = match other {
                    Some(ServerRef::Addr(a)) => *a,
                    _ => self.ctx.local,
                };
                self.d.sname = Some(HeaderText::dotted(self.d.siaddr));
            }
        }
        if let Some(b) = s.basename() {
            self.d.file = Some(service_file(b, 0));
        }
    }
}

/// The boot file of a service (spec §5.3): a basename with a dot is sent
/// as it is, one without gets `.<layer>`.
fn service_file(base: &str, layer: u16) -> HeaderText<'_, 128> {
    if base.contains('.') {
        HeaderText::borrowed(truncate(base.as_bytes(), 127))
    } else {
        HeaderText::with_layer(base.as_bytes(), layer)
    }
}
