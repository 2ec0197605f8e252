//! Output to disk: the files of one or many hosts written into a directory
//! (`write`), or compared with what is there (`check`, for `--check`).
//! Both start from the same list of placed files, so what `--check` calls
//! drift is exactly what a write would change. Both hold the out dir's lock
//! (`lock`) while they look; a write defers signals (`signals`) and clears
//! what killed runs left (`temporaries`).

pub mod check;
pub mod lock;
mod signals;
pub mod temporaries;
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

/// How a run uses an out dir: how long it waits for another run's lock,
/// and the writer's test pause (`CALICOCTL_LOCK_WAIT_MS` and
/// `CALICOCTL_TEST_PAUSE`, from the variables given).
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    pub lock_wait: std::time::Duration,
    pub pause: write::Pause,
}

impl Settings {
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Settings, String> {
        let lock_wait = match get("CALICOCTL_LOCK_WAIT_MS") {
            None => lock::DEFAULT_WAIT,
            Some(ms) => ms.parse().map(std::time::Duration::from_millis).map_err(|_| {
                format!("Error executing command: CALICOCTL_LOCK_WAIT_MS must be a number of milliseconds, not {ms:?}")
            })?,
        };
        let pause = get("CALICOCTL_TEST_PAUSE")
            .map_or(Ok(write::Pause::Never), |p| write::Pause::parse(&p))?;
        Ok(Settings { lock_wait, pause })
    }

    /// The exclusive lock for writing into `dir`, made first if missing.
    pub fn lock_for_write(&self, dir: &Path) -> Result<lock::Lock, String> {
        write::ensure_dir(dir)?;
        lock::acquire(dir, lock::Kind::Exclusive, self.lock_wait)
    }

    /// The shared lock for comparing with `dir` (none when it does not
    /// exist: there is nothing to read).
    pub fn lock_for_check(&self, dir: &Path) -> Result<Option<lock::Lock>, String> {
        if !dir.is_dir() {
            return Ok(None);
        }
        lock::acquire(dir, lock::Kind::Shared, self.lock_wait).map(Some)
    }
}

/// Say on stderr how many stale temporaries a write removed, if any.
pub fn report_stale(removed: usize) {
    if removed > 0 {
        eprintln!("Removed {removed} stale temporary files left by an interrupted run.");
    }
}

/// The directories directly inside `dir`, sorted (none when it does not
/// exist or cannot be read).
pub fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .collect();
    found.sort();
    found
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
