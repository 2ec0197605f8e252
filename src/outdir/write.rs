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
//! Every one of those is relative to an opened directory, never through a
//! link (`tree.rs`): a link, fifo or device where a file goes is replaced
//! by the rename; a host directory that is a link is refused.

use super::signals::Deferred;
use super::temporaries::{self, Scan, temporary};
use super::tree::{self, Found, HostDir, Tree};
use super::{Error, Placed, State};
use std::io::Write;
use std::os::fd::AsFd;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// What a write did.
#[derive(Debug, Default)]
pub struct Report {
    pub written: Vec<PathBuf>,
    pub unchanged: Vec<PathBuf>,
    /// Files a host no longer gets, removed.
    pub removed: Vec<PathBuf>,
    /// Temporaries of killed runs, removed before writing.
    pub stale_removed: usize,
}

/// The process's umask (read by setting it, then set back at once).
fn umask() -> u32 {
    let mask = rustix::fs::Mode::from_raw_mode(0o077);
    let old = rustix::process::umask(mask);
    rustix::process::umask(old);
    old.as_raw_mode()
}

fn stage(dir: impl AsFd, tmp: &str, file: &Placed, umask: u32) -> std::io::Result<()> {
    let mode = file.artifact.mode;
    let mut handle = tree::create_new_at(dir, tmp, mode)?;
    handle.write_all(file.artifact.text.as_bytes())?;
    if mode & umask != 0 {
        handle.set_permissions(std::fs::Permissions::from_mode(mode))?;
    }
    Ok(())
}

/// Make `dir` exist: one mkdir when its parent exists, as a host
/// directory's does. Whether this call made it (parents included).
pub fn ensure_dir(dir: &Path) -> Result<bool, Error> {
    let result = match std::fs::create_dir(dir) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir).map(|()| true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(false),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(Error::NotADirectory {
                dir: dir.to_path_buf(),
            });
        }
        Err(e) => Err(e),
    };
    result.map_err(|source| Error::Create {
        path: dir.to_path_buf(),
        source,
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
    pub fn parse(text: &str) -> Result<Pause, Error> {
        let bad = || Error::BadPause {
            value: text.to_string(),
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
            errln!("Paused after {what} {n} files (CALICOCTL_TEST_PAUSE).");
            let ms = std::env::var("CALICOCTL_TEST_PAUSE_MS")
                .ok()
                .and_then(|ms| ms.parse().ok())
                .unwrap_or(60_000);
            deferred.pause(std::time::Duration::from_millis(ms));
        }
    }
}

/// One staged file: its temporary's name and its own, in the directory of
/// `host` (None: the out dir), and where it is shown. The host's directory
/// is held open from staging to the end: a temporary is renamed, or taken
/// back, in the very directory it was made in, even if that directory was
/// moved meanwhile.
struct Staged {
    host: Option<String>,
    dir: Option<std::rc::Rc<HostDir>>,
    tmp: String,
    name: String,
    path: PathBuf,
}

/// Whether the name `host` in the out dir still is the directory `held`
/// (not moved away, nor replaced by a link or another directory).
fn still_there(tree: &Tree, host: &str, held: &std::os::fd::OwnedFd) -> std::io::Result<bool> {
    let there = rustix::fs::statat(tree.fd(), host, rustix::fs::AtFlags::SYMLINK_NOFOLLOW);
    let held = rustix::fs::fstat(held).map_err(tree::io)?;
    Ok(there.is_ok_and(|s| s.st_dev == held.st_dev && s.st_ino == held.st_ino))
}

/// Let this process hold as many descriptors as its hard limit allows: a
/// write holds one per host directory it stages into.
fn raise_descriptor_limit() {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        let raised = rustix::process::Rlimit {
            current: limit.maximum,
            maximum: limit.maximum,
        };
        let _ = setrlimit(Resource::Nofile, raised);
    }
}

/// A write in progress: files are compared and staged as they come (a
/// fleet hands them over host by host, so its texts need not all be held
/// at once), then renamed all together by [`Writer::commit`], or taken
/// back by [`Writer::abort`]. Signals are deferred from [`Writer::begin`]
/// to the end (see `signals.rs`). The caller holds the out dir's lock.
pub struct Writer<'r> {
    tree: &'r Tree,
    pause: Pause,
    deferred: Deferred,
    report: Report,
    /// Host directories this write made, to take back when empty.
    dirs: Vec<String>,
    staged: Vec<Staged>,
    /// Files to remove at the commit, after the renames.
    gone: Vec<super::Gone>,
    pid: u32,
    umask: u32,
}

impl<'r> Writer<'r> {
    /// Start a write into `tree`: defer signals, then remove the stale
    /// temporaries where `scan` says earlier runs staged.
    pub fn begin(tree: &'r Tree, scan: Scan, pause: Pause) -> Result<Writer<'r>, Error> {
        let deferred = Deferred::block();
        raise_descriptor_limit();
        let report = Report {
            stale_removed: temporaries::remove_stale(tree, scan)?,
            ..Report::default()
        };
        Ok(Writer {
            tree,
            pause,
            deferred,
            report,
            dirs: Vec::new(),
            staged: Vec::new(),
            gone: Vec::new(),
            pid: std::process::id(),
            umask: umask(),
        })
    }

    /// Run `act` in the directory of `host` (None: the out dir), which
    /// this write made or checked to be a real directory.
    fn in_dir<T>(
        &self,
        host: Option<&str>,
        act: impl FnOnce(std::os::fd::BorrowedFd) -> std::io::Result<T>,
    ) -> std::io::Result<T> {
        let Some(host) = host else {
            return act(self.tree.fd());
        };
        match &*self.tree.host(host)? {
            HostDir::Open(fd) => act(fd.as_fd()),
            HostDir::Missing => Err(std::io::ErrorKind::NotFound.into()),
            HostDir::Not(found) => Err(std::io::Error::other(format!("it is {found}"))),
        }
    }

    /// Run `act` in the directory `file` was staged in.
    fn in_staged_dir<T>(
        &self,
        file: &Staged,
        act: impl FnOnce(std::os::fd::BorrowedFd) -> std::io::Result<T>,
    ) -> std::io::Result<T> {
        match file.dir.as_deref() {
            None => act(self.tree.fd()),
            Some(HostDir::Open(fd)) => act(fd.as_fd()),
            Some(HostDir::Missing) => Err(std::io::ErrorKind::NotFound.into()),
            Some(HostDir::Not(found)) => Err(std::io::Error::other(format!("it is {found}"))),
        }
    }

    /// Remove what was staged from `from` on (where it was staged, even in
    /// a directory moved away since), and the directories made (when
    /// empty); how many temporaries were removed.
    fn undo(&self, from: usize) -> usize {
        let files = &self.staged[from.min(self.staged.len())..];
        for file in files {
            let _ = self.in_staged_dir(file, |dir| tree::remove_at(dir, &file.tmp));
        }
        self.tree.forget();
        for dir in self.dirs.iter().rev() {
            let _ =
                rustix::fs::unlinkat(self.tree.fd(), dir.as_str(), rustix::fs::AtFlags::REMOVEDIR);
        }
        files.len()
    }

    /// A signal that arrived while staging: take everything back and end
    /// the run by it.
    pub fn poll(&mut self) {
        if self.deferred.arrived().is_some() {
            let removed = self.undo(0);
            let root = self.tree.root().display().to_string();
            self.deferred.exit_if_caught(|signal| {
                format!(
                    "{}interrupted by {signal}: nothing changed in {root} ({removed} temporary files removed)",
                    crate::error::PREFIX
                )
            });
        }
    }

    /// Compare `files` with the disk and stage each that differs; `progress`
    /// once per file. A failure takes back everything staged.
    pub fn add(&mut self, files: &[Placed], progress: &dyn Fn()) -> Result<(), Error> {
        let result = self.add_each(files, progress);
        if result.is_err() {
            self.undo(0);
        }
        result
    }

    fn add_each(&mut self, files: &[Placed], progress: &dyn Fn()) -> Result<(), Error> {
        for file in files {
            match file.state(Some(self.tree))? {
                State::Same => {
                    self.report.unchanged.push(file.path.clone());
                    progress();
                    continue;
                }
                State::NotAFile(Found::Directory) => {
                    return Err(Error::IsADirectory {
                        path: file.path.clone(),
                    });
                }
                State::Blocked(found) => {
                    return Err(Error::HostNotADirectory {
                        path: file.host_dir().to_path_buf(),
                        found,
                    });
                }
                State::Missing
                | State::Differs { .. }
                | State::NotAFile(_)
                | State::TooLarge { .. } => {}
            }
            if let Some(host) = file.host
                && self.tree.make_host(host)?
            {
                self.dirs.push(host.to_string());
            }
            let tmp = temporary(&file.artifact.file_name, self.pid);
            let dir = match file.host {
                Some(host) => Some(self.tree.host(host).map_err(|source| Error::Write {
                    path: file.path.clone(),
                    source,
                })?),
                None => None,
            };
            let staged = self.in_dir(file.host, |dir| stage(dir, &tmp, file, self.umask));
            self.staged.push(Staged {
                host: file.host.map(str::to_string),
                dir,
                tmp,
                name: file.artifact.file_name.clone(),
                path: file.path.clone(),
            });
            staged.map_err(|source| Error::Write {
                path: file.path.clone(),
                source,
            })?;
            progress();
            self.pause
                .at(Pause::AfterStaging(self.staged.len()), &mut self.deferred);
            self.poll();
        }
        Ok(())
    }

    /// Remove each of `gone` that is there, at the commit (with the
    /// renames: taken back like them until then).
    pub fn remove(&mut self, gone: &[super::Gone]) -> Result<(), Error> {
        for file in gone {
            if file.present(Some(self.tree))? {
                self.gone.push(file.clone());
            }
        }
        Ok(())
    }

    /// Unlink the files queued by [`Writer::remove`] (a link itself, never
    /// its target).
    fn remove_gone(&mut self) -> Result<(), Error> {
        for file in std::mem::take(&mut self.gone) {
            self.in_dir(file.host.as_deref(), |dir| tree::remove_at(dir, &file.name))
                .map_err(|source| Error::Write {
                    path: file.path.clone(),
                    source,
                })?;
            self.report.removed.push(file.path);
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

    /// Rename the staged file `i` into place (replacing whatever entry is
    /// at its name, never following it), in the directory it was staged
    /// in, and only while that directory is still at its host's name.
    fn rename(&self, i: usize) -> std::io::Result<()> {
        let file = &self.staged[i];
        if let (Some(host), Some(HostDir::Open(held))) = (&file.host, file.dir.as_deref())
            && !still_there(self.tree, host, held)?
        {
            return Err(std::io::Error::other(
                "its host directory was moved or replaced during the write",
            ));
        }
        self.in_staged_dir(file, |dir| {
            rustix::fs::renameat(dir, file.tmp.as_str(), dir, file.name.as_str()).map_err(tree::io)
        })
    }

    /// The error of a rename that failed at staged file `i`: with what
    /// was already in place when some was.
    fn failed_at(&self, i: usize, source: std::io::Error) -> Error {
        let failed = Error::Write {
            path: self.staged[i].path.clone(),
            source,
        };
        if i == 0 {
            return failed;
        }
        let hosts = |files: &[Staged]| {
            let mut names: Vec<String> = Vec::new();
            for f in files {
                let name = f.host.clone().unwrap_or_else(|| ".".to_string());
                if names.last() != Some(&name) {
                    names.push(name);
                }
            }
            names
        };
        Error::PartlyWritten {
            failed: Box::new(failed),
            written: hosts(&self.staged[..i]),
            not_written: hosts(&self.staged[i..]),
            files_written: i,
        }
    }

    /// Make every staged file durable, rename each into place, make the
    /// renames durable. Once renaming, a signal waits for the end.
    pub fn commit(mut self, progress: &dyn Fn()) -> Result<Report, Error> {
        self.poll();
        let root = self.tree.root();
        if self.staged.is_empty() {
            self.remove_gone()?;
            if !self.report.removed.is_empty() {
                self.tree.sync().map_err(|source| Error::Write {
                    path: root.to_path_buf(),
                    source,
                })?;
            }
            return Ok(std::mem::take(&mut self.report));
        }
        if let Err(e) = self.tree.sync() {
            self.undo(0);
            return Err(Error::Write {
                path: root.to_path_buf(),
                source: e,
            });
        }
        for i in 0..self.staged.len() {
            if let Err(e) = self.rename(i) {
                let error = self.failed_at(i, e);
                self.undo(i);
                let _ = self.tree.sync();
                return Err(error);
            }
            self.report.written.push(self.staged[i].path.clone());
            progress();
            self.pause
                .at(Pause::AfterRenaming(i + 1), &mut self.deferred);
        }
        self.remove_gone()?;
        self.tree.sync().map_err(|source| Error::Write {
            path: root.to_path_buf(),
            source,
        })?;
        let written = self.report.written.len();
        let root = root.display().to_string();
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
    tree: &Tree,
    files: &[Placed],
    scan: Scan,
    pause: Pause,
    progress: &dyn Fn(),
) -> Result<Report, Error> {
    let mut writer = Writer::begin(tree, scan, pause)?;
    writer.add(files, progress)?;
    writer.commit(progress)
}
