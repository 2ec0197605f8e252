//! Emitters: the output formats of `-o`, each a set of files rendered from
//! one plan, printed to stdout or written atomically into `--out-dir`.
//!
//! One module per output family: `units` (systemd), `provision` (cloud-init
//! and Ignition, which carry the units), `kubernetes` (a DaemonSet),
//! `quadlet` (podman's own unit format). Writing
//! them to disk is `crate::outdir`'s job. Text formats render templates; structured ones
//! (JSON, cloud-init, Ignition, Kubernetes) come from a serializer.

mod error;
mod kubernetes;
pub mod playbook;
mod provision;
mod quadlet;
mod units;

pub use error::{EmitError, KubernetesRefusal};

use crate::engine::EngineKind;
use crate::plan::Plan;
use crate::render::{self, Engine, TemplateContext};
use std::path::Path;

/// An output format (`-o`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Docker,
    Systemd,
    SystemdEnvfile,
    Env,
    Script,
    Json,
    Compose,
    CloudInit,
    Ignition,
    Kubernetes,
    Quadlet,
}

impl Format {
    /// Every format, in the order help and errors list them.
    pub const ALL: [Format; 12] = [
        Format::Text,
        Format::Docker,
        Format::Systemd,
        Format::SystemdEnvfile,
        Format::Env,
        Format::Script,
        Format::Json,
        Format::Compose,
        Format::CloudInit,
        Format::Ignition,
        Format::Kubernetes,
        Format::Quadlet,
    ];

    /// The name `-o` takes.
    pub fn name(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Docker => "docker",
            Format::Systemd => "systemd",
            Format::SystemdEnvfile => "systemd-envfile",
            Format::Env => "env",
            Format::Script => "script",
            Format::Json => "json",
            Format::Compose => "compose",
            Format::CloudInit => "cloud-init",
            Format::Ignition => "ignition",
            Format::Kubernetes => "kubernetes",
            Format::Quadlet => "quadlet",
        }
    }

    pub fn parse(name: &str) -> Result<Format, EmitError> {
        Format::ALL
            .into_iter()
            .find(|f| f.name() == name)
            .ok_or_else(|| {
                let names: Vec<_> = Format::ALL.iter().map(|f| f.name()).collect();
                EmitError::UnknownFormat {
                    name: name.to_string(),
                    choices: names.join(", "),
                }
            })
    }

    /// The built-in template the format is rendered from, for
    /// `--template-source`, as a template of one's own must read to render
    /// as the format does; why none where it has not exactly one.
    pub fn template_source(self) -> Result<String, EmitError> {
        let name = self.template()?;
        // -o docker ends the command (a template others include) with a
        // line break of its own.
        let after = if self == Format::Docker { "\n" } else { "" };
        Ok(render::template_source(name)
            .unwrap_or_default()
            .to_string()
            + after)
    }

    fn template(self) -> Result<&'static str, EmitError> {
        let none = |why| EmitError::NoTemplate {
            format: self.name(),
            why,
        };
        match self {
            Format::Text => Ok("dryrun.txt.j2"),
            Format::Docker => Ok("docker-command.j2"),
            Format::Systemd => Ok("calico-node.service.j2"),
            Format::Env => Ok("calico-node.env.j2"),
            Format::Script => Ok("calico-node.sh.j2"),
            Format::Compose => Ok("compose.yaml.j2"),
            Format::Quadlet => Ok("calico-node.container.j2"),
            Format::SystemdEnvfile => Err(none(
                "it is two files: its unit is -o systemd's template, its env file -o env's",
            )),
            Format::Json | Format::CloudInit | Format::Ignition | Format::Kubernetes => {
                Err(none("it is written by a serializer, not a template"))
            }
        }
    }

    /// Whether the format is a set of files (and so may go to `--out-dir`).
    pub fn writes_files(self) -> bool {
        !matches!(self, Format::Text | Format::Docker)
    }

    /// The files of the format that only some plans have (Quadlet's env
    /// file: only with secrets), so that a host may no longer get one.
    pub fn optional_files(self) -> &'static [&'static str] {
        match self {
            Format::Quadlet => &["calico-node.env"],
            _ => &[],
        }
    }

    /// Whether the format is files for one host (what `node fleet` makes):
    /// a DaemonSet already spans every node.
    pub fn per_host(self) -> bool {
        self.writes_files() && self != Format::Kubernetes
    }
}

pub use crate::artifact::{Artifact, Secrets};

/// Pick the engine from `--runtime` and `--runtime-path`.
pub fn engine(runtime: &str, runtime_path: Option<&str>) -> Result<Engine, EmitError> {
    let Some(kind) = EngineKind::parse(runtime) else {
        return Err(EmitError::UnknownRuntime {
            runtime: runtime.to_string(),
        });
    };
    if runtime_path.is_some_and(str::is_empty) {
        return Err(EmitError::EmptyRuntimePath);
    }
    Ok(Engine {
        kind,
        command: runtime_path.unwrap_or(kind.name()).to_string(),
        unit_path: runtime_path.unwrap_or(kind.default_unit_path()).to_string(),
    })
}

/// Where an emitter gets the contents of a file the plan names (the
/// DaemonSet's Secret carries the TLS files): the command layer reads
/// them, with its rules for input files, so no emitter touches the file
/// system, and an emitter asks only once its own refusals have passed.
pub trait Files {
    fn read(&self, path: &std::path::Path) -> std::io::Result<Vec<u8>>;
}

/// Render `format` for `plan`: every file at most what `--check` reads
/// back ([`crate::input::MAX_INPUT`]), so that what is written checks
/// clean; a larger one is refused naming the option of the largest value.
pub fn emit(
    format: Format,
    plan: &Plan,
    engine: &Engine,
    files: &dyn Files,
) -> Result<Vec<Artifact>, EmitError> {
    let artifacts = emit_unbounded(format, plan, engine, files)?;
    let too_large = artifacts
        .iter()
        .find(|a| a.text.len() as u64 > crate::input::MAX_INPUT);
    match too_large {
        Some(a) => Err(EmitError::TooLarge {
            file: a.file_name.clone(),
            size: a.text.len(),
            origin: plan.largest_value_origin(),
        }),
        None => Ok(artifacts),
    }
}

fn emit_unbounded(
    format: Format,
    plan: &Plan,
    engine: &Engine,
    files: &dyn Files,
) -> Result<Vec<Artifact>, EmitError> {
    let ctx = || render::Context::new(plan, engine);
    let one = |name: &str, mode: u32, text: String| Ok(vec![Artifact::new(name, mode, text)]);
    match format {
        Format::Text => one("calico-node.txt", 0o644, ctx().render("dryrun.txt.j2")?),
        Format::Docker => {
            let line = ctx().render("docker-command.j2")? + "\n";
            one("calico-node.cmd", 0o644, line)
        }
        Format::Systemd => units::systemd(plan, engine).map(|a| vec![a]),
        Format::SystemdEnvfile => {
            units::systemd_envfile(plan, engine).map(|(env, unit)| vec![env, unit])
        }
        Format::Env => Ok(vec![units::env_file(plan, engine)?]),
        Format::Script => one("calico-node.sh", 0o755, ctx().render("calico-node.sh.j2")?),
        Format::Json => {
            let text =
                serde_json::to_string_pretty(&TemplateContext::new(plan, engine)).map_err(|e| {
                    EmitError::Serialize {
                        target: "",
                        message: e.to_string(),
                    }
                })? + "\n";
            one("calico-node.json", 0o644, text)
        }
        Format::Compose => one("compose.yaml", 0o644, ctx().render("compose.yaml.j2")?),
        Format::CloudInit => provision::cloud_init(plan, engine).map(|a| vec![a]),
        Format::Ignition => provision::ignition(plan, engine).map(|a| vec![a]),
        Format::Kubernetes => kubernetes::manifest(plan, engine, files).map(|a| vec![a]),
        Format::Quadlet => quadlet::quadlet(plan, engine),
    }
}

/// Render the user's template `source` (read from `path` by the caller).
pub fn emit_template(
    path: &str,
    source: &str,
    plan: &Plan,
    engine: &Engine,
) -> Result<Artifact, EmitError> {
    let text = render::render_user(path, source, plan, engine)?;
    let base = Path::new(path)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("template");
    let name = base.strip_suffix(".j2").unwrap_or(base);
    Ok(Artifact::new(name, 0o644, text))
}

/// The text for stdout: one file as it is; several, each under `# FILE: name`.
pub fn stdout_text(artifacts: &[Artifact]) -> String {
    match artifacts {
        [one] => one.text.clone(),
        many => many
            .iter()
            .map(|a| format!("# FILE: {}\n{}", a.file_name, a.text))
            .collect::<Vec<_>>()
            .join("\n"),
    }
}
