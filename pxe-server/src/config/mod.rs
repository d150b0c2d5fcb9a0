//! The configuration: the dnsmasq-dialect file read and parsed, the
//! command line's overrides applied, `listen-address=` resolved against the
//! machine's interfaces, and settings that have no effect here named.
//! [`describe`] explains the result (`pxe-server check`).

mod describe;

use std::io;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::string::String;
use std::vec;
use std::vec::Vec;

use pxe_rules::config::Settings;
use pxe_rules::{Config, ParseError};

use crate::driver::net::IfaceInfo;

pub use describe::describe;

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The configuration file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// The file (or one it includes) is invalid; the error names
    /// file:line:column.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// A `listen-address=` that no interface holds (dnsmasq fails to bind
    /// it too).
    #[error("listen-address={0}: no interface has this address")]
    ListenAddress(Ipv4Addr),
}

/// Default lease file when neither the file nor the command line names one.
pub const DEFAULT_LEASE_FILE: &str = "/var/lib/misc/pxe-server.leases";

/// Command-line values that replace the file's.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    /// `--interface` (replaces `interface=`).
    pub interfaces: Vec<String>,
    /// `--dhcp-leasefile`.
    pub lease_file: Option<PathBuf>,
    /// `--tftp-root` (also turns TFTP on).
    pub tftp_root: Option<PathBuf>,
    /// `--log-dhcp`.
    pub log_dhcp: bool,
}

/// Read and parse `path`, then apply `overrides`.
pub fn load_config(path: &Path, overrides: &Overrides) -> Result<Config, ConfigError> {
    let mut config = parse_file(path)?;
    let s = &mut config.settings;
    if !overrides.interfaces.is_empty() {
        s.interfaces = overrides.interfaces.clone();
    }
    if let Some(l) = &overrides.lease_file {
        s.lease_file = Some(l.to_string_lossy().into_owned());
    }
    if let Some(r) = &overrides.tftp_root {
        s.tftp_roots = vec![(r.to_string_lossy().into_owned(), None)];
        if s.enable_tftp.is_none() {
            s.enable_tftp = Some(Vec::new());
        }
    }
    s.log_dhcp |= overrides.log_dhcp;
    Ok(config)
}

/// Read and parse a dnsmasq-dialect file (following `conf-file=` and
/// `conf-dir=`); errors name file:line:column.
pub fn parse_file(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let name = path.to_string_lossy();
    Ok(Config::parse_with_loader(
        &text,
        &name,
        &mut pxe_rules::FsLoader,
    )?)
}

/// `listen-address=`: as in dnsmasq, the interfaces that hold these
/// addresses are served, beside those named by `interface=` (and then
/// only these). An address no interface holds is an error, as dnsmasq
/// fails to bind it.
pub fn listen_on_addresses(s: &mut Settings, ifaces: &[IfaceInfo]) -> Result<(), ConfigError> {
    for a in &s.listen_addresses {
        let Some(i) = ifaces.iter().find(|i| i.addr == *a) else {
            return Err(ConfigError::ListenAddress(*a));
        };
        if !s.interfaces.contains(&i.name) {
            s.interfaces.push(i.name.clone());
        }
    }
    Ok(())
}

/// Says which of the file's dnsmasq settings change nothing here, so no
/// one believes they took effect.
pub fn note_unimplemented(s: &Settings) {
    if s.leasefile_ro {
        tracing::warn!(
            "leasefile-ro: not supported; leases are still written (pxe-server keeps no lease only in memory)"
        );
    }
    if s.bind_interfaces || s.bind_dynamic {
        tracing::info!(
            "bind-interfaces/bind-dynamic: pxe-server always binds per interface (SO_BINDTODEVICE) when interface= is given"
        );
    }
    if !s.no_ping {
        tracing::info!(
            "pxe-server does not ping an address before offering it (as dnsmasq's no-ping); a client that finds it in use sends DHCPDECLINE"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn iface(index: u32, name: &str, addr: [u8; 4]) -> IfaceInfo {
        IfaceInfo {
            index,
            name: String::from(name),
            addr: Ipv4Addr::from(addr),
            netmask: Ipv4Addr::new(255, 255, 255, 0),
            mtu: 1500,
        }
    }

    #[test]
    fn listen_address_adds_the_interface_holding_it() {
        let ifaces = [
            iface(1, "lo", [127, 0, 0, 1]),
            iface(2, "eth1", [10, 1, 0, 1]),
        ];
        let mut c = Config::parse_str("interface=eth0\nlisten-address=10.1.0.1\n", "t.conf")
            .expect("parses");
        listen_on_addresses(&mut c.settings, &ifaces).expect("eth1 holds it");
        assert_eq!(c.settings.interfaces, ["eth0", "eth1"]);
        let mut c = Config::parse_str("listen-address=10.9.9.9\n", "t.conf").expect("parses");
        let e = listen_on_addresses(&mut c.settings, &ifaces).expect_err("nobody holds it");
        assert!(e.to_string().contains("listen-address=10.9.9.9"), "{e}");
        assert!(matches!(e, ConfigError::ListenAddress(a) if a == Ipv4Addr::new(10, 9, 9, 9)));
    }

    #[test]
    fn parse_errors_keep_their_type_and_position() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.conf");
        std::fs::write(&path, "dhcp-boot=a\n\ndhcp-bootx=b\n").unwrap();
        let e = parse_file(&path).expect_err("unknown directive");
        let ConfigError::Parse(p) = &e else {
            panic!("not a parse error: {e:?}");
        };
        assert_eq!((p.line, p.column), (3, 1));
        assert!(
            e.to_string()
                .starts_with(&std::format!("{}:3:1: ", path.display())),
            "{e}"
        );
    }

    #[test]
    fn an_unreadable_file_names_the_path_and_keeps_the_os_error() {
        let e = parse_file(Path::new("/nonexistent/pxe.conf")).expect_err("missing");
        let ConfigError::Read { path, source } = &e else {
            panic!("not a read error: {e:?}");
        };
        assert_eq!(path, Path::new("/nonexistent/pxe.conf"));
        assert_eq!(source.kind(), io::ErrorKind::NotFound);
        assert!(
            e.to_string()
                .starts_with("cannot read /nonexistent/pxe.conf: "),
            "{e}"
        );
    }

    #[test]
    fn overrides_replace_the_file_and_turn_tftp_on() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.conf");
        std::fs::write(&path, "interface=eth0\ndhcp-leasefile=/a.leases\n").unwrap();
        let c = load_config(
            &path,
            &Overrides {
                interfaces: vec![String::from("eth7")],
                lease_file: Some(PathBuf::from("/b.leases")),
                tftp_root: Some(PathBuf::from("/srv/tftp")),
                log_dhcp: true,
            },
        )
        .unwrap();
        let s = &c.settings;
        assert_eq!(s.interfaces, ["eth7"]);
        assert_eq!(s.lease_file.as_deref(), Some("/b.leases"));
        assert_eq!(s.tftp_roots, [(String::from("/srv/tftp"), None)]);
        assert!(s.enable_tftp.is_some());
        assert!(s.log_dhcp);
    }
}
