//! Addresses in and datagrams out: what a driver tells the endpoint about
//! where a datagram arrived, and what the endpoint tells the driver to send.

use core::net::{IpAddr, SocketAddr};

/// Most datagrams one [`Transmit`] carries: the Linux `UDP_SEGMENT` limit
/// (`UDP_MAX_SEGMENTS`).
pub const MAX_SEGMENTS: usize = 64;

/// Most bytes one [`Transmit`] carries: one IPv4 UDP datagram's worth, less
/// headroom (a segmented send is one datagram to the kernel).
pub const MAX_SEGMENTED_BYTES: usize = 65_000;

/// A local address as the driver sees it: the address and port a datagram
/// arrived on (or leaves from), and the interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Local {
    /// The local IP address (the one the client sent to, or the interface's
    /// own address for a broadcast). Unspecified lets the driver's stack
    /// choose.
    pub addr: IpAddr,
    /// The local UDP port: the request port, or a transfer's own port.
    pub port: u16,
    /// The interface index, or any number the driver uses to pick the link
    /// a reply leaves on; the endpoint only hands it back. 0 when there is
    /// one link.
    pub interface: u32,
}

impl Local {
    /// The same address and interface with another port.
    #[must_use]
    pub fn with_port(self, port: u16) -> Local {
        Local { port, ..self }
    }
}

/// Where a [`Transmit`] leaves from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// From this local address and port: the request port or a transfer's
    /// port (its TID).
    Port(Local),
    /// From a port of its own on this local address, neither the request
    /// port nor a running transfer's (RFC 1350: the answer to a request
    /// comes from a new TID). The port of the [`Local`] is the request
    /// port being answered; a driver sends from a one-off socket.
    NewPort(Local),
}

impl Source {
    /// The local address (and, for [`Source::Port`], the port) to send from.
    pub fn local(&self) -> &Local {
        match self {
            Source::Port(l) | Source::NewPort(l) => l,
        }
    }
}

/// One datagram, or a run of datagrams, to send: written by the endpoint
/// into the caller's buffer at `buf[..len]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use = "the datagrams are in the buffer and must be sent"]
pub struct Transmit {
    /// Where it leaves from.
    pub source: Source,
    /// Where it goes.
    pub destination: SocketAddr,
    /// Bytes written.
    pub len: usize,
    /// `Some(size)` when `len` holds several datagrams (a window of DATA
    /// blocks): each is `size` bytes, the last possibly shorter — exactly
    /// what one `sendmsg` with `UDP_SEGMENT = size` sends. `None`: one
    /// datagram of `len` bytes.
    pub segment_size: Option<usize>,
}

impl Transmit {
    /// The datagrams one by one, for a driver that cannot segment.
    pub fn datagrams<'b>(&self, buf: &'b [u8]) -> impl Iterator<Item = &'b [u8]> + use<'b> {
        let bytes = buf.get(..self.len).unwrap_or(buf);
        let size = self.segment_size.unwrap_or(self.len).max(1);
        bytes.chunks(size)
    }

    /// How many datagrams it carries.
    pub fn count(&self) -> usize {
        match self.segment_size {
            Some(s) if s > 0 => self.len.div_ceil(s),
            _ => 1,
        }
    }
}
