//! The plan against the running container: one line per difference, in a
//! fixed order (state, name, image, environment, binds, privileged,
//! network mode, lifecycle), each naming the field and both values. A
//! secret's value is compared but never shown, and neither is the value of
//! a variable the plan does not set whose name looks like a secret's.

use super::{Bind, Container, Observed, reference};
use crate::plan::{Mode, Plan};
use std::collections::BTreeSet;

/// An image ID as people read it: 12 hex digits.
fn short_id(id: &str) -> &str {
    let hex = id.strip_prefix("sha256:").unwrap_or(id);
    &hex[..hex.len().min(12)]
}

fn looks_secret(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    ["PASSWORD", "TOKEN", "SECRET", "KEY", "CREDENTIAL"]
        .iter()
        .any(|w| upper.contains(w))
}

fn state(c: &Container, lines: &mut Vec<String>) {
    if c.running {
        return;
    }
    if c.status == "exited" {
        lines.push(format!(
            "not running: exited {} at {}",
            c.exit_code, c.finished_at
        ));
    } else {
        lines.push(format!("not running: {}", c.status));
    }
}

fn image(plan: &Plan, observed: &Observed, c: &Container, lines: &mut Vec<String>) {
    let now = observed.planned_image.as_ref();
    let names = now.map_or(&[][..], |i| i.names.as_slice());
    if !reference::same(&c.image_ref, &plan.image, names, observed.engine) {
        lines.push(format!(
            "image: running {}, planned {}",
            c.image_ref, plan.image
        ));
    }
    match now {
        None => lines.push(format!("image {}: not present on this host", plan.image)),
        Some(i) if i.id != c.image_id => lines.push(format!(
            "image {}: running {}, planned {} (what the reference names now)",
            plan.image,
            short_id(&c.image_id),
            short_id(&i.id)
        )),
        Some(_) => {}
    }
}

fn env(plan: &Plan, observed: &Observed, c: &Container, lines: &mut Vec<String>) {
    let image = observed.container_image.as_ref();
    for var in &plan.env {
        let running = c
            .env
            .iter()
            .rev()
            .find(|(k, _)| *k == var.name)
            .map(|(_, v)| v);
        match (running, var.secret) {
            (Some(v), _) if *v == var.value => {}
            (None, true) => lines.push(format!("env {}: not set in the container", var.name)),
            (Some(_), true) => lines.push(format!("env {}: differs", var.name)),
            (None, false) => lines.push(format!(
                "env {}: running (unset), planned {}",
                var.name, var.value
            )),
            (Some(v), false) => lines.push(format!(
                "env {}: running {v}, planned {}",
                var.name, var.value
            )),
        }
    }
    let mut extra: Vec<&(String, String)> = c
        .env
        .iter()
        .filter(|(k, _)| !plan.env.iter().any(|v| v.name == *k))
        .filter(|(k, v)| {
            let from_image = image.is_some_and(|i| i.env.iter().any(|(ik, iv)| ik == k && iv == v));
            !from_image && !observed.engine.added(k, v, image)
        })
        .collect();
    extra.sort();
    extra.dedup_by(|a, b| a.0 == b.0);
    for (k, v) in extra {
        if looks_secret(k) {
            lines.push(format!(
                "env {k}: set in the container (value not shown), not planned"
            ));
        } else {
            lines.push(format!("env {k}: running {v}, not planned"));
        }
    }
}

fn binds(plan: &Plan, c: &Container, lines: &mut Vec<String>) {
    let planned: BTreeSet<Bind> = plan
        .volumes
        .iter()
        .map(|v| Bind {
            host: v.host.clone(),
            container: v.container.clone(),
            read_only: v.read_only,
        })
        .collect();
    let running: BTreeSet<Bind> = c.binds.iter().cloned().collect();
    let mut targets: Vec<&str> = planned
        .symmetric_difference(&running)
        .map(|b| b.container.as_str())
        .collect();
    targets.sort_unstable();
    targets.dedup();
    for target in targets {
        let spec = |set: &BTreeSet<Bind>| {
            let found: Vec<String> = set
                .iter()
                .filter(|b| b.container == target && !(planned.contains(b) && running.contains(b)))
                .map(Bind::spec)
                .collect();
            if found.is_empty() {
                "(none)".to_string()
            } else {
                found.join(" and ")
            }
        };
        lines.push(format!(
            "bind {target}: running {}, planned {}",
            spec(&running),
            spec(&planned)
        ));
    }
}

fn settings(plan: &Plan, c: &Container, lines: &mut Vec<String>) {
    if !c.privileged {
        lines.push("privileged: running false, planned true".to_string());
    }
    if c.network_mode != "host" {
        lines.push(format!(
            "network mode: running {}, planned host",
            c.network_mode
        ));
    }
    let (restart, auto_remove) = match plan.mode {
        Mode::Detached => ("always", false),
        Mode::InitSystem => ("no", true),
    };
    let running_restart = if c.restart_policy.is_empty() {
        "no"
    } else {
        c.restart_policy.as_str()
    };
    if running_restart != restart {
        lines.push(format!(
            "restart policy: running {running_restart}, planned {restart}"
        ));
    }
    if c.auto_remove != auto_remove {
        lines.push(format!(
            "auto-remove (--rm): running {}, planned {auto_remove}",
            c.auto_remove
        ));
    }
}

/// How the container compares with the plan: absent, or there with each
/// difference as a line (none: it runs as planned). Callers decide on the
/// variant (start or replace), never on a line's words.
#[derive(Debug, PartialEq, Eq)]
pub enum Comparison {
    Absent { name: String },
    Present { differences: Vec<String> },
}

impl Comparison {
    /// The report's lines, as `--check` prints them.
    pub fn lines(&self) -> Vec<String> {
        match self {
            Comparison::Absent { name } => vec![format!("no container named {name}")],
            Comparison::Present { differences } => differences.clone(),
        }
    }
}

/// Compare the plan with what the engine reported.
pub fn compare(plan: &Plan, observed: &Observed) -> Comparison {
    match &observed.container {
        None => Comparison::Absent {
            name: plan.container_name.clone(),
        },
        Some(_) => Comparison::Present {
            differences: differences(plan, observed),
        },
    }
}

/// Every difference between the plan and a container the engine reported;
/// empty when it runs as planned.
fn differences(plan: &Plan, observed: &Observed) -> Vec<String> {
    let Some(c) = &observed.container else {
        return Vec::new();
    };
    let mut lines = Vec::new();
    state(c, &mut lines);
    if c.name != plan.container_name {
        lines.push(format!(
            "name: running {}, planned {}",
            c.name, plan.container_name
        ));
    }
    image(plan, observed, c, &mut lines);
    env(plan, observed, c, &mut lines);
    binds(plan, c, &mut lines);
    settings(plan, c, &mut lines);
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_secret_names() {
        assert_eq!(short_id("sha256:a6077759a522229bd"), "a6077759a522");
        assert!(looks_secret("AWS_SECRET_ACCESS_KEY") && !looks_secret("NODENAME"));
    }

    #[test]
    fn state_lines() {
        let mut lines = Vec::new();
        let c = Container {
            name: "calico-node".into(),
            image_ref: String::new(),
            image_id: String::new(),
            env: Vec::new(),
            binds: Vec::new(),
            privileged: true,
            network_mode: "host".into(),
            restart_policy: "always".into(),
            auto_remove: false,
            running: false,
            status: "exited".into(),
            exit_code: 1,
            finished_at: "2026-11-30T21:33:48Z".into(),
        };
        state(&c, &mut lines);
        assert_eq!(lines, ["not running: exited 1 at 2026-11-30T21:33:48Z"]);
    }
}
