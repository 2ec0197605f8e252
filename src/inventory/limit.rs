//! `--limit NAMES`: the hosts of the named groups (with their child groups,
//! at any depth) and the named hosts, `:`-separated: the simplest form of
//! Ansible's host patterns. Applied by us to the resolved inventory, since
//! Debian 12's `ansible-inventory` (core 2.14) has no `--limit`. Ansible's
//! other pattern syntax (wildcards, regexes, `!`, `&`, ranges, commas) is
//! refused rather than read differently from Ansible; a name that is
//! neither a group nor a host, and a limit that selects no host, are
//! errors: a rollout limited to nothing by a typo should not look done.

use super::error::LimitError;
use super::{Inventory, Problem};
use std::collections::HashSet;

/// Whether `limit` is one we read (before any inventory is resolved).
pub fn check(limit: &str) -> Result<(), LimitError> {
    names(limit).map(|_| ())
}

/// The names of a limit, or why it is not one we read.
fn names(limit: &str) -> Result<Vec<&str>, LimitError> {
    let special = |c: char| "*?!&~[],@ ".contains(c);
    let names: Vec<&str> = limit.split(':').collect();
    if names.iter().any(|n| n.is_empty() || n.contains(special)) {
        return Err(LimitError::Syntax(limit.to_string()));
    }
    Ok(names)
}

/// Keep only the hosts `limit` selects (in inventory order), and only the
/// error lines that are not about a host left out.
pub fn apply(inventory: &mut Inventory, limit: &str) -> Result<(), LimitError> {
    let mut selected: HashSet<String> = HashSet::new();
    let every_host: Vec<&str> = inventory
        .hosts
        .iter()
        .map(|h| h.name.as_str())
        .chain(
            inventory
                .groups
                .iter()
                .flat_map(|g| g.hosts.iter().map(String::as_str)),
        )
        .collect();
    for name in names(limit)? {
        if let Some(_group) = inventory.groups.iter().find(|g| g.name == name) {
            let mut todo = vec![name];
            let mut seen = HashSet::new();
            while let Some(g) = todo.pop() {
                if !seen.insert(g) {
                    continue;
                }
                if let Some(group) = inventory.groups.iter().find(|x| x.name == g) {
                    selected.extend(group.hosts.iter().cloned());
                    todo.extend(group.children.iter().map(String::as_str));
                }
            }
        } else if every_host.contains(&name) {
            selected.insert(name.to_string());
        } else {
            return Err(LimitError::NoSuchName(name.to_string()));
        }
    }
    let left_out: HashSet<String> = every_host
        .iter()
        .filter(|h| !selected.contains(**h))
        .map(|h| h.to_string())
        .collect();
    inventory.hosts.retain(|h| selected.contains(&h.name));
    // A left-out host's own problems go with it; the inventory's stay.
    inventory.errors.retain(|e| match e {
        Problem::Host { host, .. } => !left_out.contains(host),
        Problem::Inventory(_) => true,
    });
    if inventory.hosts.is_empty() && inventory.errors.is_empty() {
        return Err(LimitError::SelectsNothing(limit.to_string()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::{Group, Host};

    fn inventory() -> Inventory {
        let host = |n: &str| Host {
            name: n.to_string(),
            options: Vec::new(),
            ansible_address: None,
        };
        let group = |n: &str, hosts: &[&str], children: &[&str]| Group {
            name: n.to_string(),
            hosts: hosts.iter().map(|s| s.to_string()).collect(),
            children: children.iter().map(|s| s.to_string()).collect(),
        };
        Inventory {
            hosts: ["a", "b", "c", "d"].map(host).to_vec(),
            errors: vec![Problem::host("e", "calico_as: bad")],
            groups: vec![
                group("all", &[], &["top", "other"]),
                group("top", &["a"], &["mid"]),
                group("mid", &["b"], &["empty"]),
                group("empty", &[], &[]),
                group("other", &["c", "d", "e"], &[]),
            ],
        }
    }

    fn hosts(limit: &str) -> Result<(Vec<String>, usize), LimitError> {
        let mut inv = inventory();
        apply(&mut inv, limit)?;
        Ok((
            inv.hosts.into_iter().map(|h| h.name).collect(),
            inv.errors.len(),
        ))
    }

    #[test]
    fn groups_take_their_children_and_hosts_add_up() {
        assert_eq!(hosts("top").unwrap(), (vec!["a".into(), "b".into()], 0));
        assert_eq!(hosts("mid:d").unwrap(), (vec!["b".into(), "d".into()], 0));
        assert_eq!(
            hosts("other").unwrap().1,
            1,
            "e's error is kept when e is in"
        );
        assert_eq!(hosts("all").unwrap().0.len(), 4);
    }

    #[test]
    fn a_problem_is_dropped_for_its_host_never_for_its_words() {
        let mut inv = inventory();
        // The inventory's own line, worded like a left-out host's: kept.
        inv.errors
            .push(Problem::Inventory("a: a group's line".into()));
        apply(&mut inv, "other").unwrap();
        let lines: Vec<String> = inv.errors.iter().map(ToString::to_string).collect();
        assert_eq!(lines, ["e: calico_as: bad", "a: a group's line"]);
        let mut inv = inventory();
        apply(&mut inv, "top").unwrap();
        assert!(inv.errors.is_empty(), "e is left out, and its problem too");
    }

    #[test]
    fn other_syntax_unknown_names_and_nothing_selected_are_errors() {
        for bad in ["web*", "!a", "a,b", "a:&b", "~a.*", "a[1]", "a::b", ""] {
            assert_eq!(hosts(bad), Err(LimitError::Syntax(bad.into())), "{bad}");
        }
        assert_eq!(hosts("nope"), Err(LimitError::NoSuchName("nope".into())));
        assert_eq!(
            hosts("empty"),
            Err(LimitError::SelectsNothing("empty".into()))
        );
        assert_eq!(
            LimitError::NoSuchName("nope".into()).to_string(),
            "Error executing command: --limit: no group or host named \"nope\" in the inventory"
        );
    }
}
