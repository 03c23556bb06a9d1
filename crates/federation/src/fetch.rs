//! Fetching a bundle over the `https_web` profile (Federation spec §5.2.1).
//!
//! * rustls with the ring provider, TLS 1.2+; the server certificate is validated against
//!   the Mozilla Web PKI roots (webpki-roots), a custom CA bundle, or both;
//! * `https` only; redirects are **not followed**: a 3xx is reported as an error naming the
//!   target (the spec lets clients refuse them, and a redirect target is never stored);
//! * only status 200 counts as a bundle;
//! * the body is capped (checked against `Content-Length` and while streaming);
//! * connect and total timeouts;
//! * no proxy from the environment (the endpoint is contacted directly).
//!
//! The fetch sits behind [`BundleSource`] so tests and callers can feed bytes.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use url::Url;

/// Default cap on a bundle body: 256 KiB (a ConfigMap holds at most 1 MiB).
pub const DEFAULT_MAX_BODY_BYTES: usize = 256 * 1024;
/// Default total timeout of one fetch.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default connect timeout.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a fetch failed. A failed fetch never changes the accepted keys.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// The custom CA bundle holds no usable certificate.
    #[error("CA bundle is unusable: {0}")]
    CaBundle(String),
    /// The HTTP client could not be built.
    #[error("cannot build the HTTPS client: {0}")]
    Client(String),
    /// The endpoint did not answer in time.
    #[error("fetching {url} timed out")]
    Timeout {
        /// The endpoint.
        url: String,
    },
    /// Connection or TLS failure (including a certificate that does not validate).
    #[error("fetching {url} failed: {reason}")]
    Transport {
        /// The endpoint.
        url: String,
        /// The error chain.
        reason: String,
    },
    /// The endpoint answered with a redirect, which is not followed.
    #[error("{url} answered {status} redirecting to {location:?}; redirects are not followed")]
    Redirect {
        /// The endpoint.
        url: String,
        /// The 3xx status.
        status: u16,
        /// The `Location` header, if any.
        location: Option<String>,
    },
    /// A status other than 200.
    #[error("{url} answered HTTP {status}, expected 200")]
    Status {
        /// The endpoint.
        url: String,
        /// The status.
        status: u16,
    },
    /// The body is larger than the cap.
    #[error("bundle body from {url} exceeds the cap of {limit} bytes")]
    TooLarge {
        /// The endpoint.
        url: String,
        /// The cap.
        limit: usize,
    },
}

/// Something that yields the current bundle document of one trust domain.
pub trait BundleSource {
    /// Fetches the bundle bytes.
    fn fetch(&self) -> impl Future<Output = Result<Vec<u8>, FetchError>> + Send;
}

/// Which certificate authorities validate the endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrustRoots {
    /// The Mozilla Web PKI roots.
    WebPki,
    /// Only the certificates of this PEM bundle (private PKI, tests).
    Custom(Vec<u8>),
    /// The Web PKI roots plus this PEM bundle.
    WebPkiAnd(Vec<u8>),
}

/// Options of an [`HttpsWebFetcher`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchOptions {
    /// Trust anchors for the server certificate.
    pub roots: TrustRoots,
    /// Total time for connect, request and body.
    pub timeout: Duration,
    /// Time to establish the connection (TCP + TLS).
    pub connect_timeout: Duration,
    /// Largest body accepted.
    pub max_body_bytes: usize,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            roots: TrustRoots::WebPki,
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }
}

/// Fetches one bundle endpoint over `https_web`.
#[derive(Debug, Clone)]
pub struct HttpsWebFetcher {
    client: reqwest::Client,
    url: Url,
    max_body_bytes: usize,
}

impl HttpsWebFetcher {
    /// Builds a fetcher for `url` (which must already be a validated `https` URL, see
    /// [`crate::config::parse_endpoint_url`]).
    pub fn new(url: Url, options: &FetchOptions) -> Result<Self, FetchError> {
        let tls = client_config(&options.roots)?;
        let client = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .https_only(true)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(options.timeout)
            .connect_timeout(options.connect_timeout)
            .user_agent(concat!("nucleus-federation/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| FetchError::Client(error_chain(&e)))?;
        Ok(HttpsWebFetcher {
            client,
            url,
            max_body_bytes: options.max_body_bytes,
        })
    }

    /// The endpoint.
    pub fn url(&self) -> &Url {
        &self.url
    }

    async fn fetch_once(&self) -> Result<Vec<u8>, FetchError> {
        let url = self.url.to_string();
        let transport = |e: reqwest::Error| {
            if e.is_timeout() {
                FetchError::Timeout { url: url.clone() }
            } else {
                FetchError::Transport {
                    url: url.clone(),
                    reason: error_chain(&e),
                }
            }
        };
        let mut response = self
            .client
            .get(self.url.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(transport)?;
        let status = response.status();
        if status.is_redirection() {
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            return Err(FetchError::Redirect {
                url,
                status: status.as_u16(),
                location,
            });
        }
        if status != reqwest::StatusCode::OK {
            return Err(FetchError::Status {
                url,
                status: status.as_u16(),
            });
        }
        let limit = self.max_body_bytes;
        if response.content_length().is_some_and(|n| n > limit as u64) {
            return Err(FetchError::TooLarge { url, limit });
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(transport)? {
            if body.len() + chunk.len() > limit {
                return Err(FetchError::TooLarge { url, limit });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

impl BundleSource for HttpsWebFetcher {
    fn fetch(&self) -> impl Future<Output = Result<Vec<u8>, FetchError>> + Send {
        self.fetch_once()
    }
}

/// Parses a PEM bundle into certificates; fails if it holds none.
pub fn parse_pem_certificates(
    pem: &[u8],
) -> Result<Vec<rustls::pki_types::CertificateDer<'static>>, FetchError> {
    let mut reader = pem;
    let certs = rustls_pemfile::certs(&mut reader)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| FetchError::CaBundle(format!("not valid PEM: {e}")))?;
    if certs.is_empty() {
        return Err(FetchError::CaBundle("no CERTIFICATE blocks found".into()));
    }
    Ok(certs)
}

fn client_config(roots: &TrustRoots) -> Result<rustls::ClientConfig, FetchError> {
    let mut store = rustls::RootCertStore::empty();
    if matches!(roots, TrustRoots::WebPki | TrustRoots::WebPkiAnd(_)) {
        store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    if let TrustRoots::Custom(pem) | TrustRoots::WebPkiAnd(pem) = roots {
        for cert in parse_pem_certificates(pem)? {
            store.add(cert).map_err(|e| {
                FetchError::CaBundle(format!("certificate rejected as a trust anchor: {e}"))
            })?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| FetchError::Client(e.to_string()))?
        .with_root_certificates(store)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
