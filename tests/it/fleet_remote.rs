//! The real-engine tier, over ssh: `node fleet --check` (without
//! `--out-dir`) reaches each host's engine through the engine's own ssh
//! transport. A real sshd, with its own host key, in network, mount and
//! PID namespaces of its own (its /run a tmpfs; all of it gone when sshd
//! is killed), serves a private
//! dockerd (`support::dockerd`) to a key it trusts; calicoctl runs in the
//! same network namespace and the docker CLI runs the real ssh client,
//! given the test's own configuration (`-F`: key, `known_hosts`, strict
//! host key checking) by a wrapper first on PATH, since ssh reads `~/.ssh`
//! from the password database, not `$HOME`. Cases: a host as planned, a
//! drifted one, one whose port is closed, one whose host key is unknown
//! (never accepted), one that accepts and never answers (given up at
//! `--timeout`, its ssh killed), an etcd password the container lacks and
//! one it has another value of (named, neither shown), a stopped
//! container, the JSON report against its schema, the report's order
//! and summary and exit codes, and
//! an Ansible INI inventory whose `ansible_host`/`ansible_port`/
//! `ansible_user` say where to connect.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};
use support::dockerd::Dockerd;

const IMAGE: &str = "calico/node:standin";
const PORT: u16 = 2222;
/// A port that accepts connections and never answers.
const SILENT: u16 = 2224;
/// Compared, never shown.
const PASSWORD: &str = "s3cret pa$$word";
const OLD_PASSWORD: &str = "0ld s3cret";

/// check-jsonschema accepts `document` against `--report-schema`.
fn validate_report(dir: &Path, document: &[u8]) {
    let venv = Path::new("/opt/calicoctl-ci/venv/bin/check-jsonschema");
    let validator = match venv.is_file() {
        true => venv.to_path_buf(),
        false => match support::require_program("check-jsonschema") {
            Some(found) => found,
            None => return,
        },
    };
    let schema = support::calicoctl(&["node", "fleet", "--report-schema"])
        .output()
        .unwrap();
    support::assert_success(&schema);
    std::fs::write(dir.join("report.schema.json"), &schema.stdout).unwrap();
    std::fs::write(dir.join("report.json"), document).unwrap();
    let out = run(Command::new(validator)
        .arg("--schemafile")
        .arg(dir.join("report.schema.json"))
        .arg(dir.join("report.json")));
    support::assert_success_in(&out, "check-jsonschema on the live report");
}

/// sshd in its own network and mount namespaces; killed, by pid, on drop.
struct Sshd {
    child: Child,
    dir: PathBuf,
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run(cmd: &mut Command) -> Output {
    cmd.stdin(Stdio::null()).output().unwrap()
}

fn keygen(path: &Path) {
    support::assert_success(&run(Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(path)));
}

impl Sshd {
    /// sshd serving the docker socket `socket` to the client key in `dir`.
    fn start(dir: &Path, socket: &Path) -> Sshd {
        keygen(&dir.join("host_key"));
        keygen(&dir.join("client_key"));
        std::fs::copy(dir.join("client_key.pub"), dir.join("authorized_keys")).unwrap();
        let d = dir.display();
        std::fs::write(
            dir.join("sshd_config"),
            format!(
                "Port {PORT}\nListenAddress 127.0.0.1\nHostKey {d}/host_key\n\
                 PidFile {d}/sshd.pid\nAuthorizedKeysFile {d}/authorized_keys\nStrictModes no\n\
                 UsePAM no\nPermitRootLogin prohibit-password\nPasswordAuthentication no\n\
                 KbdInteractiveAuthentication no\nSetEnv DOCKER_HOST=unix://{}\n",
                socket.display()
            ),
        )
        .unwrap();
        // Beside sshd, a port that accepts and never says a word: ssh
        // waits there for a banner until calicoctl's timeout.
        let silent = format!(
            "import socket\ns = socket.socket()\ns.bind(('127.0.0.1', {SILENT}))\n\
             s.listen()\nheld = []\nwhile True:\n    held.append(s.accept())\n"
        );
        std::fs::write(dir.join("silent.py"), silent).unwrap();
        let script = format!(
            "mount -t tmpfs tmpfs /run && mkdir /run/sshd && ip link set lo up && \
             (python3 {d}/silent.py &) && exec /usr/sbin/sshd -D -e -f {d}/sshd_config"
        );
        let log = std::fs::File::create(dir.join("sshd.log")).unwrap();
        let child = Command::new("unshare")
            .args([
                "--net",
                "--mount",
                "--propagation",
                "private",
                "--pid",
                "--fork",
                "--kill-child",
            ])
            .args(["sh", "-c", &script])
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let sshd = Sshd {
            child,
            dir: dir.to_path_buf(),
        };
        // The client's side: its key, the server's host key for the one
        // address it serves, strict checking; ssh found through PATH.
        let host_key = std::fs::read_to_string(dir.join("host_key.pub")).unwrap();
        std::fs::write(
            dir.join("known_hosts"),
            format!("[127.0.0.1]:{PORT} {host_key}"),
        )
        .unwrap();
        std::fs::write(
            dir.join("ssh_config"),
            format!(
                "Host *\n  IdentityFile {d}/client_key\n  IdentitiesOnly yes\n  \
                 UserKnownHostsFile {d}/known_hosts\n  GlobalKnownHostsFile /dev/null\n  \
                 StrictHostKeyChecking yes\n  BatchMode yes\n"
            ),
        )
        .unwrap();
        let bin = dir.join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        let wrapper = bin.join("ssh");
        std::fs::write(
            &wrapper,
            format!("#!/bin/sh\nexec /usr/bin/ssh -F {d}/ssh_config \"$@\"\n"),
        )
        .unwrap();
        support::assert_success(&run(Command::new("chmod").arg("755").arg(&wrapper)));
        let deadline = Instant::now() + Duration::from_secs(30);
        while !sshd.dir.join("sshd.pid").exists() {
            assert!(
                Instant::now() < deadline,
                "sshd did not come up:\n{}",
                std::fs::read_to_string(dir.join("sshd.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        sshd
    }

    /// calicoctl in sshd's network namespace, with the test's ssh first on
    /// PATH and no engine of this machine's (no DOCKER_HOST).
    fn calicoctl(&self, args: &[&str]) -> Output {
        run(&mut self.calicoctl_command(args))
    }

    fn calicoctl_command(&self, args: &[&str]) -> Command {
        let mut command = Command::new("nsenter");
        command
            .arg(format!("--net=/proc/{}/ns/net", self.child.id()))
            .arg("--")
            .arg(env!("CARGO_BIN_EXE_calicoctl"))
            .args(args)
            .env_clear()
            .env(
                "PATH",
                format!(
                    "{}:/usr/local/bin:/usr/bin:/bin",
                    self.dir.join("bin").display()
                ),
            )
            .env("HOME", &self.dir)
            .env("CALICOCTL_DEFAULT_CONFIG", "/nonexistent");
        command
    }
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// One private dockerd behind one sshd, for every step of the docker test
/// (dropped in this order: sshd, the engine, then their directory).
struct Docker {
    sshd: Sshd,
    engine: Dockerd,
    dir: tempfile::TempDir,
}

const NOTE: &str =
    "No /nonexistent and no datastore variable set: etcd with no endpoints (docs/config.md).\n";

fn at(port: u16, host: &str) -> String {
    format!("ssh://root@{host}:{port}")
}

/// A datastore configuration with `password`, at `name` in `dir`.
fn config(dir: &Path, name: &str, password: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(
        &path,
        format!(
            "apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nspec:\n  \
             etcdEndpoints: https://10.0.0.1:2379\n  etcdUsername: calico\n  \
             etcdPassword: \"{password}\"\n"
        ),
    )
    .unwrap();
    path
}

impl Docker {
    /// calico-node started on the engine by the printed `-o docker` line
    /// (with `config` and its password, when given), after any before it.
    fn start_node(&self, config: Option<(&Path, &str)>) {
        let _ = self.engine.docker(&["rm", "-f", "calico-node"]);
        let image = format!("--node-image={IMAGE}");
        let mut args = vec!["node", "run", "-o", "docker", "--name=n1", &image];
        args.push("--disable-docker-networking");
        if let Some((path, _)) = config {
            args.extend(["-c", path.to_str().unwrap()]);
        }
        let printed = support::calicoctl(&args)
            .env("CALICOCTL_DEFAULT_CONFIG", "/nonexistent")
            .output()
            .unwrap();
        support::assert_success(&printed);
        let mut sh = Command::new("sh");
        sh.arg("-c")
            .arg(stdout(&printed).trim_end())
            .env("DOCKER_HOST", self.engine.host());
        if let Some((_, password)) = config {
            sh.env("ETCD_USERNAME", "calico")
                .env("ETCD_PASSWORD", password);
        }
        support::assert_success(&run(&mut sh));
    }

    /// `node fleet --inventory FILE --check` with `extra`, over ssh.
    fn check(&self, inventory: &Path, extra: &[&str]) -> Output {
        let inv = inventory.to_str().unwrap();
        let args = [&["node", "fleet", "--inventory", inv, "--check"][..], extra].concat();
        self.sshd.calicoctl(&args)
    }

    /// The native inventory of every kind of host.
    fn inventory(&self) -> PathBuf {
        let inventory = self.dir.path().join("inventory.yaml");
        std::fs::write(
            &inventory,
            format!(
                "defaults:\n  name: n1\n  node-image: {IMAGE}\n  disable-docker-networking: true\n\
                 hosts:\n  planned: {{engine-host: \"{}\"}}\n  drifted: {{engine-host: \"{}\", as: 64999}}\n  \
                 closed: {{engine-host: \"{}\"}}\n  stranger: {{engine-host: \"{}\"}}\n  \
                 silent: {{engine-host: \"{}\"}}\n  secret: {{engine-host: \"{}\", config: {}}}\n",
                at(PORT, "127.0.0.1"),
                at(PORT, "127.0.0.1"),
                at(PORT + 1, "127.0.0.1"),
                at(PORT, "localhost"),
                at(SILENT, "127.0.0.1"),
                at(PORT, "127.0.0.1"),
                config(self.dir.path(), "calicoctl.cfg", PASSWORD).display()
            ),
        )
        .unwrap();
        inventory
    }
}

/// Each kind of host in one report, in inventory order: as planned,
/// drifted, a closed port, an unknown host key (refused, never accepted),
/// a host that never answers (given up at --timeout, its ssh killed).
fn every_kind_of_host_in_one_report(docker: &Docker, inventory: &Path) {
    let limit = "planned:drifted:closed:stranger:silent";
    let out = docker.check(inventory, &["--limit", limit, "--timeout", "3"]);
    let report = stdout(&out);
    let lines: Vec<&str> = report.lines().collect();
    assert_eq!(out.status.code(), Some(1), "{}", support::describe(&out));
    assert_eq!(lines.len(), 5, "{report}");
    assert_eq!(lines[0], "planned: calico-node matches the plan.");
    assert_eq!(lines[1], "drifted: env AS: running (unset), planned 64999");
    assert!(
        lines[2].starts_with("closed: unreachable: docker "),
        "{report}"
    );
    assert!(lines[2].contains("Connection refused"), "{report}");
    assert!(
        lines[3].starts_with("stranger: unreachable: docker "),
        "{report}"
    );
    assert!(
        lines[3].contains("No ED25519 host key is known for [localhost]:2222"),
        "{report}"
    );
    assert_eq!(
        lines[4],
        "silent: unreachable: docker gave no answer within 3 s"
    );
    let summary = "5 hosts: 1 as planned, 1 drifted, 3 unreachable.\n";
    assert_eq!(stderr(&out), format!("{summary}{NOTE}"));
    let left = run(Command::new("pgrep").args(["-f", &format!("-p {SILENT} -- 127.0.0.1")]));
    assert!(
        !left.status.success(),
        "an ssh outlived its timeout: {}",
        stdout(&left)
    );
}

/// The JSON report: every host, structured; an etcd password the
/// container lacks named, never shown; the schema accepts it.
fn the_json_report(docker: &Docker, inventory: &Path) {
    let limit = "planned:drifted:closed:secret";
    let out = docker.check(inventory, &["--limit", limit, "--report", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", support::describe(&out));
    assert!(
        !support::describe(&out).contains(PASSWORD),
        "a secret printed"
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let hosts = json["hosts"].as_array().unwrap();
    let names: Vec<&str> = hosts.iter().map(|h| h["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["planned", "drifted", "closed", "secret"]);
    assert_eq!(
        hosts[1]["differences"],
        serde_json::json!([{"kind": "env", "name": "AS", "running": null, "planned": "64999"}])
    );
    assert_eq!(hosts[2]["status"], "unreachable");
    let secret = hosts[3]["differences"].as_array().unwrap();
    let unset = serde_json::json!({"kind": "secret-unset", "name": "ETCD_PASSWORD"});
    assert!(secret.contains(&unset), "{json}");
    assert_eq!(
        json["summary"],
        serde_json::json!({"hosts": 4, "matches": 1, "drift": 2, "unreachable": 1})
    );
    validate_report(docker.dir.path(), &out.stdout);
}

/// Every host reached, one drifted: exit 2.
fn drift_alone_is_exit_2(docker: &Docker, inventory: &Path) {
    let out = docker.check(inventory, &["--limit", "planned:drifted"]);
    assert_eq!(out.status.code(), Some(2), "{}", support::describe(&out));
    let summary = "2 hosts: 1 as planned, 1 drifted, 0 unreachable.\n";
    assert_eq!(stderr(&out), format!("{summary}{NOTE}"));
}

/// An Ansible INI inventory: where Ansible would connect.
fn an_ansible_ini_inventory(docker: &Docker) {
    let ini = docker.dir.path().join("hosts.ini");
    std::fs::write(
        &ini,
        format!(
            "[workers]\nw1 ansible_host=127.0.0.1 ansible_port={PORT} ansible_user=root\n\n\
             [workers:vars]\ncalico_name=n1\ncalico_node_image={IMAGE}\n\
             calico_disable_docker_networking=true\n"
        ),
    )
    .unwrap();
    let out = docker.check(&ini, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", support::describe(&out));
    assert_eq!(stdout(&out), "w1: calico-node matches the plan.\n");
    let summary = "1 host: 1 as planned, 0 drifted, 0 unreachable.\n";
    let tail = format!("\n{summary}{NOTE}");
    assert!(stderr(&out).ends_with(&tail), "{}", support::describe(&out));
}

/// The container restarted with one etcd password and planned with
/// another: compared and named, neither shown. Then stopped.
fn a_rotated_password_then_a_stopped_container(docker: &Docker) {
    let old = config(docker.dir.path(), "old.cfg", OLD_PASSWORD);
    let new = config(docker.dir.path(), "new.cfg", PASSWORD);
    docker.start_node(Some((&old, OLD_PASSWORD)));
    let rotated = docker.dir.path().join("rotated.yaml");
    std::fs::write(
        &rotated,
        format!(
            "hosts:\n  rotated: {{engine-host: \"{}\", name: n1, node-image: {IMAGE}, \
             disable-docker-networking: true, config: {}}}\n",
            at(PORT, "127.0.0.1"),
            new.display()
        ),
    )
    .unwrap();
    let check = || {
        let out = docker.check(&rotated, &[]);
        let shown = support::describe(&out);
        let leaked = shown.contains(PASSWORD) || shown.contains(OLD_PASSWORD);
        assert!(!leaked, "a secret printed: {shown}");
        out
    };
    let out = check();
    assert_eq!(out.status.code(), Some(2), "{}", support::describe(&out));
    assert_eq!(stdout(&out), "rotated: env ETCD_PASSWORD: differs\n");
    support::assert_success(&docker.engine.docker(&["stop", "calico-node"]));
    let out = check();
    assert_eq!(out.status.code(), Some(2), "{}", support::describe(&out));
    let report = stdout(&out);
    assert!(
        report.starts_with("rotated: not running: exited "),
        "{report}"
    );
}

/// `node fleet import` through the same transport: two hosts (the same
/// engine twice) give one inventory, their shared options under defaults,
/// each host's engine-host its own, which `node fleet --check` then finds
/// matching; a closed port is that host's unreachable line, exit 1.
fn a_fleet_import_over_ssh(docker: &Docker) {
    let inventory = docker.dir.path().join("import.yaml");
    let hosts = |extra: &str| {
        format!(
            "hosts:\n  one: {{engine-host: \"{}\"}}\n  two: {{engine-host: \"{}\"}}\n{extra}",
            at(PORT, "127.0.0.1"),
            at(PORT, "127.0.0.1"),
        )
    };
    let closed = format!(
        "  closed: {{engine-host: \"{}\"}}\n",
        at(PORT + 1, "127.0.0.1")
    );
    std::fs::write(&inventory, hosts(&closed)).unwrap();
    let inv = inventory.to_str().unwrap();
    let out = docker
        .sshd
        .calicoctl(&["node", "fleet", "import", "--inventory", inv]);
    assert_eq!(out.status.code(), Some(1), "{}", support::describe(&out));
    assert!(
        stderr(&out).contains("closed: unreachable: "),
        "{}",
        stderr(&out)
    );

    std::fs::write(&inventory, hosts("")).unwrap();
    let out = docker
        .sshd
        .calicoctl(&["node", "fleet", "import", "--inventory", inv]);
    assert_eq!(out.status.code(), Some(0), "{}", support::describe(&out));
    let imported = stdout(&out);
    assert!(
        imported.contains("defaults:\n  node-image: \""),
        "{imported}"
    );
    assert!(imported.contains("  name: \"n1\"\n"), "{imported}");
    assert!(
        imported.contains("  disable-docker-networking: true\n"),
        "{imported}"
    );
    let engine_host = format!("    engine-host: \"{}\"\n", at(PORT, "127.0.0.1"));
    assert_eq!(imported.matches(&engine_host).count(), 2, "{imported}");
    let again = docker.dir.path().join("imported.yaml");
    std::fs::write(&again, &imported).unwrap();
    let check = docker.check(&again, &[]);
    assert_eq!(
        check.status.code(),
        Some(0),
        "{}",
        support::describe(&check)
    );
    assert_eq!(
        stdout(&check),
        "one: calico-node matches the plan.\ntwo: calico-node matches the plan.\n"
    );
}

#[test]
#[ignore = "engine tier: starts a private container engine; cargo test -- --include-ignored runs it (.ci/run does)"]
fn fleet_check_reaches_each_host_engine_over_ssh() {
    if support::require_program("sshd").is_none() && !Path::new("/usr/sbin/sshd").exists() {
        return;
    }
    let Some(engine) = Dockerd::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let sshd = Sshd::start(dir.path(), &engine.socket());
    let docker = Docker { sshd, engine, dir };
    docker.start_node(None);
    a_fleet_import_over_ssh(&docker);
    let inventory = docker.inventory();
    every_kind_of_host_in_one_report(&docker, &inventory);
    the_json_report(&docker, &inventory);
    drift_alone_is_exit_2(&docker, &inventory);
    an_ansible_ini_inventory(&docker);
    a_rotated_password_then_a_stopped_container(&docker);
}

/// podman's own transport: `podman --url ssh://.../podman.sock` through
/// the same sshd to a private podman's API service (its socket in the
/// test's directory), podman's ssh client given the key by
/// CONTAINER_SSHKEY and the host key by `$HOME/.ssh/known_hosts`.
#[test]
#[ignore = "engine tier: starts a private container engine; cargo test -- --include-ignored runs it (.ci/run does)"]
fn fleet_check_reaches_podman_over_its_ssh_url() {
    if support::require_program("sshd").is_none() && !Path::new("/usr/sbin/sshd").exists() {
        return;
    }
    let Some(podman) = support::podman::Podman::new() else {
        return;
    };
    let image = "localhost/calico-node-standin:running";
    crate::podman::import_running_image(&podman, image);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let log = d.join("log");
    std::fs::create_dir_all(&log).unwrap();
    let args = [
        "--runtime=podman",
        "--disable-docker-networking",
        "--name=n1",
        &format!("--node-image={image}"),
        &format!("--log-dir={}", log.display()),
    ];
    let printed = support::calicoctl(&[&["node", "run", "-o", "docker"][..], &args].concat())
        .env("CALICOCTL_DEFAULT_CONFIG", "/nonexistent")
        .output()
        .unwrap();
    support::assert_success(&printed);
    support::assert_success(&podman.sh(stdout(&printed).trim_end(), d, &[]));

    let socket = d.join("podman.sock");
    let mut service = podman
        .in_namespace("podman")
        .args(["system", "service", "--time=0"])
        .arg(format!("unix://{}", socket.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !socket.exists() {
        assert!(
            Instant::now() < deadline,
            "podman's service did not come up"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let sshd = Sshd::start(d, &socket);
    std::fs::create_dir_all(d.join(".ssh")).unwrap();
    std::fs::copy(d.join("known_hosts"), d.join(".ssh/known_hosts")).unwrap();

    let address = format!("ssh://root@127.0.0.1:{PORT}{}", socket.display());
    let inventory = d.join("inventory.yaml");
    std::fs::write(
        &inventory,
        format!(
            "defaults:\n  runtime: podman\n  disable-docker-networking: true\n  name: n1\n  \
             node-image: {image}\n  log-dir: {}\n  engine-host: \"{address}\"\nhosts:\n  planned: {{}}\n  \
             drifted: {{as: 64999}}\n",
            log.display()
        ),
    )
    .unwrap();
    let out = run(sshd
        .calicoctl_command(&[
            "node",
            "fleet",
            "--inventory",
            inventory.to_str().unwrap(),
            "--check",
        ])
        .env("CONTAINER_SSHKEY", d.join("client_key")));
    // podman's own ssh client accepts a host it has no key for: so no
    // known key is refused before podman is asked, and a known key that
    // differs is refused by podman (the URL says secure=true).
    let inv = inventory.to_str().unwrap();
    let with_home = |home: &Path| {
        run(sshd
            .calicoctl_command(&[
                "node",
                "fleet",
                "--inventory",
                inv,
                "--check",
                "--limit",
                "planned",
            ])
            .env("CONTAINER_SSHKEY", d.join("client_key"))
            .env("HOME", home))
    };
    let stranger = tempfile::tempdir().unwrap();
    let unknown = with_home(stranger.path());
    let other = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(other.path().join(".ssh")).unwrap();
    keygen(&other.path().join("other_key"));
    let other_key = std::fs::read_to_string(other.path().join("other_key.pub")).unwrap();
    std::fs::write(
        other.path().join(".ssh/known_hosts"),
        format!("[127.0.0.1]:{PORT} {other_key}"),
    )
    .unwrap();
    let mismatch = with_home(other.path());
    let _ = service.kill();
    let _ = service.wait();
    assert_eq!(
        unknown.status.code(),
        Some(1),
        "{}",
        support::describe(&unknown)
    );
    let expected = format!("planned: unreachable: no host key for [127.0.0.1]:{PORT} in ");
    assert!(
        stdout(&unknown).starts_with(&expected),
        "{}",
        stdout(&unknown)
    );
    assert_eq!(
        mismatch.status.code(),
        Some(1),
        "{}",
        support::describe(&mismatch)
    );
    assert!(
        stdout(&mismatch).starts_with("planned: unreachable: podman ")
            && stdout(&mismatch).contains("ssh host key mismatch"),
        "{}",
        stdout(&mismatch)
    );
    assert_eq!(out.status.code(), Some(2), "{}", support::describe(&out));
    assert_eq!(
        stdout(&out),
        "planned: calico-node matches the plan.\ndrifted: env AS: running (unset), planned 64999\n"
    );
    assert_eq!(
        stderr(&out),
        "2 hosts: 1 as planned, 1 drifted, 0 unreachable.\nNo /nonexistent and no datastore variable set: etcd with no endpoints (docs/config.md).\n"
    );
}
