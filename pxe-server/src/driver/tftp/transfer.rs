//! One transfer on its own thread, next to its own socket (per-port mode):
//! the lowest latency per DATA/ACK round, with no lock and no channel per
//! datagram. The endpoint admitted it and handed it out
//! ([`Endpoint::detach`](pxe_tftp::server::Endpoint::detach)); the thread
//! only moves datagrams, and reports back to the request loop once when the
//! client first acknowledges and once when it ends.

use std::boxed::Box;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use std::vec;

use pxe_tftp::server::{EndpointEvent, Transfer, TransferId};
use pxe_tftp::wire::ErrorCode;
use tokio::sync::mpsc::UnboundedSender;

use super::files::FsSource;
use super::service::clock;
use super::socket::TransferSocket;

/// Receive buffer of a transfer thread. Its socket is owed ACKs (4 bytes)
/// and ERRORs (a message of a few dozen bytes); anything longer arrives cut
/// short, which loses nothing: a stranger's datagram gets ERROR 5 whatever
/// its length, and an ERROR's message may lack its NUL. On the stack, not
/// 64 KiB on the heap per thread: a storm runs hundreds of transfers at
/// once, and the allocator kept each thread's buffer after it.
const RECV_BUF: usize = 2048;

/// What a transfer thread tells the request loop.
#[derive(Debug)]
pub(super) enum Report {
    /// Forward to `Endpoint::handle_event`.
    Event(TransferId, EndpointEvent),
    /// The transfer is back: finished, cancelled, or its socket failed.
    Finished(Box<Transfer<FsSource>>),
}

/// Signals a transfer thread reads between datagrams.
#[derive(Debug, Clone)]
pub(super) struct Stop {
    /// The server shuts down: abort with an ERROR.
    pub(super) shutdown: Arc<AtomicBool>,
    /// A new request of the client replaced the transfer: stop, no ERROR.
    pub(super) cancel: Arc<AtomicBool>,
}

/// Drives `transfer` on `sock` until it is finished or stopped, then gives
/// it back through `reports`.
pub(super) fn run(
    mut transfer: Transfer<FsSource>,
    mut sock: TransferSocket,
    reports: UnboundedSender<Report>,
    start: std::time::Instant,
    stop: Stop,
) {
    if let Err(e) = drive(&mut transfer, &mut sock, &reports, start, &stop) {
        tracing::warn!("TFTP transfer to {}: socket failed: {e}", transfer.peer());
    }
    let _ = reports.send(Report::Finished(Box::new(transfer)));
}

fn drive(
    t: &mut Transfer<FsSource>,
    sock: &mut TransferSocket,
    reports: &UnboundedSender<Report>,
    start: std::time::Instant,
    stop: &Stop,
) -> std::io::Result<()> {
    let dlen = t.max_datagram_len();
    let mut out = vec![0u8; dlen * sock.max_segments(dlen)];
    let mut inb = [0u8; RECV_BUF];
    loop {
        let now = clock(start);
        while let Some(tx) = t.poll_transmit(now, &mut out) {
            sock.send(&out[..tx.len], tx.segment_size, tx.destination)?;
        }
        if t.is_finished() {
            return Ok(());
        }
        if stop.cancel.load(Ordering::Relaxed) {
            // What already arrived may have ended it on its own (a size
            // probe's ERROR 8 just before the client's next request).
            while let Some((n, from)) = sock.recv_now(&mut inb)? {
                let _ = t.handle(clock(start), from, &inb[..n], &mut out);
            }
            return Ok(());
        }
        if stop.shutdown.load(Ordering::Relaxed) {
            t.abort(ErrorCode::NOT_DEFINED, "server shutting down");
            continue;
        }
        // Wake at the engine's deadline, and at least once a second to
        // notice a shutdown or a cancel.
        let wait = t
            .poll_timeout()
            .map_or(Duration::from_secs(1), |d| {
                d.saturating_duration_since(clock(start))
            })
            .clamp(Duration::from_millis(1), Duration::from_secs(1));
        if let Some((n, from)) = sock.recv(&mut inb, wait)?
            && let Some(reply) = t.handle(clock(start), from, &inb[..n], &mut out)
        {
            sock.send(&out[..reply.len], None, reply.destination)?;
        }
        // Also after a datagram: strangers must not keep the timer from
        // firing.
        t.handle_timeout(clock(start));
        if let Some(event) = t.poll_endpoint_event() {
            let _ = reports.send(Report::Event(t.id(), event));
        }
    }
}
