//! `nucleus`: the log producer (append, checkpoint, cosign), bundle export and verification,
//! and policy tools.

mod commands;
mod keys;
mod store;
mod witness_client;

use clap::Parser;

#[derive(Debug, Parser)]
#[command(name = "nucleus", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: commands::Command,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    Cli::parse().command.run().await
}
