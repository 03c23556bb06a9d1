//! Format v2 (`nucleus-bundle/v2`): every reported field is signed by the issuer, the log or
//! a witness. The normative description is the crate README.

pub mod encoding;
pub mod model;
pub(crate) mod verify;

pub use encoding::{EdgeFields, bind_payload, binding_message};
pub use model::{BindingV2, BundleV2, EdgeV2, FORMAT_V2, InclusionV2, LogProofV2, PayloadV2};
