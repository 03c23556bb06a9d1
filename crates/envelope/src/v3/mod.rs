//! Format v3 (`nucleus-bundle/v3`): edges chained by hash, one issuer seal over the session,
//! edge count, chain head and payload; every edge included in a log checkpoint cosigned by
//! witnesses. The normative description is the crate README.

pub mod encoding;
mod inclusion;
pub mod model;
pub(crate) mod verify;

pub use encoding::{EdgeFields, SealedPayload, seal, seal_message};
pub use model::{BundleV3, EdgeV3, FORMAT_V3, InclusionV3, LogProofV3, PayloadV3, SealV3};
