//! The binary: refuses to start without a seed, warns loudly with the development seed,
//! reads seed files, and reloads the origins file on SIGHUP.

mod common;

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_nucleus-witness"));
    c.env_remove("NUCLEUS_WITNESS_SEED_HEX")
        .env_remove("NUCLEUS_WITNESS_SEED_FILE")
        .env_remove("NUCLEUS_WITNESS_DB_URL");
    c
}

#[test]
fn refuses_to_start_without_a_seed() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("w.db").display());
    let out = bin()
        .args(["--db-url", &db, "--bind", &free_addr().to_string()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no witness seed"), "{err}");
    let out = bin()
        .args(["--db-url", &db, "--witness-seed-hex", "abcd"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let out = bin()
        .args(["--db-url", "mysql://x", "--insecure-dev-seed"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unsupported database URL"));
}

#[tokio::test]
async fn insecure_dev_seed_warns_and_seed_file_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("w.db").display());
    let addr = free_addr();
    let mut child = bin()
        .args([
            "--db-url",
            &db,
            "--insecure-dev-seed",
            "--bind",
            &addr.to_string(),
        ])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let c = http();
    let mut up = false;
    for _ in 0..100 {
        if c.get(format!("http://{addr}/healthz")).send().await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(up);
    assert!(err.contains("INSECURE DEVELOPMENT SEED"), "{err}");
    assert!(err.contains("public_key_hex"), "logs its public key: {err}");

    // A seed file holding the raw 32 bytes gives the expected key.
    let seed_file = dir.path().join("seed");
    std::fs::write(&seed_file, hex::decode(WITNESS_SEED_HEX).unwrap()).unwrap();
    let origins = dir.path().join("origins.txt");
    std::fs::write(&origins, "").unwrap();
    let w = spawn_witness(&[
        "--db-url".into(),
        db,
        "--witness-seed-file".into(),
        seed_file.display().to_string(),
        "--origins-file".into(),
        origins.display().to_string(),
    ])
    .await;
    let info: serde_json::Value = c
        .get(format!("{}/info", w.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        info["public_key_hex"],
        hex::encode(witness_key().verifying_key().as_bytes())
    );
    assert_eq!(info["name"], "nucleus.witness/local");
}

fn hup(pid: u32) {
    let ok = Command::new("kill")
        .args(["-HUP", &pid.to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
}

/// Retries a submission until it gets `want` (a reload is asynchronous).
async fn eventually(c: &reqwest::Client, base: &str, body: &[u8], want: u16) {
    let mut got = 0;
    for _ in 0..100 {
        got = post(c, base, body.to_vec()).await.0;
        if got == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("wanted {want}, still {got}");
}

#[tokio::test]
async fn origins_file_reloads_on_sighup() {
    let a = TestLog::new("example.com/a", 1, "a", 10);
    let b = TestLog::new("example.com/b", 2, "b", 10);
    let dir = tempfile::tempdir().unwrap();
    let origins = dir.path().join("origins.txt");
    std::fs::write(&origins, format!("# only a\n{}\n", a.origin_line())).unwrap();
    let db = format!("sqlite://{}", dir.path().join("w.db").display());
    let w = spawn_witness(&witness_args(&db, &origins)).await;
    let c = http();

    assert_eq!(post(&c, &w.base, a.request(0, 2)).await.0, 200);
    assert_eq!(post(&c, &w.base, b.request(0, 2)).await.0, 404);

    std::fs::write(
        &origins,
        format!("# a and b\n{}\n\n{}\n", a.origin_line(), b.origin_line()),
    )
    .unwrap();
    hup(w.pid());
    eventually(&c, &w.base, &b.request(0, 2), 200).await;

    // A broken file keeps the previous origins.
    std::fs::write(&origins, "this is not an origin line\n").unwrap();
    hup(w.pid());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(post(&c, &w.base, a.request(2, 3)).await.0, 200);
    assert_eq!(post(&c, &w.base, b.request(2, 3)).await.0, 200);

    // Removing an origin stops cosigning for it; its state is kept for when it returns.
    std::fs::write(&origins, format!("{}\n", b.origin_line())).unwrap();
    hup(w.pid());
    eventually(&c, &w.base, &a.request(3, 4), 404).await;
    std::fs::write(
        &origins,
        format!("{}\n{}\n", a.origin_line(), b.origin_line()),
    )
    .unwrap();
    hup(w.pid());
    eventually(&c, &w.base, &a.request(0, 1), 409).await;
    assert_eq!(post(&c, &w.base, a.request(0, 1)).await.2, "3\n");
}
