//! Rendering: every text the tool prints about a plan comes from a minijinja
//! template in `templates/`, embedded in the binary. Templates get one value,
//! [`TemplateContext`], and quote through the filters of [`crate::escape`].

use crate::escape;
use crate::plan::Plan;
use minijinja::syntax::SyntaxConfig;
use minijinja::value::{Serde, Value, ValueKind};
use minijinja::{Environment, Error, ErrorKind, UndefinedBehavior};
use serde::Serialize;

/// The templates shipped in the binary, by name.
const TEMPLATES: &[(&str, &str)] = &[
    (
        "docker-command.j2",
        include_str!("../templates/docker-command.j2"),
    ),
    ("dryrun.txt.j2", include_str!("../templates/dryrun.txt.j2")),
    (
        "run-start.txt.j2",
        include_str!("../templates/run-start.txt.j2"),
    ),
];

/// Version of the [`TemplateContext`] shape.
pub const SCHEMA: u32 = 1;

/// The one value every template receives (and what `-o json` prints).
#[derive(Debug, Serialize)]
pub struct TemplateContext<'a> {
    /// Version of this shape; changes only when a field changes meaning.
    pub schema: u32,
    /// The validated plan.
    pub plan: &'a Plan,
    /// The container engine as commands call it (`docker`).
    pub engine: String,
    /// The words of the command that starts the container; secrets by name.
    pub argv: Vec<String>,
    /// The words of the command that stops the container.
    pub stop_argv: Vec<String>,
    /// Variables passed by name, which must be in the engine's environment.
    pub secret_names: Vec<String>,
}

impl<'a> TemplateContext<'a> {
    pub fn new(plan: &'a Plan, engine: &str) -> Self {
        TemplateContext {
            schema: SCHEMA,
            plan,
            engine: engine.to_string(),
            argv: plan.run_argv(engine),
            stop_argv: plan.stop_argv(engine),
            secret_names: plan.secrets().map(|v| v.name.clone()).collect(),
        }
    }
}

/// The `sh` filter: a string becomes one shell word; a list becomes its
/// words, each quoted, joined by single spaces.
fn sh_filter(value: Value) -> Result<String, Error> {
    match value.kind() {
        ValueKind::String => {
            Ok(escape::shell_word(value.as_str().unwrap_or_default()).into_owned())
        }
        ValueKind::Seq => {
            let words = value
                .try_iter()?
                .map(|w| {
                    w.as_str().map(str::to_owned).ok_or_else(|| {
                        Error::new(
                            ErrorKind::InvalidOperation,
                            "sh: list items must be strings",
                        )
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(escape::shell_command(&words))
        }
        _ => Err(Error::new(
            ErrorKind::InvalidOperation,
            "sh: expects a string or a list of strings",
        )),
    }
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
    for (name, source) in TEMPLATES {
        env.add_template(name, source)
            .expect("embedded templates parse");
    }
    env
}

/// Render the embedded template `name` with `ctx`.
pub fn render(name: &str, ctx: &TemplateContext) -> anyhow::Result<String> {
    let env = environment();
    let tmpl = env.get_template(name)?;
    Ok(tmpl.render(Serde(ctx))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undefined_variables_are_errors() {
        let mut env = environment();
        env.add_template("t", "{{ nothing }}").unwrap();
        assert!(
            env.get_template("t")
                .unwrap()
                .render(minijinja::context! {})
                .is_err()
        );
    }

    #[test]
    fn sh_filter_quotes_words_and_lists() {
        let mut env = environment();
        env.add_template("t", "{{ w | sh }}|{{ l | sh }}").unwrap();
        let out = env
            .get_template("t")
            .unwrap()
            .render(minijinja::context! { w => "a b", l => vec!["x", "it's"] })
            .unwrap();
        assert_eq!(out, "'a b'|x 'it'\\''s'");
    }
}
