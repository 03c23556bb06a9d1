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

use serde::Deserialize;

pub use anchor::TrustAnchor;
pub use error::{BundleError, EdgeFault};
pub use jwk::{Jwk, Jwks, kid_for};
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

#[derive(Deserialize)]
struct Probe {
    #[serde(default)]
    format: Option<String>,
}

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
    // Our own format is parsed once. Only what does not parse as v3 is probed for its
    // `format` member; that decides between v3's parse error, an unknown format and v1,
    // exactly as probing first would.
    let v3_error = match serde_json::from_slice::<v3::BundleV3>(bundle_bytes) {
        Ok(bundle) => return v3::verify::verify(&bundle, &resolved),
        Err(e) => e,
    };
    let probe: Probe =
        serde_json::from_slice(bundle_bytes).map_err(|e| BundleError::Malformed(e.to_string()))?;
    match probe.format.as_deref() {
        Some(v3::FORMAT_V3) => Err(BundleError::Malformed(v3_error.to_string())),
        Some(other) => Err(BundleError::UnsupportedFormat(other.to_owned())),
        None => {
            let bundle: v1::BundleV1 = serde_json::from_slice(bundle_bytes)
                .map_err(|e| BundleError::Malformed(e.to_string()))?;
            v1::verify::verify(&bundle, &resolved)
        }
    }
}
