//! Validation steps 9 and 10 and the plan itself, a pure function of the
//! checked options, the datastore configuration and the environment: the
//! variables and mounts in upstream's order, the datastore's, the user's
//! `--env` last, every value checked once for every format.

use super::checks::{Backend, CheckedOptions, given};
use super::health::{Health, HealthRequest};
use super::model::{
    CONTAINER_NAME, EnvVar, FixedAddress, Libnetwork, Mode, MountKind, NodeName, Origin, Plan,
    Volume,
};
use super::{PlanError, user_env};
use crate::cli::NodeRunArgs;
use crate::config::{DatastoreSpec, DatastoreType};
use crate::ip::methods::Method;
use crate::release::health::Bird;
use crate::release::{DiscoverySrv, Profile, Served};

const ETCD_CA_CERT_NODE_FILE: &str = "/etc/calico/certs/ca_cert.crt";
const ETCD_KEY_NODE_FILE: &str = "/etc/calico/certs/key.pem";
const ETCD_CERT_NODE_FILE: &str = "/etc/calico/certs/cert.crt";
const KUBECONFIG_NODE_FILE: &str = "/etc/calico/kubeconfig";
const K8S_CA_NODE_FILE: &str = "/etc/calico/certs/k8s_ca.crt";
const K8S_KEY_NODE_FILE: &str = "/etc/calico/certs/k8s_key.pem";
const K8S_CERT_NODE_FILE: &str = "/etc/calico/certs/k8s_cert.crt";
const FELIX_CONFIG_NODE_FILE: &str = "/etc/calico/felix.cfg";
const DEFAULT_IFPREFIX: &str = "cali";

/// A host file to mount into the container, and what it is.
#[derive(Clone, Copy)]
struct Mounted<'a> {
    host: &'a str,
    container: &'a str,
    kind: MountKind,
}

impl<'a> Mounted<'a> {
    fn tls(host: &'a str, container: &'a str) -> Mounted<'a> {
        Mounted {
            host,
            container,
            kind: MountKind::Tls,
        }
    }

    fn kubeconfig(host: &'a str, container: &'a str) -> Mounted<'a> {
        Mounted {
            host,
            container,
            kind: MountKind::Kubeconfig,
        }
    }
}

struct Builder {
    env: Vec<EnvVar>,
    volumes: Vec<Volume>,
}

/// The origin of values calicoctl sets itself.
const FIXED: Origin = Origin::Calicoctl;

/// How the container may use a bind mount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    ReadWrite,
    ReadOnly,
}

impl Builder {
    fn env(&mut self, name: &str, value: impl Into<String>, origin: Origin) {
        self.push_env(name, value.into(), origin, false);
    }

    fn secret(&mut self, name: &str, value: &str, origin: Origin) {
        self.push_env(name, value.into(), origin, true);
    }

    fn push_env(&mut self, name: &str, value: String, origin: Origin, secret: bool) {
        self.env.push(EnvVar {
            name: name.into(),
            value,
            origin,
            secret,
        });
    }

    fn volume(&mut self, host: &str, container: &str, access: Access, origin: Origin) {
        self.mount(host, container, access, origin, MountKind::Host);
    }

    fn mount(
        &mut self,
        host: &str,
        container: &str,
        access: Access,
        origin: Origin,
        kind: MountKind,
    ) {
        self.volumes.push(Volume {
            host: host.into(),
            container: container.into(),
            read_only: access == Access::ReadOnly,
            origin,
            kind,
        });
    }

    /// A host file mounted into the container, its container path in `var`.
    fn mounted_file(&mut self, var: &str, file: Mounted, access: Access, origin: Origin) {
        self.env(var, file.container, FIXED);
        self.mount(file.host, file.container, access, origin, file.kind);
    }
}

/// Validation steps 9 and 10, then the plan; `--env`'s variables (ours,
/// so checked after every step of upstream's) come last, by-name values
/// read from `environ`. Pure: no I/O.
pub fn build(
    args: &NodeRunArgs,
    served: &Served,
    checked: &CheckedOptions,
    node_name: &str,
    spec: &DatastoreSpec,
    environ: &std::collections::HashMap<String, String>,
    health: Option<HealthRequest>,
) -> Result<Plan, PlanError> {
    let profile = served.profile;
    if profile.libnetwork {
        check_networking_options(args)?;
    }
    let user = user_env::check(&args.env, environ)?;
    let datastore = spec
        .datastore_in(profile.etcd_by_default)
        .map_err(PlanError::Config)?;
    if [&spec.etcd_key, &spec.etcd_cert, &spec.etcd_ca_cert]
        .iter()
        .any(|v| given(v).is_some())
    {
        return Err(PlanError::InlineCertificates);
    }

    let mut b = Builder {
        env: Vec::new(),
        volumes: Vec::new(),
    };
    node_env(&mut b, args, profile, checked, node_name);
    host_volumes(&mut b, args, profile);
    let ignored_options = match datastore {
        DatastoreType::Etcdv3 => {
            etcd_datastore(&mut b, spec, profile.discovery_srv);
            Vec::new()
        }
        DatastoreType::Kubernetes => {
            kubernetes_datastore(&mut b, spec);
            args.given.iter().map(|s| s.to_string()).collect()
        }
    };
    let health = health.map(|request| Health {
        probes: served.probes(),
        bird: match checked.backend {
            Backend::Bird => Bird::Runs,
            Backend::Gobgp | Backend::None => Bird::Absent,
        },
        ready_timeout: request.ready_timeout,
    });
    if health.is_some() {
        health_env(&mut b, &user)?;
    }
    for var in user {
        let origin = user_env::origin(&var.name);
        b.push_env(&var.name, var.value, origin, var.by_name);
    }
    check_values(&b, args)?;

    Ok(Plan {
        served: *served,
        node_name: node_name.to_string(),
        container_name: CONTAINER_NAME.to_string(),
        image: args.node_image.clone(),
        mode: if args.init_system {
            Mode::InitSystem
        } else {
            Mode::Detached
        },
        datastore,
        libnetwork: match profile.libnetwork && !args.disable_docker_networking {
            true => Libnetwork::Enabled,
            false => Libnetwork::Off,
        },
        fixed_addresses: fixed_addresses(checked),
        node_name_from: match given(&args.name) {
            Some(_) => NodeName::Given,
            None => NodeName::FromHost,
        },
        env: b.env,
        volumes: b.volumes,
        ignored_options,
        health,
    })
}

/// Felix's health endpoint, which the probes ask: on wherever the plan
/// has health checks, and then not the user's to set.
fn health_env(b: &mut Builder, user: &[user_env::UserVar]) -> Result<(), PlanError> {
    const NAME: &str = "FELIX_HEALTHENABLED";
    if let Some(var) = user.iter().find(|v| v.name.eq_ignore_ascii_case(NAME)) {
        return Err(PlanError::EnvSetByPlan {
            name: var.name.clone(),
            option: "--no-health to set it yourself",
        });
    }
    b.env(NAME, "true", Origin::Calicoctl);
    Ok(())
}

/// Step 9: the interface prefix and the docker networking options.
fn check_networking_options(args: &NodeRunArgs) -> Result<(), PlanError> {
    let prefix = &args.docker_networking_ifprefix;
    if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(PlanError::InvalidIfPrefix {
            prefix: prefix.clone(),
        });
    }
    if args.disable_docker_networking && args.use_docker_networking_container_labels {
        return Err(PlanError::NoNetworkingWithLabels);
    }
    Ok(())
}

/// The addresses the options fix for this node (not `autodetect`).
fn fixed_addresses(checked: &CheckedOptions) -> Vec<FixedAddress> {
    [
        (&checked.ip, checked.ip_origin),
        (&checked.ip6, checked.ip6_origin),
    ]
    .into_iter()
    .filter_map(|(value, origin)| {
        let value = value.as_ref().filter(|v| v.as_str() != "autodetect")?;
        Some(FixedAddress {
            origin,
            value: value.clone(),
        })
    })
    .collect()
}

/// The node's own variables: name, backend, libnetwork, pools, address
/// detection, AS number and addresses, in the documented order.
fn node_env(
    b: &mut Builder,
    args: &NodeRunArgs,
    profile: &Profile,
    checked: &CheckedOptions,
    node_name: &str,
) {
    let name_origin = if given(&args.name).is_some() {
        Origin::Flag("--name")
    } else {
        Origin::HostName
    };
    b.env("NODENAME", node_name, name_origin);
    b.env(
        "CALICO_NETWORKING_BACKEND",
        checked.backend.name(),
        Origin::Flag("--backend"),
    );
    if profile.manage_cni {
        b.env("CALICO_MANAGE_CNI", "false", FIXED);
    }
    if profile.libnetwork {
        libnetwork_env(b, args);
    }
    if args.no_default_ippools {
        b.env("NO_DEFAULT_POOLS", "true", FIXED);
    }
    if !matches!(checked.ipv4_method, Method::FirstFound) {
        b.env(
            "IP_AUTODETECTION_METHOD",
            args.ip_autodetection_method.as_str(),
            Origin::Flag("--ip-autodetection-method"),
        );
    }
    if !matches!(checked.ipv6_method, Method::FirstFound) {
        b.env(
            "IP6_AUTODETECTION_METHOD",
            args.ip6_autodetection_method.as_str(),
            Origin::Flag("--ip6-autodetection-method"),
        );
    }
    if let Some(n) = checked.as_number {
        b.env("AS", n.to_string(), Origin::Flag("--as"));
    }
    if let Some(ip) = &checked.ip {
        b.env("IP", ip.as_str(), checked.ip_origin);
    }
    if let Some(ip6) = &checked.ip6 {
        b.env("IP6", ip6.as_str(), checked.ip6_origin);
    }
}

/// The libnetwork plugin's variables (releases up to v3.8).
fn libnetwork_env(b: &mut Builder, args: &NodeRunArgs) {
    let docker_networking = !args.disable_docker_networking;
    let prefix = &args.docker_networking_ifprefix;
    b.env(
        "CALICO_LIBNETWORK_ENABLED",
        docker_networking.to_string(),
        FIXED,
    );
    if docker_networking && prefix != DEFAULT_IFPREFIX {
        b.env(
            "CALICO_LIBNETWORK_IFPREFIX",
            prefix.as_str(),
            Origin::Flag("--docker-networking-ifprefix"),
        );
    }
    if args.use_docker_networking_container_labels {
        b.env("CALICO_LIBNETWORK_CREATE_PROFILES", "false", FIXED);
        b.env("CALICO_LIBNETWORK_LABEL_ENDPOINTS", "true", FIXED);
    }
}

/// The host directories every node mounts, and the libnetwork plugin's
/// (up to v3.8).
fn host_volumes(b: &mut Builder, args: &NodeRunArgs, profile: &Profile) {
    b.volume(
        &args.log_dir,
        "/var/log/calico",
        Access::ReadWrite,
        Origin::Flag("--log-dir"),
    );
    for path in ["/var/run/calico", "/var/lib/calico", "/lib/modules", "/run"] {
        b.volume(path, path, Access::ReadWrite, FIXED);
    }
    if profile.libnetwork && !args.disable_docker_networking {
        b.volume(
            "/run/docker/plugins",
            "/run/docker/plugins",
            Access::ReadWrite,
            FIXED,
        );
        b.volume(
            "/var/run/docker.sock",
            "/var/run/docker.sock",
            Access::ReadWrite,
            FIXED,
        );
    }
    if let Some(felix) = given(&args.felix_config) {
        b.volume(
            felix,
            FELIX_CONFIG_NODE_FILE,
            Access::ReadWrite,
            Origin::Flag("--felix-config"),
        );
    }
}

/// The etcd datastore: endpoints, TLS files (mounted), credentials (secret).
fn etcd_datastore(b: &mut Builder, spec: &DatastoreSpec, discovery: DiscoverySrv) {
    b.env(
        "ETCD_ENDPOINTS",
        given(&spec.etcd_endpoints).unwrap_or(""),
        Origin::Config("etcdEndpoints"),
    );
    let srv = given(&spec.etcd_discovery_srv);
    match (discovery, srv) {
        (DiscoverySrv::Always, srv) | (DiscoverySrv::WhenSet, srv @ Some(_)) => b.env(
            "ETCD_DISCOVERY_SRV",
            srv.unwrap_or(""),
            Origin::Config("etcdDiscoverySrv"),
        ),
        _ => {}
    }
    if let Some(ca) = given(&spec.etcd_ca_cert_file) {
        b.mounted_file(
            "ETCD_CA_CERT_FILE",
            Mounted::tls(ca, ETCD_CA_CERT_NODE_FILE),
            Access::ReadWrite,
            Origin::Config("etcdCACertFile"),
        );
    }
    if let (Some(key), Some(cert)) = (given(&spec.etcd_key_file), given(&spec.etcd_cert_file)) {
        b.mounted_file(
            "ETCD_KEY_FILE",
            Mounted::tls(key, ETCD_KEY_NODE_FILE),
            Access::ReadWrite,
            Origin::Config("etcdKeyFile"),
        );
        b.mounted_file(
            "ETCD_CERT_FILE",
            Mounted::tls(cert, ETCD_CERT_NODE_FILE),
            Access::ReadWrite,
            Origin::Config("etcdCertFile"),
        );
    }
    if let Some(user) = given(&spec.etcd_username) {
        b.secret("ETCD_USERNAME", user, Origin::Config("etcdUsername"));
    }
    if let Some(password) = given(&spec.etcd_password) {
        b.secret("ETCD_PASSWORD", password, Origin::Config("etcdPassword"));
    }
}

/// The Kubernetes datastore: kubeconfig and TLS files (mounted read-only),
/// endpoint, token (secret), flags.
fn kubernetes_datastore(b: &mut Builder, spec: &DatastoreSpec) {
    b.env(
        "DATASTORE_TYPE",
        "kubernetes",
        Origin::Config("datastoreType"),
    );
    if let Some(kubeconfig) = given(&spec.kubeconfig) {
        b.mounted_file(
            "KUBECONFIG",
            Mounted::kubeconfig(kubeconfig, KUBECONFIG_NODE_FILE),
            Access::ReadOnly,
            Origin::Config("kubeconfig"),
        );
    }
    if let Some(endpoint) = given(&spec.k8s_api_endpoint) {
        b.env(
            "K8S_API_ENDPOINT",
            endpoint,
            Origin::Config("k8sAPIEndpoint"),
        );
    }
    if let Some(ca) = given(&spec.k8s_ca_file) {
        b.mounted_file(
            "K8S_CA_FILE",
            Mounted::tls(ca, K8S_CA_NODE_FILE),
            Access::ReadOnly,
            Origin::Config("k8sCAFile"),
        );
    }
    if let Some(key) = given(&spec.k8s_key_file) {
        b.mounted_file(
            "K8S_KEY_FILE",
            Mounted::tls(key, K8S_KEY_NODE_FILE),
            Access::ReadOnly,
            Origin::Config("k8sKeyFile"),
        );
    }
    if let Some(cert) = given(&spec.k8s_cert_file) {
        b.mounted_file(
            "K8S_CERT_FILE",
            Mounted::tls(cert, K8S_CERT_NODE_FILE),
            Access::ReadOnly,
            Origin::Config("k8sCertFile"),
        );
    }
    if let Some(token) = given(&spec.k8s_api_token) {
        b.secret("K8S_API_TOKEN", token, Origin::Config("k8sAPIToken"));
    }
    if let Some(skip) = spec.k8s_insecure_skip_tls_verify {
        b.env(
            "K8S_INSECURE_SKIP_TLS_VERIFY",
            skip.to_string(),
            Origin::Config("k8sInsecureSkipTLSVerify"),
        );
    }
    if let Some(no_poll) = spec.k8s_disable_node_poll {
        b.env(
            "K8S_DISABLE_NODE_POLL",
            no_poll.to_string(),
            Origin::Config("k8sDisableNodePoll"),
        );
    }
}

/// Step 10: what no target can take as meant, refused once, naming the
/// option.
fn check_values(b: &Builder, args: &NodeRunArgs) -> Result<(), PlanError> {
    // An empty host path would make docker read `-v :PATH` as no bind at all.
    if let Some(vol) = b.volumes.iter().find(|v| v.host.is_empty()) {
        return Err(PlanError::EmptyHostPath { origin: vol.origin });
    }
    if args.node_image.is_empty() {
        return Err(PlanError::EmptyImage);
    }
    // The image is the engine's one positional word: a leading '-' would
    // make it an option.
    if args.node_image.starts_with('-') {
        return Err(PlanError::ImageLooksLikeOption {
            image: args.node_image.clone(),
        });
    }
    // docker -v (and compose) separate host and container paths with ':'.
    if let Some(vol) = b.volumes.iter().find(|v| v.host.contains(':')) {
        return Err(PlanError::ColonInHostPath {
            origin: vol.origin,
            path: vol.host.clone(),
        });
    }
    // No target can carry a NUL (argv cannot), and no value with another
    // control character is one a unit, an env file or a log line carries
    // as meant (a tab is text): refuse them here, once, for every format.
    let values = b.env.iter().map(|v| (v.origin, v.value.as_str()));
    let paths = b.volumes.iter().map(|v| (v.origin, v.host.as_str()));
    let image = std::iter::once((Origin::Flag("--node-image"), args.node_image.as_str()));
    let control = |c: char| c.is_control() && c != '\t';
    match values
        .chain(paths)
        .chain(image)
        .find(|(_, v)| v.contains(control))
    {
        Some((origin, v)) if v.contains('\0') => Err(PlanError::Nul { origin }),
        Some((origin, _)) => Err(PlanError::ControlCharacter { origin }),
        None => Ok(()),
    }
}
