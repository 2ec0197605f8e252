//! The temporary files a write stages beside its targets, and the ones a
//! killed run left behind. Every temporary is named `.<target>.tmp-<pid>`
//! in its target's directory. Under a writer's exclusive lock (`lock.rs`)
//! no other run can be writing, so any regular file of that pattern is
//! stale by definition: a write removes them first, and `--check` reports
//! them. Only the out dir and the real directories in it are looked in
//! (`tree.rs`): a link to elsewhere is never listed through.

use super::Error;
use super::tree::{self, Found, HostDir, Tree};
use std::path::{Path, PathBuf};

/// The temporary's name for `target` staged by process `pid`.
pub fn temporary(target: &str, pid: u32) -> String {
    format!(".{target}.tmp-{pid}")
}

/// Whether `name` is of the temporaries' pattern: `.`, a non-empty target
/// name, `.tmp-`, and a pid (digits only).
pub(super) fn is_temporary(name: &str) -> bool {
    let Some(rest) = name.strip_prefix('.') else {
        return false;
    };
    let Some((target, pid)) = rest.rsplit_once(".tmp-") else {
        return false;
    };
    !target.is_empty() && !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit())
}

/// A temporary found: in the directory `host` (None: the out dir), its
/// name, and where it is shown.
#[derive(Debug, PartialEq, Eq)]
pub struct Stale {
    pub host: Option<String>,
    pub name: String,
    pub path: PathBuf,
}

/// Where temporaries can be: the out dir alone (`node run`), or the out
/// dir and each host directory in it (`node fleet`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scan {
    None,
    Root,
    RootAndHosts,
}

fn unreadable(dir: &Path, source: std::io::Error) -> Error {
    Error::Read {
        dir: dir.to_path_buf(),
        source,
    }
}

fn find_in(
    dir: impl std::os::fd::AsFd,
    host: Option<&str>,
    tree: &Tree,
    found: &mut Vec<Stale>,
) -> Result<Vec<String>, Error> {
    let shown = tree.shown(host);
    let entries = tree::list(dir).map_err(|e| unreadable(&shown, e))?;
    let mut dirs = Vec::new();
    for (name, kind) in entries {
        if kind == Some(Found::Directory) {
            dirs.push(name);
        } else if kind == Some(Found::File) && is_temporary(&name) {
            found.push(Stale {
                host: host.map(str::to_string),
                path: shown.join(&name),
                name,
            });
        }
    }
    Ok(dirs)
}

/// Temporaries of our pattern where `scan` says (each directory read once,
/// not recursively), sorted. A directory that cannot be read is an error:
/// a partial answer would hide what is there.
pub fn find(tree: Option<&Tree>, scan: Scan) -> Result<Vec<Stale>, Error> {
    let mut found = Vec::new();
    let Some(tree) = tree.filter(|_| scan != Scan::None) else {
        return Ok(found);
    };
    let hosts = find_in(tree.fd(), None, tree, &mut found)?;
    if scan == Scan::RootAndHosts {
        for host in hosts {
            let shown = tree.shown(Some(&host));
            match tree::open_dir_at(tree.fd(), &host).map_err(|e| unreadable(&shown, e))? {
                HostDir::Open(fd) => {
                    find_in(&fd, Some(&host), tree, &mut found)?;
                }
                // Swapped since it was listed: nothing of ours in it.
                HostDir::Missing | HostDir::Not(_) => {}
            }
        }
    }
    found.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(found)
}

/// Remove the stale temporaries where `scan` says (the caller holds the
/// exclusive lock); how many there were.
pub fn remove_stale(tree: &Tree, scan: Scan) -> Result<usize, Error> {
    let stale = find(Some(tree), scan)?;
    for file in &stale {
        let removed = match file.host.as_deref() {
            None => tree::remove_at(tree.fd(), &file.name),
            Some(host) => match &*tree.host(host).map_err(|e| cannot_remove(&file.path, e))? {
                HostDir::Open(fd) => tree::remove_at(fd, &file.name),
                HostDir::Missing | HostDir::Not(_) => Ok(()),
            },
        };
        removed.map_err(|e| cannot_remove(&file.path, e))?;
    }
    tree.forget();
    Ok(stale.len())
}

fn cannot_remove(path: &Path, source: std::io::Error) -> Error {
    Error::RemoveStale {
        path: path.to_path_buf(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pattern_is_exactly_what_temporary_makes() {
        let t = temporary("calico-node.env", 4242);
        assert_eq!(t, ".calico-node.env.tmp-4242");
        assert!(is_temporary(&t));
        for other in [
            "calico-node.env.tmp-1",
            ".calico-node.env.tmp-",
            ".calico-node.env.tmp-12x",
            "..tmp-1",
            ".calicoctl.lock",
            ".calico-node.env",
        ] {
            assert!(!is_temporary(other), "{other}");
        }
    }

    #[test]
    fn finds_and_removes_only_temporaries_never_through_a_link() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let host = dir.path().join("a");
        std::fs::create_dir(&host).unwrap();
        for name in [
            ".calico-node.env.tmp-9",
            "calico-node.env",
            ".calicoctl.lock",
        ] {
            std::fs::write(host.join(name), "x").unwrap();
        }
        std::fs::write(outside.path().join(".passwd.tmp-1"), "x").unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("b")).unwrap();
        std::os::unix::fs::symlink(
            outside.path().join(".passwd.tmp-1"),
            dir.path().join(".x.tmp-2"),
        )
        .unwrap();
        std::fs::create_dir(host.join(".dir.tmp-3")).unwrap();
        let tree = Tree::open(dir.path()).unwrap().unwrap();
        let found = find(Some(&tree), Scan::RootAndHosts).unwrap();
        let paths: Vec<_> = found.iter().map(|s| s.path.clone()).collect();
        assert_eq!(paths, vec![host.join(".calico-node.env.tmp-9")]);
        assert!(find(Some(&tree), Scan::Root).unwrap().is_empty());
        assert_eq!(remove_stale(&tree, Scan::RootAndHosts).unwrap(), 1);
        assert!(find(Some(&tree), Scan::RootAndHosts).unwrap().is_empty());
        assert!(host.join("calico-node.env").exists());
        assert!(outside.path().join(".passwd.tmp-1").exists());
    }
}
