//! `log-append`, `verify-log` and `compile` against real `nucleus-witness` processes:
//! a growing log with consistent checkpoints, out-of-band insertions excluded, history
//! rewrites detected, a missed quorum kept pending and completed later.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::*;
use ed25519_dalek::SigningKey;
use nucleus_lineage::merkle;
use nucleus_lineage::{Checkpoint, Note, NoteSigner};
use nucleus_trust_registry::gate::{PullRequest, verify_pr};
use nucleus_trust_registry::github_oidc::{Expected, GithubJwks};
use nucleus_trust_registry::log::entry::LogEntry;
use nucleus_trust_registry::log::files::LogFiles;
use nucleus_trust_registry::registry::load_domain;
use serde_json::json;
use tempfile::TempDir;

/// Runs verify-pr (library) for `domain` as its owner and writes the attestation.
fn attest(registry: &Path, domain: &str, owner_id: u64, out: &Path) -> PathBuf {
    let empty = TempDir::new().unwrap();
    let mut claims = claims();
    claims["repository_owner_id"] = json!(owner_id.to_string());
    let paths = vec![
        format!("domains/{domain}/bundle.json"),
        format!("domains/{domain}/metadata.toml"),
    ];
    let pr = PullRequest {
        base: empty.path(),
        head: registry,
        changed_paths: &paths,
        prefix: "",
    };
    let jwks =
        GithubJwks::parse(&std::fs::read(testdata("test-only-github-jwks.json")).unwrap()).unwrap();
    let expected = Expected {
        issuer: ISSUER.into(),
        audience: AUDIENCE.into(),
        repository: HEAD_REPO.into(),
        repository_id: None,
        git_ref: HEAD_REF.into(),
        sha: HEAD_SHA.into(),
        events: vec!["push".into()],
    };
    let att = verify_pr(&pr, &mint(&claims), &jwks, &expected, now()).unwrap();
    let n = std::fs::read_dir(out).unwrap().count();
    let path = out.join(format!("attestation-{n}.json"));
    std::fs::write(&path, serde_json::to_vec(&att).unwrap()).unwrap();
    path
}

struct Setup {
    tmp: TempDir,
    registry: PathBuf,
    policy: PathBuf,
    key: PathBuf,
    attestations: PathBuf,
}

fn setup(witnesses: &[&WitnessProcess]) -> Setup {
    let tmp = TempDir::new().unwrap();
    let registry = tmp.path().join("registry");
    copy_dir(&example_registry(), &registry);
    let policy = tmp.path().join("policy.txt");
    std::fs::write(&policy, policy_text(witnesses)).unwrap();
    let key = tmp.path().join("log.key");
    std::fs::write(&key, hex::encode(LOG_SEED)).unwrap();
    let attestations = tmp.path().join("attestations");
    std::fs::create_dir(&attestations).unwrap();
    Setup {
        tmp,
        registry,
        policy,
        key,
        attestations,
    }
}

impl Setup {
    fn log_append(&self, attestations: &[PathBuf]) -> Output {
        let mut cmd = registry_bin();
        cmd.arg("log-append")
            .arg("--registry")
            .arg(&self.registry)
            .arg("--policy")
            .arg(&self.policy)
            .args(["--origin", ORIGIN])
            .env("NUCLEUS_REGISTRY_LOG_KEY_FILE", &self.key);
        for a in attestations {
            cmd.arg("--attestation").arg(a);
        }
        run(&mut cmd)
    }

    fn verify_log(&self) -> Output {
        run(registry_bin()
            .arg("verify-log")
            .arg("--registry")
            .arg(&self.registry)
            .arg("--policy")
            .arg(&self.policy))
    }

    fn compile(&self, registry: &Path, format: &str) -> Output {
        run(registry_bin()
            .arg("compile")
            .arg("--registry")
            .arg(registry)
            .arg("--policy")
            .arg(&self.policy)
            .args(["--format", format]))
    }

    fn attest(&self, domain: &str, owner_id: u64) -> PathBuf {
        attest(&self.registry, domain, owner_id, &self.attestations)
    }
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn compiled_domains(out: &Output) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["federates_with"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["trust_domain"].as_str().unwrap().to_owned())
        .collect()
}

/// Rewrites the committed checkpoints as a log-key holder could: new roots over the
/// current entries, signed by the log key, old cosignature lines kept.
fn resign_checkpoints(registry: &Path) {
    let files = LogFiles::new(registry);
    let leaves: Vec<_> = files
        .entries()
        .unwrap()
        .iter()
        .map(|b| merkle::leaf_hash(b))
        .collect();
    let signer = NoteSigner::new(ORIGIN, SigningKey::from_bytes(&LOG_SEED)).unwrap();
    for (size, note) in files.checkpoints().unwrap() {
        let old = Note::parse(&note).unwrap();
        let text = Checkpoint {
            origin: ORIGIN.into(),
            size,
            root: merkle::root(&leaves[..size as usize]),
            extensions: vec![],
        }
        .to_text();
        let mut signatures = vec![signer.sign(&text)];
        signatures.extend(old.signatures.into_iter().skip(1));
        files
            .write_checkpoint(size, &Note { text, signatures }.to_bytes())
            .unwrap();
    }
}

#[test]
fn the_log_grows_consistently_and_only_cosigned_bindings_compile() {
    let tmp = TempDir::new().unwrap();
    let (w0, w1, w2) = (
        start_witness(tmp.path(), 0),
        start_witness(tmp.path(), 1),
        start_witness(tmp.path(), 2),
    );
    let s = setup(&[&w0, &w1, &w2]);
    let ci = s.attest("ci.example.org", CI_OWNER_ID);
    let staging = s.attest("staging.example.org", STAGING_OWNER_ID);

    // First seal: both domains, cosigned by all three witnesses.
    let out = s.log_append(&[ci.clone(), staging.clone()]);
    assert!(out.status.success());
    assert!(stdout(&out).contains("appended  ci.example.org at index 0"));
    assert!(stdout(&out).contains("appended  staging.example.org at index 1"));
    assert!(stdout(&out).contains("quorum: satisfied at size 2"));
    assert!(s.verify_log().status.success());
    let first = s.compile(&s.registry, "json");
    assert!(first.status.success());
    assert_eq!(
        compiled_domains(&first),
        ["ci.example.org", "staging.example.org"]
    );
    // Nothing new: nothing appended, same set.
    let out = s.log_append(&[]);
    assert!(out.status.success());
    assert!(!stdout(&out).contains("appended"));
    assert_eq!(s.compile(&s.registry, "json").stdout, first.stdout);

    // A rotated bundle without an attestation is refused and nothing is written.
    let bundle = s.registry.join("domains/ci.example.org/bundle.json");
    let rotated = std::fs::read_to_string(&bundle)
        .unwrap()
        .replace("\"spiffe_sequence\": 1", "\"spiffe_sequence\": 2");
    std::fs::write(&bundle, rotated).unwrap();
    let out = s.log_append(std::slice::from_ref(&ci));
    assert!(!out.status.success());
    assert!(stderr(&out).contains("no attestation vouches"));
    assert_eq!(LogFiles::new(&s.registry).entries().unwrap().len(), 2);
    // The edited-but-unsealed domain drops out of the compiled set.
    let out = s.compile(&s.registry, "json");
    assert_eq!(compiled_domains(&out), ["staging.example.org"]);
    assert!(
        stderr(&out).contains("excluded ci.example.org: differs from its cosigned log entry 0")
    );

    // With its attestation it is appended; the witnesses check consistency from size 2.
    let ci2 = s.attest("ci.example.org", CI_OWNER_ID);
    let out = s.log_append(&[ci2]);
    assert!(out.status.success());
    assert!(stdout(&out).contains("appended  ci.example.org at index 2"));
    assert!(stdout(&out).contains("quorum: satisfied at size 3"));
    let out = s.verify_log();
    assert!(out.status.success());
    assert!(stdout(&out).contains("3 entries, 2 checkpoints"));
    let out = s.compile(&s.registry, "json");
    assert_eq!(
        compiled_domains(&out),
        ["ci.example.org", "staging.example.org"]
    );
    let set: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(set["federates_with"][0]["log_index"], 2);
    assert_eq!(set["federates_with"][0]["spiffe_sequence"], 2);
    assert_eq!(set["log"]["size"], 3);

    // A domain folder added out of band is not in the set.
    copy_dir(
        &s.registry.join("domains/staging.example.org"),
        &s.registry.join("domains/edge.example.org"),
    );
    let md = s.registry.join("domains/edge.example.org/metadata.toml");
    let text = std::fs::read_to_string(&md)
        .unwrap()
        .replace("staging.example.org", "edge.example.org");
    std::fs::write(&md, text).unwrap();
    let out = s.compile(&s.registry, "json");
    assert_eq!(
        compiled_domains(&out),
        ["ci.example.org", "staging.example.org"]
    );
    assert!(stderr(&out).contains("excluded edge.example.org: not in the cosigned log"));

    // An entry inserted out of band (never cosigned) fails verify-log and stays out.
    let files = LogFiles::new(&s.registry);
    let smuggled = LogEntry {
        binding: load_domain(&s.registry, "edge.example.org").unwrap(),
        attestation: serde_json::from_slice(&std::fs::read(&staging).unwrap()).unwrap(),
    };
    files.write_entry(3, &smuggled.to_bytes()).unwrap();
    let out = s.verify_log();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("entries 3..4 are not covered"));
    let out = s.compile(&s.registry, "json");
    assert!(stderr(&out).contains("excluded edge.example.org: not in the cosigned log"));
    std::fs::remove_file(s.registry.join("log/entries/00000000000000000003.json")).unwrap();
    std::fs::remove_dir_all(s.registry.join("domains/edge.example.org")).unwrap();
    assert!(s.verify_log().status.success());

    // History rewrite: entry 0 re-pointed to another endpoint after it was cosigned.
    let entry0 = s.registry.join("log/entries/00000000000000000000.json");
    let original = std::fs::read(&entry0).unwrap();
    let rewritten = String::from_utf8(original.clone()).unwrap().replace(
        "https://spiffe.ci.example.org/bundle",
        "https://attacker.example/bundle",
    );
    std::fs::write(&entry0, &rewritten).unwrap();
    let out = s.verify_log();
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("history was rewritten"),
        "{}",
        stderr(&out)
    );
    assert!(!s.compile(&s.registry, "json").status.success());
    assert!(!s.log_append(&[]).status.success());
    // Re-signing the checkpoints with the log key does not help: the cosignatures no
    // longer verify, so no checkpoint holds quorum.
    resign_checkpoints(&s.registry);
    let out = s.verify_log();
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("not cosigned to quorum"),
        "{}",
        stderr(&out)
    );
    let out = s.compile(&s.registry, "json");
    assert!(compiled_domains(&out).is_empty());
    // And the witnesses refuse to cosign the forked history.
    let out = s.log_append(&[]);
    assert_eq!(out.status.code(), Some(2));
    let refused = stdout(&out)
        .lines()
        .filter(|l| l.starts_with("refused"))
        .count();
    assert_eq!(refused, 3, "{}", stdout(&out));
}

#[test]
fn a_missed_quorum_stays_pending_until_the_witnesses_return() {
    let tmp = TempDir::new().unwrap();
    let w0 = start_witness(tmp.path(), 0);
    let w1 = start_witness(tmp.path(), 1);
    let w2 = start_witness(tmp.path(), 2);
    let s = setup(&[&w0, &w1, &w2]);
    let ci = s.attest("ci.example.org", CI_OWNER_ID);
    let staging = s.attest("staging.example.org", STAGING_OWNER_ID);
    drop(w1);
    drop(w2);

    let out = s.log_append(&[ci, staging]);
    assert_eq!(out.status.code(), Some(2), "quorum not reached");
    assert!(stdout(&out).contains("cosigned  w0"));
    assert!(stdout(&out).contains("quorum: NOT satisfied at size 2"));
    assert_eq!(LogFiles::new(&s.registry).entries().unwrap().len(), 2);
    let out = s.verify_log();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("not cosigned to quorum"));
    let out = s.compile(&s.registry, "json");
    assert!(
        compiled_domains(&out).is_empty(),
        "pending bindings are not in the set"
    );

    // The two witnesses come back (same keys and state, new addresses).
    let w1 = start_witness(tmp.path(), 1);
    let w2 = start_witness(tmp.path(), 2);
    std::fs::write(&s.policy, policy_text(&[&w0, &w1, &w2])).unwrap();
    let out = s.log_append(&[]);
    assert!(out.status.success());
    assert!(stdout(&out).contains("cosigned  w0 (already)"));
    assert!(stdout(&out).contains("quorum: satisfied at size 2"));
    assert!(s.verify_log().status.success());
    assert_eq!(
        compiled_domains(&s.compile(&s.registry, "json")),
        ["ci.example.org", "staging.example.org"]
    );
}

/// Rewrites a bundle with members, keys and whitespace in another order.
fn reorder_bundle(path: &Path) {
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let mut out = String::from("{\n  \"spiffe_sequence\" : ");
    out.push_str(&v["spiffe_sequence"].to_string());
    if let Some(hint) = v.get("spiffe_refresh_hint") {
        out.push_str(&format!(",\n\"spiffe_refresh_hint\":{hint}"));
    }
    out.push_str(",\n  \"keys\": [");
    let keys: Vec<String> = v["keys"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .map(|k| {
            let obj = k.as_object().unwrap();
            let members: Vec<String> = obj
                .iter()
                .rev()
                .map(|(name, value)| format!("{}: {value}", json!(name)))
                .collect();
            format!("{{ {} }}", members.join(",\n    "))
        })
        .collect();
    out.push_str(&keys.join(", "));
    out.push_str("]\n}\n");
    std::fs::write(path, out).unwrap();
}

#[test]
fn compile_is_deterministic_across_runs_and_input_order() {
    let tmp = TempDir::new().unwrap();
    let (w0, w1) = (start_witness(tmp.path(), 0), start_witness(tmp.path(), 1));
    let s = setup(&[&w0, &w1]);
    let ci = s.attest("ci.example.org", CI_OWNER_ID);
    let staging = s.attest("staging.example.org", STAGING_OWNER_ID);
    assert!(s.log_append(&[ci, staging]).status.success());

    // Same registry, twice.
    let a = s.compile(&s.registry, "json");
    let b = s.compile(&s.registry, "json");
    assert!(a.status.success());
    assert_eq!(a.stdout, b.stdout);
    assert_eq!(compiled_domains(&a).len(), 2);

    // A copy whose domain folders were created in the other order and whose bundles
    // list members and keys differently compiles to the same bytes.
    let other = s.tmp.path().join("reordered");
    std::fs::create_dir_all(other.join("domains")).unwrap();
    for domain in ["staging.example.org", "ci.example.org"] {
        copy_dir(
            &s.registry.join("domains").join(domain),
            &other.join("domains").join(domain),
        );
        reorder_bundle(&other.join("domains").join(domain).join("bundle.json"));
    }
    copy_dir(&s.registry.join("log"), &other.join("log"));
    assert_ne!(
        std::fs::read(other.join("domains/ci.example.org/bundle.json")).unwrap(),
        std::fs::read(s.registry.join("domains/ci.example.org/bundle.json")).unwrap()
    );
    let c = s.compile(&other, "json");
    assert!(c.status.success());
    assert_eq!(a.stdout, c.stdout);

    // The TOML rows are what the federation crate reads.
    let toml = s.compile(&s.registry, "toml");
    let config =
        nucleus_federation::FederationConfig::from_toml(&String::from_utf8(toml.stdout).unwrap())
            .unwrap();
    let rows: Vec<(&str, &str)> = config
        .federates_with()
        .iter()
        .map(|r| (r.trust_domain.as_str(), r.bundle_endpoint_url.as_str()))
        .collect();
    assert_eq!(
        rows,
        [
            ("ci.example.org", "https://spiffe.ci.example.org/bundle"),
            ("staging.example.org", "https://bundles.example.net/staging"),
        ]
    );

    // FederatesWith objects for the operator, one per member.
    let yaml = String::from_utf8(s.compile(&s.registry, "federateswith").stdout).unwrap();
    assert_eq!(yaml.matches("kind: FederatesWith\n").count(), 2);
    assert!(yaml.contains("  trustDomain: \"staging.example.org\"\n"));
    assert!(yaml.contains("  bundleEndpointURL: \"https://spiffe.ci.example.org/bundle\"\n"));
    assert!(yaml.contains("trust.nucleus.dev/registry-log-index: \"1\"\n"));
    // Cluster-scoped: only the target ConfigMaps are namespaced.
    assert!(!yaml.contains("\n  namespace:"), "{yaml}");
    assert!(yaml.contains("  target:\n    namespace: "));
    assert_eq!(
        s.compile(&other, "toml").stdout,
        s.compile(&s.registry, "toml").stdout
    );
}

#[test]
fn log_append_refuses_a_policy_that_does_not_pin_its_log_key() {
    let s = setup(&[]);
    let other = hex::encode(SigningKey::from_bytes(&[9; 32]).verifying_key().as_bytes());
    std::fs::write(&s.policy, format!("log {other}\nquorum none\n")).unwrap();
    let ci = s.attest("ci.example.org", CI_OWNER_ID);
    let out = s.log_append(&[ci]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("has no `log` line with this log key"));
    assert!(!s.registry.join("log").exists(), "nothing is created");
}
