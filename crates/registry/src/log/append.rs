//! Deciding what `log-append` adds: one entry per domain whose binding is new or changed
//! since its last entry, each admitted by an attestation that vouched for exactly that
//! binding (by digest) and whose verified owner ID is the binding's.

use std::collections::BTreeMap;

use crate::binding::Binding;
use crate::github_oidc::Attestation;

use super::entry::LogEntry;

/// Why the new entries cannot be formed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// A new or changed binding has no attestation covering its exact content.
    #[error(
        "domains/{domain} is new or changed (binding sha256 {digest}) but no attestation \
         vouches for that exact binding; run verify-pr on its PR and pass --attestation"
    )]
    Unattested {
        /// The domain.
        domain: String,
        /// Its binding digest.
        digest: String,
    },
    /// The attestation's verified owner is not the binding's owner.
    #[error(
        "domains/{domain}: the attestation was verified for owner_id {attested}, the \
         binding pins {pinned}"
    )]
    OwnerMismatch {
        /// The domain.
        domain: String,
        /// The attested owner.
        attested: u64,
        /// The pinned owner.
        pinned: u64,
    },
    /// The domain's owner differs from its last logged owner.
    #[error(
        "domains/{domain}: owner_id changes from {logged} (logged) to {current}; ownership \
         transfers are not appended"
    )]
    OwnerChange {
        /// The domain.
        domain: String,
        /// The last logged owner.
        logged: u64,
        /// The owner now on disk.
        current: u64,
    },
}

/// The last entry of each trust domain.
pub fn latest_by_domain(entries: &[LogEntry]) -> BTreeMap<&str, &LogEntry> {
    entries
        .iter()
        .map(|e| (e.binding.metadata.trust_domain.as_str(), e))
        .collect()
}

/// The entries to append, in trust-domain order.
pub fn plan(
    registry: &BTreeMap<String, Binding>,
    logged: &[LogEntry],
    attestations: &[Attestation],
) -> Result<Vec<LogEntry>, PlanError> {
    let latest = latest_by_domain(logged);
    let mut out = Vec::new();
    for (domain, binding) in registry {
        if let Some(last) = latest.get(domain.as_str()) {
            if last.binding == *binding {
                continue;
            }
            if last.binding.metadata.owner_id != binding.metadata.owner_id {
                return Err(PlanError::OwnerChange {
                    domain: domain.clone(),
                    logged: last.binding.metadata.owner_id,
                    current: binding.metadata.owner_id,
                });
            }
        }
        let digest = binding.digest_hex();
        let attestation = attestations
            .iter()
            .find(|a| a.bindings.get(domain) == Some(&digest))
            .ok_or_else(|| PlanError::Unattested {
                domain: domain.clone(),
                digest: digest.clone(),
            })?;
        if attestation.token.repository_owner_id != binding.metadata.owner_id {
            return Err(PlanError::OwnerMismatch {
                domain: domain.clone(),
                attested: attestation.token.repository_owner_id,
                pinned: binding.metadata.owner_id,
            });
        }
        out.push(LogEntry {
            binding: binding.clone(),
            attestation: attestation.clone(),
        });
    }
    Ok(out)
}
