//! The plan against the running container: one line per difference, in a
//! fixed order (state, name, image, environment, binds, privileged,
//! network mode, lifecycle), each naming the field and both values. A
//! secret's value is compared but never shown, and neither is the value of
//! a variable the plan does not set whose name looks like a secret's.

use super::{Bind, Container, Observed, reference};
use crate::plan::{Mode, Plan};
use serde::Serialize;
use std::collections::BTreeSet;
use std::fmt;

/// One difference between the plan and the running container: printed as
/// `--check`'s line, serialized as a structured item (`--report json`).
/// A secret's variant carries no value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Difference {
    /// No container of the planned name.
    Absent {
        name: String,
    },
    Exited {
        exit_code: i64,
        finished_at: String,
    },
    NotRunning {
        status: String,
    },
    Name {
        running: String,
        planned: String,
    },
    ImageReference {
        running: String,
        planned: String,
    },
    ImageNotPresent {
        image: String,
    },
    /// The planned reference names another image now than the one running.
    ImageId {
        image: String,
        running: String,
        planned: String,
    },
    /// A planned variable the container lacks or has another value of;
    /// `running` None: unset.
    Env {
        name: String,
        running: Option<String>,
        planned: String,
    },
    SecretUnset {
        name: String,
    },
    SecretDiffers {
        name: String,
    },
    /// A variable the plan does not set (its value hidden when its name
    /// looks like a secret's).
    EnvNotPlanned {
        name: String,
        running: Option<String>,
    },
    /// The binds at a container path (`-v` words; empty: none).
    Bind {
        target: String,
        running: Vec<String>,
        planned: Vec<String>,
    },
    Privileged {
        running: bool,
        planned: bool,
    },
    NetworkMode {
        running: String,
        planned: String,
    },
    RestartPolicy {
        running: String,
        planned: String,
    },
    AutoRemove {
        running: bool,
        planned: bool,
    },
    /// The container's health check is not the planned one (`running`
    /// None: it has none).
    HealthCheck {
        running: Option<String>,
        planned: String,
    },
    /// Its health check has not passed yet.
    HealthStarting,
    /// Its health check fails: `failing_since` as far as the engine's
    /// log goes back.
    Unhealthy {
        failing_since: Option<String>,
        failing_streak: i64,
    },
}

impl Difference {
    /// The variable the difference is about, if one.
    pub fn variable(&self) -> Option<&str> {
        match self {
            Difference::Env { name, .. }
            | Difference::SecretUnset { name }
            | Difference::SecretDiffers { name }
            | Difference::EnvNotPlanned { name, .. } => Some(name),
            _ => None,
        }
    }

    /// Whether `--if-changed` replaces a container for it: not for a
    /// check that has not passed *yet* (a container just started, still
    /// within its start period, is left to become ready).
    pub fn replaces(&self) -> bool {
        !matches!(self, Difference::HealthStarting)
    }
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let specs = |s: &[String]| match s.is_empty() {
            true => "(none)".to_string(),
            false => s.join(" and "),
        };
        match self {
            Difference::Absent { name } => write!(f, "no container named {name}"),
            Difference::Exited {
                exit_code,
                finished_at,
            } => write!(f, "not running: exited {exit_code} at {finished_at}"),
            Difference::NotRunning { status } => write!(f, "not running: {status}"),
            Difference::Name { running, planned } => {
                write!(f, "name: running {running}, planned {planned}")
            }
            Difference::ImageReference { running, planned } => {
                write!(f, "image: running {running}, planned {planned}")
            }
            Difference::ImageNotPresent { image } => {
                write!(f, "image {image}: not present on this host")
            }
            Difference::ImageId {
                image,
                running,
                planned,
            } => write!(
                f,
                "image {image}: running {running}, planned {planned} (what the reference names now)"
            ),
            Difference::Env {
                name,
                running: None,
                planned,
            } => write!(f, "env {name}: running (unset), planned {planned}"),
            Difference::Env {
                name,
                running: Some(v),
                planned,
            } => write!(f, "env {name}: running {v}, planned {planned}"),
            Difference::SecretUnset { name } => write!(f, "env {name}: not set in the container"),
            Difference::SecretDiffers { name } => write!(f, "env {name}: differs"),
            Difference::EnvNotPlanned {
                name,
                running: None,
            } => write!(
                f,
                "env {name}: set in the container (value not shown), not planned"
            ),
            Difference::EnvNotPlanned {
                name,
                running: Some(v),
            } => write!(f, "env {name}: running {v}, not planned"),
            Difference::Bind {
                target,
                running,
                planned,
            } => write!(
                f,
                "bind {target}: running {}, planned {}",
                specs(running),
                specs(planned)
            ),
            Difference::Privileged { running, planned } => {
                write!(f, "privileged: running {running}, planned {planned}")
            }
            Difference::NetworkMode { running, planned } => {
                write!(f, "network mode: running {running}, planned {planned}")
            }
            Difference::RestartPolicy { running, planned } => {
                write!(f, "restart policy: running {running}, planned {planned}")
            }
            Difference::AutoRemove { running, planned } => {
                write!(
                    f,
                    "auto-remove (--rm): running {running}, planned {planned}"
                )
            }
            Difference::HealthCheck { running, planned } => {
                let running = running.as_deref().unwrap_or("(none)");
                write!(f, "health check: running {running}, planned {planned}")
            }
            Difference::HealthStarting => f.write_str("health: starting (not ready yet)"),
            Difference::Unhealthy {
                failing_since: Some(since),
                failing_streak,
            } => write!(
                f,
                "health: unhealthy since {since} ({failing_streak} failed checks in a row)"
            ),
            Difference::Unhealthy {
                failing_since: None,
                failing_streak,
            } => write!(
                f,
                "health: unhealthy ({failing_streak} failed checks in a row)"
            ),
        }
    }
}

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

fn state(c: &Container, lines: &mut Vec<Difference>) {
    if c.running {
        return;
    }
    if c.status == "exited" {
        lines.push(Difference::Exited {
            exit_code: c.exit_code,
            finished_at: c.finished_at.clone(),
        });
    } else {
        lines.push(Difference::NotRunning {
            status: c.status.clone(),
        });
    }
}

fn image(plan: &Plan, observed: &Observed, c: &Container, lines: &mut Vec<Difference>) {
    let now = observed.planned_image.as_ref();
    let names = now.map_or(&[][..], |i| i.names.as_slice());
    if !reference::same(&c.image_ref, &plan.image, names, observed.engine) {
        lines.push(Difference::ImageReference {
            running: c.image_ref.clone(),
            planned: plan.image.clone(),
        });
    }
    match now {
        None => lines.push(Difference::ImageNotPresent {
            image: plan.image.clone(),
        }),
        Some(i) if i.id != c.image_id => lines.push(Difference::ImageId {
            image: plan.image.clone(),
            running: short_id(&c.image_id).to_string(),
            planned: short_id(&i.id).to_string(),
        }),
        Some(_) => {}
    }
}

fn env(plan: &Plan, observed: &Observed, c: &Container, lines: &mut Vec<Difference>) {
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
            (None, true) => lines.push(Difference::SecretUnset {
                name: var.name.clone(),
            }),
            (Some(_), true) => lines.push(Difference::SecretDiffers {
                name: var.name.clone(),
            }),
            (running, false) => lines.push(Difference::Env {
                name: var.name.clone(),
                running: running.cloned(),
                planned: var.value.clone(),
            }),
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
        lines.push(Difference::EnvNotPlanned {
            name: k.clone(),
            running: (!looks_secret(k)).then(|| v.clone()),
        });
    }
}

fn binds(plan: &Plan, c: &Container, lines: &mut Vec<Difference>) {
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
        let spec = |set: &BTreeSet<Bind>| -> Vec<String> {
            set.iter()
                .filter(|b| b.container == target && !(planned.contains(b) && running.contains(b)))
                .map(Bind::spec)
                .collect()
        };
        lines.push(Difference::Bind {
            target: target.to_string(),
            running: spec(&running),
            planned: spec(&planned),
        });
    }
}

fn settings(plan: &Plan, c: &Container, lines: &mut Vec<Difference>) {
    if !c.privileged {
        lines.push(Difference::Privileged {
            running: false,
            planned: true,
        });
    }
    if c.network_mode != "host" {
        lines.push(Difference::NetworkMode {
            running: c.network_mode.clone(),
            planned: "host".to_string(),
        });
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
        lines.push(Difference::RestartPolicy {
            running: running_restart.to_string(),
            planned: restart.to_string(),
        });
    }
    if c.auto_remove != auto_remove {
        lines.push(Difference::AutoRemove {
            running: c.auto_remove,
            planned: auto_remove,
        });
    }
}

/// How the container compares with the plan: absent, or there with each
/// difference as a line (none: it runs as planned). Callers decide on the
/// variant (start or replace), never on a line's words.
#[derive(Debug, PartialEq, Eq)]
pub enum Comparison {
    Absent { name: String },
    Present { differences: Vec<Difference> },
}

impl Comparison {
    /// Every difference (an absent container is one).
    pub fn differences(&self) -> Vec<Difference> {
        match self {
            Comparison::Absent { name } => vec![Difference::Absent { name: name.clone() }],
            Comparison::Present { differences } => differences.clone(),
        }
    }

    /// The report's lines, as `--check` prints them.
    pub fn lines(&self) -> Vec<String> {
        self.differences().iter().map(|d| d.to_string()).collect()
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
fn differences(plan: &Plan, observed: &Observed) -> Vec<Difference> {
    let Some(c) = &observed.container else {
        return Vec::new();
    };
    let mut lines = Vec::new();
    state(c, &mut lines);
    if c.name != plan.container_name {
        lines.push(Difference::Name {
            running: c.name.clone(),
            planned: plan.container_name.clone(),
        });
    }
    image(plan, observed, c, &mut lines);
    env(plan, observed, c, &mut lines);
    binds(plan, c, &mut lines);
    settings(plan, c, &mut lines);
    health(plan, c, &mut lines);
    lines
}

/// The planned health check, and what it says of a running container
/// (nothing when the plan has none: a check of the image's own is not
/// ours to judge).
fn health(plan: &Plan, c: &Container, lines: &mut Vec<Difference>) {
    use super::HealthStatus;
    let Some(planned) = plan.health.as_ref().and_then(|h| h.container_check()) else {
        return;
    };
    let planned = planned.command_line();
    let Some(running) = c.health.as_ref().filter(|h| h.command == planned) else {
        lines.push(Difference::HealthCheck {
            running: c.health.as_ref().map(|h| h.command.clone()),
            planned,
        });
        return;
    };
    if !c.running {
        return;
    }
    match running.status {
        HealthStatus::Healthy => {}
        HealthStatus::Starting => lines.push(Difference::HealthStarting),
        HealthStatus::Unhealthy => lines.push(Difference::Unhealthy {
            failing_since: running.failing_since.clone(),
            failing_streak: running.failing_streak,
        }),
    }
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
            health: None,
            entrypoint: Vec::new(),
            cmd: Vec::new(),
        };
        state(&c, &mut lines);
        let lines: Vec<String> = lines.iter().map(|d| d.to_string()).collect();
        assert_eq!(lines, ["not running: exited 1 at 2026-11-30T21:33:48Z"]);
    }
}
