//! The set of trust domains we federate with and the bundle accepted for each.
//!
//! Bundles of different trust domains are never merged: each domain has its own
//! [`RollbackGuard`], and JWT-SVID validation looks keys up only in the guard of the
//! token's own trust domain.

use std::collections::BTreeMap;

use crate::bundle::{JwtKeySet, SpiffeBundle};
use crate::config::FederationConfig;
use crate::rollback::{Ingested, Refusal, RollbackGuard, RollbackPolicy};
use crate::spiffe_id::TrustDomain;

/// Why keys for a trust domain are not available.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    /// We do not federate with this trust domain.
    #[error("trust domain {0} is not federated with")]
    NotFederated(TrustDomain),
    /// We federate with it but no bundle has been accepted yet.
    #[error("no bundle has been accepted yet for trust domain {0}")]
    NoBundleYet(TrustDomain),
}

/// Why [`FederationStore::ingest`] did not accept a bundle.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IngestError {
    /// The trust domain is not configured: a bundle for it is never stored.
    #[error("trust domain {0} is not federated with; its bundle is not stored")]
    NotFederated(TrustDomain),
    /// The anti-rollback rules refused the bundle.
    #[error(transparent)]
    Refused(#[from] Refusal),
}

/// Where JWT-SVID validation finds a trust domain's keys.
pub trait JwtAuthorities {
    /// The usable JWT-SVID keys of exactly this trust domain.
    fn jwt_keys(&self, trust_domain: &TrustDomain) -> Result<&JwtKeySet, LookupError>;
}

/// Accepted bundles of every federated trust domain.
#[derive(Debug, Clone, Default)]
pub struct FederationStore {
    domains: BTreeMap<TrustDomain, RollbackGuard>,
}

impl FederationStore {
    /// An empty store: federates with nobody.
    pub fn new() -> Self {
        Self::default()
    }

    /// A store federating with every row of `config`, no bundle accepted yet.
    pub fn from_config(config: &FederationConfig) -> Self {
        let mut store = Self::new();
        for row in config.federates_with() {
            store.federate(row.trust_domain.clone(), row.rollback_policy());
        }
        store
    }

    /// Starts federating with `trust_domain`; keeps its state if already federated (only the
    /// policy is updated).
    pub fn federate(&mut self, trust_domain: TrustDomain, policy: RollbackPolicy) {
        self.domains
            .entry(trust_domain)
            .and_modify(|g| g.set_policy(policy))
            .or_insert_with(|| RollbackGuard::new(policy));
    }

    /// Installs a guard restored from persisted state.
    pub fn restore(&mut self, trust_domain: TrustDomain, guard: RollbackGuard) {
        self.domains.insert(trust_domain, guard);
    }

    /// Stops federating: the stored bundle is dropped and tokens of the domain are refused.
    pub fn remove(&mut self, trust_domain: &TrustDomain) -> Option<RollbackGuard> {
        self.domains.remove(trust_domain)
    }

    /// The anti-rollback state of a domain.
    pub fn guard(&self, trust_domain: &TrustDomain) -> Option<&RollbackGuard> {
        self.domains.get(trust_domain)
    }

    /// Mutable anti-rollback state of a domain (e.g. for an explicit reset).
    pub fn guard_mut(&mut self, trust_domain: &TrustDomain) -> Option<&mut RollbackGuard> {
        self.domains.get_mut(trust_domain)
    }

    /// The federated trust domains.
    pub fn trust_domains(&self) -> impl Iterator<Item = &TrustDomain> {
        self.domains.keys()
    }

    /// Offers a bundle fetched for `trust_domain`.
    pub fn ingest(
        &mut self,
        trust_domain: &TrustDomain,
        bundle: SpiffeBundle,
    ) -> Result<Ingested, IngestError> {
        let guard = self
            .domains
            .get_mut(trust_domain)
            .ok_or_else(|| IngestError::NotFederated(trust_domain.clone()))?;
        Ok(guard.ingest(bundle)?)
    }
}

impl JwtAuthorities for FederationStore {
    fn jwt_keys(&self, trust_domain: &TrustDomain) -> Result<&JwtKeySet, LookupError> {
        let guard = self
            .domains
            .get(trust_domain)
            .ok_or_else(|| LookupError::NotFederated(trust_domain.clone()))?;
        guard
            .current()
            .map(SpiffeBundle::jwt_keys)
            .ok_or_else(|| LookupError::NoBundleYet(trust_domain.clone()))
    }
}
