//! The file fast path (`fast.rs`) against curl and a raw client: bytes
//! compared exactly, keep-alive, pipelining into hyper, files that change
//! under a transfer, clients that leave mid-body.

use std::path::PathBuf;
use std::process::Command;

use super::*;

/// A file large enough for many `sendfile` calls and full socket buffers.
const LARGE: usize = 32 << 20;

fn large_content() -> Vec<u8> {
    (0..LARGE).map(|i| (i * 13 % 253) as u8).collect()
}

fn root_of(f: &Fixture) -> PathBuf {
    f._dir.path().join("root")
}

/// Runs curl with these arguments; returns (exit code, stdout).
async fn curl(args: Vec<String>) -> (i32, String) {
    tokio::task::spawn_blocking(move || {
        let out = Command::new("curl")
            .args(["-sS", "--max-time", "20"])
            .args(&args)
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    })
    .await
    .unwrap()
}

fn s(x: impl ToString) -> String {
    x.to_string()
}

#[tokio::test]
async fn curl_whole_range_head_keepalive_and_refusals() {
    let f = fixture(None).await;
    let root = root_of(&f);
    let large = large_content();
    std::fs::write(root.join("large.bin"), &large).unwrap();
    let out = tempfile::tempdir().unwrap();
    let o = |name: &str| out.path().join(name).display().to_string();
    let url = |p: &str| format!("http://{}{p}", f.addr);

    // Whole file.
    let (rc, code) = curl(vec![
        s("-o"),
        o("whole"),
        s("-w"),
        s("%{http_code}"),
        url("/large.bin"),
    ])
    .await;
    assert_eq!((rc, code.as_str()), (0, "200"));
    assert!(std::fs::read(o("whole")).unwrap() == large);

    // One range, with its head.
    let (rc, code) = curl(vec![
        s("-r"),
        s("1000-20000999"),
        s("-D"),
        o("range.head"),
        s("-o"),
        o("range"),
        s("-w"),
        s("%{http_code}"),
        url("/large.bin"),
    ])
    .await;
    assert_eq!((rc, code.as_str()), (0, "206"));
    assert!(std::fs::read(o("range")).unwrap() == large[1000..20_001_000]);
    let head = std::fs::read_to_string(o("range.head"))
        .unwrap()
        .to_lowercase();
    assert!(
        head.contains(&format!("content-range: bytes 1000-20000999/{LARGE}\r\n")),
        "{head}"
    );
    assert!(head.contains("content-length: 20000000\r\n"), "{head}");
    assert!(head.contains("accept-ranges: bytes\r\n"), "{head}");
    assert!(head.contains("\r\ndate: "), "{head}");

    // HEAD: the length, no body.
    let (rc, head) = curl(vec![s("-I"), url("/large.bin")]).await;
    assert_eq!(rc, 0);
    let head = head.to_lowercase();
    assert!(head.starts_with("http/1.1 200 ok\r\n"), "{head}");
    assert!(
        head.contains(&format!("content-length: {LARGE}\r\n")),
        "{head}"
    );

    // Two requests on one connection (the second opens none).
    let (rc, counts) = curl(vec![
        s("-w"),
        s("%{num_connects} "),
        s("-o"),
        o("ka1"),
        url("/large.bin"),
        s("-o"),
        o("ka2"),
        url("/big.bin"),
    ])
    .await;
    assert_eq!((rc, counts.as_str()), (0, "1 0 "));
    assert!(std::fs::read(o("ka1")).unwrap() == large);
    assert!(std::fs::read(o("ka2")).unwrap() == big_content());

    // Outside the root: refused, nothing of the secret sent.
    for (path, code) in [
        ("/../secret", "403"),
        ("/%2e%2e/secret", "403"),
        ("/out", "403"),
        ("/nonexistent", "404"),
        ("/a%00b", "400"),
    ] {
        let (rc, body) = curl(vec![
            s("--path-as-is"),
            s("-o"),
            o("refused"),
            s("-w"),
            s("%{http_code}"),
            url(path),
        ])
        .await;
        assert_eq!((rc, body.as_str()), (0, code), "{path}");
        assert!(
            !std::fs::read_to_string(o("refused"))
                .unwrap()
                .contains("secret\n")
        );
    }

    let log = f.log.0.lock().unwrap().clone();
    assert_eq!(log.len(), 10, "{log:#?}");
    assert_eq!((log[0].status, log[0].length), (200, LARGE as u64));
    assert_eq!((log[1].status, log[1].length), (206, 20_000_000));
    assert_eq!(
        (log[2].method.as_str(), log[2].length),
        ("HEAD", LARGE as u64)
    );
    assert_eq!(log[5].status, 403);

    // HTTP/1.0 (as lpxelinux.0 asks): whole files; the connection ends
    // after each answer unless the client asks keep-alive.
    for (keep, counts) in [(None, "1 1 "), (Some("Connection: keep-alive"), "1 0 ")] {
        let mut args = vec![s("--http1.0"), s("-w"), s("%{num_connects} ")];
        if let Some(h) = keep {
            args.extend([s("-H"), s(h)]);
        }
        args.extend([
            s("-o"),
            o("h10a"),
            url("/large.bin"),
            s("-o"),
            o("h10b"),
            url("/big.bin"),
        ]);
        let (rc, got) = curl(args).await;
        assert_eq!((rc, got.as_str()), (0, counts), "{keep:?}");
        assert!(std::fs::read(o("h10a")).unwrap() == large);
        assert!(std::fs::read(o("h10b")).unwrap() == big_content());
    }
}

/// The server closed `s` after the last answer, and sent nothing more.
async fn assert_closed(s: &mut tokio::net::TcpStream, pending: &[u8]) {
    let mut rest = Vec::new();
    s.read_to_end(&mut rest).await.unwrap();
    assert!(pending.is_empty() && rest.is_empty(), "nothing after close");
}

/// Reads one response (head + `Content-Length` body) from `s`, with
/// `pending` holding bytes already read past the previous one.
async fn read_reply(s: &mut tokio::net::TcpStream, pending: &mut Vec<u8>) -> Reply {
    loop {
        if let Some(split) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8(pending[..split].to_vec()).unwrap();
            let mut lines = head.split("\r\n");
            let status = lines
                .next()
                .unwrap()
                .split(' ')
                .nth(1)
                .unwrap()
                .parse()
                .unwrap();
            let headers: Vec<(String, String)> = lines
                .map(|l| {
                    let (k, v) = l.split_once(':').unwrap();
                    (k.trim().to_string(), v.trim().to_string())
                })
                .collect();
            let len: usize = headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                .map(|(_, v)| v.parse().unwrap())
                .unwrap();
            while pending.len() < split + 4 + len {
                let mut chunk = vec![0u8; 65536];
                let n = s.read(&mut chunk).await.unwrap();
                assert!(n > 0, "connection closed mid-body");
                pending.extend_from_slice(&chunk[..n]);
            }
            let body = pending[split + 4..split + 4 + len].to_vec();
            pending.drain(..split + 4 + len);
            return Reply {
                status,
                headers,
                body,
            };
        }
        let mut chunk = vec![0u8; 65536];
        let n = s.read(&mut chunk).await.unwrap();
        assert!(n > 0, "connection closed before a reply");
        pending.extend_from_slice(&chunk[..n]);
    }
}

#[tokio::test]
async fn pipelined_requests_pass_from_the_fast_path_to_hyper() {
    let f = fixture(None).await;
    let mut s = tokio::net::TcpStream::connect(f.addr).await.unwrap();
    // A file and a script (fast path), a POST (hyper, with the bytes
    // already read), a HEAD and a file again (hyper keeps the
    // connection), all in one write.
    s.write_all(
        b"GET /pxelinux.cfg/default HTTP/1.1\r\nHost: x\r\n\r\n\
          GET /boot.ipxe?mac=52-54-00-00-00-02 HTTP/1.1\r\nHost: x\r\n\r\n\
          POST /pxelinux.cfg/default HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n\
          HEAD /big.bin HTTP/1.1\r\nHost: x\r\n\r\n\
          GET /big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await
    .unwrap();
    let mut pending = Vec::new();
    let work = async {
        let a = read_reply(&mut s, &mut pending).await;
        assert_eq!((a.status, a.text().as_str()), (200, "SAY hi\n"));
        let b = read_reply(&mut s, &mut pending).await;
        assert_eq!(
            (b.status, b.text().as_str()),
            (200, "#!ipxe\necho mac override 52:54:00:00:00:02\n")
        );
        let c = read_reply(&mut s, &mut pending).await;
        assert_eq!(c.status, 405);
        // HEAD: a length, no body (read the head alone).
        let split = loop {
            if let Some(p) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
                break p;
            }
            let mut chunk = vec![0u8; 65536];
            let n = s.read(&mut chunk).await.unwrap();
            assert!(n > 0);
            pending.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&pending[..split]).to_lowercase();
        assert!(head.contains("content-length: 300000"), "{head}");
        pending.drain(..split + 4);
        let d = read_reply(&mut s, &mut pending).await;
        assert_eq!(d.status, 200);
        assert!(d.body == big_content());
        assert_closed(&mut s, &pending).await;
    };
    tokio::time::timeout(std::time::Duration::from_secs(10), work)
        .await
        .unwrap();
    let log = f.log.0.lock().unwrap().clone();
    let targets: Vec<&str> = log.iter().map(|r| r.target.as_str()).collect();
    assert_eq!(
        targets,
        [
            "/pxelinux.cfg/default",
            "/boot.ipxe?mac=52-54-00-00-00-02",
            "/pxelinux.cfg/default",
            "/big.bin",
            "/big.bin"
        ]
    );
}

/// syslinux's lpxelinux.0 asks HTTP/1.0: on the fast path, closed after
/// the answer unless the client asks keep-alive, and then said so.
#[tokio::test]
async fn http10_is_answered_on_the_fast_path() {
    let f = fixture(None).await;
    // raw() reads to the end: the server closes.
    let r = raw(f.addr, "GET /big.bin HTTP/1.0\r\n\r\n").await;
    assert_eq!((r.status, r.body == big_content()), (200, true));
    assert_eq!(r.header("connection"), Some("close"));
    assert_eq!(r.header("content-length"), Some(BIG.to_string().as_str()));
    let mut s = tokio::net::TcpStream::connect(f.addr).await.unwrap();
    s.write_all(
        b"GET /big.bin HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n\
          GET /pxelinux.cfg/default HTTP/1.0\r\n\r\n",
    )
    .await
    .unwrap();
    let mut pending = Vec::new();
    let work = async {
        let a = read_reply(&mut s, &mut pending).await;
        assert_eq!((a.status, a.body == big_content()), (200, true));
        assert_eq!(a.header("connection"), Some("keep-alive"));
        let b = read_reply(&mut s, &mut pending).await;
        assert_eq!((b.status, b.text().as_str()), (200, "SAY hi\n"));
        assert_eq!(b.header("connection"), Some("close"));
        assert_closed(&mut s, &pending).await;
    };
    tokio::time::timeout(std::time::Duration::from_secs(10), work)
        .await
        .unwrap();
}

#[tokio::test]
async fn request_bodies_are_served_by_hyper() {
    let f = fixture(None).await;
    let r = raw(
        f.addr,
        "GET /big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 3\r\n\r\nabc",
    )
    .await;
    assert_eq!((r.status, r.body.len()), (200, BIG));
    // A head split over several writes is still taken whole.
    let mut s = tokio::net::TcpStream::connect(f.addr).await.unwrap();
    for part in [
        "GET /big",
        ".bin HTTP/1.1\r\nHo",
        "st: x\r\nConnection: close\r\n",
        "\r\n",
    ] {
        s.write_all(part.as_bytes()).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.unwrap();
    assert!(buf.ends_with(&big_content()) && buf.starts_with(b"HTTP/1.1 200 OK\r\n"));
}

/// Sends a GET of `path`, reads the head and `first` body bytes; returns
/// the stream, the body bytes read and the announced length.
async fn start_download(
    addr: SocketAddr,
    path: &str,
    first: usize,
) -> (tokio::net::TcpStream, Vec<u8>, usize) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut buf = Vec::new();
    let split = loop {
        let mut chunk = vec![0u8; 65536];
        let n = s.read(&mut chunk).await.unwrap();
        assert!(n > 0);
        buf.extend_from_slice(&chunk[..n]);
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p;
        }
    };
    let head = String::from_utf8_lossy(&buf[..split]).to_lowercase();
    let len: usize = head
        .split("\r\n")
        .find_map(|l| l.strip_prefix("content-length: "))
        .unwrap()
        .parse()
        .unwrap();
    let mut body = buf[split + 4..].to_vec();
    while body.len() < first {
        let mut chunk = vec![0u8; 65536];
        let n = s.read(&mut chunk).await.unwrap();
        assert!(n > 0);
        body.extend_from_slice(&chunk[..n]);
    }
    (s, body, len)
}

#[tokio::test]
async fn a_file_that_changes_size_mid_transfer() {
    let f = fixture(None).await;
    let root = root_of(&f);
    let large = large_content();
    let work = async {
        // It grows: exactly the announced bytes, the original ones.
        std::fs::write(root.join("grows.bin"), &large).unwrap();
        let (mut s, mut body, len) = start_download(f.addr, "/grows.bin", 1 << 20).await;
        assert_eq!(len, LARGE);
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(root.join("grows.bin"))
            .unwrap();
        std::io::Write::write_all(&mut file, &vec![0xeeu8; 1 << 20]).unwrap();
        s.read_to_end(&mut body).await.unwrap();
        assert!(body == large, "grown file: {} bytes", body.len());

        // It shrinks: the connection ends short of the announced length
        // (never padded or filled with other bytes).
        std::fs::write(root.join("shrinks.bin"), &large).unwrap();
        let (mut s, mut body, len) = start_download(f.addr, "/shrinks.bin", 1 << 20).await;
        assert_eq!(len, LARGE);
        std::fs::OpenOptions::new()
            .write(true)
            .open(root.join("shrinks.bin"))
            .unwrap()
            .set_len(4 << 20)
            .unwrap();
        let _ = s.read_to_end(&mut body).await;
        assert!(body.len() < LARGE, "a shrunk file was sent in full");
        assert!(body[..] == large[..body.len()]);
    };
    tokio::time::timeout(std::time::Duration::from_secs(20), work)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_client_leaving_mid_body_frees_its_connection() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("large.bin"), large_content()).unwrap();
    std::fs::write(dir.path().join("f"), "x").unwrap();
    let config = HttpConfig {
        root: Some(dir.path().to_path_buf()),
        ..HttpConfig::default()
    };
    // One connection at a time: the next client is only served once the
    // abandoned transfer's task has ended.
    let svc = HttpService::new(&config, None)
        .unwrap()
        .with_max_connections(1);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(svc.serve(listener));
    let work = async {
        for _ in 0..3 {
            let (s, body, len) = start_download(addr, "/large.bin", 100_000).await;
            assert_eq!(len, LARGE);
            assert!(body[..] == large_content()[..body.len()]);
            drop(s);
        }
        let r = get(addr, "/f", "").await;
        assert_eq!((r.status, r.text().as_str()), (200, "x"));
    };
    tokio::time::timeout(std::time::Duration::from_secs(20), work)
        .await
        .unwrap();
    task.abort();
}

/// curl as a cache would use the validators: `-R -z` (the copy's time as
/// `If-Modified-Since`) and `--etag-save` / `--etag-compare`.
#[tokio::test]
async fn curl_revalidates_with_dates_and_etags() {
    let f = fixture(None).await;
    let out = tempfile::tempdir().unwrap();
    let o = |name: &str| out.path().join(name).display().to_string();
    let url = format!("http://{}/big.bin", f.addr);
    let fetch = |extra: Vec<String>, to: &str| {
        let mut args = vec![s("-o"), o(to), s("-w"), s("%{http_code}")];
        args.extend(extra);
        args.push(url.clone());
        curl(args)
    };

    // -R keeps the server's Last-Modified as the copy's time.
    assert_eq!(fetch(vec![s("-R")], "copy").await, (0, s("200")));
    assert!(std::fs::read(o("copy")).unwrap() == big_content());
    assert_eq!(
        fetch(vec![s("-z"), o("copy")], "again").await,
        (0, s("304"))
    );
    assert!(!out.path().join("again").exists(), "a 304 writes nothing");

    assert_eq!(
        fetch(vec![s("--etag-save"), o("etag")], "tagged").await,
        (0, s("200"))
    );
    let saved = std::fs::read_to_string(o("etag")).unwrap();
    assert!(saved.trim().starts_with('"'), "{saved:?}");
    assert_eq!(
        fetch(vec![s("--etag-compare"), o("etag")], "again").await,
        (0, s("304"))
    );

    // A new version of the file is fetched again by both.
    let root = root_of(&f);
    std::fs::write(root.join("big.bin"), b"version 2").unwrap();
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(5);
    std::fs::File::options()
        .write(true)
        .open(root.join("big.bin"))
        .unwrap()
        .set_modified(later)
        .unwrap();
    assert_eq!(fetch(vec![s("-z"), o("copy")], "new").await, (0, s("200")));
    assert_eq!(std::fs::read(o("new")).unwrap(), b"version 2");
    assert_eq!(
        fetch(vec![s("--etag-compare"), o("etag")], "new2").await,
        (0, s("200"))
    );
}

#[tokio::test]
async fn a_file_not_in_the_page_cache_is_sent_whole() {
    // Every chunk of it is cold: each is read on the blocking pool before
    // sendfile takes it (page_cache.rs tests that it is seen as cold).
    let f = fixture(None).await;
    let root = root_of(&f);
    let large = large_content();
    let path = root.join("cold.bin");
    std::fs::write(&path, &large).unwrap();
    let file = std::fs::File::open(&path).unwrap();
    file.sync_all().unwrap();
    nix::fcntl::posix_fadvise(
        &file,
        0,
        0,
        nix::fcntl::PosixFadviseAdvice::POSIX_FADV_DONTNEED,
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let dest = out.path().join("cold");
    let (rc, code) = curl(vec![
        s("-o"),
        dest.display().to_string(),
        s("-w"),
        s("%{http_code}"),
        format!("http://{}/cold.bin", f.addr),
    ])
    .await;
    assert_eq!((rc, code.as_str()), (0, "200"));
    assert!(std::fs::read(&dest).unwrap() == large);
}
