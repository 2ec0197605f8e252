//! Helpers shared by the integration tests: running the binary, finding the
//! real consumer programs, and a stand-in Docker Engine API server.
#![allow(dead_code)]

pub mod engine;

use std::path::PathBuf;
use std::process::{Command, Output};

/// The calicoctl binary under test, with a clean environment.
pub fn calicoctl(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_calicoctl"));
    cmd.args(args)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("CALICOCTL_HOSTNAME", "node1")
        .env("CALICOCTL_DEFAULT_CONFIG", "/nonexistent/calicoctl.cfg");
    cmd
}

pub fn stdout_of(output: &Output) -> String {
    assert!(
        output.status.success(),
        "calicoctl failed: {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).expect("UTF-8 output")
}

pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Find a consumer program on PATH. Outside CI a missing program skips the
/// test (returns None, with a printed reason); in CI it fails it, since
/// `.ci/run` installs every one of them.
pub fn require_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        let candidate = dir.join(name);
        if candidate.is_file() {
            return Some(candidate);
        }
    }
    assert!(
        !in_ci(),
        "{name} is not installed, and CI=true requires it (.ci/run installs it)"
    );
    eprintln!("skipped: {name} is not installed (.ci/run installs it)");
    None
}
