//! Emitters: the output formats of `-o`, each a set of files rendered from
//! one plan, printed to stdout or written atomically into `--out-dir`.

use crate::escape;
use crate::plan::{Mode, Plan};
use crate::render::{self, Engine, Extras, TemplateContext};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

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
}

impl Format {
    /// Every format, in the order help and errors list them.
    pub const ALL: [Format; 8] = [
        Format::Text,
        Format::Docker,
        Format::Systemd,
        Format::SystemdEnvfile,
        Format::Env,
        Format::Script,
        Format::Json,
        Format::Compose,
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
        }
    }

    pub fn parse(name: &str) -> Result<Format, String> {
        Format::ALL
            .into_iter()
            .find(|f| f.name() == name)
            .ok_or_else(|| {
                let names: Vec<_> = Format::ALL.iter().map(|f| f.name()).collect();
                format!(
                    "Error executing command: unknown output format '{name}' (one of: {})",
                    names.join(", ")
                )
            })
    }

    /// Whether the format is a set of files (and so may go to `--out-dir`).
    pub fn writes_files(self) -> bool {
        !matches!(self, Format::Text | Format::Docker)
    }

    fn is_unit(self) -> bool {
        matches!(self, Format::Systemd | Format::SystemdEnvfile)
    }
}

/// One rendered file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    pub file_name: String,
    pub mode: u32,
    pub text: String,
}

impl Artifact {
    fn new(file_name: &str, mode: u32, text: String) -> Artifact {
        Artifact {
            file_name: file_name.to_string(),
            mode,
            text,
        }
    }
}

/// Pick the engine from `--runtime` and `--runtime-path`.
pub fn engine(runtime: &str, runtime_path: Option<&str>) -> Result<Engine, String> {
    let default_unit_path = match runtime {
        "docker" => "/usr/bin/docker",
        "podman" => "/usr/bin/podman",
        _ => {
            return Err(format!(
                "Error executing command: unknown runtime '{runtime}' (docker or podman)"
            ));
        }
    };
    if runtime_path.is_some_and(str::is_empty) {
        return Err("Error executing command: --runtime-path cannot be empty".to_string());
    }
    Ok(Engine {
        name: runtime.to_string(),
        command: runtime_path.unwrap_or(runtime).to_string(),
        unit_path: runtime_path.unwrap_or(default_unit_path).to_string(),
    })
}

/// Refuse, naming the option, any value a systemd unit line cannot hold.
fn check_unit_values(plan: &Plan, engine: &Engine, values_inline: bool) -> Result<(), String> {
    if !engine.unit_path.starts_with('/') {
        return Err(format!(
            "Error executing command: a systemd unit needs an absolute --runtime-path, not '{}'",
            engine.unit_path
        ));
    }
    let env = plan
        .env
        .iter()
        .filter(|_| values_inline)
        .map(|v| (v.origin, v.value.as_str()));
    let volumes = plan.volumes.iter().map(|v| (v.origin, v.host.as_str()));
    let fixed = [
        ("--node-image", plan.image.as_str()),
        ("--runtime-path", engine.unit_path.as_str()),
    ];
    for (origin, value) in env.chain(volumes).chain(fixed) {
        if let Some(reason) = escape::systemd_refusal(value) {
            return Err(format!("Error executing command: {origin}: {reason}"));
        }
    }
    Ok(())
}

/// Render `format` for `plan`.
pub fn emit(format: Format, plan: &Plan, engine: &Engine) -> Result<Vec<Artifact>, String> {
    // A unit runs the container attached: systemd is the supervisor.
    let mut unit_plan;
    let plan = if format.is_unit() {
        unit_plan = plan.clone();
        unit_plan.mode = Mode::InitSystem;
        &unit_plan
    } else {
        plan
    };
    let ctx = TemplateContext::new(plan, engine);
    let unit = |env_file| {
        render::render_with(
            "calico-node.service.j2",
            &ctx,
            &Extras {
                env_file,
                ..Extras::default()
            },
        )
    };
    let env_file = || {
        render::render_with(
            "calico-node.env.j2",
            &ctx,
            &Extras {
                secrets: true,
                ..Extras::default()
            },
        )
    };
    Ok(match format {
        Format::Text => vec![Artifact::new(
            "calico-node.txt",
            0o644,
            render::render("dryrun.txt.j2", &ctx)?,
        )],
        Format::Docker => {
            let line = render::render("docker-command.j2", &ctx)? + "\n";
            vec![Artifact::new("calico-node.cmd", 0o644, line)]
        }
        Format::Systemd => {
            if let Some(secret) = plan.secrets().next() {
                return Err(format!(
                    "Error executing command: {} is a secret and a unit file is world-readable; use -o systemd-envfile, which keeps it in a 0600 file",
                    secret.name
                ));
            }
            check_unit_values(plan, engine, true)?;
            vec![Artifact::new("calico-node.service", 0o644, unit(None)?)]
        }
        Format::SystemdEnvfile => {
            check_unit_values(plan, engine, false)?;
            vec![
                Artifact::new("calico-node.env", 0o600, env_file()?),
                Artifact::new(
                    "calico-node.service",
                    0o644,
                    unit(Some(render::UNIT_ENV_FILE))?,
                ),
            ]
        }
        Format::Env => vec![Artifact::new("calico-node.env", 0o600, env_file()?)],
        Format::Script => vec![Artifact::new(
            "calico-node.sh",
            0o755,
            render::render("calico-node.sh.j2", &ctx)?,
        )],
        Format::Json => {
            let text = serde_json::to_string_pretty(&ctx)
                .map_err(|e| format!("Error executing command: {e}"))?
                + "\n";
            vec![Artifact::new("calico-node.json", 0o644, text)]
        }
        Format::Compose => vec![Artifact::new(
            "compose.yaml",
            0o644,
            render::render("compose.yaml.j2", &ctx)?,
        )],
    })
}

/// Render the user's template file with the same context.
pub fn emit_template(path: &str, plan: &Plan, engine: &Engine) -> Result<Artifact, String> {
    let source = std::fs::read_to_string(path)
        .map_err(|e| format!("Error executing command: cannot read template {path}: {e}"))?;
    let ctx = TemplateContext::new(plan, engine);
    let text = render::render_user(path, &source, &ctx)?;
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

/// [`write_artifacts`], creating `dir` (and its parents) first if missing.
pub fn write_artifacts_creating(
    dir: &Path,
    artifacts: &[Artifact],
) -> Result<Vec<PathBuf>, String> {
    if dir.exists() {
        return write_artifacts(dir, artifacts);
    }
    std::fs::create_dir_all(dir).map_err(|e| {
        format!(
            "Error executing command: cannot create {}: {e}",
            dir.display()
        )
    })?;
    write_artifacts(dir, artifacts)
}

/// Write every artifact into `dir` atomically: a temporary file (created
/// 0600, so secrets are never readable by others), fsync, the final mode,
/// then rename. Returns the paths written.
pub fn write_artifacts(dir: &Path, artifacts: &[Artifact]) -> Result<Vec<PathBuf>, String> {
    let fail = |path: &Path, e: std::io::Error| {
        format!(
            "Error executing command: cannot write {}: {e}",
            path.display()
        )
    };
    if !dir.is_dir() {
        return Err(format!(
            "Error executing command: --out-dir {} is not a directory",
            dir.display()
        ));
    }
    // Find what would make a rename fail before anything is written.
    if let Some(a) = artifacts.iter().find(|a| dir.join(&a.file_name).is_dir()) {
        let target = dir.join(&a.file_name);
        return Err(format!(
            "Error executing command: cannot write {}: it is a directory",
            target.display()
        ));
    }
    let mut staged = Vec::new();
    let cleanup = |staged: &[(PathBuf, PathBuf)]| {
        for (tmp, _) in staged {
            let _ = std::fs::remove_file(tmp);
        }
    };
    for artifact in artifacts {
        let target = dir.join(&artifact.file_name);
        let tmp = dir.join(format!(
            ".{}.tmp-{}",
            artifact.file_name,
            std::process::id()
        ));
        let result = (|| {
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&tmp)?;
            file.write_all(artifact.text.as_bytes())?;
            file.set_permissions(std::fs::Permissions::from_mode(artifact.mode))?;
            file.sync_all()
        })();
        if let Err(e) = result {
            let _ = std::fs::remove_file(&tmp);
            cleanup(&staged);
            return Err(fail(&target, e));
        }
        staged.push((tmp, target));
    }
    for (tmp, target) in &staged {
        std::fs::rename(tmp, target).map_err(|e| {
            cleanup(&staged);
            fail(target, e)
        })?;
    }
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(staged.into_iter().map(|(_, target)| target).collect())
}
