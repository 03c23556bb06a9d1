//! Shared test helpers: the example registry, minted GitHub-style OIDC tokens (signed with
//! the TEST-ONLY RSA keys in `tests/testdata`), and real `nucleus-witness` processes.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ed25519_dalek::SigningKey;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
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

pub fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("running nucleus-trust-registry");
    eprintln!(
        "$ {:?}\n{}{}",
        cmd,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The witness binary: `$NUCLEUS_WITNESS_BIN`, else the one next to ours, built with
/// `cargo build -p nucleus-witness` when missing.
fn witness_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("NUCLEUS_WITNESS_BIN") {
        return PathBuf::from(path);
    }
    let ours = PathBuf::from(env!("CARGO_BIN_EXE_nucleus-trust-registry"));
    let path = ours.with_file_name("nucleus-witness");
    if !path.exists() {
        let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args(["build", "-p", "nucleus-witness", "--bin", "nucleus-witness"])
            .status()
            .expect("running cargo build -p nucleus-witness");
        assert!(status.success(), "building nucleus-witness failed");
    }
    assert!(path.exists(), "{} missing", path.display());
    path
}

pub struct Witness {
    child: Child,
    pub url: String,
    pub key_hex: String,
}

impl Drop for Witness {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn healthy(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(b"GET /healthz HTTP/1.0\r\nHost: localhost\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut buf = String::new();
    let _ = s.read_to_string(&mut buf);
    buf.starts_with("HTTP/1.0 200") || buf.starts_with("HTTP/1.1 200")
}

/// Starts witness `i` (SQLite state under `dir`) for the test log.
pub fn start_witness(dir: &Path, i: u8) -> Witness {
    let bin = witness_binary();
    let seed = [0x50 + i; 32];
    let key_hex = hex::encode(SigningKey::from_bytes(&seed).verifying_key().as_bytes());
    let port = free_port();
    let child = Command::new(bin)
        .arg("--bind")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--witness-name")
        .arg(format!("witness.test/registry-w{i}"))
        .arg("--origin")
        .arg(format!("{ORIGIN}|{ORIGIN}|{}", log_key_hex()))
        .arg("--db-url")
        .arg(format!(
            "sqlite://{}",
            dir.join(format!("w{i}.db")).display()
        ))
        .env("NUCLEUS_WITNESS_SEED_HEX", hex::encode(seed))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting nucleus-witness");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !healthy(port) {
        assert!(
            Instant::now() < deadline,
            "witness {i} did not become healthy"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Witness {
        child,
        url: format!("http://127.0.0.1:{port}"),
        key_hex,
    }
}

/// A 2-of-n policy over `witnesses`, pinning the test log key.
pub fn policy_text(witnesses: &[&Witness]) -> String {
    let mut text = format!("log {}\n", log_key_hex());
    let mut names = Vec::new();
    for (i, w) in witnesses.iter().enumerate() {
        text.push_str(&format!("witness w{i} {} {}\n", w.key_hex, w.url));
        names.push(format!("w{i}"));
    }
    text.push_str(&format!("group g 2 {}\nquorum g\n", names.join(" ")));
    text
}
