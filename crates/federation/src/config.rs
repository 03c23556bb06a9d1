//! Federation relationships: the guide's `[[federates_with]]` TOML rows.
//!
//! ```toml
//! [[federates_with]]
//! trust_domain        = "ci.example.org"
//! bundle_endpoint_url = "https://ci.example.org/spiffe-bundle"
//! profile             = "https_web"
//! # optional, default false: accept bundles without spiffe_sequence
//! accept_unsequenced  = false
//! ```
//!
//! Every value is explicit and none is inferred from another (Federation spec §5.1): the
//! trust domain is never taken from the URL host. Only the `https_web` profile is
//! implemented; `https_spiffe` is refused with a clear error (a documented deviation from
//! the spec's client MUST).

use std::collections::BTreeSet;
use std::fmt;

use serde::Deserialize;
use url::Url;

use crate::rollback::RollbackPolicy;
use crate::spiffe_id::{SpiffeIdError, TrustDomain};

/// Why a federation configuration is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The TOML does not parse or has unknown keys.
    #[error("federation config is not valid TOML for [[federates_with]] rows: {0}")]
    Toml(String),
    /// A trust domain is invalid.
    #[error("federates_with row {row}: invalid trust_domain: {source}")]
    TrustDomain {
        /// 0-based row.
        row: usize,
        /// Why.
        source: SpiffeIdError,
    },
    /// A bundle endpoint URL is invalid.
    #[error("federates_with row {row}: {source}")]
    Url {
        /// 0-based row.
        row: usize,
        /// Why.
        source: UrlError,
    },
    /// The profile is not supported.
    #[error("federates_with row {row}: {source}")]
    Profile {
        /// 0-based row.
        row: usize,
        /// Why.
        source: ProfileError,
    },
    /// Two rows name the same trust domain.
    #[error("trust domain {0} appears in more than one federates_with row")]
    DuplicateTrustDomain(TrustDomain),
}

/// Why a bundle endpoint URL is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    /// Not a URL.
    #[error("bundle_endpoint_url {url:?} is not a URL: {reason}")]
    Parse {
        /// The input.
        url: String,
        /// Why.
        reason: String,
    },
    /// Not `https`.
    #[error("bundle_endpoint_url must use https, found scheme {0:?}")]
    NotHttps(String),
    /// Has userinfo.
    #[error("bundle_endpoint_url must not carry userinfo")]
    Userinfo,
    /// Has no host.
    #[error("bundle_endpoint_url has no host")]
    NoHost,
    /// Has a fragment.
    #[error("bundle_endpoint_url must not carry a fragment")]
    Fragment,
}

/// Why a profile is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProfileError {
    /// `https_spiffe` is a real profile that this implementation does not support.
    #[error("profile \"https_spiffe\" is not implemented; only \"https_web\" is supported")]
    HttpsSpiffeNotImplemented,
    /// Not a SPIFFE bundle endpoint profile at all.
    #[error("unknown profile {0:?}; only \"https_web\" is supported")]
    Unknown(String),
}

/// A bundle endpoint profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// Web PKI TLS (Federation spec §5.2.1).
    HttpsWeb,
}

impl Profile {
    /// Parses a profile name; only `https_web` is accepted.
    pub fn parse(name: &str) -> Result<Self, ProfileError> {
        match name {
            "https_web" => Ok(Profile::HttpsWeb),
            "https_spiffe" => Err(ProfileError::HttpsSpiffeNotImplemented),
            other => Err(ProfileError::Unknown(other.to_owned())),
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("https_web")
    }
}

/// Validates a bundle endpoint URL: https, a host, no userinfo, no fragment.
pub fn parse_endpoint_url(url: &str) -> Result<Url, UrlError> {
    let parsed = Url::parse(url).map_err(|e| UrlError::Parse {
        url: url.to_owned(),
        reason: e.to_string(),
    })?;
    if parsed.scheme() != "https" {
        return Err(UrlError::NotHttps(parsed.scheme().to_owned()));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(UrlError::Userinfo);
    }
    if parsed.host().is_none() {
        return Err(UrlError::NoHost);
    }
    if parsed.fragment().is_some() {
        return Err(UrlError::Fragment);
    }
    Ok(parsed)
}

/// One validated federation relationship.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FederatesWith {
    /// The foreign trust domain.
    pub trust_domain: TrustDomain,
    /// Where its bundle is served.
    pub bundle_endpoint_url: Url,
    /// How the endpoint is authenticated.
    pub profile: Profile,
    /// Accept bundles without `spiffe_sequence`.
    pub accept_unsequenced: bool,
}

impl FederatesWith {
    /// Validates the three explicit values of a relationship.
    pub fn new(
        trust_domain: &str,
        bundle_endpoint_url: &str,
        profile: &str,
    ) -> Result<Self, ConfigError> {
        Row {
            trust_domain: trust_domain.to_owned(),
            bundle_endpoint_url: bundle_endpoint_url.to_owned(),
            profile: profile.to_owned(),
            accept_unsequenced: false,
        }
        .validate(0)
    }

    /// The anti-rollback options of this relationship.
    pub fn rollback_policy(&self) -> RollbackPolicy {
        RollbackPolicy {
            accept_unsequenced: self.accept_unsequenced,
        }
    }
}

/// The whole set of relationships.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FederationConfig {
    rows: Vec<FederatesWith>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Document {
    #[serde(default)]
    federates_with: Vec<Row>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Row {
    trust_domain: String,
    bundle_endpoint_url: String,
    profile: String,
    #[serde(default)]
    accept_unsequenced: bool,
}

impl Row {
    fn validate(self, row: usize) -> Result<FederatesWith, ConfigError> {
        Ok(FederatesWith {
            trust_domain: TrustDomain::new(&self.trust_domain)
                .map_err(|source| ConfigError::TrustDomain { row, source })?,
            bundle_endpoint_url: parse_endpoint_url(&self.bundle_endpoint_url)
                .map_err(|source| ConfigError::Url { row, source })?,
            profile: Profile::parse(&self.profile)
                .map_err(|source| ConfigError::Profile { row, source })?,
            accept_unsequenced: self.accept_unsequenced,
        })
    }
}

impl FederationConfig {
    /// Parses a TOML document of `[[federates_with]]` rows. Unknown keys, a missing key,
    /// an invalid value or a repeated trust domain fail the whole document.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let doc: Document = toml::from_str(text).map_err(|e| ConfigError::Toml(e.to_string()))?;
        let rows = doc
            .federates_with
            .into_iter()
            .enumerate()
            .map(|(i, row)| row.validate(i))
            .collect::<Result<Vec<_>, _>>()?;
        Self::from_rows(rows)
    }

    /// Builds a configuration from validated rows, refusing repeated trust domains.
    pub fn from_rows(rows: Vec<FederatesWith>) -> Result<Self, ConfigError> {
        let mut seen = BTreeSet::new();
        for row in &rows {
            if !seen.insert(row.trust_domain.clone()) {
                return Err(ConfigError::DuplicateTrustDomain(row.trust_domain.clone()));
            }
        }
        Ok(FederationConfig { rows })
    }

    /// The relationships, in document order.
    pub fn federates_with(&self) -> &[FederatesWith] {
        &self.rows
    }

    /// The relationship for a trust domain.
    pub fn get(&self, trust_domain: &TrustDomain) -> Option<&FederatesWith> {
        self.rows.iter().find(|r| &r.trust_domain == trust_domain)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GUIDE_ROW: &str = r#"
# prod accepts CI's workloads.
[[federates_with]]
trust_domain        = "ci.example.org"
bundle_endpoint_url = "https://ci.example.org/spiffe-bundle"
profile             = "https_web"   # the only profile implemented
"#;

    #[test]
    fn the_guides_row_parses() {
        let cfg = FederationConfig::from_toml(GUIDE_ROW).unwrap();
        let row = &cfg.federates_with()[0];
        assert_eq!(row.trust_domain.as_str(), "ci.example.org");
        assert_eq!(
            row.bundle_endpoint_url.as_str(),
            "https://ci.example.org/spiffe-bundle"
        );
        assert_eq!(row.profile, Profile::HttpsWeb);
        assert!(!row.accept_unsequenced);
        assert_eq!(
            cfg.get(&TrustDomain::new("ci.example.org").unwrap()),
            Some(row)
        );
        assert_eq!(
            FederatesWith::new(
                "ci.example.org",
                "https://ci.example.org/spiffe-bundle",
                "https_web"
            )
            .unwrap(),
            *row
        );
    }

    #[test]
    fn several_rows_and_the_unsequenced_switch() {
        let text = format!(
            "{GUIDE_ROW}\n[[federates_with]]\ntrust_domain = \"edge.example.org\"\nbundle_endpoint_url = \"https://bundles.example.net:8443/edge\"\nprofile = \"https_web\"\naccept_unsequenced = true\n"
        );
        let cfg = FederationConfig::from_toml(&text).unwrap();
        assert_eq!(cfg.federates_with().len(), 2);
        assert!(cfg.federates_with()[1].rollback_policy().accept_unsequenced);
    }

    #[test]
    fn bad_rows_are_refused_with_a_reason() {
        let row = |td: &str, url: &str, profile: &str| {
            format!(
                "[[federates_with]]\ntrust_domain = \"{td}\"\nbundle_endpoint_url = \"{url}\"\nprofile = \"{profile}\"\n"
            )
        };
        let ok_url = "https://ci.example.org/b";
        assert!(matches!(
            FederationConfig::from_toml(&row("CI.example.org", ok_url, "https_web")),
            Err(ConfigError::TrustDomain { row: 0, .. })
        ));
        assert!(matches!(
            FederationConfig::from_toml(&row(
                "ci.example.org",
                "http://ci.example.org/b",
                "https_web"
            )),
            Err(ConfigError::Url {
                source: UrlError::NotHttps(_),
                ..
            })
        ));
        assert!(matches!(
            FederationConfig::from_toml(&row(
                "ci.example.org",
                "https://u:p@ci.example.org/b",
                "https_web"
            )),
            Err(ConfigError::Url {
                source: UrlError::Userinfo,
                ..
            })
        ));
        assert!(matches!(
            FederationConfig::from_toml(&row(
                "ci.example.org",
                "https://ci.example.org/b#x",
                "https_web"
            )),
            Err(ConfigError::Url {
                source: UrlError::Fragment,
                ..
            })
        ));
        assert!(matches!(
            FederationConfig::from_toml(&row("ci.example.org", "not a url", "https_web")),
            Err(ConfigError::Url {
                source: UrlError::Parse { .. },
                ..
            })
        ));
        assert!(matches!(
            FederationConfig::from_toml(&row("ci.example.org", ok_url, "https_spiffe")),
            Err(ConfigError::Profile {
                source: ProfileError::HttpsSpiffeNotImplemented,
                ..
            })
        ));
        assert!(matches!(
            FederationConfig::from_toml(&row("ci.example.org", ok_url, "web")),
            Err(ConfigError::Profile {
                source: ProfileError::Unknown(_),
                ..
            })
        ));
        // Missing profile: nothing is inferred.
        assert!(matches!(
            FederationConfig::from_toml(
                "[[federates_with]]\ntrust_domain = \"ci.example.org\"\nbundle_endpoint_url = \"https://ci.example.org/b\"\n"
            ),
            Err(ConfigError::Toml(_))
        ));
        // Unknown key.
        assert!(matches!(
            FederationConfig::from_toml(&format!(
                "{}endpoint_spiffe_id = \"spiffe://x/y\"\n",
                row("ci.example.org", ok_url, "https_web")
            )),
            Err(ConfigError::Toml(_))
        ));
        let dup = format!(
            "{}{}",
            row("ci.example.org", ok_url, "https_web"),
            row("ci.example.org", "https://other.example/b", "https_web")
        );
        assert!(matches!(
            FederationConfig::from_toml(&dup),
            Err(ConfigError::DuplicateTrustDomain(_))
        ));
    }

    #[test]
    fn trust_domain_is_not_taken_from_the_url() {
        let cfg = FederationConfig::from_toml(
            "[[federates_with]]\ntrust_domain = \"ci.example.org\"\nbundle_endpoint_url = \"https://prod.example.org/b\"\nprofile = \"https_web\"\n",
        )
        .unwrap();
        assert_eq!(
            cfg.federates_with()[0].trust_domain.as_str(),
            "ci.example.org"
        );
        assert!(
            cfg.get(&TrustDomain::new("prod.example.org").unwrap())
                .is_none()
        );
    }
}
