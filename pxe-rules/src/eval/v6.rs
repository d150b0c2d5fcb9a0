//! DHCPv6 evaluation: facts + context → [`Decision6`], in dnsmasq's
//! order (`rfc3315.c: dhcp6_no_relay`: the interface tag, `dhcp-mac`,
//! vendor and user classes, `dhcp-match` on `option6:`, `find_config`,
//! `tag-if`, `dhcp-ignore`; the context (range) of the link and its
//! `set:` tag; `add_options` with `option_filter`). Nothing here
//! allocates.

use super::matching::{contains, match_bytes};
use super::set;
use crate::config::{ClassKind, Config, Host, MatchSource, Rule};
use crate::decision::IgnoreReason;
use crate::decision6::{Decision6, MAX_OPTIONS6, Verdict6};
use crate::facts6::{Context6, Facts6, counted_items};
use crate::tags::{TagSet, check};
use crate::trace::{Event, NoTrace, Outcome, TagSource, Tracer};

impl Config {
    /// Evaluates a DHCPv6 request without tracing.
    pub fn evaluate6<'a>(&'a self, facts: &Facts6<'_>, ctx: &Context6<'_>) -> Decision6<'a> {
        self.evaluate6_traced(facts, ctx, &mut NoTrace)
    }

    /// Evaluates a DHCPv6 request, reporting every rule considered to `tr`.
    pub fn evaluate6_traced<'a, T: Tracer>(
        &'a self,
        facts: &Facts6<'_>,
        ctx: &Context6<'_>,
        tr: &mut T,
    ) -> Decision6<'a> {
        let mut d = Decision6::new(self, ctx.local, ctx.link);
        let mut tags = self.tags6(facts, ctx, &mut d, tr);
        if let Some(reason) = self.ignored6(&d, &tags) {
            d.tags = tags;
            d.verdict = Verdict6::Ignore(reason);
            return d;
        }
        let base = tags.clone();
        let Some(ri) = self.select_range6(ctx, &tags, tr) else {
            tr.event(Event::Note("no IPv6 dhcp-range holds for this link"));
            d.tags = tags;
            return d;
        };
        d.range = Some(ri);
        if let Some(Rule::Range6(r)) = self.rule(ri)
            && let Some(t) = r.set
        {
            set(&mut tags, t, TagSource::Range(ri), tr);
            self.run_tag_if(&mut tags, tr);
        }
        self.select_options6(facts, &base, &tags, &mut d, tr);
        d.tags = tags;
        d.verdict = Verdict6::Serve;
        d
    }

    /// Every DHCPv6 tag source in order, then `tag-if`.
    fn tags6<T: Tracer>(
        &self,
        facts: &Facts6<'_>,
        ctx: &Context6<'_>,
        d: &mut Decision6<'_>,
        tr: &mut T,
    ) -> TagSet {
        let mut tags = TagSet::new();
        if let Some(ifn) = ctx.interface
            && let Some(t) = self.tag(ifn)
        {
            set(&mut tags, t, TagSource::Interface, tr);
        }
        if let Some((htype, mac)) = facts.mac {
            for &i in &self.index.mac {
                if let Some(Rule::Mac(m)) = self.rule(i)
                    && m.pattern.matches(htype as u8, &mac)
                {
                    set(&mut tags, m.set, TagSource::Rule(i), tr);
                }
            }
        }
        for &i in &self.index.class {
            if let Some(Rule::Class(k)) = self.rule(i) {
                let hit = class_matches(k.kind, k.enterprise, k.text.as_bytes(), facts);
                if hit {
                    set(&mut tags, k.set, TagSource::Rule(i), tr);
                } else {
                    tr.event(Event::Rule {
                        item: i,
                        outcome: Outcome::NoMatch("class not in the DHCPv6 option"),
                    });
                }
            }
        }
        for &i in &self.index.matches6 {
            if let Some(Rule::Match(m)) = self.rule(i)
                && let MatchSource::Option6(code) = m.source
            {
                let hit = facts
                    .option(code)
                    .filter(|v| !v.is_empty())
                    .is_some_and(|v| m.value.as_ref().is_none_or(|val| match_bytes(val, v)));
                if hit {
                    set(&mut tags, m.set, TagSource::Rule(i), tr);
                } else {
                    tr.event(Event::Rule {
                        item: i,
                        outcome: Outcome::NoMatch("option absent or value differs"),
                    });
                }
            }
        }
        if let Some(hi) = self.find_host6(facts, &tags) {
            tr.event(Event::Rule {
                item: hi,
                outcome: Outcome::Chosen,
            });
            d.host = Some(hi);
            set(&mut tags, self.known, TagSource::Known(hi), tr);
            if let Some(Rule::Host(h)) = self.rule(hi) {
                for &t in &h.set {
                    set(&mut tags, t, TagSource::Rule(hi), tr);
                }
            }
        }
        self.run_tag_if(&mut tags, tr);
        tags
    }

    /// `dhcp-host …,ignore` and `dhcp-ignore`.
    fn ignored6(&self, d: &Decision6<'_>, tags: &TagSet) -> Option<IgnoreReason> {
        if d.host().is_some_and(|h| h.ignore) {
            return Some(IgnoreReason::HostIgnore);
        }
        self.index
            .ignores
            .iter()
            .any(|&i| match self.rule(i) {
                Some(Rule::CondList(_, c)) => !c.is_untagged() && check(&c.0, tags).is_ok(),
                _ => false,
            })
            .then_some(IgnoreReason::DhcpIgnore)
    }

    /// `find_config` for DHCPv6: tagged entries first, then untagged;
    /// within each, the DUID (`id:`), then an exact MAC, then the best
    /// wildcard MAC.
    fn find_host6(&self, facts: &Facts6<'_>, tags: &TagSet) -> Option<u32> {
        let duid = facts.client_id();
        for tagged_pass in [true, false] {
            let eligible = |h: &Host| {
                if tagged_pass {
                    !h.cond.is_untagged() && check(&h.cond.0, tags).is_ok()
                } else {
                    h.cond.is_untagged()
                }
            };
            let hosts = || {
                self.index.hosts.iter().filter_map(|&i| match self.rule(i) {
                    Some(Rule::Host(h)) if eligible(h) => Some((i, h)),
                    _ => None,
                })
            };
            if let Some(duid) = duid
                && let Some((i, _)) = hosts()
                    .find(|(_, h)| !h.ignore_client_id && h.client_ids.iter().any(|id| id == duid))
            {
                return Some(i);
            }
            let Some((htype, mac)) = facts.mac else {
                continue;
            };
            let ht = htype as u8;
            if let Some((i, _)) = hosts().find(|(_, h)| {
                h.macs
                    .iter()
                    .any(|m| !m.has_wildcard() && m.matches(ht, &mac))
            }) {
                return Some(i);
            }
            let mut best: Option<(u32, usize)> = None;
            for (i, h) in hosts() {
                for m in h.macs.iter().filter(|m| m.has_wildcard()) {
                    if m.matches(ht, &mac) && best.is_none_or(|(_, n)| m.literal_octets() > n) {
                        best = Some((i, m.literal_octets()));
                    }
                }
            }
            if let Some((i, _)) = best {
                return Some(i);
            }
        }
        None
    }

    /// The first IPv6 range (list order) on the client's link whose
    /// condition holds.
    fn select_range6<T: Tracer>(
        &self,
        ctx: &Context6<'_>,
        tags: &TagSet,
        tr: &mut T,
    ) -> Option<u32> {
        for &i in &self.index.ranges6 {
            let Some(Rule::Range6(r)) = self.rule(i) else {
                continue;
            };
            if r.on_network(ctx.link).is_none() {
                tr.event(Event::Rule {
                    item: i,
                    outcome: Outcome::Skipped("another link's prefix"),
                });
                continue;
            }
            if let Some(ifn) = &r.constructor
                && !ctx.interface.is_some_and(|n| wildcard_eq(ifn, n))
            {
                tr.event(Event::Rule {
                    item: i,
                    outcome: Outcome::Skipped("constructor: names another interface"),
                });
                continue;
            }
            match check(&r.cond.0, tags) {
                Ok(()) => {
                    tr.event(Event::Rule {
                        item: i,
                        outcome: Outcome::Chosen,
                    });
                    return Some(i);
                }
                Err(f) => tr.event(Event::Rule {
                    item: i,
                    outcome: Outcome::CondFailed(f),
                }),
            }
        }
        None
    }

    /// `option_filter` over the `option6:` lines (per option code: the
    /// first tagged line that holds on the tags without the range's, else
    /// with them, else the first untagged one), then the ORO: an unforced
    /// option goes only to a client that asked for it (or sent no ORO).
    /// Sent in list order (reverse configuration order), as dnsmasq walks
    /// its option list.
    fn select_options6<T: Tracer>(
        &self,
        facts: &Facts6<'_>,
        base: &TagSet,
        full: &TagSet,
        d: &mut Decision6<'_>,
        tr: &mut T,
    ) {
        let mut chosen = [u32::MAX; MAX_OPTIONS6];
        let mut n = 0;
        for (code, lines) in &self.index.opt6_codes {
            let opt = |i: u32| match self.rule(i) {
                Some(Rule::Option6(o)) => Some(o),
                _ => None,
            };
            let tagged_on = |tags: &TagSet| {
                lines.iter().copied().find(|&i| {
                    opt(i).is_some_and(|o| {
                        !o.cond.is_untagged()
                            && check(&o.cond.0, tags).is_ok()
                            && check(&o.cond.0, full).is_ok()
                    })
                })
            };
            let line = tagged_on(base).or_else(|| tagged_on(full)).or_else(|| {
                lines
                    .iter()
                    .copied()
                    .find(|&i| opt(i).is_some_and(|o| o.cond.is_untagged()))
            });
            let Some(i) = line else { continue };
            let Some(o) = opt(i) else { continue };
            if !o.force && !facts.requested(*code) {
                tr.event(Event::Rule {
                    item: i,
                    outcome: Outcome::Skipped("not in the client's ORO"),
                });
                continue;
            }
            if n == MAX_OPTIONS6 {
                tr.event(Event::Note("more option6 lines than a reply can list"));
                break;
            }
            tr.event(Event::Rule {
                item: i,
                outcome: Outcome::Chosen,
            });
            chosen[n] = i;
            n += 1;
        }
        chosen[..n].sort_unstable_by(|a, b| b.cmp(a));
        d.options = chosen;
        d.n_options = n;
        d.dns_builtin = !d.has_option(pxe_dhcp::v6::code::DNS_SERVERS)
            && self.settings.dns_port.is_none_or(|p| p == 53);
    }
}

/// dnsmasq's DHCPv6 class match: option 16 must carry the line's
/// enterprise number (0 when none is written); the text is searched in
/// each counted item.
fn class_matches(
    kind: ClassKind,
    enterprise: Option<u32>,
    text: &[u8],
    facts: &Facts6<'_>,
) -> bool {
    let items = match kind {
        ClassKind::Vendor => match facts.vendor_class() {
            Some((e, items)) if e == enterprise.unwrap_or(0) => items,
            _ => return false,
        },
        ClassKind::User => match facts.user_class() {
            Some(items) => items,
            None => return false,
        },
    };
    counted_items(items).any(|item| contains(item, text))
}

/// An interface name against a pattern with a trailing `*`.
fn wildcard_eq(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => pattern == name,
    }
}
