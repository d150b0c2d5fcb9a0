//! Where the lease writer makes the engine's changes durable: the
//! embedded log of one server ([`log`], the default) or a PostgreSQL
//! database several servers share ([`postgres`]). Both are the engine's
//! [`LeaseStore`]; this enum adds what the writer does between batches
//! (compaction, refreshing the cache from the database) and at shutdown.

pub(crate) mod log;
pub(crate) mod postgres;

use std::string::String;
use std::time::Duration;
use std::vec::Vec;

use pxe_engine::dhcp::Engine;
use pxe_engine::lease::log::LogError;
use pxe_engine::lease::{LeaseChange, LeaseStore, Owner, Verdict};

pub(crate) use self::log::LogStore;
pub(crate) use self::postgres::{PgError, PgStore};

/// Why the lease store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The embedded lease log.
    #[error(transparent)]
    Log(#[from] LogError),
    /// The PostgreSQL lease store.
    #[error(transparent)]
    Postgres(#[from] PgError),
}

/// The lease store the writer uses.
#[derive(Debug)]
pub(crate) enum Store {
    /// The append-only log beside the dnsmasq-format file.
    Log(LogStore),
    /// A PostgreSQL database shared by several servers.
    Postgres(Box<PgStore>),
}

impl Store {
    /// How long the writer may wait for work before
    /// [`maintain`](Self::maintain) may be due.
    pub(crate) fn tick(&self) -> Duration {
        match self {
            Store::Log(_) => LogStore::TICK,
            Store::Postgres(_) => PgStore::TICK,
        }
    }

    /// Whether [`maintain`](Self::maintain) is due; `live` is the number
    /// of leases in the engine's table.
    pub(crate) fn wants_maintenance(&self, live: usize) -> bool {
        match self {
            Store::Log(l) => l.wants_maintenance(live),
            Store::Postgres(p) => p.wants_maintenance(),
        }
    }

    /// Maintenance with the engine locked and every queued change
    /// committed: the log compacts or refreshes its dnsmasq-format file;
    /// the database's changes by other servers come into the table.
    pub(crate) fn maintain(&mut self, engine: &mut Engine, now: u64) -> Result<(), StoreError> {
        match self {
            Store::Log(l) => Ok(l.maintain(engine.leases(), now)?),
            Store::Postgres(p) => {
                let (index, servers) = p.heartbeat()?;
                engine.set_share(index, servers);
                Ok(p.refresh(engine.leases_mut(), now)?)
            }
        }
    }

    /// Whether an error of this store stops the writer (the log: a disk
    /// that cannot be written) or only withholds the batch (the database:
    /// it may come back).
    pub(crate) fn stops_on(&self, _e: &StoreError) -> bool {
        matches!(self, Store::Log(_))
    }

    /// Whether the store could be reached at the last attempt (the log
    /// always can).
    pub(crate) fn reachable(&self) -> bool {
        match self {
            Store::Log(_) => true,
            Store::Postgres(p) => p.reachable(),
        }
    }

    /// An unreachable store tries to connect again (without the engine
    /// locked: it may take a while); whether it is reachable now.
    pub(crate) fn reconnect(&mut self) -> bool {
        match self {
            Store::Log(_) => true,
            Store::Postgres(p) => p.reconnect(),
        }
    }

    /// Whether the engine's table must give up the grants of a batch whose
    /// commit failed: a shared store's table holds only what the store
    /// has (so that degraded mode renews nothing the store lacks); the
    /// log's table is the truth and keeps them for the retry.
    pub(crate) fn forgets_failed_grants(&self) -> bool {
        matches!(self, Store::Postgres(_))
    }

    /// At shutdown, with the queue closed and committed.
    pub(crate) fn close(&mut self, engine: &Engine, now: u64) -> Result<(), StoreError> {
        match self {
            Store::Log(l) => Ok(l.close(engine.leases(), now)?),
            Store::Postgres(p) => {
                p.close();
                Ok(())
            }
        }
    }

    /// Where the leases are kept, for log lines.
    pub(crate) fn describe(&self) -> String {
        match self {
            Store::Log(l) => l.describe(),
            Store::Postgres(p) => p.describe(),
        }
    }
}

impl LeaseStore for Store {
    type Error = StoreError;

    fn stage(&mut self, owner: Owner<'_>, changes: &[LeaseChange]) -> Result<(), StoreError> {
        match self {
            Store::Log(l) => Ok(l.stage(owner, changes)?),
            Store::Postgres(p) => {
                p.stage(owner, changes);
                Ok(())
            }
        }
    }

    fn commit(&mut self, verdicts: &mut Vec<Verdict>) -> Result<(), StoreError> {
        match self {
            Store::Log(l) => Ok(l.commit(verdicts)?),
            Store::Postgres(p) => Ok(p.commit(verdicts)?),
        }
    }
}
