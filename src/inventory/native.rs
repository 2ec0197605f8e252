//! The native inventory: `defaults` (options for every host) and `hosts`
//! (each host's own options, which override the defaults).

use super::{Host, Inventory, OptValue, Options, check_host_name, key_text, kind_of};
use serde_yaml::{Mapping, Value};

/// Options of one mapping, every error collected with `prefix`.
fn options_of(
    options: &Options,
    prefix: &str,
    map: &Mapping,
    errors: &mut Vec<String>,
) -> Vec<(String, OptValue)> {
    let mut found = Vec::new();
    for (k, v) in map {
        let Some(key) = key_text(k) else {
            errors.push(format!("{prefix}: an option name must be a string"));
            continue;
        };
        match options.value(&key, v) {
            Ok(value) => found.push((key, value)),
            Err(e) => errors.push(format!("{prefix}: {e}")),
        }
    }
    found
}

/// A host's options over the defaults: the host's value wins.
fn merged(
    defaults: &[(String, OptValue)],
    own: Vec<(String, OptValue)>,
) -> Vec<(String, OptValue)> {
    let mut all: Vec<(String, OptValue)> = defaults
        .iter()
        .filter(|(k, _)| !own.iter().any(|(o, _)| o == k))
        .cloned()
        .collect();
    all.extend(own);
    all
}

/// The hosts; with errors in `defaults`, none (every host would be wrong).
/// The document is consumed host by host, so a large inventory is not held
/// twice (as YAML values and as hosts).
pub(super) fn parse(mut top: Mapping) -> Inventory {
    let options = Options::new();
    let mut errors = Vec::new();
    let defaults = match top.get("defaults") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Mapping(m)) => options_of(&options, "defaults", m, &mut errors),
        Some(other) => {
            errors.push(format!(
                "defaults: must be a mapping of options, not {}",
                kind_of(other)
            ));
            Vec::new()
        }
    };
    let hosts = match top.remove("hosts") {
        Some(Value::Mapping(m)) => m,
        Some(Value::Null) => Mapping::new(),
        Some(other) => {
            errors.push(format!(
                "hosts: must be a mapping of host names, not {}",
                kind_of(&other)
            ));
            Mapping::new()
        }
        None => Mapping::new(),
    };
    let mut found = Vec::new();
    let defaults_ok = errors.is_empty();
    for (k, v) in hosts {
        let Some(name) = key_text(&k) else {
            errors.push(format!(
                "hosts: a host name must be a string, not {}",
                kind_of(&k)
            ));
            continue;
        };
        if let Err(e) = check_host_name(&name) {
            errors.push(format!("{name}: {e}"));
            continue;
        }
        let before = errors.len();
        let own = match v {
            Value::Null => Vec::new(),
            Value::Mapping(m) => options_of(&options, &name, &m, &mut errors),
            other => {
                errors.push(format!(
                    "{name}: must be a mapping of options, not {}",
                    kind_of(&other)
                ));
                continue;
            }
        };
        if defaults_ok && errors.len() == before {
            found.push(Host {
                options: merged(&defaults, own),
                name,
            });
        }
    }
    Inventory {
        hosts: found,
        errors,
        groups: Vec::new(),
    }
}
