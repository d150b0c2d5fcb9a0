//! Eight bytes at a time: the zero-byte test and word loads behind the
//! byte searches — option 55 membership ([`has_byte`]) here, the class
//! substring search in `eval::matching`.

const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);

/// `b` in each byte of a word.
#[inline(always)]
pub(crate) fn splat(b: u8) -> u64 {
    ONES * u64::from(b)
}

/// The high bit of each zero byte of `x`: nonzero exactly when `x` has a
/// zero byte, though a byte just above a real zero may be flagged too
/// (a caller locating matches confirms each).
#[inline(always)]
pub(crate) fn zero_bytes(x: u64) -> u64 {
    x.wrapping_sub(ONES) & !x & HIGHS
}

/// The eight bytes of `b` at `at` as a little-endian word (byte `at` in
/// the low bits); the caller has checked they are in bounds.
#[inline(always)]
pub(crate) fn word(b: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(w)
}

/// Whether `list` holds `b`: a zero-byte test on each eight bytes, the
/// last eight overlapping the word before.
#[expect(
    clippy::manual_contains,
    reason = "`contains` on bytes is a memchr call, the cost this avoids"
)]
pub(crate) fn has_byte(list: &[u8], b: u8) -> bool {
    let pattern = splat(b);
    let holds = |w: &[u8; 8]| zero_bytes(u64::from_ne_bytes(*w) ^ pattern) != 0;
    let (words, rest) = list.as_chunks::<8>();
    words.iter().any(holds)
        || match list.last_chunk::<8>() {
            Some(last) if !rest.is_empty() => holds(last),
            _ => rest.iter().any(|&c| c == b),
        }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn has_byte_agrees_with_contains(
            list in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40),
            b in proptest::prelude::any::<u8>(),
        ) {
            proptest::prop_assert_eq!(has_byte(&list, b), list.contains(&b));
        }
    }

    #[test]
    fn has_byte_finds_every_position_and_nothing_else() {
        let list: [u8; 23] = core::array::from_fn(|i| i as u8 * 11 + 1);
        for n in 0..=list.len() {
            for (i, &c) in list[..n].iter().enumerate() {
                assert!(has_byte(&list[..n], c), "{n} {i}");
            }
            assert!(!has_byte(&list[..n], 0), "{n}");
            assert!(!has_byte(&list[..n], 0x80), "{n}");
        }
    }
}
