//! The v3 byte layouts (the edge encoding and the seal message) and the producer-side
//! helpers that chain edges and seal a bundle.
//!
//! Every variable-length field is length-prefixed (`u32` big-endian byte count), so no two
//! distinct edges encode to the same bytes; each layout starts with its own domain string.

use std::collections::BTreeMap;

use ed25519_dalek::{Signer, SigningKey};
use nucleus_lineage::b64;
use sha2::{Digest, Sha256};

use super::model::{EdgeV3, PayloadV3, SealV3};

/// Domain separator of the edge encoding.
pub const EDGE_DOMAIN: &[u8] = b"nucleus-bundle/v3 edge\n";
/// Domain separator of the seal message.
pub const SEAL_DOMAIN: &[u8] = b"nucleus-bundle/v3 seal\n";

fn put(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// The fields of an edge, before it is chained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EdgeFields {
    /// Position in the session chain.
    pub seq: u64,
    /// The id this derivation produced.
    pub child: String,
    /// The ids it was derived from.
    pub parents: Vec<String>,
    /// The kind.
    pub kind: String,
    /// SHA-256 of the content.
    pub content_sha256: Option<[u8; 32]>,
    /// Canonical RFC 3339 UTC timestamp.
    pub ts: String,
    /// Attributes.
    pub attrs: BTreeMap<String, String>,
}

/// The canonical encoding of an edge: what its hash covers.
///
/// `content` is the decoded content hash; `prev` the previous edge's hash (zeros for seq 0).
#[allow(clippy::too_many_arguments)]
fn encode(
    session: &str,
    seq: u64,
    child: &str,
    parents: &[String],
    kind: &str,
    content: Option<&[u8; 32]>,
    ts: &str,
    attrs: &BTreeMap<String, String>,
    prev: &[u8; 32],
    kid: &str,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(EDGE_DOMAIN);
    put(&mut out, session.as_bytes());
    out.extend_from_slice(&seq.to_be_bytes());
    put(&mut out, child.as_bytes());
    out.extend_from_slice(&(parents.len() as u32).to_be_bytes());
    for p in parents {
        put(&mut out, p.as_bytes());
    }
    put(&mut out, kind.as_bytes());
    match content {
        Some(h) => {
            out.push(1);
            out.extend_from_slice(h);
        }
        None => out.push(0),
    }
    put(&mut out, ts.as_bytes());
    out.extend_from_slice(&(attrs.len() as u32).to_be_bytes());
    for (k, v) in attrs {
        put(&mut out, k.as_bytes());
        put(&mut out, v.as_bytes());
    }
    out.extend_from_slice(prev);
    put(&mut out, kid.as_bytes());
    out
}

impl EdgeFields {
    /// The canonical encoding of these fields for `session`, chained to `prev`, recorded
    /// under issuer key `kid`.
    pub fn encode(&self, session: &str, prev: &[u8; 32], kid: &str) -> Vec<u8> {
        encode(
            session,
            self.seq,
            &self.child,
            &self.parents,
            &self.kind,
            self.content_sha256.as_ref(),
            &self.ts,
            &self.attrs,
            prev,
            kid,
        )
    }

    /// Chains the edge to `prev`; returns the wire edge and its hash (the next edge's `prev`,
    /// the edge's log leaf data, and the head the seal signs when it is the last edge).
    pub fn chain(self, session: &str, prev: &[u8; 32], kid: &str) -> (EdgeV3, [u8; 32]) {
        let hash = Sha256::digest(self.encode(session, prev, kid)).into();
        let edge = EdgeV3 {
            seq: self.seq,
            child: self.child,
            parents: self.parents,
            kind: self.kind,
            content_sha256_hex: self.content_sha256.map(hex::encode),
            ts: self.ts,
            attrs: self.attrs,
            kid: kid.to_owned(),
        };
        (edge, hash)
    }
}

/// The canonical encoding of a wire edge whose content hash was already decoded.
pub(crate) fn encode_wire(
    edge: &EdgeV3,
    content: Option<&[u8; 32]>,
    session: &str,
    prev: &[u8; 32],
) -> Vec<u8> {
    encode(
        session,
        edge.seq,
        &edge.child,
        &edge.parents,
        &edge.kind,
        content,
        &edge.ts,
        &edge.attrs,
        prev,
        &edge.kid,
    )
}

/// A payload as the seal covers it: its media type and the SHA-256 of its exact bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SealedPayload<'a> {
    /// The payload's media type.
    pub media_type: &'a str,
    /// SHA-256 of the payload bytes.
    pub sha256: [u8; 32],
}

/// The message the seal signs: the session, the edge count, the chain head (32 zero bytes
/// when there are no edges), the seal's kid, and the payload when there is one.
pub fn seal_message(
    session: &str,
    edge_count: u64,
    head: &[u8; 32],
    kid: &str,
    payload: Option<SealedPayload<'_>>,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(160);
    out.extend_from_slice(SEAL_DOMAIN);
    put(&mut out, session.as_bytes());
    out.extend_from_slice(&edge_count.to_be_bytes());
    out.extend_from_slice(head);
    put(&mut out, kid.as_bytes());
    match payload {
        Some(p) => {
            out.push(1);
            put(&mut out, p.media_type.as_bytes());
            out.extend_from_slice(&p.sha256);
        }
        None => out.push(0),
    }
    out
}

impl PayloadV3 {
    /// A payload carrying `data` exactly.
    pub fn new(media_type: &str, data: &[u8]) -> Self {
        PayloadV3 {
            media_type: media_type.to_owned(),
            data_b64: b64::encode(data),
        }
    }
}

/// Seals a bundle: the issuer's signature over [`seal_message`] for `session`, its
/// `edge_count` edges ending in `head`, and the optional payload carrying `payload_data`.
pub fn seal(
    session: &str,
    edge_count: u64,
    head: &[u8; 32],
    payload: Option<(&str, &[u8])>,
    kid: &str,
    key: &SigningKey,
) -> SealV3 {
    let payload = payload.map(|(media_type, data)| SealedPayload {
        media_type,
        sha256: Sha256::digest(data).into(),
    });
    let sig = key.sign(&seal_message(session, edge_count, head, kid, payload));
    SealV3 {
        kid: kid.to_owned(),
        sig: b64::encode(&sig.to_bytes()),
    }
}
