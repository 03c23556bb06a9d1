//! The `nucleus-witness` binary.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use nucleus_lineage::CosignatureSigner;
use nucleus_witness::cli::{Cli, LogFormat};
use nucleus_witness::clock::SystemClock;
use nucleus_witness::config::load_origins;
use nucleus_witness::keys::{SeedOrigin, load_signing_key};
use nucleus_witness::metrics::Metrics;
use nucleus_witness::server::{AppState, router};
use nucleus_witness::store::{Store, StoreOptions, redact_url};
use nucleus_witness::witness::Witness;
use tokio::signal::unix::{SignalKind, signal};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.log_format);
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("nucleus-witness: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let (key, seed_origin) = load_signing_key(
        cli.witness_seed_hex.as_deref(),
        cli.witness_seed_file.as_deref(),
        cli.insecure_dev_seed,
        &cli.witness_name,
    )?;
    if seed_origin == SeedOrigin::InsecureDev {
        for _ in 0..3 {
            tracing::warn!(
                "INSECURE DEVELOPMENT SEED IN USE: this witness's key is derived from its name \
                 and anyone can forge its cosignatures. Never run this in production; give \
                 --witness-seed-file or NUCLEUS_WITNESS_SEED_HEX."
            );
        }
    }
    let signer = CosignatureSigner::new(&cli.witness_name, key)
        .with_context(|| format!("invalid witness name {:?}", cli.witness_name))?;
    let origins = load_origins(&cli.origins, cli.origins_file.as_deref())?;
    if origins.is_empty() {
        tracing::warn!("no origins configured: every submission will get 404");
    }
    let options = StoreOptions {
        max_connections: cli.db_max_connections,
        acquire_timeout: Duration::from_secs(cli.db_timeout_secs),
    };
    let store = Store::open(&cli.db_url, options)
        .await
        .with_context(|| format!("opening witness state at {}", redact_url(&cli.db_url)))?;

    let witness = Witness::new(
        signer,
        origins,
        store,
        Arc::new(SystemClock),
        Duration::from_secs(cli.db_timeout_secs),
    );
    tracing::info!(
        name = witness.name(),
        public_key_hex = %hex::encode(&witness.vkey().public_key),
        vkey = %witness.vkey(),
        store = witness.store().kind(),
        db = %redact_url(&cli.db_url),
        origins = witness.origins().len(),
        "witness identity"
    );
    let state = Arc::new(AppState {
        witness,
        metrics: Metrics::new(),
    });

    spawn_reload_on_sighup(state.clone(), cli.clone())?;

    let listener = tokio::net::TcpListener::bind(cli.bind)
        .await
        .with_context(|| format!("binding {}", cli.bind))?;
    tracing::info!(addr = %listener.local_addr()?, "listening");
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("serving HTTP")?;
    Ok(())
}

/// Re-reads `--origin` flags and the origins file on SIGHUP; a bad file keeps the old table.
fn spawn_reload_on_sighup(state: Arc<AppState>, cli: Cli) -> anyhow::Result<()> {
    let mut hangups = signal(SignalKind::hangup()).context("installing SIGHUP handler")?;
    tokio::spawn(async move {
        while hangups.recv().await.is_some() {
            match load_origins(&cli.origins, cli.origins_file.as_deref()) {
                Ok(origins) => {
                    let n = origins.len();
                    state.witness.set_origins(origins);
                    tracing::info!(origins = n, "origins reloaded");
                }
                Err(e) => tracing::error!("origins reload failed, keeping the previous set: {e}"),
            }
        }
    });
    Ok(())
}

async fn shutdown_signal() {
    let term = async {
        match signal(SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}
