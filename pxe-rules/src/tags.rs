//! Tag sets and conditions (`dhcp-common.c: match_netid`, `match_netid_wild`).
//!
//! Tag names are interned when a configuration is compiled; at evaluation
//! time a request's tags are a fixed-size bit set, so testing a condition is
//! a few bit operations and never allocates.

/// The largest number of distinct tag names one configuration may use.
pub const MAX_TAGS: usize = 1024;

const WORDS: usize = MAX_TAGS / 64;

/// An interned tag name: an index into the configuration's tag table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TagId(pub u16);

/// A set of tags attached to one request (a fixed-size bit set).
#[derive(Clone, PartialEq, Eq)]
pub struct TagSet {
    bits: [u64; WORDS],
}

impl Default for TagSet {
    fn default() -> Self {
        Self::new()
    }
}

impl core::fmt::Debug for TagSet {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_set().entries(self.iter().map(|t| t.0)).finish()
    }
}

impl TagSet {
    /// The empty set.
    pub const fn new() -> Self {
        Self { bits: [0; WORDS] }
    }

    /// Adds `tag`; returns whether it was newly added.
    pub fn insert(&mut self, tag: TagId) -> bool {
        let (w, b) = (usize::from(tag.0) / 64, tag.0 % 64);
        match self.bits.get_mut(w) {
            Some(word) => {
                let had = *word & (1 << b) != 0;
                *word |= 1 << b;
                !had
            }
            None => false,
        }
    }

    /// Removes `tag`.
    pub fn remove(&mut self, tag: TagId) {
        let (w, b) = (usize::from(tag.0) / 64, tag.0 % 64);
        if let Some(word) = self.bits.get_mut(w) {
            *word &= !(1 << b);
        }
    }

    /// Whether `tag` is in the set.
    pub fn contains(&self, tag: TagId) -> bool {
        let (w, b) = (usize::from(tag.0) / 64, tag.0 % 64);
        self.bits.get(w).is_some_and(|word| word & (1 << b) != 0)
    }

    /// Whether the set shares a tag with `other`.
    pub fn intersects(&self, other: &TagSet) -> bool {
        self.bits
            .iter()
            .zip(other.bits.iter())
            .any(|(a, b)| a & b != 0)
    }

    /// Adds every tag of `other`.
    pub fn union_with(&mut self, other: &TagSet) {
        for (a, b) in self.bits.iter_mut().zip(other.bits.iter()) {
            *a |= *b;
        }
    }

    /// Word `i` of the set: the tags with ids `64 * i .. 64 * i + 64`, one
    /// bit each (0 beyond the set's [`MAX_TAGS`]). For a caller that keeps
    /// a compact copy of a set's first tags.
    pub fn word(&self, i: usize) -> u64 {
        self.bits.get(i).copied().unwrap_or(0)
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.bits.iter().all(|w| *w == 0)
    }

    /// The tags in the set, in ascending id order.
    pub fn iter(&self) -> impl Iterator<Item = TagId> + '_ {
        self.bits.iter().enumerate().flat_map(|(wi, &word)| {
            let mut w = word;
            core::iter::from_fn(move || {
                if w == 0 {
                    return None;
                }
                let b = w.trailing_zeros();
                w &= w - 1;
                // wi < WORDS = 16 and b < 64, so the id is < 1024.
                Some(TagId((wi as u16) * 64 + b as u16))
            })
        })
    }
}

/// One item of a condition: a tag that must be present, or (negated) absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TagTest {
    /// The tag tested.
    pub tag: TagId,
    /// `tag:!x` / `net:#x`: the tag must be absent.
    pub negated: bool,
}

/// Why a condition failed: the first item that did not hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CondFailure {
    /// A required tag was not set.
    Missing(TagId),
    /// A forbidden (negated) tag was set.
    Present(TagId),
}

/// Tests an AND list of tag tests against `tags` (`match_netid`, without the
/// untagged special case, which the caller decides).
pub fn check(items: &[TagTest], tags: &TagSet) -> Result<(), CondFailure> {
    for t in items {
        let has = tags.contains(t.tag);
        if t.negated && has {
            return Err(CondFailure::Present(t.tag));
        }
        if !t.negated && !has {
            return Err(CondFailure::Missing(t.tag));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_ops() {
        let mut s = TagSet::new();
        assert!(s.is_empty());
        assert!(s.insert(TagId(3)));
        assert!(!s.insert(TagId(3)));
        assert!(s.insert(TagId(1000)));
        assert!(!s.insert(TagId(1024)), "out of range ids are refused");
        assert!(s.contains(TagId(3)) && s.contains(TagId(1000)));
        assert_eq!(
            s.iter().collect::<alloc_free_vec::V>().0[..2],
            [TagId(3), TagId(1000)]
        );
        s.remove(TagId(3));
        assert!(!s.contains(TagId(3)));
    }

    mod alloc_free_vec {
        use super::TagId;
        /// A tiny fixed collector so this test does not need `alloc`.
        pub(super) struct V(pub [TagId; 4], usize);
        impl FromIterator<TagId> for V {
            fn from_iter<I: IntoIterator<Item = TagId>>(it: I) -> Self {
                let mut v = V([TagId(0); 4], 0);
                for t in it {
                    if v.1 < 4 {
                        v.0[v.1] = t;
                        v.1 += 1;
                    }
                }
                v
            }
        }
    }

    #[test]
    fn conditions() {
        let mut s = TagSet::new();
        s.insert(TagId(1));
        let pos = [TagTest {
            tag: TagId(1),
            negated: false,
        }];
        let neg = [TagTest {
            tag: TagId(1),
            negated: true,
        }];
        let miss = [TagTest {
            tag: TagId(2),
            negated: false,
        }];
        assert_eq!(check(&pos, &s), Ok(()));
        assert_eq!(check(&neg, &s), Err(CondFailure::Present(TagId(1))));
        assert_eq!(check(&miss, &s), Err(CondFailure::Missing(TagId(2))));
        assert_eq!(check(&[], &s), Ok(()));
    }
}
