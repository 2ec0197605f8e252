//! `node fleet --playbook` run by real Ansible (Debian's `ansible`, whose
//! community.docker collection has the docker connection plugin), for
//! `-o systemd-envfile` and `-o systemd` alike, against two real systemd
//! hosts: containers with systemd as PID 1 and python3 on
//! a private dockerd, each of whose calico-node runs on an engine of its
//! own (so both can have a container named `calico-node`). Shown: the
//! first run starts both with each host's values; a second run changes
//! nothing (same container IDs, `changed=0`); changing one host's option
//! restarts that host only; `--check --diff` shows the changed unit and no
//! secret; a host whose image never reports success fails the run, and the
//! host of the next batch keeps its files and container; no secret in any
//! output of any run. And on a host with podman 5 inside it (a trixie root,
//! systemd as PID 1): the `-o quadlet` playbook (`cargo test --test
//! ansible_rollout quadlet`) and the podman unit form (`... podman_unit`)
//! start calico-node from the installed files under systemd, a second run
//! changes nothing, and a Quadlet host whose secrets went away loses its env
//! file and restarts. Also: the playbook passes `ansible-playbook
//! --syntax-check` and ansible-lint (its default profile) without warnings.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use support::dockerd::Dockerd;
use support::systemd_host::SystemdHost;

const PASSWORD: &str = "pa$$ w'o\"rd $(touch pwned)";

/// The INI inventory: host-a's calico-node on engine `a`, host-b's on `b`;
/// both hosts are containers on engine `a`, reached by the docker
/// connection plugin.
fn inventory(dir: &Path, hosts_engine: &Dockerd, a: (&str, &str), b: (&str, &str)) -> PathBuf {
    let text = format!(
        "[calico]\n\
         host-a calico_as={} calico_node_image={}\n\
         host-b calico_as={} calico_node_image={}\n\
         [calico:vars]\n\
         ansible_connection=community.docker.docker\n\
         ansible_docker_extra_args=\"-H {}\"\n\
         ansible_user=root\n\
         ansible_python_interpreter=/usr/bin/python3\n\
         calico_disable_docker_networking=true\n\
         calico_config={}\n",
        a.0,
        a.1,
        b.0,
        b.1,
        hosts_engine.host(),
        dir.join("calicoctl.cfg").display()
    );
    let path = dir.join("hosts.ini");
    std::fs::write(&path, text).unwrap();
    path
}

struct Rollout<'a> {
    dir: &'a Path,
    format: &'a str,
    outputs: Vec<String>,
}

impl Rollout<'_> {
    fn fleet(&mut self, inventory: &Path) {
        let out = support::calicoctl(&[
            "node",
            "fleet",
            "--inventory",
            inventory.to_str().unwrap(),
            "-o",
            self.format,
            "--out-dir",
            self.dir.join("out").to_str().unwrap(),
            "--playbook",
        ])
        .output()
        .unwrap();
        self.keep(&out);
        support::assert_success(&out);
    }

    /// ansible-playbook with `extra` arguments; its output is kept to be
    /// searched for secrets at the end.
    fn playbook(&mut self, inventory: &Path, extra: &[&str]) -> (bool, String) {
        let ansible_home = self.dir.join("ansible-home");
        let out = Command::new("ansible-playbook")
            .args(["-i", inventory.to_str().unwrap()])
            .arg(self.dir.join("out/calico-node.yml"))
            .args(extra)
            .env("ANSIBLE_HOME", &ansible_home)
            .env("ANSIBLE_LOCAL_TEMP", ansible_home.join("tmp"))
            .env("ANSIBLE_NOCOLOR", "1")
            .env("ANSIBLE_FORCE_COLOR", "0")
            .env("ANSIBLE_HOST_KEY_CHECKING", "false")
            .env("ANSIBLE_RETRY_FILES_ENABLED", "false")
            .output()
            .unwrap();
        self.keep(&out);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    }

    fn keep(&mut self, out: &Output) {
        self.outputs
            .push(String::from_utf8_lossy(&out.stdout).into_owned());
        self.outputs
            .push(String::from_utf8_lossy(&out.stderr).into_owned());
    }
}

/// The recap counters of `host` (`ok`, `changed`, `failed`, ...).
fn recap(output: &str, host: &str, counter: &str) -> u32 {
    let line = output
        .lines()
        .find(|l| l.starts_with(host) && l.contains("ok="))
        .unwrap_or_else(|| panic!("no recap for {host}:\n{output}"));
    let field = line
        .split_whitespace()
        .find_map(|w| w.strip_prefix(&format!("{counter}=")))
        .unwrap();
    field.parse().unwrap()
}

fn container_id(engine: &Dockerd) -> Option<String> {
    let out = engine.docker(&["inspect", "-f", "{{.Id}}", "calico-node"]);
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn env_of(engine: &Dockerd) -> Vec<String> {
    serde_json::from_value(engine.inspect("calico-node")["Config"]["Env"].clone()).unwrap()
}

/// `-o systemd-envfile`: the credentials in the 0600 env file.
#[test]
#[ignore = "rollout tier: ansible-playbook against systemd hosts in a private engine; cargo test -- --include-ignored runs it (.ci/run does)"]
fn systemd_envfile_rolls_calico_node_out_in_safe_batches() {
    rolls_out("systemd-envfile");
}

/// `-o systemd`: everything in the unit, so a configuration without
/// secrets (the unit is world-readable).
#[test]
#[ignore = "rollout tier: ansible-playbook against systemd hosts in a private engine; cargo test -- --include-ignored runs it (.ci/run does)"]
fn systemd_unit_rolls_calico_node_out_in_safe_batches() {
    rolls_out("systemd");
}

fn rolls_out(format: &str) {
    let secrets = format == "systemd-envfile";
    if support::require_program("ansible-playbook").is_none() {
        return;
    }
    let Some(engine_a) = Dockerd::start() else {
        return;
    };
    let Some(engine_b) = Dockerd::start() else {
        return;
    };
    let Some(host_a) = SystemdHost::start(&engine_a, "host-a", &engine_a) else {
        return;
    };
    let Some(host_b) = SystemdHost::start(&engine_a, "host-b", &engine_b) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let credentials = format!(
        "  etcdUsername: calico\n  etcdPassword: {}\n",
        serde_json::to_string(PASSWORD).unwrap()
    );
    support::write_config(
        d,
        &format!(
            "  etcdEndpoints: https://10.0.0.1:2379\n{}",
            if secrets { credentials.as_str() } else { "" }
        ),
    );
    let mut rollout = Rollout {
        dir: d,
        format,
        outputs: Vec::new(),
    };
    let standin = "calico/node:standin";
    let inv = inventory(d, &engine_a, ("64512", standin), ("64513", standin));
    rollout.fleet(&inv);

    // The playbook as Ansible's own tools read it.
    let syntax = Command::new("ansible-playbook")
        .args(["--syntax-check", "-i", inv.to_str().unwrap()])
        .arg(d.join("out/calico-node.yml"))
        .env("ANSIBLE_HOME", d.join("ansible-home"))
        .output()
        .unwrap();
    support::assert_success(&syntax);

    // First run: both hosts get their files and a running calico-node.
    let (ok, first) = rollout.playbook(&inv, &[]);
    assert!(ok, "{first}");
    eprintln!(
        "first run:\n{}",
        first.split("PLAY RECAP").nth(1).unwrap_or_default()
    );
    for (host, engine, as_number) in [(&host_a, &engine_a, "64512"), (&host_b, &engine_b, "64513")]
    {
        assert_eq!(host.is_active(), "active", "{}", host.name);
        let env = env_of(engine);
        assert!(
            env.contains(&format!("AS={as_number}")),
            "{}: {env:?}",
            host.name
        );
        assert!(env.contains(&format!("NODENAME={}", host.name)));
        let mode = host.exec(&["stat", "-c", "%a %U", "/etc/calico/calico-node.env"]);
        if secrets {
            assert!(env.contains(&format!("ETCD_PASSWORD={PASSWORD}")));
            assert_eq!(String::from_utf8_lossy(&mode.stdout).trim(), "600 root");
        } else {
            assert!(!env.iter().any(|v| v.starts_with("ETCD_PASSWORD")));
            assert!(!mode.status.success(), "-o systemd installs no env file");
        }
        let unit = host.exec(&[
            "stat",
            "-c",
            "%a %U",
            "/etc/systemd/system/calico-node.service",
        ]);
        assert_eq!(String::from_utf8_lossy(&unit.stdout).trim(), "644 root");
        let enabled = host.systemctl(&["is-enabled", "calico-node"]);
        assert_eq!(String::from_utf8_lossy(&enabled.stdout).trim(), "enabled");
    }
    let ids = (container_id(&engine_a), container_id(&engine_b));

    // Second run: nothing changed, nothing restarted.
    let (ok, second) = rollout.playbook(&inv, &[]);
    assert!(ok, "{second}");
    eprintln!(
        "second run:\n{}",
        second.split("PLAY RECAP").nth(1).unwrap_or_default()
    );
    assert_eq!(recap(&second, "host-a", "changed"), 0, "{second}");
    assert_eq!(recap(&second, "host-b", "changed"), 0, "{second}");
    assert_eq!((container_id(&engine_a), container_id(&engine_b)), ids);

    // One host's option changes: that host alone restarts.
    let inv = inventory(d, &engine_a, ("64512", standin), ("64514", standin));
    rollout.fleet(&inv);
    let (ok, third) = rollout.playbook(&inv, &[]);
    assert!(ok, "{third}");
    assert_eq!(container_id(&engine_a), ids.0, "host-a untouched");
    assert_ne!(container_id(&engine_b), ids.1, "host-b restarted");
    assert!(env_of(&engine_b).contains(&"AS=64514".to_string()));
    assert_eq!(recap(&third, "host-a", "changed"), 0, "{third}");
    let ids = (container_id(&engine_a), container_id(&engine_b));

    // --check --diff: the unit that would change, no secret, nothing done.
    let silent = "calico/node:standin-silent";
    let inv = inventory(d, &engine_a, ("64515", silent), ("64516", standin));
    rollout.fleet(&inv);
    let (_, dry) = rollout.playbook(&inv, &["--check", "--diff"]);
    assert!(
        dry.contains(&format!("+    {silent}")),
        "the unit's diff: {dry}"
    );
    assert!(
        dry.contains("/etc/systemd/system/calico-node.service"),
        "{dry}"
    );
    assert_eq!((container_id(&engine_a), container_id(&engine_b)), ids);
    let unit = host_a.exec(&["cat", "/etc/systemd/system/calico-node.service"]);
    assert!(
        !String::from_utf8_lossy(&unit.stdout).contains(silent),
        "--check changed nothing"
    );

    // host-a's image never becomes ready (its health check never passes,
    // so its unit never becomes active): the run fails on host-a, and
    // host-b (the next batch) keeps its files and its container.
    let files_b = |host: &SystemdHost| {
        let env = host.exec(&["cat", "/etc/calico/calico-node.env"]).stdout;
        let unit = host
            .exec(&["cat", "/etc/systemd/system/calico-node.service"])
            .stdout;
        (env, unit)
    };
    let before_b = files_b(&host_b);
    let (ok, failed) = rollout.playbook(&inv, &["-e", "calico_node_start_timeout=8"]);
    assert!(!ok, "{failed}");
    assert_eq!(recap(&failed, "host-a", "failed"), 1, "{failed}");
    assert!(failed.contains("not active (ready) yet"), "{failed}");
    assert!(
        !failed.contains("host-b                     : ok=")
            || recap(&failed, "host-b", "changed") == 0
    );
    assert_eq!(files_b(&host_b), before_b);
    assert_eq!(container_id(&engine_b), ids.1, "host-b untouched");
    assert!(env_of(&engine_b).contains(&"AS=64514".to_string()));

    for (i, text) in rollout.outputs.iter().enumerate() {
        assert!(
            !text.contains(PASSWORD) && !text.contains("pa$$"),
            "a secret in output {i}: {text}"
        );
    }
    assert!(!d.join("pwned").exists());
}

#[test]
fn the_playbook_passes_ansible_lint() {
    let venv = Path::new("/opt/calicoctl-ci/venv/bin/ansible-lint");
    let lint = if venv.is_file() {
        venv.to_path_buf()
    } else if let Some(found) = support::require_program("ansible-lint") {
        found
    } else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("inventory.yaml"),
        "hosts:\n  a: {}\n  b: {runtime: podman, disable-docker-networking: true}\n",
    )
    .unwrap();
    let podman = "hosts:\n  a: {runtime: podman, disable-docker-networking: true}\n";
    std::fs::write(d.join("podman.yaml"), podman).unwrap();
    for (format, inventory) in [
        ("systemd", "inventory.yaml"),
        ("systemd-envfile", "inventory.yaml"),
        ("quadlet", "podman.yaml"),
    ] {
        let out_dir = d.join(format);
        let out = support::calicoctl(&[
            "node",
            "fleet",
            "--inventory",
            d.join(inventory).to_str().unwrap(),
            "-o",
            format,
            "--out-dir",
            out_dir.to_str().unwrap(),
            "--playbook",
            "--batch=25%",
        ])
        .output()
        .unwrap();
        support::assert_success(&out);
        // ansible-lint runs the ansible-core it was installed with (in its
        // venv), not Debian's: its directory comes first on PATH.
        let venv_bin = lint.parent().unwrap().display().to_string();
        let result = Command::new(&lint)
            .args(["--offline", "--nocolor"])
            .arg(out_dir.join("calico-node.yml"))
            .current_dir(&out_dir)
            .env("HOME", d)
            .env("PATH", format!("{venv_bin}:/usr/bin:/bin"))
            .output()
            .unwrap();
        let report = format!(
            "{}{}",
            String::from_utf8_lossy(&result.stdout),
            String::from_utf8_lossy(&result.stderr)
        );
        support::assert_success_in(&result, format_args!("{format}: {report}"));
        assert!(
            report.contains("0 failure(s), 0 warning(s)"),
            "{format}: {report}"
        );
    }
}

/// The INI inventory of one host whose calico-node runs on podman inside
/// it, reached by the docker connection plugin on `engine`.
fn podman_inventory(dir: &Path, engine: &Dockerd, as_number: &str, config: &str) -> PathBuf {
    let text = format!(
        "[calico]\n\
         podman-host calico_as={as_number}\n\
         [calico:vars]\n\
         ansible_connection=community.docker.docker\n\
         ansible_docker_extra_args=\"-H {}\"\n\
         ansible_user=root\n\
         ansible_python_interpreter=/usr/bin/python3\n\
         calico_runtime=podman\n\
         calico_disable_docker_networking=true\n\
         calico_node_image={PODMAN_IMAGE}\n\
         calico_config={}\n",
        engine.host(),
        dir.join(config).display()
    );
    let path = dir.join("podman-hosts.ini");
    std::fs::write(&path, text).unwrap();
    path
}

/// The stand-in image on the podman host, as a short name (podman records
/// it as localhost/calico-node-standin:running).
const PODMAN_IMAGE: &str = "calico-node-standin:running";

/// What podman on the host says of calico-node: its ID and environment.
fn podman_container(host: &SystemdHost) -> (String, Vec<String>) {
    let out = host.exec(&["podman", "container", "inspect", "calico-node"]);
    support::assert_success(&out);
    let c = &serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()[0];
    let env = serde_json::from_value(c["Config"]["Env"].clone()).unwrap();
    (c["Id"].as_str().unwrap().to_string(), env)
}

/// `-o quadlet`: podman's generator makes calico-node.service from the
/// installed calico-node.container under systemd, and it starts.
#[test]
#[ignore = "rollout tier: ansible-playbook against systemd hosts in a private engine; cargo test -- --include-ignored runs it (.ci/run does)"]
fn quadlet_rolls_out_under_systemd_with_podman_5() {
    podman_rollout("quadlet");
}

/// The podman unit form (`-o systemd-envfile --runtime podman`): the unit
/// runs podman attached, under systemd.
#[test]
#[ignore = "rollout tier: ansible-playbook against systemd hosts in a private engine; cargo test -- --include-ignored runs it (.ci/run does)"]
fn podman_unit_rolls_out_under_systemd_with_podman_5() {
    podman_rollout("systemd-envfile");
}

/// A podman host rolled out by real Ansible: the first run starts
/// calico-node from the installed files under systemd with the host's
/// values, a second run changes nothing (same container); for Quadlet, a
/// host whose secrets went away loses its env file (the fleet's out dir and
/// the host alike), and calico-node restarts without them.
fn podman_rollout(format: &str) {
    if support::require_program("ansible-playbook").is_none() {
        return;
    }
    let Some(engine) = Dockerd::start() else {
        return;
    };
    let Some(host) = SystemdHost::start_podman(&engine, "podman-host", PODMAN_IMAGE) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let endpoints = "  etcdEndpoints: https://10.0.0.1:2379\n";
    let password = format!(
        "  etcdPassword: {}\n",
        serde_json::to_string(PASSWORD).unwrap()
    );
    std::fs::create_dir_all(d.join("plain")).unwrap();
    support::write_config(d, &format!("{endpoints}{password}"));
    support::write_config(&d.join("plain"), endpoints);
    let mut rollout = Rollout {
        dir: d,
        format,
        outputs: Vec::new(),
    };
    let inv = podman_inventory(d, &engine, "64512", "calicoctl.cfg");
    rollout.fleet(&inv);

    let (ok, first) = rollout.playbook(&inv, &[]);
    assert!(ok, "{first}");
    assert_eq!(host.is_active(), "active", "{first}");
    let (id, env) = podman_container(&host);
    for var in [
        "AS=64512",
        "NODENAME=podman-host",
        &format!("ETCD_PASSWORD={PASSWORD}"),
    ] {
        assert!(env.iter().any(|v| v == var), "{var} not in {env:?}");
    }
    let env_file = match format {
        "quadlet" => "/etc/containers/systemd/calico-node.env",
        _ => "/etc/calico/calico-node.env",
    };
    let mode = host.exec(&["stat", "-c", "%a %U", env_file]);
    assert_eq!(String::from_utf8_lossy(&mode.stdout).trim(), "600 root");

    let (ok, second) = rollout.playbook(&inv, &[]);
    assert!(ok, "{second}");
    assert_eq!(recap(&second, "podman-host", "changed"), 0, "{second}");
    assert_eq!(podman_container(&host).0, id, "left running");

    if format == "quadlet" {
        // The secrets go: the fleet removes the host's env file, the
        // playbook removes the installed one and restarts calico-node.
        let inv = podman_inventory(d, &engine, "64512", "plain/calicoctl.cfg");
        rollout.fleet(&inv);
        assert!(!d.join("out/podman-host/calico-node.env").exists());
        let (ok, third) = rollout.playbook(&inv, &[]);
        assert!(ok, "{third}");
        assert!(recap(&third, "podman-host", "changed") > 0, "{third}");
        assert!(
            !host.exec(&["test", "-e", env_file]).status.success(),
            "{third}"
        );
        assert_eq!(host.is_active(), "active");
        let (new_id, env) = podman_container(&host);
        assert_ne!(new_id, id, "restarted");
        assert!(
            !env.iter().any(|v| v.starts_with("ETCD_PASSWORD")),
            "{env:?}"
        );
        let (ok, fourth) = rollout.playbook(&inv, &[]);
        assert!(ok, "{fourth}");
        assert_eq!(recap(&fourth, "podman-host", "changed"), 0, "{fourth}");
        assert_eq!(podman_container(&host).0, new_id);
    }
    for (i, text) in rollout.outputs.iter().enumerate() {
        assert!(
            !text.contains(PASSWORD) && !text.contains("pa$$"),
            "a secret in output {i}: {text}"
        );
    }
}
