//! A loopback HTTPS server with its own test CA, standing in for SPIFFE bundle endpoints
//! (`https_web`): it answers `GET /<path>` from a map the test changes as it goes, and can be
//! taken down (connections closed before TLS) to play an unreachable endpoint.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// What the server answers: `None` while it is down.
type Bodies = Arc<Mutex<Option<BTreeMap<String, Vec<u8>>>>>;

/// A running endpoint; it serves until the test's runtime ends.
#[derive(Debug)]
pub struct BundleEndpoint {
    /// `https://127.0.0.1:<port>`.
    pub base: String,
    /// The PEM of the CA that signed the server's certificate (for the operator's CA
    /// ConfigMap).
    pub ca_pem: String,
    bodies: Bodies,
    served: Arc<AtomicUsize>,
}

impl BundleEndpoint {
    /// Starts an endpoint with a fresh CA called `ca_name`, serving nothing yet (404).
    pub async fn start(ca_name: &str) -> anyhow::Result<BundleEndpoint> {
        let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, ca_name);
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate()?)?;
        let leaf_key = KeyPair::generate()?;
        let leaf =
            CertificateParams::new(vec!["127.0.0.1".to_owned()])?.signed_by(&leaf_key, &ca)?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(
                vec![leaf.der().clone()],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
            )?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let bodies: Bodies = Arc::new(Mutex::new(Some(BTreeMap::new())));
        let served = Arc::new(AtomicUsize::new(0));
        let (b, s) = (bodies.clone(), served.clone());
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let Some(current) = b.lock().unwrap_or_else(|p| p.into_inner()).clone() else {
                    drop(tcp);
                    continue;
                };
                let (acceptor, s) = (acceptor.clone(), s.clone());
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let mut req = Vec::new();
                    let mut chunk = [0u8; 1024];
                    while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                        match tls.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => req.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let line = String::from_utf8_lossy(&req);
                    let path = line.split_whitespace().nth(1).unwrap_or_default();
                    let (status, body) = match current.get(path.trim_start_matches('/')) {
                        Some(b) => ("200 OK", b.as_slice()),
                        None => ("404 Not Found", &b""[..]),
                    };
                    let head = format!(
                        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    if tls.write_all(head.as_bytes()).await.is_ok()
                        && tls.write_all(body).await.is_ok()
                        && status.starts_with("200")
                    {
                        s.fetch_add(1, Ordering::SeqCst);
                    }
                    let _ = tls.shutdown().await;
                });
            }
        });
        Ok(BundleEndpoint {
            base: format!("https://127.0.0.1:{port}"),
            ca_pem: ca.pem(),
            bodies,
            served,
        })
    }

    /// The URL of `path` on this endpoint.
    pub fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.base)
    }

    /// Serves `body` at `path` from now on, bringing the endpoint up if it was down.
    pub fn put(&self, path: &str, body: Vec<u8>) {
        self.bodies
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_or_insert_with(BTreeMap::new)
            .insert(path.to_owned(), body);
    }

    /// Takes the endpoint down and forgets what it served: connections are closed before
    /// TLS until the next [`BundleEndpoint::put`].
    pub fn take_down(&self) {
        let mut bodies = self.bodies.lock().unwrap_or_else(|p| p.into_inner());
        *bodies = None;
    }

    /// How many 200 answers were sent so far.
    pub fn served(&self) -> usize {
        self.served.load(Ordering::SeqCst)
    }
}
