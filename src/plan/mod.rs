//! The plan: everything the node container needs, as one plain value.
//!
//! Options are checked here in upstream's order and with its messages, then
//! turned into a `Plan` by a pure function, so every emitter (dry-run text,
//! run path, and the rest) works from the same validated value.

use crate::cli::NodeRunArgs;
use crate::config::{DatastoreSpec, DatastoreType};
use crate::ip::methods::{self, Family, Method, Resolver};
use crate::release::{DiscoverySrv, Profile, Served};
use serde::Serialize;
use std::net::IpAddr;

mod error;
pub mod user_env;

pub use error::PlanError;

/// Name of the container, as upstream.
pub const CONTAINER_NAME: &str = "calico-node";
const ETCD_CA_CERT_NODE_FILE: &str = "/etc/calico/certs/ca_cert.crt";
const ETCD_KEY_NODE_FILE: &str = "/etc/calico/certs/key.pem";
const ETCD_CERT_NODE_FILE: &str = "/etc/calico/certs/cert.crt";
const KUBECONFIG_NODE_FILE: &str = "/etc/calico/kubeconfig";
const K8S_CA_NODE_FILE: &str = "/etc/calico/certs/k8s_ca.crt";
const K8S_KEY_NODE_FILE: &str = "/etc/calico/certs/k8s_key.pem";
const K8S_CERT_NODE_FILE: &str = "/etc/calico/certs/k8s_cert.crt";
const FELIX_CONFIG_NODE_FILE: &str = "/etc/calico/felix.cfg";
const DEFAULT_IFPREFIX: &str = "cali";

/// One environment variable of the container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvVar {
    pub name: String,
    pub value: String,
    /// Where the value came from (an option or a configuration field).
    pub origin: &'static str,
    /// A secret never reaches a command line or the serialized plan: commands
    /// pass it by name and the engine reads it from its own environment.
    pub secret: bool,
}

impl Serialize for EnvVar {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("EnvVar", 4)?;
        st.serialize_field("name", &self.name)?;
        st.serialize_field("value", &(!self.secret).then_some(&self.value))?;
        st.serialize_field("secret", &self.secret)?;
        st.serialize_field("origin", self.origin)?;
        st.end()
    }
}

/// One bind mount, host path to container path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Volume {
    pub host: String,
    pub container: String,
    pub read_only: bool,
    /// Where the host path came from (an option or a configuration field).
    pub origin: &'static str,
    /// What the host path is, for the outputs that treat them apart.
    pub kind: MountKind,
}

/// What a bind mount's host path is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MountKind {
    /// A directory or file of the host's (logs, state, modules, sockets,
    /// Felix's configuration).
    Host,
    /// A TLS certificate or key the datastore configuration names: a
    /// credential (the DaemonSet carries it in its Secret).
    Tls,
    /// The kubeconfig of the Kubernetes datastore.
    Kubeconfig,
}

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

/// Where the node's name came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeName {
    /// `--name`: one node's.
    Given,
    /// The host's own name, wherever the plan runs.
    FromHost,
}

/// Whether calico/node runs docker's libnetwork plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Libnetwork {
    Enabled,
    /// Disabled, or a release without it.
    Off,
}

impl Volume {
    /// The `-v` argument: `HOST:CONTAINER`, with `:ro` when read-only.
    pub fn spec(&self) -> String {
        let mut spec = String::new();
        self.write_spec(&mut spec);
        spec
    }

    /// [`Volume::spec`], appended to `out`.
    pub fn write_spec(&self, out: &mut String) {
        out.push_str(&self.host);
        out.push(':');
        out.push_str(&self.container);
        if self.read_only {
            out.push_str(":ro");
        }
    }
}

impl Serialize for Volume {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Volume", 5)?;
        st.serialize_field("host", &self.host)?;
        st.serialize_field("container", &self.container)?;
        st.serialize_field("read_only", &self.read_only)?;
        st.serialize_field("origin", self.origin)?;
        st.serialize_field("spec", &self.spec())?;
        st.end()
    }
}

/// How the container runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// `-d --restart=always`: docker keeps the node running.
    Detached,
    /// `--rm`, attached: an init system keeps the node running.
    InitSystem,
}

/// Everything needed to start calico/node, validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// The calicoctl release planned for (`--calico-version`), if named.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub calico_version: Option<String>,
    pub node_name: String,
    pub container_name: String,
    pub image: String,
    pub mode: Mode,
    pub datastore: DatastoreType,
    pub env: Vec<EnvVar>,
    pub volumes: Vec<Volume>,
    /// Options the user gave that calico/node ignores with this datastore.
    pub ignored_options: Vec<String>,
    /// Where `node_name` came from (facts for the emitters, not shown).
    #[serde(skip)]
    pub node_name_from: NodeName,
    #[serde(skip)]
    pub libnetwork: Libnetwork,
}

impl Plan {
    /// The option or setting that gave the plan's largest value (what to
    /// name when a file grows too large).
    pub fn largest_value_origin(&self) -> &'static str {
        let values = self.env.iter().map(|v| (v.value.len(), v.origin));
        let paths = self.volumes.iter().map(|v| (v.host.len(), v.origin));
        let image = std::iter::once((self.image.len(), "--node-image"));
        values
            .chain(paths)
            .chain(image)
            .max_by_key(|(len, _)| *len)
            .map_or("--node-image", |(_, origin)| origin)
    }

    /// The words after the engine's name that start the container, grouped
    /// as an option with its value (`["-e", "NODENAME=n1"]`) so that
    /// emitters can lay them out one per line. Secrets are always passed by
    /// name; with [`ByName::All`], every variable is.
    pub fn run_groups(&self, by_name: ByName) -> Vec<Vec<String>> {
        let mut groups = Vec::with_capacity(self.env.len() + self.volumes.len() + 2);
        self.each_run_group(by_name, |group| {
            groups.push(group.iter().map(|w| w.to_string()).collect());
        });
        groups
    }

    /// The groups of [`Plan::run_groups`], each handed to `group` as
    /// borrowed words (a template builds its own values from them).
    pub fn each_run_group(&self, by_name: ByName, mut group: impl FnMut(&[&str])) {
        let name = format!("--name={}", self.container_name);
        let mut head = vec!["run", "--net=host", "--privileged", name.as_str()];
        match self.mode {
            Mode::InitSystem => head.push("--rm"),
            Mode::Detached => head.extend(["-d", "--restart=always"]),
        }
        group(&head);
        let mut word = String::new();
        for var in &self.env {
            word.clear();
            word.push_str(&var.name);
            if !(var.secret || by_name == ByName::All) {
                word.push('=');
                word.push_str(&var.value);
            }
            group(&["-e", &word]);
        }
        for vol in &self.volumes {
            word.clear();
            vol.write_spec(&mut word);
            group(&["-v", &word]);
        }
        group(&[&self.image]);
    }

    /// The engine command that stops the container.
    pub fn stop_argv(&self, engine: &str) -> Vec<String> {
        vec![engine.into(), "stop".into(), self.container_name.clone()]
    }

    /// The variables passed by name, which must be in the engine's environment.
    pub fn secrets(&self) -> impl Iterator<Item = &EnvVar> {
        self.env.iter().filter(|v| v.secret)
    }
}

/// Options after validation steps 1 to 6.
#[derive(Debug, Clone)]
pub struct CheckedOptions {
    pub ip: Option<String>,
    pub ip6: Option<String>,
    /// Where `ip` and `ip6` came from: the options, or `--pin-ip`.
    pub ip_origin: &'static str,
    pub ip6_origin: &'static str,
    pub as_number: Option<u32>,
    pub ipv4_method: Method,
    pub ipv6_method: Method,
}

/// A value that upstream treats as given: present and not empty.
fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().filter(|s| !s.is_empty())
}

fn check_ip(
    value: &Option<String>,
    family: Family,
    flag: &str,
) -> Result<Option<String>, PlanError> {
    let Some(v) = given(value) else {
        return Ok(None);
    };
    if v == "autodetect" {
        return Ok(Some(v.to_string()));
    }
    let ip: IpAddr = v.parse().map_err(|_| PlanError::InvalidIp {
        value: v.to_string(),
    })?;
    // An IPv4-mapped IPv6 address counts as IPv4, as in upstream.
    let is_v4 = match ip {
        IpAddr::V4(_) => true,
        IpAddr::V6(v6) => v6.to_ipv4_mapped().is_some(),
    };
    if is_v4 != (family == Family::V4) {
        return Err(PlanError::WrongIpVersion {
            flag: flag.to_string(),
        });
    }
    Ok(Some(v.to_string()))
}

/// Parse an AS number: 32-bit decimal, or dotted `A.B` with 16-bit halves.
pub fn parse_as_number(s: &str) -> Option<u32> {
    fn digits<T: std::str::FromStr>(s: &str) -> Option<T> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    }
    if let Some(n) = digits::<u32>(s) {
        return Some(n);
    }
    let (hi, lo) = s.split_once('.')?;
    Some(u32::from(digits::<u16>(hi)?) * 65536 + u32::from(digits::<u16>(lo)?))
}

/// Validation steps 1 to 6: addresses, AS number, backend, methods.
pub fn check_options(
    args: &NodeRunArgs,
    profile: &Profile,
    resolver: &dyn Resolver,
) -> Result<CheckedOptions, PlanError> {
    let ip = check_ip(&args.ip, Family::V4, "--ip")?;
    let ip6 = check_ip(&args.ip6, Family::V6, "--ip6")?;
    let as_number = match given(&args.as_number) {
        None => None,
        Some(v) => Some(parse_as_number(v).ok_or_else(|| PlanError::InvalidAs {
            value: v.to_string(),
        })?),
    };
    let gobgp = profile.gobgp && args.backend == "gobgp";
    if !matches!(args.backend.as_str(), "none" | "bird") && !gobgp {
        return Err(PlanError::UnknownBackend {
            value: args.backend.clone(),
        });
    }
    let ipv4_method = methods::parse_method(&args.ip_autodetection_method, Family::V4, resolver)?;
    let ipv6_method = methods::parse_method(&args.ip6_autodetection_method, Family::V6, resolver)?;
    Ok(CheckedOptions {
        ip,
        ip6,
        ip_origin: "--ip",
        ip6_origin: "--ip6",
        as_number,
        ipv4_method,
        ipv6_method,
    })
}

/// Validation step 7: the node name, from `--name` or the host name.
pub fn node_name(args: &NodeRunArgs, hostname: Option<&str>) -> Result<String, PlanError> {
    if let Some(name) = given(&args.name) {
        return Ok(name.to_string());
    }
    let host = hostname
        .map(|h| h.trim().to_lowercase())
        .unwrap_or_default();
    if host.is_empty() {
        return Err(PlanError::NoNodeName);
    }
    Ok(host)
}

struct Builder {
    env: Vec<EnvVar>,
    volumes: Vec<Volume>,
}

/// The origin of values calicoctl sets itself.
const FIXED: &str = "calicoctl";

/// How the container may use a bind mount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    ReadWrite,
    ReadOnly,
}

/// Which variables a container's command passes by name (their values
/// from the engine's environment) rather than as `NAME=VALUE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByName {
    /// The secrets alone (a command line, a compose file).
    Secrets,
    /// Every variable (a unit with an env file, which holds the values).
    All,
}

impl Builder {
    fn env(&mut self, name: &str, value: impl Into<String>, origin: &'static str) {
        self.push_env(name, value.into(), origin, false);
    }

    fn secret(&mut self, name: &str, value: &str, origin: &'static str) {
        self.push_env(name, value.into(), origin, true);
    }

    fn push_env(&mut self, name: &str, value: String, origin: &'static str, secret: bool) {
        self.env.push(EnvVar {
            name: name.into(),
            value,
            origin,
            secret,
        });
    }

    fn volume(&mut self, host: &str, container: &str, access: Access, origin: &'static str) {
        self.mount(host, container, access, origin, MountKind::Host);
    }

    fn mount(
        &mut self,
        host: &str,
        container: &str,
        access: Access,
        origin: &'static str,
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
    fn mounted_file(&mut self, var: &str, file: Mounted, access: Access, origin: &'static str) {
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
    for var in user {
        let origin = user_env::origin(&var.name);
        b.push_env(&var.name, var.value, origin, var.by_name);
    }
    check_values(&b, args)?;

    Ok(Plan {
        calico_version: served.asked.map(|r| r.to_string()),
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
        node_name_from: match given(&args.name) {
            Some(_) => NodeName::Given,
            None => NodeName::FromHost,
        },
        env: b.env,
        volumes: b.volumes,
        ignored_options,
    })
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
        "--name"
    } else {
        "the host name"
    };
    b.env("NODENAME", node_name, name_origin);
    b.env(
        "CALICO_NETWORKING_BACKEND",
        args.backend.as_str(),
        "--backend",
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
            "--ip-autodetection-method",
        );
    }
    if !matches!(checked.ipv6_method, Method::FirstFound) {
        b.env(
            "IP6_AUTODETECTION_METHOD",
            args.ip6_autodetection_method.as_str(),
            "--ip6-autodetection-method",
        );
    }
    if let Some(n) = checked.as_number {
        b.env("AS", n.to_string(), "--as");
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
            "--docker-networking-ifprefix",
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
        "--log-dir",
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
            "--felix-config",
        );
    }
}

/// The etcd datastore: endpoints, TLS files (mounted), credentials (secret).
fn etcd_datastore(b: &mut Builder, spec: &DatastoreSpec, discovery: DiscoverySrv) {
    b.env(
        "ETCD_ENDPOINTS",
        given(&spec.etcd_endpoints).unwrap_or(""),
        "etcdEndpoints",
    );
    let srv = given(&spec.etcd_discovery_srv);
    match (discovery, srv) {
        (DiscoverySrv::Always, srv) | (DiscoverySrv::WhenSet, srv @ Some(_)) => {
            b.env("ETCD_DISCOVERY_SRV", srv.unwrap_or(""), "etcdDiscoverySrv")
        }
        _ => {}
    }
    if let Some(ca) = given(&spec.etcd_ca_cert_file) {
        b.mounted_file(
            "ETCD_CA_CERT_FILE",
            Mounted::tls(ca, ETCD_CA_CERT_NODE_FILE),
            Access::ReadWrite,
            "etcdCACertFile",
        );
    }
    if let (Some(key), Some(cert)) = (given(&spec.etcd_key_file), given(&spec.etcd_cert_file)) {
        b.mounted_file(
            "ETCD_KEY_FILE",
            Mounted::tls(key, ETCD_KEY_NODE_FILE),
            Access::ReadWrite,
            "etcdKeyFile",
        );
        b.mounted_file(
            "ETCD_CERT_FILE",
            Mounted::tls(cert, ETCD_CERT_NODE_FILE),
            Access::ReadWrite,
            "etcdCertFile",
        );
    }
    if let Some(user) = given(&spec.etcd_username) {
        b.secret("ETCD_USERNAME", user, "etcdUsername");
    }
    if let Some(password) = given(&spec.etcd_password) {
        b.secret("ETCD_PASSWORD", password, "etcdPassword");
    }
}

/// The Kubernetes datastore: kubeconfig and TLS files (mounted read-only),
/// endpoint, token (secret), flags.
fn kubernetes_datastore(b: &mut Builder, spec: &DatastoreSpec) {
    b.env("DATASTORE_TYPE", "kubernetes", "datastoreType");
    if let Some(kubeconfig) = given(&spec.kubeconfig) {
        b.mounted_file(
            "KUBECONFIG",
            Mounted::kubeconfig(kubeconfig, KUBECONFIG_NODE_FILE),
            Access::ReadOnly,
            "kubeconfig",
        );
    }
    if let Some(endpoint) = given(&spec.k8s_api_endpoint) {
        b.env("K8S_API_ENDPOINT", endpoint, "k8sAPIEndpoint");
    }
    if let Some(ca) = given(&spec.k8s_ca_file) {
        b.mounted_file(
            "K8S_CA_FILE",
            Mounted::tls(ca, K8S_CA_NODE_FILE),
            Access::ReadOnly,
            "k8sCAFile",
        );
    }
    if let Some(key) = given(&spec.k8s_key_file) {
        b.mounted_file(
            "K8S_KEY_FILE",
            Mounted::tls(key, K8S_KEY_NODE_FILE),
            Access::ReadOnly,
            "k8sKeyFile",
        );
    }
    if let Some(cert) = given(&spec.k8s_cert_file) {
        b.mounted_file(
            "K8S_CERT_FILE",
            Mounted::tls(cert, K8S_CERT_NODE_FILE),
            Access::ReadOnly,
            "k8sCertFile",
        );
    }
    if let Some(token) = given(&spec.k8s_api_token) {
        b.secret("K8S_API_TOKEN", token, "k8sAPIToken");
    }
    if let Some(skip) = spec.k8s_insecure_skip_tls_verify {
        b.env(
            "K8S_INSECURE_SKIP_TLS_VERIFY",
            skip.to_string(),
            "k8sInsecureSkipTLSVerify",
        );
    }
    if let Some(no_poll) = spec.k8s_disable_node_poll {
        b.env(
            "K8S_DISABLE_NODE_POLL",
            no_poll.to_string(),
            "k8sDisableNodePoll",
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
    let image = std::iter::once(("--node-image", args.node_image.as_str()));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn as_numbers() {
        assert_eq!(parse_as_number("64512"), Some(64512));
        assert_eq!(parse_as_number("4294967295"), Some(u32::MAX));
        assert_eq!(parse_as_number("4294967296"), None);
        assert_eq!(parse_as_number("1.10"), Some(65546));
        assert_eq!(parse_as_number("65535.65535"), Some(u32::MAX));
        assert_eq!(parse_as_number("65536.1"), None);
        assert_eq!(parse_as_number("+5"), None);
        assert_eq!(parse_as_number("1.2.3"), None);
        assert_eq!(parse_as_number(""), None);
    }

    #[test]
    fn mapped_ipv6_counts_as_ipv4() {
        let v = Some("::ffff:10.0.0.1".to_string());
        assert!(check_ip(&v, Family::V4, "--ip").is_ok());
        assert_eq!(
            check_ip(&v, Family::V6, "--ip6").unwrap_err().to_string(),
            "Error executing command: --ip6 is wrong IP version"
        );
    }
}
