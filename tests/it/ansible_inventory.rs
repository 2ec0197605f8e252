//! Ansible inventories read through real `ansible-inventory` (Debian's
//! `ansible-core`, installed by `.ci/run`): an INI inventory and an
//! inventory directory, each with a host range, `[group:vars]`,
//! `[group:children]`, `group_vars/` and `host_vars/`, write byte for byte
//! the files that the same hosts written natively give; so does Ansible's
//! `--list` JSON on stdin, and `--limit` over them. Our own reader, used
//! without Ansible on `PATH`, expands host ranges exactly as Ansible does.

use crate::support;

use std::path::Path;
use std::process::Stdio;

const INI: &str = "\
lonely calico_ip=192.0.2.99

[workers]
w[01:03] ansible_host=10.0.0.1

[workers:vars]
calico_as=64512
calico_node_image=quay.io/calico/node:v3.2.8

[gpu]
g1 calico_no_default_ippools=true

[compute:children]
workers
gpu
";

/// The same hosts and options, written as a native inventory by hand.
const NATIVE: &str = "\
hosts:
  lonely: {ip: 192.0.2.99}
  w01: {as: 64512, node-image: quay.io/calico/node:v3.2.8}
  w02: {as: '1.10', ip: 192.0.2.2, node-image: quay.io/calico/node:v3.2.8}
  w03: {as: 64512, node-image: quay.io/calico/node:v3.2.8}
  g1: {backend: none, no-default-ippools: true}
";

fn write_ansible_inventory(dir: &Path) {
    std::fs::create_dir_all(dir.join("group_vars")).unwrap();
    std::fs::create_dir_all(dir.join("host_vars")).unwrap();
    std::fs::write(dir.join("hosts"), INI).unwrap();
    std::fs::write(dir.join("group_vars/gpu.yml"), "calico_backend: none\n").unwrap();
    std::fs::write(
        dir.join("host_vars/w02.yml"),
        "calico_ip: 192.0.2.2\ncalico_as: \"1.10\"\n",
    )
    .unwrap();
}

/// Every file under `dir`, relative path and bytes, sorted.
fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut found = Vec::new();
    for host in std::fs::read_dir(dir).unwrap() {
        let host = host.unwrap().path();
        if !host.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(&host).unwrap() {
            let file = file.unwrap().path();
            let name = file.strip_prefix(dir).unwrap().display().to_string();
            found.push((name, std::fs::read(&file).unwrap()));
        }
    }
    found.sort();
    found
}

fn fleet_into(inventory: &str, out: &Path, extra: &[&str]) -> String {
    let mut args = vec![
        "node",
        "fleet",
        "--inventory",
        inventory,
        "-o",
        "systemd-envfile",
        "--out-dir",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let output = support::calicoctl(&args).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    support::assert_success_in(&output, inventory);
    stderr
}

#[test]
fn ini_directory_and_list_json_write_what_the_native_inventory_writes() {
    let Some(ansible) = support::require_program("ansible-inventory") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("native.yaml"), NATIVE).unwrap();
    fleet_into(
        d.join("native.yaml").to_str().unwrap(),
        &d.join("native"),
        &[],
    );
    let expected = tree(&d.join("native"));
    assert_eq!(expected.len(), 10);

    let inv = d.join("inv");
    write_ansible_inventory(&inv);
    let ini = inv.join("hosts");
    let note = fleet_into(ini.to_str().unwrap(), &d.join("ini"), &[]);
    assert!(
        note.starts_with(&format!(
            "Reading inventory {} with {} (Ansible's own resolver, confined: data only).\n",
            ini.display(),
            ansible.display()
        )),
        "{note}"
    );
    assert_eq!(tree(&d.join("ini")), expected, "the INI inventory");
    fleet_into(inv.to_str().unwrap(), &d.join("directory"), &[]);
    assert_eq!(
        tree(&d.join("directory")),
        expected,
        "the inventory directory"
    );

    // Ansible's own --list output, on stdin: read as it is.
    let list = std::process::Command::new(&ansible)
        .args(["-i", ini.to_str().unwrap(), "--list"])
        .output()
        .unwrap();
    support::assert_success(&list);
    let out = d.join("stdin");
    let mut child = support::calicoctl(&[
        "node",
        "fleet",
        "--inventory",
        "-",
        "--out-dir",
        out.to_str().unwrap(),
    ])
    .stdin(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), &list.stdout).unwrap();
    let done = child.wait_with_output().unwrap();
    support::assert_success(&done);
    assert!(!String::from_utf8_lossy(&done.stderr).contains("Reading inventory"));
    assert_eq!(tree(&out), expected, "--list JSON on stdin");

    // --limit: a group with its child groups, and a host.
    fleet_into(
        ini.to_str().unwrap(),
        &d.join("limited"),
        &["--limit", "gpu:w02"],
    );
    let limited: Vec<_> = expected
        .iter()
        .filter(|(p, _)| p.starts_with("g1/") || p.starts_with("w02/"))
        .cloned()
        .collect();
    assert_eq!(tree(&d.join("limited")), limited);
}

#[test]
fn without_ansible_group_vars_are_refused_not_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("inv");
    std::fs::create_dir_all(inv.join("group_vars")).unwrap();
    std::fs::write(inv.join("hosts.yaml"), "calico:\n  hosts: {w1: }\n").unwrap();
    std::fs::write(inv.join("group_vars/calico.yml"), "calico_as: 64512\n").unwrap();
    let out = dir.path().join("out");
    let output = support::calicoctl(&[
        "node",
        "fleet",
        "--inventory",
        inv.join("hosts.yaml").to_str().unwrap(),
        "--out-dir",
        out.to_str().unwrap(),
    ])
    .env("PATH", "/nonexistent")
    .output()
    .unwrap();
    support::assert_clean_refusal(&output, "group_vars without ansible-inventory");
    assert!(String::from_utf8_lossy(&output.stderr).contains("group_vars/"));
    assert!(!out.exists());
}

/// Host names in the order `node fleet` prints them.
fn printed_hosts(stdout: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("# FILE: "))
        .map(|l| l.split('/').next().unwrap().to_string())
        .collect()
}

#[test]
fn our_range_expansion_equals_ansibles() {
    let Some(_) = support::require_program("ansible-inventory") else {
        return;
    };
    let patterns = [
        "w[01:12]",
        "n[8:11]",
        "[a:e]-x",
        "s[1:10:3]",
        "z[:2]",
        "r[1:2]-[a:b]",
        "up[X:Z]",
        "p[001:010:4].example",
    ];
    let mut yaml = String::from("calico:\n  hosts:\n");
    for p in patterns {
        yaml += &format!("    \"{p}\":\n");
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ranges.yaml");
    std::fs::write(&file, yaml).unwrap();
    let run = |path: &str| {
        let out = support::calicoctl(&[
            "node",
            "fleet",
            "-o",
            "env",
            "--inventory",
            file.to_str().unwrap(),
        ])
        .env("PATH", path)
        .output()
        .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        support::assert_success(&out);
        (printed_hosts(&out.stdout), stderr)
    };
    let (ours, quiet) = run("/nonexistent");
    // Our own reader says nothing (the one line is the missing config's).
    assert_eq!(
        quiet,
        "No /nonexistent/calicoctl.cfg and no datastore variable set: etcd with no endpoints (docs/config.md).\n",
        "our own reader"
    );
    let (ansibles, note) = run("/usr/bin:/bin");
    assert!(note.contains("Ansible's own resolver"), "{note}");
    assert_eq!(ours.len(), 12 + 4 + 5 + 4 + 3 + 4 + 3 + 3);
    assert_eq!(ours, ansibles);
}

/// Merge keys (`<<: *x`, `<<: [*a, *b]`, a merged mapping's own merge key,
/// keys of the mapping itself winning) give our own reader exactly what
/// ansible-inventory gives: every host's files, byte for byte.
#[test]
fn our_merge_keys_equal_ansibles() {
    let Some(_) = support::require_program("ansible-inventory") else {
        return;
    };
    let yaml = "\
all:
  vars:
    base: &base {calico_as: 64512, calico_backend: bird}
    common: &common
      <<: *base
      calico_ip: 192.0.2.1
    other: &other {calico_ip: 192.0.2.9, calico_as: 64999, calico_log_dir: /var/log/o}
  children:
    racks:
      vars:
        <<: *base
      hosts:
        h1:
          <<: *common
        h2:
          <<: [*common, *other]
          calico_as: 65000
        h3:
          <<: [*other, *common]
        h4: {}
";
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("merge.yaml");
    std::fs::write(&file, yaml).unwrap();
    let run = |path: &str| {
        let out = support::calicoctl(&["node", "fleet", "-o", "env", "--inventory"])
            .arg(&file)
            .env("PATH", path)
            .output()
            .unwrap();
        support::assert_success(&out);
        String::from_utf8(out.stdout).unwrap()
    };
    let ours = run("/nonexistent");
    let ansibles = run("/usr/bin:/bin");
    assert_eq!(ours, ansibles);
    // The merged values arrived (not an empty read on both sides).
    for line in [
        "NODENAME=h1\n",
        "AS=64512\nIP=192.0.2.1\n",
        "AS=65000\n",
        "IP=192.0.2.9\n",
    ] {
        assert!(ours.contains(line), "{line:?} in:\n{ours}");
    }
}
