//! `--check`: what a write would change, as a report, without writing. A
//! unified diff for each file whose content differs (`--- DIR/x (on disk)`,
//! `+++ DIR/x (generated)`), a line for each missing file, mode difference
//! and stray host directory, and a `stale:` line for each temporary an
//! interrupted run left. The diff of a file that holds secrets is not
//! shown: a CI log is no place for them. Whatever is not a regular file
//! where one goes, or not a real directory where a host's goes, is one
//! line naming what it is, never followed and never read.

use super::modes::Modes;
use super::temporaries::Stale;
use super::tree::Tree;
use super::{Error, Placed, State};
use crate::emit::Secrets;
use crate::escape;
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// The drift found, as lines of text (empty: none).
#[derive(Debug)]
pub struct Drift {
    pub text: String,
    pub items: usize,
    pub matching: usize,
    /// How modes are compared (exactly, or as git keeps them).
    modes: Modes,
    /// The last host directory reported as not a directory (its files
    /// are one line, not one each).
    blocked: Option<PathBuf>,
}

/// Whether either side of a file may hold a secret: a kind of file that
/// can (whatever the plan holds now: the deployed one may have held one),
/// or a file only its owner may read, on disk or generated.
fn may_hold_secrets(file: &Placed, old_mode: u32) -> bool {
    let private = |mode: u32| mode & 0o044 == 0;
    file.artifact.secrets == Secrets::MayHold || private(old_mode) || private(file.artifact.mode)
}

/// `text` with each line's control characters made visible, its line
/// breaks kept: what a report may show of a file's lines.
fn visible_lines(text: &str) -> String {
    let mut shown = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let (body, end) = match line.strip_suffix('\n') {
            Some(body) => (body, "\n"),
            None => (line, ""),
        };
        shown += &escape::visible(body);
        shown += end;
    }
    shown
}

/// The most lines, and bytes, either side may have for its diff to be
/// shown: a diff costs up to the product of the sides' lines, and a
/// planted file of 16 MiB of newlines would take minutes. Every file we
/// write is far below both; beyond them a report says the sizes instead.
pub const DIFF_MAX_LINES: usize = 2_000;
pub const DIFF_MAX_BYTES: usize = 256 << 10;

/// Whether a side is small enough to diff (counted in one pass).
fn diffable(text: &[u8]) -> bool {
    text.len() <= DIFF_MAX_BYTES && text.iter().filter(|b| **b == b'\n').count() < DIFF_MAX_LINES
}

fn diff(path: &Path, old: &[u8], new: &str) -> String {
    if !diffable(old) || !diffable(new.as_bytes()) {
        let shown = path.display();
        return format!(
            "--- {shown} (on disk)\n+++ {shown} (generated)\n(content differs ({} bytes on disk, {} generated); too large to show a diff)\n",
            old.len(),
            new.len()
        );
    }
    // A line from disk is the tree's: a lone `\r` or an escape sequence
    // must reach the reader as text. Both sides are shown the same way, so
    // equal lines stay equal.
    let old = visible_lines(&String::from_utf8_lossy(old));
    let new = visible_lines(new);
    let shown = path.display().to_string();
    similar::TextDiff::from_lines(old.as_str(), new.as_str())
        .unified_diff()
        .header(
            &format!("{shown} (on disk)"),
            &format!("{shown} (generated)"),
        )
        .to_string()
}

impl Drift {
    /// Print the report (the drift on stdout, in colour when `colour`; a
    /// summary on stderr) and give the exit status: 0 when `dir` matches,
    /// 2 when it drifted.
    pub fn print(&self, dir: &Path, colour: bool) -> u8 {
        if colour {
            out!("{}", crate::terminal::paint_report(&self.text));
        } else {
            out!("{}", self.text);
        }
        let how = match self.modes {
            Modes::Exact => "",
            Modes::Git => "; modes compared as git keeps them, executable or not",
        };
        let files = |n: usize| {
            if n == 1 {
                "file matches"
            } else {
                "files match"
            }
        };
        if self.items == 0 {
            errln!(
                "No drift: {} {} in {}{how}.",
                self.matching,
                files(self.matching),
                dir.display()
            );
            0
        } else {
            let differences = if self.items == 1 {
                "difference"
            } else {
                "differences"
            };
            errln!(
                "Drift: {} {differences} in {} ({} {}{how}).",
                self.items,
                dir.display(),
                self.matching,
                files(self.matching)
            );
            2
        }
    }
}

impl Drift {
    /// No drift yet, modes compared as `modes` says.
    pub fn new(modes: Modes) -> Drift {
        Drift {
            text: String::new(),
            items: 0,
            matching: 0,
            modes,
            blocked: None,
        }
    }

    /// Compare `files` with the disk, adding what differs (a fleet hands
    /// them over host by host).
    pub fn add(&mut self, files: &[Placed], tree: Option<&Tree>) -> Result<(), Error> {
        for file in files {
            let shown = file.path.display();
            match file.state(tree)? {
                State::Same => self.matching += 1,
                State::Blocked(found) => {
                    let dir = file.host_dir();
                    if self.blocked.as_deref() != Some(dir) {
                        self.items += 1;
                        let _ = writeln!(
                            self.text,
                            "not a directory: {} is {found} (not followed)",
                            dir.display()
                        );
                        self.blocked = Some(dir.to_path_buf());
                    }
                }
                State::TooLarge { size } => {
                    self.items += 1;
                    let _ = writeln!(
                        self.text,
                        "too large: {shown} is {size} bytes on disk (not read)"
                    );
                }
                State::NotAFile(found) => {
                    self.items += 1;
                    let _ = writeln!(self.text, "not a file: {shown} is {found} (not read)");
                }
                State::Missing => {
                    self.items += 1;
                    let _ = writeln!(self.text, "missing: {shown}");
                }
                State::Differs { old, old_mode } => {
                    let mode_differs = !self.modes.same(old_mode, file.artifact.mode);
                    if old.is_none() && !mode_differs {
                        self.matching += 1;
                        continue;
                    }
                    self.items += 1;
                    if let Some(old) = old {
                        if may_hold_secrets(file, old_mode) {
                            let _ = writeln!(
                                self.text,
                                "--- {shown} (on disk)\n+++ {shown} (generated)\n(content differs; not shown: the file may hold secrets)"
                            );
                        } else {
                            self.text += &diff(&file.path, &old, &file.artifact.text);
                        }
                    }
                    if mode_differs {
                        let _ = writeln!(
                            self.text,
                            "mode: {shown} is {old_mode:04o} on disk, {:04o} generated",
                            file.artifact.mode
                        );
                    }
                }
            }
        }
        Ok(())
    }

    /// Add the files hosts no longer get that are still there.
    pub fn gone(&mut self, gone: &[super::Gone], tree: Option<&Tree>) -> Result<(), Error> {
        for file in gone {
            if file.present(tree)? {
                self.items += 1;
                let _ = writeln!(
                    self.text,
                    "gone: {} is no longer generated (a write removes it)",
                    file.path.display()
                );
            }
        }
        Ok(())
    }

    /// Add the temporaries killed runs left (`stale`) and the host
    /// directories the inventory no longer has (`strays`).
    pub fn finish(&mut self, stale: &[Stale], strays: &[PathBuf]) {
        for file in stale {
            self.items += 1;
            let _ = writeln!(
                self.text,
                "stale: {} (a temporary left by an interrupted run; the next write removes it)",
                escape::visible(&file.path.display().to_string())
            );
        }
        for stray in strays {
            self.items += 1;
            let _ = writeln!(
                self.text,
                "stray: {} is not in the inventory",
                escape::visible(&stray.display().to_string())
            );
        }
    }
}

/// Compare `files` with the disk; `strays` are host directories that the
/// inventory no longer has, `stale` the temporaries killed runs left.
pub fn check(
    files: &[Placed],
    tree: Option<&Tree>,
    strays: &[PathBuf],
    stale: &[Stale],
    modes: Modes,
) -> Result<Drift, Error> {
    let mut drift = Drift::new(modes);
    drift.add(files, tree)?;
    drift.finish(stale, strays);
    Ok(drift)
}
