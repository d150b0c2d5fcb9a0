//! Journeys fed by the real engine: each scenario runs synthesized client
//! requests through `Engine::handle` with the store's sink.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::net::{Ipv4Addr, SocketAddrV4};

use pxe_dhcp::{Builder, MessageType};
use pxe_rules::Config;

use super::*;
use crate::dhcp::{Engine, RxInfo};

const SERVER: Ipv4Addr = Ipv4Addr::new(192, 168, 2, 1);
const CLIENT_IP: Ipv4Addr = Ipv4Addr::new(192, 168, 2, 50);

/// Who is asking.
#[derive(Clone, Copy)]
enum Who {
    /// A BIOS PXE ROM.
    Rom,
    /// iPXE on BIOS.
    Ipxe,
    /// EDK2's PXE client with this architecture.
    Efi(u16),
    /// An installed OS.
    Os,
}

struct Lab {
    config: Arc<Config>,
    engine: Engine,
    store: JourneyStore,
}

impl Lab {
    fn new(text: &str) -> Lab {
        let config = Arc::new(Config::parse_str(text, "t.conf").unwrap());
        Lab {
            engine: Engine::new(config.clone()),
            config,
            store: JourneyStore::new(16, 1),
        }
    }

    /// One request at `t` ms; returns the reply's message type, if any.
    fn ask(
        &mut self,
        t: u64,
        mac: [u8; 6],
        who: Who,
        mt: MessageType,
        port: u16,
        extra: &[(u8, &[u8])],
    ) -> Option<Vec<u8>> {
        let mut req = [0u8; 800];
        let mut b = Builder::new(&mut req).unwrap();
        b.xid(9).chaddr(1, &mac).unwrap();
        if port == 4011 || mt == MessageType::Release {
            b.ciaddr(CLIENT_IP);
        }
        b.message_type(mt).unwrap();
        match who {
            Who::Rom | Who::Ipxe => {
                b.option(60, b"PXEClient:Arch:00000:UNDI:002001").unwrap();
                b.option(93, &[0, 0]).unwrap();
            }
            Who::Efi(a) => {
                b.option(60, b"PXEClient:Arch:00007:UNDI:003016").unwrap();
                b.option(93, &a.to_be_bytes()).unwrap();
            }
            Who::Os => {}
        }
        if matches!(who, Who::Ipxe) {
            b.option(175, &[1, 1, 1]).unwrap();
            b.option(77, b"iPXE").unwrap();
        }
        for (c, v) in extra {
            b.option(*c, v).unwrap();
        }
        let n = b.finish().unwrap();
        let rx = RxInfo {
            port,
            src: SocketAddrV4::new(
                if port == 4011 {
                    CLIENT_IP
                } else {
                    Ipv4Addr::UNSPECIFIED
                },
                68,
            ),
            iface: "eth0",
            local: SERVER,
            netmask: Ipv4Addr::new(255, 255, 255, 0),
            mtu: 1500,
            broadcast: port == 67,
        };
        let mut out = [0u8; 1500];
        let config = self.config.clone();
        let mut sink = self.store.sink(t, &config);
        let outcome = match self
            .engine
            .handle(t / 1000, &rx, &req[..n], &mut out, &mut sink)
        {
            crate::dhcp::Output::Ready(o) => o,
            crate::dhcp::Output::Persist(p) => p.persisted(),
        };
        outcome.reply().map(|r| out[..r.len].to_vec())
    }

    /// DISCOVER, then REQUEST of the offered address (full DHCP).
    fn dora(&mut self, t: u64, mac: [u8; 6], who: Who) {
        let offer = self
            .ask(t, mac, who, MessageType::Discover, 67, &[])
            .expect("offer");
        let yi = pxe_dhcp::Packet::new_checked(&offer[..]).unwrap().yiaddr();
        self.ask(
            t + 10,
            mac,
            who,
            MessageType::Request,
            67,
            &[(50, &yi.octets()), (54, &SERVER.octets())],
        )
        .expect("ack");
    }

    /// The proxy's DISCOVER on 67, then the boot-server REQUEST on 4011.
    fn proxy_boot(&mut self, t: u64, mac: [u8; 6], who: Who) {
        self.ask(t, mac, who, MessageType::Discover, 67, &[]);
        self.ask(
            t + 10,
            mac,
            who,
            MessageType::Request,
            4011,
            &[(43, &[71, 4, 0x80, 0x00, 0, 0, 255])],
        );
    }

    /// A TFTP event of `MAC`'s machine, by its address.
    fn tftp(&mut self, t: u64, o: TftpObservation<'_>) {
        let ip = self
            .journey(MAC)
            .ip()
            .expect("the journey knows the address");
        assert!(self.store.record_tftp(t, ip, &o), "no journey for {ip}");
    }

    fn journey(&self, mac: [u8; 6]) -> &Journey {
        self.store.get(&HwAddr::ethernet(mac)).expect("journey")
    }

    fn kinds(&self, mac: [u8; 6], now: u64) -> Vec<DiagnosisKind> {
        let mut k: Vec<_> = self.journey(mac).diagnoses(now).map(|d| d.kind).collect();
        k.sort();
        k
    }

    fn line(&self, d: &Diagnosis) -> alloc::string::String {
        use alloc::string::ToString;
        d.rule
            .and_then(|r| r.describe(&self.config))
            .map(|l| l.to_string())
            .unwrap_or_default()
    }
}

const MAC: [u8; 6] = [0x52, 0x54, 0, 0, 0, 1];

fn started(file: &[u8]) -> TftpObservation<'_> {
    TftpObservation::Started {
        file,
        blksize: 1468,
        windowsize: 1,
        tsize: true,
    }
}

fn finished(file: &[u8], bytes: u64) -> TftpObservation<'_> {
    TftpObservation::Finished {
        file,
        totals: TftpTotals {
            bytes,
            micros: 250_000,
            blksize: 1468,
            windowsize: 1,
            retransmits: 0,
        },
    }
}

const SEED_REAL: &str = "enable-tftp\ndhcp-match=ipxe,175\ndhcp-range=192.168.2.100,192.168.2.200\n\
    tftp-root=/srv\ndhcp-boot=net:#ipxe,undionly.kkpxe.0\ndhcp-boot=pxelinux.0\n";

#[test]
fn the_seeds_real_chain_goes_from_discover_to_loading_without_a_diagnosis() {
    let mut lab = Lab::new(SEED_REAL);
    lab.dora(1_000, MAC, Who::Rom);
    assert_eq!(lab.journey(MAC).stage(), Stage::Ack);
    lab.tftp(2_000, started(b"undionly.kkpxe.0"));
    lab.tftp(2_400, finished(b"undionly.kkpxe.0", 70_000));
    assert_eq!(lab.journey(MAC).stage(), Stage::BootFile);
    lab.dora(4_000, MAC, Who::Ipxe);
    assert_eq!(lab.journey(MAC).stage(), Stage::Ipxe);
    lab.tftp(5_000, started(b"pxelinux.0"));
    let j = lab.journey(MAC);
    assert_eq!(j.stage(), Stage::Loading);
    assert_eq!(lab.kinds(MAC, 6_000), []);
    assert_eq!(j.state(6_000), State::Active);
    assert_eq!(j.state(5_000 + IDLE_MS), State::Idle);
    assert_eq!(j.reached(Stage::Discover), Some(1_000));
    assert_eq!(j.reached(Stage::Offer), Some(1_000));
    assert_eq!(j.reached(Stage::Ack), Some(1_010));
    assert_eq!(j.reached(Stage::BootFile), Some(2_000));
    assert_eq!(j.reached(Stage::Ipxe), Some(4_000));
    assert_eq!(j.reached(Stage::Script), None);
    assert_eq!(
        j.ip().map(|a| a.octets()[..3].to_vec()),
        Some(alloc::vec![192, 168, 2])
    );
    assert_eq!(j.counts().dhcp, 4);
    assert_eq!(j.counts().bytes, 70_000);
    // DHCP steps name the file and the line that gave it.
    let first = j.steps().next().unwrap();
    assert_eq!(first.name.as_bytes(), b"undionly.kkpxe.0");
    let StepKind::Dhcp(d) = first.what else {
        panic!("{first:?}")
    };
    assert_eq!(
        d.rule.and_then(|r| r.loc(&lab.config)).map(|l| l.line),
        Some(5)
    );
    assert_eq!(
        d.range.and_then(|r| r.loc(&lab.config)).map(|l| l.line),
        Some(3)
    );
}

#[test]
fn the_seeds_real_lines_without_net_ipxe_are_a_loop_named_at_its_line() {
    let mut lab = Lab::new(
        "dhcp-match=ipxe,175\ndhcp-range=192.168.2.100,192.168.2.200\ndhcp-boot=undionly.kkpxe.0\n",
    );
    lab.dora(1_000, MAC, Who::Rom);
    lab.tftp(2_000, started(b"undionly.kkpxe.0"));
    assert_eq!(lab.kinds(MAC, 2_000), []);
    lab.dora(4_000, MAC, Who::Ipxe);
    let j = lab.journey(MAC);
    let d = j
        .finding(DiagnosisKind::ChainloadLoop)
        .copied()
        .expect("loop");
    assert_eq!(d.file.as_bytes(), b"undionly.kkpxe.0");
    assert_eq!(d.severity(), Severity::Error);
    assert_eq!(lab.line(&d), "t.conf:3: dhcp-boot=undionly.kkpxe.0");
    assert!(
        alloc::format!("{}", d.explanation()).contains("tag:!ipxe"),
        "{}",
        d.explanation()
    );
    assert_eq!(j.state(4_100), State::Failed);
    // Fetching it again confirms it (and counts it).
    lab.tftp(5_000, started(b"undionly.kkpxe.0"));
    let d = *lab
        .journey(MAC)
        .finding(DiagnosisKind::ChainloadLoop)
        .unwrap();
    assert!(d.count >= 2, "{d:?}");
}

#[test]
fn forgetting_rules_after_a_reload_keeps_the_diagnosis_without_a_line() {
    let mut lab = Lab::new(
        "dhcp-match=ipxe,175\ndhcp-range=192.168.2.100,192.168.2.200\ndhcp-boot=undionly.kkpxe.0\n",
    );
    lab.dora(1_000, MAC, Who::Rom);
    lab.tftp(2_000, started(b"undionly.kkpxe.0"));
    lab.dora(4_000, MAC, Who::Ipxe);
    let before = *lab
        .journey(MAC)
        .finding(DiagnosisKind::ChainloadLoop)
        .unwrap();
    assert!(before.rule.is_some());
    lab.store.forget_rules();
    let j = lab.journey(MAC);
    let after = j
        .finding(DiagnosisKind::ChainloadLoop)
        .copied()
        .expect("kept");
    assert_eq!(after.rule, None);
    assert_eq!(after.file.as_bytes(), before.file.as_bytes());
    for step in j.steps() {
        if let crate::journey::StepKind::Dhcp(d) = &step.what {
            assert_eq!((d.rule, d.range), (None, None), "{step:?}");
        }
    }
}

#[test]
fn an_ipxe_rom_fetching_itself_after_each_dhcp_is_a_loop() {
    // qemu's NIC ROM is iPXE already: the loop shows as the same file
    // downloaded again after iPXE asked DHCP again.
    let mut lab =
        Lab::new("dhcp-range=192.168.2.0,proxy\npxe-service=x86PC,\"boot\",undionly.kkpxe\n");
    lab.proxy_boot(1_000, MAC, Who::Ipxe);
    lab.tftp(1_500, started(b"undionly.kkpxe"));
    lab.tftp(1_900, finished(b"undionly.kkpxe", 70_000));
    assert_eq!(lab.kinds(MAC, 2_000), []);
    lab.proxy_boot(3_000, MAC, Who::Ipxe);
    assert_eq!(lab.kinds(MAC, 3_100), []);
    lab.tftp(3_500, started(b"/undionly.kkpxe"));
    assert_eq!(lab.kinds(MAC, 3_600), [DiagnosisKind::ChainloadLoop]);
    let d = *lab
        .journey(MAC)
        .finding(DiagnosisKind::ChainloadLoop)
        .unwrap();
    assert_eq!(
        lab.line(&d),
        "t.conf:2: pxe-service=x86PC,boot,undionly.kkpxe",
        "{d:?}"
    );
}

#[test]
fn the_seeds_proxy_lines_with_net_ipxe_do_not_loop() {
    let mut lab = Lab::new(
        "dhcp-match=ipxe,175\ndhcp-range=192.168.2.0,proxy\n\
         pxe-service=net:#ipxe,x86PC,\"splashtop\",undionly.kkpxe\n",
    );
    lab.proxy_boot(1_000, MAC, Who::Rom);
    lab.tftp(1_500, started(b"undionly.kkpxe"));
    // The embedded script's `dhcp`: the proxy offer has neither file nor
    // menu for iPXE — a warning (the script does not need one), no loop.
    lab.ask(3_000, MAC, Who::Ipxe, MessageType::Discover, 67, &[]);
    assert_eq!(lab.journey(MAC).state(3_100), State::Active);
    lab.tftp(3_500, started(b"pxelinux.0"));
    let j = lab.journey(MAC);
    assert_eq!(lab.kinds(MAC, 4_000), [DiagnosisKind::NothingToBoot]);
    assert_eq!(
        j.worst(4_000).map(|d| d.severity()),
        Some(Severity::Warning)
    );
    assert_eq!(j.stage(), Stage::Loading);
}

#[test]
fn a_tftp_file_without_a_next_server_is_nothing_to_boot() {
    // The next server is a name the (empty) hosts file does not know.
    let mut lab =
        Lab::new("dhcp-range=192.168.2.100,192.168.2.200\ndhcp-boot=pxelinux.0,,bootserver\n");
    lab.dora(1_000, MAC, Who::Rom);
    let d = *lab
        .journey(MAC)
        .finding(DiagnosisKind::NothingToBoot)
        .expect("diagnosed");
    assert_eq!(d.detail, Detail::UnresolvedServer);
    assert_eq!(d.file.as_bytes(), b"pxelinux.0");
    assert_eq!(lab.line(&d), "t.conf:2: dhcp-boot=pxelinux.0,,bootserver");
}

#[test]
fn ipxe_without_a_boot_file_has_nothing_to_boot() {
    let mut lab = Lab::new(
        "dhcp-match=ipxe,175\ndhcp-range=192.168.2.100,192.168.2.200\n\
         dhcp-boot=net:#ipxe,undionly.kkpxe.0\n",
    );
    lab.dora(1_000, MAC, Who::Rom);
    assert_eq!(lab.kinds(MAC, 1_100), []);
    lab.dora(3_000, MAC, Who::Ipxe);
    let d = *lab
        .journey(MAC)
        .finding(DiagnosisKind::NothingToBoot)
        .expect("diagnosed");
    assert_eq!(
        (d.detail, d.severity()),
        (Detail::IpxeNoFile, Severity::Warning)
    );
    assert_eq!(
        lab.line(&d),
        "t.conf:2: dhcp-range=192.168.2.100,192.168.2.200"
    );
    // An OS asking for an address without a file is no diagnosis.
    let os = [2, 0, 0, 0, 0, 9];
    lab.dora(5_000, os, Who::Os);
    assert_eq!(lab.kinds(os, 5_100), []);
}

#[test]
fn an_architecture_without_a_file_is_named() {
    let mut lab = Lab::new(
        "dhcp-match=set:bios,option:client-arch,0\ndhcp-range=192.168.2.100,192.168.2.200\n\
         dhcp-boot=tag:bios,undionly.kpxe\n",
    );
    lab.dora(1_000, MAC, Who::Efi(11));
    let d = *lab
        .journey(MAC)
        .finding(DiagnosisKind::NoBootFileForArch)
        .expect("diagnosed");
    assert_eq!(d.detail, Detail::Arch(11));
    let text = alloc::format!("{}", d.explanation());
    assert!(text.contains("ARM 64-bit UEFI (11)"), "{text}");
    assert_eq!(lab.journey(MAC).arch(), Some(11));
}

#[test]
fn a_proxy_without_a_service_for_uefi_names_the_architecture_at_4011() {
    let mut lab =
        Lab::new("dhcp-range=192.168.2.0,proxy\npxe-service=x86PC,\"boot\",undionly.kkpxe\n");
    // The offer to UEFI only redirects to 4011: no diagnosis yet.
    lab.ask(1_000, MAC, Who::Efi(7), MessageType::Discover, 67, &[]);
    assert_eq!(lab.kinds(MAC, 1_100), []);
    lab.ask(
        1_200,
        MAC,
        Who::Efi(7),
        MessageType::Request,
        4011,
        // Boot item type 0x8001: no service has it.
        &[(43, &[71, 4, 0x80, 0x01, 0, 0, 255])],
    );
    let steps: Vec<_> = lab.journey(MAC).steps().collect();
    let d = lab
        .journey(MAC)
        .worst(1_300)
        .unwrap_or_else(|| panic!("{steps:#?}"));
    assert_eq!(d.kind, DiagnosisKind::NoBootFileForArch, "{d:?}");
    assert_eq!(d.detail, Detail::Arch(7));
}

#[test]
fn an_offer_the_client_did_not_take_is_diagnosed() {
    let mut lab = Lab::new("dhcp-range=192.168.2.100,192.168.2.200\ndhcp-boot=pxelinux.0\n");
    // Taken elsewhere, said so by the client's REQUEST.
    lab.ask(1_000, MAC, Who::Rom, MessageType::Discover, 67, &[]);
    lab.ask(
        1_100,
        MAC,
        Who::Rom,
        MessageType::Request,
        67,
        &[(50, &[192, 168, 2, 60]), (54, &[192, 168, 2, 2])],
    );
    let d = *lab
        .journey(MAC)
        .finding(DiagnosisKind::OfferNotTaken)
        .expect("diagnosed");
    assert_eq!(d.detail, Detail::ChoseServer(Ipv4Addr::new(192, 168, 2, 2)));
    assert_eq!(d.severity(), Severity::Warning);
    // Or just never requested.
    let other = [0x52, 0x54, 0, 0, 0, 2];
    lab.ask(10_000, other, Who::Rom, MessageType::Discover, 67, &[]);
    lab.ask(12_000, other, Who::Rom, MessageType::Discover, 67, &[]);
    assert_eq!(lab.kinds(other, 10_000 + OFFER_WAIT_MS - 1), []);
    let late: Vec<_> = lab
        .journey(other)
        .diagnoses(10_000 + OFFER_WAIT_MS)
        .collect();
    assert_eq!(late.len(), 1, "{late:?}");
    assert_eq!(
        (late[0].kind, late[0].at),
        (DiagnosisKind::OfferNotTaken, 10_000)
    );
    assert_eq!(late[0].detail, Detail::NoRequest);
    // A REQUEST in time clears it.
    let third = [0x52, 0x54, 0, 0, 0, 3];
    lab.dora(20_000, third, Who::Rom);
    assert_eq!(lab.kinds(third, 20_000 + 10 * OFFER_WAIT_MS), []);
}

#[test]
fn a_size_probe_before_the_transfer_is_information_not_failure() {
    // As the TFTP service reports an EDK2 boot: the probe starts (with
    // tsize) and ends as a probe, then the real transfer runs — and, when
    // the probe's ERROR and the next request arrive together, the probe's
    // end may be reported after the real transfer started.
    for reordered in [false, true] {
        let mut lab = Lab::new("dhcp-range=192.168.2.100,192.168.2.200\ndhcp-boot=ipxe.efi\n");
        lab.dora(1_000, MAC, Who::Efi(7));
        // The journey knows the client's address from the ACK; TFTP
        // reports by address.
        let probe = TftpObservation::Started {
            file: b"ipxe.efi",
            blksize: 1468,
            windowsize: 1,
            tsize: true,
        };
        let probed = TftpObservation::SizeProbe { file: b"ipxe.efi" };
        lab.tftp(1_500, probe);
        if reordered {
            lab.tftp(1_600, started(b"ipxe.efi"));
            lab.tftp(1_610, probed);
        } else {
            lab.tftp(1_510, probed);
            lab.tftp(1_600, started(b"ipxe.efi"));
        }
        lab.tftp(2_000, finished(b"ipxe.efi", 1_000_000));
        let j = lab.journey(MAC);
        let d = *j
            .finding(DiagnosisKind::SizeProbe)
            .unwrap_or_else(|| panic!("probe named (reordered: {reordered})"));
        assert_eq!(d.severity(), Severity::Info);
        assert_eq!(lab.kinds(MAC, 2_100), [DiagnosisKind::SizeProbe]);
        assert_eq!(j.state(2_100), State::Active);
        assert_eq!(j.stage(), Stage::BootFile);
        assert_eq!(j.counts().bytes, 1_000_000);
    }
}

#[test]
fn a_transfer_stuck_at_one_block_is_a_stall() {
    let mut lab = Lab::new("dhcp-range=192.168.2.100,192.168.2.200\ndhcp-boot=ipxe.efi\n");
    lab.dora(1_000, MAC, Who::Efi(7));
    let ip = lab.journey(MAC).ip().unwrap();
    lab.store.record_tftp(1_500, ip, &started(b"ipxe.efi"));
    let failed = TftpObservation::Failed {
        file: b"ipxe.efi",
        totals: TftpTotals {
            bytes: 0,
            micros: 30_000_000,
            blksize: 8192,
            windowsize: 1,
            retransmits: 6,
        },
        block: 1,
        timed_out: true,
    };
    lab.store.record_tftp(31_500, ip, &failed);
    let j = lab.journey(MAC);
    let d = *j.finding(DiagnosisKind::TransferStalled).expect("stall");
    assert_eq!(
        d.detail,
        Detail::Block {
            block: 1,
            blksize: 8192
        }
    );
    assert!(alloc::format!("{}", d.explanation()).contains("MTU"));
    assert_eq!(j.state(31_600), State::Failed);
}

#[test]
fn a_missing_boot_file_is_an_error_and_a_missing_optional_one_is_not() {
    let mut lab = Lab::new("dhcp-range=192.168.2.100,192.168.2.200\ndhcp-boot=pxelinux.0\n");
    lab.dora(1_000, MAC, Who::Rom);
    let ip = lab.journey(MAC).ip().unwrap();
    let refused = |file| TftpObservation::Refused {
        file,
        reason: TftpRefusal::NotFound,
    };
    lab.store.record_tftp(
        1_500,
        ip,
        &refused(&b"pxelinux.cfg/01-52-54-00-00-00-01"[..]),
    );
    let d = *lab
        .journey(MAC)
        .finding(DiagnosisKind::FileNotFound)
        .unwrap();
    assert_eq!((d.detail, d.severity()), (Detail::Optional, Severity::Info));
    assert_eq!(lab.journey(MAC).state(1_600), State::Active);
    lab.store
        .record_tftp(1_700, ip, &refused(&b"pxelinux.0"[..]));
    let d = *lab
        .journey(MAC)
        .finding(DiagnosisKind::FileNotFound)
        .unwrap();
    assert_eq!(
        (d.detail, d.severity()),
        (Detail::BootFile, Severity::Error)
    );
    assert_eq!(lab.line(&d), "t.conf:2: dhcp-boot=pxelinux.0");
    assert_eq!(lab.journey(MAC).state(1_800), State::Failed);
    // HTTP 404s count the same way.
    let http = HttpObservation {
        path: b"/vmlinuz",
        status: 404,
        bytes: 0,
        range: false,
        script: false,
    };
    assert!(lab.store.record_http(2_000, ip, None, &http));
    let d = *lab
        .journey(MAC)
        .finding(DiagnosisKind::FileNotFound)
        .unwrap();
    assert_eq!(d.file.as_bytes(), b"/vmlinuz");
}

/// iPXE fetching its script.
const SCRIPT: HttpObservation<'static> = HttpObservation {
    path: b"/boot.ipxe",
    status: 200,
    bytes: 120,
    range: false,
    script: true,
};

#[test]
fn a_not_modified_boot_file_counts_as_loaded() {
    let mut lab = Lab::new(
        "dhcp-match=set:ipxe,175\ndhcp-range=192.168.2.100,192.168.2.200\n\
         dhcp-boot=tag:ipxe,http://192.168.2.1/boot.ipxe\n",
    );
    lab.dora(1_000, MAC, Who::Ipxe);
    let ip = lab.journey(MAC).ip().unwrap();
    let script = SCRIPT;
    assert!(lab.store.record_http(2_000, ip, None, &script));
    // A client that holds the kernel revalidates it: 304, no bytes.
    let kernel = HttpObservation {
        path: b"/vmlinuz",
        status: 304,
        bytes: 0,
        range: false,
        script: false,
    };
    assert!(lab.store.record_http(2_500, ip, None, &kernel));
    assert_eq!(lab.journey(MAC).stage(), Stage::Loading);
    assert_eq!(lab.journey(MAC).finding(DiagnosisKind::FileNotFound), None);
}

#[test]
fn scripts_callbacks_and_the_os_finish_the_journey() {
    let mut lab = Lab::new(
        "dhcp-match=set:ipxe,175\ndhcp-range=192.168.2.100,192.168.2.200\n\
         dhcp-boot=tag:ipxe,http://192.168.2.1/boot.ipxe?mac=${mac}\n",
    );
    lab.dora(1_000, MAC, Who::Ipxe);
    let ip = lab.journey(MAC).ip().unwrap();
    let mac = Some(HwAddr::ethernet(MAC));
    let script = SCRIPT;
    // The script names the machine by MAC; the request may come from any
    // address.
    assert!(
        lab.store
            .record_http(2_000, Ipv4Addr::new(10, 9, 9, 9), mac, &script)
    );
    assert_eq!(lab.journey(MAC).stage(), Stage::Script);
    let kernel = HttpObservation {
        path: b"/vmlinuz",
        status: 206,
        bytes: 9_000_000,
        range: true,
        script: false,
    };
    assert!(lab.store.record_http(2_500, ip, None, &kernel));
    assert_eq!(lab.journey(MAC).stage(), Stage::Loading);
    assert!(lab.store.record_done(9_000, ip, None));
    let j = lab.journey(MAC);
    assert_eq!((j.stage(), j.state(10_000_000)), (Stage::Done, State::Done));
    assert_eq!(j.reached(Stage::Done), Some(9_000));
    assert_eq!(j.counts().http, 2);
    // An unknown client matches nothing.
    assert!(
        !lab.store
            .record_done(9_000, Ipv4Addr::new(10, 0, 0, 9), None)
    );
    assert_eq!(lab.store.unmatched(), 1);

    // Without a callback, the installed OS's own DHCP finishes it.
    let other = [0x52, 0x54, 0, 0, 0, 7];
    lab.dora(20_000, other, Who::Ipxe);
    let ip = lab.journey(other).ip().unwrap();
    lab.store.record_http(21_000, ip, None, &kernel);
    lab.dora(40_000, other, Who::Os);
    assert_eq!(lab.journey(other).stage(), Stage::Done);
}

#[test]
fn the_firmware_starting_over_begins_a_new_boot() {
    let mut lab = Lab::new(SEED_REAL);
    lab.dora(1_000, MAC, Who::Rom);
    lab.tftp(2_000, started(b"undionly.kkpxe.0"));
    assert_eq!(lab.journey(MAC).boots(), 1);
    lab.dora(100_000, MAC, Who::Rom);
    let j = lab.journey(MAC);
    assert_eq!(
        (j.boots(), j.stage(), j.boot_started()),
        (2, Stage::Ack, 100_000)
    );
    assert_eq!(j.reached(Stage::BootFile), None);
}

#[test]
fn steps_keep_the_latest_and_count_the_rest() {
    let mut lab = Lab::new(SEED_REAL);
    for i in 0..(STEPS as u64 + 6) {
        lab.ask(1_000 + i, MAC, Who::Rom, MessageType::Discover, 67, &[]);
    }
    let j = lab.journey(MAC);
    assert_eq!(j.steps().count(), STEPS);
    assert_eq!(j.steps_dropped(), 6);
    let times: Vec<u64> = j.steps().map(|s| s.at).collect();
    assert_eq!(times.first(), Some(&1_006));
    assert_eq!(times.last(), Some(&(1_000 + STEPS as u64 + 5)));
    assert!(times.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn a_flood_of_new_macs_keeps_machines_that_got_further() {
    let mut lab =
        Lab::new("dhcp-range=192.168.2.0,proxy\npxe-service=x86PC,\"boot\",undionly.kkpxe\n");
    lab.store = JourneyStore::new(8, 3);
    let real = [[0x52, 0x54, 0, 0, 1, 1], [0x52, 0x54, 0, 0, 1, 2]];
    for (i, m) in real.iter().enumerate() {
        lab.proxy_boot(1_000 + i as u64, *m, Who::Rom);
    }
    let bytes = lab.store.heap_bytes();
    for n in 0..5_000u32 {
        let b = n.to_be_bytes();
        let fake = [2, 0xff, b[0], b[1], b[2], b[3]];
        lab.ask(
            2_000 + u64::from(n),
            fake,
            Who::Rom,
            MessageType::Discover,
            67,
            &[],
        );
        assert!(lab.store.len() <= 8);
    }
    assert_eq!(lab.store.heap_bytes(), bytes, "the store never grows");
    assert_eq!(lab.store.len(), 8);
    assert_eq!(lab.store.evicted(), 5_000 + 2 - 8);
    for m in real {
        assert_eq!(
            lab.journey(m).stage(),
            Stage::Ack,
            "a machine past its offer survives"
        );
    }
    // The index still finds exactly the survivors.
    let last = 4_999u32.to_be_bytes();
    assert!(
        lab.store
            .get(&HwAddr::ethernet([
                2, 0xff, last[0], last[1], last[2], last[3]
            ]))
            .is_some()
    );
    assert!(
        lab.store
            .get(&HwAddr::ethernet([2, 0xff, 0, 0, 0, 0]))
            .is_none()
    );
    let found = lab
        .store
        .iter()
        .filter(|j| lab.store.get(&j.hw()).is_some())
        .count();
    assert_eq!(found, 8);
}

#[test]
fn the_protected_list_never_holds_the_whole_store() {
    let mut lab =
        Lab::new("dhcp-range=192.168.2.0,proxy\npxe-service=x86PC,\"boot\",undionly.kkpxe\n");
    lab.store = JourneyStore::new(4, 3);
    for n in 0..20u8 {
        lab.proxy_boot(1_000 + u64::from(n) * 100, [2, 0, 0, 0, 0, n], Who::Rom);
    }
    assert_eq!(lab.store.len(), 4);
    // The newest machines are the ones kept.
    for n in 16..20u8 {
        assert!(
            lab.store
                .get(&HwAddr::ethernet([2, 0, 0, 0, 0, n]))
                .is_some(),
            "{n}"
        );
    }
    let s = lab.store.summary(10_000);
    assert_eq!(s.by_stage[Stage::Ack.index()], 4);
}

#[test]
fn a_reused_slot_starts_a_journey_afresh() {
    // One slot: the looping machine's journey, with steps, counts and a
    // diagnosis, is evicted by a new machine, which must inherit nothing.
    let mut lab = Lab::new(
        "dhcp-match=ipxe,175\ndhcp-range=192.168.2.0,proxy\n\
         pxe-service=x86PC,\"boot\",undionly.kkpxe\n",
    );
    lab.store = JourneyStore::new(1, 5);
    lab.proxy_boot(1_000, MAC, Who::Rom);
    lab.tftp(1_500, started(b"undionly.kkpxe"));
    lab.proxy_boot(3_000, MAC, Who::Ipxe);
    assert!(lab.journey(MAC).steps().count() >= 4);
    assert!(!lab.kinds(MAC, 3_100).is_empty());
    let other = [0x52, 0x54, 0, 0, 9, 9];
    lab.ask(5_000, other, Who::Rom, MessageType::Discover, 67, &[]);
    assert_eq!(lab.store.evicted(), 1);
    assert!(lab.store.get(&HwAddr::ethernet(MAC)).is_none());
    let j = lab.journey(other);
    let fresh = Journey::new(HwAddr::ethernet(other), 5_000);
    assert_eq!(j.steps().count(), 1, "only its own DISCOVER");
    assert_eq!(j.steps_dropped(), 0);
    assert_eq!(j.first_seen(), 5_000);
    assert_eq!(j.boots(), fresh.boots());
    assert_eq!(j.ip(), None);
    assert_eq!(j.counts().tftp, 0);
    assert_eq!(j.counts().dhcp, 1);
    assert_eq!(lab.kinds(other, 5_100), []);
    assert_eq!(j.reached(Stage::Ipxe), None);
    assert_eq!(j.stage(), Stage::Offer);
}

#[test]
fn a_steps_tags_are_named_from_the_configuration_and_dropped_on_reload() {
    use alloc::string::ToString;
    let mut lab = Lab::new(SEED_REAL);
    lab.ask(1_000, MAC, Who::Ipxe, MessageType::Discover, 67, &[]);
    let step = *lab.journey(MAC).steps().next().unwrap();
    let StepKind::Dhcp(d) = step.what else {
        panic!("a DHCP step")
    };
    assert!(!d.tags.is_truncated());
    // The seed's dhcp-match sets `ipxe`; the range sets nothing more.
    assert_eq!(d.tags.names(&lab.config).to_string(), "ipxe");
    lab.store.forget_rules();
    let step = *lab.journey(MAC).steps().next().unwrap();
    let StepKind::Dhcp(d) = step.what else {
        panic!("a DHCP step")
    };
    assert!(d.tags.is_empty());
}

#[test]
fn tags_beyond_the_kept_ones_are_marked() {
    use alloc::string::ToString;
    let mut text = alloc::string::String::new();
    for i in 0..StepTags::KEPT + 2 {
        text.push_str(&alloc::format!("dhcp-match=set:t{i},60,PXEClient\n"));
    }
    text.push_str("dhcp-range=192.168.2.100,192.168.2.200\n");
    let mut lab = Lab::new(&text);
    lab.ask(1_000, MAC, Who::Rom, MessageType::Discover, 67, &[]);
    let step = *lab.journey(MAC).steps().next().unwrap();
    let StepKind::Dhcp(d) = step.what else {
        panic!("a DHCP step")
    };
    assert!(d.tags.is_truncated());
    assert_eq!(d.tags.ids().count(), StepTags::KEPT);
    let names = d.tags.names(&lab.config).to_string();
    assert!(names.starts_with("t0, t1, "), "{names}");
    assert!(names.ends_with(", …"), "{names}");
}
