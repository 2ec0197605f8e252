//! `-o quadlet` through podman's own Quadlet generator: a Debian trixie
//! root file system with podman 5 (made once by mmdebstrap, cached in
//! `target/rootfs/`), where `quadlet -dryrun` turns our `.container` into
//! the service it would install. It must accept the file, and the
//! `ExecStart` it generates must carry every variable (or the env file),
//! every volume, `--privileged` and `--network host`, values exact. And
//! that `ExecStart` run by real podman starts a container carrying a
//! hostile `--env` value and a by-name one exactly.

use crate::support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::systemd::{systemd_exec_words, unit_line};

/// The trixie root file system with podman, extracted; None to skip.
fn rootfs() -> Option<PathBuf> {
    let tar = support::debian_rootfs("trixie-podman", "trixie", "podman")?;
    let root = tar.with_extension("");
    let lock = std::fs::File::create(tar.with_extension("extract.lock")).unwrap();
    lock.lock().unwrap();
    if !root.join("usr/libexec/podman/quadlet").exists() {
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        let status = Command::new("tar")
            .arg("-C")
            .arg(&root)
            .arg("-xf")
            .arg(&tar)
            .status()
            .unwrap();
        assert!(status.success(), "tar -xf {}", tar.display());
    }
    Some(root)
}

/// The service Quadlet generates for `files`, or its complaint. One at a
/// time: every call lays its files in the root's one Quadlet directory.
fn quadlet_dryrun(root: &Path, files: &[(String, String)]) -> Result<String, String> {
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = root.join("etc/containers/systemd");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    let out = Command::new("chroot")
        .arg(root)
        .args(["/usr/libexec/podman/quadlet", "-dryrun"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let service = stdout
        .split("---calico-node.service---\n")
        .nth(1)
        .map(|s| s.split("\n---").next().unwrap_or(s).to_string());
    match service {
        Some(s) if out.status.success() && !stderr.contains("rror") => Ok(s),
        _ => Err(format!("quadlet -dryrun failed:\n{stdout}\n{stderr}")),
    }
}

/// The words of the generated `ExecStart`, specifiers resolved as systemd
/// would for a system unit.
fn exec_start(service: &str) -> Vec<String> {
    let value = unit_line(service, "ExecStart")
        .replace("%%", "\u{1}")
        .replace("%t", "/run")
        .replace("%N", "calico-node")
        .replace("%n", "calico-node.service")
        .replace('\u{1}', "%%");
    systemd_exec_words(&value)
}

/// The values after each `option` in `words`.
fn values_of<'a>(words: &'a [String], option: &str) -> Vec<&'a str> {
    words
        .windows(2)
        .filter(|w| w[0] == option)
        .map(|w| w[1].as_str())
        .collect()
}

/// `-o quadlet` for `args`: the files, or the refusal.
fn generate(dir: &Path, args: &[String]) -> Result<Vec<(String, String)>, String> {
    let out_dir = dir.join("out");
    let _ = std::fs::remove_dir_all(&out_dir);
    let mut all: Vec<String> = [
        "node",
        "run",
        "-o",
        "quadlet",
        "--disable-docker-networking",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    all.push(format!("--out-dir={}", out_dir.display()));
    all.extend(args.iter().cloned());
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    let out = support::calicoctl(&all).current_dir(dir).output().unwrap();
    if !out.status.success() {
        support::assert_clean_refusal(&out, &format!("{args:?}"));
        return Err(String::from_utf8_lossy(&out.stderr).to_string());
    }
    Ok(files_in(&out_dir))
}

/// The files written into `out_dir`, by name, sorted.
fn files_in(out_dir: &Path) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = std::fs::read_dir(out_dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let text = std::fs::read_to_string(e.path()).unwrap();
            (e.file_name().into_string().unwrap(), text)
        })
        .collect();
    files.sort();
    files
}

/// The plan of `args`, from `-o json`.
fn plan_of(dir: &Path, args: &[String]) -> Value {
    let mut all: Vec<String> = ["node", "run", "-o", "json", "--disable-docker-networking"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    all.extend(args.iter().cloned());
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    let out = support::calicoctl(&all).current_dir(dir).output().unwrap();
    serde_json::from_str::<Value>(&support::stdout_of(&out)).unwrap()["plan"].clone()
}

/// The generated service carries the plan; secrets come from the env file.
fn check(
    service: &str,
    files: &[(String, String)],
    plan: &Value,
    secrets: &[(&str, &str)],
    what: &str,
) {
    let words = exec_start(service);
    assert!(
        words.contains(&"--privileged".to_string()),
        "{what}: {words:?}"
    );
    assert_eq!(values_of(&words, "--network"), ["host"], "{what}");
    assert_eq!(
        words.last().unwrap(),
        plan["image"].as_str().unwrap(),
        "{what}"
    );
    let envs = values_of(&words, "--env");
    for var in plan["env"].as_array().unwrap() {
        let name = var["name"].as_str().unwrap();
        if var["secret"] == true {
            let (_, value) = secrets.iter().find(|(n, _)| *n == name).unwrap();
            let env_file = &files
                .iter()
                .find(|(n, _)| n == "calico-node.env")
                .unwrap()
                .1;
            assert!(
                env_file.lines().any(|l| l == format!("{name}={value}")),
                "{what}: {name} not in the env file"
            );
            assert!(
                !envs.iter().any(|e| e.starts_with(&format!("{name}="))),
                "{what}: {name} inline"
            );
        } else {
            let want = format!("{name}={}", var["value"].as_str().unwrap());
            assert!(
                envs.contains(&want.as_str()),
                "{what}: {want:?} not in {envs:?}"
            );
        }
    }
    if !secrets.is_empty() {
        assert_eq!(
            values_of(&words, "--env-file"),
            ["/etc/containers/systemd/calico-node.env"],
            "{what}"
        );
    }
    let volumes = values_of(&words, "-v");
    for vol in plan["volumes"].as_array().unwrap() {
        let spec = vol["spec"].as_str().unwrap();
        assert!(
            volumes.contains(&spec),
            "{what}: {spec:?} not in {volumes:?}"
        );
    }
}

/// A documented case: its name, its arguments, its secrets (name, value).
type Case = (&'static str, Vec<String>, Vec<(&'static str, &'static str)>);

#[test]
#[ignore = "rootfs tier: builds a Debian root with mmdebstrap and runs podman in it; cargo test -- --include-ignored runs it (.ci/run does)"]
fn quadlet_generator_accepts_our_container_and_carries_the_plan() {
    let Some(root) = rootfs() else { return };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let creds = support::write_config(
        d,
        "  etcdEndpoints: https://10.0.0.1:2379\n  etcdUsername: calico\n  etcdPassword: pa$$ w'o\"rd %n\n",
    )
    .display()
    .to_string();
    let cases: Vec<Case> = vec![
        ("defaults", vec![], vec![]),
        (
            "credentials",
            vec!["-c".into(), creds],
            vec![
                ("ETCD_USERNAME", "calico"),
                ("ETCD_PASSWORD", "pa$$ w'o\"rd %n"),
            ],
        ),
        (
            "every option",
            [
                "--name=n1",
                "--as=64512",
                "--ip=10.0.0.5",
                "--ip6=fd00::5",
                "--ip-autodetection-method=interface=eth0",
                "--log-dir=/logs",
                "--node-image=calico/node:v3.2.3",
                "--backend=gobgp",
                "--no-default-ippools",
                "--felix-config=/felix.cfg",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
            vec![],
        ),
    ];
    for (what, args, secrets) in &cases {
        let files = generate(d, args).unwrap();
        let service = quadlet_dryrun(&root, &files).unwrap_or_else(|e| panic!("{what}: {e}"));
        check(&service, &files, &plan_of(d, args), secrets, what);
    }

    // Hostile values: each reaches podman's command line exactly, or is
    // refused with a one-line error.
    let mut reached = 0;
    for (label, value) in support::hostile_values() {
        for input in support::Input::ALL {
            let case = d.join(format!("hostile-{label}-{input:?}"));
            std::fs::create_dir_all(&case).unwrap();
            let args = input.args(&case, &value);
            let what = format!("{label} via {input:?}");
            let Ok(files) = generate(&case, &args) else {
                continue;
            };
            let service = quadlet_dryrun(&root, &files).unwrap_or_else(|e| panic!("{what}: {e}"));
            check(&service, &files, &plan_of(&case, &args), &[], &what);
            reached += 1;
        }
    }
    eprintln!("{reached} hostile value/input pairs reached Quadlet");
    assert!(
        reached >= 40,
        "only {reached} hostile values reached Quadlet"
    );
}

/// A hostile `--env` value and a by-name one reach a real container from
/// the Quadlet file: podman 5's generator (the trixie root) turns our
/// `.container` into its service, and that service's `ExecStart` is run by
/// real podman (the host's 4.3, private: support/podman.rs), the env file
/// beside it. Two options only systemd can honour (`--cgroups=split` needs
/// the unit's own cgroup, `--sdnotify=conmon` its notify socket) are left
/// out; every value comes from the generated command as it is.
#[test]
#[ignore = "rootfs tier: builds a Debian root with mmdebstrap and runs podman in it; cargo test -- --include-ignored runs it (.ci/run does)"]
fn quadlet_service_starts_a_container_with_every_value() {
    let Some(root) = rootfs() else { return };
    let Some(podman) = support::podman::Podman::new() else {
        return;
    };
    let image = "localhost/calico-node-standin:quadlet";
    podman.import_image(image);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let value = "a b'\"$(touch pwned)`x` %h $$ ü \\ end";
    let by_name = "by name %n 'q' $(touch pwned)";
    let out_dir = d.join("out");
    std::fs::create_dir_all(d.join("log")).unwrap();
    let out = support::calicoctl(&[
        "node",
        "run",
        "-o",
        "quadlet",
        "--disable-docker-networking",
        // Run by podman 4.3 (Debian 12's), which has no --sdnotify=healthy:
        // Quadlet's health keys run under podman 5 (real_engine.rs).
        "--no-health",
        "--name=n1",
        &format!("--log-dir={}", d.join("log").display()),
        &format!("--node-image={image}"),
        &format!("--env=HOSTILE_ENV={value}"),
        "--env=BYNAME_ENV",
        &format!("--out-dir={}", out_dir.display()),
    ])
    .env("BYNAME_ENV", by_name)
    .output()
    .unwrap();
    support::assert_success(&out);
    let service = quadlet_dryrun(&root, &files_in(&out_dir)).unwrap();
    let installed = "/etc/containers/systemd/";
    let words: Vec<String> = exec_start(&service)
        .into_iter()
        .skip(1)
        .filter(|w| w != "--cgroups=split" && w != "--sdnotify=conmon")
        .map(|w| match w.strip_prefix(installed) {
            Some(name) => out_dir.join(name).display().to_string(),
            None => w,
        })
        .collect();
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    podman.run(&words);
    let env: Vec<String> = podman.inspect("calico-node")["Config"]["Env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    for want in [
        format!("HOSTILE_ENV={value}"),
        format!("BYNAME_ENV={by_name}"),
    ] {
        assert!(env.contains(&want), "{want:?} not in {env:?}");
    }
    assert!(!d.join("pwned").exists());
}
