//! `ansible-inventory --list` output: Ansible's own answer to what an
//! inventory means (INI, YAML, directories, scripts, plugins, with
//! `group_vars/`, `host_vars/`, ranges and priorities resolved). Its
//! `_meta.hostvars` holds every host's variables as Ansible merged them, so
//! we take the `calico_*` ones as they are and resolve nothing ourselves.
//! The hosts come in Ansible's order: from `all` down, a group's own hosts
//! before its children's, each host once.

use super::{Group, Host, Inventory, Options, Problem, check_host_name, key_text, kind_of};
use std::collections::HashSet;
use yaml_serde::{Mapping, Value};

/// Whether a parsed document is `ansible-inventory --list` output.
pub fn recognise(doc: &Value) -> bool {
    doc.get("_meta")
        .and_then(|m| m.get("hostvars"))
        .is_some_and(Value::is_mapping)
}

/// The names listed under `key` (`hosts` or `children`) of a group.
fn names(group: &Value, key: &str, errors: &mut Vec<Problem>, place: &str) -> Vec<String> {
    match group.get(key) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Sequence(items)) => items
            .iter()
            .filter_map(|v| {
                let name = key_text(v);
                if name.is_none() {
                    errors.push(Problem::Inventory(format!(
                        "group {place} {key}: a name must be a string"
                    )));
                }
                name
            })
            .collect(),
        Some(other) => {
            errors.push(Problem::Inventory(format!(
                "group {place} {key}: must be a list of names, not {}",
                kind_of(other)
            )));
            Vec::new()
        }
    }
}

/// The groups, in the document's order.
fn groups(top: &Mapping, errors: &mut Vec<Problem>) -> Vec<Group> {
    let mut found = Vec::new();
    for (k, v) in top {
        let Some(name) = key_text(k) else { continue };
        if name == "_meta" {
            continue;
        }
        if v.get("vars").is_some() {
            errors.push(Problem::Inventory(format!(
                "group {name} has vars: this is 'ansible-inventory --list --export' output, whose group vars are not resolved into each host's; give plain --list output"
            )));
        }
        found.push(Group {
            hosts: names(v, "hosts", errors, &name),
            children: names(v, "children", errors, &name),
            name,
        });
    }
    found
}

/// Host names from `all` down (then any group not reached from it).
fn host_order(groups: &[Group]) -> Vec<String> {
    let mut order = Vec::new();
    let (mut seen_hosts, mut seen_groups) = (HashSet::new(), HashSet::new());
    let mut starts: Vec<&str> = vec!["all"];
    starts.extend(groups.iter().map(|g| g.name.as_str()));
    for start in starts {
        let mut todo = vec![start];
        while let Some(name) = todo.pop() {
            if !seen_groups.insert(name) {
                continue;
            }
            let Some(group) = groups.iter().find(|g| g.name == name) else {
                continue;
            };
            for h in &group.hosts {
                if seen_hosts.insert(h.as_str()) {
                    order.push(h.clone());
                }
            }
            todo.extend(group.children.iter().rev().map(String::as_str));
        }
    }
    order
}

/// One host's options from its resolved variables.
fn host(
    name: &str,
    vars: Option<&Value>,
    options: &Options,
    errors: &mut Vec<Problem>,
) -> Option<Host> {
    if let Err(e) = check_host_name(name) {
        errors.push(Problem::host(name, e));
        return None;
    }
    let before = errors.len();
    let mut found = Vec::new();
    let map = match vars {
        None | Some(Value::Null) => Mapping::new(),
        Some(Value::Mapping(m)) => m.clone(),
        Some(other) => {
            errors.push(Problem::host(
                name,
                format!("hostvars must be a mapping, not {}", kind_of(other)),
            ));
            return None;
        }
    };
    let mut calico: Vec<(String, &Value)> = map
        .iter()
        .filter_map(|(k, v)| Some((key_text(k)?, v)))
        .filter(|(k, _)| k.starts_with("calico_"))
        .collect();
    calico.sort_by(|a, b| a.0.cmp(&b.0));
    for (var, value) in calico {
        let key = var["calico_".len()..].replace('_', "-");
        match options.ansible_value(&key, value) {
            Ok(v) => found.push((key, v)),
            Err(e) => errors.push(Problem::host(name, format!("{var}: {e}"))),
        }
    }
    let connection = |var: &str| map.get(var).and_then(super::key_text);
    let address = super::ansible_address(
        name,
        connection("ansible_host").as_deref(),
        connection("ansible_user").as_deref(),
        connection("ansible_port").as_deref(),
        connection("ansible_connection").as_deref(),
    );
    (errors.len() == before).then(|| Host {
        name: name.to_string(),
        options: found,
        ansible_address: Some(address),
    })
}

/// Read `ansible-inventory --list` output (already recognised).
pub fn parse(doc: &Value) -> Inventory {
    let mut errors = Vec::new();
    let Value::Mapping(top) = doc else {
        return Inventory::default();
    };
    let groups = groups(top, &mut errors);
    let hostvars = doc.get("_meta").and_then(|m| m.get("hostvars"));
    let options = Options::new();
    let mut hosts = Vec::new();
    for name in host_order(&groups) {
        let vars = hostvars.and_then(|h| h.get(name.as_str()));
        hosts.extend(host(&name, vars, &options, &mut errors));
    }
    Inventory {
        hosts,
        errors,
        groups,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Inventory {
        let doc: Value = yaml_serde::from_str(text).unwrap();
        assert!(recognise(&doc));
        parse(&doc)
    }

    #[test]
    fn hosts_in_ansible_order_with_resolved_vars() {
        let inv = read(
            r#"{"_meta": {"hostvars": {"g1": {"calico_backend": "none", "calico_no_default_ippools": "true"},
                 "w1": {"calico_as": 64512, "ansible_host": "10.0.0.1"}, "lonely": {}}},
               "all": {"children": ["ungrouped", "compute"]},
               "compute": {"children": ["workers", "gpu"]},
               "gpu": {"hosts": ["g1"]}, "ungrouped": {"hosts": ["lonely"]},
               "workers": {"hosts": ["w1", "g1"]}}"#,
        );
        assert!(inv.errors.is_empty(), "{:?}", inv.errors);
        let names: Vec<&str> = inv.hosts.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(names, ["lonely", "w1", "g1"]);
        assert_eq!(inv.hosts[1].words(), ["--as=64512", "--name=w1"]);
        assert_eq!(
            inv.hosts[2].words(),
            ["--backend=none", "--no-default-ippools", "--name=g1"]
        );
    }

    #[test]
    fn refusals_name_host_and_variable() {
        let inv = read(
            r#"{"_meta": {"hostvars": {"a": {"calico_ip": "{{ ansible_host }}", "calico_as": 1.1,
                 "calico_init_system": "maybe", "calico_frob": 1},
                 "b": {"calico_ip": {"__ansible_vault": "$ANSIBLE_VAULT;1.1;AES256"}}}},
               "all": {"children": ["ungrouped"]}, "ungrouped": {"hosts": ["a", "b"]}}"#,
        );
        assert!(inv.hosts.is_empty());
        assert_eq!(inv.errors.len(), 5, "{:?}", inv.errors);
        assert!(
            inv.errors[0]
                .to_string()
                .starts_with("a: calico_as: option 'as': 1.1 reads as a decimal")
        );
        assert!(
            inv.errors[1]
                .to_string()
                .starts_with("a: calico_frob: unknown option 'frob'")
        );
        assert!(
            inv.errors[2]
                .to_string()
                .starts_with("a: calico_init_system: option 'init-system' is a flag")
        );
        assert!(inv.errors[3].to_string().contains("Jinja2 template"));
        assert!(
            inv.errors[4]
                .to_string()
                .starts_with("b: calico_ip: an encrypted (vault) value")
        );
    }

    #[test]
    fn export_output_is_refused() {
        let inv = read(
            r#"{"_meta": {"hostvars": {}}, "all": {"children": ["g"]},
               "g": {"hosts": ["a"], "vars": {"calico_as": 1}}}"#,
        );
        assert!(
            inv.errors[0].to_string().contains("--export"),
            "{:?}",
            inv.errors
        );
    }
}
