//! The real-engine tier, docker part: a private dockerd (Debian's
//! docker.io) runs what we print and what `node run` starts, and each case
//! reads back the container the engine actually created (`docker inspect`).
//!
//! What it starts, and how it keeps off the host:
//! - dockerd with its own `--data-root`, `--exec-root`, socket and pidfile
//!   in a temporary directory, `--storage-driver=vfs --iptables=false
//!   --ip6tables=false --bridge=none`, in a private mount namespace where
//!   `/var` and `/usr/lib` are overlays and `/run` a tmpfs: the plan's bind
//!   sources (`/var/lib/calico`, `/lib/modules`, ...) are created there,
//!   never on the host. It is stopped (and its containers removed) at the
//!   end.
//! - an OCI runtime shim (`tests/standins/oci-runtime-shim`) as dockerd's
//!   default runtime: it removes the capabilities this machine's bounding
//!   set lacks (`--privileged` would fail with "unable to apply caps"), and
//!   the rlimits, then runs runc. On a machine that grants everything it
//!   changes nothing.
//! - stand-in calico/node images made from busybox-static without a
//!   registry: one prints its environment then the success line and waits
//!   for SIGTERM, one fails, one never reports success.
//! - `node run` itself runs in its own network namespace (`unshare --net`),
//!   so its `/proc/sys` writes stay there, with a stand-in `modprobe`.

use crate::support;

use support::dockerd::Dockerd;
use support::systemd_host::SystemdHost;

use serde_json::Value;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// What the created container has, read from `docker inspect`.
struct Created {
    env: Vec<String>,
    binds: Vec<String>,
    privileged: bool,
    network: String,
    restart: String,
    image: String,
}

fn created(inspect: &Value) -> Created {
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    Created {
        env: strings(&inspect["Config"]["Env"]),
        // compose spells out the default mode (`:rw`); docker run does not.
        binds: strings(&inspect["HostConfig"]["Binds"])
            .into_iter()
            .map(|b| b.strip_suffix(":rw").map(str::to_string).unwrap_or(b))
            .collect(),
        privileged: inspect["HostConfig"]["Privileged"] == true,
        network: inspect["HostConfig"]["NetworkMode"]
            .as_str()
            .unwrap_or("")
            .to_string(),
        restart: inspect["HostConfig"]["RestartPolicy"]["Name"]
            .as_str()
            .unwrap_or("")
            .to_string(),
        image: inspect["Config"]["Image"]
            .as_str()
            .unwrap_or("")
            .to_string(),
    }
}

/// The hostile values every case carries, and where they must arrive.
const NAME: &str = "n 1'\"$(touch pwned)`x`;%ü";
const PASSWORD: &str = "pa$$ w'o\"rd %n";
/// A calico/node setting passed with `--env` (a value), and one passed by
/// name (its value from the environment, as a credential).
const ENV_VALUE: &str = "a b'\"$(touch pwned)`x` %h $$ ü \\ end";
const BYNAME_VALUE: &str = "by name $(touch pwned) %n";

struct Case {
    dir: tempfile::TempDir,
}

impl Case {
    fn new() -> Case {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("log dir")).unwrap();
        support::write_config(
            dir.path(),
            &format!(
                "  etcdEndpoints: https://10.0.0.1:2379\n  etcdUsername: calico\n  etcdPassword: {}\n",
                serde_json::to_string(PASSWORD).unwrap()
            ),
        );
        // Only modprobe stands in; docker is the real one.
        let bin = dir.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        std::os::unix::fs::symlink(support::standins().join("modprobe"), bin.join("modprobe"))
            .unwrap();
        Case { dir }
    }

    fn args(&self, image: &str, extra: &[&str]) -> Vec<String> {
        let d = self.dir.path();
        let mut args: Vec<String> = vec![
            format!("--name={NAME}"),
            format!("--node-image={image}"),
            format!("--log-dir={}", d.join("log dir").display()),
            "--disable-docker-networking".into(),
            format!("--env=HOSTILE_ENV={ENV_VALUE}"),
            "-c".into(),
            d.join("calicoctl.cfg").display().to_string(),
            "--env=BYNAME_ENV".into(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    }

    /// What `calicoctl node run WORDS ARGS` prints (a dry run).
    fn print(&self, words: &[&str], image: &str) -> String {
        let args = self.args(image, &[]);
        let mut all = vec!["node", "run"];
        all.extend_from_slice(words);
        all.extend(args.iter().map(String::as_str));
        let out = support::calicoctl(&all)
            .env("BYNAME_ENV", BYNAME_VALUE)
            .current_dir(self.dir.path())
            .output()
            .unwrap();
        support::stdout_of(&out)
    }

    /// `calicoctl node run ARGS` for real, in its own network namespace.
    fn node_run(&self, engine: &Dockerd, args: &[String], timeout_ms: &str) -> Output {
        let bin = self.dir.path().join("bin");
        Command::new("unshare")
            .arg("--net")
            .arg(env!("CARGO_BIN_EXE_calicoctl"))
            .args(["node", "run"])
            .args(args)
            .env_clear()
            .env(
                "PATH",
                format!("{}:/usr/local/bin:/usr/bin:/bin", bin.display()),
            )
            .env("DOCKER_HOST", engine.host())
            .env("CALICOCTL_LOG_TIMEOUT_MS", timeout_ms)
            .env("CALICOCTL_DEFAULT_CONFIG", "/nonexistent")
            .env("BYNAME_ENV", BYNAME_VALUE)
            .current_dir(self.dir.path())
            .output()
            .unwrap()
    }

    /// `text` run by sh, with the secrets exported (as the printed message says).
    fn sh(&self, engine: &Dockerd, text: &str) -> Output {
        Command::new("sh")
            .arg("-c")
            .arg(text)
            .env_clear()
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("DOCKER_HOST", engine.host())
            .env("ETCD_USERNAME", "calico")
            .env("ETCD_PASSWORD", PASSWORD)
            .env("BYNAME_ENV", BYNAME_VALUE)
            .current_dir(self.dir.path())
            .output()
            .unwrap()
    }

    /// The container carries the plan: values exactly, credentials from the
    /// environment, nothing executed.
    fn check(&self, c: &Created, image: &str, restart: &str, what: &str) {
        let log = format!(
            "{}:/var/log/calico",
            self.dir.path().join("log dir").display()
        );
        assert!(
            c.env.contains(&format!("NODENAME={NAME}")),
            "{what}: {:?}",
            c.env
        );
        assert!(
            c.env.contains(&"ETCD_USERNAME=calico".to_string()),
            "{what}: {:?}",
            c.env
        );
        assert!(
            c.env.contains(&format!("ETCD_PASSWORD={PASSWORD}")),
            "{what}: {:?}",
            c.env
        );
        for var in [
            format!("HOSTILE_ENV={ENV_VALUE}"),
            format!("BYNAME_ENV={BYNAME_VALUE}"),
        ] {
            assert!(c.env.contains(&var), "{what}: {var} not in {:?}", c.env);
        }
        assert!(c.binds.contains(&log), "{what}: {:?}", c.binds);
        assert!(
            c.binds.contains(&"/lib/modules:/lib/modules".to_string()),
            "{what}"
        );
        assert!(c.privileged, "{what}: not privileged");
        assert_eq!(c.network, "host", "{what}");
        assert_eq!(c.restart, restart, "{what}");
        assert_eq!(c.image, image, "{what}");
        assert!(
            !self.dir.path().join("pwned").exists(),
            "{what}: a value was executed"
        );
    }
}

use support::describe as text;

#[test]
#[ignore = "engine tier: starts a private container engine; cargo test -- --include-ignored runs it (.ci/run does)"]
fn real_docker_engine_runs_what_we_print_and_start() {
    let Some(engine) = Dockerd::start() else {
        return;
    };
    let image = "calico/node:standin";

    // node run itself: success, then again (replacing the running one).
    let case = Case::new();
    let out = case.node_run(&engine, &case.args(image, &[]), "60000");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Calico node started successfully"));
    let first = engine.inspect("calico-node");
    case.check(&created(&first), image, "always", "node run");
    let out = case.node_run(&engine, &case.args(image, &[]), "60000");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let second = engine.inspect("calico-node");
    assert_ne!(
        first["Id"], second["Id"],
        "re-running replaces the container"
    );
    assert_eq!(
        engine
            .docker(&["ps", "-aq"])
            .stdout
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .count(),
        1,
        "one container after re-running"
    );

    // An image that fails, and one that never reports success.
    let out = case.node_run(
        &engine,
        &case.args("calico/node:standin-fail", &[]),
        "60000",
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("calico/node has terminated"),
        "{}",
        text(&out)
    );
    let out = case.node_run(
        &engine,
        &case.args("calico/node:standin-silent", &[]),
        "3000",
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    engine.remove_all();

    // --init-system stays attached and returns the container's status.
    let out = case.node_run(
        &engine,
        &case.args("calico/node:standin-fail", &["--init-system"]),
        "60000",
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("boom"),
        "{}",
        text(&out)
    );
    engine.remove_all();

    // The --dryrun docker line and -o docker, run by sh.
    let dry = case.print(&["--dryrun"], image);
    let line = support::dryrun_command(&dry);
    let out = case.sh(&engine, &line);
    support::assert_success(&out);
    case.check(
        &created(&engine.inspect("calico-node")),
        image,
        "always",
        "--dryrun line",
    );
    engine.remove_all();
    let docker = case.print(&["-o", "docker"], image);
    let out = case.sh(&engine, docker.trim_end());
    support::assert_success(&out);
    case.check(
        &created(&engine.inspect("calico-node")),
        image,
        "always",
        "-o docker",
    );
    engine.remove_all();

    // Upstream's plain dry run (docker networking on): the container it
    // prints, with the libnetwork plugin's binds.
    let plain = support::calicoctl(&["node", "run", "--dryrun", "--node-image", image])
        .output()
        .unwrap();
    let out = case.sh(
        &engine,
        &support::dryrun_command(&support::stdout_of(&plain)),
    );
    support::assert_success(&out);
    let c = created(&engine.inspect("calico-node"));
    for bind in [
        "/var/run/docker.sock:/var/run/docker.sock",
        "/run/docker/plugins:/run/docker/plugins",
    ] {
        assert!(c.binds.contains(&bind.to_string()), "plain: {:?}", c.binds);
    }
    assert!(
        c.env.contains(&"NODENAME=node1".to_string()),
        "plain: {:?}",
        c.env
    );
    assert!(
        c.env
            .contains(&"CALICO_LIBNETWORK_ENABLED=true".to_string())
    );
    assert!(c.privileged && c.network == "host" && c.restart == "always");
    engine.remove_all();

    // -o compose, brought up by docker-compose against the engine, then down.
    if support::require_program("docker-compose").is_some() {
        let compose = case.print(&["-o", "compose"], image);
        std::fs::write(case.dir.path().join("compose.yaml"), &compose).unwrap();
        let up = case.sh(&engine, "docker-compose -f compose.yaml -p calico up -d");
        support::assert_success(&up);
        let c = created(&engine.inspect("calico-node"));
        case.check(&c, image, "always", "-o compose");
        let down = case.sh(&engine, "docker-compose -f compose.yaml -p calico down");
        support::assert_success(&down);
        assert!(
            !engine.docker(&["inspect", "calico-node"]).status.success(),
            "down removes it"
        );
    }

    // -o script, run by sh (its /proc writes redirected, modprobe a stand-in).
    let script = case.print(&["-o", "script"], image);
    let path = case.dir.path().join("calico-node.sh");
    std::fs::write(&path, &script).unwrap();
    let proc_root = case.dir.path().join("proc");
    std::fs::create_dir_all(proc_root.join("sys/net/ipv4")).unwrap();
    std::fs::create_dir_all(proc_root.join("sys/net/netfilter")).unwrap();
    let out = Command::new("sh")
        .arg(&path)
        .env_clear()
        .env(
            "PATH",
            format!(
                "{}:/usr/local/bin:/usr/bin:/bin",
                case.dir.path().join("bin").display()
            ),
        )
        .env("DOCKER_HOST", engine.host())
        .env("ETCD_USERNAME", "calico")
        .env("ETCD_PASSWORD", PASSWORD)
        .env("BYNAME_ENV", BYNAME_VALUE)
        .env("CALICOCTL_PROC_ROOT", &proc_root)
        .env("CALICOCTL_LOG_TIMEOUT_MS", "60000")
        .current_dir(case.dir.path())
        .output()
        .unwrap();
    support::assert_success(&out);
    case.check(
        &created(&engine.inspect("calico-node")),
        image,
        "always",
        "-o script",
    );
    engine.remove_all();
}

/// calico-node's health as docker reports it (`starting`, `healthy`,
/// `unhealthy`; empty: no health check), or why not.
fn health_status(engine: &Dockerd) -> String {
    let format = "{{if .State.Health}}{{.State.Health.Status}}{{end}}";
    let out = engine.docker(&["inspect", "-f", format, "calico-node"]);
    match out.status.success() {
        true => String::from_utf8_lossy(&out.stdout).trim().to_string(),
        false => String::from_utf8_lossy(&out.stderr).trim().to_string(),
    }
}

/// Wait until `check` holds, up to `seconds`.
fn wait_for(seconds: u64, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[test]
#[ignore = "engine tier: starts a private container engine; cargo test -- --include-ignored runs it (.ci/run does)"]
fn real_systemd_runs_both_unit_forms() {
    let Some(engine) = Dockerd::start() else {
        return;
    };
    let Some(systemd) = SystemdHost::start(&engine, "systemd", &engine) else {
        return;
    };
    let image = "calico/node:standin";
    let case = Case::new();
    for format in ["systemd-envfile", "systemd"] {
        // -o systemd refuses secrets (a unit is world-readable): without
        // them (the credentials and the by-name --env), with --env's value.
        let mut args = case.args(image, &[]);
        if format == "systemd" {
            args.truncate(5);
        }
        // Ready 5 s after it starts: `systemctl start` waits for that.
        args.push("--env=STANDIN_READY_AFTER=5".into());
        let out_dir = case.dir.path().join(format);
        let mut all: Vec<String> = vec!["node".into(), "run".into(), "-o".into(), format.into()];
        all.push(format!("--out-dir={}", out_dir.display()));
        all.extend(args);
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        let out = support::calicoctl(&all)
            .env("BYNAME_ENV", BYNAME_VALUE)
            .output()
            .unwrap();
        support::assert_success(&out);
        let read = |name: &str| std::fs::read_to_string(out_dir.join(name)).unwrap();
        if format == "systemd-envfile" {
            systemd.install(
                "/etc/calico/calico-node.env",
                &read("calico-node.env"),
                "0600",
            );
        }
        systemd.install(
            "/etc/systemd/system/calico-node.service",
            &read("calico-node.service"),
            "0644",
        );
        support::assert_success(&systemd.systemctl(&["daemon-reload"]));

        // start: returns once docker reports calico-node healthy (its
        // readiness check passed), then active; the container carries the
        // plan exactly.
        let start = systemd.systemctl(&["start", "calico-node"]);
        support::assert_success_in(&start, format);
        assert_eq!(health_status(&engine), "healthy", "{format}");
        assert_eq!(systemd.is_active(), "active", "{format}");
        let first = engine.inspect("calico-node");
        let c = created(&first);
        assert!(
            c.env.contains(&format!("NODENAME={NAME}")),
            "{format}: {:?}",
            c.env
        );
        assert!(
            c.env.contains(&format!("HOSTILE_ENV={ENV_VALUE}")),
            "{format}: {:?}",
            c.env
        );
        if format == "systemd-envfile" {
            assert!(
                c.env.contains(&format!("BYNAME_ENV={BYNAME_VALUE}")),
                "{format}: {:?}",
                c.env
            );
            assert!(
                c.env.contains(&format!("ETCD_PASSWORD={PASSWORD}")),
                "{format}: {:?}",
                c.env
            );
            assert!(
                c.env.contains(&"ETCD_USERNAME=calico".to_string()),
                "{format}"
            );
        }
        assert!(c.privileged && c.network == "host", "{format}");
        assert_eq!(
            c.restart, "no",
            "{format}: systemd supervises, docker does not restart"
        );

        // docker kill: systemd starts it again (RestartSec=10).
        support::assert_success(&engine.docker(&["kill", "calico-node"]));
        wait_for(60, "systemd to restart the container", || {
            let now = engine.docker(&["inspect", "-f", "{{.Id}}", "calico-node"]);
            now.status.success()
                && String::from_utf8_lossy(&now.stdout).trim() != first["Id"].as_str().unwrap()
        });
        // Active again once the new container is ready (activating till then).
        wait_for(60, "the restarted unit to be active", || {
            systemd.is_active() == "active"
        });
        assert_eq!(
            health_status(&engine),
            "healthy",
            "{format}: after the restart"
        );

        // stop: the container is gone (--rm).
        support::assert_success(&systemd.systemctl(&["stop", "calico-node"]));
        wait_for(30, "the container to go", || {
            !engine.docker(&["inspect", "calico-node"]).status.success()
        });

        // enable: wanted by multi-user.target.
        let enable = systemd.systemctl(&["enable", "calico-node"]);
        support::assert_success_in(&enable, format);
        let wanted = systemd.exec(&[
            "test",
            "-L",
            "/etc/systemd/system/multi-user.target.wants/calico-node.service",
        ]);
        support::assert_success_in(&wanted, format_args!("{format}: not enabled"));
        systemd.systemctl(&["disable", "calico-node"]);
    }
}

/// A calico/node that never becomes ready fails the unit's start at
/// `--ready-timeout`, while docker shows it `starting` (its start period
/// is the same timeout); with `--no-health` the same unit is active at
/// once, as before health checks.
#[test]
#[ignore = "engine tier: starts a private container engine; cargo test -- --include-ignored runs it (.ci/run does)"]
fn real_systemd_fails_a_unit_whose_node_never_becomes_ready() {
    let Some(engine) = Dockerd::start() else {
        return;
    };
    let Some(systemd) = SystemdHost::start(&engine, "systemd-never", &engine) else {
        return;
    };
    let case = Case::new();
    let unit = |extra: &[&str]| {
        let mut args = case.args("calico/node:standin", &[]);
        args.truncate(5);
        let mut all = vec![
            "node",
            "run",
            "-o",
            "systemd",
            "--env=STANDIN_READY_AFTER=never",
        ];
        all.extend(args.iter().map(String::as_str));
        all.extend(extra);
        let out = support::calicoctl(&all).output().unwrap();
        support::stdout_of(&out)
    };
    let install = |text: &str| {
        systemd.install("/etc/systemd/system/calico-node.service", text, "0644");
        support::assert_success(&systemd.systemctl(&["daemon-reload"]));
    };
    install(&unit(&["--ready-timeout=15"]));
    let started = Instant::now();
    let start = systemd.systemctl(&["start", "calico-node"]);
    let waited = started.elapsed();
    assert!(!start.status.success(), "a node never ready cannot start");
    let said = String::from_utf8_lossy(&start.stderr);
    assert!(said.contains("timeout"), "{said}");
    assert!(waited >= Duration::from_secs(15), "{waited:?}");
    assert_ne!(systemd.is_active(), "active");
    support::assert_success(&systemd.systemctl(&["stop", "calico-node"]));
    wait_for(30, "the container to go", || {
        !engine.docker(&["inspect", "calico-node"]).status.success()
    });

    // The same, made with --no-health: active at once, no check.
    install(&unit(&["--no-health"]));
    support::assert_success(&systemd.systemctl(&["start", "calico-node"]));
    assert_eq!(systemd.is_active(), "active");
    wait_for(60, "the unit's container", || {
        engine.docker(&["inspect", "calico-node"]).status.success()
    });
    assert_eq!(health_status(&engine), "", "no health check at all");
    support::assert_success(&systemd.systemctl(&["stop", "calico-node"]));
}

/// podman 5 under real systemd (a host in its own cgroup namespace, where
/// podman's health checks run): the Quadlet file and the podman unit each
/// start only once podman reports calico-node healthy (`Notify=healthy`,
/// `--sdnotify=healthy`), and fail at `--ready-timeout` when it never is.
#[test]
#[ignore = "engine tier: starts a private container engine; cargo test -- --include-ignored runs it (.ci/run does)"]
fn podman_5_units_are_active_only_once_ready() {
    let Some(engine) = Dockerd::start() else {
        return;
    };
    let image = "calico-node-standin:ready";
    let Some(host) = SystemdHost::start_podman(&engine, "podman-ready", image) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    support::write_config(dir.path(), "  etcdEndpoints: https://10.0.0.1:2379\n");
    let config = dir.path().join("calicoctl.cfg");
    let files = |format: &str, ready_after: &str| {
        let out_dir = dir.path().join(format!("{format}-{ready_after}"));
        let out = support::calicoctl(&[
            "node",
            "run",
            "-o",
            format,
            "--runtime=podman",
            "--disable-docker-networking",
            &format!("--node-image={image}"),
            "--name=podman-ready",
            "-c",
            config.to_str().unwrap(),
            &format!("--env=STANDIN_READY_AFTER={ready_after}"),
            "--ready-timeout=25",
            &format!("--out-dir={}", out_dir.display()),
        ])
        .output()
        .unwrap();
        support::assert_success(&out);
        out_dir
    };
    let health = || {
        let out = host.exec(&[
            "podman",
            "inspect",
            "-f",
            "{{.State.Health.Status}}",
            "calico-node",
        ]);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let forms = [
        (
            "quadlet",
            "calico-node.container",
            "/etc/containers/systemd/calico-node.container",
        ),
        (
            "systemd",
            "calico-node.service",
            "/etc/systemd/system/calico-node.service",
        ),
    ];
    for (format, file, installed) in forms {
        for ready_after in ["3", "never"] {
            let out_dir = files(format, ready_after);
            let text = std::fs::read_to_string(out_dir.join(file)).unwrap();
            host.install(installed, &text, "0644");
            support::assert_success(&host.systemctl(&["daemon-reload"]));
            let start = host.systemctl(&["start", "calico-node"]);
            match ready_after {
                "never" => {
                    assert!(
                        !start.status.success(),
                        "{format}: never ready, yet started"
                    );
                    assert_ne!(host.is_active(), "active", "{format}");
                }
                _ => {
                    support::assert_success_in(&start, format);
                    assert_eq!(host.is_active(), "active", "{format}");
                    assert_eq!(health(), "healthy", "{format}: active means ready");
                }
            }
            host.systemctl(&["stop", "calico-node"]);
            host.exec(&["rm", "-f", installed]);
            support::assert_success(&host.systemctl(&["daemon-reload"]));
            host.systemctl(&["reset-failed", "calico-node"]);
        }
    }
}
