//! What the HTTP service asks about a client ([`ClientLookup`]) and tells
//! about each request it answered ([`AccessObserver`]).

use std::net::SocketAddr;
use std::string::String;
use std::vec::Vec;

use pxe_engine::script::MacAddr;

/// What the DHCP side knows about a client, for script rendering.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientFacts {
    /// Architecture (option 93).
    pub arch: Option<u16>,
    /// Host name (from the lease or the configuration).
    pub hostname: Option<String>,
    /// Tags the rules set for the client's last request.
    pub tags: Vec<String>,
}

/// Where the HTTP service asks about a client by MAC (the server wires
/// this to its DHCP engine).
pub trait ClientLookup: Send + Sync {
    /// Facts about the client with this MAC, if known.
    fn lookup(&self, mac: &MacAddr) -> Option<ClientFacts>;
}

/// One answered request, as given to an [`AccessObserver`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessRecord {
    /// Client address.
    pub peer: SocketAddr,
    /// Local address the request came in on.
    pub local: SocketAddr,
    /// Request method.
    pub method: String,
    /// Request target (path and query) as received.
    pub target: String,
    /// Response status.
    pub status: u16,
    /// Body bytes announced (Content-Length of the response).
    pub length: u64,
}

/// Receives one [`AccessRecord`] per answered request (after it was
/// logged).
pub trait AccessObserver: Send + Sync {
    /// Called once per request.
    fn record(&self, record: &AccessRecord);
}
