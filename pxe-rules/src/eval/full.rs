//! The full-DHCP reply (`rfc2131.c: do_options`): delivery settings, one
//! line per option number, the boot fields, configured options, `encap:`
//! groups, `vi-encap:` blocks, and the PXE extras with option 43.

use core::net::Ipv4Addr;

use super::select::apply_boot_server;
use super::{Run, holds};
use crate::config::{OptSpace, OptionRule, Rule};
use crate::decision::{Entry, HeaderText, Verdict};
use crate::facts::Facts;
use crate::tags::TagSet;
use crate::trace::{Event, Outcome, Tracer};

/// Options whose server built-in a configured line replaces.
const BUILTINS: [u8; 6] = [1, 3, 6, 12, 15, 28];

/// dnsmasq's limit for the sub-options of one `vi-encap` block.
const VI_ENCAP_LIMIT: usize = 250;

/// The line chosen for each option number (`option_filter`).
struct Selected([u32; 256]);

impl Selected {
    fn get(&self, code: u8) -> Option<u32> {
        Some(self.0[usize::from(code)]).filter(|&i| i != u32::MAX)
    }
}

/// Which boot header fields the rules have filled.
#[derive(Clone, Copy, Default)]
struct BootFields {
    file: bool,
    sname: bool,
}

impl<T: Tracer> Run<'_, '_, T> {
    /// A full reply; `base` is the tag set without the range's tag (for
    /// `option_filter`'s ranking).
    pub(super) fn full(&mut self, base: &TagSet) {
        self.d.verdict = Verdict::Full;
        let pxe = self.d.pxe_vendor.is_some() && self.facts.arch().is_some();
        if !pxe {
            self.d.pxe_vendor = None;
        }
        let tags = self.d.tags.clone();
        self.delivery(&tags);
        let selected = self.select_options(base, &tags);
        let fields = self.boot_fields(&tags, &selected);
        let configured_60 = self.configured_options(&tags, &selected, fields, pxe);
        self.encap_groups(&tags);
        self.vi_encap_blocks(&tags);
        self.pxe_and_vendor_43(pxe, configured_60);
    }

    /// Whether the client asked for `code`, or sent no option 55.
    fn in_prl(&self, code: u8) -> bool {
        self.facts.requested(code)
    }

    /// `dhcp-broadcast`, `dhcp-reply-delay`, `dhcp-ignore-names` and
    /// `dhcp-generate-names`.
    fn delivery(&mut self, tags: &TagSet) {
        let config = self.config;
        let any_holds = |lines: &[u32]| {
            lines.iter().any(|&i| match config.rule(i) {
                Some(Rule::CondList(_, c)) => holds(c, tags, true).is_ok(),
                _ => false,
            })
        };
        self.d.broadcast = any_holds(&config.index.broadcasts);
        self.d.ignore_names = any_holds(&config.index.ignore_names);
        self.d.generate_names = any_holds(&config.index.generate_names);
        self.d.delay = config.find_delay(tags);
    }

    /// One line per option number, in `option_filter`'s order.
    fn select_options(&mut self, base: &TagSet, tags: &TagSet) -> Selected {
        let config = self.config;
        let mut selected = Selected([u32::MAX; 256]);
        for (code, _) in &config.index.opt_codes {
            if let Some(line) = config.selected_option(*code, base, tags, self.tr) {
                selected.0[usize::from(*code)] = line;
            }
        }
        selected
    }

    /// `siaddr`, `file` and `sname` of a full reply (spec §4.3): `siaddr`
    /// is the server unless `dhcp-boot` (or `server-ip-address`) says
    /// otherwise; a requested 66/67 becomes an option, else a header field
    /// (also for an unforced `dhcp-option=66/67` the client did not ask for).
    fn boot_fields(&mut self, tags: &TagSet, selected: &Selected) -> BootFields {
        let config = self.config;
        let sel = |code: u8| match config.rule(selected.get(code)?) {
            Some(Rule::Option(o)) => Some(o),
            _ => None,
        };
        let as_option = |code: u8| {
            self.facts.parameter_request_list().is_some()
                && self.in_prl(code)
                && !config.settings.no_override
        };
        let (want66, want67) = (as_option(66), as_option(67));
        self.d.siaddr = self.ctx.local;
        let mut done = BootFields::default();
        if let Some(b) = self.select_boot(tags) {
            apply_boot_server(self.d, b.server.as_ref());
            if let Some(sn) = &b.server_name {
                if want66 {
                    self.d.boot_opts[0] = Some((66, sn.as_bytes()));
                } else {
                    self.d.sname = Some(HeaderText::borrowed(sn.as_bytes()));
                }
                done.sname = true;
            }
            if let Some(f) = &b.file {
                if want67 {
                    self.d.boot_opts[1] = Some((67, f.as_bytes()));
                } else {
                    self.d.file = Some(HeaderText::borrowed(f.as_bytes()));
                }
                done.file = true;
            }
        } else if let Some(o) = sel(255)
            && let [a, b, c, d, ..] = o.value.bytes[..]
        {
            self.d.siaddr = Ipv4Addr::new(a, b, c, d);
        }
        let facts = self.facts;
        let unrequested = |code: u8| {
            sel(code).filter(|o| {
                !o.force && (facts.parameter_request_list().is_none() || !facts.requested(code))
            })
        };
        if !done.file
            && let Some(o) = unrequested(67)
        {
            self.d.file = Some(HeaderText::borrowed(&o.value.bytes));
            done.file = true;
        }
        if !done.sname
            && let Some(o) = unrequested(66)
        {
            self.d.sname = Some(HeaderText::borrowed(&o.value.bytes));
            done.sname = true;
        }
        done
    }

    /// The selected plain lines, in list order (reverse config order);
    /// returns whether a configured option 60 is sent.
    fn configured_options(
        &mut self,
        tags: &TagSet,
        selected: &Selected,
        fields: BootFields,
        pxe: bool,
    ) -> bool {
        let config = self.config;
        let borken = self.facts.hostname().is_some_and(|h| h.last() == Some(&0));
        let mut configured_60 = false;
        for &i in &config.index.options {
            let Some(Rule::Option(o)) = config.rule(i) else {
                continue;
            };
            if o.space != OptSpace::Plain {
                continue;
            }
            let code = o.code;
            if selected.get(code) != Some(i) {
                self.trace_unselected(i, o, selected, tags);
                continue;
            }
            if BUILTINS.contains(&code) {
                self.d.suppressed[usize::from(code / 64)] |= 1 << (code % 64);
            }
            if matches!(code, 58 | 59) {
                self.d.configured_t[usize::from(code - 58)] = Some(&o.value.bytes);
            }
            if let Some(why) = self.withheld(o, fields, pxe) {
                self.tr.event(Event::Rule {
                    item: i,
                    outcome: Outcome::Skipped(why),
                });
                continue;
            }
            configured_60 |= code == 60;
            let nul = matches!(code, 66 | 67) || (borken && o.text);
            self.d.push(Entry::Value {
                code,
                value: if nul { &o.with_nul } else { &o.value.bytes },
                local_at: &o.value.local_at,
            });
            self.tr.event(Event::Rule {
                item: i,
                outcome: Outcome::Chosen,
            });
        }
        configured_60
    }

    /// Traces why a plain line lost to another or did not hold.
    fn trace_unselected(&mut self, i: u32, o: &OptionRule, selected: &Selected, tags: &TagSet) {
        let winner = selected
            .get(o.code)
            .filter(|&w| matches!(self.config.rule(w), Some(Rule::Option(_))));
        let outcome = match winner {
            Some(w) => Outcome::Superseded(w),
            None => holds(&o.cond, tags, true)
                .err()
                .map_or(Outcome::Skipped("not selected"), Outcome::CondFailed),
        };
        self.tr.event(Event::Rule { item: i, outcome });
    }

    /// Why a selected line is not sent as an option, if it is not.
    fn withheld(&self, o: &OptionRule, fields: BootFields, pxe: bool) -> Option<&'static str> {
        let code = o.code;
        if matches!(code, 58 | 59) {
            return Some("T1/T2 are computed by the server from this value");
        }
        if matches!(code, 0 | 52 | 57 | 81 | 255) {
            return Some("option is never sent from configuration");
        }
        if !(o.force || self.in_prl(code) || matches!(code, 1 | 28)) {
            return Some("not in the client's parameter request list (55)");
        }
        if (code == 66 && fields.sname) || (code == 67 && fields.file) {
            return Some("boot field already set");
        }
        if o.value.bytes.is_empty() && BUILTINS.contains(&code) {
            return Some("empty value: suppresses the built-in");
        }
        if code == 60 && pxe {
            return Some("PXE client: option 60 is PXEClient");
        }
        None
    }

    /// `encap:N` outers, in list order of their first qualifying line.
    fn encap_groups(&mut self, tags: &TagSet) {
        let config = self.config;
        let mut done_outer = [false; 256];
        for &i in &config.index.options {
            let Some(Rule::Option(o)) = config.rule(i) else {
                continue;
            };
            let OptSpace::Encap(outer) = o.space else {
                continue;
            };
            if done_outer[usize::from(outer)] {
                continue;
            }
            if !encap_qualifies(self.facts, o, tags, outer) {
                self.tr.event(Event::Rule {
                    item: i,
                    outcome: Outcome::Skipped("tags fail or the outer option was not requested"),
                });
                continue;
            }
            done_outer[usize::from(outer)] = true;
            let mark = self.d.items_mark();
            for &j in &config.index.options {
                if let Some(Rule::Option(p)) = config.rule(j)
                    && p.space == OptSpace::Encap(outer)
                    && encap_qualifies(self.facts, p, tags, outer)
                    && self.d.push_item(j)
                {
                    self.tr.event(Event::Rule {
                        item: j,
                        outcome: Outcome::Chosen,
                    });
                }
            }
            let subs = self.d.items_since(mark);
            self.d.push(Entry::Encap { code: outer, subs });
        }
    }

    /// `vi-encap:E`: one option 125 per enterprise, in list order of its
    /// first qualifying line; a block over 250 bytes is not sent.
    fn vi_encap_blocks(&mut self, tags: &TagSet) {
        let config = self.config;
        let (facts, vi) = (self.facts, pxe_dhcp::code::VI_VENDOR_INFO);
        let qualifying = |j: u32, ent: u32| match config.rule(j) {
            Some(Rule::Option(p)) if p.space == OptSpace::ViEncap(ent) => {
                encap_qualifies(facts, p, tags, vi).then_some(p)
            }
            _ => None,
        };
        for (k, &i) in config.index.options.iter().enumerate() {
            let Some(Rule::Option(o)) = config.rule(i) else {
                continue;
            };
            let OptSpace::ViEncap(ent) = o.space else {
                continue;
            };
            let first = qualifying(i, ent).is_some()
                && !config.index.options[..k]
                    .iter()
                    .any(|&j| qualifying(j, ent).is_some());
            if !first {
                continue;
            }
            let mark = self.d.items_mark();
            let mut len = 0;
            for &j in &config.index.options {
                if let Some(p) = qualifying(j, ent) {
                    len += 2 + p.value.bytes.len();
                    self.d.push_item(j);
                }
            }
            if len > VI_ENCAP_LIMIT {
                self.tr.event(Event::Note(
                    "vi-encap sub-options exceed 250 bytes: not sent",
                ));
                self.d.items_reset(mark);
                continue;
            }
            let subs = self.d.items_since(mark);
            self.d.push(Entry::ViEncap {
                enterprise: ent,
                subs,
            });
        }
    }

    /// PXE 60 and 97, then option 43 (menu and `vendor:` lines) when 43 is
    /// requested or a vendor line is forced; a non-PXE client that gets 43
    /// has its own 60 echoed unless one is configured.
    fn pxe_and_vendor_43(&mut self, pxe: bool, configured_60: bool) {
        if pxe {
            self.pxe_misc();
        }
        let mark = self.d.items_mark();
        let mut menu = None;
        if pxe {
            let arch = self.facts.arch().unwrap_or(0);
            if self.uefi_single_service(arch).is_some() {
                self.d.uefi_workaround = true;
                self.tr.event(Event::Note(
                    "UEFI client with exactly one matching pxe-service: no PXE menu",
                ));
            } else {
                menu = self.pxe_menu(arch);
            }
        }
        let vendor = self.vendor_lines();
        let something = menu.is_some() || !vendor.subs.is_empty();
        if !something {
            return;
        }
        if vendor.forced || self.in_prl(pxe_dhcp::code::VENDOR_SPECIFIC) {
            self.d.push(Entry::Vendor {
                pxe: menu,
                subs: vendor.subs,
            });
            if !pxe
                && !configured_60
                && let Some(v) = self.facts.vendor_class()
            {
                self.d.push_value(pxe_dhcp::code::VENDOR_CLASS, v);
            }
        } else {
            self.d.items_reset(mark);
            self.tr.event(Event::Note(
                "option 43 not sent: not requested and no vendor line forced",
            ));
        }
    }
}

/// Whether an `encap:`/`vi-encap:` line goes into its outer option: its
/// condition holds (untagged is fine) and it is forced or the outer
/// option was requested.
fn encap_qualifies(facts: &Facts<'_>, o: &OptionRule, tags: &TagSet, outer: u8) -> bool {
    holds(&o.cond, tags, true).is_ok() && (o.force || facts.requested(outer))
}
