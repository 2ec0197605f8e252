//! `node fleet --check` without `--out-dir`: is every host running what
//! the inventory says? Each host's plan (made as for its files, all or
//! nothing) is compared with its running container exactly as `node run
//! --check` compares one, through the host's own engine: its `engine-host`,
//! else where Ansible connects to it. `--forks` hosts at a time, each
//! within `--timeout`; the report is in inventory order whatever order the
//! hosts answer in, each line `<host>: `, and a summary on stderr.

use super::super::report::{self, Report};
use super::super::{Error, OptionError};
use super::render::Planned;
use crate::live::{self, Caller, Outcome};
use crate::remote::EngineHost;
use crate::terminal::Progress;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// How many hosts at a time, and how long each may take.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub forks: usize,
    pub timeout: Duration,
}

impl Limits {
    /// `--forks` and `--timeout`, whole numbers from 1 to 1000.
    pub fn parse(forks: &str, timeout: &str) -> Result<Limits, OptionError> {
        let whole = |text: &str, option| match text.parse::<u64>() {
            Ok(n @ 1..=1000) if text.bytes().all(|b| b.is_ascii_digit()) => Ok(n),
            _ => Err(OptionError::FleetLimit(option)),
        };
        Ok(Limits {
            forks: whole(forks, "--forks")? as usize,
            timeout: Duration::from_secs(whole(timeout, "--timeout")?),
        })
    }
}

/// Where the host's engine is: its own `engine-host`, else Ansible's
/// address for it; a native host without one is not guessed at.
pub(super) fn engine_host(planned: &Planned) -> Result<EngineHost, String> {
    let text = match (&planned.engine_host, &planned.ansible_address) {
        (Some(own), _) => own,
        (None, Some(ansible)) => ansible,
        (None, None) => return Err("no engine-host for this host (docs/live-checks.md)".into()),
    };
    EngineHost::parse(text).map_err(|e| e.to_string())
}

/// Check one host through its engine.
fn check_host(planned: &Planned, limit: Duration) -> Outcome {
    let engine = &planned.engine;
    let remote = match caller_words(planned) {
        Ok(words) => words,
        Err(reason) => return Outcome::Unreachable(reason),
    };
    let caller = Caller {
        program: &engine.command,
        remote: &remote,
        limit: Some(limit),
    };
    match live::compare_with(&caller, engine.kind, &planned.plan) {
        Err(e) => Outcome::Unreachable(e.reason()),
        Ok(comparison) => Outcome::of(&comparison),
    }
}

/// Every host's outcome, in the order of `hosts`, `limits.forks` at a time.
pub fn check_all(hosts: &[Planned], limits: Limits, progress: &Progress) -> Vec<Outcome> {
    let lost = || Outcome::Unreachable("the check of this host did not finish".into());
    each_host(hosts, limits, progress, check_host, lost)
}

/// `ask` of every host, in the order of `hosts`, `limits.forks` hosts at a
/// time, each within `limits.timeout` (`lost`: a host whose thread ended
/// without an answer).
pub(super) fn each_host<T: Send>(
    hosts: &[Planned],
    limits: Limits,
    progress: &Progress,
    ask: impl Fn(&Planned, Duration) -> T + Sync,
    lost: impl Fn() -> T,
) -> Vec<T> {
    let next = AtomicUsize::new(0);
    let answers: Mutex<Vec<Option<T>>> =
        Mutex::new(std::iter::repeat_with(|| None).take(hosts.len()).collect());
    std::thread::scope(|scope| {
        for _ in 0..limits.forks.min(hosts.len()) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(planned) = hosts.get(i) else { break };
                    let answer = ask(planned, limits.timeout);
                    progress.rendered();
                    answers.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(answer);
                }
            });
        }
    });
    let answers = answers.into_inner().unwrap_or_else(|e| e.into_inner());
    answers
        .into_iter()
        .map(|a| a.unwrap_or_else(&lost))
        .collect()
}

/// How to call the host's engine, within `limit`; or why it cannot be.
pub(super) fn caller_words(planned: &Planned) -> Result<Vec<String>, String> {
    engine_host(planned).and_then(|host| {
        host.engine_words(planned.engine.kind)
            .map_err(|e| e.to_string())
    })
}

/// Check `hosts` and report as `format` says; the exit status.
pub fn run(
    hosts: &[Planned],
    limits: Limits,
    progress: &Progress,
    format: Report,
) -> Result<u8, Error> {
    let outcomes = check_all(hosts, limits, progress);
    progress.finish();
    let checked: Vec<report::Checked> = (hosts.iter().zip(&outcomes))
        .map(|(planned, outcome)| report::Checked {
            host: &planned.host,
            container: &planned.plan.container_name,
            outcome,
        })
        .collect();
    Ok(report::live(&checked, format, report::Prefix::HostName))
}
