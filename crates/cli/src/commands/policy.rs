//! `nucleus policy check|anchor`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Subcommand;
use nucleus_envelope::{Jwk, Jwks, TrustAnchor};
use nucleus_lineage::policy::Policy;

use crate::keys::{self, Role};
use crate::store::Store;

/// `nucleus policy …`.
#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Parse a policy file and describe its witnesses and quorum.
    Check {
        /// The policy file.
        file: PathBuf,
    },
    /// Print the trust anchor JSON for a log directory and a policy.
    Anchor {
        /// The policy file (embedded in the anchor).
        #[arg(long)]
        policy: PathBuf,
        /// The log directory (its origin, log key and issuer key).
        #[arg(long)]
        dir: PathBuf,
        /// Minimum distinct trusted cosigners in addition to the policy's quorum.
        #[arg(long, default_value_t = 0)]
        threshold: usize,
        /// Require every bundle to carry a payload (sealed with the edges); without this flag
        /// a payload is optional.
        #[arg(long)]
        require_payload_binding: bool,
        /// Write the anchor here instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

fn read_policy(path: &PathBuf) -> Result<(String, Policy)> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let policy = Policy::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok((text, policy))
}

impl PolicyCommand {
    /// Runs the policy subcommand.
    pub async fn run(self) -> Result<()> {
        match self {
            PolicyCommand::Check { file } => {
                let (_, policy) = read_policy(&file)?;
                println!("OK: {}", file.display());
                println!("logs: {}", policy.logs.len());
                for w in &policy.witnesses {
                    println!(
                        "witness {} {}",
                        w.name,
                        w.url.as_deref().unwrap_or("(no url)")
                    );
                }
                println!("quorum: {}", policy.describe_quorum());
                Ok(())
            }
            PolicyCommand::Anchor {
                policy,
                dir,
                threshold,
                require_payload_binding,
                out,
            } => {
                let (text, _) = read_policy(&policy)?;
                let origin = Store::open(&dir, false).await?.origin().await?;
                let log_key = keys::load(Role::Log, &dir)?;
                let issuer = keys::load(Role::Issuer, &dir)?;
                let anchor = TrustAnchor {
                    trust_jwks: Some(Jwks {
                        keys: vec![Jwk::from_ed25519(&issuer.verifying_key())],
                    }),
                    trusted_witnesses_hex: vec![],
                    cosignature_threshold: threshold,
                    require_payload_binding: require_payload_binding.then_some(true),
                    policy: Some(text),
                    origin: Some(origin),
                    trust_witness_pubkey_hex: Some(hex::encode(log_key.verifying_key().as_bytes())),
                    allow_empty: false,
                };
                let json = anchor.to_json();
                TrustAnchor::from_json(&json).context("the anchor does not validate")?;
                match out {
                    Some(path) => std::fs::write(&path, format!("{json}\n"))
                        .with_context(|| format!("writing {}", path.display()))?,
                    None => println!("{json}"),
                }
                Ok(())
            }
        }
    }
}
