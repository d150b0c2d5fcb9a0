//! A fixed-size hash index from hardware address to journey slot: open
//! addressing with linear probing and backward-shift deletion, keyed by a
//! seed the driver chooses, so that a flood of chosen MAC addresses cannot
//! line up on one probe chain. It never allocates after construction.
//!
//! The caller hashes an address once ([`HwIndex::hash`]) and passes the
//! hash to a lookup and the insert after it, and keeps each slot's hash
//! so that removing a slot's entry neither reads its address nor hashes
//! it again (the journey of an evicted slot is the coldest in cache).

use alloc::vec;
use alloc::vec::Vec;

use crate::lease::HwAddr;

/// An empty bucket.
const EMPTY: u64 = u64::MAX;

/// Hardware address → slot number, for at most the capacity it was made
/// with (the table has at least twice as many buckets, so probes stay
/// short). Each bucket keeps the slot and the low 32 bits of its
/// address's hash: a probe compares hashes before it reads a journey's
/// address, and a removal moves entries back without hashing them again.
#[derive(Debug)]
pub(super) struct HwIndex {
    buckets: Vec<u64>,
    mask: usize,
    seed: u64,
}

/// A bucket: the hash's low 32 bits over the slot.
fn bucket(hash: u32, slot: u32) -> u64 {
    u64::from(hash) << 32 | u64::from(slot)
}

fn slot_of(b: u64) -> u32 {
    // The low half is the slot.
    b as u32
}

fn hash_of(b: u64) -> u32 {
    (b >> 32) as u32
}

impl HwIndex {
    /// An index for up to `capacity` addresses.
    pub(super) fn new(capacity: usize, seed: u64) -> Self {
        let n = capacity
            .max(1)
            .saturating_mul(2)
            .checked_next_power_of_two()
            .unwrap_or(1 << 30);
        HwIndex {
            buckets: vec![EMPTY; n],
            mask: n - 1,
            seed,
        }
    }

    /// Heap bytes held.
    pub(super) fn heap_bytes(&self) -> usize {
        self.buckets.capacity() * core::mem::size_of::<u64>()
    }

    /// The hash of `hw` the other calls take.
    pub(super) fn hash(&self, hw: &HwAddr) -> u32 {
        // The table has at most 2^31 buckets: 32 bits of hash place it.
        hash(self.seed, hw) as u32
    }

    #[cfg(test)]
    fn home(&self, hw: &HwAddr) -> usize {
        self.hash(hw) as usize & self.mask
    }

    /// The slot of `hw`, whose hash is `h`, looked up with `key_of` (slot
    /// → its address; called only for an entry whose hash matches).
    pub(super) fn get(&self, h: u32, hw: &HwAddr, key_of: impl Fn(u32) -> HwAddr) -> Option<u32> {
        let mut i = h as usize & self.mask;
        loop {
            let b = *self.buckets.get(i)?;
            if b == EMPTY {
                return None;
            }
            if hash_of(b) == h && key_of(slot_of(b)) == *hw {
                return Some(slot_of(b));
            }
            i = (i + 1) & self.mask;
        }
    }

    /// Adds an address whose hash is `h` → `slot` (the caller has checked
    /// that the address is absent and that fewer than the capacity are
    /// present).
    pub(super) fn insert(&mut self, h: u32, slot: u32) {
        let mut i = h as usize & self.mask;
        while let Some(b) = self.buckets.get_mut(i) {
            if *b == EMPTY {
                *b = bucket(h, slot);
                return;
            }
            i = (i + 1) & self.mask;
        }
    }

    /// Removes the entry of `slot`, whose address hashed to `h`; later
    /// entries of its probe chain move back so that no lookup stops early
    /// at the hole.
    pub(super) fn remove(&mut self, h: u32, slot: u32) {
        let wanted = bucket(h, slot);
        let mut i = h as usize & self.mask;
        loop {
            match self.buckets.get(i) {
                Some(&b) if b == wanted => break,
                Some(&b) if b != EMPTY => i = (i + 1) & self.mask,
                _ => return,
            }
        }
        // Backward-shift deletion: walk the run after the hole and move
        // back every entry whose home is not between the hole and itself.
        let mut hole = i;
        let mut j = i;
        loop {
            j = (j + 1) & self.mask;
            let Some(&b) = self.buckets.get(j) else {
                break;
            };
            if b == EMPTY {
                break;
            }
            let home = hash_of(b) as usize & self.mask;
            let distance_now = j.wrapping_sub(home) & self.mask;
            let distance_hole = hole.wrapping_sub(home) & self.mask;
            if distance_hole <= distance_now {
                if let Some(h) = self.buckets.get_mut(hole) {
                    *h = b;
                }
                hole = j;
            }
        }
        if let Some(h) = self.buckets.get_mut(hole) {
            *h = EMPTY;
        }
    }
}

/// A keyed 64-bit mix of the address (type, length and bytes): a
/// multiply-xorshift over two words, seeded per store.
fn hash(seed: u64, hw: &HwAddr) -> u64 {
    // Zero after the address's length, which the tag word adds.
    let b = hw.padded();
    let lo = u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
    let hi = u64::from_le_bytes([b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]]);
    let tag = u64::from(hw.htype()) << 8 | hw.as_bytes().len() as u64;
    let mut h = seed ^ 0x9e37_79b9_7f4a_7c15;
    for w in [lo, hi, tag] {
        h = (h ^ w).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        h ^= h >> 31;
        h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
        h ^= h >> 29;
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::collections::BTreeMap;
    use proptest::prelude::*;

    fn mac(n: u16) -> HwAddr {
        HwAddr::ethernet([2, 0, 0, 0, (n >> 8) as u8, n as u8])
    }

    proptest! {
        /// Any sequence of inserts and removes leaves the index agreeing
        /// with a map (the backward shift never loses an entry).
        #[test]
        fn agrees_with_a_map(ops in proptest::collection::vec((any::<bool>(), 0u16..64), 0..400)) {
            const CAP: usize = 32;
            let mut idx = HwIndex::new(CAP, 7);
            let mut keys: Vec<Option<HwAddr>> = vec![None; CAP];
            let mut model: BTreeMap<HwAddr, u32> = BTreeMap::new();
            for (insert, n) in ops {
                let hw = mac(n);
                if insert {
                    if model.contains_key(&hw) || model.len() == CAP {
                        continue;
                    }
                    let slot = (0..CAP as u32).find(|s| keys[*s as usize].is_none()).unwrap();
                    keys[slot as usize] = Some(hw);
                    idx.insert(idx.hash(&hw), slot);
                    model.insert(hw, slot);
                } else if let Some(slot) = model.remove(&hw) {
                    idx.remove(idx.hash(&hw), slot);
                    keys[slot as usize] = None;
                }
                let key_of = |s: u32| keys[s as usize].unwrap_or(HwAddr::ethernet([0xff; 6]));
                for m in 0..64 {
                    let hw = mac(m);
                    prop_assert_eq!(idx.get(idx.hash(&hw), &hw, key_of), model.get(&hw).copied());
                }
            }
        }
    }

    #[test]
    fn different_seeds_place_addresses_differently() {
        let a = HwIndex::new(64, 1);
        let b = HwIndex::new(64, 2);
        let differ = (0..64)
            .filter(|n| a.home(&mac(*n)) != b.home(&mac(*n)))
            .count();
        assert!(differ > 32, "{differ}");
    }
}
