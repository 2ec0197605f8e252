//! `-o kubernetes`: calico/node as a DaemonSet, one pod on every node, for
//! `kubectl apply -f`. The plan's environment and host directories carry
//! over; what is per-host in a plan becomes per-pod (`NODENAME` from the
//! pod's node), credentials and TLS files go into a Secret, and with the
//! Kubernetes datastore the pods authenticate with a ServiceAccount instead
//! of a kubeconfig from the host. Follows Calico's own manifests of the v3.2
//! era where they apply. Every document is a typed value (one struct a
//! kind of object, keys as Kubernetes spells them), written by yaml_serde.

use super::{Artifact, Files, Secrets};
use super::{EmitError, KubernetesRefusal};
use crate::config::DatastoreType;
use crate::engine::EngineKind;
use crate::escape;
use crate::plan::{EnvVar, Mode, MountKind, NodeName, Plan, Volume};
use crate::render::Engine;
use serde::Serialize;
use std::path::Path;

const NAME: &str = "calico-node";
const NAMESPACE: &str = "kube-system";
/// The Secret's volume, where TLS files are mounted from.
const CERTS_VOLUME: &str = "calico-node-certs";

/// The labels every object carries (and the DaemonSet selects on).
#[derive(Serialize)]
struct Labels {
    #[serde(rename = "k8s-app")]
    app: &'static str,
}

const LABELS: Labels = Labels { app: NAME };

/// Where a Kubernetes object lives.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// In the DaemonSet's namespace.
    Namespaced,
    /// Cluster-wide (a ClusterRole and its binding).
    Cluster,
}

#[derive(Serialize)]
struct Metadata {
    name: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    namespace: Option<&'static str>,
    labels: Labels,
}

fn metadata(scope: Scope) -> Metadata {
    Metadata {
        name: NAME,
        namespace: (scope == Scope::Namespaced).then_some(NAMESPACE),
        labels: LABELS,
    }
}

/// A document's head: its API version, kind and metadata.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Head {
    api_version: &'static str,
    kind: &'static str,
    metadata: Metadata,
}

fn head(api_version: &'static str, kind: &'static str, scope: Scope) -> Head {
    Head {
        api_version,
        kind,
        metadata: metadata(scope),
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
    if let Some(fixed) = plan.fixed_addresses.first() {
        return Err(KubernetesRefusal::LiteralAddress {
            origin: fixed.origin,
            value: fixed.value.clone(),
        }
        .into());
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

fn tls_files<'p>(plan: &'p Plan, files: &dyn Files) -> Result<Vec<TlsFile<'p>>, EmitError> {
    plan.volumes
        .iter()
        .filter(|v| v.kind == MountKind::Tls)
        .map(|volume| {
            let contents =
                files
                    .read(Path::new(&volume.host))
                    .map_err(|source| EmitError::TlsUnreadable {
                        origin: volume.origin,
                        path: volume.host.clone(),
                        source,
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

#[derive(Serialize)]
struct Secret {
    #[serde(flatten)]
    head: Head,
    #[serde(rename = "type")]
    kind: &'static str,
    data: Data,
}

/// The Secret's data: key and base64 value, a mapping in the order put.
struct Data(Vec<(String, String)>);

impl Serialize for Data {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

fn secret(plan: &Plan, tls: &[TlsFile]) -> Secret {
    let vars = plan
        .secrets()
        .map(|var| (secret_key(var), escape::base64(var.value.as_bytes())));
    let files = tls
        .iter()
        .map(|file| (file.key.clone(), escape::base64(&file.contents)));
    Secret {
        head: head("v1", "Secret", Scope::Namespaced),
        kind: "Opaque",
        data: Data(vars.chain(files).collect()),
    }
}

/// One variable of the container: a value, or where to take it from.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EnvEntry {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    value_from: Option<ValueFrom>,
}

/// Where a variable's value comes from: a field of the pod, or a key of
/// the Secret (one of the two).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ValueFrom {
    #[serde(skip_serializing_if = "Option::is_none")]
    field_ref: Option<FieldRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret_key_ref: Option<SecretKeyRef>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FieldRef {
    field_path: &'static str,
}

#[derive(Serialize)]
struct SecretKeyRef {
    name: &'static str,
    key: String,
}

/// The container's environment: the plan's, in its order.
fn env(plan: &Plan, in_cluster: bool) -> Vec<EnvEntry> {
    plan.env
        .iter()
        .filter_map(|var| {
            let from = |source: ValueFrom| EnvEntry {
                name: var.name.clone(),
                value: None,
                value_from: Some(source),
            };
            Some(match var.name.as_str() {
                "NODENAME" => from(ValueFrom {
                    field_ref: Some(FieldRef {
                        field_path: "spec.nodeName",
                    }),
                    secret_key_ref: None,
                }),
                // In the cluster the pod's ServiceAccount replaces the kubeconfig.
                "KUBECONFIG" if in_cluster => return None,
                _ if var.secret => from(ValueFrom {
                    field_ref: None,
                    secret_key_ref: Some(SecretKeyRef {
                        name: NAME,
                        key: secret_key(var),
                    }),
                }),
                _ => EnvEntry {
                    name: var.name.clone(),
                    value: Some(var.value.clone()),
                    value_from: None,
                },
            })
        })
        .collect()
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Mount {
    name: String,
    mount_path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    sub_path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    read_only: Option<bool>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PodVolume {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    host_path: Option<HostPath>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<SecretVolume>,
}

#[derive(Serialize)]
struct HostPath {
    path: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SecretVolume {
    secret_name: &'static str,
    default_mode: u32,
}

/// Mounts and volumes: host directories as `hostPath`, TLS files from the
/// Secret (read-only, each at the path the plan mounts it).
fn volumes(plan: &Plan, tls: &[TlsFile], in_cluster: bool) -> (Vec<Mount>, Vec<PodVolume>) {
    let mut mounts = Vec::new();
    let mut volumes = Vec::new();
    for vol in &plan.volumes {
        if in_cluster && vol.kind == MountKind::Kubeconfig {
            continue;
        }
        if let Some(file) = tls.iter().find(|f| std::ptr::eq(f.volume, vol)) {
            mounts.push(Mount {
                name: CERTS_VOLUME.to_string(),
                mount_path: vol.container.clone(),
                sub_path: Some(file.key.clone()),
                read_only: Some(true),
            });
            continue;
        }
        let name = volume_name(&vol.container);
        mounts.push(Mount {
            name: name.clone(),
            mount_path: vol.container.clone(),
            sub_path: None,
            read_only: vol.read_only.then_some(true),
        });
        volumes.push(PodVolume {
            name,
            host_path: Some(HostPath {
                path: vol.host.clone(),
            }),
            secret: None,
        });
    }
    if !tls.is_empty() {
        volumes.push(PodVolume {
            name: CERTS_VOLUME.to_string(),
            host_path: None,
            secret: Some(SecretVolume {
                secret_name: NAME,
                default_mode: 0o400,
            }),
        });
    }
    (mounts, volumes)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Container {
    name: &'static str,
    image: String,
    env: Vec<EnvEntry>,
    security_context: SecurityContext,
    resources: Resources,
    #[serde(skip_serializing_if = "Option::is_none")]
    liveness_probe: Option<Probe>,
    #[serde(skip_serializing_if = "Option::is_none")]
    readiness_probe: Option<Probe>,
    volume_mounts: Vec<Mount>,
}

/// A probe as Calico's manifests of the release write it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Probe {
    #[serde(skip_serializing_if = "Option::is_none")]
    exec: Option<ExecAction>,
    #[serde(skip_serializing_if = "Option::is_none")]
    http_get: Option<crate::plan::HttpGet>,
    period_seconds: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    initial_delay_seconds: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    failure_threshold: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    timeout_seconds: Option<u32>,
}

#[derive(Serialize)]
struct ExecAction {
    command: Vec<&'static str>,
}

/// The DaemonSet's liveness and readiness probes, when the plan has
/// health checks.
fn probes(plan: &Plan) -> (Option<Probe>, Option<Probe>) {
    use crate::release::health as calico;
    let Some(health) = plan.health else {
        return (None, None);
    };
    let probe = |view: crate::plan::ProbeView| Probe {
        exec: view.command().map(|command| ExecAction { command }),
        http_get: view.http_get(),
        period_seconds: calico::PERIOD_SECONDS,
        initial_delay_seconds: None,
        failure_threshold: None,
        timeout_seconds: health.probes.timeout_seconds,
    };
    let liveness = Probe {
        initial_delay_seconds: Some(calico::LIVENESS_INITIAL_DELAY_SECONDS),
        failure_threshold: Some(calico::LIVENESS_FAILURE_THRESHOLD),
        ..probe(health.liveness())
    };
    (Some(liveness), Some(probe(health.readiness())))
}

#[derive(Serialize)]
struct SecurityContext {
    privileged: bool,
}

#[derive(Serialize)]
struct Resources {
    requests: Requests,
}

#[derive(Serialize)]
struct Requests {
    cpu: &'static str,
}

#[derive(Serialize)]
struct Toleration {
    #[serde(skip_serializing_if = "Option::is_none")]
    effect: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<&'static str>,
    operator: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PodSpec {
    node_selector: NodeSelector,
    host_network: bool,
    tolerations: [Toleration; 3],
    #[serde(skip_serializing_if = "Option::is_none")]
    service_account_name: Option<&'static str>,
    priority_class_name: &'static str,
    termination_grace_period_seconds: u32,
    containers: [Container; 1],
    volumes: Vec<PodVolume>,
}

#[derive(Serialize)]
struct NodeSelector {
    #[serde(rename = "kubernetes.io/os")]
    os: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DaemonSet {
    #[serde(flatten)]
    head: Head,
    spec: DaemonSetSpec,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DaemonSetSpec {
    selector: Selector,
    update_strategy: UpdateStrategy,
    template: PodTemplate,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Selector {
    match_labels: Labels,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UpdateStrategy {
    #[serde(rename = "type")]
    kind: &'static str,
    rolling_update: RollingUpdate,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RollingUpdate {
    max_unavailable: u32,
}

#[derive(Serialize)]
struct PodTemplate {
    metadata: PodMetadata,
    spec: PodSpec,
}

#[derive(Serialize)]
struct PodMetadata {
    labels: Labels,
}

fn daemon_set(plan: &Plan, tls: &[TlsFile], in_cluster: bool) -> DaemonSet {
    let (volume_mounts, volumes) = volumes(plan, tls, in_cluster);
    let (liveness_probe, readiness_probe) = probes(plan);
    let container = Container {
        name: NAME,
        image: plan.image.clone(),
        env: env(plan, in_cluster),
        security_context: SecurityContext { privileged: true },
        resources: Resources {
            requests: Requests { cpu: "250m" },
        },
        liveness_probe,
        readiness_probe,
        volume_mounts,
    };
    let toleration = |effect, key, operator| Toleration {
        effect,
        key,
        operator,
    };
    DaemonSet {
        head: head("apps/v1", "DaemonSet", Scope::Namespaced),
        spec: DaemonSetSpec {
            selector: Selector {
                match_labels: LABELS,
            },
            update_strategy: UpdateStrategy {
                kind: "RollingUpdate",
                rolling_update: RollingUpdate { max_unavailable: 1 },
            },
            template: PodTemplate {
                metadata: PodMetadata { labels: LABELS },
                spec: PodSpec {
                    node_selector: NodeSelector { os: "linux" },
                    host_network: true,
                    // Run on every node, tainted or not, as Calico's manifests do.
                    tolerations: [
                        toleration(Some("NoSchedule"), None, "Exists"),
                        toleration(None, Some("CriticalAddonsOnly"), "Exists"),
                        toleration(Some("NoExecute"), None, "Exists"),
                    ],
                    service_account_name: in_cluster.then_some(NAME),
                    priority_class_name: "system-node-critical",
                    termination_grace_period_seconds: 0,
                    containers: [container],
                    volumes,
                },
            },
        },
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    api_groups: &'static [&'static str],
    resources: &'static [&'static str],
    verbs: &'static [&'static str],
}

#[derive(Serialize)]
struct ClusterRole {
    #[serde(flatten)]
    head: Head,
    rules: [Rule; 8],
}

const READ: &[&str] = &["get", "list", "watch"];

/// What calico/node reads and writes with the Kubernetes datastore (the
/// calico-node ClusterRole of Calico's v3.2/v3.3 `rbac-kdd.yaml`).
fn cluster_role() -> ClusterRole {
    let rule = |api_groups, resources, verbs| Rule {
        api_groups,
        resources,
        verbs,
    };
    ClusterRole {
        head: head(
            "rbac.authorization.k8s.io/v1",
            "ClusterRole",
            Scope::Cluster,
        ),
        rules: [
            rule(&[""], &["namespaces", "serviceaccounts"], READ),
            rule(&[""], &["pods/status"], &["patch"]),
            rule(&[""], &["pods"], READ),
            rule(&[""], &["services", "endpoints"], &["get"]),
            rule(&[""], &["nodes"], &["get", "list", "update", "watch"]),
            rule(&["extensions"], &["networkpolicies"], READ),
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
        ],
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ClusterRoleBinding {
    #[serde(flatten)]
    head: Head,
    role_ref: RoleRef,
    subjects: [Subject; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RoleRef {
    api_group: &'static str,
    kind: &'static str,
    name: &'static str,
}

#[derive(Serialize)]
struct Subject {
    kind: &'static str,
    name: &'static str,
    namespace: &'static str,
}

/// The documents of the manifest, each one Kubernetes object.
#[derive(Serialize)]
#[serde(untagged)]
enum Document {
    ServiceAccount(Head),
    ClusterRole(Box<ClusterRole>),
    ClusterRoleBinding(ClusterRoleBinding),
    Secret(Secret),
    DaemonSet(Box<DaemonSet>),
}

fn rbac() -> [Document; 3] {
    let binding = ClusterRoleBinding {
        head: head(
            "rbac.authorization.k8s.io/v1",
            "ClusterRoleBinding",
            Scope::Cluster,
        ),
        role_ref: RoleRef {
            api_group: "rbac.authorization.k8s.io",
            kind: "ClusterRole",
            name: NAME,
        },
        subjects: [Subject {
            kind: "ServiceAccount",
            name: NAME,
            namespace: NAMESPACE,
        }],
    };
    [
        Document::ServiceAccount(head("v1", "ServiceAccount", Scope::Namespaced)),
        Document::ClusterRole(Box::new(cluster_role())),
        Document::ClusterRoleBinding(binding),
    ]
}

/// `-o kubernetes`: the documents, in the order `kubectl apply` wants them.
pub fn manifest(plan: &Plan, engine: &Engine, files: &dyn Files) -> Result<Artifact, EmitError> {
    refuse(plan, engine)?;
    unique_secret_keys(plan)?;
    let tls = tls_files(plan, files)?;
    let in_cluster = plan.datastore == DatastoreType::Kubernetes;
    let mut docs = Vec::new();
    if in_cluster {
        docs.extend(rbac());
    }
    let has_secret = plan.secrets().next().is_some() || !tls.is_empty();
    if has_secret {
        docs.push(Document::Secret(secret(plan, &tls)));
    }
    docs.push(Document::DaemonSet(Box::new(daemon_set(
        plan, &tls, in_cluster,
    ))));
    let mut text = String::from(
        "# calico-node.yaml, generated by `calicoctl node run -o kubernetes`:\n# calico/node on every node. Apply it with `kubectl apply -f calico-node.yaml`.\n",
    );
    if has_secret {
        text.push_str("# It holds a Secret: keep this file mode 0600.\n");
    }
    for doc in &docs {
        let yaml = yaml_serde::to_string(doc).map_err(|e| EmitError::Serialize {
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
