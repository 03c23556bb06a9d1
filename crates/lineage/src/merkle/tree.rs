//! Tree roots and proof generation over a slice of leaf hashes (RFC 9162 §2.1.1, §2.1.3.1,
//! §2.1.4.1).

use super::{EMPTY_ROOT, Hash, MerkleError, node_hash, split_point};

/// The Merkle tree hash of `leaves` (leaf hashes); [`EMPTY_ROOT`] for none.
pub fn root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => EMPTY_ROOT,
        1 => leaves[0],
        n => {
            let k = split_point(n);
            node_hash(&root(&leaves[..k]), &root(&leaves[k..]))
        }
    }
}

/// The inclusion proof (audit path) for leaf `index` in the tree of `leaves`, leaf-side
/// sibling first.
pub fn inclusion_proof(leaves: &[Hash], index: u64) -> Result<Vec<Hash>, MerkleError> {
    let size = leaves.len() as u64;
    let i = usize::try_from(index)
        .ok()
        .filter(|&i| i < leaves.len())
        .ok_or(MerkleError::IndexOutOfRange { index, size })?;
    let mut proof = Vec::new();
    path(i, leaves, &mut proof);
    Ok(proof)
}

fn path(m: usize, leaves: &[Hash], out: &mut Vec<Hash>) {
    let n = leaves.len();
    if n <= 1 {
        return;
    }
    let k = split_point(n);
    if m < k {
        path(m, &leaves[..k], out);
        out.push(root(&leaves[k..]));
    } else {
        path(m - k, &leaves[k..], out);
        out.push(root(&leaves[..k]));
    }
}

/// The consistency proof from the first `old_size` leaves to all of `leaves`.
///
/// Empty when `old_size` is 0 (the empty tree is a prefix of every tree) or equals the
/// tree size.
pub fn consistency_proof(leaves: &[Hash], old_size: u64) -> Result<Vec<Hash>, MerkleError> {
    let new = leaves.len() as u64;
    if old_size > new {
        return Err(MerkleError::OldSizeGreater { old: old_size, new });
    }
    let m = usize::try_from(old_size).map_err(|_| MerkleError::TooLarge)?;
    let mut proof = Vec::new();
    if m > 0 {
        subproof(m, leaves, true, &mut proof);
    }
    Ok(proof)
}

fn subproof(m: usize, leaves: &[Hash], complete: bool, out: &mut Vec<Hash>) {
    let n = leaves.len();
    if m == n {
        if !complete {
            out.push(root(leaves));
        }
        return;
    }
    let k = split_point(n);
    if m <= k {
        subproof(m, &leaves[..k], complete, out);
        out.push(root(&leaves[k..]));
    } else {
        subproof(m - k, &leaves[k..], false, out);
        out.push(root(&leaves[..k]));
    }
}

#[cfg(test)]
mod tests {
    use super::super::{leaf_hash, verify_consistency, verify_inclusion};
    use super::*;

    fn leaves(n: u8) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&[i])).collect()
    }

    #[test]
    fn small_roots_by_hand() {
        let l = leaves(3);
        assert_eq!(root(&l[..1]), l[0]);
        assert_eq!(root(&l[..2]), node_hash(&l[0], &l[1]));
        assert_eq!(root(&l), node_hash(&node_hash(&l[0], &l[1]), &l[2]));
    }

    #[test]
    fn every_proof_in_small_trees_verifies() {
        for n in 1..=20u8 {
            let l = leaves(n);
            let r = root(&l);
            for i in 0..n as u64 {
                let p = inclusion_proof(&l, i).unwrap();
                verify_inclusion(&l[i as usize], i, n as u64, &p, &r).unwrap();
            }
            for m in 1..=n as u64 {
                let p = consistency_proof(&l, m).unwrap();
                verify_consistency(m, n as u64, &root(&l[..m as usize]), &r, &p).unwrap();
            }
        }
    }

    #[test]
    fn out_of_range() {
        let l = leaves(4);
        assert_eq!(
            inclusion_proof(&l, 4),
            Err(MerkleError::IndexOutOfRange { index: 4, size: 4 })
        );
        assert_eq!(
            inclusion_proof(&[], 0),
            Err(MerkleError::IndexOutOfRange { index: 0, size: 0 })
        );
        assert_eq!(
            consistency_proof(&l, 5),
            Err(MerkleError::OldSizeGreater { old: 5, new: 4 })
        );
    }

    #[test]
    fn old_size_zero_and_equal_sizes_give_empty_proofs() {
        let l = leaves(5);
        assert!(consistency_proof(&l, 0).unwrap().is_empty());
        assert!(consistency_proof(&l, 5).unwrap().is_empty());
        assert!(consistency_proof(&[], 0).unwrap().is_empty());
    }
}
