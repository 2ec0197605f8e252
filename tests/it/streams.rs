//! The standard streams as a well-kept Unix tool treats them: a full
//! stdout (`/dev/full`) is one line on stderr and exit 1 for every output
//! path; a closed pipe is a quiet end (killed by SIGPIPE, or exit 141 with
//! SIGPIPE ignored); descriptors closed at start are reopened on /dev/null,
//! so nothing printed lands in a file the run opened; a panic is exit 101
//! with its message, never an abort.

use crate::support;

use std::process::{Output, Stdio};

const FULL: &str = "Error executing command: cannot write to standard output: No space left on device (os error 28)\n";

/// Every path that prints to stdout, with what it needs in `dir`.
fn printing_commands(dir: &std::path::Path) -> Vec<Vec<String>> {
    std::fs::write(dir.join("inv.yaml"), "hosts:\n  a: {}\n  b: {}\n").unwrap();
    std::fs::create_dir_all(dir.join("drift")).unwrap();
    let d = dir.display();
    let words = |s: &str| s.split(' ').map(str::to_string).collect::<Vec<_>>();
    [
        "node run --dryrun".to_string(),
        "node run --dryrun --init-system".to_string(),
        "node run -o systemd".to_string(),
        "node run -o json".to_string(),
        format!("node run -o systemd --out-dir {d}/drift --check"),
        format!("node fleet --inventory {d}/inv.yaml -o systemd"),
        format!("node fleet --inventory {d}/inv.yaml -o systemd --out-dir {d}/drift --check"),
        "node fleet --schema".to_string(),
        "node run --help".to_string(),
        "node detect-ip --explain".to_string(),
        "version".to_string(),
        "--help".to_string(),
        "completion bash".to_string(),
    ]
    .iter()
    .map(|s| words(s))
    .collect()
}

fn interfaces(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("interfaces.yaml");
    std::fs::write(
        &path,
        "interfaces:\n  - {name: eth0, index: 2, addrs: [10.0.0.5/24]}\n",
    )
    .unwrap();
    path
}

fn run(args: &[String], stdout: Stdio, dir: &std::path::Path) -> Output {
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    support::calicoctl(&words)
        .env("CALICOCTL_INTERFACES", interfaces(dir))
        .stdout(stdout)
        .stderr(Stdio::piped())
        .output()
        .unwrap()
}

#[test]
fn a_full_stdout_is_one_line_and_exit_1_on_every_path() {
    let dir = tempfile::tempdir().unwrap();
    for args in printing_commands(dir.path()) {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let out = run(&args, full.into(), dir.path());
        assert_eq!(
            out.status.code(),
            Some(1),
            "{args:?}: {}",
            support::describe(&out)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .filter(|l| l.starts_with("Error"))
                .count(),
            1,
            "{args:?}"
        );
        assert!(
            String::from_utf8_lossy(&out.stderr).ends_with(FULL),
            "{args:?}: {}",
            support::describe(&out)
        );
        assert!(
            !String::from_utf8_lossy(&out.stderr).contains("panic"),
            "{args:?}"
        );
    }
}

/// A pipe whose reading end is already closed: every write gets EPIPE.
fn closed_pipe() -> std::io::PipeWriter {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    writer
}

#[test]
fn a_closed_pipe_ends_the_run_quietly() {
    use std::os::unix::process::ExitStatusExt;
    let dir = tempfile::tempdir().unwrap();
    // Ended as `status` says (a signal or an exit code), nothing on stderr.
    let quiet = |out: &Output, signal: Option<i32>, code: Option<i32>, args: &[String]| {
        let got = (out.status.signal(), out.status.code());
        assert_eq!(got, (signal, code), "{args:?}: {}", support::describe(out));
        assert!(
            out.stderr.is_empty(),
            "{args:?}: {}",
            support::describe(out)
        );
    };
    for args in printing_commands(dir.path()) {
        // SIGPIPE at its default (as Command leaves it): killed by it.
        let out = run(&args, closed_pipe().into(), dir.path());
        quiet(&out, Some(13), None, &args);
        // SIGPIPE ignored by whoever started it: EPIPE, and a quiet 141.
        let out = support::calicoctl_in_sh("trap '' PIPE; exec \"$@\"", &args)
            .env("CALICOCTL_INTERFACES", interfaces(dir.path()))
            .stdout(closed_pipe())
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        quiet(&out, None, Some(141), &args);
    }
}

/// `calicoctl ARGS` run by sh with the descriptors `closing` closed.
fn with_closed(closing: &str, args: &[&str], dir: &std::path::Path) -> Output {
    support::calicoctl_in_sh(&format!("exec \"$@\" {closing}"), args)
        .current_dir(dir)
        .output()
        .unwrap()
}

#[test]
fn closed_standard_descriptors_never_receive_what_is_printed() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("inv.yaml"), "hosts:\n  a: {}\n").unwrap();
    let cases: [(&str, &[&str]); 4] = [
        (
            "2>&-",
            &["node", "run", "-o", "systemd", "--out-dir", "out"],
        ),
        (
            "1>&- 2>&-",
            &[
                "node",
                "fleet",
                "--inventory",
                "inv.yaml",
                "-o",
                "systemd",
                "--out-dir",
                "fleet",
            ],
        ),
        (
            "1>&-",
            &[
                "node",
                "run",
                "-o",
                "systemd",
                "--out-dir",
                "out2",
                "--check",
            ],
        ),
        ("0<&- 1>&- 2>&-", &["man", "--out-dir", "man"]),
    ];
    for (closing, args) in cases {
        let out = with_closed(closing, args, dir.path());
        assert!(
            out.status.code().is_some(),
            "{closing} {args:?}: {}",
            support::describe(&out)
        );
        // The lock is on the out dir itself: no file of ours could take
        // the output a closed descriptor would have sent.
        for lock in ["out", "fleet", "out2"] {
            let path = dir.path().join(lock).join(".calicoctl.lock");
            assert!(!path.exists(), "{closing} {args:?}: {}", path.display());
        }
    }
    let unit = std::fs::read_to_string(dir.path().join("out/calico-node.service")).unwrap();
    assert!(
        unit.starts_with("# calico-node.service, generated by"),
        "{unit}"
    );
    assert!(!unit.contains("Wrote"));
    let unit = std::fs::read_to_string(dir.path().join("fleet/a/calico-node.service")).unwrap();
    assert!(!unit.contains("hosts:") && !unit.contains("Wrote"));
    for page in std::fs::read_dir(dir.path().join("man")).unwrap() {
        let text = std::fs::read_to_string(page.unwrap().path()).unwrap();
        assert!(!text.contains("Wrote"));
    }
    // A closed stdin reads as empty, not as a file the run opened.
    let out = with_closed("0<&-", &["node", "fleet", "--inventory", "-"], dir.path());
    assert_eq!(out.status.code(), Some(1), "{}", support::describe(&out));
}

#[test]
fn a_panic_is_exit_101_with_its_message_never_an_abort() {
    let out = support::calicoctl(&["node", "run", "--dryrun"])
        .env("CALICOCTL_TEST_PANIC", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(101), "{}", support::describe(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("CALICOCTL_TEST_PANIC asked for a panic"),
        "{stderr}"
    );
    assert!(!stderr.contains("cannot unwind"), "{stderr}");
    assert!(out.stdout.is_empty());
}
