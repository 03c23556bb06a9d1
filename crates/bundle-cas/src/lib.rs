//! BLAKE3 content addressing and iroh-blobs transport for provenance bundles.
//!
//! A bundle is addressed by BLAKE3 of its exact bytes ([`BundleHash`]) and moved as a
//! bao-verified stream: a provider cannot substitute, corrupt or truncate the bytes
//! without the fetch failing. Endpoints run with relays and address lookup off; the
//! [`NodeTicket`] carries the provider's direct addresses.
//!
//! Fetched is not trusted: a [`Fetched`] value only proves which bytes arrived. Callers
//! must still run `nucleus_envelope::verify_bundle` against an out-of-band trust anchor.

mod endpoint;
mod error;
mod fetch;
mod hash;
mod publish;
mod ticket;

pub use error::{FetchError, HashParseError, PublishError};
pub use fetch::{FetchOptions, FetchProgress, FetchStats, Fetched, fetch, fetch_with_progress};
pub use hash::BundleHash;
pub use publish::{BlobStore, PublishOptions, Publisher};
pub use ticket::{NodeTicket, TicketParseError};
