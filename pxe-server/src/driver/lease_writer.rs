//! The group-commit lease writer: stages every queued exchange's lease
//! changes in the store, makes them durable in one step (one `fdatasync`,
//! or one database transaction), then sends the replies of the exchanges
//! the store accepted; between batches, the store's maintenance
//! (compaction, the dnsmasq-format file, the cache refreshed from a shared
//! database).

use std::net::{Ipv4Addr, SocketAddrV4, SocketAddrV6};
use std::sync::Arc;
use std::vec::Vec;

use pxe_engine::lease::{Conflict, HwAddr, LeaseChange, LeaseStore, Owner, Verdict};

use crate::driver::clock::unix_now;
use crate::driver::engine::{SharedEngine, lock};
use crate::driver::net::PktSocket;
use crate::driver::store::{Store, StoreError};

/// A reply the engine built, waiting to leave: `len` bytes of `buf` by
/// `route`, not before `send_at` (`dhcp-reply-delay`; `None`: at once).
pub(crate) struct Pending {
    pub(crate) route: Route,
    pub(crate) len: usize,
    pub(crate) buf: Vec<u8>,
    pub(crate) send_at: Option<tokio::time::Instant>,
    /// The store refused the exchange's claim: not sent.
    pub(crate) withheld: bool,
}

/// Where a reply leaves.
pub(crate) enum Route {
    /// To `dest` on DHCP socket number `sock`, out of interface `ifindex`
    /// from address `src`.
    V4 {
        sock: usize,
        dest: SocketAddrV4,
        ifindex: u32,
        src: Ipv4Addr,
    },
    /// To `dest` (its scope id the interface) from the DHCPv6 socket.
    V6 {
        sock: Arc<tokio::net::UdpSocket>,
        dest: SocketAddrV6,
    },
}

/// Sends `p` from `sock` at its `send_at` time, on a task of its own (the
/// caller goes on with other replies).
pub(crate) fn send_later(rt: &tokio::runtime::Handle, sock: Arc<PktSocket>, p: Pending) {
    rt.spawn(async move {
        if let Some(at) = p.send_at {
            tokio::time::sleep_until(at).await;
        }
        let sent = match &p.route {
            Route::V4 {
                dest, ifindex, src, ..
            } => sock
                .send(&p.buf[..p.len], *dest, *ifindex, Some(*src))
                .await
                .map(|_| ()),
            Route::V6 { sock, dest } => sock.send_to(&p.buf[..p.len], *dest).await.map(|_| ()),
        };
        if let Err(err) = sent {
            tracing::warn!("DHCP send failed: {err}");
        }
    });
}

/// One exchange of a [`Job`]: its changes end at `end` in
/// [`Job::changes`] (and start where the previous exchange's end), made
/// for the client `hw`/`client_id`; its reply, if any, is
/// `Job::replies[reply]`.
pub(crate) struct Exchange {
    pub(crate) end: usize,
    pub(crate) hw: HwAddr,
    pub(crate) client_id: Option<Vec<u8>>,
    pub(crate) reply: Option<usize>,
}

impl Exchange {
    /// The exchange whose changes [`Job::changes`] now ends with.
    pub(crate) fn of(owner: Owner<'_>, end: usize) -> Exchange {
        Exchange {
            end,
            hw: owner.hw,
            client_id: owner.client_id.map(<[u8]>::to_vec),
            reply: None,
        }
    }
}

/// Lease changes and the replies that announce them: the writer thread
/// persists the changes (one commit for everything queued) and only then
/// sends the replies of the exchanges the store accepted. The writer
/// hands the emptied job (with the reply buffers) back to its worker
/// through `done`, so in steady state no packet allocates.
pub(crate) struct Job {
    pub(crate) changes: Vec<LeaseChange>,
    pub(crate) exchanges: Vec<Exchange>,
    pub(crate) replies: Vec<Pending>,
    pub(crate) done: std::sync::mpsc::Sender<Job>,
}

/// Sends a reply from the writer thread (outside the runtime); a failure
/// is logged, as a lost datagram is for the client to retry.
fn send_pending(socks: &[Arc<PktSocket>], p: &Pending) {
    let sent = match &p.route {
        Route::V4 {
            sock,
            dest,
            ifindex,
            src,
        } => match socks.get(*sock) {
            Some(s) => s
                .send_sync(&p.buf[..p.len], *dest, *ifindex, Some(*src))
                .map(|_| ()),
            None => Ok(()),
        },
        Route::V6 { sock, dest } => sock
            .try_send_to(&p.buf[..p.len], (*dest).into())
            .map(|_| ()),
    };
    if let Err(err) = sent {
        tracing::warn!("DHCP send failed: {err}");
    }
}

/// Stages every exchange of `batch` and commits them once; marks the
/// replies of refused exchanges withheld and returns their conflicts.
fn commit_batch(
    store: &mut Store,
    batch: &mut [Job],
    verdicts: &mut Vec<Verdict>,
) -> Result<Vec<Conflict>, StoreError> {
    let mut staged = 0usize;
    for j in batch.iter() {
        let mut start = 0;
        for x in &j.exchanges {
            let owner = Owner {
                hw: x.hw,
                client_id: x.client_id.as_deref(),
            };
            store.stage(owner, &j.changes[start..x.end])?;
            start = x.end;
            staged += 1;
        }
    }
    verdicts.clear();
    store.commit(verdicts)?;
    let mut conflicts = Vec::new();
    if verdicts.len() != staged {
        // A store that answers for fewer exchanges than it was given:
        // nothing of the batch may be taken as durable.
        tracing::error!(
            "lease store {}: {} verdicts for {staged} exchanges; replies withheld",
            store.describe(),
            verdicts.len()
        );
        for j in batch.iter_mut() {
            for p in &mut j.replies {
                p.withheld = true;
            }
        }
        return Ok(conflicts);
    }
    let mut v = verdicts.drain(..);
    for j in batch.iter_mut() {
        for x in &j.exchanges {
            if let Some(Verdict::Refused(c)) = v.next() {
                if let Some(p) = x.reply.and_then(|r| j.replies.get_mut(r)) {
                    p.withheld = true;
                }
                conflicts.push(c);
            }
        }
    }
    Ok(conflicts)
}

/// Sends the replies of a committed batch (a reply with a not-before time
/// still to come, on a timer on `rt`) and hands each job back.
fn send_batch(batch: &mut Vec<Job>, socks: &[Arc<PktSocket>], rt: &tokio::runtime::Handle) {
    for mut j in batch.drain(..) {
        let now = tokio::time::Instant::now();
        for p in j
            .replies
            .extract_if(.., |p| !p.withheld && p.send_at.is_some_and(|at| at > now))
        {
            let sock = match &p.route {
                Route::V4 { sock, .. } => socks.get(*sock),
                Route::V6 { .. } => socks.first(),
            };
            if let Some(s) = sock {
                send_later(rt, s.clone(), p);
            }
        }
        for p in j.replies.iter().filter(|p| !p.withheld) {
            send_pending(socks, p);
        }
        j.changes.clear();
        j.exchanges.clear();
        let done = j.done.clone();
        let _ = done.send(j);
    }
}

/// A commit failed: the table gives up the batch's grants, which the store
/// may not have (a shared store's table holds only what the store has).
fn forget_grants(engine: &mut pxe_engine::dhcp::Engine, batch: &[Job]) {
    let table = engine.leases_mut();
    for c in batch.iter().flat_map(|j| &j.changes) {
        if let LeaseChange::Grant(l) = c
            && table.get(l.addr) == Some(l)
        {
            table.withdraw(l.addr);
        }
    }
}

/// Tells the engine what the store holds where it refused a claim.
fn note_conflicts(engine: &mut pxe_engine::dhcp::Engine, conflicts: &[Conflict]) {
    for c in conflicts {
        match &c.holder {
            Some(h) => tracing::info!(
                "lease store: {} is {} of {} (another server's); reply withheld",
                c.addr,
                if c.offer { "offered to" } else { "leased to" },
                h.hw
            ),
            None => tracing::info!("lease store refused {}; reply withheld", c.addr),
        }
        engine.store_refused(c);
    }
}

/// The lease writer: group commit. Everything queued while the previous
/// commit ran is staged and committed together, then the replies of the
/// accepted exchanges leave. Between batches, the store's maintenance
/// runs with the engine locked and the queue drained.
pub(crate) fn lease_writer(
    jobs: std::sync::mpsc::Receiver<Job>,
    mut store: Store,
    socks: Vec<Arc<PktSocket>>,
    engine: SharedEngine,
    rt: tokio::runtime::Handle,
) -> Result<(), StoreError> {
    let mut batch: Vec<Job> = Vec::new();
    let mut verdicts: Vec<Verdict> = Vec::new();
    // Commits the batch and sends what may leave; `locked` is the engine
    // when the caller holds it already.
    let mut flush = |store: &mut Store,
                     batch: &mut Vec<Job>,
                     locked: Option<&mut pxe_engine::dhcp::Engine>|
     -> Result<(), StoreError> {
        match commit_batch(store, batch, &mut verdicts) {
            Ok(conflicts) => {
                if !conflicts.is_empty() {
                    match locked {
                        Some(e) => note_conflicts(e, &conflicts),
                        None => note_conflicts(&mut lock(&engine), &conflicts),
                    }
                }
                send_batch(batch, &socks, &rt);
                Ok(())
            }
            Err(e) => {
                // Not durable: the replies must not leave.
                tracing::error!("{e}; {} replies withheld", batch.len());
                if store.forgets_failed_grants() {
                    match locked {
                        Some(e) => forget_grants(e, batch),
                        None => forget_grants(&mut lock(&engine), batch),
                    }
                }
                batch.clear();
                Err(e)
            }
        }
    };
    let mut reachable = true;
    loop {
        match jobs.recv_timeout(store.tick()) {
            Ok(first) => batch.push(first),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
        }
        while let Ok(j) = jobs.try_recv() {
            batch.push(j);
        }
        let failed = !batch.is_empty() && flush(&mut store, &mut batch, None).is_err();
        // Degraded mode follows the store: without it, the engine renews
        // only what the store holds and allocates nothing.
        if store.reachable() != reachable || failed {
            reachable = store.reachable();
            lock(&engine).set_store_reachable(reachable);
        }
        if failed {
            // Logged, and the replies withheld: the clients retry.
            continue;
        }
        let live = lock(&engine).leases().len();
        if store.wants_maintenance(live) && (store.reachable() || store.reconnect()) {
            // Under the engine lock nothing new can be queued: drain and
            // commit, then maintain against the table.
            let mut e = lock(&engine);
            while let Ok(j) = jobs.try_recv() {
                batch.push(j);
            }
            let result = if batch.is_empty() {
                Ok(())
            } else {
                flush(&mut store, &mut batch, Some(&mut e))
            }
            .and_then(|()| store.maintain(&mut e, unix_now()));
            if let Err(err) = result {
                if store.stops_on(&err) {
                    return Err(err);
                }
                tracing::debug!("lease store maintenance: {err}");
            }
            if store.reachable() != reachable {
                reachable = store.reachable();
                e.set_store_reachable(reachable);
                if reachable {
                    tracing::info!("lease store reachable: allocating again");
                }
            }
        }
    }
    // Shut down: the queue is closed.
    let e = lock(&engine);
    let m = e.metrics();
    tracing::info!(
        "DHCP counters: received={} replies={} offers={} acks={} naks={} proxy={} boot-server={} releases={} declines={} dropped={} malformed={}",
        m.received,
        m.replies,
        m.offers,
        m.acks,
        m.naks,
        m.proxy_replies,
        m.boot_server_replies,
        m.releases,
        m.declines,
        m.dropped(),
        m.malformed()
    );
    store.close(&e, unix_now())
}
