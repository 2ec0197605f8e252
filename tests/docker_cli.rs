//! The printed docker command, fed to the real docker CLI, creates the
//! container calico/node needs: a POSIX shell parses our quoting, the docker
//! CLI parses the options, and a stand-in engine records what arrived.

mod support;

use std::process::Command;
use support::engine::{Created, created_by};

/// Run `line` with `sh -c` (the docker CLI first on PATH) against a fresh
/// stand-in engine; the container it asked for.
fn create_request(line: &str, extra_env: &[(&str, &str)]) -> Option<Created> {
    let docker = support::require_program("docker")?;
    let dir = tempfile::tempdir().unwrap();
    let bin = docker.parent().unwrap().display().to_string();
    let mut sh = Command::new("sh");
    sh.arg("-c")
        .arg(line)
        .env_clear()
        .env("PATH", format!("{bin}:/usr/bin:/bin"));
    for (k, v) in extra_env {
        sh.env(k, v);
    }
    Some(created_by(sh, dir.path()).unwrap_or_else(|e| panic!("{e}")))
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
    let Some(created) = create_request(&support::dryrun_command(&text), &[]) else {
        return;
    };
    assert_eq!(created.name, "calico-node");
    assert_eq!(created.image, "quay.io/calico/node:latest");
    assert_eq!(
        created.env,
        [
            "AS=65546",
            "CALICO_LIBNETWORK_ENABLED=true",
            "CALICO_NETWORKING_BACKEND=bird",
            "ETCD_ENDPOINTS=http://10.0.0.1:2379",
            "IP=10.0.0.5",
            "NODENAME=node1",
        ]
    );
    let host = &created.body["HostConfig"];
    assert_eq!(host["NetworkMode"], "host");
    assert_eq!(host["Privileged"], true);
    assert_eq!(host["RestartPolicy"]["Name"], "always");
    assert_eq!(host["AutoRemove"], false);
    let mut want: Vec<&str> = DEFAULT_BINDS.to_vec();
    want.sort();
    assert_eq!(created.binds, want);
}

#[test]
fn hostile_values_reach_docker_unchanged() {
    let name = "n 1;$(touch x)`id`'\"\\%\tü";
    let log_dir = "/var/log/my calico's";
    let text = dryrun(
        &["--name", name, "--log-dir", log_dir, "--init-system"],
        &[],
    );
    let Some(created) = create_request(&support::dryrun_command(&text), &[]) else {
        return;
    };
    assert!(
        created.env.contains(&format!("NODENAME={name}")),
        "{:?}",
        created.env
    );
    assert!(
        created
            .binds
            .contains(&format!("{log_dir}:/var/log/calico")),
        "{:?}",
        created.binds
    );
    assert_eq!(created.body["HostConfig"]["AutoRemove"], true);
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
    let Some(created) = create_request(&line, &exported) else {
        return;
    };
    assert!(
        created.env.contains(&"ETCD_USERNAME=calico".to_string()),
        "{:?}",
        created.env
    );
    assert!(
        created
            .env
            .contains(&"ETCD_PASSWORD=exported pw".to_string()),
        "{:?}",
        created.env
    );
}
