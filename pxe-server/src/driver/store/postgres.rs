//! Leases in PostgreSQL, shared by several servers, with no double
//! allocation by construction.
//!
//! One row per address (`pxe_leases`, primary key `addr`): the lease or
//! offer on it, live or expired. Claiming an address is one
//! compare-and-set statement, `INSERT … ON CONFLICT (addr) DO UPDATE …
//! WHERE` the row has expired or is already this client's: the row lock
//! taken by the conflict serialises concurrent claims, so of two servers
//! claiming one address for two clients exactly one gets a row back; the
//! other's exchange is refused (its reply withheld) and its engine learns
//! the holder. An OFFER is claimed the same way (`offer = true`, held for
//! a minute), a removal (RELEASE, DECLINE, the client's older lease) is an
//! `UPDATE` that expires the row only while it is still that client's.
//!
//! Group commit: every exchange the writer has queued goes into one
//! transaction — its claims sent together (pipelined), then the removals
//! of the exchanges whose claim held, then `COMMIT` — so a batch costs a
//! few round trips and one WAL flush, however many clients it carries. No
//! reply leaves before `COMMIT` has returned.
//!
//! Every change bumps `version` (a sequence); each server reads the rows
//! changed since it last looked, about once a second, into its engine's
//! table, so renewals of another server's leases are answered and the
//! hashing picks addresses that are free.
//!
//! The schema is created and migrated by the server (`pxe_schema` holds
//! its version; migrations run under an advisory lock, so servers
//! starting together do not race). The connection runs on a
//! current-thread runtime of its own, driven by the writer thread: the
//! DHCP workers never wait on it.

use std::net::{IpAddr, Ipv4Addr};
use std::string::{String, ToString};
use std::time::{Duration, Instant};
use std::vec::Vec;
use std::{format, vec};

use futures_util::future::try_join_all;
use pxe_engine::lease::{Conflict, HwAddr, Lease, LeaseChange, LeaseTable, NEVER, Owner, Verdict};
use tokio_postgres::types::Type;
use tokio_postgres::{Client, NoTls, Row, Statement};

/// The schema version this server creates and reads.
pub(crate) const SCHEMA_VERSION: i32 = 2;

/// The migrations, in order: entry `n` takes the schema from version `n`
/// to `n + 1`.
const MIGRATIONS: [&str; SCHEMA_VERSION as usize] = [
    // 1: leases and offers, one row per address.
    "CREATE SEQUENCE pxe_lease_version;
     CREATE TABLE pxe_leases (
         addr      inet     PRIMARY KEY,
         htype     smallint NOT NULL,
         hw        bytea    NOT NULL,
         client_id bytea,
         hostname  text,
         expires   bigint   NOT NULL,
         offer     boolean  NOT NULL DEFAULT false,
         server    text     NOT NULL,
         version   bigint   NOT NULL DEFAULT nextval('pxe_lease_version')
     );
     CREATE INDEX pxe_leases_by_version ON pxe_leases (version);",
    // 2: the servers sharing the leases, each with its last heartbeat.
    "CREATE TABLE pxe_servers (
         id      text        PRIMARY KEY,
         seen    timestamptz NOT NULL,
         started timestamptz NOT NULL DEFAULT now()
     );",
];

/// `pg_advisory_lock` key of the migrations ("pxe" in ASCII).
const MIGRATION_LOCK: i64 = 0x0070_7865;

/// The row is this client's: client ids compared when both sides have
/// one, else hardware addresses (dnsmasq's rule).
fn same_client(htype: &str, hw: &str, cid: &str) -> String {
    format!(
        "CASE WHEN l.client_id IS NOT NULL AND {cid} IS NOT NULL THEN l.client_id = {cid} \
         ELSE l.htype = {htype} AND l.hw = {hw} END"
    )
}

/// The compare-and-set claim of an address ($1) for a client, as a lease
/// or an offer ($7), at time $9. An offer leaves the client's own live
/// lease as it is.
fn claim_sql() -> String {
    let keep = "(excluded.offer AND NOT l.offer AND (l.expires = 0 OR l.expires > $9))";
    let set = |col: &str| format!("{col} = CASE WHEN {keep} THEN l.{col} ELSE excluded.{col} END");
    let cols = [
        "htype",
        "hw",
        "client_id",
        "hostname",
        "expires",
        "offer",
        "server",
    ]
    .map(set)
    .join(", ");
    format!(
        "INSERT INTO pxe_leases AS l (addr, htype, hw, client_id, hostname, expires, offer, server) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (addr) DO UPDATE SET {cols}, version = nextval('pxe_lease_version') \
         WHERE (l.expires <> 0 AND l.expires <= $9) OR {} \
         RETURNING l.addr",
        same_client("excluded.htype", "excluded.hw", "excluded.client_id")
    )
}

/// Expire the row of $1 at $5 if it is live and still this client's.
fn remove_sql() -> String {
    format!(
        "UPDATE pxe_leases AS l SET expires = $5, offer = false, server = $6, \
         version = nextval('pxe_lease_version') \
         WHERE addr = $1 AND (l.expires = 0 OR l.expires > $5) AND {}",
        same_client("$2", "$3", "$4")
    )
}

const HOLDER_SQL: &str = "SELECT addr, htype, hw, client_id, hostname, expires, offer, version FROM pxe_leases WHERE addr = $1";

const CHANGED_SQL: &str = "SELECT addr, htype, hw, client_id, hostname, expires, offer, version \
     FROM pxe_leases WHERE version > $1 ORDER BY version";

/// A server is live while its heartbeat is younger than this (seconds):
/// its share of the clients moves to the others within about this much
/// plus one refresh after it stops.
pub(crate) const HEARTBEAT_TIMEOUT_SECS: f64 = 3.0;

const BEAT_SQL: &str = "INSERT INTO pxe_servers (id, seen) VALUES ($1, now()) \
     ON CONFLICT (id) DO UPDATE SET seen = now()";

const LIVE_SQL: &str = "SELECT id FROM pxe_servers \
     WHERE seen > now() - make_interval(secs => $1) ORDER BY id";

/// Heartbeats older than this are deleted (servers gone for good).
const FORGET_SQL: &str = "DELETE FROM pxe_servers WHERE seen < now() - interval '1 day'";

/// How long one connection attempt or one batch may take before the
/// database is taken to be unreachable (the writer withholds the batch and
/// the engine goes into degraded mode).
const DB_TIMEOUT: Duration = Duration::from_secs(5);

/// Rows whose `version` was drawn before the newest one seen may commit
/// after it: each refresh reads again this many versions back.
const REFRESH_OVERLAP: i64 = 512;

/// Errors of the PostgreSQL lease store.
#[derive(Debug, thiserror::Error)]
pub enum PgError {
    /// The connection string is not one tokio-postgres understands.
    #[error("lease store {url}: {source}")]
    Url {
        /// The URL as given (without its password).
        url: String,
        /// What is wrong with it.
        #[source]
        source: tokio_postgres::Error,
    },
    /// Talking to the database failed (it may be down).
    #[error("lease store {url}: {what}: {source}")]
    Db {
        /// Where.
        url: String,
        /// What was being done.
        what: &'static str,
        /// The driver's error.
        #[source]
        source: tokio_postgres::Error,
    },
    /// The database's schema is newer than this server knows.
    #[error(
        "lease store {url}: schema version {found} is newer than this pxe-server's ({SCHEMA_VERSION}); upgrade pxe-server"
    )]
    SchemaTooNew {
        /// Where.
        url: String,
        /// The version found.
        found: i32,
    },
    /// A row the database returned does not describe a lease.
    #[error("lease store {url}: bad row for {addr}: {why}")]
    BadRow {
        /// Where.
        url: String,
        /// The row's address.
        addr: String,
        /// What is wrong.
        why: &'static str,
    },
    /// The database did not answer in time.
    #[error("lease store {url}: {what}: no answer within {secs} s")]
    Timeout {
        /// Where.
        url: String,
        /// What was being done.
        what: &'static str,
        /// The limit.
        secs: u64,
    },
    /// The store's own runtime could not be built.
    #[error("lease store runtime: {0}")]
    Runtime(#[source] std::io::Error),
}

/// Whether a `dhcp-leasefile=` value names a PostgreSQL database.
pub(crate) fn is_postgres_url(s: &str) -> bool {
    s.starts_with("postgres://") || s.starts_with("postgresql://")
}

/// The URL without a password, for messages.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.split_once('@') {
        Some((auth, host)) if auth.contains(':') => {
            let user = auth.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}")
        }
        _ => url.to_string(),
    }
}

/// The prepared statements of one connection.
struct Session {
    client: Client,
    claim: Statement,
    remove: Statement,
    holder: Statement,
    changed: Statement,
    beat: Statement,
    live: Statement,
}

/// One staged exchange.
#[derive(Debug)]
struct Staged {
    hw: HwAddr,
    client_id: Option<Vec<u8>>,
    /// The claim (grant or offer), at most one per exchange.
    claim: Option<(Lease, bool)>,
    removes: Vec<Ipv4Addr>,
}

/// The PostgreSQL lease store.
pub(crate) struct PgStore {
    url: String,
    config: tokio_postgres::Config,
    rt: tokio::runtime::Runtime,
    session: Option<Session>,
    /// Who writes (`server` column): host name and process id.
    server: String,
    staged: Vec<Staged>,
    /// The newest `version` read into the table.
    seen: i64,
    refreshed_at: Instant,
    /// The database was unreachable at the last attempt (logged once).
    down: bool,
    /// This server's place among the live ones, and their number.
    share: (u16, u16),
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("url", &self.url)
            .field("server", &self.server)
            .field("seen", &self.seen)
            .finish_non_exhaustive()
    }
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl PgStore {
    /// How often the table is refreshed from the database.
    pub(crate) const TICK: Duration = Duration::from_secs(1);

    /// Connects to `url`, creates or migrates the schema, and loads every
    /// row into `table`. Call it outside any tokio runtime (it has its
    /// own).
    pub(crate) fn open(url: &str, table: &mut LeaseTable, now: u64) -> Result<PgStore, PgError> {
        let shown = redact(url);
        let mut config: tokio_postgres::Config = url.parse().map_err(|source| PgError::Url {
            url: shown.clone(),
            source,
        })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(DB_TIMEOUT);
        }
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(PgError::Runtime)?;
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
        let mut store = PgStore {
            url: shown,
            config,
            rt,
            session: None,
            server: format!("{}:{}", host.trim(), std::process::id()),
            staged: Vec::new(),
            seen: 0,
            refreshed_at: Instant::now(),
            down: false,
            share: (0, 1),
        };
        store.connect()?;
        store.refresh(table, now)?;
        Ok(store)
    }

    fn db(&self, what: &'static str) -> impl FnOnce(tokio_postgres::Error) -> PgError + '_ {
        move |source| PgError::Db {
            url: self.url.clone(),
            what,
            source,
        }
    }

    fn timed_out(&self, what: &'static str) -> PgError {
        PgError::Timeout {
            url: self.url.clone(),
            what,
            secs: DB_TIMEOUT.as_secs(),
        }
    }

    /// A live session: the current one, or a new connection (schema
    /// migrated, statements prepared).
    fn connect(&mut self) -> Result<(), PgError> {
        if self.session.as_ref().is_some_and(|s| !s.client.is_closed()) {
            return Ok(());
        }
        self.session = None;
        let config = self.config.clone();
        let url = self.url.clone();
        let err = |what| {
            let url = url.clone();
            move |source| PgError::Db { url, what, source }
        };
        let timeout = PgError::Timeout {
            url: self.url.clone(),
            what: "connect",
            secs: DB_TIMEOUT.as_secs(),
        };
        let connecting = async {
            let (mut client, conn) = config.connect(NoTls).await.map_err(err("connect"))?;
            tokio::spawn(async move {
                if let Err(e) = conn.await {
                    tracing::debug!("lease store connection ended: {e}");
                }
            });
            migrate(&mut client, &url).await?;
            let claim = client
                .prepare_typed(
                    &claim_sql(),
                    &[
                        Type::INET,
                        Type::INT2,
                        Type::BYTEA,
                        Type::BYTEA,
                        Type::TEXT,
                        Type::INT8,
                        Type::BOOL,
                        Type::TEXT,
                        Type::INT8,
                    ],
                )
                .await
                .map_err(err("prepare claim"))?;
            let remove = client
                .prepare_typed(
                    &remove_sql(),
                    &[
                        Type::INET,
                        Type::INT2,
                        Type::BYTEA,
                        Type::BYTEA,
                        Type::INT8,
                        Type::TEXT,
                    ],
                )
                .await
                .map_err(err("prepare remove"))?;
            let holder = client
                .prepare_typed(HOLDER_SQL, &[Type::INET])
                .await
                .map_err(err("prepare holder"))?;
            let changed = client
                .prepare_typed(CHANGED_SQL, &[Type::INT8])
                .await
                .map_err(err("prepare refresh"))?;
            let beat = client
                .prepare_typed(BEAT_SQL, &[Type::TEXT])
                .await
                .map_err(err("prepare heartbeat"))?;
            let live = client
                .prepare_typed(LIVE_SQL, &[Type::FLOAT8])
                .await
                .map_err(err("prepare live servers"))?;
            let _ = client.execute(FORGET_SQL, &[]).await;
            Ok::<_, PgError>(Session {
                client,
                claim,
                remove,
                holder,
                changed,
                beat,
                live,
            })
        };
        let session = self
            .rt
            .block_on(async { tokio::time::timeout(DB_TIMEOUT, connecting).await })
            .map_err(|_| timeout)??;
        self.session = Some(session);
        if self.down {
            tracing::warn!("lease store {}: reachable again", self.url);
            self.down = false;
        }
        Ok(())
    }

    /// Notes a failure: the session is dropped (reconnected next time),
    /// and the first failure of a run is logged loudly.
    fn failed(&mut self, e: PgError) -> PgError {
        self.session = None;
        if !self.down {
            tracing::error!("{e}; replies that need the database are withheld until it is back");
            self.down = true;
        }
        e
    }

    pub(crate) fn describe(&self) -> String {
        self.url.clone()
    }

    /// Queues one exchange's changes.
    pub(crate) fn stage(&mut self, owner: Owner<'_>, changes: &[LeaseChange]) {
        let mut s = Staged {
            hw: owner.hw,
            client_id: owner.client_id.map(<[u8]>::to_vec),
            claim: None,
            removes: Vec::new(),
        };
        for c in changes {
            match c {
                LeaseChange::Grant(l) => s.claim = Some((l.clone(), false)),
                LeaseChange::Offer(l) => s.claim = Some((l.clone(), true)),
                LeaseChange::Remove(a) => s.removes.push(*a),
                // DHCPv6 leases are not in the shared schema yet: with a
                // PostgreSQL store they live in this server's table only.
                LeaseChange::Grant6(_) | LeaseChange::Remove6(_) => {}
            }
        }
        self.staged.push(s);
    }

    /// Commits every staged exchange in one transaction; one verdict per
    /// exchange.
    pub(crate) fn commit(&mut self, verdicts: &mut Vec<Verdict>) -> Result<(), PgError> {
        let staged = std::mem::take(&mut self.staged);
        if staged.is_empty() {
            return Ok(());
        }
        if let Err(e) = self.connect() {
            return Err(self.failed(e));
        }
        let now = to_i64(crate::driver::clock::unix_now());
        let result = match self.session.as_mut() {
            Some(session) => {
                let (rt, url, server) = (&self.rt, &self.url, &self.server);
                rt.block_on(async {
                    tokio::time::timeout(
                        DB_TIMEOUT,
                        commit_batch(session, url, server, &staged, now),
                    )
                    .await
                })
                .unwrap_or_else(|_| {
                    Err(PgError::Timeout {
                        url: url.clone(),
                        what: "commit",
                        secs: DB_TIMEOUT.as_secs(),
                    })
                })
            }
            None => return Ok(()),
        };
        match result {
            Ok(v) => {
                verdicts.extend(v);
                Ok(())
            }
            Err(e) => Err(self.failed(e)),
        }
    }

    /// Whether the database answered at the last attempt.
    pub(crate) fn reachable(&self) -> bool {
        !self.down
    }

    /// Connects again if the database was unreachable; whether it is now.
    pub(crate) fn reconnect(&mut self) -> bool {
        if let Err(e) = self.connect() {
            let _ = self.failed(e);
        }
        !self.down
    }

    pub(crate) fn wants_maintenance(&self) -> bool {
        self.refreshed_at.elapsed() >= Self::TICK
    }

    /// Beats this server's heartbeat and reads which servers are live:
    /// this server's position among them and their number (the share of
    /// the clients it answers, see `pxe_engine::dhcp::balance`).
    pub(crate) fn heartbeat(&mut self) -> Result<(u16, u16), PgError> {
        if let Err(e) = self.connect() {
            return Err(self.failed(e));
        }
        let Some(session) = self.session.as_ref() else {
            return Ok((0, 1));
        };
        let server = self.server.as_str();
        let result = self.rt.block_on(async {
            // Pipelined: one round trip.
            let beat_params: [&(dyn tokio_postgres::types::ToSql + Sync); 1] = [&server];
            let live_params: [&(dyn tokio_postgres::types::ToSql + Sync); 1] =
                [&HEARTBEAT_TIMEOUT_SECS];
            let beat = session.client.execute(&session.beat, &beat_params);
            let live = session.client.query(&session.live, &live_params);
            tokio::time::timeout(DB_TIMEOUT, async {
                let (b, l) = futures_util::future::join(beat, live).await;
                b?;
                l
            })
            .await
        });
        let rows = match result {
            Ok(Ok(r)) => r,
            Ok(Err(source)) => {
                let e = self.db("heartbeat")(source);
                return Err(self.failed(e));
            }
            Err(_) => {
                let e = self.timed_out("heartbeat");
                return Err(self.failed(e));
            }
        };
        let ids: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
        let index = ids
            .iter()
            .position(|id| *id == self.server)
            .unwrap_or_else(|| ids.iter().filter(|id| **id < self.server).count());
        let servers = ids.len() + usize::from(!ids.contains(&self.server));
        let share = (
            u16::try_from(index).unwrap_or(u16::MAX),
            u16::try_from(servers).unwrap_or(u16::MAX),
        );
        if share != self.share {
            tracing::info!(
                "lease store: {} live servers, this one ({}) is number {}: it answers new clients whose RFC 3074 bucket modulo {} is {}",
                share.1,
                self.server,
                share.0,
                share.1,
                share.0
            );
            self.share = share;
        }
        Ok(share)
    }

    /// At shutdown: this server leaves the live ones at once (its share
    /// moves to the others at their next heartbeat).
    pub(crate) fn close(&mut self) {
        if let Some(session) = self.session.as_ref() {
            let server = self.server.as_str();
            let _ = self.rt.block_on(async {
                tokio::time::timeout(
                    DB_TIMEOUT,
                    session
                        .client
                        .execute("DELETE FROM pxe_servers WHERE id = $1", &[&server]),
                )
                .await
            });
        }
    }

    /// Reads the rows changed since the last refresh into `table`.
    pub(crate) fn refresh(&mut self, table: &mut LeaseTable, now: u64) -> Result<(), PgError> {
        self.refreshed_at = Instant::now();
        if let Err(e) = self.connect() {
            return Err(self.failed(e));
        }
        let Some(session) = self.session.as_ref() else {
            return Ok(());
        };
        let from = self.seen.saturating_sub(REFRESH_OVERLAP);
        let rows = match self.rt.block_on(async {
            tokio::time::timeout(DB_TIMEOUT, session.client.query(&session.changed, &[&from])).await
        }) {
            Ok(Ok(r)) => r,
            Ok(Err(source)) => {
                let e = self.db("refresh")(source);
                return Err(self.failed(e));
            }
            Err(_) => {
                let e = self.timed_out("refresh");
                return Err(self.failed(e));
            }
        };
        for row in &rows {
            let (lease, offer, version) = lease_of(row, &self.url)?;
            self.seen = self.seen.max(version);
            if !lease.is_active(now) {
                table.withdraw(lease.addr);
            } else if offer {
                table.withdraw(lease.addr);
                table.note_offer(&lease);
            } else if table.get(lease.addr) != Some(&lease) {
                table.apply(&LeaseChange::Grant(lease));
            }
        }
        Ok(())
    }
}

/// Creates the schema or brings it to [`SCHEMA_VERSION`].
async fn migrate(client: &mut Client, url: &str) -> Result<(), PgError> {
    let err = |what| {
        move |source| PgError::Db {
            url: url.to_string(),
            what,
            source,
        }
    };
    client
        .query("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(err("lock for migration"))?;
    let result = async {
        client
            .batch_execute(
                "CREATE TABLE IF NOT EXISTS pxe_schema (version integer NOT NULL);
                 INSERT INTO pxe_schema SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM pxe_schema);",
            )
            .await
            .map_err(err("create pxe_schema"))?;
        let found: i32 = client
            .query_one("SELECT version FROM pxe_schema", &[])
            .await
            .map_err(err("read schema version"))?
            .get(0);
        if found > SCHEMA_VERSION {
            return Err(PgError::SchemaTooNew {
                url: url.to_string(),
                found,
            });
        }
        for (n, sql) in MIGRATIONS.iter().enumerate().skip(found.max(0) as usize) {
            let to = n as i32 + 1;
            let tx = client.transaction().await.map_err(err("begin migration"))?;
            tx.batch_execute(sql).await.map_err(err("migrate schema"))?;
            tx.execute("UPDATE pxe_schema SET version = $1", &[&to])
                .await
                .map_err(err("record schema version"))?;
            tx.commit().await.map_err(err("commit migration"))?;
            tracing::info!("lease store {url}: schema migrated to version {to}");
        }
        Ok(())
    }
    .await;
    // A lost connection releases the lock anyway.
    let _ = client
        .query("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
        .await;
    result
}

/// The lease a row describes, whether it is an offer, and its version.
fn lease_of(row: &Row, url: &str) -> Result<(Lease, bool, i64), PgError> {
    let addr: IpAddr = row.get(0);
    let bad = |why| PgError::BadRow {
        url: url.to_string(),
        addr: addr.to_string(),
        why,
    };
    let IpAddr::V4(addr) = addr else {
        return Err(bad("not an IPv4 address"));
    };
    let htype: i16 = row.get(1);
    let hw: Vec<u8> = row.get(2);
    let hw = HwAddr::new(
        u8::try_from(htype).map_err(|_| bad("htype out of range"))?,
        &hw,
    )
    .ok_or(bad("hardware address over 16 bytes"))?;
    let expires: i64 = row.get(5);
    let lease = Lease {
        addr,
        hw,
        client_id: row.get(3),
        hostname: row.get(4),
        expires: u64::try_from(expires).map_err(|_| bad("negative expiry"))?,
    };
    Ok((lease, row.get(6), row.get(7)))
}

/// The transaction of one batch: claims (pipelined), then the removals
/// of exchanges whose claim held (pipelined), the holders of refused
/// addresses, `COMMIT`.
async fn commit_batch(
    session: &mut Session,
    url: &str,
    server: &str,
    staged: &[Staged],
    now: i64,
) -> Result<Vec<Verdict>, PgError> {
    let err = |what| {
        move |source| PgError::Db {
            url: url.to_string(),
            what,
            source,
        }
    };
    let tx = session.client.transaction().await.map_err(err("begin"))?;
    // Claims in address order: transactions of several servers then lock
    // the rows they share in the same order and cannot deadlock on them.
    let mut order: Vec<(usize, &(Lease, bool))> = staged
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.claim.as_ref().map(|c| (i, c)))
        .collect();
    order.sort_by_key(|(_, (l, _))| l.addr);
    let claims = order.iter().map(|(_, (l, offer))| {
        let hw = l.hw.as_bytes();
        let expires = if l.expires == NEVER {
            0
        } else {
            to_i64(l.expires)
        };
        let addr = IpAddr::V4(l.addr);
        let htype = i16::from(l.hw.htype());
        let cid = l.client_id.as_deref();
        let name = l.hostname.as_deref();
        let claim = &session.claim;
        let tx = &tx;
        async move {
            tx.query(
                claim,
                &[
                    &addr, &htype, &hw, &cid, &name, &expires, offer, &server, &now,
                ],
            )
            .await
        }
    });
    let claimed = try_join_all(claims).await.map_err(err("claim"))?;
    let mut held = vec![true; staged.len()];
    let mut refused = Vec::new();
    for ((i, (l, _)), rows) in order.iter().zip(&claimed) {
        if rows.is_empty() {
            held[*i] = false;
            refused.push((*i, l.addr));
        }
    }
    let removes = staged
        .iter()
        .zip(&held)
        .filter(|(_, h)| **h)
        .flat_map(|(s, _)| s.removes.iter().map(move |a| (s, *a)))
        .map(|(s, a)| {
            let addr = IpAddr::V4(a);
            let htype = i16::from(s.hw.htype());
            let hw = s.hw.as_bytes();
            let cid = s.client_id.as_deref();
            let remove = &session.remove;
            let tx = &tx;
            async move {
                tx.execute(remove, &[&addr, &htype, &hw, &cid, &now, &server])
                    .await
            }
        });
    try_join_all(removes).await.map_err(err("remove"))?;
    let holders = refused.iter().map(|(_, a)| {
        let addr = IpAddr::V4(*a);
        let holder = &session.holder;
        let tx = &tx;
        async move { tx.query_opt(holder, &[&addr]).await }
    });
    let holders = try_join_all(holders).await.map_err(err("read holder"))?;
    tx.commit().await.map_err(err("commit"))?;
    let mut verdicts: Vec<Verdict> = vec![Verdict::Durable; staged.len()];
    for ((i, addr), row) in refused.into_iter().zip(holders) {
        let (holder, offer) = match row {
            Some(r) => {
                let (l, offer, _) = lease_of(&r, url)?;
                (Some(l), offer)
            }
            None => (None, false),
        };
        verdicts[i] = Verdict::Refused(Conflict {
            addr,
            holder,
            offer,
        });
    }
    Ok(verdicts)
}
