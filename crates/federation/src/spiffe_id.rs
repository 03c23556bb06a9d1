//! SPIFFE trust-domain names and SPIFFE IDs (SPIFFE-ID spec §2).
//!
//! Parsing is strict: lowercase trust domain of `[a-z0-9._-]`, at most 255 bytes, no port
//! or userinfo; path segments of `[a-zA-Z0-9._-]`, none empty, `.` or `..`, no trailing
//! `/`; no query or fragment; the whole ID at most 2048 bytes.

use std::fmt;
use std::str::FromStr;

/// Longest trust-domain name accepted, in bytes.
pub const MAX_TRUST_DOMAIN_LEN: usize = 255;
/// Longest SPIFFE ID accepted, in bytes.
pub const MAX_SPIFFE_ID_LEN: usize = 2048;

const SCHEME: &str = "spiffe://";

/// Why a trust-domain name or SPIFFE ID is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpiffeIdError {
    /// The trust-domain name is empty.
    #[error("trust domain is empty")]
    EmptyTrustDomain,
    /// The trust-domain name is longer than 255 bytes.
    #[error("trust domain is {0} bytes long; at most 255 are allowed")]
    TrustDomainTooLong(usize),
    /// The trust-domain name holds a character outside `[a-z0-9._-]`.
    #[error(
        "trust domain {name:?} holds {found:?}; only lowercase a-z, 0-9, '.', '_' and '-' are allowed (no port, userinfo or uppercase)"
    )]
    TrustDomainChar {
        /// The offending name.
        name: String,
        /// The first character that is not allowed.
        found: char,
    },
    /// The ID does not start with `spiffe://`.
    #[error("SPIFFE ID must start with \"spiffe://\"")]
    WrongScheme,
    /// The ID is longer than 2048 bytes.
    #[error("SPIFFE ID is {0} bytes long; at most 2048 are allowed")]
    IdTooLong(usize),
    /// The ID carries a query (`?`).
    #[error("SPIFFE ID must not carry a query")]
    Query,
    /// The ID carries a fragment (`#`).
    #[error("SPIFFE ID must not carry a fragment")]
    Fragment,
    /// A path segment is empty (`//` or a trailing `/`).
    #[error("SPIFFE ID path has an empty segment or a trailing '/'")]
    EmptySegment,
    /// A path segment is `.` or `..`.
    #[error("SPIFFE ID path segment {0:?} is a relative reference")]
    DotSegment(String),
    /// A path segment holds a character outside `[a-zA-Z0-9._-]`.
    #[error("SPIFFE ID path holds {0:?}; only a-z, A-Z, 0-9, '.', '_' and '-' are allowed")]
    PathChar(char),
}

/// A validated SPIFFE trust-domain name, e.g. `ci.example.org`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TrustDomain(String);

impl TrustDomain {
    /// Validates a bare trust-domain name (no scheme).
    pub fn new(name: &str) -> Result<Self, SpiffeIdError> {
        if name.is_empty() {
            return Err(SpiffeIdError::EmptyTrustDomain);
        }
        if name.len() > MAX_TRUST_DOMAIN_LEN {
            return Err(SpiffeIdError::TrustDomainTooLong(name.len()));
        }
        if let Some(found) = name.chars().find(|c| {
            !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
        }) {
            return Err(SpiffeIdError::TrustDomainChar {
                name: name.to_owned(),
                found,
            });
        }
        Ok(TrustDomain(name.to_owned()))
    }

    /// The name as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TrustDomain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for TrustDomain {
    type Err = SpiffeIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TrustDomain::new(s)
    }
}

/// A validated SPIFFE ID: `spiffe://<trust domain><path>`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SpiffeId {
    trust_domain: TrustDomain,
    path: String,
}

impl SpiffeId {
    /// Parses and validates a SPIFFE ID.
    pub fn parse(id: &str) -> Result<Self, SpiffeIdError> {
        if id.len() > MAX_SPIFFE_ID_LEN {
            return Err(SpiffeIdError::IdTooLong(id.len()));
        }
        let rest = id.strip_prefix(SCHEME).ok_or(SpiffeIdError::WrongScheme)?;
        if rest.contains('?') {
            return Err(SpiffeIdError::Query);
        }
        if rest.contains('#') {
            return Err(SpiffeIdError::Fragment);
        }
        let (authority, path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        let trust_domain = TrustDomain::new(authority)?;
        if !path.is_empty() {
            for segment in path[1..].split('/') {
                match segment {
                    "" => return Err(SpiffeIdError::EmptySegment),
                    "." | ".." => return Err(SpiffeIdError::DotSegment(segment.to_owned())),
                    _ => {}
                }
                if let Some(c) = segment
                    .chars()
                    .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
                {
                    return Err(SpiffeIdError::PathChar(c));
                }
            }
        }
        Ok(SpiffeId {
            trust_domain,
            path: path.to_owned(),
        })
    }

    /// The trust domain the ID belongs to.
    pub fn trust_domain(&self) -> &TrustDomain {
        &self.trust_domain
    }

    /// The path, `""` or starting with `/`.
    pub fn path(&self) -> &str {
        &self.path
    }
}

impl fmt::Display for SpiffeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{SCHEME}{}{}", self.trust_domain, self.path)
    }
}

impl FromStr for SpiffeId {
    type Err = SpiffeIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SpiffeId::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_ids_round_trip() {
        for id in [
            "spiffe://ci.example.org/workload/builder",
            "spiffe://ci.example.org",
            "spiffe://a_b-c.d/Path.With-Under_score/9",
        ] {
            assert_eq!(SpiffeId::parse(id).unwrap().to_string(), id);
        }
        let id = SpiffeId::parse("spiffe://ci.example.org/w").unwrap();
        assert_eq!(id.trust_domain().as_str(), "ci.example.org");
        assert_eq!(id.path(), "/w");
    }

    #[test]
    fn invalid_ids_are_refused_with_a_reason() {
        let cases: &[(&str, SpiffeIdError)] = &[
            ("https://ci.example.org/w", SpiffeIdError::WrongScheme),
            ("SPIFFE://ci.example.org/w", SpiffeIdError::WrongScheme),
            ("spiffe://", SpiffeIdError::EmptyTrustDomain),
            ("spiffe:///w", SpiffeIdError::EmptyTrustDomain),
            ("spiffe://ci.example.org/w?x=1", SpiffeIdError::Query),
            ("spiffe://ci.example.org/w#f", SpiffeIdError::Fragment),
            ("spiffe://ci.example.org/", SpiffeIdError::EmptySegment),
            ("spiffe://ci.example.org//w", SpiffeIdError::EmptySegment),
            ("spiffe://ci.example.org/w/", SpiffeIdError::EmptySegment),
            (
                "spiffe://ci.example.org/../admin",
                SpiffeIdError::DotSegment("..".into()),
            ),
            (
                "spiffe://ci.example.org/./w",
                SpiffeIdError::DotSegment(".".into()),
            ),
            (
                "spiffe://ci.example.org/w%20x",
                SpiffeIdError::PathChar('%'),
            ),
        ];
        for (id, want) in cases {
            assert_eq!(SpiffeId::parse(id).as_ref(), Err(want), "{id}");
        }
        for id in [
            "spiffe://CI.example.org/w",
            "spiffe://user@ci.example.org/w",
            "spiffe://ci.example.org:443/w",
            "spiffe://[::1]/w",
        ] {
            assert!(
                matches!(
                    SpiffeId::parse(id),
                    Err(SpiffeIdError::TrustDomainChar { .. })
                ),
                "{id}"
            );
        }
    }

    #[test]
    fn length_limits_are_enforced() {
        let td = "a".repeat(255);
        assert!(TrustDomain::new(&td).is_ok());
        assert_eq!(
            TrustDomain::new(&"a".repeat(256)),
            Err(SpiffeIdError::TrustDomainTooLong(256))
        );
        let long = format!("spiffe://td/{}", "p".repeat(2048 - 12));
        assert_eq!(long.len(), 2048);
        assert!(SpiffeId::parse(&long).is_ok());
        let too_long = format!("{long}p");
        assert_eq!(
            SpiffeId::parse(&too_long),
            Err(SpiffeIdError::IdTooLong(2049))
        );
    }
}
