//! FederatesWith on a real control plane (`e2e/scripts/cluster.sh up`): the operator runs
//! locally as the chart's ServiceAccount and fetches from a loopback HTTPS bundle endpoint
//! whose certificate comes from a test CA (given to the operator via a ConfigMap ref).
//!
//! Story: first bundle accepted → rotation picked up → a rollback served and refused
//! (last good keys kept) → endpoint down (keys kept) → operator restarted while the
//! endpoint serves the rollback again: still refused.
//!
//! Needs NUCLEUS_E2E_KUBECONFIG (+ the other cluster.sh variables); skips without them
//! unless CI=true.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context as _, ensure};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{DeleteParams, Patch, PatchParams};
use kube::{Api, Client};
use nucleus_e2e::{BundleEndpoint, Cluster, Operator, SYSTEM_NS, wait_for};
use nucleus_federation::SpiffeBundle;
use nucleus_operator::api::v1alpha1::FederatesWith;
use nucleus_operator::reconcile::federates_with::{BUNDLE_KEY, SEQUENCE_ANNOTATION};
use serde_json::json;

const WAIT: Duration = Duration::from_secs(90);
const POLL: Duration = Duration::from_millis(500);

fn vector(name: &str) -> Vec<u8> {
    let path = nucleus_e2e::repo_root()
        .join("crates/federation/testdata/generated")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Where the test endpoint serves the federated trust domain's bundle.
const BUNDLE_PATH: &str = "spiffe-bundle";

async fn start_operator(kubeconfig: &Path, log: &Path, lease: &str) -> anyhow::Result<Operator> {
    Ok(Operator::start(kubeconfig, log.to_path_buf(), lease, &["--lease-seconds=5"]).await?)
}

/// What the test reads back after each step.
#[derive(Debug)]
struct Seen {
    sequence: Option<i64>,
    jwt_keys: Option<i32>,
    ready: String,
    stale: String,
    stale_reason: String,
    rollback_refused: String,
    last_error: Option<String>,
    cm_sequence: Option<String>,
    cm_jwt_keys: Option<usize>,
}

async fn observe(
    fws: &Api<FederatesWith>,
    cms: &Api<ConfigMap>,
    name: &str,
    cm: &str,
) -> Option<Seen> {
    let fw = fws.get_opt(name).await.ok()??;
    let st = fw.status?;
    let cond = |t: &str| st.conditions.iter().find(|c| c.type_ == t);
    let status_of = |t: &str| cond(t).map(|c| c.status.clone()).unwrap_or_default();
    let cm = cms.get_opt(cm).await.ok().flatten();
    Some(Seen {
        sequence: st.sequence,
        jwt_keys: st.jwt_key_count,
        ready: status_of("Ready"),
        stale: status_of("Stale"),
        stale_reason: cond("Stale").map(|c| c.reason.clone()).unwrap_or_default(),
        rollback_refused: status_of("RollbackRefused"),
        last_error: st.last_error.clone(),
        cm_sequence: cm
            .as_ref()
            .and_then(|c| c.metadata.annotations.as_ref())
            .and_then(|a| a.get(SEQUENCE_ANNOTATION).cloned()),
        cm_jwt_keys: cm
            .as_ref()
            .and_then(|c| c.data.as_ref())
            .and_then(|d| d.get(BUNDLE_KEY))
            .and_then(|b| SpiffeBundle::parse(b.as_bytes()).ok())
            .map(|b| b.jwt_keys().len()),
    })
}

async fn wait_seen<F: Fn(&Seen) -> bool>(
    what: &str,
    client: &Client,
    ns: &str,
    name: &str,
    cm: &str,
    ok: F,
    operator: &Operator,
) -> anyhow::Result<Seen> {
    let fws: Api<FederatesWith> = Api::all(client.clone());
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), ns);
    let ok = &ok;
    wait_for(what, WAIT, POLL, || {
        let (fws, cms) = (fws.clone(), cms.clone());
        async move { observe(&fws, &cms, name, cm).await.filter(|s| ok(s)) }
    })
    .await
    .with_context(|| {
        format!(
            "{what} (FederatesWith {name}, ConfigMap {ns}/{cm}); operator log:\n{}",
            operator.process.output()
        )
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn federation_end_to_end() -> anyhow::Result<()> {
    let Some(cluster) = Cluster::from_env() else {
        return Ok(());
    };
    let _ = rustls::crypto::ring::default_provider().install_default();
    let admin = cluster.admin_client().await?;
    let work = tempfile::tempdir()?;
    let pid = std::process::id();
    let ns = format!("fed-e2e-{pid}");
    let name = format!("ci-example-org-{pid}");
    let cm_name = format!("federation-{name}");
    let lease = format!("nucleus-fed-e2e-leader-{pid}");

    let sa = cluster.install_chart()?;
    let sa_kubeconfig = work.path().join("operator.kubeconfig");
    cluster.service_account_kubeconfig(SYSTEM_NS, &sa, &sa_kubeconfig)?;
    let endpoint = BundleEndpoint::start("nucleus e2e bundle-endpoint CA").await?;
    endpoint.put(BUNDLE_PATH, vector("bundle_seq1.json"));
    let mut operator =
        start_operator(&sa_kubeconfig, &work.path().join("operator-1.log"), &lease).await?;

    cluster.kubectl(&["create", "namespace", &ns])?;
    let ca_cm = json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "bundle-endpoint-ca", "namespace": ns},
        "data": {"ca.crt": endpoint.ca_pem},
    });
    cluster.kubectl_stdin(&["apply", "-f", "-"], &ca_cm.to_string())?;
    let fw = json!({
        "apiVersion": "trust.nucleus.dev/v1alpha1", "kind": "FederatesWith",
        "metadata": {"name": name},
        "spec": {
            "trustDomain": "ci.example.org",
            "bundleEndpointURL": endpoint.url(BUNDLE_PATH),
            "profile": "https_web",
            "caBundleRef": {"namespace": ns, "name": "bundle-endpoint-ca", "key": "ca.crt"},
            "refreshInterval": "10s",
            "target": {"namespace": ns},
        },
    });
    let fws: Api<FederatesWith> = Api::all(admin.clone());
    fws.patch(
        &name,
        &PatchParams::apply("fed-e2e").force(),
        &Patch::Apply(&fw),
    )
    .await?;

    // 1. First bundle.
    let seen = wait_seen(
        "seq 1 accepted",
        &admin,
        &ns,
        &name,
        &cm_name,
        |s| s.sequence == Some(1) && s.ready == "True",
        &operator,
    )
    .await?;
    ensure!(
        seen.jwt_keys == Some(3)
            && seen.cm_jwt_keys == Some(3)
            && seen.cm_sequence.as_deref() == Some("1"),
        "{seen:?}"
    );

    // 2. Rotation picked up.
    endpoint.put(BUNDLE_PATH, vector("bundle_seq2_rotated.json"));
    let seen = wait_seen(
        "rotation to seq 2",
        &admin,
        &ns,
        &name,
        &cm_name,
        |s| s.sequence == Some(2),
        &operator,
    )
    .await?;
    ensure!(
        seen.jwt_keys == Some(4)
            && seen.cm_jwt_keys == Some(4)
            && seen.cm_sequence.as_deref() == Some("2"),
        "{seen:?}"
    );

    // 3. A rollback served and refused; last good keys kept.
    endpoint.put(BUNDLE_PATH, vector("bundle_seq1_replay_of_seq1.json"));
    let seen = wait_seen(
        "rollback refused",
        &admin,
        &ns,
        &name,
        &cm_name,
        |s| s.rollback_refused == "True",
        &operator,
    )
    .await?;
    ensure!(
        seen.sequence == Some(2)
            && seen.cm_jwt_keys == Some(4)
            && seen.cm_sequence.as_deref() == Some("2"),
        "{seen:?}"
    );
    ensure!(
        seen.ready == "False" && seen.stale == "True" && seen.stale_reason == "SequenceRollback",
        "{seen:?}"
    );
    ensure!(
        seen.last_error
            .as_deref()
            .is_some_and(|e| e.contains("rollback refused")),
        "{seen:?}"
    );

    // 4. Endpoint down: keys kept.
    endpoint.take_down();
    let seen = wait_seen(
        "endpoint down reported",
        &admin,
        &ns,
        &name,
        &cm_name,
        |s| s.stale_reason == "FetchFailed",
        &operator,
    )
    .await?;
    ensure!(
        seen.sequence == Some(2)
            && seen.cm_jwt_keys == Some(4)
            && seen.cm_sequence.as_deref() == Some("2"),
        "{seen:?}"
    );

    // 5. Operator restarted; the rollback is served again and still refused.
    operator.process.terminate(Duration::from_secs(10))?;
    endpoint.put(BUNDLE_PATH, vector("bundle_seq1_replay_of_seq1.json"));
    let before = endpoint.served();
    let operator =
        start_operator(&sa_kubeconfig, &work.path().join("operator-2.log"), &lease).await?;
    let seen = wait_seen(
        "rollback refused after restart",
        &admin,
        &ns,
        &name,
        &cm_name,
        |s| s.stale_reason == "SequenceRollback",
        &operator,
    )
    .await?;
    ensure!(endpoint.served() > before, "the restarted operator fetched");
    ensure!(
        seen.sequence == Some(2)
            && seen.cm_jwt_keys == Some(4)
            && seen.cm_sequence.as_deref() == Some("2"),
        "{seen:?}"
    );

    // 6. The good endpoint again: the refusal clears, a revocation at seq 3 is applied.
    endpoint.put(
        BUNDLE_PATH,
        vector("bundle_seq3_empty_keys_revocation.json"),
    );
    let seen = wait_seen(
        "revocation applied",
        &admin,
        &ns,
        &name,
        &cm_name,
        |s| s.sequence == Some(3),
        &operator,
    )
    .await?;
    ensure!(
        seen.jwt_keys == Some(0)
            && seen.cm_jwt_keys == Some(0)
            && seen.rollback_refused == "False"
            && seen.ready == "True",
        "{seen:?}"
    );

    fws.delete(&name, &DeleteParams::default()).await?;
    cluster.kubectl(&["delete", "namespace", &ns, "--wait=false"])?;
    Ok(())
}
