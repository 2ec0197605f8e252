//! The out-dir writer: the files of one or many hosts written into a
//! directory (`write`), or compared with what is there (`check`, for
//! `--check`).
//! Both start from the same list of placed files, so what `--check` calls
//! drift is exactly what a write would change. Both hold the out dir's lock
//! (`lock`) while they look; a write defers signals (`signals`) and clears
//! what killed runs left (`temporaries`). Everything below the out dir is
//! opened relative to the directory above it, never through a link
//! (`tree`).

pub mod check;
mod error;
pub mod lock;
pub mod modes;
mod signals;
pub mod temporaries;
pub mod tree;
pub mod write;

pub use error::Error;

use crate::artifact::Artifact;
use std::path::{Path, PathBuf};
use tree::{Entry, Found, Tree};

/// One file to be at `path`: `name` in the directory of `host` (None: the
/// out dir itself).
#[derive(Debug)]
pub struct Placed<'a> {
    pub path: PathBuf,
    pub host: Option<&'a str>,
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
    /// Something not a regular file is at the file's name (never read).
    NotAFile(Found),
    /// The host's directory is not a real directory (never followed).
    Blocked(Found),
    /// A regular file too large to be ours (never read).
    TooLarge {
        size: u64,
    },
}

impl Placed<'_> {
    /// Compare with the disk (nothing there when `tree` is None: the out
    /// dir does not exist). Nothing is followed or opened but a regular
    /// file (see `tree.rs`).
    pub fn state(&self, tree: Option<&Tree>) -> Result<State, Error> {
        let Some(tree) = tree else {
            return Ok(State::Missing);
        };
        let entry = tree
            .read(self.host, &self.artifact.file_name)
            .map_err(|source| Error::Read {
                dir: self.path.clone(),
                source,
            })?;
        let (old, old_mode) = match entry {
            Err(found) => return Ok(State::Blocked(found)),
            Ok(Entry::Missing) => return Ok(State::Missing),
            Ok(Entry::Other(found)) => return Ok(State::NotAFile(found)),
            Ok(Entry::TooLarge { size }) => return Ok(State::TooLarge { size }),
            Ok(Entry::File { bytes, mode }) => (bytes, mode),
        };
        let same_text = old == self.artifact.text.as_bytes();
        if same_text && old_mode == self.artifact.mode {
            Ok(State::Same)
        } else {
            Ok(State::Differs {
                old: (!same_text).then_some(old),
                old_mode,
            })
        }
    }

    /// Where this file's host directory is shown.
    pub fn host_dir(&self) -> &Path {
        self.path.parent().unwrap_or(&self.path)
    }
}

/// A file a host's directory may hold from an earlier run that this run
/// no longer generates for it (Quadlet's env file, once the host has no
/// secrets): a write removes it, a check reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gone {
    /// The host (None: a file of the out dir itself, `node run`'s).
    pub host: Option<String>,
    pub name: String,
    pub path: PathBuf,
}

impl Gone {
    /// Whether it is there to remove: a file or a link (never followed),
    /// not a directory; nothing when the host has no real directory.
    pub fn present(&self, tree: Option<&Tree>) -> Result<bool, Error> {
        let Some(tree) = tree else {
            return Ok(false);
        };
        let found = tree
            .kind(self.host.as_deref(), &self.name)
            .map_err(|source| Error::Read {
                dir: self.path.clone(),
                source,
            })?;
        Ok(found.is_some_and(|f| f != tree::Found::Directory))
    }
}

/// The files of `format` that `artifacts` (of `host`, placed in `dir`)
/// lack but an earlier run may have written there.
pub fn gone(
    dir: &Path,
    host: Option<&str>,
    optional: &[&str],
    artifacts: &[Artifact],
) -> Vec<Gone> {
    let base = host.map_or_else(|| dir.to_path_buf(), |h| dir.join(h));
    (optional.iter())
        .filter(|name| !artifacts.iter().any(|a| a.file_name == **name))
        .map(|name| Gone {
            host: host.map(str::to_string),
            name: name.to_string(),
            path: base.join(name),
        })
        .collect()
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
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Settings, Error> {
        let lock_wait = match get("CALICOCTL_LOCK_WAIT_MS") {
            None => lock::DEFAULT_WAIT,
            Some(ms) => ms
                .parse()
                .map(std::time::Duration::from_millis)
                .map_err(|_| Error::BadLockWait { value: ms.clone() })?,
        };
        let pause = get("CALICOCTL_TEST_PAUSE")
            .map_or(Ok(write::Pause::Never), |p| write::Pause::parse(&p))?;
        Ok(Settings { lock_wait, pause })
    }

    /// `dir` opened for writing, made first if missing, and its exclusive
    /// lock.
    pub fn lock_for_write(&self, dir: &Path) -> Result<(Tree, lock::Lock), Error> {
        write::ensure_dir(dir)?;
        let tree = open_tree(dir)?.ok_or_else(|| Error::Open {
            path: dir.to_path_buf(),
            source: std::io::ErrorKind::NotFound.into(),
        })?;
        let lock = lock::acquire(&tree, lock::Kind::Exclusive, self.lock_wait)?;
        Ok((tree, lock))
    }

    /// `dir` opened for comparing, and its shared lock (None when it does
    /// not exist: there is nothing to read).
    pub fn lock_for_check(&self, dir: &Path) -> Result<Option<(Tree, lock::Lock)>, Error> {
        let Some(tree) = open_tree(dir)? else {
            return Ok(None);
        };
        let lock = lock::acquire(&tree, lock::Kind::Shared, self.lock_wait)?;
        Ok(Some((tree, lock)))
    }
}

/// Say on stderr how many stale temporaries a write removed, if any.
pub fn report_stale(removed: usize) {
    if removed > 0 {
        errln!("Removed {removed} stale temporary files left by an interrupted run.");
    }
}

/// Open the out dir `dir` (None: it does not exist).
pub fn open_tree(dir: &Path) -> Result<Option<Tree>, Error> {
    match Tree::open(dir) {
        Err(e) if e.raw_os_error() == Some(libc::ENOTDIR) => Err(Error::NotADirectory {
            dir: dir.to_path_buf(),
        }),
        Err(source) => Err(Error::Open {
            path: dir.to_path_buf(),
            source,
        }),
        Ok(tree) => Ok(tree),
    }
}

/// The names of the real directories directly inside the out dir (links
/// to directories are not), sorted.
pub fn subdirs(tree: &Tree) -> Result<Vec<String>, Error> {
    let entries = tree::list(tree.fd()).map_err(|source| Error::Read {
        dir: tree.root().to_path_buf(),
        source,
    })?;
    let mut found: Vec<String> = entries
        .into_iter()
        .filter(|(_, kind)| *kind == Some(Found::Directory))
        .map(|(name, _)| name)
        .collect();
    found.sort();
    Ok(found)
}

/// Where `artifacts` go: in `root`, or in its directory `host`.
/// Refuse a file that would take a name of the out dir's own: its lock
/// or a temporary's (a `--template` named `.calicoctl.lock.j2` would write
/// over the held lock; one named `.x.tmp-1.j2` would be stale forever).
pub fn refuse_reserved(artifacts: &[Artifact]) -> Result<(), Error> {
    let reserved = |name: &str| name == lock::LOCK_FILE || temporaries::is_temporary(name);
    match artifacts.iter().find(|a| reserved(&a.file_name)) {
        Some(a) => Err(Error::ReservedName {
            name: a.file_name.clone(),
        }),
        None => Ok(()),
    }
}

pub fn placed_in<'a>(
    root: &Path,
    host: Option<&'a str>,
    artifacts: &'a [Artifact],
) -> Vec<Placed<'a>> {
    let dir = host.map_or_else(|| root.to_path_buf(), |h| root.join(h));
    artifacts
        .iter()
        .map(|artifact| Placed {
            path: dir.join(&artifact.file_name),
            host,
            artifact,
        })
        .collect()
}
