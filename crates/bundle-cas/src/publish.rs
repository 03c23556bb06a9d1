//! Serving a bundle's bytes over iroh-blobs.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use iroh::protocol::Router;
use iroh_blobs::store::fs::FsStore;
use iroh_blobs::store::mem::MemStore;
use iroh_blobs::ticket::BlobTicket;
use iroh_blobs::{BlobFormat, BlobsProtocol};

use crate::endpoint::{ADDRESS_WAIT, bind_direct, direct_addr};
use crate::error::PublishError;
use crate::hash::BundleHash;
use crate::ticket::NodeTicket;

/// Where the publisher keeps the blob and its BLAKE3 outboard.
#[derive(Debug, Clone, Default)]
pub enum BlobStore {
    /// In memory, gone when the publisher stops.
    #[default]
    Memory,
    /// An iroh-blobs file store in this directory (created if missing).
    Disk(PathBuf),
}

/// Publisher settings.
#[derive(Debug, Clone)]
pub struct PublishOptions {
    /// UDP socket to serve on; its address goes into the ticket. The default is
    /// `127.0.0.1:0` (loopback, any port). Bind a routable address to serve other hosts.
    pub bind: SocketAddr,
    /// Blob store kind.
    pub store: BlobStore,
}

impl Default for PublishOptions {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            store: BlobStore::Memory,
        }
    }
}

enum StoreHandle {
    Memory(MemStore),
    Disk(FsStore),
}

impl StoreHandle {
    fn api(&self) -> &iroh_blobs::api::Store {
        match self {
            Self::Memory(s) => s,
            Self::Disk(s) => s,
        }
    }
}

/// A running provider serving one bundle until [`Publisher::shutdown`] or drop.
pub struct Publisher {
    router: Router,
    store: StoreHandle,
    hash: BundleHash,
    size: u64,
    ticket: NodeTicket,
}

impl Publisher {
    /// Adds `bytes` to a blob store (addressed by BLAKE3 of exactly these bytes), binds an
    /// offline endpoint and starts serving. The ticket carries only direct addresses.
    pub async fn start(bytes: Vec<u8>, options: PublishOptions) -> Result<Self, PublishError> {
        let computed = BundleHash::of(&bytes);
        let size = bytes.len() as u64;
        let store = match &options.store {
            BlobStore::Memory => StoreHandle::Memory(MemStore::new()),
            BlobStore::Disk(dir) => StoreHandle::Disk(
                FsStore::load(dir)
                    .await
                    .map_err(|e| PublishError::Store(e.to_string()))?,
            ),
        };
        let tag = store
            .api()
            .add_bytes(bytes)
            .await
            .map_err(|e| PublishError::Store(e.to_string()))?;
        let stored = BundleHash::from(tag.hash);
        if stored != computed {
            return Err(PublishError::HashMismatch {
                store: stored,
                computed,
            });
        }
        let endpoint = bind_direct(options.bind)
            .await
            .map_err(|reason| PublishError::Bind {
                addr: options.bind,
                reason,
            })?;
        let Some(addr) = direct_addr(&endpoint).await else {
            endpoint.close().await;
            return Err(PublishError::NoAddress(ADDRESS_WAIT));
        };
        let ticket = NodeTicket::new(BlobTicket::new(addr, tag.hash, BlobFormat::Raw));
        let router = Router::builder(endpoint)
            .accept(iroh_blobs::ALPN, BlobsProtocol::new(store.api(), None))
            .spawn();
        Ok(Self {
            router,
            store,
            hash: computed,
            size,
            ticket,
        })
    }

    /// BLAKE3 address of the served bytes.
    pub fn hash(&self) -> BundleHash {
        self.hash
    }

    /// Size of the served bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Ticket to hand to fetchers out of band.
    pub fn ticket(&self) -> &NodeTicket {
        &self.ticket
    }

    /// Stops serving, closes the endpoint and flushes a disk store.
    pub async fn shutdown(self) {
        if let Err(e) = self.router.shutdown().await {
            tracing::warn!(error = %e, "iroh router did not shut down cleanly");
        }
        if let Err(e) = self.store.api().shutdown().await {
            tracing::warn!(error = %e, "blob store did not shut down cleanly");
        }
    }
}
