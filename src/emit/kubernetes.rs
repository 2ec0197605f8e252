//! `-o kubernetes`: calico/node as a DaemonSet, one pod on every node, for
//! `kubectl apply -f`. The plan's environment and host directories carry
//! over; what is per-host in a plan becomes per-pod (`NODENAME` from the
//! pod's node), credentials and TLS files go into a Secret, and with the
//! Kubernetes datastore the pods authenticate with a ServiceAccount instead
//! of a kubeconfig from the host. Follows Calico's own manifests of the v3.2
//! era where they apply. Every document comes from serde_yaml.

use super::{Artifact, Secrets};
use super::{EmitError, KubernetesRefusal};
use crate::config::DatastoreType;
use crate::engine::EngineKind;
use crate::escape;
use crate::plan::{EnvVar, Mode, MountKind, NodeName, Plan, Volume};
use crate::render::Engine;
use serde_yaml::{Mapping, Value};
use std::path::Path;

const NAME: &str = "calico-node";
const NAMESPACE: &str = "kube-system";
/// The Secret's volume, where TLS files are mounted from.
const CERTS_VOLUME: &str = "calico-node-certs";

fn map<const N: usize>(pairs: [(&str, Value); N]) -> Value {
    let mut m = Mapping::new();
    for (k, v) in pairs {
        m.insert(Value::String(k.to_string()), v);
    }
    Value::Mapping(m)
}

fn s(text: &str) -> Value {
    Value::String(text.to_string())
}

fn seq(items: Vec<Value>) -> Value {
    Value::Sequence(items)
}

fn labels() -> Value {
    map([("k8s-app", s(NAME))])
}

/// Where a Kubernetes object lives.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// In the DaemonSet's namespace.
    Namespaced,
    /// Cluster-wide (a ClusterRole and its binding).
    Cluster,
}

fn metadata(scope: Scope) -> Value {
    match scope {
        Scope::Namespaced => map([
            ("name", s(NAME)),
            ("namespace", s(NAMESPACE)),
            ("labels", labels()),
        ]),
        Scope::Cluster => map([("name", s(NAME)), ("labels", labels())]),
    }
}

/// A TLS file of the plan, read for the Secret.
struct TlsFile<'a> {
    volume: &'a Volume,
    /// The Secret key: the file name inside the container.
    key: String,
    contents: Vec<u8>,
}

/// What a DaemonSet cannot express, refused with the reason.
fn refuse(plan: &Plan, engine: &Engine) -> Result<(), EmitError> {
    if engine.kind == EngineKind::Podman {
        return Err(KubernetesRefusal::Podman.into());
    }
    if plan.mode == Mode::InitSystem {
        return Err(KubernetesRefusal::InitSystem.into());
    }
    if plan.node_name_from == NodeName::Given {
        return Err(KubernetesRefusal::Name.into());
    }
    for var in &plan.env {
        match var.name.as_str() {
            "IP" | "IP6" if var.value != "autodetect" => {
                return Err(KubernetesRefusal::LiteralAddress {
                    origin: var.origin,
                    value: var.value.clone(),
                }
                .into());
            }
            _ => {}
        }
    }
    for vol in &plan.volumes {
        let bad = !vol.host.starts_with('/')
            || Path::new(&vol.host)
                .components()
                .any(|c| c.as_os_str() == "..");
        if bad && vol.kind != MountKind::Tls {
            return Err(KubernetesRefusal::HostPath {
                origin: vol.origin,
                path: vol.host.clone(),
            }
            .into());
        }
    }
    Ok(())
}

fn tls_files(plan: &Plan) -> Result<Vec<TlsFile<'_>>, EmitError> {
    plan.volumes
        .iter()
        .filter(|v| v.kind == MountKind::Tls)
        .map(|volume| {
            let contents = crate::input::read(Path::new(&volume.host)).map_err(|e| {
                EmitError::TlsUnreadable {
                    origin: volume.origin,
                    path: volume.host.clone(),
                    source: e.into(),
                }
            })?;
            let key = Path::new(&volume.container)
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("file")
                .to_string();
            Ok(TlsFile {
                volume,
                key,
                contents,
            })
        })
        .collect()
}

/// The Secret key of a secret variable: `ETCD_PASSWORD` -> `etcd-password`.
fn secret_key(var: &EnvVar) -> String {
    var.name.to_lowercase().replace('_', "-")
}

/// A volume's name: its container path as a DNS label.
fn volume_name(container: &str) -> String {
    let name: String = container
        .trim_start_matches('/')
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    name.chars()
        .take(63)
        .collect::<String>()
        .trim_end_matches('-')
        .to_string()
}

/// Each secret variable's key its own: two names that differ only in case
/// would share one, and one would read the other's value.
fn unique_secret_keys(plan: &Plan) -> Result<(), EmitError> {
    let mut seen: std::collections::HashMap<String, &str> = std::collections::HashMap::new();
    for var in plan.secrets() {
        if let Some(first) = seen.insert(secret_key(var), &var.name) {
            return Err(KubernetesRefusal::SecretKeyCollision {
                first: first.to_string(),
                second: var.name.clone(),
            }
            .into());
        }
    }
    Ok(())
}

fn secret(plan: &Plan, tls: &[TlsFile]) -> Value {
    let mut data = Mapping::new();
    for var in plan.secrets() {
        data.insert(
            s(&secret_key(var)),
            s(&escape::base64(var.value.as_bytes())),
        );
    }
    for file in tls {
        data.insert(s(&file.key), s(&escape::base64(&file.contents)));
    }
    map([
        ("apiVersion", s("v1")),
        ("kind", s("Secret")),
        ("metadata", metadata(Scope::Namespaced)),
        ("type", s("Opaque")),
        ("data", Value::Mapping(data)),
    ])
}

/// The container's environment: the plan's, in its order.
fn env(plan: &Plan, in_cluster: bool) -> Value {
    let vars = plan.env.iter().filter_map(|var| {
        let value_from = |source: Value| map([("name", s(&var.name)), ("valueFrom", source)]);
        Some(match var.name.as_str() {
            "NODENAME" => value_from(map([(
                "fieldRef",
                map([("fieldPath", s("spec.nodeName"))]),
            )])),
            // In the cluster the pod's ServiceAccount replaces the kubeconfig.
            "KUBECONFIG" if in_cluster => return None,
            _ if var.secret => value_from(map([(
                "secretKeyRef",
                map([("name", s(NAME)), ("key", s(&secret_key(var)))]),
            )])),
            _ => map([("name", s(&var.name)), ("value", s(&var.value))]),
        })
    });
    seq(vars.collect())
}

/// Mounts and volumes: host directories as `hostPath`, TLS files from the
/// Secret (read-only, each at the path the plan mounts it).
fn volumes(plan: &Plan, tls: &[TlsFile], in_cluster: bool) -> (Value, Value) {
    let mut mounts = Vec::new();
    let mut volumes = Vec::new();
    for vol in &plan.volumes {
        if in_cluster && vol.kind == MountKind::Kubeconfig {
            continue;
        }
        if let Some(file) = tls.iter().find(|f| std::ptr::eq(f.volume, vol)) {
            mounts.push(map([
                ("name", s(CERTS_VOLUME)),
                ("mountPath", s(&vol.container)),
                ("subPath", s(&file.key)),
                ("readOnly", Value::Bool(true)),
            ]));
            continue;
        }
        let name = volume_name(&vol.container);
        mounts.push(if vol.read_only {
            map([
                ("name", s(&name)),
                ("mountPath", s(&vol.container)),
                ("readOnly", Value::Bool(true)),
            ])
        } else {
            map([("name", s(&name)), ("mountPath", s(&vol.container))])
        });
        volumes.push(map([
            ("name", s(&name)),
            ("hostPath", map([("path", s(&vol.host))])),
        ]));
    }
    if !tls.is_empty() {
        volumes.push(map([
            ("name", s(CERTS_VOLUME)),
            (
                "secret",
                map([
                    ("secretName", s(NAME)),
                    ("defaultMode", Value::Number(0o400.into())),
                ]),
            ),
        ]));
    }
    (seq(mounts), seq(volumes))
}

fn daemon_set(plan: &Plan, tls: &[TlsFile], in_cluster: bool) -> Value {
    let (mounts, volumes) = volumes(plan, tls, in_cluster);
    let container = map([
        ("name", s(NAME)),
        ("image", s(&plan.image)),
        ("env", env(plan, in_cluster)),
        ("securityContext", map([("privileged", Value::Bool(true))])),
        ("resources", map([("requests", map([("cpu", s("250m"))]))])),
        ("volumeMounts", mounts),
    ]);
    let toleration = |pairs: [(&str, &str); 2]| map(pairs.map(|(k, v)| (k, s(v))));
    let mut pod = Mapping::new();
    let mut put = |k: &str, v: Value| {
        pod.insert(s(k), v);
    };
    put("nodeSelector", map([("kubernetes.io/os", s("linux"))]));
    put("hostNetwork", Value::Bool(true));
    // Run on every node, tainted or not, as Calico's manifests do.
    put(
        "tolerations",
        seq(vec![
            toleration([("effect", "NoSchedule"), ("operator", "Exists")]),
            toleration([("key", "CriticalAddonsOnly"), ("operator", "Exists")]),
            toleration([("effect", "NoExecute"), ("operator", "Exists")]),
        ]),
    );
    if in_cluster {
        put("serviceAccountName", s(NAME));
    }
    put("priorityClassName", s("system-node-critical"));
    put("terminationGracePeriodSeconds", Value::Number(0.into()));
    put("containers", seq(vec![container]));
    put("volumes", volumes);
    map([
        ("apiVersion", s("apps/v1")),
        ("kind", s("DaemonSet")),
        ("metadata", metadata(Scope::Namespaced)),
        (
            "spec",
            map([
                ("selector", map([("matchLabels", labels())])),
                (
                    "updateStrategy",
                    map([
                        ("type", s("RollingUpdate")),
                        (
                            "rollingUpdate",
                            map([("maxUnavailable", Value::Number(1.into()))]),
                        ),
                    ]),
                ),
                (
                    "template",
                    map([
                        ("metadata", map([("labels", labels())])),
                        ("spec", Value::Mapping(pod)),
                    ]),
                ),
            ]),
        ),
    ])
}

/// What calico/node reads and writes with the Kubernetes datastore (the
/// calico-node ClusterRole of Calico's v3.2/v3.3 `rbac-kdd.yaml`).
fn cluster_role() -> Value {
    let rule = |groups: &[&str], resources: &[&str], verbs: &[&str]| {
        let list = |items: &[&str]| seq(items.iter().map(|i| s(i)).collect());
        map([
            ("apiGroups", list(groups)),
            ("resources", list(resources)),
            ("verbs", list(verbs)),
        ])
    };
    let read = ["get", "list", "watch"];
    map([
        ("apiVersion", s("rbac.authorization.k8s.io/v1")),
        ("kind", s("ClusterRole")),
        ("metadata", metadata(Scope::Cluster)),
        (
            "rules",
            seq(vec![
                rule(&[""], &["namespaces", "serviceaccounts"], &read),
                rule(&[""], &["pods/status"], &["patch"]),
                rule(&[""], &["pods"], &read),
                rule(&[""], &["services", "endpoints"], &["get"]),
                rule(&[""], &["nodes"], &["get", "list", "update", "watch"]),
                rule(&["extensions"], &["networkpolicies"], &read),
                rule(
                    &["networking.k8s.io"],
                    &["networkpolicies"],
                    &["watch", "list"],
                ),
                rule(
                    &["crd.projectcalico.org"],
                    &[
                        "globalfelixconfigs",
                        "felixconfigurations",
                        "bgppeers",
                        "globalbgpconfigs",
                        "bgpconfigurations",
                        "ippools",
                        "globalnetworkpolicies",
                        "globalnetworksets",
                        "networkpolicies",
                        "clusterinformations",
                        "hostendpoints",
                    ],
                    &["create", "get", "list", "update", "watch"],
                ),
            ]),
        ),
    ])
}

fn rbac() -> Vec<Value> {
    let account = map([
        ("apiVersion", s("v1")),
        ("kind", s("ServiceAccount")),
        ("metadata", metadata(Scope::Namespaced)),
    ]);
    let binding = map([
        ("apiVersion", s("rbac.authorization.k8s.io/v1")),
        ("kind", s("ClusterRoleBinding")),
        ("metadata", metadata(Scope::Cluster)),
        (
            "roleRef",
            map([
                ("apiGroup", s("rbac.authorization.k8s.io")),
                ("kind", s("ClusterRole")),
                ("name", s(NAME)),
            ]),
        ),
        (
            "subjects",
            seq(vec![map([
                ("kind", s("ServiceAccount")),
                ("name", s(NAME)),
                ("namespace", s(NAMESPACE)),
            ])]),
        ),
    ]);
    vec![account, cluster_role(), binding]
}

/// `-o kubernetes`: the documents, in the order `kubectl apply` wants them.
pub fn manifest(plan: &Plan, engine: &Engine) -> Result<Artifact, EmitError> {
    refuse(plan, engine)?;
    unique_secret_keys(plan)?;
    let tls = tls_files(plan)?;
    let in_cluster = plan.datastore == DatastoreType::Kubernetes;
    let mut docs = Vec::new();
    if in_cluster {
        docs.extend(rbac());
    }
    let has_secret = plan.secrets().next().is_some() || !tls.is_empty();
    if has_secret {
        docs.push(secret(plan, &tls));
    }
    docs.push(daemon_set(plan, &tls, in_cluster));
    let mut text = String::from(
        "# calico-node.yaml, generated by `calicoctl node run -o kubernetes`:\n# calico/node on every node. Apply it with `kubectl apply -f calico-node.yaml`.\n",
    );
    if has_secret {
        text.push_str("# It holds a Secret: keep this file mode 0600.\n");
    }
    for doc in &docs {
        let yaml = serde_yaml::to_string(doc).map_err(|e| EmitError::Serialize {
            target: "kubernetes: ",
            message: e.to_string(),
        })?;
        text.push_str("---\n");
        text.push_str(&yaml);
    }
    let mode = if has_secret { 0o600 } else { 0o644 };
    // The Secret comes and goes with the plan's credentials and TLS files.
    Ok(Artifact::new("calico-node.yaml", mode, text).holding_secrets(Secrets::MayHold))
}
