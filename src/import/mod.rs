//! `node import`: a calico/node that a host already runs, set up by hand
//! (a unit copied from the docs, an old calicoctl's `--dryrun` line), read
//! back into the `node run` options that reproduce it. The readers here
//! invert what `node run` writes: the words of a command line or a unit
//! (`words.rs`) into one `docker run` ([`RunSpec`], `spec.rs`), then that
//! into options ([`derive`]). Nothing is guessed: what has no option is
//! said, each with its reason (known traps named), and the command layer
//! plans the options and compares the plan with the container, as `node
//! run --check` does, so that what does not come back the same is said too.

pub mod spec;
pub mod words;

pub use spec::{RunSpec, SpecError};

use crate::engine::EngineKind;
use crate::release::{Release, ReleaseError, Served};
use std::fmt;

/// What the options cannot say, one line each on stderr.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unmapped {
    /// A flag `node run` has no option for.
    Flag(String),
    /// Words after the image: a command instead of calico/node's start-up.
    Command(Vec<String>),
    /// `FELIX_DATASTORETYPE`, which calico/node's start-up does not read.
    FelixDatastoreType,
    /// A certificate path passed that no bind brings into the container.
    NotMounted { name: String, path: String },
    /// A variable passed by name whose value the source does not hold.
    ValueUnknown(String),
    /// An image of a release older than any served.
    TooOld(Release),
    /// What the plan of the options would run differently (`--check`'s
    /// line for it).
    Differs(String),
}

impl Unmapped {
    /// The variable the line is about, if one: the comparison's line for
    /// it would say less.
    pub fn variable(&self) -> Option<&str> {
        match self {
            Unmapped::FelixDatastoreType => Some("FELIX_DATASTORETYPE"),
            Unmapped::NotMounted { name, .. } | Unmapped::ValueUnknown(name) => Some(name),
            _ => None,
        }
    }
}

impl fmt::Display for Unmapped {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Unmapped::Flag(flag) => write!(f, "{flag}: node run has no option for it"),
            Unmapped::Command(words) if words.iter().any(|w| w == "-felix") => write!(
                f,
                "the command {}: -felix starts Felix alone and skips calico/node's start-up, so the node is never registered (calico #8724); node run runs the image's own start-up",
                words.join(" ")
            ),
            Unmapped::Command(words) => write!(
                f,
                "the command {}: node run runs the image's own start-up, not another command",
                words.join(" ")
            ),
            Unmapped::FelixDatastoreType => f.write_str(
                "FELIX_DATASTORETYPE: calico/node's start-up does not read it (it reads DATASTORE_TYPE, from the datastore configuration's datastoreType)",
            ),
            Unmapped::NotMounted { name, path } => write!(
                f,
                "{name}={path}: no bind brings {path} into the container, so calico/node cannot read it; node run mounts the file the configuration names"
            ),
            Unmapped::ValueUnknown(name) => write!(
                f,
                "{name}: passed by name, and its value is not in what was read (give the unit's --env-file, or read the container)"
            ),
            Unmapped::TooOld(release) => write!(
                f,
                "the image is of {release}, older than v3.1.0, the oldest release node run serves"
            ),
            Unmapped::Differs(line) => write!(f, "not reproduced: {line}"),
        }
    }
}

/// The options derived from one `docker run`, and what they cannot say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Derived {
    /// `node run`'s words, in its help's order.
    pub options: Vec<String>,
    /// Datastore variables seen: they come from the datastore
    /// configuration, never from an option.
    pub configuration: Vec<String>,
    /// Variables that look like credentials, passed with `--env NAME` (by
    /// name: their values stay out of the printed line).
    pub by_name: Vec<String>,
    /// The values read of those, and of nothing else: what planning the
    /// options to compare them takes instead (None: passed by name in
    /// what was read too, so the value was never there to compare).
    pub by_name_values: Vec<(String, Option<String>)>,
    pub unmapped: Vec<Unmapped>,
}

/// The release an image reference names by its tag (`...:vX.Y.Z`).
fn release_of(image: &str) -> Result<Option<Release>, ReleaseError> {
    let name = image.split('@').next().unwrap_or(image);
    let last = name.rsplit('/').next().unwrap_or(name);
    match last.split_once(':') {
        Some((_, tag)) if tag.starts_with('v') => match Release::parse(tag) {
            Ok(release) => Ok(Some(release)),
            Err(ReleaseError::NotARelease(_)) => Ok(None),
            Err(old) => Err(old),
        },
        _ => Ok(None),
    }
}

fn is_datastore(name: &str) -> bool {
    name.starts_with("ETCD_")
        || name.starts_with("K8S_")
        || name == "DATASTORE_TYPE"
        || name == "KUBECONFIG"
}

fn looks_secret(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    ["PASSWORD", "TOKEN", "SECRET", "KEY", "CREDENTIAL"]
        .iter()
        .any(|w| upper.contains(w))
}

/// The variables whose value is a file calico/node reads.
const CERTIFICATES: [&str; 6] = [
    "ETCD_CA_CERT_FILE",
    "ETCD_KEY_FILE",
    "ETCD_CERT_FILE",
    "K8S_CA_FILE",
    "K8S_KEY_FILE",
    "K8S_CERT_FILE",
];

impl Derived {
    /// The options as planning them for the comparison takes them: a
    /// variable passed by name given the value read (it is not in this
    /// process's environment), or left out where none was read.
    pub fn options_to_plan(&self) -> Vec<String> {
        let mut words = Vec::with_capacity(self.options.len());
        for word in &self.options {
            let name = word.strip_prefix("--env=").filter(|n| !n.contains('='));
            match name.and_then(|n| self.by_name_values.iter().find(|(k, _)| k == n)) {
                Some((name, Some(value))) => words.push(format!("--env={name}={value}")),
                Some((_, None)) => {}
                None => words.push(word.clone()),
            }
        }
        words
    }
}

/// The options as one host of a native inventory (`node fleet
/// --inventory`), under `host`.
pub fn inventory_entry(host: &str, options: &[String]) -> String {
    format!("hosts:\n  {host}:\n{}", options_yaml("    ", options))
}

/// Options as a native inventory's keys, each line indented by `indent`:
/// each long option's name without its dashes, a flag `true`, the `--env`
/// words one mapping (a variable passed by name `null`).
pub fn options_yaml(indent: &str, options: &[String]) -> String {
    use crate::escape::yaml_scalar;
    let mut out = String::new();
    let mut env = String::new();
    for word in options {
        let body = word.trim_start_matches('-');
        match (body.split_once('='), body.strip_prefix("env=")) {
            (_, Some(var)) => match var.split_once('=') {
                Some((name, value)) => {
                    env.push_str(&format!("{indent}  {name}: {}\n", yaml_scalar(value)))
                }
                None => env.push_str(&format!("{indent}  {var}: null\n")),
            },
            (Some((key, value)), None) => {
                out.push_str(&format!("{indent}{key}: {}\n", yaml_scalar(value)))
            }
            (None, None) => out.push_str(&format!("{indent}{body}: true\n")),
        }
    }
    if !env.is_empty() {
        out.push_str(&format!("{indent}env:\n{env}"));
    }
    out
}

/// `node run`'s options for `spec`, and what they cannot say.
pub fn derive(spec: &RunSpec) -> Derived {
    let mut d = Derived::default();
    let release = release_of(&spec.image).unwrap_or_else(|e| {
        if let ReleaseError::TooOld(release) = e {
            d.unmapped.push(Unmapped::TooOld(release));
        }
        None
    });
    let served = Served::new(release.map(|r| r.to_string()).as_deref()).unwrap_or_default();
    if let Some(release) = release {
        d.options.push(format!("--calico-version={release}"));
    }
    if spec.image != served.image() {
        d.options.push(format!("--node-image={}", spec.image));
    }
    if let Some((kind, program)) = &spec.engine {
        engine_words(&mut d, *kind, program);
    }
    for (name, value) in &spec.env {
        variable(&mut d, &served, spec, name, value.as_deref());
    }
    for bind in &spec.binds {
        match bind.container.as_str() {
            "/var/log/calico" if bind.host != "/var/log/calico" => {
                d.options.push(format!("--log-dir={}", bind.host))
            }
            "/etc/calico/felix.cfg" => d.options.push(format!("--felix-config={}", bind.host)),
            _ => {}
        }
    }
    lifecycle(&mut d, spec);
    d.unmapped
        .extend(spec.other.iter().cloned().map(Unmapped::Flag));
    if !spec.command.is_empty() {
        d.unmapped.push(Unmapped::Command(spec.command.clone()));
    }
    d
}

/// `--init-system` for a container an init system runs (`--rm`: `node
/// run` alone gives `-d --restart=always`; podman's unit detaches too),
/// and the health options that give its checks as they are.
fn lifecycle(d: &mut Derived, spec: &RunSpec) {
    let init_system = spec.auto_remove;
    if init_system {
        d.options.push("--init-system".into());
    }
    match (&spec.health_cmd, init_system) {
        (Some(_), false) => d.options.push("--health".into()),
        (None, true) => d.options.push("--no-health".into()),
        _ => {}
    }
    let timeout = spec
        .health_start_period
        .filter(|s| *s != crate::plan::DEFAULT_READY_TIMEOUT);
    if let (Some(seconds), Some(_)) = (timeout, &spec.health_cmd) {
        d.options.push(format!("--ready-timeout={seconds}"));
    }
}

/// `--runtime` and `--runtime-path` for how the line called the engine:
/// none for its name or its default path in units.
fn engine_words(d: &mut Derived, kind: EngineKind, program: &str) {
    if kind != EngineKind::Docker {
        d.options.push(format!("--runtime={}", kind.name()));
    }
    if program != kind.name() && program != kind.default_unit_path() {
        d.options.push(format!("--runtime-path={program}"));
    }
}

/// One variable: an option, the configuration's, the plan's own, or
/// `--env`.
fn variable(d: &mut Derived, served: &Served, spec: &RunSpec, name: &str, value: Option<&str>) {
    let Some(v) = value else {
        match is_datastore(name) {
            true => d.configuration.push(name.to_string()),
            false if option_of(name).is_some() => {
                d.unmapped.push(Unmapped::ValueUnknown(name.to_string()))
            }
            false => {
                d.options.push(format!("--env={name}"));
                d.by_name_values.push((name.to_string(), None));
            }
        }
        return;
    };
    if let Some(option) = option_of(name) {
        option_words(d, served, option, v);
        return;
    }
    match name {
        "CALICO_MANAGE_CNI" | "ETCD_DISCOVERY_SRV" | "FELIX_HEALTHENABLED" => {}
        "FELIX_DATASTORETYPE" => d.unmapped.push(Unmapped::FelixDatastoreType),
        n if is_datastore(n) => {
            d.configuration.push(n.to_string());
            let mounted = spec.binds.iter().any(|b| b.container == v);
            if CERTIFICATES.contains(&n) && !v.is_empty() && !mounted {
                d.unmapped.push(Unmapped::NotMounted {
                    name: n.to_string(),
                    path: v.to_string(),
                });
            }
        }
        n if looks_secret(n) => {
            d.options.push(format!("--env={n}"));
            d.by_name.push(n.to_string());
            d.by_name_values.push((n.to_string(), Some(v.to_string())));
        }
        n => d.options.push(format!("--env={n}={v}")),
    }
}

/// The option that sets a variable the plan sets from one.
fn option_of(name: &str) -> Option<&'static str> {
    Some(match name {
        "NODENAME" => "name",
        "AS" => "as",
        "IP" => "ip",
        "IP6" => "ip6",
        "IP_AUTODETECTION_METHOD" => "ip-autodetection-method",
        "IP6_AUTODETECTION_METHOD" => "ip6-autodetection-method",
        "CALICO_NETWORKING_BACKEND" => "backend",
        "NO_DEFAULT_POOLS" => "no-default-ippools",
        "CALICO_LIBNETWORK_ENABLED" => "disable-docker-networking",
        "CALICO_LIBNETWORK_IFPREFIX" => "docker-networking-ifprefix",
        "CALICO_LIBNETWORK_CREATE_PROFILES" | "CALICO_LIBNETWORK_LABEL_ENDPOINTS" => {
            "use-docker-networking-container-labels"
        }
        _ => return None,
    })
}

/// The words of `option` for a variable's value `v` (none where the value
/// is the plan's without the option).
fn option_words(d: &mut Derived, served: &Served, option: &str, v: &str) {
    let flag = |d: &mut Derived| {
        let word = format!("--{option}");
        if !d.options.contains(&word) {
            d.options.push(word);
        }
    };
    match option {
        "backend" if v == "bird" => {}
        "no-default-ippools" if v == "true" => flag(d),
        "no-default-ippools" => {}
        "disable-docker-networking" if v == "false" && served.profile.libnetwork => flag(d),
        "disable-docker-networking" => {}
        "docker-networking-ifprefix" if v == "cali" => {}
        "use-docker-networking-container-labels" if v == "true" => flag(d),
        "use-docker-networking-container-labels" => {}
        _ => d.options.push(format!("--{option}={v}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_inventory_entry_says_the_options() {
        let words: Vec<String> = ["--name=n 1", "--init-system", "--env=A=x: y", "--env=TOKEN"]
            .map(String::from)
            .to_vec();
        assert_eq!(
            inventory_entry("n1", &words),
            "hosts:\n  n1:\n    name: \"n 1\"\n    init-system: true\n    env:\n      A: \"x: y\"\n      TOKEN: null\n"
        );
    }

    #[test]
    fn releases_from_tags() {
        let v = |m, p| Release {
            major: 3,
            minor: m,
            patch: p,
        };
        assert_eq!(
            release_of("quay.io/calico/node:v3.28.0"),
            Ok(Some(v(28, 0)))
        );
        assert_eq!(
            release_of("registry:5000/calico/node:v3.2.3"),
            Ok(Some(v(2, 3)))
        );
        assert_eq!(release_of("calico/node:latest"), Ok(None));
        assert_eq!(release_of("registry:5000/calico/node"), Ok(None));
        assert!(release_of("calico/node:v3.0.12").is_err());
    }
}
