//! `calicoctl`: a drop-in for `calicoctl node run` that generates the exact
//! command (and, from there, launcher artifacts) for Calico's node container.
//!
//! Data flows one way: command line -> plan -> rendered text -> stdout or exec.

mod autodetect;
mod cli;
mod config;
mod detect;
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

fn node_run(all_args: &[String], words: &[String]) -> Result<u8, String> {
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
    // The libnetwork plugin and its socket are docker's: podman has neither,
    // and refuses to bind host paths that do not exist.
    if engine.name == "podman" && !args.disable_docker_networking {
        return Err("Error executing command: --runtime podman needs --disable-docker-networking (the libnetwork plugin and /var/run/docker.sock are docker's)".to_string());
    }
    if args.template.is_some() && format.is_some() {
        return Err(
            "Error executing command: --template and --output cannot be used together".to_string(),
        );
    }
    let writes_files = args.template.is_some() || format.is_some_and(emit::Format::writes_files);
    if args.out_dir.is_some() && !writes_files {
        return Err("Error executing command: --out-dir needs --template or an --output that writes files (systemd, systemd-envfile, env, script, json, compose)".to_string());
    }

    let mut checked = plan::check_options(&args, &SystemResolver)?;
    let node_name = plan::node_name(&args, host_name(&env).as_deref())?;
    let default_config = env
        .get("CALICOCTL_DEFAULT_CONFIG")
        .map_or(cli::DEFAULT_CONFIG_PATH, String::as_str);
    let spec =
        config::load(args.config.as_deref(), default_config, &env).map_err(|e| e.message())?;
    if args.pin_ip {
        pin_addresses(&args, &mut checked, &env)?;
    }
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

/// The interfaces to detect on: the fixture named by `CALICOCTL_INTERFACES`
/// (for tests), or the live system.
fn interface_source(
    env: &HashMap<String, String>,
) -> Result<(Vec<detect::Interface>, Box<dyn detect::Reach>), String> {
    match env.get("CALICOCTL_INTERFACES") {
        Some(path) => {
            let fixture = detect::Fixture::load(path)?;
            Ok((fixture.interfaces.clone(), Box::new(fixture)))
        }
        None => Ok((detect::live_interfaces()?, Box::new(detect::KernelReach))),
    }
}

/// `--pin-ip`: detect now what calico/node would, and pass the result as
/// `IP`/`IP6` instead of the autodetection method.
fn pin_addresses(
    args: &cli::NodeRunArgs,
    checked: &mut plan::CheckedOptions,
    env: &HashMap<String, String>,
) -> Result<(), String> {
    use autodetect::{Family, Method};
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
        let found = detect::detect(&table, method, family, &SystemResolver, reach.as_ref())
            .result
            .map_err(|e| {
                format!(
                    "Error executing command: --pin-ip: IPv{}: {e}",
                    family.number()
                )
            })?;
        eprintln!(
            "Pinned IPv{} {} (on {}, by {method_text}).",
            family.number(),
            found.cidr,
            found.interface
        );
        *slot = Some(found.cidr);
        *method = Method::FirstFound;
        *origin = "--pin-ip";
    }
    Ok(())
}

/// One family's report for `detect-ip`'s text template.
#[derive(serde::Serialize)]
struct FamilyReport {
    family: u8,
    method: String,
    preamble: Option<String>,
    steps: Vec<detect::Step>,
    detection: Option<detect::Detection>,
}

fn node_detect_ip(all_args: &[String], words: &[String]) -> Result<u8, String> {
    use autodetect::Family;
    let args = match cli::parse_detect_ip(all_args, words)? {
        Parsed::Help(text) => {
            print!("{text}");
            return Ok(0);
        }
        Parsed::Run(args) => args,
    };
    let json = match args.output.as_str() {
        "text" => false,
        "json" => true,
        other => {
            return Err(format!(
                "Error executing command: unknown output format '{other}' (text or json)"
            ));
        }
    };
    if json && args.explain {
        return Err("Error executing command: --explain goes with text output".to_string());
    }
    let (want4, want6) = if args.ipv4 || args.ipv6 {
        (args.ipv4, args.ipv6)
    } else {
        (true, false)
    };
    let families: Vec<(Family, &String)> = [
        (want4, Family::V4, &args.ip_autodetection_method),
        (want6, Family::V6, &args.ip6_autodetection_method),
    ]
    .into_iter()
    .filter(|(wanted, _, _)| *wanted)
    .map(|(_, f, m)| (f, m))
    .collect();
    let methods = families
        .iter()
        .map(|(f, m)| autodetect::parse_method(m, *f, &SystemResolver))
        .collect::<Result<Vec<_>, _>>()?;

    let env = environment();
    let (table, reach) = interface_source(&env)?;
    let mut reports = Vec::new();
    let mut errors = Vec::new();
    for ((family, text), method) in families.iter().zip(&methods) {
        let outcome = detect::detect(&table, method, *family, &SystemResolver, reach.as_ref());
        if let Err(e) = &outcome.result {
            errors.push(format!(
                "Error executing command: IPv{}: {e}",
                family.number()
            ));
        }
        reports.push(FamilyReport {
            family: family.number(),
            method: text.to_string(),
            preamble: outcome.preamble,
            steps: outcome.steps,
            detection: outcome.result.ok(),
        });
    }

    if json {
        let pick = |n: u8| {
            reports
                .iter()
                .find(|r| r.family == n)
                .and_then(|r| r.detection.clone())
        };
        let value = serde_json::json!({ "ipv4": pick(4), "ipv6": pick(6) });
        println!("{value}");
    } else {
        let context = serde_json::json!({ "explain": args.explain, "families": reports });
        print!("{}", render::render_report("detect-ip.txt.j2", &context)?);
    }
    if errors.is_empty() {
        Ok(0)
    } else {
        Err(errors.join("\n"))
    }
}

/// The usage of the commands this tool has.
const USAGE: &str = include_str!("../templates/calicoctl-help.txt");

fn dispatch(all_args: &[String]) -> Result<u8, String> {
    let help = |w: &String| w == "-h" || w == "--help";
    match all_args {
        [node, run, words @ ..] if node == "node" && run == "run" => node_run(all_args, words),
        [node, detect, words @ ..] if node == "node" && detect == "detect-ip" => {
            node_detect_ip(all_args, words)
        }
        [] => Err(USAGE.trim_end().to_string()),
        [h] if help(h) => {
            print!("{USAGE}");
            Ok(0)
        }
        [node, h] if node == "node" && help(h) => {
            print!("{USAGE}");
            Ok(0)
        }
        _ => Err(cli::invalid_option(all_args)),
    }
}

fn main() -> ExitCode {
    let raw = std::env::args_os().skip(1).map(OsString::into_string);
    let result = match raw.collect::<Result<Vec<_>, _>>() {
        Ok(args) => dispatch(&args),
        Err(_) => Err("Error executing command: arguments must be valid UTF-8".to_string()),
    };
    match result {
        Ok(status) => ExitCode::from(status),
        // Every failure is a message on stderr and exit status 1.
        Err(message) => {
            eprintln!("{message}");
            ExitCode::from(1)
        }
    }
}
