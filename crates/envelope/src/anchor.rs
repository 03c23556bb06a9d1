//! The out-of-band trust anchor: the only keys and rules a verification trusts.
//!
//! Strict by construction: unknown members are errors, `trust_jwks` is required (there is no
//! self-check mode), and a threshold no trusted set can meet is refused up front.

use std::collections::BTreeSet;

use ed25519_dalek::VerifyingKey;
use nucleus_json::json_object;
use nucleus_lineage::policy::{Policy, PolicyKey};
use nucleus_lineage::quoted::Quoted;
use nucleus_lineage::vkey::Vkey;
use serde::Serialize;

use crate::error::BundleError;
use crate::jwk::Jwks;
use crate::report::ReportedCosigner;

/// The trust anchor, as JSON (`TrustAnchor::from_json`) or built in code.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TrustAnchor {
    /// Issuer keys obtained out of band; the only keys edge kids, v3 seals and v1 edge
    /// signatures and payload bindings are checked against. Required.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trust_jwks: Option<Jwks>,
    /// Raw 32-byte Ed25519 witness keys (64 hex) that count towards `cosignature_threshold`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub trusted_witnesses_hex: Vec<String>,
    /// Minimum number of distinct trusted witnesses (hex keys and policy witnesses) that
    /// must have cosigned the checkpoint.
    pub cosignature_threshold: usize,
    /// v3: `true` requires a payload (a v3 payload is always covered by the seal); absent
    /// or `false`: a payload is optional and, when present, sealed. v1: `true` requires a
    /// verified binding; absent keeps upstream's meaning (not required) and the report says
    /// whether a binding was verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub require_payload_binding: Option<bool>,
    /// A Sigsum / C2SP tlog-policy text. Its `log` lines pin log keys; its quorum must be
    /// satisfied by verified cosignatures; its witnesses also count towards the threshold.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// The log origin the checkpoint must name (required for v3; the C2SP origin of v1
    /// `c2sp` cosignatures).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// The pinned log key (64 hex): signs v1 tree heads and v3 checkpoints.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trust_witness_pubkey_hex: Option<String>,
    /// Accept bundles without edges (v1 compatibility). Unlike upstream, every other gate
    /// still runs.
    pub allow_empty: bool,
}

json_object!(
    TrustAnchor {
        trust_jwks: optional,
        trusted_witnesses_hex: or_default,
        cosignature_threshold: or_default,
        require_payload_binding: optional,
        policy: optional,
        origin: optional,
        trust_witness_pubkey_hex: optional,
        allow_empty: or_default,
    } deny_unknown
);

/// A witness key the anchor trusts, with its policy name when the policy declares it.
#[derive(Debug, Clone)]
pub(crate) struct TrustedWitness {
    pub(crate) key: VerifyingKey,
    pub(crate) policy_name: Option<String>,
}

/// The anchor after validation: decoded keys and the parsed policy.
#[derive(Debug, Clone)]
pub(crate) struct ResolvedAnchor {
    pub(crate) jwks: Jwks,
    pub(crate) witnesses: Vec<TrustedWitness>,
    pub(crate) threshold: usize,
    pub(crate) require_payload_binding: Option<bool>,
    pub(crate) policy: Option<Policy>,
    pub(crate) origin: Option<String>,
    pub(crate) log_keys: Vec<VerifyingKey>,
    pub(crate) pinned_log_key: Option<VerifyingKey>,
    pub(crate) allow_empty: bool,
}

fn invalid(msg: impl Into<String>) -> BundleError {
    BundleError::InvalidTrustAnchor(msg.into())
}

fn parse_key_hex(field: &str, s: &str) -> Result<VerifyingKey, BundleError> {
    if s.len() != 64 {
        return Err(invalid(format!(
            "{field}: expected 64 hex digits (a 32-byte Ed25519 key), got {} characters",
            s.len()
        )));
    }
    // Our own message: hex's error Display would pull `char`'s Debug into the wasm module.
    let bytes = hex::decode(s).map_err(|_| invalid(format!("{field}: not hex digits")))?;
    let bytes: [u8; 32] = bytes.as_slice().try_into().map_err(|_| invalid(field))?;
    let key = VerifyingKey::from_bytes(&bytes)
        .map_err(|_| invalid(format!("{field}: not an Ed25519 public key")))?;
    if key.is_weak() {
        return Err(invalid(format!("{field}: small-order (weak) key")));
    }
    Ok(key)
}

/// C2SP origin rules (as the v1 verifier applies them): 1–512 bytes of printable ASCII,
/// no `+`.
pub(crate) fn validate_origin(origin: &str) -> Result<(), String> {
    if origin.is_empty() || origin.len() > 512 {
        return Err("origin must be 1 to 512 bytes".into());
    }
    if origin
        .bytes()
        .any(|b| !(0x20..0x7f).contains(&b) || b == b'+')
    {
        return Err("origin must be printable ASCII without '+'".into());
    }
    Ok(())
}

fn policy_key(key: &PolicyKey) -> Option<VerifyingKey> {
    match key {
        PolicyKey::Hex(bytes) => VerifyingKey::from_bytes(bytes).ok(),
        PolicyKey::Vkey(vkey) => vkey.ed25519_key().ok(),
    }
}

impl TrustAnchor {
    /// Parses and validates a trust anchor. Unknown members, a missing `trust_jwks`, bad keys,
    /// a bad policy or an unsatisfiable threshold are errors.
    pub fn from_json(text: &str) -> Result<Self, BundleError> {
        let anchor: TrustAnchor =
            nucleus_json::from_slice(text.as_bytes()).map_err(|e| invalid(e.to_string()))?;
        anchor.resolve()?;
        Ok(anchor)
    }

    /// The anchor as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    pub(crate) fn resolve(&self) -> Result<ResolvedAnchor, BundleError> {
        let jwks = self.trust_jwks.clone().ok_or_else(|| {
            invalid(
                "trust_jwks is required: issuer keys must come out of band \
                 (the bundle's embedded keys are never trusted)",
            )
        })?;
        let mut kids = BTreeSet::new();
        for key in &jwks.keys {
            if !kids.insert(key.kid.as_str()) {
                return Err(invalid(format!(
                    "trust_jwks: duplicate kid {}",
                    Quoted(&key.kid)
                )));
            }
        }
        let policy = match &self.policy {
            Some(text) => Some(Policy::parse(text).map_err(|e| invalid(format!("policy: {e}")))?),
            None => None,
        };
        if let Some(origin) = &self.origin {
            validate_origin(origin).map_err(|e| invalid(format!("origin: {e}")))?;
        }

        let mut witnesses: Vec<TrustedWitness> = Vec::new();
        for (i, hex_key) in self.trusted_witnesses_hex.iter().enumerate() {
            let key = parse_key_hex(&format!("trusted_witnesses_hex[{i}]"), hex_key)?;
            if !witnesses.iter().any(|w| w.key == key) {
                witnesses.push(TrustedWitness {
                    key,
                    policy_name: None,
                });
            }
        }
        let pinned_log_key = match &self.trust_witness_pubkey_hex {
            Some(hex_key) => Some(parse_key_hex("trust_witness_pubkey_hex", hex_key)?),
            None => None,
        };
        let mut log_keys: Vec<VerifyingKey> = pinned_log_key.into_iter().collect();
        if let Some(policy) = &policy {
            for w in &policy.witnesses {
                // A key already trusted by hex is named, not decoded a second time.
                if let Some(t) = witnesses
                    .iter_mut()
                    .find(|t| t.key.as_bytes().as_slice() == w.key.public_key())
                {
                    t.policy_name = Some(w.name.clone());
                    continue;
                }
                let Some(key) = policy_key(&w.key) else {
                    continue;
                };
                match witnesses.iter_mut().find(|t| t.key == key) {
                    Some(t) => t.policy_name = Some(w.name.clone()),
                    None => witnesses.push(TrustedWitness {
                        key,
                        policy_name: Some(w.name.clone()),
                    }),
                }
            }
            for log in &policy.logs {
                if let PolicyKey::Hex(bytes) = &log.key {
                    let Ok(key) = VerifyingKey::from_bytes(bytes) else {
                        continue;
                    };
                    if !log_keys.contains(&key) {
                        log_keys.push(key);
                    }
                }
            }
        }
        if self.cosignature_threshold > witnesses.len() {
            return Err(invalid(format!(
                "cosignature_threshold {} exceeds the {} distinct trusted witness keys; \
                 it could never be met",
                self.cosignature_threshold,
                witnesses.len()
            )));
        }
        Ok(ResolvedAnchor {
            jwks,
            witnesses,
            threshold: self.cosignature_threshold,
            require_payload_binding: self.require_payload_binding,
            policy,
            origin: self.origin.clone(),
            log_keys,
            pinned_log_key,
            allow_empty: self.allow_empty,
        })
    }
}

impl ResolvedAnchor {
    /// The pinned log keys as signed-note verifier keys for a checkpoint of `origin`: the
    /// anchor's `trust_witness_pubkey_hex` named `origin`, plus the policy's log keys that
    /// apply to `origin`.
    pub(crate) fn log_vkeys(&self, origin: &str) -> Result<Vec<Vkey>, BundleError> {
        let mut out = Vec::new();
        if let Some(key) = &self.pinned_log_key {
            out.push(Vkey::ed25519(origin, key).map_err(|e| {
                BundleError::BadCheckpoint(format!(
                    "origin {} is not a key name: {e}",
                    Quoted(origin)
                ))
            })?);
        }
        if let Some(policy) = &self.policy {
            out.extend(policy.log_vkeys(origin));
        }
        Ok(out)
    }

    /// The anchor's cosignature rules over the witnesses whose cosignatures verified: at
    /// least `cosignature_threshold` of them, and the policy's quorum when there is a policy.
    /// Returns whether a quorum was checked (`Some(true)`) or there is no policy (`None`).
    pub(crate) fn enforce_cosigners(
        &self,
        cosigners: &[ReportedCosigner],
    ) -> Result<Option<bool>, BundleError> {
        if cosigners.len() < self.threshold {
            return Err(BundleError::InsufficientCosignatures {
                verified: cosigners.len(),
                required: self.threshold,
            });
        }
        let Some(policy) = &self.policy else {
            return Ok(None);
        };
        // Inserted one by one, not collected (see the v3 verifier's kid set).
        let mut counted = BTreeSet::new();
        for name in cosigners.iter().filter_map(|c| c.policy_name.clone()) {
            counted.insert(name);
        }
        if !policy.is_satisfied(&counted) {
            // Named in the policy's order, so the message reads like the policy file.
            return Err(BundleError::QuorumNotSatisfied {
                counted: policy
                    .witnesses
                    .iter()
                    .filter(|w| counted.contains(&w.name))
                    .map(|w| w.name.clone())
                    .collect(),
            });
        }
        Ok(Some(true))
    }
}
