//! Fetching a bundle's bytes by ticket, verified against the requested hash.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use futures::StreamExt;
use iroh::Endpoint;
use iroh_blobs::api::remote::GetProgressItem;
use iroh_blobs::store::mem::MemStore;
use iroh_blobs::{BlobFormat, HashAndFormat};

use crate::endpoint::bind_direct;
use crate::error::FetchError;
use crate::hash::BundleHash;
use crate::ticket::NodeTicket;

/// Fetch settings.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// Refuse blobs larger than this many bytes (checked against the provider's verified
    /// size before the body is transferred, and again on the bytes). `None`: no limit.
    pub max_size: Option<u64>,
    /// Deadline for the whole fetch (connect, size proof and transfer).
    pub timeout: Duration,
    /// Local socket to bind; the default `0.0.0.0:0` reaches loopback and routable peers.
    pub bind: SocketAddr,
}

impl Default for FetchOptions {
    fn default() -> Self {
        Self {
            max_size: None,
            timeout: Duration::from_secs(300),
            bind: SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)),
        }
    }
}

/// Progress of a fetch, for progress bars.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FetchProgress {
    /// The provider proved the blob's size (bao proof of the last chunk).
    Size(u64),
    /// Payload bytes received and verified so far.
    Received(u64),
}

/// Bytes that were received over a bao-verified stream and re-hashed: they are exactly
/// the bytes addressed by `hash`. Nothing more is known about them (not who made them,
/// nor whether they are a valid bundle).
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The address the bytes hash to.
    pub hash: BundleHash,
    /// The bytes.
    pub bytes: Vec<u8>,
    /// Connection and transfer figures.
    pub stats: FetchStats,
}

/// Figures about one fetch.
#[derive(Debug, Clone, Copy)]
pub struct FetchStats {
    /// Time from start to connected.
    pub connect: Duration,
    /// Time from connected to all bytes verified.
    pub transfer: Duration,
    /// Bytes read from the network, payload and bao tree.
    pub wire_bytes: u64,
}

/// Fetches the blob `requested` from the provider named by `ticket`.
///
/// Refuses a ticket that names another hash or a hash sequence, refuses blobs above
/// `options.max_size`, and returns only bytes whose BLAKE3 equals `requested`.
pub async fn fetch(
    ticket: &NodeTicket,
    requested: &BundleHash,
    options: &FetchOptions,
) -> Result<Fetched, FetchError> {
    fetch_with_progress(ticket, requested, options, |_| {}).await
}

/// Like [`fetch`], reporting progress to `on_progress`.
pub async fn fetch_with_progress(
    ticket: &NodeTicket,
    requested: &BundleHash,
    options: &FetchOptions,
    on_progress: impl FnMut(FetchProgress),
) -> Result<Fetched, FetchError> {
    check_ticket(ticket, requested)?;
    let endpoint = bind_direct(options.bind).await.map_err(FetchError::Bind)?;
    let result = tokio::time::timeout(
        options.timeout,
        transfer(&endpoint, ticket, *requested, options, on_progress),
    )
    .await
    .unwrap_or(Err(FetchError::Timeout(options.timeout)));
    endpoint.close().await;
    result
}

/// The checks that need no network: same hash, a raw blob, a direct address.
fn check_ticket(ticket: &NodeTicket, requested: &BundleHash) -> Result<(), FetchError> {
    if ticket.hash() != *requested {
        return Err(FetchError::TicketHashMismatch {
            ticket: ticket.hash(),
            requested: *requested,
        });
    }
    if ticket.inner().format() != BlobFormat::Raw {
        return Err(FetchError::NotRawBlob);
    }
    if ticket.direct_addrs().is_empty() {
        return Err(FetchError::NoDirectAddress);
    }
    Ok(())
}

async fn transfer(
    endpoint: &Endpoint,
    ticket: &NodeTicket,
    requested: BundleHash,
    options: &FetchOptions,
    mut on_progress: impl FnMut(FetchProgress),
) -> Result<Fetched, FetchError> {
    let start = Instant::now();
    let hash: iroh_blobs::Hash = requested.into();
    let conn = endpoint
        .connect(ticket.inner().addr().clone(), iroh_blobs::ALPN)
        .await
        .map_err(|e| FetchError::Connect(e.to_string()))?;
    let connected = Instant::now();

    // The size comes with a bao proof of the last chunk against `requested`, so a
    // provider cannot make us accept (or reject) a blob by lying about its size.
    let (size, probe) = iroh_blobs::get::request::get_verified_size(&conn, &hash)
        .await
        .map_err(|e| FetchError::NotServed {
            hash: requested,
            reason: e.to_string(),
        })?;
    if let Some(limit) = options.max_size
        && size > limit
    {
        conn.close(0u32.into(), b"too large");
        return Err(FetchError::TooLarge { size, limit });
    }
    on_progress(FetchProgress::Size(size));

    // A fresh in-memory store per fetch: nothing is reused from an earlier fetch.
    let store = MemStore::new();
    let mut items = store
        .remote()
        .fetch(conn.clone(), HashAndFormat::raw(hash))
        .stream();
    let mut stats = None;
    while let Some(item) = items.next().await {
        match item {
            GetProgressItem::Progress(n) => on_progress(FetchProgress::Received(n)),
            GetProgressItem::Done(s) => stats = Some(s),
            GetProgressItem::Error(e) => {
                conn.close(0u32.into(), b"transfer failed");
                return Err(FetchError::Transfer {
                    hash: requested,
                    reason: e.to_string(),
                });
            }
        }
    }
    conn.close(0u32.into(), b"done");
    let stats = stats.ok_or_else(|| FetchError::Transfer {
        hash: requested,
        reason: "transfer ended without a result".into(),
    })?;
    let bytes = Vec::from(
        store
            .get_bytes(hash)
            .await
            .map_err(|e| FetchError::Read(e.to_string()))?,
    );
    let transfer = connected.elapsed();
    on_progress(FetchProgress::Received(bytes.len() as u64));
    let actual = BundleHash::of(&bytes);
    if actual != requested {
        return Err(FetchError::HashMismatch {
            expected: requested,
            actual,
        });
    }
    if let Some(limit) = options.max_size
        && bytes.len() as u64 > limit
    {
        return Err(FetchError::TooLarge {
            size: bytes.len() as u64,
            limit,
        });
    }
    Ok(Fetched {
        hash: actual,
        bytes,
        stats: FetchStats {
            connect: connected.duration_since(start),
            transfer,
            wire_bytes: stats.total_bytes_read() + probe.total_bytes_read(),
        },
    })
}
