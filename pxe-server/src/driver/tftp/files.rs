//! The TFTP files of the tokio driver: [`pxe_tftp::server::Files`] on the
//! filesystem. A request is resolved against the root of the interface it
//! arrived on (`tftp-root=DIR,iface`), narrowed to the client's own
//! directory when `tftp-unique-root` finds one, checked by
//! [`TftpRoot::resolve`] (no escapes, `tftp-lowercase`, `tftp-secure`, the
//! world-readable rule), and opened through [`FileCache`]: hot files are
//! served from memory, and a request is never held up by reading a file
//! (a miss streams from the file with `pread` while a loader fills the
//! cache). The interface MTU, which only this side knows, goes back with
//! the file to cap `blksize`.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::fs::File;
use std::net::{IpAddr, Ipv4Addr};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::vec::Vec;

use pxe_rules::config::UniqueRoot;
use pxe_tftp::server::{FileRequest, Files, Opened, Refusal};
use pxe_tftp::wire::ErrorCode;

use super::client_dir;
use super::path::{PathError, TftpRoot};
use super::service::TftpSettings;
use crate::driver::net::mtu_of;

/// Files up to this size are kept in memory once read, shared by every
/// transfer of the same file; larger ones are always read from the file
/// (the kernel's page cache keeps them hot).
pub const CACHE_FILE_MAX: u64 = 16 << 20;

/// The memory cache holds at most this many bytes; the least recently
/// requested files leave first.
pub const CACHE_BYTES: u64 = 32 << 20;

/// The bytes of a file, shared between transfers.
#[derive(Clone, Debug)]
pub struct Shared(Arc<[u8]>);

/// What a transfer reads: a shared in-memory copy, or the file itself,
/// block by block (`pread`), from the moment it is opened.
#[derive(Debug)]
pub enum Source {
    /// A cached copy.
    Mem(Shared),
    /// The open file, shared by the transfers of the same version (one
    /// descriptor per file, not per transfer, in a storm), and its length
    /// when it was opened.
    File(Arc<File>, u64),
}

impl pxe_tftp::DataSource for Source {
    type Error = std::io::Error;
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize, std::io::Error> {
        match self {
            Source::Mem(m) => {
                let mut data = &m.0[..];
                pxe_tftp::DataSource::read_at(&mut data, offset, buf).map_err(|e| match e {})
            }
            Source::File(f, _) => loop {
                match f.read_at(buf, offset) {
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    r => return r,
                }
            },
        }
    }
    fn size(&mut self) -> Option<u64> {
        match self {
            Source::Mem(m) => Some(m.0.len() as u64),
            Source::File(_, len) => Some(*len),
        }
    }
}

/// An opened file and its path (for the log line when its transfer ends).
#[derive(Debug)]
pub struct FsSource {
    /// Its bytes.
    pub data: Source,
    /// The resolved path.
    pub path: PathBuf,
}

impl pxe_tftp::DataSource for FsSource {
    type Error = std::io::Error;
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize, std::io::Error> {
        self.data.read_at(offset, buf)
    }
    fn size(&mut self) -> Option<u64> {
        self.data.size()
    }
}

/// What identifies one version of a file: a cached copy is used only
/// while the path still names the same inode with the same length and
/// modification time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Stamp {
    dev: u64,
    ino: u64,
    len: u64,
    mtime: (i64, i64),
    /// Mode and owner: a `chmod` or `chown` is a new version too (what
    /// may be served is decided again).
    mode: u32,
    owner: (u32, u32),
}

impl Stamp {
    fn of(md: &std::fs::Metadata) -> Self {
        Stamp {
            dev: md.dev(),
            ino: md.ino(),
            len: md.len(),
            mtime: (md.mtime(), md.mtime_nsec()),
            mode: md.mode(),
            owner: (md.uid(), md.gid()),
        }
    }
}

#[derive(Debug)]
struct Cached {
    stamp: Stamp,
    data: Arc<[u8]>,
    /// The cache's clock when it was last requested (least recently used
    /// leaves first).
    used: u64,
}

#[derive(Debug, Default)]
struct CacheState {
    entries: HashMap<PathBuf, Cached>,
    /// Sum of the cached files' lengths.
    bytes: u64,
    /// Counts requests, for the least-recently-used order.
    clock: u64,
    /// Paths a loader is reading now (one loader per file in a storm).
    loading: HashSet<PathBuf>,
    /// The descriptors running transfers read, by path (they close with
    /// their last transfer).
    open: HashMap<PathBuf, (Stamp, Weak<File>)>,
}

/// The memory cache of hot files, bounded in bytes. A request that misses
/// is answered at once from the file itself while a loader thread reads
/// the file into memory for the requests after it; a file that changed is
/// read again.
#[derive(Debug, Clone)]
pub struct FileCache {
    state: Arc<Mutex<CacheState>>,
    budget: u64,
    file_max: u64,
}

impl Default for FileCache {
    fn default() -> Self {
        FileCache::new(CACHE_BYTES, CACHE_FILE_MAX)
    }
}

impl FileCache {
    /// A cache of at most `budget` bytes, of files up to `file_max` bytes.
    pub fn new(budget: u64, file_max: u64) -> Self {
        FileCache {
            state: Arc::default(),
            budget,
            file_max: file_max.min(budget),
        }
    }

    fn lock(&self) -> MutexGuard<'_, CacheState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Bytes held in memory now.
    pub fn bytes(&self) -> u64 {
        self.lock().bytes
    }

    /// True when `path` is held in memory (any version).
    pub fn holds(&self, path: &Path) -> bool {
        self.lock().entries.contains_key(path)
    }

    /// Opens `path`: its cached copy when the file has not changed since
    /// it was read, else the file itself (and a loader starts reading it
    /// into memory, if it fits).
    pub fn open(&self, path: &Path) -> std::io::Result<Source> {
        let f = File::open(path)?;
        let md = f.metadata()?;
        let stamp = Stamp::of(&md);
        let mut st = self.lock();
        st.clock += 1;
        let now = st.clock;
        if let Some(c) = st.entries.get_mut(path) {
            if c.stamp == stamp {
                c.used = now;
                return Ok(Source::Mem(Shared(c.data.clone())));
            }
            let stale = c.data.len() as u64;
            st.entries.remove(path);
            st.bytes -= stale;
        }
        let shared = match st.open.get(path) {
            Some((s, w)) if *s == stamp => w.upgrade(),
            _ => None,
        };
        let f = shared.unwrap_or_else(|| {
            let f = Arc::new(f);
            if st.open.len() >= 64 {
                st.open.retain(|_, (_, w)| w.strong_count() > 0);
            }
            st.open
                .insert(path.to_path_buf(), (stamp, Arc::downgrade(&f)));
            f
        });
        if md.is_file() && stamp.len <= self.file_max && !st.loading.contains(path) {
            // Reads with pread, as the transfers do: no shared offset.
            st.loading.insert(path.to_path_buf());
            let (cache, owned, file) = (self.clone(), path.to_path_buf(), f.clone());
            let spawned = std::thread::Builder::new()
                .name(String::from("tftp-cache-load"))
                .spawn(move || cache.load(&file, &owned, stamp));
            if spawned.is_err() {
                st.loading.remove(path);
            }
        }
        Ok(Source::File(f, stamp.len))
    }

    /// Reads `file` (opened as `stamp`) into memory and keeps it under
    /// `path`, unless it changed meanwhile; evicts the least recently
    /// requested files to stay within the budget.
    fn load(&self, file: &File, path: &Path, stamp: Stamp) {
        let data = read_whole(file, stamp.len)
            .filter(|_| file.metadata().is_ok_and(|md| Stamp::of(&md) == stamp));
        let mut st = self.lock();
        st.loading.remove(path);
        let Some(data) = data else {
            tracing::debug!(
                "TFTP cache: {} changed while read, not kept",
                path.display()
            );
            return;
        };
        if let Some(old) = st.entries.remove(path) {
            st.bytes -= old.data.len() as u64;
        }
        while st.bytes + stamp.len > self.budget {
            let Some(oldest) = st
                .entries
                .iter()
                .min_by_key(|(_, c)| c.used)
                .map(|(p, _)| p.clone())
            else {
                break;
            };
            if let Some(c) = st.entries.remove(&oldest) {
                st.bytes -= c.data.len() as u64;
            }
        }
        let used = st.clock;
        st.bytes += stamp.len;
        st.entries.insert(
            path.to_path_buf(),
            Cached {
                stamp,
                data: Arc::from(data),
                used,
            },
        );
    }
}

/// Exactly `len` bytes of `file` from its start, or `None` if it is
/// shorter now or cannot be read.
fn read_whole(file: &File, len: u64) -> Option<Vec<u8>> {
    let mut data = std::vec![0u8; usize::try_from(len).ok()?];
    file.read_exact_at(&mut data, 0).ok()?;
    Some(data)
}

/// Why a file is not served.
#[derive(Debug, thiserror::Error)]
pub enum FsRefusal {
    /// No `tftp-root` for the interface the request came in on.
    #[error("no TFTP root for this interface")]
    NoRoot,
    /// Refused by the root's rules.
    #[error("{0}")]
    Path(#[from] PathError),
    /// The file could not be opened.
    #[error("cannot open {}: {source}", path.display())]
    Open {
        /// The resolved path.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

impl Refusal for FsRefusal {
    fn code(&self) -> ErrorCode {
        match self {
            FsRefusal::NoRoot => ErrorCode::ACCESS_VIOLATION,
            FsRefusal::Path(e) => ErrorCode(e.tftp_code()),
            FsRefusal::Open { source, .. }
                if source.kind() == std::io::ErrorKind::PermissionDenied =>
            {
                ErrorCode::ACCESS_VIOLATION
            }
            FsRefusal::Open { .. } => ErrorCode::NOT_DEFINED,
        }
    }

    /// dnsmasq's wording: the client sees the file name and a short reason,
    /// never where the root is.
    fn write_message(&self, request: &FileRequest<'_>, out: &mut dyn fmt::Write) -> fmt::Result {
        let name = String::from_utf8_lossy(request.name);
        match self {
            FsRefusal::NoRoot => out.write_str("no TFTP root"),
            FsRefusal::Path(e) => match e.tftp_code() {
                1 => write!(out, "file {name} not found"),
                2 => write!(out, "cannot access {name}: Permission denied"),
                _ => write!(out, "cannot read {name}: {e}"),
            },
            FsRefusal::Open { source, .. } => write!(out, "cannot read {name}: {source}"),
        }
    }
}

use std::string::String;

/// The filesystem behind the TFTP endpoint.
#[derive(Debug)]
pub struct FsFiles {
    settings: Arc<TftpSettings>,
    cache: FileCache,
}

impl FsFiles {
    /// Files as `settings` say (roots, unique roots, MAC lookups).
    pub fn new(settings: Arc<TftpSettings>) -> Self {
        FsFiles {
            settings,
            cache: FileCache::default(),
        }
    }

    /// The cache (tests).
    pub fn cache(&self) -> &FileCache {
        &self.cache
    }

    /// Serves the next requests as `settings` say (a reload); files already
    /// open keep being read, and the cache is kept.
    pub fn set_settings(&mut self, settings: Arc<TftpSettings>) {
        self.settings = settings;
    }

    /// The settings in force.
    pub fn settings(&self) -> &Arc<TftpSettings> {
        &self.settings
    }
}

impl Files for FsFiles {
    type Source = FsSource;
    type Refusal = FsRefusal;

    fn open(&mut self, req: &FileRequest<'_>) -> Result<Opened<FsSource>, FsRefusal> {
        // The name of the interface the request came in on, by its index:
        // one system call (listing every address of every interface, as
        // `interfaces()` does, costs a netlink dump and a sysfs read per
        // address on every request).
        let iface = nix::net::if_::if_indextoname(req.local.interface)
            .ok()
            .and_then(|n| n.into_string().ok());
        let settings = &self.settings;
        let root = settings
            .root_for(iface.as_deref())
            .ok_or(FsRefusal::NoRoot)?;
        let client_root = match (settings.unique_root, req.peer.ip()) {
            (Some(kind), IpAddr::V4(ip)) => client_root(settings, root, kind, ip),
            _ => None,
        };
        let root = client_root.as_ref().unwrap_or(root);
        let path = root.resolve(req.name)?;
        let data = self.cache.open(&path).map_err(|source| FsRefusal::Open {
            path: path.clone(),
            source,
        })?;
        Ok(Opened {
            source: FsSource { data, path },
            mtu: Some(iface.as_deref().and_then(mtu_of).map_or(1500, u32::from)),
        })
    }
}

/// `tftp-unique-root`: the client's own directory below `root`, if it
/// exists.
fn client_root(
    settings: &TftpSettings,
    root: &TftpRoot,
    kind: UniqueRoot,
    ip: Ipv4Addr,
) -> Option<TftpRoot> {
    let mac = match kind {
        UniqueRoot::Mac => settings.macs.mac_of(ip),
        UniqueRoot::Ip => None,
    };
    root.subdir(&client_dir::dir_name(kind, ip, mac.as_deref())?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pxe_tftp::DataSource;
    use std::time::Duration;

    /// Waits (bounded) until the loader has put `p` in memory.
    fn until_held(cache: &FileCache, p: &Path) {
        let t0 = std::time::Instant::now();
        while !cache.holds(p) {
            assert!(t0.elapsed() < Duration::from_secs(5), "never cached");
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    fn contents(mut s: Source) -> Vec<u8> {
        let len = usize::try_from(s.size().unwrap()).unwrap();
        let mut buf = vec![0u8; len];
        assert_eq!(s.read_at(0, &mut buf).unwrap(), len);
        buf
    }

    #[test]
    fn a_miss_streams_the_file_and_the_cache_keeps_it() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, b"first version").unwrap();
        let cache = FileCache::default();
        let first = cache.open(&p).unwrap();
        assert!(matches!(first, Source::File(..)), "answered from the file");
        assert_eq!(contents(first), b"first version");
        until_held(&cache, &p);
        let (Source::Mem(a), Source::Mem(b)) = (cache.open(&p).unwrap(), cache.open(&p).unwrap())
        else {
            panic!("a hot file is served from memory")
        };
        assert!(Arc::ptr_eq(&a.0, &b.0), "one copy for concurrent transfers");
        drop((a, b));
        // Kept after its last transfer ended.
        assert!(matches!(cache.open(&p).unwrap(), Source::Mem(_)));
        assert_eq!(cache.bytes(), 13);
        // A new version (a new inode, as an installer's `cp` or `mv` makes,
        // or the same one rewritten) is read afresh.
        std::fs::write(dir.path().join("g"), b"second, longer version").unwrap();
        std::fs::rename(dir.path().join("g"), &p).unwrap();
        let c = cache.open(&p).unwrap();
        assert!(matches!(c, Source::File(..)));
        assert_eq!(contents(c), b"second, longer version");
        until_held(&cache, &p);
        assert_eq!(contents(cache.open(&p).unwrap()), b"second, longer version");
        assert_eq!(cache.bytes(), 22);
    }

    #[test]
    fn transfers_of_a_large_file_share_one_descriptor() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("big");
        std::fs::write(&p, vec![7u8; 100]).unwrap();
        let cache = FileCache::new(50, 50);
        let (Source::File(a, 100), Source::File(b, 100)) =
            (cache.open(&p).unwrap(), cache.open(&p).unwrap())
        else {
            panic!("too large for memory: read from the file")
        };
        assert!(Arc::ptr_eq(&a, &b), "one descriptor for both");
        drop((a, b));
        // A new version gets a descriptor of its own.
        std::fs::write(dir.path().join("new"), vec![8u8; 120]).unwrap();
        std::fs::rename(dir.path().join("new"), &p).unwrap();
        assert_eq!(contents(cache.open(&p).unwrap()), vec![8u8; 120]);
        assert!(!cache.holds(&p));
    }

    #[test]
    fn the_cache_stays_within_its_budget() {
        let dir = tempfile::tempdir().unwrap();
        let cache = FileCache::new(100, 60);
        let path = |n: &str| dir.path().join(n);
        for (n, len) in [("a", 40), ("b", 40), ("big", 61)] {
            std::fs::write(path(n), vec![b'x'; len]).unwrap();
        }
        for n in ["a", "b"] {
            let _ = cache.open(&path(n)).unwrap();
            until_held(&cache, &path(n));
        }
        // `a` is requested again, so `b` is the least recently used.
        assert!(matches!(cache.open(&path("a")).unwrap(), Source::Mem(_)));
        std::fs::write(path("c"), vec![b'y'; 50]).unwrap();
        let _ = cache.open(&path("c")).unwrap();
        until_held(&cache, &path("c"));
        assert!(cache.holds(&path("a")) && !cache.holds(&path("b")));
        assert_eq!(cache.bytes(), 90);
        // Above the per-file limit: always from the file, never loaded.
        let big = cache.open(&path("big")).unwrap();
        assert_eq!(contents(big).len(), 61);
        std::thread::sleep(Duration::from_millis(50));
        assert!(!cache.holds(&path("big")));
        assert!(matches!(
            cache.open(&path("big")).unwrap(),
            Source::File(..)
        ));
    }

    #[test]
    fn refusals_say_what_dnsmasq_says() {
        let req = FileRequest {
            name: b"../secret",
            mode: pxe_tftp::wire::Mode::Octet,
            peer: "10.0.0.2:2000".parse().unwrap(),
            local: pxe_tftp::server::Local {
                addr: [10, 0, 0, 1].into(),
                port: 69,
                interface: 0,
            },
        };
        let msg = |r: &FsRefusal| {
            let mut s = String::new();
            r.write_message(&req, &mut s).unwrap();
            s
        };
        let escape = FsRefusal::Path(PathError::Escape);
        assert_eq!(
            (escape.code(), msg(&escape).as_str()),
            (ErrorCode(2), "cannot access ../secret: Permission denied")
        );
        assert_eq!(escape.to_string(), "path escapes the TFTP root");
        let missing = FsRefusal::Path(PathError::NotFound);
        assert_eq!(
            (missing.code(), msg(&missing).as_str()),
            (ErrorCode(1), "file ../secret not found")
        );
        let denied = FsRefusal::Open {
            path: "/x".into(),
            source: std::io::Error::from(std::io::ErrorKind::PermissionDenied),
        };
        assert_eq!(denied.code(), ErrorCode(2));
        assert_eq!(FsRefusal::NoRoot.code(), ErrorCode(2));
    }
}
