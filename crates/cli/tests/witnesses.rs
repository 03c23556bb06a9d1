//! The producer against three real `nucleus-witness` processes: a 2-of-3 policy, a 409
//! recovery with a consistency proof, and a refused fork; then export and verify.

mod common;

use std::path::Path;
use std::process::Output;

use common::{nucleus, verify, verify_json_ok, write_anchor};
use ed25519_dalek::SigningKey;
use nucleus_testkit::command::{run, run_ok};
use nucleus_testkit::witness::{WitnessProcess, witness_binary};

const ORIGIN: &str = "example.com/nucleus/cli-test";

/// Witness `i` of the test, trusting the test log, its state under `dir`.
fn start_witness(bin: &Path, dir: &Path, i: u8, log_pub_hex: &str) -> WitnessProcess {
    WitnessProcess::start(
        bin,
        &format!("witness.test/w{i}"),
        [0x40 + i; 32],
        &format!("{ORIGIN}|{ORIGIN}|{log_pub_hex}"),
        &dir.join(format!("w{i}.db")),
    )
}

fn append(dir: &Path, kind: &str, content: &str, ts: &str) {
    run_ok(
        nucleus()
            .args([
                "log",
                "append",
                "--session",
                "s1",
                "--kind",
                kind,
                "--content",
                content,
                "--ts",
                ts,
            ])
            .arg("--dir")
            .arg(dir),
    );
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

fn cosign(dir: &Path, policy: &Path) -> Output {
    run(nucleus()
        .args(["log", "cosign"])
        .arg("--dir")
        .arg(dir)
        .arg("--policy")
        .arg(policy))
}

#[test]
fn two_of_three_quorum_409_recovery_and_a_refused_fork() {
    let bin = witness_binary(Path::new(env!("CARGO_BIN_EXE_nucleus")));
    let tmp = tempfile::tempdir().unwrap();
    let main = tmp.path().join("main");
    run_ok(
        nucleus()
            .args(["log", "init", "--origin", ORIGIN])
            .arg("--dir")
            .arg(&main),
    );
    let log_seed = std::fs::read_to_string(main.join("log.key")).unwrap();
    let log_seed: [u8; 32] = hex::decode(log_seed.trim()).unwrap().try_into().unwrap();
    let log_pub = hex::encode(SigningKey::from_bytes(&log_seed).verifying_key().as_bytes());
    let witnesses: Vec<WitnessProcess> = (0..3)
        .map(|i| start_witness(&bin, tmp.path(), i, &log_pub))
        .collect();
    let policy = tmp.path().join("policy.txt");
    let mut text = format!("log {log_pub}\n");
    for (i, w) in witnesses.iter().enumerate() {
        text.push_str(&format!("witness w{i} {} {}\n", w.key_hex, w.url));
    }
    text.push_str("group two-of-three 2 w0 w1 w2\nquorum two-of-three\n");
    std::fs::write(&policy, text).unwrap();
    run_ok(nucleus().args(["policy", "check"]).arg(&policy));

    append(&main, "pod_admit", "admit", "2026-11-29T01:00:00Z");
    append(&main, "tool_call", "read file", "2026-11-29T01:00:01Z");
    append(
        &main,
        "artifact_produced",
        "summary",
        "2026-11-29T01:00:02Z",
    );
    // Snapshots before any cosigning, for the 409 and fork scenarios.
    let extension = tmp.path().join("extension");
    let fork = tmp.path().join("fork");
    let same_size_fork = tmp.path().join("same-size-fork");
    for snapshot in [&extension, &fork, &same_size_fork] {
        copy_dir(&main, snapshot);
    }

    // 2-of-3: stops once two witnesses cosigned.
    let out = cosign(&main, &policy);
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("cosigned  w0"), "{stdout}");
    assert!(stdout.contains("cosigned  w1"), "{stdout}");
    assert!(
        !stdout.contains("w2"),
        "the third witness is not needed: {stdout}"
    );
    assert!(stdout.contains("quorum: satisfied at size 3"), "{stdout}");

    // Export and verify against the anchor rendered from the policy.
    let bundle = tmp.path().join("bundle.json");
    let payload = tmp.path().join("payload.json");
    std::fs::write(&payload, br#"{"answer":42}"#).unwrap();
    run_ok(
        nucleus()
            .args(["bundle", "export", "--session", "s1"])
            .arg("--dir")
            .arg(&main)
            .arg("--out")
            .arg(&bundle)
            .arg("--payload")
            .arg(&payload),
    );
    let anchor = tmp.path().join("anchor.json");
    write_anchor(&policy, &main, &anchor);
    let report = verify_json_ok(&bundle, &anchor);
    assert_eq!(report["ok"], true);
    assert_eq!(report["report"]["edge_count"], 3);
    assert_eq!(report["report"]["quorum_satisfied"], true);
    assert_eq!(report["report"]["payload_bound"], true);
    let cosigners: Vec<&str> = report["report"]["cosigners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["policy_name"].as_str().unwrap())
        .collect();
    assert_eq!(cosigners, ["w0", "w1"]);

    // A tampered bundle fails, with the error kind in the JSON output.
    let tampered = std::fs::read_to_string(&bundle)
        .unwrap()
        .replacen("tool_call", "tool_cal1", 1);
    let bad = tmp.path().join("bad.json");
    std::fs::write(&bad, tampered).unwrap();
    let out = run(verify(&bad, &anchor).arg("--json"));
    assert!(!out.status.success());
    let err: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(err["error"]["kind"], "bad_seal");

    // 409 recovery: the snapshot thinks the witnesses never cosigned; they answer 409 with
    // size 3, and the producer resends from 3 with a consistency proof to 4.
    append(
        &extension,
        "tool_call",
        "write file",
        "2026-11-29T01:00:03Z",
    );
    let out = cosign(&extension, &policy);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("cosigned  w0"), "{stdout}");
    assert!(stdout.contains("cosigned  w1"), "{stdout}");
    assert!(stdout.contains("quorum: satisfied at size 4"), "{stdout}");

    // A fork (same key, same first 3 leaves, different 4th and 5th): the witnesses at size 4
    // refuse the consistency proof; the third witness alone cannot make the quorum.
    append(&fork, "tool_call", "exfiltrate", "2026-11-29T01:00:03Z");
    append(&fork, "tool_call", "cover up", "2026-11-29T01:00:04Z");
    let out = cosign(&fork, &policy);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        !out.status.success(),
        "a fork must not reach the quorum: {stdout}"
    );
    assert!(stdout.contains("refused   w0"), "{stdout}");
    assert!(stdout.contains("422"), "{stdout}");
    assert!(stdout.contains("refused   w1"), "{stdout}");
    assert!(stdout.contains("cosigned  w2"), "{stdout}");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("quorum NOT satisfied"), "{stderr}");

    // Same size, different root: w0 and w1 refuse (a fork at that size); w2 is already at
    // 5 (the other fork), beyond this log's size 4.
    append(
        &same_size_fork,
        "tool_call",
        "something else",
        "2026-11-29T01:00:09Z",
    );
    let out = cosign(&same_size_fork, &policy);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(!out.status.success(), "{stdout}");
    // The witness may answer this with 409 (C2SP) or 422 (its consistency check); both
    // are a refusal.
    assert!(stdout.contains("refused   w0"), "{stdout}");
    assert!(stdout.contains("refused   w1"), "{stdout}");
    assert!(stdout.contains("rolled back or forked"), "{stdout}");
    drop(witnesses);
}
