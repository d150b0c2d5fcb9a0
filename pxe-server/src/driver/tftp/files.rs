//! The TFTP files of the tokio driver: [`pxe_tftp::server::Files`] on the
//! filesystem. A request is resolved against the root of the interface it
//! arrived on (`tftp-root=DIR,iface`), narrowed to the client's own
//! directory when `tftp-unique-root` finds one, checked by
//! [`TftpRoot::resolve`] (no escapes, `tftp-lowercase`, `tftp-secure`, the
//! world-readable rule), and opened through a cache shared by concurrent
//! transfers of the same file. The interface MTU, which only this side
//! knows, goes back with the file to cap `blksize`.

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};
use std::vec::Vec;

use pxe_rules::config::UniqueRoot;
use pxe_tftp::server::{FileRequest, Files, Opened, Refusal};
use pxe_tftp::wire::ErrorCode;

use super::client_dir;
use super::path::{PathError, TftpRoot};
use super::service::TftpSettings;
use crate::driver::net::interfaces;

/// Files up to this size are read once into memory and shared by every
/// transfer of the same file (a boot storm reads it once).
pub const CACHE_MAX: u64 = 64 << 20;

/// The bytes of a file, shared between transfers.
#[derive(Clone, Debug)]
pub struct Shared(Arc<[u8]>);

/// What a transfer reads: a shared in-memory copy, or the file itself.
#[derive(Debug)]
pub enum Source {
    /// A cached copy.
    Mem(Shared),
    /// A file too large to cache.
    File(std::fs::File),
}

impl pxe_tftp::DataSource for Source {
    type Error = std::io::Error;
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize, std::io::Error> {
        match self {
            Source::Mem(m) => {
                let mut data = &m.0[..];
                pxe_tftp::DataSource::read_at(&mut data, offset, buf).map_err(|e| match e {})
            }
            Source::File(f) => pxe_tftp::DataSource::read_at(f, offset, buf),
        }
    }
    fn size(&mut self) -> Option<u64> {
        match self {
            Source::Mem(m) => Some(m.0.len() as u64),
            Source::File(f) => pxe_tftp::DataSource::size(f),
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

/// The shared-file cache: path → (modification time, length, weak copy).
/// Entries die with their last transfer.
pub type FileCache = Mutex<HashMap<PathBuf, (Option<std::time::SystemTime>, u64, Weak<[u8]>)>>;

/// Opens `path` through `cache`.
pub fn open_source(cache: &FileCache, path: &Path) -> std::io::Result<Source> {
    let f = std::fs::File::open(path)?;
    let md = f.metadata()?;
    if md.len() > CACHE_MAX {
        return Ok(Source::File(f));
    }
    let mtime = md.modified().ok();
    let mut c = cache.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((t, len, w)) = c.get(path)
        && *t == mtime
        && *len == md.len()
        && let Some(data) = w.upgrade()
    {
        return Ok(Source::Mem(Shared(data)));
    }
    let mut data = Vec::with_capacity(usize::try_from(md.len()).unwrap_or(0));
    std::io::Read::read_to_end(&mut &f, &mut data)?;
    let data: Arc<[u8]> = Arc::from(data);
    c.retain(|_, (_, _, w)| w.strong_count() > 0);
    c.insert(path.to_path_buf(), (mtime, md.len(), Arc::downgrade(&data)));
    Ok(Source::Mem(Shared(data)))
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
        let ifaces = interfaces().unwrap_or_default();
        let iface = ifaces.iter().find(|i| i.index == req.local.interface);
        let settings = &self.settings;
        let root = settings
            .root_for(iface.map(|i| i.name.as_str()))
            .ok_or(FsRefusal::NoRoot)?;
        let client_root = match (settings.unique_root, req.peer.ip()) {
            (Some(kind), IpAddr::V4(ip)) => client_root(settings, root, kind, ip),
            _ => None,
        };
        let root = client_root.as_ref().unwrap_or(root);
        let path = root.resolve(req.name)?;
        let data = open_source(&self.cache, &path).map_err(|source| FsRefusal::Open {
            path: path.clone(),
            source,
        })?;
        Ok(Opened {
            source: FsSource { data, path },
            mtu: Some(iface.map_or(1500, |i| u32::from(i.mtu))),
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

    #[test]
    fn cache_shares_and_notices_changes() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, b"first version").unwrap();
        let cache = FileCache::default();
        let (Source::Mem(a), Source::Mem(b)) = (
            open_source(&cache, &p).unwrap(),
            open_source(&cache, &p).unwrap(),
        ) else {
            panic!("small files are cached")
        };
        assert!(Arc::ptr_eq(&a.0, &b.0), "one copy for concurrent transfers");
        std::thread::sleep(Duration::from_millis(20));
        std::fs::write(&p, b"second, longer version").unwrap();
        let mut c = open_source(&cache, &p).unwrap();
        let mut buf = [0u8; 64];
        let n = c.read_at(0, &mut buf).unwrap();
        assert_eq!(&buf[..n], b"second, longer version");
        assert_eq!(c.size(), Some(22));
        drop((a, b, c));
        // Entries die with their last transfer.
        let _ = open_source(&cache, &p).unwrap();
        assert_eq!(cache.lock().unwrap().len(), 1);
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
