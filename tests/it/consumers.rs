//! Every output format checked by the program that consumes it: systemd's
//! own verifier for units, shellcheck and dash/bash for scripts,
//! docker-compose for compose files, and the real docker CLI (against a
//! stand-in engine) for every command, including a unit's `ExecStart`.
//! A hostile-value matrix runs through all of them: each value either
//! reaches the consumer unchanged or is refused with a clear error.

use crate::support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use support::Input;
use support::engine::{Created, created_by};
use support::systemd::{systemd_exec_words, unit_line};

fn real_docker() -> Option<PathBuf> {
    support::require_program("docker")
}

/// `calicoctl node run ARGS` in `dir` with a clean environment.
fn calicoctl_in(dir: &Path, args: &[&str]) -> Output {
    support::calicoctl(&[&["node", "run"], args].concat())
        .current_dir(dir)
        .output()
        .unwrap()
}

/// `systemd-analyze verify` must accept the unit without a word.
fn verify_unit(dir: &Path, unit_text: &str) -> Option<()> {
    let analyze = support::require_program("systemd-analyze")?;
    let stubs = dir.join("stub-units");
    std::fs::create_dir_all(&stubs).unwrap();
    std::fs::write(
        stubs.join("docker.service"),
        "[Unit]\nDescription=stand-in\n[Service]\nExecStart=/bin/true\n",
    )
    .unwrap();
    let unit = dir.join("calico-node.service");
    std::fs::write(&unit, unit_text).unwrap();
    let out = Command::new(analyze)
        .arg("verify")
        .arg(&unit)
        .env("SYSTEMD_UNIT_PATH", format!("{}:", stubs.display()))
        .env("SYSTEMD_LOG_COLOR", "0")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stderr.trim().is_empty(),
        "systemd-analyze verify:\n{stderr}\n--- unit:\n{unit_text}"
    );
    Some(())
}

fn files_of(stdout: &str) -> Vec<(String, String)> {
    let mut files = Vec::new();
    for chunk in stdout.split("# FILE: ").skip(1) {
        let (name, text) = chunk.split_once('\n').unwrap();
        files.push((
            name.to_string(),
            text.trim_end_matches('\n').to_string() + "\n",
        ));
    }
    files
}

#[test]
fn units_pass_systemd_analyze_verify() {
    let Some(docker) = real_docker() else { return };
    let docker = docker.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let runtime = format!("--runtime-path={docker}");
    let sets: Vec<Vec<&str>> = vec![
        vec![],
        vec![
            "--name=n1",
            "--as=1.10",
            "--ip=10.0.0.5",
            "--ip-autodetection-method=interface=eth.*",
            "--disable-docker-networking",
        ],
        vec![
            "--name=n 1 %i $HOME \\ \"q\" 'q'",
            "--log-dir=/var/log/my calico",
        ],
        vec!["--runtime=podman", "--disable-docker-networking"],
    ];
    for set in &sets {
        for format in ["systemd", "systemd-envfile"] {
            let args: Vec<&str> = [&["-o", format, &runtime], set.as_slice()].concat();
            let out = calicoctl_in(dir.path(), &args);
            let stdout = support::stdout_of(&out);
            let unit = if format == "systemd" {
                stdout
            } else {
                files_of(&stdout)
                    .into_iter()
                    .find(|(n, _)| n == "calico-node.service")
                    .unwrap()
                    .1
            };
            verify_unit(dir.path(), &unit)
                .unwrap_or_else(|| panic!("verify needs systemd-analyze"));
        }
    }
}

#[test]
fn unit_exec_start_parses_as_the_same_container() {
    let Some(docker) = real_docker() else { return };
    let dir = tempfile::tempdir().unwrap();
    let runtime = format!("--runtime-path={}", docker.display());
    let name = "n 1 %i $HOME \\ \"q\" 'q'";
    let out = calicoctl_in(
        dir.path(),
        &[
            "-o",
            "systemd",
            &runtime,
            &format!("--name={name}"),
            "--as=1.10",
        ],
    );
    let unit = support::stdout_of(&out);
    let argv = systemd_exec_words(&unit_line(&unit, "ExecStart"));
    assert_eq!(argv[0], docker.to_str().unwrap());
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..]).env_clear();
    let created = created_by(cmd, dir.path()).unwrap();
    assert_eq!(created.name, "calico-node");
    assert!(
        created.env.contains(&format!("NODENAME={name}")),
        "{:?}",
        created.env
    );
    assert!(created.env.contains(&"AS=65546".to_string()));
    assert_eq!(created.body["HostConfig"]["AutoRemove"], true);
    assert_eq!(created.body["HostConfig"]["NetworkMode"], "host");
    assert_eq!(created.body["HostConfig"]["Privileged"], true);

    let stop = systemd_exec_words(&unit_line(&unit, "ExecStop"));
    assert_eq!(
        stop,
        [
            "-".to_string() + docker.to_str().unwrap(),
            "stop".into(),
            "calico-node".into()
        ]
    );
}

/// Run a generated launcher script with stand-ins, or the binary's run path,
/// in `dir` (which holds `proc/` and receives `calls.log`).
fn launch(dir: &Path, program: &[&str], extra_env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(program[0]);
    cmd.args(&program[1..])
        .current_dir(dir)
        .env_clear()
        .env(
            "PATH",
            format!("{}:/usr/bin:/bin", support::standins().display()),
        )
        .env("STANDIN_LOG", dir.join("calls.log"))
        .env("CALICOCTL_PROC_ROOT", dir.join("proc"))
        .env("CALICOCTL_HOSTNAME", "node1")
        .env("CALICOCTL_DEFAULT_CONFIG", "/nonexistent/calicoctl.cfg")
        // Generous: success cases end at the success line, not at the timeout,
        // and a loaded machine must not turn them into timeouts.
        .env("CALICOCTL_LOG_TIMEOUT_MS", "5000");
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

struct Scenario {
    name: &'static str,
    args: &'static [&'static str],
    env: &'static [(&'static str, &'static str)],
    proc_dirs: &'static [&'static str],
    log: &'static str,
}

const ALL_PROC: &[&str] = &["sys/net/ipv4", "sys/net/ipv6/conf/all", "sys/net/netfilter"];
const STARTED: &str = "Starting\nCalico node started successfully\nnot read\n";

const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "success",
        args: &[],
        env: &[],
        proc_dirs: ALL_PROC,
        log: STARTED,
    },
    Scenario {
        name: "log ends",
        args: &[],
        env: &[],
        proc_dirs: ALL_PROC,
        log: "Starting\nfatal\n",
    },
    Scenario {
        name: "last line unterminated",
        args: &[],
        env: &[],
        proc_dirs: ALL_PROC,
        log: "Starting\nCalico node started successfully",
    },
    Scenario {
        name: "timeout",
        args: &[],
        env: &[
            ("STANDIN_LOGS_HANG", "1"),
            ("CALICOCTL_LOG_TIMEOUT_MS", "1000"),
        ],
        proc_dirs: ALL_PROC,
        log: "Starting\n",
    },
    Scenario {
        name: "run fails",
        args: &[],
        env: &[
            ("STANDIN_RUN_EXIT", "125"),
            ("STANDIN_RUN_OUTPUT", "Unable to find image\npull denied"),
        ],
        proc_dirs: ALL_PROC,
        log: "",
    },
    Scenario {
        name: "in container",
        args: &[],
        env: &[("CALICO_CTL_CONTAINER", "1")],
        proc_dirs: &[],
        log: STARTED,
    },
    Scenario {
        name: "no ipv6",
        args: &[],
        env: &[],
        proc_dirs: &["sys/net/ipv4", "sys/net/netfilter"],
        log: STARTED,
    },
    Scenario {
        name: "conntrack fails",
        args: &[],
        env: &[],
        proc_dirs: &["sys/net/ipv4", "sys/net/ipv6/conf/all"],
        log: STARTED,
    },
    Scenario {
        name: "ipv4 fails",
        args: &[],
        env: &[],
        proc_dirs: &["sys/net/ipv6/conf/all"],
        log: "",
    },
    Scenario {
        name: "ipv6 fails",
        args: &[],
        env: &[],
        proc_dirs: &["sys/net/ipv4", "sys/net/ipv6"],
        log: "",
    },
    Scenario {
        name: "modprobe fails",
        args: &[],
        env: &[("STANDIN_MODPROBE_EXIT", "1")],
        proc_dirs: ALL_PROC,
        log: STARTED,
    },
    Scenario {
        name: "init system",
        args: &["--init-system"],
        env: &[("STANDIN_RUN_EXIT", "3"), ("STANDIN_RUN_OUTPUT", "exited")],
        proc_dirs: ALL_PROC,
        log: "",
    },
    Scenario {
        name: "hostile name",
        args: &["--name=n 1;$(x)'\"`y`\\"],
        env: &[],
        proc_dirs: ALL_PROC,
        log: STARTED,
    },
    Scenario {
        name: "podman",
        args: &["--runtime=podman", "--disable-docker-networking"],
        env: &[],
        proc_dirs: ALL_PROC,
        log: STARTED,
    },
];

fn prepare(dir: &Path, scenario: &Scenario) {
    for d in scenario.proc_dirs {
        std::fs::create_dir_all(dir.join("proc").join(d)).unwrap();
    }
    std::fs::create_dir_all(dir.join("proc")).unwrap();
    std::fs::write(dir.join("node.log"), scenario.log).unwrap();
}

fn snapshot(dir: &Path, out: &Output) -> String {
    let mut s = format!(
        "status {:?}\n--- stdout\n{}--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    for f in [
        "calls.log",
        "proc/sys/net/ipv4/ip_forward",
        "proc/sys/net/ipv6/conf/all/forwarding",
        "proc/sys/net/netfilter/nf_conntrack_max",
    ] {
        s += &format!(
            "--- {f}\n{}\n",
            std::fs::read_to_string(dir.join(f)).unwrap_or_else(|_| "(absent)".into())
        );
    }
    s.replace(dir.to_str().unwrap(), "{dir}")
}

/// The script does the run path exactly as calicoctl does: same messages,
/// same exit statuses, same calls, same writes, under dash and bash.
#[test]
fn script_behaves_like_the_run_path() {
    if !support::require_root() {
        return;
    }
    let shells: Vec<PathBuf> = ["dash", "bash"]
        .iter()
        .filter_map(|s| support::require_program(s))
        .collect();
    // podman needs a stand-in under that name.
    let bin = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(
        support::standins().join("docker"),
        bin.path().join("podman"),
    )
    .unwrap();
    for scenario in SCENARIOS {
        let script_dir = tempfile::tempdir().unwrap();
        let args: Vec<&str> = [&["-o", "script"], scenario.args].concat();
        let script = support::stdout_of(&calicoctl_in(script_dir.path(), &args));
        let script_path = script_dir.path().join("calico-node.sh");
        std::fs::write(&script_path, &script).unwrap();

        let reference_dir = tempfile::tempdir().unwrap();
        prepare(reference_dir.path(), scenario);
        let logs = reference_dir.path().join("node.log");
        let path_env = format!(
            "{}:{}:/usr/bin:/bin",
            bin.path().display(),
            support::standins().display()
        );
        let env: Vec<(&str, &str)> = [
            scenario.env,
            &[
                ("STANDIN_LOGS", logs.to_str().unwrap()),
                ("PATH", &path_env),
            ],
        ]
        .concat();
        let bin_args: Vec<&str> = [
            &[env!("CARGO_BIN_EXE_calicoctl"), "node", "run"],
            scenario.args,
        ]
        .concat();
        let expected = snapshot(
            reference_dir.path(),
            &launch(reference_dir.path(), &bin_args, &env),
        );

        for shell in &shells {
            let run_dir = tempfile::tempdir().unwrap();
            prepare(run_dir.path(), scenario);
            let logs = run_dir.path().join("node.log");
            let env: Vec<(&str, &str)> = [
                scenario.env,
                &[
                    ("STANDIN_LOGS", logs.to_str().unwrap()),
                    ("PATH", &path_env),
                ],
            ]
            .concat();
            let out = launch(
                run_dir.path(),
                &[shell.to_str().unwrap(), script_path.to_str().unwrap()],
                &env,
            );
            let got = snapshot(run_dir.path(), &out);
            assert_eq!(
                got,
                expected,
                "{} under {}:\n{script}",
                scenario.name,
                shell.display()
            );
        }
    }
}

#[test]
fn scripts_pass_shellcheck_and_parse_in_every_shell() {
    let Some(shellcheck) = support::require_program("shellcheck") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let cfg = support::write_config(dir.path(), "  etcdUsername: u\n  etcdPassword: p\n");
    let cfg_arg = format!("--config={}", cfg.display());
    let sets: Vec<Vec<&str>> = vec![
        vec![],
        vec!["--init-system"],
        vec![&cfg_arg],
        vec![
            "--name=n 1 $(x) `y` 'q' \"q\" \\",
            "--runtime=podman",
            "--disable-docker-networking",
        ],
        vec!["--name=tab\there", "--log-dir=/var/log/a b"],
    ];
    for set in &sets {
        let args: Vec<&str> = [&["-o", "script"], set.as_slice()].concat();
        let script = support::stdout_of(&calicoctl_in(dir.path(), &args));
        let path = dir.path().join("calico-node.sh");
        std::fs::write(&path, &script).unwrap();
        let out = Command::new(&shellcheck)
            .arg("--shell=sh")
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "shellcheck:\n{}\n{script}",
            String::from_utf8_lossy(&out.stdout)
        );
        for shell in ["sh", "dash", "bash"] {
            let Some(sh) = support::require_program(shell) else {
                continue;
            };
            let out = Command::new(sh).arg("-n").arg(&path).output().unwrap();
            support::assert_success_in(&out, format_args!("{shell} -n"));
        }
    }
}

#[test]
fn script_refuses_to_run_without_exported_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = support::write_config(dir.path(), "  etcdPassword: p\n");
    let script = support::stdout_of(&calicoctl_in(
        dir.path(),
        &["-o", "script", "-c", cfg.to_str().unwrap()],
    ));
    assert!(!script.contains("=p"), "the password is not in the script");
    let path = dir.path().join("calico-node.sh");
    std::fs::write(&path, &script).unwrap();
    let out = launch(dir.path(), &["sh", path.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "Error executing command: export ETCD_PASSWORD first: the container takes it from this environment\n"
    );
    assert!(!dir.path().join("calls.log").exists(), "nothing was called");
}

/// What `docker-compose config` makes of a compose file.
fn compose_config(dir: &Path, compose: &str, env: &[(&str, &str)]) -> Option<Value> {
    let dc = support::require_program("docker-compose")?;
    let file = dir.join("compose.yaml");
    std::fs::write(&file, compose).unwrap();
    let mut cmd = Command::new(dc);
    cmd.arg("-f")
        .arg(&file)
        .arg("config")
        .current_dir(dir)
        .env_clear()
        .env("PATH", "/usr/bin:/bin");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "docker-compose config: {}\n{compose}",
        String::from_utf8_lossy(&out.stderr)
    );
    let yaml: yaml_serde::Value = yaml_serde::from_slice(&out.stdout).unwrap();
    Some(serde_json::to_value(yaml).unwrap()["services"]["calico-node"].clone())
}

/// An environment value or image as written by `docker-compose config`,
/// which escapes `$` there again (but not in volumes).
fn compose_env_value(v: &Value) -> String {
    v.as_str()
        .map(|s| s.replace("$$", "$"))
        .unwrap_or_else(|| v.to_string())
}

/// Any other value as written by `docker-compose config`.
fn compose_value(v: &Value) -> String {
    v.as_str()
        .map(str::to_string)
        .unwrap_or_else(|| v.to_string())
}

#[test]
fn compose_file_is_read_as_the_same_service() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = support::write_config(
        dir.path(),
        "  etcdEndpoints: https://e:2379\n  etcdCACertFile: /pki/ca.pem\n  etcdPassword: pw\n",
    );
    let out = calicoctl_in(
        dir.path(),
        &[
            "-o",
            "compose",
            "--name=n1",
            "--as=1.10",
            "--node-image=calico/node:v3.2.3",
            "-c",
            cfg.to_str().unwrap(),
        ],
    );
    let compose = support::stdout_of(&out);
    assert!(
        !compose.contains("pw"),
        "the password is not in the compose file"
    );
    let Some(service) = compose_config(dir.path(), &compose, &[("ETCD_PASSWORD", "from-env")])
    else {
        return;
    };
    assert_eq!(service["image"], "calico/node:v3.2.3");
    assert_eq!(service["network_mode"], "host");
    assert_eq!(service["privileged"], true);
    assert_eq!(service["restart"], "always");
    assert_eq!(service["container_name"], "calico-node");
    let env = &service["environment"];
    for (k, v) in [
        ("NODENAME", "n1"),
        ("CALICO_NETWORKING_BACKEND", "bird"),
        ("CALICO_LIBNETWORK_ENABLED", "true"),
        ("AS", "65546"),
        ("ETCD_ENDPOINTS", "https://e:2379"),
        ("ETCD_CA_CERT_FILE", "/etc/calico/certs/ca_cert.crt"),
        ("ETCD_PASSWORD", "from-env"),
        ("FELIX_HEALTHENABLED", "true"),
    ] {
        assert_eq!(compose_env_value(&env[k]), v, "{k}");
    }
    assert_eq!(env.as_object().unwrap().len(), 8);
    // calico/node's readiness probe of v3.2 (the release without
    // --calico-version), as compose reads the healthcheck.
    let check = &service["healthcheck"];
    let test: Vec<&str> = check["test"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert_eq!(
        test,
        ["CMD", "/bin/calico-node", "-bird-ready", "-felix-ready"]
    );
    assert_eq!(check["interval"], "10s");
    assert_eq!(check["retries"], 3);
    assert_eq!(check["start_period"], "10m");
    assert!(check.get("timeout").is_none(), "v3.2's manifest sets none");
    let volumes: Vec<String> = service["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .map(compose_value)
        .collect();
    assert!(
        volumes.contains(&"/pki/ca.pem:/etc/calico/certs/ca_cert.crt:rw".to_string()),
        "{volumes:?}"
    );
    assert_eq!(volumes.len(), 8);
}

#[test]
fn out_dir_writes_whole_files_with_their_modes() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    for format in ["systemd-envfile", "script", "json", "compose"] {
        let out = calicoctl_in(
            dir.path(),
            &["-o", format, "--out-dir", out_dir.to_str().unwrap()],
        );
        support::assert_success(&out);
        assert!(out.stdout.is_empty());
    }
    let mode = |name: &str| {
        std::fs::metadata(out_dir.join(name))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode("calico-node.env"), 0o600);
    assert_eq!(mode("calico-node.service"), 0o644);
    assert_eq!(mode("calico-node.sh"), 0o755);
    assert_eq!(mode("calico-node.json"), 0o644);
    assert_eq!(mode("compose.yaml"), 0o644);
    let mut names: Vec<String> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "calico-node.env",
            "calico-node.json",
            "calico-node.service",
            "calico-node.sh",
            "compose.yaml"
        ]
    );

    // A failing write (the target is a directory) leaves no file behind.
    let blocked = dir.path().join("blocked");
    std::fs::create_dir_all(blocked.join("calico-node.service")).unwrap();
    let out = calicoctl_in(
        dir.path(),
        &[
            "-o",
            "systemd-envfile",
            "--out-dir",
            blocked.to_str().unwrap(),
        ],
    );
    support::assert_clean_refusal(&out, "write over a directory");
    let mut left: Vec<_> = std::fs::read_dir(&blocked)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    left.sort();
    assert_eq!(
        left,
        ["calico-node.service"].map(std::ffi::OsString::from),
        "no partial or temporary file is left, and no lock file"
    );
}

#[test]
fn json_is_the_documented_context() {
    let dir = tempfile::tempdir().unwrap();
    let out = calicoctl_in(dir.path(), &["-o", "json", "--name=n1"]);
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["schema"], 1);
    assert_eq!(json["plan"]["node_name"], "n1");
    assert_eq!(json["argv"][0], "docker");
    let keys: Vec<&String> = json.as_object().unwrap().keys().collect();
    // serde_json's map is sorted by key.
    assert_eq!(
        keys,
        [
            "argv",
            "engine",
            "plan",
            "run_groups",
            "run_groups_by_name",
            "schema",
            "secret_names",
            "stop_argv",
            "unit_env_file"
        ]
    );
}

/// Where a hostile value must come out.
impl Input {
    /// Check the container the engine was asked for carries `value` exactly.
    fn check(self, dir: &Path, value: &str, c: &Created, what: &str) {
        match self {
            Input::Name if value.is_empty() => {
                assert!(c.env.contains(&"NODENAME=node1".into()), "{what}")
            }
            Input::Name => assert!(
                c.env.contains(&format!("NODENAME={value}")),
                "{what}: {:?}",
                c.env
            ),
            Input::LogDir => assert!(
                c.binds
                    .contains(&format!("/logs/<{value}>:/var/log/calico")),
                "{what}: {:?}",
                c.binds
            ),
            Input::Image => assert_eq!(c.image, value, "{what}"),
            Input::Endpoints => assert!(
                c.env.contains(&format!("ETCD_ENDPOINTS={value}")),
                "{what}: {:?}",
                c.env
            ),
            Input::Env => assert!(
                c.env.contains(&format!("HOSTILE_ENV={value}")),
                "{what}: {:?}",
                c.env
            ),
            Input::CaFile => {
                assert!(
                    c.binds.contains(&format!(
                        "{}:/etc/calico/certs/ca_cert.crt",
                        support::ca_path(dir, value)
                    )),
                    "{what}: {:?}",
                    c.binds
                )
            }
        }
    }

    /// Docker itself rejects some image references; that is no injection.
    fn docker_may_reject(self) -> bool {
        matches!(self, Input::Image)
    }
}

fn accept_or_refuse(out: &Output, what: &str) -> Option<String> {
    if out.status.success() {
        Some(String::from_utf8(out.stdout.clone()).unwrap())
    } else {
        support::assert_clean_refusal(out, what);
        None
    }
}

fn expect_created(
    result: Result<Created, String>,
    input: Input,
    dir: &Path,
    value: &str,
    what: &str,
) {
    match result {
        Ok(c) => input.check(dir, value, &c, what),
        Err(e) if input.docker_may_reject() && e.contains("invalid reference format") => {}
        Err(e) => panic!("{what}: {e}"),
    }
}

#[test]
fn hostile_values_reach_every_consumer_unchanged_or_are_refused() {
    let Some(docker) = real_docker() else { return };
    let docker_s = docker.to_str().unwrap().to_string();
    let runtime = format!("--runtime-path={docker_s}");
    let can_run_scripts = support::require_root();
    let mut reached = 0;
    for (label, value) in support::hostile_values() {
        for input in Input::ALL {
            let dir = tempfile::tempdir().unwrap();
            let d = dir.path();
            let args = input.args(d, &value);
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let with = |format: &'static str| -> Vec<&str> {
                [&["-o", format, runtime.as_str()], args.as_slice()].concat()
            };
            let what = |format: &str| format!("{label} via {input:?} in -o {format}");
            // A consumer got the value: check it arrived unchanged and that
            // nothing in it was executed.
            let deliver =
                |result: Result<Created, String>, format: &str, d: &Path, reached: &mut usize| {
                    expect_created(result, input, d, &value, &what(format));
                    assert!(
                        !d.join("pwned").exists(),
                        "{}: a value was executed",
                        what(format)
                    );
                    *reached += 1;
                };

            // docker: the printed line, read by sh, run by docker.
            if let Some(line) = accept_or_refuse(&calicoctl_in(d, &with("docker")), &what("docker"))
            {
                let mut sh = Command::new("sh");
                sh.arg("-c")
                    .arg(line.trim_end_matches('\n'))
                    .current_dir(d)
                    .env_clear();
                deliver(created_by(sh, d), "docker", d, &mut reached);
            }

            // systemd: verified, then ExecStart split as systemd does and run.
            if let Some(unit) =
                accept_or_refuse(&calicoctl_in(d, &with("systemd")), &what("systemd"))
            {
                verify_unit(d, &unit);
                let argv = systemd_exec_words(&unit_line(&unit, "ExecStart"));
                let mut cmd = Command::new(&argv[0]);
                cmd.args(&argv[1..]).env_clear();
                deliver(created_by(cmd, d), "systemd", d, &mut reached);
            }

            // systemd-envfile: the env file read by sh, the unit's words run.
            if let Some(text) = accept_or_refuse(
                &calicoctl_in(d, &with("systemd-envfile")),
                &what("systemd-envfile"),
            ) {
                let files = files_of(&text);
                let (_, env_file) = files.iter().find(|(n, _)| n == "calico-node.env").unwrap();
                let (_, unit) = files
                    .iter()
                    .find(|(n, _)| n == "calico-node.service")
                    .unwrap();
                verify_unit(d, unit);
                std::fs::write(d.join("calico-node.env"), env_file).unwrap();
                let argv = systemd_exec_words(&unit_line(unit, "ExecStart"));
                let mut sh = Command::new("sh");
                sh.arg("-c")
                    .arg("set -a && . ./calico-node.env && set +a && exec \"$@\"")
                    .arg("sh")
                    .args(&argv)
                    .current_dir(d)
                    .env_clear();
                deliver(created_by(sh, d), "systemd-envfile", d, &mut reached);
            }

            // compose: what docker-compose reads back.
            if let Some(compose) =
                accept_or_refuse(&calicoctl_in(d, &with("compose")), &what("compose"))
                && let Some(service) = compose_config(d, &compose, &[])
            {
                reached += 1;
                let env = &service["environment"];
                let volumes: Vec<String> = service["volumes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(compose_value)
                    .collect();
                match input {
                    Input::Name if value.is_empty() => {
                        assert_eq!(compose_env_value(&env["NODENAME"]), "node1")
                    }
                    Input::Name => assert_eq!(
                        compose_env_value(&env["NODENAME"]),
                        value,
                        "{}",
                        what("compose")
                    ),
                    Input::Endpoints => assert_eq!(
                        compose_env_value(&env["ETCD_ENDPOINTS"]),
                        value,
                        "{}",
                        what("compose")
                    ),
                    Input::Env => assert_eq!(
                        compose_env_value(&env["HOSTILE_ENV"]),
                        value,
                        "{}",
                        what("compose")
                    ),
                    Input::Image => assert_eq!(
                        compose_env_value(&service["image"]),
                        value,
                        "{}",
                        what("compose")
                    ),
                    Input::LogDir => assert!(
                        volumes.contains(&format!("/logs/<{value}>:/var/log/calico:rw")),
                        "{}: {volumes:?}",
                        what("compose")
                    ),
                    Input::CaFile => {
                        assert!(
                            volumes.contains(&format!(
                                "{}:/etc/calico/certs/ca_cert.crt:rw",
                                support::ca_path(d, &value)
                            )),
                            "{}: {volumes:?}",
                            what("compose")
                        )
                    }
                }
            }

            // script: run for real (root), its docker talking to the engine.
            if can_run_scripts
                && let Some(script) =
                    accept_or_refuse(&calicoctl_in(d, &with("script")), &what("script"))
            {
                let path = d.join("calico-node.sh");
                std::fs::write(&path, &script).unwrap();
                let mut sh = Command::new("dash");
                sh.arg(&path)
                    .current_dir(d)
                    .env_clear()
                    .env("CALICO_CTL_CONTAINER", "1")
                    .env("CALICOCTL_LOG_TIMEOUT_MS", "100");
                deliver(created_by(sh, d), "script", d, &mut reached);
            }
        }
    }
    // 14 values through 5 inputs into 5 consumers: most must get through
    // (the rest are refusals, each checked above), or this test proves little.
    let most = if can_run_scripts { 280 } else { 220 };
    assert!(
        reached >= most,
        "only {reached} value/consumer pairs reached a consumer"
    );
}
