//! One host of an inventory, whatever read it: its name and its options
//! by long name, and the bridge to `node run`'s options (`Host::args`),
//! which sets them as `node run`'s parser would (a property test holds the
//! two equal), the image pinned to the release a host names.

use super::error::ValueError;
use crate::cli::{NodeRunArgs, NotSettable, WATCHED};
use crate::release::{self, Served};

/// A host's value for one option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptValue {
    Text(String),
    Flag(bool),
    /// Given as null: not set (a host may unset a default this way).
    Unset,
    /// `env`: calico/node's own variables, name and value (None: passed by
    /// name), merged by name over the defaults' (the host's value wins).
    Env(Vec<(String, Option<String>)>),
}

/// The `--env` word of one variable.
pub(crate) fn env_word(name: &str, value: Option<&str>) -> String {
    match value {
        Some(v) => format!("{name}={v}"),
        None => name.to_string(),
    }
}

/// `over`'s variables set into `into`, by name: a name already there takes
/// the new value in its place, a new one goes last.
pub(crate) fn merge_env(
    into: &mut Vec<(String, Option<String>)>,
    over: &[(String, Option<String>)],
) {
    for (name, value) in over {
        match into.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = value.clone(),
            None => into.push((name.clone(), value.clone())),
        }
    }
}

/// One host of the inventory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    /// The host's key, also its output directory.
    pub name: String,
    /// Options by long name (without dashes), in a fixed order.
    pub options: Vec<(String, OptValue)>,
    /// Where Ansible would connect to the host (`ansible_host`,
    /// `ansible_user`, `ansible_port`, `ansible_connection`), as an
    /// engine address: what `node fleet --check` asks when the host sets
    /// no `engine-host`. None for native inventories.
    pub ansible_address: Option<String>,
}

impl Host {
    /// The `node run` words for this host: `--opt=value` and `--flag`, and
    /// `--name=<host>` unless the inventory names the node. What
    /// [`Host::args`] must equal, parsed.
    #[cfg(test)]
    pub fn words(&self) -> Vec<String> {
        let mut words = Vec::with_capacity(self.options.len() + 1);
        let mut named = false;
        for (key, value) in &self.options {
            match value {
                OptValue::Text(v) => {
                    named |= key == "name";
                    words.push(format!("--{key}={v}"));
                }
                OptValue::Flag(true) => words.push(format!("--{key}")),
                OptValue::Env(vars) => words.extend(
                    vars.iter()
                        .map(|(n, v)| format!("--env={}", env_word(n, v.as_deref()))),
                ),
                OptValue::Flag(false) | OptValue::Unset => {}
            }
        }
        if !named {
            words.push(format!("--name={}", self.name));
        }
        words
    }
}

impl Host {
    /// This host's `node run` options: `defaults` (what `node run`'s parser
    /// gives for no words) with the host's options set as that parser sets
    /// them from [`Host::words`]. A fleet of thousands of hosts spends most
    /// of its time in clap otherwise; a property test holds the two equal.
    pub fn args(&self, defaults: &NodeRunArgs) -> Result<NodeRunArgs, ValueError> {
        let mut args = defaults.clone();
        let mut named = false;
        for (key, value) in &self.options {
            match value {
                OptValue::Text(v) => {
                    named |= key == "name";
                    set_value(&mut args, key, v)?;
                }
                OptValue::Flag(true) => set_flag(&mut args, key)?,
                OptValue::Env(vars) => args
                    .env
                    .extend(vars.iter().map(|(n, v)| env_word(n, v.as_deref()))),
                OptValue::Flag(false) | OptValue::Unset => {}
            }
        }
        if !named {
            args.name = Some(self.name.clone());
        }
        self.settle_release(&mut args)?;
        args.given = WATCHED
            .iter()
            .map(|(_, flag)| *flag)
            .filter(|flag| {
                self.options
                    .iter()
                    .any(|(k, v)| matches!(v, OptValue::Text(_)) && flag[2..] == *k)
            })
            .collect();
        Ok(args)
    }
}

impl Host {
    /// As `node run`'s parser does for `--calico-version`: the image
    /// pinned to the release unless the host names one, and an option the
    /// release's calicoctl does not have refused.
    fn settle_release(&self, args: &mut NodeRunArgs) -> Result<(), ValueError> {
        let served = Served::new(args.calico_version.as_deref()).map_err(ValueError::Release)?;
        args.served = served;
        let Some(release) = served.asked else {
            return Ok(());
        };
        let mut image_given = false;
        for (key, value) in &self.options {
            let set = matches!(value, OptValue::Text(_) | OptValue::Flag(true));
            image_given |= set && key == "node-image";
            if set && !release::takes_option(served.profile, key) {
                return Err(ValueError::NotInRelease {
                    key: key.clone(),
                    release: release.to_string(),
                });
            }
        }
        if !image_given {
            args.node_image = served.image();
        }
        Ok(())
    }
}

fn set_value(args: &mut NodeRunArgs, key: &str, v: &str) -> Result<(), ValueError> {
    args.set_value(key, v)
        .map_err(|NotSettable| ValueError::NotSettable(key.to_string()))
}

fn set_flag(args: &mut NodeRunArgs, key: &str) -> Result<(), ValueError> {
    args.set_flag(key)
        .map_err(|NotSettable| ValueError::NotSettable(key.to_string()))
}

/// The address Ansible would connect to, as an engine host: `local` for
/// `ansible_connection=local`, else `ssh://[ansible_user@]host[:ansible_port]`
/// with `ansible_host` or, without one, the inventory's name for the host.
/// The text is checked where it is used (`remote.rs`), as any engine-host
/// is; a templated `{{ }}` value fails there, not while files are made.
pub fn ansible_address(
    name: &str,
    host: Option<&str>,
    user: Option<&str>,
    port: Option<&str>,
    connection: Option<&str>,
) -> String {
    if connection == Some("local") {
        return "local".to_string();
    }
    let host = host.unwrap_or(name);
    let host = match host.contains(':') && !host.starts_with('[') {
        true => format!("[{host}]"),
        false => host.to_string(),
    };
    let user = user.map_or(String::new(), |u| format!("{u}@"));
    let port = port.map_or(String::new(), |p| format!(":{p}"));
    format!("ssh://{user}{host}{port}")
}

/// The variables that say where Ansible connects to a host.
pub const CONNECTION_VARS: [&str; 4] = [
    "ansible_host",
    "ansible_user",
    "ansible_port",
    "ansible_connection",
];

#[cfg(test)]
mod address_tests {
    use super::*;

    #[test]
    fn ansible_addresses() {
        assert_eq!(
            ansible_address("n", None, None, None, Some("local")),
            "local"
        );
        assert_eq!(ansible_address("n", None, None, None, None), "ssh://n");
        assert_eq!(
            ansible_address(
                "n",
                Some("10.0.0.1"),
                Some("core"),
                Some("2222"),
                Some("ssh")
            ),
            "ssh://core@10.0.0.1:2222"
        );
        assert_eq!(
            ansible_address("n", Some("fd00::1"), None, Some("22"), None),
            "ssh://[fd00::1]:22"
        );
    }
}
