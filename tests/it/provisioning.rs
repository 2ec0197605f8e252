//! The provisioning targets checked by the validators their users rely on:
//! `cloud-init schema` for `-o cloud-init`, `ignition-validate` for
//! `-o ignition`, `kubernetes-validate --strict` (Kubernetes 1.30 and the
//! newest it knows) for `-o kubernetes`. Each document is then parsed back
//! by an independent parser (PyYAML, which cloud-init and
//! kubernetes-validate use; Python's json and base64 for Ignition) and must
//! carry exactly what `-o systemd-envfile` writes, or the plan's values.
//! A hostile-value matrix runs through all three: each value arrives
//! unchanged or is refused with a one-line error.

use crate::support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use support::Input;

/// Debian's python3, which has PyYAML (cloud-init depends on it).
const PYTHON: &str = "/usr/bin/python3";

/// The newest Kubernetes version checked besides 1.30 is
/// kubernetes-validate's default, the newest it knows.
const K8S_VERSIONS: [Option<&str>; 2] = [Some("1.30.0"), None];

fn calicoctl_in(dir: &Path, args: &[String]) -> Output {
    let mut all = vec!["node".to_string(), "run".to_string()];
    all.extend(args.iter().cloned());
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    support::calicoctl(&all).current_dir(dir).output().unwrap()
}

/// The validators and parsers this file needs, or None (skip outside CI).
fn tools() -> Option<()> {
    for program in ["cloud-init", "ignition-validate", "kubernetes-validate"] {
        support::require_program(program)?;
    }
    if !Path::new(PYTHON).is_file() {
        assert!(!support::in_ci(), "{PYTHON} is missing");
        support::skipped(&format!("{PYTHON} is missing"));
        return None;
    }
    Some(())
}

/// Every document of each file, parsed by PyYAML (`yaml`) or Python's json
/// with Ignition data URLs decoded by Python's base64 (`ignition`).
fn parse_all(kind: &str, paths: &[PathBuf]) -> Vec<Vec<Value>> {
    if paths.is_empty() {
        return Vec::new();
    }
    let program = r#"
import base64, json, sys, urllib.parse
import yaml
kind, out = sys.argv[1], []
for path in sys.argv[2:]:
    text = open(path, encoding="utf-8").read()
    if kind == "yaml":
        out.append(list(yaml.safe_load_all(text)))
        continue
    doc = json.loads(text)
    for f in doc["storage"]["files"]:
        head, data = f["contents"]["source"].split(",", 1)
        raw = base64.b64decode(data, validate=True) if head.endswith(";base64") else urllib.parse.unquote_to_bytes(data)
        f["decoded"] = raw.decode("utf-8")
    out.append([doc])
print(json.dumps(out))
"#;
    let out = Command::new(PYTHON)
        .arg("-c")
        .arg(program)
        .arg(kind)
        .args(paths)
        .output()
        .unwrap();
    support::assert_success_in(&out, "parse");
    serde_json::from_slice(&out.stdout).unwrap()
}

fn cloud_init_valid(path: &Path) {
    let out = Command::new("cloud-init")
        .args(["schema", "--config-file"])
        .arg(path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.starts_with("Valid cloud-config"),
        "cloud-init schema {}: {stdout}{}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn ignition_valid(path: &Path) {
    let out = Command::new("ignition-validate")
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.success() && out.stdout.is_empty() && out.stderr.is_empty(),
        "ignition-validate {}: {}{}",
        path.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Every document of every file passes kubernetes-validate --strict, for
/// each version checked.
fn kubernetes_valid(paths: &[PathBuf], documents: usize) {
    if paths.is_empty() {
        return;
    }
    for version in K8S_VERSIONS {
        let mut cmd = Command::new("kubernetes-validate");
        cmd.arg("--strict");
        if let Some(v) = version {
            cmd.args(["-k", v]);
        }
        let out = cmd.args(paths).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        let passed = text.lines().filter(|l| l.contains(" passed for ")).count();
        assert!(
            out.status.success() && passed == documents,
            "kubernetes-validate {version:?}: {passed} of {documents} documents passed:\n{text}"
        );
    }
}

/// `-o systemd-envfile` for `args`, written by `--out-dir`: the exact bytes
/// of the env file and the unit.
fn envfile_pair(dir: &Path, args: &[String]) -> Option<(String, String)> {
    let out_dir = dir.join("reference");
    std::fs::create_dir_all(&out_dir).unwrap();
    let mut all = vec!["-o".into(), "systemd-envfile".into()];
    all.push(format!("--out-dir={}", out_dir.display()));
    all.extend(args.iter().cloned());
    let out = calicoctl_in(dir, &all);
    if !out.status.success() {
        return None;
    }
    let read = |name: &str| std::fs::read_to_string(out_dir.join(name)).unwrap();
    Some((read("calico-node.env"), read("calico-node.service")))
}

/// Check a parsed cloud-config installs exactly `pair`.
fn check_cloud_config(doc: &Value, pair: &(String, String), what: &str) {
    let files = doc["write_files"].as_array().unwrap();
    assert_eq!(files.len(), 2, "{what}");
    let expect = [
        ("/etc/calico/calico-node.env", "0600", &pair.0),
        ("/etc/systemd/system/calico-node.service", "0644", &pair.1),
    ];
    for (file, (path, mode, content)) in files.iter().zip(expect) {
        assert_eq!(file["path"], path, "{what}");
        assert_eq!(file["permissions"], mode, "{what}");
        assert_eq!(
            file["content"].as_str().unwrap(),
            content.as_str(),
            "{what}: {path}"
        );
    }
    assert_eq!(
        doc["runcmd"],
        serde_json::json!([
            "systemctl daemon-reload",
            "systemctl enable --now calico-node.service"
        ]),
        "{what}"
    );
}

/// Check a parsed Ignition config installs exactly `pair`.
fn check_ignition(doc: &Value, pair: &(String, String), what: &str) {
    assert_eq!(doc["ignition"]["version"], "3.3.0", "{what}");
    let file = &doc["storage"]["files"][0];
    assert_eq!(file["path"], "/etc/calico/calico-node.env", "{what}");
    assert_eq!(file["mode"], 384, "{what}");
    assert_eq!(
        file["decoded"].as_str().unwrap(),
        pair.0,
        "{what}: env file"
    );
    let unit = &doc["systemd"]["units"][0];
    assert_eq!(unit["name"], "calico-node.service", "{what}");
    assert_eq!(unit["enabled"], true, "{what}");
    assert_eq!(unit["contents"].as_str().unwrap(), pair.1, "{what}: unit");
}

/// The documents of a parsed manifest, by kind.
fn by_kind<'a>(docs: &'a [Value], kind: &str) -> Option<&'a Value> {
    docs.iter().find(|d| d["kind"] == kind)
}

/// The calico/node container of a DaemonSet, and its pod spec.
fn container(docs: &[Value]) -> (&Value, &Value) {
    let ds = by_kind(docs, "DaemonSet").expect("a DaemonSet");
    let pod = &ds["spec"]["template"]["spec"];
    (&pod["containers"][0], pod)
}

/// The env entry named `name`.
fn env_entry<'a>(container: &'a Value, name: &str) -> Option<&'a Value> {
    container["env"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == name)
}

/// The host path mounted at `mount_path`.
fn host_path_at(container: &Value, pod: &Value, mount_path: &str) -> Option<String> {
    let mount = container["volumeMounts"]
        .as_array()?
        .iter()
        .find(|m| m["mountPath"] == mount_path)?;
    let volume = pod["volumes"]
        .as_array()?
        .iter()
        .find(|v| v["name"] == mount["name"])?;
    volume["hostPath"]["path"].as_str().map(str::to_string)
}

/// A Secret value, decoded by this test.
fn secret_value(docs: &[Value], key: &str) -> Option<Vec<u8>> {
    let data = by_kind(docs, "Secret")?["data"][key].as_str()?.to_string();
    let out = Command::new("base64")
        .arg("-d")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(data.as_bytes())?;
            child.wait_with_output()
        })
        .unwrap();
    support::assert_success_in(&out, format_args!("base64 -d {data}"));
    Some(out.stdout)
}

/// A case: its arguments, the files to create first, the secret values its
/// configuration holds (env name, value).
struct Case {
    name: &'static str,
    args: Vec<String>,
    secrets: Vec<(&'static str, &'static str)>,
}

fn config_args(dir: &Path, spec: &str) -> Vec<String> {
    let path = support::write_config(dir, spec);
    vec!["-c".into(), path.display().to_string()]
}

fn cases(dir: &Path) -> Vec<Case> {
    let pki = dir.join("pki");
    std::fs::create_dir_all(&pki).unwrap();
    for (file, text) in [
        ("ca.pem", "CA\n"),
        ("key.pem", "KEY\n"),
        ("cert.pem", "CERT\n"),
    ] {
        std::fs::write(pki.join(file), text).unwrap();
    }
    let tls_dir = dir.join("tls");
    std::fs::create_dir_all(&tls_dir).unwrap();
    let tls = config_args(
        &tls_dir,
        &format!(
            "  etcdEndpoints: https://10.0.0.1:2379\n  etcdUsername: calico\n  etcdPassword: \"pa$$ w'o\\\"rd\"\n  etcdCACertFile: {p}/ca.pem\n  etcdKeyFile: {p}/key.pem\n  etcdCertFile: {p}/cert.pem\n",
            p = pki.display()
        ),
    );
    let kdd_dir = dir.join("kdd");
    std::fs::create_dir_all(&kdd_dir).unwrap();
    let kdd = config_args(
        &kdd_dir,
        "  datastoreType: kubernetes\n  kubeconfig: /etc/kubernetes/admin.conf\n  k8sAPIEndpoint: https://10.96.0.1:443\n  k8sAPIToken: tok3n\n",
    );
    let etcd_dir = dir.join("etcd");
    std::fs::create_dir_all(&etcd_dir).unwrap();
    let etcd = config_args(&etcd_dir, "  etcdEndpoints: https://10.0.0.1:2379\n");
    let s = |v: &[&str]| v.iter().map(|a| a.to_string()).collect::<Vec<_>>();
    vec![
        Case {
            name: "defaults",
            args: Vec::new(),
            secrets: Vec::new(),
        },
        Case {
            name: "every option, TLS and credentials",
            args: [
                s(&[
                    "--as=64512",
                    "--ip=autodetect",
                    "--ip6=autodetect",
                    "--ip-autodetection-method=cidr=10.0.0.0/8",
                    "--log-dir=/logs",
                    "--node-image=calico/node:v3.2.3",
                    "--backend=gobgp",
                    "--no-default-ippools",
                    "--docker-networking-ifprefix=tap",
                    "--use-docker-networking-container-labels",
                    "--felix-config=/felix.cfg",
                ]),
                tls,
            ]
            .concat(),
            secrets: vec![
                ("ETCD_USERNAME", "calico"),
                ("ETCD_PASSWORD", "pa$$ w'o\"rd"),
            ],
        },
        Case {
            name: "hostile",
            args: s(&[
                "--log-dir=/var/log/my calico's $HOME %n `x`",
                "--node-image=img'\"$(x)%\\ü",
                "--disable-docker-networking",
            ]),
            secrets: Vec::new(),
        },
        Case {
            name: "kubernetes datastore",
            args: kdd,
            secrets: vec![("K8S_API_TOKEN", "tok3n")],
        },
        // calico/node's probes: commands with timeouts (v3.32), HTTP (v3.1).
        Case {
            name: "v3.32's probes",
            args: [s(&["--calico-version=v3.32.1"]), etcd.clone()].concat(),
            secrets: Vec::new(),
        },
        Case {
            name: "v3.1's HTTP probes",
            args: [s(&["--calico-version=v3.1.0"]), etcd].concat(),
            secrets: Vec::new(),
        },
    ]
}

/// The plan of `args`, as `-o json` states it.
fn plan_of(dir: &Path, args: &[String]) -> Value {
    let mut all = vec!["-o".to_string(), "json".to_string()];
    all.extend(args.iter().cloned());
    let out = calicoctl_in(dir, &all);
    serde_json::from_str(&support::stdout_of(&out)).unwrap()
}

/// The DaemonSet carries the plan: its env (NODENAME from the node,
/// secrets from the Secret) and its volumes (TLS files from the Secret).
/// calico/node's probes, as the plan states them; at v3.1, whose plan has
/// none (no command for a container's check), its manifest's HTTP probes.
fn check_probes(c: &Value, health: &Value, what: &str) {
    if health.is_null() {
        let get = |path: &str| serde_json::json!({"path": path, "port": 9099});
        assert_eq!(c["readinessProbe"]["httpGet"], get("/readiness"), "{what}");
        assert_eq!(c["livenessProbe"]["httpGet"], get("/liveness"), "{what}");
    }
    for (probe, key) in [
        ("readinessProbe", "readiness"),
        ("livenessProbe", "liveness"),
    ] {
        match &health[key]["command"] {
            Value::Null if health.is_null() => {}
            Value::Null => assert_eq!(c[probe]["httpGet"], health[key]["http_get"], "{what}"),
            command => assert_eq!(&c[probe]["exec"]["command"], command, "{what}"),
        }
        assert_eq!(c[probe]["periodSeconds"], 10, "{what}");
        assert_eq!(
            c[probe]["timeoutSeconds"], health["timeout_seconds"],
            "{what}"
        );
    }
}

fn check_daemon_set(docs: &[Value], plan: &Value, secrets: &[(&str, &str)], what: &str) {
    let (c, pod) = container(docs);
    check_probes(c, &plan["health"], what);
    assert_eq!(c["livenessProbe"]["failureThreshold"], 6, "{what}");
    let in_cluster = plan["datastore"] == "kubernetes";
    assert_eq!(pod["hostNetwork"], true, "{what}");
    assert_eq!(c["securityContext"]["privileged"], true, "{what}");
    assert_eq!(pod["priorityClassName"], "system-node-critical", "{what}");
    assert_eq!(c["image"], plan["image"], "{what}");
    let ds = by_kind(docs, "DaemonSet").unwrap();
    assert_eq!(ds["metadata"]["namespace"], "kube-system", "{what}");
    assert_eq!(
        ds["spec"]["updateStrategy"]["rollingUpdate"]["maxUnavailable"], 1,
        "{what}"
    );
    for var in plan["env"].as_array().unwrap() {
        let name = var["name"].as_str().unwrap();
        let entry = env_entry(c, name);
        match name {
            "NODENAME" => assert_eq!(
                entry.unwrap()["valueFrom"]["fieldRef"]["fieldPath"],
                "spec.nodeName",
                "{what}"
            ),
            "KUBECONFIG" if in_cluster => assert!(entry.is_none(), "{what}: KUBECONFIG"),
            _ if var["secret"] == true => {
                let entry = entry.unwrap_or_else(|| panic!("{what}: {name} missing"));
                assert!(entry.get("value").is_none(), "{what}: {name} is literal");
                let key = entry["valueFrom"]["secretKeyRef"]["key"].as_str().unwrap();
                let want = secrets.iter().find(|(n, _)| *n == name).unwrap().1;
                assert_eq!(
                    secret_value(docs, key).unwrap(),
                    want.as_bytes(),
                    "{what}: {name}"
                );
            }
            _ => assert_eq!(entry.unwrap()["value"], var["value"], "{what}: {name}"),
        }
    }
    for vol in plan["volumes"].as_array().unwrap() {
        let container_path = vol["container"].as_str().unwrap();
        let host = vol["host"].as_str().unwrap();
        let origin = vol["origin"].as_str().unwrap();
        if in_cluster && origin == "kubeconfig" {
            assert!(
                host_path_at(c, pod, container_path).is_none(),
                "{what}: kubeconfig"
            );
        } else if origin.ends_with("File") {
            let mount = c["volumeMounts"]
                .as_array()
                .unwrap()
                .iter()
                .find(|m| m["mountPath"] == container_path)
                .unwrap_or_else(|| panic!("{what}: {container_path} not mounted"));
            assert_eq!(mount["readOnly"], true, "{what}");
            let key = mount["subPath"].as_str().unwrap();
            let contents = std::fs::read(host).unwrap();
            assert_eq!(
                secret_value(docs, key).unwrap(),
                contents,
                "{what}: {origin}"
            );
        } else {
            assert_eq!(
                host_path_at(c, pod, container_path).as_deref(),
                Some(host),
                "{what}: {container_path}"
            );
        }
    }
    if in_cluster {
        assert_eq!(pod["serviceAccountName"], "calico-node", "{what}");
        for kind in ["ServiceAccount", "ClusterRole", "ClusterRoleBinding"] {
            assert!(by_kind(docs, kind).is_some(), "{what}: no {kind}");
        }
    }
}

#[test]
fn every_target_passes_its_validator_and_carries_the_plan() {
    if tools().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut cloud_files = Vec::new();
    let mut ign_files = Vec::new();
    let mut k8s_files = Vec::new();
    let mut documents = 0;
    for (i, case) in cases(d).iter().enumerate() {
        for format in ["cloud-init", "ignition", "kubernetes"] {
            let mut args = vec!["-o".to_string(), format.to_string()];
            args.extend(case.args.iter().cloned());
            let out = calicoctl_in(d, &args);
            let text = support::stdout_of(&out);
            let path = d.join(format!("{i}.{format}"));
            std::fs::write(&path, &text).unwrap();
            match format {
                "cloud-init" => {
                    cloud_init_valid(&path);
                    cloud_files.push((path, i));
                }
                "ignition" => {
                    ignition_valid(&path);
                    ign_files.push((path, i));
                }
                _ => {
                    documents += text.matches("\n---\n").count();
                    k8s_files.push((path, i));
                }
            }
        }
    }
    let paths = |v: &[(PathBuf, usize)]| v.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>();
    kubernetes_valid(&paths(&k8s_files), documents);
    let all_cases = cases(d);
    for ((_, i), docs) in cloud_files
        .iter()
        .zip(parse_all("yaml", &paths(&cloud_files)))
    {
        let case = &all_cases[*i];
        let pair = envfile_pair(d, &case.args).unwrap();
        check_cloud_config(&docs[0], &pair, &format!("cloud-init, {}", case.name));
    }
    for ((_, i), docs) in ign_files
        .iter()
        .zip(parse_all("ignition", &paths(&ign_files)))
    {
        let case = &all_cases[*i];
        let pair = envfile_pair(d, &case.args).unwrap();
        check_ignition(&docs[0], &pair, &format!("ignition, {}", case.name));
    }
    for ((_, i), docs) in k8s_files.iter().zip(parse_all("yaml", &paths(&k8s_files))) {
        let case = &all_cases[*i];
        let plan = plan_of(d, &case.args);
        check_daemon_set(
            &docs,
            &plan["plan"],
            &case.secrets,
            &format!("kubernetes, {}", case.name),
        );
    }
}

impl Input {
    /// Check the parsed manifest carries `value` where the input puts it.
    fn check_kubernetes(self, docs: &[Value], dir: &Path, value: &str, what: &str) {
        let (c, pod) = container(docs);
        match self {
            Input::Name => {
                assert!(value.is_empty(), "{what}: --name must be refused");
                let node = env_entry(c, "NODENAME").unwrap();
                assert_eq!(node["valueFrom"]["fieldRef"]["fieldPath"], "spec.nodeName");
            }
            Input::LogDir => assert_eq!(
                host_path_at(c, pod, "/var/log/calico").as_deref(),
                Some(format!("/logs/<{value}>").as_str()),
                "{what}"
            ),
            Input::Image => assert_eq!(c["image"], value, "{what}"),
            Input::Endpoints => assert_eq!(
                env_entry(c, "ETCD_ENDPOINTS").unwrap()["value"],
                value,
                "{what}"
            ),
            Input::Env => assert_eq!(
                env_entry(c, "HOSTILE_ENV").unwrap()["value"],
                value,
                "{what}"
            ),
            Input::CaFile => {
                let contents = std::fs::read(support::ca_path(dir, value)).unwrap();
                assert_eq!(
                    secret_value(docs, "ca_cert.crt").unwrap(),
                    contents,
                    "{what}"
                );
                assert_eq!(contents, value.as_bytes(), "{what}");
            }
        }
    }
}

fn accepted(out: &Output, what: &str) -> Option<String> {
    if out.status.success() {
        Some(String::from_utf8(out.stdout.clone()).unwrap())
    } else {
        support::assert_clean_refusal(out, what);
        None
    }
}

#[test]
fn hostile_values_reach_every_provisioning_target_unchanged_or_are_refused() {
    if tools().is_none() {
        return;
    }
    let root = tempfile::tempdir().unwrap();
    // What was generated, checked in batches once all are in.
    let mut provisioned = Vec::new(); // (format, path, envfile pair, what)
    let mut manifests = Vec::new(); // (path, input, dir, value, what)
    let mut documents = 0;
    for (n, (label, value)) in support::hostile_values().into_iter().enumerate() {
        for input in Input::ALL {
            let d = root.path().join(format!("{n}-{input:?}"));
            std::fs::create_dir_all(&d).unwrap();
            let args = input.args(&d, &value);
            let pair = envfile_pair(&d, &args);
            for format in ["cloud-init", "ignition", "kubernetes"] {
                let what = format!("{label} via {input:?} in -o {format}");
                let mut all = vec!["-o".to_string(), format.to_string()];
                all.extend(args.iter().cloned());
                let out = calicoctl_in(&d, &all);
                let Some(text) = accepted(&out, &what) else {
                    // Refused: cloud-init and Ignition refuse what the unit
                    // pair they carry refuses; Ignition also a unit line
                    // longer than its parser takes.
                    let stderr = String::from_utf8_lossy(&out.stderr);
                    let too_long = format == "ignition"
                        && stderr.contains("Ignition cannot carry a unit line longer than");
                    if format != "kubernetes" && !too_long {
                        assert!(pair.is_none(), "{what}: refused, systemd-envfile is not");
                    }
                    continue;
                };
                let path = d.join(format!("out.{format}"));
                std::fs::write(&path, &text).unwrap();
                match format {
                    "kubernetes" => {
                        documents += text.matches("\n---\n").count();
                        manifests.push((path, input, d.clone(), value.clone(), what));
                    }
                    _ => {
                        let pair = pair
                            .clone()
                            .unwrap_or_else(|| panic!("{what}: accepted, systemd-envfile refuses"));
                        provisioned.push((format, path, pair, what));
                    }
                }
            }
        }
    }

    for (format, path, _, _) in &provisioned {
        if *format == "cloud-init" {
            cloud_init_valid(path);
        } else {
            ignition_valid(path);
        }
    }
    for format in ["cloud-init", "ignition"] {
        let mine: Vec<_> = provisioned.iter().filter(|p| p.0 == format).collect();
        let paths: Vec<PathBuf> = mine.iter().map(|p| p.1.clone()).collect();
        let kind = if format == "ignition" {
            "ignition"
        } else {
            "yaml"
        };
        for ((_, _, pair, what), docs) in mine.iter().zip(parse_all(kind, &paths)) {
            if format == "ignition" {
                check_ignition(&docs[0], pair, what);
            } else {
                check_cloud_config(&docs[0], pair, what);
            }
        }
    }
    let paths: Vec<PathBuf> = manifests.iter().map(|m| m.0.clone()).collect();
    kubernetes_valid(&paths, documents);
    for ((_, input, dir, value, what), docs) in manifests.iter().zip(parse_all("yaml", &paths)) {
        input.check_kubernetes(&docs, dir, value, what);
    }
    // 14 values through 5 inputs into 3 targets: most must get through (the
    // rest are refusals, each checked above), or this test proves little.
    let reached = provisioned.len() + manifests.len();
    eprintln!("{reached} value/target pairs reached a validator");
    assert!(
        reached >= 150,
        "only {reached} value/target pairs reached a validator"
    );
}

#[test]
fn out_dir_files_are_private_exactly_when_they_hold_secrets() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let creds = config_args(
        d,
        "  etcdEndpoints: https://10.0.0.1:2379\n  etcdPassword: s3cret\n",
    );
    for (format, file) in [
        ("cloud-init", "user-data"),
        ("ignition", "config.ign"),
        ("kubernetes", "calico-node.yaml"),
    ] {
        for (with_secret, want) in [(false, 0o644), (true, 0o600)] {
            let out_dir = d.join(format!("{format}-{with_secret}"));
            std::fs::create_dir(&out_dir).unwrap();
            let mut args = vec![
                "-o".to_string(),
                format.to_string(),
                format!("--out-dir={}", out_dir.display()),
            ];
            if with_secret {
                args.extend(creds.iter().cloned());
            }
            let out = calicoctl_in(d, &args);
            support::assert_success(&out);
            let mode = std::fs::metadata(out_dir.join(file))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, want, "{format}, secret: {with_secret}");
            let text = std::fs::read_to_string(out_dir.join(file)).unwrap();
            // The secret is in the file only when it is private (Ignition
            // has it inside the base64 of the whole env file).
            if format != "ignition" {
                assert_eq!(
                    text.contains("s3cret") || text.contains("czNjcmV0"),
                    with_secret,
                    "{format}"
                );
            }
        }
    }
}
