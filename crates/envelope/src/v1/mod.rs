//! Format v1: the original implementation's bundles, read and verified byte-compatibly
//! (upstream-formats §a–§c), with its fail-open gaps closed.

pub mod canonical;
pub mod model;
pub(crate) mod verify;

pub use model::BundleV1;
