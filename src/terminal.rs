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

/// What a line of `--check`'s report is, which says its colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// A diff's `---`/`+++` lines: bold.
    FileHeader,
    /// A hunk's `@@` line: cyan.
    Hunk,
    /// A line only on disk: red.
    Removed,
    /// A line only generated: green.
    Added,
    /// A diff's unchanged line, or a note: as it is.
    Context,
    /// Every other difference (missing, mode, not a file, too large, gone,
    /// stale, stray...): yellow.
    Drift,
}

/// `line` in its tone's colour: only escape sequences are added around
/// it, and an empty line stays empty.
pub fn paint(tone: Tone, line: &str) -> String {
    let colour = match tone {
        Tone::FileHeader => BOLD,
        Tone::Hunk => CYAN,
        Tone::Removed => RED,
        Tone::Added => GREEN,
        Tone::Drift => YELLOW,
        Tone::Context => "",
    };
    if colour.is_empty() || line.is_empty() {
        return line.to_string();
    }
    format!("{colour}{line}{RESET}")
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
        assert_eq!(paint(Tone::Removed, "-AS=1"), "\x1b[31m-AS=1\x1b[0m");
        assert_eq!(paint(Tone::Added, "+AS=2"), "\x1b[32m+AS=2\x1b[0m");
        assert_eq!(paint(Tone::FileHeader, "--- a"), "\x1b[1m--- a\x1b[0m");
        assert_eq!(paint(Tone::Drift, "gone: x"), "\x1b[33mgone: x\x1b[0m");
        assert_eq!(paint(Tone::Context, " same"), " same");
        assert_eq!(paint(Tone::Drift, ""), "");
    }
}
