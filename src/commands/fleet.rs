//! `calicoctl node fleet`: `node run`'s files for every host of an
//! inventory. Each host's options become `node run` words, parsed, planned
//! and emitted by the very code `node run` uses; the fleet only adds the
//! inventory, all-or-nothing validation, and output per host directory.

use super::node_run::{file_format_names, ignored_warning, plan_for, presentation};
use super::{ConfigLoader, environment};
use crate::cli::inventory::{self, Host};
use crate::cli::{self, FleetArgs, Parsed};
use crate::emit::{self, Artifact, Format};
use crate::out;
use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};

/// One host's files.
struct Rendered {
    host: String,
    artifacts: Vec<Artifact>,
}

fn format_of(name: &str) -> Result<Format, String> {
    let format = Format::parse(name)?;
    if format == Format::Kubernetes {
        return Err("Error executing command: node fleet does not make -o kubernetes: one DaemonSet already runs calico/node on every node; make it once with 'calicoctl node run -o kubernetes'".to_string());
    }
    if !format.writes_files() {
        return Err(format!(
            "Error executing command: node fleet writes files per host: -o must be one of {}",
            file_format_names().replace(", kubernetes", "")
        ));
    }
    Ok(format)
}

/// The inventory's text and how to name it in messages.
fn read_inventory(path: &str) -> Result<(String, String), String> {
    let mut bytes = Vec::new();
    let (label, result) = if path == "-" {
        (
            "(stdin)".to_string(),
            std::io::stdin().read_to_end(&mut bytes).map(|_| ()),
        )
    } else {
        (
            path.to_string(),
            std::fs::File::open(path).and_then(|mut f| f.read_to_end(&mut bytes).map(|_| ())),
        )
    };
    result.map_err(|e| format!("Error executing command: cannot read inventory {label}: {e}"))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| format!("Error executing command: inventory {label} is not UTF-8 text"))?;
    Ok((label, text))
}

/// One host through `node run`'s parser, plan and emitter.
fn render_host(
    host: &Host,
    format: Format,
    env: &HashMap<String, String>,
    configs: &mut ConfigLoader,
) -> Result<(Vec<Artifact>, Option<String>), String> {
    let words = host.words();
    let all: Vec<String> = ["node".to_string(), "run".to_string()]
        .into_iter()
        .chain(words.iter().cloned())
        .collect();
    let args = match cli::parse_node_run(&all, &words)? {
        Parsed::Run(args) => args,
        Parsed::Help(_) => return Err("Error executing command: help is not a host option".into()),
    };
    let (_, engine) = presentation(&args)?;
    let plan = plan_for(&args, env, configs, None)?;
    let artifacts = emit::emit(format, &plan, &engine)?;
    Ok((artifacts, ignored_warning(&plan)))
}

/// Every host rendered, or every failure as `<host>: <message>`.
fn render_all(hosts: &[Host], format: Format) -> Result<(Vec<Rendered>, Vec<String>), Vec<String>> {
    let env = environment();
    let mut configs = ConfigLoader::new(&env);
    let mut rendered = Vec::with_capacity(hosts.len());
    let mut warnings = Vec::new();
    let mut errors = Vec::new();
    for host in hosts {
        match render_host(host, format, &env, &mut configs) {
            Ok((artifacts, warning)) => {
                if let Some(w) = warning {
                    warnings.push(format!("{}: {w}", host.name));
                }
                rendered.push(Rendered {
                    host: host.name.clone(),
                    artifacts,
                });
            }
            Err(e) => errors.push(format!("{}: {e}", host.name)),
        }
    }
    if errors.is_empty() {
        Ok((rendered, warnings))
    } else {
        Err(errors)
    }
}

/// Host directories in `dir` that the inventory does not name.
fn strays(dir: &Path, rendered: &[Rendered]) -> Vec<PathBuf> {
    let known: HashSet<&str> = rendered.iter().map(|r| r.host.as_str()).collect();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter(|e| !e.file_name().to_str().is_some_and(|n| known.contains(n)))
        .map(|e| e.path())
        .collect();
    found.sort();
    found
}

fn stdout_text(rendered: &[Rendered]) -> String {
    let mut text = String::new();
    for r in rendered {
        for a in &r.artifacts {
            if !text.is_empty() {
                text.push('\n');
            }
            text.push_str("# FILE: ");
            text.push_str(&r.host);
            text.push('/');
            text.push_str(&a.file_name);
            text.push('\n');
            text.push_str(&a.text);
        }
    }
    text
}

pub fn main(all_args: &[String], words: &[String]) -> Result<u8, String> {
    let args = match cli::parse::<FleetArgs>(all_args, words, cli::FLEET_HELP)? {
        Parsed::Help(text) => {
            print!("{text}");
            return Ok(0);
        }
        Parsed::Run(args) => args,
    };
    let format = format_of(&args.output)?;
    if args.check && args.out_dir.is_none() {
        return Err(
            "Error executing command: --check needs --out-dir (the directory to compare with)"
                .to_string(),
        );
    }
    let (label, text) = read_inventory(&args.inventory)?;
    let inventory = inventory::parse(&label, &text)?;
    let (rendered, warnings) = match render_all(&inventory.hosts, format) {
        Ok(done) if inventory.errors.is_empty() => done,
        Ok(_) => return Err(inventory.errors.join("\n")),
        Err(e) => return Err([inventory.errors, e].concat().join("\n")),
    };
    for w in &warnings {
        eprintln!("{w}");
    }
    let Some(dir) = &args.out_dir else {
        print!("{}", stdout_text(&rendered));
        return Ok(0);
    };
    let dir = Path::new(dir);
    let placed: Vec<out::Placed> = rendered
        .iter()
        .flat_map(|r| out::placed_in(&dir.join(&r.host), &r.artifacts))
        .collect();
    let strays = strays(dir, &rendered);
    if args.check {
        return Ok(out::check::check(&placed, &strays)?.print(dir));
    }
    let report = out::write::write_all(dir, &placed)?;
    for stray in &strays {
        eprintln!(
            "WARNING: {} is not in the inventory; its files are left as they are.",
            stray.display()
        );
    }
    eprintln!(
        "{} hosts: {} files written, {} unchanged, in {}.",
        rendered.len(),
        report.written.len(),
        report.unchanged.len(),
        dir.display()
    );
    Ok(0)
}
