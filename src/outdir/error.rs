//! What can go wrong with an out dir, as values: each variant's `Display`
//! is the user's line (through `crate::error::executing`, the prefix's one
//! place).

use super::tree::Found;
use std::path::PathBuf;

#[derive(Debug)]
pub enum Error {
    /// `--out-dir` names something that is not a directory.
    NotADirectory {
        dir: PathBuf,
    },
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
    Read {
        dir: PathBuf,
        source: std::io::Error,
    },
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A rename failed after others were done: which hosts (in the order
    /// written; `.` for the out dir's own files) are in place and which
    /// are not (a host may be in both: some of its files in place).
    PartlyWritten {
        failed: Box<Error>,
        written: Vec<String>,
        not_written: Vec<String>,
        files_written: usize,
    },
    /// A generated file named like the out dir's own files.
    ReservedName {
        name: String,
    },
    /// A directory where a file goes: a write would not replace it.
    IsADirectory {
        path: PathBuf,
    },
    /// A host's directory is a link (or not a directory at all).
    HostNotADirectory {
        path: PathBuf,
        found: Found,
    },
    RemoveStale {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The lock file cannot be opened (`why`: the kernel's reason, or what
    /// is there instead of a file).
    LockOpen {
        path: PathBuf,
        why: String,
    },
    Lock {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Another run holds the lock (`holder`: its pid, when the kernel says).
    Busy {
        dir: PathBuf,
        holder: Option<u32>,
        waited: std::time::Duration,
    },
    BadLockWait {
        value: String,
    },
    BadPause {
        value: String,
    },
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        use crate::error::executing;
        match self {
            Error::NotADirectory { dir } => executing(
                f,
                format_args!("--out-dir {} is not a directory", dir.display()),
            ),
            Error::Open { path, source } => {
                executing(f, format_args!("cannot open {}: {source}", path.display()))
            }
            Error::Create { path, source } => executing(
                f,
                format_args!("cannot create {}: {source}", path.display()),
            ),
            Error::Read { dir, source } => {
                executing(f, format_args!("cannot read {}: {source}", dir.display()))
            }
            Error::Write { path, source } => {
                executing(f, format_args!("cannot write {}: {source}", path.display()))
            }
            Error::PartlyWritten {
                failed,
                written,
                not_written,
                files_written,
            } => {
                let span = |hosts: &[String]| match hosts {
                    [] => "none".to_string(),
                    [one] => one.clone(),
                    [first, .., last] => format!("{} hosts, {first} to {last}", hosts.len()),
                };
                write!(
                    f,
                    "{failed}; {files_written} files were already in place, of hosts {} (in order); not written: {}; no temporary is left: run again to finish",
                    span(written),
                    span(not_written)
                )
            }
            Error::ReservedName { name } => executing(
                f,
                format_args!(
                    "a file named {name} cannot go into an out dir: the name is the out dir's own (its lock, or a temporary's)"
                ),
            ),
            Error::IsADirectory { path } => executing(
                f,
                format_args!("cannot write {}: it is a directory", path.display()),
            ),
            Error::HostNotADirectory { path, found } => executing(
                f,
                format_args!(
                    "cannot write into {}: it is {found}, not a directory; nothing is written through it",
                    path.display()
                ),
            ),
            Error::RemoveStale { path, source } => executing(
                f,
                format_args!(
                    "cannot remove the stale temporary {}: {source}",
                    path.display()
                ),
            ),
            Error::LockOpen { path, why } => executing(
                f,
                format_args!("cannot open {} to lock it: {why}", path.display()),
            ),
            Error::Lock { path, source } => {
                executing(f, format_args!("cannot lock {}: {source}", path.display()))
            }
            Error::Busy {
                dir,
                holder,
                waited,
            } => {
                let who = holder.map_or("another process".to_string(), |pid| {
                    format!("process {pid}")
                });
                executing(
                    f,
                    format_args!(
                        "{} is in use by {who} (waited {:.1} s for its lock); try again when it is done",
                        dir.display(),
                        waited.as_secs_f64(),
                    ),
                )
            }
            Error::BadLockWait { value } => executing(
                f,
                format_args!(
                    "CALICOCTL_LOCK_WAIT_MS must be a number of milliseconds, not {value:?}"
                ),
            ),
            Error::BadPause { value } => executing(
                f,
                format_args!("CALICOCTL_TEST_PAUSE must be stage:N or rename:N, not {value:?}"),
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Open { source, .. }
            | Error::Create { source, .. }
            | Error::Read { source, .. }
            | Error::Write { source, .. }
            | Error::RemoveStale { source, .. }
            | Error::Lock { source, .. } => Some(source),
            Error::PartlyWritten { failed, .. } => Some(failed.as_ref()),
            _ => None,
        }
    }
}
