//! dnsmasq-style option lookups: the first occurrence long enough for its
//! use, never a concatenation.
//!
//! dnsmasq (`rfc2131.c: option_find`, `option_find1`) looks an option up by
//! walking the options field, then `file` and `sname` when option 52 says
//! so, and returns the first occurrence whose value has at least the
//! length its caller needs: a shorter occurrence is skipped, and RFC 3396
//! fragments are not joined. A rules engine that must decide exactly as
//! dnsmasq does reads requests through these lookups rather than through
//! the joining typed getters of [`Packet`].

use crate::options::SubOptions;
use crate::packet::Packet;

impl<T: AsRef<[u8]>> Packet<T> {
    /// The first occurrence of option `code` whose value is at least
    /// `min_len` bytes long, in wire order (options, then `file` and
    /// `sname` when overloaded): dnsmasq's `option_find`.
    ///
    /// Shorter occurrences are skipped, not joined to later ones; for the
    /// RFC 3396 value of a split option use [`Packet::option_concat`].
    /// Answered from the packet's index unless the first occurrence is too
    /// short and the option repeats.
    #[inline(always)]
    pub fn option_at_least(&self, code: u8, min_len: usize) -> Option<&[u8]> {
        let first = self.option(code)?;
        if first.len() >= min_len {
            return Some(first);
        }
        self.later_at_least(code, min_len)
    }

    /// The rest of [`Packet::option_at_least`] when the first occurrence
    /// is too short: rare, so kept out of line.
    #[cold]
    #[inline(never)]
    fn later_at_least(&self, code: u8, min_len: usize) -> Option<&[u8]> {
        if !self.is_split(code) {
            return None;
        }
        self.fragments(code).skip(1).find(|v| v.len() >= min_len)
    }
}

impl<'a> SubOptions<'a> {
    /// The first sub-option `code` whose value is at least `min_len` bytes
    /// long, ignoring anything after a framing error: dnsmasq's
    /// `option_find1` inside an encapsulated option (43 sub-option 71,
    /// option 82's circuit id, ...).
    #[inline]
    pub fn find_at_least(&self, code: u8, min_len: usize) -> Option<&'a [u8]> {
        self.clone()
            .map_while(Result::ok)
            .find(|o| o.code == code && o.data.len() >= min_len)
            .map(|o| o.data)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::{Builder, MessageType};

    #[test]
    fn first_long_enough_occurrence_wins() {
        let mut buf = [0u8; 600];
        let mut b = Builder::new(&mut buf).unwrap();
        b.message_type(MessageType::Discover).unwrap();
        b.option(93, &[7]).unwrap();
        b.option(93, &[0, 9]).unwrap();
        b.option(93, &[0, 7]).unwrap();
        b.option(60, b"PXEClient").unwrap();
        let n = b.finish().unwrap();
        let p = Packet::new_checked(&buf[..n]).unwrap();
        assert_eq!(p.option_at_least(93, 0), Some(&[7u8][..]));
        assert_eq!(
            p.option_at_least(93, 2),
            Some(&[0u8, 9][..]),
            "skips, never joins"
        );
        assert_eq!(p.option_at_least(93, 3), None);
        assert_eq!(p.option_at_least(60, 9), Some(&b"PXEClient"[..]));
        assert_eq!(p.option_at_least(60, 10), None);
        assert_eq!(p.option_at_least(97, 0), None);
    }

    #[test]
    fn sub_option_lookup_skips_short_ones_and_stops_at_bad_framing() {
        let data = [71, 2, 0, 0, 71, 4, 0x80, 0, 0, 1, 255, 71, 4, 1, 1, 1, 1];
        let subs = SubOptions::new(43, &data, true);
        assert_eq!(subs.find_at_least(71, 4), Some(&[0x80u8, 0, 0, 1][..]));
        assert_eq!(subs.find_at_least(71, 0), Some(&[0u8, 0][..]));
        assert_eq!(
            subs.find_at_least(71, 5),
            None,
            "the end sub-option ends the list"
        );
        let broken = [71, 9, 0x80, 0];
        assert_eq!(
            SubOptions::new(43, &broken, true).find_at_least(71, 0),
            None
        );
    }
}
