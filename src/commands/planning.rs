//! Planning shared by `node run` and `node fleet`: the options that say
//! how to present a plan (format and engine, checked together), validation
//! and the plan in upstream's order (with `--pin-ip`'s detection), and the
//! Kubernetes datastore's warning. A fleet plans each host exactly as `node
//! run` plans one, by calling this module, never `node_run` itself.

use super::{ConfigLoader, Error, OptionError, interface_source};
use crate::cli::{self, NodeRunArgs};
use crate::emit;
use crate::ip::methods::{Resolver, SystemResolver};
use crate::ip::{detection, methods};
use crate::outdir::modes::ModesChoice;
use crate::plan;
use crate::release::Served;
use crate::release::health::Bird;
use crate::remote::EngineHost;
use crate::render::Engine;
use crate::terminal::ColorChoice;
use std::collections::HashMap;
use std::path::PathBuf;

/// The formats that are files (and so may go to `--out-dir`).
fn file_format_names() -> String {
    let names: Vec<&str> = emit::Format::ALL
        .into_iter()
        .filter(|f| f.writes_files())
        .map(emit::Format::name)
        .collect();
    names.join(", ")
}

/// What a `node run` does, decided once, from its options, here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Render the plan: a format, or a template of the user's.
    Render(Output),
    /// Compare the running container with the plan (`--check` alone).
    CheckLive,
    /// Start calico-node unless it already runs as planned.
    IfChanged,
    /// Start calico-node, as upstream does.
    Start,
}

/// What a rendering run renders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// `-o FORMAT` (`--dryrun` alone: upstream's message, `text`).
    Format(emit::Format),
    /// `--template FILE`.
    Template(String),
}

/// Where rendered files go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Stdout,
    /// `--out-dir DIR`: written there.
    OutDir(PathBuf),
    /// `--out-dir DIR --check`: compared with DIR, nothing written.
    CheckOutDir(PathBuf),
}

/// The options of this tool beyond upstream's, parsed once into what they
/// mean, and checked together.
#[derive(Debug, Clone)]
pub struct Presentation {
    pub mode: Mode,
    pub target: Target,
    pub engine: Engine,
    pub colour: ColorChoice,
    pub modes: ModesChoice,
    /// Where the engine `--check` asks runs (`--engine-host`).
    pub engine_host: EngineHost,
    /// How `--check` reports (`--report`).
    pub report: super::report::Report,
    /// calico/node's health checks, when the output carries them.
    pub health: Option<plan::HealthRequest>,
}

impl Presentation {
    /// The format rendered, if the run renders one.
    pub fn format(&self) -> Option<emit::Format> {
        match self.mode {
            Mode::Render(Output::Format(format)) => Some(format),
            _ => None,
        }
    }
}

/// The mode the options ask for (checked by [`presentation`] first).
fn mode_of(args: &NodeRunArgs, format: Option<emit::Format>) -> Mode {
    match (&args.template, format) {
        (Some(template), _) => Mode::Render(Output::Template(template.clone())),
        (None, Some(format)) => Mode::Render(Output::Format(format)),
        (None, None) if args.dryrun => Mode::Render(Output::Format(emit::Format::Text)),
        _ if args.check && args.out_dir.is_none() => Mode::CheckLive,
        _ if args.if_changed => Mode::IfChanged,
        _ => Mode::Start,
    }
}

fn target_of(args: &NodeRunArgs) -> Target {
    match &args.out_dir {
        None => Target::Stdout,
        Some(dir) if args.check => Target::CheckOutDir(PathBuf::from(dir)),
        Some(dir) => Target::OutDir(PathBuf::from(dir)),
    }
}

/// The options of this tool beyond upstream's, which say how to present
/// the plan: parsed and checked together, in the order their refusals
/// have always come.
pub fn presentation(args: &NodeRunArgs) -> Result<Presentation, Error> {
    let format = args
        .output
        .as_deref()
        .map(emit::Format::parse)
        .transpose()?;
    let engine = emit::engine(&args.runtime, args.runtime_path.as_deref())?;
    let colour = ColorChoice::parse(&args.color)?;
    let modes = ModesChoice::parse(&args.modes)?;
    let report = super::report::Report::parse(&args.report)?;
    let served = args.served;
    // The libnetwork plugin and its socket are docker's (up to v3.8):
    // podman has neither, and refuses to bind host paths that do not exist.
    if engine.kind == crate::engine::EngineKind::Podman
        && served.profile.libnetwork
        && !args.disable_docker_networking
    {
        return Err(OptionError::PodmanWithDockerNetworking.into());
    }
    if args.template.is_some() && format.is_some() {
        return Err(OptionError::TemplateWithOutput.into());
    }
    let writes_files = args.template.is_some() || format.is_some_and(emit::Format::writes_files);
    if args.out_dir.is_some() && !writes_files {
        return Err(OptionError::OutDirNeedsFiles(file_format_names()).into());
    }
    live_options(args, format)?;
    let mode = mode_of(args, format);
    let health = health_of(args, &mode, &served)?;
    let engine_host = match args.engine_host.as_deref() {
        None => EngineHost::Local,
        Some(text) => EngineHost::parse(text).map_err(OptionError::EngineHost)?,
    };
    Ok(Presentation {
        mode,
        target: target_of(args),
        engine,
        colour,
        modes,
        engine_host,
        report,
        health,
    })
}

/// Whether the output carries calico/node's health checks. This tool's
/// own formats and templates do, and so does a live check of a unit's
/// container (`--init-system`, as the unit was made), unless
/// `--no-health`; upstream's outputs (the dry-run text, `-o docker`, the
/// run path, and the launcher script, which does as the run path) only
/// with `--health`. A container's check is the release's
/// readiness command, which v3.1 has not (its manifest probes Felix over
/// HTTP): there only the DaemonSet carries its checks.
fn health_of(
    args: &NodeRunArgs,
    mode: &Mode,
    served: &Served,
) -> Result<Option<plan::HealthRequest>, OptionError> {
    use emit::Format;
    if args.health && args.no_health {
        return Err(OptionError::HealthAndNoHealth);
    }
    let ready_timeout = match args.ready_timeout.as_deref() {
        None => plan::DEFAULT_READY_TIMEOUT,
        Some(text) => ready_seconds(text)?,
    };
    let format = match mode {
        Mode::Render(Output::Format(format)) => Some(*format),
        _ => None,
    };
    let probes_only = format == Some(Format::Kubernetes);
    if probes_only && args.ready_timeout.is_some() {
        return Err(OptionError::ReadyTimeoutWithProbes);
    }
    let ours = match mode {
        Mode::Render(Output::Format(Format::Text | Format::Docker | Format::Script)) => false,
        Mode::Render(_) => true,
        Mode::CheckLive => args.init_system,
        Mode::IfChanged | Mode::Start => false,
    };
    let has_command = served.probes().readiness.command(Bird::Runs).is_some();
    let wanted = match (args.health, args.no_health) {
        (_, true) => false,
        (true, _) if !(has_command || probes_only) => {
            return Err(OptionError::HealthWithoutCommand(
                served.asked.map_or_else(String::new, |r| r.to_string()),
            ));
        }
        (true, _) => true,
        (false, false) => ours && (has_command || probes_only),
    };
    if !wanted && args.ready_timeout.is_some() {
        return Err(OptionError::ReadyTimeoutWithoutChecks);
    }
    Ok(wanted.then_some(plan::HealthRequest { ready_timeout }))
}

/// `--ready-timeout`: whole seconds, from 1 to a day.
fn ready_seconds(text: &str) -> Result<u32, OptionError> {
    let plain = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    plain
        .then(|| text.parse::<u32>().ok())
        .flatten()
        .filter(|s| (1..=86_400).contains(s))
        .ok_or_else(|| OptionError::ReadyTimeout(text.to_string()))
}

/// `--check` without `--out-dir` and `--if-changed` ask the engine about
/// the running container: neither goes with a dry run or a format.
fn live_options(args: &NodeRunArgs, format: Option<emit::Format>) -> Result<(), OptionError> {
    let printing = args.dryrun || format.is_some() || args.template.is_some();
    if args.check && args.out_dir.is_none() && printing {
        return Err(OptionError::LiveCheckWhilePrinting);
    }
    if args.if_changed && args.check {
        return Err(OptionError::IfChangedWithCheck);
    }
    if args.if_changed && printing {
        return Err(OptionError::IfChangedWhilePrinting);
    }
    if args.if_changed && args.init_system {
        return Err(OptionError::IfChangedWithInitSystem);
    }
    Ok(())
}

/// Validation and the plan, as upstream orders them, at the release
/// `--calico-version` names (its lines in its case).
pub fn plan_for(
    args: &NodeRunArgs,
    env: &HashMap<String, String>,
    configs: &mut ConfigLoader,
    hostname: Option<&str>,
    resolver: &dyn Resolver,
    health: Option<plan::HealthRequest>,
) -> Result<plan::Plan, Error> {
    let served = args.served;
    plan_at(&served, args, env, configs, hostname, resolver, health)
        .map_err(|e| e.in_release(served.profile))
}

fn plan_at(
    served: &Served,
    args: &NodeRunArgs,
    env: &HashMap<String, String>,
    configs: &mut ConfigLoader,
    hostname: Option<&str>,
    resolver: &dyn Resolver,
    health: Option<plan::HealthRequest>,
) -> Result<plan::Plan, Error> {
    let mut checked = plan::check_options(args, served.profile, resolver)?;
    let node_name = plan::node_name(args, hostname)?;
    let spec = configs.load(args.config.as_deref())?;
    if args.pin_ip {
        pin_addresses(args, &mut checked, env)?;
    }
    Ok(plan::build(
        args,
        served,
        &checked,
        &node_name,
        &spec,
        &by_name_values(args, env),
        health,
    )?)
}

/// The environment `--env NAME` reads its values from: this process's
/// variables of those names (only configuration variables are kept in
/// `env`), each only when valid UTF-8.
fn by_name_values<'e>(
    args: &NodeRunArgs,
    env: &'e HashMap<String, String>,
) -> std::borrow::Cow<'e, HashMap<String, String>> {
    let names: Vec<&String> = args.env.iter().filter(|w| !w.contains('=')).collect();
    if names.is_empty() {
        return std::borrow::Cow::Borrowed(env);
    }
    let mut all = env.clone();
    for name in names {
        if let Some(value) = std::env::var_os(name).and_then(|v| v.into_string().ok()) {
            all.insert(name.clone(), value);
        }
    }
    std::borrow::Cow::Owned(all)
}

/// The warning for options the Kubernetes datastore ignores, if any.
pub fn ignored_warning(plan: &plan::Plan) -> Option<String> {
    (!plan.ignored_options.is_empty()).then(|| {
        format!(
            "WARNING: calico/node ignores {} with the kubernetes datastore.",
            plan.ignored_options.join(", ")
        )
    })
}

/// `--pin-ip`: detect now what calico/node would, and pass the result as
/// `IP`/`IP6` instead of the autodetection method.
fn pin_addresses(
    args: &cli::NodeRunArgs,
    checked: &mut plan::CheckedOptions,
    env: &HashMap<String, String>,
) -> Result<(), Error> {
    use methods::{Family, Method};
    let wants = |v: &Option<String>, absent_counts: bool| match v.as_deref() {
        None | Some("") => absent_counts,
        Some(v) => v == "autodetect",
    };
    let families = [
        (
            Family::V4,
            wants(&args.ip, true),
            &args.ip_autodetection_method,
        ),
        (
            Family::V6,
            wants(&args.ip6, false),
            &args.ip6_autodetection_method,
        ),
    ];
    if !families.iter().any(|(_, wanted, _)| *wanted) {
        return Ok(());
    }
    let (table, reach) = interface_source(env)?;
    for (family, wanted, method_text) in families {
        if !wanted {
            continue;
        }
        let (method, slot, origin) = match family {
            Family::V4 => (
                &mut checked.ipv4_method,
                &mut checked.ip,
                &mut checked.ip_origin,
            ),
            Family::V6 => (
                &mut checked.ipv6_method,
                &mut checked.ip6,
                &mut checked.ip6_origin,
            ),
        };
        let found = detection::detect(&table, method, family, &SystemResolver, reach.as_ref())
            .result
            .map_err(|failure| Error::Pin { family, failure })?;
        errln!(
            "Pinned IPv{} {} (on {}, by {method_text}).",
            family.number(),
            found.cidr,
            found.interface
        );
        *slot = Some(found.cidr);
        *method = Method::FirstFound;
        *origin = plan::Origin::Flag("--pin-ip");
    }
    Ok(())
}
