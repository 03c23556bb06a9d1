//! SPIFFE federation, inbound side: consume foreign trust domains' bundles and validate
//! their JWT-SVIDs.
//!
//! * [`bundle`]: SPIFFE bundle documents (JWK Set + `spiffe_sequence` +
//!   `spiffe_refresh_hint`), strict parsing with per-entry ignore reasons;
//! * [`rollback`]: the anti-rollback state machine (sequence monotonicity as a MUST,
//!   last-good keys kept on any refusal, explicit reset only);
//! * [`jwt_svid`]: JWT-SVID validation with the algorithm allowlist;
//! * [`config`]: `[[federates_with]]` rows;
//! * [`fetch`]: the `https_web` bundle fetch (rustls/ring, Web PKI or a custom CA, no
//!   redirects, body cap, timeouts) behind the [`fetch::BundleSource`] trait;
//! * [`refresh`]: one fetch–parse–ingest cycle and the polling interval;
//! * [`store`]: the per-trust-domain state JWT validation reads.
//!
//! Scope: `https_web` only (no `https_spiffe`), JWT-SVID only (no X.509-SVID path), no
//! ES512 (jsonwebtoken 12 cannot verify P-521; refused fail-closed).

pub mod bundle;
pub mod config;
pub mod fetch;
pub mod json;
pub mod jwt_svid;
pub mod refresh;
pub mod rollback;
pub mod spiffe_id;
pub mod store;

pub use bundle::{BundleError, JwtKey, JwtKeySet, SpiffeBundle};
pub use config::{FederatesWith, FederationConfig, Profile};
pub use fetch::{BundleSource, FetchError, FetchOptions, HttpsWebFetcher, TrustRoots};
pub use jwt_svid::{JwtSvidError, JwtSvidValidator, ValidatedJwtSvid};
pub use refresh::{RefreshBounds, RefreshError, refresh_once};
pub use rollback::{Ingested, Refusal, RollbackGuard, RollbackPolicy};
pub use spiffe_id::{SpiffeId, TrustDomain};
pub use store::{FederationStore, JwtAuthorities};
