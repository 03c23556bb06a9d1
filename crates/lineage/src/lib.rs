//! Transparency-log formats, byte-exact: signed notes, checkpoints, cosignatures and
//! RFC 6962 Merkle proofs (c2sp.org/signed-note, tlog-checkpoint, tlog-cosignature).
//!
//! Pure: no I/O, no clock, no randomness. Builds with rustc 1.85 and for wasm32.

pub mod b64;
pub mod checkpoint;
pub mod cosignature;
pub mod merkle;
pub mod policy;
pub mod quorum;
pub mod quoted;
pub mod signed_note;
pub mod tlog_witness;
pub mod vkey;

pub use checkpoint::Checkpoint;
pub use cosignature::{CosignatureSigner, cosignature_message, verify_cosignature};
pub use merkle::{EMPTY_ROOT, Hash};
pub use signed_note::{Note, NoteSignature, NoteSigner, VerifiedSignature};
pub use vkey::{KeyType, Vkey, key_id};
