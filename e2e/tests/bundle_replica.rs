//! BundleReplica on a real control plane (`e2e/scripts/cluster.sh up`): real
//! `nucleus bundle publish` processes serve bundles over iroh-blobs on loopback, the operator
//! runs as a local process, and each BundleReplica ends where the issue says:
//!
//! - a real bundle → Ready, the ConfigMap's `binaryData` equal to the published bytes, the
//!   report summary in the status; later, with its publisher gone, a spec change reuses the
//!   stored copy instead of fetching, and an anchor that stops trusting the issuer flips it
//!   to ProvenanceFailed while its bytes are kept and its report dropped;
//! - a hash-perfect forged bundle → ProvenanceFailed, nothing stored;
//! - a source serving other content → HashMismatch, nothing stored;
//! - a stopped publisher → SourceUnreachable, nothing stored;
//! - a bundle larger than a ConfigMap holds → BundleTooLarge, nothing stored.
//!
//! Needs NUCLEUS_E2E_KUBECONFIG (+ the other cluster.sh variables); skips without them
//! unless CI=true.

#[path = "../../crates/bundle-cas/benches/support/bundles.rs"]
mod bundles;

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context as _, ensure};
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use kube::{Api, Client};
use nucleus_e2e::{Cluster, Process, binary, free_port, http, wait_for};
use nucleus_envelope::{Jwk, Jwks};
use nucleus_operator::api::v1alpha1::{BundleReplica, BundleReplicaStatus};
use nucleus_operator::reconcile::bundle_replica::{
    BUNDLE_KEY, HASH_ANNOTATION, PROVENANCE_ANNOTATION, REPORT_KEY,
};
use nucleus_operator::reconcile::quorum_policy::{TRUST_ANCHOR_KEY, trust_anchor, validate};
use serde_json::json;

const WAIT: Duration = Duration::from_secs(120);
const POLL: Duration = Duration::from_millis(500);
const ANCHOR_CM: &str = "replica-policy";

/// A running `nucleus bundle publish` and what it printed.
struct Publisher {
    process: Process,
    hash: String,
    ticket: String,
}

async fn publish(
    nucleus: &Path,
    dir: &Path,
    name: &str,
    bytes: &[u8],
) -> anyhow::Result<Publisher> {
    let file = dir.join(format!("{name}.json"));
    std::fs::write(&file, bytes)?;
    let process = Process::spawn(
        Command::new(nucleus).args(["bundle", "publish"]).arg(&file),
        dir.join(format!("publish-{name}.log")),
    )?;
    let log = process.log.clone();
    let (hash, ticket) = wait_for("publisher output", WAIT, POLL, || {
        let log = log.clone();
        async move {
            let text = std::fs::read_to_string(&log).ok()?;
            let field = |prefix: &str| {
                text.lines()
                    .find_map(|l| l.strip_prefix(prefix))
                    .map(str::to_owned)
            };
            Some((field("blake3-hash: ")?, field("node-ticket: ")?))
        }
    })
    .await
    .with_context(|| process.output())?;
    ensure!(
        hash == blake3_hex(bytes),
        "publisher printed {hash}, BLAKE3 of the file is {}",
        blake3_hex(bytes)
    );
    Ok(Publisher {
        process,
        hash,
        ticket,
    })
}

fn blake3_hex(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex().to_string()
}

/// `trust-anchor.json` exactly as a QuorumPolicy renders it (the operator's own renderer)
/// for the test log, trusting `issuer`'s key: 2 of 3 witnesses by policy, log key, origin.
fn rendered_anchor(issuer: &ed25519_dalek::SigningKey) -> anyhow::Result<String> {
    let a = bundles::anchor();
    let w = &a.trusted_witnesses_hex;
    let text = format!(
        "log {}\nwitness w0 {}\nwitness w1 {}\nwitness w2 {}\ngroup q 2 w0 w1 w2\nquorum q\n",
        a.trust_witness_pubkey_hex.as_deref().context("log key")?,
        w[0],
        w[1],
        w[2]
    );
    let policy = validate(&text).map_err(|e| anyhow::anyhow!("policy: {e:?}"))?;
    let jwks = Jwks {
        keys: vec![Jwk::from_ed25519(&issuer.verifying_key())],
    };
    let doc = trust_anchor(
        &policy,
        &text,
        Some(bundles::ORIGIN),
        Some(serde_json::to_value(&jwks)?),
    );
    Ok(serde_json::to_string_pretty(&doc)?)
}

async fn put_anchor(client: &Client, ns: &str, anchor_json: &str) -> anyhow::Result<()> {
    let cm: ConfigMap = serde_json::from_value(json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": ANCHOR_CM, "namespace": ns},
        "data": {TRUST_ANCHOR_KEY: anchor_json},
    }))?;
    Api::<ConfigMap>::namespaced(client.clone(), ns)
        .patch(
            ANCHOR_CM,
            &PatchParams::apply("bundle-replica-e2e").force(),
            &Patch::Apply(&cm),
        )
        .await?;
    Ok(())
}

async fn create_replica(
    api: &Api<BundleReplica>,
    name: &str,
    hash: &str,
    sources: &[&str],
) -> anyhow::Result<()> {
    let br: BundleReplica = serde_json::from_value(json!({
        "apiVersion": "trust.nucleus.dev/v1alpha1",
        "kind": "BundleReplica",
        "metadata": {"name": name},
        "spec": {
            "hash": hash,
            "sources": sources,
            "trustAnchorRef": {"configMapName": ANCHOR_CM},
        },
    }))?;
    api.create(&PostParams::default(), &br).await?;
    Ok(())
}

fn condition<'a>(status: &'a BundleReplicaStatus, type_: &str) -> Option<&'a Condition> {
    status.conditions.iter().find(|c| c.type_ == type_)
}

fn holds(status: &BundleReplicaStatus, type_: &str) -> Option<bool> {
    condition(status, type_).map(|c| c.status == "True")
}

/// Waits until the replica's status is for its current generation and Ready has `reason`.
async fn wait_ready_reason(
    api: &Api<BundleReplica>,
    name: &str,
    reason: &str,
    operator: &Process,
) -> anyhow::Result<BundleReplicaStatus> {
    wait_for(
        &format!("BundleReplica {name} Ready reason {reason}"),
        WAIT,
        POLL,
        || async move {
            let br = api.get_opt(name).await.ok()??;
            let status = br.status?;
            let ready = condition(&status, "Ready")?;
            (ready.reason == reason && status.observed_generation == br.metadata.generation)
                .then_some(status)
        },
    )
    .await
    .with_context(|| format!("operator log:\n{}", tail(&operator.output(), 60)))
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

async fn no_config_map(cms: &Api<ConfigMap>, name: &str) -> anyhow::Result<()> {
    ensure!(
        cms.get_opt(name).await?.is_none(),
        "ConfigMap {name} exists, but nothing may be stored for this replica"
    );
    Ok(())
}

/// Bumps the generation (adds a harmless extra source) so the operator reconciles again.
async fn add_source(api: &Api<BundleReplica>, name: &str, extra: &str) -> anyhow::Result<()> {
    let br = api.get(name).await?;
    let mut sources = br.spec.sources.clone();
    sources.push(extra.to_owned());
    api.patch(
        name,
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"sources": sources}})),
    )
    .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bundle_replica_end_to_end() -> anyhow::Result<()> {
    let Some(cluster) = Cluster::from_env() else {
        return Ok(());
    };
    let admin = cluster.admin_client().await?;
    let work = tempfile::tempdir()?;
    let dir = work.path();
    let ns = format!("br-e2e-{}", std::process::id());

    // The CRDs as generated (idempotent; another suite's chart may own them already). All
    // of them: the operator runs every controller.
    let crds = nucleus_e2e::repo_root().join("crds");
    cluster.kubectl(&[
        "apply",
        "--server-side",
        "--force-conflicts",
        "--field-manager=bundle-replica-e2e",
        "-f",
        crds.to_str().context("crds path")?,
    ])?;
    cluster.kubectl(&[
        "wait",
        "--for=condition=Established",
        "crd/bundlereplicas.trust.nucleus.dev",
        "crd/witnesses.trust.nucleus.dev",
        "crd/quorumpolicies.trust.nucleus.dev",
        "crd/federateswith.trust.nucleus.dev",
        "--timeout=60s",
    ])?;
    cluster.kubectl(&["create", "namespace", &ns])?;

    // Publishers: a real bundle, a forgery, one too large for a ConfigMap, and one stopped.
    let nucleus = binary("nucleus-cli", "nucleus")?;
    let good = bundles::bundle(&bundles::issuer(), 3, 20_000);
    let forged = bundles::bundle(&bundles::forger(), 2, 100);
    let big = bundles::bundle(&bundles::issuer(), 1, 900_000);
    ensure!(
        big.len() > 1024 * 1024,
        "the large bundle must exceed 1 MiB"
    );
    let good_pub = publish(&nucleus, dir, "good", &good).await?;
    let forged_pub = publish(&nucleus, dir, "forged", &forged).await?;
    let big_pub = publish(&nucleus, dir, "big", &big).await?;
    let mut gone_pub = publish(&nucleus, dir, "gone", &good).await?;
    gone_pub.process.terminate(Duration::from_secs(10))?;

    put_anchor(&admin, &ns, &rendered_anchor(&bundles::issuer())?).await?;

    // The operator, as a local process (no leader election: it is the only one we start).
    let http_port = free_port()?;
    let operator = Process::spawn(
        Command::new(binary("nucleus-operator", "nucleus-operator")?)
            .env("KUBECONFIG", &cluster.kubeconfig)
            .env("RUST_LOG", "info,nucleus_operator=debug")
            .args([
                &format!("--http-addr=127.0.0.1:{http_port}"),
                "--leader-election=false",
                "--resync-seconds=30",
                "--log-format=text",
            ]),
        dir.join("operator.log"),
    )?;
    let op_addr: SocketAddr = format!("127.0.0.1:{http_port}").parse()?;
    wait_for("operator /readyz", WAIT, POLL, || async move {
        let (code, _) = http(op_addr, "GET", "/readyz", b"").await.ok()?;
        (code == 200).then_some(())
    })
    .await
    .with_context(|| operator.output())?;

    let api: Api<BundleReplica> = Api::namespaced(admin.clone(), &ns);
    let cms: Api<ConfigMap> = Api::namespaced(admin.clone(), &ns);
    create_replica(&api, "good", &good_pub.hash, &[&good_pub.ticket]).await?;
    create_replica(&api, "forged", &forged_pub.hash, &[&forged_pub.ticket]).await?;
    // The good bundle's hash, but the only source serves the forgery.
    create_replica(&api, "wrong-hash", &good_pub.hash, &[&forged_pub.ticket]).await?;
    create_replica(&api, "unreachable", &gone_pub.hash, &[&gone_pub.ticket]).await?;
    create_replica(&api, "too-large", &big_pub.hash, &[&big_pub.ticket]).await?;

    // 1. The real bundle: Ready, exact bytes stored, report summary in the status.
    let st = wait_ready_reason(&api, "good", "Replicated", &operator).await?;
    ensure!(holds(&st, "Ready") == Some(true), "{st:?}");
    for t in ["HashMismatch", "ProvenanceFailed", "SourceUnreachable"] {
        ensure!(holds(&st, t) == Some(false), "{t} should be False: {st:?}");
    }
    ensure!(st.size == Some(good.len() as i64), "{st:?}");
    ensure!(
        st.source_used.as_deref() == Some(good_pub.ticket.as_str()),
        "{st:?}"
    );
    ensure!(st.config_map.as_deref() == Some("bundle-good"), "{st:?}");
    let summary = st.verified.clone().context("verified summary")?;
    ensure!(summary.edges == 3, "{summary:?}");
    ensure!(summary.witnesses_counted == ["w0", "w1"], "{summary:?}");
    ensure!(summary.quorum_satisfied, "{summary:?}");
    let cm = cms.get("bundle-good").await?;
    let stored = &cm.binary_data.as_ref().context("binaryData")?[BUNDLE_KEY].0;
    ensure!(
        *stored == good,
        "stored bytes differ from the published bundle"
    );
    let report: serde_json::Value =
        serde_json::from_str(&cm.data.as_ref().context("data")?[REPORT_KEY])?;
    ensure!(report["edge_count"] == 3, "{report}");
    let ann = cm.metadata.annotations.clone().unwrap_or_default();
    ensure!(ann.get(HASH_ANNOTATION) == Some(&good_pub.hash), "{ann:?}");
    ensure!(ann.get(PROVENANCE_ANNOTATION).map(String::as_str) == Some("verified"));

    // 2. Hash-perfect forgery: ProvenanceFailed, the message says why, nothing stored.
    let st = wait_ready_reason(&api, "forged", "ProvenanceFailed", &operator).await?;
    ensure!(holds(&st, "ProvenanceFailed") == Some(true), "{st:?}");
    ensure!(holds(&st, "HashMismatch") == Some(false), "{st:?}");
    ensure!(holds(&st, "Ready") == Some(false), "{st:?}");
    let msg = &condition(&st, "ProvenanceFailed")
        .context("condition")?
        .message;
    ensure!(msg.contains("byte integrity is not provenance"), "{msg}");
    ensure!(msg.contains("unknown_kid"), "{msg}");
    ensure!(st.verified.is_none() && st.size.is_none(), "{st:?}");
    no_config_map(&cms, "bundle-forged").await?;

    // 3. A source that serves other content: HashMismatch, nothing stored.
    let st = wait_ready_reason(&api, "wrong-hash", "HashMismatch", &operator).await?;
    ensure!(holds(&st, "HashMismatch") == Some(true), "{st:?}");
    ensure!(holds(&st, "SourceUnreachable") == Some(false), "{st:?}");
    let msg = &condition(&st, "HashMismatch").context("condition")?.message;
    ensure!(msg.contains("ticket/hash mismatch"), "{msg}");
    no_config_map(&cms, "bundle-wrong-hash").await?;

    // 4. The stopped publisher: SourceUnreachable, nothing stored.
    let st = wait_ready_reason(&api, "unreachable", "SourceUnreachable", &operator).await?;
    ensure!(holds(&st, "SourceUnreachable") == Some(true), "{st:?}");
    ensure!(holds(&st, "HashMismatch") == Some(false), "{st:?}");
    ensure!(st.last_attempt.is_some(), "{st:?}");
    no_config_map(&cms, "bundle-unreachable").await?;

    // 5. Larger than a ConfigMap holds: refused on its proven size, nothing stored.
    let st = wait_ready_reason(&api, "too-large", "BundleTooLarge", &operator).await?;
    let msg = &condition(&st, "Ready").context("condition")?.message;
    ensure!(msg.contains("ConfigMap holds at most"), "{msg}");
    no_config_map(&cms, "bundle-too-large").await?;

    // 6. The stored replica is not fetched again: with every publisher of it gone, a spec
    //    change still ends Ready, from the stored copy.
    let mut good_pub = good_pub;
    good_pub.process.terminate(Duration::from_secs(10))?;
    let before = api.get("good").await?.status.context("status")?;
    add_source(&api, "good", &gone_pub.ticket).await?;
    let st = wait_ready_reason(&api, "good", "Replicated", &operator).await?;
    let src = condition(&st, "SourceUnreachable").context("condition")?;
    ensure!(
        src.status == "False" && src.reason == "StoredReplica",
        "{src:?}"
    );
    ensure!(
        st.last_attempt == before.last_attempt,
        "a fetch was attempted"
    );
    ensure!(st.source_used == before.source_used, "{st:?}");

    // 7. An anchor that no longer trusts the issuer: ProvenanceFailed on the stored copy;
    //    its bytes are kept (they are what the hash names), its report is dropped.
    put_anchor(&admin, &ns, &rendered_anchor(&bundles::forger())?).await?;
    add_source(&api, "good", &forged_pub.ticket).await?;
    let st = wait_ready_reason(&api, "good", "ProvenanceFailed", &operator).await?;
    ensure!(st.verified.is_none(), "{st:?}");
    ensure!(st.size == Some(good.len() as i64), "{st:?}");
    let cm = cms.get("bundle-good").await?;
    ensure!(cm.binary_data.as_ref().context("binaryData")?[BUNDLE_KEY].0 == good);
    ensure!(
        cm.data.as_ref().is_none_or(|d| !d.contains_key(REPORT_KEY)),
        "the report of a replica failing provenance was kept"
    );
    let ann = cm.metadata.annotations.clone().unwrap_or_default();
    ensure!(
        ann.get(PROVENANCE_ANNOTATION).map(String::as_str) == Some("failed"),
        "{ann:?}"
    );

    // Cleanup: the operator, the publishers (dropped), the namespace.
    let mut operator = operator;
    let status = operator.terminate(Duration::from_secs(20))?;
    ensure!(
        status.is_some_and(|s| s.success()),
        "operator did not exit cleanly: {}",
        tail(&operator.output(), 40)
    );
    Api::<k8s_openapi::api::core::v1::Namespace>::all(admin)
        .delete(&ns, &DeleteParams::default())
        .await?;
    drop((forged_pub, big_pub));
    Ok(())
}
