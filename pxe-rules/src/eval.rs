//! Evaluation: facts + context → [`Decision`], in dnsmasq's order
//! (`rfc2131.c: dhcp_reply`, `do_options`, `pxe_opts`, `find_boot`,
//! `pxe_uefi_workaround`; `dhcp-common.c: option_filter`, `run_tag_if`,
//! `match_bytes`). Nothing here allocates.

use core::net::Ipv4Addr;

use crate::config::*;
use crate::facts::{Context, Facts, Port};
use crate::tags::{CondFailure, TagId, TagSet, check};
use crate::trace::{Event, NoTrace, Outcome, TagSource, Tracer};
use crate::value::ValueKind;

/// Capacity of the decision's scratch buffer for composed options.
pub const SCRATCH: usize = 1024;
/// Most options a decision can list.
pub const MAX_OPTIONS: usize = 64;

/// What the server should do with the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// A full DHCP reply (OFFER/ACK/... as the message type requires).
    Full,
    /// A proxyDHCP reply: OFFER for DISCOVER, ACK for REQUEST; `yiaddr`
    /// stays 0; only options 53, 54 and [`Decision::options`].
    Proxy,
    /// A PXE boot-server ACK (43 sub-option 71): `yiaddr = ciaddr`,
    /// `ciaddr = 0`, sent back to the requester's address and port.
    BootServer {
        /// Boot server type asked for.
        ty: u16,
        /// Layer asked for.
        layer: u16,
    },
    /// No reply.
    Ignore(IgnoreReason),
}

/// Why a request gets no reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IgnoreReason {
    /// A `dhcp-ignore` line matched.
    DhcpIgnore,
    /// The matching `dhcp-host` says `ignore`.
    HostIgnore,
    /// No `dhcp-range` for the arrival network holds for this client.
    NoRange,
    /// A proxy range exists but the request is not one proxy mode answers
    /// (not a PXE client, no option 93, not DISCOVER on 67 / DISCOVER or
    /// REQUEST on 4011, or PXE handling is off).
    ProxyNotApplicable,
    /// Port 4011 request without sub-option 71 and no proxy range.
    PxePortWithoutProxy,
    /// Boot-server request with the PXE BIS layer bit.
    PxeBisUnsupported,
    /// Boot-server request for a type no `pxe-service` with a basename has,
    /// or from an address outside every served range.
    NoBootService,
    /// Not a BOOTP request (`op` is not 1).
    NotARequest,
    /// BOOTP request without a reserved address (BOOTP is answered only
    /// for `dhcp-host` addresses or with `bootp-dynamic`; never by proxies).
    BootpNotServed,
}

#[derive(Debug, Clone, Copy)]
enum Src<'a> {
    Ref(&'a [u8]),
    Buf(u16, u16),
}

/// The outcome of evaluating one request: everything the server needs to
/// write the reply, borrowed from the configuration (`'c`) and the request
/// (`'p`) or held in a fixed scratch buffer.
pub struct Decision<'a> {
    config: &'a Config,
    verdict: Verdict,
    tags: TagSet,
    range: Option<u32>,
    host: Option<u32>,
    boot: Option<u32>,
    service: Option<u32>,
    pxe_vendor: Option<&'a str>,
    siaddr: Ipv4Addr,
    siaddr_host: Option<&'a str>,
    file: Option<Src<'a>>,
    sname: Option<Src<'a>>,
    boot_opts: [Option<(u8, Src<'a>)>; 2],
    opts: [(u8, Src<'a>); MAX_OPTIONS],
    n_opts: usize,
    suppressed: [u64; 4],
    configured_t: [Option<&'a [u8]>; 2],
    buf: [u8; SCRATCH],
    buf_len: usize,
    dropped: u16,
    broadcast: bool,
    delay: u32,
    uefi_workaround: bool,
}

impl core::fmt::Debug for Decision<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Decision")
            .field("verdict", &self.verdict)
            .field("siaddr", &self.siaddr)
            .field("file", &self.file().map(BStr))
            .field("sname", &self.sname().map(BStr))
            .field("options", &OptsDbg(self))
            .finish_non_exhaustive()
    }
}

struct BStr<'a>(&'a [u8]);
impl core::fmt::Debug for BStr<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("\"")?;
        for b in self.0 {
            if b.is_ascii_graphic() || *b == b' ' {
                write!(f, "{}", *b as char)?;
            } else {
                write!(f, "\\x{b:02x}")?;
            }
        }
        f.write_str("\"")
    }
}
struct OptsDbg<'a, 'b>(&'b Decision<'a>);
impl core::fmt::Debug for OptsDbg<'_, '_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list()
            .entries(
                self.0
                    .boot_options()
                    .chain(self.0.options())
                    .map(|(c, v)| (c, BStr(v))),
            )
            .finish()
    }
}

impl<'a> Decision<'a> {
    fn new(config: &'a Config) -> Self {
        Self {
            config,
            verdict: Verdict::Ignore(IgnoreReason::NoRange),
            tags: TagSet::new(),
            range: None,
            host: None,
            boot: None,
            service: None,
            pxe_vendor: None,
            siaddr: Ipv4Addr::UNSPECIFIED,
            siaddr_host: None,
            file: None,
            sname: None,
            boot_opts: [None, None],
            opts: [(0, Src::Ref(&[])); MAX_OPTIONS],
            n_opts: 0,
            suppressed: [0; 4],
            configured_t: [None, None],
            buf: [0; SCRATCH],
            buf_len: 0,
            dropped: 0,
            broadcast: false,
            delay: 0,
            uefi_workaround: false,
        }
    }

    fn resolve(&self, s: Src<'a>) -> &[u8] {
        match s {
            Src::Ref(r) => r,
            Src::Buf(o, l) => self
                .buf
                .get(usize::from(o)..usize::from(o) + usize::from(l))
                .unwrap_or(&[]),
        }
    }

    /// What to do.
    pub fn verdict(&self) -> Verdict {
        self.verdict
    }

    /// The final tag set.
    pub fn tags(&self) -> &TagSet {
        &self.tags
    }

    /// The final tag names (for `log-dhcp`'s `tags:` line).
    pub fn tag_names(&self) -> impl Iterator<Item = &'a str> + '_ {
        let c = self.config;
        self.tags.iter().map(move |t| c.tag_name(t))
    }

    /// The `dhcp-range` used (full or proxy), if any.
    pub fn range(&self) -> Option<&'a Range> {
        match self.config.rule(self.range?) {
            Some(Rule::Range(r)) => Some(r),
            _ => None,
        }
    }

    /// The `dhcp-host` entry that matched this client, if any.
    pub fn host(&self) -> Option<&'a Host> {
        match self.config.rule(self.host?) {
            Some(Rule::Host(h)) => Some(h),
            _ => None,
        }
    }

    /// The `dhcp-boot` line chosen, if any.
    pub fn boot(&self) -> Option<&'a Boot> {
        match self.config.rule(self.boot?) {
            Some(Rule::Boot(b)) => Some(b),
            _ => None,
        }
    }

    /// The `pxe-service` that supplied the file (boot-server replies and
    /// the UEFI single-service workaround).
    pub fn service(&self) -> Option<&'a PxeService> {
        match self.config.rule(self.service?) {
            Some(Rule::Service(s)) => Some(s),
            _ => None,
        }
    }

    /// The PXE vendor string the client matched (sent back as option 60).
    pub fn pxe_vendor(&self) -> Option<&'a str> {
        self.pxe_vendor
    }

    /// `siaddr` (next server).
    pub fn siaddr(&self) -> Ipv4Addr {
        self.siaddr
    }

    /// A next-server given by name (the server resolves it from its hosts
    /// file; `siaddr` is then `0.0.0.0` until it does).
    pub fn siaddr_host(&self) -> Option<&'a str> {
        self.siaddr_host
    }

    /// The `file` header field (without NUL), if set.
    pub fn file(&self) -> Option<&[u8]> {
        self.file.map(|s| self.resolve(s))
    }

    /// The `sname` header field (without NUL), if set.
    pub fn sname(&self) -> Option<&[u8]> {
        self.sname.map(|s| self.resolve(s))
    }

    /// Options 66/67 from `dhcp-boot`, NUL-terminated, to place right after
    /// option 51 (full DHCP only).
    pub fn boot_options(&self) -> impl Iterator<Item = (u8, &[u8])> + '_ {
        self.boot_opts
            .iter()
            .flatten()
            .map(|(c, s)| (*c, self.resolve(*s)))
    }

    /// The remaining options in dnsmasq's emission order, after the
    /// server's own (53, 54, 51, boot options, 58, 59 and the built-ins 1,
    /// 28, 3, 6, 15, 12): configured options, `encap:` outers, 125, PXE 60
    /// and 97, 43, echoed 60. Option 82 (relay echo) is the server's.
    pub fn options(&self) -> impl Iterator<Item = (u8, &[u8])> + '_ {
        self.opts[..self.n_opts]
            .iter()
            .map(|(c, s)| (*c, self.resolve(*s)))
    }

    /// Whether a configured line replaces or suppresses the server's
    /// built-in value for `code` (1, 3, 6, 12, 15, 28).
    pub fn overrides_builtin(&self, code: u8) -> bool {
        self.suppressed[usize::from(code / 64)] & (1 << (code % 64)) != 0
    }

    /// Configured T1 (58) and T2 (59) values (4 bytes), if any line applies.
    pub fn configured_t1_t2(&self) -> (Option<&'a [u8]>, Option<&'a [u8]>) {
        (self.configured_t[0], self.configured_t[1])
    }

    /// Lease time: the host's, else the range's, else `None` (default).
    pub fn lease_time(&self) -> Option<LeaseTime> {
        self.host()
            .and_then(|h| h.lease)
            .or_else(|| self.range().and_then(|r| r.lease))
    }

    /// Whether a `dhcp-broadcast` line forces a broadcast reply.
    pub fn broadcast(&self) -> bool {
        self.broadcast
    }

    /// `dhcp-reply-delay` seconds.
    pub fn reply_delay(&self) -> u32 {
        self.delay
    }

    /// Whether the UEFI single-service workaround applied (no PXE menu).
    pub fn uefi_workaround(&self) -> bool {
        self.uefi_workaround
    }

    /// Options that did not fit the decision's fixed buffers (dnsmasq's
    /// "no space left in packet").
    pub fn dropped(&self) -> u16 {
        self.dropped
    }

    fn push(&mut self, code: u8, s: Src<'a>) {
        if self.n_opts < MAX_OPTIONS {
            self.opts[self.n_opts] = (code, s);
            self.n_opts += 1;
        } else {
            self.dropped += 1;
        }
    }

    /// Appends bytes to the scratch buffer.
    fn put(&mut self, b: &[u8]) -> Option<u16> {
        let start = self.buf_len;
        let end = start.checked_add(b.len())?;
        if end > SCRATCH {
            return None;
        }
        self.buf[start..end].copy_from_slice(b);
        self.buf_len = end;
        Some(start as u16)
    }
}

/// Condition holding with dnsmasq's `tagnotneeded` flag.
#[inline]
fn holds(cond: &Cond, tags: &TagSet, untagged_ok: bool) -> Result<(), CondFailure> {
    if cond.0.is_empty() {
        return if untagged_ok {
            Ok(())
        } else {
            Err(CondFailure::Missing(TagId(u16::MAX)))
        };
    }
    check(&cond.0, tags)
}

/// Byte substring search (first-byte filter, then compare).
fn contains(hay: &[u8], needle: &[u8]) -> bool {
    let Some((&first, rest)) = needle.split_first() else {
        return true;
    };
    if needle.len() > hay.len() {
        return false;
    }
    let last = hay.len() - needle.len();
    hay[..=last]
        .iter()
        .enumerate()
        .any(|(i, &b)| b == first && hay[i + 1..].iter().zip(rest).all(|(x, y)| x == y))
}

/// `match_bytes`.
fn match_bytes(v: &crate::value::Encoded, opt: &[u8]) -> bool {
    let len = v.bytes.len();
    if len > opt.len() {
        return false;
    }
    if len == 0 {
        return true;
    }
    match v.kind {
        ValueKind::Hex => v
            .bytes
            .iter()
            .zip(opt)
            .enumerate()
            .all(|(i, (p, o))| v.wildcard.get(i).copied().unwrap_or(false) || p == o),
        ValueKind::Text => contains(opt, &v.bytes),
        _ => {
            let mut i = 0;
            while i + len <= opt.len() {
                if opt[i..i + len] == v.bytes[..] {
                    return true;
                }
                i += len;
            }
            false
        }
    }
}

/// User class with RFC 3004 length bytes zeroed, if well-formed.
fn user_class_matches(uc: &[u8], needle: &[u8]) -> bool {
    // Check RFC 3004 structure.
    let mut i = 0;
    let mut ok = !uc.is_empty();
    while i < uc.len() {
        let l = usize::from(uc[i]);
        if l == 0 || i + 1 + l > uc.len() {
            ok = false;
            break;
        }
        i += 1 + l;
    }
    if !ok {
        return contains(uc, needle);
    }
    // Search with the counts treated as zero bytes, without copying.
    if needle.is_empty() {
        return true;
    }
    if needle.len() > uc.len() {
        return false;
    }
    let mut is_len = [false; 256];
    let mut j = 0;
    while j < uc.len() && j < 256 {
        is_len[j] = true;
        j += 1 + usize::from(uc[j]);
    }
    (0..=uc.len() - needle.len()).any(|s| {
        needle.iter().enumerate().all(|(k, n)| {
            let idx = s + k;
            let b = if idx < 256 && is_len[idx] { 0 } else { uc[idx] };
            b == *n
        })
    })
}

impl Config {
    /// Evaluates a request without tracing.
    pub fn evaluate<'a>(&'a self, facts: &Facts<'a>, ctx: &Context<'_>) -> Decision<'a> {
        self.evaluate_traced(facts, ctx, &mut NoTrace)
    }

    /// Evaluates a request, reporting every rule considered to `tr`.
    pub fn evaluate_traced<'a, T: Tracer>(
        &'a self,
        facts: &Facts<'a>,
        ctx: &Context<'_>,
        tr: &mut T,
    ) -> Decision<'a> {
        let mut d = Decision::new(self);
        if facts.op != 1 {
            d.verdict = Verdict::Ignore(IgnoreReason::NotARequest);
            return d;
        }
        let mut tags = TagSet::new();
        let ix = &self.index;

        // 1. interface tag.
        if let Some(ifn) = ctx.interface
            && let Some(t) = self.tag(ifn)
        {
            tags.insert(t);
            tr.event(Event::TagSet {
                tag: t,
                source: TagSource::Interface,
            });
        }
        // 2. cpewan-id: a TR-069 device (only looked up when some line
        // tests the tag).
        if let Some(v) = facts.option(125)
            && is_cpewan(v)
            && let Some(t) = self.tag("cpewan-id")
        {
            set(&mut tags, t, TagSource::CpeWan, tr);
        }
        // 3. relay agent tags.
        for &i in &ix.relay {
            if let Some(Rule::Relay(r)) = self.rule(i) {
                let sub = match r.kind {
                    RelayKind::CircuitId => 1,
                    RelayKind::RemoteId => 2,
                    RelayKind::SubscriberId => 6,
                };
                let hit = facts.relay_sub(sub) == Some(r.bytes.as_slice());
                tag_rule(&mut tags, r.set, i, hit, "relay sub-option differs", tr);
            }
        }
        // 4. dhcp-mac.
        for &i in &ix.mac {
            if let Some(Rule::Mac(m)) = self.rule(i) {
                let hit = m.pattern.matches(facts.htype, facts.chaddr);
                tag_rule(&mut tags, m.set, i, hit, "hardware address differs", tr);
            }
        }
        // 5. dhcp-match.
        for &i in &ix.matches {
            if let Some(Rule::Match(m)) = self.rule(i) {
                let (hit, why) = eval_match(m, facts);
                tag_rule(&mut tags, m.set, i, hit, why, tr);
            }
        }
        // 6. vendor / user class.
        for &i in &ix.class {
            if let Some(Rule::Class(c)) = self.rule(i) {
                let hit = match c.kind {
                    ClassKind::Vendor => facts
                        .vendor_class()
                        .is_some_and(|v| contains(v, c.text.as_bytes())),
                    ClassKind::User => facts
                        .user_class()
                        .is_some_and(|u| user_class_matches(u, c.text.as_bytes())),
                };
                tag_rule(&mut tags, c.set, i, hit, "class string not found", tr);
            }
        }
        // 7. known: the host lookup sees tags 1-6 after tag-if.
        // (Only tagged dhcp-host entries look at tags.)
        let host = if self.index.tagged_hosts {
            let mut pre = tags.clone();
            self.run_tag_if(&mut pre, &mut NoTrace);
            self.find_host(facts, &pre, tr)
        } else if self.index.hosts.is_empty() {
            None
        } else {
            self.find_host(facts, &tags, tr)
        };
        let net_addr = if facts.giaddr.is_unspecified() {
            ctx.local
        } else {
            facts.giaddr
        };
        if let Some(hi) = host {
            d.host = Some(hi);
            let othernet = match self.rule(hi) {
                Some(Rule::Host(h)) => h.addr.is_some_and(|a| {
                    let m = u32::from(ctx.netmask);
                    u32::from(a) & m != u32::from(net_addr) & m
                }),
                _ => false,
            };
            if othernet {
                set(
                    &mut tags,
                    self.known_othernet,
                    TagSource::KnownOtherNet(hi),
                    tr,
                );
            } else {
                set(&mut tags, self.known, TagSource::Known(hi), tr);
            }
        }
        // 8. BOOTP.
        let bootp = !facts.is_dhcp();
        if bootp {
            if !facts.file.is_empty()
                && let Ok(name) = core::str::from_utf8(facts.file)
                && let Some(t) = self.tag(name)
            {
                set(&mut tags, t, TagSource::Bootp, tr);
            }
            set(&mut tags, self.bootp, TagSource::Bootp, tr);
        }
        // 9. dhcp-name-match.
        if let Some(hn) = facts
            .hostname()
            .or_else(|| facts.option(81).and_then(|o| o.get(3..)))
        {
            let hn = match hn.iter().position(|b| *b == 0) {
                Some(p) => &hn[..p],
                None => hn,
            };
            for &i in &ix.name_match {
                if let Some(Rule::NameMatch(n)) = self.rule(i) {
                    let nb = n.name.as_bytes();
                    let hit = if n.prefix {
                        hn.len() >= nb.len() && hn[..nb.len()].eq_ignore_ascii_case(nb)
                    } else {
                        hn.eq_ignore_ascii_case(nb)
                    };
                    tag_rule(&mut tags, n.set, i, hit, "host name differs", tr);
                }
            }
        }
        // 10. the host's own tags.
        if let Some(Rule::Host(h)) = host.and_then(|i| self.rule(i)) {
            for &t in &h.set {
                set(&mut tags, t, TagSource::Rule(host.unwrap_or(0)), tr);
            }
        }
        // 11. tag-if.
        self.run_tag_if(&mut tags, tr);

        // Ignore checks.
        if let Some(Rule::Host(h)) = host.and_then(|i| self.rule(i))
            && h.ignore
        {
            d.tags = tags;
            d.verdict = Verdict::Ignore(IgnoreReason::HostIgnore);
            return d;
        }
        for &i in &ix.ignores {
            if let Some(Rule::CondList(_, c)) = self.rule(i) {
                match holds(c, &tags, false) {
                    Ok(()) => {
                        tr.event(Event::Rule {
                            item: i,
                            outcome: Outcome::Matched,
                        });
                        d.tags = tags;
                        d.verdict = Verdict::Ignore(IgnoreReason::DhcpIgnore);
                        return d;
                    }
                    Err(e) => tr.event(Event::Rule {
                        item: i,
                        outcome: Outcome::CondFailed(e),
                    }),
                }
            }
        }

        // PXE client?
        let pxe_on = self.pxe_enabled();
        let vendor = facts.vendor_class();
        d.pxe_vendor = if pxe_on {
            vendor.and_then(|v| self.pxe_vendors().find(|pv| v.starts_with(pv.as_bytes())))
        } else {
            None
        };
        let arch = facts.arch();
        let mt = facts.message_type();

        // Boot-server request (43.71), any mode.
        if d.pxe_vendor.is_some()
            && matches!(mt, Some(3) | Some(8))
            && let Some((ty, layer)) = facts.pxe_boot_item()
        {
            tr.event(Event::Note("PXE boot-server request (43 sub-option 71)"));
            d.tags = tags;
            self.boot_server(&mut d, facts, ctx, ty, layer, tr);
            return d;
        }

        // Ranges on the arrival network.
        let mut proxy_range = None;
        let mut full_range = None;
        for &i in &ix.ranges {
            if let Some(Rule::Range(r)) = self.rule(i) {
                if !r.same_net(net_addr, ctx.netmask) {
                    tr.event(Event::Rule {
                        item: i,
                        outcome: Outcome::Skipped("another network"),
                    });
                    continue;
                }
                if let Err(e) = holds(&r.cond, &tags, true) {
                    tr.event(Event::Rule {
                        item: i,
                        outcome: Outcome::CondFailed(e),
                    });
                    continue;
                }
                if r.mode == RangeMode::Proxy {
                    if proxy_range.is_none() {
                        proxy_range = Some(i);
                    }
                } else if full_range.is_none() {
                    let fits = match ctx.address {
                        Some(a) => {
                            r.mode == RangeMode::Static
                                || (u32::from(r.start) <= u32::from(a)
                                    && u32::from(a) <= u32::from(r.end))
                        }
                        None => true,
                    };
                    if fits {
                        full_range = Some(i);
                    } else {
                        tr.event(Event::Rule {
                            item: i,
                            outcome: Outcome::Skipped("address not in range"),
                        });
                    }
                }
            }
        }

        let base = tags.clone();
        let proxy_ok = pxe_on
            && d.pxe_vendor.is_some()
            && arch.is_some()
            && !bootp
            && match ctx.port {
                Port::Dhcp => mt == Some(1),
                Port::Pxe => matches!(mt, Some(1) | Some(3)),
            };
        if ctx.port == Port::Pxe {
            match proxy_range {
                Some(pr) if proxy_ok => {
                    self.add_range_tag(&mut tags, pr, tr);
                    d.tags = tags;
                    d.range = Some(pr);
                    self.proxy(&mut d, facts, ctx, arch.unwrap_or(0), true, tr);
                }
                Some(_) => {
                    tr.event(Event::Note("proxy range found but the request is not a PXE DISCOVER/REQUEST with option 93"));
                    d.tags = tags;
                    d.verdict = Verdict::Ignore(IgnoreReason::ProxyNotApplicable);
                }
                None => {
                    tr.event(Event::Note(
                        "port 4011 request without sub-option 71 and no proxy range: ignored",
                    ));
                    d.tags = tags;
                    d.verdict = Verdict::Ignore(IgnoreReason::PxePortWithoutProxy);
                }
            }
            return d;
        }
        if let Some(pr) = proxy_range
            && proxy_ok
        {
            self.add_range_tag(&mut tags, pr, tr);
            d.tags = tags;
            d.range = Some(pr);
            self.proxy(&mut d, facts, ctx, arch.unwrap_or(0), false, tr);
            return d;
        }
        let Some(fr) = full_range else {
            d.tags = tags;
            d.verdict = Verdict::Ignore(if proxy_range.is_some() {
                tr.event(Event::Note(
                    "only a proxy range here, and the request is not a PXE DISCOVER with option 93",
                ));
                IgnoreReason::ProxyNotApplicable
            } else {
                tr.event(Event::Note("no dhcp-range holds for this network"));
                IgnoreReason::NoRange
            });
            return d;
        };
        if bootp {
            let has_addr = d.host().is_some_and(|h| h.addr.is_some());
            let dynamic = self
                .index
                .bootp_dynamic
                .iter()
                .any(|&i| match self.rule(i) {
                    Some(Rule::CondList(_, c)) => holds(c, &tags, true).is_ok(),
                    _ => false,
                });
            if !has_addr && !dynamic {
                d.tags = tags;
                d.verdict = Verdict::Ignore(IgnoreReason::BootpNotServed);
                return d;
            }
        }
        self.add_range_tag(&mut tags, fr, tr);
        d.tags = tags;
        d.range = Some(fr);
        self.full(&mut d, facts, ctx, &base, tr);
        d
    }

    fn add_range_tag<T: Tracer>(&self, tags: &mut TagSet, ri: u32, tr: &mut T) {
        if let Some(Rule::Range(r)) = self.rule(ri) {
            tr.event(Event::Rule {
                item: ri,
                outcome: Outcome::Chosen,
            });
            if let Some(t) = r.set {
                set(tags, t, TagSource::Range(ri), tr);
                self.run_tag_if(tags, tr);
            }
        }
    }

    fn run_tag_if<T: Tracer>(&self, tags: &mut TagSet, tr: &mut T) {
        for &i in &self.index.tag_if {
            let Some(Rule::TagIf(t)) = self.rule(i) else {
                continue;
            };
            let mut ok = Ok(());
            for w in &t.cond {
                let present = match (&w.tag, &w.mask) {
                    (Some(tag), _) => tags.contains(*tag),
                    (None, Some(mask)) => tags.intersects(mask),
                    (None, None) => false,
                };
                if w.negated == present {
                    ok = Err(match (w.tag, present) {
                        (Some(tag), true) => Outcome::CondFailed(CondFailure::Present(tag)),
                        (Some(tag), false) => Outcome::CondFailed(CondFailure::Missing(tag)),
                        (None, true) => Outcome::NoMatch("a tag matches the negated wildcard"),
                        (None, false) => Outcome::NoMatch("no tag matches the wildcard"),
                    });
                    break;
                }
            }
            match ok {
                Ok(()) => {
                    tr.event(Event::Rule {
                        item: i,
                        outcome: Outcome::Matched,
                    });
                    for &s in &t.set {
                        set(tags, s, TagSource::Rule(i), tr);
                    }
                }
                Err(outcome) => tr.event(Event::Rule { item: i, outcome }),
            }
        }
    }

    /// `find_config`: tagged entries first, then untagged; within each,
    /// client id, exact MAC, host name, best wildcard MAC.
    fn find_host<T: Tracer>(&self, facts: &Facts<'_>, tags: &TagSet, tr: &mut T) -> Option<u32> {
        let clid = if self.settings.ignore_client_id {
            None
        } else {
            facts.client_id()
        };
        let hostname = facts
            .hostname()
            .map(|h| match h.iter().position(|b| *b == 0) {
                Some(p) => &h[..p],
                None => h,
            });
        for tagged_pass in [true, false] {
            let eligible = |h: &Host| -> bool {
                if tagged_pass {
                    !h.cond.is_untagged() && check(&h.cond.0, tags).is_ok()
                } else {
                    h.cond.is_untagged()
                }
            };
            let hosts = || {
                self.index.hosts.iter().filter_map(|&i| match self.rule(i) {
                    Some(Rule::Host(h)) if eligible(h) => Some((i, h)),
                    _ => None,
                })
            };
            if let Some(c) = clid
                && let Some((i, _)) = hosts()
                    .find(|(_, h)| !h.ignore_client_id && h.client_ids.iter().any(|id| id == c))
            {
                tr.event(Event::Rule {
                    item: i,
                    outcome: Outcome::Chosen,
                });
                return Some(i);
            }
            if let Some((i, _)) = hosts().find(|(_, h)| {
                h.macs
                    .iter()
                    .any(|m| !m.has_wildcard() && m.matches(facts.htype, facts.chaddr))
            }) {
                tr.event(Event::Rule {
                    item: i,
                    outcome: Outcome::Chosen,
                });
                return Some(i);
            }
            if let Some(hn) = hostname
                && let Some((i, _)) = hosts().find(|(_, h)| {
                    h.macs.is_empty()
                        && h.client_ids.is_empty()
                        && h.name
                            .as_deref()
                            .is_some_and(|n| n.as_bytes().eq_ignore_ascii_case(hn))
                })
            {
                tr.event(Event::Rule {
                    item: i,
                    outcome: Outcome::Chosen,
                });
                return Some(i);
            }
            let mut best: Option<(u32, usize)> = None;
            for (i, h) in hosts() {
                for m in h.macs.iter().filter(|m| m.has_wildcard()) {
                    if m.matches(facts.htype, facts.chaddr)
                        && best.is_none_or(|(_, n)| m.literal_octets() > n)
                    {
                        best = Some((i, m.literal_octets()));
                    }
                }
            }
            if let Some((i, _)) = best {
                tr.event(Event::Rule {
                    item: i,
                    outcome: Outcome::Chosen,
                });
                return Some(i);
            }
        }
        None
    }

    /// `find_boot`: last matching tagged line, else last untagged line.
    fn find_boot<T: Tracer>(&self, tags: &TagSet, tr: &mut T) -> Option<u32> {
        for &i in &self.index.boots {
            if let Some(Rule::Boot(b)) = self.rule(i)
                && !b.cond.is_untagged()
            {
                match check(&b.cond.0, tags) {
                    Ok(()) => {
                        tr.event(Event::Rule {
                            item: i,
                            outcome: Outcome::Chosen,
                        });
                        return Some(i);
                    }
                    Err(e) => tr.event(Event::Rule {
                        item: i,
                        outcome: Outcome::CondFailed(e),
                    }),
                }
            }
        }
        for &i in &self.index.boots {
            if let Some(Rule::Boot(b)) = self.rule(i)
                && b.cond.is_untagged()
            {
                tr.event(Event::Rule {
                    item: i,
                    outcome: Outcome::Chosen,
                });
                return Some(i);
            }
        }
        None
    }

    /// `pxe_uefi_workaround`: the one UEFI service with a basename, if
    /// exactly one holds for this arch.
    fn uefi_single_service(&self, arch: u16, tags: &TagSet) -> Option<u32> {
        if arch < 6 {
            return None;
        }
        let mut found = None;
        for &i in &self.index.services {
            if let Some(Rule::Service(s)) = self.rule(i)
                && s.csa == arch
                && s.basename().is_some()
                && holds(&s.cond, tags, true).is_ok()
            {
                if found.is_some() {
                    return None;
                }
                found = Some(i);
            }
        }
        found
    }

    /// Whether a vendor-space line participates (`match_vendor_opts` +
    /// `prune_vendor_opts`).
    fn vendor_participates(&self, o: &OptionRule, facts: &Facts<'_>, tags: &TagSet) -> bool {
        let Some(v) = facts.vendor_class() else {
            return false;
        };
        let vmatch = match &o.space {
            OptSpace::Vendor(cls) => contains(v, cls.as_bytes()),
            OptSpace::VendorPxe => self.pxe_vendors().any(|pv| contains(v, pv.as_bytes())),
            _ => false,
        };
        vmatch && holds(&o.cond, tags, true).is_ok()
    }

    /// Writes PXE sub-options 6, 10, 8, 9 (`pxe_opts`) into the scratch
    /// buffer as TLVs. Returns the bytes written, or 0 when the menu is
    /// too large (then no PXE sub-options at all).
    fn pxe_menu<'a, T: Tracer>(
        &'a self,
        d: &mut Decision<'a>,
        facts: &Facts<'a>,
        arch: u16,
        local: Ipv4Addr,
        tr: &mut T,
    ) -> usize {
        let tags = d.tags.clone();
        let mut dc = 3u8;
        let (mut menu_len, mut srv_len, mut items) = (0usize, 0usize, 0usize);
        for &i in &self.index.services {
            let Some(Rule::Service(s)) = self.rule(i) else {
                continue;
            };
            if s.csa != arch {
                tr.event(Event::Rule {
                    item: i,
                    outcome: Outcome::Skipped("other architecture"),
                });
                continue;
            }
            if let Err(e) = holds(&s.cond, &tags, true) {
                tr.event(Event::Rule {
                    item: i,
                    outcome: Outcome::CondFailed(e),
                });
                continue;
            }
            tr.event(Event::Rule {
                item: i,
                outcome: Outcome::Matched,
            });
            let l = s.menu.len();
            if menu_len + l + 3 >= 253 {
                tr.event(Event::Note("PXE menu too large: no PXE sub-options sent"));
                return 0;
            }
            menu_len += 3 + l;
            items += 1;
            if service_server(s, local).is_some() {
                if srv_len + 3 + 4 >= 253 {
                    tr.event(Event::Note("PXE menu too large: no PXE sub-options sent"));
                    return 0;
                }
                srv_len += 7;
            } else if s.ty != 0 {
                dc = 2;
            }
        }
        if items == 0 {
            dc = 8;
        }
        let have_prompt = self.index.options.iter().any(|&i| {
            matches!(self.rule(i), Some(Rule::Option(o)) if matches!(o.space, OptSpace::Vendor(_) | OptSpace::VendorPxe)
                && o.code == 10 && self.vendor_participates(o, facts, &tags))
        });
        let start = d.buf_len;
        let mut ok = d.put(&[6, 1, dc]).is_some();
        if !have_prompt {
            ok &= d
                .put(&[10, 4, if items > 1 { 255 } else { 0 }, b'P', b'X', b'E'])
                .is_some();
        }
        if srv_len > 0 {
            ok &= d.put(&[8, srv_len as u8]).is_some();
            for &i in &self.index.services {
                let Some(Rule::Service(s)) = self.rule(i) else {
                    continue;
                };
                if s.csa == arch
                    && holds(&s.cond, &tags, true).is_ok()
                    && let Some(a) = service_server(s, local)
                {
                    let t = s.ty.to_be_bytes();
                    let o = a.octets();
                    ok &= d.put(&[t[0], t[1], 1, o[0], o[1], o[2], o[3]]).is_some();
                }
            }
        }
        if items > 0 {
            ok &= d.put(&[9, menu_len as u8]).is_some();
            for &i in &self.index.services {
                let Some(Rule::Service(s)) = self.rule(i) else {
                    continue;
                };
                if s.csa == arch && holds(&s.cond, &tags, true).is_ok() {
                    let t = s.ty.to_be_bytes();
                    ok &= d.put(&[t[0], t[1], s.menu.len() as u8]).is_some();
                    ok &= d.put(s.menu.as_bytes()).is_some();
                }
            }
        }
        if !ok {
            d.buf_len = start;
            d.dropped += 1;
            return 0;
        }
        d.buf_len - start
    }

    /// Appends matching vendor-space lines as TLVs; returns (bytes, any forced).
    fn vendor_tlvs<'a>(
        &'a self,
        d: &mut Decision<'a>,
        facts: &Facts<'a>,
        tr: &mut impl Tracer,
    ) -> (usize, bool, bool) {
        let tags = d.tags.clone();
        let start = d.buf_len;
        let (mut any, mut forced) = (false, false);
        for &i in &self.index.options {
            let Some(Rule::Option(o)) = self.rule(i) else {
                continue;
            };
            if !matches!(o.space, OptSpace::Vendor(_) | OptSpace::VendorPxe) {
                continue;
            }
            if !self.vendor_participates(o, facts, &tags) {
                tr.event(Event::Rule {
                    item: i,
                    outcome: Outcome::Skipped("vendor class or tags do not match"),
                });
                continue;
            }
            let v = &o.value.bytes;
            if d.put(&[o.code, v.len() as u8]).is_none() || d.put(v).is_none() {
                d.dropped += 1;
                continue;
            }
            tr.event(Event::Rule {
                item: i,
                outcome: Outcome::Matched,
            });
            any = true;
            forced |= o.force;
        }
        (d.buf_len - start, any, forced)
    }

    /// Emits TLVs at `buf[start..start+len]` as one or more `code` options
    /// of at most 255 bytes, splitting between sub-options, END on the last.
    fn emit_encap<'a>(d: &mut Decision<'a>, code: u8, start: usize, len: usize) {
        if d.put(&[255]).is_none() {
            d.dropped += 1;
            return;
        }
        let end = start + len + 1;
        let mut chunk = start;
        let mut p = start;
        while p < start + len {
            let sub_len = 2 + usize::from(d.buf.get(p + 1).copied().unwrap_or(0));
            let limit = if p + sub_len >= start + len { 254 } else { 255 };
            if p + sub_len - chunk > limit && p > chunk {
                d.push(code, Src::Buf(chunk as u16, (p - chunk) as u16));
                chunk = p;
            }
            p += sub_len;
        }
        d.push(code, Src::Buf(chunk as u16, (end - chunk) as u16));
    }

    fn pxe_misc<'a>(d: &mut Decision<'a>, facts: &Facts<'a>) {
        if let Some(v) = d.pxe_vendor {
            d.push(60, Src::Ref(v.as_bytes()));
        }
        if let Some(u) = facts.uuid()
            && let Some(o) = d.put(u)
        {
            d.push(97, Src::Buf(o, 17));
        }
    }

    fn boot_server<'a, T: Tracer>(
        &'a self,
        d: &mut Decision<'a>,
        facts: &Facts<'a>,
        ctx: &Context<'_>,
        ty: u16,
        layer: u16,
        tr: &mut T,
    ) {
        if layer & 0x8000 != 0 {
            tr.event(Event::Note("PXE BIS not supported"));
            d.verdict = Verdict::Ignore(IgnoreReason::PxeBisUnsupported);
            return;
        }
        let service = self
            .index
            .services
            .iter()
            .copied()
            .find(|&i| matches!(self.rule(i), Some(Rule::Service(s)) if s.ty == ty));
        let ciaddr = facts.effective_ciaddr();
        let range = self.index.ranges.iter().copied().find(|&i| {
            matches!(self.rule(i), Some(Rule::Range(r)) if holds(&r.cond, &d.tags, true).is_ok() && r.same_net(ciaddr, ctx.netmask))
        });
        let svc = match service.and_then(|i| self.rule(i)) {
            Some(Rule::Service(s)) if s.basename().is_some() => s,
            _ => {
                tr.event(Event::Note(
                    "no pxe-service with a basename has the requested type",
                ));
                d.verdict = Verdict::Ignore(IgnoreReason::NoBootService);
                return;
            }
        };
        let Some(ri) = range else {
            tr.event(Event::Note("ciaddr is not inside a served range"));
            d.verdict = Verdict::Ignore(IgnoreReason::NoBootService);
            return;
        };
        if let Some(si) = service {
            tr.event(Event::Rule {
                item: si,
                outcome: Outcome::Chosen,
            });
        }
        d.range = Some(ri);
        d.service = service;
        d.verdict = Verdict::BootServer { ty, layer };
        match &svc.server {
            Some(ServerRef::Name(n)) => d.siaddr_host = Some(n.as_str()),
            Some(ServerRef::Addr(a)) => d.siaddr = *a,
            None => d.siaddr = ctx.local,
        }
        let base = svc.basename().unwrap_or("");
        d.file = Some(if base.contains('.') {
            Src::Ref(base.as_bytes())
        } else {
            write_file_with_layer(d, base, layer)
        });
        Self::pxe_misc(d, facts);
        let start = d.buf_len;
        let raw = facts.pxe_boot_item_raw().unwrap_or(&[0, 0, 0, 0]);
        if d.put(&[71, 4]).is_none() || d.put(raw).is_none() {
            d.dropped += 1;
            return;
        }
        let (vl, _, _) = self.vendor_tlvs(d, facts, tr);
        Self::emit_encap(d, 43, start, 6 + vl);
    }

    fn proxy<'a, T: Tracer>(
        &'a self,
        d: &mut Decision<'a>,
        facts: &Facts<'a>,
        ctx: &Context<'_>,
        arch: u16,
        on4011: bool,
        tr: &mut T,
    ) {
        d.verdict = Verdict::Proxy;
        let redirect4011 = arch >= 6;
        d.siaddr = if redirect4011 {
            ctx.local
        } else {
            Ipv4Addr::UNSPECIFIED
        };
        let tags = d.tags.clone();
        let single = self.uefi_single_service(arch, &tags);
        let workaround = single.is_some();
        d.uefi_workaround = workaround;
        if let Some(si) = single {
            tr.event(Event::Note(
                "UEFI client with exactly one matching pxe-service: no PXE menu",
            ));
            if on4011 {
                self.workaround_fields(d, si, ctx.local, tr);
            }
        } else if let Some(bi) = self.find_boot(&tags, tr) {
            d.boot = Some(bi);
            if let Some(Rule::Boot(b)) = self.rule(bi) {
                match &b.server {
                    Some(ServerRef::Addr(a)) => d.siaddr = *a,
                    Some(ServerRef::Name(n)) => {
                        d.siaddr = Ipv4Addr::UNSPECIFIED;
                        d.siaddr_host = Some(n.as_str());
                    }
                    None => {}
                }
                if let Some(f) = &b.file {
                    d.file = Some(Src::Ref(truncate(f.as_bytes(), 127)));
                }
            }
        }
        Self::pxe_misc(d, facts);
        if (on4011 && !workaround) || !redirect4011 {
            let start = d.buf_len;
            let ml = self.pxe_menu(d, facts, arch, ctx.local, tr);
            let (vl, _, _) = self.vendor_tlvs(d, facts, tr);
            if ml + vl > 0 {
                Self::emit_encap(d, 43, start, ml + vl);
            }
        } else {
            tr.event(Event::Note(
                "no option 43: UEFI client is redirected to port 4011",
            ));
        }
    }

    fn workaround_fields<'a, T: Tracer>(
        &'a self,
        d: &mut Decision<'a>,
        si: u32,
        local: Ipv4Addr,
        tr: &mut T,
    ) {
        let Some(Rule::Service(s)) = self.rule(si) else {
            return;
        };
        tr.event(Event::Rule {
            item: si,
            outcome: Outcome::Chosen,
        });
        d.service = Some(si);
        match &s.server {
            Some(ServerRef::Name(n)) => {
                d.siaddr = Ipv4Addr::UNSPECIFIED;
                d.siaddr_host = Some(n.as_str());
                d.sname = Some(Src::Ref(truncate(n.as_bytes(), 63)));
            }
            other => {
                d.siaddr = match other {
                    Some(ServerRef::Addr(a)) => *a,
                    _ => local,
                };
                d.sname = write_dotted(d, d.siaddr);
            }
        }
        if let Some(b) = s.basename() {
            d.file = Some(if b.contains('.') {
                Src::Ref(truncate(b.as_bytes(), 127))
            } else {
                write_file_with_layer(d, b, 0)
            });
        }
    }

    /// `option_filter`: the selected line (item index) per option number.
    fn selected_option<T: Tracer>(
        &self,
        code: u8,
        base: &TagSet,
        full: &TagSet,
        tr: &mut T,
    ) -> Option<u32> {
        let lines = self
            .index
            .opt_codes
            .iter()
            .find(|(c, _)| *c == code)
            .map_or(&[][..], |(_, l)| l.as_slice());
        let plain = |i: u32| match self.rule(i) {
            Some(Rule::Option(o)) => Some(o),
            _ => None,
        };
        // 1 + 2: tagged lines on the request's own tags, then the range tag.
        for pass in 0..2 {
            for &i in lines {
                let Some(o) = plain(i) else { continue };
                if o.cond.is_untagged() {
                    continue;
                }
                let ok = if pass == 0 {
                    check(&o.cond.0, base).is_ok() && check(&o.cond.0, full).is_ok()
                } else {
                    check(&o.cond.0, full).is_ok()
                };
                if ok {
                    return Some(i);
                }
            }
        }
        // 3: untagged.
        lines
            .iter()
            .copied()
            .find(|&i| plain(i).is_some_and(|o| o.cond.is_untagged()))
            .inspect(|&i| {
                tr.event(Event::Rule {
                    item: i,
                    outcome: Outcome::Chosen,
                });
            })
    }

    fn full<'a, T: Tracer>(
        &'a self,
        d: &mut Decision<'a>,
        facts: &Facts<'a>,
        ctx: &Context<'_>,
        base: &TagSet,
        tr: &mut T,
    ) {
        d.verdict = Verdict::Full;
        let tags = d.tags.clone();
        let prl = facts.parameter_request_list();
        let in_prl = |c: u8| prl.is_none_or(|l| l.contains(&c));
        let no_override = self.settings.no_override;
        let borken = facts.hostname().is_some_and(|h| h.last() == Some(&0));
        let pxe = d.pxe_vendor.is_some() && facts.arch().is_some();
        if !pxe {
            d.pxe_vendor = None;
        }

        // dhcp-broadcast and dhcp-reply-delay.
        d.broadcast = self.index.broadcasts.iter().any(|&i| match self.rule(i) {
            Some(Rule::CondList(_, c)) => holds(c, &tags, true).is_ok(),
            _ => false,
        });
        d.delay = self.find_delay(&tags);

        // Selected plain options per number (list order, one per number).
        let mut selected = [u32::MAX; 256];
        for (code, _) in &self.index.opt_codes {
            if let Some(sl) = self.selected_option(*code, base, &tags, tr) {
                selected[usize::from(*code)] = sl;
            }
        }
        let sel = |code: u8| -> Option<&OptionRule> {
            match self.rule(selected[usize::from(code)]) {
                Some(Rule::Option(o)) => Some(o),
                _ => None,
            }
        };

        // Boot fields.
        d.siaddr = ctx.local;
        let (mut done_file, mut done_sname) = (false, false);
        if let Some(bi) = self.find_boot(&tags, tr) {
            d.boot = Some(bi);
            if let Some(Rule::Boot(b)) = self.rule(bi) {
                match &b.server {
                    Some(ServerRef::Addr(a)) => d.siaddr = *a,
                    Some(ServerRef::Name(n)) => {
                        d.siaddr = Ipv4Addr::UNSPECIFIED;
                        d.siaddr_host = Some(n.as_str());
                    }
                    None => {}
                }
                if let Some(sn) = &b.server_name {
                    if prl.is_some() && in_prl(66) && !no_override {
                        let o = d.put(sn.as_bytes()).and_then(|o| d.put(&[0]).map(|_| o));
                        if let Some(o) = o {
                            d.boot_opts[0] = Some((66, Src::Buf(o, (sn.len() + 1) as u16)));
                        }
                    } else {
                        d.sname = Some(Src::Ref(truncate(sn.as_bytes(), 63)));
                    }
                    done_sname = true;
                }
                if let Some(f) = &b.file {
                    if prl.is_some() && in_prl(67) && !no_override {
                        let o = d.put(f.as_bytes()).and_then(|o| d.put(&[0]).map(|_| o));
                        if let Some(o) = o {
                            d.boot_opts[1] = Some((67, Src::Buf(o, (f.len() + 1) as u16)));
                        }
                    } else {
                        d.file = Some(Src::Ref(truncate(f.as_bytes(), 127)));
                    }
                    done_file = true;
                }
            }
        } else if let Some(o) = sel(255)
            && o.value.bytes.len() >= 4
        {
            d.siaddr = Ipv4Addr::new(
                o.value.bytes[0],
                o.value.bytes[1],
                o.value.bytes[2],
                o.value.bytes[3],
            );
        }
        // Unforced 66/67 that the client did not ask for go into the header.
        for (code, field) in [(67u8, true), (66u8, false)] {
            let done = if field { done_file } else { done_sname };
            if !done
                && let Some(o) = sel(code)
                && !o.force
                && (prl.is_none() || !in_prl(code))
            {
                let lim = if field { 127 } else { 63 };
                let v = Src::Ref(truncate(&o.value.bytes, lim));
                if field {
                    d.file = Some(v);
                    done_file = true;
                } else {
                    d.sname = Some(v);
                    done_sname = true;
                }
            }
        }

        // Configured options, list order.
        let mut configured_60 = false;
        for &i in &self.index.options {
            let Some(Rule::Option(o)) = self.rule(i) else {
                continue;
            };
            if o.space != OptSpace::Plain {
                continue;
            }
            let code = o.code;
            if selected[usize::from(code)] != i {
                if let Some(Rule::Option(_)) = self.rule(selected[usize::from(code)]) {
                    tr.event(Event::Rule {
                        item: i,
                        outcome: Outcome::Superseded(selected[usize::from(code)]),
                    });
                } else {
                    let why = holds(&o.cond, &tags, true)
                        .err()
                        .map_or(Outcome::Skipped("not selected"), Outcome::CondFailed);
                    tr.event(Event::Rule {
                        item: i,
                        outcome: why,
                    });
                }
                continue;
            }
            if matches!(code, 1 | 3 | 6 | 12 | 15 | 28) {
                d.suppressed[usize::from(code / 64)] |= 1 << (code % 64);
            }
            if matches!(code, 58 | 59) {
                d.configured_t[usize::from(code - 58)] = Some(&o.value.bytes);
                tr.event(Event::Rule {
                    item: i,
                    outcome: Outcome::Skipped("T1/T2 are computed by the server from this value"),
                });
                continue;
            }
            if matches!(code, 0 | 52 | 57 | 81 | 255) {
                tr.event(Event::Rule {
                    item: i,
                    outcome: Outcome::Skipped("option is never sent from configuration"),
                });
                continue;
            }
            if !(o.force || in_prl(code) || matches!(code, 1 | 28)) {
                tr.event(Event::Rule {
                    item: i,
                    outcome: Outcome::Skipped("not in the client's parameter request list (55)"),
                });
                continue;
            }
            if (code == 66 && done_sname) || (code == 67 && done_file) {
                tr.event(Event::Rule {
                    item: i,
                    outcome: Outcome::Skipped("boot field already set"),
                });
                continue;
            }
            if o.value.bytes.is_empty() && matches!(code, 1 | 3 | 6 | 12 | 15 | 28) {
                tr.event(Event::Rule {
                    item: i,
                    outcome: Outcome::Skipped("empty value: suppresses the built-in"),
                });
                continue;
            }
            if code == 60 && pxe {
                tr.event(Event::Rule {
                    item: i,
                    outcome: Outcome::Skipped("PXE client: option 60 is PXEClient"),
                });
                continue;
            }
            if code == 60 {
                configured_60 = true;
            }
            let nul = matches!(code, 66 | 67) || (borken && o.text);
            let bytes: &[u8] = if nul { &o.with_nul } else { &o.value.bytes };
            if !o.value.local_at.is_empty() {
                match d.put(bytes) {
                    Some(off) => {
                        let lo = ctx.local.octets();
                        for &a in &o.value.local_at {
                            let p = usize::from(off) + usize::from(a);
                            if let Some(dst) = d.buf.get_mut(p..p + 4) {
                                dst.copy_from_slice(&lo);
                            }
                        }
                        d.push(code, Src::Buf(off, bytes.len() as u16));
                    }
                    None => d.dropped += 1,
                }
            } else {
                d.push(code, Src::Ref(bytes));
            }
            tr.event(Event::Rule {
                item: i,
                outcome: Outcome::Chosen,
            });
        }

        // encap:N outers, in list order of their first qualifying line.
        let mut done_outer = [false; 256];
        for &i in &self.index.options {
            let Some(Rule::Option(o)) = self.rule(i) else {
                continue;
            };
            let OptSpace::Encap(outer) = o.space else {
                continue;
            };
            if done_outer[usize::from(outer)] {
                continue;
            }
            let q =
                |o: &OptionRule| holds(&o.cond, &tags, true).is_ok() && (o.force || in_prl(outer));
            if !q(o) {
                tr.event(Event::Rule {
                    item: i,
                    outcome: Outcome::Skipped("tags fail or the outer option was not requested"),
                });
                continue;
            }
            done_outer[usize::from(outer)] = true;
            let start = d.buf_len;
            for &j in &self.index.options {
                if let Some(Rule::Option(p)) = self.rule(j)
                    && p.space == OptSpace::Encap(outer)
                    && q(p)
                {
                    let v = &p.value.bytes;
                    if d.put(&[p.code, v.len() as u8]).is_none() || d.put(v).is_none() {
                        d.dropped += 1;
                    } else {
                        tr.event(Event::Rule {
                            item: j,
                            outcome: Outcome::Chosen,
                        });
                    }
                }
            }
            let len = d.buf_len - start;
            Self::emit_encap(d, outer, start, len);
        }

        // vi-encap (125): one option per enterprise.
        let mut done_ent: [u32; 16] = [u32::MAX; 16];
        let mut n_ent = 0;
        for &i in &self.index.options {
            let Some(Rule::Option(o)) = self.rule(i) else {
                continue;
            };
            let OptSpace::ViEncap(ent) = o.space else {
                continue;
            };
            if done_ent[..n_ent].contains(&ent) {
                continue;
            }
            let q =
                |o: &OptionRule| holds(&o.cond, &tags, true).is_ok() && (o.force || in_prl(125));
            if !q(o) {
                continue;
            }
            if n_ent < done_ent.len() {
                done_ent[n_ent] = ent;
                n_ent += 1;
            }
            let start = d.buf_len;
            let ok = d.put(&ent.to_be_bytes()).is_some() && d.put(&[0]).is_some();
            if !ok {
                d.dropped += 1;
                continue;
            }
            for &j in &self.index.options {
                if let Some(Rule::Option(p)) = self.rule(j)
                    && p.space == OptSpace::ViEncap(ent)
                    && q(p)
                {
                    let v = &p.value.bytes;
                    if d.put(&[p.code, v.len() as u8]).is_none() || d.put(v).is_none() {
                        d.dropped += 1;
                    }
                }
            }
            let sub_len = d.buf_len - start - 5;
            if sub_len > 250 {
                tr.event(Event::Note(
                    "vi-encap sub-options exceed 250 bytes: not sent",
                ));
                d.buf_len = start;
                continue;
            }
            d.buf[start + 4] = sub_len as u8;
            d.push(125, Src::Buf(start as u16, (d.buf_len - start) as u16));
        }

        // PXE extras and option 43.
        if pxe {
            Self::pxe_misc(d, facts);
        }
        let start = d.buf_len;
        let mut menu_len = 0;
        if pxe {
            let arch = facts.arch().unwrap_or(0);
            if self.uefi_single_service(arch, &tags).is_some() {
                d.uefi_workaround = true;
                tr.event(Event::Note(
                    "UEFI client with exactly one matching pxe-service: no PXE menu",
                ));
            } else {
                menu_len = self.pxe_menu(d, facts, arch, ctx.local, tr);
            }
        }
        let (vl, any_vendor, forced) = self.vendor_tlvs(d, facts, tr);
        if (forced || in_prl(43)) && (menu_len > 0 || any_vendor) {
            Self::emit_encap(d, 43, start, menu_len + vl);
            if !pxe
                && !configured_60
                && let Some(v) = facts.vendor_class()
            {
                d.push(60, Src::Ref(v));
            }
        } else {
            d.buf_len = start;
            if menu_len + vl > 0 {
                tr.event(Event::Note(
                    "option 43 not sent: not requested and no vendor line forced",
                ));
            }
        }
    }

    fn find_delay(&self, tags: &TagSet) -> u32 {
        for pass in [false, true] {
            for &i in &self.index.delays {
                if let Some(Rule::Delay(dl)) = self.rule(i)
                    && dl.cond.is_untagged() == pass
                    && (pass || check(&dl.cond.0, tags).is_ok())
                {
                    return dl.secs;
                }
            }
        }
        0
    }
}

/// Broadband Forum's IANA enterprise number (TR-069 devices).
const BROADBAND_FORUM: u32 = 3561;

/// Option 125 (RFC 3925) with a Broadband Forum block carrying both the
/// device's OUI (sub-option 4) and serial number (5): dnsmasq's
/// `cpewan-id` condition. Malformed data matches nothing.
fn is_cpewan(v: &[u8]) -> bool {
    enterprise_blocks(v)
        .filter(|(e, _)| *e == BROADBAND_FORUM)
        .any(|(_, data)| {
            let (mut oui, mut serial) = (false, false);
            let mut subs = data;
            while let [code, sl, more @ ..] = subs {
                let Some((_, after)) = more.split_at_checked(usize::from(*sl)) else {
                    break;
                };
                oui |= *code == 4;
                serial |= *code == 5;
                subs = after;
            }
            oui && serial
        })
}

/// The `(enterprise number, data)` blocks of option 124 or 125 (RFC 3925);
/// a block whose length runs past the end ends the walk.
fn enterprise_blocks(mut v: &[u8]) -> impl Iterator<Item = (u32, &[u8])> {
    core::iter::from_fn(move || {
        let [a, b, c, d, len, rest @ ..] = v else {
            return None;
        };
        let (data, next) = rest.split_at_checked(usize::from(*len))?;
        v = next;
        Some((u32::from_be_bytes([*a, *b, *c, *d]), data))
    })
}

fn set<T: Tracer>(tags: &mut TagSet, t: TagId, source: TagSource, tr: &mut T) {
    if tags.insert(t) {
        tr.event(Event::TagSet { tag: t, source });
    }
}

/// A tag-source line's result (`dhcp-match`, `dhcp-mac`, `dhcp-circuitid`
/// and the like): on a hit its tag is set, then the outcome is traced.
fn tag_rule<T: Tracer>(
    tags: &mut TagSet,
    t: TagId,
    item: u32,
    hit: bool,
    why: &'static str,
    tr: &mut T,
) {
    let outcome = if hit {
        set(tags, t, TagSource::Rule(item), tr);
        Outcome::Matched
    } else {
        Outcome::NoMatch(why)
    };
    tr.event(Event::Rule { item, outcome });
}

fn eval_match(m: &MatchRule, facts: &Facts<'_>) -> (bool, &'static str) {
    match m.source {
        MatchSource::Option(code) => {
            let Some(v) = facts.option(code) else {
                return (false, "option absent");
            };
            if v.is_empty() {
                return (false, "option empty");
            }
            match &m.value {
                None => (true, ""),
                Some(val) => {
                    if match_bytes(val, v) {
                        (true, "")
                    } else {
                        (false, "value differs")
                    }
                }
            }
        }
        MatchSource::ViEncap(ent) => {
            let Some(v) = facts.option(124) else {
                return (false, "option 124 absent");
            };
            for (_, data) in enterprise_blocks(v).filter(|(e, _)| *e == ent) {
                let Some(val) = &m.value else {
                    return (true, "");
                };
                let mut s = data;
                while let [l, rest @ ..] = s {
                    let Some((item, next)) = rest.split_at_checked(usize::from(*l)) else {
                        break;
                    };
                    if match_bytes(val, item) {
                        return (true, "");
                    }
                    s = next;
                }
            }
            (false, "no matching vendor class block")
        }
    }
}

fn service_server(s: &PxeService, local: Ipv4Addr) -> Option<Ipv4Addr> {
    if s.basename().is_some() {
        return Some(local);
    }
    match &s.server {
        Some(ServerRef::Addr(a)) if !a.is_unspecified() => Some(*a),
        // Names are resolved from the hosts file by dnsmasq; unresolved
        // here, so treated as unknown.
        _ => None,
    }
}

fn truncate(b: &[u8], n: usize) -> &[u8] {
    &b[..b.len().min(n)]
}

fn write_file_with_layer<'a>(d: &mut Decision<'a>, base: &str, layer: u16) -> Src<'a> {
    let mut tmp = [0u8; 6];
    let mut n = 0;
    let mut l = layer;
    let mut digits = [0u8; 5];
    let mut k = 0;
    loop {
        digits[k] = b'0' + (l % 10) as u8;
        k += 1;
        l /= 10;
        if l == 0 {
            break;
        }
    }
    tmp[n] = b'.';
    n += 1;
    while k > 0 {
        k -= 1;
        tmp[n] = digits[k];
        n += 1;
    }
    let b = truncate(base.as_bytes(), 127usize.saturating_sub(n));
    match (d.put(b), d.put(&tmp[..n])) {
        (Some(o), Some(_)) => Src::Buf(o, (b.len() + n) as u16),
        _ => {
            d.dropped += 1;
            Src::Ref(&[])
        }
    }
}

fn write_dotted<'a>(d: &mut Decision<'a>, a: Ipv4Addr) -> Option<Src<'a>> {
    let mut tmp = [0u8; 15];
    let mut n = 0;
    for (i, o) in a.octets().iter().enumerate() {
        if i > 0 {
            tmp[n] = b'.';
            n += 1;
        }
        let mut v = *o;
        let mut ds = [0u8; 3];
        let mut k = 0;
        loop {
            ds[k] = b'0' + v % 10;
            k += 1;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        while k > 0 {
            k -= 1;
            tmp[n] = ds[k];
            n += 1;
        }
    }
    d.put(&tmp[..n]).map(|o| Src::Buf(o, n as u16))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_class_rfc3004_counts_are_zeroed() {
        // [4]"iPXE": the count byte 4 must not match.
        assert!(user_class_matches(&[4, b'i', b'P', b'X', b'E'], b"iPXE"));
        assert!(!user_class_matches(&[4, b'i', b'P', b'X', b'E'], &[4]));
        assert!(user_class_matches(b"iPXE", b"PXE"));
    }

    #[test]
    fn enterprise_blocks_stop_at_a_bad_length() {
        let v = [0, 0, 13, 233, 2, 9, 9, 0, 0, 0, 1, 9, 1];
        let b: alloc::vec::Vec<_> = enterprise_blocks(&v).collect();
        assert_eq!(b, [(3561, &[9u8, 9][..])]);
        // OUI (4) and serial (5) in the Broadband Forum block.
        assert!(is_cpewan(&[0, 0, 13, 233, 6, 4, 1, b'a', 5, 1, b'b']));
        assert!(!is_cpewan(&[0, 0, 13, 233, 3, 4, 1, b'a']));
        assert!(!is_cpewan(&[0, 0, 13, 234, 6, 4, 1, b'a', 5, 1, b'b']));
    }

    #[test]
    fn vi_encap_match_walks_blocks_and_items() {
        let c = Config::parse_str(
            "dhcp-match=set:any,vi-encap:3561\ndhcp-match=set:v,vi-encap:3561,abc\n",
            "t.conf",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let get = |name| c.tag(name).unwrap_or_else(|| panic!("{name}"));
        let (any, v) = (get("any"), get("v"));
        let run = |o124: &[u8]| {
            let opts = [(53u8, &[1u8][..]), (124, o124)];
            let f = Facts::from_options(1, &[1, 2, 3, 4, 5, 6], Ipv4Addr::UNSPECIFIED, &opts);
            let ctx = Context::new(Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(255, 0, 0, 0));
            let d = c.evaluate(&f, &ctx);
            (d.tags().contains(any), d.tags().contains(v))
        };
        // Another enterprise first, then 3561 with items "xy" and "abc".
        let ok = [
            0, 0, 0, 9, 1, 7, 0, 0, 13, 233, 7, 2, b'x', b'y', 3, b'a', b'b', b'c',
        ];
        assert_eq!(run(&ok), (true, true));
        assert_eq!(
            run(&ok[..14]),
            (false, false),
            "the block runs past the end"
        );
        assert_eq!(run(&ok[..6]), (false, false));
        assert_eq!(
            run(&[0, 0, 13, 233, 3, 9, b'a', b'b']),
            (true, false),
            "item too long"
        );
    }
}
