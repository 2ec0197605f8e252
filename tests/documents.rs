//! The documents a reader opens: every relative link in README.md,
//! CONTRIBUTING.md, docs/ and bench/README.md names a file of this
//! repository (nothing outside it, nothing missing), and README stays a
//! front door (at most 300 lines). Examples shown as a session (fenced
//! blocks of `$ ` lines and their output) run as written and print what
//! the document shows.

mod support;

use std::path::{Path, PathBuf};

fn documents() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut found: Vec<PathBuf> = ["README.md", "CONTRIBUTING.md", "bench/README.md"]
        .iter()
        .map(|p| root.join(p))
        .collect();
    for entry in std::fs::read_dir(root.join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            found.push(path);
        }
    }
    found.sort();
    found
}

/// The targets of `[text](target)` links in `text`.
fn links(text: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("](") {
        rest = &rest[i + 2..];
        if let Some(end) = rest.find(')') {
            found.push(&rest[..end]);
            rest = &rest[end..];
        }
    }
    found
}

#[test]
fn every_relative_link_resolves_inside_the_repository() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .canonicalize()
        .unwrap();
    let mut checked = 0;
    for doc in documents() {
        let text = std::fs::read_to_string(&doc).unwrap();
        for target in links(&text) {
            if target.contains("://") || target.starts_with('#') || target.starts_with("mailto:") {
                continue;
            }
            let file = target.split('#').next().unwrap();
            let path = doc.parent().unwrap().join(file);
            let resolved = path
                .canonicalize()
                .unwrap_or_else(|_| panic!("{}: link {target} names no file", doc.display()));
            assert!(
                resolved.starts_with(&root),
                "{}: link {target} leaves the repository",
                doc.display()
            );
            checked += 1;
        }
    }
    assert!(
        checked > 40,
        "only {checked} links found: is the parser right?"
    );
}

#[test]
fn readme_is_a_front_door() {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    assert!(text.lines().count() <= 300);
    for guide in std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs")).unwrap() {
        let name = guide.unwrap().file_name().into_string().unwrap();
        assert!(
            text.contains(&format!("(docs/{name})")),
            "README does not link docs/{name}"
        );
    }
}

/// A session shown in a document: the fenced block that follows `heading`,
/// as its commands (`$ ` lines) and the output shown under them.
fn session(doc: &str, heading: &str) -> (Vec<String>, String) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(doc);
    let text = std::fs::read_to_string(&path).unwrap();
    let at = text
        .find(heading)
        .unwrap_or_else(|| panic!("{doc}: no {heading:?}"));
    let block = text[at..].split("```").nth(1).expect("a fenced block");
    let mut commands = Vec::new();
    let mut output = String::new();
    for line in block.lines().skip(1) {
        match line.strip_prefix("$ ") {
            Some(command) => commands.push(command.to_string()),
            None => {
                output += line;
                output += "\n";
            }
        }
    }
    (commands, output)
}

/// Run `commands` with `sh` in `dir`, `calicoctl` the binary under test,
/// every stream to one output, stopping at the first failure.
fn run_session(dir: &Path, commands: &[String]) -> String {
    let bin = dir.join(".bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_calicoctl"), bin.join("calicoctl")).unwrap();
    let script = format!("set -e\nexec 2>&1\n{}\n", commands.join("\n"));
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .env_clear()
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .env("HOME", dir)
        .env("GIT_AUTHOR_NAME", "ci")
        .env("GIT_AUTHOR_EMAIL", "ci@example.invalid")
        .env("GIT_COMMITTER_NAME", "ci")
        .env("GIT_COMMITTER_EMAIL", "ci@example.invalid")
        .env("CALICOCTL_DEFAULT_CONFIG", "/nonexistent/calicoctl.cfg")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{commands:?}:\n{text}");
    text
}

/// fleet.md's CI recipe, in a new git repository: write, commit, clone,
/// check: clean, although git kept no 0600, and nothing of ours but the
/// host directories was committed.
#[test]
fn the_ci_recipe_runs_as_written() {
    if support::require_program("git").is_none() {
        return;
    }
    let (commands, shown) = session("docs/fleet.md", "### Drift in CI");
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    std::fs::write(repo.join("hosts.yaml"), "hosts:\n  a: {}\n  b: {}\n").unwrap();
    let init = std::process::Command::new("git")
        .args(["init", "-q"])
        .current_dir(&repo)
        .status()
        .unwrap();
    assert!(init.success());
    std::fs::write(repo.join(".git/info/exclude"), ".bin\n").unwrap();
    assert_eq!(run_session(&repo, &commands), shown);
    let listed = std::process::Command::new("git")
        .args(["ls-files"])
        .current_dir(&repo)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&listed.stdout),
        "hosts.yaml\nout/a/calico-node.env\nout/a/calico-node.service\nout/b/calico-node.env\nout/b/calico-node.service\n"
    );
}
