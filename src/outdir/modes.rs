//! How `--check` compares file modes. A file's mode is part of what we
//! write (an env file is 0600: it may hold credentials), and an installed
//! `/etc` must keep it. But git keeps only whether a file is executable:
//! a clone of a committed out dir has every file 0644 or 0755, and a check
//! comparing exact modes would report every env file of an unchanged fleet.
//! So `--modes=auto` (the default) compares modes as git keeps them where
//! the out dir is in a git work tree (a `.git` in it or above it), and
//! exactly elsewhere; `--modes=exact` and `--modes=git` choose. The report
//! says when modes were compared as git keeps them.

use std::path::Path;

/// How modes are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Modes {
    /// Every permission bit.
    Exact,
    /// Only whether the file is executable, as git records it.
    Git,
}

/// `--modes` as given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModesChoice {
    Auto,
    Exact,
    Git,
}

/// A `--modes` value that is not one of the three.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadModes(pub String);

impl std::fmt::Display for BadModes {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        crate::error::executing(
            f,
            format_args!("--modes must be auto, exact or git, not {:?}", self.0),
        )
    }
}

impl std::error::Error for BadModes {}

impl ModesChoice {
    pub fn parse(text: &str) -> Result<ModesChoice, BadModes> {
        match text {
            "auto" => Ok(ModesChoice::Auto),
            "exact" => Ok(ModesChoice::Exact),
            "git" => Ok(ModesChoice::Git),
            other => Err(BadModes(other.to_string())),
        }
    }

    /// The comparison for the out dir `dir` (which may not exist yet).
    pub fn for_dir(self, dir: &Path) -> Modes {
        match self {
            ModesChoice::Exact => Modes::Exact,
            ModesChoice::Git => Modes::Git,
            ModesChoice::Auto if in_git_work_tree(dir) => Modes::Git,
            ModesChoice::Auto => Modes::Exact,
        }
    }
}

/// Whether `dir`, or the nearest directory above it that exists, lies in
/// a git work tree: a `.git` (a directory, or a worktree's file) in it or
/// in a directory above.
fn in_git_work_tree(dir: &Path) -> bool {
    let Ok(real) = std::path::absolute(dir) else {
        return false;
    };
    let start = real
        .ancestors()
        .find_map(|d| std::fs::canonicalize(d).ok())
        .unwrap_or_default();
    start
        .ancestors()
        .any(|d| std::fs::symlink_metadata(d.join(".git")).is_ok())
}

impl Modes {
    /// Whether `on_disk` and `generated` are the same mode as compared.
    pub fn same(self, on_disk: u32, generated: u32) -> bool {
        match self {
            Modes::Exact => on_disk == generated,
            Modes::Git => (on_disk & 0o111 != 0) == (generated & 0o111 != 0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_keeps_only_the_executable_bit() {
        assert!(Modes::Git.same(0o644, 0o600));
        assert!(Modes::Git.same(0o755, 0o700));
        assert!(!Modes::Git.same(0o644, 0o755));
        assert!(!Modes::Exact.same(0o644, 0o600));
    }

    #[test]
    fn auto_finds_a_work_tree_above_a_missing_dir() {
        let repo = tempfile::tempdir().unwrap();
        std::fs::create_dir(repo.path().join(".git")).unwrap();
        let out = repo.path().join("deploy/out");
        assert_eq!(ModesChoice::Auto.for_dir(&out), Modes::Git);
        let plain = tempfile::tempdir().unwrap();
        assert_eq!(ModesChoice::Auto.for_dir(plain.path()), Modes::Exact);
        assert_eq!(ModesChoice::Git.for_dir(plain.path()), Modes::Git);
    }
}
