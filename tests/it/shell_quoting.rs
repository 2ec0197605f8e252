//! The printed command, read back by real shells (`dash` and `bash`), gives
//! back every word exactly, whatever the value holds.

use crate::support;

const HOSTILE: &[&str] = &[
    "node 1",
    "it's",
    "say \"hi\"",
    "$(touch pwned)",
    "`touch pwned`",
    "a;b&&c||d|e",
    "100%",
    "$HOME",
    "back\\slash",
    "tab\there",
    "nœud-ü-节点",
    "*?[a-z]",
    "~root",
    "#comment",
    "-x",
];

/// The words a shell reads from `line`, printed NUL-separated by printf.
fn words_read_by(shell: &str, line: &str) -> Vec<String> {
    let out = std::process::Command::new(shell)
        .arg("-c")
        .arg(format!("printf '%s\\0' {line}"))
        .env_clear()
        .env("HOME", "/nonexistent-home")
        .output()
        .unwrap();
    support::assert_success_in(&out, format_args!("{shell} failed on: {line}"));
    String::from_utf8(out.stdout)
        .unwrap()
        .split_terminator('\0')
        .map(str::to_string)
        .collect()
}

fn command_words(name: &str) -> String {
    let flag = format!("--name={name}");
    let out = support::calicoctl(&["node", "run", "--dryrun", &flag])
        .output()
        .unwrap();
    support::dryrun_command(&support::stdout_of(&out))
}

#[test]
fn every_shell_reads_back_every_value() {
    let long = "x y".repeat(3500);
    let values: Vec<&str> = HOSTILE.iter().copied().chain([long.as_str()]).collect();
    for shell in ["dash", "bash"] {
        if support::require_program(shell).is_none() {
            continue;
        }
        for value in &values {
            let line = command_words(value);
            let words = words_read_by(shell, &line);
            assert_eq!(words[0], "docker");
            assert!(
                words.contains(&format!("NODENAME={value}")),
                "{shell} did not read back {value:?} from: {line}"
            );
            assert!(
                !std::path::Path::new("pwned").exists(),
                "a value was executed"
            );
        }
    }
}

/// A line break (a control character) is refused, not quoted: no output
/// of ours carries one as meant.
#[test]
fn a_line_break_is_refused_not_quoted() {
    let out = support::calicoctl(&["node", "run", "--dryrun", "--name=line1\nline2"])
        .output()
        .unwrap();
    support::assert_clean_refusal(&out, "a line break in --name");
}

#[test]
fn identical_input_gives_identical_output() {
    let args = [
        "node",
        "run",
        "--dryrun",
        "--as=1.10",
        "--ip=10.0.0.5",
        "--no-default-ippools",
        "--use-docker-networking-container-labels",
        "--ip6-autodetection-method=interface=eth0",
    ];
    let first = support::calicoctl(&args).output().unwrap();
    for _ in 0..5 {
        let again = support::calicoctl(&args).output().unwrap();
        assert_eq!(first.stdout, again.stdout);
        assert_eq!(first.stderr, again.stderr);
    }
}
