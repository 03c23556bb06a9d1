//! The witness: the tlog-witness status decisions, in the spec's order, around one atomic
//! compare-and-swap of the stored state.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use nucleus_lineage::merkle::verify_consistency;
use nucleus_lineage::{CosignatureSigner, EMPTY_ROOT, Note, NoteSignature, Vkey};

use crate::clock::Clock;
use crate::config::Origins;
use crate::protocol::{MalformedRequest, parse_add_checkpoint};
use crate::store::{CasOutcome, Store, StoreError, StoredState, WitnessStore};

/// Why a submission was not cosigned; each maps to one HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum Rejection {
    /// 400: the body is malformed.
    #[error("malformed request: {0}")]
    Malformed(#[from] MalformedRequest),
    /// 404: the checkpoint's origin is not configured.
    #[error("unknown origin {0:?}")]
    UnknownOrigin(String),
    /// 403: no trusted log signature verified, or a trusted one failed.
    #[error("checkpoint not signed by a trusted log key: {0}")]
    Unsigned(String),
    /// 400: `old` is larger than the checkpoint's size.
    #[error("old size {old} is larger than the checkpoint size {size}")]
    OldBeyondSize {
        /// The request's old size.
        old: u64,
        /// The checkpoint's size.
        size: u64,
    },
    /// 409: `old` is not the stored size; the body tells the client the stored size.
    #[error("old size does not match the stored size {stored}")]
    Conflict {
        /// The tree size this witness has stored for the origin.
        stored: u64,
    },
    /// 422: the checkpoint is not consistent with the stored one.
    #[error("inconsistent checkpoint: {0}")]
    Inconsistent(String),
    /// 503: the database did not answer; nothing was cosigned.
    #[error("witness state unavailable: {0}")]
    Unavailable(String),
}

impl Rejection {
    /// The HTTP status code for this rejection.
    pub fn status(&self) -> u16 {
        match self {
            Rejection::Malformed(_) | Rejection::OldBeyondSize { .. } => 400,
            Rejection::Unsigned(_) => 403,
            Rejection::UnknownOrigin(_) => 404,
            Rejection::Conflict { .. } => 409,
            Rejection::Inconsistent(_) => 422,
            Rejection::Unavailable(_) => 503,
        }
    }
}

impl From<StoreError> for Rejection {
    fn from(e: StoreError) -> Self {
        Rejection::Unavailable(e.to_string())
    }
}

/// A successful submission.
#[derive(Debug, Clone)]
pub struct Cosigned {
    /// The checkpoint's origin.
    pub origin: String,
    /// The cosigned tree size.
    pub size: u64,
    /// The response body: our cosignature line(s), `— name base64\n` each.
    pub body: String,
}

/// The witness: its identity, the origins it serves, its state and its clock.
pub struct Witness {
    name: String,
    signer: CosignatureSigner,
    origins: RwLock<Arc<Origins>>,
    store: Store,
    clock: Arc<dyn Clock>,
    store_timeout: Duration,
}

impl std::fmt::Debug for Witness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Witness")
            .field("name", &self.name)
            .field("vkey", &self.signer.vkey().to_string())
            .field("store", &self.store.kind())
            .finish_non_exhaustive()
    }
}

impl Witness {
    /// A witness named by its cosignature signer.
    pub fn new(
        signer: CosignatureSigner,
        origins: Origins,
        store: Store,
        clock: Arc<dyn Clock>,
        store_timeout: Duration,
    ) -> Witness {
        Witness {
            name: signer.vkey().name.clone(),
            signer,
            origins: RwLock::new(Arc::new(origins)),
            store,
            clock,
            store_timeout,
        }
    }

    /// The witness name (the key name on its cosignature lines).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The witness's cosignature vkey (type 0x04).
    pub fn vkey(&self) -> &Vkey {
        self.signer.vkey()
    }

    /// The database.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// A snapshot of the configured origins.
    pub fn origins(&self) -> Arc<Origins> {
        // A poisoned lock only means a reload panicked mid-swap; the Arc inside is intact.
        self.origins
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Replaces the configured origins (SIGHUP reload). In-flight requests finish with the
    /// snapshot they took.
    pub fn set_origins(&self, origins: Origins) {
        *self.origins.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(origins);
    }

    /// The origin label for metrics: the origin if configured, else `unknown` (keeps
    /// label cardinality bounded by the configuration, not by what clients send).
    pub fn metrics_origin(&self, origin: Option<&str>) -> String {
        match origin {
            Some(o) if self.origins().keys(o).is_some() => o.to_owned(),
            _ => "unknown".to_owned(),
        }
    }

    fn is_trusted(&self, origin: &str, name: &str, key_id: u32) -> bool {
        self.origins()
            .keys(origin)
            .is_some_and(|keys| keys.iter().any(|k| k.name == name && k.key_id == key_id))
    }

    /// Handles one `add-checkpoint` body. Checks run in the spec's order; the cosignature
    /// is produced only after the new state is committed.
    pub async fn add_checkpoint(&self, body: &[u8]) -> Result<Cosigned, Rejection> {
        let req = match parse_add_checkpoint(body) {
            Ok(req) => req,
            Err(MalformedRequest::NonCanonicalSignature {
                origin,
                name,
                key_id,
            }) if self.is_trusted(&origin, &name, key_id) => {
                return Err(Rejection::Unsigned(format!(
                    "the signature line of trusted key {name}+{key_id:08x} is not canonical \
                     base64, so it cannot verify"
                )));
            }
            Err(e) => return Err(e.into()),
        };
        let cp = &req.checkpoint;
        let origins = self.origins();
        let keys = origins
            .keys(&cp.origin)
            .ok_or_else(|| Rejection::UnknownOrigin(cp.origin.clone()))?;
        req.note
            .verify(keys)
            .map_err(|e| Rejection::Unsigned(e.to_string()))?;
        if req.old > cp.size {
            return Err(Rejection::OldBeyondSize {
                old: req.old,
                size: cp.size,
            });
        }

        let stored = self.timed(self.store.state(&cp.origin)).await?;
        let stored_size = stored.map_or(0, |s| s.size);
        if req.old != stored_size {
            return Err(Rejection::Conflict {
                stored: stored_size,
            });
        }
        if cp.size == 0 && cp.root != EMPTY_ROOT {
            return Err(Rejection::Inconsistent(
                "a size-0 checkpoint must carry the empty-tree root".into(),
            ));
        }
        check_consistency(stored.as_ref(), req.old, cp.size, &cp.root, &req.proof)?;

        let timestamp = self.clock.now_unix();
        let cosignature = self
            .signer
            .sign(&req.note.text, timestamp)
            .map_err(|e| Rejection::Unavailable(format!("cannot cosign: {e}")))?;
        let stored_note = Note {
            text: req.note.text.clone(),
            signatures: trusted_lines(&req.note, keys)
                .chain(std::iter::once(cosignature.clone()))
                .collect(),
        };
        let new = StoredState {
            size: cp.size,
            root: cp.root,
        };
        let outcome = self
            .timed(self.store.compare_and_swap(
                &cp.origin,
                stored.as_ref(),
                &new,
                &stored_note.to_bytes(),
                timestamp,
            ))
            .await?;
        match outcome {
            CasOutcome::Committed => Ok(Cosigned {
                origin: cp.origin.clone(),
                size: cp.size,
                body: cosignature.to_line(),
            }),
            CasOutcome::Conflict { current_size } => Err(Rejection::Conflict {
                stored: current_size,
            }),
        }
    }

    /// The latest cosigned checkpoint for the origin whose SHA-256 hex is `origin_hash`.
    pub async fn latest_checkpoint(&self, origin_hash: &str) -> Result<Option<Vec<u8>>, Rejection> {
        let origins = self.origins();
        let Some(origin) = origins.by_hash(origin_hash) else {
            return Ok(None);
        };
        self.timed(self.store.latest_checkpoint(origin)).await
    }

    /// Checks the database answers within the store timeout.
    pub async fn ready(&self) -> Result<(), Rejection> {
        self.timed(self.store.ping()).await
    }

    async fn timed<T>(
        &self,
        op: impl std::future::Future<Output = Result<T, StoreError>>,
    ) -> Result<T, Rejection> {
        match tokio::time::timeout(self.store_timeout, op).await {
            Ok(r) => r.map_err(Rejection::from),
            Err(_) => Err(Rejection::Unavailable(format!(
                "database did not answer within {:?}",
                self.store_timeout
            ))),
        }
    }
}

/// The log signature lines from trusted keys (all of which verified), without repeats:
/// what the monitoring endpoint republishes next to our cosignature.
fn trusted_lines<'a>(note: &'a Note, keys: &'a [Vkey]) -> impl Iterator<Item = NoteSignature> + 'a {
    let mut seen = Vec::new();
    note.signatures.iter().filter_map(move |s| {
        let trusted = keys
            .iter()
            .any(|k| k.name == s.name && k.key_id == s.key_id);
        if trusted && !seen.contains(&s) {
            seen.push(s);
            Some(s.clone())
        } else {
            None
        }
    })
}

/// Steps 7 and 8 of the spec: the proof must take the *stored* root to the new root.
fn check_consistency(
    stored: Option<&StoredState>,
    old: u64,
    size: u64,
    root: &nucleus_lineage::Hash,
    proof: &[nucleus_lineage::Hash],
) -> Result<(), Rejection> {
    if old == 0 {
        // Every tree extends the empty tree; a proof here means the client is confused.
        return if proof.is_empty() {
            Ok(())
        } else {
            Err(Rejection::Inconsistent(
                "old size 0 requires an empty consistency proof".into(),
            ))
        };
    }
    // The caller checked old == stored size, so old > 0 means a row exists; without one
    // the stored size is 0 and the client must start over from there.
    let Some(stored) = stored else {
        return Err(Rejection::Conflict { stored: 0 });
    };
    if old == size {
        if *root != stored.root {
            return Err(Rejection::Inconsistent(
                "same tree size as the stored checkpoint but a different root".into(),
            ));
        }
        if !proof.is_empty() {
            return Err(Rejection::Inconsistent(
                "equal tree sizes require an empty consistency proof".into(),
            ));
        }
        return Ok(());
    }
    verify_consistency(old, size, &stored.root, root, proof)
        .map_err(|e| Rejection::Inconsistent(format!("consistency proof: {e}")))
}
