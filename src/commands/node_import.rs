//! `calicoctl node import`: the `node run` options of a calico/node set up
//! by hand. The source (a running container, a unit and its env files, or
//! one command line on stdin) is read into one `docker run`
//! (`crate::import`), its options derived, and then those options are
//! planned exactly as `node run --check` plans them and the plan compared
//! with what was read, by the live check's own comparison: so a line
//! printed with exit 0 is one whose `--check` matches, and everything
//! else is said, one line each.

use super::planning::{plan_for, presentation};
use super::{ConfigLoader, Error, environment, host_name, options_or_help};
use crate::cli::{self, ImportArgs, Parsed};
use crate::engine::EngineKind;
use crate::import::{self, Derived, RunSpec, Unmapped, words};
use crate::ip::methods::SystemResolver;
use crate::live::{self, Observed};
use crate::remote::EngineHost;
use std::collections::HashMap;
use std::io::Read;

/// Why the source could not be read (exit 1).
#[derive(Debug)]
pub enum ImportError {
    /// More than one of `--container`, `--unit` and `--command`.
    Sources,
    /// `--command` with another value than `-`.
    CommandNotStdin(String),
    EnvFileWithoutUnit,
    Read {
        path: String,
        error: crate::input::InputError,
    },
    /// Standard input larger than the input cap.
    StdinTooLarge,
    StdinUnreadable(std::io::Error),
    NotUtf8(String),
    Words(words::WordsError),
    Spec(import::SpecError),
    NoExecStart(String),
    /// `--command`: no line, or several, that run a container.
    RunLines(usize),
    NoContainer(String),
}

impl std::fmt::Display for ImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        use crate::error::executing;
        let line = match self {
            ImportError::Sources => {
                "give one of --container, --unit and --command: each is a whole source".into()
            }
            ImportError::CommandNotStdin(v) => {
                format!("--command takes '-' (the line on stdin), not '{v}'")
            }
            ImportError::EnvFileWithoutUnit => "--env-file goes with --unit".into(),
            ImportError::Read { path, error } => format!("cannot read {path}: {error}"),
            ImportError::StdinTooLarge => {
                format!("stdin is larger than {} MiB", crate::input::MAX_INPUT >> 20)
            }
            ImportError::StdinUnreadable(e) => format!("stdin: {e}"),
            ImportError::NotUtf8(what) => format!("{what} is not UTF-8 text"),
            ImportError::Words(e) => e.to_string(),
            ImportError::Spec(e) => e.to_string(),
            ImportError::NoExecStart(path) => {
                format!("{path} has no ExecStart= in its [Service] section")
            }
            ImportError::RunLines(0) => "no docker run or podman run line on stdin".into(),
            ImportError::RunLines(n) => {
                format!("{n} docker run or podman run lines on stdin: give one")
            }
            ImportError::NoContainer(name) => format!("no container named {name}"),
        };
        executing(f, format_args!("{}", crate::escape::visible(&line)))
    }
}

impl std::error::Error for ImportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ImportError::Read { error, .. } => Some(error),
            ImportError::StdinUnreadable(e) => Some(e),
            _ => None,
        }
    }
}

impl From<ImportError> for Error {
    fn from(e: ImportError) -> Error {
        Error::Import(e)
    }
}

pub fn main(all_args: &[String], words: &[String]) -> Result<u8, Error> {
    let Some(args) = options_or_help(cli::parse::<ImportArgs>(all_args, words, cli::IMPORT_HELP)?)
    else {
        return Ok(0);
    };
    let (spec, observed) = read(&args)?;
    let extra = extra_options(&args, &spec);
    let (derived, plan) = derive_checked(&spec, observed, &extra)?;
    match args.as_inventory {
        true => out!("{}", inventory_entry(&plan, &derived)),
        false => outln!("{}", command_line(&derived)),
    }
    Ok(report(&derived))
}

/// The options beside what was read: the engine a container was read from
/// (a line says its own), and the configuration named.
fn extra_options(args: &ImportArgs, spec: &RunSpec) -> Vec<String> {
    let mut words = Vec::new();
    if spec.engine.is_none() {
        let kind = EngineKind::parse(&args.runtime).unwrap_or(EngineKind::Docker);
        if kind != EngineKind::Docker {
            words.push(format!("--runtime={}", kind.name()));
        }
        if let Some(path) = &args.runtime_path {
            words.push(format!("--runtime-path={path}"));
        }
    }
    words.extend(args.config.iter().map(|c| format!("--config={c}")));
    words
}

/// The options of `spec` (with `extra`, such as `--config`), and what
/// they cannot say: their plan, made as `node run --check` makes it,
/// compared with what was read (`observed`: the engine's report, when the
/// source was a running container) by the live check's own comparison.
pub fn derive_checked(
    spec: &RunSpec,
    observed: Option<Observed>,
    extra: &[String],
) -> Result<(Derived, crate::plan::Plan), Error> {
    let mut derived = import::derive(spec);
    derived.options.extend(extra.iter().cloned());
    let plan = plan_of(&derived.options_to_plan())?;
    let observed = observed.unwrap_or_else(|| as_observed(spec, &plan));
    let differences = live::compare::compare(&plan, &observed).differences();
    let explained: Vec<String> = (derived.unmapped.iter())
        .filter_map(|u| u.variable().map(str::to_string))
        .collect();
    let said = |d: &live::compare::Difference| {
        d.variable()
            .is_some_and(|v| explained.iter().any(|e| e == v))
    };
    derived.unmapped.extend(
        (differences.iter())
            .filter(|d| d.replaces() && !said(d))
            .map(|d| Unmapped::Differs(d.to_string())),
    );
    Ok((derived, plan))
}

/// The options as one shell-quoted `calicoctl node run` line.
fn command_line(derived: &Derived) -> String {
    let words = ["calicoctl", "node", "run"].into_iter().map(String::from);
    let line: Vec<String> = (words.chain(derived.options.iter().cloned()))
        .map(|w| crate::escape::shell_word(&w).into_owned())
        .collect();
    line.join(" ")
}

/// The options as a native inventory's host, keyed by the node's name
/// (`host` where the name is not a host name an inventory takes).
fn inventory_entry(plan: &crate::plan::Plan, derived: &Derived) -> String {
    let name = &plan.node_name;
    let key = match crate::inventory::check_host_name(name) {
        Ok(()) => name.as_str(),
        Err(_) => "host",
    };
    import::inventory_entry(key, &derived.options)
}

/// On stderr what the output cannot say; the exit status.
fn report(derived: &Derived) -> u8 {
    if !derived.configuration.is_empty() {
        errln!(
            "From the datastore configuration (-c), not options: {} (credentials among them are not shown).",
            derived.configuration.join(", ")
        );
    }
    for name in &derived.by_name {
        errln!(
            "{name}: passed by name (--env {name}): export it where node run runs; its value is not shown."
        );
    }
    for item in &derived.unmapped {
        errln!("{}", crate::escape::visible(&item.to_string()));
    }
    match derived.unmapped.is_empty() {
        true => 0,
        false => 2,
    }
}

/// The source's `docker run`, and the engine's report where it was a
/// running container.
fn read(args: &ImportArgs) -> Result<(RunSpec, Option<Observed>), Error> {
    let given = [
        args.unit.is_some(),
        args.command.is_some(),
        args.container.is_some(),
    ];
    if given.iter().filter(|g| **g).count() > 1 {
        return Err(ImportError::Sources.into());
    }
    if !args.env_file.is_empty() && args.unit.is_none() {
        return Err(ImportError::EnvFileWithoutUnit.into());
    }
    if let Some(path) = &args.unit {
        return Ok((read_unit(path, &args.env_file)?, None));
    }
    if let Some(value) = &args.command {
        if value != "-" {
            return Err(ImportError::CommandNotStdin(value.clone()).into());
        }
        return Ok((read_command()?, None));
    }
    let name = args.container.as_deref().unwrap_or("calico-node");
    let observed = read_container(args, name)?;
    let spec = RunSpec::from_observed(&observed)
        .ok_or_else(|| ImportError::NoContainer(name.to_string()))?;
    Ok((spec, Some(observed)))
}

fn read_container(args: &ImportArgs, name: &str) -> Result<Observed, Error> {
    let engine = crate::emit::engine(&args.runtime, args.runtime_path.as_deref())?;
    let host = match args.engine_host.as_deref() {
        None => EngineHost::Local,
        Some(text) => EngineHost::parse(text).map_err(super::OptionError::EngineHost)?,
    };
    let remote = (host.engine_words(engine.kind)).map_err(super::OptionError::EngineHost)?;
    let caller = live::Caller {
        program: &engine.command,
        remote: &remote,
        limit: None,
    };
    live::observe_running(&caller, engine.kind, name)
        .map_err(Error::Live)?
        .ok_or_else(|| ImportError::NoContainer(name.to_string()).into())
}

/// A file's text, read by the rules of every input file.
fn text_of(path: &str) -> Result<String, ImportError> {
    let bytes =
        crate::input::read(std::path::Path::new(path)).map_err(|error| ImportError::Read {
            path: path.to_string(),
            error,
        })?;
    String::from_utf8(bytes).map_err(|_| ImportError::NotUtf8(path.to_string()))
}

/// A unit's `[Service]` `ExecStart=` (the last one) and its `Environment=`
/// assignments, continuation lines joined.
fn service_of(text: &str) -> (Option<String>, Vec<String>) {
    let mut section = String::new();
    let mut exec = None;
    let mut environment = Vec::new();
    let joined = text.replace("\\\n", " ");
    for line in joined.lines().map(str::trim) {
        if line.starts_with('[') {
            section = line.to_string();
            continue;
        }
        if section != "[Service]" {
            continue;
        }
        match line.split_once('=') {
            Some(("ExecStart", "")) => exec = None,
            Some(("ExecStart", value)) => exec = Some(value.to_string()),
            Some(("Environment", value)) => environment.push(value.to_string()),
            _ => {}
        }
    }
    (exec, environment)
}

/// `--unit FILE [--env-file FILE ...]`: the unit's `docker run`, its words
/// expanded as systemd expands them from the unit's environment, and the
/// variables passed by name given their values from it.
fn read_unit(path: &str, env_files: &[String]) -> Result<RunSpec, Error> {
    let text = text_of(path)?;
    let (exec, assignments) = service_of(&text);
    let mut env: HashMap<String, String> = HashMap::new();
    for value in &assignments {
        let assigned = words::systemd_words(value, &env).map_err(ImportError::Words)?;
        for word in assigned {
            if let Some((k, v)) = word.split_once('=') {
                env.insert(k.to_string(), v.to_string());
            }
        }
    }
    for file in env_files {
        env.extend(words::env_file(&text_of(file)?));
    }
    let exec = exec.ok_or_else(|| ImportError::NoExecStart(path.to_string()))?;
    let exec = exec.trim_start_matches(['-', '@', ':', '+', '!']);
    let words = words::systemd_words(exec, &env).map_err(ImportError::Words)?;
    let mut spec = RunSpec::from_words(&words).map_err(ImportError::Spec)?;
    for (name, value) in &mut spec.env {
        if value.is_none() {
            *value = env.get(name).cloned();
        }
    }
    Ok(spec)
}

/// `--command -`: the one line on stdin that runs a container (an old
/// calicoctl's `--dryrun` message says more around it).
fn read_command() -> Result<RunSpec, Error> {
    let mut bytes = Vec::new();
    let cap = crate::input::MAX_INPUT;
    (std::io::stdin().lock().take(cap + 1))
        .read_to_end(&mut bytes)
        .map_err(ImportError::StdinUnreadable)?;
    if bytes.len() as u64 > cap {
        return Err(ImportError::StdinTooLarge.into());
    }
    let text = String::from_utf8(bytes).map_err(|_| ImportError::NotUtf8("stdin".into()))?;
    let joined = text.replace("\\\n", " ");
    let runs: Vec<&str> = joined.lines().filter(|l| runs_a_container(l)).collect();
    let [line] = runs[..] else {
        return Err(ImportError::RunLines(runs.len()).into());
    };
    let words = words::shell_words(line).map_err(ImportError::Words)?;
    Ok(RunSpec::from_words(&words).map_err(ImportError::Spec)?)
}

fn runs_a_container(line: &str) -> bool {
    let mut words = line.split_whitespace();
    let engine = words.next().map(|w| w.rsplit('/').next().unwrap_or(w));
    matches!(engine, Some("docker" | "podman")) && words.next() == Some("run")
}

/// The plan of `options`, as `node run OPTIONS --check` makes it.
fn plan_of(options: &[String]) -> Result<crate::plan::Plan, Error> {
    let mut words = options.to_vec();
    words.push("--check".into());
    let all: Vec<String> = ["node".to_string(), "run".to_string()]
        .into_iter()
        .chain(words.iter().cloned())
        .collect();
    let Parsed::Run(args) = cli::parse_node_run(&all, &words)? else {
        unreachable!("node run's words without --help");
    };
    let presented = presentation(&args)?;
    let env = environment();
    let hostname = host_name(&env);
    let mut configs = ConfigLoader::new(&env);
    plan_for(
        &args,
        &env,
        &mut configs,
        hostname.as_deref(),
        &SystemResolver,
        presented.health,
    )
}

/// What was read, as the live check's comparison takes a container: the
/// image as the plan names it now (nothing to ask an engine), a variable
/// passed by name whose value was not read taken as the plan's secret.
fn as_observed(spec: &RunSpec, plan: &crate::plan::Plan) -> Observed {
    let secret = |name: &str| plan.secrets().find(|v| v.name == name);
    // A variable passed by name with no value read, and no plan's secret
    // of that name, is one the printed `--env NAME` passes alike: left out
    // of both sides.
    let env = (spec.env.iter())
        .filter_map(|(k, v)| match v {
            Some(v) => Some((k.clone(), v.clone())),
            None => secret(k).map(|s| (k.clone(), s.value.clone())),
        })
        .collect();
    let id = "read, not asked".to_string();
    let container = live::Container {
        name: spec.name.clone().unwrap_or_default(),
        image_ref: spec.image.clone(),
        image_id: id.clone(),
        env,
        binds: spec.binds.clone(),
        privileged: spec.privileged,
        network_mode: spec.network.clone().unwrap_or_else(|| "default".into()),
        restart_policy: spec.restart.clone().unwrap_or_else(|| "no".into()),
        auto_remove: spec.auto_remove,
        running: true,
        status: "running".into(),
        exit_code: 0,
        finished_at: String::new(),
        health: spec.health_cmd.clone().map(|command| live::Health {
            command,
            status: live::HealthStatus::Healthy,
            failing_streak: 0,
            failing_since: None,
        }),
        entrypoint: Vec::new(),
        cmd: Vec::new(),
    };
    Observed {
        container: Some(container),
        container_image: None,
        planned_image: Some(live::Image {
            id,
            ..Default::default()
        }),
        engine: spec
            .engine
            .as_ref()
            .map_or(EngineKind::Docker, |(kind, _)| *kind),
    }
}
