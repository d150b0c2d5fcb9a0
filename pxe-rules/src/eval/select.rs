//! Single-choice selections: `dhcp-ignore`, the range on the arrival
//! network, `dhcp-boot` (`rfc2131.c: find_boot`), one `dhcp-option` line
//! per number (`dhcp-common.c: option_filter`), `dhcp-reply-delay`.

use core::net::Ipv4Addr;

use super::{Ranges, Run, holds};
use crate::config::{Boot, Config, RangeMode, Rule, ServerRef};
use crate::decision::{Decision, IgnoreReason};
use crate::tags::{TagSet, check};
use crate::trace::{Event, Outcome, Tracer};

impl<'a, T: Tracer> Run<'a, '_, T> {
    /// `dhcp-host …,ignore`, then the `dhcp-ignore` lines.
    pub(super) fn ignore(&mut self, tags: &TagSet) -> Option<IgnoreReason> {
        let config = self.config;
        if let Some(Rule::Host(h)) = self.d.host.and_then(|i| config.rule(i))
            && h.ignore
        {
            return Some(IgnoreReason::HostIgnore);
        }
        for &i in &config.index.ignores {
            if let Some(Rule::CondList(_, c)) = config.rule(i) {
                match holds(c, tags, false) {
                    Ok(()) => {
                        self.tr.event(Event::Rule {
                            item: i,
                            outcome: Outcome::Matched,
                        });
                        return Some(IgnoreReason::DhcpIgnore);
                    }
                    Err(e) => self.tr.event(Event::Rule {
                        item: i,
                        outcome: Outcome::CondFailed(e),
                    }),
                }
            }
        }
        None
    }

    /// The first proxy range and the first full range (list order) on the
    /// arrival network whose condition holds; a full range must contain
    /// the address the server intends to give, when it knows it.
    pub(super) fn select_range(&mut self, tags: &TagSet) -> Ranges {
        let config = self.config;
        let net = self.arrival_net();
        let mut found = Ranges::default();
        for &i in &config.index.ranges {
            let Some(Rule::Range(r)) = config.rule(i) else {
                continue;
            };
            if !r.same_net(net, self.ctx.netmask) {
                self.tr.event(Event::Rule {
                    item: i,
                    outcome: Outcome::Skipped("another network"),
                });
                continue;
            }
            if let Err(e) = holds(&r.cond, tags, true) {
                self.tr.event(Event::Rule {
                    item: i,
                    outcome: Outcome::CondFailed(e),
                });
                continue;
            }
            if r.mode == RangeMode::Proxy {
                found.proxy = found.proxy.or(Some(i));
            } else if found.full.is_none() {
                let fits = self.ctx.address.is_none_or(|a| {
                    r.mode == RangeMode::Static
                        || (u32::from(r.start) <= u32::from(a) && u32::from(a) <= u32::from(r.end))
                });
                if fits {
                    found.full = Some(i);
                } else {
                    self.tr.event(Event::Rule {
                        item: i,
                        outcome: Outcome::Skipped("address not in range"),
                    });
                }
            }
        }
        found
    }

    /// `find_boot`: the last matching tagged `dhcp-boot` line in the
    /// file, else the last untagged one; recorded in the decision.
    pub(super) fn select_boot(&mut self, tags: &TagSet) -> Option<&'a Boot> {
        let config = self.config;
        let chosen = config.find_boot(tags, self.tr);
        self.d.boot = chosen;
        match config.rule(chosen?) {
            Some(Rule::Boot(b)) => Some(b),
            _ => None,
        }
    }
}

/// The next server a `dhcp-boot` line names: an address becomes `siaddr`,
/// a name is left for the server to resolve (and `siaddr` cleared).
pub(super) fn apply_boot_server<'a>(d: &mut Decision<'a>, server: Option<&'a ServerRef>) {
    match server {
        Some(ServerRef::Addr(a)) => d.siaddr = *a,
        Some(ServerRef::Name(n)) => {
            d.siaddr = Ipv4Addr::UNSPECIFIED;
            d.siaddr_host = Some(n.as_str());
        }
        None => {}
    }
}

impl Config {
    /// `find_boot` over the `dhcp-boot` lines in list order.
    fn find_boot<T: Tracer>(&self, tags: &TagSet, tr: &mut T) -> Option<u32> {
        for &i in &self.index.boots {
            if let Some(Rule::Boot(b)) = self.rule(i)
                && !b.cond.is_untagged()
            {
                match check(&b.cond.0, tags) {
                    Ok(()) => {
                        tr.event(Event::Rule {
                            item: i,
                            outcome: Outcome::Chosen,
                        });
                        return Some(i);
                    }
                    Err(e) => tr.event(Event::Rule {
                        item: i,
                        outcome: Outcome::CondFailed(e),
                    }),
                }
            }
        }
        let untagged = self
            .index
            .boots
            .iter()
            .copied()
            .find(|&i| matches!(self.rule(i), Some(Rule::Boot(b)) if b.cond.is_untagged()))?;
        tr.event(Event::Rule {
            item: untagged,
            outcome: Outcome::Chosen,
        });
        Some(untagged)
    }

    /// `option_filter`: the line (item index) chosen for option `code`:
    /// tagged lines holding on the request's own tags, then tagged lines
    /// holding only with the range tag, then untagged lines; the first in
    /// list order (the last in the file) of the best class wins.
    pub(super) fn selected_option<T: Tracer>(
        &self,
        code: u8,
        base: &TagSet,
        full: &TagSet,
        tr: &mut T,
    ) -> Option<u32> {
        let lines = self
            .index
            .opt_codes
            .iter()
            .find(|(c, _)| *c == code)
            .map_or(&[][..], |(_, l)| l.as_slice());
        let plain = |i: u32| match self.rule(i) {
            Some(Rule::Option(o)) => Some(o),
            _ => None,
        };
        let tagged_on = |tags: &TagSet| {
            lines.iter().copied().find(|&i| {
                plain(i).is_some_and(|o| {
                    !o.cond.is_untagged()
                        && check(&o.cond.0, tags).is_ok()
                        && check(&o.cond.0, full).is_ok()
                })
            })
        };
        if let Some(i) = tagged_on(base).or_else(|| tagged_on(full)) {
            return Some(i);
        }
        let untagged = lines
            .iter()
            .copied()
            .find(|&i| plain(i).is_some_and(|o| o.cond.is_untagged()))?;
        tr.event(Event::Rule {
            item: untagged,
            outcome: Outcome::Chosen,
        });
        Some(untagged)
    }

    /// `dhcp-reply-delay`: the first tagged line that holds, else the
    /// first untagged one; 0 without either.
    pub(super) fn find_delay(&self, tags: &TagSet) -> u32 {
        for untagged_pass in [false, true] {
            for &i in &self.index.delays {
                if let Some(Rule::Delay(dl)) = self.rule(i)
                    && dl.cond.is_untagged() == untagged_pass
                    && (untagged_pass || check(&dl.cond.0, tags).is_ok())
                {
                    return dl.secs;
                }
            }
        }
        0
    }
}
