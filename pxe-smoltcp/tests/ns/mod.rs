//! Namespaces, the example's loop on a TAP device inside one, and tool
//! checks, shared by the TAP and VM tests. Everything is torn down by Drop
//! guards, also when a test fails.
#![allow(dead_code, clippy::unwrap_used, clippy::panic, unreachable_pub)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use pxe_smoltcp::Stats;
use smoltcp::wire::Ipv4Cidr;

#[path = "../../examples/smoltcp_tap/tap.rs"]
#[allow(dead_code)]
pub mod tap;

#[path = "../../../pxe-server/tests/support/netns.rs"]
pub mod netns;
pub use netns::*;

/// The example's loop on a TAP device inside `ns`; stopped and joined on
/// drop (declare it after the namespace so it goes first).
pub struct ServerGuard {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Result<Stats, String>>>,
}

impl ServerGuard {
    pub fn start(
        ns: &Netns,
        tap_name: &str,
        server: &str,
        conf: &str,
        files: Vec<(String, Vec<u8>)>,
    ) -> ServerGuard {
        let config = pxe_rules::Config::parse_str(conf, "test.conf").unwrap();
        let opts = tap::TapOptions {
            tap: tap_name.to_string(),
            addr: server.parse::<Ipv4Cidr>().unwrap(),
            mac: [0x02, 0, 0, 0x5e, 0, 0x01],
            config,
            files,
            verbose: true,
        };
        let ready = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let (r, s) = (ready.clone(), stop.clone());
        let thread = ns.spawn(move || {
            let out = tap::run(opts, &r, &s);
            // Unblock the waiter if opening failed.
            r.store(true, Ordering::SeqCst);
            out
        });
        let mut g = ServerGuard {
            stop,
            thread: Some(thread),
        };
        let start = Instant::now();
        while !ready.load(Ordering::SeqCst) {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "server did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        if g.thread.as_ref().unwrap().is_finished() {
            let r = g.thread.take().unwrap().join().unwrap();
            panic!("server stopped at once: {r:?}");
        }
        g
    }

    pub fn stop(mut self) -> Stats {
        self.stop.store(true, Ordering::SeqCst);
        self.thread.take().unwrap().join().unwrap().unwrap()
    }
}

impl Drop for ServerGuard {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Bring the kernel side of the TAP up with `addr`.
pub fn kernel_side(ns: &Netns, tap_name: &str, addr: &str) {
    sh(&["ip", "-n", &ns.name, "link", "set", tap_name, "up"]);
    sh(&["ip", "-n", &ns.name, "addr", "add", addr, "dev", tap_name]);
}
