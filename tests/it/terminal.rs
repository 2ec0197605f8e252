//! What a terminal shows and a pipe does not: `node fleet`'s progress line
//! under a pseudo-terminal (`script` from util-linux) and nothing of it
//! through a pipe; `--check`'s colour on a terminal, with `--color always`,
//! and never with `NO_COLOR=1`, `--color never` or through a pipe. And the
//! native inventory's JSON Schema checked by a real validator
//! (check-jsonschema, from PyPI in a venv that `.ci/run` makes): a valid
//! schema, which every golden native inventory `node fleet` accepts
//! passes, and each one it refuses for an unknown key or a wrong type
//! fails.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_calicoctl");

fn big_inventory(dir: &Path, hosts: usize, as_number: u32) -> PathBuf {
    // A datastore configured, so the screen holds only what is tested.
    let cfg = dir.join("calicoctl.cfg");
    std::fs::write(
        &cfg,
        "apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nspec:\n  etcdEndpoints: http://192.0.2.10:2379\n",
    )
    .unwrap();
    let mut text = format!("defaults: {{config: {}}}\nhosts:\n", cfg.display());
    for i in 0..hosts {
        text += &format!("  h{i}: {{as: {as_number}}}\n");
    }
    let path = dir.join("inventory.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Run `words` (with `env`) under a pseudo-terminal: what the terminal
/// showed (stdout and stderr together), and the exit status `script` gives.
fn on_terminal(words: &[&str], env: &[(&str, &str)]) -> Option<(String, i32)> {
    let script = support::require_program("script")?;
    let quoted: Vec<String> = std::iter::once(BIN)
        .chain(words.iter().copied())
        .map(|w| format!("'{}'", w.replace('\'', "'\\''")))
        .collect();
    let mut cmd = Command::new(script);
    cmd.args(["-qec", &quoted.join(" "), "/dev/null"])
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("TERM", "xterm")
        .env("CALICOCTL_DEFAULT_CONFIG", "/nonexistent/calicoctl.cfg");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    Some((
        String::from_utf8_lossy(&out.stdout).into_owned(),
        out.status.code().unwrap_or(-1),
    ))
}

#[test]
fn progress_shows_on_a_terminal_and_never_in_a_pipe() {
    let dir = tempfile::tempdir().unwrap();
    let inv = big_inventory(dir.path(), 2000, 64512);
    let out = dir.path().join("out");
    let words = [
        "node",
        "fleet",
        "--inventory",
        inv.to_str().unwrap(),
        "--out-dir",
        out.to_str().unwrap(),
    ];
    let Some((shown, status)) = on_terminal(&words, &[]) else {
        return;
    };
    assert_eq!(status, 0, "{shown}");
    assert!(
        shown.contains("/2000 hosts, "),
        "the rendering phase: {shown:?}"
    );
    assert!(shown.contains("/4000 files, "), "the write phase");
    assert!(shown.contains(" left"));
    let summary = format!(
        "2000 hosts: 4000 files written, 0 unchanged, in {}.\r\n",
        out.display()
    );
    assert!(
        shown.ends_with(&format!("\r\x1b[2K{summary}")),
        "cleared, then the summary unchanged: {:?}",
        &shown[shown.len().saturating_sub(200)..]
    );

    // Through a pipe: the summary alone, byte for byte.
    std::fs::remove_dir_all(&out).unwrap();
    let piped = support::calicoctl(&words).output().unwrap();
    support::assert_success(&piped);
    assert_eq!(
        String::from_utf8_lossy(&piped.stderr),
        summary.replace("\r\n", "\n")
    );
    assert!(piped.stdout.is_empty());
}

#[test]
fn check_colours_a_terminal_unless_told_not_to() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let inv = big_inventory(dir.path(), 2, 64512);
    let fleet = |extra: &[&str]| {
        // Compose files hold no secret: their diffs are shown.
        let mut w = vec![
            "node",
            "fleet",
            "-o",
            "compose",
            "--inventory",
            inv.to_str().unwrap(),
        ];
        w.extend_from_slice(&["--out-dir", out.to_str().unwrap()]);
        w.extend_from_slice(extra);
        w.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    let write = fleet(&[]);
    let write: Vec<&str> = write.iter().map(String::as_str).collect();
    assert!(support::calicoctl(&write).status().unwrap().success());
    big_inventory(dir.path(), 2, 64513);
    let red = "\x1b[31m-      - \"AS=64512\"\x1b[0m";
    let green = "\x1b[32m+      - \"AS=64513\"\x1b[0m";
    let as_refs = |v: &Vec<String>| {
        v.iter()
            .map(String::as_str)
            .collect::<Vec<&str>>()
            .join("\0")
    };

    let check = fleet(&["--check"]);
    let words: Vec<&str> = check.iter().map(String::as_str).collect();
    let Some((shown, status)) = on_terminal(&words, &[]) else {
        return;
    };
    assert_eq!(status, 2);
    assert!(shown.contains(red) && shown.contains(green), "{shown:?}");
    assert!(shown.contains("\x1b[1m--- "));

    let (no_color, _) = on_terminal(&words, &[("NO_COLOR", "1")]).unwrap();
    assert!(!no_color.contains('\x1b'), "NO_COLOR: {no_color:?}");
    assert!(no_color.contains("-      - \"AS=64512\"\r\n+      - \"AS=64513\"\r\n"));
    let never = fleet(&["--check", "--color", "never"]);
    let never: Vec<&str> = never.iter().map(String::as_str).collect();
    let (plain, _) = on_terminal(&never, &[]).unwrap();
    assert!(!plain.contains('\x1b'), "--color never: {plain:?}");

    // A pipe: no colour unless asked for with always.
    let piped = support::calicoctl(&words).output().unwrap();
    assert_eq!(piped.status.code(), Some(2));
    assert!(!String::from_utf8_lossy(&piped.stdout).contains('\x1b'));
    let always = fleet(&["--check", "--color=always"]);
    let always_words: Vec<&str> = always.iter().map(String::as_str).collect();
    let forced = support::calicoctl(&always_words)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let forced = String::from_utf8_lossy(&forced.stdout);
    assert!(
        forced.contains(red) && forced.contains(green),
        "{forced:?} ({})",
        as_refs(&always)
    );
}

/// check-jsonschema: on PATH, or in the venv `.ci/run` makes.
fn check_jsonschema() -> Option<PathBuf> {
    let venv = Path::new("/opt/calicoctl-ci/venv/bin/check-jsonschema");
    if venv.is_file() {
        return Some(venv.to_path_buf());
    }
    support::require_program("check-jsonschema")
}

/// The native inventories of the golden cases: (case, YAML text, what
/// node fleet said: status and stderr).
fn golden_native_inventories() -> Vec<(String, String, i64, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("golden/fleet");
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let doc: toml_edit::DocumentMut = std::fs::read_to_string(&path).unwrap().parse().unwrap();
        let text = doc
            .get("files")
            .and_then(|f| f.get("inventory.yaml"))
            .or_else(|| doc.get("stdin"))
            .and_then(|v| v.as_str())
            .map(str::to_string);
        let Some(text) = text else { continue };
        let native = native_yaml_keys(&text).is_some_and(|keys| {
            keys.contains(&"hosts".to_string())
                && keys.iter().all(|k| k == "hosts" || k == "defaults")
        });
        if !native {
            continue;
        }
        let expected = &doc["expected"];
        let status = expected["status"].as_integer().unwrap();
        let stderr = expected["stderr"].as_str().unwrap_or("").to_string();
        found.push((
            path.file_name().unwrap().to_string_lossy().into_owned(),
            text,
            status,
            stderr,
        ));
    }
    found.sort();
    found
}

/// The top-level keys of a YAML mapping, if it is one (read by Python's
/// YAML through the same validator's environment would be circular; a
/// line scan is enough for these files).
fn native_yaml_keys(text: &str) -> Option<Vec<String>> {
    let keys: Vec<String> = text
        .lines()
        .filter(|l| !l.starts_with([' ', '#', '-']) && l.contains(':'))
        .map(|l| l.split(':').next().unwrap().trim().to_string())
        .collect();
    (!keys.is_empty()).then_some(keys)
}

#[test]
fn the_schema_is_valid_and_agrees_with_the_reader() {
    let Some(validator) = check_jsonschema() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let schema = dir.path().join("schema.json");
    let printed = support::calicoctl(&["node", "fleet", "--schema"])
        .output()
        .unwrap();
    support::assert_success(&printed);
    std::fs::write(&schema, &printed.stdout).unwrap();
    let meta = Command::new(&validator)
        .args(["--check-metaschema", schema.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        meta.status.success(),
        "{}",
        String::from_utf8_lossy(&meta.stdout)
    );

    let cases = golden_native_inventories();
    let (mut accepted, mut refused) = (0, 0);
    for (case, text, status, stderr) in &cases {
        let type_refusal = [
            "unknown option",
            "is a flag",
            "takes a value",
            "must be a string, a number",
        ]
        .iter()
        .any(|m| stderr.contains(m));
        if *status != 0 && !type_refusal {
            continue; // refused for what a value means: not the schema's business
        }
        let file = dir.path().join(format!("{case}.yaml"));
        std::fs::write(&file, text).unwrap();
        let result = Command::new(&validator)
            .args([
                "--schemafile",
                schema.to_str().unwrap(),
                file.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        let report = String::from_utf8_lossy(&result.stdout);
        if *status == 0 {
            assert!(
                result.status.success(),
                "{case}: node fleet accepts it, the schema refuses: {report}"
            );
            accepted += 1;
        } else {
            assert!(
                !result.status.success(),
                "{case}: node fleet refuses it ({stderr}), the schema accepts it"
            );
            refused += 1;
        }
    }
    assert!(
        accepted >= 3 && refused >= 1,
        "{accepted} accepted, {refused} refused of {}",
        cases.len()
    );
}

/// Every `--report json` document the golden cases pin, each validated
/// by check-jsonschema against the schema `node fleet --report-schema`
/// prints; and documents the schema must refuse (an unknown key, a
/// secret's value, a status that is not one), refused.
#[test]
fn report_documents_agree_with_their_schema() {
    let Some(validator) = check_jsonschema() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let schema = dir.path().join("report.schema.json");
    let printed = support::calicoctl(&["node", "fleet", "--report-schema"])
        .output()
        .unwrap();
    support::assert_success(&printed);
    std::fs::write(&schema, &printed.stdout).unwrap();
    let validate = |name: &str, text: &str| {
        let file = dir.path().join(format!("{}.json", name.replace('/', "-")));
        std::fs::write(&file, text).unwrap();
        Command::new(&validator)
            .args([
                "--schemafile",
                schema.to_str().unwrap(),
                file.to_str().unwrap(),
            ])
            .output()
            .unwrap()
    };
    let meta = Command::new(&validator)
        .args(["--check-metaschema", schema.to_str().unwrap()])
        .output()
        .unwrap();
    support::assert_success_in(&meta, "the report schema against its metaschema");

    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("golden");
    let mut documents = Vec::new();
    for group in std::fs::read_dir(&root).unwrap() {
        for entry in std::fs::read_dir(group.unwrap().path()).unwrap() {
            let path = entry.unwrap().path();
            let doc: toml_edit::DocumentMut =
                std::fs::read_to_string(&path).unwrap().parse().unwrap();
            let args: Vec<&str> = doc["args"]
                .as_array()
                .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
                .unwrap_or_default();
            if args.windows(2).any(|w| w == ["--report", "json"]) {
                let stdout = doc["expected"]["stdout"].as_str().unwrap().to_string();
                documents.push((path.display().to_string(), stdout));
            }
        }
    }
    assert!(
        documents.len() >= 3,
        "golden --report json cases: {documents:?}"
    );
    for (case, text) in &documents {
        let out = validate(case, text);
        support::assert_success_in(&out, case);
    }

    let live = r#"{"check": "live", "status": "drift", "hosts": [{"name": "a", "status": "drift",
        "differences": [{"kind": "env", "name": "AS", "running": null, "planned": "64512"}]}],
        "summary": {"hosts": 1, "matches": 0, "drift": 1, "unreachable": 0}}"#;
    assert!(validate("live", live).status.success());
    for (name, bad) in [
        (
            "extra-key",
            live.replace(r#""check": "live","#, r#""check": "live", "extra": 1,"#),
        ),
        (
            "secret-value",
            live.replace(
                r#"{"kind": "env", "name": "AS", "running": null, "planned": "64512"}"#,
                r#"{"kind": "secret-differs", "name": "ETCD_PASSWORD", "running": "hunter2"}"#,
            ),
        ),
        (
            "bad-status",
            live.replace(
                r#""status": "drift", "hosts""#,
                r#""status": "fine", "hosts""#,
            ),
        ),
    ] {
        assert_ne!(bad, live, "{name}: the document was not changed");
        let out = validate(name, &bad);
        assert!(!out.status.success(), "{name}: the schema accepts {bad}");
    }
}
