//! The `nucleus` invocations the producer suites share.

use std::path::Path;
use std::process::Command;

use nucleus_testkit::command::run_ok;

/// The `nucleus` binary under test.
pub fn nucleus() -> Command {
    Command::new(env!("CARGO_BIN_EXE_nucleus"))
}

/// `nucleus policy anchor`: the trust anchor for the log in `dir` under `policy`, to `out`.
pub fn write_anchor(policy: &Path, dir: &Path, out: &Path) {
    run_ok(
        nucleus()
            .args(["policy", "anchor"])
            .arg("--policy")
            .arg(policy)
            .arg("--dir")
            .arg(dir)
            .arg("--out")
            .arg(out),
    );
}

/// `nucleus bundle verify BUNDLE --trust-anchor ANCHOR`, to run (add `--json` as needed).
pub fn verify(bundle: &Path, anchor: &Path) -> Command {
    let mut command = nucleus();
    command
        .args(["bundle", "verify"])
        .arg(bundle)
        .arg("--trust-anchor")
        .arg(anchor);
    command
}

/// `nucleus bundle verify --json` that must succeed: its JSON output.
pub fn verify_json_ok(bundle: &Path, anchor: &Path) -> serde_json::Value {
    serde_json::from_str(&run_ok(verify(bundle, anchor).arg("--json"))).unwrap()
}
