//! `domains/<trust-domain>/metadata.toml`: who owns a domain and where its bundle lives.
//!
//! Every field is required and unknown keys are refused. None is inferred from another:
//! the bundle endpoint's host must not be the trust domain name itself (the SPIFFE
//! Federation spec says the binding cannot be securely inferred, so a URL that merely
//! repeats the name is refused), and `owner_id` is GitHub's numeric, immutable
//! organisation ID, the only owner identity that is ever compared.

use nucleus_federation::config::{Profile, parse_endpoint_url};
use nucleus_federation::spiffe_id::TrustDomain;
use serde::Deserialize;

/// Why a `metadata.toml` is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetadataError {
    /// Not TOML, a missing or unknown key, or a value of the wrong type.
    #[error("metadata.toml: {0}")]
    Toml(String),
    /// `trust_domain` is not a SPIFFE trust domain name.
    #[error("metadata.toml: trust_domain {name:?} is not a valid SPIFFE trust domain: {reason}")]
    TrustDomain {
        /// The value found.
        name: String,
        /// Why.
        reason: String,
    },
    /// `owner_github_org` is blank.
    #[error("metadata.toml: owner_github_org must not be blank")]
    BlankOrg,
    /// `owner_id` is 0, which no GitHub account has.
    #[error("metadata.toml: owner_id must be GitHub's numeric organisation ID (>= 1)")]
    ZeroOwnerId,
    /// `bundle_endpoint_url` is not an acceptable https URL.
    #[error("metadata.toml: {0}")]
    Url(String),
    /// The endpoint host is the trust domain name: a binding inferred from the name.
    #[error(
        "metadata.toml: bundle_endpoint_url host {host:?} equals the trust domain; the \
         endpoint must be stated independently (a subdomain such as spiffe.{host} is fine)"
    )]
    InferredBinding {
        /// The host.
        host: String,
    },
    /// `profile` is not `https_web`.
    #[error("metadata.toml: {0}")]
    Profile(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    trust_domain: String,
    owner_github_org: String,
    owner_id: u64,
    bundle_endpoint_url: String,
    profile: String,
}

/// A validated `metadata.toml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainMetadata {
    /// The SPIFFE trust domain (also the directory name).
    pub trust_domain: String,
    /// The owning GitHub organisation's login, informational only (logins can be renamed
    /// and recycled).
    pub owner_github_org: String,
    /// The owning organisation's numeric GitHub ID: what proof-of-control compares.
    pub owner_id: u64,
    /// Where the domain serves its SPIFFE bundle.
    pub bundle_endpoint_url: String,
    /// The bundle endpoint profile (`https_web`).
    pub profile: String,
}

impl DomainMetadata {
    /// Parses and validates a `metadata.toml` text.
    pub fn parse(text: &str) -> Result<DomainMetadata, MetadataError> {
        let raw: Raw = toml::from_str(text).map_err(|e| MetadataError::Toml(e.to_string()))?;
        DomainMetadata::new(
            &raw.trust_domain,
            &raw.owner_github_org,
            raw.owner_id,
            &raw.bundle_endpoint_url,
            &raw.profile,
        )
    }

    /// Validates the five values (the same rules as [`DomainMetadata::parse`]).
    pub fn new(
        trust_domain: &str,
        owner_github_org: &str,
        owner_id: u64,
        bundle_endpoint_url: &str,
        profile: &str,
    ) -> Result<DomainMetadata, MetadataError> {
        let td = TrustDomain::new(trust_domain).map_err(|e| MetadataError::TrustDomain {
            name: trust_domain.to_owned(),
            reason: e.to_string(),
        })?;
        // Empty labels would also make the name unusable as a folder name (`..`).
        if td.as_str().split('.').any(str::is_empty) {
            return Err(MetadataError::TrustDomain {
                name: trust_domain.to_owned(),
                reason: "empty label".into(),
            });
        }
        if owner_github_org.trim().is_empty() {
            return Err(MetadataError::BlankOrg);
        }
        if owner_id == 0 {
            return Err(MetadataError::ZeroOwnerId);
        }
        let url = parse_endpoint_url(bundle_endpoint_url)
            .map_err(|e| MetadataError::Url(e.to_string()))?;
        let host = url
            .host_str()
            .unwrap_or_default()
            .trim_end_matches('.')
            .to_ascii_lowercase();
        if host == trust_domain {
            return Err(MetadataError::InferredBinding { host });
        }
        let profile = Profile::parse(profile).map_err(|e| MetadataError::Profile(e.to_string()))?;
        Ok(DomainMetadata {
            trust_domain: trust_domain.to_owned(),
            owner_github_org: owner_github_org.to_owned(),
            owner_id,
            bundle_endpoint_url: bundle_endpoint_url.to_owned(),
            profile: profile.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(td: &str, url: &str, profile: &str) -> String {
        format!(
            "trust_domain = \"{td}\"\nowner_github_org = \"acme\"\nowner_id = 4242\n\
             bundle_endpoint_url = \"{url}\"\nprofile = \"{profile}\"\n"
        )
    }

    #[test]
    fn accepts_a_subdomain_endpoint() {
        let m = DomainMetadata::parse(&doc(
            "ci.example.org",
            "https://spiffe.ci.example.org/bundle",
            "https_web",
        ))
        .unwrap();
        assert_eq!(m.owner_id, 4242);
        assert_eq!(m.profile, "https_web");
    }

    #[test]
    fn refuses_an_endpoint_on_the_trust_domain_name() {
        let err = DomainMetadata::parse(&doc(
            "ci.example.org",
            "https://user@CI.example.org:8443/bundle",
            "https_web",
        ))
        .unwrap_err();
        assert!(matches!(err, MetadataError::Url(_)), "{err}");
        let err = DomainMetadata::parse(&doc(
            "ci.example.org",
            "https://CI.example.org:8443/bundle",
            "https_web",
        ))
        .unwrap_err();
        assert!(
            matches!(err, MetadataError::InferredBinding { .. }),
            "{err}"
        );
    }

    #[test]
    fn refuses_bad_values() {
        let http = doc("ci.example.org", "http://b.example/x", "https_web");
        assert!(matches!(
            DomainMetadata::parse(&http),
            Err(MetadataError::Url(_))
        ));
        let spiffe = doc("ci.example.org", "https://b.example/x", "https_spiffe");
        assert!(matches!(
            DomainMetadata::parse(&spiffe),
            Err(MetadataError::Profile(_))
        ));
        for bad in ["CI.example", "ci..example", ".."] {
            let bad_td = doc(bad, "https://b.example/x", "https_web");
            assert!(
                matches!(
                    DomainMetadata::parse(&bad_td),
                    Err(MetadataError::TrustDomain { .. })
                ),
                "{bad}"
            );
        }
        let unknown = format!(
            "{}extra = 1\n",
            doc("ci.example.org", "https://b.example/x", "https_web")
        );
        assert!(matches!(
            DomainMetadata::parse(&unknown),
            Err(MetadataError::Toml(_))
        ));
        let string_id = doc("ci.example.org", "https://b.example/x", "https_web")
            .replace("owner_id = 4242", "owner_id = \"4242\"");
        assert!(matches!(
            DomainMetadata::parse(&string_id),
            Err(MetadataError::Toml(_))
        ));
        let zero = doc("ci.example.org", "https://b.example/x", "https_web")
            .replace("owner_id = 4242", "owner_id = 0");
        assert_eq!(
            DomainMetadata::parse(&zero),
            Err(MetadataError::ZeroOwnerId)
        );
    }
}
