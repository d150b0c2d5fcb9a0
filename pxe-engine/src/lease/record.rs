//! The lease log's record format: checksummed, length-prefixed, binary.
//!
//! ```text
//! record  = 0xA5 | len: u16 LE | crc32(payload): u32 LE | payload (len bytes)
//! payload = kind: u8 (1 grant, 2 remove) | addr: 4 bytes
//!           grant only: expires u64 LE | htype u8 | hlen u8 | hw (hlen)
//!                       | flags u8 (bit 0 client id, bit 1 hostname)
//!                       | [cid_len u8 | cid] | [name_len u8 | name]
//!         | kind: u8 (3 DHCPv6 grant, 4 DHCPv6 remove) | addr: 16 bytes
//!           grant only: expires u64 LE | iaid u32 LE | duid_len u8 | duid
//!                       | flags u8 (bit 1 hostname) | [name_len u8 | name]
//! ```
//!
//! A record is accepted only whole and with a matching CRC-32, so a record
//! torn by a crash in the middle of a write is recognised and ignored.
//! Encoding writes into a caller's buffer and allocates nothing.

use core::net::Ipv4Addr;

use super::{HwAddr, Lease, Lease6, LeaseChange};

/// Largest possible encoded record.
pub const MAX_RECORD: usize = 7 + 5 + 8 + 2 + 16 + 1 + 256 + 256;

const MAGIC: u8 = 0xA5;
const KIND_GRANT: u8 = 1;
const KIND_REMOVE: u8 = 2;
const KIND_GRANT6: u8 = 3;
const KIND_REMOVE6: u8 = 4;

/// Why a record could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// The buffer ends inside the record (a torn write).
    #[error("record truncated: need {need} bytes, have {have}")]
    Truncated {
        /// Bytes the record claims.
        need: usize,
        /// Bytes available.
        have: usize,
    },
    /// The first byte is not the record marker.
    #[error("bad record marker {0:#04x}")]
    BadMagic(u8),
    /// The checksum does not match the payload.
    #[error("record checksum mismatch")]
    Checksum,
    /// The payload is inconsistent (unknown kind, bad lengths).
    #[error("malformed record payload: {0}")]
    Malformed(&'static str),
    /// The output buffer is too small, or a field too long to encode.
    #[error("record does not fit: {0}")]
    TooLong(&'static str),
}

const fn crc_table() -> [u32; 256] {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
}

static CRC_TABLE: [u32; 256] = crc_table();

/// CRC-32 (IEEE 802.3, as zlib) of `data`.
pub fn crc32(data: &[u8]) -> u32 {
    let mut c = 0xFFFF_FFFFu32;
    for b in data {
        c = CRC_TABLE[((c ^ u32::from(*b)) & 0xFF) as usize] ^ (c >> 8);
    }
    c ^ 0xFFFF_FFFF
}

struct W<'a> {
    buf: &'a mut [u8],
    pos: usize,
}

impl W<'_> {
    fn put(&mut self, b: &[u8]) -> Result<(), RecordError> {
        let end = self.pos + b.len();
        let dst = self
            .buf
            .get_mut(self.pos..end)
            .ok_or(RecordError::TooLong("output buffer too small"))?;
        dst.copy_from_slice(b);
        self.pos = end;
        Ok(())
    }
}

/// Encode `change` into `out`; returns the number of bytes written.
///
/// A [`LeaseChange::Offer`] is not a durable change: nothing is written
/// and the length is 0 (a log of one server keeps no offers).
pub fn encode(change: &LeaseChange, out: &mut [u8]) -> Result<usize, RecordError> {
    let mut w = W { buf: out, pos: 7 };
    match change {
        LeaseChange::Offer(_) => return Ok(0),
        LeaseChange::Remove(a) => {
            w.put(&[KIND_REMOVE])?;
            w.put(&a.octets())?;
        }
        LeaseChange::Remove6(a) => {
            w.put(&[KIND_REMOVE6])?;
            w.put(&a.octets())?;
        }
        LeaseChange::Grant6(l) => {
            w.put(&[KIND_GRANT6])?;
            w.put(&l.addr.octets())?;
            w.put(&l.expires.to_le_bytes())?;
            w.put(&l.iaid.to_le_bytes())?;
            let n = u8::try_from(l.duid.len()).map_err(|_| RecordError::TooLong("DUID"))?;
            w.put(&[n])?;
            w.put(&l.duid)?;
            w.put(&[u8::from(l.hostname.is_some()) << 1])?;
            if let Some(h) = &l.hostname {
                let n = u8::try_from(h.len()).map_err(|_| RecordError::TooLong("hostname"))?;
                w.put(&[n])?;
                w.put(h.as_bytes())?;
            }
        }
        LeaseChange::Grant(l) => {
            w.put(&[KIND_GRANT])?;
            w.put(&l.addr.octets())?;
            w.put(&l.expires.to_le_bytes())?;
            let hw = l.hw.as_bytes();
            w.put(&[l.hw.htype(), hw.len() as u8])?;
            w.put(hw)?;
            let flags = u8::from(l.client_id.is_some()) | (u8::from(l.hostname.is_some()) << 1);
            w.put(&[flags])?;
            if let Some(c) = &l.client_id {
                let n = u8::try_from(c.len()).map_err(|_| RecordError::TooLong("client id"))?;
                w.put(&[n])?;
                w.put(c)?;
            }
            if let Some(h) = &l.hostname {
                let n = u8::try_from(h.len()).map_err(|_| RecordError::TooLong("hostname"))?;
                w.put(&[n])?;
                w.put(h.as_bytes())?;
            }
        }
    }
    let total = w.pos;
    let len = u16::try_from(total - 7).map_err(|_| RecordError::TooLong("payload"))?;
    let crc = crc32(&w.buf[7..total]);
    w.buf[0] = MAGIC;
    w.buf[1..3].copy_from_slice(&len.to_le_bytes());
    w.buf[3..7].copy_from_slice(&crc.to_le_bytes());
    Ok(total)
}

struct R<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> R<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], RecordError> {
        let s = self
            .buf
            .get(self.pos..self.pos + n)
            .ok_or(RecordError::Malformed("field runs past payload"))?;
        self.pos += n;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, RecordError> {
        Ok(self.take(1)?[0])
    }
}

/// Decode the record at the start of `buf`; returns the change and the
/// number of bytes it occupied.
pub fn decode(buf: &[u8]) -> Result<(LeaseChange, usize), RecordError> {
    use alloc::string::String;
    let Some(hdr) = buf.get(..7) else {
        return Err(RecordError::Truncated {
            need: 7,
            have: buf.len(),
        });
    };
    if hdr[0] != MAGIC {
        return Err(RecordError::BadMagic(hdr[0]));
    }
    let len = usize::from(u16::from_le_bytes([hdr[1], hdr[2]]));
    let crc = u32::from_le_bytes([hdr[3], hdr[4], hdr[5], hdr[6]]);
    let Some(payload) = buf.get(7..7 + len) else {
        return Err(RecordError::Truncated {
            need: 7 + len,
            have: buf.len(),
        });
    };
    if crc32(payload) != crc {
        return Err(RecordError::Checksum);
    }
    let mut r = R {
        buf: payload,
        pos: 0,
    };
    let kind = r.u8()?;
    if matches!(kind, KIND_GRANT6 | KIND_REMOVE6) {
        let change = decode6(kind, &mut r)?;
        if r.pos != payload.len() {
            return Err(RecordError::Malformed("trailing bytes in payload"));
        }
        return Ok((change, 7 + len));
    }
    let a = r.take(4)?;
    let addr = Ipv4Addr::new(a[0], a[1], a[2], a[3]);
    let change = match kind {
        KIND_REMOVE => LeaseChange::Remove(addr),
        KIND_GRANT => {
            let e = r.take(8)?;
            let mut eb = [0u8; 8];
            eb.copy_from_slice(e);
            let expires = u64::from_le_bytes(eb);
            let htype = r.u8()?;
            let hlen = usize::from(r.u8()?);
            let hw = HwAddr::new(htype, r.take(hlen)?)
                .ok_or(RecordError::Malformed("hardware address over 16 bytes"))?;
            let flags = r.u8()?;
            let client_id = if flags & 1 != 0 {
                let n = usize::from(r.u8()?);
                Some(r.take(n)?.to_vec())
            } else {
                None
            };
            let hostname = if flags & 2 != 0 {
                let n = usize::from(r.u8()?);
                let s = core::str::from_utf8(r.take(n)?)
                    .map_err(|_| RecordError::Malformed("hostname not UTF-8"))?;
                Some(String::from(s))
            } else {
                None
            };
            LeaseChange::Grant(Lease {
                addr,
                hw,
                client_id,
                hostname,
                expires,
            })
        }
        _ => return Err(RecordError::Malformed("unknown record kind")),
    };
    if r.pos != payload.len() {
        return Err(RecordError::Malformed("trailing bytes in payload"));
    }
    Ok((change, 7 + len))
}

/// The payload of a DHCPv6 record after its kind byte.
fn decode6(kind: u8, r: &mut R<'_>) -> Result<LeaseChange, RecordError> {
    use alloc::string::String;
    let mut a = [0u8; 16];
    a.copy_from_slice(r.take(16)?);
    let addr = core::net::Ipv6Addr::from(a);
    if kind == KIND_REMOVE6 {
        return Ok(LeaseChange::Remove6(addr));
    }
    let mut eb = [0u8; 8];
    eb.copy_from_slice(r.take(8)?);
    let mut ib = [0u8; 4];
    ib.copy_from_slice(r.take(4)?);
    let n = usize::from(r.u8()?);
    let duid = r.take(n)?.to_vec();
    let flags = r.u8()?;
    let hostname = if flags & 2 != 0 {
        let n = usize::from(r.u8()?);
        let s = core::str::from_utf8(r.take(n)?)
            .map_err(|_| RecordError::Malformed("hostname not UTF-8"))?;
        Some(String::from(s))
    } else {
        None
    };
    Ok(LeaseChange::Grant6(Lease6 {
        addr,
        iaid: u32::from_le_bytes(ib),
        duid,
        hostname,
        expires: u64::from_le_bytes(eb),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec;
    use proptest::prelude::*;

    #[test]
    fn crc_known_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn roundtrip_and_torn() {
        let l = Lease {
            addr: Ipv4Addr::new(192, 168, 2, 100),
            hw: HwAddr::ethernet([1, 2, 3, 4, 5, 6]),
            client_id: Some(vec![1, 1, 2, 3, 4, 5, 6]),
            hostname: Some("pc1".to_string()),
            expires: 1_700_000_000,
        };
        let mut buf = [0u8; MAX_RECORD];
        let n = encode(&LeaseChange::Grant(l.clone()), &mut buf).unwrap();
        assert_eq!(decode(&buf[..n]).unwrap(), (LeaseChange::Grant(l), n));
        for cut in 0..n {
            assert!(decode(&buf[..cut]).is_err(), "cut at {cut}");
        }
        buf[n - 1] ^= 1;
        assert_eq!(decode(&buf[..n]), Err(RecordError::Checksum));
    }

    proptest! {
        #[test]
        fn prop_roundtrip(addr in any::<u32>(), exp in any::<u64>(), hw in proptest::collection::vec(any::<u8>(), 0..=16),
                          cid in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..=255)),
                          name in proptest::option::of("[a-z0-9-]{0,63}")) {
            let l = Lease { addr: Ipv4Addr::from(addr), hw: HwAddr::new(1, &hw).unwrap(), client_id: cid, hostname: name, expires: exp };
            let mut buf = [0u8; MAX_RECORD];
            let n = encode(&LeaseChange::Grant(l.clone()), &mut buf).unwrap();
            prop_assert_eq!(decode(&buf[..n]).unwrap(), (LeaseChange::Grant(l), n));
        }

        #[test]
        fn prop_roundtrip6(addr in any::<u128>(), exp in any::<u64>(), iaid in any::<u32>(),
                           duid in proptest::collection::vec(any::<u8>(), 0..=255),
                           name in proptest::option::of("[a-z0-9-]{0,63}")) {
            let l = Lease6 { addr: core::net::Ipv6Addr::from(addr), iaid, duid, hostname: name, expires: exp };
            let mut buf = [0u8; MAX_RECORD];
            let n = encode(&LeaseChange::Grant6(l.clone()), &mut buf).unwrap();
            prop_assert_eq!(decode(&buf[..n]).unwrap(), (LeaseChange::Grant6(l.clone()), n));
            let n = encode(&LeaseChange::Remove6(l.addr), &mut buf).unwrap();
            prop_assert_eq!(decode(&buf[..n]).unwrap(), (LeaseChange::Remove6(l.addr), n));
        }

        #[test]
        fn prop_decode_never_panics(data in proptest::collection::vec(any::<u8>(), 0..700)) {
            let _ = decode(&data);
        }
    }
}
