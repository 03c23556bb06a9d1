//! The v2 signed byte layouts and the producer-side signing helpers.
//!
//! Every variable-length field is length-prefixed (`u32` big-endian byte count), so no two
//! distinct edges encode to the same bytes; each layout starts with its own domain string.

use std::collections::BTreeMap;

use ed25519_dalek::{Signer, SigningKey};
use nucleus_lineage::b64;
use sha2::{Digest, Sha256};

use super::model::{BindingV2, EdgeV2, PayloadV2};

/// Domain separator of the edge encoding.
pub const EDGE_DOMAIN: &[u8] = b"nucleus-bundle/v2 edge\n";
/// Domain separator of the payload binding message.
pub const BINDING_DOMAIN: &[u8] = b"nucleus-bundle/v2 payload\n";

fn put(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// The signed fields of an edge, before signing.
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

/// The canonical encoding of an edge: what its issuer signs and what its hash covers.
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
    /// The canonical encoding of these fields for `session`, chained to `prev`, issued by `kid`.
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

    /// Signs the edge; returns the wire edge and its chain hash (the next edge's `prev` and
    /// the edge's log leaf data).
    pub fn sign(
        self,
        session: &str,
        prev: &[u8; 32],
        kid: &str,
        key: &SigningKey,
    ) -> (EdgeV2, [u8; 32]) {
        let bytes = self.encode(session, prev, kid);
        let sig = key.sign(&bytes);
        let hash = Sha256::digest(&bytes).into();
        let edge = EdgeV2 {
            seq: self.seq,
            child: self.child,
            parents: self.parents,
            kind: self.kind,
            content_sha256_hex: self.content_sha256.map(hex::encode),
            ts: self.ts,
            attrs: self.attrs,
            kid: kid.to_owned(),
            sig: b64::encode(&sig.to_bytes()),
        };
        (edge, hash)
    }
}

/// The canonical encoding of a wire edge whose content hash was already decoded.
pub(crate) fn encode_wire(
    edge: &EdgeV2,
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

/// The message a payload binding signs: the session, media type, payload hash, chain head
/// and signing kid.
pub fn binding_message(
    session: &str,
    media_type: &str,
    payload_sha256: &[u8; 32],
    head: &[u8; 32],
    kid: &str,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    out.extend_from_slice(BINDING_DOMAIN);
    put(&mut out, session.as_bytes());
    put(&mut out, media_type.as_bytes());
    out.extend_from_slice(payload_sha256);
    out.extend_from_slice(head);
    put(&mut out, kid.as_bytes());
    out
}

/// Builds a payload and its binding to `head`, signed by the issuer.
pub fn bind_payload(
    session: &str,
    media_type: &str,
    data: &[u8],
    head: &[u8; 32],
    kid: &str,
    key: &SigningKey,
) -> (PayloadV2, BindingV2) {
    let digest: [u8; 32] = Sha256::digest(data).into();
    let sig = key.sign(&binding_message(session, media_type, &digest, head, kid));
    (
        PayloadV2 {
            media_type: media_type.to_owned(),
            data_b64: b64::encode(data),
        },
        BindingV2 {
            kid: kid.to_owned(),
            sig: b64::encode(&sig.to_bytes()),
        },
    )
}
