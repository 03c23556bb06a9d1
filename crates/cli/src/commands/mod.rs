//! Subcommands: one module per command, each with `Args` and `run`.

pub mod bundle_export;
pub mod bundle_fetch;
pub mod bundle_publish;
pub mod bundle_verify;
pub mod log;
pub mod policy;

use anyhow::Result;
use clap::Subcommand;

/// The top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// The local transparency log: init, append, checkpoint, cosign, status.
    #[command(subcommand)]
    Log(log::LogCommand),
    /// Provenance bundles: export, verify.
    #[command(subcommand)]
    Bundle(BundleCommand),
    /// Quorum policies: check, anchor.
    #[command(subcommand)]
    Policy(policy::PolicyCommand),
}

/// `nucleus bundle …`.
#[derive(Debug, Subcommand)]
pub enum BundleCommand {
    /// Export a session as a sealed v3 bundle.
    Export(bundle_export::Args),
    /// Verify a bundle (v1 or v2) against an out-of-band trust anchor.
    Verify(bundle_verify::Args),
    /// Serve a bundle's exact bytes over iroh-blobs (BLAKE3-addressed) until Ctrl-C.
    Publish(bundle_publish::PublishArgs),
    /// Fetch a bundle by ticket and BLAKE3 hash, then verify its provenance.
    Fetch(bundle_fetch::FetchArgs),
}

impl Command {
    /// Runs the command.
    pub async fn run(self) -> Result<()> {
        match self {
            Command::Log(cmd) => cmd.run().await,
            Command::Bundle(cmd) => cmd.run().await,
            Command::Policy(cmd) => cmd.run().await,
        }
    }
}

impl BundleCommand {
    /// Runs the bundle subcommand.
    pub async fn run(self) -> Result<()> {
        match self {
            BundleCommand::Export(args) => bundle_export::run(args).await,
            BundleCommand::Verify(args) => bundle_verify::run(args).await,
            BundleCommand::Publish(args) => bundle_publish::run(args).await,
            BundleCommand::Fetch(args) => bundle_fetch::run(args).await,
        }
    }
}
