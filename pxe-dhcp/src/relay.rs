//! Option 82: relay agent information (RFC 3046).

use core::net::Ipv4Addr;

use crate::error::Error;
use crate::options::{SubOptions, code};

/// Relay agent sub-option codes.
pub mod sub {
    /// Agent circuit id (RFC 3046).
    pub const CIRCUIT_ID: u8 = 1;
    /// Agent remote id (RFC 3046).
    pub const REMOTE_ID: u8 = 2;
    /// Link selection (RFC 3527).
    pub const LINK_SELECTION: u8 = 5;
    /// Subscriber id (RFC 3993).
    pub const SUBSCRIBER_ID: u8 = 6;
    /// Server identifier override (RFC 5107).
    pub const SERVER_ID_OVERRIDE: u8 = 11;
    /// Virtual subnet selection (RFC 6607).
    pub const VIRTUAL_SUBNET_SELECTION: u8 = 151;
}

/// Option 82 as a list of sub-options. RFC 3046 sub-options have no pad or
/// end codes: every byte belongs to a TLV.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RelayAgentInfo<'a>(&'a [u8]);

impl<'a> RelayAgentInfo<'a> {
    /// Checks the framing of every sub-option in `data`.
    #[inline]
    pub fn parse(data: &'a [u8]) -> Result<Self, Error> {
        SubOptions::new(code::RELAY_AGENT_INFO, data, false).validate()?;
        Ok(RelayAgentInfo(data))
    }
    /// The raw value (echo it back unchanged in replies, RFC 3046 2.2).
    #[inline]
    pub fn as_bytes(&self) -> &'a [u8] {
        self.0
    }
    /// Every sub-option, borrowed.
    #[inline]
    pub fn iter(&self) -> SubOptions<'a> {
        SubOptions::new(code::RELAY_AGENT_INFO, self.0, false)
    }
    /// The first sub-option `code`, raw.
    #[inline]
    pub fn get(&self, code: u8) -> Option<&'a [u8]> {
        self.iter().find(code)
    }
    /// Sub-option 1, the circuit id.
    #[inline]
    pub fn circuit_id(&self) -> Option<&'a [u8]> {
        self.get(sub::CIRCUIT_ID)
    }
    /// Sub-option 2, the remote id.
    #[inline]
    pub fn remote_id(&self) -> Option<&'a [u8]> {
        self.get(sub::REMOTE_ID)
    }
    /// Sub-option 6, the subscriber id.
    #[inline]
    pub fn subscriber_id(&self) -> Option<&'a [u8]> {
        self.get(sub::SUBSCRIBER_ID)
    }
    /// Sub-option 5, the link selection subnet.
    #[inline]
    pub fn link_selection(&self) -> Result<Option<Ipv4Addr>, Error> {
        self.ipv4(sub::LINK_SELECTION)
    }
    /// Sub-option 11, the server identifier override.
    #[inline]
    pub fn server_id_override(&self) -> Result<Option<Ipv4Addr>, Error> {
        self.ipv4(sub::SERVER_ID_OVERRIDE)
    }
    #[inline]
    fn ipv4(&self, code: u8) -> Result<Option<Ipv4Addr>, Error> {
        self.get(code)
            .map(|d| match d {
                [a, b, c, e] => Ok(Ipv4Addr::new(*a, *b, *c, *e)),
                _ => Err(Error::BadLength {
                    code,
                    len: d.len(),
                    expected: "4 (an IPv4 address)",
                }),
            })
            .transpose()
    }
}
