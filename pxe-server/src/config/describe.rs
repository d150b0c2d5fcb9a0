//! What a configuration means, in plain words (`pxe-server check`).

use std::fmt::Write;
use std::path::Path;
use std::string::String;

use pxe_rules::Config;
use pxe_rules::config::RangeMode;

use super::DEFAULT_LEASE_FILE;

/// What the configuration means, in plain words, then every rule in
/// canonical form with its source line.
pub fn describe(c: &Config) -> String {
    let mut o = String::new();
    let s = &c.settings;
    let _ = writeln!(o, "Configuration understood:");
    let mut any_range = false;
    for (loc, r) in c.ranges() {
        any_range = true;
        let lease = r.lease.map_or(
            std::format!("{}s (default)", pxe_engine::dhcp::DEFAULT_LEASE),
            |l| {
                if l.as_secs() == u32::MAX {
                    String::from("infinite")
                } else {
                    std::format!("{}s", l.as_secs())
                }
            },
        );
        match r.mode {
            RangeMode::Dynamic => {
                let _ = writeln!(
                    o,
                    "  DHCP (full): addresses {} - {}, lease {lease}  [{loc}]",
                    r.start, r.end
                );
            }
            RangeMode::Static => {
                let _ = writeln!(
                    o,
                    "  DHCP (full, static only) on the network of {}  [{loc}]",
                    r.start
                );
            }
            RangeMode::Proxy => {
                let _ = writeln!(
                    o,
                    "  proxyDHCP on the network of {}: PXE boot data only, no addresses (the LAN's own DHCP server gives them)  [{loc}]",
                    r.start
                );
            }
        }
    }
    if !any_range {
        let _ = writeln!(o, "  DHCP: off (no dhcp-range)");
    }
    if pxe_engine::dhcp::Sockets::for_config(c).pxe {
        let _ = writeln!(o, "  PXE boot server: UDP 4011");
    }
    if s.authoritative {
        let _ = writeln!(o, "  dhcp-authoritative: NAK requests for unknown leases");
    }
    match &s.enable_tftp {
        Some(_) => {
            for (dir, iface) in &s.tftp_roots {
                if !Path::new(dir).is_dir() {
                    let _ = writeln!(
                        o,
                        "  warning: tftp-root {dir} is not a directory: the server will refuse to start{}",
                        if s.tftp_no_fail {
                            " (tftp-no-fail: it will start without TFTP on it)"
                        } else {
                            " (create it, pass --tftp-root DIR, or add tftp-no-fail)"
                        }
                    );
                }
                let _ = writeln!(
                    o,
                    "  TFTP: root {dir}{}, read-only, at most {} transfers{}",
                    iface
                        .as_deref()
                        .map_or(String::new(), |i| std::format!(" (interface {i})")),
                    s.tftp_max.unwrap_or(50),
                    if s.tftp_lowercase {
                        ", names lower-cased"
                    } else {
                        ""
                    }
                );
            }
            if s.tftp_roots.is_empty() {
                let _ = writeln!(
                    o,
                    "  TFTP: enabled but no tftp-root= given (the server will refuse to start)"
                );
            }
        }
        None => {
            let _ = writeln!(o, "  TFTP: off");
        }
    }
    let _ = writeln!(
        o,
        "  interfaces: {}",
        if s.interfaces.is_empty() {
            String::from("all")
        } else {
            s.interfaces.join(", ")
        }
    );
    let _ = writeln!(
        o,
        "  lease file: {} (durable log in {}.log)",
        s.lease_file.as_deref().unwrap_or(DEFAULT_LEASE_FILE),
        s.lease_file.as_deref().unwrap_or(DEFAULT_LEASE_FILE)
    );
    if s.log_dhcp {
        let _ = writeln!(o, "  log-dhcp: every exchange explained");
    }
    let _ = writeln!(o, "\nRules, in file order (canonical form):");
    for item in &c.items {
        let _ = writeln!(o, "  {}: {}", item.loc, c.rule_display(&item.rule));
    }
    for ig in &c.ignored {
        let _ = writeln!(
            o,
            "  {}: `{}` accepted but has no effect: {}",
            ig.loc, ig.name, ig.reason
        );
    }
    o
}
