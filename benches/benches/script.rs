//! iPXE script requests: parsing the query iPXE sends
//! (`mac=52%3A54...&uuid=...`) and rendering the seed's template with it,
//! as `/ipxe.php` does per request.
#![allow(missing_docs, clippy::unwrap_used, clippy::panic)]

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};

use criterion::{Criterion, criterion_group, criterion_main};
use pxe_engine::script::{ScriptVars, Template, parse_query};

const QUERY: &str = "mac=52%3A54%3A00%3A12%3A34%3A56&uuid=0017001e-8c00-00ad-5087-90e6ba2f3423";

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("ipxe_script");
    g.bench_function("parse_query", |b| {
        b.iter(|| parse_query(black_box(QUERY)).unwrap())
    });
    let t = Template::seed_default();
    let q = parse_query(QUERY).unwrap();
    let vars = ScriptVars {
        mac: q.mac,
        uuid: q.uuid,
        server: Some(IpAddr::V4(Ipv4Addr::new(192, 168, 2, 1))),
        port: Some(80),
        ..ScriptVars::default()
    };
    g.bench_function("render_seed_template", |b| {
        b.iter(|| t.render(black_box(&vars)).unwrap())
    });
    g.bench_function("parse_and_render", |b| {
        b.iter(|| {
            let q = parse_query(black_box(QUERY)).unwrap();
            let vars = ScriptVars {
                mac: q.mac,
                uuid: q.uuid,
                ..vars.clone()
            };
            t.render(&vars).unwrap()
        })
    });
    g.bench_function("template_parse_seed", |b| {
        b.iter(|| Template::parse(black_box(pxe_engine::script::DEFAULT_TEMPLATE)).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
