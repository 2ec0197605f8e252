//! Option names and values as inventories give them, checked against
//! `node run`'s own options: which a host may set (not an invocation's),
//! flags and values, `env` mappings, Ansible's booleans, host names, and
//! the YAML kinds readers name in their problems.

use super::OptValue;
use super::error::{HostNameError, ValueError};
use crate::cli::NodeRunArgs;
use clap::{ArgAction, CommandFactory};
use yaml_serde::Value;

/// Options that belong to one invocation, not to a host.
const INVOCATION_ONLY: [&str; 12] = [
    "dryrun",
    "pin-ip",
    "output",
    "out-dir",
    "template",
    "template-source",
    "check",
    "color",
    "modes",
    "report",
    "if-changed",
    "help",
];

/// The long options a host may set, and whether each is a flag.
/// (`--allow-version-mismatch`, hidden, is a command line's alone: it is
/// ignored where taken.)
pub(super) fn host_options() -> Vec<(String, bool)> {
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
