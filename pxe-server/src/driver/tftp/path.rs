//! Safe resolution of TFTP file names under `tftp-root` (needs `std`).
//!
//! Rules, in order:
//!
//! 1. NUL and other control characters (below 0x20, 0x7f) are refused.
//! 2. `\` is treated as `/`; with `tftp-lowercase` the name is lower-cased.
//! 3. An absolute name is accepted as is only if it starts with the root
//!    (as dnsmasq); otherwise its leading `/`s are dropped and it is
//!    resolved relative to the root.
//! 4. Any `..` component is refused (dnsmasq refuses `/../`).
//! 5. The joined path is canonicalised (following symlinks) and must still
//!    lie inside the canonical root: a symlink pointing out of the root is
//!    refused.
//! 6. Only regular files are served.
//! 7. The [`Access`] rule (dnsmasq's): running as root, only world-readable
//!    files; with `tftp-secure` and not root, only the server user's files.
//!
//! ```
//! # let dir = tempfile::tempdir().unwrap();
//! # std::fs::write(dir.path().join("undionly.kpxe"), b"x").unwrap();
//! use pxe_server::driver::tftp::path::{TftpRoot, PathError};
//! let root = TftpRoot::new(dir.path(), false).unwrap();
//! assert!(root.resolve(b"undionly.kpxe").is_ok());
//! assert!(root.resolve(b"\\undionly.kpxe").is_ok());
//! assert_eq!(root.resolve(b"../etc/passwd"), Err(PathError::Escape));
//! assert_eq!(root.resolve(b"/etc/passwd"), Err(PathError::NotFound));
//! ```

use std::ffi::OsStr;
use std::fs::Metadata;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};
use std::vec::Vec;

/// Why a requested name is not served. Each maps to a TFTP error code.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// The name contains NUL or a control character.
    #[error("file name contains a control character")]
    ControlChar,
    /// The name is empty.
    #[error("empty file name")]
    Empty,
    /// The name tries to leave the root (`..`, or a symlink out of it).
    #[error("path escapes the TFTP root")]
    Escape,
    /// No such file.
    #[error("file not found")]
    NotFound,
    /// Not a regular file, or not readable.
    #[error("permission denied")]
    Denied,
    /// Refused by [`Access::WorldReadable`].
    #[error("not world-readable (the server runs as root: only world-readable files are served)")]
    NotWorldReadable,
    /// Refused by [`Access::OwnedBy`].
    #[error("not owned by the server's user (tftp-secure)")]
    NotOwned,
    /// Another I/O error.
    #[error("cannot read file: {0}")]
    Io(String),
}

use std::string::String;

impl PathError {
    /// The TFTP error code (RFC 1350) to answer with: 1 file not found,
    /// 2 access violation, 0 otherwise.
    pub fn tftp_code(&self) -> u16 {
        match self {
            PathError::NotFound => 1,
            PathError::Escape
            | PathError::Denied
            | PathError::NotWorldReadable
            | PathError::NotOwned
            | PathError::ControlChar => 2,
            PathError::Empty | PathError::Io(_) => 0,
        }
    }
}

/// Which files inside the root may be served (dnsmasq's `tftp.c` rules).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Any file the process can read.
    Any,
    /// Only files with the world-readable bit: dnsmasq's rule when it runs
    /// as root, so that a root server does not hand out files only root
    /// may read.
    WorldReadable,
    /// Only files owned by this user id: `tftp-secure` when not root.
    OwnedBy(u32),
}

impl Access {
    /// The rule for a process with effective user id `euid`; as root,
    /// `tftp-secure` has no effect (dnsmasq's documented behaviour).
    pub fn for_process(euid: u32, tftp_secure: bool) -> Self {
        if euid == 0 {
            Access::WorldReadable
        } else if tftp_secure {
            Access::OwnedBy(euid)
        } else {
            Access::Any
        }
    }

    fn check(self, m: &Metadata) -> Result<(), PathError> {
        match self {
            Access::Any => Ok(()),
            Access::WorldReadable if m.mode() & 0o004 == 0 => Err(PathError::NotWorldReadable),
            Access::OwnedBy(uid) if m.uid() != uid => Err(PathError::NotOwned),
            Access::WorldReadable | Access::OwnedBy(_) => Ok(()),
        }
    }
}

/// A canonicalised TFTP root directory and its name rules.
#[derive(Clone, Debug)]
pub struct TftpRoot {
    root: PathBuf,
    lowercase: bool,
    access: Access,
}

impl TftpRoot {
    /// Canonicalise `root` (it must exist). `lowercase` is `tftp-lowercase`.
    /// Any readable file is served until [`TftpRoot::with_access`] says
    /// otherwise.
    pub fn new(root: &Path, lowercase: bool) -> io::Result<Self> {
        Ok(TftpRoot {
            root: root.canonicalize()?,
            lowercase,
            access: Access::Any,
        })
    }

    /// The same root with file access rule `access`.
    #[must_use]
    pub fn with_access(mut self, access: Access) -> Self {
        self.access = access;
        self
    }

    /// The canonical root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The directory `name` below the root as a root of its own, with the
    /// same rules, if it exists and is inside the root
    /// (`tftp-unique-root`: the per-client directory is used only if it
    /// exists).
    pub fn subdir(&self, name: &str) -> Option<TftpRoot> {
        if name.is_empty() || name.contains('/') || name == ".." || name == "." {
            return None;
        }
        let dir = self.root.join(name).canonicalize().ok()?;
        (dir.starts_with(&self.root) && dir.is_dir()).then(|| TftpRoot {
            root: dir,
            ..self.clone()
        })
    }

    /// Resolve a requested name to a file inside the root.
    pub fn resolve(&self, requested: &[u8]) -> Result<PathBuf, PathError> {
        if requested.iter().any(|b| *b < 0x20 || *b == 0x7f) {
            return Err(PathError::ControlChar);
        }
        let mut name: Vec<u8> = requested
            .iter()
            .map(|b| if *b == b'\\' { b'/' } else { *b })
            .collect();
        let mut rel: &mut [u8] = &mut name;
        let root_bytes = self.root.as_os_str().as_bytes();
        if rel.first() == Some(&b'/') {
            if rel.starts_with(root_bytes)
                && (rel.len() == root_bytes.len() || rel.get(root_bytes.len()) == Some(&b'/'))
            {
                rel = &mut rel[root_bytes.len()..];
            }
            while rel.first() == Some(&b'/') {
                rel = &mut rel[1..];
            }
        }
        if self.lowercase {
            rel.make_ascii_lowercase();
        }
        let mut joined = self.root.clone();
        let mut any = false;
        for c in Path::new(OsStr::from_bytes(rel)).components() {
            match c {
                Component::Normal(p) => {
                    joined.push(p);
                    any = true;
                }
                Component::CurDir => {}
                Component::ParentDir => return Err(PathError::Escape),
                Component::RootDir | Component::Prefix(_) => return Err(PathError::Escape),
            }
        }
        if !any {
            return Err(PathError::Empty);
        }
        let canon = match joined.canonicalize() {
            Ok(c) => c,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                // A dangling symlink pointing outside is still an escape
                // attempt worth naming; everything else is "not found".
                return Err(PathError::NotFound);
            }
            Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
                return Err(PathError::Denied);
            }
            Err(e) => return Err(PathError::Io(std::format!("{e}"))),
        };
        if !canon.starts_with(&self.root) {
            return Err(PathError::Escape);
        }
        match canon.metadata() {
            Ok(m) if m.is_file() => self.access.check(&m).map(|()| canon),
            Ok(_) => Err(PathError::Denied),
            Err(e) => Err(PathError::Io(std::format!("{e}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn setup() -> (tempfile::TempDir, TftpRoot) {
        let base = tempfile::tempdir().unwrap();
        let root = base.path().join("root");
        fs::create_dir_all(root.join("sub")).unwrap();
        fs::write(root.join("a.bin"), b"a").unwrap();
        fs::write(root.join("sub/b.bin"), b"b").unwrap();
        fs::write(base.path().join("secret"), b"s").unwrap();
        std::os::unix::fs::symlink(base.path().join("secret"), root.join("out")).unwrap();
        std::os::unix::fs::symlink("/etc", root.join("etcdir")).unwrap();
        std::os::unix::fs::symlink("sub/b.bin", root.join("in")).unwrap();
        let r = TftpRoot::new(&root, true).unwrap();
        (base, r)
    }

    #[test]
    fn accepts_names_inside() {
        let (_b, r) = setup();
        assert!(r.resolve(b"a.bin").unwrap().ends_with("a.bin"));
        assert!(r.resolve(b"/a.bin").is_ok());
        assert!(r.resolve(b"./sub//b.bin").is_ok());
        assert!(r.resolve(b"sub\\b.bin").is_ok());
        assert!(r.resolve(b"SUB/B.BIN").is_ok(), "tftp-lowercase");
        assert!(r.resolve(b"in").is_ok(), "symlink inside the root");
        let full = std::format!("{}/a.bin", r.root().display());
        assert!(r.resolve(full.as_bytes()).is_ok());
    }

    #[test]
    fn refuses_escapes() {
        let (_b, r) = setup();
        for bad in [
            &b"../secret"[..],
            b"sub/../../secret",
            b"..\\secret",
            b"sub/..",
            b"out",
            b"etcdir/passwd",
        ] {
            assert_eq!(
                r.resolve(bad),
                Err(PathError::Escape),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        assert_eq!(r.resolve(b"/etc/passwd"), Err(PathError::NotFound));
        assert_eq!(r.resolve(b"%2e%2e/secret"), Err(PathError::NotFound));
        assert_eq!(r.resolve(b"a.bin\0x"), Err(PathError::ControlChar));
        assert_eq!(r.resolve(b"a\nb"), Err(PathError::ControlChar));
        assert_eq!(r.resolve(b"sub"), Err(PathError::Denied));
        assert_eq!(r.resolve(b"/"), Err(PathError::Empty));
    }

    #[test]
    fn access_rules() {
        use std::os::unix::fs::PermissionsExt;
        let (_b, r) = setup();
        let a = r.root().join("a.bin");
        fs::set_permissions(&a, fs::Permissions::from_mode(0o640)).unwrap();
        assert!(r.resolve(b"a.bin").is_ok(), "Access::Any");
        let root = r.clone().with_access(Access::for_process(0, true));
        assert_eq!(root.resolve(b"a.bin"), Err(PathError::NotWorldReadable));
        assert_eq!(PathError::NotWorldReadable.tftp_code(), 2);
        fs::set_permissions(&a, fs::Permissions::from_mode(0o604)).unwrap();
        assert!(root.resolve(b"a.bin").is_ok());
        let owner = fs::metadata(&a).unwrap().uid();
        let mine = r
            .clone()
            .with_access(Access::for_process(owner.max(1), true));
        let theirs = r.clone().with_access(Access::OwnedBy(owner + 1));
        assert_eq!(theirs.resolve(b"a.bin"), Err(PathError::NotOwned));
        if owner != 0 {
            assert!(mine.resolve(b"a.bin").is_ok());
        }
        assert_eq!(Access::for_process(1000, false), Access::Any);
    }

    #[test]
    fn subdirs_only_when_present_and_inside() {
        let (_b, r) = setup();
        let sub = r.subdir("sub").unwrap();
        assert!(sub.resolve(b"b.bin").is_ok());
        assert_eq!(sub.resolve(b"../a.bin"), Err(PathError::Escape));
        assert!(r.subdir("missing").is_none());
        assert!(r.subdir("a.bin").is_none(), "a file is not a directory");
        assert!(r.subdir("etcdir").is_none(), "a symlink out of the root");
        assert!(r.subdir("..").is_none());
        assert!(r.subdir("sub/x").is_none());
    }
}
