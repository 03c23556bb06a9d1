//! `verify-pr`: the fail-closed enrollment gate.
//!
//! In order:
//! 1. the changed paths touch only `domains/<td>/{bundle.json,metadata.toml}` and at least
//!    one domain ([`crate::diff`]);
//! 2. the OIDC token verifies and is bound to this PR's head repository, ref, commit and
//!    event ([`crate::github_oidc`]);
//! 3. every touched domain still exists in the PR's head (removals are a maintainer
//!    action, not an enrollment) and its metadata and bundle validate;
//! 4. a domain that already exists in the base keeps its `owner_id` (an ownership change
//!    is never an ordinary PR), and
//! 5. the token's `repository_owner_id` equals every touched domain's `owner_id`: one PR,
//!    one owning organisation, touching only its own domains.
//!
//! The base registry must be the PR's base commit, checked out separately from the head,
//! so the ownership comparison never reads the PR's own files.

use std::collections::BTreeMap;
use std::path::Path;

use crate::diff::{DiffError, changed_domains};
use crate::github_oidc::{Attestation, Expected, GithubJwks, OidcError, verify_token};
use crate::registry::{LayoutError, domain_exists, load_domain};

/// Why an enrollment PR is refused.
#[derive(Debug, thiserror::Error)]
pub enum GateError {
    /// The changed paths are out of scope or empty.
    #[error(transparent)]
    Diff(#[from] DiffError),
    /// The token does not prove control by the owning organisation.
    #[error("proof of control: {0}")]
    ProofOfControl(#[from] OidcError),
    /// A touched domain does not load.
    #[error(transparent)]
    Layout(#[from] LayoutError),
    /// A touched domain was deleted.
    #[error("domains/{0} is removed by this PR; removals are not enrollments")]
    Removal(String),
    /// A touched domain's owner changed relative to the base.
    #[error(
        "domains/{domain}: owner_id changes from {base} to {head}; ownership transfers are \
         not accepted through an enrollment PR"
    )]
    OwnerChange {
        /// The domain.
        domain: String,
        /// The base owner.
        base: u64,
        /// The PR's owner.
        head: u64,
    },
}

/// The PR under review.
#[derive(Debug)]
pub struct PullRequest<'a> {
    /// The registry at the PR's base commit.
    pub base: &'a Path,
    /// The registry at the PR's head commit.
    pub head: &'a Path,
    /// Changed paths, relative to the repository root.
    pub changed_paths: &'a [String],
    /// The registry folder inside the repository (`""` for the root).
    pub prefix: &'a str,
}

/// Runs the gate at time `now`; on success returns the attestation to record.
pub fn verify_pr(
    pr: &PullRequest<'_>,
    token: &str,
    jwks: &GithubJwks,
    expected: &Expected,
    now: u64,
) -> Result<Attestation, GateError> {
    let domains = changed_domains(pr.changed_paths, pr.prefix)?;
    let verified = verify_token(token, jwks, expected, now)?;
    let mut bindings = BTreeMap::new();
    for domain in domains {
        if !domain_exists(pr.head, &domain) {
            return Err(GateError::Removal(domain));
        }
        let head = load_domain(pr.head, &domain)?;
        if domain_exists(pr.base, &domain) {
            let base = load_domain(pr.base, &domain)?;
            if base.metadata.owner_id != head.metadata.owner_id {
                return Err(GateError::OwnerChange {
                    domain,
                    base: base.metadata.owner_id,
                    head: head.metadata.owner_id,
                });
            }
        }
        verified.require_owner(&domain, head.metadata.owner_id)?;
        bindings.insert(domain, head.digest_hex());
    }
    Ok(Attestation {
        token: verified.facts,
        verified_at: now,
        bindings,
    })
}
