//! A reference to one line of the configuration, kept in a journey so a
//! diagnosis can name the line it concerns.

use core::fmt;

use pxe_rules::config::{Loc, Rule};
use pxe_rules::{Config, Decision};

/// The index of a rule in [`Config::items`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RuleRef(pub u32);

impl RuleRef {
    /// The line that supplied a decision's boot file: its `pxe-service`
    /// (boot-server answers, the UEFI single-service path), else its
    /// `dhcp-boot` line.
    /// Both are the decision's own indices: no search of the
    /// configuration per exchange.
    pub fn boot_source(d: &Decision<'_>) -> Option<RuleRef> {
        let i = d.rule_indices();
        i.service.or(i.boot).map(RuleRef)
    }

    /// The `dhcp-range` line a decision used.
    pub fn range(d: &Decision<'_>) -> Option<RuleRef> {
        d.rule_indices().range.map(RuleRef)
    }

    /// The first `pxe-service` line for architecture `csa` (a proxy
    /// menu names no single line).
    pub fn first_service(config: &Config, csa: u16) -> Option<RuleRef> {
        Self::find(config, |r| matches!(r, Rule::Service(s) if s.csa == csa))
    }

    fn find(config: &Config, is: impl Fn(&Rule) -> bool) -> Option<RuleRef> {
        let i = config.items.iter().position(|item| is(&item.rule))?;
        u32::try_from(i).ok().map(RuleRef)
    }

    /// Where the line is, in `config` (the configuration the journey was
    /// recorded with; `None` if it has fewer items).
    pub fn loc(self, config: &Config) -> Option<&Loc> {
        config
            .items
            .get(usize::try_from(self.0).ok()?)
            .map(|i| &i.loc)
    }

    /// `file:line: the line` for messages.
    pub fn describe(self, config: &Config) -> Option<impl fmt::Display + '_> {
        let item = config.items.get(usize::try_from(self.0).ok()?)?;
        Some(Described {
            loc: &item.loc,
            line: config.rule_display(&item.rule),
        })
    }
}

struct Described<'c, L> {
    loc: &'c Loc,
    line: L,
}

impl<L: fmt::Display> fmt::Display for Described<'_, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.loc, self.line)
    }
}
