//! The temporary files a write stages beside its targets, and the ones a
//! killed run left behind. Every temporary is named `.<target>.tmp-<pid>`
//! in its target's directory. Under a writer's exclusive lock (`lock.rs`)
//! no other run can be writing, so any file of that pattern is stale by
//! definition: a write removes them first, and `--check` reports them.

use std::path::{Path, PathBuf};

/// Where `target` is staged by process `pid`.
pub fn temporary(target: &Path, pid: u32) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    target.with_file_name(format!(".{name}.tmp-{pid}"))
}

/// Whether `name` is of the temporaries' pattern: `.`, a non-empty target
/// name, `.tmp-`, and a pid (digits only).
fn is_temporary(name: &str) -> bool {
    let Some(rest) = name.strip_prefix('.') else {
        return false;
    };
    let Some((target, pid)) = rest.rsplit_once(".tmp-") else {
        return false;
    };
    !target.is_empty() && !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit())
}

/// Temporaries of our pattern in `dirs` (each read once, not recursively),
/// sorted. A directory that does not exist has none; one that cannot be
/// read is an error: a partial answer would hide what is there.
pub fn find(dirs: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut found = Vec::new();
    for dir in dirs {
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(unreadable(dir, &e)),
        };
        for entry in entries {
            let entry = entry.map_err(|e| unreadable(dir, &e))?;
            let name = entry.file_name();
            if name.to_str().is_some_and(is_temporary)
                && entry.file_type().is_ok_and(|t| t.is_file())
            {
                found.push(entry.path());
            }
        }
    }
    found.sort();
    Ok(found)
}

fn unreadable(dir: &Path, e: &std::io::Error) -> String {
    format!(
        "Error executing command: cannot read {}: {e}",
        dir.display()
    )
}

/// Remove the stale temporaries in `dirs` (the caller holds the exclusive
/// lock); how many there were.
pub fn remove_stale(dirs: &[PathBuf]) -> Result<usize, String> {
    let stale = find(dirs)?;
    for path in &stale {
        match std::fs::remove_file(path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(format!(
                    "Error executing command: cannot remove the stale temporary {}: {e}",
                    path.display()
                ));
            }
        }
    }
    Ok(stale.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pattern_is_exactly_what_temporary_makes() {
        let t = temporary(Path::new("/o/a/calico-node.env"), 4242);
        assert_eq!(t, Path::new("/o/a/.calico-node.env.tmp-4242"));
        assert!(is_temporary(".calico-node.env.tmp-4242"));
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
    fn finds_and_removes_only_temporaries() {
        let dir = tempfile::tempdir().unwrap();
        let host = dir.path().join("a");
        std::fs::create_dir(&host).unwrap();
        for name in [
            ".calico-node.env.tmp-9",
            "calico-node.env",
            ".calicoctl.lock",
        ] {
            std::fs::write(host.join(name), "x").unwrap();
        }
        std::fs::create_dir(host.join(".dir.tmp-3")).unwrap();
        let dirs = vec![
            dir.path().to_path_buf(),
            host.clone(),
            dir.path().join("gone"),
        ];
        assert_eq!(
            find(&dirs).unwrap(),
            vec![host.join(".calico-node.env.tmp-9")]
        );
        assert_eq!(remove_stale(&dirs).unwrap(), 1);
        assert!(find(&dirs).unwrap().is_empty());
        assert!(host.join("calico-node.env").exists());
    }
}
