//! The TFTP service's settings, from the configuration: roots checked,
//! limits, interfaces.

use std::io;
use std::path::Path;
use std::string::String;
use std::sync::Arc;
use std::vec::Vec;

use pxe_rules::Config;

use crate::driver::journeys::Journeys;
use crate::driver::options::RunOptions;
use crate::driver::tftp::client_dir::MacSources;
use crate::driver::tftp::path::{Access, TftpRoot};
use crate::driver::tftp::service::{self, TftpSettings};
use crate::leases::LeaseQuery;

/// Why the TFTP part of the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TftpSetupError {
    /// A `tftp-root=` directory cannot be opened, and `tftp-no-fail` is
    /// not given.
    #[error("tftp-root={dir}: {source} (create the directory, or add tftp-no-fail)")]
    RootUnusable {
        /// The directory as configured.
        dir: String,
        /// Why it cannot be used.
        source: io::Error,
    },
    /// `enable-tftp` without any `tftp-root=`.
    #[error(
        "enable-tftp is set but no tftp-root= is given; add tftp-root=DIR (or --tftp-root DIR)"
    )]
    NoRoot,
}

/// The TFTP service's settings, or `None` without `enable-tftp`. Roots
/// that cannot be opened are skipped with `tftp-no-fail`, else an error.
/// Transfers are told to `journeys`, when given.
pub(crate) fn tftp_settings(
    config: &Config,
    opts: &RunOptions,
    leases: &LeaseQuery,
    journeys: Option<&Arc<Journeys>>,
) -> Result<Option<TftpSettings>, TftpSetupError> {
    let s = &config.settings;
    let Some(ifs) = &s.enable_tftp else {
        return Ok(None);
    };
    let access = Access::for_process(nix::unistd::geteuid().as_raw(), s.tftp_secure);
    if access == Access::WorldReadable {
        tracing::info!(
            "TFTP: running as root, so only world-readable files are served (as dnsmasq)"
        );
    }
    let mut roots = Vec::new();
    for (dir, iface) in &s.tftp_roots {
        match TftpRoot::new(Path::new(dir), s.tftp_lowercase) {
            Ok(r) => roots.push((iface.clone(), r.with_access(access))),
            Err(e) if s.tftp_no_fail => {
                tracing::warn!("TFTP root {dir} unusable ({e}); tftp-no-fail: going on");
            }
            Err(source) => {
                return Err(TftpSetupError::RootUnusable {
                    dir: dir.clone(),
                    source,
                });
            }
        }
    }
    if s.tftp_roots.is_empty() {
        return Err(TftpSetupError::NoRoot);
    }
    Ok(Some(TftpSettings {
        roots,
        max_transfers: s
            .tftp_max
            .map_or(service::DEFAULT_MAX, |m| m as usize)
            .max(1),
        mtu_cap: s.tftp_mtu,
        no_blocksize: s.tftp_no_blocksize,
        port: opts.tftp_port,
        interfaces: if ifs.is_empty() {
            s.interfaces.clone()
        } else {
            ifs.clone()
        },
        unique_root: s.tftp_unique_root,
        macs: Arc::new(MacSources {
            leases: Some(Arc::new(leases.clone())),
        }),
        port_range: s.tftp_port_range,
        single_port: s.tftp_single_port,
        journeys: journeys.cloned(),
    }))
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use pxe_engine::dhcp::Engine;

    use super::*;

    fn settings(text: &str) -> Result<Option<TftpSettings>, TftpSetupError> {
        let config = Arc::new(Config::parse_str(text, "t.conf").unwrap());
        let leases = LeaseQuery::new(Arc::new(Mutex::new(Engine::new(config.clone()))));
        tftp_settings(&config, &RunOptions::default(), &leases, None)
    }

    #[test]
    fn no_enable_tftp_means_no_service() {
        assert!(settings("tftp-root=/nonexistent\n").unwrap().is_none());
    }

    #[test]
    fn a_missing_root_is_a_typed_error_unless_tftp_no_fail() {
        let e = settings("enable-tftp\ntftp-root=/nonexistent-pxe-tftp\n").unwrap_err();
        let TftpSetupError::RootUnusable { dir, source } = &e else {
            panic!("{e:?}");
        };
        assert_eq!(dir, "/nonexistent-pxe-tftp");
        assert_eq!(source.kind(), io::ErrorKind::NotFound);
        assert!(
            e.to_string()
                .starts_with("tftp-root=/nonexistent-pxe-tftp: ")
                && e.to_string()
                    .ends_with("(create the directory, or add tftp-no-fail)"),
            "{e}"
        );
        let s = settings("enable-tftp\ntftp-root=/nonexistent-pxe-tftp\ntftp-no-fail\n")
            .unwrap()
            .expect("TFTP still on");
        assert!(s.roots.is_empty());
    }

    #[test]
    fn enable_tftp_without_a_root_is_refused() {
        let e = settings("enable-tftp\n").unwrap_err();
        assert!(matches!(e, TftpSetupError::NoRoot), "{e:?}");
        assert!(e.to_string().contains("add tftp-root=DIR"), "{e}");
    }

    #[test]
    fn a_usable_root_is_served_with_the_configured_limits() {
        let dir = tempfile::tempdir().unwrap();
        let text = std::format!(
            "enable-tftp\ntftp-root={}\ntftp-max=7\ninterface=eth3\n",
            dir.path().display()
        );
        let s = settings(&text).unwrap().expect("TFTP on");
        assert_eq!(s.roots.len(), 1);
        assert_eq!(s.max_transfers, 7);
        assert_eq!(s.port, RunOptions::default().tftp_port);
        assert_eq!(s.interfaces, ["eth3"]);
    }
}
