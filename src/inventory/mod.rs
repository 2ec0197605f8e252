//! Fleet inventories: the hosts of `calicoctl node fleet` and each host's
//! `node run` options. An input format, not the command line: our native
//! YAML (`defaults`, `hosts`; `native/`), `ansible-inventory --list`
//! output (`ansible_json.rs`), and every other Ansible inventory, resolved
//! by `ansible-inventory` where installed or, for YAML without it, by our
//! own reader (`ansible_yaml.rs`, with `ranges.rs`); `source.rs` decides
//! which, `limit.rs` applies `--limit`. Whatever the form, the result is
//! one list of hosts with options that `node run`'s own parser reads, so a
//! host's plan is exactly what `node run` would build.

mod ansible_json;
mod ansible_yaml;
pub mod confined;
pub mod error;
pub mod limit;
mod native;
mod ranges;
mod scan;
pub mod schema;
pub mod source;
pub mod trust;

use crate::cli::{NodeRunArgs, NotSettable, WATCHED};
use crate::release::{self, Served};
use clap::{ArgAction, CommandFactory};
#[cfg(test)]
use error::ReadError;
use error::{HostNameError, ValueError};
use serde_yaml::Value;

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

/// Options that belong to one invocation, not to a host.
const INVOCATION_ONLY: [&str; 11] = [
    "dryrun",
    "pin-ip",
    "output",
    "out-dir",
    "template",
    "template-source",
    "check",
    "color",
    "modes",
    "if-changed",
    "help",
];

/// The long options a host may set, and whether each is a flag.
/// (`--allow-version-mismatch`, hidden, is a command line's alone: it is
/// ignored where taken.)
fn host_options() -> Vec<(String, bool)> {
    NodeRunArgs::command()
        .get_arguments()
        .filter(|a| !a.is_hide_set())
        .filter_map(|a| {
            let long = a.get_long()?;
            let flag = matches!(a.get_action(), ArgAction::SetTrue);
            Some((long.to_string(), flag))
        })
        .filter(|(long, _)| !INVOCATION_ONLY.contains(&long.as_str()))
        .collect()
}

/// Checks option names and values against `node run`'s options.
pub(crate) struct Options {
    known: Vec<(String, bool)>,
}

impl Options {
    pub(crate) fn new() -> Options {
        Options {
            known: host_options(),
        }
    }

    /// The value of `key` as an option of `node run`, or why not.
    pub(crate) fn value(&self, key: &str, value: &Value) -> Result<OptValue, ValueError> {
        if INVOCATION_ONLY.contains(&key) {
            return Err(ValueError::InvocationOnly(key.to_string()));
        }
        let Some((_, flag)) = self.known.iter().find(|(k, _)| k == key) else {
            return Err(ValueError::Unknown(key.to_string()));
        };
        if key == "env" {
            return env_value(value);
        }
        let key = || key.to_string();
        match (value, flag) {
            (Value::Null, _) => Ok(OptValue::Unset),
            (Value::Bool(b), true) => Ok(OptValue::Flag(*b)),
            (_, true) => Err(ValueError::FlagNeedsBool {
                key: key(),
                shown: None,
            }),
            (Value::String(s), false) => Ok(OptValue::Text(s.clone())),
            (Value::Number(n), false) if n.is_f64() => Err(ValueError::Decimal {
                key: key(),
                number: n.to_string(),
            }),
            (Value::Number(n), false) => Ok(OptValue::Text(n.to_string())),
            (Value::Bool(_), false) => Err(ValueError::TakesValue(key())),
            _ => Err(ValueError::NotScalar(key())),
        }
    }
}

impl Options {
    /// The value of `key` from an Ansible variable (`calico_<key>`): as
    /// [`Options::value`], except that a flag also takes what Ansible's
    /// `bool` filter reads as true or false (`yes`, `on`, `1`, ...; INI
    /// host lines give strings), and that a Jinja2 template or a vaulted
    /// value, which `ansible-inventory --list` passes on unevaluated, is
    /// refused rather than taken literally.
    pub(crate) fn ansible_value(&self, key: &str, value: &Value) -> Result<OptValue, ValueError> {
        let flag = self.known.iter().any(|(k, f)| k == key && *f);
        let not_bool = |shown: String| ValueError::FlagNeedsBool {
            key: key.to_string(),
            shown: Some(shown),
        };
        if let Value::Mapping(m) = value
            && m.contains_key("__ansible_vault")
        {
            return Err(ValueError::Vault);
        }
        if let Value::String(s) = value {
            if s.contains("{{") || s.contains("{%") {
                return Err(ValueError::Template(s.clone()));
            }
            if flag {
                return ansible_bool(s)
                    .map(OptValue::Flag)
                    .ok_or_else(|| not_bool(format!("{s:?}")));
            }
        }
        if let (Value::Number(n), true) = (value, flag) {
            return match n.as_u64() {
                Some(0) => Ok(OptValue::Flag(false)),
                Some(1) => Ok(OptValue::Flag(true)),
                _ => Err(not_bool(n.to_string())),
            };
        }
        self.value(key, value)
    }
}

/// An `env` mapping: variable names to values (strings, integers,
/// true/false), null passing a variable by name.
fn env_value(value: &Value) -> Result<OptValue, ValueError> {
    let map = match value {
        Value::Null => return Ok(OptValue::Unset),
        Value::Mapping(map) => map,
        other => return Err(ValueError::EnvNotMapping(kind_of(other))),
    };
    let mut vars = Vec::with_capacity(map.len());
    for (k, v) in map {
        let Some(name) = key_text(k) else {
            return Err(ValueError::EnvNameNotString);
        };
        let text = match v {
            Value::Null => None,
            Value::String(s) if s.contains("{{") || s.contains("{%") => {
                return Err(ValueError::EnvTemplate {
                    name,
                    text: s.clone(),
                });
            }
            Value::String(s) => Some(s.clone()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Number(n) if n.is_f64() => {
                return Err(ValueError::EnvDecimal {
                    name,
                    number: n.to_string(),
                });
            }
            Value::Number(n) => Some(n.to_string()),
            other => {
                return Err(ValueError::EnvBadValue {
                    name,
                    kind: kind_of(other),
                });
            }
        };
        vars.push((name, text));
    }
    Ok(OptValue::Env(vars))
}

/// What Ansible's `bool` filter reads as a boolean.
fn ansible_bool(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "y" | "yes" | "on" | "1" | "true" | "t" => Some(true),
        "n" | "no" | "off" | "0" | "false" | "f" => Some(false),
        _ => None,
    }
}

/// Whether `name` can be a host: one safe path component.
pub fn check_host_name(name: &str) -> Result<(), HostNameError> {
    let ok_first = name
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphanumeric());
    let ok_rest = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if !ok_first || !ok_rest {
        return Err(HostNameError::Characters);
    }
    if name.len() > 253 {
        return Err(HostNameError::TooLong);
    }
    Ok(())
}

/// A mapping key as a host, group or option name.
pub(crate) fn key_text(key: &Value) -> Option<String> {
    match key {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Short description of a YAML value's kind, for messages.
pub(crate) fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

/// A group of an Ansible inventory: the hosts listed in it directly and
/// its child groups (for `--limit`).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Group {
    pub name: String,
    pub hosts: Vec<String>,
    pub children: Vec<String>,
}

/// A problem an inventory reader found: about one host (its line is
/// `<host>: <what>`), or about the inventory itself (its whole line). Code
/// decides on the variant (`--limit` drops the problems of hosts it leaves
/// out), never on a line's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    Host { host: String, what: String },
    Inventory(String),
}

impl Problem {
    pub fn host(host: &str, what: impl std::fmt::Display) -> Problem {
        Problem::Host {
            host: host.to_string(),
            what: what.to_string(),
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            Problem::Host { host, what } => write!(f, "{host}: {what}"),
            Problem::Inventory(line) => f.write_str(line),
        }
    }
}

/// An inventory read: the hosts without errors, and every error found as a
/// line (`<host>: <what>`, or where else it is); the groups, for an Ansible
/// inventory.
#[derive(Debug, Default)]
pub struct Inventory {
    pub hosts: Vec<Host>,
    pub errors: Vec<Problem>,
    pub groups: Vec<Group>,
}

/// Read an inventory's text with our own readers only (native, streamed
/// where it can be, or Ansible YAML): what the tests exercise;
/// `source::read` decides for a real run.
#[cfg(test)]
pub fn parse(label: &str, text: &str) -> Result<Inventory, ReadError> {
    let no_hosts = || ReadError::NoHosts {
        label: label.to_string(),
    };
    if let Some(inventory) = native::stream(text) {
        return match inventory.hosts.is_empty() && inventory.errors.is_empty() {
            true => Err(no_hosts()),
            false => Ok(inventory),
        };
    }
    parse_values(label, text)
}

/// A native inventory read as it streams, if it is plainly one.
#[cfg(test)]
pub fn parse_streamed(text: &str) -> Option<Inventory> {
    native::stream(text)
}

/// The same, always through YAML values.
#[cfg(test)]
pub fn parse_values(label: &str, text: &str) -> Result<Inventory, ReadError> {
    let label = label.to_string();
    let doc: Value = match serde_yaml::from_str(text) {
        Ok(doc) => doc,
        Err(e) => {
            let reason = e.to_string();
            return Err(ReadError::BadYaml { label, reason });
        }
    };
    let Value::Mapping(top) = &doc else {
        let kind = kind_of(&doc);
        return Err(ReadError::NotMapping { label, kind });
    };
    let native = top.contains_key("hosts")
        && top
            .keys()
            .all(|k| matches!(k.as_str(), Some("hosts" | "defaults")));
    let inventory = if native {
        native::parse(top.clone())
    } else {
        let top = ansible_yaml::merged(top.clone()).map_err(|reason| ReadError::BadYaml {
            label: label.clone(),
            reason,
        })?;
        ansible_yaml::parse(&top)
    };
    if inventory.hosts.is_empty() && inventory.errors.is_empty() {
        return Err(ReadError::NoHosts { label });
    }
    Ok(inventory)
}

impl std::error::Error for Problem {}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(text: &str) -> Vec<Host> {
        let inv = parse("t", text).unwrap();
        assert!(inv.errors.is_empty(), "{:?}", inv.errors);
        inv.hosts
    }

    fn errors(text: &str) -> Vec<String> {
        parse("t", text)
            .unwrap()
            .errors
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    fn words(h: &Host) -> Vec<String> {
        h.words()
    }

    #[test]
    fn native_defaults_are_overridden_by_hosts() {
        let found = hosts(
            "defaults: {node-image: img, as: 1, no-default-ippools: true}\nhosts:\n  a: {as: 64512, ip: 192.0.2.1}\n  b: {name: custom, no-default-ippools: false}\n  c:\n",
        );
        assert_eq!(found.len(), 3);
        assert_eq!(
            words(&found[0]),
            [
                "--node-image=img",
                "--no-default-ippools",
                "--as=64512",
                "--ip=192.0.2.1",
                "--name=a"
            ]
        );
        assert_eq!(
            words(&found[1]),
            ["--node-image=img", "--as=1", "--name=custom"]
        );
        assert_eq!(
            words(&found[2]),
            [
                "--node-image=img",
                "--as=1",
                "--no-default-ippools",
                "--name=c"
            ]
        );
    }

    #[test]
    fn null_unsets_a_default() {
        let found = hosts("defaults: {ip: 192.0.2.9}\nhosts:\n  a: {ip: null}\n");
        assert_eq!(words(&found[0]), ["--name=a"]);
    }

    #[test]
    fn native_refusals_name_host_and_key() {
        let e = errors(
            "hosts:\n  a: {dryrun: true, foo: 1, as: [1], init-system: yes}\n  'b/c': {}\n  d: {}\n",
        );
        assert_eq!(
            e,
            [
                "a: option 'dryrun' belongs to one invocation, not to a host: give it on the command line",
                "a: unknown option 'foo'",
                "a: option 'as': a value must be a string, a number or true/false",
                "a: option 'init-system' is a flag: true or false",
                "b/c: a host name must be [A-Za-z0-9][A-Za-z0-9._-]* (it names a directory)",
            ]
        );
        let inv = parse("t", "hosts:\n  a: {foo: 1}\n  d: {}\n").unwrap();
        assert_eq!(inv.hosts.len(), 1, "the good host is kept for validation");
        assert!(errors("defaults: {out-dir: x}\nhosts: {a: {}}\n")[0].starts_with("defaults: "));
    }

    #[test]
    fn file_level_errors() {
        let error = |text| parse("t", text).unwrap_err();
        assert!(matches!(
            error("hosts:\n  a: {}\n  a: {}\n"),
            ReadError::BadYaml { reason, .. } if reason.contains("duplicate entry with key \"a\"")
        ));
        assert!(matches!(
            error("[1, 2]"),
            ReadError::NotMapping { kind: "a list", .. }
        ));
        assert!(matches!(error("a: ["), ReadError::BadYaml { .. }));
        assert_eq!(
            error("hosts: {}").to_string(),
            "Error executing command: inventory t has no hosts"
        );
        let long = "a".repeat(254);
        assert!(errors(&format!("hosts: {{{long}: }}"))[0].contains("at most 253 bytes"));
    }

    const ANSIBLE: &str = "
all:
  vars: {calico_node_image: img, ansible_user: admin}
  children:
    workers:
      vars: {calico_as: 64512}
      hosts:
        w1: {calico_ip: 192.0.2.11, ansible_host: 10.0.0.11}
        w2:
      children:
        gpu:
          vars: {calico_as: 64513}
          hosts: {g1: }
    edge:
      vars: {calico_backend: none}
      hosts: {e1: , w2: }
";

    #[test]
    fn ansible_groups_inherit_and_children_override() {
        let found = hosts(ANSIBLE);
        let names: Vec<&str> = found.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(names, ["w1", "w2", "g1", "e1"]);
        assert_eq!(
            words(&found[0]),
            [
                "--as=64512",
                "--ip=192.0.2.11",
                "--node-image=img",
                "--name=w1"
            ]
        );
        assert_eq!(
            words(&found[1]),
            [
                "--as=64512",
                "--backend=none",
                "--node-image=img",
                "--name=w2"
            ]
        );
        assert_eq!(
            words(&found[2]),
            ["--as=64513", "--node-image=img", "--name=g1"]
        );
        assert_eq!(
            words(&found[3]),
            ["--backend=none", "--node-image=img", "--name=e1"]
        );
    }

    #[test]
    fn ansible_unrelated_groups_must_agree() {
        let e = errors(
            "a:\n  vars: {calico_as: 1}\n  hosts: {h: }\nb:\n  vars: {calico_as: 2}\n  hosts: {h: }\nc:\n  vars: {calico_as: 2}\n  hosts: {h2: }\nd:\n  vars: {calico_as: 2}\n  hosts: {h2: }\n",
        );
        assert_eq!(
            e,
            ["h: calico_as differs between groups a and b, neither inside the other"]
        );
    }

    #[test]
    fn ansible_host_vars_override_groups_and_unknown_calico_vars_are_refused() {
        let found = hosts("g:\n  vars: {calico_as: 1}\n  hosts: {h: {calico_as: 7}}\n");
        assert_eq!(words(&found[0]), ["--as=7", "--name=h"]);
        let e = errors("g:\n  vars: {calico_frobnicate: 1, other: 2}\n  hosts: {h: }\n");
        assert_eq!(e, ["h: calico_frobnicate: unknown option 'frobnicate'"]);
        let e = errors("g:\n  hosts: {h: }\n  children: {g: }\n");
        assert_eq!(e, ["group g: its children include one of its own parents"]);
    }

    mod equivalence {
        //! `Host::args` against `node run`'s own parser on `Host::words`.
        use super::super::*;
        use crate::cli::{Parsed, parse_node_run};
        use proptest::prelude::*;
        use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

        fn clap_args(words: &[String]) -> NodeRunArgs {
            clap_result(words).unwrap()
        }

        fn clap_result(words: &[String]) -> Result<NodeRunArgs, crate::cli::RunLineError> {
            match parse_node_run(words, words)? {
                Parsed::Run(a) => Ok(*a),
                Parsed::Help(_) => panic!("help"),
            }
        }

        #[test]
        fn host_args_equal_the_parsed_words_for_every_option() {
            let options = host_options();
            let defaults = clap_args(&[]);
            let option = (0..options.len()).prop_flat_map(move |i| {
                let (key, flag) = host_options()[i].clone();
                let value = if key == "env" {
                    prop::collection::btree_map(
                        "[A-Z_][A-Z0-9_]{0,5}",
                        prop::option::of("[ -~]{0,8}"),
                        0..4,
                    )
                    .prop_map(|vars| OptValue::Env(vars.into_iter().collect()))
                    .boxed()
                } else if key == "calico-version" {
                    // Each step's side of its boundaries, a newer one, and
                    // refusals (the options a release lacks, by name).
                    prop::sample::select(vec![
                        "v3.7.5", "3.8.0", "v3.9.0", "v3.12.3", "v3.13.0", "v3.20.2", "v3.22.0",
                        "v3.31.0", "v3.40.0", "bogus", "v3.0.1", "-x",
                    ])
                    .prop_map(|r| OptValue::Text(r.to_string()))
                    .boxed()
                } else if flag {
                    prop_oneof![
                        Just(OptValue::Flag(true)),
                        Just(OptValue::Flag(false)),
                        Just(OptValue::Unset)
                    ]
                    .boxed()
                } else {
                    prop_oneof![
                        "[ -~]{0,12}".prop_map(OptValue::Text),
                        Just(OptValue::Text(String::new())),
                        Just(OptValue::Text("-x".to_string())),
                        Just(OptValue::Unset),
                    ]
                    .boxed()
                };
                (Just(key), value)
            });
            let host = (
                "[a-z]{1,8}",
                prop::collection::btree_map("[a-z]", option, 0..8),
            );
            let config = Config {
                cases: 2000,
                failure_persistence: None,
                ..Config::default()
            };
            let mut runner = TestRunner::new_with_rng(
                config,
                TestRng::from_seed(RngAlgorithm::ChaCha, &[3; 32]),
            );
            struct Tally {
                cases: std::cell::Cell<u32>,
                refused: std::cell::Cell<u32>,
            }
            let tally = Tally {
                cases: 0.into(),
                refused: 0.into(),
            };
            runner
                .run(&host, |(name, picked)| {
                    let mut seen = std::collections::HashSet::new();
                    let options: Vec<(String, OptValue)> = picked
                        .into_values()
                        .filter(|(k, _)| seen.insert(k.clone()))
                        .collect();
                    let host = Host { name, options };
                    match (host.args(&defaults), clap_result(&host.words())) {
                        (Ok(ours), Ok(clap)) => prop_assert_eq!(ours, clap),
                        (Err(_), Err(_)) => tally.refused.set(tally.refused.get() + 1),
                        (ours, clap) => prop_assert!(false, "{:?} but {:?}", ours, clap),
                    }
                    tally.cases.set(tally.cases.get() + 1);
                    Ok(())
                })
                .unwrap();
            // Both sides are seen: equal plans, and refusals on both (a
            // release's missing option, or no release at all).
            let (cases, refused) = (tally.cases.get(), tally.refused.get());
            assert!(
                refused > cases / 20 && refused < cases / 2,
                "{refused} of {cases} refused"
            );
            // And each option a host may set, on its own, has a setter.
            for (key, flag) in options {
                let value = if key == "env" {
                    OptValue::Env(vec![("A".into(), Some("v".into())), ("B".into(), None)])
                } else if flag {
                    OptValue::Flag(true)
                } else if key == "calico-version" {
                    OptValue::Text("v3.28.0".into())
                } else {
                    OptValue::Text("v".into())
                };
                let host = Host {
                    name: "h".into(),
                    options: vec![(key.clone(), value)],
                };
                assert_eq!(
                    host.args(&defaults).unwrap(),
                    clap_args(&host.words()),
                    "{key}"
                );
            }
        }
    }
}
