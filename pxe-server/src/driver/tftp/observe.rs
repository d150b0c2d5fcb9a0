//! What the TFTP service tells the boot journeys: one observation when a
//! transfer starts (the options negotiated), one when it ends (bytes,
//! duration, retransmits, or where it stalled), one per refused request —
//! never one per block, so the journeys' lock is taken twice per transfer
//! and the block path neither locks nor allocates.
//!
//! The endpoint decides everything (what a size probe is, how a transfer
//! ended); this only translates its answers into
//! [`TftpObservation`]s keyed by the client's address.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use pxe_engine::journey::{Name, TftpObservation, TftpRefusal, TftpTotals};
use pxe_tftp::TransferOptions;
use pxe_tftp::server::{Ended, Failure, Outcome, RejectReason, Rejection, TransferId};
use pxe_tftp::wire::ErrorCode;

use super::files::FsSource;
use crate::driver::journeys::Journeys;

/// A running transfer as the journeys will be told of its end.
#[derive(Clone, Copy, Debug)]
struct Running {
    /// The name as the client asked for it (the boot file the DHCP reply
    /// named, not the resolved path), kept inline: no allocation.
    name: Name,
    granted: TransferOptions,
}

/// Reports transfers to the journeys, when there are journeys.
#[derive(Debug, Default)]
pub(super) struct Observer {
    journeys: Option<Arc<Journeys>>,
    /// Transfers started and not yet ended (at most `tftp-max`, plus
    /// replaced ones not yet given back).
    running: HashMap<TransferId, Running>,
}

impl Observer {
    pub(super) fn new(journeys: Option<Arc<Journeys>>) -> Observer {
        Observer {
            journeys,
            running: HashMap::new(),
        }
    }

    /// Takes up the journeys of reloaded settings (the same ones, unless
    /// the service was built without them).
    pub(super) fn set_journeys(&mut self, journeys: Option<Arc<Journeys>>) {
        self.journeys = journeys;
    }

    /// Transfer `id` of file `name` started for `peer` with `granted`.
    pub(super) fn started(
        &mut self,
        id: TransferId,
        peer: SocketAddr,
        name: &[u8],
        granted: &TransferOptions,
    ) {
        let (Some(j), Some(ip)) = (&self.journeys, v4(peer)) else {
            return;
        };
        let granted = *granted;
        j.tftp(
            ip,
            &TftpObservation::Started {
                file: name,
                blksize: granted.effective_blksize(),
                windowsize: granted.effective_windowsize(),
                tsize: granted.tsize.is_some(),
            },
        );
        let name = Name::new(name);
        self.running.insert(id, Running { name, granted });
    }

    /// File `name` was refused to `peer` with ERROR `code`.
    pub(super) fn refused(&self, peer: SocketAddr, name: &[u8], code: ErrorCode) {
        let reason = match code {
            ErrorCode::FILE_NOT_FOUND => TftpRefusal::NotFound,
            ErrorCode::ACCESS_VIOLATION => TftpRefusal::Denied,
            _ => TftpRefusal::Other,
        };
        self.tell(peer, &TftpObservation::Refused { file: name, reason });
    }

    /// A request of `peer` was rejected before any file was looked at (a
    /// write, a bad mode or option). Stray datagrams on the request port
    /// (not requests at all) are no part of a boot and are not told.
    pub(super) fn rejected(&self, peer: SocketAddr, rejection: &Rejection) {
        let reason = match rejection.reason {
            RejectReason::NotARequest(_) | RejectReason::Malformed(_) => return,
            RejectReason::WritesDisabled => TftpRefusal::Denied,
            _ => TftpRefusal::Other,
        };
        self.tell(peer, &TftpObservation::Refused { file: b"", reason });
    }

    /// A transfer ended as `ended` says.
    pub(super) fn ended(&mut self, ended: &Ended<FsSource>) {
        let t = &ended.transfer;
        let Some(run) = self.running.remove(&t.id()) else {
            return;
        };
        let file = run.name.as_bytes();
        let totals = TftpTotals {
            bytes: t.stats().bytes,
            micros: u64::try_from(t.elapsed().as_micros()).unwrap_or(u64::MAX),
            blksize: run.granted.effective_blksize(),
            windowsize: run.granted.effective_windowsize(),
            retransmits: u32::try_from(t.retransmits()).unwrap_or(u32::MAX),
        };
        let o = match ended.outcome {
            Outcome::Completed => TftpObservation::Finished { file, totals },
            Outcome::SizeProbe => TftpObservation::SizeProbe { file },
            Outcome::Failed(why) => TftpObservation::Failed {
                file,
                totals,
                block: t.first_unacknowledged_block(),
                timed_out: why == Failure::TimedOut,
            },
        };
        self.tell(t.peer(), &o);
    }

    fn tell(&self, peer: SocketAddr, o: &TftpObservation<'_>) {
        if let (Some(j), Some(ip)) = (&self.journeys, v4(peer)) {
            j.tftp(ip, o);
        }
    }
}

/// The client's IPv4 address (journeys know clients by the address DHCP
/// gave them).
fn v4(peer: SocketAddr) -> Option<Ipv4Addr> {
    match peer {
        SocketAddr::V4(a) => Some(*a.ip()),
        SocketAddr::V6(a) => a.ip().to_ipv4_mapped(),
    }
}
