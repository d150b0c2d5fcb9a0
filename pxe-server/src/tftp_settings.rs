//! The TFTP service's settings, from the configuration: roots checked,
//! limits, interfaces.

use std::path::Path;
use std::string::String;
use std::sync::Arc;
use std::vec::Vec;

use pxe_rules::Config;

use crate::driver::options::RunOptions;
use crate::leases::LeaseQuery;
use crate::service::RunError;
use crate::tftp::client_dir::MacSources;
use crate::tftp::path::{Access, TftpRoot};
use crate::tftp::service::{self, TftpSettings};

pub(crate) fn tftp_settings(
    config: &Config,
    opts: &RunOptions,
    leases: &LeaseQuery,
) -> Result<Option<TftpSettings>, RunError> {
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
            Err(e) => {
                return Err(RunError::Config(format!(
                    "tftp-root={dir}: {e} (create the directory, or add tftp-no-fail)"
                )));
            }
        }
    }
    if s.tftp_roots.is_empty() {
        return Err(RunError::Config(String::from(
            "enable-tftp is set but no tftp-root= is given; add tftp-root=DIR (or --tftp-root DIR)",
        )));
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
    }))
}
