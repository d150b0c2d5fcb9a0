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
    engine: SharedEngine,
}

impl LeaseQuery {
    /// Queries over the leases of `engine`.
    pub(crate) fn new(engine: SharedEngine) -> LeaseQuery {
        LeaseQuery { engine }
    }

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

impl crate::driver::tftp::client_dir::MacLookup for LeaseQuery {
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

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use pxe_engine::dhcp::Engine;
    use pxe_engine::lease::{HwAddr, LeaseChange, NEVER};
    use pxe_rules::Config;

    use super::*;
    use crate::driver::tftp::client_dir::MacLookup;

    const MAC: [u8; 6] = [0x52, 0x54, 0, 0x12, 0x34, 0x56];

    fn query(leases: &[Lease]) -> LeaseQuery {
        let config = Config::parse_str("dhcp-range=10.0.0.10,10.0.0.50\n", "t.conf").unwrap();
        let mut engine = Engine::new(Arc::new(config));
        for l in leases {
            engine.leases_mut().apply(&LeaseChange::Grant(l.clone()));
        }
        LeaseQuery::new(Arc::new(Mutex::new(engine)))
    }

    fn lease(addr: [u8; 4], mac: [u8; 6], expires: u64) -> Lease {
        Lease {
            addr: Ipv4Addr::from(addr),
            hw: HwAddr::ethernet(mac),
            client_id: None,
            hostname: Some(String::from("node1")),
            expires,
        }
    }

    #[test]
    fn active_leases_answer_every_query() {
        let q = query(&[lease([10, 0, 0, 11], MAC, NEVER)]);
        let want = LeaseInfo {
            addr: Ipv4Addr::new(10, 0, 0, 11),
            hostname: Some(String::from("node1")),
            expires: NEVER,
        };
        assert_eq!(q.by_mac(&MAC), Some(want.clone()));
        assert_eq!(q.by_addr(Ipv4Addr::new(10, 0, 0, 11)), Some(want));
        assert_eq!(
            q.mac_of(Ipv4Addr::new(10, 0, 0, 11)).as_deref(),
            Some(&MAC[..])
        );
        let facts = q.lookup(&MacAddr(MAC)).unwrap();
        assert_eq!(facts.hostname.as_deref(), Some("node1"));
        assert_eq!(q.by_addr(Ipv4Addr::new(10, 0, 0, 12)), None);
    }

    #[test]
    fn expired_leases_answer_no_query() {
        let q = query(&[lease([10, 0, 0, 11], MAC, 1)]);
        assert_eq!(q.by_mac(&MAC), None);
        assert_eq!(q.by_addr(Ipv4Addr::new(10, 0, 0, 11)), None);
        assert_eq!(q.mac_of(Ipv4Addr::new(10, 0, 0, 11)), None);
        assert!(q.lookup(&MacAddr(MAC)).is_none());
    }
}
