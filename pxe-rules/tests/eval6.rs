//! DHCPv6 evaluation through the same tag logic as DHCPv4: the firmware
//! classes of the captures (EDK2 PXEv6, EDK2 HTTPv6, iPXE) get their
//! boot-file-url by architecture, vendor and user class; the ORO filters
//! unforced options; `[::]` becomes the server's address; hosts are found
//! by DUID or MAC; a link without a range is not answered.

#![allow(clippy::panic, clippy::unwrap_used)]

use std::net::Ipv6Addr;

use pxe_dhcp::ClientArch;
use pxe_dhcp::v6::{Builder, Duid, ENTERPRISE_INTEL, Message, MessageType, TransactionId, code};
use pxe_rules::{Config, Context6, Facts6, IgnoreReason, Verdict6, mac_from_eui64};

const CONF: &str = "\
port=0
dhcp-range=fd00:77::100,fd00:77::1ff,64,1h
dhcp-match=set:efi64,option6:61,7
dhcp-userclass=set:ipxe,iPXE
dhcp-vendorclass=set:http,enterprise:343,HTTPClient
dhcp-vendorclass=set:noent,HTTPClient
dhcp-option=tag:efi64,tag:!ipxe,option6:bootfile-url,tftp://[fd00:77::1]/ipxe.efi
dhcp-option=tag:http,option6:bootfile-url,http://[fd00:77::1]/ipxe.efi
dhcp-option=tag:ipxe,option6:bootfile-url,http://[fd00:77::1]/boot.ipxe
dhcp-option=option6:dns-server,[::],[fd00::53]
dhcp-option-force=tag:http,option6:16,00:00:01:57:00:0a:48:54:54:50:43:6c:69:65:6e:74
dhcp-host=id:00:04:1e:00:17:00:00:8c:ad:00:50:87:90:e6:ba:2f:34:23,[fd00:77::50],set:pinned,2h
dhcp-host=52:54:00:ef:06:09,[::99]
";

const UUID: [u8; 16] = [
    0x1e, 0, 0x17, 0, 0, 0x8c, 0xad, 0, 0x50, 0x87, 0x90, 0xe6, 0xba, 0x2f, 0x34, 0x23,
];

struct Client {
    duid: Vec<u8>,
    oro: Vec<u16>,
    arch: Option<ClientArch>,
    vendor: Option<&'static [u8]>,
    user: Option<&'static [u8]>,
}

fn solicit(c: &Client, buf: &mut [u8]) -> usize {
    let mut b = Builder::new(
        buf,
        MessageType::Solicit,
        TransactionId::new(0x799fd4).unwrap(),
    )
    .unwrap();
    b.client_id(&c.duid).unwrap().elapsed_time(0).unwrap();
    b.ia_na(0xef9afdf7, u32::MAX, u32::MAX, |_| Ok(())).unwrap();
    if !c.oro.is_empty() {
        b.oro(&c.oro).unwrap();
    }
    if let Some(a) = c.arch {
        b.client_arch(&[a]).unwrap();
    }
    if let Some(v) = c.vendor {
        b.vendor_class(ENTERPRISE_INTEL, &[v]).unwrap();
    }
    if let Some(u) = c.user {
        b.user_class(&[u]).unwrap();
    }
    b.finish().unwrap()
}

fn edk2(arch: ClientArch, vendor: &'static [u8]) -> Client {
    Client {
        duid: Duid::from_uuid(UUID).to_vec(),
        oro: vec![59, 60, 23, 16],
        arch: Some(arch),
        vendor: Some(vendor),
        user: None,
    }
}

fn local() -> Ipv6Addr {
    "fd00:77::1".parse().unwrap()
}

/// Evaluates and writes the options into an ADVERTISE; returns the
/// verdict, the tags and the written message's (code, value) pairs.
type Written = Vec<(u16, Vec<u8>)>;

fn run(conf: &Config, c: &Client) -> (Verdict6, Vec<String>, Written) {
    let mut req = [0u8; 512];
    let n = solicit(c, &mut req);
    let msg = Message::new_checked(&req[..n]).unwrap();
    let facts = Facts6::new(&msg);
    let ctx = Context6::new(local()).with_interface("eth0");
    let d = conf.evaluate6(&facts, &ctx);
    let mut out = [0u8; 1500];
    let mut b = Builder::reply_to(&msg, MessageType::Advertise, &mut out).unwrap();
    d.write_options(&mut b).unwrap();
    let len = b.finish().unwrap();
    let reply = Message::new_checked(&out[..len]).unwrap();
    let opts = reply
        .options()
        .map(|o| o.unwrap())
        .filter(|o| o.code != code::CLIENT_ID)
        .map(|o| (o.code, o.data.to_vec()))
        .collect();
    let mut tags: Vec<String> = d.tag_names().map(String::from).collect();
    tags.sort();
    (d.verdict(), tags, opts)
}

fn url(opts: &[(u16, Vec<u8>)]) -> Option<String> {
    opts.iter()
        .find(|(c, _)| *c == 59)
        .map(|(_, v)| String::from_utf8(v.clone()).unwrap())
}

#[test]
fn firmware_classes_get_their_boot_file_url() {
    let conf = Config::parse_str(CONF, "v6.conf").unwrap();
    let (v, tags, opts) = run(
        &conf,
        &edk2(ClientArch::X64_UEFI, b"PXEClient:Arch:00007:UNDI:003000"),
    );
    assert_eq!(v, Verdict6::Serve);
    assert_eq!(url(&opts).as_deref(), Some("tftp://[fd00:77::1]/ipxe.efi"));
    assert!(
        tags.contains(&"efi64".into()) && tags.contains(&"known".into()),
        "{tags:?}"
    );
    assert!(
        !opts.iter().any(|(c, _)| *c == 16),
        "no option 16 to a PXEv6 client"
    );
    // `[::]` is the server's address; the second address as written.
    let dns = &opts.iter().find(|(c, _)| *c == 23).unwrap().1;
    assert_eq!(dns[..16], local().octets());
    assert_eq!(dns[16..], "fd00::53".parse::<Ipv6Addr>().unwrap().octets());

    let (_, tags, opts) = run(
        &conf,
        &edk2(
            ClientArch::X64_UEFI_HTTP,
            b"HTTPClient:Arch:00016:UNDI:003000",
        ),
    );
    assert_eq!(url(&opts).as_deref(), Some("http://[fd00:77::1]/ipxe.efi"));
    assert!(
        tags.contains(&"http".into()) && !tags.contains(&"noent".into()),
        "{tags:?}"
    );
    let vc = &opts.iter().find(|(c, _)| *c == 16).unwrap().1;
    assert_eq!(&vc[6..], b"HTTPClient");
    // Sent in dnsmasq's list order: later lines first.
    let codes: Vec<u16> = opts.iter().map(|(c, _)| *c).collect();
    assert_eq!(codes, [16, 23, 59]);

    // iPXE: user class iPXE, DUID-UUID in the other byte order, ORO 23 24 59 60.
    let ipxe = Client {
        duid: Duid::from_uuid([0; 16]).to_vec(),
        oro: vec![23, 24, 59, 60],
        arch: Some(ClientArch::X64_UEFI),
        vendor: Some(b"PXEClient:Arch:00007:UNDI:003010"),
        user: Some(b"iPXE"),
    };
    let (_, tags, opts) = run(&conf, &ipxe);
    assert_eq!(url(&opts).as_deref(), Some("http://[fd00:77::1]/boot.ipxe"));
    assert!(!tags.contains(&"known".into()));
}

#[test]
fn the_oro_filters_unforced_options() {
    let conf = Config::parse_str(CONF, "v6.conf").unwrap();
    // EDK2's first SOLICIT asks for DNS only: no boot-file-url yet.
    let mut c = edk2(ClientArch::X64_UEFI, b"PXEClient:Arch:00007:UNDI:003000");
    c.oro = vec![23];
    let (_, _, opts) = run(&conf, &c);
    assert_eq!(opts.iter().map(|(c, _)| *c).collect::<Vec<_>>(), [23]);
    // Without an ORO every chosen option is sent.
    c.oro.clear();
    let mut req = [0u8; 512];
    let n = solicit(&c, &mut req);
    let msg = Message::new_checked(&req[..n]).unwrap();
    let d = conf.evaluate6(&Facts6::new(&msg), &Context6::new(local()));
    assert!(d.boot_file_url().is_some());
}

#[test]
fn hosts_by_duid_or_mac_and_their_addresses() {
    let conf = Config::parse_str(CONF, "v6.conf").unwrap();
    let c = edk2(ClientArch::X64_UEFI, b"PXEClient:Arch:00007:UNDI:003000");
    let mut req = [0u8; 512];
    let n = solicit(&c, &mut req);
    let msg = Message::new_checked(&req[..n]).unwrap();
    let d = conf.evaluate6(&Facts6::new(&msg), &Context6::new(local()));
    assert_eq!(d.reserved_address(), Some("fd00:77::50".parse().unwrap()));
    assert_eq!(d.lease_time().as_secs(), 7200);
    assert!(d.tag_names().any(|t| t == "pinned"));

    // A MAC from the link-local address's EUI-64; the host part `[::99]`
    // is put on the link's prefix.
    let ll: Ipv6Addr = "fe80::5054:ff:feef:609".parse().unwrap();
    let mac = mac_from_eui64(ll);
    assert_eq!(mac, Some([0x52, 0x54, 0, 0xef, 6, 9]));
    let other = Client {
        duid: vec![0, 2, 0, 0, 0, 9, 1, 2],
        ..edk2(ClientArch::X64_UEFI, b"PXEClient")
    };
    let n = solicit(&other, &mut req);
    let msg = Message::new_checked(&req[..n]).unwrap();
    let d = conf.evaluate6(&Facts6::new(&msg).with_mac(mac), &Context6::new(local()));
    assert_eq!(d.reserved_address(), Some("fd00:77::99".parse().unwrap()));
    assert_eq!(d.lease_time().as_secs(), 3600);
    // DUID-LL carries the MAC itself.
    let n = solicit(
        &Client {
            duid: Duid::ll_ethernet([0x52, 0x54, 0, 0xef, 6, 9]).to_vec(),
            ..edk2(ClientArch::X64_UEFI, b"PXEClient")
        },
        &mut req,
    );
    let msg = Message::new_checked(&req[..n]).unwrap();
    assert!(
        conf.evaluate6(&Facts6::new(&msg), &Context6::new(local()))
            .host()
            .is_some()
    );
}

#[test]
fn other_links_ranges_and_ignores() {
    let conf = Config::parse_str(CONF, "v6.conf").unwrap();
    let c = edk2(ClientArch::X64_UEFI, b"PXEClient");
    let mut req = [0u8; 512];
    let n = solicit(&c, &mut req);
    let msg = Message::new_checked(&req[..n]).unwrap();
    let elsewhere = Context6::new("fd00:99::1".parse().unwrap());
    let d = conf.evaluate6(&Facts6::new(&msg), &elsewhere);
    assert_eq!(d.verdict(), Verdict6::Ignore(IgnoreReason::NoRange));
    // A relay's link-address selects the range of the client's link.
    let relayed = elsewhere.with_link("fd00:77::ffff".parse().unwrap());
    assert_eq!(
        conf.evaluate6(&Facts6::new(&msg), &relayed).verdict(),
        Verdict6::Serve
    );

    let conf = Config::parse_str(
        // List order is reverse configuration order, as dnsmasq's.
        "dhcp-range=fd00:77::1000,fd00:77::1fff\ndhcp-range=tag:lab,::100,::1ff,constructor:eth*\n\
         dhcp-match=set:lab,option6:61,7\ndhcp-ignore=tag:bad\ndhcp-match=set:bad,option6:15\n",
        "v6.conf",
    )
    .unwrap();
    let ctx = Context6::new(local()).with_interface("eth1");
    let d = conf.evaluate6(&Facts6::new(&msg), &ctx);
    let (s, _) = d.range().unwrap().on_network(local()).unwrap();
    assert_eq!(
        s,
        "fd00:77::100".parse::<Ipv6Addr>().unwrap(),
        "the constructed range"
    );
    let no_if = conf.evaluate6(&Facts6::new(&msg), &Context6::new(local()));
    assert_eq!(
        no_if.range().unwrap().start,
        "fd00:77::1000".parse::<Ipv6Addr>().unwrap()
    );
    let ipxe = Client {
        user: Some(b"iPXE"),
        ..edk2(ClientArch::X64_UEFI, b"PXEClient")
    };
    let n = solicit(&ipxe, &mut req);
    let msg = Message::new_checked(&req[..n]).unwrap();
    assert_eq!(
        conf.evaluate6(&Facts6::new(&msg), &ctx).verdict(),
        Verdict6::Ignore(IgnoreReason::DhcpIgnore)
    );
}
