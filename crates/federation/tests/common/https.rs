//! A loopback HTTPS server with a test CA made by rcgen, whose answer the test chooses.

use std::sync::{Arc, Mutex};

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// What the server answers.
#[derive(Clone, Debug)]
pub enum Answer {
    /// 200 with this body and a Content-Length.
    Body(Vec<u8>),
    /// This status with a short body.
    Status(u16),
    /// 302 to this location.
    Redirect(String),
    /// 200 without Content-Length, streaming this many bytes then closing.
    Stream(usize),
    /// Accept TLS, read the request, never answer.
    Hang,
}

/// A test CA: its PEM and an issuer for leaf certificates.
pub struct TestCa {
    /// PEM of the CA certificate (what clients trust).
    pub pem: String,
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl TestCa {
    /// A fresh CA.
    pub fn new(name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        TestCa {
            pem: issuer.pem(),
            issuer,
        }
    }

    /// A leaf for 127.0.0.1 and localhost: (certificate chain, key).
    pub fn leaf(&self) -> (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) {
        let key = KeyPair::generate().unwrap();
        let params =
            CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        (
            vec![cert.der().clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )
    }
}

/// A running server.
pub struct Server {
    /// `https://127.0.0.1:<port>/bundle`
    pub url: url::Url,
    answer: Arc<Mutex<Answer>>,
    requests: Arc<Mutex<usize>>,
}

impl Server {
    /// Starts a server with a leaf of `ca`.
    pub async fn start(ca: &TestCa, answer: Answer) -> Self {
        let (chain, key) = ca.leaf();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .unwrap();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let answer = Arc::new(Mutex::new(answer));
        let requests = Arc::new(Mutex::new(0));
        let (a, r) = (answer.clone(), requests.clone());
        tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let acceptor = acceptor.clone();
                let (a, r) = (a.clone(), r.clone());
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 1024];
                    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                        match tls.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    *r.lock().unwrap() += 1;
                    let answer = a.lock().unwrap().clone();
                    let head = |status: &str, extra: &str| {
                        format!("HTTP/1.1 {status}\r\n{extra}Connection: close\r\n\r\n")
                    };
                    match answer {
                        Answer::Body(body) => {
                            let h = head(
                                "200 OK",
                                &format!(
                                    "Content-Type: application/json\r\nContent-Length: {}\r\n",
                                    body.len()
                                ),
                            );
                            let _ = tls.write_all(h.as_bytes()).await;
                            let _ = tls.write_all(&body).await;
                        }
                        Answer::Status(code) => {
                            let body = b"error";
                            let h = head(
                                &format!("{code} Status"),
                                &format!("Content-Length: {}\r\n", body.len()),
                            );
                            let _ = tls.write_all(h.as_bytes()).await;
                            let _ = tls.write_all(body).await;
                        }
                        Answer::Redirect(location) => {
                            let h = head(
                                "302 Found",
                                &format!("Location: {location}\r\nContent-Length: 0\r\n"),
                            );
                            let _ = tls.write_all(h.as_bytes()).await;
                        }
                        Answer::Stream(n) => {
                            let _ = tls.write_all(head("200 OK", "").as_bytes()).await;
                            let block = vec![b' '; 16 * 1024];
                            let mut left = n;
                            while left > 0 {
                                let take = left.min(block.len());
                                if tls.write_all(&block[..take]).await.is_err() {
                                    return;
                                }
                                left -= take;
                            }
                        }
                        Answer::Hang => {
                            tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
                        }
                    }
                    let _ = tls.shutdown().await;
                });
            }
        });
        let url = url::Url::parse(&format!("https://127.0.0.1:{port}/bundle")).unwrap();
        Server {
            url,
            answer,
            requests,
        }
    }

    /// Changes the answer for later requests.
    pub fn set(&self, answer: Answer) {
        *self.answer.lock().unwrap() = answer;
    }

    /// Requests served so far.
    pub fn requests(&self) -> usize {
        *self.requests.lock().unwrap()
    }
}
