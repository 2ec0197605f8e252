//! Helpers shared by the integration tests: running the binary, finding the
//! real consumer programs, and a stand-in Docker Engine API server.
#![allow(dead_code)]

pub mod dockerd;
pub mod engine;
pub mod podman;
pub mod systemd;
pub mod systemd_host;

use std::path::PathBuf;
use std::process::{Command, Output};

/// The calicoctl binary under test, with a clean environment.
pub fn calicoctl(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_calicoctl"));
    cmd.args(args)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("CALICOCTL_HOSTNAME", "node1")
        .env("CALICOCTL_DEFAULT_CONFIG", "/nonexistent/calicoctl.cfg");
    cmd
}

/// The calicoctl binary under test started by `sh -c SCRIPT`, where the
/// script runs it as `"$@"` (after closing descriptors, trapping a signal),
/// with the same clean environment as [`calicoctl`].
pub fn calicoctl_in_sh<S: AsRef<std::ffi::OsStr>>(script: &str, args: &[S]) -> Command {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(script)
        .arg("sh")
        .arg(env!("CARGO_BIN_EXE_calicoctl"))
        .args(args)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("CALICOCTL_HOSTNAME", "node1")
        .env("CALICOCTL_DEFAULT_CONFIG", "/nonexistent/calicoctl.cfg");
    cmd
}

/// An output's status and both streams, for a failing assertion's message.
pub fn describe(out: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The one success assertion: `output`'s run exited 0, or the test fails
/// showing its status and both streams.
#[track_caller]
pub fn assert_success(output: &Output) {
    assert!(output.status.success(), "{}", describe(output));
}

/// The same, naming what ran (`what`) before its status and streams.
pub fn assert_success_in(output: &Output, what: impl std::fmt::Display) {
    assert!(output.status.success(), "{what}: {}", describe(output));
}

pub fn stdout_of(output: &Output) -> String {
    assert_success(output);
    String::from_utf8(output.stdout.clone()).expect("UTF-8 output")
}

/// The command of a `--dryrun` text: the block between its first two blank lines.
pub fn dryrun_command(text: &str) -> String {
    let start = text.find("\n\n").expect("a blank line after the first") + 2;
    let end = text[start..]
        .find("\n\n")
        .expect("a blank line after the command")
        + start;
    text[start..end].to_string()
}

/// Write a `CalicoAPIConfig` with the given `spec:` lines into `dir`.
pub fn write_config(dir: &std::path::Path, spec_lines: &str) -> PathBuf {
    let path = dir.join("calicoctl.cfg");
    let text =
        format!("apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nspec:\n{spec_lines}");
    std::fs::write(&path, text).unwrap();
    path
}

pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Find a consumer program on PATH. Outside CI a missing program skips the
/// test (returns None, with a printed reason); in CI it fails it, since
/// `.ci/run` installs every one of them.
pub fn require_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        let candidate = dir.join(name);
        if candidate.is_file() {
            return Some(candidate);
        }
    }
    assert!(
        !in_ci(),
        "{name} is not installed, and CI=true requires it (.ci/run installs it)"
    );
    skipped(&format!("{name} is not installed (.ci/run installs it)"));
    None
}

/// Say that (part of) the running test was skipped, and why, where
/// `cargo test` shows it: written to stderr directly, past libtest's
/// capture, so a skipped test does not read as a silent `ok`.
pub fn skipped(why: &str) {
    use std::io::Write;
    let test = std::thread::current()
        .name()
        .unwrap_or("a test")
        .to_string();
    let _ = writeln!(std::io::stderr(), "skipped in {test}: {why}");
}

/// Values that break naive quoting, for the hostile matrices.
pub fn hostile_values() -> Vec<(&'static str, String)> {
    vec![
        ("space", "a b".into()),
        ("single-quote", "it's".into()),
        ("double-quote", "say \"hi\"".into()),
        ("command-substitution", "$(touch pwned)".into()),
        ("backtick", "`touch pwned`".into()),
        ("semicolon", "a;touch pwned".into()),
        ("percent", "100%d".into()),
        ("dollar", "$HOME${PATH}$$".into()),
        ("backslash", "back\\slash\\".into()),
        ("newline", "line1\nline2".into()),
        ("tab", "tab\there".into()),
        ("unicode", "nœud-ü-节点".into()),
        ("empty", String::new()),
        ("10KiB", "x'y\"z$".repeat(10 * 1024 / 6)),
    ]
}

/// Whether calicoctl refused cleanly: status 1, nothing on stdout, one
/// `Error executing command:` line on stderr.
pub fn assert_clean_refusal(output: &Output, what: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{what}: {stderr}");
    assert!(output.stdout.is_empty(), "{what}: refused but wrote stdout");
    assert!(
        stderr.starts_with("Error executing command: ") && stderr.lines().count() == 1,
        "{what}: not a one-line error: {stderr:?}"
    );
}

pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false)
}

/// Root is needed (the run path and launch scripts check for it). Outside
/// CI a non-root run skips with a reason; in CI it fails.
pub fn require_root() -> bool {
    if is_root() {
        return true;
    }
    assert!(!in_ci(), "this test needs root, and CI runs as root");
    skipped("needs root (CI runs as root)");
    false
}

/// The directory of stand-in programs (`docker`, `modprobe`).
pub fn standins() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/standins")
}

/// Where a hostile value goes in, for the hostile-value matrices.
#[derive(Clone, Copy, Debug)]
pub enum Input {
    Name,
    LogDir,
    Image,
    Endpoints,
    CaFile,
    /// `--env HOSTILE_ENV=VALUE`: one of calico/node's own settings.
    Env,
}

impl Input {
    pub const ALL: [Input; 6] = [
        Input::Name,
        Input::LogDir,
        Input::Image,
        Input::Endpoints,
        Input::CaFile,
        Input::Env,
    ];

    /// The calicoctl arguments carrying `value`. A configuration file is
    /// written in `dir`; for `CaFile`, the CA file [`ca_path`] is created
    /// there too, holding `value`, when the file system can name it.
    pub fn args(self, dir: &std::path::Path, value: &str) -> Vec<String> {
        let config = |field: &str, v: &str| {
            let doc = serde_json::json!({"apiVersion": "projectcalico.org/v3", "kind": "CalicoAPIConfig", "spec": {field: v}});
            let cfg = dir.join("hostile.cfg");
            std::fs::write(&cfg, doc.to_string()).unwrap();
            vec!["-c".to_string(), cfg.display().to_string()]
        };
        match self {
            Input::Name => vec![format!("--name={value}")],
            Input::LogDir => vec![format!("--log-dir=/logs/<{value}>")],
            Input::Image => vec![format!("--node-image={value}")],
            Input::Endpoints => config("etcdEndpoints", value),
            Input::Env => vec![format!("--env=HOSTILE_ENV={value}")],
            Input::CaFile => {
                let path = ca_path(dir, value);
                let _ = std::fs::write(&path, value);
                config("etcdCACertFile", &path)
            }
        }
    }
}

/// The CA file path that carries `value` for [`Input::CaFile`].
pub fn ca_path(dir: &std::path::Path, value: &str) -> String {
    dir.join(format!("<{value}>")).display().to_string()
}

/// A Debian root file system made by mmdebstrap (`--variant=minbase`,
/// `--include` the packages), as a tar cached in `target/rootfs/NAME.tar`
/// across runs (never in git). None to skip (outside CI) when mmdebstrap or
/// root is missing.
pub fn debian_rootfs(name: &str, suite: &str, include: &str) -> Option<PathBuf> {
    require_program("mmdebstrap")?;
    if !require_root() {
        return None;
    }
    let cache = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/rootfs");
    std::fs::create_dir_all(&cache).unwrap();
    let lock = std::fs::File::create(cache.join(format!(".{name}.lock"))).unwrap();
    lock.lock().unwrap();
    let tar = cache.join(format!("{name}.tar"));
    if !tar.exists() {
        // mmdebstrap picks the format from the name: it must end in .tar.
        let partial = cache.join(format!("{name}.partial.tar"));
        let out = Command::new("mmdebstrap")
            .args(["--variant=minbase", &format!("--include={include}"), suite])
            .arg(&partial)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "mmdebstrap {suite}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::rename(&partial, &tar).unwrap();
    }
    Some(tar)
}

/// Shell commands that, run first in a private mount namespace (`unshare
/// --mount --propagation private`), lay overlays on `/var` and `/usr/lib`
/// (their changes kept under `dir`) and a tmpfs on `/run`: an engine run
/// after them may create the plan's bind sources (`/var/lib/calico`,
/// `/lib/modules`, ...) without touching the host.
/// `unshare` for an engine the tests start: in new mount and PID
/// namespaces (`/proc` mounted for them), its first process killed when
/// `unshare` dies (`--kill-child`), and `unshare` killed when the test's
/// thread or process dies (`PR_SET_PDEATHSIG`): an interrupted run leaves
/// no engine, shim or container running, since every process of a PID
/// namespace dies with its first.
pub fn engine_namespace() -> Command {
    use std::os::unix::process::CommandExt;
    let mut cmd = Command::new("unshare");
    cmd.args([
        "--mount",
        "--propagation",
        "private",
        "--pid",
        "--fork",
        "--kill-child",
        "--mount-proc",
    ]);
    // SAFETY: prctl(PR_SET_PDEATHSIG) between fork and exec only sets a
    // flag of the new process; it is async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        });
    }
    cmd
}

pub fn private_host_mounts(dir: &std::path::Path) -> String {
    for sub in ["var/u", "var/w", "lib/u", "lib/w"] {
        std::fs::create_dir_all(dir.join("overlay").join(sub)).unwrap();
    }
    let d = dir.display();
    format!(
        "mount -t overlay overlay -o lowerdir=/var,upperdir={d}/overlay/var/u,workdir={d}/overlay/var/w /var \\
         && mount -t overlay overlay -o lowerdir=/usr/lib,upperdir={d}/overlay/lib/u,workdir={d}/overlay/lib/w /usr/lib \\
         && mount -t tmpfs tmpfs /run"
    )
}

/// What a stand-in calico/node prints and does, as its `/start` script:
/// its environment, the success line; it marks itself ready for
/// [`STANDIN_CALICO_NODE`] `STANDIN_READY_AFTER` seconds later, and waits
/// for SIGTERM.
pub const STANDIN_START: &str = "env | sort\necho 'Calico node started successfully'\ncase \"${STANDIN_READY_AFTER:-0}\" in\n  never) ;;\n  *) (sleep \"${STANDIN_READY_AFTER:-0}\"; touch /tmp/calico-ready) & ;;\nesac\ntrap 'exit 0' TERM INT\nwhile :; do sleep 1; done\n";

/// The stand-in's `/bin/calico-node`: its health flags (`-felix-ready`,
/// `-bird-ready`, `-felix-live`, `-bird-live`, as calico/node's health
/// checks run them) succeed once `/start` has marked it ready, which it
/// does `STANDIN_READY_AFTER` seconds after it starts (0 unless set;
/// `never`: never). Any other word fails, as calico/node would.
pub const STANDIN_CALICO_NODE: &str = "#!/bin/sh\nfor flag in \"$@\"; do\n  case $flag in\n    -felix-ready|-bird-ready|-felix-live|-bird-live) ;;\n    *) echo \"calico-node stand-in: unknown flag $flag\" >&2; exit 2 ;;\n  esac\ndone\n[ \"$#\" -gt 0 ] && [ -e /tmp/calico-ready ]\n";

/// A stand-in image's root as a tar in `dir`: busybox (busybox-static) with
/// its applets, and `/start` running `script`. Made without a registry.
pub fn busybox_image_tar(dir: &std::path::Path, name: &str, script: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let root = dir.join(name);
    std::fs::create_dir_all(root.join("bin")).unwrap();
    let busybox = ["/bin/busybox", "/usr/bin/busybox"]
        .into_iter()
        .find(|p| std::path::Path::new(p).is_file())
        .expect("busybox (busybox-static) is installed");
    std::fs::copy(busybox, root.join("bin/busybox")).unwrap();
    for applet in ["sh", "env", "sort", "sleep", "echo", "touch"] {
        std::os::unix::fs::symlink("busybox", root.join("bin").join(applet)).unwrap();
    }
    std::fs::create_dir_all(root.join("tmp")).unwrap();
    std::fs::write(root.join("start"), format!("#!/bin/sh\n{script}")).unwrap();
    std::fs::write(root.join("bin/calico-node"), STANDIN_CALICO_NODE).unwrap();
    for program in ["start", "bin/calico-node"] {
        let mode = std::fs::Permissions::from_mode(0o755);
        std::fs::set_permissions(root.join(program), mode).unwrap();
    }
    let tar = dir.join(format!("{name}.tar"));
    let status = Command::new("tar")
        .arg("-C")
        .arg(&root)
        .arg("-cf")
        .arg(&tar)
        .arg(".")
        .status()
        .unwrap();
    assert!(status.success(), "tar {}", tar.display());
    tar
}
