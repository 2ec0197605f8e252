//! Fuzzing with input an attacker wrote: deep nesting for every reader
//! (native inventory, Ansible YAML and `ansible-inventory` JSON, the
//! config file, a template) in flow and block style, with anchors and
//! aliases, up to a million levels; host ranges of every shape; and hostile
//! out-dir trees (links to files and directories outside, fifos,
//! directories where files go) under `--check` and writes. Each input must
//! end in a clean exit, a refusal of one line per error and never a signal;
//! a secret outside the out dir is never printed and never changed.
//! Timing is not asserted here (see `bench/deep.sh` for the time bound).

use crate::support;

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Output;

/// A small seeded generator (xorshift): the same cases every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

const DEPTHS: [usize; 6] = [3, 64, 65, 1_000, 100_000, 1_000_000];

/// A value nested `depth` deep, in one of several styles.
fn nested(depth: usize, style: u64) -> String {
    match style {
        0 => format!("{}1{}", "[".repeat(depth), "]".repeat(depth)),
        1 => format!("{}1{}", "{\"k\": ".repeat(depth), "}".repeat(depth)),
        // Unclosed: the parser must not be the one to find out.
        2 => "[".repeat(depth),
        // Anchored and aliased on the way down.
        3 => {
            let mut s = String::new();
            for i in 0..depth {
                s += &format!("&a{i} [*a{} , ", i.saturating_sub(1));
            }
            s
        }
        // Block style, compact sequences.
        _ => format!("\n{}x", "- ".repeat(depth)),
    }
}

/// A template nested `depth` deep: lists, dicts, unclosed, parentheses,
/// or `if` blocks.
fn nested_template(depth: usize, style: u64) -> String {
    match style {
        0 => format!("{{{{ {}1{} }}}}", "[".repeat(depth), "]".repeat(depth)),
        // Spaced: `}}` would end the expression.
        1 => format!(
            "{{{{ {}1{} }}}}",
            "{\"k\": ".repeat(depth),
            "} ".repeat(depth)
        ),
        2 => format!("{{{{ {}", "[".repeat(depth)),
        3 => format!("{{{{ {}1{} }}}}", "(".repeat(depth), ")".repeat(depth)),
        _ => format!(
            "{}x{}",
            "{% if true %}".repeat(depth),
            "{% endif %}".repeat(depth)
        ),
    }
}

fn block_mapping(depth: usize) -> String {
    // Indented block nesting grows as depth squared: bounded here.
    let depth = depth.min(2_000);
    (0..depth)
        .map(|d| format!("{}k{d}:\n", " ".repeat(d + 4)))
        .collect()
}

fn assert_clean(out: &Output, what: &str) {
    assert_eq!(
        out.status.signal(),
        None,
        "{what}: {}",
        support::describe(out)
    );
    let code = out.status.code().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{what}: {stderr}");
    if code != 0 {
        assert_eq!(code, 1, "{what}: {}", support::describe(out));
        assert!(stderr.lines().all(|l| !l.is_empty()), "{what}: {stderr}");
    }
}

fn refused_as_deep(out: &Output, what: &str) {
    assert_clean(out, what);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{what}: {stderr}");
    assert!(
        // The largest are over the input cap before they are measured.
        stderr.contains("nested deeper than 64 levels")
            || stderr.contains("recursion limit")
            || stderr.contains("an input file may hold (not read)"),
        "{what}: {stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{what}: {stderr}");
}

/// The inputs of each reader holding `value`, and the command reading it.
fn readers(dir: &Path, value: &str, block: &str, template: String) -> Vec<(&'static str, Output)> {
    let write = |name: &str, text: String| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    let native = write(
        "native.yaml",
        format!("hosts:\n  a:\n    x: {value}\n{block}"),
    );
    let ansible = write(
        "ansible.yaml",
        format!("all:\n  hosts:\n    a:\n      calico_x: {value}\n{block}"),
    );
    let json = write(
        "list.json",
        format!("{{\"_meta\": {{\"hostvars\": {{\"a\": {{\"calico_x\": {value}}}}}}}}}"),
    );
    let config = write(
        "calicoctl.cfg",
        format!(
            "apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nspec:\n  x: {value}\n{block}"
        ),
    );
    let template = write("t.j2", template);
    let fleet = |path: &str| {
        support::calicoctl(&["node", "fleet", "--inventory", path, "-o", "systemd"])
            .env("PATH", "/nonexistent")
            .output()
            .unwrap()
    };
    vec![
        ("native inventory", fleet(&native)),
        ("Ansible YAML", fleet(&ansible)),
        ("ansible-inventory JSON", fleet(&json)),
        (
            "config file",
            support::calicoctl(&["node", "run", "--dryrun", "--config", &config])
                .output()
                .unwrap(),
        ),
        (
            "template",
            support::calicoctl(&["node", "run", "--template", &template])
                .output()
                .unwrap(),
        ),
    ]
}

#[test]
fn deep_input_to_every_reader_is_refused_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(0x5eed_cafe);
    let mut refused = 0;
    for &depth in &DEPTHS {
        for style in 0..5 {
            let value = nested(depth, style);
            let block = if rng.below(2) == 0 {
                block_mapping(depth)
            } else {
                String::new()
            };
            let template = nested_template(depth, style);
            for (what, out) in readers(dir.path(), &value, &block, template) {
                let what = format!("{what}, depth {depth}, style {style}");
                // Templates are refused by minijinja's parser past its own
                // limit (150 levels of parse recursion); YAML's block
                // style is not nesting inside JSON's braces.
                let past = if what.starts_with("template") {
                    depth >= 1_000
                } else if what.starts_with("ansible-inventory JSON") {
                    depth > 64 && style != 4
                } else {
                    depth > 64
                };
                if past {
                    refused_as_deep(&out, &what);
                    refused += 1;
                } else {
                    assert_clean(&out, &what);
                }
            }
        }
    }
    // Every case past the limit was refused: 4 depths and 5 styles for the
    // three YAML readers, 4 styles for JSON; 3 depths and 5 styles of a
    // template.
    assert_eq!(refused, 4 * 5 * 3 + 4 * 4 + 3 * 5);
}

/// A random host pattern: up to three ranges of numbers or letters,
/// padded or not, stepped or not, some malformed, some explosive (small
/// otherwise, so that what is accepted renders quickly; the range module's
/// own fuzzer covers the sizes between).
fn pattern(rng: &mut Rng) -> String {
    let mut s = format!("h{}", rng.below(10));
    for _ in 0..=rng.below(3) {
        let range = match rng.below(7) {
            0 => format!("[{}:{}]", rng.below(10), rng.below(1_000_000_000_000)),
            1 => format!("[0{}:{:02}]", rng.below(9), rng.below(20)),
            2 => format!(
                "[{}:{}]",
                rng.pick(&["a", "c", "x"]),
                rng.pick(&["b", "d", "z"])
            ),
            3 => format!("[{}:{}:{}]", rng.below(5), rng.below(40), rng.below(7)),
            4 => format!("[:{}]", rng.below(15)),
            5 => rng
                .pick(&[
                    "[1:",
                    "[x:9]",
                    "[1]",
                    "[::]",
                    "[9:1]",
                    "[0:18446744073709551615]",
                ])
                .to_string(),
            _ => format!("[0:{}]", rng.below(12)),
        };
        s += &range;
        s += *rng.pick(&["", "-", ".x"]);
    }
    s
}

#[test]
fn host_ranges_of_every_shape_are_bounded_before_they_expand() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(0xabad_1dea);
    let (mut made, mut refused) = (0, 0);
    for case in 0..150 {
        let patterns: Vec<String> = (0..=rng.below(3)).map(|_| pattern(&mut rng)).collect();
        let hosts: String = patterns.iter().map(|p| format!("    {p}:\n")).collect();
        let path = dir.path().join("inv.yaml");
        std::fs::write(&path, format!("all:\n  hosts:\n{hosts}")).unwrap();
        let out = support::calicoctl(&[
            "node",
            "fleet",
            "--inventory",
            path.to_str().unwrap(),
            "-o",
            "env",
        ])
        .env("PATH", "/nonexistent")
        .output()
        .unwrap();
        let what = format!("case {case}: {patterns:?}");
        assert_clean(&out, &what);
        if out.status.success() {
            made += 1;
        } else {
            refused += 1;
        }
    }
    // Both sides are reached (the seed is fixed: 150 cases).
    assert!(made > 10 && refused > 10, "made {made}, refused {refused}");
}

/// What may sit where a file or a host's directory goes.
#[derive(Clone, Copy, Debug)]
enum Plant {
    Nothing,
    File,
    LinkToSecret,
    LinkToOutside,
    Fifo,
    Directory,
}

const PLANTS: [Plant; 6] = [
    Plant::Nothing,
    Plant::File,
    Plant::LinkToSecret,
    Plant::LinkToOutside,
    Plant::Fifo,
    Plant::Directory,
];

fn plant(path: &Path, what: Plant, outside: &Path) {
    match what {
        Plant::Nothing => {}
        Plant::File => std::fs::write(path, "old content\n").unwrap(),
        Plant::LinkToSecret => std::os::unix::fs::symlink(outside.join("secret"), path).unwrap(),
        Plant::LinkToOutside => std::os::unix::fs::symlink(outside, path).unwrap(),
        Plant::Fifo => {
            let made = std::process::Command::new("mkfifo")
                .arg(path)
                .status()
                .unwrap();
            assert!(made.success());
        }
        Plant::Directory => std::fs::create_dir(path).unwrap(),
    }
}

const SECRET: &str = "SECRET-a1b2c3-never-shown\n";

fn outside_unchanged(outside: &Path, what: &str) {
    let names: Vec<_> = std::fs::read_dir(outside)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, ["secret"], "{what}: something was written outside");
    assert_eq!(
        std::fs::read_to_string(outside.join("secret")).unwrap(),
        SECRET,
        "{what}"
    );
}

#[test]
fn hostile_out_dirs_are_never_read_or_written_through() {
    let mut rng = Rng(0x0dd_f00d);
    for case in 0..60 {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), SECRET).unwrap();
        std::fs::write(dir.path().join("inv.yaml"), "hosts:\n  a: {}\n  b: {}\n").unwrap();
        let out_dir = dir.path().join("out");
        std::fs::create_dir(&out_dir).unwrap();
        let mut plan = Vec::new();
        for host in ["a", "b"] {
            let host_plant = *rng.pick(&PLANTS);
            plant(&out_dir.join(host), host_plant, outside.path());
            let file_plant = *rng.pick(&PLANTS);
            if matches!(host_plant, Plant::Directory) {
                plant(
                    &out_dir.join(host).join("calico-node.service"),
                    file_plant,
                    outside.path(),
                );
            }
            plan.push((host, host_plant, file_plant));
        }
        let lock = *rng.pick(&[
            Plant::Nothing,
            Plant::File,
            Plant::LinkToSecret,
            Plant::Fifo,
        ]);
        if !matches!(lock, Plant::File) {
            plant(&out_dir.join(".calicoctl.lock"), lock, outside.path());
        }
        let what = format!("case {case}: {plan:?}, lock {lock:?}");
        for check in [true, false] {
            let mut args = vec![
                "node",
                "fleet",
                "--inventory",
                "inv.yaml",
                "-o",
                "systemd",
                "--out-dir",
                "out",
            ];
            if check {
                args.push("--check");
            }
            let out = support::calicoctl(&args)
                .current_dir(dir.path())
                .output()
                .unwrap();
            let what = format!("{what}, check {check}");
            assert_eq!(out.status.signal(), None, "{what}");
            let shown = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(!shown.contains("SECRET"), "{what}: {shown}");
            assert!(!shown.contains("panicked"), "{what}: {shown}");
            assert!(
                matches!(out.status.code(), Some(0..=2)),
                "{what}: {}",
                support::describe(&out)
            );
            outside_unchanged(outside.path(), &what);
        }
    }
}

/// The largest resident size of any child this process has waited for.
/// Run `cmd` (its output discarded) and give its exit code and the largest
/// resident size of it and every descendant it waited for (`wait4` on this
/// child alone: other tests' children do not count).
// The child is reaped by wait4 below, which clippy does not know of.
#[allow(clippy::zombie_processes)]
fn run_measured(mut cmd: std::process::Command) -> (Option<i32>, u64) {
    use std::process::Stdio;
    let child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = i32::try_from(child.id()).unwrap();
    let mut status = 0;
    // SAFETY: wait4 reaps our own child and writes the two values given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { libc::wait4(pid, &mut status, 0, &mut usage) }, pid);
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    (code, u64::try_from(usage.ru_maxrss).unwrap() * 1024)
}

/// A host range of 10^12 names in an INI file (which only Ansible reads):
/// ansible-inventory runs under its memory limit and fails in one line;
/// it never grows past the limit (today's bound: 2 GiB).
#[test]
fn ansible_is_bounded_in_memory_on_a_range_bomb() {
    if support::require_program("ansible-inventory").is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("hosts");
    std::fs::write(&inv, "[a]\nr[0:999999]-[0:999999]\n").unwrap();
    let args = ["node", "fleet", "--inventory", inv.to_str().unwrap()];
    let out = support::calicoctl(&args).output().unwrap();
    assert_clean(&out, "range bomb through Ansible");
    assert_eq!(out.status.code(), Some(1), "{}", support::describe(&out));
    let (code, rss) = run_measured(support::calicoctl(&args));
    assert_eq!(code, Some(1));
    assert!(rss < (2 << 30) + (256 << 20), "a child grew to {rss} bytes");
}

/// An inventory the user lets run code is still bounded in time: past the
/// timeout its whole process group is killed (a child it left in the
/// background never gets to make its marker) and the run fails in one line.
#[test]
fn allowed_inventory_code_is_bounded_in_time() {
    if support::require_program("ansible-inventory").is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let marker = d.join("LATE-MARKER");
    let script = d.join("slow.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\n(sleep 4; touch {}) &\nsleep 600\n",
            marker.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let args = ["node", "fleet", "--allow-inventory-code", "--inventory"];
    let out = support::calicoctl(&[&args[..], &[script.to_str().unwrap()]].concat())
        .env("CALICOCTL_ANSIBLE_TIMEOUT_MS", "1500")
        .output()
        .unwrap();
    assert_clean(&out, "slow inventory script");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("ran longer than 1.5 s and was stopped"),
        "{stderr}"
    );
    std::thread::sleep(std::time::Duration::from_secs(5));
    assert!(
        !marker.exists(),
        "a process of the inventory outlived the run"
    );
}

/// A value that would make a generated file larger than `--check` reads
/// back (here 9 MB, which the plan's JSON holds three times) is refused
/// naming its option; nothing is written, so what is written always
/// checks clean.
#[test]
fn a_file_too_large_to_check_is_refused_naming_the_option() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let inv = d.join("hosts.yaml");
    let value = "v".repeat(9_000_000);
    std::fs::write(
        &inv,
        format!("hosts:\n  h1: {{env: {{BIG_VALUE: {value}}}}}\n"),
    )
    .unwrap();
    let out_dir = d.join("out");
    let out = support::calicoctl(&[
        "node",
        "fleet",
        "-o",
        "json",
        "--inventory",
        inv.to_str().unwrap(),
        "--out-dir",
        out_dir.to_str().unwrap(),
    ])
    .output()
    .unwrap();
    assert_clean(&out, "a 9 MB value into -o json");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("h1: Error executing command: --env BIG_VALUE makes calico-node.json "),
        "{stderr}"
    );
    assert!(!out_dir.exists(), "nothing is written");
}

/// A planted unit of 16 MiB of newlines (just under the read cap) is
/// compared in linear time: the report gives both sizes instead of a diff
/// that would cost the product of the sides' lines.
#[test]
fn check_on_a_huge_planted_file_says_the_sizes() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    let out_s = out_dir.to_str().unwrap();
    let run = |check: bool| {
        let mut args = vec!["node", "run", "-o", "systemd", "--out-dir", out_s];
        if check {
            args.push("--check");
        }
        support::calicoctl(&args).output().unwrap()
    };
    support::assert_success(&run(false));
    let planted = "\n".repeat((16 << 20) - 1);
    std::fs::write(out_dir.join("calico-node.service"), &planted).unwrap();
    let out = run(true);
    assert_eq!(out.status.code(), Some(2), "{}", support::describe(&out));
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        report.contains(&format!(
            "(content differs ({} bytes on disk, ",
            planted.len()
        )) && report.contains("too large to show a diff)"),
        "{report}"
    );
    assert!(report.lines().count() < 10, "{report}");
}

/// Templates of costly shapes (nested loops, a doubling macro, string
/// repetition, a long join, deep recursion), each at growing sizes: every
/// one ends by exit 0 or a one-line refusal (its budget, its output cap),
/// never a signal or a run until killed.
#[test]
fn costly_templates_end_within_their_budget() {
    let dir = tempfile::tempdir().unwrap();
    let shapes = |n: u64| {
        vec![
            format!(
                "{{% for i in range({n}) %}}{{% for j in range({n}) %}}x{{% endfor %}}{{% endfor %}}"
            ),
            format!(
                "{{% macro d(s, k) %}}{{% if k > 0 %}}{{{{ d(s ~ s, k - 1) }}}}{{% else %}}{{{{ s|length }}}}{{% endif %}}{{% endmacro %}}{{{{ d('ab', {}) }}}}",
                n.min(200)
            ),
            format!("{{{{ 'xy' * {n} }}}}"),
            format!("{{{{ range({n})|join(',') }}}}"),
            format!(
                "{{% macro r(k) %}}{{% if k > 0 %}}{{{{ r(k - 1) }}}}{{% endif %}}{{% endmacro %}}{{{{ r({}) }}}}",
                n.min(100_000)
            ),
        ]
    };
    for n in [10u64, 1_000, 100_000, 10_000_000] {
        for (i, shape) in shapes(n).into_iter().enumerate() {
            let path = dir.path().join(format!("t{i}-{n}.j2"));
            std::fs::write(&path, &shape).unwrap();
            let out = support::calicoctl(&["node", "run", "--template", path.to_str().unwrap()])
                .output()
                .unwrap();
            assert_clean(&out, &format!("template shape {i} at {n}"));
        }
    }
}

/// `node import --command -` reads at most 16 MiB of stdin, then refuses
/// in one line (no partial read taken for the whole); a unit that large is
/// refused by the input rules.
#[test]
fn node_import_input_is_bounded() {
    use std::io::Write;
    let line = "docker run --name=calico-node calico/node:v3.2.3 ";
    let mut big = String::with_capacity(17 << 20);
    while big.len() <= 16 << 20 {
        big.push_str(line);
    }
    let mut child = support::calicoctl(&["node", "import", "--command", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // The reader stops at the cap: a write past it may find the pipe gone.
    let _ = stdin.write_all(big.as_bytes());
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", support::describe(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "Error executing command: stdin is larger than 16 MiB\n"
    );
    assert!(out.stdout.is_empty());

    let dir = tempfile::tempdir().unwrap();
    let unit = dir.path().join("calico-node.service");
    std::fs::write(&unit, format!("[Service]\nExecStart={big}\n")).unwrap();
    let out = support::calicoctl(&["node", "import", "--unit", unit.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", support::describe(&out));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.starts_with("Error executing command: cannot read "),
        "{said}"
    );
    assert_eq!(said.lines().count(), 1, "{said}");
}
