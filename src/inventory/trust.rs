//! What an inventory may take from the machine it is read on. An inventory
//! may come from a pull request and be read by CI with the job's secrets
//! in its environment and the runner's files on its disk; only the command
//! line decides what of them a host may have. A variable passed by name
//! (`env: {X: null}`, `calico_env`) is read from this run's environment
//! only when `--pass-env X` names it, and a file a host names (`config:`)
//! only when it lies in the inventory's own directory or in a directory
//! `--allow-path` names. Both are decided before anything is looked at:
//! no environment lookup, no file system access, so a refusal tells
//! nothing of what exists.

use super::{Host, OptValue};
use crate::input::lexically_absolute;
use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};

/// The options of a host that name a file this run reads.
const READ_FILES: [&str; 1] = ["config"];

/// What the command line lets hosts take.
#[derive(Debug, Clone, Default)]
pub struct Trust {
    pass_env: HashSet<String>,
    /// Directories whose files hosts may name, absolute: the inventory's
    /// own (none on stdin) and those of `--allow-path`.
    dirs: Vec<PathBuf>,
}

/// A host asked for more than the command line lets it have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrustError {
    /// A variable passed by name that `--pass-env` does not name.
    EnvNotPassed(String),
    /// A file outside the inventory's directory and every `--allow-path`.
    PathOutside { option: &'static str, path: String },
}

impl fmt::Display for TrustError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            TrustError::EnvNotPassed(name) => write!(
                f,
                "env {name} is passed by name, which reads this run's environment: only names given with --pass-env are read (--pass-env {name})"
            ),
            TrustError::PathOutside { option, path } => write!(
                f,
                "{option} {path} is outside the inventory's directory: only files there or below an --allow-path DIR are read"
            ),
        }
    }
}

impl std::error::Error for TrustError {}

/// The directory an inventory path's files may be in: the directory
/// itself, or a file's directory.
fn inventory_dir(inventory: &str) -> Option<PathBuf> {
    if inventory == "-" {
        return None;
    }
    let path = Path::new(inventory);
    let dir = if path.is_dir() {
        path
    } else {
        match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        }
    };
    Some(lexically_absolute(dir))
}

impl Trust {
    /// The trust of `--inventory`, `--pass-env` and `--allow-path`.
    pub fn new(inventory: &str, pass_env: &[String], allow_path: &[String]) -> Trust {
        let dirs = inventory_dir(inventory)
            .into_iter()
            .chain(allow_path.iter().map(|d| lexically_absolute(Path::new(d))))
            .collect();
        Trust {
            pass_env: pass_env.iter().cloned().collect(),
            dirs,
        }
    }

    /// Whether `path` lies in a trusted directory: by its text first, then
    /// by where its directory really is (a link to a directory elsewhere).
    fn allows(&self, path: &str) -> bool {
        let path = lexically_absolute(Path::new(path));
        let Some(dir) = self.dirs.iter().find(|d| path.starts_with(d)) else {
            return false;
        };
        let real = |p: &Path| std::fs::canonicalize(p).ok();
        match (path.parent().and_then(real), real(dir)) {
            (Some(parent), Some(dir)) => parent.starts_with(dir),
            // Nothing there: reading it fails on its own.
            _ => true,
        }
    }

    /// Refuse what `host` asks beyond this trust.
    pub fn check(&self, host: &Host) -> Result<(), TrustError> {
        for (key, value) in &host.options {
            match value {
                OptValue::Env(vars) => {
                    let unpassed = vars
                        .iter()
                        .find(|(name, value)| value.is_none() && !self.pass_env.contains(name));
                    if let Some((name, _)) = unpassed {
                        return Err(TrustError::EnvNotPassed(name.clone()));
                    }
                }
                OptValue::Text(path)
                    if READ_FILES.contains(&key.as_str()) && !self.allows(path) =>
                {
                    let option = READ_FILES.iter().find(|k| *k == key).expect("listed");
                    return Err(TrustError::PathOutside {
                        option,
                        path: path.clone(),
                    });
                }
                _ => {}
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(options: Vec<(&str, OptValue)>) -> Host {
        Host {
            name: "h".to_string(),
            options: options
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            ansible_address: None,
        }
    }

    #[test]
    fn only_names_the_command_line_passes() {
        let trust = Trust::new("/inv/hosts.yml", &["TOKEN".to_string()], &[]);
        let env = |name: &str| host(vec![("env", OptValue::Env(vec![(name.to_string(), None)]))]);
        assert_eq!(trust.check(&env("TOKEN")), Ok(()));
        assert_eq!(
            trust.check(&env("GITHUB_TOKEN")),
            Err(TrustError::EnvNotPassed("GITHUB_TOKEN".to_string()))
        );
        let valued = host(vec![(
            "env",
            OptValue::Env(vec![("X".to_string(), Some("1".to_string()))]),
        )]);
        assert_eq!(trust.check(&valued), Ok(()));
    }

    #[test]
    fn only_files_in_the_inventory_or_allowed() {
        let trust = Trust::new("/inv/hosts.yml", &[], &["/etc/calico".to_string()]);
        let config = |p: &str| host(vec![("config", OptValue::Text(p.to_string()))]);
        assert_eq!(trust.check(&config("/inv/c/calicoctl.cfg")), Ok(()));
        assert_eq!(trust.check(&config("/etc/calico/calicoctl.cfg")), Ok(()));
        for outside in ["/etc/shadow", "/inv/../etc/shadow", "/etc/calico-x/c.cfg"] {
            assert!(matches!(
                trust.check(&config(outside)),
                Err(TrustError::PathOutside { .. })
            ));
        }
        let stdin = Trust::new("-", &[], &[]);
        assert!(stdin.check(&config("/inv/c.cfg")).is_err());
    }
}
