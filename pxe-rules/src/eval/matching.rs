//! Byte matching as dnsmasq does it: `dhcp-match` values
//! (`dhcp-common.c: match_bytes`), class substrings, RFC 3004 user
//! classes, and the RFC 3925 enterprise blocks of options 124 and 125.

use crate::config::{MatchRule, MatchSource};
use crate::facts::Facts;
use crate::swar::{splat, word, zero_bytes};
use crate::value::{Encoded, ValueKind};
use pxe_dhcp::code;

/// Byte substring search: candidates are positions whose byte equals the
/// needle's first and whose byte `len - 1` further equals its last, found
/// eight positions at a time (two word loads and a zero-byte test; the
/// last eight positions in one more, overlapping, step), then compared in
/// full, by words when the needle is eight bytes or longer.
///
/// Every `dhcp-vendorclass` line searches option 60 (32 bytes from a PXE
/// ROM) for its text, so with a few dozen such lines this is a large part
/// of an evaluation: a byte-at-a-time scan cost 284 instructions per such
/// search in `rules/eval/bios/100`, eight positions at a time with a
/// byte-wise tail and a `memcmp` per candidate 173, this 141. Both loops
/// are written out here: as closures the compiler kept them out of line,
/// 4 % more instructions in `rules/eval/ipxe/1000`.
pub(crate) fn contains(hay: &[u8], needle: &[u8]) -> bool {
    let n = needle.len();
    let (Some(&first), Some(&last)) = (needle.first(), needle.last()) else {
        return true;
    };
    let Some(last_start) = hay.len().checked_sub(n) else {
        return false;
    };
    let positions = last_start + 1;
    if positions < 8 {
        // Short haystacks (a user class "iPXE" searched for "iPXE"): a
        // plain loop, kept in this function.
        let mut at = 0;
        while at < positions {
            if hay[at] == first && hay[at + n - 1] == last && matches_at(&hay[at..at + n], needle) {
                return true;
            }
            at += 1;
        }
        return false;
    }
    let (firsts, lasts) = (splat(first), splat(last));
    // Candidates among positions at..at + 8; both loads (bytes at..at + 8
    // and at + n - 1..at + n + 7) are in bounds while at + 8 <= positions.
    let mut at = 0;
    loop {
        // A zero byte where both ends match; the zero-byte test may also
        // flag a byte above a real zero, which the full compare rejects.
        let x = (word(hay, at) ^ firsts) | (word(hay, at + n - 1) ^ lasts);
        let mut candidates = zero_bytes(x);
        while candidates != 0 {
            let c = at + candidates.trailing_zeros() as usize / 8;
            if matches_at(&hay[c..c + n], needle) {
                return true;
            }
            candidates &= candidates - 1;
        }
        if at + 8 == positions {
            return false;
        }
        // The last step overlaps the one before: the eight last positions.
        at = (at + 8).min(positions - 8);
    }
}

/// `window == needle` (equal lengths) without a `memcmp` call: two
/// overlapping words cover a needle of 8 to 16 bytes.
#[inline(always)]
fn matches_at(window: &[u8], needle: &[u8]) -> bool {
    let n = needle.len();
    if n < 8 {
        return window.iter().zip(needle).all(|(a, b)| a == b);
    }
    word(window, 0) == word(needle, 0)
        && word(window, n - 8) == word(needle, n - 8)
        && (n <= 16 || window[8..n - 8] == needle[8..n - 8])
}

/// `match_bytes`: hex is a left-anchored prefix with wildcards, text a
/// substring, numbers and addresses an element of an array.
pub(crate) fn match_bytes(v: &Encoded, opt: &[u8]) -> bool {
    let len = v.bytes.len();
    if len > opt.len() {
        return false;
    }
    if len == 0 {
        return true;
    }
    match v.kind {
        ValueKind::Hex => v
            .bytes
            .iter()
            .zip(opt)
            .enumerate()
            .all(|(i, (p, o))| v.wildcard.get(i).copied().unwrap_or(false) || p == o),
        ValueKind::Text => contains(opt, &v.bytes),
        _ => opt.chunks_exact(len).any(|e| e == &v.bytes[..]),
    }
}

/// User class with RFC 3004 length bytes zeroed, if well-formed.
pub(crate) fn user_class_matches(uc: &[u8], needle: &[u8]) -> bool {
    let mut i = 0;
    let mut ok = !uc.is_empty();
    while i < uc.len() {
        let l = usize::from(uc[i]);
        if l == 0 || i + 1 + l > uc.len() {
            ok = false;
            break;
        }
        i += 1 + l;
    }
    if !ok {
        return contains(uc, needle);
    }
    // Search with the counts treated as zero bytes, without copying.
    if needle.is_empty() {
        return true;
    }
    if needle.len() > uc.len() {
        return false;
    }
    let mut is_len = [false; 256];
    let mut j = 0;
    while j < uc.len() && j < 256 {
        is_len[j] = true;
        j += 1 + usize::from(uc[j]);
    }
    (0..=uc.len() - needle.len()).any(|s| {
        needle.iter().enumerate().all(|(k, n)| {
            let idx = s + k;
            let b = if idx < 256 && is_len[idx] { 0 } else { uc[idx] };
            b == *n
        })
    })
}

/// Broadband Forum's IANA enterprise number (TR-069 devices).
const BROADBAND_FORUM: u32 = 3561;

/// Option 125 (RFC 3925) with a Broadband Forum block carrying both the
/// device's OUI (sub-option 4) and serial number (5): dnsmasq's
/// `cpewan-id` condition. Malformed data matches nothing.
pub(crate) fn is_cpewan(v: &[u8]) -> bool {
    enterprise_blocks(v)
        .filter(|(e, _)| *e == BROADBAND_FORUM)
        .any(|(_, data)| {
            let (mut oui, mut serial) = (false, false);
            let mut subs = data;
            while let [code, sl, more @ ..] = subs {
                let Some((_, after)) = more.split_at_checked(usize::from(*sl)) else {
                    break;
                };
                oui |= *code == 4;
                serial |= *code == 5;
                subs = after;
            }
            oui && serial
        })
}

/// The `(enterprise number, data)` blocks of option 124 or 125 (RFC 3925);
/// a block whose length runs past the end ends the walk.
pub(crate) fn enterprise_blocks(mut v: &[u8]) -> impl Iterator<Item = (u32, &[u8])> {
    core::iter::from_fn(move || {
        let [a, b, c, d, len, rest @ ..] = v else {
            return None;
        };
        let (data, next) = rest.split_at_checked(usize::from(*len))?;
        v = next;
        Some((u32::from_be_bytes([*a, *b, *c, *d]), data))
    })
}

/// Whether a `dhcp-match` line matches, and why not.
pub(crate) fn eval_match(m: &MatchRule, facts: &Facts<'_>) -> (bool, &'static str) {
    match m.source {
        MatchSource::Option(code) => {
            // `option_find(…, 1)`: an empty occurrence does not count.
            let Some(v) = facts.option_at_least(code, 1) else {
                return match facts.option(code) {
                    Some(_) => (false, "option empty"),
                    None => (false, "option absent"),
                };
            };
            match &m.value {
                None => (true, ""),
                Some(val) if match_bytes(val, v) => (true, ""),
                Some(_) => (false, "value differs"),
            }
        }
        MatchSource::Option6(_) => (false, "a DHCPv6 option (DHCPv6 requests only)"),
        MatchSource::ViEncap(ent) => {
            let Some(v) = facts.option_at_least(code::VI_VENDOR_CLASS, 5) else {
                return (false, "option 124 absent");
            };
            for (_, data) in enterprise_blocks(v).filter(|(e, _)| *e == ent) {
                let Some(val) = &m.value else {
                    return (true, "");
                };
                let mut s = data;
                while let [l, rest @ ..] = s {
                    let Some((item, next)) = rest.split_at_checked(usize::from(*l)) else {
                        break;
                    };
                    if match_bytes(val, item) {
                        return (true, "");
                    }
                    s = next;
                }
            }
            (false, "no matching vendor class block")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Config, Context};
    use core::net::Ipv4Addr;

    proptest::proptest! {
        #[test]
        fn contains_agrees_with_a_window_scan(
            hay in proptest::collection::vec(0u8..4, 0..80),
            needle in proptest::collection::vec(0u8..3, 0..24),
        ) {
            let want = needle.is_empty() || hay.windows(needle.len()).any(|w| w == &needle[..]);
            proptest::prop_assert_eq!(contains(&hay, &needle), want);
        }
    }

    #[test]
    fn contains_finds_the_needle_at_every_position() {
        let hay = b"PXEClient:Arch:00007:UNDI:003016";
        for n in 1..=hay.len() {
            for at in 0..=hay.len() - n {
                assert!(contains(hay, &hay[at..at + n]), "{at} {n}");
            }
        }
        assert!(!contains(hay, b"Arch:00009"));
        assert!(!contains(b"short", b"longer than it"));
        assert!(contains(b"", b""));
    }

    #[test]
    fn user_class_rfc3004_counts_are_zeroed() {
        // [4]"iPXE": the count byte 4 must not match.
        assert!(user_class_matches(&[4, b'i', b'P', b'X', b'E'], b"iPXE"));
        assert!(!user_class_matches(&[4, b'i', b'P', b'X', b'E'], &[4]));
        assert!(user_class_matches(b"iPXE", b"PXE"));
    }

    #[test]
    fn enterprise_blocks_stop_at_a_bad_length() {
        let v = [0, 0, 13, 233, 2, 9, 9, 0, 0, 0, 1, 9, 1];
        let b: alloc::vec::Vec<_> = enterprise_blocks(&v).collect();
        assert_eq!(b, [(3561, &[9u8, 9][..])]);
        // OUI (4) and serial (5) in the Broadband Forum block.
        assert!(is_cpewan(&[0, 0, 13, 233, 6, 4, 1, b'a', 5, 1, b'b']));
        assert!(!is_cpewan(&[0, 0, 13, 233, 3, 4, 1, b'a']));
        assert!(!is_cpewan(&[0, 0, 13, 234, 6, 4, 1, b'a', 5, 1, b'b']));
    }

    #[test]
    fn numbers_match_whole_array_elements() {
        let v = |bytes: &[u8]| Encoded {
            bytes: bytes.to_vec(),
            kind: ValueKind::Int,
            wildcard: alloc::vec::Vec::new(),
            local_at: alloc::vec::Vec::new(),
        };
        assert!(match_bytes(&v(&[0, 7]), &[0, 9, 0, 7]));
        assert!(
            !match_bytes(&v(&[0, 7]), &[9, 0, 7, 0]),
            "offsets 0, 2, ... only"
        );
        assert!(!match_bytes(&v(&[0, 7]), &[0]));
        assert!(match_bytes(&v(&[0x13]), &[1, 0x13, 1]));
    }

    #[test]
    fn vi_encap_match_walks_blocks_and_items() {
        let c = Config::parse_str(
            "dhcp-match=set:any,vi-encap:3561\ndhcp-match=set:v,vi-encap:3561,abc\n",
            "t.conf",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let get = |name| c.tag(name).unwrap_or_else(|| panic!("{name}"));
        let (any, v) = (get("any"), get("v"));
        let run = |o124: &[u8]| {
            let opts = [(53u8, &[1u8][..]), (124, o124)];
            let f = Facts::from_options(1, &[1, 2, 3, 4, 5, 6], Ipv4Addr::UNSPECIFIED, &opts);
            let ctx = Context::new(Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(255, 0, 0, 0));
            let d = c.evaluate(&f, &ctx);
            (d.tags().contains(any), d.tags().contains(v))
        };
        // Another enterprise first, then 3561 with items "xy" and "abc".
        let ok = [
            0, 0, 0, 9, 1, 7, 0, 0, 13, 233, 7, 2, b'x', b'y', 3, b'a', b'b', b'c',
        ];
        assert_eq!(run(&ok), (true, true));
        assert_eq!(
            run(&ok[..14]),
            (false, false),
            "the block runs past the end"
        );
        assert_eq!(run(&ok[..6]), (false, false));
        assert_eq!(
            run(&[0, 0, 13, 233, 3, 9, b'a', b'b']),
            (true, false),
            "item too long"
        );
    }
}
