//! Submitting a checkpoint to a C2SP tlog-witness (`POST <url>/add-checkpoint`).

use std::time::Duration;

use anyhow::{Context, Result};
use nucleus_lineage::merkle::Hash;
use nucleus_lineage::{NoteSignature, b64};

/// Most bytes read from a witness response.
const MAX_RESPONSE: usize = 64 * 1024;
/// How many 409 size corrections are followed before giving up.
const MAX_RESENDS: usize = 3;

/// What a witness answered.
#[derive(Debug)]
pub enum Outcome {
    /// 200: the cosignature lines.
    Cosigned(Vec<NoteSignature>),
    /// The witness refused; the reason says why in words.
    Refused(String),
}

/// Builds the HTTP client (rustls with ring for https URLs).
pub fn http_client() -> Result<reqwest::Client> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .context("building the HTTP client")
}

/// The request body: `old N`, the consistency proof, a blank line, the signed checkpoint.
fn request_body(old: u64, proof: &[Hash], note: &str) -> String {
    let mut body = format!("old {old}\n");
    for h in proof {
        body.push_str(&b64::encode(h));
        body.push('\n');
    }
    body.push('\n');
    body.push_str(note);
    body
}

/// Submits `note` (the checkpoint of `size` signed by the log) to the witness at `url`,
/// starting from `old`, the size we believe it last cosigned. `proof_from(old)` gives the
/// consistency proof from `old` to `size`. A 409 whose body is the witness's size is
/// followed by a resend from that size. Returns the outcome and the size the witness is
/// now known to be at.
pub async fn submit(
    client: &reqwest::Client,
    url: &str,
    mut old: u64,
    size: u64,
    note: &str,
    proof_from: impl Fn(u64) -> Result<Vec<Hash>>,
) -> Result<(Outcome, u64)> {
    let endpoint = format!("{}/add-checkpoint", url.trim_end_matches('/'));
    for _ in 0..=MAX_RESENDS {
        if old > size {
            return Ok((
                Outcome::Refused(format!(
                    "the witness has cosigned size {old}, beyond our size {size}: \
                     this log was rolled back or forked"
                )),
                old,
            ));
        }
        let proof = if old > 0 && old < size {
            proof_from(old)?
        } else {
            Vec::new()
        };
        let response = client
            .post(&endpoint)
            .header("content-type", "text/plain; charset=utf-8")
            .body(request_body(old, &proof, note))
            .send()
            .await
            .with_context(|| format!("POST {endpoint}"))?;
        let status = response.status().as_u16();
        let bytes = response
            .bytes()
            .await
            .context("reading the witness response")?;
        let text = String::from_utf8_lossy(&bytes[..bytes.len().min(MAX_RESPONSE)]).to_string();
        match status {
            200 => {
                let sigs = text
                    .lines()
                    .filter(|l| !l.is_empty())
                    .map(|l| {
                        NoteSignature::parse_line(l)
                            .map_err(|e| anyhow::anyhow!("bad cosignature line {l:?}: {e}"))
                    })
                    .collect::<Result<Vec<_>>>()?;
                return Ok((Outcome::Cosigned(sigs), size));
            }
            409 => match text.trim_end_matches('\n').parse::<u64>() {
                Ok(theirs) if theirs != old => old = theirs,
                Ok(theirs) => {
                    return Ok((
                        Outcome::Refused(format!(
                            "409: the witness already cosigned a different checkpoint of size \
                             {theirs} (a fork of this log)"
                        )),
                        theirs,
                    ));
                }
                Err(_) => {
                    return Ok((Outcome::Refused(format!("409: {}", text.trim())), old));
                }
            },
            403 => {
                return Ok((
                    Outcome::Refused(format!(
                        "403: the witness does not accept this log's signature ({})",
                        text.trim()
                    )),
                    old,
                ));
            }
            404 => {
                return Ok((
                    Outcome::Refused(format!(
                        "404: the witness is not configured for this origin ({})",
                        text.trim()
                    )),
                    old,
                ));
            }
            422 => {
                return Ok((
                    Outcome::Refused(format!(
                        "422: the witness refused the consistency proof from size {old}: this \
                         checkpoint does not extend what it cosigned (fork or rollback) ({})",
                        text.trim()
                    )),
                    old,
                ));
            }
            other => {
                return Ok((
                    Outcome::Refused(format!("HTTP {other}: {}", text.trim())),
                    old,
                ));
            }
        }
    }
    Ok((
        Outcome::Refused(format!(
            "the witness kept answering 409 with new sizes after {MAX_RESENDS} resends"
        )),
        old,
    ))
}
