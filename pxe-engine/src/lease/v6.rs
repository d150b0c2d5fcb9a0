//! DHCPv6 leases (IA_NA addresses), kept in the same [`LeaseTable`]
//! (and so the same durable log) as the DHCPv4 leases.
//!
//! A lease belongs to a client's DUID and IAID. New addresses are chosen
//! as dnsmasq 2.90 chooses them (`dhcp6.c: address6_allocate`): an SDBM
//! hash of the IAID and DUID picks the first candidate in the range, then
//! the next free address, wrapping; the server's own addresses and other
//! hosts' reservations are skipped.
//!
//! [`LeaseTable`]: super::LeaseTable

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use core::net::Ipv6Addr;

use super::{LeaseChange, NEVER};

/// One DHCPv6 address lease.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lease6 {
    /// The leased address.
    pub addr: Ipv6Addr,
    /// The IA_NA's identifier.
    pub iaid: u32,
    /// The client's DUID (empty for an address a client declined).
    pub duid: Vec<u8>,
    /// The client's host name, if known.
    pub hostname: Option<String>,
    /// Expiry in Unix seconds; [`NEVER`] for infinite.
    pub expires: u64,
}

impl Lease6 {
    /// Whether the lease is still valid at `now`.
    pub fn is_active(&self, now: u64) -> bool {
        self.expires == NEVER || self.expires > now
    }

    /// Whether the lease is the binding of `duid`/`iaid`.
    pub fn belongs_to(&self, duid: &[u8], iaid: u32) -> bool {
        !self.duid.is_empty() && self.duid == duid && self.iaid == iaid
    }
}

/// The DHCPv6 leases, by address.
#[derive(Clone, Debug, Default)]
pub struct Lease6Table {
    leases: BTreeMap<u128, Lease6>,
}

/// dnsmasq's hash of an IA (`address6_allocate`, SDBM over the DUID
/// seeded with the IAID).
pub fn ia_hash(duid: &[u8], iaid: u32) -> u64 {
    duid.iter().fold(u64::from(iaid), |j, &b| {
        u64::from(b)
            .wrapping_add(j << 6)
            .wrapping_add(j << 16)
            .wrapping_sub(j)
    })
}

impl Lease6Table {
    /// Apply a change without any check (log replay); DHCPv4 changes are
    /// not this table's.
    pub fn apply(&mut self, change: &LeaseChange) {
        match change {
            LeaseChange::Grant6(l) => {
                self.leases.insert(u128::from(l.addr), l.clone());
            }
            LeaseChange::Remove6(a) => {
                self.leases.remove(&u128::from(*a));
            }
            LeaseChange::Grant(_) | LeaseChange::Remove(_) | LeaseChange::Offer(_) => {}
        }
    }

    /// All leases, by address (expired ones included until reused).
    pub fn leases(&self) -> impl Iterator<Item = &Lease6> {
        self.leases.values()
    }

    /// The active leases at `now`.
    pub fn active(&self, now: u64) -> impl Iterator<Item = &Lease6> {
        self.leases.values().filter(move |l| l.is_active(now))
    }

    /// Number of leases held.
    pub fn len(&self) -> usize {
        self.leases.len()
    }

    /// Whether no lease is held.
    pub fn is_empty(&self) -> bool {
        self.leases.is_empty()
    }

    /// The lease of `addr`, if any.
    pub fn get(&self, addr: Ipv6Addr) -> Option<&Lease6> {
        self.leases.get(&u128::from(addr))
    }

    /// The active binding of `duid`/`iaid` within `start..=end`.
    pub fn find(
        &self,
        duid: &[u8],
        iaid: u32,
        start: Ipv6Addr,
        end: Ipv6Addr,
        now: u64,
    ) -> Option<&Lease6> {
        self.leases
            .range(u128::from(start)..=u128::from(end))
            .map(|(_, l)| l)
            .find(|l| l.belongs_to(duid, iaid) && l.is_active(now))
    }

    /// Whether `addr` is free for `duid`/`iaid` at `now`: no active lease,
    /// or the client's own.
    pub fn is_free_for(&self, addr: Ipv6Addr, duid: &[u8], iaid: u32, now: u64) -> bool {
        self.get(addr)
            .is_none_or(|l| !l.is_active(now) || l.belongs_to(duid, iaid))
    }

    /// A new address for `duid`/`iaid` in `start..=end`, as dnsmasq picks
    /// it; `taken` says which addresses are not to be given (the server's
    /// own, other hosts' reservations).
    pub fn choose(
        &self,
        duid: &[u8],
        iaid: u32,
        start: Ipv6Addr,
        end: Ipv6Addr,
        now: u64,
        taken: impl Fn(Ipv6Addr) -> bool,
    ) -> Option<Ipv6Addr> {
        let (s, e) = (u128::from(start), u128::from(end));
        if s > e {
            return None;
        }
        // dnsmasq works on the low 64 bits (`addr6part`).
        let net = s & !u128::from(u64::MAX);
        let (lo, hi) = (s as u64, e as u64);
        let span = (hi - lo).wrapping_add(1);
        let first = if span == 0 {
            ia_hash(duid, iaid)
        } else {
            lo + ia_hash(duid, iaid) % span
        };
        let mut a = first;
        loop {
            let addr = Ipv6Addr::from(net | u128::from(a));
            if !taken(addr) && self.get(addr).is_none_or(|l| !l.is_active(now)) {
                return Some(addr);
            }
            a = if a == hi { lo } else { a + 1 };
            if a == first {
                return None;
            }
        }
    }

    /// The changes that bind `addr` to `duid`/`iaid` until `expires`:
    /// any other address of the same IA within `start..=end` is removed.
    pub fn grant(&mut self, lease: Lease6, start: Ipv6Addr, end: Ipv6Addr) -> Vec<LeaseChange> {
        let mut changes = Vec::new();
        let stale: Vec<u128> = self
            .leases
            .range(u128::from(start)..=u128::from(end))
            .filter(|(a, l)| **a != u128::from(lease.addr) && l.belongs_to(&lease.duid, lease.iaid))
            .map(|(a, _)| *a)
            .collect();
        for a in stale {
            self.leases.remove(&a);
            changes.push(LeaseChange::Remove6(Ipv6Addr::from(a)));
        }
        self.leases.insert(u128::from(lease.addr), lease.clone());
        changes.push(LeaseChange::Grant6(lease));
        changes
    }

    /// Releases the client's lease of `addr`, if it holds it.
    pub fn release(&mut self, addr: Ipv6Addr, duid: &[u8], iaid: u32) -> Option<LeaseChange> {
        let a = u128::from(addr);
        if !self.leases.get(&a)?.belongs_to(duid, iaid) {
            return None;
        }
        self.leases.remove(&a);
        Some(LeaseChange::Remove6(addr))
    }

    /// A DECLINE of the client's `addr`: the address is held by nobody
    /// (empty DUID) until `until`, so it is not offered again meanwhile.
    pub fn decline(
        &mut self,
        addr: Ipv6Addr,
        duid: &[u8],
        iaid: u32,
        until: u64,
    ) -> Option<LeaseChange> {
        let a = u128::from(addr);
        if !self.leases.get(&a)?.belongs_to(duid, iaid) {
            return None;
        }
        let held = Lease6 {
            addr,
            iaid: 0,
            duid: Vec::new(),
            hostname: None,
            expires: until,
        };
        self.leases.insert(a, held.clone());
        Some(LeaseChange::Grant6(held))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    /// The addresses dnsmasq 2.90 gave in the captures
    /// (`shared/spec/captures/ipv6/`, range fd00:77::100–fd00:77::1ff).
    #[test]
    fn the_hash_picks_dnsmasqs_addresses() {
        let t = Lease6Table::default();
        let mut edk2 = alloc::vec![0u8, 4];
        edk2.extend_from_slice(&[
            0x1e, 0, 0x17, 0, 0, 0x8c, 0xad, 0, 0x50, 0x87, 0x90, 0xe6, 0xba, 0x2f, 0x34, 0x23,
        ]);
        let (s, e) = (a("fd00:77::100"), a("fd00:77::1ff"));
        // iPXE sends the same machine's UUID in SMBIOS byte order.
        let mut ipxe = alloc::vec![0u8, 4];
        ipxe.extend_from_slice(&[
            0, 0x17, 0, 0x1e, 0x8c, 0, 0, 0xad, 0x50, 0x87, 0x90, 0xe6, 0xba, 0x2f, 0x34, 0x23,
        ]);
        let pick = |duid: &[u8], iaid| t.choose(duid, iaid, s, e, 0, |_| false).unwrap();
        for (duid, iaid, want) in [
            (&edk2, 0xef81f57f, "fd00:77::19e"),
            (&edk2, 0xef9afdf7, "fd00:77::116"),
            (&edk2, 0xff81fd5e, "fd00:77::1fd"),
            (&edk2, 0xffa775ff, "fd00:77::11e"),
            (&edk2, 0xeab96c74, "fd00:77::113"),
            (&ipxe, 0x0f36c07a, "fd00:77::1c5"),
            (&ipxe, 0x963f91c0, "fd00:77::10b"),
        ] {
            assert_eq!(pick(duid, iaid), a(want), "IAID {iaid:#x}");
        }
    }

    #[test]
    fn grants_release_and_decline() {
        let mut t = Lease6Table::default();
        let (s, e) = (a("fd00::10"), a("fd00::12"));
        let l = |addr: &str, duid: &[u8], exp| Lease6 {
            addr: a(addr),
            iaid: 1,
            duid: duid.to_vec(),
            hostname: None,
            expires: exp,
        };
        assert_eq!(t.grant(l("fd00::10", b"a", 100), s, e).len(), 1);
        // The same IA moving to another address drops the old one.
        let ch = t.grant(l("fd00::11", b"a", 100), s, e);
        assert_eq!(ch[0], LeaseChange::Remove6(a("fd00::10")));
        assert_eq!(t.find(b"a", 1, s, e, 0).unwrap().addr, a("fd00::11"));
        // Full range: only fd00::10 and fd00::12 are left, then none.
        let c1 = t.choose(b"b", 1, s, e, 0, |x| x == a("fd00::12")).unwrap();
        assert_eq!(c1, a("fd00::10"));
        t.grant(l("fd00::10", b"b", 100), s, e);
        assert_eq!(t.choose(b"c", 1, s, e, 0, |x| x == a("fd00::12")), None);
        // Expired leases are free again.
        assert!(
            t.choose(b"c", 1, s, e, 100, |x| x == a("fd00::12"))
                .is_some()
        );
        assert_eq!(t.release(a("fd00::10"), b"a", 1), None, "not a's");
        assert_eq!(
            t.release(a("fd00::10"), b"b", 1),
            Some(LeaseChange::Remove6(a("fd00::10")))
        );
        assert!(t.decline(a("fd00::11"), b"a", 1, 50).is_some());
        assert!(
            !t.is_free_for(a("fd00::11"), b"a", 1, 10),
            "declined: nobody's"
        );
        assert!(t.is_free_for(a("fd00::11"), b"a", 1, 60));
    }
}
