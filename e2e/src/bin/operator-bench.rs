//! Operator benchmark against the real control plane (`e2e/scripts/cluster.sh up`; source
//! its env file first). Not run by CI. Prints:
//!
//! * apply → Ready latency, p50/p99/max over `--latency-witnesses` (default 100) Witnesses
//!   applied one at a time every `--pace-ms`: from the server-side apply returning to the
//!   first watch event showing `Ready=True` for the applied generation. Ready follows the
//!   real Deployment status (kube-controller-manager, kube-scheduler, kwok), so the figure
//!   includes those hops, as in a real cluster.
//! * operator RSS (VmRSS of the local process): idle after leadership, and under
//!   `--scale-witnesses` (default 500) Witnesses (settled, and the peak seen meanwhile).
//! * time to reconcile the scale set: from the first apply of a burst until every Witness
//!   has a status for its generation with its children applied (the `Available`
//!   condition is only set after the Deployment was written and read back), and, when the
//!   fake node has room for every pod, until all are Ready.
//!
//! The operator runs as a local process with the chart's ServiceAccount token, as in the
//! e2e suites; `--release` builds and runs the release binary (default: debug).

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use futures::StreamExt;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Patch, PatchParams};
use kube::runtime::watcher;
use kube::{Api, ResourceExt};
use nucleus_e2e::{Cluster, Operator, SYSTEM_NS, repo_root, run};
use serde_json::json;

const LOG_KEY: &str = "de192ec3cc4e5c2c037b4980dda1b3e95fccb4fe7d90d0284cbd16661a06be9f";
const FIELD_MANAGER: &str = "operator-bench";

struct Options {
    latency_witnesses: usize,
    scale_witnesses: usize,
    pace: Duration,
    release: bool,
    keep: bool,
}

fn options() -> anyhow::Result<Options> {
    let mut o = Options {
        latency_witnesses: 100,
        scale_witnesses: 500,
        pace: Duration::from_millis(250),
        release: false,
        keep: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().context("missing value");
        match a.as_str() {
            "--latency-witnesses" => o.latency_witnesses = value()?.parse()?,
            "--scale-witnesses" => o.scale_witnesses = value()?.parse()?,
            "--pace-ms" => o.pace = Duration::from_millis(value()?.parse()?),
            "--release" => o.release = true,
            "--keep" => o.keep = true,
            other => bail!(
                "unknown argument {other}; usage: operator-bench [--latency-witnesses N] \
                 [--scale-witnesses N] [--pace-ms MS] [--release] [--keep]"
            ),
        }
    }
    Ok(o)
}

/// What the watch saw of each Witness: when it first had a status for its generation with
/// the Deployment applied, and when it first was Ready for its generation.
#[derive(Default)]
struct Seen {
    reconciled: HashMap<String, Instant>,
    ready: HashMap<String, Instant>,
}

fn witness(name: &str, index: usize) -> serde_json::Value {
    json!({
        "apiVersion": "trust.nucleus.dev/v1alpha1",
        "kind": "Witness",
        "metadata": {"name": name},
        "spec": {
            "witnessName": format!("bench.nucleus.dev/w{index}"),
            "origins": [{
                "origin": "example.nucleus.dev/log",
                "keyName": "example.nucleus.dev/log",
                "publicKey": LOG_KEY,
            }],
            "seed": {"secretRef": {"name": format!("{name}-seed"), "key": "seed"}, "generate": true},
            "database": {"postgres": {"urlSecretRef": {"name": "bench-db", "key": "url"}}},
        },
    })
}

fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .context("VmRSS missing")
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn operator_binary(release: bool) -> anyhow::Result<PathBuf> {
    if !release {
        return Ok(nucleus_e2e::binary("nucleus-operator", "nucleus-operator")?);
    }
    run(
        Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()))
            .current_dir(repo_root())
            .args([
                "build",
                "-q",
                "--release",
                "-p",
                "nucleus-operator",
                "--bin",
                "nucleus-operator",
            ]),
        None,
    )?;
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| repo_root().join("target"));
    Ok(target.join("release/nucleus-operator"))
}

/// Waits until `done` holds for the watch state, sampling the operator's RSS meanwhile;
/// returns the peak RSS seen (KiB).
async fn wait_sampling(
    what: &str,
    seen: &Arc<Mutex<Seen>>,
    pid: u32,
    timeout: Duration,
    done: impl Fn(&Seen) -> bool,
) -> anyhow::Result<u64> {
    let deadline = Instant::now() + timeout;
    let mut peak = 0;
    loop {
        peak = peak.max(rss_kib(pid)?);
        if done(&seen.lock().expect("watch state")) {
            return Ok(peak);
        }
        if Instant::now() > deadline {
            bail!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let opts = options()?;
    let Some(cluster) = Cluster::from_env() else {
        bail!("no control plane: run `e2e/scripts/cluster.sh up` and source its env file");
    };
    let admin = cluster.admin_client().await?;
    let work = tempfile::tempdir()?;
    let pid = std::process::id();
    let ns = format!("op-bench-{pid}");

    let sa = cluster.install_chart()?;
    let kubeconfig = work.path().join("operator.kubeconfig");
    cluster.service_account_kubeconfig(SYSTEM_NS, &sa, &kubeconfig)?;
    let bin = operator_binary(opts.release)?;
    let started = Instant::now();
    let operator = Operator::start_with(
        &bin,
        &kubeconfig,
        work.path().join("operator.log"),
        &format!("nucleus-bench-leader-{pid}"),
        &["--resync-seconds=600", "--log-format=json"],
        "info",
    )
    .await?;
    let op_pid = operator.process.id();
    println!(
        "operator: {} ({}), leader after {:.2?}",
        bin.display(),
        if opts.release { "release" } else { "debug" },
        started.elapsed()
    );
    tokio::time::sleep(Duration::from_secs(10)).await;
    let idle = rss_kib(op_pid)?;
    println!("RSS idle (leader, 10 s after start): {}", mib(idle));

    cluster.kubectl(&["create", "namespace", &ns])?;
    let secrets: Api<Secret> = Api::namespaced(admin.clone(), &ns);
    let db = json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "bench-db"},
        "stringData": {"url": "postgres://nucleus:nucleus@127.0.0.1:5432/nucleus"},
    });
    secrets
        .patch(
            "bench-db",
            &PatchParams::apply(FIELD_MANAGER),
            &Patch::Apply(&db),
        )
        .await?;

    let witnesses: Api<nucleus_operator::api::v1alpha1::Witness> =
        Api::namespaced(admin.clone(), &ns);
    let seen = Arc::new(Mutex::new(Seen::default()));
    let watch = {
        let seen = seen.clone();
        let stream = watcher::watcher(witnesses.clone(), watcher::Config::default());
        tokio::spawn(async move {
            let mut stream = std::pin::pin!(stream);
            while let Some(event) = stream.next().await {
                let objects = match event {
                    Ok(watcher::Event::Apply(w) | watcher::Event::InitApply(w)) => vec![w],
                    _ => continue,
                };
                let now = Instant::now();
                let mut seen = seen.lock().expect("watch state");
                for w in objects {
                    let Some(st) = w.status.as_ref() else {
                        continue;
                    };
                    if st.observed_generation != w.metadata.generation {
                        continue;
                    }
                    let has = |t: &str, status: Option<&str>| {
                        st.conditions
                            .iter()
                            .any(|c| c.type_ == t && status.is_none_or(|s| c.status == s))
                    };
                    if has("Available", None) {
                        seen.reconciled.entry(w.name_any()).or_insert(now);
                    }
                    if has("Ready", Some("True")) {
                        seen.ready.entry(w.name_any()).or_insert(now);
                    }
                }
            }
        })
    };

    // 1. Latency: one Witness at a time.
    let mut applied: BTreeMap<String, Instant> = BTreeMap::new();
    let params = PatchParams::apply(FIELD_MANAGER);
    for i in 0..opts.latency_witnesses {
        let name = format!("lat-{i:04}");
        witnesses
            .patch(&name, &params, &Patch::Apply(&witness(&name, i)))
            .await?;
        applied.insert(name, Instant::now());
        tokio::time::sleep(opts.pace).await;
    }
    let names: Vec<String> = applied.keys().cloned().collect();
    wait_sampling(
        "the latency set Ready",
        &seen,
        op_pid,
        Duration::from_secs(300),
        |s| names.iter().all(|n| s.ready.contains_key(n)),
    )
    .await?;
    let mut latencies: Vec<Duration> = {
        let s = seen.lock().expect("watch state");
        applied
            .iter()
            .map(|(n, t)| s.ready[n].saturating_duration_since(*t))
            .collect()
    };
    latencies.sort();
    println!(
        "apply -> Ready over {} Witnesses (one every {:?}): p50 {} ms, p99 {} ms, max {} ms",
        latencies.len(),
        opts.pace,
        percentile(&latencies, 50.0).as_millis(),
        percentile(&latencies, 99.0).as_millis(),
        latencies.last().copied().unwrap_or_default().as_millis()
    );

    // 2. Scale: the rest of the scale set in one burst.
    let extra = opts.scale_witnesses.saturating_sub(opts.latency_witnesses);
    let burst_start = Instant::now();
    let mut burst = Vec::new();
    for i in 0..extra {
        let name = format!("scale-{i:04}");
        witnesses
            .patch(
                &name,
                &params,
                &Patch::Apply(&witness(&name, opts.latency_witnesses + i)),
            )
            .await?;
        burst.push(name);
    }
    let applied_in = burst_start.elapsed();
    // A control plane too small for the set (e.g. its Service IP range) leaves some
    // unreconciled: report how many, do not hide the other figures.
    let peak = match wait_sampling(
        "the scale set reconciled",
        &seen,
        op_pid,
        Duration::from_secs(300),
        |s| burst.iter().all(|n| s.reconciled.contains_key(n)),
    )
    .await
    {
        Ok(peak) => peak,
        Err(e) => {
            let s = seen.lock().expect("watch state");
            let done = burst
                .iter()
                .filter(|n| s.reconciled.contains_key(*n))
                .count();
            println!(
                "{e}: {done} of {extra} reconciled; kept namespace {ns} and the operator log {}",
                operator.process.log.display()
            );
            drop(s);
            let _ = work.keep();
            return Ok(());
        }
    };
    let reconciled_in = {
        let s = seen.lock().expect("watch state");
        burst
            .iter()
            .map(|n| s.reconciled[n])
            .max()
            .map(|t| t.saturating_duration_since(burst_start))
            .unwrap_or_default()
    };
    println!(
        "burst of {extra} Witnesses ({} in total): applied in {applied_in:.2?}, all reconciled \
         (status for their generation, children applied) {reconciled_in:.2?} after the first apply",
        opts.scale_witnesses
    );
    let ready_wait = wait_sampling(
        "the scale set Ready",
        &seen,
        op_pid,
        Duration::from_secs(120),
        |s| burst.iter().all(|n| s.ready.contains_key(n)),
    )
    .await;
    let ready_now = {
        let s = seen.lock().expect("watch state");
        burst.iter().filter(|n| s.ready.contains_key(*n)).count()
    };
    match ready_wait {
        Ok(p) => {
            let s = seen.lock().expect("watch state");
            let last = burst.iter().map(|n| s.ready[n]).max();
            println!(
                "all {extra} Ready {:.2?} after the first apply (peak RSS meanwhile {})",
                last.map(|t| t.saturating_duration_since(burst_start))
                    .unwrap_or_default(),
                mib(p)
            );
        }
        Err(_) => println!(
            "{ready_now} of {extra} Ready after 120 s more (the fake node's pod capacity or \
             pod CIDR bounds how many witness pods can run)"
        ),
    }
    tokio::time::sleep(Duration::from_secs(10)).await;
    let settled = rss_kib(op_pid)?;
    println!(
        "RSS under {} Witnesses: peak {} while reconciling, {} settled (10 s later)",
        opts.scale_witnesses,
        mib(peak),
        mib(settled)
    );
    let metrics = operator.metrics().await?;
    for line in metrics
        .lines()
        .filter(|l| l.starts_with("nucleus_operator_reconcile"))
        .filter(|l| l.contains("controller=\"witness\""))
        .filter(|l| !l.contains("_bucket"))
    {
        println!("  {line}");
    }

    watch.abort();
    if opts.keep {
        println!(
            "kept namespace {ns} and the operator log in {:?}",
            work.keep()
        );
    } else {
        cluster.kubectl(&["delete", "namespace", &ns, "--wait=false"])?;
    }
    Ok(())
}
