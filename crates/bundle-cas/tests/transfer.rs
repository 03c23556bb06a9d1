//! Publish/fetch over loopback, and the ways a fetch must fail.

#[path = "support/tampering.rs"]
mod tampering;

use std::path::{Path, PathBuf};
use std::time::Duration;

use iroh_blobs::BlobFormat;
use iroh_blobs::ticket::BlobTicket;
use nucleus_bundle_cas::{
    BlobStore, BundleHash, FetchError, FetchOptions, FetchProgress, NodeTicket, PublishOptions,
    Publisher, fetch, fetch_with_progress,
};
use nucleus_testkit::bytes::pseudo_random;
use tampering::{Relay, Tamper};

fn quick() -> FetchOptions {
    FetchOptions {
        timeout: Duration::from_secs(20),
        ..FetchOptions::default()
    }
}

/// A ticket with the publisher's address but an arbitrary hash and format.
fn forged_ticket(real: &NodeTicket, hash: BundleHash, format: BlobFormat) -> NodeTicket {
    let parsed: BlobTicket = real.to_string().parse().unwrap();
    BlobTicket::new(parsed.addr().clone(), hash.into(), format)
        .to_string()
        .parse()
        .unwrap()
}

/// The `.data` files of an iroh-blobs file store (blobs above the inline threshold).
fn data_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                todo.push(p);
            } else if p.extension().is_some_and(|e| e == "data") {
                out.push(p);
            }
        }
    }
    out
}

#[tokio::test]
async fn round_trip_over_loopback_returns_exact_bytes() {
    let data = pseudo_random(300_000, 1);
    let publisher = Publisher::start(data.clone(), PublishOptions::default())
        .await
        .unwrap();
    assert_eq!(publisher.hash(), BundleHash::of(&data));
    assert_eq!(publisher.size(), data.len() as u64);
    let ticket: NodeTicket = publisher.ticket().to_string().parse().unwrap();
    assert_eq!(ticket.hash(), publisher.hash());
    let addrs = ticket.direct_addrs();
    assert!(!addrs.is_empty());
    assert!(addrs.iter().all(|a| a.ip().is_loopback()), "{addrs:?}");

    let mut sizes = Vec::new();
    let mut received = 0;
    let got = fetch_with_progress(&ticket, &publisher.hash(), &quick(), |p| match p {
        FetchProgress::Size(s) => sizes.push(s),
        FetchProgress::Received(n) => received = n,
    })
    .await
    .unwrap();
    assert_eq!(got.bytes, data);
    assert_eq!(got.hash, BundleHash::of(&data));
    assert_eq!(sizes, vec![data.len() as u64]);
    assert_eq!(received, data.len() as u64);
    assert!(got.stats.wire_bytes >= data.len() as u64);
    publisher.shutdown().await;
}

#[tokio::test]
async fn sizes_at_chunk_and_chunk_group_edges_round_trip() {
    // Empty, one byte, one BLAKE3 chunk (1 KiB) and either side of it, one iroh chunk
    // group (16 KiB) and either side of it: each a different bao tree shape, and each
    // returned exactly, in order, with nothing missing.
    for (seed, len) in [0, 1, 1023, 1024, 1025, 16383, 16384, 16385, 49_153]
        .into_iter()
        .enumerate()
    {
        let data = pseudo_random(len, seed as u64 + 10);
        let publisher = Publisher::start(data.clone(), PublishOptions::default())
            .await
            .unwrap();
        let got = fetch(publisher.ticket(), &publisher.hash(), &quick())
            .await
            .unwrap();
        assert_eq!(got.bytes, data, "length {len}");
        assert_eq!(got.hash, BundleHash::of(&data), "length {len}");
        publisher.shutdown().await;
    }
}

#[tokio::test]
async fn disk_store_publisher_serves_too() {
    let dir = tempfile::tempdir().unwrap();
    let data = pseudo_random(1 << 20, 2);
    let publisher = Publisher::start(
        data.clone(),
        PublishOptions {
            store: BlobStore::Disk(dir.path().join("blobs")),
            ..PublishOptions::default()
        },
    )
    .await
    .unwrap();
    let got = fetch(publisher.ticket(), &publisher.hash(), &quick())
        .await
        .unwrap();
    assert_eq!(got.bytes, data);
    publisher.shutdown().await;
}

#[tokio::test]
async fn ticket_naming_another_hash_is_refused_before_connecting() {
    let publisher = Publisher::start(b"bundle A".to_vec(), PublishOptions::default())
        .await
        .unwrap();
    let other = BundleHash::of(b"bundle B");
    let err = fetch(publisher.ticket(), &other, &quick())
        .await
        .unwrap_err();
    match err {
        FetchError::TicketHashMismatch { ticket, requested } => {
            assert_eq!(ticket, publisher.hash());
            assert_eq!(requested, other);
        }
        e => panic!("expected TicketHashMismatch, got {e:?}"),
    }
    publisher.shutdown().await;
}

#[tokio::test]
async fn provider_without_the_requested_blob_is_rejected() {
    // A consistent ticket (hash B) that points at a node serving only A.
    let publisher = Publisher::start(b"bundle A".to_vec(), PublishOptions::default())
        .await
        .unwrap();
    let wanted = BundleHash::of(b"bundle B");
    let ticket = forged_ticket(publisher.ticket(), wanted, BlobFormat::Raw);
    let err = fetch(&ticket, &wanted, &quick()).await.unwrap_err();
    assert!(
        matches!(err, FetchError::NotServed { hash, .. } if hash == wanted),
        "{err:?}"
    );
    publisher.shutdown().await;
}

#[tokio::test]
async fn hash_sequence_ticket_is_refused() {
    let publisher = Publisher::start(b"bundle A".to_vec(), PublishOptions::default())
        .await
        .unwrap();
    let ticket = forged_ticket(publisher.ticket(), publisher.hash(), BlobFormat::HashSeq);
    let err = fetch(&ticket, &publisher.hash(), &quick())
        .await
        .unwrap_err();
    assert!(matches!(err, FetchError::NotRawBlob), "{err:?}");
    publisher.shutdown().await;
}

/// Publishes 1 MiB from a disk store, lets `tamper` damage the stored bytes behind the
/// store's back (the outboard still describes the original), and fetches. The honest
/// provider validates what it reads against the outboard, so the damage surfaces as a
/// failed fetch either way; the malicious-provider tests below cover a provider that
/// sends bad bytes on purpose.
async fn fetch_after_tampering(tamper: impl FnOnce(&Path)) -> FetchError {
    let dir = tempfile::tempdir().unwrap();
    let data = pseudo_random(1 << 20, 3);
    let publisher = Publisher::start(
        data.clone(),
        PublishOptions {
            store: BlobStore::Disk(dir.path().join("blobs")),
            ..PublishOptions::default()
        },
    )
    .await
    .unwrap();
    let files = data_files(dir.path());
    assert_eq!(files.len(), 1, "expected one data file, found {files:?}");
    assert_eq!(std::fs::read(&files[0]).unwrap(), data);
    tamper(&files[0]);
    let err = fetch(publisher.ticket(), &publisher.hash(), &quick())
        .await
        .unwrap_err();
    publisher.shutdown().await;
    err
}

#[tokio::test]
async fn corrupted_disk_replica_is_not_served() {
    let err = fetch_after_tampering(|path| {
        let mut bytes = std::fs::read(path).unwrap();
        // Substitute a whole chunk group in the middle with other content.
        for b in &mut bytes[400_000..420_000] {
            *b = !*b;
        }
        std::fs::write(path, bytes).unwrap();
    })
    .await;
    assert!(
        matches!(
            err,
            FetchError::Transfer { .. } | FetchError::NotServed { .. }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn truncated_disk_replica_is_not_served() {
    let err = fetch_after_tampering(|path| {
        let f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
        f.set_len(600_000).unwrap();
    })
    .await;
    assert!(
        matches!(
            err,
            FetchError::Transfer { .. } | FetchError::NotServed { .. }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn blob_above_the_limit_is_refused_on_its_proven_size() {
    let data = pseudo_random(200_000, 4);
    let publisher = Publisher::start(data, PublishOptions::default())
        .await
        .unwrap();
    let options = FetchOptions {
        max_size: Some(100_000),
        ..quick()
    };
    let mut received_any = false;
    let err = fetch_with_progress(publisher.ticket(), &publisher.hash(), &options, |p| {
        if matches!(p, FetchProgress::Received(_)) {
            received_any = true;
        }
    })
    .await
    .unwrap_err();
    assert!(
        matches!(
            err,
            FetchError::TooLarge {
                size: 200_000,
                limit: 100_000
            }
        ),
        "{err:?}"
    );
    assert!(
        !received_any,
        "body transfer started despite the size limit"
    );
    publisher.shutdown().await;
}

#[tokio::test]
async fn stopped_provider_is_unreachable() {
    let publisher = Publisher::start(b"bundle A".to_vec(), PublishOptions::default())
        .await
        .unwrap();
    let ticket = publisher.ticket().clone();
    let hash = publisher.hash();
    publisher.shutdown().await;
    let options = FetchOptions {
        timeout: Duration::from_secs(3),
        ..FetchOptions::default()
    };
    let err = fetch(&ticket, &hash, &options).await.unwrap_err();
    assert!(
        matches!(err, FetchError::Connect(_) | FetchError::Timeout(_)),
        "{err:?}"
    );
}

#[test]
fn malformed_ticket_does_not_parse() {
    assert!("blobnotaticket".parse::<NodeTicket>().is_err());
    assert!("".parse::<NodeTicket>().is_err());
}

/// Serves 1 MiB honestly, puts a malicious provider in front of it, and fetches through
/// the malicious one with a ticket that is correct in every respect.
async fn fetch_through_malicious_provider(tamper: Tamper) -> Result<Vec<u8>, FetchError> {
    let data = pseudo_random(1 << 20, 5);
    let honest = Publisher::start(data, PublishOptions::default())
        .await
        .unwrap();
    let relay = Relay::start(&honest.ticket().to_string(), tamper).await;
    let ticket: NodeTicket = relay.ticket().parse().unwrap();
    let result = fetch(&ticket, &honest.hash(), &quick())
        .await
        .map(|f| f.bytes);
    relay.shutdown().await;
    honest.shutdown().await;
    result
}

#[tokio::test]
async fn relay_without_tampering_delivers_the_blob() {
    // Control for the two tests below: the relay itself is transparent.
    let got = fetch_through_malicious_provider(Tamper::Nothing)
        .await
        .unwrap();
    assert_eq!(got, pseudo_random(1 << 20, 5));
}

#[tokio::test]
async fn substituted_bytes_from_a_provider_fail_bao_verification() {
    let err = fetch_through_malicious_provider(Tamper::FlipAt(500_000))
        .await
        .unwrap_err();
    assert!(matches!(err, FetchError::Transfer { .. }), "{err:?}");
}

#[tokio::test]
async fn truncated_stream_from_a_provider_is_rejected() {
    let err = fetch_through_malicious_provider(Tamper::CutAt(600_000))
        .await
        .unwrap_err();
    assert!(matches!(err, FetchError::Transfer { .. }), "{err:?}");
}
