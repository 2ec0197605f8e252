//! The printed docker command, fed to the real docker CLI, creates the
//! container calico/node needs: a POSIX shell parses our quoting, the docker
//! CLI parses the options, and a stand-in engine records what arrived.

mod support;

use serde_json::Value;
use std::process::Command;
use support::engine::FakeEngine;

/// A list of strings from a create request, sorted: the docker CLI sends
/// binds and environment in an order of its own, which is no part of the
/// container's configuration.
fn sorted(list: &Value) -> Vec<String> {
    let mut items: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_str().unwrap().to_string())
        .collect();
    items.sort();
    items
}

fn binds(body: &Value) -> Vec<String> {
    sorted(&body["HostConfig"]["Binds"])
}

fn sorted_env(body: &Value) -> Vec<String> {
    sorted(&body["Env"])
}

/// Run `line` with `sh -c` against a fresh stand-in engine.
fn create_request(line: &str, extra_env: &[(&str, &str)]) -> Option<(String, Value)> {
    let docker = support::require_program("docker")?;
    let dir = tempfile::tempdir().unwrap();
    let engine = FakeEngine::start(dir.path());
    let bin = docker.parent().unwrap().to_str().unwrap().to_string();
    let mut sh = Command::new("sh");
    sh.arg("-c")
        .arg(line)
        .env_clear()
        .env("PATH", format!("{bin}:/usr/bin:/bin"))
        .env("HOME", dir.path())
        .env("DOCKER_HOST", engine.host());
    for (k, v) in extra_env {
        sh.env(k, v);
    }
    let out = sh.output().unwrap();
    assert!(
        out.status.success(),
        "docker run failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let creates = engine.creates();
    assert_eq!(creates.len(), 1, "exactly one container created");
    Some((creates[0].name.clone(), creates[0].body.clone()))
}

fn dryrun(args: &[&str], env: &[(&str, &str)]) -> String {
    let mut cmd = support::calicoctl(&[&["node", "run", "--dryrun"], args].concat());
    for (k, v) in env {
        cmd.env(k, v);
    }
    support::stdout_of(&cmd.output().unwrap())
}

const DEFAULT_BINDS: [&str; 7] = [
    "/var/log/calico:/var/log/calico",
    "/var/run/calico:/var/run/calico",
    "/var/lib/calico:/var/lib/calico",
    "/lib/modules:/lib/modules",
    "/run:/run",
    "/run/docker/plugins:/run/docker/plugins",
    "/var/run/docker.sock:/var/run/docker.sock",
];

#[test]
fn plain_dry_run_creates_the_upstream_container() {
    let text = dryrun(
        &["--as=1.10", "--ip=10.0.0.5"],
        &[("ETCD_ENDPOINTS", "http://10.0.0.1:2379")],
    );
    let Some((name, body)) = create_request(&support::dryrun_command(&text), &[]) else {
        return;
    };
    assert_eq!(name, "calico-node");
    assert_eq!(body["Image"], "quay.io/calico/node:latest");
    assert_eq!(
        sorted_env(&body),
        [
            "AS=65546",
            "CALICO_LIBNETWORK_ENABLED=true",
            "CALICO_NETWORKING_BACKEND=bird",
            "ETCD_ENDPOINTS=http://10.0.0.1:2379",
            "IP=10.0.0.5",
            "NODENAME=node1",
        ]
    );
    let host = &body["HostConfig"];
    assert_eq!(host["NetworkMode"], "host");
    assert_eq!(host["Privileged"], true);
    assert_eq!(host["RestartPolicy"]["Name"], "always");
    assert_eq!(host["AutoRemove"], false);
    let mut want: Vec<&str> = DEFAULT_BINDS.to_vec();
    want.sort();
    assert_eq!(binds(&body), want);
}

#[test]
fn hostile_values_reach_docker_unchanged() {
    let name = "n 1;$(touch x)`id`'\"\\%\tü";
    let log_dir = "/var/log/my calico's";
    let text = dryrun(
        &["--name", name, "--log-dir", log_dir, "--init-system"],
        &[],
    );
    let Some((_, body)) = create_request(&support::dryrun_command(&text), &[]) else {
        return;
    };
    assert!(
        sorted_env(&body).contains(&format!("NODENAME={name}")),
        "{:?}",
        sorted_env(&body)
    );
    assert!(
        binds(&body).contains(&format!("{log_dir}:/var/log/calico")),
        "{:?}",
        binds(&body)
    );
    assert_eq!(body["HostConfig"]["AutoRemove"], true);
}

#[test]
fn secrets_come_from_the_engine_environment() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = support::write_config(
        dir.path(),
        "  etcdEndpoints: https://e:2379\n  etcdUsername: calico\n  etcdPassword: pw-from-config\n",
    );
    let text = dryrun(&["-c", cfg.to_str().unwrap()], &[]);
    let line = support::dryrun_command(&text);
    assert!(
        !line.contains("pw-from-config"),
        "the password is not on the command line: {line}"
    );
    let exported = [
        ("ETCD_USERNAME", "calico"),
        ("ETCD_PASSWORD", "exported pw"),
    ];
    let Some((_, body)) = create_request(&line, &exported) else {
        return;
    };
    let env = sorted_env(&body);
    assert!(env.contains(&"ETCD_USERNAME=calico".to_string()), "{env:?}");
    assert!(
        env.contains(&"ETCD_PASSWORD=exported pw".to_string()),
        "{env:?}"
    );
}
