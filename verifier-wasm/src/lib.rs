//! `nucleus_envelope::verify_bundle` for JavaScript: `verifyBundle(bundleText, trustAnchorText)`
//! returns the verification report as a plain object or throws an `Error` whose `kind` is the
//! stable name of the [`BundleError`] (also the prefix of its message).
//!
//! The same Rust verifier as the CLI; nothing here re-implements a check.

use js_sys::{Error, JSON, Reflect};
use nucleus_envelope::{BundleError, TrustAnchor, verify_bundle};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const REPORT_TYPES: &str = r#"
/** The bundle format that was verified. */
export type BundleFormat = "v1" | "v3";

/** One verified edge (v3: every field is chained into the head the issuer sealed). */
export interface ReportedEdge {
  index: number;
  child: string;
  parents: string[];
  kind: string;
  /** SHA-256 of the content (hex), when the edge carries one. */
  content_hash_hex?: string;
  /** The timestamp as signed. */
  ts: string;
  /** Attributes (v3 only; absent when empty). */
  attrs?: Record<string, string>;
  /** Issuer key id that recorded the edge; its key came from the trust anchor. */
  kid: string;
  edge_hash_hex: string;
}

/** The log checkpoint the edges are included in. */
export interface ReportedLog {
  origin?: string;
  size: number;
  root_hex: string;
  /** Leaf index of each edge, in edge order. */
  leaf_indices: number[];
}

/** A trusted witness whose cosignature verified (it counted toward the quorum). */
export interface ReportedCosigner {
  /** The key name on the cosignature line. */
  name?: string;
  /** The witness's name in the anchor's policy. */
  policy_name?: string;
  key_hex: string;
  /** The signed cosignature timestamp (Unix seconds). */
  timestamp?: number;
}

/** What verifyBundle returns: everything in it was verified. */
export interface VerificationReport {
  format: BundleFormat;
  session: string;
  trust_domain?: string;
  edge_count: number;
  edges: ReportedEdge[];
  head_hash_hex: string;
  kids: string[];
  log?: ReportedLog;
  cosigners: ReportedCosigner[];
  cosignature_threshold: number;
  /** Whether the anchor's quorum policy holds (absent when the anchor has no policy). */
  quorum_satisfied?: boolean;
  /** Whether the bundle carries a payload covered by a verified signature (v3: the seal). */
  payload_bound: boolean;
  payload_sha256_hex?: string;
}

/** The Error verifyBundle throws: `kind` is the stable nucleus_envelope::BundleError kind. */
export interface BundleVerificationError extends Error {
  name: "BundleError";
  kind: string;
}
"#;

/// Verifies `bundle_text` (a v3 or v1 bundle, JSON) against `trust_anchor_text` (the
/// out-of-band trust anchor, JSON). Returns the report; throws a `BundleError`-named `Error`
/// with a `kind` property on any failure.
#[wasm_bindgen(js_name = verifyBundle, unchecked_return_type = "VerificationReport")]
pub fn verify_bundle_js(
    #[wasm_bindgen(js_name = bundleText)] bundle_text: &str,
    #[wasm_bindgen(js_name = trustAnchorText)] trust_anchor_text: &str,
) -> Result<JsValue, JsValue> {
    // Parsed only: verify_bundle validates the anchor (decoding its keys once).
    let anchor: TrustAnchor = nucleus_json::from_slice(trust_anchor_text.as_bytes())
        .map_err(|e| to_js_error(BundleError::InvalidTrustAnchor(e.to_string())))?;
    let report = verify_bundle(bundle_text.as_bytes(), &anchor).map_err(to_js_error)?;
    // The report is plain data (strings, numbers, arrays, maps): JSON is its exact JS shape
    // and keeps serde out of the module.
    JSON::parse(&report.to_json().to_compact_string())
}

fn to_js_error(err: BundleError) -> JsValue {
    let kind = err.kind();
    let js = Error::new(&format!("{kind}: {err}"));
    js.set_name("BundleError");
    // Setting a property on a fresh Error object cannot fail.
    let _ = Reflect::set(&js, &JsValue::from_str("kind"), &JsValue::from_str(kind));
    js.into()
}
