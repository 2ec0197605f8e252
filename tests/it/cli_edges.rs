//! Command-line input that golden files cannot hold: bytes that are not
//! UTF-8 must give a clear error, never a panic. And the built-in templates
//! as starting points: each renders through `--template` as its `-o`.

use crate::support;

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

#[test]
fn non_utf8_arguments_are_refused_cleanly() {
    let out = support::calicoctl(&["node", "run", "--dryrun"])
        .arg(OsStr::from_bytes(b"--name=\xff\xfe"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "Error executing command: arguments must be valid UTF-8\n"
    );
}

/// Every built-in template printed by `--template-source` renders through
/// `--template` to exactly what its `-o` prints (with the options each
/// format needs), so a user starts from a template that works. A template
/// has calico/node's health checks unless `--no-health`, as this tool's
/// formats do: upstream's (text, docker) and the launcher script, which
/// does as the run path, have them with `--health`.
#[test]
fn built_in_templates_are_starting_points() {
    let dir = tempfile::tempdir().unwrap();
    let common = ["--name=node1", "--as=64512", "--ip=192.0.2.1"];
    let formats: [(&str, &[&str]); 7] = [
        ("text", &["--dryrun", "--health"]),
        ("docker", &["--health"]),
        ("systemd", &["--init-system"]),
        ("env", &[]),
        ("script", &["--health"]),
        ("compose", &[]),
        ("quadlet", &["--disable-docker-networking"]),
    ];
    for (format, extra) in formats {
        let source = support::calicoctl(&["node", "run", "--template-source", format])
            .output()
            .unwrap();
        let path = dir.path().join(format!("{format}.j2"));
        std::fs::write(&path, support::stdout_of(&source)).unwrap();
        let mut with_template = vec!["node", "run", "--template", path.to_str().unwrap()];
        with_template.extend(common.iter().chain(extra));
        let mut with_output = vec!["node", "run", "-o", format];
        with_output.extend(common.iter().chain(extra));
        let ours = support::stdout_of(&support::calicoctl(&with_template).output().unwrap());
        let built_in = support::stdout_of(&support::calicoctl(&with_output).output().unwrap());
        assert_eq!(ours, built_in, "-o {format}");
    }
}

/// `node import --unit` on the units `node run` writes gives back options
/// whose unit is the input byte for byte: docker's at several releases,
/// with and without health checks, the podman unit, and the env-file pair
/// (read through its env file); and so does `--as-inventory`'s host entry
/// through `node fleet`.
#[test]
fn node_import_reads_our_units_back_to_the_same_units() {
    let dir = tempfile::tempdir().unwrap();
    // -o systemd refuses credentials (a unit is world-readable): they go
    // with the env-file pair.
    let config_for = |format: &str| {
        let credentials = match format {
            "systemd-envfile" => "  etcdUsername: calico\n  etcdPassword: \"s3 cret\"\n",
            _ => "",
        };
        let path = dir.path().join(format!("{format}.cfg"));
        std::fs::write(
            &path,
            format!("apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nspec:\n  etcdEndpoints: https://10.0.0.1:2379\n{credentials}"),
        )
        .unwrap();
        format!("--config={}", path.display())
    };
    let cases: [(&str, &[&str]); 6] = [
        ("systemd", &["--name=n1", "--as=64512", "--ip=192.0.2.9"]),
        (
            "systemd",
            &["--calico-version=v3.28.0", "--name=n1", "--no-health"],
        ),
        (
            "systemd",
            &[
                "--calico-version=v3.9.0",
                "--backend=none",
                "--ready-timeout=90",
            ],
        ),
        (
            "systemd",
            &[
                "--runtime=podman",
                "--disable-docker-networking",
                "--env=FOO=a b",
            ],
        ),
        (
            "systemd-envfile",
            &["--name=n 2", "--env=MY_TOKEN", "--log-dir=/srv/log"],
        ),
        (
            "systemd-envfile",
            &[
                "--calico-version=v3.2.8",
                "--use-docker-networking-container-labels",
            ],
        ),
    ];
    for (i, (format, options)) in cases.iter().enumerate() {
        let out_dir = |name: &str| dir.path().join(format!("{i}-{name}"));
        let write = |options: &[String], into: &std::path::Path| {
            let mut args: Vec<String> = ["node", "run", "-o", format].map(String::from).to_vec();
            args.extend(options.iter().cloned());
            args.push(format!("--out-dir={}", into.display()));
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let out = support::calicoctl(&args)
                .env("MY_TOKEN", "t0ken")
                .output()
                .unwrap();
            support::assert_success_in(&out, format_args!("{format} {options:?}"));
        };
        let config = config_for(format);
        let mut given: Vec<String> = options.iter().map(|s| s.to_string()).collect();
        given.push(config.clone());
        write(&given, &out_dir("first"));
        let unit = out_dir("first").join("calico-node.service");
        let mut import = vec!["node", "import", "--unit", unit.to_str().unwrap()];
        let env_file = out_dir("first").join("calico-node.env");
        if *format == "systemd-envfile" {
            import.extend(["--env-file", env_file.to_str().unwrap()]);
        }
        import.push(&config);
        let out = support::calicoctl(&import).output().unwrap();
        let said = support::describe(&out);
        assert_eq!(out.status.code(), Some(0), "{options:?}: {said}");
        assert!(
            !said.contains("s3 cret") && !said.contains("t0ken"),
            "{said}"
        );
        let line = String::from_utf8(out.stdout).unwrap();
        let words = calicoctl::import::words::shell_words(line.trim_end()).unwrap();
        write(&words[3..], &out_dir("again"));
        // The same as an inventory's host, through node fleet.
        import.push("--as-inventory");
        let out = support::calicoctl(&import).output().unwrap();
        support::assert_success(&out);
        let inventory = out_dir("inventory.yaml");
        std::fs::write(&inventory, &out.stdout).unwrap();
        let fleet_dir = out_dir("fleet");
        let fleet = support::calicoctl(&[
            "node",
            "fleet",
            "--inventory",
            inventory.to_str().unwrap(),
            "--pass-env=MY_TOKEN",
            "-o",
            format,
            &format!("--out-dir={}", fleet_dir.display()),
        ])
        .env("MY_TOKEN", "t0ken")
        .output()
        .unwrap();
        support::assert_success_in(&fleet, format_args!("{options:?}"));
        let host = std::fs::read_dir(&fleet_dir)
            .unwrap()
            .next()
            .unwrap()
            .unwrap();
        for file in ["calico-node.service", "calico-node.env"] {
            let read = |d: &std::path::Path| std::fs::read(d.join(file)).ok();
            let first = read(&out_dir("first"));
            assert_eq!(
                read(&out_dir("again")),
                first,
                "{options:?}: {file} from {line}"
            );
            assert_eq!(
                read(&host.path()),
                first,
                "{options:?}: {file} through the fleet"
            );
        }
    }
}
