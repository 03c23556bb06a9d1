//! Native verify time of a 100-edge v3 bundle with 3 cosignatures (and a 2-of-3 policy), and
//! of the upstream v1 demo fixture.
#![allow(missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use nucleus_envelope::{TrustAnchor, verify_bundle};

#[path = "../tests/common/mod.rs"]
mod common;

fn bench(c: &mut Criterion) {
    let bundle = common::to_bytes(&common::build(&common::Spec {
        edges: 100,
        cosigners: vec![0, 1, 2],
        filler: 1000,
        ..common::Spec::default()
    }));
    let anchor = common::anchor();
    let with_policy = TrustAnchor {
        policy: Some(common::policy_text()),
        ..common::anchor()
    };
    verify_bundle(&bundle, &with_policy).expect("the benchmark bundle verifies");
    println!(
        "v3 bundle: 100 edges, 3 cosignatures, {} bytes",
        bundle.len()
    );
    c.bench_function("verify_v3_100_edges_3_cosigs", |b| {
        b.iter(|| verify_bundle(std::hint::black_box(&bundle), &anchor).unwrap())
    });
    c.bench_function("verify_v3_100_edges_3_cosigs_policy", |b| {
        b.iter(|| verify_bundle(std::hint::black_box(&bundle), &with_policy).unwrap())
    });
    let v1 = include_bytes!("../testdata/upstream/bundle.json");
    let v1_anchor =
        TrustAnchor::from_json(include_str!("../testdata/upstream/trust-anchor.json")).unwrap();
    c.bench_function("verify_v1_demo_fixture", |b| {
        b.iter(|| verify_bundle(std::hint::black_box(v1), &v1_anchor).unwrap())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
