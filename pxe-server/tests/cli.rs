//! The command line: `check`, errors at file:line:column, overrides, help.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::process::Command;

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_pxe-server"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const CONF: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../conf/");

#[test]
fn check_explains_every_seed_configuration() {
    for (f, want) in [
        (
            "seed-real.conf",
            "DHCP (full): addresses 192.168.2.100 - 192.168.2.200",
        ),
        ("seed-proxy.conf", "proxyDHCP on the network of 192.168.2.0"),
        (
            "seed-proxy-php.conf",
            "dhcp-boot=tag:ipxe,\"http://192.168.2.1/ipxe.php?mac=${mac}&uuid=${uuid}\"",
        ),
    ] {
        let path = format!("{CONF}{f}");
        let (code, out, err) = run(&["check", "--conf", &path]);
        assert_eq!(code, 0, "{f}: {err}");
        assert!(out.contains(want), "{f}:\n{out}");
        assert!(
            out.contains(&format!("{f}:")),
            "rules carry file:line\n{out}"
        );
    }
    let (_, out, _) = run(&["check", "-C", &format!("{CONF}seed-proxy.conf")]);
    assert!(out.contains("PXE boot server: UDP 4011"), "{out}");
    assert!(out.contains("pxe-service=tag:!ipxe,x86PC"), "{out}");
}

#[test]
fn errors_name_file_line_column() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.conf");
    std::fs::write(
        &p,
        "dhcp-range=10.0.0.1,10.0.0.9\n\ndhcp-bootx=pxelinux.0\n",
    )
    .unwrap();
    let (code, _, err) = run(&["check", "--conf", p.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains(&format!("{}:3:1:", p.display())), "{err}");
    assert!(err.contains("dhcp-bootx"), "{err}");
    let (code, _, err) = run(&["--conf", "/nonexistent/pxe.conf"]);
    assert_eq!(code, 1);
    assert!(err.contains("/nonexistent/pxe.conf"), "{err}");
}

#[test]
fn overrides_replace_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let (code, out, err) = run(&[
        "check",
        "--conf",
        &format!("{CONF}seed-real.conf"),
        "--interface",
        "eth7",
        "--tftp-root",
        d,
        "--dhcp-leasefile",
        "/tmp/x.leases",
        "--log-dhcp",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("interfaces: eth7"), "{out}");
    assert!(out.contains(&format!("TFTP: root {d}")), "{out}");
    assert!(!out.contains("warning: tftp-root"), "{out}");
    assert!(out.contains("lease file: /tmp/x.leases"), "{out}");
    assert!(out.contains("log-dhcp"), "{out}");
    // Without the override a missing root is reported. (Not the seed's own
    // /tmp/memstick path: whether that exists depends on the machine.)
    let missing = dir.path().join("missing");
    let conf = dir.path().join("missing-root.conf");
    std::fs::write(
        &conf,
        format!("enable-tftp\ntftp-root={}\n", missing.display()),
    )
    .unwrap();
    let (_, out, _) = run(&["check", "--conf", conf.to_str().unwrap()]);
    assert!(
        out.contains(&format!("warning: tftp-root {}", missing.display())),
        "{out}"
    );
}

#[test]
fn no_configuration_explains_what_to_do() {
    let (code, _, err) = run(&[]);
    assert_eq!(code, 2);
    assert!(err.contains("pxe-server --conf FILE"), "{err}");
    let (code, out, _) = run(&["--help"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("--dhcp-leasefile") && out.contains("check"),
        "{out}"
    );
}

#[test]
fn the_manual_page_renders_every_option_and_the_service_sections() {
    let (code, out, err) = run(&["man"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(".TH pxe-server 8"), "{out}");
    for want in [
        "\\-\\-conf",
        "\\-\\-log\\-format",
        "\\-\\-dhcp\\-leasefile",
        ".SH SIGNALS",
        ".SH FILES",
        ".SH LOGGING",
        ".SH EXAMPLES",
        "SIGHUP",
    ] {
        assert!(out.contains(want), "no {want:?} in the man page:\n{out}");
    }
    // Every roff line that starts with a dot is a request clap or we meant.
    for line in out.lines().filter(|l| l.starts_with('.')) {
        let req: String = line
            .chars()
            .skip(1)
            .take_while(|c| c.is_ascii_alphabetic())
            .collect();
        assert!(
            [
                "ie", "el", "TH", "SH", "TP", "PP", "B", "IP", "RS", "RE", "br", "nh", "ad", "ds",
                "sp", "EX", "EE", "nf", "fi"
            ]
            .contains(&req.as_str()),
            "unexpected roff request: {line}"
        );
    }
}

#[test]
fn completions_name_the_subcommands_and_options() {
    for shell in ["bash", "zsh", "fish"] {
        let (code, out, err) = run(&["completions", shell]);
        assert_eq!(code, 0, "{shell}: {err}");
        assert!(
            out.contains("pxe-server") && out.contains("log-format") && out.contains("check"),
            "{shell}:\n{out}"
        );
    }
    let (code, _, err) = run(&["completions", "tcsh"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn json_log_lines_are_objects_with_level_and_message() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("none.conf");
    let log = dir.path().join("pxe.log");
    std::fs::write(
        &conf,
        format!(
            "dhcp-leasefile={}\nuser=no-such-pxe-user-x\nlog-facility={}\n",
            dir.path().join("l").display(),
            log.display()
        ),
    )
    .unwrap();
    // The unknown user stops it right after the log is set up, so the
    // file holds that error as a JSON line.
    let (code, _, err) = run(&["--conf", conf.to_str().unwrap(), "--log-format", "json"]);
    assert_eq!(code, 1, "{err}");
    let text = std::fs::read_to_string(&log).unwrap();
    let line = text
        .lines()
        .last()
        .unwrap_or_else(|| panic!("empty log; stderr: {err}"));
    assert!(
        line.starts_with('{')
            && line.ends_with('}')
            && line.contains("\"level\":\"ERROR\"")
            && line.contains("\"message\":\"user=no-such-pxe-user-x: no such user\""),
        "{line}"
    );
    let (code, _, err) = run(&["--conf", conf.to_str().unwrap(), "--log-format", "xml"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn check_reports_an_unknown_user_and_an_unreachable_log() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("bad.conf");
    std::fs::write(
        &conf,
        "user=no-such-pxe-user-y\nlog-facility=/nonexistent-pxe-dir/x.log\n",
    )
    .unwrap();
    let (code, _, err) = run(&["check", "--conf", conf.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(
        err.contains("user=no-such-pxe-user-y: no such user"),
        "{err}"
    );
    assert!(
        err.contains("log-facility=/nonexistent-pxe-dir/x.log: "),
        "{err}"
    );
}

/// `check` runs the client classes through the chain: the seed's proxy
/// line without `net:#ipxe` is a loop, named at its line, and exits 1;
/// with `net:#ipxe` (the seed as written) it passes.
#[test]
fn check_diagnoses_the_seeds_loop_and_passes_the_seed() {
    let dir = tempfile::tempdir().unwrap();
    let seed = std::fs::read_to_string(format!("{CONF}seed-proxy.conf")).unwrap();
    let looping = seed.replace("pxe-service=net:#ipxe,", "pxe-service=");
    assert_ne!(seed, looping, "the seed has the net:#ipxe line");
    let path = dir.path().join("loop.conf");
    std::fs::write(&path, &looping).unwrap();
    let (code, out, err) = run(&["check", "--conf", path.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("error: chainload_loop: iPXE was handed undionly.kkpxe"),
        "{out}"
    );
    let line = looping
        .lines()
        .position(|l| l.starts_with("pxe-service="))
        .unwrap()
        + 1;
    assert!(
        out.contains(&format!("at {}:{line}: pxe-service=x86PC,", path.display())),
        "{out}"
    );
    assert!(err.contains("loads its own boot file again"), "{err}");
    let (code, out, err) = run(&["check", "--conf", &format!("{CONF}seed-proxy.conf")]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(!out.contains("chainload_loop"), "{out}");
    assert!(
        out.contains("BIOS PXE ROM, then iPXE (BIOS): undionly.kkpxe, then iPXE gets no boot file"),
        "{out}"
    );
}

/// `explain` prints the replies, the PXE menu and the rule trace of one
/// client, and refuses bad flags.
#[test]
fn explain_prints_what_a_client_would_get() {
    let path = format!("{CONF}seed-proxy.conf");
    let (code, out, err) = run(&[
        "explain",
        "--conf",
        &path,
        "--mac",
        "52:54:00:12:34:56",
        "--arch",
        "bios",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("proxy OFFER"), "{out}");
    assert!(
        out.contains("menu item 0x8000: splashtop by richud.com"),
        "{out}"
    );
    assert!(out.contains("PXE boot-server ACK"), "{out}");
    assert!(out.contains("file undionly.kkpxe"), "{out}");
    assert!(out.contains("rule trace:"), "{out}");
    let (code, out, _) = run(&[
        "explain",
        "--conf",
        &path,
        "--mac",
        "52:54:00:12:34:56",
        "--arch",
        "0",
        "--ipxe",
    ]);
    assert_eq!(code, 0);
    assert!(out.contains("skipped: tag ipxe is set (negated)"), "{out}");
    let (code, _, err) = run(&["explain", "--conf", &path, "--mac", "nope"]);
    assert_eq!(code, 2);
    assert!(err.contains("--mac nope: not a MAC address"), "{err}");
    let (code, _, err) = run(&[
        "explain",
        "--conf",
        &path,
        "--mac",
        "52:54:00:12:34:56",
        "--arch",
        "z80",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("--arch z80"), "{err}");
}
