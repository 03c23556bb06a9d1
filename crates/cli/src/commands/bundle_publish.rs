//! `nucleus bundle publish FILE`: serve a bundle's exact bytes over iroh-blobs until Ctrl-C.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use nucleus_bundle_cas::{PublishOptions, Publisher};

/// Arguments of `nucleus bundle publish`.
#[derive(Debug, Args)]
pub struct PublishArgs {
    /// The bundle file; its exact bytes are served and addressed by their BLAKE3 hash.
    pub file: PathBuf,
    /// UDP address to serve on; it goes into the ticket. Bind a routable address to serve
    /// other machines (relays and discovery are off: the ticket is the only way to find us).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub bind: SocketAddr,
}

/// Publishes the file and serves it until Ctrl-C (or SIGTERM).
pub async fn run(args: PublishArgs) -> anyhow::Result<()> {
    let bytes = std::fs::read(&args.file)
        .with_context(|| format!("reading bundle file {}", args.file.display()))?;
    let publisher = Publisher::start(
        bytes,
        PublishOptions {
            bind: args.bind,
            ..PublishOptions::default()
        },
    )
    .await
    .context("starting the iroh-blobs publisher")?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "blake3-hash: {}", publisher.hash())?;
        writeln!(out, "node-ticket: {}", publisher.ticket())?;
        out.flush()?;
    }
    eprintln!(
        "serving {} bytes from {}; press Ctrl-C to stop",
        publisher.size(),
        args.file.display()
    );
    wait_for_stop().await?;
    publisher.shutdown().await;
    Ok(())
}

async fn wait_for_stop() -> anyhow::Result<()> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("installing the SIGTERM handler")?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r.context("waiting for Ctrl-C")?,
        _ = term.recv() => {}
    }
    Ok(())
}
