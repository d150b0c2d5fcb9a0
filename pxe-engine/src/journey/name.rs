//! Names kept inline (file names, URLs, tag lists): a journey holds a
//! fixed number of them, so the store's memory does not depend on what
//! clients send.

use core::fmt;

/// Bytes of a name kept; longer names are cut (at a UTF-8 character
/// boundary) and remembered as cut.
pub const NAME_MAX: usize = 60;

/// A name of at most [`NAME_MAX`] bytes; a cut one keeps a hash of the
/// whole name so that two long names that share their first bytes still
/// differ (a name kept whole needs none: its bytes say it all).
#[derive(Clone, Copy)]
pub struct Name {
    len: u8,
    truncated: bool,
    hash: u32,
    bytes: [u8; NAME_MAX],
}

// Only the bytes kept count: a cleared name keeps stale bytes behind
// its length.
impl PartialEq for Name {
    fn eq(&self, other: &Name) -> bool {
        self.len == other.len
            && self.truncated == other.truncated
            && self.hash == other.hash
            && self.as_bytes() == other.as_bytes()
    }
}

impl Eq for Name {}

impl core::hash::Hash for Name {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state);
        self.truncated.hash(state);
        self.hash.hash(state);
    }
}

impl Default for Name {
    fn default() -> Self {
        Name::EMPTY
    }
}

impl Name {
    /// The empty name.
    pub const EMPTY: Name = Name {
        len: 0,
        truncated: false,
        hash: 0,
        bytes: [0; NAME_MAX],
    };

    /// `bytes`, cut to [`NAME_MAX`] bytes if longer.
    pub fn new(bytes: &[u8]) -> Name {
        let mut n = Name::EMPTY;
        n.set(bytes);
        n
    }

    /// Makes it `bytes` (cut as [`Name::new`] does) in place, writing only
    /// the bytes kept and the length (the bytes behind stay, unread).
    pub(super) fn set(&mut self, bytes: &[u8]) {
        let mut keep = bytes.len().min(NAME_MAX);
        if keep < bytes.len() {
            // Do not split a UTF-8 sequence.
            while keep > 0 && bytes.get(keep).is_some_and(|b| b & 0xc0 == 0x80) {
                keep -= 1;
            }
        }
        if let (Some(to), Some(from)) = (self.bytes.get_mut(..keep), bytes.get(..keep)) {
            to.copy_from_slice(from);
        }
        self.len = keep as u8;
        self.truncated = keep < bytes.len();
        self.hash = if self.truncated { fnv1a(bytes) } else { 0 };
    }

    /// The bytes kept.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// Whether the name is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether the name was cut to [`NAME_MAX`] bytes.
    pub fn is_truncated(&self) -> bool {
        self.truncated
    }

    /// Whether this is `bytes` (compared in full through the hash when the
    /// name was cut).
    pub fn is(&self, bytes: &[u8]) -> bool {
        *self == Name::new(bytes)
    }
}

impl fmt::Display for Name {
    /// The name as text (invalid UTF-8 as U+FFFD), `…` after a cut one.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for chunk in self.as_bytes().utf8_chunks() {
            f.write_str(chunk.valid())?;
            if !chunk.invalid().is_empty() {
                f.write_str("\u{FFFD}")?;
            }
        }
        if self.truncated {
            f.write_str("…")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", format_args!("{self}"))
    }
}

const FNV_OFFSET: u32 = 0x811c_9dc5;

fn fnv1a(bytes: &[u8]) -> u32 {
    if bytes.is_empty() {
        return 0;
    }
    fnv1a_from(FNV_OFFSET, bytes)
}

fn fnv1a_from(mut h: u32, bytes: &[u8]) -> u32 {
    for b in bytes {
        h ^= u32::from(*b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn short_names_are_kept_whole() {
        let n = Name::new(b"pxelinux.0");
        assert_eq!(n.as_bytes(), b"pxelinux.0");
        assert!(!n.is_truncated());
        assert!(n.is(b"pxelinux.0"));
        assert_eq!(n.to_string(), "pxelinux.0");
    }

    #[test]
    fn long_names_are_cut_at_a_character_and_still_told_apart() {
        let mut a = alloc::vec![b'a'; NAME_MAX - 1];
        a.extend_from_slice("é-one".as_bytes());
        let mut b = a.clone();
        b.extend_from_slice(b"-two");
        let (na, nb) = (Name::new(&a), Name::new(&b));
        assert_eq!(na.as_bytes().len(), NAME_MAX - 1, "é not split");
        assert!(na.is_truncated());
        assert_eq!(na.as_bytes(), nb.as_bytes());
        assert_ne!(na, nb, "the hash of the whole name differs");
        assert!(na.to_string().ends_with('…'));
    }
}
