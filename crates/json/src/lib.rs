//! Strict JSON for security inputs, without serde.
//!
//! - [`parse`] reads RFC 8259 JSON into a [`Json`] tree and refuses what a parser could read
//!   two ways: duplicate member names (at any depth), unpaired UTF-16 surrogates, invalid
//!   UTF-8, trailing data, nesting deeper than [`MAX_DEPTH`].
//! - [`decode`] turns a tree into typed values ([`FromJson`]), naming the path of whatever
//!   is wrong (`edges[3].kid: expected a string, found a number`); objects declare which
//!   members they accept ([`Members`]).
//! - [`Json::to_canonical_string`] writes a value the way serde_json writes it back (sorted
//!   members, its escaping, its number forms), so hashes over re-serialized values agree
//!   with serde_json-based producers. Numbers other than 64-bit integers are kept as
//!   written and handled in decimal ([`number`]): no floating-point code ships.
//!
//! Hand-written rather than serde-derived because the browser verifier ships this code: the
//! generic serde machinery was the largest part of its wasm module.
//!
//! Pure: no I/O; builds with rustc 1.85 for wasm32.

pub mod decode;
pub mod number;
pub mod parse;
#[cfg(feature = "serde")]
mod serde_impl;
pub mod value;
pub mod write;

pub use decode::{DecodeError, FromJson, Members, Path, from_slice};
pub use number::NumberError;
pub use parse::{JsonError, MAX_DEPTH, parse};
pub use value::Json;
