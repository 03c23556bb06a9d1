//! The producer without witnesses: init, append, checkpoint, export, verify, policy tools.

mod common;

use std::path::Path;

use common::{nucleus, verify, verify_json_ok, write_anchor};
use nucleus_testkit::command::{run, run_ok};

fn append(dir: &Path, session: &str, kind: &str, extra: &[&str]) -> serde_json::Value {
    let out = run_ok(
        nucleus()
            .args(["log", "append", "--session", session, "--kind", kind])
            .args(extra)
            .arg("--dir")
            .arg(dir),
    );
    serde_json::from_str(out.trim()).unwrap()
}

#[test]
fn local_session_exports_and_verifies() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    let init = run_ok(
        nucleus()
            .args(["log", "init", "--origin", "example.com/local"])
            .arg("--dir")
            .arg(&dir),
    );
    assert!(init.contains("witness --origin: example.com/local|example.com/local|"));
    // Keys are files with mode 0600, never argv.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("log.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let a = append(&dir, "s", "pod_admit", &["--content", "admit"]);
    let b = append(&dir, "other", "tool_call", &["--content", "x"]);
    let c = append(
        &dir,
        "s",
        "tool_call",
        &[
            "--content",
            "read",
            "--attr",
            "tool=Read",
            "--ts",
            "2026-11-29T03:00:00+01:00",
        ],
    );
    assert_eq!(
        (a["leaf_index"].as_u64(), a["seq"].as_u64()),
        (Some(0), Some(0))
    );
    assert_eq!(
        (b["leaf_index"].as_u64(), b["seq"].as_u64()),
        (Some(1), Some(0))
    );
    assert_eq!(
        (c["leaf_index"].as_u64(), c["seq"].as_u64()),
        (Some(2), Some(1))
    );

    let bundle = tmp.path().join("bundle.json");
    // No checkpoint yet: export refuses.
    let out = run(nucleus()
        .args(["bundle", "export", "--session", "s"])
        .arg("--dir")
        .arg(&dir)
        .arg("--out")
        .arg(&bundle));
    assert!(!out.status.success());
    let note = run_ok(nucleus().args(["log", "checkpoint"]).arg("--dir").arg(&dir));
    assert!(note.starts_with("example.com/local\n3\n"), "{note}");

    run_ok(
        nucleus()
            .args(["bundle", "export", "--session", "s"])
            .arg("--dir")
            .arg(&dir)
            .arg("--out")
            .arg(&bundle),
    );
    let policy = tmp.path().join("policy.txt");
    std::fs::write(&policy, "quorum none\n").unwrap();
    let anchor = tmp.path().join("anchor.json");
    write_anchor(&policy, &dir, &anchor);
    let report = verify_json_ok(&bundle, &anchor);
    let edges = report["report"]["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 2);
    assert_eq!(edges[1]["ts"], "2026-11-29T02:00:00Z");
    assert_eq!(edges[1]["attrs"]["tool"], "Read");
    assert_eq!(edges[1]["parents"][0], "s/0");
    assert_eq!(report["report"]["log"]["size"], 3);

    // An anchor for another log's keys refuses the bundle.
    let other = tmp.path().join("other");
    run_ok(
        nucleus()
            .args(["log", "init", "--origin", "example.com/local"])
            .arg("--dir")
            .arg(&other),
    );
    let other_anchor = tmp.path().join("other-anchor.json");
    write_anchor(&policy, &other, &other_anchor);
    let out = run(&mut verify(&bundle, &other_anchor));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown_kid"));
}

#[test]
fn policy_check_reports_the_bad_line() {
    let tmp = tempfile::tempdir().unwrap();
    let policy = tmp.path().join("policy.txt");
    std::fs::write(
        &policy,
        "witness w1 0000000000000000000000000000000000000000000000000000000000000001\ngroup g 0 w1\nquorum g\n",
    )
    .unwrap();
    let out = run(nucleus().args(["policy", "check"]).arg(&policy));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 2"));
}

#[test]
fn verifies_the_upstream_v1_fixture() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../envelope/testdata/upstream");
    let out = run_ok(&mut verify(
        &root.join("bundle.json"),
        &root.join("trust-anchor.json"),
    ));
    assert!(out.contains("OK: V1 bundle"), "{out}");
}
