//! netascii (RFC 764 as used by RFC 1350): on the wire every LF is CR LF and
//! every bare CR is CR NUL.
//!
//! The encoder works from a [`DataSource`] at any block boundary, given the
//! [`EncodeState`] recorded there (source offset plus a half-sent pair), so
//! windows can be resent without buffering them. The decoder turns CR LF
//! back into LF and CR NUL into CR, carrying a CR that ends one block over to
//! the next.
//!
//! Cost: the encoded size (needed to answer `tsize` for a netascii read) is
//! only known by reading the whole source once, in 512-byte chunks, before
//! the transfer starts; [`encoded_len`] does that. Resending from an older
//! block after a partial window ACK re-encodes from the window's start.

use crate::io::{DataSink, DataSource};

/// Encoder position at a block boundary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EncodeState {
    /// Next source byte to encode.
    pub src_offset: u64,
    /// Second byte of a CR LF / CR NUL pair that did not fit the last block.
    pub pending: Option<u8>,
}

/// Encodes into `out` from `state`, filling it completely unless the source
/// ends first; returns the number of bytes written and advances `state`.
pub fn encode<S: DataSource>(
    src: &mut S,
    state: &mut EncodeState,
    out: &mut [u8],
) -> Result<usize, S::Error> {
    let mut n = 0;
    if let Some(p) = state.pending
        && !out.is_empty()
    {
        out[0] = p;
        n = 1;
        state.pending = None;
    }
    let mut scratch = [0u8; 512];
    while n < out.len() {
        let want = scratch.len().min(out.len() - n);
        let got = src.read_at(state.src_offset, &mut scratch[..want])?;
        if got == 0 {
            break;
        }
        let mut consumed = 0;
        for &b in &scratch[..got.min(want)] {
            if n >= out.len() {
                break;
            }
            consumed += 1;
            let second = match b {
                b'\n' => Some(b'\n'),
                b'\r' => Some(0),
                _ => None,
            };
            match second {
                None => {
                    out[n] = b;
                    n += 1;
                }
                Some(s) => {
                    out[n] = b'\r';
                    n += 1;
                    if n < out.len() {
                        out[n] = s;
                        n += 1;
                    } else {
                        state.pending = Some(s);
                    }
                }
            }
        }
        state.src_offset += consumed as u64;
    }
    Ok(n)
}

/// Advances `state` past `count` encoded bytes without keeping them;
/// returns how many were actually skipped (fewer at end of source).
pub fn skip<S: DataSource>(
    src: &mut S,
    state: &mut EncodeState,
    mut count: u64,
) -> Result<u64, S::Error> {
    let mut scratch = [0u8; 512];
    let mut skipped = 0;
    while count > 0 {
        let want = usize::try_from(count.min(512)).unwrap_or(512);
        let n = encode(src, state, &mut scratch[..want])?;
        skipped += n as u64;
        count -= n as u64;
        if n < want {
            break;
        }
    }
    Ok(skipped)
}

/// The netascii-encoded length of the whole source (reads all of it once).
pub fn encoded_len<S: DataSource>(src: &mut S) -> Result<u64, S::Error> {
    let mut scratch = [0u8; 512];
    let mut off = 0u64;
    let mut extra = 0u64;
    loop {
        let got = src.read_at(off, &mut scratch)?;
        if got == 0 {
            return Ok(off + extra);
        }
        let got = got.min(scratch.len());
        extra += scratch[..got]
            .iter()
            .filter(|&&b| b == b'\n' || b == b'\r')
            .count() as u64;
        off += got as u64;
    }
}

/// Streaming netascii decoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Decoder {
    cr_pending: bool,
}

impl Decoder {
    /// Decodes `input` and writes the result to `sink` at `*offset`,
    /// advancing it. A CR at the end of `input` is held until the next call.
    /// Lenient: CR followed by anything but LF or NUL is kept as CR + byte.
    pub fn decode<K: DataSink>(
        &mut self,
        input: &[u8],
        sink: &mut K,
        offset: &mut u64,
    ) -> Result<(), K::Error> {
        let mut out = [0u8; 512];
        let mut n = 0;
        for &b in input {
            if n + 2 > out.len() {
                sink.write_at(*offset, &out[..n])?;
                *offset += n as u64;
                n = 0;
            }
            if self.cr_pending {
                self.cr_pending = false;
                match b {
                    b'\n' => {
                        out[n] = b'\n';
                        n += 1;
                        continue;
                    }
                    0 => {
                        out[n] = b'\r';
                        n += 1;
                        continue;
                    }
                    _ => {
                        out[n] = b'\r';
                        n += 1;
                    }
                }
            }
            if b == b'\r' {
                self.cr_pending = true;
            } else {
                out[n] = b;
                n += 1;
            }
        }
        if n > 0 {
            sink.write_at(*offset, &out[..n])?;
            *offset += n as u64;
        }
        Ok(())
    }

    /// Ends the stream: a held CR is written as is.
    pub fn finish<K: DataSink>(&mut self, sink: &mut K, offset: &mut u64) -> Result<(), K::Error> {
        if self.cr_pending {
            self.cr_pending = false;
            sink.write_at(*offset, b"\r")?;
            *offset += 1;
        }
        Ok(())
    }
}

#[cfg(all(test, feature = "alloc"))]
#[allow(clippy::panic, clippy::unwrap_used)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn encode_all(data: &[u8], chunk: usize) -> Vec<u8> {
        let mut src = data;
        let mut st = EncodeState::default();
        let mut out = Vec::new();
        loop {
            let mut buf = alloc::vec![0u8; chunk];
            let n = encode(&mut src, &mut st, &mut buf).unwrap_or_else(|e| match e {});
            out.extend_from_slice(&buf[..n]);
            if n < chunk {
                return out;
            }
        }
    }

    #[test]
    fn observed_dnsmasq_example() {
        assert_eq!(encode_all(b"a\nb\n", 512), b"a\r\nb\r\n");
        assert_eq!(encode_all(b"a\rb", 1), b"a\r\0b");
        let mut src: &[u8] = b"a\nb\n\r";
        assert_eq!(encoded_len(&mut src).unwrap_or_else(|e| match e {}), 8);
    }

    proptest::proptest! {
        #[test]
        fn round_trip(data in proptest::collection::vec(proptest::sample::select(&b"ab\r\n\0"[..]), 0..300), chunk in 1usize..20) {
            let enc = encode_all(&data, chunk);
            let mut src: &[u8] = &data;
            proptest::prop_assert_eq!(enc.len() as u64, encoded_len(&mut src).unwrap_or_else(|e| match e {}));
            let mut dec = Decoder::default();
            let mut out: Vec<u8> = Vec::new();
            let mut off = 0;
            for c in enc.chunks(chunk) {
                dec.decode(c, &mut out, &mut off).unwrap_or_else(|e| match e {});
            }
            dec.finish(&mut out, &mut off).unwrap_or_else(|e| match e {});
            proptest::prop_assert_eq!(out, data.clone());
            // skipping lands where encoding would
            let mut st = EncodeState::default();
            let mut s: &[u8] = &data;
            let k = (enc.len() / 2) as u64;
            let sk = skip(&mut s, &mut st, k).unwrap_or_else(|e| match e {});
            proptest::prop_assert_eq!(sk, k);
            let mut rest = alloc::vec![0u8; enc.len()];
            let n = encode(&mut s, &mut st, &mut rest).unwrap_or_else(|e| match e {});
            proptest::prop_assert_eq!(&rest[..n], &enc[k as usize..]);
        }
    }
}
