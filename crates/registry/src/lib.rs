//! `nucleus-trust-registry`: a PR-rooted, GitHub-OIDC-attested, witness-cosigned registry
//! of the SPIFFE trust domains you federate with.
//!
//! * [`metadata`], [`binding`], [`registry`]: the `domains/<td>/{metadata.toml,bundle.json}`
//!   layout, validated, in canonical form;
//! * [`github_oidc`], [`diff`], [`gate`]: `verify-pr`, the fail-closed enrollment gate;
//! * [`log`]: the append-only log kept in the repository (`log-append`, `verify-log`);
//! * [`compile`]: the deterministic federation set, with only cosigned bindings.
//!
//! The registry is not a CA: it never holds a domain's private key, only the public JWK
//! Set each domain publishes. OIDC proves control of a GitHub organisation (pinned by its
//! numeric ID), not ownership of the trust-domain name.

pub mod binding;
pub mod compile;
pub mod diff;
pub mod gate;
pub mod github_oidc;
pub mod log;
pub mod metadata;
pub mod registry;
