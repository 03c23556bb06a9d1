//! GitHub Actions OIDC tokens as proof that an enrolling PR was prepared by a workflow of
//! the organisation that owns a domain.
//!
//! The token is an RS256 JWT. Checks, in order (fail closed):
//! 1. three base64url segments; the header is JSON without duplicate members; `alg` is
//!    exactly `RS256` (checked before any key is touched); `kid` is present; `typ`, if
//!    present, is `JWT`; no header members beyond `alg`, `kid`, `typ`, `x5t` (so no `jku`,
//!    `jwk`, `x5u` or `crit` can point elsewhere);
//! 2. the `kid` names an RSA key of the supplied JWKS, and the signature verifies;
//! 3. the claims are JSON without duplicate members; `iss` equals the pinned issuer
//!    exactly; `aud` is exactly the expected audience (a string, or an array holding only
//!    it); `exp` and `iat` are required and `nbf` honoured, with [`LEEWAY_SECS`] of skew;
//! 4. `repository`, `ref`, `sha` and `event_name` equal what the caller expects (and
//!    `repository_id` when given), so a token minted by another workflow run, another
//!    repository or for another commit proves nothing here;
//! 5. [`VerifiedToken::require_owner`] compares `repository_owner_id` (GitHub sends
//!    numeric IDs as strings; both forms are parsed strictly) with the pinned numeric
//!    owner ID. Names (`repository_owner`, `sub`) are never compared: they can be
//!    renamed and re-registered.
//!
//! Tokens live about five minutes, so `verify-pr` checks them when the PR is gated and
//! records the verified facts as an [`Attestation`]; expiry is never switched off.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey};
use nucleus_federation::json::{self, Json};
use serde::{Deserialize, Serialize};

/// GitHub Actions' OIDC issuer on github.com.
pub const GITHUB_ACTIONS_ISSUER: &str = "https://token.actions.githubusercontent.com";
/// Clock skew allowed on `exp`, `nbf` and `iat`, in seconds.
pub const LEEWAY_SECS: u64 = 60;

/// Why a token (or a JWKS) is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OidcError {
    /// The JWKS file is not a JWK Set, or repeats a kid.
    #[error("GitHub JWKS: {0}")]
    Jwks(String),
    /// Not a compact JWS of three base64url segments with JSON header and claims.
    #[error("OIDC token is malformed: {0}")]
    Malformed(String),
    /// `alg` is not RS256.
    #[error("OIDC token alg {0:?} is not RS256 (GitHub signs with RS256 only)")]
    Algorithm(String),
    /// A header member that could redirect key lookup or change processing.
    #[error("OIDC token header member {0:?} is not allowed (expected alg, kid, typ, x5t)")]
    Header(String),
    /// `kid` is missing or names no RSA key of the JWKS.
    #[error("OIDC token kid {0:?} is not in the GitHub JWKS")]
    UnknownKid(String),
    /// The signature does not verify.
    #[error("OIDC token signature does not verify against JWKS key {0:?}")]
    BadSignature(String),
    /// A required claim is missing or has the wrong type.
    #[error("OIDC token claim {0:?} is missing or not of the expected type")]
    Claim(&'static str),
    /// `iss` is not the pinned issuer.
    #[error("OIDC token issuer {found:?} is not the pinned issuer {expected:?}")]
    Issuer {
        /// Pinned.
        expected: String,
        /// Found.
        found: String,
    },
    /// `aud` is not the registry's audience.
    #[error("OIDC token audience {found:?} is not the expected audience {expected:?}")]
    Audience {
        /// Expected.
        expected: String,
        /// Found.
        found: String,
    },
    /// Expired.
    #[error("OIDC token expired at {exp} (now {now}, leeway {LEEWAY_SECS} s)")]
    Expired {
        /// `exp`.
        exp: u64,
        /// The verification time.
        now: u64,
    },
    /// `nbf` or `iat` is in the future.
    #[error("OIDC token is not valid yet ({claim} = {at}, now {now})")]
    NotYetValid {
        /// `nbf` or `iat`.
        claim: &'static str,
        /// Its value.
        at: u64,
        /// The verification time.
        now: u64,
    },
    /// A bound claim (repository, ref, sha, event) differs from what this PR expects.
    #[error("OIDC token claim {claim} is {found:?}, expected {expected:?}")]
    Binding {
        /// The claim.
        claim: &'static str,
        /// Expected.
        expected: String,
        /// Found.
        found: String,
    },
    /// `repository_owner_id` is not the pinned owner ID.
    #[error(
        "OIDC token repository_owner_id {found} is not the pinned owner_id {expected} of \
         {trust_domain} (owner names are never trusted)"
    )]
    Owner {
        /// The domain whose pin was compared.
        trust_domain: String,
        /// Pinned.
        expected: u64,
        /// Found.
        found: u64,
    },
}

/// The RSA keys of a JWKS, by kid.
#[derive(Clone)]
pub struct GithubJwks {
    keys: BTreeMap<String, DecodingKey>,
}

impl std::fmt::Debug for GithubJwks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GithubJwks")
            .field("kids", &self.keys.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl GithubJwks {
    /// Parses a JWK Set; non-RSA keys are skipped, a repeated kid is refused (a token
    /// naming it would be ambiguous).
    pub fn parse(bytes: &[u8]) -> Result<GithubJwks, OidcError> {
        json::parse(bytes).map_err(|e| OidcError::Jwks(e.to_string()))?;
        let set: JwkSet =
            serde_json::from_slice(bytes).map_err(|e| OidcError::Jwks(e.to_string()))?;
        let mut keys = BTreeMap::new();
        for jwk in &set.keys {
            let AlgorithmParameters::RSA(rsa) = &jwk.algorithm else {
                continue;
            };
            let kid = jwk
                .common
                .key_id
                .clone()
                .ok_or_else(|| OidcError::Jwks("an RSA key has no kid".into()))?;
            let key = DecodingKey::from_rsa_components(&rsa.n, &rsa.e)
                .map_err(|e| OidcError::Jwks(format!("key {kid:?}: {e}")))?;
            if keys.insert(kid.clone(), key).is_some() {
                return Err(OidcError::Jwks(format!("kid {kid:?} appears twice")));
            }
        }
        Ok(GithubJwks { keys })
    }
}

/// What the token must be bound to, from the gate's own context (never from the token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// The pinned issuer.
    pub issuer: String,
    /// The registry's audience.
    pub audience: String,
    /// `owner/name` of the repository whose workflow minted the token (the PR's head
    /// repository).
    pub repository: String,
    /// Its numeric ID, when known.
    pub repository_id: Option<u64>,
    /// The git ref the workflow ran on (`refs/heads/<branch>`).
    pub git_ref: String,
    /// The commit it ran on: the PR's head commit.
    pub sha: String,
    /// Accepted `event_name` values.
    pub events: Vec<String>,
}

/// The facts a verified token established, as recorded in the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenFacts {
    /// `iss`.
    pub issuer: String,
    /// `aud`.
    pub audience: String,
    /// `repository`.
    pub repository: String,
    /// `repository_id`.
    pub repository_id: u64,
    /// `repository_owner` (informational).
    pub repository_owner: String,
    /// `repository_owner_id`.
    pub repository_owner_id: u64,
    /// `ref`.
    #[serde(rename = "ref")]
    pub git_ref: String,
    /// `sha`.
    pub sha: String,
    /// `event_name`.
    pub event_name: String,
    /// `job_workflow_ref`: the workflow file that actually ran.
    pub job_workflow_ref: String,
    /// `run_id`.
    pub run_id: String,
    /// `jti`.
    pub jti: String,
    /// The JWKS key that verified the signature.
    pub kid: String,
    /// `iat`.
    pub issued_at: u64,
    /// `exp`.
    pub expires_at: u64,
}

/// A token whose signature, issuer, audience, time and bindings verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    /// What it established.
    pub facts: TokenFacts,
}

impl VerifiedToken {
    /// Requires `repository_owner_id` to equal the owner ID pinned for `trust_domain`.
    pub fn require_owner(&self, trust_domain: &str, owner_id: u64) -> Result<(), OidcError> {
        if self.facts.repository_owner_id == owner_id {
            Ok(())
        } else {
            Err(OidcError::Owner {
                trust_domain: trust_domain.to_owned(),
                expected: owner_id,
                found: self.facts.repository_owner_id,
            })
        }
    }
}

/// One verified attestation: the token's facts and the exact bindings the PR carried.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attestation {
    /// The token's facts.
    pub token: TokenFacts,
    /// When the gate verified the token (seconds since the epoch).
    pub verified_at: u64,
    /// Each domain the PR changed, with the SHA-256 of its binding's canonical bytes.
    pub bindings: BTreeMap<String, String>,
}

fn segment(s: &str, what: &str) -> Result<Json, OidcError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|e| OidcError::Malformed(format!("{what}: not base64url: {e}")))?;
    let json = json::parse(&bytes).map_err(|e| OidcError::Malformed(format!("{what}: {e}")))?;
    match json {
        Json::Object(_) => Ok(json),
        other => Err(OidcError::Malformed(format!(
            "{what} is {}, expected an object",
            other.kind()
        ))),
    }
}

fn string_claim(claims: &Json, name: &'static str) -> Result<String, OidcError> {
    match claims.get(name) {
        Some(Json::String(s)) => Ok(s.to_string()),
        _ => Err(OidcError::Claim(name)),
    }
}

fn time_claim(claims: &Json, name: &'static str) -> Result<Option<u64>, OidcError> {
    match claims.get(name) {
        None => Ok(None),
        Some(Json::Unsigned(n)) => Ok(Some(*n)),
        Some(_) => Err(OidcError::Claim(name)),
    }
}

/// A numeric ID sent as a JSON string (GitHub's form) or number; strict decimal.
fn id_claim(claims: &Json, name: &'static str) -> Result<u64, OidcError> {
    match claims.get(name) {
        Some(Json::Unsigned(n)) => Ok(*n),
        Some(Json::String(s)) => {
            nucleus_lineage::checkpoint::parse_canonical_u64(s).ok_or(OidcError::Claim(name))
        }
        _ => Err(OidcError::Claim(name)),
    }
}

fn bind(claim: &'static str, expected: &str, found: &str) -> Result<(), OidcError> {
    if expected == found {
        Ok(())
    } else {
        Err(OidcError::Binding {
            claim,
            expected: expected.to_owned(),
            found: found.to_owned(),
        })
    }
}

/// Verifies `token` at time `now` (seconds since the epoch); see the module docs.
pub fn verify_token(
    token: &str,
    jwks: &GithubJwks,
    expected: &Expected,
    now: u64,
) -> Result<VerifiedToken, OidcError> {
    let token = token.trim();
    let parts: Vec<&str> = token.split('.').collect();
    let [header_b64, claims_b64, signature] = parts.as_slice() else {
        return Err(OidcError::Malformed(format!(
            "{} segments, expected 3",
            parts.len()
        )));
    };
    let header = segment(header_b64, "header")?;
    match header.get("alg") {
        Some(Json::String(alg)) if alg == "RS256" => {}
        Some(Json::String(alg)) => return Err(OidcError::Algorithm(alg.to_string())),
        _ => return Err(OidcError::Algorithm(String::new())),
    }
    if let Json::Object(members) = &header
        && let Some((name, _)) = members
            .iter()
            .find(|(k, _)| !matches!(k.as_ref(), "alg" | "kid" | "typ" | "x5t"))
    {
        return Err(OidcError::Header(name.to_string()));
    }
    match header.get("typ") {
        None => {}
        Some(Json::String(t)) if t == "JWT" => {}
        Some(_) => return Err(OidcError::Header("typ".into())),
    }
    let kid = match header.get("kid") {
        Some(Json::String(k)) if !k.is_empty() => k.to_string(),
        _ => return Err(OidcError::UnknownKid(String::new())),
    };
    let key = jwks
        .keys
        .get(&kid)
        .ok_or_else(|| OidcError::UnknownKid(kid.clone()))?;
    let signing_input = format!("{header_b64}.{claims_b64}");
    let verified =
        jsonwebtoken::crypto::verify(signature, signing_input.as_bytes(), key, Algorithm::RS256);
    if !matches!(verified, Ok(true)) {
        return Err(OidcError::BadSignature(kid));
    }

    let claims = segment(claims_b64, "claims")?;
    let issuer = string_claim(&claims, "iss")?;
    if issuer != expected.issuer {
        return Err(OidcError::Issuer {
            expected: expected.issuer.clone(),
            found: issuer,
        });
    }
    let audience = match claims.get("aud") {
        Some(Json::String(a)) => a.to_string(),
        Some(Json::Array(items)) if items.len() == 1 => {
            items[0].as_str().ok_or(OidcError::Claim("aud"))?.to_owned()
        }
        Some(Json::Array(items)) => {
            return Err(OidcError::Audience {
                expected: expected.audience.clone(),
                found: format!("{} audiences", items.len()),
            });
        }
        _ => return Err(OidcError::Claim("aud")),
    };
    if audience != expected.audience {
        return Err(OidcError::Audience {
            expected: expected.audience.clone(),
            found: audience,
        });
    }
    let exp = time_claim(&claims, "exp")?.ok_or(OidcError::Claim("exp"))?;
    if now > exp.saturating_add(LEEWAY_SECS) {
        return Err(OidcError::Expired { exp, now });
    }
    let iat = time_claim(&claims, "iat")?.ok_or(OidcError::Claim("iat"))?;
    for (claim, at) in [("iat", Some(iat)), ("nbf", time_claim(&claims, "nbf")?)] {
        if let Some(at) = at
            && at > now.saturating_add(LEEWAY_SECS)
        {
            return Err(OidcError::NotYetValid { claim, at, now });
        }
    }

    let repository = string_claim(&claims, "repository")?;
    bind("repository", &expected.repository, &repository)?;
    let repository_id = id_claim(&claims, "repository_id")?;
    if let Some(want) = expected.repository_id {
        bind(
            "repository_id",
            &want.to_string(),
            &repository_id.to_string(),
        )?;
    }
    let git_ref = string_claim(&claims, "ref")?;
    bind("ref", &expected.git_ref, &git_ref)?;
    let sha = string_claim(&claims, "sha")?;
    bind("sha", &expected.sha, &sha)?;
    let event_name = string_claim(&claims, "event_name")?;
    if !expected.events.contains(&event_name) {
        return Err(OidcError::Binding {
            claim: "event_name",
            expected: expected.events.join("|"),
            found: event_name,
        });
    }
    Ok(VerifiedToken {
        facts: TokenFacts {
            issuer,
            audience,
            repository,
            repository_id,
            repository_owner: string_claim(&claims, "repository_owner")?,
            repository_owner_id: id_claim(&claims, "repository_owner_id")?,
            git_ref,
            sha,
            event_name,
            job_workflow_ref: string_claim(&claims, "job_workflow_ref")?,
            run_id: string_claim(&claims, "run_id")?,
            jti: string_claim(&claims, "jti")?,
            kid,
            issued_at: iat,
            expires_at: exp,
        },
    })
}
