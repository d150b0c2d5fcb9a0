//! The durable lease log (needs `std`).
//!
//! An append-only file of records (see [`super::record`]) behind an 8-byte
//! header. The contract with the driver is *persist, then send*: the engine
//! returns the [`LeaseChange`]s of a batch of requests together with the
//! replies; the driver [`stage`](LeaseLog::stage)s them all,
//! [`commit`](LeaseLog::commit)s once (one `write` + one `fdatasync`: group
//! commit) and only then sends the replies. A lease the client was told
//! about is therefore on disk.
//!
//! Recovery after `kill -9` at any instant: records are read in order until
//! the first one that is incomplete or fails its checksum; the file is cut
//! there (that record's reply was never sent, since sending waits for the
//! `fdatasync`). Compaction writes the active leases to a new file, syncs
//! it, renames it over the log and syncs the directory, so either the old or
//! the new log is found after a crash, never a mix.
//!
//! Next to the log (`<leasefile>.log`) the table is also written in
//! dnsmasq's format to `<leasefile>` at every compaction and at shutdown,
//! and a dnsmasq lease file found there with no log yet is imported: users
//! can move from dnsmasq and back.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::vec::Vec;

use super::record::{self, MAX_RECORD};
use super::store::{LeaseStore, Owner, Verdict};
use super::{LeaseChange, LeaseTable, dnsmasq};

/// Header of a lease log file.
pub const HEADER: &[u8; 8] = b"PXELOG1\n";

/// Errors of the lease log.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// A file operation failed.
    #[error("lease log {path}: {op}: {source}")]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// What was being done.
        op: &'static str,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// The file exists but is not a lease log.
    #[error("{0} is not a pxe-server lease log (bad header); refusing to overwrite it")]
    NotALog(PathBuf),
    /// A lease could not be encoded.
    #[error("lease record: {0}")]
    Record(#[from] record::RecordError),
    /// The dnsmasq lease file to import is malformed.
    #[error("{path}: {source}")]
    Import {
        /// The dnsmasq lease file.
        path: PathBuf,
        /// What was wrong.
        #[source]
        source: dnsmasq::ParseError,
    },
}

fn io_err<'a>(path: &'a Path, op: &'static str) -> impl FnOnce(io::Error) -> LogError + 'a {
    move |source| LogError::Io {
        path: path.to_path_buf(),
        op,
        source,
    }
}

/// What recovery found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Recovery {
    /// Records replayed.
    pub records: u64,
    /// Bytes cut from the end (a torn or corrupt tail).
    pub discarded_bytes: u64,
    /// Leases imported from a dnsmasq lease file.
    pub imported: u64,
}

/// The open lease log.
#[derive(Debug)]
pub struct LeaseLog {
    file: File,
    path: PathBuf,
    text_path: PathBuf,
    pending: Vec<u8>,
    pending_records: u64,
    /// Exchanges staged through [`LeaseStore::stage`] since the last
    /// commit (one verdict each).
    pending_exchanges: usize,
    records_since_compaction: u64,
}

fn sync_dir(path: &Path) -> Result<(), LogError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir, "fsync directory"))
}

impl LeaseLog {
    /// The log path used for a `dhcp-leasefile` path: `<leasefile>.log`.
    pub fn log_path(leasefile: &Path) -> PathBuf {
        let mut s = leasefile.as_os_str().to_os_string();
        s.push(".log");
        PathBuf::from(s)
    }

    /// Open (creating if needed) the log belonging to `leasefile`, replaying
    /// it into `table`. `now` is used only to drop expired leases when a
    /// dnsmasq file is imported.
    pub fn open(
        leasefile: &Path,
        table: &mut LeaseTable,
        now: u64,
    ) -> Result<(Self, Recovery), LogError> {
        let path = Self::log_path(leasefile);
        let mut rec = Recovery::default();
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
            && !dir.exists()
        {
            fs::create_dir_all(dir).map_err(io_err(dir, "create directory"))?;
        }
        let exists = path.exists();
        if !exists && leasefile.exists() {
            let text = fs::read_to_string(leasefile).map_err(io_err(leasefile, "read"))?;
            for l in dnsmasq::parse(&text) {
                let l = l.map_err(|source| LogError::Import {
                    path: leasefile.to_path_buf(),
                    source,
                })?;
                if l.is_active(now) {
                    table.apply(&LeaseChange::Grant(l));
                    rec.imported += 1;
                }
            }
        }
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
            .map_err(io_err(&path, "open"))?;
        let mut data = Vec::new();
        file.read_to_end(&mut data).map_err(io_err(&path, "read"))?;
        let mut good = 0usize;
        if data.len() >= HEADER.len() {
            if &data[..HEADER.len()] != HEADER {
                return Err(LogError::NotALog(path));
            }
            good = HEADER.len();
            while good < data.len() {
                match record::decode(&data[good..]) {
                    Ok((change, n)) => {
                        table.apply(&change);
                        rec.records += 1;
                        good += n;
                    }
                    Err(_) => break,
                }
            }
        } else if !data.is_empty() && !HEADER.starts_with(&data) {
            return Err(LogError::NotALog(path));
        }
        if good < data.len() || data.len() < HEADER.len() {
            rec.discarded_bytes = (data.len() - good) as u64;
            file.set_len(good as u64)
                .map_err(io_err(&path, "truncate torn tail"))?;
            if good == 0 {
                file.write_all(HEADER)
                    .map_err(io_err(&path, "write header"))?;
            }
            file.sync_all().map_err(io_err(&path, "fsync"))?;
            if !exists {
                sync_dir(&path)?;
            }
        }
        let mut log = LeaseLog {
            file,
            path,
            text_path: leasefile.to_path_buf(),
            pending: Vec::new(),
            pending_records: 0,
            pending_exchanges: 0,
            records_since_compaction: rec.records,
        };
        if rec.imported > 0 {
            // Make the import durable in our own format straight away.
            log.compact(table, now)?;
        }
        Ok((log, rec))
    }

    /// Queue a change for the next [`commit`](Self::commit) (an offer is
    /// not logged).
    pub fn stage(&mut self, change: &LeaseChange) -> Result<(), LogError> {
        let mut buf = [0u8; MAX_RECORD];
        let n = record::encode(change, &mut buf)?;
        if n == 0 {
            return Ok(());
        }
        self.pending.extend_from_slice(&buf[..n]);
        self.pending_records += 1;
        Ok(())
    }

    /// Number of staged, not yet committed changes.
    pub fn pending(&self) -> u64 {
        self.pending_records
    }

    /// Write every staged change and `fdatasync` once. Only after this
    /// returns `Ok` may the replies announcing those changes be sent.
    pub fn commit(&mut self) -> Result<(), LogError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        self.file
            .write_all(&self.pending)
            .map_err(io_err(&self.path, "append"))?;
        self.file
            .sync_data()
            .map_err(io_err(&self.path, "fdatasync"))?;
        self.records_since_compaction += self.pending_records;
        self.pending.clear();
        self.pending_records = 0;
        Ok(())
    }

    /// Whether the log has grown enough that [`compact`](Self::compact)
    /// is worth it (more than 1000 records and twice the live leases).
    pub fn wants_compaction(&self, live: usize) -> bool {
        self.records_since_compaction > 1000 && self.records_since_compaction > 2 * live as u64
    }

    /// Rewrite the log with only the active leases of `table` and refresh
    /// the dnsmasq-format file. Staged changes are committed first.
    pub fn compact(&mut self, table: &LeaseTable, now: u64) -> Result<(), LogError> {
        self.commit()?;
        let mut tmp = self.path.as_os_str().to_os_string();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        let mut data = Vec::from(&HEADER[..]);
        let mut buf = [0u8; MAX_RECORD];
        let mut n_live = 0;
        for l in table.active(now) {
            let n = record::encode(&LeaseChange::Grant(l.clone()), &mut buf)?;
            data.extend_from_slice(&buf[..n]);
            n_live += 1;
        }
        for l in table.v6().active(now) {
            let n = record::encode(&LeaseChange::Grant6(l.clone()), &mut buf)?;
            data.extend_from_slice(&buf[..n]);
            n_live += 1;
        }
        write_atomically(&tmp, &self.path, &data)?;
        self.file = OpenOptions::new()
            .read(true)
            .append(true)
            .open(&self.path)
            .map_err(io_err(&self.path, "reopen"))?;
        self.records_since_compaction = n_live;
        self.write_dnsmasq_file(table, now)
    }

    /// Write the active leases in dnsmasq's format to the `dhcp-leasefile`
    /// path (atomically).
    pub fn write_dnsmasq_file(&self, table: &LeaseTable, now: u64) -> Result<(), LogError> {
        let text = dnsmasq::format(table.active(now));
        let mut tmp = self.text_path.as_os_str().to_os_string();
        tmp.push(".tmp");
        write_atomically(Path::new(&tmp), &self.text_path, text.as_bytes())
    }

    /// The log file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The log as the engine's [`LeaseStore`]: of one server, so every change
/// is accepted; a batch is durable after one `fdatasync`.
impl LeaseStore for LeaseLog {
    type Error = LogError;

    fn stage(&mut self, _owner: Owner<'_>, changes: &[LeaseChange]) -> Result<(), LogError> {
        for c in changes {
            LeaseLog::stage(self, c)?;
        }
        self.pending_exchanges += 1;
        Ok(())
    }

    fn commit(&mut self, verdicts: &mut Vec<Verdict>) -> Result<(), LogError> {
        let staged = core::mem::take(&mut self.pending_exchanges);
        LeaseLog::commit(self)?;
        verdicts.extend(core::iter::repeat_n(Verdict::Durable, staged));
        Ok(())
    }
}

fn write_atomically(tmp: &Path, dst: &Path, data: &[u8]) -> Result<(), LogError> {
    let mut f = File::create(tmp).map_err(io_err(tmp, "create"))?;
    f.write_all(data).map_err(io_err(tmp, "write"))?;
    f.sync_all().map_err(io_err(tmp, "fsync"))?;
    drop(f);
    fs::rename(tmp, dst).map_err(io_err(dst, "rename"))?;
    sync_dir(dst)
}

#[cfg(test)]
mod tests {
    use super::super::{HwAddr, Lease, Pool};
    use super::*;
    use std::net::Ipv4Addr;
    use std::vec;

    fn table() -> LeaseTable {
        LeaseTable::new(vec![Pool {
            start: Ipv4Addr::new(10, 0, 0, 1),
            end: Ipv4Addr::new(10, 0, 0, 250),
            netmask: None,
            lease_time: 3600,
        }])
    }

    fn grant(t: &mut LeaseTable, log: &mut LeaseLog, n: u8) -> Ipv4Addr {
        let hw = HwAddr::ethernet([2, 0, 0, 0, 0, n]);
        let a = t.choose(0, None, &hw, None, 0).unwrap();
        for c in t
            .commit(
                Lease {
                    addr: a,
                    hw,
                    client_id: None,
                    hostname: None,
                    expires: 10_000,
                },
                0,
            )
            .unwrap()
        {
            log.stage(&c).unwrap();
        }
        a
    }

    #[test]
    fn survives_torn_tail_at_every_offset() {
        let dir = tempfile::tempdir().unwrap();
        let lf = dir.path().join("leases");
        let mut t = table();
        let (mut log, _) = LeaseLog::open(&lf, &mut t, 0).unwrap();
        for n in 0..5 {
            grant(&mut t, &mut log, n);
        }
        log.commit().unwrap();
        let full = fs::read(LeaseLog::log_path(&lf)).unwrap();
        let committed = fs::metadata(LeaseLog::log_path(&lf)).unwrap().len() as usize;
        grant(&mut t, &mut log, 99);
        log.commit().unwrap();
        let all = fs::read(LeaseLog::log_path(&lf)).unwrap();
        drop(log);
        assert_eq!(&all[..committed], &full[..]);
        // Cut the last record anywhere: the first five leases survive, the
        // sixth only when whole.
        for cut in committed..=all.len() {
            fs::write(LeaseLog::log_path(&lf), &all[..cut]).unwrap();
            let mut t2 = table();
            let (_, rec) = LeaseLog::open(&lf, &mut t2, 0).unwrap();
            let want = if cut == all.len() { 6 } else { 5 };
            assert_eq!(t2.len(), want, "cut {cut}");
            assert_eq!(
                rec.discarded_bytes as usize,
                cut - if want == 6 { cut } else { committed }
            );
            assert_eq!(
                fs::metadata(LeaseLog::log_path(&lf)).unwrap().len() as usize,
                if want == 6 { cut } else { committed }
            );
        }
    }

    #[test]
    fn compaction_keeps_live_leases_and_writes_dnsmasq_file() {
        let dir = tempfile::tempdir().unwrap();
        let lf = dir.path().join("leases");
        let mut t = table();
        let (mut log, _) = LeaseLog::open(&lf, &mut t, 0).unwrap();
        let mut addrs = vec![];
        for n in 0..20 {
            addrs.push(grant(&mut t, &mut log, n));
        }
        let hw = HwAddr::ethernet([2, 0, 0, 0, 0, 3]);
        let rel = t.release(addrs[3], None, &hw).unwrap();
        log.stage(&rel).unwrap();
        log.compact(&t, 0).unwrap();
        let text = fs::read_to_string(&lf).unwrap();
        assert_eq!(text.lines().count(), 19);
        drop(log);
        let mut t2 = table();
        let (_, rec) = LeaseLog::open(&lf, &mut t2, 0).unwrap();
        assert_eq!(rec.records, 19);
        assert_eq!(t2.len(), 19);
        assert!(t2.get(addrs[3]).is_none());
    }

    #[test]
    fn as_a_store_every_exchange_is_durable_and_offers_are_not_logged() {
        let dir = tempfile::tempdir().unwrap();
        let lf = dir.path().join("leases");
        let mut t = table();
        let (mut log, _) = LeaseLog::open(&lf, &mut t, 0).unwrap();
        let size = || fs::metadata(LeaseLog::log_path(&lf)).unwrap().len();
        let empty = size();
        let hw = HwAddr::ethernet([2, 0, 0, 0, 0, 1]);
        let owner = Owner {
            hw,
            client_id: None,
        };
        let lease = Lease {
            addr: Ipv4Addr::new(10, 0, 0, 5),
            hw,
            client_id: None,
            hostname: None,
            expires: 10_000,
        };
        let store: &mut dyn LeaseStore<Error = LogError> = &mut log;
        store
            .stage(owner, &[LeaseChange::Offer(lease.clone())])
            .unwrap();
        store
            .stage(owner, &[LeaseChange::Grant(lease.clone())])
            .unwrap();
        let mut verdicts = vec![];
        store.commit(&mut verdicts).unwrap();
        assert_eq!(verdicts, [Verdict::Durable, Verdict::Durable]);
        let one = size();
        assert!(one > empty);
        store
            .stage(owner, &[LeaseChange::Offer(lease.clone())])
            .unwrap();
        verdicts.clear();
        store.commit(&mut verdicts).unwrap();
        assert_eq!(verdicts, [Verdict::Durable]);
        assert_eq!(size(), one, "an offer writes nothing");
        drop(log);
        let mut t2 = table();
        let (_, rec) = LeaseLog::open(&lf, &mut t2, 0).unwrap();
        assert_eq!(rec.records, 1);
        assert_eq!(t2.get(lease.addr), Some(&lease));
    }

    #[test]
    fn dhcpv6_leases_share_the_log_and_survive_compaction() {
        use crate::lease::Lease6;
        let dir = tempfile::tempdir().unwrap();
        let lf = dir.path().join("leases");
        let mut t = table();
        let (mut log, _) = LeaseLog::open(&lf, &mut t, 0).unwrap();
        let v4 = grant(&mut t, &mut log, 1);
        let (s, e): (core::net::Ipv6Addr, core::net::Ipv6Addr) =
            ("fd00::100".parse().unwrap(), "fd00::1ff".parse().unwrap());
        let mut v6 = vec![];
        for iaid in 0..3u32 {
            let addr = t.v6().choose(b"duid", iaid, s, e, 0, |_| false).unwrap();
            let lease = Lease6 {
                addr,
                iaid,
                duid: b"duid".to_vec(),
                hostname: None,
                expires: 10_000,
            };
            for c in t.v6_mut().grant(lease, s, e) {
                log.stage(&c).unwrap();
            }
            v6.push(addr);
        }
        let rel = t.v6_mut().release(v6[1], b"duid", 1).unwrap();
        log.stage(&rel).unwrap();
        log.commit().unwrap();
        drop(log);
        let mut t2 = table();
        let (mut log, rec) = LeaseLog::open(&lf, &mut t2, 0).unwrap();
        assert_eq!(rec.records, 5);
        assert!(t2.get(v4).is_some());
        assert_eq!(t2.v6().len(), 2);
        assert!(t2.v6().get(v6[1]).is_none());
        log.compact(&t2, 0).unwrap();
        drop(log);
        let mut t3 = table();
        let (_, rec) = LeaseLog::open(&lf, &mut t3, 0).unwrap();
        assert_eq!((rec.records, t3.len(), t3.v6().len()), (3, 1, 2));
        assert_eq!(t3.v6().get(v6[2]).unwrap().iaid, 2);
    }

    #[test]
    fn imports_dnsmasq_file_and_refuses_foreign_log() {
        let dir = tempfile::tempdir().unwrap();
        let lf = dir.path().join("dnsmasq.leases");
        fs::write(
            &lf,
            "2000000000 52:54:00:12:34:56 10.0.0.7 pc1 01:52:54:00:12:34:56\n0 52:54:00:00:00:01 10.0.0.8 * *\n5 52:54:00:00:00:02 10.0.0.9 * *\n",
        )
        .unwrap();
        let mut t = table();
        let (_, rec) = LeaseLog::open(&lf, &mut t, 1000).unwrap();
        assert_eq!(rec.imported, 2);
        assert_eq!(
            t.get(Ipv4Addr::new(10, 0, 0, 7))
                .unwrap()
                .hostname
                .as_deref(),
            Some("pc1")
        );
        let bad = dir.path().join("x");
        fs::write(LeaseLog::log_path(&bad), b"hello world").unwrap();
        assert!(matches!(
            LeaseLog::open(&bad, &mut table(), 0),
            Err(LogError::NotALog(_))
        ));
    }
}
