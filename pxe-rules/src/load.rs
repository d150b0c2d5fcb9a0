//! Reading the files `conf-file=` and `conf-dir=` include: the [`Loader`]
//! trait the parser reads them through, its typed [`LoadError`], and
//! [`FsLoader`] (feature `std`) on the file system.

use alloc::string::String;
use alloc::vec::Vec;

/// Reads included files for `conf-file=` and `conf-dir=`.
pub trait Loader {
    /// The text of a file.
    fn read(&mut self, path: &str) -> Result<String, LoadError>;
    /// The file names (not paths) in a directory.
    fn list_dir(&mut self, dir: &str) -> Result<Vec<String>, LoadError>;
}

/// What kind of failure a [`Loader`] met: the cases of
/// `std::io::ErrorKind` an include can run into (this crate is `no_std`
/// and cannot name that type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadErrorKind {
    /// The file or directory does not exist.
    NotFound,
    /// The process may not read it.
    PermissionDenied,
    /// `conf-dir=` names something that is not a directory.
    NotADirectory,
    /// `conf-file=` names a directory.
    IsADirectory,
    /// The file is not UTF-8 text.
    InvalidData,
    /// Includes cannot be read at all: the text was parsed without a
    /// loader ([`Config::parse_str`](crate::Config::parse_str)).
    NoLoader,
    /// Any other failure (the message says which).
    Other,
}

/// Why a [`Loader`] could not read a file or list a directory. The
/// message is the loader's own (for [`FsLoader`], the operating system's
/// words), shown to the operator after the include's file:line:column.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct LoadError {
    /// What kind of failure it was.
    pub kind: LoadErrorKind,
    /// The loader's description of it.
    pub message: String,
}

impl LoadError {
    /// An error of `kind` described by `message`.
    pub fn new(kind: LoadErrorKind, message: impl Into<String>) -> LoadError {
        LoadError {
            kind,
            message: message.into(),
        }
    }

    /// Includes met while parsing without a loader.
    pub(crate) fn no_loader() -> LoadError {
        LoadError::new(
            LoadErrorKind::NoLoader,
            "no file loader (use Config::load or parse_with_loader)",
        )
    }
}

#[cfg(feature = "std")]
impl From<std::io::Error> for LoadError {
    fn from(e: std::io::Error) -> LoadError {
        use std::io::ErrorKind as Io;
        let kind = match e.kind() {
            Io::NotFound => LoadErrorKind::NotFound,
            Io::PermissionDenied => LoadErrorKind::PermissionDenied,
            Io::NotADirectory => LoadErrorKind::NotADirectory,
            Io::IsADirectory => LoadErrorKind::IsADirectory,
            Io::InvalidData => LoadErrorKind::InvalidData,
            _ => LoadErrorKind::Other,
        };
        LoadError::new(kind, alloc::format!("{e}"))
    }
}

/// Reads includes from the file system.
#[cfg(feature = "std")]
#[derive(Debug, Clone, Copy, Default)]
pub struct FsLoader;

#[cfg(feature = "std")]
impl Loader for FsLoader {
    fn read(&mut self, path: &str) -> Result<String, LoadError> {
        Ok(std::fs::read_to_string(path)?)
    }

    fn list_dir(&mut self, dir: &str) -> Result<Vec<String>, LoadError> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(dir)? {
            let e = e?;
            if e.file_type().map(|t| t.is_file()).unwrap_or(false) {
                out.push(e.file_name().to_string_lossy().into_owned());
            }
        }
        Ok(out)
    }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;

    #[test]
    fn io_errors_keep_their_kind_and_the_os_message() {
        let e = FsLoader.read("/nonexistent-pxe-rules/x.conf").unwrap_err();
        assert_eq!(e.kind, LoadErrorKind::NotFound);
        assert!(e.message.starts_with("No such file or directory"), "{e}");
        let e = FsLoader.list_dir("/nonexistent-pxe-rules").unwrap_err();
        assert_eq!(e.kind, LoadErrorKind::NotFound);
        let e = FsLoader.read("/").unwrap_err();
        assert_eq!(e.kind, LoadErrorKind::IsADirectory);
        let e = FsLoader.list_dir("/proc/self/status").unwrap_err();
        assert_eq!(e.kind, LoadErrorKind::NotADirectory);
    }
}
