//! Evaluation: facts + context → [`Decision`], in dnsmasq's order
//! (`rfc2131.c: dhcp_reply`, `do_options`, `pxe_opts`, `find_boot`,
//! `pxe_uefi_workaround`; `dhcp-common.c: option_filter`, `run_tag_if`,
//! `match_bytes`). Nothing here allocates.
//!
//! One evaluation is a [`Run`] going through named phases:
//! [`tag`](Run::tag) (every tag source, `tag-if`), [`ignore`](Run::ignore)
//! (`dhcp-host …,ignore`, `dhcp-ignore`), the PXE boot-server request
//! ([`boot_server`](Run::boot_server)), [`select_range`](Run::select_range),
//! then a proxy reply ([`proxy`](Run::proxy)) or a full one
//! ([`full`](Run::full), itself `select_boot` → options → `encap:` →
//! `vi-encap:` → PXE 43). Each phase reports to the [`Tracer`].

mod full;
mod matching;
mod pxe;
mod select;
mod tagging;
mod v6;

use crate::config::{Cond, Config, Rule};
use crate::decision::{Decision, IgnoreReason, Verdict};
use crate::facts::{Context, Facts, Port};
use crate::tags::{CondFailure, TagId, TagSet, check};
use crate::trace::{Event, NoTrace, Outcome, TagSource, Tracer};

impl Config {
    /// Evaluates a request without tracing.
    ///
    /// The decision is a few KiB and returning it copies all of it; a
    /// server that only answers from it should use
    /// [`Config::evaluate_then`].
    #[inline]
    pub fn evaluate<'a>(&'a self, facts: &Facts<'a>, ctx: &Context<'_>) -> Decision<'a> {
        self.evaluate_traced(facts, ctx, &mut NoTrace)
    }

    /// Evaluates a request, reporting every rule considered to `tr`.
    #[inline]
    pub fn evaluate_traced<'a, T: Tracer>(
        &'a self,
        facts: &Facts<'a>,
        ctx: &Context<'_>,
        tr: &mut T,
    ) -> Decision<'a> {
        let mut d = Decision::new(self, ctx.local);
        self.decide(facts, ctx, tr, &mut d);
        d
    }

    /// Evaluates a request and hands the decision to `f` where it was
    /// built, without tracing: nothing is copied, which in a proxy
    /// exchange is about a sixth of the server's work per message.
    #[inline]
    pub fn evaluate_then<'a, R>(
        &'a self,
        facts: &Facts<'a>,
        ctx: &Context<'_>,
        f: impl FnOnce(&Decision<'a>) -> R,
    ) -> R {
        let mut d = Decision::new(self, ctx.local);
        self.decide(facts, ctx, &mut NoTrace, &mut d);
        f(&d)
    }

    /// Fills the new decision `d`, phase by phase.
    #[inline]
    fn decide<'a, T: Tracer>(
        &'a self,
        facts: &Facts<'a>,
        ctx: &Context<'_>,
        tr: &mut T,
        d: &mut Decision<'a>,
    ) {
        // Filled through a reference: a `Run` owning the decision moved it
        // twice more, about a tenth of an evaluation.
        Run {
            config: self,
            facts,
            ctx,
            tr,
            d,
        }
        .decide();
    }
}

/// One evaluation in progress: the request, where it arrived, the tracer,
/// and the decision being filled.
pub(crate) struct Run<'a, 'r, T: Tracer> {
    pub(crate) config: &'a Config,
    pub(crate) facts: &'r Facts<'a>,
    pub(crate) ctx: &'r Context<'r>,
    pub(crate) tr: &'r mut T,
    pub(crate) d: &'r mut Decision<'a>,
}

/// The ranges on the arrival network whose conditions hold.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Ranges {
    pub(crate) proxy: Option<u32>,
    pub(crate) full: Option<u32>,
}

impl<'a, T: Tracer> Run<'a, '_, T> {
    /// All phases, in dnsmasq's order.
    fn decide(&mut self) {
        if self.facts.op != 1 {
            self.d.verdict = Verdict::Ignore(IgnoreReason::NotARequest);
            return;
        }
        let mut tags = self.tag();
        if let Some(reason) = self.ignore(&tags) {
            self.d.tags = tags;
            self.d.verdict = Verdict::Ignore(reason);
            return;
        }
        self.d.pxe_vendor = self.pxe_vendor();
        if self.d.pxe_vendor.is_some()
            && matches!(self.facts.message_type(), Some(3) | Some(8))
            && let Some(item) = self.facts.pxe_boot_item()
        {
            self.tr
                .event(Event::Note("PXE boot-server request (43 sub-option 71)"));
            self.d.tags = tags;
            self.boot_server(item);
            return;
        }
        let ranges = self.select_range(&tags);
        if self.ctx.port == Port::Pxe {
            self.on_pxe_port(tags, ranges);
            return;
        }
        if let Some(pr) = ranges.proxy
            && self.proxy_applies()
        {
            self.use_range(&mut tags, pr);
            self.proxy(false);
            return;
        }
        let Some(fr) = ranges.full else {
            self.d.tags = tags;
            self.d.verdict = Verdict::Ignore(self.no_full_range(ranges));
            return;
        };
        if !self.facts.is_dhcp() && !self.bootp_served(&tags) {
            self.d.tags = tags;
            self.d.verdict = Verdict::Ignore(IgnoreReason::BootpNotServed);
            return;
        }
        // Option selection ranks lines on the tags without the range's.
        let base = tags.clone();
        self.use_range(&mut tags, fr);
        self.full(&base);
    }

    /// The vendor string of a PXE client (option 60 starts with one of
    /// the PXE vendors), when PXE handling is on.
    fn pxe_vendor(&self) -> Option<&'a str> {
        let config = self.config;
        if !config.pxe_enabled() {
            return None;
        }
        let vendor = self.facts.vendor_class()?;
        config
            .pxe_vendors()
            .find(|pv| vendor.starts_with(pv.as_bytes()))
    }

    /// Whether proxy mode answers this request (`dhcp_reply`'s proxy
    /// conditions, spec §6.1).
    fn proxy_applies(&self) -> bool {
        self.config.pxe_enabled()
            && self.d.pxe_vendor.is_some()
            && self.facts.arch().is_some()
            && self.facts.is_dhcp()
            && match self.ctx.port {
                Port::Dhcp => self.facts.message_type() == Some(1),
                Port::Pxe => matches!(self.facts.message_type(), Some(1) | Some(3)),
            }
    }

    /// Port 4011 without sub-option 71: a proxy reply, or nothing.
    fn on_pxe_port(&mut self, mut tags: TagSet, ranges: Ranges) {
        match ranges.proxy {
            Some(pr) if self.proxy_applies() => {
                self.use_range(&mut tags, pr);
                self.proxy(true);
            }
            Some(_) => {
                self.tr.event(Event::Note("proxy range found but the request is not a PXE DISCOVER/REQUEST with option 93"));
                self.d.tags = tags;
                self.d.verdict = Verdict::Ignore(IgnoreReason::ProxyNotApplicable);
            }
            None => {
                self.tr.event(Event::Note(
                    "port 4011 request without sub-option 71 and no proxy range: ignored",
                ));
                self.d.tags = tags;
                self.d.verdict = Verdict::Ignore(IgnoreReason::PxePortWithoutProxy);
            }
        }
    }

    /// Why a request on port 67 has no full range to be served from.
    fn no_full_range(&mut self, ranges: Ranges) -> IgnoreReason {
        if ranges.proxy.is_some() {
            self.tr.event(Event::Note(
                "only a proxy range here, and the request is not a PXE DISCOVER with option 93",
            ));
            IgnoreReason::ProxyNotApplicable
        } else {
            self.tr
                .event(Event::Note("no dhcp-range holds for this network"));
            IgnoreReason::NoRange
        }
    }

    /// BOOTP is answered for a `dhcp-host` address or with `bootp-dynamic`.
    fn bootp_served(&self, tags: &TagSet) -> bool {
        let config = self.config;
        let has_addr = self.d.host().is_some_and(|h| h.addr.is_some());
        has_addr
            || config
                .index
                .bootp_dynamic
                .iter()
                .any(|&i| match config.rule(i) {
                    Some(Rule::CondList(_, c)) => holds(c, tags, true).is_ok(),
                    _ => false,
                })
    }

    /// Makes `ri` the decision's range: traced as chosen, its `set:` tag
    /// added and `tag-if` run again; the tags become the decision's.
    fn use_range(&mut self, tags: &mut TagSet, ri: u32) {
        if let Some(Rule::Range(r)) = self.config.rule(ri) {
            self.tr.event(Event::Rule {
                item: ri,
                outcome: Outcome::Chosen,
            });
            if let Some(t) = r.set {
                set(tags, t, TagSource::Range(ri), self.tr);
                self.config.run_tag_if(tags, self.tr);
            }
        }
        self.d.tags = tags.clone();
        self.d.range = Some(ri);
    }
}

/// A condition holding with dnsmasq's `tagnotneeded` flag: an untagged
/// line holds only when `untagged_ok`.
#[inline]
pub(crate) fn holds(cond: &Cond, tags: &TagSet, untagged_ok: bool) -> Result<(), CondFailure> {
    if cond.is_untagged() {
        return if untagged_ok {
            Ok(())
        } else {
            Err(CondFailure::Missing(TagId(u16::MAX)))
        };
    }
    check(&cond.0, tags)
}

/// Adds `t`, tracing it when it is new.
pub(crate) fn set<T: Tracer>(tags: &mut TagSet, t: TagId, source: TagSource, tr: &mut T) {
    if tags.insert(t) {
        tr.event(Event::TagSet { tag: t, source });
    }
}

/// The first `n` bytes of `b` (header fields are cut, never refused).
pub(crate) fn truncate(b: &[u8], n: usize) -> &[u8] {
    &b[..b.len().min(n)]
}
