//! `calicoctl node run`: validate the options and the datastore
//! configuration, build the plan, then print or write what `-o` asks for,
//! or start the container as upstream does.

use super::planning::{
    Mode, Output, Presentation, Target, ignored_warning, plan_for, presentation,
};
use super::report::{self, Report};
use super::{ConfigLoader, Error, environment, host_name};
use crate::cli;
use crate::ip::methods::SystemResolver;
use crate::render::Engine;
use crate::{emit, live, outdir, plan, start};
use std::collections::HashMap;

pub fn main(all_args: &[String], words: &[String]) -> Result<u8, Error> {
    let Some(args) = super::options_or_help(cli::parse_node_run(all_args, words)?) else {
        return Ok(0);
    };
    if let Some(format) = &args.template_source {
        out!("{}", emit::Format::parse(format)?.template_source()?);
        return Ok(0);
    }
    let env = environment();
    let presented = presentation(&args)?;
    let engine = &presented.engine;
    // The start path runs this machine's engine: another host's would be
    // compared, and then the container started here. (A fleet's hosts take
    // engine-host for its live check; their files never start anything.)
    let starts = matches!(presented.mode, Mode::IfChanged | Mode::Start);
    if starts && presented.engine_host != crate::remote::EngineHost::Local {
        return Err(super::OptionError::EngineHostStarts.into());
    }
    let served = args.served;
    if let Some(warning) = served.newer_than_known() {
        errln!("{warning}");
    }
    let hostname = host_name(&env);
    let mut configs = ConfigLoader::new(&env);
    let plan = plan_for(
        &args,
        &env,
        &mut configs,
        hostname.as_deref(),
        &SystemResolver,
        presented.health,
    )?;
    if let Some(warning) = ignored_warning(&plan) {
        errln!("{warning}");
    }

    let artifacts = match &presented.mode {
        Mode::Render(Output::Template(template)) => {
            let source = read_template(template)?;
            vec![emit::emit_template(template, &source, &plan, engine)?]
        }
        Mode::Render(Output::Format(format)) => {
            emit::emit(*format, &plan, engine, &super::InputFiles)?
        }
        Mode::CheckLive => return live_check(&plan, &presented),
        Mode::IfChanged | Mode::Start => {
            let settings = start::RunSettings::from_env(|name| env.get(name).cloned())?;
            if presented.mode == Mode::IfChanged && leave_alone(&plan, engine)? {
                return Ok(0);
            }
            let status = start::run(&plan, engine, &settings, served.profile)
                .map_err(|e| Error::from(e).in_release(served.profile))?;
            return Ok(u8::try_from(status).unwrap_or(1));
        }
    };
    let status = deliver(&presented, &artifacts, &env)?;
    // Once what was asked for is done: a refusal stays one line.
    if let Some(note) = configs.environment_note() {
        errln!("{note}");
    }
    Ok(status)
}

/// The text of the user's template at `path`, read as an input file.
fn read_template(path: &str) -> Result<String, Error> {
    let unreadable = |source: std::io::Error| emit::EmitError::TemplateUnreadable {
        path: path.to_string(),
        source,
    };
    let text = crate::input::read_text(std::path::Path::new(path))
        .map_err(|e| unreadable(e.into()))?
        .ok_or_else(|| {
            unreadable(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "stream did not contain valid UTF-8",
            ))
        })?;
    Ok(text)
}

/// The running container's differences from the plan (this machine's
/// engine).
fn live_differences(
    plan: &plan::Plan,
    engine: &Engine,
) -> Result<live::compare::Comparison, live::Error> {
    live::compare_with(&live::Caller::local(&engine.command), engine.kind, plan)
}

/// Why the engine was not asked, or gave no usable answer.
enum Unasked {
    Address(crate::remote::AddressError),
    Engine(live::Error),
}

impl Unasked {
    /// The reason, as a report's unreachable host gives it.
    fn reason(&self) -> String {
        match self {
            Unasked::Address(e) => e.to_string(),
            Unasked::Engine(e) => e.reason(),
        }
    }
}

impl From<Unasked> for Error {
    fn from(unasked: Unasked) -> Error {
        match unasked {
            Unasked::Address(e) => super::OptionError::EngineHost(e).into(),
            Unasked::Engine(e) => e.into(),
        }
    }
}

/// The running container against the plan, through the engine
/// `--engine-host` names.
fn ask_engine(plan: &plan::Plan, presented: &Presentation) -> Result<live::Outcome, Unasked> {
    let engine = &presented.engine;
    let remote = (presented.engine_host.engine_words(engine.kind)).map_err(Unasked::Address)?;
    let caller = live::Caller {
        program: &engine.command,
        remote: &remote,
        limit: None,
    };
    let comparison = live::compare_with(&caller, engine.kind, plan).map_err(Unasked::Engine)?;
    Ok(live::Outcome::of(&comparison))
}

/// `--check` without `--out-dir`: each difference on stdout; 0 when the
/// container runs as planned, 2 when not. The engine may be another
/// host's (`--engine-host`).
fn live_check(plan: &plan::Plan, presented: &Presentation) -> Result<u8, Error> {
    // In text, an engine that cannot be asked fails the run, as ever; in
    // JSON it is the document's unreachable host.
    let outcome = match ask_engine(plan, presented) {
        Ok(outcome) => outcome,
        Err(e) if presented.report == Report::Text => return Err(e.into()),
        Err(e) => live::Outcome::Unreachable(e.reason()),
    };
    let checked = [report::Checked {
        host: &plan.node_name,
        container: &plan.container_name,
        outcome: &outcome,
    }];
    Ok(report::live(
        &checked,
        presented.report,
        report::Prefix::None,
    ))
}

/// `--if-changed`: whether the container runs as planned (then it is left
/// alone); otherwise say why it is replaced. Root is checked first, as the
/// run path does.
fn leave_alone(plan: &plan::Plan, engine: &Engine) -> Result<bool, Error> {
    start::require_root()?;
    let comparison = live_differences(plan, engine)?;
    let verb = match comparison {
        live::compare::Comparison::Absent { .. } => "Starting",
        live::compare::Comparison::Present { .. } => "Replacing",
    };
    // A health check that has not passed yet is a container still
    // starting: left to become ready, not replaced.
    let differences: Vec<String> = (comparison.differences().iter())
        .filter(|d| d.replaces())
        .map(|d| d.to_string())
        .collect();
    let Some(first) = differences.first() else {
        outln!("{} is running as planned; left alone.", plan.container_name);
        return Ok(true);
    };
    let more = match differences.len() - 1 {
        0 => String::new(),
        1 => " (and 1 more difference)".to_string(),
        n => format!(" (and {n} more differences)"),
    };
    let first = crate::escape::visible(first);
    outln!("{verb} {}: {first}{more}.", plan.container_name);
    Ok(false)
}

/// Print the files, write them into `--out-dir`, or compare (`--check`),
/// holding the out dir's lock.
fn deliver(
    presented: &Presentation,
    artifacts: &[emit::Artifact],
    env: &HashMap<String, String>,
) -> Result<u8, Error> {
    let (dir, check) = match &presented.target {
        Target::Stdout => {
            out!("{}", emit::stdout_text(artifacts));
            return Ok(0);
        }
        Target::OutDir(dir) => (dir.as_path(), false),
        Target::CheckOutDir(dir) => (dir.as_path(), true),
    };
    let format = presented.format();
    outdir::refuse_reserved(artifacts)?;
    let settings = outdir::Settings::from_env(|name| env.get(name).cloned())?;
    let placed = outdir::placed_in(dir, None, artifacts);
    let optional = format.map_or(&[][..], emit::Format::optional_files);
    let gone = outdir::gone(dir, None, optional, artifacts);
    let scan = outdir::temporaries::Scan::Root;
    if check {
        let opened = settings.lock_for_check(dir)?;
        let tree = opened.as_ref().map(|(tree, _lock)| tree);
        let stale = outdir::temporaries::find(tree, scan)?;
        let colour = presented.colour.for_stdout();
        let modes = presented.modes.for_dir(dir);
        let mut drift = outdir::check::check(&placed, tree, &[], &stale, modes)?;
        drift.gone(&gone, tree)?;
        return Ok(match presented.report {
            Report::Text => drift.print(dir, colour),
            Report::Json => drift.print_json(dir),
        });
    }
    let (tree, _lock) = settings.lock_for_write(dir)?;
    let mut writer = outdir::write::Writer::begin(&tree, scan, settings.pause)?;
    writer.add(&placed, &|| {})?;
    writer.remove(&gone)?;
    let report = writer.commit(&|| {})?;
    outdir::report_stale(report.stale_removed);
    for path in &report.written {
        errln!("Wrote {}", path.display());
    }
    for path in &report.unchanged {
        errln!("Unchanged {}", path.display());
    }
    for path in &report.removed {
        errln!("Removed {} (no longer generated)", path.display());
    }
    Ok(0)
}
