//! Full DHCP (RFC 2131 as dnsmasq's `rfc2131.c: dhcp_reply` does it): one handler per
//! message type, and REQUEST handled by its RFC 2131 §4.3.2 state.

use alloc::string::String;
use core::net::Ipv4Addr;

use pxe_dhcp::{MessageType, Packet};
use pxe_rules::config::Range;

use super::event::{DropDetail, LeaseEvent, NakReason, ReplyKind, Silence};
use super::hostname;
use super::metrics::DropReason;
use super::{DEFAULT_LEASE, Discard, Engine, Exchange, RAPID_COMMIT, Step, timing};
use crate::lease::table::OFFER_HOLD_SECS;
use crate::lease::{AllocError, Lease, LeaseChange, NEVER};

/// Where the client's address can come from on the network the request
/// arrived from.
struct Scope<'x> {
    /// The range the rules chose.
    range: &'x Range,
    /// Its `dhcp-host` address, when that is on this network.
    static_addr: Option<Ipv4Addr>,
    /// The lease pool of the range (dynamic ranges only).
    pool: Option<usize>,
}

/// The state a DHCPREQUEST was sent in, derived once from option 50
/// (requested address), option 54 (server id), `ciaddr` and whether it was
/// broadcast (RFC 2131 §4.3.2), in dnsmasq's reading: option 50 decides
/// between SELECTING/INIT-REBOOT and RENEWING/REBINDING, so a renewal that
/// carries a server id is still a renewal of `ciaddr`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RequestState {
    /// Answering an offer: requested address and server id.
    Selecting {
        server_id: Ipv4Addr,
        requested: Ipv4Addr,
    },
    /// Rebooting with a remembered address: requested address, no server
    /// id.
    InitReboot { requested: Ipv4Addr },
    /// Extending its lease with this server: `ciaddr`, unicast.
    Renewing { ciaddr: Ipv4Addr },
    /// Extending its lease with any server: `ciaddr`, broadcast.
    Rebinding { ciaddr: Ipv4Addr },
    /// No option 50 and `ciaddr` 0: no field names an address.
    Unaddressed { broadcast: bool },
}

impl RequestState {
    /// The state of REQUEST `p`, which arrived broadcast or not.
    fn of(p: &Packet<&[u8]>, broadcast: bool) -> Self {
        if let Some(requested) = p.requested_ip().ok().flatten() {
            return match p.server_id().ok().flatten() {
                Some(server_id) => RequestState::Selecting {
                    server_id,
                    requested,
                },
                None => RequestState::InitReboot { requested },
            };
        }
        let ciaddr = p.ciaddr();
        if ciaddr.is_unspecified() {
            RequestState::Unaddressed { broadcast }
        } else if broadcast {
            RequestState::Rebinding { ciaddr }
        } else {
            RequestState::Renewing { ciaddr }
        }
    }
}

/// Why a REQUEST is not ACKed.
enum Refusal {
    /// Answer with this NAK.
    Nak(NakReason),
    /// Do not answer.
    Silent(Silence),
}

impl Engine {
    /// Full DHCP: the handler for the message type (DISCOVER, REQUEST,
    /// DECLINE, RELEASE, INFORM, BOOTP), with dnsmasq's NAK reasons.
    pub(super) fn full<'x>(&mut self, x: &Exchange<'x>, out: &mut [u8]) -> Step<'x> {
        let Some(range) = x.d.range() else {
            return Step::Drop(Discard::new(DropReason::NoRange));
        };
        let host = x.d.host();
        let scope = Scope {
            range,
            static_addr: host
                .and_then(|h| h.addr)
                .filter(|a| range.same_net(*a, x.rx.netmask)),
            pool: self.pool_for(range),
        };
        match x.req.mt {
            None => self.on_bootp(x, &scope, out),
            Some(MessageType::Discover) => self.on_discover(x, &scope, out),
            Some(MessageType::Request) => self.on_request(x, &scope, out),
            Some(MessageType::Decline) => self.on_decline(x),
            Some(MessageType::Release) => self.on_release(x),
            Some(MessageType::Inform) => self.on_inform(x, out),
            Some(_) => Step::Drop(Discard::new(DropReason::UnknownMessageType)),
        }
    }

    fn pool_for(&self, r: &Range) -> Option<usize> {
        self.pool_of_range
            .iter()
            .find(|(s, e, _)| *s == r.start && *e == r.end)
            .map(|(_, _, i)| *i)
    }

    /// BOOTP: only for `dhcp-host` addresses (pxe-rules checked), leased
    /// forever.
    fn on_bootp<'x>(&mut self, x: &Exchange<'x>, scope: &Scope<'_>, out: &mut [u8]) -> Step<'x> {
        let Some(addr) = scope.static_addr else {
            return Step::Drop(Discard::with(
                DropReason::Ignored,
                DropDetail::BootpWithoutReservation,
            ));
        };
        Step::Reply(match self.grant(x, addr, timing::INFINITE) {
            Ok(()) => self.reply_bootp(x, out, addr),
            Err(n) => self.nak(x, n, out),
        })
    }

    /// DISCOVER: choose an address and offer it (or, with rapid commit
    /// asked and allowed, grant it at once).
    fn on_discover<'x>(&mut self, x: &Exchange<'x>, scope: &Scope<'_>, out: &mut [u8]) -> Step<'x> {
        if !self.share.answers(x.req.hw.as_bytes(), x.req.pkt.secs()) {
            return Step::Silent(Silence::OtherServersClient);
        }
        if self.store_down {
            // No new allocation without the store.
            self.metrics.store_down_refusals += 1;
            return Step::Silent(Silence::StoreUnavailable);
        }
        if self.over_lease_max(x) {
            return Step::Silent(Silence::LeaseMax);
        }
        let (cid, hw, now) = (x.req.client_id, x.req.hw, x.now);
        let addr = match scope.static_addr {
            Some(a) => a,
            None => {
                let Some(pi) = scope.pool else {
                    return Step::Silent(Silence::NoDynamicAddress);
                };
                let requested = x.req.pkt.requested_ip().ok().flatten();
                match self.leases.choose(pi, cid, &hw, requested, now) {
                    Ok(a) => a,
                    Err(e) => return Step::Silent(Silence::NoAddress(e)),
                }
            }
        };
        if self.config.settings.rapid_commit && x.req.pkt.option(RAPID_COMMIT).is_some() {
            // RFC 4039: commit at once and answer with the ACK.
            return self.ack(x, addr, out);
        }
        self.leases.hold_offer(addr, cid, &hw, now);
        if self.shared_store {
            // Claimed in the shared store before the OFFER leaves.
            self.changes.push(LeaseChange::Offer(Lease {
                addr,
                hw,
                client_id: cid.map(<[u8]>::to_vec),
                hostname: None,
                expires: now.saturating_add(OFFER_HOLD_SECS),
            }));
        }
        Step::Reply(self.reply_full(x, out, MessageType::Offer, addr))
    }

    /// REQUEST: the address its state names, checked, then granted.
    fn on_request<'x>(&mut self, x: &Exchange<'x>, scope: &Scope<'_>, out: &mut [u8]) -> Step<'x> {
        let addr = match self.requested_address(x, RequestState::of(x.req.pkt, x.rx.broadcast)) {
            Ok(a) => a,
            Err(Refusal::Nak(n)) => return Step::Reply(self.nak(x, n, out)),
            Err(Refusal::Silent(s)) => return Step::Silent(s),
        };
        if let Err(n) = self.check_grantable(x, scope, addr) {
            return Step::Reply(self.nak(x, n, out));
        }
        self.ack(x, addr, out)
    }

    /// The address a REQUEST in `state` asks for, or why it gets none.
    fn requested_address(
        &self,
        x: &Exchange<'_>,
        state: RequestState,
    ) -> Result<Ipv4Addr, Refusal> {
        let authoritative = self.config.settings.authoritative;
        let lease_addr = self
            .leases
            .find(x.req.client_id, &x.req.hw)
            .filter(|l| l.is_active(x.now))
            .map(|l| l.addr);
        // No lease for the address the client renews: a server that is not
        // authoritative cannot know it is free (another server may hold
        // it); an authoritative one grants it if it can (the checks that
        // follow), which keeps running machines up across a lost lease
        // file or a server replacement.
        let unknown = |addr: Ipv4Addr| match lease_addr {
            Some(l) => l != addr,
            None => !authoritative,
        };
        match state {
            RequestState::Selecting {
                server_id,
                requested,
            } => {
                if server_id != x.rx.local {
                    return Err(if authoritative {
                        Refusal::Nak(NakReason::WrongServerId)
                    } else {
                        Refusal::Silent(Silence::ChoseOtherServer(server_id))
                    });
                }
                Ok(requested)
            }
            RequestState::InitReboot { requested } => match lease_addr {
                None if !authoritative => {
                    Err(Refusal::Silent(Silence::InitRebootUnknown(requested)))
                }
                Some(l) if l != requested => Err(Refusal::Nak(NakReason::WrongAddress)),
                _ => Ok(requested),
            },
            RequestState::Renewing { ciaddr } if unknown(ciaddr) => {
                // Unicast to us for a lease we do not have: wrong.
                Err(Refusal::Nak(NakReason::LeaseNotFound))
            }
            RequestState::Rebinding { ciaddr } if unknown(ciaddr) => {
                // Broadcast: the lease may be another server's.
                Err(Refusal::Silent(Silence::RebindingUnknown(ciaddr)))
            }
            RequestState::Renewing { ciaddr } | RequestState::Rebinding { ciaddr } => Ok(ciaddr),
            RequestState::Unaddressed { broadcast } => {
                if broadcast && unknown(Ipv4Addr::UNSPECIFIED) {
                    Err(Refusal::Silent(Silence::RebindingUnknown(
                        Ipv4Addr::UNSPECIFIED,
                    )))
                } else {
                    Err(Refusal::Nak(NakReason::NoAddressRequested))
                }
            }
        }
    }

    /// Whether `addr` may be granted to this client, in dnsmasq's order of
    /// checks.
    fn check_grantable(
        &self,
        x: &Exchange<'_>,
        scope: &Scope<'_>,
        addr: Ipv4Addr,
    ) -> Result<(), NakReason> {
        if !scope.range.same_net(addr, x.rx.netmask) {
            return Err(NakReason::WrongNetwork);
        }
        match scope.static_addr {
            Some(s) if s != addr => return Err(NakReason::StaticLeaseAvailable),
            Some(_) => {}
            None => {
                let in_pool = scope.pool.is_some_and(|pi| {
                    self.leases
                        .pools()
                        .get(pi)
                        .is_some_and(|pl| pl.contains(addr))
                });
                if !in_pool {
                    return Err(NakReason::AddressNotAvailable);
                }
            }
        }
        if let Err(e) = self
            .leases
            .check_free(addr, x.req.client_id, &x.req.hw, x.now)
        {
            return Err(match e {
                AllocError::Reserved(_) => NakReason::AddressReserved,
                AllocError::InUse(_) => NakReason::AddressInUse,
                _ => NakReason::AddressNotAvailable,
            });
        }
        if self.over_lease_max(x) {
            return Err(NakReason::NoLeasesLeft);
        }
        Ok(())
    }

    /// Grant `addr` for the lease time the rules and the client agree on,
    /// and ACK it (NAK if the table refuses).
    fn ack<'x>(&mut self, x: &Exchange<'x>, addr: Ipv4Addr, out: &mut [u8]) -> Step<'x> {
        if self.store_down {
            return self.ack_from_cache(x, addr, out);
        }
        let secs = self.times(x).lease;
        Step::Reply(match self.grant(x, addr, secs) {
            Ok(()) => self.reply_full(x, out, MessageType::Ack, addr),
            Err(n) => self.nak(x, n, out),
        })
    }

    /// Degraded mode: ACK `addr` only if the table holds this client's
    /// live lease on it — which the store has — and for no longer than
    /// that lease has left, so nothing needs writing.
    fn ack_from_cache<'x>(&mut self, x: &Exchange<'x>, addr: Ipv4Addr, out: &mut [u8]) -> Step<'x> {
        let left = match self.leases.get(addr) {
            Some(l) if l.belongs_to(x.req.client_id, &x.req.hw) && l.is_active(x.now) => {
                if l.expires == NEVER {
                    timing::INFINITE
                } else {
                    u32::try_from(l.expires - x.now).unwrap_or(timing::INFINITE - 1)
                }
            }
            _ => 0,
        };
        // The shortest lease an ACK may carry: below it, the client would
        // be told more than the store holds.
        if left < timing::MIN_LEASE {
            self.metrics.store_down_refusals += 1;
            return Step::Silent(Silence::StoreUnavailable);
        }
        self.metrics.acks_from_cache += 1;
        self.lease_cap = Some(left);
        let sent = self.reply_full(x, out, MessageType::Ack, addr);
        self.lease_cap = None;
        Step::Reply(sent)
    }

    /// Commits the lease of `addr` for `secs` and queues its changes.
    fn grant(&mut self, x: &Exchange<'_>, addr: Ipv4Addr, secs: u32) -> Result<(), NakReason> {
        let req = &x.req;
        // The lease keeps the name the ACK gives (dnsmasq's
        // `lease_set_hostname` with the same name).
        let mut generated = [0u8; hostname::GENERATED_MAX];
        let hostname = self
            .reply_name(ReplyKind::Ack, x, &mut generated)
            .and_then(|n| core::str::from_utf8(n).ok())
            .map(String::from);
        let lease = Lease {
            addr,
            hw: req.hw,
            client_id: req.client_id.map(<[u8]>::to_vec),
            hostname,
            expires: if secs == timing::INFINITE {
                NEVER
            } else {
                x.now.saturating_add(u64::from(secs))
            },
        };
        let changes = self
            .leases
            .commit(lease, x.now)
            .map_err(NakReason::Commit)?;
        self.changes.extend(changes);
        Ok(())
    }

    /// DECLINE from the address's holder: the lease goes, the address is
    /// kept out of use.
    fn on_decline<'x>(&mut self, x: &Exchange<'x>) -> Step<'x> {
        let p = &x.req.pkt;
        if p.server_id().ok().flatten() != Some(x.rx.local) {
            return Step::Silent(Silence::OtherServer);
        }
        let Some(a) = p.requested_ip().ok().flatten() else {
            return Step::Drop(Discard::with(
                DropReason::BadOptions,
                DropDetail::DeclineWithoutAddress,
            ));
        };
        match self.leases.decline(a, x.req.client_id, &x.req.hw, x.now) {
            Some(c) => {
                self.changes.push(c);
                Step::Lease(LeaseEvent::Declined(a))
            }
            // Only the holder may decline: a stranger's DECLINE would
            // otherwise take any address out of use.
            None => Step::Lease(LeaseEvent::DeclineRefused(a)),
        }
    }

    /// RELEASE of the client's lease on `ciaddr`.
    fn on_release<'x>(&mut self, x: &Exchange<'x>) -> Step<'x> {
        let p = &x.req.pkt;
        if p.server_id().ok().flatten() != Some(x.rx.local) {
            return Step::Silent(Silence::OtherServer);
        }
        let a = p.ciaddr();
        match self.leases.release(a, x.req.client_id, &x.req.hw) {
            Some(c) => {
                self.changes.push(c);
                Step::Lease(LeaseEvent::Released(a))
            }
            None => Step::Lease(LeaseEvent::ReleaseUnknown(a)),
        }
    }

    /// INFORM: options for a client that has its address.
    fn on_inform<'x>(&mut self, x: &Exchange<'x>, out: &mut [u8]) -> Step<'x> {
        if x.req.pkt.ciaddr().is_unspecified() {
            return Step::Drop(Discard::with(
                DropReason::BadOptions,
                DropDetail::InformWithoutCiaddr,
            ));
        }
        Step::Reply(self.reply_inform(x, out))
    }

    /// `dhcp-lease-max`: a new client would exceed the configured number of
    /// active leases.
    fn over_lease_max(&self, x: &Exchange<'_>) -> bool {
        let Some(max) = self.config.settings.lease_max else {
            return false;
        };
        let now = x.now;
        if self
            .leases
            .find(x.req.client_id, &x.req.hw)
            .is_some_and(|l| l.is_active(now))
        {
            return false;
        }
        // len() counts expired leases too: cheap, and only when it reaches
        // the limit are the active ones counted.
        self.leases.len() >= max as usize && self.leases.active(now).count() >= max as usize
    }

    /// Lease time, T1 and T2 for this request (dnsmasq's `calc_time`, see
    /// [`timing`]).
    pub(super) fn times(&self, x: &Exchange<'_>) -> timing::Times {
        let d = x.d;
        let configured = d.lease_time().map_or(DEFAULT_LEASE, |l| l.as_secs());
        let requested = x.req.pkt.lease_time().ok().flatten();
        // Degraded mode: no more than the store holds (see
        // `ack_from_cache`); `times` takes a shorter requested time.
        let requested = match (requested, self.lease_cap) {
            (Some(r), Some(c)) => Some(r.min(c)),
            (r, c) => r.or(c),
        };
        let (t1, t2) = d.configured_t1_t2();
        let be = |v: Option<&[u8]>| {
            v.and_then(|b| b.get(..4))
                .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        };
        timing::times(configured, requested, be(t1), be(t2), 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pxe_dhcp::Builder;

    fn state(ciaddr: [u8; 4], opts: &[(u8, [u8; 4])], broadcast: bool) -> RequestState {
        let mut buf = [0u8; 600];
        let mut b = Builder::new(&mut buf).unwrap();
        b.xid(1).ciaddr(Ipv4Addr::from(ciaddr));
        b.chaddr(1, &[2, 0, 0, 0, 0, 1]).unwrap();
        b.message_type(MessageType::Request).unwrap();
        for (c, v) in opts {
            b.option(*c, v).unwrap();
        }
        let n = b.finish().unwrap();
        RequestState::of(&Packet::new_checked(&buf[..n]).unwrap(), broadcast)
    }

    #[test]
    fn request_state_follows_rfc_2131_4_3_2() {
        let a = Ipv4Addr::new(10, 0, 0, 5);
        let s = Ipv4Addr::new(10, 0, 0, 1);
        let (zero, sid, req) = ([0; 4], (54, s.octets()), (50, a.octets()));
        assert_eq!(
            state(zero, &[sid, req], true),
            RequestState::Selecting {
                server_id: s,
                requested: a
            }
        );
        assert_eq!(
            state(a.octets(), &[sid], false),
            RequestState::Renewing { ciaddr: a },
            "a renewal with a server id renews ciaddr (as dnsmasq reads it)"
        );
        assert_eq!(
            state(zero, &[req], true),
            RequestState::InitReboot { requested: a }
        );
        assert_eq!(
            state(a.octets(), &[], false),
            RequestState::Renewing { ciaddr: a }
        );
        assert_eq!(
            state(a.octets(), &[], true),
            RequestState::Rebinding { ciaddr: a }
        );
        assert_eq!(
            state(zero, &[], true),
            RequestState::Unaddressed { broadcast: true }
        );
        // Option 50 wins over ciaddr (as dnsmasq reads it).
        assert_eq!(
            state(a.octets(), &[req], false),
            RequestState::InitReboot { requested: a }
        );
    }
}
