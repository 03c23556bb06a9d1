//! Submitting a checkpoint to a C2SP tlog-witness (`POST <url>/add-checkpoint`): the HTTP
//! side of [`nucleus_lineage::tlog_witness`], which holds the protocol logic.

use std::time::Duration;

use anyhow::{Context, Result};
use nucleus_lineage::merkle::Hash;
use nucleus_lineage::tlog_witness;

pub use nucleus_lineage::tlog_witness::Outcome;

/// Builds the HTTP client (rustls with ring for https URLs).
pub fn http_client() -> Result<reqwest::Client> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .context("building the HTTP client")
}

/// Submits `note` (the checkpoint of `size` signed by the log) to the witness at `url`,
/// starting from `old`, the size we believe it last cosigned. `proof_from(old)` gives the
/// consistency proof from `old` to `size`. A 409 whose body is the witness's size is
/// followed by a resend from that size. Returns the outcome and the size the witness is
/// now known to be at.
pub async fn submit(
    client: &reqwest::Client,
    url: &str,
    old: u64,
    size: u64,
    note: &str,
    proof_from: impl Fn(u64) -> Result<Vec<Hash>>,
) -> Result<(Outcome, u64)> {
    let endpoint = &format!("{}/add-checkpoint", url.trim_end_matches('/'));
    tlog_witness::submit(old, size, note, proof_from, move |body| async move {
        let response = client
            .post(endpoint)
            .header("content-type", "text/plain; charset=utf-8")
            .body(body)
            .send()
            .await
            .with_context(|| format!("POST {endpoint}"))?;
        let status = response.status().as_u16();
        let bytes = response
            .bytes()
            .await
            .context("reading the witness response")?;
        Ok((status, bytes.to_vec()))
    })
    .await
}
