//! `calicoctl`: a drop-in for `calicoctl node run` that generates the exact
//! command (and, from there, launcher artifacts) for Calico's node container.
//!
//! Data flows one way: command line -> plan -> rendered text -> stdout or exec.

mod autodetect;
mod cli;
mod config;
mod emit;
mod escape;
mod plan;
mod render;
mod run;

use autodetect::SystemResolver;
use cli::Parsed;
use std::collections::HashMap;
use std::ffi::OsString;
use std::process::ExitCode;

/// A failure to report: one line (or block) to stderr and an exit status.
struct Failure {
    message: String,
    status: u8,
}

impl From<String> for Failure {
    fn from(message: String) -> Self {
        Failure { message, status: 1 }
    }
}

/// The environment, as valid UTF-8 pairs (others cannot be configuration).
fn environment() -> HashMap<String, String> {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect()
}

/// The host name, lower-cased and trimmed later; `CALICOCTL_HOSTNAME`
/// stands in for it in tests.
fn host_name(env: &HashMap<String, String>) -> Option<String> {
    if let Some(h) = env.get("CALICOCTL_HOSTNAME") {
        return Some(h.clone());
    }
    std::fs::read_to_string("/proc/sys/kernel/hostname").ok()
}

fn node_run(all_args: &[String], words: &[String]) -> Result<u8, Failure> {
    let args = match cli::parse_node_run(all_args, words)? {
        Parsed::Help(text) => {
            print!("{text}");
            return Ok(0);
        }
        Parsed::Run(args) => args,
    };
    let env = environment();

    // Options of this tool, beyond upstream's: how to present the plan.
    let format = args
        .output
        .as_deref()
        .map(emit::Format::parse)
        .transpose()?;
    let engine = emit::engine(&args.runtime, args.runtime_path.as_deref())?;
    if args.template.is_some() && format.is_some() {
        return Err(
            "Error executing command: --template and --output cannot be used together"
                .to_string()
                .into(),
        );
    }
    let writes_files = args.template.is_some() || format.is_some_and(emit::Format::writes_files);
    if args.out_dir.is_some() && !writes_files {
        return Err(format!(
            "Error executing command: --out-dir needs --template or an --output that writes files ({})",
            "systemd, systemd-envfile, env, script, json, compose"
        )
        .into());
    }

    let checked = plan::check_options(&args, &SystemResolver)?;
    let node_name = plan::node_name(&args, host_name(&env).as_deref())?;
    let default_config = env
        .get("CALICOCTL_DEFAULT_CONFIG")
        .map_or(cli::DEFAULT_CONFIG_PATH, String::as_str);
    let spec =
        config::load(args.config.as_deref(), default_config, &env).map_err(|e| e.message())?;
    let plan = plan::build(&args, &checked, &node_name, &spec)?;

    if !plan.ignored_options.is_empty() {
        eprintln!(
            "WARNING: calico/node ignores {} with the kubernetes datastore.",
            plan.ignored_options.join(", ")
        );
    }

    let artifacts = if let Some(template) = &args.template {
        vec![emit::emit_template(template, &plan, &engine)?]
    } else if let Some(format) = format {
        emit::emit(format, &plan, &engine)?
    } else if args.dryrun {
        emit::emit(emit::Format::Text, &plan, &engine)?
    } else {
        let settings = run::RunSettings::from_env(|name| env.get(name).cloned())?;
        let status = run::run(&plan, &engine, &settings)?;
        return Ok(u8::try_from(status).unwrap_or(1));
    };

    match &args.out_dir {
        Some(dir) => {
            for path in emit::write_artifacts(std::path::Path::new(dir), &artifacts)? {
                eprintln!("Wrote {}", path.display());
            }
        }
        None => print!("{}", emit::stdout_text(&artifacts)),
    }
    Ok(0)
}

fn dispatch(all_args: &[String]) -> Result<u8, Failure> {
    match all_args {
        [node, run, words @ ..] if node == "node" && run == "run" => node_run(all_args, words),
        _ => Err(Failure::from(format!(
            "Invalid option: 'calicoctl {}'. Use flag '--help' to read about a specific subcommand.",
            all_args.join(" ")
        ))),
    }
}

fn main() -> ExitCode {
    let raw: Vec<OsString> = std::env::args_os().skip(1).collect();
    let result = match raw
        .into_iter()
        .map(OsString::into_string)
        .collect::<Result<Vec<_>, _>>()
    {
        Ok(args) => dispatch(&args),
        Err(_) => Err(Failure::from(
            "Error executing command: arguments must be valid UTF-8".to_string(),
        )),
    };
    match result {
        Ok(status) => ExitCode::from(status),
        Err(f) => {
            eprintln!("{}", f.message);
            ExitCode::from(f.status)
        }
    }
}
