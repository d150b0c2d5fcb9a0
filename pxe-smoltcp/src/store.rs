//! A ready [`LeaseStore`](crate::LeaseStore) for boards: lease changes as
//! checksummed records (`pxe_engine::lease::record`, the format of the
//! server's own lease log) appended to whatever the board has (a flash
//! region, EEPROM, FRAM, a file), replayed at start-up.
//!
//! ```
//! use pxe_engine::lease::{HwAddr, Lease, LeaseChange};
//! use pxe_smoltcp::LeaseStore;
//! use pxe_smoltcp::store::{RecordLog, replay};
//!
//! // A RAM "flash region" for the example; a board appends to flash.
//! let mut log = RecordLog::new(Vec::new());
//! let lease = Lease {
//!     addr: "10.0.0.100".parse()?,
//!     hw: HwAddr::ethernet([2, 0, 0, 0, 0, 1]),
//!     client_id: None,
//!     hostname: None,
//!     expires: 1_700_003_600,
//! };
//! log.persist(&[LeaseChange::Grant(lease.clone())])?;
//! let mut region = log.into_inner();
//! region.extend_from_slice(&[0xFF; 16]); // erased flash after the records
//! let conf = pxe_rules::Config::parse_str("dhcp-range=10.0.0.100,10.0.0.110\n", "c")?;
//! let mut engine = pxe_engine::dhcp::Engine::new(std::sync::Arc::new(conf));
//! let (applied, used) = replay(&region, &mut engine);
//! assert_eq!((applied, used), (1, region.len() - 16));
//! assert_eq!(engine.leases().get(lease.addr), Some(&lease));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use alloc::vec::Vec;
use core::fmt;

use pxe_engine::dhcp::Engine;
use pxe_engine::lease::LeaseChange;
use pxe_engine::lease::record::{self, MAX_RECORD, RecordError};

/// Append-only storage the records go to.
pub trait Append {
    /// What went wrong while writing.
    type Error: fmt::Display;
    /// Append `bytes` after what was written before.
    fn append(&mut self, bytes: &[u8]) -> Result<(), Self::Error>;
    /// Make everything appended so far durable (flush a write buffer,
    /// wait for the flash controller). Called once per DHCP reply, before
    /// the reply is sent.
    fn sync(&mut self) -> Result<(), Self::Error>;
}

/// RAM: for tests and for boards that forward the bytes elsewhere.
impl Append for Vec<u8> {
    type Error = core::convert::Infallible;
    fn append(&mut self, bytes: &[u8]) -> Result<(), Self::Error> {
        self.extend_from_slice(bytes);
        Ok(())
    }
    fn sync(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// Why [`RecordLog`] could not persist a change.
#[derive(Debug, thiserror::Error)]
pub enum RecordLogError<E: fmt::Display + fmt::Debug> {
    /// The change does not fit a record (an over-long host name or client
    /// id).
    #[error("cannot encode lease change: {0}")]
    Encode(RecordError),
    /// The storage refused the write.
    #[error("lease storage: {0}")]
    Storage(E),
}

/// A [`LeaseStore`](crate::LeaseStore) appending one record per change,
/// then syncing, before the reply goes out. Encoding uses a fixed
/// [`MAX_RECORD`]-byte buffer and allocates nothing.
pub struct RecordLog<A: Append> {
    sink: A,
    buf: [u8; MAX_RECORD],
    records: u64,
}

impl<A: Append> fmt::Debug for RecordLog<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordLog")
            .field("records", &self.records)
            .finish_non_exhaustive()
    }
}

impl<A: Append> RecordLog<A> {
    /// Append to `sink` (positioned after the records already there).
    pub fn new(sink: A) -> Self {
        RecordLog {
            sink,
            buf: [0; MAX_RECORD],
            records: 0,
        }
    }

    /// Records written by this log.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// The storage.
    pub fn get_ref(&self) -> &A {
        &self.sink
    }

    /// The storage, giving up the log.
    pub fn into_inner(self) -> A {
        self.sink
    }
}

impl<A: Append> crate::LeaseStore for RecordLog<A>
where
    A::Error: fmt::Debug,
{
    type Error = RecordLogError<A::Error>;

    fn persist(&mut self, changes: &[LeaseChange]) -> Result<(), Self::Error> {
        for c in changes {
            let n = record::encode(c, &mut self.buf).map_err(RecordLogError::Encode)?;
            self.sink
                .append(&self.buf[..n])
                .map_err(RecordLogError::Storage)?;
            self.records += 1;
        }
        self.sink.sync().map_err(RecordLogError::Storage)
    }
}

/// Apply the records at the start of `region` to `engine`'s lease table,
/// in order. Stops at the first bytes that are not a whole record with a
/// good checksum: erased flash (`0xFF`) or a write torn by a reset.
/// Returns (records applied, bytes they occupy): append new records at
/// that offset.
pub fn replay(region: &[u8], engine: &mut Engine) -> (usize, usize) {
    let mut at = 0;
    let mut applied = 0;
    while let Some(rest) = region.get(at..) {
        match record::decode(rest) {
            Ok((change, n)) => {
                engine.leases_mut().apply(&change);
                applied += 1;
                at += n;
            }
            Err(_) => break,
        }
    }
    (applied, at)
}

/// Write the leases still active at `now` (Unix seconds) as grant
/// records into a fresh region (`sink`), then sync: the compaction step
/// when the current region fills up. Returns the records written.
pub fn compact<A: Append>(
    engine: &Engine,
    now: u64,
    sink: &mut A,
) -> Result<usize, RecordLogError<A::Error>>
where
    A::Error: fmt::Debug,
{
    let mut buf = [0u8; MAX_RECORD];
    let mut n = 0;
    for lease in engine.leases().active(now) {
        let len = record::encode(&LeaseChange::Grant(lease.clone()), &mut buf)
            .map_err(RecordLogError::Encode)?;
        sink.append(&buf[..len]).map_err(RecordLogError::Storage)?;
        n += 1;
    }
    for lease in engine.leases().v6().active(now) {
        let len = record::encode(&LeaseChange::Grant6(lease.clone()), &mut buf)
            .map_err(RecordLogError::Encode)?;
        sink.append(&buf[..len]).map_err(RecordLogError::Storage)?;
        n += 1;
    }
    sink.sync().map_err(RecordLogError::Storage)?;
    Ok(n)
}
