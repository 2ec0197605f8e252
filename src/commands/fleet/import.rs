//! `node fleet import`: `node import --container` for every host of an
//! inventory, each reached as `node fleet --check` reaches it (its
//! `engine-host`, else where Ansible connects; `--forks` at a time, each
//! within `--timeout`), written as one native inventory: the options every
//! host shares under `defaults`, each host's own under its name, with what
//! could not be carried over as comments there and on stderr.

use super::super::Error;
use super::super::node_import::derive_checked;
use super::live::{Limits, caller_words, each_host};
use super::render::Planned;
use crate::engine::EngineKind;
use crate::import::{Derived, RunSpec, options_yaml};
use crate::live::{self, Caller, Observed};
use crate::terminal::Progress;
use std::time::Duration;

/// One host's running container, or why it could not be read.
fn read_host(planned: &Planned, limit: Duration) -> Result<Observed, String> {
    let remote = caller_words(planned)?;
    let caller = Caller {
        program: &planned.engine.command,
        remote: &remote,
        limit: Some(limit),
    };
    let name = &planned.plan.container_name;
    live::observe_running(&caller, planned.engine.kind, name)
        .map_err(|e| e.reason())?
        .ok_or_else(|| format!("no container named {name}"))
}

/// The options of the host's inventory entry that say how it is reached
/// and run, beside what was read: its engine, and its configuration.
fn host_options(planned: &Planned) -> Vec<String> {
    let args = &planned.args;
    let mut words = Vec::new();
    if planned.engine.kind != EngineKind::Docker {
        words.push(format!("--runtime={}", planned.engine.kind.name()));
    }
    if let Some(path) = &args.runtime_path {
        words.push(format!("--runtime-path={path}"));
    }
    if let Some(config) = &args.config {
        words.push(format!("--config={config}"));
    }
    words
}

/// Read every host, and print the inventory; the exit status: 1 when a
/// host could not be read, else 2 when something could not be carried
/// over, else 0.
pub fn run(hosts: &[Planned], limits: Limits, progress: &Progress) -> Result<u8, Error> {
    // A host's options that do not plan fail before any engine is asked
    // (plan_all, all or nothing); the options read back, after.
    let lost = || Err("the read of this host did not finish".to_string());
    let read = each_host(hosts, limits, progress, read_host, lost);
    progress.finish();
    let mut entries: Vec<(&Planned, Derived)> = Vec::new();
    let mut unreadable = false;
    for (planned, observed) in hosts.iter().zip(read) {
        let observed = match observed {
            Ok(observed) => observed,
            Err(reason) => {
                errln!(
                    "{}: unreachable: {}",
                    planned.host,
                    crate::escape::visible(&reason)
                );
                unreadable = true;
                continue;
            }
        };
        let Some(spec) = RunSpec::from_observed(&observed) else {
            continue;
        };
        let derived = match derive_checked(&spec, Some(observed), &host_options(planned)) {
            Ok((derived, _)) => derived,
            Err(error) => {
                errln!("{}: {error}", planned.host);
                unreadable = true;
                continue;
            }
        };
        for item in &derived.unmapped {
            let line = crate::escape::visible(&item.to_string()).into_owned();
            errln!("{}: {line}", planned.host);
        }
        entries.push((planned, derived));
    }
    // An inventory needs a host: none read, none printed.
    if !entries.is_empty() {
        out!("{}", inventory(&entries));
    }
    let unmapped = entries.iter().any(|(_, d)| !d.unmapped.is_empty());
    Ok(match (unreadable, unmapped) {
        (true, _) => 1,
        (false, true) => 2,
        (false, false) => 0,
    })
}

/// The native inventory of `entries`: the option words every host has
/// under `defaults` (where there are two hosts or more), the rest under
/// each host with its `engine-host`.
fn inventory(entries: &[(&Planned, Derived)]) -> String {
    let shared: Vec<String> = match entries {
        [(_, first), _, ..] => (first.options.iter())
            .filter(|w| entries.iter().all(|(_, d)| d.options.contains(w)))
            .cloned()
            .collect(),
        _ => Vec::new(),
    };
    let mut out = String::from(
        "# Made by `calicoctl node fleet import`: the options that reproduce\n# each host's running calico-node.\n",
    );
    if !shared.is_empty() {
        out.push_str("defaults:\n");
        out.push_str(&options_yaml("  ", &shared));
    }
    out.push_str("hosts:\n");
    for (planned, derived) in entries {
        out.push_str(&format!("  {}:\n", planned.host));
        if let Some(address) = planned
            .engine_host
            .as_ref()
            .or(planned.ansible_address.as_ref())
        {
            let address = crate::escape::yaml_scalar(address);
            out.push_str(&format!("    engine-host: {address}\n"));
        }
        let own: Vec<String> = (derived.options.iter())
            .filter(|w| !shared.contains(w))
            .cloned()
            .collect();
        out.push_str(&options_yaml("    ", &own));
        for item in &derived.unmapped {
            let line = crate::escape::visible(&item.to_string()).into_owned();
            out.push_str(&format!("    # not carried over: {line}\n"));
        }
    }
    out
}
