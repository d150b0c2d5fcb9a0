//! What a journey records: one [`Step`] per DHCP exchange, TFTP or HTTP
//! transfer, rendered script or callback, and the observations the TFTP
//! and HTTP drivers report ([`TftpObservation`], [`HttpObservation`]).

use core::net::Ipv4Addr;

use core::fmt;

use pxe_dhcp::MessageType;
use pxe_rules::{Config, IgnoreReason, TagId, TagSet};

use super::name::Name;
use super::rule::RuleRef;
use crate::dhcp::event::{ClientClass, LeaseEvent, ReplyKind, Silence};
use crate::dhcp::metrics::DropReason;

/// One thing that happened to a machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step {
    /// When (milliseconds in the clock the store is fed).
    pub at: u64,
    /// What.
    pub what: StepKind,
    /// The file or path concerned (the boot file of a DHCP reply, the file
    /// of a transfer), or empty.
    pub name: Name,
}

/// What a [`Step`] was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepKind {
    /// A DHCP exchange: the request and what became of it.
    Dhcp(DhcpStep),
    /// A TFTP transfer's start or end.
    Tftp(TftpStep),
    /// An HTTP request answered.
    Http(HttpStep),
    /// The OS called back (`/done`).
    Done,
}

/// A DHCP request and its answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DhcpStep {
    /// Its message type (`None`: BOOTP).
    pub message: Option<MessageType>,
    /// The port it arrived on (67, 4011).
    pub port: u16,
    /// Who sent it.
    pub class: ClientClass,
    /// The tags the rules set.
    pub tags: StepTags,
    /// What was done.
    pub answer: Answer,
    /// The configuration line that gave the boot file (`dhcp-boot` or
    /// `pxe-service`), if one did.
    pub rule: Option<RuleRef>,
    /// The `dhcp-range` line that served it, if any.
    pub range: Option<RuleRef>,
}

/// The tags of a request, kept as their ids in the configuration that
/// set them (the first [`StepTags::KEPT`]; names are looked up only when
/// shown, with [`StepTags::names`]): copying two words per exchange
/// instead of formatting names keeps the journeys off the DHCP path's
/// cost. A reload drops them with the rule references.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct StepTags {
    bits: [u64; 2],
    /// Tags with higher ids were set too.
    more: bool,
}

impl StepTags {
    /// Tags with ids below this are kept.
    pub const KEPT: usize = 128;

    /// No tags.
    pub const NONE: StepTags = StepTags {
        bits: [0; 2],
        more: false,
    };

    /// The first [`StepTags::KEPT`] tags of `set`, a set of a
    /// configuration with `tag_count` tags ([`Config::tag_count`]: with
    /// no more than [`StepTags::KEPT`], no id can be beyond them and the
    /// rest of the set is not read).
    pub fn of(set: &TagSet, tag_count: usize) -> StepTags {
        let more =
            tag_count > Self::KEPT && (2..pxe_rules::tags::MAX_TAGS / 64).any(|i| set.word(i) != 0);
        StepTags {
            bits: [set.word(0), set.word(1)],
            more,
        }
    }

    /// Whether no tag was set.
    pub fn is_empty(&self) -> bool {
        self.bits == [0; 2] && !self.more
    }

    /// Whether tags beyond the first [`StepTags::KEPT`] were set (and are
    /// not kept).
    pub fn is_truncated(&self) -> bool {
        self.more
    }

    /// The tags kept, in id order.
    pub fn ids(&self) -> impl Iterator<Item = TagId> + '_ {
        self.bits.iter().enumerate().flat_map(|(wi, &word)| {
            let mut w = word;
            core::iter::from_fn(move || {
                if w == 0 {
                    return None;
                }
                let b = w.trailing_zeros();
                w &= w - 1;
                // wi < 2 and b < 64: the id is < 128.
                Some(TagId((wi as u16) * 64 + b as u16))
            })
        })
    }

    /// The names, comma-separated, in `config` (the configuration the
    /// request was decided by); `…` when some were not kept.
    pub fn names<'a>(&'a self, config: &'a Config) -> TagNames<'a> {
        TagNames { tags: self, config }
    }
}

/// [`StepTags::names`].
pub struct TagNames<'a> {
    tags: &'a StepTags,
    config: &'a Config,
}

impl fmt::Display for TagNames<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, t) in self.tags.ids().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(self.config.tag_name(t))?;
        }
        if self.tags.more {
            f.write_str(if self.tags.ids().next().is_some() {
                ", …"
            } else {
                "…"
            })?;
        }
        Ok(())
    }
}

/// What became of a DHCP request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// A reply was sent.
    Reply {
        /// Which.
        kind: ReplyKind,
        /// Its `yiaddr`.
        yiaddr: Ipv4Addr,
        /// Its `siaddr` (next server).
        next_server: Ipv4Addr,
        /// The next server was given by a name the hosts file lacks.
        unresolved_server: bool,
    },
    /// The rules give no reply.
    Ignored(IgnoreReason),
    /// The full-DHCP state gives no reply.
    Silent(Silence),
    /// A RELEASE or DECLINE.
    Lease(LeaseEvent),
    /// Dropped as malformed or not for us.
    Dropped(DropReason),
}

/// A TFTP transfer event, as a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TftpStep {
    /// Options negotiated, first block sent.
    Started {
        /// Block size in use.
        blksize: u16,
        /// Window size in use.
        windowsize: u16,
        /// The client asked for the size (`tsize`).
        tsize: bool,
    },
    /// The client read the size and ended the transfer (EDK2's probe).
    SizeProbe,
    /// Completed.
    Finished(TftpTotals),
    /// Failed after it started.
    Failed {
        /// What was sent before it failed.
        totals: TftpTotals,
        /// The last block sent and never acknowledged.
        block: u16,
        /// Whether it timed out (as opposed to an ERROR from the client).
        timed_out: bool,
    },
    /// Refused before it started.
    Refused(TftpRefusal),
}

/// What a transfer moved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct TftpTotals {
    /// File bytes sent.
    pub bytes: u64,
    /// Duration in microseconds.
    pub micros: u64,
    /// Block size.
    pub blksize: u16,
    /// Window size.
    pub windowsize: u16,
    /// Blocks sent again after a timeout or duplicate ACK.
    pub retransmits: u32,
}

/// Why a TFTP request was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TftpRefusal {
    /// No such file (ERROR 1).
    NotFound,
    /// Outside the root, unreadable, or a write request (ERROR 2 or 4).
    Denied,
    /// Anything else (bad request, options refused).
    Other,
}

/// An HTTP request, as a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HttpStep {
    /// Response status.
    pub status: u16,
    /// Body bytes sent.
    pub bytes: u64,
    /// A `Range` request.
    pub range: bool,
    /// An iPXE script was rendered.
    pub script: bool,
}

/// What the TFTP service reports about one transfer, keyed by the
/// client's IP address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TftpObservation<'a> {
    /// Options negotiated, the first block (or OACK) sent.
    Started {
        /// The file requested.
        file: &'a [u8],
        /// Block size in use.
        blksize: u16,
        /// Window size in use.
        windowsize: u16,
        /// The client asked for the size.
        tsize: bool,
    },
    /// The client read the size from the OACK and ended the transfer.
    SizeProbe {
        /// The file.
        file: &'a [u8],
    },
    /// Completed.
    Finished {
        /// The file.
        file: &'a [u8],
        /// What was moved.
        totals: TftpTotals,
    },
    /// Failed after it started.
    Failed {
        /// The file.
        file: &'a [u8],
        /// What was moved before.
        totals: TftpTotals,
        /// The last block sent and not acknowledged.
        block: u16,
        /// It timed out (else the client sent an ERROR).
        timed_out: bool,
    },
    /// Refused.
    Refused {
        /// The file requested.
        file: &'a [u8],
        /// Why.
        reason: TftpRefusal,
    },
}

impl<'a> TftpObservation<'a> {
    /// The file concerned.
    pub fn file(&self) -> &'a [u8] {
        match *self {
            TftpObservation::Started { file, .. }
            | TftpObservation::SizeProbe { file }
            | TftpObservation::Finished { file, .. }
            | TftpObservation::Failed { file, .. }
            | TftpObservation::Refused { file, .. } => file,
        }
    }

    pub(super) fn step(&self) -> TftpStep {
        match *self {
            TftpObservation::Started {
                blksize,
                windowsize,
                tsize,
                ..
            } => TftpStep::Started {
                blksize,
                windowsize,
                tsize,
            },
            TftpObservation::SizeProbe { .. } => TftpStep::SizeProbe,
            TftpObservation::Finished { totals, .. } => TftpStep::Finished(totals),
            TftpObservation::Failed {
                totals,
                block,
                timed_out,
                ..
            } => TftpStep::Failed {
                totals,
                block,
                timed_out,
            },
            TftpObservation::Refused { reason, .. } => TftpStep::Refused(reason),
        }
    }
}

/// What the HTTP service reports about one answered request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HttpObservation<'a> {
    /// The request path (without the query).
    pub path: &'a [u8],
    /// Response status.
    pub status: u16,
    /// Body bytes announced.
    pub bytes: u64,
    /// A `Range` request.
    pub range: bool,
    /// An iPXE script was rendered.
    pub script: bool,
}
