//! Property tests for Merkle proofs over random trees: every generated inclusion proof and
//! every (m, n) consistency proof verifies; any flipped bit, wrong index or wrong root
//! fails, and so does a wrong size whose proof would have another shape.

use nucleus_lineage::merkle::{
    Hash, consistency_proof, inclusion_proof, leaf_hash, root, verify_consistency, verify_inclusion,
};
use proptest::prelude::*;

fn tree(max: usize) -> impl Strategy<Value = Vec<Hash>> {
    prop::collection::vec(any::<[u8; 8]>(), 1..=max)
        .prop_map(|entries| entries.iter().map(|e| leaf_hash(e)).collect())
}

/// Length of the consistency proof for (m, n); it depends only on the sizes.
fn consistency_len(m: u64, n: u64) -> usize {
    consistency_proof(&vec![[0u8; 32]; n as usize], m)
        .unwrap()
        .len()
}

/// Length of the inclusion proof for leaf i of n; it depends only on i and n.
fn inclusion_len(i: u64, n: u64) -> usize {
    inclusion_proof(&vec![[0u8; 32]; n as usize], i)
        .unwrap()
        .len()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn every_consistency_pair_verifies(leaves in tree(40)) {
        let n = leaves.len();
        let roots: Vec<Hash> = (0..=n).map(|k| root(&leaves[..k])).collect();
        for new in 1..=n {
            for old in 1..=new {
                let p = consistency_proof(&leaves[..new], old as u64).unwrap();
                prop_assert!(
                    verify_consistency(old as u64, new as u64, &roots[old], &roots[new], &p).is_ok(),
                    "{} -> {}", old, new
                );
            }
        }
    }

    #[test]
    fn every_inclusion_proof_verifies(leaves in tree(64)) {
        let n = leaves.len() as u64;
        let r = root(&leaves);
        for i in 0..n {
            let p = inclusion_proof(&leaves, i).unwrap();
            prop_assert!(verify_inclusion(&leaves[i as usize], i, n, &p, &r).is_ok());
        }
    }

    #[test]
    fn flipped_bit_in_consistency_proof_fails(
        leaves in tree(100),
        old_pick in any::<prop::sample::Index>(),
        elem in any::<prop::sample::Index>(),
        bit in 0usize..256,
    ) {
        let n = leaves.len();
        prop_assume!(n >= 2);
        let old = 1 + old_pick.index(n - 1); // 1..n-1: a proof is non-empty
        let mut p = consistency_proof(&leaves, old as u64).unwrap();
        prop_assert!(!p.is_empty());
        let (r1, r2) = (root(&leaves[..old]), root(&leaves));
        let e = elem.index(p.len());
        p[e][bit / 8] ^= 1 << (bit % 8);
        prop_assert!(verify_consistency(old as u64, n as u64, &r1, &r2, &p).is_err());
    }

    #[test]
    fn flipped_bit_in_roots_fails(leaves in tree(100), old_pick in any::<prop::sample::Index>(), bit in 0usize..256) {
        let n = leaves.len();
        let old = 1 + old_pick.index(n);
        let p = consistency_proof(&leaves, old as u64).unwrap();
        let (r1, r2) = (root(&leaves[..old]), root(&leaves));
        let (mut b1, mut b2) = (r1, r2);
        b1[bit / 8] ^= 1 << (bit % 8);
        b2[bit / 8] ^= 1 << (bit % 8);
        prop_assert!(verify_consistency(old as u64, n as u64, &b1, &r2, &p).is_err());
        prop_assert!(verify_consistency(old as u64, n as u64, &r1, &b2, &p).is_err());
    }

    /// Sizes are bound by the signed checkpoint, not by the proof: a proof for (m, n) also
    /// verifies for other sizes whose proofs have the same shape (e.g. 4 -> 7 and 4 -> 8).
    /// What must hold is that a claimed size whose proof has a different length fails.
    #[test]
    fn wrong_sizes_with_other_proof_shape_fail(leaves in tree(100), old_pick in any::<prop::sample::Index>(), delta in 1u64..5) {
        let n = leaves.len();
        prop_assume!(n >= 2);
        let old = 1 + old_pick.index(n - 1);
        let p = consistency_proof(&leaves, old as u64).unwrap();
        let (r1, r2) = (root(&leaves[..old]), root(&leaves));
        let (o, nn) = (old as u64, n as u64);
        let mut claims = vec![(o, nn + delta)];
        if o > delta {
            claims.push((o - delta, nn));
        }
        if o + delta < nn {
            claims.push((o + delta, nn));
        }
        if nn > o + delta {
            claims.push((o, nn - delta));
        }
        for (m2, n2) in claims {
            if consistency_len(m2, n2) != p.len() {
                prop_assert!(verify_consistency(m2, n2, &r1, &r2, &p).is_err(), "{} -> {}", m2, n2);
            }
        }
    }

    #[test]
    fn tampered_inclusion_fails(
        leaves in tree(100),
        pick in any::<prop::sample::Index>(),
        elem in any::<prop::sample::Index>(),
        bit in 0usize..256,
        delta in 1u64..5,
    ) {
        let n = leaves.len() as u64;
        let i = pick.index(leaves.len()) as u64;
        let r = root(&leaves);
        let p = inclusion_proof(&leaves, i).unwrap();
        let leaf = leaves[i as usize];
        // flipped bit in the leaf, the root, or a proof element
        let mut l2 = leaf;
        l2[bit / 8] ^= 1 << (bit % 8);
        prop_assert!(verify_inclusion(&l2, i, n, &p, &r).is_err());
        let mut r2 = r;
        r2[bit / 8] ^= 1 << (bit % 8);
        prop_assert!(verify_inclusion(&leaf, i, n, &p, &r2).is_err());
        if !p.is_empty() {
            let mut p2 = p.clone();
            p2[elem.index(p.len())][bit / 8] ^= 1 << (bit % 8);
            prop_assert!(verify_inclusion(&leaf, i, n, &p2, &r).is_err());
        }
        // wrong size, where the path for the claimed size has another length
        for n2 in [n + delta, n.saturating_sub(delta)] {
            if i < n2 && inclusion_len(i, n2) != p.len() {
                prop_assert!(verify_inclusion(&leaf, i, n2, &p, &r).is_err());
            }
        }
        // wrong index (same leaf hash can sit elsewhere only if leaves repeat)
        let j = (i + delta) % n;
        if leaves[j as usize] != leaf {
            prop_assert!(verify_inclusion(&leaf, j, n, &p, &r).is_err());
        }
    }
}
