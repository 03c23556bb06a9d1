//! RFC 6962 / RFC 9162 Merkle trees: hashing, roots, inclusion and consistency proofs.
//!
//! Leaves are *leaf hashes* (as in Sigsum, where the tree's leaves are hashes already);
//! use [`leaf_hash`] to hash raw entries first.

mod tree;
mod verify;

use sha2::{Digest, Sha256};

pub use tree::{consistency_proof, inclusion_proof, root};
pub use verify::{verify_consistency, verify_inclusion};

/// A SHA-256 tree hash.
pub type Hash = [u8; 32];

/// The root of the empty tree: SHA-256 of the empty string.
pub const EMPTY_ROOT: Hash = [
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
];

/// Leaf hash: SHA-256(0x00 ‖ data).
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    h.finalize().into()
}

/// Interior node hash: SHA-256(0x01 ‖ left ‖ right).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// Why a proof could not be generated or did not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MerkleError {
    /// The leaf index is not below the tree size.
    #[error("leaf index {index} is not below tree size {size}")]
    IndexOutOfRange {
        /// The leaf index.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// The old tree is larger than the new tree.
    #[error("old tree size {old} is larger than new tree size {new}")]
    OldSizeGreater {
        /// Old size.
        old: u64,
        /// New size.
        new: u64,
    },
    /// Consistency from the empty tree: every tree extends it, so there is nothing to prove.
    /// The caller decides what an old size of 0 means (a witness requires an empty proof).
    #[error("old tree size is 0: consistency with the empty tree needs no proof")]
    EmptyOldTree,
    /// Equal sizes need an empty proof.
    #[error("tree sizes are equal but the proof is not empty")]
    ProofNotEmpty,
    /// A consistency proof between different non-empty sizes cannot be empty.
    #[error("consistency proof is empty")]
    EmptyProof,
    /// The proof has more hashes than the tree shape allows.
    #[error("proof has too many hashes")]
    ProofTooLong,
    /// The proof has fewer hashes than the tree shape needs.
    #[error("proof has too few hashes")]
    ProofTooShort,
    /// The root computed from the proof is not the expected root.
    #[error("computed root does not match the expected root")]
    RootMismatch,
    /// The old root computed from a consistency proof is not the expected old root.
    #[error("computed old root does not match the expected old root")]
    OldRootMismatch,
    /// The requested size does not fit this platform's address space.
    #[error("tree size does not fit in memory on this platform")]
    TooLarge,
}

/// Largest power of two strictly below `n` (`n >= 2`).
fn split_point(n: usize) -> usize {
    debug_assert!(n >= 2);
    1usize << (usize::BITS - 1 - (n - 1).leading_zeros())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_root_is_sha256_of_nothing() {
        let d: Hash = Sha256::digest([]).into();
        assert_eq!(d, EMPTY_ROOT);
        assert_eq!(root(&[]), EMPTY_ROOT);
    }

    #[test]
    fn split_points() {
        assert_eq!(split_point(2), 1);
        assert_eq!(split_point(3), 2);
        assert_eq!(split_point(4), 2);
        assert_eq!(split_point(5), 4);
        assert_eq!(split_point(8), 4);
        assert_eq!(split_point(9), 8);
    }

    #[test]
    fn domain_separation() {
        let a = leaf_hash(b"");
        assert_ne!(a, EMPTY_ROOT);
        let mut concat = vec![];
        concat.extend_from_slice(&a);
        concat.extend_from_slice(&a);
        assert_ne!(node_hash(&a, &a), leaf_hash(&concat));
    }
}
