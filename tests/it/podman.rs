//! The podman unit against podman's own generator: real podman (Debian 12's
//! 4.3) creates the container our `-o systemd --runtime podman` unit runs,
//! then `podman generate systemd --new` writes its unit for it; the two must
//! have the same run options (as a set) and podman's service keys must be
//! ours, with the same values where they say how the service runs.
//!
//! podman runs with its own configuration and storage under a temporary
//! directory (vfs, cgroupfs, file events): nothing of the host's podman is
//! read or changed, and no container is started.

use crate::support;

use std::collections::BTreeMap;
use std::path::Path;
use support::podman::Podman;
use support::systemd::{systemd_exec_words, unit_line};

/// The `[Service]` keys of a unit, each with its values (keys may repeat),
/// continuation lines joined.
fn service_keys(unit: &str) -> BTreeMap<String, Vec<String>> {
    let joined = unit.replace("\\\n", " ");
    let mut keys: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut in_service = false;
    for line in joined.lines() {
        if line.starts_with('[') {
            in_service = line == "[Service]";
        } else if in_service && let Some((k, v)) = line.split_once('=') {
            keys.entry(k.to_string())
                .or_default()
                .push(v.trim().to_string());
        }
    }
    keys
}

/// The words of an `Exec*=` value, with the specifiers podman uses (`%t`,
/// `%n`) resolved as systemd would for a system unit.
fn exec_words(value: &str) -> Vec<String> {
    let value = value
        .replace("%%", "\u{1}")
        .replace("%t", "/run")
        .replace("%n", "calico-node.service")
        .replace('\u{1}', "%%");
    systemd_exec_words(&value)
}

fn sorted(mut words: Vec<String>) -> Vec<String> {
    words.sort();
    words
}

const IMAGE: &str = "localhost/calico-node-standin:test";

#[test]
#[ignore = "engine tier: starts a private container engine; cargo test -- --include-ignored runs it (.ci/run does)"]
fn podman_unit_matches_podman_generate_systemd_new() {
    let Some(podman) = Podman::new() else { return };
    podman.import_image(IMAGE);
    // A host path with a space in it, as a hostile value podman must keep.
    let log_dir = podman.dir.path().join("log dir, and more");
    std::fs::create_dir_all(&log_dir).unwrap();
    let out = support::calicoctl(&[
        "node",
        "run",
        "-o",
        "systemd",
        "--runtime=podman",
        "--disable-docker-networking",
        // podman 4.3 (Debian 12's) has no --sdnotify=healthy: the unit with
        // health checks runs under podman 5 (real_engine.rs's
        // podman_5_units_are_active_only_once_ready).
        "--no-health",
        "--name=node one",
        &format!("--log-dir={}", log_dir.display()),
        "--node-image",
        IMAGE,
    ])
    .output()
    .unwrap();
    let ours = support::stdout_of(&out);
    let ours_start = exec_words(&unit_line(&ours, "ExecStart"));

    // The container our unit runs, created (not started) by real podman
    // with the options that are not podman's own systemd plumbing.
    let plumbing = [
        "--cidfile=/run/calico-node.service.ctr-id",
        "--cgroups=no-conmon",
        "--rm",
        "--sdnotify=conmon",
        "-d",
        "--replace",
    ];
    assert_eq!(ours_start[0], "/usr/bin/podman");
    assert_eq!(ours_start[1], "run");
    // `podman create` checks that bind sources exist; those the host lacks
    // (/var/lib/calico, /lib/modules here) stand in as temporary directories
    // for the create, and are named back in podman's unit.
    let mut stand_ins: Vec<(String, String)> = Vec::new();
    let create: Vec<String> = ours_start[2..]
        .iter()
        .filter(|w| !plumbing.contains(&w.as_str()))
        .map(|w| match w.split_once(':') {
            Some((source, rest)) if source.starts_with('/') && !Path::new(source).exists() => {
                let stand_in = podman.dir.path().join(format!("bind{}", stand_ins.len()));
                std::fs::create_dir_all(&stand_in).unwrap();
                let stand_in = stand_in.display().to_string();
                stand_ins.push((stand_in.clone(), source.to_string()));
                format!("{stand_in}:{rest}")
            }
            _ => w.clone(),
        })
        .collect();
    let create: Vec<&str> = create.iter().map(String::as_str).collect();
    podman.run(&[&["create"], create.as_slice()].concat());
    let generated = podman.run(&["generate", "systemd", "--new", "--name", "calico-node"]);
    let mut theirs = String::from_utf8(generated.stdout).unwrap();
    for (stand_in, source) in &stand_ins {
        theirs = theirs.replace(&format!("{stand_in}:"), &format!("{source}:"));
    }
    let theirs_start = exec_words(&unit_line(&theirs, "ExecStart"));

    assert_eq!(
        sorted(ours_start.clone()),
        sorted(theirs_start.clone()),
        "the same run options, as a set:\nours:   {ours_start:?}\ntheirs: {theirs_start:?}"
    );

    let (ours_keys, theirs_keys) = (service_keys(&ours), service_keys(&theirs));
    for (key, values) in &theirs_keys {
        let mine = ours_keys
            .get(key)
            .unwrap_or_else(|| panic!("podman's [Service] has {key}=, ours does not"));
        match key.as_str() {
            "Type" | "NotifyAccess" | "Environment" | "Restart" | "TimeoutStopSec" => {
                assert_eq!(mine, values, "{key}=")
            }
            "ExecStop" | "ExecStopPost" => assert_eq!(
                sorted(exec_words(&mine[0])),
                sorted(exec_words(&values[0])),
                "{key}="
            ),
            "ExecStartPre" => assert!(
                mine.iter().any(|m| exec_words(m) == exec_words(&values[0])),
                "{key}={}",
                values[0]
            ),
            _ => {}
        }
    }
}

#[test]
#[ignore = "engine tier: starts a private container engine; cargo test -- --include-ignored runs it (.ci/run does)"]
fn podman_reads_the_quadlet_env_file_exactly() {
    let Some(podman) = Podman::new() else { return };
    podman.import_image(IMAGE);
    let dir = podman.dir.path();
    let password = "pa$$ w'o\"rd %n `x` \\";
    let config = support::write_config(
        dir,
        &format!(
            "  etcdEndpoints: https://10.0.0.1:2379\n  etcdUsername: calico\n  etcdPassword: {}\n",
            serde_json::to_string(password).unwrap()
        ),
    );
    let out_dir = dir.join("quadlet");
    let out = support::calicoctl(&[
        "node",
        "run",
        "-o",
        "quadlet",
        "--disable-docker-networking",
        "-c",
        config.to_str().unwrap(),
        "--out-dir",
        out_dir.to_str().unwrap(),
        "--env",
        "BYNAME_ENV",
    ])
    .env("BYNAME_ENV", password)
    .output()
    .unwrap();
    support::assert_success(&out);
    let env_file = out_dir.join("calico-node.env");
    podman.run(&[
        "create",
        "--name=envcheck",
        "--env-file",
        env_file.to_str().unwrap(),
        IMAGE,
    ]);
    let inspect = podman.run(&["inspect", "--format", "{{json .Config.Env}}", "envcheck"]);
    let env: Vec<String> = serde_json::from_slice(&inspect.stdout).unwrap();
    for want in [
        "ETCD_USERNAME=calico".to_string(),
        format!("ETCD_PASSWORD={password}"),
        format!("BYNAME_ENV={password}"),
    ] {
        assert!(env.contains(&want), "{want:?} not in {env:?}");
    }
}

/// A start script that prints the success line and waits, for `podman run`.
pub(crate) fn import_running_image(podman: &Podman, tag: &str) {
    let tar =
        support::busybox_image_tar(podman.dir.path(), "running-image", support::STANDIN_START);
    podman.run(&[
        "import",
        "--change",
        r#"CMD ["/start"]"#,
        tar.to_str().unwrap(),
        tag,
    ]);
}

#[test]
#[ignore = "engine tier: starts a private container engine; cargo test -- --include-ignored runs it (.ci/run does)"]
fn podman_runs_the_printed_command_and_the_script() {
    let Some(podman) = Podman::new() else { return };
    let image = "localhost/calico-node-standin:running";
    import_running_image(&podman, image);
    let case = tempfile::tempdir().unwrap();
    let d = case.path();
    std::fs::create_dir_all(d.join("log dir")).unwrap();
    std::fs::create_dir_all(d.join("bin")).unwrap();
    std::os::unix::fs::symlink(support::standins().join("modprobe"), d.join("bin/modprobe"))
        .unwrap();
    let password = "pa$$ w'o\"rd %n";
    let config = support::write_config(
        d,
        &format!(
            "  etcdEndpoints: https://10.0.0.1:2379\n  etcdPassword: {}\n",
            serde_json::to_string(password).unwrap()
        ),
    );
    let name = "n 1'\"$(touch pwned)`x`;%ü";
    let log_dir = d.join("log dir");
    let args: Vec<String> = vec![
        "--runtime=podman".into(),
        "--disable-docker-networking".into(),
        format!("--name={name}"),
        format!("--node-image={image}"),
        format!("--log-dir={}", log_dir.display()),
        "-c".into(),
        config.display().to_string(),
    ];
    let calicoctl = |format: &str| {
        let mut all: Vec<&str> = vec!["node", "run", "-o", format];
        all.extend(args.iter().map(String::as_str));
        support::stdout_of(&support::calicoctl(&all).output().unwrap())
    };
    let check = |what: &str| {
        let c = podman.inspect("calico-node");
        let env: Vec<String> = serde_json::from_value(c["Config"]["Env"].clone()).unwrap();
        assert!(env.contains(&format!("NODENAME={name}")), "{what}: {env:?}");
        assert!(
            env.contains(&format!("ETCD_PASSWORD={password}")),
            "{what}: {env:?}"
        );
        let binds: Vec<String> = serde_json::from_value(c["HostConfig"]["Binds"].clone()).unwrap();
        let log = format!("{}:/var/log/calico", log_dir.display());
        assert!(
            binds.iter().any(|b| b.starts_with(&log)),
            "{what}: {binds:?}"
        );
        assert_eq!(c["HostConfig"]["Privileged"], true, "{what}");
        assert_eq!(c["HostConfig"]["NetworkMode"], "host", "{what}");
        assert_eq!(c["HostConfig"]["RestartPolicy"]["Name"], "always", "{what}");
        assert!(!d.join("pwned").exists(), "{what}: a value was executed");
        podman.run(&["rm", "-f", "calico-node"]);
    };

    // The printed command (-o docker with --runtime podman), run by sh.
    let line = calicoctl("docker");
    let out = podman.sh(line.trim_end(), d, &[("ETCD_PASSWORD", password)]);
    support::assert_success(&out);
    check("-o docker --runtime podman");

    // The launcher script, run by sh: the whole run path against podman.
    std::fs::write(d.join("calico-node.sh"), calicoctl("script")).unwrap();
    let proc_root = d.join("proc");
    std::fs::create_dir_all(proc_root.join("sys/net/ipv4")).unwrap();
    std::fs::create_dir_all(proc_root.join("sys/net/netfilter")).unwrap();
    let out = podman.sh(
        &format!("sh '{}'", d.join("calico-node.sh").display()),
        d,
        &[
            ("ETCD_PASSWORD", password),
            ("CALICOCTL_PROC_ROOT", proc_root.to_str().unwrap()),
            ("CALICOCTL_LOG_TIMEOUT_MS", "60000"),
        ],
    );
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Calico node started successfully"));
    check("-o script --runtime podman");
}

/// `node run --check` and `--if-changed` against real podman: the printed
/// podman command and the podman unit's `ExecStart` (run by sh, with its
/// env file, `%t`/`%n` filled in) check clean; a changed option and another
/// password are drift, the password never printed; `--if-changed` leaves a
/// matching container alone.
#[test]
#[ignore = "engine tier: starts a private container engine; cargo test -- --include-ignored runs it (.ci/run does)"]
fn podman_containers_check_against_the_plan() {
    let Some(podman) = Podman::new() else { return };
    let image = "localhost/calico-node-standin:running";
    import_running_image(&podman, image);
    let case = tempfile::tempdir().unwrap();
    let d = case.path();
    let password = "pa$$ w'o\"rd $(touch pwned)\tline two";
    std::fs::create_dir_all(d.join("log")).unwrap();
    let config = support::write_config(
        d,
        &format!(
            "  etcdEndpoints: https://10.0.0.1:2379\n  etcdPassword: {}\n",
            serde_json::to_string(password).unwrap()
        ),
    );
    let args = |extra: &[&str]| -> Vec<String> {
        let mut all: Vec<String> = [
            "node",
            "run",
            "--runtime=podman",
            "--disable-docker-networking",
        ]
        .map(String::from)
        .to_vec();
        all.extend([
            "--name=n1".into(),
            format!("--node-image={image}"),
            "-c".into(),
            config.display().to_string(),
            "--as=64512".into(),
            format!("--log-dir={}", d.join("log").display()),
        ]);
        all.extend(extra.iter().map(|s| s.to_string()));
        all
    };
    let calicoctl = |extra: &[&str]| {
        let out = podman
            .in_namespace(env!("CARGO_BIN_EXE_calicoctl"))
            .args(args(extra))
            .env("PATH", "/usr/bin:/bin:/usr/sbin:/sbin")
            .env("CALICOCTL_DEFAULT_CONFIG", "/nonexistent")
            .output()
            .unwrap();
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        );
        let live = extra
            .iter()
            .any(|w| *w == "--check" || *w == "--if-changed");
        for secret in [password, "line two", "pa$$"] {
            let shown = stdout.contains(secret) || stderr.contains(secret);
            assert!(!(live && shown), "a secret printed: {stdout}{stderr}");
        }
        (out.status.code().unwrap_or(-1), stdout, stderr)
    };
    let printed = |extra: &[&str]| {
        let (status, text, stderr) = calicoctl(extra);
        assert_eq!(status, 0, "{stderr}");
        text
    };

    // The printed podman command.
    let line = printed(&["-o", "docker"]);
    let out = podman.sh(line.trim_end(), d, &[("ETCD_PASSWORD", password)]);
    support::assert_success(&out);
    assert_eq!(calicoctl(&["--check"]).1, "calico-node matches the plan.\n");
    // node import reads it back through podman to options that match.
    let imported = podman
        .in_namespace(env!("CARGO_BIN_EXE_calicoctl"))
        .args(["node", "import", "--runtime=podman", "-c"])
        .arg(&config)
        .env("PATH", "/usr/bin:/bin:/usr/sbin:/sbin")
        .env("CALICOCTL_DEFAULT_CONFIG", "/nonexistent")
        .output()
        .unwrap();
    let said = support::describe(&imported);
    assert_eq!(imported.status.code(), Some(0), "{said}");
    assert!(
        !said.contains("line two") && !said.contains("pa$$"),
        "{said}"
    );
    let imported_line = String::from_utf8_lossy(&imported.stdout).into_owned();
    let words = calicoctl::import::words::shell_words(imported_line.trim_end()).unwrap();
    assert!(
        words.contains(&"--runtime=podman".to_string()),
        "{imported_line}"
    );
    let recheck = podman
        .in_namespace(env!("CARGO_BIN_EXE_calicoctl"))
        .args(&words[1..])
        .arg("--check")
        .env("PATH", "/usr/bin:/bin:/usr/sbin:/sbin")
        .env("CALICOCTL_DEFAULT_CONFIG", "/nonexistent")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&recheck.stdout),
        "calico-node matches the plan.\n",
        "{imported_line}: {}",
        support::describe(&recheck)
    );
    let id = podman.inspect("calico-node")["Id"].clone();
    let (status, text, _) = calicoctl(&["--if-changed"]);
    assert_eq!(
        (status, text.as_str()),
        (0, "calico-node is running as planned; left alone.\n")
    );
    assert_eq!(podman.inspect("calico-node")["Id"], id, "left alone");
    let (status, text, _) = calicoctl(&["--check", "--as=64513"]);
    assert_eq!(
        (status, text.as_str()),
        (2, "env AS: running 64512, planned 64513\n")
    );
    podman.run(&["rm", "-f", "calico-node"]);
    let out = podman.sh(line.trim_end(), d, &[("ETCD_PASSWORD", "another")]);
    support::assert_success(&out);
    let (status, text, _) = calicoctl(&["--check"]);
    assert_eq!((status, text.as_str()), (2, "env ETCD_PASSWORD: differs\n"));
    podman.run(&["rm", "-f", "calico-node"]);

    // The podman unit's ExecStart, with its env file: the unit runs the
    // container attached to systemd with --rm, so it checks with
    // --init-system (and --no-health, as it was made: podman 4.3 has no
    // --sdnotify=healthy).
    let unit = printed(&["-o", "systemd-envfile", "--no-health"]);
    let env_file = unit.split("# FILE: calico-node.service\n").next().unwrap();
    let env_file = env_file.strip_prefix("# FILE: calico-node.env\n").unwrap();
    std::fs::write(d.join("calico-node.env"), env_file).unwrap();
    let exec = unit
        .split("\nExecStart=")
        .nth(1)
        .unwrap()
        .split("\nExecStop=")
        .next()
        .unwrap()
        .replace("%t", &d.display().to_string())
        .replace("%n", "calico-node.service");
    let env_path = d.join("calico-node.env");
    let script = format!("set -a; . '{}'; set +a; {exec}", env_path.display());
    let out = podman.sh(&script, d, &[]);
    support::assert_success(&out);
    let (status, text, _) = calicoctl(&["--check", "--init-system", "--no-health"]);
    assert_eq!(
        (status, text.as_str()),
        (0, "calico-node matches the plan.\n")
    );
    assert!(!d.join("pwned").exists());
}

/// References that are not fully qualified, as Calico's docs and local
/// builds write them: podman records what it resolved (`localhost/NAME`,
/// or the search registry's name), and a container started from the
/// printed command checks clean against the same plan; another tag is
/// still drift.
#[test]
#[ignore = "engine tier: starts a private container engine; cargo test -- --include-ignored runs it (.ci/run does)"]
fn podman_containers_of_short_references_check_clean() {
    let Some(podman) = Podman::new() else { return };
    import_running_image(&podman, "calico-node-built-here");
    podman.run(&[
        "tag",
        "calico-node-built-here",
        "quay.io/calico/node:v3.29.4",
    ]);
    let case = tempfile::tempdir().unwrap();
    let d = case.path();
    std::fs::create_dir_all(d.join("log")).unwrap();
    let config = support::write_config(d, "  etcdEndpoints: https://10.0.0.1:2379\n");
    let calicoctl = |image: &str, extra: &[&str]| {
        let out = podman
            .in_namespace(env!("CARGO_BIN_EXE_calicoctl"))
            .args([
                "node",
                "run",
                "--runtime=podman",
                "--disable-docker-networking",
            ])
            .arg("--name=n1")
            .arg(format!("--node-image={image}"))
            .arg("-c")
            .arg(&config)
            .arg(format!("--log-dir={}", d.join("log").display()))
            .args(extra)
            .env("PATH", "/usr/bin:/bin:/usr/sbin:/sbin")
            .env("CALICOCTL_DEFAULT_CONFIG", "/nonexistent")
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    for (image, resolved) in [
        (
            "calico-node-built-here",
            "localhost/calico-node-built-here:latest",
        ),
        ("calico/node:v3.29.4", "quay.io/calico/node:v3.29.4"),
    ] {
        let (status, line) = calicoctl(image, &["-o", "docker"]);
        assert_eq!(status, 0);
        let out = podman.sh(line.trim_end(), d, &[]);
        support::assert_success(&out);
        assert_eq!(
            podman.inspect("calico-node")["ImageName"],
            resolved,
            "{image}"
        );
        assert_eq!(
            calicoctl(image, &["--check"]),
            (0, "calico-node matches the plan.\n".into()),
            "{image}"
        );
        podman.run(&["rm", "-f", "calico-node"]);
    }
    let (status, line) = calicoctl("calico/node:v3.29.4", &["-o", "docker"]);
    assert_eq!(status, 0);
    support::assert_success(&podman.sh(line.trim_end(), d, &[]));
    let (status, text) = calicoctl("calico/node:v3.29.5", &["--check"]);
    assert_eq!(status, 2, "{text}");
    assert!(
        text.starts_with(
            "image: running quay.io/calico/node:v3.29.4, planned calico/node:v3.29.5\n"
        ),
        "{text}"
    );
}
