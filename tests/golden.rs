//! Golden cases: every user-visible output of `calicoctl`, pinned byte for
//! byte in `golden/**/*.toml`, one case per file.
//!
//! A case gives the arguments, the environment, the files to create in a
//! fresh working directory, optionally `stdin`, and what is expected: exit status, stdout,
//! stderr and, optionally, the contents of files after the run (what a
//! stand-in program recorded, what was written under the `/proc` stand-in).
//! `absent` lists paths that must not exist after the run (a stand-in that
//! must not have been called leaves no log); blessing never changes it.
//! A hostile tree is made with `[links]` (a symbolic link at each path,
//! pointing where its value says), `[hardlinks]` (a hard link at each path
//! to the file its value names), `fifos` (a list of paths) and `private`
//! (files of `[files]` made 0600).
//! In every string `{root}` is the case's working directory and `{standins}`
//! is `tests/standins` (stand-in `docker` and `modprobe`); outputs have the
//! working directory replaced by `{root}` before comparison, and the commit
//! of `calicoctl version` (what `git rev-parse --short HEAD` says here, or
//! `unknown` outside git) by `{git_commit}`.
//!
//! Each case is a test of its own (libtest-mimic), named by its path
//! without `.toml`: `cargo test --test golden -- fleet/check-drift` runs
//! one. Re-bless after reading the diff: `BLESS=1 cargo test --test golden`
//! (refused under `CI=true`). A case whose program is missing is ignored
//! outside CI, its reason in its line; under `CI=true` it fails.

#[path = "it/support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use toml_edit::{DocumentMut, Item, Table, value};

const CASE_TIMEOUT: Duration = Duration::from_secs(60);

struct Outcome {
    status: i64,
    stdout: String,
    stderr: String,
    files: BTreeMap<String, Option<String>>,
    /// Paths listed in `absent` that exist after the run.
    present_but_absent: Vec<String>,
}

fn strings(table: Option<&Item>) -> Vec<(String, String)> {
    let Some(table) = table.and_then(Item::as_table_like) else {
        return Vec::new();
    };
    table
        .iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                v.as_str()
                    .unwrap_or_else(|| panic!("{k}: not a string"))
                    .to_string(),
            )
        })
        .collect()
}

/// The commit `calicoctl version` must name, asked of git by the test.
fn git_commit() -> String {
    Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".to_string())
}

fn run_case(doc: &DocumentMut, root: &Path) -> Outcome {
    let standins = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/standins");
    let fill = |s: &str| {
        s.replace("{root}", root.to_str().unwrap())
            .replace("{standins}", standins.to_str().unwrap())
    };

    for (section, mode) in [("files", 0o644), ("executables", 0o755)] {
        for (name, text) in strings(doc.get(section)) {
            let path = root.join(&name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, fill(&text)).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        }
    }
    if let Some(private) = doc.get("private").and_then(Item::as_array) {
        for p in private {
            let path = root.join(p.as_str().unwrap());
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
    }
    for (name, existing) in strings(doc.get("hardlinks")) {
        let path = root.join(&name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::hard_link(root.join(existing), &path).unwrap();
    }
    if let Some(dirs) = doc.get("dirs").and_then(Item::as_array) {
        for d in dirs {
            std::fs::create_dir_all(root.join(d.as_str().unwrap())).unwrap();
        }
    }
    for (name, target) in strings(doc.get("links")) {
        let path = root.join(&name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(fill(&target), &path).unwrap();
    }
    if let Some(fifos) = doc.get("fifos").and_then(Item::as_array) {
        for f in fifos {
            let path = root.join(f.as_str().unwrap());
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            let made = Command::new("mkfifo").arg(&path).status().unwrap();
            assert!(made.success(), "mkfifo {}", path.display());
        }
    }

    let args: Vec<String> = doc["args"]
        .as_array()
        .expect("args is an array")
        .iter()
        .map(|a| fill(a.as_str().expect("args are strings")))
        .collect();
    let bin = env!("CARGO_BIN_EXE_calicoctl");
    let mut cmd = if doc.get("user").and_then(Item::as_str) == Some("nobody") && support::is_root()
    {
        // The unprivileged user must be able to enter the working directory.
        std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o755)).unwrap();
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", bin]);
        c
    } else {
        Command::new(bin)
    };
    cmd.args(&args).current_dir(root).env_clear();
    cmd.env("PATH", "/usr/bin:/bin");
    cmd.env(
        "CALICOCTL_DEFAULT_CONFIG",
        root.join("no-default-config.cfg"),
    );
    for (k, v) in strings(doc.get("env")) {
        cmd.env(k, fill(&v));
    }
    let stdin = doc.get("stdin").and_then(Item::as_str).map(fill);
    let mut child = cmd
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start calicoctl");
    if let Some(text) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        std::thread::spawn(move || {
            use std::io::Write;
            let _ = pipe.write_all(text.as_bytes());
        });
    }
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        out.read_to_end(&mut s).unwrap();
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        err.read_to_end(&mut s).unwrap();
        s
    });
    let deadline = Instant::now() + CASE_TIMEOUT;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("calicoctl did not finish within {CASE_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let commit_line = format!("Git commit:        {}\n", git_commit());
    let unfill = |bytes: Vec<u8>| {
        String::from_utf8_lossy(&bytes)
            .replace(root.to_str().unwrap(), "{root}")
            .replace(&commit_line, "Git commit:        {git_commit}\n")
    };
    let stdout = unfill(out_reader.join().unwrap());
    let stderr = unfill(err_reader.join().unwrap());

    let expected_files = doc.get("expected").and_then(|e| e.get("files"));
    let files = strings(expected_files)
        .into_iter()
        .map(|(name, _)| {
            let text = std::fs::read(root.join(&name)).ok().map(unfill);
            (name, text)
        })
        .collect();
    let present_but_absent = doc
        .get("absent")
        .and_then(Item::as_array)
        .map(|a| {
            a.iter()
                .map(|p| p.as_str().expect("absent lists paths").to_string())
                .filter(|p| root.join(p).exists())
                .collect()
        })
        .unwrap_or_default();
    Outcome {
        present_but_absent,
        status: status.code().map_or(-1, i64::from),
        stdout,
        stderr,
        files,
    }
}

fn diff(what: &str, expected: &str, actual: &str) -> String {
    if expected == actual {
        return String::new();
    }
    similar::TextDiff::from_lines(expected, actual)
        .unified_diff()
        .header(&format!("expected {what}"), &format!("actual {what}"))
        .to_string()
}

/// Compare, returning a readable report of every difference.
fn compare(doc: &DocumentMut, got: &Outcome) -> String {
    let expected = doc.get("expected").expect("[expected] table");
    let mut report = String::new();
    let want_status = expected
        .get("status")
        .and_then(Item::as_integer)
        .expect("expected.status");
    if want_status != got.status {
        report += &format!("status: expected {want_status}, got {}\n", got.status);
    }
    for stream in ["stdout", "stderr"] {
        let want = expected
            .get(stream)
            .and_then(Item::as_str)
            .unwrap_or_else(|| panic!("expected.{stream}"));
        let have = if stream == "stdout" {
            &got.stdout
        } else {
            &got.stderr
        };
        report += &diff(stream, want, have);
    }
    for (name, want) in strings(expected.get("files")) {
        match got.files.get(&name).cloned().flatten() {
            Some(have) => report += &diff(&name, &want, &have),
            None => report += &format!("file {name}: expected to exist, missing\n"),
        }
    }
    report
}

fn bless(doc: &mut DocumentMut, got: &Outcome) {
    let expected = doc["expected"].as_table_mut().expect("[expected] table");
    expected["status"] = value(got.status);
    expected["stdout"] = value(got.stdout.clone());
    expected["stderr"] = value(got.stderr.clone());
    if let Some(files) = expected.get_mut("files").and_then(Item::as_table_mut) {
        let names: Vec<String> = files.iter().map(|(k, _)| k.to_string()).collect();
        for name in names {
            let text = got.files.get(&name).cloned().flatten().unwrap_or_default();
            files[name.as_str()] = value(text);
        }
    }
}

fn cases(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            cases(&path, found);
        } else if path.extension().is_some_and(|e| e == "toml") {
            found.push(path);
        }
    }
}

/// Why a case cannot run here (outside CI: it is ignored, with the
/// reason said; under CI=true: it fails).
fn missing_need(doc: &DocumentMut) -> Option<String> {
    if doc.get("needs_root").and_then(Item::as_bool) == Some(true) && !support::is_root() {
        return Some("needs root (run as root, as CI does)".to_string());
    }
    let program = doc.get("needs").and_then(Item::as_str)?;
    let found = ["/usr/bin", "/bin"]
        .iter()
        .any(|d| Path::new(d).join(program).is_file());
    (!found).then(|| format!("needs {program} (.ci/run installs it)"))
}

/// Run one case: compare, or with `blessing` re-bless it.
fn run_one(path: &Path, name: &str, blessing: bool) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let mut doc: DocumentMut = text.parse().map_err(|e| format!("{name}: {e}"))?;
    if doc.get("description").and_then(Item::as_str).is_none() {
        return Err(format!("{name}: needs a description"));
    }
    if let Some(why) = missing_need(&doc) {
        return Err(format!(
            "{name}: {why}, and CI=true requires every case to run"
        ));
    }
    let root = tempfile::tempdir().map_err(|e| e.to_string())?;
    let got = run_case(&doc, root.path());
    if !got.present_but_absent.is_empty() {
        return Err(format!(
            "{name}: must not exist after the run: {:?}",
            got.present_but_absent
        ));
    }
    if doc.get("expected").is_none() {
        doc["expected"] = Item::Table(Table::new());
    }
    let report = if doc["expected"].get("status").is_some() {
        compare(&doc, &got)
    } else {
        "new case".into()
    };
    match (report.is_empty(), blessing) {
        (true, _) => Ok(()),
        (false, true) => {
            bless(&mut doc, &got);
            std::fs::write(path, doc.to_string()).map_err(|e| e.to_string())?;
            eprintln!("blessed {name}");
            Ok(())
        }
        (false, false) => Err(format!(
            "{name} differs (re-bless with BLESS=1 after reading the diff):\n{report}"
        )),
    }
}

/// Every case under `golden/` as a test of its own, named by its path.
fn main() {
    let args = libtest_mimic::Arguments::from_args();
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("golden");
    let mut paths = Vec::new();
    cases(&golden, &mut paths);
    paths.sort();
    assert!(
        !paths.is_empty(),
        "no golden cases under {}",
        golden.display()
    );
    let blessing = std::env::var("BLESS").is_ok_and(|v| v == "1");
    assert!(
        !(blessing && support::in_ci()),
        "BLESS=1 is refused under CI=true: CI checks the golden files, it never re-blesses them"
    );
    let trials = paths
        .into_iter()
        .map(|path| {
            let name = path.strip_prefix(&golden).unwrap().display().to_string();
            let name = name.strip_suffix(".toml").unwrap_or(&name).to_string();
            // Outside CI a case whose program is missing is ignored, its
            // reason in the name libtest prints.
            let skipped = (!support::in_ci())
                .then(|| std::fs::read_to_string(&path).ok())
                .flatten()
                .and_then(|text| text.parse::<DocumentMut>().ok())
                .and_then(|doc| missing_need(&doc));
            let label = name.clone();
            let trial = libtest_mimic::Trial::test(name, move || {
                run_one(&path, &label, blessing).map_err(Into::into)
            });
            match skipped {
                Some(why) => trial.with_kind(why).with_ignored_flag(true),
                None => trial,
            }
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}
