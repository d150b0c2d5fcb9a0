//! Where the log goes and how it reads: `--log-format text|json` and
//! dnsmasq's `log-facility=` (standard error, a file, or syslog through
//! the local socket `/dev/log`).
//!
//! Text is for people (one line per event, as dnsmasq writes them); JSON
//! is tracing-subscriber's (one object per line: timestamp, level, fields)
//! for log collectors. Syslog lines carry the facility and the event's
//! severity in their `<PRI>` and no timestamp, which syslog adds.

use std::fs::File;
use std::io::{self, Write};
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::vec::Vec;

use pxe_rules::config::{LogFacility, SyslogFacility};
use tracing::{Level, Metadata};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// The local syslog socket.
pub const SYSLOG_SOCKET: &str = "/dev/log";

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// One human-readable line per event.
    #[default]
    Text,
    /// One JSON object per line (tracing-subscriber's format).
    Json,
}

/// Why the log cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// `log-facility=FILE` cannot be opened for appending.
    #[error("log-facility={}: {source}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// The syslog socket cannot be reached.
    #[error("log-facility={facility}: cannot reach the syslog socket {SYSLOG_SOCKET}: {source}")]
    Syslog {
        /// The facility asked for.
        facility: &'static str,
        /// The OS error.
        source: io::Error,
    },
}

/// The destination of log lines, opened.
#[derive(Clone, Debug)]
pub enum Sink {
    /// Standard error (the default; journald reads it under systemd).
    Stderr,
    /// A file, appended to.
    File(Arc<File>),
    /// The local syslog socket, with a facility.
    Syslog(Arc<Syslog>),
}

impl Sink {
    /// Opens what `log-facility=` names (`None`: standard error).
    pub fn open(facility: Option<&LogFacility>) -> Result<Sink, LogError> {
        match facility {
            None | Some(LogFacility::Stderr) => Ok(Sink::Stderr),
            Some(LogFacility::File(path)) => open_append(Path::new(path))
                .map(|f| Sink::File(Arc::new(f)))
                .map_err(|source| LogError::File {
                    path: PathBuf::from(path),
                    source,
                }),
            Some(LogFacility::Syslog(f)) => Syslog::connect(Path::new(SYSLOG_SOCKET), *f)
                .map(|s| Sink::Syslog(Arc::new(s)))
                .map_err(|source| LogError::Syslog {
                    facility: f.name(),
                    source,
                }),
        }
    }
}

fn open_append(path: &Path) -> io::Result<File> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
}

/// A connection to a syslog socket: one datagram per line, `<PRI>` first.
#[derive(Debug)]
pub struct Syslog {
    sock: UnixDatagram,
    facility: SyslogFacility,
    /// `pxe-server[PID]: `, the tag every line carries.
    tag: std::string::String,
}

impl Syslog {
    /// Connects to the syslog socket at `path`.
    pub fn connect(path: &Path, facility: SyslogFacility) -> io::Result<Syslog> {
        let sock = UnixDatagram::unbound()?;
        sock.connect(path)?;
        Ok(Syslog {
            sock,
            facility,
            tag: std::format!("pxe-server[{}]: ", std::process::id()),
        })
    }

    /// Sends one line with `level`'s severity (a failure is dropped: there
    /// is nowhere left to report it).
    fn send(&self, level: Level, line: &[u8]) {
        let line = line.strip_suffix(b"\n").unwrap_or(line);
        let pri = u16::from(self.facility.code()) * 8 + u16::from(severity(level));
        let mut datagram = Vec::with_capacity(line.len() + self.tag.len() + 6);
        let _ = write!(datagram, "<{pri}>{}", self.tag);
        datagram.extend_from_slice(line);
        let _ = self.sock.send(&datagram);
    }
}

/// The syslog severity of a tracing level (RFC 5424: 3 error, 4 warning,
/// 6 informational, 7 debug).
fn severity(level: Level) -> u8 {
    match level {
        Level::ERROR => 3,
        Level::WARN => 4,
        Level::INFO => 6,
        _ => 7,
    }
}

/// The writer for one event.
#[derive(Debug)]
pub enum EventWriter {
    /// Straight to standard error.
    Stderr(io::Stderr),
    /// Straight to the file (each event is one `write` in append mode).
    File(Arc<File>),
    /// Collected, then sent as one datagram when the event is written.
    Syslog {
        /// The connection.
        syslog: Arc<Syslog>,
        /// The event's level.
        level: Level,
        /// The line so far.
        line: Vec<u8>,
    },
}

impl Write for EventWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            EventWriter::Stderr(e) => e.write(buf),
            EventWriter::File(f) => (&**f).write(buf),
            EventWriter::Syslog { line, .. } => {
                line.extend_from_slice(buf);
                Ok(buf.len())
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            EventWriter::Stderr(e) => e.flush(),
            EventWriter::File(f) => (&**f).flush(),
            EventWriter::Syslog { .. } => Ok(()),
        }
    }
}

impl Drop for EventWriter {
    fn drop(&mut self) {
        if let EventWriter::Syslog {
            syslog,
            level,
            line,
        } = self
            && !line.is_empty()
        {
            syslog.send(*level, line);
        }
    }
}

impl<'a> MakeWriter<'a> for Sink {
    type Writer = EventWriter;

    fn make_writer(&'a self) -> EventWriter {
        self.writer(Level::INFO)
    }

    fn make_writer_for(&'a self, meta: &Metadata<'_>) -> EventWriter {
        self.writer(*meta.level())
    }
}

impl Sink {
    fn writer(&self, level: Level) -> EventWriter {
        match self {
            Sink::Stderr => EventWriter::Stderr(io::stderr()),
            Sink::File(f) => EventWriter::File(f.clone()),
            Sink::Syslog(s) => EventWriter::Syslog {
                syslog: s.clone(),
                level,
                line: Vec::new(),
            },
        }
    }
}

/// The filter when `RUST_LOG` is unset: `info`, and the server's debug
/// lines with `log-dhcp`.
fn default_filter(verbose: bool) -> EnvFilter {
    let default = if verbose {
        "pxe_server=debug,info"
    } else {
        "info"
    };
    EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default))
}

/// Installs the process's logger: `format` lines to `sink`. Returns
/// `false` when a logger was installed already (the first one stays).
pub fn init(format: LogFormat, sink: Sink, verbose: bool) -> bool {
    let ansi = matches!(sink, Sink::Stderr) && io::IsTerminal::is_terminal(&io::stderr());
    let syslog = matches!(sink, Sink::Syslog(_));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(default_filter(verbose))
        .with_target(false)
        .with_ansi(ansi)
        .with_writer(sink);
    match (format, syslog) {
        (LogFormat::Json, _) => builder.json().try_init().is_ok(),
        // syslog stamps the time and the severity itself.
        (LogFormat::Text, true) => builder.without_time().with_level(false).try_init().is_ok(),
        (LogFormat::Text, false) => builder.try_init().is_ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_facility_appends_and_a_bad_one_names_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pxe.log");
        std::fs::write(&path, "before\n").unwrap();
        let facility = LogFacility::File(path.to_string_lossy().into_owned());
        let sink = Sink::open(Some(&facility)).unwrap();
        {
            let mut w = sink.writer(Level::INFO);
            w.write_all(b"after\n").unwrap();
        }
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "before\nafter\n");
        let bad = LogFacility::File(String::from("/nonexistent-dir/pxe.log"));
        let e = Sink::open(Some(&bad)).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("log-facility=/nonexistent-dir/pxe.log: "),
            "{e}"
        );
    }

    #[test]
    fn syslog_lines_carry_facility_severity_and_tag() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.sock");
        let server = UnixDatagram::bind(&path).unwrap();
        let local3 = SyslogFacility::from_name("local3").unwrap();
        let sink = Sink::Syslog(Arc::new(Syslog::connect(&path, local3).unwrap()));
        for (level, text) in [(Level::WARN, "careful"), (Level::INFO, "DHCPACK")] {
            let mut w = sink.writer(level);
            w.write_all(text.as_bytes()).unwrap();
            w.write_all(b"\n").unwrap();
        }
        let mut buf = [0u8; 256];
        let pid = std::process::id();
        let n = server.recv(&mut buf).unwrap();
        // local3 = 19: 19 * 8 + 4 (warning).
        assert_eq!(
            std::str::from_utf8(&buf[..n]).unwrap(),
            std::format!("<156>pxe-server[{pid}]: careful")
        );
        let n = server.recv(&mut buf).unwrap();
        assert_eq!(
            std::str::from_utf8(&buf[..n]).unwrap(),
            std::format!("<158>pxe-server[{pid}]: DHCPACK")
        );
    }
}
