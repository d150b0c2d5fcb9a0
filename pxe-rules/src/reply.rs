//! Writing a [`Decision`] as a reply: the header rules, the order of the
//! options, and the split between what the rules decide and what the
//! server adds ([`ServerPart`]).
//!
//! [`Decision::write_reply`] is the one place these rules live; a server
//! built from `pxe-dhcp` and `pxe-rules` that calls it answers as
//! dnsmasq 2.90 does, byte for byte (the captures in `pxe-dhcp/tests/captures`
//! are replayed through it in `tests/reply.rs`).
//!
//! # Header
//!
//! Every reply: `op` 2; `xid`, `htype`, `hlen`, `chaddr`, `giaddr` and
//! `flags` copied from the request; `secs` and `hops` echoed (dnsmasq
//! answers in the request's own buffer and leaves them as they were); the
//! size limit is the request's option 57 (never below 576); short replies
//! are padded with zeros to 300 bytes. Then, by [`Verdict`]:
//!
//! | verdict | `yiaddr` | `ciaddr` | `flags` |
//! |---|---|---|---|
//! | [`Verdict::Full`] | [`ServerPart::yiaddr`] | the request's; 0 for a DISCOVER or a request with option 50 | as sent |
//! | [`Verdict::Proxy`] | 0 | 0 for a DISCOVER, else the request's | BROADCAST added when `ciaddr` is 0 |
//! | [`Verdict::BootServer`] | the request's `ciaddr` | 0 | as sent |
//!
//! `siaddr` is [`Decision::next_server`]; `file` and `sname` are
//! [`Decision::file`] and [`Decision::sname`].
//!
//! # Options, in dnsmasq's order
//!
//! - Full DHCP: 53 ([`ServerPart::message_type`]), 54 ([`ServerPart::address`]),
//!   80 when [`ServerPart::rapid_commit`], 51, the rules' 66/67
//!   ([`Decision::boot_options`], NUL-terminated), 58 and 59, the
//!   server's built-ins ([`Builtins`]: 1 and 28 always, 3, 6, 15 and 12
//!   only when the client asked for them or sent no option 55, each left
//!   out when [`Decision::overrides_builtin`]), the rules' options
//!   ([`Decision::options`]), then the request's option 82, copied
//!   verbatim and last.
//! - BOOTP (a full verdict without a message type): the server's
//!   built-ins and option 82; the rules' boot file travels in the header
//!   (a request without option 55 gets no 66/67 options).
//! - Proxy: 53 (OFFER for a DISCOVER, else ACK), 54, the rules' options
//!   (60, 97, 43), 82. Nothing else: no lease, no built-ins.
//! - Boot server: 53 ACK, 54, the rules' options (60, 97, 43 with the
//!   boot item), 82.
//!
//! # What the server adds
//!
//! The rules never choose a lease, its times, the server's address or
//! the built-in values; the engine (or any server) supplies them in a
//! [`ServerPart`], and the writer places them.

use core::net::Ipv4Addr;

use pxe_dhcp::{Builder, Flags, MessageType, Packet, code};

use crate::decision::{Decision, IgnoreReason, Verdict};

/// Option 80, Rapid Commit (RFC 4039): empty.
const RAPID_COMMIT: u8 = 80;

/// Why a decision could not be written as a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ReplyError {
    /// The rules ignore the request: there is no reply to write.
    #[error("the rules ignore this request ({0:?})")]
    Ignored(IgnoreReason),
    /// The reply does not fit the buffer or the client's size limit.
    #[error(transparent)]
    Dhcp(#[from] pxe_dhcp::Error),
}

/// What the server adds to a reply: everything the rules do not decide.
#[derive(Debug, Clone, Copy)]
pub struct ServerPart<'s> {
    /// The server's own address on the arrival network (`local`): option
    /// 54, and the next server of a proxy reply that carries a boot file
    /// but names no server.
    pub address: Ipv4Addr,
    /// Option 53 of a full reply (OFFER, ACK, ...), chosen by the server's
    /// lease handling; `None` answers BOOTP. Proxy and boot-server replies
    /// ignore it (their type follows from the request).
    pub message_type: Option<MessageType>,
    /// `yiaddr` of a full reply: the address leased (0 for an INFORM).
    pub yiaddr: Ipv4Addr,
    /// [`Decision::siaddr_host`] as the server resolved it (its hosts
    /// file); `None` when unresolved (the reply then says `0.0.0.0`).
    pub next_server: Option<Ipv4Addr>,
    /// Add option 80 after 54 (an ACK to a DISCOVER, RFC 4039).
    pub rapid_commit: bool,
    /// Options 51, 58 and 59 of a full reply.
    pub lease: Option<LeaseTimes>,
    /// The server's built-in options of a full reply.
    pub builtins: Builtins<'s>,
}

impl ServerPart<'_> {
    /// A server part with only the server's address and option 53: no
    /// lease, no built-ins (what proxy and boot-server replies need).
    pub fn new(address: Ipv4Addr, message_type: Option<MessageType>) -> Self {
        ServerPart {
            address,
            message_type,
            yiaddr: Ipv4Addr::UNSPECIFIED,
            next_server: None,
            rapid_commit: false,
            lease: None,
            builtins: Builtins::default(),
        }
    }
}

/// Lease time (option 51) and, when finite, T1 and T2 (58, 59).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseTimes {
    /// Option 51, seconds (`u32::MAX` = infinite).
    pub lease: u32,
    /// Options 58 and 59, seconds.
    pub renewal: Option<(u32, u32)>,
}

/// The values of the server's built-in options (dnsmasq's `do_options`
/// defaults), each `None` when the server has none to send.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Builtins<'s> {
    /// Option 1, sent whether or not requested.
    pub subnet_mask: Option<Ipv4Addr>,
    /// Option 28, sent whether or not requested.
    pub broadcast: Option<Ipv4Addr>,
    /// Option 3 (the server or the relay), only when requested.
    pub router: Option<Ipv4Addr>,
    /// Option 6 (a DNS server), only when requested.
    pub dns_server: Option<Ipv4Addr>,
    /// Option 15, only when requested.
    pub domain: Option<&'s [u8]>,
    /// Option 12, the client's host name as the server chose it (the
    /// `dhcp-host` name or the client's own), only when requested.
    pub hostname: Option<&'s [u8]>,
    /// The flags of the option 81 (client FQDN, RFC 4702) to answer with
    /// when the client sent one and there is a `hostname`: sent whether or
    /// not requested, with the hostname and `domain`.
    pub fqdn_flags: Option<u8>,
}

impl Decision<'_> {
    /// Writes the reply to `request` into `out`, header and options, by
    /// the rules in [the module docs](crate::reply), and returns the
    /// builder ready for [`Builder::finish`] (append nothing more: option
    /// 82 must stay last).
    pub fn write_reply<'b, T: AsRef<[u8]>>(
        &self,
        request: &Packet<T>,
        server: &ServerPart<'_>,
        out: &'b mut [u8],
    ) -> Result<Builder<'b>, ReplyError> {
        if let Verdict::Ignore(reason) = self.verdict {
            return Err(ReplyError::Ignored(reason));
        }
        let mut b = Builder::reply_to(request, out)?;
        self.write_header(request, server, &mut b)?;
        let message_type = self.reply_message_type(request, server);
        if let Some(mt) = message_type {
            b.message_type(mt)?;
            b.server_id(server.address)?;
        }
        if self.verdict == Verdict::Full {
            self.write_lease_and_builtins(request, server, &mut b)?;
        }
        if message_type.is_some() {
            self.write_options(&mut b)?;
        }
        b.copy_option(request, code::RELAY_AGENT_INFO)?;
        Ok(b)
    }

    /// `siaddr` of a reply: [`Decision::siaddr`], or the resolved
    /// [`Decision::siaddr_host`]; and pxe-server's one deviation from
    /// dnsmasq: a proxy reply that carries a boot file but names no server
    /// gets the server's own address, so iPXE accepts it (dnsmasq sends
    /// `0.0.0.0` and iPXE ignores the offer).
    pub fn next_server(&self, server: &ServerPart<'_>) -> Ipv4Addr {
        let configured = match self.siaddr_host {
            Some(_) => server.next_server.unwrap_or(Ipv4Addr::UNSPECIFIED),
            None => self.siaddr,
        };
        let proxy_file_without_server = self.verdict == Verdict::Proxy
            && configured.is_unspecified()
            && self.siaddr_host.is_none()
            && self.file().is_some();
        if proxy_file_without_server {
            server.address
        } else {
            configured
        }
    }

    /// Writes the rules' 66 and 67 (NUL-terminated), as a full reply
    /// carries them after option 51.
    pub fn write_boot_options(&self, b: &mut Builder<'_>) -> Result<(), pxe_dhcp::Error> {
        for (code, text) in self.boot_options() {
            b.option_parts(code, [text, &[0][..]])?;
        }
        Ok(())
    }

    /// Writes the rules' options ([`Decision::options`]) in order.
    pub fn write_options(&self, b: &mut Builder<'_>) -> Result<(), pxe_dhcp::Error> {
        for o in self.options() {
            o.write(b)?;
        }
        Ok(())
    }

    /// The header fields that depend on the verdict, `siaddr`, `file` and
    /// `sname` (the rest came with [`Builder::reply_to`]).
    fn write_header<T: AsRef<[u8]>>(
        &self,
        request: &Packet<T>,
        server: &ServerPart<'_>,
        b: &mut Builder<'_>,
    ) -> Result<(), pxe_dhcp::Error> {
        b.secs(request.secs()).hops(request.hops());
        let request_type = request.message_type().ok().flatten();
        match self.verdict {
            Verdict::Full => {
                b.yiaddr(server.yiaddr);
                // dnsmasq answers in the request's buffer: `ciaddr` stays,
                // but is zeroed in a DISCOVER or next to an option 50.
                let zeroed = request_type == Some(MessageType::Discover)
                    || request.option(code::REQUESTED_IP).is_some();
                if !zeroed {
                    b.ciaddr(request.ciaddr());
                }
            }
            Verdict::Proxy => {
                let ciaddr = match request_type {
                    Some(MessageType::Discover) => Ipv4Addr::UNSPECIFIED,
                    _ => request.ciaddr(),
                };
                b.ciaddr(ciaddr);
                if ciaddr.is_unspecified() {
                    b.flags(request.flags() | Flags::BROADCAST);
                }
            }
            Verdict::BootServer { .. } => {
                b.yiaddr(request.ciaddr());
            }
            Verdict::Ignore(_) => {}
        }
        b.siaddr(self.next_server(server));
        if let Some(f) = self.file() {
            b.file(f)?;
        }
        if let Some(s) = self.sname() {
            b.sname(s)?;
        }
        Ok(())
    }

    /// Option 53: the server's for full replies, else OFFER for a
    /// DISCOVER and ACK for anything else.
    fn reply_message_type<T: AsRef<[u8]>>(
        &self,
        request: &Packet<T>,
        server: &ServerPart<'_>,
    ) -> Option<MessageType> {
        match self.verdict {
            Verdict::Full => server.message_type,
            Verdict::Proxy
                if request.message_type().ok().flatten() == Some(MessageType::Discover) =>
            {
                Some(MessageType::Offer)
            }
            _ => Some(MessageType::Ack),
        }
    }

    /// 80, 51, the rules' 66/67, 58, 59 and the built-ins of a full reply.
    fn write_lease_and_builtins<T: AsRef<[u8]>>(
        &self,
        request: &Packet<T>,
        server: &ServerPart<'_>,
        b: &mut Builder<'_>,
    ) -> Result<(), pxe_dhcp::Error> {
        if server.rapid_commit {
            b.option(RAPID_COMMIT, &[])?;
        }
        if let Some(l) = server.lease {
            b.lease_time(l.lease)?;
        }
        self.write_boot_options(b)?;
        if let Some((t1, t2)) = server.lease.and_then(|l| l.renewal) {
            b.u32_option(code::RENEWAL_TIME, t1)?;
            b.u32_option(code::REBINDING_TIME, t2)?;
        }
        // `in_list`: no option 55 means "send everything".
        let prl = request.option(code::PARAMETER_REQUEST_LIST);
        let wanted = |c: u8| prl.is_none_or(|l| l.contains(&c));
        let builtins = &server.builtins;
        let addresses = [
            (code::SUBNET_MASK, builtins.subnet_mask, true),
            (code::BROADCAST, builtins.broadcast, true),
            (code::ROUTER, builtins.router, wanted(code::ROUTER)),
            (
                code::DNS_SERVERS,
                builtins.dns_server,
                wanted(code::DNS_SERVERS),
            ),
        ];
        for (c, value, send) in addresses {
            if let Some(a) = value.filter(|_| send && !self.overrides_builtin(c)) {
                b.ipv4_option(c, a)?;
            }
        }
        // dnsmasq's `borken_opt`: a client whose option 12 ended in NUL
        // gets NUL-terminated strings back.
        let nul: &[u8] = match request.option(code::HOST_NAME) {
            Some([.., 0]) => &[0],
            _ => &[],
        };
        let texts = [
            (code::DOMAIN_NAME, builtins.domain),
            (code::HOST_NAME, builtins.hostname),
        ];
        for (c, value) in texts {
            if let Some(t) = value.filter(|_| wanted(c) && !self.overrides_builtin(c)) {
                b.option_parts(c, [t, nul])?;
            }
        }
        if let (Some(host), Some(flags)) = (builtins.hostname, builtins.fqdn_flags) {
            write_fqdn(b, flags, host, builtins.domain, nul)?;
        }
        Ok(())
    }
}

/// Option 81, client FQDN, in the reply (dnsmasq's `do_options`): flags,
/// two RCODE bytes of 255, then `host[.domain]` — as DNS labels (ending in
/// a zero label only with a domain) when the E bit (0x04) is set, else as
/// text, NUL-terminated for a client whose option 12 was. Left out when
/// it cannot fit one option (a `domain=` of over 180 characters), as
/// dnsmasq leaves out what has no room.
fn write_fqdn(
    b: &mut Builder<'_>,
    flags: u8,
    host: &[u8],
    domain: Option<&[u8]>,
    nul: &[u8],
) -> Result<(), pxe_dhcp::Error> {
    const FQDN: u8 = 81;
    let mut buf = [0u8; 255];
    let mut n = 0;
    let mut fits = true;
    let mut put = |bytes: &[u8]| match buf.get_mut(n..n + bytes.len()) {
        Some(dst) => {
            dst.copy_from_slice(bytes);
            n += bytes.len();
        }
        None => fits = false,
    };
    put(&[flags & 0x0f, 255, 255]);
    if flags & 0x04 != 0 {
        let names = [Some(host), domain];
        for label in names
            .iter()
            .flatten()
            .flat_map(|s| s.split(|c| *c == b'.'))
            .filter(|l| !l.is_empty())
        {
            match u8::try_from(label.len()) {
                // A DNS label has at most 63 bytes.
                Ok(len) if len <= 63 => {
                    put(&[len]);
                    put(label);
                }
                // More than the option holds: marks it as not fitting.
                _ => put(&[0; 256]),
            }
        }
        if domain.is_some() {
            put(&[0]);
        }
    } else {
        put(host);
        if let Some(d) = domain {
            put(b".");
            put(d);
        }
        put(nul);
    }
    if !fits {
        return Ok(());
    }
    b.option(FQDN, &buf[..n])?;
    Ok(())
}
