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

/// What a write has made so far that a failure or a signal before the
/// renames takes back: its temporaries and the directories it created.
#[derive(Default)]
struct Staging<'a> {
    dirs: Vec<PathBuf>,
    files: Vec<(PathBuf, &'a Placed<'a>)>,
}

impl Staging<'_> {
    /// Remove what was staged from `from` on, and the directories made
    /// (when empty); how many temporaries were removed.
    fn undo(&self, from: usize) -> usize {
        let files = &self.files[from.min(self.files.len())..];
        for (tmp, _) in files {
            let _ = std::fs::remove_file(tmp);
        }
        for dir in self.dirs.iter().rev() {
            let _ = std::fs::remove_dir(dir);
        }
        files.len()
    }
}

/// Stage every changed file (directories first), or take everything back
/// and fail; a signal takes everything back and ends the run.
fn stage_all<'a>(
    root: &Path,
    changed: &[&'a Placed<'a>],
    pause: Pause,
    deferred: &mut Deferred,
    progress: &dyn Fn(),
) -> Result<Staging<'a>, String> {
    let mut staging = Staging::default();
    let mut made: Option<&Path> = None;
    for file in changed {
        let parent = file.path.parent().unwrap_or(root);
        if made != Some(parent) {
            let created = ensure_dir(parent).inspect_err(|_| {
                staging.undo(0);
            })?;
            if created {
                staging.dirs.push(parent.to_path_buf());
            }
            made = Some(parent);
        }
    }
    let (pid, umask) = (std::process::id(), umask());
    for (i, file) in changed.iter().enumerate() {
        let tmp = temporary(&file.path, pid);
        let staged = stage(&tmp, file, umask);
        staging.files.push((tmp, file));
        if let Err(e) = staged {
            staging.undo(0);
            return Err(fail(&file.path, &e));
        }
        progress();
        pause.at(Pause::AfterStaging(i + 1), deferred);
        if deferred.arrived().is_some() {
            let removed = staging.undo(0);
            deferred.exit_if_caught(|signal| {
                format!(
                    "Error executing command: interrupted by {signal}: nothing changed in {} ({removed} temporary files removed)",
                    root.display()
                )
            });
        }
    }
    Ok(staging)
}

/// Write `files` (see the module comment), after removing the stale
/// temporaries of `scan` (the directories where earlier runs staged). The
/// caller holds the out dir's exclusive lock; `root` is the directory whose
/// file system is synced. `progress` is called once per file, as it is
/// found unchanged or staged.
pub fn write_all(
    root: &Path,
    files: &[Placed],
    scan: &[PathBuf],
    pause: Pause,
    progress: &dyn Fn(),
) -> Result<Report, String> {
    let mut deferred = Deferred::block();
    let mut report = Report {
        stale_removed: temporaries::remove_stale(scan)?,
        ..Report::default()
    };
    let mut changed = Vec::new();
    for file in files {
        match file.state()? {
            State::Same => {
                report.unchanged.push(file.path.clone());
                progress();
            }
            _ => changed.push(file),
        }
    }
    let staging = stage_all(root, &changed, pause, &mut deferred, progress)?;
    if staging.files.is_empty() {
        return Ok(report);
    }
    if let Err(e) = sync_file_system(root) {
        staging.undo(0);
        return Err(fail(root, &e));
    }
    // From here on every target is renamed before a signal is acted on.
    for (i, (tmp, file)) in staging.files.iter().enumerate() {
        if let Err(e) = std::fs::rename(tmp, &file.path) {
            staging.undo(i);
            return Err(fail(&file.path, &e));
        }
        report.written.push(file.path.clone());
        pause.at(Pause::AfterRenaming(i + 1), &mut deferred);
    }
    sync_file_system(root).map_err(|e| fail(root, &e))?;
    let written = report.written.len();
    deferred.exit_if_caught(|signal| {
        format!(
            "Interrupted by {signal} during the renames: finished them first; {written} files written in {}.",
            root.display()
        )
    });
    Ok(report)
}
