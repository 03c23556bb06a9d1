//! The trust registry feeding FederatesWith on a real control plane
//! (`e2e/scripts/cluster.sh up`): the real `nucleus-trust-registry` binary gates two
//! enrollment PRs (`verify-pr`, GitHub-style OIDC tokens minted with the registry crate's
//! TEST-ONLY RSA key), seals them in its log cosigned by three real `nucleus-witness`
//! processes (`log-append`, `verify-log`), and compiles the set as FederatesWith objects
//! (`compile --format federateswith`). Those objects are server-side applied unchanged; a
//! second field manager adds only the test CA reference (the registry publishes Web PKI
//! endpoints, this test serves them from a loopback HTTPS server with its own CA). The
//! operator, run locally as the chart's ServiceAccount, must make each one Ready with a
//! ConfigMap holding the registry's keys and sequence. A domain folder added out of band
//! (never cosigned) is excluded by `compile`, so no FederatesWith exists for it.
//!
//! Needs NUCLEUS_E2E_KUBECONFIG (+ the other cluster.sh variables); skips without them
//! unless CI=true.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, ensure};
use ed25519_dalek::SigningKey;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{DeleteParams, Patch, PatchParams};
use kube::{Api, Client};
use nucleus_e2e::{BundleEndpoint, Cluster, Operator, Process, SYSTEM_NS, wait_for};
use nucleus_federation::SpiffeBundle;
use nucleus_operator::api::v1alpha1::FederatesWith;
use nucleus_operator::reconcile::federates_with::{BUNDLE_KEY, SEQUENCE_ANNOTATION};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(60);
const POLL: Duration = Duration::from_millis(250);

// The registry crate's test identities (crates/registry/tests/common): the JWKS in its
// testdata holds the public half of `test-only-github-rsa.pem` under this kid.
const ISSUER: &str = "https://token.actions.githubusercontent.com";
const AUDIENCE: &str = "nucleus-trust-registry/example";
const KID: &str = "test-github-kid-1";
const HEAD_SHA: &str = "0123456789abcdef0123456789abcdef01234567";
const ORIGIN: &str = "registry.example/nucleus-trust-registry/e2e";
const LOG_SEED: [u8; 32] = [9; 32];

fn registry_testdata(name: &str) -> PathBuf {
    nucleus_e2e::repo_root()
        .join("crates/registry/tests/testdata")
        .join(name)
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

/// An example domain enrolled under a per-run name (FederatesWith is cluster-scoped and
/// named after the trust domain, so concurrent runs must not share names).
struct Domain {
    /// Folder in `crates/registry/examples/registry/domains`.
    example: &'static str,
    trust_domain: String,
    org: &'static str,
    owner_id: u64,
}

impl Domain {
    fn new(example: &'static str, org: &'static str, owner_id: u64, run: u32) -> Domain {
        let label = example.split('.').next().expect("a dotted name");
        Domain {
            example,
            trust_domain: format!("{label}-{run}.example.org"),
            org,
            owner_id,
        }
    }

    fn head_repo(&self) -> String {
        format!("{}/trust-registry", self.org)
    }

    fn head_ref(&self) -> String {
        format!("refs/heads/enroll-{}", self.trust_domain)
    }
}

/// Copies `examples/registry/domains/<from>` to `domains/<domain>` in `registry`, renaming
/// the trust domain and pointing its bundle endpoint at `endpoint_base/<domain>`.
fn add_domain(registry: &Path, from: &Path, domain: &str, endpoint_base: &str) -> PathBuf {
    let dir = registry.join("domains").join(domain);
    std::fs::create_dir_all(&dir).expect("domain folder");
    std::fs::copy(from.join("bundle.json"), dir.join("bundle.json")).expect("bundle.json");
    let metadata = std::fs::read_to_string(from.join("metadata.toml")).expect("metadata.toml");
    let metadata: String = metadata
        .lines()
        .map(|line| match line.split('=').next().map(str::trim) {
            Some("trust_domain") => format!("trust_domain = \"{domain}\"\n"),
            Some("bundle_endpoint_url") => {
                format!("bundle_endpoint_url = \"{endpoint_base}/{domain}\"\n")
            }
            _ => format!("{line}\n"),
        })
        .collect();
    std::fs::write(dir.join("metadata.toml"), metadata).expect("metadata.toml");
    dir
}

/// Signs GitHub-shaped claims (numeric IDs as strings) for `domain`'s enrollment PR.
fn mint_token(domain: &Domain) -> anyhow::Result<String> {
    let now = now();
    let repo = domain.head_repo();
    let git_ref = domain.head_ref();
    let claims = json!({
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": format!("repo:{repo}:ref:{git_ref}"),
        "exp": now + 300,
        "iat": now,
        "nbf": now - 60,
        "jti": format!("e2e-{}", domain.trust_domain),
        "repository": repo,
        "repository_id": "555001",
        "repository_owner": domain.org,
        "repository_owner_id": domain.owner_id.to_string(),
        "ref": git_ref,
        "ref_type": "branch",
        "sha": HEAD_SHA,
        "event_name": "push",
        "job_workflow_ref": format!("{repo}/.github/workflows/trust-registry.yml@{git_ref}"),
        "run_id": "987654321",
    });
    let pem = std::fs::read(registry_testdata("test-only-github-rsa.pem"))?;
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(&pem)?;
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some(KID.to_owned());
    Ok(jsonwebtoken::encode(&header, &claims, &key)?)
}

/// Runs the registry binary; fails with its output unless it exits 0.
fn registry_cmd(bin: &Path, args: &[&std::ffi::OsStr], env: &[(&str, &Path)]) -> Output {
    let mut cmd = Command::new(bin);
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("running nucleus-trust-registry");
    eprintln!(
        "$ {cmd:?}\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A real `nucleus-witness` (SQLite state) for the test log, and its policy line.
struct Witness {
    _process: Process,
    policy_line: String,
}

async fn start_witness(
    bin: &Path,
    dir: &Path,
    i: u8,
    log_vkey_hex: &str,
) -> anyhow::Result<Witness> {
    let seed = [0x60 + i; 32];
    let key_hex = hex::encode(SigningKey::from_bytes(&seed).verifying_key().as_bytes());
    let port = nucleus_e2e::free_port()?;
    let process = Process::spawn(
        Command::new(bin)
            .arg(format!("--bind=127.0.0.1:{port}"))
            .arg(format!("--witness-name=witness.test/registry-e2e-w{i}"))
            .arg(format!("--origin={ORIGIN}|{ORIGIN}|{log_vkey_hex}"))
            .arg(format!(
                "--db-url=sqlite://{}",
                dir.join(format!("w{i}.db")).display()
            ))
            .env("NUCLEUS_WITNESS_SEED_HEX", hex::encode(seed)),
        dir.join(format!("witness-{i}.log")),
    )?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    wait_for(
        "witness healthy",
        Duration::from_secs(30),
        Duration::from_millis(100),
        || async move {
            let (code, _) = nucleus_e2e::http(addr, "GET", "/healthz", b"").await.ok()?;
            (code == 200).then_some(())
        },
    )
    .await
    .with_context(|| format!("witness {i}: {}", process.output()))?;
    Ok(Witness {
        _process: process,
        policy_line: format!("witness w{i} {key_hex} http://{addr}\n"),
    })
}

/// What the operator made of one compiled object.
#[derive(Debug)]
struct Seen {
    ready: String,
    sequence: Option<i64>,
    cm_sequence: Option<String>,
    cm_bundle: Option<SpiffeBundle>,
}

async fn observe(fws: &Api<FederatesWith>, cms: &Api<ConfigMap>, name: &str) -> Option<Seen> {
    let fw = fws.get_opt(name).await.ok()??;
    let st = fw.status?;
    let ready = st
        .conditions
        .iter()
        .find(|c| c.type_ == "Ready")
        .map(|c| c.status.clone())
        .unwrap_or_default();
    let cm = cms
        .get_opt(&format!("federation-{name}"))
        .await
        .ok()
        .flatten();
    Some(Seen {
        ready,
        sequence: st.sequence,
        cm_sequence: cm
            .as_ref()
            .and_then(|c| c.metadata.annotations.as_ref())
            .and_then(|a| a.get(SEQUENCE_ANNOTATION).cloned()),
        cm_bundle: cm
            .as_ref()
            .and_then(|c| c.data.as_ref())
            .and_then(|d| d.get(BUNDLE_KEY))
            .and_then(|b| SpiffeBundle::parse(b.as_bytes()).ok()),
    })
}

async fn wait_ready(
    client: &Client,
    ns: &str,
    name: &str,
    sequence: u64,
    operator: &Operator,
) -> anyhow::Result<Seen> {
    let fws: Api<FederatesWith> = Api::all(client.clone());
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), ns);
    let want = i64::try_from(sequence)?;
    wait_for(&format!("{name} Ready"), WAIT, POLL, || {
        let (fws, cms) = (fws.clone(), cms.clone());
        async move {
            observe(&fws, &cms, name)
                .await
                .filter(|s| s.ready == "True" && s.sequence == Some(want) && s.cm_bundle.is_some())
        }
    })
    .await
    .with_context(|| {
        format!(
            "FederatesWith {name} (ConfigMap {ns}/federation-{name}); operator log:\n{}",
            operator.process.output()
        )
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compiled_registry_feeds_federates_with() -> anyhow::Result<()> {
    let Some(cluster) = Cluster::from_env() else {
        return Ok(());
    };
    let _ = rustls::crypto::ring::default_provider().install_default();
    let registry_bin = nucleus_e2e::binary("nucleus-trust-registry", "nucleus-trust-registry")?;
    let witness_bin = nucleus_e2e::binary("nucleus-witness", "nucleus-witness")?;
    let work = tempfile::tempdir()?;
    let run = std::process::id();
    let ns = format!("registry-e2e-{run}");
    let examples = nucleus_e2e::repo_root().join("crates/registry/examples/registry");
    let ci = Domain::new("ci.example.org", "example-ci-org", 1001, run);
    let staging = Domain::new("staging.example.org", "example-staging-org", 2002, run);
    let edge = format!("edge-{run}.example.org");

    // Every domain's endpoint serves the bundle its registry folder pins, the out-of-band
    // one included: if it slipped into the compiled set it would turn Ready too.
    let mut bodies = BTreeMap::new();
    for (name, example) in [
        (&ci.trust_domain, ci.example),
        (&staging.trust_domain, staging.example),
        (&edge, staging.example),
    ] {
        let bundle = std::fs::read(examples.join("domains").join(example).join("bundle.json"))?;
        bodies.insert(name.clone(), bundle);
    }
    let endpoint = BundleEndpoint::start("nucleus e2e registry bundle-endpoint CA").await?;
    for (path, body) in &bodies {
        endpoint.put(path, body.clone());
    }

    // The registry: the example's layout, its two domains enrolled under per-run names.
    let registry = work.path().join("registry");
    std::fs::create_dir_all(registry.join("domains"))?;
    std::fs::create_dir_all(registry.join(".github"))?;
    let mut codeowners = std::fs::read_to_string(examples.join(".github/CODEOWNERS"))?;
    for d in [&ci, &staging] {
        add_domain(
            &registry,
            &examples.join("domains").join(d.example),
            &d.trust_domain,
            &endpoint.base,
        );
        codeowners = codeowners.replace(
            &format!("/domains/{}/", d.example),
            &format!("/domains/{}/", d.trust_domain),
        );
    }
    std::fs::write(registry.join(".github/CODEOWNERS"), codeowners)?;

    // The log key and three witnesses under a 2-of-3 policy pinning it.
    let key_file = work.path().join("log.key");
    std::fs::write(&key_file, hex::encode(LOG_SEED))?;
    let log_vkey_hex = hex::encode(SigningKey::from_bytes(&LOG_SEED).verifying_key().as_bytes());
    let mut policy_text = format!("log {log_vkey_hex}\n");
    let mut witnesses = Vec::new();
    for i in 0..3 {
        let w = start_witness(&witness_bin, work.path(), i, &log_vkey_hex).await?;
        policy_text.push_str(&w.policy_line);
        witnesses.push(w);
    }
    policy_text.push_str("group g 2 w0 w1 w2\nquorum g\n");
    let policy = work.path().join("policy.txt");
    std::fs::write(&policy, policy_text)?;

    // verify-pr: each organisation's PR, as a new enrollment against an empty base. The
    // changed paths are repository paths, the registry living under `registry/` (the
    // gate's default prefix).
    let base = work.path().join("base");
    std::fs::create_dir_all(&base)?;
    let jwks = registry_testdata("test-only-github-jwks.json");
    let mut attestations = Vec::new();
    for d in [&ci, &staging] {
        let changed = work.path().join(format!("{}.changed", d.trust_domain));
        std::fs::write(
            &changed,
            format!(
                "registry/domains/{td}/bundle.json\nregistry/domains/{td}/metadata.toml\n",
                td = d.trust_domain
            ),
        )?;
        let token = work.path().join(format!("{}.jwt", d.trust_domain));
        std::fs::write(&token, mint_token(d)?)?;
        let attestation = work
            .path()
            .join(format!("{}.attestation.json", d.trust_domain));
        let (repo, git_ref) = (d.head_repo(), d.head_ref());
        let out = registry_cmd(
            &registry_bin,
            &[
                "verify-pr".as_ref(),
                "--registry".as_ref(),
                registry.as_os_str(),
                "--base".as_ref(),
                base.as_os_str(),
                "--changed-paths".as_ref(),
                changed.as_os_str(),
                "--token-file".as_ref(),
                token.as_os_str(),
                "--jwks".as_ref(),
                jwks.as_os_str(),
                "--audience".as_ref(),
                AUDIENCE.as_ref(),
                "--head-repository".as_ref(),
                repo.as_ref(),
                "--head-ref".as_ref(),
                git_ref.as_ref(),
                "--head-sha".as_ref(),
                HEAD_SHA.as_ref(),
                "--attestation-out".as_ref(),
                attestation.as_os_str(),
            ],
            &[],
        );
        ensure!(out.status.success(), "verify-pr refused {}", d.trust_domain);
        attestations.push(attestation);
    }

    // log-append (cosigned by the witnesses), then verify-log.
    let mut args: Vec<&std::ffi::OsStr> = vec![
        "log-append".as_ref(),
        "--registry".as_ref(),
        registry.as_os_str(),
        "--policy".as_ref(),
        policy.as_os_str(),
        "--origin".as_ref(),
        ORIGIN.as_ref(),
    ];
    for a in &attestations {
        args.extend(["--attestation".as_ref(), a.as_os_str()]);
    }
    let out = registry_cmd(
        &registry_bin,
        &args,
        &[("NUCLEUS_REGISTRY_LOG_KEY_FILE", &key_file)],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    ensure!(
        out.status.success() && stdout.contains("quorum: satisfied at size 2"),
        "log-append: {stdout}"
    );
    let out = registry_cmd(
        &registry_bin,
        &[
            "verify-log".as_ref(),
            "--registry".as_ref(),
            registry.as_os_str(),
            "--policy".as_ref(),
            policy.as_os_str(),
        ],
        &[],
    );
    ensure!(out.status.success(), "verify-log failed");

    // A domain folder added out of band: never attested, never logged.
    add_domain(
        &registry,
        &examples.join("domains").join(staging.example),
        &edge,
        &endpoint.base,
    );

    // compile --format federateswith.
    let compiled = work.path().join("federateswith.yaml");
    let out = registry_cmd(
        &registry_bin,
        &[
            "compile".as_ref(),
            "--registry".as_ref(),
            registry.as_os_str(),
            "--policy".as_ref(),
            policy.as_os_str(),
            "--format".as_ref(),
            "federateswith".as_ref(),
            "--namespace".as_ref(),
            ns.as_ref(),
            "--out".as_ref(),
            compiled.as_os_str(),
        ],
        &[],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    ensure!(out.status.success(), "compile failed: {stderr}");
    ensure!(
        stderr.contains(&format!("excluded {edge}: not in the cosigned log")),
        "compile did not report the out-of-band domain: {stderr}"
    );
    let yaml = std::fs::read_to_string(&compiled)?;
    let objects: Vec<FederatesWith> = serde_saphyr::from_multiple(&yaml)
        .with_context(|| format!("compiled objects do not parse as FederatesWith:\n{yaml}"))?;
    let mut names: Vec<String> = objects
        .iter()
        .filter_map(|o| o.metadata.name.clone())
        .collect();
    names.sort();
    ensure!(
        names == [ci.trust_domain.clone(), staging.trust_domain.clone()],
        "compiled set {names:?}"
    );
    for (o, index) in objects.iter().zip(["0", "1"]) {
        let annotations = o.metadata.annotations.clone().unwrap_or_default();
        ensure!(
            annotations
                .get("trust.nucleus.dev/registry-origin")
                .map(String::as_str)
                == Some(ORIGIN)
                && annotations
                    .get("trust.nucleus.dev/registry-log-index")
                    .map(String::as_str)
                    == Some(index)
                && o.spec.target.namespace == ns
                && o.spec.bundle_endpoint_url
                    == format!("{}/{}", endpoint.base, o.spec.trust_domain),
            "compiled object {o:?}"
        );
    }

    // The control plane: chart (CRDs, RBAC), the operator as its ServiceAccount, and the
    // compiled objects applied as they are.
    let admin = cluster.admin_client().await?;
    let sa = cluster.install_chart()?;
    let sa_kubeconfig = work.path().join("operator.kubeconfig");
    cluster.service_account_kubeconfig(SYSTEM_NS, &sa, &sa_kubeconfig)?;
    cluster.kubectl(&["create", "namespace", &ns])?;
    let ca_cm = json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "bundle-endpoint-ca", "namespace": ns},
        "data": {"ca.crt": endpoint.ca_pem},
    });
    cluster.kubectl_stdin(&["apply", "-f", "-"], &ca_cm.to_string())?;
    cluster.kubectl(&[
        "apply",
        "--server-side",
        "--field-manager=nucleus-trust-registry",
        "-f",
        &compiled.to_string_lossy(),
    ])?;
    // The private-PKI part the registry does not carry, under its own field manager.
    let fws: Api<FederatesWith> = Api::all(admin.clone());
    for name in &names {
        let pki: Value = json!({
            "apiVersion": "trust.nucleus.dev/v1alpha1", "kind": "FederatesWith",
            "metadata": {"name": name},
            "spec": {"caBundleRef": {"namespace": ns, "name": "bundle-endpoint-ca", "key": "ca.crt"}},
        });
        fws.patch(
            name,
            &PatchParams::apply("registry-e2e-private-pki"),
            &Patch::Apply(&pki),
        )
        .await?;
    }
    let operator = Operator::start(
        &sa_kubeconfig,
        work.path().join("operator.log"),
        &format!("nucleus-registry-e2e-leader-{run}"),
        &["--lease-seconds=5"],
    )
    .await?;

    // Each compiled object: Ready, and its ConfigMap holds the registry's keys and sequence.
    for d in [&ci, &staging] {
        let pinned = SpiffeBundle::parse(&bodies[&d.trust_domain])?;
        let sequence = pinned.sequence().context("example bundles are sequenced")?;
        let seen = wait_ready(&admin, &ns, &d.trust_domain, sequence, &operator).await?;
        let accepted = seen.cm_bundle.as_ref().context("ConfigMap bundle")?;
        ensure!(
            accepted.same_keys_as(&pinned)
                && accepted.jwt_keys().kids().eq(pinned.jwt_keys().kids())
                && seen.cm_sequence == Some(sequence.to_string()),
            "{}: {seen:?}",
            d.trust_domain
        );
    }

    // The out-of-band domain has no FederatesWith and no ConfigMap.
    ensure!(
        fws.get_opt(&edge).await?.is_none(),
        "a FederatesWith exists for the uncosigned {edge}"
    );
    let cms: Api<ConfigMap> = Api::namespaced(admin.clone(), &ns);
    ensure!(
        cms.get_opt(&format!("federation-{edge}")).await?.is_none(),
        "a ConfigMap exists for the uncosigned {edge}"
    );

    for name in &names {
        fws.delete(name, &DeleteParams::default()).await?;
    }
    cluster.kubectl(&["delete", "namespace", &ns, "--wait=false"])?;
    drop(operator);
    drop(witnesses);
    Ok(())
}
