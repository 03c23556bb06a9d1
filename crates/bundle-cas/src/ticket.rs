//! Node tickets: the provider's endpoint id and direct addresses plus the blob's hash.

use std::fmt;
use std::str::FromStr;

use iroh_blobs::ticket::BlobTicket;

use crate::hash::BundleHash;

/// An iroh-blobs ticket (`blob…` base32 text) as printed by `nucleus bundle publish`.
///
/// It carries the provider's address out of band; there is no discovery. The hash it
/// embeds is a claim only: fetchers cross-check it against the hash they were told to
/// fetch and the transfer is verified against the requested hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeTicket(BlobTicket);

/// A string that is not an iroh-blobs ticket.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid node ticket: {0}")]
pub struct TicketParseError(String);

impl NodeTicket {
    pub(crate) fn new(inner: BlobTicket) -> Self {
        Self(inner)
    }

    /// The hash the ticket claims to serve.
    pub fn hash(&self) -> BundleHash {
        self.0.hash().into()
    }

    /// The direct socket addresses the ticket carries.
    pub fn direct_addrs(&self) -> Vec<std::net::SocketAddr> {
        self.0.addr().ip_addrs().copied().collect()
    }

    pub(crate) fn inner(&self) -> &BlobTicket {
        &self.0
    }
}

impl FromStr for NodeTicket {
    type Err = TicketParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.trim()
            .parse::<BlobTicket>()
            .map(Self)
            .map_err(|e| TicketParseError(e.to_string()))
    }
}

impl fmt::Display for NodeTicket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}
