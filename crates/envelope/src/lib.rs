//! Provenance bundles: format v3 (ours) and format v1 (the original implementation's, read
//! and verified byte-compatibly), checked by [`verify_bundle`] against an out-of-band
//! [`TrustAnchor`]. The bundle's own embedded keys are never trusted.
//!
//! Pure: no I/O, no clock, no randomness; builds with rustc 1.85 for wasm32.

pub mod anchor;
pub mod error;
pub mod jwk;
pub mod payload;
pub mod report;
pub mod rfc3339;
pub mod v1;
pub mod v3;

pub use anchor::TrustAnchor;
pub use error::{BundleError, EdgeFault};
pub use jwk::{Jwk, Jwks, kid_for};
use nucleus_json::{FromJson, Json, Path};

pub use report::{BundleFormat, ReportedCosigner, ReportedEdge, ReportedLog, VerificationReport};

/// Largest bundle accepted, in bytes: room for a 64 MiB bundle several times over. The
/// payload, the only part that grows this large, is hashed in one streaming pass; the
/// counts that cost signature checks (edges, cosignatures, proof hashes) have caps of their
/// own below.
pub const MAX_BUNDLE_BYTES: usize = 256 * 1024 * 1024;
/// Most edges a bundle may carry.
pub const MAX_EDGES: usize = 10_000;
/// Most cosignatures a checkpoint or tree head may carry.
pub const MAX_COSIGNATURES: usize = 64;
/// Most hashes in one v1 audit path.
pub const MAX_PROOF_HASHES: usize = 1024;

/// Verifies a bundle (v3, or v1 when it has no `format` member) against a trust anchor.
///
/// Fails closed: any malformed input, unknown member, bad signature, missing inclusion,
/// unmet threshold or policy, or missing required payload is an error.
pub fn verify_bundle(
    bundle_bytes: &[u8],
    anchor: &TrustAnchor,
) -> Result<VerificationReport, BundleError> {
    if bundle_bytes.len() > MAX_BUNDLE_BYTES {
        return Err(BundleError::TooLarge {
            what: "bundle bytes",
            limit: MAX_BUNDLE_BYTES,
        });
    }
    let resolved = anchor.resolve()?;
    let malformed = |e: nucleus_json::DecodeError| BundleError::Malformed(e.to_string());
    let document = nucleus_json::parse(bundle_bytes).map_err(|e| malformed(e.into()))?;
    // `format` names our formats; v1 envelopes have none (a `null` one reads as none, and
    // v1's own decoding then refuses the unknown member).
    match document.get("format") {
        None | Some(Json::Null) => {
            let bundle = v1::BundleV1::from_json(document, &Path::Root).map_err(malformed)?;
            v1::verify::verify(&bundle, &resolved)
        }
        Some(Json::String(format)) if format == v3::FORMAT_V3 => {
            let bundle = v3::BundleV3::from_json(document, &Path::Root).map_err(malformed)?;
            v3::verify::verify(&bundle, &resolved)
        }
        Some(Json::String(other)) => Err(BundleError::UnsupportedFormat(other.to_string())),
        Some(other) => Err(BundleError::Malformed(format!(
            "format: expected a string, found {}",
            other.kind()
        ))),
    }
}
