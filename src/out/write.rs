//! Writing placed files: every file atomic (old or new, never half), the
//! whole set durable with two file-system syncs instead of one fsync per
//! file, unchanged files left alone (their mtime stays), secrets never
//! readable by others while being written.
//!
//! The order: compare every target with the disk, create the directories
//! of changed files, stage each changed file as a temporary file beside its
//! target (created with its final mode, so a 0600 file is never readable by
//! others; `fchmod` only where the umask took bits away), `syncfs` (the
//! data is on disk), rename each into place, `syncfs` again (the renames
//! are on disk). Before all that, under the out dir's exclusive lock, the
//! temporaries killed runs left are removed; while staging, a signal takes
//! every temporary back; once renaming, the renames are finished first
//! (`signals.rs`). A fleet of 10,000 hosts is syscall-bound: each new file
//! costs one stat, one mkdir for its host, open, write, close and rename.

use super::signals::Deferred;
use super::temporaries::{self, temporary};
use super::{Placed, State, fail};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// What a write did.
#[derive(Debug, Default)]
pub struct Report {
    pub written: Vec<PathBuf>,
    pub unchanged: Vec<PathBuf>,
    /// Temporaries of killed runs, removed before writing.
    pub stale_removed: usize,
}

/// Make the data and metadata of the file system holding `dir` durable.
fn sync_file_system(dir: &Path) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let handle = std::fs::File::open(dir)?;
    // SAFETY: syncfs takes a file descriptor we own and keep open for the call.
    let status = unsafe { libc::syncfs(handle.as_raw_fd()) };
    if status == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// The process's umask (read by setting it, then set back at once).
fn umask() -> u32 {
    // SAFETY: umask only swaps the process's file mode mask.
    let old = unsafe { libc::umask(0o077) };
    // SAFETY: as above, restoring the value read.
    unsafe { libc::umask(old) };
    old
}

fn stage(tmp: &Path, file: &Placed, umask: u32) -> std::io::Result<()> {
    let mode = file.artifact.mode;
    let mut handle = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(tmp)?;
    handle.write_all(file.artifact.text.as_bytes())?;
    if mode & umask != 0 {
        handle.set_permissions(std::fs::Permissions::from_mode(mode))?;
    }
    Ok(())
}

/// Make `dir` exist: one mkdir when its parent exists, as a host
/// directory's does. Whether this call made it (parents included).
pub fn ensure_dir(dir: &Path) -> Result<bool, String> {
    let result = match std::fs::create_dir(dir) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir).map(|()| true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(false),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(format!(
                "Error executing command: --out-dir {} is not a directory",
                dir.display()
            ));
        }
        Err(e) => Err(e),
    };
    result.map_err(|e| {
        format!(
            "Error executing command: cannot create {}: {e}",
            dir.display()
        )
    })
}

/// The test hook `CALICOCTL_TEST_PAUSE` (`stage:N` or `rename:N`): stop
/// after staging (or renaming) N files and wait up to a minute for a
/// signal, saying so on stderr, so that tests can signal or kill a writer
/// at a known point.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Pause {
    #[default]
    Never,
    AfterStaging(usize),
    AfterRenaming(usize),
}

impl Pause {
    pub fn parse(text: &str) -> Result<Pause, String> {
        let bad = || {
            format!(
                "Error executing command: CALICOCTL_TEST_PAUSE must be stage:N or rename:N, not {text:?}"
            )
        };
        let (at, n) = text.split_once(':').ok_or_else(bad)?;
        let n: usize = n.parse().map_err(|_| bad())?;
        match at {
            "stage" => Ok(Pause::AfterStaging(n)),
            "rename" => Ok(Pause::AfterRenaming(n)),
            _ => Err(bad()),
        }
    }

    fn at(self, here: Pause, deferred: &mut Deferred) {
        if self == here {
            let (what, n) = match here {
                Pause::AfterStaging(n) => ("staging", n),
                Pause::AfterRenaming(n) => ("renaming", n),
                Pause::Never => return,
            };
            eprintln!("Paused after {what} {n} files (CALICOCTL_TEST_PAUSE).");
            deferred.pause(std::time::Duration::from_secs(60));
        }
    }
}

/// A write in progress: files are compared and staged as they come (a
/// fleet hands them over host by host, so its texts need not all be held
/// at once), then renamed all together by [`Writer::commit`], or taken
/// back by [`Writer::abort`]. Signals are deferred from [`Writer::begin`]
/// to the end (see `signals.rs`). The caller holds the out dir's lock.
pub struct Writer<'r> {
    root: &'r Path,
    pause: Pause,
    deferred: Deferred,
    report: Report,
    /// Directories this write made, to take back when empty.
    dirs: Vec<PathBuf>,
    /// (temporary, target) of every staged file.
    staged: Vec<(PathBuf, PathBuf)>,
    /// The last directory made sure of (files come grouped by host).
    made: Option<PathBuf>,
    pid: u32,
    umask: u32,
}

impl<'r> Writer<'r> {
    /// Start a write into `root`: defer signals, then remove the stale
    /// temporaries of `scan` (the directories where earlier runs staged).
    pub fn begin(root: &'r Path, scan: &[PathBuf], pause: Pause) -> Result<Writer<'r>, String> {
        let deferred = Deferred::block();
        let report = Report {
            stale_removed: temporaries::remove_stale(scan)?,
            ..Report::default()
        };
        Ok(Writer {
            root,
            pause,
            deferred,
            report,
            dirs: Vec::new(),
            staged: Vec::new(),
            made: None,
            pid: std::process::id(),
            umask: umask(),
        })
    }

    /// Remove what was staged from `from` on, and the directories made
    /// (when empty); how many temporaries were removed.
    fn undo(&self, from: usize) -> usize {
        let files = &self.staged[from.min(self.staged.len())..];
        for (tmp, _) in files {
            let _ = std::fs::remove_file(tmp);
        }
        for dir in self.dirs.iter().rev() {
            let _ = std::fs::remove_dir(dir);
        }
        files.len()
    }

    /// A signal that arrived while staging: take everything back and end
    /// the run by it.
    pub fn poll(&mut self) {
        if self.deferred.arrived().is_some() {
            let removed = self.undo(0);
            let root = self.root.display().to_string();
            self.deferred.exit_if_caught(|signal| {
                format!(
                    "Error executing command: interrupted by {signal}: nothing changed in {root} ({removed} temporary files removed)"
                )
            });
        }
    }

    fn ensure_parent(&mut self, target: &Path) -> Result<(), String> {
        let parent = target.parent().unwrap_or(self.root);
        if self.made.as_deref() != Some(parent) {
            if ensure_dir(parent)? {
                self.dirs.push(parent.to_path_buf());
            }
            self.made = Some(parent.to_path_buf());
        }
        Ok(())
    }

    /// Compare `files` with the disk and stage each that differs; `progress`
    /// once per file. A failure takes back everything staged.
    pub fn add(&mut self, files: &[Placed], progress: &dyn Fn()) -> Result<(), String> {
        let result = self.add_each(files, progress);
        if result.is_err() {
            self.undo(0);
        }
        result
    }

    fn add_each(&mut self, files: &[Placed], progress: &dyn Fn()) -> Result<(), String> {
        for file in files {
            if file.state()? == State::Same {
                self.report.unchanged.push(file.path.clone());
                progress();
                continue;
            }
            self.ensure_parent(&file.path)?;
            let tmp = temporary(&file.path, self.pid);
            let staged = stage(&tmp, file, self.umask);
            self.staged.push((tmp, file.path.clone()));
            staged.map_err(|e| fail(&file.path, &e))?;
            progress();
            self.pause
                .at(Pause::AfterStaging(self.staged.len()), &mut self.deferred);
            self.poll();
        }
        Ok(())
    }

    /// How many files are staged so far.
    pub fn staged(&self) -> usize {
        self.staged.len()
    }

    /// Take back everything staged (another part of the run failed).
    pub fn abort(self) {
        self.undo(0);
    }

    /// Make every staged file durable, rename each into place, make the
    /// renames durable. Once renaming, a signal waits for the end.
    pub fn commit(mut self, progress: &dyn Fn()) -> Result<Report, String> {
        self.poll();
        if self.staged.is_empty() {
            return Ok(std::mem::take(&mut self.report));
        }
        if let Err(e) = sync_file_system(self.root) {
            self.undo(0);
            return Err(fail(self.root, &e));
        }
        for i in 0..self.staged.len() {
            let (tmp, target) = &self.staged[i];
            if let Err(e) = std::fs::rename(tmp, target) {
                let message = fail(target, &e);
                self.undo(i);
                return Err(message);
            }
            self.report.written.push(target.clone());
            progress();
            self.pause
                .at(Pause::AfterRenaming(i + 1), &mut self.deferred);
        }
        sync_file_system(self.root).map_err(|e| fail(self.root, &e))?;
        let written = self.report.written.len();
        let root = self.root.display().to_string();
        self.deferred.exit_if_caught(|signal| {
            format!(
                "Interrupted by {signal} during the renames: finished them first; {written} files written in {root}."
            )
        });
        Ok(std::mem::take(&mut self.report))
    }
}

/// Write `files` at once (see the module comment and [`Writer`]).
pub fn write_all(
    root: &Path,
    files: &[Placed],
    scan: &[PathBuf],
    pause: Pause,
    progress: &dyn Fn(),
) -> Result<Report, String> {
    let mut writer = Writer::begin(root, scan, pause)?;
    writer.add(files, progress)?;
    writer.commit(progress)
}
