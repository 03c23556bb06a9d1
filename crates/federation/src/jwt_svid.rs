//! JWT-SVID validation (JWT-SVID spec §3–§7), strict.
//!
//! Order of checks, each failing closed:
//! 1. compact serialisation only (three base64url segments; JWS JSON is refused);
//! 2. the header is JSON without duplicate members, and `alg` is on the allowlist
//!    (RS256/384/512, ES256/384, PS256/384/512) before anything else is looked at:
//!    `none`, HS*, EdDSA and ES512 are refused here, before any key lookup. ES512 is
//!    valid under the spec but refused because jsonwebtoken 12 cannot verify P-521;
//! 3. `typ` absent, `JWT` or `JOSE`; no header other than `alg`, `kid`, `typ` (so `crit`,
//!    `jku`, `x5u`, `jwk` are refused, never honoured); `kid` required (policy: go-spiffe
//!    and SPIRE require it too);
//! 4. the unverified `sub` must be a SPIFFE ID; its trust domain only *routes* to that
//!    domain's keys, and a domain we do not federate with is refused here, before any
//!    signature work;
//! 5. `kid` is looked up in that domain's jwt-svid keys only, and `alg` must fit the key
//!    (RS*/PS* need RSA, ES256 P-256, ES384 P-384);
//! 6. the signature is verified;
//! 7. `exp` (required, a number), `nbf` and `iat` (if present, numbers) with a bounded
//!    leeway, `aud` (required, a string or non-empty array of strings, containing ours).
//!
//! The result carries the SPIFFE ID from the verified claims.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;

use crate::json::{self, Json, JsonError};
use crate::spiffe_id::{SpiffeId, SpiffeIdError, TrustDomain};
use crate::store::{JwtAuthorities, LookupError};

/// Largest clock-skew leeway accepted, in seconds.
pub const MAX_LEEWAY_SECS: u64 = 300;
/// Leeway used by [`JwtSvidValidator::new`], in seconds.
pub const DEFAULT_LEEWAY_SECS: u64 = 30;

/// Why a JWT-SVID is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtSvidError {
    /// The token looks like JWS JSON serialisation, which JWT-SVID forbids.
    #[error("JWS JSON serialisation is not allowed for JWT-SVIDs; only the compact form")]
    JsonSerialization,
    /// The compact form does not have exactly three segments.
    #[error("a JWT-SVID must have exactly 3 '.'-separated segments, found {0}")]
    SegmentCount(usize),
    /// A segment is not unpadded base64url.
    #[error("the {0} segment is not unpadded base64url")]
    Base64(&'static str),
    /// The header or claims are not a JSON object without duplicate members.
    #[error("the {part} is not acceptable JSON: {reason}")]
    Json {
        /// `header` or `claims`.
        part: &'static str,
        /// What was wrong.
        reason: String,
    },
    /// The header has no string `alg`.
    #[error("the header has no string \"alg\"")]
    MissingAlg,
    /// ES512 is spec-valid but cannot be verified by the backend; refused fail-closed.
    #[error(
        "alg ES512 is refused: the verification backend (jsonwebtoken 12) has no P-521 support"
    )]
    Es512Unsupported,
    /// The `alg` is not on the JWT-SVID allowlist.
    #[error("alg {0:?} is not allowed; JWT-SVIDs use RS256/384/512, ES256/384 or PS256/384/512")]
    AlgorithmNotAllowed(String),
    /// `typ` is present and not `JWT`/`JOSE`.
    #[error("typ {0:?} is not allowed; it must be absent, \"JWT\" or \"JOSE\"")]
    BadTyp(String),
    /// A header the JWT-SVID spec does not list.
    #[error("header {0:?} is not allowed in a JWT-SVID (only alg, kid and typ)")]
    UnexpectedHeader(String),
    /// No `kid` (policy; the spec leaves it optional).
    #[error("the header has no \"kid\"; JWT-SVIDs without a key ID are refused by policy")]
    MissingKid,
    /// No string `sub`.
    #[error("the claims have no string \"sub\"")]
    MissingSub,
    /// `sub` is not a valid SPIFFE ID.
    #[error("sub is not a valid SPIFFE ID: {0}")]
    BadSub(SpiffeIdError),
    /// The `sub` trust domain is not one we federate with.
    #[error("trust domain {0} of sub is not federated with; refused before any signature check")]
    NotFederated(TrustDomain),
    /// Federated, but no bundle accepted yet.
    #[error("no bundle accepted yet for trust domain {0}")]
    NoBundleYet(TrustDomain),
    /// The domain's bundle has no usable JWT keys (revoked or never published).
    #[error("trust domain {0} has no usable jwt-svid keys (revoked or none published)")]
    NoJwtKeys(TrustDomain),
    /// The `kid` is not among the domain's keys.
    #[error("kid {kid:?} is not a jwt-svid key of trust domain {trust_domain}")]
    UnknownKid {
        /// The token's trust domain.
        trust_domain: TrustDomain,
        /// The token's kid.
        kid: String,
    },
    /// The `alg` does not fit the key's type or curve.
    #[error("alg {alg:?} does not fit key {kid:?} ({key})")]
    AlgKeyMismatch {
        /// The token's alg.
        alg: String,
        /// The key ID.
        kid: String,
        /// The key's type and size.
        key: String,
    },
    /// The signature does not verify.
    #[error("signature verification failed")]
    BadSignature,
    /// No `exp`.
    #[error("the claims have no \"exp\"")]
    MissingExp,
    /// A time claim that is not a JSON number.
    #[error("claim {claim:?} must be a NumericDate (a JSON number), found {found}")]
    BadNumericDate {
        /// The claim name.
        claim: &'static str,
        /// What was found.
        found: &'static str,
    },
    /// Expired beyond the leeway.
    #[error("token expired at {exp} (now {now}, leeway {leeway}s)")]
    Expired {
        /// `exp`.
        exp: u64,
        /// The validation time.
        now: u64,
        /// The leeway.
        leeway: u64,
    },
    /// `nbf` in the future beyond the leeway.
    #[error("token not valid before {nbf} (now {now}, leeway {leeway}s)")]
    NotYetValid {
        /// `nbf`.
        nbf: u64,
        /// The validation time.
        now: u64,
        /// The leeway.
        leeway: u64,
    },
    /// `iat` in the future beyond the leeway.
    #[error("token issued in the future at {iat} (now {now}, leeway {leeway}s)")]
    IssuedInFuture {
        /// `iat`.
        iat: u64,
        /// The validation time.
        now: u64,
        /// The leeway.
        leeway: u64,
    },
    /// No `aud`.
    #[error("the claims have no \"aud\"")]
    MissingAud,
    /// `aud` is not a string or an array of strings, or is empty.
    #[error("aud must be a string or a non-empty array of strings")]
    BadAud,
    /// Our audience is not among the token's.
    #[error("audience {expected:?} is not among the token's audiences")]
    WrongAudience {
        /// The audience we identify as.
        expected: String,
    },
}

/// Why a validator cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidatorConfigError {
    /// An empty expected audience would skip the audience check (a go-spiffe pitfall).
    #[error("the expected audience must not be empty")]
    EmptyAudience,
    /// The leeway is larger than allowed.
    #[error("leeway of {0}s is larger than the maximum of {MAX_LEEWAY_SECS}s")]
    LeewayTooLarge(u64),
}

/// The header and claims of a JWT-SVID that passed the structural and allowlist checks but
/// whose signature has **not** been checked. Use only for routing and diagnostics.
#[derive(Debug, Clone)]
pub struct UnverifiedJwtSvid {
    /// The allowed algorithm.
    pub alg: Algorithm,
    /// The key ID.
    pub kid: String,
    /// `typ`, if present.
    pub typ: Option<String>,
    /// The SPIFFE ID claimed in `sub`.
    pub subject: SpiffeId,
    claims: Json,
    signing_input: String,
    signature: String,
}

impl UnverifiedJwtSvid {
    /// Runs checks 1–4 of the module docs (structure, allowlist, headers, `sub` grammar).
    pub fn parse(token: &str) -> Result<Self, JwtSvidError> {
        let token = token.trim();
        if token.starts_with('{') {
            return Err(JwtSvidError::JsonSerialization);
        }
        let segments: Vec<&str> = token.split('.').collect();
        if segments.len() != 3 {
            return Err(JwtSvidError::SegmentCount(segments.len()));
        }
        let header = decode_segment(segments[0], "header")?;
        let alg_name = match header.get("alg") {
            Some(Json::String(a)) => a.clone(),
            _ => return Err(JwtSvidError::MissingAlg),
        };
        let alg = allowed_algorithm(&alg_name)?;
        match header.get("typ") {
            None => {}
            Some(Json::String(t)) if t == "JWT" || t == "JOSE" => {}
            Some(Json::String(t)) => return Err(JwtSvidError::BadTyp(t.to_string())),
            Some(other) => return Err(JwtSvidError::BadTyp(other.kind().to_owned())),
        }
        if let Json::Object(members) = &header
            && let Some((name, _)) = members
                .iter()
                .find(|(k, _)| !matches!(k.as_ref(), "alg" | "kid" | "typ"))
        {
            return Err(JwtSvidError::UnexpectedHeader(name.to_string()));
        }
        let kid = match header.get("kid") {
            Some(Json::String(k)) if !k.is_empty() => k.to_string(),
            _ => return Err(JwtSvidError::MissingKid),
        };
        let typ = header.get("typ").and_then(Json::as_str).map(str::to_owned);
        let claims = decode_segment(segments[1], "claims")?;
        let subject = match claims.get("sub") {
            Some(Json::String(s)) => SpiffeId::parse(s).map_err(JwtSvidError::BadSub)?,
            _ => return Err(JwtSvidError::MissingSub),
        };
        Ok(UnverifiedJwtSvid {
            alg,
            kid,
            typ,
            subject,
            claims,
            signing_input: format!("{}.{}", segments[0], segments[1]),
            signature: segments[2].to_owned(),
        })
    }

    /// The audiences claimed (empty if `aud` is missing or malformed).
    pub fn audiences(&self) -> Vec<String> {
        audiences(&self.claims).unwrap_or_default()
    }

    /// The `exp` claim, if it is a number.
    pub fn expires_at(&self) -> Option<u64> {
        numeric_date(&self.claims, "exp").ok().flatten()
    }
}

/// A JWT-SVID whose signature and claims were verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatedJwtSvid {
    /// The workload's SPIFFE ID, from the verified claims.
    pub spiffe_id: SpiffeId,
    /// The token's audiences.
    pub audiences: Vec<String>,
    /// `exp`, seconds since the epoch.
    pub expires_at: u64,
    /// The key that verified it.
    pub kid: String,
    /// The algorithm.
    pub alg: Algorithm,
}

/// Validates JWT-SVIDs for one audience.
#[derive(Debug, Clone)]
pub struct JwtSvidValidator {
    audience: String,
    leeway_secs: u64,
}

impl JwtSvidValidator {
    /// A validator for `audience` with the default leeway.
    pub fn new(audience: impl Into<String>) -> Result<Self, ValidatorConfigError> {
        Self::with_leeway(audience, DEFAULT_LEEWAY_SECS)
    }

    /// A validator for `audience` with `leeway_secs` of clock skew (at most
    /// [`MAX_LEEWAY_SECS`]).
    pub fn with_leeway(
        audience: impl Into<String>,
        leeway_secs: u64,
    ) -> Result<Self, ValidatorConfigError> {
        let audience = audience.into();
        if audience.is_empty() {
            return Err(ValidatorConfigError::EmptyAudience);
        }
        if leeway_secs > MAX_LEEWAY_SECS {
            return Err(ValidatorConfigError::LeewayTooLarge(leeway_secs));
        }
        Ok(JwtSvidValidator {
            audience,
            leeway_secs,
        })
    }

    /// Validates `token` against the keys of its own trust domain at time `now` (seconds
    /// since the epoch).
    pub fn validate_at(
        &self,
        token: &str,
        authorities: &impl JwtAuthorities,
        now: u64,
    ) -> Result<ValidatedJwtSvid, JwtSvidError> {
        let unverified = UnverifiedJwtSvid::parse(token)?;
        let td = unverified.subject.trust_domain();
        let keys = authorities.jwt_keys(td).map_err(|e| match e {
            LookupError::NotFederated(td) => JwtSvidError::NotFederated(td),
            LookupError::NoBundleYet(td) => JwtSvidError::NoBundleYet(td),
        })?;
        if keys.is_empty() {
            return Err(JwtSvidError::NoJwtKeys(td.clone()));
        }
        let key = keys
            .get(&unverified.kid)
            .ok_or_else(|| JwtSvidError::UnknownKid {
                trust_domain: td.clone(),
                kid: unverified.kid.clone(),
            })?;
        if !key.accepts(unverified.alg) {
            return Err(JwtSvidError::AlgKeyMismatch {
                alg: format!("{:?}", unverified.alg),
                kid: unverified.kid.clone(),
                key: key.material().describe(),
            });
        }
        let verified = jsonwebtoken::crypto::verify(
            &unverified.signature,
            unverified.signing_input.as_bytes(),
            key.decoding_key(),
            unverified.alg,
        );
        if !matches!(verified, Ok(true)) {
            return Err(JwtSvidError::BadSignature);
        }

        let claims = &unverified.claims;
        let leeway = self.leeway_secs;
        let exp = numeric_date(claims, "exp")?.ok_or(JwtSvidError::MissingExp)?;
        if now > exp.saturating_add(leeway) {
            return Err(JwtSvidError::Expired { exp, now, leeway });
        }
        if let Some(nbf) = numeric_date(claims, "nbf")?
            && nbf > now.saturating_add(leeway)
        {
            return Err(JwtSvidError::NotYetValid { nbf, now, leeway });
        }
        if let Some(iat) = numeric_date(claims, "iat")?
            && iat > now.saturating_add(leeway)
        {
            return Err(JwtSvidError::IssuedInFuture { iat, now, leeway });
        }
        let audiences = audiences(claims)?;
        if !audiences.contains(&self.audience) {
            return Err(JwtSvidError::WrongAudience {
                expected: self.audience.clone(),
            });
        }
        // Re-read sub from the now-verified claims rather than trusting the routing copy.
        let spiffe_id = match claims.get("sub") {
            Some(Json::String(s)) => SpiffeId::parse(s).map_err(JwtSvidError::BadSub)?,
            _ => return Err(JwtSvidError::MissingSub),
        };
        Ok(ValidatedJwtSvid {
            spiffe_id,
            audiences,
            expires_at: exp,
            kid: unverified.kid,
            alg: unverified.alg,
        })
    }

    /// [`Self::validate_at`] with the system clock.
    pub fn validate(
        &self,
        token: &str,
        authorities: &impl JwtAuthorities,
    ) -> Result<ValidatedJwtSvid, JwtSvidError> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        self.validate_at(token, authorities, now)
    }
}

fn allowed_algorithm(name: &str) -> Result<Algorithm, JwtSvidError> {
    Ok(match name {
        "RS256" => Algorithm::RS256,
        "RS384" => Algorithm::RS384,
        "RS512" => Algorithm::RS512,
        "ES256" => Algorithm::ES256,
        "ES384" => Algorithm::ES384,
        "PS256" => Algorithm::PS256,
        "PS384" => Algorithm::PS384,
        "PS512" => Algorithm::PS512,
        "ES512" => return Err(JwtSvidError::Es512Unsupported),
        other => return Err(JwtSvidError::AlgorithmNotAllowed(other.to_owned())),
    })
}

fn decode_segment(segment: &str, part: &'static str) -> Result<Json, JwtSvidError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| JwtSvidError::Base64(part))?;
    let json = json::parse(&bytes).map_err(|e| JwtSvidError::Json {
        part,
        reason: match e {
            JsonError::Syntax(s) => s,
            JsonError::DuplicateMember(m) => format!("duplicate member {m:?}"),
        },
    })?;
    if !matches!(json, Json::Object(_)) {
        return Err(JwtSvidError::Json {
            part,
            reason: format!("expected an object, found {}", json.kind()),
        });
    }
    Ok(json)
}

fn numeric_date(claims: &Json, claim: &'static str) -> Result<Option<u64>, JwtSvidError> {
    match claims.get(claim) {
        None => Ok(None),
        Some(Json::Unsigned(n)) => Ok(Some(*n)),
        // Before 1970: treat as 0, which is in the past for every check.
        Some(Json::Negative(_)) => Ok(Some(0)),
        Some(Json::Number(text)) => match text.parse::<f64>() {
            // Truncated, as a NumericDate with a fraction means that second.
            Ok(f) if f.is_finite() => Ok(Some(if f <= 0.0 { 0 } else { f as u64 })),
            _ => Err(JwtSvidError::BadNumericDate {
                claim,
                found: "a number that is not a finite double",
            }),
        },
        Some(other) => Err(JwtSvidError::BadNumericDate {
            claim,
            found: other.kind(),
        }),
    }
}

fn audiences(claims: &Json) -> Result<Vec<String>, JwtSvidError> {
    match claims.get("aud") {
        None => Err(JwtSvidError::MissingAud),
        Some(Json::String(a)) => Ok(vec![a.to_string()]),
        Some(Json::Array(items)) if !items.is_empty() => items
            .iter()
            .map(|i| i.as_str().map(str::to_owned).ok_or(JwtSvidError::BadAud))
            .collect(),
        Some(_) => Err(JwtSvidError::BadAud),
    }
}
