//! What a person at a terminal sees beyond the bytes a pipe gets: a
//! progress line for large fleets (on stderr, only when stderr is a
//! terminal, cleared at the end, so CI logs stay byte-identical) and colour
//! in `--check`'s report (`--color auto|always|never`, `NO_COLOR`). Both
//! decide here, from the streams themselves, so no other module asks
//! whether it talks to a person.

use std::io::IsTerminal;

/// Fleets at most this large finish before a progress line would help.
pub const PROGRESS_MIN_HOSTS: usize = 300;

/// `--color`: `auto` colours only a terminal, and not under `NO_COLOR`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// A `--color` value that is not one of the three.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadColor(pub String);

impl std::fmt::Display for BadColor {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        crate::error::executing(
            f,
            format_args!("--color must be auto, always or never, not {:?}", self.0),
        )
    }
}

impl ColorChoice {
    pub fn parse(text: &str) -> Result<ColorChoice, BadColor> {
        match text {
            "auto" => Ok(ColorChoice::Auto),
            "always" => Ok(ColorChoice::Always),
            "never" => Ok(ColorChoice::Never),
            other => Err(BadColor(other.to_string())),
        }
    }

    /// Whether stdout gets colour. `NO_COLOR` (set and not empty) turns
    /// `auto` off; an explicit `always` still wins (no-color.org).
    pub fn for_stdout(self) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
                !no_color && std::io::stdout().is_terminal()
            }
        }
    }
}

const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const CYAN: &str = "\x1b[36m";
const YELLOW: &str = "\x1b[33m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

/// `--check`'s report with colour: removed lines red, added green, hunk
/// headers cyan, file headers bold, drift lines (`missing:`, `mode:`,
/// `stale:`, `stray:`) yellow. Every line keeps its text; only escape
/// sequences are added around it.
pub fn paint_report(report: &str) -> String {
    let mut out = String::with_capacity(report.len() + report.len() / 4);
    for line in report.split_inclusive('\n') {
        let (body, newline) = match line.strip_suffix('\n') {
            Some(body) => (body, "\n"),
            None => (line, ""),
        };
        let colour = if body.starts_with("--- ") || body.starts_with("+++ ") {
            BOLD
        } else if body.starts_with("@@") {
            CYAN
        } else if body.starts_with('-') {
            RED
        } else if body.starts_with('+') {
            GREEN
        } else if ["missing: ", "mode: ", "stale: ", "stray: "]
            .iter()
            .any(|p| body.starts_with(p))
        {
            YELLOW
        } else {
            ""
        };
        if colour.is_empty() || body.is_empty() {
            out.push_str(line);
        } else {
            out.push_str(colour);
            out.push_str(body);
            out.push_str(RESET);
            out.push_str(newline);
        }
    }
    out
}

/// The progress line: phase, bar, count of `unit`, whole items per
/// second, time left.
fn style(unit: &str) -> indicatif::ProgressStyle {
    let template =
        format!("{{msg:>8}} {{wide_bar}} {{pos}}/{{len}} {unit}, {{rate}}, {{eta}} left");
    indicatif::ProgressStyle::with_template(&template)
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .with_key(
            "rate",
            |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{:.0}/s", state.per_sec());
            },
        )
}

/// A fleet's progress line on stderr: validated and rendered, then
/// written; rate and time left. Hidden (every call a no-op) unless stderr
/// is a terminal and the fleet is large.
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    pub fn new(hosts: usize) -> Progress {
        let show = hosts > PROGRESS_MIN_HOSTS && std::io::stderr().is_terminal();
        let bar = show.then(|| {
            let bar = indicatif::ProgressBar::new(hosts as u64).with_style(style("hosts"));
            bar.set_message("rendered");
            bar
        });
        Progress { bar }
    }

    /// One more host validated and rendered (from any thread).
    pub fn rendered(&self) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
    }

    /// The write phase: `files` to compare and write.
    pub fn writing(&self, files: usize) {
        if let Some(bar) = &self.bar {
            bar.set_message("written");
            bar.set_length(files as u64);
            bar.reset();
            bar.set_style(style("files"));
        }
    }

    /// One more file compared (and staged where it changed).
    pub fn file_done(&self) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
    }

    /// Remove the line, so that what follows starts on a clean line.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl std::error::Error for BadColor {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn painting_adds_only_escapes() {
        let report =
            "--- a (on disk)\n+++ a (generated)\n@@ -1 +1 @@\n-AS=1\n+AS=2\n same\nstale: x\n";
        let painted = paint_report(report);
        assert!(painted.contains("\x1b[31m-AS=1\x1b[0m\n"));
        assert!(painted.contains("\x1b[32m+AS=2\x1b[0m\n"));
        assert!(painted.contains("\x1b[1m--- a (on disk)\x1b[0m\n"));
        assert!(painted.contains("\x1b[33mstale: x\x1b[0m\n"));
        let plain = regex::Regex::new("\x1b\\[[0-9;]*m")
            .unwrap()
            .replace_all(&painted, "");
        assert_eq!(plain, report);
    }
}
