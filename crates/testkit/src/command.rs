//! Running a test's own binaries with their output echoed into the test log.

use std::process::{Command, Output};

/// Runs `cmd` to completion and echoes the command line, stdout and stderr to stderr (shown
/// when the test fails); panics only if the command cannot start.
pub fn run(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("running {cmd:?}: {e}"));
    eprintln!(
        "$ {cmd:?}\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// [`run`], asserting success; returns stdout as UTF-8.
pub fn run_ok(cmd: &mut Command) -> String {
    let out = run(cmd);
    assert!(out.status.success(), "command failed: {cmd:?}");
    String::from_utf8(out.stdout).expect("stdout is UTF-8")
}
