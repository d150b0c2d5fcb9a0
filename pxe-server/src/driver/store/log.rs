//! The embedded lease log as the writer's store: group commit through the
//! engine's [`LeaseLog`], compaction when it has grown, and the
//! dnsmasq-format file refreshed while leases change.

use std::string::String;
use std::time::{Duration, Instant};
use std::vec::Vec;

use pxe_engine::lease::log::{LeaseLog, LogError};
use pxe_engine::lease::{LeaseChange, LeaseStore, LeaseTable, Owner, Verdict};

/// The log, and when its dnsmasq-format file was last written.
#[derive(Debug)]
pub(crate) struct LogStore {
    log: LeaseLog,
    /// Leases changed since the dnsmasq-format file was written.
    dirty: bool,
    text_at: Instant,
}

impl LogStore {
    /// The dnsmasq-format file is refreshed at most this often while
    /// leases change (and at every compaction and at shutdown), so tools
    /// that read it see current leases.
    pub(crate) const TICK: Duration = Duration::from_secs(30);

    pub(crate) fn new(log: LeaseLog) -> LogStore {
        LogStore {
            log,
            dirty: false,
            text_at: Instant::now(),
        }
    }

    pub(crate) fn wants_maintenance(&self, live: usize) -> bool {
        self.log.wants_compaction(live) || (self.dirty && self.text_at.elapsed() >= Self::TICK)
    }

    /// Compacts when the log has grown enough (a failure stops the
    /// writer), else refreshes the dnsmasq-format file (a failure is only
    /// logged).
    pub(crate) fn maintain(&mut self, table: &LeaseTable, now: u64) -> Result<(), LogError> {
        if self.log.wants_compaction(table.len()) {
            self.log.compact(table, now)?;
        } else if let Err(err) = self.log.write_dnsmasq_file(table, now) {
            tracing::warn!("{err}");
        }
        self.dirty = false;
        self.text_at = Instant::now();
        Ok(())
    }

    /// Writes the compacted log and the dnsmasq-format file.
    pub(crate) fn close(&mut self, table: &LeaseTable, now: u64) -> Result<(), LogError> {
        self.log.compact(table, now)?;
        tracing::info!("leases flushed to {}", self.log.path().display());
        Ok(())
    }

    pub(crate) fn describe(&self) -> String {
        self.log.path().display().to_string()
    }

    pub(crate) fn stage(
        &mut self,
        owner: Owner<'_>,
        changes: &[LeaseChange],
    ) -> Result<(), LogError> {
        LeaseStore::stage(&mut self.log, owner, changes)
    }

    pub(crate) fn commit(&mut self, verdicts: &mut Vec<Verdict>) -> Result<(), LogError> {
        LeaseStore::commit(&mut self.log, verdicts)?;
        self.dirty = true;
        Ok(())
    }
}

use std::string::ToString;
