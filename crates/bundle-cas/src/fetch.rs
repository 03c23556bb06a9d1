//! Fetching a bundle's bytes by ticket, verified against the requested hash.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use bao_tree::io::BaoContentItem;
use iroh::Endpoint;
use iroh::endpoint::Connection;
use iroh_blobs::BlobFormat;
use iroh_blobs::get::{Stats, fsm};
use iroh_blobs::protocol::GetRequest;

use crate::endpoint::bind_direct;
use crate::error::FetchError;
use crate::hash::BundleHash;
use crate::ticket::NodeTicket;

/// Most bytes reserved before the transfer when the caller set no size limit.
const PREALLOCATE_MAX: u64 = 256 * 1024 * 1024;

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

/// Bytes that were received over a bao-verified stream: they are exactly the bytes
/// addressed by `hash`. Nothing more is known about them (not who made them,
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

    let received = receive(&conn, hash, size, &mut on_progress).await;
    conn.close(
        0u32.into(),
        if received.is_ok() {
            b"done"
        } else {
            b"transfer failed"
        },
    );
    let (bytes, stats) = received.map_err(|reason| FetchError::Transfer {
        hash: requested,
        reason,
    })?;
    Ok(Fetched {
        hash: requested,
        bytes,
        stats: FetchStats {
            connect: connected.duration_since(start),
            transfer: connected.elapsed(),
            wire_bytes: stats.total_bytes_read() + probe.total_bytes_read(),
        },
    })
}

/// Streams the whole blob straight into one buffer of the proven `size`.
///
/// The bao decoder checks every chunk group against its parent hashes, up to `hash`,
/// before yielding it, and the response only ends once every chunk of the blob has come;
/// so the bytes returned are exactly those BLAKE3 `hash` addresses, and hashing them a
/// second time would add nothing. No blob store: its copy in and copy out are not needed.
async fn receive(
    conn: &Connection,
    hash: iroh_blobs::Hash,
    size: u64,
    on_progress: &mut impl FnMut(FetchProgress),
) -> Result<(Vec<u8>, Stats), String> {
    let request = GetRequest::blob(hash);
    let connected = fsm::start(conn.clone(), request, Default::default())
        .next()
        .await
        .map_err(|e| e.to_string())?;
    let fsm::ConnectedNext::StartRoot(root) = connected.next().await.map_err(|e| e.to_string())?
    else {
        return Err("the response is not for a single blob".into());
    };
    let (mut content, claimed) = root.next().next().await.map_err(|e| e.to_string())?;
    if claimed != size {
        return Err(format!(
            "the provider announced {claimed} bytes after proving {size}"
        ));
    }
    // The size is proven, and checked against the caller's limit; the cap only bounds what
    // is reserved up front when there is no limit.
    let mut bytes = Vec::with_capacity(size.min(PREALLOCATE_MAX) as usize);
    let end = loop {
        match content.next().await {
            fsm::BlobContentNext::More((next, item)) => {
                if let BaoContentItem::Leaf(leaf) = item.map_err(|e| e.to_string())? {
                    if leaf.offset != bytes.len() as u64 {
                        return Err(format!(
                            "chunk at offset {} where {} was expected",
                            leaf.offset,
                            bytes.len()
                        ));
                    }
                    bytes.extend_from_slice(&leaf.data);
                    on_progress(FetchProgress::Received(bytes.len() as u64));
                }
                content = next;
            }
            fsm::BlobContentNext::Done(end) => break end,
        }
    };
    if bytes.len() as u64 != size {
        return Err(format!("{} of {size} bytes arrived", bytes.len()));
    }
    let fsm::EndBlobNext::Closing(closing) = end.next() else {
        return Err("the response continues past the blob".into());
    };
    let stats = closing.next().await.map_err(|e| e.to_string())?;
    Ok((bytes, stats))
}
