//! Ansible YAML inventories: groups with `hosts`, `vars` and `children`, at
//! any depth. Variables named `calico_<option>` (`_` for `-`) are `node run`
//! options; every other variable is Ansible's and is ignored. A group's vars
//! reach its child groups and hosts, a child group overrides its parents,
//! host vars override every group. Two unrelated groups that give a host
//! different values for one variable are an error naming both. Host ranges
//! (`w[01:03]`) expand as Ansible expands them. This reader is used only
//! where `ansible-inventory` is not installed (`source.rs`).

use super::{Host, Inventory, Options, Problem, check_host_name, key_text, kind_of, ranges};
use std::collections::{BTreeMap, HashMap, HashSet};
use yaml_serde::{Mapping, Value};

/// The inventory with its merge keys (`<<: *common`, `<<: [*a, *b]`) applied
/// as Ansible's YAML loader applies them: a mapping's own keys win, then
/// the merged mappings in the order listed; a merged mapping's own merge
/// keys too. Anything else under `<<` is refused, never dropped.
pub fn merged(top: Mapping) -> Result<Mapping, String> {
    let mut doc = Value::Mapping(top);
    // Each pass applies the merge keys it finds; one brought in by a merge
    // is applied by the next. Nesting is at most 64 levels (nesting.rs).
    let mut passes = 0;
    while has_merge_key(&doc) {
        if passes > crate::nesting::MAX_DEPTH {
            return Err("merge keys (<<) nested too deep".to_string());
        }
        doc.apply_merge()
            .map_err(|e| format!("merge key (<<): {e}"))?;
        passes += 1;
    }
    match doc {
        Value::Mapping(top) => Ok(top),
        other => Err(format!("the top level became {}", kind_of(&other))),
    }
}

fn has_merge_key(value: &Value) -> bool {
    match value {
        Value::Mapping(m) => m.contains_key("<<") || m.values().any(has_merge_key),
        Value::Sequence(s) => s.iter().any(has_merge_key),
        Value::Tagged(t) => has_merge_key(&t.value),
        _ => false,
    }
}

/// One group, merged over every place the inventory defines it.
#[derive(Default)]
struct Group {
    vars: Vec<(String, Value)>,
    /// Hosts listed directly, with their own vars.
    hosts: Vec<(String, Vec<(String, Value)>)>,
    children: Vec<String>,
}

struct Reader {
    groups: HashMap<String, Group>,
    /// Group names in the order first seen.
    order: Vec<String>,
    /// Hosts in the order first seen.
    host_order: Vec<String>,
    /// The names in `host_order`, to look them up in constant time.
    seen: std::collections::HashSet<String>,
    /// How many names the ranges made so far (bounded in all).
    made: u64,
    errors: Vec<Problem>,
}

/// The `calico_` variables of a vars mapping (others are Ansible's).
fn calico_vars(
    map: &Mapping,
    at: &dyn Fn(String) -> Problem,
    errors: &mut Vec<Problem>,
) -> Vec<(String, Value)> {
    let mut vars = Vec::new();
    for (k, v) in map {
        let Some(name) = key_text(k) else {
            errors.push(at("a variable name must be a string".to_string()));
            continue;
        };
        if name.starts_with("calico_") || super::CONNECTION_VARS.contains(&name.as_str()) {
            vars.push((name, v.clone()));
        }
    }
    vars
}

impl Reader {
    fn group(&mut self, name: &str) -> &mut Group {
        if !self.groups.contains_key(name) {
            self.order.push(name.to_string());
        }
        self.groups.entry(name.to_string()).or_default()
    }

    fn read_group(&mut self, name: &str, def: &Value) {
        self.group(name);
        let map = match def {
            Value::Null => return,
            Value::Mapping(m) => m,
            other => {
                let e = format!(
                    "group {name}: must be a mapping (hosts, vars, children), not {}",
                    kind_of(other)
                );
                self.errors.push(Problem::Inventory(e));
                return;
            }
        };
        for (k, v) in map {
            match k.as_str() {
                Some("vars") => self.read_vars(name, v),
                Some("hosts") => self.read_hosts(name, v),
                Some("children") => self.read_children(name, v),
                _ => self.errors.push(Problem::Inventory(format!(
                    "group {name}: unknown key {} (a group has hosts, vars and children)",
                    key_text(k).unwrap_or_else(|| kind_of(k).to_string())
                ))),
            }
        }
    }

    fn read_vars(&mut self, group: &str, vars: &Value) {
        let place = format!("group {group} vars");
        let found = match vars {
            Value::Null => Vec::new(),
            Value::Mapping(m) => calico_vars(
                m,
                &|e| Problem::Inventory(format!("{place}: {e}")),
                &mut self.errors,
            ),
            other => {
                self.errors.push(Problem::Inventory(format!(
                    "{place}: must be a mapping, not {}",
                    kind_of(other)
                )));
                return;
            }
        };
        self.group(group).vars.extend(found);
    }

    fn read_hosts(&mut self, group: &str, hosts: &Value) {
        let map = match hosts {
            Value::Null => return,
            Value::Mapping(m) => m,
            other => {
                let e = format!(
                    "group {group} hosts: must be a mapping of host names, not {}",
                    kind_of(other)
                );
                self.errors.push(Problem::Inventory(e));
                return;
            }
        };
        for (k, v) in map {
            let Some(host) = key_text(k) else {
                self.errors.push(Problem::Inventory(format!(
                    "group {group} hosts: a host name must be a string, not {}",
                    kind_of(k)
                )));
                continue;
            };
            let vars = match v {
                Value::Null => Vec::new(),
                Value::Mapping(m) => calico_vars(m, &|e| Problem::host(&host, e), &mut self.errors),
                other => {
                    self.errors.push(Problem::host(
                        &host,
                        format!("host vars must be a mapping, not {}", kind_of(other)),
                    ));
                    continue;
                }
            };
            // Counted before any name is made: one pattern's own bound is
            // expand's to refuse, the inventory's in all is here.
            let n = ranges::count(&host).unwrap_or(0);
            if n <= ranges::MAX_NAMES && self.made + n > ranges::MAX_NAMES {
                self.errors.push(Problem::Inventory(format!(
                    "group {group} hosts: {host}: the host patterns make more than {} hosts in all",
                    ranges::MAX_NAMES
                )));
                return;
            }
            let names = match ranges::expand(&host) {
                Ok(names) => names,
                Err(e) => {
                    self.errors
                        .push(Problem::Inventory(format!("group {group} hosts: {e}")));
                    continue;
                }
            };
            self.made += names.len() as u64;
            for name in names {
                if self.seen.insert(name.clone()) {
                    self.host_order.push(name.clone());
                }
                self.group(group).hosts.push((name, vars.clone()));
            }
        }
    }

    fn read_children(&mut self, group: &str, children: &Value) {
        let map = match children {
            Value::Null => return,
            Value::Mapping(m) => m,
            other => {
                let e = format!(
                    "group {group} children: must be a mapping of groups, not {}",
                    kind_of(other)
                );
                self.errors.push(Problem::Inventory(e));
                return;
            }
        };
        for (k, v) in map {
            let Some(child) = key_text(k) else {
                self.errors.push(Problem::Inventory(format!(
                    "group {group} children: a group name must be a string"
                )));
                continue;
            };
            self.group(group).children.push(child.clone());
            self.read_group(&child, v);
        }
    }
}

/// Every group's parents.
fn parents_of(groups: &HashMap<String, Group>) -> HashMap<&str, Vec<&str>> {
    let mut parents: HashMap<&str, Vec<&str>> = HashMap::new();
    for (name, group) in groups {
        for child in &group.children {
            parents
                .entry(child.as_str())
                .or_default()
                .push(name.as_str());
        }
    }
    parents
}

/// `group` and every group above it.
fn with_ancestors<'a>(
    group: &'a str,
    parents: &HashMap<&'a str, Vec<&'a str>>,
) -> HashSet<&'a str> {
    let mut seen = HashSet::new();
    let mut todo = vec![group];
    while let Some(g) = todo.pop() {
        if seen.insert(g) {
            todo.extend(parents.get(g).into_iter().flatten().copied());
        }
    }
    seen
}

/// The value of each `calico_` variable for one host (the first group's
/// where two conflict), and the conflicts.
/// Each host's entries in the groups that list it directly, in the
/// groups' order: (group, that entry's host vars). Made once, so that
/// resolving a host does not scan every group's host list.
type Memberships<'a> = HashMap<&'a str, Vec<(&'a str, &'a [(String, Value)])>>;

fn memberships<'a>(groups: &'a HashMap<String, Group>, order: &'a [String]) -> Memberships<'a> {
    let mut found: Memberships = HashMap::new();
    for g in order {
        for (h, vars) in &groups[g].hosts {
            found
                .entry(h.as_str())
                .or_default()
                .push((g.as_str(), vars.as_slice()));
        }
    }
    found
}

fn resolve(
    host: &str,
    entries: &[(&str, &[(String, Value)])],
    groups: &HashMap<String, Group>,
    order: &[String],
    parents: &HashMap<&str, Vec<&str>>,
) -> (BTreeMap<String, (Value, String)>, Vec<Problem>) {
    let mut direct: Vec<&str> = entries.iter().map(|(g, _)| *g).collect();
    direct.dedup();
    let mut member: Vec<&str> = Vec::new();
    for g in &direct {
        for a in with_ancestors(g, parents) {
            if !member.contains(&a) {
                member.push(a);
            }
        }
    }
    member.sort_by_key(|g| order.iter().position(|o| o == g));
    // (value, group) for each variable, from the most specific groups only.
    let mut errors = Vec::new();
    let mut chosen: BTreeMap<String, (Value, String)> = BTreeMap::new();
    let mut defined: BTreeMap<&str, Vec<(&str, &Value)>> = BTreeMap::new();
    for g in &member {
        for (var, value) in &groups[*g].vars {
            defined.entry(var.as_str()).or_default().push((g, value));
        }
    }
    for (var, places) in &defined {
        // A group is overridden when a group below it also sets the variable.
        let specific: Vec<&(&str, &Value)> = places
            .iter()
            .filter(|(g, _)| {
                !places
                    .iter()
                    .any(|(other, _)| other != g && with_ancestors(other, parents).contains(g))
            })
            .collect();
        let (first_group, first_value) = specific[0];
        // Where Ansible connects is decided by Ansible's own group order;
        // only calico_ variables must agree.
        let connection = super::CONNECTION_VARS.contains(var);
        if let Some((other, _)) = specific.iter().find(|(_, v)| *v != *first_value)
            && !connection
        {
            errors.push(Problem::host(
                host,
                format!(
                    "{var} differs between groups {first_group} and {other}, neither inside the other"
                ),
            ));
            continue;
        }
        chosen.insert(
            var.to_string(),
            ((*first_value).clone(), first_group.to_string()),
        );
    }
    // Host vars override every group; two groups disagreeing on them is an error.
    let mut host_vars: BTreeMap<&str, (&Value, &str)> = BTreeMap::new();
    for (g, vars) in entries {
        {
            for (var, value) in *vars {
                let connection = super::CONNECTION_VARS.contains(&var.as_str());
                match host_vars.get(var.as_str()) {
                    Some(_) if connection => {}
                    Some((v, other)) if *v != value => errors.push(Problem::host(
                        host,
                        format!("host variable {var} differs between groups {other} and {g}"),
                    )),
                    _ => {
                        host_vars.insert(var.as_str(), (value, g));
                    }
                }
            }
        }
    }
    for (var, (value, _)) in host_vars {
        chosen.insert(var.to_string(), (value.clone(), "host".to_string()));
    }
    (chosen, errors)
}

/// The hosts; with errors in the groups themselves, none.
pub(super) fn parse(top: &Mapping) -> Inventory {
    let mut reader = Reader {
        groups: HashMap::new(),
        order: Vec::new(),
        host_order: Vec::new(),
        seen: std::collections::HashSet::new(),
        made: 0,
        errors: Vec::new(),
    };
    for (k, v) in top {
        match key_text(k) {
            Some(name) => reader.read_group(&name, v),
            None => reader.errors.push(Problem::Inventory(format!(
                "a group name must be a string, not {}",
                kind_of(k)
            ))),
        }
    }
    let parents = parents_of(&reader.groups);
    for name in &reader.order {
        let above = with_ancestors(name, &parents);
        if reader.groups[name]
            .children
            .iter()
            .any(|c| above.contains(c.as_str()))
        {
            reader.errors.push(Problem::Inventory(format!(
                "group {name}: its children include one of its own parents"
            )));
        }
    }
    if !reader.errors.is_empty() {
        return Inventory {
            errors: reader.errors,
            ..Inventory::default()
        };
    }
    let options = Options::new();
    let mut errors = Vec::new();
    let mut hosts = Vec::new();
    let memberships = memberships(&reader.groups, &reader.order);
    for host in &reader.host_order {
        if let Err(e) = check_host_name(host) {
            errors.push(Problem::host(host, e));
            continue;
        }
        let before = errors.len();
        let entries = memberships
            .get(host.as_str())
            .map_or(&[][..], Vec::as_slice);
        let (vars, conflicts) = resolve(host, entries, &reader.groups, &reader.order, &parents);
        errors.extend(conflicts);
        let mut found = Vec::new();
        let connection = |name: &str| vars.get(name).and_then(|(v, _)| super::key_text(v));
        let address = super::ansible_address(
            host,
            connection("ansible_host").as_deref(),
            connection("ansible_user").as_deref(),
            connection("ansible_port").as_deref(),
            connection("ansible_connection").as_deref(),
        );
        for (var, (value, _)) in vars {
            let Some(option) = var.strip_prefix("calico_") else {
                continue; // a connection variable, read above
            };
            let key = option.replace('_', "-");
            match options.ansible_value(&key, &value) {
                Ok(v) => found.push((key, v)),
                Err(e) => errors.push(Problem::host(host, format!("{var}: {e}"))),
            }
        }
        if errors.len() == before {
            hosts.push(Host {
                name: host.clone(),
                options: found,
                ansible_address: Some(address),
            });
        }
    }
    let groups = reader
        .order
        .iter()
        .map(|name| {
            let group = &reader.groups[name];
            let mut hosts: Vec<String> = Vec::new();
            let mut listed = HashSet::new();
            for (h, _) in &group.hosts {
                if listed.insert(h.as_str()) {
                    hosts.push(h.clone());
                }
            }
            super::Group {
                name: name.clone(),
                hosts,
                children: group.children.clone(),
            }
        })
        .collect();
    Inventory {
        hosts,
        errors,
        groups,
    }
}
