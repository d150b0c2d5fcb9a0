//! The in-memory lease table: pools, reservations, offers and leases.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::string::String;
use alloc::vec::Vec;
use core::net::Ipv4Addr;

use super::{HwAddr, Lease, Lease6Table, LeaseChange};

/// How long an offered address stays set aside for the client it was
/// offered to (seconds). Offers are not persisted: losing them in a crash
/// only means the client's REQUEST is checked against the table again.
pub const OFFER_HOLD_SECS: u64 = 60;

/// How long a declined address is kept out of use (seconds), as dnsmasq.
pub const DECLINE_HOLD_SECS: u64 = 600;

/// A dynamic address pool (one `dhcp-range` line).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pool {
    /// First address of the range.
    pub start: Ipv4Addr,
    /// Last address of the range (inclusive).
    pub end: Ipv4Addr,
    /// Netmask of the range's network, if given.
    pub netmask: Option<Ipv4Addr>,
    /// Lease time in seconds (`u32::MAX` = infinite).
    pub lease_time: u32,
}

impl Pool {
    /// Whether `addr` lies inside the range.
    pub fn contains(&self, addr: Ipv4Addr) -> bool {
        let a = u32::from(addr);
        a >= u32::from(self.start) && a <= u32::from(self.end)
    }

    /// Number of addresses in the range.
    pub fn size(&self) -> u32 {
        u32::from(self.end)
            .saturating_sub(u32::from(self.start))
            .saturating_add(1)
    }

    /// Whether `addr` is on the same network as this pool: with the pool's
    /// netmask if known, else `mask` (the interface's).
    pub fn same_network(&self, addr: Ipv4Addr, mask: Ipv4Addr) -> bool {
        let m = u32::from(self.netmask.unwrap_or(mask));
        u32::from(addr) & m == u32::from(self.start) & m
    }
}

/// A static reservation (`dhcp-host` with an address, or `ignore`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reservation {
    /// Hardware address to match.
    pub hw: Option<HwAddr>,
    /// Client identifier to match.
    pub client_id: Option<Vec<u8>>,
    /// Host name to match, and to hand out.
    pub hostname: Option<String>,
    /// Fixed address.
    pub addr: Option<Ipv4Addr>,
    /// Lease time override in seconds.
    pub lease_time: Option<u32>,
    /// Never answer this client.
    pub ignore: bool,
}

/// Why no address could be chosen or committed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AllocError {
    /// Every address of the pool is leased, offered, reserved or declined.
    #[error("no leases left in {start} -- {end}")]
    Exhausted {
        /// First address of the exhausted pool.
        start: Ipv4Addr,
        /// Last address of the exhausted pool.
        end: Ipv4Addr,
    },
    /// The address is held by another client's active lease.
    #[error("address {0} in use by another client")]
    InUse(Ipv4Addr),
    /// The address is reserved for another client by `dhcp-host`.
    #[error("address {0} reserved for another client")]
    Reserved(Ipv4Addr),
    /// The address was declined recently.
    #[error("address {0} declined recently")]
    Declined(Ipv4Addr),
    /// No pool with that index.
    #[error("no pool number {0}")]
    NoPool(usize),
}

/// The set of pools, reservations, outstanding offers and leases.
///
/// Invariant: at most one lease per address (the map is keyed by address),
/// and [`LeaseTable::commit`] refuses to replace an active lease held by a
/// different client, so one address is never granted to two clients.
#[derive(Clone, Debug, Default)]
pub struct LeaseTable {
    pools: Vec<Pool>,
    reservations: Vec<Reservation>,
    leases: BTreeMap<u32, Lease>,
    by_client_id: BTreeMap<Vec<u8>, u32>,
    by_hw: BTreeSet<(HwAddr, u32)>,
    offers: BTreeMap<u32, (Option<Vec<u8>>, HwAddr, u64)>,
    offer_prune_at: usize,
    declined: BTreeMap<u32, u64>,
    sequential: bool,
    v6: Lease6Table,
}

impl LeaseTable {
    /// A table serving the given pools.
    pub fn new(pools: Vec<Pool>) -> Self {
        LeaseTable {
            pools,
            ..Default::default()
        }
    }

    /// `dhcp-sequential-ip`: new clients get the lowest free address of a
    /// pool instead of one hashed from their hardware address.
    pub fn set_sequential(&mut self, sequential: bool) {
        self.sequential = sequential;
    }

    /// Add a static reservation.
    pub fn add_reservation(&mut self, r: Reservation) {
        self.reservations.push(r);
    }

    /// Serve new pools and reservations (a configuration reload), keeping
    /// every lease, held offer and declined address: a lease outside the
    /// new pools stays until it expires or its client is told otherwise.
    pub fn set_policy(&mut self, pools: Vec<Pool>, reservations: Vec<Reservation>) {
        self.pools = pools;
        self.reservations = reservations;
    }

    /// The pools, in configuration order.
    pub fn pools(&self) -> &[Pool] {
        &self.pools
    }

    /// All leases, ordered by address (expired ones included until reused).
    pub fn leases(&self) -> impl Iterator<Item = &Lease> {
        self.leases.values()
    }

    /// Number of leases in the table.
    pub fn len(&self) -> usize {
        self.leases.len()
    }

    /// Whether the table holds no lease.
    pub fn is_empty(&self) -> bool {
        self.leases.is_empty()
    }

    /// The lease holding `addr`, if any.
    pub fn get(&self, addr: Ipv4Addr) -> Option<&Lease> {
        self.leases.get(&u32::from(addr))
    }

    /// The most recently expiring active lease of the hardware address
    /// `mac` (query for other services, e.g. HTTP scripts).
    pub fn lease_by_mac(&self, mac: &[u8], now: u64) -> Option<&Lease> {
        self.leases
            .values()
            .filter(|l| l.hw.as_bytes() == mac && l.is_active(now))
            .max_by_key(|l| if l.expires == 0 { u64::MAX } else { l.expires })
    }

    /// Apply a change without any check (log replay).
    pub fn apply(&mut self, change: &LeaseChange) {
        match change {
            LeaseChange::Grant(l) => {
                self.remove(l.addr);
                self.insert(l.clone());
            }
            LeaseChange::Remove(a) => {
                self.remove(*a);
            }
            LeaseChange::Offer(l) => self.note_offer(l),
            LeaseChange::Grant6(_) | LeaseChange::Remove6(_) => self.v6.apply(change),
        }
    }

    /// The DHCPv6 leases (same table, same log).
    pub fn v6(&self) -> &Lease6Table {
        &self.v6
    }

    /// The DHCPv6 leases, mutably.
    pub fn v6_mut(&mut self) -> &mut Lease6Table {
        &mut self.v6
    }

    /// Forget whatever lease or held offer this table has on `addr` (the
    /// shared store said otherwise).
    pub fn withdraw(&mut self, addr: Ipv4Addr) {
        self.remove(addr);
        self.offers.remove(&u32::from(addr));
    }

    /// Set `offer.addr` aside for `offer`'s client until `offer.expires`
    /// (an offer another server holds in a shared store), unless a lease
    /// of that very client holds the address already.
    pub fn note_offer(&mut self, offer: &Lease) {
        let a = u32::from(offer.addr);
        if self
            .leases
            .get(&a)
            .is_some_and(|l| l.belongs_to(offer.client_id.as_deref(), &offer.hw))
        {
            return;
        }
        self.offers
            .insert(a, (offer.client_id.clone(), offer.hw, offer.expires));
    }

    fn insert(&mut self, l: Lease) {
        let a = u32::from(l.addr);
        if let Some(c) = &l.client_id {
            self.by_client_id.insert(c.clone(), a);
        }
        self.by_hw.insert((l.hw, a));
        self.offers.remove(&a);
        self.leases.insert(a, l);
    }

    fn remove(&mut self, addr: Ipv4Addr) -> Option<Lease> {
        let a = u32::from(addr);
        let l = self.leases.remove(&a)?;
        if let Some(c) = &l.client_id
            && self.by_client_id.get(c.as_slice()) == Some(&a)
        {
            self.by_client_id.remove(c.as_slice());
        }
        self.by_hw.remove(&(l.hw, a));
        Some(l)
    }

    /// Find the lease of a client, as dnsmasq does: exact client-id match
    /// first; then a hardware-address match, but only against leases where
    /// the lease or the request carries no client id.
    pub fn find(&self, client_id: Option<&[u8]>, hw: &HwAddr) -> Option<&Lease> {
        if let Some(c) = client_id
            && let Some(a) = self.by_client_id.get(c)
            && let Some(l) = self.leases.get(a)
        {
            return Some(l);
        }
        let lo = (*hw, 0u32);
        let hi = (*hw, u32::MAX);
        self.by_hw
            .range(lo..=hi)
            .filter_map(|(_, a)| self.leases.get(a))
            .find(|l| l.client_id.is_none() || client_id.is_none())
    }

    /// The reservation matching a client: by client id, then exact hardware
    /// address, then host name.
    pub fn reservation(
        &self,
        client_id: Option<&[u8]>,
        hw: &HwAddr,
        hostname: Option<&str>,
    ) -> Option<&Reservation> {
        if let Some(c) = client_id
            && let Some(r) = self
                .reservations
                .iter()
                .find(|r| r.client_id.as_deref() == Some(c))
        {
            return Some(r);
        }
        if let Some(r) = self.reservations.iter().find(|r| r.hw.as_ref() == Some(hw)) {
            return Some(r);
        }
        let h = hostname?;
        self.reservations
            .iter()
            .find(|r| r.client_id.is_none() && r.hw.is_none() && r.hostname.as_deref() == Some(h))
    }

    fn reserved_for_other(&self, addr: Ipv4Addr, client_id: Option<&[u8]>, hw: &HwAddr) -> bool {
        self.reservations.iter().any(|r| {
            r.addr == Some(addr)
                && !(r.client_id.is_some() && r.client_id.as_deref() == client_id
                    || r.hw.as_ref() == Some(hw))
        })
    }

    /// Why `addr` cannot go to this client now, if it cannot.
    pub fn check_free(
        &self,
        addr: Ipv4Addr,
        client_id: Option<&[u8]>,
        hw: &HwAddr,
        now: u64,
    ) -> Result<(), AllocError> {
        let a = u32::from(addr);
        if let Some(l) = self.leases.get(&a)
            && l.is_active(now)
            && !l.belongs_to(client_id, hw)
        {
            return Err(AllocError::InUse(addr));
        }
        if let Some((c, h, until)) = self.offers.get(&a)
            && *until > now
        {
            let same = match (c.as_deref(), client_id) {
                (Some(x), Some(y)) => x == y,
                _ => h == hw,
            };
            if !same {
                return Err(AllocError::InUse(addr));
            }
        }
        if let Some(until) = self.declined.get(&a)
            && *until > now
        {
            return Err(AllocError::Declined(addr));
        }
        if self.reserved_for_other(addr, client_id, hw) {
            return Err(AllocError::Reserved(addr));
        }
        Ok(())
    }

    /// Choose an address in pool `pool` for a client: its existing lease in
    /// the pool, else the requested address if free, else a free address
    /// found by hashing the hardware address and probing linearly (from the
    /// pool's start with [`LeaseTable::set_sequential`]).
    /// (Reserved addresses are the caller's business: see
    /// [`LeaseTable::reservation`].)
    pub fn choose(
        &self,
        pool: usize,
        client_id: Option<&[u8]>,
        hw: &HwAddr,
        requested: Option<Ipv4Addr>,
        now: u64,
    ) -> Result<Ipv4Addr, AllocError> {
        let p = self.pools.get(pool).ok_or(AllocError::NoPool(pool))?;
        if let Some(l) = self.find(client_id, hw)
            && p.contains(l.addr)
            && self.check_free(l.addr, client_id, hw, now).is_ok()
        {
            return Ok(l.addr);
        }
        if let Some(r) = requested
            && p.contains(r)
            && self.check_free(r, client_id, hw, now).is_ok()
        {
            return Ok(r);
        }
        let size = p.size();
        if size == 0 {
            return Err(AllocError::Exhausted {
                start: p.start,
                end: p.end,
            });
        }
        // dnsmasq's seed (`dhcp.c: address_allocate`, SDBM over the
        // hardware address, 0 taken as 1): a client gets the address
        // dnsmasq would give it, so replacing dnsmasq (or losing the lease
        // file) does not renumber the machines, and it tends to get the
        // same address again.
        let mut h = hw.as_bytes().iter().fold(0u32, |j, &b| {
            u32::from(b)
                .wrapping_add(j << 6)
                .wrapping_add(j << 16)
                .wrapping_sub(j)
        });
        if h == 0 {
            h = 1;
        }
        if self.sequential {
            h = 0;
        }
        let start = u32::from(p.start);
        for i in 0..size {
            let off = (h.wrapping_add(i)) % size;
            let cand = Ipv4Addr::from(start.wrapping_add(off));
            if self.check_free(cand, client_id, hw, now).is_ok() {
                return Ok(cand);
            }
        }
        Err(AllocError::Exhausted {
            start: p.start,
            end: p.end,
        })
    }

    /// Set `addr` aside for this client for [`OFFER_HOLD_SECS`] (not
    /// persisted). Expired offers are pruned here too.
    pub fn hold_offer(&mut self, addr: Ipv4Addr, client_id: Option<&[u8]>, hw: &HwAddr, now: u64) {
        // Prune expired offers, amortised: only when the map has doubled
        // since the last prune.
        if self.offers.len() >= self.offer_prune_at.max(4096) {
            self.offers.retain(|_, (_, _, until)| *until > now);
            self.offer_prune_at = self.offers.len() * 2;
        }
        self.offers.insert(
            u32::from(addr),
            (
                client_id.map(<[u8]>::to_vec),
                *hw,
                now.saturating_add(OFFER_HOLD_SECS),
            ),
        );
    }

    /// Grant `lease`, returning the changes to persist before the ACK goes
    /// out: the removal of the client's other leases (a client holds one
    /// address) and of an expired lease of another client on that address,
    /// then the grant itself.
    ///
    /// Fails without changing anything if the address is actively leased,
    /// reserved or recently declined for someone else.
    pub fn commit(&mut self, lease: Lease, now: u64) -> Result<Vec<LeaseChange>, AllocError> {
        let cid = lease.client_id.as_deref();
        // A held offer for this very client must not block it.
        let a = u32::from(lease.addr);
        if let Some(l) = self.leases.get(&a)
            && l.is_active(now)
            && !l.belongs_to(cid, &lease.hw)
        {
            return Err(AllocError::InUse(lease.addr));
        }
        if let Some(until) = self.declined.get(&a)
            && *until > now
        {
            return Err(AllocError::Declined(lease.addr));
        }
        if self.reserved_for_other(lease.addr, cid, &lease.hw) {
            return Err(AllocError::Reserved(lease.addr));
        }
        let mut changes = Vec::new();
        // Other leases of the same client.
        let mut old = Vec::new();
        if let Some(c) = cid
            && let Some(x) = self.by_client_id.get(c)
            && *x != a
        {
            old.push(*x);
        }
        for (_, x) in self
            .by_hw
            .range((lease.hw, 0)..=(lease.hw, u32::MAX))
            .filter(|(_, x)| *x != a)
        {
            if let Some(l) = self.leases.get(x)
                && l.belongs_to(cid, &lease.hw)
                && !old.contains(x)
            {
                old.push(*x);
            }
        }
        for x in old {
            let ip = Ipv4Addr::from(x);
            self.remove(ip);
            changes.push(LeaseChange::Remove(ip));
        }
        self.remove(lease.addr);
        changes.push(LeaseChange::Grant(lease.clone()));
        self.insert(lease);
        Ok(changes)
    }

    /// Release the lease on `addr` if it belongs to this client. Returns the
    /// change to persist.
    pub fn release(
        &mut self,
        addr: Ipv4Addr,
        client_id: Option<&[u8]>,
        hw: &HwAddr,
    ) -> Option<LeaseChange> {
        let l = self.leases.get(&u32::from(addr))?;
        if !l.belongs_to(client_id, hw) {
            return None;
        }
        self.remove(addr);
        Some(LeaseChange::Remove(addr))
    }

    /// The client reports `addr` in use by someone else: drop its lease and
    /// keep the address out of use for [`DECLINE_HOLD_SECS`].
    ///
    /// Only the client holding the lease on `addr` can decline it (as a
    /// DECLINE follows the ACK, RFC 2131 §3.1): otherwise any host could
    /// take every address out of use, and forged DECLINEs for arbitrary
    /// addresses would grow the table without bound. Returns `None`, and
    /// changes nothing, for a DECLINE from anyone else.
    pub fn decline(
        &mut self,
        addr: Ipv4Addr,
        client_id: Option<&[u8]>,
        hw: &HwAddr,
        now: u64,
    ) -> Option<LeaseChange> {
        let change = self.release(addr, client_id, hw)?;
        self.declined
            .insert(u32::from(addr), now.saturating_add(DECLINE_HOLD_SECS));
        self.offers.remove(&u32::from(addr));
        Some(change)
    }

    /// Active leases at `now`, to write a compacted log.
    pub fn active(&self, now: u64) -> impl Iterator<Item = &Lease> {
        self.leases.values().filter(move |l| l.is_active(now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn pool() -> Pool {
        Pool {
            start: Ipv4Addr::new(10, 0, 0, 10),
            end: Ipv4Addr::new(10, 0, 0, 13),
            netmask: None,
            lease_time: 3600,
        }
    }

    fn mac(n: u8) -> HwAddr {
        HwAddr::ethernet([2, 0, 0, 0, 0, n])
    }

    fn lease(addr: Ipv4Addr, hw: HwAddr, cid: Option<&[u8]>, exp: u64) -> Lease {
        Lease {
            addr,
            hw,
            client_id: cid.map(<[u8]>::to_vec),
            hostname: None,
            expires: exp,
        }
    }

    #[test]
    fn distinct_addresses_until_exhausted() {
        let mut t = LeaseTable::new(vec![pool()]);
        let mut got = Vec::new();
        for n in 0..4 {
            let a = t.choose(0, None, &mac(n), None, 100).unwrap();
            t.commit(lease(a, mac(n), None, 1000), 100).unwrap();
            assert!(!got.contains(&a));
            got.push(a);
        }
        assert!(matches!(
            t.choose(0, None, &mac(9), None, 100),
            Err(AllocError::Exhausted { .. })
        ));
        // After expiry the address can be reused, and the commit records
        // the removal of nothing but the new grant.
        let a = t.choose(0, None, &mac(9), None, 2000).unwrap();
        assert!(got.contains(&a));
        let ch = t.commit(lease(a, mac(9), None, 3000), 2000).unwrap();
        assert_eq!(ch.len(), 1);
        assert_eq!(t.get(a).unwrap().hw, mac(9));
    }

    #[test]
    fn commit_refuses_active_lease_of_other_client() {
        let mut t = LeaseTable::new(vec![pool()]);
        let a = Ipv4Addr::new(10, 0, 0, 11);
        t.commit(lease(a, mac(1), None, 1000), 0).unwrap();
        assert_eq!(
            t.commit(lease(a, mac(2), None, 1000), 0),
            Err(AllocError::InUse(a))
        );
        assert_eq!(t.get(a).unwrap().hw, mac(1));
    }

    #[test]
    fn offers_are_held_per_client() {
        let mut t = LeaseTable::new(vec![pool()]);
        let a = t.choose(0, None, &mac(1), None, 0).unwrap();
        t.hold_offer(a, None, &mac(1), 0);
        let b = t.choose(0, None, &mac(2), Some(a), 0).unwrap();
        assert_ne!(a, b);
        assert_eq!(t.choose(0, None, &mac(1), None, 0).unwrap(), a);
    }

    #[test]
    fn client_moving_address_drops_old_lease() {
        let mut t = LeaseTable::new(vec![pool()]);
        let a = Ipv4Addr::new(10, 0, 0, 10);
        let b = Ipv4Addr::new(10, 0, 0, 12);
        t.commit(lease(a, mac(1), Some(b"x"), 1000), 0).unwrap();
        let ch = t.commit(lease(b, mac(1), Some(b"x"), 1000), 0).unwrap();
        assert_eq!(ch[0], LeaseChange::Remove(a));
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn identity_rules_follow_dnsmasq() {
        let mut t = LeaseTable::new(vec![pool()]);
        let a = Ipv4Addr::new(10, 0, 0, 10);
        // PXE ROM without client id.
        t.commit(lease(a, mac(1), None, 1000), 0).unwrap();
        // iPXE with a client id shares it (lease has none).
        assert_eq!(t.find(Some(b"\x01abc"), &mac(1)).unwrap().addr, a);
        let b = Ipv4Addr::new(10, 0, 0, 11);
        t.apply(&LeaseChange::Grant(lease(b, mac(2), Some(b"one"), 1000)));
        // Another client id on the same MAC is a different client.
        assert!(t.find(Some(b"two"), &mac(2)).is_none());
        assert_eq!(t.find(None, &mac(2)).unwrap().addr, b);
    }

    #[test]
    fn sequential_allocation_takes_the_lowest_free_address() {
        let mut t = LeaseTable::new(vec![pool()]);
        let lowest = Ipv4Addr::new(10, 0, 0, 10);
        assert!(
            (0..20).any(|n| t.choose(0, None, &mac(n), None, 0).unwrap() != lowest),
            "hashed by default"
        );
        t.set_sequential(true);
        assert!((0..20).all(|n| t.choose(0, None, &mac(n), None, 0).unwrap() == lowest));
        let first = t.choose(0, None, &mac(9), None, 0).unwrap();
        assert_eq!(first, Ipv4Addr::new(10, 0, 0, 10));
        t.commit(lease(first, mac(9), None, 1000), 0).unwrap();
        let second = t.choose(0, None, &mac(200), None, 0).unwrap();
        assert_eq!(second, Ipv4Addr::new(10, 0, 0, 11));
    }

    #[test]
    fn reservations_and_declines() {
        let mut t = LeaseTable::new(vec![pool()]);
        let r = Ipv4Addr::new(10, 0, 0, 10);
        t.add_reservation(Reservation {
            hw: Some(mac(7)),
            addr: Some(r),
            ..Default::default()
        });
        assert_eq!(
            t.check_free(r, None, &mac(1), 0),
            Err(AllocError::Reserved(r))
        );
        assert!(t.check_free(r, None, &mac(7), 0).is_ok());
        assert_eq!(t.reservation(None, &mac(7), None).unwrap().addr, Some(r));
        let d = Ipv4Addr::new(10, 0, 0, 11);
        // Nobody holds it: a DECLINE from a stranger changes nothing.
        assert!(t.decline(d, None, &mac(2), 0).is_none());
        assert!(t.check_free(d, None, &mac(1), 0).is_ok());
        t.commit(lease(d, mac(1), None, 1000), 0).unwrap();
        // Not the holder: refused; the holder: the address is kept out of use.
        assert!(t.decline(d, None, &mac(2), 0).is_none());
        assert_eq!(t.decline(d, None, &mac(1), 0), Some(LeaseChange::Remove(d)));
        assert_eq!(
            t.check_free(d, None, &mac(1), 10),
            Err(AllocError::Declined(d))
        );
        assert!(t.check_free(d, None, &mac(1), 700).is_ok());
    }

    #[test]
    fn release_only_by_owner() {
        let mut t = LeaseTable::new(vec![pool()]);
        let a = Ipv4Addr::new(10, 0, 0, 10);
        t.commit(lease(a, mac(1), None, 1000), 0).unwrap();
        assert!(t.release(a, None, &mac(2)).is_none());
        assert_eq!(t.release(a, None, &mac(1)), Some(LeaseChange::Remove(a)));
        assert!(t.is_empty());
    }
}
