//! Out dirs under faults: a writer killed (SIGKILL) among its temporaries,
//! interrupted (SIGINT, SIGTERM, SIGHUP) before and during its renames, and
//! two runs on one directory at once. Each test reads what is left on disk.
//! The writer is stopped at a known point by the documented test hook
//! `CALICOCTL_TEST_PAUSE` (`stage:N`, `rename:N`), which prints a line on
//! stderr and waits for a signal.

use crate::support;

use std::io::{BufRead, BufReader};
use std::os::fd::AsRawFd;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};

const HOSTS: usize = 40;

fn inventory(dir: &Path, as_number: u32) -> PathBuf {
    let mut text = String::from("hosts:\n");
    for i in 0..HOSTS {
        text += &format!("  h{i:02}: {{as: {as_number}}}\n");
    }
    let path = dir.join("inventory.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

fn fleet_args<'a>(inventory: &'a Path, out: &'a Path, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "node",
        "fleet",
        "--inventory",
        inventory.to_str().unwrap(),
        "--out-dir",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    args
}

fn run(args: &[&str], lock_wait_ms: u32) -> std::process::Output {
    support::calicoctl(args)
        .env("CALICOCTL_LOCK_WAIT_MS", lock_wait_ms.to_string())
        .output()
        .unwrap()
}

/// A writer stopped by the pause hook: started, and read until it says so.
fn paused(args: &[&str], pause: &str) -> Child {
    let mut child = support::calicoctl(args)
        .env("CALICOCTL_TEST_PAUSE", pause)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stderr.as_mut().unwrap());
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    assert!(line.starts_with("Paused after "), "{line:?}");
    child
}

fn signal(child: &Child, signal: i32) {
    let pid = i32::try_from(child.id()).unwrap();
    // SAFETY: kill sends a signal to our own child.
    assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
}

/// The rest of a child's stderr, and how it ended.
fn finish(mut child: Child) -> (String, std::process::ExitStatus) {
    let mut rest = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut rest).unwrap();
    (rest, child.wait().unwrap())
}

/// Every file under `dir` (relative), sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                todo.push(path);
            } else {
                found.push(path.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    found.sort();
    found
}

fn temporaries(dir: &Path) -> Vec<String> {
    listing(dir)
        .into_iter()
        .filter(|p| p.contains("/.calico-node.") && p.contains(".tmp-"))
        .collect()
}

/// How many hosts' env files say `AS=<n>`.
fn hosts_with_as(out: &Path, n: u32) -> usize {
    (0..HOSTS)
        .filter(|i| {
            let env = out.join(format!("h{i:02}/calico-node.env"));
            std::fs::read_to_string(env).is_ok_and(|t| t.contains(&format!("\nAS={n}\n")))
        })
        .count()
}

#[test]
fn sigkill_leaves_temporaries_that_check_reports_and_the_next_write_removes() {
    let dir = tempfile::tempdir().unwrap();
    let (inv, out) = (inventory(dir.path(), 64512), dir.path().join("out"));
    let mut child = paused(&fleet_args(&inv, &out, &[]), "stage:30");
    child.kill().unwrap();
    assert_eq!(child.wait().unwrap().signal(), Some(libc::SIGKILL));
    let left = temporaries(&out);
    assert_eq!(left.len(), 30, "{left:?}");
    assert_eq!(hosts_with_as(&out, 64512), 0, "no target was written");

    let check = run(&fleet_args(&inv, &out, &["--check"]), 1000);
    assert_eq!(check.status.code(), Some(2));
    let report = String::from_utf8_lossy(&check.stdout);
    let stale: Vec<&str> = report
        .lines()
        .filter(|l| l.starts_with("stale: "))
        .collect();
    assert_eq!(stale.len(), 30, "{report}");
    for path in &left {
        let shown = format!("stale: {} (", out.join(path).display());
        assert!(report.contains(&shown), "{shown} not in {report}");
    }
    assert_eq!(temporaries(&out), left, "--check removes nothing");

    let write = run(&fleet_args(&inv, &out, &[]), 1000);
    let stderr = String::from_utf8_lossy(&write.stderr);
    support::assert_success(&write);
    assert!(
        stderr.contains("Removed 30 stale temporary files left by an interrupted run.\n"),
        "{stderr}"
    );
    assert!(temporaries(&out).is_empty());
    assert_eq!(hosts_with_as(&out, 64512), HOSTS);
    let again = run(&fleet_args(&inv, &out, &["--check"]), 1000);
    assert_eq!(
        again.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&again.stdout)
    );
}

/// A fleet written with AS 64512, then rewritten with 64513 by a writer
/// paused at `pause` and sent `sig`: the out dir, its files before, and how
/// the writer ended (its stderr, its status).
fn interrupted(
    dir: &Path,
    pause: &str,
    sig: i32,
    paused_state: impl Fn(&Path),
) -> (PathBuf, Vec<String>, String, std::process::ExitStatus) {
    let out = dir.join("out");
    let inv = inventory(dir, 64512);
    support::assert_success(&run(&fleet_args(&inv, &out, &[]), 1000));
    let before = listing(&out);
    inventory(dir, 64513);
    let child = paused(&fleet_args(&inv, &out, &[]), pause);
    paused_state(&out);
    signal(&child, sig);
    let (stderr, status) = finish(child);
    (out, before, stderr, status)
}

#[test]
fn a_signal_before_the_renames_leaves_every_old_file() {
    for (sig, name) in [
        (libc::SIGINT, "SIGINT"),
        (libc::SIGTERM, "SIGTERM"),
        (libc::SIGHUP, "SIGHUP"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let (out, before, stderr, status) = interrupted(dir.path(), "stage:25", sig, |out| {
            assert_eq!(temporaries(out).len(), 25);
        });
        assert_eq!(status.signal(), Some(sig), "{name}: {stderr}");
        assert_eq!(
            stderr,
            format!(
                "Error executing command: interrupted by {name}: nothing changed in {} (25 temporary files removed)\n",
                out.display()
            )
        );
        assert_eq!(listing(&out), before, "{name}: no temporary, no new file");
        assert_eq!(hosts_with_as(&out, 64512), HOSTS, "{name}: every file old");
    }
}

#[test]
fn a_signal_into_a_new_directory_leaves_no_host_directory() {
    let dir = tempfile::tempdir().unwrap();
    let (inv, out) = (inventory(dir.path(), 64512), dir.path().join("out"));
    let child = paused(&fleet_args(&inv, &out, &[]), "stage:3");
    signal(&child, libc::SIGTERM);
    let (_, status) = finish(child);
    assert_eq!(status.signal(), Some(libc::SIGTERM));
    assert_eq!(listing(&out), Vec::<String>::new());
    assert!(
        std::fs::read_dir(&out).unwrap().count() == 0,
        "host directories taken back"
    );
}

#[test]
fn a_signal_during_the_renames_finishes_them() {
    for (sig, name) in [(libc::SIGINT, "SIGINT"), (libc::SIGTERM, "SIGTERM")] {
        let dir = tempfile::tempdir().unwrap();
        let (out, before, stderr, status) = interrupted(dir.path(), "rename:10", sig, |out| {
            assert_eq!(hosts_with_as(out, 64513), 10, "paused among the renames");
        });
        assert_eq!(status.signal(), Some(sig), "{name}: {stderr}");
        assert_eq!(
            stderr,
            format!(
                "Interrupted by {name} during the renames: finished them first; {HOSTS} files written in {}.\n",
                out.display()
            )
        );
        assert_eq!(listing(&out), before, "{name}: no temporary left");
        assert_eq!(hosts_with_as(&out, 64513), HOSTS, "{name}: every file new");
    }
}

#[test]
fn node_run_out_dir_is_interrupted_the_same_way() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let args = |as_number: &'static str| {
        vec![
            "node",
            "run",
            "-o",
            "systemd-envfile",
            "--as",
            as_number,
            "--out-dir",
            out.to_str().unwrap(),
        ]
    };
    support::assert_success(&run(&args("64512"), 1000));
    let env_before = std::fs::read_to_string(out.join("calico-node.env")).unwrap();
    let child = paused(&args("64513"), "stage:1");
    signal(&child, libc::SIGTERM);
    let (stderr, status) = finish(child);
    assert_eq!(status.signal(), Some(libc::SIGTERM), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(out.join("calico-node.env")).unwrap(),
        env_before
    );
    assert_eq!(listing(&out), ["calico-node.env", "calico-node.service"]);
}

#[test]
fn a_second_writer_and_a_check_wait_then_name_the_writer() {
    let dir = tempfile::tempdir().unwrap();
    let (inv, out) = (inventory(dir.path(), 64512), dir.path().join("out"));
    let first = paused(&fleet_args(&inv, &out, &[]), "stage:5");
    let expected = format!(
        "Error executing command: {} is in use by process {} (waited 0.3 s for its lock); try again when it is done\n",
        out.display(),
        first.id()
    );
    for extra in [&[][..], &["--check"][..]] {
        let second = run(&fleet_args(&inv, &out, extra), 300);
        assert_eq!(second.status.code(), Some(1), "{extra:?}");
        assert_eq!(
            String::from_utf8_lossy(&second.stderr),
            expected,
            "{extra:?}"
        );
        assert!(second.stdout.is_empty());
    }
    assert_eq!(
        temporaries(&out).len(),
        5,
        "the first writer's files untouched"
    );
    signal(&first, libc::SIGTERM);
    finish(first);
    support::assert_success(&run(&fleet_args(&inv, &out, &[]), 300));
}

/// Hold a flock on the out dir itself from this test process.
fn hold(out: &Path, op: i32) -> std::fs::File {
    let file = std::fs::File::open(out).unwrap();
    // SAFETY: flock on a descriptor we own.
    assert_eq!(unsafe { libc::flock(file.as_raw_fd(), op) }, 0);
    file
}

#[test]
fn checks_share_the_lock_and_a_writer_waits_for_them() {
    let dir = tempfile::tempdir().unwrap();
    let (inv, out) = (inventory(dir.path(), 64512), dir.path().join("out"));
    support::assert_success(&run(&fleet_args(&inv, &out, &[]), 1000));
    let reader = hold(&out, libc::LOCK_SH);
    let check = run(&fleet_args(&inv, &out, &["--check"]), 300);
    assert_eq!(check.status.code(), Some(0), "a check beside a check");
    let writer = run(&fleet_args(&inv, &out, &[]), 300);
    assert_eq!(writer.status.code(), Some(1));
    let me = format!("in use by process {} ", std::process::id());
    assert!(String::from_utf8_lossy(&writer.stderr).contains(&me));

    // Released while a writer waits: the writer goes on.
    let release = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(400));
        drop(reader);
    });
    let waited = run(&fleet_args(&inv, &out, &[]), 10_000);
    release.join().unwrap();
    support::assert_success(&waited);
    assert!(
        !out.join(".calicoctl.lock").exists(),
        "no lock file is made"
    );
}

/// A host directory moved away and replaced by a link while the writer is
/// renaming: the run stops there, says which hosts are in place and which
/// are not, and leaves no temporary anywhere, the moved directory
/// included (it was staged into through a descriptor held open); nothing
/// is written through the link. A later `--check` shows exactly that.
#[test]
fn a_host_directory_swapped_during_the_renames_is_reported_and_cleaned() {
    let dir = tempfile::tempdir().unwrap();
    let (inv, out) = (inventory(dir.path(), 64512), dir.path().join("out"));
    // Two files a host: after 10 files, hosts h00 to h04 are in place.
    let child = support::calicoctl(&fleet_args(&inv, &out, &[]))
        .env("CALICOCTL_TEST_PAUSE", "rename:10")
        .env("CALICOCTL_TEST_PAUSE_MS", "3000")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut child = child;
    let mut reader = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    assert!(
        line.starts_with("Paused after renaming 10 files"),
        "{line:?}"
    );
    let moved = dir.path().join("moved-h07");
    std::fs::rename(out.join("h07"), &moved).unwrap();
    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, out.join("h07")).unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut reader, &mut rest).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(1), "{rest}");
    let lines: Vec<&str> = rest.lines().collect();
    assert_eq!(lines.len(), 1, "{rest}");
    assert!(
        lines[0].contains("h07/calico-node.env: its host directory was moved or replaced")
            && lines[0].contains("14 files were already in place, of hosts 7 hosts, h00 to h06")
            && lines[0].contains("not written: 33 hosts, h07 to h39"),
        "{rest}"
    );
    assert_eq!(temporaries(&out), Vec::<String>::new());
    assert!(
        listing(&moved).iter().all(|f| !f.contains(".tmp-")),
        "{:?}",
        listing(&moved)
    );
    assert_eq!(
        listing(&elsewhere),
        Vec::<String>::new(),
        "nothing through the link"
    );
    assert_eq!(hosts_with_as(&out, 64512), 7);

    let check = run(&fleet_args(&inv, &out, &["--check"]), 1000);
    let report = String::from_utf8_lossy(&check.stdout);
    assert_eq!(check.status.code(), Some(2));
    assert!(report.contains("not a directory: "), "{report}");
    assert!(!report.contains("h00/"), "{report}");
    assert_eq!(report.matches("missing: ").count(), 2 * 32, "{report}");
}
