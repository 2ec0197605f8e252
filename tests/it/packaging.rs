//! Packaging conventions, checked by the programs that consume them: the
//! completion scripts by real bash, zsh and fish, the man pages by man and
//! groff. What is ours to fix in their text is pinned in
//! `golden/packaging/`; here the consumers have the last word.

use crate::support;

use std::path::Path;
use std::process::Command;

fn completion_script(shell: &str, dir: &Path) -> std::path::PathBuf {
    let out = support::calicoctl(&["completion", shell]).output().unwrap();
    let text = support::stdout_of(&out);
    let path = dir.join(format!("calicoctl.{shell}"));
    std::fs::write(&path, text).unwrap();
    path
}

/// What bash offers for `words` (the last one being completed), asking the
/// function the script registered for `calicoctl`, as bash itself would.
fn bash_completions(script: &Path, words: &[&str]) -> Vec<String> {
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let program = format!(
        r#"source "$1"
spec=$(complete -p calicoctl) || exit 3
fn=${{spec##*-F }}; fn=${{fn%% *}}
COMP_WORDS=({words}); COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))
COMP_LINE="${{COMP_WORDS[*]}}"; COMP_POINT=${{#COMP_LINE}}
"$fn" calicoctl "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"
printf '%s\n' "${{COMPREPLY[@]}}""#,
        words = quoted.join(" ")
    );
    let out = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &program, "bash"])
        .arg(script)
        .output()
        .unwrap();
    support::assert_success_in(&out, "bash");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn bash_completes_options_subcommands_and_values() {
    if support::require_program("bash").is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let script = completion_script("bash", dir.path());
    let offered = bash_completions(&script, &["calicoctl", "node", "run", "--no-def"]);
    assert_eq!(offered, vec!["--no-default-ippools"]);

    let top = bash_completions(&script, &["calicoctl", ""]);
    for word in ["node", "version", "completion", "man", "--version"] {
        assert!(top.contains(&word.to_string()), "{word} not in {top:?}");
    }
    let node = bash_completions(&script, &["calicoctl", "node", ""]);
    for word in ["run", "detect-ip", "fleet"] {
        assert!(node.contains(&word.to_string()), "{word} not in {node:?}");
    }
    // Options this project adds, and their values.
    let run = bash_completions(&script, &["calicoctl", "node", "run", "--"]);
    for word in [
        "--output",
        "--out-dir",
        "--runtime",
        "--pin-ip",
        "--felix-config",
    ] {
        assert!(run.contains(&word.to_string()), "{word} not in {run:?}");
    }
    let formats = bash_completions(&script, &["calicoctl", "node", "run", "-o", ""]);
    for word in ["systemd", "systemd-envfile", "compose", "script"] {
        assert!(
            formats.contains(&word.to_string()),
            "{word} not in {formats:?}"
        );
    }
    let shells = bash_completions(&script, &["calicoctl", "completion", ""]);
    for word in ["bash", "zsh", "fish"] {
        assert!(
            shells.contains(&word.to_string()),
            "{word} not in {shells:?}"
        );
    }
}

#[test]
fn zsh_accepts_its_script() {
    if support::require_program("zsh").is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let script = completion_script("zsh", dir.path());
    let out = Command::new("zsh").arg("-n").arg(&script).output().unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "zsh -n: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&script).unwrap();
    assert!(
        text.starts_with("#compdef calicoctl"),
        "not a zsh completion file"
    );
    assert!(text.contains("--no-default-ippools"));
}

#[test]
fn fish_accepts_and_completes_with_its_script() {
    if support::require_program("fish").is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let script = completion_script("fish", dir.path());
    let out = Command::new("fish")
        .arg("-n")
        .arg(&script)
        .output()
        .unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "fish -n: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Real fish, asked what follows `calicoctl node run --no-def`.
    let out = Command::new("fish")
        .env("HOME", dir.path())
        .args(["--no-config", "-c"])
        .arg(format!(
            "source {}; complete -C 'calicoctl node run --no-def'",
            script.display()
        ))
        .output()
        .unwrap();
    let offered = String::from_utf8_lossy(&out.stdout);
    assert!(
        offered
            .lines()
            .any(|l| l.starts_with("--no-default-ippools")),
        "fish offered: {offered:?} ({})",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The long options an `Options:` section of a help text names, read by
/// this test from the text itself (not from the generator under test).
fn options_in_help(help: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut in_options = false;
    for line in help.lines() {
        if line == "Options:" {
            in_options = true;
            continue;
        }
        if in_options && !line.is_empty() && !line.starts_with(' ') {
            break;
        }
        let head = line.get(..27).unwrap_or(line).trim_start();
        if in_options && head.starts_with('-') {
            for word in head.split_whitespace() {
                if let Some(long) = word.strip_prefix("--") {
                    let name = long.split(['=', '<']).next().unwrap();
                    names.push(format!("--{name}"));
                }
            }
        }
    }
    names
}

/// Terminal text without overstrike (`X\bX` bold, `_\bX` underline) and
/// with hyphens from the hyphenation character.
fn plain(text: &str) -> String {
    let mut out: Vec<char> = Vec::new();
    for c in text.chars() {
        if c == '\u{8}' {
            out.pop();
            continue;
        }
        out.push(if c == '\u{2010}' { '-' } else { c });
    }
    out.into_iter().collect()
}

#[test]
fn man_pages_render_without_warnings_and_name_every_option() {
    let (Some(_), Some(_)) = (
        support::require_program("man"),
        support::require_program("groff"),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = support::calicoctl(&["man", "--out-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    support::assert_success(&out);
    let templates = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    let help = |name: &str| std::fs::read_to_string(templates.join(name)).unwrap();
    let pages = [
        ("calicoctl.1", help("calicoctl-help.txt")),
        ("calicoctl-node.1", String::new()),
        ("calicoctl-node-run.1", help("node-run-help.txt")),
        ("calicoctl-node-detect-ip.1", help("detect-ip-help.txt")),
        ("calicoctl-node-fleet.1", help("fleet-help.txt")),
        ("calicoctl-node-import.1", help("import-help.txt")),
        (
            "calicoctl-node-fleet-import.1",
            help("fleet-import-help.txt"),
        ),
        ("calicoctl-version.1", help("version-help.txt")),
        ("calicoctl-completion.1", help("completion-help.txt")),
        ("calicoctl-man.1", help("man-help.txt")),
    ];
    let mut written: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    written.sort();
    let mut expected: Vec<String> = pages.iter().map(|(p, _)| p.to_string()).collect();
    expected.sort();
    assert_eq!(written, expected);

    for (page, help_text) in &pages {
        let path = dir.path().join(page);
        let groff = Command::new("groff")
            .args(["-man", "-ww", "-z"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            groff.status.success() && groff.stderr.is_empty(),
            "{page}: groff warns: {}",
            String::from_utf8_lossy(&groff.stderr)
        );
        let man = Command::new("man")
            .arg("-l")
            .arg(&path)
            .env("MANWIDTH", "200")
            .env("MAN_KEEP_FORMATTING", "0")
            .env("MANPAGER", "cat")
            .output()
            .unwrap();
        support::assert_success_in(&man, format_args!("{page}: man -l"));
        let text = plain(&String::from_utf8_lossy(&man.stdout));
        assert!(
            text.contains("NAME") && text.contains("SYNOPSIS"),
            "{page}:\n{text}"
        );
        for option in options_in_help(help_text) {
            assert!(
                text.contains(&option),
                "{page} does not name {option}:\n{text}"
            );
        }
    }
    // Defaults are shown with their options.
    let run = std::fs::read_to_string(dir.path().join("calicoctl-node-run.1")).unwrap();
    for default in [
        "[default: first\\-found]",
        "[default: /var/log/calico]",
        "[default: quay.io/calico/node:latest]",
        "[default: /etc/calico/calicoctl.cfg]",
        "[default: docker]",
    ] {
        assert!(run.contains(default), "node run page lacks {default}");
    }
}
