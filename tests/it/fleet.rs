//! `node fleet --out-dir` on disk: what golden files cannot hold. Unchanged
//! files keep their mtime, a changed one is rewritten alone, modes are the
//! formats', no temporary file is left, and `--check` exits 0 or 2.

use crate::support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::SystemTime;

const INVENTORY: &str = "defaults: {node-image: quay.io/calico/node:v3.2.8}\nhosts:\n  a: {as: 64512}\n  b: {}\n  c: {ip: 192.0.2.3}\n";

fn fleet(dir: &Path, extra: &[&str]) -> std::process::Output {
    let inventory = dir.join("inventory.yaml");
    let out = dir.join("out");
    let mut args = vec![
        "node",
        "fleet",
        "--inventory",
        inventory.to_str().unwrap(),
        "--out-dir",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    support::calicoctl(&args).output().unwrap()
}

fn mtimes(out: &Path) -> Vec<(String, SystemTime)> {
    let mut found = Vec::new();
    for host in ["a", "b", "c"] {
        for file in ["calico-node.env", "calico-node.service"] {
            let path = out.join(host).join(file);
            let modified = std::fs::metadata(&path).unwrap().modified().unwrap();
            found.push((format!("{host}/{file}"), modified));
        }
    }
    found
}

#[test]
fn rewrites_only_what_changed_and_check_reports_drift() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("inventory.yaml"), INVENTORY).unwrap();
    let out = d.join("out");

    let first = fleet(d, &[]);
    support::assert_success(&first);
    let mode = |p: &str| std::fs::metadata(out.join(p)).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode("a/calico-node.env"), 0o600);
    assert_eq!(mode("a/calico-node.service"), 0o644);
    let before = mtimes(&out);

    // Nothing changed: nothing is rewritten, and --check agrees.
    std::thread::sleep(std::time::Duration::from_millis(20));
    let again = fleet(d, &[]);
    assert!(String::from_utf8_lossy(&again.stderr).contains("0 files written, 6 unchanged"));
    assert_eq!(mtimes(&out), before, "unchanged files keep their mtime");
    assert_eq!(fleet(d, &["--check"]).status.code(), Some(0));

    // One host's option changes: only its env file is rewritten.
    std::fs::write(
        d.join("inventory.yaml"),
        INVENTORY.replace("as: 64512", "as: 64513"),
    )
    .unwrap();
    let drift = fleet(d, &["--check"]);
    assert_eq!(drift.status.code(), Some(2));
    let report = String::from_utf8_lossy(&drift.stdout);
    // An env file may hold secrets (the deployed one may have): only
    // that it differs is shown, never a line of either side.
    assert!(
        report.contains("a/calico-node.env (generated)\n(content differs; not shown: the file may hold secrets)\n"),
        "{report}"
    );
    assert!(!report.contains("AS=6451"), "{report}");
    assert_eq!(mtimes(&out), before, "--check writes nothing");
    let third = fleet(d, &[]);
    assert!(String::from_utf8_lossy(&third.stderr).contains("1 file written, 5 unchanged"));
    let after = mtimes(&out);
    for ((name, old), (_, new)) in before.iter().zip(&after) {
        assert_eq!(old != new, name == "a/calico-node.env", "{name}");
    }

    // No temporary file is left anywhere.
    for host in ["a", "b", "c"] {
        for entry in std::fs::read_dir(out.join(host)).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            assert!(!name.starts_with('.'), "left behind: {host}/{name}");
        }
    }
}

fn many_hosts(n: usize, bad_last: bool) -> String {
    let mut text = String::from("defaults: {node-image: quay.io/calico/node:v3.2.8}\nhosts:\n");
    for i in 0..n {
        text += &format!("  h{i:05}: {{as: {}}}\n", 64512 + i % 100);
    }
    if bad_last {
        text += "  zz-last: {ip: not-an-address}\n";
    }
    text
}

/// A host that fails after whole chunks of hosts were rendered and staged
/// (the fleet renders 2,048 at a time): nothing written, no temporary, no
/// directory left; and nothing printed to stdout.
#[test]
fn a_late_failure_takes_back_every_staged_chunk() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("inventory.yaml"), many_hosts(5000, true)).unwrap();
    let out = fleet(d, &[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.starts_with("zz-last: "), "{stderr}");
    assert!(!d.join("out").exists(), "nothing is left of the out dir");
    let printed = support::calicoctl(&[
        "node",
        "fleet",
        "--inventory",
        d.join("inventory.yaml").to_str().unwrap(),
    ])
    .output()
    .unwrap();
    assert_eq!(printed.status.code(), Some(1));
    assert!(printed.stdout.is_empty(), "nothing printed");

    // Into an out dir that exists: the old files stay, nothing is added.
    std::fs::write(d.join("inventory.yaml"), INVENTORY).unwrap();
    support::assert_success(&fleet(d, &[]));
    let before = mtimes(&d.join("out"));
    std::fs::write(d.join("inventory.yaml"), many_hosts(5000, true)).unwrap();
    assert_eq!(fleet(d, &[]).status.code(), Some(1));
    assert_eq!(mtimes(&d.join("out")), before);
    let mut names: Vec<String> = std::fs::read_dir(d.join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    // Nothing of ours but the host directories: no lock file for git.
    assert_eq!(names, ["a", "b", "c"]);
}

/// A fleet whose output is larger than what stdout holds in memory (it is
/// spooled to an unnamed temporary file) prints exactly what --out-dir
/// writes, file by file.
#[test]
fn spooled_stdout_equals_the_files_written() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("inventory.yaml"), many_hosts(6000, false)).unwrap();
    let inventory = d.join("inventory.yaml");
    let printed = support::calicoctl(&[
        "node",
        "fleet",
        "--inventory",
        inventory.to_str().unwrap(),
        "-o",
        "systemd",
    ])
    .output()
    .unwrap();
    support::assert_success(&printed);
    assert!(
        printed.stdout.len() > 8 << 20,
        "large enough to spool: {}",
        printed.stdout.len()
    );
    let written = fleet(d, &["-o", "systemd"]);
    support::assert_success(&written);
    let mut expected = Vec::new();
    for i in 0..6000 {
        let host = format!("h{i:05}");
        let gap = if i == 0 { "" } else { "\n" };
        expected.extend_from_slice(format!("{gap}# FILE: {host}/calico-node.service\n").as_bytes());
        expected
            .extend(std::fs::read(d.join("out").join(&host).join("calico-node.service")).unwrap());
    }
    assert!(printed.stdout == expected, "stdout differs from the files");
}
