//! Fleet inventories: the hosts of `calicoctl node fleet` and each host's
//! `node run` options. An input format, not the command line: our native
//! YAML (`defaults`, `hosts`; `native/`), `ansible-inventory --list`
//! output (`ansible_json.rs`), and every other Ansible inventory, resolved
//! by `ansible-inventory` where installed or, for YAML without it, by our
//! own reader (`ansible_yaml.rs`, with `ranges.rs`); `source.rs` decides
//! which, `limit.rs` applies `--limit`. Whatever the form, the result is
//! one list of hosts (`host.rs`) with options checked against `node run`'s
//! (`values.rs`) and set as its own parser sets them, so a host's plan is
//! exactly what `node run` would build.

mod ansible_json;
mod ansible_yaml;
pub mod confined;
pub mod error;
mod host;
pub mod limit;
mod native;
mod ranges;
mod scan;
pub mod schema;
pub mod source;
pub mod trust;
mod values;

pub(crate) use host::merge_env;
use host::{CONNECTION_VARS, ansible_address};
pub use host::{Host, OptValue};
pub use values::check_host_name;
use values::host_options;
pub(crate) use values::{Options, key_text, kind_of};

#[cfg(test)]
use crate::cli::NodeRunArgs;
#[cfg(test)]
use error::ReadError;
#[cfg(test)]
use yaml_serde::Value;

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
    let doc: Value = match yaml_serde::from_str(text) {
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

    /// Where Ansible would connect, resolved as Ansible resolves variables
    /// (a child group over its parent, host vars over groups); unlike
    /// calico_ variables, unrelated groups need not agree on it, and the
    /// connection variables are no options (none of them is refused).
    #[test]
    fn ansible_connection_variables_give_each_host_its_address() {
        let text = "all:\n  vars: {ansible_user: core}\n  children:\n    workers:\n      hosts:\n        \
                    w1: {ansible_host: 10.0.0.1, ansible_port: 2222}\n        w2: {ansible_connection: local}\n        \
                    w3:\n    other:\n      vars: {ansible_user: admin}\n      hosts: {w3: , w4: {ansible_host: 'fd00::4'}}\n    \
                    third:\n      vars: {ansible_port: 22, ansible_user: ops}\n      hosts: {w4: }\n";
        let inventory = parse("t", text).unwrap();
        assert!(inventory.errors.is_empty(), "{:?}", inventory.errors);
        let found: Vec<(&str, Option<&str>)> = (inventory.hosts.iter())
            .map(|h| (h.name.as_str(), h.ansible_address.as_deref()))
            .collect();
        assert_eq!(
            found,
            [
                ("w1", Some("ssh://core@10.0.0.1:2222")),
                ("w2", Some("local")),
                ("w3", Some("ssh://admin@w3")),
                ("w4", Some("ssh://admin@[fd00::4]:22")),
            ]
        );
        let native = parse("t", "hosts:\n  a: {engine-host: local}\n").unwrap();
        assert_eq!(native.hosts[0].ansible_address, None);
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
                    let host = Host {
                        name,
                        options,
                        ansible_address: None,
                    };
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
                refused > cases / 40 && refused < cases / 2,
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
                    ansible_address: None,
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
