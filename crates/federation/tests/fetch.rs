//! The https_web fetch against a loopback rustls server with an rcgen test CA.

mod common;

use std::time::{Duration, Instant};

use common::https::{Answer, Server, TestCa};
use nucleus_federation::fetch::DEFAULT_MAX_BODY_BYTES;
use nucleus_federation::{
    BundleSource, FetchError, FetchOptions, HttpsWebFetcher, Ingested, RefreshError, RollbackGuard,
    RollbackPolicy, TrustRoots, refresh_once,
};

fn options(ca: &TestCa) -> FetchOptions {
    FetchOptions {
        roots: TrustRoots::Custom(ca.pem.clone().into_bytes()),
        ..FetchOptions::default()
    }
}

#[tokio::test]
async fn a_bundle_is_fetched_and_ingested() {
    let ca = TestCa::new("test CA");
    let server = Server::start(
        &ca,
        Answer::Body(common::bytes("generated/bundle_seq1.json")),
    )
    .await;
    let fetcher = HttpsWebFetcher::new(server.url.clone(), &options(&ca)).unwrap();
    let mut guard = RollbackGuard::new(RollbackPolicy::default());
    let got = refresh_once(&fetcher, &mut guard).await.unwrap();
    assert!(matches!(
        got,
        Ingested::Accepted {
            sequence: Some(1),
            ..
        }
    ));
    // Rotation served next is picked up; a rollback served after it is refused.
    server.set(Answer::Body(common::bytes(
        "generated/bundle_seq2_rotated.json",
    )));
    assert!(matches!(
        refresh_once(&fetcher, &mut guard).await,
        Ok(Ingested::Accepted {
            sequence: Some(2),
            ..
        })
    ));
    server.set(Answer::Body(common::bytes("generated/bundle_seq1.json")));
    assert!(matches!(
        refresh_once(&fetcher, &mut guard).await,
        Err(RefreshError::Refused(_))
    ));
    // Endpoint failing: keys kept.
    server.set(Answer::Status(503));
    assert!(matches!(
        refresh_once(&fetcher, &mut guard).await,
        Err(RefreshError::Fetch(FetchError::Status { status: 503, .. }))
    ));
    server.set(Answer::Body(b"<html>502 Bad Gateway</html>".to_vec()));
    assert!(matches!(
        refresh_once(&fetcher, &mut guard).await,
        Err(RefreshError::Malformed(_))
    ));
    assert_eq!(guard.last_sequence(), Some(2));
    assert_eq!(guard.current().unwrap().jwt_keys().len(), 4);
    assert_eq!(server.requests(), 5);
}

#[tokio::test]
async fn a_server_certificate_from_another_ca_is_refused() {
    let ca = TestCa::new("serving CA");
    let other = TestCa::new("some other CA");
    let server = Server::start(
        &ca,
        Answer::Body(common::bytes("generated/bundle_seq1.json")),
    )
    .await;
    let fetcher = HttpsWebFetcher::new(server.url.clone(), &options(&other)).unwrap();
    match fetcher.fetch().await {
        Err(FetchError::Transport { reason, .. }) => {
            assert!(reason.to_lowercase().contains("certificate"), "{reason}")
        }
        other => panic!("expected a TLS failure, got {other:?}"),
    }
    // And the Web PKI roots alone do not trust a private test CA either.
    let web = HttpsWebFetcher::new(server.url.clone(), &FetchOptions::default()).unwrap();
    assert!(matches!(
        web.fetch().await,
        Err(FetchError::Transport { .. })
    ));
    // Web PKI plus the right CA does.
    let both = FetchOptions {
        roots: TrustRoots::WebPkiAnd(ca.pem.clone().into_bytes()),
        ..FetchOptions::default()
    };
    let fetcher = HttpsWebFetcher::new(server.url.clone(), &both).unwrap();
    assert!(fetcher.fetch().await.is_ok());
}

#[tokio::test]
async fn redirects_are_refused_not_followed() {
    let ca = TestCa::new("test CA");
    let target = Server::start(
        &ca,
        Answer::Body(common::bytes("generated/bundle_seq1.json")),
    )
    .await;
    let server = Server::start(&ca, Answer::Redirect(target.url.to_string())).await;
    let fetcher = HttpsWebFetcher::new(server.url.clone(), &options(&ca)).unwrap();
    match fetcher.fetch().await {
        Err(FetchError::Redirect {
            status: 302,
            location,
            ..
        }) => {
            assert_eq!(location.as_deref(), Some(target.url.as_str()))
        }
        other => panic!("expected a refused redirect, got {other:?}"),
    }
    assert_eq!(
        target.requests(),
        0,
        "the redirect target must not be contacted"
    );
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let ca = TestCa::new("test CA");
    // Declared too large by Content-Length.
    let server = Server::start(&ca, Answer::Body(vec![b' '; DEFAULT_MAX_BODY_BYTES + 1])).await;
    let fetcher = HttpsWebFetcher::new(server.url.clone(), &options(&ca)).unwrap();
    assert!(matches!(
        fetcher.fetch().await,
        Err(FetchError::TooLarge { .. })
    ));
    // Streamed without a length.
    server.set(Answer::Stream(4 * DEFAULT_MAX_BODY_BYTES));
    assert!(matches!(
        fetcher.fetch().await,
        Err(FetchError::TooLarge { .. })
    ));
    // A small cap applies to a normal bundle too.
    server.set(Answer::Body(common::bytes("generated/bundle_seq1.json")));
    let small = FetchOptions {
        max_body_bytes: 100,
        ..options(&ca)
    };
    let fetcher = HttpsWebFetcher::new(server.url.clone(), &small).unwrap();
    assert!(matches!(
        fetcher.fetch().await,
        Err(FetchError::TooLarge { limit: 100, .. })
    ));
}

#[tokio::test]
async fn a_silent_endpoint_times_out() {
    let ca = TestCa::new("test CA");
    let server = Server::start(&ca, Answer::Hang).await;
    let opts = FetchOptions {
        timeout: Duration::from_millis(500),
        ..options(&ca)
    };
    let fetcher = HttpsWebFetcher::new(server.url.clone(), &opts).unwrap();
    let started = Instant::now();
    assert!(matches!(
        fetcher.fetch().await,
        Err(FetchError::Timeout { .. })
    ));
    println!("timed out after {:?} (timeout 500 ms)", started.elapsed());
}

#[tokio::test]
async fn an_unreachable_endpoint_is_a_transport_error() {
    let ca = TestCa::new("test CA");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let url = url::Url::parse(&format!("https://127.0.0.1:{port}/bundle")).unwrap();
    let fetcher = HttpsWebFetcher::new(url, &options(&ca)).unwrap();
    assert!(matches!(
        fetcher.fetch().await,
        Err(FetchError::Transport { .. })
    ));
}

#[test]
fn an_unusable_ca_bundle_is_refused() {
    let url = url::Url::parse("https://127.0.0.1/b").unwrap();
    let opts = FetchOptions {
        roots: TrustRoots::Custom(b"not pem".to_vec()),
        ..FetchOptions::default()
    };
    assert!(matches!(
        HttpsWebFetcher::new(url, &opts),
        Err(FetchError::CaBundle(_))
    ));
}
