//! `nucleus log init|append|checkpoint|cosign|status`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use ed25519_dalek::SigningKey;
use nucleus_envelope::kid_for;
use nucleus_envelope::rfc3339::Instant;
use nucleus_envelope::v3::EdgeFields;
use nucleus_lineage::merkle;
use nucleus_lineage::policy::{Policy, PolicyKey};
use nucleus_lineage::quorum::verify_cosigned_checkpoint;
use nucleus_lineage::vkey::{KeyType, key_id};
use nucleus_lineage::{Checkpoint, Note, NoteSigner, Vkey};
use sha2::{Digest, Sha256};

use crate::keys::{self, Role};
use crate::store::Store;
use crate::witness_client::{self, Outcome};

/// `nucleus log …`.
#[derive(Debug, Subcommand)]
pub enum LogCommand {
    /// Create a log directory: database, origin, log key and issuer key.
    Init {
        /// The log directory.
        #[arg(long)]
        dir: PathBuf,
        /// The log origin (also the log key's name).
        #[arg(long)]
        origin: String,
    },
    /// Append an edge to a session's hash chain (and a leaf to the log).
    Append(AppendArgs),
    /// Sign a checkpoint of the current tree with the log key.
    Checkpoint {
        /// The log directory.
        #[arg(long)]
        dir: PathBuf,
    },
    /// Submit the checkpoint to the policy's witnesses until the quorum holds.
    Cosign {
        /// The log directory.
        #[arg(long)]
        dir: PathBuf,
        /// The quorum policy (witness lines carry the witnesses' URLs).
        #[arg(long)]
        policy: PathBuf,
        /// Ask every witness, even after the quorum holds.
        #[arg(long)]
        all: bool,
    },
    /// Print the log's size, latest checkpoint, cosigners and witness positions.
    Status {
        /// The log directory.
        #[arg(long)]
        dir: PathBuf,
    },
}

/// `nucleus log append`.
#[derive(Debug, clap::Args)]
pub struct AppendArgs {
    /// The log directory.
    #[arg(long)]
    dir: PathBuf,
    /// The session the edge belongs to.
    #[arg(long)]
    session: String,
    /// The edge kind (e.g. pod_admit, tool_call, llm_call, artifact_produced).
    #[arg(long)]
    kind: String,
    /// The content; its SHA-256 is recorded (the content itself is not stored).
    #[arg(long, conflicts_with = "content_file")]
    content: Option<String>,
    /// A file whose SHA-256 is recorded.
    #[arg(long)]
    content_file: Option<PathBuf>,
    /// The id this edge produces (default `<session>/<seq>`).
    #[arg(long)]
    child: Option<String>,
    /// A parent id (repeatable; default: the previous edge's child).
    #[arg(long = "parent")]
    parents: Vec<String>,
    /// An attribute `key=value` (repeatable).
    #[arg(long = "attr", value_parser = parse_attr)]
    attrs: Vec<(String, String)>,
    /// The timestamp (RFC 3339; default now).
    #[arg(long)]
    ts: Option<String>,
}

fn parse_attr(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("attribute {s:?} is not key=value"))
}

fn now_canonical() -> Result<String> {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .context("the clock is before 1970")?
        .as_millis();
    Ok(Instant::from_unix_millis(i64::try_from(ms)?).to_canonical_string())
}

impl LogCommand {
    /// Runs the log subcommand.
    pub async fn run(self) -> Result<()> {
        match self {
            LogCommand::Init { dir, origin } => init(dir, origin).await,
            LogCommand::Append(args) => append(args).await,
            LogCommand::Checkpoint { dir } => {
                let store = Store::open(&dir, false).await?;
                let log_key = keys::load(Role::Log, &dir)?;
                let (_, note) = current_checkpoint(&store, &log_key).await?;
                print!("{note}");
                Ok(())
            }
            LogCommand::Cosign { dir, policy, all } => cosign(dir, policy, all).await,
            LogCommand::Status { dir } => status(dir).await,
        }
    }
}

async fn init(dir: PathBuf, origin: String) -> Result<()> {
    if origin.is_empty() || origin.contains(['\n', '+', ' ']) {
        bail!("origin {origin:?} must be a non-empty key name (no spaces, '+' or newlines)");
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let store = Store::open(&dir, true).await?;
    store.set_meta_once("origin", &origin).await?;
    let log_key = keys::ensure(Role::Log, &dir)?;
    let issuer = keys::ensure(Role::Issuer, &dir)?;
    let log_pub = hex::encode(log_key.verifying_key().as_bytes());
    let vkey = Vkey::ed25519(&origin, &log_key.verifying_key())?;
    println!("origin: {origin}");
    println!("log key: {log_pub}");
    println!("log vkey: {vkey}");
    println!("issuer kid: {}", kid_for(&issuer.verifying_key()));
    println!("witness --origin: {origin}|{origin}|{log_pub}");
    Ok(())
}

async fn append(args: AppendArgs) -> Result<()> {
    let store = Store::open(&args.dir, false).await?;
    // The edge names the issuer key that records it; the issuer signs only the seal, at
    // export, over the chain head that covers every edge.
    let kid = kid_for(&keys::load(Role::Issuer, &args.dir)?.verifying_key());
    let tail = store.session_tail(&args.session).await?;
    let seq = tail.as_ref().map_or(0, |t| t.edge.seq + 1);
    let prev = tail.as_ref().map_or([0u8; 32], |t| t.edge_hash);
    let content_sha256 = match (&args.content, &args.content_file) {
        (Some(text), _) => Some(Sha256::digest(text.as_bytes()).into()),
        (None, Some(path)) => Some(
            Sha256::digest(
                std::fs::read(path).with_context(|| format!("reading {}", path.display()))?,
            )
            .into(),
        ),
        (None, None) => None,
    };
    let ts = match &args.ts {
        Some(ts) => Instant::parse(ts)?.to_canonical_string(),
        None => now_canonical()?,
    };
    let parents = if args.parents.is_empty() {
        tail.iter().map(|t| t.edge.child.clone()).collect()
    } else {
        args.parents.clone()
    };
    let fields = EdgeFields {
        seq,
        child: args
            .child
            .clone()
            .unwrap_or_else(|| format!("{}/{seq}", args.session)),
        parents,
        kind: args.kind.clone(),
        content_sha256,
        ts,
        attrs: args.attrs.iter().cloned().collect::<BTreeMap<_, _>>(),
    };
    let (edge, edge_hash) = fields.chain(&args.session, &prev, &kid);
    let leaf = merkle::leaf_hash(&edge_hash);
    let index = store
        .append(&args.session, &edge, &edge_hash, &leaf)
        .await?;
    println!(
        "{}",
        serde_json::json!({
            "session": args.session,
            "seq": seq,
            "leaf_index": index,
            "edge_hash": hex::encode(edge_hash),
        })
    );
    Ok(())
}

/// The log-signed checkpoint of the current tree: the stored one if it is current, else a
/// newly signed one (stored).
pub async fn current_checkpoint(store: &Store, log_key: &SigningKey) -> Result<(u64, String)> {
    let size = store.size().await?;
    if let Some((stored, note)) = store.latest_checkpoint().await?
        && stored == size
    {
        return Ok((size, note));
    }
    let origin = store.origin().await?;
    let leaves = store.leaf_hashes(size).await?;
    let checkpoint = Checkpoint {
        origin: origin.clone(),
        size,
        root: merkle::root(&leaves),
        extensions: vec![],
    };
    let text = checkpoint.to_text();
    let signer = NoteSigner::new(&origin, log_key.clone())?;
    let note = Note {
        signatures: vec![signer.sign(&text)],
        text,
    };
    let note = String::from_utf8(note.to_bytes())?;
    store.put_checkpoint(size, &note).await?;
    Ok((size, note))
}

/// The Ed25519 key of a policy witness (ML-DSA witnesses cannot be matched here).
fn witness_key(key: &PolicyKey) -> Option<[u8; 32]> {
    match key {
        PolicyKey::Hex(k) => Some(*k),
        PolicyKey::Vkey(v) if v.key_type != KeyType::MlDsa44Cosignature => {
            v.public_key.as_slice().try_into().ok()
        }
        PolicyKey::Vkey(_) => None,
    }
}

async fn cosign(dir: PathBuf, policy_path: PathBuf, all: bool) -> Result<()> {
    let policy_text = std::fs::read_to_string(&policy_path)
        .with_context(|| format!("reading {}", policy_path.display()))?;
    let policy = Policy::parse(&policy_text)
        .map_err(|e| anyhow::anyhow!("{}: {e}", policy_path.display()))?;
    let store = Store::open(&dir, false).await?;
    let log_key = keys::load(Role::Log, &dir)?;
    let origin = store.origin().await?;
    let log_vkeys = vec![Vkey::ed25519(&origin, &log_key.verifying_key())?];
    let (size, log_note) = current_checkpoint(&store, &log_key).await?;
    let mut note = Note::parse(log_note.as_bytes())?;
    let leaves = store.leaf_hashes(size).await?;
    let client = witness_client::http_client()?;

    let report = |note: &Note| -> Result<nucleus_lineage::quorum::QuorumReport> {
        verify_cosigned_checkpoint(&note.to_bytes(), &log_vkeys, &policy)
            .map_err(|e| anyhow::anyhow!("checking the cosigned checkpoint: {e}"))
    };
    let mut quorum = report(&note)?;
    for witness in &policy.witnesses {
        if quorum.satisfied && !all {
            break;
        }
        let Some(url) = &witness.url else {
            println!("skipped   {}: the policy gives no URL", witness.name);
            continue;
        };
        let Some(key) = witness_key(&witness.key) else {
            println!("skipped   {}: not an Ed25519 witness", witness.name);
            continue;
        };
        let mine = |line: &nucleus_lineage::NoteSignature| {
            key_id(&line.name, KeyType::Cosignature, &key) == line.key_id
        };
        if note.signatures.iter().any(mine) && quorum.counted.contains(&witness.name) {
            println!("cosigned  {} (already)", witness.name);
            continue;
        }
        let old = store.witness_size(url).await?;
        let submitted = witness_client::submit(&client, url, old, size, &log_note, |from| {
            Ok(merkle::consistency_proof(&leaves, from)?)
        })
        .await;
        match submitted {
            Ok((Outcome::Cosigned(lines), at)) => {
                let ours: Vec<_> = lines.into_iter().filter(|l| mine(l)).collect();
                if ours.is_empty() {
                    println!(
                        "refused   {} at {url}: the answer holds no cosignature by its key",
                        witness.name
                    );
                    continue;
                }
                note.signatures.retain(|l| !mine(l));
                note.signatures.extend(ours);
                store.set_witness_size(url, at).await?;
                let updated = report(&note)?;
                if updated.counted.contains(&witness.name) {
                    println!("cosigned  {} at {url}", witness.name);
                } else {
                    println!(
                        "refused   {} at {url}: its cosignature does not verify",
                        witness.name
                    );
                }
                quorum = updated;
            }
            Ok((Outcome::Refused(reason), at)) => {
                if at <= size {
                    store.set_witness_size(url, at).await?;
                }
                println!("refused   {} at {url}: {reason}", witness.name);
            }
            Err(e) => println!("unreachable {} at {url}: {e:#}", witness.name),
        }
    }
    let valid: BTreeSet<&str> = quorum.counted.iter().map(String::as_str).collect();
    note.signatures.retain(|line| {
        line.key_id == log_vkeys[0].key_id
            || policy.witnesses.iter().any(|w| {
                valid.contains(w.name.as_str())
                    && witness_key(&w.key).is_some_and(|k| {
                        key_id(&line.name, KeyType::Cosignature, &k) == line.key_id
                    })
            })
    });
    store
        .put_checkpoint(size, &String::from_utf8(note.to_bytes())?)
        .await?;
    let counted = quorum.counted.join(", ");
    if quorum.satisfied {
        println!("quorum: satisfied at size {size} (cosigned by: {counted})");
        Ok(())
    } else {
        bail!("quorum NOT satisfied at size {size} (cosigned by: {counted})")
    }
}

async fn status(dir: PathBuf) -> Result<()> {
    let store = Store::open(&dir, false).await?;
    println!("origin: {}", store.origin().await?);
    println!("size: {}", store.size().await?);
    match store.latest_checkpoint().await? {
        Some((size, note)) => {
            let parsed = Note::parse(note.as_bytes())?;
            println!(
                "checkpoint: size {size}, {} signature line(s)",
                parsed.signatures.len()
            );
            for line in parsed.signatures.iter().skip(1) {
                println!("  cosigned by {}", line.name);
            }
        }
        None => println!("checkpoint: none (run `nucleus log checkpoint`)"),
    }
    for (url, size) in store.witness_sizes().await? {
        println!("witness {url}: last cosigned size {size}");
    }
    Ok(())
}
