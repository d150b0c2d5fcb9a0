//! How transfers end, and the endpoint's counters.

use core::fmt;

use crate::error::{State, TransferError};
use crate::io::DataSource;
use crate::wire::ErrorCode;

use super::ReadTransfer;

/// Why a transfer failed, as counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Failure {
    /// The client stopped answering.
    TimedOut,
    /// The client sent an ERROR (other than a size probe's).
    PeerError(ErrorCode),
    /// Reading the file failed, or it shrank.
    Storage,
    /// The client sent something with no place in the transfer.
    Protocol,
    /// Ended locally ([`Transfer::abort`](super::Transfer::abort),
    /// [`Endpoint::abort_all`](super::Endpoint::abort_all), shutdown).
    Aborted,
    /// A new request from the same client replaced it (see
    /// [`Endpoint`](super::Endpoint) for the repeated-request rule).
    Superseded,
    /// The driver gave it back unfinished (its socket failed), or could not
    /// give it a big enough buffer.
    Abandoned,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::TimedOut => f.write_str("the client stopped answering"),
            Failure::PeerError(c) => write!(f, "the client sent ERROR {c}"),
            Failure::Storage => f.write_str("the file could not be read"),
            Failure::Protocol => f.write_str("the client broke the protocol"),
            Failure::Aborted => f.write_str("aborted by the server"),
            Failure::Superseded => f.write_str("replaced by a new request from the client"),
            Failure::Abandoned => f.write_str("abandoned by the driver"),
        }
    }
}

/// How a transfer ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Every byte was delivered and acknowledged.
    Completed,
    /// The client asked with `tsize`, read the size from the OACK and ended
    /// the transfer with an ERROR: UEFI firmware (EDK2) does this on purpose
    /// before asking again. Not a failure.
    SizeProbe,
    /// It failed.
    Failed(Failure),
}

impl Outcome {
    /// How `engine`, finished or given back unfinished, ended.
    pub(crate) fn of<S: DataSource>(engine: &ReadTransfer<S>) -> Outcome {
        match engine.state() {
            State::Complete => Outcome::Completed,
            State::Failed(_) if engine.is_size_probe() => Outcome::SizeProbe,
            State::Failed(e) => Outcome::Failed(match e {
                TransferError::TimedOut { .. } => Failure::TimedOut,
                TransferError::Peer { code, .. } => Failure::PeerError(*code),
                TransferError::Storage(_) | TransferError::SourceShrank { .. } => Failure::Storage,
                TransferError::UnexpectedPacket(_)
                | TransferError::BlockTooLarge { .. }
                | TransferError::BadOack(_) => Failure::Protocol,
                TransferError::Aborted(_) => Failure::Aborted,
                TransferError::BufferTooSmall { .. } => Failure::Abandoned,
            }),
            State::Active => Outcome::Failed(Failure::Abandoned),
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Completed => f.write_str("completed"),
            Outcome::SizeProbe => f.write_str("size probe (OACK answered with ERROR)"),
            Outcome::Failed(why) => write!(f, "failed: {why}"),
        }
    }
}

/// Failed transfers, by reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Failures {
    /// [`Failure::TimedOut`].
    pub timed_out: u64,
    /// [`Failure::PeerError`].
    pub peer_error: u64,
    /// [`Failure::Storage`].
    pub storage: u64,
    /// [`Failure::Protocol`].
    pub protocol: u64,
    /// [`Failure::Aborted`].
    pub aborted: u64,
    /// [`Failure::Superseded`].
    pub superseded: u64,
    /// [`Failure::Abandoned`].
    pub abandoned: u64,
}

impl Failures {
    /// All failures.
    pub fn total(&self) -> u64 {
        self.timed_out
            + self.peer_error
            + self.storage
            + self.protocol
            + self.aborted
            + self.superseded
            + self.abandoned
    }

    fn count(&mut self, why: Failure) {
        let n = match why {
            Failure::TimedOut => &mut self.timed_out,
            Failure::PeerError(_) => &mut self.peer_error,
            Failure::Storage => &mut self.storage,
            Failure::Protocol => &mut self.protocol,
            Failure::Aborted => &mut self.aborted,
            Failure::Superseded => &mut self.superseded,
            Failure::Abandoned => &mut self.abandoned,
        };
        *n += 1;
    }
}

/// The endpoint's counters.
///
/// Every datagram the endpoint handles as a request is counted once in
/// `requests` and ends in exactly one of `duplicates`, `refused`, `busy`
/// or `started` (an [`Admission`](super::Admission) is in none of them
/// until the driver opens or gives it up). Every started transfer is
/// running or ended in exactly one of `completed`, `probes` or `failed`:
///
/// `requests = duplicates + refused + busy + started + admissions pending`
/// and `started = completed + probes + failed.total() + running`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counters {
    /// Datagrams handled as requests (every datagram on the request port,
    /// except those routed to a running transfer in single-port mode).
    pub requests: u64,
    /// Repeated requests dropped as the same request.
    pub duplicates: u64,
    /// Requests answered with an ERROR (malformed, not a read request, a
    /// bad option, a file refused) or, for an ERROR sent to the request
    /// port, dropped.
    pub refused: u64,
    /// Requests dropped because `tftp-max` transfers were running, or no
    /// port for the transfer could be bound.
    pub busy: u64,
    /// Transfers started.
    pub started: u64,
    /// Transfers completed.
    pub completed: u64,
    /// Transfers ended as UEFI size probes.
    pub probes: u64,
    /// Transfers failed, by reason.
    pub failed: Failures,
    /// Datagrams from strangers: on a transfer's port from someone else
    /// (counted when the transfer ends), or in single-port mode a non-request
    /// from a client with no transfer.
    pub foreign_tids: u64,
    /// Payload bytes sent for the first time by ended transfers.
    pub bytes: u64,
}

impl Counters {
    /// Counts how a transfer ended.
    pub(crate) fn count_outcome(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Completed => self.completed += 1,
            Outcome::SizeProbe => self.probes += 1,
            Outcome::Failed(why) => self.failed.count(why),
        }
    }

    /// Takes back a superseded count (the transfer had ended on its own).
    pub(crate) fn uncount_superseded(&mut self) {
        self.failed.superseded = self.failed.superseded.saturating_sub(1);
    }

    /// Counts what an ended transfer sent and the strangers it answered.
    pub(crate) fn count_traffic(&mut self, bytes: u64, foreign: u64) {
        self.bytes = self.bytes.saturating_add(bytes);
        self.foreign_tids = self.foreign_tids.saturating_add(foreign);
    }
}
