//! RFC 6962 / RFC 9162 §2.1.3.2 inclusion proofs of many leaves in one tree.
//!
//! A bundle's edges are neighbours in the log, so their audit paths share most of their
//! interior nodes: verified one by one, a 100-edge bundle in a tree of 1 100 leaves hashes
//! about 1 100 nodes, most of them the same few dozen. [`InclusionVerifier`] computes each
//! interior node once per `(left, right)` pair and looks it up afterwards. That memoizes a
//! pure function, so every proof is still checked hash by hash against the root; only
//! repeated SHA-256 work is skipped.

use std::collections::HashMap;

use nucleus_lineage::merkle::{Hash, node_hash};

/// Verifies inclusion proofs against one tree (`size`, `root`), sharing node hashes.
pub(crate) struct InclusionVerifier<'a> {
    size: u64,
    root: &'a Hash,
    nodes: HashMap<[u8; 64], Hash>,
}

impl<'a> InclusionVerifier<'a> {
    /// A verifier for the tree of `size` leaves with root hash `root`.
    pub(crate) fn new(size: u64, root: &'a Hash) -> Self {
        InclusionVerifier {
            size,
            root,
            nodes: HashMap::new(),
        }
    }

    fn node(&mut self, left: &Hash, right: &Hash) -> Hash {
        let mut key = [0u8; 64];
        key[..32].copy_from_slice(left);
        key[32..].copy_from_slice(right);
        *self
            .nodes
            .entry(key)
            .or_insert_with(|| node_hash(left, right))
    }

    /// Checks that `leaf` (a leaf hash) is at `index` in the tree, given its audit path.
    pub(crate) fn verify(&mut self, leaf: &Hash, index: u64, path: &[Hash]) -> Result<(), String> {
        if index >= self.size {
            return Err(format!(
                "leaf index {index} is not below the tree size {}",
                self.size
            ));
        }
        let (mut f, mut s) = (index, self.size - 1);
        let mut r = *leaf;
        for p in path {
            if s == 0 {
                return Err(format!(
                    "the proof has more than the {} hashes it needs",
                    path.len() - 1
                ));
            }
            if f & 1 == 1 || f == s {
                r = self.node(p, &r);
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            } else {
                r = self.node(&r, p);
            }
            f >>= 1;
            s >>= 1;
        }
        if s != 0 {
            return Err(format!("the proof is too short ({} hashes)", path.len()));
        }
        if &r != self.root {
            return Err("the proof does not lead to the checkpoint's root".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nucleus_lineage::merkle::{self, inclusion_proof, leaf_hash, root};

    /// Every leaf of trees of sizes 1..=33 verifies through one shared verifier, and agrees
    /// with the lineage crate's single-proof check on tampered proofs.
    #[test]
    fn agrees_with_single_proof_verification() {
        for size in 1..=33u64 {
            let leaves: Vec<Hash> = (0..size).map(|i| leaf_hash(&i.to_be_bytes())).collect();
            let root = root(&leaves);
            let mut v = InclusionVerifier::new(size, &root);
            for index in 0..size {
                let path = inclusion_proof(&leaves, index).unwrap();
                let leaf = &leaves[index as usize];
                v.verify(leaf, index, &path).unwrap();
                assert!(v.verify(leaf, (index + 1) % size.max(2), &path).is_err() || size == 1);
                let mut cases = vec![path[..path.len().saturating_sub(1)].to_vec()];
                let mut longer = path.clone();
                longer.push([7; 32]);
                cases.push(longer);
                for i in 0..path.len() {
                    let mut bad = path.clone();
                    bad[i][0] ^= 1;
                    cases.push(bad);
                }
                for bad in cases {
                    if bad == path {
                        continue;
                    }
                    let single = merkle::verify_inclusion(leaf, index, size, &bad, &root);
                    assert!(single.is_err(), "size {size} index {index}");
                    assert!(
                        v.verify(leaf, index, &bad).is_err(),
                        "size {size} index {index}"
                    );
                }
            }
            assert!(v.verify(&leaves[0], size, &[]).is_err());
        }
    }
}
