//! The real-engine tier, live state: `node run --check` (without
//! `--out-dir`) and `node run --if-changed` against a private dockerd
//! (`support::dockerd`), each case reading the engine's state before and
//! after. A container started by `node run` and one started by the
//! printed `-o docker` line check clean; each kind of drift gives exit 2
//! and its line; a hostile etcd password is compared right and never
//! printed; `--if-changed` leaves a matching container alone (same ID, same
//! start time), replaces a drifted one and starts an absent one. The podman
//! part is in tests/it/podman.rs.

use crate::support;

use std::path::PathBuf;
use std::process::{Command, Output};
use support::dockerd::Dockerd;

const IMAGE: &str = "calico/node:standin";
/// Quotes, a command substitution, a newline: compared exactly, never shown.
const PASSWORD: &str = "pa$$ w'o\"rd $(touch pwned)\tline two";
/// A calico/node setting passed with --env, and one passed by name.
const ENV_VALUE: &str = "a b'\"$(touch pwned)`x` %h $$ ü";
const BYNAME_VALUE: &str = "by name $(touch pwned)";

struct Live<'a> {
    engine: &'a Dockerd,
    dir: tempfile::TempDir,
}

impl<'a> Live<'a> {
    fn new(engine: &'a Dockerd) -> Live<'a> {
        let dir = tempfile::tempdir().unwrap();
        support::write_config(
            dir.path(),
            &format!(
                "  etcdEndpoints: https://10.0.0.1:2379\n  etcdUsername: calico\n  etcdPassword: {}\n",
                serde_json::to_string(PASSWORD).unwrap()
            ),
        );
        let bin = dir.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        std::os::unix::fs::symlink(support::standins().join("modprobe"), bin.join("modprobe"))
            .unwrap();
        Live { engine, dir }
    }

    fn args(&self, extra: &[&str]) -> Vec<String> {
        let mut args: Vec<String> = vec![
            "node".into(),
            "run".into(),
            "--name=n1".into(),
            format!("--node-image={IMAGE}"),
            "--disable-docker-networking".into(),
            "-c".into(),
            self.dir.path().join("calicoctl.cfg").display().to_string(),
            format!("--env=HOSTILE_ENV={ENV_VALUE}"),
            "--env=BYNAME_ENV".into(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    }

    /// calicoctl with `args`, against the private engine; the run path in
    /// its own network namespace, its /proc writes redirected.
    fn calicoctl(&self, args: &[String]) -> Output {
        let proc_root = self.dir.path().join("proc");
        std::fs::create_dir_all(proc_root.join("sys/net/ipv4")).unwrap();
        std::fs::create_dir_all(proc_root.join("sys/net/netfilter")).unwrap();
        Command::new("unshare")
            .arg("--net")
            .arg(env!("CARGO_BIN_EXE_calicoctl"))
            .args(args)
            .env_clear()
            .env(
                "PATH",
                format!(
                    "{}:/usr/local/bin:/usr/bin:/bin",
                    self.dir.path().join("bin").display()
                ),
            )
            .env("DOCKER_HOST", self.engine.host())
            .env("CALICOCTL_LOG_TIMEOUT_MS", "60000")
            .env("CALICOCTL_PROC_ROOT", &proc_root)
            .env("CALICOCTL_DEFAULT_CONFIG", "/nonexistent")
            .env("BYNAME_ENV", BYNAME_VALUE)
            .output()
            .unwrap()
    }

    /// `--check` with `extra`: its exit status and stdout; the password is
    /// in neither stream.
    fn check(&self, extra: &[&str]) -> (i32, String) {
        let mut words = vec!["--check"];
        words.extend_from_slice(extra);
        let out = self.calicoctl(&self.args(&words));
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        );
        for secret in [PASSWORD, "line two", "pa$$", BYNAME_VALUE] {
            assert!(
                !stdout.contains(secret) && !stderr.contains(secret),
                "a secret printed: {stdout}{stderr}"
            );
        }
        (out.status.code().unwrap_or(-1), stdout)
    }

    /// `sh -c text` with the secrets exported, as the printed text says.
    fn sh(&self, text: &str, password: &str) -> Output {
        Command::new("sh")
            .arg("-c")
            .arg(text)
            .env_clear()
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("DOCKER_HOST", self.engine.host())
            .env("ETCD_USERNAME", "calico")
            .env("ETCD_PASSWORD", password)
            .env("BYNAME_ENV", BYNAME_VALUE)
            .output()
            .unwrap()
    }

    /// The `-o docker` line with `extra` options, `edit`ed, run by sh.
    fn start_printed(&self, extra: &[&str], edit: impl Fn(String) -> String, password: &str) {
        let mut words = vec!["-o", "docker"];
        words.extend_from_slice(extra);
        let printed = self.calicoctl(&self.args(&words));
        support::assert_success(&printed);
        let line = edit(String::from_utf8(printed.stdout).unwrap());
        let out = self.sh(line.trim_end(), password);
        support::assert_success(&out);
    }

    /// The container's ID and start time.
    fn identity(&self) -> (String, String) {
        let c = self.engine.inspect("calico-node");
        (
            c["Id"].as_str().unwrap().into(),
            c["State"]["StartedAt"].as_str().unwrap().into(),
        )
    }

    fn env_of(&self) -> Vec<String> {
        serde_json::from_value(self.engine.inspect("calico-node")["Config"]["Env"].clone()).unwrap()
    }

    fn no_pwned(&self) -> bool {
        !self.dir.path().join("pwned").exists() && !PathBuf::from("pwned").exists()
    }
}

use support::describe as text;

#[test]
#[ignore = "engine tier: starts a private container engine; cargo test -- --include-ignored runs it (.ci/run does)"]
fn check_and_if_changed_against_a_real_docker_engine() {
    let Some(engine) = Dockerd::start() else {
        return;
    };
    let live = Live::new(&engine);

    // None yet: drift, and --if-changed starts it.
    assert_eq!(
        live.check(&[]),
        (2, "no container named calico-node\n".into())
    );
    let started = live.calicoctl(&live.args(&["--if-changed", "--as=64512"]));
    assert_eq!(started.status.code(), Some(0), "{}", text(&started));
    assert!(
        String::from_utf8_lossy(&started.stdout)
            .starts_with("Starting calico-node: no container named calico-node.\n"),
        "{}",
        text(&started)
    );
    assert!(live.env_of().contains(&format!("ETCD_PASSWORD={PASSWORD}")));
    assert_eq!(
        live.check(&["--as=64512"]),
        (0, "calico-node matches the plan.\n".into())
    );

    // Matching: --if-changed leaves it alone.
    let before = live.identity();
    let alone = live.calicoctl(&live.args(&["--if-changed", "--as=64512"]));
    assert_eq!(alone.status.code(), Some(0), "{}", text(&alone));
    assert_eq!(
        String::from_utf8_lossy(&alone.stdout),
        "calico-node is running as planned; left alone.\n"
    );
    assert_eq!(live.identity(), before, "same container, same start");

    // The --env variables were started with it: a missing one is drift.
    let env = live.env_of();
    for var in [
        format!("HOSTILE_ENV={ENV_VALUE}"),
        format!("BYNAME_ENV={BYNAME_VALUE}"),
    ] {
        assert!(env.contains(&var), "{var} not in {env:?}");
    }
    assert_eq!(
        live.check(&["--as=64512", "--env=EXTRA_ENV=1"]),
        (2, "env EXTRA_ENV: running (unset), planned 1\n".into())
    );

    // Drift, one kind at a time.
    assert_eq!(
        live.check(&["--as=64513"]),
        (2, "env AS: running 64512, planned 64513\n".into())
    );
    assert_eq!(
        live.check(&[]),
        (2, "env AS: running 64512, not planned\n".into())
    );
    assert_eq!(
        live.check(&["--as=64512", "--no-default-ippools"]),
        (
            2,
            "env NO_DEFAULT_POOLS: running (unset), planned true\n".into()
        )
    );
    let (status, lines) = live.check(&["--as=64512", "--log-dir=/var/log/elsewhere"]);
    assert_eq!(status, 2);
    assert_eq!(
        lines,
        "bind /var/log/calico: running /var/log/calico:/var/log/calico, planned /var/log/elsewhere:/var/log/calico\n"
    );

    // Drifted: --if-changed replaces it, with the plan's values.
    let replaced = live.calicoctl(&live.args(&["--if-changed", "--as=64513"]));
    assert_eq!(replaced.status.code(), Some(0), "{}", text(&replaced));
    assert!(
        String::from_utf8_lossy(&replaced.stdout)
            .starts_with("Replacing calico-node: env AS: running 64512, planned 64513.\n"),
        "{}",
        text(&replaced)
    );
    assert_ne!(live.identity().0, before.0);
    assert!(live.env_of().contains(&"AS=64513".to_string()));

    // The printed -o docker line checks clean; without --privileged it drifts.
    engine.remove_all();
    live.start_printed(&[], |l| l, PASSWORD);
    assert_eq!(
        live.check(&[]),
        (0, "calico-node matches the plan.\n".into())
    );
    engine.remove_all();
    live.start_printed(&[], |l| l.replacen(" --privileged", "", 1), PASSWORD);
    assert_eq!(
        live.check(&[]),
        (2, "privileged: running false, planned true\n".into())
    );

    // Another password in the container: compared, named, never shown.
    engine.remove_all();
    live.start_printed(&[], |l| l, "another $(password)");
    assert_eq!(live.check(&[]), (2, "env ETCD_PASSWORD: differs\n".into()));

    // The reference re-tagged to another build: drift naming both builds.
    engine.remove_all();
    live.start_printed(&[], |l| l, PASSWORD);
    let old_id = engine.inspect("calico-node")["Image"]
        .as_str()
        .unwrap()
        .to_string();
    let retag = engine.docker(&["tag", "calico/node:standin-silent", IMAGE]);
    support::assert_success(&retag);
    let (status, lines) = live.check(&[]);
    assert_eq!(status, 2, "{lines}");
    let new_id = engine.docker(&["image", "inspect", "--format", "{{.Id}}", IMAGE]);
    let short = |id: &str| id.trim().trim_start_matches("sha256:")[..12].to_string();
    assert_eq!(
        lines,
        format!(
            "image {IMAGE}: running {}, planned {} (what the reference names now)\n",
            short(&old_id),
            short(&String::from_utf8_lossy(&new_id.stdout))
        )
    );
    support::assert_success(&engine.docker(&["tag", &old_id, IMAGE]));

    // Stopped.
    assert_eq!(live.check(&[]).0, 0);
    assert!(
        engine
            .docker(&["stop", "-t", "5", "calico-node"])
            .status
            .success()
    );
    let finished = engine.inspect("calico-node")["State"]["FinishedAt"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        live.check(&[]),
        (2, format!("not running: exited 0 at {finished}\n"))
    );
    assert!(live.no_pwned(), "a value was executed");
}

/// A container started by a v3.28 plan (`--calico-version`, the image
/// pinned to `quay.io/calico/node:v3.28.0`, here the stand-in re-tagged):
/// it checks clean at v3.28, `--if-changed` at v3.28 leaves it alone, and
/// another release's plan is drift.
#[test]
#[ignore = "engine tier: starts a private container engine; cargo test -- --include-ignored runs it (.ci/run does)"]
fn a_container_started_by_a_v3_28_plan_checks_clean_at_v3_28() {
    let Some(engine) = Dockerd::start() else {
        return;
    };
    let live = Live::new(&engine);
    let pinned = "quay.io/calico/node:v3.28.0";
    support::assert_success(&engine.docker(&["tag", IMAGE, pinned]));
    let at = |release: &str, extra: &[&str]| -> Vec<String> {
        let mut args: Vec<String> = live
            .args(&[])
            .into_iter()
            .filter(|a| a != "--disable-docker-networking" && !a.starts_with("--node-image="))
            .collect();
        args.push(format!("--calico-version={release}"));
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    };

    let started = live.calicoctl(&at("v3.28.0", &[]));
    assert_eq!(started.status.code(), Some(0), "{}", text(&started));
    let c = engine.inspect("calico-node");
    assert_eq!(c["Config"]["Image"], pinned);
    let env = live.env_of();
    assert!(
        env.contains(&"CALICO_MANAGE_CNI=false".to_string()),
        "{env:?}"
    );
    assert!(
        !env.iter().any(|v| v.starts_with("CALICO_LIBNETWORK")),
        "{env:?}"
    );

    let check = |args: Vec<String>| {
        let out = live.calicoctl(&args);
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    assert_eq!(
        check(at("v3.28.0", &["--check"])),
        (0, "calico-node matches the plan.\n".into())
    );
    let before = live.identity();
    let alone = live.calicoctl(&at("v3.28.0", &["--if-changed"]));
    assert_eq!(
        String::from_utf8_lossy(&alone.stdout),
        "calico-node is running as planned; left alone.\n",
        "{}",
        text(&alone)
    );
    assert_eq!(live.identity(), before);

    // v3.27's plan has no CALICO_MANAGE_CNI and its own image.
    let (status, lines) = check(at(
        "v3.27.5",
        &["--check", &format!("--node-image={pinned}")],
    ));
    assert_eq!(status, 2, "{lines}");
    assert_eq!(lines, "env CALICO_MANAGE_CNI: running false, not planned\n");
    assert!(live.no_pwned(), "a value was executed");
}

/// calico/node's health in the live check, with `--health` (the run path
/// has no checks without it): a node that never becomes ready is
/// `starting` through its start period (`--ready-timeout`), then
/// `unhealthy since` the first failed check the engine logged, each a
/// difference with exit 2; `--if-changed` leaves a starting or healthy
/// one alone and replaces an unhealthy one; a container without the
/// check is drift for a plan with it.
#[test]
#[ignore = "engine tier: starts a private container engine; cargo test -- --include-ignored runs it (.ci/run does)"]
fn health_is_checked_and_an_unhealthy_node_is_replaced() {
    let Some(engine) = Dockerd::start() else {
        return;
    };
    let live = Live::new(&engine);
    let never = [
        "--health",
        "--ready-timeout=1",
        "--env=STANDIN_READY_AFTER=never",
    ];
    let started = live.calicoctl(&live.args(&never));
    assert_eq!(started.status.code(), Some(0), "{}", text(&started));
    let health = || {
        let c = engine.inspect("calico-node");
        c["State"]["Health"]["Status"].as_str().unwrap().to_string()
    };
    assert_eq!(health(), "starting");
    let mut checking = never.to_vec();
    checking.push("--check");
    let (status, lines) = live.check(&checking[..]);
    assert_eq!(
        (status, lines.as_str()),
        (2, "health: starting (not ready yet)\n")
    );
    let before = live.identity();
    let mut if_changed = never.to_vec();
    if_changed.push("--if-changed");
    let alone = live.calicoctl(&live.args(&if_changed));
    assert_eq!(
        String::from_utf8_lossy(&alone.stdout),
        "calico-node is running as planned; left alone.\n",
        "{}",
        text(&alone)
    );
    assert_eq!(live.identity(), before, "a starting node is left to start");

    // Three failed checks 10 s apart after the 1 s start period.
    wait_for(90, "calico-node to be unhealthy", || {
        health() == "unhealthy"
    });
    let first_failure = engine.inspect("calico-node")["State"]["Health"]["Log"][0]["Start"]
        .as_str()
        .unwrap()
        .to_string();
    // The streak as docker holds it around the check (a check between
    // the two readings: read again).
    let streak = || engine.inspect("calico-node")["State"]["Health"]["FailingStreak"].clone();
    let (lines, streak) = loop {
        let before = streak();
        let (status, lines) = live.check(&checking[..]);
        assert_eq!(status, 2, "{lines}");
        if streak() == before {
            break (lines, before);
        }
    };
    assert_eq!(
        lines,
        format!("health: unhealthy since {first_failure} ({streak} failed checks in a row)\n")
    );
    let replaced = live.calicoctl(&live.args(&if_changed));
    assert!(
        String::from_utf8_lossy(&replaced.stdout)
            .starts_with("Replacing calico-node: health: unhealthy since "),
        "{}",
        text(&replaced)
    );
    assert_ne!(live.identity(), before, "an unhealthy node is replaced");

    // A node that is ready: healthy after its first check, and clean.
    let ready = ["--health", "--ready-timeout=30"];
    let mut start_ready = ready.to_vec();
    start_ready.push("--if-changed");
    let started = live.calicoctl(&live.args(&start_ready));
    assert_eq!(started.status.code(), Some(0), "{}", text(&started));
    wait_for(60, "calico-node to be healthy", || health() == "healthy");
    let mut check_ready = ready.to_vec();
    check_ready.push("--check");
    assert_eq!(
        live.check(&check_ready[..]),
        (0, "calico-node matches the plan.\n".into())
    );

    // The plan without checks does not judge them; a container without
    // the planned check is drift.
    assert_eq!(
        live.check(&[]).1,
        "env FELIX_HEALTHENABLED: running true, not planned\n"
    );
    let plain = live.calicoctl(&live.args(&[]));
    assert_eq!(plain.status.code(), Some(0), "{}", text(&plain));
    let (status, lines) = live.check(&check_ready[..]);
    assert_eq!(status, 2);
    assert_eq!(
        lines,
        "env FELIX_HEALTHENABLED: running (unset), planned true\n\
         health check: running (none), planned /bin/calico-node -bird-ready -felix-ready\n"
    );
    assert!(live.no_pwned());
}

/// Wait until `check` holds, up to `seconds`.
fn wait_for(seconds: u64, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    while !check() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
}

/// `node import --container` against containers `node run` started (with
/// every default, and at v3.28 with health checks): the printed options,
/// run with `--check`, match the container; one started by hand with
/// `/bin/calico-node -felix` is refused with that trap's reason, exit 2.
/// No password reaches either stream.
#[test]
#[ignore = "engine tier: starts a private container engine; cargo test -- --include-ignored runs it (.ci/run does)"]
fn node_import_reads_back_what_node_run_started() {
    let Some(engine) = Dockerd::start() else {
        return;
    };
    let live = Live::new(&engine);
    let config = live.dir.path().join("calicoctl.cfg");
    let config = format!("--config={}", config.display());
    let import = || {
        let out = live.calicoctl(&["node".into(), "import".into(), config.clone()]);
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        );
        assert!(
            !stdout.contains("pa$$") && !stderr.contains("pa$$") && !stderr.contains("line two"),
            "a password printed: {stdout}{stderr}"
        );
        (out.status.code().unwrap_or(-1), stdout, stderr)
    };
    // The printed line's options, with --check.
    let check_printed = |line: &str| {
        let words = calicoctl::import::words::shell_words(line.trim_end()).unwrap();
        assert_eq!(words[..3], ["calicoctl", "node", "run"], "{line}");
        let mut args: Vec<String> = words[1..].to_vec();
        args.push("--check".into());
        let out = live.calicoctl(&args);
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };

    // Imported: exit 0, the line has every word of `has` and none of
    // `lacks`, and its --check matches.
    let round_trip = |has: &[&str], lacks: &[&str]| {
        let (status, line, stderr) = import();
        assert_eq!(status, 0, "{line}{stderr}");
        assert!(has.iter().all(|w| line.contains(w)), "{has:?}: {line}");
        assert!(!lacks.iter().any(|w| line.contains(w)), "{lacks:?}: {line}");
        assert_eq!(
            check_printed(&line),
            (0, "calico-node matches the plan.\n".into())
        );
    };

    let started = live.calicoctl(&live.args(&[]));
    assert_eq!(started.status.code(), Some(0), "{}", text(&started));
    round_trip(&["--name=n1", "--disable-docker-networking"], &[]);

    // v3.28 with health checks, once healthy.
    let pinned = "quay.io/calico/node:v3.28.0";
    support::assert_success(&engine.docker(&["tag", IMAGE, pinned]));
    let v3_28: Vec<String> = vec![
        "node".into(),
        "run".into(),
        "--name=n1".into(),
        "--calico-version=v3.28.0".into(),
        "--health".into(),
        "--ready-timeout=30".into(),
        config.clone(),
    ];
    let started = live.calicoctl(&v3_28);
    assert_eq!(started.status.code(), Some(0), "{}", text(&started));
    wait_for(60, "calico-node to be healthy", || {
        engine.inspect("calico-node")["State"]["Health"]["Status"] == "healthy"
    });
    // The release's own image: no --node-image.
    round_trip(&["--calico-version=v3.28.0", "--health"], &["--node-image"]);

    // v3.2.3's line, as its dry run prints it, run by sh (the credentials
    // exported, as it says).
    support::assert_success(&engine.docker(&["rm", "-f", "calico-node"]));
    let v3_2 = "quay.io/calico/node:v3.2.3";
    support::assert_success(&engine.docker(&["tag", IMAGE, v3_2]));
    let release_image = |line: String| line.replace(IMAGE, v3_2);
    live.start_printed(&["--calico-version=v3.2.3"], release_image, PASSWORD);
    round_trip(&["--calico-version=v3.2.3"], &["--node-image"]);

    // By hand, as a docs unit did: -felix instead of the start-up.
    support::assert_success(&engine.docker(&["rm", "-f", "calico-node"]));
    let by_hand = engine.docker(&[
        "run",
        "-d",
        "--name=calico-node",
        "--net=host",
        "--privileged",
        "-e",
        "NODENAME=n1",
        IMAGE,
        "/bin/calico-node",
        "-felix",
    ]);
    support::assert_success(&by_hand);
    let (status, _, stderr) = import();
    assert_eq!(status, 2, "{stderr}");
    assert!(
        stderr.contains("the command /bin/calico-node -felix: -felix starts Felix alone"),
        "{stderr}"
    );
    assert!(live.no_pwned());
}
