//! Loopback tests of the HTTP service with a raw HTTP/1.1 client.

use std::string::{String, ToString};
use std::sync::{Arc, Mutex};
use std::vec::Vec;
use std::{format, vec};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::*;
use pxe_engine::script::MacAddr;
use std::net::SocketAddr;

mod fast;

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

#[derive(Default)]
struct Log(Mutex<Vec<AccessRecord>>);
impl AccessObserver for Log {
    fn record(&self, r: &AccessRecord) {
        if let Ok(mut v) = self.0.lock() {
            v.push(r.clone());
        }
    }
}

struct Facts;
impl ClientLookup for Facts {
    fn lookup(&self, mac: &MacAddr) -> Option<ClientFacts> {
        (mac.0 == [0x52, 0x54, 0, 0, 0, 1]).then(|| ClientFacts {
            arch: Some(7),
            hostname: Some("node1".to_string()),
            tags: vec![
                "efi64".to_string(),
                "bad tag".to_string(),
                "ipxe".to_string(),
            ],
        })
    }
}

struct Fixture {
    _dir: tempfile::TempDir,
    addr: SocketAddr,
    log: Arc<Log>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        self.task.abort();
    }
}

const BIG: usize = 300_000;

fn big_content() -> Vec<u8> {
    (0..BIG).map(|i| (i * 7 % 251) as u8).collect()
}

async fn fixture(script: Option<&str>) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir_all(root.join("pxelinux.cfg")).unwrap();
    std::fs::write(root.join("pxelinux.cfg/default"), "SAY hi\n").unwrap();
    std::fs::write(root.join("big.bin"), big_content()).unwrap();
    std::fs::write(root.join("empty"), "").unwrap();
    std::fs::write(dir.path().join("secret"), "secret").unwrap();
    std::os::unix::fs::symlink(dir.path().join("secret"), root.join("out")).unwrap();
    std::os::unix::fs::symlink("pxelinux.cfg/default", root.join("in")).unwrap();
    let sdir = dir.path().join("scripts");
    std::fs::create_dir(&sdir).unwrap();
    std::fs::write(
        sdir.join("11111111-2222-3333-4444-555555555555.ipxe"),
        "#!ipxe\necho uuid override {{uuid}}\n",
    )
    .unwrap();
    std::fs::write(
        sdir.join("52-54-00-00-00-02.ipxe"),
        "#!ipxe\necho mac override {{mac}}\n",
    )
    .unwrap();
    std::fs::write(
        sdir.join("52-54-00-00-00-03.ipxe"),
        "#!ipxe\necho {{nope}}\n",
    )
    .unwrap();
    let script_path = script.map(|s| {
        let p = dir.path().join("t.ipxe");
        std::fs::write(&p, s).unwrap();
        p
    });
    let config = HttpConfig {
        root: Some(root),
        script: script_path,
        script_dir: Some(sdir),
    };
    let log = Arc::new(Log::default());
    let svc = HttpService::new(&config, Some(Arc::new(Facts)))
        .unwrap()
        .with_observer(log.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(svc.serve(listener));
    Fixture {
        _dir: dir,
        addr,
        log,
        task,
    }
}

async fn raw(addr: SocketAddr, request: &str) -> Reply {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(request.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    tokio::time::timeout(std::time::Duration::from_secs(10), s.read_to_end(&mut buf))
        .await
        .unwrap()
        .unwrap();
    let split = buf.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8(buf[..split].to_vec()).unwrap();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .map(|l| {
            let (k, v) = l.split_once(':').unwrap();
            (k.trim().to_string(), v.trim().to_string())
        })
        .collect();
    Reply {
        status,
        headers,
        body: buf[split + 4..].to_vec(),
    }
}

async fn get(addr: SocketAddr, target: &str, extra: &str) -> Reply {
    raw(
        addr,
        &format!("GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{extra}\r\n"),
    )
    .await
}

#[tokio::test]
async fn files_head_and_ranges() {
    let f = fixture(None).await;
    let r = get(f.addr, "/pxelinux.cfg/default", "").await;
    assert_eq!((r.status, r.text().as_str()), (200, "SAY hi\n"));
    assert_eq!(r.header("content-length"), Some("7"));
    assert_eq!(r.header("accept-ranges"), Some("bytes"));
    let r = get(f.addr, "//pxelinux.cfg/./default", "").await;
    assert_eq!(r.status, 200, "double slash is collapsed, not redirected");

    let big = big_content();
    let r = get(f.addr, "/big.bin", "").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-length"), Some("300000"));
    assert!(r.body == big);

    let r = raw(
        f.addr,
        "HEAD /big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(
        (r.status, r.header("content-length"), r.body.len()),
        (200, Some("300000"), 0)
    );

    let r = get(f.addr, "/big.bin", "Range: bytes=100000-200004\r\n").await;
    assert_eq!(r.status, 206);
    assert_eq!(
        r.header("content-range"),
        Some("bytes 100000-200004/300000")
    );
    assert_eq!(r.header("content-length"), Some("100005"));
    assert!(r.body == big[100_000..=200_004]);

    let r = get(f.addr, "/big.bin", "Range: bytes=-10\r\n").await;
    assert_eq!(
        (r.status, r.header("content-range")),
        (206, Some("bytes 299990-299999/300000"))
    );
    assert!(r.body == big[299_990..]);

    let r = get(f.addr, "/big.bin", "Range: bytes=300000-\r\n").await;
    assert_eq!(
        (r.status, r.header("content-range")),
        (416, Some("bytes */300000"))
    );

    let r = get(f.addr, "/empty", "Range: bytes=0-\r\n").await;
    assert_eq!(
        (r.status, r.header("content-range")),
        (416, Some("bytes */0"))
    );
    let r = get(f.addr, "/empty", "").await;
    assert_eq!(
        (r.status, r.header("content-length"), r.body.len()),
        (200, Some("0"), 0)
    );

    // Multi-range and If-Range: the whole file.
    let r = get(f.addr, "/big.bin", "Range: bytes=0-1,5-6\r\n").await;
    assert_eq!((r.status, r.body.len()), (200, BIG));
    let r = get(
        f.addr,
        "/big.bin",
        "Range: bytes=0-1\r\nIf-Range: \"x\"\r\n",
    )
    .await;
    assert_eq!((r.status, r.body.len()), (200, BIG));

    let r = raw(
        f.addr,
        "POST /big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
    )
    .await;
    assert_eq!((r.status, r.header("allow")), (405, Some("GET, HEAD")));

    let log = f.log.0.lock().unwrap().clone();
    assert_eq!(log.len(), 12);
    assert_eq!(log[0].target, "/pxelinux.cfg/default");
    assert_eq!((log[0].status, log[0].length), (200, 7));
}

/// Validators and preconditions, on the fast path (HTTP/1.1 and 1.0) and
/// through hyper, which must answer alike.
#[tokio::test]
async fn conditional_requests_on_both_paths() {
    let f = fixture(None).await;
    let r = get(f.addr, "/big.bin", "").await;
    let tag = r.header("etag").unwrap().to_string();
    let date = r.header("last-modified").unwrap().to_string();
    let mtime = std::fs::metadata(f._dir.path().join("root/big.bin"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(tag, Validators::of(Some(mtime), BIG as u64).etag());
    assert_eq!(httpdate::parse_http_date(&date).unwrap(), {
        let secs = mtime
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs)
    });
    // A head larger than the fast path's buffer goes to hyper.
    let pad = format!("X-Pad: {}\r\n", "a".repeat(super::fast::HEAD_BUF));
    for (path, version, extra) in [
        (
            "fast path",
            "HTTP/1.1",
            "Host: x\r\nConnection: close\r\n".to_string(),
        ),
        ("fast path, HTTP/1.0", "HTTP/1.0", String::new()),
        (
            "hyper",
            "HTTP/1.1",
            format!("Host: x\r\nConnection: close\r\n{pad}"),
        ),
    ] {
        let ask = |method: &str, headers: String| {
            format!("{method} /big.bin {version}\r\n{extra}{headers}\r\n")
        };
        for method in ["GET", "HEAD"] {
            for cond in [
                format!("If-None-Match: \"other\", {tag}\r\n"),
                format!("If-Modified-Since: {date}\r\n"),
            ] {
                let r = raw(f.addr, &ask(method, cond.clone())).await;
                assert_eq!(r.status, 304, "{path} {method} {cond}");
                assert!(r.body.is_empty(), "{path} {method} {cond}");
                assert_eq!(r.header("content-length"), None, "{path} {method} {cond}");
                assert_eq!(r.header("etag"), Some(tag.as_str()));
                assert_eq!(r.header("last-modified"), Some(date.as_str()));
            }
        }
        // A different version: the whole file.
        let r = raw(f.addr, &ask("GET", "If-None-Match: \"other\"\r\n".into())).await;
        assert_eq!((r.status, r.body.len()), (200, BIG), "{path}");
        let r = raw(
            f.addr,
            &ask(
                "GET",
                "If-Modified-Since: Thu, 01 Jan 1970 00:00:01 GMT\r\n".into(),
            ),
        )
        .await;
        assert_eq!((r.status, r.body.len()), (200, BIG), "{path}");
        // If-Range naming this version resumes; any other sends it all.
        let r = raw(
            f.addr,
            &ask("GET", format!("Range: bytes=10-19\r\nIf-Range: {tag}\r\n")),
        )
        .await;
        assert_eq!(
            (r.status, r.body.as_slice()),
            (206, &big_content()[10..20]),
            "{path}"
        );
        let r = raw(
            f.addr,
            &ask("GET", format!("Range: bytes=10-19\r\nIf-Range: {date}\r\n")),
        )
        .await;
        assert_eq!(r.status, 206, "{path}");
        let r = raw(
            f.addr,
            &ask("GET", "Range: bytes=10-19\r\nIf-Range: \"old\"\r\n".into()),
        )
        .await;
        assert_eq!((r.status, r.body.len()), (200, BIG), "{path}");
        // If-Match on another version: 412.
        let r = raw(f.addr, &ask("GET", "If-Match: \"old\"\r\n".into())).await;
        assert_eq!(
            (r.status, r.header("etag")),
            (412, Some(tag.as_str())),
            "{path}"
        );
        let r = raw(f.addr, &ask("GET", format!("If-Match: {tag}\r\n"))).await;
        assert_eq!(r.status, 200, "{path}");
    }
    // The file changes: the old tag no longer matches.
    std::fs::write(f._dir.path().join("root/big.bin"), b"new").unwrap();
    let r = get(f.addr, "/big.bin", &format!("If-None-Match: {tag}\r\n")).await;
    assert_eq!((r.status, r.text().as_str()), (200, "new"));
    assert_ne!(r.header("etag"), Some(tag.as_str()));
}

#[tokio::test]
async fn paths_cannot_escape_the_root() {
    let f = fixture(None).await;
    for (target, status) in [
        ("/../secret", 403),
        ("/%2e%2e/secret", 403),
        ("/pxelinux.cfg/%2E%2E/%2e%2e/secret", 403),
        ("/out", 403),
        ("/%2fetc%2fpasswd", 404),
        ("/a%00b", 400),
        ("/a%0d%0aX:%20y", 400),
        ("/x%5c..%5csecret", 400),
        ("/x%zz", 400),
        ("/", 404),
        ("/pxelinux.cfg", 404),
        ("/nonexistent", 404),
    ] {
        let r = get(f.addr, target, "").await;
        assert_eq!(r.status, status, "{target}: {}", r.text());
        assert!(!r.text().contains("secret\n") || r.status != 200);
    }
    let r = get(f.addr, "/in", "").await;
    assert_eq!(
        (r.status, r.text().as_str()),
        (200, "SAY hi\n"),
        "symlink inside the root is fine"
    );
}

#[tokio::test]
async fn seed_script_with_real_values() {
    let f = fixture(None).await;
    let r = get(
        f.addr,
        "/ipxe.php?mac=52%3A54%3A00%3A12%3A34%3A56&uuid=0017001E-8C00-00AD-5087-90E6BA2F3423",
        "",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.text(),
        "#!ipxe
set 209:string pxelinux.cfg/0017001e-8c00-00ad-5087-90e6ba2f3423.cfg
set 210:string http://127.0.0.1:81/
chain ${210:string}pxelinux.0 ||
chain http://boot.ipxe.org/demo/boot.php ||
shell
"
    );
    assert_eq!(
        r.header("content-length"),
        Some(r.body.len().to_string().as_str())
    );
    assert_eq!(r.header("cache-control"), Some("no-store"));
    // The seed template needs the UUID.
    let r = get(f.addr, "/boot.ipxe?mac=52:54:00:12:34:56&uuid=", "").await;
    assert_eq!(r.status, 400);
    assert!(r.text().contains("{{uuid}}"), "{}", r.text());
}

#[tokio::test]
async fn configured_template_overrides_and_facts() {
    let f = fixture(Some(
        "#!ipxe\necho {{mac}} {{arch}} {{hostname}} [{{tags}}] {{ip}} {{server}}:{{port}}\n",
    ))
    .await;
    let port = f.addr.port();
    let r = get(f.addr, "/boot.ipxe?mac=52-54-00-00-00-01", "").await;
    assert_eq!(
        (r.status, r.text()),
        (
            200,
            format!(
                "#!ipxe\necho 52:54:00:00:00:01 7 node1 [efi64 ipxe] 127.0.0.1 127.0.0.1:{port}\n"
            )
        )
    );
    let r = get(
        f.addr,
        "/boot.ipxe?mac=52-54-00-00-00-01&arch=x86_64&hostname=h2&ip=10.1.2.3",
        "",
    )
    .await;
    assert_eq!(
        r.text(),
        format!(
            "#!ipxe\necho 52:54:00:00:00:01 x86_64 h2 [efi64 ipxe] 10.1.2.3 127.0.0.1:{port}\n"
        )
    );
    // Unknown client: no arch or host name known -> 400 naming the variable.
    let r = get(f.addr, "/boot.ipxe?mac=52-54-00-00-00-09", "").await;
    assert_eq!(r.status, 400);
    assert!(r.text().contains("{{arch}}"), "{}", r.text());

    // Per-UUID file first, then per-MAC file.
    let r = get(
        f.addr,
        "/ipxe.php?mac=52:54:00:00:00:02&uuid=11111111-2222-3333-4444-555555555555",
        "",
    )
    .await;
    assert_eq!(
        r.text(),
        "#!ipxe\necho uuid override 11111111-2222-3333-4444-555555555555\n"
    );
    let r = get(f.addr, "/ipxe.php?mac=52:54:00:00:00:02", "").await;
    assert_eq!(r.text(), "#!ipxe\necho mac override 52:54:00:00:00:02\n");
    let r = get(f.addr, "/ipxe.php?mac=52:54:00:00:00:03", "").await;
    assert_eq!(r.status, 500, "a broken override file is a server error");
}

#[tokio::test]
async fn script_injection_is_refused() {
    let f = fixture(None).await;
    let long = "a".repeat(300);
    let cases = [
        "/ipxe.php?mac=52:54:00:12:34:56%0Ashell&uuid=0017001e-8c00-00ad-5087-90e6ba2f3423".to_string(),
        "/ipxe.php?mac=52:54:00:12:34:56&uuid=0017001e-8c00-00ad-5087-90e6ba2f3423%0D%0Achain%20http://evil/".to_string(),
        "/ipxe.php?mac=${mac}&uuid=${uuid}".to_string(),
        "/ipxe.php?mac=%24%7Bmac%7D".to_string(),
        "/ipxe.php?uuid=0017001e-8c00-00ad-5087-90e6ba2f3423&hostname=x%0Aimgexec%20evil".to_string(),
        format!("/ipxe.php?hostname={long}"),
        format!("/ipxe.php?{}", "x=1&".repeat(300)),
        "/ipxe.php?mac=%zz".to_string(),
        "/ipxe.php?mac=%C3%28".to_string(),
        "/ipxe.php?uuid=0017001e-8c00-00ad-5087-90e6ba2f3423&uuid=0017001e-8c00-00ad-5087-90e6ba2f3423".to_string(),
        "/ipxe.php?uuid=0017001e-8c00-00ad-5087-90e6ba2f3423&uuid=".to_string(),
        "/ipxe.php?uuid=0017001e-8c00-00ad-5087-90e6ba2f3423&evil=1".to_string(),
        "/ipxe.php?uuid=0017001e-8c00-00ad-5087-90e6ba2f3423&209=x".to_string(),
        "/ipxe.php?uuid=../../../etc/passwd".to_string(),
    ];
    for target in &cases {
        let r = get(f.addr, target, "").await;
        assert_eq!(r.status, 400, "{target}: {}", r.text());
        assert!(!r.text().starts_with("#!ipxe"), "{target}");
    }
}

#[test]
fn check_reports_template_errors_with_position() {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("t.ipxe");
    std::fs::write(&t, "#!ipxe\nchain http://x/{{mack}}\n").unwrap();
    let sdir = dir.path().join("s");
    std::fs::create_dir(&sdir).unwrap();
    std::fs::write(sdir.join("52-54-00-00-00-01.ipxe"), "echo no shebang\n").unwrap();
    std::fs::write(sdir.join("ok.ipxe"), "#!ipxe\n").unwrap();
    let ext = pxe_rules::config::Extensions {
        http_ports: vec![80],
        http_root: Some(dir.path().display().to_string()),
        ipxe_script: Some(t.display().to_string()),
        ipxe_script_dir: Some(sdir.display().to_string()),
        ..Default::default()
    };
    let problems = check(&ext);
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert!(matches!(problems[0], HttpSetupError::Script { .. }));
    assert!(matches!(problems[1], HttpSetupError::Script { .. }));
    let problems: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert!(
        problems[0].contains("line 2, column 16: unknown variable `mack`"),
        "{}",
        problems[0]
    );
    assert!(
        problems[1].contains("52-54-00-00-00-01.ipxe: line 1, column 1"),
        "{}",
        problems[1]
    );

    let ext = pxe_rules::config::Extensions {
        http_ports: vec![],
        http_root: Some("/nonexistent-pxe-root".to_string()),
        ..Default::default()
    };
    let problems = check(&ext);
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert!(matches!(problems[0], HttpSetupError::NoPort));
    assert!(matches!(problems[1], HttpSetupError::Root { .. }));
    let problems: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert!(problems[0].contains("no http-port"));
    assert!(problems[1].contains("/nonexistent-pxe-root"));
    assert!(check(&pxe_rules::config::Extensions::default()).is_empty());

    let ext = pxe_rules::config::Extensions {
        http_ports: vec![80],
        ipxe_script_dir: Some("/nonexistent-pxe-scripts".to_string()),
        ..Default::default()
    };
    let problems = check(&ext);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(
        matches!(&problems[0], HttpSetupError::ScriptDir { path, .. } if path.as_os_str() == "/nonexistent-pxe-scripts")
    );
    assert!(
        problems[0]
            .to_string()
            .starts_with("ipxe-script-dir /nonexistent-pxe-scripts: "),
        "{}",
        problems[0]
    );
}

#[tokio::test]
async fn connection_cap_holds_back_extra_clients() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("f"), "x").unwrap();
    let config = HttpConfig {
        root: Some(dir.path().to_path_buf()),
        ..HttpConfig::default()
    };
    let svc = HttpService::new(&config, None)
        .unwrap()
        .with_max_connections(2);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(svc.serve(listener));
    // Two idle clients take both slots.
    let idle1 = tokio::net::TcpStream::connect(addr).await.unwrap();
    let _idle2 = tokio::net::TcpStream::connect(addr).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let third = tokio::spawn(get(addr, "/f", ""));
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(
        !third.is_finished(),
        "a third client was served past the cap"
    );
    drop(idle1);
    let r = tokio::time::timeout(std::time::Duration::from_secs(5), third)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((r.status, r.text().as_str()), (200, "x"));
    task.abort();
}

#[test]
fn listen_addrs_follow_interface_lines() {
    let parse = |text: &str| pxe_rules::Config::parse_str(text, "t.conf").unwrap();
    let c = parse("http-port=80\nhttp-port=81\n");
    assert_eq!(
        listen_addrs(&c).unwrap(),
        vec![
            "0.0.0.0:80".parse::<SocketAddr>().unwrap(),
            "0.0.0.0:81".parse().unwrap()
        ]
    );
    let c = parse("interface=lo\nhttp-port=8080\n");
    assert_eq!(
        listen_addrs(&c).unwrap(),
        vec!["127.0.0.1:8080".parse::<SocketAddr>().unwrap()]
    );
    let c = parse("interface=l*\nhttp-port=8080\n");
    assert_eq!(
        listen_addrs(&c).unwrap(),
        vec!["127.0.0.1:8080".parse::<SocketAddr>().unwrap()]
    );
    let c = parse("interface=nosuchif0\nhttp-port=8080\n");
    assert!(matches!(listen_addrs(&c), Err(HttpSetupError::NoInterface(n)) if n == "nosuchif0"));
    assert!(listen_addrs(&parse("")).unwrap().is_empty());
}
