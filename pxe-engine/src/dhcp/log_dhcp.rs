//! dnsmasq's `log-dhcp` lines for one exchange, so an admin who greps
//! dnsmasq's log greps ours the same way.
//!
//! [`Event::dnsmasq_lines`] renders the lines dnsmasq 2.90 logs with
//! `log-dhcp` for the same request and reply, each prefixed by the xid in
//! decimal (`rfc2131.c: log_packet, log_options, dhcp_packet_size`):
//!
//! ```text
//! 1788930123 available DHCP range: 192.168.77.100 -- 192.168.77.200
//! 1788930123 vendor class: PXEClient:Arch:00000:UNDI:002001
//! 1788930123 DHCPDISCOVER(eth0) 52:54:00:b0:07:01
//! 1788930123 tags: eth0
//! 1788930123 DHCPOFFER(eth0) 192.168.77.197 52:54:00:b0:07:01
//! 1788930123 requested options: 1:netmask, 3:router, 6:dns-server, 7:log-server,
//! 1788930123 next server: 192.168.77.1
//! 1788930123 sent size:  1 option: 53 message-type  2
//! 1788930123 sent size:  4 option: 54 server-identifier  192.168.77.1
//! ```
//!
//! The request's event line ends in a space when it has no text, as
//! dnsmasq's does. Option names and value formats are dnsmasq's
//! ([`pxe_rules::option_text()`]). Events without a request (drops,
//! the rule trace) render nothing. Formatting allocates nothing.

use core::fmt;
use core::net::Ipv4Addr;

use pxe_dhcp::{MessageType, Packet, code};
use pxe_rules::config::RangeMode;
use pxe_rules::option_text;
use pxe_rules::value::option_name;

use super::addressing::PXE_PORT;
use super::event::{Event, LeaseEvent, ReplyKind, Request, Silence};

impl<'a> Event<'a> {
    /// The lines dnsmasq would log with `log-dhcp` for this event, joined by
    /// `'\n'` (see the [module docs](self)); empty for events that carry
    /// no request.
    pub fn dnsmasq_lines(&self) -> DnsmasqLines<'_, 'a> {
        DnsmasqLines(self)
    }
}

/// See [`Event::dnsmasq_lines`].
pub struct DnsmasqLines<'e, 'a>(&'e Event<'a>);

/// Writes lines prefixed by the xid, separated by newlines.
struct Lines<'f, 'g> {
    f: &'f mut fmt::Formatter<'g>,
    xid: u32,
    first: bool,
}

impl Lines<'_, '_> {
    fn line(&mut self, args: fmt::Arguments<'_>) -> fmt::Result {
        if !self.first {
            self.f.write_str("\n")?;
        }
        self.first = false;
        write!(self.f, "{} ", self.xid)?;
        self.f.write_fmt(args)
    }
}

impl fmt::Display for DnsmasqLines<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let request = match self.0 {
            Event::Reply { request, .. }
            | Event::Ignored { request, .. }
            | Event::Silent { request, .. }
            | Event::Lease { request, .. } => request,
            _ => return Ok(()),
        };
        let mut out = Lines {
            f,
            xid: request.xid,
            first: true,
        };
        preamble(&mut out, request)?;
        match self.0 {
            Event::Reply {
                kind,
                yiaddr,
                reply,
                ..
            } => {
                let reply = Packet::new_lenient(*reply).ok();
                let reply_file = reply.as_ref().and_then(|r| r.boot_file_name());
                request_line(&mut out, request, reply_file, None)?;
                tags(&mut out, request)?;
                reply_line(&mut out, request, *kind, *yiaddr, reply.as_ref())?;
                if let Some(r) = &reply {
                    sent(&mut out, r)?;
                }
                Ok(())
            }
            Event::Ignored { .. } => {
                request_line(&mut out, request, None, Some("ignored"))?;
                tags(&mut out, request)
            }
            Event::Silent { why, .. } => {
                request_line(&mut out, request, None, None)?;
                silence(out.f, why)?;
                tags(&mut out, request)
            }
            Event::Lease { what, .. } => lease_line(&mut out, request, what),
            _ => Ok(()),
        }
    }
}

/// The lines dnsmasq logs before the event line: the ranges on the
/// arrival network, the vendor and user classes, the client's name.
fn preamble(out: &mut Lines<'_, '_>, r: &Request<'_>) -> fmt::Result {
    for (_, range) in r.decision.config().ranges() {
        if !range.same_net(r.local, r.netmask) {
            continue;
        }
        if range.mode == RangeMode::Proxy {
            let mask = range.netmask.unwrap_or(r.netmask);
            out.line(format_args!(
                "available DHCP subnet: {}/{mask}",
                range.start
            ))?;
        } else {
            out.line(format_args!(
                "available DHCP range: {} -- {}",
                range.start, range.end
            ))?;
        }
    }
    if let Some(v) = r.packet.option(code::VENDOR_CLASS) {
        out.line(format_args!("vendor class: {}", Printable(v)))?;
    }
    if let Some(u) = r.packet.option(code::USER_CLASS) {
        out.line(format_args!("user class: {}", Printable(u)))?;
    }
    if let Some(n) = r.packet.option(code::HOST_NAME) {
        out.line(format_args!("client provides name: {}", Printable(n)))?;
    }
    Ok(())
}

/// The request's event line, `TYPE(iface) [addr ]mac ` and its text
/// (`ignored` for a request the rules ignore).
fn request_line(
    out: &mut Lines<'_, '_>,
    r: &Request<'_>,
    file: Option<&[u8]>,
    ignored: Option<&str>,
) -> fmt::Result {
    let requested = r
        .packet
        .option(code::REQUESTED_IP)
        .and_then(|v| <[u8; 4]>::try_from(v).ok())
        .map(Ipv4Addr::from);
    let ciaddr = Some(r.packet.ciaddr()).filter(|a| !a.is_unspecified());
    let hw = r.client.hw;
    if is_pxe(r) {
        // dnsmasq answers PXE requests in its PXE branch, which logs them
        // as "PXE": on 67 with the word "proxy", on 4011 with the address
        // and the file sent.
        return if r.port == PXE_PORT {
            let addr = ciaddr.unwrap_or(Ipv4Addr::UNSPECIFIED);
            out.line(format_args!(
                "PXE({}) {addr} {hw} {}",
                r.iface,
                Printable(file.unwrap_or_default())
            ))
        } else {
            let text = if ignored.is_some() {
                "proxy-ignored"
            } else {
                "proxy"
            };
            out.line(format_args!("PXE({}) {hw} {text}", r.iface))
        };
    }
    let (name, addr) = match r.message {
        None => ("BOOTP", None),
        Some(MessageType::Discover) => ("DHCPDISCOVER", requested),
        Some(MessageType::Request) => ("DHCPREQUEST", requested.or(ciaddr)),
        Some(MessageType::Decline) => ("DHCPDECLINE", requested),
        Some(MessageType::Release) => ("DHCPRELEASE", ciaddr),
        Some(MessageType::Inform) => ("DHCPINFORM", ciaddr),
        Some(_) => ("DHCP", None),
    };
    let text = ignored.unwrap_or_default();
    match addr {
        Some(a) => out.line(format_args!("{name}({}) {a} {hw} {text}", r.iface)),
        None => out.line(format_args!("{name}({}) {hw} {text}", r.iface)),
    }
}

/// Whether the request was answered (or ignored) as a PXE request: on
/// 4011, or by a proxy range.
fn is_pxe(r: &Request<'_>) -> bool {
    r.port == PXE_PORT
        || r.decision
            .range()
            .is_some_and(|g| g.mode == RangeMode::Proxy)
}

/// `tags:` — the final tag set, newest first, then the interface name:
/// dnsmasq tags every request with it (the first tag set, so printed
/// last), whether or not a rule names it.
fn tags(out: &mut Lines<'_, '_>, r: &Request<'_>) -> fmt::Result {
    out.line(format_args!("tags: "))?;
    let mut iface_named = false;
    for (i, t) in r.decision.tag_names().enumerate() {
        if i > 0 {
            out.f.write_str(", ")?;
        }
        iface_named |= t == r.iface;
        out.f.write_str(t)?;
    }
    if !iface_named {
        if r.decision.tag_names().next().is_some() {
            out.f.write_str(", ")?;
        }
        out.f.write_str(r.iface)?;
    }
    Ok(())
}

/// The reply's event line (none for PXE replies: dnsmasq logs only the
/// request line there), then the requested options for OFFER and ACK.
fn reply_line(
    out: &mut Lines<'_, '_>,
    r: &Request<'_>,
    kind: ReplyKind,
    yiaddr: Ipv4Addr,
    reply: Option<&Packet<&[u8]>>,
) -> fmt::Result {
    let hw = r.client.hw;
    let iface = r.iface;
    let name = reply
        .and_then(|p| p.option(code::HOST_NAME))
        .unwrap_or_default();
    match kind {
        ReplyKind::Offer => out.line(format_args!("DHCPOFFER({iface}) {yiaddr} {hw} "))?,
        ReplyKind::Ack | ReplyKind::InformAck => out.line(format_args!(
            "DHCPACK({iface}) {yiaddr} {hw} {}",
            Printable(name)
        ))?,
        ReplyKind::Bootp => out.line(format_args!("BOOTP({iface}) {yiaddr} {hw} "))?,
        ReplyKind::Nak(reason) => {
            let addr = r.client.ip.unwrap_or(Ipv4Addr::UNSPECIFIED);
            return out.line(format_args!(
                "DHCPNAK({iface}) {addr} {hw} {}",
                reason.message()
            ));
        }
        ReplyKind::ProxyOffer | ReplyKind::ProxyAck | ReplyKind::BootServerAck => return Ok(()),
    }
    requested_options(out, r)
}

/// `requested options:` — option 55, `code:name` each, a new line once a
/// line passes 40 characters (`rfc2131.c: do_options`).
fn requested_options(out: &mut Lines<'_, '_>, r: &Request<'_>) -> fmt::Result {
    let Some(list) = r.packet.option(code::PARAMETER_REQUEST_LIST) else {
        return Ok(());
    };
    let mut width = 0usize;
    for (i, &c) in list.iter().enumerate() {
        if width == 0 {
            out.line(format_args!("requested options: "))?;
        }
        let last = i + 1 == list.len();
        let sep = if last { "" } else { ", " };
        let mut counted = Counted {
            f: &mut *out.f,
            n: 0,
        };
        match option_name(c) {
            Some(n) => fmt::Write::write_fmt(&mut counted, format_args!("{c}:{n}{sep}"))?,
            None => fmt::Write::write_fmt(&mut counted, format_args!("{c}{sep}"))?,
        }
        width += counted.n;
        if width > 40 {
            width = 0;
        }
    }
    Ok(())
}

/// What `dhcp_packet_size` logs about the reply: file and server name
/// fields, next server, a broadcast response, then every option sent.
fn sent(out: &mut Lines<'_, '_>, reply: &Packet<&[u8]>) -> fmt::Result {
    if let Some(file) = reply.file() {
        out.line(format_args!("bootfile name: {}", Printable(file)))?;
    }
    if let Some(sname) = reply.sname() {
        out.line(format_args!("server name: {}", Printable(sname)))?;
    }
    if !reply.siaddr().is_unspecified() {
        out.line(format_args!("next server: {}", reply.siaddr()))?;
    }
    if reply.flags().contains(pxe_dhcp::Flags::BROADCAST) && reply.ciaddr().is_unspecified() {
        out.line(format_args!("broadcast response"))?;
    }
    for o in reply.options().flatten() {
        let name = option_name(o.code).unwrap_or_default();
        out.line(format_args!(
            "sent size:{:3} option:{:3} {name}  {}",
            o.data.len(),
            o.code,
            option_text(o.code, o.data)
        ))?;
    }
    Ok(())
}

fn silence(f: &mut fmt::Formatter<'_>, why: &Silence) -> fmt::Result {
    // dnsmasq's words where it has them (`rfc2131.c`).
    match why {
        Silence::NoAddress(_) | Silence::LeaseMax | Silence::NoDynamicAddress => {
            f.write_str("no address available")
        }
        other => write!(f, "{other}"),
    }
}

fn lease_line(out: &mut Lines<'_, '_>, r: &Request<'_>, what: &LeaseEvent) -> fmt::Result {
    let (iface, hw) = (r.iface, r.client.hw);
    match what {
        LeaseEvent::Released(a) => out.line(format_args!("DHCPRELEASE({iface}) {a} {hw} ")),
        LeaseEvent::ReleaseUnknown(a) => {
            out.line(format_args!("DHCPRELEASE({iface}) {a} {hw} unknown lease"))
        }
        LeaseEvent::Declined(a) => out.line(format_args!("DHCPDECLINE({iface}) {a} {hw} ")),
        LeaseEvent::DeclineRefused(a) => {
            out.line(format_args!("DHCPDECLINE({iface}) {a} {hw} unknown lease"))
        }
    }
}

/// The printable characters of `bytes` (dnsmasq's `sanitise`).
struct Printable<'a>(&'a [u8]);

impl fmt::Display for Printable<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for &c in self.0.iter().filter(|c| (0x20..0x7f).contains(*c)) {
            fmt::Write::write_char(f, char::from(c))?;
        }
        Ok(())
    }
}

/// Counts the characters written through it.
struct Counted<'f, 'g> {
    f: &'f mut fmt::Formatter<'g>,
    n: usize,
}

impl fmt::Write for Counted<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.n += s.len();
        self.f.write_str(s)
    }
}
