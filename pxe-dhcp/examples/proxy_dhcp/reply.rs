//! What to answer to one request, and where: pxe-rules decides, pxe-dhcp
//! reads the request and writes the reply. No sockets here, so the tests
//! can feed it captured requests.

use std::net::{Ipv4Addr, SocketAddrV4};

use pxe_dhcp::Packet;
use pxe_rules::{Config, Context, Decision, Facts, Port, ReplyError, ServerPart, Verdict};

/// Writes the reply to `request` (received on `ctx.port` from `from`) into
/// `out` and returns its length and destination, or `None` when there is
/// nothing to send: a malformed request, a client the configuration does
/// not serve, or a request proxy mode does not answer.
pub(crate) fn answer(
    config: &Config,
    ctx: &Context<'_>,
    request: &[u8],
    from: SocketAddrV4,
    out: &mut [u8],
) -> Option<(usize, SocketAddrV4)> {
    let req = Packet::new_checked(request).ok()?;
    let facts = Facts::new(&req).ok()?;
    // The decision is answered from where it was built (`evaluate` would
    // return it, a copy of a few KiB per request).
    config.evaluate_then(&facts, ctx, |d| {
        if !matches!(d.verdict(), Verdict::Proxy | Verdict::BootServer { .. }) {
            return None;
        }
        let len = write_reply(&req, d, ctx.local, out).ok()?;
        Some((len, destination(&req, ctx.port, from)))
    })
}

/// The reply's header and options: pxe-rules writes them as dnsmasq does
/// (see `pxe_rules::reply` for every rule); the server adds only its own
/// address.
fn write_reply(
    req: &Packet<&[u8]>,
    d: &Decision<'_>,
    local: Ipv4Addr,
    out: &mut [u8],
) -> Result<usize, ReplyError> {
    Ok(d.write_reply(req, &ServerPart::new(local, None), out)?
        .finish()?)
}

/// Where the reply goes: back to the sender for port 4011, to the relay
/// when there is one, else broadcast (the client has no address yet).
fn destination(req: &Packet<&[u8]>, port: Port, from: SocketAddrV4) -> SocketAddrV4 {
    let client = if req.ciaddr().is_unspecified() {
        *from.ip()
    } else {
        req.ciaddr()
    };
    match port {
        Port::Pxe if !client.is_unspecified() => SocketAddrV4::new(client, from.port()),
        _ if !req.giaddr().is_unspecified() => SocketAddrV4::new(req.giaddr(), 67),
        _ => SocketAddrV4::new(Ipv4Addr::BROADCAST, 68),
    }
}
