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
//!
//! ```
//! # let dir = tempfile::tempdir().unwrap();
//! # std::fs::write(dir.path().join("undionly.kpxe"), b"x").unwrap();
//! use pxe_server::tftp::path::{TftpRoot, PathError};
//! let root = TftpRoot::new(dir.path(), false).unwrap();
//! assert!(root.resolve(b"undionly.kpxe").is_ok());
//! assert!(root.resolve(b"\\undionly.kpxe").is_ok());
//! assert_eq!(root.resolve(b"../etc/passwd"), Err(PathError::Escape));
//! assert_eq!(root.resolve(b"/etc/passwd"), Err(PathError::NotFound));
//! ```

use std::ffi::OsStr;
use std::io;
use std::os::unix::ffi::OsStrExt;
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
            PathError::Escape | PathError::Denied | PathError::ControlChar => 2,
            PathError::Empty | PathError::Io(_) => 0,
        }
    }
}

/// A canonicalised TFTP root directory and its name rules.
#[derive(Clone, Debug)]
pub struct TftpRoot {
    root: PathBuf,
    lowercase: bool,
}

impl TftpRoot {
    /// Canonicalise `root` (it must exist). `lowercase` is `tftp-lowercase`.
    pub fn new(root: &Path, lowercase: bool) -> io::Result<Self> {
        Ok(TftpRoot {
            root: root.canonicalize()?,
            lowercase,
        })
    }

    /// The canonical root.
    pub fn root(&self) -> &Path {
        &self.root
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
            Ok(m) if m.is_file() => Ok(canon),
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
}
