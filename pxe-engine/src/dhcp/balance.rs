//! Load balancing among several active servers (RFC 3074, as Kea's
//! load-balancing mode does it): each client belongs to one of the live
//! servers by the hash of its hardware address; the others stay silent to
//! its DISCOVER unless its `secs` field shows it has waited.
//!
//! Which servers are live is the driver's knowledge (a heartbeat in the
//! shared lease store); what a server does with a client is decided here,
//! from its [`Share`].

/// RFC 3074 §6: a "mixing table" of 256 distinct values in pseudo-random
/// order, for the Pearson hash of [`bucket`].
const MIX: [u8; 256] = [
    251, 175, 119, 215, 81, 14, 79, 191, 103, 49, 181, 143, 186, 157, 0, 232, 31, 32, 55, 60, 152,
    58, 17, 237, 174, 70, 160, 144, 220, 90, 57, 223, 59, 3, 18, 140, 111, 166, 203, 196, 134, 243,
    124, 95, 222, 179, 197, 65, 180, 48, 36, 15, 107, 46, 233, 130, 165, 30, 123, 161, 209, 23, 97,
    16, 40, 91, 219, 61, 100, 10, 210, 109, 250, 127, 22, 138, 29, 108, 244, 67, 207, 9, 178, 204,
    74, 98, 126, 249, 167, 116, 34, 77, 193, 200, 121, 5, 20, 113, 71, 35, 128, 13, 182, 94, 25,
    226, 227, 199, 75, 27, 41, 245, 230, 224, 43, 225, 177, 26, 155, 150, 212, 142, 218, 115, 241,
    73, 88, 105, 39, 114, 62, 255, 192, 201, 145, 214, 168, 158, 221, 148, 154, 122, 12, 84, 82,
    163, 44, 139, 228, 236, 205, 242, 217, 11, 187, 146, 159, 64, 86, 239, 195, 42, 106, 198, 118,
    112, 184, 172, 87, 2, 173, 117, 176, 229, 247, 253, 137, 185, 99, 164, 102, 147, 45, 66, 231,
    52, 141, 211, 194, 206, 246, 238, 56, 110, 78, 248, 63, 240, 189, 93, 92, 51, 53, 183, 19, 171,
    72, 50, 33, 104, 101, 69, 8, 252, 83, 120, 76, 135, 85, 54, 202, 125, 188, 213, 96, 235, 136,
    208, 162, 129, 190, 132, 156, 38, 47, 1, 7, 254, 24, 4, 216, 131, 89, 21, 28, 133, 37, 153,
    149, 80, 170, 68, 6, 169, 234, 151,
];

/// The RFC 3074 hash bucket (0–255) of a hardware address: the Pearson
/// hash `loadb_p_hash`, seeded with the key's length and run from its
/// last byte to its first.
pub fn bucket(key: &[u8]) -> u8 {
    let mut h = key.len() as u8;
    for b in key.iter().rev() {
        h = MIX[usize::from(h ^ b)];
    }
    h
}

/// `load-balance-wait=` when not given: a client that has waited 3 s
/// is answered by every live server.
pub const DEFAULT_WAIT_SECS: u16 = 3;

/// This server's share of the clients: it is number `index` of `servers`
/// live servers (ordered the same way by all of them). A client whose
/// bucket modulo `servers` is `index` is this server's; any other client
/// is answered only once its `secs` reaches `wait_secs`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Share {
    /// This server's position among the live servers.
    pub index: u16,
    /// How many servers are live (at least 1).
    pub servers: u16,
    /// `secs` from which a client of another server is answered anyway.
    pub wait_secs: u16,
}

impl Share {
    /// The share of a server alone: every client.
    pub const ALONE: Share = Share {
        index: 0,
        servers: 1,
        wait_secs: 0,
    };

    /// Whether the client with hardware address `hw`, `secs` seconds into
    /// its attempt, is to be answered by this server.
    pub fn answers(&self, hw: &[u8], secs: u16) -> bool {
        let servers = self.servers.max(1);
        u16::from(bucket(hw)) % servers == self.index % servers
            || (self.wait_secs > 0 && secs >= self.wait_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mixing_table_is_a_permutation() {
        let mut seen = [false; 256];
        for v in MIX {
            assert!(!seen[usize::from(v)], "{v} twice");
            seen[usize::from(v)] = true;
        }
    }

    #[test]
    fn bucket_is_the_rfc_3074_pearson_hash() {
        // Worked by hand from the table: the empty key hashes to its
        // length, 0; one byte k to MIX[1 ^ k].
        assert_eq!(bucket(&[]), 0);
        assert_eq!(bucket(&[0]), MIX[1]);
        assert_eq!(bucket(&[1]), MIX[0]);
        assert_eq!(bucket(&[0, 0]), MIX[usize::from(MIX[2])]);
    }

    #[test]
    fn every_client_has_exactly_one_server_and_shares_are_even() {
        let mut per = [0u32; 3];
        for n in 0..3000u32 {
            let hw = [0x52, 0x54, 0, (n >> 16) as u8, (n >> 8) as u8, n as u8];
            let who: usize = (0..3u16)
                .filter(|&i| {
                    Share {
                        index: i,
                        servers: 3,
                        wait_secs: 3,
                    }
                    .answers(&hw, 0)
                })
                .map(usize::from)
                .sum();
            let count = (0..3u16)
                .filter(|&i| {
                    Share {
                        index: i,
                        servers: 3,
                        wait_secs: 3,
                    }
                    .answers(&hw, 0)
                })
                .count();
            assert_eq!(count, 1, "{hw:?}");
            per[who] += 1;
            // Once it has waited, everyone answers.
            assert!((0..3u16).all(|i| {
                Share {
                    index: i,
                    servers: 3,
                    wait_secs: 3,
                }
                .answers(&hw, 3)
            }));
        }
        assert!(per.iter().all(|&c| c > 800), "{per:?}");
        assert!((0..100u8).all(|n| Share::ALONE.answers(&[n], 0)));
    }
}
