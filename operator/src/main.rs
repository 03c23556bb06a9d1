//! `nucleus-operator`: serves /healthz, /readyz and /metrics, takes the leader Lease, and
//! runs the controllers while leading. SIGTERM/Ctrl-C drains the controllers, releases the
//! Lease and exits.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;
use clap::{Parser, ValueEnum};
use kube::Client;
use kube_lease_manager::LeaseManagerBuilder;
use nucleus_operator::context::{Context, FIELD_MANAGER, Settings};
use nucleus_operator::metrics::Metrics;
use nucleus_operator::reconcile;
use tokio::sync::watch;

#[derive(Clone, Copy, Debug, ValueEnum)]
enum LogFormat {
    Json,
    Text,
}

#[derive(Parser, Debug)]
#[command(
    name = "nucleus-operator",
    version,
    about = "Kubernetes operator for nucleus witnesses and quorum policies"
)]
struct Args {
    /// Address of the /healthz, /readyz and /metrics server.
    #[arg(
        long,
        env = "NUCLEUS_OPERATOR_HTTP_ADDR",
        default_value = "0.0.0.0:8080"
    )]
    http_addr: SocketAddr,
    /// Take a coordination.k8s.io Lease before reconciling (disable only for a single replica).
    #[arg(long, env = "NUCLEUS_OPERATOR_LEADER_ELECTION", default_value_t = true, action = clap::ArgAction::Set)]
    leader_election: bool,
    /// Lease name.
    #[arg(
        long,
        env = "NUCLEUS_OPERATOR_LEASE_NAME",
        default_value = "nucleus-operator-leader"
    )]
    lease_name: String,
    /// Lease namespace (the operator's namespace).
    #[arg(long, env = "POD_NAMESPACE", default_value = "default")]
    lease_namespace: String,
    /// Lease duration in seconds.
    #[arg(long, env = "NUCLEUS_OPERATOR_LEASE_SECONDS", default_value_t = 15)]
    lease_seconds: u64,
    /// Default witness image for Witnesses that set none.
    #[arg(
        long,
        env = "NUCLEUS_OPERATOR_WITNESS_IMAGE",
        default_value = "ghcr.io/nucleus/nucleus-witness:latest"
    )]
    witness_image: String,
    /// Periodic resync of healthy objects, seconds.
    #[arg(long, env = "NUCLEUS_OPERATOR_RESYNC_SECONDS", default_value_t = 300)]
    resync_seconds: u64,
    /// Watch Witnesses, QuorumPolicies and BundleReplicas in this namespace only (default:
    /// all namespaces). FederatesWith is cluster-scoped and always watched.
    #[arg(long, env = "NUCLEUS_OPERATOR_WATCH_NAMESPACE")]
    watch_namespace: Option<String>,
    /// Log format.
    #[arg(
        long,
        env = "NUCLEUS_OPERATOR_LOG_FORMAT",
        value_enum,
        default_value = "json"
    )]
    log_format: LogFormat,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,kube=warn"));
    match args.log_format {
        LogFormat::Json => tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .init(),
        LogFormat::Text => tracing_subscriber::fmt().with_env_filter(filter).init(),
    }

    let client = Client::try_default()
        .await
        .context("building the Kubernetes client")?;
    let metrics = Arc::new(Metrics::default());
    let settings = Settings {
        witness_image: args.witness_image.clone(),
        resync: Duration::from_secs(args.resync_seconds),
        watch_namespace: args.watch_namespace.clone().filter(|ns| !ns.is_empty()),
        ..Settings::default()
    };

    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutdown signal received");
        let _ = stop_tx.send(true);
    });

    let http = {
        let app = Router::new()
            .route("/healthz", get(|| async { "ok\n" }))
            .route("/readyz", get(|| async { "ok\n" }))
            .route("/metrics", get(serve_metrics))
            .with_state(metrics.clone());
        let listener = tokio::net::TcpListener::bind(args.http_addr)
            .await
            .with_context(|| format!("binding {}", args.http_addr))?;
        tracing::info!(addr = %args.http_addr, "serving /healthz /readyz /metrics");
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stop.wait_for(|s| *s).await;
                })
                .await
        })
    };

    if args.leader_election {
        run_with_lease(&args, client, metrics, settings, stop_rx).await?;
    } else {
        metrics.set_leader(true);
        let mut stop = stop_rx.clone();
        let shutdown = async move {
            let _ = stop.wait_for(|s| *s).await;
        };
        reconcile::run_all(Arc::new(Context::new(client, metrics, settings, shutdown))).await?;
    }
    http.await
        .context("HTTP server task")?
        .context("HTTP server")?;
    tracing::info!("stopped");
    Ok(())
}

/// Waits for leadership, runs the controllers until leadership is lost or a signal
/// arrives, and repeats; releases the Lease on exit.
async fn run_with_lease(
    args: &Args,
    client: Client,
    metrics: Arc<Metrics>,
    settings: Settings,
    mut stop_rx: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let identity = std::env::var("POD_NAME")
        .ok()
        .unwrap_or_else(|| format!("{}-{}", hostname(), std::process::id()));
    let manager = LeaseManagerBuilder::new(client.clone(), &args.lease_name)
        .with_namespace(&args.lease_namespace)
        .with_identity(&identity)
        .with_duration(args.lease_seconds)
        .with_grace(args.lease_seconds.div_ceil(3).max(1))
        .with_field_manager(FIELD_MANAGER)
        .build()
        .await
        .context("creating the lease manager")?;
    let (mut leading, task) = manager.watch().await;
    tracing::info!(identity, lease = %args.lease_name, namespace = %args.lease_namespace, "waiting for leadership");
    loop {
        tokio::select! {
            r = leading.wait_for(|l| *l) => { r.context("lease watcher stopped")?; }
            _ = stop_rx.wait_for(|s| *s) => break,
        }
        tracing::info!(identity, "became leader");
        metrics.set_leader(true);
        let (mut lost, mut stop) = (leading.clone(), stop_rx.clone());
        let shutdown = async move {
            tokio::select! {
                _ = lost.wait_for(|l| !*l) => tracing::warn!("lost leadership; stopping controllers"),
                _ = stop.wait_for(|s| *s) => {}
            }
        };
        let ctx = Arc::new(Context::new(
            client.clone(),
            metrics.clone(),
            settings.clone(),
            shutdown,
        ));
        reconcile::run_all(ctx).await?;
        metrics.set_leader(false);
        if *stop_rx.borrow() {
            break;
        }
    }
    drop(leading);
    match task.await {
        Ok(Ok(_)) => tracing::info!("lease released"),
        Ok(Err(e)) => tracing::warn!(error = %e, "releasing the lease failed"),
        Err(e) => tracing::warn!(error = %e, "lease task failed"),
    }
    Ok(())
}

async fn serve_metrics(State(metrics): State<Arc<Metrics>>) -> impl IntoResponse {
    (
        [(
            CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        metrics.render(),
    )
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|_| "nucleus-operator".to_owned())
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(
            tokio::signal::unix::SignalKind::terminate(),
        ) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "no SIGTERM handler; only Ctrl-C stops the operator");
                let _ = ctrl_c.await;
                return;
            }
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
