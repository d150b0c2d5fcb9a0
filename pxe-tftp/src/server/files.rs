//! Where an [`Endpoint`](super::Endpoint) gets the files it serves: a trait
//! the driver implements (a filesystem under a root, a table in flash),
//! asked once per admitted request.

use core::fmt;
use core::net::SocketAddr;

use crate::io::DataSource;
use crate::wire::{ErrorCode, Mode, Text};

use super::transmit::Local;

/// A read request the endpoint has accepted and wants a file for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileRequest<'a> {
    /// The file name exactly as the client sent it: raw bytes, which may
    /// contain `..`, `\` or non-UTF-8. Refusing such names is the
    /// implementation's job.
    pub name: &'a [u8],
    /// `octet` or `netascii`.
    pub mode: Mode,
    /// The client.
    pub peer: SocketAddr,
    /// The local address the request arrived on (per-interface roots, the
    /// interface MTU).
    pub local: Local,
}

/// A file opened for a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened<S> {
    /// Its bytes.
    pub source: S,
    /// The MTU of the link the request came in on, when the implementation
    /// knows it: the endpoint grants no `blksize` whose DATA packets would
    /// not fit it (capped by [`EndpointConfig::mtu_cap`](super::EndpointConfig::mtu_cap)).
    /// `None`: only [`ServerLimits::max_blksize`](crate::ServerLimits::max_blksize) applies.
    pub mtu: Option<u32>,
}

impl<S> Opened<S> {
    /// `source`, with no MTU known.
    pub fn new(source: S) -> Self {
        Opened { source, mtu: None }
    }
}

/// Why a file is not served: the TFTP error the client gets, and (through
/// `Display`) the reason for the operator's log.
pub trait Refusal: fmt::Display {
    /// The code of the ERROR sent to the client (1 file not found,
    /// 2 access violation, 0 otherwise).
    fn code(&self) -> ErrorCode;

    /// Writes the text of the ERROR sent to the client. The default is the
    /// `Display` text; an implementation may name the file, or say less
    /// than the log does.
    fn write_message(&self, request: &FileRequest<'_>, out: &mut dyn fmt::Write) -> fmt::Result {
        let _ = request;
        write!(out, "{self}")
    }
}

/// The files an endpoint serves.
///
/// [`open`](Files::open) runs once per admitted request (after the request
/// parsed, was not a duplicate, and a transfer slot is free), never per
/// datagram. It may block briefly (a filesystem lookup); a driver on an
/// async runtime calls the endpoint where blocking is acceptable.
pub trait Files {
    /// An open file.
    type Source: DataSource;
    /// Why a file was refused.
    type Refusal: Refusal;

    /// Opens the file `request` names, or says why not.
    fn open(&mut self, request: &FileRequest<'_>) -> Result<Opened<Self::Source>, Self::Refusal>;
}

impl<F: Files + ?Sized> Files for &mut F {
    type Source = F::Source;
    type Refusal = F::Refusal;
    fn open(&mut self, request: &FileRequest<'_>) -> Result<Opened<F::Source>, F::Refusal> {
        (**self).open(request)
    }
}

/// The standard refusals, for implementations that need no more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FileRefusal {
    /// No such file (ERROR 1).
    #[error("file not found")]
    NotFound,
    /// The name is refused: it leaves the root, or the file may not be read
    /// (ERROR 2).
    #[error("access violation")]
    AccessDenied,
    /// Anything else (ERROR 0 with this text).
    #[error("{0}")]
    Other(&'static str),
}

impl Refusal for FileRefusal {
    fn code(&self) -> ErrorCode {
        match self {
            FileRefusal::NotFound => ErrorCode::FILE_NOT_FOUND,
            FileRefusal::AccessDenied => ErrorCode::ACCESS_VIOLATION,
            FileRefusal::Other(_) => ErrorCode::NOT_DEFINED,
        }
    }
}

/// Whether a requested name has a `..` component, with `\` read as `/` (as
/// DOS-minded clients send it): a name that tries to leave the root.
///
/// ```
/// use pxe_tftp::server::climbs_out;
/// assert!(climbs_out(b"../etc/passwd"));
/// assert!(climbs_out(b"sub\\..\\..\\secret"));
/// assert!(climbs_out(b"sub/.."));
/// assert!(!climbs_out(b"a..b/..c"));
/// ```
pub fn climbs_out(name: &[u8]) -> bool {
    name.split(|&b| b == b'/' || b == b'\\').any(|c| c == b"..")
}

/// A file name for log lines: printable ASCII as is, anything else escaped,
/// quoted, at most 128 bytes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Name<'a>(pub &'a [u8]);

impl fmt::Debug for Name<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = self.0.get(..128).unwrap_or(self.0);
        write!(f, "\"{}\"", Text(shown))?;
        if shown.len() < self.0.len() {
            f.write_str("...")?;
        }
        Ok(())
    }
}

impl fmt::Display for Name<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}
