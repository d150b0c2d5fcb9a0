//! The tag phase: every tag source in dnsmasq's order (spec §2.3,
//! `rfc2131.c: dhcp_reply`), the `dhcp-host` lookup (`find_config`) and
//! `tag-if` (`dhcp-common.c: run_tag_if`).

use core::net::Ipv4Addr;

use super::matching::{contains, eval_match, is_cpewan, user_class_matches};
use super::{Run, set};
use crate::config::{ClassKind, Config, Host, RelayKind, Rule};
use crate::facts::Facts;
use crate::tags::{CondFailure, TagId, TagSet, check};
use crate::trace::{Event, NoTrace, Outcome, TagSource, Tracer};

impl<T: Tracer> Run<'_, '_, T> {
    /// Every tag source in order, then `tag-if`: the tags that
    /// `dhcp-ignore`, range selection and the PXE decisions see. Records
    /// the matching `dhcp-host` in the decision.
    pub(super) fn tag(&mut self) -> TagSet {
        let mut tags = TagSet::new();
        self.tag_interface(&mut tags);
        self.tag_cpewan(&mut tags);
        self.tag_relay(&mut tags);
        self.tag_mac(&mut tags);
        self.tag_match(&mut tags);
        self.tag_class(&mut tags);
        self.tag_known(&mut tags);
        self.tag_bootp(&mut tags);
        self.tag_name_match(&mut tags);
        self.tag_host_set(&mut tags);
        self.config.run_tag_if(&mut tags, self.tr);
        tags
    }

    /// The network the request belongs to: the relay's, else ours.
    pub(super) fn arrival_net(&self) -> Ipv4Addr {
        if self.facts.giaddr.is_unspecified() {
            self.ctx.local
        } else {
            self.facts.giaddr
        }
    }

    /// The receiving interface's name, when some rule uses it as a tag.
    fn tag_interface(&mut self, tags: &mut TagSet) {
        if let Some(ifn) = self.ctx.interface
            && let Some(t) = self.config.tag(ifn)
        {
            tags.insert(t);
            self.tr.event(Event::TagSet {
                tag: t,
                source: TagSource::Interface,
            });
        }
    }

    /// `cpewan-id`: a TR-069 device (looked up only when some line tests
    /// the tag).
    fn tag_cpewan(&mut self, tags: &mut TagSet) {
        if let Some(v) = self
            .facts
            .option_at_least(pxe_dhcp::code::VI_VENDOR_INFO, 5)
            && is_cpewan(v)
            && let Some(t) = self.config.tag("cpewan-id")
        {
            set(tags, t, TagSource::CpeWan, self.tr);
        }
    }

    /// `dhcp-circuitid`, `dhcp-remoteid`, `dhcp-subscrid`.
    fn tag_relay(&mut self, tags: &mut TagSet) {
        let config = self.config;
        for &i in &config.index.relay {
            if let Some(Rule::Relay(r)) = config.rule(i) {
                let sub = match r.kind {
                    RelayKind::CircuitId => 1,
                    RelayKind::RemoteId => 2,
                    RelayKind::SubscriberId => 6,
                };
                let hit = self.facts.relay_sub(sub) == Some(r.bytes.as_slice());
                tag_rule(tags, r.set, i, hit, "relay sub-option differs", self.tr);
            }
        }
    }

    /// `dhcp-mac`.
    fn tag_mac(&mut self, tags: &mut TagSet) {
        let config = self.config;
        for &i in &config.index.mac {
            if let Some(Rule::Mac(m)) = config.rule(i) {
                let hit = m.pattern.matches(self.facts.htype, self.facts.chaddr);
                tag_rule(tags, m.set, i, hit, "hardware address differs", self.tr);
            }
        }
    }

    /// `dhcp-match`.
    fn tag_match(&mut self, tags: &mut TagSet) {
        let config = self.config;
        for &i in &config.index.matches {
            if let Some(Rule::Match(m)) = config.rule(i) {
                let (hit, why) = eval_match(m, self.facts);
                tag_rule(tags, m.set, i, hit, why, self.tr);
            }
        }
    }

    /// `dhcp-vendorclass` (option 60) and `dhcp-userclass` (77).
    fn tag_class(&mut self, tags: &mut TagSet) {
        let config = self.config;
        for &i in &config.index.class {
            if let Some(Rule::Class(c)) = config.rule(i) {
                let hit = match c.kind {
                    ClassKind::Vendor => self
                        .facts
                        .vendor_class()
                        .is_some_and(|v| contains(v, c.text.as_bytes())),
                    ClassKind::User => self
                        .facts
                        .user_class()
                        .is_some_and(|u| user_class_matches(u, c.text.as_bytes())),
                };
                tag_rule(tags, c.set, i, hit, "class string not found", self.tr);
            }
        }
    }

    /// `known` (or `known-othernet`): the `dhcp-host` lookup, which sees
    /// the tags so far after `tag-if` (only tagged entries look at tags).
    fn tag_known(&mut self, tags: &mut TagSet) {
        let config = self.config;
        let host = if config.index.tagged_hosts {
            let mut pre = tags.clone();
            config.run_tag_if(&mut pre, &mut NoTrace);
            config.find_host(self.facts, &pre, self.tr)
        } else if config.index.hosts.is_empty() {
            None
        } else {
            config.find_host(self.facts, tags, self.tr)
        };
        let Some(hi) = host else { return };
        self.d.host = Some(hi);
        let net = self.arrival_net();
        let othernet = match config.rule(hi) {
            Some(Rule::Host(h)) => h.addr.is_some_and(|a| {
                let m = u32::from(self.ctx.netmask);
                u32::from(a) & m != u32::from(net) & m
            }),
            _ => false,
        };
        if othernet {
            set(
                tags,
                config.known_othernet,
                TagSource::KnownOtherNet(hi),
                self.tr,
            );
        } else {
            set(tags, config.known, TagSource::Known(hi), self.tr);
        }
    }

    /// BOOTP: a tag named like the request's `file`, then `bootp`.
    fn tag_bootp(&mut self, tags: &mut TagSet) {
        if self.facts.is_dhcp() {
            return;
        }
        let config = self.config;
        if !self.facts.file.is_empty()
            && let Ok(name) = core::str::from_utf8(self.facts.file)
            && let Some(t) = config.tag(name)
        {
            set(tags, t, TagSource::Bootp, self.tr);
        }
        set(tags, config.bootp, TagSource::Bootp, self.tr);
    }

    /// `dhcp-name-match` on the client's name (option 12, else 81).
    fn tag_name_match(&mut self, tags: &mut TagSet) {
        let Some(hn) = self.facts.hostname().or_else(|| self.facts.fqdn_name()) else {
            return;
        };
        let hn = pxe_dhcp::c_string(hn);
        let config = self.config;
        for &i in &config.index.name_match {
            if let Some(Rule::NameMatch(n)) = config.rule(i) {
                let nb = n.name.as_bytes();
                let hit = if n.prefix {
                    hn.len() >= nb.len() && hn[..nb.len()].eq_ignore_ascii_case(nb)
                } else {
                    hn.eq_ignore_ascii_case(nb)
                };
                tag_rule(tags, n.set, i, hit, "host name differs", self.tr);
            }
        }
    }

    /// The matching host's own `set:` tags.
    fn tag_host_set(&mut self, tags: &mut TagSet) {
        let Some(hi) = self.d.host else { return };
        if let Some(Rule::Host(h)) = self.config.rule(hi) {
            for &t in &h.set {
                set(tags, t, TagSource::Rule(hi), self.tr);
            }
        }
    }
}

/// A tag-source line's result (`dhcp-match`, `dhcp-mac`, `dhcp-circuitid`
/// and the like): on a hit its tag is set, then the outcome is traced.
fn tag_rule<T: Tracer>(
    tags: &mut TagSet,
    t: TagId,
    item: u32,
    hit: bool,
    why: &'static str,
    tr: &mut T,
) {
    let outcome = if hit {
        set(tags, t, TagSource::Rule(item), tr);
        Outcome::Matched
    } else {
        Outcome::NoMatch(why)
    };
    tr.event(Event::Rule { item, outcome });
}

impl Config {
    /// `run_tag_if`: each line once, in config order, on the tags so far.
    pub(crate) fn run_tag_if<T: Tracer>(&self, tags: &mut TagSet, tr: &mut T) {
        for &i in &self.index.tag_if {
            let Some(Rule::TagIf(t)) = self.rule(i) else {
                continue;
            };
            let mut ok = Ok(());
            for w in &t.cond {
                let present = match (&w.tag, &w.mask) {
                    (Some(tag), _) => tags.contains(*tag),
                    (None, Some(mask)) => tags.intersects(mask),
                    (None, None) => false,
                };
                if w.negated == present {
                    ok = Err(match (w.tag, present) {
                        (Some(tag), true) => Outcome::CondFailed(CondFailure::Present(tag)),
                        (Some(tag), false) => Outcome::CondFailed(CondFailure::Missing(tag)),
                        (None, true) => Outcome::NoMatch("a tag matches the negated wildcard"),
                        (None, false) => Outcome::NoMatch("no tag matches the wildcard"),
                    });
                    break;
                }
            }
            match ok {
                Ok(()) => {
                    tr.event(Event::Rule {
                        item: i,
                        outcome: Outcome::Matched,
                    });
                    for &s in &t.set {
                        set(tags, s, TagSource::Rule(i), tr);
                    }
                }
                Err(outcome) => tr.event(Event::Rule { item: i, outcome }),
            }
        }
    }

    /// `find_config`: tagged entries first, then untagged; within each,
    /// client id, exact MAC, host name, best wildcard MAC.
    pub(crate) fn find_host<T: Tracer>(
        &self,
        facts: &Facts<'_>,
        tags: &TagSet,
        tr: &mut T,
    ) -> Option<u32> {
        let found = [true, false]
            .into_iter()
            .find_map(|tagged_pass| self.find_host_in_pass(facts, tags, tagged_pass));
        if let Some(i) = found {
            tr.event(Event::Rule {
                item: i,
                outcome: Outcome::Chosen,
            });
        }
        found
    }

    /// One pass of [`Config::find_host`] over the tagged (holding) or the
    /// untagged entries.
    fn find_host_in_pass(
        &self,
        facts: &Facts<'_>,
        tags: &TagSet,
        tagged_pass: bool,
    ) -> Option<u32> {
        let clid = if self.settings.ignore_client_id {
            None
        } else {
            facts.client_id()
        };
        let hostname = facts.hostname().map(pxe_dhcp::c_string);
        let eligible = |h: &Host| -> bool {
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
        let by_client_id = clid.and_then(|c| {
            hosts().find(|(_, h)| !h.ignore_client_id && h.client_ids.iter().any(|id| id == c))
        });
        let by_mac = || {
            hosts().find(|(_, h)| {
                h.macs
                    .iter()
                    .any(|m| !m.has_wildcard() && m.matches(facts.htype, facts.chaddr))
            })
        };
        let by_name = || {
            let hn = hostname?;
            hosts().find(|(_, h)| {
                h.macs.is_empty()
                    && h.client_ids.is_empty()
                    && h.name
                        .as_deref()
                        .is_some_and(|n| n.as_bytes().eq_ignore_ascii_case(hn))
            })
        };
        let best_wildcard = || {
            let mut best: Option<(u32, usize)> = None;
            for (i, h) in hosts() {
                for m in h.macs.iter().filter(|m| m.has_wildcard()) {
                    if m.matches(facts.htype, facts.chaddr)
                        && best.is_none_or(|(_, n)| m.literal_octets() > n)
                    {
                        best = Some((i, m.literal_octets()));
                    }
                }
            }
            best
        };
        by_client_id
            .or_else(by_mac)
            .or_else(by_name)
            .map(|(i, _)| i)
            .or_else(|| best_wildcard().map(|(i, _)| i))
    }
}
