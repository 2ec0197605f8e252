//! `--out-dir`: every artifact written atomically into a directory, so a
//! reader sees each file whole, old or new, and secrets are never readable
//! by others while being written.

use super::Artifact;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// [`write_artifacts`], creating `dir` (and its parents) first if missing.
pub fn write_artifacts_creating(
    dir: &Path,
    artifacts: &[Artifact],
) -> Result<Vec<PathBuf>, String> {
    if dir.exists() {
        return write_artifacts(dir, artifacts);
    }
    std::fs::create_dir_all(dir).map_err(|e| {
        format!(
            "Error executing command: cannot create {}: {e}",
            dir.display()
        )
    })?;
    write_artifacts(dir, artifacts)
}

/// Write every artifact into `dir` atomically: a temporary file (created
/// 0600, so secrets are never readable by others), fsync, the final mode,
/// then rename. Returns the paths written.
pub fn write_artifacts(dir: &Path, artifacts: &[Artifact]) -> Result<Vec<PathBuf>, String> {
    let fail = |path: &Path, e: std::io::Error| {
        format!(
            "Error executing command: cannot write {}: {e}",
            path.display()
        )
    };
    if !dir.is_dir() {
        return Err(format!(
            "Error executing command: --out-dir {} is not a directory",
            dir.display()
        ));
    }
    // Find what would make a rename fail before anything is written.
    if let Some(a) = artifacts.iter().find(|a| dir.join(&a.file_name).is_dir()) {
        let target = dir.join(&a.file_name);
        return Err(format!(
            "Error executing command: cannot write {}: it is a directory",
            target.display()
        ));
    }
    let mut staged = Vec::new();
    let cleanup = |staged: &[(PathBuf, PathBuf)]| {
        for (tmp, _) in staged {
            let _ = std::fs::remove_file(tmp);
        }
    };
    for artifact in artifacts {
        let target = dir.join(&artifact.file_name);
        let tmp = dir.join(format!(
            ".{}.tmp-{}",
            artifact.file_name,
            std::process::id()
        ));
        let result = (|| {
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&tmp)?;
            file.write_all(artifact.text.as_bytes())?;
            file.set_permissions(std::fs::Permissions::from_mode(artifact.mode))?;
            file.sync_all()
        })();
        if let Err(e) = result {
            let _ = std::fs::remove_file(&tmp);
            cleanup(&staged);
            return Err(fail(&target, e));
        }
        staged.push((tmp, target));
    }
    for (tmp, target) in &staged {
        std::fs::rename(tmp, target).map_err(|e| {
            cleanup(&staged);
            fail(target, e)
        })?;
    }
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(staged.into_iter().map(|(_, target)| target).collect())
}
