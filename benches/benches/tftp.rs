//! pxe-tftp engine throughput: a server and a client engine joined in
//! memory (no sockets, no loss), one whole transfer per iteration, for
//! blksize 512/1468/8192/65464 x windowsize 1/4/16/64.
#![allow(missing_docs, clippy::unwrap_used, clippy::panic)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use pxe_tftp::client::ClientRead;
use pxe_tftp::io::SliceSink;
use pxe_tftp::server::{ReadTransfer, ServerPolicy, accept};
use pxe_tftp::wire::Mode;
use pxe_tftp::{Instant, ServerLimits, State, TransferConfig, TransferOptions};

fn transfer(file: &[u8], out: &mut [u8], blksize: u16, windowsize: u16, buf: &mut [u8]) -> u64 {
    let cfg = TransferConfig::default();
    let policy = ServerPolicy {
        limits: ServerLimits {
            max_blksize: 65464,
            max_windowsize: 64,
            ..ServerLimits::default()
        },
        allow_writes: false,
    };
    let asked = TransferOptions {
        blksize: Some(blksize),
        windowsize: Some(windowsize),
        tsize: Some(0),
        ..Default::default()
    };
    let now = Instant::ZERO;
    let mut client = ClientRead::new(b"f", Mode::Octet, &asked, cfg, SliceSink::new(out)).unwrap();
    let n = client.poll_transmit(now, buf).unwrap();
    let acc = accept(&buf[..n], &policy).unwrap();
    let mut server = ReadTransfer::new(file, acc.mode, &acc.options, &policy.limits, cfg);
    loop {
        let mut moved = false;
        while let Some(n) = server.poll_transmit(now, buf) {
            client.handle_datagram(now, &buf[..n]);
            moved = true;
        }
        while let Some(n) = client.poll_transmit(now, buf) {
            server.handle_datagram(now, &buf[..n]);
            moved = true;
        }
        if !moved {
            break;
        }
    }
    assert_eq!(*server.state(), State::Complete);
    client.bytes_received()
}

fn bench(c: &mut Criterion) {
    let len = 8 * 1024 * 1024;
    let file: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
    let mut out = vec![0u8; len];
    let mut buf = vec![0u8; 65536];
    let mut g = c.benchmark_group("tftp_transfer_8MiB");
    g.throughput(Throughput::Bytes(len as u64));
    g.sample_size(10);
    g.warm_up_time(Duration::from_millis(300));
    g.measurement_time(Duration::from_secs(1));
    for blksize in [512u16, 1468, 8192, 65464] {
        for windowsize in [1u16, 4, 16, 64] {
            g.bench_with_input(
                BenchmarkId::new(format!("blksize{blksize}"), format!("window{windowsize}")),
                &(blksize, windowsize),
                |b, &(bs, ws)| {
                    b.iter(|| {
                        let n = transfer(black_box(&file), &mut out, bs, ws, &mut buf);
                        assert_eq!(n, len as u64);
                    })
                },
            );
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
