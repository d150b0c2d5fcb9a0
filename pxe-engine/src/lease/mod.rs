//! Leases: address pools, static reservations, the in-memory lease table,
//! the durable on-disk log and dnsmasq's lease-file format.
//!
//! The split follows the sans-IO rule of the crate:
//!
//! * [`LeaseTable`] (needs `alloc`) decides. It never touches a disk; every
//!   decision that must survive a crash comes back as a [`LeaseChange`] the
//!   caller persists **before** it sends the reply that announces it.
//! * [`record`] encodes a [`LeaseChange`] as a checksummed, length-prefixed
//!   record (no allocation when encoding).
//! * `log` (needs `std`) is the append-only file: group commit with one
//!   `fsync` per batch, recovery that ignores a torn last record, and
//!   compaction by write-new/fsync/rename/fsync-directory.
//! * [`dnsmasq`] reads and writes `dhcp-leasefile` lines
//!   (`expiry mac ip hostname clientid`) so users can migrate both ways.
//! * [`store`] is the interface every durable home of the changes
//!   implements ([`LeaseStore`]: stage per exchange, commit per batch, a
//!   verdict per exchange), the log and a database shared by several
//!   servers alike.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::net::Ipv4Addr;

pub mod dnsmasq;
#[cfg(feature = "std")]
pub mod log;
pub mod record;
pub mod store;
pub mod table;
pub mod v6;

pub use store::{Conflict, LeaseStore, Owner, Verdict};
pub use table::{AllocError, LeaseTable, Pool, Reservation};
pub use v6::{Lease6, Lease6Table};

/// A client hardware address as carried in `htype`/`hlen`/`chaddr`
/// (at most 16 bytes).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HwAddr {
    htype: u8,
    len: u8,
    bytes: [u8; 16],
}

impl HwAddr {
    /// ARP hardware type of Ethernet (`htype` 1).
    pub const ETHERNET: u8 = 1;

    /// A hardware address of type `htype`; `None` if `bytes` is longer than
    /// the 16 bytes `chaddr` can hold.
    pub fn new(htype: u8, bytes: &[u8]) -> Option<Self> {
        if bytes.len() > 16 {
            return None;
        }
        let mut b = [0u8; 16];
        b[..bytes.len()].copy_from_slice(bytes);
        Some(HwAddr {
            htype,
            len: bytes.len() as u8,
            bytes: b,
        })
    }

    /// An Ethernet MAC address.
    pub fn ethernet(mac: [u8; 6]) -> Self {
        let mut b = [0u8; 16];
        b[..6].copy_from_slice(&mac);
        HwAddr {
            htype: Self::ETHERNET,
            len: 6,
            bytes: b,
        }
    }

    /// The hardware type (`htype`).
    pub fn htype(&self) -> u8 {
        self.htype
    }

    /// The address bytes (`hlen` of them).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// The address bytes in all 16 bytes of `chaddr`, zero after the
    /// `hlen` that count (every constructor zeroes them): for a hash that
    /// reads two words without copying a slice of variable length.
    pub(crate) fn padded(&self) -> &[u8; 16] {
        &self.bytes
    }
}

impl fmt::Display for HwAddr {
    /// Colon-separated lower-case hex, as dnsmasq logs MAC addresses.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.as_bytes().iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for HwAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HwAddr({}, {self})", self.htype)
    }
}

/// Expiry value meaning "never expires" (an infinite lease), as in
/// dnsmasq's lease file.
pub const NEVER: u64 = 0;

/// One granted lease.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lease {
    /// The leased address.
    pub addr: Ipv4Addr,
    /// The client's hardware address.
    pub hw: HwAddr,
    /// The client identifier (option 61) the lease was granted to, if any.
    pub client_id: Option<Vec<u8>>,
    /// The client's host name (option 12 or `dhcp-host`), if any.
    pub hostname: Option<String>,
    /// Expiry in seconds since the Unix epoch; [`NEVER`] for infinite.
    pub expires: u64,
}

impl Lease {
    /// Whether the lease is still valid at `now` (Unix seconds).
    pub fn is_active(&self, now: u64) -> bool {
        self.expires == NEVER || self.expires > now
    }

    /// Whether this lease belongs to the client identified by `client_id`
    /// and `hw`, with dnsmasq's rule: client ids are compared when both
    /// sides have one, otherwise the hardware addresses are.
    pub fn belongs_to(&self, client_id: Option<&[u8]>, hw: &HwAddr) -> bool {
        match (self.client_id.as_deref(), client_id) {
            (Some(a), Some(b)) => a == b,
            _ => self.hw == *hw,
        }
    }
}

/// A change to the lease table that must reach stable storage before the
/// reply announcing it is sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LeaseChange {
    /// Insert or replace the lease for `lease.addr`.
    Grant(Lease),
    /// Delete whatever lease holds this address.
    Remove(Ipv4Addr),
    /// Set `lease.addr` aside for `lease`'s client until `lease.expires`
    /// (an OFFER). Emitted only by an engine whose store is shared by
    /// several servers ([`crate::Engine::set_shared_store`]), so that two
    /// servers never offer one address to two clients; a store of one
    /// server keeps no offers (the embedded log writes nothing for it).
    Offer(Lease),
    /// Insert or replace the DHCPv6 lease for `lease.addr`.
    Grant6(Lease6),
    /// Delete whatever DHCPv6 lease holds this address.
    Remove6(core::net::Ipv6Addr),
}
