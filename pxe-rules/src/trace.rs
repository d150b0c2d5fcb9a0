//! The explanation trace: every rule considered and why it did or did not
//! apply.
//!
//! Events carry only indexes and static text, so recording them costs
//! nothing when the [`Tracer`] is [`NoTrace`]. [`Explanation`] (with
//! `alloc`) collects them and prints them with the configuration's names
//! and source lines.

use crate::tags::{CondFailure, TagId};

/// Why a tag was set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagSource {
    /// The receiving interface's name.
    Interface,
    /// A rule (item index): `dhcp-match`, `dhcp-mac`, `tag-if`, ...
    Rule(u32),
    /// A `dhcp-host` matched this client on this network (item index).
    Known(u32),
    /// A `dhcp-host` matched, but for another network (item index).
    KnownOtherNet(u32),
    /// BOOTP request.
    Bootp,
    /// A TR-069 device: option 125 with a Broadband Forum block
    /// (`cpewan-id`).
    CpeWan,
    /// The `set:` of the `dhcp-range` used (item index).
    Range(u32),
}

/// What happened to one rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Its condition or pattern held; it applied.
    Matched,
    /// It was chosen among several candidates.
    Chosen,
    /// Its pattern/value did not match the request.
    NoMatch(&'static str),
    /// Its tag condition failed.
    CondFailed(CondFailure),
    /// Its condition held but another line was chosen (item index).
    Superseded(u32),
    /// Not chosen for the reason given.
    Skipped(&'static str),
}

/// One trace event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A tag was added.
    TagSet {
        /// The tag.
        tag: TagId,
        /// Why.
        source: TagSource,
    },
    /// A rule (item index) was considered.
    Rule {
        /// Index into [`Config::items`](crate::Config::items).
        item: u32,
        /// The result.
        outcome: Outcome,
    },
    /// A decision about the request as a whole.
    Note(&'static str),
}

/// Receives trace events during evaluation.
pub trait Tracer {
    /// Records one event.
    fn event(&mut self, e: Event);
}

/// A tracer that records nothing (the fast path).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoTrace;

impl Tracer for NoTrace {
    #[inline(always)]
    fn event(&mut self, _: Event) {}
}

#[cfg(feature = "alloc")]
pub use collect::Explanation;

#[cfg(feature = "alloc")]
mod collect {
    use super::*;
    use crate::config::Config;
    use alloc::vec::Vec;

    /// Collects every event; prints them against a configuration.
    #[derive(Debug, Clone, Default)]
    pub struct Explanation {
        /// The events in evaluation order.
        pub events: Vec<Event>,
    }

    impl Tracer for Explanation {
        fn event(&mut self, e: Event) {
            self.events.push(e);
        }
    }

    impl Explanation {
        /// A printable view using the configuration's names and lines.
        pub fn display<'a>(&'a self, config: &'a Config) -> ExplanationDisplay<'a> {
            ExplanationDisplay { ex: self, config }
        }
    }

    /// [`Explanation`] printed against its configuration.
    pub struct ExplanationDisplay<'a> {
        ex: &'a Explanation,
        config: &'a Config,
    }

    impl core::fmt::Display for ExplanationDisplay<'_> {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            let c = self.config;
            let rule = |f: &mut core::fmt::Formatter<'_>, i: u32| -> core::fmt::Result {
                match c.items.get(i as usize) {
                    Some(item) => write!(f, "{}: {}", item.loc, c.rule_display(&item.rule)),
                    None => write!(f, "rule #{i}"),
                }
            };
            for e in &self.ex.events {
                match *e {
                    Event::TagSet { tag, source } => {
                        write!(f, "tag {} set by ", c.tag_name(tag))?;
                        match source {
                            TagSource::Interface => f.write_str("the receiving interface")?,
                            TagSource::Bootp => f.write_str("BOOTP request")?,
                            TagSource::CpeWan => {
                                f.write_str("option 125 (Broadband Forum OUI and serial)")?
                            }
                            TagSource::Rule(i) | TagSource::Range(i) => rule(f, i)?,
                            TagSource::Known(i) => {
                                f.write_str("known host ")?;
                                rule(f, i)?
                            }
                            TagSource::KnownOtherNet(i) => {
                                f.write_str("host known on another network ")?;
                                rule(f, i)?
                            }
                        }
                    }
                    Event::Rule { item, outcome } => {
                        rule(f, item)?;
                        f.write_str(" -> ")?;
                        match outcome {
                            Outcome::Matched => f.write_str("matched")?,
                            Outcome::Chosen => f.write_str("CHOSEN")?,
                            Outcome::NoMatch(why) => write!(f, "no match: {why}")?,
                            Outcome::CondFailed(CondFailure::Missing(t)) => {
                                write!(f, "skipped: tag {} is not set", c.tag_name(t))?
                            }
                            Outcome::CondFailed(CondFailure::Present(t)) => {
                                write!(f, "skipped: tag {} is set (negated)", c.tag_name(t))?
                            }
                            Outcome::Superseded(by) => {
                                f.write_str("holds, but superseded by ")?;
                                match c.items.get(by as usize) {
                                    Some(it) => write!(f, "{}", it.loc)?,
                                    None => write!(f, "rule #{by}")?,
                                }
                            }
                            Outcome::Skipped(why) => write!(f, "skipped: {why}")?,
                        }
                    }
                    Event::Note(n) => f.write_str(n)?,
                }
                f.write_str("\n")?;
            }
            Ok(())
        }
    }
}
