//! Output to disk: the files of one or many hosts written into a directory
//! (`write`), or compared with what is there (`check`, for `--check`).
//! Both start from the same list of placed files, so what `--check` calls
//! drift is exactly what a write would change.

pub mod check;
pub mod write;

use crate::emit::Artifact;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// One file to be at `path`.
#[derive(Debug)]
pub struct Placed<'a> {
    pub path: PathBuf,
    pub artifact: &'a Artifact,
}

/// How the file on disk compares with the generated one.
#[derive(Debug, PartialEq, Eq)]
pub enum State {
    Missing,
    Same,
    /// `old` is what is on disk now.
    Differs {
        old: Option<Vec<u8>>,
        old_mode: u32,
    },
}

impl Placed<'_> {
    /// Compare with the disk. A path that is a directory is an error.
    pub fn state(&self) -> Result<State, String> {
        let meta = match std::fs::symlink_metadata(&self.path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(State::Missing),
            Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => {
                let dir = self.path.parent().unwrap_or(&self.path);
                return Err(format!(
                    "Error executing command: --out-dir {} is not a directory",
                    dir.display()
                ));
            }
            Err(e) => return Err(fail(&self.path, &e)),
        };
        if meta.is_dir() {
            return Err(format!(
                "Error executing command: cannot write {}: it is a directory",
                self.path.display()
            ));
        }
        let old_mode = meta.permissions().mode() & 0o7777;
        let old = std::fs::read(&self.path).ok();
        let same_text = old.as_deref() == Some(self.artifact.text.as_bytes());
        if same_text && meta.is_file() && old_mode == self.artifact.mode {
            Ok(State::Same)
        } else {
            Ok(State::Differs {
                old: if same_text { None } else { old },
                old_mode,
            })
        }
    }
}

pub(crate) fn fail(path: &Path, e: &std::io::Error) -> String {
    format!(
        "Error executing command: cannot write {}: {e}",
        path.display()
    )
}

/// Where `artifacts` go in `dir` (one host, or `node run`).
pub fn placed_in<'a>(dir: &Path, artifacts: &'a [Artifact]) -> Vec<Placed<'a>> {
    artifacts
        .iter()
        .map(|artifact| Placed {
            path: dir.join(&artifact.file_name),
            artifact,
        })
        .collect()
}
