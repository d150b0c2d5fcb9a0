//! Running unprivileged: dnsmasq's `user=` and `group=`. A server started
//! as root switches to that user and group and keeps only the
//! capabilities it still uses ([`KEPT`]), in every thread it starts after.
//!
//! Why binding may still happen after the switch: a reload can add an
//! interface or a port (DHCP 67, the PXE boot server 4011, TFTP 69,
//! `http-port=80`), and per-interface sockets use `SO_BINDTODEVICE`; and
//! a reply unicast to a client without an address needs its neighbour
//! entry written first (dnsmasq keeps the same capability for its ARP
//! entries). So the server keeps `CAP_NET_BIND_SERVICE`, `CAP_NET_RAW`
//! and `CAP_NET_ADMIN` — exactly what systemd's `User=` with
//! `AmbientCapabilities=` starts it with — and one code path serves both
//! ways of starting it.
//!
//! The switch must happen before any other thread exists: capabilities
//! are per thread (`capset(2)`), and threads inherit them when created.

use std::string::String;

use caps::{CapSet, Capability, CapsHashSet};
use nix::unistd::{Gid, Group, Uid, User};

/// The capabilities the server keeps after [`drop_to`]: binding ports
/// below 1024, `SO_BINDTODEVICE` on kernels before 5.7, and neighbour
/// entries for unicast replies to clients without an address.
pub const KEPT: [Capability; 3] = [
    Capability::CAP_NET_BIND_SERVICE,
    Capability::CAP_NET_RAW,
    Capability::CAP_NET_ADMIN,
];

/// Why the server cannot run as the configured user and group.
#[derive(Debug, thiserror::Error)]
pub enum PrivilegeError {
    /// `user=` names no user of this machine.
    #[error("user={0}: no such user")]
    UnknownUser(String),
    /// `group=` names no group of this machine.
    #[error("group={0}: no such group")]
    UnknownGroup(String),
    /// The user or group database could not be read.
    #[error("cannot look up {name}: {source}")]
    Lookup {
        /// The user or group name.
        name: String,
        /// The error of `getpwnam_r`/`getgrnam_r`.
        source: nix::Error,
    },
    /// A system call changing the identity failed.
    #[error("cannot {step}: {source}")]
    Switch {
        /// What was being done (`setuid(65534)`, ...).
        step: String,
        /// The OS error.
        source: nix::Error,
    },
    /// The capability sets could not be changed.
    #[error("cannot set the capabilities: {0}")]
    Caps(#[from] caps::errors::CapsError),
    /// After the switch, the process could become root again.
    #[error("still able to regain root after switching to uid {0}")]
    RootRegained(u32),
}

/// The user and group to run as, resolved from their names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunAs {
    /// The user's name (`user=`), or `None` to keep the current user.
    pub user: Option<String>,
    /// The user id to switch to.
    pub uid: u32,
    /// The group's name (`group=`, else the user's primary group).
    pub group: String,
    /// The group id to switch to.
    pub gid: u32,
}

/// The identity `user=`/`group=` name, or `None` when neither is given.
/// Without `group=`, the user's primary group is used; `group=` alone
/// changes the group only.
pub fn resolve(user: Option<&str>, group: Option<&str>) -> Result<Option<RunAs>, PrivilegeError> {
    if user.is_none() && group.is_none() {
        return Ok(None);
    }
    let found = match user {
        Some(name) => Some(
            User::from_name(name)
                .map_err(|source| PrivilegeError::Lookup {
                    name: String::from(name),
                    source,
                })?
                .ok_or_else(|| PrivilegeError::UnknownUser(String::from(name)))?,
        ),
        None => None,
    };
    let (uid, primary) = match &found {
        Some(u) => (u.uid.as_raw(), u.gid),
        None => (Uid::current().as_raw(), Gid::current()),
    };
    let (group, gid) = match group {
        Some(name) => {
            let g = Group::from_name(name)
                .map_err(|source| PrivilegeError::Lookup {
                    name: String::from(name),
                    source,
                })?
                .ok_or_else(|| PrivilegeError::UnknownGroup(String::from(name)))?;
            (String::from(name), g.gid.as_raw())
        }
        None => {
            let name = Group::from_gid(primary)
                .ok()
                .flatten()
                .map_or_else(|| primary.to_string(), |g| g.name);
            (name, primary.as_raw())
        }
    };
    Ok(Some(RunAs {
        user: user.map(String::from),
        uid,
        group,
        gid,
    }))
}

/// What [`drop_to`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dropped {
    /// The process switched identity and kept only [`KEPT`].
    Switched,
    /// The process does not run as root: it cannot switch, and runs as it
    /// was started (under systemd, `User=` already did the switch).
    NotRoot,
}

/// Switch this process to `to`, keeping only the [`KEPT`] capabilities
/// (permitted and effective; nothing inheritable; the bounding set cut to
/// them so no later `execve` regains more). Call it before any other
/// thread starts.
pub fn drop_to(to: &RunAs) -> Result<Dropped, PrivilegeError> {
    if !Uid::effective().is_root() {
        return Ok(Dropped::NotRoot);
    }
    let kept: CapsHashSet = KEPT.into_iter().collect();
    for cap in caps::all() {
        if !kept.contains(&cap) {
            // Capabilities this kernel does not know are not in the set.
            if caps::has_cap(None, CapSet::Bounding, cap).unwrap_or(false) {
                caps::drop(None, CapSet::Bounding, cap)?;
            }
        }
    }
    // Keep the permitted set across setuid; cleared again below.
    caps::securebits::set_keepcaps(true)?;
    let gid = Gid::from_raw(to.gid);
    let uid = Uid::from_raw(to.uid);
    nix::unistd::setgroups(&[gid]).map_err(|source| PrivilegeError::Switch {
        step: std::format!("setgroups([{gid}])"),
        source,
    })?;
    nix::unistd::setgid(gid).map_err(|source| PrivilegeError::Switch {
        step: std::format!("setgid({gid})"),
        source,
    })?;
    nix::unistd::setuid(uid).map_err(|source| PrivilegeError::Switch {
        step: std::format!("setuid({uid})"),
        source,
    })?;
    caps::set(None, CapSet::Permitted, &kept)?;
    caps::set(None, CapSet::Effective, &kept)?;
    caps::clear(None, CapSet::Inheritable)?;
    caps::securebits::set_keepcaps(false)?;
    if !uid.is_root() && nix::unistd::setuid(Uid::from_raw(0)).is_ok() {
        return Err(PrivilegeError::RootRegained(to.uid));
    }
    Ok(Dropped::Switched)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_configured_resolves_to_nothing() {
        assert_eq!(resolve(None, None).unwrap(), None);
    }

    #[test]
    fn a_user_brings_its_primary_group() {
        let r = resolve(Some("root"), None).unwrap().unwrap();
        assert_eq!((r.uid, r.gid), (0, 0));
        assert_eq!(r.group, "root");
        assert_eq!(r.user.as_deref(), Some("root"));
    }

    #[test]
    fn a_group_alone_keeps_the_user() {
        let r = resolve(None, Some("root")).unwrap().unwrap();
        assert_eq!(r.uid, Uid::current().as_raw());
        assert_eq!((r.group.as_str(), r.gid), ("root", 0));
        assert_eq!(r.user, None);
    }

    #[test]
    fn unknown_names_are_typed_errors() {
        let e = resolve(Some("no-such-user-pxe"), None).unwrap_err();
        assert!(matches!(&e, PrivilegeError::UnknownUser(u) if u == "no-such-user-pxe"));
        assert_eq!(e.to_string(), "user=no-such-user-pxe: no such user");
        let e = resolve(Some("root"), Some("no-such-group-pxe")).unwrap_err();
        assert_eq!(e.to_string(), "group=no-such-group-pxe: no such group");
    }
}
