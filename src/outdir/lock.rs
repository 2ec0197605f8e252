//! One writer per out dir. Two runs writing into the same directory at
//! once would interleave their renames (half of one fleet, half of the
//! other) and each take the other's temporaries for stale ones. So every
//! write holds an exclusive `flock` on `DIR/.calicoctl.lock` for the whole
//! run, and every `--check` a shared one (checks may run side by side, never
//! beside a write). The lock file holds no data: flock needs only a file.
//! A run that finds the lock taken retries for a few seconds, then fails
//! naming the holder's pid, which the kernel lists in `/proc/locks`. The
//! lock file is opened inside the opened out dir and never through a link
//! (a planted `.calicoctl.lock -> /etc/...` would otherwise have us create
//! or lock a file of the link's choosing).

use super::Error;
use super::tree::{self, Found, Tree};
use rustix::fs::{FlockOperation, Mode, OFlags};
use std::os::unix::fs::MetadataExt;
use std::time::{Duration, Instant};

/// The lock file's name inside an out dir.
pub const LOCK_FILE: &str = ".calicoctl.lock";

/// How long a run waits for a lock held by another, by default.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(5);

/// A held lock; dropping it (or the process ending, however it ends)
/// releases it.
#[derive(Debug)]
pub struct Lock {
    _file: Option<std::fs::File>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// For `--check`: any number at once, never beside a writer.
    Shared,
    /// For a write: alone.
    Exclusive,
}

fn try_flock(file: &std::fs::File, kind: Kind) -> std::io::Result<bool> {
    let op = match kind {
        Kind::Shared => FlockOperation::NonBlockingLockShared,
        Kind::Exclusive => FlockOperation::NonBlockingLockExclusive,
    };
    match rustix::fs::flock(file, op) {
        Ok(()) => Ok(true),
        Err(rustix::io::Errno::WOULDBLOCK | rustix::io::Errno::INTR) => Ok(false),
        Err(e) => Err(tree::io(e)),
    }
}

/// The pid holding a flock on `file`, from `/proc/locks` (lines such as
/// `1: FLOCK  ADVISORY  WRITE 1234 fd:01:5678 0 EOF`; waiting ones carry
/// `->` and are skipped). None when the kernel does not say.
fn holder(file: &std::fs::File) -> Option<u32> {
    let meta = file.metadata().ok()?;
    let dev = meta.dev();
    let id = format!(
        "{:02x}:{:02x}:{}",
        libc::major(dev),
        libc::minor(dev),
        meta.ino()
    );
    let locks = std::fs::read_to_string("/proc/locks").ok()?;
    locks.lines().find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.get(1) == Some(&"->") || fields.get(1) != Some(&"FLOCK") {
            return None;
        }
        (fields.get(5) == Some(&id.as_str()))
            .then(|| fields.get(4)?.parse().ok())
            .flatten()
    })
}

fn open(tree: &Tree, kind: Kind) -> std::io::Result<std::fs::File> {
    let flags = OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NONBLOCK | OFlags::NOCTTY;
    let create = OFlags::RDWR | OFlags::CREATE;
    let mode = Mode::from_raw_mode(0o644);
    if let Some(found) = tree::kind_at(tree.fd(), LOCK_FILE)?
        && found != Found::File
    {
        // Not opened at all: a device's open can act.
        return Err(std::io::Error::other(format!("it is {found}")));
    }
    let first = match kind {
        Kind::Exclusive => flags | create,
        Kind::Shared => flags | OFlags::RDONLY,
    };
    let fd = match rustix::fs::openat(tree.fd(), LOCK_FILE, first, mode) {
        // A check in a directory no write has locked yet: make the file if
        // it may (so a writer starting now waits for it).
        Err(rustix::io::Errno::NOENT) if kind == Kind::Shared => {
            rustix::fs::openat(tree.fd(), LOCK_FILE, flags | create, mode)
        }
        other => other,
    };
    let file = std::fs::File::from(fd.map_err(tree::io)?);
    if !file.metadata()?.is_file() {
        return Err(std::io::Error::other("it is not a regular file"));
    }
    Ok(file)
}

/// Why the lock file could not be opened, in words (a link is named as
/// one, not as the kernel's "too many levels of symbolic links").
fn why(tree: &Tree, e: &std::io::Error) -> String {
    match tree::kind_at(tree.fd(), LOCK_FILE) {
        Ok(Some(found)) if found != Found::File => format!("it is {found}, not followed"),
        _ => e.to_string(),
    }
}

/// Take `kind` of lock on the out dir `tree`, waiting up to `wait`. A
/// `--check` in a directory it may not write into (a read-only checkout)
/// cannot race a writer there and goes on unlocked.
pub fn acquire(tree: &Tree, kind: Kind, wait: Duration) -> Result<Lock, Error> {
    let dir = tree.root();
    let path = dir.join(LOCK_FILE);
    let file = match open(tree, kind) {
        Ok(file) => file,
        Err(e)
            if kind == Kind::Shared
                && matches!(
                    e.raw_os_error(),
                    Some(libc::EACCES | libc::EROFS | libc::EPERM)
                ) =>
        {
            return Ok(Lock { _file: None });
        }
        Err(e) => {
            return Err(Error::LockOpen {
                why: why(tree, &e),
                path,
            });
        }
    };
    let start = Instant::now();
    loop {
        match try_flock(&file, kind) {
            Ok(true) => return Ok(Lock { _file: Some(file) }),
            Ok(false) if start.elapsed() < wait => std::thread::sleep(Duration::from_millis(25)),
            Ok(false) => {
                return Err(Error::Busy {
                    dir: dir.to_path_buf(),
                    holder: holder(&file),
                    waited: wait,
                });
            }
            Err(source) => return Err(Error::Lock { path, source }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(dir: &tempfile::TempDir) -> Tree {
        Tree::open(dir.path()).unwrap().unwrap()
    }

    #[test]
    fn a_lock_file_that_is_a_link_is_refused_not_followed() {
        let outside = tempfile::tempdir().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let target = outside.path().join("made-through-the-link");
        std::os::unix::fs::symlink(&target, dir.path().join(LOCK_FILE)).unwrap();
        for kind in [Kind::Exclusive, Kind::Shared] {
            let e = acquire(&tree(&dir), kind, Duration::ZERO)
                .unwrap_err()
                .to_string();
            assert!(e.ends_with("it is a symbolic link, not followed"), "{e}");
        }
        assert!(!target.exists(), "nothing is created where the link points");
    }

    #[test]
    fn a_second_exclusive_lock_fails_naming_this_process() {
        let dir = tempfile::tempdir().unwrap();
        let first = acquire(&tree(&dir), Kind::Exclusive, Duration::ZERO).unwrap();
        // A second open file description conflicts with the first even in
        // one process, as another process would.
        let e = acquire(&tree(&dir), Kind::Exclusive, Duration::from_millis(60))
            .unwrap_err()
            .to_string();
        let me = std::process::id();
        assert!(e.contains(&format!("in use by process {me} ")), "{e}");
        assert!(!e.contains('\n'));
        drop(first);
        acquire(&tree(&dir), Kind::Exclusive, Duration::ZERO).unwrap();
    }

    #[test]
    fn shared_locks_go_together_and_keep_a_writer_out() {
        let dir = tempfile::tempdir().unwrap();
        let a = acquire(&tree(&dir), Kind::Shared, Duration::ZERO).unwrap();
        let b = acquire(&tree(&dir), Kind::Shared, Duration::ZERO).unwrap();
        assert!(acquire(&tree(&dir), Kind::Exclusive, Duration::ZERO).is_err());
        drop((a, b));
        let w = acquire(&tree(&dir), Kind::Exclusive, Duration::ZERO).unwrap();
        assert!(acquire(&tree(&dir), Kind::Shared, Duration::ZERO).is_err());
        drop(w);
        let meta = std::fs::metadata(dir.path().join(LOCK_FILE)).unwrap();
        assert_eq!(meta.len(), 0, "the lock file holds no data");
    }
}
