//! The running container, read from its engine: what `node run --check`
//! (without `--out-dir`) and `node run --if-changed` compare with the plan.
//! Docker and podman report the same facts in different shapes (binds in
//! `HostConfig.Binds` or `Mounts`, image IDs with or without `sha256:`,
//! variables the engine adds itself), so each engine has its reader
//! (`docker.rs`, `podman.rs`) turning its `inspect` JSON into one small
//! engine-neutral description ([`Container`], [`Image`]), and one
//! comparison (`compare.rs`) works on that. `query` asks the engine.

pub mod compare;
mod docker;
mod podman;
pub mod reference;

use rustix::process::{WaitId, WaitIdOptions};
use std::fmt;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Why the engine could not be asked, or its answer not read.
#[derive(Debug)]
pub enum Error {
    /// An `inspect` answer (`what`: the command) that is not JSON.
    NotJson { what: &'static str, reason: String },
    /// An `inspect` answer that is not an array of one object.
    NotOne { what: &'static str },
    CannotRun {
        program: String,
        error: std::io::Error,
    },
    /// The engine's stdout (for `args`) is not UTF-8.
    NotUtf8 { program: String, args: String },
    /// The engine failed, saying `first` (its first line on stderr).
    Failed {
        program: String,
        args: String,
        first: String,
    },
    /// The engine gave no answer in time (it and its ssh were stopped).
    TimedOut { program: String, seconds: u64 },
}

impl Error {
    /// What went wrong, without the "Error executing command" of a whole
    /// run's failure (a fleet's report prints it after a host's name).
    pub fn reason(&self) -> String {
        match self {
            Error::NotJson { what, reason } => format!("{what}: not JSON: {reason}"),
            Error::NotOne { what } => format!("{what}: not one object"),
            Error::CannotRun { program, error } => format!("cannot run {program}: {error}"),
            Error::NotUtf8 { program, args } => format!("{program} {args}: not UTF-8"),
            Error::Failed {
                program,
                args,
                first,
            } => format!("{program} {args} failed: {first}"),
            Error::TimedOut { program, seconds } => {
                format!("{program} gave no answer within {seconds} s")
            }
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        crate::error::executing(f, format_args!("{}", self.reason()))
    }
}

/// What a live check of one host found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Matches,
    /// The differences, in `--check`'s order.
    Drifted(Vec<compare::Difference>),
    /// Why the host's engine could not be asked.
    Unreachable(String),
}

impl Outcome {
    /// A comparison's outcome: matches when nothing differs.
    pub fn of(comparison: &compare::Comparison) -> Outcome {
        match comparison.differences() {
            found if found.is_empty() => Outcome::Matches,
            found => Outcome::Drifted(found),
        }
    }
}

/// Ask the engine through `caller` (of kind `kind`) about the plan's
/// container and image, and compare what it says with the plan.
pub fn compare_with(
    caller: &Caller,
    kind: EngineKind,
    plan: &crate::plan::Plan,
) -> Result<compare::Comparison, Error> {
    let observed = query(caller, kind, &plan.container_name, &plan.image)?;
    Ok(compare::compare(plan, &observed))
}

/// A host path bound into the container.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Bind {
    pub host: String,
    pub container: String,
    pub read_only: bool,
}

impl Bind {
    /// A `-v` word as docker reads it: `HOST:CONTAINER`, then options
    /// (`ro`, `rw`, `z`, ...).
    pub fn parse(word: &str) -> Bind {
        let mut parts = word.splitn(3, ':');
        let host = parts.next().unwrap_or_default().to_string();
        let container = parts.next().unwrap_or_default().to_string();
        let options = parts.next().unwrap_or_default();
        Bind {
            host,
            container,
            read_only: options.split(',').any(|o| o == "ro"),
        }
    }

    /// As `docker -v` spells it.
    pub fn spec(&self) -> String {
        let ro = if self.read_only { ":ro" } else { "" };
        format!("{}:{}{}", self.host, self.container, ro)
    }
}

/// A container as the comparison needs it, whatever the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Container {
    pub name: String,
    /// The image reference it was started with.
    pub image_ref: String,
    /// The ID of the image it runs.
    pub image_id: String,
    /// Its variables, as `NAME=value` split, in the engine's order.
    pub env: Vec<(String, String)>,
    pub binds: Vec<Bind>,
    pub privileged: bool,
    pub network_mode: String,
    /// `always`, `no`, ... (empty when none).
    pub restart_policy: String,
    pub auto_remove: bool,
    pub running: bool,
    /// `running`, `exited`, `created`, ...
    pub status: String,
    pub exit_code: i64,
    pub finished_at: String,
    /// Its health check and what it last said (None: it has no check).
    pub health: Option<Health>,
    /// What it runs: `Config.Entrypoint`, then `Config.Cmd`.
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
}

/// A container's health check as its engine reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    /// The check's command as one line (`CMD-SHELL`'s, or the words of
    /// `CMD` joined).
    pub command: String,
    pub status: HealthStatus,
    /// Checks failed in a row, up to now.
    pub failing_streak: i64,
    /// When the oldest failed check of that run began, as far as the
    /// engine's log (its last few checks) goes back.
    pub failing_since: Option<String>,
}

/// What a container's health check last said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HealthStatus {
    /// Not yet passed once (within its start period, or after it).
    Starting,
    Healthy,
    /// Failing (and anything else the engine says, which is not healthy).
    Unhealthy,
}

/// The health check of an `inspect` object: its command from
/// `Config.Healthcheck`, its state from `State.Health` (docker, podman 5)
/// or `State.Healthcheck` (podman before 4.x's rename).
fn health_of(c: &serde_json::Value) -> Option<Health> {
    let test = strings(&c["Config"]["Healthcheck"]["Test"]);
    let command = match test.split_first() {
        Some((kind, words)) if kind == "CMD-SHELL" || kind == "CMD" => words.join(" "),
        _ => return None,
    };
    let state = match &c["State"]["Health"] {
        serde_json::Value::Null => &c["State"]["Healthcheck"],
        health => health,
    };
    let status = match state["Status"].as_str().unwrap_or_default() {
        "starting" | "" => HealthStatus::Starting,
        "healthy" => HealthStatus::Healthy,
        _ => HealthStatus::Unhealthy,
    };
    let log = state["Log"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let failing_since = log
        .iter()
        .rev()
        .take_while(|entry| entry["ExitCode"].as_i64() != Some(0))
        .last()
        .map(|entry| text(&entry["Start"]));
    Some(Health {
        command,
        status,
        failing_streak: state["FailingStreak"].as_i64().unwrap_or_default(),
        failing_since,
    })
}

/// An image as the comparison needs it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Image {
    pub id: String,
    /// Its configuration's `ENV`.
    pub env: Vec<(String, String)>,
    /// Its names: tags, then digests (`RepoTags`, `RepoDigests`).
    pub names: Vec<String>,
    /// What a container of it runs unless told otherwise.
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
}

/// What the engine says about the container and the planned image.
#[derive(Debug, Clone)]
pub struct Observed {
    /// None: no container of that name.
    pub container: Option<Container>,
    /// The image the container runs (for its `ENV`).
    pub container_image: Option<Image>,
    /// What the planned reference names now; None: not on this host.
    pub planned_image: Option<Image>,
    /// The engine's name, for what it adds to every container.
    pub engine: EngineKind,
}

pub use crate::engine::EngineKind;

impl EngineKind {
    fn container(self, json: &str) -> Result<Container, Error> {
        match self {
            EngineKind::Docker => docker::container(json),
            EngineKind::Podman => podman::container(json),
        }
    }

    fn image(self, json: &str) -> Result<Image, Error> {
        match self {
            EngineKind::Docker => docker::image(json),
            EngineKind::Podman => podman::image(json),
        }
    }

    /// Whether the engine itself put `name=value` into a container of
    /// `image` (not the user, not the image).
    pub fn added(self, name: &str, value: &str, image: Option<&Image>) -> bool {
        let image_sets = |n: &str| image.is_some_and(|i| i.env.iter().any(|(k, _)| k == n));
        let default_path = name == "PATH" && value == DEFAULT_PATH && !image_sets("PATH");
        match self {
            EngineKind::Docker => default_path,
            EngineKind::Podman => {
                default_path
                    || (name == "container" && value == "podman")
                    || name == "HOSTNAME"
                    || (name == "TERM" && value == "xterm" && !image_sets("TERM"))
            }
        }
    }
}

/// The `PATH` both engines give a container whose image sets none.
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// A JSON string's text ("" for anything else).
fn text(v: &serde_json::Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

/// A JSON list's strings.
fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// What both engines report alike (`HostConfig`, `State`, `Config.Env`,
/// `Image`), with the name, reference and binds each reads its own way.
fn container_of(
    c: &serde_json::Value,
    name: String,
    image_ref: String,
    binds: Vec<Bind>,
) -> Container {
    let host = &c["HostConfig"];
    Container {
        name,
        image_ref,
        image_id: text(&c["Image"]),
        env: split_env(&strings(&c["Config"]["Env"])),
        binds,
        privileged: host["Privileged"] == true,
        network_mode: text(&host["NetworkMode"]),
        restart_policy: text(&host["RestartPolicy"]["Name"]),
        auto_remove: host["AutoRemove"] == true,
        running: c["State"]["Running"] == true,
        status: text(&c["State"]["Status"]),
        exit_code: c["State"]["ExitCode"].as_i64().unwrap_or_default(),
        finished_at: text(&c["State"]["FinishedAt"]),
        health: health_of(c),
        entrypoint: strings(&c["Config"]["Entrypoint"]),
        cmd: strings(&c["Config"]["Cmd"]),
    }
}

/// An image from either engine's `image inspect`.
fn image_of(json: &str, what: &'static str) -> Result<Image, Error> {
    let i = single(json, what)?;
    let mut names = strings(&i["RepoTags"]);
    names.extend(strings(&i["RepoDigests"]));
    Ok(Image {
        id: text(&i["Id"]),
        env: split_env(&strings(&i["Config"]["Env"])),
        names,
        entrypoint: strings(&i["Config"]["Entrypoint"]),
        cmd: strings(&i["Config"]["Cmd"]),
    })
}

/// `NAME=value` split at the first `=`.
fn split_env(items: &[String]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|item| match item.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (item.clone(), String::new()),
        })
        .collect()
}

/// The single object of an `inspect` answer (a JSON array of one).
fn single(json: &str, what: &'static str) -> Result<serde_json::Value, Error> {
    let value: serde_json::Value = serde_json::from_str(json).map_err(|e| Error::NotJson {
        what,
        reason: e.to_string(),
    })?;
    match value {
        serde_json::Value::Array(mut items) if items.len() == 1 => Ok(items.remove(0)),
        _ => Err(Error::NotOne { what }),
    }
}

/// How to call an engine: its program, the words that reach the host's
/// engine (`-H ssh://...`, none for this machine's), and how long a call
/// may take.
pub struct Caller<'a> {
    pub program: &'a str,
    pub remote: &'a [String],
    pub limit: Option<Duration>,
}

impl Caller<'_> {
    /// This machine's engine, without a time limit.
    pub fn local(program: &str) -> Caller<'_> {
        Caller {
            program,
            remote: &[],
            limit: None,
        }
    }
}

/// Run the engine; its output, or TimedOut once `limit` has passed (the
/// engine and what it started, ssh included, are killed as a group).
fn run(caller: &Caller, args: &[&str]) -> Result<Output, Error> {
    let mut command = Command::new(caller.program);
    command.args(caller.remote).args(args).stdin(Stdio::null());
    let cannot_run = |error| Error::CannotRun {
        program: caller.program.to_string(),
        error,
    };
    let Some(limit) = caller.limit else {
        return command.output().map_err(cannot_run);
    };
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut child = command.spawn().map_err(cannot_run)?;
    let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
    let out_reader = std::thread::spawn(move || read_all(stdout));
    let err_reader = std::thread::spawn(move || read_all(stderr));
    let group = rustix::process::Pid::from_child(&child);
    let kill_group = || {
        let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
    };
    let deadline = Instant::now() + limit;
    loop {
        // Exited, but left unreaped (NOWAIT): its pid, and so the group's
        // id, stays ours while what it started (ssh) is killed too; else a
        // straggler holding the pipes open would keep the readers waiting.
        let options = WaitIdOptions::EXITED | WaitIdOptions::NOHANG | WaitIdOptions::NOWAIT;
        let exited = rustix::process::waitid(WaitId::Pid(group), options)
            .map_err(|e| cannot_run(e.into()))?
            .is_some();
        if exited {
            kill_group();
            break;
        }
        if Instant::now() >= deadline {
            kill_group();
            let _ = child.wait();
            return Err(Error::TimedOut {
                program: caller.program.to_string(),
                seconds: limit.as_secs(),
            });
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = child.wait().map_err(cannot_run)?;
    Ok(Output {
        status,
        stdout: out_reader.join().unwrap_or_default(),
        stderr: err_reader.join().unwrap_or_default(),
    })
}

/// Everything a pipe gives until it closes.
fn read_all(pipe: Option<impl std::io::Read>) -> Vec<u8> {
    let mut bytes = Vec::new();
    if let Some(mut pipe) = pipe {
        let _ = pipe.read_to_end(&mut bytes);
    }
    bytes
}

/// One engine call's answer: its stdout, or None when the engine says the
/// object does not exist.
fn ask(caller: &Caller, args: &[&str], missing: &[&str]) -> Result<Option<String>, Error> {
    let program = caller.program;
    let out = run(caller, args)?;
    if out.status.success() {
        return String::from_utf8(out.stdout)
            .map(Some)
            .map_err(|_| Error::NotUtf8 {
                program: program.to_string(),
                args: args.join(" "),
            });
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lower = stderr.to_ascii_lowercase();
    if missing.iter().any(|m| lower.contains(m)) {
        return Ok(None);
    }
    let first = stderr
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("no message");
    Err(Error::Failed {
        program: program.to_string(),
        args: args.join(" "),
        first: first.trim().to_string(),
    })
}

const NO_CONTAINER: [&str; 3] = [
    "no such container",
    "no such object",
    "no container with name",
];
const NO_IMAGE: [&str; 3] = ["no such image", "image not known", "no such object"];

/// The container `name` as it runs, and the image its own reference
/// names now (what `node import` reads): None when there is none.
pub fn observe_running(
    caller: &Caller,
    kind: EngineKind,
    name: &str,
) -> Result<Option<Observed>, Error> {
    let Some(json) = ask(caller, &["container", "inspect", name], &NO_CONTAINER)? else {
        return Ok(None);
    };
    let reference = kind.container(&json)?.image_ref;
    query(caller, kind, name, &reference).map(Some)
}

/// Ask the engine (through `caller`, of kind `kind`) about container
/// `name` and the image `planned_image` names now.
fn query(
    caller: &Caller,
    kind: EngineKind,
    name: &str,
    planned_image: &str,
) -> Result<Observed, Error> {
    let program = caller;
    let container = ask(program, &["container", "inspect", name], &NO_CONTAINER)?
        .map(|json| kind.container(&json))
        .transpose()?;
    let image_of = |reference: &str| -> Result<Option<Image>, Error> {
        ask(program, &["image", "inspect", reference], &NO_IMAGE)?
            .map(|json| kind.image(&json))
            .transpose()
    };
    let planned = image_of(planned_image)?;
    let container_image = match &container {
        Some(c) if planned.as_ref().is_some_and(|p| p.id == c.image_id) => planned.clone(),
        Some(c) if !c.image_id.is_empty() => image_of(&c.image_id)?,
        _ => None,
    };
    Ok(Observed {
        container,
        container_image,
        planned_image: planned,
        engine: kind,
    })
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::CannotRun { error, .. } => Some(error),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inspect(state_key: &str, status: &str, codes: &[i64]) -> serde_json::Value {
        let log: Vec<serde_json::Value> = (codes.iter().enumerate())
            .map(|(i, code)| serde_json::json!({"Start": format!("t{i}"), "ExitCode": code}))
            .collect();
        serde_json::json!({
            "Config": {"Healthcheck": {"Test": ["CMD-SHELL", "/bin/calico-node -felix-ready"]}},
            "State": {state_key: {"Status": status, "FailingStreak": 2, "Log": log}},
        })
    }

    #[test]
    fn health_from_docker_and_older_podman() {
        let h = health_of(&inspect("Health", "unhealthy", &[0, 1, 0, 1, 1])).unwrap();
        assert_eq!(h.command, "/bin/calico-node -felix-ready");
        assert_eq!(h.status, HealthStatus::Unhealthy);
        assert_eq!(
            h.failing_since.as_deref(),
            Some("t3"),
            "the run of failures"
        );
        assert_eq!(h.failing_streak, 2);
        let older = health_of(&inspect("Healthcheck", "healthy", &[1, 0])).unwrap();
        assert_eq!(older.status, HealthStatus::Healthy);
        assert_eq!(older.failing_since, None, "the last check passed");
        let fresh = health_of(&inspect("Health", "starting", &[])).unwrap();
        assert_eq!(fresh.status, HealthStatus::Starting);
        let none = serde_json::json!({"Config": {}, "State": {}});
        assert_eq!(health_of(&none), None);
        let disabled = serde_json::json!({"Config": {"Healthcheck": {"Test": ["NONE"]}}});
        assert_eq!(health_of(&disabled), None);
    }
}
