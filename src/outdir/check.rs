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
use super::tree::Found;
use super::tree::Tree;
use super::{Error, Placed, State};
use crate::artifact::Secrets;
use crate::escape;
use crate::terminal::Tone;
use std::path::{Path, PathBuf};

/// One difference between the disk and what a write would make.
#[derive(Debug)]
pub enum Item {
    /// A file's content, mode or both differ.
    Differs {
        path: PathBuf,
        content: Option<Content>,
        /// The modes on disk and generated, where they differ.
        mode: Option<(u32, u32)>,
    },
    Missing(PathBuf),
    /// Not a regular file where one goes (never read).
    NotAFile(PathBuf, Found),
    /// Not a real directory where a host's goes (never followed).
    NotADirectory(PathBuf, Found),
    /// A regular file larger than anything we write (never read).
    TooLarge(PathBuf, u64),
    /// A file a write would remove.
    Gone(PathBuf),
    /// A temporary an interrupted run left.
    Stale(PathBuf),
    /// A host directory the inventory does not name.
    Stray(PathBuf),
}

/// How a file's content differs.
#[derive(Debug)]
pub enum Content {
    /// Its unified diff (both sides' lines made visible).
    Diff(String),
    /// Not shown: either side may hold a secret.
    Hidden,
    /// Too large to diff in bounded time: the sizes.
    Sizes { on_disk: usize, generated: usize },
}

/// The drift found, as typed items (empty: none).
#[derive(Debug)]
pub struct Drift {
    pub items: Vec<Item>,
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

fn diff(path: &Path, old: &[u8], new: &str) -> Content {
    if !diffable(old) || !diffable(new.as_bytes()) {
        return Content::Sizes {
            on_disk: old.len(),
            generated: new.len(),
        };
    }
    // A line from disk is the tree's: a lone `\r` or an escape sequence
    // must reach the reader as text. Both sides are shown the same way, so
    // equal lines stay equal.
    let old = visible_lines(&String::from_utf8_lossy(old));
    let new = visible_lines(new);
    let shown = path.display().to_string();
    Content::Diff(
        similar::TextDiff::from_lines(old.as_str(), new.as_str())
            .unified_diff()
            .header(
                &format!("{shown} (on disk)"),
                &format!("{shown} (generated)"),
            )
            .to_string(),
    )
}

/// A path as a report shows it: its control characters made visible.
fn shown(path: &Path) -> String {
    escape::visible(&path.display().to_string()).into_owned()
}

impl Item {
    /// The item's lines, each with how it is coloured: by what the item
    /// is (a diff's lines by their part of the diff).
    pub fn lines(&self) -> Vec<(Tone, String)> {
        let drift = |text: String| vec![(Tone::Drift, text)];
        match self {
            Item::Differs {
                path,
                content,
                mode,
            } => {
                let mut lines = content.as_ref().map_or_else(Vec::new, |c| c.lines(path));
                if let Some((on_disk, generated)) = mode {
                    let text = format!(
                        "mode: {} is {on_disk:04o} on disk, {generated:04o} generated",
                        shown(path)
                    );
                    lines.push((Tone::Drift, text));
                }
                lines
            }
            Item::Missing(path) => drift(format!("missing: {}", shown(path))),
            Item::NotAFile(path, found) => {
                drift(format!("not a file: {} is {found} (not read)", shown(path)))
            }
            Item::NotADirectory(path, found) => drift(format!(
                "not a directory: {} is {found} (not followed)",
                shown(path)
            )),
            Item::TooLarge(path, size) => drift(format!(
                "too large: {} is {size} bytes on disk (not read)",
                shown(path)
            )),
            Item::Gone(path) => drift(format!(
                "gone: {} is no longer generated (a write removes it)",
                shown(path)
            )),
            Item::Stale(path) => drift(format!(
                "stale: {} (a temporary left by an interrupted run; the next write removes it)",
                shown(path)
            )),
            Item::Stray(path) => drift(format!("stray: {} is not in the inventory", shown(path))),
        }
    }
}

impl Item {
    /// The item as a structured entry of `--report json`: its kind and
    /// path, and what differs; a diff's text only where the text report
    /// shows one (JSON escapes every control character itself).
    pub fn json(&self) -> serde_json::Value {
        use serde_json::json;
        let at =
            |kind: &str, path: &Path| json!({"kind": kind, "path": path.display().to_string()});
        match self {
            Item::Differs {
                path,
                content,
                mode,
            } => {
                let mut entry = at("differs", path);
                if let Some(content) = content {
                    entry["content"] = content.json();
                }
                if let Some((on_disk, generated)) = mode {
                    entry["mode"] = json!({
                        "on_disk": format!("{on_disk:04o}"),
                        "generated": format!("{generated:04o}"),
                    });
                }
                entry
            }
            Item::Missing(path) => at("missing", path),
            Item::NotAFile(path, found) => {
                let mut entry = at("not-a-file", path);
                entry["found"] = json!(found.to_string());
                entry
            }
            Item::NotADirectory(path, found) => {
                let mut entry = at("not-a-directory", path);
                entry["found"] = json!(found.to_string());
                entry
            }
            Item::TooLarge(path, size) => {
                let mut entry = at("too-large", path);
                entry["size"] = json!(size);
                entry
            }
            Item::Gone(path) => at("gone", path),
            Item::Stale(path) => at("stale", path),
            Item::Stray(path) => at("stray", path),
        }
    }
}

impl Content {
    fn json(&self) -> serde_json::Value {
        use serde_json::json;
        match self {
            Content::Diff(text) => json!({"shown": "diff", "diff": text}),
            Content::Hidden => json!({"shown": "hidden"}),
            Content::Sizes { on_disk, generated } => {
                json!({"shown": "sizes", "on_disk": on_disk, "generated": generated})
            }
        }
    }

    fn lines(&self, path: &Path) -> Vec<(Tone, String)> {
        let header = |lines: &mut Vec<(Tone, String)>| {
            lines.push((Tone::FileHeader, format!("--- {} (on disk)", shown(path))));
            lines.push((Tone::FileHeader, format!("+++ {} (generated)", shown(path))));
        };
        let mut lines = Vec::new();
        match self {
            Content::Diff(text) => {
                for (i, line) in text.lines().enumerate() {
                    let tone = match line.as_bytes().first() {
                        _ if i < 2 => Tone::FileHeader,
                        Some(b'@') => Tone::Hunk,
                        Some(b'-') => Tone::Removed,
                        Some(b'+') => Tone::Added,
                        _ => Tone::Context,
                    };
                    lines.push((tone, line.to_string()));
                }
            }
            Content::Hidden => {
                header(&mut lines);
                let text = "(content differs; not shown: the file may hold secrets)";
                lines.push((Tone::Context, text.to_string()));
            }
            Content::Sizes { on_disk, generated } => {
                header(&mut lines);
                let text = format!(
                    "(content differs ({on_disk} bytes on disk, {generated} generated); too large to show a diff)"
                );
                lines.push((Tone::Context, text));
            }
        }
        lines
    }
}

impl Drift {
    /// Print the report (the drift on stdout, in colour when `colour`; a
    /// summary on stderr) and give the exit status: 0 when `dir` matches,
    /// 2 when it drifted.
    pub fn print(&self, dir: &Path, colour: bool) -> u8 {
        let mut report = String::new();
        for (tone, line) in self.items.iter().flat_map(Item::lines) {
            if colour {
                report += &crate::terminal::paint(tone, &line);
            } else {
                report += &line;
            }
            report.push('\n');
        }
        out!("{report}");
        self.summarise(dir)
    }

    /// The report as one JSON document on stdout (`--report json`), the
    /// same summary on stderr; the same exit status.
    pub fn print_json(&self, dir: &Path) -> u8 {
        let document = serde_json::json!({
            "check": "files",
            "status": if self.items.is_empty() { "matches" } else { "drift" },
            "directory": dir.display().to_string(),
            "matching": self.matching,
            "differences": self.items.iter().map(Item::json).collect::<Vec<_>>(),
        });
        let text = serde_json::to_string_pretty(&document).unwrap_or_default();
        outln!("{text}");
        self.summarise(dir)
    }

    /// The summary on stderr; 0 when `dir` matches, 2 when it drifted.
    fn summarise(&self, dir: &Path) -> u8 {
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
        let count = self.items.len();
        if count == 0 {
            errln!(
                "No drift: {} {} in {}{how}.",
                self.matching,
                files(self.matching),
                dir.display()
            );
            0
        } else {
            let differences = if count == 1 {
                "difference"
            } else {
                "differences"
            };
            errln!(
                "Drift: {} {differences} in {} ({} {}{how}).",
                count,
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
            items: Vec::new(),
            matching: 0,
            modes,
            blocked: None,
        }
    }

    /// Compare `files` with the disk, adding what differs (a fleet hands
    /// them over host by host).
    pub fn add(&mut self, files: &[Placed], tree: Option<&Tree>) -> Result<(), Error> {
        for file in files {
            let path = file.path.clone();
            match file.state(tree)? {
                State::Same => self.matching += 1,
                State::Blocked(found) => {
                    let dir = file.host_dir();
                    if self.blocked.as_deref() != Some(dir) {
                        self.items
                            .push(Item::NotADirectory(dir.to_path_buf(), found));
                        self.blocked = Some(dir.to_path_buf());
                    }
                }
                State::TooLarge { size } => self.items.push(Item::TooLarge(path, size)),
                State::NotAFile(found) => self.items.push(Item::NotAFile(path, found)),
                State::Missing => self.items.push(Item::Missing(path)),
                State::Differs { old, old_mode } => match self.differs(file, old, old_mode) {
                    Some(item) => self.items.push(item),
                    None => self.matching += 1,
                },
            }
        }
        Ok(())
    }

    /// The item of a file whose content or mode differs (None: it
    /// matches, modes compared as they are).
    fn differs(&self, file: &Placed, old: Option<Vec<u8>>, old_mode: u32) -> Option<Item> {
        let mode_differs = !self.modes.same(old_mode, file.artifact.mode);
        if old.is_none() && !mode_differs {
            return None;
        }
        let content = old.map(|old| match may_hold_secrets(file, old_mode) {
            true => Content::Hidden,
            false => diff(&file.path, &old, &file.artifact.text),
        });
        Some(Item::Differs {
            path: file.path.clone(),
            content,
            mode: mode_differs.then_some((old_mode, file.artifact.mode)),
        })
    }

    /// Add the files hosts no longer get that are still there.
    pub fn gone(&mut self, gone: &[super::Gone], tree: Option<&Tree>) -> Result<(), Error> {
        for file in gone {
            if file.present(tree)? {
                self.items.push(Item::Gone(file.path.clone()));
            }
        }
        Ok(())
    }

    /// Add the temporaries killed runs left (`stale`) and the host
    /// directories the inventory no longer has (`strays`).
    pub fn finish(&mut self, stale: &[Stale], strays: &[PathBuf]) {
        self.items
            .extend(stale.iter().map(|file| Item::Stale(file.path.clone())));
        self.items
            .extend(strays.iter().map(|stray| Item::Stray(stray.clone())));
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every kind of difference is coloured by what it is, the kinds a
    /// report's first words would miss included.
    #[test]
    fn every_kind_has_its_tone() {
        let p = || PathBuf::from("out/h/x");
        let items = [
            Item::Gone(p()),
            Item::NotAFile(p(), Found::Fifo),
            Item::NotADirectory(p(), Found::Link),
            Item::TooLarge(p(), 1 << 30),
            Item::Missing(p()),
            Item::Stale(p()),
            Item::Stray(p()),
        ];
        for item in items {
            let lines = item.lines();
            assert_eq!(lines.len(), 1);
            assert_eq!(lines[0].0, Tone::Drift, "{}", lines[0].1);
        }
        let hidden = Item::Differs {
            path: p(),
            content: Some(Content::Hidden),
            mode: Some((0o644, 0o600)),
        };
        let tones: Vec<Tone> = hidden.lines().into_iter().map(|(t, _)| t).collect();
        assert_eq!(
            tones,
            [
                Tone::FileHeader,
                Tone::FileHeader,
                Tone::Context,
                Tone::Drift
            ]
        );
    }
}
