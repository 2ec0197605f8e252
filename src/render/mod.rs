//! Rendering: every text the tool prints about a plan comes from a minijinja
//! template in `templates/`, embedded in the binary. Templates get one value,
//! [`TemplateContext`], and quote only through the filters registered here,
//! each of which is the one routine in [`crate::escape`] for its syntax.

mod lazy;

use crate::escape;
use crate::plan::{ByName, Plan};
use minijinja::syntax::SyntaxConfig;
use minijinja::value::{Serde, Value, ValueKind};
use minijinja::{Environment, Error, ErrorKind, UndefinedBehavior};
use serde::Serialize;
use std::sync::Arc;

/// The templates shipped in the binary, by name.
const TEMPLATES: &[(&str, &str)] = &[
    (
        "calico-node.yml.j2",
        include_str!("../../templates/calico-node.yml.j2"),
    ),
    (
        "docker-command.j2",
        include_str!("../../templates/docker-command.j2"),
    ),
    (
        "dryrun.txt.j2",
        include_str!("../../templates/dryrun.txt.j2"),
    ),
    (
        "run-start.txt.j2",
        include_str!("../../templates/run-start.txt.j2"),
    ),
    (
        "calico-node.service.j2",
        include_str!("../../templates/calico-node.service.j2"),
    ),
    (
        "calico-node.env.j2",
        include_str!("../../templates/calico-node.env.j2"),
    ),
    (
        "calico-node.sh.j2",
        include_str!("../../templates/calico-node.sh.j2"),
    ),
    (
        "compose.yaml.j2",
        include_str!("../../templates/compose.yaml.j2"),
    ),
    (
        "calico-node.container.j2",
        include_str!("../../templates/calico-node.container.j2"),
    ),
    (
        "detect-ip.txt.j2",
        include_str!("../../templates/detect-ip.txt.j2"),
    ),
];

/// Version of the [`TemplateContext`] shape.
pub const SCHEMA: u32 = 1;

/// Where the `systemd-envfile` unit reads its environment file.
pub const UNIT_ENV_FILE: &str = "/etc/calico/calico-node.env";

pub use crate::engine::Engine;

/// The one value every template receives (and what `-o json` prints).
#[derive(Debug, Serialize)]
pub struct TemplateContext<'a> {
    /// Version of this shape; changes only when a field changes meaning.
    pub schema: u32,
    /// The validated plan. Secret values are `null` here.
    pub plan: &'a Plan,
    pub engine: &'a Engine,
    /// The command that starts the container: `engine.command` then the
    /// words of `run_groups`. Secrets are passed by name.
    pub argv: Vec<String>,
    /// The words after the engine that start the container, grouped as an
    /// option with its value; secrets by name.
    pub run_groups: Vec<Vec<String>>,
    /// The same with every variable passed by name (for units that read an
    /// environment file).
    pub run_groups_by_name: Vec<Vec<String>>,
    /// The command that stops the container.
    pub stop_argv: Vec<String>,
    /// Variables passed by name only, which the engine must find in its
    /// environment.
    pub secret_names: Vec<String>,
    /// The environment file the `systemd-envfile` unit reads.
    pub unit_env_file: &'static str,
}

/// The command that starts the container: the engine, then the words of
/// `run_groups` (secrets by name).
pub fn argv(plan: &Plan, engine: &Engine) -> Vec<String> {
    std::iter::once(engine.command.clone())
        .chain(plan.run_groups(ByName::Secrets).into_iter().flatten())
        .collect()
}

impl<'a> TemplateContext<'a> {
    pub fn new(plan: &'a Plan, engine: &'a Engine) -> Self {
        let run_groups = plan.run_groups(ByName::Secrets);
        let argv = std::iter::once(engine.command.clone())
            .chain(run_groups.iter().flatten().cloned())
            .collect();
        TemplateContext {
            schema: SCHEMA,
            plan,
            engine,
            argv,
            run_groups,
            run_groups_by_name: plan.run_groups(ByName::All),
            stop_argv: plan.stop_argv(&engine.command),
            secret_names: plan.secrets().map(|v| v.name.clone()).collect(),
            unit_env_file: UNIT_ENV_FILE,
        }
    }
}

/// Each word of a string (one word) or of a list of strings, in order.
fn each_word(
    value: &Value,
    filter: &str,
    mut each: impl FnMut(&str) -> Result<(), Error>,
) -> Result<(), Error> {
    let not_a_string = || {
        Error::new(
            ErrorKind::InvalidOperation,
            format!("{filter}: list items must be strings"),
        )
    };
    match value.kind() {
        ValueKind::String => each(value.as_str().unwrap_or_default()),
        ValueKind::Seq => {
            for word in value.try_iter()? {
                each(word.as_str().ok_or_else(not_a_string)?)?;
            }
            Ok(())
        }
        _ => Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("{filter}: expects a string or a list of strings"),
        )),
    }
}

/// `sh`: a string becomes one POSIX shell word; a list becomes its words,
/// each quoted, joined by single spaces.
fn sh_filter(value: Value) -> Result<String, Error> {
    let mut out = String::new();
    let mut first = true;
    each_word(&value, "sh", |w| {
        if !std::mem::take(&mut first) {
            out.push(' ');
        }
        out.push_str(&escape::shell_word(w));
        Ok(())
    })?;
    Ok(out)
}

/// `systemd`: the same for a systemd `Exec*=` line; refuses what a unit
/// line cannot hold.
fn systemd_filter(value: Value) -> Result<String, Error> {
    let mut out = String::new();
    let mut first = true;
    each_word(&value, "systemd", |w| {
        if !std::mem::take(&mut first) {
            out.push(' ');
        }
        escape::systemd_word_into(&mut out, w)
            .map_err(|reason| Error::new(ErrorKind::InvalidOperation, format!("{reason}: {w:?}")))
    })?;
    Ok(out)
}

/// `yaml`: a YAML double-quoted scalar.
fn yaml_filter(value: &str) -> String {
    escape::yaml_scalar(value)
}

/// `compose`: a compose file value (`$` escaped, then a YAML scalar).
fn compose_filter(value: &str) -> String {
    escape::compose_scalar(value)
}

/// `quadlet`: a podman Quadlet value taken as written; refuses what a
/// Quadlet line cannot hold.
fn quadlet_filter(value: &str) -> Result<String, Error> {
    escape::quadlet_value(value)
        .map_err(|reason| Error::new(ErrorKind::InvalidOperation, format!("{reason}: {value:?}")))
}

/// `quadlet_env(name, value)`: one word of a Quadlet `Environment=` line.
fn quadlet_env_function(name: &str, value: &str) -> Result<String, Error> {
    escape::quadlet_env_word(name, value)
        .map_err(|reason| Error::new(ErrorKind::InvalidOperation, format!("{name}: {reason}")))
}

/// `env_line(name, value)`: one line of an environment file.
fn env_line_function(name: &str, value: &str) -> String {
    escape::env_file_line(name, value)
}

/// The embedded templates, compiled once per process (a fleet renders
/// thousands of files from them).
fn shared() -> &'static Environment<'static> {
    static SHARED: std::sync::OnceLock<Environment<'static>> = std::sync::OnceLock::new();
    SHARED.get_or_init(environment)
}

/// A template environment with our filters and strict undefined behaviour.
pub fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_syntax(
        SyntaxConfig::builder()
            .keep_trailing_newline(true)
            .trim_blocks(true)
            .lstrip_blocks(true)
            .build()
            .expect("static syntax config"),
    );
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    env.add_filter("sh", sh_filter);
    env.add_filter("systemd", systemd_filter);
    env.add_filter("yaml", yaml_filter);
    env.add_filter("compose", compose_filter);
    env.add_function("env_line", env_line_function);
    env.add_filter("quadlet", quadlet_filter);
    env.add_function("quadlet_env", quadlet_env_function);
    // Each template is compiled the first time it is used: one run renders
    // one or two of them, and compiling all costs more than the rest of a
    // dry run.
    env.set_loader(|name| {
        Ok(TEMPLATES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, source)| source.to_string()))
    });
    env
}

/// Extra variables some built-in templates receive beside the context.
#[derive(Debug, Default)]
pub struct Extras {
    /// Secret values by name (`secrets`), for the 0600 environment file.
    pub secrets: bool,
    /// `env_file`: the environment file a unit reads, or none.
    pub env_file: Option<&'static str>,
}

/// A plan and engine ready for the built-in templates: each render gets a
/// context whose fields become template values only when read
/// (`lazy.rs`). Made once per plan, used for each of its files.
pub struct Context {
    plan: Arc<Plan>,
    engine: Arc<Engine>,
}

impl Context {
    pub fn new(plan: &Plan, engine: &Engine) -> Context {
        Context::owning(plan.clone(), engine)
    }

    /// The same for a plan made for this render alone.
    pub fn owning(plan: Plan, engine: &Engine) -> Context {
        Context {
            plan: Arc::new(plan),
            engine: Arc::new(engine.clone()),
        }
    }

    /// Render the embedded template `name` with `extras`.
    pub fn render_with(&self, name: &str, extras: &Extras) -> Result<String, RenderError> {
        let value = Value::from_object(lazy::LazyContext::new(
            self.plan.clone(),
            self.engine.clone(),
            extras.secrets,
            extras.env_file,
        ));
        shared()
            .get_template(name)
            .and_then(|t| t.render(value))
            .map_err(RenderError::Embedded)
    }

    /// Render the embedded template `name` with the context alone.
    pub fn render(&self, name: &str) -> Result<String, RenderError> {
        self.render_with(name, &Extras::default())
    }
}

/// Render an embedded template that is not about a plan (`detect-ip`).
pub fn render_report<T: Serialize>(name: &str, report: &T) -> Result<String, RenderError> {
    shared()
        .get_template(name)
        .and_then(|t| t.render(Serde(report)))
        .map_err(RenderError::Embedded)
}

/// Why a template did not render, as a value: an embedded one (minijinja's
/// words), or the user's (where, and what).
#[derive(Debug)]
pub enum RenderError {
    Embedded(Error),
    User {
        label: String,
        line: Option<usize>,
        what: String,
    },
}

impl std::fmt::Display for RenderError {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        use crate::error::executing;
        match self {
            RenderError::Embedded(e) => executing(f, format_args!("{e}")),
            RenderError::User { label, line, what } => {
                let place = line.map(|n| format!(" line {n}")).unwrap_or_default();
                executing(f, format_args!("template {label}{place}: {what}"))
            }
        }
    }
}

/// The budget of a user's template: minijinja's fuel, one unit of which
/// pays for one instruction or 64 bytes of data made (strings joined,
/// output written): about two million instructions or 128 MiB, far beyond
/// any template that renders a launcher file, far below what would
/// exhaust time or memory.
pub const USER_FUEL: u64 = 2_000_000;

/// Render a user's template source with the context the built-in
/// templates read (secret values excepted: a user's template never gets
/// them), under [`USER_FUEL`]; its output at most
/// [`crate::input::MAX_INPUT`] bytes (what `--check` reads back). An
/// undefined value names the variables the template reads that the
/// context does not have.
pub fn render_user(
    label: &str,
    source: &str,
    plan: &Plan,
    engine: &Engine,
) -> Result<String, RenderError> {
    let mut env = environment();
    env.set_fuel(Some(USER_FUEL));
    let fail = |e: Error, unknown: &[String]| RenderError::User {
        label: label.to_string(),
        line: e.line(),
        what: match (e.kind(), e.detail()) {
            (minijinja::ErrorKind::OutOfFuel, _) => format!(
                "the template ran past its budget ({USER_FUEL} fuel: about as many instructions, or 64 bytes of data each)"
            ),
            (minijinja::ErrorKind::UndefinedError, _) if !unknown.is_empty() => format!(
                "undefined value: {} (not in the context; docs/formats.md lists it)",
                unknown.join(", ")
            ),
            (kind, Some(detail)) => format!("{kind} ({detail})"),
            (kind, None) => kind.to_string(),
        },
    };
    env.add_template_owned("user-template", source.to_string())
        .map_err(|e| fail(e, &[]))?;
    let template = env
        .get_template("user-template")
        .map_err(|e| fail(e, &[]))?;
    let value = Value::from_object(lazy::LazyContext::new(
        Arc::new(plan.clone()),
        Arc::new(engine.clone()),
        false,
        None,
    ));
    let text = template.render(value).map_err(|e| {
        let mut unknown: Vec<String> = template
            .undeclared_variables(false)
            .into_iter()
            .filter(|name| !lazy::KEYS.contains(&name.as_str()))
            .collect();
        unknown.sort();
        fail(e, &unknown)
    })?;
    if text.len() as u64 > crate::input::MAX_INPUT {
        return Err(RenderError::User {
            label: label.to_string(),
            line: None,
            what: format!(
                "its output is {} bytes, more than the {} a file of ours may hold",
                text.len(),
                crate::input::MAX_INPUT
            ),
        });
    }
    Ok(text)
}

/// The source of the embedded template `name`, to start one's own from.
pub fn template_source(name: &str) -> Option<&'static str> {
    TEMPLATES.iter().find(|(n, _)| *n == name).map(|(_, s)| *s)
}

impl std::error::Error for RenderError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RenderError::Embedded(e) => Some(e),
            RenderError::User { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use minijinja::context;

    #[test]
    fn every_embedded_template_compiles() {
        let env = environment();
        for (name, _) in TEMPLATES {
            env.get_template(name)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }

    #[test]
    fn undefined_variables_are_errors() {
        let mut env = environment();
        env.add_template("t", "{{ nothing }}").unwrap();
        assert!(env.get_template("t").unwrap().render(context! {}).is_err());
    }

    #[test]
    fn filters_quote_words_and_lists() {
        let mut env = environment();
        env.add_template(
            "t",
            "{{ w | sh }}|{{ l | sh }}|{{ l | systemd }}|{{ w | yaml }}",
        )
        .unwrap();
        let out = env
            .get_template("t")
            .unwrap()
            .render(context! { w => "a b", l => vec!["x", "it's"] })
            .unwrap();
        assert_eq!(out, "'a b'|x 'it'\\''s'|x \"it's\"|\"a b\"");
    }

    #[test]
    fn systemd_filter_refuses_line_breaks() {
        let mut env = environment();
        env.add_template("t", "{{ w | systemd }}").unwrap();
        let err = env
            .get_template("t")
            .unwrap()
            .render(context! { w => "a\nb" })
            .unwrap_err();
        assert!(err.to_string().contains("line break"), "{err}");
    }
}
