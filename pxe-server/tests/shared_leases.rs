//! Several pxe-server instances sharing their leases in one real
//! PostgreSQL (`dhcp-leasefile=postgres://…`): servers in network
//! namespaces on one bridge, scripted clients in another, the database
//! started by the test (`support::postgres`). Every client that got an
//! ACK must hold an address no other client holds, and the database must
//! hold each ACKed lease.
//!
//! Needs root and: ip, Debian's postgresql (initdb, pg_ctl), psql, runuser.
#![allow(clippy::unwrap_used, clippy::panic, clippy::expect_used)]

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use pxe_dhcp::{MessageType, Packet, code};
use support::postgres::Postgres;
use support::*;

fn write_conf(dir: &Path, name: &str, url: &str, sequential: bool) -> PathBuf {
    let p = dir.join(name);
    // One server hands out the lowest free address, the other hashes the
    // MAC: they pick different addresses for one client, so each picks
    // addresses the other has just given to someone else, and the
    // database has to refuse one of the claims.
    let text = format!(
        "dhcp-range=10.78.0.10,10.78.0.250,255.255.255.0,1h\n{}dhcp-leasefile={url}\n",
        if sequential {
            "dhcp-sequential-ip\n"
        } else {
            ""
        }
    );
    std::fs::write(&p, text).unwrap();
    p
}

/// Waits for a reply with `xid` of type `want` (skipping others, e.g. a
/// second server's OFFER while waiting for the ACK) until `t` passes.
fn recv_type(s: &UdpSocket, xid: u32, want: &[MessageType], t: Duration) -> Option<Vec<u8>> {
    let end = Instant::now() + t;
    while Instant::now() < end {
        let left = end.saturating_duration_since(Instant::now());
        let (r, _) = recv_xid(s, xid, left)?;
        if msg_type(&r).is_some_and(|m| want.contains(&m)) {
            return Some(r);
        }
    }
    None
}

/// DORA against several servers: the first OFFER is taken; retried from
/// DISCOVER on silence or NAK (at most `tries` rounds). Returns the ACKed
/// address and the server that ACKed it.
fn dora_any(s: &UdpSocket, mac: [u8; 6], xid: u32, tries: u32) -> Option<(Ipv4Addr, Ipv4Addr)> {
    let bcast = SocketAddrV4::new(Ipv4Addr::BROADCAST, 67);
    for round in 0..tries {
        let xid = xid.wrapping_add(round << 24);
        let mut m = Msg {
            ty: MessageType::Discover,
            xid,
            mac,
            ciaddr: Ipv4Addr::UNSPECIFIED,
            broadcast: true,
            options: vec![],
        };
        s.send_to(&m.encode(), bcast).ok()?;
        let Some(offer) = recv_type(s, xid, &[MessageType::Offer], Duration::from_millis(800))
        else {
            continue;
        };
        let p = Packet::new_checked(&offer[..]).unwrap();
        let (yi, sid) = (p.yiaddr(), p.server_id().unwrap().unwrap());
        let (yo, so) = (yi.octets(), sid.octets());
        m.ty = MessageType::Request;
        m.options = vec![(code::REQUESTED_IP, &yo), (code::SERVER_ID, &so)];
        s.send_to(&m.encode(), bcast).ok()?;
        let want = [MessageType::Ack, MessageType::Nak];
        if let Some(r) = recv_type(s, xid, &want, Duration::from_millis(800)) {
            let p = Packet::new_checked(&r[..]).unwrap();
            if p.message_type().unwrap() == Some(MessageType::Ack) {
                assert_eq!(p.yiaddr(), yi, "ACK for another address than offered");
                return Some((yi, sid));
            }
        }
    }
    None
}

/// `n` clients in `threads` parallel threads inside `ns`.
fn clients(ns: &str, first: u32, n: u32, threads: u32) -> BTreeMap<[u8; 6], (Ipv4Addr, Ipv4Addr)> {
    enter_ns(ns, move || {
        let hs: Vec<_> = (0..threads)
            .map(|t| {
                std::thread::spawn(move || {
                    let s = client_socket(68);
                    let mut got = Vec::new();
                    for i in (first + t..first + n).step_by(threads as usize) {
                        let mac = [2, 0x78, 0, (i >> 8) as u8, i as u8, t as u8];
                        if let Some(r) = dora_any(&s, mac, 0x0078_0000 + i, 8) {
                            got.push((mac, r));
                        }
                    }
                    got
                })
            })
            .collect();
        hs.into_iter().flat_map(|h| h.join().unwrap()).collect()
    })
}

/// The live leases in the database: MAC → address.
fn leases_in_db(pg: &Postgres) -> BTreeMap<[u8; 6], Ipv4Addr> {
    let rows = pg.psql(
        "SELECT encode(hw, 'hex'), host(addr) FROM pxe_leases \
         WHERE NOT offer AND (expires = 0 OR expires > extract(epoch FROM now()))",
    );
    rows.lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (hw, ip) = l.split_once('|').unwrap();
            let mut mac = [0u8; 6];
            for (i, b) in mac.iter_mut().enumerate() {
                *b = u8::from_str_radix(&hw[2 * i..2 * i + 2], 16).unwrap();
            }
            (mac, ip.parse().unwrap())
        })
        .collect()
}

fn stop_server(mut server: ChildGuard, log: &Path) -> String {
    let st = server.terminate(Duration::from_secs(10));
    let text = std::fs::read_to_string(log).unwrap();
    assert!(
        st.is_some_and(|s| s.success()),
        "server did not stop cleanly on SIGTERM:\n{text}"
    );
    text
}

#[test]
fn two_servers_on_one_database_never_give_one_address_twice() {
    let dir = tempfile::tempdir().unwrap();
    let pg = Postgres::start();
    let lab = Lab::new(&["10.78.0.1/24", "10.78.0.2/24", "10.78.0.254/24"]);
    let url = pg.url();
    let mut servers = Vec::new();
    let mut logs = Vec::new();
    for i in 0..2 {
        let conf = write_conf(dir.path(), &format!("pxe{i}.conf"), &url, i == 0);
        let log = dir.path().join(format!("server{i}.log"));
        servers.push(start_server(&lab.members[i], &conf, &[], &log));
        wait_log(&log, "DHCP listening on UDP 67", Duration::from_secs(20));
        logs.push(log);
    }
    let s0 = std::fs::read_to_string(&logs[0]).unwrap();
    assert!(s0.contains("shared with other servers"), "{s0}");
    assert_eq!(pg.psql("SELECT version FROM pxe_schema").trim(), "2");

    let n = 100;
    let got = clients(&lab.members[2].name, 0, n, 6);
    assert_eq!(got.len(), n as usize, "not every client got an address");
    let addrs: BTreeSet<Ipv4Addr> = got.values().map(|(a, _)| *a).collect();
    assert_eq!(
        addrs.len(),
        got.len(),
        "an address was ACKed to two clients"
    );
    let by_server: BTreeMap<Ipv4Addr, usize> =
        got.values().fold(BTreeMap::new(), |mut m, (_, s)| {
            *m.entry(*s).or_default() += 1;
            m
        });

    // Every ACK has its lease in the database, for that client.
    let db = leases_in_db(&pg);
    for (mac, (ip, _)) in &got {
        assert_eq!(
            db.get(mac),
            Some(ip),
            "ACKed lease of {mac:02x?} not in the database"
        );
    }
    let in_db: BTreeSet<_> = db.values().collect();
    assert_eq!(in_db.len(), db.len(), "two live leases on one address");

    let mut refused = 0;
    for (s, log) in servers.into_iter().zip(&logs) {
        let text = stop_server(s, log);
        refused += text.matches("reply withheld").count();
    }
    eprintln!(
        "{} clients, ACKs by server {by_server:?}, {refused} claims refused by the database",
        got.len()
    );
}

/// A client of the load test: when its exchange started and ended, and
/// what it got.
#[derive(Clone, Copy, Debug)]
struct Done {
    mac: [u8; 6],
    started: Instant,
    ended: Instant,
    got: Option<(Ipv4Addr, Ipv4Addr)>,
}

/// Runs DORAs of new clients in `threads` threads inside `ns` until `stop`
/// is set (at most `max` per thread).
fn load(
    ns: String,
    threads: u32,
    max: u32,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    acked: std::sync::Arc<std::sync::atomic::AtomicUsize>,
) -> std::thread::JoinHandle<Vec<Done>> {
    use std::sync::atomic::Ordering;
    std::thread::spawn(move || {
        enter_ns(&ns, move || {
            let hs: Vec<_> = (0..threads)
                .map(|t| {
                    let (stop, acked) = (stop.clone(), acked.clone());
                    std::thread::spawn(move || {
                        let s = client_socket(68);
                        let mut out = Vec::new();
                        for i in 0..max {
                            if stop.load(Ordering::Relaxed) {
                                break;
                            }
                            let mac = [2, 0x79, t as u8, (i >> 8) as u8, i as u8, 1];
                            let started = Instant::now();
                            let got = dora_any(&s, mac, 0x0079_0000 + (t << 12) + i, 12);
                            if got.is_some() {
                                acked.fetch_add(1, Ordering::Relaxed);
                            }
                            out.push(Done {
                                mac,
                                started,
                                ended: Instant::now(),
                                got,
                            });
                        }
                        out
                    })
                })
                .collect();
            hs.into_iter().flat_map(|h| h.join().unwrap()).collect()
        })
    })
}

#[test]
fn three_servers_split_the_clients_take_over_a_killed_ones_share_and_ride_out_a_database_cut() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let dir = tempfile::tempdir().unwrap();
    let pg = Postgres::start();
    let lab = Lab::new(&[
        "10.78.0.1/24",
        "10.78.0.2/24",
        "10.78.0.3/24",
        "10.78.0.254/24",
    ]);
    let url = pg.url();
    let ips: Vec<Ipv4Addr> = (1..=3).map(|i| Ipv4Addr::new(10, 78, 0, i)).collect();
    let mut servers = Vec::new();
    let mut logs = Vec::new();
    for i in 0..3 {
        let conf = write_conf(dir.path(), &format!("pxe{i}.conf"), &url, false);
        let log = dir.path().join(format!("server{i}.log"));
        servers.push(start_server(&lab.members[i], &conf, &[], &log));
        wait_log(&log, "DHCP listening on UDP 67", Duration::from_secs(20));
        logs.push(log);
    }
    for log in &logs {
        wait_log(log, "3 live servers", Duration::from_secs(10));
    }
    assert_eq!(pg.psql("SELECT version FROM pxe_schema").trim(), "2");
    // The servers in the order they share the buckets.
    let pids: Vec<String> = servers
        .iter()
        .map(|s| s.0.as_ref().unwrap().id().to_string())
        .collect();
    let order: Vec<Ipv4Addr> = pg
        .psql("SELECT id FROM pxe_servers ORDER BY id")
        .lines()
        .filter_map(|id| {
            let pid = id.rsplit(':').next()?;
            pids.iter().position(|p| p == pid).map(|i| ips[i])
        })
        .collect();
    assert_eq!(order.len(), 3, "three live servers registered");
    let owner = |mac: &[u8; 6], among: &[Ipv4Addr]| {
        among[usize::from(pxe_engine::dhcp::balance::bucket(mac)) % among.len()]
    };

    // Each client is answered by the server its RFC 3074 bucket names.
    let got = clients(&lab.members[3].name, 0, 45, 3);
    assert_eq!(got.len(), 45, "not every client got an address");
    for (mac, (_, by)) in &got {
        assert_eq!(
            *by,
            owner(mac, &order),
            "{mac:02x?} answered by the wrong server"
        );
    }

    // Load, then kill -9 one server in the middle of it.
    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(AtomicUsize::new(0));
    let running = load(
        lab.members[3].name.clone(),
        4,
        400,
        stop.clone(),
        acked.clone(),
    );
    let t0 = Instant::now();
    while acked.load(Ordering::Relaxed) < 40 && t0.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(10));
    }
    let victim = ips.iter().position(|ip| *ip == order[0]).unwrap();
    servers[victim].kill9();
    let killed_at = Instant::now();
    let survivors: Vec<Ipv4Addr> = order[1..].to_vec();
    // Long enough for the takeover and a good many clients after it.
    let after = acked.load(Ordering::Relaxed);
    while acked.load(Ordering::Relaxed) < after + 60
        && killed_at.elapsed() < Duration::from_secs(60)
    {
        std::thread::sleep(Duration::from_millis(10));
    }
    stop.store(true, Ordering::Relaxed);
    let done = running.join().unwrap();

    // Takeover: the first client of the killed server's share to start
    // after the kill, and when it got its ACK.
    let orphans: Vec<&Done> = done
        .iter()
        .filter(|d| d.started > killed_at && owner(&d.mac, &order) == order[0])
        .collect();
    assert!(
        !orphans.is_empty(),
        "no client of the killed server after the kill"
    );
    for d in &orphans {
        let (_, by) = d
            .got
            .unwrap_or_else(|| panic!("{:02x?} never served after the kill", d.mac));
        assert!(survivors.contains(&by), "{:02x?} answered by {by}", d.mac);
    }
    let takeover = orphans
        .iter()
        .map(|d| d.ended.duration_since(killed_at))
        .min()
        .unwrap();
    assert!(
        takeover < Duration::from_secs(8),
        "the killed server's share moved after {takeover:?}"
    );

    // No address twice, among every ACK of the run; each in the database.
    let mut all: BTreeMap<[u8; 6], Ipv4Addr> = got.iter().map(|(m, (a, _))| (*m, *a)).collect();
    all.extend(done.iter().filter_map(|d| d.got.map(|(a, _)| (d.mac, a))));
    let distinct: BTreeSet<_> = all.values().collect();
    assert_eq!(
        distinct.len(),
        all.len(),
        "an address was ACKed to two clients"
    );
    let db = leases_in_db(&pg);
    for (mac, ip) in &all {
        assert_eq!(
            db.get(mac),
            Some(ip),
            "ACKed lease of {mac:02x?} not in the database"
        );
    }

    // The database goes away for ten seconds.
    let (renewer, (renewer_ip, acked_by)) = got
        .iter()
        .map(|(m, r)| (*m, *r))
        .find(|(_, (_, by))| survivors.contains(by))
        .unwrap();
    let other = *survivors.iter().find(|s| **s != acked_by).unwrap();
    let client_ns = lab.members[3].name.clone();
    let mut pg = pg;
    pg.stop();
    let cut_at = Instant::now();
    std::thread::sleep(Duration::from_millis(1500));
    // New clients get nothing; the known one renews, at a server that did
    // not grant its lease, for no longer than the database has it.
    let refused = clients(&client_ns, 900, 6, 3);
    assert!(
        refused.is_empty(),
        "allocated without the database: {refused:?}"
    );
    let renewed = renew(&client_ns, renewer, renewer_ip, other)
        .expect("no renewal from the cache while the database was down");
    assert!(renewed <= 3600, "renewed for {renewed} s");
    while cut_at.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(100));
    }
    pg.restart();
    // Service resumes by itself.
    let back = Instant::now();
    let after_cut = clients(&client_ns, 950, 6, 3);
    assert_eq!(
        after_cut.len(),
        6,
        "not served after the database came back"
    );
    let resumed = back.elapsed();
    all.extend(after_cut.iter().map(|(m, (a, _))| (*m, *a)));
    let distinct: BTreeSet<_> = all.values().collect();
    assert_eq!(
        distinct.len(),
        all.len(),
        "an address was ACKed to two clients"
    );
    let db = leases_in_db(&pg);
    for (mac, ip) in &all {
        assert_eq!(
            db.get(mac),
            Some(ip),
            "ACKed lease of {mac:02x?} not in the database"
        );
    }
    let refusals: usize = logs
        .iter()
        .map(|l| {
            std::fs::read_to_string(l)
                .unwrap_or_default()
                .matches("lease store unreachable")
                .count()
        })
        .sum();
    assert!(refusals > 0, "the refused requests were not reported");
    for (i, s) in servers.into_iter().enumerate() {
        if i != victim {
            stop_server(s, &logs[i]);
        }
    }
    eprintln!(
        "{} ACKs in all; after kill -9 of {}, its share was served by {survivors:?} from {takeover:?}; \
         database down 10 s: {refusals} requests refused, a renewal answered from the cache for {renewed} s; \
         served again {resumed:?} after it came back",
        all.len(),
        order[0]
    );
}

/// A RENEWING REQUEST (unicast to `server`, `ciaddr` set) from the client
/// holding `ip`; the lease time of the ACK.
fn renew(ns: &str, mac: [u8; 6], ip: Ipv4Addr, server: Ipv4Addr) -> Option<u32> {
    let cidr = format!("{ip}/24");
    sh(&["ip", "-n", ns, "addr", "add", &cidr, "dev", "eth0"]);
    let got = enter_ns(ns, move || {
        let s = client_socket(68);
        let m = Msg {
            ty: MessageType::Request,
            xid: 0x00AB_CDEF,
            mac,
            ciaddr: ip,
            broadcast: false,
            options: vec![],
        };
        for _ in 0..3 {
            s.send_to(&m.encode(), SocketAddrV4::new(server, 67)).ok()?;
            if let Some(r) = recv_type(&s, m.xid, &[MessageType::Ack], Duration::from_millis(800)) {
                return Packet::new_checked(&r[..]).unwrap().lease_time().unwrap();
            }
        }
        None
    });
    sh(&["ip", "-n", ns, "addr", "del", &cidr, "dev", "eth0"]);
    got
}
