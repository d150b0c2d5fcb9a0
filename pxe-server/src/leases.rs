//! The lease queries other services make (HTTP scripts, TFTP per-client
//! roots, metrics): read access to the engine's lease table.

use std::net::Ipv4Addr;
use std::string::String;
use std::vec::Vec;

use pxe_engine::lease::Lease;

use crate::driver::clock::unix_now;
use crate::driver::engine::{SharedEngine, lock};
use crate::driver::http::{ClientFacts, ClientLookup};
use pxe_engine::script::MacAddr;

/// A lease as other services see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeaseInfo {
    /// The leased address.
    pub addr: Ipv4Addr,
    /// The client's host name, if known.
    pub hostname: Option<String>,
    /// Expiry (Unix seconds, 0 = never).
    pub expires: u64,
}

/// Read access to the leases for other services (HTTP scripts, metrics).
#[derive(Clone, Debug)]
pub struct LeaseQuery {
    pub(crate) engine: SharedEngine,
}

impl LeaseQuery {
    /// The active lease of hardware address `mac` (most recent), if any.
    pub fn by_mac(&self, mac: &[u8]) -> Option<LeaseInfo> {
        let e = lock(&self.engine);
        e.leases().lease_by_mac(mac, unix_now()).map(info)
    }

    /// The lease holding `addr`, if active.
    pub fn by_addr(&self, addr: Ipv4Addr) -> Option<LeaseInfo> {
        let e = lock(&self.engine);
        e.leases()
            .get(addr)
            .filter(|l| l.is_active(unix_now()))
            .map(info)
    }

    /// The DHCP counters now.
    pub fn metrics(&self) -> pxe_engine::dhcp::metrics::Metrics {
        lock(&self.engine).metrics().clone()
    }
}

impl crate::tftp::client_dir::MacLookup for LeaseQuery {
    fn mac_of(&self, ip: Ipv4Addr) -> Option<Vec<u8>> {
        let e = lock(&self.engine);
        e.leases()
            .get(ip)
            .filter(|l| l.is_active(unix_now()))
            .map(|l| l.hw.as_bytes().to_vec())
    }
}

fn info(l: &Lease) -> LeaseInfo {
    LeaseInfo {
        addr: l.addr,
        hostname: l.hostname.clone(),
        expires: l.expires,
    }
}

/// Host names come from the DHCP leases.
impl ClientLookup for LeaseQuery {
    fn lookup(&self, mac: &MacAddr) -> Option<ClientFacts> {
        self.by_mac(&mac.0).map(|l| ClientFacts {
            arch: None,
            hostname: l.hostname,
            tags: Vec::new(),
        })
    }
}
