//! The host name a reply gives the client (option 12, and option 81 when
//! the client sent one), chosen as dnsmasq's `rfc2131.c` chooses it:
//!
//! - the client's name is its option 81 (client FQDN) if it sent one,
//!   else its option 12, when legal (letters, digits, and `-`/`_` after
//!   the first character in the first label); only its first label is
//!   used (`strip_hostname`);
//! - a `dhcp-host` name wins over it; a client's name is dropped when a
//!   `dhcp-ignore-names` line matches, and with `dhcp-generate-names` a
//!   client without one is named after its MAC (`52-54-00-12-34-56`);
//! - an OFFER carries the `dhcp-host` name only when the client sent none,
//!   the same one, or an option 81 (dnsmasq is "careful not to send an
//!   OFFER with a hostname not matching the DISCOVER"), and the client's
//!   own name only when it came in option 81;
//! - an ACK carries the name; an INFORM's ACK also the name stored with
//!   the lease of `ciaddr` when the client has no lease of its own.
//!
//! Nothing here allocates: names are slices of the request, the
//! configuration or the lease table, or written into a caller's buffer.

use pxe_dhcp::Packet;
use pxe_rules::Decision;

use crate::lease::HwAddr;

/// Option 81, client FQDN (RFC 4702).
pub(super) const CLIENT_FQDN: u8 = 81;

/// Room for a generated name: 16 octets of hardware address as `xx-`.
pub(super) const GENERATED_MAX: usize = 16 * 3;

/// What the reply is, for the name's purposes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum NameFor {
    /// DHCPOFFER.
    Offer,
    /// DHCPACK to a REQUEST (or a rapid-commit DISCOVER).
    Ack,
    /// DHCPACK to an INFORM.
    Inform,
}

/// The name the client gave, and where it came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct ClientName<'p> {
    /// The name as sent (every label), cut at a NUL.
    pub(super) full: &'p [u8],
    /// Its first label: what dnsmasq keeps.
    pub(super) first: &'p [u8],
    /// It came in option 81.
    pub(super) fqdn: bool,
}

/// The client's name (option 81, else 12) if it is a legal host name.
pub(super) fn client_name<'p>(p: &Packet<&'p [u8]>) -> Option<ClientName<'p>> {
    let (full, fqdn): (&'p [u8], bool) = match p.option_ref(CLIENT_FQDN).filter(|o| o.len() >= 3) {
        Some(o) => {
            let (flags, name) = (o[0], &o[3..]);
            if flags & 0x04 != 0 {
                // Wire format (E bit): the first label is what is kept.
                let len = usize::from(*name.first()?);
                let label = name.get(1..1 + len)?;
                return legal_label(label).then_some(ClientName {
                    full: label,
                    first: label,
                    fqdn: true,
                });
            }
            (cut_nul(name), true)
        }
        None => (cut_nul(p.option_ref(pxe_dhcp::code::HOST_NAME)?), false),
    };
    let first = full.split(|b| *b == b'.').next().unwrap_or(full);
    let printable = full.iter().all(u8::is_ascii_graphic);
    (printable && legal_label(first)).then_some(ClientName { full, first, fqdn })
}

fn cut_nul(b: &[u8]) -> &[u8] {
    b.iter().position(|c| *c == 0).map_or(b, |i| &b[..i])
}

/// dnsmasq's `legal_hostname` on one label: letters and digits, `-` and
/// `_` but not first; never empty here (an empty name is no name).
fn legal_label(l: &[u8]) -> bool {
    !l.is_empty()
        && l.len() <= 63
        && l.iter()
            .enumerate()
            .all(|(i, c)| c.is_ascii_alphanumeric() || (i > 0 && (*c == b'-' || *c == b'_')))
}

/// The first label of a configured `dhcp-host` name (dnsmasq keeps the
/// rest as the host's domain).
fn configured<'a>(d: &'a Decision<'a>) -> Option<&'a [u8]> {
    let name = d.host()?.name.as_deref()?.as_bytes();
    let first = name.split(|b| *b == b'.').next().unwrap_or(name);
    (!first.is_empty()).then_some(first)
}

/// The name for a reply of `kind` to a request whose client named itself
/// `client`, as the rules `d` decided; `lease_name` is the name stored
/// with the lease of an INFORM's `ciaddr` when the client has no lease of
/// its own; a generated name is written into `buf`.
pub(super) fn reply_name<'a>(
    kind: NameFor,
    d: &'a Decision<'a>,
    client: Option<ClientName<'a>>,
    lease_name: Option<&'a [u8]>,
    hw: &HwAddr,
    buf: &'a mut [u8; GENERATED_MAX],
) -> Option<&'a [u8]> {
    if let Some(conf) = configured(d) {
        let offer_ok = match client {
            None => true,
            Some(c) => c.fqdn || c.full.eq_ignore_ascii_case(conf),
        };
        return (kind != NameFor::Offer || offer_ok).then_some(conf);
    }
    match kind {
        NameFor::Offer => client.filter(|c| c.fqdn).map(|c| c.first),
        NameFor::Inform => lease_name.or(client.map(|c| c.first)),
        NameFor::Ack => {
            let client = client.filter(|_| !d.ignore_names()).map(|c| c.first);
            client.or_else(|| d.generate_names().then(|| generated(hw, buf)).flatten())
        }
    }
}

/// `dhcp-generate-names`: the MAC as `52-54-00-12-34-56`.
fn generated<'b>(hw: &HwAddr, buf: &'b mut [u8; GENERATED_MAX]) -> Option<&'b [u8]> {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = hw.as_bytes();
    if bytes.is_empty() {
        return None;
    }
    let mut n = 0;
    for (i, b) in bytes.iter().take(16).enumerate() {
        if i > 0 {
            buf[n] = b'-';
            n += 1;
        }
        buf[n] = HEX[usize::from(b >> 4)];
        buf[n + 1] = HEX[usize::from(b & 0xf)];
        n += 2;
    }
    Some(&buf[..n])
}

/// The flags of the option 81 a reply carries (RFC 4702 §3.1, as dnsmasq
/// without `dhcp-client-update`): the server does the updates (S and O
/// set unless the client asked to), N cleared.
pub(super) fn fqdn_reply_flags(client_flags: u8) -> u8 {
    let mut f = client_flags;
    if f & 0x01 == 0 {
        f |= 0x03;
    }
    f & !0x08 & 0x0f
}

#[cfg(test)]
mod tests {
    use super::*;
    use pxe_dhcp::{Builder, MessageType};

    fn pkt(opts: &[(u8, &[u8])], buf: &mut [u8; 600]) -> usize {
        let mut b = Builder::new(&mut buf[..]).unwrap();
        b.xid(1).chaddr(1, &[2, 0, 0, 0, 0, 1]).unwrap();
        b.message_type(MessageType::Request).unwrap();
        for (c, v) in opts {
            b.option(*c, v).unwrap();
        }
        b.finish().unwrap()
    }

    fn name_of(opts: &[(u8, &[u8])]) -> Option<(alloc::vec::Vec<u8>, bool)> {
        let mut buf = [0u8; 600];
        let n = pkt(opts, &mut buf);
        let p = Packet::new_checked(&buf[..n]).unwrap();
        client_name(&p).map(|c| (c.first.to_vec(), c.fqdn))
    }

    #[test]
    fn client_names_as_dnsmasq_reads_them() {
        assert_eq!(name_of(&[(12, b"web1")]), Some((b"web1".to_vec(), false)));
        assert_eq!(
            name_of(&[(12, b"web1.lab.example\0")]),
            Some((b"web1".to_vec(), false))
        );
        assert_eq!(name_of(&[(12, b"-bad")]), None);
        assert_eq!(name_of(&[(12, b"has space")]), None);
        assert_eq!(name_of(&[(12, b"\0")]), None);
        // Option 81 wins, ASCII or wire format.
        assert_eq!(
            name_of(&[(12, b"twelve"), (81, b"\x00\x00\x00pc7.example")]),
            Some((b"pc7".to_vec(), true))
        );
        assert_eq!(
            name_of(&[(81, b"\x04\x00\x00\x03pc8\x07example\x00")]),
            Some((b"pc8".to_vec(), true))
        );
    }

    #[test]
    fn generated_names_and_fqdn_flags() {
        let mut buf = [0u8; GENERATED_MAX];
        let hw = HwAddr::ethernet([0x52, 0x54, 0, 0x12, 0x34, 0x56]);
        assert_eq!(generated(&hw, &mut buf), Some(&b"52-54-00-12-34-56"[..]));
        assert_eq!(fqdn_reply_flags(0x00), 0x03);
        assert_eq!(fqdn_reply_flags(0x01), 0x01);
        assert_eq!(fqdn_reply_flags(0x0c), 0x07);
    }
}
