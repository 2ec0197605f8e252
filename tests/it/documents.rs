//! The documents a reader opens: every relative link in README.md,
//! CONTRIBUTING.md, docs/ and bench/README.md names a file of this
//! repository (nothing outside it, nothing missing), and README stays a
//! front door (at most 300 lines). Examples shown as a session (fenced
//! blocks of `$ ` lines and their output) run as written and print what
//! the document shows.

use crate::support;

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
/// stopping at the first failure: what they printed, stdout and stderr
/// together as a terminal shows them.
fn run_session(dir: &Path, commands: &[String]) -> String {
    // Nothing outside the new directory: a session writes only below it.
    for command in commands {
        let absolute = command
            .split_whitespace()
            .any(|w| w.starts_with('/') || w.contains("=/") || w.starts_with(">/"));
        assert!(
            !absolute,
            "{command}: an absolute path (use a relative one)"
        );
    }
    let bin = dir.join(".bin");
    std::fs::create_dir_all(&bin).unwrap();
    if !bin.join("calicoctl").exists() {
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_calicoctl"), bin.join("calicoctl")).unwrap();
    }
    // The default config path, as the output shows it: none there.
    let default_config = dir.join(".etc/calicoctl.cfg");
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
        .env("CALICOCTL_DEFAULT_CONFIG", &default_config)
        .env("CALICOCTL_HOSTNAME", "node1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout)
        .replace(
            default_config.to_str().unwrap(),
            "/etc/calico/calicoctl.cfg",
        )
        .replace(dir.to_str().unwrap(), ".");
    support::assert_success_in(&out, format_args!("{commands:?}:\n{text}"));
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
    std::fs::write(
        repo.join("hosts.yaml"),
        "defaults: {config: calicoctl.cfg}\nhosts:\n  a: {}\n  b: {}\n",
    )
    .unwrap();
    std::fs::write(
        repo.join("calicoctl.cfg"),
        "apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nspec:\n  etcdEndpoints: https://192.0.2.10:2379\n",
    )
    .unwrap();
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
        "calicoctl.cfg\nhosts.yaml\nout/a/calico-node.env\nout/a/calico-node.service\nout/b/calico-node.env\nout/b/calico-node.service\n"
    );
}

/// The files a document shows as ```` ```LANG file=NAME ```` blocks.
fn shown_files(text: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for (i, block) in text.split("```").enumerate() {
        // Odd pieces are inside fences: an info line, then the body.
        if i % 2 == 0 {
            continue;
        }
        let (info, body) = block.split_once('\n').unwrap_or((block, ""));
        if let Some(name) = info
            .split_whitespace()
            .find_map(|w| w.strip_prefix("file="))
        {
            found.push((name.to_string(), body.to_string()));
        }
    }
    found
}

/// Every session a document shows (a fenced block whose first line starts
/// with `$ `): its commands and the output shown under them.
fn sessions(text: &str) -> Vec<(Vec<String>, String)> {
    let mut found = Vec::new();
    for (i, block) in text.split("```").enumerate() {
        let body = block.split_once('\n').map_or("", |(_, b)| b);
        if i % 2 == 0 || !body.starts_with("$ ") {
            continue;
        }
        let mut commands = Vec::new();
        let mut output = String::new();
        for line in body.lines() {
            match line.strip_prefix("$ ") {
                Some(command) => commands.push(command.to_string()),
                None => {
                    output += line;
                    output += "\n";
                }
            }
        }
        found.push((commands, output));
    }
    found
}

/// docs/config.md: each session, with the files the guide shows, prints
/// what the guide shows.
#[test]
fn the_config_guide_runs_as_written() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/config.md");
    let text = std::fs::read_to_string(path).unwrap();
    let files = shown_files(&text);
    assert_eq!(
        files.len(),
        3,
        "the etcd YAML and JSON, the Kubernetes YAML"
    );
    let all = sessions(&text);
    assert_eq!(all.len(), 2);
    for (commands, shown) in all {
        let dir = tempfile::tempdir().unwrap();
        for (name, body) in &files {
            std::fs::write(dir.path().join(name), body).unwrap();
        }
        assert_eq!(run_session(dir.path(), &commands), shown, "{commands:?}");
    }
    // The JSON form means what the YAML form means.
    let dir = tempfile::tempdir().unwrap();
    for (name, body) in &files {
        std::fs::write(dir.path().join(name), body).unwrap();
    }
    let env_of = |cfg: &str| {
        run_session(
            dir.path(),
            &[format!("calicoctl node run -o env --name node1 -c {cfg}")],
        )
    };
    assert_eq!(env_of("etcd.json"), env_of("etcd.cfg"));
}

/// Every session of README and docs/ runs as written, in a new directory
/// holding the files its document shows (```` file=NAME ```` blocks), and
/// prints what the document shows (stdout and stderr, in order). A
/// session that needs what a test cannot have (a cluster, hosts to roll out
/// to, a running container, this machine's interfaces) is marked just
/// above it with `<!-- session not run: the reason -->`.
#[test]
fn every_session_in_the_documents_runs_as_written() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut docs = vec![root.join("README.md")];
    docs.extend(
        documents()
            .into_iter()
            .filter(|d| d.starts_with(root.join("docs"))),
    );
    let (mut ran, mut marked) = (0, 0);
    for doc in docs {
        let text = std::fs::read_to_string(&doc).unwrap();
        let files = shown_files(&text);
        let pieces: Vec<&str> = text.split("```").collect();
        for i in (1..pieces.len()).step_by(2) {
            let body = pieces[i].split_once('\n').map_or("", |(_, b)| b);
            if !body.starts_with("$ ") {
                continue;
            }
            let before = pieces[i - 1].trim_end();
            if let Some(reason) = before
                .lines()
                .last()
                .and_then(|l| l.strip_prefix("<!-- session not run: "))
            {
                assert!(reason.len() > 10, "{}: a reason", doc.display());
                marked += 1;
                continue;
            }
            let (commands, shown) = sessions(&format!("```{}```", pieces[i])).pop().unwrap();
            let needs: Vec<&str> = commands
                .iter()
                .filter_map(|c| c.split_whitespace().next())
                .filter(|p| *p != "calicoctl")
                .collect();
            if needs.iter().any(|p| support::require_program(p).is_none()) {
                continue;
            }
            let dir = tempfile::tempdir().unwrap();
            for (name, body) in &files {
                let path = dir.path().join(name);
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(path, body).unwrap();
            }
            let got = run_session(dir.path(), &commands);
            let (shown_lines, got_lines): (Vec<&str>, Vec<&str>) =
                (shown.lines().collect(), got.lines().collect());
            assert!(
                shown_as(&shown_lines, &got_lines),
                "{}: {commands:?}\n--- shown\n{shown}--- printed\n{got}",
                doc.display()
            );
            ran += 1;
        }
    }
    assert!(
        ran >= 8 && marked <= 8,
        "{ran} sessions ran, {marked} marked not run"
    );
}

/// Whether `got` is what a document `shown`: line for line, where a line
/// `...` stands for any number of lines left out.
fn shown_as(shown: &[&str], got: &[&str]) -> bool {
    match shown.split_first() {
        None => got.is_empty(),
        Some((&"...", rest)) => (0..=got.len()).any(|skip| shown_as(rest, &got[skip..])),
        Some((line, rest)) => got.first() == Some(line) && shown_as(rest, &got[1..]),
    }
}

#[test]
fn elided_lines_match_any_run() {
    assert!(shown_as(&["a", "...", "d"], &["a", "b", "c", "d"]));
    assert!(shown_as(&["a", "..."], &["a"]));
    assert!(!shown_as(&["a", "...", "d"], &["a", "b"]));
    assert!(!shown_as(&["a"], &["a", "b"]));
}
