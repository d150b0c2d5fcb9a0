//! The group-commit lease writer: stages every queued lease change, makes
//! them durable with one `fdatasync`, then sends the replies that announce
//! them; compacts the log and refreshes the dnsmasq-format lease file.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::Arc;
use std::time::Duration;
use std::vec::Vec;

use pxe_engine::lease::LeaseChange;
use pxe_engine::lease::log::{LeaseLog, LogError};

use crate::driver::clock::unix_now;
use crate::driver::engine::{SharedEngine, lock};
use crate::driver::net::PktSocket;

/// A reply the engine built, waiting to leave: `len` bytes of `buf` to
/// `dest`, on DHCP socket number `sock`, out of interface `ifindex` from
/// address `src`, not before `send_at` (`dhcp-reply-delay`; `None`: at
/// once).
pub(crate) struct Pending {
    pub(crate) sock: usize,
    pub(crate) len: usize,
    pub(crate) buf: Vec<u8>,
    pub(crate) dest: SocketAddrV4,
    pub(crate) ifindex: u32,
    pub(crate) src: Ipv4Addr,
    pub(crate) send_at: Option<tokio::time::Instant>,
}

/// Sends `p` from `sock` at its `send_at` time, on a task of its own (the
/// caller goes on with other replies).
pub(crate) fn send_later(rt: &tokio::runtime::Handle, sock: Arc<PktSocket>, p: Pending) {
    rt.spawn(async move {
        if let Some(at) = p.send_at {
            tokio::time::sleep_until(at).await;
        }
        if let Err(err) = sock
            .send(&p.buf[..p.len], p.dest, p.ifindex, Some(p.src))
            .await
        {
            tracing::warn!("DHCP send to {} failed: {err}", p.dest);
        }
    });
}

/// Lease changes and the replies that announce them: the writer thread
/// persists the changes (one `fdatasync` for everything queued) and only
/// then sends the replies. The writer hands the emptied job (with the
/// reply buffers) back to its worker through `done`, so in steady state
/// no packet allocates.
pub(crate) struct Job {
    pub(crate) changes: Vec<LeaseChange>,
    pub(crate) replies: Vec<Pending>,
    pub(crate) done: std::sync::mpsc::Sender<Job>,
}

/// Sends a reply from the writer thread (outside the runtime); a failure
/// is logged, as a lost datagram is for the client to retry.
fn send_pending(socks: &[Arc<PktSocket>], p: &Pending) {
    if let Some(s) = socks.get(p.sock)
        && let Err(err) = s.send_sync(&p.buf[..p.len], p.dest, p.ifindex, Some(p.src))
    {
        tracing::warn!("DHCP send to {} failed: {err}", p.dest);
    }
}

/// The lease writer: group commit. Everything queued while the previous
/// `fdatasync` ran is written and synced together, then its replies leave
/// (a reply with a not-before time still to come, on a timer on `rt`).
pub(crate) fn lease_writer(
    jobs: std::sync::mpsc::Receiver<Job>,
    mut log: LeaseLog,
    socks: Vec<Arc<PktSocket>>,
    engine: SharedEngine,
    rt: tokio::runtime::Handle,
) -> Result<(), LogError> {
    let mut batch: Vec<Job> = Vec::new();
    let flush = |log: &mut LeaseLog, batch: &mut Vec<Job>| -> Result<(), LogError> {
        for j in batch.iter() {
            for c in &j.changes {
                log.stage(c)?;
            }
        }
        if let Err(e) = log.commit() {
            // Not durable: the replies must not leave.
            tracing::error!("{e}; {} replies withheld", batch.len());
            batch.clear();
            return Err(e);
        }
        for mut j in batch.drain(..) {
            let now = tokio::time::Instant::now();
            for p in j
                .replies
                .extract_if(.., |p| p.send_at.is_some_and(|at| at > now))
            {
                if let Some(s) = socks.get(p.sock) {
                    send_later(&rt, s.clone(), p);
                }
            }
            for p in &j.replies {
                send_pending(&socks, p);
            }
            j.changes.clear();
            let done = j.done.clone();
            let _ = done.send(j);
        }
        Ok(())
    };
    // The dnsmasq-format file is refreshed at most every TEXT_EVERY while
    // leases change (and at every compaction and at shutdown), so tools
    // that read it see current leases.
    const TEXT_EVERY: Duration = Duration::from_secs(30);
    let mut dirty = false;
    let mut text_at = std::time::Instant::now();
    loop {
        match jobs.recv_timeout(TEXT_EVERY) {
            Ok(first) => batch.push(first),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
        }
        while let Ok(j) = jobs.try_recv() {
            batch.push(j);
        }
        if !batch.is_empty() {
            dirty = true;
            if let Err(e) = flush(&mut log, &mut batch) {
                tracing::error!("lease log: {e}");
                continue;
            }
        }
        let live = lock(&engine).leases().len();
        if log.wants_compaction(live) {
            // Under the engine lock nothing new can be queued: drain, then
            // snapshot the table.
            let e = lock(&engine);
            while let Ok(j) = jobs.try_recv() {
                batch.push(j);
            }
            flush(&mut log, &mut batch)?;
            log.compact(e.leases(), unix_now())?;
            dirty = false;
            text_at = std::time::Instant::now();
        } else if dirty && text_at.elapsed() >= TEXT_EVERY {
            let e = lock(&engine);
            if let Err(err) = log.write_dnsmasq_file(e.leases(), unix_now()) {
                tracing::warn!("{err}");
            }
            dirty = false;
            text_at = std::time::Instant::now();
        }
    }
    // Shut down: the queue is closed; write the compacted log and the
    // dnsmasq-format file.
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
    log.compact(e.leases(), unix_now())?;
    tracing::info!("leases flushed to {}", log.path().display());
    Ok(())
}
