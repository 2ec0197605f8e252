//! The native inventory: `defaults` (options for every host) and `hosts`
//! (each host's own options, which override the defaults). Read as it
//! streams (`stream.rs`: no tree of YAML values for the whole document, so
//! memory grows with the hosts, not with the YAML), or from values already
//! read.

mod events;
mod stream;

pub(super) use stream::stream;

use super::{Host, Inventory, OptValue, Options, Problem, check_host_name, key_text, kind_of};
use yaml_serde::{Mapping, Value};

/// Options of one mapping, every error collected as `at` places it (a
/// host's, or the defaults').
fn options_of(
    options: &Options,
    at: &dyn Fn(String) -> Problem,
    map: &Mapping,
    errors: &mut Vec<Problem>,
) -> Vec<(String, OptValue)> {
    let mut found = Vec::new();
    for (k, v) in map {
        let Some(key) = key_text(k) else {
            errors.push(at("an option name must be a string".to_string()));
            continue;
        };
        match options.value(&key, v) {
            Ok(value) => found.push((key, value)),
            Err(e) => errors.push(at(e.to_string())),
        }
    }
    found
}

/// A host's options over the defaults: the host's value wins; `env` is
/// merged by variable name (the host's value of a variable wins).
fn merged(
    defaults: &[(String, OptValue)],
    mut own: Vec<(String, OptValue)>,
) -> Vec<(String, OptValue)> {
    if let Some((_, OptValue::Env(base))) = defaults.iter().find(|(k, _)| k == "env")
        && let Some((_, OptValue::Env(mine))) = own.iter_mut().find(|(k, _)| k == "env")
    {
        let mut all = base.clone();
        super::merge_env(&mut all, mine);
        *mine = all;
    }
    let mut all: Vec<(String, OptValue)> = defaults
        .iter()
        .filter(|(k, _)| !own.iter().any(|(o, _)| o == k))
        .cloned()
        .collect();
    all.extend(own);
    all
}

/// One host entry: its name and own options, or its errors.
fn read_host(
    options: &Options,
    key: &Value,
    value: &Value,
    errors: &mut Vec<Problem>,
) -> Option<(String, Vec<(String, OptValue)>)> {
    let Some(name) = key_text(key) else {
        errors.push(Problem::Inventory(format!(
            "hosts: a host name must be a string, not {}",
            kind_of(key)
        )));
        return None;
    };
    if let Err(e) = check_host_name(&name) {
        errors.push(Problem::host(&name, e));
        return None;
    }
    let before = errors.len();
    let own = match value {
        Value::Null => Vec::new(),
        Value::Mapping(m) => options_of(options, &|e| Problem::host(&name, e), m, errors),
        other => {
            errors.push(Problem::host(
                &name,
                format!("must be a mapping of options, not {}", kind_of(other)),
            ));
            return None;
        }
    };
    (errors.len() == before).then_some((name, own))
}

/// The defaults' options, or their errors.
fn read_defaults(
    options: &Options,
    defaults: Option<&Value>,
    errors: &mut Vec<Problem>,
) -> Vec<(String, OptValue)> {
    let at = |e: String| Problem::Inventory(format!("defaults: {e}"));
    match defaults {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Mapping(m)) => options_of(options, &at, m, errors),
        Some(other) => {
            errors.push(at(format!(
                "must be a mapping of options, not {}",
                kind_of(other)
            )));
            Vec::new()
        }
    }
}

/// The inventory from the defaults and each host's own options; with
/// errors in `defaults`, no host (every host would be wrong).
fn assemble(
    defaults: Vec<(String, OptValue)>,
    mut errors: Vec<Problem>,
    hosts: Vec<(String, Vec<(String, OptValue)>)>,
    host_errors: Vec<Problem>,
) -> Inventory {
    let defaults_ok = errors.is_empty();
    errors.extend(host_errors);
    let hosts = if defaults_ok {
        hosts
            .into_iter()
            .map(|(name, own)| Host {
                options: merged(&defaults, own),
                name,
                ansible_address: None,
            })
            .collect()
    } else {
        Vec::new()
    };
    Inventory {
        hosts,
        errors,
        groups: Vec::new(),
    }
}

/// The hosts of a document already read as YAML values.
pub(super) fn parse(mut top: Mapping) -> Inventory {
    let options = Options::new();
    let mut errors = Vec::new();
    let defaults = read_defaults(&options, top.get("defaults"), &mut errors);
    let mut host_errors = Vec::new();
    let hosts = match top.remove("hosts") {
        Some(Value::Mapping(m)) => m,
        Some(Value::Null) | None => Mapping::new(),
        Some(other) => {
            errors.push(Problem::Inventory(format!(
                "hosts: must be a mapping of host names, not {}",
                kind_of(&other)
            )));
            Mapping::new()
        }
    };
    let found = hosts
        .into_iter()
        .filter_map(|(k, v)| read_host(&options, &k, &v, &mut host_errors))
        .collect();
    assemble(defaults, errors, found, host_errors)
}
