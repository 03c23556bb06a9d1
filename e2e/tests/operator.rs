//! The operator on a real control plane (etcd + kube-apiserver + kube-controller-manager +
//! kwok, from `e2e/scripts/cluster.sh up`): helm-installed chart, operator run locally with
//! the chart ServiceAccount's token, three Witnesses and a 2-of-3 QuorumPolicy from
//! `examples/`, then real `nucleus-witness` processes started exactly as the pod template
//! says, and a checkpoint cosigned to the rendered policy.
//!
//! Needs NUCLEUS_E2E_KUBECONFIG (+ the other cluster.sh variables) and
//! NUCLEUS_TEST_POSTGRES_URL; skips without them unless CI=true.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context as _, bail, ensure};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Secret, Service};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use kube::{Api, Client};
use nucleus_e2e::{
    Cluster, LogProducer, Operator, Process, SYSTEM_NS, binary, free_port, http,
    parse_cosignatures, postgres_url, psql, wait_for,
};
use nucleus_lineage::Note;
use nucleus_lineage::policy::Policy;
use nucleus_lineage::quorum::verify_cosigned_checkpoint;
use nucleus_operator::api::v1alpha1::{QuorumPolicy, Witness};
use serde_json::json;
use sha2::{Digest, Sha256};

const EXAMPLE_DB: &str = "postgres://nucleus:nucleus@127.0.0.1:5432/nucleus";
const ORIGIN: &str = "example.nucleus.dev/log";
const WAIT: Duration = Duration::from_secs(120);
const POLL: Duration = Duration::from_millis(500);

fn example_log_seed() -> [u8; 32] {
    Sha256::digest(b"nucleus example log key (public test seed, never use in production)").into()
}

fn condition<'a>(
    conds: &'a [k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition],
    t: &str,
) -> Option<&'a k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition> {
    conds.iter().find(|c| c.type_ == t)
}

async fn witness_ready(api: &Api<Witness>, name: &str) -> Option<Witness> {
    let w = api.get_opt(name).await.ok()??;
    let st = w.status.as_ref()?;
    let ready = condition(&st.conditions, "Ready")?;
    (ready.status == "True" && st.observed_generation == w.metadata.generation).then_some(w)
}

async fn policy_condition(
    api: &Api<QuorumPolicy>,
    name: &str,
    status: &str,
    reason: &str,
) -> Option<QuorumPolicy> {
    let p = api.get_opt(name).await.ok()??;
    let st = p.status.as_ref()?;
    let ready = condition(&st.conditions, "Ready")?;
    (ready.status == status
        && ready.reason == reason
        && st.observed_generation == p.metadata.generation)
        .then_some(p)
}

struct Witnessd {
    addr: SocketAddr,
    name: String,
    _process: Process,
}

/// Starts `nucleus-witness` with exactly the args/env/files of the Witness's Deployment
/// pod template: the seed file from the seed Secret, the origins file from the ConfigMap,
/// the DB URL from the URL Secret. Only the bind address is made local.
async fn start_witness_like_pod(
    client: &Client,
    ns: &str,
    name: &str,
    dir: &std::path::Path,
) -> anyhow::Result<Witnessd> {
    let d = Api::<Deployment>::namespaced(client.clone(), ns)
        .get(name)
        .await?;
    let pod = d
        .spec
        .and_then(|s| s.template.spec)
        .context("pod template")?;
    let c = &pod.containers[0];
    let mut files: BTreeMap<String, std::path::PathBuf> = BTreeMap::new();
    for mount in c.volume_mounts.iter().flatten() {
        let vol = pod
            .volumes
            .iter()
            .flatten()
            .find(|v| v.name == mount.name)
            .context("volume")?;
        let local = dir.join(format!("{name}-{}", mount.name));
        std::fs::create_dir_all(&local)?;
        if let Some(s) = &vol.secret {
            let secret = Api::<Secret>::namespaced(client.clone(), ns)
                .get(s.secret_name.as_deref().context("secret name")?)
                .await?;
            for item in s.items.iter().flatten() {
                let bytes = &secret.data.as_ref().context("secret data")?[&item.key].0;
                std::fs::write(local.join(&item.path), bytes)?;
            }
        } else if let Some(cm) = &vol.config_map {
            let cm = Api::<ConfigMap>::namespaced(client.clone(), ns)
                .get(&cm.name)
                .await?;
            for (k, v) in cm.data.iter().flatten() {
                std::fs::write(local.join(k), v)?;
            }
        }
        files.insert(mount.mount_path.clone(), local);
    }
    let port = free_port()?;
    let args: Vec<String> = c
        .args
        .iter()
        .flatten()
        .map(|a| {
            if a.starts_with("--bind=") {
                return format!("--bind=127.0.0.1:{port}");
            }
            // `--flag=/mount/path/file`: the longest mount path that prefixes the value is
            // mapped, once, to its local copy.
            let Some((flag, value)) = a.split_once('=') else {
                return a.clone();
            };
            files
                .iter()
                .filter(|(mount, _)| value.starts_with(&format!("{mount}/")))
                .max_by_key(|(mount, _)| mount.len())
                .map_or_else(
                    || a.clone(),
                    |(mount, local)| format!("{flag}={}{}", local.display(), &value[mount.len()..]),
                )
        })
        .collect();
    let mut cmd = Command::new(binary("nucleus-witness", "nucleus-witness")?);
    cmd.args(&args);
    for env in c.env.iter().flatten() {
        let sel = env
            .value_from
            .as_ref()
            .and_then(|v| v.secret_key_ref.as_ref())
            .context("env from secret")?;
        let secret = Api::<Secret>::namespaced(client.clone(), ns)
            .get(&sel.name)
            .await?;
        let value = String::from_utf8(secret.data.as_ref().context("data")?[&sel.key].0.clone())?;
        cmd.env(&env.name, value);
    }
    let process = Process::spawn(&mut cmd, dir.join(format!("{name}.log")))?;
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse()?;
    wait_for(&format!("{name} /readyz"), Duration::from_secs(60), POLL, || async move {
        matches!(http(addr, "GET", "/readyz", b"").await, Ok((200, _))).then_some(())
    })
    .await
    .with_context(|| format!("witness {name} did not become ready: {}", process.output()))?;
    Ok(Witnessd {
        addr,
        name: name.to_owned(),
        _process: process,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_end_to_end() -> anyhow::Result<()> {
    let Some(cluster) = Cluster::from_env() else {
        return Ok(());
    };
    let Some(pg) = postgres_url() else {
        return Ok(());
    };
    let admin = cluster.admin_client().await?;
    let work = tempfile::tempdir()?;
    let ns = format!("op-e2e-{}", std::process::id());

    // Chart + operator as the chart's ServiceAccount.
    let sa = cluster.install_chart()?;
    let sa_user = format!("system:serviceaccount:{SYSTEM_NS}:{sa}");
    for (verb, resource, expect) in [
        ("list", "secrets", "no"),
        ("watch", "secrets", "no"),
        ("get", "secrets", "yes"),
        ("patch", "deployments.apps", "yes"),
        ("delete", "deployments.apps", "no"),
        (
            "patch",
            "witnesses.trust.nucleus.dev --subresource=status",
            "yes",
        ),
        ("update", "witnesses.trust.nucleus.dev", "no"),
    ] {
        let out = Command::new("kubectl")
            .env("KUBECONFIG", &cluster.kubeconfig)
            .args(["auth", "can-i", verb, "--as", &sa_user, "-A"])
            .args(resource.split(' '))
            .output()?;
        let answer = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        ensure!(
            answer == expect,
            "RBAC: can {sa_user} {verb} {resource}? got {answer}, want {expect}"
        );
    }
    let sa_kubeconfig = work.path().join("operator.kubeconfig");
    cluster.service_account_kubeconfig(SYSTEM_NS, &sa, &sa_kubeconfig)?;
    let watch = format!("--watch-namespace={ns}");
    let mut operator = Operator::start(
        &sa_kubeconfig,
        work.path().join("operator.log"),
        &format!("nucleus-e2e-leader-{}", std::process::id()),
        &[
            "--witness-image=nucleus-witness:e2e",
            "--resync-seconds=30",
            &watch,
        ],
    )
    .await?;

    // Namespace, per-witness Postgres schemas, examples. A Witness in another namespace is
    // outside --watch-namespace and must stay untouched.
    cluster.kubectl(&["create", "namespace", &ns])?;
    let unwatched_ns = format!("{ns}-unwatched");
    cluster.kubectl(&["create", "namespace", &unwatched_ns])?;
    cluster.kubectl(&[
        "-n",
        &unwatched_ns,
        "apply",
        "-f",
        nucleus_e2e::repo_root()
            .join("examples/witnesses.yaml")
            .to_str()
            .context("path")?,
    ])?;
    let schema_prefix = format!("op_e2e_{}", std::process::id());
    for s in ["a", "b", "c"] {
        psql(
            &pg,
            &format!(
                "DROP SCHEMA IF EXISTS {schema_prefix}_{s} CASCADE; CREATE SCHEMA {schema_prefix}_{s}"
            ),
        )?;
    }
    let examples = nucleus_e2e::repo_root().join("examples");
    let db = std::fs::read_to_string(examples.join("witness-db-secret.yaml"))?
        .replace(EXAMPLE_DB, pg.split('?').next().unwrap_or(&pg))
        .replace(
            "search_path%3Dwitness_",
            &format!("search_path%3D{schema_prefix}_"),
        );
    cluster.kubectl_stdin(&["-n", &ns, "apply", "-f", "-"], &db)?;
    for f in ["witnesses.yaml", "quorum-policy.yaml"] {
        cluster.kubectl(&[
            "-n",
            &ns,
            "apply",
            "-f",
            examples.join(f).to_str().context("path")?,
        ])?;
    }

    // Witnesses: Ready (follows the Deployment's Available from KCM + kwok), status, children.
    let witnesses: Api<Witness> = Api::namespaced(admin.clone(), &ns);
    let mut keys = BTreeMap::new();
    for name in ["witness-a", "witness-b", "witness-c"] {
        let w = wait_for(&format!("{name} Ready"), WAIT, POLL, || {
            witness_ready(&witnesses, name)
        })
        .await
        .with_context(|| operator.process.output())?;
        let st = w.status.clone().context("status")?;
        for t in [
            "SeedAvailable",
            "DatabaseConfigured",
            "KeyPinned",
            "Available",
        ] {
            ensure!(
                condition(&st.conditions, t).is_some_and(|c| c.status == "True"),
                "{name}: {t} not True: {:?}",
                st.conditions
            );
        }
        let hex_key = st.public_key_hex.clone().context("publicKeyHex")?;
        let vkey = nucleus_lineage::Vkey::parse(st.vkey.as_deref().context("vkey")?)?;
        ensure!(
            hex::encode(&vkey.public_key) == hex_key
                && format!("{:08x}", vkey.key_id) == st.key_id.clone().unwrap_or_default()
        );
        ensure!(st.endpoint.as_deref() == Some(format!("http://{name}.{ns}.svc:8080").as_str()));
        ensure!(st.seed_generated == Some(true));
        let seed = Api::<Secret>::namespaced(admin.clone(), &ns)
            .get(&format!("{name}-seed"))
            .await?;
        ensure!(
            seed.immutable == Some(true),
            "generated seed Secret must be immutable"
        );
        let uid = w.metadata.uid.clone().context("uid")?;
        let d = Api::<Deployment>::namespaced(admin.clone(), &ns)
            .get(name)
            .await?;
        ensure!(
            d.metadata
                .owner_references
                .iter()
                .flatten()
                .any(|o| o.uid == uid && o.controller == Some(true))
        );
        Api::<Service>::namespaced(admin.clone(), &ns)
            .get(name)
            .await?;
        Api::<ConfigMap>::namespaced(admin.clone(), &ns)
            .get(&format!("{name}-origins"))
            .await?;
        ensure!(
            Api::<PodDisruptionBudget>::namespaced(admin.clone(), &ns)
                .get_opt(name)
                .await?
                .is_none(),
            "no PDB with 1 replica"
        );
        keys.insert(name, hex_key);
    }
    let distinct: BTreeSet<_> = keys.values().collect();
    ensure!(distinct.len() == 3, "three distinct generated keys");
    // By now the operator has handled every watch event it receives; the Witnesses created
    // before these, in the unwatched namespace, got neither status nor children.
    let unwatched: Api<Witness> = Api::namespaced(admin.clone(), &unwatched_ns);
    for w in unwatched.list(&Default::default()).await? {
        ensure!(
            w.status.is_none(),
            "{}/{} is outside --watch-namespace but has status {:?}",
            unwatched_ns,
            w.metadata.name.unwrap_or_default(),
            w.status
        );
    }
    ensure!(
        Api::<Deployment>::namespaced(admin.clone(), &unwatched_ns)
            .list(&Default::default())
            .await?
            .items
            .is_empty(),
        "no Deployment in the unwatched namespace"
    );
    cluster.kubectl(&["delete", "namespace", &unwatched_ns, "--wait=false"])?;

    // A child the API refuses (here an admission policy denying the Service) shows as
    // Ready=False with the API's answer in status, not only in the operator's log.
    let vap = format!("nucleus-e2e-deny-service-{ns}");
    cluster.kubectl_stdin(
        &["apply", "-f", "-"],
        &json!({"apiVersion": "v1", "kind": "List", "items": [
            {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy",
             "metadata": {"name": vap},
             "spec": {"failurePolicy": "Fail",
                      "matchConstraints": {"resourceRules": [{"apiGroups": [""], "apiVersions": ["v1"],
                          "operations": ["CREATE"], "resources": ["services"]}]},
                      "validations": [{"expression": "object.metadata.name != 'witness-refused'",
                                       "message": "no Service named witness-refused"}]}},
            {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding",
             "metadata": {"name": vap},
             "spec": {"policyName": vap, "validationActions": ["Deny"],
                      "matchResources": {"namespaceSelector": {"matchLabels":
                          {"kubernetes.io/metadata.name": ns}}}}}
        ]})
        .to_string(),
    )?;
    // The apiserver loads policies asynchronously: wait until a server-side dry run is denied.
    wait_for("the admission policy in force", WAIT, POLL, || async {
        let out = Command::new("kubectl")
            .env("KUBECONFIG", &cluster.kubeconfig)
            .args([
                "-n",
                &ns,
                "create",
                "service",
                "clusterip",
                "witness-refused",
            ])
            .args(["--tcp=8080:8080", "--dry-run=server"])
            .output()
            .ok()?;
        String::from_utf8_lossy(&out.stderr)
            .contains("denied request")
            .then_some(())
    })
    .await?;
    let template = witnesses.get("witness-a").await?;
    witnesses
        .create(
            &PostParams::default(),
            &Witness::new("witness-refused", template.spec.clone()),
        )
        .await?;
    let refused = wait_for("witness-refused ChildrenNotApplied", WAIT, POLL, || async {
        let w = witnesses.get_opt("witness-refused").await.ok()??;
        let st = w.status?;
        condition(&st.conditions, "Ready")
            .filter(|c| c.status == "False" && c.reason == "ChildrenNotApplied")
            .cloned()
    })
    .await
    .with_context(|| operator.process.output())?;
    ensure!(
        refused.message.contains("forbidden"),
        "the condition carries the API's refusal: {}",
        refused.message
    );
    witnesses
        .delete("witness-refused", &DeleteParams::default())
        .await?;
    cluster.kubectl(&[
        "delete",
        "validatingadmissionpolicybinding,validatingadmissionpolicy",
        &vap,
    ])?;

    // QuorumPolicy: Ready, rendered ConfigMap parses with the library and carries the keys.
    let policies: Api<QuorumPolicy> = Api::namespaced(admin.clone(), &ns);
    let p = wait_for("policy Ready", WAIT, POLL, || {
        policy_condition(&policies, "demo-quorum", "True", "Rendered")
    })
    .await
    .with_context(|| operator.process.output())?;
    let pst = p.status.clone().context("status")?;
    ensure!(
        pst.threshold.as_deref() == Some("2 of 3"),
        "threshold {:?}",
        pst.threshold
    );
    ensure!(pst.missing.is_empty() && pst.resolved.len() == 3);
    let cms: Api<ConfigMap> = Api::namespaced(admin.clone(), &ns);
    let cm = cms.get("demo-quorum-policy").await?;
    let data = cm.data.clone().context("data")?;
    let policy_text = data["policy.txt"].clone();
    let policy = Policy::parse(&policy_text)?;
    for (pname, wname) in [
        ("aws-use1", "witness-a"),
        ("gcp-euw1", "witness-b"),
        ("fly-iad", "witness-c"),
    ] {
        let pw = policy.witness(pname).context("policy witness")?;
        ensure!(
            hex::encode(pw.key.public_key()) == keys[wname],
            "{pname} key"
        );
    }
    let anchor: serde_json::Value = serde_json::from_str(&data["trust-anchor.json"])?;
    ensure!(
        anchor["cosignature_threshold"] == 2
            && anchor["policy"] == policy_text
            && anchor["origin"] == ORIGIN
    );
    ensure!(anchor["trusted_witnesses_hex"].as_array().map(Vec::len) == Some(3));

    // Data path: real witnesses started as the pod template says; a checkpoint cosigned to
    // the rendered policy.
    let mut running = Vec::new();
    for name in ["witness-a", "witness-b", "witness-c"] {
        running.push(start_witness_like_pod(&admin, &ns, name, work.path()).await?);
    }
    let mut log = LogProducer::new(ORIGIN, example_log_seed());
    for i in 0..5u8 {
        log.append(&[i; 16]);
    }
    let mut cosigned = log.checkpoint();
    let mut by_witness = BTreeMap::new();
    for wd in &running[..2] {
        let (code, body) = http(
            wd.addr,
            "POST",
            "/add-checkpoint",
            &log.add_checkpoint_body(0),
        )
        .await?;
        ensure!(
            code == 200,
            "{} answered {code}: {}",
            wd.name,
            String::from_utf8_lossy(&body)
        );
        let sigs = parse_cosignatures(&body);
        ensure!(!sigs.is_empty(), "{} returned no cosignature", wd.name);
        by_witness.insert(wd.name.clone(), sigs.clone());
        cosigned.signatures.extend(sigs);
    }
    let report = verify_cosigned_checkpoint(&cosigned.to_bytes(), &[log.vkey()], &policy)?;
    ensure!(
        report.satisfied,
        "2 of 3 cosignatures must satisfy the policy: {report:?}"
    );
    ensure!(
        report.counted == ["aws-use1", "gcp-euw1"],
        "counted {:?}",
        report.counted
    );
    // One witness alone, or one witness twice, is not a quorum.
    let mut single = log.checkpoint();
    single.signatures.extend(by_witness["witness-a"].clone());
    single.signatures.extend(by_witness["witness-a"].clone());
    let report = verify_cosigned_checkpoint(&single.to_bytes(), &[log.vkey()], &policy)?;
    ensure!(!report.satisfied, "a duplicate cosigner must count once");
    // A rollback is refused by a witness that persisted size 5 in Postgres.
    let mut old = LogProducer::new(ORIGIN, example_log_seed());
    for i in 0..3u8 {
        old.append(&[i; 16]);
    }
    let (code, _) = http(
        running[0].addr,
        "POST",
        "/add-checkpoint",
        &old.add_checkpoint_body(0),
    )
    .await?;
    ensure!(
        code == 409,
        "rollback to size 3 after 5 must be a 409, got {code}"
    );
    drop(running);
    let _ = Note::parse(&cosigned.to_bytes())?;

    // Spec change rolls the Deployment: a second origin changes the config hash.
    let deployments: Api<Deployment> = Api::namespaced(admin.clone(), &ns);
    let hash = |d: &Deployment| {
        d.spec
            .as_ref()
            .and_then(|s| s.template.metadata.as_ref())
            .and_then(|m| m.annotations.clone())
            .unwrap_or_default()
            .get("trust.nucleus.dev/config-hash")
            .cloned()
            .unwrap_or_default()
    };
    let before = hash(&deployments.get("witness-a").await?);
    let w = witnesses.get("witness-a").await?;
    let mut origins = serde_json::to_value(&w.spec.origins)?;
    origins.as_array_mut().context("origins")?.push(json!({
        "origin": "second.nucleus.dev/log", "keyName": "second.nucleus.dev/log", "publicKey": keys["witness-c"]
    }));
    witnesses
        .patch(
            "witness-a",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"origins": origins, "replicas": 2}})),
        )
        .await?;
    let dep = deployments.clone();
    let rolled = wait_for("witness-a rollout", WAIT, POLL, || {
        let dep = dep.clone();
        let before = before.clone();
        async move {
            let d = dep.get("witness-a").await.ok()?;
            (hash(&d) != before && d.spec.as_ref()?.replicas == Some(2)).then_some(d)
        }
    })
    .await?;
    ensure!(rolled.metadata.generation > Some(1));
    let origins_cm = cms.get("witness-a-origins").await?;
    ensure!(origins_cm.data.unwrap_or_default()["origins.txt"].contains("second.nucleus.dev/log"));
    let pdbs: Api<PodDisruptionBudget> = Api::namespaced(admin.clone(), &ns);
    wait_for("PDB with 2 replicas", WAIT, POLL, || {
        let pdbs = pdbs.clone();
        async move { pdbs.get_opt("witness-a").await.ok()? }
    })
    .await?;
    witnesses
        .patch(
            "witness-a",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 1}})),
        )
        .await?;
    wait_for("PDB removed at 1 replica", WAIT, POLL, || {
        let pdbs = pdbs.clone();
        async move {
            pdbs.get_opt("witness-a")
                .await
                .ok()?
                .is_none()
                .then_some(())
        }
    })
    .await?;

    // A pinned key that differs from the seed: a condition, and no rollout with that key.
    let wrong = keys["witness-a"].clone();
    witnesses
        .patch(
            "witness-b",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"publicKey": wrong}})),
        )
        .await?;
    let wb = wait_for("witness-b KeyMismatch", WAIT, POLL, || {
        let witnesses = witnesses.clone();
        async move {
            let w = witnesses.get("witness-b").await.ok()?;
            let st = w.status.clone()?;
            (st.observed_generation == w.metadata.generation
                && condition(&st.conditions, "KeyPinned")
                    .is_some_and(|c| c.reason == "KeyMismatch"))
            .then_some(w)
        }
    })
    .await?;
    let ready = condition(&wb.status.as_ref().context("status")?.conditions, "Ready")
        .context("Ready")?
        .clone();
    ensure!(
        ready.status == "False" && ready.reason == "KeyMismatch",
        "{ready:?}"
    );

    // A missing seed Secret without generate: SeedAvailable=False, nothing created.
    let mut missing = w.clone();
    missing.metadata = kube::core::ObjectMeta {
        name: Some("witness-noseed".into()),
        ..Default::default()
    };
    missing.spec.seed.generate = false;
    missing.spec.seed.secret_ref.name = "does-not-exist".into();
    missing.status = None;
    witnesses.create(&Default::default(), &missing).await?;
    wait_for("SeedSecretNotFound", WAIT, POLL, || {
        let witnesses = witnesses.clone();
        async move {
            let st = witnesses.get("witness-noseed").await.ok()?.status?;
            condition(&st.conditions, "SeedAvailable")
                .is_some_and(|c| c.reason == "SeedSecretNotFound")
                .then_some(())
        }
    })
    .await?;
    ensure!(
        deployments.get_opt("witness-noseed").await?.is_none(),
        "no Deployment without a seed"
    );

    // Break the policy: Ready=False with the parser's line and message; the last good
    // ConfigMap is kept.
    let bad = format!(
        "witness a {}\nwitness b {}\ngroup g 3 a b\nquorum g\n",
        keys["witness-a"], keys["witness-b"]
    );
    policies
        .patch(
            "demo-quorum",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"log": null, "witnesses": null, "groups": null, "quorum": null, "policyText": bad}})),
        )
        .await?;
    let broken = wait_for("policy PolicyInvalid", WAIT, POLL, || {
        policy_condition(&policies, "demo-quorum", "False", "PolicyInvalid")
    })
    .await?;
    let msg = condition(
        &broken.status.as_ref().context("status")?.conditions,
        "Ready",
    )
    .context("Ready")?
    .message
    .clone();
    ensure!(
        msg.starts_with("line 3: "),
        "parser line and message expected, got {msg:?}"
    );
    ensure!(
        cms.get("demo-quorum-policy")
            .await?
            .data
            .unwrap_or_default()["policy.txt"]
            == policy_text,
        "last good policy kept"
    );

    // CEL on the real apiserver: both forms at once are refused.
    let err = policies
        .patch(
            "demo-quorum",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"quorum": "g"}})),
        )
        .await
        .expect_err("CEL must refuse policyText + quorum");
    ensure!(err.to_string().contains("not both"), "{err}");

    // Delete: children garbage-collected by KCM; the DB Secret (not ours) stays.
    witnesses
        .delete("witness-a", &DeleteParams::default())
        .await?;
    wait_for("witness-a children GC", WAIT, POLL, || {
        let (d, c) = (deployments.clone(), cms.clone());
        let s = Api::<Secret>::namespaced(admin.clone(), &ns);
        async move {
            (d.get_opt("witness-a").await.ok()?.is_none()
                && c.get_opt("witness-a-origins").await.ok()?.is_none()
                && s.get_opt("witness-a-seed").await.ok()?.is_none())
            .then_some(())
        }
    })
    .await?;
    ensure!(
        Api::<Secret>::namespaced(admin.clone(), &ns)
            .get_opt("witness-a-db")
            .await?
            .is_some()
    );

    // Graceful shutdown releases the Lease.
    let status = operator.process.terminate(Duration::from_secs(20))?;
    ensure!(
        status.is_some_and(|s| s.success()),
        "operator did not exit cleanly: {}",
        operator.process.output()
    );
    if !operator.process.output().contains("lease released") {
        bail!(
            "operator did not release its lease: {}",
            operator.process.output()
        );
    }
    cluster.kubectl(&["delete", "namespace", &ns, "--wait=false"])?;
    for s in ["a", "b", "c"] {
        psql(
            &pg,
            &format!("DROP SCHEMA IF EXISTS {schema_prefix}_{s} CASCADE"),
        )?;
    }
    Ok(())
}
