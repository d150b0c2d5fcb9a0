//! pxe-rules: evaluation of arbitrary request bytes against the seed's
//! configurations and one that uses every rule kind, on both ports; every
//! decision's options write (through pxe-dhcp's builder) as a message the
//! codec reads back, and its reply writes or fails with a typed error.
#![no_main]

use std::net::Ipv4Addr;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use pxe_dhcp::{Builder, MessageType, Packet};
use pxe_rules::{Config, Context, Facts, Port, ReplyError, ServerPart, Verdict};

const CONFIGS: &[&str] = &[
    "enable-tftp\ndhcp-match=ipxe,175\ndhcp-range=192.168.2.100,192.168.2.200\ntftp-root=/tmp/memstick/host0_part1/\ndhcp-boot=net:#ipxe,undionly.kkpxe.0\ndhcp-boot=pxelinux.0\ndhcp-option-force=209,pxelinux.cfg/default\ndhcp-option-force=210,http://192.168.2.1:81/\n",
    "dhcp-match=ipxe,175\nenable-tftp\ndhcp-range=192.168.2.0,proxy\ntftp-root=/pxe/\npxe-service=net:#ipxe,x86PC, \"splashtop by richud.com\", undionly.kkpxe\n",
    "dhcp-match=ipxe,175\ndhcp-boot=net:ipxe,http://192.168.2.1/ipxe.php?mac=${mac}&uuid=${uuid}\nenable-tftp\ndhcp-range=192.168.2.0,proxy\ntftp-root=/pxe/\npxe-service=net:#ipxe,x86PC, \"splashtop by richud.com\", undionly.kkpxe\n",
    "dhcp-match=set:ipxe,175\ndhcp-match=set:efi,option:client-arch,7\ndhcp-match=set:hexm,60,50:58:45:*\ndhcp-match=set:v,vi-encap:3561,abc\ndhcp-userclass=set:ipxeuc,iPXE\ndhcp-vendorclass=set:pxe,PXEClient\ndhcp-mac=set:qemu,52:54:00:*:*:*\ndhcp-circuitid=set:c,01:02\ndhcp-name-match=set:n,node*\ntag-if=set:combo,tag:qemu,tag:pxe*\ndhcp-host=52:54:00:b0:07:01,set:host1,192.168.2.77,infinite\ndhcp-host=id:01:02:03,set:h2\ndhcp-range=set:lan,192.168.2.100,192.168.2.200,12h\ndhcp-range=192.168.3.0,proxy\ndhcp-boot=tag:!ipxe,undionly.kpxe,bootsrv,192.168.2.5\ndhcp-boot=tag:ipxe,http://192.168.2.1/boot.ipxe\ndhcp-option=3,0.0.0.0\ndhcp-option=tag:lan,6,192.168.2.6,0.0.0.0\ndhcp-option=67,x.efi\ndhcp-option-force=209,pxelinux.cfg/default\ndhcp-option=encap:175,176,1b\ndhcp-option=vi-encap:3561,1,abc\ndhcp-option=vendor:PXEClient,1,0.0.0.0\ndhcp-option=option:domain-search,a.example.com,b.example.com\npxe-prompt=\"Press F8\",5\npxe-service=x86PC,\"local\"\npxe-service=x86PC,\"linux\",pxelinux\npxe-service=x86PC,\"remote\",menu.c32,192.168.2.9\npxe-service=x86PC,\"t13\",13\npxe-service=x86-64_EFI,\"EFI\",snponly\npxe-service=BC_EFI,\"EFI\",snponly\npxe-service=BC_EFI,\"EFI2\",grubx64.efi\ndhcp-reply-delay=tag:efi,1\ndhcp-broadcast=tag:ipxe\ndhcp-ignore=tag:c\n",
];

fn configs() -> &'static Vec<Config> {
    static C: OnceLock<Vec<Config>> = OnceLock::new();
    C.get_or_init(|| {
        CONFIGS
            .iter()
            .map(|t| Config::parse_str(t, "fuzz.conf").expect("fuzz config parses"))
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(request) = Packet::new_lenient(data) else {
        return;
    };
    let Ok(facts) = Facts::new(&request) else {
        return;
    };
    let local = Ipv4Addr::new(192, 168, 2, 1);
    for c in configs() {
        for port in [Port::Dhcp, Port::Pxe] {
            let ctx = Context::new(local, Ipv4Addr::new(255, 255, 255, 0))
                .with_interface("eth0")
                .with_port(port);
            let d = c.evaluate(&facts, &ctx);
            let mut buf = [0u8; 4096];
            let mut b = Builder::new(&mut buf).expect("large buffer");
            d.write_boot_options(&mut b)
                .and_then(|()| d.write_options(&mut b))
                .expect("the rules' options always write");
            let n = b.finish().expect("no limit but the buffer");
            let written = Packet::new_checked(&buf[..n]).expect("written options parse");
            let mut want: Vec<u8> = d
                .boot_options()
                .map(|(c, _)| c)
                .chain(d.options().map(|o| o.code()))
                .collect();
            want.dedup();
            let mut got: Vec<u8> = written
                .options()
                .map(|o| o.expect("checked").code)
                .collect();
            got.dedup();
            assert_eq!(got, want, "every option, in order");
            let server = ServerPart::new(local, Some(MessageType::Offer));
            let mut out = [0u8; 1500];
            match d.write_reply(&request, &server, &mut out) {
                Ok(b) => {
                    if let Ok(len) = b.finish() {
                        let reply = Packet::new_checked(&out[..len]).expect("replies parse");
                        assert_eq!(reply.xid(), request.xid());
                        assert_eq!(reply.chaddr(), request.chaddr());
                    }
                }
                Err(ReplyError::Ignored(_)) => {
                    assert!(matches!(d.verdict(), Verdict::Ignore(_)))
                }
                Err(ReplyError::Dhcp(_)) => {}
            }
            std::hint::black_box((d.file(), d.sname(), d.verdict(), d.siaddr()));
        }
    }
});
