//! Writing placed files: every file atomic (old or new, never half), the
//! whole set durable with two file-system syncs instead of one fsync per
//! file, unchanged files left alone (their mtime stays), secrets never
//! readable by others while being written.
//!
//! The order: check every target, create missing directories, stage each
//! changed file as a temporary file beside its target (created 0600, then
//! given its mode), `syncfs` (the data is on disk), rename each into place,
//! `syncfs` again (the renames are on disk).

use super::{Placed, State, fail};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// What a write did.
#[derive(Debug, Default)]
pub struct Report {
    pub written: Vec<PathBuf>,
    pub unchanged: Vec<PathBuf>,
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

fn temporary(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    target.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}

fn stage(tmp: &Path, file: &Placed) -> std::io::Result<()> {
    let mut handle = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(tmp)?;
    handle.write_all(file.artifact.text.as_bytes())?;
    handle.set_permissions(std::fs::Permissions::from_mode(file.artifact.mode))
}

/// Directories that must exist, in creation order, checked to be
/// directories where they exist.
fn parents(files: &[Placed]) -> Result<Vec<PathBuf>, String> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    for file in files {
        let Some(parent) = file.path.parent() else {
            continue;
        };
        if dirs.last().is_some_and(|d| d == parent) {
            continue;
        }
        if parent.exists() && !parent.is_dir() {
            return Err(format!(
                "Error executing command: --out-dir {} is not a directory",
                parent.display()
            ));
        }
        dirs.push(parent.to_path_buf());
    }
    Ok(dirs)
}

/// Write `files` (see the module comment). `root` is the directory whose
/// file system is synced.
pub fn write_all(root: &Path, files: &[Placed]) -> Result<Report, String> {
    let mut report = Report::default();
    let mut changed = Vec::new();
    let dirs = parents(files)?;
    for file in files {
        match file.state()? {
            State::Same => report.unchanged.push(file.path.clone()),
            _ => changed.push(file),
        }
    }
    for dir in dirs.iter().filter(|d| !d.is_dir()) {
        std::fs::create_dir_all(dir).map_err(|e| {
            format!(
                "Error executing command: cannot create {}: {e}",
                dir.display()
            )
        })?;
    }
    let mut staged: Vec<(PathBuf, &Placed)> = Vec::with_capacity(changed.len());
    let cleanup = |staged: &[(PathBuf, &Placed)]| {
        for (tmp, _) in staged {
            let _ = std::fs::remove_file(tmp);
        }
    };
    for file in changed {
        let tmp = temporary(&file.path);
        if let Err(e) = stage(&tmp, file) {
            let _ = std::fs::remove_file(&tmp);
            cleanup(&staged);
            return Err(fail(&file.path, &e));
        }
        staged.push((tmp, file));
    }
    if staged.is_empty() {
        return Ok(report);
    }
    if let Err(e) = sync_file_system(root) {
        cleanup(&staged);
        return Err(fail(root, &e));
    }
    for (i, (tmp, file)) in staged.iter().enumerate() {
        if let Err(e) = std::fs::rename(tmp, &file.path) {
            cleanup(&staged[i..]);
            return Err(fail(&file.path, &e));
        }
        report.written.push(file.path.clone());
    }
    sync_file_system(root).map_err(|e| fail(root, &e))?;
    Ok(report)
}
