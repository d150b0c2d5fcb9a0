//! Eight bytes at a time: the zero-byte test the byte searches share
//! (option 55 membership, class substrings).

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
