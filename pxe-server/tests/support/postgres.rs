//! A real PostgreSQL for the tests: Debian's server binaries, a cluster
//! made with `initdb` in a temporary directory and run with `pg_ctl` as
//! the `postgres` user, listening only on a unix socket in that directory
//! (reachable from every network namespace, as a file is). Stopped and
//! removed on drop.
#![allow(dead_code, clippy::unwrap_used, clippy::panic, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// The directory of Debian's PostgreSQL server binaries (the newest
/// version installed).
fn bindir() -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|b| b.join("initdb").exists() && b.join("pg_ctl").exists())
        .collect();
    found.sort();
    found.pop().unwrap_or_else(|| {
        panic!("PostgreSQL server not installed (/usr/lib/postgresql/*/bin/initdb): run .ci/setup")
    })
}

/// Runs `args` as the `postgres` user, panicking with its output on
/// failure.
fn as_postgres(args: &[&str]) -> Output {
    let out = Command::new("runuser")
        .args(["-u", "postgres", "--"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A running PostgreSQL cluster.
pub struct Postgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    pub port: u16,
    stopped: bool,
}

impl Postgres {
    /// `initdb` and start a cluster (trust authentication, unix socket
    /// only, fsync on); waits at most 60 s for it to accept connections.
    pub fn start() -> Postgres {
        let bin = bindir();
        let dir = tempfile::Builder::new()
            .prefix("pxe-pg")
            .tempdir_in("/tmp")
            .unwrap();
        let root = dir.path();
        std::fs::create_dir(root.join("data")).unwrap();
        std::fs::create_dir(root.join("sock")).unwrap();
        Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(root)
            .status()
            .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o755)).unwrap();
        // A port number no other cluster of this process uses: the socket
        // file is named after it, in a directory of its own anyway.
        let port = 20_000 + (std::process::id() % 20_000) as u16;
        let data = root.join("data");
        let sock = root.join("sock");
        as_postgres(&[
            bin.join("initdb").to_str().unwrap(),
            "-D",
            data.to_str().unwrap(),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-instructions",
        ]);
        let opts = format!(
            "-c listen_addresses='' -k {} -p {port} -c max_connections=40",
            sock.display()
        );
        as_postgres(&[
            bin.join("pg_ctl").to_str().unwrap(),
            "-D",
            data.to_str().unwrap(),
            "-l",
            root.join("postgres.log").to_str().unwrap(),
            "-o",
            &opts,
            "-w",
            "-t",
            "60",
            "start",
        ]);
        let pg = Postgres {
            dir,
            bin,
            port,
            stopped: false,
        };
        let t0 = Instant::now();
        while pg.try_psql("SELECT 1").is_none() {
            assert!(
                t0.elapsed() < Duration::from_secs(60),
                "PostgreSQL did not accept connections:\n{}",
                pg.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        pg
    }

    /// The socket directory.
    pub fn socket_dir(&self) -> PathBuf {
        self.dir.path().join("sock")
    }

    /// The URL pxe-server is given (`dhcp-leasefile=`).
    pub fn url(&self) -> String {
        let host: String = self.socket_dir().to_str().unwrap().replace('/', "%2F");
        format!("postgresql://postgres@{host}:{}/postgres", self.port)
    }

    /// The server's log.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("postgres.log")).unwrap_or_default()
    }

    fn try_psql(&self, sql: &str) -> Option<String> {
        let out = Command::new("psql")
            .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"])
            .arg("-h")
            .arg(self.socket_dir())
            .args([
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-c",
                sql,
            ])
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Runs `sql` with psql; its rows, `|`-separated, one per line.
    pub fn psql(&self, sql: &str) -> String {
        self.try_psql(sql)
            .unwrap_or_else(|| panic!("psql {sql:?} failed\n{}", self.log()))
    }

    fn pg_ctl(&self, args: &[&str]) {
        let data = self.dir.path().join("data");
        let mut all = vec![
            self.bin.join("pg_ctl").to_str().unwrap().to_string(),
            "-D".to_string(),
            data.to_str().unwrap().to_string(),
        ];
        all.extend(args.iter().map(|s| s.to_string()));
        let refs: Vec<&str> = all.iter().map(String::as_str).collect();
        as_postgres(&refs);
    }

    /// Stops the server (immediately: connections are cut).
    pub fn stop(&mut self) {
        if !self.stopped {
            self.pg_ctl(&["-m", "immediate", "-w", "-t", "30", "stop"]);
            self.stopped = true;
        }
    }

    /// Starts it again on the same socket.
    pub fn restart(&mut self) {
        let opts = format!(
            "-c listen_addresses='' -k {} -p {} -c max_connections=40",
            self.socket_dir().display(),
            self.port
        );
        let log = self.dir.path().join("postgres.log");
        self.pg_ctl(&[
            "-l",
            log.to_str().unwrap(),
            "-o",
            &opts,
            "-w",
            "-t",
            "60",
            "start",
        ]);
        self.stopped = false;
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if !self.stopped {
            let data = self.dir.path().join("data");
            let _ = Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(self.bin.join("pg_ctl"))
                .arg("-D")
                .arg(&data)
                .args(["-m", "immediate", "-w", "-t", "30", "stop"])
                .output();
        }
    }
}
