//! The lease-store interface: where a driver makes the engine's lease
//! changes durable before the replies that announce them leave.
//!
//! The engine decides on its own table ([`LeaseTable`](super::LeaseTable))
//! and hands the changes of each exchange out through
//! [`Persist`](crate::dhcp::Persist). A driver [`stage`](LeaseStore::stage)s
//! the changes of every exchange it has queued, [`commit`](LeaseStore::commit)s
//! them in one step (group commit: one `fdatasync`, or one database
//! transaction), and sends the reply of an exchange only if its
//! [`Verdict`] is [`Verdict::Durable`].
//!
//! A store of one server (the embedded log, [`super::log::LeaseLog`])
//! accepts every change: the engine's table is the truth. A store shared by
//! several servers (PostgreSQL in `pxe-server`) is the truth instead, and
//! the engine's table a cache of it: a claim on an address another server
//! has given out meanwhile is [`Verdict::Refused`], the reply is withheld
//! (the client retries), and [`Engine::store_refused`](crate::Engine::store_refused)
//! puts what the store holds into the table so the retry is answered
//! from it.

use alloc::vec::Vec;
use core::fmt;
use core::net::Ipv4Addr;

use super::{HwAddr, Lease, LeaseChange};

/// The client on whose behalf an exchange's changes are made: every
/// change of one exchange (its grant or offer, the removal of its older
/// lease, its RELEASE or DECLINE) concerns this client's own leases, so a
/// shared store removes an address only while it is still this client's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Owner<'a> {
    /// The client's hardware address.
    pub hw: HwAddr,
    /// The client identifier (option 61), if it sent one.
    pub client_id: Option<&'a [u8]>,
}

impl Owner<'_> {
    /// Whether `lease` belongs to this client (dnsmasq's rule, as
    /// [`Lease::belongs_to`]).
    pub fn holds(&self, lease: &Lease) -> bool {
        lease.belongs_to(self.client_id, &self.hw)
    }
}

/// What the store holds on an address it would not give to a client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conflict {
    /// The address claimed.
    pub addr: Ipv4Addr,
    /// The lease (or held offer) of another client on it, as the store has
    /// it; `None` if the store could not say.
    pub holder: Option<Lease>,
    /// Whether `holder` is only an offer (held until its `expires`).
    pub offer: bool,
}

/// The outcome of one staged exchange after [`LeaseStore::commit`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Every change of the exchange is durable: its reply may leave.
    Durable,
    /// The store refused the exchange's claim (another client holds the
    /// address there); none of its changes was made. Withhold the reply
    /// and tell the engine ([`Engine::store_refused`](crate::Engine::store_refused)).
    Refused(Conflict),
}

/// A durable home for the engine's lease changes (the embedded log, a
/// database shared by several servers, flash).
///
/// The contract: after [`commit`](Self::commit) returns `Ok`, each staged
/// exchange has exactly one verdict, in staging order, and the changes of
/// every [`Verdict::Durable`] exchange survive a crash. After an `Err`,
/// nothing may be taken as durable: no reply of the batch leaves.
pub trait LeaseStore {
    /// What went wrong (the whole batch is withheld).
    type Error: fmt::Display;

    /// Queue the changes of one exchange, made for `owner`, for the next
    /// commit.
    fn stage(&mut self, owner: Owner<'_>, changes: &[LeaseChange]) -> Result<(), Self::Error>;

    /// Make every staged exchange durable at once; push one verdict per
    /// staged exchange onto `verdicts`, in staging order.
    fn commit(&mut self, verdicts: &mut Vec<Verdict>) -> Result<(), Self::Error>;
}
