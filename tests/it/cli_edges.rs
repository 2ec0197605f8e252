//! Command-line input that golden files cannot hold: bytes that are not
//! UTF-8 must give a clear error, never a panic. And the built-in templates
//! as starting points: each renders through `--template` as its `-o`.

use crate::support;

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

#[test]
fn non_utf8_arguments_are_refused_cleanly() {
    let out = support::calicoctl(&["node", "run", "--dryrun"])
        .arg(OsStr::from_bytes(b"--name=\xff\xfe"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "Error executing command: arguments must be valid UTF-8\n"
    );
}

/// Every built-in template printed by `--template-source` renders through
/// `--template` to exactly what its `-o` prints (with the options each
/// format needs), so a user starts from a template that works. A template
/// has calico/node's health checks unless `--no-health`, as this tool's
/// formats do: upstream's (text, docker) and the launcher script, which
/// does as the run path, have them with `--health`.
#[test]
fn built_in_templates_are_starting_points() {
    let dir = tempfile::tempdir().unwrap();
    let common = ["--name=node1", "--as=64512", "--ip=192.0.2.1"];
    let formats: [(&str, &[&str]); 7] = [
        ("text", &["--dryrun", "--health"]),
        ("docker", &["--health"]),
        ("systemd", &["--init-system"]),
        ("env", &[]),
        ("script", &["--health"]),
        ("compose", &[]),
        ("quadlet", &["--disable-docker-networking"]),
    ];
    for (format, extra) in formats {
        let source = support::calicoctl(&["node", "run", "--template-source", format])
            .output()
            .unwrap();
        let path = dir.path().join(format!("{format}.j2"));
        std::fs::write(&path, support::stdout_of(&source)).unwrap();
        let mut with_template = vec!["node", "run", "--template", path.to_str().unwrap()];
        with_template.extend(common.iter().chain(extra));
        let mut with_output = vec!["node", "run", "-o", format];
        with_output.extend(common.iter().chain(extra));
        let ours = support::stdout_of(&support::calicoctl(&with_template).output().unwrap());
        let built_in = support::stdout_of(&support::calicoctl(&with_output).output().unwrap());
        assert_eq!(ours, built_in, "-o {format}");
    }
}
