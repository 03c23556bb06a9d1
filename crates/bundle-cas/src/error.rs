//! Typed errors for addressing, publishing and fetching.

use crate::hash::BundleHash;

/// A string that is not a valid [`BundleHash`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HashParseError {
    /// Wrong length.
    #[error("BLAKE3 hash must be 64 lowercase hex characters, got {0} characters")]
    Length(usize),
    /// A character outside `0-9a-f`.
    #[error("BLAKE3 hash must be 64 lowercase hex characters, found {0:?}")]
    Character(char),
}

/// Failure to start or run a publisher.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The bytes could not be added to the blob store.
    #[error("could not add the bundle to the blob store: {0}")]
    Store(String),
    /// The store computed a different address than BLAKE3 of the bytes (never expected;
    /// checked so a store bug cannot publish under a wrong name).
    #[error("blob store addressed the bundle as {store}, but BLAKE3 of its bytes is {computed}")]
    HashMismatch {
        /// What the store returned.
        store: BundleHash,
        /// What we computed.
        computed: BundleHash,
    },
    /// The iroh endpoint could not bind.
    #[error("could not bind the iroh endpoint on {addr}: {reason}")]
    Bind {
        /// The requested bind address.
        addr: std::net::SocketAddr,
        /// The underlying error.
        reason: String,
    },
    /// The endpoint never reported a direct address to put in the ticket.
    #[error("the iroh endpoint reported no direct address within {0:?}")]
    NoAddress(std::time::Duration),
}

/// Failure to fetch a blob by ticket.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The ticket names other content than the hash the caller asked for.
    #[error(
        "ticket/hash mismatch: the ticket names blob {ticket} but {requested} was requested; refusing to fetch"
    )]
    TicketHashMismatch {
        /// Hash embedded in the ticket.
        ticket: BundleHash,
        /// Hash the caller asked for.
        requested: BundleHash,
    },
    /// The ticket asks for a hash sequence (collection); a bundle is a single raw blob.
    #[error("ticket is for a hash sequence, expected a single raw blob")]
    NotRawBlob,
    /// The ticket carries no direct address (relays and address lookup are off).
    #[error("ticket carries no direct IP address; relays and address lookup are disabled")]
    NoDirectAddress,
    /// The local endpoint could not bind.
    #[error("could not bind the local iroh endpoint: {0}")]
    Bind(String),
    /// The provider could not be reached.
    #[error("could not connect to the provider: {0}")]
    Connect(String),
    /// The provider did not prove that it holds the blob (it does not have it, refused,
    /// or answered with data that does not verify against the hash).
    #[error("the provider did not serve blob {hash}: {reason}")]
    NotServed {
        /// The requested hash.
        hash: BundleHash,
        /// The underlying error.
        reason: String,
    },
    /// The provider claims (with a verified proof) a size above the caller's limit.
    #[error("blob is {size} bytes, more than the {limit} bytes allowed here")]
    TooLarge {
        /// Verified blob size.
        size: u64,
        /// Caller's limit.
        limit: u64,
    },
    /// The bao-verified stream failed: the provider sent bytes that do not hash to the
    /// requested address (substituted or corrupted), stopped early (truncated), or the
    /// connection broke.
    #[error(
        "verified transfer of {hash} failed (substituted, corrupted or truncated data, or a broken connection): {reason}"
    )]
    Transfer {
        /// The requested hash.
        hash: BundleHash,
        /// The underlying error.
        reason: String,
    },
    /// The transfer did not finish in time.
    #[error("fetch did not finish within {0:?}")]
    Timeout(std::time::Duration),
}
