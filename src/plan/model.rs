//! The plan as a value: what the node container needs (its variables,
//! mounts, name, image, mode, datastore) and the facts emitters read
//! (where the node's name came from, what a mount is, whether libnetwork
//! runs), with the words a command starts the container with.

use super::health::Health;
use crate::config::DatastoreType;
use crate::release::Served;
use serde::Serialize;

fn no_release_named(served: &Served) -> bool {
    served.asked.is_none()
}

fn release_name<S: serde::Serializer>(served: &Served, s: S) -> Result<S::Ok, S::Error> {
    match served.asked {
        Some(release) => s.collect_str(&release),
        None => s.serialize_none(),
    }
}

/// Name of the container, as upstream.
pub const CONTAINER_NAME: &str = "calico-node";

/// Where a value of the plan came from, as errors name it. Only messages
/// and the serialized plan read it (as its text); nothing decides by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A value calicoctl sets itself.
    Calicoctl,
    /// The host's own name (no `--name` given).
    HostName,
    /// A command-line option, by its long form (`--ip`).
    Flag(&'static str),
    /// A field of the datastore configuration (`etcdCACertFile`).
    Config(&'static str),
    /// A variable passed with `--env NAME`: its name, kept once per name
    /// for the run (`user_env::origin`).
    UserEnv(&'static str),
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            Origin::Calicoctl => f.write_str("calicoctl"),
            Origin::HostName => f.write_str("the host name"),
            Origin::Flag(long) | Origin::Config(long) => f.write_str(long),
            Origin::UserEnv(name) => write!(f, "--env {name}"),
        }
    }
}

impl Serialize for Origin {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// One environment variable of the container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvVar {
    pub name: String,
    pub value: String,
    /// Where the value came from (an option or a configuration field).
    pub origin: Origin,
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
        st.serialize_field("origin", &self.origin)?;
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
    pub origin: Origin,
    /// What the host path is, for the outputs that treat them apart.
    pub kind: MountKind,
}

/// An address the plan fixes for this node (`--ip`/`--ip6` other than
/// `autodetect`, or `--pin-ip`'s): what outputs that span nodes refuse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixedAddress {
    pub origin: Origin,
    pub value: String,
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
        st.serialize_field("origin", &self.origin)?;
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
    /// The calicoctl release planned for (`--calico-version`, parsed
    /// once), serialized as `calico_version`, its name, when one is named.
    #[serde(
        rename = "calico_version",
        skip_serializing_if = "no_release_named",
        serialize_with = "release_name"
    )]
    pub served: Served,
    pub node_name: String,
    pub container_name: String,
    pub image: String,
    pub mode: Mode,
    pub datastore: DatastoreType,
    pub env: Vec<EnvVar>,
    pub volumes: Vec<Volume>,
    /// Options the user gave that calico/node ignores with this datastore.
    pub ignored_options: Vec<String>,
    /// calico/node's health checks, when the output carries them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health: Option<Health>,
    /// Where `node_name` came from (facts for the emitters, not shown).
    #[serde(skip)]
    pub node_name_from: NodeName,
    #[serde(skip)]
    pub libnetwork: Libnetwork,
    /// The addresses fixed for this node, IP before IP6.
    #[serde(skip)]
    pub fixed_addresses: Vec<FixedAddress>,
}

impl Plan {
    /// The option or setting that gave the plan's largest value (what to
    /// name when a file grows too large).
    pub fn largest_value_origin(&self) -> Origin {
        let values = self.env.iter().map(|v| (v.value.len(), v.origin));
        let paths = self.volumes.iter().map(|v| (v.host.len(), v.origin));
        let image = std::iter::once((self.image.len(), Origin::Flag("--node-image")));
        values
            .chain(paths)
            .chain(image)
            .max_by_key(|(len, _)| *len)
            .map_or(Origin::Flag("--node-image"), |(_, origin)| origin)
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
        let check = self.health.as_ref().and_then(Health::container_check);
        for [option, value] in check.iter().flat_map(|c| c.run_groups()) {
            group(&[&option, &value]);
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

/// Which variables a container's command passes by name (their values
/// from the engine's environment) rather than as `NAME=VALUE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByName {
    /// The secrets alone (a command line, a compose file).
    Secrets,
    /// Every variable (a unit with an env file, which holds the values).
    All,
}
