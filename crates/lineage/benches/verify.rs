//! Verification costs: consistency proofs (up to a 1M-leaf tree), inclusion proofs,
//! cosignatures (Ed25519 and ML-DSA-44) and a full note parse + log-signature check.
//!
//! Run: `cargo bench -p nucleus-lineage --bench verify` (add `-- --quick` for a short run).

// criterion_group! expands to an undocumented `pub fn`.
#![allow(missing_docs)]

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use ed25519_dalek::SigningKey;
use nucleus_lineage::checkpoint::Checkpoint;
use nucleus_lineage::cosignature::{CosignatureSigner, verify_cosignature};
use nucleus_lineage::merkle::{
    Hash, consistency_proof, inclusion_proof, leaf_hash, root, verify_consistency, verify_inclusion,
};
use nucleus_lineage::signed_note::{Note, NoteSigner};
use nucleus_lineage::vkey::Vkey;

const BIG: u64 = 1 << 20;

fn leaves(n: u64) -> Vec<Hash> {
    (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
}

fn merkle(c: &mut Criterion) {
    let leaves = leaves(BIG);
    let mut g = c.benchmark_group("merkle");
    for (old, new) in [(BIG / 2 + 1, BIG), (1000, BIG), (BIG - 1, BIG), (7, 1000)] {
        let (old_root, new_root) = (root(&leaves[..old as usize]), root(&leaves[..new as usize]));
        let proof = consistency_proof(&leaves[..new as usize], old).unwrap();
        g.bench_with_input(
            BenchmarkId::new(
                "verify_consistency",
                format!("{old}->{new} ({} hashes)", proof.len()),
            ),
            &proof,
            |b, p| b.iter(|| verify_consistency(old, new, &old_root, &new_root, p).unwrap()),
        );
    }
    let r = root(&leaves);
    let i = BIG / 3;
    let proof = inclusion_proof(&leaves, i).unwrap();
    g.bench_function(
        BenchmarkId::new("verify_inclusion", format!("{i} of {BIG}")),
        |b| b.iter(|| verify_inclusion(&leaves[i as usize], i, BIG, &proof, &r).unwrap()),
    );
    g.sample_size(10);
    g.bench_function(BenchmarkId::new("root", BIG), |b| b.iter(|| root(&leaves)));
    g.finish();
}

fn signatures(c: &mut Criterion) {
    let cp = Checkpoint {
        origin: "example.com/log".into(),
        size: BIG,
        root: leaf_hash(b"root"),
        extensions: vec![],
    };
    let text = cp.to_text();
    let log = NoteSigner::new("example.com/log", SigningKey::from_bytes(&[1; 32])).unwrap();
    let witness = CosignatureSigner::new("w1.example", SigningKey::from_bytes(&[2; 32])).unwrap();
    let cosig = witness.sign(&text, 1_700_000_000).unwrap();
    let wkey = witness.vkey().clone();

    let mut g = c.benchmark_group("signatures");
    g.bench_function("verify_cosignature ed25519", |b| {
        b.iter(|| verify_cosignature(&wkey, &cosig, &text).unwrap())
    });
    g.bench_function("sign_cosignature ed25519", |b| {
        b.iter(|| witness.sign(&text, 1_700_000_000).unwrap())
    });
    let note = Note {
        text: text.clone(),
        signatures: vec![log.sign(&text), cosig.clone()],
    }
    .to_bytes();
    let lkey = log.vkey().clone();
    g.bench_function("parse note + verify log signature", |b| {
        b.iter(|| {
            Note::parse(&note)
                .unwrap()
                .verify(std::slice::from_ref(&lkey))
                .unwrap()
        })
    });

    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/cosignature/");
    let mkey = Vkey::parse(
        std::fs::read_to_string(format!("{dir}mldsa44-log.vkey"))
            .unwrap()
            .trim_end(),
    )
    .unwrap();
    let mnote = Note::parse(&std::fs::read(format!("{dir}mldsa44-log-signed.checkpoint")).unwrap())
        .unwrap();
    let mline = mnote.signatures[0].clone();
    g.bench_function("verify_cosignature ml-dsa-44", |b| {
        b.iter(|| verify_cosignature(&mkey, &mline, &mnote.text).unwrap())
    });
    g.finish();
}

criterion_group!(benches, merkle, signatures);
criterion_main!(benches);
