//! Shared test helpers: the example registry, minted GitHub-style OIDC tokens (signed with
//! the TEST-ONLY RSA keys in `tests/testdata`), and real `nucleus-witness` processes.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use ed25519_dalek::SigningKey;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
pub use nucleus_testkit::command::run;
pub use nucleus_testkit::witness::WitnessProcess;
use nucleus_testkit::witness::witness_binary;
use serde_json::{Value, json};

pub const ISSUER: &str = "https://token.actions.githubusercontent.com";
pub const AUDIENCE: &str = "nucleus-trust-registry/example";
pub const KID: &str = "test-github-kid-1";
pub const CI_OWNER_ID: u64 = 1001;
pub const STAGING_OWNER_ID: u64 = 2002;
pub const HEAD_REPO: &str = "example-ci-org/trust-registry";
pub const HEAD_REF: &str = "refs/heads/enroll-ci";
pub const HEAD_SHA: &str = "0123456789abcdef0123456789abcdef01234567";
pub const ORIGIN: &str = "registry.example/nucleus-trust-registry/test";
pub const LOG_SEED: [u8; 32] = [7; 32];

pub fn testdata(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/testdata")
        .join(name)
}

pub fn example_registry() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/registry")
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Claims as GitHub sends them (numeric IDs as strings), valid now for the CI org.
pub fn claims() -> Value {
    let now = now();
    json!({
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": format!("repo:{HEAD_REPO}:ref:{HEAD_REF}"),
        "exp": now + 300,
        "iat": now,
        "nbf": now - 600,
        "jti": "b1a4d1e8-test",
        "repository": HEAD_REPO,
        "repository_id": "555001",
        "repository_owner": "example-ci-org",
        "repository_owner_id": CI_OWNER_ID.to_string(),
        "repository_visibility": "public",
        "ref": HEAD_REF,
        "ref_type": "branch",
        "sha": HEAD_SHA,
        "event_name": "push",
        "workflow": "trust-registry",
        "job_workflow_ref": format!("{HEAD_REPO}/.github/workflows/trust-registry.yml@{HEAD_REF}"),
        "run_id": "987654321",
        "actor": "someone",
        "actor_id": "42",
        "runner_environment": "github-hosted",
    })
}

/// Signs `claims` with a test RSA key under `kid`.
pub fn mint_with(key_file: &str, kid: &str, claims: &Value) -> String {
    let pem = std::fs::read(testdata(key_file)).unwrap();
    let key = EncodingKey::from_rsa_pem(&pem).unwrap();
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, claims, &key).unwrap()
}

/// Signs `claims` with the "GitHub" test key.
pub fn mint(claims: &Value) -> String {
    mint_with("test-only-github-rsa.pem", KID, claims)
}

pub fn log_key_hex() -> String {
    hex::encode(SigningKey::from_bytes(&LOG_SEED).verifying_key().as_bytes())
}

pub fn registry_bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_nucleus-trust-registry"))
}

/// Witness `i` of the test (SQLite state under `dir`), trusting the test log.
pub fn start_witness(dir: &Path, i: u8) -> WitnessProcess {
    let bin = witness_binary(Path::new(env!("CARGO_BIN_EXE_nucleus-trust-registry")));
    WitnessProcess::start(
        &bin,
        &format!("witness.test/registry-w{i}"),
        [0x50 + i; 32],
        &format!("{ORIGIN}|{ORIGIN}|{}", log_key_hex()),
        &dir.join(format!("w{i}.db")),
    )
}

/// A 2-of-n policy over `witnesses`, pinning the test log key.
pub fn policy_text(witnesses: &[&WitnessProcess]) -> String {
    let mut text = format!("log {}\n", log_key_hex());
    let mut names = Vec::new();
    for (i, w) in witnesses.iter().enumerate() {
        text.push_str(&format!("witness w{i} {} {}\n", w.key_hex, w.url));
        names.push(format!("w{i}"));
    }
    text.push_str(&format!("group g 2 {}\nquorum g\n", names.join(" ")));
    text
}
