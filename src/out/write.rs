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
//! are on disk). A fleet of 10,000 hosts is syscall-bound: each new file
//! costs one stat, one mkdir for its host, open, write, close and rename.

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

fn temporary(target: &Path, pid: u32) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    target.with_file_name(format!(".{name}.tmp-{pid}"))
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
/// directory's does.
fn ensure_dir(dir: &Path) -> Result<(), String> {
    let result = match std::fs::create_dir(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => std::fs::create_dir_all(dir),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(format!(
                "Error executing command: --out-dir {} is not a directory",
                dir.display()
            ));
        }
        other => other,
    };
    result.map_err(|e| {
        format!(
            "Error executing command: cannot create {}: {e}",
            dir.display()
        )
    })
}

/// Write `files` (see the module comment). `root` is the directory whose
/// file system is synced.
pub fn write_all(root: &Path, files: &[Placed]) -> Result<Report, String> {
    let mut report = Report::default();
    let mut changed = Vec::new();
    for file in files {
        match file.state()? {
            State::Same => report.unchanged.push(file.path.clone()),
            _ => changed.push(file),
        }
    }
    let mut made: Option<&Path> = None;
    for file in &changed {
        let parent = file.path.parent().unwrap_or(root);
        if made != Some(parent) {
            ensure_dir(parent)?;
            made = Some(parent);
        }
    }
    let (pid, umask) = (std::process::id(), umask());
    let mut staged: Vec<(PathBuf, &Placed)> = Vec::with_capacity(changed.len());
    let cleanup = |staged: &[(PathBuf, &Placed)]| {
        for (tmp, _) in staged {
            let _ = std::fs::remove_file(tmp);
        }
    };
    for file in changed {
        let tmp = temporary(&file.path, pid);
        if let Err(e) = stage(&tmp, file, umask) {
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
