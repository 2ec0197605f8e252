//! `calicoctl node run`: validate the options and the datastore
//! configuration, build the plan, then print or write what `-o` asks for,
//! or start the container as upstream does.

use super::{ConfigLoader, environment, host_name, interface_source};
use crate::autodetect::SystemResolver;
use crate::cli::{self, NodeRunArgs};
use crate::render::Engine;
use crate::terminal::ColorChoice;
use crate::{autodetect, detect, emit, live, out, plan, run};
use std::collections::HashMap;
use std::path::Path;

pub fn main(all_args: &[String], words: &[String]) -> Result<u8, String> {
    let Some(args) = super::options_or_help(cli::parse_node_run(all_args, words)?) else {
        return Ok(0);
    };
    let env = environment();
    let (format, engine) = presentation(&args)?;
    let hostname = host_name(&env);
    let plan = plan_for(
        &args,
        &env,
        &mut ConfigLoader::new(&env),
        hostname.as_deref(),
    )?;
    if let Some(warning) = ignored_warning(&plan) {
        errln!("{warning}");
    }

    let artifacts = if let Some(template) = &args.template {
        vec![emit::emit_template(template, &plan, &engine)?]
    } else if let Some(format) = format {
        emit::emit(format, &plan, &engine)?
    } else if args.dryrun {
        emit::emit(emit::Format::Text, &plan, &engine)?
    } else if args.check && args.out_dir.is_none() {
        return live_check(&plan, &engine);
    } else {
        let settings = run::RunSettings::from_env(|name| env.get(name).cloned())?;
        if args.if_changed && leave_alone(&plan, &engine)? {
            return Ok(0);
        }
        let status = run::run(&plan, &engine, &settings)?;
        return Ok(u8::try_from(status).unwrap_or(1));
    };
    deliver(&args, &artifacts, &env)
}

/// The formats that are files (and so may go to `--out-dir`).
fn file_format_names() -> String {
    let names: Vec<&str> = emit::Format::ALL
        .into_iter()
        .filter(|f| f.writes_files())
        .map(emit::Format::name)
        .collect();
    names.join(", ")
}

/// The options of this tool beyond upstream's, which say how to present
/// the plan: the format and the engine, checked together.
pub fn presentation(args: &NodeRunArgs) -> Result<(Option<emit::Format>, Engine), String> {
    let format = args
        .output
        .as_deref()
        .map(emit::Format::parse)
        .transpose()?;
    let engine = emit::engine(&args.runtime, args.runtime_path.as_deref())?;
    ColorChoice::parse(&args.color)?;
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
        return Err(format!(
            "Error executing command: --out-dir needs --template or an --output that writes files ({})",
            file_format_names()
        ));
    }
    live_options(args, format)?;
    Ok((format, engine))
}

/// `--check` without `--out-dir` and `--if-changed` ask the engine about
/// the running container: neither goes with a dry run or a format.
fn live_options(args: &NodeRunArgs, format: Option<emit::Format>) -> Result<(), String> {
    let printing = args.dryrun || format.is_some() || args.template.is_some();
    if args.check && args.out_dir.is_none() && printing {
        return Err("Error executing command: --check without --out-dir compares the running container with the plan; it does not go with --dryrun, --output or --template (add --out-dir to compare files)".to_string());
    }
    if args.if_changed && args.check {
        return Err("Error executing command: --if-changed and --check cannot be used together: --check only compares, --if-changed starts calico-node when it differs".to_string());
    }
    if args.if_changed && printing {
        return Err("Error executing command: --if-changed starts calico-node when it differs from the plan; it does not go with --dryrun, --output or --template".to_string());
    }
    if args.if_changed && args.init_system {
        return Err("Error executing command: --if-changed does not go with --init-system: the init system owns that container's lifecycle".to_string());
    }
    Ok(())
}

/// The running container's differences from the plan.
fn live_differences(plan: &plan::Plan, engine: &Engine) -> Result<Vec<String>, String> {
    let kind = live::EngineKind::from_name(&engine.name);
    let observed = live::query(&engine.command, kind, &plan.container_name, &plan.image)?;
    Ok(live::compare::differences(plan, &observed))
}

/// `--check` without `--out-dir`: each difference on stdout; 0 when the
/// container runs as planned, 2 when not.
fn live_check(plan: &plan::Plan, engine: &Engine) -> Result<u8, String> {
    let differences = live_differences(plan, engine)?;
    if differences.is_empty() {
        outln!("{} matches the plan.", plan.container_name);
        return Ok(0);
    }
    for line in &differences {
        outln!("{line}");
    }
    Ok(2)
}

/// `--if-changed`: whether the container runs as planned (then it is left
/// alone); otherwise say why it is replaced. Root is checked first, as the
/// run path does.
fn leave_alone(plan: &plan::Plan, engine: &Engine) -> Result<bool, String> {
    run::require_root()?;
    let differences = live_differences(plan, engine)?;
    let Some(first) = differences.first() else {
        outln!("{} is running as planned; left alone.", plan.container_name);
        return Ok(true);
    };
    let more = match differences.len() - 1 {
        0 => String::new(),
        1 => " (and 1 more difference)".to_string(),
        n => format!(" (and {n} more differences)"),
    };
    let verb = if first.starts_with("no container named") {
        "Starting"
    } else {
        "Replacing"
    };
    outln!("{verb} {}: {first}{more}.", plan.container_name);
    Ok(false)
}

/// Validation and the plan, as upstream orders them.
pub fn plan_for(
    args: &NodeRunArgs,
    env: &HashMap<String, String>,
    configs: &mut ConfigLoader,
    hostname: Option<&str>,
) -> Result<plan::Plan, String> {
    let mut checked = plan::check_options(args, &SystemResolver)?;
    let node_name = plan::node_name(args, hostname)?;
    let spec = configs.load(args.config.as_deref())?;
    if args.pin_ip {
        pin_addresses(args, &mut checked, env)?;
    }
    plan::build(args, &checked, &node_name, &spec)
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

/// Print the files, write them into `--out-dir`, or compare (`--check`),
/// holding the out dir's lock.
fn deliver(
    args: &NodeRunArgs,
    artifacts: &[emit::Artifact],
    env: &HashMap<String, String>,
) -> Result<u8, String> {
    let Some(dir) = &args.out_dir else {
        out!("{}", emit::stdout_text(artifacts));
        return Ok(0);
    };
    let dir = Path::new(dir);
    let settings = out::Settings::from_env(|name| env.get(name).cloned())?;
    let placed = out::placed_in(dir, None, artifacts);
    let scan = out::temporaries::Scan::Root;
    if args.check {
        let opened = settings.lock_for_check(dir)?;
        let tree = opened.as_ref().map(|(tree, _lock)| tree);
        let stale = out::temporaries::find(tree, scan)?;
        let colour = ColorChoice::parse(&args.color)?.for_stdout();
        return Ok(out::check::check(&placed, tree, &[], &stale)?.print(dir, colour));
    }
    let (tree, _lock) = settings.lock_for_write(dir)?;
    let report = out::write::write_all(&tree, &placed, scan, settings.pause, &|| {})?;
    out::report_stale(report.stale_removed);
    for path in &report.written {
        errln!("Wrote {}", path.display());
    }
    for path in &report.unchanged {
        errln!("Unchanged {}", path.display());
    }
    Ok(0)
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
        errln!(
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
