//! In-process bench: the server on one smoltcp interface, a scripted client
//! on another, joined by an in-memory Ethernet link (frame buffers
//! preallocated, so the link itself never allocates), a manual clock, and a
//! counting global allocator that counts only the server's side (the
//! sections run inside [`counting`]).
#![allow(dead_code, clippy::unwrap_used, clippy::panic, unreachable_pub)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use pxe_smoltcp::{Files, LeaseStore, Server, Settings};
use smoltcp::iface::{Config, Interface, SocketHandle, SocketSet};
use smoltcp::phy::{Device, DeviceCapabilities, Medium, RxToken, TxToken};
use smoltcp::socket::udp;
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::{EthernetAddress, HardwareAddress, IpAddress, IpCidr, IpEndpoint, Ipv4Cidr};

// ---- counting allocator ----------------------------------------------

thread_local! {
    static ON: Cell<bool> = const { Cell::new(false) };
}
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static ALLOCS: AtomicUsize = AtomicUsize::new(0);

/// Counts bytes and calls of the current thread while [`counting`] runs.
pub struct Counting;

fn on() -> bool {
    ON.try_with(Cell::get).unwrap_or(false)
}

fn grow(n: usize) {
    let live = LIVE.fetch_add(n, Ordering::SeqCst) + n;
    PEAK.fetch_max(live, Ordering::SeqCst);
    ALLOCS.fetch_add(1, Ordering::SeqCst);
}

fn shrink(n: usize) {
    let _ = LIVE.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |v| {
        Some(v.saturating_sub(n))
    });
}

// Allowed: GlobalAlloc is an unsafe trait; this only forwards to System
// and counts.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        if on() {
            grow(l.size());
        }
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        if on() {
            shrink(l.size());
        }
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        if on() {
            grow(l.size());
        }
        unsafe { System.alloc_zeroed(l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        if on() {
            shrink(l.size());
            grow(new);
        }
        unsafe { System.realloc(p, l, new) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Run `f` with this thread's allocations counted.
pub fn counting<T>(f: impl FnOnce() -> T) -> T {
    ON.with(|c| c.set(true));
    let r = f();
    ON.with(|c| c.set(false));
    r
}

/// Run `f` with counting off (the bench's own bookkeeping).
pub fn uncounted<T>(f: impl FnOnce() -> T) -> T {
    let was = on();
    ON.with(|c| c.set(false));
    let r = f();
    ON.with(|c| c.set(was));
    r
}

/// Start a new peak measurement from the current live count.
pub fn reset_peak() {
    PEAK.store(LIVE.load(Ordering::SeqCst), Ordering::SeqCst);
}

/// (live bytes, peak bytes, allocation calls) counted so far.
pub fn heap() -> (usize, usize, usize) {
    (
        LIVE.load(Ordering::SeqCst),
        PEAK.load(Ordering::SeqCst),
        ALLOCS.load(Ordering::SeqCst),
    )
}

// ---- in-memory Ethernet link -----------------------------------------

const FRAME: usize = 1514;

/// Decides whether a frame the server sent is lost.
pub type DropFilter = Box<dyn FnMut(&[u8]) -> bool>;

pub struct Link {
    /// Frames waiting for side 0 (server) and side 1 (client).
    queues: [VecDeque<Vec<u8>>; 2],
    free: Vec<Vec<u8>>,
    /// Frames the client side dropped on purpose (loss tests): a filter on
    /// frames sent by the server; `true` drops it.
    pub drop_to_client: Option<DropFilter>,
}

impl Link {
    fn new() -> Rc<RefCell<Link>> {
        Rc::new(RefCell::new(Link {
            queues: [VecDeque::with_capacity(256), VecDeque::with_capacity(256)],
            free: (0..256).map(|_| Vec::with_capacity(FRAME)).collect(),
            drop_to_client: None,
        }))
    }
}

pub struct End {
    link: Rc<RefCell<Link>>,
    side: usize,
}

pub struct Rx {
    frame: Vec<u8>,
    link: Rc<RefCell<Link>>,
}

pub struct Tx {
    link: Rc<RefCell<Link>>,
    side: usize,
}

impl RxToken for Rx {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        let r = f(&self.frame);
        self.link.borrow_mut().free.push(self.frame);
        r
    }
}

impl TxToken for Tx {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut buf = self
            .link
            .borrow_mut()
            .free
            .pop()
            .expect("link out of frame buffers");
        buf.clear();
        buf.resize(len, 0);
        let r = f(&mut buf);
        let mut link = self.link.borrow_mut();
        let drop = self.side == 0 && link.drop_to_client.as_mut().is_some_and(|d| d(&buf));
        if drop {
            link.free.push(buf);
        } else {
            link.queues[1 - self.side].push_back(buf);
        }
        r
    }
}

impl Device for End {
    type RxToken<'a> = Rx;
    type TxToken<'a> = Tx;

    fn receive(&mut self, _t: Instant) -> Option<(Rx, Tx)> {
        let frame = self.link.borrow_mut().queues[self.side].pop_front()?;
        Some((
            Rx {
                frame,
                link: self.link.clone(),
            },
            Tx {
                link: self.link.clone(),
                side: self.side,
            },
        ))
    }

    fn transmit(&mut self, _t: Instant) -> Option<Tx> {
        Some(Tx {
            link: self.link.clone(),
            side: self.side,
        })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut c = DeviceCapabilities::default();
        c.medium = Medium::Ethernet;
        c.max_transmission_unit = FRAME;
        c
    }
}

// ---- the bench ----------------------------------------------------------

pub const SERVER: [u8; 4] = [10, 0, 0, 1];
pub const CLIENT: [u8; 4] = [10, 0, 0, 2];

fn iface(dev: &mut End, mac: u8, ip: [u8; 4]) -> Interface {
    let hw = HardwareAddress::Ethernet(EthernetAddress([2, 0, 0, 0, 0, mac]));
    let mut i = Interface::new(Config::new(hw), dev, Instant::from_millis(0));
    i.update_ip_addrs(|a| {
        a.push(IpCidr::Ipv4(Ipv4Cidr::new(ip.into(), 24))).unwrap();
    });
    i
}

pub struct Bench<F: Files, S: LeaseStore> {
    pub now: Instant,
    pub link: Rc<RefCell<Link>>,
    pub server: Server<F, S>,
    pub s_dev: End,
    pub s_iface: Interface,
    pub s_sockets: SocketSet<'static>,
    pub c_dev: End,
    pub c_iface: Interface,
    pub c_sockets: SocketSet<'static>,
    pub log: Vec<String>,
    /// Live heap after parsing the configuration, after creating the
    /// interface, and after `Server::new`.
    pub setup: [usize; 3],
}

impl<F: Files, S: LeaseStore> Bench<F, S> {
    /// Parse `conf`, let `adjust` change the settings, start the server
    /// (all of it counted).
    pub fn new(conf: &str, adjust: impl FnOnce(&mut Settings), files: F, store: S) -> Self {
        let link = Link::new();
        let mut s_dev = End {
            link: link.clone(),
            side: 0,
        };
        let mut c_dev = End {
            link: link.clone(),
            side: 1,
        };
        let c_iface = iface(&mut c_dev, 2, CLIENT);
        let c_sockets = SocketSet::new(Vec::with_capacity(8));
        let mut setup = [0; 3];
        let (server, s_iface, s_sockets) = counting(|| {
            let config = pxe_rules::Config::parse_str(conf, "bench.conf").unwrap();
            let mut settings = Settings::from_config(&config);
            adjust(&mut settings);
            setup[0] = heap().0;
            let s_iface = iface(&mut s_dev, 1, SERVER);
            setup[1] = heap().0;
            let mut s_sockets = SocketSet::new(Vec::new());
            let server =
                Server::new(Arc::new(config), settings, files, store, &mut s_sockets).unwrap();
            setup[2] = heap().0;
            (server, s_iface, s_sockets)
        });
        Bench {
            now: Instant::from_millis(1000),
            link,
            server,
            s_dev,
            s_iface,
            s_sockets,
            c_dev,
            c_iface,
            c_sockets,
            log: Vec::new(),
            setup,
        }
    }

    /// One round: client interface, then server interface + server +
    /// server interface again (counted), 1 ms later each time.
    pub fn step(&mut self) {
        self.now += Duration::from_millis(1);
        self.c_iface
            .poll(self.now, &mut self.c_dev, &mut self.c_sockets);
        let now = self.now;
        let Bench {
            server,
            s_dev,
            s_iface,
            s_sockets,
            log,
            ..
        } = self;
        counting(|| {
            s_iface.poll(now, s_dev, s_sockets);
            server.poll_logged(now, s_iface, s_sockets, &mut |a| {
                uncounted(|| log.push(a.to_string()))
            });
            s_iface.poll(now, s_dev, s_sockets);
        });
        self.c_iface
            .poll(self.now, &mut self.c_dev, &mut self.c_sockets);
    }

    pub fn steps(&mut self, n: usize) {
        for _ in 0..n {
            self.step();
        }
    }

    /// Jump the clock forward (retransmission tests).
    pub fn advance(&mut self, d: Duration) {
        self.now += d;
    }

    /// A client UDP socket bound to `port`.
    pub fn client_socket(&mut self, port: u16) -> SocketHandle {
        let mut s = udp::Socket::new(
            udp::PacketBuffer::new(vec![udp::PacketMetadata::EMPTY; 16], vec![0; 16 * 1600]),
            udp::PacketBuffer::new(vec![udp::PacketMetadata::EMPTY; 4], vec![0; 4 * 1600]),
        );
        s.bind(port).unwrap();
        self.c_sockets.add(s)
    }

    pub fn send(&mut self, h: SocketHandle, to: ([u8; 4], u16), data: &[u8]) {
        let ep = IpEndpoint::new(IpAddress::Ipv4(to.0.into()), to.1);
        self.c_sockets
            .get_mut::<udp::Socket>(h)
            .send_slice(data, ep)
            .unwrap();
    }

    /// Everything the client socket received so far.
    pub fn recv_all(&mut self, h: SocketHandle) -> Vec<(Vec<u8>, IpEndpoint)> {
        let s = self.c_sockets.get_mut::<udp::Socket>(h);
        let mut out = Vec::new();
        while let Ok((d, m)) = s.recv() {
            out.push((d.to_vec(), m.endpoint));
        }
        out
    }

    /// Step until `h` has received something (at most `max` steps).
    pub fn wait_recv(&mut self, h: SocketHandle, max: usize) -> Vec<(Vec<u8>, IpEndpoint)> {
        for _ in 0..max {
            self.step();
            let r = self.recv_all(h);
            if !r.is_empty() {
                return r;
            }
        }
        Vec::new()
    }
}

/// A TFTP read request.
pub fn rrq(name: &str, options: &[(&str, &str)]) -> Vec<u8> {
    let mut v = vec![0, 1];
    v.extend_from_slice(name.as_bytes());
    v.push(0);
    v.extend_from_slice(b"octet\0");
    for (k, val) in options {
        v.extend_from_slice(k.as_bytes());
        v.push(0);
        v.extend_from_slice(val.as_bytes());
        v.push(0);
    }
    v
}

pub fn ack(block: u16) -> Vec<u8> {
    let b = block.to_be_bytes();
    vec![0, 4, b[0], b[1]]
}

/// Download `name` with plain 512-byte blocks (no options), ACKing each
/// DATA; returns the file and the server's TID endpoint.
pub fn tftp_get<F: Files, S: LeaseStore>(
    b: &mut Bench<F, S>,
    h: SocketHandle,
    name: &str,
) -> Result<(Vec<u8>, IpEndpoint), String> {
    b.send(h, (SERVER, 69), &rrq(name, &[]));
    let mut file = Vec::new();
    let mut expect: u16 = 1;
    loop {
        let got = b.wait_recv(h, 50);
        if got.is_empty() {
            return Err(format!("no DATA {expect}"));
        }
        for (d, from) in got {
            match d.get(..2) {
                Some([0, 3]) => {
                    let blk = u16::from_be_bytes([d[2], d[3]]);
                    if blk == expect {
                        file.extend_from_slice(&d[4..]);
                        let last = d.len() < 4 + 512;
                        b.send(h, (SERVER, from.port), &ack(blk));
                        expect = expect.wrapping_add(1);
                        if last {
                            b.steps(3);
                            return Ok((file, from));
                        }
                    }
                }
                Some([0, 5]) => {
                    return Err(format!(
                        "ERROR {}: {}",
                        u16::from_be_bytes([d[2], d[3]]),
                        String::from_utf8_lossy(&d[4..d.len() - 1])
                    ));
                }
                _ => return Err(format!("unexpected {d:?}")),
            }
        }
    }
}

/// Deterministic content.
pub fn content(len: usize) -> Vec<u8> {
    let mut x: u32 = 0x9e37_79b9;
    (0..len)
        .map(|_| {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (x >> 24) as u8
        })
        .collect()
}
