//! One writer per out dir. Two runs writing into the same directory at
//! once would interleave their renames (half of one fleet, half of the
//! other) and each take the other's temporaries for stale ones. So every
//! write holds an exclusive `flock` on the out dir itself for the whole
//! run, and every `--check` a shared one (checks may run side by side, never
//! beside a write). The lock is taken on a descriptor of the directory (an
//! open of `.` below the opened out dir): no lock file is made, so nothing
//! of ours is left for `git add -A` to commit, and a `--check` of a
//! read-only checkout locks it just the same. A run that finds the lock
//! taken retries for a few seconds, then fails naming the holder's pid,
//! which the kernel lists in `/proc/locks`.

use super::Error;
use super::tree::{self, Tree};
use rustix::fs::{FlockOperation, Mode, OFlags};
use std::os::unix::fs::MetadataExt;
use std::time::{Duration, Instant};

/// The lock file of earlier releases: no longer made, still a name of the
/// out dir's own (a generated file never takes it).
pub const LOCK_FILE: &str = ".calicoctl.lock";

/// How long a run waits for a lock held by another, by default.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(5);

/// A held lock; dropping it (or the process ending, however it ends)
/// releases it.
#[derive(Debug)]
pub struct Lock {
    _file: std::fs::File,
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

/// A new open file description of the out dir itself, to lock.
fn open(tree: &Tree) -> std::io::Result<std::fs::File> {
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let fd = rustix::fs::openat(tree.fd(), ".", flags, Mode::empty()).map_err(tree::io)?;
    Ok(std::fs::File::from(fd))
}

/// Take `kind` of lock on the out dir `tree`, waiting up to `wait`.
pub fn acquire(tree: &Tree, kind: Kind, wait: Duration) -> Result<Lock, Error> {
    let dir = tree.root();
    let path = dir.to_path_buf();
    let file = open(tree).map_err(|e| Error::LockOpen {
        why: e.to_string(),
        path: path.clone(),
    })?;
    let start = Instant::now();
    loop {
        match try_flock(&file, kind) {
            Ok(true) => return Ok(Lock { _file: file }),
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
    fn no_lock_file_is_made_and_a_planted_one_is_left_alone() {
        let outside = tempfile::tempdir().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let target = outside.path().join("made-through-the-link");
        std::os::unix::fs::symlink(&target, dir.path().join(LOCK_FILE)).unwrap();
        for kind in [Kind::Exclusive, Kind::Shared] {
            drop(acquire(&tree(&dir), kind, Duration::ZERO).unwrap());
        }
        assert!(!target.exists(), "nothing is created where the link points");
        let clean = tempfile::tempdir().unwrap();
        drop(acquire(&tree(&clean), Kind::Exclusive, Duration::ZERO).unwrap());
        assert_eq!(std::fs::read_dir(clean.path()).unwrap().count(), 0);
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
    }
}
