//! What [`Engine::handle`](super::Engine::handle) returns: the reply
//! (length in the caller's buffer, destination, not-before time) and the
//! lease changes that must be durable before it leaves, shaped so that a
//! driver reaches the reply only past the changes.

use alloc::vec::Vec;

use super::addressing::Destination;
use super::metrics::DropReason;
use crate::lease::{LeaseChange, Owner};

/// A reply to send: the first `len` bytes of the output buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reply {
    /// Reply length.
    pub len: usize,
    /// Where it goes.
    pub dest: Destination,
    /// Not to be sent before this time, in the clock of the `now` given to
    /// `handle` (`now` itself unless `dhcp-reply-delay` holds it back: it
    /// applies to answers to a DISCOVER and to proxyDHCP replies, as in
    /// dnsmasq).
    pub not_before: u64,
}

/// What became of a datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use = "a reply must be sent"]
pub enum Outcome {
    /// Send this reply.
    Reply(Reply),
    /// Handled, nothing to send (RELEASE, DECLINE, a REQUEST for another
    /// server).
    NoReply,
    /// Dropped and counted.
    Dropped(DropReason),
}

impl Outcome {
    /// The reply, if there is one.
    pub fn reply(&self) -> Option<&Reply> {
        match self {
            Outcome::Reply(r) => Some(r),
            _ => None,
        }
    }
}

/// The result of [`Engine::handle`](super::Engine::handle).
#[derive(Debug, PartialEq, Eq)]
#[must_use = "lease changes must be persisted and the reply sent"]
pub enum Output<'e, O = Outcome> {
    /// Nothing must be made durable: act on the outcome now.
    Ready(O),
    /// Lease changes (a grant, the removal of the client's older lease, a
    /// RELEASE or DECLINE) must reach stable storage first; the outcome is
    /// reachable only through [`Persist`].
    Persist(Persist<'e, O>),
}

impl<O> Output<'_, O> {
    /// The lease changes to make durable (empty for [`Output::Ready`]).
    pub fn changes(&self) -> &[LeaseChange] {
        match self {
            Output::Ready(_) => &[],
            Output::Persist(p) => p.changes(),
        }
    }
}

/// Lease changes to make durable, and the outcome that must wait for them.
#[derive(Debug, PartialEq, Eq)]
#[must_use = "lease changes must be persisted and the reply sent"]
pub struct Persist<'e, O = Outcome> {
    changes: &'e mut Vec<LeaseChange>,
    outcome: O,
    owner: Owner<'e>,
}

impl<'e, O> Persist<'e, O> {
    pub(crate) fn new(changes: &'e mut Vec<LeaseChange>, outcome: O, owner: Owner<'e>) -> Self {
        Persist {
            changes,
            outcome,
            owner,
        }
    }

    /// The client the changes are for (every change of one exchange
    /// concerns its own leases): what a shared store checks a removal
    /// against ([`crate::lease::LeaseStore::stage`]).
    pub fn owner(&self) -> Owner<'e> {
        self.owner
    }

    /// The changes, in order (never empty).
    pub fn changes(&self) -> &[LeaseChange] {
        self.changes
    }

    /// The outcome, for a driver that has made [`Persist::changes`]
    /// durable. If persisting failed, drop this instead: the client
    /// retries, and the engine's table (which already holds the change)
    /// answers it again.
    pub fn persisted(self) -> O {
        self.outcome
    }

    /// Moves the changes into `queue` — a writer that makes them durable
    /// and only then sends the reply — and returns the outcome to hand it
    /// along with them (no copy of the leases).
    pub fn hand_over(self, queue: &mut impl Extend<LeaseChange>) -> O {
        queue.extend(self.changes.drain(..));
        self.outcome
    }
}
