//! What a client would get, without the network: `pxe-server explain`
//! runs one synthesized client through the engine (the same code that
//! answers real requests) and prints every reply with the rule trace;
//! `pxe-server check` runs the standard client classes through each step
//! of their chain (firmware, then iPXE) and warns about a chain-load loop
//! or a class with nothing to boot, naming the lines — read off the boot
//! journey of the simulated machine, so the diagnoses are the ones the
//! running server would show.

use std::fmt::Write as _;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::Arc;

use pxe_dhcp::{Builder, MessageType, Packet};
use pxe_engine::dhcp::{Engine, Event, EventSink, Outcome, Output, RxInfo};
use pxe_engine::journey::{DiagnosisKind, JourneyStore};
use pxe_engine::lease::HwAddr;
use pxe_rules::Config;
use pxe_rules::config::RangeMode;

/// The client to simulate (`pxe-server explain` flags).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientSpec {
    /// Hardware address.
    pub mac: [u8; 6],
    /// Architecture (option 93); `None` sends no option 93.
    pub arch: Option<u16>,
    /// The request comes from iPXE (option 175, user class `iPXE`).
    pub ipxe: bool,
    /// Vendor class (option 60); default `PXEClient:Arch:NNNNN:UNDI:002001`
    /// with the arch, or none without an arch.
    pub vendor_class: Option<String>,
    /// User class (option 77), replacing iPXE's.
    pub user_class: Option<String>,
    /// Machine UUID (option 97).
    pub uuid: Option<[u8; 16]>,
    /// The client has its address from another DHCP server: it asks as a
    /// proxyDHCP client (DISCOVER, then the boot server on 4011).
    pub proxy: bool,
}

/// Why a client could not be simulated.
#[derive(Debug, thiserror::Error)]
pub enum ExplainError {
    /// The configuration serves no network (no `dhcp-range`).
    #[error("no dhcp-range: this configuration answers no DHCP client")]
    NoRange,
    /// A request did not fit the packet builder.
    #[error("cannot build the request: {0}")]
    Build(#[from] pxe_dhcp::Error),
}

/// Architecture names `--arch` accepts besides numbers.
pub fn parse_arch(s: &str) -> Option<u16> {
    Some(match s.to_ascii_lowercase().as_str() {
        "bios" | "x86pc" | "x86-bios" => 0,
        "efi-ia32" | "ia32" => 6,
        "efi-x86_64" | "x86-64_efi" | "efi64" | "x64" | "uefi" => 7,
        "efi-bc" | "bc_efi" => 9,
        "efi-arm32" | "arm32" => 10,
        "efi-arm64" | "arm64" | "aarch64" => 11,
        "http-x86_64" | "http" | "httpboot" => 16,
        "http-arm64" => 19,
        n => return n.parse().ok(),
    })
}

/// The trace of one exchange, captured from the engine's events.
#[derive(Default)]
struct Capture {
    lines: Vec<String>,
    trace: Option<String>,
}

impl EventSink for Capture {
    fn event(&mut self, e: &Event<'_>) {
        match e {
            Event::Trace { trace, .. } => {
                self.trace = Some(trace.explanation.display(trace.config).to_string());
            }
            e => self.lines.push(e.to_string()),
        }
    }
    fn wants_trace(&self) -> bool {
        true
    }
}

/// The address the simulated server has: on the first range's network.
fn server_address(config: &Config) -> Option<(Ipv4Addr, Ipv4Addr)> {
    let (_, r) = config.ranges().next()?;
    let mask = r.netmask.unwrap_or(Ipv4Addr::new(255, 255, 255, 0));
    let net = u32::from(r.start) & u32::from(mask);
    Some((Ipv4Addr::from(net | 1), mask))
}

/// One exchange run and its result.
struct Step {
    text: String,
    reply: Option<Vec<u8>>,
}

/// A simulated machine: the engine, its journey, the addresses.
struct Sim {
    config: Arc<Config>,
    engine: Engine,
    journeys: JourneyStore,
    local: Ipv4Addr,
    mask: Ipv4Addr,
    now_ms: u64,
    xid: u32,
}

impl Sim {
    fn new(config: &Config) -> Result<Sim, ExplainError> {
        let (local, mask) = server_address(config).ok_or(ExplainError::NoRange)?;
        let mut config = config.clone();
        // The rule trace is what explain is for.
        config.settings.log_dhcp = true;
        let config = Arc::new(config);
        Ok(Sim {
            engine: Engine::new(config.clone()),
            config,
            journeys: JourneyStore::new(4, 0),
            local,
            mask,
            now_ms: 1_700_000_000_000,
            xid: 0x5100,
        })
    }

    /// The address a proxy client got from the other server.
    fn client_address(&self) -> Ipv4Addr {
        Ipv4Addr::from((u32::from(self.local) & u32::from(self.mask)) | 0xfe)
    }

    fn proxy_mode(&self, spec: &ClientSpec) -> bool {
        spec.proxy
            || !self
                .config
                .ranges()
                .any(|(_, r)| r.mode != RangeMode::Proxy)
    }

    fn request(
        &mut self,
        spec: &ClientSpec,
        mt: MessageType,
        ciaddr: Ipv4Addr,
        extra: &[(u8, &[u8])],
    ) -> Result<Vec<u8>, ExplainError> {
        let mut buf = [0u8; 1024];
        let mut b = Builder::new(&mut buf)?;
        b.xid(self.xid)
            .ciaddr(ciaddr)
            .flags(pxe_dhcp::Flags::BROADCAST);
        b.chaddr(1, &spec.mac)?;
        b.message_type(mt)?;
        let vendor = spec.vendor_class.clone().or_else(|| {
            spec.arch
                .map(|a| format!("PXEClient:Arch:{a:05}:UNDI:002001"))
        });
        if let Some(v) = &vendor {
            b.option(60, v.as_bytes())?;
        }
        if let Some(a) = spec.arch {
            b.option(93, &a.to_be_bytes())?;
        }
        if let Some(u) = spec.uuid {
            let mut v = [0u8; 17];
            v[1..].copy_from_slice(&u);
            b.option(97, &v)?;
        }
        if spec.ipxe {
            b.option(175, &[1, 1, 1])?;
        }
        match (&spec.user_class, spec.ipxe) {
            (Some(u), _) => {
                b.option(77, u.as_bytes())?;
            }
            (None, true) => {
                b.option(77, b"iPXE")?;
            }
            _ => {}
        }
        for (c, v) in extra {
            b.option(*c, v)?;
        }
        let n = b.finish()?;
        Ok(buf[..n].to_vec())
    }

    /// Hands `req` to the engine on `port`; describes what came back.
    fn exchange(&mut self, req: &[u8], port: u16, from: Ipv4Addr) -> Step {
        self.now_ms += 1_000;
        let rx = RxInfo {
            port,
            src: SocketAddrV4::new(from, 68),
            iface: "sim0",
            local: self.local,
            netmask: self.mask,
            mtu: 1500,
            broadcast: port == 67,
        };
        let mut out = [0u8; 1500];
        let mut capture = Capture::default();
        let config = self.config.clone();
        let outcome = {
            let mut sink = self
                .journeys
                .sink(self.now_ms, &config)
                .forward_to(&mut capture);
            match self
                .engine
                .handle(self.now_ms / 1000, &rx, req, &mut out, &mut sink)
            {
                Output::Ready(o) => o,
                Output::Persist(p) => p.persisted(),
            }
        };
        let mut text = String::new();
        let asked = Packet::new_checked(req)
            .ok()
            .and_then(|p| p.message_type().ok().flatten())
            .map_or_else(|| "BOOTP".to_string(), |t| format!("DHCP{t}"));
        let _ = writeln!(text, "{asked} on port {port}:");
        for l in &capture.lines {
            let _ = writeln!(text, "  {l}");
        }
        let reply = match outcome {
            Outcome::Reply(r) => {
                let bytes = out[..r.len].to_vec();
                describe_reply(&mut text, &bytes);
                Some(bytes)
            }
            Outcome::NoReply => {
                let _ = writeln!(text, "  no reply");
                None
            }
            Outcome::Dropped(why) => {
                let _ = writeln!(text, "  no reply: {why}");
                None
            }
        };
        if let Some(t) = capture.trace {
            let _ = writeln!(text, "  rule trace:");
            for l in t.lines() {
                let _ = writeln!(text, "    {l}");
            }
        }
        self.xid += 1;
        Step { text, reply }
    }

    /// One client's DHCP as it would run: DORA in full mode; DISCOVER and
    /// the 4011 boot server (when the offer sends it there) as a proxy
    /// client.
    fn run(&mut self, spec: &ClientSpec, out: &mut String) -> Result<(), ExplainError> {
        let proxy = self.proxy_mode(spec);
        let discover = self.request(spec, MessageType::Discover, Ipv4Addr::UNSPECIFIED, &[])?;
        let first = self.exchange(&discover, 67, Ipv4Addr::UNSPECIFIED);
        out.push_str(&first.text);
        let Some(offer) = first.reply else {
            return Ok(());
        };
        let Ok(p) = Packet::new_checked(&offer[..]) else {
            return Ok(());
        };
        if !p.yiaddr().is_unspecified() && !proxy {
            if p.message_type().ok().flatten() != Some(MessageType::Offer) {
                return Ok(());
            }
            let yi = p.yiaddr().octets();
            let sid = p.server_id().ok().flatten().unwrap_or(self.local).octets();
            let req = self.request(
                spec,
                MessageType::Request,
                Ipv4Addr::UNSPECIFIED,
                &[(50, &yi), (54, &sid)],
            )?;
            let step = self.exchange(&req, 67, Ipv4Addr::UNSPECIFIED);
            out.push_str(&step.text);
            return Ok(());
        }
        // A proxy offer without a file sends the client on to port 4011:
        // with a PXE menu, to the boot server for the menu's first item;
        // UEFI, offered no option 43 at all, asks 4011 without an item
        // (EDK2's ProxyDHCP REQUEST). Anything else has nothing to do.
        if p.file().is_some_and(|f| !f.is_empty()) {
            return Ok(());
        }
        let menu_item = p
            .pxe_options()
            .ok()
            .flatten()
            .and_then(|o| o.boot_menu().ok().flatten())
            .and_then(|m| m.iter().next())
            .map(|i| i.kind);
        let redirect = p.option(43).is_none() && spec.arch.is_some_and(|a| a >= 6);
        let item = match menu_item {
            Some(kind) => {
                let k = kind.to_be_bytes();
                Some([71, 4, k[0], k[1], 0, 0, 255])
            }
            None if redirect => None,
            None => return Ok(()),
        };
        let ciaddr = self.client_address();
        let extra: Vec<(u8, &[u8])> = item.iter().map(|i| (43u8, &i[..])).collect();
        let req = self.request(spec, MessageType::Request, ciaddr, &extra)?;
        let step = self.exchange(&req, 4011, ciaddr);
        out.push_str(&step.text);
        Ok(())
    }

    /// The journey's diagnoses, one line each with the line concerned.
    fn diagnoses(&self, mac: [u8; 6], indent: &str, out: &mut String) -> Vec<DiagnosisKind> {
        let mut kinds = Vec::new();
        let Some(j) = self.journeys.get(&HwAddr::ethernet(mac)) else {
            return kinds;
        };
        for d in j.diagnoses(self.now_ms) {
            if d.kind == DiagnosisKind::OfferNotTaken {
                continue;
            }
            kinds.push(d.kind);
            let _ = write!(
                out,
                "{indent}{}: {}: {}",
                d.severity().name(),
                d.kind,
                d.explanation()
            );
            if let Some(line) = d.rule.and_then(|r| r.describe(&self.config)) {
                let _ = write!(out, "\n{indent}  at {line}");
            }
            out.push('\n');
        }
        kinds
    }
}

/// A reply's fields and options, one per line.
fn describe_reply(out: &mut String, bytes: &[u8]) {
    let Ok(p) = Packet::new_checked(bytes) else {
        let _ = writeln!(out, "  (reply does not parse)");
        return;
    };
    let kind = p
        .message_type()
        .ok()
        .flatten()
        .map_or_else(|| "BOOTP".to_string(), |t| format!("DHCP{t}"));
    let _ = writeln!(
        out,
        "  reply: {kind}, yiaddr {}, next server {}, file {}",
        p.yiaddr(),
        p.siaddr(),
        p.file().filter(|f| !f.is_empty()).map_or_else(
            || "(none)".to_string(),
            |f| String::from_utf8_lossy(f).into_owned()
        )
    );
    for o in p.options().flatten() {
        let text = o.data.iter().all(|b| b.is_ascii_graphic() || *b == b' ') && !o.data.is_empty();
        let value = if text {
            format!("\"{}\"", String::from_utf8_lossy(o.data))
        } else {
            o.data
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let _ = writeln!(out, "    option {}: {value}", o.code);
        if o.code == 43
            && let Ok(Some(pxe)) = p.pxe_options()
            && let Ok(Some(menu)) = pxe.boot_menu()
        {
            for item in menu.iter() {
                let _ = writeln!(
                    out,
                    "      menu item {:#06x}: {}",
                    item.kind,
                    String::from_utf8_lossy(item.description)
                );
            }
        }
    }
}

/// `pxe-server explain`: every exchange of `spec` against `config`, with
/// the replies, rule traces and diagnoses.
pub fn explain(config: &Config, spec: &ClientSpec) -> Result<String, ExplainError> {
    let mut sim = Sim::new(config)?;
    let mut out = String::new();
    sim.run(spec, &mut out)?;
    let mut diag = String::new();
    sim.diagnoses(spec.mac, "  ", &mut diag);
    if diag.is_empty() {
        out.push_str("Diagnosis: none.\n");
    } else {
        out.push_str("Diagnosis:\n");
        out.push_str(&diag);
    }
    Ok(out)
}

/// A standard client class `check` runs.
struct Class {
    name: &'static str,
    arch: u16,
    vendor: &'static str,
    /// The iPXE class that runs after this one's boot file (same machine).
    then_ipxe: bool,
}

const CLASSES: [Class; 4] = [
    Class {
        name: "BIOS PXE ROM, then iPXE (BIOS)",
        arch: 0,
        vendor: "PXEClient:Arch:00000:UNDI:002001",
        then_ipxe: true,
    },
    Class {
        name: "UEFI x64 PXE, then iPXE (EFI)",
        arch: 7,
        vendor: "PXEClient:Arch:00007:UNDI:003016",
        then_ipxe: true,
    },
    Class {
        name: "UEFI ARM64 PXE",
        arch: 11,
        vendor: "PXEClient:Arch:00011:UNDI:003016",
        then_ipxe: false,
    },
    Class {
        name: "UEFI HTTP Boot (x64), then iPXE (EFI)",
        arch: 16,
        vendor: "HTTPClient:Arch:00016:UNDI:003016",
        then_ipxe: true,
    },
];

/// What `check` found over the standard client classes.
#[derive(Debug, Default)]
pub struct ClassReport {
    /// The text to print.
    pub text: String,
    /// Some class's chain loads itself again (an error).
    pub loops: bool,
    /// Warnings (classes with nothing to boot, loops).
    pub warnings: usize,
}

/// Whether a first-stage boot file is an iPXE build, whose own DHCP is the
/// next step of the chain: by the names iPXE's images have (`undionly.kpxe`,
/// `undionly.kkpxe`, `ipxe.efi`, `snponly.efi`, `ipxe.pxe`, …). Any other
/// file (PXELINUX, shim, GRUB, an installer) ends the DHCP chain, so it
/// cannot loop through it.
fn is_ipxe_binary(file: &str) -> bool {
    let base = file.rsplit('/').next().unwrap_or(file).to_ascii_lowercase();
    base.contains("ipxe")
        || base.starts_with("undionly")
        || base.starts_with("snponly")
        || base.contains(".kpxe")
        || base.contains(".kkpxe")
}

/// `pxe-server check`: the standard client classes through their chains.
pub fn check_classes(config: &Config) -> ClassReport {
    let mut r = ClassReport::default();
    if config.ranges().next().is_none() {
        return r;
    }
    r.text
        .push_str("Client classes (simulated through the engine):\n");
    for (i, c) in CLASSES.iter().enumerate() {
        let Ok(mut sim) = Sim::new(config) else {
            return r;
        };
        let mac = [0x02, 0, 0, 0, 0xc0, i as u8];
        let firmware = ClientSpec {
            mac,
            arch: Some(c.arch),
            vendor_class: Some(c.vendor.to_string()),
            ..ClientSpec::default()
        };
        let mut log = String::new();
        // The boot file of the steps after the first `skip`.
        let got = |sim: &Sim, skip: usize| {
            sim.journeys.get(&HwAddr::ethernet(mac)).and_then(|j| {
                j.steps()
                    .skip(skip)
                    .filter(|s| matches!(s.what, pxe_engine::journey::StepKind::Dhcp(_)))
                    .filter(|s| !s.name.is_empty())
                    .map(|s| s.name.to_string())
                    .last()
            })
        };
        let steps = |sim: &Sim| {
            sim.journeys
                .get(&HwAddr::ethernet(mac))
                .map_or(0, |j| j.steps().count())
        };
        if sim.run(&firmware, &mut log).is_err() {
            continue;
        }
        let first = got(&sim, 0);
        let mut second = None;
        let chains = c.then_ipxe && first.as_deref().is_some_and(is_ipxe_binary);
        if chains {
            let ipxe_arch = if c.arch == 0 { 0 } else { 7 };
            let ipxe = ClientSpec {
                mac,
                arch: Some(ipxe_arch),
                ipxe: true,
                vendor_class: Some(format!("PXEClient:Arch:{ipxe_arch:05}:UNDI:003010")),
                ..ClientSpec::default()
            };
            let before = steps(&sim);
            if sim.run(&ipxe, &mut log).is_err() {
                continue;
            }
            second = got(&sim, before);
        }
        let _ = write!(r.text, "  {}: ", c.name);
        match (&first, chains, &second) {
            (None, _, _) => r.text.push_str("no boot file\n"),
            (Some(f), false, _) => {
                let _ = writeln!(r.text, "{f}");
            }
            (Some(f), true, Some(s)) => {
                let _ = writeln!(r.text, "{f}, then iPXE gets {s}");
            }
            (Some(f), true, None) => {
                let _ = writeln!(
                    r.text,
                    "{f}, then iPXE gets no boot file (fine if the iPXE binary has an embedded script)"
                );
            }
        }
        let mut diag = String::new();
        let kinds = sim.diagnoses(mac, "    ", &mut diag);
        if first.is_none() && kinds.is_empty() {
            // Not even a reply to diagnose: the rules ignore this class.
            diag.push_str("    warning: nothing_to_boot: no reply gives this class a boot file\n");
            r.warnings += 1;
        }
        for k in &kinds {
            if *k == DiagnosisKind::ChainloadLoop {
                r.loops = true;
            }
        }
        let worth = kinds.iter().any(|k| {
            matches!(
                k,
                DiagnosisKind::ChainloadLoop
                    | DiagnosisKind::NothingToBoot
                    | DiagnosisKind::NoBootFileForArch
            )
        });
        if worth {
            r.warnings += 1;
        }
        r.text.push_str(&diag);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conf(text: &str) -> Config {
        Config::parse_str(text, "t.conf").unwrap()
    }

    #[test]
    fn check_sees_no_loop_in_a_first_stage_that_is_not_ipxe() {
        // PXELINUX and shim end the DHCP chain: nothing chain-loads iPXE,
        // so nothing can loop (this was reported as chainload_loop).
        for file in ["pxelinux.0", "bootnetx64.efi"] {
            let r = check_classes(&conf(&format!(
                "dhcp-range=192.168.2.100,192.168.2.200\ndhcp-boot={file}\n"
            )));
            assert!(!r.loops, "{file}: {}", r.text);
            assert!(!r.text.contains("chainload_loop"), "{file}: {}", r.text);
            assert!(r.text.contains(file), "{}", r.text);
        }
        assert!(is_ipxe_binary("undionly.kkpxe.0"));
        assert!(is_ipxe_binary("efi/ipxe.efi"));
        assert!(!is_ipxe_binary("pxelinux.0"));
    }

    #[test]
    fn check_finds_the_seeds_loop_and_names_its_line() {
        let r = check_classes(&conf(
            "dhcp-match=ipxe,175\ndhcp-range=192.168.2.0,proxy\n\
             pxe-service=x86PC, \"splashtop by richud.com\", undionly.kkpxe\n",
        ));
        assert!(r.loops, "{}", r.text);
        assert!(
            r.text.contains(
                "BIOS PXE ROM, then iPXE (BIOS): undionly.kkpxe, then iPXE gets undionly.kkpxe"
            ),
            "{}",
            r.text
        );
        assert!(r.text.contains("error: chainload_loop"), "{}", r.text);
        assert!(
            r.text.contains(
                "at t.conf:3: pxe-service=x86PC,\"splashtop by richud.com\",undionly.kkpxe"
            ),
            "{}",
            r.text
        );
    }

    #[test]
    fn check_passes_the_seeds_proxy_lines_and_names_classes_without_a_file() {
        let r = check_classes(&conf(
            "dhcp-match=ipxe,175\ndhcp-range=192.168.2.0,proxy\n\
             pxe-service=net:#ipxe,x86PC, \"splashtop by richud.com\", undionly.kkpxe\n",
        ));
        assert!(!r.loops, "{}", r.text);
        assert!(
            r.text
                .contains("undionly.kkpxe, then iPXE gets no boot file (fine if"),
            "{}",
            r.text
        );
        // UEFI gets nothing from an x86PC-only proxy, and check says so.
        assert!(
            r.text
                .contains("UEFI x64 PXE, then iPXE (EFI): no boot file"),
            "{}",
            r.text
        );
        assert!(
            r.text.contains("no_boot_file_for_arch: no pxe-service or dhcp-boot line gives a boot file to architecture x64 UEFI (7)"),
            "{}",
            r.text
        );
        assert!(r.warnings >= 1);
    }

    #[test]
    fn check_follows_the_seeds_real_chain() {
        let r = check_classes(&conf(
            "dhcp-match=ipxe,175\ndhcp-range=192.168.2.100,192.168.2.200\n\
             dhcp-boot=net:#ipxe,undionly.kkpxe.0\ndhcp-boot=pxelinux.0\n",
        ));
        assert!(!r.loops, "{}", r.text);
        assert!(
            r.text.contains(
                "BIOS PXE ROM, then iPXE (BIOS): undionly.kkpxe.0, then iPXE gets pxelinux.0"
            ),
            "{}",
            r.text
        );
        let looping = check_classes(&conf(
            "dhcp-match=ipxe,175\ndhcp-range=192.168.2.100,192.168.2.200\ndhcp-boot=undionly.kkpxe.0\n",
        ));
        assert!(looping.loops, "{}", looping.text);
        assert!(
            looping
                .text
                .contains("at t.conf:3: dhcp-boot=undionly.kkpxe.0"),
            "{}",
            looping.text
        );
    }

    #[test]
    fn explain_shows_the_replies_the_menu_and_the_trace() {
        let c = conf(
            "dhcp-match=ipxe,175\ndhcp-range=192.168.2.0,proxy\n\
             pxe-service=net:#ipxe,x86PC, \"splashtop by richud.com\", undionly.kkpxe\n",
        );
        let spec = ClientSpec {
            mac: [0x52, 0x54, 0, 0x12, 0x34, 0x56],
            arch: Some(0),
            ..ClientSpec::default()
        };
        let text = explain(&c, &spec).unwrap();
        assert!(text.contains("DHCPDISCOVER on port 67:"), "{text}");
        assert!(text.contains("proxy OFFER"), "{text}");
        assert!(
            text.contains("menu item 0x8000: splashtop by richud.com"),
            "{text}"
        );
        assert!(text.contains("DHCPREQUEST on port 4011:"), "{text}");
        assert!(text.contains("file undionly.kkpxe"), "{text}");
        assert!(text.contains("rule trace:"), "{text}");
        assert!(text.contains("Diagnosis: none."), "{text}");
        // iPXE gets nothing here, and explain says why.
        let ipxe = ClientSpec { ipxe: true, ..spec };
        let text = explain(&c, &ipxe).unwrap();
        assert!(
            text.contains("skipped: tag ipxe is set (negated)"),
            "{text}"
        );
        assert!(
            text.contains("warning: nothing_to_boot: iPXE got a reply without a boot file"),
            "{text}"
        );
        assert!(parse_arch("efi-x86_64") == Some(7) && parse_arch("11") == Some(11));
    }
}
