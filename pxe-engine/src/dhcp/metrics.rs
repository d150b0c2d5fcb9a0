//! Counters kept by the engine and the drivers.

use core::fmt;

use pxe_dhcp::MessageType;

use super::event::ReplyKind;

/// Why a datagram was dropped without an answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DropReason {
    /// Shorter than the 236-byte BOOTP header.
    TooShort,
    /// `op` is not BOOTREQUEST.
    NotRequest,
    /// `hlen` over 16, or `htype` 0 with `hlen` not 0.
    BadHardwareAddress,
    /// An option is badly framed, or a needed option has a bad length.
    BadOptions,
    /// Option 53 carries a value this server does not handle.
    UnknownMessageType,
    /// A message type a server never receives (OFFER, ACK, NAK).
    ServerMessage,
    /// No configured range for the network it arrived on.
    NoRange,
    /// Addressed to another server (option 54).
    OtherServer,
    /// Ignored on purpose (`dhcp-ignore`, proxy rules not met, BOOTP).
    Ignored,
    /// Not for this server's state (unknown lease, not authoritative).
    NotOurs,
    /// The reply could not be built (buffer).
    ReplyTooBig,
}

impl DropReason {
    /// Every reason, for reports.
    pub const ALL: [DropReason; 11] = [
        DropReason::TooShort,
        DropReason::NotRequest,
        DropReason::BadHardwareAddress,
        DropReason::BadOptions,
        DropReason::UnknownMessageType,
        DropReason::ServerMessage,
        DropReason::NoRange,
        DropReason::OtherServer,
        DropReason::Ignored,
        DropReason::NotOurs,
        DropReason::ReplyTooBig,
    ];

    /// Whether the datagram was malformed (as opposed to well-formed but
    /// not for us).
    pub fn is_malformed(self) -> bool {
        matches!(
            self,
            DropReason::TooShort
                | DropReason::NotRequest
                | DropReason::BadHardwareAddress
                | DropReason::BadOptions
                | DropReason::UnknownMessageType
        )
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for DropReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DropReason::TooShort => "shorter than a BOOTP header",
            DropReason::NotRequest => "not a BOOTREQUEST",
            DropReason::BadHardwareAddress => "bad hardware address length/type",
            DropReason::BadOptions => "malformed options",
            DropReason::UnknownMessageType => "unknown DHCP message type",
            DropReason::ServerMessage => "server-to-client message type",
            DropReason::NoRange => "no DHCP range for this network",
            DropReason::OtherServer => "addressed to another server",
            DropReason::Ignored => "ignored by configuration",
            DropReason::NotOurs => "no lease here and not authoritative",
            DropReason::ReplyTooBig => "reply does not fit the buffer",
        })
    }
}

/// DHCP counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Metrics {
    /// Datagrams handed to the engine.
    pub received: u64,
    /// Replies produced.
    pub replies: u64,
    /// DHCPOFFERs sent in full mode.
    pub offers: u64,
    /// DHCPACKs sent in full mode (including INFORM answers).
    pub acks: u64,
    /// DHCPNAKs sent.
    pub naks: u64,
    /// Proxy OFFERs/ACKs sent.
    pub proxy_replies: u64,
    /// Boot-server (4011, sub-option 71) answers sent.
    pub boot_server_replies: u64,
    /// RELEASEs applied.
    pub releases: u64,
    /// DECLINEs applied.
    pub declines: u64,
    /// Claims a shared lease store refused (another server's client held
    /// the address): the reply was withheld and the table corrected.
    pub store_refusals: u64,
    /// Requests left unanswered because they needed the shared store while
    /// it could not be reached (degraded mode).
    pub store_down_refusals: u64,
    /// ACKs of known leases written from the table while the shared store
    /// could not be reached (degraded mode).
    pub acks_from_cache: u64,
    drops: [u64; 11],
    /// Requests read, by message type ([`Metrics::received_as`]).
    by_type: [u64; RECEIVED_KINDS],
    /// Replies sent, by kind ([`Metrics::sent_as`]).
    by_reply: [u64; REPLY_KINDS],
}

/// The message types requests are counted under: BOOTP, then DHCP types
/// 1–8, then any other value.
const RECEIVED_KINDS: usize = 10;

/// The reply kinds replies are counted under (NAKs as one).
const REPLY_KINDS: usize = 8;

/// What a counted request was, for [`Metrics::received_as`].
fn received_index(mt: Option<MessageType>) -> usize {
    match mt {
        None => 0,
        Some(MessageType::Discover) => 1,
        Some(MessageType::Offer) => 2,
        Some(MessageType::Request) => 3,
        Some(MessageType::Decline) => 4,
        Some(MessageType::Ack) => 5,
        Some(MessageType::Nak) => 6,
        Some(MessageType::Release) => 7,
        Some(MessageType::Inform) => 8,
        Some(MessageType::Other(_)) => 9,
    }
}

fn reply_index(kind: ReplyKind) -> usize {
    match kind {
        ReplyKind::Offer => 0,
        ReplyKind::Ack => 1,
        ReplyKind::InformAck => 2,
        ReplyKind::Nak(_) => 3,
        ReplyKind::Bootp => 4,
        ReplyKind::ProxyOffer => 5,
        ReplyKind::ProxyAck => 6,
        ReplyKind::BootServerAck => 7,
    }
}

impl Metrics {
    /// Count a drop; returns how many drops of this reason there were
    /// before (0 for the first), so callers can log the first one loudly.
    pub fn drop(&mut self, r: DropReason) -> u64 {
        let c = &mut self.drops[r.index()];
        let before = *c;
        *c += 1;
        before
    }

    /// Drops counted for `r`.
    pub fn drops(&self, r: DropReason) -> u64 {
        self.drops[r.index()]
    }

    /// Drops of malformed datagrams.
    pub fn malformed(&self) -> u64 {
        DropReason::ALL
            .iter()
            .filter(|r| r.is_malformed())
            .map(|r| self.drops(*r))
            .sum()
    }

    /// All drops.
    pub fn dropped(&self) -> u64 {
        self.drops.iter().sum()
    }

    /// Count a request whose header and message type were read.
    pub fn count_received(&mut self, mt: Option<MessageType>) {
        let c = &mut self.by_type[received_index(mt)];
        *c = c.saturating_add(1);
    }

    /// Requests read with this message type (`None`: BOOTP). Every type
    /// outside 1–8 counts as one (`MessageType::Other`, whatever its
    /// value); requests dropped before their type was read count under
    /// none.
    pub fn received_as(&self, mt: Option<MessageType>) -> u64 {
        self.by_type[received_index(mt)]
    }

    /// Count a reply that was built.
    pub fn count_sent(&mut self, kind: ReplyKind) {
        let c = &mut self.by_reply[reply_index(kind)];
        *c = c.saturating_add(1);
    }

    /// Replies of this kind sent (every NAK reason counts as one).
    pub fn sent_as(&self, kind: ReplyKind) -> u64 {
        self.by_reply[reply_index(kind)]
    }
}
